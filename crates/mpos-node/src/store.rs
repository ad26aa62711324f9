//! Where a node keeps its ledger and projections: SQLite in its data directory (the
//! default, a restaurant's own device) or a PostgreSQL database (server mode, which
//! several nodes may share). One type, so the rest of the node is written once for both.

use mpos_domain::catalog::{Category, Item, ModifierGroup, TaxCategory};
use mpos_domain::drawer::Drawer;
use mpos_domain::floor::Table;
use mpos_domain::ids::{
    CategoryId, DrawerId, ItemId, LocationId, ModifierGroupId, OrderId, PurchaseOrderId, StaffId,
    StockItemId, SupplierId, TaxCategoryId, TransferId,
};
use mpos_domain::inventory::sale::Taken;
use mpos_domain::inventory::{
    Location, PurchaseOrder, Quantity, Recipe, RecipeFor, SalesStock, Stock, StockItem, StockValue,
    Supplier, Transfer,
};
use mpos_domain::menu::Settings;
use mpos_domain::order::Order;
use mpos_domain::staff::StaffMember;
use mpos_ledger::{
    ChainHead, Hash, NodeId, PublicKey, SealedEntry, SignedCheckpoint, WitnessSignature,
};
use mpos_store::{
    AppliedRequest, AvailabilityChange, ClosedDay, InventoryStore, LedgerBatch, LedgerItem,
    LedgerStore, NewPrintJob, OrganizationNode, PinHash, PosStore, PrintJob, PrintStore, Printer,
    Projection, ReportLevel, RevokedNode, SoldWhile86d, StockUsage, StockWanted, StoreError,
};
use mpos_store_postgres::PgStore;
use mpos_store_sqlite::SqliteStore;
use std::collections::HashMap;

/// Which store a node runs on.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// `mpos.sqlite3` in the data directory.
    DataDir,
    /// A PostgreSQL database: a `postgres://` URL or `key=value` connection string.
    Postgres(String),
}

impl std::fmt::Debug for StoreLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A connection string may hold a password: never printed.
        match self {
            StoreLocation::DataDir => f.write_str("DataDir"),
            StoreLocation::Postgres(_) => f.write_str("Postgres"),
        }
    }
}

impl StoreLocation {
    /// Reads `--store`: none or `sqlite` is the data directory; a `postgres://` or
    /// `postgresql://` URL (or libpq `key=value` pairs) is PostgreSQL.
    pub fn parse(text: Option<&str>) -> Result<StoreLocation, String> {
        match text.map(str::trim) {
            None | Some("") | Some("sqlite") => Ok(StoreLocation::DataDir),
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Ok(StoreLocation::Postgres(url.to_string()))
            }
            Some(pairs) if pairs.contains("host=") || pairs.contains("dbname=") => {
                Ok(StoreLocation::Postgres(pairs.to_string()))
            }
            Some(_) => Err(
                "--store takes `sqlite` (the data directory, the default) or a PostgreSQL \
                 connection string such as postgres://user@host/dbname"
                    .into(),
            ),
        }
    }
}

/// A connection to the node's store. A node holds a handful, for its lifetime: their
/// size does not matter.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Store {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

impl Store {
    /// Refreshes the database's planner statistics, after much data was loaded at once.
    pub fn analyze(&self) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(s) => s.analyze(),
            Store::Postgres(s) => s.analyze(),
        }
    }
}

impl LedgerStore for Store {
    fn node_keys(&self) -> Result<Vec<PublicKey>, StoreError> {
        match self {
            Store::Sqlite(s) => s.node_keys(),
            Store::Postgres(s) => s.node_keys(),
        }
    }

    fn chain_head(&self, node: NodeId) -> Result<Option<ChainHead>, StoreError> {
        match self {
            Store::Sqlite(s) => s.chain_head(node),
            Store::Postgres(s) => s.chain_head(node),
        }
    }

