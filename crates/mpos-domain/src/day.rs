//! The business day and its X and Z reports.
//!
//! A business day is a stretch of a node's ledger: it starts after the entry that closed
//! the previous day and ends at the entry a Z-report records (`DayClosed`). A report is a
//! fold over the events of that stretch, so it can be rebuilt, byte for byte, from the
//! ledger at any later time. Each figure belongs to the day its event happened in:
//! - sales (and their tax, discounts, categories, service charge) when the order closes;
//! - payments and tips when taken, refunds when given, voids when made;
//! - cash variance when a drawer is counted.
//!
//! An X-report is the same fold up to now, without closing the day.

use std::collections::BTreeMap;

use crate::drawer::{Drawer, DrawerChange};
use crate::event::Event;
use crate::ids::{CategoryId, StaffId};
use crate::money::{Currency, Money, MoneyError};
use crate::order::{Change, Order, OrderKind, Status, Tender};
use crate::tax::TaxRate;

/// What a Z-report records in the ledger when it closes a day: enough to see, from the
/// ledger alone, which entries the day covered and what it took.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DayClosed {
    pub by: StaffId,
    pub at: u64,
    pub day: u32,
    /// The day's entries: `from_seq..=to_seq` (empty when `to_seq < from_seq`).
    pub from_seq: u64,
    pub to_seq: u64,
    pub orders: u32,
    pub sales: Money,
    pub tax: Money,
    pub tips: Money,
    pub refunded: Money,
    pub cash_variance: Money,
    /// Orders still open when the day was closed, and what they still owed.
    pub open_orders: u32,
    pub open_orders_due: Money,
}

/// Payments of one tender in the day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TenderTotal {
    /// "cash", "card", or the name of another tender.
    pub tender: String,
    pub payments: u32,
    pub amount: Money,
    pub tips: Money,
    pub refunds: u32,
    pub refunded: Money,
}

impl TenderTotal {
    /// What this tender brought in, net of refunds.
    pub fn net(&self) -> Result<Money, MoneyError> {
        self.amount
            .checked_add(self.tips)?
            .checked_sub(self.refunded)
    }
}

/// Sales of one menu category (lines of orders closed in the day, after discounts, tax
/// included).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CategoryTotal {
    pub category: CategoryId,
    pub quantity: u64,
    pub sales: Money,
}

/// One staff member's day. Orders and sales count for whoever opened the order; tips go
/// with the order; voids and refunds count for whoever made them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffTotal {
    pub staff: StaffId,
    pub orders: u32,
    pub sales: Money,
    pub tips: Money,
    pub voided: Money,
    pub refunded: Money,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DayReport {
    pub day: u32,
    /// True for a Z-report (the day is closed), false for an X-report.
    pub closed: bool,
    pub currency: Currency,
    pub from_seq: u64,
    pub to_seq: u64,
    /// Times of the first and last event of the day (milliseconds since the epoch).
    pub first_at: Option<u64>,
    pub last_at: Option<u64>,
    /// Orders closed (fully paid) in the day.
    pub orders: u32,
    /// Guests of the dine-in orders among them.
    pub guests: u32,
    /// Sales before discounts.
    pub gross_sales: Money,
    pub discounts: Money,
    /// Sales after discounts, without tax.
    pub net_sales: Money,
    pub tax: Vec<(TaxRate, Money)>,
    pub service_charges: Money,
    /// What the closed orders came to: net sales, tax and service charges.
    pub sales_total: Money,
    pub tips: Money,
    pub tenders: Vec<TenderTotal>,
    pub categories: Vec<CategoryTotal>,
    pub staff: Vec<StaffTotal>,
    pub voided_lines: u32,
    pub voided_lines_amount: Money,
    pub voided_orders: u32,
    pub voided_orders_amount: Money,
    pub refunds: u32,
    pub refunded: Money,
    /// Drawer sessions counted in the day, then those still open.
    pub drawers: Vec<Drawer>,
    /// Cash taken (less cash refunded) while no drawer session was open.
    pub cash_outside_drawers: Money,
    /// Sum of the variances of the drawers counted in the day.
    pub cash_variance: Money,
    pub open_orders: u32,
    pub open_orders_due: Money,
}

impl DayReport {
    pub fn tax_total(&self) -> Result<Money, MoneyError> {
        Money::sum(self.currency, self.tax.iter().map(|(_, m)| *m))
    }

