//! The conformance suite every storage backend runs: the same checks of every store
//! operation against SQLite and PostgreSQL, so the node behaves the same on both.
//!
//! A backend's test file implements [`Backend`] and invokes [`conformance_tests!`],
//! which expands to one `#[test]` per check.

// Test code: a step that fails is a failed test, reported with its panic.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use mpos_ledger::{ChainHead, EntryRef, Hlc, NodeKey, SealedEntry, SignedCheckpoint};

use crate::{LedgerItem, LedgerStore, StoreError};

/// A backend under test.
pub trait Backend {
    type Store: LedgerStore;
    /// A new, empty store of its own (no other test sees it).
    fn fresh(&mut self) -> Self::Store;
    /// The last store `fresh` made, opened again: what a restart finds.
    fn reopen(&mut self) -> Self::Store;
}

/// One `#[test]` per check, for the backend `$make` (an expression making a [`Backend`]).
#[macro_export]
macro_rules! conformance_tests {
    ($make:expr) => {
        $crate::conformance_tests!(@each $make;
            a_batch_is_stored_and_the_head_survives_reopening,
            a_batch_that_does_not_continue_the_chain_changes_nothing,
            the_ledger_streams_with_checkpoints_and_witnesses_in_place,
            a_long_ledger_streams_whole_and_in_order,
            each_nodes_ledger_is_its_own,
        );
    };
    (@each $make:expr; $($check:ident),+ $(,)?) => {
        $(
            #[test]
            fn $check() {
                let mut backend = $make;
                $crate::conformance::$check(&mut backend);
            }
        )+
    };
}

fn node_key(n: u8) -> NodeKey {
    NodeKey::from_secret(&[n; 32])
}

/// `n` entries after `chain`'s head, and the checkpoint that closes them.
fn batch(chain: &mut ChainHead, key: &NodeKey, n: u64) -> (Vec<SealedEntry>, SignedCheckpoint) {
    let start = chain.size();
    let entries = (1..=n)
        .map(|i| {
            chain
                .append(
                    Hlc::new(1_000 + start + i, 0),
                    1,
                    format!("payload {}", start + i).as_bytes(),
                )
                .expect("appending to a test chain")
        })
        .collect();
    (
        entries,
        chain.checkpoint(key).expect("signing a test checkpoint"),
    )
}

fn append<S: LedgerStore>(store: &mut S, chain: &mut ChainHead, key: &NodeKey, n: u64) {
    let (entries, cp) = batch(chain, key, n);
    store
        .append_batch(&key.public(), &entries, &cp, chain)
        .expect("appending a batch that continues the chain");
}

/// What `stream_ledger` visits, as "e<seq>" and "c<size>w<witnesses>".
fn streamed<S: LedgerStore>(store: &S, key: &NodeKey) -> Vec<String> {
    let mut seen = Vec::new();
    store
        .stream_ledger(key.node_id(), &mut |item| {
            seen.push(match item {
                LedgerItem::Entry(b) => format!(
                    "e{}",
                    EntryRef::decode(b)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?
                        .seq
                ),
                LedgerItem::Checkpoint(c, w) => format!("c{}w{}", c.checkpoint.tree_size, w.len()),
            });
            Ok(())
        })
        .expect("streaming the ledger");
    seen
}

