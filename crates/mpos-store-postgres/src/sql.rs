//! Running statements: each SQL text is prepared once per connection and reused (a
//! statement sent as text costs PostgreSQL a parse and the node a round trip every time),
//! and typed reads of row columns with one error for what does not fit.

use std::cell::RefCell;
use std::collections::HashMap;

use mpos_domain::ids::LocationId;
use mpos_store::StoreError;
use mpos_store::columns::{corrupt, from_id, id_bytes, unsigned};
use postgres::types::{FromSql, ToSql};
use postgres::{GenericClient, Row, Statement};

use crate::db;

/// Statements prepared on one connection, by their SQL text.
pub(crate) type Statements = RefCell<HashMap<String, Statement>>;

pub(crate) type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// A connection or a transaction on it, with the connection's prepared statements.
pub(crate) struct Sql<'a, C: GenericClient> {
    pub(crate) client: &'a mut C,
    pub(crate) statements: &'a Statements,
}

impl<C: GenericClient> Sql<'_, C> {
    fn statement(&mut self, sql: &str) -> Result<Statement, StoreError> {
        if let Some(s) = self.statements.borrow().get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(sql).map_err(db)?;
        self.statements
            .borrow_mut()
            .insert(sql.to_string(), s.clone());
        Ok(s)
    }

    pub(crate) fn execute(&mut self, sql: &str, params: Params<'_>) -> Result<u64, StoreError> {
        let s = self.statement(sql)?;
        self.client.execute(&s, params).map_err(db)
    }

    pub(crate) fn query(&mut self, sql: &str, params: Params<'_>) -> Result<Vec<Row>, StoreError> {
        let s = self.statement(sql)?;
        self.client.query(&s, params).map_err(db)
    }

    pub(crate) fn query_opt(
        &mut self,
        sql: &str,
        params: Params<'_>,
    ) -> Result<Option<Row>, StoreError> {
        let s = self.statement(sql)?;
        self.client.query_opt(&s, params).map_err(db)
    }

    pub(crate) fn query_one(&mut self, sql: &str, params: Params<'_>) -> Result<Row, StoreError> {
        let s = self.statement(sql)?;
        self.client.query_one(&s, params).map_err(db)
    }
}

pub(crate) fn get<'a, T: FromSql<'a>>(row: &'a Row, col: &str) -> Result<T, StoreError> {
    row.try_get(col)
        .map_err(|e| corrupt(format!("column {col}: {e}")))
}

pub(crate) fn id(row: &Row, col: &str) -> Result<u128, StoreError> {
    from_id(get::<&[u8]>(row, col)?, col)
}

pub(crate) fn opt_id(row: &Row, col: &str) -> Result<Option<u128>, StoreError> {
    get::<Option<&[u8]>>(row, col)?
        .map(|b| from_id(b, col))
        .transpose()
}

pub(crate) fn u64_at(row: &Row, col: &str) -> Result<u64, StoreError> {
    unsigned(get(row, col)?, col)
}

pub(crate) fn opt_u64_at(row: &Row, col: &str) -> Result<Option<u64>, StoreError> {
    get::<Option<i64>>(row, col)?
        .map(|v| unsigned(v, col))
        .transpose()
}

pub(crate) fn u32_at(row: &Row, col: &str) -> Result<u32, StoreError> {
    let v: i64 = get(row, col)?;
    u32::try_from(v).map_err(|_| corrupt(format!("column {col}: {v} is out of range")))
}

pub(crate) fn opt_u32_at(row: &Row, col: &str) -> Result<Option<u32>, StoreError> {
    get::<Option<i64>>(row, col)?
        .map(|v| {
            u32::try_from(v).map_err(|_| corrupt(format!("column {col}: {v} is out of range")))
        })
        .transpose()
}

/// A count or position as a BIGINT parameter.
pub(crate) fn big(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A location as a query parameter: NULL for none (every location, in the lists).
pub(crate) fn location_key(location: Option<LocationId>) -> Option<Vec<u8>> {
    location.map(|l| id_bytes(l.0).to_vec())
}

/// Ids as a `BYTEA[]` parameter, for `= ANY($n)` and `UNNEST`.
pub(crate) fn keys(ids: impl IntoIterator<Item = u128>) -> Vec<Vec<u8>> {
    ids.into_iter().map(|i| id_bytes(i).to_vec()).collect()
}
