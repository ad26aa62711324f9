//! Each way of rewriting history that issue #2 names, as its own test.

use mpos_ledger::{
    ChainHead, EntryRef, ExportWriter, Hlc, NodeKey, Reason, VerifyError, VerifyOptions, verify,
};

use crate::support::{Kind, check, entry_spans, export, ledger, reassemble, spans, tampered};

#[test]
fn an_intact_export_verifies_with_a_summary() {
    let a = ledger(1, 25, 10);
    let b = ledger(2, 7, 3);
    let file = export(&[&a, &b], &[]);
    let summary = check(&file).unwrap();
    assert_eq!(summary.entries, 32);
    assert_eq!(summary.checkpoints, 3 + 3);
    assert_eq!(summary.nodes.len(), 2);
    let node_a = summary
        .nodes
        .iter()
        .find(|n| n.node == a.key.node_id())
        .unwrap();
    assert_eq!(node_a.entries, 25);
    assert_eq!(node_a.head, a.entries[24].hash);
    assert_eq!(node_a.public_key, a.key.public());
}

#[test]
fn a_flipped_bit_in_any_byte_of_an_entry_is_named() {
    let l = ledger(1, 12, 4);
    let node = l.key.node_id();
    let file = export(&[&l], &[]);
    let target = entry_spans(&file)[6]; // seq 7
    for pos in target.body() {
        for bit in 0..8 {
            let mut bad = file.clone();
            bad[pos] ^= 1 << bit;
            let f = tampered(check(&bad));
            assert_eq!(f.seq, Some(7), "byte {pos} bit {bit}: {f}");
            let in_node_id = (target.start + 5 + 4..target.start + 5 + 20).contains(&pos);
            if !in_node_id {
                assert_eq!(f.node, Some(node), "byte {pos} bit {bit}: {f}");
            }
        }
    }
}

#[test]
fn a_deleted_entry_is_caught() {
    let l = ledger(1, 12, 4);
    let file = export(&[&l], &[]);
    let mut s = spans(&file);
    let idx = s
        .iter()
        .position(|s| s.start == entry_spans(&file)[4].start)
        .unwrap();
    s.remove(idx);
    let f = tampered(check(&reassemble(&file, &s)));
    assert_eq!(f.seq, Some(5));
    assert_eq!(f.reason, Reason::Missing { found: 6 });
}

#[test]
fn an_inserted_entry_is_caught_even_when_the_chain_is_relinked() {
    let l = ledger(1, 12, 4);
    let key = &l.key;
    let file = export(&[&l], &[]);

    // Naive: a forged entry slotted in after seq 5, linked to it.
    let e5 = EntryRef::decode(&l.entries[4].bytes).unwrap();
    let forged = EntryRef {
        seq: 6,
        prev_hash: l.entries[4].hash,
        hlc: Hlc(e5.hlc.0 + 1),
        payload: b"refund 500.00 cash",
        ..e5
    }
    .encode();
    let mut s = spans(&file);
    let after5 = s
        .iter()
        .position(|s| s.start == entry_spans(&file)[4].start)
        .unwrap()
        + 1;
    let mut naive = file[..s[after5].start].to_vec();
    naive.push(0x02);
    naive.extend_from_slice(&(forged.len() as u32).to_be_bytes());
    naive.extend_from_slice(&forged);
    naive.extend_from_slice(&file[s[after5].start..]);
    let f = tampered(check(&naive));
    assert_eq!(
        (f.seq, &f.reason),
        (Some(7), &Reason::Duplicate { found: 6 })
    );

    // Thorough: the forger rebuilds the whole chain with the insert; the checkpoints no
    // longer match and cannot be re-signed without the node's key.
    let mut chain = ChainHead::genesis(key.node_id());
    let mut relinked = Vec::new();
    for (i, e) in l.entries.iter().enumerate() {
        let e = EntryRef::decode(&e.bytes).unwrap();
        relinked.push(chain.append(Hlc(e.hlc.0 * 2), 1, e.payload).unwrap());
        if i == 4 {
            relinked.push(
                chain
                    .append(Hlc(e.hlc.0 * 2 + 1), 1, b"refund 500.00 cash")
                    .unwrap(),
            );
        }
    }
    let mut w = ExportWriter::new(Vec::new()).unwrap();
    w.node_key(&key.public()).unwrap();
    for e in &relinked {
        w.entry(&e.bytes).unwrap();
        if let Some((cp, _)) = l
            .checkpoints
            .iter()
            .find(|(c, _)| c.checkpoint.tree_size == e.seq)
        {
            w.checkpoint(cp).unwrap();
        }
    }
    let f = tampered(check(&w.finish().unwrap().0));
    assert_eq!(f.seq, Some(4));
    assert!(
        matches!(
            f.reason,
            Reason::CheckpointSignatureInvalid | Reason::CheckpointRootMismatch
        ),
        "{f}"
    );
    s.clear();
}

