//! The day's report adds up whatever the day held: categories, staff, tax and tenders are
//! different cuts of the same sales, to the minor unit.

use mpos_domain::catalog::{Channel, PricedSelection};
use mpos_domain::day::{Context, ReportBuilder};
use mpos_domain::event::Event;
use mpos_domain::ids::{CategoryId, DiscountId, ItemId, LineId, OrderId, PaymentId, StaffId};
use mpos_domain::order::{
    Command, DiscountKind, DiscountTarget, Order, OrderEvent, OrderKind, Source, Tender, apply,
    decide,
};
use mpos_domain::sales::{Bucket, Sales};
use mpos_domain::staff::{Actor, Role};
use mpos_domain::{Currency, PriceMode, TaxRate};
use proptest::prelude::*;

use crate::order::eur;

const MANAGER: Actor = Actor {
    staff: StaffId(2),
    role: Role::Manager,
};

#[derive(Debug, Clone)]
struct Sale {
    lines: Vec<(i64, u32, bool, u8)>,
    order_discount_ppm: u32,
    service_charge_ppm: u32,
    exclusive: bool,
    payments: Vec<(bool, u8, i64)>,
    refund_percent: u8,
    server: u8,
}

fn sale() -> impl Strategy<Value = Sale> {
    (
        prop::collection::vec((1i64..5_000, 1u32..4, any::<bool>(), 0u8..3), 1..5),
        prop_oneof![Just(0u32), 1u32..500_000],
        prop_oneof![Just(0u32), 1u32..200_000],
        any::<bool>(),
        prop::collection::vec((any::<bool>(), 1u8..100, 0i64..500), 1..4),
        0u8..101,
        0u8..3,
    )
        .prop_map(
            |(
                lines,
                order_discount_ppm,
                service_charge_ppm,
                exclusive,
                payments,
                refund_percent,
                server,
            )| Sale {
                lines,
                order_discount_ppm,
                service_charge_ppm,
                exclusive,
                payments,
                refund_percent,
                server,
            },
        )
}

