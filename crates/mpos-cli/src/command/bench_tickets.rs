//! `mpos bench tickets`: the gRPC load generator for the "full ticket" figure.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Args;
use mpos_proto::v1::{self, pos_client::PosClient};
use serde_json::json;
use tonic::transport::Channel;

use crate::Outcome;
use crate::output::{self, say};

#[derive(Debug, Args)]
pub struct TicketsArgs {
    /// Address of a node serving the demo restaurant (`mpos demo`).
    #[arg(long, env = "MPOS_TARGET", default_value = "127.0.0.1:7070")]
    pub target: String,
    /// Concurrent clients (terminals).
    #[arg(long, default_value_t = 32)]
    pub clients: u32,
    /// Tickets in all.
    #[arg(long, default_value_t = 20_000)]
    pub tickets: u64,
    /// Tickets per second to offer in all (open loop); 0: as fast as the node answers.
    #[arg(long, default_value_t = 0)]
    pub rate: u64,
    /// Staff id (hex) and PIN to log in with: the demo cashier by default.
    #[arg(long, default_value = "00000000000000000000000000000003")]
    pub staff: String,
    #[arg(long, default_value = "3000")]
    pub pin: String,
    /// `table`: open, then each line its own call, then pay (5 calls: a server adding
    /// dishes as guests order). `counter`: the order opened with its cart, then paid (2
    /// calls: a counter register). The same six events are recorded either way.
    #[arg(long, default_value = "table", value_parser = ["table", "counter"])]
    pub flow: String,
    /// Threads the load generator runs its clients on. One leaves the node the other
    /// core, as terminals on devices of their own would; two threads took most of a core
    /// from the node with their wake-ups (p50 0.2 ms and p99 about 0.5 ms longer at
    /// 2,500 tickets/s) for no more tickets at full speed.
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    #[arg(long)]
    pub json: bool,
}

fn id(v: u128) -> Vec<u8> {
    v.to_be_bytes().to_vec()
}

/// A new id as a terminal makes it: UUIDv7, time first. (Ids that put a client number
/// first would scatter each batch's inserts over as many index pages as there are clients,
/// and measure that instead.)
fn fresh() -> Vec<u8> {
    uuid::Uuid::now_v7().as_bytes().to_vec()
}

fn authed<T>(token: &str, m: T) -> Result<tonic::Request<T>> {
    let mut r = tonic::Request::new(m);
    r.metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse()?);
    Ok(r)
}

/// The demo's items of a bench ticket: a flat white (large, oat milk), a croissant, a
/// burger (medium rare, fries): (item, variant, modifiers).
const LINES: [(u128, Option<u128>, &[u128]); 3] =
    [(3, Some(32), &[2]), (14, None, &[]), (21, None, &[10, 13])];

fn new_line(i: usize) -> v1::NewLine {
    let (item, variant, modifiers) = LINES[i];
    v1::NewLine {
        line: fresh(),
        item: id(item),
        variant: variant.map(id).unwrap_or_default(),
        modifiers: modifiers.iter().map(|m| id(*m)).collect(),
        quantity: 1,
        ..Default::default()
    }
}

/// One full ticket: open, three lines with modifiers, paid by card, closed.
async fn ticket(c: &mut PosClient<Channel>, token: &str, counter: bool) -> Result<()> {
    let order = fresh();
    let open = v1::OpenOrderRequest {
        request_id: fresh(),
        order: order.clone(),
        // As `mpos order open` numbers a counter order: the id's random tail.
        number: format!("C-{}", hex::encode(&order[13..])),
        channel: v1::Channel::Counter.into(),
        kind: Some(v1::open_order_request::Kind::Takeaway(v1::Takeaway {})),
        source: None,
        lines: if counter {
            (0..LINES.len()).map(new_line).collect()
        } else {
            Vec::new()
        },
    };
    let mut total = c
        .open_order(authed(token, open)?)
        .await?
        .into_inner()
        .order
        .map_or(0, |o| o.total);
    if !counter {
        for i in 0..LINES.len() {
            let l = new_line(i);
            let reply = c
                .add_item(authed(
                    token,
                    v1::AddItemRequest {
                        request_id: fresh(),
                        order: order.clone(),
                        line: l.line,
                        item: l.item,
                        variant: l.variant,
                        modifiers: l.modifiers,
                        quantity: l.quantity,
                        ..Default::default()
                    },
                )?)
                .await?
                .into_inner();
            total = reply.order.map_or(0, |o| o.total);
        }
    }
    let paid = c
        .take_payment(authed(
            token,
            v1::TakePaymentRequest {
                drawer: Vec::new(),
                request_id: fresh(),
                order: order.clone(),
                payment: fresh(),
                tender: Some(v1::Tender {
                    kind: Some(v1::tender::Kind::CardReference("BENCH".into())),
                }),
                amount: total,
                tip: 0,
                cash_received: None,
            },
        )?)
        .await?
        .into_inner();
    if paid.order.map(|o| o.status) != Some(v1::OrderStatus::Closed as i32) {
        bail!("ticket {} did not close", hex::encode(&order));
    }
    Ok(())
}

