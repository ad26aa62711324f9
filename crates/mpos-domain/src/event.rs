//! Every kind of event a node records in its ledger.

use crate::ids::StaffId;
use crate::menu::MenuChange;
use crate::order::OrderEvent;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    Order(OrderEvent),
    Menu(MenuEvent),
}

/// A change to the menu, with who made it and when (milliseconds since the epoch).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MenuEvent {
    pub by: StaffId,
    pub at: u64,
    pub change: MenuChange,
}
