//! Inventory: bad input refused before anything changes, weighted average cost, transfers
//! with goods in transit, purchase orders, recipe depletion and food cost; and, as
//! properties, that levels are sums of movement deltas whatever order they arrive in.

use mpos_domain::Money;
use mpos_domain::PriceMode;
use mpos_domain::catalog::Channel;
use mpos_domain::catalog::{ChosenModifier, PricedSelection};
use mpos_domain::ids::{
    CategoryId, ItemId, LocationId, ModifierId, OrderId, PurchaseOrderId, StaffId, StockItemId,
    SupplierId, TransferId, VariantId,
};
use mpos_domain::ids::{LineId, PaymentId};
use mpos_domain::inventory::food_cost::{FoodCostByItem, cost_of};
use mpos_domain::inventory::sale::{self, Taken, sale_movements};
use mpos_domain::inventory::{
    Depletion, Ingredient, InventoryChange, InventoryCommand, InventoryError, InventoryEvent,
    Location, Movement, PurchaseOrderStatus, Quantity, Recipe, RecipeFor, SalesStock, Stock,
    StockBook, StockItem, StockValue, Supplier, Unit, decide, deltas, depletion, food_cost_ppm,
    recipe_cost, value_movement,
};
use mpos_domain::order::{
    Change, Command as OrderCommand, Order, OrderEvent, OrderKind, Source, Status, Tender,
};
use mpos_domain::staff::{Actor, Role};
use mpos_domain::{Currency, Refusal};
use proptest::prelude::*;

use crate::eur;

const MANAGER: Actor = Actor {
    staff: StaffId(1),
    role: Role::Manager,
};
const COOK: Actor = Actor {
    staff: StaffId(2),
    role: Role::Kitchen,
};
const CASHIER: Actor = Actor {
    staff: StaffId(3),
    role: Role::Cashier,
};
const CITY: LocationId = LocationId(1);
const HARBOUR: LocationId = LocationId(2);
const FLOUR: StockItemId = StockItemId(10);
const MILK: StockItemId = StockItemId(11);
const EGGS: StockItemId = StockItemId(12);
const MILL: SupplierId = SupplierId(20);

fn q(text: &str) -> Quantity {
    Quantity::parse(text).unwrap()
}

fn run(stock: &mut Stock, actor: Actor, command: InventoryCommand) -> Result<(), Refusal> {
    for change in decide(stock, actor, &command)? {
        stock.apply(&change);
    }
    Ok(())
}

/// Flour (kg), milk (l) and eggs (each), a supplier; nothing in stock yet.
fn books() -> Stock {
    let mut stock = Stock::new(Currency::from_code("EUR").unwrap());
    for (id, name) in [(CITY, "City"), (HARBOUR, "Harbour")] {
        run(
            &mut stock,
            MANAGER,
            InventoryCommand::PutLocation(Location {
                id,
                name: name.into(),
                active: true,
            }),
        )
        .unwrap();
    }
    for (id, name, unit) in [
        (FLOUR, "Flour", Unit::Kilogram),
        (MILK, "Milk", Unit::Litre),
        (EGGS, "Eggs", Unit::Each),
    ] {
        run(
            &mut stock,
            MANAGER,
            InventoryCommand::PutStockItem(StockItem {
                id,
                name: name.into(),
                unit,
                active: true,
            }),
        )
        .unwrap();
    }
    run(
        &mut stock,
        MANAGER,
        InventoryCommand::PutSupplier(Supplier {
            id: MILL,
            name: "Old Mill".into(),
            contact: "orders@mill.example".into(),
        }),
    )
    .unwrap();
    stock
}

fn receive(location: LocationId, item: StockItemId, quantity: &str, cost: i64) -> InventoryCommand {
    InventoryCommand::Receive {
        location,
        item,
        quantity: q(quantity),
        cost: eur(cost),
        supplier: None,
        lot: String::new(),
        purchase_order: None,
    }
}

