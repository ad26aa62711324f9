//! The point-of-sale service: the one path by which orders and the menu change. For a
//! batch of requests it decides each against the current state (the menu changes earlier
//! in the batch included), records the accepted changes as ledger entries with one signed
//! checkpoint, and commits entries, projections and request records in one transaction
//! before any reply. A request id seen before is not applied again: its first result is
//! returned. Lines are priced here, from the menu; a client never sends a price.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

use mpos_domain::catalog::{
    Category, Item, ModifierGroup, Selection, TaxCategory, price_selection,
};
use mpos_domain::day::ReportBuilder;
use mpos_domain::drawer::{Drawer, DrawerCommand, DrawerEvent, apply_drawer, decide_drawer};
use mpos_domain::event::{MenuEvent, StaffEvent};
use mpos_domain::floor::{FloorChange, FloorCommand, FloorEvent, Table, apply_floor, decide_floor};
use mpos_domain::ids::{
    CategoryId, DrawerId, ItemId, LineId, LocationId, ModifierGroupId, OrderId, StaffId,
    StockItemId, TableId, TaxCategoryId, TransferId,
};
use mpos_domain::inventory::sale::{self, Taken, sale_movements};
use mpos_domain::inventory::{
    InventoryChange, InventoryCommand, InventoryEvent, Movement, Recipe, RecipeFor, SalesStock,
    Stock, StockBook, StockValue, deltas, levels_after, value_movement,
};
use mpos_domain::menu::{self, MenuChange, MenuCommand, MenuView, Settings};
use mpos_domain::order::{
    Change, Command, Order, OrderEvent, OrderKind, Status, Tender, apply, decide,
};
use mpos_domain::staff::{Actor, GUEST, Permission, Role};
use mpos_domain::staff::{StaffChange, StaffCommand, StaffMember, decide_staff};
use mpos_domain::{Event, Refusal};
use mpos_ledger::{EntryRef, NodeId, SealedEntry};
use mpos_proto::event::{SCHEMA, decode, encode};
use mpos_store::clock::{EntityClock, entities};
use mpos_store::{
    AppliedRequest, AvailabilityChange, ClosedDay, LedgerBatch, OrderUpdate, PinHash, PosStore,
    Projection, StockWanted, StoreError,
};

mod eighty_six;
mod replica;
mod trust;

pub(crate) use replica::{CheckedReceipts, check_receipts_with, receipt_evidence};
pub use replica::{
    FromPeer, PeerBatch, ReplicaRefusal, Replicated, VerifiedApart, Verifier, Witnessed,
    batches_after,
};
pub(crate) use trust::revocation_cuts;
pub use trust::{TrustCommand, Trusted};

use crate::day::{Overlay, currency, fold, open_day, record};
use crate::error::NodeError;
use crate::ledger::Ledger;

/// What a client asks for.
#[derive(Debug, Clone)]
pub enum Action {
    Order {
        order: OrderId,
        command: OrderAction,
    },
    Menu(MenuCommand),
    Staff(StaffCommand),
    /// A cash drawer session; `None` names the one session open now.
    Drawer {
        drawer: Option<DrawerId>,
        command: DrawerCommand,
    },
    /// The Z-report: closes the business day.
    CloseDay,
    /// Set up the floor's tables.
    Floor(FloorCommand),
    /// Stock: locations, items, recipes, movements, purchase orders.
    Inventory(InventoryCommand),
    /// The organization's nodes: pair a new terminal, revoke one.
    Trust(TrustCommand),
}

/// A change to an order: a domain command, a line to price from the menu first, or an
/// order opened with its first lines (a counter register sends the cart in one request).
#[derive(Debug, Clone)]
pub enum OrderAction {
    Command(Command),
    AddItem(NewLine),
    /// `open` is a `Command::Open`; all of it is applied, or none.
    OpenWithLines {
        open: Command,
        lines: Vec<NewLine>,
    },
    /// A guest's round from the table's link: opens their self-order at `table` (or adds
    /// to it, if it is theirs and still open), adds the lines and sends them to the
    /// kitchen. All of it, or none.
    SelfOrder {
        table: TableId,
        /// The order's number if this round opens it.
        number: String,
        lines: Vec<NewLine>,
    },
}

/// A line as a register asks for it: what was chosen, priced by the node.
#[derive(Debug, Clone)]
pub struct NewLine {
    pub line: LineId,
    pub selection: Selection,
    pub seat: Option<u32>,
    pub course: u32,
    pub note: String,
}

/// One step of an order request.
enum Step<'a> {
    Command(&'a Command),
    /// A command the node adds (a self-order's open and send).
    Owned(Box<Command>),
    AddItem(&'a NewLine),
}

/// One request from a client, with the id the client chose for it (a UUIDv7): retrying
/// with the same id is safe.
#[derive(Debug, Clone)]
pub struct Request {
    pub id: u128,
    pub action: Action,
    /// The logged-in staff member; none only while setting up a new restaurant.
    pub actor: Option<Actor>,
}

impl Request {
    fn order(&self) -> Option<OrderId> {
        match self.action {
            Action::Order { order, .. } => Some(order),
            _ => None,
        }
    }
}

/// What a request did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The events the request recorded (on a retry: those of its first attempt).
    pub events: Vec<Event>,
    /// The order's state now, for order requests.
    pub order: Option<Order>,
    /// The drawer session's state now, for drawer requests and cash payments.
    pub drawer: Option<Drawer>,
    /// True when this request id had been applied before.
    pub replayed: bool,
    /// Ledger entries holding the events.
    pub first_seq: u64,
    pub last_seq: u64,
}

impl Applied {
    /// The order changes among the events.
    pub fn order_changes(&self) -> Vec<&Change> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Order(o) => Some(&o.change),
                _ => None,
            })
            .collect()
    }
}

/// What one request would record, before the batch commits.
struct Staged {
    events: Vec<Event>,
    order: Option<Order>,
    /// For the batch's first request on an order: the order as stored (none: new).
    stored: Option<Option<Order>>,
    drawer: Option<Drawer>,
    /// A new PIN hash, kept out of the ledger.
    pin: Option<(StaffId, String)>,
    /// What the batch has moved for the request's order so far, when the request moved
    /// some stock.
    taken: Option<Taken>,
}

impl Staged {
    fn events(events: Vec<Event>) -> Staged {
        Staged {
            events,
            order: None,
            stored: None,
            drawer: None,
            pin: None,
            taken: None,
        }
    }
}

/// How often a batch on a shared store is decided again after meeting another node's
/// write before its requests are answered "retry".
const SHARED_ATTEMPTS: u32 = 4;

#[derive(Debug)]
pub struct PosService<S> {
    ledger: Ledger<S>,
    /// What this service last committed, kept to spare the store a read per request. The
    /// service is the only writer of its store, so the cache cannot go stale; it holds
    /// only committed state (a failed batch never reaches it).
    cache: Cache,
    /// The latest time seen in another node's entries: this node's next entries come
    /// after it (hybrid logical clock).
    observed: mpos_ledger::Hlc,
}

/// Open orders and menu rows as last committed.
#[derive(Debug, Default)]
struct Cache {
    open_orders: RefCell<HashMap<OrderId, Order>>,
    settings: RefCell<Option<Option<Settings>>>,
    items: RefCell<HashMap<ItemId, Option<Item>>>,
    groups: RefCell<HashMap<ModifierGroupId, Option<ModifierGroup>>>,
    categories: RefCell<HashMap<CategoryId, Option<Category>>>,
    taxes: RefCell<HashMap<TaxCategoryId, Option<TaxCategory>>>,
    /// The floor's tables: a few dozen rows, read once.
    floor: RefCell<Option<Vec<Table>>>,
    /// Staff members, read once each: every request checks its actor.
    staff: RefCell<HashMap<StaffId, Option<StaffMember>>>,
    /// Recipes, read once each (none: the target has no recipe); a sale reads one per
    /// line.
    recipes: RefCell<HashMap<RecipeFor, Option<Recipe>>>,
    /// Where sales take stock from.
    sales: RefCell<Option<Option<SalesStock>>>,
    /// The store's catalog generation the menu, staff, floor, recipes and sales stock
    /// above were read at (a shared store only: other nodes may change them).
    generation: RefCell<Option<u64>>,
    /// Revoked nodes and how many of their entries stand.
    revoked: RefCell<Option<HashMap<NodeId, u64>>>,
    /// Each item's availability changes held (most: none), read once per item sold until
    /// the menu changes: what a sale is judged by (`eighty_six`).
    availability: RefCell<HashMap<ItemId, std::sync::Arc<Vec<AvailabilityChange>>>>,
}

/// Reads through a cache map: the stored value, fetched once.
fn cached<K: std::hash::Hash + Eq + Copy, V: Clone>(
    map: &RefCell<HashMap<K, Option<V>>>,
    key: K,
    fetch: impl FnOnce() -> Result<Option<V>, StoreError>,
) -> Result<Option<V>, StoreError> {
    if let Some(v) = map.borrow().get(&key) {
        return Ok(v.clone());
    }
    let v = fetch()?;
    // Only rows that exist: ids a client made up must not grow the cache.
    if v.is_some() {
        map.borrow_mut().insert(key, v.clone());
    }
    Ok(v)
}

impl Cache {
    fn forget_catalog(&self) {
        self.forget_menu();
        self.forget_stock();
        self.floor.borrow_mut().take();
        self.staff.borrow_mut().clear();
    }

