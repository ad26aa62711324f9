//! Property tests: whatever single change a forger makes to an export, verification fails,
//! and it never panics.

use std::collections::BTreeMap;

use proptest::prelude::*;

use mpos_ledger::{Hash, VerifyError, merkle};

use crate::support::{Kind, Span, check, entry_spans, export, ledger, reassemble, spans};

/// Each node's entries and checkpoints in file order, witnesses with the checkpoint before.
fn history<'a>(file: &'a [u8], spans: &[Span]) -> BTreeMap<&'a [u8], Vec<&'a [u8]>> {
    let mut out: BTreeMap<&[u8], Vec<&[u8]>> = BTreeMap::new();
    let mut last_node: &[u8] = &[];
    for s in spans {
        let body = &file[s.body()];
        match s.kind {
            Kind::Entry | Kind::Checkpoint => {
                last_node = &body[4..20];
                out.entry(last_node).or_default().push(body);
            }
            Kind::Witness => out.entry(last_node).or_default().push(body),
            Kind::Key | Kind::End => {}
        }
    }
    out
}

fn fixture() -> (Vec<u8>, u64) {
    let n = 24;
    (export(&[&ledger(1, n, 5), &ledger(2, 9, 4)], &[]), n)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// A flipped bit anywhere in the file is never accepted.
    #[test]
    fn any_flipped_bit_is_rejected(pos in any::<prop::sample::Index>(), bit in 0u8..8) {
        let (mut file, _) = fixture();
        let pos = pos.index(file.len());
        file[pos] ^= 1 << bit;
        prop_assert!(check(&file).is_err());
    }

    /// A flipped bit inside an entry is reported as tampering of that very entry.
    #[test]
    fn a_flipped_bit_in_an_entry_names_it(which in 0usize..24, offset in any::<prop::sample::Index>(), bit in 0u8..8) {
        let (mut file, _) = fixture();
        let span = entry_spans(&file)[which];
        let pos = span.start + 5 + offset.index(span.end - span.start - 5);
        file[pos] ^= 1 << bit;
        match check(&file) {
            Err(VerifyError::Tampered(f)) => prop_assert_eq!(f.seq, Some(which as u64 + 1)),
            other => prop_assert!(false, "{:?}", other),
        }
    }

    /// Deleting, duplicating or moving any record (with a recomputed end record) is caught.
    #[test]
    fn any_record_deleted_duplicated_or_moved_is_rejected(
        op in 0u8..3,
        a in any::<prop::sample::Index>(),
        b in any::<prop::sample::Index>(),
    ) {
        let (file, _) = fixture();
        let mut s: Vec<_> = spans(&file).into_iter().filter(|s| s.kind != Kind::End).collect();
        let i = a.index(s.len());
        let j = b.index(s.len());
        match op {
            0 => { s.remove(i); }
            1 => { let x = s[i]; s.insert(j, x); }
            _ => {
                let x = s.remove(i);
                s.insert(j, x);
                // Nodes' records may interleave and keys may stand anywhere before use: a
                // move that leaves every node's own history in order is the same ledger.
                prop_assume!(history(&file, &s) != history(&file, &spans(&file)));
            }
        }
        prop_assert!(check(&reassemble(&file, &s)).is_err());
    }

    /// Random bytes never verify and never panic.
    #[test]
    fn garbage_is_rejected(bytes in prop::collection::vec(any::<u8>(), 0..2048), keep_magic in any::<bool>()) {
        let mut bytes = bytes;
        if keep_magic && bytes.len() >= 12 {
            bytes[..12].copy_from_slice(b"MPOSLDGR\x00\x01\x00\x00");
        }
        prop_assert!(check(&bytes).is_err());
    }

    /// Inclusion and consistency proofs verify for any sizes, and fail against another root.
    #[test]
    fn proofs_verify_for_any_size(size in 1u64..300, index in any::<prop::sample::Index>(), old in any::<prop::sample::Index>()) {
        let leaves: Vec<Hash> = (0..size).map(|i| mpos_ledger::hash::leaf_hash(&i.to_le_bytes())).collect();
        let mut f = merkle::Frontier::new();
        for l in &leaves { f.push(*l); }
        let root = f.root();
        let index = index.index(size as usize) as u64;
        let p = merkle::prove_inclusion(&mut leaves.as_slice(), index, size).unwrap().unwrap();
        prop_assert!(p.verify(&leaves[index as usize], &root).is_ok());
        prop_assert!(p.verify(&leaves[index as usize], &mpos_ledger::hash::leaf_hash(b"x")).is_err());
        let old = old.index(size as usize) as u64 + 1;
        let mut g = merkle::Frontier::new();
        for l in &leaves[..old as usize] { g.push(*l); }
        let c = merkle::prove_consistency(&mut leaves.as_slice(), old, size).unwrap().unwrap();
        prop_assert!(c.verify(&g.root(), &root).is_ok());
        if old < size {
            prop_assert!(c.verify(&root, &root).is_err());
        }
    }
}

#[test]
fn the_fixture_itself_verifies() {
    let (file, n) = fixture();
    assert_eq!(check(&file).unwrap().entries, n + 9);
    assert_eq!(entry_spans(&file).len() as u64, n + 9);
}
