//! An order's life on the register, and the laws its figures obey for any order.

use mpos_domain::catalog::{Channel, PricedSelection};
use mpos_domain::ids::{
    CategoryId, DiscountId, ItemId, LineId, OrderId, PaymentId, StaffId, StationId, TableId,
};
use mpos_domain::order::{
    Change, Command, Conflict, DiscountKind, DiscountTarget, KitchenStatus, Order, OrderEvent,
    OrderKind, Source, Status, Tender, apply, decide,
};
use mpos_domain::staff::{Actor, GUEST, Role};
use mpos_domain::{Currency, Money, PriceMode, Refusal, TaxRate, split};
use proptest::prelude::*;

pub fn eur(minor: i64) -> Money {
    Money::new(minor, Currency::from_code("EUR").unwrap())
}

const CASHIER: Actor = Actor {
    staff: StaffId(1),
    role: Role::Cashier,
};
const MANAGER: Actor = Actor {
    staff: StaffId(2),
    role: Role::Manager,
};

fn item(name: &str, unit: i64, qty: u32, rate_ppm: u32) -> PricedSelection {
    PricedSelection {
        station: None,
        item: ItemId(unit as u128),
        name: name.into(),
        variant: None,
        modifiers: vec![],
        quantity: qty,
        unit_price: eur(unit),
        tax_rates: vec![TaxRate::from_ppm(rate_ppm)],
        category: CategoryId(1),
    }
}

/// Decides and applies a command, as the node does.
fn run(order: &mut Option<Order>, cmd: Command, actor: Actor) -> Result<Vec<Change>, Refusal> {
    let changes = decide(order.as_ref(), &cmd, actor)?;
    for change in &changes {
        let event = OrderEvent {
            order: OrderId(7),
            by: actor.staff,
            at: 1_000,
            change: change.clone(),
        };
        *order = apply(order.take(), &event);
    }
    Ok(changes)
}

fn open(mode: PriceMode, guests: u32) -> Option<Order> {
    let mut o = None;
    run(
        &mut o,
        Command::Open {
            number: "A-1".into(),
            channel: Channel::Table,
            kind: OrderKind::DineIn {
                table: None,
                guests,
            },
            source: Source::Register,
            currency: Currency::from_code("EUR").unwrap(),
            mode,
            location: None,
        },
        CASHIER,
    )
    .unwrap();
    o
}

fn add(o: &mut Option<Order>, line: u128, sel: PricedSelection, seat: Option<u32>) {
    run(
        o,
        Command::AddLine {
            line: LineId(line),
            item: sel,
            seat,
            course: 1,
            note: String::new(),
        },
        CASHIER,
    )
    .unwrap();
}

