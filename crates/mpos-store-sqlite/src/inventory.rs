//! Inventory projections: stock items, suppliers, par levels, recipes, levels with their
//! value and history of deltas, transfers and purchase orders. Levels change only through
//! the domain's `levels_after`, so the store and the in-memory books agree.

use mpos_domain::ids::{LocationId, OrderId, PurchaseOrderId, StockItemId, SupplierId, TransferId};
use mpos_domain::inventory::sale::Taken;
use mpos_domain::inventory::{
    Arrival, Ingredient, InventoryChange, InventoryEvent, Location, Movement, PurchaseLine,
    PurchaseOrder, Quantity, Recipe, RecipeFor, SalesStock, StockItem, StockValue, Supplier,
    Transfer, TransferLine, deltas, levels_after,
};
use mpos_domain::{Currency, Money};
use mpos_ledger::NodeId;
use mpos_store::{InventoryStore, StoreError};
use mpos_store::{ReportLevel, StockUsage};
use rusqlite::{Connection, OptionalExtension, Row, Transaction, params};

use mpos_store::columns::{
    depletion_from, dimension_from, movement_kind, recipe_key, recipe_target, recipes_from,
    unit_from, usage_deltas,
};

use crate::row::{from_id, get, id_bytes, read_id, rows};
use crate::{SqliteStore, corrupt, db, sql_int};

fn quantity(row: &Row<'_>, dimension: &str, milli: &str) -> Result<Quantity, StoreError> {
    Ok(Quantity {
        dimension: dimension_from(&get::<String>(row, dimension)?)?,
        milli: get(row, milli)?,
    })
}

fn money(row: &Row<'_>, amount: &str) -> Result<Money, StoreError> {
    let currency = Currency::from_code(&get::<String>(row, "currency")?).map_err(corrupt)?;
    Ok(Money::new(get(row, amount)?, currency))
}

fn level(
    conn: &Connection,
    location: LocationId,
    item: StockItemId,
) -> Result<StockValue, StoreError> {
    Ok(conn
        .prepare_cached("SELECT milli, value FROM stock_level WHERE location = ?1 AND item = ?2")
        .map_err(db)?
        .query_row(
            params![&id_bytes(location.0)[..], &id_bytes(item.0)[..]],
            |r| {
                Ok(StockValue {
                    milli: r.get(0)?,
                    value: r.get(1)?,
                })
            },
        )
        .optional()
        .map_err(db)?
        .unwrap_or_default())
}

fn transfer(conn: &Connection, id: TransferId) -> Result<Option<Transfer>, StoreError> {
    let head = conn
        .prepare_cached(
            "SELECT from_location, to_location, received FROM stock_transfer WHERE id = ?1",
        )
        .map_err(db)?
        .query_row([&id_bytes(id.0)[..]], |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get::<_, bool>(2)?,
            ))
        })
        .optional()
        .map_err(db)?;
    let Some((from, to, received)) = head else {
        return Ok(None);
    };
    let sent = rows(
        conn,
        "SELECT * FROM stock_transfer_line WHERE transfer = ?1 ORDER BY position",
        [&id_bytes(id.0)[..]],
        |r| {
            Ok(TransferLine {
                item: StockItemId(read_id(r, "item")?),
                quantity: quantity(r, "dimension", "milli")?,
                value: money(r, "value")?,
            })
        },
    )?;
    let received = if received {
        Some(rows(
            conn,
            "SELECT * FROM stock_transfer_received WHERE transfer = ?1 ORDER BY position",
            [&id_bytes(id.0)[..]],
            |r| {
                Ok((
                    StockItemId(read_id(r, "item")?),
                    quantity(r, "dimension", "milli")?,
                ))
            },
        )?)
    } else {
        None
    };
    Ok(Some(Transfer {
        id,
        from: LocationId(from_id(&from, "transfer's from")?),
        to: LocationId(from_id(&to, "transfer's to")?),
        sent,
        received,
    }))
}

