//! Staff roles and what each may do. The node checks every command against the actor's
//! role before the domain decides anything; the web app only hides buttons.

use crate::ids::StaffId;
use crate::refusal::Refusal;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Owner,
    Manager,
    Cashier,
    Server,
    Kitchen,
    /// A customer ordering from a table's link: not a member of staff, never stored as
    /// one. Records their self-orders as `GUEST`.
    Guest,
}

/// Who a guest's events are recorded as: no member of staff has this id.
pub const GUEST: StaffId = StaffId(0);

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Owner,
        Role::Manager,
        Role::Cashier,
        Role::Server,
        Role::Kitchen,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Manager => "manager",
            Role::Cashier => "cashier",
            Role::Server => "server",
            Role::Kitchen => "kitchen",
            Role::Guest => "guest",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.name() == text)
    }
}

/// Something a staff member may or may not do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permission {
    /// Open orders, add lines, send to the kitchen.
    Sell,
    /// Take payments.
    TakePayment,
    /// Void a line the kitchen has not seen yet (a correction).
    VoidUnsentLine,
    /// Void a line already sent, or a whole order.
    VoidSent,
    Discount,
    Refund,
    /// Open, count and close the cash drawer; pay in and out.
    Drawer,
    /// Bump and recall tickets on the kitchen display.
    Kitchen,
    /// X and Z reports.
    Reports,
    /// Edit the menu, prices, taxes; 86 items.
    ManageMenu,
    ManageStaff,
    /// Receive, waste, count and transfer stock.
    Stock,
    /// Stock items, recipes, par levels, suppliers and purchase orders.
    ManageStock,
}

impl Permission {
    /// What it lets staff do, as a refusal says it: "a cashier may not ...".
    pub fn what(self) -> &'static str {
        match self {
            Permission::Sell => "sell (open orders, add lines, send them to the kitchen)",
            Permission::TakePayment => "take payments",
            Permission::VoidUnsentLine => "void a line the kitchen has not seen",
            Permission::VoidSent => "void a line already sent to the kitchen, or a whole order",
            Permission::Discount => "give discounts",
            Permission::Refund => "refund payments",
            Permission::Drawer => "open, count or close the cash drawer, or pay in and out",
            Permission::Kitchen => "bump or recall tickets on the kitchen display",
            Permission::Reports => "see reports",
            Permission::ManageMenu => "edit the menu",
            Permission::ManageStaff => "manage staff",
            Permission::Stock => "receive, waste, count or transfer stock",
            Permission::ManageStock => "set up stock items, recipes and suppliers",
        }
    }

    pub const ALL: [Permission; 13] = [
        Permission::Sell,
        Permission::TakePayment,
        Permission::VoidUnsentLine,
        Permission::VoidSent,
        Permission::Discount,
        Permission::Refund,
        Permission::Drawer,
        Permission::Kitchen,
        Permission::Reports,
        Permission::ManageMenu,
        Permission::ManageStaff,
        Permission::Stock,
        Permission::ManageStock,
    ];
}

impl Role {
    /// Everything this role may do.
    pub fn permissions(self) -> impl Iterator<Item = Permission> {
        Permission::ALL.into_iter().filter(move |p| self.may(*p))
    }

    pub fn may(self, p: Permission) -> bool {
        use Permission::*;
        match self {
            // Managers run the back office too; only an owner may make someone an owner
            // or a manager (checked where staff are changed).
            Role::Owner | Role::Manager => true,
            Role::Cashier => matches!(p, Sell | TakePayment | VoidUnsentLine | Drawer),
            Role::Server => matches!(p, Sell | TakePayment | VoidUnsentLine),
            // Cooks take deliveries, count the walk-in and throw out what spoiled.
            Role::Kitchen => matches!(p, Kitchen | Stock),
            Role::Guest => false,
        }
    }
}

