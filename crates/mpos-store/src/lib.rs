//! `mpos-store` owns the storage contract of an M_POS node: the traits every backend
//! (`mpos-store-sqlite` now, `mpos-store-postgres` in server mode) implements, and
//! `StoreError`. It holds no SQL and no driver; backends do.
//!
//! Architecture invariant: a write the store acknowledges is durable (fsynced) before the
//! call returns, and a batch is all or nothing.

pub mod clock;
pub mod columns;
#[cfg(feature = "conformance")]
pub mod conformance;

use std::collections::HashMap;

use mpos_domain::catalog::{Category, Item, ModifierGroup, TaxCategory};
use mpos_domain::day::DayClosed;
use mpos_domain::drawer::Drawer;
use mpos_domain::floor::{FloorChange, Table};
use mpos_domain::ids::{
    CategoryId, DrawerId, ItemId, LineId, ModifierGroupId, OrderId, StaffId, TaxCategoryId,
};
use mpos_domain::ids::{LocationId, PurchaseOrderId, StockItemId, SupplierId, TransferId};
use mpos_domain::inventory::sale::Taken;
use mpos_domain::inventory::{
    InventoryEvent, Location, PurchaseOrder, Quantity, Recipe, RecipeFor, SalesStock, Stock,
    StockItem, StockValue, Supplier, Transfer,
};
use mpos_domain::menu::{MenuChange, Settings};
use mpos_domain::order::Order;
use mpos_domain::staff::{StaffChange, StaffMember};
use mpos_ledger::{
    ChainHead, Hash, NodeCertificate, NodeId, PublicKey, Revocation, SealedEntry, SignedCheckpoint,
    WitnessSignature,
};

/// Failures of a storage backend. Business refusals never come from here.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened, read or written.
    #[error("storage backend failed: {0}")]
    Backend(String),
    /// Stored bytes no longer decode: disk corruption or a foreign file.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The write conflicts with what is stored (for example another writer appended to
    /// the same node's chain).
    #[error("conflicting write: {0}")]
    Conflict(String),
    /// The data directory was written by a newer M_POS.
    #[error("the store's schema version {found} is newer than this binary's {supported}")]
    TooNew { found: i64, supported: i64 },
}

/// One item of a node's ledger in commit order, as an export streams it.
#[derive(Debug)]
pub enum LedgerItem<'a> {
    Entry(&'a [u8]),
    Checkpoint(SignedCheckpoint, Vec<WitnessSignature>),
}

/// Where a node's ledger lives: entries, checkpoints, witness signatures, and the chain
/// head that lets a restart append without replaying the log.
pub trait LedgerStore {
    /// Keys of every node whose ledger this store holds.
    fn node_keys(&self) -> Result<Vec<PublicKey>, StoreError>;

    /// The saved head of `node`'s chain, if it has entries.
    fn chain_head(&self, node: NodeId) -> Result<Option<ChainHead>, StoreError>;

    /// Durably appends a batch and its checkpoint, and saves the new head, in one
    /// transaction. Refuses (changing nothing) a batch that does not continue the stored
    /// chain.
    fn append_batch(
        &mut self,
        key: &PublicKey,
        entries: &[SealedEntry],
        checkpoint: &SignedCheckpoint,
        head: &ChainHead,
    ) -> Result<(), StoreError>;

    /// Records another node's countersignature of one of `node`'s checkpoints.
    fn add_witness(
        &mut self,
        node: NodeId,
        tree_size: u64,
        witness: &WitnessSignature,
    ) -> Result<(), StoreError>;

    /// The latest checkpoint of `node`.
    fn latest_checkpoint(&self, node: NodeId) -> Result<Option<SignedCheckpoint>, StoreError>;

    /// The checkpoint of `node` at exactly `tree_size`.
    fn checkpoint_at(
        &self,
        node: NodeId,
        tree_size: u64,
    ) -> Result<Option<SignedCheckpoint>, StoreError>;

