//! Property tests of the money laws: whatever the amounts, rates and weights, nothing is
//! created or lost to rounding.

#![allow(
    clippy::unwrap_used,
    reason = "test code: a failed unwrap is a failed test"
)]

mod day;
mod inventory;
mod order;

use mpos_domain::{Currency, Money, PriceMode, TaxRate, allocate, split_evenly, tax_line};
use proptest::prelude::*;

fn eur(minor: i64) -> Money {
    Money::new(minor, Currency::from_code("EUR").unwrap())
}

const LIMIT: i64 = 1_000_000_000_000; // ten billion euros: far beyond any ticket

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn allocation_sums_to_the_total_and_follows_the_weights(
        total in -LIMIT..LIMIT,
        weights in prop::collection::vec(0u64..10_000, 1..12),
    ) {
        prop_assume!(weights.iter().any(|&w| w > 0));
        let parts = allocate(eur(total), &weights).unwrap();
        prop_assert_eq!(parts.len(), weights.len());
        prop_assert_eq!(parts.iter().map(Money::minor).sum::<i64>(), total);
        let sum: i128 = weights.iter().map(|&w| i128::from(w)).sum();
        for (p, &w) in parts.iter().zip(&weights) {
            // Each part is within one minor unit of its exact share, zero weight gets zero.
            let exact = i128::from(total) * i128::from(w);
            let floor = i128::from(p.minor()) * sum;
            prop_assert!((exact - floor).abs() < sum, "part {} weight {}", p.minor(), w);
            if w == 0 { prop_assert_eq!(p.minor(), 0); }
        }
    }

    #[test]
    fn an_even_split_differs_by_at_most_one_unit(total in -LIMIT..LIMIT, n in 1usize..40) {
        let parts = split_evenly(eur(total), n).unwrap();
        let minors: Vec<i64> = parts.iter().map(Money::minor).collect();
        prop_assert_eq!(minors.iter().sum::<i64>(), total);
        let max = minors.iter().max().unwrap();
        let min = minors.iter().min().unwrap();
        prop_assert!(max - min <= 1);
    }

    #[test]
    fn net_plus_tax_is_gross_in_both_modes(
        amount in -LIMIT..LIMIT,
        rates in prop::collection::vec(0u32..300_000, 0..4),
        inclusive in any::<bool>(),
    ) {
        let rates: Vec<TaxRate> = rates.into_iter().map(TaxRate::from_ppm).collect();
        let mode = if inclusive { PriceMode::Inclusive } else { PriceMode::Exclusive };
        let line = tax_line(eur(amount), &rates, mode).unwrap();
        let taxes: i64 = line.taxes.iter().map(|t| t.amount.minor()).sum();
        prop_assert_eq!(line.net.minor() + taxes, line.gross.minor());
        match mode {
            PriceMode::Inclusive => prop_assert_eq!(line.gross.minor(), amount),
            PriceMode::Exclusive => prop_assert_eq!(line.net.minor(), amount),
        }
        // Each rate's tax is within one unit of the exact value of that rate on the net
        // (exclusive), and the inclusive net within one unit of gross / (1 + rates).
        let total_ppm: i128 = rates.iter().map(|r| i128::from(r.ppm())).sum();
        if mode == PriceMode::Exclusive {
            for t in &line.taxes {
                let exact = i128::from(amount) * i128::from(t.rate.ppm());
                prop_assert!((i128::from(t.amount.minor()) * 1_000_000 - exact).abs() <= 500_000);
            }
        } else {
            let exact = i128::from(amount) * 1_000_000;
            prop_assert!((i128::from(line.net.minor()) * (1_000_000 + total_ppm) - exact).abs() <= (1_000_000 + total_ppm) / 2);
        }
        // The sign of tax follows the sign of the amount (refund lines carry negative tax).
        for t in &line.taxes {
            prop_assert!(t.amount.minor() == 0 || (t.amount.minor() > 0) == (amount > 0));
        }
    }

    #[test]
    fn money_text_round_trips(minor in -LIMIT..LIMIT) {
        let m = eur(minor);
        let text = m.to_string();
        let number = text.trim_end_matches(" EUR");
        prop_assert_eq!(Money::parse(number, m.currency()).unwrap(), m);
    }
}
