//! Other nodes' ledgers, received from a peer: verified entry by entry against the chain
//! this node holds of each, then folded into the projections and committed with them in
//! one transaction, the same path a node's own events take from the ledger down.
//!
//! Nothing here decides: another node already decided these events and signed them. Only
//! nodes of this node's organization are heard: a ledger must begin with its node's
//! certificate, signed by the organization's root key; every certificate or revocation in
//! it must be signed by that key too; and a revoked node's entries after those its
//! revocation lets stand are skipped. A batch that does not verify is refused whole, with everything handed over with it in
//! the same call; batches written by earlier calls stand, since each verified on its own
//! against the checkpoint its node signed. A batch this node already holds is skipped, so
//! duplicated and replayed messages change nothing.

use std::collections::HashMap;

use mpos_domain::Event;
use mpos_domain::drawer::{Drawer, apply_drawer};
use mpos_domain::ids::{DrawerId, ItemId, LineId, OrderId};
use mpos_domain::menu::MenuChange;
use mpos_domain::order::{Change, Order, OrderEvent, Status, Tender, apply};
use mpos_domain::staff::StaffChange;
use mpos_ledger::{
    ChainBreak, ChainHead, EntryRef, Hlc, NodeId, PublicKey, SignedCheckpoint, WitnessSignature,
};
use mpos_proto::event::{SCHEMA, decode};
use mpos_store::clock::{EntityClock, EntityKey, entities};
use mpos_store::{
    AvailabilityChange, ClosedDay, LedgerBatch, OrderUpdate, PinHash, PosStore, Projection,
    StoreError,
};

use super::eighty_six::Sale;
use super::{PosService, Trusted};
use crate::error::NodeError;

/// How far ahead of this node's clock a peer's entry may be and still move its hybrid
/// logical clock: a peer with a wild clock must not drag every later entry here with it.
const MAX_DRIFT_MILLIS: u64 = 5 * 60 * 1_000;

/// One committed batch of another node's ledger as a peer sent it: not yet verified.
#[derive(Debug, Clone)]
pub struct PeerBatch {
    pub key: PublicKey,
    pub entries: Vec<Vec<u8>>,
    pub checkpoint: SignedCheckpoint,
}

/// What a peer hands over: batches of ledgers, its PIN hashes, and its countersignatures
/// of checkpoints this node holds.
#[derive(Debug, Clone, Default)]
pub struct FromPeer {
    pub batches: Vec<PeerBatch>,
    /// Batches already verified beside the writer ([`VerifiedApart`]); they come before
    /// `batches`.
    pub verified: Option<VerifiedApart>,
    pub pins: Vec<PinHash>,
    pub witnesses: Vec<Witnessed>,
    /// The certificate of the node that countersigned `witnesses`, when this node may not
    /// hold it yet (a terminal that has written nothing): checked against the root key.
    pub witness: Option<mpos_ledger::NodeCertificate>,
    /// Receipt codes of orders other nodes closed, as they signed them.
    pub receipts: Vec<(OrderId, String)>,
}

impl FromPeer {
    pub fn batches(batches: Vec<PeerBatch>) -> FromPeer {
        FromPeer {
            batches,
            ..FromPeer::default()
        }
    }
}

/// A node's countersignature of `node`'s checkpoint at `tree_size`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Witnessed {
    pub node: NodeId,
    pub tree_size: u64,
    pub signature: WitnessSignature,
}

/// What a replicated message changed here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Replicated {
    /// Entries verified and written.
    pub entries: u64,
    /// Batches skipped because this node held them already.
    pub held: u64,
    /// Whether a staff member's PIN changed in what was written: the peer's PIN hashes
    /// are then worth asking for.
    pub pins_changed: bool,
    /// This node's countersignatures of the latest checkpoint it took of each node, kept
    /// here and for the peer to keep.
    pub witnessed: Vec<Witnessed>,
    /// The peer's countersignatures verified and kept.
    pub witnesses_kept: u64,
    /// Orders the message left needing a manager that did not before.
    pub conflicts_flagged: u64,
    /// Orders other nodes closed in what was written: their receipt codes are worth
    /// asking for.
    pub closed: Vec<OrderId>,
    /// Receipt codes verified and kept.
    pub receipts_kept: u64,
    /// Batches a revoked node wrote after its revocation's cut: skipped.
    pub beyond_cut: u64,
}

/// Why a peer's message was refused; nothing of it was written.
#[derive(Debug, thiserror::Error)]
pub enum ReplicaRefusal {
    #[error("node {node}: {reason}")]
    Chain { node: NodeId, reason: ChainBreak },
    #[error("node {node}, entry {seq}: {reason}")]
    Event {
        node: NodeId,
        seq: u64,
        reason: String,
    },
    #[error("node {node}: entries of this node's own ledger that it does not hold")]
    OwnLedger { node: NodeId },
    #[error(
        "node {node}: its ledger does not begin with a certificate from this organization's root key"
    )]
    Uncertified { node: NodeId },
    #[error("this node belongs to no organization (no certificate): it takes no peer's entries")]
    NoOrganization,
    #[error("the receipt code of order {order}: {reason}")]
    Receipt { order: OrderId, reason: String },
    #[error("a countersignature of node {node}'s checkpoint at {tree_size}: {reason}")]
    Witness {
        node: NodeId,
        tree_size: u64,
        reason: String,
    },
}

/// A verified run of one node's batches and the events they carry.
#[derive(Debug, Clone)]
struct Verified {
    node: NodeId,
    batches: Vec<LedgerBatch>,
    /// Each event with its entry's seq and time.
    events: Vec<(u64, Hlc, Event)>,
    /// Its certificates and revocations, checked.
    trusted: Vec<Trusted>,
}