    fn append_batch(
        &mut self,
        key: &PublicKey,
        entries: &[SealedEntry],
        checkpoint: &SignedCheckpoint,
        head: &ChainHead,
    ) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(s) => s.append_batch(key, entries, checkpoint, head),
            Store::Postgres(s) => s.append_batch(key, entries, checkpoint, head),
        }
    }

    fn add_witness(
        &mut self,
        node: NodeId,
        tree_size: u64,
        witness: &WitnessSignature,
    ) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(s) => s.add_witness(node, tree_size, witness),
            Store::Postgres(s) => s.add_witness(node, tree_size, witness),
        }
    }

    fn latest_checkpoint(&self, node: NodeId) -> Result<Option<SignedCheckpoint>, StoreError> {
        match self {
            Store::Sqlite(s) => s.latest_checkpoint(node),
            Store::Postgres(s) => s.latest_checkpoint(node),
        }
    }

    fn checkpoint_at(
        &self,
        node: NodeId,
        tree_size: u64,
    ) -> Result<Option<SignedCheckpoint>, StoreError> {
        match self {
            Store::Sqlite(s) => s.checkpoint_at(node, tree_size),
            Store::Postgres(s) => s.checkpoint_at(node, tree_size),
        }
    }

    fn checkpoints_after(
        &self,
        node: NodeId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<SignedCheckpoint>, StoreError> {
        match self {
            Store::Sqlite(s) => s.checkpoints_after(node, after, limit),
            Store::Postgres(s) => s.checkpoints_after(node, after, limit),
        }
    }

    fn entry(&self, node: NodeId, seq: u64) -> Result<Option<Vec<u8>>, StoreError> {
        match self {
            Store::Sqlite(s) => s.entry(node, seq),
            Store::Postgres(s) => s.entry(node, seq),
        }
    }

    fn range_root(&self, node: NodeId, start: u64, end: u64) -> Result<Hash, StoreError> {
        match self {
            Store::Sqlite(s) => s.range_root(node, start, end),
            Store::Postgres(s) => s.range_root(node, start, end),
        }
    }

    fn stream_ledger(
        &self,
        node: NodeId,
        visit: &mut dyn FnMut(LedgerItem<'_>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(s) => s.stream_ledger(node, visit),
            Store::Postgres(s) => s.stream_ledger(node, visit),
        }
    }
}