/// p50, p95 and p99 of `latencies` in milliseconds.
#[allow(clippy::float_arithmetic, reason = "milliseconds for display only")]
pub(crate) fn percentiles_ms(mut latencies: Vec<Duration>) -> [f64; 3] {
    latencies.sort_unstable();
    let at =
        |p: usize| latencies[(latencies.len() * p / 100).min(latencies.len().saturating_sub(1))];
    [50, 95, 99].map(|p| at(p).as_secs_f64() * 1000.0)
}

pub fn run(args: TicketsArgs) -> Result<Outcome> {
    if args.clients == 0 || args.tickets == 0 {
        bail!("--clients and --tickets must be at least 1");
    }
    let staff = u128::from_str_radix(args.staff.trim(), 16).context("--staff is 32 hex digits")?;
    let runtime = match args.threads {
        0 => bail!("--threads must be at least 1"),
        1 => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?,
        n => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(n)
            .enable_all()
            .build()?,
    };
    runtime.block_on(async move {
        let endpoint = format!("http://{}", args.target);
        let mut first = PosClient::connect(endpoint.clone()).await.with_context(|| format!("cannot reach {endpoint}"))?;
        let token = first
            .login(v1::LoginRequest { approval: false, staff: id(staff), pin: args.pin.clone() })
            .await
            .context("login failed (is the target running `mpos demo`?)")?
            .into_inner()
            .token;
        let per_client = args.tickets.div_ceil(u64::from(args.clients));
        let interval = (args.rate > 0)
            .then(|| Duration::from_nanos(1_000_000_000 * u64::from(args.clients) / args.rate));
        let token = Arc::new(token);
        let counter = args.flow == "counter";
        let started = Instant::now();
        let mut tasks = Vec::new();
        let clients = args.clients;
        for client in 0..args.clients {
            let (endpoint, token) = (endpoint.clone(), token.clone());
            tasks.push(tokio::spawn(async move {
                let mut c = PosClient::connect(endpoint).await?;
                let mut latencies = Vec::with_capacity(per_client as usize);
                let begin = Instant::now();
                for n in 0..per_client {
                    if let Some(every) = interval {
                        // Clients are spread over the interval: terminals do not all ring
                        // up at the same instant, and a synchronised burst would measure
                        // the burst, not the rate.
                        let due = begin + every * n as u32 + every * client / clients;
                        tokio::time::sleep_until(due.into()).await;
                    }
                    let t = Instant::now();
                    ticket(&mut c, &token, counter).await?;
                    latencies.push(t.elapsed());
                }
                Ok::<_, anyhow::Error>(latencies)
            }));
        }
        let mut latencies = Vec::new();
        for t in tasks {
            latencies.extend(t.await??);
        }
        let elapsed = started.elapsed();
        let count = latencies.len();
        let [p50, p95, p99] = percentiles_ms(latencies);
        #[allow(clippy::float_arithmetic, reason = "rate for display only")]
        let rate = count as f64 / elapsed.as_secs_f64();
        if args.json {
            output::json(&json!({
                "tickets": count,
                "clients": args.clients,
                "flow": args.flow,
                "offered_rate": args.rate,
                "seconds": elapsed.as_secs_f64(),
                "tickets_per_second": rate.round(),
                "p50_ms": p50,
                "p95_ms": p95,
                "p99_ms": p99,
            }));
        } else {
            say!(
                "{} {} tickets from {} clients in {:.2} s: {rate:.0} tickets/s; ticket latency p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms",
                count,
                args.flow,
                args.clients,
                elapsed.as_secs_f64(),
                p50,
                p95,
                p99
            );
        }
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(Outcome::Ok)
}
