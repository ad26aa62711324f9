//! SHA-256 hashes and the RFC 9162 leaf/node hashing that the chain and the Merkle tree share.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

use crate::error::ParseError;

/// A SHA-256 digest.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    pub const ZERO: Hash = Hash([0; 32]);

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Reads 32 bytes; the caller has checked the length.
    pub(crate) fn from_slice(bytes: &[u8]) -> Hash {
        let mut out = [0; 32];
        out.copy_from_slice(&bytes[..32]);
        Hash(out)
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({self})")
    }
}

impl FromStr for Hash {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut out = [0; 32];
        hex::decode_to_slice(s.trim(), &mut out).map_err(|_| ParseError::Hex {
            what: "hash",
            len: 32,
        })?;
        Ok(Hash(out))
    }
}

/// Domain-separation prefixes of RFC 9162 section 2.1.1: a leaf can never be mistaken for an
/// interior node.
const LEAF_PREFIX: u8 = 0x00;
const NODE_PREFIX: u8 = 0x01;

/// `SHA-256(0x00 || data)`: the hash of an encoded entry, which is both its chain hash and
/// its Merkle leaf.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([LEAF_PREFIX]);
    h.update(data);
    Hash(h.finalize().into())
}

/// `SHA-256(0x01 || left || right)`: an interior Merkle node.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut buf = [0u8; 65];
    buf[0] = NODE_PREFIX;
    buf[1..33].copy_from_slice(&left.0);
    buf[33..].copy_from_slice(&right.0);
    Hash(Sha256::digest(buf).into())
}

/// The root of the empty tree: `SHA-256("")`.
pub fn empty_root() -> Hash {
    Hash(Sha256::digest([]).into())
}

/// Plain SHA-256, used to derive node ids.
pub fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_root_is_sha256_of_nothing() {
        assert_eq!(
            empty_root().to_string(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn leaf_and_node_hashes_are_domain_separated() {
        let a = leaf_hash(b"x");
        let b = leaf_hash(b"y");
        let mut joined = vec![0u8];
        joined.extend_from_slice(&a.0);
        joined.extend_from_slice(&b.0);
        // The same 65 bytes hashed as a leaf and as a node must differ.
        assert_ne!(leaf_hash(&joined[1..]), node_hash(&a, &b));
    }

    #[test]
    fn hash_round_trips_through_hex() {
        let h = leaf_hash(b"abc");
        assert_eq!(h.to_string().parse::<Hash>().unwrap(), h);
        assert!("zz".parse::<Hash>().is_err());
    }
}
