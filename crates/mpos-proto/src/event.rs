//! Domain events to ledger payloads and back. The payload of a ledger entry (schema
//! `SCHEMA`) is a `mpos.v1.Event` message; prost encodes fields in tag order and this
//! module never uses maps, so the same event always encodes to the same bytes.

use mpos_domain::catalog::{Channel, ChosenModifier, PricedSelection};
use mpos_domain::ids::{
    CategoryId, DiscountId, ItemId, LineId, ModifierId, OrderId, PaymentId, StaffId, TableId,
    VariantId,
};
use mpos_domain::order::{
    Change, DiscountKind, DiscountTarget, OrderEvent, OrderKind, Source, Tender,
};
use mpos_domain::{Currency, Money, PriceMode, TaxRate};
use prost::Message;

use crate::v1::{self, event, order_event, order_opened};
use crate::{DecodeError, field};

/// Ledger schema version of payloads this module writes.
pub const SCHEMA: u16 = 1;

pub use mpos_domain::Event as DomainEvent;

pub fn encode(event: &DomainEvent) -> Vec<u8> {
    let kind = match event {
        DomainEvent::Order(e) => event::Kind::Order(order_to_wire(e)),
    };
    v1::Event { kind: Some(kind) }.encode_to_vec()
}

pub fn decode(bytes: &[u8]) -> Result<DomainEvent, DecodeError> {
    let wire = v1::Event::decode(bytes).map_err(|e| DecodeError::Protobuf(e.to_string()))?;
    match wire.kind {
        Some(event::Kind::Order(o)) => Ok(DomainEvent::Order(order_from_wire(o)?)),
        None => Err(field("event", "empty")),
    }
}

fn id(v: u128) -> Vec<u8> {
    v.to_be_bytes().to_vec()
}

fn opt_id(v: Option<u128>) -> Vec<u8> {
    v.map(id).unwrap_or_default()
}

fn read_id(name: &'static str, b: &[u8]) -> Result<u128, DecodeError> {
    <[u8; 16]>::try_from(b)
        .map(u128::from_be_bytes)
        .map_err(|_| field(name, format!("an id is 16 bytes, not {}", b.len())))
}

fn read_opt_id(name: &'static str, b: &[u8]) -> Result<Option<u128>, DecodeError> {
    if b.is_empty() {
        Ok(None)
    } else {
        read_id(name, b).map(Some)
    }
}

fn channel_to_wire(c: Channel) -> v1::Channel {
    match c {
        Channel::Counter => v1::Channel::Counter,
        Channel::Table => v1::Channel::Table,
        Channel::Online => v1::Channel::Online,
        Channel::Delivery => v1::Channel::Delivery,
    }
}

fn channel_from_wire(c: i32) -> Result<Channel, DecodeError> {
    match v1::Channel::try_from(c) {
        Ok(v1::Channel::Counter) => Ok(Channel::Counter),
        Ok(v1::Channel::Table) => Ok(Channel::Table),
        Ok(v1::Channel::Online) => Ok(Channel::Online),
        Ok(v1::Channel::Delivery) => Ok(Channel::Delivery),
        _ => Err(field("channel", format!("unknown channel {c}"))),
    }
}

fn source_to_wire(s: &Source) -> v1::Source {
    use v1::source::Kind;
    v1::Source {
        kind: Some(match s {
            Source::Register => Kind::Register(v1::SourceRegister {}),
            Source::SelfOrder => Kind::SelfOrder(v1::SourceSelfOrder {}),
            Source::Online => Kind::Online(v1::SourceOnline {}),
            Source::Aggregator(name) => Kind::Aggregator(name.clone()),
        }),
    }
}

fn source_from_wire(s: Option<v1::Source>) -> Result<Source, DecodeError> {
    use v1::source::Kind;
    match s.and_then(|s| s.kind) {
        Some(Kind::Register(_)) => Ok(Source::Register),
        Some(Kind::SelfOrder(_)) => Ok(Source::SelfOrder),
        Some(Kind::Online(_)) => Ok(Source::Online),
        Some(Kind::Aggregator(name)) => Ok(Source::Aggregator(name)),
        None => Err(field("source", "missing")),
    }
}

fn item_to_wire(p: &PricedSelection) -> v1::SoldItem {
    v1::SoldItem {
        item: id(p.item.0),
        name: p.name.clone(),
        variant: opt_id(p.variant.as_ref().map(|(v, _)| v.0)),
        variant_name: p
            .variant
            .as_ref()
            .map(|(_, n)| n.clone())
            .unwrap_or_default(),
        modifiers: p
            .modifiers
            .iter()
            .map(|m| v1::ChosenModifier {
                id: id(m.id.0),
                name: m.name.clone(),
                price_delta: m.price_delta.minor(),
            })
            .collect(),
        quantity: p.quantity,
        unit_price: p.unit_price.minor(),
        tax_rates_ppm: p.tax_rates.iter().map(|r| r.ppm()).collect(),
        category: id(p.category.0),
    }
}