impl<S: PosStore> PosService<S> {
    /// Verifies the batches a peer sent and writes every batch this node lacks, with its
    /// projections, countersigning the latest checkpoint taken of each node; then keeps
    /// those of the peer's PIN hashes set later than this node's, and the peer's
    /// countersignatures that verify. All of the batches verify or none is written.
    pub fn replicate(&mut self, from: FromPeer, now_millis: u64) -> Result<Replicated, NodeError> {
        let FromPeer {
            batches,
            verified,
            pins,
            witnesses,
            witness,
            receipts,
        } = from;
        let own = self.ledger.node_id();
        let root = self
            .ledger
            .identity()
            .organization_root()
            .ok_or_else(|| refused(ReplicaRefusal::NoOrganization))?;
        // Batches verified beside the writer stand as verified while what their
        // verification took as given still holds here; otherwise they are verified again.
        let mut batches = batches;
        let mut checked = Checked::default();
        if let Some(apart) = verified {
            if self.still_holds(&apart, own, &root)? {
                batches = apart.unverified.into_iter().chain(batches).collect();
                checked = apart.checked;
            } else {
                // What it found held or past a cut still is: only the counts are kept.
                checked.held = apart.checked.held;
                checked.beyond_cut = apart.checked.beyond_cut;
                batches = apart.into_batches().chain(batches).collect();
            }
        }
        if !batches.is_empty() {
            // Verified on from where what came before leaves each chain.
            let mut revoked = self.revoked()?;
            let mut heads = HashMap::new();
            for node in nodes_of(&batches) {
                heads.insert(node, held_chain(self.ledger.store(), node)?);
            }
            for run in &checked.runs {
                if let Some(last) = run.batches.last() {
                    heads.insert(run.node, last.head.clone());
                }
                for t in &run.trusted {
                    follow_revocation(&mut revoked, t);
                }
            }
            checked.extend(verify(batches, own, &root, &mut heads, &mut revoked)?);
        }
        let Checked {
            runs,
            held,
            beyond_cut,
            pins_changed,
        } = checked;
        let mut done = Replicated {
            held,
            beyond_cut,
            pins_changed,
            ..Replicated::default()
        };
        for run in runs {
            let (node, latest) = (run.node, run.batches.last().map(|b| b.checkpoint));
            // The run's reads see one snapshot and lock once; its commit lets them go.
            if let Err(e) = self.ledger.store_mut().begin_reads() {
                tracing::warn!(error = %e, "a run's reads could not be held in one snapshot");
            }
            let committed = self.commit_run(run, now_millis);
            self.ledger.store_mut().end_reads()?;
            let (entries, flagged, closed) = committed?;
            done.entries += entries;
            done.conflicts_flagged += flagged;
            done.closed.extend(closed);
            // Witnessing: this node saw that checkpoint, and says so with its key. A node
            // that later rewrites its history is contradicted by every witness.
            if let Some(checkpoint) = latest {
                let signature = checkpoint.witness(self.ledger.key());
                let tree_size = checkpoint.checkpoint.tree_size;
                self.ledger
                    .store_mut()
                    .add_witness(node, tree_size, &signature)?;
                done.witnessed.push(Witnessed {
                    node,
                    tree_size,
                    signature,
                });
            }
        }
        if !witnesses.is_empty() {
            done.witnesses_kept = self.keep_witnesses(&witnesses, witness.as_ref(), &root)?;
        }
        if !receipts.is_empty() {
            done.receipts_kept = self.keep_receipts(&receipts)?;
        }
        // Hashes of staff this node has never heard of are kept too: the member arrives
        // with the ledger that added them.
        if !pins.is_empty() {
            let kept = self.pins_on_record(pins)?;
            self.ledger.store_mut().save_pins(&kept)?;
        }
        Ok(done)
    }

    /// Whether what a verification off the writer took as given still holds here: this
    /// node and its organization's root key, the chains it started from are the ones
    /// stored, and the revocations are the same.
    fn still_holds(
        &self,
        apart: &VerifiedApart,
        own: NodeId,
        root: &PublicKey,
    ) -> Result<bool, NodeError> {
        if apart.own != own || apart.root != *root {
            return Ok(false);
        }
        for (node, head) in &apart.from {
            if held_chain(self.ledger.store(), *node)? != *head {
                return Ok(false);
            }
        }
        Ok(self.revoked()? == apart.revoked)
    }

    /// Keeps the countersignatures that verify: by a certified, unrevoked node of the
    /// organization, over a checkpoint this node holds. Refuses the lot if one does not.
    fn keep_witnesses(
        &mut self,
        witnesses: &[Witnessed],
        certificate: Option<&mpos_ledger::NodeCertificate>,
        root: &PublicKey,
    ) -> Result<u64, NodeError> {
        let store = self.ledger.store();
        let revoked = self.revoked()?;
        let shown = certificate
            .filter(|c| c.verify(root).is_ok())
            .map(|c| c.node);
        let keys: HashMap<NodeId, PublicKey> = store
            .organization_nodes()?
            .into_iter()
            .map(|n| n.certificate.node)
            .chain(shown)
            .filter(|k| !revoked.contains_key(&k.node_id()))
            .map(|k| (k.node_id(), k))
            .collect();
        for w in witnesses {
            let witness = w.signature.witness;
            let key = keys.get(&witness).ok_or_else(|| {
                refused(ReplicaRefusal::Witness {
                    node: w.node,
                    tree_size: w.tree_size,
                    reason: format!("{witness} is no certified node of this organization"),
                })
            })?;
            let checkpoint = store.checkpoint_at(w.node, w.tree_size)?.ok_or_else(|| {
                NodeError::NotFound(format!(
                    "no checkpoint of node {} at {} entries here",
                    w.node, w.tree_size
                ))
            })?;
            if !w.signature.verify(key, &checkpoint.checkpoint) {
                return Err(refused(ReplicaRefusal::Witness {
                    node: w.node,
                    tree_size: w.tree_size,
                    reason: format!("the signature is not {witness}'s over that checkpoint"),
                }));
            }
        }
        for w in witnesses {
            self.ledger
                .store_mut()
                .add_witness(w.node, w.tree_size, &w.signature)?;
        }
        Ok(witnesses.len() as u64)
    }

