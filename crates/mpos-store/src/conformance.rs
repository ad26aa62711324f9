//! The conformance suite every storage backend runs: the same checks of every store
//! operation against SQLite and PostgreSQL, so the node behaves the same on both.
//!
//! A backend's test file implements [`Backend`] and invokes [`conformance_tests!`],
//! which expands to one `#[test]` per check.

// Test code: a step that fails is a failed test, reported with its panic.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use mpos_ledger::{ChainHead, EntryRef, Hlc, NodeKey, SealedEntry, SignedCheckpoint};

use crate::{LedgerItem, LedgerStore, StoreError};

/// A backend under test.
pub trait Backend {
    type Store: LedgerStore;
    /// A new, empty store of its own (no other test sees it).
    fn fresh(&mut self) -> Self::Store;
    /// The last store `fresh` made, opened again: what a restart finds.
    fn reopen(&mut self) -> Self::Store;
}

/// One `#[test]` per check, for the backend `$make` (an expression making a [`Backend`]).
#[macro_export]
macro_rules! conformance_tests {
    ($make:expr) => {
        $crate::conformance_tests!(@each $make;
            a_batch_is_stored_and_the_head_survives_reopening,
            a_batch_that_does_not_continue_the_chain_changes_nothing,
            the_ledger_streams_with_checkpoints_and_witnesses_in_place,
            a_long_ledger_streams_whole_and_in_order,
            each_nodes_ledger_is_its_own,
        );
    };
    (@each $make:expr; $($check:ident),+ $(,)?) => {
        $(
            #[test]
            fn $check() {
                let mut backend = $make;
                $crate::conformance::$check(&mut backend);
            }
        )+
    };
}

fn node_key(n: u8) -> NodeKey {
    NodeKey::from_secret(&[n; 32])
}

/// `n` entries after `chain`'s head, and the checkpoint that closes them.
fn batch(chain: &mut ChainHead, key: &NodeKey, n: u64) -> (Vec<SealedEntry>, SignedCheckpoint) {
    let start = chain.size();
    let entries = (1..=n)
        .map(|i| {
            chain
                .append(
                    Hlc::new(1_000 + start + i, 0),
                    1,
                    format!("payload {}", start + i).as_bytes(),
                )
                .expect("appending to a test chain")
        })
        .collect();
    (
        entries,
        chain.checkpoint(key).expect("signing a test checkpoint"),
    )
}

fn append<S: LedgerStore>(store: &mut S, chain: &mut ChainHead, key: &NodeKey, n: u64) {
    let (entries, cp) = batch(chain, key, n);
    store
        .append_batch(&key.public(), &entries, &cp, chain)
        .expect("appending a batch that continues the chain");
}

/// What `stream_ledger` visits, as "e<seq>" and "c<size>w<witnesses>".
fn streamed<S: LedgerStore>(store: &S, key: &NodeKey) -> Vec<String> {
    let mut seen = Vec::new();
    store
        .stream_ledger(key.node_id(), &mut |item| {
            seen.push(match item {
                LedgerItem::Entry(b) => format!(
                    "e{}",
                    EntryRef::decode(b)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?
                        .seq
                ),
                LedgerItem::Checkpoint(c, w) => format!("c{}w{}", c.checkpoint.tree_size, w.len()),
            });
            Ok(())
        })
        .expect("streaming the ledger");
    seen
}

pub fn a_batch_is_stored_and_the_head_survives_reopening<B: Backend>(backend: &mut B) {
    let key = node_key(1);
    let mut chain = ChainHead::genesis(key.node_id());
    let (entries, cp) = batch(&mut chain, &key, 5);
    {
        let mut store = backend.fresh();
        assert_eq!(store.chain_head(key.node_id()).unwrap(), None);
        assert!(store.latest_checkpoint(key.node_id()).unwrap().is_none());
        store
            .append_batch(&key.public(), &entries, &cp, &chain)
            .unwrap();
    }
    let store = backend.reopen();
    assert_eq!(
        store.chain_head(key.node_id()).unwrap(),
        Some(chain.clone())
    );
    assert_eq!(store.node_keys().unwrap(), vec![key.public()]);
    let latest = store.latest_checkpoint(key.node_id()).unwrap().unwrap();
    assert_eq!(latest.checkpoint.tree_size, 5);
    assert_eq!(store.checkpoint_at(key.node_id(), 5).unwrap(), Some(latest));
    assert_eq!(store.checkpoint_at(key.node_id(), 4).unwrap(), None);
    assert_eq!(
        store.entry(key.node_id(), 3).unwrap(),
        Some(entries[2].bytes.clone())
    );
    assert_eq!(store.entry(key.node_id(), 6).unwrap(), None);
    assert_eq!(store.range_root(key.node_id(), 0, 5).unwrap(), chain.root());
    // A range with entries missing is an error, never a root of what happens to be there.
    assert!(matches!(
        store.range_root(key.node_id(), 0, 6),
        Err(StoreError::Corrupt(_))
    ));
}

