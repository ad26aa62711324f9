//! Orders: the commands a register sends, the events they become, and the state those
//! events fold into. `decide` checks a command against the current state and the actor's
//! role and returns events or a refusal, changing nothing; `apply` folds an event in.
//! Both are pure; the node stores the events in the ledger and the projections.

use crate::allocate::allocate;
use crate::catalog::{Channel, PricedSelection};
use crate::ids::{DiscountId, DrawerId, LineId, LocationId, OrderId, PaymentId, StaffId, TableId};
use crate::money::{Currency, Money, MoneyError};
use crate::refusal::Refusal;
use crate::staff::{Actor, Permission, Role};
use crate::tax::{PriceMode, TaxRate, TaxedLine, tax_line};

/// How the guest eats.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OrderKind {
    DineIn { table: Option<TableId>, guests: u32 },
    Takeaway,
    Delivery { address: String },
}

/// Who placed the order: shown on the kitchen display.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    Register,
    SelfOrder,
    Online,
    Aggregator(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiscountKind {
    /// Parts per million of the amount (100_000 = 10%).
    Percent(u32),
    Amount(Money),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiscountTarget {
    Order,
    Line(LineId),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Discount {
    pub id: DiscountId,
    pub target: DiscountTarget,
    pub kind: DiscountKind,
    pub reason: String,
    pub by: StaffId,
}

/// How a payment was made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tender {
    Cash,
    /// Paid on an external card terminal; `reference` is its approval or transaction id.
    Card {
        reference: String,
    },
    Other {
        name: String,
    },
}

impl Tender {
    pub fn name(&self) -> &str {
        match self {
            Tender::Cash => "cash",
            Tender::Card { .. } => "card",
            Tender::Other { name } => name,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payment {
    pub id: PaymentId,
    pub tender: Tender,
    /// What this payment settles of the order.
    pub amount: Money,
    pub tip: Money,
    /// Cash handed over; the change due is `received - amount - tip`.
    pub cash_received: Option<Money>,
    /// Refunded so far (of amount and tip together).
    pub refunded: Money,
    pub by: StaffId,
}

impl Payment {
    pub fn change_due(&self) -> Option<Money> {
        let received = self.cash_received?;
        received
            .checked_sub(self.amount)
            .and_then(|r| r.checked_sub(self.tip))
            .ok()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub id: LineId,
    pub item: PricedSelection,
    pub seat: Option<u32>,
    pub course: u32,
    pub note: String,
    pub sent: bool,
    pub voided: bool,
    pub added_by: StaffId,
    /// Which send put it on a kitchen ticket (1 for the order's first send); 0 unsent.
    pub round: u32,
    pub sent_at: Option<u64>,
    /// When the kitchen bumped it as ready (cleared by a recall).
    pub ready_at: Option<u64>,
    /// Sold on a register that had not heard yet that another had 86'd the item (the
    /// 86 came earlier in the organization's time). Not from this order's events: the node
    /// sets it as entries arrive, the same on every node once all have arrived.
    pub sold_while_86d: bool,
}

impl Line {
    /// Sent to a kitchen station and not voided: the kitchen has it to make.
    pub fn in_kitchen(&self) -> bool {
        self.sent && !self.voided && self.item.station.is_some()
    }
}

/// Where the kitchen is with an order's sent lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KitchenStatus {
    /// Nothing sent to a kitchen station.
    Nothing,
    Preparing,
    /// Every line sent to a station was bumped as ready.
    Ready,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Open,
    /// Fully paid.
    Closed,
    Voided,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Order {
    pub id: OrderId,
    pub number: String,
    pub channel: Channel,
    pub kind: OrderKind,
    pub source: Source,
    pub currency: Currency,
    pub mode: PriceMode,
    /// The restaurant of the organization it was taken at: the location of the node that
    /// opened it (none on a node that sells at no location).
    pub location: Option<LocationId>,
    pub status: Status,
    pub lines: Vec<Line>,
    pub discounts: Vec<Discount>,
    pub service_charge_ppm: u32,
    pub payments: Vec<Payment>,
    pub fired_courses: Vec<u32>,
    pub opened_by: StaffId,
    pub opened_at: u64,
    pub closed_at: Option<u64>,
    /// How many events built this order: 1 when opened, one more with each change. A store
    /// shared by several nodes writes an order only where it is still at the version the
    /// decision read (optimistic concurrency), so no node overwrites another's change.
    pub version: u32,
}

/// What a register asks of an order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Open {
        number: String,
        channel: Channel,
        kind: OrderKind,
        source: Source,
        currency: Currency,
        mode: PriceMode,
        /// The node fills this in: the location it sells at.
        location: Option<LocationId>,
    },
    AddLine {
        line: LineId,
        item: PricedSelection,
        seat: Option<u32>,
        course: u32,
        note: String,
    },
    VoidLine {
        line: LineId,
        reason: String,
    },
    /// Sends the given lines (all unsent ones when empty) to the kitchen.
    Send {
        lines: Vec<LineId>,
    },
    /// The kitchen bumps lines as ready (a ticket on the kitchen display).
    Bump {
        lines: Vec<LineId>,
    },
    /// The kitchen takes bumped lines back (bumped by mistake).
    Recall {
        lines: Vec<LineId>,
    },
    FireCourse {
        course: u32,
    },
    ApplyDiscount {
        discount: DiscountId,
        target: DiscountTarget,
        kind: DiscountKind,
        reason: String,
    },
    SetServiceCharge {
        ppm: u32,
    },
    TakePayment {
        payment: PaymentId,
        tender: Tender,
        amount: Money,
        tip: Money,
        cash_received: Option<Money>,
        /// The drawer session cash goes into (the node fills it in for cash).
        drawer: Option<DrawerId>,
    },
    VoidOrder {
        reason: String,
    },
    Refund {
        payment: PaymentId,
        amount: Money,
        reason: String,
        /// The drawer session cash is handed back from (for a cash payment).
        drawer: Option<DrawerId>,
    },
}

/// What happened to an order. Past tense; applied in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    Opened {
        number: String,
        channel: Channel,
        kind: OrderKind,
        source: Source,
        currency: Currency,
        mode: PriceMode,
        location: Option<LocationId>,
    },
    LineAdded {
        line: LineId,
        item: PricedSelection,
        seat: Option<u32>,
        course: u32,
        note: String,
    },
    LineVoided {
        line: LineId,
        reason: String,
    },
    LinesSent {
        lines: Vec<LineId>,
    },
    LinesReady {
        lines: Vec<LineId>,
    },
    LinesRecalled {
        lines: Vec<LineId>,
    },
    CourseFired {
        course: u32,
    },
    DiscountApplied {
        discount: DiscountId,
        target: DiscountTarget,
        kind: DiscountKind,
        reason: String,
    },
    ServiceChargeSet {
        ppm: u32,
    },
    PaymentTaken {
        payment: PaymentId,
        tender: Tender,
        amount: Money,
        tip: Money,
        cash_received: Option<Money>,
        drawer: Option<DrawerId>,
    },
    Closed,
    Voided {
        reason: String,
    },
    Refunded {
        payment: PaymentId,
        amount: Money,
        reason: String,
        drawer: Option<DrawerId>,
    },
}

/// A change with who made it and when (milliseconds since the epoch).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderEvent {
    pub order: OrderId,
    pub by: StaffId,
    pub at: u64,
    pub change: Change,
}

const MILLION: i128 = 1_000_000;

fn percent_of(amount: Money, ppm: u32) -> Result<Money, MoneyError> {
    let n = i128::from(amount.minor()) * i128::from(ppm);
    // Half away from zero, as tax rounding.
    let q = n / MILLION;
    let r = n % MILLION;
    let q = if 2 * r.abs() >= MILLION {
        q + n.signum()
    } else {
        q
    };
    Ok(Money::new(
        i64::try_from(q).map_err(|_| MoneyError::Overflow)?,
        amount.currency(),
    ))
}

fn require(actor: Actor, p: Permission) -> Result<(), Refusal> {
    // A guest at a table may open, add to and send their own order; the checks that it is
    // their own are where those commands are decided.
    if actor.role.may(p) || (actor.role == Role::Guest && p == Permission::Sell) {
        Ok(())
    } else {
        Err(Refusal::NotAllowed {
            role: actor.role.name(),
            // Managers and owners may do everything a sale needs.
            action: format!("{}: a manager may", p.what()),
        })
    }
}

fn require_reason(reason: &str) -> Result<(), Refusal> {
    if reason.trim().is_empty() {
        return Err(Refusal::ReasonRequired);
    }
    Ok(())
}

/// One line's share of the order, after discounts, with its tax.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineTotal {
    pub line: LineId,
    /// Unit price times quantity, before discounts.
    pub before_discounts: Money,
    pub discount: Money,
    pub taxed: TaxedLine,
}

