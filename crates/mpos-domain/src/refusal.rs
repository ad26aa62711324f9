//! Business refusals: a command the rules do not allow, with a message a cashier can act
//! on. Kept apart from infrastructure failures, which never come from this crate.

use crate::ids::ItemId;
use crate::money::MoneyError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("unknown item {0}")]
    UnknownItem(ItemId),
    #[error("{item} is sold out (86'd)")]
    ItemUnavailable { item: String },
    #[error("quantity must be at least 1")]
    ZeroQuantity,
    #[error("{item} needs a variant (a size or kind) to be chosen")]
    VariantRequired { item: String },
    #[error("that variant does not exist for {item}")]
    UnknownVariant { item: String },
    #[error("that modifier is not offered for {item}")]
    UnknownModifier { item: String },
    #[error("the same modifier was chosen twice")]
    DuplicateModifier,
    #[error("{group}: choose between {min} and {max}, {chosen} chosen")]
    ModifierCount {
        group: String,
        min: u32,
        max: u32,
        chosen: u32,
    },
    #[error(transparent)]
    Money(#[from] MoneyError),
    /// The menu data contradicts itself (a missing group, a negative price).
    #[error("menu data is inconsistent: {0}")]
    Inconsistent(String),
}
