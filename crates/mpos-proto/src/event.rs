//! Domain events to ledger payloads and back. The payload of a ledger entry (schema
//! `SCHEMA`) is a `mpos.v1.Event` message; prost encodes fields in tag order and this
//! module never uses maps, so the same event always encodes to the same bytes.

use mpos_domain::catalog::{
    Category, Channel, ChosenModifier, Item, ModifierGroup, ModifierOption, PricedSelection,
    TaxCategory, Variant,
};
use mpos_domain::day::DayClosed;
use mpos_domain::drawer::{DrawerChange, DrawerEvent};
use mpos_domain::event::{MenuEvent, StaffEvent, TrustChange, TrustEvent};
use mpos_domain::floor::{FloorChange, FloorEvent, Table};
use mpos_domain::ids::{
    CategoryId, DiscountId, DrawerId, ItemId, LineId, LocationId, ModifierGroupId, ModifierId,
    OrderId, PaymentId, StaffId, StationId, TableId, TaxCategoryId, VariantId,
};
use mpos_domain::menu::{MenuChange, Settings};
use mpos_domain::order::{
    Change, DiscountKind, DiscountTarget, OrderEvent, OrderKind, Source, Tender,
};
use mpos_domain::staff::{Role, StaffChange, StaffMember};
use mpos_domain::{Currency, Money, PriceMode, TaxRate};
use prost::Message;

use crate::v1::{
    self, drawer_event, event, floor_event, menu_event, order_event, order_opened, staff_event,
    trust_event,
};
use crate::{DecodeError, field};

/// Ledger schema version of payloads this module writes.
pub const SCHEMA: u16 = 1;

pub use mpos_domain::Event as DomainEvent;

pub fn encode(event: &DomainEvent) -> Vec<u8> {
    let kind = match event {
        DomainEvent::Order(e) => event::Kind::Order(order_to_wire(e)),
        DomainEvent::Menu(e) => event::Kind::Menu(menu_to_wire(e)),
        DomainEvent::Staff(e) => event::Kind::Staff(staff_to_wire(e)),
        DomainEvent::Drawer(e) => event::Kind::Drawer(drawer_to_wire(e)),
        DomainEvent::DayClosed(e) => event::Kind::DayClosed(day_closed_to_wire(e)),
        DomainEvent::Floor(e) => event::Kind::Floor(floor_to_wire(e)),
        DomainEvent::Inventory(e) => event::Kind::Inventory(crate::inventory::inventory_to_wire(e)),
        DomainEvent::Trust(e) => event::Kind::Trust(trust_to_wire(e)),
    };
    v1::Event { kind: Some(kind) }.encode_to_vec()
}

pub fn decode(bytes: &[u8]) -> Result<DomainEvent, DecodeError> {
    let wire = v1::Event::decode(bytes).map_err(|e| DecodeError::Protobuf(e.to_string()))?;
    match wire.kind {
        Some(event::Kind::Order(o)) => Ok(DomainEvent::Order(order_from_wire(o)?)),
        Some(event::Kind::Menu(m)) => Ok(DomainEvent::Menu(menu_from_wire(m)?)),
        Some(event::Kind::Staff(s)) => Ok(DomainEvent::Staff(staff_from_wire(s)?)),
        Some(event::Kind::Drawer(d)) => Ok(DomainEvent::Drawer(drawer_from_wire(d)?)),
        Some(event::Kind::DayClosed(d)) => Ok(DomainEvent::DayClosed(day_closed_from_wire(d)?)),
        Some(event::Kind::Floor(f)) => Ok(DomainEvent::Floor(floor_from_wire(f)?)),
        Some(event::Kind::Inventory(i)) => Ok(DomainEvent::Inventory(
            crate::inventory::inventory_from_wire(i)?,
        )),
        Some(event::Kind::Trust(t)) => Ok(DomainEvent::Trust(trust_from_wire(t)?)),
        None => Err(field("event", "empty")),
    }
}

pub fn id(v: u128) -> Vec<u8> {
    v.to_be_bytes().to_vec()
}

pub fn opt_id(v: Option<u128>) -> Vec<u8> {
    v.map(id).unwrap_or_default()
}

pub fn read_id(name: &'static str, b: &[u8]) -> Result<u128, DecodeError> {
    <[u8; 16]>::try_from(b)
        .map(u128::from_be_bytes)
        .map_err(|_| field(name, format!("an id is 16 bytes, not {}", b.len())))
}

