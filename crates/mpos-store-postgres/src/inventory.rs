//! Inventory projections: stock items, suppliers, par levels, recipes, levels with their
//! value and history of deltas, transfers and purchase orders. Levels change only through
//! the domain's `levels_after`, from levels read under a row lock: movements committed by
//! several nodes at once queue on the rows they touch and add up.

use std::collections::{BTreeMap, HashMap};

use mpos_domain::ids::{LocationId, OrderId, PurchaseOrderId, StockItemId, SupplierId, TransferId};
use mpos_domain::inventory::sale::Taken;
use mpos_domain::inventory::{
    Arrival, Ingredient, InventoryChange, InventoryEvent, Location, Movement, PurchaseLine,
    PurchaseOrder, Quantity, Recipe, RecipeFor, SalesStock, Stock, StockItem, StockValue, Supplier,
    Transfer, TransferLine, deltas, levels_after,
};
use mpos_domain::{Currency, Money};
use mpos_ledger::NodeId;
use mpos_store::columns::{
    depletion_from, dimension_from, id_bytes, movement_kind, recipe_key, recipe_target,
    recipes_from, unit_from, usage_deltas,
};
use mpos_store::{InventoryStore, ReportLevel, StockUsage, StockWanted, StoreError};
use postgres::{GenericClient, Row};

use crate::batch::{Delta, StockWrites};
use crate::sql::{Sql, big, get, id, keys};
use crate::{PgStore, corrupt, sql_int};

fn quantity(row: &Row, dimension: &str, milli: &str) -> Result<Quantity, StoreError> {
    Ok(Quantity {
        dimension: dimension_from(get(row, dimension)?)?,
        milli: get(row, milli)?,
    })
}

fn money(row: &Row, amount: &str) -> Result<Money, StoreError> {
    let currency = Currency::from_code(get(row, "currency")?).map_err(corrupt)?;
    Ok(Money::new(get(row, amount)?, currency))
}

/// A level as stored; `FOR UPDATE` inside a commit, so no other node's movement of the
/// same item at the same location lands between this read and the write.
fn level<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    location: LocationId,
    item: StockItemId,
    lock: bool,
) -> Result<StockValue, StoreError> {
    let query = if lock {
        "SELECT milli, value FROM stock_level WHERE location = $1 AND item = $2 FOR UPDATE"
    } else {
        "SELECT milli, value FROM stock_level WHERE location = $1 AND item = $2"
    };
    Ok(sql
        .query_opt(query, &[&&id_bytes(location.0)[..], &&id_bytes(item.0)[..]])?
        .map(|r| {
            Ok::<_, StoreError>(StockValue {
                milli: get(&r, "milli")?,
                value: get(&r, "value")?,
            })
        })
        .transpose()?
        .unwrap_or_default())
}

