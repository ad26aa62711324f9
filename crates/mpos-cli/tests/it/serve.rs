//! `mpos serve` as a real process, driven over gRPC on loopback.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};

use mpos_domain::catalog::{Category, Item, ModifierGroup, ModifierOption, TaxCategory};
use mpos_domain::ids::{CategoryId, ItemId, ModifierGroupId, ModifierId, StaffId, TaxCategoryId};
use mpos_domain::menu::{MenuCommand, Settings};
use mpos_domain::staff::{Actor, Role, StaffCommand, StaffMember};
use mpos_domain::{Currency, Money, PriceMode, TaxRate};
use mpos_node::pos::{Action, PosService, Request};
use mpos_node::store::StoreLocation;
use mpos_node::{DataDir, Ledger};
use mpos_proto::v1::{self, pos_client::PosClient};
use tonic::Code;
use tonic::transport::Channel;

use crate::support::{json, mpos, ok, s};

fn eur(m: i64) -> Money {
    Money::new(m, Currency::from_code("EUR").unwrap())
}

/// A small cafe: two staff with PINs, a flat white with a milk choice, a croissant.
pub fn set_up_cafe(data: &Path) {
    set_up_cafe_in(data, &StoreLocation::DataDir);
}

/// The same cafe, written by the node of `data` into the store `at`.
pub fn set_up_cafe_in(data: &Path, at: &StoreLocation) {
    let dir = DataDir::open_or_create(data).unwrap();
    let store = dir.open_store(at).unwrap();
    let mut svc = PosService::new(Ledger::open(store, dir.into_identity()).unwrap());
    let owner = Actor {
        staff: StaffId(1),
        role: Role::Owner,
    };
    let mut id = 0u128;
    let mut run = |action: Action, actor: Option<Actor>| {
        id += 1;
        svc.execute_one(Request { id, action, actor }, 1_764_000_000_000)
            .unwrap();
    };
    run(
        Action::Staff(StaffCommand::Put(StaffMember {
            id: StaffId(1),
            name: "Ana Owner".into(),
            role: Role::Owner,
            active: true,
        })),
        None,
    );
    run(
        Action::Staff(StaffCommand::SetPin {
            staff: StaffId(1),
            pin: "4821".into(),
        }),
        None,
    );
    run(
        Action::Staff(StaffCommand::Put(StaffMember {
            id: StaffId(2),
            name: "Bao Cashier".into(),
            role: Role::Cashier,
            active: true,
        })),
        Some(owner),
    );
    run(
        Action::Staff(StaffCommand::SetPin {
            staff: StaffId(2),
            pin: "1357".into(),
        }),
        Some(owner),
    );
    let menu = [
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
            station: Some(mpos_domain::ids::StationId(1)),
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
            description: "Double ristretto".into(),
            category: CategoryId(1),
            sku: None,
            barcode: None,
            price: eur(380),
            channel_prices: vec![],
            tax_category: TaxCategoryId(1),
            variants: vec![],
            modifier_groups: vec![ModifierGroupId(1)],
            available: true,
        }),
        MenuCommand::PutItem(Item {
            id: ItemId(2),
            name: "Croissant".into(),
            description: "Butter".into(),
            category: CategoryId(1),
            sku: None,
            barcode: None,
            price: eur(290),
            channel_prices: vec![],
            tax_category: TaxCategoryId(1),
            variants: vec![],
            modifier_groups: vec![],
            available: true,
        }),
    ];
    for cmd in menu {
        run(Action::Menu(cmd), Some(owner));
    }
}

pub struct Server {
    pub child: Child,
    pub addr: String,
}

impl Drop for Server {
    /// A failed test must not leave its node running.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn start(data: &Path) -> Server {
    start_on(data, "sqlite")
}

/// A node on the store `store` (`--store`, passed as MPOS_STORE as an operator would).
pub fn start_on(data: &Path, store: &str) -> Server {
    start_with(data, store, &["--listen", "127.0.0.1:0"])
}

