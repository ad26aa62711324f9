//! Money: a signed integer amount of a currency's minor unit (cents), never a float.

use std::fmt;

/// An ISO 4217 currency and the number of decimals of its minor unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Currency {
    code: [u8; 3],
    exponent: u8,
}

/// ISO 4217 codes M_POS knows, with their minor-unit exponents. A currency not listed is
/// refused rather than guessed.
const KNOWN: &[(&str, u8)] = &[
    ("AUD", 2),
    ("BHD", 3),
    ("BND", 2),
    ("CAD", 2),
    ("CHF", 2),
    ("CNY", 2),
    ("CZK", 2),
    ("DKK", 2),
    ("EUR", 2),
    ("GBP", 2),
    ("HKD", 2),
    ("HUF", 2),
    ("IDR", 2),
    ("INR", 2),
    ("ISK", 0),
    ("JOD", 3),
    ("JPY", 0),
    ("KHR", 2),
    ("KRW", 0),
    ("KWD", 3),
    ("LAK", 2),
    ("MMK", 2),
    ("MXN", 2),
    ("MYR", 2),
    ("NOK", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PHP", 2),
    ("PLN", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("THB", 2),
    ("TND", 3),
    ("TWD", 2),
    ("USD", 2),
    ("VND", 0),
    ("ZAR", 2),
];

impl Currency {
    /// Looks up an ISO 4217 code such as `"EUR"`.
    pub fn from_code(code: &str) -> Result<Currency, MoneyError> {
        KNOWN
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(c, e)| Currency {
                code: c.as_bytes().try_into().unwrap_or([b'?'; 3]),
                exponent: *e,
            })
            .ok_or_else(|| MoneyError::UnknownCurrency(code.to_string()))
    }

    pub fn code(&self) -> &str {
        std::str::from_utf8(&self.code).unwrap_or("???")
    }

    /// Decimals of the minor unit: 2 for EUR, 0 for JPY, 3 for KWD.
    pub fn exponent(&self) -> u8 {
        self.exponent
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Why a money operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("unknown currency {0:?} (expected an ISO 4217 code such as EUR)")]
    UnknownCurrency(String),
    #[error("cannot combine {0} and {1}")]
    CurrencyMismatch(Currency, Currency),
    #[error("amount out of range")]
    Overflow,
    #[error("nothing to share the amount between")]
    NothingToAllocateTo,
    #[error("{0:?} is not a tax rate (expected a percentage such as 20 or 8.875)")]
    BadRate(String),
    #[error("{0:?} is not an amount (expected digits with at most {1} decimals, such as 12.50)")]
    Unparseable(String, u8),
}

/// An amount in minor units of a currency.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Money {
    minor: i64,
    currency: Currency,
}

impl Money {
    pub fn new(minor: i64, currency: Currency) -> Money {
        Money { minor, currency }
    }

    pub fn zero(currency: Currency) -> Money {
        Money { minor: 0, currency }
    }

    pub fn minor(&self) -> i64 {
        self.minor
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }

    pub fn is_zero(&self) -> bool {
        self.minor == 0
    }

    pub fn is_negative(&self) -> bool {
        self.minor < 0
    }

