//! Inventory: stock items counted in units, recipes that say what a menu item uses, and
//! stock movements (receive, waste, count, transfer, and the depletion of sales), each an
//! event. A location's level of an item is the sum of its movements' deltas, so levels
//! come out the same whatever order locations' events arrive in (sync relies on it).
//!
//! Valuation is by weighted average cost per location: a receipt adds its cost, anything
//! taken away takes its share of the value at the average, exactly in minor units.
//!
//! Which movements restore stock: a voided line gives back what its sale took (it was
//! never served); a refund gives back stock only when the whole order is refunded (a
//! sale reversed); a partial refund (money back for a complaint) gives back none.

pub mod food_cost;
pub mod quantity;
pub mod sale;

use std::collections::BTreeMap;

pub use quantity::{Dimension, Quantity, Unit};

use crate::catalog::PricedSelection;
use crate::ids::{
    ItemId, LocationId, ModifierId, OrderId, PurchaseOrderId, StaffId, StockItemId, SupplierId,
    TransferId, VariantId,
};
use crate::money::{Currency, Money};
use crate::refusal::Refusal;
use crate::staff::{Actor, Permission};

/// Why an inventory command or quantity was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InventoryError {
    #[error("unknown unit {0:?} (use g, kg, ml, l or each)")]
    UnknownUnit(String),
    #[error("bad quantity: {0}")]
    BadQuantity(String),
    #[error("a {} cannot be measured in {want}", have.name())]
    IncompatibleUnits { have: Dimension, want: Unit },
    #[error("the quantity is too large")]
    Overflow,
    #[error("no stock item {0}")]
    UnknownStockItem(StockItemId),
    #[error("no location {0}")]
    UnknownLocation(LocationId),
    #[error("{0} is closed: reopen it first")]
    LocationClosed(String),
    #[error("no supplier {0}")]
    UnknownSupplier(SupplierId),
    #[error("no transfer {0}")]
    UnknownTransfer(TransferId),
    #[error("no purchase order {0}")]
    UnknownPurchaseOrder(PurchaseOrderId),
    #[error("{0} must be more than zero")]
    NotPositive(String),
    #[error("a transfer goes from one location to another, not to the same one")]
    SameLocation,
    #[error("transfer {0} already exists")]
    TransferExists(TransferId),
    #[error("transfer {0} was already received")]
    TransferReceived(TransferId),
    #[error("{item}: {received} received but {sent} sent; say why in a note")]
    MoreThanSent {
        item: String,
        sent: String,
        received: String,
    },
    #[error("{0} was not on the transfer")]
    NotOnTransfer(String),
    #[error("{0} is listed twice")]
    ListedTwice(String),
    #[error("purchase order {0} already exists")]
    PurchaseOrderExists(PurchaseOrderId),
    #[error("purchase order {po} is {state}: {why}")]
    PurchaseOrderState {
        po: PurchaseOrderId,
        state: &'static str,
        why: &'static str,
    },
    #[error("{0} was not ordered on that purchase order")]
    NotOnPurchaseOrder(String),
    #[error("a name is required")]
    NameRequired,
    #[error("a reason is required")]
    ReasonRequired,
    #[error("amounts are in {expected}, not {got}")]
    WrongCurrency { expected: String, got: String },
    #[error("a cost cannot be negative")]
    NegativeCost,
}

/// Something kept in stock, counted in one unit (levels, counts and par levels are shown
/// in it; any unit of the same dimension is accepted).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StockItem {
    pub id: StockItemId,
    pub name: String,
    pub unit: Unit,
    /// Still bought and counted; an archived item keeps its history.
    pub active: bool,
}

/// A place stock is kept: a restaurant of the organization, a central kitchen, a store
/// room. Every location's levels are kept apart; transfers move stock between them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    pub id: LocationId,
    pub name: String,
    /// Still trading; a closed location keeps its history and takes no new movements.
    pub active: bool,
}

/// When a sale takes its recipe's ingredients from stock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Depletion {
    /// When the lines are sent to the kitchen (they are being made).
    OnSend,
    /// When the order is closed (paid in full).
    OnClose,
}

impl Depletion {
    pub fn name(self) -> &'static str {
        match self {
            Depletion::OnSend => "send",
            Depletion::OnClose => "close",
        }
    }
}

/// Where this restaurant's sales take stock from, and when.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SalesStock {
    pub location: LocationId,
    pub depletion: Depletion,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Supplier {
    pub id: SupplierId,
    pub name: String,
    /// Phone, e-mail: whatever the buyer uses.
    pub contact: String,
}

/// What a recipe is for: an item (any variant without a recipe of its own), one variant
/// (instead of the item's), or a modifier (added to the item's).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RecipeFor {
    Item(ItemId),
    Variant(ItemId, VariantId),
    Modifier(ModifierId),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ingredient {
    pub stock: StockItemId,
    pub quantity: Quantity,
}

/// What one portion uses. No ingredients: no recipe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recipe {
    pub target: RecipeFor,
    pub ingredients: Vec<Ingredient>,
}

/// One item of a transfer, and the value it took from the sending location.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransferLine {
    pub item: StockItemId,
    pub quantity: Quantity,
    pub value: Money,
}

/// A change to stock levels: each is one ledger event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Movement {
    Received {
        location: LocationId,
        item: StockItemId,
        quantity: Quantity,
        /// What was paid for the whole quantity.
        cost: Money,
        supplier: Option<SupplierId>,
        lot: String,
        purchase_order: Option<PurchaseOrderId>,
    },
    Wasted {
        location: LocationId,
        item: StockItemId,
        quantity: Quantity,
        reason: String,
    },
    /// A stock-take: `variance` is what the count found minus what the books said then.
    Counted {
        location: LocationId,
        item: StockItemId,
        counted: Quantity,
        variance: Quantity,
    },
    /// Out of `from`, in transit until received.
    TransferSent {
        transfer: TransferId,
        from: LocationId,
        to: LocationId,
        lines: Vec<TransferLine>,
    },
    /// Into the receiving location: what arrived, which may differ from what was sent.
    TransferReceived {
        transfer: TransferId,
        lines: Vec<(StockItemId, Quantity)>,
        note: String,
    },
    /// Taken by a sale (positive quantities are taken).
    Depleted {
        location: LocationId,
        order: OrderId,
        lines: Vec<(StockItemId, Quantity)>,
    },
    /// Given back by a void or a whole refund.
    Restored {
        location: LocationId,
        order: OrderId,
        lines: Vec<(StockItemId, Quantity)>,
    },
}

