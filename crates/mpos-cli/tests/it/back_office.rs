//! A restaurant set up from nothing with the command line only: `mpos setup`, then staff,
//! taxes, categories, modifiers, items, tables and 86 through a real `mpos serve`, with the
//! roles the node enforces, and everything still there after a `kill -9`.

use std::path::Path;

use mpos_proto::v1;
use serde_json::Value;
use tonic::Code;

use crate::serve::{Server, authed, cli, client, start};
use crate::support::{run, s};

/// A terminal: the node it talks to and its own saved session.
struct Terminal {
    addr: String,
    session: std::path::PathBuf,
}

impl Terminal {
    fn run(&self, args: &[&str]) -> (i32, String, String) {
        cli(&self.addr, &self.session, args)
    }

    fn ok(&self, args: &[&str]) -> String {
        let (code, out, err) = self.run(args);
        assert_eq!(code, 0, "mpos {args:?}:\n{out}\n{err}");
        out
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        let out = self.ok(&all);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
    }

    /// The command is refused with exit 2 and this in its message.
    fn refused(&self, args: &[&str], says: &str) {
        let (code, out, err) = self.run(args);
        assert_eq!(code, 2, "mpos {args:?} should fail:\n{out}\n{err}");
        assert!(err.contains(says), "mpos {args:?}: {err}");
    }
}

fn terminal(server: &Server, dir: &Path, name: &str) -> Terminal {
    Terminal {
        addr: server.addr.clone(),
        session: dir.join(format!("{name}.json")),
    }
}

fn setup(data: &Path, pin: &str) -> (i32, String, String) {
    run(&[
        "setup",
        "--data",
        s(data),
        "--restaurant",
        "Bistro Nord",
        "--currency",
        "eur",
        "--owner",
        "Olga Owner",
        "--pin",
        pin,
    ])
}