    /// The peer's PIN hashes that a PIN change in a ledger here, by a node not revoked,
    /// vouches for (the same staff member, at the same time): a node cannot slip in a hash
    /// of its own. The others wait for the change's entry to arrive, and are asked again.
    fn pins_on_record(&self, pins: Vec<PinHash>) -> Result<Vec<PinHash>, NodeError> {
        let store = self.ledger.store();
        let revoked = self.revoked()?;
        let mut kept = Vec::with_capacity(pins.len());
        for pin in pins {
            let changes = store.pin_changes(pin.staff)?;
            if changes
                .iter()
                .any(|(hlc, node)| *hlc == pin.changed_at && !revoked.contains_key(node))
            {
                kept.push(pin);
            } else {
                tracing::debug!(staff = %pin.staff, "a PIN hash no change here vouches for (yet): left for later");
            }
        }
        Ok(kept)
    }

    /// Keeps receipt codes another node signed for orders it closed, each checked first
    /// ([`check_receipts`]).
    fn keep_receipts(&mut self, receipts: &[(OrderId, String)]) -> Result<u64, NodeError> {
        let checked = check_receipts(self.ledger.store(), receipts)?;
        self.keep_checked_receipts(checked)
    }

    /// Keeps receipt codes already checked against the ledgers this node holds (a puller
    /// checks them on its own connection, so the writer does not spend a signature check
    /// per order it took).
    pub(crate) fn keep_checked_receipts(
        &mut self,
        checked: CheckedReceipts,
    ) -> Result<u64, NodeError> {
        self.ledger.store_mut().save_receipts(&checked.0)?;
        Ok(checked.0.len() as u64)
    }