    fn forget_stock(&self) {
        self.recipes.borrow_mut().clear();
        self.sales.borrow_mut().take();
    }

    fn forget_menu(&self) {
        self.settings.borrow_mut().take();
        self.availability.borrow_mut().clear();
        self.items.borrow_mut().clear();
        self.groups.borrow_mut().clear();
        self.categories.borrow_mut().clear();
        self.taxes.borrow_mut().clear();
    }
}

/// The rows of the menu a command needs, read from the store, with the batch's earlier
/// menu changes laid over them.
#[derive(Default)]
struct MenuRows {
    settings: Option<Settings>,
    items: HashMap<ItemId, Item>,
    categories: HashMap<CategoryId, Category>,
    groups: HashMap<ModifierGroupId, ModifierGroup>,
    taxes: HashMap<TaxCategoryId, TaxCategory>,
    codes: HashMap<String, ItemId>,
}

impl MenuView for MenuRows {
    fn settings(&self) -> Option<Settings> {
        self.settings.clone()
    }
    fn item(&self, id: ItemId) -> Option<Item> {
        self.items.get(&id).cloned()
    }
    fn category(&self, id: CategoryId) -> Option<Category> {
        self.categories.get(&id).cloned()
    }
    fn modifier_group(&self, id: ModifierGroupId) -> Option<ModifierGroup> {
        self.groups.get(&id).cloned()
    }
    fn tax_category(&self, id: TaxCategoryId) -> Option<TaxCategory> {
        self.taxes.get(&id).cloned()
    }
    fn item_with_code(&self, code: &str) -> Option<ItemId> {
        self.codes.get(code).copied()
    }
}

impl MenuRows {
    fn load<S: PosStore>(
        store: &S,
        cache: &Cache,
        overlay: &[MenuChange],
        needs: &Needs,
    ) -> Result<MenuRows, StoreError> {
        let settings = match cache.settings.borrow().clone() {
            Some(s) => s,
            None => store.settings()?,
        };
        cache.settings.borrow_mut().replace(settings.clone());
        let mut rows = MenuRows {
            settings,
            ..MenuRows::default()
        };
        for id in &needs.items {
            if let Some(i) = cached(&cache.items, *id, || store.item(*id))? {
                rows.items.insert(*id, i);
            }
        }
        for id in &needs.categories {
            if let Some(c) = cached(&cache.categories, *id, || store.category(*id))? {
                rows.categories.insert(*id, c);
            }
        }
        for id in &needs.groups {
            if let Some(g) = cached(&cache.groups, *id, || store.modifier_group(*id))? {
                rows.groups.insert(*id, g);
            }
        }
        for id in &needs.taxes {
            if let Some(t) = cached(&cache.taxes, *id, || store.tax_category(*id))? {
                rows.taxes.insert(*id, t);
            }
        }
        for code in &needs.codes {
            if let Some(i) = store.item_with_code(code)? {
                rows.codes.insert(code.clone(), i);
            }
        }
        for change in overlay {
            match change {
                MenuChange::SettingsPut(s) => rows.settings = Some(s.clone()),
                MenuChange::TaxCategoryPut(t) => {
                    rows.taxes.insert(t.id, t.clone());
                }
                MenuChange::CategoryPut(c) => {
                    rows.categories.insert(c.id, c.clone());
                }
                MenuChange::ModifierGroupPut(g) => {
                    rows.groups.insert(g.id, g.clone());
                }
                MenuChange::ItemPut(i) => {
                    for code in i.sku.iter().chain(i.barcode.iter()) {
                        rows.codes.insert(code.clone(), i.id);
                    }
                    rows.items.insert(i.id, i.clone());
                }
                MenuChange::AvailabilitySet { item, available } => {
                    if let Some(i) = rows.items.get_mut(item) {
                        i.available = *available;
                    }
                }
            }
        }
        Ok(rows)
    }
}

/// Which menu rows a command refers to.
#[derive(Default)]
struct Needs {
    items: Vec<ItemId>,
    categories: Vec<CategoryId>,
    groups: Vec<ModifierGroupId>,
    taxes: Vec<TaxCategoryId>,
    codes: Vec<String>,
}

impl Needs {
    fn of_menu_command(cmd: &MenuCommand) -> Needs {
        let mut n = Needs::default();
        match cmd {
            MenuCommand::PutItem(i) => {
                n.items.push(i.id);
                n.categories.push(i.category);
                n.taxes.push(i.tax_category);
                n.groups.extend(i.modifier_groups.iter().copied());
                n.codes
                    .extend(i.sku.iter().chain(i.barcode.iter()).cloned());
            }
            MenuCommand::SetAvailable { item, .. } => n.items.push(*item),
            _ => {}
        }
        n
    }
}

/// What a request does, in words: its kind, its order, and the id of what it creates or
/// names. A request id retried with another action is a client bug, refused rather than
/// answered with the first action's result.
fn fingerprint(action: &Action) -> String {
    use mpos_domain::order::DiscountTarget;
    match action {
        Action::Order { order, command } => {
            let what = match command {
                OrderAction::AddItem(l) => format!("add item as line {}", l.line),
                OrderAction::OpenWithLines { lines, .. } => {
                    let ids: Vec<String> = lines.iter().map(|l| l.line.to_string()).collect();
                    format!("open with lines {}", ids.join(","))
                }
                OrderAction::SelfOrder { table, lines, .. } => {
                    let ids: Vec<String> = lines.iter().map(|l| l.line.to_string()).collect();
                    format!("self-order at table {table} of lines {}", ids.join(","))
                }
                OrderAction::Command(c) => match c {
                    Command::Open { .. } => "open".into(),
                    Command::AddLine { line, .. } => format!("add line {line}"),
                    Command::VoidLine { line, .. } => format!("void line {line}"),
                    Command::Send { .. } => "send".into(),
                    Command::Bump { lines } | Command::Recall { lines } => {
                        let ids: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
                        let what = if matches!(c, Command::Bump { .. }) {
                            "bump"
                        } else {
                            "recall"
                        };
                        format!("{what} lines {}", ids.join(","))
                    }
                    Command::FireCourse { course } => format!("fire course {course}"),
                    Command::ApplyDiscount {
                        discount, target, ..
                    } => match target {
                        DiscountTarget::Order => format!("discount {discount}"),
                        DiscountTarget::Line(l) => format!("discount {discount} on line {l}"),
                    },
                    Command::SetServiceCharge { ppm } => format!("service charge {ppm}"),
                    Command::TakePayment { payment, .. } => format!("payment {payment}"),
                    Command::VoidOrder { .. } => "void".into(),
                    Command::Refund {
                        payment, amount, ..
                    } => format!("refund {} of payment {payment}", amount.minor()),
                },
            };
            format!("order {order}: {what}")
        }
        Action::Menu(m) => match m {
            MenuCommand::PutSettings(_) => "menu: settings".into(),
            MenuCommand::PutTaxCategory(t) => format!("menu: tax category {}", t.id),
            MenuCommand::PutCategory(c) => format!("menu: category {}", c.id),
            MenuCommand::PutModifierGroup(g) => format!("menu: modifier group {}", g.id),
            MenuCommand::PutItem(i) => format!("menu: item {}", i.id),
            MenuCommand::SetAvailable { item, available } => {
                format!("menu: item {item} available {available}")
            }
        },
        Action::Staff(c) => match c {
            StaffCommand::Put(m) => format!("staff: member {}", m.id),
            StaffCommand::SetPin { staff, .. } => format!("staff: pin of {staff}"),
        },
        Action::Drawer { drawer, command } => {
            let which = drawer.map_or("the open one".to_string(), |d| d.to_string());
            let what = match command {
                DrawerCommand::Open { name, .. } => format!("open {name}"),
                DrawerCommand::PayIn { amount, .. } => format!("pay in {}", amount.minor()),
                DrawerCommand::PayOut { amount, .. } => format!("pay out {}", amount.minor()),
                DrawerCommand::Close { counted } => format!("close at {}", counted.minor()),
            };
            format!("drawer {which}: {what}")
        }
        Action::CloseDay => "close the business day".into(),
        Action::Floor(FloorCommand::PutTable(t)) => format!("floor: table {}", t.id),
        Action::Inventory(c) => format!("inventory: {}", inventory_fingerprint(c)),
        Action::Trust(TrustCommand::Pair { key, .. }) => format!("trust: pair {key}"),
        Action::Trust(TrustCommand::Revoke { node, .. }) => format!("trust: revoke {node}"),
    }
}

fn inventory_fingerprint(c: &InventoryCommand) -> String {
    use InventoryCommand as C;
    match c {
        C::PutLocation(l) => format!("location {}", l.id),
        C::SetSalesStock(s) => format!(
            "sales take stock from {}",
            s.map_or("nowhere".into(), |s| format!(
                "{} on {}",
                s.location,
                s.depletion.name()
            ))
        ),
        C::PutStockItem(i) => format!("stock item {}", i.id),
        C::PutSupplier(s) => format!("supplier {}", s.id),
        C::SetPar { location, item, .. } => format!("par of {item} at {location}"),
        C::PutRecipe(r) => format!("recipe {:?}", r.target),
        C::Receive {
            location,
            item,
            quantity,
            ..
        } => format!("receive {} of {item} at {location}", quantity.milli),
        C::Waste {
            location,
            item,
            quantity,
            ..
        } => format!("waste {} of {item} at {location}", quantity.milli),
        C::Count {
            location,
            item,
            counted,
        } => format!("count {} of {item} at {location}", counted.milli),
        C::SendTransfer { transfer, .. } => format!("send transfer {transfer}"),
        C::ReceiveTransfer { transfer, .. } => format!("receive transfer {transfer}"),
        C::DraftPurchaseOrder { po, .. } => format!("draft purchase order {po}"),
        C::SendPurchaseOrder(po) => format!("send purchase order {po}"),
    }
}

