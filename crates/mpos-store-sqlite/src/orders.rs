//! Order projections: an order's state saved as flat rows (for lists and SQL reports) and
//! loaded back, losslessly, for the next command; and the applied-request table.

use mpos_domain::catalog::{Category, Item, ModifierGroup, TaxCategory};
use mpos_domain::catalog::{ChosenModifier, PricedSelection};
use mpos_domain::drawer::Drawer;
use mpos_domain::floor::Table;
use mpos_domain::ids::{
    CategoryId, DiscountId, ItemId, LineId, ModifierId, OrderId, PaymentId, StaffId, StationId,
    TableId, VariantId,
};
use mpos_domain::ids::{DrawerId, LocationId};
use mpos_domain::ids::{ItemId as MenuItemId, ModifierGroupId, TaxCategoryId};
use mpos_domain::menu::Settings;
use mpos_domain::order::{Discount, DiscountKind, DiscountTarget, Line, Order, OrderKind, Payment};
use mpos_domain::{Currency, Money, TaxRate};
use mpos_ledger::NodeId;
use mpos_store::{
    AppliedRequest, AvailabilityChange, ClosedDay, LedgerBatch, PosStore, Projection, SoldWhile86d,
    StoreError, order_difference,
};
use rusqlite::{OptionalExtension, Transaction, params};

use mpos_store::columns::{
    channel_from, join_u32, like_prefix, mode_from, mode_text, source_from, source_text, split_u32,
    status_from, status_text, tender_from, tender_text,
};

use crate::row::{get, id_bytes, location_key, read_id, read_opt_id, rows};
use crate::{SqliteStore, append_ledger, corrupt, db, sql_int};

/// Saves an order's projection, only where the stored order is still at the version the
/// decision read (`before`; a new order only where none is stored). Lines, discounts and
/// payments are only ever appended (a void or a refund changes a flag or an amount in
/// place), so when the stored state is known only the new and changed rows are written;
/// anything else rewrites the order.
fn save_order(tx: &Transaction<'_>, before: Option<&Order>, o: &Order) -> Result<(), StoreError> {
    let totals = o
        .totals()
        .map_err(|e| corrupt(format!("order {} totals: {e}", o.number)))?;
    let oid = id_bytes(o.id.0);
    let (kind, table, guests, address) = match &o.kind {
        OrderKind::DineIn { table, guests } => {
            ("dine_in", table.map(|t| id_bytes(t.0)), Some(*guests), None)
        }
        OrderKind::Takeaway => ("takeaway", None, None, None),
        OrderKind::Delivery { address } => ("delivery", None, None, Some(address.clone())),
    };
    let written = tx.prepare_cached("INSERT INTO pos_order (id, number, channel, kind, table_id, guests, address, source, currency,
            price_mode, status, service_charge_ppm, fired_courses, opened_by, opened_at, closed_at,
            total, paid, tips, version, location)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?22)
         ON CONFLICT (id) DO UPDATE SET status = excluded.status,
            service_charge_ppm = excluded.service_charge_ppm, fired_courses = excluded.fired_courses,
            closed_at = excluded.closed_at, total = excluded.total, paid = excluded.paid,
            tips = excluded.tips, version = excluded.version
         WHERE pos_order.version = ?21").map_err(db)?.execute(
        params![
            &oid[..],
            o.number,
            o.channel.name(),
            kind,
            table.as_ref().map(|t| &t[..]),
            guests,
            address,
            source_text(&o.source),
            o.currency.code(),
            mode_text(o.mode),
            status_text(o.status),
            o.service_charge_ppm,
            join_u32(o.fired_courses.iter().copied()),
            &id_bytes(o.opened_by.0)[..],
            sql_int(o.opened_at),
            o.closed_at.map(sql_int),
            totals.total.minor(),
            totals.paid.minor(),
            totals.tips.minor(),
            o.version,
            before.map(|b| b.version),
            o.location.map(|l| id_bytes(l.0).to_vec()),
        ],
    )
    .map_err(db)?;
    // Nothing written: the order exists but not at the version the decision read (or
    // was opened again).
    if written != 1 {
        return Err(StoreError::Conflict(format!(
            "order {} changed since it was read",
            o.number
        )));
    }
    match before {
        None => insert_rows(tx, o, (0, 0, 0)),
        Some(b) if save_difference(tx, b, o)? => Ok(()),
        Some(_) => {
            delete_rows(tx, &oid)?;
            insert_rows(tx, o, (0, 0, 0))
        }
    }
}