    /// Up to `limit` of `node`'s checkpoints after tree size `after`, oldest first: the
    /// committed batches a peer that holds `after` entries lacks.
    fn checkpoints_after(
        &self,
        node: NodeId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<SignedCheckpoint>, StoreError>;

    /// Entry `seq` of `node`, as stored bytes.
    fn entry(&self, node: NodeId, seq: u64) -> Result<Option<Vec<u8>>, StoreError>;

    /// Merkle tree hash of `node`'s entries with seq in `(start, end]` (leaves `[start, end)`),
    /// streamed from storage.
    fn range_root(&self, node: NodeId, start: u64, end: u64) -> Result<Hash, StoreError>;

    /// Streams `node`'s whole ledger in commit order: entries, each checkpoint right after
    /// the last entry it covers, with its witness signatures.
    fn stream_ledger(
        &self,
        node: NodeId,
        visit: &mut dyn FnMut(LedgerItem<'_>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;
}

/// A ledger batch ready to commit: its entries, the checkpoint that closes it and the chain
/// head after it.
#[derive(Debug, Clone)]
pub struct LedgerBatch {
    pub key: PublicKey,
    pub entries: Vec<SealedEntry>,
    pub checkpoint: SignedCheckpoint,
    pub head: ChainHead,
}

/// A client request that was applied: its id (chosen by the client, a UUIDv7) and the
/// ledger entries its events became. A retry of the same id returns these entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedRequest {
    pub request: u128,
    /// The order it changed; none for a menu request.
    pub order: Option<OrderId>,
    pub node: NodeId,
    pub first_seq: u64,
    pub last_seq: u64,
    /// What the request did (its fingerprint): a retry must match it.
    pub action: String,
}

/// What a batch changed, for the projections: the new state of each order it touched,
/// and the menu changes in order.
#[derive(Debug, Default)]
pub struct Projection<'a> {
    pub orders: Vec<OrderUpdate<'a>>,
    pub menu: Vec<&'a MenuChange>,
    pub staff: Vec<&'a StaffChange>,
    pub floor: Vec<&'a FloorChange>,
    /// New PIN hashes: stored beside the projections, never in the ledger.
    pub pins: Vec<PinHash>,
    /// Receipt codes of orders closed in the batch.
    pub receipts: Vec<(OrderId, String)>,
    /// The new state of each drawer session the batch changed.
    pub drawers: Vec<&'a Drawer>,
    /// Business days the batch closed.
    pub days: Vec<&'a ClosedDay>,
    /// Inventory changes in order: each applied to the projections as the domain's
    /// `inventory::levels_after` says (levels, value, transfers, purchase orders).
    pub inventory: Vec<&'a InventoryEvent>,
    /// Nodes certified or revoked, checked against the organization's root key before
    /// they get here.
    pub trust: Vec<TrustUpdate<'a>>,
    /// The entities the batch put, with the change that now stands for each.
    pub clocks: Vec<clock::EntityClock>,
    /// PIN changes the batch's entries record: the staff member, the entry's time (HLC)
    /// and its node.
    pub pin_changes: Vec<(StaffId, u64, NodeId)>,
    /// Availability changes (86'd or back) the batch's entries record.
    pub availability: Vec<AvailabilityChange>,
    /// Lines now flagged as sold while their item was 86'd.
    pub sold_while_86d: Vec<SoldWhile86d>,
    /// Lines no longer flagged (an availability change arrived that says otherwise).
    pub cleared_86d: Vec<(OrderId, LineId)>,
    /// Runs of entries `(first, last)` of the batch's node among which are the events of an
    /// order, for a replica: with the request records, they find every event of an order
    /// again.
    pub order_entries: Vec<(OrderId, u64, u64)>,
}

/// An item 86'd or back, as of its ledger entry's time (HLC) and node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AvailabilityChange {
    pub item: ItemId,
    pub hlc: u64,
    pub node: NodeId,
    pub available: bool,
}

/// A line sold, at its entry's time (HLC), of an item another register had 86'd earlier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SoldWhile86d {
    pub order: OrderId,
    pub line: LineId,
    pub item: ItemId,
    pub hlc: u64,
}

/// A staff member's PIN hash (an argon2 PHC string) and when it was set: the time (HLC) of
/// the ledger entry that recorded the change. Hashes travel between the organization's
/// nodes beside their ledgers; of two for one member, the later change stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinHash {
    pub staff: StaffId,
    pub hash: String,
    pub changed_at: u64,
}

/// A node's certificate or revocation, for the organization's list of nodes.
#[derive(Debug, Clone, Copy)]
pub enum TrustUpdate<'a> {
    /// Recorded once per node, however many ledgers carry it.
    Certified(&'a NodeCertificate),
    Revoked {
        revocation: &'a Revocation,
        reason: &'a str,
    },
}

/// A node of the organization, as its certificate says, and its revocation if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganizationNode {
    pub certificate: NodeCertificate,
    pub revoked: Option<RevokedNode>,
}

/// What a revocation says of a node: its first `after` entries stand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokedNode {
    pub node: NodeId,
    pub after: u64,
    pub at: u64,
    pub reason: String,
}

