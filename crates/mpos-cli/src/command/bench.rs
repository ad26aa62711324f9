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
    /// Fill a fresh node with a large menu through the menu commands, then time searches
    /// (what a cashier types: word prefixes) and report their latency percentiles.
    Menu {
        #[arg(long, value_name = "DIR")]
        data: PathBuf,
        #[arg(long, default_value_t = 100_000)]
        items: u64,
        #[arg(long, default_value_t = 2_000)]
        queries: u64,
        #[arg(long)]
        json: bool,
    },
    /// Drive a running node (started with `mpos demo`) over gRPC with full tickets: open,
    /// 3 lines with modifiers, card payment, closed. Reports tickets/s and latency.
    Tickets(crate::command::bench_tickets::TicketsArgs),
    /// Fill a fresh node with locations, stock items, par levels and stock movements
    /// through its writer, then serve it and time the cross-location stock report
    /// (GetStock) over gRPC.
    Stock(crate::command::bench_stock::StockArgs),
    /// Two nodes of one organization on loopback: the second catches up with the first's
    /// ledger over TLS (time, bytes per entry), then orders taken on the first are timed
    /// until the second can read them.
    Sync(crate::command::bench_sync::SyncArgs),
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
        BenchCommand::Stock(args) => crate::command::bench_stock::run(args),
        BenchCommand::Sync(args) => crate::command::bench_sync::run(args),
        BenchCommand::Menu {
            data,
            items,
            queries,
            json,
        } => menu(data, items, queries, json),
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
    let _lock = dir.lock_for_writing()?;
    let store = dir.store()?;
    let mut ledger = Ledger::open(store, dir.into_identity())?;
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

/// Words the generated menu is made of: 40 x 40 x 25 names, so prefixes match a few
/// hundred items each, as a real search would.
const STYLES: [&str; 40] = [
    "spicy", "smoked", "grilled", "crispy", "braised", "roasted", "steamed", "fried", "glazed",
    "creamy", "garlic", "lemon", "herb", "honey", "chilli", "ginger", "sesame", "truffle", "pesto",
    "miso", "teriyaki", "tandoori", "cajun", "korean", "thai", "greek", "tuscan", "bavarian",
    "viennese", "nordic", "sichuan", "hanoi", "saigon", "bangkok", "manila", "jakarta", "penang",
    "seoul", "osaka", "lisbon",
];
const DISHES: [&str; 40] = [
    "chicken",
    "beef",
    "pork",
    "lamb",
    "duck",
    "salmon",
    "prawn",
    "squid",
    "tofu",
    "tempeh",
    "noodles",
    "rice",
    "pho",
    "ramen",
    "udon",
    "curry",
    "burger",
    "wrap",
    "salad",
    "soup",
    "dumplings",
    "bao",
    "pizza",
    "pasta",
    "risotto",
    "taco",
    "burrito",
    "skewer",
    "sandwich",
    "bowl",
    "pancake",
    "omelette",
    "toast",
    "cake",
    "tart",
    "pie",
    "sorbet",
    "gelato",
    "smoothie",
    "latte",
];
const SIDES: [&str; 25] = [
    "with rice",
    "with fries",
    "with salad",
    "with greens",
    "with bread",
    "with slaw",
    "with mash",
    "with egg",
    "with kimchi",
    "with pickles",
    "with chips",
    "with beans",
    "with corn",
    "with peas",
    "with avocado",
    "with cheese",
    "with mushrooms",
    "with peppers",
    "with onions",
    "with tomatoes",
    "with spinach",
    "with herbs",
    "with sauce",
    "with crumble",
    "with cream",
];

