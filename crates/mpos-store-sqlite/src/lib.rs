//! `mpos-store-sqlite` is the embedded default storage of an M_POS node: SQLite (bundled
//! through rusqlite) in WAL mode with `synchronous = FULL`, so a committed transaction
//! survives power loss. It owns its SQL and its append-only `migrations/`.
//!
//! The node's writer instead syncs the WAL itself, on another thread
//! ([`SqliteStore::sync_wal_separately`]), so that it can commit the next batch while the
//! last one's fsync is under way.
//!
//! Write transactions begin IMMEDIATE: the node has more than one connection that writes
//! (the writer, the print spooler), and a deferred transaction that read first cannot
//! take the write lock after another connection committed: SQLite fails it at once
//! (`database is locked`) instead of waiting out the busy timeout.
//!
//! Architecture invariant: the only crate (with the other `mpos-store-*`) that contains
//! SQL. An existing migration is never edited; changes come as a new numbered file.

use std::path::Path;

mod availability;
pub mod baseline;
mod day;
mod floor;
mod inventory;
mod menu;
mod orders;
mod print;
mod row;
mod staff;
mod trust;

use mpos_ledger::{
    ChainHead, Frontier, Hash, NodeId, PublicKey, SealedEntry, SignedCheckpoint, WitnessSignature,
};
use mpos_store::{LedgerItem, LedgerStore, StoreError};
use rusqlite::{Connection, OptionalExtension, params};

/// Migrations in order; the schema version is the number of migrations applied
/// (`PRAGMA user_version`).
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_ledger.sql"),
    include_str!("../migrations/0002_orders.sql"),
    include_str!("../migrations/0003_menu.sql"),
    include_str!("../migrations/0004_staff.sql"),
    include_str!("../migrations/0005_receipts.sql"),
    include_str!("../migrations/0006_request_action.sql"),
    include_str!("../migrations/0007_drawers_and_days.sql"),
    include_str!("../migrations/0008_printing.sql"),
    include_str!("../migrations/0009_floor.sql"),
    include_str!("../migrations/0010_print_requests.sql"),
    include_str!("../migrations/0011_kitchen.sql"),
    include_str!("../migrations/0012_order_lists.sql"),
    include_str!("../migrations/0013_inventory.sql"),
    include_str!("../migrations/0014_order_version.sql"),
    include_str!("../migrations/0015_catalog_generation.sql"),
    include_str!("../migrations/0016_stock_locations.sql"),
    include_str!("../migrations/0017_organization.sql"),
    include_str!("../migrations/0018_trust.sql"),
    include_str!("../migrations/0019_eighty_six.sql"),
    include_str!("../migrations/0020_early_arrivals.sql"),
    include_str!("../migrations/0021_receipts_wanted.sql"),
    include_str!("../migrations/0022_fewer_order_indexes.sql"),
    include_str!("../migrations/0023_modifiers_in_their_line.sql"),
    include_str!("../migrations/0024_arrivals_settled.sql"),
];

/// A node's SQLite database.
#[derive(Debug)]
pub struct SqliteStore {
    conn: Connection,
}

/// The write-ahead log of a connection that leaves syncing it to its owner
/// ([`SqliteStore::sync_wal_separately`]). SQLite deletes the WAL only when the last
/// connection to the database closes, so this file stays the WAL while that connection
/// lives.
#[derive(Debug)]
pub struct WalFile {
    path: String,
    file: std::fs::File,
}

impl WalFile {
    /// Makes every transaction committed before this call durable.
    pub fn sync(&self) -> Result<(), StoreError> {
        self.file
            .sync_data()
            .map_err(|e| StoreError::Backend(format!("syncing {}: {e}", self.path)))
    }
}

/// How long a connection waits for another's lock before giving up.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(5);
/// One wait while another connection holds the lock. SQLite's own busy timeout sleeps
/// 1, 2, 5, 10 ms and longer between tries: a writer that met a checkpoint holding the
/// lock for a millisecond would sleep 8 ms in all before trying a third time.
const LOCK_POLL: std::time::Duration = std::time::Duration::from_micros(50);