impl Projection<'_> {
    /// Whether the batch changed the menu, staff, PINs, the floor, recipes or where sales
    /// take stock from: what a node keeps in memory between batches.
    pub fn changes_catalog(&self) -> bool {
        !(self.menu.is_empty()
            && self.staff.is_empty()
            && self.pins.is_empty()
            && self.floor.is_empty())
            || self.inventory.iter().any(|e| e.change.changes_sales())
    }
}

/// The node whose batches a replicated commit writes (none: nothing to write); refuses
/// batches of several nodes, which `PosStore::commit_replica` never takes together.
pub fn replica_node(batches: &[LedgerBatch]) -> Result<Option<NodeId>, StoreError> {
    let Some(first) = batches.first() else {
        return Ok(None);
    };
    let node = first.key.node_id();
    if batches.iter().any(|b| b.key.node_id() != node) {
        return Err(StoreError::Backend(
            "a replicated commit holds batches of several nodes".into(),
        ));
    }
    Ok(Some(node))
}

/// An order a batch changed: as stored before the batch (none for a new order) and after
/// it. The store may write only the difference.
#[derive(Debug, Clone, Copy)]
pub struct OrderUpdate<'a> {
    pub before: Option<&'a Order>,
    pub after: &'a Order,
}

/// What changed in an order when a store may write only that: rows appended, lines
/// sent, voided or bumped, payments refunded. Lines, discounts and payments are never
/// removed or reordered by the domain, so this covers nearly every change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderDifference {
    /// Lines whose sent, voided, round or kitchen times changed, by position.
    pub changed_lines: Vec<usize>,
    /// Payments whose refunded amount changed, by position.
    pub refunded_payments: Vec<usize>,
    /// How many lines, discounts and payments were there before: the rest are new.
    pub appended_from: (usize, usize, usize),
}

/// The difference from `b` to `o`, or none when the change is anything else (the store
/// then rewrites the order whole).
pub fn order_difference(b: &Order, o: &Order) -> Option<OrderDifference> {
    if b.id != o.id
        || o.lines.len() < b.lines.len()
        || o.discounts.len() < b.discounts.len()
        || o.payments.len() < b.payments.len()
        || b.discounts[..] != o.discounts[..b.discounts.len()]
    {
        return None;
    }
    let same_line = |x: &mpos_domain::order::Line, y: &mpos_domain::order::Line| {
        x.id == y.id
            && x.item == y.item
            && x.seat == y.seat
            && x.course == y.course
            && x.note == y.note
            && x.added_by == y.added_by
    };
    let same_payment = |x: &mpos_domain::order::Payment, y: &mpos_domain::order::Payment| {
        x.id == y.id
            && x.tender == y.tender
            && x.amount == y.amount
            && x.tip == y.tip
            && x.cash_received == y.cash_received
            && x.by == y.by
    };
    if b.lines.iter().zip(&o.lines).any(|(x, y)| !same_line(x, y))
        || b.payments
            .iter()
            .zip(&o.payments)
            .any(|(x, y)| !same_payment(x, y))
    {
        return None;
    }
    Some(OrderDifference {
        changed_lines: b
            .lines
            .iter()
            .zip(&o.lines)
            .enumerate()
            .filter(|(_, (x, y))| {
                x.sent != y.sent
                    || x.voided != y.voided
                    || x.round != y.round
                    || x.sent_at != y.sent_at
                    || x.ready_at != y.ready_at
            })
            .map(|(i, _)| i)
            .collect(),
        refunded_payments: b
            .payments
            .iter()
            .zip(&o.payments)
            .enumerate()
            .filter(|(_, (x, y))| x.refunded != y.refunded)
            .map(|(i, _)| i)
            .collect(),
        appended_from: (b.lines.len(), b.discounts.len(), b.payments.len()),
    })
}

/// A business day closed by a Z-report: its summary and the ledger entry that recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClosedDay {
    pub node: NodeId,
    pub close_seq: u64,
    pub summary: DayClosed,
}

/// The point of sale's projections (orders, menu) and the requests that changed them.
pub trait PosStore: LedgerStore + InventoryStore {
    /// Holds one snapshot for the reads that follow, until the next commit or
    /// [`end_reads`](Self::end_reads): the writer deciding a batch reads many rows, and a
    /// store that takes its locks for every read on its own (SQLite) then takes them
    /// once. Only reads and commits may follow it; a commit lets it go first. A snapshot
    /// held already is let go and a new one taken. Default: nothing to hold.
    fn begin_reads(&mut self) -> Result<(), StoreError> {
        Ok(())
    }
    /// Lets go of the snapshot [`begin_reads`](Self::begin_reads) took, if it is still
    /// held.
    fn end_reads(&mut self) -> Result<(), StoreError> {
        Ok(())
    }
    /// Appends `batch` to the ledger, updates the projections with what it changed, and
    /// records the requests it answered: one transaction, durable on return.
    fn commit(
        &mut self,
        batch: &LedgerBatch,
        projection: &Projection<'_>,
        requests: &[AppliedRequest],
    ) -> Result<(), StoreError>;