fn item<'a>(items: &'a Value, name: &str) -> &'a Value {
    items["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {items}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restaurant_set_up_and_run_from_the_command_line() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("node");

    let (code, _, err) = setup(&data, "12");
    assert_eq!(code, 2);
    assert!(err.contains("PIN is 4 to 8 digits"), "{err}");
    let (code, out, err) = setup(&data, "2468");
    assert_eq!(code, 0, "{out} {err}");
    let (code, _, err) = setup(&data, "1111");
    assert_eq!(code, 2);
    assert!(err.contains("already set up"), "{err}");

    let mut server = start(&data);
    let owner = terminal(&server, tmp.path(), "owner");
    owner.ok(&["login", "--staff", "olga", "--pin", "2468"]);

    // Staff.
    owner.ok(&[
        "staff",
        "add",
        "Carl Cashier",
        "--role",
        "cashier",
        "--pin",
        "1111",
    ]);
    owner.ok(&[
        "staff",
        "add",
        "Max Manager",
        "--role",
        "manager",
        "--pin",
        "3333",
    ]);
    owner.ok(&["staff", "add", "Kim Kitchen", "--role", "kitchen"]);
    owner.refused(
        &[
            "staff", "add", "Nobody", "--role", "server", "--pin", "12ab",
        ],
        "PIN is 4 to 8 digits",
    );
    owner.ok(&["staff", "pin", "kim", "--pin", "5555"]);

    // The menu: two taxes, two categories, a modifier group, items with variants and a
    // delivery price.
    owner.ok(&["menu", "tax", "Food", "--rate", "7"]);
    owner.ok(&["menu", "tax", "Drinks", "--rate", "19"]);
    owner.refused(&["menu", "tax", "Odd", "--rate", "seven"], "tax rate");
    owner.ok(&["menu", "category", "Mains", "--station", "2"]);
    owner.ok(&["menu", "category", "Drinks", "--no-station"]);
    owner.ok(&[
        "menu",
        "modifiers",
        "Sides",
        "--min",
        "1",
        "--max",
        "2",
        "--option",
        "Fries",
        "--option",
        "Salad=1.50",
    ]);
    owner.refused(
        &[
            "menu",
            "modifiers",
            "Broken",
            "--min",
            "3",
            "--max",
            "1",
            "--option",
            "A",
        ],
        "refused",
    );
    owner.ok(&[
        "menu",
        "add-item",
        "Burger",
        "--category",
        "Mains",
        "--tax",
        "Food",
        "--price",
        "12.50",
        "--sku",
        "BRG1",
        "--modifiers",
        "Sides",
        "--variant",
        "Single",
        "--variant",
        "Double=3.00",
        "--description",
        "Beef, brioche",
    ]);
    owner.ok(&[
        "menu",
        "add-item",
        "Cola",
        "--category",
        "Drinks",
        "--tax",
        "Drinks",
        "--price",
        "3.20",
        "--price-on",
        "delivery=3.80",
    ]);
    owner.refused(
        &[
            "menu",
            "add-item",
            "Soup",
            "--category",
            "Starters",
            "--tax",
            "Food",
            "--price",
            "5",
        ],
        "no category called \"Starters\"",
    );
    owner.refused(
        &[
            "menu",
            "add-item",
            "Free lunch",
            "--category",
            "Mains",
            "--tax",
            "Food",
            "--price=-1",
        ],
        "negative price",
    );
    owner.ok(&["menu", "edit-item", "BRG1", "--price", "13.00"]);

    let menu = owner.json(&["menu", "show"]);
    assert_eq!(menu["settings"]["name"], "Bistro Nord");
    assert_eq!(menu["settings"]["currency"], "EUR");
    let taxes: Vec<_> = menu["tax_categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap(),
                t["rates_ppm"][0].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(taxes, [("Drinks", 190_000), ("Food", 70_000)]);
    let sides = &menu["modifier_groups"][0];
    assert_eq!(
        (sides["min"].as_u64(), sides["max"].as_u64()),
        (Some(1), Some(2))
    );
    assert_eq!(sides["options"][1]["price_delta_minor"], 150);
    let mains = owner.json(&["menu", "items", "mains"]);
    let burger = item(&mains, "Burger");
    assert_eq!(burger["price_minor"], 1300);
    assert_eq!(burger["sku"], "BRG1");
    assert_eq!(burger["description"], "Beef, brioche");
    assert_eq!(burger["variants"][1]["price_delta_minor"], 300);

    // The floor.
    owner.ok(&["table", "add", "T1", "--seats", "2", "--area", "Inside"]);
    owner.ok(&["table", "add", "T2", "--seats", "4", "--area", "Inside"]);
    owner.ok(&["table", "add", "P1", "--seats", "6", "--area", "Patio"]);
    owner.refused(&["table", "add", "t1"], "already called T1");
    owner.refused(
        &["table", "add", "T9", "--seats", "0"],
        "between 1 and 100 seats",
    );

    // A cashier sells but does not run the back office.
    let carl = terminal(&server, tmp.path(), "carl");
    carl.ok(&["login", "--staff", "carl", "--pin", "1111"]);
    carl.refused(
        &[
            "menu",
            "add-item",
            "Tea",
            "--category",
            "Drinks",
            "--tax",
            "Drinks",
            "--price",
            "2",
        ],
        "not allowed",
    );
    carl.refused(&["staff", "add", "Eve", "--role", "owner"], "not allowed");
    carl.refused(&["table", "add", "T3"], "not allowed");
    carl.refused(&["staff", "list"], "not allowed");
    // Anyone who sells may 86 an item the kitchen ran out of.
    carl.ok(&["menu", "86", "cola"]);
    carl.ok(&["order", "open", "--table", "T2", "--guests", "3"]);
    carl.refused(&["order", "add", "last", "Cola"], "sold out");
    carl.ok(&["menu", "un86", "Cola"]);
    carl.ok(&["order", "add", "last", "Cola"]);
    carl.ok(&[
        "order",
        "add",
        "last",
        "Burger",
        "--variant",
        "double",
        "--modifier",
        "fries",
        "--modifier",
        "salad",
    ]);
    let floor = carl.json(&["table", "list"]);
    let tables: Vec<(&str, usize, i64)> = floor["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let orders = t["orders"].as_array().unwrap();
            let due = orders
                .iter()
                .map(|o| o["balance_minor"].as_i64().unwrap())
                .sum();
            (t["name"].as_str().unwrap(), orders.len(), due)
        })
        .collect();
    // 3.20 + 13.00 + 3.00 + 1.50, by area then name.
    assert_eq!(tables, [("T1", 0, 0), ("T2", 1, 2070), ("P1", 0, 0)]);
    let receipt = carl.ok(&["order", "receipt", "last"]);
    assert!(receipt.contains("Table T2, 3 guests"), "{receipt}");

    // Over gRPC: malformed back-office requests are refused with a precise status.
    let mut c = client(&server.addr).await;
    let token = c
        .login(v1::LoginRequest {
            approval: false,
            staff: owner_id(&owner),
            pin: "2468".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .token;
    let no_change = c
        .change_menu(authed(
            &token,
            v1::ChangeMenuRequest {
                request_id: uuid::Uuid::now_v7().as_bytes().to_vec(),
                change: None,
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(no_change.code(), Code::InvalidArgument);
    let bad_id = c
        .put_table(authed(
            &token,
            v1::PutTableRequest {
                new_link: false,
                request_id: uuid::Uuid::now_v7().as_bytes().to_vec(),
                table: Some(v1::Table {
                    id: vec![1, 2, 3],
                    name: "T5".into(),
                    seats: 2,
                    ..Default::default()
                }),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(bad_id.code(), Code::InvalidArgument);
    assert!(
        bad_id.message().contains("table.id"),
        "{}",
        bad_id.message()
    );
    let unknown = c
        .get_item(authed(&token, v1::GetItemRequest { item: vec![9; 16] }))
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
    // A retried put is applied once and answers like the first.
    let put = v1::PutTableRequest {
        new_link: false,
        request_id: uuid::Uuid::now_v7().as_bytes().to_vec(),
        table: Some(v1::Table {
            token: String::new(),
            location: Vec::new(),
            id: uuid::Uuid::now_v7().as_bytes().to_vec(),
            name: "Bar 1".into(),
            seats: 1,
            area: "Bar".into(),
            active: true,
        }),
    };
    let first = c
        .put_table(authed(&token, put.clone()))
        .await
        .unwrap()
        .into_inner();
    let retry = c.put_table(authed(&token, put)).await.unwrap().into_inner();
    assert!(!first.replayed && retry.replayed);
    assert_eq!(first.last_seq, retry.last_seq);

    // A table out of service takes no new orders; staff who left cannot log in, and
    // their open session stops working.
    owner.ok(&["table", "edit", "T1", "--out-of-service"]);
    carl.refused(&["order", "open", "--table", "T1"], "out of service");
    owner.ok(&["staff", "edit", "carl", "--left"]);
    carl.refused(&["order", "open"], "log in again");
    let staff = owner.json(&["staff", "list"]);
    let carl_row = staff["staff"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "Carl Cashier")
        .unwrap();
    assert_eq!(carl_row["active"], false);
    carl.refused(
        &["login", "--staff", "carl", "--pin", "1111"],
        "no staff member",
    );
    // Only an owner appoints owners.
    let max = terminal(&server, tmp.path(), "max");
    max.ok(&["login", "--staff", "max", "--pin", "3333"]);
    max.refused(&["staff", "edit", "kim", "--role", "owner"], "not allowed");
    max.ok(&["menu", "edit-item", "Cola", "--rename", "Cola Zero"]);

    // Everything acknowledged survives kill -9.
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    drop(server);
    let server = start(&data);
    let owner = Terminal {
        addr: server.addr.clone(),
        session: owner.session,
    };
    owner.ok(&["login", "--staff", "olga", "--pin", "2468"]);
    let drinks = owner.json(&["menu", "items", "Drinks"]);
    assert_eq!(item(&drinks, "Cola Zero")["price_minor"], 320);
    let floor = owner.json(&["table", "list", "--all"]);
    let names: Vec<(&str, bool, usize)> = floor["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap(),
                t["active"].as_bool().unwrap(),
                t["orders"].as_array().unwrap().len(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            ("Bar 1", true, 0),
            ("T1", false, 0),
            ("T2", true, 1),
            ("P1", true, 0)
        ]
    );
    drop(server);
    let file = tmp.path().join("bistro.mposledger");
    crate::support::ok(&["ledger", "export", "--data", s(&data), "--out", s(&file)]);
    let summary = crate::support::json(&["ledger", "verify", s(&file), "--json"]);
    assert_eq!(summary["status"], "intact", "{summary}");
}

fn owner_id(owner: &Terminal) -> Vec<u8> {
    let session: Value =
        serde_json::from_str(&std::fs::read_to_string(&owner.session).unwrap()).unwrap();
    uuid::Uuid::parse_str(session["staff"].as_str().unwrap())
        .unwrap()
        .as_bytes()
        .to_vec()
}