impl PosStore for Store {
    fn begin_reads(&mut self) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(s) => s.begin_reads(),
            Store::Postgres(s) => s.begin_reads(),
        }
    }

    fn end_reads(&mut self) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(s) => s.end_reads(),
            Store::Postgres(s) => s.end_reads(),
        }
    }

    fn commit(
        &mut self,
        batch: &LedgerBatch,
        projection: &Projection<'_>,
        requests: &[AppliedRequest],
    ) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(s) => s.commit(batch, projection, requests),
            Store::Postgres(s) => s.commit(batch, projection, requests),
        }
    }

    fn commit_replica(
        &mut self,
        batches: &[LedgerBatch],
        projection: &Projection<'_>,
    ) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(s) => s.commit_replica(batches, projection),
            Store::Postgres(s) => s.commit_replica(batches, projection),
        }
    }

    fn load_order(&self, id: OrderId) -> Result<Option<Order>, StoreError> {
        match self {
            Store::Sqlite(s) => s.load_order(id),
            Store::Postgres(s) => s.load_order(id),
        }
    }

    fn shared(&self) -> bool {
        match self {
            Store::Sqlite(s) => s.shared(),
            Store::Postgres(s) => s.shared(),
        }
    }

    fn catalog_generation(&self) -> Result<u64, StoreError> {
        match self {
            Store::Sqlite(s) => s.catalog_generation(),
            Store::Postgres(s) => s.catalog_generation(),
        }
    }

    fn order_versions(&self, ids: &[OrderId]) -> Result<Vec<(OrderId, u32)>, StoreError> {
        match self {
            Store::Sqlite(s) => s.order_versions(ids),
            Store::Postgres(s) => s.order_versions(ids),
        }
    }

    fn applied_requests(&self, requests: &[u128]) -> Result<Vec<AppliedRequest>, StoreError> {
        match self {
            Store::Sqlite(s) => s.applied_requests(requests),
            Store::Postgres(s) => s.applied_requests(requests),
        }
    }

    fn applied_request(&self, request: u128) -> Result<Option<AppliedRequest>, StoreError> {
        match self {
            Store::Sqlite(s) => s.applied_request(request),
            Store::Postgres(s) => s.applied_request(request),
        }
    }

    fn settings(&self) -> Result<Option<Settings>, StoreError> {
        match self {
            Store::Sqlite(s) => s.settings(),
            Store::Postgres(s) => s.settings(),
        }
    }

    fn pin_hashes(&self) -> Result<Vec<PinHash>, StoreError> {
        match self {
            Store::Sqlite(s) => s.pin_hashes(),
            Store::Postgres(s) => s.pin_hashes(),
        }
    }

    fn availability_changes(&self, item: ItemId) -> Result<Vec<AvailabilityChange>, StoreError> {
        match self {
            Store::Sqlite(s) => s.availability_changes(item),
            Store::Postgres(s) => s.availability_changes(item),
        }
    }

    fn sold_while_86d(&self, item: ItemId, after: u64) -> Result<Vec<SoldWhile86d>, StoreError> {
        match self {
            Store::Sqlite(s) => s.sold_while_86d(item, after),
            Store::Postgres(s) => s.sold_while_86d(item, after),
        }
    }

    fn pin_changes(&self, staff: StaffId) -> Result<Vec<(u64, NodeId)>, StoreError> {
        match self {
            Store::Sqlite(s) => s.pin_changes(staff),
            Store::Postgres(s) => s.pin_changes(staff),
        }
    }

    fn save_receipts(&mut self, receipts: &[(OrderId, String)]) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(s) => s.save_receipts(receipts),
            Store::Postgres(s) => s.save_receipts(receipts),
        }
    }

    fn save_pins(&mut self, pins: &[PinHash]) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(s) => s.save_pins(pins),
            Store::Postgres(s) => s.save_pins(pins),
        }
    }

    fn entity_clocks(
        &self,
        keys: &[mpos_store::clock::EntityKey],
    ) -> Result<Vec<mpos_store::clock::EntityClock>, StoreError> {
        match self {
            Store::Sqlite(s) => s.entity_clocks(keys),
            Store::Postgres(s) => s.entity_clocks(keys),
        }
    }

    fn order_entries(&self, order: OrderId) -> Result<Vec<(NodeId, u64, u64)>, StoreError> {
        match self {
            Store::Sqlite(s) => s.order_entries(order),
            Store::Postgres(s) => s.order_entries(order),
        }
    }

    fn organization_nodes(&self) -> Result<Vec<OrganizationNode>, StoreError> {
        match self {
            Store::Sqlite(s) => s.organization_nodes(),
            Store::Postgres(s) => s.organization_nodes(),
        }
    }

    fn revocations(&self) -> Result<Vec<RevokedNode>, StoreError> {
        match self {
            Store::Sqlite(s) => s.revocations(),
            Store::Postgres(s) => s.revocations(),
        }
    }

    fn item(&self, id: ItemId) -> Result<Option<Item>, StoreError> {
        match self {
            Store::Sqlite(s) => s.item(id),
            Store::Postgres(s) => s.item(id),
        }
    }

    fn category(&self, id: CategoryId) -> Result<Option<Category>, StoreError> {
        match self {
            Store::Sqlite(s) => s.category(id),
            Store::Postgres(s) => s.category(id),
        }
    }

    fn modifier_group(&self, id: ModifierGroupId) -> Result<Option<ModifierGroup>, StoreError> {
        match self {
            Store::Sqlite(s) => s.modifier_group(id),
            Store::Postgres(s) => s.modifier_group(id),
        }
    }

    fn tax_category(&self, id: TaxCategoryId) -> Result<Option<TaxCategory>, StoreError> {
        match self {
            Store::Sqlite(s) => s.tax_category(id),
            Store::Postgres(s) => s.tax_category(id),
        }
    }

    fn item_with_code(&self, code: &str) -> Result<Option<ItemId>, StoreError> {
        match self {
            Store::Sqlite(s) => s.item_with_code(code),
            Store::Postgres(s) => s.item_with_code(code),
        }
    }

    fn search_items(&self, query: &str, limit: usize) -> Result<Vec<Item>, StoreError> {
        match self {
            Store::Sqlite(s) => s.search_items(query, limit),
            Store::Postgres(s) => s.search_items(query, limit),
        }
    }

    fn tax_categories(&self) -> Result<Vec<TaxCategory>, StoreError> {
        match self {
            Store::Sqlite(s) => s.tax_categories(),
            Store::Postgres(s) => s.tax_categories(),
        }
    }

    fn categories(&self) -> Result<Vec<Category>, StoreError> {
        match self {
            Store::Sqlite(s) => s.categories(),
            Store::Postgres(s) => s.categories(),
        }
    }

    fn modifier_groups(&self) -> Result<Vec<ModifierGroup>, StoreError> {
        match self {
            Store::Sqlite(s) => s.modifier_groups(),
            Store::Postgres(s) => s.modifier_groups(),
        }
    }

    fn category_items(
        &self,
        category: CategoryId,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<Item>, StoreError> {
        match self {
            Store::Sqlite(s) => s.category_items(category, offset, limit),
            Store::Postgres(s) => s.category_items(category, offset, limit),
        }
    }

    fn tables(&self) -> Result<Vec<Table>, StoreError> {
        match self {
            Store::Sqlite(s) => s.tables(),
            Store::Postgres(s) => s.tables(),
        }
    }

    fn staff_member(&self, id: StaffId) -> Result<Option<StaffMember>, StoreError> {
        match self {
            Store::Sqlite(s) => s.staff_member(id),
            Store::Postgres(s) => s.staff_member(id),
        }
    }

    fn staff(&self) -> Result<Vec<StaffMember>, StoreError> {
        match self {
            Store::Sqlite(s) => s.staff(),
            Store::Postgres(s) => s.staff(),
        }
    }

    fn pin_hash(&self, id: StaffId) -> Result<Option<String>, StoreError> {
        match self {
            Store::Sqlite(s) => s.pin_hash(id),
            Store::Postgres(s) => s.pin_hash(id),
        }
    }

    fn closed_without_receipt(&self, limit: usize) -> Result<Vec<OrderId>, StoreError> {
        match self {
            Store::Sqlite(s) => s.closed_without_receipt(limit),
            Store::Postgres(s) => s.closed_without_receipt(limit),
        }
    }

    fn receipt_code(&self, order: OrderId) -> Result<Option<String>, StoreError> {
        match self {
            Store::Sqlite(s) => s.receipt_code(order),
            Store::Postgres(s) => s.receipt_code(order),
        }
    }

    fn open_orders(&self, location: Option<LocationId>) -> Result<Vec<Order>, StoreError> {
        match self {
            Store::Sqlite(s) => s.open_orders(location),
            Store::Postgres(s) => s.open_orders(location),
        }
    }

    fn recent_orders(
        &self,
        location: Option<LocationId>,
        before: Option<(u64, OrderId)>,
        number: &str,
        limit: usize,
    ) -> Result<Vec<Order>, StoreError> {
        match self {
            Store::Sqlite(s) => s.recent_orders(location, before, number, limit),
            Store::Postgres(s) => s.recent_orders(location, before, number, limit),
        }
    }

    fn closed_order_ids(
        &self,
        location: Option<LocationId>,
        from: u64,
        to: u64,
        limit: usize,
    ) -> Result<Vec<OrderId>, StoreError> {
        match self {
            Store::Sqlite(s) => s.closed_order_ids(location, from, to, limit),
            Store::Postgres(s) => s.closed_order_ids(location, from, to, limit),
        }
    }

    fn kitchen_orders(
        &self,
        location: Option<LocationId>,
        bumped_since: u64,
    ) -> Result<Vec<Order>, StoreError> {
        match self {
            Store::Sqlite(s) => s.kitchen_orders(location, bumped_since),
            Store::Postgres(s) => s.kitchen_orders(location, bumped_since),
        }
    }

    fn drawer(&self, id: DrawerId) -> Result<Option<Drawer>, StoreError> {
        match self {
            Store::Sqlite(s) => s.drawer(id),
            Store::Postgres(s) => s.drawer(id),
        }
    }

    fn open_drawers(&self, location: Option<LocationId>) -> Result<Vec<Drawer>, StoreError> {
        match self {
            Store::Sqlite(s) => s.open_drawers(location),
            Store::Postgres(s) => s.open_drawers(location),
        }
    }

    fn recent_drawers(
        &self,
        location: Option<LocationId>,
        limit: usize,
    ) -> Result<Vec<Drawer>, StoreError> {
        match self {
            Store::Sqlite(s) => s.recent_drawers(location, limit),
            Store::Postgres(s) => s.recent_drawers(location, limit),
        }
    }

    fn last_closed_day(&self, node: NodeId) -> Result<Option<ClosedDay>, StoreError> {
        match self {
            Store::Sqlite(s) => s.last_closed_day(node),
            Store::Postgres(s) => s.last_closed_day(node),
        }
    }

    fn closed_day(&self, node: NodeId, day: u32) -> Result<Option<ClosedDay>, StoreError> {
        match self {
            Store::Sqlite(s) => s.closed_day(node, day),
            Store::Postgres(s) => s.closed_day(node, day),
        }
    }

    fn visit_entries(
        &self,
        node: NodeId,
        from: u64,
        to: u64,
        visit: &mut dyn FnMut(&[u8]) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(s) => s.visit_entries(node, from, to, visit),
            Store::Postgres(s) => s.visit_entries(node, from, to, visit),
        }
    }
}

