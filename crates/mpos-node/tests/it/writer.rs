//! The writer thread: answers wait for the sync that makes their batch durable, and a
//! failed sync stops the writes.

use std::sync::Arc;
use std::sync::mpsc;

use mpos_node::NodeError;
use mpos_node::metrics::Metrics;
use mpos_node::writer::Writer;
use mpos_store::{LedgerStore, StoreError};

use crate::orders::{CASHIER, open_cmd, req, staffed};

/// What the test gives a held sync to return.
type Verdict = mpsc::Sender<Result<(), StoreError>>;

/// A sync the test holds: it reports each call, then waits for the test's verdict.
fn held_sync() -> (
    impl FnMut() -> Result<(), StoreError> + Send + 'static,
    mpsc::Receiver<()>,
    Verdict,
) {
    let (called, calls) = mpsc::channel();
    let (verdict, verdicts) = mpsc::channel();
    let sync = move || {
        called.send(()).unwrap();
        verdicts.recv().unwrap()
    };
    (sync, calls, verdict)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn a_request_is_answered_only_after_a_sync_that_began_after_its_commit() {
    let dir = tempfile::tempdir().unwrap();
    let service = staffed(dir.path());
    let node = service.ledger().node_id();
    let before = service.ledger().head().size();
    let (sync, calls, verdict) = held_sync();
    // The writer first syncs what an earlier run may have left unsynced.
    verdict.send(Ok(())).unwrap();
    let (writer, thread) = Writer::start(service, sync, Arc::new(Metrics::default())).unwrap();
    calls.recv().unwrap();
    let durable = writer.durable();
    assert_eq!(durable.get(), before);

    let rt = runtime();
    let w = writer.clone();
    let answer = rt.spawn(async move { w.apply(req(1, 10, open_cmd(), CASHIER)).await });
    // The syncer is called once the batch has committed ...
    calls.recv().unwrap();
    let reader = mpos_node::DataDir::open_or_create(dir.path())
        .unwrap()
        .store()
        .unwrap();
    let committed = reader.chain_head(node).unwrap().unwrap().size();
    assert!(committed > before, "the batch is committed");
    // ... and nobody hears of it until the sync returns.
    assert!(!answer.is_finished());
    assert_eq!(durable.get(), before);

    verdict.send(Ok(())).unwrap();
    let applied = rt.block_on(answer).unwrap().unwrap();
    assert_eq!(applied.first_seq, before + 1);
    assert_eq!(applied.last_seq, committed);
    assert_eq!(durable.get(), committed);

    drop(writer);
    thread.join().unwrap();
}

#[test]
fn a_failed_sync_fails_its_answers_and_stops_the_writes() {
    let dir = tempfile::tempdir().unwrap();
    let service = staffed(dir.path());
    let node = service.ledger().node_id();
    let before = service.ledger().head().size();
    let (sync, calls, verdict) = held_sync();
    // The writer first syncs what an earlier run may have left unsynced.
    verdict.send(Ok(())).unwrap();
    let (writer, thread) = Writer::start(service, sync, Arc::new(Metrics::default())).unwrap();
    calls.recv().unwrap();
    let rt = runtime();

    let w = writer.clone();
    let answer = rt.spawn(async move { w.apply(req(1, 10, open_cmd(), CASHIER)).await });
    calls.recv().unwrap();
    verdict
        .send(Err(StoreError::Backend("EIO".into())))
        .unwrap();
    let failed = rt.block_on(answer).unwrap().unwrap_err();
    assert!(
        matches!(&failed, NodeError::Unavailable(m) if m.contains("durable")),
        "{failed}"
    );

    // The next request is not applied: what the failed sync covered is in doubt.
    let reader = mpos_node::DataDir::open_or_create(dir.path())
        .unwrap()
        .store()
        .unwrap();
    let committed = reader.chain_head(node).unwrap().unwrap().size();
    assert!(committed > before);
    let next = rt
        .block_on(writer.apply(req(2, 11, open_cmd(), CASHIER)))
        .unwrap_err();
    assert!(matches!(next, NodeError::Unavailable(_)), "{next}");
    assert_eq!(reader.chain_head(node).unwrap().unwrap().size(), committed);
    assert!(calls.try_recv().is_err(), "no further sync was tried");

    drop(writer);
    thread.join().unwrap();
}