/// Busy handler: `tries` is how often this wait has already retried.
fn wait_for_lock(tries: i32) -> bool {
    let waited = LOCK_POLL * u32::try_from(tries).unwrap_or(u32::MAX);
    if waited >= LOCK_WAIT {
        return false;
    }
    std::thread::sleep(LOCK_POLL);
    true
}

pub(crate) fn db(e: rusqlite::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

pub(crate) use mpos_store::columns::{corrupt, sql_int};

fn node_id(bytes: Vec<u8>) -> Result<NodeId, StoreError> {
    <[u8; 16]>::try_from(bytes.as_slice())
        .map(NodeId)
        .map_err(|_| corrupt("node id is not 16 bytes"))
}

impl SqliteStore {
    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    pub(crate) fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// A write transaction, once the reads held for a batch (`begin_reads`) are let go:
    /// their snapshot is a read transaction, and SQLite nests none.
    pub(crate) fn write_transaction(&mut self) -> Result<rusqlite::Transaction<'_>, StoreError> {
        self.let_reads_go()?;
        self.conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(db)
    }

    /// Ends the read transaction `begin_reads` opened, if one is open: it wrote nothing,
    /// so a rollback is as good as a commit where the commit fails.
    pub(crate) fn let_reads_go(&mut self) -> Result<(), StoreError> {
        if self.conn.is_autocommit() {
            return Ok(());
        }
        self.conn.execute_batch("COMMIT").or_else(|e| {
            self.conn.execute_batch("ROLLBACK").map_err(db)?;
            Err(db(e))
        })
    }

    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let conn = Connection::open(path).map_err(db)?;
        Self::setup(conn)
    }

    /// Leaves WAL checkpoints to another connection (`checkpoint`): the connection that
    /// commits sales then never copies the WAL into the database inside a commit.
    pub fn leave_checkpoints_to_others(&self) -> Result<(), StoreError> {
        self.conn
            .pragma_update(None, "wal_autocheckpoint", 0)
            .map_err(db)
    }

    /// Stops SQLite syncing the WAL inside each commit of this connection and returns the
    /// WAL file, for the caller to sync on another thread: the caller commits batch after
    /// batch without waiting on the disk, and must tell no one of a commit until a
    /// [`WalFile::sync`] that began after that commit has returned.
    ///
    /// Why this is safe: SQLite appends a commit's frames to the WAL with plain writes, and
    /// after a crash takes the WAL only up to its last complete commit, so the database is
    /// consistent whatever reached the disk (SQLite's `synchronous = NORMAL`); an fsync of
    /// the file makes every commit written before it durable. Checkpoints still sync the
    /// WAL before copying it and the database after.
    pub fn sync_wal_separately(&mut self) -> Result<WalFile, StoreError> {
        let path = match self.conn.path() {
            Some(p) if !p.is_empty() => format!("{p}-wal"),
            _ => {
                return Err(StoreError::Backend(
                    "an in-memory database has no write-ahead log to sync".into(),
                ));
            }
        };
        self.conn
            .pragma_update(None, "synchronous", "NORMAL")
            .map_err(db)?;
        // SQLite creates the WAL when the connection first reads; it exists by now
        // (`setup` read the schema version), and stays while this connection is open.
        let file =
            std::fs::File::open(&path).map_err(|e| StoreError::Backend(format!("{path}: {e}")))?;
        Ok(WalFile { path, file })
    }

    /// Copies committed WAL frames into the database without waiting for anyone (a
    /// passive checkpoint). A passive checkpoint never lets the WAL start over while the
    /// writer keeps appending, so once the WAL holds more than `bound` frames this waits
    /// for the writer's current commit and restarts it from the beginning (the writer
    /// waits only for the frames the passive pass left). Returns the frames in the WAL.
    pub fn checkpoint(&self, bound: u64) -> Result<u64, StoreError> {
        let run = |mode: &str| -> Result<u64, StoreError> {
            let (_busy, frames, _done): (i64, i64, i64) = self
                .conn
                .query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })
                .map_err(db)?;
            Ok(frames.max(0).unsigned_abs())
        };
        let frames = run("PASSIVE")?;
        if frames > bound {
            return run("RESTART");
        }
        Ok(frames)
    }

    /// A private in-memory database, for tests.
    pub fn open_in_memory() -> Result<SqliteStore, StoreError> {
        Self::setup(Connection::open_in_memory().map_err(db)?)
    }

    fn setup(conn: Connection) -> Result<SqliteStore, StoreError> {
        // WAL lets readers run beside the writer; FULL syncs the WAL on every commit, which
        // is what makes an acknowledged write survive power loss (NORMAL would not).
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(db)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(db)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(db)?;
        // A WAL that grew under a burst is cut back to this size when it starts over.
        conn.pragma_update(None, "journal_size_limit", 64 * 1024 * 1024)
            .map_err(db)?;
        conn.busy_handler(Some(wait_for_lock)).map_err(db)?;
        // The store uses a few dozen statements; the default cache of 16 would thrash and
        // re-parse SQL on the hot path.
        conn.set_prepared_statement_cache_capacity(128);
        let mut store = SqliteStore { conn };
        store.migrate()?;
        store.forget_value_samples()?;
        Ok(store)
    }

    /// Drops the samples of indexed values ANALYZE keeps beside its row counts (the
    /// `sqlite_stat4` table of a SQLite built with STAT4, as the bundled one is). With
    /// them, every statement whose plan weighed a bound value is prepared again each time
    /// it is bound to another: on the writer's path, a fifteenth of its time went to
    /// preparing the same few queries. The row counts (`sqlite_stat1`) stay, and plan
    /// as well for this schema's lookups by key.
    fn forget_value_samples(&self) -> Result<(), StoreError> {
        let sampled: bool = self
            .conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_stat4')",
                [],
                |r| r.get(0),
            )
            .map_err(db)?;
        if !sampled {
            return Ok(());
        }
        let samples: i64 = self
            .conn
            .query_row("SELECT count(*) FROM sqlite_stat4", [], |r| r.get(0))
            .map_err(db)?;
        if samples > 0 {
            // `ANALYZE sqlite_schema` reads the statistics again, without the samples.
            self.conn
                .execute_batch("DELETE FROM sqlite_stat4; ANALYZE sqlite_schema;")
                .map_err(db)?;
        }
        Ok(())
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let found: i64 = self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(db)?;
        let supported = MIGRATIONS.len() as i64;
        if found > supported {
            return Err(StoreError::TooNew { found, supported });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
            let tx = self
                .conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(db)?;
            tx.execute_batch(sql).map_err(db)?;
            tx.pragma_update(None, "user_version", i as i64 + 1)
                .map_err(db)?;
            tx.commit().map_err(db)?;
        }
        Ok(())
    }

    /// Refreshes the query planner's statistics after much data was loaded at once: the
    /// row counts, without samples of values (`forget_value_samples`).
    pub fn analyze(&self) -> Result<(), StoreError> {
        self.conn.execute_batch("ANALYZE").map_err(db)?;
        self.forget_value_samples()
    }

    /// The schema version (number of migrations applied).
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        self.conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(db)
    }

    fn checkpoint_row(signed: Vec<u8>) -> Result<SignedCheckpoint, StoreError> {
        SignedCheckpoint::from_bytes(&signed).map_err(corrupt)
    }
}