pub fn a_batch_is_stored_and_the_head_survives_reopening<B: Backend>(backend: &mut B) {
    let key = node_key(1);
    let mut chain = ChainHead::genesis(key.node_id());
    let (entries, cp) = batch(&mut chain, &key, 5);
    {
        let mut store = backend.fresh();
        assert_eq!(store.chain_head(key.node_id()).unwrap(), None);
        assert!(store.latest_checkpoint(key.node_id()).unwrap().is_none());
        store
            .append_batch(&key.public(), &entries, &cp, &chain)
            .unwrap();
    }
    let store = backend.reopen();
    assert_eq!(
        store.chain_head(key.node_id()).unwrap(),
        Some(chain.clone())
    );
    assert_eq!(store.node_keys().unwrap(), vec![key.public()]);
    let latest = store.latest_checkpoint(key.node_id()).unwrap().unwrap();
    assert_eq!(latest.checkpoint.tree_size, 5);
    assert_eq!(store.checkpoint_at(key.node_id(), 5).unwrap(), Some(latest));
    assert_eq!(store.checkpoint_at(key.node_id(), 4).unwrap(), None);
    assert_eq!(
        store.entry(key.node_id(), 3).unwrap(),
        Some(entries[2].bytes.clone())
    );
    assert_eq!(store.entry(key.node_id(), 6).unwrap(), None);
    assert_eq!(store.range_root(key.node_id(), 0, 5).unwrap(), chain.root());
    // A range with entries missing is an error, never a root of what happens to be there.
    assert!(matches!(
        store.range_root(key.node_id(), 0, 6),
        Err(StoreError::Corrupt(_))
    ));
}

pub fn a_batch_that_does_not_continue_the_chain_changes_nothing<B: Backend>(backend: &mut B) {
    let mut store = backend.fresh();
    let key = node_key(1);
    let mut chain = ChainHead::genesis(key.node_id());
    let (entries, cp) = batch(&mut chain, &key, 3);
    store
        .append_batch(&key.public(), &entries, &cp, &chain)
        .unwrap();
    // Replaying the same batch (a stale writer) is refused whole.
    let err = store
        .append_batch(&key.public(), &entries, &cp, &chain)
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    // So is a batch that skips ahead.
    let mut ahead = chain.clone();
    let _skipped = batch(&mut ahead, &key, 2);
    let (entries, cp) = batch(&mut ahead, &key, 2);
    let err = store
        .append_batch(&key.public(), &entries, &cp, &ahead)
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    assert_eq!(streamed(&store, &key), ["e1", "e2", "e3", "c3w0"]);
    assert_eq!(store.chain_head(key.node_id()).unwrap(), Some(chain));
}

pub fn the_ledger_streams_with_checkpoints_and_witnesses_in_place<B: Backend>(backend: &mut B) {
    let mut store = backend.fresh();
    let key = node_key(1);
    let mut chain = ChainHead::genesis(key.node_id());
    for n in [2, 3] {
        append(&mut store, &mut chain, &key, n);
    }
    let cp = store.checkpoint_at(key.node_id(), 5).unwrap().unwrap();
    let (w1, w2) = (cp.witness(&node_key(2)), cp.witness(&node_key(3)));
    store.add_witness(key.node_id(), 5, &w1).unwrap();
    store.add_witness(key.node_id(), 5, &w2).unwrap();
    // The same countersignature again is no new witness.
    store.add_witness(key.node_id(), 5, &w1).unwrap();
    assert_eq!(
        streamed(&store, &key),
        ["e1", "e2", "c2w0", "e3", "e4", "e5", "c5w2"]
    );
    let mut witnesses = Vec::new();
    store
        .stream_ledger(key.node_id(), &mut |item| {
            if let LedgerItem::Checkpoint(_, w) = item {
                witnesses.extend(w);
            }
            Ok(())
        })
        .unwrap();
    let mut expected = vec![w1, w2];
    expected.sort_by_key(|w| w.witness.0);
    assert_eq!(witnesses, expected);
}

