//! The kitchen display and self-ordering, against a real `mpos serve` over gRPC: a guest
//! orders from a table's link, the ticket is pushed to the kitchen's live view, the
//! kitchen bumps it and the floor (and the guest) see it ready.

use std::path::Path;
use std::time::Duration;

use mpos_domain::floor::{FloorCommand, Table};
use mpos_domain::ids::{StaffId, TableId};
use mpos_domain::staff::{Actor, Role, StaffCommand, StaffMember};
use mpos_node::pos::{Action, PosService, Request};
use mpos_node::{DataDir, Ledger};
use mpos_proto::v1::{self, guest_client::GuestClient};
use tokio_stream::StreamExt;
use tonic::{Code, Streaming};

use crate::serve::{authed, client, id, login, set_up_cafe, start};

const TOKEN: &str = "0123456789abcdef01234567";

/// The cafe, with a cook (PIN 2468) and table T1 whose link carries `TOKEN`.
fn set_up_bistro(data: &Path) {
    set_up_cafe(data);
    let dir = DataDir::open_or_create(data).unwrap();
    let store = dir.store().unwrap();
    let mut svc = PosService::new(Ledger::open(store, dir.into_identity()).unwrap());
    let owner = Some(Actor {
        staff: StaffId(1),
        role: Role::Owner,
    });
    let actions = [
        Action::Staff(StaffCommand::Put(StaffMember {
            id: StaffId(3),
            name: "Cy Cook".into(),
            role: Role::Kitchen,
            active: true,
        })),
        Action::Staff(StaffCommand::SetPin {
            staff: StaffId(3),
            pin: "2468".into(),
        }),
        Action::Floor(FloorCommand::PutTable(Table {
            id: TableId(1),
            name: "T1".into(),
            seats: 4,
            area: String::new(),
            active: true,
            token: TOKEN.into(),
            location: None,
        })),
    ];
    for (n, action) in actions.into_iter().enumerate() {
        svc.execute_one(
            Request {
                id: 500 + n as u128,
                action,
                actor: owner,
            },
            1_764_000_000_000,
        )
        .unwrap();
    }
}

/// The next view a live stream pushes that satisfies `want`, within ten seconds.
async fn next_where<T>(stream: &mut Streaming<T>, want: impl Fn(&T) -> bool) -> T {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let view = stream.next().await.unwrap().unwrap();
            if want(&view) {
                return view;
            }
        }
    })
    .await
    .expect("the live view pushed the change")
}

fn line(n: u128, item: u128, modifiers: &[u128], quantity: u32) -> v1::NewLine {
    v1::NewLine {
        line: id(n),
        item: id(item),
        modifiers: modifiers.iter().map(|m| id(*m)).collect(),
        quantity,
        ..Default::default()
    }
}

fn place(request: u128, order: u128, lines: Vec<v1::NewLine>) -> v1::PlaceOrderRequest {
    v1::PlaceOrderRequest {
        token: TOKEN.into(),
        request_id: rid(request),
        order: id(order),
        lines,
    }
}

/// A request id of this test's own: the setup used the small ones.
fn rid(n: u128) -> Vec<u8> {
    id(10_000 + n)
}