    /// The current state of an order.
    fn load_order(&self, id: OrderId) -> Result<Option<Order>, StoreError>;

    /// Commits batches of another node's ledger, received from a peer and verified, with
    /// the projections their events change, in one transaction: all of `batches` are of
    /// one node and continue its stored chain in order, or nothing is written. Replicated
    /// events answer no request of this node's, so no request ids are recorded.
    fn commit_replica(
        &mut self,
        batches: &[LedgerBatch],
        projection: &Projection<'_>,
    ) -> Result<(), StoreError>;

    /// Whether other nodes may write to this store too (several server-mode nodes on one
    /// PostgreSQL database). A writer that keeps rows in memory must then check them
    /// against `catalog_generation` and `order_versions` before it decides, and expect a
    /// commit to fail with `StoreError::Conflict` when another node wrote first.
    fn shared(&self) -> bool {
        false
    }

    /// A number that grows with every committed batch that changed the menu, staff, PINs
    /// or the floor, whoever committed it.
    fn catalog_generation(&self) -> Result<u64, StoreError>;

    /// The stored version (`Order::version`) of each of these orders that exists. `commit`
    /// writes an order only where it is still at the version its `OrderUpdate::before`
    /// has; otherwise the whole commit fails with `StoreError::Conflict`.
    fn order_versions(&self, ids: &[OrderId]) -> Result<Vec<(OrderId, u32)>, StoreError>;

    /// A request applied before, if any.
    fn applied_request(&self, request: u128) -> Result<Option<AppliedRequest>, StoreError>;

    /// Those of `requests` applied before (a batch's retries), in no particular order. A
    /// store across a network answers them all at once.
    fn applied_requests(&self, requests: &[u128]) -> Result<Vec<AppliedRequest>, StoreError> {
        let mut done = Vec::new();
        for r in requests {
            done.extend(self.applied_request(*r)?);
        }
        Ok(done)
    }

    fn settings(&self) -> Result<Option<Settings>, StoreError>;

    /// When each of `keys` was last put (those never put are left out).
    fn entity_clocks(
        &self,
        keys: &[clock::EntityKey],
    ) -> Result<Vec<clock::EntityClock>, StoreError>;
    /// Where every event of `order` is, whoever wrote it: runs of entries `(node, first,
    /// last)` that hold them (among events of other things).
    fn order_entries(&self, order: OrderId) -> Result<Vec<(NodeId, u64, u64)>, StoreError>;

