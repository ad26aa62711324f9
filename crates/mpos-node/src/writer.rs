//! The single writer: one thread owns the point-of-sale service and applies requests in
//! batches. Whatever is queued when it wakes goes into one ledger batch and one
//! transaction (group commit), so the cost of a commit is shared by every request waiting
//! for it.
//!
//! The fsync that makes a batch durable runs on a second thread, the syncer, while the
//! writer already decides and commits the next batch (the store syncs the write-ahead log
//! itself no longer: `SqliteStore::sync_wal_separately`; PostgreSQL syncs each commit
//! itself, and the sync has nothing left to do). Every answer goes out through
//! the syncer, in order, and only after a sync that began after its batch committed: a
//! client is never told of a write that power loss could take back, nor shown a refusal
//! or a replay that rests on one.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use mpos_store::{PosStore, StoreError};
use tokio::sync::{mpsc, oneshot, watch};

use crate::clock;
use crate::error::NodeError;
use crate::metrics::Metrics;
use crate::pos::{Applied, CheckedReceipts, FromPeer, PosService, Replicated, Request};

/// Most requests folded into one batch: bounds a batch's latency under a flood.
const MAX_BATCH: usize = 512;
/// Committed batches waiting for their sync before the writer waits for the syncer.
const SYNC_QUEUE: usize = 64;

type Reply = oneshot::Sender<Result<Applied, NodeError>>;
type ReplicaReply = oneshot::Sender<Result<Replicated, NodeError>>;

/// What the writer is asked to do: a client's request, or a peer's batches to write (and
/// verify, unless a puller verified them already).
#[allow(
    clippy::large_enum_variant,
    reason = "nearly every job is a request: boxing it would allocate once per request"
)]
enum Job {
    Request(Request, Reply),
    Replicate(FromPeer, ReplicaReply),
    /// Receipt codes a puller checked against the ledgers held: only to keep.
    Receipts(CheckedReceipts, ReplicaReply),
}

/// How many of the node's own ledger entries are known to be on disk. The print spooler
/// reads no further, so the kitchen never cooks what power loss could take back; live
/// views and sync peers (`watch`) refresh when the durable entries of any node's ledger
/// grow, so they never show what could be taken back either.
#[derive(Clone, Debug)]
pub struct DurableSize {
    own: Arc<watch::Sender<u64>>,
    /// Entries made durable since the node started, its own and those replicated from
    /// peers: grows with every durable commit.
    all: Arc<watch::Sender<u64>>,
}

impl Default for DurableSize {
    fn default() -> DurableSize {
        DurableSize {
            own: Arc::new(watch::Sender::new(0)),
            all: Arc::new(watch::Sender::new(0)),
        }
    }
}

impl DurableSize {
    /// The node's own durable ledger size.
    pub fn get(&self) -> u64 {
        *self.own.borrow()
    }

    fn set(&self, own: u64, all: u64) {
        self.own.send_if_modified(|v| {
            let grew = own > *v;
            *v = (*v).max(own);
            grew
        });
        self.all.send_if_modified(|v| {
            let grew = all > *v;
            *v = (*v).max(all);
            grew
        });
    }

    /// Wakes on every durable commit, of the node's own entries or a peer's.
    pub fn watch(&self) -> watch::Receiver<u64> {
        self.all.subscribe()
    }
}

/// What one answer waits to send.
#[allow(
    clippy::large_enum_variant,
    reason = "nearly every answer is a request's: boxing it would allocate once per request"
)]
enum Answer {
    Request(Reply, Result<Applied, NodeError>),
    Replica(ReplicaReply, Result<Replicated, NodeError>),
}

/// A committed batch's answers, held until the ledger is durable up to `size` of the
/// node's own entries and `all` entries in total.
struct Answers {
    answers: Vec<Answer>,
    size: u64,
    all: u64,
}

/// Sends an answer, or the disk's failure when the sync it waited on failed. The client
/// may have gone; its request stands all the same.
fn send<T>(
    reply: oneshot::Sender<Result<T, NodeError>>,
    result: Result<T, NodeError>,
    in_doubt: bool,
) {
    let _ = reply.send(if in_doubt { Err(disk_failed()) } else { result });
}

fn disk_failed() -> NodeError {
    NodeError::Unavailable(
        "the node could not make its writes durable (the disk failed); restart it, then \
         retry with the same request id"
            .into(),
    )
}

/// A handle to the writer thread. Dropping every handle lets the thread finish the queue
/// and stop.
#[derive(Clone, Debug)]
pub struct Writer {
    queue: mpsc::Sender<Job>,
    durable: DurableSize,
}

