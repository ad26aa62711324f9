//! Tax on a line, inclusive or exclusive, with one or more rates.
//!
//! The rounding rule (what receipts and reports rely on):
//!
//! - Tax is computed **per line and per rate**, and rounded **half away from zero** to
//!   the currency's minor unit. A receipt's total per rate is the sum of its lines' tax at
//!   that rate, so the lines always add up to the receipt.
//! - **Exclusive** prices: each rate's tax is `round(net * rate)`; the gross is the net
//!   plus the taxes.
//! - **Inclusive** prices: the net is `round(gross / (1 + sum of rates))`; the tax is
//!   `gross - net`, so net plus tax is the price exactly; with several rates that tax is
//!   shared between them in proportion to their rates (largest remainder).
//!
//! Rates are integers in parts per million (`200_000` is 20%, `88_750` is 8.875%).

use crate::allocate::allocate;
use crate::money::{Money, MoneyError};

const MILLION: i128 = 1_000_000;

/// A tax rate in parts per million.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaxRate(u32);

impl TaxRate {
    pub fn from_ppm(ppm: u32) -> TaxRate {
        TaxRate(ppm)
    }

    pub fn ppm(self) -> u32 {
        self.0
    }

    /// Parses a percentage such as `"20"`, `"7.5"` or `"8.875"` (at most 4 decimals,
    /// at most 100%).
    pub fn parse_percent(text: &str) -> Result<TaxRate, MoneyError> {
        let bad = || MoneyError::BadRate(text.to_string());
        let t = text.trim().trim_end_matches('%');
        let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
        if whole.is_empty()
            || whole.len() > 3
            || frac.len() > 4
            || !whole.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
            || (t.contains('.') && frac.is_empty())
        {
            return Err(bad());
        }
        let whole: u32 = whole.parse().map_err(|_| bad())?;
        let frac: u32 = if frac.is_empty() {
            0
        } else {
            format!("{frac:0<4}").parse().map_err(|_| bad())?
        };
        let ppm = whole * 10_000 + frac;
        if ppm > 1_000_000 {
            return Err(bad());
        }
        Ok(TaxRate(ppm))
    }
}

impl std::fmt::Display for TaxRate {
    /// `20%`, `8.875%`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let whole = self.0 / 10_000;
        let frac = self.0 % 10_000;
        if frac == 0 {
            return write!(f, "{whole}%");
        }
        let digits = format!("{frac:04}");
        write!(f, "{whole}.{}%", digits.trim_end_matches('0'))
    }
}

/// Whether a price includes its taxes (common in Europe and Asia) or has them added
/// (common in North America).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PriceMode {
    Inclusive,
    Exclusive,
}

/// One rate's tax on a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineTax {
    pub rate: TaxRate,
    pub amount: Money,
}

/// A line's amount split into net, taxes and gross: `net + sum(taxes) == gross`, always.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaxedLine {
    pub net: Money,
    pub taxes: Vec<LineTax>,
    pub gross: Money,
}

/// `n / d` rounded half away from zero (`d > 0`).
fn div_round(n: i128, d: i128) -> i128 {
    let q = n / d;
    let r = n % d;
    if 2 * r.abs() >= d { q + n.signum() } else { q }
}

fn to_money(minor: i128, like: Money) -> Result<Money, MoneyError> {
    Ok(Money::new(
        i64::try_from(minor).map_err(|_| MoneyError::Overflow)?,
        like.currency(),
    ))
}

/// Taxes a line of `amount` (already after its discounts) at `rates`.
pub fn tax_line(
    amount: Money,
    rates: &[TaxRate],
    mode: PriceMode,
) -> Result<TaxedLine, MoneyError> {
    let a = i128::from(amount.minor());
    match mode {
        PriceMode::Exclusive => {
            let mut taxes = Vec::with_capacity(rates.len());
            let mut gross = a;
            for &rate in rates {
                let t = div_round(a * i128::from(rate.0), MILLION);
                gross += t;
                taxes.push(LineTax {
                    rate,
                    amount: to_money(t, amount)?,
                });
            }
            Ok(TaxedLine {
                net: amount,
                taxes,
                gross: to_money(gross, amount)?,
            })
        }
        PriceMode::Inclusive => {
            let total_ppm: i128 = rates.iter().map(|r| i128::from(r.0)).sum();
            let net = div_round(a * MILLION, MILLION + total_ppm);
            let tax = to_money(a - net, amount)?;
            let weights: Vec<u64> = rates.iter().map(|r| u64::from(r.0)).collect();
            let shares = if total_ppm == 0 {
                vec![Money::zero(amount.currency()); rates.len()]
            } else {
                allocate(tax, &weights)?
            };
            Ok(TaxedLine {
                net: to_money(net, amount)?,
                taxes: rates
                    .iter()
                    .zip(shares)
                    .map(|(&rate, amount)| LineTax { rate, amount })
                    .collect(),
                gross: amount,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;

    fn eur(minor: i64) -> Money {
        Money::new(minor, Currency::from_code("EUR").unwrap())
    }

    fn pct(p: &str) -> TaxRate {
        TaxRate::parse_percent(p).unwrap()
    }

    #[test]
    fn exclusive_and_inclusive_lines_round_half_away_from_zero() {
        // (amount, rates, mode, net, taxes, gross)
        type Case<'a> = (i64, &'a [&'a str], PriceMode, i64, &'a [i64], i64);
        let cases: &[Case] = &[
            (1000, &["20"], PriceMode::Exclusive, 1000, &[200], 1200),
            (1005, &["10"], PriceMode::Exclusive, 1005, &[101], 1106), // 100.5 -> 101
            (-1005, &["10"], PriceMode::Exclusive, -1005, &[-101], -1106),
            (1200, &["20"], PriceMode::Inclusive, 1000, &[200], 1200),
            (1000, &["19"], PriceMode::Inclusive, 840, &[160], 1000), // 840.336 -> 840
            (450, &["7"], PriceMode::Inclusive, 421, &[29], 450),     // 420.56 -> 421
            (1000, &["8.875"], PriceMode::Exclusive, 1000, &[89], 1089), // 88.75 -> 89
            (
                1000,
                &["5", "9.975"],
                PriceMode::Exclusive,
                1000,
                &[50, 100],
                1150,
            ), // GST + QST
            (
                1150,
                &["5", "9.975"],
                PriceMode::Inclusive,
                1000,
                &[50, 100],
                1150,
            ),
            (999, &["0"], PriceMode::Inclusive, 999, &[0], 999),
            (999, &[], PriceMode::Exclusive, 999, &[], 999),
        ];
        for &(amount, rates, mode, net, taxes, gross) in cases {
            let rates: Vec<TaxRate> = rates.iter().map(|r| pct(r)).collect();
            let line = tax_line(eur(amount), &rates, mode).unwrap();
            let got: Vec<i64> = line.taxes.iter().map(|t| t.amount.minor()).collect();
            assert_eq!(
                (line.net.minor(), got.as_slice(), line.gross.minor()),
                (net, taxes, gross),
                "{amount} {rates:?} {mode:?}"
            );
        }
    }

    #[test]
    fn rates_parse_and_print() {
        assert_eq!(pct("20").ppm(), 200_000);
        assert_eq!(pct("8.875").ppm(), 88_750);
        assert_eq!(pct("7.5%").to_string(), "7.5%");
        assert_eq!(pct("20").to_string(), "20%");
        for bad in ["", "-5", "101", "1.23456", "abc", "5.", "1000"] {
            assert!(TaxRate::parse_percent(bad).is_err(), "{bad:?}");
        }
    }
}
