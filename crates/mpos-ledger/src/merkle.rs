//! RFC 9162 Merkle tree: the streaming frontier that gives a root in O(log n) memory, and
//! inclusion and consistency proofs (generation and verification, sections 2.1.3 and 2.1.4).

use crate::error::ParseError;
use crate::hash::{Hash, empty_root, node_hash};

/// The right edge of a Merkle tree: the roots of its perfect subtrees, largest first. Enough
/// to append leaves and compute the root without keeping the leaves (at most 64 hashes).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    peaks: Vec<Hash>,
}

impl Frontier {
    pub fn new() -> Frontier {
        Frontier::default()
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn push(&mut self, leaf: Hash) {
        self.peaks.push(leaf);
        // Each trailing one bit of the old size is a perfect subtree the new leaf completes.
        let mut carry = self.size;
        while carry & 1 == 1 {
            let right = self.peaks.pop();
            let left = self.peaks.pop();
            if let (Some(left), Some(right)) = (left, right) {
                self.peaks.push(node_hash(&left, &right));
            }
            carry >>= 1;
        }
        self.size += 1;
    }

    /// The Merkle tree hash of all leaves pushed so far.
    pub fn root(&self) -> Hash {
        let mut peaks = self.peaks.iter().rev();
        let Some(mut acc) = peaks.next().copied() else {
            return empty_root();
        };
        for left in peaks {
            acc = node_hash(left, &acc);
        }
        acc
    }

    /// `size (8 bytes BE) || peaks`, for saving the writer's state.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 + 32 * self.peaks.len());
        out.extend_from_slice(&self.size.to_be_bytes());
        for p in &self.peaks {
            out.extend_from_slice(&p.0);
        }
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Frontier, ParseError> {
        let invalid = |detail: &str| ParseError::Invalid {
            what: "Merkle frontier",
            detail: detail.into(),
        };
        if bytes.len() < 8 {
            return Err(invalid("too short"));
        }
        let size = u64::from_be_bytes(crate::entry::be(&bytes[..8]));
        let rest = &bytes[8..];
        if rest.len() != 32 * size.count_ones() as usize {
            return Err(invalid("peak count does not match the size"));
        }
        let peaks = rest.chunks_exact(32).map(Hash::from_slice).collect();
        Ok(Frontier { size, peaks })
    }
}

/// The Merkle tree hash of leaves `[start, end)`, from wherever the leaves live (a slice, a
/// database). Proof generation asks only for ranges, so a backend can stream them.
pub trait RangeHasher {
    type Error;
    fn range_root(&mut self, start: u64, end: u64) -> Result<Hash, Self::Error>;
}

/// Leaves held in memory.
impl RangeHasher for &[Hash] {
    type Error = ProofError;
    fn range_root(&mut self, start: u64, end: u64) -> Result<Hash, Self::Error> {
        let range = usize::try_from(start).ok()..usize::try_from(end).ok();
        let leaves = match range {
            std::ops::Range {
                start: Some(s),
                end: Some(e),
            } => self.get(s..e),
            _ => None,
        }
        .ok_or(ProofError::IndexOutOfRange {
            index: end,
            size: self.len() as u64,
        })?;
        let mut f = Frontier::new();
        for leaf in leaves {
            f.push(*leaf);
        }
        Ok(f.root())
    }
}

/// Largest power of two strictly less than `n` (n >= 2).
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

/// Proof that the leaf at `index` is in the tree of `size` leaves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InclusionProof {
    pub index: u64,
    pub size: u64,
    pub path: Vec<Hash>,
}

/// Proof that the tree of `old_size` leaves is a prefix of the tree of `new_size` leaves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsistencyProof {
    pub old_size: u64,
    pub new_size: u64,
    pub path: Vec<Hash>,
}

/// Why a proof was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProofError {
    #[error("leaf index {index} is outside a tree of {size} leaves")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("sizes {old} and {new} cannot be proven consistent (need 0 < old <= new)")]
    BadSizes { old: u64, new: u64 },
    #[error("proof has the wrong number of hashes")]
    WrongLength,
    #[error("proof does not lead to the expected root")]
    RootMismatch,
}

