//! Order projections: an order's state as flat rows, loaded back losslessly; writes checked
//! against the order's version so that nodes sharing the database never overwrite one
//! another; and the applied-request table.

use mpos_domain::catalog::{ChosenModifier, PricedSelection};
use mpos_domain::ids::{
    CategoryId, DiscountId, ItemId, LineId, LocationId, ModifierId, OrderId, PaymentId, StaffId,
    StationId, TableId, VariantId,
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

use crate::batch::Writes;
use crate::sql::{
    Sql, big, get, id, keys, location_key, opt_id, opt_u32_at, opt_u64_at, u32_at, u64_at,
};
use crate::{corrupt, sql_int};

fn opt_time(t: Option<u64>) -> Option<i64> {
    t.map(sql_int)
}

/// Saves an order's projection, its rows gathered into the commit's `Writes`. A new order
/// is inserted (another node inserting the same id first is a conflict); a changed one is
/// written only if the stored row is still at the version the decision read (checked
/// when the commit's changed orders are written together). Lines, discounts and payments are only ever appended (a
/// void or a refund changes a flag or an amount in place), so only the new and changed
/// rows are written.
pub(crate) fn save_order<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    w: &mut Writes,
    before: Option<&Order>,
    o: &Order,
    receipt: Option<&str>,
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
            let n = &mut w.orders;
            n.id.push(oid.to_vec());
            n.number.push(o.number.clone());
            n.channel.push(o.channel.name());
            n.kind.push(kind);
            n.table_id.push(table);
            n.guests.push(guests);
            n.address.push(address.map(str::to_string));
            n.source.push(source_text(&o.source));
            n.currency.push(o.currency.code().to_string());
            n.price_mode.push(mode_text(o.mode));
            n.status.push(status_text(o.status));
            n.service_charge_ppm.push(i64::from(o.service_charge_ppm));
            n.fired_courses.push(fired);
            n.opened_by.push(id_bytes(o.opened_by.0).to_vec());
            n.opened_at.push(sql_int(o.opened_at));
            n.closed_at.push(opt_time(o.closed_at));
            n.total.push(totals.total.minor());
            n.paid.push(totals.paid.minor());
            n.tips.push(totals.tips.minor());
            n.receipt_code.push(receipt.map(str::to_string));
            n.version.push(i64::from(o.version));
            n.location.push(o.location.map(|l| id_bytes(l.0).to_vec()));
            insert_rows(w, o, (0, 0, 0));
            Ok(())
        }
        Some(b) => {
            let c = &mut w.changed;
            c.id.push(oid.to_vec());
            c.before.push(i64::from(b.version));
            c.status.push(status_text(o.status));
            c.service_charge_ppm.push(i64::from(o.service_charge_ppm));
            c.fired_courses.push(fired);
            c.closed_at.push(opt_time(o.closed_at));
            c.total.push(totals.total.minor());
            c.paid.push(totals.paid.minor());
            c.tips.push(totals.tips.minor());
            c.version.push(i64::from(o.version));
            c.receipt_code.push(receipt.map(str::to_string));
            if save_difference(sql, w, b, o)? {
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
            insert_rows(w, o, (0, 0, 0));
            Ok(())
        }
    }
}