    /// The summary a Z-report records in the ledger.
    pub fn summary(&self, by: StaffId, at: u64) -> Result<DayClosed, MoneyError> {
        Ok(DayClosed {
            by,
            at,
            day: self.day,
            from_seq: self.from_seq,
            to_seq: self.to_seq,
            orders: self.orders,
            sales: self.sales_total,
            tax: self.tax_total()?,
            tips: self.tips,
            refunded: self.refunded,
            cash_variance: self.cash_variance,
            open_orders: self.open_orders,
            open_orders_due: self.open_orders_due,
        })
    }
}

/// Builds a report from a day's events, in ledger order.
#[derive(Debug)]
pub struct ReportBuilder {
    report: DayReport,
    tenders: BTreeMap<String, TenderTotal>,
    categories: BTreeMap<CategoryId, CategoryTotal>,
    staff: BTreeMap<StaffId, StaffTotal>,
    tax: BTreeMap<TaxRate, Money>,
}

/// The state an event needs to be counted: the order it changed (as the projection
/// holds it now) or the drawer session it closed.
#[derive(Clone, Copy, Debug, Default)]
pub struct Context<'a> {
    pub order: Option<&'a Order>,
    pub drawer: Option<&'a Drawer>,
}

impl ReportBuilder {
    /// A report of day `day`, whose entries start at `from_seq`.
    pub fn new(day: u32, currency: Currency, from_seq: u64) -> ReportBuilder {
        let zero = Money::zero(currency);
        ReportBuilder {
            report: DayReport {
                day,
                closed: false,
                currency,
                from_seq,
                to_seq: from_seq.saturating_sub(1),
                first_at: None,
                last_at: None,
                orders: 0,
                guests: 0,
                gross_sales: zero,
                discounts: zero,
                net_sales: zero,
                tax: Vec::new(),
                service_charges: zero,
                sales_total: zero,
                tips: zero,
                tenders: Vec::new(),
                categories: Vec::new(),
                staff: Vec::new(),
                voided_lines: 0,
                voided_lines_amount: zero,
                voided_orders: 0,
                voided_orders_amount: zero,
                refunds: 0,
                refunded: zero,
                drawers: Vec::new(),
                cash_outside_drawers: zero,
                cash_variance: zero,
                open_orders: 0,
                open_orders_due: zero,
            },
            tenders: BTreeMap::new(),
            categories: BTreeMap::new(),
            staff: BTreeMap::new(),
            tax: BTreeMap::new(),
        }
    }

    fn zero(&self) -> Money {
        Money::zero(self.report.currency)
    }

    fn staff(&mut self, id: StaffId) -> &mut StaffTotal {
        let zero = self.zero();
        self.staff.entry(id).or_insert(StaffTotal {
            staff: id,
            orders: 0,
            sales: zero,
            tips: zero,
            voided: zero,
            refunded: zero,
        })
    }

    fn tender(&mut self, name: &str) -> &mut TenderTotal {
        let zero = self.zero();
        self.tenders.entry(name.to_string()).or_insert(TenderTotal {
            tender: name.to_string(),
            payments: 0,
            amount: zero,
            tips: zero,
            refunds: 0,
            refunded: zero,
        })
    }

    /// Counts the event recorded at ledger entry `seq`. Amounts in another currency than
    /// the report's are refused (a restaurant has one currency).
    pub fn record(
        &mut self,
        seq: u64,
        event: &Event,
        context: Context<'_>,
    ) -> Result<(), MoneyError> {
        let r = &mut self.report;
        r.to_seq = r.to_seq.max(seq);
        let at = event.at();
        r.first_at = Some(r.first_at.map_or(at, |f| f.min(at)));
        r.last_at = Some(r.last_at.map_or(at, |l| l.max(at)));
        match event {
            Event::Order(e) => self.record_order(e.by, &e.change, context.order),
            Event::Drawer(e) => {
                if let (DrawerChange::Closed { counted, expected }, Some(d)) =
                    (&e.change, context.drawer)
                {
                    let variance = counted.checked_sub(*expected)?;
                    self.report.cash_variance = self.report.cash_variance.checked_add(variance)?;
                    self.report.drawers.push(d.clone());
                }
                Ok(())
            }
            Event::Menu(_)
            | Event::Staff(_)
            | Event::DayClosed(_)
            | Event::Floor(_)
            | Event::Inventory(_)
            | Event::Trust(_) => Ok(()),
        }
    }

