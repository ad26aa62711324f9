//! Server mode: two `mpos serve` processes on one PostgreSQL database, as behind a load
//! balancer, each with its own ledger. They write the same order at the same moments;
//! nothing is lost or applied twice, and the ledgers of both verify.

use mpos_node::DataDir;
use mpos_node::store::StoreLocation;
use mpos_proto::v1::{self, pos_client::PosClient};
use tonic::Code;
use tonic::transport::Channel;

use crate::serve::{authed, cli_ok, client, id, login, set_up_cafe_in, start_on};
use crate::support::{json, s};

/// A new, empty schema on the tests' PostgreSQL server (`scripts/test.sh` starts one and
/// names it in MPOS_TEST_POSTGRES); the connection string that uses it.
pub(crate) fn new_database() -> String {
    let server = std::env::var("MPOS_TEST_POSTGRES").unwrap_or_else(|_| {
        panic!(
            "this test needs a PostgreSQL server: run scripts/test.sh (it starts one), or \
             set MPOS_TEST_POSTGRES to a connection string such as \
             'host=127.0.0.1 port=5432 user=mpos dbname=postgres'"
        )
    });
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).unwrap();
    let schema = format!("t_{}", hex::encode(bytes));
    postgres::Client::connect(&server, postgres::NoTls)
        .unwrap()
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .unwrap();
    format!("{server} options='-c search_path={schema}'")
}

/// Sends one request until it is applied: a request the node answers "unavailable" (it
/// met the other node's write too often) is sent again with the same id, as a register
/// does. Returns how often it was retried.
async fn until_applied<F, Fut>(mut send: F) -> u32
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<tonic::Response<v1::OrderReply>, tonic::Status>>,
{
    let mut retries = 0;
    loop {
        match send().await {
            Ok(_) => return retries,
            Err(e) if e.code() == Code::Unavailable => retries += 1,
            Err(e) => panic!("{e}"),
        }
    }
}

/// Adds croissant lines `lines` to `order`.
async fn add_croissants(
    c: PosClient<Channel>,
    token: String,
    order: u128,
    lines: std::ops::Range<u128>,
) -> u32 {
    let mut retries = 0;
    for line in lines {
        retries += until_applied(|| {
            let mut c = c.clone();
            let token = token.clone();
            async move {
                c.add_item(authed(
                    &token,
                    v1::AddItemRequest {
                        request_id: id(line),
                        order: id(order),
                        line: id(line),
                        item: id(2),
                        quantity: 1,
                        ..Default::default()
                    },
                ))
                .await
            }
        })
        .await;
    }
    retries
}

/// Voids lines `lines` of `order`: each void changes the order's figures in place.
async fn void_lines(c: PosClient<Channel>, token: String, order: u128, lines: Vec<u128>) -> u32 {
    let mut retries = 0;
    for line in lines {
        retries += until_applied(|| {
            let mut c = c.clone();
            let token = token.clone();
            async move {
                c.void_line(authed(
                    &token,
                    v1::VoidLineRequest {
                        request_id: id(line + (1 << 32)),
                        order: id(order),
                        line: id(line),
                        reason: "dropped on the floor".into(),
                    },
                ))
                .await
            }
        })
        .await;
    }
    retries
}

/// Flour, a stock item counted in kilograms, and the croissant's recipe (item 2 of the
/// cafe): 60 g of it.
fn flour_for_croissants(flour: &[u8]) -> [v1::change_stock_request::Change; 2] {
    use v1::change_stock_request::Change as Stock;
    [
        Stock::StockItem(v1::StockItem {
            id: flour.to_vec(),
            name: "Flour".into(),
            unit: v1::StockUnit::Kilogram.into(),
            active: true,
        }),
        Stock::Recipe(v1::RecipeRequest {
            target: Some(v1::RecipeTarget {
                kind: Some(v1::recipe_target::Kind::Item(id(2))),
            }),
            ingredients: vec![v1::IngredientRequest {
                stock: flour.to_vec(),
                quantity: "60 g".into(),
            }],
        }),
    ]
}

