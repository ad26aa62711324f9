//! Staff: setting up the first owner, PIN login with lockout, roles enforced by the node,
//! and PIN hashes kept out of the ledger.

use mpos_domain::ids::StaffId;
use mpos_domain::staff::{Actor, Role, StaffCommand, StaffMember};
use mpos_node::NodeError;
use mpos_node::pos::{Action, Request};
use mpos_node::staff::LoginGuard;
use mpos_store::PosStore;

use crate::orders::service;

fn staff(id: u128, actor: Option<Actor>, cmd: StaffCommand) -> Request {
    Request {
        id,
        action: Action::Staff(cmd),
        actor,
    }
}

fn member(id: u128, name: &str, role: Role) -> StaffMember {
    StaffMember {
        id: StaffId(id),
        name: name.into(),
        role,
        active: true,
    }
}

#[test]
fn an_owner_sets_up_staff_who_log_in_with_pins_that_never_reach_the_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let mut svc = service(dir.path());
    // Setting up: the first owner, with no one logged in.
    svc.execute_one(
        staff(1, None, StaffCommand::Put(member(1, "Ana", Role::Owner))),
        1_000,
    )
    .unwrap();
    svc.execute_one(
        staff(
            2,
            None,
            StaffCommand::SetPin {
                staff: StaffId(1),
                pin: "4821".into(),
            },
        ),
        1_000,
    )
    .unwrap();
    // After that, nobody gets in without logging in.
    let err = svc
        .execute_one(
            staff(3, None, StaffCommand::Put(member(2, "Bao", Role::Owner))),
            1_000,
        )
        .unwrap_err();
    assert!(err.to_string().contains("nobody logged in"), "{err}");

    let mut guard = LoginGuard::default();
    let owner = guard
        .login(svc.ledger().store(), StaffId(1), "4821", 2_000)
        .unwrap();
    assert_eq!(owner.role, Role::Owner);
    svc.execute_one(
        staff(
            4,
            Some(owner),
            StaffCommand::Put(member(2, "Bao", Role::Cashier)),
        ),
        2_000,
    )
    .unwrap();
    svc.execute_one(
        staff(
            5,
            Some(owner),
            StaffCommand::SetPin {
                staff: StaffId(2),
                pin: "1357".into(),
            },
        ),
        2_000,
    )
    .unwrap();
    let cashier = guard
        .login(svc.ledger().store(), StaffId(2), "1357", 3_000)
        .unwrap();
    assert_eq!(
        cashier,
        Actor {
            staff: StaffId(2),
            role: Role::Cashier
        }
    );
    // A cashier may not make a manager.
    let err = svc
        .execute_one(
            staff(
                6,
                Some(cashier),
                StaffCommand::Put(member(3, "Chi", Role::Manager)),
            ),
            3_000,
        )
        .unwrap_err();
    assert!(matches!(err, NodeError::Refused(_)), "{err}");

    // Wrong PIN, unknown staff and inactive staff all get the same answer.
    assert!(matches!(
        guard.login(svc.ledger().store(), StaffId(2), "0000", 4_000),
        Err(NodeError::WrongPin)
    ));
    assert!(matches!(
        guard.login(svc.ledger().store(), StaffId(99), "1357", 4_000),
        Err(NodeError::WrongPin)
    ));

    // The ledger records that PINs changed, never the PINs or their hashes.
    let (export, _) = svc.ledger().export(Vec::new()).unwrap();
    let text = String::from_utf8_lossy(&export);
    assert!(!text.contains("argon2") && !text.contains("4821") && !text.contains("1357"));
    assert!(
        svc.ledger()
            .store()
            .pin_hash(StaffId(1))
            .unwrap()
            .unwrap()
            .starts_with("$argon2id$")
    );

    // Deactivated staff can no longer log in.
    let mut gone = member(2, "Bao", Role::Cashier);
    gone.active = false;
    svc.execute_one(staff(7, Some(owner), StaffCommand::Put(gone)), 5_000)
        .unwrap();
    assert!(matches!(
        guard.login(svc.ledger().store(), StaffId(2), "1357", 5_000),
        Err(NodeError::WrongPin)
    ));
}