fn ids(lines: &[v1::LineView]) -> Vec<Vec<u8>> {
    lines.iter().map(|l| l.id.clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_self_order_reaches_the_kitchen_and_comes_back_ready() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("node");
    set_up_bistro(&data);
    let server = start(&data);
    let mut pos = client(&server.addr).await;
    let mut guest = GuestClient::connect(format!("http://{}", server.addr))
        .await
        .unwrap();

    // A made-up or short link opens nothing.
    for token in ["nope", "ffffffffffffffffffffffff"] {
        let refused = guest
            .get_table(v1::GuestTableRequest {
                token: token.into(),
            })
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::NotFound, "{token}");
    }
    let table = guest
        .get_table(v1::GuestTableRequest {
            token: TOKEN.into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (table.restaurant.as_str(), table.table.as_str()),
        ("Cafe Lumen", "T1")
    );

    let cook = login(&mut pos, 3, "2468").await;
    let cashier = login(&mut pos, 2, "1357").await;
    let mut kitchen = pos
        .watch_kitchen(authed(&cook, v1::GetKitchenRequest::default()))
        .await
        .unwrap()
        .into_inner();
    let first = next_where(&mut kitchen, |_| true).await;
    assert!(first.tickets.is_empty() && first.now > 0);
    let mut floor = pos
        .watch_tables(authed(&cashier, v1::ListTablesRequest::default()))
        .await
        .unwrap()
        .into_inner();

    // A flat white without its milk is refused, and nothing is written.
    let refused = guest
        .place_order(place(1, 100, vec![line(11, 1, &[], 1)]))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    let none = guest
        .get_order(v1::GuestOrderRequest {
            token: TOKEN.into(),
            order: id(100),
        })
        .await
        .unwrap_err();
    assert_eq!(none.code(), Code::NotFound);

    // Oat flat white and two croissants: opened, added and sent in one request.
    let cart = vec![line(12, 1, &[2], 1), line(13, 2, &[], 2)];
    let placed = guest
        .place_order(place(2, 100, cart.clone()))
        .await
        .unwrap()
        .into_inner();
    let order = placed.order.clone().unwrap();
    assert_eq!(order.total, 430 + 2 * 290);
    assert_eq!(order.kitchen, v1::KitchenStatus::Preparing as i32);
    assert!(order.lines.iter().all(|l| l.sent && l.round == 1));
    assert!(matches!(
        order.source.as_ref().and_then(|s| s.kind.clone()),
        Some(v1::source::Kind::SelfOrder(_))
    ));
    // A retry (the answer was lost) is applied once.
    let again = guest
        .place_order(place(2, 100, cart))
        .await
        .unwrap()
        .into_inner();
    assert!(again.replayed);
    assert_eq!(again.order, placed.order);

    // The kitchen's live view gets the ticket, with the table and where it came from.
    let view = next_where(&mut kitchen, |v| !v.tickets.is_empty()).await;
    let ticket = &view.tickets[0];
    assert_eq!((ticket.table.as_str(), ticket.round), ("T1", 1));
    assert_eq!(ticket.lines.len(), 2);
    assert_eq!(
        ticket.lines[0].item.as_ref().unwrap().modifiers[0].name,
        "Oat"
    );
    let mut guest_view = guest
        .watch_order(v1::GuestOrderRequest {
            token: TOKEN.into(),
            order: id(100),
        })
        .await
        .unwrap()
        .into_inner();

    // Only the kitchen bumps.
    let bump = v1::BumpTicketRequest {
        request_id: rid(3),
        order: id(100),
        lines: ids(&ticket.lines),
    };
    let refused = pos
        .bump_ticket(authed(&cashier, bump.clone()))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
    let bumped = pos
        .bump_ticket(authed(&cook, bump))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        bumped.order.unwrap().kitchen,
        v1::KitchenStatus::Ready as i32
    );

    // Pushed everywhere: off the display (into the recall list), ready on the floor and
    // at the table.
    let view = next_where(&mut kitchen, |v| v.tickets.is_empty()).await;
    assert_eq!(view.bumped.len(), 1);
    let ready = next_where(&mut floor, |f| {
        f.tables
            .iter()
            .flat_map(|t| &t.orders)
            .any(|o| o.kitchen == v1::KitchenStatus::Ready as i32)
    })
    .await;
    assert_eq!(ready.tables[0].table.as_ref().unwrap().name, "T1");
    next_where(&mut guest_view, |g| {
        g.order.as_ref().unwrap().kitchen == v1::KitchenStatus::Ready as i32
    })
    .await;

    // Recalled by mistake? Back on the display.
    pos.recall_ticket(authed(
        &cook,
        v1::BumpTicketRequest {
            request_id: rid(4),
            order: id(100),
            lines: ids(&ticket.lines),
        },
    ))
    .await
    .unwrap();
    next_where(&mut kitchen, |v| {
        v.tickets.len() == 1 && v.bumped.is_empty()
    })
    .await;

    // A second round joins the guest's open order as a new ticket.
    let round = guest
        .place_order(place(5, 100, vec![line(14, 2, &[], 1)]))
        .await
        .unwrap()
        .into_inner();
    let order = round.order.unwrap();
    assert_eq!((order.lines.len(), order.lines[2].round), (3, 2));
    next_where(&mut kitchen, |v| v.tickets.len() == 2).await;

    // An order the staff opened at the table is not the guest's to add to.
    pos.open_order(authed(
        &cashier,
        v1::OpenOrderRequest {
            request_id: rid(6),
            order: id(200),
            number: "T1-staff".into(),
            channel: v1::Channel::Table.into(),
            kind: Some(v1::open_order_request::Kind::DineIn(v1::DineIn {
                table: id(1),
                guests: 2,
            })),
            source: None,
            lines: vec![],
        },
    ))
    .await
    .unwrap();
    let refused = guest
        .place_order(place(7, 200, vec![line(15, 2, &[], 1)]))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::NotFound);

    // Sold out: the guest cannot order it.
    let owner = login(&mut pos, 1, "4821").await;
    pos.change_menu(authed(
        &owner,
        v1::ChangeMenuRequest {
            request_id: rid(8),
            change: Some(v1::change_menu_request::Change::Availability(
                v1::Availability {
                    item: id(2),
                    available: false,
                },
            )),
        },
    ))
    .await
    .unwrap();
    let refused = guest
        .place_order(place(9, 300, vec![line(16, 2, &[], 1)]))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(
        refused.message().contains("sold out"),
        "{}",
        refused.message()
    );

    // SIGTERM with live views open: they end (the clients will reconnect), and the node
    // stops instead of waiting for them.
    let mut server = server;
    let pid = server.child.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let ended = tokio::time::timeout(Duration::from_secs(30), kitchen.next())
        .await
        .expect("the kitchen's live view ends when the node stops");
    assert!(ended.as_ref().is_none_or(|r| r.is_err()), "{ended:?}");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while server.child.try_wait().unwrap().is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "the node did not stop with live views open"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(server.child.wait().unwrap().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_later_course_waits_on_the_display_until_it_is_fired() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("node");
    set_up_bistro(&data);
    let server = start(&data);
    let mut pos = client(&server.addr).await;
    let cook = login(&mut pos, 3, "2468").await;
    let cashier = login(&mut pos, 2, "1357").await;
    let mut kitchen = pos
        .watch_kitchen(authed(&cook, v1::GetKitchenRequest::default()))
        .await
        .unwrap()
        .into_inner();

    // A croissant to start (course 0 means the first), two more after it.
    let starter = line(21, 2, &[], 1);
    let later = v1::NewLine {
        course: 2,
        ..line(22, 2, &[], 2)
    };
    let opened = pos
        .open_order(authed(
            &cashier,
            v1::OpenOrderRequest {
                request_id: rid(20),
                order: id(400),
                number: "T1-courses".into(),
                channel: v1::Channel::Table.into(),
                kind: Some(v1::open_order_request::Kind::DineIn(v1::DineIn {
                    table: id(1),
                    guests: 2,
                })),
                source: None,
                lines: vec![starter, later],
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let courses: Vec<u32> = opened
        .order
        .unwrap()
        .lines
        .iter()
        .map(|l| l.course)
        .collect();
    assert_eq!(courses, [1, 2]);

    let fire = |request: u128| v1::FireCourseRequest {
        request_id: rid(request),
        order: id(400),
        course: 2,
    };
    // Nothing of course 2 is in the kitchen yet: there is nothing to fire.
    let refused = pos
        .fire_course(authed(&cashier, fire(21)))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");

    // Sent together, one ticket: course 2 is on it, held.
    pos.send_order(authed(
        &cashier,
        v1::SendOrderRequest {
            request_id: rid(22),
            order: id(400),
            lines: vec![],
        },
    ))
    .await
    .unwrap();
    let held = next_where(&mut kitchen, |v| v.tickets.len() == 1).await;
    let ticket = &held.tickets[0];
    assert!(ticket.fired_courses.is_empty());
    let on_ticket: Vec<u32> = ticket.lines.iter().map(|l| l.course).collect();
    assert_eq!(on_ticket, [1, 2]);

    // The server fires the mains: the order and the display say so, live.
    let fired = pos
        .fire_course(authed(&cashier, fire(23)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(fired.order.as_ref().unwrap().fired_courses, [2]);
    let view = next_where(&mut kitchen, |v| {
        v.tickets
            .first()
            .is_some_and(|t| !t.fired_courses.is_empty())
    })
    .await;
    assert_eq!(view.tickets[0].fired_courses, [2]);

    // A retry of the same tap is the same answer; a second fire is refused.
    let again = pos
        .fire_course(authed(&cashier, fire(23)))
        .await
        .unwrap()
        .into_inner();
    assert!(again.replayed);
    let refused = pos
        .fire_course(authed(&cashier, fire(24)))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(
        refused.message().contains("already fired"),
        "{}",
        refused.message()
    );
}
