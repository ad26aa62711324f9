//! Changing the menu: commands that create or replace catalogue entries and mark items
//! sold out, checked against the entries they refer to. Like orders, each accepted command
//! becomes events recorded in the ledger; the node never edits the menu any other way.
//!
//! `decide` sees the catalogue only through `MenuView`, which hands over the few rows a
//! command refers to: a menu of 100,000 items is never loaded whole.

use crate::catalog::{Category, Item, ModifierGroup, TaxCategory};
use crate::ids::{CategoryId, ItemId, ModifierGroupId, TaxCategoryId};
use crate::money::Currency;
use crate::refusal::Refusal;
use crate::staff::{Actor, Permission};
use crate::tax::PriceMode;

/// The restaurant-wide settings every price depends on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// The restaurant's name, printed on receipts.
    pub name: String,
    pub currency: Currency,
    pub price_mode: PriceMode,
}

/// The rows of the current menu a command may refer to.
pub trait MenuView {
    /// `None` until the restaurant is set up.
    fn settings(&self) -> Option<Settings>;
    fn item(&self, id: ItemId) -> Option<Item>;
    fn category(&self, id: CategoryId) -> Option<Category>;
    fn modifier_group(&self, id: ModifierGroupId) -> Option<ModifierGroup>;
    fn tax_category(&self, id: TaxCategoryId) -> Option<TaxCategory>;
    /// The item that has this SKU or barcode, if any.
    fn item_with_code(&self, code: &str) -> Option<ItemId>;
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MenuCommand {
    PutSettings(Settings),
    PutTaxCategory(TaxCategory),
    PutCategory(Category),
    PutModifierGroup(ModifierGroup),
    PutItem(Item),
    /// 86 an item (`available: false`) or bring it back.
    SetAvailable {
        item: ItemId,
        available: bool,
    },
}

/// What happened to the menu. Entries are recorded whole: the ledger shows exactly what
/// the menu said at any moment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MenuChange {
    SettingsPut(Settings),
    TaxCategoryPut(TaxCategory),
    CategoryPut(Category),
    ModifierGroupPut(ModifierGroup),
    ItemPut(Item),
    AvailabilitySet { item: ItemId, available: bool },
}

fn invalid(msg: impl Into<String>) -> Refusal {
    Refusal::Invalid(msg.into())
}

fn named(what: &str, name: &str) -> Result<(), Refusal> {
    if name.trim().is_empty() {
        return Err(invalid(format!("a {what} needs a name")));
    }
    if name.chars().count() > 200 {
        return Err(invalid(format!(
            "a {what}'s name is at most 200 characters"
        )));
    }
    Ok(())
}

