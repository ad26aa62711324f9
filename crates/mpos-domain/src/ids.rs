//! Identifiers. Every id is a 128-bit value chosen by whoever creates the thing (a
//! terminal makes a UUIDv7 for a new order), so terminals never need to ask each other
//! and ids never collide. Shown as hyphenated hex, like a UUID.

use std::fmt;
use std::str::FromStr;

/// Why an id did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an id (expected 32 hex digits, hyphens allowed)")]
pub struct BadId(pub String);

fn parse_u128(text: &str) -> Result<u128, BadId> {
    let hex: String = text.chars().filter(|c| *c != '-').collect();
    if hex.len() != 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(BadId(text.to_string()));
    }
    u128::from_str_radix(&hex, 16).map_err(|_| BadId(text.to_string()))
}

/// The UUID form, 8-4-4-4-12 hex digits (without an allocation: request fingerprints
/// format ids on the writer's hot path).
fn write_u128(v: u128, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    write!(
        f,
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        v >> 96,
        (v >> 80) & 0xffff,
        (v >> 64) & 0xffff,
        (v >> 48) & 0xffff,
        v & 0xffff_ffff_ffff
    )
}

macro_rules! id {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub u128);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write_u128(self.0, f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}(", stringify!($name))?;
                write_u128(self.0, f)?;
                write!(f, ")")
            }
        }

        impl FromStr for $name {
            type Err = BadId;
            fn from_str(s: &str) -> Result<Self, BadId> {
                parse_u128(s).map($name)
            }
        }
    )*};
}

id!(
    /// A category of the menu ("Coffee", "Mains").
    CategoryId,
    /// A sellable item.
    ItemId,
    /// A variant of an item ("large").
    VariantId,
    /// A group of modifiers ("milk", "extras").
    ModifierGroupId,
    /// One modifier option ("oat milk").
    ModifierId,
    /// A tax category ("food", "alcohol").
    TaxCategoryId,
    /// A kitchen station ("bar", "grill").
    StationId,
    /// An order (ticket).
    OrderId,
    /// A line of an order.
    LineId,
    /// A discount applied to an order or line.
    DiscountId,
    /// A payment (tender) taken on an order.
    PaymentId,
    /// A staff member.
    StaffId,
    /// A dining table.
    TableId,
    /// A cash drawer session, from the float counted in to the cash counted out.
    DrawerId,
    /// A restaurant of an organization: where stock is kept and orders are taken.
    LocationId,
    /// Something kept in stock ("flour", "oat milk").
    StockItemId,
    /// Someone stock is bought from.
    SupplierId,
    /// Stock sent from one location to another.
    TransferId,
    /// An order of stock from a supplier.
    PurchaseOrderId,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_print_like_uuids_and_parse_back() {
        let id = OrderId(0x0192_3b4c_5d6e_7f80_91a2_b3c4_d5e6_f708);
        let text = id.to_string();
        assert_eq!(text, "01923b4c-5d6e-7f80-91a2-b3c4d5e6f708");
        assert_eq!(text.parse::<OrderId>().unwrap(), id);
        assert_eq!(
            "01923b4c5d6e7f8091a2b3c4d5e6f708"
                .parse::<OrderId>()
                .unwrap(),
            id
        );
        assert!("xyz".parse::<OrderId>().is_err());
        assert!(
            "01923b4c-5d6e-7f80-91a2-b3c4d5e6f70"
                .parse::<OrderId>()
                .is_err()
        );
    }
}
