//! `mpos bench sync`: two nodes of one organization on loopback. The first is filled with
//! the demo restaurant and then counter tickets up to `--entries` ledger entries; the
//! second, paired to it, catches up over TLS from nothing (how long, how many bytes per
//! entry, and until it also holds every receipt code); then orders taken on the first are
//! timed until the second can read them (propagation, as one register sees another's
//! sale).

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Args;
use mpos_domain::catalog::Selection;
use mpos_domain::ids::{ItemId, LineId, ModifierId, OrderId, PaymentId, StaffId, VariantId};
use mpos_domain::order::{Command, OrderKind, Source, Tender};
use mpos_domain::staff::{Actor, Role};
use mpos_domain::{Currency, PriceMode};
use mpos_ledger::NodeCertificate;
use mpos_node::pos::{Action, NewLine, OrderAction, PosService, Request};
use mpos_node::server::Node;
use mpos_node::store::StoreLocation;
use mpos_node::{DataDir, Ledger};
use mpos_proto::v1::{self, pos_client::PosClient};
use serde_json::json;

use crate::Outcome;
use crate::command::bench_tickets::percentiles_ms;
use crate::output::{self, say};

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Ledger entries the first node holds before the second catches up (the demo's week
    /// of sales, then counter tickets).
    #[arg(long, default_value_t = 1_000_000)]
    pub entries: u64,
    /// Orders timed from one node to the other once both are in step.
    #[arg(long, default_value_t = 500)]
    pub orders: u64,
    /// Orders per second while timing propagation.
    #[arg(long, default_value_t = 50)]
    pub rate: u64,
    /// Where to keep the two data directories (`a`, `b`); a temporary folder if not given.
    #[arg(long, value_name = "DIR")]
    pub data: Option<std::path::PathBuf>,
    #[arg(long)]
    pub json: bool,
}

/// The demo's cashier.
const CASHIER: Actor = Actor {
    staff: StaffId(3),
    role: Role::Cashier,
};
/// Requests per writer batch while filling.
const FILL_BATCH: usize = 256;

/// The demo's items of a bench ticket (as `bench tickets`): a large flat white with oat
/// milk, a croissant, a medium-rare burger with fries.
fn lines(n: u128) -> Vec<NewLine> {
    let chosen: [(u128, Option<u128>, &[u128]); 3] =
        [(3, Some(32), &[2]), (14, None, &[]), (21, None, &[10, 13])];
    chosen
        .iter()
        .enumerate()
        .map(|(i, (item, variant, modifiers))| NewLine {
            line: LineId((n << 8) + i as u128),
            selection: Selection {
                item: ItemId(*item),
                variant: variant.map(VariantId),
                modifiers: modifiers.iter().map(|m| ModifierId(*m)).collect(),
                quantity: 1,
            },
            seat: None,
            course: 1,
            note: String::new(),
        })
        .collect()
}

/// The demo restaurant, then counter tickets (opened with their cart, paid by card) until
/// the ledger holds `entries`. Returns the entries and how long it took.
fn fill(dir: &Path, entries: u64) -> Result<(u64, Duration, OrderId)> {
    let data = DataDir::open_or_create(dir)?;
    let _lock = data.lock_for_writing()?;
    let store = data.store()?;
    let mut svc = PosService::new(Ledger::open(store, data.into_identity())?);
    let start = Instant::now();
    let now = mpos_node::clock::now_millis();
    mpos_node::demo::seed(&mut svc, now)?;
    let eur = Currency::from_code("EUR")?;
    let mut n: u128 = 1 << 64;
    while svc.ledger().head().size() < entries {
        let mut opens = Vec::with_capacity(FILL_BATCH);
        for _ in 0..FILL_BATCH {
            n += 1;
            opens.push(Request {
                id: n,
                action: Action::Order {
                    order: OrderId(n),
                    command: OrderAction::OpenWithLines {
                        open: Command::Open {
                            number: format!("B-{n}"),
                            channel: mpos_domain::catalog::Channel::Counter,
                            kind: OrderKind::Takeaway,
                            source: Source::Register,
                            currency: eur,
                            mode: PriceMode::Inclusive,
                            location: None,
                        },
                        lines: lines(n),
                    },
                },
                actor: Some(CASHIER),
            });
        }
        let mut payments = Vec::with_capacity(FILL_BATCH);
        for applied in svc.execute(opens, mpos_node::clock::now_millis()) {
            let order = applied?.order.context("an opened order")?;
            let total = order.totals().map_err(mpos_node::NodeError::from)?.total;
            payments.push(Request {
                id: order.id.0 + (1 << 100),
                action: Action::Order {
                    order: order.id,
                    command: OrderAction::Command(Command::TakePayment {
                        payment: PaymentId(order.id.0),
                        tender: Tender::Card {
                            reference: "AUTH".into(),
                        },
                        amount: total,
                        tip: mpos_domain::Money::zero(eur),
                        cash_received: None,
                        drawer: None,
                    }),
                },
                actor: Some(CASHIER),
            });
        }
        for r in svc.execute(payments, mpos_node::clock::now_millis()) {
            r?;
        }
    }
    Ok((svc.ledger().head().size(), start.elapsed(), OrderId(n)))
}