impl PrintStore for Store {
    fn put_printer(&mut self, printer: &Printer) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(s) => s.put_printer(printer),
            Store::Postgres(s) => s.put_printer(printer),
        }
    }

    fn remove_printer(&mut self, name: &str) -> Result<bool, StoreError> {
        match self {
            Store::Sqlite(s) => s.remove_printer(name),
            Store::Postgres(s) => s.remove_printer(name),
        }
    }

    fn printers(&self) -> Result<Vec<Printer>, StoreError> {
        match self {
            Store::Sqlite(s) => s.printers(),
            Store::Postgres(s) => s.printers(),
        }
    }

    fn print_cursor(&self, node: NodeId) -> Result<Option<u64>, StoreError> {
        match self {
            Store::Sqlite(s) => s.print_cursor(node),
            Store::Postgres(s) => s.print_cursor(node),
        }
    }

    fn queue_from_ledger(
        &mut self,
        node: NodeId,
        seq: u64,
        jobs: &[NewPrintJob],
        now: u64,
    ) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(s) => s.queue_from_ledger(node, seq, jobs, now),
            Store::Postgres(s) => s.queue_from_ledger(node, seq, jobs, now),
        }
    }

    fn queue_job(&mut self, job: &NewPrintJob, now: u64) -> Result<u64, StoreError> {
        match self {
            Store::Sqlite(s) => s.queue_job(job, now),
            Store::Postgres(s) => s.queue_job(job, now),
        }
    }

    fn print_request(&self, request: u128, action: &str) -> Result<Option<Vec<u64>>, StoreError> {
        match self {
            Store::Sqlite(s) => s.print_request(request, action),
            Store::Postgres(s) => s.print_request(request, action),
        }
    }

    fn queue_for_request(
        &mut self,
        request: u128,
        action: &str,
        jobs: &[NewPrintJob],
        now: u64,
    ) -> Result<Vec<u64>, StoreError> {
        match self {
            Store::Sqlite(s) => s.queue_for_request(request, action, jobs, now),
            Store::Postgres(s) => s.queue_for_request(request, action, jobs, now),
        }
    }

    fn next_job(&self, printer: &str, now: u64) -> Result<Option<PrintJob>, StoreError> {
        match self {
            Store::Sqlite(s) => s.next_job(printer, now),
            Store::Postgres(s) => s.next_job(printer, now),
        }
    }

    fn mark_sending(&mut self, id: u64) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(s) => s.mark_sending(id),
            Store::Postgres(s) => s.mark_sending(id),
        }
    }

    fn mark_printed(&mut self, id: u64, now: u64) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(s) => s.mark_printed(id, now),
            Store::Postgres(s) => s.mark_printed(id, now),
        }
    }

    fn mark_retry(&mut self, id: u64, error: &str, next_try_at: u64) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(s) => s.mark_retry(id, error, next_try_at),
            Store::Postgres(s) => s.mark_retry(id, error, next_try_at),
        }
    }

    fn mark_failed(&mut self, id: u64, error: &str) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(s) => s.mark_failed(id, error),
            Store::Postgres(s) => s.mark_failed(id, error),
        }
    }

    fn fail_interrupted(&mut self) -> Result<usize, StoreError> {
        match self {
            Store::Sqlite(s) => s.fail_interrupted(),
            Store::Postgres(s) => s.fail_interrupted(),
        }
    }

    fn print_job(&self, id: u64) -> Result<Option<PrintJob>, StoreError> {
        match self {
            Store::Sqlite(s) => s.print_job(id),
            Store::Postgres(s) => s.print_job(id),
        }
    }

    fn print_jobs(&self, limit: usize) -> Result<Vec<PrintJob>, StoreError> {
        match self {
            Store::Sqlite(s) => s.print_jobs(limit),
            Store::Postgres(s) => s.print_jobs(limit),
        }
    }
}