impl Movement {
    /// The transfer a `TransferSent` starts, as it is while in transit.
    pub fn sent_transfer(&self) -> Option<Transfer> {
        match self {
            Movement::TransferSent {
                transfer,
                from,
                to,
                lines,
            } => Some(Transfer {
                id: *transfer,
                from: *from,
                to: *to,
                sent: lines.clone(),
                received: None,
            }),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PurchaseOrderStatus {
    Draft,
    Sent,
    PartiallyReceived,
    Received,
}

impl PurchaseOrderStatus {
    pub fn name(self) -> &'static str {
        match self {
            PurchaseOrderStatus::Draft => "draft",
            PurchaseOrderStatus::Sent => "sent",
            PurchaseOrderStatus::PartiallyReceived => "partially received",
            PurchaseOrderStatus::Received => "received",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PurchaseLine {
    pub item: StockItemId,
    pub quantity: Quantity,
    /// The agreed cost of the whole line.
    pub cost: Money,
    pub received: Quantity,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PurchaseOrder {
    pub id: PurchaseOrderId,
    pub supplier: SupplierId,
    pub location: LocationId,
    pub lines: Vec<PurchaseLine>,
    pub sent: bool,
}

impl PurchaseOrder {
    pub fn status(&self) -> PurchaseOrderStatus {
        let received = |l: &PurchaseLine| l.received.milli >= l.quantity.milli;
        if !self.sent {
            PurchaseOrderStatus::Draft
        } else if self.lines.iter().all(received) {
            PurchaseOrderStatus::Received
        } else if self.lines.iter().any(|l| l.received.milli > 0) {
            PurchaseOrderStatus::PartiallyReceived
        } else {
            PurchaseOrderStatus::Sent
        }
    }
}

/// A change to inventory, recorded in the ledger.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InventoryChange {
    PutLocation(Location),
    /// Where sales take stock from; none: sales take nothing.
    SetSalesStock(Option<SalesStock>),
    PutStockItem(StockItem),
    PutSupplier(Supplier),
    /// The level below which `item` is low at `location`; none clears it.
    SetPar {
        location: LocationId,
        item: StockItemId,
        level: Option<Quantity>,
    },
    PutRecipe(Recipe),
    Moved(Movement),
    PurchaseOrderDrafted(PurchaseOrder),
    PurchaseOrderSent(PurchaseOrderId),
}

impl InventoryChange {
    /// Whether it changes what sales take from stock: a recipe, or where and when sales
    /// take it (what a node keeps in memory between batches).
    pub fn changes_sales(&self) -> bool {
        matches!(
            self,
            InventoryChange::PutRecipe(_) | InventoryChange::SetSalesStock(_)
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InventoryEvent {
    pub by: StaffId,
    pub at: u64,
    pub change: InventoryChange,
    /// For a movement: the value it moved at each (location, item) of [`deltas`], in
    /// that order, as the node that made it valued it ([`value_movement`]). Every node
    /// adds these, so values come out the same whatever order movements arrive in.
    /// Empty for other changes, and for movements recorded before values were kept:
    /// those are valued where they are applied, at the average cost there.
    pub values: Vec<i64>,
}

impl InventoryEvent {
    /// A change with nothing valued yet.
    pub fn new(by: StaffId, at: u64, change: InventoryChange) -> InventoryEvent {
        InventoryEvent {
            by,
            at,
            change,
            values: Vec::new(),
        }
    }
}

/// How much of an item a location holds, and what it is worth at cost.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct StockValue {
    /// Thousandths of the base unit; negative when more was used than the books had.
    pub milli: i64,
    /// Minor units of the restaurant's currency. Zero or more, and zero when nothing is
    /// held, as one node books it; movements valued on several nodes apart can leave the
    /// stored sum outside that until the next movement valued ([`StockValue::settled`]).
    pub value: i64,
}

/// `value × part / whole`, rounded half away from zero, without overflow.
fn share(value: i64, part: i64, whole: i64) -> i64 {
    if whole == 0 {
        return 0;
    }
    let n = i128::from(value) * i128::from(part);
    let d = i128::from(whole);
    let q = (2 * n.abs() + d.abs()) / (2 * d.abs());
    let q = if (n < 0) != (d < 0) { -q } else { q };
    i64::try_from(q).unwrap_or(if q < 0 { i64::MIN } else { i64::MAX })
}

impl StockValue {
    /// The level as a decision weighs it: a value never negative, and zero when nothing
    /// is held. Movements valued on two nodes at once can leave a stored value outside
    /// that (each took from what it saw); the next movement valued settles it.
    pub fn settled(self) -> StockValue {
        StockValue {
            milli: self.milli,
            value: if self.milli <= 0 {
                0
            } else {
                self.value.max(0)
            },
        }
    }

    /// The value of `milli` of it at the average cost (zero when none is held).
    pub fn value_of(self, milli: i64) -> i64 {
        if self.milli <= 0 {
            0
        } else {
            share(self.value.max(0), milli.min(self.milli), self.milli)
        }
    }

    /// Adds stock worth `value`.
    fn add(&mut self, milli: i64, value: i64) {
        self.milli = self.milli.saturating_add(milli);
        self.value = if self.milli <= 0 {
            0
        } else {
            self.value.saturating_add(value).max(0)
        };
    }

    /// Adds stock at the average cost (a void, a count that found more).
    fn add_at_average(&mut self, milli: i64) {
        let value = if self.milli > 0 {
            share(self.value, milli, self.milli)
        } else {
            0
        };
        self.add(milli, value);
    }

    /// Takes stock away at the average cost; returns the value it took.
    fn take(&mut self, milli: i64) -> i64 {
        let value = self.value_of(milli);
        self.milli = self.milli.saturating_sub(milli);
        self.value = if self.milli <= 0 {
            0
        } else {
            self.value - value
        };
        value
    }
}

/// A transfer as the books know it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transfer {
    pub id: TransferId,
    pub from: LocationId,
    pub to: LocationId,
    pub sent: Vec<TransferLine>,
    pub received: Option<Vec<(StockItemId, Quantity)>>,
}

impl Transfer {
    /// The value `quantity` of `item` brings when it arrives: its share of the value
    /// that left with it.
    pub fn value_arriving(&self, item: StockItemId, quantity: Quantity) -> i64 {
        self.sent.iter().find(|l| l.item == item).map_or(0, |l| {
            share(l.value.minor(), quantity.milli, l.quantity.milli)
        })
    }
}

/// What orders arrivals of one transfer: time, then the lines (item, dimension,
/// quantity), then the values.
type ArrivalKey<'a> = (u64, Vec<(u128, Dimension, i64)>, &'a [i64]);

/// One arrival of a transfer as recorded: when (the recording node's time), what came,
/// and the values its node gave each line (empty when it carried none).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Arrival {
    pub at: u64,
    pub lines: Vec<(StockItemId, Quantity)>,
    pub values: Vec<i64>,
}

impl Arrival {
    /// The movement that takes this arrival in.
    pub fn movement(&self, transfer: TransferId) -> Movement {
        Movement::TransferReceived {
            transfer,
            lines: self.lines.clone(),
            note: String::new(),
        }
    }

    /// Whether it carried its values, one a line: only such an arrival can be taken back
    /// exactly (its level changes are those values).
    pub fn valued(&self) -> bool {
        self.values.len() == self.lines.len()
    }

    /// Whether this arrival, heard after `standing` (another register recorded the same
    /// transfer's arrival apart), takes its place. One arrival a transfer, the same on
    /// every node whatever order it heard them in: the one recorded first stands, then,
    /// recorded the same millisecond, the lesser by what arrived and its values. An
    /// arrival recorded before values travelled cannot be taken back exactly, so where
    /// either carries no values the first heard stands (such nodes can differ).
    pub fn replaces(&self, standing: &Arrival) -> bool {
        self.valued() && standing.valued() && self.key() < standing.key()
    }

    /// Whether the two say different things arrived: a count for a manager to settle, not
    /// only the same arrival recorded twice.
    pub fn disputes(&self, other: &Arrival) -> bool {
        self.lines != other.lines
    }

    /// When the two came to disagree, if they do: the later one's time. A count of the
    /// transfer's items at the receiving location recorded after it settles the dispute.
    pub fn disputed_at(&self, other: &Arrival) -> Option<u64> {
        self.disputes(other).then(|| self.at.max(other.at))
    }

    /// What taking this arrival back does to the receiving location `to`'s levels: each
    /// line's quantity and value out again (valued arrivals only).
    pub fn taken_back(&self, to: LocationId) -> Vec<(LocationId, StockItemId, StockValue)> {
        self.lines
            .iter()
            .zip(&self.values)
            .map(|((item, q), value)| {
                (
                    to,
                    *item,
                    StockValue {
                        milli: q.milli.saturating_neg(),
                        value: value.saturating_neg(),
                    },
                )
            })
            .collect()
    }

    fn key(&self) -> ArrivalKey<'_> {
        (
            self.at,
            self.lines
                .iter()
                .map(|(i, q)| (i.0, q.dimension, q.milli))
                .collect(),
            &self.values,
        )
    }
}

/// What an inventory decision needs to know; the in-memory [`Stock`] and the node's
/// store both answer it.
pub trait StockBook {
    fn currency(&self) -> Currency;
    fn location(&self, id: LocationId) -> Option<Location>;
    fn stock_item(&self, id: StockItemId) -> Option<StockItem>;
    fn supplier(&self, id: SupplierId) -> Option<Supplier>;
    fn level(&self, location: LocationId, item: StockItemId) -> StockValue;
    fn transfer(&self, id: TransferId) -> Option<Transfer>;
    fn purchase_order(&self, id: PurchaseOrderId) -> Option<PurchaseOrder>;
}

/// A command to the inventory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InventoryCommand {
    PutLocation(Location),
    SetSalesStock(Option<SalesStock>),
    PutStockItem(StockItem),
    PutSupplier(Supplier),
    SetPar {
        location: LocationId,
        item: StockItemId,
        level: Option<Quantity>,
    },
    PutRecipe(Recipe),
    Receive {
        location: LocationId,
        item: StockItemId,
        quantity: Quantity,
        cost: Money,
        supplier: Option<SupplierId>,
        lot: String,
        purchase_order: Option<PurchaseOrderId>,
    },
    Waste {
        location: LocationId,
        item: StockItemId,
        quantity: Quantity,
        reason: String,
    },
    Count {
        location: LocationId,
        item: StockItemId,
        counted: Quantity,
    },
    SendTransfer {
        transfer: TransferId,
        from: LocationId,
        to: LocationId,
        lines: Vec<(StockItemId, Quantity)>,
    },
    ReceiveTransfer {
        transfer: TransferId,
        lines: Vec<(StockItemId, Quantity)>,
        note: String,
    },
    DraftPurchaseOrder {
        po: PurchaseOrderId,
        supplier: SupplierId,
        location: LocationId,
        lines: Vec<(StockItemId, Quantity, Money)>,
    },
    SendPurchaseOrder(PurchaseOrderId),
}

fn inv(e: InventoryError) -> Refusal {
    Refusal::Inventory(e)
}

fn require(actor: Actor, permission: Permission, action: &str) -> Result<(), Refusal> {
    if actor.role.may(permission) {
        Ok(())
    } else {
        Err(Refusal::NotAllowed {
            role: actor.role.name(),
            action: action.into(),
        })
    }
}

fn known(book: &impl StockBook, id: StockItemId) -> Result<StockItem, Refusal> {
    book.stock_item(id)
        .ok_or(inv(InventoryError::UnknownStockItem(id)))
}

/// `id`, checked to be a location that still trades.
fn open_location(book: &impl StockBook, id: LocationId) -> Result<Location, Refusal> {
    let location = book
        .location(id)
        .ok_or(inv(InventoryError::UnknownLocation(id)))?;
    if !location.active {
        return Err(inv(InventoryError::LocationClosed(location.name)));
    }
    Ok(location)
}

/// `quantity` of `item`, checked to be more than zero and measurable in its unit.
fn positive(item: &StockItem, quantity: Quantity, what: &str) -> Result<Quantity, Refusal> {
    quantity.require(item.unit).map_err(inv)?;
    if quantity.milli <= 0 {
        return Err(inv(InventoryError::NotPositive(format!(
            "{what} of {}",
            item.name
        ))));
    }
    Ok(quantity)
}

/// Refuses a list that names one stock item twice (a transfer or an order has one line
/// per item).
fn once_each<'a>(
    book: &impl StockBook,
    items: impl Iterator<Item = &'a StockItemId>,
) -> Result<(), Refusal> {
    let mut seen = std::collections::BTreeSet::new();
    for item in items {
        if !seen.insert(*item) {
            return Err(inv(InventoryError::ListedTwice(known(book, *item)?.name)));
        }
    }
    Ok(())
}

fn shown(q: Quantity, unit: Unit) -> String {
    q.display_in(unit)
        .unwrap_or_else(|_| format!("{} thousandths", q.milli))
}

fn same_currency(book: &impl StockBook, m: Money) -> Result<Money, Refusal> {
    if m.currency() != book.currency() {
        return Err(inv(InventoryError::WrongCurrency {
            expected: book.currency().code().to_string(),
            got: m.currency().code().to_string(),
        }));
    }
    if m.is_negative() {
        return Err(inv(InventoryError::NegativeCost));
    }
    Ok(m)
}

/// Checks `command` against the books and says what it changes. A refusal changes
/// nothing.
pub fn decide(
    book: &impl StockBook,
    actor: Actor,
    command: &InventoryCommand,
) -> Result<Vec<InventoryChange>, Refusal> {
    use InventoryCommand as C;
    let change = match command {
        C::PutLocation(location) => {
            require(actor, Permission::ManageStock, "set up locations")?;
            if location.name.trim().is_empty() {
                return Err(inv(InventoryError::NameRequired));
            }
            InventoryChange::PutLocation(Location {
                name: location.name.trim().to_string(),
                ..location.clone()
            })
        }
        C::SetSalesStock(sales) => {
            require(
                actor,
                Permission::ManageStock,
                "choose where sales take stock from",
            )?;
            if let Some(s) = sales {
                open_location(book, s.location)?;
            }
            InventoryChange::SetSalesStock(*sales)
        }
        C::PutStockItem(item) => {
            require(actor, Permission::ManageStock, "set up stock items")?;
            if item.name.trim().is_empty() {
                return Err(inv(InventoryError::NameRequired));
            }
            InventoryChange::PutStockItem(StockItem {
                name: item.name.trim().to_string(),
                ..item.clone()
            })
        }
        C::PutSupplier(s) => {
            require(actor, Permission::ManageStock, "set up suppliers")?;
            if s.name.trim().is_empty() {
                return Err(inv(InventoryError::NameRequired));
            }
            InventoryChange::PutSupplier(s.clone())
        }
        C::SetPar {
            location,
            item,
            level,
        } => {
            require(actor, Permission::ManageStock, "set par levels")?;
            open_location(book, *location)?;
            let stock = known(book, *item)?;
            let level = level
                .map(|l| positive(&stock, l, "a par level"))
                .transpose()?;
            InventoryChange::SetPar {
                location: *location,
                item: *item,
                level,
            }
        }
        C::PutRecipe(recipe) => {
            require(actor, Permission::ManageStock, "write recipes")?;
            for i in &recipe.ingredients {
                positive(&known(book, i.stock)?, i.quantity, "a recipe's quantity")?;
            }
            InventoryChange::PutRecipe(recipe.clone())
        }
        C::Receive {
            location,
            item,
            quantity,
            cost,
            supplier,
            lot,
            purchase_order,
        } => {
            require(actor, Permission::Stock, "receive stock")?;
            open_location(book, *location)?;
            let stock = known(book, *item)?;
            let quantity = positive(&stock, *quantity, "a receipt")?;
            same_currency(book, *cost)?;
            if let Some(s) = supplier {
                book.supplier(*s)
                    .ok_or(inv(InventoryError::UnknownSupplier(*s)))?;
            }
            if let Some(po) = purchase_order {
                let order = book
                    .purchase_order(*po)
                    .ok_or(inv(InventoryError::UnknownPurchaseOrder(*po)))?;
                let status = order.status();
                if !order.sent {
                    return Err(inv(InventoryError::PurchaseOrderState {
                        po: *po,
                        state: status.name(),
                        why: "send it before receiving against it",
                    }));
                }
                if order.location != *location {
                    return Err(inv(InventoryError::PurchaseOrderState {
                        po: *po,
                        state: status.name(),
                        why: "it is for another location",
                    }));
                }
                if !order.lines.iter().any(|l| l.item == *item) {
                    return Err(inv(InventoryError::NotOnPurchaseOrder(stock.name)));
                }
            }
            InventoryChange::Moved(Movement::Received {
                location: *location,
                item: *item,
                quantity,
                cost: *cost,
                supplier: *supplier,
                lot: lot.trim().to_string(),
                purchase_order: *purchase_order,
            })
        }
        C::Waste {
            location,
            item,
            quantity,
            reason,
        } => {
            require(actor, Permission::Stock, "record waste")?;
            open_location(book, *location)?;
            let stock = known(book, *item)?;
            let quantity = positive(&stock, *quantity, "waste")?;
            if reason.trim().is_empty() {
                return Err(inv(InventoryError::ReasonRequired));
            }
            InventoryChange::Moved(Movement::Wasted {
                location: *location,
                item: *item,
                quantity,
                reason: reason.trim().to_string(),
            })
        }
        C::Count {
            location,
            item,
            counted,
        } => {
            require(actor, Permission::Stock, "count stock")?;
            open_location(book, *location)?;
            let stock = known(book, *item)?;
            counted.require(stock.unit).map_err(inv)?;
            if counted.milli < 0 {
                return Err(inv(InventoryError::BadQuantity(format!(
                    "a count of {} cannot be negative",
                    stock.name
                ))));
            }
            let books = book.level(*location, *item).milli;
            InventoryChange::Moved(Movement::Counted {
                location: *location,
                item: *item,
                counted: *counted,
                variance: Quantity {
                    dimension: counted.dimension,
                    milli: counted
                        .milli
                        .checked_sub(books)
                        .ok_or(inv(InventoryError::Overflow))?,
                },
            })
        }
        C::SendTransfer {
            transfer,
            from,
            to,
            lines,
        } => {
            require(actor, Permission::Stock, "transfer stock")?;
            if from == to {
                return Err(inv(InventoryError::SameLocation));
            }
            open_location(book, *from)?;
            open_location(book, *to)?;
            if book.transfer(*transfer).is_some() {
                return Err(inv(InventoryError::TransferExists(*transfer)));
            }
            if lines.is_empty() {
                return Err(inv(InventoryError::NotPositive(
                    "a transfer's items".into(),
                )));
            }
            once_each(book, lines.iter().map(|(i, _)| i))?;
            let mut sent = Vec::with_capacity(lines.len());
            for (item, quantity) in lines {
                let stock = known(book, *item)?;
                let quantity = positive(&stock, *quantity, "a transfer")?;
                let value = book.level(*from, *item).value_of(quantity.milli);
                sent.push(TransferLine {
                    item: *item,
                    quantity,
                    value: Money::new(value, book.currency()),
                });
            }
            InventoryChange::Moved(Movement::TransferSent {
                transfer: *transfer,
                from: *from,
                to: *to,
                lines: sent,
            })
        }
        C::ReceiveTransfer {
            transfer,
            lines,
            note,
        } => {
            require(actor, Permission::Stock, "receive a transfer")?;
            let t = book
                .transfer(*transfer)
                .ok_or(inv(InventoryError::UnknownTransfer(*transfer)))?;
            if t.received.is_some() {
                return Err(inv(InventoryError::TransferReceived(*transfer)));
            }
            once_each(book, lines.iter().map(|(i, _)| i))?;
            let mut received = Vec::with_capacity(lines.len());
            for (item, quantity) in lines {
                let stock = known(book, *item)?;
                quantity.require(stock.unit).map_err(inv)?;
                let sent = t
                    .sent
                    .iter()
                    .find(|l| l.item == *item)
                    .ok_or_else(|| inv(InventoryError::NotOnTransfer(stock.name.clone())))?;
                if quantity.milli < 0 {
                    return Err(inv(InventoryError::BadQuantity(format!(
                        "{} received cannot be negative",
                        stock.name
                    ))));
                }
                if quantity.milli > sent.quantity.milli && note.trim().is_empty() {
                    return Err(inv(InventoryError::MoreThanSent {
                        item: stock.name.clone(),
                        sent: shown(sent.quantity, stock.unit),
                        received: shown(*quantity, stock.unit),
                    }));
                }
                received.push((*item, *quantity));
            }
            InventoryChange::Moved(Movement::TransferReceived {
                transfer: *transfer,
                lines: received,
                note: note.trim().to_string(),
            })
        }
        C::DraftPurchaseOrder {
            po,
            supplier,
            location,
            lines,
        } => {
            require(actor, Permission::ManageStock, "order stock")?;
            open_location(book, *location)?;
            if book.purchase_order(*po).is_some() {
                return Err(inv(InventoryError::PurchaseOrderExists(*po)));
            }
            book.supplier(*supplier)
                .ok_or(inv(InventoryError::UnknownSupplier(*supplier)))?;
            if lines.is_empty() {
                return Err(inv(InventoryError::NotPositive(
                    "a purchase order's items".into(),
                )));
            }
            once_each(book, lines.iter().map(|(i, _, _)| i))?;
            let mut out = Vec::with_capacity(lines.len());
            for (item, quantity, cost) in lines {
                let stock = known(book, *item)?;
                let quantity = positive(&stock, *quantity, "an order")?;
                same_currency(book, *cost)?;
                out.push(PurchaseLine {
                    item: *item,
                    quantity,
                    cost: *cost,
                    received: Quantity::zero(quantity.dimension),
                });
            }
            InventoryChange::PurchaseOrderDrafted(PurchaseOrder {
                id: *po,
                supplier: *supplier,
                location: *location,
                lines: out,
                sent: false,
            })
        }
        C::SendPurchaseOrder(po) => {
            require(actor, Permission::ManageStock, "order stock")?;
            let order = book
                .purchase_order(*po)
                .ok_or(inv(InventoryError::UnknownPurchaseOrder(*po)))?;
            if order.sent {
                return Err(inv(InventoryError::PurchaseOrderState {
                    po: *po,
                    state: order.status().name(),
                    why: "it was already sent",
                }));
            }
            InventoryChange::PurchaseOrderSent(*po)
        }
    };
    Ok(vec![change])
}

/// What one sold line takes from stock: its variant's recipe (or else its item's), plus
/// each modifier's, times the quantity sold. Items without a recipe take nothing.
pub fn depletion(
    line: &PricedSelection,
    recipe: impl Fn(RecipeFor) -> Option<Recipe>,
) -> Result<Vec<(StockItemId, Quantity)>, InventoryError> {
    let base = line
        .variant
        .as_ref()
        .and_then(|(v, _)| recipe(RecipeFor::Variant(line.item, *v)))
        .or_else(|| recipe(RecipeFor::Item(line.item)));
    let mut out: Vec<(StockItemId, Quantity)> = Vec::new();
    let parts = base.into_iter().chain(
        line.modifiers
            .iter()
            .filter_map(|m| recipe(RecipeFor::Modifier(m.id))),
    );
    for r in parts {
        for i in r.ingredients {
            let q = i.quantity.times(i64::from(line.quantity))?;
            match out.iter_mut().find(|(s, _)| *s == i.stock) {
                Some((_, total)) => *total = total.checked_add(q)?,
                None => out.push((i.stock, q)),
            }
        }
    }
    Ok(out)
}

/// The books in memory: every inventory event folded in order. The reference for the
/// store's projections and for tests.
#[derive(Clone, Debug)]
pub struct Stock {
    pub currency: Currency,
    pub locations: BTreeMap<LocationId, Location>,
    pub sales: Option<SalesStock>,
    pub items: BTreeMap<StockItemId, StockItem>,
    pub suppliers: BTreeMap<SupplierId, Supplier>,
    pub par: BTreeMap<(LocationId, StockItemId), Quantity>,
    pub recipes: BTreeMap<RecipeFor, Recipe>,
    pub levels: BTreeMap<(LocationId, StockItemId), StockValue>,
    pub transfers: BTreeMap<TransferId, Transfer>,
    pub purchase_orders: BTreeMap<PurchaseOrderId, PurchaseOrder>,
    /// What each order has taken and not given back.
    pub sold: BTreeMap<OrderId, sale::Taken>,
    /// Arrivals of transfers whose sending has not reached these books yet (another
    /// node recorded each, and their ledgers travel apart), with their values: applied
    /// when the sending comes.
    pub early_arrivals: BTreeMap<TransferId, Arrival>,
    /// The arrival that stands for each transfer received ([`Arrival::replaces`]).
    pub arrivals: BTreeMap<TransferId, Arrival>,
    /// Transfers two registers recorded as arriving differently, apart, with when the
    /// later of them was recorded: for a manager, until a count settles them.
    pub disputed: BTreeMap<TransferId, u64>,
    /// When each item was last counted at each location.
    pub counted: BTreeMap<(LocationId, StockItemId), u64>,
}

impl Stock {
    pub fn new(currency: Currency) -> Stock {
        Stock {
            currency,
            locations: BTreeMap::new(),
            sales: None,
            items: BTreeMap::new(),
            suppliers: BTreeMap::new(),
            par: BTreeMap::new(),
            recipes: BTreeMap::new(),
            levels: BTreeMap::new(),
            transfers: BTreeMap::new(),
            purchase_orders: BTreeMap::new(),
            sold: BTreeMap::new(),
            early_arrivals: BTreeMap::new(),
            arrivals: BTreeMap::new(),
            disputed: BTreeMap::new(),
            counted: BTreeMap::new(),
        }
    }

