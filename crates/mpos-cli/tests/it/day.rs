//! A whole service day through a real `mpos serve` over gRPC: a drawer session, sales with
//! voids, discounts, split payments, tips and refunds, then the Z-report, checked figure by
//! figure against what this test computes on its own from the prices it sold at.

use mpos_proto::v1::{self, pos_client::PosClient};
use tonic::Code;
use tonic::transport::Channel;

use crate::serve::{authed, cli_ok, client, id, login, set_up_cafe, start};
use crate::support::{json, ok, s};

const FLAT_WHITE: i64 = 380;
const OAT: i64 = 50;
const CROISSANT: i64 = 290;

/// A deterministic dice, so a failure can be replayed.
struct Dice(u64);

impl Dice {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

/// 7% included in the price: net = round(gross / 1.07), half away from zero.
fn tax_in(gross: i64) -> i64 {
    let net = (gross * 2 * 1_000_000 + 1_070_000) / (2 * 1_070_000);
    gross - net
}

/// What the test expects the Z-report to say.
#[derive(Default, Debug)]
struct Expected {
    orders: u32,
    quantity: u64,
    gross_sales: i64,
    discounts: i64,
    sales_total: i64,
    tax: i64,
    tips: i64,
    cash: (u32, i64, i64),
    card: (u32, i64, i64),
    refunds: u32,
    refunded: i64,
    cash_refunded: i64,
    voided_lines: u32,
    voided_lines_amount: i64,
    voided_orders: u32,
    voided_orders_amount: i64,
    open_orders: u32,
    open_orders_due: i64,
}

struct Till<'a> {
    c: &'a mut PosClient<Channel>,
    cashier: &'a str,
    owner: &'a str,
    next: u128,
}

