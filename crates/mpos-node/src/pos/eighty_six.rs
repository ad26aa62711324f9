//! Items sold while 86'd. A register refuses an item it knows is 86'd, but one that has not
//! heard yet (apart from the others, or just slower) sells it; once both ledgers meet, the
//! line is flagged for a manager (`Conflict::SoldWhile86d`): the kitchen may not have it.
//!
//! Whether a line was sold while 86'd is read in the organization's time: the latest
//! availability change of its item (86'd or back, `item_availability`) before the line's
//! entry (HLC, then node, as every node orders them). Entries arrive in any order, so a
//! change can arrive after the sales it judges: those are found again in the ledgers held
//! here (each node's entries are in strictly increasing time, so a binary search finds the
//! first one after the change) and judged again, which also clears a flag when an earlier
//! "back on" arrives late. Every node ends with the same flags once it holds the same
//! entries; nothing is dropped or undone.

use std::collections::{HashMap, HashSet};

use mpos_domain::Event;
use mpos_domain::ids::{ItemId, LineId, OrderId};
use mpos_domain::order::Change;
use mpos_ledger::{EntryRef, NodeId};
use mpos_proto::event::{SCHEMA, decode};
use mpos_store::{AvailabilityChange, PosStore, SoldWhile86d, StoreError};

use super::PosService;
use crate::error::NodeError;

/// A line sold: its order, its item and its entry's time and node.
#[derive(Debug, Clone, Copy)]
pub(super) struct Sale {
    pub order: OrderId,
    pub line: LineId,
    pub item: ItemId,
    pub hlc: u64,
}

/// What a run of another node's entries changes in the flags.
#[derive(Debug, Default)]
pub(super) struct Judged {
    pub flagged: Vec<SoldWhile86d>,
    pub cleared: Vec<(OrderId, LineId)>,
}

impl Judged {
    /// Each line judged otherwise than before: flagged (true) or cleared.
    pub fn lines(&self) -> impl Iterator<Item = (OrderId, LineId, bool)> + '_ {
        self.flagged
            .iter()
            .map(|f| (f.order, f.line, true))
            .chain(self.cleared.iter().map(|&(o, l)| (o, l, false)))
    }
}

/// Was the item 86'd when `sale` was sold? `history` is the item's changes by (time, node).
fn sold_while_86d(history: &[AvailabilityChange], sale: &Sale) -> bool {
    history
        .iter()
        .take_while(|c| c.hlc < sale.hlc)
        .last()
        .is_some_and(|c| !c.available)
}

fn by_time(history: &mut Vec<AvailabilityChange>) {
    history.sort_by_key(|c| (c.hlc, c.node.0));
    history.dedup();
}

impl<S: PosStore> PosService<S> {
    /// Judges the sales and availability changes a batch brings (`sales`, `changes`: this
    /// node's own, or a run of another node's), against what the store holds: the batch's
    /// sales of items ever 86'd, and every held sale after a change the batch brings.
    pub(super) fn judge_86(
        &self,
        changes: &[AvailabilityChange],
        sales: &[Sale],
    ) -> Result<Judged, NodeError> {
        let store = self.ledger.store();
        let mut judged = Judged::default();
        // Items whose history the run changes, from its earliest change of each.
        let mut since: HashMap<ItemId, u64> = HashMap::new();
        for c in changes {
            since
                .entry(c.item)
                .and_modify(|h| *h = (*h).min(c.hlc))
                .or_insert(c.hlc);
        }
        let mut histories: HashMap<ItemId, Vec<AvailabilityChange>> = HashMap::new();
        let mut items: Vec<ItemId> = since.keys().copied().collect();
        items.extend(sales.iter().map(|s| s.item));
        items.sort_by_key(|i| i.0);
        items.dedup();
        let mut held_history = self.cache.availability.borrow_mut();
        for item in items {
            // Read once per item until the menu changes (every availability change does):
            // a sale of an item never 86'd costs a lookup in memory.
            let stored = match held_history.get(&item) {
                Some(h) => h.clone(),
                None => {
                    let h = std::sync::Arc::new(store.availability_changes(item)?);
                    held_history.insert(item, h.clone());
                    h
                }
            };
            let mut history: Vec<AvailabilityChange> = stored.to_vec();
            history.extend(changes.iter().filter(|c| c.item == item));
            if !history.is_empty() {
                by_time(&mut history);
                histories.insert(item, history);
            }
        }
        drop(held_history);
        // Held sales the run's changes may judge otherwise, with how they stand now.
        let mut held: Vec<Sale> = Vec::new();
        let mut flagged_before: HashSet<(OrderId, LineId)> = HashSet::new();
        if let Some(&earliest) = since.values().min() {
            let items: HashSet<ItemId> = since.keys().copied().collect();
            held = sales_after(store, &items, earliest)?;
            held.retain(|s| since.get(&s.item).is_some_and(|&h| s.hlc > h));
            for (&item, &after) in &since {
                flagged_before.extend(
                    store
                        .sold_while_86d(item, after)?
                        .into_iter()
                        .map(|f| (f.order, f.line)),
                );
            }
        }
        for sale in held.iter().chain(sales) {
            let Some(history) = histories.get(&sale.item) else {
                continue;
            };
            let key = (sale.order, sale.line);
            if sold_while_86d(history, sale) {
                if !flagged_before.contains(&key) {
                    judged.flagged.push(SoldWhile86d {
                        order: sale.order,
                        line: sale.line,
                        item: sale.item,
                        hlc: sale.hlc,
                    });
                }
            } else if flagged_before.contains(&key) {
                judged.cleared.push(key);
            }
        }
        Ok(judged)
    }
}