/// Checks a menu command against the current menu and the actor's role.
pub fn decide(
    view: &dyn MenuView,
    command: &MenuCommand,
    actor: Actor,
) -> Result<Vec<MenuChange>, Refusal> {
    if let MenuCommand::PutSettings(new) = command {
        require(actor)?;
        named("restaurant", &new.name)?;
        if let Some(old) = view.settings()
            && old.currency != new.currency
        {
            // Every price on the menu and in the books is in the old currency.
            return Err(invalid(format!(
                "the restaurant keeps its books in {}; its currency cannot change",
                old.currency
            )));
        }
        return Ok(vec![MenuChange::SettingsPut(new.clone())]);
    }
    let currency = view
        .settings()
        .map(|s| s.currency)
        .ok_or_else(|| invalid("set up the restaurant (name, currency) first"))?;
    match command {
        MenuCommand::PutSettings(_) => unreachable_settings(),
        MenuCommand::PutTaxCategory(t) => {
            require(actor)?;
            named("tax category", &t.name)?;
            if t.rates.iter().any(|r| r.ppm() > 1_000_000) {
                return Err(invalid("a tax rate is at most 100%"));
            }
            Ok(vec![MenuChange::TaxCategoryPut(t.clone())])
        }
        MenuCommand::PutCategory(c) => {
            require(actor)?;
            named("category", &c.name)?;
            Ok(vec![MenuChange::CategoryPut(c.clone())])
        }
        MenuCommand::PutModifierGroup(g) => {
            require(actor)?;
            named("modifier group", &g.name)?;
            if g.options.is_empty() {
                return Err(invalid(format!("{} has no options", g.name)));
            }
            if g.min > g.max {
                return Err(invalid(format!(
                    "{}: at least {} but at most {}?",
                    g.name, g.min, g.max
                )));
            }
            if g.max as usize > g.options.len() && g.max != u32::MAX {
                return Err(invalid(format!(
                    "{}: at most {} of only {} options",
                    g.name,
                    g.max,
                    g.options.len()
                )));
            }
            for (i, o) in g.options.iter().enumerate() {
                named("modifier", &o.name)?;
                if o.price_delta.currency() != currency {
                    return Err(invalid(format!(
                        "{} is priced in {}, the menu in {currency}",
                        o.name,
                        o.price_delta.currency()
                    )));
                }
                if g.options[..i].iter().any(|x| x.id == o.id) {
                    return Err(invalid(format!("{} is listed twice in {}", o.name, g.name)));
                }
            }
            Ok(vec![MenuChange::ModifierGroupPut(g.clone())])
        }
        MenuCommand::PutItem(item) => {
            require(actor)?;
            named("item", &item.name)?;
            if view.category(item.category).is_none() {
                return Err(invalid(format!("{}: no such category", item.name)));
            }
            if view.tax_category(item.tax_category).is_none() {
                return Err(invalid(format!("{}: no such tax category", item.name)));
            }
            for g in &item.modifier_groups {
                if view.modifier_group(*g).is_none() {
                    return Err(invalid(format!(
                        "{}: no such modifier group {g}",
                        item.name
                    )));
                }
            }
            let prices = std::iter::once(item.price)
                .chain(item.channel_prices.iter().map(|(_, p)| *p))
                .chain(item.variants.iter().map(|v| v.price_delta));
            for p in prices {
                if p.currency() != currency {
                    return Err(invalid(format!(
                        "{} is priced in {}, the menu in {currency}",
                        item.name,
                        p.currency()
                    )));
                }
            }
            if item.price.is_negative() || item.channel_prices.iter().any(|(_, p)| p.is_negative())
            {
                return Err(invalid(format!(
                    "{} cannot have a negative price",
                    item.name
                )));
            }
            for code in item.sku.iter().chain(item.barcode.iter()) {
                if code.trim().is_empty() {
                    return Err(invalid(format!(
                        "{}: an empty SKU or barcode; leave it out instead",
                        item.name
                    )));
                }
                if let Some(other) = view.item_with_code(code)
                    && other != item.id
                {
                    return Err(invalid(format!(
                        "SKU or barcode {code} already belongs to another item"
                    )));
                }
            }
            Ok(vec![MenuChange::ItemPut(item.clone())])
        }
        MenuCommand::SetAvailable { item, available } => {
            // Kitchen staff 86 items too: they are the first to know.
            if !(actor.role.may(Permission::ManageMenu)
                || actor.role.may(Permission::Kitchen)
                || actor.role.may(Permission::Sell))
            {
                return Err(Refusal::NotAllowed {
                    role: actor.role.name(),
                    action: "86 an item".into(),
                });
            }
            let current = view.item(*item).ok_or(Refusal::UnknownItem(*item))?;
            if current.available == *available {
                return Err(invalid(format!(
                    "{} is already {}",
                    current.name,
                    if *available { "available" } else { "86'd" }
                )));
            }
            Ok(vec![MenuChange::AvailabilitySet {
                item: *item,
                available: *available,
            }])
        }
    }
}

/// `PutSettings` returns before the match; this arm only satisfies exhaustiveness.
fn unreachable_settings() -> Result<Vec<MenuChange>, Refusal> {
    Err(invalid("settings are handled first"))
}

