//! Hybrid logical clock timestamps. The node passes in the physical time; this module only
//! keeps the order (single-board computers have no real-time clock, so wall time can jump).

use std::fmt;

use crate::error::LedgerError;

/// A hybrid logical clock reading: milliseconds since the Unix epoch in the high 48 bits and
/// a logical counter in the low 16. Compared as one integer.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Hlc(pub u64);

impl Hlc {
    pub fn new(millis: u64, logical: u16) -> Hlc {
        Hlc((millis << 16) | u64::from(logical))
    }

    pub fn millis(self) -> u64 {
        self.0 >> 16
    }

    pub fn logical(self) -> u16 {
        (self.0 & 0xffff) as u16
    }

    /// The next reading after `self`, given the physical clock now: never goes backwards,
    /// even when the wall clock does.
    pub fn tick(self, physical_millis: u64) -> Hlc {
        if physical_millis > self.millis() {
            Hlc::new(physical_millis, 0)
        } else {
            Hlc(self.0 + 1)
        }
    }

    /// Folds in a timestamp received from another node, refusing one further ahead of our
    /// physical clock than `max_drift_millis` (a peer with a wild clock must not drag ours).
    pub fn observe(
        self,
        remote: Hlc,
        physical_millis: u64,
        max_drift_millis: u64,
    ) -> Result<Hlc, LedgerError> {
        if remote.millis() > physical_millis.saturating_add(max_drift_millis) {
            return Err(LedgerError::ClockWentBackwards {
                last: physical_millis,
                got: remote.millis(),
            });
        }
        Ok(self.max(remote).tick(physical_millis))
    }
}

impl fmt::Display for Hlc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.millis(), self.logical())
    }
}

impl fmt::Debug for Hlc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hlc({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_is_strictly_monotonic_when_the_wall_clock_jumps_back() {
        let a = Hlc::new(1_000, 0);
        let b = a.tick(500);
        assert!(b > a);
        assert_eq!(b.millis(), 1_000);
        let c = b.tick(2_000);
        assert_eq!(c, Hlc::new(2_000, 0));
    }

    #[test]
    fn observe_moves_past_the_remote_but_refuses_a_wild_clock() {
        let local = Hlc::new(1_000, 3);
        let remote = Hlc::new(1_050, 9);
        let next = local.observe(remote, 1_010, 100).unwrap();
        assert!(next > remote);
        assert!(local.observe(Hlc::new(10_000, 0), 1_010, 100).is_err());
    }
}