impl InventoryStore for Store {
    fn stock_item(&self, id: StockItemId) -> Result<Option<StockItem>, StoreError> {
        match self {
            Store::Sqlite(s) => s.stock_item(id),
            Store::Postgres(s) => s.stock_item(id),
        }
    }

    fn stock_items(&self) -> Result<Vec<StockItem>, StoreError> {
        match self {
            Store::Sqlite(s) => s.stock_items(),
            Store::Postgres(s) => s.stock_items(),
        }
    }

    fn supplier(&self, id: SupplierId) -> Result<Option<Supplier>, StoreError> {
        match self {
            Store::Sqlite(s) => s.supplier(id),
            Store::Postgres(s) => s.supplier(id),
        }
    }

    fn stock_level(
        &self,
        location: LocationId,
        item: StockItemId,
    ) -> Result<StockValue, StoreError> {
        match self {
            Store::Sqlite(s) => s.stock_level(location, item),
            Store::Postgres(s) => s.stock_level(location, item),
        }
    }

    fn stock_levels(
        &self,
        location: Option<LocationId>,
    ) -> Result<Vec<(LocationId, StockItemId, StockValue)>, StoreError> {
        match self {
            Store::Sqlite(s) => s.stock_levels(location),
            Store::Postgres(s) => s.stock_levels(location),
        }
    }