impl LedgerStore for SqliteStore {
    fn node_keys(&self) -> Result<Vec<PublicKey>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT public_key FROM ledger_node ORDER BY node_id")
            .map_err(db)?;
        let rows = stmt.query_map([], |r| r.get::<_, Vec<u8>>(0)).map_err(db)?;
        let mut keys = Vec::new();
        for row in rows {
            let bytes = row.map_err(db)?;
            let arr = <[u8; 32]>::try_from(bytes.as_slice())
                .map_err(|_| corrupt("public key is not 32 bytes"))?;
            keys.push(PublicKey::from_bytes(&arr).map_err(corrupt)?);
        }
        Ok(keys)
    }

    fn chain_head(&self, node: NodeId) -> Result<Option<ChainHead>, StoreError> {
        let state: Option<Vec<u8>> = self
            .conn
            .prepare_cached("SELECT state FROM ledger_head WHERE node_id = ?1")
            .map_err(db)?
            .query_row([&node.0[..]], |r| r.get(0))
            .optional()
            .map_err(db)?;
        state
            .map(|s| ChainHead::from_bytes(&s).map_err(corrupt))
            .transpose()
    }

    fn append_batch(
        &mut self,
        key: &PublicKey,
        entries: &[SealedEntry],
        checkpoint: &SignedCheckpoint,
        head: &ChainHead,
    ) -> Result<(), StoreError> {
        let tx = self.write_transaction()?;
        append_ledger(&tx, key, entries, checkpoint, head)?;
        tx.commit().map_err(db)
    }

    fn add_witness(
        &mut self,
        node: NodeId,
        tree_size: u64,
        witness: &WitnessSignature,
    ) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT OR IGNORE INTO ledger_witness (node_id, tree_size, witness_id, signature)
                 VALUES (?1, ?2, ?3, ?4)",
            )
            .map_err(db)?
            .execute(params![
                &node.0[..],
                sql_int(tree_size),
                &witness.witness.0[..],
                &witness.signature[..]
            ])
            .map_err(db)?;
        Ok(())
    }

    fn latest_checkpoint(&self, node: NodeId) -> Result<Option<SignedCheckpoint>, StoreError> {
        let signed: Option<Vec<u8>> = self
            .conn
            .prepare_cached(
                "SELECT signed FROM ledger_checkpoint WHERE node_id = ?1
                 ORDER BY tree_size DESC LIMIT 1",
            )
            .map_err(db)?
            .query_row([&node.0[..]], |r| r.get(0))
            .optional()
            .map_err(db)?;
        signed.map(Self::checkpoint_row).transpose()
    }

    fn checkpoint_at(
        &self,
        node: NodeId,
        tree_size: u64,
    ) -> Result<Option<SignedCheckpoint>, StoreError> {
        let signed: Option<Vec<u8>> = self
            .conn
            .prepare_cached(
                "SELECT signed FROM ledger_checkpoint WHERE node_id = ?1 AND tree_size = ?2",
            )
            .map_err(db)?
            .query_row(params![&node.0[..], sql_int(tree_size)], |r| r.get(0))
            .optional()
            .map_err(db)?;
        signed.map(Self::checkpoint_row).transpose()
    }

    fn checkpoints_after(
        &self,
        node: NodeId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<SignedCheckpoint>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT signed FROM ledger_checkpoint WHERE node_id = ?1 AND tree_size > ?2
                 ORDER BY tree_size LIMIT ?3",
            )
            .map_err(db)?;
        let rows = stmt
            .query_map(
                params![&node.0[..], sql_int(after), sql_int(limit as u64)],
                |r| r.get::<_, Vec<u8>>(0),
            )
            .map_err(db)?;
        let mut out = Vec::new();
        for signed in rows {
            out.push(Self::checkpoint_row(signed.map_err(db)?)?);
        }
        Ok(out)
    }

    fn entry(&self, node: NodeId, seq: u64) -> Result<Option<Vec<u8>>, StoreError> {
        self.conn
            .prepare_cached("SELECT bytes FROM ledger_entry WHERE node_id = ?1 AND seq = ?2")
            .map_err(db)?
            .query_row(params![&node.0[..], sql_int(seq)], |r| r.get(0))
            .optional()
            .map_err(db)
    }

    fn range_root(&self, node: NodeId, start: u64, end: u64) -> Result<Hash, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT hash FROM ledger_entry WHERE node_id = ?1 AND seq > ?2 AND seq <= ?3
                 ORDER BY seq",
            )
            .map_err(db)?;
        let mut rows = stmt
            .query(params![&node.0[..], sql_int(start), sql_int(end)])
            .map_err(db)?;
        let mut frontier = Frontier::new();
        while let Some(row) = rows.next().map_err(db)? {
            let hash = row.get_ref(0).map_err(db)?.as_blob().map_err(corrupt)?;
            let hash =
                <[u8; 32]>::try_from(hash).map_err(|_| corrupt("entry hash is not 32 bytes"))?;
            frontier.push(Hash(hash));
        }
        if frontier.size() != end - start {
            return Err(corrupt(format!(
                "entries {}..={end} of node {node} are not all stored",
                start + 1
            )));
        }
        Ok(frontier.root())
    }

    fn stream_ledger(
        &self,
        node: NodeId,
        visit: &mut dyn FnMut(LedgerItem<'_>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        // Two cursors walked side by side: memory stays flat however long the ledger.
        let mut entries = self
            .conn
            .prepare("SELECT seq, bytes FROM ledger_entry WHERE node_id = ?1 ORDER BY seq")
            .map_err(db)?;
        let mut checkpoints = self
            .conn
            .prepare(
                "SELECT c.tree_size, c.signed, w.witness_id, w.signature
                 FROM ledger_checkpoint c
                 LEFT JOIN ledger_witness w ON w.node_id = c.node_id AND w.tree_size = c.tree_size
                 WHERE c.node_id = ?1
                 ORDER BY c.tree_size, w.witness_id",
            )
            .map_err(db)?;
        let mut cp_rows = checkpoints.query([&node.0[..]]).map_err(db)?;
        let mut pending = cp_rows
            .next()
            .map_err(db)?
            .map(checkpoint_row)
            .transpose()?;
        let mut entry_rows = entries.query([&node.0[..]]).map_err(db)?;
        while let Some(row) = entry_rows.next().map_err(db)? {
            let seq: i64 = row.get(0).map_err(db)?;
            let bytes = row.get_ref(1).map_err(db)?.as_blob().map_err(corrupt)?;
            visit(LedgerItem::Entry(bytes))?;
            while let Some((size, signed, witness)) = pending.take() {
                if size != seq {
                    pending = Some((size, signed, witness));
                    break;
                }
                let mut witnesses: Vec<WitnessSignature> = witness.into_iter().collect();
                loop {
                    match cp_rows
                        .next()
                        .map_err(db)?
                        .map(checkpoint_row)
                        .transpose()?
                    {
                        Some((s, _, w)) if s == size => witnesses.extend(w),
                        next => {
                            pending = next;
                            break;
                        }
                    }
                }
                visit(LedgerItem::Checkpoint(
                    Self::checkpoint_row(signed)?,
                    witnesses,
                ))?;
            }
        }
        Ok(())
    }
}

