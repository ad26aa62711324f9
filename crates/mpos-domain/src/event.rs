//! Every kind of event a node records in its ledger.

use crate::day::DayClosed;
use crate::drawer::DrawerEvent;
use crate::ids::StaffId;
use crate::menu::MenuChange;
use crate::order::OrderEvent;
use crate::staff::StaffChange;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    Order(OrderEvent),
    Menu(MenuEvent),
    Staff(StaffEvent),
    Drawer(DrawerEvent),
    /// A Z-report closed the business day.
    DayClosed(DayClosed),
}

/// A change to the staff list. `by` is none when the first owner set up the restaurant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffEvent {
    pub by: Option<StaffId>,
    pub at: u64,
    pub change: StaffChange,
}

/// A change to the menu, with who made it and when (milliseconds since the epoch).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MenuEvent {
    pub by: StaffId,
    pub at: u64,
    pub change: MenuChange,
}
