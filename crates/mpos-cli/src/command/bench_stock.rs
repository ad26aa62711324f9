//! `mpos bench stock`: the cross-location stock report's figure. Fills a fresh node with
//! locations, stock items, par levels and a million movements through the node's own
//! writer (each movement a ledger event, as in trading), then serves it and times
//! `GetStock` over gRPC on loopback: what the owner's screen asks for.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Args;
use mpos_domain::Money;
use mpos_domain::ids::{LocationId, StaffId, StockItemId, TransferId};
use mpos_domain::inventory::{InventoryCommand, Location, Quantity, StockItem, Unit};
use mpos_domain::menu::{MenuCommand, Settings};
use mpos_domain::staff::{Actor, Role, StaffCommand, StaffMember};
use mpos_domain::{Currency, PriceMode};
use mpos_node::pos::{Action, PosService, Request};
use mpos_node::server::Node;
use mpos_node::store::StoreLocation;
use mpos_node::{DataDir, Ledger, clock};
use mpos_proto::v1::{self, pos_client::PosClient};
use serde_json::json;

use crate::Outcome;
use crate::command::bench_tickets::percentiles_ms;
use crate::command::serve::StoreArg;
use crate::output::{self, say};

#[derive(Debug, Args)]
pub struct StockArgs {
    /// A fresh data directory (or one this benchmark filled before: it is measured again
    /// without filling).
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
    #[command(flatten)]
    pub store: StoreArg,
    #[arg(long, default_value_t = 100)]
    pub locations: u32,
    #[arg(long, default_value_t = 500)]
    pub items: u32,
    /// Stock movements in all (receipts, waste, counts, transfers sent and received).
    #[arg(long, default_value_t = 1_000_000)]
    pub movements: u64,
    /// Movements per writer batch.
    #[arg(long, default_value_t = 2_000)]
    pub batch: u64,
    /// Stock reports to time.
    #[arg(long, default_value_t = 30)]
    pub reports: u32,
    #[arg(long)]
    pub json: bool,
}

const OWNER: StaffId = StaffId(1);
const PIN: &str = "1000";
const UNITS: [Unit; 5] = [
    Unit::Kilogram,
    Unit::Litre,
    Unit::Each,
    Unit::Gram,
    Unit::Millilitre,
];

fn location(n: u64) -> LocationId {
    LocationId(0x10c << 64 | u128::from(n + 1))
}

fn item(n: u64) -> StockItemId {
    StockItemId(0x570c << 64 | u128::from(n + 1))
}

/// Deterministic variety (xorshift64).
struct Dice(u64);

impl Dice {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

pub fn run(args: StockArgs) -> Result<Outcome> {
    if args.locations == 0 || args.items == 0 || args.batch == 0 || args.reports == 0 {
        bail!("--locations, --items, --batch and --reports must be at least 1");
    }
    let at = args.store.location()?;
    let filled = fill(&args, &at)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let node = Node::bind(&args.data, &at, "127.0.0.1:0".parse()?).await?;
        let addr = node.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(node.serve(async {
            let _ = stopped.await;
        }));
        let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))?
            .connect()
            .await?;
        // The whole report of 100 locations is several megabytes: more than a client
        // takes by default.
        let mut c = PosClient::new(channel).max_decoding_message_size(256 << 20);
        let token = c
            .login(v1::LoginRequest {
                approval: false,
                staff: OWNER.0.to_be_bytes().to_vec(),
                pin: PIN.into(),
            })
            .await?
            .into_inner()
            .token;
        let ask = |location: Vec<u8>| -> Result<tonic::Request<v1::GetStockRequest>> {
            let mut r = tonic::Request::new(v1::GetStockRequest { location });
            r.metadata_mut()
                .insert("authorization", format!("Bearer {token}").parse()?);
            Ok(r)
        };
        let mut all = Vec::new();
        let mut one = Vec::new();
        let mut levels = 0;
        let mut bytes = 0;
        let mut view_locations = 0;
        for n in 0..args.reports {
            let t = Instant::now();
            let view = c.get_stock(ask(Vec::new())?).await?.into_inner();
            all.push(t.elapsed());
            levels = view.levels.len();
            view_locations = view.locations.len();
            bytes = prost::Message::encoded_len(&view);
            let here = location(u64::from(n % args.locations)).0;
            let t = Instant::now();
            c.get_stock(ask(here.to_be_bytes().to_vec())?).await?;
            one.push(t.elapsed());
        }
        let _ = stop.send(());
        server.await??;
        let (all, one) = (percentiles_ms(all), percentiles_ms(one));
        if args.json {
            output::json(&json!({
                "locations": view_locations,
                "fill_seconds": filled.map(|d| d.as_secs_f64()),
                "levels": levels,
                "report_bytes": bytes,
                "report_ms": {"p50": all[0], "p95": all[1], "p99": all[2]},
                "one_location_ms": {"p50": one[0], "p95": one[1], "p99": one[2]},
            }));
        } else {
            #[allow(clippy::float_arithmetic, reason = "megabytes for display only")]
            let megabytes = bytes as f64 / 1e6;
            say!(
                "stock report of {} locations ({levels} levels, {:.1} MB): p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms; one location: p50 {:.1} ms, p99 {:.1} ms",
                view_locations,
                megabytes,
                all[0],
                all[1],
                all[2],
                one[0],
                one[2]
            );
        }
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(Outcome::Ok)
}