#[test]
fn bad_input_is_refused_with_a_clear_error_and_changes_nothing() {
    let mut stock = books();
    run(&mut stock, COOK, receive(CITY, FLOUR, "10 kg", 2_000)).unwrap();
    let before = format!("{stock:?}");
    let sent = InventoryCommand::SendTransfer {
        transfer: TransferId(1),
        from: CITY,
        to: HARBOUR,
        lines: vec![(FLOUR, q("2 kg"))],
    };
    let cases: Vec<(InventoryCommand, Actor, &str)> = vec![
        // Milk measured in kilograms.
        (
            receive(CITY, MILK, "2 kg", 300),
            COOK,
            "a mass cannot be measured in l",
        ),
        (
            receive(CITY, FLOUR, "-1 kg", 100),
            COOK,
            "a receipt of Flour must be more than zero",
        ),
        (
            receive(CITY, FLOUR, "0 g", 100),
            COOK,
            "must be more than zero",
        ),
        (
            receive(CITY, FLOUR, "1 kg", -100),
            COOK,
            "a cost cannot be negative",
        ),
        (
            receive(CITY, StockItemId(99), "1 kg", 100),
            COOK,
            "no stock item",
        ),
        (
            receive(CITY, FLOUR, "1 kg", 100),
            CASHIER,
            "a cashier may not",
        ),
        (
            InventoryCommand::SendTransfer {
                transfer: TransferId(1),
                from: CITY,
                to: CITY,
                lines: vec![(FLOUR, q("1 kg"))],
            },
            COOK,
            "not to the same one",
        ),
        (
            InventoryCommand::SendTransfer {
                transfer: TransferId(2),
                from: CITY,
                to: HARBOUR,
                lines: vec![(FLOUR, q("1 kg")), (FLOUR, q("2 kg"))],
            },
            COOK,
            "Flour is listed twice",
        ),
        (
            InventoryCommand::Waste {
                location: CITY,
                item: FLOUR,
                quantity: q("1 kg"),
                reason: " ".into(),
            },
            COOK,
            "a reason is required",
        ),
        (
            InventoryCommand::Count {
                location: CITY,
                item: EGGS,
                counted: q("-2 each"),
            },
            COOK,
            "cannot be negative",
        ),
        (
            InventoryCommand::PutStockItem(StockItem {
                id: StockItemId(13),
                name: "Salt".into(),
                unit: Unit::Gram,
                active: true,
            }),
            COOK,
            "a kitchen may not",
        ),
        (
            receive(LocationId(77), FLOUR, "1 kg", 100),
            COOK,
            "no location",
        ),
        (
            InventoryCommand::SendTransfer {
                transfer: TransferId(3),
                from: CITY,
                to: LocationId(77),
                lines: vec![(FLOUR, q("1 kg"))],
            },
            COOK,
            "no location",
        ),
        (
            InventoryCommand::SetSalesStock(Some(SalesStock {
                location: LocationId(77),
                depletion: Depletion::OnSend,
            })),
            MANAGER,
            "no location",
        ),
        (
            InventoryCommand::PutLocation(Location {
                id: LocationId(5),
                name: "  ".into(),
                active: true,
            }),
            MANAGER,
            "a name is required",
        ),
    ];
    for (command, actor, message) in cases {
        let err = decide(&stock, actor, &command).unwrap_err().to_string();
        assert!(err.contains(message), "{command:?}: {err}");
    }
    assert_eq!(
        Quantity::parse("3 cups"),
        Err(InventoryError::UnknownUnit("cups".into()))
    );

    // A transfer received with more than was sent needs a note saying why.
    run(&mut stock, COOK, sent).unwrap();
    let more = InventoryCommand::ReceiveTransfer {
        transfer: TransferId(1),
        lines: vec![(FLOUR, q("2.5 kg"))],
        note: String::new(),
    };
    let err = decide(&stock, COOK, &more).unwrap_err().to_string();
    assert_eq!(
        err,
        "Flour: 2.5 kg received but 2 kg sent; say why in a note"
    );
    let with_note = InventoryCommand::ReceiveTransfer {
        transfer: TransferId(1),
        lines: vec![(FLOUR, q("2.5 kg"))],
        note: "an extra bag was loaded".into(),
    };
    assert!(decide(&stock, COOK, &with_note).is_ok());
    assert_ne!(
        format!("{stock:?}"),
        before,
        "the transfer itself was applied"
    );
}

#[test]
fn stock_is_valued_at_weighted_average_cost_per_location() {
    let mut stock = books();
    run(&mut stock, COOK, receive(CITY, FLOUR, "10 kg", 2_000)).unwrap();
    run(&mut stock, COOK, receive(CITY, FLOUR, "10 kg", 3_000)).unwrap();
    // 20 kg for €50: €2.50 a kilo.
    let level = stock.level(CITY, FLOUR);
    assert_eq!((level.milli, level.value), (20_000_000, 5_000));
    run(
        &mut stock,
        COOK,
        InventoryCommand::Waste {
            location: CITY,
            item: FLOUR,
            quantity: q("4 kg"),
            reason: "damp".into(),
        },
    )
    .unwrap();
    assert_eq!(stock.level(CITY, FLOUR).value, 4_000);
    // A count finds 15 kg where the books say 16: the missing kilo goes at €2.50.
    run(
        &mut stock,
        COOK,
        InventoryCommand::Count {
            location: CITY,
            item: FLOUR,
            counted: q("15 kg"),
        },
    )
    .unwrap();
    let level = stock.level(CITY, FLOUR);
    assert_eq!((level.milli, level.value), (15_000_000, 3_750));
    // Another location's flour is its own.
    assert_eq!(stock.level(HARBOUR, FLOUR).milli, 0);
}