/// An arrival recorded at `at` as stored (`table`: the early arrivals' lines or the
/// received lines), with its values when every line has one.
fn arrival_lines(
    conn: &Connection,
    table: &str,
    transfer: TransferId,
    at: i64,
) -> Result<Arrival, StoreError> {
    let lines = rows(
        conn,
        &format!("SELECT * FROM {table} WHERE transfer = ?1 ORDER BY position"),
        [&id_bytes(transfer.0)[..]],
        |r| {
            Ok((
                (
                    StockItemId(read_id(r, "item")?),
                    quantity(r, "dimension", "milli")?,
                ),
                get::<Option<i64>>(r, "value")?,
            ))
        },
    )?;
    let (lines, values): (Vec<_>, Vec<Option<i64>>) = lines.into_iter().unzip();
    let values = values.into_iter().collect::<Option<Vec<i64>>>();
    Ok(Arrival {
        at: u64::try_from(at).unwrap_or_default(),
        lines,
        values: values.unwrap_or_default(),
    })
}

/// Keeps the arrival of a transfer this node has not heard was sent (another node
/// recorded the sending, and its ledger has not come yet): the sending brings it in. Of
/// two kept apart, the one that stands stays ([`Arrival::replaces`]).
fn keep_early_arrival(
    tx: &Transaction<'_>,
    transfer: TransferId,
    heard: &Arrival,
) -> Result<(), StoreError> {
    let key = id_bytes(transfer.0);
    let mut disputed = None;
    if let Some((standing, was_disputed)) = early_arrival(tx, transfer)? {
        disputed = was_disputed.max(heard.disputed_at(&standing));
        if !heard.replaces(&standing) {
            tracing::warn!(%transfer, disputed = disputed.is_some(), "a second arrival of a transfer, recorded apart: the first recorded stands");
            tx.prepare_cached(
                "UPDATE stock_transfer_early SET disputed_at = ?2 WHERE transfer = ?1",
            )
            .map_err(db)?
            .execute(params![&key[..], disputed.map(sql_int)])
            .map_err(db)?;
            return Ok(());
        }
        tracing::warn!(%transfer, disputed = disputed.is_some(), "a second arrival of a transfer, recorded apart and earlier: it stands");
        forget_early_arrival(tx, transfer)?;
    }
    tx.prepare_cached(
        "INSERT INTO stock_transfer_early (transfer, at, valued, disputed_at)
         VALUES (?1, ?2, ?3, ?4)",
    )
    .map_err(db)?
    .execute(params![
        &key[..],
        sql_int(heard.at),
        heard.valued(),
        disputed.map(sql_int)
    ])
    .map_err(db)?;
    for (n, (item, q)) in heard.lines.iter().enumerate() {
        tx.prepare_cached(
            "INSERT INTO stock_transfer_early_line (transfer, position, item, dimension, milli,
                value) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .map_err(db)?
        .execute(params![
            &key[..],
            n as i64,
            &id_bytes(item.0)[..],
            q.dimension.name(),
            q.milli,
            heard
                .values
                .get(n)
                .copied()
                .filter(|_| heard.valued())
                .unwrap_or(0)
        ])
        .map_err(db)?;
    }
    Ok(())
}

/// The arrival kept for `transfer`, if one came before its sending, and since when
/// another recorded apart disputes it. Taken: it is applied now.
fn take_early_arrival(
    tx: &Transaction<'_>,
    transfer: TransferId,
) -> Result<Option<(Arrival, Option<u64>)>, StoreError> {
    let kept = early_arrival(tx, transfer)?;
    if kept.is_some() {
        forget_early_arrival(tx, transfer)?;
    }
    Ok(kept)
}

/// Removes the arrival kept for `transfer` before its sending came.
fn forget_early_arrival(tx: &Transaction<'_>, transfer: TransferId) -> Result<(), StoreError> {
    let key = id_bytes(transfer.0);
    for delete in [
        "DELETE FROM stock_transfer_early WHERE transfer = ?1",
        "DELETE FROM stock_transfer_early_line WHERE transfer = ?1",
    ] {
        tx.prepare_cached(delete)
            .map_err(db)?
            .execute([&key[..]])
            .map_err(db)?;
    }
    Ok(())
}

/// The arrival kept for `transfer` before its sending came, and since when another
/// recorded apart disputes it.
fn early_arrival(
    conn: &Connection,
    transfer: TransferId,
) -> Result<Option<(Arrival, Option<u64>)>, StoreError> {
    let head = conn
        .prepare_cached(
            "SELECT at, valued, disputed_at FROM stock_transfer_early WHERE transfer = ?1",
        )
        .map_err(db)?
        .query_row([&id_bytes(transfer.0)[..]], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, bool>(1)?,
                r.get::<_, Option<i64>>(2)?,
            ))
        })
        .optional()
        .map_err(db)?;
    let Some((at, valued, disputed)) = head else {
        return Ok(None);
    };
    let mut arrival = arrival_lines(conn, "stock_transfer_early_line", transfer, at)?;
    if !valued {
        arrival.values.clear();
    }
    Ok(Some((
        arrival,
        disputed.map(|d| u64::try_from(d).unwrap_or_default()),
    )))
}

