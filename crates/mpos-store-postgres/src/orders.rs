//! Order projections: an order's state as flat rows, loaded back losslessly; writes checked
//! against the order's version so that nodes sharing the database never overwrite one
//! another; and the applied-request table.

use mpos_domain::catalog::{ChosenModifier, PricedSelection};
use mpos_domain::ids::{
    CategoryId, DiscountId, ItemId, LineId, ModifierId, OrderId, PaymentId, StaffId, StationId,
    TableId, VariantId,
};
use mpos_domain::order::{Discount, DiscountKind, DiscountTarget, Line, Order, OrderKind, Payment};
use mpos_domain::{Currency, Money};
use mpos_ledger::NodeId;
use mpos_store::columns::{
    channel_from, id_bytes, join_u32, like_prefix, mode_from, mode_text, rates_from, rates_text,
    source_from, source_text, split_u32, status_from, status_text, tender_from, tender_text,
};
use mpos_store::{AppliedRequest, StoreError, order_difference};
use postgres::{GenericClient, Row};

use crate::sql::{Sql, big, get, id, opt_id, opt_u32_at, opt_u64_at, u32_at, u64_at};
use crate::{corrupt, sql_int};

fn opt_time(t: Option<u64>) -> Option<i64> {
    t.map(sql_int)
}

/// Saves an order's projection. A new order is inserted (another node inserting the same
/// id first is a conflict); a changed one is written only if the stored row is still at
/// the version the decision read. Lines, discounts and payments are only ever appended (a
/// void or a refund changes a flag or an amount in place), so only the new and changed
/// rows are written.
pub(crate) fn save_order<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    before: Option<&Order>,
    o: &Order,
) -> Result<(), StoreError> {
    let totals = o
        .totals()
        .map_err(|e| corrupt(format!("order {} totals: {e}", o.number)))?;
    let oid = id_bytes(o.id.0);
    let fired = join_u32(o.fired_courses.iter().copied());
    match before {
        None => {
            let (kind, table, guests, address) = match &o.kind {
                OrderKind::DineIn { table, guests } => (
                    "dine_in",
                    table.map(|t| id_bytes(t.0).to_vec()),
                    Some(i64::from(*guests)),
                    None,
                ),
                OrderKind::Takeaway => ("takeaway", None, None, None),
                OrderKind::Delivery { address } => ("delivery", None, None, Some(address.as_str())),
            };
            sql.execute(
                "INSERT INTO pos_order (id, number, channel, kind, table_id, guests, address,
                    source, currency, price_mode, status, service_charge_ppm, fired_courses,
                    opened_by, opened_at, closed_at, total, paid, tips, version)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
                    $17, $18, $19, $20)",
                &[
                    &&oid[..],
                    &o.number,
                    &o.channel.name(),
                    &kind,
                    &table,
                    &guests,
                    &address,
                    &source_text(&o.source),
                    &o.currency.code(),
                    &mode_text(o.mode),
                    &status_text(o.status),
                    &i64::from(o.service_charge_ppm),
                    &fired,
                    &&id_bytes(o.opened_by.0)[..],
                    &sql_int(o.opened_at),
                    &opt_time(o.closed_at),
                    &totals.total.minor(),
                    &totals.paid.minor(),
                    &totals.tips.minor(),
                    &i64::from(o.version),
                ],
            )?;
            insert_rows(sql, o, (0, 0, 0))
        }
        Some(b) => {
            let written = sql.execute(
                "UPDATE pos_order SET status = $3, service_charge_ppm = $4, fired_courses = $5,
                    closed_at = $6, total = $7, paid = $8, tips = $9, version = $10
                 WHERE id = $1 AND version = $2",
                &[
                    &&oid[..],
                    &i64::from(b.version),
                    &status_text(o.status),
                    &i64::from(o.service_charge_ppm),
                    &fired,
                    &opt_time(o.closed_at),
                    &totals.total.minor(),
                    &totals.paid.minor(),
                    &totals.tips.minor(),
                    &i64::from(o.version),
                ],
            )?;
            if written != 1 {
                return Err(StoreError::Conflict(format!(
                    "order {} changed since version {} was read (another node wrote it)",
                    o.number, b.version
                )));
            }
            if save_difference(sql, b, o)? {
                return Ok(());
            }
            for table in [
                "pos_line",
                "pos_line_modifier",
                "pos_discount",
                "pos_payment",
            ] {
                sql.execute(
                    &format!("DELETE FROM {table} WHERE order_id = $1"),
                    &[&&oid[..]],
                )?;
            }
            insert_rows(sql, o, (0, 0, 0))
        }
    }
}

