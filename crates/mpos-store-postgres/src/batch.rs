//! What a commit writes to the busy tables (orders, their lines, modifiers, discounts and
//! payments, applied requests, stock levels, stock history and what each
//! order holds), gathered while the projection is walked and then written with one
//! statement per table: `UNNEST` of one array per column. A statement per row cost a
//! loopback round trip each, dozens per ticket, and bounded a node to a few hundred
//! tickets a second.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use mpos_domain::ids::{LocationId, OrderId, StockItemId, TransferId};
use mpos_domain::inventory::{Arrival, StockValue, Transfer};
use mpos_store::StoreError;
use postgres::GenericClient;

use crate::sql::{Sql, big, keys};
use crate::sql_int;

type Id = Vec<u8>;

/// New `pos_order` rows, a column each.
#[derive(Default)]
pub(crate) struct NewOrders {
    pub id: Vec<Id>,
    pub number: Vec<String>,
    pub channel: Vec<&'static str>,
    pub kind: Vec<&'static str>,
    pub table_id: Vec<Option<Id>>,
    pub guests: Vec<Option<i64>>,
    pub address: Vec<Option<String>>,
    pub source: Vec<String>,
    pub currency: Vec<String>,
    pub price_mode: Vec<&'static str>,
    pub status: Vec<&'static str>,
    pub service_charge_ppm: Vec<i64>,
    pub fired_courses: Vec<String>,
    pub opened_by: Vec<Id>,
    pub opened_at: Vec<i64>,
    pub closed_at: Vec<Option<i64>>,
    pub total: Vec<i64>,
    pub paid: Vec<i64>,
    pub tips: Vec<i64>,
    pub receipt_code: Vec<Option<String>>,
    pub version: Vec<i64>,
    pub location: Vec<Option<Id>>,
}

/// Changed `pos_order` rows: each written only if the stored row is still at `before`.
#[derive(Default)]
pub(crate) struct ChangedOrders {
    pub id: Vec<Id>,
    pub before: Vec<i64>,
    pub status: Vec<&'static str>,
    pub service_charge_ppm: Vec<i64>,
    pub fired_courses: Vec<String>,
    pub closed_at: Vec<Option<i64>>,
    pub total: Vec<i64>,
    pub paid: Vec<i64>,
    pub tips: Vec<i64>,
    pub version: Vec<i64>,
    pub receipt_code: Vec<Option<String>>,
}

#[derive(Default)]
pub(crate) struct NewLines {
    pub order_id: Vec<Id>,
    pub position: Vec<i64>,
    pub id: Vec<Id>,
    pub item_id: Vec<Id>,
    pub name: Vec<String>,
    pub variant_id: Vec<Option<Id>>,
    pub variant_name: Vec<Option<String>>,
    pub quantity: Vec<i64>,
    pub unit_price: Vec<i64>,
    pub tax_rates: Vec<String>,
    pub category_id: Vec<Id>,
    pub seat: Vec<Option<i64>>,
    pub course: Vec<i64>,
    pub note: Vec<String>,
    pub sent: Vec<bool>,
    pub voided: Vec<bool>,
    pub added_by: Vec<Id>,
    pub station: Vec<Option<Id>>,
    pub round: Vec<i64>,
    pub sent_at: Vec<Option<i64>>,
    pub ready_at: Vec<Option<i64>>,
}

#[derive(Default)]
pub(crate) struct NewModifiers {
    pub order_id: Vec<Id>,
    pub line_position: Vec<i64>,
    pub position: Vec<i64>,
    pub id: Vec<Id>,
    pub name: Vec<String>,
    pub price_delta: Vec<i64>,
}

#[derive(Default)]
pub(crate) struct NewDiscounts {
    pub order_id: Vec<Id>,
    pub position: Vec<i64>,
    pub id: Vec<Id>,
    pub line_id: Vec<Option<Id>>,
    pub percent_ppm: Vec<Option<i64>>,
    pub amount: Vec<Option<i64>>,
    pub reason: Vec<String>,
    pub by_staff: Vec<Id>,
}