fn item_from_wire(w: v1::SoldItem, c: Currency) -> Result<PricedSelection, DecodeError> {
    let variant =
        read_opt_id("item.variant", &w.variant)?.map(|v| (VariantId(v), w.variant_name.clone()));
    let modifiers = w
        .modifiers
        .into_iter()
        .map(|m| {
            Ok(ChosenModifier {
                id: ModifierId(read_id("item.modifiers.id", &m.id)?),
                name: m.name,
                price_delta: Money::new(m.price_delta, c),
            })
        })
        .collect::<Result<_, DecodeError>>()?;
    Ok(PricedSelection {
        item: ItemId(read_id("item.item", &w.item)?),
        name: w.name,
        variant,
        modifiers,
        quantity: w.quantity,
        unit_price: Money::new(w.unit_price, c),
        tax_rates: w.tax_rates_ppm.into_iter().map(TaxRate::from_ppm).collect(),
        category: CategoryId(read_id("item.category", &w.category)?),
    })
}

fn tender_to_wire(t: &Tender) -> v1::Tender {
    use v1::tender::Kind;
    v1::Tender {
        kind: Some(match t {
            Tender::Cash => Kind::Cash(v1::TenderCash {}),
            Tender::Card { reference } => Kind::CardReference(reference.clone()),
            Tender::Other { name } => Kind::Other(name.clone()),
        }),
    }
}

fn tender_from_wire(t: Option<v1::Tender>) -> Result<Tender, DecodeError> {
    use v1::tender::Kind;
    match t.and_then(|t| t.kind) {
        Some(Kind::Cash(_)) => Ok(Tender::Cash),
        Some(Kind::CardReference(reference)) => Ok(Tender::Card { reference }),
        Some(Kind::Other(name)) => Ok(Tender::Other { name }),
        None => Err(field("tender", "missing")),
    }
}

fn order_to_wire(e: &OrderEvent) -> v1::OrderEvent {
    use order_event::Change as W;
    let mut currency = String::new();
    let change = match &e.change {
        Change::Opened {
            number,
            channel,
            kind,
            source,
            currency: c,
            mode,
        } => W::Opened(v1::OrderOpened {
            number: number.clone(),
            channel: channel_to_wire(*channel).into(),
            kind: Some(match kind {
                OrderKind::DineIn { table, guests } => order_opened::Kind::DineIn(v1::DineIn {
                    table: opt_id(table.map(|t| t.0)),
                    guests: *guests,
                }),
                OrderKind::Takeaway => order_opened::Kind::Takeaway(v1::Takeaway {}),
                OrderKind::Delivery { address } => order_opened::Kind::Delivery(v1::Delivery {
                    address: address.clone(),
                }),
            }),
            source: Some(source_to_wire(source)),
            currency: c.code().to_string(),
            mode: match mode {
                PriceMode::Inclusive => v1::PriceMode::Inclusive,
                PriceMode::Exclusive => v1::PriceMode::Exclusive,
            }
            .into(),
        }),
        Change::LineAdded {
            line,
            item,
            seat,
            course,
            note,
        } => {
            currency = item.unit_price.currency().code().to_string();
            W::LineAdded(v1::LineAdded {
                line: id(line.0),
                item: Some(item_to_wire(item)),
                seat: seat.unwrap_or(0),
                course: *course,
                note: note.clone(),
            })
        }
        Change::LineVoided { line, reason } => W::LineVoided(v1::LineVoided {
            line: id(line.0),
            reason: reason.clone(),
        }),
        Change::LinesSent { lines } => W::LinesSent(v1::LinesSent {
            lines: lines.iter().map(|l| id(l.0)).collect(),
        }),
        Change::CourseFired { course } => W::CourseFired(v1::CourseFired { course: *course }),
        Change::DiscountApplied {
            discount,
            target,
            kind,
            reason,
        } => {
            use v1::discount_applied::Kind;
            W::DiscountApplied(v1::DiscountApplied {
                discount: id(discount.0),
                line: match target {
                    DiscountTarget::Order => Vec::new(),
                    DiscountTarget::Line(l) => id(l.0),
                },
                kind: Some(match kind {
                    DiscountKind::Percent(ppm) => Kind::PercentPpm(*ppm),
                    DiscountKind::Amount(m) => {
                        currency = m.currency().code().to_string();
                        Kind::Amount(m.minor())
                    }
                }),
                reason: reason.clone(),
            })
        }
        Change::ServiceChargeSet { ppm } => W::ServiceChargeSet(v1::ServiceChargeSet { ppm: *ppm }),
        Change::PaymentTaken {
            payment,
            tender,
            amount,
            tip,
            cash_received,
        } => {
            currency = amount.currency().code().to_string();
            W::PaymentTaken(v1::PaymentTaken {
                payment: id(payment.0),
                tender: Some(tender_to_wire(tender)),
                amount: amount.minor(),
                tip: tip.minor(),
                cash_received: cash_received.map(|m| m.minor()),
            })
        }
        Change::Closed => W::Closed(v1::OrderClosed {}),
        Change::Voided { reason } => W::Voided(v1::OrderVoided {
            reason: reason.clone(),
        }),
        Change::Refunded {
            payment,
            amount,
            reason,
        } => {
            currency = amount.currency().code().to_string();
            W::Refunded(v1::PaymentRefunded {
                payment: id(payment.0),
                amount: amount.minor(),
                reason: reason.clone(),
            })
        }
    };
    v1::OrderEvent {
        order: id(e.order.0),
        by: id(e.by.0),
        at: e.at,
        currency,
        change: Some(change),
    }
}