#[test]
fn repeated_wrong_pins_lock_the_staff_member_for_longer_each_time() {
    let dir = tempfile::tempdir().unwrap();
    let mut svc = service(dir.path());
    svc.execute_one(
        staff(1, None, StaffCommand::Put(member(1, "Ana", Role::Owner))),
        1_000,
    )
    .unwrap();
    svc.execute_one(
        staff(
            2,
            None,
            StaffCommand::SetPin {
                staff: StaffId(1),
                pin: "4821".into(),
            },
        ),
        1_000,
    )
    .unwrap();
    let store = svc.ledger().store();
    let mut guard = LoginGuard::default();
    let t = 10_000;
    for _ in 0..5 {
        assert!(matches!(
            guard.login(store, StaffId(1), "1111", t),
            Err(NodeError::WrongPin)
        ));
    }
    // Locked: even the right PIN is refused until the lock runs out.
    match guard.login(store, StaffId(1), "4821", t + 1_000) {
        Err(NodeError::Locked { retry_after_millis }) => assert_eq!(retry_after_millis, 29_000),
        other => panic!("{other:?}"),
    }
    // One more miss after the lock doubles it.
    assert!(matches!(
        guard.login(store, StaffId(1), "1111", t + 30_000),
        Err(NodeError::WrongPin)
    ));
    match guard.login(store, StaffId(1), "4821", t + 31_000) {
        Err(NodeError::Locked { retry_after_millis }) => assert_eq!(retry_after_millis, 59_000),
        other => panic!("{other:?}"),
    }
    // The right PIN after the lock works, and clears the count.
    assert!(guard.login(store, StaffId(1), "4821", t + 91_000).is_ok());
    assert!(matches!(
        guard.login(store, StaffId(1), "1111", t + 92_000),
        Err(NodeError::WrongPin)
    ));
    assert!(guard.login(store, StaffId(1), "4821", t + 92_000).is_ok());
}

#[test]
fn a_session_loses_its_powers_when_its_owner_is_demoted_or_leaves_and_the_last_owner_stays() {
    use mpos_domain::ids::{OrderId, PaymentId};
    use mpos_domain::order::{Command, Tender};
    let dir = tempfile::tempdir().unwrap();
    let mut svc = service(dir.path());
    svc.execute_one(
        staff(1, None, StaffCommand::Put(member(1, "Ana", Role::Owner))),
        1_000,
    )
    .unwrap();
    svc.execute_one(
        staff(
            2,
            None,
            StaffCommand::SetPin {
                staff: StaffId(1),
                pin: "4821".into(),
            },
        ),
        1_000,
    )
    .unwrap();
    let owner = Actor {
        staff: StaffId(1),
        role: Role::Owner,
    };
    svc.execute_one(
        staff(
            3,
            Some(owner),
            StaffCommand::Put(member(2, "Bao", Role::Manager)),
        ),
        1_000,
    )
    .unwrap();
    let open = mpos_domain::order::Command::Open {
        number: "T-1".into(),
        channel: mpos_domain::catalog::Channel::Counter,
        kind: mpos_domain::order::OrderKind::Takeaway,
        source: mpos_domain::order::Source::Register,
        currency: mpos_domain::Currency::from_code("EUR").unwrap(),
        mode: mpos_domain::PriceMode::Inclusive,
        location: None,
    };
    svc.execute_one(
        Request {
            id: 20,
            action: Action::Order {
                order: OrderId(1),
                command: mpos_node::pos::OrderAction::Command(open),
            },
            actor: Some(owner),
        },
        1_000,
    )
    .unwrap();
    // Bao logged in as a manager (the session carries that role)...
    let stale = Actor {
        staff: StaffId(2),
        role: Role::Manager,
    };
    // ...then was made a cashier, then left.
    svc.execute_one(
        staff(
            4,
            Some(owner),
            StaffCommand::Put(member(2, "Bao", Role::Cashier)),
        ),
        2_000,
    )
    .unwrap();
    let refund = Request {
        id: 5,
        action: Action::Order {
            order: OrderId(1),
            command: mpos_node::pos::OrderAction::Command(Command::Refund {
                drawer: None,
                payment: PaymentId(1),
                amount: mpos_domain::Money::new(
                    1,
                    mpos_domain::Currency::from_code("EUR").unwrap(),
                ),
                reason: "x".into(),
            }),
        },
        actor: Some(stale),
    };
    let err = svc.execute_one(refund.clone(), 2_000).unwrap_err();
    assert!(err.to_string().contains("a cashier may not"), "{err}");
    let mut gone = member(2, "Bao", Role::Cashier);
    gone.active = false;
    svc.execute_one(staff(6, Some(owner), StaffCommand::Put(gone)), 3_000)
        .unwrap();
    let err = svc
        .execute_one(Request { id: 7, ..refund }, 3_000)
        .unwrap_err();
    assert!(err.to_string().contains("former staff member"), "{err}");
    let _ = Tender::Cash;

    // The only owner cannot step down or leave: nobody could appoint owners again.
    let mut demoted = member(1, "Ana", Role::Manager);
    let err = svc
        .execute_one(
            staff(8, Some(owner), StaffCommand::Put(demoted.clone())),
            4_000,
        )
        .unwrap_err();
    assert!(err.to_string().contains("last active owner"), "{err}");
    svc.execute_one(
        staff(
            9,
            Some(owner),
            StaffCommand::Put(member(3, "Chi", Role::Owner)),
        ),
        4_000,
    )
    .unwrap();
    demoted.name = "Ana (retired)".into();
    svc.execute_one(staff(10, Some(owner), StaffCommand::Put(demoted)), 4_000)
        .unwrap();
}