/// Appends a batch to the ledger tables inside the caller's transaction, refusing one that
/// does not continue the stored chain.
pub(crate) fn append_ledger(
    tx: &rusqlite::Transaction<'_>,
    key: &PublicKey,
    entries: &[SealedEntry],
    checkpoint: &SignedCheckpoint,
    head: &ChainHead,
) -> Result<(), StoreError> {
    let node = key.node_id();
    let stored: i64 = tx
        .prepare_cached("SELECT size FROM ledger_head WHERE node_id = ?1")
        .map_err(db)?
        .query_row([&node.0[..]], |r| r.get(0))
        .optional()
        .map_err(db)?
        .unwrap_or(0);
    let first = entries.first().map_or(head.size(), |e| e.seq - 1);
    if sql_int(first) != stored || checkpoint.checkpoint.tree_size != head.size() {
        return Err(StoreError::Conflict(format!(
            "batch starts after seq {first}, but the stored chain of node {node} ends at {stored}"
        )));
    }
    tx.prepare_cached("INSERT OR IGNORE INTO ledger_node (node_id, public_key) VALUES (?1, ?2)")
        .map_err(db)?
        .execute(params![&node.0[..], &key.to_bytes()[..]])
        .map_err(db)?;
    let mut insert = tx
        .prepare_cached(
            "INSERT INTO ledger_entry (node_id, seq, hash, bytes) VALUES (?1, ?2, ?3, ?4)",
        )
        .map_err(db)?;
    for e in entries {
        insert
            .execute(params![
                &node.0[..],
                sql_int(e.seq),
                &e.hash.0[..],
                &e.bytes
            ])
            .map_err(db)?;
    }
    tx.prepare_cached(
        "INSERT INTO ledger_checkpoint (node_id, tree_size, signed) VALUES (?1, ?2, ?3)",
    )
    .map_err(db)?
    .execute(params![
        &node.0[..],
        sql_int(checkpoint.checkpoint.tree_size),
        &checkpoint.to_bytes()[..]
    ])
    .map_err(db)?;
    tx.prepare_cached(
        "INSERT INTO ledger_head (node_id, size, state) VALUES (?1, ?2, ?3)
         ON CONFLICT (node_id) DO UPDATE SET size = excluded.size, state = excluded.state",
    )
    .map_err(db)?
    .execute(params![&node.0[..], sql_int(head.size()), head.to_bytes()])
    .map_err(db)?;
    Ok(())
}

