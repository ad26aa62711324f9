//! Splitting a bill: by seat, by items, or evenly. Every split sums to the order's total
//! to the minor unit; the service charge is shared in proportion to what each part ate.

use crate::allocate::{allocate, split_evenly};
use crate::ids::LineId;
use crate::money::{Money, MoneyError};
use crate::order::{Order, Totals};

/// What each seat owes: its own lines, an equal share of the lines without a seat, and
/// its share of the service charge. Seats are those that have lines, in order.
pub fn by_seat(order: &Order, totals: &Totals) -> Result<Vec<(u32, Money)>, MoneyError> {
    let zero = Money::zero(order.currency);
    let mut seats: Vec<u32> = order.live_lines().filter_map(|l| l.seat).collect();
    seats.sort_unstable();
    seats.dedup();
    if seats.is_empty() {
        return Err(MoneyError::NothingToAllocateTo);
    }
    let mut owed = vec![zero; seats.len()];
    let mut shared = zero;
    for lt in &totals.lines {
        let seat = order.line(lt.line).and_then(|l| l.seat);
        match seat.and_then(|s| seats.iter().position(|x| *x == s)) {
            Some(i) => owed[i] = owed[i].checked_add(lt.taxed.gross)?,
            None => shared = shared.checked_add(lt.taxed.gross)?,
        }
    }
    for (o, share) in owed.iter_mut().zip(split_evenly(shared, seats.len())?) {
        *o = o.checked_add(share)?;
    }
    add_service_share(&mut owed, totals.service_charge)?;
    Ok(seats.into_iter().zip(owed).collect())
}

/// What a guest owes for `lines` (their gross and their share of the service charge).
/// The rest of the bill is `totals.total` minus this.
pub fn by_lines(order: &Order, totals: &Totals, lines: &[LineId]) -> Result<Money, MoneyError> {
    let zero = Money::zero(order.currency);
    let mut parts = [zero, zero];
    for lt in &totals.lines {
        let i = usize::from(!lines.contains(&lt.line));
        parts[i] = parts[i].checked_add(lt.taxed.gross)?;
    }
    add_service_share(&mut parts, totals.service_charge)?;
    Ok(parts[0])
}

/// `n` even parts of what is still due.
pub fn evenly(totals: &Totals, n: usize) -> Result<Vec<Money>, MoneyError> {
    split_evenly(totals.balance, n)
}

fn add_service_share(parts: &mut [Money], service: Money) -> Result<(), MoneyError> {
    if service.is_zero() {
        return Ok(());
    }
    let weights: Vec<u64> = parts
        .iter()
        .map(|m| m.minor().max(0).unsigned_abs())
        .collect();
    let shares = if weights.iter().any(|w| *w > 0) {
        allocate(service, &weights)?
    } else {
        split_evenly(service, parts.len())?
    };
    for (p, s) in parts.iter_mut().zip(shares) {
        *p = p.checked_add(s)?;
    }
    Ok(())
}
