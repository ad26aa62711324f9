//! A digest of everything a node's projections hold: the ledgers (each node's size and
//! head), the orders, the menu, staff and their PIN hashes, the floor, drawers, stock
//! levels and values, purchase orders and transfers, and the organization's nodes. Nodes that
//! hold the same ledgers must have the same digest, whatever order the entries reached
//! them in: that is what sync promises, and what the tests compare.
//!
//! Stock levels count with their values at cost: each movement carries the value its
//! node gave it, so values add up the same in any order too. Receipt codes and print
//! queues are this node's own.

use std::fmt::Write as _;

use mpos_ledger::Hash;
use mpos_store::PosStore;

use crate::error::NodeError;

/// Lines of text, one per row, sorted within each part, hashed with SHA-256.
pub fn state_digest<S: PosStore>(store: &S) -> Result<Hash, NodeError> {
    let text = state_text(store)?;
    Ok(Hash(mpos_ledger::hash::sha256(&[text.as_bytes()])))
}

/// The text `state_digest` hashes: useful to see where two nodes differ.
pub fn state_text<S: PosStore>(store: &S) -> Result<String, NodeError> {
    let mut out = String::new();
    let mut part = |name: &str, mut rows: Vec<String>| {
        rows.sort();
        let _ = writeln!(out, "# {name}");
        for r in rows {
            let _ = writeln!(out, "{r}");
        }
    };
    let mut ledgers = Vec::new();
    for key in store.node_keys()? {
        if let Some(head) = store.chain_head(key.node_id())? {
            ledgers.push(format!(
                "{} {} {}",
                key.node_id(),
                head.size(),
                head.head_hash()
            ));
        }
    }
    part("ledgers", ledgers);
    part(
        "orders",
        store
            .recent_orders(None, None, "", usize::MAX)?
            .iter()
            .map(|o| format!("{o:?}"))
            .collect(),
    );
    part("settings", vec![format!("{:?}", store.settings()?)]);
    part("taxes", debug(store.tax_categories()?));
    let categories = store.categories()?;
    let mut items = Vec::new();
    for c in &categories {
        items.extend(debug(store.category_items(c.id, 0, usize::MAX)?));
    }
    part("categories", debug(categories));
    part("items", items);
    part("modifier groups", debug(store.modifier_groups()?));
    part("staff", debug(store.staff()?));
    part(
        "pins",
        store
            .pin_hashes()?
            .iter()
            .map(|p| format!("{} {} {}", p.staff, p.hash, p.changed_at))
            .collect(),
    );
    part("tables", debug(store.tables()?));
    part("drawers", debug(store.recent_drawers(None, usize::MAX)?));
    part("locations", debug(store.locations()?));
    part("stock items", debug(store.stock_items()?));
    part("suppliers", debug(store.suppliers()?));
    part("par levels", debug(store.par_levels()?));
    part("recipes", debug(store.recipes()?));
    part(
        "stock",
        store
            .stock_levels(None)?
            .iter()
            .map(|(l, i, v)| format!("{l} {i} {} {}", v.milli, v.value))
            .collect(),
    );
    part("transfers", debug(store.transfers_in_transit()?));
    part("disputed transfers", debug(store.disputed_transfers()?));
    part("purchase orders", debug(store.purchase_orders()?));
    part("nodes", debug(store.organization_nodes()?));
    part("revocations", debug(store.revocations()?));
    Ok(out)
}

fn debug<T: std::fmt::Debug>(rows: Vec<T>) -> Vec<String> {
    rows.iter().map(|r| format!("{r:?}")).collect()
}
