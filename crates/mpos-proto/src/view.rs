//! Read models sent to clients: an order with its figures.

use mpos_domain::ids::{StationId, TableId};
use mpos_domain::order::{KitchenStatus, Line, Order, Status};
use mpos_domain::{MoneyError, order::OrderKind};

use crate::event::{
    channel_to_wire, id, item_to_wire, mode_to_wire, opt_id, source_to_wire, tender_to_wire,
};
use crate::v1;

pub fn order_view(o: &Order) -> Result<v1::OrderView, MoneyError> {
    let t = o.totals()?;
    let lines = o
        .lines
        .iter()
        .map(|l| {
            let figures = t.lines.iter().find(|lt| lt.line == l.id);
            v1::LineView {
                id: id(l.id.0),
                item: Some(item_to_wire(&l.item)),
                seat: l.seat.unwrap_or(0),
                course: l.course,
                note: l.note.clone(),
                sent: l.sent,
                voided: l.voided,
                round: l.round,
                sent_at: l.sent_at.unwrap_or(0),
                ready_at: l.ready_at.unwrap_or(0),
                before_discounts: figures.map_or(0, |f| f.before_discounts.minor()),
                discount: figures.map_or(0, |f| f.discount.minor()),
                net: figures.map_or(0, |f| f.taxed.net.minor()),
                tax: figures.map_or(0, |f| f.taxed.taxes.iter().map(|x| x.amount.minor()).sum()),
                gross: figures.map_or(0, |f| f.taxed.gross.minor()),
            }
        })
        .collect();
    Ok(v1::OrderView {
        id: id(o.id.0),
        number: o.number.clone(),
        channel: channel_to_wire(o.channel).into(),
        status: match o.status {
            Status::Open => v1::OrderStatus::Open,
            Status::Closed => v1::OrderStatus::Closed,
            Status::Voided => v1::OrderStatus::Voided,
        }
        .into(),
        currency: o.currency.code().to_string(),
        mode: mode_to_wire(o.mode).into(),
        guests: match o.kind {
            OrderKind::DineIn { guests, .. } => guests,
            _ => 0,
        },
        table: match o.kind {
            OrderKind::DineIn {
                table: Some(table), ..
            } => id(table.0),
            _ => Vec::new(),
        },
        lines,
        payments: o
            .payments
            .iter()
            .map(|p| v1::PaymentView {
                id: id(p.id.0),
                tender: Some(tender_to_wire(&p.tender)),
                amount: p.amount.minor(),
                tip: p.tip.minor(),
                cash_received: p.cash_received.map(|m| m.minor()),
                change_due: p.change_due().map_or(0, |m| m.minor()),
                refunded: p.refunded.minor(),
            })
            .collect(),
        before_discounts: t.before_discounts.minor(),
        discounts: t.discounts.minor(),
        net: t.net.minor(),
        taxes: t
            .tax_by_rate
            .iter()
            .map(|(r, m)| v1::TaxLine {
                rate_ppm: r.ppm(),
                amount: m.minor(),
            })
            .collect(),
        service_charge: t.service_charge.minor(),
        total: t.total.minor(),
        paid: t.paid.minor(),
        tips: t.tips.minor(),
        balance: t.balance.minor(),
        opened_at: o.opened_at,
        closed_at: o.closed_at.unwrap_or(0),
        kitchen: kitchen_status(o.kitchen_status()).into(),
        source: Some(source_to_wire(&o.source)),
        fired_courses: o.fired_courses.clone(),
        location: opt_id(o.location.map(|l| l.0)),
        conflicts: o.conflicts().iter().map(ToString::to_string).collect(),
    })
}

fn kitchen_status(k: KitchenStatus) -> v1::KitchenStatus {
    match k {
        KitchenStatus::Nothing => v1::KitchenStatus::None,
        KitchenStatus::Preparing => v1::KitchenStatus::Preparing,
        KitchenStatus::Ready => v1::KitchenStatus::Ready,
    }
}

