//! Counters for Prometheus (`GET /metrics`, text exposition format 0.0.4). Plain atomics:
//! the writer and the API bump them, the scrape reads them.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct Metrics {
    pub requests_applied: AtomicU64,
    pub requests_replayed: AtomicU64,
    pub requests_refused: AtomicU64,
    pub requests_failed: AtomicU64,
    pub batches: AtomicU64,
    pub syncs: AtomicU64,
    pub batch_requests: AtomicU64,
    pub ledger_entries: AtomicU64,
    pub replicated_entries: AtomicU64,
    pub peer_refusals: AtomicU64,
    pub order_conflicts: AtomicU64,
    pub sync_sent_bytes: AtomicU64,
    pub sync_sent_entries: AtomicU64,
    pub logins_ok: AtomicU64,
    pub logins_refused: AtomicU64,
}

impl Metrics {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// The exposition text.
    pub fn render(&self) -> String {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let mut out = String::new();
        let mut family = |name: &str, kind: &str, help: &str, samples: &[(&str, u64)]| {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} {kind}");
            for (labels, value) in samples {
                let _ = writeln!(out, "{name}{labels} {value}");
            }
        };
        family(
            "mpos_requests_total",
            "counter",
            "Client requests by outcome.",
            &[
                ("{outcome=\"applied\"}", get(&self.requests_applied)),
                ("{outcome=\"replayed\"}", get(&self.requests_replayed)),
                ("{outcome=\"refused\"}", get(&self.requests_refused)),
                ("{outcome=\"failed\"}", get(&self.requests_failed)),
            ],
        );
        family(
            "mpos_batches_total",
            "counter",
            "Committed batches (one transaction each).",
            &[("", get(&self.batches))],
        );
        family(
            "mpos_syncs_total",
            "counter",
            "Syncs of the write-ahead log; each makes every batch committed before it durable.",
            &[("", get(&self.syncs))],
        );
        family(
            "mpos_batch_requests_total",
            "counter",
            "Requests handled in batches; divide by mpos_batches_total for the mean batch size.",
            &[("", get(&self.batch_requests))],
        );
        family(
            "mpos_ledger_entries",
            "gauge",
            "Entries in this node's ledger.",
            &[("", get(&self.ledger_entries))],
        );
        family(
            "mpos_replicated_entries_total",
            "counter",
            "Other nodes' ledger entries received from peers, verified and written.",
            &[("", get(&self.replicated_entries))],
        );
        family(
            "mpos_peer_refusals_total",
            "counter",
            "Messages from peers refused because their entries did not verify.",
            &[("", get(&self.peer_refusals))],
        );
        family(
            "mpos_sync_sent_bytes_total",
            "counter",
            "Bytes of ledger batches sent to peers (messages, before HTTP/2 and TLS framing).",
            &[("", get(&self.sync_sent_bytes))],
        );
        family(
            "mpos_sync_sent_entries_total",
            "counter",
            "Ledger entries sent to peers.",
            &[("", get(&self.sync_sent_entries))],
        );
        family(
            "mpos_order_conflicts_total",
            "counter",
            "Orders that edits from other terminals left needing a manager (paid twice, \
             closed unpaid, voided with payments).",
            &[("", get(&self.order_conflicts))],
        );
        family(
            "mpos_logins_total",
            "counter",
            "Login attempts by outcome.",
            &[
                ("{outcome=\"ok\"}", get(&self.logins_ok)),
                ("{outcome=\"refused\"}", get(&self.logins_refused)),
            ],
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_text_exposition_format() {
        let m = Metrics::default();
        Metrics::add(&m.requests_applied, 3);
        Metrics::add(&m.batches, 1);
        let text = m.render();
        assert!(text.contains("# TYPE mpos_requests_total counter\n"));
        assert!(text.contains("mpos_requests_total{outcome=\"applied\"} 3\n"));
        assert!(text.contains("mpos_batches_total 1\n"));
        assert!(
            text.lines()
                .all(|l| l.starts_with('#') || l.split(' ').count() == 2),
            "{text}"
        );
    }
}