/// Longer than any backend reads at once: the stream pages through it without losing
/// its place among entries and checkpoints.
pub fn a_long_ledger_streams_whole_and_in_order<B: Backend>(backend: &mut B) {
    let mut store = backend.fresh();
    let key = node_key(1);
    let mut chain = ChainHead::genesis(key.node_id());
    for n in [1, 1_499, 1, 999, 700] {
        append(&mut store, &mut chain, &key, n);
    }
    let seen = streamed(&store, &key);
    let mut expected = Vec::new();
    let mut seq = 0;
    for n in [1, 1_499, 1, 999, 700] {
        for _ in 0..n {
            seq += 1;
            expected.push(format!("e{seq}"));
        }
        expected.push(format!("c{seq}w0"));
    }
    assert_eq!(seen, expected);
    assert_eq!(
        store.range_root(key.node_id(), 0, seq).unwrap(),
        chain.root()
    );
    assert_eq!(
        store
            .range_root(key.node_id(), 1_500, 1_501)
            .unwrap()
            .0
            .len(),
        32
    );
}

pub fn each_nodes_ledger_is_its_own<B: Backend>(backend: &mut B) {
    let mut store = backend.fresh();
    let (a, b) = (node_key(1), node_key(2));
    let (mut chain_a, mut chain_b) = (
        ChainHead::genesis(a.node_id()),
        ChainHead::genesis(b.node_id()),
    );
    append(&mut store, &mut chain_a, &a, 3);
    append(&mut store, &mut chain_b, &b, 2);
    append(&mut store, &mut chain_a, &a, 1);
    let mut keys = store.node_keys().unwrap();
    let mut expected = vec![a.public(), b.public()];
    keys.sort_by_key(|k| k.node_id().0);
    expected.sort_by_key(|k| k.node_id().0);
    assert_eq!(keys, expected);
    assert_eq!(store.chain_head(a.node_id()).unwrap(), Some(chain_a));
    assert_eq!(store.chain_head(b.node_id()).unwrap(), Some(chain_b));
    assert_eq!(
        streamed(&store, &a),
        ["e1", "e2", "e3", "c3w0", "e4", "c4w0"]
    );
    assert_eq!(streamed(&store, &b), ["e1", "e2", "c2w0"]);
}

// ---------------------------------------------------------------------------------------
// The point of sale's projections (backends that implement `PosStore`).

use mpos_domain::catalog::{Channel, ChosenModifier, PricedSelection};
use mpos_domain::ids::{
    CategoryId, DiscountId, ItemId, LineId, ModifierId, OrderId, PaymentId, StaffId, StationId,
    TableId, VariantId,
};
use mpos_domain::order::{
    Command, DiscountKind, DiscountTarget, Order, OrderEvent, OrderKind, Source, Tender,
};
use mpos_domain::staff::{Actor, Role};
use mpos_domain::{Currency, Money, PriceMode, TaxRate};

use crate::{AppliedRequest, LedgerBatch, OrderUpdate, PosStore, Projection};

/// One `#[test]` per check of the point of sale's projections, for a backend whose store
/// implements `PosStore`.
#[macro_export]
macro_rules! pos_conformance_tests {
    ($make:expr) => {
        $crate::conformance_tests!(@each $make;
            an_order_is_stored_whole_through_its_life,
            orders_list_newest_first_by_number_and_page_without_gaps,
        );
    };
}

const MANAGER: Actor = Actor {
    staff: StaffId(2),
    role: Role::Manager,
};

fn eur(minor: i64) -> Money {
    Money::new(
        minor,
        Currency::from_code("EUR").expect("EUR is a currency"),
    )
}

/// A node's writer in miniature: decides and applies commands, and commits each batch
/// of them with a ledger batch that continues the chain.
struct Till {
    key: NodeKey,
    chain: ChainHead,
    request: u128,
    at: u64,
}

impl Till {
    fn new() -> Till {
        let key = node_key(9);
        Till {
            chain: ChainHead::genesis(key.node_id()),
            key,
            request: 0,
            at: 1_764_000_000_000,
        }
    }

    /// The next ledger batch: `n` entries and the checkpoint that closes them.
    fn ledger(&mut self, n: u64) -> LedgerBatch {
        let (entries, checkpoint) = batch(&mut self.chain, &self.key, n);
        LedgerBatch {
            key: self.key.public(),
            entries,
            checkpoint,
            head: self.chain.clone(),
        }
    }

