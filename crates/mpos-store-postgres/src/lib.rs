//! `mpos-store-postgres` is the server and cloud storage of M_POS: PostgreSQL, through the
//! synchronous `postgres` client (the store traits are synchronous; the node calls them
//! from its own threads). One database can hold the ledgers and projections of many
//! nodes, and several nodes can share it, each appending to its own ledger.
//!
//! It owns its SQL and its append-only `migrations/`, applied in order on open under an
//! advisory lock, so nodes starting together migrate once. A commit is one transaction;
//! PostgreSQL's own `synchronous_commit` (on by default) makes it durable before the call
//! returns.
//!
//! Architecture invariant: the only crate (with the other `mpos-store-*`) that contains
//! SQL. An existing migration is never edited; changes come as a new numbered file.

mod availability;
mod batch;
mod day;
mod inventory;
mod menu;
mod orders;
mod print;
mod sql;
mod trust;

use std::cell::RefCell;
use std::collections::HashMap;

use mpos_domain::catalog::{Category, Item, ModifierGroup, TaxCategory};
use mpos_domain::drawer::Drawer;
use mpos_domain::floor::Table;
use mpos_domain::ids::{
    CategoryId, DrawerId, ItemId, LocationId, ModifierGroupId, OrderId, StaffId, TaxCategoryId,
};
use mpos_domain::menu::Settings;
use mpos_domain::order::Order;
use mpos_domain::staff::StaffMember;
use mpos_ledger::{
    ChainHead, Frontier, Hash, NodeId, PublicKey, SealedEntry, SignedCheckpoint, WitnessSignature,
};
use mpos_store::{
    AppliedRequest, AvailabilityChange, ClosedDay, LedgerBatch, LedgerItem, LedgerStore, PosStore,
    Projection, SoldWhile86d, StoreError,
};
use postgres::error::SqlState;
use postgres::{Client, NoTls, Transaction};

use crate::batch::Writes;
use crate::sql::{Sql, Statements};

/// Migrations in order; the schema version is the number applied (`mpos_schema`).
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_ledger.sql"),
    include_str!("../migrations/0002_pos.sql"),
    include_str!("../migrations/0003_stock_locations.sql"),
    include_str!("../migrations/0004_organization.sql"),
    include_str!("../migrations/0005_trust.sql"),
    include_str!("../migrations/0006_eighty_six.sql"),
    include_str!("../migrations/0007_early_arrivals.sql"),
    include_str!("../migrations/0008_receipts_wanted.sql"),
    include_str!("../migrations/0009_arrivals_settled.sql"),
];

/// Taken while migrating, so that nodes starting together on one database migrate once.
const MIGRATION_LOCK: i64 = 0x6d70_6f73_0001;

/// How many rows a long read (a ledger export) holds in memory at a time.
const FETCH: i32 = 1_000;

/// A connection to an M_POS PostgreSQL database.
pub struct PgStore {
    /// Reads take `&self` in the store traits, but a PostgreSQL client needs `&mut` for
    /// every query: one store is one connection, used by one thread at a time.
    /// Always some until the store is dropped (see `Drop`).
    client: RefCell<Option<Client>>,
    statements: Statements,
    /// The node whose printers and print queue this connection serves.
    node: NodeId,
}

impl Drop for PgStore {
    /// The synchronous client closes its connection on a runtime of its own, which panics
    /// on a thread that drives async tasks (a node's store may be dropped on one when the
    /// server stops): it is closed on a thread of its own.
    fn drop(&mut self) {
        if let Some(client) = self.client.get_mut().take() {
            let _ = std::thread::spawn(move || drop(client)).join();
        }
    }
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The connection string may carry a password: never printed.
        f.write_str("PgStore")
    }
}

pub(crate) fn db(e: postgres::Error) -> StoreError {
    // Another node (or connection) wrote the same rows first: the caller may retry.
    match e.code() {
        Some(c)
            if *c == SqlState::UNIQUE_VIOLATION
                || *c == SqlState::T_R_SERIALIZATION_FAILURE
                || *c == SqlState::T_R_DEADLOCK_DETECTED =>
        {
            StoreError::Conflict(e.to_string())
        }
        _ => StoreError::Backend(e.to_string()),
    }
}

pub(crate) use mpos_store::columns::{corrupt, sql_int};