#[test]
fn two_swapped_entries_are_caught() {
    let l = ledger(1, 12, 4);
    let file = export(&[&l], &[]);
    let mut s = spans(&file);
    let e = entry_spans(&file);
    let i = s.iter().position(|x| x.start == e[4].start).unwrap();
    s.swap(i, i + 1); // seq 5 and seq 6 (no checkpoint between them)
    let f = tampered(check(&reassemble(&file, &s)));
    assert_eq!((f.seq, f.reason), (Some(5), Reason::Missing { found: 6 }));
}

#[test]
fn a_duplicated_entry_is_caught() {
    let l = ledger(1, 12, 4);
    let file = export(&[&l], &[]);
    let mut s = spans(&file);
    let e = entry_spans(&file);
    let i = s.iter().position(|x| x.start == e[4].start).unwrap();
    s.insert(i + 1, s[i]);
    let f = tampered(check(&reassemble(&file, &s)));
    assert_eq!((f.seq, f.reason), (Some(6), Reason::Duplicate { found: 5 }));
}

#[test]
fn a_sequence_gap_is_caught_even_with_an_intact_hash_link() {
    let key = NodeKey::from_secret(&[1; 32]);
    let mut w = ExportWriter::new(Vec::new()).unwrap();
    w.node_key(&key.public()).unwrap();
    let mut prev = mpos_ledger::Hash::ZERO;
    for seq in [1u64, 2, 3, 5] {
        let bytes = EntryRef {
            node: key.node_id(),
            seq,
            hlc: Hlc::new(seq, 0),
            prev_hash: prev,
            schema: 1,
            payload: b"x",
        }
        .encode();
        prev = mpos_ledger::entry_hash(&bytes);
        w.entry(&bytes).unwrap();
    }
    let f = tampered(check(&w.finish().unwrap().0));
    assert_eq!((f.seq, f.reason), (Some(4), Reason::Missing { found: 5 }));
}

#[test]
fn a_back_dated_entry_is_caught() {
    let key = NodeKey::from_secret(&[1; 32]);
    let mut w = ExportWriter::new(Vec::new()).unwrap();
    w.node_key(&key.public()).unwrap();
    let mut prev = mpos_ledger::Hash::ZERO;
    for (seq, millis) in [(1u64, 100u64), (2, 200), (3, 150)] {
        let bytes = EntryRef {
            node: key.node_id(),
            seq,
            hlc: Hlc::new(millis, 0),
            prev_hash: prev,
            schema: 1,
            payload: b"x",
        }
        .encode();
        prev = mpos_ledger::entry_hash(&bytes);
        w.entry(&bytes).unwrap();
    }
    let f = tampered(check(&w.finish().unwrap().0));
    assert_eq!(f.seq, Some(3));
    assert!(matches!(f.reason, Reason::TimeWentBackwards { .. }));
}