/// Plays one sale through `decide`/`apply` and feeds every event to the report, with the
/// order as it stands after the event (as the node's projection would hold it at the end).
fn play(
    n: u128,
    s: &Sale,
    builder: &mut ReportBuilder,
    seq: &mut u64,
    orders: &mut Vec<Order>,
) -> (i64, i64, i64) {
    let server = Actor {
        staff: StaffId(10 + u128::from(s.server)),
        role: Role::Server,
    };
    let id = OrderId(n);
    let mut order: Option<Order> = None;
    let mut events: Vec<OrderEvent> = Vec::new();
    let mut run = |order: &mut Option<Order>, cmd: Command, actor: Actor| {
        if let Ok(changes) = decide(order.as_ref(), &cmd, actor) {
            for change in changes {
                let e = OrderEvent {
                    order: id,
                    by: actor.staff,
                    // 47 minutes apart, so the sales fall in different hours and days.
                    at: 1_000 + n as u64 * 2_820_000,
                    change,
                };
                *order = apply(order.take(), &e);
                events.push(e);
            }
        }
    };
    let mode = if s.exclusive {
        PriceMode::Exclusive
    } else {
        PriceMode::Inclusive
    };
    run(
        &mut order,
        Command::Open {
            number: format!("{n}"),
            channel: Channel::Table,
            kind: OrderKind::DineIn {
                table: None,
                guests: 2,
            },
            source: Source::Register,
            currency: Currency::from_code("EUR").unwrap(),
            mode,
            location: None,
        },
        server,
    );
    for (i, (unit, qty, line_discount, category)) in s.lines.iter().enumerate() {
        let line = LineId(n * 100 + i as u128);
        let rates = if *category == 0 {
            vec![TaxRate::from_ppm(70_000)]
        } else {
            vec![TaxRate::from_ppm(190_000)]
        };
        run(
            &mut order,
            Command::AddLine {
                line,
                item: PricedSelection {
                    station: None,
                    item: ItemId(1),
                    name: "x".into(),
                    variant: None,
                    modifiers: vec![],
                    quantity: *qty,
                    unit_price: eur(*unit),
                    tax_rates: rates,
                    category: CategoryId(u128::from(*category)),
                },
                seat: None,
                course: 1,
                note: String::new(),
            },
            server,
        );
        if *line_discount {
            run(
                &mut order,
                Command::ApplyDiscount {
                    discount: DiscountId(line.0),
                    target: DiscountTarget::Line(line),
                    kind: DiscountKind::Amount(eur(unit / 3 + 1)),
                    reason: "r".into(),
                },
                MANAGER,
            );
        }
    }
    if s.order_discount_ppm > 0 {
        run(
            &mut order,
            Command::ApplyDiscount {
                discount: DiscountId(n),
                target: DiscountTarget::Order,
                kind: DiscountKind::Percent(s.order_discount_ppm),
                reason: "r".into(),
            },
            MANAGER,
        );
    }
    run(
        &mut order,
        Command::SetServiceCharge {
            ppm: s.service_charge_ppm,
        },
        server,
    );
    // Pay in parts (percentages of what is due), the last part settling the rest.
    let mut paid = (0, 0, 0);
    for (k, (cash, percent, tip)) in s.payments.iter().enumerate() {
        let Some(o) = order.as_ref() else { break };
        let due = o.totals().unwrap().balance.minor();
        if due <= 0 {
            break;
        }
        let amount = if k + 1 == s.payments.len() {
            due
        } else {
            (due * i64::from(*percent) / 100).max(1)
        };
        run(
            &mut order,
            Command::TakePayment {
                payment: PaymentId(n * 100 + k as u128),
                tender: if *cash {
                    Tender::Cash
                } else {
                    Tender::Card {
                        reference: "A".into(),
                    }
                },
                amount: eur(amount),
                tip: eur(*tip),
                cash_received: None,
                drawer: None,
            },
            server,
        );
        paid.0 += amount;
        paid.1 += tip;
    }
    // Refund part of the first payment.
    if let Some(p) = order.as_ref().and_then(|o| o.payments.first()).cloned() {
        let amount = (p.amount.minor() + p.tip.minor()) * i64::from(s.refund_percent) / 100;
        if amount > 0 {
            run(
                &mut order,
                Command::Refund {
                    payment: p.id,
                    amount: eur(amount),
                    reason: "r".into(),
                    drawer: None,
                },
                MANAGER,
            );
            paid.2 += amount;
        }
    }
    let last = order.clone();
    orders.extend(order);
    for e in events {
        *seq += 1;
        builder
            .record(
                *seq,
                &Event::Order(e),
                Context {
                    order: last.as_ref(),
                    drawer: None,
                },
            )
            .unwrap();
    }
    paid
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn every_cut_of_the_day_adds_up_to_the_same_sales(
        mut sales in prop::collection::vec(sale(), 1..8),
        exclusive in any::<bool>(),
        utc_offset_minutes in -720i32..840,
    ) {
        // A restaurant prices one way.
        for s in &mut sales {
            s.exclusive = exclusive;
        }
        let mut builder = ReportBuilder::new(1, Currency::from_code("EUR").unwrap(), 1);
        let mut seq = 0;
        let (mut amounts, mut tips, mut refunded) = (0, 0, 0);
        let mut orders = Vec::new();
        for (n, s) in sales.iter().enumerate() {
            let (a, t, r) = play(n as u128 + 1, s, &mut builder, &mut seq, &mut orders);
            amounts += a;
            tips += t;
            refunded += r;
        }
        let r = builder.finish(&[], &[]).unwrap();
        prop_assert_eq!((r.from_seq, r.to_seq), (1, seq));
        let categories: i64 = r.categories.iter().map(|c| c.sales.minor()).sum();
        let tax: i64 = r.tax.iter().map(|(_, m)| m.minor()).sum();
        let staff: i64 = r.staff.iter().map(|s| s.sales.minor()).sum();
        prop_assert_eq!(categories + r.service_charges.minor(), r.sales_total.minor());
        // Gross sales and discounts are at menu prices: tax included or not, as they are.
        let after_discounts = r.gross_sales.minor() - r.discounts.minor();
        if exclusive {
            prop_assert_eq!(after_discounts, r.net_sales.minor());
        } else {
            prop_assert_eq!(after_discounts, categories);
        }
        prop_assert_eq!(staff, r.sales_total.minor());
        // Inclusive lines hold their tax; exclusive ones add it: either way net + tax is
        // what the lines came to.
        prop_assert_eq!(r.net_sales.minor() + tax, categories);
        let tendered: i64 = r.tenders.iter().map(|t| t.amount.minor()).sum();
        let tender_tips: i64 = r.tenders.iter().map(|t| t.tips.minor()).sum();
        let tender_refunds: i64 = r.tenders.iter().map(|t| t.refunded.minor()).sum();
        let net: i64 = r.tenders.iter().map(|t| t.net().unwrap().minor()).sum();
        prop_assert_eq!(tendered, amounts);
        prop_assert_eq!((tender_tips, r.tips.minor()), (tips, tips));
        prop_assert_eq!((tender_refunds, r.refunded.minor()), (refunded, refunded));
        prop_assert_eq!(net, amounts + tips - refunded);
        // Every order was paid in full, so what was taken is what was sold.
        prop_assert_eq!(amounts, r.sales_total.minor());
        prop_assert_eq!(r.orders as usize, sales.len());

        // The back office's charts are cuts of the same sales.
        let mut chart = Sales::new(r.currency);
        for o in &orders {
            chart.record(o, utc_offset_minutes).unwrap();
        }
        let sum = |b: &mut dyn Iterator<Item = &Bucket>| -> (u64, i64) {
            b.fold((0, 0), |(n, m), b| (n + b.count, m + b.sales.minor()))
        };
        let orders_total = (u64::from(r.orders), r.sales_total.minor());
        prop_assert_eq!((chart.orders, chart.total.minor()), orders_total);
        prop_assert_eq!(sum(&mut chart.hours.iter()), orders_total);
        prop_assert_eq!(sum(&mut chart.days.values()), orders_total);
        prop_assert_eq!(sum(&mut chart.staff.values()), orders_total);
        // (Staff who only refunded or voided sold nothing.)
        for s in r.staff.iter().filter(|s| s.orders > 0) {
            let b = chart.staff[&s.staff];
            prop_assert_eq!((b.count, b.sales), (u64::from(s.orders), s.sales));
        }
        for c in &r.categories {
            let b = chart.categories[&c.category];
            prop_assert_eq!((b.count, b.sales), (c.quantity, c.sales));
        }
        let items = sum(&mut chart.items.values().map(|(_, b)| b));
        prop_assert_eq!(items, sum(&mut chart.categories.values()));
        prop_assert_eq!(items.1 + r.service_charges.minor(), r.sales_total.minor());
        // An order's hour and day are those of its closing on the restaurant's clock.
        for o in &orders {
            let local = o.closed_at.unwrap() as i64 + i64::from(utc_offset_minutes) * 60_000;
            let hour = local.rem_euclid(86_400_000) / 3_600_000;
            prop_assert!(chart.hours[hour as usize].count > 0);
            prop_assert!(chart.days.contains_key(&local.div_euclid(86_400_000)));
        }
    }
}