/// A line's modifiers as its row keeps them: JSON, `[[id in hex, name, price delta], ...]`
/// in the order chosen; none for a line without.
pub(crate) fn modifiers_text(modifiers: &[ChosenModifier]) -> Result<Option<String>, StoreError> {
    if modifiers.is_empty() {
        return Ok(None);
    }
    let kept: Vec<(String, &str, i64)> = modifiers
        .iter()
        .map(|m| {
            (
                format!("{:032x}", m.id.0),
                m.name.as_str(),
                m.price_delta.minor(),
            )
        })
        .collect();
    serde_json::to_string(&kept)
        .map(Some)
        .map_err(|e| corrupt(format!("a line's modifiers: {e}")))
}

/// A line's modifiers from its row ([`modifiers_text`]).
pub(crate) fn modifiers_from(
    text: Option<String>,
    currency: Currency,
) -> Result<Vec<ChosenModifier>, StoreError> {
    let Some(text) = text else {
        return Ok(Vec::new());
    };
    let kept: Vec<(String, String, i64)> =
        serde_json::from_str(&text).map_err(|e| corrupt(format!("a line's modifiers: {e}")))?;
    kept.into_iter()
        .map(|(id, name, delta)| {
            let id = (id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()))
                .then(|| u128::from_str_radix(&id, 16).ok())
                .flatten()
                .ok_or_else(|| corrupt(format!("a modifier id is not 32 hex digits: {id:?}")))?;
            Ok(ChosenModifier {
                id: ModifierId(id),
                name,
                price_delta: Money::new(delta, currency),
            })
        })
        .collect()
}

fn delete_rows(tx: &Transaction<'_>, oid: &[u8; 16]) -> Result<(), StoreError> {
    for table in ["pos_line", "pos_discount", "pos_payment"] {
        // Cached per table: this runs for every order a batch touches.
        tx.prepare_cached(&format!("DELETE FROM {table} WHERE order_id = ?1"))
            .map_err(db)?
            .execute([&oid[..]])
            .map_err(db)?;
    }
    Ok(())
}

/// Inserts the order's lines, discounts and payments from the given positions on.
fn insert_rows(
    tx: &Transaction<'_>,
    o: &Order,
    (from_line, from_discount, from_payment): (usize, usize, usize),
) -> Result<(), StoreError> {
    let oid = id_bytes(o.id.0);
    let mut line_stmt = tx
        .prepare_cached(
            "INSERT INTO pos_line (order_id, position, id, item_id, name, variant_id, variant_name,
                quantity, unit_price, tax_rates, category_id, seat, course, note, sent, voided, added_by,
                station, round, sent_at, ready_at, modifiers)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
                ?18, ?19, ?20, ?21, ?22)",
        )
        .map_err(db)?;
    for (i, l) in o.lines.iter().enumerate().skip(from_line) {
        let it = &l.item;
        line_stmt
            .execute(params![
                &oid[..],
                i as i64,
                &id_bytes(l.id.0)[..],
                &id_bytes(it.item.0)[..],
                it.name,
                it.variant.as_ref().map(|(v, _)| id_bytes(v.0).to_vec()),
                it.variant.as_ref().map(|(_, n)| n.clone()),
                it.quantity,
                it.unit_price.minor(),
                join_u32(it.tax_rates.iter().map(|r| r.ppm())),
                &id_bytes(it.category.0)[..],
                l.seat,
                l.course,
                l.note,
                l.sent,
                l.voided,
                &id_bytes(l.added_by.0)[..],
                it.station.map(|s| id_bytes(s.0).to_vec()),
                l.round,
                l.sent_at.map(sql_int),
                l.ready_at.map(sql_int),
                modifiers_text(&it.modifiers)?,
            ])
            .map_err(db)?;
    }
    let mut discount_stmt = tx
        .prepare_cached(
            "INSERT INTO pos_discount (order_id, position, id, line_id, percent_ppm, amount, reason, by_staff)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )
        .map_err(db)?;
    for (i, d) in o.discounts.iter().enumerate().skip(from_discount) {
        let line = match d.target {
            DiscountTarget::Order => None,
            DiscountTarget::Line(l) => Some(id_bytes(l.0).to_vec()),
        };
        let (percent, amount) = match d.kind {
            DiscountKind::Percent(p) => (Some(p), None),
            DiscountKind::Amount(a) => (None, Some(a.minor())),
        };
        discount_stmt
            .execute(params![
                &oid[..],
                i as i64,
                &id_bytes(d.id.0)[..],
                line,
                percent,
                amount,
                d.reason,
                &id_bytes(d.by.0)[..]
            ])
            .map_err(db)?;
    }
    let mut payment_stmt = tx
        .prepare_cached(
            "INSERT INTO pos_payment (order_id, position, id, tender, tender_detail, amount, tip,
                cash_received, refunded, by_staff)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )
        .map_err(db)?;
    for (i, p) in o.payments.iter().enumerate().skip(from_payment) {
        let (tender, detail) = tender_text(&p.tender);
        payment_stmt
            .execute(params![
                &oid[..],
                i as i64,
                &id_bytes(p.id.0)[..],
                tender,
                detail,
                p.amount.minor(),
                p.tip.minor(),
                p.cash_received.map(|m| m.minor()),
                p.refunded.minor(),
                &id_bytes(p.by.0)[..],
            ])
            .map_err(db)?;
    }
    Ok(())
}