impl Till<'_> {
    fn rid(&mut self) -> Vec<u8> {
        self.next += 1;
        id(0x5000_0000 + self.next)
    }

    async fn pay(&mut self, order: u128, cash: bool, amount: i64, tip: i64) -> Vec<u8> {
        let payment = self.rid();
        let tender = if cash {
            v1::tender::Kind::Cash(v1::TenderCash {})
        } else {
            v1::tender::Kind::CardReference(format!("AUTH {order}"))
        };
        let request_id = self.rid();
        self.c
            .take_payment(authed(
                self.cashier,
                v1::TakePaymentRequest {
                    request_id,
                    order: id(order),
                    payment: payment.clone(),
                    tender: Some(v1::Tender { kind: Some(tender) }),
                    amount,
                    tip,
                    cash_received: None,
                    drawer: Vec::new(),
                },
            ))
            .await
            .unwrap();
        payment
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_day_closes_with_a_z_report_that_matches_an_independent_count() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("node");
    set_up_cafe(&data);
    let mut server = start(&data);
    let mut c = client(&server.addr).await;
    let cashier = login(&mut c, 2, "1357").await;
    let owner = login(&mut c, 1, "4821").await;

    // Morning: the cashier counts 100.00 into the front drawer.
    c.open_drawer(authed(
        &cashier,
        v1::OpenDrawerRequest {
            request_id: id(0x77),
            drawer: id(0xd1),
            name: "front".into(),
            float: 10_000,
        },
    ))
    .await
    .unwrap();
    // A second session of the same drawer, a pay-out without a reason, and a report by a
    // cashier are refused.
    let err = c
        .open_drawer(authed(
            &cashier,
            v1::OpenDrawerRequest {
                request_id: id(0x78),
                drawer: id(0xd2),
                name: "Front".into(),
                float: 0,
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err}");
    let err = c
        .move_cash(authed(
            &cashier,
            v1::MoveCashRequest {
                request_id: id(0x79),
                drawer: Vec::new(),
                out: true,
                amount: 500,
                reason: "  ".into(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err}");
    for err in [
        c.close_day(authed(
            &cashier,
            v1::CloseDayRequest {
                request_id: id(0x7a),
            },
        ))
        .await
        .unwrap_err(),
        c.get_day_report(authed(&cashier, v1::GetDayReportRequest { day: 0 }))
            .await
            .unwrap_err(),
    ] {
        assert_eq!(err.code(), Code::PermissionDenied, "{err}");
    }

    let mut till = Till {
        c: &mut c,
        cashier: &cashier,
        owner: &owner,
        next: 0,
    };
    let mut want = Expected::default();
    let mut dice = Dice(20_261_124);
    let mut cash_payments: Vec<(u128, Vec<u8>, i64)> = Vec::new();
    let orders = 24u128;
    for n in 1..=orders {
        let order = 0x0100 + n;
        let request_id = till.rid();
        till.c
            .open_order(authed(
                till.cashier,
                v1::OpenOrderRequest {
                    lines: Vec::new(),
                    request_id,
                    order: id(order),
                    number: format!("Z-{n}"),
                    channel: v1::Channel::Counter.into(),
                    kind: Some(v1::open_order_request::Kind::Takeaway(v1::Takeaway {})),
                    source: None,
                },
            ))
            .await
            .unwrap();
        // 1 to 3 lines: a flat white (whole or oat milk) or 1-3 croissants.
        let mut lines: Vec<(Vec<u8>, i64, u32)> = Vec::new();
        for _ in 0..1 + dice.below(3) {
            let line = till.rid();
            let (item, modifiers, unit, qty) = if dice.below(2) == 0 {
                let oat = dice.below(2) == 0;
                let unit = FLAT_WHITE + if oat { OAT } else { 0 };
                (1, vec![id(if oat { 2 } else { 1 })], unit, 1)
            } else {
                (2, vec![], CROISSANT, 1 + dice.below(3) as u32)
            };
            let request_id = till.rid();
            till.c
                .add_item(authed(
                    till.cashier,
                    v1::AddItemRequest {
                        request_id,
                        order: id(order),
                        line: line.clone(),
                        item: id(item),
                        modifiers,
                        quantity: qty,
                        ..Default::default()
                    },
                ))
                .await
                .unwrap();
            lines.push((line, unit * i64::from(qty), qty));
        }
        // Now and then the first line is voided before it is sent (a correction).
        if lines.len() > 1 && dice.below(5) == 0 {
            let (line, amount, _) = lines.remove(0);
            let request_id = till.rid();
            till.c
                .void_line(authed(
                    till.cashier,
                    v1::VoidLineRequest {
                        request_id,
                        order: id(order),
                        line,
                        reason: "wrong item".into(),
                    },
                ))
                .await
                .unwrap();
            want.voided_lines += 1;
            want.voided_lines_amount += amount;
        }
        // Now and then the owner takes 0.50 off the first line.
        let mut discount = 0;
        if dice.below(4) == 0 {
            discount = 50;
            let request_id = till.rid();
            let discount_id = till.rid();
            till.c
                .apply_discount(authed(
                    till.owner,
                    v1::ApplyDiscountRequest {
                        request_id,
                        order: id(order),
                        discount: discount_id,
                        line: lines[0].0.clone(),
                        kind: Some(v1::apply_discount_request::Kind::Amount(50)),
                        reason: "regular".into(),
                    },
                ))
                .await
                .unwrap();
        }
        let base: i64 = lines.iter().map(|l| l.1).sum();
        let total = base - discount;
        let qty: u64 = lines.iter().map(|l| u64::from(l.2)).sum();

        // One order walks out unpaid and is voided; one stays open, half paid.
        if n == 7 {
            let request_id = till.rid();
            till.c
                .void_order(authed(
                    till.owner,
                    v1::VoidOrderRequest {
                        request_id,
                        order: id(order),
                        reason: "walked out".into(),
                    },
                ))
                .await
                .unwrap();
            want.voided_orders += 1;
            want.voided_orders_amount += base;
            continue;
        }
        if n == orders {
            let half = total / 2;
            till.pay(order, false, half, 0).await;
            want.card.0 += 1;
            want.card.1 += half;
            want.open_orders += 1;
            want.open_orders_due += total - half;
            continue;
        }
        let tip = if dice.below(3) == 0 { 100 } else { 0 };
        let split = dice.below(4) == 0;
        let parts = if split {
            vec![total / 2, total - total / 2]
        } else {
            vec![total]
        };
        for (k, part) in parts.iter().enumerate() {
            let cash = dice.below(2) == 0;
            let tip = if k == 0 { tip } else { 0 };
            let payment = till.pay(order, cash, *part, tip).await;
            let t = if cash { &mut want.cash } else { &mut want.card };
            t.0 += 1;
            t.1 += part;
            t.2 += tip;
            want.tips += tip;
            if cash {
                cash_payments.push((order, payment, *part + tip));
            }
        }
        want.orders += 1;
        want.quantity += qty;
        want.gross_sales += base;
        want.discounts += discount;
        want.sales_total += total;
        // Tax per line, after the line's discount.
        for (i, (_, amount, _)) in lines.iter().enumerate() {
            want.tax += tax_in(amount - if i == 0 { discount } else { 0 });
        }
    }
    // Two cash refunds by the owner: part of one payment, all of another.
    for (k, (order, payment, paid)) in cash_payments.iter().take(2).enumerate() {
        let amount = if k == 0 { 120 } else { *paid };
        let request_id = till.rid();
        till.c
            .refund(authed(
                till.owner,
                v1::RefundRequest {
                    request_id,
                    order: id(*order),
                    payment: payment.clone(),
                    amount,
                    reason: "cold coffee".into(),
                    drawer: Vec::new(),
                },
            ))
            .await
            .unwrap();
        want.refunds += 1;
        want.refunded += amount;
        want.cash_refunded += amount;
    }
    // Cash in and out of the drawer.
    for (out, amount, reason) in [(false, 2_000, "coins from the bank"), (true, 1_250, "milk")] {
        let request_id = till.rid();
        till.c
            .move_cash(authed(
                till.cashier,
                v1::MoveCashRequest {
                    request_id,
                    drawer: Vec::new(),
                    out,
                    amount,
                    reason: reason.into(),
                },
            ))
            .await
            .unwrap();
    }
    let expected_cash = 10_000 + want.cash.1 + want.cash.2 - want.cash_refunded + 2_000 - 1_250;

    // The X-report sees the day so far; the day cannot close while the drawer is open.
    let x = c
        .get_day_report(authed(&owner, v1::GetDayReportRequest { day: 0 }))
        .await
        .unwrap()
        .into_inner();
    assert!(!x.closed);
    assert_eq!(
        (x.day, x.orders, x.sales_total),
        (1, want.orders, want.sales_total)
    );
    assert_eq!(x.drawers.len(), 1);
    assert_eq!(x.drawers[0].expected, expected_cash);
    let err = c
        .close_day(authed(
            &owner,
            v1::CloseDayRequest {
                request_id: id(0x7b),
            },
        ))
        .await
        .unwrap_err();
    assert!(err.message().contains("still open"), "{err}");

    // Closing: the cashier counts 3.00 short.
    let counted = c
        .close_drawer(authed(
            &cashier,
            v1::CloseDrawerRequest {
                request_id: id(0x7c),
                drawer: Vec::new(),
                counted: expected_cash - 300,
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .drawer
        .unwrap();
    assert_eq!(
        (counted.expected, counted.variance),
        (expected_cash, Some(-300))
    );

    let z = c
        .close_day(authed(
            &owner,
            v1::CloseDayRequest {
                request_id: id(0x7d),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(z.closed);
    assert_eq!(z.day, 1);
    assert_eq!(z.orders, want.orders);
    assert_eq!(z.gross_sales, want.gross_sales);
    assert_eq!(z.discounts, want.discounts);
    assert_eq!(z.sales_total, want.sales_total);
    assert_eq!(z.net_sales + want.tax, want.sales_total);
    assert_eq!(
        z.tax
            .iter()
            .map(|t| (t.rate_ppm, t.amount))
            .collect::<Vec<_>>(),
        [(70_000, want.tax)]
    );
    assert_eq!(z.tips, want.tips);
    let tender = |name: &str| {
        let t = z.tenders.iter().find(|t| t.tender == name).unwrap();
        (t.payments, t.amount, t.tips)
    };
    assert_eq!(tender("cash"), want.cash);
    assert_eq!(tender("card"), want.card);
    let cash = z.tenders.iter().find(|t| t.tender == "cash").unwrap();
    assert_eq!((cash.refunds, cash.refunded), (want.refunds, want.refunded));
    assert_eq!((z.refunds, z.refunded), (want.refunds, want.refunded));
    assert_eq!(
        (z.voided_lines, z.voided_lines_amount),
        (want.voided_lines, want.voided_lines_amount)
    );
    assert_eq!(
        (z.voided_orders, z.voided_orders_amount),
        (want.voided_orders, want.voided_orders_amount)
    );
    assert_eq!(z.categories.len(), 1);
    assert_eq!(z.categories[0].name, "Coffee");
    assert_eq!(
        (z.categories[0].quantity, z.categories[0].sales),
        (want.quantity, want.sales_total)
    );
    let bao = z.staff.iter().find(|s| s.name == "Bao Cashier").unwrap();
    assert_eq!(
        (bao.orders, bao.sales, bao.tips),
        (want.orders, want.sales_total, want.tips)
    );
    let ana = z.staff.iter().find(|s| s.name == "Ana Owner").unwrap();
    assert_eq!(
        (ana.voided, ana.refunded),
        (want.voided_orders_amount, want.refunded)
    );
    assert_eq!(z.cash_variance, -300);
    assert_eq!(z.drawers.len(), 1);
    assert_eq!(z.drawers[0].paid_out, 1_250);
    assert_eq!(
        (z.open_orders, z.open_orders_due),
        (want.open_orders, want.open_orders_due)
    );
    assert_eq!(z.cash_outside_drawers, 0);

    // The back office's charts are the same sales, cut by hour, day, staff and category.
    let now = mpos_node::clock::now_millis();
    let sales = c
        .get_sales(authed(
            &owner,
            v1::GetSalesRequest {
                from: now - 3_600_000,
                to: 0,
                utc_offset_minutes: 330,
                location: vec![],
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (sales.orders, sales.total),
        (u64::from(want.orders), want.sales_total)
    );
    let sum = |bars: &[v1::SalesBucket]| {
        bars.iter()
            .fold((0, 0), |(n, m), b| (n + b.count, m + b.sales))
    };
    let orders_total = (u64::from(want.orders), want.sales_total);
    assert_eq!(sum(&sales.hours), orders_total);
    assert_eq!(sales.hours.len(), 24);
    assert_eq!(sum(&sales.days), orders_total);
    assert!((1..=2).contains(&sales.days.len()));
    assert_eq!(
        sales
            .staff
            .iter()
            .map(|b| (b.key.as_str(), b.count, b.sales))
            .collect::<Vec<_>>(),
        [("Bao Cashier", u64::from(want.orders), want.sales_total)]
    );
    assert_eq!(
        sales
            .categories
            .iter()
            .map(|b| (b.key.as_str(), b.count, b.sales))
            .collect::<Vec<_>>(),
        [("Coffee", want.quantity, want.sales_total)]
    );
    assert_eq!(sum(&sales.items), (want.quantity, want.sales_total));
    assert!(sales.items.windows(2).all(|w| w[0].sales >= w[1].sales));
    // A stretch before the day holds nothing; a cashier may not see charts; a stretch
    // the wrong way round or longer than a quarter is refused.
    let empty = c
        .get_sales(authed(
            &owner,
            v1::GetSalesRequest {
                from: now - 10 * 86_400_000,
                to: now - 9 * 86_400_000,
                utc_offset_minutes: 0,
                location: vec![],
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((empty.orders, empty.total), (0, 0));
    // A day from mid-morning to mid-morning touches two dates, both shown, both empty.
    assert_eq!(empty.days.len(), 2);
    assert_eq!(sum(&empty.days), (0, 0));
    let err = c
        .get_sales(authed(
            &cashier,
            v1::GetSalesRequest {
                from: now - 3_600_000,
                to: 0,
                utc_offset_minutes: 0,
                location: vec![],
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err}");
    for (from, to, offset) in [
        (now, now - 1, 0),
        (now - 100 * 86_400_000, now, 0),
        (now - 1, now, 900),
    ] {
        let err = c
            .get_sales(authed(
                &owner,
                v1::GetSalesRequest {
                    from,
                    to,
                    utc_offset_minutes: offset,
                    location: vec![],
                },
            ))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{err}");
    }

    // The register's order list: every order of the day, newest first, a page at a time.
    let opened = u64::from(want.orders + want.voided_orders + want.open_orders);
    let mut seen = Vec::new();
    let (mut before, mut before_id) = (0, Vec::new());
    loop {
        let page = c
            .list_orders(authed(
                &cashier,
                v1::ListOrdersRequest {
                    before,
                    before_id: before_id.clone(),
                    limit: 7,
                    number: String::new(),
                    conflicted: false,
                },
            ))
            .await
            .unwrap()
            .into_inner()
            .orders;
        let Some(last) = page.last() else { break };
        assert!(page.len() <= 7);
        assert!(page.windows(2).all(|w| w[0].opened_at >= w[1].opened_at));
        (before, before_id) = (last.opened_at, last.id.clone());
        seen.extend(page.into_iter().map(|o| o.id));
    }
    let distinct: std::collections::HashSet<_> = seen.iter().collect();
    assert_eq!((seen.len() as u64, distinct.len() as u64), (opened, opened));
    let first = c
        .list_orders(authed(
            &cashier,
            v1::ListOrdersRequest {
                before_id: Vec::new(),
                before: 0,
                limit: 1,
                number: String::new(),
                conflicted: false,
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .orders
        .remove(0);
    let by_number = c
        .list_orders(authed(
            &cashier,
            v1::ListOrdersRequest {
                before_id: Vec::new(),
                before: 0,
                limit: 0,
                number: first.number.to_lowercase(),
                conflicted: false,
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .orders;
    assert!(by_number.iter().any(|o| o.id == first.id));
    assert!(by_number.iter().all(|o| {
        o.number
            .to_lowercase()
            .starts_with(&first.number.to_lowercase())
    }));
    let none = c
        .list_orders(authed(
            &cashier,
            v1::ListOrdersRequest {
                before_id: Vec::new(),
                before: 0,
                limit: 0,
                number: "%".into(),
                conflicted: false,
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .orders;
    assert!(
        none.is_empty(),
        "a % in the number is a character, not a wildcard"
    );

    // The closed day cannot be closed again, and an empty day cannot be closed at all.
    let err = c
        .close_day(authed(
            &owner,
            v1::CloseDayRequest {
                request_id: id(0x7e),
            },
        ))
        .await
        .unwrap_err();
    assert!(err.message().contains("nothing in it"), "{err}");
    // A retried Z (same request id) answers with the same report, not a new day.
    let again = c
        .close_day(authed(
            &owner,
            v1::CloseDayRequest {
                request_id: id(0x7d),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again, z);

    // After a restart the Z-report reprints identically from the ledger, the CLI shows the
    // same figures, and the ledger still verifies.
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    let server = start(&data);
    let mut c = client(&server.addr).await;
    let owner = login(&mut c, 1, "4821").await;
    let reprint = c
        .get_day_report(authed(&owner, v1::GetDayReportRequest { day: 1 }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(reprint, z);
    let x = c
        .get_day_report(authed(&owner, v1::GetDayReportRequest { day: 0 }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((x.day, x.orders, x.open_orders), (2, 0, 1));
    let missing = c
        .get_day_report(authed(&owner, v1::GetDayReportRequest { day: 9 }))
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);

    let session = tmp.path().join("session.json");
    let cli = |args: &[&str]| cli_ok(&server.addr, &session, args);
    cli(&["login", "--staff", "Ana", "--pin", "4821"]);
    let report: serde_json::Value =
        serde_json::from_str(&cli(&["report", "day", "1", "--json"])).unwrap();
    assert_eq!(report["sales_total"], want.sales_total);
    assert_eq!(report["cash_variance"], -300);
    let text = cli(&["report", "day", "1"]);
    assert!(text.contains("Z-REPORT  business day 1"), "{text}");
    assert!(text.contains("(short)"), "{text}");
    drop(server);
    let file = tmp.path().join("day.mposledger");
    ok(&["ledger", "export", "--data", s(&data), "--out", s(&file)]);
    let summary = json(&["ledger", "verify", s(&file), "--json"]);
    assert_eq!(summary["status"], "intact", "{summary}");
}
