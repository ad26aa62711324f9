//! The physical baseline for ledger benchmarks: the same rows inserted into a plain SQLite
//! table with the same durability settings, without hashing or signing. `mpos bench
//! ledger --baseline` compares the ledger's append rate against it.

use std::path::Path;
use std::time::{Duration, Instant};

use mpos_store::StoreError;
use rusqlite::{Connection, params};

use crate::db;

/// Inserts `rows` rows of `row_bytes` bytes (plus a 32-byte hash and a 16-byte key) in
/// transactions of `batch` rows, each committed with a full sync. Returns the time taken.
pub fn raw_insert(
    path: &Path,
    rows: u64,
    batch: u64,
    row_bytes: usize,
) -> Result<Duration, StoreError> {
    let mut conn = Connection::open(path).map_err(db)?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(db)?;
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(db)?;
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS raw (node_id BLOB NOT NULL, seq INTEGER NOT NULL,
         hash BLOB NOT NULL, bytes BLOB NOT NULL, PRIMARY KEY (node_id, seq))",
    )
    .map_err(db)?;
    let node = [7u8; 16];
    let hash = [9u8; 32];
    let bytes = vec![0x5au8; row_bytes];
    let started = Instant::now();
    let mut seq = 0i64;
    let total = i64::try_from(rows).unwrap_or(i64::MAX);
    while seq < total {
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(db)?;
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO raw (node_id, seq, hash, bytes) VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(db)?;
            for _ in 0..batch {
                if seq >= total {
                    break;
                }
                seq += 1;
                insert
                    .execute(params![&node[..], seq, &hash[..], &bytes])
                    .map_err(db)?;
            }
        }
        tx.commit().map_err(db)?;
    }
    Ok(started.elapsed())
}