    /// Every node of the organization whose certificate this store holds, by name, with
    /// its revocation if any.
    fn organization_nodes(&self) -> Result<Vec<OrganizationNode>, StoreError>;
    /// Every revocation this store holds, also of nodes whose certificate it never saw.
    fn revocations(&self) -> Result<Vec<RevokedNode>, StoreError>;
    fn item(&self, id: ItemId) -> Result<Option<Item>, StoreError>;
    fn category(&self, id: CategoryId) -> Result<Option<Category>, StoreError>;
    fn modifier_group(&self, id: ModifierGroupId) -> Result<Option<ModifierGroup>, StoreError>;
    fn tax_category(&self, id: TaxCategoryId) -> Result<Option<TaxCategory>, StoreError>;
    /// The item with this SKU or barcode.
    fn item_with_code(&self, code: &str) -> Result<Option<ItemId>, StoreError>;
    /// Items whose name, description, SKU or barcode match `query` (word prefixes), best
    /// first, at most `limit`; through an index, never by reading the whole menu.
    fn search_items(&self, query: &str, limit: usize) -> Result<Vec<Item>, StoreError>;
    /// Every tax category, by name.
    fn tax_categories(&self) -> Result<Vec<TaxCategory>, StoreError>;
    /// Every category, by name.
    fn categories(&self) -> Result<Vec<Category>, StoreError>;
    /// Every modifier group, by name.
    fn modifier_groups(&self) -> Result<Vec<ModifierGroup>, StoreError>;
    /// A page of a category's items, by name: the back office browses a large menu a
    /// page at a time.
    fn category_items(
        &self,
        category: CategoryId,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<Item>, StoreError>;
    /// Every table on the floor, in service or not, by area and name.
    fn tables(&self) -> Result<Vec<Table>, StoreError>;

    fn staff_member(&self, id: StaffId) -> Result<Option<StaffMember>, StoreError>;
    /// Everyone, by name.
    fn staff(&self) -> Result<Vec<StaffMember>, StoreError>;
    /// The argon2 hash of a staff member's PIN.
    fn pin_hash(&self, id: StaffId) -> Result<Option<String>, StoreError>;
    /// Every staff member's PIN hash, with when it was set.
    fn pin_hashes(&self) -> Result<Vec<PinHash>, StoreError>;
    /// Keeps each of `pins` that was set later than the hash stored for its member (a
    /// peer's): durable on return.
    fn save_pins(&mut self, pins: &[PinHash]) -> Result<(), StoreError>;
    /// The PIN changes of `staff` the ledgers here record: each entry's time and node.
    fn pin_changes(&self, staff: StaffId) -> Result<Vec<(u64, NodeId)>, StoreError>;
    /// Every availability change of `item` the ledgers here record, by time then node.
    fn availability_changes(&self, item: ItemId) -> Result<Vec<AvailabilityChange>, StoreError>;
    /// The lines of `item` flagged as sold while it was 86'd, sold after `after` (HLC).
    fn sold_while_86d(&self, item: ItemId, after: u64) -> Result<Vec<SoldWhile86d>, StoreError>;
    /// Keeps the receipt codes of orders that have none yet (another node closed them and
    /// signed their codes): durable on return.
    fn save_receipts(&mut self, receipts: &[(OrderId, String)]) -> Result<(), StoreError>;
    /// The signed receipt code of a closed order.
    fn receipt_code(&self, order: OrderId) -> Result<Option<String>, StoreError>;
    /// Closed orders without their receipt code yet (closed on another node, the code not
    /// taken from a peer yet), newest first, at most `limit`.
    fn closed_without_receipt(&self, limit: usize) -> Result<Vec<OrderId>, StoreError>;

    /// Every order still open at `location` (at every location when none), oldest first.
    /// The lists below are of one location the same way: a node that sells at a location
    /// sees its own restaurant; a head-office node (no location) sees them all.
    fn open_orders(&self, location: Option<LocationId>) -> Result<Vec<Order>, StoreError>;

    /// Orders before `before` in (opened at, id) order, newest first, at most `limit`;
    /// with a `number` prefix, only orders whose number starts with it (ASCII case
    /// ignored). The register's order list, for receipts and refunds; a page ends at an
    /// order, so orders opened in the same millisecond are never skipped.
    fn recent_orders(
        &self,
        location: Option<LocationId>,
        before: Option<(u64, OrderId)>,
        number: &str,
        limit: usize,
    ) -> Result<Vec<Order>, StoreError>;

    /// Ids of the orders closed (fully paid) at or after `from` and before `to`
    /// (milliseconds), oldest first, at most `limit`: the back office's sales charts,
    /// which load them a few at a time so other reads go between.
    fn closed_order_ids(
        &self,
        location: Option<LocationId>,
        from: u64,
        to: u64,
        limit: usize,
    ) -> Result<Vec<OrderId>, StoreError>;

    /// Orders with lines sent to a kitchen station that are not bumped yet, or were bumped
    /// at or after `bumped_since` (for recall); through an index of those lines only.
    fn kitchen_orders(
        &self,
        location: Option<LocationId>,
        bumped_since: u64,
    ) -> Result<Vec<Order>, StoreError>;

    fn drawer(&self, id: DrawerId) -> Result<Option<Drawer>, StoreError>;
    /// Drawer sessions still open, oldest first.
    fn open_drawers(&self, location: Option<LocationId>) -> Result<Vec<Drawer>, StoreError>;
    /// The latest drawer sessions, open or closed, newest first.
    fn recent_drawers(
        &self,
        location: Option<LocationId>,
        limit: usize,
    ) -> Result<Vec<Drawer>, StoreError>;

    /// The last business day `node` closed.
    fn last_closed_day(&self, node: NodeId) -> Result<Option<ClosedDay>, StoreError>;
    /// Business day `day` of `node`, if it was closed.
    fn closed_day(&self, node: NodeId, day: u32) -> Result<Option<ClosedDay>, StoreError>;

    /// Visits `node`'s entries with seq in `from..=to` in order, as stored bytes.
    fn visit_entries(
        &self,
        node: NodeId,
        from: u64,
        to: u64,
        visit: &mut dyn FnMut(&[u8]) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;
}

/// Inventory's projections, written by `PosStore::commit` from `Projection::inventory`:
/// what an inventory decision reads (`mpos_domain::inventory::StockBook`) and the levels
/// a report lists.
pub trait InventoryStore {
    fn stock_item(&self, id: StockItemId) -> Result<Option<StockItem>, StoreError>;
    /// Every stock item, by name.
    fn stock_items(&self) -> Result<Vec<StockItem>, StoreError>;
    fn supplier(&self, id: SupplierId) -> Result<Option<Supplier>, StoreError>;
    /// The level (none held: zero) of `item` at `location`.
    fn stock_level(
        &self,
        location: LocationId,
        item: StockItemId,
    ) -> Result<StockValue, StoreError>;
    /// Every level of every location (or of one), by location and item.
    fn stock_levels(
        &self,
        location: Option<LocationId>,
    ) -> Result<Vec<(LocationId, StockItemId, StockValue)>, StoreError>;
    fn par_level(
        &self,
        location: LocationId,
        item: StockItemId,
    ) -> Result<Option<Quantity>, StoreError>;
    fn recipe(&self, target: RecipeFor) -> Result<Option<Recipe>, StoreError>;
    /// Every recipe, by target.
    fn recipes(&self) -> Result<Vec<Recipe>, StoreError>;
    fn transfer(&self, id: TransferId) -> Result<Option<Transfer>, StoreError>;
    fn purchase_order(&self, id: PurchaseOrderId) -> Result<Option<PurchaseOrder>, StoreError>;
    fn location(&self, id: LocationId) -> Result<Option<Location>, StoreError>;
    /// Every location, by name.
    fn locations(&self) -> Result<Vec<Location>, StoreError>;
    /// Where `node` sells (the location its orders belong to and take stock from, and
    /// when); none: at no location, and its sales take nothing.
    fn sales_stock(&self, node: NodeId) -> Result<Option<SalesStock>, StoreError>;
    /// What `order` has taken from stock and not given back, by location and item
    /// (items it holds none of left out).
    fn order_stock(&self, order: OrderId) -> Result<Taken, StoreError>;
    /// [`order_stock`](Self::order_stock) of each of `orders` (every one of them a key;
    /// one that holds nothing: empty). A store across a network overrides this to answer
    /// in one round trip.
    fn orders_stock(&self, orders: &[OrderId]) -> Result<HashMap<OrderId, Taken>, StoreError> {
        orders
            .iter()
            .map(|o| Ok((*o, self.order_stock(*o)?)))
            .collect()
    }
    /// Every supplier, by name.
    fn suppliers(&self) -> Result<Vec<Supplier>, StoreError>;
    /// Every par level, by location and item.
    fn par_levels(&self) -> Result<Vec<(LocationId, StockItemId, Quantity)>, StoreError>;
    /// Every level and every par level of every location (or of one) in one read, in no
    /// particular order: what the stock report lists.
    fn stock_report(&self, location: Option<LocationId>) -> Result<Vec<ReportLevel>, StoreError>;
    /// Transfers sent and not received yet (goods in transit), by id.
    fn transfers_in_transit(&self) -> Result<Vec<Transfer>, StoreError>;
    /// Transfers two registers recorded as arriving differently, apart, by id: the one
    /// recorded first stands ([`mpos_domain::inventory::Arrival::replaces`]) and a
    /// manager counts what came. Left out once every item sent has been counted at the
    /// receiving location after the later of the two arrivals (as
    /// `Stock::disputes_open`), and while the sending has not been heard.
    fn disputed_transfers(&self) -> Result<Vec<TransferId>, StoreError>;
    /// Every purchase order, by id.
    fn purchase_orders(&self) -> Result<Vec<PurchaseOrder>, StoreError>;
    /// What moved in `[from, to)` (milliseconds), summed per location, item and kind of
    /// movement: quantities and the value they added (negative: took away).
    fn stock_usage(&self, from: u64, to: u64) -> Result<Vec<StockUsage>, StoreError>;

    /// The rows `wanted` names, as stored, into `book` (rows not stored left out; levels
    /// not stored as zero): what a batch of inventory decisions reads. A store across a
    /// network overrides this to read each kind of row in one round trip.
    fn read_stock(&self, wanted: &StockWanted, book: &mut Stock) -> Result<(), StoreError> {
        for &id in &wanted.locations {
            if let Some(l) = self.location(id)? {
                book.locations.insert(id, l);
            }
        }
        for &id in &wanted.items {
            if let Some(i) = self.stock_item(id)? {
                book.items.insert(id, i);
            }
        }
        for &id in &wanted.suppliers {
            if let Some(s) = self.supplier(id)? {
                book.suppliers.insert(id, s);
            }
        }
        for &id in &wanted.transfers {
            if let Some(t) = self.transfer(id)? {
                book.transfers.insert(id, t);
            }
        }
        for &id in &wanted.purchase_orders {
            if let Some(po) = self.purchase_order(id)? {
                book.purchase_orders.insert(id, po);
            }
        }
        for &(l, i) in &wanted.levels {
            book.levels.insert((l, i), self.stock_level(l, i)?);
        }
        Ok(())
    }
}

/// The rows inventory decisions weigh, by id: what [`InventoryStore::read_stock`] reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StockWanted {
    pub locations: Vec<LocationId>,
    pub items: Vec<StockItemId>,
    pub suppliers: Vec<SupplierId>,
    pub transfers: Vec<TransferId>,
    pub purchase_orders: Vec<PurchaseOrderId>,
    pub levels: Vec<(LocationId, StockItemId)>,
}

impl StockWanted {
    /// Adds what `other` wants.
    pub fn extend(&mut self, other: StockWanted) {
        self.locations.extend(other.locations);
        self.items.extend(other.items);
        self.suppliers.extend(other.suppliers);
        self.transfers.extend(other.transfers);
        self.purchase_orders.extend(other.purchase_orders);
        self.levels.extend(other.levels);
    }

