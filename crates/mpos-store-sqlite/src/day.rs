//! Drawer sessions and closed business days: their projection rows, and the ledger range
//! reads the reports fold over.

use mpos_domain::day::DayClosed;
use mpos_domain::drawer::{Drawer, DrawerCount};
use mpos_domain::ids::{DrawerId, LocationId, StaffId};
use mpos_domain::{Currency, Money};
use mpos_ledger::NodeId;
use mpos_store::{ClosedDay, StoreError};
use rusqlite::{Connection, Row, Transaction, params};

use crate::row::{get, location_key, read_id, read_opt_id, read_u64, rows};
use crate::{corrupt, db, sql_int};

pub(crate) fn save_drawer(tx: &Transaction<'_>, d: &Drawer) -> Result<(), StoreError> {
    let closed = d.closed.as_ref();
    tx.prepare_cached(
        "INSERT INTO drawer (id, name, currency, float, cash_sales, cash_refunds, paid_in,
            paid_out, opened_by, opened_at, counted, expected, closed_by, closed_at, location)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
         ON CONFLICT (id) DO UPDATE SET cash_sales = excluded.cash_sales,
            cash_refunds = excluded.cash_refunds, paid_in = excluded.paid_in,
            paid_out = excluded.paid_out, counted = excluded.counted,
            expected = excluded.expected, closed_by = excluded.closed_by,
            closed_at = excluded.closed_at",
    )
    .map_err(db)?
    .execute(params![
        &d.id.0.to_be_bytes()[..],
        d.name,
        d.currency().code(),
        d.float.minor(),
        d.cash_sales.minor(),
        d.cash_refunds.minor(),
        d.paid_in.minor(),
        d.paid_out.minor(),
        &d.opened_by.0.to_be_bytes()[..],
        sql_int(d.opened_at),
        closed.map(|c| c.counted.minor()),
        closed.map(|c| c.expected.minor()),
        closed.map(|c| c.by.0.to_be_bytes().to_vec()),
        closed.map(|c| sql_int(c.at)),
        location_key(d.location),
    ])
    .map_err(db)?;
    Ok(())
}

const DRAWER_COLUMNS: &str = "id, name, currency, float, cash_sales, cash_refunds, paid_in, \
    paid_out, opened_by, opened_at, counted, expected, closed_by, closed_at, location";

fn drawer_row(r: &Row<'_>) -> Result<Drawer, StoreError> {
    let currency = Currency::from_code(&get::<String>(r, "currency")?).map_err(corrupt)?;
    let money = |m: i64| Money::new(m, currency);
    let closed = match get::<Option<i64>>(r, "counted")? {
        Some(counted) => Some(DrawerCount {
            counted: money(counted),
            expected: money(
                get::<Option<i64>>(r, "expected")?
                    .ok_or_else(|| corrupt("a counted drawer has no expected cash"))?,
            ),
            by: StaffId(read_id(r, "closed_by")?),
            at: read_u64(r, "closed_at")?,
        }),
        None => None,
    };
    Ok(Drawer {
        id: DrawerId(read_id(r, "id")?),
        name: get(r, "name")?,
        location: read_opt_id(r, "location")?.map(LocationId),
        float: money(get(r, "float")?),
        cash_sales: money(get(r, "cash_sales")?),
        cash_refunds: money(get(r, "cash_refunds")?),
        paid_in: money(get(r, "paid_in")?),
        paid_out: money(get(r, "paid_out")?),
        opened_by: StaffId(read_id(r, "opened_by")?),
        opened_at: read_u64(r, "opened_at")?,
        closed,
    })
}

fn drawers(
    conn: &Connection,
    sql: &str,
    args: impl rusqlite::Params,
) -> Result<Vec<Drawer>, StoreError> {
    rows(conn, sql, args, drawer_row)
}

pub(crate) fn drawer(conn: &Connection, id: DrawerId) -> Result<Option<Drawer>, StoreError> {
    let sql = format!("SELECT {DRAWER_COLUMNS} FROM drawer WHERE id = ?1");
    Ok(drawers(conn, &sql, params![&id.0.to_be_bytes()[..]])?.pop())
}

pub(crate) fn open_drawers(
    conn: &Connection,
    location: Option<LocationId>,
) -> Result<Vec<Drawer>, StoreError> {
    let sql = format!(
        "SELECT {DRAWER_COLUMNS} FROM drawer WHERE closed_at IS NULL
         AND (?1 IS NULL OR location = ?1) ORDER BY opened_at, id"
    );
    drawers(conn, &sql, params![location_key(location)])
}