/// Writes what changed from `b` to `o` when `order_difference` finds it; false (nothing
/// written) for any other change.
fn save_difference(tx: &Transaction<'_>, b: &Order, o: &Order) -> Result<bool, StoreError> {
    let Some(d) = order_difference(b, o) else {
        return Ok(false);
    };
    let oid = id_bytes(o.id.0);
    for i in d.changed_lines {
        let y = &o.lines[i];
        tx.prepare_cached(
            "UPDATE pos_line SET sent = ?3, voided = ?4, round = ?5, sent_at = ?6, ready_at = ?7
             WHERE order_id = ?1 AND position = ?2",
        )
        .map_err(db)?
        .execute(params![
            &oid[..],
            i as i64,
            y.sent,
            y.voided,
            y.round,
            y.sent_at.map(sql_int),
            y.ready_at.map(sql_int)
        ])
        .map_err(db)?;
    }
    for i in d.refunded_payments {
        tx.prepare_cached(
            "UPDATE pos_payment SET refunded = ?3 WHERE order_id = ?1 AND position = ?2",
        )
        .map_err(db)?
        .execute(params![&oid[..], i as i64, o.payments[i].refunded.minor()])
        .map_err(db)?;
    }
    insert_rows(tx, o, d.appended_from)?;
    Ok(true)
}

/// The orders of `ids` (raw id columns), in that order.
fn load_each(conn: &rusqlite::Connection, ids: Vec<Vec<u8>>) -> Result<Vec<Order>, StoreError> {
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let id = crate::row::from_id(&id, "order id")?;
        if let Some(o) = load(conn, OrderId(id))? {
            out.push(o);
        }
    }
    Ok(out)
}