    /// Folds one node's verified events into the projections and commits them with its
    /// batches; returns the entries written, the orders newly needing a manager and the
    /// orders it closed.
    ///
    /// What every node must end up agreeing on, whatever order peers' entries reach it in:
    /// an entity put whole (a menu item, a staff member, a table...) takes the change with
    /// the latest time (`clock`); an order is the fold of all its events in time order, so
    /// one edited on two terminals at once is folded again when an edit arrives out of it;
    /// sums (sales, cash moved, stock movements) add up in any order.
    fn commit_run(
        &mut self,
        mut run: Verified,
        now_millis: u64,
    ) -> Result<(u64, u64, Vec<OrderId>), NodeError> {
        let store = self.ledger.store();
        let mut keys: Vec<EntityKey> = run
            .events
            .iter()
            .flat_map(|(_, _, e)| entities(e))
            .collect();
        keys.sort();
        keys.dedup();
        let mut clocks: HashMap<EntityKey, EntityClock> = store
            .entity_clocks(&keys)?
            .into_iter()
            .map(|c| (c.key.clone(), c))
            .collect();
        let mut changed: Vec<EntityKey> = Vec::new();
        // Each order's events, in the order the orders first appear.
        let mut order_events: Vec<(OrderId, Vec<Timed>)> = Vec::new();
        let mut order_at: HashMap<OrderId, usize> = HashMap::new();
        let mut drawers: HashMap<DrawerId, Drawer> = HashMap::new();
        let mut menu: Vec<MenuChange> = Vec::new();
        let mut staff = Vec::new();
        let mut floor = Vec::new();
        let mut days = Vec::new();
        let mut inventory = Vec::new();
        let mut pin_changes = Vec::new();
        let mut availability: Vec<AvailabilityChange> = Vec::new();
        let mut sales: Vec<Sale> = Vec::new();
        let mut latest = Hlc(0);
        for (seq, hlc, event) in std::mem::take(&mut run.events) {
            latest = latest.max(hlc);
            // Every availability change is history, whichever stands now.
            if let Event::Menu(e) = &event
                && let Some((item, available)) = match &e.change {
                    MenuChange::ItemPut(i) => Some((i.id, i.available)),
                    MenuChange::AvailabilitySet { item, available } => Some((*item, *available)),
                    _ => None,
                }
            {
                availability.push(AvailabilityChange {
                    item,
                    hlc: hlc.0,
                    node: run.node,
                    available,
                });
            }
            if let Event::Order(e) = &event
                && let Change::LineAdded { line, item, .. } = &e.change
            {
                sales.push(Sale {
                    order: e.order,
                    line: *line,
                    item: item.item,
                    hlc: hlc.0,
                });
            }
            let puts = entities(&event);
            if !puts.is_empty() {
                let newer: Vec<bool> = puts
                    .iter()
                    .map(|k| clocks.get(k).is_none_or(|c| c.is_before(hlc.0, run.node)))
                    .collect();
                for (key, newer) in puts.iter().zip(&newer) {
                    if *newer {
                        clocks.insert(
                            key.clone(),
                            EntityClock {
                                key: key.clone(),
                                hlc: hlc.0,
                                node: run.node,
                            },
                        );
                        changed.push(key.clone());
                    }
                }
                match &event {
                    Event::Menu(e) => {
                        if let MenuChange::ItemPut(item) = &e.change {
                            // An item and its availability stand apart: a later 86 on
                            // another register keeps the item 86'd through this edit.
                            match (newer[0], newer.get(1).copied().unwrap_or(false)) {
                                (true, true) => menu.push(e.change.clone()),
                                (true, false) => {
                                    let mut item = item.clone();
                                    item.available = available_now(store, &menu, item.id)?
                                        .unwrap_or(item.available);
                                    menu.push(MenuChange::ItemPut(item));
                                }
                                (false, true) => menu.push(MenuChange::AvailabilitySet {
                                    item: item.id,
                                    available: item.available,
                                }),
                                (false, false) => {}
                            }
                        } else if newer[0] {
                            menu.push(e.change.clone());
                        }
                    }
                    Event::Staff(e) if newer[0] => staff.push(e.change.clone()),
                    Event::Floor(e) if newer[0] => floor.push(e.change.clone()),
                    Event::Inventory(e) if newer[0] => inventory.push(e.clone()),
                    _ => {}
                }
                continue;
            }
            match event {
                Event::Order(e) => {
                    // Cash taken or handed back goes through a drawer: its sums follow.
                    let cash = match &e.change {
                        Change::PaymentTaken {
                            tender: Tender::Cash,
                            amount,
                            tip,
                            drawer: Some(d),
                            ..
                        } => Some((*d, amount.checked_add(*tip).map(|m| (m, true)))),
                        Change::Refunded {
                            amount,
                            drawer: Some(d),
                            ..
                        } => Some((*d, Ok((*amount, false)))),
                        _ => None,
                    };
                    if let Some((id, Ok((amount, taken)))) = cash {
                        let drawer = match drawers.remove(&id) {
                            Some(d) => Some(d),
                            None => store.drawer(id)?,
                        };
                        match drawer {
                            Some(mut d) => {
                                let moved = if taken {
                                    d.take_cash(amount)
                                } else {
                                    d.give_back_cash(amount)
                                };
                                if moved.is_err() {
                                    tracing::warn!(drawer = %id, "a drawer's cash no longer adds up");
                                }
                                drawers.insert(id, d);
                            }
                            None => tracing::warn!(
                                drawer = %id,
                                order = %e.order,
                                "cash of a drawer this node has not seen opened"
                            ),
                        }
                    }
                    let order = e.order;
                    let timed = Timed {
                        hlc,
                        node: run.node,
                        seq,
                        event: e,
                    };
                    match order_at.get(&order) {
                        Some(&at) => order_events[at].1.push(timed),
                        None => {
                            order_at.insert(order, order_events.len());
                            order_events.push((order, vec![timed]));
                        }
                    }
                }
                Event::Drawer(e) => {
                    let before = match drawers.remove(&e.drawer) {
                        Some(d) => Some(d),
                        None => store.drawer(e.drawer)?,
                    };
                    if let Some(after) = apply_drawer(before, &e) {
                        drawers.insert(e.drawer, after);
                    }
                }
                Event::Menu(e) => menu.push(e.change),
                Event::Staff(e) => {
                    if let StaffChange::PinChanged { staff } = e.change {
                        pin_changes.push((staff, hlc.0, run.node));
                    }
                    staff.push(e.change)
                }
                Event::Floor(e) => floor.push(e.change),
                Event::DayClosed(summary) => days.push(ClosedDay {
                    node: run.node,
                    close_seq: seq,
                    summary,
                }),
                Event::Inventory(e) => inventory.push(e),
                // Checked with the batch; written from `run.trusted` below.
                Event::Trust(_) => {}
            }
        }
        let judged = self.judge_86(&availability, &sales)?;
        let now_86d: HashMap<(OrderId, LineId), bool> =
            judged.lines().map(|(o, l, f)| ((o, l), f)).collect();
        // A line's flag is the store's, not the fold's: carried over, then as judged now.
        let flags = |id: OrderId, before: Option<&Order>, after: &mut Order| {
            for l in &mut after.lines {
                l.sold_while_86d = now_86d.get(&(id, l.id)).copied().unwrap_or_else(|| {
                    before
                        .and_then(|b| b.line(l.id))
                        .is_some_and(|b| b.sold_while_86d)
                });
            }
        };
        let mut orders: HashMap<OrderId, (Option<Order>, Option<Order>)> = HashMap::new();
        let mut order_entries = Vec::new();
        let mut flagged = 0;
        let mut closed = Vec::new();
        for (id, incoming) in order_events {
            if let (Some(first), Some(last)) = (incoming.first(), incoming.last()) {
                order_entries.push((id, first.seq, last.seq));
            }
            // An order is opened once: one whose opening is here has no projection yet.
            let opens = incoming
                .first()
                .is_some_and(|t| matches!(t.event.change, Change::Opened { .. }));
            let before = if opens {
                None
            } else {
                let cached = self.cache.open_orders.borrow().get(&id).cloned();
                match cached {
                    Some(o) => Some(o),
                    None => store.load_order(id)?,
                }
            };
            let mut after = self.fold_order(id, before.clone(), incoming, run.node)?;
            if let Some(o) = after.as_mut() {
                flags(id, before.as_ref(), o);
            }
            if let Some(o) = &after {
                let now = o.conflicts();
                if !now.is_empty() && before.as_ref().map(Order::conflicts) != Some(now.clone()) {
                    let what: Vec<String> = now.iter().map(ToString::to_string).collect();
                    tracing::warn!(order = %id, number = %o.number, conflicts = ?what, "edits from another terminal left an order needing a manager");
                    flagged += 1;
                }
            }
            let was_closed = before.as_ref().is_some_and(|o| o.status == Status::Closed);
            if !was_closed && after.as_ref().is_some_and(|o| o.status == Status::Closed) {
                closed.push(id);
            }
            orders.insert(id, (before, after));
        }
        // Orders this run did not touch whose lines an availability change judged again.
        let mut touched: Vec<OrderId> = now_86d
            .keys()
            .map(|(o, _)| *o)
            .filter(|o| !orders.contains_key(o))
            .collect();
        touched.sort_by_key(|o| o.0);
        touched.dedup();
        let mut rejudged: Vec<Order> = Vec::new();
        for id in touched {
            let cached = self.cache.open_orders.borrow().get(&id).cloned();
            let Some(mut o) = (match cached {
                Some(o) => Some(o),
                None => store.load_order(id)?,
            }) else {
                continue;
            };
            let before = o.conflicts();
            let was = o.clone();
            flags(id, Some(&was), &mut o);
            let now = o.conflicts();
            if !now.is_empty() && now != before {
                let what: Vec<String> = now.iter().map(ToString::to_string).collect();
                tracing::warn!(order = %id, number = %o.number, conflicts = ?what, "an item 86'd on another register was sold in this order");
                flagged += 1;
            }
            rejudged.push(o);
        }
        let clocks: Vec<EntityClock> = {
            changed.sort();
            changed.dedup();
            changed.iter().filter_map(|k| clocks.remove(k)).collect()
        };
        let updates: Vec<OrderUpdate<'_>> = orders
            .values()
            .filter_map(|(before, after)| {
                Some(OrderUpdate {
                    before: before.as_ref(),
                    after: after.as_ref()?,
                })
            })
            .collect();
        let projection = Projection {
            orders: updates,
            menu: menu.iter().collect(),
            staff: staff.iter().collect(),
            floor: floor.iter().collect(),
            pins: Vec::new(),
            receipts: Vec::new(),
            drawers: drawers.values().collect(),
            days: days.iter().collect(),
            inventory: inventory.iter().collect(),
            trust: run.trusted.iter().map(Trusted::update).collect(),
            clocks,
            pin_changes,
            availability,
            sold_while_86d: judged.flagged,
            cleared_86d: judged.cleared,
            order_entries,
        };
        let entries: u64 = run.batches.iter().map(|b| b.entries.len() as u64).sum();
        let changes_catalog = projection.changes_catalog();
        self.ledger
            .store_mut()
            .commit_replica(&run.batches, &projection)?;
        drop(projection);

        // What this node keeps in memory follows what was committed.
        {
            let mut open = self.cache.open_orders.borrow_mut();
            for (id, (_, after)) in orders {
                match after {
                    Some(o) if o.status == Status::Open => {
                        open.insert(id, o);
                    }
                    _ => {
                        open.remove(&id);
                    }
                }
            }
            for o in rejudged {
                if let Some(cached) = open.get_mut(&o.id) {
                    *cached = o;
                }
            }
        }
        if changes_catalog {
            self.cache.forget_catalog();
        }
        if !run.trusted.is_empty() {
            self.cache.revoked.borrow_mut().take();
        }
        // This node's next entries come after everything it has seen.
        match self.observed.observe(latest, now_millis, MAX_DRIFT_MILLIS) {
            Ok(t) => self.observed = t,
            Err(_) => tracing::warn!(
                node = %run.node,
                ahead_ms = latest.millis().saturating_sub(now_millis),
                "a peer's clock is far ahead of this node's; its time is not followed"
            ),
        }
        Ok((entries, flagged, closed))
    }
}

