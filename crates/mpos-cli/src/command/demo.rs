//! `mpos demo`: a demo restaurant in a fresh data directory, served.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use mpos_domain::ids::StationId;
use mpos_node::demo::{self, STAFF};
use mpos_node::pos::PosService;
use mpos_node::server::{Node, shutdown_signal};
use mpos_node::{DataDir, Ledger, clock};
use mpos_store::{PrintStore, Printer};

use crate::Outcome;
use crate::command::serve::{StoreArg, SyncArg};
use crate::output::say;

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Keep the demo in this directory (default: a temporary one, removed on exit). An
    /// existing demo directory is served as it is.
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    #[arg(long, default_value = "127.0.0.1:7070")]
    pub listen: SocketAddr,
    /// The demo's store: the data directory's SQLite (default) or a PostgreSQL database,
    /// seeded on first use like a fresh directory.
    #[command(flatten)]
    pub store: StoreArg,
    /// With --sync, a second register can be paired with the demo (`mpos pair new`).
    #[command(flatten)]
    pub sync: SyncArg,
}

pub fn run(args: DemoArgs) -> Result<Outcome> {
    crate::command::serve::init_logs();
    // Held until exit: a temporary directory is removed when it drops.
    let temporary = match &args.data {
        Some(_) => None,
        None => Some(tempfile::Builder::new().prefix("mpos-demo-").tempdir()?),
    };
    let data = match (&args.data, &temporary) {
        (Some(d), _) => d.clone(),
        (None, Some(t)) => t.path().join("node"),
        (None, None) => unreachable!("one of the two is set"),
    };
    let at = args.store.location()?;
    {
        let dir = DataDir::open_or_create_named(&data, Some("Bistro Lumen front"))?;
        let _lock = dir.lock_for_writing()?;
        let store = dir.open_store(&at)?;
        let mut svc = PosService::new(Ledger::open(store, dir.into_identity())?);
        if svc.ledger().head().size() == 0 {
            say!("setting up the demo restaurant and a week of sales...");
            let seeded = demo::seed(&mut svc, clock::now_millis()).context("seeding the demo")?;
            svc.ledger().store().analyze()?;
            say!(
                "  {} menu items, {} orders, {} ledger entries",
                seeded.items,
                seeded.orders,
                seeded.entries
            );
            // Printers that write ESC/POS to files beside the data, so the tickets can be
            // looked at without a printer.
            let printers = data.join("printers");
            std::fs::create_dir_all(&printers)?;
            let mut queue = DataDir::open_or_create(&data)?.open_store(&at)?;
            for (name, station, receipts) in [
                ("bar", Some(1u128), false),
                ("kitchen", Some(2), false),
                ("front", None, true),
            ] {
                queue.put_printer(&Printer {
                    name: name.into(),
                    address: format!("file:{}", printers.join(format!("{name}.escpos")).display()),
                    stations: station.map(StationId).into_iter().collect(),
                    receipts,
                    columns: 48,
                })?;
            }
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let node = Node::bind(&data, &at, args.listen).await?;
        let node = args.sync.apply(node).await?;
        let addr = node.local_addr()?;
        say!("listening on {addr}");
        if let Some(sync) = node.sync_addr()? {
            say!("sync on {sync}: pair a register with `mpos pair new --name NAME` as Ana");
        }
        say!("Bistro Lumen is open. Data: {}", data.display());
        say!("  register (web app): http://{addr}/");
        say!("  kitchen display:    http://{addr}/kitchen");
        say!("  back office:        http://{addr}/office");
        say!("  the mpos client:    --target {addr} (or MPOS_TARGET={addr})");
        say!("  gRPC API: mpos.v1.Pos at {addr} (server reflection on; health at http://{addr}/healthz)");
        say!("  staff and PINs:");
        for (id, name, role, pin) in STAFF {
            say!("    {name:<18} {:<8} staff id {:032x}  PIN {pin}", role.name(), id);
        }
        say!("  printers: bar, kitchen (tickets) and front (receipts) write ESC/POS to {}", data.join("printers").display());
        say!("  ledger: mpos ledger export --data {} --out demo.mposledger", data.display());
        say!("Ctrl-C stops it.");
        node.serve(shutdown_signal()).await?;
        Ok::<_, anyhow::Error>(())
    })?;
    drop(temporary);
    Ok(Outcome::Ok)
}