#[test]
fn a_two_seat_dinner_split_by_seat_paid_cash_and_card() {
    let mut o = open(PriceMode::Inclusive, 2);
    add(&mut o, 1, item("Steak", 2_450, 1, 70_000), Some(1));
    add(&mut o, 2, item("Risotto", 1_800, 1, 70_000), Some(2));
    add(&mut o, 3, item("Wine", 900, 2, 190_000), None); // shared bottle, by the glass
    run(&mut o, Command::Send { lines: vec![] }, CASHIER).unwrap();
    let order = o.clone().unwrap();
    let t = order.totals().unwrap();
    assert_eq!(t.total, eur(2_450 + 1_800 + 1_800));
    // Tax per rate: 7% inside 4,250 and 19% inside 1,800, rounded per line.
    assert_eq!(
        t.tax_by_rate,
        vec![
            (TaxRate::from_ppm(70_000), eur(160 + 118)),
            (TaxRate::from_ppm(190_000), eur(287))
        ]
    );
    let seats = split::by_seat(&order, &t).unwrap();
    assert_eq!(seats, vec![(1, eur(2_450 + 900)), (2, eur(1_800 + 900))]);

    // Seat 1 pays cash with 40.00 and leaves a 1.50 tip; seat 2 pays by card.
    let changes = run(
        &mut o,
        Command::TakePayment {
            drawer: None,
            payment: PaymentId(1),
            tender: Tender::Cash,
            amount: seats[0].1,
            tip: eur(150),
            cash_received: Some(eur(4_000)),
        },
        CASHIER,
    )
    .unwrap();
    assert_eq!(changes.len(), 1, "still open after the first payment");
    assert_eq!(
        o.as_ref().unwrap().payments[0].change_due(),
        Some(eur(4_000 - 3_350 - 150))
    );
    let changes = run(
        &mut o,
        Command::TakePayment {
            drawer: None,
            payment: PaymentId(2),
            tender: Tender::Card {
                reference: "AUTH 123456".into(),
            },
            amount: seats[1].1,
            tip: eur(0),
            cash_received: None,
        },
        CASHIER,
    )
    .unwrap();
    assert_eq!(changes.last(), Some(&Change::Closed));
    let order = o.clone().unwrap();
    assert_eq!(order.status, Status::Closed);
    let t = order.totals().unwrap();
    assert_eq!((t.balance, t.tips), (eur(0), eur(150)));

    // Closed: no more lines, no more payments.
    let refused = decide(
        Some(&order),
        &Command::AddLine {
            line: LineId(9),
            item: item("Tea", 300, 1, 70_000),
            seat: None,
            course: 1,
            note: String::new(),
        },
        CASHIER,
    );
    assert!(matches!(refused, Err(Refusal::OrderClosed(_))));
    // A cashier may not refund; a manager may, up to what was paid.
    let refund = |amount| Command::Refund {
        drawer: None,
        payment: PaymentId(2),
        amount: eur(amount),
        reason: "risotto was cold".into(),
    };
    assert!(matches!(
        decide(Some(&order), &refund(500), CASHIER),
        Err(Refusal::NotAllowed { .. })
    ));
    assert!(matches!(
        decide(Some(&order), &refund(2_701), MANAGER),
        Err(Refusal::RefundTooLarge { .. })
    ));
    run(&mut o, refund(500), MANAGER).unwrap();
    assert!(matches!(
        decide(o.as_ref(), &refund(2_201), MANAGER),
        Err(Refusal::RefundTooLarge { .. })
    ));
    assert_eq!(o.unwrap().totals().unwrap().paid, eur(6_050 - 500));
}

