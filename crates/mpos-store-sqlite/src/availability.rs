//! Items 86'd and back, in the ledgers' time, and the lines flagged as sold while 86'd.

use mpos_domain::ids::{ItemId, LineId, OrderId};
use mpos_store::{AvailabilityChange, Projection, SoldWhile86d, StoreError};
use rusqlite::{Connection, Transaction, params};

use crate::row::{get, id_bytes, read_id, read_u64, rows};
use crate::trust::node_of;
use crate::{db, sql_int};

/// Writes a batch's availability changes and its flagged and cleared lines.
pub(crate) fn save(tx: &Transaction<'_>, projection: &Projection<'_>) -> Result<(), StoreError> {
    for c in &projection.availability {
        tx.prepare_cached(
            "INSERT OR IGNORE INTO item_availability (item_id, hlc, node_id, available)
             VALUES (?1, ?2, ?3, ?4)",
        )
        .map_err(db)?
        .execute(params![
            &id_bytes(c.item.0)[..],
            sql_int(c.hlc),
            &c.node.0[..],
            c.available
        ])
        .map_err(db)?;
    }
    for (order, line) in &projection.cleared_86d {
        tx.prepare_cached("DELETE FROM sold_while_86d WHERE order_id = ?1 AND line_id = ?2")
            .map_err(db)?
            .execute(params![&id_bytes(order.0)[..], &id_bytes(line.0)[..]])
            .map_err(db)?;
    }
    for s in &projection.sold_while_86d {
        tx.prepare_cached(
            "INSERT OR REPLACE INTO sold_while_86d (order_id, line_id, item_id, hlc)
             VALUES (?1, ?2, ?3, ?4)",
        )
        .map_err(db)?
        .execute(params![
            &id_bytes(s.order.0)[..],
            &id_bytes(s.line.0)[..],
            &id_bytes(s.item.0)[..],
            sql_int(s.hlc)
        ])
        .map_err(db)?;
    }
    Ok(())
}

pub(crate) fn changes(
    conn: &Connection,
    item: ItemId,
) -> Result<Vec<AvailabilityChange>, StoreError> {
    rows(
        conn,
        "SELECT hlc, node_id, available FROM item_availability WHERE item_id = ?1
         ORDER BY hlc, node_id",
        [&id_bytes(item.0)[..]],
        |r| {
            Ok(AvailabilityChange {
                item,
                hlc: read_u64(r, "hlc")?,
                node: node_of(get(r, "node_id")?)?,
                available: get(r, "available")?,
            })
        },
    )
}

pub(crate) fn flagged(
    conn: &Connection,
    item: ItemId,
    after: u64,
) -> Result<Vec<SoldWhile86d>, StoreError> {
    rows(
        conn,
        "SELECT order_id, line_id, hlc FROM sold_while_86d WHERE item_id = ?1 AND hlc > ?2
         ORDER BY hlc",
        params![&id_bytes(item.0)[..], sql_int(after)],
        |r| {
            Ok(SoldWhile86d {
                order: OrderId(read_id(r, "order_id")?),
                line: LineId(read_id(r, "line_id")?),
                item,
                hlc: read_u64(r, "hlc")?,
            })
        },
    )
}
