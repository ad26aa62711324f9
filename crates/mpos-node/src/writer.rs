//! The single writer: one thread owns the point-of-sale service and applies requests in
//! batches. Whatever is queued when it wakes goes into one ledger batch, one transaction
//! and one fsync (group commit), so the cost of durability is shared by every request
//! waiting for it.

use std::thread::JoinHandle;

use mpos_store_sqlite::SqliteStore;
use tokio::sync::{mpsc, oneshot};

use std::sync::Arc;

use crate::clock;
use crate::error::NodeError;
use crate::metrics::Metrics;
use crate::pos::{Applied, PosService, Request};

/// Most requests folded into one batch: bounds a batch's latency under a flood.
const MAX_BATCH: usize = 512;

type Job = (Request, oneshot::Sender<Result<Applied, NodeError>>);

/// A handle to the writer thread. Dropping every handle lets the thread finish the queue
/// and stop.
#[derive(Clone, Debug)]
pub struct Writer {
    queue: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer thread over `service`.
    pub fn start(
        mut service: PosService<SqliteStore>,
        metrics: Arc<Metrics>,
    ) -> std::io::Result<(Writer, JoinHandle<()>)> {
        Metrics::add(&metrics.ledger_entries, service.ledger().head().size());
        let (queue, mut jobs) = mpsc::channel::<Job>(4 * MAX_BATCH);
        let thread = std::thread::Builder::new()
            .name("mpos-writer".into())
            .spawn(move || {
                while let Some(first) = jobs.blocking_recv() {
                    let mut batch = vec![first];
                    while batch.len() < MAX_BATCH {
                        match jobs.try_recv() {
                            Ok(job) => batch.push(job),
                            Err(_) => break,
                        }
                    }
                    let (requests, replies): (Vec<Request>, Vec<_>) = batch.into_iter().unzip();
                    let before = service.ledger().head().size();
                    let count = requests.len() as u64;
                    let results = service.execute(requests, clock::now_millis());
                    let after = service.ledger().head().size();
                    if after > before {
                        Metrics::add(&metrics.batches, 1);
                        Metrics::add(&metrics.ledger_entries, after - before);
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
                    for (reply, result) in replies.into_iter().zip(results) {
                        // The client may have gone; its request is applied all the same.
                        let _ = reply.send(result);
                    }
                }
                tracing::info!("writer stopped: every queued request was applied");
            })?;
        Ok((Writer { queue }, thread))
    }

    /// Queues a request and waits until it is durable (or refused).
    pub async fn apply(&self, request: Request) -> Result<Applied, NodeError> {
        let (tx, rx) = oneshot::channel();
        self.queue
            .send((request, tx))
            .await
            .map_err(|_| NodeError::Unavailable("the node is shutting down; retry".into()))?;
        rx.await.map_err(|_| {
            NodeError::Unavailable(
                "the node stopped before answering; retry with the same request id".into(),
            )
        })?
    }
}