pub fn read_opt_id(name: &'static str, b: &[u8]) -> Result<Option<u128>, DecodeError> {
    if b.is_empty() {
        Ok(None)
    } else {
        read_id(name, b).map(Some)
    }
}

pub fn channel_to_wire(c: Channel) -> v1::Channel {
    match c {
        Channel::Counter => v1::Channel::Counter,
        Channel::Table => v1::Channel::Table,
        Channel::Online => v1::Channel::Online,
        Channel::Delivery => v1::Channel::Delivery,
    }
}

pub fn channel_from_wire(c: i32) -> Result<Channel, DecodeError> {
    match v1::Channel::try_from(c) {
        Ok(v1::Channel::Counter) => Ok(Channel::Counter),
        Ok(v1::Channel::Table) => Ok(Channel::Table),
        Ok(v1::Channel::Online) => Ok(Channel::Online),
        Ok(v1::Channel::Delivery) => Ok(Channel::Delivery),
        _ => Err(field("channel", format!("unknown channel {c}"))),
    }
}

pub fn mode_to_wire(m: PriceMode) -> v1::PriceMode {
    match m {
        PriceMode::Inclusive => v1::PriceMode::Inclusive,
        PriceMode::Exclusive => v1::PriceMode::Exclusive,
    }
}

fn mode_from_wire(name: &'static str, m: i32) -> Result<PriceMode, DecodeError> {
    match v1::PriceMode::try_from(m) {
        Ok(v1::PriceMode::Inclusive) => Ok(PriceMode::Inclusive),
        Ok(v1::PriceMode::Exclusive) => Ok(PriceMode::Exclusive),
        _ => Err(field(name, format!("unknown price mode {m}"))),
    }
}

pub fn source_to_wire(s: &Source) -> v1::Source {
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

pub fn source_from_wire(s: Option<v1::Source>) -> Result<Source, DecodeError> {
    use v1::source::Kind;
    match s.and_then(|s| s.kind) {
        Some(Kind::Register(_)) => Ok(Source::Register),
        Some(Kind::SelfOrder(_)) => Ok(Source::SelfOrder),
        Some(Kind::Online(_)) => Ok(Source::Online),
        Some(Kind::Aggregator(name)) => Ok(Source::Aggregator(name)),
        None => Err(field("source", "missing")),
    }
}

/// A list of line ids from the wire (a send, a bump, a split); `field` names it in errors.
pub fn read_line_ids(field: &'static str, wire: &[Vec<u8>]) -> Result<Vec<LineId>, DecodeError> {
    wire.iter().map(|l| read_id(field, l).map(LineId)).collect()
}

fn line_ids_to_wire(lines: &[LineId]) -> Vec<Vec<u8>> {
    lines.iter().map(|l| id(l.0)).collect()
}

pub fn item_to_wire(p: &PricedSelection) -> v1::SoldItem {
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
        station: opt_id(p.station.map(|s| s.0)),
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
        station: read_opt_id("item.station", &w.station)?.map(StationId),
    })
}

pub fn tender_to_wire(t: &Tender) -> v1::Tender {
    use v1::tender::Kind;
    v1::Tender {
        kind: Some(match t {
            Tender::Cash => Kind::Cash(v1::TenderCash {}),
            Tender::Card { reference } => Kind::CardReference(reference.clone()),
            Tender::Other { name } => Kind::Other(name.clone()),
        }),
    }
}

