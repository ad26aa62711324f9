//! Orders through the node: events, ledger and projections stay one truth.

use std::collections::BTreeMap;
use std::path::Path;

use mpos_domain::catalog::{Channel, PricedSelection};
use mpos_domain::ids::{CategoryId, ItemId, LineId, OrderId, PaymentId, StaffId};
use mpos_domain::order::{
    Change, Command, Order, OrderEvent, OrderKind, Source, Status, Tender, apply,
};
use mpos_domain::staff::{Actor, Role};
use mpos_domain::{Currency, Event, Money, PriceMode, Refusal, TaxRate};
use mpos_ledger::{EntryRef, VerifyOptions};
use mpos_node::pos::{Action, OrderAction, PosService, Request};
use mpos_node::{DataDir, Ledger, NodeError};
use mpos_store::LedgerItem;
use mpos_store::LedgerStore;
use mpos_store_sqlite::SqliteStore;
use proptest::prelude::*;

pub const CASHIER: Actor = Actor {
    staff: StaffId(1),
    role: Role::Cashier,
};
pub const MANAGER: Actor = Actor {
    staff: StaffId(2),
    role: Role::Manager,
};
pub const OWNER: Actor = Actor {
    staff: StaffId(9),
    role: Role::Owner,
};

pub fn eur(minor: i64) -> Money {
    Money::new(minor, Currency::from_code("EUR").unwrap())
}

pub fn service(dir: &Path) -> PosService<SqliteStore> {
    let data = DataDir::open_or_create(dir).unwrap();
    let store = data.store().unwrap();
    PosService::new(Ledger::open(store, data.into_identity()).unwrap())
}

/// A service whose staff list holds the actors these tests use: an owner (who set the
/// others up), `CASHIER` and `MANAGER`.
pub fn staffed(dir: &Path) -> PosService<SqliteStore> {
    use mpos_domain::staff::{StaffCommand, StaffMember};
    let mut svc = service(dir);
    let owner = Actor {
        staff: StaffId(9),
        role: Role::Owner,
    };
    let put = |id: u128, name: &str, role: Role| {
        StaffCommand::Put(StaffMember {
            id: StaffId(id),
            name: name.into(),
            role,
            active: true,
        })
    };
    let requests = vec![
        Request {
            id: u128::MAX - 3,
            action: Action::Staff(put(9, "Owner", Role::Owner)),
            actor: None,
        },
        Request {
            id: u128::MAX - 2,
            action: Action::Staff(put(1, "Cashier", Role::Cashier)),
            actor: Some(owner),
        },
        Request {
            id: u128::MAX - 1,
            action: Action::Staff(put(2, "Manager", Role::Manager)),
            actor: Some(owner),
        },
    ];
    for r in svc.execute(requests, 500) {
        r.unwrap();
    }
    svc
}

pub fn item(unit: i64) -> PricedSelection {
    PricedSelection {
        station: None,
        item: ItemId(1),
        name: "Pho".into(),
        variant: None,
        modifiers: vec![],
        quantity: 1,
        unit_price: eur(unit),
        tax_rates: vec![TaxRate::from_ppm(80_000)],
        category: CategoryId(1),
    }
}

pub fn open_cmd() -> Command {
    Command::Open {
        number: "T-1".into(),
        channel: Channel::Table,
        kind: OrderKind::DineIn {
            table: None,
            guests: 2,
        },
        source: Source::Register,
        currency: Currency::from_code("EUR").unwrap(),
        mode: PriceMode::Inclusive,
        location: None,
    }
}

pub fn req(id: u128, order: u128, command: Command, actor: Actor) -> Request {
    Request {
        id,
        action: Action::Order {
            order: OrderId(order),
            command: OrderAction::Command(command),
        },
        actor: Some(actor),
    }
}