/// The arrival standing for a received transfer: `None` for one received before arrivals
/// were kept with their time (it stands, whatever comes).
fn standing_arrival(
    conn: &Connection,
    transfer: TransferId,
) -> Result<Option<Arrival>, StoreError> {
    let at: Option<i64> = conn
        .prepare_cached("SELECT arrived_at FROM stock_transfer WHERE id = ?1")
        .map_err(db)?
        .query_row([&id_bytes(transfer.0)[..]], |r| r.get(0))
        .optional()
        .map_err(db)?
        .flatten();
    let Some(at) = at else {
        return Ok(None);
    };
    Ok(Some(arrival_lines(
        conn,
        "stock_transfer_received",
        transfer,
        at,
    )?))
}

/// Marks a transfer as received differently by two registers apart, the later of them
/// recorded at `at` (the latest such time is kept, whatever order they came in).
fn dispute(tx: &Transaction<'_>, transfer: TransferId, at: u64) -> Result<(), StoreError> {
    tx.prepare_cached(
        "UPDATE stock_transfer SET disputed_at = max(coalesce(disputed_at, ?2), ?2)
         WHERE id = ?1",
    )
    .map_err(db)?
    .execute(params![&id_bytes(transfer.0)[..], sql_int(at)])
    .map_err(db)?;
    Ok(())
}

/// Takes a standing arrival back: its levels out of `to` again, its history cancelled,
/// its lines gone, the transfer in transit again until the arrival that
/// replaces it is applied.
fn take_back_arrival(
    tx: &Transaction<'_>,
    transfer: TransferId,
    to: LocationId,
    standing: &Arrival,
) -> Result<(), StoreError> {
    let conn: &Connection = tx;
    for (location, item, out) in standing.taken_back(to) {
        let now = level(conn, location, item)?;
        tx.prepare_cached(
            "UPDATE stock_level SET milli = ?3, value = ?4 WHERE location = ?1 AND item = ?2",
        )
        .map_err(db)?
        .execute(params![
            &id_bytes(location.0)[..],
            &id_bytes(item.0)[..],
            now.milli.saturating_add(out.milli),
            now.value.saturating_add(out.value)
        ])
        .map_err(db)?;
        // The history is read as sums: the arrival's own rows stay, and rows of the
        // same kind and time cancel them in any window that holds them.
        tx.prepare_cached(
            "INSERT INTO stock_delta (location, item, kind, milli, value, at)
             VALUES (?1, ?2, 'transfer_received', ?3, ?4, ?5)",
        )
        .map_err(db)?
        .execute(params![
            &id_bytes(location.0)[..],
            &id_bytes(item.0)[..],
            out.milli,
            out.value,
            sql_int(standing.at)
        ])
        .map_err(db)?;
    }
    let key = id_bytes(transfer.0);
    for change in [
        "DELETE FROM stock_transfer_received WHERE transfer = ?1",
        "UPDATE stock_transfer SET received = 0, arrived_at = NULL WHERE id = ?1",
    ] {
        tx.prepare_cached(change)
            .map_err(db)?
            .execute([&key[..]])
            .map_err(db)?;
    }
    Ok(())
}