fn node_id(bytes: &[u8]) -> Result<NodeId, StoreError> {
    <[u8; 16]>::try_from(bytes)
        .map(NodeId)
        .map_err(|_| corrupt("node id is not 16 bytes"))
}

fn witness(
    id: Option<&[u8]>,
    signature: Option<&[u8]>,
) -> Result<Option<WitnessSignature>, StoreError> {
    match (id, signature) {
        (Some(id), Some(sig)) => Ok(Some(WitnessSignature {
            witness: node_id(id)?,
            signature: <[u8; 64]>::try_from(sig)
                .map_err(|_| corrupt("witness signature is not 64 bytes"))?,
        })),
        _ => Ok(None),
    }
}

impl PgStore {
    /// Connects to the database `config` names (a `postgres://` URL or `key=value` pairs)
    /// and brings its schema up to date.
    pub fn open(config: &str) -> Result<PgStore, StoreError> {
        let client = Client::connect(config, NoTls).map_err(|e| {
            // The driver's message names host and port, never the password.
            StoreError::Backend(format!("connecting to PostgreSQL: {e}"))
        })?;
        let store = PgStore {
            client: RefCell::new(Some(client)),
            statements: Statements::default(),
            node: NodeId([0; 16]),
        };
        store.migrate()?;
        Ok(store)
    }

    fn migrate(&self) -> Result<(), StoreError> {
        let mut client = self.conn()?;
        let mut tx = client.transaction().map_err(db)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .map_err(db)?;
        tx.batch_execute("CREATE TABLE IF NOT EXISTS mpos_schema (version INTEGER NOT NULL)")
            .map_err(db)?;
        let found: i64 = tx
            .query_opt("SELECT version::BIGINT FROM mpos_schema", &[])
            .map_err(db)?
            .map_or(0, |r| r.get(0));
        let supported = MIGRATIONS.len() as i64;
        if found > supported {
            return Err(StoreError::TooNew { found, supported });
        }
        for sql in MIGRATIONS.iter().skip(usize::try_from(found).unwrap_or(0)) {
            tx.batch_execute(sql).map_err(db)?;
        }
        if found < supported {
            tx.execute("DELETE FROM mpos_schema", &[]).map_err(db)?;
            tx.execute(
                "INSERT INTO mpos_schema (version) VALUES ($1::BIGINT::INTEGER)",
                &[&supported],
            )
            .map_err(db)?;
        }
        tx.commit().map_err(db)
    }

    /// The connection, for one call.
    fn conn(&self) -> Result<std::cell::RefMut<'_, Client>, StoreError> {
        std::cell::RefMut::filter_map(self.client.borrow_mut(), Option::as_mut)
            .map_err(|_| StoreError::Backend("the PostgreSQL connection is closed".into()))
    }

    /// The same store, serving the printers and print queue of `node` (nodes sharing a
    /// database keep their own).
    pub fn for_node(mut self, node: NodeId) -> PgStore {
        self.node = node;
        self
    }

    /// Runs `f` on the connection, outside any transaction.
    pub(crate) fn with<T>(
        &self,
        f: impl FnOnce(&mut Sql<'_, Client>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut client = self.conn()?;
        f(&mut Sql {
            client: &mut client,
            statements: &self.statements,
        })
    }

    /// Runs `f` in one transaction, committed if it succeeds.
    pub(crate) fn transaction<T>(
        &mut self,
        f: impl FnOnce(&mut Sql<'_, Transaction<'_>>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut client = self.conn()?;
        let mut tx = client.transaction().map_err(db)?;
        let out = f(&mut Sql {
            client: &mut tx,
            statements: &self.statements,
        })?;
        tx.commit().map_err(db)?;
        Ok(out)
    }

    /// Refreshes the planner's statistics, as PostgreSQL advises after loading much data
    /// at once (the demo's week of sales): a table the statistics still describe as
    /// small is read whole instead of by its keys until autovacuum gets to it.
    pub fn analyze(&self) -> Result<(), StoreError> {
        self.conn()?.batch_execute("ANALYZE").map_err(db)
    }

    /// The schema version (number of migrations applied).
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        self.conn()?
            .query_one("SELECT version::BIGINT FROM mpos_schema", &[])
            .map(|r| r.get(0))
            .map_err(db)
    }

    fn checkpoint(signed: &[u8]) -> Result<SignedCheckpoint, StoreError> {
        SignedCheckpoint::from_bytes(signed).map_err(corrupt)
    }
}