impl Writer {
    /// Starts the writer thread over `service`, and its syncer, which calls `sync` to make
    /// every commit made before the call durable. If a sync fails, what it was to cover is
    /// in doubt: every answer waiting on it is a failure, and the writer takes no more
    /// requests until the node restarts (and SQLite recovers what reached the disk).
    pub fn start<S: PosStore + Send + 'static>(
        mut service: PosService<S>,
        mut sync: impl FnMut() -> Result<(), StoreError> + Send + 'static,
        metrics: Arc<Metrics>,
    ) -> std::io::Result<(Writer, JoinHandle<()>)> {
        let committed = service.ledger().head().size();
        Metrics::add(&metrics.ledger_entries, committed);
        // A node stopped by kill -9 may have left commits that never got their sync: they
        // are in the WAL, and made durable now, before anything is answered from them.
        sync().map_err(std::io::Error::other)?;
        let durable = DurableSize::default();
        durable.set(committed, committed);
        let failed = Arc::new(AtomicBool::new(false));
        let (to_syncer, answers) = std::sync::mpsc::sync_channel::<Answers>(SYNC_QUEUE);
        let syncer = {
            let durable = durable.clone();
            let failed = failed.clone();
            let metrics = metrics.clone();
            std::thread::Builder::new()
                .name("mpos-sync".into())
                .spawn(move || {
                    while let Ok(first) = answers.recv() {
                        // Every batch committed by now shares one sync.
                        let mut ready = vec![first];
                        ready.extend(answers.try_iter());
                        let needed = ready.iter().map(|a| a.size).max().unwrap_or(0);
                        let all = ready.iter().map(|a| a.all).max().unwrap_or(0);
                        let known = *durable.all.borrow();
                        if all > known && !failed.load(Ordering::Acquire) {
                            match sync() {
                                Ok(()) => {
                                    Metrics::add(&metrics.syncs, 1);
                                    durable.set(needed, all);
                                }
                                Err(e) => {
                                    tracing::error!(error = %e, "syncing the ledger failed; the node takes no more writes");
                                    failed.store(true, Ordering::Release);
                                }
                            }
                        }
                        let in_doubt = failed.load(Ordering::Acquire);
                        for batch in ready {
                            for answer in batch.answers {
                                match answer {
                                    Answer::Request(reply, result) => {
                                        send(reply, result, in_doubt)
                                    }
                                    Answer::Replica(reply, result) => {
                                        send(reply, result, in_doubt)
                                    }
                                }
                            }
                        }
                    }
                })?
        };
        let (queue, mut jobs) = mpsc::channel::<Job>(4 * MAX_BATCH);
        let writer_durable = durable.clone();
        let thread = std::thread::Builder::new()
            .name("mpos-writer".into())
            .spawn(move || {
                // Entries committed since start, the node's own and peers': what the syncer
                // makes durable.
                let mut all = committed;
                let mut held: Option<Job> = None;
                loop {
                    let first = match held.take() {
                        Some(job) => job,
                        None => match jobs.blocking_recv() {
                            Some(job) => job,
                            None => break,
                        },
                    };
                    let mut answers = Vec::new();
                    match first {
                        Job::Replicate(from, reply) => {
                            let result = if failed.load(Ordering::Acquire) {
                                Err(disk_failed())
                            } else {
                                service.replicate(from, clock::now_millis())
                            };
                            match &result {
                                Ok(done) => {
                                    all += done.entries;
                                    Metrics::add(&metrics.replicated_entries, done.entries);
                                    Metrics::add(&metrics.order_conflicts, done.conflicts_flagged);
                                }
                                Err(NodeError::Peer(_)) => {
                                    Metrics::add(&metrics.peer_refusals, 1);
                                }
                                Err(_) => {}
                            }
                            answers.push(Answer::Replica(reply, result));
                        }
                        Job::Receipts(checked, reply) => {
                            let result = if failed.load(Ordering::Acquire) {
                                Err(disk_failed())
                            } else {
                                service
                                    .keep_checked_receipts(checked)
                                    .map(|kept| Replicated {
                                        receipts_kept: kept,
                                        ..Replicated::default()
                                    })
                            };
                            answers.push(Answer::Replica(reply, result));
                        }
                        Job::Request(request, reply) => {
                            // Requests queued behind it share its batch; a peer's batches
                            // wait for the next turn.
                            let mut requests = vec![request];
                            let mut replies = vec![reply];
                            while requests.len() < MAX_BATCH {
                                match jobs.try_recv() {
                                    Ok(Job::Request(r, tx)) => {
                                        requests.push(r);
                                        replies.push(tx);
                                    }
                                    Ok(replica) => {
                                        held = Some(replica);
                                        break;
                                    }
                                    Err(_) => break,
                                }
                            }
                            if failed.load(Ordering::Acquire) {
                                for reply in replies {
                                    let _ = reply.send(Err(disk_failed()));
                                }
                                continue;
                            }
                            let before = service.ledger().head().size();
                            let count = requests.len() as u64;
                            let results = service.execute(requests, clock::now_millis());
                            let size = service.ledger().head().size();
                            if size > before {
                                Metrics::add(&metrics.batches, 1);
                                Metrics::add(&metrics.ledger_entries, size - before);
                                all += size - before;
                            }
                            Metrics::add(&metrics.batch_requests, count);
                            for r in &results {
                                let counter = match r {
                                    Ok(a) if a.replayed => &metrics.requests_replayed,
                                    Ok(_) => &metrics.requests_applied,
                                    Err(
                                        NodeError::Refused(_)
                                        | NodeError::BadRequest(_)
                                        | NodeError::NotFound(_),
                                    ) => &metrics.requests_refused,
                                    Err(_) => &metrics.requests_failed,
                                };
                                Metrics::add(counter, 1);
                            }
                            answers.extend(
                                replies
                                    .into_iter()
                                    .zip(results)
                                    .map(|(reply, result)| Answer::Request(reply, result)),
                            );
                        }
                    }
                    let answers = Answers {
                        answers,
                        size: service.ledger().head().size(),
                        all,
                    };
                    if to_syncer.send(answers).is_err() {
                        tracing::error!("the syncer stopped; the writer stops");
                        return;
                    }
                }
                drop(to_syncer);
                let _ = syncer.join();
                tracing::info!(
                    durable = writer_durable.get(),
                    "writer stopped: every queued request was applied and answered"
                );
            })?;
        Ok((Writer { queue, durable }, thread))
    }

    /// How much of the ledger is on disk.
    pub fn durable(&self) -> DurableSize {
        self.durable.clone()
    }

    /// Queues a request and waits until it is durable (or refused).
    pub async fn apply(&self, request: Request) -> Result<Applied, NodeError> {
        let (tx, rx) = oneshot::channel();
        self.queue
            .send(Job::Request(request, tx))
            .await
            .map_err(|_| NodeError::Unavailable("the node is shutting down; retry".into()))?;
        rx.await.map_err(|_| {
            NodeError::Unavailable(
                "the node stopped before answering; retry with the same request id".into(),
            )
        })?
    }

    /// Queues receipt codes already checked (`pos::check_receipts_with`) to keep; answers
    /// once they are committed (they are no ledger entries: a code lost to power loss is
    /// one a peer still holds).
    pub(crate) async fn keep_receipts(&self, checked: CheckedReceipts) -> Result<u64, NodeError> {
        let (tx, rx) = oneshot::channel();
        self.queue
            .send(Job::Receipts(checked, tx))
            .await
            .map_err(|_| NodeError::Unavailable("the node is shutting down".into()))?;
        let done = rx
            .await
            .map_err(|_| NodeError::Unavailable("the node stopped before answering".into()))??;
        Ok(done.receipts_kept)
    }

    /// Queues what a peer handed over (batches, PIN hashes, countersignatures) to verify
    /// and write; answers once it is durable (or refused, nothing written).
    pub async fn replicate(&self, from: FromPeer) -> Result<Replicated, NodeError> {
        self.queue_replica(from).await?.await
    }

    /// Queues what a peer handed over, as [`Writer::replicate`], and returns once it is in
    /// the writer's queue: the answer comes from the future returned. A puller queues the
    /// next message while the one before waits for its sync, so the writer never waits
    /// for the disk between them; jobs are taken in the order queued.
    pub async fn queue_replica(
        &self,
        from: FromPeer,
    ) -> Result<impl Future<Output = Result<Replicated, NodeError>> + Send + use<>, NodeError> {
        let (tx, rx) = oneshot::channel();
        self.queue
            .send(Job::Replicate(from, tx))
            .await
            .map_err(|_| NodeError::Unavailable("the node is shutting down".into()))?;
        Ok(async move {
            rx.await
                .map_err(|_| NodeError::Unavailable("the node stopped before answering".into()))?
        })
    }
}