    fn record_order(
        &mut self,
        by: StaffId,
        change: &Change,
        order: Option<&Order>,
    ) -> Result<(), MoneyError> {
        match change {
            Change::PaymentTaken {
                tender,
                amount,
                tip,
                drawer,
                ..
            } => {
                let t = self.tender(tender.name());
                t.payments += 1;
                t.amount = t.amount.checked_add(*amount)?;
                t.tips = t.tips.checked_add(*tip)?;
                self.report.tips = self.report.tips.checked_add(*tip)?;
                let server = order.map_or(by, |o| o.opened_by);
                let s = self.staff(server);
                s.tips = s.tips.checked_add(*tip)?;
                if *tender == Tender::Cash && drawer.is_none() {
                    let r = &mut self.report;
                    r.cash_outside_drawers = r
                        .cash_outside_drawers
                        .checked_add(amount.checked_add(*tip)?)?;
                }
            }
            Change::Refunded {
                payment,
                amount,
                drawer,
                ..
            } => {
                let tender = order
                    .and_then(|o| o.payments.iter().find(|p| p.id == *payment))
                    .map_or("unknown", |p| p.tender.name())
                    .to_string();
                let t = self.tender(&tender);
                t.refunds += 1;
                t.refunded = t.refunded.checked_add(*amount)?;
                let r = &mut self.report;
                r.refunds += 1;
                r.refunded = r.refunded.checked_add(*amount)?;
                if tender == "cash" && drawer.is_none() {
                    r.cash_outside_drawers = r.cash_outside_drawers.checked_sub(*amount)?;
                }
                let s = self.staff(by);
                s.refunded = s.refunded.checked_add(*amount)?;
            }
            Change::LineVoided { line, .. } => {
                if let Some(l) = order.and_then(|o| o.line(*line)) {
                    let amount = l.item.unit_price.checked_mul(i64::from(l.item.quantity))?;
                    let r = &mut self.report;
                    r.voided_lines += 1;
                    r.voided_lines_amount = r.voided_lines_amount.checked_add(amount)?;
                    let s = self.staff(by);
                    s.voided = s.voided.checked_add(amount)?;
                }
            }
            Change::Voided { .. } => {
                if let Some(o) = order {
                    let amount = Money::sum(
                        o.currency,
                        o.live_lines()
                            .map(|l| l.item.unit_price.checked_mul(i64::from(l.item.quantity)))
                            .collect::<Result<Vec<_>, _>>()?,
                    )?;
                    let r = &mut self.report;
                    r.voided_orders += 1;
                    r.voided_orders_amount = r.voided_orders_amount.checked_add(amount)?;
                    let s = self.staff(by);
                    s.voided = s.voided.checked_add(amount)?;
                }
            }
            Change::Closed => {
                if let Some(o) = order {
                    self.record_sale(o)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn record_sale(&mut self, o: &Order) -> Result<(), MoneyError> {
        let t = o.totals()?;
        let r = &mut self.report;
        r.orders += 1;
        if let OrderKind::DineIn { guests, .. } = o.kind {
            r.guests += guests;
        }
        r.gross_sales = r.gross_sales.checked_add(t.before_discounts)?;
        r.discounts = r.discounts.checked_add(t.discounts)?;
        r.net_sales = r.net_sales.checked_add(t.net)?;
        r.service_charges = r.service_charges.checked_add(t.service_charge)?;
        r.sales_total = r.sales_total.checked_add(t.total)?;
        let zero = self.zero();
        for (rate, amount) in &t.tax_by_rate {
            let sum = self.tax.entry(*rate).or_insert(zero);
            *sum = sum.checked_add(*amount)?;
        }
        for (line, sold) in o.sold_lines(&t) {
            let c = self
                .categories
                .entry(line.item.category)
                .or_insert(CategoryTotal {
                    category: line.item.category,
                    quantity: 0,
                    sales: zero,
                });
            c.quantity += u64::from(line.item.quantity);
            c.sales = c.sales.checked_add(sold)?;
        }
        let s = self.staff(o.opened_by);
        s.orders += 1;
        s.sales = s.sales.checked_add(t.total)?;
        Ok(())
    }

    /// The report, with the orders still open and the drawer sessions still open now.
    pub fn finish(
        mut self,
        open_orders: &[Order],
        open_drawers: &[Drawer],
    ) -> Result<DayReport, MoneyError> {
        let mut r = self.report;
        for o in open_orders.iter().filter(|o| o.status == Status::Open) {
            r.open_orders += 1;
            r.open_orders_due = r.open_orders_due.checked_add(o.totals()?.balance)?;
        }
        r.drawers
            .extend(open_drawers.iter().filter(|d| d.is_open()).cloned());
        r.tenders = std::mem::take(&mut self.tenders).into_values().collect();
        r.categories = std::mem::take(&mut self.categories).into_values().collect();
        r.staff = std::mem::take(&mut self.staff).into_values().collect();
        r.tax = std::mem::take(&mut self.tax).into_iter().collect();
        Ok(r)
    }
}
