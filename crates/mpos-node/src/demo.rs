//! The demo restaurant: a café-bistro set up through the same commands a manager would
//! use, with staff and PINs, and a week of sales generated through the register's path
//! (so its ledger, projections and reports are exactly what real trading produces).
//! Deterministic: the same seed gives the same restaurant.

use mpos_domain::catalog::{
    Category, Channel, Item, ModifierGroup, ModifierOption, Selection, TaxCategory, Variant,
};
use mpos_domain::drawer::DrawerCommand;
use mpos_domain::floor::{FloorCommand, Table};
use mpos_domain::ids::{
    CategoryId, DrawerId, ItemId, LineId, ModifierGroupId, ModifierId, OrderId, PaymentId, StaffId,
    StationId, TableId, TaxCategoryId, VariantId,
};
use mpos_domain::inventory::InventoryCommand;
use mpos_domain::menu::{MenuCommand, Settings};
use mpos_domain::order::{Command, OrderKind, Source, Tender};
use mpos_domain::staff::{Actor, Role, StaffCommand, StaffMember};
use mpos_domain::{Currency, Money, PriceMode, TaxRate};
use mpos_store::PosStore;

use crate::error::NodeError;
use crate::pos::{Action, NewLine, OrderAction, PosService, Request};

mod stock;

/// Demo staff: name, role and PIN (printed by `mpos demo`).
pub const STAFF: [(u128, &str, Role, &str); 5] = [
    (1, "Ana (owner)", Role::Owner, "1000"),
    (2, "Ben (manager)", Role::Manager, "2000"),
    (3, "Chloé (cashier)", Role::Cashier, "3000"),
    (4, "Dev (server)", Role::Server, "4000"),
    (5, "Eli (kitchen)", Role::Kitchen, "5000"),
];

/// Tables on the floor.
pub const TABLES: u32 = 12;

const DAY: u64 = 24 * 60 * 60 * 1000;

/// The demo's table `n` (1 to `TABLES`).
pub fn table_id(n: u32) -> TableId {
    TableId((0x7ab1eu128 << 64) | u128::from(n))
}

/// Deterministic pseudo-random numbers (xorshift64*): the demo needs variety, not secrecy.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

fn eur(minor: i64) -> Money {
    Money::new(
        minor,
        Currency::from_code("EUR").unwrap_or_else(|_| unreachable_currency()),
    )
}

fn unreachable_currency() -> Currency {
    // EUR is in the currency table; this is never reached.
    Currency::from_code("USD").unwrap_or_else(|_| panic!("the currency table lost EUR and USD"))
}

struct Menu {
    commands: Vec<MenuCommand>,
    items: Vec<Item>,
    groups: Vec<ModifierGroup>,
}