    fn par_level(
        &self,
        location: LocationId,
        item: StockItemId,
    ) -> Result<Option<Quantity>, StoreError> {
        match self {
            Store::Sqlite(s) => s.par_level(location, item),
            Store::Postgres(s) => s.par_level(location, item),
        }
    }

    fn recipe(&self, target: RecipeFor) -> Result<Option<Recipe>, StoreError> {
        match self {
            Store::Sqlite(s) => s.recipe(target),
            Store::Postgres(s) => s.recipe(target),
        }
    }

    fn stock_report(&self, location: Option<LocationId>) -> Result<Vec<ReportLevel>, StoreError> {
        match self {
            Store::Sqlite(s) => s.stock_report(location),
            Store::Postgres(s) => s.stock_report(location),
        }
    }

    fn recipes(&self) -> Result<Vec<Recipe>, StoreError> {
        match self {
            Store::Sqlite(s) => s.recipes(),
            Store::Postgres(s) => s.recipes(),
        }
    }

    fn transfer(&self, id: TransferId) -> Result<Option<Transfer>, StoreError> {
        match self {
            Store::Sqlite(s) => s.transfer(id),
            Store::Postgres(s) => s.transfer(id),
        }
    }

    fn purchase_order(&self, id: PurchaseOrderId) -> Result<Option<PurchaseOrder>, StoreError> {
        match self {
            Store::Sqlite(s) => s.purchase_order(id),
            Store::Postgres(s) => s.purchase_order(id),
        }
    }