/// The kitchen display's tickets from the orders the kitchen has (or bumped lately): the
/// lines of one order sent together to one station make a ticket. Tickets being made come
/// oldest first; bumped ones most recent first, at most `bumped`. `table` names tables.
pub fn kitchen_view(
    orders: &[Order],
    station: Option<StationId>,
    bumped: usize,
    now: u64,
    table: impl Fn(TableId) -> String,
) -> Result<v1::KitchenView, MoneyError> {
    let mut open = Vec::new();
    let mut done = Vec::new();
    for o in orders {
        let view = order_view(o)?;
        let mut tickets: Vec<(u32, StationId)> = Vec::new();
        for l in o.lines.iter().filter(|l| l.sent) {
            if let Some(s) = l.item.station
                && station.is_none_or(|want| want == s)
                && !tickets.contains(&(l.round, s))
            {
                tickets.push((l.round, s));
            }
        }
        for (round, s) in tickets {
            let lines: Vec<&Line> = o
                .lines
                .iter()
                .filter(|l| l.sent && l.round == round && l.item.station == Some(s))
                .collect();
            // Made when every line is bumped; a voided line is bumped with its ticket.
            let ready_at = lines
                .iter()
                .map(|l| l.ready_at)
                .try_fold(0, |latest, r| r.map(|r| latest.max(r)));
            let ticket = v1::KitchenTicket {
                order: id(o.id.0),
                number: o.number.clone(),
                round,
                station: id(s.0),
                table: match o.kind {
                    OrderKind::DineIn { table: Some(t), .. } => table(t),
                    _ => String::new(),
                },
                source: view.source.clone(),
                channel: view.channel,
                guests: view.guests,
                sent_at: lines.iter().filter_map(|l| l.sent_at).min().unwrap_or(0),
                ready_at: ready_at.unwrap_or(0),
                lines: view
                    .lines
                    .iter()
                    .filter(|lv| lines.iter().any(|l| id(l.id.0) == lv.id))
                    .cloned()
                    .collect(),
                order_voided: o.status == Status::Voided,
                fired_courses: o.fired_courses.clone(),
            };
            if ready_at.is_some() {
                done.push(ticket);
            } else {
                open.push(ticket);
            }
        }
    }
    open.sort_by(|a, b| (a.sent_at, &a.number).cmp(&(b.sent_at, &b.number)));
    done.sort_by_key(|t| std::cmp::Reverse(t.ready_at));
    done.truncate(bumped);
    Ok(v1::KitchenView {
        tickets: open,
        bumped: done,
        now,
    })
}

pub fn drawer_view(d: &mpos_domain::drawer::Drawer) -> Result<v1::DrawerView, MoneyError> {
    let closed = d.closed.as_ref();
    Ok(v1::DrawerView {
        id: id(d.id.0),
        name: d.name.clone(),
        currency: d.currency().code().to_string(),
        float: d.float.minor(),
        cash_sales: d.cash_sales.minor(),
        cash_refunds: d.cash_refunds.minor(),
        paid_in: d.paid_in.minor(),
        paid_out: d.paid_out.minor(),
        expected: closed
            .map_or_else(|| d.expected(), |c| Ok(c.expected))?
            .minor(),
        opened_by: id(d.opened_by.0),
        opened_at: d.opened_at,
        closed: closed.is_some(),
        counted: closed.map(|c| c.counted.minor()),
        variance: closed.map(|c| c.variance()).transpose()?.map(|m| m.minor()),
        closed_at: closed.map_or(0, |c| c.at),
    })
}

/// A day's report for clients; `category` and `staff` name the ids it holds.
pub fn day_report_view(
    r: &mpos_domain::day::DayReport,
    restaurant: &str,
    category: impl Fn(mpos_domain::ids::CategoryId) -> String,
    staff: impl Fn(mpos_domain::ids::StaffId) -> String,
) -> Result<v1::DayReportView, MoneyError> {
    Ok(v1::DayReportView {
        day: r.day,
        closed: r.closed,
        currency: r.currency.code().to_string(),
        from_seq: r.from_seq,
        to_seq: r.to_seq,
        first_at: r.first_at.unwrap_or(0),
        last_at: r.last_at.unwrap_or(0),
        orders: r.orders,
        guests: r.guests,
        gross_sales: r.gross_sales.minor(),
        discounts: r.discounts.minor(),
        net_sales: r.net_sales.minor(),
        tax: r
            .tax
            .iter()
            .map(|(rate, m)| v1::TaxLine {
                rate_ppm: rate.ppm(),
                amount: m.minor(),
            })
            .collect(),
        service_charges: r.service_charges.minor(),
        sales_total: r.sales_total.minor(),
        tips: r.tips.minor(),
        tenders: r
            .tenders
            .iter()
            .map(|t| {
                Ok(v1::TenderLine {
                    tender: t.tender.clone(),
                    payments: t.payments,
                    amount: t.amount.minor(),
                    tips: t.tips.minor(),
                    refunds: t.refunds,
                    refunded: t.refunded.minor(),
                    net: t.net()?.minor(),
                })
            })
            .collect::<Result<_, MoneyError>>()?,
        categories: r
            .categories
            .iter()
            .map(|c| v1::CategoryLine {
                category: id(c.category.0),
                name: category(c.category),
                quantity: c.quantity,
                sales: c.sales.minor(),
            })
            .collect(),
        staff: r
            .staff
            .iter()
            .map(|s| v1::StaffLine {
                staff: id(s.staff.0),
                name: staff(s.staff),
                orders: s.orders,
                sales: s.sales.minor(),
                tips: s.tips.minor(),
                voided: s.voided.minor(),
                refunded: s.refunded.minor(),
            })
            .collect(),
        voided_lines: r.voided_lines,
        voided_lines_amount: r.voided_lines_amount.minor(),
        voided_orders: r.voided_orders,
        voided_orders_amount: r.voided_orders_amount.minor(),
        refunds: r.refunds,
        refunded: r.refunded.minor(),
        drawers: r
            .drawers
            .iter()
            .map(drawer_view)
            .collect::<Result<_, _>>()?,
        cash_outside_drawers: r.cash_outside_drawers.minor(),
        cash_variance: r.cash_variance.minor(),
        open_orders: r.open_orders,
        open_orders_due: r.open_orders_due.minor(),
        restaurant: restaurant.to_string(),
    })
}