/// Applies one inventory event inside the commit's transaction.
pub(crate) fn save_event<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    w: &mut StockWrites,
    node: NodeId,
    e: &InventoryEvent,
) -> Result<(), StoreError> {
    match &e.change {
        InventoryChange::PutLocation(l) => {
            sql.execute(
                "INSERT INTO stock_location (id, name, active) VALUES ($1, $2, $3)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, active = excluded.active",
                &[&&id_bytes(l.id.0)[..], &l.name, &l.active],
            )?;
        }
        InventoryChange::SetSalesStock(sales) => {
            sql.execute(
                "DELETE FROM stock_sales WHERE node_id = $1",
                &[&&node.0[..]],
            )?;
            if let Some(s) = sales {
                sql.execute(
                    "INSERT INTO stock_sales (node_id, location, depletion) VALUES ($1, $2, $3)",
                    &[
                        &&node.0[..],
                        &&id_bytes(s.location.0)[..],
                        &s.depletion.name(),
                    ],
                )?;
            }
        }
        InventoryChange::PutStockItem(i) => {
            sql.execute(
                "INSERT INTO stock_item (id, name, unit, active) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, unit = excluded.unit,
                    active = excluded.active",
                &[&&id_bytes(i.id.0)[..], &i.name, &i.unit.symbol(), &i.active],
            )?;
        }
        InventoryChange::PutSupplier(s) => {
            sql.execute(
                "INSERT INTO stock_supplier (id, name, contact) VALUES ($1, $2, $3)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, contact = excluded.contact",
                &[&&id_bytes(s.id.0)[..], &s.name, &s.contact],
            )?;
        }
        InventoryChange::SetPar {
            location,
            item,
            level,
        } => match level {
            Some(q) => {
                sql.execute(
                    "INSERT INTO stock_par (location, item, dimension, milli)
                     VALUES ($1, $2, $3, $4)
                     ON CONFLICT (location, item) DO UPDATE SET dimension = excluded.dimension,
                        milli = excluded.milli",
                    &[
                        &&id_bytes(location.0)[..],
                        &&id_bytes(item.0)[..],
                        &q.dimension.name(),
                        &q.milli,
                    ],
                )?;
            }
            None => {
                sql.execute(
                    "DELETE FROM stock_par WHERE location = $1 AND item = $2",
                    &[&&id_bytes(location.0)[..], &&id_bytes(item.0)[..]],
                )?;
            }
        },
        InventoryChange::PutRecipe(r) => {
            let (kind, target, variant) = recipe_key(r.target);
            sql.execute(
                "DELETE FROM stock_recipe WHERE target = $1 AND target_id = $2 AND variant_id = $3",
                &[&kind, &&target[..], &variant],
            )?;
            for (n, i) in r.ingredients.iter().enumerate() {
                sql.execute(
                    "INSERT INTO stock_recipe (target, target_id, variant_id, position,
                        stock_item, dimension, milli) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    &[
                        &kind,
                        &&target[..],
                        &variant,
                        &big(n),
                        &&id_bytes(i.stock.0)[..],
                        &i.quantity.dimension.name(),
                        &i.quantity.milli,
                    ],
                )?;
            }
        }
        InventoryChange::Moved(m) => save_movement(sql, w, m, &e.values, e.at)?,
        InventoryChange::PurchaseOrderDrafted(po) => {
            let key = id_bytes(po.id.0);
            sql.execute(
                "INSERT INTO purchase_order (id, supplier, location, sent) VALUES ($1, $2, $3, $4)",
                &[
                    &&key[..],
                    &&id_bytes(po.supplier.0)[..],
                    &&id_bytes(po.location.0)[..],
                    &po.sent,
                ],
            )?;
            for (n, l) in po.lines.iter().enumerate() {
                sql.execute(
                    "INSERT INTO purchase_line (po, position, item, dimension, milli, cost,
                        currency, received_milli) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    &[
                        &&key[..],
                        &big(n),
                        &&id_bytes(l.item.0)[..],
                        &l.quantity.dimension.name(),
                        &l.quantity.milli,
                        &l.cost.minor(),
                        &l.cost.currency().code(),
                        &l.received.milli,
                    ],
                )?;
            }
        }
        InventoryChange::PurchaseOrderSent(po) => {
            sql.execute(
                "UPDATE purchase_order SET sent = TRUE WHERE id = $1",
                &[&&id_bytes(po.0)[..]],
            )?;
        }
    }
    Ok(())
}

/// Reads, under a row lock, every level the batch's movements will change that is not
/// read yet: one statement, rows locked in (location, item) order, so two nodes moving the
/// same items never wait on each other in a cycle. The transfers that arrive are read
/// first (where they arrive is in them), in one go.
pub(crate) fn lock_levels<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    w: &mut StockWrites,
    events: &[&InventoryEvent],
) -> Result<(), StoreError> {
    let arriving: Vec<TransferId> = events
        .iter()
        .filter_map(|e| match &e.change {
            InventoryChange::Moved(Movement::TransferReceived { transfer, .. }) => Some(*transfer),
            _ => None,
        })
        .filter(|t| !w.transfers.contains_key(t))
        .collect();
    if !arriving.is_empty() {
        for t in transfers(sql, &arriving)? {
            w.transfers.insert(t.id, t);
        }
    }
    // A transfer sent in this batch arrives where it was sent to.
    let sent_to: HashMap<TransferId, LocationId> = events
        .iter()
        .filter_map(|e| match &e.change {
            InventoryChange::Moved(Movement::TransferSent { transfer, to, .. }) => {
                Some((*transfer, *to))
            }
            _ => None,
        })
        .collect();
    let to = |t: TransferId| {
        sent_to
            .get(&t)
            .copied()
            .or_else(|| w.transfers.get(&t).map(|t| t.to))
    };
    let mut wanted: Vec<(LocationId, StockItemId)> = events
        .iter()
        .filter_map(|e| match &e.change {
            InventoryChange::Moved(m) => Some(deltas(m, to)),
            _ => None,
        })
        .flatten()
        .map(|(l, i, _)| (l, i))
        .filter(|k| !w.levels.contains_key(k))
        .collect();
    wanted.sort_by_key(|(l, i)| (l.0, i.0));
    wanted.dedup();
    if wanted.is_empty() {
        return Ok(());
    }
    let locations = keys(wanted.iter().map(|(l, _)| l.0));
    let items = keys(wanted.iter().map(|(_, i)| i.0));
    for r in sql.query(
        "SELECT s.location, s.item, s.milli, s.value FROM stock_level s
         JOIN UNNEST($1::BYTEA[], $2::BYTEA[]) AS k(location, item)
            ON s.location = k.location AND s.item = k.item
         WHERE s.location = ANY($1) AND s.item = ANY($2)
         ORDER BY s.location, s.item FOR UPDATE OF s",
        &[&locations, &items],
    )? {
        w.levels.insert(
            (
                LocationId(id(&r, "location")?),
                StockItemId(id(&r, "item")?),
            ),
            StockValue {
                milli: get(&r, "milli")?,
                value: get(&r, "value")?,
            },
        );
    }
    // No row yet: nothing held.
    for k in wanted {
        w.levels.entry(k).or_default();
    }
    Ok(())
}