    /// Folds one event in, with the values its movement carries.
    pub fn apply_event(&mut self, e: &InventoryEvent) {
        match &e.change {
            InventoryChange::Moved(m) => self.apply_movement(m, &e.values, e.at),
            other => self.apply(other),
        }
    }

    /// Folds one change in (a movement valued here, at the average cost).
    pub fn apply(&mut self, change: &InventoryChange) {
        match change {
            InventoryChange::PutLocation(l) => {
                self.locations.insert(l.id, l.clone());
            }
            InventoryChange::SetSalesStock(s) => self.sales = *s,
            InventoryChange::PutStockItem(i) => {
                self.items.insert(i.id, i.clone());
            }
            InventoryChange::PutSupplier(s) => {
                self.suppliers.insert(s.id, s.clone());
            }
            InventoryChange::SetPar {
                location,
                item,
                level,
            } => match level {
                Some(l) => {
                    self.par.insert((*location, *item), *l);
                }
                None => {
                    self.par.remove(&(*location, *item));
                }
            },
            InventoryChange::PutRecipe(r) => {
                if r.ingredients.is_empty() {
                    self.recipes.remove(&r.target);
                } else {
                    self.recipes.insert(r.target, r.clone());
                }
            }
            InventoryChange::Moved(m) => self.apply_movement(m, &[], 0),
            InventoryChange::PurchaseOrderDrafted(po) => {
                self.purchase_orders.insert(po.id, po.clone());
            }
            InventoryChange::PurchaseOrderSent(po) => {
                if let Some(o) = self.purchase_orders.get_mut(po) {
                    o.sent = true;
                }
            }
        }
    }