    /// Runs `commands` on `order` (none: a new order `id`) and commits the result with
    /// `receipts`; returns the order as it now is.
    fn commit<S: PosStore>(
        &mut self,
        store: &mut S,
        id: OrderId,
        order: Option<Order>,
        commands: Vec<Command>,
        receipts: Vec<(OrderId, String)>,
    ) -> Order {
        let before = order.clone();
        let mut now = order;
        for command in &commands {
            self.at += 1_000;
            for change in mpos_domain::order::decide(now.as_ref(), command, MANAGER).unwrap() {
                let event = OrderEvent {
                    order: id,
                    by: MANAGER.staff,
                    at: self.at,
                    change,
                };
                now = mpos_domain::order::apply(now.take(), &event);
            }
        }
        let after = now.expect("the commands made an order");
        let ledger = self.ledger(commands.len() as u64);
        self.request += 1;
        let request = AppliedRequest {
            request: self.request,
            order: Some(id),
            node: self.key.node_id(),
            first_seq: ledger.entries[0].seq,
            last_seq: self.chain.size(),
            action: format!("test {}", self.request),
        };
        let projection = Projection {
            orders: vec![OrderUpdate {
                before: before.as_ref(),
                after: &after,
            }],
            receipts,
            ..Projection::default()
        };
        store.commit(&ledger, &projection, &[request]).unwrap();
        after
    }
}

fn open_command(number: &str, table: Option<TableId>) -> Command {
    Command::Open {
        number: number.into(),
        channel: if table.is_some() {
            Channel::Table
        } else {
            Channel::Counter
        },
        kind: match table {
            Some(t) => OrderKind::DineIn {
                table: Some(t),
                guests: 2,
            },
            None => OrderKind::Takeaway,
        },
        source: Source::Register,
        currency: Currency::from_code("EUR").unwrap(),
        mode: PriceMode::Inclusive,
    }
}

fn dish(item: u128, name: &str, price: i64, station: Option<StationId>) -> PricedSelection {
    PricedSelection {
        item: ItemId(item),
        name: name.into(),
        variant: None,
        modifiers: vec![],
        quantity: 1,
        unit_price: eur(price),
        tax_rates: vec![TaxRate::from_ppm(70_000)],
        category: CategoryId(1),
        station,
    }
}