pub fn a_batch_that_does_not_continue_the_chain_changes_nothing<B: Backend>(backend: &mut B) {
    let mut store = backend.fresh();
    let key = node_key(1);
    let mut chain = ChainHead::genesis(key.node_id());
    let (entries, cp) = batch(&mut chain, &key, 3);
    store
        .append_batch(&key.public(), &entries, &cp, &chain)
        .unwrap();
    // Replaying the same batch (a stale writer) is refused whole.
    let err = store
        .append_batch(&key.public(), &entries, &cp, &chain)
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    // So is a batch that skips ahead.
    let mut ahead = chain.clone();
    let _skipped = batch(&mut ahead, &key, 2);
    let (entries, cp) = batch(&mut ahead, &key, 2);
    let err = store
        .append_batch(&key.public(), &entries, &cp, &ahead)
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    assert_eq!(streamed(&store, &key), ["e1", "e2", "e3", "c3w0"]);
    assert_eq!(store.chain_head(key.node_id()).unwrap(), Some(chain));
}

pub fn the_ledger_streams_with_checkpoints_and_witnesses_in_place<B: Backend>(backend: &mut B) {
    let mut store = backend.fresh();
    let key = node_key(1);
    let mut chain = ChainHead::genesis(key.node_id());
    for n in [2, 3] {
        append(&mut store, &mut chain, &key, n);
    }
    let cp = store.checkpoint_at(key.node_id(), 5).unwrap().unwrap();
    let (w1, w2) = (cp.witness(&node_key(2)), cp.witness(&node_key(3)));
    store.add_witness(key.node_id(), 5, &w1).unwrap();
    store.add_witness(key.node_id(), 5, &w2).unwrap();
    // The same countersignature again is no new witness.
    store.add_witness(key.node_id(), 5, &w1).unwrap();
    assert_eq!(
        streamed(&store, &key),
        ["e1", "e2", "c2w0", "e3", "e4", "e5", "c5w2"]
    );
    let mut witnesses = Vec::new();
    store
        .stream_ledger(key.node_id(), &mut |item| {
            if let LedgerItem::Checkpoint(_, w) = item {
                witnesses.extend(w);
            }
            Ok(())
        })
        .unwrap();
    let mut expected = vec![w1, w2];
    expected.sort_by_key(|w| w.witness.0);
    assert_eq!(witnesses, expected);
}

/// Longer than any backend reads at once: the stream pages through it without losing
/// its place among entries and checkpoints.
pub fn a_long_ledger_streams_whole_and_in_order<B: Backend>(backend: &mut B) {
    let mut store = backend.fresh();
    let key = node_key(1);
    let mut chain = ChainHead::genesis(key.node_id());
    for n in [1, 1_499, 1, 999, 700] {
        append(&mut store, &mut chain, &key, n);
    }
    let seen = streamed(&store, &key);
    let mut expected = Vec::new();
    let mut seq = 0;
    for n in [1, 1_499, 1, 999, 700] {
        for _ in 0..n {
            seq += 1;
            expected.push(format!("e{seq}"));
        }
        expected.push(format!("c{seq}w0"));
    }
    assert_eq!(seen, expected);
    assert_eq!(
        store.range_root(key.node_id(), 0, seq).unwrap(),
        chain.root()
    );
    assert_eq!(
        store
            .range_root(key.node_id(), 1_500, 1_501)
            .unwrap()
            .0
            .len(),
        32
    );
}

pub fn each_nodes_ledger_is_its_own<B: Backend>(backend: &mut B) {
    let mut store = backend.fresh();
    let (a, b) = (node_key(1), node_key(2));
    let (mut chain_a, mut chain_b) = (
        ChainHead::genesis(a.node_id()),
        ChainHead::genesis(b.node_id()),
    );
    append(&mut store, &mut chain_a, &a, 3);
    append(&mut store, &mut chain_b, &b, 2);
    append(&mut store, &mut chain_a, &a, 1);
    let mut keys = store.node_keys().unwrap();
    let mut expected = vec![a.public(), b.public()];
    keys.sort_by_key(|k| k.node_id().0);
    expected.sort_by_key(|k| k.node_id().0);
    assert_eq!(keys, expected);
    assert_eq!(store.chain_head(a.node_id()).unwrap(), Some(chain_a));
    assert_eq!(store.chain_head(b.node_id()).unwrap(), Some(chain_b));
    assert_eq!(
        streamed(&store, &a),
        ["e1", "e2", "e3", "c3w0", "e4", "c4w0"]
    );
    assert_eq!(streamed(&store, &b), ["e1", "e2", "c2w0"]);
}