fn menu(data: PathBuf, items: u64, queries: u64, as_json: bool) -> Result<Outcome> {
    use mpos_domain::catalog::{Category, Item, TaxCategory};
    use mpos_domain::ids::{CategoryId, ItemId, StaffId, TaxCategoryId};
    use mpos_domain::menu::{MenuCommand, Settings};
    use mpos_domain::staff::{Actor, Role, StaffCommand, StaffMember};
    use mpos_domain::{Currency, Money, PriceMode, TaxRate};
    use mpos_node::pos::{Action, PosService, Request};
    use mpos_store::PosStore;

    if items == 0 || queries == 0 {
        bail!("--items and --queries must be at least 1");
    }
    let dir = DataDir::open_or_create(&data)?;
    let _lock = dir.lock_for_writing()?;
    let store = dir.store()?;
    let mut svc = PosService::new(Ledger::open(store, dir.into_identity())?);
    if svc.ledger().head().size() > 0 {
        bail!(
            "{} already holds a ledger; the benchmark needs a fresh directory",
            data.display()
        );
    }
    let eur = Currency::from_code("EUR")?;
    let owner = Actor {
        staff: StaffId(1),
        role: Role::Owner,
    };
    let mut next_id = 0u128;
    let mut req = |action: Action, actor: Option<Actor>| {
        next_id += 1;
        Request {
            id: next_id,
            action,
            actor,
        }
    };
    let setup = vec![
        req(
            Action::Staff(StaffCommand::Put(StaffMember {
                id: StaffId(1),
                name: "Owner".into(),
                role: Role::Owner,
                active: true,
            })),
            None,
        ),
        req(
            Action::Menu(MenuCommand::PutSettings(Settings {
                name: "Big menu".into(),
                currency: eur,
                price_mode: PriceMode::Inclusive,
            })),
            Some(owner),
        ),
        req(
            Action::Menu(MenuCommand::PutTaxCategory(TaxCategory {
                id: TaxCategoryId(1),
                name: "Food".into(),
                rates: vec![TaxRate::from_ppm(70_000)],
            })),
            Some(owner),
        ),
        req(
            Action::Menu(MenuCommand::PutCategory(Category {
                id: CategoryId(1),
                name: "Everything".into(),
                station: None,
            })),
            Some(owner),
        ),
    ];
    for r in svc.execute(setup, clock::now_millis()) {
        r?;
    }
    let started = Instant::now();
    let mut n = 0u64;
    while n < items {
        let batch: Vec<Request> = (n..items.min(n + 1_000))
            .map(|i| {
                let name = format!(
                    "{} {} {}",
                    STYLES[(i % 40) as usize],
                    DISHES[(i / 40 % 40) as usize],
                    SIDES[(i / 1_600 % 25) as usize]
                );
                req(
                    Action::Menu(MenuCommand::PutItem(Item {
                        id: ItemId(u128::from(i) + 1),
                        name,
                        description: format!("house recipe number {i}"),
                        category: CategoryId(1),
                        sku: Some(format!("SKU-{i:07}")),
                        barcode: None,
                        price: Money::new(500 + (i % 2_000) as i64, eur),
                        channel_prices: vec![],
                        tax_category: TaxCategoryId(1),
                        variants: vec![],
                        modifier_groups: vec![],
                        available: true,
                    })),
                    Some(owner),
                )
            })
            .collect();
        n += batch.len() as u64;
        for r in svc.execute(batch, clock::now_millis()) {
            r?;
        }
    }
    let fill = started.elapsed();
    let store = svc.ledger().store();
    let mut dice = 0x2545_f491_4f6c_dd1d_u64;
    let mut latencies = Vec::with_capacity(queries as usize);
    let mut found_total = 0usize;
    for _ in 0..queries {
        dice ^= dice << 13;
        dice ^= dice >> 7;
        dice ^= dice << 17;
        // What a cashier types: the start of one or two words.
        let a = STYLES[(dice % 40) as usize];
        let b = DISHES[(dice >> 8) as usize % 40];
        let query = match dice % 3 {
            0 => a[..3.min(a.len())].to_string(),
            1 => format!("{} {}", &a[..4.min(a.len())], &b[..3.min(b.len())]),
            _ => format!("SKU-{:07}", dice % items),
        };
        let t = Instant::now();
        found_total += store.search_items(&query, 20)?.len();
        latencies.push(t.elapsed());
    }
    latencies.sort_unstable();
    let pct = |p: usize| latencies[(latencies.len() * p / 100).min(latencies.len() - 1)];
    #[allow(clippy::float_arithmetic, reason = "display only")]
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
    if as_json {
        output::json(&json!({
            "items": items,
            "fill_seconds": fill.as_secs_f64(),
            "queries": queries,
            "p50_ms": ms(pct(50)),
            "p95_ms": ms(pct(95)),
            "p99_ms": ms(pct(99)),
            "results_per_query": found_total as u64 / queries,
        }));
    } else {
        say!(
            "menu of {items} items set up through menu commands in {:.1} s",
            fill.as_secs_f64()
        );
        say!(
            "{queries} searches (20 results at most): p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms",
            ms(pct(50)),
            ms(pct(95)),
            ms(pct(99))
        );
    }
    Ok(Outcome::Ok)
}