    fn location(&self, id: LocationId) -> Result<Option<Location>, StoreError> {
        match self {
            Store::Sqlite(s) => s.location(id),
            Store::Postgres(s) => s.location(id),
        }
    }

    fn locations(&self) -> Result<Vec<Location>, StoreError> {
        match self {
            Store::Sqlite(s) => s.locations(),
            Store::Postgres(s) => s.locations(),
        }
    }

    fn sales_stock(&self, node: NodeId) -> Result<Option<SalesStock>, StoreError> {
        match self {
            Store::Sqlite(s) => s.sales_stock(node),
            Store::Postgres(s) => s.sales_stock(node),
        }
    }

    fn order_stock(&self, order: OrderId) -> Result<Taken, StoreError> {
        match self {
            Store::Sqlite(s) => s.order_stock(order),
            Store::Postgres(s) => s.order_stock(order),
        }
    }

    fn suppliers(&self) -> Result<Vec<Supplier>, StoreError> {
        match self {
            Store::Sqlite(s) => s.suppliers(),
            Store::Postgres(s) => s.suppliers(),
        }
    }

    fn par_levels(&self) -> Result<Vec<(LocationId, StockItemId, Quantity)>, StoreError> {
        match self {
            Store::Sqlite(s) => s.par_levels(),
            Store::Postgres(s) => s.par_levels(),
        }
    }

    fn transfers_in_transit(&self) -> Result<Vec<Transfer>, StoreError> {
        match self {
            Store::Sqlite(s) => s.transfers_in_transit(),
            Store::Postgres(s) => s.transfers_in_transit(),
        }
    }

    fn disputed_transfers(&self) -> Result<Vec<TransferId>, StoreError> {
        match self {
            Store::Sqlite(s) => s.disputed_transfers(),
            Store::Postgres(s) => s.disputed_transfers(),
        }
    }

    fn purchase_orders(&self) -> Result<Vec<PurchaseOrder>, StoreError> {
        match self {
            Store::Sqlite(s) => s.purchase_orders(),
            Store::Postgres(s) => s.purchase_orders(),
        }
    }

    fn stock_usage(&self, from: u64, to: u64) -> Result<Vec<StockUsage>, StoreError> {
        match self {
            Store::Sqlite(s) => s.stock_usage(from, to),
            Store::Postgres(s) => s.stock_usage(from, to),
        }
    }

    fn orders_stock(&self, orders: &[OrderId]) -> Result<HashMap<OrderId, Taken>, StoreError> {
        match self {
            Store::Sqlite(s) => s.orders_stock(orders),
            Store::Postgres(s) => s.orders_stock(orders),
        }
    }

    fn read_stock(&self, wanted: &StockWanted, book: &mut Stock) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(s) => s.read_stock(wanted, book),
            Store::Postgres(s) => s.read_stock(wanted, book),
        }
    }
}

/// The location `node` sells at (see `PosStore::sales_stock`): the one whose orders,
/// drawers and kitchen it lists. None on a node that sells at no location, such as a
/// head-office node, which lists every location's.
pub fn node_location<S: PosStore>(
    store: &S,
    node: NodeId,
) -> Result<Option<LocationId>, StoreError> {
    Ok(store.sales_stock(node)?.map(|s| s.location))
}