fn load(conn: &rusqlite::Connection, id: OrderId) -> Result<Option<Order>, StoreError> {
    let oid = id_bytes(id.0);
    let mut stmt = conn
        .prepare_cached("SELECT * FROM pos_order WHERE id = ?1")
        .map_err(db)?;
    let mut rows = stmt.query([&oid[..]]).map_err(db)?;
    let Some(row) = rows.next().map_err(db)? else {
        return Ok(None);
    };
    let currency_code: String = get(row, "currency")?;
    let currency = Currency::from_code(&currency_code).map_err(corrupt)?;
    let money = |m: i64| Money::new(m, currency);
    let kind: String = get(row, "kind")?;
    let kind = match kind.as_str() {
        "dine_in" => OrderKind::DineIn {
            table: read_opt_id(row, "table_id")?.map(TableId),
            guests: get(row, "guests")?,
        },
        "takeaway" => OrderKind::Takeaway,
        "delivery" => OrderKind::Delivery {
            address: get(row, "address")?,
        },
        other => return Err(corrupt(format!("unknown order kind {other:?}"))),
    };
    let mut order = Order {
        id,
        number: get(row, "number")?,
        channel: channel_from(&get::<String>(row, "channel")?)?,
        kind,
        source: source_from(&get::<String>(row, "source")?)?,
        currency,
        mode: mode_from(&get::<String>(row, "price_mode")?)?,
        location: read_opt_id(row, "location")?.map(LocationId),
        status: status_from(&get::<String>(row, "status")?)?,
        lines: Vec::new(),
        discounts: Vec::new(),
        service_charge_ppm: get(row, "service_charge_ppm")?,
        payments: Vec::new(),
        fired_courses: split_u32(&get::<String>(row, "fired_courses")?)?,
        opened_by: StaffId(read_id(row, "opened_by")?),
        opened_at: get::<i64>(row, "opened_at")?.max(0).unsigned_abs(),
        closed_at: get::<Option<i64>>(row, "closed_at")?.map(|t| t.max(0).unsigned_abs()),
        version: get(row, "version")?,
    };
    drop(rows);

    let mut lines = conn
        .prepare_cached(
            "SELECT l.*, EXISTS (SELECT 1 FROM sold_while_86d s
                                 WHERE s.order_id = l.order_id AND s.line_id = l.id) AS flagged
             FROM pos_line l WHERE l.order_id = ?1 ORDER BY l.position",
        )
        .map_err(db)?;
    let mut rows = lines.query([&oid[..]]).map_err(db)?;
    while let Some(r) = rows.next().map_err(db)? {
        let variant = match read_opt_id(r, "variant_id")? {
            Some(v) => Some((VariantId(v), get::<String>(r, "variant_name")?)),
            None => None,
        };
        order.lines.push(Line {
            id: LineId(read_id(r, "id")?),
            item: PricedSelection {
                item: ItemId(read_id(r, "item_id")?),
                name: get(r, "name")?,
                variant,
                modifiers: modifiers_from(get(r, "modifiers")?, currency)?,
                quantity: get(r, "quantity")?,
                unit_price: money(get(r, "unit_price")?),
                tax_rates: split_u32(&get::<String>(r, "tax_rates")?)?
                    .into_iter()
                    .map(TaxRate::from_ppm)
                    .collect(),
                category: CategoryId(read_id(r, "category_id")?),
                station: read_opt_id(r, "station")?.map(StationId),
            },
            seat: get(r, "seat")?,
            course: get(r, "course")?,
            note: get(r, "note")?,
            sent: get(r, "sent")?,
            voided: get(r, "voided")?,
            added_by: StaffId(read_id(r, "added_by")?),
            round: get(r, "round")?,
            sent_at: get::<Option<i64>>(r, "sent_at")?.map(|t| t.max(0).unsigned_abs()),
            ready_at: get::<Option<i64>>(r, "ready_at")?.map(|t| t.max(0).unsigned_abs()),
            sold_while_86d: get(r, "flagged")?,
        });
    }
    let mut discounts = conn
        .prepare_cached("SELECT * FROM pos_discount WHERE order_id = ?1 ORDER BY position")
        .map_err(db)?;
    let mut rows = discounts.query([&oid[..]]).map_err(db)?;
    while let Some(r) = rows.next().map_err(db)? {
        let kind = match (
            get::<Option<u32>>(r, "percent_ppm")?,
            get::<Option<i64>>(r, "amount")?,
        ) {
            (Some(p), None) => DiscountKind::Percent(p),
            (None, Some(a)) => DiscountKind::Amount(money(a)),
            _ => return Err(corrupt("a discount is neither a percentage nor an amount")),
        };
        order.discounts.push(Discount {
            id: DiscountId(read_id(r, "id")?),
            target: match read_opt_id(r, "line_id")? {
                None => DiscountTarget::Order,
                Some(l) => DiscountTarget::Line(LineId(l)),
            },
            kind,
            reason: get(r, "reason")?,
            by: StaffId(read_id(r, "by_staff")?),
        });
    }
    let mut payments = conn
        .prepare_cached("SELECT * FROM pos_payment WHERE order_id = ?1 ORDER BY position")
        .map_err(db)?;
    let mut rows = payments.query([&oid[..]]).map_err(db)?;
    while let Some(r) = rows.next().map_err(db)? {
        let tender = tender_from(&get::<String>(r, "tender")?, get(r, "tender_detail")?)?;
        order.payments.push(Payment {
            id: PaymentId(read_id(r, "id")?),
            tender,
            amount: money(get(r, "amount")?),
            tip: money(get(r, "tip")?),
            cash_received: get::<Option<i64>>(r, "cash_received")?.map(money),
            refunded: money(get(r, "refunded")?),
            by: StaffId(read_id(r, "by_staff")?),
        });
    }
    Ok(Some(order))
}

