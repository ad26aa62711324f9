//! Server mode: two `mpos serve` processes on one PostgreSQL database, as behind a load
//! balancer, each with its own ledger. They write the same order at the same moments;
//! nothing is lost or applied twice, and the ledgers of both verify.

use mpos_node::DataDir;
use mpos_node::store::StoreLocation;
use mpos_proto::v1::{self, pos_client::PosClient};
use tonic::Code;
use tonic::transport::Channel;

use crate::serve::{authed, client, id, login, set_up_cafe_in, start_on};
use crate::support::{json, s};

/// A new, empty schema on the tests' PostgreSQL server (`scripts/test.sh` starts one and
/// names it in MPOS_TEST_POSTGRES); the connection string that uses it.
fn new_database() -> String {
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
    for (n, change) in [
        Stock::Location(v1::Location {
            id: city.clone(),
            name: "City".into(),
            active: true,
        }),
        Stock::StockItem(v1::StockItem {
            id: flour.clone(),
            name: "Flour".into(),
            unit: v1::StockUnit::Kilogram.into(),
            active: true,
        }),
        Stock::Recipe(v1::RecipeRequest {
            target: Some(v1::RecipeTarget {
                kind: Some(v1::recipe_target::Kind::Item(id(2))),
            }),
            ingredients: vec![v1::IngredientRequest {
                stock: flour.clone(),
                quantity: "60 g".into(),
            }],
        }),
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