/// Inserts the order's lines, discounts and payments from the given positions on.
fn insert_rows<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    o: &Order,
    (from_line, from_discount, from_payment): (usize, usize, usize),
) -> Result<(), StoreError> {
    let oid = id_bytes(o.id.0);
    for (i, l) in o.lines.iter().enumerate().skip(from_line) {
        let it = &l.item;
        sql.execute(
            "INSERT INTO pos_line (order_id, position, id, item_id, name, variant_id,
                variant_name, quantity, unit_price, tax_rates, category_id, seat, course, note,
                sent, voided, added_by, station, round, sent_at, ready_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
                $17, $18, $19, $20, $21)",
            &[
                &&oid[..],
                &big(i),
                &&id_bytes(l.id.0)[..],
                &&id_bytes(it.item.0)[..],
                &it.name,
                &it.variant.as_ref().map(|(v, _)| id_bytes(v.0).to_vec()),
                &it.variant.as_ref().map(|(_, n)| n.as_str()),
                &i64::from(it.quantity),
                &it.unit_price.minor(),
                &rates_text(&it.tax_rates),
                &&id_bytes(it.category.0)[..],
                &l.seat.map(i64::from),
                &i64::from(l.course),
                &l.note,
                &l.sent,
                &l.voided,
                &&id_bytes(l.added_by.0)[..],
                &it.station.map(|s| id_bytes(s.0).to_vec()),
                &i64::from(l.round),
                &opt_time(l.sent_at),
                &opt_time(l.ready_at),
            ],
        )?;
        for (j, m) in it.modifiers.iter().enumerate() {
            sql.execute(
                "INSERT INTO pos_line_modifier (order_id, line_position, position, id, name,
                    price_delta) VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    &&oid[..],
                    &big(i),
                    &big(j),
                    &&id_bytes(m.id.0)[..],
                    &m.name,
                    &m.price_delta.minor(),
                ],
            )?;
        }
    }
    for (i, d) in o.discounts.iter().enumerate().skip(from_discount) {
        let line = match d.target {
            DiscountTarget::Order => None,
            DiscountTarget::Line(l) => Some(id_bytes(l.0).to_vec()),
        };
        let (percent, amount) = match d.kind {
            DiscountKind::Percent(p) => (Some(i64::from(p)), None),
            DiscountKind::Amount(a) => (None, Some(a.minor())),
        };
        sql.execute(
            "INSERT INTO pos_discount (order_id, position, id, line_id, percent_ppm, amount,
                reason, by_staff) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                &&oid[..],
                &big(i),
                &&id_bytes(d.id.0)[..],
                &line,
                &percent,
                &amount,
                &d.reason,
                &&id_bytes(d.by.0)[..],
            ],
        )?;
    }
    for (i, p) in o.payments.iter().enumerate().skip(from_payment) {
        let (tender, detail) = tender_text(&p.tender);
        sql.execute(
            "INSERT INTO pos_payment (order_id, position, id, tender, tender_detail, amount, tip,
                cash_received, refunded, by_staff)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            &[
                &&oid[..],
                &big(i),
                &&id_bytes(p.id.0)[..],
                &tender,
                &detail,
                &p.amount.minor(),
                &p.tip.minor(),
                &p.cash_received.map(|m| m.minor()),
                &p.refunded.minor(),
                &&id_bytes(p.by.0)[..],
            ],
        )?;
    }
    Ok(())
}

