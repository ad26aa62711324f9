//! `mpos bench ...`: load generators whose figures go in docs/PERFORMANCE.md.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Result, bail};
use clap::Subcommand;
use mpos_node::ledger::Event;
use mpos_node::{DataDir, Ledger, clock};
use serde_json::json;

use crate::Outcome;
use crate::output::{self, say};

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Drive a running node (started with `mpos demo`) over gRPC with full tickets: open,
    /// 3 lines with modifiers, card payment, closed. Reports tickets/s and latency.
    Tickets(crate::command::bench_tickets::TicketsArgs),
    /// Append synthetic events to a fresh node's ledger (hash, chain, sign, store durably)
    /// and report the rate. Refuses a data directory whose ledger is not empty.
    Ledger {
        #[arg(long, value_name = "DIR")]
        data: PathBuf,
        #[arg(long, default_value_t = 1_000_000)]
        entries: u64,
        /// Events per committed batch (one checkpoint and one fsync per batch).
        #[arg(long, default_value_t = 1_000)]
        batch: u64,
        #[arg(long, default_value_t = 300)]
        payload_bytes: usize,
        /// Also insert the same rows into a plain SQLite table, for comparison.
        #[arg(long)]
        baseline: bool,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(cmd: BenchCommand) -> Result<Outcome> {
    match cmd {
        BenchCommand::Tickets(args) => crate::command::bench_tickets::run(args),
        BenchCommand::Ledger {
            data,
            entries,
            batch,
            payload_bytes,
            baseline,
            json,
        } => ledger(data, entries, batch, payload_bytes, baseline, json),
    }
}

/// Deterministic filler that does not compress to nothing (xorshift64).
fn payload(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[allow(clippy::float_arithmetic, reason = "rates for display only")]
fn per_second(count: u64, seconds: f64) -> f64 {
    count as f64 / seconds.max(1e-9)
}

fn ledger(
    data: PathBuf,
    entries: u64,
    batch: u64,
    payload_bytes: usize,
    baseline: bool,
    as_json: bool,
) -> Result<Outcome> {
    if entries == 0 || batch == 0 {
        bail!("--entries and --batch must be at least 1");
    }
    if payload_bytes > mpos_ledger::entry::MAX_PAYLOAD_LEN {
        bail!(
            "--payload-bytes is over the entry limit of {}",
            mpos_ledger::entry::MAX_PAYLOAD_LEN
        );
    }
    let dir = DataDir::open_or_create(&data)?;
    let store = dir.store()?;
    let mut ledger = Ledger::open(store, dir.into_key())?;
    if ledger.head().size() > 0 {
        bail!(
            "{} already holds a ledger of {} entries; the benchmark writes synthetic events, so give it a fresh directory",
            data.display(),
            ledger.head().size()
        );
    }
    let started = Instant::now();
    let mut written = 0u64;
    // Printed only once a batch is durable, so a crash test can read what was acknowledged.
    let report_every = (entries / 10).clamp(1, 100_000);
    let mut next_report = report_every;
    while written < entries {
        let n = batch.min(entries - written);
        let events: Vec<Event> = (0..n)
            .map(|i| Event {
                schema: 1,
                payload: payload(written + i, payload_bytes),
            })
            .collect();
        ledger.append_batch(&events, clock::now_millis())?;
        written += n;
        if written >= next_report && !as_json {
            eprintln!("  {written} entries...");
            next_report += report_every;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let rate = per_second(entries, secs);
    let commits = entries.div_ceil(batch);
    let baseline_rate = if baseline {
        let path = data.join("bench-baseline.sqlite3");
        let took = mpos_store_sqlite::baseline::raw_insert(
            &path,
            entries,
            batch,
            payload_bytes + mpos_ledger::entry::ENTRY_HEADER_LEN,
        )?;
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(data.join(format!("bench-baseline.sqlite3{suffix}")));
        }
        Some(per_second(entries, took.as_secs_f64()))
    } else {
        None
    };
    if as_json {
        output::json(&json!({
            "entries": entries,
            "batch": batch,
            "payload_bytes": payload_bytes,
            "seconds": secs,
            "entries_per_second": rate.round(),
            "commits_per_second": per_second(commits, secs).round(),
            "baseline_rows_per_second": baseline_rate.map(f64::round),
        }));
    } else {
        say!(
            "appended {entries} entries of {payload_bytes}-byte payloads in {commits} durable batches of {batch}: {secs:.2} s, {rate:.0} entries/s"
        );
        if let Some(b) = baseline_rate {
            #[allow(clippy::float_arithmetic, reason = "ratio for display only")]
            let ratio = b / rate;
            say!(
                "plain SQLite insert of the same rows: {b:.0} rows/s (the ledger takes {ratio:.2}x as long)"
            );
        }
    }
    Ok(Outcome::Ok)
}