/// A second node paired into the first's organization, as `mpos pair join` leaves it.
fn pair(founder: &Path, dir: &Path) -> Result<()> {
    let identity = DataDir::open(founder)?.into_identity();
    let root = identity
        .root_key()
        .context("the first node holds no root key")?;
    let mut joining = DataDir::create_for_joining(dir)?;
    let certificate = NodeCertificate::issue(
        root,
        joining.key().public(),
        "Till 2",
        mpos_node::clock::now_millis(),
    )?;
    joining.join(certificate)?;
    Ok(())
}

/// A metric's value from a node's `/metrics`.
async fn metric(addr: std::net::SocketAddr, name: &str) -> Result<u64> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    stream
        .write_all(
            format!("GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .await?;
    let mut text = String::new();
    stream.read_to_string(&mut text).await?;
    Ok(text
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0))
}

async fn login(
    addr: std::net::SocketAddr,
) -> Result<(PosClient<tonic::transport::Channel>, String)> {
    let mut c = PosClient::connect(format!("http://{addr}")).await?;
    let token = c
        .login(v1::LoginRequest {
            approval: false,
            staff: CASHIER.staff.0.to_be_bytes().to_vec(),
            pin: "3000".into(),
        })
        .await?
        .into_inner()
        .token;
    Ok((c, token))
}

fn authed<T>(token: &str, m: T) -> Result<tonic::Request<T>> {
    let mut r = tonic::Request::new(m);
    r.metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse()?);
    Ok(r)
}