#[derive(Default)]
pub(crate) struct NewPayments {
    pub order_id: Vec<Id>,
    pub position: Vec<i64>,
    pub id: Vec<Id>,
    pub tender: Vec<&'static str>,
    pub tender_detail: Vec<String>,
    pub amount: Vec<i64>,
    pub tip: Vec<i64>,
    pub cash_received: Vec<Option<i64>>,
    pub refunded: Vec<i64>,
    pub by_staff: Vec<Id>,
}

#[derive(Default)]
pub(crate) struct NewRequests {
    pub id: Vec<Id>,
    pub order_id: Vec<Option<Id>>,
    pub node_id: Vec<Id>,
    pub first_seq: Vec<i64>,
    pub last_seq: Vec<i64>,
    pub action: Vec<String>,
}

/// A stock movement's row of history.
pub(crate) struct Delta {
    pub location: LocationId,
    pub item: StockItemId,
    pub kind: &'static str,
    pub milli: i64,
    pub value: i64,
    pub at: i64,
}

/// Stock the batch moved: levels as read (under a row lock) and as the batch leaves them.
#[derive(Default)]
pub(crate) struct StockWrites {
    /// Every level the batch read, with its value now (after the movements so far).
    pub levels: HashMap<(LocationId, StockItemId), StockValue>,
    /// The levels a movement changed, in (location, item) order.
    pub changed: BTreeMap<(LocationId, StockItemId), StockValue>,
    /// History rows by (location, item, kind, moment): (thousandths, value).
    pub deltas: BTreeMap<(LocationId, StockItemId, &'static str, i64), (i64, i64)>,
    /// What each order holds, as added up over the batch: (dimension, thousandths).
    pub held: BTreeMap<(OrderId, LocationId, StockItemId), (&'static str, i64)>,
    /// Transfers the batch read or sent, as the batch leaves them.
    pub transfers: HashMap<TransferId, Transfer>,
    /// Transfers the batch sent (new rows), in the order sent.
    pub sent: Vec<TransferId>,
    /// Transfers the batch received, in the order received.
    pub arrived: Vec<TransferId>,
    /// The arrival standing for each transfer the batch received or read one of.
    pub arrivals: HashMap<TransferId, Arrival>,
    /// Transfers whose standing arrival an earlier one took back: their stored lines
    /// make way for the new arrival's.
    pub taken_back: BTreeSet<TransferId>,
    /// Transfers two arrivals recorded apart disputed, with when the later was recorded.
    pub disputed: BTreeMap<TransferId, u64>,
}

/// Everything a commit writes to the busy tables, written by `flush`.
#[derive(Default)]
pub(crate) struct Writes {
    pub orders: NewOrders,
    pub changed: ChangedOrders,
    pub lines: NewLines,
    pub modifiers: NewModifiers,
    pub discounts: NewDiscounts,
    pub payments: NewPayments,
    pub requests: NewRequests,
    pub stock: StockWrites,
}

impl Writes {
    /// Writes what was gathered: orders before the rows that refer to them.
    pub(crate) fn flush<C: GenericClient>(self, sql: &mut Sql<'_, C>) -> Result<(), StoreError> {
        let o = &self.orders;
        if !o.id.is_empty() {
            sql.execute(
                "INSERT INTO pos_order (id, number, channel, kind, table_id, guests, address,
                    source, currency, price_mode, status, service_charge_ppm, fired_courses,
                    opened_by, opened_at, closed_at, total, paid, tips, receipt_code, version,
                    location)
                 SELECT * FROM UNNEST($1::BYTEA[], $2::TEXT[], $3::TEXT[], $4::TEXT[],
                    $5::BYTEA[], $6::BIGINT[], $7::TEXT[], $8::TEXT[], $9::TEXT[], $10::TEXT[],
                    $11::TEXT[], $12::BIGINT[], $13::TEXT[], $14::BYTEA[], $15::BIGINT[],
                    $16::BIGINT[], $17::BIGINT[], $18::BIGINT[], $19::BIGINT[], $20::TEXT[],
                    $21::BIGINT[], $22::BYTEA[])",
                &[
                    &o.id,
                    &o.number,
                    &o.channel,
                    &o.kind,
                    &o.table_id,
                    &o.guests,
                    &o.address,
                    &o.source,
                    &o.currency,
                    &o.price_mode,
                    &o.status,
                    &o.service_charge_ppm,
                    &o.fired_courses,
                    &o.opened_by,
                    &o.opened_at,
                    &o.closed_at,
                    &o.total,
                    &o.paid,
                    &o.tips,
                    &o.receipt_code,
                    &o.version,
                    &o.location,
                ],
            )?;
        }
        let c = &self.changed;
        if !c.id.is_empty() {
            // `o.id = ANY($1)` finds the rows by their key whatever the planner thinks of
            // the table's size (a join alone may scan it whole on stale statistics).
            let written = sql.execute(
                "UPDATE pos_order o SET status = u.status, service_charge_ppm = u.ppm,
                    fired_courses = u.fired, closed_at = u.closed_at, total = u.total,
                    paid = u.paid, tips = u.tips, version = u.version,
                    receipt_code = COALESCE(u.receipt, o.receipt_code)
                 FROM UNNEST($1::BYTEA[], $2::BIGINT[], $3::TEXT[], $4::BIGINT[], $5::TEXT[],
                    $6::BIGINT[], $7::BIGINT[], $8::BIGINT[], $9::BIGINT[], $10::BIGINT[],
                    $11::TEXT[])
                    AS u(id, before, status, ppm, fired, closed_at, total, paid, tips, version,
                        receipt)
                 WHERE o.id = ANY($1) AND o.id = u.id AND o.version = u.before",
                &[
                    &c.id,
                    &c.before,
                    &c.status,
                    &c.service_charge_ppm,
                    &c.fired_courses,
                    &c.closed_at,
                    &c.total,
                    &c.paid,
                    &c.tips,
                    &c.version,
                    &c.receipt_code,
                ],
            )?;
            if written != c.id.len() as u64 {
                return Err(StoreError::Conflict(format!(
                    "{} of the batch's {} orders changed since they were read (another node \
                     wrote them)",
                    c.id.len() as u64 - written,
                    c.id.len()
                )));
            }
        }
        let l = &self.lines;
        if !l.order_id.is_empty() {
            sql.execute(
                "INSERT INTO pos_line (order_id, position, id, item_id, name, variant_id,
                    variant_name, quantity, unit_price, tax_rates, category_id, seat, course,
                    note, sent, voided, added_by, station, round, sent_at, ready_at)
                 SELECT * FROM UNNEST($1::BYTEA[], $2::BIGINT[], $3::BYTEA[], $4::BYTEA[],
                    $5::TEXT[], $6::BYTEA[], $7::TEXT[], $8::BIGINT[], $9::BIGINT[], $10::TEXT[],
                    $11::BYTEA[], $12::BIGINT[], $13::BIGINT[], $14::TEXT[], $15::BOOLEAN[],
                    $16::BOOLEAN[], $17::BYTEA[], $18::BYTEA[], $19::BIGINT[], $20::BIGINT[],
                    $21::BIGINT[])",
                &[
                    &l.order_id,
                    &l.position,
                    &l.id,
                    &l.item_id,
                    &l.name,
                    &l.variant_id,
                    &l.variant_name,
                    &l.quantity,
                    &l.unit_price,
                    &l.tax_rates,
                    &l.category_id,
                    &l.seat,
                    &l.course,
                    &l.note,
                    &l.sent,
                    &l.voided,
                    &l.added_by,
                    &l.station,
                    &l.round,
                    &l.sent_at,
                    &l.ready_at,
                ],
            )?;
        }
        let m = &self.modifiers;
        if !m.order_id.is_empty() {
            sql.execute(
                "INSERT INTO pos_line_modifier (order_id, line_position, position, id, name,
                    price_delta)
                 SELECT * FROM UNNEST($1::BYTEA[], $2::BIGINT[], $3::BIGINT[], $4::BYTEA[],
                    $5::TEXT[], $6::BIGINT[])",
                &[
                    &m.order_id,
                    &m.line_position,
                    &m.position,
                    &m.id,
                    &m.name,
                    &m.price_delta,
                ],
            )?;
        }
        let d = &self.discounts;
        if !d.order_id.is_empty() {
            sql.execute(
                "INSERT INTO pos_discount (order_id, position, id, line_id, percent_ppm, amount,
                    reason, by_staff)
                 SELECT * FROM UNNEST($1::BYTEA[], $2::BIGINT[], $3::BYTEA[], $4::BYTEA[],
                    $5::BIGINT[], $6::BIGINT[], $7::TEXT[], $8::BYTEA[])",
                &[
                    &d.order_id,
                    &d.position,
                    &d.id,
                    &d.line_id,
                    &d.percent_ppm,
                    &d.amount,
                    &d.reason,
                    &d.by_staff,
                ],
            )?;
        }
        let p = &self.payments;
        if !p.order_id.is_empty() {
            sql.execute(
                "INSERT INTO pos_payment (order_id, position, id, tender, tender_detail, amount,
                    tip, cash_received, refunded, by_staff)
                 SELECT * FROM UNNEST($1::BYTEA[], $2::BIGINT[], $3::BYTEA[], $4::TEXT[],
                    $5::TEXT[], $6::BIGINT[], $7::BIGINT[], $8::BIGINT[], $9::BIGINT[],
                    $10::BYTEA[])",
                &[
                    &p.order_id,
                    &p.position,
                    &p.id,
                    &p.tender,
                    &p.tender_detail,
                    &p.amount,
                    &p.tip,
                    &p.cash_received,
                    &p.refunded,
                    &p.by_staff,
                ],
            )?;
        }
        self.stock.flush(sql)?;
        let r = &self.requests;
        if !r.id.is_empty() {
            sql.execute(
                "INSERT INTO request (id, order_id, node_id, first_seq, last_seq, action)
                 SELECT * FROM UNNEST($1::BYTEA[], $2::BYTEA[], $3::BYTEA[], $4::BIGINT[],
                    $5::BIGINT[], $6::TEXT[])",
                &[
                    &r.id,
                    &r.order_id,
                    &r.node_id,
                    &r.first_seq,
                    &r.last_seq,
                    &r.action,
                ],
            )
            .map_err(|e| match e {
                StoreError::Conflict(why) => StoreError::Conflict(format!(
                    "a request of the batch was already applied: {why}"
                )),
                e => e,
            })?;
        }
        Ok(())
    }
}