/// An order's figures. `total = sum(lines' gross) + service_charge`;
/// `balance = total - paid`. Tips are kept apart: they are not sales.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Totals {
    pub lines: Vec<LineTotal>,
    pub before_discounts: Money,
    pub discounts: Money,
    pub net: Money,
    pub tax_by_rate: Vec<(TaxRate, Money)>,
    pub service_charge: Money,
    pub total: Money,
    /// Payments' amounts less refunds.
    pub paid: Money,
    pub tips: Money,
    pub balance: Money,
}

/// An outcome no single terminal allows, left by edits made on two terminals at once
/// (each deciding against what it saw) once their ledgers meet: flagged for a manager,
/// never dropped or undone by the node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Conflict {
    /// Payments, less refunds, exceed the total: two terminals took payment for one bill.
    Overpaid { by: Money },
    /// Closed with more to pay than was ever paid: a line was added on another terminal
    /// while the bill was paid.
    ClosedUnpaid { due: Money },
    /// Voided with payments standing: paid on one terminal, voided on another.
    VoidedWithPayments { paid: Money },
    /// A line (not voided) of an item another register had 86'd before it was sold here
    /// (`Line::sold_while_86d`): the kitchen may not have it.
    SoldWhile86d { item: String },
}

impl std::fmt::Display for Conflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Conflict::Overpaid { by } => write!(f, "paid {by} more than its total"),
            Conflict::ClosedUnpaid { due } => write!(f, "closed with {due} never paid"),
            Conflict::VoidedWithPayments { paid } => write!(f, "voided with {paid} paid"),
            Conflict::SoldWhile86d { item } => {
                write!(f, "sold {item} after another register 86'd it")
            }
        }
    }
}