type CheckpointRow = (i64, Vec<u8>, Option<WitnessSignature>);

fn checkpoint_row(row: &rusqlite::Row<'_>) -> Result<CheckpointRow, StoreError> {
    let size: i64 = row.get(0).map_err(db)?;
    let signed: Vec<u8> = row.get(1).map_err(db)?;
    let witness_id: Option<Vec<u8>> = row.get(2).map_err(db)?;
    let signature: Option<Vec<u8>> = row.get(3).map_err(db)?;
    let witness = match (witness_id, signature) {
        (Some(id), Some(sig)) => Some(WitnessSignature {
            witness: node_id(id)?,
            signature: <[u8; 64]>::try_from(sig.as_slice())
                .map_err(|_| corrupt("witness signature is not 64 bytes"))?,
        }),
        _ => None,
    };
    Ok((size, signed, witness))
}

// The ledger's operations are checked by the conformance suite (tests/conformance.rs);
// these are SQLite's own.
#[cfg(test)]
mod tests {
    use super::*;

    /// A connection that leaves the WAL to its owner no longer syncs at commit, and the
    /// owner's sync reaches the same file SQLite writes.
    #[test]
    fn a_wal_synced_separately_is_the_databases_own() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite3");
        let mut store = SqliteStore::open(&path).unwrap();
        let wal = store.sync_wal_separately().unwrap();
        let mode: i64 = store
            .conn()
            .pragma_query_value(None, "synchronous", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, 1, "NORMAL");
        let before = std::fs::metadata(dir.path().join("db.sqlite3-wal"))
            .unwrap()
            .len();
        store
            .conn_mut()
            .execute_batch("CREATE TABLE t (v BLOB); INSERT INTO t VALUES (zeroblob(5000))")
            .unwrap();
        assert!(wal.file.metadata().unwrap().len() > before);
        wal.sync().unwrap();
        assert!(matches!(
            SqliteStore::open_in_memory().unwrap().sync_wal_separately(),
            Err(StoreError::Backend(_))
        ));
    }

    /// The writer never checkpoints; the checkpointer copies the WAL and, past its bound,
    /// makes it start over.
    #[test]
    fn a_wal_left_to_the_checkpointer_stays_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite3");
        let mut writer = SqliteStore::open(&path).unwrap();
        writer.leave_checkpoints_to_others().unwrap();
        let checkpointer = SqliteStore::open(&path).unwrap();
        writer
            .conn_mut()
            .execute_batch("CREATE TABLE t (v BLOB)")
            .unwrap();
        let mut write = |n: usize| {
            for _ in 0..n {
                let tx = writer.conn_mut().transaction().unwrap();
                tx.execute("INSERT INTO t (v) VALUES (zeroblob(3000))", [])
                    .unwrap();
                tx.commit().unwrap();
            }
        };
        write(1_200);
        // The writer's commits left every frame in the WAL (more than its default
        // automatic checkpoint would have allowed).
        let frames = checkpointer.checkpoint(100).unwrap();
        assert!(frames >= 1_200, "{frames}");
        // Over the bound: checkpointed whole, the WAL starts over at the next commit.
        write(1);
        assert!(checkpointer.checkpoint(10_000).unwrap() <= 3);
    }

    /// A batch's reads hold one snapshot until its commit lets them go: the commit is
    /// then as durable and as visible to other connections as one made without them,
    /// and a batch that commits nothing leaves no transaction open.
    #[test]
    fn reads_held_for_a_batch_give_way_to_its_commit() {
        use mpos_domain::ids::StaffId;
        use mpos_store::{PinHash, PosStore};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite3");
        let mut writer = SqliteStore::open(&path).unwrap();
        let mut other = SqliteStore::open(&path).unwrap();
        let pin = |staff: u128, at: u64| PinHash {
            staff: StaffId(staff),
            hash: format!("$argon2id$v=19$m=7168,t=5,p=1$c2FsdA${staff}"),
            changed_at: at,
        };
        writer.begin_reads().unwrap();
        assert!(writer.pin_hashes().unwrap().is_empty());
        assert!(!writer.conn().is_autocommit(), "the snapshot is held");
        // Another connection writes meanwhile: the held snapshot does not see it ...
        other.save_pins(&[pin(1, 10)]).unwrap();
        assert!(writer.pin_hashes().unwrap().is_empty());
        // ... and the batch's own commit lets the snapshot go and is visible at once.
        writer.save_pins(&[pin(2, 20)]).unwrap();
        assert!(writer.conn().is_autocommit());
        let staff = |s: &SqliteStore| -> Vec<u128> {
            let mut v: Vec<u128> = s.pin_hashes().unwrap().iter().map(|p| p.staff.0).collect();
            v.sort_unstable();
            v
        };
        assert_eq!(staff(&other), [1, 2]);
        assert_eq!(staff(&writer), [1, 2]);
        // A batch that commits nothing: let go at its end; taking a snapshot again while
        // one is held starts a fresh one.
        writer.begin_reads().unwrap();
        writer.pin_hashes().unwrap();
        other.save_pins(&[pin(3, 30)]).unwrap();
        writer.begin_reads().unwrap();
        assert_eq!(staff(&writer), [1, 2, 3]);
        writer.end_reads().unwrap();
        assert!(writer.conn().is_autocommit());
        writer.end_reads().unwrap();
        drop(writer);
        assert_eq!(staff(&SqliteStore::open(&path).unwrap()), [1, 2, 3]);
    }

    /// The planner keeps its row counts but no samples of values, whether ANALYZE ran
    /// through the store or before it was opened.
    #[test]
    fn statistics_keep_row_counts_and_no_samples_of_values() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite3");
        let count = |s: &SqliteStore, table: &str| -> i64 {
            s.conn()
                .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
                .unwrap()
        };
        let store = SqliteStore::open(&path).unwrap();
        store
            .conn()
            .execute_batch(
                "CREATE TABLE t (a INTEGER, b TEXT); CREATE INDEX t_a ON t (a);
                 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
                 INSERT INTO t SELECT i % 37, 'x' FROM n;
                 ANALYZE;",
            )
            .unwrap();
        // The bundled SQLite samples values (STAT4) ...
        assert!(count(&store, "sqlite_stat4") > 0);
        drop(store);
        // ... and the store drops them when it opens,
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(count(&store, "sqlite_stat4"), 0);
        assert!(count(&store, "sqlite_stat1") > 0);
        // and after its own ANALYZE.
        store
            .conn()
            .execute_batch("INSERT INTO t VALUES (5, 'y')")
            .unwrap();
        store.analyze().unwrap();
        assert_eq!(count(&store, "sqlite_stat4"), 0);
        assert!(count(&store, "sqlite_stat1") > 0);
    }

    #[test]
    fn a_database_from_a_newer_version_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite3");
        {
            let conn = Connection::open(&path).unwrap();
            conn.pragma_update(None, "user_version", 99).unwrap();
        }
        assert!(matches!(
            SqliteStore::open(&path),
            Err(StoreError::TooNew { found: 99, .. })
        ));
    }

    #[test]
    fn modifiers_kept_in_rows_of_their_own_move_into_their_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite3");
        {
            // A data directory from before migration 23, with a line of two modifiers
            // (stored out of order) and a line of none.
            let mut conn = Connection::open(&path).unwrap();
            let tx = conn.transaction().unwrap();
            for sql in &MIGRATIONS[..22] {
                tx.execute_batch(sql).unwrap();
            }
            tx.pragma_update(None, "user_version", 22).unwrap();
            for position in [0_i64, 1] {
                tx.execute(
                    "INSERT INTO pos_line (order_id, position, id, item_id, name, quantity,
                        unit_price, tax_rates, category_id, course, note, sent, voided, added_by)
                     VALUES (?1, ?2, ?3, X'01', 'Burger', 1, 1200, '', X'02', 1, '', 0, 0, X'03')",
                    params![&[7_u8; 16][..], position, &[position as u8; 16][..]],
                )
                .unwrap();
            }
            for (position, id, name, delta) in [
                (1_i64, 0xb_u8, "Extra \"hot\" \\ ñ 🌶", 250_i64),
                (0, 0xa, "Rare", 0),
            ] {
                let mut key = [0_u8; 16];
                key[15] = id;
                tx.execute(
                    "INSERT INTO pos_line_modifier (order_id, line_position, position, id, name,
                        price_delta) VALUES (?1, 0, ?2, ?3, ?4, ?5)",
                    params![&[7_u8; 16][..], position, &key[..], name, delta],
                )
                .unwrap();
            }
            tx.commit().unwrap();
        }
        let store = SqliteStore::open(&path).unwrap();
        let eur = mpos_domain::Currency::from_code("EUR").unwrap();
        let mut kept: Vec<Option<String>> = store
            .conn()
            .prepare("SELECT modifiers FROM pos_line ORDER BY position")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(kept.pop(), Some(None), "the second line has none");
        let first = crate::orders::modifiers_from(kept.pop().flatten(), eur).unwrap();
        let got: Vec<(u128, &str, i64)> = first
            .iter()
            .map(|m| (m.id.0, m.name.as_str(), m.price_delta.minor()))
            .collect();
        assert_eq!(got, [(0xa, "Rare", 0), (0xb, "Extra \"hot\" \\ ñ 🌶", 250)]);
        // Written back as the store writes them, they read the same.
        let again = crate::orders::modifiers_text(&first).unwrap();
        assert_eq!(crate::orders::modifiers_from(again, eur).unwrap(), first);
        assert!(crate::orders::modifiers_text(&[]).unwrap().is_none());
        for bad in ["[[\"zz\", \"x\", 1]]", "[[\"+a\", \"x\", 1]]", "[1]", "{"] {
            assert!(
                crate::orders::modifiers_from(Some(bad.into()), eur).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn open_orders_are_listed_from_their_own_index() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("db.sqlite3")).unwrap();
        let plan: Vec<String> = store
            .conn()
            .prepare(&format!(
                "EXPLAIN QUERY PLAN {}",
                crate::day::OPEN_ORDER_IDS
            ))
            .unwrap()
            .query_map([Option::<Vec<u8>>::None], |r| r.get(3))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert!(
            plan.iter().any(|p| p.contains("pos_order_open")),
            "{plan:?}"
        );
    }
}