/// Who is doing something: every event records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Actor {
    pub staff: StaffId,
    pub role: Role,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_grant_what_a_restaurant_expects() {
        use Permission::*;
        // (role, permission, allowed)
        let table = [
            (Role::Cashier, Sell, true),
            (Role::Cashier, VoidUnsentLine, true),
            (Role::Cashier, VoidSent, false),
            (Role::Cashier, Refund, false),
            (Role::Cashier, Discount, false),
            (Role::Cashier, Reports, false),
            (Role::Server, Drawer, false),
            (Role::Kitchen, Sell, false),
            (Role::Kitchen, Kitchen, true),
            (Role::Manager, Refund, true),
            (Role::Manager, VoidSent, true),
            (Role::Manager, Reports, true),
            (Role::Owner, ManageStaff, true),
        ];
        for (role, p, allowed) in table {
            assert_eq!(role.may(p), allowed, "{role:?} {p:?}");
        }
        assert_eq!(Role::parse("manager"), Some(Role::Manager));
        assert_eq!(Role::parse("boss"), None);
    }
}

/// A member of staff as the ledger records them. Their PIN is not here: only its argon2
/// hash is kept, on the node, outside the ledger (an export must never carry anything a
/// 4-digit PIN could be brute-forced from).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffMember {
    pub id: StaffId,
    pub name: String,
    pub role: Role,
    /// False once they left: they can no longer log in; their past stays theirs.
    pub active: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StaffCommand {
    Put(StaffMember),
    /// The node hashes the PIN; the ledger records only that it changed.
    SetPin {
        staff: StaffId,
        pin: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StaffChange {
    Put(StaffMember),
    PinChanged { staff: StaffId },
}

/// PINs are 4 to 8 digits: quick on a touch screen, and with rate-limited login attempts
/// at the node, slow to guess.
pub fn check_pin(pin: &str) -> Result<(), Refusal> {
    if !(4..=8).contains(&pin.len()) || !pin.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Refusal::Invalid("a PIN is 4 to 8 digits".into()));
    }
    Ok(())
}

/// Checks a staff command. `existing` is the staff member the command names, if any;
/// `active_owners` counts the active owners now.
/// Until `someone_can_log_in` (no PIN is set yet: a new restaurant being set up), owners
/// may be added and given a PIN with nobody logged in; after that, never.
pub fn decide_staff(
    command: &StaffCommand,
    actor: Option<Actor>,
    existing: Option<&StaffMember>,
    someone_can_log_in: bool,
    active_owners: usize,
) -> Result<Vec<StaffChange>, Refusal> {
    match command {
        StaffCommand::Put(member) => {
            if member.name.trim().is_empty() {
                return Err(Refusal::Invalid("a staff member needs a name".into()));
            }
            // Someone must always be able to appoint managers and owners.
            let was_active_owner = existing.is_some_and(|e| e.active && e.role == Role::Owner);
            let stays_active_owner = member.active && member.role == Role::Owner;
            if was_active_owner && !stays_active_owner && active_owners <= 1 {
                return Err(Refusal::Invalid(
                    "this is the last active owner: appoint another owner first".into(),
                ));
            }
            match actor {
                None if !someone_can_log_in && member.role == Role::Owner => {}
                None => {
                    return Err(Refusal::NotAllowed {
                        role: "nobody logged in",
                        action: "manage staff".into(),
                    });
                }
                Some(a) => {
                    if !a.role.may(Permission::ManageStaff) {
                        return Err(Refusal::NotAllowed {
                            role: a.role.name(),
                            action: "manage staff".into(),
                        });
                    }
                    // Only an owner makes (or unmakes) owners and managers.
                    let touches_top = matches!(member.role, Role::Owner | Role::Manager)
                        || existing.is_some_and(|e| matches!(e.role, Role::Owner | Role::Manager));
                    if touches_top && a.role != Role::Owner {
                        return Err(Refusal::NotAllowed {
                            role: a.role.name(),
                            action: "appoint owners or managers".into(),
                        });
                    }
                    if a.staff == member.id && !member.active {
                        return Err(Refusal::Invalid("you cannot deactivate yourself".into()));
                    }
                }
            }
            Ok(vec![StaffChange::Put(member.clone())])
        }
        StaffCommand::SetPin { staff, pin } => {
            check_pin(pin)?;
            let member =
                existing.ok_or_else(|| Refusal::Invalid(format!("no staff member {staff}")))?;
            match actor {
                // Setting up: the first owner sets their own PIN.
                None if member.role == Role::Owner && !someone_can_log_in => {}
                Some(a) if a.staff == member.id || a.role.may(Permission::ManageStaff) => {
                    if a.staff != member.id
                        && matches!(member.role, Role::Owner | Role::Manager)
                        && a.role != Role::Owner
                    {
                        return Err(Refusal::NotAllowed {
                            role: a.role.name(),
                            action: "set a manager's PIN".into(),
                        });
                    }
                }
                Some(a) => {
                    return Err(Refusal::NotAllowed {
                        role: a.role.name(),
                        action: "set another person's PIN".into(),
                    });
                }
                None => {
                    return Err(Refusal::NotAllowed {
                        role: "nobody logged in",
                        action: "set a PIN".into(),
                    });
                }
            }
            Ok(vec![StaffChange::PinChanged { staff: *staff }])
        }
    }
}