fn require(actor: Actor) -> Result<(), Refusal> {
    if actor.role.may(Permission::ManageMenu) {
        Ok(())
    } else {
        Err(Refusal::NotAllowed {
            role: actor.role.name(),
            action: "edit the menu".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::tests::{eur, flat_white};
    use crate::ids::{ModifierId, StaffId};
    use crate::staff::Role;
    use std::collections::HashMap;

    struct Menu {
        items: HashMap<ItemId, Item>,
        groups: Vec<ModifierGroup>,
        tax: TaxCategory,
    }

    impl MenuView for Menu {
        fn settings(&self) -> Option<Settings> {
            Some(Settings {
                name: "Cafe".into(),
                currency: Currency::from_code("EUR").unwrap(),
                price_mode: PriceMode::Inclusive,
            })
        }
        fn item(&self, id: ItemId) -> Option<Item> {
            self.items.get(&id).cloned()
        }
        fn category(&self, id: CategoryId) -> Option<Category> {
            (id == CategoryId(1)).then(|| Category {
                id,
                name: "Coffee".into(),
                station: None,
            })
        }
        fn modifier_group(&self, id: ModifierGroupId) -> Option<ModifierGroup> {
            self.groups.iter().find(|g| g.id == id).cloned()
        }
        fn tax_category(&self, id: TaxCategoryId) -> Option<TaxCategory> {
            (id == self.tax.id).then(|| self.tax.clone())
        }
        fn item_with_code(&self, code: &str) -> Option<ItemId> {
            self.items
                .values()
                .find(|i| i.sku.as_deref() == Some(code) || i.barcode.as_deref() == Some(code))
                .map(|i| i.id)
        }
    }

    const MANAGER: Actor = Actor {
        staff: StaffId(1),
        role: Role::Manager,
    };
    const CASHIER: Actor = Actor {
        staff: StaffId(2),
        role: Role::Cashier,
    };

    fn menu() -> (Menu, Item) {
        let (item, groups, tax) = flat_white();
        let mut items = HashMap::new();
        items.insert(item.id, item.clone());
        (Menu { items, groups, tax }, item)
    }

    #[test]
    fn valid_entries_are_accepted_and_invalid_ones_refused() {
        let (m, item) = menu();
        assert_eq!(
            decide(&m, &MenuCommand::PutItem(item.clone()), MANAGER).unwrap(),
            vec![MenuChange::ItemPut(item.clone())]
        );
        let refuse = |cmd: MenuCommand, actor| decide(&m, &cmd, actor).unwrap_err().to_string();
        assert!(refuse(MenuCommand::PutItem(item.clone()), CASHIER).contains("may not"));
        let mut bad = item.clone();
        bad.name = " ".into();
        assert!(refuse(MenuCommand::PutItem(bad), MANAGER).contains("needs a name"));
        let mut bad = item.clone();
        bad.category = CategoryId(9);
        assert!(refuse(MenuCommand::PutItem(bad), MANAGER).contains("no such category"));
        let mut bad = item.clone();
        bad.price = eur(-1);
        assert!(refuse(MenuCommand::PutItem(bad), MANAGER).contains("negative"));
        let mut bad = item.clone();
        bad.modifier_groups.push(ModifierGroupId(77));
        assert!(refuse(MenuCommand::PutItem(bad), MANAGER).contains("no such modifier group"));
        let mut other = item.clone();
        other.id = ItemId(2);
        assert!(
            refuse(MenuCommand::PutItem(other), MANAGER)
                .contains("already belongs to another item")
        );
        let mut usd = item.clone();
        usd.price = Money::new(100, Currency::from_code("USD").unwrap());
        assert!(refuse(MenuCommand::PutItem(usd), MANAGER).contains("priced in USD"));

        let mut g = m.groups[0].clone();
        g.min = 2;
        assert!(refuse(MenuCommand::PutModifierGroup(g.clone()), MANAGER).contains("at most"));
        g.min = 0;
        g.options.push(g.options[0].clone());
        assert!(refuse(MenuCommand::PutModifierGroup(g.clone()), MANAGER).contains("listed twice"));
        g.options.pop();
        g.options[0].id = ModifierId(50);
        decide(&m, &MenuCommand::PutModifierGroup(g), MANAGER).unwrap();
    }

    #[test]
    fn settings_come_first_and_the_currency_stays() {
        let (m, _) = menu();
        let usd = Settings {
            name: "Cafe".into(),
            currency: Currency::from_code("USD").unwrap(),
            price_mode: PriceMode::Exclusive,
        };
        assert!(
            decide(&m, &MenuCommand::PutSettings(usd), MANAGER)
                .unwrap_err()
                .to_string()
                .contains("cannot change")
        );
        let mut renamed = m.settings().unwrap();
        renamed.name = "Cafe Two".into();
        decide(&m, &MenuCommand::PutSettings(renamed), MANAGER).unwrap();
    }

    #[test]
    fn staff_86_an_item_and_bring_it_back() {
        let (m, item) = menu();
        let off = MenuCommand::SetAvailable {
            item: item.id,
            available: false,
        };
        assert_eq!(
            decide(&m, &off, CASHIER).unwrap(),
            vec![MenuChange::AvailabilitySet {
                item: item.id,
                available: false
            }]
        );
        let on = MenuCommand::SetAvailable {
            item: item.id,
            available: true,
        };
        assert!(
            decide(&m, &on, CASHIER)
                .unwrap_err()
                .to_string()
                .contains("already available")
        );
        assert!(
            decide(
                &m,
                &MenuCommand::SetAvailable {
                    item: ItemId(99),
                    available: false
                },
                CASHIER
            )
            .is_err()
        );
    }

    use crate::money::Money;
}
