//! Read models sent to clients: an order with its figures.

use mpos_domain::order::{Order, Status};
use mpos_domain::{MoneyError, order::OrderKind};

use crate::event::{channel_to_wire, id, item_to_wire, mode_to_wire, tender_to_wire};
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
    })
}