    /// Each id once, in order.
    pub fn dedup(&mut self) {
        fn once<T: Ord>(v: &mut Vec<T>) {
            v.sort_unstable();
            v.dedup();
        }
        once(&mut self.locations);
        once(&mut self.items);
        once(&mut self.suppliers);
        once(&mut self.transfers);
        once(&mut self.purchase_orders);
        once(&mut self.levels);
    }

    pub fn is_empty(&self) -> bool {
        *self == StockWanted::default()
    }
}

/// One line of [`InventoryStore::stock_report`]: an item at a location with a level, a
/// par level or both (a level of zero when nothing moved yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportLevel {
    pub location: LocationId,
    pub item: StockItemId,
    pub level: StockValue,
    pub par: Option<Quantity>,
}

impl ReportLevel {
    /// Levels and par levels side by side, by location and item: what a backend that
    /// reads them apart (a join costs more than the merge) reports.
    pub fn side_by_side(
        mut levels: Vec<(LocationId, StockItemId, StockValue)>,
        mut pars: Vec<(LocationId, StockItemId, Quantity)>,
    ) -> Vec<ReportLevel> {
        levels.sort_unstable_by_key(|(l, i, _)| (*l, *i));
        pars.sort_unstable_by_key(|(l, i, _)| (*l, *i));
        let mut report = Vec::with_capacity(levels.len().max(pars.len()));
        let mut pars = pars.into_iter().peekable();
        for (location, item, level) in levels {
            // Par levels of items with no level yet come first.
            while let Some(&(pl, pi, par)) = pars.peek()
                && (pl, pi) < (location, item)
            {
                report.push(ReportLevel {
                    location: pl,
                    item: pi,
                    level: StockValue::default(),
                    par: Some(par),
                });
                pars.next();
            }
            let par = pars
                .next_if(|(pl, pi, _)| (*pl, *pi) == (location, item))
                .map(|(_, _, q)| q);
            report.push(ReportLevel {
                location,
                item,
                level,
                par,
            });
        }
        report.extend(pars.map(|(location, item, par)| ReportLevel {
            location,
            item,
            level: StockValue::default(),
            par: Some(par),
        }));
        report
    }
}