/// An order event with where and when it was written.
#[derive(Debug, Clone)]
struct Timed {
    hlc: Hlc,
    node: NodeId,
    seq: u64,
    event: OrderEvent,
}

impl<S: PosStore> PosService<S> {
    /// The order after `incoming` (events of `node`, in its ledger's order), from the
    /// order as it was (`before`). When every event the order has so far came before them
    /// (the usual case: one terminal's run), they are folded on; otherwise every event of
    /// the order, wherever it was written, is folded again in time order (HLC, then node,
    /// then seq), so every node holds the same order whatever order the edits reached it.
    fn fold_order(
        &self,
        id: OrderId,
        before: Option<Order>,
        incoming: Vec<Timed>,
        node: NodeId,
    ) -> Result<Option<Order>, NodeError> {
        let store = self.ledger.store();
        let first = incoming.first().map_or(0, |t| t.seq);
        let stored = store.order_entries(id)?;
        let follows = stored
            .iter()
            .all(|(n, _, last)| *n == node && *last < first);
        if follows {
            let mut order = before;
            for t in &incoming {
                order = fold_one(order, &t.event, node, t.seq);
            }
            return Ok(order);
        }
        let mut all: Vec<Timed> = Vec::new();
        for (n, from, to) in stored {
            // This run's own entries are among `incoming`.
            let to = if n == node {
                to.min(first.saturating_sub(1))
            } else {
                to
            };
            if to < from {
                continue;
            }
            let mut seq = from;
            store.visit_entries(n, from, to, &mut |bytes| {
                let entry = EntryRef::decode(bytes)
                    .map_err(|e| StoreError::Corrupt(format!("entry {seq} of {n}: {e}")))?;
                if let Ok(Event::Order(e)) = decode(entry.payload)
                    && e.order == id
                {
                    all.push(Timed {
                        hlc: entry.hlc,
                        node: n,
                        seq: entry.seq,
                        event: e,
                    });
                }
                seq += 1;
                Ok(())
            })?;
        }
        all.extend(incoming);
        all.sort_by_key(|t| (t.hlc, t.node, t.seq));
        all.dedup_by_key(|t| (t.node, t.seq));
        tracing::debug!(order = %id, events = all.len(), "an order's edits arrived out of time order: folded again");
        let mut order = None;
        for t in &all {
            order = fold_one(order, &t.event, t.node, t.seq);
        }
        Ok(order)
    }
}