/// Writes what changed from `b` to `o` when `order_difference` finds it; false (nothing
/// written) for any other change.
fn save_difference<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    b: &Order,
    o: &Order,
) -> Result<bool, StoreError> {
    let Some(d) = order_difference(b, o) else {
        return Ok(false);
    };
    let oid = id_bytes(o.id.0);
    for i in d.changed_lines {
        let y = &o.lines[i];
        sql.execute(
            "UPDATE pos_line SET sent = $3, voided = $4, round = $5, sent_at = $6,
                ready_at = $7
             WHERE order_id = $1 AND position = $2",
            &[
                &&oid[..],
                &big(i),
                &y.sent,
                &y.voided,
                &i64::from(y.round),
                &opt_time(y.sent_at),
                &opt_time(y.ready_at),
            ],
        )?;
    }
    for i in d.refunded_payments {
        sql.execute(
            "UPDATE pos_payment SET refunded = $3 WHERE order_id = $1 AND position = $2",
            &[&&oid[..], &big(i), &o.payments[i].refunded.minor()],
        )?;
    }
    insert_rows(sql, o, d.appended_from)?;
    Ok(true)
}

/// The orders of `ids`, in that order.
pub(crate) fn load_each<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    rows: &[Row],
) -> Result<Vec<Order>, StoreError> {
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        if let Some(o) = load(sql, OrderId(id(r, "id")?))? {
            out.push(o);
        }
    }
    Ok(out)
}

