//! Business refusals: a command the rules do not allow, with a message a cashier can act
//! on. Kept apart from infrastructure failures, which never come from this crate.

use crate::ids::{ItemId, LineId, PaymentId, TableId};
use crate::money::{Money, MoneyError};

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
    #[error("a {role} may not {action}")]
    NotAllowed { role: &'static str, action: String },
    #[error("a reason is required")]
    ReasonRequired,
    #[error("no table {0} on the floor (or it is out of service)")]
    UnknownTable(TableId),
    #[error("no such order")]
    UnknownOrder,
    #[error("order {0} already exists")]
    OrderExists(String),
    #[error("order {0} is closed")]
    OrderClosed(String),
    #[error("order {0} is voided")]
    OrderVoided(String),
    #[error("no line {0} on this order")]
    UnknownLine(LineId),
    #[error("no payment {0} on this order")]
    UnknownPayment(PaymentId),
    #[error("nothing to send to the kitchen")]
    NothingToSend,
    #[error("course {0} has nothing sent to the kitchen")]
    CourseNotSent(u32),
    #[error("course {0} was already fired")]
    CourseAlreadyFired(u32),
    #[error("nothing to pay: the order is empty")]
    NothingToPay,
    #[error("{amount} is more than the {balance} still due")]
    Overpayment { amount: Money, balance: Money },
    #[error("cannot refund {amount}: only {refundable} of that payment is refundable")]
    RefundTooLarge { amount: Money, refundable: Money },
    #[error("part of the order is paid: refund the payment instead")]
    AlreadyPaid,
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Inventory(#[from] crate::inventory::InventoryError),
    /// The menu data contradicts itself (a missing group, a negative price).
    #[error("menu data is inconsistent: {0}")]
    Inconsistent(String),
}
