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
            orders_and_drawers_are_listed_by_their_location,
            a_peers_batches_commit_as_a_replica_all_or_nothing,
            items_86d_and_lines_sold_while_86d_read_back,
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
        Till::of(9)
    }

    /// The till of node `n` (see `node_key`).
    fn of(n: u8) -> Till {
        let key = node_key(n);
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
        location: None,
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

pub fn a_peers_batches_commit_as_a_replica_all_or_nothing<B: Backend>(backend: &mut B)
where
    B::Store: PosStore,
{
    let mut store = backend.fresh();
    // This store's own node has written something already.
    let mut own = Till::new();
    let first = own.ledger(2);
    store
        .commit(&first, &Projection::default(), &[])
        .expect("the store's own batch");

    let mut peer = Till::of(5);
    let node = peer.key.node_id();
    let id = OrderId(0x0193_0000_0000_7000_8000_0000_0000_0501);
    let event = OrderEvent {
        order: id,
        by: MANAGER.staff,
        at: peer.at,
        change: mpos_domain::order::decide(None, &open_command("P5-0001", None), MANAGER)
            .unwrap()
            .remove(0),
    };
    let opened = mpos_domain::order::apply(None, &event).unwrap();
    let (a, b, c) = (peer.ledger(2), peer.ledger(1), peer.ledger(3));
    let with_order = Projection {
        orders: vec![OrderUpdate {
            before: None,
            after: &opened,
        }],
        ..Projection::default()
    };

    // A batch that skips one of the peer's: refused, nothing written.
    assert!(matches!(
        store.commit_replica(&[a.clone(), c.clone()], &with_order),
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.chain_head(node).unwrap(), None);
    assert_eq!(store.load_order(id).unwrap(), None);
    // Batches of two nodes in one replicated commit: refused.
    let mut other = Till::of(6);
    assert!(
        store
            .commit_replica(&[a.clone(), other.ledger(1)], &with_order)
            .is_err()
    );
    assert_eq!(store.chain_head(node).unwrap(), None);

    store
        .commit_replica(&[a.clone(), b.clone()], &with_order)
        .unwrap();
    drop(store);
    let mut store = backend.reopen();
    assert_eq!(store.chain_head(node).unwrap(), Some(b.head.clone()));
    assert_eq!(store.load_order(id).unwrap(), Some(opened.clone()));
    assert_eq!(
        store.chain_head(own.key.node_id()).unwrap(),
        Some(first.head.clone()),
        "the store's own chain is untouched"
    );
    // Replaying what is held is refused too: it does not continue the chain.
    assert!(matches!(
        store.commit_replica(std::slice::from_ref(&b), &Projection::default()),
        Err(StoreError::Conflict(_))
    ));
    store
        .commit_replica(std::slice::from_ref(&c), &Projection::default())
        .unwrap();

    // What a peer holding `after` entries lacks, batch by batch.
    let sizes = |after, limit| {
        store
            .checkpoints_after(node, after, limit)
            .unwrap()
            .into_iter()
            .map(|cp| cp.checkpoint.tree_size)
            .collect::<Vec<_>>()
    };
    assert_eq!(sizes(0, 10), vec![2, 3, 6]);
    assert_eq!(sizes(2, 10), vec![3, 6]);
    assert_eq!(sizes(2, 1), vec![3]);
    assert_eq!(sizes(6, 10), Vec::<u64>::new());
    assert_eq!(
        store.checkpoints_after(node, 0, 10).unwrap()[2],
        c.checkpoint
    );
    let mut keys = store.node_keys().unwrap();
    keys.sort_by_key(|k| k.node_id());
    let mut expected = vec![own.key.public(), peer.key.public()];
    expected.sort_by_key(|k| k.node_id());
    assert_eq!(keys, expected);
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
    assert_eq!(store.open_orders(None).unwrap(), vec![opened.clone()]);
    assert!(
        store.kitchen_orders(None, 0).unwrap().is_empty(),
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
    assert_eq!(store.kitchen_orders(None, 0).unwrap(), vec![sent.clone()]);

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
    assert!(store.open_orders(None).unwrap().is_empty());
    assert_eq!(
        store.receipt_code(id).unwrap().as_deref(),
        Some("MPOS1-RECEIPT-CODE")
    );
    let closed_at = closed.closed_at.unwrap();
    assert_eq!(
        store
            .closed_order_ids(None, closed_at, closed_at + 1, 10)
            .unwrap(),
        vec![id]
    );
    assert!(
        store
            .closed_order_ids(None, 0, closed_at, 10)
            .unwrap()
            .is_empty()
    );

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
    assert_eq!(store.closed_without_receipt(10).unwrap(), vec![]);

    // An order closed without its code (closed on another node, the code not taken from
    // a peer yet) is listed until the code comes.
    let other = OrderId(0x0193_0000_0000_7000_8000_0000_0000_0002);
    let opened = till.commit(
        &mut store,
        other,
        None,
        vec![
            open_command("T6-0001", Some(TableId(6))),
            Command::AddLine {
                line: LineId(7),
                item: dish(30, "Lemonade", 350, None),
                seat: None,
                course: 1,
                note: String::new(),
            },
        ],
        vec![],
    );
    let due = opened.totals().unwrap().total;
    till.commit(
        &mut store,
        other,
        Some(opened),
        vec![Command::TakePayment {
            payment: PaymentId(70),
            tender: Tender::Card {
                reference: "AUTH-78".into(),
            },
            amount: due,
            tip: eur(0),
            cash_received: None,
            drawer: None,
        }],
        vec![],
    );
    assert_eq!(store.closed_without_receipt(10).unwrap(), vec![other]);
    assert_eq!(store.closed_without_receipt(0).unwrap(), vec![]);
    store
        .save_receipts(&[(other, "MPOS1-OTHER-CODE".into())])
        .unwrap();
    assert_eq!(store.closed_without_receipt(10).unwrap(), vec![]);

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
        numbers(store.recent_orders(None, None, "", 10).unwrap()),
        ["C-a5", "T6-c4", "c-A3", "T5-b2", "C-a1"]
    );
    // A number prefix, ASCII case ignored; a wildcard in it is a plain character.
    assert_eq!(
        numbers(store.recent_orders(None, None, "c-a", 10).unwrap()),
        ["C-a5", "c-A3", "C-a1"]
    );
    assert!(
        store
            .recent_orders(None, None, "C-%", 10)
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .recent_orders(None, None, "C_", 10)
            .unwrap()
            .is_empty()
    );
    // Pages of two follow on from the last order shown.
    let page = store.recent_orders(None, None, "", 2).unwrap();
    let last = page.last().unwrap();
    let next = store
        .recent_orders(None, Some((last.opened_at, last.id)), "", 2)
        .unwrap();
    assert_eq!(numbers(next), ["c-A3", "T5-b2"]);
}

// ---------------------------------------------------------------------------------------
// Inventory's projections (backends whose store also implements `InventoryStore`).

use mpos_domain::ids::{LocationId, PurchaseOrderId, StockItemId, SupplierId, TransferId};
use mpos_domain::inventory::{
    Depletion, Ingredient, InventoryChange, InventoryCommand, InventoryEvent, Location, Movement,
    Quantity, Recipe, RecipeFor, SalesStock, Stock, StockBook, StockItem, StockValue, Supplier,
    Unit, deltas, levels_after, value_movement,
};

use crate::{InventoryStore, ReportLevel, StockUsage, StockWanted};

/// One `#[test]` per check of inventory's projections.
#[macro_export]
macro_rules! inventory_conformance_tests {
    ($make:expr) => {
        $crate::conformance_tests!(@each $make;
            inventory_projections_match_the_domains_books,
            a_transfer_that_arrives_before_it_was_sent_comes_in_with_its_sending,
            two_arrivals_of_one_transfer_recorded_apart_settle_alike_in_any_order,
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
    // The report: levels and par levels side by side, for all locations and for each.
    let mut report: std::collections::BTreeMap<(LocationId, StockItemId), ReportLevel> = books
        .levels
        .iter()
        .map(|((l, i), v)| {
            let line = ReportLevel {
                location: *l,
                item: *i,
                level: *v,
                par: books.par.get(&(*l, *i)).copied(),
            };
            ((*l, *i), line)
        })
        .collect();
    for ((l, i), q) in &books.par {
        report.entry((*l, *i)).or_insert(ReportLevel {
            location: *l,
            item: *i,
            level: StockValue::default(),
            par: Some(*q),
        });
    }
    let sorted = |mut lines: Vec<ReportLevel>| {
        lines.sort_by_key(|r| (r.location, r.item));
        lines
    };
    assert_eq!(
        sorted(store.stock_report(None).unwrap()),
        report.values().copied().collect::<Vec<_>>()
    );
    for l in books.locations.keys() {
        assert_eq!(
            sorted(store.stock_report(Some(*l)).unwrap()),
            report
                .values()
                .filter(|r| r.location == *l)
                .copied()
                .collect::<Vec<_>>()
        );
    }
    for ((l, i), v) in &books.levels {
        assert_eq!(store.stock_level(*l, *i).unwrap(), *v);
    }
    for ((l, i), q) in &books.par {
        assert_eq!(store.par_level(*l, *i).unwrap(), Some(*q));
    }
    for (target, r) in &books.recipes {
        assert_eq!(store.recipe(*target).unwrap().as_ref(), Some(r));
    }
    let recipes: Vec<Recipe> = books.recipes.values().cloned().collect();
    assert_eq!(store.recipes().unwrap(), recipes);
    for t in books.transfers.values() {
        assert_eq!(store.transfer(t.id).unwrap().as_ref(), Some(t));
    }
    for po in books.purchase_orders.values() {
        assert_eq!(store.purchase_order(po.id).unwrap().as_ref(), Some(po));
    }
    let mut locations: Vec<Location> = books.locations.values().cloned().collect();
    locations.sort_by(|a, b| (&a.name, a.id).cmp(&(&b.name, b.id)));
    assert_eq!(store.locations().unwrap(), locations);
    for l in &locations {
        assert_eq!(store.location(l.id).unwrap().as_ref(), Some(l));
    }
    // The walk's till (`Till::new`) recorded where it sells; no other node did.
    assert_eq!(
        store.sales_stock(node_key(9).node_id()).unwrap(),
        books.sales
    );
    assert_eq!(store.sales_stock(node_key(8).node_id()).unwrap(), None);
    for (order, taken) in &books.sold {
        let mut held: Vec<_> = taken
            .iter()
            .filter(|(_, _, q)| q.milli != 0)
            .cloned()
            .collect();
        held.sort_by_key(|(l, i, _)| (*l, *i));
        assert_eq!(store.order_stock(*order).unwrap(), held, "{order}");
    }
    // All at once: the same, and an order that holds nothing is there, empty.
    let mut orders: Vec<OrderId> = books.sold.keys().copied().collect();
    orders.push(OrderId(0xdead));
    let at_once = store.orders_stock(&orders).unwrap();
    assert_eq!(at_once.len(), orders.len());
    for order in &orders {
        assert_eq!(
            at_once[order],
            store.order_stock(*order).unwrap(),
            "{order}"
        );
    }
    assert!(at_once[&OrderId(0xdead)].is_empty());
    let mut suppliers: Vec<Supplier> = books.suppliers.values().cloned().collect();
    suppliers.sort_by(|a, b| (&a.name, a.id).cmp(&(&b.name, b.id)));
    assert_eq!(store.suppliers().unwrap(), suppliers);
    let pars: Vec<_> = books.par.iter().map(|((l, i), q)| (*l, *i, *q)).collect();
    assert_eq!(store.par_levels().unwrap(), pars);
    let in_transit: Vec<_> = books
        .transfers
        .values()
        .filter(|t| t.received.is_none())
        .cloned()
        .collect();
    assert_eq!(store.transfers_in_transit().unwrap(), in_transit);
    let orders: Vec<_> = books.purchase_orders.values().cloned().collect();
    assert_eq!(store.purchase_orders().unwrap(), orders);

    // What a batch of decisions reads at once: every row named, none made up; a level
    // never moved reads as zero.
    let unknown = 0xdead_u128;
    let mut wanted = StockWanted {
        locations: books.locations.keys().copied().collect(),
        items: books.items.keys().copied().collect(),
        suppliers: books.suppliers.keys().copied().collect(),
        transfers: books.transfers.keys().copied().collect(),
        purchase_orders: books.purchase_orders.keys().copied().collect(),
        levels: books.levels.keys().copied().collect(),
    };
    wanted.extend(StockWanted {
        locations: vec![LocationId(unknown)],
        items: vec![StockItemId(unknown)],
        suppliers: vec![SupplierId(unknown)],
        transfers: vec![TransferId(unknown)],
        purchase_orders: vec![PurchaseOrderId(unknown)],
        levels: vec![(LocationId(unknown), StockItemId(unknown))],
    });
    let mut read = Stock::new(books.currency);
    store.read_stock(&wanted, &mut read).unwrap();
    assert_eq!(read.locations, books.locations);
    assert_eq!(read.items, books.items);
    assert_eq!(read.suppliers, books.suppliers);
    assert_eq!(read.transfers, books.transfers);
    assert_eq!(read.purchase_orders, books.purchase_orders);
    let mut levels = books.levels.clone();
    levels.insert(
        (LocationId(unknown), StockItemId(unknown)),
        StockValue::default(),
    );
    assert_eq!(read.levels, levels);
}

/// One movement's usage rows, as `stock_usage` sums them: (at, location, item, kind,
/// milli, value).
type UsageRow = (u64, LocationId, StockItemId, &'static str, i64, i64);

/// The values a node records with a movement (`stamp`), or none (as movements recorded
/// before values were kept): the store must take both.
fn valued(books: &Stock, change: &InventoryChange, stamp: bool) -> Vec<i64> {
    match change {
        InventoryChange::Moved(m) if stamp => {
            let transfer = match m {
                Movement::TransferReceived { transfer, .. } => books.transfer(*transfer),
                _ => None,
            };
            value_movement(m, |l, i| books.level(l, i), transfer.as_ref())
        }
        _ => Vec::new(),
    }
}

/// Records what `change` moves, from the books before it (an independent reading of the
/// domain's rules: the value a movement adds is the level's value after minus before).
fn record_usage(books: &Stock, e: &InventoryEvent, usage: &mut Vec<UsageRow>) {
    let InventoryChange::Moved(m) = &e.change else {
        return;
    };
    let transfer = match m {
        Movement::TransferReceived { transfer, .. } => books.transfer(*transfer),
        _ => None,
    };
    let to = transfer.as_ref().map(|t| t.to);
    let after = levels_after(m, &e.values, |l, i| books.level(l, i), transfer.as_ref());
    for (l, i, milli) in deltas(m, |_| to) {
        let value = after
            .iter()
            .find(|(al, ai, _)| *al == l && *ai == i)
            .map_or(0, |(_, _, v)| v.value)
            - books.level(l, i).value;
        usage.push((e.at, l, i, crate::columns::movement_kind(m), milli, value));
    }
}

/// `usage` in `[from, to)` summed as the store's report does.
fn expected_usage(usage: &[UsageRow], from: u64, to: u64) -> Vec<StockUsage> {
    let mut sums: std::collections::BTreeMap<(LocationId, StockItemId, &str), (i64, i64)> =
        Default::default();
    for (at, l, i, kind, milli, value) in usage {
        if (from..to).contains(at) {
            let s = sums.entry((*l, *i, kind)).or_default();
            s.0 += milli;
            s.1 += value;
        }
    }
    sums.into_iter()
        .map(|((location, item, kind), (milli, value))| StockUsage {
            location,
            item,
            kind: kind.to_string(),
            milli,
            value,
        })
        .collect()
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
    let mut reached = [false; 7];
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
        for (n, l) in locations.iter().enumerate() {
            commands.push(InventoryCommand::PutLocation(Location {
                id: *l,
                name: ["Harbour", "City", "Central kitchen"][n].into(),
                active: true,
            }));
        }
        commands.push(InventoryCommand::SetSalesStock(Some(SalesStock {
            location: locations[1],
            depletion: Depletion::OnSend,
        })));
        let mut usage: Vec<UsageRow> = Vec::new();
        for command in std::mem::take(&mut commands) {
            for change in mpos_domain::inventory::decide(&books, MANAGER, &command).unwrap() {
                books.apply(&change);
                pending.push(InventoryEvent::new(
                    MANAGER.staff,
                    1_764_000_000_000,
                    change,
                ));
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
            let command = match dice.roll(12) {
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
                10 => match dice.roll(3) {
                    0 => InventoryCommand::SetSalesStock(None),
                    1 => InventoryCommand::SetSalesStock(Some(SalesStock {
                        location,
                        depletion: Depletion::OnClose,
                    })),
                    _ => InventoryCommand::PutLocation(Location {
                        id: location,
                        name: format!("Renamed {step}"),
                        active: true,
                    }),
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
                    let mut e = InventoryEvent::new(
                        MANAGER.staff,
                        1_764_000_000_000 + step,
                        InventoryChange::Moved(m),
                    );
                    e.values = valued(&books, &e.change, dice.roll(2) == 0);
                    record_usage(&books, &e, &mut usage);
                    books.apply_event(&e);
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
                    let mut e =
                        InventoryEvent::new(MANAGER.staff, 1_764_000_000_000 + step, change);
                    e.values = valued(&books, &e.change, dice.roll(2) == 0);
                    record_usage(&books, &e, &mut usage);
                    books.apply_event(&e);
                    pending.push(e);
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
        reached[5] |= books
            .sold
            .values()
            .any(|t| t.iter().any(|(_, _, q)| q.milli > 0));
        reached[6] |= books
            .sales
            .is_some_and(|s| s.depletion == Depletion::OnClose);
        same_books(&store, &books);
        // Usage over everything, and over a window that cuts the walk in two.
        let start = 1_764_000_000_000;
        assert_eq!(
            store.stock_usage(0, u64::MAX / 2).unwrap(),
            expected_usage(&usage, 0, u64::MAX / 2)
        );
        let window = expected_usage(&usage, start + 40, start + 100);
        assert!(!window.is_empty());
        assert_eq!(store.stock_usage(start + 40, start + 100).unwrap(), window);
        drop(store);
        let store = backend.reopen();
        same_books(&store, &books);
    }
    assert_eq!(
        reached, [true; 7],
        "levels, received transfers, goods in transit, receipts against orders, recipes, \
         pars, stock held by orders, depletion on close"
    );
}

/// A central kitchen sends flour to the harbour, and the harbour records its arrival (some
/// of it, or none). A third node may take the harbour's ledger before the kitchen's (they
/// travel apart, and a clock far ahead can put the sending later in time than the
/// arrival): the arrival is kept until the sending comes, in a later commit or later in
/// the same one, and the store ends as the books that took them in order, with the same
/// history, whether the movements carried their values or not. A second register that
/// recorded the same arrival apart changes nothing: the first heard stands.
pub fn a_transfer_that_arrives_before_it_was_sent_comes_in_with_its_sending<B: Backend>(
    backend: &mut B,
) where
    B::Store: PosStore + InventoryStore,
{
    let (kitchen, harbour, flour) = (LocationId(1), LocationId(2), StockItemId(10));
    let eur = Currency::from_code("EUR").unwrap();
    let kg = |text: &str| Quantity::parse(&format!("{text} kg")).unwrap();
    for (stamped, arriving) in [(true, "3.5"), (false, "3.5"), (true, ""), (false, "")] {
        let arriving: Vec<(StockItemId, Quantity)> = if arriving.is_empty() {
            Vec::new()
        } else {
            vec![(flour, kg(arriving))]
        };
        let mut books = Stock::new(eur);
        let mut made: Vec<InventoryEvent> = Vec::new();
        let mut commands = flour_at_kitchen_and_harbour();
        commands.extend([
            InventoryCommand::SendTransfer {
                transfer: TransferId(5),
                from: kitchen,
                to: harbour,
                lines: vec![(flour, kg("4"))],
            },
            InventoryCommand::ReceiveTransfer {
                transfer: TransferId(5),
                lines: arriving.clone(),
                note: "a bag split".into(),
            },
        ]);
        let mut again = None;
        for (n, command) in commands.iter().enumerate() {
            if n == commands.len() - 1 {
                // Another register at the harbour records the whole of it, apart.
                let whole = InventoryCommand::ReceiveTransfer {
                    transfer: TransferId(5),
                    lines: vec![(flour, kg("4"))],
                    note: String::new(),
                };
                let changes = mpos_domain::inventory::decide(&books, MANAGER, &whole).unwrap();
                let mut e =
                    InventoryEvent::new(MANAGER.staff, 1_764_000_000_100, changes[0].clone());
                e.values = valued(&books, &e.change, stamped);
                again = Some(e);
            }
            for change in mpos_domain::inventory::decide(&books, MANAGER, command).unwrap() {
                let mut e =
                    InventoryEvent::new(MANAGER.staff, 1_764_000_000_000 + n as u64, change);
                e.values = valued(&books, &e.change, stamped);
                books.apply_event(&e);
                made.push(e);
            }
        }
        let (sent, arrived) = (made[made.len() - 2].clone(), made[made.len() - 1].clone());
        let again = again.unwrap();
        let before = &made[..made.len() - 2];
        // The domain's books take them out of order the same way, and the second arrival
        // changes nothing, whenever it comes.
        for order in [[&arrived, &again, &sent], [&arrived, &sent, &again]] {
            let mut late = Stock::new(eur);
            for e in before.iter().chain(order) {
                late.apply_event(e);
            }
            assert_eq!(late.levels, books.levels);
            assert_eq!(late.transfers, books.transfers);
            assert!(late.early_arrivals.is_empty());
        }
        let history = |store: &B::Store| store.stock_usage(0, u64::MAX / 2).unwrap();
        let mut in_order = backend.fresh();
        let mut till = Till::new();
        commit_inventory(&mut in_order, &mut till, &mut made.clone(), true);
        same_books(&in_order, &books);
        let expected = history(&in_order);
        drop(in_order);
        for together in [false, true] {
            let mut store = backend.fresh();
            let mut till = Till::new();
            commit_inventory(&mut store, &mut till, &mut before.to_vec(), true);
            if together {
                commit_inventory(
                    &mut store,
                    &mut till,
                    &mut vec![arrived.clone(), again.clone(), sent.clone()],
                    true,
                );
            } else {
                commit_inventory(&mut store, &mut till, &mut vec![arrived.clone()], true);
                commit_inventory(&mut store, &mut till, &mut vec![again.clone()], true);
                // Until the sending comes, the harbour has only its own flour.
                assert_eq!(store.stock_level(harbour, flour).unwrap().milli, 2_000_000);
                assert_eq!(store.transfer(TransferId(5)).unwrap(), None);
                drop(store);
                store = backend.reopen();
                commit_inventory(&mut store, &mut till, &mut vec![sent.clone()], true);
            }
            // Heard again once the transfer has arrived: still nothing.
            commit_inventory(&mut store, &mut till, &mut vec![again.clone()], true);
            same_books(&store, &books);
            assert_eq!(
                history(&store),
                expected,
                "stamped {stamped}, together {together}, {arriving:?}"
            );
        }
    }
}

/// The central kitchen (location 1) with 10 kg of flour (item 10) at 20.00 EUR, and the
/// harbour (location 2) with 2 kg at 9.00 EUR: where the transfer checks start.
fn flour_at_kitchen_and_harbour() -> Vec<InventoryCommand> {
    let (kitchen, harbour, flour) = (LocationId(1), LocationId(2), StockItemId(10));
    let eur = Currency::from_code("EUR").unwrap();
    let kg = |text: &str| Quantity::parse(&format!("{text} kg")).unwrap();
    vec![
        InventoryCommand::PutLocation(Location {
            id: kitchen,
            name: "Central kitchen".into(),
            active: true,
        }),
        InventoryCommand::PutLocation(Location {
            id: harbour,
            name: "Harbour".into(),
            active: true,
        }),
        InventoryCommand::PutStockItem(StockItem {
            id: flour,
            name: "Flour".into(),
            unit: Unit::Kilogram,
            active: true,
        }),
        InventoryCommand::Receive {
            location: kitchen,
            item: flour,
            quantity: kg("10"),
            cost: Money::new(2_000, eur),
            supplier: None,
            lot: String::new(),
            purchase_order: None,
        },
        InventoryCommand::Receive {
            location: harbour,
            item: flour,
            quantity: kg("2"),
            cost: Money::new(900, eur),
            supplier: None,
            lot: String::new(),
            purchase_order: None,
        },
    ]
}

/// Two registers at the receiving location record one transfer's arrival apart, saying
/// different things arrived. Whatever order a node hears the sending and the two arrivals
/// in, one at a time or in one batch, it ends with the arrival recorded first standing
/// (levels, values, the transfer's lines, the history's sums) and the transfer disputed
/// until a count at the receiving location after both settles it.
pub fn two_arrivals_of_one_transfer_recorded_apart_settle_alike_in_any_order<B: Backend>(
    backend: &mut B,
) where
    B::Store: PosStore + InventoryStore,
{
    let (kitchen, harbour, flour) = (LocationId(1), LocationId(2), StockItemId(10));
    let transfer = TransferId(5);
    let eur = Currency::from_code("EUR").unwrap();
    let kg = |text: &str| Quantity::parse(&format!("{text} kg")).unwrap();
    let mut books = Stock::new(eur);
    let mut before: Vec<InventoryEvent> = Vec::new();
    for (n, command) in flour_at_kitchen_and_harbour().iter().enumerate() {
        for change in mpos_domain::inventory::decide(&books, MANAGER, command).unwrap() {
            let mut e = InventoryEvent::new(MANAGER.staff, 1_764_000_000_000 + n as u64, change);
            e.values = valued(&books, &e.change, true);
            books.apply_event(&e);
            before.push(e);
        }
    }
    let send = InventoryCommand::SendTransfer {
        transfer,
        from: kitchen,
        to: harbour,
        lines: vec![(flour, kg("4"))],
    };
    let changes = mpos_domain::inventory::decide(&books, MANAGER, &send).unwrap();
    let mut sent = InventoryEvent::new(MANAGER.staff, 1_764_000_000_050, changes[0].clone());
    sent.values = valued(&books, &sent.change, true);
    books.apply_event(&sent);
    // Both registers hold the same books when they record it: the later one says 3.5 kg,
    // the first one recorded the whole 4 kg.
    let arrival = |at: u64, text: &str| {
        let receive = InventoryCommand::ReceiveTransfer {
            transfer,
            lines: vec![(flour, kg(text))],
            note: String::new(),
        };
        let changes = mpos_domain::inventory::decide(&books, MANAGER, &receive).unwrap();
        let mut e = InventoryEvent::new(MANAGER.staff, at, changes[0].clone());
        e.values = valued(&books, &e.change, true);
        e
    };
    let (later, first) = (
        arrival(1_764_000_000_200, "3.5"),
        arrival(1_764_000_000_100, "4"),
    );
    let mut expected = books.clone();
    expected.apply_event(&first);
    assert_eq!(
        expected.transfers[&transfer].received,
        Some(vec![(flour, kg("4"))])
    );
    let history = |store: &B::Store| store.stock_usage(0, u64::MAX / 2).unwrap();
    let mut alone = backend.fresh();
    let mut till = Till::new();
    let mut events: Vec<InventoryEvent> = before.iter().chain([&sent, &first]).cloned().collect();
    commit_inventory(&mut alone, &mut till, &mut events, true);
    same_books(&alone, &expected);
    assert!(alone.disputed_transfers().unwrap().is_empty());
    let expected_history = history(&alone);
    drop(alone);
    let orders: [[&InventoryEvent; 3]; 6] = [
        [&sent, &first, &later],
        [&sent, &later, &first],
        [&first, &sent, &later],
        [&later, &sent, &first],
        [&first, &later, &sent],
        [&later, &first, &sent],
    ];
    for order in orders {
        // The domain's books.
        let mut heard = Stock::new(eur);
        for e in before.iter().chain(order) {
            heard.apply_event(e);
        }
        assert_eq!(heard.levels, expected.levels, "{order:?}");
        assert_eq!(heard.transfers, expected.transfers, "{order:?}");
        assert_eq!(heard.disputes_open(), [transfer]);
        assert_eq!(heard.disputed.get(&transfer), Some(&later.at), "{order:?}");
        // The store, one event a batch (reopened between them) and all in one batch.
        for together in [false, true] {
            let mut store = backend.fresh();
            let mut till = Till::new();
            commit_inventory(&mut store, &mut till, &mut before.clone(), true);
            if together {
                let mut all: Vec<InventoryEvent> = order.iter().map(|e| (*e).clone()).collect();
                commit_inventory(&mut store, &mut till, &mut all, true);
            } else {
                for e in order {
                    commit_inventory(&mut store, &mut till, &mut vec![e.clone()], true);
                    drop(store);
                    store = backend.reopen();
                }
            }
            same_books(&store, &expected);
            assert_eq!(
                store.transfer(transfer).unwrap(),
                expected.transfers.get(&transfer).cloned(),
                "together {together}, {order:?}"
            );
            assert_eq!(store.disputed_transfers().unwrap(), [transfer]);
            assert_eq!(
                history(&store),
                expected_history,
                "together {together}, {order:?}"
            );
        }
    }
    // A manager counts the flour at the harbour: a count recorded before the later
    // arrival settles nothing, one after it settles the dispute, on the books and in the
    // store alike.
    let mut store = backend.fresh();
    let mut till = Till::new();
    let mut events: Vec<InventoryEvent> = before
        .iter()
        .chain([&sent, &later, &first])
        .cloned()
        .collect();
    commit_inventory(&mut store, &mut till, &mut events, true);
    let mut books = expected.clone();
    books.apply_event(&later);
    for (at, settled) in [(first.at + 50, false), (later.at + 50, true)] {
        let count = InventoryCommand::Count {
            location: harbour,
            item: flour,
            counted: kg("5.5"),
        };
        let changes = mpos_domain::inventory::decide(&books, MANAGER, &count).unwrap();
        let mut e = InventoryEvent::new(MANAGER.staff, at, changes[0].clone());
        e.values = valued(&books, &e.change, true);
        books.apply_event(&e);
        commit_inventory(&mut store, &mut till, &mut vec![e], true);
        let open: &[TransferId] = if settled { &[] } else { &[transfer] };
        assert_eq!(books.disputes_open(), open, "counted at {at}");
        assert_eq!(store.disputed_transfers().unwrap(), open, "counted at {at}");
    }
    same_books(&store, &books);
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

// ---------------------------------------------------------------------------------------
// Writers that share a store, and the rows beside the orders: menu, staff, floor, drawers,
// business days and the print queue.

use mpos_domain::catalog::{Category, Item, ModifierGroup, ModifierOption, TaxCategory, Variant};
use mpos_domain::day::DayClosed;
use mpos_domain::drawer::{Drawer, DrawerCount};
use mpos_domain::floor::{FloorChange, Table};
use mpos_domain::ids::{DrawerId, ModifierGroupId, TaxCategoryId};
use mpos_domain::menu::{MenuChange, Settings};
use mpos_domain::staff::{StaffChange, StaffMember};

use crate::{ClosedDay, JobState, NewPrintJob, PinHash, PrintStore, TrustUpdate};

/// One `#[test]` per check of what a shared store must refuse, and of the rows beside
/// the orders.
#[macro_export]
macro_rules! catalog_conformance_tests {
    ($make:expr) => {
        $crate::conformance_tests!(@each $make;
            a_stale_order_write_is_a_conflict_and_changes_nothing,
            menu_staff_and_floor_read_back_as_written,
            drawers_and_business_days_read_back,
            print_jobs_go_out_in_order_and_an_interrupted_send_is_never_retried,
            pins_and_the_organizations_nodes_read_back,
        );
    };
}

pub fn a_stale_order_write_is_a_conflict_and_changes_nothing<B: Backend>(backend: &mut B)
where
    B::Store: PosStore,
{
    let mut store = backend.fresh();
    let mut till = Till::new();
    let id = OrderId(0x0193_0000_0000_7000_8000_0000_0000_0200);
    let opened = till.commit(
        &mut store,
        id,
        None,
        vec![open_command("C-0200", None)],
        vec![],
    );
    // Another node adds a line first...
    let theirs = till.commit(
        &mut store,
        id,
        Some(opened.clone()),
        vec![Command::AddLine {
            line: LineId(1),
            item: dish(20, "Soup", 790, None),
            seat: None,
            course: 1,
            note: String::new(),
        }],
        vec![],
    );
    assert_eq!(
        store.order_versions(&[id, OrderId(1)]).unwrap(),
        vec![(id, theirs.version)]
    );
    // ...so a change decided on the order as it was before is refused whole: no ledger
    // entry, no request, the order as the other node left it.
    let mut stale = opened.clone();
    stale.service_charge_ppm = 100_000;
    stale.version += 1;
    let head = store.chain_head(till.key.node_id()).unwrap();
    let mut late = Till {
        key: node_key(9),
        chain: till.chain.clone(),
        request: 50,
        at: till.at,
    };
    let ledger = late.ledger(1);
    let projection = Projection {
        orders: vec![OrderUpdate {
            before: Some(&opened),
            after: &stale,
        }],
        ..Projection::default()
    };
    let request = AppliedRequest {
        request: 51,
        order: Some(id),
        node: till.key.node_id(),
        first_seq: ledger.entries[0].seq,
        last_seq: ledger.entries[0].seq,
        action: "stale".into(),
    };
    let refused = store.commit(&ledger, &projection, std::slice::from_ref(&request));
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "a stale write must be a conflict: {refused:?}"
    );
    assert_eq!(store.chain_head(till.key.node_id()).unwrap(), head);
    assert_eq!(store.applied_request(51).unwrap(), None);
    assert_eq!(store.load_order(id).unwrap(), Some(theirs.clone()));

    // An order opened twice (two nodes, one id) is a conflict too.
    let mut late = Till {
        key: node_key(9),
        chain: till.chain.clone(),
        request: 60,
        at: till.at,
    };
    let ledger = late.ledger(1);
    let projection = Projection {
        orders: vec![OrderUpdate {
            before: None,
            after: &opened,
        }],
        ..Projection::default()
    };
    let refused = store.commit(&ledger, &projection, &[]);
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "opening a stored order again must be a conflict: {refused:?}"
    );
    assert_eq!(store.load_order(id).unwrap(), Some(theirs));
}

/// The names of the items a search finds, sorted.
fn found<S: PosStore>(store: &S, query: &str) -> Vec<String> {
    let mut names: Vec<String> = store
        .search_items(query, 10)
        .unwrap()
        .into_iter()
        .map(|i| i.name)
        .collect();
    names.sort();
    names
}

fn settings() -> Settings {
    Settings {
        name: "Bistro Lumen".into(),
        currency: Currency::from_code("EUR").unwrap(),
        price_mode: PriceMode::Inclusive,
    }
}

fn menu_item(id: u128, name: &str, sku: Option<&str>, category: CategoryId) -> Item {
    Item {
        id: ItemId(id),
        name: name.into(),
        description: format!("{name}, made fresh"),
        category,
        sku: sku.map(Into::into),
        barcode: None,
        price: eur(1_000 + id as i64),
        channel_prices: vec![],
        tax_category: TaxCategoryId(1),
        variants: vec![],
        modifier_groups: vec![],
        available: true,
    }
}

/// Commits `menu`, `staff`, `floor` and `pins` as one batch.
fn commit_catalog<S: PosStore>(
    store: &mut S,
    till: &mut Till,
    menu: &[MenuChange],
    staff: &[StaffChange],
    floor: &[FloorChange],
    pins: Vec<PinHash>,
) {
    let n = (menu.len() + staff.len() + floor.len()).max(1) as u64;
    let ledger = till.ledger(n);
    let projection = Projection {
        menu: menu.iter().collect(),
        staff: staff.iter().collect(),
        floor: floor.iter().collect(),
        pins,
        ..Projection::default()
    };
    store.commit(&ledger, &projection, &[]).unwrap();
}

pub fn menu_staff_and_floor_read_back_as_written<B: Backend>(backend: &mut B)
where
    B::Store: PosStore,
{
    let mut store = backend.fresh();
    let mut till = Till::new();
    assert_eq!(store.settings().unwrap(), None);
    let generation = store.catalog_generation().unwrap();
    let mains = Category {
        id: CategoryId(10),
        name: "Mains".into(),
        station: Some(StationId(2)),
    };
    let drinks = Category {
        id: CategoryId(11),
        name: "Drinks".into(),
        station: None,
    };
    let sides = ModifierGroup {
        id: ModifierGroupId(20),
        name: "Sides".into(),
        min: 1,
        max: 2,
        options: vec![
            ModifierOption {
                id: ModifierId(21),
                name: "Fries".into(),
                price_delta: eur(0),
            },
            ModifierOption {
                id: ModifierId(22),
                name: "Salad".into(),
                price_delta: eur(150),
            },
        ],
    };
    let steak = Item {
        barcode: Some("4006381333931".into()),
        channel_prices: vec![
            (Channel::Delivery, eur(2_990)),
            (Channel::Table, eur(2_450)),
        ],
        variants: vec![
            Variant {
                id: VariantId(31),
                name: "Regular".into(),
                price_delta: eur(0),
            },
            Variant {
                id: VariantId(32),
                name: "Large".into(),
                price_delta: eur(600),
            },
        ],
        modifier_groups: vec![sides.id],
        ..menu_item(30, "Steak frites", Some("STK-1"), mains.id)
    };
    let vat = TaxCategory {
        id: TaxCategoryId(1),
        name: "Food".into(),
        rates: vec![TaxRate::from_ppm(70_000), TaxRate::from_ppm(10_000)],
    };
    let mut menu = vec![
        MenuChange::SettingsPut(settings()),
        MenuChange::TaxCategoryPut(vat.clone()),
        MenuChange::CategoryPut(mains.clone()),
        MenuChange::CategoryPut(drinks.clone()),
        MenuChange::ModifierGroupPut(sides.clone()),
        MenuChange::ItemPut(steak.clone()),
    ];
    let names = ["Espresso", "Cola", "Apple juice", "Crème brûlée", "Beer"];
    for (n, name) in names.iter().enumerate() {
        menu.push(MenuChange::ItemPut(menu_item(
            40 + n as u128,
            name,
            None,
            drinks.id,
        )));
    }
    let ana = StaffMember {
        id: StaffId(7),
        name: "Ana".into(),
        role: Role::Owner,
        active: true,
    };
    let ben = StaffMember {
        id: StaffId(8),
        name: "Ben".into(),
        role: Role::Cashier,
        active: true,
    };
    let table = |id: u128, name: &str, area: &str| Table {
        id: TableId(id),
        name: name.into(),
        seats: 4,
        area: area.into(),
        active: true,
        token: format!("tok-{id}"),
        // Tables at two restaurants, and one at none.
        location: (id > 1).then_some(LocationId(0xb0 + id % 2)),
    };
    commit_catalog(
        &mut store,
        &mut till,
        &menu,
        &[StaffChange::Put(ben.clone()), StaffChange::Put(ana.clone())],
        &[
            FloorChange::TablePut(table(3, "T10", "Main")),
            FloorChange::TablePut(table(1, "T2", "Main")),
            FloorChange::TablePut(table(2, "B1", "Bar")),
        ],
        vec![PinHash {
            staff: ana.id,
            hash: "$argon2id$v=19$m=7168,t=5,p=1$c2FsdA$aGFzaA".into(),
            changed_at: 1,
        }],
    );
    assert!(store.catalog_generation().unwrap() > generation);

    assert_eq!(store.settings().unwrap(), Some(settings()));
    assert_eq!(store.tax_categories().unwrap(), vec![vat.clone()]);
    assert_eq!(store.tax_category(vat.id).unwrap(), Some(vat));
    assert_eq!(
        store.categories().unwrap(),
        vec![drinks.clone(), mains.clone()]
    );
    assert_eq!(store.category(mains.id).unwrap(), Some(mains.clone()));
    assert_eq!(store.modifier_groups().unwrap(), vec![sides.clone()]);
    assert_eq!(store.modifier_group(sides.id).unwrap(), Some(sides));
    // Channel prices come back in the canonical channel order.
    let mut canonical = steak.clone();
    canonical.channel_prices.sort_by_key(|(c, _)| *c);
    assert_eq!(store.item(steak.id).unwrap(), Some(canonical.clone()));
    assert_eq!(store.item(ItemId(999)).unwrap(), None);
    assert_eq!(store.item_with_code("STK-1").unwrap(), Some(steak.id));
    assert_eq!(
        store.item_with_code("4006381333931").unwrap(),
        Some(steak.id)
    );
    assert_eq!(store.item_with_code("nothing").unwrap(), None);

    // Search: word prefixes of name, description and codes, in any case.
    assert_eq!(found(&store, "ste"), ["Steak frites"]);
    assert_eq!(found(&store, "FRI"), ["Steak frites"]);
    assert_eq!(found(&store, "stk"), ["Steak frites"]);
    assert_eq!(found(&store, "4006381"), ["Steak frites"]);
    assert_eq!(found(&store, "apple ju"), ["Apple juice"]);
    assert_eq!(found(&store, "made"), {
        let mut all: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        all.push("Steak frites".into());
        all.sort();
        all
    });
    assert!(
        found(&store, "juice apple x").is_empty(),
        "every word must match"
    );
    assert!(
        found(&store, "\"*) OR 1=1 --").is_empty(),
        "query syntax is plain text"
    );
    assert_eq!(found(&store, "c"), ["Cola", "Crème brûlée"]);
    assert_eq!(
        store.search_items("c", 1).unwrap().len(),
        1,
        "at most the limit"
    );

    // A category's items a page at a time, by name.
    let page = |offset| -> Vec<String> {
        store
            .category_items(drinks.id, offset, 2)
            .unwrap()
            .into_iter()
            .map(|i| i.name)
            .collect()
    };
    assert_eq!(page(0), ["Apple juice", "Beer"]);
    assert_eq!(page(2), ["Cola", "Crème brûlée"]);
    assert_eq!(page(4), ["Espresso"]);

    // An item put again replaces its variants and prices; 86'ing it keeps the rest.
    let generation = store.catalog_generation().unwrap();
    let smaller = Item {
        variants: vec![],
        channel_prices: vec![(Channel::Online, eur(2_700))],
        sku: Some("STK-2".into()),
        ..steak.clone()
    };
    commit_catalog(
        &mut store,
        &mut till,
        &[
            MenuChange::ItemPut(smaller.clone()),
            MenuChange::AvailabilitySet {
                item: steak.id,
                available: false,
            },
        ],
        &[],
        &[],
        vec![],
    );
    assert!(store.catalog_generation().unwrap() > generation);
    assert_eq!(
        store.item(steak.id).unwrap(),
        Some(Item {
            available: false,
            ..smaller
        })
    );
    assert_eq!(store.item_with_code("STK-1").unwrap(), None);
    assert_eq!(found(&store, "stk"), ["Steak frites"]);

    // Staff by name; PINs beside them; the floor by area, then name (T2 before T10).
    assert_eq!(store.staff().unwrap(), vec![ana.clone(), ben.clone()]);
    assert_eq!(store.staff_member(ben.id).unwrap(), Some(ben.clone()));
    assert!(
        store
            .pin_hash(ana.id)
            .unwrap()
            .unwrap()
            .starts_with("$argon2id$")
    );
    assert_eq!(store.pin_hash(ben.id).unwrap(), None);
    let tables: Vec<String> = store
        .tables()
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(tables, ["B1", "T2", "T10"]);

    // Nothing but orders leaves the generation alone; everything survives a restart.
    let generation = store.catalog_generation().unwrap();
    till.commit(
        &mut store,
        OrderId(0x0193_0000_0000_7000_8000_0000_0000_0300),
        None,
        vec![open_command("C-0300", None)],
        vec![],
    );
    assert_eq!(store.catalog_generation().unwrap(), generation);
    drop(store);
    let store = backend.reopen();
    assert_eq!(store.catalog_generation().unwrap(), generation);
    assert_eq!(store.staff().unwrap(), vec![ana, ben]);
    assert_eq!(store.categories().unwrap(), vec![drinks, mains]);
}

pub fn drawers_and_business_days_read_back<B: Backend>(backend: &mut B)
where
    B::Store: PosStore,
{
    let mut store = backend.fresh();
    let mut till = Till::new();
    let front = open_drawer(1, "front", None, 1_000);
    let bar = open_drawer(2, "bar", None, 2_000);
    let commit_drawers = |store: &mut B::Store, till: &mut Till, drawers: &[&Drawer]| {
        let ledger = till.ledger(1);
        let projection = Projection {
            drawers: drawers.to_vec(),
            ..Projection::default()
        };
        store.commit(&ledger, &projection, &[]).unwrap();
    };
    commit_drawers(&mut store, &mut till, &[&front, &bar]);
    assert_eq!(
        store.open_drawers(None).unwrap(),
        vec![front.clone(), bar.clone()]
    );
    let counted = Drawer {
        cash_sales: eur(4_550),
        cash_refunds: eur(500),
        paid_in: eur(2_000),
        paid_out: eur(1_250),
        closed: Some(DrawerCount {
            counted: eur(14_700),
            expected: eur(14_800),
            by: StaffId(8),
            at: 9_000,
        }),
        ..front.clone()
    };
    commit_drawers(&mut store, &mut till, &[&counted]);
    assert_eq!(store.drawer(front.id).unwrap(), Some(counted.clone()));
    assert_eq!(store.open_drawers(None).unwrap(), vec![bar.clone()]);
    assert_eq!(store.recent_drawers(None, 1).unwrap(), vec![bar.clone()]);
    assert_eq!(store.recent_drawers(None, 5).unwrap(), vec![bar, counted]);
    assert_eq!(store.drawer(DrawerId(99)).unwrap(), None);

    // Business days, per node; a day closed twice is a conflict.
    let node = till.key.node_id();
    assert_eq!(store.last_closed_day(node).unwrap(), None);
    let day = |n: u32, from: u64, to: u64, close_seq: u64| ClosedDay {
        node,
        close_seq,
        summary: DayClosed {
            by: StaffId(7),
            at: 10_000 + u64::from(n),
            day: n,
            from_seq: from,
            to_seq: to,
            orders: 12,
            sales: eur(45_600),
            tax: eur(3_100),
            tips: eur(700),
            refunded: eur(500),
            cash_variance: eur(-100),
            open_orders: 1,
            open_orders_due: eur(1_250),
        },
    };
    for d in [day(1, 1, 2, 3), day(2, 4, 3, 4)] {
        let ledger = till.ledger(1);
        assert_eq!(ledger.entries[0].seq, d.close_seq);
        let projection = Projection {
            days: vec![&d],
            ..Projection::default()
        };
        store.commit(&ledger, &projection, &[]).unwrap();
    }
    assert_eq!(store.last_closed_day(node).unwrap(), Some(day(2, 4, 3, 4)));
    assert_eq!(store.closed_day(node, 1).unwrap(), Some(day(1, 1, 2, 3)));
    assert_eq!(store.closed_day(node, 3).unwrap(), None);
    assert_eq!(store.last_closed_day(node_key(1).node_id()).unwrap(), None);
    let again = day(2, 5, 4, 5);
    let ledger = till.ledger(1);
    let projection = Projection {
        days: vec![&again],
        ..Projection::default()
    };
    assert!(matches!(
        store.commit(&ledger, &projection, &[]),
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.chain_head(node).unwrap().unwrap().size(), 4);

    // A day's entries, in order, as stored.
    let mut seqs = Vec::new();
    store
        .visit_entries(node, 2, 4, &mut |bytes| {
            seqs.push(EntryRef::decode(bytes).unwrap().seq);
            // A report reads the store while it visits.
            assert!(store.last_closed_day(node)?.is_some());
            Ok(())
        })
        .unwrap();
    assert_eq!(seqs, [2, 3, 4]);
}

fn print_job(printer: &str, title: &str) -> NewPrintJob {
    NewPrintJob {
        printer: printer.into(),
        kind: "kitchen".into(),
        order: Some(OrderId(7)),
        title: title.into(),
        bytes: vec![0x1b, b'@', b'x'],
        reprint_of: None,
    }
}

pub fn print_jobs_go_out_in_order_and_an_interrupted_send_is_never_retried<B: Backend>(
    backend: &mut B,
) where
    B::Store: PrintStore,
{
    let mut s = backend.fresh();
    let node = mpos_ledger::NodeId([1; 16]);
    assert!(s.printers().unwrap().is_empty());
    let printer = crate::Printer {
        name: "grill".into(),
        address: "tcp:10.0.0.9:9100".into(),
        stations: vec![StationId(2), StationId(3)],
        receipts: false,
        columns: 48,
    };
    s.put_printer(&printer).unwrap();
    s.put_printer(&crate::Printer {
        address: "file:/var/spool/grill".into(),
        ..printer.clone()
    })
    .unwrap();
    assert_eq!(s.printers().unwrap()[0].address, "file:/var/spool/grill");
    assert!(s.remove_printer("grill").unwrap());
    assert!(!s.remove_printer("grill").unwrap());

    assert_eq!(s.print_cursor(node).unwrap(), None);
    s.queue_from_ledger(
        node,
        5,
        &[print_job("bar", "#1"), print_job("bar", "#2")],
        100,
    )
    .unwrap();
    assert_eq!(s.print_cursor(node).unwrap(), Some(5));
    let first = s.next_job("bar", 100).unwrap().unwrap();
    assert_eq!(first.job, print_job("bar", "#1"));
    assert_eq!((first.state, first.attempts), (JobState::Queued, 0));
    // Unreachable: back in the queue, not due before its retry time; the second job
    // waits behind it rather than overtaking.
    s.mark_sending(first.id).unwrap();
    s.mark_retry(first.id, "refused", 2_000).unwrap();
    assert_eq!(s.next_job("bar", 1_000).unwrap(), None);
    let again = s.next_job("bar", 2_000).unwrap().unwrap();
    assert_eq!((again.id, again.attempts), (first.id, 1));
    // The node stops while sending: the job fails instead of printing again.
    s.mark_sending(again.id).unwrap();
    assert_eq!(s.fail_interrupted().unwrap(), 1);
    let failed = s.print_job(first.id).unwrap().unwrap();
    assert_eq!(failed.state, JobState::Failed);
    assert!(failed.last_error.unwrap().contains("reprint"));
    // A failed job is never picked up again; the next one is.
    let second = s.next_job("bar", 3_000).unwrap().unwrap();
    assert_eq!(second.job.title, "#2");
    assert!(
        s.mark_sending(first.id).is_err(),
        "only a queued job can be sent"
    );
    s.mark_sending(second.id).unwrap();
    s.mark_printed(second.id, 3_100).unwrap();
    assert_eq!(
        s.print_job(second.id).unwrap().unwrap().printed_at,
        Some(3_100)
    );
    assert_eq!(s.next_job("bar", 4_000).unwrap(), None);

    // A print request queues once; its id asked for something else is a conflict.
    assert_eq!(s.print_request(77, "receipt 7").unwrap(), None);
    let reprint = NewPrintJob {
        reprint_of: Some(first.id),
        ..print_job("bar", "#1 (reprint)")
    };
    let ids = s
        .queue_for_request(77, "receipt 7", &[reprint], 5_000)
        .unwrap();
    assert_eq!(s.print_request(77, "receipt 7").unwrap(), Some(ids.clone()));
    assert!(matches!(
        s.print_request(77, "receipt 8"),
        Err(StoreError::Conflict(_))
    ));
    let one = s.queue_job(&print_job("pass", "#3"), 6_000).unwrap();
    let newest: Vec<u64> = s.print_jobs(2).unwrap().into_iter().map(|j| j.id).collect();
    assert_eq!(newest, [one, ids[0]]);
    drop(s);
    let s = backend.reopen();
    assert_eq!(
        s.print_job(ids[0]).unwrap().unwrap().job.reprint_of,
        Some(first.id)
    );
    assert_eq!(s.print_cursor(node).unwrap(), Some(5));
}

/// Each order and drawer session keeps the location it was opened at, the lists of one
/// location leave the others' out (none: every location's), and each node keeps its own
/// setting of where it sells.
pub fn orders_and_drawers_are_listed_by_their_location<B: Backend>(backend: &mut B)
where
    B::Store: PosStore,
{
    let mut store = backend.fresh();
    let (bistro, harbour) = (LocationId(0xb1), LocationId(0xb2));
    let mut till = Till::of(1);
    let mut orders = Vec::new();
    for (n, location) in [Some(bistro), Some(harbour), None, Some(bistro)]
        .into_iter()
        .enumerate()
    {
        let id = OrderId(0x0193_0000_0000_7000_8000_0000_0000_0200 + n as u128);
        let mut open = open_command(&format!("L-{n}"), None);
        if let Command::Open { location: at, .. } = &mut open {
            *at = location;
        }
        let order = till.commit(
            &mut store,
            id,
            None,
            vec![
                open,
                Command::AddLine {
                    line: LineId(1),
                    item: dish(20, "Soup", 790, Some(StationId(2))),
                    seat: None,
                    course: 1,
                    note: String::new(),
                },
                Command::Send { lines: vec![] },
            ],
            vec![],
        );
        assert_eq!(order.location, location);
        assert_eq!(store.load_order(id).unwrap().as_ref(), Some(&order));
        orders.push(order);
    }
    // The last bistro order is paid and closed.
    let paid = orders.pop().unwrap();
    let total = paid.totals().unwrap().total;
    let closed = till.commit(
        &mut store,
        paid.id,
        Some(paid),
        vec![Command::TakePayment {
            payment: PaymentId(60),
            tender: Tender::Card {
                reference: "AUTH-1".into(),
            },
            amount: total,
            tip: eur(0),
            cash_received: None,
            drawer: None,
        }],
        vec![],
    );
    let numbers = |orders: Vec<Order>| orders.into_iter().map(|o| o.number).collect::<Vec<_>>();
    assert_eq!(numbers(store.open_orders(Some(bistro)).unwrap()), ["L-0"]);
    assert_eq!(numbers(store.open_orders(Some(harbour)).unwrap()), ["L-1"]);
    assert_eq!(
        numbers(store.open_orders(None).unwrap()),
        ["L-0", "L-1", "L-2"]
    );
    assert_eq!(
        numbers(store.kitchen_orders(Some(harbour), 0).unwrap()),
        ["L-1"]
    );
    let mut kitchen = numbers(store.kitchen_orders(None, 0).unwrap());
    kitchen.sort();
    assert_eq!(kitchen, ["L-0", "L-1", "L-2", "L-3"]);
    assert_eq!(
        numbers(store.recent_orders(Some(bistro), None, "", 10).unwrap()),
        ["L-3", "L-0"]
    );
    assert_eq!(
        numbers(store.recent_orders(Some(harbour), None, "L", 10).unwrap()),
        ["L-1"]
    );
    assert_eq!(store.recent_orders(None, None, "", 10).unwrap().len(), 4);
    let at = closed.closed_at.unwrap();
    assert_eq!(
        store
            .closed_order_ids(Some(bistro), at, at + 1, 10)
            .unwrap(),
        vec![closed.id]
    );
    assert!(
        store
            .closed_order_ids(Some(harbour), at, at + 1, 10)
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.closed_order_ids(None, at, at + 1, 10).unwrap(),
        vec![closed.id]
    );

    // A drawer session at each restaurant, and one at none.
    let (front, harbour_front, nowhere) = (
        open_drawer(1, "front", Some(bistro), 1_000),
        open_drawer(2, "front", Some(harbour), 2_000),
        open_drawer(3, "front", None, 3_000),
    );
    let ledger = till.ledger(1);
    store
        .commit(
            &ledger,
            &Projection {
                drawers: vec![&front, &harbour_front, &nowhere],
                ..Projection::default()
            },
            &[],
        )
        .unwrap();
    assert_eq!(store.drawer(front.id).unwrap().as_ref(), Some(&front));
    assert_eq!(
        store.open_drawers(Some(harbour)).unwrap(),
        vec![harbour_front.clone()]
    );
    assert_eq!(
        store.open_drawers(None).unwrap(),
        vec![front.clone(), harbour_front.clone(), nowhere.clone()]
    );
    assert_eq!(store.recent_drawers(Some(bistro), 5).unwrap(), vec![front]);
    assert_eq!(store.recent_drawers(None, 1).unwrap(), vec![nowhere]);

    // Two nodes sell at different places; a third sells at none.
    let mut other = Till::of(2);
    for (t, location) in [(&mut till, bistro), (&mut other, harbour)] {
        let event = InventoryEvent::new(
            MANAGER.staff,
            t.at,
            InventoryChange::SetSalesStock(Some(SalesStock {
                location,
                depletion: Depletion::OnSend,
            })),
        );
        let ledger = t.ledger(1);
        store
            .commit(
                &ledger,
                &Projection {
                    inventory: vec![&event],
                    ..Projection::default()
                },
                &[],
            )
            .unwrap();
    }
    let sells_at = |store: &B::Store, n: u8| {
        store
            .sales_stock(node_key(n).node_id())
            .unwrap()
            .map(|s| s.location)
    };
    assert_eq!(sells_at(&store, 1), Some(bistro));
    assert_eq!(sells_at(&store, 2), Some(harbour));
    assert_eq!(sells_at(&store, 3), None);
    drop(store);
    let store = backend.reopen();
    assert_eq!(sells_at(&store, 2), Some(harbour));
    assert_eq!(numbers(store.open_orders(Some(harbour)).unwrap()), ["L-1"]);
}

/// A drawer session just opened with a float of 100.00.
fn open_drawer(id: u128, name: &str, location: Option<LocationId>, at: u64) -> Drawer {
    Drawer {
        id: DrawerId(id),
        name: name.into(),
        location,
        float: eur(10_000),
        cash_sales: eur(0),
        cash_refunds: eur(0),
        paid_in: eur(0),
        paid_out: eur(0),
        opened_by: StaffId(7),
        opened_at: at,
        closed: None,
    }
}

/// PIN hashes keep the latest change whoever sent it; a node's certificate is recorded once
/// however many ledgers carry it; a revocation is kept even for a node never seen, and the
/// earliest cut of two stands; all of it survives a restart. Entity clocks and the entries
/// of an order read back as written.
pub fn pins_and_the_organizations_nodes_read_back<B: Backend>(backend: &mut B)
where
    B::Store: PosStore,
{
    use mpos_ledger::{NodeCertificate, Revocation};
    let mut store = backend.fresh();
    let mut till = Till::new();
    let (ana, ben) = (StaffId(1), StaffId(2));
    let pin = |staff, hash: &str, changed_at| PinHash {
        staff,
        hash: hash.into(),
        changed_at,
    };
    commit_catalog(
        &mut store,
        &mut till,
        &[],
        &[],
        &[],
        vec![pin(ana, "ana-2", 20)],
    );
    // A peer's hashes: an older one for Ana is not taken, Ben's is.
    store
        .save_pins(&[pin(ana, "ana-1", 10), pin(ben, "ben-1", 15)])
        .unwrap();
    assert_eq!(store.pin_hash(ana).unwrap().as_deref(), Some("ana-2"));
    assert_eq!(store.pin_hash(ben).unwrap().as_deref(), Some("ben-1"));
    store.save_pins(&[pin(ana, "ana-3", 30)]).unwrap();
    let mut all = store.pin_hashes().unwrap();
    all.sort_by_key(|p| p.staff.0);
    assert_eq!(all, vec![pin(ana, "ana-3", 30), pin(ben, "ben-1", 15)]);

    let root = NodeKey::from_secret(&[0x61; 32]);
    let (till_2, bar) = (
        NodeKey::from_secret(&[0x62; 32]),
        NodeKey::from_secret(&[0x63; 32]),
    );
    let certified = NodeCertificate::issue(&root, till_2.public(), "Till 2", 5).unwrap();
    let again = NodeCertificate::issue(&root, till_2.public(), "Renamed", 6).unwrap();
    let first_cut = Revocation::issue(&root, bar.node_id(), 7, 100);
    let later_cut = Revocation::issue(&root, bar.node_id(), 9, 200);
    let ledger = till.ledger(1);
    let projection = Projection {
        trust: vec![
            TrustUpdate::Certified(&certified),
            TrustUpdate::Certified(&again),
            TrustUpdate::Revoked {
                revocation: &later_cut,
                reason: "lost",
            },
            TrustUpdate::Revoked {
                revocation: &first_cut,
                reason: "stolen",
            },
        ],
        ..Projection::default()
    };
    store.commit(&ledger, &projection, &[]).unwrap();
    drop(store);
    let store = backend.reopen();
    let nodes = store.organization_nodes().unwrap();
    assert_eq!(nodes.len(), 1);
    assert_eq!(nodes[0].certificate, certified);
    assert_eq!(nodes[0].revoked, None);
    let revoked = store.revocations().unwrap();
    assert_eq!(revoked.len(), 1);
    assert_eq!(
        (
            revoked[0].node,
            revoked[0].after,
            revoked[0].at,
            revoked[0].reason.as_str()
        ),
        (bar.node_id(), 7, 100, "stolen")
    );
    assert_eq!(store.pin_hash(ana).unwrap().as_deref(), Some("ana-3"));

    // The change that stands for each entity put; and where an order's events are: its
    // requests' entries and the entries recorded for it.
    use crate::clock::{EntityClock, EntityKey};
    let mut store = store;
    let key = |kind: &str, id: u8| EntityKey {
        kind: kind.into(),
        id: vec![id; 16],
    };
    let clock = |k: EntityKey, hlc, node: u8| EntityClock {
        key: k,
        hlc,
        node: mpos_ledger::NodeId([node; 16]),
    };
    let order = OrderId(0x0193_0000_0000_7000_8000_0000_0000_0400);
    let ledger = till.ledger(2);
    let own = ledger.key.node_id();
    let first = ledger.entries[0].seq;
    store
        .commit(
            &ledger,
            &Projection {
                clocks: vec![clock(key("item", 1), 5, 1), clock(key("staff", 2), 6, 1)],
                order_entries: vec![(order, first + 1, first + 1)],
                ..Projection::default()
            },
            &[crate::AppliedRequest {
                request: 0x77,
                order: Some(order),
                node: own,
                first_seq: first,
                last_seq: first,
                action: "test".into(),
            }],
        )
        .unwrap();
    let ledger = till.ledger(1);
    store
        .commit(
            &ledger,
            &Projection {
                clocks: vec![clock(key("item", 1), 9, 2)],
                ..Projection::default()
            },
            &[],
        )
        .unwrap();
    let mut clocks = store
        .entity_clocks(&[key("item", 1), key("staff", 2), key("table", 3)])
        .unwrap();
    clocks.sort_by(|a, b| a.key.cmp(&b.key));
    assert_eq!(
        clocks,
        vec![clock(key("item", 1), 9, 2), clock(key("staff", 2), 6, 1)]
    );
    let ledger = till.ledger(1);
    store
        .commit(
            &ledger,
            &Projection {
                pin_changes: vec![(ana, 42, own), (ana, 43, mpos_ledger::NodeId([7; 16]))],
                ..Projection::default()
            },
            &[],
        )
        .unwrap();
    let mut changes = store.pin_changes(ana).unwrap();
    changes.sort();
    assert_eq!(changes, vec![(42, own), (43, mpos_ledger::NodeId([7; 16]))]);
    assert!(store.pin_changes(ben).unwrap().is_empty());
    let mut entries = store.order_entries(order).unwrap();
    entries.sort();
    assert_eq!(
        entries,
        vec![(own, first, first), (own, first + 1, first + 1)]
    );
    assert!(store.order_entries(OrderId(1)).unwrap().is_empty());
}

pub fn items_86d_and_lines_sold_while_86d_read_back<B: Backend>(backend: &mut B)
where
    B::Store: PosStore,
{
    let mut store = backend.fresh();
    let mut till = Till::new();
    let id = OrderId(0x0193_0000_0000_7000_8000_0000_0000_0500);
    let opened = till.commit(
        &mut store,
        id,
        None,
        vec![
            open_command("C-0500", None),
            Command::AddLine {
                line: LineId(1),
                item: dish(10, "Burger", 1_200, None),
                seat: None,
                course: 1,
                note: String::new(),
            },
            Command::AddLine {
                line: LineId(2),
                item: dish(20, "Fries", 400, None),
                seat: None,
                course: 1,
                note: String::new(),
            },
        ],
        vec![],
    );
    assert!(
        store
            .load_order(id)
            .unwrap()
            .unwrap()
            .conflicts()
            .is_empty()
    );
    let (b, c) = (
        mpos_ledger::NodeId([0xb; 16]),
        mpos_ledger::NodeId([0xc; 16]),
    );
    let change = |item: u128, hlc: u64, node, available| crate::AvailabilityChange {
        item: ItemId(item),
        hlc,
        node,
        available,
    };
    let flag = |line: u128, item: u128, hlc: u64| crate::SoldWhile86d {
        order: id,
        line: LineId(line),
        item: ItemId(item),
        hlc,
    };
    let ledger = till.ledger(1);
    store
        .commit(
            &ledger,
            &Projection {
                availability: vec![
                    change(10, 50, c, true),
                    change(10, 40, b, false),
                    change(10, 40, c, false),
                ],
                sold_while_86d: vec![flag(1, 10, 70), flag(2, 20, 80)],
                ..Projection::default()
            },
            &[],
        )
        .unwrap();
    assert_eq!(
        store.availability_changes(ItemId(10)).unwrap(),
        vec![
            change(10, 40, b, false),
            change(10, 40, c, false),
            change(10, 50, c, true)
        ],
        "by time, then node"
    );
    assert!(store.availability_changes(ItemId(30)).unwrap().is_empty());
    assert_eq!(
        store.sold_while_86d(ItemId(10), 0).unwrap(),
        vec![flag(1, 10, 70)]
    );
    assert!(store.sold_while_86d(ItemId(10), 70).unwrap().is_empty());
    let loaded = store.load_order(id).unwrap().unwrap();
    assert!(loaded.lines.iter().all(|l| l.sold_while_86d));
    assert_eq!(loaded.conflicts().len(), 2);
    assert_eq!(
        loaded.conflicts()[0].to_string(),
        "sold Burger after another register 86'd it"
    );

    // Cleared, and a write of the order keeps the flags it does not carry.
    let ledger = till.ledger(1);
    store
        .commit(
            &ledger,
            &Projection {
                cleared_86d: vec![(id, LineId(2))],
                ..Projection::default()
            },
            &[],
        )
        .unwrap();
    let voided = till.commit(
        &mut store,
        id,
        Some(opened),
        vec![Command::VoidLine {
            line: LineId(2),
            reason: "sold out".into(),
        }],
        vec![],
    );
    let loaded = store.load_order(id).unwrap().unwrap();
    assert_eq!(
        loaded
            .lines
            .iter()
            .map(|l| (l.id, l.sold_while_86d, l.voided))
            .collect::<Vec<_>>(),
        vec![(LineId(1), true, false), (LineId(2), false, true)]
    );
    assert!(
        !voided.lines[0].sold_while_86d,
        "the fold alone knows nothing of 86s"
    );
    assert!(store.sold_while_86d(ItemId(20), 0).unwrap().is_empty());
}