impl Order {
    /// What a manager must look at in this order (see `Conflict`); empty almost always.
    pub fn conflicts(&self) -> Vec<Conflict> {
        let Ok(t) = self.totals() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let taken = self
            .payments
            .iter()
            .try_fold(Money::zero(self.currency), |sum, p| {
                sum.checked_add(p.amount)
            });
        match self.status {
            Status::Voided if t.paid.minor() > 0 => {
                out.push(Conflict::VoidedWithPayments { paid: t.paid });
            }
            // Refunds after closing are a manager's own doing: what counts is whether the
            // bill was ever paid in full.
            Status::Closed => {
                if let Ok(taken) = taken
                    && let Ok(due) = t.total.checked_sub(taken)
                    && due.minor() > 0
                {
                    out.push(Conflict::ClosedUnpaid { due });
                }
            }
            _ => {}
        }
        if self.status != Status::Voided && t.balance.minor() < 0 {
            out.push(Conflict::Overpaid {
                by: Money::new(-t.balance.minor(), self.currency),
            });
        }
        if self.status != Status::Voided {
            out.extend(
                self.lines
                    .iter()
                    .filter(|l| l.sold_while_86d && !l.voided)
                    .map(|l| Conflict::SoldWhile86d {
                        item: l.item.name.clone(),
                    }),
            );
        }
        out
    }

    pub fn line(&self, id: LineId) -> Option<&Line> {
        self.lines.iter().find(|l| l.id == id)
    }

