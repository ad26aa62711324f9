//! The WAL checkpointer: a thread with its own connection that copies committed WAL
//! frames into the database file, so the writer's commits never do it (an automatic
//! checkpoint inside a commit took about a tenth of the writer's time under load).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use mpos_store_sqlite::SqliteStore;

use crate::error::NodeError;

/// Often enough that a passive checkpoint has little to copy each time.
const EVERY: Duration = Duration::from_millis(100);

/// The WAL starts over once it holds this many frames (4 KiB pages: about 32 MiB).
const BOUND: u64 = 8_000;

#[derive(Debug)]
pub struct Checkpointer {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    pub fn start(store: SqliteStore) -> Result<Checkpointer, NodeError> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("mpos-checkpoint".into())
            .spawn(move || {
                // One more round after the stop: the WAL is left checkpointed.
                loop {
                    let stopping = flag.load(Ordering::Relaxed);
                    if let Err(e) = store.checkpoint(BOUND) {
                        tracing::error!(error = %e, "WAL checkpoint failed");
                    }
                    if stopping {
                        break;
                    }
                    std::thread::sleep(EVERY);
                }
            })?;
        Ok(Checkpointer {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