async fn order_view(c: &mut PosClient<Channel>, token: &str, order: u128) -> v1::OrderView {
    c.get_order(authed(token, v1::GetOrderRequest { order: id(order) }))
        .await
        .unwrap()
        .into_inner()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_one_database_write_the_same_order_and_lose_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    // The synchronous PostgreSQL client may not run on the test's async threads.
    let database = {
        let a = a.clone();
        tokio::task::spawn_blocking(move || {
            let database = new_database();
            set_up_cafe_in(&a, &StoreLocation::Postgres(database.clone()));
            database
        })
        .await
        .unwrap()
    };
    let node_a = start_on(&a, &database);
    let node_b = start_on(&b, &database);
    let mut ca = client(&node_a.addr).await;
    let mut cb = client(&node_b.addr).await;
    // Staff, PINs and the menu are in the database: both nodes know them.
    let token_a = login(&mut ca, 2, "1357").await;
    let token_b = login(&mut cb, 2, "1357").await;

    let order = 0x0193_0000_0000_7000_8000_0000_0000_0001;
    ca.open_order(authed(
        &token_a,
        v1::OpenOrderRequest {
            request_id: id(1 << 64),
            order: id(order),
            number: "T-1".into(),
            channel: v1::Channel::Counter.into(),
            kind: Some(v1::open_order_request::Kind::Takeaway(v1::Takeaway {})),
            ..Default::default()
        },
    ))
    .await
    .unwrap();
    // The order opened on A is at once an order of B's.
    assert_eq!(order_view(&mut cb, &token_b, order).await.number, "T-1");

    // Four registers on each node add lines to that one order, all at once.
    const PER_CLIENT: u128 = 20;
    let mut tasks = Vec::new();
    for n in 0..8u128 {
        let (c, token) = if n % 2 == 0 {
            (ca.clone(), token_a.clone())
        } else {
            (cb.clone(), token_b.clone())
        };
        let first = (1 << 64) + 1_000 + n * PER_CLIENT;
        tasks.push(tokio::spawn(add_croissants(
            c,
            token,
            order,
            first..first + PER_CLIENT,
        )));
    }
    let mut retries = 0;
    for t in tasks {
        retries += t.await.unwrap();
    }
    let lines = 8 * PER_CLIENT as usize;
    let seen_a = order_view(&mut ca, &token_a, order).await;
    let seen_b = order_view(&mut cb, &token_b, order).await;
    assert_eq!(seen_a, seen_b, "both nodes read the one order");
    assert_eq!(
        seen_a.lines.len(),
        lines,
        "every line once ({retries} retries)"
    );
    eprintln!("{lines} lines from 8 registers on 2 nodes; {retries} retries");
    let mut ids: Vec<&[u8]> = seen_a.lines.iter().map(|l| l.id.as_slice()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), lines, "no line twice");
    assert_eq!(seen_a.total, 290 * lines as i64);

    // The owner voids every fourth line from both nodes at once: each void changes the
    // order's figures in place, so a node writing over the other's would lose one.
    let owner_a = login(&mut ca, 1, "4821").await;
    let owner_b = login(&mut cb, 1, "4821").await;
    let mut tasks = Vec::new();
    for n in 0..8u128 {
        let (c, token) = if n % 2 == 0 {
            (ca.clone(), owner_a.clone())
        } else {
            (cb.clone(), owner_b.clone())
        };
        let first = (1 << 64) + 1_000 + n * PER_CLIENT;
        let doomed = (first..first + PER_CLIENT).step_by(4).collect();
        tasks.push(tokio::spawn(void_lines(c, token, order, doomed)));
    }
    for t in tasks {
        retries += t.await.unwrap();
    }
    let voided = lines / 4;
    let seen = order_view(&mut ca, &token_a, order).await;
    assert_eq!(seen, order_view(&mut cb, &token_b, order).await);
    assert_eq!(seen.lines.iter().filter(|l| l.voided).count(), voided);
    let lines = lines - voided;
    assert_eq!(seen.total, 290 * lines as i64, "every void counted once");
    eprintln!("{retries} retries in all");

    // Both nodes take the whole amount at the same moment: one payment stands, the other
    // is refused, never both.
    let pay = |mut c: PosClient<Channel>, token: String, n: u128| async move {
        c.take_payment(authed(
            &token,
            v1::TakePaymentRequest {
                request_id: id((1 << 64) + 5_000 + n),
                order: id(order),
                payment: id((1 << 64) + 5_000 + n),
                tender: Some(v1::Tender {
                    kind: Some(v1::tender::Kind::CardReference(format!("AUTH-{n}"))),
                }),
                amount: 290 * lines as i64,
                ..Default::default()
            },
        ))
        .await
    };
    let (paid_a, paid_b) = tokio::join!(
        pay(ca.clone(), token_a.clone(), 1),
        pay(cb.clone(), token_b.clone(), 2)
    );
    let refused = match (&paid_a, &paid_b) {
        (Ok(_), Err(e)) | (Err(e), Ok(_)) => e,
        _ => panic!("exactly one payment must stand: {paid_a:?} / {paid_b:?}"),
    };
    assert!(
        matches!(
            refused.code(),
            Code::FailedPrecondition | Code::InvalidArgument
        ),
        "{refused}"
    );
    let closed = order_view(&mut cb, &token_b, order).await;
    assert_eq!(closed.status, v1::OrderStatus::Closed as i32);
    assert_eq!(closed.payments.len(), 1);
    assert_eq!(closed.paid, closed.total);

    // Stock: both nodes sell croissants (each takes 60 g of flour when its ticket closes)
    // and receive flour into the one level at the same moments. The level is the sum of
    // every movement, whichever node wrote it.
    let stock = |mut c: PosClient<Channel>,
                 token: String,
                 rid: u128,
                 change: v1::change_stock_request::Change| async move {
        loop {
            let sent = c
                .change_stock(authed(
                    &token,
                    v1::ChangeStockRequest {
                        request_id: id(rid),
                        change: Some(change.clone()),
                    },
                ))
                .await;
            match sent {
                Ok(_) => return,
                Err(e) if e.code() == Code::Unavailable => continue,
                Err(e) => panic!("{e}"),
            }
        }
    };
    use v1::change_stock_request::Change as Stock;
    let (city, flour) = (id(900), id(901));
    let [item, recipe] = flour_for_croissants(&flour);
    for (n, change) in [
        Stock::Location(v1::Location {
            id: city.clone(),
            name: "City".into(),
            active: true,
        }),
        item,
        recipe,
        Stock::SalesStock(v1::SalesStock {
            location: city.clone(),
            depletion: v1::StockDepletion::OnClose.into(),
        }),
        Stock::Receive(v1::ReceiveStockRequest {
            location: city.clone(),
            item: flour.clone(),
            quantity: "100 kg".into(),
            cost: 12_000,
            ..Default::default()
        }),
    ]
    .into_iter()
    .enumerate()
    {
        stock(ca.clone(), owner_a.clone(), (2 << 64) + n as u128, change).await;
    }
    // Both nodes serve the City restaurant: B says so in its own ledger too.
    let city_sales = Stock::SalesStock(v1::SalesStock {
        location: city.clone(),
        depletion: v1::StockDepletion::OnClose.into(),
    });
    stock(cb.clone(), owner_b.clone(), (2 << 64) + 100, city_sales).await;
    const TICKETS: u128 = 10;
    let mut tasks = Vec::new();
    for n in 0..8u128 {
        let (c, token) = if n % 2 == 0 {
            (ca.clone(), owner_a.clone())
        } else {
            (cb.clone(), owner_b.clone())
        };
        let (city, flour) = (city.clone(), flour.clone());
        tasks.push(tokio::spawn(async move {
            let mut retries = 0;
            for t in 0..TICKETS {
                let order = (3 << 64) + n * 1_000 + t;
                retries += until_applied(|| {
                    let mut oc = c.clone();
                    let token = token.clone();
                    async move {
                        oc.open_order(authed(
                            &token,
                            v1::OpenOrderRequest {
                                request_id: id(order),
                                order: id(order),
                                number: format!("S-{n}-{t}"),
                                channel: v1::Channel::Counter.into(),
                                kind: Some(v1::open_order_request::Kind::Takeaway(v1::Takeaway {})),
                                lines: vec![v1::NewLine {
                                    line: id(order),
                                    item: id(2),
                                    quantity: 1,
                                    ..Default::default()
                                }],
                                source: None,
                            },
                        ))
                        .await
                    }
                })
                .await;
                retries += until_applied(|| {
                    let mut pc = c.clone();
                    let token = token.clone();
                    async move {
                        pc.take_payment(authed(
                            &token,
                            v1::TakePaymentRequest {
                                request_id: id(order + (1 << 32)),
                                order: id(order),
                                payment: id(order + (1 << 32)),
                                tender: Some(v1::Tender {
                                    kind: Some(v1::tender::Kind::CardReference("A".into())),
                                }),
                                amount: 290,
                                ..Default::default()
                            },
                        ))
                        .await
                    }
                })
                .await;
                let receive = Stock::Receive(v1::ReceiveStockRequest {
                    location: city.clone(),
                    item: flour.clone(),
                    quantity: "1 kg".into(),
                    cost: 120,
                    ..Default::default()
                });
                stock(c.clone(), token.clone(), order + (2 << 32), receive).await;
            }
            retries
        }));
    }
    for t in tasks {
        retries += t.await.unwrap();
    }
    eprintln!("{retries} retries with stock");
    let level = |mut c: PosClient<Channel>, token: String| async move {
        let v = c
            .get_stock(authed(&token, v1::GetStockRequest::default()))
            .await
            .unwrap()
            .into_inner();
        let flour = v.items.iter().position(|i| i.name == "Flour").unwrap();
        let l = v
            .levels
            .into_iter()
            .find(|l| l.item as usize == flour)
            .unwrap();
        (l.milli, l.value)
    };
    let sold = 8 * TICKETS as i64;
    // 100 kg + 80 × 1 kg received, 80 × 60 g sold.
    let expected = 100_000_000 + sold * 1_000_000 - sold * 60_000;
    let (a_level, b_level) = (
        level(ca.clone(), owner_a.clone()).await,
        level(cb.clone(), owner_b.clone()).await,
    );
    assert_eq!(a_level, b_level, "both nodes read the one level");
    assert_eq!(a_level.0, expected, "every movement counted once");
    // €1.20 a kilogram throughout: the value follows the quantity, give or take the cent
    // each sale rounds (60 g is 7.2 cents, taken as 7).
    let at_cost = expected * 120 / 1_000_000;
    assert!(
        (a_level.1 - at_cost).abs() <= sold,
        "value {} for {at_cost}",
        a_level.1
    );

    // Each node wrote its own ledger in the one database; an export of the database holds
    // both, and both verify.
    drop((node_a, node_b));
    let export = tmp.path().join("shared.mpl");
    let exported = json(&[
        "ledger",
        "export",
        "--data",
        s(&a),
        "--store",
        &database,
        "--out",
        s(&export),
        "--json",
    ]);
    assert_eq!(exported["nodes"], 2, "{exported}");
    let verified = json(&["ledger", "verify", s(&export), "--json"]);
    assert_eq!(verified["status"], "intact", "{verified}");
    let key_b = DataDir::open(&b).unwrap().key().public().to_string();
    let verified = json(&[
        "ledger",
        "verify",
        s(&export),
        "--node-key",
        &key_b,
        "--json",
    ]);
    assert_eq!(verified["status"], "intact", "{verified}");
}