pub fn an_order_is_stored_whole_through_its_life<B: Backend>(backend: &mut B)
where
    B::Store: PosStore,
{
    let mut store = backend.fresh();
    let mut till = Till::new();
    let id = OrderId(0x0193_0000_0000_7000_8000_0000_0000_0001);
    let grill = Some(StationId(2));
    let steak = PricedSelection {
        variant: Some((VariantId(11), "Large".into())),
        modifiers: vec![
            ChosenModifier {
                id: ModifierId(12),
                name: "Pepper sauce".into(),
                price_delta: eur(250),
            },
            ChosenModifier {
                id: ModifierId(13),
                name: "Fries".into(),
                price_delta: eur(0),
            },
        ],
        quantity: 2,
        tax_rates: vec![TaxRate::from_ppm(70_000), TaxRate::from_ppm(10_000)],
        ..dish(10, "Steak", 2_450, grill)
    };
    let opened = till.commit(
        &mut store,
        id,
        None,
        vec![
            open_command("T5-0001", Some(TableId(5))),
            Command::AddLine {
                line: LineId(1),
                item: steak,
                seat: Some(1),
                course: 2,
                note: "medium rare".into(),
            },
            Command::AddLine {
                line: LineId(2),
                item: dish(20, "Soup", 790, grill),
                seat: None,
                course: 1,
                note: String::new(),
            },
            Command::AddLine {
                line: LineId(3),
                item: dish(30, "Lemonade", 350, None),
                seat: Some(2),
                course: 1,
                note: String::new(),
            },
        ],
        vec![],
    );
    assert_eq!(store.load_order(id).unwrap().as_ref(), Some(&opened));
    assert_eq!(store.open_orders().unwrap(), vec![opened.clone()]);
    assert!(
        store.kitchen_orders(0).unwrap().is_empty(),
        "nothing sent yet"
    );

    let sent = till.commit(
        &mut store,
        id,
        Some(opened),
        vec![
            Command::Send { lines: vec![] },
            Command::FireCourse { course: 2 },
            Command::VoidLine {
                line: LineId(3),
                reason: "changed their mind".into(),
            },
            Command::Bump {
                lines: vec![LineId(2)],
            },
            Command::ApplyDiscount {
                discount: DiscountId(40),
                target: DiscountTarget::Order,
                kind: DiscountKind::Percent(100_000),
                reason: "regulars".into(),
            },
            Command::ApplyDiscount {
                discount: DiscountId(41),
                target: DiscountTarget::Line(LineId(2)),
                kind: DiscountKind::Amount(eur(90)),
                reason: "cold".into(),
            },
            Command::SetServiceCharge { ppm: 50_000 },
        ],
        vec![],
    );
    assert_eq!(store.load_order(id).unwrap().as_ref(), Some(&sent));
    assert_eq!(store.kitchen_orders(0).unwrap(), vec![sent.clone()]);

    let total = sent.totals().unwrap().total;
    let cash = eur(2_000);
    let closed = till.commit(
        &mut store,
        id,
        Some(sent),
        vec![
            Command::TakePayment {
                payment: PaymentId(50),
                tender: Tender::Cash,
                amount: cash,
                tip: eur(150),
                cash_received: Some(eur(5_000)),
                drawer: None,
            },
            Command::TakePayment {
                payment: PaymentId(51),
                tender: Tender::Card {
                    reference: "AUTH-77".into(),
                },
                amount: total.checked_sub(cash).unwrap(),
                tip: eur(0),
                cash_received: None,
                drawer: None,
            },
        ],
        vec![(id, "MPOS1-RECEIPT-CODE".into())],
    );
    assert_eq!(store.load_order(id).unwrap().as_ref(), Some(&closed));
    assert!(closed.closed_at.is_some());
    assert!(store.open_orders().unwrap().is_empty());
    assert_eq!(
        store.receipt_code(id).unwrap().as_deref(),
        Some("MPOS1-RECEIPT-CODE")
    );
    let closed_at = closed.closed_at.unwrap();
    assert_eq!(
        store
            .closed_order_ids(closed_at, closed_at + 1, 10)
            .unwrap(),
        vec![id]
    );
    assert!(store.closed_order_ids(0, closed_at, 10).unwrap().is_empty());

    let refunded = till.commit(
        &mut store,
        id,
        Some(closed),
        vec![Command::Refund {
            payment: PaymentId(51),
            amount: eur(500),
            reason: "overcharged".into(),
            drawer: None,
        }],
        vec![],
    );
    let stored = store.load_order(id).unwrap();
    assert_eq!(stored.as_ref(), Some(&refunded));

    // Every request is remembered with the entries it wrote, and all of it survives a
    // restart.
    let first = store.applied_request(1).unwrap().unwrap();
    assert_eq!(
        (first.order, first.first_seq, first.last_seq),
        (Some(id), 1, 4)
    );
    assert_eq!(store.applied_request(99).unwrap(), None);
    drop(store);
    let store = backend.reopen();
    assert_eq!(store.load_order(id).unwrap(), stored);
    assert_eq!(store.applied_request(4).unwrap().unwrap().action, "test 4");
}

