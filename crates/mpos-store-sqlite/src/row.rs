//! Reading typed columns out of a row, with one error for what does not fit.

use mpos_store::StoreError;
use rusqlite::Row;

use crate::{corrupt, db};

pub(crate) fn get<T: rusqlite::types::FromSql>(row: &Row<'_>, col: &str) -> Result<T, StoreError> {
    row.get(col).map_err(db)
}

/// How an id is stored: 16 bytes, big-endian (so ids made in time order sort in order).
pub(crate) fn id_bytes(v: u128) -> [u8; 16] {
    v.to_be_bytes()
}

/// A stored 16-byte id; `what` names it in the error.
pub(crate) fn from_id(b: &[u8], what: &str) -> Result<u128, StoreError> {
    <[u8; 16]>::try_from(b)
        .map(u128::from_be_bytes)
        .map_err(|_| corrupt(format!("{what} is not a 16-byte id")))
}

pub(crate) fn read_id(row: &Row<'_>, col: &str) -> Result<u128, StoreError> {
    from_id(&get::<Vec<u8>>(row, col)?, col)
}

pub(crate) fn read_opt_id(row: &Row<'_>, col: &str) -> Result<Option<u128>, StoreError> {
    get::<Option<Vec<u8>>>(row, col)?
        .map(|b| from_id(&b, col))
        .transpose()
}

fn unsigned(col: &str, v: i64) -> Result<u64, StoreError> {
    u64::try_from(v).map_err(|_| corrupt(format!("{col} is negative")))
}

/// A sequence number, time or count stored as SQLite's signed integer.
pub(crate) fn read_u64(row: &Row<'_>, col: &str) -> Result<u64, StoreError> {
    unsigned(col, get(row, col)?)
}

pub(crate) fn read_opt_u64(row: &Row<'_>, col: &str) -> Result<Option<u64>, StoreError> {
    get::<Option<i64>>(row, col)?
        .map(|v| unsigned(col, v))
        .transpose()
}