/// The rows an inventory command reads: what it names and the levels it weighs.
fn stock_needs(command: &InventoryCommand) -> StockWanted {
    use InventoryCommand as C;
    let mut n = StockWanted::default();
    match command {
        C::PutLocation(_) | C::PutStockItem(_) | C::PutSupplier(_) => {}
        C::SetSalesStock(s) => n.locations.extend(s.map(|s| s.location)),
        C::SetPar { location, item, .. } | C::Waste { location, item, .. } => {
            n.locations.push(*location);
            n.items.push(*item);
        }
        C::PutRecipe(r) => n.items.extend(r.ingredients.iter().map(|i| i.stock)),
        C::Receive {
            location,
            item,
            supplier,
            purchase_order,
            ..
        } => {
            n.locations.push(*location);
            n.items.push(*item);
            n.suppliers.extend(*supplier);
            n.purchase_orders.extend(*purchase_order);
        }
        C::Count { location, item, .. } => {
            n.locations.push(*location);
            n.items.push(*item);
            n.levels.push((*location, *item));
        }
        C::SendTransfer {
            transfer,
            from,
            to,
            lines,
        } => {
            n.locations.extend([*from, *to]);
            n.transfers.push(*transfer);
            for (item, _) in lines {
                n.items.push(*item);
                n.levels.push((*from, *item));
            }
        }
        C::ReceiveTransfer {
            transfer, lines, ..
        } => {
            n.transfers.push(*transfer);
            n.items.extend(lines.iter().map(|(i, _)| *i));
        }
        C::DraftPurchaseOrder {
            po,
            supplier,
            location,
            lines,
        } => {
            n.purchase_orders.push(*po);
            n.suppliers.push(*supplier);
            n.locations.push(*location);
            n.items.extend(lines.iter().map(|(i, _, _)| *i));
        }
        C::SendPurchaseOrder(po) => n.purchase_orders.push(*po),
    }
    n
}

/// What a batch has decided so far and not yet committed; later requests of the batch
/// see it as if it were stored.
#[derive(Default)]
struct Working {
    orders: HashMap<OrderId, Option<Order>>,
    /// Each order the batch touches, as stored before the batch (none: a new order).
    stored: HashMap<OrderId, Option<Order>>,
    menu: Vec<MenuChange>,
    staff: Vec<StaffChange>,
    drawers: HashMap<DrawerId, Drawer>,
    days: Vec<ClosedDay>,
    floor: Vec<FloorChange>,
    inventory: Vec<InventoryEvent>,
    /// Nodes certified or revoked by the batch.
    trust: Vec<Trusted>,
    /// The entities the batch put, as of its entries' times.
    clocks: Vec<EntityClock>,
    /// PIN changes the batch records, with their entries' times.
    pin_changes: Vec<(StaffId, u64, NodeId)>,
    /// Items the batch 86'd or put back, with their entries' times.
    availability: Vec<AvailabilityChange>,
    /// Lines the batch sold, with their entries' times.
    sales: Vec<eighty_six::Sale>,
    /// What the batch has moved for each order so far (the store holds the rest).
    taken: HashMap<OrderId, Taken>,
    /// The batch's ledger entries so far.
    entries: Vec<SealedEntry>,
    /// Requests of the batch applied before (retries), read at once when the batch began.
    applied_before: Option<HashMap<u128, AppliedRequest>>,
    /// Orders the batch names that are neither cached nor stored (new orders): nothing to
    /// read for them.
    absent: HashSet<OrderId>,
    /// What every inventory command of the batch weighs, read at once when the batch
    /// began, with the batch's inventory events laid over it as they are accepted.
    stock: Option<Stock>,
    /// What the stored orders the batch names held when it began, read at once (when
    /// sales move stock); an order not in it is read when needed.
    held_before: HashMap<OrderId, Taken>,
    /// The levels the batch's movements are valued against, as the batch leaves them
    /// (from the first movement on).
    valuation: Option<Valuation>,
}

/// The levels (and transfers) movements are valued against: each read from the store
/// the first time the batch moves it, then with the batch's movements laid over it.
struct Valuation {
    book: Stock,
    levels: HashSet<(LocationId, StockItemId)>,
    transfers: HashSet<TransferId>,
}

/// The recipes a line's portion may take from: its variant's (which stands instead of
/// the item's when there is one), its item's, and its modifiers'.
fn recipe_targets(line: &mpos_domain::order::Line) -> impl Iterator<Item = RecipeFor> + '_ {
    let i = &line.item;
    i.variant
        .iter()
        .map(|(v, _)| RecipeFor::Variant(i.item, *v))
        .chain(std::iter::once(RecipeFor::Item(i.item)))
        .chain(i.modifiers.iter().map(|m| RecipeFor::Modifier(m.id)))
}

fn reused(id: u128) -> NodeError {
    NodeError::BadRequest(format!(
        "request id {id:032x} was already used for another request: make a new id per request"
    ))
}

/// The actor as the staff list says now: a session opened before someone was deactivated
/// or demoted carries their old role, and must not keep its powers.
fn current_actor<S: PosStore>(
    store: &S,
    cache: &Cache,
    overlay: &[StaffChange],
    claimed: Actor,
) -> Result<Actor, NodeError> {
    if claimed.role == Role::Guest {
        // Not staff: the guest API vouched for them with their table's link.
        return Ok(Actor {
            staff: GUEST,
            role: Role::Guest,
        });
    }
    let mut member = cached(&cache.staff, claimed.staff, || {
        store.staff_member(claimed.staff)
    })?;
    for change in overlay {
        if let StaffChange::Put(m) = change
            && m.id == claimed.staff
        {
            member = Some(m.clone());
        }
    }
    match member {
        Some(m) if m.active => Ok(Actor {
            staff: m.id,
            role: m.role,
        }),
        _ => Err(Refusal::NotAllowed {
            role: "former staff member",
            action: "anything (log in again)".into(),
        }
        .into()),
    }
}

impl<S: PosStore> PosService<S> {
    pub fn new(ledger: Ledger<S>) -> PosService<S> {
        PosService {
            ledger,
            cache: Cache::default(),
            observed: mpos_ledger::Hlc(0),
        }
    }

    pub fn ledger(&self) -> &Ledger<S> {
        &self.ledger
    }

    pub fn order(&self, id: OrderId) -> Result<Option<Order>, NodeError> {
        Ok(self.ledger.store().load_order(id)?)
    }

    /// Prices a new line from the menu (as the batch has left it) for the order's channel.
    fn price_line(
        &self,
        line: &NewLine,
        order: Option<&Order>,
        menu_overlay: &[MenuChange],
    ) -> Result<Command, NodeError> {
        let store = self.ledger.store();
        let selection = &line.selection;
        let mut needs = Needs::default();
        needs.items.push(selection.item);
        let rows = MenuRows::load(store, &self.cache, menu_overlay, &needs)?;
        let item = rows
            .item(selection.item)
            .ok_or(Refusal::UnknownItem(selection.item))?;
        let mut needs = Needs::default();
        needs.groups.extend(item.modifier_groups.iter().copied());
        needs.taxes.push(item.tax_category);
        needs.categories.push(item.category);
        let rows = MenuRows::load(store, &self.cache, menu_overlay, &needs)?;
        let groups: Vec<ModifierGroup> = rows.groups.values().cloned().collect();
        let tax = rows
            .tax_category(item.tax_category)
            .ok_or_else(|| Refusal::Inconsistent(format!("{} has no tax category", item.name)))?;
        let channel = order.map(|o| o.channel).ok_or(Refusal::UnknownOrder)?;
        let mut priced = price_selection(&item, &groups, &tax, selection, channel)?;
        priced.station = rows.categories.get(&item.category).and_then(|c| c.station);
        Ok(Command::AddLine {
            line: line.line,
            item: priced,
            seat: line.seat,
            course: line.course,
            note: line.note.clone(),
        })
    }

    /// The floor as the batch has left it.
    fn floor(&self, w: &Working) -> Result<Vec<Table>, NodeError> {
        let stored = self.cache.floor.borrow().clone();
        let mut tables = match stored {
            Some(t) => t,
            None => {
                let t = self.ledger.store().tables()?;
                self.cache.floor.borrow_mut().replace(t.clone());
                t
            }
        };
        for change in &w.floor {
            apply_floor(&mut tables, change);
        }
        Ok(tables)
    }

    /// Applies one request.
    pub fn execute_one(&mut self, request: Request, now_millis: u64) -> Result<Applied, NodeError> {
        self.execute(vec![request], now_millis)
            .pop()
            .unwrap_or_else(|| Err(NodeError::BadRequest("no request".into())))
    }

