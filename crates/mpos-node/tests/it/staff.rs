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