/// Applies one inventory event inside the commit's transaction.
pub(crate) fn save_event(
    tx: &Transaction<'_>,
    node: NodeId,
    e: &InventoryEvent,
) -> Result<(), StoreError> {
    match &e.change {
        InventoryChange::PutLocation(l) => {
            tx.prepare_cached(
                "INSERT INTO stock_location (id, name, active) VALUES (?1, ?2, ?3)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, active = excluded.active",
            )
            .map_err(db)?
            .execute(params![&id_bytes(l.id.0)[..], l.name, l.active])
            .map_err(db)?;
        }
        InventoryChange::SetSalesStock(sales) => {
            tx.prepare_cached("DELETE FROM stock_sales WHERE node_id = ?1")
                .map_err(db)?
                .execute([&node.0[..]])
                .map_err(db)?;
            if let Some(s) = sales {
                tx.prepare_cached(
                    "INSERT INTO stock_sales (node_id, location, depletion) VALUES (?1, ?2, ?3)",
                )
                .map_err(db)?
                .execute(params![
                    &node.0[..],
                    &id_bytes(s.location.0)[..],
                    s.depletion.name()
                ])
                .map_err(db)?;
            }
        }
        InventoryChange::PutStockItem(i) => {
            tx.prepare_cached(
                "INSERT INTO stock_item (id, name, unit, active) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, unit = excluded.unit,
                    active = excluded.active",
            )
            .map_err(db)?
            .execute(params![
                &id_bytes(i.id.0)[..],
                i.name,
                i.unit.symbol(),
                i.active
            ])
            .map_err(db)?;
        }
        InventoryChange::PutSupplier(s) => {
            tx.prepare_cached(
                "INSERT INTO stock_supplier (id, name, contact) VALUES (?1, ?2, ?3)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, contact = excluded.contact",
            )
            .map_err(db)?
            .execute(params![&id_bytes(s.id.0)[..], s.name, s.contact])
            .map_err(db)?;
        }
        InventoryChange::SetPar {
            location,
            item,
            level,
        } => match level {
            Some(q) => {
                tx.prepare_cached(
                    "INSERT INTO stock_par (location, item, dimension, milli) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (location, item) DO UPDATE SET dimension = excluded.dimension,
                        milli = excluded.milli",
                )
                .map_err(db)?
                .execute(params![
                    &id_bytes(location.0)[..],
                    &id_bytes(item.0)[..],
                    q.dimension.name(),
                    q.milli
                ])
                .map_err(db)?;
            }
            None => {
                tx.prepare_cached("DELETE FROM stock_par WHERE location = ?1 AND item = ?2")
                    .map_err(db)?
                    .execute(params![&id_bytes(location.0)[..], &id_bytes(item.0)[..]])
                    .map_err(db)?;
            }
        },
        InventoryChange::PutRecipe(r) => {
            let (kind, id, variant) = recipe_key(r.target);
            tx.prepare_cached(
                "DELETE FROM stock_recipe WHERE target = ?1 AND target_id = ?2 AND variant_id = ?3",
            )
            .map_err(db)?
            .execute(params![kind, &id[..], variant])
            .map_err(db)?;
            for (n, i) in r.ingredients.iter().enumerate() {
                tx.prepare_cached(
                    "INSERT INTO stock_recipe (target, target_id, variant_id, position, stock_item,
                        dimension, milli) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )
                .map_err(db)?
                .execute(params![
                    kind,
                    &id[..],
                    variant,
                    n as i64,
                    &id_bytes(i.stock.0)[..],
                    i.quantity.dimension.name(),
                    i.quantity.milli
                ])
                .map_err(db)?;
            }
        }
        InventoryChange::Moved(m) => save_movement(tx, m, &e.values, e.at)?,
        InventoryChange::PurchaseOrderDrafted(po) => {
            tx.prepare_cached(
                "INSERT INTO purchase_order (id, supplier, location, sent) VALUES (?1, ?2, ?3, ?4)",
            )
            .map_err(db)?
            .execute(params![
                &id_bytes(po.id.0)[..],
                &id_bytes(po.supplier.0)[..],
                &id_bytes(po.location.0)[..],
                po.sent
            ])
            .map_err(db)?;
            for (n, l) in po.lines.iter().enumerate() {
                tx.prepare_cached(
                    "INSERT INTO purchase_line (po, position, item, dimension, milli, cost, currency,
                        received_milli) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )
                .map_err(db)?
                .execute(params![
                    &id_bytes(po.id.0)[..],
                    n as i64,
                    &id_bytes(l.item.0)[..],
                    l.quantity.dimension.name(),
                    l.quantity.milli,
                    l.cost.minor(),
                    l.cost.currency().code(),
                    l.received.milli
                ])
                .map_err(db)?;
            }
        }
        InventoryChange::PurchaseOrderSent(po) => {
            tx.prepare_cached("UPDATE purchase_order SET sent = 1 WHERE id = ?1")
                .map_err(db)?
                .execute([&id_bytes(po.0)[..]])
                .map_err(db)?;
        }
    }
    Ok(())
}

