//! The writer thread: answers wait for the sync that makes their batch durable, and a
//! failed sync stops the writes.

use std::sync::Arc;
use std::sync::mpsc;

use mpos_node::metrics::Metrics;
use mpos_node::pos::Applied;
use mpos_node::writer::Writer;
use mpos_node::{DataDir, NodeError};
use mpos_store::{LedgerStore, StoreError};
use mpos_store_sqlite::SqliteStore;

use crate::orders::{CASHIER, open_cmd, req, staffed};

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
        let dir = tempfile::tempdir().unwrap();
        let service = staffed(dir.path());
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