#[test]
fn bad_commands_are_refused_and_change_nothing() {
    let mut o = open(PriceMode::Exclusive, 2);
    add(&mut o, 1, item("Burger", 1_200, 1, 80_000), Some(1));
    let before = o.clone();
    let order = o.as_ref();
    let cases: Vec<(Command, Actor, &str)> = vec![
        (
            Command::AddLine {
                line: LineId(1),
                item: item("Fries", 400, 1, 80_000),
                seat: None,
                course: 1,
                note: String::new(),
            },
            CASHIER,
            "already exists",
        ),
        (
            Command::AddLine {
                line: LineId(2),
                item: item("Fries", 400, 0, 80_000),
                seat: None,
                course: 1,
                note: String::new(),
            },
            CASHIER,
            "quantity must be at least 1",
        ),
        (
            Command::AddLine {
                line: LineId(2),
                item: item("Fries", 400, 1, 80_000),
                seat: Some(3),
                course: 1,
                note: String::new(),
            },
            CASHIER,
            "seat 3 is not one of the 2 seats",
        ),
        (
            Command::VoidLine {
                line: LineId(1),
                reason: String::new(),
            },
            CASHIER,
            "reason is required",
        ),
        (
            Command::VoidLine {
                line: LineId(5),
                reason: "x".into(),
            },
            CASHIER,
            "no line",
        ),
        (
            Command::ApplyDiscount {
                discount: DiscountId(1),
                target: DiscountTarget::Order,
                kind: DiscountKind::Percent(100_000),
                reason: "regular".into(),
            },
            CASHIER,
            "a cashier may not",
        ),
        (
            Command::ApplyDiscount {
                discount: DiscountId(1),
                target: DiscountTarget::Order,
                kind: DiscountKind::Percent(2_000_000),
                reason: "regular".into(),
            },
            MANAGER,
            "between 0 and 100%",
        ),
        (
            Command::TakePayment {
                drawer: None,
                payment: PaymentId(1),
                tender: Tender::Cash,
                amount: eur(99_999),
                tip: eur(0),
                cash_received: None,
            },
            CASHIER,
            "more than the",
        ),
        (
            Command::TakePayment {
                drawer: None,
                payment: PaymentId(1),
                tender: Tender::Cash,
                amount: eur(0),
                tip: eur(0),
                cash_received: None,
            },
            CASHIER,
            "must be positive",
        ),
        (
            Command::TakePayment {
                drawer: None,
                payment: PaymentId(1),
                tender: Tender::Card {
                    reference: " ".into(),
                },
                amount: eur(100),
                tip: eur(0),
                cash_received: None,
            },
            CASHIER,
            "terminal's reference",
        ),
        (
            Command::TakePayment {
                drawer: None,
                payment: PaymentId(1),
                tender: Tender::Cash,
                amount: eur(1_296),
                tip: eur(0),
                cash_received: Some(eur(1_000)),
            },
            CASHIER,
            "10.00 EUR received is less than the 12.96 EUR being paid: take more cash, or pay part",
        ),
        (
            Command::VoidOrder {
                reason: "walked out".into(),
            },
            CASHIER,
            "a cashier may not",
        ),
        (
            Command::Refund {
                drawer: None,
                payment: PaymentId(1),
                amount: eur(1),
                reason: "x".into(),
            },
            MANAGER,
            "no payment",
        ),
        (Command::FireCourse { course: 1 }, CASHIER, "nothing sent"),
    ];
    for (cmd, actor, message) in cases {
        let err = decide(order, &cmd, actor).unwrap_err().to_string();
        assert!(err.contains(message), "{cmd:?}: {err}");
    }
    assert_eq!(o, before);

    // A sent line is the manager's to void; an unsent one the cashier's.
    run(&mut o, Command::Send { lines: vec![] }, CASHIER).unwrap();
    add(&mut o, 2, item("Fries", 400, 1, 80_000), None);
    run(
        &mut o,
        Command::VoidLine {
            line: LineId(2),
            reason: "wrong item".into(),
        },
        CASHIER,
    )
    .unwrap();
    let void_sent = Command::VoidLine {
        line: LineId(1),
        reason: "guest left".into(),
    };
    let refused = decide(o.as_ref(), &void_sent, CASHIER).unwrap_err();
    assert!(matches!(refused, Refusal::NotAllowed { .. }));
    // Said as the cashier would need it: what they may not do, and who may.
    assert_eq!(
        refused.to_string(),
        "a cashier may not void a line already sent to the kitchen, or a whole order: a \
         manager may"
    );
    run(&mut o, void_sent, MANAGER).unwrap();
    assert!(matches!(
        decide(
            o.as_ref(),
            &Command::TakePayment {
                drawer: None,
                payment: PaymentId(1),
                tender: Tender::Cash,
                amount: eur(1),
                tip: eur(0),
                cash_received: None
            },
            CASHIER
        ),
        Err(Refusal::NothingToPay)
    ));
}

/// A random order: lines with prices, quantities, rates and seats; discounts; a service
/// charge; either pricing mode.
#[derive(Debug, Clone)]
struct RandomOrder {
    inclusive: bool,
    lines: Vec<(i64, u32, u32, Option<u32>)>,
    line_discounts: Vec<(usize, bool, i64)>,
    order_discounts: Vec<(bool, i64)>,
    service_ppm: u32,
}

fn random_order() -> impl Strategy<Value = RandomOrder> {
    (
        any::<bool>(),
        prop::collection::vec(
            (
                0i64..50_000,
                1u32..6,
                prop::sample::select(vec![0u32, 50_000, 70_000, 88_750, 190_000, 200_000]),
                prop::option::of(1u32..=4),
            ),
            1..10,
        ),
        prop::collection::vec((0usize..10, any::<bool>(), 1i64..100_000), 0..4),
        prop::collection::vec((any::<bool>(), 1i64..100_000), 0..3),
        prop::sample::select(vec![0u32, 100_000, 125_000]),
    )
        .prop_map(
            |(inclusive, lines, line_discounts, order_discounts, service_ppm)| RandomOrder {
                inclusive,
                lines,
                line_discounts,
                order_discounts,
                service_ppm,
            },
        )
}