/// Two registers each sell the last 10 kg of flour while apart: each took the whole
/// value, so together they took it twice and the books hold less than nothing at cost.
/// The next movement valued settles it: a delivery is worth what it cost, on both.
#[test]
fn stock_oversold_on_two_registers_apart_is_settled_by_the_next_movement() {
    let mut first = books();
    run(&mut first, COOK, receive(CITY, FLOUR, "10 kg", 2_000)).unwrap();
    let mut second = first.clone();
    let sell_all = InventoryChange::Moved(Movement::Wasted {
        location: CITY,
        item: FLOUR,
        quantity: q("10 kg"),
        reason: "sold out".into(),
    });
    let valued = |book: &Stock, change: &InventoryChange| {
        let InventoryChange::Moved(m) = change else {
            unreachable!()
        };
        InventoryEvent {
            by: COOK.staff,
            at: 1,
            change: change.clone(),
            values: value_movement(m, |l, i| book.level(l, i), None),
        }
    };
    let (a, b) = (valued(&first, &sell_all), valued(&second, &sell_all));
    assert_eq!(
        (a.values.clone(), b.values.clone()),
        (vec![-2_000], vec![-2_000])
    );
    first.apply_event(&a);
    first.apply_event(&b);
    second.apply_event(&b);
    second.apply_event(&a);
    let apart = StockValue {
        milli: -10_000_000,
        value: -2_000,
    };
    assert_eq!(first.level(CITY, FLOUR), apart);
    assert_eq!(second.level(CITY, FLOUR), apart);
    // Weighed as nothing held, worth nothing.
    assert_eq!(
        apart.settled(),
        StockValue {
            milli: -10_000_000,
            value: 0
        }
    );
    // 20 kg arrive for €60: 10 kg are left, at €3 a kilo.
    let delivery = InventoryChange::Moved(Movement::Received {
        location: CITY,
        item: FLOUR,
        quantity: q("20 kg"),
        cost: eur(6_000),
        supplier: None,
        lot: String::new(),
        purchase_order: None,
    });
    let d = valued(&first, &delivery);
    first.apply_event(&d);
    second.apply_event(&d);
    // Nothing was held before it: the stock it makes up for is worth nothing; what is left
    // is worth the delivery's cost for its share (as a single register books it).
    let mut alone = books();
    run(&mut alone, COOK, receive(CITY, FLOUR, "10 kg", 2_000)).unwrap();
    alone.apply(&sell_all);
    alone.apply(&InventoryChange::Moved(Movement::Wasted {
        location: CITY,
        item: FLOUR,
        quantity: q("10 kg"),
        reason: "sold out".into(),
    }));
    alone.apply(&delivery);
    assert_eq!(first.level(CITY, FLOUR), alone.level(CITY, FLOUR));
    assert_eq!(second.level(CITY, FLOUR), alone.level(CITY, FLOUR));
}

#[test]
fn a_transfer_is_in_transit_until_received_and_takes_its_value_along() {
    let mut stock = books();
    run(&mut stock, COOK, receive(CITY, MILK, "10 l", 1_000)).unwrap();
    run(
        &mut stock,
        COOK,
        InventoryCommand::SendTransfer {
            transfer: TransferId(7),
            from: CITY,
            to: HARBOUR,
            lines: vec![(MILK, q("4 l"))],
        },
    )
    .unwrap();
    assert_eq!(stock.level(CITY, MILK).milli, 6_000_000);
    assert_eq!(stock.level(HARBOUR, MILK).milli, 0);
    assert_eq!(stock.in_transit(HARBOUR), vec![(MILK, q("4 l"))]);
    // A second send under the same transfer id is refused.
    let again = InventoryCommand::SendTransfer {
        transfer: TransferId(7),
        from: CITY,
        to: HARBOUR,
        lines: vec![(MILK, q("1 l"))],
    };
    assert!(decide(&stock, COOK, &again).is_err());
    // One litre was spilt on the way: 3 arrive, with three quarters of the value.
    run(
        &mut stock,
        COOK,
        InventoryCommand::ReceiveTransfer {
            transfer: TransferId(7),
            lines: vec![(MILK, q("3 l"))],
            note: String::new(),
        },
    )
    .unwrap();
    assert!(stock.in_transit(HARBOUR).is_empty());
    let harbour = stock.level(HARBOUR, MILK);
    assert_eq!((harbour.milli, harbour.value), (3_000_000, 300));
    assert_eq!(stock.level(CITY, MILK).value, 600);
    let twice = InventoryCommand::ReceiveTransfer {
        transfer: TransferId(7),
        lines: vec![(MILK, q("3 l"))],
        note: String::new(),
    };
    assert_eq!(
        decide(&stock, COOK, &twice).unwrap_err().to_string(),
        format!("transfer {} was already received", TransferId(7))
    );
}

#[test]
fn a_purchase_order_goes_from_draft_to_received() {
    let mut stock = books();
    let po = PurchaseOrderId(30);
    let against = |quantity: &str| InventoryCommand::Receive {
        location: CITY,
        item: FLOUR,
        quantity: q(quantity),
        cost: eur(1_000),
        supplier: Some(MILL),
        lot: "L-2291".into(),
        purchase_order: Some(po),
    };
    run(
        &mut stock,
        MANAGER,
        InventoryCommand::DraftPurchaseOrder {
            po,
            supplier: MILL,
            location: CITY,
            lines: vec![(FLOUR, q("25 kg"), eur(5_000))],
        },
    )
    .unwrap();
    let status = |s: &Stock| s.purchase_order(po).unwrap().status();
    assert_eq!(status(&stock), PurchaseOrderStatus::Draft);
    assert!(
        decide(&stock, COOK, &against("5 kg"))
            .unwrap_err()
            .to_string()
            .contains("send it")
    );
    run(&mut stock, MANAGER, InventoryCommand::SendPurchaseOrder(po)).unwrap();
    assert_eq!(status(&stock), PurchaseOrderStatus::Sent);
    run(&mut stock, COOK, against("10 kg")).unwrap();
    assert_eq!(status(&stock), PurchaseOrderStatus::PartiallyReceived);
    run(&mut stock, COOK, against("15 kg")).unwrap();
    assert_eq!(status(&stock), PurchaseOrderStatus::Received);
    assert_eq!(stock.level(CITY, FLOUR).milli, 25_000_000);
    let milk = InventoryCommand::Receive {
        location: CITY,
        item: MILK,
        quantity: q("1 l"),
        cost: eur(100),
        supplier: Some(MILL),
        lot: String::new(),
        purchase_order: Some(po),
    };
    assert!(
        decide(&stock, COOK, &milk)
            .unwrap_err()
            .to_string()
            .contains("was not ordered")
    );
}