fn save_movement(
    tx: &Transaction<'_>,
    m: &Movement,
    values: &[i64],
    at: u64,
) -> Result<(), StoreError> {
    let conn: &Connection = tx;
    let mut received = match m {
        Movement::TransferReceived { transfer: t, .. } => transfer(conn, *t)?,
        _ => None,
    };
    if let Movement::TransferReceived {
        transfer, lines, ..
    } = m
    {
        let heard = Arrival {
            at,
            lines: lines.clone(),
            values: values.to_vec(),
        };
        match &mut received {
            None => return keep_early_arrival(tx, *transfer, &heard),
            Some(t) if t.received.is_some() => {
                let Some(standing) = standing_arrival(conn, *transfer)? else {
                    tracing::warn!(%transfer, "a second arrival of a transfer, recorded apart: the first stands");
                    return Ok(());
                };
                if let Some(since) = heard.disputed_at(&standing) {
                    dispute(tx, *transfer, since)?;
                }
                if !heard.replaces(&standing) {
                    tracing::warn!(%transfer, "a second arrival of a transfer, recorded apart: the first recorded stands");
                    return Ok(());
                }
                tracing::warn!(%transfer, "a second arrival of a transfer, recorded apart and earlier: it stands");
                take_back_arrival(tx, *transfer, t.to, &standing)?;
                t.received = None;
            }
            Some(_) => {}
        }
    }
    // Levels first, from the levels as they stand inside this transaction.
    let to = received.as_ref().map(|t| t.to);
    let moved = deltas(m, |_| to);
    let mut seen = Vec::new();
    for (l, i, _) in &moved {
        seen.push((*l, *i, level(conn, *l, *i)?));
    }
    let levels = levels_after(
        m,
        values,
        |l, i| {
            seen.iter()
                .find(|(sl, si, _)| *sl == l && *si == i)
                .map_or_else(StockValue::default, |(_, _, v)| *v)
        },
        received.as_ref(),
    );
    for (location, item, v) in &levels {
        tx.prepare_cached(
            "INSERT INTO stock_level (location, item, milli, value) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (location, item) DO UPDATE SET milli = excluded.milli,
                value = excluded.value",
        )
        .map_err(db)?
        .execute(params![
            &id_bytes(location.0)[..],
            &id_bytes(item.0)[..],
            v.milli,
            v.value
        ])
        .map_err(db)?;
    }
    for (location, item, delta, value) in usage_deltas(&moved, &seen, &levels) {
        tx.prepare_cached(
            "INSERT INTO stock_delta (location, item, kind, milli, value, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .map_err(db)?
        .execute(params![
            &id_bytes(location.0)[..],
            &id_bytes(item.0)[..],
            movement_kind(m),
            delta,
            value,
            sql_int(at)
        ])
        .map_err(db)?;
    }
    match m {
        Movement::Depleted {
            location,
            order,
            lines,
        }
        | Movement::Restored {
            location,
            order,
            lines,
        } => {
            let sign = if matches!(m, Movement::Depleted { .. }) {
                1
            } else {
                -1
            };
            for (item, q) in lines {
                tx.prepare_cached(
                    "INSERT INTO stock_sale (order_id, location, item, dimension, milli)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (order_id, location, item) DO UPDATE
                        SET milli = milli + excluded.milli",
                )
                .map_err(db)?
                .execute(params![
                    &id_bytes(order.0)[..],
                    &id_bytes(location.0)[..],
                    &id_bytes(item.0)[..],
                    q.dimension.name(),
                    sign * q.milli
                ])
                .map_err(db)?;
            }
        }
        Movement::Received {
            item,
            quantity,
            purchase_order: Some(po),
            ..
        } => {
            tx.prepare_cached(
                "UPDATE purchase_line SET received_milli = received_milli + ?3
                 WHERE po = ?1 AND position = (SELECT min(position) FROM purchase_line
                    WHERE po = ?1 AND item = ?2)",
            )
            .map_err(db)?
            .execute(params![
                &id_bytes(po.0)[..],
                &id_bytes(item.0)[..],
                quantity.milli
            ])
            .map_err(db)?;
        }
        Movement::TransferSent {
            transfer,
            from,
            to,
            lines,
        } => {
            tx.prepare_cached(
                "INSERT INTO stock_transfer (id, from_location, to_location, received)
                 VALUES (?1, ?2, ?3, 0)",
            )
            .map_err(db)?
            .execute(params![
                &id_bytes(transfer.0)[..],
                &id_bytes(from.0)[..],
                &id_bytes(to.0)[..]
            ])
            .map_err(db)?;
            for (n, l) in lines.iter().enumerate() {
                tx.prepare_cached(
                    "INSERT INTO stock_transfer_line (transfer, position, item, dimension, milli,
                        value, currency) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )
                .map_err(db)?
                .execute(params![
                    &id_bytes(transfer.0)[..],
                    n as i64,
                    &id_bytes(l.item.0)[..],
                    l.quantity.dimension.name(),
                    l.quantity.milli,
                    l.value.minor(),
                    l.value.currency().code()
                ])
                .map_err(db)?;
            }
            if let Some((arrived, disputed)) = take_early_arrival(tx, *transfer)? {
                save_movement(
                    tx,
                    &arrived.movement(*transfer),
                    &arrived.values,
                    arrived.at,
                )?;
                if let Some(since) = disputed {
                    dispute(tx, *transfer, since)?;
                }
            }
        }
        Movement::TransferReceived {
            transfer, lines, ..
        } => {
            tx.prepare_cached(
                "UPDATE stock_transfer SET received = 1, arrived_at = ?2 WHERE id = ?1",
            )
            .map_err(db)?
            .execute(params![&id_bytes(transfer.0)[..], sql_int(at)])
            .map_err(db)?;
            let valued = values.len() == lines.len();
            for (n, (item, q)) in lines.iter().enumerate() {
                tx.prepare_cached(
                    "INSERT INTO stock_transfer_received (transfer, position, item, dimension,
                            milli, value) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .map_err(db)?
                .execute(params![
                    &id_bytes(transfer.0)[..],
                    n as i64,
                    &id_bytes(item.0)[..],
                    q.dimension.name(),
                    q.milli,
                    values.get(n).copied().filter(|_| valued)
                ])
                .map_err(db)?;
            }
        }
        _ => {}
    }
    Ok(())
}

