//! The demo's stock: three locations (the bistro, a second restaurant and the central
//! kitchen that bakes and preps for both), ingredients bought from four suppliers, recipes
//! for most of the menu, and the week's deliveries, waste, counts and transfers. The
//! bistro's sales take their recipes when lines are sent, so by today some items are low.

use mpos_domain::Money;
use mpos_domain::catalog::Item;
use mpos_domain::ids::{
    LocationId, ModifierId, PurchaseOrderId, StockItemId, SupplierId, TransferId,
};
use mpos_domain::inventory::{
    Depletion, Ingredient, InventoryCommand, Location, Quantity, Recipe, RecipeFor, SalesStock,
    StockItem, Supplier, Unit,
};

use super::eur;
use crate::error::NodeError;

pub const BISTRO: LocationId = LocationId(0x10c << 64 | 1);
pub const HARBOUR: LocationId = LocationId(0x10c << 64 | 2);
pub const KITCHEN: LocationId = LocationId(0x10c << 64 | 3);

const LOCATIONS: [(LocationId, &str); 3] = [
    (BISTRO, "Bistro Lumen"),
    (HARBOUR, "Lumen Harbour"),
    (KITCHEN, "Central kitchen"),
];

const SUPPLIERS: [(u128, &str, &str); 4] = [
    (1, "Roastery North", "orders@roastery.example"),
    (2, "Fresh Farm Dairy", "+49 30 5550 1200"),
    (3, "Old Mill", "orders@oldmill.example"),
    (4, "Market Greens", "+49 30 5550 3400"),
];