fn build(r: &RandomOrder) -> Option<Order> {
    let mut o = open(
        if r.inclusive {
            PriceMode::Inclusive
        } else {
            PriceMode::Exclusive
        },
        4,
    );
    for (i, (unit, qty, rate, seat)) in r.lines.iter().enumerate() {
        add(&mut o, i as u128 + 1, item("x", *unit, *qty, *rate), *seat);
    }
    let mut next = 1;
    for (line, percent, value) in &r.line_discounts {
        let target = DiscountTarget::Line(LineId((line % r.lines.len()) as u128 + 1));
        let kind = if *percent {
            DiscountKind::Percent((*value as u32 % 1_000_000) + 1)
        } else {
            DiscountKind::Amount(eur(*value))
        };
        run(
            &mut o,
            Command::ApplyDiscount {
                discount: DiscountId(next),
                target,
                kind,
                reason: "test".into(),
            },
            MANAGER,
        )
        .unwrap();
        next += 1;
    }
    for (percent, value) in &r.order_discounts {
        let kind = if *percent {
            DiscountKind::Percent((*value as u32 % 1_000_000) + 1)
        } else {
            DiscountKind::Amount(eur(*value))
        };
        run(
            &mut o,
            Command::ApplyDiscount {
                discount: DiscountId(next),
                target: DiscountTarget::Order,
                kind,
                reason: "test".into(),
            },
            MANAGER,
        )
        .unwrap();
        next += 1;
    }
    run(
        &mut o,
        Command::SetServiceCharge { ppm: r.service_ppm },
        CASHIER,
    )
    .unwrap();
    o
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1_000))]

    #[test]
    fn totals_reconcile_to_the_minor_unit(r in random_order()) {
        let o = build(&r).unwrap();
        let t = o.totals().unwrap();
        let sum = |f: &dyn Fn(&mpos_domain::order::LineTotal) -> i64| t.lines.iter().map(f).sum::<i64>();
        let gross = sum(&|l| l.taxed.gross.minor());
        let net = sum(&|l| l.taxed.net.minor());
        let tax: i64 = t.tax_by_rate.iter().map(|(_, m)| m.minor()).sum();
        prop_assert_eq!(net + tax, gross);
        prop_assert_eq!(t.net.minor(), net);
        prop_assert_eq!(gross + t.service_charge.minor(), t.total.minor());
        prop_assert_eq!(t.before_discounts.minor() - t.discounts.minor(), if r.inclusive { gross } else { net });
        prop_assert!(t.discounts.minor() >= 0 && t.discounts.minor() <= t.before_discounts.minor());
        for l in &t.lines {
            prop_assert!(l.discount.minor() >= 0 && l.discount.minor() <= l.before_discounts.minor());
        }
    }

    #[test]
    fn splits_sum_to_the_total(r in random_order(), chosen in prop::collection::vec(any::<bool>(), 10), n in 1usize..7) {
        let o = build(&r).unwrap();
        let t = o.totals().unwrap();
        if o.live_lines().any(|l| l.seat.is_some()) {
            let seats = split::by_seat(&o, &t).unwrap();
            prop_assert_eq!(seats.iter().map(|(_, m)| m.minor()).sum::<i64>(), t.total.minor());
        }
        let picked: Vec<LineId> = o.lines.iter().zip(&chosen).filter(|(_, c)| **c).map(|(l, _)| l.id).collect();
        let part = split::by_lines(&o, &t, &picked).unwrap();
        let rest: Vec<LineId> = o.lines.iter().map(|l| l.id).filter(|id| !picked.contains(id)).collect();
        let other = split::by_lines(&o, &t, &rest).unwrap();
        prop_assert!((part.minor() + other.minor() - t.total.minor()).abs() <= 1);
        prop_assert_eq!(split::evenly(&t, n).unwrap().iter().map(Money::minor).sum::<i64>(), t.balance.minor());
    }

    #[test]
    fn paying_in_parts_closes_exactly_and_refunds_never_exceed_payments(
        r in random_order(),
        parts in prop::collection::vec(1i64..20_000, 1..8),
        refunds in prop::collection::vec((0usize..8, 1i64..30_000), 0..6),
    ) {
        let mut o = build(&r);
        let total = o.as_ref().unwrap().totals().unwrap().total;
        prop_assume!(total.minor() > 0);
        let mut id = 1;
        for p in parts.iter().chain(std::iter::repeat(&i64::MAX)) {
            let balance = o.as_ref().unwrap().totals().unwrap().balance;
            if balance.minor() == 0 { break; }
            let amount = eur((*p).min(balance.minor()));
            run(&mut o, Command::TakePayment { drawer: None, payment: PaymentId(id), tender: Tender::Cash, amount, tip: eur(0), cash_received: None }, CASHIER).unwrap();
            id += 1;
        }
        let order = o.clone().unwrap();
        prop_assert_eq!(order.status, Status::Closed);
        prop_assert_eq!(order.totals().unwrap().paid, total);
        for (which, amount) in refunds {
            let payment = PaymentId((which % (id as usize - 1)) as u128 + 1);
            let cmd = Command::Refund { drawer: None, payment, amount: eur(amount), reason: "test".into() };
            let _ = run(&mut o, cmd, MANAGER); // refused when too large, and then changes nothing
        }
        let order = o.unwrap();
        for p in &order.payments {
            prop_assert!(p.refunded.minor() <= p.amount.minor() + p.tip.minor());
        }
        prop_assert!(order.totals().unwrap().paid.minor() >= 0);
    }
}

