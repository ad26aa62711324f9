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
    /// A node of the organization certified, or revoked.
    Trust(TrustEvent),
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
            Event::Trust(e) => e.at,
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

/// A node joining or leaving the organization, as the organization's root key signed it.
/// The signed statements are bytes that `mpos_ledger` reads and checks (`NodeCertificate`,
/// `Revocation`): the restaurant's rules only carry them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustEvent {
    /// Who paired or revoked the node; none for a node's own certificate.
    pub by: Option<StaffId>,
    pub at: u64,
    pub change: TrustChange,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TrustChange {
    /// A node's certificate. Every node's ledger begins with its own, and the node that
    /// paired a new terminal records the certificate it issued.
    NodeCertified { certificate: Vec<u8> },
    /// The root key's revocation of a node, with the owner's reason.
    NodeRevoked { revocation: Vec<u8>, reason: String },
}