/// Every line of one of `items` sold in the ledgers held here after `after` (HLC).
fn sales_after(
    store: &impl PosStore,
    items: &HashSet<ItemId>,
    after: u64,
) -> Result<Vec<Sale>, NodeError> {
    let mut out = Vec::new();
    for key in store.node_keys()? {
        let node = key.node_id();
        let size = store.chain_head(node)?.map_or(0, |h| h.size());
        let (mut low, mut high) = (1, size + 1);
        while low < high {
            let mid = low + (high - low) / 2;
            if entry_time(store, node, mid)? > after {
                high = mid;
            } else {
                low = mid + 1;
            }
        }
        if low > size {
            continue;
        }
        store.visit_entries(node, low, size, &mut |bytes| {
            // Every entry here was verified and decoded before it was stored; one this
            // node cannot read (a newer schema) sells nothing it could judge.
            let Ok(entry) = EntryRef::decode(bytes) else {
                return Ok(());
            };
            if entry.schema != SCHEMA {
                return Ok(());
            }
            if let Ok(Event::Order(e)) = decode(entry.payload)
                && let Change::LineAdded { line, item, .. } = &e.change
                && items.contains(&item.item)
            {
                out.push(Sale {
                    order: e.order,
                    line: *line,
                    item: item.item,
                    hlc: entry.hlc.0,
                });
            }
            Ok(())
        })?;
    }
    Ok(out)
}

fn entry_time(store: &impl PosStore, node: NodeId, seq: u64) -> Result<u64, NodeError> {
    let bytes = store
        .entry(node, seq)?
        .ok_or_else(|| StoreError::Corrupt(format!("node {node}'s entry {seq} is missing")))?;
    let entry = EntryRef::decode(&bytes)
        .map_err(|e| StoreError::Corrupt(format!("node {node}'s entry {seq}: {e}")))?;
    Ok(entry.hlc.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(hlc: u64, node: u8, available: bool) -> AvailabilityChange {
        AvailabilityChange {
            item: ItemId(1),
            hlc,
            node: NodeId([node; 16]),
            available,
        }
    }

    fn sale(hlc: u64) -> Sale {
        Sale {
            order: OrderId(1),
            line: LineId(1),
            item: ItemId(1),
            hlc,
        }
    }

    #[test]
    fn a_sale_is_judged_by_the_latest_change_before_it() {
        let mut history = vec![
            change(30, 2, true),
            change(10, 1, false),
            change(10, 1, false),
        ];
        by_time(&mut history);
        assert_eq!(history.len(), 2, "a change held twice counts once");
        assert!(!sold_while_86d(&history, &sale(5)), "before any 86");
        assert!(
            !sold_while_86d(&history, &sale(10)),
            "at the very time: not after it"
        );
        assert!(sold_while_86d(&history, &sale(11)));
        assert!(sold_while_86d(&history, &sale(30)));
        assert!(!sold_while_86d(&history, &sale(31)), "back on by then");
        assert!(!sold_while_86d(&[], &sale(31)));
    }
}