#[test]
fn a_paid_order_whose_balance_reaches_zero_closes_instead_of_sticking_open() {
    let mut o = open(PriceMode::Inclusive, 1);
    add(&mut o, 1, item("Soup", 1_000, 1, 70_000), None);
    add(&mut o, 2, item("Bread", 1_000, 1, 70_000), None);
    run(
        &mut o,
        Command::TakePayment {
            drawer: None,
            payment: PaymentId(1),
            tender: Tender::Cash,
            amount: eur(1_000),
            tip: eur(0),
            cash_received: None,
        },
        CASHIER,
    )
    .unwrap();
    // The guest does not want the bread after all: what is left is paid, so the order closes.
    let changes = run(
        &mut o,
        Command::VoidLine {
            line: LineId(2),
            reason: "not wanted".into(),
        },
        CASHIER,
    )
    .unwrap();
    assert_eq!(changes.last(), Some(&Change::Closed));
    assert_eq!(o.unwrap().status, Status::Closed);
}

#[test]
fn absurd_quantities_are_refused_before_they_can_overflow() {
    let mut o = open(PriceMode::Inclusive, 1);
    let huge = PricedSelection {
        quantity: mpos_domain::order::MAX_QUANTITY + 1,
        ..item("Caviar", 1_000_000, 1, 70_000)
    };
    let err = decide(
        o.as_ref(),
        &Command::AddLine {
            line: LineId(1),
            item: huge,
            seat: None,
            course: 1,
            note: String::new(),
        },
        CASHIER,
    )
    .unwrap_err();
    assert!(err.to_string().contains("at most 10000"), "{err}");
    // Within the cap but past i64: refused, and the order stays usable.
    let pricey = PricedSelection {
        quantity: 10_000,
        ..item("Yacht", i64::MAX / 1_000, 1, 70_000)
    };
    assert!(
        decide(
            o.as_ref(),
            &Command::AddLine {
                line: LineId(1),
                item: pricey,
                seat: None,
                course: 1,
                note: String::new()
            },
            CASHIER
        )
        .is_err()
    );
    add(&mut o, 2, item("Tea", 300, 1, 70_000), None);
}

const COOK: Actor = Actor {
    staff: StaffId(5),
    role: Role::Kitchen,
};
const GUEST_AT_TABLE: Actor = Actor {
    staff: GUEST,
    role: Role::Guest,
};

fn cooked(name: &str, unit: i64) -> PricedSelection {
    PricedSelection {
        station: Some(StationId(2)),
        ..item(name, unit, 1, 70_000)
    }
}