#[test]
fn a_sale_takes_its_recipe_and_modifiers_and_food_cost_follows_average_cost() {
    let (pancakes, large, extra_egg) = (ItemId(40), VariantId(41), ModifierId(42));
    let mut stock = books();
    let recipe = |target, parts: &[(StockItemId, &str)]| Recipe {
        target,
        ingredients: parts
            .iter()
            .map(|(s, text)| Ingredient {
                stock: *s,
                quantity: q(text),
            })
            .collect(),
    };
    for r in [
        recipe(
            RecipeFor::Item(pancakes),
            &[(FLOUR, "120 g"), (MILK, "200 ml"), (EGGS, "1 each")],
        ),
        recipe(
            RecipeFor::Variant(pancakes, large),
            &[(FLOUR, "180 g"), (MILK, "300 ml"), (EGGS, "2 each")],
        ),
        recipe(RecipeFor::Modifier(extra_egg), &[(EGGS, "1 each")]),
    ] {
        run(&mut stock, MANAGER, InventoryCommand::PutRecipe(r)).unwrap();
    }
    let bad = recipe(RecipeFor::Modifier(extra_egg), &[(MILK, "5 g")]);
    assert!(decide(&stock, MANAGER, &InventoryCommand::PutRecipe(bad)).is_err());

    let sold = |variant: Option<VariantId>, modifiers: Vec<ModifierId>, quantity| PricedSelection {
        item: pancakes,
        name: "Pancakes".into(),
        variant: variant.map(|v| (v, "Large".into())),
        modifiers: modifiers
            .into_iter()
            .map(|id| ChosenModifier {
                id,
                name: "Extra egg".into(),
                price_delta: eur(100),
            })
            .collect(),
        quantity,
        unit_price: eur(850),
        tax_rates: vec![],
        category: CategoryId(1),
        station: None,
    };
    let lookup = |t| stock.recipes.get(&t).cloned();
    assert_eq!(
        depletion(&sold(None, vec![], 2), lookup).unwrap(),
        vec![
            (FLOUR, q("240 g")),
            (MILK, q("400 ml")),
            (EGGS, q("2 each"))
        ]
    );
    // The large variant's recipe replaces the item's; the extra egg adds to it.
    assert_eq!(
        depletion(&sold(Some(large), vec![extra_egg], 1), lookup).unwrap(),
        vec![
            (FLOUR, q("180 g")),
            (MILK, q("300 ml")),
            (EGGS, q("3 each"))
        ]
    );

    // Food cost: flour €1.20/kg, milk €0.90/l, eggs €0.30 each.
    run(&mut stock, COOK, receive(CITY, FLOUR, "10 kg", 1_200)).unwrap();
    run(&mut stock, COOK, receive(CITY, MILK, "10 l", 900)).unwrap();
    run(&mut stock, COOK, receive(CITY, EGGS, "30 each", 900)).unwrap();
    let portion = &stock.recipes[&RecipeFor::Item(pancakes)];
    // 0.144 + 0.18 + 0.30 = €0.624, rounded per ingredient to whole cents.
    let cost = recipe_cost(&stock, CITY, portion).unwrap();
    assert_eq!(cost, eur(14 + 18 + 30));
    assert_eq!(food_cost_ppm(cost, eur(850)), 72_941);
    // The sale itself is a movement of its own.
    let taken = depletion(&sold(None, vec![], 1), |t| stock.recipes.get(&t).cloned()).unwrap();
    stock.apply(&InventoryChange::Moved(Movement::Depleted {
        location: CITY,
        order: OrderId(1),
        lines: taken,
    }));
    assert_eq!(stock.level(CITY, EGGS).milli, 29_000);
    assert_eq!(stock.level(CITY, EGGS).value, 870);
}

