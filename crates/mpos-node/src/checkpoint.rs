//! The WAL checkpointer: a thread with its own connection that copies committed WAL
//! frames into the database file, so the writer's commits never do it (an automatic
//! checkpoint inside a commit took about a tenth of the writer's time under load).

use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, sync_channel};
use std::thread::JoinHandle;
use std::time::Duration;

use mpos_store_sqlite::SqliteStore;

use crate::error::NodeError;

/// The least time between two checkpoints while sales are being committed. Short, so that
/// each copies little: a checkpoint takes a core and the disk while it runs, and the
/// tickets that met one were the slowest. At 2,500 tickets/s, checkpoints 100 ms apart
/// each took about 3 ms and made the p99 1 ms longer than checkpoints 10 ms apart.
const GAP: Duration = Duration::from_millis(10);

/// The WAL starts over once it holds this many frames (4 KiB pages: about 32 MiB).
const BOUND: u64 = 8_000;

/// A round even without a nudge, this long after the last: for commits no sync follows
/// (receipt codes kept from peers, the print spooler's) and for a round a reader's
/// snapshot held back.
const IDLE: Duration = Duration::from_secs(5);

/// Why the checkpointer wakes.
#[derive(Debug)]
enum Wake {
    NewCommits,
    /// A last round, then the thread ends.
    Stop,
}

#[derive(Debug)]
pub struct Checkpointer {
    wake: SyncSender<Wake>,
    thread: Option<JoinHandle<()>>,
}

/// Tells the checkpointer that the WAL holds new commits. Without nudges it sleeps,
/// with a round every `IDLE`.
#[derive(Clone, Debug)]
pub struct Nudge(SyncSender<Wake>);

impl Nudge {
    pub fn new_commits(&self) {
        // A full channel already holds a wake the checkpointer has yet to take.
        let _ = self.0.try_send(Wake::NewCommits);
    }
}

impl Checkpointer {
    pub fn start(store: SqliteStore) -> Result<Checkpointer, NodeError> {
        let (wake, wakes) = sync_channel(1);
        // What a stopped node left in the WAL is copied first.
        let _ = wake.try_send(Wake::NewCommits);
        let thread = std::thread::Builder::new()
            .name("mpos-checkpoint".into())
            .spawn(move || run(&store, &wakes))?;
        Ok(Checkpointer {
            wake,
            thread: Some(thread),
        })
    }

    /// A handle for whoever makes commits durable: the syncer.
    pub fn nudge(&self) -> Nudge {
        Nudge(self.wake.clone())
    }
}

fn run(store: &SqliteStore, wakes: &Receiver<Wake>) {
    loop {
        // A nudge, the stop, or IDLE gone by. (Every sender gone cannot happen while the
        // checkpointer holds one; were it to, it is a stop.)
        let woken = wakes.recv_timeout(IDLE);
        if let Err(e) = store.checkpoint(BOUND) {
            tracing::error!(error = %e, "WAL checkpoint failed");
        }
        // The stop's round is the last: the WAL is left checkpointed.
        if matches!(woken, Ok(Wake::Stop) | Err(RecvTimeoutError::Disconnected)) {
            break;
        }
        std::thread::sleep(GAP);
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        // Sent, not tried: a wake already waiting is taken first, then this one. (It
        // fails only if the thread is gone.)
        let _ = self.wake.send(Wake::Stop);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Instant;

    use super::*;

    fn store(dir: &Path) -> SqliteStore {
        SqliteStore::open(&dir.join("pos.sqlite3")).unwrap()
    }

    /// About a hundred pages' worth of commits from a connection of its own, into the WAL
    /// only (SQLite's own checkpoint waits for a thousand).
    fn commit_pages(dir: &Path) {
        mpos_store_sqlite::baseline::raw_insert(&dir.join("pos.sqlite3"), 100, 10, 4000).unwrap();
    }

    fn database_size(dir: &Path) -> u64 {
        std::fs::metadata(dir.join("pos.sqlite3")).unwrap().len()
    }

    /// Waits (a generous while: the machine may be busy) for the checkpointer to copy
    /// the WAL into the database file.
    fn copied_beyond(dir: &Path, size: u64) -> bool {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if database_size(dir) > size {
                return true;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        false
    }

    #[test]
    fn commits_are_copied_into_the_database_after_a_nudge_and_not_before() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(dir.path());
        // The schema is in the WAL yet: the first round, at start, copies it.
        let fresh = database_size(dir.path());
        let checkpointer = Checkpointer::start(store).unwrap();
        assert!(copied_beyond(dir.path(), fresh));
        // It grows page by page while it copies: settled once it stops.
        let mut before = database_size(dir.path());
        loop {
            std::thread::sleep(GAP * 10);
            let now = database_size(dir.path());
            if now == before {
                break;
            }
            before = now;
        }
        commit_pages(dir.path());
        // Thirty rounds' time without a nudge (three of the 100 ms rounds it once ran on a
        // timer, a small part of IDLE): an idle node's checkpointer sleeps.
        std::thread::sleep(GAP * 30);
        assert_eq!(database_size(dir.path()), before, "copied without a nudge");
        checkpointer.nudge().new_commits();
        assert!(copied_beyond(dir.path(), before + 100 * 4000));
    }

    #[test]
    fn a_stopped_checkpointer_leaves_the_wal_copied() {
        let dir = tempfile::tempdir().unwrap();
        let checkpointer = Checkpointer::start(store(dir.path())).unwrap();
        let before = database_size(dir.path());
        commit_pages(dir.path());
        drop(checkpointer);
        assert!(database_size(dir.path()) > before + 100 * 4000);
    }
}