/// One event folded into an order; an event of an order not opened yet leaves nothing.
fn fold_one(order: Option<Order>, event: &OrderEvent, node: NodeId, seq: u64) -> Option<Order> {
    // `apply` leaves nothing only where there was nothing: an order's later events
    // reached this node before the one that opened it (they came through another peer).
    // Its entries are held all the same; the order appears when its opening does.
    let after = apply(order, event);
    if after.is_none() {
        tracing::warn!(%node, seq, order = %event.order, "replicated an event of an order this node has not seen opened");
    }
    after
}

/// Whether `item` is available as the batch has left it (its earlier changes in `menu`),
/// or as stored.
fn available_now<S: PosStore>(
    store: &S,
    menu: &[MenuChange],
    item: ItemId,
) -> Result<Option<bool>, NodeError> {
    for change in menu.iter().rev() {
        match change {
            MenuChange::ItemPut(i) if i.id == item => return Ok(Some(i.available)),
            MenuChange::AvailabilitySet { item: i, available } if *i == item => {
                return Ok(Some(*available));
            }
            _ => {}
        }
    }
    Ok(store.item(item)?.map(|i| i.available))
}

/// What a peer holding `after` entries of `node`'s ledger lacks: up to `limit` of its
/// committed batches, each closed by its checkpoint, oldest first.
pub fn batches_after<S: PosStore + ?Sized>(
    store: &S,
    key: &PublicKey,
    after: u64,
    limit: usize,
) -> Result<Vec<PeerBatch>, StoreError> {
    let node = key.node_id();
    let checkpoints = store.checkpoints_after(node, after, limit)?;
    let mut out = Vec::with_capacity(checkpoints.len());
    let mut from = after;
    for checkpoint in checkpoints {
        let to = checkpoint.checkpoint.tree_size;
        let mut entries = Vec::with_capacity((to - from) as usize);
        store.visit_entries(node, from + 1, to, &mut |bytes| {
            entries.push(bytes.to_vec());
            Ok(())
        })?;
        if entries.len() as u64 != to - from {
            return Err(StoreError::Corrupt(format!(
                "node {node}'s entries {} to {to} are not all stored",
                from + 1
            )));
        }
        out.push(PeerBatch {
            key: *key,
            entries,
            checkpoint,
        });
        from = to;
    }
    Ok(out)
}

/// Batches verified and decoded, in runs of one node's consecutive batches.
#[derive(Debug, Clone, Default)]
struct Checked {
    runs: Vec<Verified>,
    /// Batches skipped because the chain verified against held them already.
    held: u64,
    /// Batches a revoked node wrote after its revocation's cut: skipped.
    beyond_cut: u64,
    pins_changed: bool,
}

impl Checked {
    /// `run` follows on: it goes on the last run when both are of one node.
    fn push(&mut self, run: Verified) {
        match self.runs.last_mut() {
            Some(last) if last.node == run.node => {
                last.batches.extend(run.batches);
                last.events.extend(run.events);
                last.trusted.extend(run.trusted);
            }
            _ => self.runs.push(run),
        }
    }

    /// `later` follows on: a run of the node this ends with goes on.
    fn extend(&mut self, later: Checked) {
        for run in later.runs {
            self.push(run);
        }
        self.held += later.held;
        self.beyond_cut += later.beyond_cut;
        self.pins_changed |= later.pins_changed;
    }
}

/// A peer's batches verified and decoded off the writer ([`Verifier`]), with what that
/// took as given: the chain held of each of their nodes and the revocations known. The
/// writer takes them as verified while both still stand there (the usual case: one pull
/// per node, its messages committed in order); when another pull wrote some of the same
/// chains meanwhile, or a revocation came in, it verifies them again itself.
#[derive(Debug, Clone)]
pub struct VerifiedApart {
    checked: Checked,
    /// The node and the root key it was verified for.
    own: NodeId,
    root: PublicKey,
    /// Batches of this node's own ledger, which a peer may send back: only the writer
    /// can tell them held (or refuse them), against its chain as it is when it commits.
    unverified: Vec<PeerBatch>,
    /// The head of each node's chain the verification started from.
    from: HashMap<NodeId, ChainHead>,
    revoked: HashMap<NodeId, u64>,
}

impl VerifiedApart {
    /// `later` (verified after this, from where this left each chain) follows on.
    pub fn extend(&mut self, later: VerifiedApart) {
        for (node, head) in later.from {
            self.from.entry(node).or_insert(head);
        }
        self.checked.extend(later.checked);
        self.unverified.extend(later.unverified);
    }

    /// The batches as the peer sent them, to verify again.
    fn into_batches(self) -> impl Iterator<Item = PeerBatch> {
        self.checked
            .runs
            .into_iter()
            .flat_map(|r| r.batches)
            .map(|b| PeerBatch {
                key: b.key,
                entries: b.entries.into_iter().map(|e| e.bytes).collect(),
                checkpoint: b.checkpoint,
            })
            .chain(self.unverified)
    }
}