pub fn orders_list_newest_first_by_number_and_page_without_gaps<B: Backend>(backend: &mut B)
where
    B::Store: PosStore,
{
    let mut store = backend.fresh();
    let mut till = Till::new();
    let mut ids = Vec::new();
    for (n, number) in ["C-a1", "T5-b2", "c-A3", "T6-c4", "C-a5"]
        .iter()
        .enumerate()
    {
        let id = OrderId(0x0193_0000_0000_7000_8000_0000_0000_0100 + n as u128);
        till.commit(
            &mut store,
            id,
            None,
            vec![open_command(number, None)],
            vec![],
        );
        ids.push(id);
    }
    let numbers = |orders: Vec<Order>| orders.into_iter().map(|o| o.number).collect::<Vec<_>>();
    assert_eq!(
        numbers(store.recent_orders(None, "", 10).unwrap()),
        ["C-a5", "T6-c4", "c-A3", "T5-b2", "C-a1"]
    );
    // A number prefix, ASCII case ignored; a wildcard in it is a plain character.
    assert_eq!(
        numbers(store.recent_orders(None, "c-a", 10).unwrap()),
        ["C-a5", "c-A3", "C-a1"]
    );
    assert!(store.recent_orders(None, "C-%", 10).unwrap().is_empty());
    assert!(store.recent_orders(None, "C_", 10).unwrap().is_empty());
    // Pages of two follow on from the last order shown.
    let page = store.recent_orders(None, "", 2).unwrap();
    let last = page.last().unwrap();
    let next = store
        .recent_orders(Some((last.opened_at, last.id)), "", 2)
        .unwrap();
    assert_eq!(numbers(next), ["c-A3", "T5-b2"]);
}

// ---------------------------------------------------------------------------------------
// Inventory's projections (backends whose store also implements `InventoryStore`).

use mpos_domain::ids::{LocationId, PurchaseOrderId, StockItemId, SupplierId, TransferId};
use mpos_domain::inventory::{
    Ingredient, InventoryChange, InventoryCommand, InventoryEvent, Movement, Quantity, Recipe,
    RecipeFor, Stock, StockBook, StockItem, Supplier, Unit,
};

use crate::InventoryStore;

/// One `#[test]` per check of inventory's projections.
#[macro_export]
macro_rules! inventory_conformance_tests {
    ($make:expr) => {
        $crate::conformance_tests!(@each $make;
            inventory_projections_match_the_domains_books,
        );
    };
}

/// A small deterministic generator (xorshift), so a failure replays exactly.
struct Dice(u64);

