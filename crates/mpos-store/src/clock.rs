//! Which shared entity a change puts whole (a menu item, a staff member, a table, a stock
//! item...), so that changes made on several nodes settle the same way everywhere: the one
//! with the latest time (HLC, then node id) stands, whatever order they arrive in (last
//! writer wins). An item's availability (86) is an entity of its own, so 86ing an item on
//! one register and renaming it on another both stand.

use mpos_domain::Event;
use mpos_domain::floor::FloorChange;
use mpos_domain::inventory::{InventoryChange, RecipeFor};
use mpos_domain::menu::MenuChange;
use mpos_domain::staff::StaffChange;
use mpos_ledger::NodeId;

/// A shared entity: what kind, and its id as bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntityKey {
    pub kind: String,
    pub id: Vec<u8>,
}

impl EntityKey {
    fn new(kind: &str, id: &[u128]) -> EntityKey {
        EntityKey {
            kind: kind.to_string(),
            id: id.iter().flat_map(|i| i.to_be_bytes()).collect(),
        }
    }
}

/// When an entity was last put, and by which node: the change that stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityClock {
    pub key: EntityKey,
    pub hlc: u64,
    pub node: NodeId,
}

impl EntityClock {
    /// Whether a change at `hlc` by `node` comes after this one.
    pub fn is_before(&self, hlc: u64, node: NodeId) -> bool {
        (self.hlc, self.node) < (hlc, node)
    }
}

/// The entities an event puts whole; none for events that add up (sales, movements) or
/// follow a life (orders, drawers, transfers).
pub fn entities(event: &Event) -> Vec<EntityKey> {
    match event {
        Event::Menu(e) => match &e.change {
            MenuChange::SettingsPut(_) => vec![EntityKey::new("settings", &[])],
            MenuChange::TaxCategoryPut(t) => vec![EntityKey::new("tax_category", &[t.id.0])],
            MenuChange::CategoryPut(c) => vec![EntityKey::new("category", &[c.id.0])],
            MenuChange::ModifierGroupPut(g) => vec![EntityKey::new("modifier_group", &[g.id.0])],
            MenuChange::ItemPut(i) => vec![
                EntityKey::new("item", &[i.id.0]),
                EntityKey::new("availability", &[i.id.0]),
            ],
            MenuChange::AvailabilitySet { item, .. } => {
                vec![EntityKey::new("availability", &[item.0])]
            }
        },
        Event::Staff(e) => match &e.change {
            StaffChange::Put(m) => vec![EntityKey::new("staff", &[m.id.0])],
            StaffChange::PinChanged { .. } => Vec::new(),
        },
        Event::Floor(e) => match &e.change {
            FloorChange::TablePut(t) => vec![EntityKey::new("table", &[t.id.0])],
        },
        Event::Inventory(e) => match &e.change {
            InventoryChange::PutLocation(l) => vec![EntityKey::new("location", &[l.id.0])],
            InventoryChange::PutStockItem(i) => vec![EntityKey::new("stock_item", &[i.id.0])],
            InventoryChange::PutSupplier(s) => vec![EntityKey::new("supplier", &[s.id.0])],
            InventoryChange::SetPar { location, item, .. } => {
                vec![EntityKey::new("par", &[location.0, item.0])]
            }
            InventoryChange::PutRecipe(r) => vec![match r.target {
                RecipeFor::Item(i) => EntityKey::new("recipe_item", &[i.0]),
                RecipeFor::Variant(i, v) => EntityKey::new("recipe_variant", &[i.0, v.0]),
                RecipeFor::Modifier(m) => EntityKey::new("recipe_modifier", &[m.0]),
            }],
            // Kept per node, and set only by that node: its own ledger orders them.
            InventoryChange::SetSalesStock(_)
            | InventoryChange::Moved(_)
            | InventoryChange::PurchaseOrderDrafted(_)
            | InventoryChange::PurchaseOrderSent(_) => Vec::new(),
        },
        Event::Order(_) | Event::Drawer(_) | Event::DayClosed(_) | Event::Trust(_) => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_later_change_wins_and_ties_go_to_the_greater_node() {
        let clock = EntityClock {
            key: EntityKey::new("item", &[1]),
            hlc: 10,
            node: NodeId([5; 16]),
        };
        assert!(clock.is_before(11, NodeId([0; 16])));
        assert!(clock.is_before(10, NodeId([6; 16])));
        assert!(!clock.is_before(10, NodeId([5; 16])));
        assert!(!clock.is_before(9, NodeId([9; 16])));
    }
}