impl LedgerStore for PgStore {
    fn node_keys(&self) -> Result<Vec<PublicKey>, StoreError> {
        let rows = self
            .conn()?
            .query("SELECT public_key FROM ledger_node ORDER BY node_id", &[])
            .map_err(db)?;
        rows.iter()
            .map(|r| {
                let arr = <[u8; 32]>::try_from(r.get::<_, &[u8]>(0))
                    .map_err(|_| corrupt("public key is not 32 bytes"))?;
                PublicKey::from_bytes(&arr).map_err(corrupt)
            })
            .collect()
    }

    fn chain_head(&self, node: NodeId) -> Result<Option<ChainHead>, StoreError> {
        let row = self
            .conn()?
            .query_opt(
                "SELECT state FROM ledger_head WHERE node_id = $1",
                &[&&node.0[..]],
            )
            .map_err(db)?;
        row.map(|r| ChainHead::from_bytes(r.get(0)).map_err(corrupt))
            .transpose()
    }

    fn append_batch(
        &mut self,
        key: &PublicKey,
        entries: &[SealedEntry],
        checkpoint: &SignedCheckpoint,
        head: &ChainHead,
    ) -> Result<(), StoreError> {
        self.transaction(|s| append_ledger(s, key, entries, checkpoint, head))
    }

    fn add_witness(
        &mut self,
        node: NodeId,
        tree_size: u64,
        witness: &WitnessSignature,
    ) -> Result<(), StoreError> {
        self.conn()?
            .execute(
                "INSERT INTO ledger_witness (node_id, tree_size, witness_id, signature)
                 VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                &[
                    &&node.0[..],
                    &sql_int(tree_size),
                    &&witness.witness.0[..],
                    &&witness.signature[..],
                ],
            )
            .map_err(db)?;
        Ok(())
    }

    fn latest_checkpoint(&self, node: NodeId) -> Result<Option<SignedCheckpoint>, StoreError> {
        let row = self
            .conn()?
            .query_opt(
                "SELECT signed FROM ledger_checkpoint WHERE node_id = $1
                 ORDER BY tree_size DESC LIMIT 1",
                &[&&node.0[..]],
            )
            .map_err(db)?;
        row.map(|r| Self::checkpoint(r.get(0))).transpose()
    }

    fn checkpoint_at(
        &self,
        node: NodeId,
        tree_size: u64,
    ) -> Result<Option<SignedCheckpoint>, StoreError> {
        let row = self
            .conn()?
            .query_opt(
                "SELECT signed FROM ledger_checkpoint WHERE node_id = $1 AND tree_size = $2",
                &[&&node.0[..], &sql_int(tree_size)],
            )
            .map_err(db)?;
        row.map(|r| Self::checkpoint(r.get(0))).transpose()
    }

