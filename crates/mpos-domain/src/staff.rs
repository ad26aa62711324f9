//! Staff roles and what each may do. The node checks every command against the actor's
//! role before the domain decides anything; the web app only hides buttons.

use crate::ids::StaffId;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Owner,
    Manager,
    Cashier,
    Server,
    Kitchen,
}

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
}

impl Role {
    pub fn may(self, p: Permission) -> bool {
        use Permission::*;
        match self {
            // Managers run the back office too; only an owner may make someone an owner
            // or a manager (checked where staff are changed).
            Role::Owner | Role::Manager => true,
            Role::Cashier => matches!(p, Sell | TakePayment | VoidUnsentLine | Drawer),
            Role::Server => matches!(p, Sell | TakePayment | VoidUnsentLine),
            Role::Kitchen => matches!(p, Kitchen),
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