/// A movement without transfers (transfers must be sent before they are received).
fn movement() -> impl Strategy<Value = Movement> {
    let location = prop_oneof![Just(CITY), Just(HARBOUR), Just(LocationId(3))];
    let item = prop_oneof![Just(FLOUR), Just(MILK)];
    let unit_of = |i: StockItemId| {
        if i == FLOUR {
            Unit::Kilogram
        } else {
            Unit::Litre
        }
    };
    (location, item, 0u8..5, 1i64..50_000_000, 0i64..10_000).prop_map(
        move |(location, item, kind, milli, cost)| {
            let quantity = Quantity {
                dimension: unit_of(item).dimension(),
                milli,
            };
            match kind {
                0 => Movement::Received {
                    location,
                    item,
                    quantity,
                    cost: eur(cost),
                    supplier: None,
                    lot: String::new(),
                    purchase_order: None,
                },
                1 => Movement::Wasted {
                    location,
                    item,
                    quantity,
                    reason: "spoilt".into(),
                },
                2 => Movement::Counted {
                    location,
                    item,
                    counted: quantity,
                    variance: Quantity {
                        milli: milli - 25_000_000,
                        ..quantity
                    },
                },
                3 => Movement::Depleted {
                    location,
                    order: OrderId(1),
                    lines: vec![(item, quantity)],
                },
                _ => Movement::Restored {
                    location,
                    order: OrderId(1),
                    lines: vec![(item, quantity)],
                },
            }
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// Levels are sums of deltas: the same movements in any order give the same levels,
    /// and value is never negative nor held against no stock.
    #[test]
    fn levels_are_sums_of_movement_deltas_in_any_order(
        moves in prop::collection::vec(movement(), 0..40),
        seed in any::<u64>(),
    ) {
        let mut shuffled = moves.clone();
        // A deterministic shuffle from the seed.
        let mut state = seed | 1;
        for i in (1..shuffled.len()).rev() {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17;
            shuffled.swap(i, (state % (i as u64 + 1)) as usize);
        }
        let fold = |ms: &[Movement]| {
            let mut stock = books();
            for m in ms {
                stock.apply(&InventoryChange::Moved(m.clone()));
            }
            stock
        };
        let (a, b) = (fold(&moves), fold(&shuffled));
        let mut sums = std::collections::BTreeMap::new();
        for m in &moves {
            for (l, i, d) in deltas(m, |_| None) {
                *sums.entry((l, i)).or_insert(0i64) += d;
            }
        }
        for ((l, i), sum) in &sums {
            prop_assert_eq!(a.level(*l, *i).milli, *sum);
            prop_assert_eq!(b.level(*l, *i).milli, *sum);
        }
        for v in a.levels.values().chain(b.levels.values()) {
            prop_assert!(v.value >= 0);
            prop_assert!(v.milli > 0 || v.value == 0);
        }
    }

    /// Three registers move the same stock while apart, each valuing its movements
    /// against what it has heard, and hear each other's movements in any order: every
    /// register ends with the same levels and the same values, quantities the sums of
    /// the deltas.
    #[test]
    fn values_recorded_where_movements_are_made_agree_on_every_register(
        steps in prop::collection::vec((0usize..3, movement(), any::<u8>()), 0..40),
        seed in any::<u64>(),
    ) {
        let mut registers = [books(), books(), books()];
        let mut heard: Vec<Vec<usize>> = vec![Vec::new(); 3];
        let mut made: Vec<InventoryEvent> = Vec::new();
        let hear = |book: &mut Stock, heard: &mut Vec<usize>, made: &[InventoryEvent], n: usize| {
            if !heard.contains(&n) {
                book.apply_event(&made[n]);
                heard.push(n);
            }
        };
        for (r, m, deliver) in steps {
            let values = value_movement(&m, |l, i| registers[r].level(l, i), None);
            made.push(InventoryEvent {
                by: COOK.staff,
                at: 1,
                change: InventoryChange::Moved(m),
                values,
            });
            hear(&mut registers[r], &mut heard[r], &made, made.len() - 1);
            // Now and then a register catches up with everything made so far.
            if deliver % 4 == 0 {
                let to = usize::from(deliver / 4) % 3;
                for n in 0..made.len() {
                    hear(&mut registers[to], &mut heard[to], &made, n);
                }
            }
        }
        // In the end each hears the rest, in an order of its own.
        let mut state = seed | 1;
        for r in 0..3 {
            let mut rest: Vec<usize> = (0..made.len()).collect();
            for i in (1..rest.len()).rev() {
                state ^= state << 13; state ^= state >> 7; state ^= state << 17;
                rest.swap(i, (state % (i as u64 + 1)) as usize);
            }
            for n in rest {
                hear(&mut registers[r], &mut heard[r], &made, n);
            }
        }
        prop_assert_eq!(&registers[0].levels, &registers[1].levels);
        prop_assert_eq!(&registers[0].levels, &registers[2].levels);
        let mut sums = std::collections::BTreeMap::new();
        for e in &made {
            if let InventoryChange::Moved(m) = &e.change {
                for (l, i, d) in deltas(m, |_| None) {
                    *sums.entry((l, i)).or_insert(0i64) += d;
                }
            }
        }
        for ((l, i), sum) in &sums {
            prop_assert_eq!(registers[0].level(*l, *i).milli, *sum);
        }
    }

    /// A transfer moves stock and value between locations: nothing is created or lost
    /// when all of it arrives.
    #[test]
    fn a_whole_transfer_moves_stock_and_value_without_loss(
        received in 1i64..100_000_000,
        cost in 0i64..1_000_000,
        sent in 1i64..100_000_000,
    ) {
        let mut stock = books();
        run(&mut stock, COOK, receive(CITY, FLOUR, &format!("{received} g"), cost)).unwrap();
        let before = stock.level(CITY, FLOUR);
        let quantity = Quantity::parse(&format!("{sent} g")).unwrap();
        run(&mut stock, COOK, InventoryCommand::SendTransfer {
            transfer: TransferId(1), from: CITY, to: HARBOUR, lines: vec![(FLOUR, quantity)],
        }).unwrap();
        run(&mut stock, COOK, InventoryCommand::ReceiveTransfer {
            transfer: TransferId(1), lines: vec![(FLOUR, quantity)], note: String::new(),
        }).unwrap();
        let (city, harbour) = (stock.level(CITY, FLOUR), stock.level(HARBOUR, FLOUR));
        prop_assert_eq!(city.milli + harbour.milli, before.milli);
        if sent <= received {
            prop_assert_eq!(city.value + harbour.value, before.value);
        }
        let _ = Money::zero(stock.currency);
    }
}

/// An order on the register, decided and applied as the node does.
struct Ticket {
    order: Option<Order>,
}

impl Ticket {
    fn open() -> Ticket {
        let mut t = Ticket { order: None };
        t.run(OrderCommand::Open {
            number: "A-1".into(),
            channel: Channel::Counter,
            kind: OrderKind::Takeaway,
            source: Source::Register,
            currency: Currency::from_code("EUR").unwrap(),
            mode: PriceMode::Inclusive,
            location: None,
        })
        .unwrap();
        t
    }

    fn run(&mut self, command: OrderCommand) -> Result<Vec<Change>, Refusal> {
        let changes = mpos_domain::order::decide(self.order.as_ref(), &command, MANAGER)?;
        for change in &changes {
            let event = OrderEvent {
                order: OrderId(9),
                by: MANAGER.staff,
                at: 1,
                change: change.clone(),
            };
            self.order = mpos_domain::order::apply(self.order.take(), &event);
        }
        Ok(changes)
    }
}

/// Pancakes take 120 g flour and an egg; an extra egg takes one more.
fn pancake_recipes(t: RecipeFor) -> Option<Recipe> {
    let (flour, eggs) = (
        Ingredient {
            stock: FLOUR,
            quantity: q("120 g"),
        },
        |n: &str| Ingredient {
            stock: EGGS,
            quantity: q(n),
        },
    );
    match t {
        RecipeFor::Item(ItemId(40)) => Some(Recipe {
            target: t,
            ingredients: vec![flour, eggs("1 each")],
        }),
        RecipeFor::Modifier(ModifierId(42)) => Some(Recipe {
            target: t,
            ingredients: vec![eggs("1 each")],
        }),
        _ => None,
    }
}

fn pancakes(quantity: u32, extra_egg: bool) -> PricedSelection {
    PricedSelection {
        item: ItemId(40),
        name: "Pancakes".into(),
        variant: None,
        modifiers: if extra_egg {
            vec![ChosenModifier {
                id: ModifierId(42),
                name: "Extra egg".into(),
                price_delta: eur(100),
            }]
        } else {
            vec![]
        },
        quantity,
        unit_price: eur(850),
        tax_rates: vec![],
        category: CategoryId(1),
        station: None,
    }
}

/// Runs `command` on the ticket and folds the stock movements it makes into `stock`
/// and `taken`, as the node's writer does.
fn sell(
    stock: &mut Stock,
    ticket: &mut Ticket,
    taken: &mut Taken,
    policy: Option<SalesStock>,
    command: OrderCommand,
) -> Result<(), Refusal> {
    for change in ticket.run(command)? {
        let order = ticket.order.as_ref().unwrap();
        for m in sale_movements(policy, order, &change, taken, pancake_recipes).unwrap() {
            sale::take(taken, &m);
            stock.apply(&InventoryChange::Moved(m));
        }
    }
    Ok(())
}

fn add_line(line: u128, quantity: u32, extra_egg: bool) -> OrderCommand {
    OrderCommand::AddLine {
        line: LineId(line),
        item: pancakes(quantity, extra_egg),
        seat: None,
        course: 1,
        note: String::new(),
    }
}

#[test]
fn sales_take_their_recipes_on_send_or_on_close_and_voids_and_refunds_give_them_back() {
    let mut stock = books();
    run(&mut stock, COOK, receive(CITY, FLOUR, "10 kg", 1_200)).unwrap();
    run(&mut stock, COOK, receive(CITY, EGGS, "30 each", 900)).unwrap();
    let full = stock.clone();
    let on_send = Some(SalesStock {
        location: CITY,
        depletion: Depletion::OnSend,
    });

    // Depleting on send: nothing moves until the kitchen gets the lines.
    let (mut t, mut taken) = (Ticket::open(), Taken::new());
    sell(
        &mut stock,
        &mut t,
        &mut taken,
        on_send,
        add_line(1, 2, true),
    )
    .unwrap();
    sell(
        &mut stock,
        &mut t,
        &mut taken,
        on_send,
        add_line(2, 1, false),
    )
    .unwrap();
    assert_eq!(stock.level(CITY, EGGS).milli, 30_000);
    sell(
        &mut stock,
        &mut t,
        &mut taken,
        on_send,
        OrderCommand::Send { lines: vec![] },
    )
    .unwrap();
    // 2 × (1 egg + 1 extra) + 1 = 5 eggs; 3 × 120 g flour.
    assert_eq!(stock.level(CITY, EGGS).milli, 25_000);
    assert_eq!(stock.level(CITY, FLOUR).milli, 10_000_000 - 360_000);
    // A line added later is taken when it is sent, not before.
    sell(
        &mut stock,
        &mut t,
        &mut taken,
        on_send,
        add_line(3, 1, false),
    )
    .unwrap();
    assert_eq!(stock.level(CITY, EGGS).milli, 25_000);
    // Voiding a sent line gives its recipe back; an unsent one gives nothing.
    let void = |line| OrderCommand::VoidLine {
        line: LineId(line),
        reason: "guest changed their mind".into(),
    };
    sell(&mut stock, &mut t, &mut taken, on_send, void(1)).unwrap();
    assert_eq!(stock.level(CITY, EGGS).milli, 29_000);
    sell(&mut stock, &mut t, &mut taken, on_send, void(3)).unwrap();
    assert_eq!(stock.level(CITY, EGGS).milli, 29_000);
    // The order voided whole gives back what is still out: stock is as before the sale,
    // value included.
    sell(
        &mut stock,
        &mut t,
        &mut taken,
        on_send,
        OrderCommand::VoidOrder {
            reason: "walked out".into(),
        },
    )
    .unwrap();
    assert_eq!(stock.levels, full.levels);

    // Depleting on close: sending takes nothing, closing takes it all; a whole refund
    // gives it back, even after the restaurant switched to depleting on send.
    let on_close = Some(SalesStock {
        location: HARBOUR,
        depletion: Depletion::OnClose,
    });
    let (mut t, mut taken) = (Ticket::open(), Taken::new());
    sell(
        &mut stock,
        &mut t,
        &mut taken,
        on_close,
        add_line(1, 1, false),
    )
    .unwrap();
    sell(
        &mut stock,
        &mut t,
        &mut taken,
        on_close,
        OrderCommand::Send { lines: vec![] },
    )
    .unwrap();
    assert_eq!(stock.level(HARBOUR, EGGS).milli, 0);
    let pay = OrderCommand::TakePayment {
        payment: PaymentId(1),
        tender: Tender::Card {
            reference: "T-1".into(),
        },
        amount: eur(850),
        tip: eur(0),
        cash_received: None,
        drawer: None,
    };
    sell(&mut stock, &mut t, &mut taken, on_close, pay).unwrap();
    assert_eq!(t.order.as_ref().unwrap().status, Status::Closed);
    assert_eq!(
        stock.level(HARBOUR, EGGS).milli,
        -1_000,
        "sold without stock"
    );
    sell(
        &mut stock,
        &mut t,
        &mut taken,
        on_send,
        OrderCommand::Refund {
            payment: PaymentId(1),
            amount: eur(850),
            reason: "cold".into(),
            drawer: None,
        },
    )
    .unwrap();
    assert_eq!(stock.level(HARBOUR, EGGS).milli, 0);
    assert_eq!(stock.level(CITY, EGGS), full.level(CITY, EGGS));
}

/// What a register may do to a ticket, for the property below.
#[derive(Clone, Debug)]
enum Step {
    Add(u32, bool),
    Send,
    VoidLine(usize),
    Pay,
    Refund(i64),
    VoidOrder,
    Policy(Option<bool>),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (1..4u32, any::<bool>()).prop_map(|(n, e)| Step::Add(n, e)),
        2 => Just(Step::Send),
        2 => (0..6usize).prop_map(Step::VoidLine),
        1 => Just(Step::Pay),
        1 => (1..3_000i64).prop_map(Step::Refund),
        1 => Just(Step::VoidOrder),
        1 => prop::option::of(any::<bool>()).prop_map(Step::Policy),
    ]
}

proptest! {
    /// Whatever a register does to an order and however the restaurant's setting
    /// changes meanwhile: an order never holds a negative amount of anything, stock
    /// moves only by what the order holds, and once the order is voided or refunded
    /// whole, stock is exactly as before it.
    #[test]
    fn an_order_gives_back_exactly_what_it_took(steps in prop::collection::vec(step(), 1..40)) {
        let mut stock = books();
        run(&mut stock, COOK, receive(CITY, EGGS, "50 each", 1_500)).unwrap();
        run(&mut stock, COOK, receive(HARBOUR, EGGS, "50 each", 1_500)).unwrap();
        let before = stock.levels.clone();
        let (mut t, mut taken) = (Ticket::open(), Taken::new());
        let mut policy = Some(SalesStock { location: CITY, depletion: Depletion::OnSend });
        let mut next_line = 1u128;
        for s in steps {
            let command = match s {
                Step::Add(n, e) => {
                    next_line += 1;
                    add_line(next_line, n, e)
                }
                Step::Send => OrderCommand::Send { lines: vec![] },
                Step::VoidLine(i) => OrderCommand::VoidLine {
                    line: LineId(i as u128 + 2),
                    reason: "mistake".into(),
                },
                Step::Pay => {
                    let due = t.order.as_ref().unwrap().totals().unwrap().balance;
                    OrderCommand::TakePayment {
                        payment: PaymentId(next_line + 1_000),
                        tender: Tender::Card { reference: "T".into() },
                        amount: due,
                        tip: eur(0),
                        cash_received: None,
                        drawer: None,
                    }
                }
                Step::Refund(a) => OrderCommand::Refund {
                    payment: PaymentId(next_line + 1_000),
                    amount: eur(a),
                    reason: "complaint".into(),
                    drawer: None,
                },
                Step::VoidOrder => OrderCommand::VoidOrder { reason: "test".into() },
                Step::Policy(p) => {
                    policy = p.map(|send| SalesStock {
                        location: if send { CITY } else { HARBOUR },
                        depletion: if send { Depletion::OnSend } else { Depletion::OnClose },
                    });
                    continue;
                }
            };
            let was = stock.levels.clone();
            if sell(&mut stock, &mut t, &mut taken, policy, command).is_err() {
                prop_assert_eq!(&stock.levels, &was, "a refused command moved stock");
            }
            for (_, _, held) in &taken {
                prop_assert!(held.milli >= 0, "{:?}", taken);
            }
            // Stock moved by exactly what the order holds.
            for ((location, item), level) in &stock.levels {
                let start = before.get(&(*location, *item)).map_or(0, |v| v.milli);
                let held: i64 = taken
                    .iter()
                    .filter(|(l, i, _)| l == location && i == item)
                    .map(|(_, _, q)| q.milli)
                    .sum();
                prop_assert_eq!(level.milli, start - held);
            }
            let order = t.order.as_ref().unwrap();
            if order.status == Status::Voided || sale::wholly_refunded(order) {
                prop_assert!(taken.iter().all(|(_, _, q)| q.milli == 0));
            }
        }
    }
}

#[test]
fn food_cost_per_item_sets_recipes_at_average_cost_against_net_sales() {
    let mut stock = books();
    // Flour €1.20/kg, eggs €0.30 each.
    run(&mut stock, COOK, receive(CITY, FLOUR, "10 kg", 1_200)).unwrap();
    run(&mut stock, COOK, receive(CITY, EGGS, "30 each", 900)).unwrap();
    let level = |i| stock.level(CITY, i);
    let mut t = Ticket::open();
    t.run(add_line(1, 2, true)).unwrap();
    t.run(add_line(2, 1, false)).unwrap();
    // A coffee has no recipe: nothing to cost, so it is left out.
    let mut coffee = pancakes(1, false);
    coffee.item = ItemId(41);
    coffee.name = "Coffee".into();
    coffee.unit_price = eur(300);
    t.run(OrderCommand::AddLine {
        line: LineId(3),
        item: coffee,
        seat: None,
        course: 1,
        note: String::new(),
    })
    .unwrap();
    t.run(add_line(4, 5, false)).unwrap();
    t.run(OrderCommand::VoidLine {
        line: LineId(4),
        reason: "keyed twice".into(),
    })
    .unwrap();
    let pay = |amount| OrderCommand::TakePayment {
        payment: PaymentId(1),
        tender: Tender::Card {
            reference: "T-1".into(),
        },
        amount: eur(amount),
        tip: eur(0),
        cash_received: None,
        drawer: None,
    };
    t.run(pay(2_850)).unwrap();
    // A fifth of the order is refunded: each line keeps four fifths of its sale.
    t.run(OrderCommand::Refund {
        payment: PaymentId(1),
        amount: eur(570),
        reason: "slow service".into(),
        drawer: None,
    })
    .unwrap();
    let order = t.order.clone().unwrap();

    let mut by_item = FoodCostByItem::new(stock.currency);
    by_item.add(&order, pancake_recipes, level).unwrap();
    let items = by_item.items();
    assert_eq!(items.len(), 1, "{items:?}");
    let p = &items[0];
    assert_eq!(
        (p.item, p.variant, p.name.as_str()),
        (ItemId(40), None, "Pancakes")
    );
    assert_eq!(p.sold, 3, "the voided line is not sold");
    assert_eq!(p.net_sales, eur(1_360 + 680));
    // Line 1: 240 g flour (28.8 → 29) and 4 eggs (120); line 2: 120 g (14.4 → 14), 1 egg.
    assert_eq!(p.cost, eur(29 + 120 + 14 + 30));
    assert_eq!(p.food_cost_ppm(), 94_608);
    // The pancakes' own cost, through the same pricing as the report.
    assert_eq!(
        cost_of(
            stock.currency,
            [(FLOUR, q("120 g")), (EGGS, q("1 each"))],
            level
        )
        .unwrap(),
        eur(44)
    );

    // Refunded in full, the order adds nothing: its sale and stock were given back.
    t.run(OrderCommand::Refund {
        payment: PaymentId(1),
        amount: eur(2_280),
        reason: "wrong order".into(),
        drawer: None,
    })
    .unwrap();
    let mut by_item = FoodCostByItem::new(stock.currency);
    by_item
        .add(t.order.as_ref().unwrap(), pancake_recipes, level)
        .unwrap();
    assert!(by_item.items().is_empty());
}