pub(crate) fn load<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    oid: OrderId,
) -> Result<Option<Order>, StoreError> {
    let key = id_bytes(oid.0);
    let Some(row) = sql.query_opt("SELECT * FROM pos_order WHERE id = $1", &[&&key[..]])? else {
        return Ok(None);
    };
    let currency = Currency::from_code(get(&row, "currency")?).map_err(corrupt)?;
    let money = |m: i64| Money::new(m, currency);
    let kind = match get::<&str>(&row, "kind")? {
        "dine_in" => OrderKind::DineIn {
            table: opt_id(&row, "table_id")?.map(TableId),
            guests: opt_u32_at(&row, "guests")?.unwrap_or(0),
        },
        "takeaway" => OrderKind::Takeaway,
        "delivery" => OrderKind::Delivery {
            address: get::<Option<String>>(&row, "address")?.unwrap_or_default(),
        },
        other => return Err(corrupt(format!("unknown order kind {other:?}"))),
    };
    let mut order = Order {
        id: oid,
        number: get(&row, "number")?,
        channel: channel_from(get(&row, "channel")?)?,
        kind,
        source: source_from(get(&row, "source")?)?,
        currency,
        mode: mode_from(get(&row, "price_mode")?)?,
        status: status_from(get(&row, "status")?)?,
        lines: Vec::new(),
        discounts: Vec::new(),
        service_charge_ppm: u32_at(&row, "service_charge_ppm")?,
        payments: Vec::new(),
        fired_courses: split_u32(get(&row, "fired_courses")?)?,
        opened_by: StaffId(id(&row, "opened_by")?),
        opened_at: u64_at(&row, "opened_at")?,
        closed_at: opt_u64_at(&row, "closed_at")?,
        version: u32_at(&row, "version")?,
    };
    let mut modifiers: Vec<(i64, ChosenModifier)> = Vec::new();
    for r in sql.query(
        "SELECT * FROM pos_line_modifier WHERE order_id = $1 ORDER BY line_position, position",
        &[&&key[..]],
    )? {
        modifiers.push((
            get(&r, "line_position")?,
            ChosenModifier {
                id: ModifierId(id(&r, "id")?),
                name: get(&r, "name")?,
                price_delta: money(get(&r, "price_delta")?),
            },
        ));
    }
    for r in sql.query(
        "SELECT * FROM pos_line WHERE order_id = $1 ORDER BY position",
        &[&&key[..]],
    )? {
        let position: i64 = get(&r, "position")?;
        let variant = match opt_id(&r, "variant_id")? {
            Some(v) => Some((
                VariantId(v),
                get::<Option<String>>(&r, "variant_name")?.unwrap_or_default(),
            )),
            None => None,
        };
        order.lines.push(Line {
            id: LineId(id(&r, "id")?),
            item: PricedSelection {
                item: ItemId(id(&r, "item_id")?),
                name: get(&r, "name")?,
                variant,
                modifiers: modifiers
                    .iter()
                    .filter(|(p, _)| *p == position)
                    .map(|(_, m)| m.clone())
                    .collect(),
                quantity: u32_at(&r, "quantity")?,
                unit_price: money(get(&r, "unit_price")?),
                tax_rates: rates_from(get(&r, "tax_rates")?)?,
                category: CategoryId(id(&r, "category_id")?),
                station: opt_id(&r, "station")?.map(StationId),
            },
            seat: opt_u32_at(&r, "seat")?,
            course: u32_at(&r, "course")?,
            note: get(&r, "note")?,
            sent: get(&r, "sent")?,
            voided: get(&r, "voided")?,
            added_by: StaffId(id(&r, "added_by")?),
            round: u32_at(&r, "round")?,
            sent_at: opt_u64_at(&r, "sent_at")?,
            ready_at: opt_u64_at(&r, "ready_at")?,
        });
    }
    for r in sql.query(
        "SELECT * FROM pos_discount WHERE order_id = $1 ORDER BY position",
        &[&&key[..]],
    )? {
        let kind = match (
            opt_u32_at(&r, "percent_ppm")?,
            get::<Option<i64>>(&r, "amount")?,
        ) {
            (Some(p), None) => DiscountKind::Percent(p),
            (None, Some(a)) => DiscountKind::Amount(money(a)),
            _ => return Err(corrupt("a discount is neither a percentage nor an amount")),
        };
        order.discounts.push(Discount {
            id: DiscountId(id(&r, "id")?),
            target: match opt_id(&r, "line_id")? {
                None => DiscountTarget::Order,
                Some(l) => DiscountTarget::Line(LineId(l)),
            },
            kind,
            reason: get(&r, "reason")?,
            by: StaffId(id(&r, "by_staff")?),
        });
    }
    for r in sql.query(
        "SELECT * FROM pos_payment WHERE order_id = $1 ORDER BY position",
        &[&&key[..]],
    )? {
        order.payments.push(Payment {
            id: PaymentId(id(&r, "id")?),
            tender: tender_from(get(&r, "tender")?, get(&r, "tender_detail")?)?,
            amount: money(get(&r, "amount")?),
            tip: money(get(&r, "tip")?),
            cash_received: get::<Option<i64>>(&r, "cash_received")?.map(money),
            refunded: money(get(&r, "refunded")?),
            by: StaffId(id(&r, "by_staff")?),
        });
    }
    Ok(Some(order))
}

pub(crate) fn save_requests<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    requests: &[AppliedRequest],
) -> Result<(), StoreError> {
    for r in requests {
        sql.execute(
            "INSERT INTO request (id, order_id, node_id, first_seq, last_seq, action)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &&id_bytes(r.request)[..],
                &r.order.map(|o| id_bytes(o.0).to_vec()),
                &&r.node.0[..],
                &sql_int(r.first_seq),
                &sql_int(r.last_seq),
                &r.action,
            ],
        )
        .map_err(|e| match e {
            StoreError::Conflict(_) => {
                StoreError::Conflict(format!("request {:032x} was already applied", r.request))
            }
            e => e,
        })?;
    }
    Ok(())
}