    fn apply_movement(&mut self, m: &Movement, values: &[i64], at: u64) {
        let transfer = match m {
            Movement::TransferReceived {
                transfer, lines, ..
            } => {
                let heard = Arrival {
                    at,
                    lines: lines.clone(),
                    values: values.to_vec(),
                };
                let standing = match self.transfers.get(transfer) {
                    None => self.early_arrivals.get(transfer),
                    Some(t) if t.received.is_some() => match self.arrivals.get(transfer) {
                        Some(a) => Some(a),
                        None => return,
                    },
                    Some(_) => None,
                };
                if let Some(standing) = standing {
                    if let Some(at) = heard.disputed_at(standing) {
                        let since = self.disputed.entry(*transfer).or_insert(at);
                        *since = (*since).max(at);
                    }
                    if !heard.replaces(standing) {
                        return;
                    }
                }
                match self.transfers.get_mut(transfer) {
                    None => {
                        self.early_arrivals.insert(*transfer, heard);
                        return;
                    }
                    Some(t) => {
                        if t.received.take().is_some()
                            && let Some(before) = self.arrivals.remove(transfer)
                        {
                            for (location, item, out) in before.taken_back(t.to) {
                                let v = self.levels.entry((location, item)).or_default();
                                v.milli = v.milli.saturating_add(out.milli);
                                v.value = v.value.saturating_add(out.value);
                            }
                        }
                        self.arrivals.insert(*transfer, heard);
                        Some(t.clone())
                    }
                }
            }
            _ => None,
        };
        for (location, item, value) in
            levels_after(m, values, |l, i| self.level(l, i), transfer.as_ref())
        {
            self.levels.insert((location, item), value);
        }
        match m {
            Movement::Received {
                item,
                quantity,
                purchase_order: Some(po),
                ..
            } => {
                if let Some(line) = self
                    .purchase_orders
                    .get_mut(po)
                    .and_then(|po| po.lines.iter_mut().find(|l| l.item == *item))
                {
                    line.received.milli = line.received.milli.saturating_add(quantity.milli);
                }
            }
            Movement::TransferSent { .. } => {
                if let Some(t) = m.sent_transfer() {
                    let id = t.id;
                    self.transfers.insert(id, t);
                    if let Some(arrived) = self.early_arrivals.remove(&id) {
                        self.apply_movement(&arrived.movement(id), &arrived.values, arrived.at);
                    }
                }
            }
            Movement::TransferReceived {
                transfer, lines, ..
            } => {
                if let Some(t) = self.transfers.get_mut(transfer) {
                    t.received = Some(lines.clone());
                }
            }
            Movement::Depleted { order, .. } | Movement::Restored { order, .. } => {
                sale::take(self.sold.entry(*order).or_default(), m);
            }
            Movement::Counted { location, item, .. } => {
                let last = self.counted.entry((*location, *item)).or_insert(at);
                *last = (*last).max(at);
            }
            _ => {}
        }
    }

