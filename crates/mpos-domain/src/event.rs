//! Every kind of event a node records in its ledger.

use crate::day::DayClosed;
use crate::drawer::DrawerEvent;
use crate::floor::FloorEvent;
use crate::ids::StaffId;
use crate::inventory::InventoryEvent;
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
    /// Tables set up, renamed or taken out of service.
    Floor(FloorEvent),
    Inventory(InventoryEvent),
}

impl Event {
    /// When it happened, in milliseconds since the epoch.
    pub fn at(&self) -> u64 {
        match self {
            Event::Order(e) => e.at,
            Event::Menu(e) => e.at,
            Event::Staff(e) => e.at,
            Event::Drawer(e) => e.at,
            Event::DayClosed(e) => e.at,
            Event::Floor(e) => e.at,
            Event::Inventory(e) => e.at,
        }
    }
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