pub(crate) fn applied_request<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    request: u128,
) -> Result<Option<AppliedRequest>, StoreError> {
    let Some(r) = sql.query_opt(
        "SELECT order_id, node_id, first_seq, last_seq, action FROM request WHERE id = $1",
        &[&&id_bytes(request)[..]],
    )?
    else {
        return Ok(None);
    };
    let node = <[u8; 16]>::try_from(get::<&[u8]>(&r, "node_id")?)
        .map_err(|_| corrupt("request node id"))?;
    Ok(Some(AppliedRequest {
        request,
        order: opt_id(&r, "order_id")?.map(OrderId),
        node: NodeId(node),
        first_seq: u64_at(&r, "first_seq")?,
        last_seq: u64_at(&r, "last_seq")?,
        action: get(&r, "action")?,
    }))
}

pub(crate) fn receipt_code<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    order: OrderId,
) -> Result<Option<String>, StoreError> {
    Ok(sql
        .query_opt(
            "SELECT receipt_code FROM pos_order WHERE id = $1",
            &[&&id_bytes(order.0)[..]],
        )?
        .map(|r| get::<Option<String>>(&r, "receipt_code"))
        .transpose()?
        .flatten())
}

pub(crate) fn save_receipt<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    order: OrderId,
    code: &str,
) -> Result<(), StoreError> {
    sql.execute(
        "UPDATE pos_order SET receipt_code = $2 WHERE id = $1",
        &[&&id_bytes(order.0)[..], &code],
    )?;
    Ok(())
}

pub(crate) fn kitchen_orders<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    bumped_since: u64,
) -> Result<Vec<Order>, StoreError> {
    let rows = sql.query(
        "SELECT DISTINCT order_id AS id FROM pos_line
         WHERE sent AND station IS NOT NULL AND (ready_at IS NULL OR ready_at >= $1)",
        &[&sql_int(bumped_since)],
    )?;
    load_each(sql, &rows)
}

pub(crate) fn recent_orders<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    before: Option<(u64, OrderId)>,
    number: &str,
    limit: usize,
) -> Result<Vec<Order>, StoreError> {
    let (at, oid) = before.map_or((u64::MAX, [0xff; 16]), |(at, o)| (at, id_bytes(o.0)));
    // Lowered on both sides: SQLite's LIKE ignores ASCII case. The prefix's own wildcards
    // are escaped.
    let rows = sql.query(
        "SELECT id FROM pos_order
         WHERE (opened_at < $1 OR (opened_at = $1 AND id < $2))
           AND lower(number) LIKE lower($3) ESCAPE '\\'
         ORDER BY opened_at DESC, id DESC LIMIT $4",
        &[&sql_int(at), &&oid[..], &like_prefix(number), &big(limit)],
    )?;
    load_each(sql, &rows)
}

pub(crate) fn closed_order_ids<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    from: u64,
    to: u64,
    limit: usize,
) -> Result<Vec<OrderId>, StoreError> {
    sql.query(
        "SELECT id FROM pos_order
         WHERE status = 'closed' AND closed_at >= $1 AND closed_at < $2
         ORDER BY closed_at, id LIMIT $3",
        &[&sql_int(from), &sql_int(to), &big(limit)],
    )?
    .iter()
    .map(|r| Ok(OrderId(id(r, "id")?)))
    .collect()
}

pub(crate) fn open_orders<C: GenericClient>(
    sql: &mut Sql<'_, C>,
) -> Result<Vec<Order>, StoreError> {
    let rows = sql.query(
        "SELECT id FROM pos_order WHERE status = 'open' ORDER BY opened_at, id",
        &[],
    )?;
    load_each(sql, &rows)
}

pub(crate) fn order_versions<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    ids: &[OrderId],
) -> Result<Vec<(OrderId, u32)>, StoreError> {
    let keys: Vec<Vec<u8>> = ids.iter().map(|o| id_bytes(o.0).to_vec()).collect();
    sql.query(
        "SELECT id, version FROM pos_order WHERE id = ANY($1)",
        &[&keys],
    )?
    .iter()
    .map(|r| Ok((OrderId(id(r, "id")?), u32_at(r, "version")?)))
    .collect()
}
