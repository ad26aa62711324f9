//! The writer thread: answers wait for the sync that makes their batch durable, and a
//! failed sync stops the writes.

use std::sync::Arc;
use std::sync::mpsc;

use mpos_node::metrics::Metrics;
use mpos_node::pos::{Applied, FromPeer, PosService};
use mpos_node::writer::Writer;
use mpos_node::{DataDir, NodeError};
use mpos_store::{LedgerStore, PosStore, StoreError};
use mpos_store_sqlite::SqliteStore;

use crate::orders::{CASHIER, open_cmd, req, staffed};
use crate::replica::{lacking, member, root_of};

/// A writer over a staffed service whose syncs the test holds: each call is reported on
/// `calls`, then waits for the test's verdict.
struct Held {
    _dir: tempfile::TempDir,
    node: mpos_ledger::NodeId,
    /// The ledger's size before the test's requests.
    before: u64,
    /// A second connection, to see what the writer committed.
    reader: SqliteStore,
    writer: Writer,
    thread: std::thread::JoinHandle<()>,
    calls: mpsc::Receiver<()>,
    verdict: mpsc::Sender<Result<(), StoreError>>,
    rt: tokio::runtime::Runtime,
}

impl Held {
    fn start() -> Held {
        Held::start_with(staffed)
    }

    /// As `start`, over the service `make` sets up in its data directory.
    fn start_with(make: impl FnOnce(&std::path::Path) -> PosService<SqliteStore>) -> Held {
        let dir = tempfile::tempdir().unwrap();
        let service = make(dir.path());
        let node = service.ledger().node_id();
        let before = service.ledger().head().size();
        let (called, calls) = mpsc::channel();
        let (verdict, verdicts) = mpsc::channel();
        let sync = move || {
            called.send(()).unwrap();
            verdicts.recv().unwrap()
        };
        // The writer first syncs what an earlier run may have left unsynced.
        verdict.send(Ok(())).unwrap();
        let (writer, thread) = Writer::start(service, sync, Arc::new(Metrics::default())).unwrap();
        calls.recv().unwrap();
        let reader = DataDir::open_or_create(dir.path())
            .unwrap()
            .store()
            .unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        Held {
            _dir: dir,
            node,
            before,
            reader,
            writer,
            thread,
            calls,
            verdict,
            rt,
        }
    }

    /// The ledger's size as committed (durable or not).
    fn committed(&self) -> u64 {
        self.reader.chain_head(self.node).unwrap().unwrap().size()
    }

    /// Opens an order through the writer, answered in the background.
    fn open_order(&self, id: u128) -> tokio::task::JoinHandle<Result<Applied, NodeError>> {
        let w = self.writer.clone();
        self.rt
            .spawn(async move { w.apply(req(id, id + 10, open_cmd(), CASHIER)).await })
    }

    fn stop(self) {
        drop(self.writer);
        self.thread.join().unwrap();
    }
}

#[test]
fn a_request_is_answered_only_after_a_sync_that_began_after_its_commit() {
    let held = Held::start();
    let durable = held.writer.durable();
    assert_eq!(durable.get(), held.before);

    let answer = held.open_order(1);
    // The syncer is called once the batch has committed ...
    held.calls.recv().unwrap();
    let committed = held.committed();
    assert!(committed > held.before, "the batch is committed");
    // ... and nobody hears of it until the sync returns.
    assert!(!answer.is_finished());
    assert_eq!(durable.get(), held.before);

    held.verdict.send(Ok(())).unwrap();
    let applied = held.rt.block_on(answer).unwrap().unwrap();
    assert_eq!(applied.first_seq, held.before + 1);
    assert_eq!(applied.last_seq, committed);
    assert_eq!(durable.get(), committed);
    held.stop();
}

#[test]
fn a_failed_sync_fails_its_answers_and_stops_the_writes() {
    let held = Held::start();
    let answer = held.open_order(1);
    held.calls.recv().unwrap();
    held.verdict
        .send(Err(StoreError::Backend("EIO".into())))
        .unwrap();
    let failed = held.rt.block_on(answer).unwrap().unwrap_err();
    assert!(
        matches!(&failed, NodeError::Unavailable(m) if m.contains("durable")),
        "{failed}"
    );

    // The next request is not applied: what the failed sync covered is in doubt.
    let committed = held.committed();
    assert!(committed > held.before);
    let next = held.rt.block_on(held.open_order(2)).unwrap().unwrap_err();
    assert!(matches!(next, NodeError::Unavailable(_)), "{next}");
    assert_eq!(held.committed(), committed);
    assert!(held.calls.try_recv().is_err(), "no further sync was tried");
    held.stop();
}

#[test]
fn a_peers_next_message_is_committed_while_the_one_before_waits_for_its_sync() {
    // Node A opens two orders, one request each: two messages for a puller on B.
    let a_dir = tempfile::tempdir().unwrap();
    let mut a = staffed(a_dir.path());
    let a_node = a.ledger().node_id();
    a.execute_one(req(1, 7, open_cmd(), CASHIER), 1_000)
        .unwrap();
    let first = lacking(&a, 0);
    let held_of_a = a.ledger().head().size();
    a.execute_one(req(2, 8, open_cmd(), CASHIER), 2_000)
        .unwrap();
    let second = lacking(&a, held_of_a);
    let root = root_of(&a);
    let held = Held::start_with(|dir| member(dir, &root, "B"));

    // Both are queued before either is answered ...
    let writer = held.writer.clone();
    let (one, two) = held.rt.block_on(async {
        let queue = |batches| {
            tokio::time::timeout(
                std::time::Duration::from_secs(30),
                writer.queue_replica(FromPeer::batches(batches)),
            )
        };
        let one = queue(first).await.expect("queued at once").unwrap();
        let two = queue(second).await.expect("queued at once").unwrap();
        (tokio::spawn(one), tokio::spawn(two))
    });
    // ... and the second is committed while the first's sync is still held.
    if held
        .calls
        .recv_timeout(std::time::Duration::from_secs(30))
        .is_err()
    {
        panic!(
            "no sync after the first message: {:?}",
            held.rt.block_on(one)
        );
    }
    let held_of = |reader: &SqliteStore| reader.chain_head(a_node).unwrap().map_or(0, |h| h.size());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while held_of(&held.reader) < a.ledger().head().size() {
        assert!(
            std::time::Instant::now() < deadline,
            "the second message was not committed while the first waited for its sync"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert!(!one.is_finished() && !two.is_finished());

    // Answers follow the syncs (the syncer may cover both with its next), in the order
    // queued.
    held.verdict.send(Ok(())).unwrap();
    held.verdict.send(Ok(())).unwrap();
    let one = held.rt.block_on(one).unwrap().unwrap();
    assert_eq!(one.entries, held_of_a);
    let two = held.rt.block_on(two).unwrap().unwrap();
    assert_eq!(two.entries, a.ledger().head().size() - held_of_a);
    assert_eq!(
        held.reader
            .load_order(mpos_domain::ids::OrderId(8))
            .unwrap()
            .map(|o| o.number),
        Some("T-1".to_string())
    );
    drop(writer);
    held.stop();
}