/// Every order as rebuilt from the ledger alone.
pub fn replay_ledger(svc: &PosService<SqliteStore>) -> BTreeMap<OrderId, Order> {
    let store = svc.ledger().store();
    let mut orders: BTreeMap<OrderId, Order> = BTreeMap::new();
    store
        .stream_ledger(svc.ledger().node_id(), &mut |item| {
            if let LedgerItem::Entry(bytes) = item {
                let entry = EntryRef::decode(bytes).unwrap();
                let Event::Order(e) = mpos_proto::event::decode(entry.payload).unwrap() else {
                    return Ok(());
                };
                let before = orders.remove(&e.order);
                let after = apply(before, &OrderEvent { ..e.clone() }).unwrap();
                orders.insert(e.order, after);
            }
            Ok(())
        })
        .unwrap();
    orders
}

#[test]
fn an_order_is_paid_survives_a_restart_and_its_ledger_replays_to_the_projection() {
    let dir = tempfile::tempdir().unwrap();
    let mut svc = staffed(dir.path());
    svc.execute_one(req(1, 7, open_cmd(), CASHIER), 1_000)
        .unwrap();
    for (i, unit) in [(2u128, 1_250), (3, 900)] {
        let cmd = Command::AddLine {
            line: LineId(i),
            item: item(unit),
            seat: Some(1),
            course: 1,
            note: String::new(),
        };
        svc.execute_one(req(i, 7, cmd, CASHIER), 2_000).unwrap();
    }
    svc.execute_one(req(4, 7, Command::Send { lines: vec![] }, CASHIER), 3_000)
        .unwrap();
    let paid = svc
        .execute_one(
            req(
                5,
                7,
                Command::TakePayment {
                    drawer: None,
                    payment: PaymentId(1),
                    tender: Tender::Cash,
                    amount: eur(2_150),
                    tip: eur(0),
                    cash_received: Some(eur(5_000)),
                },
                CASHIER,
            ),
            4_000,
        )
        .unwrap();
    assert_eq!(paid.order_changes().last(), Some(&&Change::Closed));
    let paid_order = paid.order.clone().unwrap();
    assert_eq!(paid_order.status, Status::Closed);
    let size = svc.ledger().head().size();
    assert_eq!(
        size,
        1 + 3 + 6,
        "the node's certificate; 3 staff set-up entries; open, 2 lines, send, payment, close"
    );
    drop(svc);

    // Restart: the projection and the ledger both have it, and agree.
    let svc = service(dir.path());
    assert_eq!(svc.ledger().head().size(), size);
    let stored = svc.order(OrderId(7)).unwrap().unwrap();
    assert_eq!(stored, paid_order);
    assert_eq!(replay_ledger(&svc)[&OrderId(7)], stored);
    let (file, _) = svc.ledger().export(Vec::new()).unwrap();
    let summary = mpos_ledger::verify(file.as_slice(), &VerifyOptions::default()).unwrap();
    assert_eq!(summary.entries, size);
}

#[test]
fn a_retried_request_is_applied_once_and_returns_its_first_result() {
    let dir = tempfile::tempdir().unwrap();
    let mut svc = staffed(dir.path());
    svc.execute_one(req(1, 7, open_cmd(), CASHIER), 1_000)
        .unwrap();
    let add = Command::AddLine {
        line: LineId(2),
        item: item(1_000),
        seat: None,
        course: 1,
        note: String::new(),
    };
    let first = svc
        .execute_one(req(2, 7, add.clone(), CASHIER), 2_000)
        .unwrap();
    let size = svc.ledger().head().size();

    // The client did not hear back and sends it again (after a restart, even).
    drop(svc);
    let mut svc = staffed(dir.path());
    let again = svc
        .execute_one(req(2, 7, add.clone(), CASHIER), 3_000)
        .unwrap();
    assert!(again.replayed);
    assert_eq!(again.events, first.events);
    assert_eq!(
        (again.first_seq, again.last_seq),
        (first.first_seq, first.last_seq)
    );
    assert_eq!(svc.ledger().head().size(), size);
    assert_eq!(svc.order(OrderId(7)).unwrap().unwrap().lines.len(), 1);

    // A double tap inside one batch.
    let pay = Command::TakePayment {
        drawer: None,
        payment: PaymentId(1),
        tender: Tender::Card {
            reference: "A1".into(),
        },
        amount: eur(1_000),
        tip: eur(0),
        cash_received: None,
    };
    let results = svc.execute(
        vec![req(3, 7, pay.clone(), CASHIER), req(3, 7, pay, CASHIER)],
        4_000,
    );
    let (a, b) = (results[0].as_ref().unwrap(), results[1].as_ref().unwrap());
    assert!(!a.replayed && b.replayed);
    assert_eq!(a.events, b.events);
    assert_eq!(svc.order(OrderId(7)).unwrap().unwrap().payments.len(), 1);

    // The same id for another order is a client bug, refused.
    let err = svc
        .execute_one(req(2, 8, open_cmd(), CASHIER), 5_000)
        .unwrap_err();
    assert!(
        err.to_string().contains("already used for another request"),
        "{err}"
    );
}

