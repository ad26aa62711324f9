//! The wall clock, read in one place.

/// Milliseconds since the Unix epoch. A clock set before 1970 reads as 0; the hybrid
/// logical clock keeps entries ordered regardless.
#[allow(
    clippy::disallowed_methods,
    reason = "this is the clock the lint points to"
)]
pub fn now_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}