/// Name, unit, supplier, price per unit in cents, and what each location opens the week
/// with (bistro, harbour, central kitchen) and the bistro's par level, in the unit.
type Row = (
    &'static str,
    Unit,
    u128,
    i64,
    [&'static str; 3],
    &'static str,
);

#[rustfmt::skip]
const ITEMS: [Row; 21] = [
    ("Coffee beans",          Unit::Kilogram, 1, 2_400, ["8", "4", "20"],     "3"),
    ("Whole milk",            Unit::Litre,    2,   110, ["20", "24", "0"],    "20"),
    ("Oat milk",              Unit::Litre,    2,   240, ["15", "8", "0"],     "6"),
    ("Eggs",                  Unit::Each,     2,    30, ["240", "90", "120"], "60"),
    ("Flour",                 Unit::Kilogram, 3,   120, ["15", "5", "50"],    "5"),
    ("Butter",                Unit::Kilogram, 2,   900, ["6", "2", "10"],     "2"),
    ("Avocados",              Unit::Each,     4,    90, ["30", "12", "0"],    "12"),
    ("Sourdough loaves",      Unit::Each,     3,   450, ["8", "4", "0"],      "3"),
    ("Beef mince",            Unit::Kilogram, 4, 1_300, ["10", "0", "8"],     "2"),
    ("Brioche buns",          Unit::Each,     3,    60, ["60", "0", "0"],     "20"),
    ("Potatoes",              Unit::Kilogram, 4,   140, ["25", "0", "100"],   "10"),
    ("Oranges",               Unit::Kilogram, 4,   250, ["20", "10", "0"],    "8"),
    ("Lemons",                Unit::Each,     4,    35, ["40", "20", "0"],    "15"),
    ("Cola 0.33 l",           Unit::Each,     4,    75, ["96", "24", "0"],    "24"),
    ("Sparkling water 0.5 l", Unit::Each,     4,    45, ["72", "24", "0"],    "24"),
    ("Cheddar",               Unit::Kilogram, 2, 1_500, ["3", "0", "0"],      "1"),
    ("Arborio rice",          Unit::Kilogram, 4,   380, ["8", "0", "10"],     "2"),
    ("Dark chocolate",        Unit::Kilogram, 3, 1_600, ["3", "1", "5"],      "1"),
    ("Cream cheese",          Unit::Kilogram, 2,   800, ["6", "0", "0"],      "1.5"),
    ("House red",             Unit::Litre,    4,   650, ["30", "9", "0"],     "9"),
    ("Lager",                 Unit::Litre,    4,   280, ["50", "30", "0"],    "20"),
];

/// What a menu item (by name), one of its variants (by position) or a modifier uses.
enum For {
    Item(&'static str),
    Variant(&'static str, usize),
    Modifier(u128),
}

const RECIPES: [(For, &[(&str, &str)]); 32] = [
    (For::Item("Espresso"), &[("Coffee beans", "18 g")]),
    (For::Item("Americano"), &[("Coffee beans", "18 g")]),
    (For::Item("Flat white"), &[("Coffee beans", "18 g")]),
    (For::Item("Cappuccino"), &[("Coffee beans", "18 g")]),
    (For::Item("Latte"), &[("Coffee beans", "18 g")]),
    (
        For::Item("Mocha"),
        &[("Coffee beans", "18 g"), ("Dark chocolate", "20 g")],
    ),
    (For::Item("Cold brew"), &[("Coffee beans", "25 g")]),
    // The milk a drink is made with is its Milk choice.
    (For::Modifier(1), &[("Whole milk", "200 ml")]),
    (For::Modifier(2), &[("Oat milk", "200 ml")]),
    (For::Modifier(5), &[("Coffee beans", "9 g")]),
    (For::Item("Fresh orange juice"), &[("Oranges", "600 g")]),
    (For::Item("Homemade lemonade"), &[("Lemons", "1 each")]),
    (
        For::Item("Sparkling water"),
        &[("Sparkling water 0.5 l", "1 each")],
    ),
    (For::Item("Cola"), &[("Cola 0.33 l", "1 each")]),
    (
        For::Item("Croissant"),
        &[("Flour", "60 g"), ("Butter", "30 g")],
    ),
    (
        For::Item("Pain au chocolat"),
        &[
            ("Flour", "60 g"),
            ("Butter", "30 g"),
            ("Dark chocolate", "15 g"),
        ],
    ),
    (
        For::Item("Avocado toast"),
        &[("Sourdough loaves", "0.1 each"), ("Avocados", "1 each")],
    ),
    (
        For::Item("Eggs Benedict"),
        &[("Eggs", "2 each"), ("Sourdough loaves", "0.1 each")],
    ),
    (For::Item("Shakshuka"), &[("Eggs", "3 each")]),
    (
        For::Item("Pancakes"),
        &[("Flour", "120 g"), ("Eggs", "2 each")],
    ),
    (For::Modifier(17), &[("Avocados", "0.5 each")]),
    (For::Modifier(19), &[("Eggs", "1 each")]),
    (
        For::Item("Classic burger"),
        &[
            ("Beef mince", "180 g"),
            ("Brioche buns", "1 each"),
            ("Cheddar", "30 g"),
        ],
    ),
    (For::Item("Veggie burger"), &[("Brioche buns", "1 each")]),
    // Sides: fries and mash.
    (For::Modifier(13), &[("Potatoes", "250 g")]),
    (
        For::Modifier(16),
        &[("Potatoes", "200 g"), ("Butter", "20 g")],
    ),
    (
        For::Item("Fish & chips"),
        &[("Potatoes", "300 g"), ("Flour", "50 g")],
    ),
    (
        For::Item("Mushroom risotto"),
        &[("Arborio rice", "90 g"), ("Butter", "20 g")],
    ),
    (For::Item("Cheesecake"), &[("Cream cheese", "90 g")]),
    (For::Item("Lager"), &[("Lager", "0.4 l")]),
    (For::Variant("House red", 0), &[("House red", "0.2 l")]),
    (For::Variant("House red", 1), &[("House red", "0.75 l")]),
];

fn stock_item(name: &str) -> Result<(StockItemId, &'static Row), NodeError> {
    ITEMS
        .iter()
        .enumerate()
        .find(|(_, row)| row.0 == name)
        .map(|(i, row)| (StockItemId(0x570c << 64 | (i as u128 + 1)), row))
        .ok_or_else(|| NodeError::Internal(format!("the demo has no stock item {name}")))
}

fn quantity(text: &str) -> Result<Quantity, NodeError> {
    Quantity::parse(text).map_err(|e| NodeError::Internal(format!("demo quantity {text}: {e}")))
}

fn amount(text: &str, unit: Unit) -> Result<Quantity, NodeError> {
    Quantity::parse_in(text, unit)
        .map_err(|e| NodeError::Internal(format!("demo quantity {text}: {e}")))
}

/// `text` of `name`, in the item's unit.
fn line(name: &str, text: &str) -> Result<(StockItemId, Quantity), NodeError> {
    let (item, row) = stock_item(name)?;
    Ok((item, amount(text, row.1)?))
}

/// `text` of `name` at what its unit costs: the unit price times the amount, to the cent
/// (the amount has at most 3 decimals).
fn priced(name: &str, text: &str) -> Result<(StockItemId, Quantity, Money), NodeError> {
    let (item, row) = stock_item(name)?;
    let q = amount(text, row.1)?;
    Ok((item, q, eur(row.3 * q.milli / row.1.scale())))
}

/// `text` of `name` bought from its supplier for what its unit costs.
fn receive(
    location: LocationId,
    name: &str,
    text: &str,
    lot: &str,
) -> Result<InventoryCommand, NodeError> {
    let (item, quantity, cost) = priced(name, text)?;
    Ok(InventoryCommand::Receive {
        location,
        item,
        quantity,
        cost,
        supplier: Some(SupplierId(stock_item(name)?.1.2)),
        lot: lot.into(),
        purchase_order: None,
    })
}

/// Before the week's first sale: locations, suppliers, items, pars, recipes and the
/// opening stock at every location.
pub fn set_up(menu: &[Item]) -> Result<Vec<InventoryCommand>, NodeError> {
    let mut commands: Vec<InventoryCommand> = LOCATIONS
        .iter()
        .map(|(id, name)| {
            InventoryCommand::PutLocation(Location {
                id: *id,
                name: (*name).into(),
                active: true,
            })
        })
        .collect();
    commands.extend(SUPPLIERS.iter().map(|(id, name, contact)| {
        InventoryCommand::PutSupplier(Supplier {
            id: SupplierId(*id),
            name: (*name).into(),
            contact: (*contact).into(),
        })
    }));
    for row in &ITEMS {
        let (id, _) = stock_item(row.0)?;
        commands.push(InventoryCommand::PutStockItem(StockItem {
            id,
            name: row.0.into(),
            unit: row.1,
            active: true,
        }));
        commands.push(InventoryCommand::SetPar {
            location: BISTRO,
            item: id,
            level: Some(amount(row.5, row.1)?),
        });
    }
    let menu_item = |name: &str| -> Result<&Item, NodeError> {
        menu.iter()
            .find(|i| i.name == name)
            .ok_or_else(|| NodeError::Internal(format!("the demo menu has no {name}")))
    };
    for (target, uses) in &RECIPES {
        let target = match target {
            For::Item(name) => RecipeFor::Item(menu_item(name)?.id),
            For::Variant(name, n) => {
                let item = menu_item(name)?;
                let variant = item
                    .variants
                    .get(*n)
                    .ok_or_else(|| NodeError::Internal(format!("{name} has no variant {n}")))?;
                RecipeFor::Variant(item.id, variant.id)
            }
            For::Modifier(id) => RecipeFor::Modifier(ModifierId(*id)),
        };
        let ingredients = uses
            .iter()
            .map(|(name, q)| {
                Ok(Ingredient {
                    stock: stock_item(name)?.0,
                    quantity: quantity(q)?,
                })
            })
            .collect::<Result<_, NodeError>>()?;
        commands.push(InventoryCommand::PutRecipe(Recipe {
            target,
            ingredients,
        }));
    }
    for (n, (location, _)) in LOCATIONS.iter().enumerate() {
        for row in &ITEMS {
            if row.4[n] != "0" {
                commands.push(receive(*location, row.0, row.4[n], "OPENING")?);
            }
        }
    }
    commands.push(InventoryCommand::SetSalesStock(Some(SalesStock {
        location: BISTRO,
        depletion: Depletion::OnSend,
    })));
    Ok(commands)
}

/// What happens to stock on the morning of `day` (0 to 6) of the demo week.
pub fn morning(day: u64) -> Result<Vec<InventoryCommand>, NodeError> {
    let lot = format!("W{}", day + 1);
    Ok(match day {
        // The dairy and the greengrocer deliver twice a week.
        2 | 5 => vec![
            receive(BISTRO, "Whole milk", "10", &lot)?,
            receive(BISTRO, "Eggs", "120", &lot)?,
            receive(BISTRO, "Avocados", "24", &lot)?,
            receive(BISTRO, "Oranges", "15", &lot)?,
            receive(BISTRO, "Sourdough loaves", "6", &lot)?,
            receive(BISTRO, "Brioche buns", "24", &lot)?,
        ],
        // The central kitchen sends the bistro flour, butter and potatoes.
        3 => {
            let lines = vec![
                line("Flour", "10")?,
                line("Butter", "3")?,
                line("Potatoes", "30")?,
            ];
            let transfer = TransferId(0x7f << 64 | 1);
            vec![
                InventoryCommand::SendTransfer {
                    transfer,
                    from: KITCHEN,
                    to: BISTRO,
                    lines: lines.clone(),
                },
                InventoryCommand::ReceiveTransfer {
                    transfer,
                    lines,
                    note: String::new(),
                },
                InventoryCommand::Waste {
                    location: BISTRO,
                    item: stock_item("Eggs")?.0,
                    quantity: amount("12", Unit::Each)?,
                    reason: "a tray dropped in the walk-in".into(),
                },
            ]
        }
        // A bag of beans split open.
        6 => {
            let (beans, _) = stock_item("Coffee beans")?;
            vec![InventoryCommand::Waste {
                location: BISTRO,
                item: beans,
                quantity: amount("0.25", Unit::Kilogram)?,
                reason: "a bag split open".into(),
            }]
        }
        _ => vec![],
    })
}

/// Today, before opening: beans and flour on their way from the central kitchen, an order
/// with the dairy sent and one with the greengrocer still a draft.
pub fn today() -> Result<Vec<InventoryCommand>, NodeError> {
    let dairy = PurchaseOrderId(0x90 << 64 | 1);
    Ok(vec![
        InventoryCommand::SendTransfer {
            transfer: TransferId(0x7f << 64 | 2),
            from: KITCHEN,
            to: BISTRO,
            lines: vec![line("Coffee beans", "4")?, line("Flour", "5")?],
        },
        InventoryCommand::DraftPurchaseOrder {
            po: dairy,
            supplier: SupplierId(2),
            location: BISTRO,
            lines: vec![
                priced("Whole milk", "36")?,
                priced("Eggs", "180")?,
                priced("Cheddar", "2")?,
                priced("Cream cheese", "3")?,
            ],
        },
        InventoryCommand::SendPurchaseOrder(dairy),
        InventoryCommand::DraftPurchaseOrder {
            po: PurchaseOrderId(0x90 << 64 | 2),
            supplier: SupplierId(4),
            location: HARBOUR,
            lines: vec![
                priced("Avocados", "24")?,
                priced("Lemons", "40")?,
                priced("Oranges", "10")?,
            ],
        },
    ])
}