fn menu() -> Menu {
    let food = TaxCategory {
        id: TaxCategoryId(1),
        name: "Food & soft drinks (7%)".into(),
        rates: vec![TaxRate::from_ppm(70_000)],
    };
    let alcohol = TaxCategory {
        id: TaxCategoryId(2),
        name: "Alcohol (19%)".into(),
        rates: vec![TaxRate::from_ppm(190_000)],
    };
    let (bar, kitchen) = (Some(StationId(1)), Some(StationId(2)));
    let categories = [
        (1, "Coffee", bar),
        (2, "Tea & soft drinks", bar),
        (3, "Breakfast", kitchen),
        (4, "Mains", kitchen),
        (5, "Desserts", kitchen),
        (6, "Beer & wine", bar),
    ];
    let option = |id: u128, name: &str, delta: i64| ModifierOption {
        id: ModifierId(id),
        name: name.into(),
        price_delta: eur(delta),
    };
    let groups = vec![
        ModifierGroup {
            id: ModifierGroupId(1),
            name: "Milk".into(),
            min: 1,
            max: 1,
            options: vec![
                option(1, "Whole milk", 0),
                option(2, "Oat milk", 50),
                option(3, "Almond milk", 50),
                option(4, "No milk", 0),
            ],
        },
        ModifierGroup {
            id: ModifierGroupId(2),
            name: "Extras".into(),
            min: 0,
            max: 3,
            options: vec![
                option(5, "Extra shot", 70),
                option(6, "Vanilla syrup", 40),
                option(7, "Caramel syrup", 40),
                option(8, "Decaf", 0),
            ],
        },
        ModifierGroup {
            id: ModifierGroupId(3),
            name: "Cooked".into(),
            min: 1,
            max: 1,
            options: vec![
                option(9, "Rare", 0),
                option(10, "Medium rare", 0),
                option(11, "Medium", 0),
                option(12, "Well done", 0),
            ],
        },
        ModifierGroup {
            id: ModifierGroupId(4),
            name: "Side".into(),
            min: 1,
            max: 1,
            options: vec![
                option(13, "Fries", 0),
                option(14, "Sweet potato fries", 100),
                option(15, "Green salad", 0),
                option(16, "Mash", 0),
            ],
        },
        ModifierGroup {
            id: ModifierGroupId(5),
            name: "Add-ons".into(),
            min: 0,
            max: 4,
            options: vec![
                option(17, "Avocado", 250),
                option(18, "Bacon", 200),
                option(19, "Extra egg", 150),
                option(20, "Halloumi", 250),
            ],
        },
        ModifierGroup {
            id: ModifierGroupId(6),
            name: "Ice".into(),
            min: 0,
            max: 1,
            options: vec![option(21, "No ice", 0), option(22, "Extra ice", 0)],
        },
    ];
    // (name, description, category, price, tax, variants, groups)
    type Row<'a> = (
        &'a str,
        &'a str,
        u128,
        i64,
        u128,
        &'a [(&'a str, i64)],
        &'a [u128],
    );
    let sizes: &[(&str, i64)] = &[("Regular", 0), ("Large", 60)];
    let glass: &[(&str, i64)] = &[("Glass 0.2 l", 0), ("Bottle 0.75 l", 1_900)];
    let rows: &[Row] = &[
        (
            "Espresso",
            "Single origin, pulled short",
            1,
            240,
            1,
            &[],
            &[2],
        ),
        (
            "Americano",
            "Espresso with hot water",
            1,
            290,
            1,
            sizes,
            &[2],
        ),
        (
            "Flat white",
            "Double ristretto, silky milk",
            1,
            380,
            1,
            sizes,
            &[1, 2],
        ),
        (
            "Cappuccino",
            "Espresso, foamed milk, cocoa",
            1,
            360,
            1,
            sizes,
            &[1, 2],
        ),
        (
            "Latte",
            "Espresso and steamed milk",
            1,
            390,
            1,
            sizes,
            &[1, 2],
        ),
        (
            "Mocha",
            "Espresso, chocolate, milk",
            1,
            420,
            1,
            sizes,
            &[1, 2],
        ),
        ("Cold brew", "Steeped 18 hours", 1, 400, 1, sizes, &[6]),
        (
            "Chai latte",
            "Spiced black tea, milk",
            2,
            390,
            1,
            sizes,
            &[1],
        ),
        ("Green tea", "Sencha, loose leaf", 2, 300, 1, &[], &[]),
        (
            "Fresh orange juice",
            "Pressed to order",
            2,
            450,
            1,
            sizes,
            &[6],
        ),
        (
            "Homemade lemonade",
            "Lemon, mint, soda",
            2,
            380,
            1,
            &[],
            &[6],
        ),
        ("Sparkling water", "0.5 l bottle", 2, 280, 1, &[], &[6]),
        ("Cola", "0.33 l bottle", 2, 320, 1, &[], &[6]),
        (
            "Croissant",
            "All-butter, baked this morning",
            3,
            290,
            1,
            &[],
            &[],
        ),
        (
            "Pain au chocolat",
            "Butter pastry, dark chocolate",
            3,
            320,
            1,
            &[],
            &[],
        ),
        (
            "Avocado toast",
            "Sourdough, chilli, lime",
            3,
            980,
            1,
            &[],
            &[5],
        ),
        (
            "Eggs Benedict",
            "Poached eggs, ham, hollandaise",
            3,
            1_150,
            1,
            &[],
            &[5],
        ),
        (
            "Shakshuka",
            "Baked eggs in spiced tomato",
            3,
            1_090,
            1,
            &[],
            &[5],
        ),
        (
            "Granola bowl",
            "Yoghurt, berries, honey",
            3,
            790,
            1,
            &[],
            &[],
        ),
        ("Pancakes", "Maple syrup, berries", 3, 960, 1, &[], &[5]),
        (
            "Classic burger",
            "Beef, cheddar, pickles, brioche",
            4,
            1_490,
            1,
            &[],
            &[3, 4, 5],
        ),
        (
            "Veggie burger",
            "Black bean patty, slaw",
            4,
            1_390,
            1,
            &[],
            &[4, 5],
        ),
        (
            "Steak frites",
            "Flat iron steak, herb butter",
            4,
            2_450,
            1,
            &[],
            &[3, 4],
        ),
        (
            "Chicken schnitzel",
            "Lemon, caper butter",
            4,
            1_790,
            1,
            &[],
            &[4],
        ),
        (
            "Mushroom risotto",
            "Porcini, parmesan",
            4,
            1_650,
            1,
            &[],
            &[],
        ),
        (
            "Caesar salad",
            "Romaine, anchovy, croutons",
            4,
            1_290,
            1,
            &[],
            &[5],
        ),
        (
            "Fish & chips",
            "Beer batter, mushy peas",
            4,
            1_690,
            1,
            &[],
            &[],
        ),
        ("Soup of the day", "Ask your server", 4, 790, 1, &[], &[]),
        (
            "Pho bo",
            "Beef broth, rice noodles, herbs",
            4,
            1_450,
            1,
            &[],
            &[],
        ),
        ("Cheesecake", "New York style", 5, 650, 1, &[], &[]),
        (
            "Chocolate fondant",
            "Warm, with vanilla ice cream",
            5,
            790,
            1,
            &[],
            &[],
        ),
        ("Apple crumble", "Cinnamon, custard", 5, 690, 1, &[], &[]),
        ("Ice cream", "Three scoops", 5, 590, 1, &[], &[]),
        ("Lager", "Local, 0.4 l draught", 6, 480, 2, &[], &[]),
        ("IPA", "Hazy, 0.4 l draught", 6, 560, 2, &[], &[]),
        ("Alcohol-free beer", "0.33 l bottle", 6, 420, 1, &[], &[]),
        ("House red", "Tempranillo", 6, 590, 2, glass, &[]),
        ("House white", "Grüner Veltliner", 6, 590, 2, glass, &[]),
        ("Prosecco", "Glass 0.1 l", 6, 650, 2, &[], &[]),
        (
            "Aperol spritz",
            "Aperol, prosecco, soda",
            6,
            850,
            2,
            &[],
            &[6],
        ),
    ];
    let mut items = Vec::new();
    for (i, (name, description, category, price, tax, variants, item_groups)) in
        rows.iter().enumerate()
    {
        let id = i as u128 + 1;
        items.push(Item {
            id: ItemId(id),
            name: (*name).into(),
            description: (*description).into(),
            category: CategoryId(*category),
            sku: Some(format!("DEMO-{id:03}")),
            barcode: None,
            price: eur(*price),
            // Delivery partners take a cut: delivery prices are 15% higher, rounded to 10 cents.
            channel_prices: vec![(Channel::Delivery, eur((price * 115 / 100 + 5) / 10 * 10))],
            tax_category: TaxCategoryId(*tax),
            variants: variants
                .iter()
                .enumerate()
                .map(|(v, (vname, delta))| Variant {
                    id: VariantId(id * 10 + v as u128 + 1),
                    name: (*vname).into(),
                    price_delta: eur(*delta),
                })
                .collect(),
            modifier_groups: item_groups.iter().map(|g| ModifierGroupId(*g)).collect(),
            available: true,
        });
    }
    let mut commands = vec![
        MenuCommand::PutSettings(Settings {
            name: "Bistro Lumen".into(),
            currency: Currency::from_code("EUR").unwrap_or_else(|_| unreachable_currency()),
            price_mode: PriceMode::Inclusive,
        }),
        MenuCommand::PutTaxCategory(food),
        MenuCommand::PutTaxCategory(alcohol),
    ];
    commands.extend(categories.iter().map(|(id, name, station)| {
        MenuCommand::PutCategory(Category {
            id: CategoryId(*id),
            name: (*name).into(),
            station: *station,
        })
    }));
    commands.extend(groups.iter().cloned().map(MenuCommand::PutModifierGroup));
    commands.extend(items.iter().cloned().map(MenuCommand::PutItem));
    Menu {
        commands,
        items,
        groups,
    }
}

