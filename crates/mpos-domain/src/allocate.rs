//! Exact allocation of an amount into parts (order discounts over lines, bills split by
//! seat or evenly): the parts always sum to the total, to the minor unit.

use crate::money::{Money, MoneyError};

/// Splits `total` in proportion to `weights` by the largest-remainder method: each part
/// gets `floor(|total| * w / sum(w))`, then the units left over go one each to the parts
/// with the largest remainders, ties to the earlier part. A negative total is split as
/// its magnitude and negated. Refuses weights that sum to zero.
pub fn allocate(total: Money, weights: &[u64]) -> Result<Vec<Money>, MoneyError> {
    let sum: u128 = weights.iter().map(|&w| u128::from(w)).sum();
    if sum == 0 {
        return Err(MoneyError::NothingToAllocateTo);
    }
    let magnitude = u128::from(total.minor().unsigned_abs());
    let mut parts: Vec<u128> = Vec::with_capacity(weights.len());
    let mut remainders: Vec<(u128, usize)> = Vec::with_capacity(weights.len());
    for (i, &w) in weights.iter().enumerate() {
        let exact = magnitude * u128::from(w);
        parts.push(exact / sum);
        remainders.push((exact % sum, i));
    }
    let given: u128 = parts.iter().sum();
    let mut left = magnitude - given;
    // Largest remainder first; the stable sort keeps earlier parts first among equals.
    remainders.sort_by_key(|r| std::cmp::Reverse(r.0));
    for (_, i) in remainders {
        if left == 0 {
            break;
        }
        parts[i] += 1;
        left -= 1;
    }
    parts
        .into_iter()
        .map(|p| {
            let p = i64::try_from(p).map_err(|_| MoneyError::Overflow)?;
            Ok(Money::new(
                if total.is_negative() { -p } else { p },
                total.currency(),
            ))
        })
        .collect()
}

/// Splits `total` into `n` parts that differ by at most one minor unit, larger ones first.
pub fn split_evenly(total: Money, n: usize) -> Result<Vec<Money>, MoneyError> {
    allocate(total, &vec![1; n])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;

    fn eur(minor: i64) -> Money {
        Money::new(minor, Currency::from_code("EUR").unwrap())
    }

    #[test]
    fn allocations_are_exact_and_fair() {
        let minors = |v: Vec<Money>| v.iter().map(Money::minor).collect::<Vec<_>>();
        assert_eq!(minors(split_evenly(eur(1000), 3).unwrap()), [334, 333, 333]);
        assert_eq!(
            minors(split_evenly(eur(-1000), 3).unwrap()),
            [-334, -333, -333]
        );
        assert_eq!(
            minors(allocate(eur(100), &[1, 1, 1, 0]).unwrap()),
            [34, 33, 33, 0]
        );
        assert_eq!(
            minors(allocate(eur(1000), &[450, 350, 200]).unwrap()),
            [450, 350, 200]
        );
        assert_eq!(minors(allocate(eur(7), &[1, 2]).unwrap()), [2, 5]);
        assert_eq!(
            allocate(eur(5), &[0, 0]),
            Err(MoneyError::NothingToAllocateTo)
        );
        assert_eq!(
            split_evenly(eur(5), 0),
            Err(MoneyError::NothingToAllocateTo)
        );
    }
}