    /// Transfers whose two arrivals disagree and whose items have not all been counted
    /// at the receiving location since, by id: what a manager still has to check.
    pub fn disputes_open(&self) -> Vec<TransferId> {
        self.disputed
            .iter()
            .filter(|(id, since)| {
                self.transfers.get(id).is_some_and(|t| {
                    t.sent.iter().any(|l| {
                        self.counted
                            .get(&(t.to, l.item))
                            .is_none_or(|counted| counted <= *since)
                    })
                })
            })
            .map(|(id, _)| *id)
            .collect()
    }

    /// What is on its way to `location`: sent to it and not received yet.
    pub fn in_transit(&self, location: LocationId) -> Vec<(StockItemId, Quantity)> {
        let mut out: Vec<(StockItemId, Quantity)> = Vec::new();
        for t in self
            .transfers
            .values()
            .filter(|t| t.to == location && t.received.is_none())
        {
            for l in &t.sent {
                match out.iter_mut().find(|(i, _)| *i == l.item) {
                    Some((_, q)) => q.milli = q.milli.saturating_add(l.quantity.milli),
                    None => out.push((l.item, l.quantity)),
                }
            }
        }
        out
    }
}

/// Where `out` holds (location, item), added from `level` the first time.
fn slot(
    out: &mut Vec<(LocationId, StockItemId, StockValue)>,
    location: LocationId,
    item: StockItemId,
    level: &impl Fn(LocationId, StockItemId) -> StockValue,
) -> usize {
    match out
        .iter()
        .position(|(l, i, _)| *l == location && *i == item)
    {
        Some(at) => at,
        None => {
            out.push((location, item, level(location, item)));
            out.len() - 1
        }
    }
}

/// The levels a movement leaves as stored, from the levels before it (`level`): with the
/// values its node gave it (`values`, one per [`deltas`] entry), each level plus its
/// delta and value, which adds up the same in any order; without (a movement recorded
/// before values were kept), valued here by [`new_levels`]. The stores and the
/// in-memory books both use it.
pub fn levels_after(
    m: &Movement,
    values: &[i64],
    level: impl Fn(LocationId, StockItemId) -> StockValue,
    received_transfer: Option<&Transfer>,
) -> Vec<(LocationId, StockItemId, StockValue)> {
    let moved = deltas(m, |_| received_transfer.map(|t| t.to));
    if values.is_empty() || values.len() != moved.len() {
        return new_levels(m, |l, i| level(l, i).settled(), received_transfer);
    }
    let mut out: Vec<(LocationId, StockItemId, StockValue)> = Vec::new();
    for ((location, item, milli), value) in moved.into_iter().zip(values) {
        let at = slot(&mut out, location, item, &level);
        let v = &mut out[at].2;
        v.milli = v.milli.saturating_add(milli);
        v.value = v.value.saturating_add(*value);
    }
    out
}

/// The values a movement moves, one per [`deltas`] entry, weighed against the levels
/// before it as this node holds them (`level`, settled first): what each level must add
/// to become what [`new_levels`] says. Recorded with the movement, so every node that
/// applies it adds the same.
pub fn value_movement(
    m: &Movement,
    level: impl Fn(LocationId, StockItemId) -> StockValue,
    received_transfer: Option<&Transfer>,
) -> Vec<i64> {
    let after = new_levels(m, |l, i| level(l, i).settled(), received_transfer);
    let mut valued: Vec<(LocationId, StockItemId)> = Vec::new();
    deltas(m, |_| received_transfer.map(|t| t.to))
        .into_iter()
        .map(|(l, i, _)| {
            // A pair listed twice moves its whole change at its first listing.
            if valued.contains(&(l, i)) {
                return 0;
            }
            valued.push((l, i));
            let now = after
                .iter()
                .find(|(al, ai, _)| *al == l && *ai == i)
                .map_or(0, |(_, _, v)| v.value);
            now.saturating_sub(level(l, i).value)
        })
        .collect()
}

/// The levels a movement leaves, for each location and item it touches, from the levels
/// before it (`level`) and, for a transfer's receipt, the transfer as sent: weighted
/// average cost as one node books it. The one place that arithmetic happens: valuing a
/// movement ([`value_movement`]) and applying one that carries no values
/// ([`levels_after`]) both use it.
pub fn new_levels(
    m: &Movement,
    level: impl Fn(LocationId, StockItemId) -> StockValue,
    received_transfer: Option<&Transfer>,
) -> Vec<(LocationId, StockItemId, StockValue)> {
    let mut out: Vec<(LocationId, StockItemId, StockValue)> = Vec::new();
    let mut change = |location: LocationId, item: StockItemId, f: &dyn Fn(&mut StockValue)| {
        let at = slot(&mut out, location, item, &level);
        f(&mut out[at].2);
    };
    match m {
        Movement::Received {
            location,
            item,
            quantity,
            cost,
            ..
        } => change(*location, *item, &|v| v.add(quantity.milli, cost.minor())),
        Movement::Wasted {
            location,
            item,
            quantity,
            ..
        } => change(*location, *item, &|v| {
            v.take(quantity.milli);
        }),
        Movement::Counted {
            location,
            item,
            variance,
            ..
        } => change(*location, *item, &|v| {
            if variance.milli >= 0 {
                v.add_at_average(variance.milli);
            } else {
                v.take(variance.milli.saturating_neg());
            }
        }),
        Movement::TransferSent { from, lines, .. } => {
            for l in lines {
                // The value recorded when it was sent leaves with it.
                change(*from, l.item, &|v| {
                    v.milli = v.milli.saturating_sub(l.quantity.milli);
                    v.value = if v.milli <= 0 {
                        0
                    } else {
                        v.value.saturating_sub(l.value.minor()).max(0)
                    };
                });
            }
        }
        Movement::TransferReceived { lines, .. } => {
            if let Some(t) = received_transfer {
                for (item, quantity) in lines {
                    // What arrived brings the value it left with, in proportion.
                    let value = t.value_arriving(*item, *quantity);
                    change(t.to, *item, &|v| v.add(quantity.milli, value));
                }
            }
        }
        Movement::Depleted {
            location, lines, ..
        } => {
            for (item, quantity) in lines {
                change(*location, *item, &|v| {
                    v.take(quantity.milli);
                });
            }
        }
        Movement::Restored {
            location, lines, ..
        } => {
            for (item, quantity) in lines {
                change(*location, *item, &|v| v.add_at_average(quantity.milli));
            }
        }
    }
    out
}

impl StockBook for Stock {
    fn currency(&self) -> Currency {
        self.currency
    }
    fn location(&self, id: LocationId) -> Option<Location> {
        self.locations.get(&id).cloned()
    }
    fn stock_item(&self, id: StockItemId) -> Option<StockItem> {
        self.items.get(&id).cloned()
    }
    fn supplier(&self, id: SupplierId) -> Option<Supplier> {
        self.suppliers.get(&id).cloned()
    }
    fn level(&self, location: LocationId, item: StockItemId) -> StockValue {
        self.levels
            .get(&(location, item))
            .copied()
            .unwrap_or_default()
    }
    fn transfer(&self, id: TransferId) -> Option<Transfer> {
        self.transfers.get(&id).cloned()
    }
    fn purchase_order(&self, id: PurchaseOrderId) -> Option<PurchaseOrder> {
        self.purchase_orders.get(&id).cloned()
    }
}

/// The level deltas a movement makes, per location and item (transfers: out of the
/// sender when sent, into the receiver when received). A level is the sum of these.
pub fn deltas(
    m: &Movement,
    transfer_to: impl Fn(TransferId) -> Option<LocationId>,
) -> Vec<(LocationId, StockItemId, i64)> {
    match m {
        Movement::Received {
            location,
            item,
            quantity,
            ..
        } => vec![(*location, *item, quantity.milli)],
        Movement::Wasted {
            location,
            item,
            quantity,
            ..
        } => vec![(*location, *item, -quantity.milli)],
        Movement::Counted {
            location,
            item,
            variance,
            ..
        } => vec![(*location, *item, variance.milli)],
        Movement::TransferSent { from, lines, .. } => lines
            .iter()
            .map(|l| (*from, l.item, -l.quantity.milli))
            .collect(),
        Movement::TransferReceived {
            transfer, lines, ..
        } => match transfer_to(*transfer) {
            Some(to) => lines.iter().map(|(i, q)| (to, *i, q.milli)).collect(),
            None => Vec::new(),
        },
        Movement::Depleted {
            location, lines, ..
        } => lines
            .iter()
            .map(|(i, q)| (*location, *i, -q.milli))
            .collect(),
        Movement::Restored {
            location, lines, ..
        } => lines
            .iter()
            .map(|(i, q)| (*location, *i, q.milli))
            .collect(),
    }
}

/// What a portion of `recipe` costs at `location`'s average costs.
pub fn recipe_cost(
    book: &impl StockBook,
    location: LocationId,
    recipe: &Recipe,
) -> Result<Money, InventoryError> {
    food_cost::cost_of(
        book.currency(),
        recipe.ingredients.iter().map(|i| (i.stock, i.quantity)),
        |item| book.level(location, item),
    )
}

/// Food cost as parts per million of the price (0 when the price is zero).
pub fn food_cost_ppm(cost: Money, price: Money) -> u32 {
    if price.minor() <= 0 {
        return 0;
    }
    let ppm = share(cost.minor(), 1_000_000, price.minor());
    u32::try_from(ppm.max(0)).unwrap_or(u32::MAX)
}