fn stock_item_row(r: &Row<'_>) -> Result<StockItem, StoreError> {
    Ok(StockItem {
        id: StockItemId(read_id(r, "id")?),
        name: get(r, "name")?,
        unit: unit_from(&get::<String>(r, "unit")?)?,
        active: get(r, "active")?,
    })
}

impl InventoryStore for SqliteStore {
    fn stock_item(&self, id: StockItemId) -> Result<Option<StockItem>, StoreError> {
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT * FROM stock_item WHERE id = ?1")
            .map_err(db)?;
        let mut rows = stmt.query([&id_bytes(id.0)[..]]).map_err(db)?;
        rows.next().map_err(db)?.map(stock_item_row).transpose()
    }

    fn stock_items(&self) -> Result<Vec<StockItem>, StoreError> {
        rows(
            self.conn(),
            "SELECT * FROM stock_item ORDER BY name, id",
            [],
            stock_item_row,
        )
    }

    fn supplier(&self, id: SupplierId) -> Result<Option<Supplier>, StoreError> {
        self.conn()
            .prepare_cached("SELECT name, contact FROM stock_supplier WHERE id = ?1")
            .map_err(db)?
            .query_row([&id_bytes(id.0)[..]], |r| {
                Ok(Supplier {
                    id,
                    name: r.get(0)?,
                    contact: r.get(1)?,
                })
            })
            .optional()
            .map_err(db)
    }

    fn stock_level(
        &self,
        location: LocationId,
        item: StockItemId,
    ) -> Result<StockValue, StoreError> {
        level(self.conn(), location, item)
    }

    fn stock_levels(
        &self,
        location: Option<LocationId>,
    ) -> Result<Vec<(LocationId, StockItemId, StockValue)>, StoreError> {
        rows(
            self.conn(),
            "SELECT location, item, milli, value FROM stock_level
             WHERE ?1 IS NULL OR location = ?1 ORDER BY location, item",
            [location.map(|l| id_bytes(l.0).to_vec())],
            |r| {
                Ok((
                    LocationId(read_id(r, "location")?),
                    StockItemId(read_id(r, "item")?),
                    StockValue {
                        milli: get(r, "milli")?,
                        value: get(r, "value")?,
                    },
                ))
            },
        )
    }

    fn par_level(
        &self,
        location: LocationId,
        item: StockItemId,
    ) -> Result<Option<Quantity>, StoreError> {
        let mut stmt = self
            .conn()
            .prepare_cached(
                "SELECT dimension, milli FROM stock_par WHERE location = ?1 AND item = ?2",
            )
            .map_err(db)?;
        let mut rows = stmt
            .query(params![&id_bytes(location.0)[..], &id_bytes(item.0)[..]])
            .map_err(db)?;
        rows.next()
            .map_err(db)?
            .map(|r| quantity(r, "dimension", "milli"))
            .transpose()
    }