fn order_from_wire(w: v1::OrderEvent) -> Result<OrderEvent, DecodeError> {
    use order_event::Change as W;
    // Only changes that carry amounts name a currency.
    let currency =
        || Currency::from_code(&w.currency).map_err(|e| field("currency", e.to_string()));
    let change = match w.change.clone() {
        Some(W::Opened(o)) => Change::Opened {
            number: o.number,
            channel: channel_from_wire(o.channel)?,
            kind: match o.kind {
                Some(order_opened::Kind::DineIn(d)) => OrderKind::DineIn {
                    table: read_opt_id("dine_in.table", &d.table)?.map(TableId),
                    guests: d.guests,
                },
                Some(order_opened::Kind::Takeaway(_)) => OrderKind::Takeaway,
                Some(order_opened::Kind::Delivery(d)) => OrderKind::Delivery { address: d.address },
                None => return Err(field("opened.kind", "missing")),
            },
            source: source_from_wire(o.source)?,
            currency: Currency::from_code(&o.currency)
                .map_err(|e| field("opened.currency", e.to_string()))?,
            mode: match v1::PriceMode::try_from(o.mode) {
                Ok(v1::PriceMode::Inclusive) => PriceMode::Inclusive,
                Ok(v1::PriceMode::Exclusive) => PriceMode::Exclusive,
                _ => {
                    return Err(field(
                        "opened.mode",
                        format!("unknown price mode {}", o.mode),
                    ));
                }
            },
        },
        Some(W::LineAdded(l)) => Change::LineAdded {
            line: LineId(read_id("line_added.line", &l.line)?),
            item: item_from_wire(
                l.item.ok_or_else(|| field("line_added.item", "missing"))?,
                currency()?,
            )?,
            seat: (l.seat != 0).then_some(l.seat),
            course: l.course,
            note: l.note,
        },
        Some(W::LineVoided(v)) => Change::LineVoided {
            line: LineId(read_id("line_voided.line", &v.line)?),
            reason: v.reason,
        },
        Some(W::LinesSent(s)) => Change::LinesSent {
            lines: s
                .lines
                .iter()
                .map(|l| read_id("lines_sent.lines", l).map(LineId))
                .collect::<Result<_, _>>()?,
        },
        Some(W::CourseFired(c)) => Change::CourseFired { course: c.course },
        Some(W::DiscountApplied(d)) => {
            use v1::discount_applied::Kind;
            Change::DiscountApplied {
                discount: DiscountId(read_id("discount_applied.discount", &d.discount)?),
                target: match read_opt_id("discount_applied.line", &d.line)? {
                    None => DiscountTarget::Order,
                    Some(l) => DiscountTarget::Line(LineId(l)),
                },
                kind: match d.kind {
                    Some(Kind::PercentPpm(ppm)) => DiscountKind::Percent(ppm),
                    Some(Kind::Amount(a)) => DiscountKind::Amount(Money::new(a, currency()?)),
                    None => return Err(field("discount_applied.kind", "missing")),
                },
                reason: d.reason,
            }
        }
        Some(W::ServiceChargeSet(s)) => Change::ServiceChargeSet { ppm: s.ppm },
        Some(W::PaymentTaken(p)) => {
            let c = currency()?;
            Change::PaymentTaken {
                payment: PaymentId(read_id("payment_taken.payment", &p.payment)?),
                tender: tender_from_wire(p.tender)?,
                amount: Money::new(p.amount, c),
                tip: Money::new(p.tip, c),
                cash_received: p.cash_received.map(|m| Money::new(m, c)),
            }
        }
        Some(W::Closed(_)) => Change::Closed,
        Some(W::Voided(v)) => Change::Voided { reason: v.reason },
        Some(W::Refunded(r)) => Change::Refunded {
            payment: PaymentId(read_id("refunded.payment", &r.payment)?),
            amount: Money::new(r.amount, currency()?),
            reason: r.reason,
        },
        None => return Err(field("order_event.change", "missing")),
    };
    Ok(OrderEvent {
        order: OrderId(read_id("order_event.order", &w.order)?),
        by: StaffId(read_id("order_event.by", &w.by)?),
        at: w.at,
        change,
    })
}
