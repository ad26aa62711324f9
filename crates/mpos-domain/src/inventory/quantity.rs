//! Units and exact quantities of stock. A quantity is an integer count of thousandths of
//! its dimension's base unit (milligrams, millilitres' thousandths, thousandths of a
//! piece), so recipes can ask for half a gram of salt and sums never drift.

use std::fmt;

use super::InventoryError;

/// What a unit measures; only units of one dimension convert into each other.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dimension {
    Mass,
    Volume,
    Count,
}

impl Dimension {
    pub fn name(self) -> &'static str {
        match self {
            Dimension::Mass => "mass",
            Dimension::Volume => "volume",
            Dimension::Count => "count",
        }
    }
}

/// A unit stock is bought, counted and used in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Unit {
    Gram,
    Kilogram,
    Millilitre,
    Litre,
    Each,
}

impl Unit {
    pub const ALL: [Unit; 5] = [
        Unit::Gram,
        Unit::Kilogram,
        Unit::Millilitre,
        Unit::Litre,
        Unit::Each,
    ];

    pub fn symbol(self) -> &'static str {
        match self {
            Unit::Gram => "g",
            Unit::Kilogram => "kg",
            Unit::Millilitre => "ml",
            Unit::Litre => "l",
            Unit::Each => "each",
        }
    }

    pub fn dimension(self) -> Dimension {
        match self {
            Unit::Gram | Unit::Kilogram => Dimension::Mass,
            Unit::Millilitre | Unit::Litre => Dimension::Volume,
            Unit::Each => Dimension::Count,
        }
    }

    /// Thousandths of the base unit in one of this unit.
    pub fn scale(self) -> i64 {
        match self {
            Unit::Gram | Unit::Millilitre | Unit::Each => 1_000,
            Unit::Kilogram | Unit::Litre => 1_000_000,
        }
    }

    /// Decimal places this unit can be written with and stay exact.
    fn places(self) -> u32 {
        self.scale().ilog10()
    }

    /// Reads a unit's symbol or name ("kg", "litre", "pcs").
    pub fn parse(text: &str) -> Result<Unit, InventoryError> {
        let t = text.trim().to_ascii_lowercase();
        Ok(match t.as_str() {
            "g" | "gram" | "grams" => Unit::Gram,
            "kg" | "kilo" | "kilogram" | "kilograms" => Unit::Kilogram,
            "ml" | "millilitre" | "millilitres" | "milliliter" | "milliliters" => Unit::Millilitre,
            "l" | "litre" | "litres" | "liter" | "liters" => Unit::Litre,
            "each" | "ea" | "pc" | "pcs" | "piece" | "pieces" => Unit::Each,
            _ => return Err(InventoryError::UnknownUnit(text.trim().to_string())),
        })
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

/// An exact amount of stock of one dimension.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Quantity {
    pub dimension: Dimension,
    /// Thousandths of the dimension's base unit (g, ml or a piece); may be negative for
    /// a change that takes stock away.
    pub milli: i64,
}

impl Quantity {
    pub fn zero(dimension: Dimension) -> Quantity {
        Quantity {
            dimension,
            milli: 0,
        }
    }

    /// `amount` whole units.
    pub fn of(amount: i64, unit: Unit) -> Result<Quantity, InventoryError> {
        let milli = amount
            .checked_mul(unit.scale())
            .ok_or(InventoryError::Overflow)?;
        Ok(Quantity {
            dimension: unit.dimension(),
            milli,
        })
    }

    /// Reads "1.5 kg", "250g" or "2 each". Exact: more decimals than the unit can hold
    /// (a thousandth of a gram) are refused, never rounded.
    pub fn parse(text: &str) -> Result<Quantity, InventoryError> {
        let t = text.trim();
        let split = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
            .ok_or_else(|| InventoryError::BadQuantity(format!("{t:?} has no unit")))?;
        let (number, unit) = t.split_at(split);
        Quantity::parse_in(number, Unit::parse(unit)?)
    }