    /// Turns a request into the events it records, against the batch's working state.
    fn events_for(
        &self,
        request: &Request,
        w: &Working,
        now_millis: u64,
    ) -> Result<Staged, NodeError> {
        let store = self.ledger.store();
        let (menu_overlay, staff_overlay) = (&w.menu[..], &w.staff[..]);
        if let Action::Staff(cmd) = &request.action {
            return self.staff_events(request, cmd, staff_overlay, now_millis);
        }
        let claimed = request.actor.ok_or(Refusal::NotAllowed {
            role: "nobody logged in",
            action: "this".into(),
        })?;
        let actor = current_actor(store, &self.cache, staff_overlay, claimed)?;
        if actor.role == Role::Guest
            && !matches!(
                request.action,
                Action::Order {
                    command: OrderAction::SelfOrder { .. },
                    ..
                }
            )
        {
            return Err(Refusal::NotAllowed {
                role: actor.role.name(),
                action: "anything but ordering at their table".into(),
            }
            .into());
        }
        match &request.action {
            Action::Staff(_) => Err(NodeError::BadRequest(
                "staff requests are handled above".into(),
            )),
            Action::Menu(cmd) => {
                let rows = MenuRows::load(
                    store,
                    &self.cache,
                    menu_overlay,
                    &Needs::of_menu_command(cmd),
                )?;
                let changes = menu::decide(&rows, cmd, actor)?;
                let events = changes
                    .into_iter()
                    .map(|change| {
                        Event::Menu(MenuEvent {
                            by: actor.staff,
                            at: now_millis,
                            change,
                        })
                    })
                    .collect();
                Ok(Staged::events(events))
            }
            Action::Inventory(command) => {
                let book = self.stock_book(command, w)?;
                let changes = mpos_domain::inventory::decide(book.as_ref(), actor, command)?;
                Ok(Staged::events(
                    changes
                        .into_iter()
                        .map(|change| {
                            Event::Inventory(InventoryEvent::new(actor.staff, now_millis, change))
                        })
                        .collect(),
                ))
            }
            Action::Drawer { drawer, command } => {
                self.drawer_events(actor, *drawer, command, w, now_millis)
            }
            Action::CloseDay => self.close_day(actor, w, now_millis),
            Action::Trust(command) => self.trust_events(actor, command, &w.trust, now_millis),
            Action::Floor(command) => {
                // A table stays in the restaurant it was set up in; a new one is set up
                // where this node sells.
                let floor = self.floor(w)?;
                let FloorCommand::PutTable(table) = command;
                let mut table = table.clone();
                table.location = match floor.iter().find(|t| t.id == table.id) {
                    Some(t) => t.location,
                    None => self.location(w)?,
                };
                let changes = decide_floor(&FloorCommand::PutTable(table), actor, &floor)?;
                Ok(Staged::events(
                    changes
                        .into_iter()
                        .map(|change| {
                            Event::Floor(FloorEvent {
                                by: actor.staff,
                                at: now_millis,
                                change,
                            })
                        })
                        .collect(),
                ))
            }
            Action::Order { order, command } => {
                // The first request of the batch on this order sees it as stored; that
                // state is kept for the projection to write only the difference.
                let (mut current, stored) = match w.orders.get(order) {
                    Some(s) => (s.clone(), None),
                    None => {
                        let cached = self.cache.open_orders.borrow().get(order).cloned();
                        let stored = match cached {
                            Some(o) => Some(o),
                            None if w.absent.contains(order) => None,
                            None => store.load_order(*order)?,
                        };
                        (stored.clone(), Some(stored))
                    }
                };
                let steps: Vec<Step<'_>> = match command {
                    OrderAction::Command(c) => vec![Step::Command(c)],
                    OrderAction::AddItem(line) => vec![Step::AddItem(line)],
                    OrderAction::OpenWithLines { open, lines } => {
                        std::iter::once(Step::Command(open))
                            .chain(lines.iter().map(Step::AddItem))
                            .collect()
                    }
                    OrderAction::SelfOrder {
                        table,
                        number,
                        lines,
                    } => {
                        let open = match &current {
                            None => {
                                let settings = MenuRows::load(
                                    store,
                                    &self.cache,
                                    menu_overlay,
                                    &Needs::default(),
                                )?
                                .settings
                                .ok_or_else(|| {
                                    Refusal::Invalid("the restaurant is not set up yet".into())
                                })?;
                                Some(Command::Open {
                                    number: number.clone(),
                                    channel: mpos_domain::catalog::Channel::Table,
                                    kind: OrderKind::DineIn {
                                        table: Some(*table),
                                        guests: 1,
                                    },
                                    source: mpos_domain::order::Source::SelfOrder,
                                    currency: settings.currency,
                                    mode: settings.price_mode,
                                    location: None,
                                })
                            }
                            Some(o) => {
                                let here = matches!(
                                    o.kind,
                                    OrderKind::DineIn { table: Some(t), .. } if t == *table
                                );
                                if !here || o.source != mpos_domain::order::Source::SelfOrder {
                                    return Err(Refusal::UnknownOrder.into());
                                }
                                None
                            }
                        };
                        if lines.is_empty() {
                            return Err(Refusal::NothingToSend.into());
                        }
                        open.map(|c| Step::Owned(Box::new(c)))
                            .into_iter()
                            .chain(lines.iter().map(Step::AddItem))
                            .chain(std::iter::once(Step::Owned(Box::new(Command::Send {
                                lines: lines.iter().map(|l| l.line).collect(),
                            }))))
                            .collect()
                    }
                };
                let mut events = Vec::new();
                let mut drawer = None;
                // What the batch moved for the order, and what the order holds in all
                // (read only when a change may give some back or close the order).
                let mut moved: Taken = w.taken.get(order).cloned().unwrap_or_default();
                let mut held: Option<Taken> = None;
                let mut moved_stock = false;
                // Every step sees the order as the steps before it left it; one refusal
                // refuses the whole request.
                for step in steps {
                    let command = match step {
                        Step::Command(c) => c.clone(),
                        Step::Owned(c) => *c,
                        Step::AddItem(line) => {
                            self.price_line(line, current.as_ref(), menu_overlay)?
                        }
                    };
                    if let Command::Open {
                        kind:
                            OrderKind::DineIn {
                                table: Some(table), ..
                            },
                        ..
                    } = &command
                        && !self.floor(w)?.iter().any(|t| t.id == *table && t.active)
                    {
                        return Err(Refusal::UnknownTable(*table).into());
                    }
                    let mut command = command;
                    // An order belongs to the restaurant of its table, else to the one
                    // this node sells at.
                    if let Command::Open { location, kind, .. } = &mut command {
                        let at_table = match kind {
                            OrderKind::DineIn {
                                table: Some(table), ..
                            } => self
                                .floor(w)?
                                .iter()
                                .find(|t| t.id == *table)
                                .and_then(|t| t.location),
                            _ => None,
                        };
                        *location = match at_table {
                            Some(l) => Some(l),
                            None => self.location(w)?,
                        };
                    }
                    let (command, till) = self.with_drawer(command, current.as_ref(), w)?;
                    let changes = decide(current.as_ref(), &command, actor)?;
                    if let Some(mut d) = till {
                        for change in &changes {
                            match change {
                                Change::PaymentTaken {
                                    tender: Tender::Cash,
                                    amount,
                                    tip,
                                    ..
                                } => d.take_cash(amount.checked_add(*tip)?)?,
                                Change::Refunded { amount, .. } => d.give_back_cash(*amount)?,
                                _ => {}
                            }
                        }
                        drawer = Some(d);
                    }
                    for change in changes {
                        let event = OrderEvent {
                            order: *order,
                            by: actor.staff,
                            at: now_millis,
                            change,
                        };
                        current = apply(current, &event);
                        let stock = match &current {
                            Some(o) => {
                                self.sale_stock(o, &event.change, (&mut moved, &mut held), w)?
                            }
                            None => Vec::new(),
                        };
                        events.push(Event::Order(event));
                        for m in stock {
                            moved_stock = true;
                            events.push(Event::Inventory(InventoryEvent::new(
                                actor.staff,
                                now_millis,
                                InventoryChange::Moved(m),
                            )));
                        }
                    }
                }
                let current = current
                    .ok_or_else(|| NodeError::BadRequest("the command produced no order".into()))?;
                Ok(Staged {
                    events,
                    order: Some(current),
                    stored,
                    drawer,
                    pin: None,
                    taken: moved_stock.then_some(moved),
                })
            }
        }
    }

    /// The books an inventory command is decided against: the rows it names, as stored,
    /// with the batch's earlier inventory events laid over them. Levels the command does
    /// not weigh may be wrong in them (they start from zero): only weighed ones are read.
    fn stock_book<'w>(
        &self,
        command: &InventoryCommand,
        w: &'w Working,
    ) -> Result<Cow<'w, Stock>, NodeError> {
        if let Some(book) = &w.stock {
            return Ok(Cow::Borrowed(book));
        }
        // The batch's read failed: this command reads for itself.
        let store = self.ledger.store();
        let mut book = Stock::new(currency(store)?);
        store.read_stock(&stock_needs(command), &mut book)?;
        for e in &w.inventory {
            book.apply_event(e);
        }
        Ok(Cow::Owned(book))
    }

    /// Values each of `events`' stock movements against the levels as this node holds
    /// them (`valuation`, read as needed): the values travel with the movement, so every
    /// node adds the same whatever order movements reach it in.
    fn value_movements(
        &self,
        events: &mut [Event],
        valuation: &mut Option<Valuation>,
    ) -> Result<(), NodeError> {
        let moves = events.iter().any(|e| {
            matches!(
                e,
                Event::Inventory(InventoryEvent {
                    change: InventoryChange::Moved(_),
                    ..
                })
            )
        });
        if !moves {
            return Ok(());
        }
        let valuation = match valuation {
            Some(v) => v,
            None => valuation.insert(Valuation {
                book: Stock::new(currency(self.ledger.store())?),
                levels: HashSet::new(),
                transfers: HashSet::new(),
            }),
        };
        // Transfers first: a transfer's arrival moves levels where it was sent to.
        let transfers: Vec<TransferId> = events
            .iter()
            .filter_map(|e| match e {
                Event::Inventory(InventoryEvent {
                    change: InventoryChange::Moved(Movement::TransferReceived { transfer, .. }),
                    ..
                }) => Some(*transfer),
                _ => None,
            })
            .filter(|t| !valuation.book.transfers.contains_key(t))
            .filter(|t| !valuation.transfers.contains(t))
            .collect();
        if !transfers.is_empty() {
            let wanted = StockWanted {
                transfers,
                ..StockWanted::default()
            };
            self.ledger
                .store()
                .read_stock(&wanted, &mut valuation.book)?;
            valuation.transfers.extend(wanted.transfers);
        }
        let mut wanted = StockWanted::default();
        for e in events.iter() {
            if let Event::Inventory(InventoryEvent {
                change: InventoryChange::Moved(m),
                ..
            }) = e
            {
                let to = |t: TransferId| valuation.book.transfers.get(&t).map(|t| t.to);
                wanted.levels.extend(
                    deltas(m, to)
                        .into_iter()
                        .map(|(l, i, _)| (l, i))
                        .filter(|k| !valuation.levels.contains(k)),
                );
            }
        }
        wanted.dedup();
        if !wanted.levels.is_empty() {
            self.ledger
                .store()
                .read_stock(&wanted, &mut valuation.book)?;
            valuation.levels.extend(wanted.levels);
        }
        // Movements of one request value against each other in turn.
        let mut moved: HashMap<(LocationId, StockItemId), StockValue> = HashMap::new();
        for e in events.iter_mut() {
            let Event::Inventory(ie) = e else { continue };
            let InventoryChange::Moved(m) = &ie.change else {
                continue;
            };
            let transfer = match m {
                Movement::TransferReceived { transfer, .. } => {
                    valuation.book.transfers.get(transfer)
                }
                _ => None,
            };
            let level = |l: LocationId, i: StockItemId| {
                moved
                    .get(&(l, i))
                    .copied()
                    .unwrap_or_else(|| valuation.book.level(l, i))
            };
            let values = value_movement(m, level, transfer);
            let after = levels_after(m, &values, level, transfer);
            ie.values = values;
            for (l, i, v) in after {
                moved.insert((l, i), v);
            }
        }
        Ok(())
    }

    /// Every row the batch's inventory commands weigh, in one read, for the batch's book.
    fn read_stock_ahead(&self, requests: &[Request]) -> Result<Option<Stock>, NodeError> {
        let mut wanted = StockWanted::default();
        let mut any = false;
        for r in requests {
            if let Action::Inventory(command) = &r.action {
                wanted.extend(stock_needs(command));
                any = true;
            }
        }
        if !any {
            return Ok(None);
        }
        wanted.dedup();
        let store = self.ledger.store();
        let mut book = Stock::new(currency(store)?);
        store.read_stock(&wanted, &mut book)?;
        Ok(Some(book))
    }

    /// Where sales take stock from, as the batch has left it.
    fn sales_policy(&self, w: &Working) -> Result<Option<SalesStock>, NodeError> {
        if let Some(s) = w.inventory.iter().rev().find_map(|e| match e.change {
            InventoryChange::SetSalesStock(s) => Some(s),
            _ => None,
        }) {
            return Ok(s);
        }
        if let Some(s) = *self.cache.sales.borrow() {
            return Ok(s);
        }
        let s = self.ledger.store().sales_stock(self.ledger.node_id())?;
        self.cache.sales.borrow_mut().replace(s);
        Ok(s)
    }

    /// The location this node sells at, as the batch has left it: where its new orders
    /// and drawer sessions belong, and the one whose lists it shows.
    fn location(&self, w: &Working) -> Result<Option<LocationId>, NodeError> {
        Ok(self.sales_policy(w)?.map(|s| s.location))
    }

    /// A recipe as the batch has left it.
    fn recipe(&self, target: RecipeFor, w: &Working) -> Result<Option<Recipe>, NodeError> {
        if let Some(r) = w.inventory.iter().rev().find_map(|e| match &e.change {
            InventoryChange::PutRecipe(r) if r.target == target => Some(r),
            _ => None,
        }) {
            return Ok((!r.ingredients.is_empty()).then(|| r.clone()));
        }
        if let Some(r) = self.cache.recipes.borrow().get(&target) {
            return Ok(r.clone());
        }
        let r = self.ledger.store().recipe(target)?;
        // Targets come from the menu's ids, so the cache stays as small as the menu.
        self.cache.recipes.borrow_mut().insert(target, r.clone());
        Ok(r)
    }

    /// The stock movements an order change makes (sales take their recipes; voids and
    /// whole refunds give back), kept in `moved` (what the batch moved for the order)
    /// and `held` (what the order holds in all, once read).
    fn sale_stock(
        &self,
        order: &Order,
        change: &Change,
        (moved, held): (&mut Taken, &mut Option<Taken>),
        w: &Working,
    ) -> Result<Vec<Movement>, NodeError> {
        let may_move = matches!(
            change,
            Change::LinesSent { .. }
                | Change::Closed
                | Change::LineVoided { .. }
                | Change::Voided { .. }
                | Change::Refunded { .. }
        );
        if !may_move {
            return Ok(Vec::new());
        }
        let policy = self.sales_policy(w)?;
        let gives_back = !matches!(change, Change::LinesSent { .. } | Change::Closed);
        let when = policy.map(|p| p.depletion);
        let takes = match change {
            Change::LinesSent { .. } => when == Some(mpos_domain::inventory::Depletion::OnSend),
            Change::Closed => when == Some(mpos_domain::inventory::Depletion::OnClose),
            _ => false,
        };
        if !takes && !gives_back {
            return Ok(Vec::new());
        }
        // Depleting on send needs only the recipes; anything else weighs what the order
        // holds.
        if !matches!(change, Change::LinesSent { .. }) && held.is_none() {
            let mut all = match w.held_before.get(&order.id) {
                Some(before) => before.clone(),
                None => self.ledger.store().order_stock(order.id)?,
            };
            sale::add_taken(&mut all, moved);
            *held = Some(all);
        }
        if gives_back && held.iter().flatten().all(|(_, _, q)| q.milli <= 0) {
            return Ok(Vec::new());
        }
        let mut recipes: HashMap<RecipeFor, Option<Recipe>> = HashMap::new();
        for line in order.lines.iter().filter(|l| !l.voided || gives_back) {
            for t in recipe_targets(line) {
                if let std::collections::hash_map::Entry::Vacant(v) = recipes.entry(t) {
                    v.insert(self.recipe(t, w)?);
                }
            }
        }
        let moves = sale_movements(
            policy,
            order,
            change,
            held.as_deref().unwrap_or_default(),
            |t| recipes.get(&t).cloned().flatten(),
        )
        .map_err(Refusal::from)?;
        for m in &moves {
            sale::take(moved, m);
            if let Some(h) = held.as_mut() {
                sale::take(h, m);
            }
        }
        Ok(moves)
    }

    /// Drawer sessions open now at this node's location, as the batch has left them.
    fn open_drawers(&self, w: &Working) -> Result<Vec<Drawer>, NodeError> {
        let location = self.location(w)?;
        let mut open: HashMap<DrawerId, Drawer> = self
            .ledger
            .store()
            .open_drawers(location)?
            .into_iter()
            .map(|d| (d.id, d))
            .collect();
        for (id, d) in &w.drawers {
            open.insert(*id, d.clone());
        }
        let mut open: Vec<Drawer> = open
            .into_values()
            .filter(|d| d.is_open() && (location.is_none() || d.location == location))
            .collect();
        open.sort_by_key(|d| (d.opened_at, d.id));
        Ok(open)
    }

    /// A drawer session as the batch has left it.
    fn drawer_state(&self, id: DrawerId, w: &Working) -> Result<Option<Drawer>, NodeError> {
        match w.drawers.get(&id) {
            Some(d) => Ok(Some(d.clone())),
            None => Ok(self.ledger.store().drawer(id)?),
        }
    }

    /// The drawer session cash goes into or comes out of: the one named, or the only one
    /// open. None when no session is open (cash is then reported outside drawers).
    fn find_drawer(
        &self,
        named: Option<DrawerId>,
        w: &Working,
    ) -> Result<Option<Drawer>, NodeError> {
        if let Some(id) = named {
            return match self.drawer_state(id, w)? {
                Some(d) if d.is_open() => Ok(Some(d)),
                Some(d) => Err(Refusal::Invalid(format!(
                    "drawer {} was already counted and closed",
                    d.name
                ))
                .into()),
                None => Err(NodeError::NotFound(format!("no drawer session {id}"))),
            };
        }
        let open = self.open_drawers(w)?;
        if open.len() > 1 {
            let names: Vec<&str> = open.iter().map(|d| d.name.as_str()).collect();
            return Err(Refusal::Invalid(format!(
                "several drawers are open ({}): say which one",
                names.join(", ")
            ))
            .into());
        }
        Ok(open.into_iter().next())
    }

    /// Fills in the drawer session of a cash payment or a cash refund.
    fn with_drawer(
        &self,
        command: Command,
        order: Option<&Order>,
        w: &Working,
    ) -> Result<(Command, Option<Drawer>), NodeError> {
        match command {
            Command::TakePayment {
                payment,
                tender,
                amount,
                tip,
                cash_received,
                drawer,
            } => {
                let till = if tender == Tender::Cash {
                    self.find_drawer(drawer, w)?
                } else {
                    None
                };
                Ok((
                    Command::TakePayment {
                        payment,
                        tender,
                        amount,
                        tip,
                        cash_received,
                        drawer: till.as_ref().map(|d| d.id),
                    },
                    till,
                ))
            }
            Command::Refund {
                payment,
                amount,
                reason,
                drawer,
            } => {
                let cash = order
                    .and_then(|o| o.payments.iter().find(|p| p.id == payment))
                    .is_some_and(|p| p.tender == Tender::Cash);
                let till = if cash {
                    self.find_drawer(drawer, w)?
                } else {
                    None
                };
                if let Some(d) = &till {
                    d.require_cash(amount)?;
                }
                Ok((
                    Command::Refund {
                        payment,
                        amount,
                        reason,
                        drawer: till.as_ref().map(|d| d.id),
                    },
                    till,
                ))
            }
            other => Ok((other, None)),
        }
    }

    fn drawer_events(
        &self,
        actor: Actor,
        drawer: Option<DrawerId>,
        command: &DrawerCommand,
        w: &Working,
        now_millis: u64,
    ) -> Result<Staged, NodeError> {
        let store = self.ledger.store();
        let currency = currency(store)?;
        let open = self.open_drawers(w)?;
        let (id, state) = match (drawer, command) {
            (Some(id), _) => (id, self.drawer_state(id, w)?),
            (None, DrawerCommand::Open { .. }) => {
                return Err(NodeError::BadRequest(
                    "a new drawer session needs an id (a UUIDv7)".into(),
                ));
            }
            (None, _) => match self.find_drawer(None, w)? {
                Some(d) => (d.id, Some(d)),
                None => {
                    return Err(Refusal::Invalid("no drawer session is open".into()).into());
                }
            },
        };
        let mut command = command.clone();
        if let DrawerCommand::Open { location, .. } = &mut command {
            *location = self.location(w)?;
        }
        let changes = decide_drawer(state.as_ref(), &command, actor, currency, &open)?;
        let mut current = state;
        let mut events = Vec::with_capacity(changes.len());
        for change in changes {
            let event = DrawerEvent {
                drawer: id,
                by: actor.staff,
                at: now_millis,
                change,
            };
            current = apply_drawer(current, &event);
            events.push(Event::Drawer(event));
        }
        Ok(Staged {
            drawer: current,
            ..Staged::events(events)
        })
    }

    /// The Z-report: the day's events (committed and earlier in this batch) folded into
    /// a report, recorded as a `DayClosed` event. Refused while a drawer is still open,
    /// since its cash could not be reconciled.
    fn close_day(&self, actor: Actor, w: &Working, now_millis: u64) -> Result<Staged, NodeError> {
        if !actor.role.may(Permission::Reports) {
            return Err(Refusal::NotAllowed {
                role: actor.role.name(),
                action: "close the business day (Z-report)".into(),
            }
            .into());
        }
        let store = self.ledger.store();
        let node = self.ledger.node_id();
        if let Some(d) = self.open_drawers(w)?.first() {
            return Err(Refusal::Invalid(format!(
                "drawer {} is still open: count and close it before closing the day",
                d.name
            ))
            .into());
        }
        let (day, from) = match w.days.last() {
            Some(d) => (d.summary.day + 1, d.close_seq + 1),
            None => open_day(store, node)?,
        };
        let mut builder = ReportBuilder::new(day, currency(store)?, from);
        let overlay = Overlay {
            orders: Some(&w.orders),
            drawers: Some(&w.drawers),
        };
        fold(
            store,
            node,
            &mut builder,
            from,
            self.ledger.head().size(),
            &overlay,
        )?;
        // Entries earlier in this batch: decoded here, only for a Z, rather than kept
        // decoded for every batch.
        for entry in w.entries.iter().filter(|e| e.seq >= from) {
            let bytes = EntryRef::decode(&entry.bytes)
                .map_err(|e| NodeError::Internal(format!("a staged entry: {e}")))?;
            let event = decode(bytes.payload)
                .map_err(|e| NodeError::Internal(format!("a staged entry: {e}")))?;
            record(store, &mut builder, entry.seq, &event, &overlay)?;
        }
        let location = self.location(w)?;
        let mut open: HashMap<OrderId, Order> = store
            .open_orders(location)?
            .into_iter()
            .map(|o| (o.id, o))
            .collect();
        for (id, o) in &w.orders {
            match o {
                Some(o)
                    if o.status == Status::Open
                        && (location.is_none() || o.location == location) =>
                {
                    open.insert(*id, o.clone());
                }
                _ => {
                    open.remove(id);
                }
            }
        }
        let open: Vec<Order> = open.into_values().collect();
        let report = builder.finish(&open, &[]).map_err(Refusal::from)?;
        if report.to_seq < report.from_seq {
            return Err(Refusal::Invalid(format!(
                "business day {day} has nothing in it yet: there is nothing to close"
            ))
            .into());
        }
        let summary = report
            .summary(actor.staff, now_millis)
            .map_err(Refusal::from)?;
        Ok(Staged::events(vec![Event::DayClosed(summary)]))
    }

    fn staff_events(
        &self,
        request: &Request,
        cmd: &StaffCommand,
        overlay: &[StaffChange],
        now_millis: u64,
    ) -> Result<Staged, NodeError> {
        let store = self.ledger.store();
        let named = match cmd {
            StaffCommand::Put(m) => m.id,
            StaffCommand::SetPin { staff, .. } => *staff,
        };
        let mut existing = store.staff_member(named)?;
        for change in overlay {
            if let StaffChange::Put(m) = change
                && m.id == named
            {
                existing = Some(m.clone());
            }
        }
        let mut someone_can_log_in = overlay
            .iter()
            .any(|c| matches!(c, StaffChange::PinChanged { .. }));
        for m in store.staff()? {
            if someone_can_log_in {
                break;
            }
            someone_can_log_in = store.pin_hash(m.id)?.is_some();
        }
        let actor = request
            .actor
            .map(|a| current_actor(store, &self.cache, overlay, a))
            .transpose()?;
        let active_owners = store
            .staff()?
            .into_iter()
            .map(|m| {
                overlay
                    .iter()
                    .rev()
                    .find_map(|c| match c {
                        StaffChange::Put(o) if o.id == m.id => Some(o.clone()),
                        _ => None,
                    })
                    .unwrap_or(m)
            })
            .chain(overlay.iter().filter_map(|c| match c {
                StaffChange::Put(o) => Some(o.clone()),
                StaffChange::PinChanged { .. } => None,
            }))
            .filter(|m| m.active && m.role == mpos_domain::staff::Role::Owner)
            .map(|m| m.id)
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        let changes = decide_staff(
            cmd,
            actor,
            existing.as_ref(),
            someone_can_log_in,
            active_owners,
        )?;
        let pin = match cmd {
            StaffCommand::SetPin { staff, pin } => Some((*staff, crate::staff::hash_pin(pin)?)),
            StaffCommand::Put(_) => None,
        };
        let events = changes
            .into_iter()
            .map(|change| {
                Event::Staff(StaffEvent {
                    by: actor.map(|a| a.staff),
                    at: now_millis,
                    change,
                })
            })
            .collect();
        Ok(Staged {
            pin,
            ..Staged::events(events)
        })
    }

    /// Applies a batch of requests in order: one ledger batch, one transaction, one fsync.
    /// Each request gets its own result; a refused one writes nothing and does not stop
    /// the others. If the commit fails, nothing of the batch is written and every request
    /// that would have written gets the failure.
    ///
    /// On a store shared with other nodes, what this service keeps in memory is first
    /// checked against the store, and a batch whose commit meets another node's write
    /// (a conflict) is decided again from the stored state, up to `SHARED_ATTEMPTS` times.
    pub fn execute(
        &mut self,
        requests: Vec<Request>,
        now_millis: u64,
    ) -> Vec<Result<Applied, NodeError>> {
        if !self.ledger.store().shared() {
            return self.execute_once(&requests, now_millis).0;
        }
        let mut attempt = 1;
        loop {
            if let Err(e) = self.refresh_shared(&requests) {
                let message = e.to_string();
                return requests
                    .iter()
                    .map(|_| {
                        Err(NodeError::Store(StoreError::Backend(format!(
                            "not applied: {message}"
                        ))))
                    })
                    .collect();
            }
            let (mut results, conflicted) = self.execute_once(&requests, now_millis);
            if conflicted.is_empty() {
                return results;
            }
            if attempt == SHARED_ATTEMPTS {
                for i in conflicted {
                    results[i] = Err(NodeError::Unavailable(
                        "another node changed the same rows at the same moment; retry with \
                         the same request id"
                            .into(),
                    ));
                }
                return results;
            }
            tracing::debug!(attempt, "batch met another node's write; deciding it again");
            attempt += 1;
            // Another node wrote what this batch read: read it all again.
            self.cache.open_orders.borrow_mut().clear();
            self.cache.forget_catalog();
        }
    }

    /// Drops what another node changed since this service read it: the menu, staff and
    /// floor when the catalog generation moved; an open order whose stored version is
    /// not the cached one.
    fn refresh_shared(&self, requests: &[Request]) -> Result<(), NodeError> {
        let store = self.ledger.store();
        let generation = store.catalog_generation()?;
        if *self.cache.generation.borrow() != Some(generation) {
            self.cache.forget_catalog();
            *self.cache.generation.borrow_mut() = Some(generation);
        }
        let ids: Vec<OrderId> = {
            let open = self.cache.open_orders.borrow();
            let mut ids: Vec<OrderId> = requests
                .iter()
                .filter_map(Request::order)
                .filter(|id| open.contains_key(id))
                .collect();
            ids.sort_unstable_by_key(|id| id.0);
            ids.dedup();
            ids
        };
        if ids.is_empty() {
            return Ok(());
        }
        let stored: HashMap<OrderId, u32> = store.order_versions(&ids)?.into_iter().collect();
        let mut open = self.cache.open_orders.borrow_mut();
        for id in ids {
            let current = open.get(&id).map(|o| o.version);
            if current != stored.get(&id).copied() {
                open.remove(&id);
            }
        }
        Ok(())
    }

    /// Reads at once what the batch's requests would each read: which were applied before
    /// and which of the orders they name do not exist yet. A store across a network
    /// answers each question in one round trip instead of one per request. If a read
    /// fails, each request reads for itself (and meets the failure there).
    fn read_ahead(&self, requests: &[Request], w: &mut Working) {
        w.stock = self.read_stock_ahead(requests).ok().flatten();
        let store = self.ledger.store();
        let ids: Vec<u128> = requests.iter().map(|r| r.id).collect();
        w.applied_before = store
            .applied_requests(&ids)
            .ok()
            .map(|done| done.into_iter().map(|a| (a.request, a)).collect());
        let unknown: Vec<OrderId> = {
            let open = self.cache.open_orders.borrow();
            let mut ids: Vec<OrderId> = requests
                .iter()
                .filter_map(Request::order)
                .filter(|id| !open.contains_key(id))
                .collect();
            ids.sort_unstable_by_key(|id| id.0);
            ids.dedup();
            ids
        };
        if !unknown.is_empty()
            && let Ok(stored) = store.order_versions(&unknown)
        {
            let stored: HashSet<OrderId> = stored.into_iter().map(|(id, _)| id).collect();
            w.absent = unknown
                .into_iter()
                .filter(|id| !stored.contains(id))
                .collect();
        }
        // Closing, voiding or refunding an order that takes stock weighs what it holds.
        if matches!(self.sales_policy(w), Ok(Some(_))) {
            let mut stored: Vec<OrderId> = requests
                .iter()
                .filter_map(Request::order)
                .filter(|id| !w.absent.contains(id))
                .collect();
            stored.sort_unstable_by_key(|id| id.0);
            stored.dedup();
            if !stored.is_empty()
                && let Ok(held) = store.orders_stock(&stored)
            {
                w.held_before = held;
            }
        }
        w.valuation = self.read_valuation_ahead(requests, w).ok().flatten();
    }

    /// The levels the batch's sales are likely to move, read at once to value them: the
    /// ingredients of the lines of the open orders it names, at the location sales take
    /// from, and what those orders hold. Anything else is read when a movement needs it.
    fn read_valuation_ahead(
        &self,
        requests: &[Request],
        w: &Working,
    ) -> Result<Option<Valuation>, NodeError> {
        let Some(policy) = self.sales_policy(w)? else {
            return Ok(None);
        };
        let mut wanted = StockWanted::default();
        for held in w.held_before.values() {
            wanted.levels.extend(held.iter().map(|(l, i, _)| (*l, *i)));
        }
        // Adding lines moves nothing until they are sent or the order closes.
        let named: HashSet<OrderId> = requests
            .iter()
            .filter_map(|r| match &r.action {
                Action::Order {
                    command:
                        OrderAction::AddItem(_)
                        | OrderAction::Command(
                            Command::Open { .. }
                            | Command::AddLine { .. }
                            | Command::Bump { .. }
                            | Command::Recall { .. },
                        ),
                    ..
                } => None,
                _ => r.order(),
            })
            .collect();
        let orders: Vec<Order> = {
            let open = self.cache.open_orders.borrow();
            named
                .iter()
                .filter_map(|id| open.get(id).cloned())
                .collect()
        };
        for line in orders.iter().flat_map(|o| &o.lines) {
            for t in recipe_targets(line) {
                if let Some(r) = self.recipe(t, w)? {
                    wanted
                        .levels
                        .extend(r.ingredients.iter().map(|g| (policy.location, g.stock)));
                }
            }
        }
        wanted.dedup();
        if wanted.levels.is_empty() {
            return Ok(None);
        }
        let store = self.ledger.store();
        let mut valuation = Valuation {
            book: Stock::new(currency(store)?),
            levels: HashSet::new(),
            transfers: HashSet::new(),
        };
        store.read_stock(&wanted, &mut valuation.book)?;
        valuation.levels.extend(wanted.levels);
        Ok(Some(valuation))
    }

    /// One attempt at a batch: the results, and which of them a write conflict undid
    /// (empty unless the commit met another node's write).
    fn execute_once(
        &mut self,
        requests: &[Request],
        now_millis: u64,
    ) -> (Vec<Result<Applied, NodeError>>, Vec<usize>) {
        // The batch's reads see one snapshot and take the store's locks once; its commit
        // lets them go. Without it every read locks on its own: slower, not wrong.
        if let Err(e) = self.ledger.store_mut().begin_reads() {
            tracing::warn!(error = %e, "the batch's reads could not be held in one snapshot");
        }
        let answered = self.decide_and_commit(requests, now_millis);
        if let Err(e) = self.ledger.store_mut().end_reads() {
            tracing::error!(error = %e, "the batch's reads could not be let go");
        }
        answered
    }

    fn decide_and_commit(
        &mut self,
        requests: &[Request],
        now_millis: u64,
    ) -> (Vec<Result<Applied, NodeError>>, Vec<usize>) {
        let mut staged = self.ledger.head().clone();
        let key = self.ledger.key().public();
        let mut w = Working::default();
        self.read_ahead(requests, &mut w);
        let mut pins: Vec<PinHash> = Vec::new();
        let mut receipts: Vec<(OrderId, String)> = Vec::new();
        let mut applied: Vec<AppliedRequest> = Vec::new();
        let mut results: Vec<Result<Applied, NodeError>> = Vec::with_capacity(requests.len());
        let mut pending: Vec<usize> = Vec::new();
        let mut time = staged.last_hlc().max(self.observed);
        // A certified node's ledger begins with its certificate, so whoever holds the
        // ledger holds what vouches for the key that signed it. Committed only with the
        // first request that records something.
        let mut introduced = 0;
        if staged.size() == 0
            && let Some(certificate) = self.ledger.identity().certificate()
        {
            time = time.tick(now_millis);
            match staged.append(
                time,
                SCHEMA,
                &encode(&trust::introduction(certificate, now_millis)),
            ) {
                Ok(entry) => {
                    w.entries.push(entry);
                    w.trust.push(Trusted::Certified(certificate.clone()));
                    introduced = 1;
                }
                Err(e) => {
                    let message = e.to_string();
                    let failed = requests
                        .iter()
                        .map(|_| Err(NodeError::Internal(message.clone())))
                        .collect();
                    return (failed, Vec::new());
                }
            }
        }

        for request in requests {
            let result = (|| -> Result<Applied, NodeError> {
                let action = fingerprint(&request.action);
                let before = match &w.applied_before {
                    Some(known) => known.get(&request.id).cloned(),
                    None => self.ledger.store().applied_request(request.id)?,
                };
                if let Some(done) = before {
                    if done.action != action {
                        return Err(reused(request.id));
                    }
                    return self.replay(request, done);
                }
                if let Some(done) = applied.iter().find(|a| a.request == request.id).cloned() {
                    if done.action != action {
                        return Err(reused(request.id));
                    }
                    return results
                        .iter()
                        .flatten()
                        .find(|a| a.first_seq == done.first_seq && !a.replayed)
                        .map(|a| Applied {
                            replayed: true,
                            ..a.clone()
                        })
                        .ok_or_else(|| {
                            NodeError::BadRequest("request repeated in one batch".into())
                        });
                }
                let Staged {
                    mut events,
                    order,
                    stored,
                    drawer,
                    pin,
                    taken,
                } = self.events_for(request, &w, now_millis)?;
                self.value_movements(&mut events, &mut w.valuation)?;
                let first_seq = staged.size() + 1;
                let mut head = staged.clone();
                let mut new_entries = Vec::with_capacity(events.len());
                // Kept only if every event of the request is appended.
                let mut new_receipts = Vec::new();
                let mut new_days = Vec::new();
                let mut new_clocks = Vec::new();
                let mut new_pin_changes = Vec::new();
                let mut new_availability = Vec::new();
                let mut new_sales = Vec::new();
                for e in &events {
                    time = time.tick(now_millis);
                    let entry = head.append(time, SCHEMA, &encode(e))?;
                    // What it puts whole stands from this time on, on every node.
                    new_clocks.extend(entities(e).into_iter().map(|entity| EntityClock {
                        key: entity,
                        hlc: entry.hlc.0,
                        node: key.node_id(),
                    }));
                    if let Event::Staff(s) = e
                        && let StaffChange::PinChanged { staff } = s.change
                    {
                        new_pin_changes.push((staff, entry.hlc.0, key.node_id()));
                    }
                    if let Event::Menu(m) = e
                        && let Some((item, available)) = match &m.change {
                            MenuChange::ItemPut(i) => Some((i.id, i.available)),
                            MenuChange::AvailabilitySet { item, available } => {
                                Some((*item, *available))
                            }
                            _ => None,
                        }
                    {
                        new_availability.push(AvailabilityChange {
                            item,
                            hlc: entry.hlc.0,
                            node: key.node_id(),
                            available,
                        });
                    }
                    if let Event::Order(oe) = e
                        && let Change::LineAdded { line, item, .. } = &oe.change
                    {
                        new_sales.push(eighty_six::Sale {
                            order: oe.order,
                            line: *line,
                            item: item.item,
                            hlc: entry.hlc.0,
                        });
                    }
                    // A closed order gets its receipt code, signed over the closing entry.
                    if let (Event::Order(oe), Some(o)) = (e, &order)
                        && oe.change == Change::Closed
                    {
                        let total = o.totals().map_err(|e| NodeError::Refused(e.into()))?.total;
                        let receipt = mpos_ledger::Receipt::new(
                            key.node_id(),
                            entry.seq,
                            entry.hlc,
                            total.minor(),
                            o.currency.code(),
                            &entry.hash,
                        )
                        .map_err(|e| NodeError::Internal(e.to_string()))?;
                        new_receipts.push((oe.order, receipt.sign(self.ledger.key())));
                    }
                    if let Event::DayClosed(summary) = e {
                        new_days.push(ClosedDay {
                            node: key.node_id(),
                            close_seq: entry.seq,
                            summary: summary.clone(),
                        });
                    }
                    new_entries.push(entry);
                }
                staged = head;
                receipts.extend(new_receipts);
                w.days.extend(new_days);
                w.clocks.extend(new_clocks);
                w.pin_changes.extend(new_pin_changes);
                w.availability.extend(new_availability);
                w.sales.extend(new_sales);
                for e in &events {
                    match e {
                        Event::Menu(m) => w.menu.push(m.change.clone()),
                        Event::Staff(s) => w.staff.push(s.change.clone()),
                        Event::Floor(f) => w.floor.push(f.change.clone()),
                        Event::Inventory(i) => {
                            if let Some(book) = &mut w.stock {
                                book.apply_event(i);
                            }
                            if let (InventoryChange::Moved(_), Some(v)) =
                                (&i.change, &mut w.valuation)
                            {
                                v.book.apply_event(i);
                            }
                            w.inventory.push(i.clone());
                        }
                        Event::Trust(t) => {
                            // Signed here with the root key a moment ago.
                            let root = self.ledger.identity().root_key().map(|k| k.public());
                            if let Some(checked) =
                                root.and_then(|r| Trusted::check(&t.change, &r).ok())
                            {
                                w.trust.push(checked);
                            }
                        }
                        _ => {}
                    }
                }
                if let (Some(id), Some(t)) = (request.order(), taken) {
                    w.taken.insert(id, t);
                }
                w.entries.extend(new_entries);
                // Set when the entry that records the change was written.
                pins.extend(pin.map(|(staff, hash)| PinHash {
                    staff,
                    hash,
                    changed_at: time.0,
                }));
                if let (Some(id), Some(o)) = (request.order(), &order) {
                    w.orders.insert(id, Some(o.clone()));
                    if let Some(before) = stored {
                        w.stored.entry(id).or_insert(before);
                    }
                }
                if let Some(d) = &drawer {
                    w.drawers.insert(d.id, d.clone());
                }
                applied.push(AppliedRequest {
                    request: request.id,
                    order: request.order(),
                    node: key.node_id(),
                    first_seq,
                    last_seq: staged.size(),
                    action,
                });
                Ok(Applied {
                    events,
                    order,
                    drawer,
                    replayed: false,
                    first_seq,
                    last_seq: staged.size(),
                })
            })();
            // Results that stand only if the commit succeeds: new writes, and repeats of a
            // request earlier in this batch (their entries lie above the committed head).
            let committed = self.ledger.head().size();
            if matches!(&result, Ok(a) if !a.replayed || a.first_seq > committed) {
                pending.push(results.len());
            }
            results.push(result);
        }

        if w.entries.len() == introduced {
            return (results, Vec::new());
        }
        let commit = (|| -> Result<(), NodeError> {
            let judged = self.judge_86(&w.availability, &w.sales)?;
            for (order, line, flag) in judged.lines() {
                if let Some(Some(o)) = w.orders.get_mut(&order)
                    && let Some(l) = o.lines.iter_mut().find(|l| l.id == line)
                {
                    l.sold_while_86d = flag;
                }
            }
            let checkpoint = staged.checkpoint(self.ledger.key())?;
            let batch = LedgerBatch {
                key,
                entries: std::mem::take(&mut w.entries),
                checkpoint,
                head: staged.clone(),
            };
            let projection = Projection {
                orders: w
                    .orders
                    .iter()
                    .filter_map(|(id, after)| {
                        Some(OrderUpdate {
                            before: w.stored.get(id).and_then(Option::as_ref),
                            after: after.as_ref()?,
                        })
                    })
                    .collect(),
                menu: w.menu.iter().collect(),
                staff: w.staff.iter().collect(),
                floor: w.floor.iter().collect(),
                pins: pins.clone(),
                receipts: receipts.clone(),
                drawers: w.drawers.values().collect(),
                days: w.days.iter().collect(),
                inventory: w.inventory.iter().collect(),
                trust: w.trust.iter().map(Trusted::update).collect(),
                clocks: w.clocks.clone(),
                pin_changes: w.pin_changes.clone(),
                availability: w.availability.clone(),
                // A register sells only what it knows is not 86'd; its lines are judged
                // all the same, by the rule every node applies to them (`eighty_six`).
                sold_while_86d: judged.flagged,
                cleared_86d: judged.cleared,
                order_entries: Vec::new(),
            };
            self.ledger
                .store_mut()
                .commit(&batch, &projection, &applied)?;
            Ok(())
        })();
        match commit {
            Ok(()) => {
                self.ledger.adopt(staged);
                let mut open = self.cache.open_orders.borrow_mut();
                for (id, order) in w.orders {
                    match order {
                        Some(o) if o.status == Status::Open => {
                            open.insert(id, o);
                        }
                        _ => {
                            open.remove(&id);
                        }
                    }
                }
                if !w.menu.is_empty() {
                    self.cache.forget_menu();
                }
                if !w.floor.is_empty() {
                    self.cache.floor.borrow_mut().take();
                }
                if !w.staff.is_empty() {
                    self.cache.staff.borrow_mut().clear();
                }
                if w.inventory.iter().any(|e| e.change.changes_sales()) {
                    self.cache.forget_stock();
                }
                if !w.trust.is_empty() {
                    self.cache.revoked.borrow_mut().take();
                }
            }
            Err(NodeError::Store(StoreError::Conflict(m))) if self.ledger.store().shared() => {
                tracing::debug!(conflict = %m, "another node wrote first");
                return (results, pending);
            }
            Err(e) => {
                let message = e.to_string();
                for i in pending {
                    results[i] = Err(NodeError::Store(StoreError::Backend(format!(
                        "not written: {message}"
                    ))));
                }
            }
        }
        (results, Vec::new())
    }

    /// The first result of a request applied before, rebuilt from its ledger entries.
    fn replay(&self, request: &Request, done: AppliedRequest) -> Result<Applied, NodeError> {
        if done.order != request.order() {
            return Err(reused(request.id));
        }
        let mut events = Vec::new();
        for seq in done.first_seq..=done.last_seq {
            let bytes = self.ledger.store().entry(done.node, seq)?.ok_or_else(|| {
                StoreError::Corrupt(format!("entry {seq} of a recorded request is missing"))
            })?;
            let entry = EntryRef::decode(&bytes).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            events.push(decode(entry.payload).map_err(|e| StoreError::Corrupt(e.to_string()))?);
        }
        let order = match request.order() {
            Some(id) => Some(self.ledger.store().load_order(id)?.ok_or_else(|| {
                StoreError::Corrupt("the order of a recorded request is missing".into())
            })?),
            None => None,
        };
        let drawer = events.iter().find_map(|e| match e {
            Event::Drawer(d) => Some(d.drawer),
            Event::Order(o) => match o.change {
                Change::PaymentTaken { drawer, .. } | Change::Refunded { drawer, .. } => drawer,
                _ => None,
            },
            _ => None,
        });
        let drawer = match drawer {
            Some(id) => self.ledger.store().drawer(id)?,
            None => None,
        };
        Ok(Applied {
            events,
            order,
            drawer,
            replayed: true,
            first_seq: done.first_seq,
            last_seq: done.last_seq,
        })
    }
}
