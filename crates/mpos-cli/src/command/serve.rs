//! `mpos serve`: runs a node.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use mpos_node::server::{Node, shutdown_signal};
use mpos_node::store::StoreLocation;

use crate::Outcome;
use crate::output::say;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Data directory (created with a new node identity on first start).
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
    /// Address for gRPC and HTTP; port 0 picks a free one.
    #[arg(long, default_value = "127.0.0.1:7070")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub store: StoreArg,
    #[command(flatten)]
    pub sync: SyncArg,
}

/// How a node meets the organization's other nodes.
#[derive(Debug, Args)]
pub struct SyncArg {
    /// Answer other nodes of the organization on this address (`mpos.v1.Sync` over TLS,
    /// each node showing its key and certificate): their pulls, and new terminals pairing.
    #[arg(long, value_name = "ADDR")]
    pub sync: Option<SocketAddr>,
    /// A peer's sync address (HOST:PORT) to pull every node's ledger from, kept in sync
    /// for as long as the node runs; repeat for several.
    #[arg(long = "peer", value_name = "HOST:PORT")]
    pub peers: Vec<String>,
    /// Find the organization's other nodes on the LAN (mDNS) and pull from them; this
    /// node's sync listener is advertised there too. Needs --sync.
    #[arg(long, requires = "sync")]
    pub discover: bool,
}

impl SyncArg {
    /// The node, answering and pulling as the flags say.
    pub async fn apply(&self, mut node: Node) -> Result<Node> {
        if self.sync.is_some() || !self.peers.is_empty() {
            node = node.with_sync(self.sync, self.peers.clone()).await?;
        }
        if self.discover {
            node = node.with_discovery()?;
        }
        Ok(node)
    }
}

/// `--store`: where a node's ledger and projections live.
#[derive(Debug, Args)]
pub struct StoreArg {
    /// `sqlite` (in the data directory, the default) or a PostgreSQL connection string
    /// (server mode; several nodes may share one database). Read from MPOS_STORE when not
    /// given, which keeps a password out of the process list.
    #[arg(
        long = "store",
        value_name = "sqlite|postgres://...",
        env = "MPOS_STORE",
        hide_env_values = true
    )]
    pub location: Option<String>,
}

impl StoreArg {
    pub fn location(&self) -> Result<StoreLocation> {
        StoreLocation::parse(self.location.as_deref()).map_err(anyhow::Error::msg)
    }
}

/// JSON logs on stderr; `RUST_LOG` filters (default `info`).
pub fn init_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

pub fn run(args: ServeArgs) -> Result<Outcome> {
    init_logs();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let node = Node::bind(&args.data, &args.store.location()?, args.listen).await?;
        let node = args.sync.apply(node).await?;
        let addr = node.local_addr()?;
        // The first line on stdout is the address: scripts and tests read it.
        say!("listening on {addr}");
        if let Some(sync) = node.sync_addr()? {
            say!("sync on {sync}");
            tracing::info!(%sync, "answering other nodes over TLS");
        }
        tracing::info!(%addr, data = %args.data.display(), "serving");
        node.serve(shutdown_signal()).await?;
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(Outcome::Ok)
}