/// A transfer as the batch has left it (sent in it, or read once).
fn known_transfer<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    w: &mut StockWrites,
    t: TransferId,
) -> Result<Option<Transfer>, StoreError> {
    if let Some(known) = w.transfers.get(&t) {
        return Ok(Some(known.clone()));
    }
    let read = transfers(sql, &[t])?.pop();
    if let Some(read) = &read {
        w.transfers.insert(t, read.clone());
    }
    Ok(read)
}

fn save_movement<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    w: &mut StockWrites,
    m: &Movement,
    values: &[i64],
    at: u64,
) -> Result<(), StoreError> {
    let mut received = match m {
        Movement::TransferReceived { transfer: t, .. } => {
            if !w.transfers.contains_key(t) {
                lock_transfer(sql, *t)?;
            }
            known_transfer(sql, w, *t)?
        }
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
            None => return keep_early_arrival(sql, *transfer, &heard),
            Some(t) if t.received.is_some() => {
                let Some(standing) = standing_arrival(sql, w, *transfer)? else {
                    tracing::warn!(%transfer, "a second arrival of a transfer, recorded apart: the first stands");
                    return Ok(());
                };
                if let Some(since) = heard.disputed_at(&standing) {
                    w.dispute(*transfer, since);
                }
                if !heard.replaces(&standing) {
                    tracing::warn!(%transfer, "a second arrival of a transfer, recorded apart: the first recorded stands");
                    return Ok(());
                }
                tracing::warn!(%transfer, "a second arrival of a transfer, recorded apart and earlier: it stands");
                take_back_arrival(sql, w, *transfer, t.to, &standing)?;
                t.received = None;
                if let Some(known) = w.transfers.get_mut(transfer) {
                    known.received = None;
                }
            }
            Some(_) => {}
        }
    }
    let to = received.as_ref().map(|t| t.to);
    let moved = deltas(m, |_| to);
    let mut seen = Vec::with_capacity(moved.len());
    for (l, i, _) in &moved {
        if seen.iter().any(|(sl, si, _)| sl == l && si == i) {
            continue;
        }
        let v = match w.levels.get(&(*l, *i)) {
            Some(v) => *v,
            None => {
                let v = level(sql, *l, *i, true)?;
                w.levels.insert((*l, *i), v);
                v
            }
        };
        seen.push((*l, *i, v));
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
    for (location, item, delta, value) in usage_deltas(&moved, &seen, &levels) {
        w.add_delta(Delta {
            location,
            item,
            kind: movement_kind(m),
            milli: delta,
            value,
            at: sql_int(at),
        });
    }
    for (location, item, v) in levels {
        w.levels.insert((location, item), v);
        w.changed.insert((location, item), v);
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
                let held = w
                    .held
                    .entry((*order, *location, *item))
                    .or_insert((q.dimension.name(), 0));
                held.1 += sign * q.milli;
            }
        }
        Movement::Received {
            item,
            quantity,
            purchase_order: Some(po),
            ..
        } => {
            sql.execute(
                "UPDATE purchase_line SET received_milli = received_milli + $3
                 WHERE po = $1 AND position = (SELECT min(position) FROM purchase_line
                    WHERE po = $1 AND item = $2)",
                &[
                    &&id_bytes(po.0)[..],
                    &&id_bytes(item.0)[..],
                    &quantity.milli,
                ],
            )?;
        }
        Movement::TransferSent { .. } => {
            if let Some(t) = m.sent_transfer() {
                let id = t.id;
                w.sent.push(id);
                w.transfers.insert(id, t);
                if let Some((arrived, disputed)) = take_early_arrival(sql, id)? {
                    save_movement(sql, w, &arrived.movement(id), &arrived.values, arrived.at)?;
                    if let Some(since) = disputed {
                        w.dispute(id, since);
                    }
                }
            }
        }
        Movement::TransferReceived {
            transfer, lines, ..
        } => {
            if let Some(t) = w.transfers.get_mut(transfer) {
                t.received = Some(lines.clone());
            }
            w.arrived.push(*transfer);
            w.arrivals.insert(
                *transfer,
                Arrival {
                    at,
                    lines: lines.clone(),
                    values: values.to_vec(),
                },
            );
        }
        _ => {}
    }
    Ok(())
}

/// Holds `transfer` until the commit ends, for nodes sharing the database: an arrival
/// that finds no sending and a sending that looks for an early arrival must not pass each
/// other (each would miss what the other has not committed yet).
fn lock_transfer<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    transfer: TransferId,
) -> Result<(), StoreError> {
    // The id's two halves folded into the lock's 64-bit key.
    let key = ((transfer.0 >> 64) as u64 ^ transfer.0 as u64).cast_signed();
    sql.execute("SELECT pg_advisory_xact_lock($1)", &[&key])?;
    Ok(())
}