/// One line of [`InventoryStore::stock_usage`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockUsage {
    pub location: LocationId,
    pub item: StockItemId,
    /// `columns::movement_kind`'s name: received, wasted, counted, transfer_sent,
    /// transfer_received, depleted, restored.
    pub kind: String,
    pub milli: i64,
    pub value: i64,
}

/// A printer the node sends to: kitchen tickets of some stations, receipts, or both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Printer {
    pub name: String,
    /// `tcp:HOST:PORT` (raw ESC/POS, usually port 9100) or `file:PATH`.
    pub address: String,
    pub stations: Vec<mpos_domain::ids::StationId>,
    pub receipts: bool,
    /// Characters per line: 32 (58 mm paper) or 48 (80 mm).
    pub columns: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    Queued,
    /// Being sent; a job found in this state after a restart may have printed.
    Sending,
    Printed,
    /// Failed after bytes may have reached the printer: printed again only by a reprint.
    Failed,
}

impl JobState {
    pub fn name(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Sending => "sending",
            JobState::Printed => "printed",
            JobState::Failed => "failed",
        }
    }
}

/// A print job to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPrintJob {
    pub printer: String,
    /// "kitchen" or "receipt".
    pub kind: String,
    pub order: Option<OrderId>,
    pub title: String,
    pub bytes: Vec<u8>,
    /// The job this one prints again, if it is a reprint.
    pub reprint_of: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintJob {
    pub id: u64,
    pub job: NewPrintJob,
    pub state: JobState,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub created_at: u64,
    pub next_try_at: u64,
    pub printed_at: Option<u64>,
}