    /// Each line `totals` (this order's) counts, with what it sold for: after
    /// discounts, tax included. What reports cut by category or item.
    pub fn sold_lines<'a>(&'a self, totals: &'a Totals) -> impl Iterator<Item = (&'a Line, Money)> {
        totals
            .lines
            .iter()
            .filter_map(|lt| self.line(lt.line).map(|l| (l, lt.taxed.gross)))
    }

    pub fn live_lines(&self) -> impl Iterator<Item = &Line> {
        self.lines.iter().filter(|l| !l.voided)
    }

    pub fn kitchen_status(&self) -> KitchenStatus {
        let mut lines = self.lines.iter().filter(|l| l.in_kitchen()).peekable();
        if lines.peek().is_none() {
            KitchenStatus::Nothing
        } else if lines.all(|l| l.ready_at.is_some()) {
            KitchenStatus::Ready
        } else {
            KitchenStatus::Preparing
        }
    }

    /// Guests ordering from the table may only add to their own open self-order.
    fn require_guest_may_add(&self, actor: Actor) -> Result<(), Refusal> {
        if actor.role == Role::Guest && self.source != Source::SelfOrder {
            return Err(Refusal::NotAllowed {
                role: actor.role.name(),
                action: "change an order staff opened".into(),
            });
        }
        Ok(())
    }

    fn require_open(&self) -> Result<(), Refusal> {
        match self.status {
            Status::Open => Ok(()),
            Status::Closed => Err(Refusal::OrderClosed(self.number.clone())),
            Status::Voided => Err(Refusal::OrderVoided(self.number.clone())),
        }
    }

    /// Computes the figures; see the module docs of `tax` for rounding.
    pub fn totals(&self) -> Result<Totals, MoneyError> {
        let c = self.currency;
        let zero = Money::zero(c);
        let live: Vec<&Line> = self.live_lines().collect();
        let mut bases = Vec::with_capacity(live.len());
        let mut after_line = Vec::with_capacity(live.len());
        for l in &live {
            let base = l.item.unit_price.checked_mul(i64::from(l.item.quantity))?;
            let mut off = zero;
            for d in self
                .discounts
                .iter()
                .filter(|d| d.target == DiscountTarget::Line(l.id))
            {
                let remaining = base.checked_sub(off)?;
                let amount = match d.kind {
                    DiscountKind::Percent(ppm) => percent_of(remaining, ppm)?,
                    DiscountKind::Amount(a) => a,
                };
                off = off.checked_add(amount.min_minor(remaining))?;
            }
            bases.push(base);
            after_line.push(base.checked_sub(off)?);
        }
        let mut sum = Money::sum(c, after_line.iter().copied())?;
        let mut order_off = zero;
        for d in self
            .discounts
            .iter()
            .filter(|d| d.target == DiscountTarget::Order)
        {
            let amount = match d.kind {
                DiscountKind::Percent(ppm) => percent_of(sum, ppm)?,
                DiscountKind::Amount(a) => a,
            }
            .min_minor(sum);
            order_off = order_off.checked_add(amount)?;
            sum = sum.checked_sub(amount)?;
        }
        let weights: Vec<u64> = after_line
            .iter()
            .map(|m| m.minor().max(0).unsigned_abs())
            .collect();
        let shares = if order_off.is_zero() || weights.iter().all(|w| *w == 0) {
            vec![zero; live.len()]
        } else {
            allocate(order_off, &weights)?
        };
        let mut lines = Vec::with_capacity(live.len());
        let mut tax_by_rate: Vec<(TaxRate, Money)> = Vec::new();
        let (mut net, mut gross, mut discounts) = (zero, zero, zero);
        for (i, l) in live.iter().enumerate() {
            let amount = after_line[i].checked_sub(shares[i])?;
            let taxed = tax_line(amount, &l.item.tax_rates, self.mode)?;
            for t in &taxed.taxes {
                match tax_by_rate.iter_mut().find(|(r, _)| *r == t.rate) {
                    Some((_, m)) => *m = m.checked_add(t.amount)?,
                    None => tax_by_rate.push((t.rate, t.amount)),
                }
            }
            net = net.checked_add(taxed.net)?;
            gross = gross.checked_add(taxed.gross)?;
            let discount = bases[i].checked_sub(amount)?;
            discounts = discounts.checked_add(discount)?;
            lines.push(LineTotal {
                line: l.id,
                before_discounts: bases[i],
                discount,
                taxed,
            });
        }
        tax_by_rate.sort_by_key(|(r, _)| *r);
        let service_charge = percent_of(gross, self.service_charge_ppm)?;
        let total = gross.checked_add(service_charge)?;
        let mut paid = zero;
        let mut tips = zero;
        for p in &self.payments {
            // A refund comes off the settled amount first, then off the tip.
            let refunded_amount = p.refunded.min_minor(p.amount);
            paid = paid.checked_add(p.amount.checked_sub(refunded_amount)?)?;
            let refunded_tip = p.refunded.checked_sub(refunded_amount)?;
            tips = tips.checked_add(p.tip.checked_sub(refunded_tip)?)?;
        }
        Ok(Totals {
            lines,
            before_discounts: Money::sum(c, bases)?,
            discounts,
            net,
            tax_by_rate,
            service_charge,
            total,
            paid,
            tips,
            balance: total.checked_sub(paid)?,
        })
    }
}