impl Dice {
    fn roll(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Checks that everything the store holds equals the domain's books.
fn same_books<S: InventoryStore>(store: &S, books: &Stock) {
    let mut items: Vec<StockItem> = books.items.values().cloned().collect();
    items.sort_by(|a, b| (&a.name, a.id).cmp(&(&b.name, b.id)));
    assert_eq!(store.stock_items().unwrap(), items);
    for s in books.suppliers.values() {
        assert_eq!(store.supplier(s.id).unwrap().as_ref(), Some(s));
    }
    let levels: Vec<_> = books
        .levels
        .iter()
        .map(|((l, i), v)| (*l, *i, *v))
        .collect();
    assert_eq!(store.stock_levels(None).unwrap(), levels);
    for ((l, i), v) in &books.levels {
        assert_eq!(store.stock_level(*l, *i).unwrap(), *v);
    }
    for ((l, i), q) in &books.par {
        assert_eq!(store.par_level(*l, *i).unwrap(), Some(*q));
    }
    for (target, r) in &books.recipes {
        assert_eq!(store.recipe(*target).unwrap().as_ref(), Some(r));
    }
    for t in books.transfers.values() {
        assert_eq!(store.transfer(t.id).unwrap().as_ref(), Some(t));
    }
    for po in books.purchase_orders.values() {
        assert_eq!(store.purchase_order(po.id).unwrap().as_ref(), Some(po));
    }
}

pub fn inventory_projections_match_the_domains_books<B: Backend>(backend: &mut B)
where
    B::Store: PosStore + InventoryStore,
{
    let eur_code = Currency::from_code("EUR").unwrap();
    let locations = [LocationId(1), LocationId(2), LocationId(3)];
    let units = [Unit::Kilogram, Unit::Litre, Unit::Each];
    // Which kinds of rows the walks reached: a check that compared empty books would
    // prove nothing.
    let mut reached = [false; 5];
    for seed in [1_u64, 7, 42, 1_000_003] {
        let mut store = backend.fresh();
        let mut till = Till::new();
        let mut books = Stock::new(eur_code);
        let mut dice = Dice(seed);
        let mut pending: Vec<InventoryEvent> = Vec::new();
        let mut commands: Vec<InventoryCommand> = units
            .iter()
            .enumerate()
            .map(|(n, unit)| {
                InventoryCommand::PutStockItem(StockItem {
                    id: StockItemId(100 + n as u128),
                    name: format!("Stock {}", 3 - n),
                    unit: *unit,
                    active: true,
                })
            })
            .collect();
        commands.push(InventoryCommand::PutSupplier(Supplier {
            id: SupplierId(200),
            name: "Old Mill".into(),
            contact: String::new(),
        }));
        for command in std::mem::take(&mut commands) {
            for change in mpos_domain::inventory::decide(&books, MANAGER, &command).unwrap() {
                books.apply(&change);
                pending.push(InventoryEvent {
                    by: MANAGER.staff,
                    at: 1_764_000_000_000,
                    change,
                });
            }
        }
        for step in 0..160_u64 {
            let n = dice.roll(3) as usize;
            let item = StockItemId(100 + n as u128);
            let amount = |d: &mut Dice| Quantity {
                dimension: units[n].dimension(),
                milli: 1 + d.roll(5_000_000) as i64,
            };
            let location = locations[dice.roll(3) as usize];
            let other = locations[dice.roll(3) as usize];
            let command = match dice.roll(11) {
                0 | 1 => {
                    // Half the time against a purchase order that was sent, for its
                    // location and item.
                    let sent: Vec<_> = books
                        .purchase_orders
                        .values()
                        .filter(|po| po.sent)
                        .collect();
                    let against = match sent.len() as u64 {
                        0 => None,
                        n if dice.roll(2) == 0 => Some(sent[dice.roll(n) as usize]),
                        _ => None,
                    };
                    let (location, item, n) = match against {
                        Some(po) => {
                            let item = po.lines[0].item;
                            (po.location, item, (item.0 - 100) as usize)
                        }
                        None => (location, item, n),
                    };
                    InventoryCommand::Receive {
                        location,
                        item,
                        quantity: Quantity {
                            dimension: units[n].dimension(),
                            milli: 1 + dice.roll(5_000_000) as i64,
                        },
                        cost: eur(dice.roll(10_000) as i64),
                        supplier: Some(SupplierId(200)),
                        lot: format!("L{step}"),
                        purchase_order: against.map(|po| po.id),
                    }
                }
                2 => InventoryCommand::Waste {
                    location,
                    item,
                    quantity: amount(&mut dice),
                    reason: "spoilt".into(),
                },
                3 => InventoryCommand::Count {
                    location,
                    item,
                    counted: amount(&mut dice),
                },
                4 => InventoryCommand::SendTransfer {
                    transfer: TransferId(400 + step as u128),
                    from: location,
                    to: other,
                    lines: vec![(item, amount(&mut dice))],
                },
                5 => {
                    // Mostly one in transit; now and then a made-up one (refused).
                    let open: Vec<TransferId> = books
                        .transfers
                        .values()
                        .filter(|t| t.received.is_none())
                        .map(|t| t.id)
                        .collect();
                    let transfer = match open.len() as u64 {
                        0 => TransferId(999),
                        n => open[dice.roll(n) as usize],
                    };
                    let sent = books.transfer(transfer).map_or(item, |t| t.sent[0].item);
                    InventoryCommand::ReceiveTransfer {
                        transfer,
                        lines: vec![(sent, amount(&mut dice))],
                        note: "counted on arrival".into(),
                    }
                }
                6 => InventoryCommand::DraftPurchaseOrder {
                    po: PurchaseOrderId(300 + dice.roll(4) as u128),
                    supplier: SupplierId(200),
                    location,
                    lines: vec![(item, amount(&mut dice), eur(dice.roll(50_000) as i64))],
                },
                7 => {
                    InventoryCommand::SendPurchaseOrder(PurchaseOrderId(300 + dice.roll(4) as u128))
                }
                8 => InventoryCommand::SetPar {
                    location,
                    item,
                    level: (dice.roll(3) != 0).then(|| amount(&mut dice)),
                },
                9 => InventoryCommand::PutRecipe(Recipe {
                    target: RecipeFor::Item(ItemId(dice.roll(3) as u128)),
                    ingredients: (0..dice.roll(3))
                        .map(|_| Ingredient {
                            stock: item,
                            quantity: amount(&mut dice),
                        })
                        .collect(),
                }),
                _ => {
                    // A sale, or a void giving it back: movements the node makes itself.
                    let lines = vec![(item, amount(&mut dice))];
                    let order = OrderId(u128::from(step));
                    let m = if dice.roll(2) == 0 {
                        Movement::Depleted {
                            location,
                            order,
                            lines,
                        }
                    } else {
                        Movement::Restored {
                            location,
                            order,
                            lines,
                        }
                    };
                    let e = InventoryEvent {
                        by: MANAGER.staff,
                        at: 1_764_000_000_000 + step,
                        change: InventoryChange::Moved(m),
                    };
                    books.apply(&e.change);
                    pending.push(e);
                    let now = dice.roll(4) == 0;
                    commit_inventory(&mut store, &mut till, &mut pending, now);
                    continue;
                }
            };
            commands.push(command);
            // Decided in order against the books as they stand (every event so far
            // applied, committed or not); what is refused is dropped.
            for command in std::mem::take(&mut commands) {
                let Ok(changes) = mpos_domain::inventory::decide(&books, MANAGER, &command) else {
                    continue;
                };
                for change in changes {
                    books.apply(&change);
                    pending.push(InventoryEvent {
                        by: MANAGER.staff,
                        at: 1_764_000_000_000 + step,
                        change,
                    });
                }
            }
            let now = dice.roll(4) == 0;
            commit_inventory(&mut store, &mut till, &mut pending, now);
        }
        commit_inventory(&mut store, &mut till, &mut pending, true);
        reached[0] |= books.levels.len() >= 6;
        reached[1] |= books.transfers.values().any(|t| t.received.is_some());
        reached[2] |= books.transfers.values().any(|t| t.received.is_none());
        reached[3] |= books
            .purchase_orders
            .values()
            .any(|po| po.lines.iter().any(|l| l.received.milli > 0));
        reached[4] |= !books.recipes.is_empty() && !books.par.is_empty();
        same_books(&store, &books);
        drop(store);
        let store = backend.reopen();
        same_books(&store, &books);
    }
    assert_eq!(
        reached, [true; 5],
        "levels, received transfers, goods in transit, receipts against orders, recipes and pars"
    );
}

/// Commits the pending inventory events as one batch when `now` (or leaves them to
/// gather into a larger batch: a batch may hold several changes to one level).
fn commit_inventory<S: PosStore>(
    store: &mut S,
    till: &mut Till,
    pending: &mut Vec<InventoryEvent>,
    now: bool,
) {
    if pending.is_empty() || !now {
        return;
    }
    let events = std::mem::take(pending);
    let ledger = till.ledger(events.len() as u64);
    let projection = Projection {
        inventory: events.iter().collect(),
        ..Projection::default()
    };
    store.commit(&ledger, &projection, &[]).unwrap();
}
