//! Items 86'd and back, in the ledgers' time, and the lines flagged as sold while 86'd.

use mpos_domain::ids::{ItemId, LineId, OrderId};
use mpos_store::columns::sql_int;
use mpos_store::{AvailabilityChange, Projection, SoldWhile86d, StoreError};
use postgres::GenericClient;

use crate::sql::{Sql, get, id, u64_at};
use crate::trust::node_of;

/// Writes a batch's availability changes and its flagged and cleared lines.
pub(crate) fn save<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    projection: &Projection<'_>,
) -> Result<(), StoreError> {
    for c in &projection.availability {
        sql.execute(
            "INSERT INTO item_availability (item_id, hlc, node_id, available)
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            &[
                &&c.item.0.to_be_bytes()[..],
                &sql_int(c.hlc),
                &&c.node.0[..],
                &c.available,
            ],
        )?;
    }
    for (order, line) in &projection.cleared_86d {
        sql.execute(
            "DELETE FROM sold_while_86d WHERE order_id = $1 AND line_id = $2",
            &[&&order.0.to_be_bytes()[..], &&line.0.to_be_bytes()[..]],
        )?;
    }
    for s in &projection.sold_while_86d {
        sql.execute(
            "INSERT INTO sold_while_86d (order_id, line_id, item_id, hlc) VALUES ($1, $2, $3, $4)
             ON CONFLICT (order_id, line_id) DO UPDATE SET item_id = $3, hlc = $4",
            &[
                &&s.order.0.to_be_bytes()[..],
                &&s.line.0.to_be_bytes()[..],
                &&s.item.0.to_be_bytes()[..],
                &sql_int(s.hlc),
            ],
        )?;
    }
    Ok(())
}

pub(crate) fn changes<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    item: ItemId,
) -> Result<Vec<AvailabilityChange>, StoreError> {
    sql.query(
        "SELECT hlc, node_id, available FROM item_availability WHERE item_id = $1
         ORDER BY hlc, node_id",
        &[&&item.0.to_be_bytes()[..]],
    )?
    .iter()
    .map(|r| {
        Ok(AvailabilityChange {
            item,
            hlc: u64_at(r, "hlc")?,
            node: node_of(get(r, "node_id")?)?,
            available: get(r, "available")?,
        })
    })
    .collect()
}

pub(crate) fn flagged<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    item: ItemId,
    after: u64,
) -> Result<Vec<SoldWhile86d>, StoreError> {
    sql.query(
        "SELECT order_id, line_id, hlc FROM sold_while_86d WHERE item_id = $1 AND hlc > $2
         ORDER BY hlc",
        &[&&item.0.to_be_bytes()[..], &sql_int(after)],
    )?
    .iter()
    .map(|r| {
        Ok(SoldWhile86d {
            order: OrderId(id(r, "order_id")?),
            line: LineId(id(r, "line_id")?),
            item,
            hlc: u64_at(r, "hlc")?,
        })
    })
    .collect()
}