/// What a role may do, for a client to show only what its user can do.
pub fn permissions_view(role: mpos_domain::staff::Role) -> Vec<i32> {
    use mpos_domain::staff::Permission as P;
    role.permissions()
        .map(|p| {
            (match p {
                P::Sell => v1::Permission::Sell,
                P::TakePayment => v1::Permission::TakePayment,
                P::VoidUnsentLine => v1::Permission::VoidUnsentLine,
                P::VoidSent => v1::Permission::VoidSent,
                P::Discount => v1::Permission::Discount,
                P::Refund => v1::Permission::Refund,
                P::Drawer => v1::Permission::Drawer,
                P::Kitchen => v1::Permission::Kitchen,
                P::Reports => v1::Permission::Reports,
                P::ManageMenu => v1::Permission::ManageMenu,
                P::ManageStaff => v1::Permission::ManageStaff,
                P::Stock => v1::Permission::Stock,
                P::ManageStock => v1::Permission::ManageStock,
            }) as i32
        })
        .collect()
}

/// The charts' figures for clients: every day from `first_day` to `last_day` (days since
/// 1970-01-01 on the restaurant's clock, both included) whether it sold or not; items by
/// sales, best first; `category` and `staff` name the ids.
pub fn sales_view(
    s: &mpos_domain::sales::Sales,
    (first_day, last_day): (i64, i64),
    category: impl Fn(mpos_domain::ids::CategoryId) -> String,
    staff: impl Fn(mpos_domain::ids::StaffId) -> String,
    location: impl Fn(Option<mpos_domain::ids::LocationId>) -> String,
) -> v1::SalesView {
    use mpos_domain::sales::{Bucket, civil_date};
    let bar = |key: String, b: &Bucket| v1::SalesBucket {
        key,
        count: b.count,
        sales: b.sales.minor(),
    };
    let zero = Bucket {
        count: 0,
        sales: mpos_domain::Money::zero(s.currency),
    };
    let by_sales = |mut bars: Vec<v1::SalesBucket>| {
        bars.sort_by(|a, b| b.sales.cmp(&a.sales).then_with(|| a.key.cmp(&b.key)));
        bars
    };
    v1::SalesView {
        currency: s.currency.code().to_string(),
        orders: s.orders,
        total: s.total.minor(),
        hours: s
            .hours
            .iter()
            .enumerate()
            .map(|(h, b)| bar(h.to_string(), b))
            .collect(),
        days: (first_day..=last_day)
            .map(|d| {
                let (y, m, day) = civil_date(d);
                bar(
                    format!("{y:04}-{m:02}-{day:02}"),
                    s.days.get(&d).unwrap_or(&zero),
                )
            })
            .collect(),
        items: by_sales(
            s.items
                .values()
                .map(|(name, b)| bar(name.clone(), b))
                .collect(),
        ),
        categories: by_sales(
            s.categories
                .iter()
                .map(|(c, b)| bar(category(*c), b))
                .collect(),
        ),
        staff: by_sales(s.staff.iter().map(|(m, b)| bar(staff(*m), b)).collect()),
        locations: by_sales(
            s.locations
                .iter()
                .map(|(l, b)| bar(location(*l), b))
                .collect(),
        ),
    }
}