#[test]
fn the_kitchen_bumps_what_was_sent_and_the_order_is_ready() {
    let mut o = open(PriceMode::Inclusive, 2);
    add(&mut o, 1, cooked("Steak", 2_450), Some(1));
    add(&mut o, 2, item("Bottled water", 300, 1, 70_000), Some(2));
    assert_eq!(o.as_ref().unwrap().kitchen_status(), KitchenStatus::Nothing);
    // Only what was sent can be bumped.
    let refused = run(
        &mut o,
        Command::Bump {
            lines: vec![LineId(1)],
        },
        COOK,
    )
    .unwrap_err();
    assert_eq!(
        refused,
        Refusal::Invalid("Steak was not sent to the kitchen".into())
    );
    run(&mut o, Command::Send { lines: vec![] }, CASHIER).unwrap();
    let order = o.as_ref().unwrap();
    assert_eq!(order.lines[0].round, 1);
    assert_eq!(order.lines[0].sent_at, Some(1_000));
    // Water has no station: nothing for the kitchen to make.
    assert!(!order.lines[1].in_kitchen());
    assert_eq!(order.kitchen_status(), KitchenStatus::Preparing);

    // A cashier may not bump; the cook may, once.
    let bump = Command::Bump {
        lines: vec![LineId(1)],
    };
    assert!(matches!(
        run(&mut o, bump.clone(), CASHIER),
        Err(Refusal::NotAllowed { .. })
    ));
    assert_eq!(
        run(&mut o, bump.clone(), COOK).unwrap(),
        vec![Change::LinesReady {
            lines: vec![LineId(1)]
        }]
    );
    assert_eq!(o.as_ref().unwrap().kitchen_status(), KitchenStatus::Ready);
    assert!(run(&mut o, bump, COOK).is_err(), "bumped twice");

    // A recall puts it back; a second send is a new round (a new ticket).
    run(
        &mut o,
        Command::Recall {
            lines: vec![LineId(1)],
        },
        COOK,
    )
    .unwrap();
    assert_eq!(
        o.as_ref().unwrap().kitchen_status(),
        KitchenStatus::Preparing
    );
    assert!(
        run(
            &mut o,
            Command::Recall {
                lines: vec![LineId(1)]
            },
            COOK
        )
        .is_err()
    );
    add(&mut o, 3, cooked("Fries", 450), Some(2));
    run(&mut o, Command::Send { lines: vec![] }, CASHIER).unwrap();
    assert_eq!(o.as_ref().unwrap().lines[2].round, 2);
    assert!(
        run(
            &mut o,
            Command::Bump {
                lines: vec![LineId(3), LineId(3)]
            },
            COOK
        )
        .is_err(),
        "a line named twice"
    );
}

#[test]
fn a_paid_counter_order_still_goes_to_the_kitchen() {
    let mut o = open(PriceMode::Inclusive, 1);
    add(&mut o, 1, cooked("Croissant", 290), None);
    run(
        &mut o,
        Command::TakePayment {
            drawer: None,
            payment: PaymentId(1),
            tender: Tender::Card {
                reference: "AUTH 1".into(),
            },
            amount: eur(290),
            tip: eur(0),
            cash_received: None,
        },
        CASHIER,
    )
    .unwrap();
    assert_eq!(o.as_ref().unwrap().status, Status::Closed);
    run(&mut o, Command::Send { lines: vec![] }, CASHIER).unwrap();
    run(
        &mut o,
        Command::Bump {
            lines: vec![LineId(1)],
        },
        COOK,
    )
    .unwrap();
    assert_eq!(o.as_ref().unwrap().kitchen_status(), KitchenStatus::Ready);
}

#[test]
fn a_guest_orders_only_their_own_self_order_at_a_table() {
    let open_as = |source: Source, table: Option<TableId>| Command::Open {
        number: "T4-0a1b".into(),
        channel: Channel::Table,
        kind: OrderKind::DineIn { table, guests: 1 },
        source,
        currency: Currency::from_code("EUR").unwrap(),
        mode: PriceMode::Inclusive,
        location: None,
    };
    let mut o = None;
    for refused in [
        open_as(Source::Register, Some(TableId(4))),
        open_as(Source::SelfOrder, None),
    ] {
        assert!(matches!(
            run(&mut o, refused, GUEST_AT_TABLE),
            Err(Refusal::NotAllowed { role: "guest", .. })
        ));
    }
    run(
        &mut o,
        open_as(Source::SelfOrder, Some(TableId(4))),
        GUEST_AT_TABLE,
    )
    .unwrap();
    let line = |id: u128| Command::AddLine {
        line: LineId(id),
        item: cooked("Pancakes", 850),
        seat: None,
        course: 1,
        note: String::new(),
    };
    run(&mut o, line(1), GUEST_AT_TABLE).unwrap();
    run(&mut o, Command::Send { lines: vec![] }, GUEST_AT_TABLE).unwrap();
    // Paying, voiding and discounts stay with the staff.
    let pay = Command::TakePayment {
        drawer: None,
        payment: PaymentId(1),
        tender: Tender::Cash,
        amount: eur(850),
        tip: eur(0),
        cash_received: None,
    };
    assert!(matches!(
        run(&mut o, pay, GUEST_AT_TABLE),
        Err(Refusal::NotAllowed { .. })
    ));
    let void = Command::VoidLine {
        line: LineId(1),
        reason: "changed my mind".into(),
    };
    assert!(matches!(
        run(&mut o, void, GUEST_AT_TABLE),
        Err(Refusal::NotAllowed { .. })
    ));

    // A staff member's order at the table is not the guest's to add to.
    let mut staff_order = open(PriceMode::Inclusive, 2);
    assert!(matches!(
        run(&mut staff_order, line(2), GUEST_AT_TABLE),
        Err(Refusal::NotAllowed { .. })
    ));
}