/// Verifies a pull's messages off the writer, one after another: each from where the
/// ones before left the chains (committed or not yet), so a message can be verified while
/// the writer commits the one before. It reads the revocations once, when the pull
/// starts: once another pull has written some of the same chains, or a revocation came
/// from elsewhere, the writer verifies this pull's later messages again (right, at twice
/// the verifying work, until the next pull).
#[derive(Debug, Clone)]
pub struct Verifier {
    own: NodeId,
    root: PublicKey,
    heads: HashMap<NodeId, ChainHead>,
    revoked: HashMap<NodeId, u64>,
}

impl Verifier {
    /// From the node's store as it is now.
    pub fn new<S: PosStore + ?Sized>(
        store: &S,
        own: NodeId,
        root: PublicKey,
    ) -> Result<Verifier, NodeError> {
        Ok(Verifier {
            own,
            root,
            heads: HashMap::new(),
            revoked: super::trust::revocation_cuts(store)?,
        })
    }

    /// The nodes of `batches` whose chain this verifier has not followed yet: their heads
    /// are to be read from the store ([`Verifier::hold`]) before verifying.
    pub fn unknown(&self, batches: &[PeerBatch]) -> Vec<NodeId> {
        nodes_of(batches)
            .into_iter()
            .filter(|n| *n != self.own && !self.heads.contains_key(n))
            .collect()
    }

    /// Starts following the chains of `nodes` from what `store` holds of them.
    pub fn hold<S: PosStore + ?Sized>(
        &mut self,
        store: &S,
        nodes: &[NodeId],
    ) -> Result<(), NodeError> {
        for &node in nodes {
            self.heads.insert(node, held_chain(store, node)?);
        }
        Ok(())
    }

    /// Verifies the next message's batches. A refusal leaves the chains where they were.
    pub fn verify(&mut self, batches: Vec<PeerBatch>) -> Result<VerifiedApart, NodeError> {
        let (unverified, batches): (Vec<PeerBatch>, Vec<PeerBatch>) = batches
            .into_iter()
            .partition(|b| b.key.node_id() == self.own);
        let nodes = nodes_of(&batches);
        let mut from = HashMap::with_capacity(nodes.len());
        for node in nodes {
            let head = self.heads.get(&node).cloned().ok_or_else(|| {
                NodeError::Internal(format!("verifying without the chain held of node {node}"))
            })?;
            from.insert(node, head);
        }
        let revoked = self.revoked.clone();
        let (mut heads, mut now_revoked) = (from.clone(), revoked.clone());
        let checked = verify(batches, self.own, &self.root, &mut heads, &mut now_revoked)?;
        self.heads.extend(heads);
        self.revoked = now_revoked;
        Ok(VerifiedApart {
            checked,
            own: self.own,
            root: self.root,
            unverified,
            from,
            revoked,
        })
    }
}

/// The nodes whose batches these are, each once.
fn nodes_of(batches: &[PeerBatch]) -> Vec<NodeId> {
    let mut nodes: Vec<NodeId> = batches.iter().map(|b| b.key.node_id()).collect();
    nodes.sort();
    nodes.dedup();
    nodes
}

/// Verifies a peer's batches against the chains held of their nodes (`heads`, which must
/// hold every node the batches are of, and which follow the batches), under `root` and
/// the revocations known (`revoked`, which follows revocations among the batches), and
/// decodes their events. Pure: what it needs of the store is passed in.
fn verify(
    batches: Vec<PeerBatch>,
    own: NodeId,
    root: &PublicKey,
    heads: &mut HashMap<NodeId, ChainHead>,
    revoked: &mut HashMap<NodeId, u64>,
) -> Result<Checked, NodeError> {
    let mut done = Checked::default();
    for batch in batches {
        let node = batch.key.node_id();
        let size = batch.checkpoint.checkpoint.tree_size;
        let head = heads.get_mut(&node).ok_or_else(|| {
            NodeError::Internal(format!("verifying without the chain held of node {node}"))
        })?;
        if size <= head.size() {
            done.held += 1;
            continue;
        }
        if node == own {
            return Err(refused(ReplicaRefusal::OwnLedger { node }));
        }
        // A peer that has not heard of the revocation yet may still hold and send what
        // the node wrote after it; that is skipped, the rest of the message stands.
        if revoked.get(&node).is_some_and(|&after| size > after) {
            done.beyond_cut += 1;
            continue;
        }
        let mut staged = head.clone();
        let chain = |reason| refused(ReplicaRefusal::Chain { node, reason });
        let mut entries = Vec::with_capacity(batch.entries.len());
        let mut events = Vec::with_capacity(batch.entries.len());
        let mut trusted = Vec::new();
        for bytes in batch.entries {
            let sealed = staged.accept(bytes).map_err(chain)?;
            let entry = EntryRef::decode(&sealed.bytes).map_err(|e| {
                chain(ChainBreak::Malformed {
                    seq: sealed.seq,
                    detail: e.to_string(),
                })
            })?;
            let event_error = |reason: String| {
                refused(ReplicaRefusal::Event {
                    node,
                    seq: sealed.seq,
                    reason,
                })
            };
            let decoded = if entry.schema == SCHEMA {
                decode(entry.payload).map_err(|e| e.to_string())
            } else {
                Err(format!(
                    "payload schema {} is not one this node reads (a newer M_POS?)",
                    entry.schema
                ))
            };
            // A ledger begins with its node's certificate: anything else there, readable
            // or not, is a node this organization never vouched for.
            if sealed.seq == 1 {
                let introduced = match &decoded {
                    Ok(Event::Trust(t)) => matches!(
                        Trusted::check(&t.change, root),
                        Ok(Trusted::Certified(c)) if c.node == batch.key
                    ),
                    _ => false,
                };
                if !introduced {
                    return Err(refused(ReplicaRefusal::Uncertified { node }));
                }
            }
            let event = decoded.map_err(&event_error)?;
            if let Event::Trust(t) = &event {
                let checked = Trusted::check(&t.change, root).map_err(&event_error)?;
                follow_revocation(revoked, &checked);
                trusted.push(checked);
            }
            if let Event::Staff(s) = &event
                && matches!(s.change, StaffChange::PinChanged { .. })
            {
                done.pins_changed = true;
            }
            events.push((sealed.seq, sealed.hlc, event));
            entries.push(sealed);
        }
        if entries.is_empty() {
            return Err(chain(ChainBreak::Unsigned));
        }
        staged
            .accept_checkpoint(&batch.checkpoint, &batch.key)
            .map_err(chain)?;
        *head = staged.clone();
        let ledger = LedgerBatch {
            key: batch.key,
            entries,
            checkpoint: batch.checkpoint,
            head: staged,
        };
        done.push(Verified {
            node,
            batches: vec![ledger],
            events,
            trusted,
        });
    }
    Ok(done)
}