/// RFC 9162 2.1.3.1: PATH(m, D[start..end]).
fn inclusion_path<H: RangeHasher>(
    h: &mut H,
    m: u64,
    start: u64,
    end: u64,
    out: &mut Vec<Hash>,
) -> Result<(), H::Error> {
    let n = end - start;
    if n <= 1 {
        return Ok(());
    }
    let k = split_point(n);
    if m < k {
        inclusion_path(h, m, start, start + k, out)?;
        out.push(h.range_root(start + k, end)?);
    } else {
        inclusion_path(h, m - k, start + k, end, out)?;
        out.push(h.range_root(start, start + k)?);
    }
    Ok(())
}

/// Builds the inclusion proof of leaf `index` (0-based) in the tree of `size` leaves.
pub fn prove_inclusion<H: RangeHasher>(
    h: &mut H,
    index: u64,
    size: u64,
) -> Result<Result<InclusionProof, ProofError>, H::Error> {
    if index >= size {
        return Ok(Err(ProofError::IndexOutOfRange { index, size }));
    }
    let mut path = Vec::new();
    inclusion_path(h, index, 0, size, &mut path)?;
    Ok(Ok(InclusionProof { index, size, path }))
}

/// RFC 9162 2.1.4.1: SUBPROOF(m, D[start..end], b).
fn consistency_path<H: RangeHasher>(
    h: &mut H,
    m: u64,
    start: u64,
    end: u64,
    complete: bool,
    out: &mut Vec<Hash>,
) -> Result<(), H::Error> {
    let n = end - start;
    if m == n {
        if !complete {
            out.push(h.range_root(start, end)?);
        }
        return Ok(());
    }
    let k = split_point(n);
    if m <= k {
        consistency_path(h, m, start, start + k, complete, out)?;
        out.push(h.range_root(start + k, end)?);
    } else {
        consistency_path(h, m - k, start + k, end, false, out)?;
        out.push(h.range_root(start, start + k)?);
    }
    Ok(())
}

/// Builds the consistency proof between the trees of `old_size` and `new_size` leaves.
pub fn prove_consistency<H: RangeHasher>(
    h: &mut H,
    old_size: u64,
    new_size: u64,
) -> Result<Result<ConsistencyProof, ProofError>, H::Error> {
    if old_size == 0 || old_size > new_size {
        return Ok(Err(ProofError::BadSizes {
            old: old_size,
            new: new_size,
        }));
    }
    let mut path = Vec::new();
    if old_size < new_size {
        consistency_path(h, old_size, 0, new_size, true, &mut path)?;
    }
    Ok(Ok(ConsistencyProof {
        old_size,
        new_size,
        path,
    }))
}

impl InclusionProof {
    /// RFC 9162 2.1.3.2: checks that `leaf` sits at `index` under `root`.
    pub fn verify(&self, leaf: &Hash, root: &Hash) -> Result<(), ProofError> {
        if self.index >= self.size {
            return Err(ProofError::IndexOutOfRange {
                index: self.index,
                size: self.size,
            });
        }
        let mut f_n = self.index;
        let mut s_n = self.size - 1;
        let mut r = *leaf;
        for p in &self.path {
            if s_n == 0 {
                return Err(ProofError::WrongLength);
            }
            if f_n & 1 == 1 || f_n == s_n {
                r = node_hash(p, &r);
                while f_n & 1 == 0 && f_n != 0 {
                    f_n >>= 1;
                    s_n >>= 1;
                }
            } else {
                r = node_hash(&r, p);
            }
            f_n >>= 1;
            s_n >>= 1;
        }
        if s_n != 0 {
            return Err(ProofError::WrongLength);
        }
        if &r != root {
            return Err(ProofError::RootMismatch);
        }
        Ok(())
    }
}