    /// Reads a decimal number of `unit` ("1.25").
    pub fn parse_in(number: &str, unit: Unit) -> Result<Quantity, InventoryError> {
        let n = number.trim();
        let bad = || InventoryError::BadQuantity(format!("{n:?} is not a number of {unit}"));
        let (negative, digits) = match n.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, n),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        if whole.is_empty() && fraction.is_empty()
            || !whole.bytes().all(|b| b.is_ascii_digit())
            || !fraction.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        let places = unit.places();
        let fraction = fraction.trim_end_matches('0');
        if fraction.len() > places as usize {
            return Err(InventoryError::BadQuantity(format!(
                "{n} {unit} is finer than a thousandth of a {}",
                Quantity::base_unit(unit.dimension())
            )));
        }
        let whole: i64 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| InventoryError::Overflow)?
        };
        let padded = format!("{fraction:0<width$}", width = places as usize);
        let fraction: i64 = if padded.is_empty() {
            0
        } else {
            padded.parse().map_err(|_| bad())?
        };
        let milli = whole
            .checked_mul(unit.scale())
            .and_then(|w| w.checked_add(fraction))
            .ok_or(InventoryError::Overflow)?;
        Ok(Quantity {
            dimension: unit.dimension(),
            milli: if negative { -milli } else { milli },
        })
    }

    fn base_unit(d: Dimension) -> Unit {
        match d {
            Dimension::Mass => Unit::Gram,
            Dimension::Volume => Unit::Millilitre,
            Dimension::Count => Unit::Each,
        }
    }

    /// Refuses a quantity of another dimension than `unit`'s (grams of milk counted in
    /// litres).
    pub fn require(self, unit: Unit) -> Result<Quantity, InventoryError> {
        if self.dimension == unit.dimension() {
            Ok(self)
        } else {
            Err(InventoryError::IncompatibleUnits {
                have: self.dimension,
                want: unit,
            })
        }
    }

    /// The quantity written in `unit` ("1.5 kg"), exactly.
    pub fn display_in(self, unit: Unit) -> Result<String, InventoryError> {
        self.require(unit)?;
        let scale = unit.scale();
        let sign = if self.milli < 0 { "-" } else { "" };
        let abs = self.milli.unsigned_abs();
        let (whole, fraction) = (abs / scale.unsigned_abs(), abs % scale.unsigned_abs());
        let places = unit.places() as usize;
        let fraction = format!("{fraction:0places$}");
        let fraction = fraction.trim_end_matches('0');
        Ok(if fraction.is_empty() {
            format!("{sign}{whole} {unit}")
        } else {
            format!("{sign}{whole}.{fraction} {unit}")
        })
    }

    pub fn checked_add(self, other: Quantity) -> Result<Quantity, InventoryError> {
        self.same(other)?;
        Ok(Quantity {
            dimension: self.dimension,
            milli: self
                .milli
                .checked_add(other.milli)
                .ok_or(InventoryError::Overflow)?,
        })
    }

    pub fn checked_sub(self, other: Quantity) -> Result<Quantity, InventoryError> {
        self.checked_add(other.negated()?)
    }

    pub fn negated(self) -> Result<Quantity, InventoryError> {
        Ok(Quantity {
            dimension: self.dimension,
            milli: self.milli.checked_neg().ok_or(InventoryError::Overflow)?,
        })
    }

    /// `n` times this quantity (a recipe for `n` portions).
    pub fn times(self, n: i64) -> Result<Quantity, InventoryError> {
        Ok(Quantity {
            dimension: self.dimension,
            milli: self.milli.checked_mul(n).ok_or(InventoryError::Overflow)?,
        })
    }

    fn same(self, other: Quantity) -> Result<(), InventoryError> {
        if self.dimension == other.dimension {
            Ok(())
        } else {
            Err(InventoryError::IncompatibleUnits {
                have: other.dimension,
                want: Quantity::base_unit(self.dimension),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_read_and_print_exactly_in_any_unit_of_their_dimension() {
        let q = Quantity::parse("1.5 kg").unwrap();
        assert_eq!(q.milli, 1_500_000);
        assert_eq!(q.display_in(Unit::Gram).unwrap(), "1500 g");
        assert_eq!(q.display_in(Unit::Kilogram).unwrap(), "1.5 kg");
        assert_eq!(
            Quantity::parse("250g")
                .unwrap()
                .display_in(Unit::Kilogram)
                .unwrap(),
            "0.25 kg"
        );
        assert_eq!(Quantity::parse("0.5 g").unwrap().milli, 500);
        assert_eq!(
            Quantity::parse("2 each")
                .unwrap()
                .display_in(Unit::Each)
                .unwrap(),
            "2 each"
        );
        assert_eq!(
            Quantity::parse("0.75 l")
                .unwrap()
                .display_in(Unit::Millilitre)
                .unwrap(),
            "750 ml"
        );
        assert_eq!(Quantity::parse("-3 g").unwrap().milli, -3_000);
        assert_eq!(Quantity::parse(".5 kg").unwrap().milli, 500_000);
    }

    #[test]
    fn unknown_units_bad_numbers_and_mixed_dimensions_are_refused() {
        assert_eq!(
            Quantity::parse("3 cups"),
            Err(InventoryError::UnknownUnit("cups".into()))
        );
        assert!(matches!(
            Quantity::parse("3"),
            Err(InventoryError::BadQuantity(_))
        ));
        assert!(matches!(
            Quantity::parse("1.2.3 kg"),
            Err(InventoryError::BadQuantity(_))
        ));
        assert!(matches!(
            Quantity::parse("0.0001 g"),
            Err(InventoryError::BadQuantity(_))
        ));
        assert!(matches!(
            Quantity::parse("99999999999999999 kg"),
            Err(InventoryError::Overflow)
        ));
        let milk = Quantity::parse("1 l").unwrap();
        assert!(matches!(
            milk.display_in(Unit::Kilogram),
            Err(InventoryError::IncompatibleUnits { .. })
        ));
        assert!(milk.checked_add(Quantity::parse("1 kg").unwrap()).is_err());
        assert_eq!(
            milk.checked_add(Quantity::parse("250 ml").unwrap())
                .unwrap()
                .milli,
            1_250_000
        );
    }

    proptest::proptest! {
        #[test]
        fn printing_then_reading_gives_the_same_quantity(milli in -1_000_000_000_000i64..1_000_000_000_000, u in 0usize..5) {
            let unit = Unit::ALL[u];
            let q = Quantity { dimension: unit.dimension(), milli };
            let printed = q.display_in(unit).unwrap();
            proptest::prop_assert_eq!(Quantity::parse(&printed).unwrap(), q);
        }
    }
}
