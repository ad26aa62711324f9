//! Another node's ledger replicated into this one: verified, folded into the projections,
//! and refused whole when anything in it was altered.

use mpos_domain::ids::{LineId, OrderId, PaymentId};
use mpos_domain::order::{Command, Status, Tender};
use mpos_ledger::{EntryRef, Hlc};
use mpos_node::NodeError;
use mpos_node::pos::{PeerBatch, PosService, batches_after};
use mpos_store::{LedgerStore, PosStore};
use mpos_store_sqlite::SqliteStore;

use crate::orders::{CASHIER, eur, open_cmd, req, service, staffed};

/// Everything of `from`'s own ledger after `after` entries, as a peer would send it.
fn lacking(from: &PosService<SqliteStore>, after: u64) -> Vec<PeerBatch> {
    let key = from.ledger().key().public();
    batches_after(from.ledger().store(), &key, after, usize::MAX).unwrap()
}

fn add(line: u128) -> Command {
    Command::AddLine {
        line: LineId(line),
        item: crate::orders::item(1_000),
        seat: None,
        course: 1,
        note: String::new(),
    }
}

/// Node A with its staff, and node B, empty; with their data directories.
fn two_nodes() -> (
    PosService<SqliteStore>,
    PosService<SqliteStore>,
    [tempfile::TempDir; 2],
) {
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    (staffed(dirs[0].path()), service(dirs[1].path()), dirs)
}

#[test]
fn a_node_takes_another_nodes_sales_and_they_converge_both_ways() {
    let (mut a, mut b, _dirs) = two_nodes();
    let a_node = a.ledger().node_id();
    a.execute_one(req(1, 7, open_cmd(), CASHIER), 1_000)
        .unwrap();
    a.execute_one(req(2, 7, add(1), CASHIER), 2_000).unwrap();
    a.execute_one(req(3, 7, add(2), CASHIER), 2_500).unwrap();

    let sent = lacking(&a, 0);
    assert_eq!(
        sent.len(),
        4,
        "the staff set-up's batch, then one per request"
    );
    let done = b.replicate(sent.clone(), 3_000).unwrap();
    assert_eq!((done.entries, done.held), (a.ledger().head().size(), 0));
    let store = b.ledger().store();
    assert_eq!(
        store.chain_head(a_node).unwrap().as_ref(),
        Some(a.ledger().head())
    );
    assert_eq!(b.order(OrderId(7)).unwrap(), a.order(OrderId(7)).unwrap());
    assert_eq!(store.staff().unwrap(), a.ledger().store().staff().unwrap());
    assert_eq!(store.open_orders(None).unwrap().len(), 1);

    // The same message again (a duplicate, a replay): nothing changes.
    let again = b.replicate(sent, 3_100).unwrap();
    assert_eq!((again.entries, again.held), (0, 4));

    // B takes the payment of A's order; its entry is later than everything it saw of A.
    let paid = b
        .execute_one(
            req(
                10,
                7,
                Command::TakePayment {
                    drawer: None,
                    payment: PaymentId(1),
                    tender: Tender::Cash,
                    amount: eur(2_000),
                    tip: eur(0),
                    cash_received: None,
                },
                CASHIER,
            ),
            // B's wall clock is behind A's: the hybrid clock still orders B's entry after.
            1_500,
        )
        .unwrap();
    assert_eq!(paid.order.as_ref().unwrap().status, Status::Closed);
    let b_first = b
        .ledger()
        .store()
        .entry(b.ledger().node_id(), 1)
        .unwrap()
        .unwrap();
    let b_time = EntryRef::decode(&b_first).unwrap().hlc;
    assert!(
        b_time > a.ledger().head().last_hlc(),
        "{b_time} after A's last entry"
    );

    // A takes B's ledger back: both hold the same order, closed.
    let done = a.replicate(lacking(&b, 0), 4_000).unwrap();
    assert_eq!(done.entries, b.ledger().head().size());
    assert_eq!(a.order(OrderId(7)).unwrap(), b.order(OrderId(7)).unwrap());
    assert!(a.ledger().store().open_orders(None).unwrap().is_empty());
    // And A's own next entry still follows its chain.
    a.execute_one(req(20, 8, open_cmd(), CASHIER), 5_000)
        .unwrap();
    assert!(a.ledger().head().last_hlc() > Hlc::new(1_500, 0));
}

#[test]
fn altered_reordered_and_forged_batches_are_refused_and_nothing_is_written() {
    let (mut a, mut b, _dirs) = two_nodes();
    let a_node = a.ledger().node_id();
    a.execute_one(req(1, 7, open_cmd(), CASHIER), 1_000)
        .unwrap();
    a.execute(
        vec![req(2, 7, add(1), CASHIER), req(3, 7, add(2), CASHIER)],
        2_000,
    );
    let sent = lacking(&a, 0);
    let last = sent.len() - 1;
    assert_eq!(sent[last].entries.len(), 2);

    let refused = |b: &mut PosService<SqliteStore>, batches: Vec<PeerBatch>, what: &str| {
        let result = b.replicate(batches, 3_000);
        assert!(
            matches!(result, Err(NodeError::Peer(_))),
            "{what}: {result:?}"
        );
        assert_eq!(
            b.ledger().store().chain_head(a_node).unwrap(),
            None,
            "{what}"
        );
        assert_eq!(b.order(OrderId(7)).unwrap(), None, "{what}");
        assert!(b.ledger().store().staff().unwrap().is_empty(), "{what}");
    };

    // A payload byte changed in the last batch: every batch before it is fine, and still
    // nothing of the message is written.
    let mut altered = sent.clone();
    let bytes = &mut altered[last].entries[0];
    let end = bytes.len() - 1;
    bytes[end] ^= 0x01;
    refused(&mut b, altered, "altered");

    let mut reordered = sent.clone();
    reordered[last].entries.swap(0, 1);
    refused(&mut b, reordered, "reordered entries");

    let mut skipped = sent.clone();
    skipped.remove(1);
    refused(&mut b, skipped, "a batch left out");

    // Entries re-signed by another key under A's name.
    let mut forged = sent.clone();
    let other = mpos_ledger::NodeKey::from_secret(&[7; 32]);
    forged[last].checkpoint = forged[last].checkpoint.checkpoint.sign(&other);
    refused(&mut b, forged, "checkpoint signed by another key");

    // A checkpoint with no entries under it.
    let mut unsigned = sent.clone();
    unsigned[last].entries.clear();
    refused(&mut b, unsigned, "checkpoint without its entries");

    // The honest message still goes through afterwards.
    let done = b.replicate(sent, 3_000).unwrap();
    assert_eq!(done.entries, a.ledger().head().size());
    assert_eq!(b.ledger().head().size(), 0, "B wrote nothing of its own");
    assert_eq!(b.order(OrderId(7)).unwrap(), a.order(OrderId(7)).unwrap());
}
