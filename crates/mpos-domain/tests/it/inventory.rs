//! Inventory: bad input refused before anything changes, weighted average cost, transfers
//! with goods in transit, purchase orders, recipe depletion and food cost; and, as
//! properties, that levels are sums of movement deltas whatever order they arrive in.

use mpos_domain::Money;
use mpos_domain::catalog::{ChosenModifier, PricedSelection};
use mpos_domain::ids::{
    CategoryId, ItemId, LocationId, ModifierId, OrderId, PurchaseOrderId, StaffId, StockItemId,
    SupplierId, TransferId, VariantId,
};
use mpos_domain::inventory::{
    Ingredient, InventoryChange, InventoryCommand, InventoryError, Movement, PurchaseOrderStatus,
    Quantity, Recipe, RecipeFor, Stock, StockBook, StockItem, Supplier, Unit, decide, deltas,
    depletion, food_cost_ppm, recipe_cost,
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