/// `mpos serve --data DATA` on `store` with `args` (at least `--listen`); returns once
/// it prints its address.
pub fn start_with(data: &Path, store: &str, args: &[&str]) -> Server {
    let mut child = mpos()
        .args(["serve", "--data", s(data)])
        .args(args)
        .env("MPOS_STORE", store)
        .stdout(Stdio::piped())
        .stderr(
            std::env::var_os("MPOS_TEST_NODE_LOGS").map_or_else(Stdio::null, |_| Stdio::inherit()),
        )
        .spawn()
        .unwrap();
    let mut line = String::new();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    out.read_line(&mut line).unwrap();
    // The node may say more (`sync on ...`): its stdout stays open until it exits.
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    Server { child, addr }
}

pub async fn client(addr: &str) -> PosClient<Channel> {
    PosClient::connect(format!("http://{addr}")).await.unwrap()
}

/// A plain HTTP/1.1 GET, returning the whole response.
fn http_get(addr: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    response
}

pub fn id(v: u128) -> Vec<u8> {
    v.to_be_bytes().to_vec()
}

pub fn authed<T>(token: &str, message: T) -> tonic::Request<T> {
    let mut r = tonic::Request::new(message);
    r.metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    r
}

pub async fn login(c: &mut PosClient<Channel>, staff: u128, pin: &str) -> String {
    c.login(v1::LoginRequest {
        approval: false,
        staff: id(staff),
        pin: pin.into(),
    })
    .await
    .unwrap()
    .into_inner()
    .token
}

fn cash() -> Option<v1::Tender> {
    Some(v1::Tender {
        kind: Some(v1::tender::Kind::Cash(v1::TenderCash {})),
    })
}

/// Opens a takeaway ticket with a flat white (oat) and two croissants, and pays it cash.
pub async fn sell_ticket(c: &mut PosClient<Channel>, token: &str, order: u128) -> v1::OrderReply {
    open_ticket(c, token, order).await;
    pay_ticket(c, token, order).await
}

/// Opens a takeaway ticket with a flat white (oat) and two croissants.
pub async fn open_ticket(c: &mut PosClient<Channel>, token: &str, order: u128) {
    let base = order << 8;
    c.open_order(authed(
        token,
        v1::OpenOrderRequest {
            lines: Vec::new(),
            request_id: id(base + 1),
            order: id(order),
            number: format!("T-{order}"),
            channel: v1::Channel::Counter.into(),
            kind: Some(v1::open_order_request::Kind::Takeaway(v1::Takeaway {})),
            source: None,
        },
    ))
    .await
    .unwrap();
    c.add_item(authed(
        token,
        v1::AddItemRequest {
            request_id: id(base + 2),
            order: id(order),
            line: id(base + 2),
            item: id(1),
            modifiers: vec![id(2)],
            quantity: 1,
            ..Default::default()
        },
    ))
    .await
    .unwrap();
    c.add_item(authed(
        token,
        v1::AddItemRequest {
            request_id: id(base + 3),
            order: id(order),
            line: id(base + 3),
            item: id(2),
            quantity: 2,
            ..Default::default()
        },
    ))
    .await
    .unwrap();
}