    fn recipe(&self, target: RecipeFor) -> Result<Option<Recipe>, StoreError> {
        let (kind, id, variant) = recipe_key(target);
        let ingredients = rows(
            self.conn(),
            "SELECT stock_item, dimension, milli FROM stock_recipe
             WHERE target = ?1 AND target_id = ?2 AND variant_id = ?3 ORDER BY position",
            params![kind, &id[..], variant],
            |r| {
                Ok(Ingredient {
                    stock: StockItemId(read_id(r, "stock_item")?),
                    quantity: quantity(r, "dimension", "milli")?,
                })
            },
        )?;
        Ok((!ingredients.is_empty()).then_some(Recipe {
            target,
            ingredients,
        }))
    }

    fn stock_report(&self, location: Option<LocationId>) -> Result<Vec<ReportLevel>, StoreError> {
        // Two scans merged here: SQLite ran the FULL JOIN of 50,000 levels with their par
        // levels as a nested loop (minutes).
        let only = location.map(|l| id_bytes(l.0).to_vec());
        let pars = held(
            self.conn(),
            "SELECT location, item, dimension, milli FROM stock_par
             WHERE ?1 IS NULL OR location = ?1",
            &[&only],
        )?;
        Ok(ReportLevel::side_by_side(
            self.stock_levels(location)?,
            pars,
        ))
    }

    fn recipes(&self) -> Result<Vec<Recipe>, StoreError> {
        let lines = rows(
            self.conn(),
            "SELECT target, target_id, variant_id, position, stock_item, dimension, milli
             FROM stock_recipe",
            [],
            |r| {
                let kind: String = get(r, "target")?;
                let target_id: Vec<u8> = get(r, "target_id")?;
                let variant_id: Vec<u8> = get(r, "variant_id")?;
                Ok((
                    recipe_target(&kind, &target_id, &variant_id)?,
                    get::<i64>(r, "position")?,
                    Ingredient {
                        stock: StockItemId(read_id(r, "stock_item")?),
                        quantity: quantity(r, "dimension", "milli")?,
                    },
                ))
            },
        )?;
        Ok(recipes_from(lines))
    }

    fn transfer(&self, id: TransferId) -> Result<Option<Transfer>, StoreError> {
        transfer(self.conn(), id)
    }

    fn purchase_order(&self, id: PurchaseOrderId) -> Result<Option<PurchaseOrder>, StoreError> {
        purchase_order(self.conn(), id)
    }

    fn location(&self, id: LocationId) -> Result<Option<Location>, StoreError> {
        self.conn()
            .prepare_cached("SELECT name, active FROM stock_location WHERE id = ?1")
            .map_err(db)?
            .query_row([&id_bytes(id.0)[..]], |r| {
                Ok(Location {
                    id,
                    name: r.get(0)?,
                    active: r.get(1)?,
                })
            })
            .optional()
            .map_err(db)
    }

    fn locations(&self) -> Result<Vec<Location>, StoreError> {
        rows(
            self.conn(),
            "SELECT id, name, active FROM stock_location ORDER BY name, id",
            [],
            |r| {
                Ok(Location {
                    id: LocationId(read_id(r, "id")?),
                    name: get(r, "name")?,
                    active: get(r, "active")?,
                })
            },
        )
    }

    fn sales_stock(&self, node: NodeId) -> Result<Option<SalesStock>, StoreError> {
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT location, depletion FROM stock_sales WHERE node_id = ?1")
            .map_err(db)?;
        let mut rows = stmt.query([&node.0[..]]).map_err(db)?;
        rows.next()
            .map_err(db)?
            .map(|r| {
                Ok(SalesStock {
                    location: LocationId(read_id(r, "location")?),
                    depletion: depletion_from(&get::<String>(r, "depletion")?)?,
                })
            })
            .transpose()
    }

    fn order_stock(&self, order: OrderId) -> Result<Taken, StoreError> {
        held(
            self.conn(),
            "SELECT location, item, dimension, milli FROM stock_sale
             WHERE order_id = ?1 AND milli <> 0 ORDER BY location, item",
            &[&&id_bytes(order.0)[..]],
        )
    }

    fn suppliers(&self) -> Result<Vec<Supplier>, StoreError> {
        rows(
            self.conn(),
            "SELECT id, name, contact FROM stock_supplier ORDER BY name, id",
            [],
            |r| {
                Ok(Supplier {
                    id: SupplierId(read_id(r, "id")?),
                    name: get(r, "name")?,
                    contact: get(r, "contact")?,
                })
            },
        )
    }

