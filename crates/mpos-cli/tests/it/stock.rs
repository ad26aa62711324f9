//! Stock across locations from the command line and the register, against a real node:
//! locations, items, recipes and receipts with `mpos stock`; sales taking their recipes
//! when sent (then when closed), a void and a whole refund giving them back; a transfer
//! in transit; a count's variance; the food cost per item; bad input refused with nothing
//! written; and every level still there after a `kill -9`.

use mpos_proto::v1;
use serde_json::{Value, json};

use crate::serve::{authed, cli, client, id, login, open_ticket, pay_ticket, set_up_cafe, start};

/// A location's level of an item in `mpos stock show --json`.
fn level<'a>(view: &'a Value, location: &str, item: &str) -> &'a Value {
    view["levels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["location_name"] == location && l["item_name"] == item)
        .unwrap_or_else(|| panic!("no {item} at {location} in {view}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stock_follows_sales_voids_refunds_and_transfers_across_locations() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("node");
    set_up_cafe(&data);
    let mut server = start(&data);
    let session = tmp.path().join("owner.json");
    let addr = server.addr.clone();
    let run = |args: &[&str]| cli(&addr, &session, args);
    let ok = |args: &[&str]| {
        let (code, out, err) = run(args);
        assert_eq!(code, 0, "mpos {args:?}:\n{out}\n{err}");
        out
    };
    let refused = |args: &[&str], says: &str| {
        let (code, out, err) = run(args);
        assert_eq!(code, 2, "mpos {args:?} should fail:\n{out}\n{err}");
        assert!(err.contains(says), "mpos {args:?}: {err}");
    };
    let show = || -> Value { serde_json::from_str(&ok(&["stock", "show", "--json"])).unwrap() };
    ok(&["login", "--staff", "Ana", "--pin", "4821"]);

    ok(&["stock", "location", "City"]);
    ok(&["stock", "location", "Harbour"]);
    for (name, unit) in [
        ("Milk", "l"),
        ("Oat milk", "l"),
        ("Flour", "kg"),
        ("Butter", "kg"),
    ] {
        ok(&["stock", "item", name, "--unit", unit]);
    }
    ok(&[
        "stock",
        "supplier",
        "Old Mill",
        "--contact",
        "orders@mill.example",
    ]);
    ok(&[
        "stock",
        "recipe",
        "Croissant",
        "--use",
        "Flour=60 g",
        "--use",
        "Butter=20 g",
    ]);
    ok(&["stock", "recipe", "Flat white", "--use", "Milk=180 ml"]);
    ok(&[
        "stock",
        "recipe",
        "Flat white",
        "--modifier",
        "Oat",
        "--use",
        "Oat milk=0.03 l",
    ]);
    // No location to price recipes at until sales take stock from one.
    refused(&["stock", "food-cost"], "sales take no stock yet");
    ok(&["stock", "sales", "City", "--on", "send"]);
    // A bare number is in the item's own unit.
    ok(&[
        "stock",
        "receive",
        "Milk",
        "10",
        "--at",
        "City",
        "--cost",
        "9.00",
        "--supplier",
        "Old Mill",
    ]);
    ok(&[
        "stock", "receive", "Oat milk", "2 l", "--at", "City", "--cost", "5.00",
    ]);
    ok(&[
        "stock", "receive", "Flour", "5 kg", "--at", "City", "--cost", "6.00", "--lot", "F-118",
    ]);
    ok(&[
        "stock", "receive", "Butter", "2000 g", "--at", "City", "--cost", "16.00",
    ]);
    ok(&["stock", "par", "Milk", "12 l", "--at", "City"]);
    let v = show();
    let milk = level(&v, "City", "Milk");
    assert_eq!(
        (milk["quantity"].as_str(), milk["value_minor"].as_i64()),
        (Some("10 l"), Some(900))
    );
    assert_eq!(milk["low"], true, "10 l is below the par of 12 l");
    assert_eq!(level(&v, "City", "Butter")["quantity"], "2 kg");

    // Bad input: a clear error, and nothing written.
    let before = show();
    refused(
        &[
            "stock", "receive", "Milk", "2 kg", "--at", "City", "--cost", "1",
        ],
        "a mass cannot be measured in l",
    );
    refused(
        &[
            "stock", "receive", "Milk", "-1", "--at", "City", "--cost", "1",
        ],
        "must be more than zero",
    );
    refused(
        &[
            "stock", "receive", "Milk", "3 cups", "--at", "City", "--cost", "1",
        ],
        "unknown unit",
    );
    refused(
        &[
            "stock",
            "transfer",
            "--from",
            "City",
            "--to",
            "City",
            "Flour=1 kg",
        ],
        "not to the same one",
    );
    refused(
        &[
            "stock", "waste", "Flour", "1 kg", "--at", "City", "--reason", " ",
        ],
        "a reason is required",
    );
    refused(
        &[
            "stock", "receive", "Milk", "1", "--at", "Nowhere", "--cost", "1",
        ],
        "no location called",
    );
    assert_eq!(show(), before);

    // A ticket sent to the kitchen takes its recipes at City.
    let mut c = client(&server.addr).await;
    let token = login(&mut c, 1, "4821").await;
    open_ticket(&mut c, &token, 7).await;
    assert_eq!(
        level(&show(), "City", "Milk")["quantity"],
        "10 l",
        "nothing taken before the send"
    );
    c.send_order(authed(
        &token,
        v1::SendOrderRequest {
            request_id: id(7_001),
            order: id(7),
            lines: vec![],
        },
    ))
    .await
    .unwrap();
    let v = show();
    assert_eq!(level(&v, "City", "Milk")["quantity"], "9.82 l");
    assert_eq!(level(&v, "City", "Oat milk")["quantity"], "1.97 l");
    // Two croissants: 120 g of flour, 40 g of butter.
    assert_eq!(level(&v, "City", "Flour")["quantity"], "4.88 kg");
    assert_eq!(level(&v, "City", "Butter")["quantity"], "1.96 kg");
    // 180 ml of €0.90/l milk: 16.2 cents, taken at 16.
    assert_eq!(level(&v, "City", "Milk")["value_minor"], 884);

    // Voiding the croissants gives their flour and butter back.
    c.void_line(authed(
        &token,
        v1::VoidLineRequest {
            request_id: id(7_002),
            order: id(7),
            line: id((7 << 8) + 3),
            reason: "burnt".into(),
        },
    ))
    .await
    .unwrap();
    let v = show();
    assert_eq!(level(&v, "City", "Flour")["quantity"], "5 kg");
    assert_eq!(level(&v, "City", "Butter")["quantity"], "2 kg");
    assert_eq!(level(&v, "City", "Milk")["quantity"], "9.82 l");
    // Paid (the voided croissants are not charged), then refunded whole: the milk comes back.
    let paid = c
        .take_payment(authed(
            &token,
            v1::TakePaymentRequest {
                request_id: id(7_003),
                order: id(7),
                payment: id(7_003),
                tender: Some(v1::Tender {
                    kind: Some(v1::tender::Kind::CardReference("T-7".into())),
                }),
                amount: 430,
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(paid.order.unwrap().status, v1::OrderStatus::Closed as i32);
    c.refund(authed(
        &token,
        v1::RefundRequest {
            request_id: id(7_004),
            order: id(7),
            payment: id(7_003),
            amount: 430,
            reason: "spilt".into(),
            drawer: vec![],
        },
    ))
    .await
    .unwrap();
    let v = show();
    assert_eq!(level(&v, "City", "Milk")["quantity"], "10 l");
    assert_eq!(level(&v, "City", "Oat milk")["quantity"], "2 l");

    // Depleting on close: the next ticket takes nothing until it is paid.
    ok(&["stock", "sales", "City", "--on", "close"]);
    open_ticket(&mut c, &token, 8).await;
    assert_eq!(level(&show(), "City", "Flour")["quantity"], "5 kg");
    pay_ticket(&mut c, &token, 8).await;
    let v = show();
    assert_eq!(level(&v, "City", "Flour")["quantity"], "4.88 kg");
    assert_eq!(level(&v, "City", "Milk")["quantity"], "9.82 l");

    // A transfer is in transit until it arrives, and brings its value along.
    let out = ok(&[
        "stock",
        "transfer",
        "--from",
        "City",
        "--to",
        "Harbour",
        "Flour=1 kg",
        "--json",
    ]);
    let sent: Value = serde_json::from_str(&out).unwrap();
    let transfer = sent["id"].as_str().unwrap().to_string();
    let v = show();
    assert_eq!(level(&v, "City", "Flour")["quantity"], "3.88 kg");
    assert_eq!(level(&v, "Harbour", "Flour")["in_transit"], "1 kg");
    assert_eq!(v["in_transit"].as_array().unwrap().len(), 1);
    refused(
        &["stock", "arrive", &transfer, "Flour=1.2 kg"],
        "say why in a note",
    );
    ok(&["stock", "arrive", &transfer]);
    let v = show();
    let harbour = level(&v, "Harbour", "Flour");
    assert_eq!(
        (
            harbour["quantity"].as_str(),
            harbour["value_minor"].as_i64()
        ),
        (Some("1 kg"), Some(120))
    );
    assert!(v["in_transit"].as_array().unwrap().is_empty());
    refused(
        &["stock", "arrive", &transfer, "Flour=1 kg"],
        "already received",
    );

    // A count records the variance against the books.
    let counted: Value = serde_json::from_str(&ok(&[
        "stock", "count", "Flour", "3.8", "--at", "City", "--json",
    ]))
    .unwrap();
    assert_eq!(counted["variance"], "-0.08 kg");

    // The usage report: what the second ticket cost against what it sold for.
    let usage: Value = serde_json::from_str(&ok(&["stock", "usage", "--json"])).unwrap();
    let sold: i64 = usage["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["kind"] == "depleted" || l["kind"] == "restored")
        .map(|l| l["value_minor"].as_i64().unwrap())
        .sum();
    assert_eq!(usage["cost_of_sales_minor"].as_i64().unwrap(), -sold);
    // Milk 16 + oat milk 8 (0.03 l of €2.50/l: 7.5) + flour 14 (0.12 kg at €1.20) + butter 32.
    assert_eq!(usage["cost_of_sales_minor"], 16 + 8 + 14 + 32);
    // Ticket 8 (1,010 with 7% tax inside: 66) is the only sale that stood.
    assert_eq!(usage["net_sales_minor"], 1_010 - 66);

    // Food cost per item, at City's average costs now (after the transfer and the count).
    let food: Value = serde_json::from_str(&ok(&["stock", "food-cost", "--json"])).unwrap();
    assert_eq!(food["location_name"], "City");
    let recipe = |name: &str| -> (i64, i64, i64) {
        let r = food["recipes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("no recipe {name}: {food}"));
        let f = |k: &str| r[k].as_i64().unwrap();
        (f("cost_minor"), f("net_price_minor"), f("food_cost_ppm"))
    };
    // Flour 3.8 kg worth 4.56 (60 g: 7.2), butter 1.96 kg worth 15.68 (20 g: 16); 2.90
    // with 7% tax inside is 2.71 before tax.
    assert_eq!(recipe("Croissant"), (7 + 16, 271, 84_871));
    // 180 ml of 9.82 l worth 8.84: 16.2; 3.80 is 3.55 before tax.
    assert_eq!(recipe("Flat white"), (16, 355, 45_070));
    // 30 ml of 1.97 l of oat milk worth 4.92: 7.5 when it was sold, 7.49 now. A modifier
    // has no price before tax of its own.
    assert_eq!(recipe("Oat"), (7, 0, 0));
    // Sold: ticket 8 only (ticket 7 was refunded whole). Lines before tax: 5.80 → 5.42,
    // 4.30 → 4.02; croissants 120 g flour (14.4) and 40 g butter (32).
    let items: Vec<(String, u64, i64, i64)> = food["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["name"].as_str().unwrap().to_string(),
                i["sold"].as_u64().unwrap(),
                i["net_sales_minor"].as_i64().unwrap(),
                i["cost_minor"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        items,
        vec![
            ("Croissant".to_string(), 2, 542, 14 + 32),
            ("Flat white".to_string(), 1, 402, 16 + 7),
        ]
    );
    assert_eq!(
        (
            &food["net_sales_minor"],
            &food["cost_minor"],
            &food["food_cost_ppm"]
        ),
        (&json!(944), &json!(69), &json!(73_093))
    );
    let table = ok(&["stock", "food-cost"]);
    assert!(
        table.contains("Croissant") && table.contains("8.5%") && table.contains("7.3%"),
        "{table}"
    );

    // A cashier may not receive stock.
    let cashier = tmp.path().join("cashier.json");
    let (code, _, err) = cli(
        &addr,
        &cashier,
        &["login", "--staff", "Bao", "--pin", "1357"],
    );
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = cli(
        &addr,
        &cashier,
        &[
            "stock", "receive", "Milk", "1", "--at", "City", "--cost", "1",
        ],
    );
    assert_eq!(code, 2);
    assert!(err.contains("not allowed"), "{err}");
    let (code, _, err) = cli(&addr, &cashier, &["stock", "food-cost"]);
    assert_eq!(code, 2);
    assert!(err.contains("not allowed"), "{err}");

    // kill -9 and restart: every level as it was.
    let before = show();
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    drop(server);
    let server = start(&data);
    let after = cli(&server.addr, &session, &["stock", "show", "--json"]);
    assert_eq!(after.0, 0, "{}", after.2);
    assert_eq!(serde_json::from_str::<Value>(&after.1).unwrap(), before);
}

/// The stock report's benchmark fills a node through its writer and serves it: every
/// (location, item) with a par level is in the report, and a second run measures the
/// same node without filling it again.
#[test]
fn the_stock_benchmark_fills_a_node_and_reads_every_level_back() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("bench");
    let args = [
        "bench",
        "stock",
        "--data",
        crate::support::s(&data),
        "--locations",
        "3",
        "--items",
        "7",
        "--movements",
        "300",
        "--batch",
        "50",
        "--reports",
        "2",
        "--json",
    ];
    let first = crate::support::json(&args);
    assert_eq!(first["locations"], 3);
    assert_eq!(first["levels"], 21, "{first}");
    assert!(first["fill_seconds"].as_f64().unwrap() > 0.0);
    let again = crate::support::json(&args);
    assert_eq!(again["levels"], 21);
    assert!(again["fill_seconds"].is_null(), "not filled twice: {again}");
    // The node's certificate, 3 setup requests (staff, PIN, settings) and 3 + 7 + 21 set-up
    // events before the movements: the ledger holds every movement once.
    let file = dir.path().join("bench.mposledger");
    let exported = crate::support::json(&[
        "ledger",
        "export",
        "--data",
        crate::support::s(&data),
        "--out",
        crate::support::s(&file),
        "--json",
    ]);
    assert_eq!(
        exported["entries"].as_u64(),
        Some(1 + 3 + 3 + 7 + 21 + 300),
        "{exported}"
    );
}