impl ConsistencyProof {
    /// RFC 9162 2.1.4.2: checks that `old_root` (of `old_size` leaves) is a prefix of
    /// `new_root` (of `new_size` leaves).
    pub fn verify(&self, old_root: &Hash, new_root: &Hash) -> Result<(), ProofError> {
        let (old, new) = (self.old_size, self.new_size);
        if old == 0 || old > new {
            return Err(ProofError::BadSizes { old, new });
        }
        if old == new {
            if !self.path.is_empty() {
                return Err(ProofError::WrongLength);
            }
            return if old_root == new_root {
                Ok(())
            } else {
                Err(ProofError::RootMismatch)
            };
        }
        let mut path: Vec<Hash> = Vec::with_capacity(self.path.len() + 1);
        if old.is_power_of_two() {
            path.push(*old_root);
        }
        path.extend_from_slice(&self.path);
        let Some((first, rest)) = path.split_first() else {
            return Err(ProofError::WrongLength);
        };
        let mut f_n = old - 1;
        let mut s_n = new - 1;
        while f_n & 1 == 1 {
            f_n >>= 1;
            s_n >>= 1;
        }
        let mut fr = *first;
        let mut sr = *first;
        for c in rest {
            if s_n == 0 {
                return Err(ProofError::WrongLength);
            }
            if f_n & 1 == 1 || f_n == s_n {
                fr = node_hash(c, &fr);
                sr = node_hash(c, &sr);
                while f_n & 1 == 0 && f_n != 0 {
                    f_n >>= 1;
                    s_n >>= 1;
                }
            } else {
                sr = node_hash(&sr, c);
            }
            f_n >>= 1;
            s_n >>= 1;
        }
        if s_n != 0 {
            return Err(ProofError::WrongLength);
        }
        if &fr != old_root || &sr != new_root {
            return Err(ProofError::RootMismatch);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;

    fn leaves(n: u64) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
    }

    /// The recursive definition of RFC 9162 2.1.1, as the reference the frontier must match.
    fn mth(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => empty_root(),
            1 => leaves[0],
            n => {
                let k = split_point(n as u64) as usize;
                node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
            }
        }
    }

    #[test]
    fn frontier_root_matches_the_recursive_definition() {
        let all = leaves(70);
        let mut f = Frontier::new();
        assert_eq!(f.root(), empty_root());
        for (i, leaf) in all.iter().enumerate() {
            f.push(*leaf);
            assert_eq!(f.root(), mth(&all[..=i]), "size {}", i + 1);
        }
        let restored = Frontier::from_bytes(&f.to_bytes()).unwrap();
        assert_eq!(restored, f);
        assert!(Frontier::from_bytes(&f.to_bytes()[..40]).is_err());
    }

    #[test]
    fn every_inclusion_proof_verifies_and_a_wrong_one_does_not() {
        for size in 1..=40u64 {
            let all = leaves(size);
            let root = mth(&all);
            for index in 0..size {
                let proof = prove_inclusion(&mut all.as_slice(), index, size)
                    .unwrap()
                    .unwrap();
                proof.verify(&all[index as usize], &root).unwrap();
                let other = leaf_hash(b"not in the tree");
                assert!(proof.verify(&other, &root).is_err());
                if let Some(first) = proof.path.first() {
                    let mut bad = proof.clone();
                    bad.path[0] = leaf_hash(&first.0);
                    assert!(bad.verify(&all[index as usize], &root).is_err());
                    let mut short = proof.clone();
                    short.path.pop();
                    assert!(short.verify(&all[index as usize], &root).is_err());
                }
                let mut moved = proof.clone();
                moved.index = (index + 1) % size;
                if size > 1 {
                    assert!(moved.verify(&all[index as usize], &root).is_err());
                }
            }
        }
    }

    #[test]
    fn every_consistency_proof_verifies_and_a_rewritten_history_does_not() {
        for new in 1..=40u64 {
            let all = leaves(new);
            let new_root = mth(&all);
            for old in 1..=new {
                let old_root = mth(&all[..old as usize]);
                let proof = prove_consistency(&mut all.as_slice(), old, new)
                    .unwrap()
                    .unwrap();
                proof.verify(&old_root, &new_root).unwrap();
                // A history whose first `old` leaves differ cannot be proven consistent.
                let mut rewritten = all.clone();
                rewritten[0] = leaf_hash(b"rewritten");
                let forged_root = mth(&rewritten);
                let forged = prove_consistency(&mut rewritten.as_slice(), old, new)
                    .unwrap()
                    .unwrap();
                assert!(forged.verify(&old_root, &forged_root).is_err());
            }
        }
        assert!(
            prove_consistency(&mut leaves(3).as_slice(), 0, 3)
                .unwrap()
                .is_err()
        );
    }
}