/// Adds the order's lines, discounts and payments from the given positions on to the
/// rows the commit inserts.
fn insert_rows(
    w: &mut Writes,
    o: &Order,
    (from_line, from_discount, from_payment): (usize, usize, usize),
) {
    let oid = id_bytes(o.id.0).to_vec();
    for (i, l) in o.lines.iter().enumerate().skip(from_line) {
        let it = &l.item;
        let n = &mut w.lines;
        n.order_id.push(oid.clone());
        n.position.push(big(i));
        n.id.push(id_bytes(l.id.0).to_vec());
        n.item_id.push(id_bytes(it.item.0).to_vec());
        n.name.push(it.name.clone());
        n.variant_id
            .push(it.variant.as_ref().map(|(v, _)| id_bytes(v.0).to_vec()));
        n.variant_name
            .push(it.variant.as_ref().map(|(_, name)| name.clone()));
        n.quantity.push(i64::from(it.quantity));
        n.unit_price.push(it.unit_price.minor());
        n.tax_rates.push(rates_text(&it.tax_rates));
        n.category_id.push(id_bytes(it.category.0).to_vec());
        n.seat.push(l.seat.map(i64::from));
        n.course.push(i64::from(l.course));
        n.note.push(l.note.clone());
        n.sent.push(l.sent);
        n.voided.push(l.voided);
        n.added_by.push(id_bytes(l.added_by.0).to_vec());
        n.station.push(it.station.map(|s| id_bytes(s.0).to_vec()));
        n.round.push(i64::from(l.round));
        n.sent_at.push(opt_time(l.sent_at));
        n.ready_at.push(opt_time(l.ready_at));
        for (j, m) in it.modifiers.iter().enumerate() {
            let n = &mut w.modifiers;
            n.order_id.push(oid.clone());
            n.line_position.push(big(i));
            n.position.push(big(j));
            n.id.push(id_bytes(m.id.0).to_vec());
            n.name.push(m.name.clone());
            n.price_delta.push(m.price_delta.minor());
        }
    }
    for (i, d) in o.discounts.iter().enumerate().skip(from_discount) {
        let (percent, amount) = match d.kind {
            DiscountKind::Percent(p) => (Some(i64::from(p)), None),
            DiscountKind::Amount(a) => (None, Some(a.minor())),
        };
        let n = &mut w.discounts;
        n.order_id.push(oid.clone());
        n.position.push(big(i));
        n.id.push(id_bytes(d.id.0).to_vec());
        n.line_id.push(match d.target {
            DiscountTarget::Order => None,
            DiscountTarget::Line(l) => Some(id_bytes(l.0).to_vec()),
        });
        n.percent_ppm.push(percent);
        n.amount.push(amount);
        n.reason.push(d.reason.clone());
        n.by_staff.push(id_bytes(d.by.0).to_vec());
    }
    for (i, p) in o.payments.iter().enumerate().skip(from_payment) {
        let (tender, detail) = tender_text(&p.tender);
        let n = &mut w.payments;
        n.order_id.push(oid.clone());
        n.position.push(big(i));
        n.id.push(id_bytes(p.id.0).to_vec());
        n.tender.push(tender);
        n.tender_detail.push(detail.to_string());
        n.amount.push(p.amount.minor());
        n.tip.push(p.tip.minor());
        n.cash_received.push(p.cash_received.map(|m| m.minor()));
        n.refunded.push(p.refunded.minor());
        n.by_staff.push(id_bytes(p.by.0).to_vec());
    }
}

/// Writes what changed from `b` to `o` when `order_difference` finds it; false (nothing
/// written) for any other change.
fn save_difference<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    w: &mut Writes,
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
    insert_rows(w, o, d.appended_from);
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
        location: opt_id(&row, "location")?.map(LocationId),
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
        "SELECT l.*, EXISTS (SELECT 1 FROM sold_while_86d s
                             WHERE s.order_id = l.order_id AND s.line_id = l.id) AS flagged
         FROM pos_line l WHERE l.order_id = $1 ORDER BY l.position",
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
            sold_while_86d: get(&r, "flagged")?,
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

/// Adds the batch's requests to the rows the commit inserts: a request id already stored
/// (applied by another node meanwhile) fails the commit as a conflict.
pub(crate) fn save_requests(w: &mut Writes, requests: &[AppliedRequest]) {
    let n = &mut w.requests;
    for r in requests {
        n.id.push(id_bytes(r.request).to_vec());
        n.order_id.push(r.order.map(|o| id_bytes(o.0).to_vec()));
        n.node_id.push(r.node.0.to_vec());
        n.first_seq.push(sql_int(r.first_seq));
        n.last_seq.push(sql_int(r.last_seq));
        n.action.push(r.action.clone());
    }
}