    fn same(&self, other: &Money) -> Result<(), MoneyError> {
        if self.currency != other.currency {
            return Err(MoneyError::CurrencyMismatch(self.currency, other.currency));
        }
        Ok(())
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.same(&other)?;
        let minor = self
            .minor
            .checked_add(other.minor)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money { minor, ..self })
    }

    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.same(&other)?;
        let minor = self
            .minor
            .checked_sub(other.minor)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money { minor, ..self })
    }

    pub fn checked_mul(self, factor: i64) -> Result<Money, MoneyError> {
        let minor = self.minor.checked_mul(factor).ok_or(MoneyError::Overflow)?;
        Ok(Money { minor, ..self })
    }

    pub fn checked_neg(self) -> Result<Money, MoneyError> {
        let minor = self.minor.checked_neg().ok_or(MoneyError::Overflow)?;
        Ok(Money { minor, ..self })
    }

    /// Sums amounts of one currency; an empty list sums to zero of `currency`.
    pub fn sum(
        currency: Currency,
        items: impl IntoIterator<Item = Money>,
    ) -> Result<Money, MoneyError> {
        items
            .into_iter()
            .try_fold(Money::zero(currency), |acc, m| acc.checked_add(m))
    }

    /// Parses a decimal amount such as `"12.5"` or `"-0.05"` exactly (no floats).
    pub fn parse(text: &str, currency: Currency) -> Result<Money, MoneyError> {
        let bad = || MoneyError::Unparseable(text.to_string(), currency.exponent);
        let t = text.trim();
        let (negative, digits) = match t.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, t),
        };
        let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
        let exp = usize::from(currency.exponent);
        if whole.is_empty()
            || !whole.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
            || frac.len() > exp
            || (digits.contains('.') && frac.is_empty())
        {
            return Err(bad());
        }
        let scale = 10i64
            .checked_pow(u32::from(currency.exponent))
            .ok_or_else(bad)?;
        // Digits were checked above: a failing parse can only be an overflow.
        let whole: i64 = whole.parse().map_err(|_| MoneyError::Overflow)?;
        let frac_value: i64 = if frac.is_empty() {
            0
        } else {
            let padded = format!("{frac:0<exp$}");
            padded.parse().map_err(|_| bad())?
        };
        let minor = whole
            .checked_mul(scale)
            .and_then(|w| w.checked_add(frac_value))
            .ok_or(MoneyError::Overflow)?;
        Ok(Money {
            minor: if negative { -minor } else { minor },
            currency,
        })
    }
}

impl fmt::Display for Money {
    /// `12.50 EUR`, `-0.05 EUR`, `1200 JPY`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        let exp = u32::from(self.currency.exponent);
        if exp == 0 {
            return write!(f, "{sign}{abs} {}", self.currency);
        }
        let scale = 10u64.pow(exp);
        write!(
            f,
            "{sign}{}.{:0width$} {}",
            abs / scale,
            abs % scale,
            self.currency,
            width = exp as usize
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur() -> Currency {
        Currency::from_code("EUR").unwrap()
    }

    #[test]
    fn amounts_parse_and_print_exactly() {
        let cases = [
            ("EUR", "12.5", 1250, "12.50 EUR"),
            ("EUR", "-0.05", -5, "-0.05 EUR"),
            ("EUR", "3", 300, "3.00 EUR"),
            ("JPY", "1200", 1200, "1200 JPY"),
            ("KWD", "1.005", 1005, "1.005 KWD"),
        ];
        for (code, text, minor, shown) in cases {
            let c = Currency::from_code(code).unwrap();
            let m = Money::parse(text, c).unwrap();
            assert_eq!(m.minor(), minor, "{text}");
            assert_eq!(m.to_string(), shown);
        }
        for bad in ["", "1.234", "1.", ".5", "abc", "1,50", "--1", "1e3"] {
            assert!(Money::parse(bad, eur()).is_err(), "{bad:?}");
        }
        assert!(Money::parse("1.5", Currency::from_code("JPY").unwrap()).is_err());
        assert_eq!(
            Money::parse("99999999999999999999", eur()),
            Err(MoneyError::Overflow)
        );
    }

    #[test]
    fn currencies_never_mix_and_overflow_is_an_error() {
        let usd = Currency::from_code("USD").unwrap();
        let a = Money::new(100, eur());
        assert!(matches!(
            a.checked_add(Money::new(1, usd)),
            Err(MoneyError::CurrencyMismatch(..))
        ));
        assert_eq!(
            Money::new(i64::MAX, eur()).checked_add(Money::new(1, eur())),
            Err(MoneyError::Overflow)
        );
        assert!(Currency::from_code("XYZ").is_err());
        assert_eq!(Money::sum(eur(), [a, a, a]).unwrap().minor(), 300);
    }
}