/// Writes what a batch of `node`'s events changed in the projections.
fn save_projection(
    tx: &rusqlite::Transaction<'_>,
    node: NodeId,
    projection: &Projection<'_>,
) -> Result<(), StoreError> {
    for change in &projection.menu {
        crate::menu::save_change(tx, change)?;
    }
    for o in &projection.orders {
        save_order(tx, o.before, o.after)?;
    }
    for change in &projection.staff {
        crate::staff::save_change(tx, change)?;
    }
    for pin in &projection.pins {
        crate::staff::save_pin(tx, pin)?;
    }
    for change in &projection.floor {
        crate::floor::save_change(tx, change)?;
    }
    for d in &projection.drawers {
        crate::day::save_drawer(tx, d)?;
    }
    for d in &projection.days {
        crate::day::save_day(tx, d)?;
    }
    for e in &projection.inventory {
        crate::inventory::save_event(tx, node, e)?;
    }
    for update in &projection.trust {
        crate::trust::save_update(tx, update)?;
    }
    for clock in &projection.clocks {
        crate::trust::save_clock(tx, clock)?;
    }
    for change in &projection.pin_changes {
        crate::trust::save_pin_change(tx, *change)?;
    }
    crate::availability::save(tx, projection)?;
    for (order, first, last) in &projection.order_entries {
        crate::trust::save_order_entry(tx, node, *order, (*first, *last))?;
    }
    if projection.changes_catalog() {
        tx.prepare_cached("UPDATE catalog_generation SET n = n + 1 WHERE id = 1")
            .map_err(db)?
            .execute([])
            .map_err(db)?;
    }
    for (order, code) in &projection.receipts {
        tx.prepare_cached("UPDATE pos_order SET receipt_code = ?2 WHERE id = ?1")
            .map_err(db)?
            .execute(params![&id_bytes(order.0)[..], code])
            .map_err(db)?;
    }
    Ok(())
}

impl PosStore for SqliteStore {
    fn begin_reads(&mut self) -> Result<(), StoreError> {
        self.let_reads_go()?;
        self.conn_mut().execute_batch("BEGIN").map_err(db)
    }

    fn end_reads(&mut self) -> Result<(), StoreError> {
        self.let_reads_go()
    }