#[test]
fn refused_commands_write_nothing_and_do_not_stop_the_batch() {
    let dir = tempfile::tempdir().unwrap();
    let mut svc = staffed(dir.path());
    svc.execute_one(req(1, 7, open_cmd(), CASHIER), 1_000)
        .unwrap();
    let before = (svc.ledger().head().size(), svc.order(OrderId(7)).unwrap());
    for (cmd, actor) in [
        (
            Command::VoidOrder {
                reason: "test".into(),
            },
            CASHIER,
        ),
        (
            Command::AddLine {
                line: LineId(2),
                item: item(100),
                seat: Some(5),
                course: 1,
                note: String::new(),
            },
            CASHIER,
        ),
        (
            Command::TakePayment {
                drawer: None,
                payment: PaymentId(1),
                tender: Tender::Cash,
                amount: eur(1),
                tip: eur(0),
                cash_received: None,
            },
            CASHIER,
        ),
    ] {
        let err = svc.execute_one(req(10, 7, cmd, actor), 2_000).unwrap_err();
        assert!(matches!(err, NodeError::Refused(_)), "{err}");
    }
    assert!(matches!(
        svc.execute_one(req(11, 99, Command::Send { lines: vec![] }, CASHIER), 2_000),
        Err(NodeError::Refused(Refusal::UnknownOrder))
    ));
    assert_eq!(
        (svc.ledger().head().size(), svc.order(OrderId(7)).unwrap()),
        before
    );
    // A refused request id can be used again once the command is right.
    let add = Command::AddLine {
        line: LineId(2),
        item: item(100),
        seat: Some(1),
        course: 1,
        note: String::new(),
    };
    let results = svc.execute(
        vec![
            req(10, 7, add, CASHIER),
            req(
                12,
                7,
                Command::VoidOrder {
                    reason: "walked out".into(),
                },
                CASHIER,
            ),
            req(13, 7, Command::Send { lines: vec![] }, CASHIER),
        ],
        3_000,
    );
    assert!(results[0].is_ok() && results[1].is_err() && results[2].is_ok());
    let order = svc.order(OrderId(7)).unwrap().unwrap();
    assert!(order.lines[0].sent);
    assert_eq!(svc.ledger().head().size(), before.0 + 2);
    assert_eq!(replay_ledger(&svc)[&OrderId(7)], order);
}