#[test]
fn a_truncated_tail_is_caught_against_a_checkpoint_the_verifier_was_given() {
    let full = ledger(1, 30, 10);
    let trusted = full.checkpoint_at(30);
    // The owner hands over a shorter, self-consistent history: on its own it verifies...
    let short = ledger(1, 20, 10);
    let file = export(&[&short], &[]);
    check(&file).unwrap();
    // ...but not against the checkpoint the auditor kept from last time.
    let options = VerifyOptions {
        trusted_checkpoints: vec![trusted],
        ..Default::default()
    };
    let f = tampered(verify(file.as_slice(), &options));
    assert_eq!(
        f.reason,
        Reason::TruncatedBeforeTrustedCheckpoint {
            entries: 20,
            trusted: 30
        }
    );
    // The full history matches it.
    let s = verify(export(&[&full], &[]).as_slice(), &options).unwrap();
    assert_eq!(s.trusted_checkpoints_matched, 1);
}

#[test]
fn a_history_rewritten_after_a_trusted_checkpoint_diverges_from_it() {
    let original = ledger(1, 20, 10);
    let trusted = original.checkpoint_at(10);
    // Same key (the owner has it), different events from seq 1 on.
    let key = NodeKey::from_secret(&[1; 32]);
    let mut chain = ChainHead::genesis(key.node_id());
    let mut w = ExportWriter::new(Vec::new()).unwrap();
    w.node_key(&key.public()).unwrap();
    for i in 1..=20u64 {
        let e = chain
            .append(Hlc::new(i, 0), 1, format!("rewritten {i}").as_bytes())
            .unwrap();
        w.entry(&e.bytes).unwrap();
        if i % 10 == 0 {
            w.checkpoint(&chain.checkpoint(&key).unwrap()).unwrap();
        }
    }
    let file = w.finish().unwrap().0;
    check(&file).unwrap();
    let options = VerifyOptions {
        trusted_checkpoints: vec![trusted],
        ..Default::default()
    };
    let f = tampered(verify(file.as_slice(), &options));
    assert_eq!(
        f.reason,
        Reason::DivergesFromTrustedCheckpoint { tree_size: 10 }
    );
    assert_eq!(f.seq, Some(10));
}

#[test]
fn a_history_re_signed_with_a_different_key_is_caught() {
    let real = ledger(1, 10, 5);
    // The forger rebuilds the history under a key of their own.
    let forged = ledger(9, 10, 5);
    let file = export(&[&forged], &[]);
    // Against the real node's key (pinned by the auditor) the real node is missing.
    let options = VerifyOptions {
        trusted_keys: vec![real.key.public()],
        ..Default::default()
    };
    let f = tampered(verify(file.as_slice(), &options));
    assert_eq!(
        (f.node, f.reason),
        (Some(real.key.node_id()), Reason::TrustedKeyAbsent)
    );

    // Claiming the real node's id with the forger's key.
    let mut bad = export(&[&real], &[]);
    let key_span = spans(&bad)[0];
    bad[key_span.start + 5 + 16..key_span.end].copy_from_slice(&forged.key.public().to_bytes());
    let f = tampered(check(&bad));
    assert!(matches!(f.reason, Reason::KeyDoesNotMatchId { .. }), "{f}");

    // Keeping the real key record but signing checkpoints with the forger's key.
    let mut w = ExportWriter::new(Vec::new()).unwrap();
    w.node_key(&real.key.public()).unwrap();
    for e in &real.entries {
        w.entry(&e.bytes).unwrap();
        if e.seq % 5 == 0 {
            let mut cp = real.checkpoint_at(e.seq).checkpoint;
            cp.time = Hlc(cp.time.0 + 1);
            w.checkpoint(&cp.sign(&forged.key)).unwrap();
        }
    }
    let f = tampered(check(&w.finish().unwrap().0));
    assert_eq!(
        (f.seq, f.reason),
        (Some(5), Reason::CheckpointSignatureInvalid)
    );
}

#[test]
fn a_forged_checkpoint_signature_is_caught() {
    let l = ledger(1, 10, 5);
    let file = export(&[&l], &[]);
    let cp = spans(&file)
        .into_iter()
        .find(|s| s.kind == Kind::Checkpoint)
        .unwrap();
    for pos in [cp.end - 1, cp.end - 64, cp.start + 5 + 50] {
        let mut bad = file.clone();
        bad[pos] ^= 0x20;
        let f = tampered(check(&bad));
        assert_eq!(f.seq, Some(5), "{f}");
    }
}

