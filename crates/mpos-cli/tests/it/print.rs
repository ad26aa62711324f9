//! Printing through a real node: kitchen tickets to a raw TCP printer (a simulator that
//! accepts ESC/POS on a socket, as a port-9100 printer does) that is off at first, then on;
//! never a lost ticket, never a ticket printed twice by a retry or a restart; receipts with
//! their QR code to a file; reprints marked as such.

use std::io::Read;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mpos_proto::v1::{self, pos_client::PosClient};
use tonic::Code;
use tonic::transport::Channel;

use crate::serve::{authed, client, id, login, open_ticket, pay_ticket, set_up_cafe, start};

/// A raw printer on `port`: every connection's bytes, as one ticket.
fn printer_on(port: u16, tickets: Arc<Mutex<Vec<Vec<u8>>>>) {
    let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            let mut bytes = Vec::new();
            if conn.read_to_end(&mut bytes).is_ok() {
                tickets.lock().unwrap().push(bytes);
            }
        }
    });
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Polls the print queue until `done` holds (the spooler works in the background).
async fn wait_for_jobs(
    c: &mut PosClient<Channel>,
    token: &str,
    done: impl Fn(&[v1::PrintJobView]) -> bool,
) -> Vec<v1::PrintJobView> {
    for _ in 0..600 {
        let jobs = c
            .list_print_jobs(authed(token, v1::ListPrintJobsRequest { limit: 50 }))
            .await
            .unwrap()
            .into_inner()
            .jobs;
        if done(&jobs) {
            return jobs;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the print queue never got there");
}

/// A counter sale: the ticket is sent to the kitchen, then paid.
async fn sell_and_send(c: &mut PosClient<Channel>, token: &str, order: u128) {
    open_ticket(c, token, order).await;
    c.send_order(authed(
        token,
        v1::SendOrderRequest {
            request_id: id((order << 8) + 9),
            order: id(order),
            lines: vec![],
        },
    ))
    .await
    .unwrap();
    let paid = pay_ticket(c, token, order).await.order.unwrap();
    assert_eq!(paid.status, i32::from(v1::OrderStatus::Closed));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kitchen_tickets_survive_a_printer_that_is_off_and_never_print_twice() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("node");
    set_up_cafe(&data);
    let mut server = start(&data);
    let mut c = client(&server.addr).await;
    let owner = login(&mut c, 1, "4821").await;
    let cashier = login(&mut c, 2, "1357").await;

    // A port nobody listens on yet: the bar printer is switched off.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let bar = v1::PrinterView {
        name: "bar".into(),
        address: format!("tcp:127.0.0.1:{port}"),
        stations: vec![id(1)],
        receipts: false,
        columns: 48,
    };
    // Bad printers, and a cashier setting one up, are refused.
    for (bad, token, code) in [
        (
            v1::PrinterView {
                address: "lpt1".into(),
                ..bar.clone()
            },
            &owner,
            Code::InvalidArgument,
        ),
        (
            v1::PrinterView {
                columns: 40,
                ..bar.clone()
            },
            &owner,
            Code::InvalidArgument,
        ),
        (bar.clone(), &cashier, Code::PermissionDenied),
    ] {
        let err = c.put_printer(authed(token, bad)).await.unwrap_err();
        assert_eq!(err.code(), code, "{err}");
    }
    c.put_printer(authed(&owner, bar)).await.unwrap();

    // A sale goes through while the printer is off; its ticket waits in the queue.
    sell_and_send(&mut c, &cashier, 0x52).await;
    let jobs = wait_for_jobs(&mut c, &cashier, |j| {
        j.iter()
            .any(|j| j.attempts >= 1 && !j.last_error.is_empty())
    })
    .await;
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert_eq!(
        (jobs[0].state.as_str(), jobs[0].kind.as_str()),
        ("queued", "kitchen")
    );

    // The printer comes on: the ticket prints, once.
    let tickets = Arc::new(Mutex::new(Vec::new()));
    printer_on(port, tickets.clone());
    wait_for_jobs(&mut c, &cashier, |j| j.iter().all(|j| j.state == "printed")).await;
    {
        let t = tickets.lock().unwrap();
        assert_eq!(t.len(), 1);
        assert!(t[0].starts_with(&[0x1b, b'@']), "starts with ESC @");
        assert!(contains(&t[0], b"#T-82"), "the ticket names the order");
        assert!(contains(&t[0], b"1 x Flat white"));
        assert!(contains(&t[0], b"+ Oat"));
        assert!(contains(&t[0], b"2 x Croissant"));
        assert!(t[0].ends_with(&[0x1d, b'V', 66, 0]), "ends with a cut");
    }

    // kill -9 and restart: the printed ticket is not printed again. A new order's ticket
    // prints after it (jobs of a printer go out in order), so had the old one been sent
    // again it would have arrived first.
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    let server = start(&data);
    let mut c = client(&server.addr).await;
    let cashier = login(&mut c, 2, "1357").await;
    sell_and_send(&mut c, &cashier, 0x53).await;
    wait_for_jobs(&mut c, &cashier, |j| {
        j.len() == 2 && j.iter().all(|j| j.state == "printed")
    })
    .await;
    {
        let t = tickets.lock().unwrap();
        assert_eq!(t.len(), 2, "exactly one more ticket");
        assert!(contains(&t[1], b"#T-83"));
    }

    // A reprint is a new job, marked as a reprint; a double tap (the same request id)
    // reprints once.
    let ask = v1::ReprintRequest {
        job: 1,
        request_id: id(0x7e01),
    };
    let reprint = c
        .reprint(authed(&cashier, ask.clone()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(reprint.reprint_of, 1);
    let again = c.reprint(authed(&cashier, ask)).await.unwrap().into_inner();
    assert_eq!(again.id, reprint.id);
    let reused = c
        .reprint(authed(
            &cashier,
            v1::ReprintRequest {
                job: 2,
                request_id: id(0x7e01),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(reused.code(), Code::InvalidArgument);
    wait_for_jobs(&mut c, &cashier, |j| j.iter().all(|j| j.state == "printed")).await;
    {
        let t = tickets.lock().unwrap();
        assert_eq!(t.len(), 3);
        assert!(contains(&t[2], b"REPRINT of job 1"));
        assert!(contains(&t[2], b"#T-82"));
    }

    // Receipts go to the receipt printer, a file here, with the signed code as a QR code.
    let owner = login(&mut c, 1, "4821").await;
    let file = tmp.path().join("front.escpos");
    c.put_printer(authed(
        &owner,
        v1::PrinterView {
            name: "front".into(),
            address: format!("file:{}", file.display()),
            stations: vec![],
            receipts: true,
            columns: 32,
        },
    ))
    .await
    .unwrap();
    let code = c
        .get_receipt(authed(
            &cashier,
            v1::GetReceiptRequest {
                order: id(0x53),
                width: 32,
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .code;
    assert!(code.starts_with("MPR1."), "{code}");
    let print = v1::PrintReceiptRequest {
        order: id(0x53),
        printer: String::new(),
        request_id: id(0x7e02),
    };
    let queued = c
        .print_receipt(authed(&cashier, print.clone()))
        .await
        .unwrap()
        .into_inner()
        .jobs;
    assert_eq!(queued.len(), 1);
    let retried = c
        .print_receipt(authed(&cashier, print))
        .await
        .unwrap()
        .into_inner()
        .jobs;
    assert_eq!(retried[0].id, queued[0].id, "a retry queues nothing new");
    wait_for_jobs(&mut c, &cashier, |j| j.iter().all(|j| j.state == "printed")).await;
    let receipt = std::fs::read(&file).unwrap();
    let mut store = vec![0x1d, b'(', b'k'];
    store.extend(u16::try_from(code.len() + 3).unwrap().to_le_bytes());
    store.extend([0x31, 0x50, 0x30]);
    store.extend(code.as_bytes());
    assert!(
        contains(&receipt, &store),
        "the receipt carries its code as a QR code"
    );
    assert!(contains(&receipt, b"Cafe Lumen"));
    // An order that does not exist has no receipt to print.
    let err = c
        .print_receipt(authed(
            &cashier,
            v1::PrintReceiptRequest {
                order: id(0x99),
                printer: String::new(),
                request_id: id(0x7e03),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
}