impl Money {
    /// The smaller of two amounts of one currency (by minor units).
    fn min_minor(self, other: Money) -> Money {
        if self.minor() <= other.minor() {
            self
        } else {
            other
        }
    }
}

/// Checks `command` against `order` (None before it is opened) and the actor's role.
/// Returns the changes to record, or a refusal; never changes anything itself.
pub fn decide(
    order: Option<&Order>,
    command: &Command,
    actor: Actor,
) -> Result<Vec<Change>, Refusal> {
    let Some(o) = order else {
        return match command {
            Command::Open {
                number,
                channel,
                kind,
                source,
                currency,
                mode,
                location,
            } => {
                require(actor, Permission::Sell)?;
                if actor.role == Role::Guest
                    && (*source != Source::SelfOrder
                        || !matches!(kind, OrderKind::DineIn { table: Some(_), .. }))
                {
                    return Err(Refusal::NotAllowed {
                        role: actor.role.name(),
                        action: "open an order other than a self-order at their table".into(),
                    });
                }
                if number.trim().is_empty() {
                    return Err(Refusal::Invalid("an order needs a number".into()));
                }
                if let OrderKind::DineIn { guests: 0, .. } = kind {
                    return Err(Refusal::Invalid(
                        "a dine-in order needs at least one guest".into(),
                    ));
                }
                if let OrderKind::Delivery { address } = kind
                    && address.trim().is_empty()
                {
                    return Err(Refusal::Invalid("a delivery order needs an address".into()));
                }
                Ok(vec![Change::Opened {
                    number: number.clone(),
                    channel: *channel,
                    kind: kind.clone(),
                    source: source.clone(),
                    currency: *currency,
                    mode: *mode,
                    location: *location,
                }])
            }
            _ => Err(Refusal::UnknownOrder),
        };
    };
    match command {
        Command::Open { .. } => Err(Refusal::OrderExists(o.number.clone())),
        Command::AddLine {
            line,
            item,
            seat,
            course,
            note,
        } => {
            require(actor, Permission::Sell)?;
            o.require_guest_may_add(actor)?;
            o.require_open()?;
            if o.line(*line).is_some() {
                return Err(Refusal::Invalid(format!("line {line} already exists")));
            }
            if item.quantity == 0 {
                return Err(Refusal::ZeroQuantity);
            }
            if item.unit_price.currency() != o.currency {
                return Err(
                    MoneyError::CurrencyMismatch(item.unit_price.currency(), o.currency).into(),
                );
            }
            if let Some(seat) = seat {
                let guests = match o.kind {
                    OrderKind::DineIn { guests, .. } => guests,
                    _ => 1,
                };
                if *seat == 0 || *seat > guests {
                    return Err(Refusal::Invalid(format!(
                        "seat {seat} is not one of the {guests} seats"
                    )));
                }
            }
            if *course == 0 {
                return Err(Refusal::Invalid("courses are numbered from 1".into()));
            }
            if item.quantity > MAX_QUANTITY {
                return Err(Refusal::Invalid(format!(
                    "at most {MAX_QUANTITY} of one item on a line"
                )));
            }
            let change = Change::LineAdded {
                line: *line,
                item: item.clone(),
                seat: *seat,
                course: *course,
                note: note.clone(),
            };
            // The order's figures must still add up (no overflow) with the line on it.
            let mut after = o.clone();
            apply_change(&mut after, &change, actor.staff, 0);
            after.totals()?;
            Ok(vec![change])
        }
        Command::VoidLine { line, reason } => {
            o.require_open()?;
            let l = o.line(*line).ok_or(Refusal::UnknownLine(*line))?;
            if l.voided {
                return Err(Refusal::Invalid(format!(
                    "{} is already voided",
                    l.item.name
                )));
            }
            require(
                actor,
                if l.sent {
                    Permission::VoidSent
                } else {
                    Permission::VoidUnsentLine
                },
            )?;
            require_reason(reason)?;
            // A paid line is refunded, not voided: the total may not drop below what was paid.
            let mut after = o.clone();
            apply_change(
                &mut after,
                &Change::LineVoided {
                    line: *line,
                    reason: reason.clone(),
                },
                actor.staff,
                0,
            );
            let t = after.totals()?;
            if t.balance.is_negative() {
                return Err(Refusal::AlreadyPaid);
            }
            Ok(closing_if_settled(
                &after,
                &t,
                Change::LineVoided {
                    line: *line,
                    reason: reason.clone(),
                },
            ))
        }
        Command::Send { lines } => {
            require(actor, Permission::Sell)?;
            o.require_guest_may_add(actor)?;
            // A paid counter order still goes to the kitchen: pay first, then it is made.
            if o.status == Status::Voided {
                return Err(Refusal::OrderVoided(o.number.clone()));
            }
            for id in lines {
                let l = o.line(*id).ok_or(Refusal::UnknownLine(*id))?;
                if l.voided || l.sent {
                    return Err(Refusal::Invalid(format!(
                        "{} was already sent or voided",
                        l.item.name
                    )));
                }
            }
            let to_send: Vec<LineId> = if lines.is_empty() {
                o.live_lines().filter(|l| !l.sent).map(|l| l.id).collect()
            } else {
                lines.clone()
            };
            if to_send.is_empty() {
                return Err(Refusal::NothingToSend);
            }
            Ok(vec![Change::LinesSent { lines: to_send }])
        }
        Command::Bump { lines } | Command::Recall { lines } => {
            require(actor, Permission::Kitchen)?;
            let bump = matches!(command, Command::Bump { .. });
            if lines.is_empty() {
                return Err(Refusal::Invalid("name the lines of the ticket".into()));
            }
            for (i, id) in lines.iter().enumerate() {
                let l = o.line(*id).ok_or(Refusal::UnknownLine(*id))?;
                if lines[..i].contains(id) {
                    return Err(Refusal::Invalid(format!("{} is named twice", l.item.name)));
                }
                if !l.sent {
                    return Err(Refusal::Invalid(format!(
                        "{} was not sent to the kitchen",
                        l.item.name
                    )));
                }
                if bump && l.ready_at.is_some() {
                    return Err(Refusal::Invalid(format!(
                        "{} of order {} is already bumped",
                        l.item.name, o.number
                    )));
                }
                if !bump && l.ready_at.is_none() {
                    return Err(Refusal::Invalid(format!(
                        "{} of order {} is not bumped",
                        l.item.name, o.number
                    )));
                }
            }
            let lines = lines.clone();
            Ok(vec![if bump {
                Change::LinesReady { lines }
            } else {
                Change::LinesRecalled { lines }
            }])
        }
        Command::FireCourse { course } => {
            require(actor, Permission::Sell)?;
            o.require_open()?;
            if !o.live_lines().any(|l| l.course == *course && l.sent) {
                return Err(Refusal::CourseNotSent(*course));
            }
            if o.fired_courses.contains(course) {
                return Err(Refusal::CourseAlreadyFired(*course));
            }
            Ok(vec![Change::CourseFired { course: *course }])
        }
        Command::ApplyDiscount {
            discount,
            target,
            kind,
            reason,
        } => {
            require(actor, Permission::Discount)?;
            o.require_open()?;
            require_reason(reason)?;
            if o.discounts.iter().any(|d| d.id == *discount) {
                return Err(Refusal::Invalid(format!(
                    "discount {discount} already exists"
                )));
            }
            if let DiscountTarget::Line(id) = target {
                let l = o.line(*id).ok_or(Refusal::UnknownLine(*id))?;
                if l.voided {
                    return Err(Refusal::Invalid(format!("{} is voided", l.item.name)));
                }
            }
            match kind {
                DiscountKind::Percent(ppm) if *ppm == 0 || *ppm > 1_000_000 => {
                    return Err(Refusal::Invalid(
                        "a percentage discount is between 0 and 100%".into(),
                    ));
                }
                DiscountKind::Amount(a) if a.minor() <= 0 => {
                    return Err(Refusal::Invalid(
                        "a discount amount must be positive".into(),
                    ));
                }
                DiscountKind::Amount(a) if a.currency() != o.currency => {
                    return Err(MoneyError::CurrencyMismatch(a.currency(), o.currency).into());
                }
                _ => {}
            }
            let change = Change::DiscountApplied {
                discount: *discount,
                target: *target,
                kind: *kind,
                reason: reason.clone(),
            };
            let mut after = o.clone();
            apply_change(&mut after, &change, actor.staff, 0);
            let t = after.totals()?;
            if t.balance.is_negative() {
                return Err(Refusal::AlreadyPaid);
            }
            Ok(closing_if_settled(&after, &t, change))
        }
        Command::SetServiceCharge { ppm } => {
            require(actor, Permission::Sell)?;
            o.require_open()?;
            if *ppm > 1_000_000 {
                return Err(Refusal::Invalid("a service charge is at most 100%".into()));
            }
            let change = Change::ServiceChargeSet { ppm: *ppm };
            let mut after = o.clone();
            apply_change(&mut after, &change, actor.staff, 0);
            let t = after.totals()?;
            if t.balance.is_negative() {
                return Err(Refusal::AlreadyPaid);
            }
            Ok(closing_if_settled(&after, &t, change))
        }
        Command::TakePayment {
            payment,
            tender,
            amount,
            tip,
            cash_received,
            drawer,
        } => {
            require(actor, Permission::TakePayment)?;
            o.require_open()?;
            if o.payments.iter().any(|p| p.id == *payment) {
                return Err(Refusal::Invalid(format!(
                    "payment {payment} already exists"
                )));
            }
            for m in [Some(*amount), Some(*tip), *cash_received]
                .into_iter()
                .flatten()
            {
                if m.currency() != o.currency {
                    return Err(MoneyError::CurrencyMismatch(m.currency(), o.currency).into());
                }
            }
            if amount.minor() <= 0 {
                return Err(Refusal::Invalid("a payment amount must be positive".into()));
            }
            if tip.is_negative() {
                return Err(Refusal::Invalid("a tip cannot be negative".into()));
            }
            let t = o.totals()?;
            if t.total.is_zero() {
                return Err(Refusal::NothingToPay);
            }
            if amount.minor() > t.balance.minor() {
                return Err(Refusal::Overpayment {
                    amount: *amount,
                    balance: t.balance,
                });
            }
            match (tender, cash_received) {
                (Tender::Cash, Some(received))
                    if received.minor() < amount.checked_add(*tip)?.minor() =>
                {
                    let tip = if tip.is_zero() {
                        String::new()
                    } else {
                        format!(" plus the {tip} tip")
                    };
                    return Err(Refusal::Invalid(format!(
                        "{received} received is less than the {amount} being paid{tip}: take \
                         more cash, or pay part of the bill (a smaller amount)"
                    )));
                }
                (Tender::Cash, _) => {}
                (_, Some(_)) => {
                    return Err(Refusal::Invalid(
                        "cash received is only for cash payments".into(),
                    ));
                }
                (Tender::Card { reference }, None) if reference.trim().is_empty() => {
                    return Err(Refusal::Invalid(
                        "a card payment needs the terminal's reference".into(),
                    ));
                }
                (Tender::Other { name }, None) if name.trim().is_empty() => {
                    return Err(Refusal::Invalid("name the tender".into()));
                }
                _ => {}
            }
            let mut changes = vec![Change::PaymentTaken {
                payment: *payment,
                tender: tender.clone(),
                amount: *amount,
                tip: *tip,
                cash_received: *cash_received,
                drawer: *drawer,
            }];
            if amount.minor() == t.balance.minor() {
                changes.push(Change::Closed);
            }
            Ok(changes)
        }
        Command::VoidOrder { reason } => {
            require(actor, Permission::VoidSent)?;
            o.require_open()?;
            require_reason(reason)?;
            if !o.payments.is_empty() {
                return Err(Refusal::AlreadyPaid);
            }
            Ok(vec![Change::Voided {
                reason: reason.clone(),
            }])
        }
        Command::Refund {
            payment,
            amount,
            reason,
            drawer,
        } => {
            require(actor, Permission::Refund)?;
            require_reason(reason)?;
            if o.status == Status::Voided {
                return Err(Refusal::OrderVoided(o.number.clone()));
            }
            let p = o
                .payments
                .iter()
                .find(|p| p.id == *payment)
                .ok_or(Refusal::UnknownPayment(*payment))?;
            if amount.currency() != o.currency {
                return Err(MoneyError::CurrencyMismatch(amount.currency(), o.currency).into());
            }
            if amount.minor() <= 0 {
                return Err(Refusal::Invalid("a refund amount must be positive".into()));
            }
            let refundable = p.amount.checked_add(p.tip)?.checked_sub(p.refunded)?;
            if amount.minor() > refundable.minor() {
                return Err(Refusal::RefundTooLarge {
                    amount: *amount,
                    refundable,
                });
            }
            Ok(vec![Change::Refunded {
                payment: *payment,
                amount: *amount,
                reason: reason.clone(),
                drawer: *drawer,
            }])
        }
    }
}