    fn commit(
        &mut self,
        batch: &LedgerBatch,
        projection: &Projection<'_>,
        requests: &[AppliedRequest],
    ) -> Result<(), StoreError> {
        let tx = self.write_transaction()?;
        append_ledger(
            &tx,
            &batch.key,
            &batch.entries,
            &batch.checkpoint,
            &batch.head,
        )?;
        save_projection(&tx, batch.key.node_id(), projection)?;
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO request (id, order_id, node_id, first_seq, last_seq, action) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .map_err(db)?;
            for r in requests {
                insert
                    .execute(params![
                        &id_bytes(r.request)[..],
                        r.order.map(|o| id_bytes(o.0).to_vec()),
                        &r.node.0[..],
                        sql_int(r.first_seq),
                        sql_int(r.last_seq),
                        r.action
                    ])
                    .map_err(|e| match e {
                        rusqlite::Error::SqliteFailure(f, _)
                            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
                        {
                            StoreError::Conflict(format!(
                                "request {:032x} was already applied",
                                r.request
                            ))
                        }
                        e => db(e),
                    })?;
            }
        }
        tx.commit().map_err(db)
    }

    fn commit_replica(
        &mut self,
        batches: &[LedgerBatch],
        projection: &Projection<'_>,
    ) -> Result<(), StoreError> {
        let Some(node) = mpos_store::replica_node(batches)? else {
            return Ok(());
        };
        let tx = self.write_transaction()?;
        for b in batches {
            append_ledger(&tx, &b.key, &b.entries, &b.checkpoint, &b.head)?;
        }
        save_projection(&tx, node, projection)?;
        tx.commit().map_err(db)
    }

    fn load_order(&self, id: OrderId) -> Result<Option<Order>, StoreError> {
        load(self.conn(), id)
    }

    fn catalog_generation(&self) -> Result<u64, StoreError> {
        let n: i64 = self
            .conn()
            .prepare_cached("SELECT n FROM catalog_generation WHERE id = 1")
            .map_err(db)?
            .query_row([], |r| r.get(0))
            .map_err(db)?;
        mpos_store::columns::unsigned(n, "catalog generation")
    }

    fn order_versions(&self, ids: &[OrderId]) -> Result<Vec<(OrderId, u32)>, StoreError> {
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT version FROM pos_order WHERE id = ?1")
            .map_err(db)?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let v: Option<u32> = stmt
                .query_row([&id_bytes(id.0)[..]], |r| r.get(0))
                .optional()
                .map_err(db)?;
            out.extend(v.map(|v| (*id, v)));
        }
        Ok(out)
    }

    fn applied_request(&self, request: u128) -> Result<Option<AppliedRequest>, StoreError> {
        self.conn()
            .prepare_cached(
                "SELECT order_id, node_id, first_seq, last_seq, action FROM request WHERE id = ?1",
            )
            .map_err(db)?
            .query_row([&id_bytes(request)[..]], |r| {
                Ok((
                    r.get::<_, Option<Vec<u8>>>(0)?,
                    r.get::<_, Vec<u8>>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, String>(4)?,
                ))
            })
            .optional()
            .map_err(db)?
            .map(|(order, node, first, last, action)| {
                Ok(AppliedRequest {
                    request,
                    order: order
                        .map(|o| {
                            <[u8; 16]>::try_from(o.as_slice())
                                .map(|b| OrderId(u128::from_be_bytes(b)))
                                .map_err(|_| corrupt("request order id"))
                        })
                        .transpose()?,
                    node: NodeId(
                        <[u8; 16]>::try_from(node.as_slice())
                            .map_err(|_| corrupt("request node id"))?,
                    ),
                    first_seq: first.max(0).unsigned_abs(),
                    last_seq: last.max(0).unsigned_abs(),
                    action,
                })
            })
            .transpose()
    }

    fn settings(&self) -> Result<Option<Settings>, StoreError> {
        crate::menu::settings(self.conn())
    }

    fn entity_clocks(
        &self,
        keys: &[mpos_store::clock::EntityKey],
    ) -> Result<Vec<mpos_store::clock::EntityClock>, StoreError> {
        crate::trust::entity_clocks(self.conn(), keys)
    }

    fn order_entries(&self, order: OrderId) -> Result<Vec<(NodeId, u64, u64)>, StoreError> {
        crate::trust::order_entries(self.conn(), order)
    }

    fn organization_nodes(&self) -> Result<Vec<mpos_store::OrganizationNode>, StoreError> {
        crate::trust::nodes(self.conn())
    }

    fn revocations(&self) -> Result<Vec<mpos_store::RevokedNode>, StoreError> {
        crate::trust::revocations(self.conn())
    }

    fn item(&self, id: MenuItemId) -> Result<Option<Item>, StoreError> {
        crate::menu::item(self.conn(), id)
    }

    fn category(&self, id: CategoryId) -> Result<Option<Category>, StoreError> {
        crate::menu::category(self.conn(), id)
    }

    fn modifier_group(&self, id: ModifierGroupId) -> Result<Option<ModifierGroup>, StoreError> {
        crate::menu::modifier_group(self.conn(), id)
    }

    fn tax_category(&self, id: TaxCategoryId) -> Result<Option<TaxCategory>, StoreError> {
        crate::menu::tax_category(self.conn(), id)
    }

    fn item_with_code(&self, code: &str) -> Result<Option<MenuItemId>, StoreError> {
        crate::menu::item_with_code(self.conn(), code)
    }

    fn tax_categories(&self) -> Result<Vec<TaxCategory>, StoreError> {
        crate::menu::tax_categories(self.conn())
    }

    fn categories(&self) -> Result<Vec<Category>, StoreError> {
        crate::menu::categories(self.conn())
    }

    fn modifier_groups(&self) -> Result<Vec<ModifierGroup>, StoreError> {
        crate::menu::modifier_groups(self.conn())
    }

    fn category_items(
        &self,
        category: CategoryId,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<Item>, StoreError> {
        crate::menu::category_items(self.conn(), category, offset, limit)
    }

    fn tables(&self) -> Result<Vec<Table>, StoreError> {
        crate::floor::all(self.conn())
    }

    fn search_items(&self, query: &str, limit: usize) -> Result<Vec<Item>, StoreError> {
        crate::menu::search(self.conn(), query, limit)
    }

    fn staff_member(
        &self,
        id: mpos_domain::ids::StaffId,
    ) -> Result<Option<mpos_domain::staff::StaffMember>, StoreError> {
        crate::staff::member(self.conn(), id)
    }

    fn staff(&self) -> Result<Vec<mpos_domain::staff::StaffMember>, StoreError> {
        crate::staff::all(self.conn())
    }

    fn pin_hash(&self, id: mpos_domain::ids::StaffId) -> Result<Option<String>, StoreError> {
        crate::staff::pin_hash(self.conn(), id)
    }

    fn pin_hashes(&self) -> Result<Vec<mpos_store::PinHash>, StoreError> {
        crate::staff::pin_hashes(self.conn())
    }

    fn availability_changes(&self, item: ItemId) -> Result<Vec<AvailabilityChange>, StoreError> {
        crate::availability::changes(self.conn(), item)
    }

    fn sold_while_86d(&self, item: ItemId, after: u64) -> Result<Vec<SoldWhile86d>, StoreError> {
        crate::availability::flagged(self.conn(), item, after)
    }

    fn pin_changes(
        &self,
        staff: mpos_domain::ids::StaffId,
    ) -> Result<Vec<(u64, NodeId)>, StoreError> {
        crate::trust::pin_changes(self.conn(), staff)
    }

    fn save_receipts(&mut self, receipts: &[(OrderId, String)]) -> Result<(), StoreError> {
        let tx = self.write_transaction()?;
        for (order, code) in receipts {
            tx.prepare_cached(
                "UPDATE pos_order SET receipt_code = ?2 WHERE id = ?1 AND receipt_code IS NULL",
            )
            .map_err(db)?
            .execute(params![&id_bytes(order.0)[..], code])
            .map_err(db)?;
        }
        tx.commit().map_err(db)
    }

    fn save_pins(&mut self, pins: &[mpos_store::PinHash]) -> Result<(), StoreError> {
        let tx = self.write_transaction()?;
        for pin in pins {
            crate::staff::save_pin(&tx, pin)?;
        }
        tx.commit().map_err(db)
    }

    fn receipt_code(&self, order: OrderId) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT receipt_code FROM pos_order WHERE id = ?1",
                [&id_bytes(order.0)[..]],
                |r| r.get::<_, Option<String>>(0),
            )
            .optional()
            .map_err(db)?
            .flatten())
    }

    fn closed_without_receipt(&self, limit: usize) -> Result<Vec<OrderId>, StoreError> {
        rows(
            self.conn(),
            "SELECT id FROM pos_order WHERE status = 'closed' AND receipt_code IS NULL
             ORDER BY closed_at DESC LIMIT ?1",
            [i64::try_from(limit).unwrap_or(i64::MAX)],
            |r| Ok(OrderId(read_id(r, "id")?)),
        )
    }

    fn kitchen_orders(
        &self,
        location: Option<LocationId>,
        bumped_since: u64,
    ) -> Result<Vec<Order>, StoreError> {
        let mut stmt = self
            .conn()
            .prepare_cached(
                "SELECT DISTINCT order_id FROM pos_line INDEXED BY pos_line_in_kitchen
                 WHERE sent = 1 AND station IS NOT NULL AND (ready_at IS NULL OR ready_at >= ?1)
                   AND (?2 IS NULL OR order_id IN (SELECT id FROM pos_order WHERE location = ?2))",
            )
            .map_err(db)?;
        let ids: Vec<Vec<u8>> = stmt
            .query_map(
                params![sql_int(bumped_since), location_key(location)],
                |r| r.get(0),
            )
            .map_err(db)?
            .collect::<Result<_, _>>()
            .map_err(db)?;
        load_each(self.conn(), ids)
    }

    fn recent_orders(
        &self,
        location: Option<LocationId>,
        before: Option<(u64, OrderId)>,
        number: &str,
        limit: usize,
    ) -> Result<Vec<Order>, StoreError> {
        // LIKE ignores ASCII case; the prefix's own wildcards are escaped.
        let pattern = like_prefix(number);
        let (at, id) = before.map_or((u64::MAX, [0xff; 16]), |(at, id)| (at, id.0.to_be_bytes()));
        let mut stmt = self
            .conn()
            .prepare_cached(
                "SELECT id FROM pos_order
                 WHERE (opened_at < ?1 OR (opened_at = ?1 AND id < ?2))
                   AND number LIKE ?3 ESCAPE '\\' AND (?5 IS NULL OR location = ?5)
                 ORDER BY opened_at DESC, id DESC LIMIT ?4",
            )
            .map_err(db)?;
        let ids = stmt
            .query_map(
                params![
                    sql_int(at),
                    &id[..],
                    pattern,
                    sql_int(limit as u64),
                    location_key(location)
                ],
                |r| r.get::<_, Vec<u8>>(0),
            )
            .map_err(db)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(db)?;
        load_each(self.conn(), ids)
    }

    fn closed_order_ids(
        &self,
        location: Option<LocationId>,
        from: u64,
        to: u64,
        limit: usize,
    ) -> Result<Vec<OrderId>, StoreError> {
        rows(
            self.conn(),
            "SELECT id FROM pos_order INDEXED BY pos_order_closed
             WHERE status = 'closed' AND closed_at >= ?1 AND closed_at < ?2
               AND (?4 IS NULL OR location = ?4)
             ORDER BY closed_at, id LIMIT ?3",
            params![
                sql_int(from),
                sql_int(to),
                sql_int(limit as u64),
                location_key(location)
            ],
            |r| Ok(OrderId(read_id(r, "id")?)),
        )
    }

    fn open_orders(&self, location: Option<LocationId>) -> Result<Vec<Order>, StoreError> {
        let ids = crate::day::open_order_ids(self.conn(), location)?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.extend(load(self.conn(), OrderId(id))?);
        }
        Ok(out)
    }
    fn drawer(&self, id: DrawerId) -> Result<Option<Drawer>, StoreError> {
        crate::day::drawer(self.conn(), id)
    }

    fn open_drawers(&self, location: Option<LocationId>) -> Result<Vec<Drawer>, StoreError> {
        crate::day::open_drawers(self.conn(), location)
    }

    fn recent_drawers(
        &self,
        location: Option<LocationId>,
        limit: usize,
    ) -> Result<Vec<Drawer>, StoreError> {
        crate::day::recent_drawers(self.conn(), location, limit)
    }

    fn last_closed_day(&self, node: NodeId) -> Result<Option<ClosedDay>, StoreError> {
        crate::day::closed_day(self.conn(), node, None)
    }

    fn closed_day(&self, node: NodeId, day: u32) -> Result<Option<ClosedDay>, StoreError> {
        crate::day::closed_day(self.conn(), node, Some(day))
    }

    fn visit_entries(
        &self,
        node: NodeId,
        from: u64,
        to: u64,
        visit: &mut dyn FnMut(&[u8]) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        crate::day::visit_entries(self.conn(), node, from, to, visit)
    }
}
