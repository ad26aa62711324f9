//! What sales take from stock and give back. A sold line takes its recipe when it is sent
//! to the kitchen or when its order closes (the node's [`SalesStock`] says which), from
//! the location the order was taken at (the node's, for an order placed nowhere);
//! a voided line that had been taken gives its recipe back, and a voided or wholly
//! refunded order gives back all it still holds. Nothing is ever given back beyond what
//! the order took, so a recipe edited between the sale and the void cannot make stock.

use crate::ids::{LocationId, StockItemId};
use crate::order::{Change, Line, Order};

use super::{
    Depletion, InventoryError, Movement, Quantity, Recipe, RecipeFor, SalesStock, depletion,
};

/// What an order has taken from stock and not got back, per location and item.
pub type Taken = Vec<(LocationId, StockItemId, Quantity)>;

/// The stock movements `change` makes, given the order after it, what the order has
/// taken so far and the recipes. Empty when the change touches no stock.
pub fn sale_movements(
    policy: Option<SalesStock>,
    order: &Order,
    change: &Change,
    taken: &[(LocationId, StockItemId, Quantity)],
    recipe: impl Fn(RecipeFor) -> Option<Recipe>,
) -> Result<Vec<Movement>, InventoryError> {
    let uses = |lines: &mut dyn Iterator<Item = &Line>| -> Result<_, InventoryError> {
        let mut out: Vec<(StockItemId, Quantity)> = Vec::new();
        for line in lines {
            for (item, q) in depletion(&line.item, &recipe)? {
                add(&mut out, item, q)?;
            }
        }
        Ok(out)
    };
    match (change, policy) {
        (
            Change::LinesSent { lines },
            Some(SalesStock {
                location,
                depletion: Depletion::OnSend,
            }),
        ) => {
            let sent = uses(
                &mut order
                    .lines
                    .iter()
                    .filter(|l| !l.voided && lines.contains(&l.id)),
            )?;
            Ok(depleted(order.location.unwrap_or(location), order, sent))
        }
        (
            Change::Closed,
            Some(SalesStock {
                location,
                depletion: Depletion::OnClose,
            }),
        ) => {
            // Whatever the order already took (sent while the restaurant depleted on
            // send) is not taken twice.
            let mut want = uses(&mut order.lines.iter().filter(|l| !l.voided))?;
            for (item, q) in &mut want {
                let held: i64 = taken
                    .iter()
                    .filter(|(_, i, _)| i == item)
                    .map(|(_, _, t)| t.milli)
                    .sum();
                q.milli = (q.milli - held).max(0);
            }
            Ok(depleted(order.location.unwrap_or(location), order, want))
        }
        (Change::LineVoided { line, .. }, _) => {
            let Some(line) = order.line(*line).filter(|l| l.sent) else {
                return Ok(Vec::new());
            };
            let back = uses(&mut std::iter::once(line))?;
            Ok(restored(order, taken, Some(&back)))
        }
        (Change::Voided { .. }, _) => Ok(restored(order, taken, None)),
        (Change::Refunded { .. }, _) if wholly_refunded(order) => Ok(restored(order, taken, None)),
        _ => Ok(Vec::new()),
    }
}

/// Every payment given back in full (amount and tip).
pub fn wholly_refunded(order: &Order) -> bool {
    !order.payments.is_empty()
        && order.payments.iter().all(|p| {
            p.refunded.minor() > 0
                && p.refunded.minor() >= p.amount.minor().saturating_add(p.tip.minor())
        })
}

fn add(
    out: &mut Vec<(StockItemId, Quantity)>,
    item: StockItemId,
    q: Quantity,
) -> Result<(), InventoryError> {
    match out.iter_mut().find(|(i, _)| *i == item) {
        Some((_, total)) => *total = total.checked_add(q)?,
        None => out.push((item, q)),
    }
    Ok(())
}

fn depleted(
    location: LocationId,
    order: &Order,
    mut lines: Vec<(StockItemId, Quantity)>,
) -> Vec<Movement> {
    lines.retain(|(_, q)| q.milli > 0);
    if lines.is_empty() {
        return Vec::new();
    }
    vec![Movement::Depleted {
        location,
        order: order.id,
        lines,
    }]
}

/// Gives back `which` (none: everything) out of what the order took, to the locations it
/// was taken from, never more than was taken.
fn restored(
    order: &Order,
    taken: &[(LocationId, StockItemId, Quantity)],
    which: Option<&[(StockItemId, Quantity)]>,
) -> Vec<Movement> {
    let mut by_location: Vec<(LocationId, Vec<(StockItemId, Quantity)>)> = Vec::new();
    let mut left: Vec<(StockItemId, i64)> = match which {
        Some(w) => w.iter().map(|(i, q)| (*i, q.milli)).collect(),
        None => Vec::new(),
    };
    for (location, item, held) in taken.iter().filter(|(_, _, q)| q.milli > 0) {
        let give = match which {
            None => held.milli,
            Some(_) => match left.iter_mut().find(|(i, _)| i == item) {
                Some((_, want)) => {
                    let give = (*want).min(held.milli);
                    *want -= give;
                    give
                }
                None => 0,
            },
        };
        if give <= 0 {
            continue;
        }
        let q = Quantity {
            dimension: held.dimension,
            milli: give,
        };
        match by_location.iter_mut().find(|(l, _)| l == location) {
            Some((_, lines)) => lines.push((*item, q)),
            None => by_location.push((*location, vec![(*item, q)])),
        }
    }
    by_location
        .into_iter()
        .map(|(location, lines)| Movement::Restored {
            location,
            order: order.id,
            lines,
        })
        .collect()
}

/// `taken` after `m`, for the order `m` belongs to.
pub fn take(taken: &mut Taken, m: &Movement) {
    let (location, lines, sign) = match m {
        Movement::Depleted {
            location, lines, ..
        } => (location, lines, 1),
        Movement::Restored {
            location, lines, ..
        } => (location, lines, -1),
        _ => return,
    };
    for (item, q) in lines {
        add_one(taken, *location, *item, sign * q.milli, q.dimension);
    }
}

/// `taken` with `more` added (what a batch moved, on top of what was stored).
pub fn add_taken(taken: &mut Taken, more: &[(LocationId, StockItemId, Quantity)]) {
    for (l, i, q) in more {
        add_one(taken, *l, *i, q.milli, q.dimension);
    }
}

fn add_one(
    taken: &mut Taken,
    location: LocationId,
    item: StockItemId,
    milli: i64,
    dimension: super::Dimension,
) {
    match taken
        .iter_mut()
        .find(|(l, i, _)| *l == location && *i == item)
    {
        Some((_, _, t)) => t.milli = t.milli.saturating_add(milli),
        None => taken.push((location, item, Quantity { dimension, milli })),
    }
}