/// A change that leaves a paid order with nothing due (a void, a discount, a lower service
/// charge) also closes it: otherwise it would stay open with no way to pay or void it.
fn closing_if_settled(after: &Order, t: &Totals, change: Change) -> Vec<Change> {
    if t.balance.is_zero() && !after.payments.is_empty() {
        vec![change, Change::Closed]
    } else {
        vec![change]
    }
}

/// Most of one item a line may hold: far beyond any real order, well inside i64 money.
pub const MAX_QUANTITY: u32 = 10_000;

fn apply_change(o: &mut Order, change: &Change, by: StaffId, at: u64) {
    match change {
        Change::Opened { .. } => {}
        Change::LineAdded {
            line,
            item,
            seat,
            course,
            note,
        } => o.lines.push(Line {
            id: *line,
            item: item.clone(),
            seat: *seat,
            course: *course,
            note: note.clone(),
            sent: false,
            voided: false,
            added_by: by,
            round: 0,
            sent_at: None,
            ready_at: None,
            sold_while_86d: false,
        }),
        Change::LineVoided { line, .. } => {
            if let Some(l) = o.lines.iter_mut().find(|l| l.id == *line) {
                l.voided = true;
            }
        }
        Change::LinesSent { lines } => {
            let round = o.lines.iter().map(|l| l.round).max().unwrap_or(0) + 1;
            for l in o.lines.iter_mut().filter(|l| lines.contains(&l.id)) {
                l.sent = true;
                l.round = round;
                l.sent_at = Some(at);
            }
        }
        Change::LinesReady { lines } => {
            for l in o.lines.iter_mut().filter(|l| lines.contains(&l.id)) {
                l.ready_at = Some(at);
            }
        }
        Change::LinesRecalled { lines } => {
            for l in o.lines.iter_mut().filter(|l| lines.contains(&l.id)) {
                l.ready_at = None;
            }
        }
        Change::CourseFired { course } => o.fired_courses.push(*course),
        Change::DiscountApplied {
            discount,
            target,
            kind,
            reason,
        } => o.discounts.push(Discount {
            id: *discount,
            target: *target,
            kind: *kind,
            reason: reason.clone(),
            by,
        }),
        Change::ServiceChargeSet { ppm } => o.service_charge_ppm = *ppm,
        Change::PaymentTaken {
            payment,
            tender,
            amount,
            tip,
            cash_received,
            ..
        } => o.payments.push(Payment {
            id: *payment,
            tender: tender.clone(),
            amount: *amount,
            tip: *tip,
            cash_received: *cash_received,
            refunded: Money::zero(o.currency),
            by,
        }),
        Change::Closed => {
            o.status = Status::Closed;
            o.closed_at = Some(at);
        }
        Change::Voided { .. } => o.status = Status::Voided,
        Change::Refunded {
            payment, amount, ..
        } => {
            if let Some(p) = o.payments.iter_mut().find(|p| p.id == *payment) {
                p.refunded = p.refunded.checked_add(*amount).unwrap_or(p.refunded);
            }
        }
    }
}

/// Folds one event into the order (`None` before it was opened).
pub fn apply(order: Option<Order>, event: &OrderEvent) -> Option<Order> {
    match (order, &event.change) {
        (
            None,
            Change::Opened {
                number,
                channel,
                kind,
                source,
                currency,
                mode,
                location,
            },
        ) => Some(Order {
            id: event.order,
            number: number.clone(),
            channel: *channel,
            kind: kind.clone(),
            source: source.clone(),
            currency: *currency,
            mode: *mode,
            location: *location,
            status: Status::Open,
            lines: Vec::new(),
            discounts: Vec::new(),
            service_charge_ppm: 0,
            payments: Vec::new(),
            fired_courses: Vec::new(),
            opened_by: event.by,
            opened_at: event.at,
            closed_at: None,
            version: 1,
        }),
        (Some(mut o), change) => {
            apply_change(&mut o, change, event.by, event.at);
            o.version = o.version.saturating_add(1);
            Some(o)
        }
        // An event for an order never opened: nothing to fold it into (decide never emits it).
        (None, _) => None,
    }
}
