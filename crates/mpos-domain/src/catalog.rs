//! The menu: items with variants, modifier groups with min/max choices and price deltas,
//! per-channel prices, tax categories, kitchen stations, and availability ("86").
//!
//! Pricing a line takes only the pieces it needs (the item, its modifier groups, its tax
//! category), never the whole catalogue: a node with 100,000 items loads three rows, not
//! the menu.

use crate::ids::{
    CategoryId, ItemId, ModifierGroupId, ModifierId, StationId, TaxCategoryId, VariantId,
};
use crate::money::Money;
use crate::refusal::Refusal;
use crate::tax::TaxRate;

/// Where an order comes from; items may be priced differently on each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Channel {
    Counter,
    Table,
    Online,
    Delivery,
}

impl Channel {
    pub const ALL: [Channel; 4] = [
        Channel::Counter,
        Channel::Table,
        Channel::Online,
        Channel::Delivery,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Channel::Counter => "counter",
            Channel::Table => "table",
            Channel::Online => "online",
            Channel::Delivery => "delivery",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Category {
    pub id: CategoryId,
    pub name: String,
    /// The kitchen station its items are sent to (none: not sent, like bottled drinks).
    pub station: Option<StationId>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaxCategory {
    pub id: TaxCategoryId,
    pub name: String,
    pub rates: Vec<TaxRate>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Variant {
    pub id: VariantId,
    pub name: String,
    pub price_delta: Money,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModifierOption {
    pub id: ModifierId,
    pub name: String,
    pub price_delta: Money,
}

/// A choice the guest makes for an item: "milk: pick exactly 1", "extras: up to 3".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModifierGroup {
    pub id: ModifierGroupId,
    pub name: String,
    pub min: u32,
    pub max: u32,
    pub options: Vec<ModifierOption>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    pub id: ItemId,
    pub name: String,
    pub description: String,
    pub category: CategoryId,
    pub sku: Option<String>,
    pub barcode: Option<String>,
    /// Price on every channel without an override.
    pub price: Money,
    pub channel_prices: Vec<(Channel, Money)>,
    pub tax_category: TaxCategoryId,
    /// When not empty, one variant must be chosen.
    pub variants: Vec<Variant>,
    pub modifier_groups: Vec<ModifierGroupId>,
    /// False while the item is 86'd (sold out).
    pub available: bool,
}

impl Item {
    pub fn price_on(&self, channel: Channel) -> Money {
        self.channel_prices
            .iter()
            .find(|(c, _)| *c == channel)
            .map_or(self.price, |(_, p)| *p)
    }
}

/// What the guest asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selection {
    pub item: ItemId,
    pub variant: Option<VariantId>,
    pub modifiers: Vec<ModifierId>,
    pub quantity: u32,
}

/// A chosen modifier as it is priced and printed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChosenModifier {
    pub id: ModifierId,
    pub name: String,
    pub price_delta: Money,
}

/// A selection checked against the menu and priced: everything an order line needs,
/// copied, so later menu edits never change a sale already made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PricedSelection {
    pub item: ItemId,
    pub name: String,
    pub variant: Option<(VariantId, String)>,
    pub modifiers: Vec<ChosenModifier>,
    pub quantity: u32,
    /// Price of one, with variant and modifiers.
    pub unit_price: Money,
    pub tax_rates: Vec<TaxRate>,
    pub category: CategoryId,
    /// The kitchen station it goes to, from its category when it was sold (none: it is
    /// not made in the kitchen).
    pub station: Option<StationId>,
}

/// Checks a selection against its item, the item's modifier groups and tax category, and
/// prices it for `channel`.
pub fn price_selection(
    item: &Item,
    groups: &[ModifierGroup],
    tax: &TaxCategory,
    selection: &Selection,
    channel: Channel,
) -> Result<PricedSelection, Refusal> {
    if selection.item != item.id {
        return Err(Refusal::UnknownItem(selection.item));
    }
    if !item.available {
        return Err(Refusal::ItemUnavailable {
            item: item.name.clone(),
        });
    }
    if selection.quantity == 0 {
        return Err(Refusal::ZeroQuantity);
    }
    let mut unit = item.price_on(channel);
    let variant = match (selection.variant, item.variants.is_empty()) {
        (None, true) => None,
        (None, false) => {
            return Err(Refusal::VariantRequired {
                item: item.name.clone(),
            });
        }
        (Some(v), _) => {
            let variant = item.variants.iter().find(|x| x.id == v).ok_or_else(|| {
                Refusal::UnknownVariant {
                    item: item.name.clone(),
                }
            })?;
            unit = unit.checked_add(variant.price_delta)?;
            Some((variant.id, variant.name.clone()))
        }
    };
    let mut chosen = Vec::with_capacity(selection.modifiers.len());
    for (i, m) in selection.modifiers.iter().enumerate() {
        if selection.modifiers[..i].contains(m) {
            return Err(Refusal::DuplicateModifier);
        }
        let option = item
            .modifier_groups
            .iter()
            .filter_map(|gid| groups.iter().find(|g| g.id == *gid))
            .flat_map(|g| g.options.iter())
            .find(|o| o.id == *m)
            .ok_or_else(|| Refusal::UnknownModifier {
                item: item.name.clone(),
            })?;
        unit = unit.checked_add(option.price_delta)?;
        chosen.push(ChosenModifier {
            id: option.id,
            name: option.name.clone(),
            price_delta: option.price_delta,
        });
    }
    for gid in &item.modifier_groups {
        let group = groups.iter().find(|g| g.id == *gid).ok_or_else(|| {
            Refusal::Inconsistent(format!("modifier group {gid} of {} is missing", item.name))
        })?;
        let count = group
            .options
            .iter()
            .filter(|o| selection.modifiers.contains(&o.id))
            .count() as u32;
        if count < group.min || count > group.max {
            return Err(Refusal::ModifierCount {
                group: group.name.clone(),
                min: group.min,
                max: group.max,
                chosen: count,
            });
        }
    }
    if unit.is_negative() {
        return Err(Refusal::Inconsistent(format!(
            "{} would cost less than nothing",
            item.name
        )));
    }
    Ok(PricedSelection {
        item: item.id,
        name: item.name.clone(),
        variant,
        modifiers: chosen,
        quantity: selection.quantity,
        unit_price: unit,
        tax_rates: tax.rates.clone(),
        category: item.category,
        // The category's: the caller, which holds the category, fills it in.
        station: None,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::money::Currency;

    pub fn eur(minor: i64) -> Money {
        Money::new(minor, Currency::from_code("EUR").unwrap())
    }

    /// A flat white: size variants, milk (exactly 1), extras (0 to 2), cheaper online.
    pub fn flat_white() -> (Item, Vec<ModifierGroup>, TaxCategory) {
        let item = Item {
            id: ItemId(1),
            name: "Flat white".into(),
            description: "Double ristretto, silky milk".into(),
            category: CategoryId(1),
            sku: Some("COF-FW".into()),
            barcode: None,
            price: eur(380),
            channel_prices: vec![(Channel::Online, eur(360))],
            tax_category: TaxCategoryId(1),
            variants: vec![
                Variant {
                    id: VariantId(1),
                    name: "Regular".into(),
                    price_delta: eur(0),
                },
                Variant {
                    id: VariantId(2),
                    name: "Large".into(),
                    price_delta: eur(60),
                },
            ],
            modifier_groups: vec![ModifierGroupId(1), ModifierGroupId(2)],
            available: true,
        };
        let groups = vec![
            ModifierGroup {
                id: ModifierGroupId(1),
                name: "Milk".into(),
                min: 1,
                max: 1,
                options: vec![
                    ModifierOption {
                        id: ModifierId(1),
                        name: "Whole".into(),
                        price_delta: eur(0),
                    },
                    ModifierOption {
                        id: ModifierId(2),
                        name: "Oat".into(),
                        price_delta: eur(50),
                    },
                ],
            },
            ModifierGroup {
                id: ModifierGroupId(2),
                name: "Extras".into(),
                min: 0,
                max: 2,
                options: vec![
                    ModifierOption {
                        id: ModifierId(3),
                        name: "Extra shot".into(),
                        price_delta: eur(70),
                    },
                    ModifierOption {
                        id: ModifierId(4),
                        name: "Vanilla".into(),
                        price_delta: eur(40),
                    },
                    ModifierOption {
                        id: ModifierId(5),
                        name: "Caramel".into(),
                        price_delta: eur(40),
                    },
                ],
            },
        ];
        let tax = TaxCategory {
            id: TaxCategoryId(1),
            name: "Food".into(),
            rates: vec![TaxRate::from_ppm(70_000)],
        };
        (item, groups, tax)
    }

    fn select(variant: Option<u128>, modifiers: &[u128], quantity: u32) -> Selection {
        Selection {
            item: ItemId(1),
            variant: variant.map(VariantId),
            modifiers: modifiers.iter().map(|m| ModifierId(*m)).collect(),
            quantity,
        }
    }

    #[test]
    fn a_valid_selection_is_priced_with_variant_and_modifiers() {
        let (item, groups, tax) = flat_white();
        let p = price_selection(
            &item,
            &groups,
            &tax,
            &select(Some(2), &[2, 3], 2),
            Channel::Counter,
        )
        .unwrap();
        assert_eq!(p.unit_price, eur(380 + 60 + 50 + 70));
        assert_eq!(p.modifiers.len(), 2);
        let online = price_selection(
            &item,
            &groups,
            &tax,
            &select(Some(1), &[1], 1),
            Channel::Online,
        )
        .unwrap();
        assert_eq!(online.unit_price, eur(360));
    }

    #[test]
    fn invalid_selections_are_refused_precisely() {
        let (item, groups, tax) = flat_white();
        let refuse =
            |s: Selection| price_selection(&item, &groups, &tax, &s, Channel::Counter).unwrap_err();
        assert_eq!(refuse(select(Some(1), &[1], 0)), Refusal::ZeroQuantity);
        assert!(matches!(
            refuse(select(None, &[1], 1)),
            Refusal::VariantRequired { .. }
        ));
        assert!(matches!(
            refuse(select(Some(9), &[1], 1)),
            Refusal::UnknownVariant { .. }
        ));
        assert!(matches!(
            refuse(select(Some(1), &[], 1)),
            Refusal::ModifierCount {
                min: 1,
                max: 1,
                chosen: 0,
                ..
            }
        ));
        assert!(matches!(
            refuse(select(Some(1), &[1, 2], 1)),
            Refusal::ModifierCount { chosen: 2, .. }
        ));
        assert!(matches!(
            refuse(select(Some(1), &[1, 3, 4, 5], 1)),
            Refusal::ModifierCount {
                max: 2,
                chosen: 3,
                ..
            }
        ));
        assert!(matches!(
            refuse(select(Some(1), &[1, 99], 1)),
            Refusal::UnknownModifier { .. }
        ));
        assert_eq!(
            refuse(select(Some(1), &[1, 1], 1)),
            Refusal::DuplicateModifier
        );
        let mut sold_out = item.clone();
        sold_out.available = false;
        assert!(matches!(
            price_selection(
                &sold_out,
                &groups,
                &tax,
                &select(Some(1), &[1], 1),
                Channel::Counter
            ),
            Err(Refusal::ItemUnavailable { .. })
        ));
    }
}
