//! Business-day reports, folded over the node's ledger (see `mpos_domain::day`): the
//! X-report of the day so far, the Z-report that closes it (built inside the writer's
//! batch, see `pos`), and any closed day rebuilt from its entries for a reprint.

use std::collections::HashMap;

use mpos_domain::day::{Context, DayReport, ReportBuilder};
use mpos_domain::drawer::{Drawer, DrawerChange};
use mpos_domain::ids::{DrawerId, OrderId};
use mpos_domain::order::{Change, Order};
use mpos_domain::{Currency, Event};
use mpos_ledger::{EntryRef, NodeId};
use mpos_proto::event::decode;
use mpos_store::{ClosedDay, PosStore, StoreError};

use crate::error::NodeError;

/// Orders and drawers a batch changed but has not committed yet.
#[derive(Default)]
pub(crate) struct Overlay<'a> {
    pub orders: Option<&'a HashMap<OrderId, Option<Order>>>,
    pub drawers: Option<&'a HashMap<DrawerId, Drawer>>,
}

/// The open business day of `node`: its number and its first entry.
pub fn open_day<S: PosStore>(store: &S, node: NodeId) -> Result<(u32, u64), NodeError> {
    Ok(match store.last_closed_day(node)? {
        Some(ClosedDay {
            close_seq, summary, ..
        }) => (summary.day + 1, close_seq + 1),
        None => (1, 1),
    })
}

pub(crate) fn currency<S: PosStore>(store: &S) -> Result<Currency, NodeError> {
    store
        .settings()?
        .map(|s| s.currency)
        .ok_or_else(|| NodeError::NotFound("the restaurant is not set up yet".into()))
}

/// Counts one entry's event, looking up what it needs.
pub(crate) fn record<S: PosStore>(
    store: &S,
    builder: &mut ReportBuilder,
    seq: u64,
    event: &Event,
    overlay: &Overlay<'_>,
) -> Result<(), StoreError> {
    let order = match event {
        Event::Order(e)
            if matches!(
                e.change,
                Change::PaymentTaken { .. }
                    | Change::Refunded { .. }
                    | Change::LineVoided { .. }
                    | Change::Voided { .. }
                    | Change::Closed
            ) =>
        {
            match overlay.orders.and_then(|o| o.get(&e.order)) {
                Some(o) => o.clone(),
                None => store.load_order(e.order)?,
            }
        }
        _ => None,
    };
    let drawer = match event {
        Event::Drawer(e) if matches!(e.change, DrawerChange::Closed { .. }) => {
            match overlay.drawers.and_then(|d| d.get(&e.drawer)) {
                Some(d) => Some(d.clone()),
                None => store.drawer(e.drawer)?,
            }
        }
        _ => None,
    };
    builder
        .record(
            seq,
            event,
            Context {
                order: order.as_ref(),
                drawer: drawer.as_ref(),
            },
        )
        .map_err(|e| StoreError::Corrupt(format!("entry {seq} does not add up: {e}")))
}

/// Folds the committed entries `from..=to` of `node` into `builder`.
pub(crate) fn fold<S: PosStore>(
    store: &S,
    node: NodeId,
    builder: &mut ReportBuilder,
    from: u64,
    to: u64,
    overlay: &Overlay<'_>,
) -> Result<(), NodeError> {
    if to < from {
        return Ok(());
    }
    store.visit_entries(node, from, to, &mut |bytes| {
        let entry = EntryRef::decode(bytes).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let event = decode(entry.payload).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        record(store, builder, entry.seq, &event, overlay)
    })?;
    Ok(())
}

/// The X-report: the open day so far, with the orders and drawers open now.
pub fn x_report<S: PosStore>(store: &S, node: NodeId) -> Result<DayReport, NodeError> {
    let (day, from) = open_day(store, node)?;
    let to = store.chain_head(node)?.map_or(0, |h| h.size());
    let mut builder = ReportBuilder::new(day, currency(store)?, from);
    fold(store, node, &mut builder, from, to, &Overlay::default())?;
    let here = crate::store::node_location(store, node)?;
    builder
        .finish(&store.open_orders(here)?, &store.open_drawers(here)?)
        .map_err(|e| NodeError::Internal(format!("the report does not add up: {e}")))
}

/// A closed day's Z-report, rebuilt from its entries (a reprint).
pub fn closed_report<S: PosStore>(
    store: &S,
    node: NodeId,
    day: u32,
) -> Result<Option<DayReport>, NodeError> {
    let Some(closed) = store.closed_day(node, day)? else {
        return Ok(None);
    };
    let s = &closed.summary;
    let mut builder = ReportBuilder::new(day, s.sales.currency(), s.from_seq);
    fold(
        store,
        node,
        &mut builder,
        s.from_seq,
        s.to_seq,
        &Overlay::default(),
    )?;
    let mut report = builder
        .finish(&[], &[])
        .map_err(|e| NodeError::Internal(format!("the report does not add up: {e}")))?;
    report.closed = true;
    report.to_seq = s.to_seq;
    report.open_orders = s.open_orders;
    report.open_orders_due = s.open_orders_due;
    if report.sales_total != s.sales || report.orders != s.orders {
        return Err(NodeError::Store(StoreError::Corrupt(format!(
            "day {day} no longer adds up to what its Z-report recorded"
        ))));
    }
    Ok(Some(report))
}
