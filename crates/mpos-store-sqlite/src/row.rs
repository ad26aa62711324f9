//! Reading typed columns out of a row, with one error for what does not fit.

use mpos_domain::ids::LocationId;
use mpos_store::StoreError;
use rusqlite::{Connection, Row};

use crate::db;

pub(crate) fn get<T: rusqlite::types::FromSql>(row: &Row<'_>, col: &str) -> Result<T, StoreError> {
    row.get(col).map_err(db)
}

use mpos_store::columns::unsigned;
pub(crate) use mpos_store::columns::{from_id, id_bytes};

pub(crate) fn read_id(row: &Row<'_>, col: &str) -> Result<u128, StoreError> {
    from_id(&get::<Vec<u8>>(row, col)?, col)
}

pub(crate) fn read_opt_id(row: &Row<'_>, col: &str) -> Result<Option<u128>, StoreError> {
    get::<Option<Vec<u8>>>(row, col)?
        .map(|b| from_id(&b, col))
        .transpose()
}

/// A sequence number, time or count stored as SQLite's signed integer.
pub(crate) fn read_u64(row: &Row<'_>, col: &str) -> Result<u64, StoreError> {
    unsigned(get(row, col)?, col)
}

pub(crate) fn read_opt_u64(row: &Row<'_>, col: &str) -> Result<Option<u64>, StoreError> {
    get::<Option<i64>>(row, col)?
        .map(|v| unsigned(v, col))
        .transpose()
}

/// Every row `sql` lists with `params`, each read by `read`, in the query's order.
pub(crate) fn rows<T>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    mut read: impl FnMut(&Row<'_>) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut stmt = conn.prepare_cached(sql).map_err(db)?;
    let mut found = stmt.query(params).map_err(db)?;
    let mut out = Vec::new();
    while let Some(r) = found.next().map_err(db)? {
        out.push(read(r)?);
    }
    Ok(out)
}

/// A location as a query parameter: NULL for none (every location, in the lists).
pub(crate) fn location_key(location: Option<LocationId>) -> Option<[u8; 16]> {
    location.map(|l| id_bytes(l.0))
}