pub fn tender_from_wire(t: Option<v1::Tender>) -> Result<Tender, DecodeError> {
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
            location,
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
            mode: mode_to_wire(*mode).into(),
            location: opt_id(location.map(|l| l.0)),
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
            lines: line_ids_to_wire(lines),
        }),
        Change::LinesReady { lines } => W::LinesReady(v1::LinesReady {
            lines: line_ids_to_wire(lines),
        }),
        Change::LinesRecalled { lines } => W::LinesRecalled(v1::LinesRecalled {
            lines: line_ids_to_wire(lines),
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
            drawer,
        } => {
            currency = amount.currency().code().to_string();
            W::PaymentTaken(v1::PaymentTaken {
                payment: id(payment.0),
                tender: Some(tender_to_wire(tender)),
                amount: amount.minor(),
                tip: tip.minor(),
                cash_received: cash_received.map(|m| m.minor()),
                drawer: opt_id(drawer.map(|d| d.0)),
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
            drawer,
        } => {
            currency = amount.currency().code().to_string();
            W::Refunded(v1::PaymentRefunded {
                payment: id(payment.0),
                amount: amount.minor(),
                reason: reason.clone(),
                drawer: opt_id(drawer.map(|d| d.0)),
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
            mode: mode_from_wire("opened.mode", o.mode)?,
            location: read_opt_id("opened.location", &o.location)?.map(LocationId),
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
            lines: read_line_ids("lines_sent.lines", &s.lines)?,
        },
        Some(W::LinesReady(s)) => Change::LinesReady {
            lines: read_line_ids("lines_ready.lines", &s.lines)?,
        },
        Some(W::LinesRecalled(s)) => Change::LinesRecalled {
            lines: read_line_ids("lines_recalled.lines", &s.lines)?,
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
                drawer: read_opt_id("payment_taken.drawer", &p.drawer)?.map(DrawerId),
            }
        }
        Some(W::Closed(_)) => Change::Closed,
        Some(W::Voided(v)) => Change::Voided { reason: v.reason },
        Some(W::Refunded(r)) => Change::Refunded {
            payment: PaymentId(read_id("refunded.payment", &r.payment)?),
            amount: Money::new(r.amount, currency()?),
            reason: r.reason,
            drawer: read_opt_id("refunded.drawer", &r.drawer)?.map(DrawerId),
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

fn menu_to_wire(e: &MenuEvent) -> v1::MenuEvent {
    use menu_event::Change as W;
    let mut currency = String::new();
    let mut note = |m: Money| currency = m.currency().code().to_string();
    let change = match &e.change {
        MenuChange::SettingsPut(st) => W::SettingsPut(settings_to_wire(st)),
        MenuChange::TaxCategoryPut(t) => W::TaxCategoryPut(tax_category_to_wire(t)),
        MenuChange::CategoryPut(c) => W::CategoryPut(category_to_wire(c)),
        MenuChange::ModifierGroupPut(g) => {
            if let Some(o) = g.options.first() {
                note(o.price_delta);
            }
            W::ModifierGroupPut(group_to_wire(g))
        }
        MenuChange::ItemPut(i) => {
            note(i.price);
            W::ItemPut(menu_item_to_wire(i))
        }
        MenuChange::AvailabilitySet { item, available } => W::AvailabilitySet(v1::Availability {
            item: id(item.0),
            available: *available,
        }),
    };
    v1::MenuEvent {
        by: id(e.by.0),
        at: e.at,
        currency,
        change: Some(change),
    }
}

/// A menu event from the wire; the back office sends its changes in this form too.
pub fn menu_from_wire(w: v1::MenuEvent) -> Result<MenuEvent, DecodeError> {
    use menu_event::Change as W;
    let currency =
        || Currency::from_code(&w.currency).map_err(|e| field("currency", e.to_string()));
    let change = match w.change.clone() {
        Some(W::SettingsPut(st)) => MenuChange::SettingsPut(Settings {
            name: st.name,
            currency: Currency::from_code(&st.currency)
                .map_err(|e| field("settings.currency", e.to_string()))?,
            price_mode: mode_from_wire("settings.price_mode", st.price_mode)?,
        }),
        Some(W::TaxCategoryPut(t)) => MenuChange::TaxCategoryPut(TaxCategory {
            id: TaxCategoryId(read_id("tax_category.id", &t.id)?),
            name: t.name,
            rates: t.rates_ppm.into_iter().map(TaxRate::from_ppm).collect(),
        }),
        Some(W::CategoryPut(c)) => MenuChange::CategoryPut(Category {
            id: CategoryId(read_id("category.id", &c.id)?),
            name: c.name,
            station: read_opt_id("category.station", &c.station)?.map(StationId),
        }),
        Some(W::ModifierGroupPut(g)) => {
            let options = g
                .options
                .into_iter()
                .map(|o| {
                    Ok(ModifierOption {
                        id: ModifierId(read_id("modifier_group.options.id", &o.id)?),
                        name: o.name,
                        price_delta: Money::new(o.price_delta, currency()?),
                    })
                })
                .collect::<Result<_, DecodeError>>()?;
            MenuChange::ModifierGroupPut(ModifierGroup {
                id: ModifierGroupId(read_id("modifier_group.id", &g.id)?),
                name: g.name,
                min: g.min,
                max: g.max,
                options,
            })
        }
        Some(W::ItemPut(i)) => {
            let c = currency()?;
            MenuChange::ItemPut(Item {
                id: ItemId(read_id("item.id", &i.id)?),
                name: i.name,
                description: i.description,
                category: CategoryId(read_id("item.category", &i.category)?),
                sku: i.sku,
                barcode: i.barcode,
                price: Money::new(i.price, c),
                channel_prices: i
                    .channel_prices
                    .into_iter()
                    .map(|p| Ok((channel_from_wire(p.channel)?, Money::new(p.price, c))))
                    .collect::<Result<_, DecodeError>>()?,
                tax_category: TaxCategoryId(read_id("item.tax_category", &i.tax_category)?),
                variants: i
                    .variants
                    .into_iter()
                    .map(|v| {
                        Ok(Variant {
                            id: VariantId(read_id("item.variants.id", &v.id)?),
                            name: v.name,
                            price_delta: Money::new(v.price_delta, c),
                        })
                    })
                    .collect::<Result<_, DecodeError>>()?,
                modifier_groups: i
                    .modifier_groups
                    .iter()
                    .map(|g| read_id("item.modifier_groups", g).map(ModifierGroupId))
                    .collect::<Result<_, _>>()?,
                available: i.available,
            })
        }
        Some(W::AvailabilitySet(a)) => MenuChange::AvailabilitySet {
            item: ItemId(read_id("availability.item", &a.item)?),
            available: a.available,
        },
        None => return Err(field("menu_event.change", "missing")),
    };
    Ok(MenuEvent {
        by: StaffId(read_id("menu_event.by", &w.by)?),
        at: w.at,
        change,
    })
}

pub fn role_to_wire(r: Role) -> v1::Role {
    match r {
        Role::Owner => v1::Role::Owner,
        Role::Manager => v1::Role::Manager,
        Role::Cashier => v1::Role::Cashier,
        Role::Server => v1::Role::Server,
        Role::Kitchen => v1::Role::Kitchen,
        // Guests are never staff: nothing stores or lists them with a role.
        Role::Guest => v1::Role::Unspecified,
    }
}

pub fn role_from_wire(r: i32) -> Result<Role, DecodeError> {
    match v1::Role::try_from(r) {
        Ok(v1::Role::Owner) => Ok(Role::Owner),
        Ok(v1::Role::Manager) => Ok(Role::Manager),
        Ok(v1::Role::Cashier) => Ok(Role::Cashier),
        Ok(v1::Role::Server) => Ok(Role::Server),
        Ok(v1::Role::Kitchen) => Ok(Role::Kitchen),
        _ => Err(field("role", format!("unknown role {r}"))),
    }
}

fn staff_to_wire(e: &StaffEvent) -> v1::StaffEvent {
    use staff_event::Change as W;
    v1::StaffEvent {
        by: opt_id(e.by.map(|s| s.0)),
        at: e.at,
        change: Some(match &e.change {
            StaffChange::Put(m) => W::Put(v1::StaffMember {
                id: id(m.id.0),
                name: m.name.clone(),
                role: role_to_wire(m.role).into(),
                active: m.active,
            }),
            StaffChange::PinChanged { staff } => {
                W::PinChanged(v1::PinChanged { staff: id(staff.0) })
            }
        }),
    }
}

fn staff_from_wire(w: v1::StaffEvent) -> Result<StaffEvent, DecodeError> {
    use staff_event::Change as W;
    let change = match w.change {
        Some(W::Put(m)) => StaffChange::Put(StaffMember {
            id: StaffId(read_id("staff.id", &m.id)?),
            name: m.name,
            role: role_from_wire(m.role)?,
            active: m.active,
        }),
        Some(W::PinChanged(p)) => StaffChange::PinChanged {
            staff: StaffId(read_id("pin_changed.staff", &p.staff)?),
        },
        None => return Err(field("staff_event.change", "missing")),
    };
    Ok(StaffEvent {
        by: read_opt_id("staff_event.by", &w.by)?.map(StaffId),
        at: w.at,
        change,
    })
}

pub fn settings_to_wire(st: &Settings) -> v1::Settings {
    v1::Settings {
        name: st.name.clone(),
        currency: st.currency.code().to_string(),
        price_mode: mode_to_wire(st.price_mode).into(),
    }
}

pub fn tax_category_to_wire(t: &TaxCategory) -> v1::TaxCategory {
    v1::TaxCategory {
        id: id(t.id.0),
        name: t.name.clone(),
        rates_ppm: t.rates.iter().map(|r| r.ppm()).collect(),
    }
}

pub fn category_to_wire(c: &Category) -> v1::Category {
    v1::Category {
        id: id(c.id.0),
        name: c.name.clone(),
        station: opt_id(c.station.map(|s| s.0)),
    }
}

pub fn group_to_wire(g: &ModifierGroup) -> v1::ModifierGroup {
    v1::ModifierGroup {
        id: id(g.id.0),
        name: g.name.clone(),
        min: g.min,
        max: g.max,
        options: g
            .options
            .iter()
            .map(|o| v1::ModifierOption {
                id: id(o.id.0),
                name: o.name.clone(),
                price_delta: o.price_delta.minor(),
            })
            .collect(),
    }
}

pub fn menu_item_to_wire(i: &Item) -> v1::Item {
    v1::Item {
        id: id(i.id.0),
        name: i.name.clone(),
        description: i.description.clone(),
        category: id(i.category.0),
        sku: i.sku.clone(),
        barcode: i.barcode.clone(),
        price: i.price.minor(),
        channel_prices: i
            .channel_prices
            .iter()
            .map(|(c, p)| v1::ChannelPrice {
                channel: channel_to_wire(*c).into(),
                price: p.minor(),
            })
            .collect(),
        tax_category: id(i.tax_category.0),
        variants: i
            .variants
            .iter()
            .map(|v| v1::Variant {
                id: id(v.id.0),
                name: v.name.clone(),
                price_delta: v.price_delta.minor(),
            })
            .collect(),
        modifier_groups: i.modifier_groups.iter().map(|g| id(g.0)).collect(),
        available: i.available,
    }
}

fn drawer_to_wire(e: &DrawerEvent) -> v1::DrawerEvent {
    use drawer_event::Change as W;
    let (currency, change) = match &e.change {
        DrawerChange::Opened {
            name,
            float,
            location,
        } => (
            float.currency(),
            W::Opened(v1::DrawerOpened {
                name: name.clone(),
                float: float.minor(),
                location: opt_id(location.map(|l| l.0)),
            }),
        ),
        DrawerChange::PaidIn { amount, reason } => (
            amount.currency(),
            W::PaidIn(v1::CashMoved {
                amount: amount.minor(),
                reason: reason.clone(),
            }),
        ),
        DrawerChange::PaidOut { amount, reason } => (
            amount.currency(),
            W::PaidOut(v1::CashMoved {
                amount: amount.minor(),
                reason: reason.clone(),
            }),
        ),
        DrawerChange::Closed { counted, expected } => (
            counted.currency(),
            W::Closed(v1::DrawerCounted {
                counted: counted.minor(),
                expected: expected.minor(),
            }),
        ),
    };
    v1::DrawerEvent {
        drawer: id(e.drawer.0),
        by: id(e.by.0),
        at: e.at,
        currency: currency.code().to_string(),
        change: Some(change),
    }
}

fn drawer_from_wire(w: v1::DrawerEvent) -> Result<DrawerEvent, DecodeError> {
    use drawer_event::Change as W;
    let c = Currency::from_code(&w.currency).map_err(|e| field("currency", e.to_string()))?;
    let change = match w.change {
        Some(W::Opened(o)) => DrawerChange::Opened {
            name: o.name,
            float: Money::new(o.float, c),
            location: read_opt_id("opened.location", &o.location)?.map(LocationId),
        },
        Some(W::PaidIn(m)) => DrawerChange::PaidIn {
            amount: Money::new(m.amount, c),
            reason: m.reason,
        },
        Some(W::PaidOut(m)) => DrawerChange::PaidOut {
            amount: Money::new(m.amount, c),
            reason: m.reason,
        },
        Some(W::Closed(k)) => DrawerChange::Closed {
            counted: Money::new(k.counted, c),
            expected: Money::new(k.expected, c),
        },
        None => return Err(field("drawer_event.change", "missing")),
    };
    Ok(DrawerEvent {
        drawer: DrawerId(read_id("drawer_event.drawer", &w.drawer)?),
        by: StaffId(read_id("drawer_event.by", &w.by)?),
        at: w.at,
        change,
    })
}

fn day_closed_to_wire(e: &DayClosed) -> v1::DayClosed {
    v1::DayClosed {
        by: id(e.by.0),
        at: e.at,
        currency: e.sales.currency().code().to_string(),
        day: e.day,
        from_seq: e.from_seq,
        to_seq: e.to_seq,
        orders: e.orders,
        sales: e.sales.minor(),
        tax: e.tax.minor(),
        tips: e.tips.minor(),
        refunded: e.refunded.minor(),
        cash_variance: e.cash_variance.minor(),
        open_orders: e.open_orders,
        open_orders_due: e.open_orders_due.minor(),
    }
}

fn day_closed_from_wire(w: v1::DayClosed) -> Result<DayClosed, DecodeError> {
    let c = Currency::from_code(&w.currency).map_err(|e| field("currency", e.to_string()))?;
    Ok(DayClosed {
        by: StaffId(read_id("day_closed.by", &w.by)?),
        at: w.at,
        day: w.day,
        from_seq: w.from_seq,
        to_seq: w.to_seq,
        orders: w.orders,
        sales: Money::new(w.sales, c),
        tax: Money::new(w.tax, c),
        tips: Money::new(w.tips, c),
        refunded: Money::new(w.refunded, c),
        cash_variance: Money::new(w.cash_variance, c),
        open_orders: w.open_orders,
        open_orders_due: Money::new(w.open_orders_due, c),
    })
}

pub fn table_to_wire(t: &Table) -> v1::Table {
    v1::Table {
        id: id(t.id.0),
        name: t.name.clone(),
        seats: t.seats,
        area: t.area.clone(),
        active: t.active,
        token: t.token.clone(),
        location: opt_id(t.location.map(|l| l.0)),
    }
}

pub fn table_from_wire(t: v1::Table) -> Result<Table, DecodeError> {
    Ok(Table {
        id: TableId(read_id("table.id", &t.id)?),
        name: t.name,
        seats: t.seats,
        area: t.area,
        active: t.active,
        token: t.token,
        location: read_opt_id("table.location", &t.location)?.map(LocationId),
    })
}

fn floor_to_wire(e: &FloorEvent) -> v1::FloorEvent {
    let change = match &e.change {
        FloorChange::TablePut(t) => floor_event::Change::TablePut(table_to_wire(t)),
    };
    v1::FloorEvent {
        by: id(e.by.0),
        at: e.at,
        change: Some(change),
    }
}

fn floor_from_wire(w: v1::FloorEvent) -> Result<FloorEvent, DecodeError> {
    let change = match w.change {
        Some(floor_event::Change::TablePut(t)) => FloorChange::TablePut(table_from_wire(t)?),
        None => return Err(field("floor_event.change", "missing")),
    };
    Ok(FloorEvent {
        by: StaffId(read_id("floor_event.by", &w.by)?),
        at: w.at,
        change,
    })
}

fn trust_to_wire(e: &TrustEvent) -> v1::TrustEvent {
    let change = match &e.change {
        TrustChange::NodeCertified { certificate } => {
            trust_event::Change::NodeCertified(certificate.clone())
        }
        TrustChange::NodeRevoked { revocation, reason } => {
            trust_event::Change::NodeRevoked(v1::NodeRevoked {
                revocation: revocation.clone(),
                reason: reason.clone(),
            })
        }
    };
    v1::TrustEvent {
        by: opt_id(e.by.map(|s| s.0)),
        at: e.at,
        change: Some(change),
    }
}

/// Reads a trust event; the signed statements it carries must parse (their signatures are
/// checked by whoever decides to trust them, against the organization's root key).
fn trust_from_wire(w: v1::TrustEvent) -> Result<TrustEvent, DecodeError> {
    let change = match w.change {
        Some(trust_event::Change::NodeCertified(certificate)) => {
            mpos_ledger::NodeCertificate::from_bytes(&certificate)
                .map_err(|e| field("trust_event.node_certified", e.to_string()))?;
            TrustChange::NodeCertified { certificate }
        }
        Some(trust_event::Change::NodeRevoked(r)) => {
            mpos_ledger::Revocation::from_bytes(&r.revocation)
                .map_err(|e| field("trust_event.node_revoked.revocation", e.to_string()))?;
            TrustChange::NodeRevoked {
                revocation: r.revocation,
                reason: r.reason,
            }
        }
        None => return Err(field("trust_event.change", "missing")),
    };
    Ok(TrustEvent {
        by: read_opt_id("trust_event.by", &w.by)?.map(StaffId),
        at: w.at,
        change,
    })
}