#[test]
fn entries_after_the_last_checkpoint_are_not_trusted() {
    let l = ledger(1, 10, 5);
    let file = export(&[&l], &[]);
    let mut s = spans(&file);
    let last_cp = s.iter().rposition(|x| x.kind == Kind::Checkpoint).unwrap();
    s.remove(last_cp);
    let f = tampered(check(&reassemble(&file, &s)));
    assert_eq!(
        f.reason,
        Reason::NotCoveredByCheckpoint {
            covered: 5,
            entries: 10
        }
    );
}

#[test]
fn a_removed_trailing_batch_is_caught_by_the_end_record() {
    let l = ledger(1, 10, 5);
    let file = export(&[&l], &[]);
    let s = spans(&file);
    // Cut the last batch and its checkpoint but keep the original end record.
    let end = *s.last().unwrap();
    let cut_from = entry_spans(&file)[5].start;
    let mut bad = file[..cut_from].to_vec();
    bad.extend_from_slice(&file[end.start..end.end]);
    let f = tampered(check(&bad));
    assert!(matches!(f.reason, Reason::EndCountsMismatch { .. }), "{f}");
}

#[test]
fn witness_signatures_are_counted_and_checked() {
    let witness = NodeKey::from_secret(&[7; 32]);
    let l = ledger(1, 10, 5).witnessed_by(&witness);
    let witness_ledger = ledger(7, 3, 3);
    let file = export(&[&l, &witness_ledger], &[]);
    let s = check(&file).unwrap();
    assert_eq!(s.witness_signatures, 2);
    let n = s.nodes.iter().find(|n| n.node == l.key.node_id()).unwrap();
    let tally = n.witnessed_by[&witness.node_id()];
    assert_eq!(
        (tally.checkpoints, tally.up_to, tally.trusted),
        (2, 10, false)
    );
    assert_eq!((n.witnessed_up_to, n.trusted_witnessed_up_to), (10, 0));

    // Only a witness the verifier trusts vouches for anything: a forger can add a key of
    // their own and countersign with it.
    let trusting = VerifyOptions {
        trusted_keys: vec![witness.public()],
        ..Default::default()
    };
    let s = verify(file.as_slice(), &trusting).unwrap();
    let n = s.nodes.iter().find(|n| n.node == l.key.node_id()).unwrap();
    assert!(n.witnessed_by[&witness.node_id()].trusted);
    assert_eq!(n.trusted_witnessed_up_to, 10);

    // The same witness twice on one checkpoint.
    let sp = spans(&file);
    let w_idx = sp.iter().position(|s| s.kind == Kind::Witness).unwrap();
    let mut doubled = sp.clone();
    doubled.insert(w_idx + 1, sp[w_idx]);
    let f = tampered(check(&reassemble(&file, &doubled)));
    assert_eq!(f.reason, Reason::DuplicateWitness(witness.node_id()));

    // A witness whose key is not in the file proves nothing.
    let f = tampered(check(&export(&[&l], &[])));
    assert_eq!(f.reason, Reason::UnknownWitness(witness.node_id()));

    // An altered witness signature.
    let mut bad = file.clone();
    let w = spans(&file)
        .into_iter()
        .find(|s| s.kind == Kind::Witness)
        .unwrap();
    bad[w.end - 3] ^= 1;
    let f = tampered(check(&bad));
    assert_eq!(f.reason, Reason::WitnessSignatureInvalid(witness.node_id()));
}

#[test]
fn garbage_empty_and_truncated_files_are_unreadable_not_panics() {
    let file = export(&[&ledger(1, 6, 3)], &[]);
    assert!(matches!(
        check(&[]),
        Err(VerifyError::Unreadable(mpos_ledger::FormatError::Empty))
    ));
    assert!(matches!(
        check(b"PK\x03\x04 this is a zip file, not a ledger"),
        Err(VerifyError::Unreadable(mpos_ledger::FormatError::BadMagic))
    ));
    for cut in 1..file.len() {
        match check(&file[..cut]) {
            Err(VerifyError::Unreadable(_)) => {}
            other => panic!("cut at {cut}: {other:?}"),
        }
    }
    let mut trailing = file.clone();
    trailing.push(0);
    assert!(matches!(check(&trailing), Err(VerifyError::Unreadable(_))));
    let mut newer = file.clone();
    newer[9] = 2;
    assert!(matches!(
        check(&newer),
        Err(VerifyError::Unreadable(
            mpos_ledger::FormatError::UnsupportedVersion(2)
        ))
    ));
}