pub fn run(args: SyncArgs) -> Result<Outcome> {
    if args.entries == 0 || args.orders == 0 || args.rate == 0 {
        bail!("--entries, --orders and --rate must be at least 1");
    }
    let tmp = tempfile::tempdir()?;
    let root = args
        .data
        .clone()
        .unwrap_or_else(|| tmp.path().to_path_buf());
    let (a_dir, b_dir) = (root.join("a"), root.join("b"));
    if a_dir.exists() || b_dir.exists() {
        bail!(
            "{} already holds a or b: the benchmark needs fresh folders",
            root.display()
        );
    }
    if !args.json {
        say!("filling the first node to {} entries...", args.entries);
    }
    let (entries, filled, last_closed) = fill(&a_dir, args.entries)?;
    pair(&a_dir, &b_dir)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let loopback = "127.0.0.1:0".parse()?;
        let a = Node::bind(&a_dir, &StoreLocation::DataDir, loopback)
            .await?
            .with_sync(Some(loopback), Vec::new())
            .await?;
        let (a_addr, a_sync) = (a.local_addr()?, a.sync_addr()?.context("no sync address")?);
        let (stop_a, a_stopped) = tokio::sync::oneshot::channel::<()>();
        let a_server = tokio::spawn(a.serve(async {
            let _ = a_stopped.await;
        }));
        // The clock starts with the second node: it holds nothing yet.
        let start = Instant::now();
        let b = Node::bind(&b_dir, &StoreLocation::DataDir, loopback)
            .await?
            .with_sync(None, vec![a_sync.to_string()])
            .await?;
        let b_addr = b.local_addr()?;
        let (stop_b, b_stopped) = tokio::sync::oneshot::channel::<()>();
        let b_server = tokio::spawn(b.serve(async {
            let _ = b_stopped.await;
        }));
        while metric(b_addr, "mpos_replicated_entries_total").await? < entries {
            if start.elapsed() > Duration::from_secs(3_600) {
                bail!("the second node did not catch up within an hour");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let caught_up = start.elapsed();
        let sent_bytes = metric(a_addr, "mpos_sync_sent_bytes_total").await?;
        let sent_entries = metric(a_addr, "mpos_sync_sent_entries_total").await?;
        let (mut on_b, token_b) = login(b_addr).await?;
        // Receipt codes follow the entries, in the order their orders closed: the last
        // ticket's code kept means every code is.
        loop {
            let code = on_b
                .get_receipt(authed(
                    &token_b,
                    v1::GetReceiptRequest {
                        order: last_closed.0.to_be_bytes().to_vec(),
                        width: 48,
                    },
                )?)
                .await
                .map(|r| r.into_inner().code)
                .unwrap_or_default();
            if !code.is_empty() {
                break;
            }
            if start.elapsed() > Duration::from_secs(3_600) {
                bail!("the receipt codes did not reach the second node within an hour");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let receipts_caught_up = start.elapsed();

        // Propagation: an order opened (with its cart) on the first node, read back on
        // the second as soon as it holds it.
        let (mut on_a, token_a) = login(a_addr).await?;
        let every = Duration::from_micros(1_000_000 / args.rate);
        let mut latencies = Vec::with_capacity(args.orders as usize);
        for n in 0..args.orders {
            let slot = Instant::now();
            let order = uuid::Uuid::now_v7().as_bytes().to_vec();
            on_a.open_order(authed(
                &token_a,
                v1::OpenOrderRequest {
                    request_id: uuid::Uuid::now_v7().as_bytes().to_vec(),
                    order: order.clone(),
                    number: format!("P-{n}"),
                    channel: v1::Channel::Counter.into(),
                    kind: Some(v1::open_order_request::Kind::Takeaway(v1::Takeaway {})),
                    ..Default::default()
                },
            )?)
            .await?;
            let taken = Instant::now();
            loop {
                let got = on_b
                    .get_order(authed(&token_b, v1::GetOrderRequest { order: order.clone() })?)
                    .await;
                if got.is_ok() {
                    break;
                }
                if taken.elapsed() > Duration::from_secs(30) {
                    bail!("order {n} did not reach the second node within 30 s");
                }
                tokio::time::sleep(Duration::from_micros(500)).await;
            }
            latencies.push(taken.elapsed());
            if let Some(rest) = every.checked_sub(slot.elapsed()) {
                tokio::time::sleep(rest).await;
            }
        }
        let _ = stop_b.send(());
        let _ = stop_a.send(());
        b_server.await??;
        a_server.await??;
        let p = percentiles_ms(latencies);
        let seconds = caught_up.as_secs_f64();
        #[allow(clippy::float_arithmetic, reason = "rates for display only")]
        let (per_second, fill_per_second, bytes_per_entry) = (
            entries as f64 / seconds,
            entries as f64 / filled.as_secs_f64(),
            sent_bytes as f64 / sent_entries.max(1) as f64,
        );
        if args.json {
            output::json(&json!({
                "entries": entries,
                "fill_seconds": filled.as_secs_f64(),
                "fill_entries_per_second": fill_per_second,
                "catch_up_seconds": seconds,
                "catch_up_entries_per_second": per_second,
                "receipts_caught_up_seconds": receipts_caught_up.as_secs_f64(),
                "sync_bytes_per_entry": bytes_per_entry,
                "propagation_ms": {"p50": p[0], "p95": p[1], "p99": p[2]},
                "orders": args.orders,
                "rate": args.rate,
            }));
        } else {
            say!(
                "filled {entries} entries in {:.1} s ({fill_per_second:.0}/s)",
                filled.as_secs_f64()
            );
            say!(
                "catch-up of {entries} entries: {seconds:.2} s ({per_second:.0} entries/s), {bytes_per_entry:.0} bytes an entry on the wire (messages, before TLS)"
            );
            say!(
                "every receipt code kept too after {:.2} s",
                receipts_caught_up.as_secs_f64()
            );
            say!(
                "propagation of {} orders at {}/s: p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms",
                args.orders,
                args.rate,
                p[0],
                p[1],
                p[2]
            );
        }
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(Outcome::Ok)
}
