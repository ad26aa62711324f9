//! Small helpers for readable output.

use mpos_ledger::Hlc;

/// An HLC as an RFC 3339 UTC time (the logical counter is dropped).
pub fn time(hlc: Hlc) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(hlc.millis());
    humantime::format_rfc3339_millis(t).to_string()
}

/// Prints a JSON value on one line.
pub fn json(value: &serde_json::Value) {
    println!("{value}");
}