/// A valid selection of `item`: a variant if it has any, and the fewest modifiers each
/// group requires, sometimes one more.
fn choose(dice: &mut Dice, item: &Item, groups: &[ModifierGroup]) -> Selection {
    let variant = (!item.variants.is_empty())
        .then(|| item.variants[dice.below(item.variants.len() as u64) as usize].id);
    let mut modifiers = Vec::new();
    for gid in &item.modifier_groups {
        let Some(g) = groups.iter().find(|g| g.id == *gid) else {
            continue;
        };
        let want = if g.min < g.max && dice.chance(30) {
            g.min + 1
        } else {
            g.min
        };
        let start = dice.below(g.options.len() as u64) as usize;
        for k in 0..want as usize {
            modifiers.push(g.options[(start + k) % g.options.len()].id);
        }
    }
    Selection {
        item: item.id,
        variant,
        modifiers,
        quantity: if dice.chance(15) { 2 } else { 1 },
    }
}

/// What was seeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seeded {
    pub items: usize,
    pub orders: u64,
    pub entries: u64,
}

/// Sets up the demo restaurant in an empty node and trades a week up to `now_millis`.
pub fn seed<S: PosStore>(svc: &mut PosService<S>, now_millis: u64) -> Result<Seeded, NodeError> {
    if svc.ledger().head().size() > 0 {
        return Err(NodeError::BadRequest(
            "the demo is seeded into a new, empty node only".into(),
        ));
    }
    let week_ago = now_millis - 7 * DAY;
    let mut request_id = 0u128;
    let mut next = || {
        request_id += 1;
        request_id
    };
    let run = |svc: &mut PosService<S>, batch: Vec<Request>, at: u64| -> Result<(), NodeError> {
        for r in svc.execute(batch, at) {
            r?;
        }
        Ok(())
    };
    // Staff first: the owner sets up with nobody logged in, then adds the others.
    let owner = Actor {
        staff: StaffId(1),
        role: Role::Owner,
    };
    let mut setup = Vec::new();
    for (id, name, role, pin) in STAFF {
        let actor = if id == 1 { None } else { Some(owner) };
        setup.push(Request {
            id: next(),
            action: Action::Staff(StaffCommand::Put(StaffMember {
                id: StaffId(id),
                name: name.into(),
                role,
                active: true,
            })),
            actor,
        });
        setup.push(Request {
            id: next(),
            action: Action::Staff(StaffCommand::SetPin {
                staff: StaffId(id),
                pin: pin.into(),
            }),
            actor,
        });
    }
    run(svc, setup, week_ago)?;
    let menu = menu();
    let setup = menu
        .commands
        .iter()
        .cloned()
        .map(|c| Request {
            id: next(),
            action: Action::Menu(c),
            actor: Some(owner),
        })
        .collect();
    run(svc, setup, week_ago)?;
    // The floor: eight tables in the dining room, four on the terrace.
    let setup = (1..=TABLES)
        .map(|n| {
            Ok(Request {
                id: next(),
                action: Action::Floor(FloorCommand::PutTable(Table {
                    id: table_id(n),
                    name: format!("T{n}"),
                    seats: if n % 3 == 0 {
                        6
                    } else if n % 2 == 0 {
                        4
                    } else {
                        2
                    },
                    area: if n <= 8 { "Dining room" } else { "Terrace" }.into(),
                    active: true,
                    token: crate::grpc::new_table_token()?,
                    location: None,
                })),
                actor: Some(owner),
            })
        })
        .collect::<Result<_, NodeError>>()?;
    run(svc, setup, week_ago)?;
    let inventory = |svc: &mut PosService<S>,
                     next: &mut dyn FnMut() -> u128,
                     commands: Vec<InventoryCommand>,
                     actor: Actor,
                     at: u64| {
        let batch = commands
            .into_iter()
            .map(|c| Request {
                id: next(),
                action: Action::Inventory(c),
                actor: Some(actor),
            })
            .collect();
        run(svc, batch, at)
    };
    inventory(svc, &mut next, stock::set_up(&menu.items)?, owner, week_ago)?;

    let mut dice = Dice(0x005e_ed0f_b157_u64 ^ 0x9e37_79b9_7f4a_7c15);
    let cashier = Actor {
        staff: StaffId(3),
        role: Role::Cashier,
    };
    let server = Actor {
        staff: StaffId(4),
        role: Role::Server,
    };
    let kitchen = Actor {
        staff: StaffId(5),
        role: Role::Kitchen,
    };
    let manager = Actor {
        staff: StaffId(2),
        role: Role::Manager,
    };
    let drawer_req = |id: u128, drawer: DrawerId, command: DrawerCommand, actor: Actor| Request {
        id,
        action: Action::Drawer {
            drawer: Some(drawer),
            command,
        },
        actor: Some(actor),
    };
    let mut orders = 0u64;
    for day in 0..7u64 {
        let opening = week_ago + day * DAY + 8 * 60 * 60 * 1000;
        // The cashier counts a float of 200.00 into the front drawer before opening.
        let till = DrawerId((0xd7a3u128 << 64) | u128::from(day));
        let open_till = DrawerCommand::Open {
            name: "front".into(),
            float: eur(20_000),
            location: None,
        };
        run(
            svc,
            vec![drawer_req(next(), till, open_till, cashier)],
            opening - 30 * 60 * 1000,
        )?;
        inventory(
            svc,
            &mut next,
            stock::morning(day)?,
            manager,
            opening - 60 * 60 * 1000,
        )?;
        let count = 60 + dice.below(40);
        for n in 0..count {
            // Spread over 08:00-22:00, in order.
            let at = opening + n * (14 * 60 * 60 * 1000) / count;
            orders += 1;
            let order = OrderId((0xde30u128 << 64) | u128::from(orders));
            let (channel, kind, actor, number) = match dice.below(20) {
                0..=9 => {
                    let table = 1 + dice.below(u64::from(TABLES)) as u32;
                    (
                        Channel::Table,
                        OrderKind::DineIn {
                            table: Some(table_id(table)),
                            guests: 1 + dice.below(4) as u32,
                        },
                        server,
                        format!("T{table}-{orders}"),
                    )
                }
                10..=16 => (
                    Channel::Counter,
                    OrderKind::Takeaway,
                    cashier,
                    format!("C-{orders}"),
                ),
                _ => (
                    Channel::Delivery,
                    OrderKind::Delivery {
                        address: format!("{} Market Street", 1 + dice.below(200)),
                    },
                    cashier,
                    format!("D-{orders}"),
                ),
            };
            let guests = match kind {
                OrderKind::DineIn { guests, .. } => guests,
                _ => 1,
            };
            let source = if channel == Channel::Delivery {
                Source::Aggregator(
                    ["grabfood", "foodpanda", "ubereats"][dice.below(3) as usize].into(),
                )
            } else {
                Source::Register
            };
            let order_req = |id: u128, command: OrderAction, actor: Actor| Request {
                id,
                action: Action::Order { order, command },
                actor: Some(actor),
            };
            let mut batch = vec![order_req(
                next(),
                OrderAction::Command(Command::Open {
                    number,
                    channel,
                    kind,
                    source,
                    currency: eur(0).currency(),
                    mode: PriceMode::Inclusive,
                    location: None,
                }),
                actor,
            )];
            let lines = 1 + dice.below(5);
            for l in 0..lines {
                let item = &menu.items[dice.below(menu.items.len() as u64) as usize];
                let line = LineId((u128::from(orders) << 8) | u128::from(l));
                let seat = (guests > 1).then(|| 1 + (l as u32 % guests));
                batch.push(order_req(
                    next(),
                    OrderAction::AddItem(NewLine {
                        line,
                        selection: choose(&mut dice, item, &menu.groups),
                        seat,
                        course: 1,
                        note: String::new(),
                    }),
                    actor,
                ));
            }
            if lines > 1 && dice.chance(5) {
                batch.push(order_req(
                    next(),
                    OrderAction::Command(Command::VoidLine {
                        line: LineId(u128::from(orders) << 8),
                        reason: "guest changed their mind".into(),
                    }),
                    actor,
                ));
            }
            batch.push(order_req(
                next(),
                OrderAction::Command(Command::Send { lines: vec![] }),
                actor,
            ));
            if dice.chance(6) {
                batch.push(order_req(
                    next(),
                    OrderAction::Command(Command::ApplyDiscount {
                        discount: mpos_domain::ids::DiscountId(u128::from(orders)),
                        target: mpos_domain::order::DiscountTarget::Order,
                        kind: mpos_domain::order::DiscountKind::Percent(100_000),
                        reason: "regular guest".into(),
                    }),
                    manager,
                ));
            }
            run(svc, batch, at)?;
            // The kitchen bumps what it made, a few minutes later.
            let made: Vec<LineId> = svc
                .order(order)?
                .map(|o| {
                    o.lines
                        .iter()
                        .filter(|l| l.in_kitchen() && l.ready_at.is_none())
                        .map(|l| l.id)
                        .collect()
                })
                .unwrap_or_default();
            if !made.is_empty() {
                let bump = Command::Bump { lines: made };
                run(
                    svc,
                    vec![order_req(next(), OrderAction::Command(bump), kitchen)],
                    at + (8 + dice.below(10)) * 60 * 1000,
                )?;
            }
            // Pay: the whole balance, cash or card, sometimes with a tip.
            let due = svc
                .order(order)?
                .map(|o| o.totals())
                .transpose()
                .map_err(|e| NodeError::Refused(e.into()))?
                .map(|t| t.balance);
            let Some(due) = due.filter(|d| d.minor() > 0) else {
                continue;
            };
            let tip = if channel == Channel::Table && dice.chance(40) {
                eur(i64::from(dice.below(3) as u32 + 1) * 100)
            } else {
                eur(0)
            };
            let tender = if dice.chance(35) {
                Tender::Cash
            } else {
                Tender::Card {
                    reference: format!("AUTH {:06}", dice.below(1_000_000)),
                }
            };
            let cash_received = matches!(tender, Tender::Cash)
                .then(|| eur((due.minor() + tip.minor() + 999) / 1_000 * 1_000));
            let pay = Command::TakePayment {
                payment: PaymentId(u128::from(orders)),
                tender,
                amount: due,
                tip,
                cash_received,
                drawer: None,
            };
            run(
                svc,
                vec![order_req(next(), OrderAction::Command(pay), actor)],
                at + 20 * 60 * 1000,
            )?;
        }
        // Closing: the cashier counts the drawer (now and then a little short), then the
        // manager runs the Z-report.
        let closing = opening + 15 * 60 * 60 * 1000;
        let expected = svc
            .ledger()
            .store()
            .drawer(till)?
            .ok_or_else(|| NodeError::Internal("the demo drawer is missing".into()))?
            .expected()?;
        let short = if dice.chance(30) { 500 } else { 0 };
        let count_till = DrawerCommand::Close {
            counted: eur(expected.minor() - short),
        };
        run(
            svc,
            vec![drawer_req(next(), till, count_till, cashier)],
            closing,
        )?;
        run(
            svc,
            vec![Request {
                id: next(),
                action: Action::CloseDay,
                actor: Some(manager),
            }],
            closing + 5 * 60 * 1000,
        )?;
    }
    inventory(svc, &mut next, stock::today()?, manager, now_millis)?;
    // Today's drawer is open for the walk-through's cash sales.
    let open_till = DrawerCommand::Open {
        name: "front".into(),
        float: eur(20_000),
        location: None,
    };
    run(
        svc,
        vec![drawer_req(
            next(),
            DrawerId((0xd7a3u128 << 64) | 7),
            open_till,
            cashier,
        )],
        now_millis,
    )?;
    Ok(Seeded {
        items: menu.items.len(),
        orders,
        entries: svc.ledger().head().size(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DataDir, Ledger};
    use mpos_domain::order::Status;
    use mpos_store::InventoryStore;

    #[test]
    fn the_demo_restaurant_trades_a_week_and_its_ledger_verifies() {
        let dir = tempfile::tempdir().unwrap();
        let data = DataDir::open_or_create(dir.path()).unwrap();
        let store = data.store().unwrap();
        let mut svc = PosService::new(Ledger::open(store, data.into_identity()).unwrap());
        let now = 1_764_000_000_000;
        let seeded = seed(&mut svc, now).unwrap();
        assert_eq!(seeded.items, 40);
        assert!(seeded.orders >= 7 * 60, "{seeded:?}");
        let store = svc.ledger().store();
        assert_eq!(store.staff().unwrap().len(), 5);
        assert_eq!(store.search_items("flat", 5).unwrap()[0].name, "Flat white");
        let first = svc.order(OrderId((0xde30u128 << 64) | 1)).unwrap().unwrap();
        assert_eq!(first.status, Status::Closed);
        let (file, _) = svc.ledger().export(Vec::new()).unwrap();
        let summary =
            mpos_ledger::verify(file.as_slice(), &mpos_ledger::VerifyOptions::default()).unwrap();
        assert_eq!(summary.entries, seeded.entries);
        // The bistro's beans: what it opened with, less the split bag, less what every
        // order's lines took when they were sent.
        let beans = mpos_domain::ids::StockItemId(0x570c << 64 | 1);
        let taken: i64 = (1..=seeded.orders)
            .flat_map(|n| {
                store
                    .order_stock(OrderId((0xde30u128 << 64) | u128::from(n)))
                    .unwrap()
            })
            .filter(|(at, item, _)| *at == stock::BISTRO && *item == beans)
            .map(|(_, _, q)| q.milli)
            .sum();
        assert!(taken > 1_000_000, "the week's coffee used beans: {taken}");
        let level = store.stock_level(stock::BISTRO, beans).unwrap();
        assert_eq!(level.milli, 8_000_000 - 250_000 - taken);
        assert_eq!(store.locations().unwrap().len(), 3);
        let transit = store.transfers_in_transit().unwrap();
        assert_eq!(transit.len(), 1, "{transit:?}");
        assert_eq!(transit[0].to, stock::BISTRO);
        assert_eq!(store.purchase_orders().unwrap().len(), 2);
        assert!(seed(&mut svc, now).is_err(), "seeding twice is refused");
    }
}