pub(crate) fn recent_drawers(
    conn: &Connection,
    location: Option<LocationId>,
    limit: usize,
) -> Result<Vec<Drawer>, StoreError> {
    let sql = format!(
        "SELECT {DRAWER_COLUMNS} FROM drawer WHERE (?2 IS NULL OR location = ?2)
         ORDER BY opened_at DESC, id LIMIT ?1"
    );
    drawers(
        conn,
        &sql,
        params![
            i64::try_from(limit).unwrap_or(i64::MAX),
            location_key(location)
        ],
    )
}

pub(crate) fn save_day(tx: &Transaction<'_>, d: &ClosedDay) -> Result<(), StoreError> {
    let s = &d.summary;
    tx.prepare_cached(
        "INSERT INTO business_day (node_id, day, from_seq, to_seq, close_seq, closed_by,
            closed_at, currency, orders, sales, tax, tips, refunded, cash_variance,
            open_orders, open_orders_due)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
    )
    .map_err(db)?
    .execute(params![
        &d.node.0[..],
        s.day,
        sql_int(s.from_seq),
        sql_int(s.to_seq),
        sql_int(d.close_seq),
        &s.by.0.to_be_bytes()[..],
        sql_int(s.at),
        s.sales.currency().code(),
        s.orders,
        s.sales.minor(),
        s.tax.minor(),
        s.tips.minor(),
        s.refunded.minor(),
        s.cash_variance.minor(),
        s.open_orders,
        s.open_orders_due.minor(),
    ])
    .map_err(|e| match e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            StoreError::Conflict(format!("business day {} was already closed", s.day))
        }
        e => db(e),
    })?;
    Ok(())
}

fn day_row(node: NodeId, r: &Row<'_>) -> Result<ClosedDay, StoreError> {
    let currency = Currency::from_code(&get::<String>(r, "currency")?).map_err(corrupt)?;
    let money = |m: i64| Money::new(m, currency);
    Ok(ClosedDay {
        node,
        close_seq: read_u64(r, "close_seq")?,
        summary: DayClosed {
            by: StaffId(read_id(r, "closed_by")?),
            at: read_u64(r, "closed_at")?,
            day: get(r, "day")?,
            from_seq: read_u64(r, "from_seq")?,
            to_seq: read_u64(r, "to_seq")?,
            orders: get(r, "orders")?,
            sales: money(get(r, "sales")?),
            tax: money(get(r, "tax")?),
            tips: money(get(r, "tips")?),
            refunded: money(get(r, "refunded")?),
            cash_variance: money(get(r, "cash_variance")?),
            open_orders: get(r, "open_orders")?,
            open_orders_due: money(get(r, "open_orders_due")?),
        },
    })
}

pub(crate) fn closed_day(
    conn: &Connection,
    node: NodeId,
    day: Option<u32>,
) -> Result<Option<ClosedDay>, StoreError> {
    let sql = "SELECT * FROM business_day WHERE node_id = ?1 AND (?2 IS NULL OR day = ?2)
               ORDER BY day DESC LIMIT 1";
    let mut stmt = conn.prepare_cached(sql).map_err(db)?;
    let mut rows = stmt.query(params![&node.0[..], day]).map_err(db)?;
    match rows.next().map_err(db)? {
        Some(r) => Ok(Some(day_row(node, r)?)),
        None => Ok(None),
    }
}

pub(crate) fn visit_entries(
    conn: &Connection,
    node: NodeId,
    from: u64,
    to: u64,
    visit: &mut dyn FnMut(&[u8]) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT bytes FROM ledger_entry WHERE node_id = ?1 AND seq >= ?2 AND seq <= ?3
             ORDER BY seq",
        )
        .map_err(db)?;
    let mut rows = stmt
        .query(params![&node.0[..], sql_int(from), sql_int(to)])
        .map_err(db)?;
    while let Some(r) = rows.next().map_err(db)? {
        let bytes = r.get_ref(0).map_err(db)?.as_blob().map_err(db_type)?;
        visit(bytes)?;
    }
    Ok(())
}

fn db_type(e: rusqlite::types::FromSqlError) -> StoreError {
    corrupt(format!("a ledger entry is not a blob: {e}"))
}

/// The open orders, at a location or all; read from the partial index of open orders.
pub(crate) const OPEN_ORDER_IDS: &str =
    "SELECT id FROM pos_order WHERE status = 'open' AND (?1 IS NULL OR location = ?1)
     ORDER BY opened_at, id";

pub(crate) fn open_order_ids(
    conn: &Connection,
    location: Option<LocationId>,
) -> Result<Vec<u128>, StoreError> {
    rows(conn, OPEN_ORDER_IDS, params![location_key(location)], |r| {
        read_id(r, "id")
    })
}