#[derive(Debug, Clone)]
enum Step {
    Add(i64, Option<u32>),
    Void(usize, bool),
    Send,
    Pay(i64),
    Refund(usize, i64),
    Discount(Option<usize>, u32),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (1i64..5_000, prop::option::of(1u32..=3)).prop_map(|(p, s)| Step::Add(p, s)),
        (0usize..8, any::<bool>()).prop_map(|(i, m)| Step::Void(i, m)),
        Just(Step::Send),
        (1i64..6_000).prop_map(Step::Pay),
        (0usize..4, 1i64..3_000).prop_map(|(i, a)| Step::Refund(i, a)),
        (prop::option::of(0usize..8), 1u32..500_000).prop_map(|(l, p)| Step::Discount(l, p)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Whatever commands arrive, in whatever batches, the stored projection (written as
    /// the difference from the state before each batch) equals the ledger's replay, and
    /// retried requests change nothing.
    #[test]
    fn projections_always_equal_the_ledger_replay(
        steps in prop::collection::vec(step(), 1..25),
        batch_size in 1usize..5,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut svc = staffed(dir.path());
        svc.execute_one(req(1, 7, open_cmd(), CASHIER), 1_000).unwrap();
        let mut next = 100u128;
        let mut requests = Vec::new();
        for s in &steps {
            next += 1;
            let (cmd, actor) = match s {
                Step::Add(p, seat) => (Command::AddLine { line: LineId(next), item: item(*p), seat: *seat, course: 1, note: String::new() }, CASHIER),
                Step::Void(i, manager) => (Command::VoidLine { line: LineId(101 + *i as u128), reason: "x".into() }, if *manager { MANAGER } else { CASHIER }),
                Step::Send => (Command::Send { lines: vec![] }, CASHIER),
                Step::Pay(a) => (Command::TakePayment { drawer: None, payment: PaymentId(next), tender: Tender::Cash, amount: eur(*a), tip: eur(0), cash_received: None }, CASHIER),
                Step::Refund(i, a) => (Command::Refund { drawer: None, payment: PaymentId(101 + *i as u128), amount: eur(*a), reason: "x".into() }, MANAGER),
                Step::Discount(line, ppm) => (Command::ApplyDiscount {
                    discount: mpos_domain::ids::DiscountId(next),
                    target: line.map_or(mpos_domain::order::DiscountTarget::Order, |i| mpos_domain::order::DiscountTarget::Line(LineId(101 + i as u128))),
                    kind: mpos_domain::order::DiscountKind::Percent(*ppm),
                    reason: "x".into(),
                }, MANAGER),
            };
            requests.push(req(next, 7, cmd, actor));
        }
        let mut t = 2_000;
        let mut succeeded = Vec::new();
        for chunk in requests.chunks(batch_size) {
            t += 10;
            for (r, result) in chunk.iter().zip(svc.execute(chunk.to_vec(), t)) {
                if result.is_ok() { succeeded.push(r.clone()); }
            }
        }
        let size = svc.ledger().head().size();
        // Every applied request again (a refused one may rightly succeed later): all are
        // replays, nothing new is written.
        for chunk in succeeded.chunks(batch_size) {
            for r in svc.execute(chunk.to_vec(), t + 1) {
                prop_assert!(r.unwrap().replayed);
            }
        }
        prop_assert_eq!(svc.ledger().head().size(), size);
        let stored = svc.order(OrderId(7)).unwrap().unwrap();
        prop_assert_eq!(&replay_ledger(&svc)[&OrderId(7)], &stored);
        let t = stored.totals().unwrap();
        prop_assert!(t.paid.minor() <= t.total.minor());
    }
}

#[test]
fn when_the_commit_fails_every_request_of_the_batch_says_so_even_a_repeat() {
    let dir = tempfile::tempdir().unwrap();
    let mut svc = staffed(dir.path());
    svc.execute_one(req(1, 7, open_cmd(), CASHIER), 1_000)
        .unwrap();
    let size = svc.ledger().head().size();
    // The disk refuses the next write (a trigger stands in for a full disk).
    let db = rusqlite::Connection::open(dir.path().join("mpos.sqlite3")).unwrap();
    db.execute_batch("CREATE TRIGGER fail BEFORE INSERT ON ledger_checkpoint BEGIN SELECT RAISE(ABORT, 'disk full'); END;").unwrap();
    let add = Command::AddLine {
        line: LineId(2),
        item: item(500),
        seat: None,
        course: 1,
        note: String::new(),
    };
    let results = svc.execute(
        vec![
            req(2, 7, add.clone(), CASHIER),
            req(2, 7, add.clone(), CASHIER),
        ],
        2_000,
    );
    assert!(results.iter().all(|r| r.is_err()), "{results:?}");
    assert_eq!(svc.ledger().head().size(), size);
    // Once the disk is back, the same request id is applied, once.
    db.execute_batch("DROP TRIGGER fail;").unwrap();
    let a = svc
        .execute_one(req(2, 7, add.clone(), CASHIER), 3_000)
        .unwrap();
    assert!(!a.replayed);
    assert!(
        svc.execute_one(req(2, 7, add, CASHIER), 3_000)
            .unwrap()
            .replayed
    );
    assert_eq!(svc.order(OrderId(7)).unwrap().unwrap().lines.len(), 1);
}

#[test]
fn a_request_id_reused_for_another_action_is_refused_not_replayed() {
    let dir = tempfile::tempdir().unwrap();
    let mut svc = staffed(dir.path());
    svc.execute_one(req(1, 7, open_cmd(), CASHIER), 1_000)
        .unwrap();
    let add = Command::AddLine {
        line: LineId(2),
        item: item(900),
        seat: None,
        course: 1,
        note: String::new(),
    };
    svc.execute_one(req(2, 7, add, CASHIER), 1_000).unwrap();
    // A client bug: the add-item's id sent again with a payment. Answering with the
    // add-item's result would tell the register the payment was taken.
    let pay = |payment: u128| Command::TakePayment {
        drawer: None,
        payment: PaymentId(payment),
        tender: Tender::Cash,
        amount: eur(900),
        tip: eur(0),
        cash_received: None,
    };
    let err = svc
        .execute_one(req(2, 7, pay(1), CASHIER), 2_000)
        .unwrap_err();
    assert!(
        err.to_string().contains("already used for another request"),
        "{err}"
    );
    // The same inside one batch.
    let results = svc.execute(
        vec![req(3, 7, pay(1), CASHIER), req(3, 7, pay(2), CASHIER)],
        3_000,
    );
    assert!(results[0].is_ok());
    assert!(
        results[1]
            .as_ref()
            .unwrap_err()
            .to_string()
            .contains("already used"),
        "{results:?}"
    );
    assert_eq!(svc.order(OrderId(7)).unwrap().unwrap().payments.len(), 1);
}

#[test]
fn a_z_report_counts_the_sales_earlier_in_its_own_batch() {
    use mpos_domain::menu::{MenuCommand, Settings};
    let dir = tempfile::tempdir().unwrap();
    let mut svc = staffed(dir.path());
    let settings = Settings {
        name: "Pho 99".into(),
        currency: Currency::from_code("EUR").unwrap(),
        price_mode: PriceMode::Inclusive,
    };
    svc.execute_one(
        Request {
            id: 900,
            action: Action::Menu(MenuCommand::PutSettings(settings)),
            actor: Some(MANAGER),
        },
        600,
    )
    .unwrap();
    let batch = vec![
        req(1, 7, open_cmd(), CASHIER),
        req(
            2,
            7,
            Command::AddLine {
                line: LineId(1),
                item: item(1_250),
                seat: None,
                course: 1,
                note: String::new(),
            },
            CASHIER,
        ),
        req(
            3,
            7,
            Command::TakePayment {
                payment: PaymentId(1),
                tender: Tender::Cash,
                amount: eur(1_250),
                tip: eur(0),
                cash_received: None,
                drawer: None,
            },
            CASHIER,
        ),
        Request {
            id: 4,
            action: Action::CloseDay,
            actor: Some(MANAGER),
        },
    ];
    let mut results = svc.execute(batch, 1_000);
    let z = results.pop().unwrap().unwrap();
    let Event::DayClosed(day) = &z.events[0] else {
        panic!("a Z records DayClosed, not {:?}", z.events);
    };
    assert_eq!((day.day, day.orders, day.sales), (1, 1, eur(1_250)));
    assert_eq!(
        day.to_seq,
        z.first_seq - 1,
        "the day ends right before its Z"
    );
    // Rebuilt from the committed ledger, the day reads the same.
    let report = mpos_node::day::closed_report(svc.ledger().store(), svc.ledger().node_id(), 1)
        .unwrap()
        .unwrap();
    assert_eq!((report.orders, report.sales_total), (1, eur(1_250)));
    assert_eq!(report.tenders[0].amount, eur(1_250));
}