/// One organization, two restaurants and a head office: three `mpos serve` processes on
/// one database. Each restaurant's node sees its own orders, drawers and sales and takes
/// stock from its own shelves; its Z-report closes its own day whatever the other
/// restaurant has open; the head office (a node that sells at no location) reads across.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organization_sells_at_two_restaurants_and_the_head_office_reads_across() {
    let tmp = tempfile::tempdir().unwrap();
    let dirs = ["bistro", "harbour", "office"].map(|n| tmp.path().join(n));
    let database = {
        let first = dirs[0].clone();
        tokio::task::spawn_blocking(move || {
            let database = new_database();
            set_up_cafe_in(&first, &StoreLocation::Postgres(database.clone()));
            database
        })
        .await
        .unwrap()
    };
    let nodes = dirs.clone().map(|d| start_on(&d, &database));
    let mut clients = Vec::new();
    for n in &nodes {
        let mut c = client(&n.addr).await;
        let token = login(&mut c, 1, "4821").await;
        clients.push((c, token));
    }
    let [(bistro, t_bistro), (harbour, t_harbour), (office, t_office)]: [_; 3] =
        clients.try_into().unwrap();

    use v1::change_stock_request::Change as Stock;
    let change = |mut c: PosClient<Channel>, token: String, rid: u128, change: Stock| async move {
        c.change_stock(authed(
            &token,
            v1::ChangeStockRequest {
                request_id: id(rid),
                change: Some(change),
            },
        ))
        .await
        .unwrap();
    };
    let (at_bistro, at_harbour, flour) = (id(910), id(911), id(912));
    let mut setup = vec![
        Stock::Location(v1::Location {
            id: at_bistro.clone(),
            name: "Bistro".into(),
            active: true,
        }),
        Stock::Location(v1::Location {
            id: at_harbour.clone(),
            name: "Harbour".into(),
            active: true,
        }),
    ];
    setup.extend(flour_for_croissants(&flour));
    for at in [&at_bistro, &at_harbour] {
        setup.push(Stock::Receive(v1::ReceiveStockRequest {
            location: at.clone(),
            item: flour.clone(),
            quantity: "10 kg".into(),
            cost: 1_200,
            ..Default::default()
        }));
    }
    for (n, s) in setup.into_iter().enumerate() {
        change(office.clone(), t_office.clone(), (4 << 64) + n as u128, s).await;
    }
    // Each restaurant's node says, in its own ledger, where it sells.
    for (n, (c, token, at)) in [
        (&bistro, &t_bistro, &at_bistro),
        (&harbour, &t_harbour, &at_harbour),
    ]
    .into_iter()
    .enumerate()
    {
        let sells = Stock::SalesStock(v1::SalesStock {
            location: at.clone(),
            depletion: v1::StockDepletion::OnClose.into(),
        });
        change(c.clone(), token.clone(), (5 << 64) + n as u128, sells).await;
    }

    // Each restaurant sets up its own table T1: the same name, at two places.
    let mut tables = Vec::new();
    for (n, (c, token)) in [(&bistro, &t_bistro), (&harbour, &t_harbour)]
        .into_iter()
        .enumerate()
    {
        let table = id((6 << 64) + 20 + n as u128);
        c.clone()
            .put_table(authed(
                token,
                v1::PutTableRequest {
                    request_id: id((6 << 64) + 30 + n as u128),
                    table: Some(v1::Table {
                        id: table.clone(),
                        name: "T1".into(),
                        seats: 4,
                        active: true,
                        ..Default::default()
                    }),
                    new_link: false,
                },
            ))
            .await
            .unwrap();
        tables.push(table);
    }
    let floor = |mut c: PosClient<Channel>, token: String| async move {
        c.list_tables(authed(&token, v1::ListTablesRequest::default()))
            .await
            .unwrap()
            .into_inner()
            .tables
            .into_iter()
            .map(|t| t.table.unwrap())
            .map(|t| (t.name, t.location))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        floor(harbour.clone(), t_harbour.clone()).await,
        [("T1".to_string(), at_harbour.clone())]
    );
    assert_eq!(floor(office.clone(), t_office.clone()).await.len(), 2);
    // An order the head office opens at the harbour's table is the harbour's.
    office
        .clone()
        .open_order(authed(
            &t_office,
            v1::OpenOrderRequest {
                request_id: id((6 << 64) + 50),
                order: id((6 << 64) + 40),
                number: "T1-1".into(),
                channel: v1::Channel::Table.into(),
                kind: Some(v1::open_order_request::Kind::DineIn(v1::DineIn {
                    table: tables[1].clone(),
                    guests: 2,
                })),
                ..Default::default()
            },
        ))
        .await
        .unwrap();

    // Both restaurants open a drawer called "front": one at each, so neither is refused.
    for (n, (c, token)) in [(&bistro, &t_bistro), (&harbour, &t_harbour)]
        .into_iter()
        .enumerate()
    {
        c.clone()
            .open_drawer(authed(
                token,
                v1::OpenDrawerRequest {
                    request_id: id((6 << 64) + n as u128),
                    drawer: id((6 << 64) + 10 + n as u128),
                    name: "front".into(),
                    float: 10_000,
                },
            ))
            .await
            .unwrap();
    }

    // The bistro sells three croissants and keeps one order open; the harbour two and one.
    let sell = |mut c: PosClient<Channel>, token: String, order: u128, pay: bool| async move {
        c.open_order(authed(
            &token,
            v1::OpenOrderRequest {
                request_id: id(order),
                order: id(order),
                number: format!("N-{}", order & 0xff),
                channel: v1::Channel::Counter.into(),
                kind: Some(v1::open_order_request::Kind::Takeaway(v1::Takeaway {})),
                lines: vec![v1::NewLine {
                    line: id(order),
                    item: id(2),
                    quantity: 1,
                    ..Default::default()
                }],
                source: None,
            },
        ))
        .await
        .unwrap();
        if pay {
            c.take_payment(authed(
                &token,
                v1::TakePaymentRequest {
                    request_id: id(order + (1 << 32)),
                    order: id(order),
                    payment: id(order + (1 << 32)),
                    tender: Some(v1::Tender {
                        kind: Some(v1::tender::Kind::Cash(v1::TenderCash {})),
                    }),
                    amount: 290,
                    ..Default::default()
                },
            ))
            .await
            .unwrap();
        }
    };
    for n in 0..4u128 {
        sell(bistro.clone(), t_bistro.clone(), (7 << 64) + n, n < 3).await;
    }
    for n in 0..3u128 {
        sell(harbour.clone(), t_harbour.clone(), (8 << 64) + n, n < 2).await;
    }

    let listed = |mut c: PosClient<Channel>, token: String| async move {
        c.list_orders(authed(&token, v1::ListOrdersRequest::default()))
            .await
            .unwrap()
            .into_inner()
            .orders
            .into_iter()
            .map(|o| (o.location, o.status))
            .collect::<Vec<_>>()
    };
    let at =
        |orders: &[(Vec<u8>, i32)], place: &[u8]| orders.iter().filter(|(l, _)| l == place).count();
    let seen = listed(bistro.clone(), t_bistro.clone()).await;
    assert_eq!((seen.len(), at(&seen, &at_bistro)), (4, 4), "{seen:?}");
    let seen = listed(harbour.clone(), t_harbour.clone()).await;
    assert_eq!((seen.len(), at(&seen, &at_harbour)), (4, 4), "{seen:?}");
    let seen = listed(office.clone(), t_office.clone()).await;
    assert_eq!(
        (seen.len(), at(&seen, &at_bistro), at(&seen, &at_harbour)),
        (8, 4, 4)
    );

    let since = mpos_node::clock::now_millis() - 86_400_000;
    let sales = |mut c: PosClient<Channel>, token: String, location: Vec<u8>| async move {
        c.get_sales(authed(
            &token,
            v1::GetSalesRequest {
                from: since,
                to: 0,
                utc_offset_minutes: 0,
                location,
            },
        ))
        .await
        .map(|r| r.into_inner())
    };
    let here = sales(bistro.clone(), t_bistro.clone(), vec![])
        .await
        .unwrap();
    assert_eq!((here.orders, here.total), (3, 870));
    let across = sales(office.clone(), t_office.clone(), vec![])
        .await
        .unwrap();
    assert_eq!((across.orders, across.total), (5, 1_450));
    let by_place: Vec<(&str, u64, i64)> = across
        .locations
        .iter()
        .map(|b| (b.key.as_str(), b.count, b.sales))
        .collect();
    assert_eq!(by_place, [("Bistro", 3, 870), ("Harbour", 2, 580)]);
    let one = sales(office.clone(), t_office.clone(), at_harbour.clone())
        .await
        .unwrap();
    assert_eq!((one.orders, one.total), (2, 580));
    let unknown = sales(office.clone(), t_office.clone(), id(999))
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound, "{unknown}");

    // Stock: each restaurant's sales took from its own shelf.
    let stock = office
        .clone()
        .get_stock(authed(&t_office, v1::GetStockRequest::default()))
        .await
        .unwrap()
        .into_inner();
    let level = |name: &str| {
        let place = stock.locations.iter().position(|l| l.name == name).unwrap();
        stock
            .levels
            .iter()
            .find(|l| l.location as usize == place)
            .unwrap()
            .milli
    };
    assert_eq!(level("Bistro"), 10_000_000 - 3 * 60_000);
    assert_eq!(level("Harbour"), 10_000_000 - 2 * 60_000);

    // The bistro counts its drawer and closes its day while the harbour's drawer is still
    // open: its Z-report holds its own sales, cash and open order only.
    bistro
        .clone()
        .close_drawer(authed(
            &t_bistro,
            v1::CloseDrawerRequest {
                request_id: id(9 << 64),
                drawer: vec![],
                counted: 10_870,
            },
        ))
        .await
        .unwrap();
    let z = bistro
        .clone()
        .close_day(authed(
            &t_bistro,
            v1::CloseDayRequest {
                request_id: id((9 << 64) + 1),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((z.orders, z.open_orders, z.cash_variance), (3, 1, 0));
    // The harbour cannot close before counting its own drawer.
    let refused = harbour
        .clone()
        .close_day(authed(
            &t_harbour,
            v1::CloseDayRequest {
                request_id: id((9 << 64) + 2),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused}");
    assert!(
        refused.message().contains("drawer front is still open"),
        "{refused}"
    );

    // The owner asks the head office from the command line.
    let session = tmp.path().join("session.json");
    let cli = |args: &[&str]| cli_ok(&nodes[2].addr, &session, args);
    cli(&["login", "--staff", "Ana", "--pin", "4821"]);
    let report: serde_json::Value =
        serde_json::from_str(&cli(&["report", "sales", "--days", "1", "--json"])).unwrap();
    assert_eq!(report["total_minor"], 1_450, "{report}");
    assert_eq!(report["locations"][1]["name"], "Harbour", "{report}");
    assert_eq!(report["locations"][1]["count"], 2, "{report}");
    let text = cli(&["report", "sales", "--days", "1", "--location", "harbour"]);
    assert!(text.contains("2 orders"), "{text}");
    assert!(text.contains("Harbour"), "{text}");
    assert!(!text.contains("Bistro"), "{text}");
}
