//! The menu through the node: set up by commands, sold by selection, searched, 86'd.

use mpos_domain::catalog::{
    Category, Channel, Item, ModifierGroup, ModifierOption, Selection, TaxCategory, Variant,
};
use mpos_domain::ids::{
    CategoryId, ItemId, LineId, ModifierGroupId, ModifierId, OrderId, TaxCategoryId, VariantId,
};
use mpos_domain::menu::{MenuCommand, Settings};
use mpos_domain::order::{Command, OrderKind, Source};
use mpos_domain::{Currency, PriceMode, Refusal, TaxRate};
use mpos_node::NodeError;
use mpos_node::pos::{Action, NewLine, OrderAction, Request};
use mpos_store::PosStore;

use crate::orders::{CASHIER, MANAGER, eur, req, staffed as service};

pub(crate) fn menu(id: u128, cmd: MenuCommand) -> Request {
    Request {
        id,
        action: Action::Menu(cmd),
        actor: Some(MANAGER),
    }
}

pub(crate) fn cafe() -> Vec<MenuCommand> {
    vec![
        MenuCommand::PutSettings(Settings {
            name: "Cafe Lumen".into(),
            currency: Currency::from_code("EUR").unwrap(),
            price_mode: PriceMode::Inclusive,
        }),
        MenuCommand::PutTaxCategory(TaxCategory {
            id: TaxCategoryId(1),
            name: "Food".into(),
            rates: vec![TaxRate::from_ppm(70_000)],
        }),
        MenuCommand::PutCategory(Category {
            id: CategoryId(1),
            name: "Coffee".into(),
            station: None,
        }),
        MenuCommand::PutModifierGroup(ModifierGroup {
            id: ModifierGroupId(1),
            name: "Milk".into(),
            min: 1,
            max: 1,
            options: vec![
                ModifierOption {
                    id: ModifierId(1),
                    name: "Whole".into(),
                    price_delta: eur(0),
                },
                ModifierOption {
                    id: ModifierId(2),
                    name: "Oat".into(),
                    price_delta: eur(50),
                },
            ],
        }),
        MenuCommand::PutItem(Item {
            id: ItemId(1),
            name: "Flat white".into(),
            description: "Double ristretto, silky milk".into(),
            category: CategoryId(1),
            sku: Some("COF-FW".into()),
            barcode: Some("4006381333931".into()),
            price: eur(380),
            channel_prices: vec![(Channel::Delivery, eur(450))],
            tax_category: TaxCategoryId(1),
            variants: vec![
                Variant {
                    id: VariantId(1),
                    name: "Regular".into(),
                    price_delta: eur(0),
                },
                Variant {
                    id: VariantId(2),
                    name: "Large".into(),
                    price_delta: eur(60),
                },
            ],
            modifier_groups: vec![ModifierGroupId(1)],
            available: true,
        }),
    ]
}

pub(crate) fn add_item(
    id: u128,
    order: u128,
    line: u128,
    variant: u128,
    modifiers: &[u128],
) -> Request {
    Request {
        id,
        action: Action::Order {
            order: OrderId(order),
            command: OrderAction::AddItem(NewLine {
                line: LineId(line),
                selection: Selection {
                    item: ItemId(1),
                    variant: Some(VariantId(variant)),
                    modifiers: modifiers.iter().map(|m| ModifierId(*m)).collect(),
                    quantity: 2,
                },
                seat: None,
                course: 1,
                note: String::new(),
            }),
        },
        actor: Some(CASHIER),
    }
}

pub(crate) fn open(id: u128, order: u128) -> Request {
    req(
        id,
        order,
        Command::Open {
            number: format!("C-{order}"),
            channel: Channel::Counter,
            kind: OrderKind::Takeaway,
            source: Source::Register,
            currency: Currency::from_code("EUR").unwrap(),
            mode: PriceMode::Inclusive,
            location: None,
        },
        CASHIER,
    )
}