/// An arrival recorded at `at` as stored (`table`: the early arrivals' lines or the
/// received lines), with its values when every line has one.
fn arrival_lines<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    table: &str,
    transfer: TransferId,
    at: i64,
) -> Result<Arrival, StoreError> {
    let mut kept = sql
        .query(
            &format!(
                "SELECT position, item, dimension, milli, value FROM {table} WHERE transfer = $1"
            ),
            &[&&id_bytes(transfer.0)[..]],
        )?
        .iter()
        .map(|r| {
            Ok((
                get::<i64>(r, "position")?,
                (
                    StockItemId(id(r, "item")?),
                    quantity(r, "dimension", "milli")?,
                ),
                get::<Option<i64>>(r, "value")?,
            ))
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    kept.sort_unstable_by_key(|k| k.0);
    let (lines, values): (Vec<_>, Vec<Option<i64>>) =
        kept.into_iter().map(|(_, l, v)| (l, v)).unzip();
    let values = values.into_iter().collect::<Option<Vec<i64>>>();
    Ok(Arrival {
        at: u64::try_from(at).unwrap_or_default(),
        lines,
        values: values.unwrap_or_default(),
    })
}

/// The arrival kept for `transfer` before its sending came, and since when another
/// recorded apart disputes it.
fn early_arrival<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    transfer: TransferId,
) -> Result<Option<(Arrival, Option<u64>)>, StoreError> {
    let Some(head) = sql.query_opt(
        "SELECT at, valued, disputed_at FROM stock_transfer_early WHERE transfer = $1",
        &[&&id_bytes(transfer.0)[..]],
    )?
    else {
        return Ok(None);
    };
    let (at, valued, disputed): (i64, bool, Option<i64>) = (
        get(&head, "at")?,
        get(&head, "valued")?,
        get(&head, "disputed_at")?,
    );
    let disputed = disputed.map(|d| u64::try_from(d).unwrap_or_default());
    let mut arrival = arrival_lines(sql, "stock_transfer_early_line", transfer, at)?;
    if !valued {
        arrival.values.clear();
    }
    Ok(Some((arrival, disputed)))
}

/// Keeps the arrival of a transfer this node has not heard was sent (another node
/// recorded the sending, and its ledger has not come yet): the sending brings it in. Of
/// two kept apart, the one that stands stays ([`Arrival::replaces`]).
fn keep_early_arrival<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    transfer: TransferId,
    heard: &Arrival,
) -> Result<(), StoreError> {
    let key = id_bytes(transfer.0);
    let mut disputed = None;
    if let Some((standing, was_disputed)) = early_arrival(sql, transfer)? {
        disputed = was_disputed.max(heard.disputed_at(&standing));
        if !heard.replaces(&standing) {
            tracing::warn!(%transfer, disputed = disputed.is_some(), "a second arrival of a transfer, recorded apart: the first recorded stands");
            sql.execute(
                "UPDATE stock_transfer_early SET disputed_at = $2 WHERE transfer = $1",
                &[&&key[..], &disputed.map(sql_int)],
            )?;
            return Ok(());
        }
        tracing::warn!(%transfer, disputed = disputed.is_some(), "a second arrival of a transfer, recorded apart and earlier: it stands");
        forget_early_arrival(sql, transfer)?;
    }
    sql.execute(
        "INSERT INTO stock_transfer_early (transfer, at, valued, disputed_at)
         VALUES ($1, $2, $3, $4)",
        &[
            &&key[..],
            &sql_int(heard.at),
            &heard.valued(),
            &disputed.map(sql_int),
        ],
    )?;
    let lines = &heard.lines;
    sql.execute(
        "INSERT INTO stock_transfer_early_line (transfer, position, item, dimension, milli, value)
         SELECT $1, u.position, u.item, u.dimension, u.milli, u.value
         FROM UNNEST($2::BIGINT[], $3::BYTEA[], $4::TEXT[], $5::BIGINT[], $6::BIGINT[])
            AS u(position, item, dimension, milli, value)",
        &[
            &&key[..],
            &(0..lines.len()).map(big).collect::<Vec<_>>(),
            &keys(lines.iter().map(|(i, _)| i.0)),
            &lines
                .iter()
                .map(|(_, q)| q.dimension.name())
                .collect::<Vec<_>>(),
            &lines.iter().map(|(_, q)| q.milli).collect::<Vec<_>>(),
            &(0..lines.len())
                .map(|n| if heard.valued() { heard.values[n] } else { 0 })
                .collect::<Vec<_>>(),
        ],
    )?;
    Ok(())
}

/// The arrival kept for `transfer`, if one came before its sending, and since when
/// another recorded apart disputes it. Taken: it is applied now.
fn take_early_arrival<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    transfer: TransferId,
) -> Result<Option<(Arrival, Option<u64>)>, StoreError> {
    lock_transfer(sql, transfer)?;
    let kept = early_arrival(sql, transfer)?;
    if kept.is_some() {
        forget_early_arrival(sql, transfer)?;
    }
    Ok(kept)
}