impl StockWrites {
    /// Keeps that `transfer`'s arrivals disagree since `at` (the latest such time).
    pub(crate) fn dispute(&mut self, transfer: TransferId, at: u64) {
        let since = self.disputed.entry(transfer).or_insert(at);
        *since = (*since).max(at);
    }

    /// Adds a row of history; movements of the same kind of one item at one location at
    /// the same moment (a batch's sales) are one row, as a report over any stretch of
    /// time adds them up the same.
    pub(crate) fn add_delta(&mut self, d: Delta) {
        let row = self
            .deltas
            .entry((d.location, d.item, d.kind, d.at))
            .or_insert((0, 0));
        row.0 += d.milli;
        row.1 += d.value;
    }

    fn flush<C: GenericClient>(self, sql: &mut Sql<'_, C>) -> Result<(), StoreError> {
        if !self.changed.is_empty() {
            let locations = keys(self.changed.keys().map(|(l, _)| l.0));
            let items = keys(self.changed.keys().map(|(_, i)| i.0));
            let milli: Vec<i64> = self.changed.values().map(|v| v.milli).collect();
            let value: Vec<i64> = self.changed.values().map(|v| v.value).collect();
            sql.execute(
                "INSERT INTO stock_level (location, item, milli, value)
                 SELECT * FROM UNNEST($1::BYTEA[], $2::BYTEA[], $3::BIGINT[], $4::BIGINT[])
                 ON CONFLICT (location, item) DO UPDATE SET milli = excluded.milli,
                    value = excluded.value",
                &[&locations, &items, &milli, &value],
            )?;
        }
        if !self.deltas.is_empty() {
            let d = &self.deltas;
            let locations = keys(d.keys().map(|k| k.0.0));
            let items = keys(d.keys().map(|k| k.1.0));
            let kinds: Vec<&str> = d.keys().map(|k| k.2).collect();
            let at: Vec<i64> = d.keys().map(|k| k.3).collect();
            let milli: Vec<i64> = d.values().map(|v| v.0).collect();
            let value: Vec<i64> = d.values().map(|v| v.1).collect();
            sql.execute(
                "INSERT INTO stock_delta (location, item, kind, milli, value, at)
                 SELECT * FROM UNNEST($1::BYTEA[], $2::BYTEA[], $3::TEXT[], $4::BIGINT[],
                    $5::BIGINT[], $6::BIGINT[])",
                &[&locations, &items, &kinds, &milli, &value, &at],
            )?;
        }
        if !self.held.is_empty() {
            let orders = keys(self.held.keys().map(|(o, _, _)| o.0));
            let locations = keys(self.held.keys().map(|(_, l, _)| l.0));
            let items = keys(self.held.keys().map(|(_, _, i)| i.0));
            let dimensions: Vec<&str> = self.held.values().map(|(d, _)| *d).collect();
            let milli: Vec<i64> = self.held.values().map(|(_, m)| *m).collect();
            sql.execute(
                "INSERT INTO stock_sale (order_id, location, item, dimension, milli)
                 SELECT * FROM UNNEST($1::BYTEA[], $2::BYTEA[], $3::BYTEA[], $4::TEXT[],
                    $5::BIGINT[])
                 ON CONFLICT (order_id, location, item) DO UPDATE
                    SET milli = stock_sale.milli + excluded.milli",
                &[&orders, &locations, &items, &dimensions, &milli],
            )?;
        }
        self.flush_transfers(sql)
    }

