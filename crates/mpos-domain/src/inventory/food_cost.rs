//! Food cost per menu item: what an item's recipes cost at a location's average costs,
//! against what it sold for. This is the theoretical food cost (the recipes as written,
//! at today's costs); what the kitchen really used, waste and count variances included,
//! is the stock usage's cost of sales.

use std::collections::BTreeMap;

use crate::ids::{ItemId, StockItemId, VariantId};
use crate::money::{Currency, Money};
use crate::order::Order;

use super::sale::wholly_refunded;
use super::{
    InventoryError, Quantity, Recipe, RecipeFor, StockValue, depletion, food_cost_ppm, share,
};

/// What `used` costs at the average cost of what is held (`level`). An item none of
/// which is held has no average, so it counts as nothing.
pub fn cost_of(
    currency: Currency,
    used: impl IntoIterator<Item = (StockItemId, Quantity)>,
    level: impl Fn(StockItemId) -> StockValue,
) -> Result<Money, InventoryError> {
    let mut total = Money::zero(currency);
    for (item, quantity) in used {
        // Settled: registers that sold the same stock apart can leave less than nothing.
        let held = level(item).settled();
        // Priced at the average of what is held, even for more than is held.
        let value = if held.milli > 0 {
            share(held.value, quantity.milli, held.milli)
        } else {
            0
        };
        total = total
            .checked_add(Money::new(value, currency))
            .map_err(|_| InventoryError::Overflow)?;
    }
    Ok(total)
}

/// One menu item (or one variant of it) sold over a stretch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemFoodCost {
    pub item: ItemId,
    pub variant: Option<VariantId>,
    /// The item's name, and its variant's after a space.
    pub name: String,
    pub sold: u64,
    /// After discounts and before tax, less the share of its order that was refunded.
    pub net_sales: Money,
    /// What its recipes, its modifiers' included, cost.
    pub cost: Money,
}

impl ItemFoodCost {
    /// Cost as parts per million of net sales.
    pub fn food_cost_ppm(&self) -> u32 {
        food_cost_ppm(self.cost, self.net_sales)
    }
}

/// Food cost per menu item over closed orders, added one at a time.
#[derive(Clone, Debug)]
pub struct FoodCostByItem {
    currency: Currency,
    items: BTreeMap<(ItemId, Option<VariantId>), ItemFoodCost>,
}

impl FoodCostByItem {
    pub fn new(currency: Currency) -> FoodCostByItem {
        FoodCostByItem {
            currency,
            items: BTreeMap::new(),
        }
    }

    /// Adds `order`'s live lines whose recipes take stock; lines of items without a
    /// recipe have nothing to cost and are left out. An order refunded in full adds
    /// nothing: its sale and its stock were both given back.
    pub fn add(
        &mut self,
        order: &Order,
        recipe: impl Fn(RecipeFor) -> Option<Recipe>,
        level: impl Fn(StockItemId) -> StockValue,
    ) -> Result<(), InventoryError> {
        if wholly_refunded(order) {
            return Ok(());
        }
        let totals = order.totals().map_err(|_| InventoryError::Overflow)?;
        let total = totals.total.minor();
        let refunded: i64 = order
            .payments
            .iter()
            .map(|p| p.refunded.minor())
            .fold(0i64, i64::saturating_add)
            .min(total);
        for lt in &totals.lines {
            let Some(line) = order.line(lt.line).filter(|l| !l.voided) else {
                continue;
            };
            let used = depletion(&line.item, &recipe)?;
            if used.is_empty() {
                continue;
            }
            let cost = cost_of(self.currency, used, &level)?;
            let net = lt.taxed.net.minor();
            let kept = net - share(net, refunded, total);
            let sel = &line.item;
            let key = (sel.item, sel.variant.as_ref().map(|(v, _)| *v));
            let row = self.items.entry(key).or_insert_with(|| ItemFoodCost {
                item: sel.item,
                variant: key.1,
                name: match &sel.variant {
                    Some((_, v)) => format!("{} {v}", sel.name),
                    None => sel.name.clone(),
                },
                sold: 0,
                net_sales: Money::zero(self.currency),
                cost: Money::zero(self.currency),
            });
            row.sold = row.sold.saturating_add(u64::from(sel.quantity));
            row.net_sales = row
                .net_sales
                .checked_add(Money::new(kept, self.currency))
                .map_err(|_| InventoryError::Overflow)?;
            row.cost = row
                .cost
                .checked_add(cost)
                .map_err(|_| InventoryError::Overflow)?;
        }
        Ok(())
    }

    /// Every item sold, by name.
    pub fn items(self) -> Vec<ItemFoodCost> {
        let mut out: Vec<ItemFoodCost> = self.items.into_values().collect();
        out.sort_by(|a, b| (&a.name, a.item, a.variant).cmp(&(&b.name, b.item, b.variant)));
        out
    }
}