#[test]
fn a_bad_link_on_the_first_entry_blames_the_first_entry() {
    let key = NodeKey::from_secret(&[1; 32]);
    let mut w = ExportWriter::new(Vec::new()).unwrap();
    w.node_key(&key.public()).unwrap();
    let first = EntryRef {
        node: key.node_id(),
        seq: 1,
        hlc: Hlc::new(1, 0),
        prev_hash: mpos_ledger::Hash([7; 32]),
        schema: 1,
        payload: b"x",
    }
    .encode();
    let second = EntryRef {
        seq: 2,
        hlc: Hlc::new(2, 0),
        prev_hash: mpos_ledger::entry_hash(&first),
        ..EntryRef::decode(&first).unwrap()
    }
    .encode();
    w.entry(&first).unwrap();
    w.entry(&second).unwrap();
    let f = tampered(check(&w.finish().unwrap().0));
    assert_eq!((f.seq, f.reason), (Some(1), Reason::BrokenChain));
}

#[test]
fn trusted_checkpoints_of_one_size_are_all_checked() {
    let l = ledger(1, 20, 10);
    let cp = l.checkpoint_at(10);
    let file = export(&[&l], &[]);
    let twice = VerifyOptions {
        trusted_checkpoints: vec![cp, cp],
        ..Default::default()
    };
    assert_eq!(
        verify(file.as_slice(), &twice)
            .unwrap()
            .trusted_checkpoints_matched,
        2
    );
    // Two different checkpoints at one size: the node forked its history.
    let mut chain = ChainHead::genesis(l.key.node_id());
    for i in 1..=10u64 {
        chain.append(Hlc::new(i, 0), 1, b"fork").unwrap();
    }
    let fork = chain.checkpoint(&l.key).unwrap();
    let forked = VerifyOptions {
        trusted_checkpoints: vec![cp, fork],
        ..Default::default()
    };
    let f = tampered(verify(file.as_slice(), &forked));
    assert_eq!(
        f.reason,
        Reason::DivergesFromTrustedCheckpoint { tree_size: 10 }
    );
}

#[test]
fn a_trusted_node_whose_entries_were_left_out_is_caught() {
    let l = ledger(1, 10, 5);
    let other = ledger(2, 3, 3);
    // Keep l's key record but none of its entries.
    let full = export(&[&l, &other], &[]);
    let kept: Vec<_> = spans(&full)
        .into_iter()
        .filter(|s| {
            s.kind == Kind::Key || full[s.body()].get(4..20) != Some(&l.key.node_id().0[..])
        })
        .collect();
    let file = reassemble(&full, &kept);
    check(&file).unwrap();
    let options = VerifyOptions {
        trusted_keys: vec![l.key.public()],
        ..Default::default()
    };
    let f = tampered(verify(file.as_slice(), &options));
    assert_eq!(f.reason, Reason::TrustedNodeEmpty);
}

#[test]
fn a_file_listing_too_many_nodes_is_refused() {
    let keys: Vec<NodeKey> = (1..=5u8).map(|i| NodeKey::from_secret(&[i; 32])).collect();
    let mut w = ExportWriter::new(Vec::new()).unwrap();
    for k in &keys {
        w.node_key(&k.public()).unwrap();
    }
    let file = w.finish().unwrap().0;
    let options = VerifyOptions {
        max_nodes: 4,
        ..Default::default()
    };
    let f = tampered(verify(file.as_slice(), &options));
    assert_eq!(f.reason, Reason::TooManyNodes(4));
    assert!(verify(file.as_slice(), &VerifyOptions::default()).is_ok());
}
