//! Drawer sessions and closed business days: their projection rows, and the ledger range
//! reads the reports fold over.

use mpos_domain::day::DayClosed;
use mpos_domain::drawer::{Drawer, DrawerCount};
use mpos_domain::ids::{DrawerId, LocationId, StaffId};
use mpos_domain::{Currency, Money};
use mpos_ledger::NodeId;
use mpos_store::columns::id_bytes;
use mpos_store::{ClosedDay, StoreError};
use postgres::{GenericClient, Row};

use crate::sql::{Sql, big, get, id, location_key, opt_id, u32_at, u64_at};
use crate::{corrupt, sql_int};

pub(crate) fn save_drawer<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    d: &Drawer,
) -> Result<(), StoreError> {
    let closed = d.closed.as_ref();
    sql.execute(
        "INSERT INTO drawer (id, name, currency, float, cash_sales, cash_refunds, paid_in,
            paid_out, opened_by, opened_at, counted, expected, closed_by, closed_at, location)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
         ON CONFLICT (id) DO UPDATE SET cash_sales = excluded.cash_sales,
            cash_refunds = excluded.cash_refunds, paid_in = excluded.paid_in,
            paid_out = excluded.paid_out, counted = excluded.counted,
            expected = excluded.expected, closed_by = excluded.closed_by,
            closed_at = excluded.closed_at",
        &[
            &&id_bytes(d.id.0)[..],
            &d.name,
            &d.currency().code(),
            &d.float.minor(),
            &d.cash_sales.minor(),
            &d.cash_refunds.minor(),
            &d.paid_in.minor(),
            &d.paid_out.minor(),
            &&id_bytes(d.opened_by.0)[..],
            &sql_int(d.opened_at),
            &closed.map(|c| c.counted.minor()),
            &closed.map(|c| c.expected.minor()),
            &closed.map(|c| id_bytes(c.by.0).to_vec()),
            &closed.map(|c| sql_int(c.at)),
            &location_key(d.location),
        ],
    )?;
    Ok(())
}

const DRAWER_COLUMNS: &str = "id, name, currency, float, cash_sales, cash_refunds, paid_in, \
    paid_out, opened_by, opened_at, counted, expected, closed_by, closed_at, location";

fn drawer_row(r: &Row) -> Result<Drawer, StoreError> {
    let currency = Currency::from_code(get(r, "currency")?).map_err(corrupt)?;
    let money = |m: i64| Money::new(m, currency);
    let closed = match get::<Option<i64>>(r, "counted")? {
        Some(counted) => Some(DrawerCount {
            counted: money(counted),
            expected: money(
                get::<Option<i64>>(r, "expected")?
                    .ok_or_else(|| corrupt("a counted drawer has no expected cash"))?,
            ),
            by: StaffId(id(r, "closed_by")?),
            at: u64_at(r, "closed_at")?,
        }),
        None => None,
    };
    Ok(Drawer {
        id: DrawerId(id(r, "id")?),
        name: get(r, "name")?,
        location: opt_id(r, "location")?.map(LocationId),
        float: money(get(r, "float")?),
        cash_sales: money(get(r, "cash_sales")?),
        cash_refunds: money(get(r, "cash_refunds")?),
        paid_in: money(get(r, "paid_in")?),
        paid_out: money(get(r, "paid_out")?),
        opened_by: StaffId(id(r, "opened_by")?),
        opened_at: u64_at(r, "opened_at")?,
        closed,
    })
}

pub(crate) fn drawer<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    did: DrawerId,
) -> Result<Option<Drawer>, StoreError> {
    sql.query_opt(
        &format!("SELECT {DRAWER_COLUMNS} FROM drawer WHERE id = $1"),
        &[&&id_bytes(did.0)[..]],
    )?
    .as_ref()
    .map(drawer_row)
    .transpose()
}

pub(crate) fn open_drawers<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    location: Option<LocationId>,
) -> Result<Vec<Drawer>, StoreError> {
    sql.query(
        &format!(
            "SELECT {DRAWER_COLUMNS} FROM drawer WHERE closed_at IS NULL
               AND ($1::BYTEA IS NULL OR location = $1::BYTEA) ORDER BY opened_at, id"
        ),
        &[&location_key(location)],
    )?
    .iter()
    .map(drawer_row)
    .collect()
}

pub(crate) fn recent_drawers<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    location: Option<LocationId>,
    limit: usize,
) -> Result<Vec<Drawer>, StoreError> {
    sql.query(
        &format!(
            "SELECT {DRAWER_COLUMNS} FROM drawer WHERE ($2::BYTEA IS NULL OR location = $2::BYTEA)
             ORDER BY opened_at DESC, id LIMIT $1"
        ),
        &[&big(limit), &location_key(location)],
    )?
    .iter()
    .map(drawer_row)
    .collect()
}

pub(crate) fn save_day<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    d: &ClosedDay,
) -> Result<(), StoreError> {
    let s = &d.summary;
    sql.execute(
        "INSERT INTO business_day (node_id, day, from_seq, to_seq, close_seq, closed_by,
            closed_at, currency, orders, sales, tax, tips, refunded, cash_variance,
            open_orders, open_orders_due)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        &[
            &&d.node.0[..],
            &i64::from(s.day),
            &sql_int(s.from_seq),
            &sql_int(s.to_seq),
            &sql_int(d.close_seq),
            &&id_bytes(s.by.0)[..],
            &sql_int(s.at),
            &s.sales.currency().code(),
            &i64::from(s.orders),
            &s.sales.minor(),
            &s.tax.minor(),
            &s.tips.minor(),
            &s.refunded.minor(),
            &s.cash_variance.minor(),
            &i64::from(s.open_orders),
            &s.open_orders_due.minor(),
        ],
    )
    .map_err(|e| match e {
        StoreError::Conflict(_) => {
            StoreError::Conflict(format!("business day {} was already closed", s.day))
        }
        e => e,
    })?;
    Ok(())
}

pub(crate) fn closed_day<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    node: NodeId,
    day: Option<u32>,
) -> Result<Option<ClosedDay>, StoreError> {
    let Some(r) = sql.query_opt(
        "SELECT * FROM business_day WHERE node_id = $1 AND ($2::BIGINT IS NULL OR day = $2)
         ORDER BY day DESC LIMIT 1",
        &[&&node.0[..], &day.map(i64::from)],
    )?
    else {
        return Ok(None);
    };
    let currency = Currency::from_code(get(&r, "currency")?).map_err(corrupt)?;
    let money = |m: i64| Money::new(m, currency);
    Ok(Some(ClosedDay {
        node,
        close_seq: u64_at(&r, "close_seq")?,
        summary: DayClosed {
            by: StaffId(id(&r, "closed_by")?),
            at: u64_at(&r, "closed_at")?,
            day: u32_at(&r, "day")?,
            from_seq: u64_at(&r, "from_seq")?,
            to_seq: u64_at(&r, "to_seq")?,
            orders: u32_at(&r, "orders")?,
            sales: money(get(&r, "sales")?),
            tax: money(get(&r, "tax")?),
            tips: money(get(&r, "tips")?),
            refunded: money(get(&r, "refunded")?),
            cash_variance: money(get(&r, "cash_variance")?),
            open_orders: u32_at(&r, "open_orders")?,
            open_orders_due: money(get(&r, "open_orders_due")?),
        },
    }))
}
