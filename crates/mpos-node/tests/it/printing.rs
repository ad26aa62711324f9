//! The spooler's feed from the ledger: entries with nothing for the kitchen cost no write,
//! and it never reads past what is durable.

use mpos_domain::ids::StationId;
use mpos_node::DataDir;
use mpos_node::printing::KitchenFeed;
use mpos_store::{PrintStore, Printer};

use crate::orders::{CASHIER, open_cmd, req, staffed};

#[test]
fn the_feed_reads_only_durable_entries_and_stores_its_cursor_only_when_it_must() {
    let dir = tempfile::tempdir().unwrap();
    let mut service = staffed(dir.path());
    let node = service.ledger().node_id();
    let mut store = DataDir::open_or_create(dir.path())
        .unwrap()
        .store()
        .unwrap();
    store
        .put_printer(&Printer {
            name: "kitchen".into(),
            address: "file:/dev/null".into(),
            stations: vec![StationId(1)],
            receipts: false,
            columns: 48,
        })
        .unwrap();
    let staff_entries = service.ledger().head().size();
    for n in 0..5 {
        for r in service.execute(vec![req(100 + n, 10 + n, open_cmd(), CASHIER)], 1_000) {
            r.unwrap();
        }
    }
    let head = service.ledger().head().size();
    assert!(head > staff_entries + 2);

    let mut feed = KitchenFeed::new(&store, node).unwrap();
    // Only what the writer has made durable.
    assert_eq!(
        feed.queue_tickets(&mut store, staff_entries).unwrap(),
        staff_entries
    );
    assert_eq!(feed.queue_tickets(&mut store, staff_entries).unwrap(), 0);
    assert_eq!(
        feed.queue_tickets(&mut store, u64::MAX).unwrap(),
        head - staff_entries
    );
    // Orders opened without lines hold nothing for the kitchen: the cursor moved in
    // memory, not in the store.
    assert_eq!(store.print_cursor(node).unwrap(), None);
    feed.store_cursor(&mut store).unwrap();
    assert_eq!(store.print_cursor(node).unwrap(), Some(head));
    // A feed started afresh goes on from there.
    let mut again = KitchenFeed::new(&store, node).unwrap();
    assert_eq!(again.queue_tickets(&mut store, u64::MAX).unwrap(), 0);
}