    fn flush_transfers<C: GenericClient>(&self, sql: &mut Sql<'_, C>) -> Result<(), StoreError> {
        let sent: Vec<&Transfer> = self
            .sent
            .iter()
            .filter_map(|t| self.transfers.get(t))
            .collect();
        if !sent.is_empty() {
            sql.execute(
                "INSERT INTO stock_transfer (id, from_location, to_location, received)
                 SELECT id, f, t, FALSE FROM UNNEST($1::BYTEA[], $2::BYTEA[], $3::BYTEA[])
                    AS u(id, f, t)",
                &[
                    &keys(sent.iter().map(|t| t.id.0)),
                    &keys(sent.iter().map(|t| t.from.0)),
                    &keys(sent.iter().map(|t| t.to.0)),
                ],
            )?;
            let lines: Vec<(TransferId, usize, &mpos_domain::inventory::TransferLine)> = sent
                .iter()
                .flat_map(|t| t.sent.iter().enumerate().map(|(n, l)| (t.id, n, l)))
                .collect();
            sql.execute(
                "INSERT INTO stock_transfer_line (transfer, position, item, dimension, milli,
                    value, currency)
                 SELECT * FROM UNNEST($1::BYTEA[], $2::BIGINT[], $3::BYTEA[], $4::TEXT[],
                    $5::BIGINT[], $6::BIGINT[], $7::TEXT[])",
                &[
                    &keys(lines.iter().map(|(t, _, _)| t.0)),
                    &lines.iter().map(|(_, n, _)| big(*n)).collect::<Vec<_>>(),
                    &keys(lines.iter().map(|(_, _, l)| l.item.0)),
                    &lines
                        .iter()
                        .map(|(_, _, l)| l.quantity.dimension.name())
                        .collect::<Vec<_>>(),
                    &lines
                        .iter()
                        .map(|(_, _, l)| l.quantity.milli)
                        .collect::<Vec<_>>(),
                    &lines
                        .iter()
                        .map(|(_, _, l)| l.value.minor())
                        .collect::<Vec<_>>(),
                    &lines
                        .iter()
                        .map(|(_, _, l)| l.value.currency().code().to_owned())
                        .collect::<Vec<_>>(),
                ],
            )?;
        }
        let mut arrived: Vec<TransferId> = self.arrived.clone();
        arrived.sort_unstable();
        arrived.dedup();
        let arrived: Vec<(TransferId, &Arrival)> = arrived
            .into_iter()
            .filter_map(|t| Some((t, self.arrivals.get(&t)?)))
            .collect();
        if !arrived.is_empty() {
            let ids = keys(arrived.iter().map(|(t, _)| t.0));
            sql.execute(
                "UPDATE stock_transfer SET received = TRUE, arrived_at = u.at
                 FROM UNNEST($1::BYTEA[], $2::BIGINT[]) AS u(id, at)
                 WHERE stock_transfer.id = u.id",
                &[
                    &ids,
                    &arrived
                        .iter()
                        .map(|(_, a)| sql_int(a.at))
                        .collect::<Vec<_>>(),
                ],
            )?;
            // An arrival taken back by an earlier one leaves its lines to the new ones.
            let taken_back = keys(
                arrived
                    .iter()
                    .filter(|(t, _)| self.taken_back.contains(t))
                    .map(|(t, _)| t.0),
            );
            if !taken_back.is_empty() {
                sql.execute(
                    "DELETE FROM stock_transfer_received WHERE transfer = ANY($1)",
                    &[&taken_back],
                )?;
            }
            let lines: Vec<(TransferId, usize, &Arrival)> = arrived
                .iter()
                .flat_map(|(t, a)| (0..a.lines.len()).map(move |n| (*t, n, *a)))
                .collect();
            sql.execute(
                "INSERT INTO stock_transfer_received (transfer, position, item, dimension, milli,
                    value)
                 SELECT * FROM UNNEST($1::BYTEA[], $2::BIGINT[], $3::BYTEA[], $4::TEXT[],
                    $5::BIGINT[], $6::BIGINT[])",
                &[
                    &keys(lines.iter().map(|(t, _, _)| t.0)),
                    &lines.iter().map(|(_, n, _)| big(*n)).collect::<Vec<_>>(),
                    &keys(lines.iter().map(|(_, n, a)| a.lines[*n].0.0)),
                    &lines
                        .iter()
                        .map(|(_, n, a)| a.lines[*n].1.dimension.name())
                        .collect::<Vec<_>>(),
                    &lines
                        .iter()
                        .map(|(_, n, a)| a.lines[*n].1.milli)
                        .collect::<Vec<_>>(),
                    &lines
                        .iter()
                        .map(|(_, n, a)| a.valued().then(|| a.values[*n]))
                        .collect::<Vec<Option<i64>>>(),
                ],
            )?;
        }
        if !self.disputed.is_empty() {
            sql.execute(
                "UPDATE stock_transfer t
                 SET disputed_at = GREATEST(COALESCE(t.disputed_at, u.at), u.at)
                 FROM UNNEST($1::BYTEA[], $2::BIGINT[]) AS u(id, at) WHERE t.id = u.id",
                &[
                    &keys(self.disputed.keys().map(|t| t.0)),
                    &self
                        .disputed
                        .values()
                        .map(|at| sql_int(*at))
                        .collect::<Vec<_>>(),
                ],
            )?;
        }
        Ok(())
    }
}