/// Removes the arrival kept for `transfer` before its sending came.
fn forget_early_arrival<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    transfer: TransferId,
) -> Result<(), StoreError> {
    let key = id_bytes(transfer.0);
    for delete in [
        "DELETE FROM stock_transfer_early WHERE transfer = $1",
        "DELETE FROM stock_transfer_early_line WHERE transfer = $1",
    ] {
        sql.execute(delete, &[&&key[..]])?;
    }
    Ok(())
}

/// The arrival standing for a received transfer, as the batch leaves it: `None` for one
/// received before arrivals were kept with their time (it stands, whatever comes).
fn standing_arrival<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    w: &StockWrites,
    transfer: TransferId,
) -> Result<Option<Arrival>, StoreError> {
    if let Some(a) = w.arrivals.get(&transfer) {
        return Ok(Some(a.clone()));
    }
    let at: Option<i64> = match sql.query_opt(
        "SELECT arrived_at FROM stock_transfer WHERE id = $1",
        &[&&id_bytes(transfer.0)[..]],
    )? {
        Some(r) => get(&r, "arrived_at")?,
        None => None,
    };
    let Some(at) = at else {
        return Ok(None);
    };
    Ok(Some(arrival_lines(
        sql,
        "stock_transfer_received",
        transfer,
        at,
    )?))
}

/// Takes a standing arrival back: its levels out of `to` again (read under a row lock),
/// its history cancelled by rows of the same kind and time (the history is read as sums).
/// Its lines make way for the arrival that replaces it when the batch is written.
fn take_back_arrival<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    w: &mut StockWrites,
    transfer: TransferId,
    to: LocationId,
    standing: &Arrival,
) -> Result<(), StoreError> {
    w.taken_back.insert(transfer);
    for (location, item, out) in standing.taken_back(to) {
        let now = match w.levels.get(&(location, item)) {
            Some(v) => *v,
            None => level(sql, location, item, true)?,
        };
        let after = StockValue {
            milli: now.milli.saturating_add(out.milli),
            value: now.value.saturating_add(out.value),
        };
        w.levels.insert((location, item), after);
        w.changed.insert((location, item), after);
        w.add_delta(Delta {
            location,
            item,
            kind: "transfer_received",
            milli: out.milli,
            value: out.value,
            at: sql_int(standing.at),
        });
    }
    Ok(())
}

/// A (location, item, quantity) row: a par level, or what an order holds.
fn held(r: &Row) -> Result<(LocationId, StockItemId, Quantity), StoreError> {
    Ok((
        LocationId(id(r, "location")?),
        StockItemId(id(r, "item")?),
        quantity(r, "dimension", "milli")?,
    ))
}

fn location_row(r: &Row) -> Result<Location, StoreError> {
    Ok(Location {
        id: LocationId(id(r, "id")?),
        name: get(r, "name")?,
        active: get(r, "active")?,
    })
}

fn supplier_row(r: &Row) -> Result<Supplier, StoreError> {
    Ok(Supplier {
        id: SupplierId(id(r, "id")?),
        name: get(r, "name")?,
        contact: get(r, "contact")?,
    })
}

fn stock_item_row(r: &Row) -> Result<StockItem, StoreError> {
    Ok(StockItem {
        id: StockItemId(id(r, "id")?),
        name: get(r, "name")?,
        unit: unit_from(get(r, "unit")?)?,
        active: get(r, "active")?,
    })
}

/// Transfers by id, each with what was sent and what arrived: three reads for any number.
fn transfers<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    ids: &[TransferId],
) -> Result<Vec<Transfer>, StoreError> {
    let k = keys(ids.iter().map(|t| t.0));
    let mut found: BTreeMap<TransferId, Transfer> = BTreeMap::new();
    for r in sql.query(
        "SELECT id, from_location, to_location, received FROM stock_transfer
         WHERE id = ANY($1)",
        &[&k],
    )? {
        let tid = TransferId(id(&r, "id")?);
        let received = get::<bool>(&r, "received")?.then(Vec::new);
        found.insert(
            tid,
            Transfer {
                id: tid,
                from: LocationId(id(&r, "from_location")?),
                to: LocationId(id(&r, "to_location")?),
                sent: Vec::new(),
                received,
            },
        );
    }
    for r in sql.query(
        "SELECT * FROM stock_transfer_line WHERE transfer = ANY($1) ORDER BY transfer, position",
        &[&k],
    )? {
        if let Some(t) = found.get_mut(&TransferId(id(&r, "transfer")?)) {
            t.sent.push(TransferLine {
                item: StockItemId(id(&r, "item")?),
                quantity: quantity(&r, "dimension", "milli")?,
                value: money(&r, "value")?,
            });
        }
    }
    for r in sql.query(
        "SELECT * FROM stock_transfer_received WHERE transfer = ANY($1)
         ORDER BY transfer, position",
        &[&k],
    )? {
        if let Some(arrived) = found
            .get_mut(&TransferId(id(&r, "transfer")?))
            .and_then(|t| t.received.as_mut())
        {
            arrived.push((
                StockItemId(id(&r, "item")?),
                quantity(&r, "dimension", "milli")?,
            ));
        }
    }
    Ok(found.into_values().collect())
}