/// The durable print queue and the printers it serves. Node-local: never in the ledger.
pub trait PrintStore {
    fn put_printer(&mut self, printer: &Printer) -> Result<(), StoreError>;
    /// False when there was no such printer.
    fn remove_printer(&mut self, name: &str) -> Result<bool, StoreError>;
    fn printers(&self) -> Result<Vec<Printer>, StoreError>;

    /// The last ledger entry of `node` already turned into print jobs; none before the
    /// spooler first ran.
    fn print_cursor(&self, node: NodeId) -> Result<Option<u64>, StoreError>;
    /// Queues `jobs` and moves the cursor to `seq`, in one transaction.
    fn queue_from_ledger(
        &mut self,
        node: NodeId,
        seq: u64,
        jobs: &[NewPrintJob],
        now: u64,
    ) -> Result<(), StoreError>;
    /// Queues one job (a receipt, a reprint); returns its id.
    fn queue_job(&mut self, job: &NewPrintJob, now: u64) -> Result<u64, StoreError>;
    /// The jobs print request `request` queued, if it was seen before. A request id reused
    /// for another `action` is a conflict.
    fn print_request(&self, request: u128, action: &str) -> Result<Option<Vec<u64>>, StoreError>;
    /// Queues `jobs` and records that `request` queued them, in one transaction.
    fn queue_for_request(
        &mut self,
        request: u128,
        action: &str,
        jobs: &[NewPrintJob],
        now: u64,
    ) -> Result<Vec<u64>, StoreError>;

    /// The oldest unfinished job of `printer` if it is due: jobs of one printer go out in
    /// order, so a ticket never overtakes an earlier one.
    fn next_job(&self, printer: &str, now: u64) -> Result<Option<PrintJob>, StoreError>;
    /// Durably marks a job as being sent, before any byte goes out.
    fn mark_sending(&mut self, id: u64) -> Result<(), StoreError>;
    fn mark_printed(&mut self, id: u64, now: u64) -> Result<(), StoreError>;
    /// Nothing reached the printer: queued again, to try after `next_try_at`.
    fn mark_retry(&mut self, id: u64, error: &str, next_try_at: u64) -> Result<(), StoreError>;
    /// Bytes may have reached the printer: no automatic retry.
    fn mark_failed(&mut self, id: u64, error: &str) -> Result<(), StoreError>;
    /// After a restart: jobs left `sending` become `failed` (they may have printed).
    fn fail_interrupted(&mut self) -> Result<usize, StoreError>;

    fn print_job(&self, id: u64) -> Result<Option<PrintJob>, StoreError>;
    /// The latest jobs, newest first.
    fn print_jobs(&self, limit: usize) -> Result<Vec<PrintJob>, StoreError>;
}

#[cfg(test)]
mod tests {
    use mpos_domain::inventory::Dimension;

    use super::*;

    #[test]
    fn levels_and_par_levels_are_merged_side_by_side() {
        let (a, b) = (LocationId(1), LocationId(2));
        let (flour, milk, salt) = (StockItemId(10), StockItemId(11), StockItemId(12));
        let v = |milli| StockValue { milli, value: 7 };
        let q = |milli| Quantity {
            dimension: Dimension::Mass,
            milli,
        };
        // Out of order, as the scans return them; flour at b has no par, salt at a no
        // level, and the last par level (milk at b) comes after every level.
        let report = ReportLevel::side_by_side(
            vec![(b, flour, v(3)), (a, milk, v(2)), (a, flour, v(1))],
            vec![(b, milk, q(40)), (a, salt, q(30)), (a, flour, q(10))],
        );
        let line = |location, item, level, par| ReportLevel {
            location,
            item,
            level,
            par,
        };
        assert_eq!(
            report,
            vec![
                line(a, flour, v(1), Some(q(10))),
                line(a, milk, v(2), None),
                line(a, salt, StockValue::default(), Some(q(30))),
                line(b, flour, v(3), None),
                line(b, milk, StockValue::default(), Some(q(40))),
            ]
        );
    }
}