/// Two terminals, each deciding against what it saw: `a` and `b` start from the same
/// order, and their changes are folded together (as the node folds them, in time order).
fn on_two_terminals(
    start: &Option<Order>,
    a: Vec<(Command, Actor)>,
    b: Vec<(Command, Actor)>,
) -> Option<Order> {
    let decided = |cmds: Vec<(Command, Actor)>| {
        let mut o = start.clone();
        let mut changes = Vec::new();
        for (cmd, actor) in cmds {
            for c in run(&mut o, cmd, actor).unwrap() {
                changes.push((c, actor));
            }
        }
        changes
    };
    let mut merged = start.clone();
    for (change, actor) in decided(a).into_iter().chain(decided(b)) {
        let event = OrderEvent {
            order: OrderId(7),
            by: actor.staff,
            at: 2_000,
            change,
        };
        merged = apply(merged.take(), &event);
    }
    merged
}

fn pay(payment: u128, minor: i64) -> (Command, Actor) {
    (
        Command::TakePayment {
            payment: PaymentId(payment),
            tender: Tender::Card {
                reference: format!("AUTH {payment}"),
            },
            amount: eur(minor),
            tip: eur(0),
            cash_received: None,
            drawer: None,
        },
        CASHIER,
    )
}

#[test]
fn outcomes_only_two_terminals_at_once_can_leave_are_flagged_for_a_manager() {
    let mut o = open(PriceMode::Inclusive, 2);
    add(&mut o, 1, item("Pho", 1_200, 1, 80_000), None);
    assert_eq!(o.as_ref().unwrap().conflicts(), vec![]);

    // Both registers take the whole bill.
    let both_paid = on_two_terminals(&o, vec![pay(10, 1_200)], vec![pay(11, 1_200)]).unwrap();
    assert_eq!(
        both_paid.conflicts(),
        vec![Conflict::Overpaid { by: eur(1_200) }]
    );

    // One pays the bill as the other adds a drink.
    let drink = (
        Command::AddLine {
            line: LineId(2),
            item: item("Tea", 300, 1, 80_000),
            seat: None,
            course: 1,
            note: String::new(),
        },
        CASHIER,
    );
    let paid_then_added = on_two_terminals(&o, vec![pay(12, 1_200)], vec![drink]).unwrap();
    assert_eq!(paid_then_added.status, Status::Closed);
    assert_eq!(
        paid_then_added.conflicts(),
        vec![Conflict::ClosedUnpaid { due: eur(300) }]
    );

    // One voids it as the other takes payment.
    let void = (
        Command::VoidOrder {
            reason: "walked out".into(),
        },
        MANAGER,
    );
    let voided_and_paid = on_two_terminals(&o, vec![void], vec![pay(13, 500)]).unwrap();
    assert_eq!(
        voided_and_paid.conflicts(),
        vec![Conflict::VoidedWithPayments { paid: eur(500) }]
    );

    // On one terminal the same steps are refused or fine: nothing to flag, and a refund
    // after closing is a manager's doing, not a conflict.
    let mut alone = o.clone();
    run(&mut alone, pay(14, 1_200).0, CASHIER).unwrap();
    assert!(run(&mut alone, pay(15, 1_200).0, CASHIER).is_err());
    run(
        &mut alone,
        Command::Refund {
            payment: PaymentId(14),
            amount: eur(200),
            reason: "cold".into(),
            drawer: None,
        },
        MANAGER,
    )
    .unwrap();
    assert_eq!(alone.unwrap().conflicts(), vec![]);
}