impl InventoryStore for PgStore {
    fn read_stock(&self, wanted: &StockWanted, book: &mut Stock) -> Result<(), StoreError> {
        self.with(|s| {
            if !wanted.locations.is_empty() {
                for r in s.query(
                    "SELECT id, name, active FROM stock_location WHERE id = ANY($1)",
                    &[&keys(wanted.locations.iter().map(|l| l.0))],
                )? {
                    let l = location_row(&r)?;
                    book.locations.insert(l.id, l);
                }
            }
            if !wanted.items.is_empty() {
                for r in s.query(
                    "SELECT * FROM stock_item WHERE id = ANY($1)",
                    &[&keys(wanted.items.iter().map(|i| i.0))],
                )? {
                    let i = stock_item_row(&r)?;
                    book.items.insert(i.id, i);
                }
            }
            if !wanted.suppliers.is_empty() {
                for r in s.query(
                    "SELECT id, name, contact FROM stock_supplier WHERE id = ANY($1)",
                    &[&keys(wanted.suppliers.iter().map(|i| i.0))],
                )? {
                    let supplier = supplier_row(&r)?;
                    book.suppliers.insert(supplier.id, supplier);
                }
            }
            if !wanted.transfers.is_empty() {
                for t in transfers(s, &wanted.transfers)? {
                    book.transfers.insert(t.id, t);
                }
            }
            // Purchase orders are few per batch: one read each.
            for &po in &wanted.purchase_orders {
                if let Some(p) = purchase_order(s, po)? {
                    book.purchase_orders.insert(po, p);
                }
            }
            if !wanted.levels.is_empty() {
                for &key in &wanted.levels {
                    book.levels.insert(key, StockValue::default());
                }
                let locations = keys(wanted.levels.iter().map(|(l, _)| l.0));
                let items = keys(wanted.levels.iter().map(|(_, i)| i.0));
                for r in s.query(
                    "SELECT s.location, s.item, s.milli, s.value FROM stock_level s
                     JOIN UNNEST($1::BYTEA[], $2::BYTEA[]) AS k(location, item)
                        ON s.location = k.location AND s.item = k.item
                     WHERE s.location = ANY($1) AND s.item = ANY($2)",
                    &[&locations, &items],
                )? {
                    book.levels.insert(
                        (
                            LocationId(id(&r, "location")?),
                            StockItemId(id(&r, "item")?),
                        ),
                        StockValue {
                            milli: get(&r, "milli")?,
                            value: get(&r, "value")?,
                        },
                    );
                }
            }
            Ok(())
        })
    }

    fn stock_item(&self, sid: StockItemId) -> Result<Option<StockItem>, StoreError> {
        self.with(|s| {
            s.query_opt(
                "SELECT * FROM stock_item WHERE id = $1",
                &[&&id_bytes(sid.0)[..]],
            )?
            .as_ref()
            .map(stock_item_row)
            .transpose()
        })
    }

    fn stock_items(&self) -> Result<Vec<StockItem>, StoreError> {
        self.with(|s| {
            s.query("SELECT * FROM stock_item ORDER BY name, id", &[])?
                .iter()
                .map(stock_item_row)
                .collect()
        })
    }

    fn supplier(&self, sid: SupplierId) -> Result<Option<Supplier>, StoreError> {
        self.with(|s| {
            s.query_opt(
                "SELECT id, name, contact FROM stock_supplier WHERE id = $1",
                &[&&id_bytes(sid.0)[..]],
            )?
            .as_ref()
            .map(supplier_row)
            .transpose()
        })
    }

    fn stock_level(
        &self,
        location: LocationId,
        item: StockItemId,
    ) -> Result<StockValue, StoreError> {
        self.with(|s| level(s, location, item, false))
    }

    fn stock_levels(
        &self,
        location: Option<LocationId>,
    ) -> Result<Vec<(LocationId, StockItemId, StockValue)>, StoreError> {
        self.with(|s| {
            s.query(
                "SELECT location, item, milli, value FROM stock_level
                 WHERE $1::BYTEA IS NULL OR location = $1 ORDER BY location, item",
                &[&location.map(|l| id_bytes(l.0).to_vec())],
            )?
            .iter()
            .map(|r| {
                Ok((
                    LocationId(id(r, "location")?),
                    StockItemId(id(r, "item")?),
                    StockValue {
                        milli: get(r, "milli")?,
                        value: get(r, "value")?,
                    },
                ))
            })
            .collect()
        })
    }