fn applied_row(r: &Row) -> Result<AppliedRequest, StoreError> {
    let node = <[u8; 16]>::try_from(get::<&[u8]>(r, "node_id")?)
        .map_err(|_| corrupt("request node id"))?;
    Ok(AppliedRequest {
        request: id(r, "id")?,
        order: opt_id(r, "order_id")?.map(OrderId),
        node: NodeId(node),
        first_seq: u64_at(r, "first_seq")?,
        last_seq: u64_at(r, "last_seq")?,
        action: get(r, "action")?,
    })
}

pub(crate) fn applied_request<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    request: u128,
) -> Result<Option<AppliedRequest>, StoreError> {
    sql.query_opt(
        "SELECT id, order_id, node_id, first_seq, last_seq, action FROM request WHERE id = $1",
        &[&&id_bytes(request)[..]],
    )?
    .map(|r| applied_row(&r))
    .transpose()
}

pub(crate) fn applied_requests<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    requests: &[u128],
) -> Result<Vec<AppliedRequest>, StoreError> {
    let keys = keys(requests.iter().copied());
    sql.query(
        "SELECT id, order_id, node_id, first_seq, last_seq, action FROM request
         WHERE id = ANY($1)",
        &[&keys],
    )?
    .iter()
    .map(applied_row)
    .collect()
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

pub(crate) fn closed_without_receipt<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    limit: usize,
) -> Result<Vec<OrderId>, StoreError> {
    sql.query(
        "SELECT id FROM pos_order WHERE status = 'closed' AND receipt_code IS NULL
         ORDER BY closed_at DESC LIMIT $1",
        &[&i64::try_from(limit).unwrap_or(i64::MAX)],
    )?
    .iter()
    .map(|r| Ok(OrderId(id(r, "id")?)))
    .collect()
}

pub(crate) fn kitchen_orders<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    location: Option<LocationId>,
    bumped_since: u64,
) -> Result<Vec<Order>, StoreError> {
    let rows = sql.query(
        "SELECT DISTINCT order_id AS id FROM pos_line
         WHERE sent AND station IS NOT NULL AND (ready_at IS NULL OR ready_at >= $1)
           AND ($2::BYTEA IS NULL
                OR order_id IN (SELECT id FROM pos_order WHERE location = $2::BYTEA))",
        &[&sql_int(bumped_since), &location_key(location)],
    )?;
    load_each(sql, &rows)
}

pub(crate) fn recent_orders<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    location: Option<LocationId>,
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
           AND ($5::BYTEA IS NULL OR location = $5::BYTEA)
         ORDER BY opened_at DESC, id DESC LIMIT $4",
        &[
            &sql_int(at),
            &&oid[..],
            &like_prefix(number),
            &big(limit),
            &location_key(location),
        ],
    )?;
    load_each(sql, &rows)
}

pub(crate) fn closed_order_ids<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    location: Option<LocationId>,
    from: u64,
    to: u64,
    limit: usize,
) -> Result<Vec<OrderId>, StoreError> {
    sql.query(
        "SELECT id FROM pos_order
         WHERE status = 'closed' AND closed_at >= $1 AND closed_at < $2
           AND ($4::BYTEA IS NULL OR location = $4::BYTEA)
         ORDER BY closed_at, id LIMIT $3",
        &[
            &sql_int(from),
            &sql_int(to),
            &big(limit),
            &location_key(location),
        ],
    )?
    .iter()
    .map(|r| Ok(OrderId(id(r, "id")?)))
    .collect()
}

pub(crate) fn open_orders<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    location: Option<LocationId>,
) -> Result<Vec<Order>, StoreError> {
    let rows = sql.query(
        "SELECT id FROM pos_order WHERE status = 'open'
           AND ($1::BYTEA IS NULL OR location = $1::BYTEA)
         ORDER BY opened_at, id",
        &[&location_key(location)],
    )?;
    load_each(sql, &rows)
}

pub(crate) fn order_versions<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    ids: &[OrderId],
) -> Result<Vec<(OrderId, u32)>, StoreError> {
    let keys = keys(ids.iter().map(|o| o.0));
    sql.query(
        "SELECT id, version FROM pos_order WHERE id = ANY($1)",
        &[&keys],
    )?
    .iter()
    .map(|r| Ok((OrderId(id(r, "id")?), u32_at(r, "version")?)))
    .collect()
}
