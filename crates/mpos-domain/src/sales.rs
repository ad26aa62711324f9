//! Sales over a stretch of time, cut by hour of the day, by day, by item, by category, by
//! staff member and by location: what the back office draws as charts.
//!
//! The figures are the day report's (see `day`): an order counts when it closes, for the
//! whole of its total (after discounts, with tax and service charge), and for whoever
//! opened it; items and categories count each line after discounts, tax included. So
//! hours, days, staff and locations each add up to the total, and items and categories add up to
//! the total less service charges. Refunds are not sales; the day report shows them.

use std::collections::BTreeMap;

use crate::ids::{CategoryId, ItemId, LocationId, StaffId};
use crate::money::{Currency, Money, MoneyError};
use crate::order::{Order, Status};

const MINUTE: i64 = 60_000;
const DAY: i64 = 24 * 60 * MINUTE;

/// One bar of a chart: how many (orders, or units of an item) and for how much.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bucket {
    pub count: u64,
    pub sales: Money,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sales {
    pub currency: Currency,
    pub orders: u64,
    pub total: Money,
    /// By hour of the day on the restaurant's clock, 0 to 23.
    pub hours: [Bucket; 24],
    /// By day on the restaurant's clock, as days since 1970-01-01.
    pub days: BTreeMap<i64, Bucket>,
    /// By item, with the name it was last sold under.
    pub items: BTreeMap<ItemId, (String, Bucket)>,
    pub categories: BTreeMap<CategoryId, Bucket>,
    pub staff: BTreeMap<StaffId, Bucket>,
    /// By the location the order was taken at (none: at no location).
    pub locations: BTreeMap<Option<LocationId>, Bucket>,
}

impl Sales {
    pub fn new(currency: Currency) -> Sales {
        let zero = Bucket {
            count: 0,
            sales: Money::zero(currency),
        };
        Sales {
            currency,
            orders: 0,
            total: Money::zero(currency),
            hours: [zero; 24],
            days: BTreeMap::new(),
            items: BTreeMap::new(),
            categories: BTreeMap::new(),
            staff: BTreeMap::new(),
            locations: BTreeMap::new(),
        }
    }

    /// Counts a closed order; orders still open or voided are not sales and are skipped.
    /// `utc_offset_minutes` is the restaurant's clock (east of UTC positive).
    pub fn record(&mut self, o: &Order, utc_offset_minutes: i32) -> Result<(), MoneyError> {
        let (Status::Closed, Some(closed_at)) = (o.status, o.closed_at) else {
            return Ok(());
        };
        let t = o.totals()?;
        let zero = Bucket {
            count: 0,
            sales: Money::zero(self.currency),
        };
        self.orders += 1;
        self.total = self.total.checked_add(t.total)?;
        let local =
            i64::try_from(closed_at).unwrap_or(i64::MAX) + i64::from(utc_offset_minutes) * MINUTE;
        let hour = usize::try_from(local.rem_euclid(DAY) / (60 * MINUTE)).unwrap_or(0);
        add(&mut self.hours[hour], 1, t.total)?;
        add(
            self.days.entry(local.div_euclid(DAY)).or_insert(zero),
            1,
            t.total,
        )?;
        add(self.staff.entry(o.opened_by).or_insert(zero), 1, t.total)?;
        add(self.locations.entry(o.location).or_insert(zero), 1, t.total)?;
        for (line, sold) in o.sold_lines(&t) {
            let quantity = u64::from(line.item.quantity);
            let (name, item) = self
                .items
                .entry(line.item.item)
                .or_insert_with(|| (String::new(), zero));
            name.clone_from(&line.item.name);
            add(item, quantity, sold)?;
            let category = self.categories.entry(line.item.category).or_insert(zero);
            add(category, quantity, sold)?;
        }
        Ok(())
    }
}

fn add(bucket: &mut Bucket, count: u64, sales: Money) -> Result<(), MoneyError> {
    bucket.count += count;
    bucket.sales = bucket.sales.checked_add(sales)?;
    Ok(())
}

/// The calendar date (year, month, day) of a day counted from 1970-01-01, in the
/// proleptic Gregorian calendar (Howard Hinnant's `civil_from_days`).
pub fn civil_date(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    // Both are in range by construction (1..=12, 1..=31).
    (year, month as u32, day as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_of_days_since_the_epoch() {
        assert_eq!(civil_date(0), (1970, 1, 1));
        assert_eq!(civil_date(-1), (1969, 12, 31));
        assert_eq!(civil_date(59), (1970, 3, 1));
        // 2000 was a leap year, 2100 will not be.
        assert_eq!(civil_date(11_016), (2000, 2, 29));
        assert_eq!(civil_date(47_541), (2100, 3, 1));
        assert_eq!(civil_date(20_781), (2026, 11, 24));
    }
}