#[test]
fn a_menu_set_up_by_commands_prices_lines_on_the_node_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut svc = service(dir.path());
    // Nothing can be priced before the restaurant has a currency.
    let early = svc
        .execute_one(menu(1, cafe()[1].clone()), 1_000)
        .unwrap_err();
    assert!(
        early.to_string().contains("set up the restaurant"),
        "{early}"
    );
    for (i, cmd) in cafe().into_iter().enumerate() {
        svc.execute_one(menu(10 + i as u128, cmd), 1_000).unwrap();
    }
    svc.execute_one(open(20, 7), 2_000).unwrap();
    let added = svc.execute_one(add_item(21, 7, 1, 2, &[2]), 2_000).unwrap();
    let line = &added.order.unwrap().lines[0];
    assert_eq!(line.item.unit_price, eur(380 + 60 + 50));
    assert_eq!(line.item.variant.as_ref().unwrap().1, "Large");
    assert_eq!(line.item.tax_rates, vec![TaxRate::from_ppm(70_000)]);

    // A cashier cannot edit the menu; a bad selection is refused precisely.
    let err = svc
        .execute_one(
            Request {
                actor: Some(CASHIER),
                ..menu(30, cafe()[4].clone())
            },
            3_000,
        )
        .unwrap_err();
    assert!(err.to_string().contains("may not"), "{err}");
    let err = svc
        .execute_one(add_item(31, 7, 2, 2, &[]), 3_000)
        .unwrap_err();
    assert!(
        matches!(err, NodeError::Refused(Refusal::ModifierCount { .. })),
        "{err}"
    );

    drop(svc);
    let mut svc = service(dir.path());
    let store = svc.ledger().store();
    assert_eq!(store.settings().unwrap().unwrap().name, "Cafe Lumen");
    let MenuCommand::PutItem(original) = cafe()[4].clone() else {
        unreachable!()
    };
    assert_eq!(store.item(ItemId(1)).unwrap().unwrap(), original);
    for q in [
        "flat",
        "FLAT Wh",
        "ristretto",
        "COF-FW",
        "4006381333931",
        "silky",
    ] {
        let found = store.search_items(q, 10).unwrap();
        assert_eq!(
            found.iter().map(|i| i.id).collect::<Vec<_>>(),
            vec![ItemId(1)],
            "{q}"
        );
    }
    assert!(store.search_items("latte", 10).unwrap().is_empty());
    assert!(store.search_items("\"*()", 10).unwrap().is_empty());

    // 86 it: the next sale is refused, the line already sold stays.
    svc.execute_one(
        Request {
            actor: Some(CASHIER),
            ..menu(
                40,
                MenuCommand::SetAvailable {
                    item: ItemId(1),
                    available: false,
                },
            )
        },
        4_000,
    )
    .unwrap();
    let err = svc
        .execute_one(add_item(41, 7, 3, 1, &[1]), 4_000)
        .unwrap_err();
    assert!(
        matches!(err, NodeError::Refused(Refusal::ItemUnavailable { .. })),
        "{err}"
    );
    assert_eq!(svc.order(OrderId(7)).unwrap().unwrap().lines.len(), 1);
}

#[test]
fn a_menu_change_is_seen_by_the_requests_after_it_in_the_same_batch() {
    let dir = tempfile::tempdir().unwrap();
    let mut svc = service(dir.path());
    let mut batch: Vec<Request> = cafe()
        .into_iter()
        .enumerate()
        .map(|(i, c)| menu(i as u128 + 1, c))
        .collect();
    batch.push(open(20, 7));
    batch.push(add_item(21, 7, 1, 1, &[1]));
    batch.push(Request {
        actor: Some(CASHIER),
        ..menu(
            22,
            MenuCommand::SetAvailable {
                item: ItemId(1),
                available: false,
            },
        )
    });
    batch.push(add_item(23, 7, 2, 1, &[1]));
    let results = svc.execute(batch, 1_000);
    assert!(results[..8].iter().all(|r| r.is_ok()), "{results:?}");
    assert!(matches!(
        results[8],
        Err(NodeError::Refused(Refusal::ItemUnavailable { .. }))
    ));
    assert!(
        !svc.ledger()
            .store()
            .item(ItemId(1))
            .unwrap()
            .unwrap()
            .available
    );
    assert_eq!(svc.order(OrderId(7)).unwrap().unwrap().lines.len(), 1);
}