#[cfg(test)]
mod staff_tests {
    use super::*;

    fn member(id: u128, role: Role) -> StaffMember {
        StaffMember {
            id: StaffId(id),
            name: format!("staff {id}"),
            role,
            active: true,
        }
    }

    #[test]
    fn the_first_owner_sets_up_then_roles_decide() {
        let owner = member(1, Role::Owner);
        assert!(decide_staff(&StaffCommand::Put(owner.clone()), None, None, false, 1).is_ok());
        assert!(
            decide_staff(
                &StaffCommand::Put(member(2, Role::Cashier)),
                None,
                None,
                false,
                1
            )
            .is_err()
        );
        assert!(
            decide_staff(
                &StaffCommand::Put(member(3, Role::Owner)),
                None,
                None,
                true,
                1
            )
            .is_err()
        );
        let as_owner = Some(Actor {
            staff: StaffId(1),
            role: Role::Owner,
        });
        let as_manager = Some(Actor {
            staff: StaffId(2),
            role: Role::Manager,
        });
        let as_cashier = Some(Actor {
            staff: StaffId(3),
            role: Role::Cashier,
        });
        assert!(
            decide_staff(
                &StaffCommand::Put(member(4, Role::Manager)),
                as_owner,
                None,
                true,
                1
            )
            .is_ok()
        );
        assert!(
            decide_staff(
                &StaffCommand::Put(member(4, Role::Cashier)),
                as_manager,
                None,
                true,
                1
            )
            .is_ok()
        );
        assert!(
            decide_staff(
                &StaffCommand::Put(member(4, Role::Manager)),
                as_manager,
                None,
                true,
                1
            )
            .is_err()
        );
        assert!(
            decide_staff(
                &StaffCommand::Put(member(4, Role::Cashier)),
                as_cashier,
                None,
                true,
                1
            )
            .is_err()
        );
        let pin = |staff: u128, pin: &str| StaffCommand::SetPin {
            staff: StaffId(staff),
            pin: pin.into(),
        };
        let cashier = member(3, Role::Cashier);
        assert!(decide_staff(&pin(3, "2468"), as_cashier, Some(&cashier), true, 1).is_ok());
        assert!(decide_staff(&pin(3, "24a8"), as_cashier, Some(&cashier), true, 1).is_err());
        assert!(decide_staff(&pin(3, "123"), as_cashier, Some(&cashier), true, 1).is_err());
        assert!(decide_staff(&pin(1, "2468"), as_cashier, Some(&owner), true, 1).is_err());
        assert!(decide_staff(&pin(1, "2468"), as_manager, Some(&owner), true, 1).is_err());
        assert!(decide_staff(&pin(3, "9999"), as_manager, Some(&cashier), true, 1).is_ok());
        assert!(decide_staff(&pin(1, "1357"), None, Some(&owner), false, 1).is_ok());
    }
}