/// The chain this node holds of `node`: from its beginning when it holds nothing of it.
fn held_chain<S: PosStore + ?Sized>(store: &S, node: NodeId) -> Result<ChainHead, NodeError> {
    Ok(store
        .chain_head(node)?
        .unwrap_or_else(|| ChainHead::genesis(node)))
}

/// A revocation among what is verified counts for what comes after it: the earliest cut
/// of a node stands.
fn follow_revocation(revoked: &mut HashMap<NodeId, u64>, trusted: &Trusted) {
    if let Trusted::Revoked { revocation, .. } = trusted {
        let after = revoked.entry(revocation.node).or_insert(revocation.after);
        *after = (*after).min(revocation.after);
    }
}

fn refused(reason: ReplicaRefusal) -> NodeError {
    tracing::warn!(%reason, "refused a peer's entries; nothing of the message was written");
    NodeError::Peer(reason)
}

/// Receipt codes checked against the ledgers a node holds, ready to keep.
#[derive(Debug)]
pub(crate) struct CheckedReceipts(Vec<(OrderId, String)>);

/// What checking receipt codes reads from the store: the keys of the nodes held, and the
/// entries the codes name. Read under a connection's lock; the signatures are checked
/// after, without it.
#[derive(Debug, Default)]
pub(crate) struct ReceiptEvidence {
    keys: HashMap<NodeId, PublicKey>,
    entries: HashMap<(NodeId, u64), Vec<u8>>,
}

/// Reads what checking `receipts` needs.
pub(crate) fn receipt_evidence<S: PosStore>(
    store: &S,
    receipts: &[(OrderId, String)],
) -> Result<ReceiptEvidence, NodeError> {
    let keys: HashMap<NodeId, PublicKey> = store
        .node_keys()?
        .into_iter()
        .map(|k| (k.node_id(), k))
        .collect();
    let mut entries = HashMap::new();
    for (_, code) in receipts {
        // A code that does not parse is refused when checked.
        if let Ok((claimed, _)) = mpos_ledger::Receipt::parse(code)
            && keys.contains_key(&claimed.node)
            && let Some(entry) = store.entry(claimed.node, claimed.seq)?
        {
            entries.insert((claimed.node, claimed.seq), entry);
        }
    }
    Ok(ReceiptEvidence { keys, entries })
}

/// Checks receipt codes another node signed for orders it closed: signed by that node's
/// key, over the entry that closed this very order, here in its ledger. Codes for entries
/// not held yet are left for later; a code that is forged or names another entry refuses
/// the lot.
pub(crate) fn check_receipts<S: PosStore>(
    store: &S,
    receipts: &[(OrderId, String)],
) -> Result<CheckedReceipts, NodeError> {
    check_receipts_with(&receipt_evidence(store, receipts)?, receipts)
}

/// [`check_receipts`] against evidence read before.
pub(crate) fn check_receipts_with(
    evidence: &ReceiptEvidence,
    receipts: &[(OrderId, String)],
) -> Result<CheckedReceipts, NodeError> {
    let bad = |order: OrderId, reason: String| refused(ReplicaRefusal::Receipt { order, reason });
    let mut kept = Vec::with_capacity(receipts.len());
    for (order, code) in receipts {
        let (claimed, signature) =
            mpos_ledger::Receipt::parse(code).map_err(|e| bad(*order, e.to_string()))?;
        // A code for an entry not here yet is asked for again once the entry arrives
        // (its closing lists the order); the rest of the reply is kept meanwhile.
        let Some(key) = evidence.keys.get(&claimed.node) else {
            continue;
        };
        let receipt = mpos_ledger::Receipt::verify_parsed(claimed, &signature, key)
            .map_err(|e| bad(*order, e.to_string()))?;
        let Some(entry) = evidence.entries.get(&(receipt.node, receipt.seq)) else {
            continue;
        };
        let hash = mpos_ledger::entry_hash(entry);
        let closes = EntryRef::decode(entry)
            .ok()
            .and_then(|e| decode(e.payload).ok());
        let closes_it = matches!(
            closes,
            Some(Event::Order(e)) if e.order == *order && e.change == Change::Closed
        );
        if hash.0[..16] != receipt.entry_hash_prefix || !closes_it {
            return Err(bad(*order, "not the entry that closed this order".into()));
        }
        kept.push((*order, code.clone()));
    }
    Ok(CheckedReceipts(kept))
}