    fn checkpoints_after(
        &self,
        node: NodeId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<SignedCheckpoint>, StoreError> {
        let rows = self
            .conn()?
            .query(
                "SELECT signed FROM ledger_checkpoint WHERE node_id = $1 AND tree_size > $2
                 ORDER BY tree_size LIMIT $3",
                &[&&node.0[..], &sql_int(after), &sql_int(limit as u64)],
            )
            .map_err(db)?;
        rows.into_iter()
            .map(|r| Self::checkpoint(r.get(0)))
            .collect()
    }

    fn entry(&self, node: NodeId, seq: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let row = self
            .conn()?
            .query_opt(
                "SELECT bytes FROM ledger_entry WHERE node_id = $1 AND seq = $2",
                &[&&node.0[..], &sql_int(seq)],
            )
            .map_err(db)?;
        Ok(row.map(|r| r.get(0)))
    }

    fn range_root(&self, node: NodeId, start: u64, end: u64) -> Result<Hash, StoreError> {
        let mut client = self.conn()?;
        let mut tx = client.transaction().map_err(db)?;
        let portal = tx
            .bind(
                "SELECT hash FROM ledger_entry WHERE node_id = $1 AND seq > $2 AND seq <= $3
                 ORDER BY seq",
                &[&&node.0[..], &sql_int(start), &sql_int(end)],
            )
            .map_err(db)?;
        let mut frontier = Frontier::new();
        loop {
            let rows = tx.query_portal(&portal, FETCH).map_err(db)?;
            for r in &rows {
                let hash = <[u8; 32]>::try_from(r.get::<_, &[u8]>(0))
                    .map_err(|_| corrupt("entry hash is not 32 bytes"))?;
                frontier.push(Hash(hash));
            }
            if rows.len() < FETCH as usize {
                break;
            }
        }
        if frontier.size() != end.saturating_sub(start) {
            return Err(corrupt(format!(
                "entries {}..={end} of node {node} are not all stored",
                start + 1
            )));
        }
        Ok(frontier.root())
    }

    fn stream_ledger(
        &self,
        node: NodeId,
        visit: &mut dyn FnMut(LedgerItem<'_>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        // Two cursors read side by side, a thousand rows at a time: memory stays flat
        // however long the ledger, and one snapshot (the transaction) serves both.
        let mut client = self.conn()?;
        let mut tx = client
            .build_transaction()
            .isolation_level(postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .map_err(db)?;
        let id = &node.0[..];
        let entries = tx
            .bind(
                "SELECT seq, bytes FROM ledger_entry WHERE node_id = $1 ORDER BY seq",
                &[&id],
            )
            .map_err(db)?;
        let checkpoints = tx
            .bind(
                "SELECT c.tree_size, c.signed, w.witness_id, w.signature
                 FROM ledger_checkpoint c
                 LEFT JOIN ledger_witness w ON w.node_id = c.node_id AND w.tree_size = c.tree_size
                 WHERE c.node_id = $1
                 ORDER BY c.tree_size, w.witness_id",
                &[&id],
            )
            .map_err(db)?;
        let mut cps: std::collections::VecDeque<postgres::Row> = Default::default();
        let mut cps_done = false;
        // The next checkpoint row, fetching more when the buffer runs out.
        let mut next_cp = |tx: &mut Transaction<'_>| -> Result<Option<postgres::Row>, StoreError> {
            if cps.is_empty() && !cps_done {
                let rows = tx.query_portal(&checkpoints, FETCH).map_err(db)?;
                cps_done = rows.len() < FETCH as usize;
                cps.extend(rows);
            }
            Ok(cps.pop_front())
        };
        let mut pending = next_cp(&mut tx)?;
        loop {
            let rows = tx.query_portal(&entries, FETCH).map_err(db)?;
            for row in &rows {
                let seq: i64 = row.get(0);
                visit(LedgerItem::Entry(row.get(1)))?;
                while let Some(cp) = pending.take() {
                    let size: i64 = cp.get(0);
                    if size != seq {
                        pending = Some(cp);
                        break;
                    }
                    let mut witnesses: Vec<WitnessSignature> =
                        witness(cp.get(2), cp.get(3))?.into_iter().collect();
                    loop {
                        match next_cp(&mut tx)? {
                            Some(more) if more.get::<_, i64>(0) == size => {
                                witnesses.extend(witness(more.get(2), more.get(3))?);
                            }
                            next => {
                                pending = next;
                                break;
                            }
                        }
                    }
                    visit(LedgerItem::Checkpoint(
                        Self::checkpoint(cp.get(1))?,
                        witnesses,
                    ))?;
                }
            }
            if rows.len() < FETCH as usize {
                break;
            }
        }
        Ok(())
    }
}

/// Appends a batch to the ledger tables inside the caller's transaction, refusing one that
/// does not continue the stored chain. The head row is locked first, so two connections
/// appending to the same node's chain (a misconfigured second node with the same key)
/// cannot both succeed.
pub(crate) fn append_ledger<C: postgres::GenericClient>(
    tx: &mut Sql<'_, C>,
    key: &PublicKey,
    entries: &[SealedEntry],
    checkpoint: &SignedCheckpoint,
    head: &ChainHead,
) -> Result<(), StoreError> {
    let node = key.node_id();
    let id = &node.0[..];
    let stored: i64 = tx
        .query_opt(
            "SELECT size FROM ledger_head WHERE node_id = $1 FOR UPDATE",
            &[&id],
        )?
        .map_or(0, |r| r.get(0));
    let first = entries.first().map_or(head.size(), |e| e.seq - 1);
    if sql_int(first) != stored || checkpoint.checkpoint.tree_size != head.size() {
        return Err(StoreError::Conflict(format!(
            "batch starts after seq {first}, but the stored chain of node {node} ends at {stored}"
        )));
    }
    tx.execute(
        "INSERT INTO ledger_node (node_id, public_key) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        &[&id, &&key.to_bytes()[..]],
    )?;
    // One statement for the whole batch: a round trip per entry would bound a batch by
    // the network's latency.
    let seqs: Vec<i64> = entries.iter().map(|e| sql_int(e.seq)).collect();
    let hashes: Vec<&[u8]> = entries.iter().map(|e| &e.hash.0[..]).collect();
    let bytes: Vec<&[u8]> = entries.iter().map(|e| e.bytes.as_slice()).collect();
    tx.execute(
        "INSERT INTO ledger_entry (node_id, seq, hash, bytes)
         SELECT $1, s, h, b FROM UNNEST($2::BIGINT[], $3::BYTEA[], $4::BYTEA[]) AS t(s, h, b)",
        &[&id, &seqs, &hashes, &bytes],
    )?;
    tx.execute(
        "INSERT INTO ledger_checkpoint (node_id, tree_size, signed) VALUES ($1, $2, $3)",
        &[
            &id,
            &sql_int(checkpoint.checkpoint.tree_size),
            &&checkpoint.to_bytes()[..],
        ],
    )?;
    tx.execute(
        "INSERT INTO ledger_head (node_id, size, state) VALUES ($1, $2, $3)
         ON CONFLICT (node_id) DO UPDATE SET size = excluded.size, state = excluded.state",
        &[&id, &sql_int(head.size()), &head.to_bytes()],
    )?;
    Ok(())
}

/// Gathers what a batch of `node`'s events changed in the projections into `w`, writing
/// the rows that are not batched.
fn save_projection(
    s: &mut Sql<'_, Transaction<'_>>,
    w: &mut Writes,
    node: NodeId,
    projection: &Projection<'_>,
) -> Result<(), StoreError> {
    for change in &projection.menu {
        menu::save_change(s, change)?;
    }
    // A receipt code is written with its order's row: the orders a batch closed are
    // among those it changed.
    let receipts: HashMap<OrderId, &str> = projection
        .receipts
        .iter()
        .map(|(o, code)| (*o, code.as_str()))
        .collect();
    for o in &projection.orders {
        let receipt = receipts.get(&o.after.id).copied();
        orders::save_order(s, w, o.before, o.after, receipt)?;
    }
    if let Some((order, _)) = projection
        .receipts
        .iter()
        .find(|(o, _)| !projection.orders.iter().any(|u| u.after.id == *o))
    {
        return Err(StoreError::Backend(format!(
            "a receipt code for order {order} that the batch did not change"
        )));
    }
    for change in &projection.staff {
        menu::save_staff(s, change)?;
    }
    for pin in &projection.pins {
        menu::save_pin(s, pin)?;
    }
    for change in &projection.floor {
        menu::save_floor(s, change)?;
    }
    if projection.changes_catalog() {
        s.execute("UPDATE catalog_generation SET n = n + 1 WHERE id = 1", &[])?;
    }
    for d in &projection.drawers {
        day::save_drawer(s, d)?;
    }
    for d in &projection.days {
        day::save_day(s, d)?;
    }
    inventory::lock_levels(s, &mut w.stock, &projection.inventory)?;
    for e in &projection.inventory {
        inventory::save_event(s, &mut w.stock, node, e)?;
    }
    for update in &projection.trust {
        trust::save_update(s, update)?;
    }
    for clock in &projection.clocks {
        trust::save_clock(s, clock)?;
    }
    for change in &projection.pin_changes {
        trust::save_pin_change(s, *change)?;
    }
    availability::save(s, projection)?;
    for (order, first, last) in &projection.order_entries {
        trust::save_order_entry(s, node, *order, (*first, *last))?;
    }
    Ok(())
}

impl PosStore for PgStore {
    fn commit(
        &mut self,
        batch: &LedgerBatch,
        projection: &Projection<'_>,
        requests: &[AppliedRequest],
    ) -> Result<(), StoreError> {
        self.transaction(|s| {
            append_ledger(
                s,
                &batch.key,
                &batch.entries,
                &batch.checkpoint,
                &batch.head,
            )?;
            let mut w = Writes::default();
            save_projection(s, &mut w, batch.key.node_id(), projection)?;
            orders::save_requests(&mut w, requests);
            w.flush(s)
        })
    }

    fn commit_replica(
        &mut self,
        batches: &[LedgerBatch],
        projection: &Projection<'_>,
    ) -> Result<(), StoreError> {
        let Some(node) = mpos_store::replica_node(batches)? else {
            return Ok(());
        };
        self.transaction(|s| {
            for b in batches {
                append_ledger(s, &b.key, &b.entries, &b.checkpoint, &b.head)?;
            }
            let mut w = Writes::default();
            save_projection(s, &mut w, node, projection)?;
            w.flush(s)
        })
    }

    fn load_order(&self, id: OrderId) -> Result<Option<Order>, StoreError> {
        self.with(|s| orders::load(s, id))
    }

    fn shared(&self) -> bool {
        true
    }

    fn catalog_generation(&self) -> Result<u64, StoreError> {
        self.with(|s| {
            let r = s.query_one("SELECT n FROM catalog_generation WHERE id = 1", &[])?;
            sql::u64_at(&r, "n")
        })
    }

    fn order_versions(&self, ids: &[OrderId]) -> Result<Vec<(OrderId, u32)>, StoreError> {
        self.with(|s| orders::order_versions(s, ids))
    }

    fn applied_request(&self, request: u128) -> Result<Option<AppliedRequest>, StoreError> {
        self.with(|s| orders::applied_request(s, request))
    }

    fn applied_requests(&self, requests: &[u128]) -> Result<Vec<AppliedRequest>, StoreError> {
        self.with(|s| orders::applied_requests(s, requests))
    }

    fn settings(&self) -> Result<Option<Settings>, StoreError> {
        self.with(menu::settings)
    }

    fn entity_clocks(
        &self,
        keys: &[mpos_store::clock::EntityKey],
    ) -> Result<Vec<mpos_store::clock::EntityClock>, StoreError> {
        self.with(|s| trust::entity_clocks(s, keys))
    }

    fn order_entries(&self, order: OrderId) -> Result<Vec<(NodeId, u64, u64)>, StoreError> {
        self.with(|s| trust::order_entries(s, order))
    }

    fn organization_nodes(&self) -> Result<Vec<mpos_store::OrganizationNode>, StoreError> {
        self.with(trust::nodes)
    }

    fn revocations(&self) -> Result<Vec<mpos_store::RevokedNode>, StoreError> {
        self.with(trust::revocations)
    }

    fn item(&self, id: ItemId) -> Result<Option<Item>, StoreError> {
        self.with(|s| menu::item(s, id))
    }

    fn category(&self, id: CategoryId) -> Result<Option<Category>, StoreError> {
        self.with(|s| menu::category(s, id))
    }

    fn modifier_group(&self, id: ModifierGroupId) -> Result<Option<ModifierGroup>, StoreError> {
        self.with(|s| menu::modifier_group(s, id))
    }

    fn tax_category(&self, id: TaxCategoryId) -> Result<Option<TaxCategory>, StoreError> {
        self.with(|s| menu::tax_category(s, id))
    }

    fn item_with_code(&self, code: &str) -> Result<Option<ItemId>, StoreError> {
        self.with(|s| menu::item_with_code(s, code))
    }

    fn search_items(&self, query: &str, limit: usize) -> Result<Vec<Item>, StoreError> {
        self.with(|s| menu::search(s, query, limit))
    }

    fn tax_categories(&self) -> Result<Vec<TaxCategory>, StoreError> {
        self.with(menu::tax_categories)
    }

    fn categories(&self) -> Result<Vec<Category>, StoreError> {
        self.with(menu::categories)
    }

    fn modifier_groups(&self) -> Result<Vec<ModifierGroup>, StoreError> {
        self.with(menu::modifier_groups)
    }

    fn category_items(
        &self,
        category: CategoryId,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<Item>, StoreError> {
        self.with(|s| menu::category_items(s, category, offset, limit))
    }

    fn tables(&self) -> Result<Vec<Table>, StoreError> {
        self.with(menu::tables)
    }

    fn staff_member(&self, id: StaffId) -> Result<Option<StaffMember>, StoreError> {
        self.with(|s| menu::staff_member(s, id))
    }

    fn staff(&self) -> Result<Vec<StaffMember>, StoreError> {
        self.with(menu::staff)
    }

    fn pin_hash(&self, id: StaffId) -> Result<Option<String>, StoreError> {
        self.with(|s| menu::pin_hash(s, id))
    }

    fn pin_hashes(&self) -> Result<Vec<mpos_store::PinHash>, StoreError> {
        self.with(menu::pin_hashes)
    }

    fn pin_changes(&self, staff: StaffId) -> Result<Vec<(u64, NodeId)>, StoreError> {
        self.with(|s| trust::pin_changes(s, staff))
    }

    fn availability_changes(&self, item: ItemId) -> Result<Vec<AvailabilityChange>, StoreError> {
        self.with(|s| availability::changes(s, item))
    }

    fn sold_while_86d(&self, item: ItemId, after: u64) -> Result<Vec<SoldWhile86d>, StoreError> {
        self.with(|s| availability::flagged(s, item, after))
    }

    fn save_receipts(&mut self, receipts: &[(OrderId, String)]) -> Result<(), StoreError> {
        self.transaction(|s| {
            for (order, code) in receipts {
                s.execute(
                    "UPDATE pos_order SET receipt_code = $2 WHERE id = $1 AND receipt_code IS NULL",
                    &[&&mpos_store::columns::id_bytes(order.0)[..], code],
                )?;
            }
            Ok(())
        })
    }

    fn save_pins(&mut self, pins: &[mpos_store::PinHash]) -> Result<(), StoreError> {
        self.transaction(|s| {
            for pin in pins {
                menu::save_pin(s, pin)?;
            }
            Ok(())
        })
    }

    fn receipt_code(&self, order: OrderId) -> Result<Option<String>, StoreError> {
        self.with(|s| orders::receipt_code(s, order))
    }

    fn closed_without_receipt(&self, limit: usize) -> Result<Vec<OrderId>, StoreError> {
        self.with(|s| orders::closed_without_receipt(s, limit))
    }

    fn open_orders(&self, location: Option<LocationId>) -> Result<Vec<Order>, StoreError> {
        self.with(|s| orders::open_orders(s, location))
    }

    fn recent_orders(
        &self,
        location: Option<LocationId>,
        before: Option<(u64, OrderId)>,
        number: &str,
        limit: usize,
    ) -> Result<Vec<Order>, StoreError> {
        self.with(|s| orders::recent_orders(s, location, before, number, limit))
    }

    fn closed_order_ids(
        &self,
        location: Option<LocationId>,
        from: u64,
        to: u64,
        limit: usize,
    ) -> Result<Vec<OrderId>, StoreError> {
        self.with(|s| orders::closed_order_ids(s, location, from, to, limit))
    }

    fn kitchen_orders(
        &self,
        location: Option<LocationId>,
        bumped_since: u64,
    ) -> Result<Vec<Order>, StoreError> {
        self.with(|s| orders::kitchen_orders(s, location, bumped_since))
    }

    fn drawer(&self, id: DrawerId) -> Result<Option<Drawer>, StoreError> {
        self.with(|s| day::drawer(s, id))
    }

    fn open_drawers(&self, location: Option<LocationId>) -> Result<Vec<Drawer>, StoreError> {
        self.with(|s| day::open_drawers(s, location))
    }

    fn recent_drawers(
        &self,
        location: Option<LocationId>,
        limit: usize,
    ) -> Result<Vec<Drawer>, StoreError> {
        self.with(|s| day::recent_drawers(s, location, limit))
    }

    fn last_closed_day(&self, node: NodeId) -> Result<Option<ClosedDay>, StoreError> {
        self.with(|s| day::closed_day(s, node, None))
    }

    fn closed_day(&self, node: NodeId, day: u32) -> Result<Option<ClosedDay>, StoreError> {
        self.with(|s| day::closed_day(s, node, Some(day)))
    }

    fn visit_entries(
        &self,
        node: NodeId,
        from: u64,
        to: u64,
        visit: &mut dyn FnMut(&[u8]) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        // A thousand rows at a time, by seq: a long day never sits in memory whole, and the
        // connection is free while `visit` runs (a report reads orders as it goes).
        let mut next = from;
        while next <= to {
            let rows = self.with(|s| {
                s.query(
                    "SELECT seq, bytes FROM ledger_entry
                     WHERE node_id = $1 AND seq >= $2 AND seq <= $3 ORDER BY seq LIMIT $4",
                    &[
                        &&node.0[..],
                        &sql_int(next),
                        &sql_int(to),
                        &i64::from(FETCH),
                    ],
                )
            })?;
            for r in &rows {
                visit(r.try_get(1).map_err(corrupt)?)?;
            }
            match rows.last() {
                Some(last) if rows.len() == FETCH as usize => {
                    next = sql::u64_at(last, "seq")? + 1;
                }
                _ => break,
            }
        }
        Ok(())
    }
}