    fn par_level(
        &self,
        location: LocationId,
        item: StockItemId,
    ) -> Result<Option<Quantity>, StoreError> {
        self.with(|s| {
            s.query_opt(
                "SELECT dimension, milli FROM stock_par WHERE location = $1 AND item = $2",
                &[&&id_bytes(location.0)[..], &&id_bytes(item.0)[..]],
            )?
            .map(|r| quantity(&r, "dimension", "milli"))
            .transpose()
        })
    }

    fn recipe(&self, target: RecipeFor) -> Result<Option<Recipe>, StoreError> {
        let (kind, key, variant) = recipe_key(target);
        let ingredients = self.with(|s| {
            s.query(
                "SELECT stock_item, dimension, milli FROM stock_recipe
                 WHERE target = $1 AND target_id = $2 AND variant_id = $3 ORDER BY position",
                &[&kind, &&key[..], &variant],
            )?
            .iter()
            .map(|r| {
                Ok(Ingredient {
                    stock: StockItemId(id(r, "stock_item")?),
                    quantity: quantity(r, "dimension", "milli")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()
        })?;
        Ok((!ingredients.is_empty()).then_some(Recipe {
            target,
            ingredients,
        }))
    }

    fn stock_report(&self, location: Option<LocationId>) -> Result<Vec<ReportLevel>, StoreError> {
        // Two plain scans merged here: PostgreSQL's FULL JOIN of 50,000 levels with their
        // par levels took longer than both scans and the merge (so did sending each scan
        // as one row of arrays).
        let only = location.map(|l| id_bytes(l.0).to_vec());
        self.with(|s| {
            let levels = s
                .query(
                    "SELECT location, item, milli, value FROM stock_level
                     WHERE $1::BYTEA IS NULL OR location = $1",
                    &[&only],
                )?
                .iter()
                .map(|r| {
                    Ok((
                        LocationId(id(r, "location")?),
                        StockItemId(id(r, "item")?),
                        StockValue {
                            milli: get(r, "milli")?,
                            value: get(r, "value")?,
                        },
                    ))
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            let pars = s
                .query(
                    "SELECT location, item, dimension, milli FROM stock_par
                     WHERE $1::BYTEA IS NULL OR location = $1",
                    &[&only],
                )?
                .iter()
                .map(held)
                .collect::<Result<Vec<_>, StoreError>>()?;
            Ok(ReportLevel::side_by_side(levels, pars))
        })
    }

    fn recipes(&self) -> Result<Vec<Recipe>, StoreError> {
        let rows = self.with(|s| {
            s.query(
                "SELECT target, target_id, variant_id, position, stock_item, dimension, milli
                 FROM stock_recipe",
                &[],
            )?
            .iter()
            .map(|r| {
                Ok((
                    recipe_target(
                        get(r, "target")?,
                        get(r, "target_id")?,
                        get(r, "variant_id")?,
                    )?,
                    get::<i64>(r, "position")?,
                    Ingredient {
                        stock: StockItemId(id(r, "stock_item")?),
                        quantity: quantity(r, "dimension", "milli")?,
                    },
                ))
            })
            .collect::<Result<Vec<_>, StoreError>>()
        })?;
        Ok(recipes_from(rows))
    }

    fn transfer(&self, tid: TransferId) -> Result<Option<Transfer>, StoreError> {
        self.with(|s| Ok(transfers(s, &[tid])?.pop()))
    }

    fn purchase_order(&self, pid: PurchaseOrderId) -> Result<Option<PurchaseOrder>, StoreError> {
        self.with(|s| purchase_order(s, pid))
    }

    fn location(&self, lid: LocationId) -> Result<Option<Location>, StoreError> {
        self.with(|s| {
            s.query_opt(
                "SELECT id, name, active FROM stock_location WHERE id = $1",
                &[&&id_bytes(lid.0)[..]],
            )?
            .as_ref()
            .map(location_row)
            .transpose()
        })
    }

    fn locations(&self) -> Result<Vec<Location>, StoreError> {
        self.with(|s| {
            s.query(
                "SELECT id, name, active FROM stock_location ORDER BY name, id",
                &[],
            )?
            .iter()
            .map(location_row)
            .collect()
        })
    }

    fn sales_stock(&self, node: NodeId) -> Result<Option<SalesStock>, StoreError> {
        self.with(|s| {
            s.query_opt(
                "SELECT location, depletion FROM stock_sales WHERE node_id = $1",
                &[&&node.0[..]],
            )?
            .map(|r| {
                Ok(SalesStock {
                    location: LocationId(id(&r, "location")?),
                    depletion: depletion_from(get(&r, "depletion")?)?,
                })
            })
            .transpose()
        })
    }

    fn order_stock(&self, order: OrderId) -> Result<Taken, StoreError> {
        self.with(|s| {
            s.query(
                "SELECT location, item, dimension, milli FROM stock_sale
                 WHERE order_id = $1 AND milli <> 0 ORDER BY location, item",
                &[&&id_bytes(order.0)[..]],
            )?
            .iter()
            .map(held)
            .collect()
        })
    }

    fn orders_stock(&self, orders: &[OrderId]) -> Result<HashMap<OrderId, Taken>, StoreError> {
        let mut all: HashMap<OrderId, Taken> = orders.iter().map(|o| (*o, Taken::new())).collect();
        self.with(|s| {
            for r in s.query(
                "SELECT order_id, location, item, dimension, milli FROM stock_sale
                 WHERE order_id = ANY($1) AND milli <> 0 ORDER BY order_id, location, item",
                &[&keys(orders.iter().map(|o| o.0))],
            )? {
                if let Some(taken) = all.get_mut(&OrderId(id(&r, "order_id")?)) {
                    taken.push(held(&r)?);
                }
            }
            Ok(all)
        })
    }

    fn suppliers(&self) -> Result<Vec<Supplier>, StoreError> {
        self.with(|s| {
            s.query(
                "SELECT id, name, contact FROM stock_supplier ORDER BY name, id",
                &[],
            )?
            .iter()
            .map(supplier_row)
            .collect()
        })
    }

    fn par_levels(&self) -> Result<Vec<(LocationId, StockItemId, Quantity)>, StoreError> {
        self.with(|s| {
            s.query(
                "SELECT location, item, dimension, milli FROM stock_par ORDER BY location, item",
                &[],
            )?
            .iter()
            .map(held)
            .collect()
        })
    }

    fn transfers_in_transit(&self) -> Result<Vec<Transfer>, StoreError> {
        self.with(|s| {
            let ids = s
                .query(
                    "SELECT id FROM stock_transfer WHERE NOT received ORDER BY id",
                    &[],
                )?
                .iter()
                .map(|r| Ok(TransferId(id(r, "id")?)))
                .collect::<Result<Vec<_>, StoreError>>()?;
            transfers(s, &ids)
        })
    }

    fn disputed_transfers(&self) -> Result<Vec<TransferId>, StoreError> {
        self.with(|s| {
            let mut ids = s
                .query(
                    "SELECT t.id FROM stock_transfer t WHERE t.disputed_at IS NOT NULL
                     AND EXISTS (SELECT 1 FROM stock_transfer_line l WHERE l.transfer = t.id
                        AND NOT EXISTS (SELECT 1 FROM stock_delta d
                            WHERE d.location = t.to_location AND d.item = l.item
                            AND d.kind = 'counted' AND d.at > t.disputed_at))",
                    &[],
                )?
                .iter()
                .map(|r| Ok(TransferId(id(r, "id")?)))
                .collect::<Result<Vec<_>, StoreError>>()?;
            ids.sort_unstable();
            Ok(ids)
        })
    }

    fn purchase_orders(&self) -> Result<Vec<PurchaseOrder>, StoreError> {
        self.with(|s| {
            let ids = s
                .query("SELECT id FROM purchase_order ORDER BY id", &[])?
                .iter()
                .map(|r| id(r, "id"))
                .collect::<Result<Vec<_>, StoreError>>()?;
            ids.into_iter()
                .filter_map(|p| purchase_order(s, PurchaseOrderId(p)).transpose())
                .collect()
        })
    }

    fn stock_usage(&self, from: u64, to: u64) -> Result<Vec<StockUsage>, StoreError> {
        self.with(|s| {
            s.query(
                "SELECT location, item, kind, sum(milli)::BIGINT AS milli,
                    sum(value)::BIGINT AS value
                 FROM stock_delta WHERE at >= $1 AND at < $2
                 GROUP BY location, item, kind ORDER BY location, item, kind",
                &[&sql_int(from), &sql_int(to)],
            )?
            .iter()
            .map(|r| {
                Ok(StockUsage {
                    location: LocationId(id(r, "location")?),
                    item: StockItemId(id(r, "item")?),
                    kind: get::<String>(r, "kind")?,
                    milli: get(r, "milli")?,
                    value: get(r, "value")?,
                })
            })
            .collect()
        })
    }
}

fn purchase_order<C: GenericClient>(
    s: &mut Sql<'_, C>,
    pid: PurchaseOrderId,
) -> Result<Option<PurchaseOrder>, StoreError> {
    let key = id_bytes(pid.0);
    let Some(head) = s.query_opt(
        "SELECT supplier, location, sent FROM purchase_order WHERE id = $1",
        &[&&key[..]],
    )?
    else {
        return Ok(None);
    };
    let lines = s
        .query(
            "SELECT * FROM purchase_line WHERE po = $1 ORDER BY position",
            &[&&key[..]],
        )?
        .iter()
        .map(|r| {
            let ordered = quantity(r, "dimension", "milli")?;
            Ok(PurchaseLine {
                item: StockItemId(id(r, "item")?),
                quantity: ordered,
                cost: money(r, "cost")?,
                received: Quantity {
                    dimension: ordered.dimension,
                    milli: get(r, "received_milli")?,
                },
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(Some(PurchaseOrder {
        id: pid,
        supplier: SupplierId(id(&head, "supplier")?),
        location: LocationId(id(&head, "location")?),
        lines,
        sent: get(&head, "sent")?,
    }))
}