/// Pays the ticket `open_ticket` opened, cash.
pub async fn pay_ticket(c: &mut PosClient<Channel>, token: &str, order: u128) -> v1::OrderReply {
    let base = order << 8;
    c.take_payment(authed(
        token,
        v1::TakePaymentRequest {
            drawer: Vec::new(),
            request_id: id(base + 4),
            order: id(order),
            payment: id(base + 4),
            tender: cash(),
            amount: 430 + 580,
            tip: 0,
            cash_received: Some(2_000),
        },
    ))
    .await
    .unwrap()
    .into_inner()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sale_over_grpc_with_retries_refusals_and_a_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("node");
    set_up_cafe(&data);
    let mut server = start(&data);
    let mut c = client(&server.addr).await;

    let staff = c
        .list_staff(v1::ListStaffRequest::default())
        .await
        .unwrap()
        .into_inner()
        .staff;
    assert_eq!(
        staff.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
        ["Ana Owner", "Bao Cashier"]
    );
    let err = c
        .login(v1::LoginRequest {
            approval: false,
            staff: id(2),
            pin: "0000".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    // Guessing the owner's PIN: after five misses the node locks the owner out for a while,
    // even for the right PIN; an unknown staff id gets the same answer as a wrong PIN.
    for _ in 0..5 {
        let err = c
            .login(v1::LoginRequest {
                approval: false,
                staff: id(1),
                pin: "1111".into(),
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::Unauthenticated);
    }
    let err = c
        .login(v1::LoginRequest {
            approval: false,
            staff: id(1),
            pin: "4821".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::ResourceExhausted, "{err}");
    assert!(
        err.message().contains("too many wrong PINs: try again in"),
        "{err}"
    );
    let unknown = c
        .login(v1::LoginRequest {
            approval: false,
            staff: id(77),
            pin: "4821".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(
        (unknown.code(), unknown.message()),
        (Code::Unauthenticated, "wrong staff member or PIN")
    );
    let bad = c
        .login(v1::LoginRequest {
            approval: false,
            staff: vec![1, 2],
            pin: "4821".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    let token = login(&mut c, 2, "1357").await;

    // A shift's login lasts the shift; an approval at someone else's register lasts
    // two minutes, and still works for those two.
    let lasts = |r: &v1::LoginReply| r.expires_at.saturating_sub(mpos_node::clock::now_millis());
    let pin_login = |approval| {
        let mut c = c.clone();
        async move {
            c.login(v1::LoginRequest {
                staff: id(2),
                pin: "1357".into(),
                approval,
            })
            .await
            .unwrap()
            .into_inner()
        }
    };
    let shift = pin_login(false).await;
    let approval = pin_login(true).await;
    assert!(lasts(&shift) > 11 * 3_600_000, "{}", lasts(&shift));
    assert!(
        (60_000..=120_000).contains(&lasts(&approval)),
        "{}",
        lasts(&approval)
    );
    c.get_menu(authed(&approval.token, v1::GetMenuRequest::default()))
        .await
        .unwrap();

    // Without a session nothing is served.
    let err = c
        .search_items(v1::SearchItemsRequest {
            query: "flat".into(),
            limit: 5,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    let found = c
        .search_items(authed(
            &token,
            v1::SearchItemsRequest {
                query: "flat".into(),
                limit: 5,
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .items;
    assert_eq!(found[0].item.as_ref().unwrap().name, "Flat white");
    assert_eq!(found[0].modifier_groups[0].options.len(), 2);

    let paid = sell_ticket(&mut c, &token, 7).await;
    let order = paid.order.unwrap();
    assert_eq!(order.status, v1::OrderStatus::Closed as i32);
    assert_eq!((order.total, order.paid, order.balance), (1_010, 1_010, 0));
    assert_eq!(order.payments[0].change_due, 990);
    assert_eq!(
        order.taxes,
        vec![v1::TaxLine {
            rate_ppm: 70_000,
            amount: 28 + 38
        }]
    );

    // The payment again (the terminal never saw the answer): applied once.
    let again = c
        .take_payment(authed(
            &token,
            v1::TakePaymentRequest {
                drawer: Vec::new(),
                request_id: id((7 << 8) + 4),
                order: id(7),
                payment: id((7 << 8) + 4),
                tender: cash(),
                amount: 1_010,
                tip: 0,
                cash_received: Some(2_000),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(again.replayed);
    assert_eq!(
        (again.first_seq, again.last_seq),
        (paid.first_seq, paid.last_seq)
    );
    assert_eq!(again.order.unwrap().payments.len(), 1);

    // Refusals come back as precise statuses and write nothing.
    let err = c
        .void_order(authed(
            &token,
            v1::VoidOrderRequest {
                request_id: id(900),
                order: id(7),
                reason: "test".into(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err}");
    let err = c
        .add_item(authed(
            &token,
            v1::AddItemRequest {
                request_id: id(901),
                order: id(7),
                line: id(901),
                item: id(2),
                quantity: 1,
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err}");
    let err = c
        .add_item(authed(
            &token,
            v1::AddItemRequest {
                request_id: vec![1, 2, 3],
                order: id(7),
                line: id(902),
                item: id(2),
                quantity: 1,
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err}");
    assert!(err.message().contains("request_id"), "{err}");
    c.open_order(authed(
        &token,
        v1::OpenOrderRequest {
            lines: Vec::new(),
            request_id: id(903),
            order: id(8),
            number: "T-8".into(),
            channel: v1::Channel::Counter.into(),
            kind: None,
            source: None,
        },
    ))
    .await
    .unwrap();
    let err = c
        .add_item(authed(
            &token,
            v1::AddItemRequest {
                request_id: id(904),
                order: id(8),
                line: id(904),
                item: id(1),
                quantity: 1,
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err}");
    assert!(
        err.message().contains("Milk: choose between 1 and 1"),
        "{err}"
    );
    let err = c
        .add_item(authed(
            &token,
            v1::AddItemRequest {
                request_id: id(905),
                order: id(8),
                line: id(905),
                item: id(2),
                quantity: 0,
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err}");
    let err = c
        .get_order(authed(&token, v1::GetOrderRequest { order: id(999) }))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);

    // Health and metrics on the same port, plain HTTP.
    assert!(http_get(&server.addr, "/healthz").ends_with("ok\n"));
    let metrics = http_get(&server.addr, "/metrics");
    assert!(
        metrics.contains("# TYPE mpos_requests_total counter"),
        "{metrics}"
    );
    let value = |line: &str| {
        metrics
            .lines()
            .find(|l| l.starts_with(line))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse::<u64>().ok())
    };
    // The cashier's, then a shift's and an approval's.
    assert_eq!(value("mpos_logins_total{outcome=\"ok\"}"), Some(3));
    assert_eq!(value("mpos_logins_total{outcome=\"refused\"}"), Some(8));
    assert!(
        value("mpos_requests_total{outcome=\"applied\"}").unwrap() >= 5,
        "{metrics}"
    );
    assert_eq!(value("mpos_requests_total{outcome=\"replayed\"}"), Some(1));
    assert!(
        value("mpos_requests_total{outcome=\"refused\"}").unwrap() >= 4,
        "{metrics}"
    );
    // The node's certificate, 4 staff and 6 menu entries at set-up; order 7: opened, 2
    // lines, paid, closed; order 8 opened.
    assert_eq!(value("mpos_ledger_entries"), Some(17), "{metrics}");

    // A graceful stop, a restart: everything is there and the ledger verifies.
    let pid = server.child.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    assert!(server.child.wait().unwrap().success());
    let mut server = start(&data);
    let mut c = client(&server.addr).await;
    // The session from before the restart still works (the node signed it); an altered
    // one, or one made up, does not.
    let mut altered = token.clone().into_bytes();
    altered[3] = if altered[3] == b'0' { b'1' } else { b'0' };
    for bad in [String::from_utf8(altered).unwrap(), "00".repeat(97)] {
        let refused = c
            .get_order(authed(&bad, v1::GetOrderRequest { order: id(7) }))
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::Unauthenticated);
    }
    let order = c
        .get_order(authed(&token, v1::GetOrderRequest { order: id(7) }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (order.status, order.lines.len()),
        (v1::OrderStatus::Closed as i32, 2)
    );
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    let file = tmp.path().join("ledger.mposledger");
    ok(&["ledger", "export", "--data", s(&data), "--out", s(&file)]);
    assert_eq!(
        json(&["ledger", "verify", s(&file), "--json"])["status"],
        "intact"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_a_burst_of_tickets_loses_no_acknowledged_ticket() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("node");
    set_up_cafe(&data);
    let mut server = start(&data);
    let addr = server.addr.clone();
    let acknowledged = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for worker in 0..4u128 {
        let (addr, acknowledged) = (addr.clone(), acknowledged.clone());
        tasks.push(tokio::spawn(async move {
            let mut c = client(&addr).await;
            let token = login(&mut c, 2, "1357").await;
            for n in 0..10_000u128 {
                let order = 1_000 + worker * 100_000 + n;
                // Stops when the node dies under it.
                let Ok(reply) = tokio::time::timeout(std::time::Duration::from_secs(5), async {
                    let base = order << 8;
                    c.open_order(authed(
                        &token,
                        v1::OpenOrderRequest {
                            lines: Vec::new(),
                            request_id: id(base + 1),
                            order: id(order),
                            number: format!("T-{order}"),
                            channel: v1::Channel::Counter.into(),
                            kind: None,
                            source: None,
                        },
                    ))
                    .await?;
                    c.add_item(authed(
                        &token,
                        v1::AddItemRequest {
                            request_id: id(base + 2),
                            order: id(order),
                            line: id(base + 2),
                            item: id(2),
                            quantity: 1,
                            ..Default::default()
                        },
                    ))
                    .await?;
                    c.take_payment(authed(
                        &token,
                        v1::TakePaymentRequest {
                            drawer: Vec::new(),
                            request_id: id(base + 4),
                            order: id(order),
                            payment: id(base + 4),
                            tender: cash(),
                            amount: 290,
                            tip: 0,
                            cash_received: None,
                        },
                    ))
                    .await
                })
                .await
                else {
                    break;
                };
                match reply {
                    Ok(_) => acknowledged.lock().unwrap().push(order),
                    Err(_) => break,
                }
            }
        }));
    }
    // Let the burst run, then pull the plug.
    while acknowledged.lock().unwrap().len() < 200 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    server.child.kill().unwrap(); // SIGKILL
    server.child.wait().unwrap();
    for t in tasks {
        let _ = t.await;
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() >= 200);

    let mut server = start(&data);
    let mut c = client(&server.addr).await;
    let token = login(&mut c, 2, "1357").await;
    for order in &acknowledged {
        let o = c
            .get_order(authed(&token, v1::GetOrderRequest { order: id(*order) }))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(o.status, v1::OrderStatus::Closed as i32, "order {order}");
        assert_eq!(o.paid, 290);
    }
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    let file = tmp.path().join("after.mposledger");
    ok(&["ledger", "export", "--data", s(&data), "--out", s(&file)]);
    let v = json(&["ledger", "verify", s(&file), "--json"]);
    assert_eq!(v["status"], "intact");
    // Three entries per ticket at least (opened, line, payment + closed): nothing half-written.
    assert!(v["entries"].as_u64().unwrap() >= 4 * acknowledged.len() as u64);
}

/// Runs `mpos` against a node with a session file of its own.
pub fn cli(addr: &str, session: &Path, args: &[&str]) -> (i32, String, String) {
    let out = mpos()
        .args(args)
        .env("MPOS_TARGET", addr)
        .env("MPOS_SESSION", session)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `cli`, which must succeed: its standard output.
pub fn cli_ok(addr: &str, session: &Path, args: &[&str]) -> String {
    let (code, out, err) = cli(addr, session, args);
    assert_eq!(code, 0, "{args:?}: {err}");
    out
}

#[test]
fn a_sale_from_the_command_line() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("node");
    set_up_cafe(&data);
    let mut server = start(&data);
    let session = tmp.path().join("session.json");
    let run = |args: &[&str]| cli(&server.addr, &session, args);
    let ok = |args: &[&str]| {
        let (code, out, err) = run(args);
        assert_eq!(code, 0, "mpos {args:?}: {out} {err}");
        out
    };

    let (code, _, err) = run(&["order", "open"]);
    assert_eq!(code, 2);
    assert!(err.contains("not logged in"), "{err}");
    let (code, _, err) = run(&["login", "--staff", "bao", "--pin", "9999"]);
    assert_eq!(code, 2);
    assert!(err.contains("wrong staff member or PIN"), "{err}");
    assert!(ok(&["login", "--staff", "bao", "--pin", "1357"]).contains("logged in as Bao Cashier"));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&session).unwrap().permissions().mode() & 0o777,
        0o600
    );

    assert!(ok(&["menu", "search", "flat"]).contains("Milk (choose 1..1): Whole, Oat (+0.50)"));
    ok(&["order", "open"]);
    ok(&["order", "add", "last", "Flat white", "--modifier", "oat"]);
    let shown = ok(&["order", "add", "last", "croissant", "--qty", "2"]);
    assert!(
        shown.contains("TOTAL") && shown.contains("10.10 EUR"),
        "{shown}"
    );
    let (code, _, err) = run(&["order", "add", "last", "Flat white"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("Milk: choose between 1 and 1, 0 chosen"),
        "{err}"
    );
    let (code, _, err) = run(&["order", "add", "last", "Flat white", "--modifier", "soy"]);
    assert_eq!(code, 2);
    assert!(err.contains("offers no modifier \"soy\""), "{err}");
    ok(&["order", "send", "last"]);
    // Three guests share 10.10: 3.37 + 3.37 + 3.36, exactly the total.
    let split: serde_json::Value =
        serde_json::from_str(&ok(&["order", "split", "last", "--evenly", "3", "--json"])).unwrap();
    let amounts: Vec<i64> = split["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["amount_minor"].as_i64().unwrap())
        .collect();
    assert_eq!(amounts, [337, 337, 336]);
    let split: serde_json::Value =
        serde_json::from_str(&ok(&["order", "split", "last", "--lines", "2", "--json"])).unwrap();
    assert_eq!(
        (
            split["parts"][0]["amount_minor"].as_i64(),
            split["parts"][1]["amount_minor"].as_i64()
        ),
        (Some(580), Some(430))
    );
    let (code, _, err) = run(&["order", "split", "last", "--by-seat"]);
    assert_eq!(code, 2);
    assert!(err.contains("no line has a seat"), "{err}");
    ok(&[
        "order", "pay", "last", "--card", "AUTH 1", "--amount", "4.10",
    ]);
    let paid = ok(&["order", "pay", "last", "--cash", "10", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&paid).unwrap();
    assert_eq!(
        (
            v["status"].as_str(),
            v["total_minor"].as_i64(),
            v["balance_minor"].as_i64()
        ),
        (Some("ORDER_STATUS_CLOSED"), Some(1_010), Some(0))
    );
    assert_eq!(v["payments"][1]["change_due_minor"].as_i64(), Some(400));
    let (code, _, err) = run(&[
        "order", "refund", "last", "1", "--amount", "1", "--reason", "cold",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("not allowed"), "{err}");
    ok(&["login", "--staff", "ana", "--pin", "4821"]);
    // The session now belongs to the owner, who may refund; `last` is per session.
    let (code, _, err) = run(&[
        "order", "refund", "last", "1", "--amount", "1", "--reason", "cold",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("no order opened yet"), "{err}");
    let id = v["id"].as_str().unwrap().to_string();

    // The receipt carries a code signed by the node: anyone checks it offline.
    let receipt = ok(&["order", "receipt", &id, "--width", "32", "--json"]);
    let r: serde_json::Value = serde_json::from_str(&receipt).unwrap();
    let text = r["text"].as_str().unwrap();
    assert!(text.lines().all(|l| l.chars().count() <= 32), "{text}");
    assert!(
        text.contains("TOTAL EUR") && text.contains("Cafe Lumen"),
        "{text}"
    );
    let code = r["code"].as_str().unwrap().to_string();
    assert!(code.starts_with("MPR1."), "{code}");
    let refunded = ok(&[
        "order", "refund", &id, "1", "--amount", "1.00", "--reason", "cold", "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&refunded).unwrap();
    assert_eq!(v["paid_minor"].as_i64(), Some(910));
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    let key = json(&["ledger", "head", "--data", s(&data), "--json"])["public_key"]
        .as_str()
        .unwrap()
        .to_string();
    let checked = json(&["ledger", "check-receipt", &code, "--pubkey", &key, "--json"]);
    assert_eq!(
        (
            checked["valid"].as_bool(),
            checked["total_minor"].as_i64(),
            checked["currency"].as_str()
        ),
        (Some(true), Some(1_010), Some("EUR"))
    );
    // The closing entry it names is in the ledger, as a proof shows.
    let seq = checked["seq"].as_u64().unwrap().to_string();
    let proof = json(&[
        "ledger",
        "prove",
        "--data",
        s(&data),
        "--seq",
        &seq,
        "--json",
    ]);
    assert!(
        proof["entry_hash"]
            .as_str()
            .unwrap()
            .starts_with(checked["entry_hash_prefix"].as_str().unwrap())
    );
}

#[test]
fn a_second_node_on_the_same_data_directory_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("node");
    set_up_cafe(&data);
    let mut first = start(&data);
    let out = mpos()
        .args(["serve", "--data", s(&data), "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("another mpos process is writing to it"),
        "{err}"
    );
    first.child.kill().unwrap();
    first.child.wait().unwrap();
    // Once the first is gone (even killed), the directory is free again.
    let mut second = start(&data);
    second.child.kill().unwrap();
    second.child.wait().unwrap();
}

/// A counter register sends the cart with the order: every line is priced and added, or
/// the order is not opened at all; a retry answers with the first result.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_opened_with_its_cart_is_all_or_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("node");
    set_up_cafe(&data);
    let server = start(&data);
    let mut c = client(&server.addr).await;
    let token = login(&mut c, 2, "1357").await;
    let line = |n: u128, item: u128, modifiers: Vec<u128>, quantity: u32| v1::NewLine {
        line: id(n),
        item: id(item),
        modifiers: modifiers.into_iter().map(id).collect(),
        quantity,
        ..Default::default()
    };
    let open = |request: u128, order: u128, lines: Vec<v1::NewLine>| v1::OpenOrderRequest {
        request_id: id(request),
        order: id(order),
        number: format!("K-{order}"),
        channel: v1::Channel::Counter.into(),
        kind: Some(v1::open_order_request::Kind::Takeaway(v1::Takeaway {})),
        source: None,
        lines,
    };
    // The second line chooses no milk (the group asks for exactly one): all refused.
    let refused = c
        .open_order(authed(
            &token,
            open(
                900,
                77,
                vec![line(901, 2, vec![], 1), line(902, 1, vec![], 1)],
            ),
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(refused.message().contains("Milk"), "{}", refused.message());
    let missing = c
        .get_order(authed(&token, v1::GetOrderRequest { order: id(77) }))
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);

    let cart = vec![line(911, 1, vec![2], 1), line(912, 2, vec![], 2)];
    let first = c
        .open_order(authed(&token, open(910, 78, cart.clone())))
        .await
        .unwrap()
        .into_inner();
    let order = first.order.clone().unwrap();
    // 4.30 (flat white with oat) + 2 x 2.90.
    assert_eq!((order.lines.len(), order.total), (2, 1_010));
    // Opened, then two lines: three ledger entries.
    assert_eq!(first.last_seq - first.first_seq, 2);
    let retry = c
        .open_order(authed(&token, open(910, 78, cart)))
        .await
        .unwrap()
        .into_inner();
    assert!(retry.replayed);
    assert_eq!(retry.order, first.order);
    let paid = pay_ticket(&mut c, &token, 78).await;
    // pay_ticket's payment ids are derived from the order id; the amount matches.
    assert_eq!(
        paid.order.map(|o| o.status),
        Some(v1::OrderStatus::Closed as i32)
    );
}

/// Sends one raw HTTP/1.1 request and returns the status line, headers and body.
fn http(addr: &str, request: &[u8]) -> (String, Vec<u8>) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.write_all(request).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete response");
    let head = String::from_utf8(response[..split].to_vec())
        .unwrap()
        .to_ascii_lowercase();
    let mut body = response[split + 4..].to_vec();
    if head.contains("transfer-encoding: chunked") {
        // Each chunk: its length in hex, CRLF, the bytes, CRLF; a zero length ends.
        let (mut plain, mut rest) = (Vec::new(), body.as_slice());
        loop {
            let eol = rest.windows(2).position(|w| w == b"\r\n").unwrap();
            let len =
                usize::from_str_radix(std::str::from_utf8(&rest[..eol]).unwrap(), 16).unwrap();
            if len == 0 {
                break;
            }
            plain.extend_from_slice(&rest[eol + 2..eol + 2 + len]);
            rest = &rest[eol + 2 + len + 2..];
        }
        body = plain;
    }
    (head, body)
}

/// The browser's side of the port: the web app's files, its screens' routes, and the
/// same API as gRPC-Web over HTTP/1.1.
#[test]
fn the_web_app_and_grpc_web_share_the_nodes_port() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("node");
    set_up_cafe(&data);
    let server = start(&data);
    let addr = &server.addr;
    let get = |path: &str, gzip: bool| {
        let enc = if gzip {
            "Accept-Encoding: gzip\r\n"
        } else {
            ""
        };
        http(
            addr,
            format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{enc}Connection: close\r\n\r\n")
                .as_bytes(),
        )
    };

    let (head, body) = get("/", false);
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("content-type: text/html"), "{head}");
    assert!(head.contains("cache-control: no-cache"), "{head}");
    let page = String::from_utf8(body).unwrap();
    assert!(page.contains("<div id=\"app\""), "{page}");
    let script = page
        .split('"')
        .find(|p| p.starts_with("/assets/") && p.ends_with(".js"))
        .expect("the page loads its script")
        .to_string();
    // A screen's own address gets the same page; a missing file does not.
    let (head, body) = get("/t/some-table", false);
    assert!(head.starts_with("http/1.1 200") && String::from_utf8(body).unwrap() == page);
    let (head, _) = get("/assets/missing.js", false);
    assert!(head.starts_with("http/1.1 404"), "{head}");
    // Scripts go gzipped when the browser takes it, and are cached for good.
    let (head, gz) = get(&script, true);
    assert!(head.contains("content-encoding: gzip"), "{head}");
    assert!(head.contains("immutable"), "{head}");
    let (_, plain) = get(&script, false);
    assert_eq!(&gz[..2], [0x1f, 0x8b], "gzip magic");
    assert!(gz.len() < plain.len());

    // gRPC-Web: a framed, empty ListStaffRequest, as the browser sends it.
    let frame = [0u8, 0, 0, 0, 0];
    let mut request = format!(
        "POST /mpos.v1.Pos/ListStaff HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/grpc-web+proto\r\nX-Grpc-Web: 1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        frame.len()
    )
    .into_bytes();
    request.extend_from_slice(&frame);
    let (head, body) = http(addr, &request);
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("application/grpc-web"), "{head}");
    // A data frame holding the staff list, then a trailer frame saying OK.
    assert_eq!(body[0], 0, "a data frame comes first");
    let len = u32::from_be_bytes(body[1..5].try_into().unwrap()) as usize;
    let reply = <v1::ListStaffReply as prost::Message>::decode(&body[5..5 + len]).unwrap();
    assert!(
        reply.staff.iter().any(|m| m.name == "Bao Cashier"),
        "{reply:?}"
    );
    let trailers = String::from_utf8_lossy(&body[5 + len + 5..]).to_ascii_lowercase();
    assert_eq!(body[5 + len], 0x80, "then the trailers");
    assert!(trailers.contains("grpc-status:0"), "{trailers}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ticket_benchmark_counts_only_tickets_the_node_applied() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("bistro");
    let mut demo = Server {
        child: mpos()
            .args(["demo", "--data", s(&data), "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
        addr: String::new(),
    };
    let out = BufReader::new(demo.child.stdout.take().unwrap());
    let mut lines = out.lines();
    // The demo says what it set up before it listens.
    demo.addr = lines
        .by_ref()
        .find_map(|l| l.unwrap().strip_prefix("listening on ").map(str::to_string))
        .unwrap();
    std::thread::spawn(move || lines.for_each(drop));
    let applied = || crate::sync::metric(&demo.addr, "mpos_requests_total{outcome=\"applied\"}");
    let before = applied().await;

    // Counter tickets on the default single thread, table tickets on two at a set rate.
    let counter = json(&[
        "bench",
        "tickets",
        "--target",
        &demo.addr,
        "--clients",
        "3",
        "--tickets",
        "30",
        "--flow",
        "counter",
        "--json",
    ]);
    let table = json(&[
        "bench",
        "tickets",
        "--target",
        &demo.addr,
        "--clients",
        "2",
        "--tickets",
        "10",
        "--flow",
        "table",
        "--rate",
        "200",
        "--threads",
        "2",
        "--json",
    ]);
    assert_eq!(counter["tickets"], 30, "{counter}");
    assert_eq!(table["tickets"], 10, "{table}");
    for run in [&counter, &table] {
        let p = |k: &str| run[k].as_f64().unwrap();
        assert!(0.0 < p("p50_ms") && p("p50_ms") <= p("p95_ms") && p("p95_ms") <= p("p99_ms"));
    }
    // A counter ticket is two requests (open with its cart, pay), a table ticket five.
    assert_eq!(applied().await, before + 30 * 2 + 10 * 5);

    let (code, _, err) =
        crate::support::run(&["bench", "tickets", "--target", &demo.addr, "--threads", "0"]);
    assert_ne!(code, 0);
    assert!(err.contains("--threads must be at least 1"), "{err}");
    assert_eq!(applied().await, before + 110);
}