    fn par_levels(&self) -> Result<Vec<(LocationId, StockItemId, Quantity)>, StoreError> {
        held(
            self.conn(),
            "SELECT location, item, dimension, milli FROM stock_par ORDER BY location, item",
            &[],
        )
    }

    fn transfers_in_transit(&self) -> Result<Vec<Transfer>, StoreError> {
        let ids = ids(
            self.conn(),
            "SELECT id FROM stock_transfer WHERE received = 0 ORDER BY id",
        )?;
        ids.into_iter()
            .filter_map(|id| transfer(self.conn(), TransferId(id)).transpose())
            .collect()
    }

    fn disputed_transfers(&self) -> Result<Vec<TransferId>, StoreError> {
        let mut ids: Vec<TransferId> = ids(
            self.conn(),
            "SELECT t.id FROM stock_transfer t WHERE t.disputed_at IS NOT NULL
             AND EXISTS (SELECT 1 FROM stock_transfer_line l WHERE l.transfer = t.id
                AND NOT EXISTS (SELECT 1 FROM stock_delta d
                    WHERE d.location = t.to_location AND d.item = l.item
                    AND d.kind = 'counted' AND d.at > t.disputed_at))",
        )?
        .into_iter()
        .map(TransferId)
        .collect();
        ids.sort_unstable();
        Ok(ids)
    }

    fn purchase_orders(&self) -> Result<Vec<PurchaseOrder>, StoreError> {
        let ids = ids(self.conn(), "SELECT id FROM purchase_order ORDER BY id")?;
        ids.into_iter()
            .filter_map(|id| purchase_order(self.conn(), PurchaseOrderId(id)).transpose())
            .collect()
    }

    fn stock_usage(&self, from: u64, to: u64) -> Result<Vec<StockUsage>, StoreError> {
        rows(
            self.conn(),
            "SELECT location, item, kind, sum(milli) AS milli, sum(value) AS value
             FROM stock_delta WHERE at >= ?1 AND at < ?2
             GROUP BY location, item, kind ORDER BY location, item, kind",
            params![sql_int(from), sql_int(to)],
            |r| {
                Ok(StockUsage {
                    location: LocationId(read_id(r, "location")?),
                    item: StockItemId(read_id(r, "item")?),
                    kind: get(r, "kind")?,
                    milli: get(r, "milli")?,
                    value: get(r, "value")?,
                })
            },
        )
    }
}

/// Rows of (location, item, quantity) a query lists, in its order.
fn held(
    conn: &Connection,
    sql: &str,
    params: &[&dyn rusqlite::ToSql],
) -> Result<Vec<(LocationId, StockItemId, Quantity)>, StoreError> {
    rows(conn, sql, params, |r| {
        Ok((
            LocationId(read_id(r, "location")?),
            StockItemId(read_id(r, "item")?),
            quantity(r, "dimension", "milli")?,
        ))
    })
}

/// The ids a query lists, in its order.
fn ids(conn: &Connection, sql: &str) -> Result<Vec<u128>, StoreError> {
    rows(conn, sql, [], |r| read_id(r, "id"))
}

fn purchase_order(
    conn: &Connection,
    id: PurchaseOrderId,
) -> Result<Option<PurchaseOrder>, StoreError> {
    let head = conn
        .prepare_cached("SELECT supplier, location, sent FROM purchase_order WHERE id = ?1")
        .map_err(db)?
        .query_row([&id_bytes(id.0)[..]], |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get::<_, bool>(2)?,
            ))
        })
        .optional()
        .map_err(db)?;
    let Some((supplier, location, sent)) = head else {
        return Ok(None);
    };
    let lines = rows(
        conn,
        "SELECT * FROM purchase_line WHERE po = ?1 ORDER BY position",
        [&id_bytes(id.0)[..]],
        |r| {
            let ordered = quantity(r, "dimension", "milli")?;
            Ok(PurchaseLine {
                item: StockItemId(read_id(r, "item")?),
                quantity: ordered,
                cost: money(r, "cost")?,
                received: Quantity {
                    dimension: ordered.dimension,
                    milli: get(r, "received_milli")?,
                },
            })
        },
    )?;
    Ok(Some(PurchaseOrder {
        id,
        supplier: SupplierId(from_id(&supplier, "purchase order's supplier")?),
        location: LocationId(from_id(&location, "purchase order's location")?),
        lines,
        sent,
    }))
}