/// Fills a fresh node; a node this benchmark filled before is left as it is (none).
fn fill(args: &StockArgs, at: &StoreLocation) -> Result<Option<Duration>> {
    let dir = DataDir::open_or_create(&args.data)?;
    let _lock = dir.lock_for_writing()?;
    let store = dir.open_store(at)?;
    let mut svc = PosService::new(Ledger::open(store, dir.into_identity())?);
    if svc.ledger().head().size() > 0 {
        if !args.json {
            say!(
                "{} is filled already: measuring it as it is",
                args.data.display()
            );
        }
        return Ok(None);
    }
    let started = Instant::now();
    let owner = Actor {
        staff: OWNER,
        role: Role::Owner,
    };
    let eur = Currency::from_code("EUR").map_err(anyhow::Error::msg)?;
    let mut next_id = 0u128;
    let mut request = |action: Action, actor: Option<Actor>| {
        next_id += 1;
        Request {
            id: next_id,
            action,
            actor,
        }
    };
    let mut setup = vec![
        request(
            Action::Staff(StaffCommand::Put(StaffMember {
                id: OWNER,
                name: "Owner".into(),
                role: Role::Owner,
                active: true,
            })),
            None,
        ),
        request(
            Action::Staff(StaffCommand::SetPin {
                staff: OWNER,
                pin: PIN.into(),
            }),
            Some(owner),
        ),
        request(
            Action::Menu(MenuCommand::PutSettings(Settings {
                name: "Stock benchmark".into(),
                currency: eur,
                price_mode: PriceMode::Inclusive,
            })),
            Some(owner),
        ),
    ];
    // The currency comes from the settings once they are stored.
    apply(&mut svc, std::mem::take(&mut setup))?;
    for l in 0..u64::from(args.locations) {
        setup.push(request(
            Action::Inventory(InventoryCommand::PutLocation(Location {
                id: location(l),
                name: format!("Location {:03}", l + 1),
                active: true,
            })),
            Some(owner),
        ));
    }
    for i in 0..u64::from(args.items) {
        setup.push(request(
            Action::Inventory(InventoryCommand::PutStockItem(StockItem {
                id: item(i),
                name: format!("Stock item {:03}", i + 1),
                unit: UNITS[(i % 5) as usize],
                active: true,
            })),
            Some(owner),
        ));
    }
    apply(&mut svc, setup)?;
    // A par level for every item at every location.
    let pars: Vec<(u64, u64)> = (0..u64::from(args.locations))
        .flat_map(|l| (0..u64::from(args.items)).map(move |i| (l, i)))
        .collect();
    for chunk in pars.chunks(args.batch as usize) {
        let batch = chunk
            .iter()
            .map(|(l, i)| {
                Ok(request(
                    Action::Inventory(InventoryCommand::SetPar {
                        location: location(*l),
                        item: item(*i),
                        level: Some(Quantity::of(10, UNITS[(i % 5) as usize])?),
                    }),
                    Some(owner),
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        apply(&mut svc, batch)?;
    }
    let mut dice = Dice(0x5eed_57c0_u64);
    let mut made = 0u64;
    let mut sent: Vec<(TransferId, StockItemId, Quantity)> = Vec::new();
    let report = (args.movements / 10).max(1);
    while made < args.movements {
        let mut batch = Vec::new();
        while (batch.len() as u64) < args.batch && made < args.movements {
            let l = dice.below(u64::from(args.locations));
            let i = dice.below(u64::from(args.items));
            let unit = UNITS[(i % 5) as usize];
            let amount = 1 + dice.below(20) as i64;
            let command = match dice.below(100) {
                // A transfer arrives as it was sent.
                0..=4 if !sent.is_empty() => {
                    let (transfer, stock, quantity) = sent.remove(0);
                    InventoryCommand::ReceiveTransfer {
                        transfer,
                        lines: vec![(stock, quantity)],
                        note: String::new(),
                    }
                }
                0..=9 if args.locations > 1 => {
                    let transfer = TransferId(u128::from(made + 1) << 32 | 0x7f);
                    let quantity = Quantity::of(1, unit)?;
                    sent.push((transfer, item(i), quantity));
                    InventoryCommand::SendTransfer {
                        transfer,
                        from: location(l),
                        to: location((l + 1) % u64::from(args.locations)),
                        lines: vec![(item(i), quantity)],
                    }
                }
                10..=17 => InventoryCommand::Waste {
                    location: location(l),
                    item: item(i),
                    quantity: Quantity::of(1, unit)?,
                    reason: "spoiled".into(),
                },
                18..=21 => InventoryCommand::Count {
                    location: location(l),
                    item: item(i),
                    counted: Quantity::of(amount * 3, unit)?,
                },
                _ => InventoryCommand::Receive {
                    location: location(l),
                    item: item(i),
                    quantity: Quantity::of(amount, unit)?,
                    cost: Money::new(amount * (50 + dice.below(500) as i64), eur),
                    supplier: None,
                    lot: String::new(),
                    purchase_order: None,
                },
            };
            batch.push(request(Action::Inventory(command), Some(owner)));
            made += 1;
        }
        apply(&mut svc, batch)?;
        if made % report < args.batch && !args.json {
            eprintln!("  {made} movements...");
        }
    }
    svc.ledger().store().analyze()?;
    let took = started.elapsed();
    #[allow(clippy::float_arithmetic, reason = "a rate for display only")]
    let rate = args.movements as f64 / took.as_secs_f64().max(1e-9);
    if args.json {
        return Ok(Some(took));
    }
    say!(
        "filled {} locations x {} items with {} movements in {:.1} s ({:.0} movements/s)",
        args.locations,
        args.items,
        args.movements,
        took.as_secs_f64(),
        rate
    );
    Ok(Some(took))
}

fn apply<S: mpos_store::PosStore>(svc: &mut PosService<S>, batch: Vec<Request>) -> Result<()> {
    for r in svc.execute(batch, clock::now_millis()) {
        r.context("a benchmark movement was refused")?;
    }
    Ok(())
}
