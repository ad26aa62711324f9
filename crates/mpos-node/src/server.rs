//! `mpos serve`: one TCP port carrying gRPC (`mpos.v1.Pos`, the standard health service,
//! server reflection), the same API as gRPC-Web for browsers, and plain HTTP
//! (`/healthz`, `/metrics`, and the web app); with `--sync`, a second port where other
//! nodes of the organization pull this node's ledgers (`mpos.v1.Sync`, TLS only). Stops
//! on SIGTERM or Ctrl-C: it stops accepting, lets the writer apply every queued request,
//! and exits.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use axum::routing::get;
use axum::serve::ListenerExt;
use mpos_proto::v1::guest_server::GuestServer;
use mpos_proto::v1::pos_server::PosServer;
use mpos_proto::v1::sync_server::SyncServer;
use tokio::net::TcpListener;

use mpos_store::StoreError;

use crate::data_dir::DataDir;
use crate::error::NodeError;
use crate::grpc::PosApi;
use crate::ledger::Ledger;
use crate::metrics::Metrics;
use crate::pos::PosService;
use crate::store::{Store, StoreLocation};
use crate::writer::Writer;

/// A node bound to its port, ready to serve.
#[derive(Debug)]
pub struct Node {
    listener: TcpListener,
    api: PosApi,
    metrics: Arc<Metrics>,
    writer_thread: std::thread::JoinHandle<()>,
    spooler: crate::printing::Spooler,
    /// SQLite's WAL checkpoints; none on PostgreSQL.
    checkpointer: Option<crate::checkpoint::Checkpointer>,
    /// Where other nodes pull from this one (TLS), if anywhere.
    sync_listener: Option<TcpListener>,
    /// Peers (`host:port` of their sync listeners) this node pulls from.
    peers: Vec<String>,
    /// Whether to advertise the sync listener on the LAN and pull from the organization's
    /// nodes found there.
    discover: bool,
    /// Held until the node stops.
    _lock: crate::data_dir::WriterLock,
}

impl Node {
    /// Opens the data directory (creating it on first start) and the store `at`, and
    /// binds `listen`.
    pub async fn bind(
        data: &Path,
        at: &StoreLocation,
        listen: SocketAddr,
    ) -> Result<Node, NodeError> {
        let listener = TcpListener::bind(listen).await?;
        let (data, at) = (data.to_path_buf(), at.clone());
        // Opening stores blocks (PostgreSQL's client runs a runtime of its own, which may
        // not start on a thread that drives async tasks): off the async threads.
        tokio::task::spawn_blocking(move || Node::open(&data, &at, listener))
            .await
            .map_err(|e| NodeError::Internal(format!("starting the node failed: {e}")))?
    }

    fn open(data: &Path, at: &StoreLocation, listener: TcpListener) -> Result<Node, NodeError> {
        let dir = DataDir::open_or_create(data)?;
        let lock = dir.lock_for_writing()?;
        let reader = dir.open_store(at)?;
        let mut store = dir.open_store(at)?;
        let print_queue = dir.open_store(at)?;
        let spool = dir.open_store(at)?;
        // SQLite: the writer leaves WAL checkpoints to a connection of their own and syncs
        // the WAL on its own thread. PostgreSQL makes each commit durable before it returns.
        let (sync, checkpointer): (Box<dyn FnMut() -> Result<(), StoreError> + Send>, _) =
            match &mut store {
                Store::Sqlite(s) => {
                    s.leave_checkpoints_to_others()?;
                    let wal = s.sync_wal_separately()?;
                    let checkpointer = crate::checkpoint::Checkpointer::start(dir.store()?)?;
                    let nudge = checkpointer.nudge();
                    let sync = move || {
                        wal.sync()?;
                        nudge.new_commits();
                        Ok(())
                    };
                    (Box::new(sync), Some(checkpointer))
                }
                Store::Postgres(_) => (Box::new(|| Ok(())), None),
            };
        // Sessions are signed with the node's key, so they outlive a restart.
        let sessions = crate::staff::SessionSigner::new(dir.key());
        let identity = dir.into_identity();
        let trust = identity.trust();
        let ledger = Ledger::open(store, identity)?;
        tracing::info!(node = %ledger.node_id(), entries = ledger.head().size(), store = ?at, "ledger opened");
        let metrics = Arc::new(Metrics::default());
        let node = ledger.node_id();
        let mut service = PosService::new(ledger);
        // The writer's first sync makes it durable, before anything is answered.
        service.introduce(crate::clock::now_millis())?;
        let (writer, writer_thread) = Writer::start(service, sync, metrics.clone())?;
        let spooler = crate::printing::Spooler::start(spool, node, writer.durable())?;
        Ok(Node {
            listener,
            api: PosApi::new(
                writer,
                reader,
                print_queue,
                crate::staff::PinDesk::start()?,
                sessions,
                metrics.clone(),
                trust,
            ),
            metrics,
            writer_thread,
            spooler,
            checkpointer,
            sync_listener: None,
            peers: Vec::new(),
            discover: false,
            _lock: lock,
        })
    }

    /// Answers other nodes' pulls and pairing on `listen` (if given), over TLS, and pulls
    /// from each of `peers` (`host:port` of their sync listeners). Refused for a node
    /// without a certificate: nobody would take its ledger.
    pub async fn with_sync(
        mut self,
        listen: Option<SocketAddr>,
        peers: Vec<String>,
    ) -> Result<Node, NodeError> {
        if self.api.trust().certificate.is_none() {
            return Err(NodeError::BadRequest(
                "this data directory belongs to no organization (it was set up before \
                 organizations, or its pairing did not finish), so it cannot sync: run it \
                 without --sync and --peer, or set up a new one"
                    .into(),
            ));
        }
        if let Some(addr) = listen {
            let listener = TcpListener::bind(addr).await?;
            self.api
                .set_sync_address(listener.local_addr()?.to_string());
            self.sync_listener = Some(listener);
        }
        self.peers = peers;
        Ok(self)
    }

    /// Advertises the sync listener on the LAN (mDNS) and pulls from every node of the
    /// organization found there.
    pub fn with_discovery(mut self) -> Result<Node, NodeError> {
        if self.sync_listener.is_none() {
            return Err(NodeError::BadRequest(
                "discovery advertises the sync listener: give --sync ADDR too".into(),
            ));
        }
        self.discover = true;
        Ok(self)
    }

    /// Where other nodes pull from this one, if it answers them.
    pub fn sync_addr(&self) -> Result<Option<SocketAddr>, NodeError> {
        Ok(match &self.sync_listener {
            Some(l) => Some(l.local_addr()?),
            None => None,
        })
    }

    pub fn local_addr(&self) -> Result<SocketAddr, NodeError> {
        Ok(self.listener.local_addr()?)
    }

    /// Serves until `shutdown` completes, then drains the writer.
    pub async fn serve(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<(), NodeError> {
        let (health, health_service) = tonic_health::server::health_reporter();
        health.set_serving::<PosServer<PosApi>>().await;
        let reflection = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(mpos_proto::FILE_DESCRIPTOR_SET)
            .build_v1()
            .map_err(|e| NodeError::BadRequest(format!("reflection: {e}")))?;
        // Live views never end by themselves: when the stop comes they are told to end, or
        // the graceful drain would wait for them forever.
        let closing = self.api.closing();
        let shutdown = async move {
            shutdown.await;
            closing.send_replace(true);
        };
        let api = self.api;
        let guest = crate::grpc::GuestApi::new(api.clone());
        let routes = tonic::service::Routes::new(GuestServer::new(guest));
        let sync_port = match &self.sync_listener {
            Some(l) => Some(l.local_addr()?.port()),
            None => None,
        };
        let sync_server = match self.sync_listener {
            Some(listener) => Some(serve_sync(listener, api.clone())?),
            None => None,
        };
        let _discovery = match (self.discover, sync_port) {
            (true, Some(port)) => Some(crate::discovery::Discovery::start(api.clone(), port)?),
            _ => None,
        };
        for peer in self.peers {
            api.pull_from(peer);
        }
        // Every handle on the writer goes with the router (and with the pulls, which end
        // when the node stops): then the writer drains its queue and stops.
        let routes = routes.add_service(PosServer::new(api));
        let router = routes
            .add_service(health_service)
            .add_service(reflection)
            .into_axum_router()
            // Browsers call the same services as gRPC-Web (tonic-web answers anything else
            // over HTTP/1.1 with 400, so it wraps the gRPC routes only).
            .layer(tonic_web::GrpcWebLayer::new())
            .route("/healthz", get(|| async { "ok\n" }))
            .route(
                "/metrics",
                get(move || {
                    let metrics = self.metrics.clone();
                    async move {
                        (
                            [("content-type", "text/plain; version=0.0.4")],
                            metrics.render(),
                        )
                    }
                }),
            )
            .fallback(crate::web::serve);
        // gRPC writes small frames (headers, message, trailers): without TCP_NODELAY each
        // answer waits on the client's delayed ACK, tens of milliseconds per call.
        let listener = self.listener.tap_io(|tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::warn!(error = %e, "cannot set TCP_NODELAY");
            }
        });
        axum::serve(listener, router)
            .with_graceful_shutdown(shutdown)
            .await?;
        // The sync server ends with the same signal; its handles on the writer go with it.
        if let Some(server) = sync_server {
            let _ = server.await;
        }
        // The router (and with it every writer handle) is gone: the writer drains and stops.
        let _ = tokio::task::spawn_blocking(move || self.writer_thread.join()).await;
        drop(self.spooler);
        drop(self.checkpointer);
        Ok(())
    }
}

/// How long an accepted sync connection has to finish its TLS handshake.
const HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Serves `mpos.v1.Sync` on `listener` over TLS until the node closes. Handshakes run on
/// their own tasks, so a slow or silent client never holds up the next one.
fn serve_sync(
    listener: TcpListener,
    api: PosApi,
) -> Result<tokio::task::JoinHandle<()>, NodeError> {
    let acceptor = tokio_rustls::TlsAcceptor::from(crate::tls::server_config(&api.trust().key)?);
    let (accepted, incoming) =
        tokio::sync::mpsc::channel::<Result<crate::tls::PeerStream, std::io::Error>>(64);
    let mut closing = api.closing().subscribe();
    let accepting = tokio::spawn(async move {
        loop {
            let (tcp, addr) = match listener.accept().await {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "sync listener cannot accept");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            };
            let (acceptor, accepted) = (acceptor.clone(), accepted.clone());
            tokio::spawn(async move {
                let handshake = crate::tls::PeerStream::accept(&acceptor, tcp, addr);
                match tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake).await {
                    Ok(Ok(stream)) => {
                        let _ = accepted.send(Ok(stream)).await;
                    }
                    Ok(Err(e)) => {
                        tracing::info!(from = %addr, error = %e, "a sync connection failed its TLS handshake")
                    }
                    Err(_) => {
                        tracing::info!(from = %addr, "a sync connection did not finish its TLS handshake")
                    }
                }
            });
        }
    });
    let stop = async move {
        let _ = closing.wait_for(|c| *c).await;
    };
    Ok(tokio::spawn(async move {
        let served = tonic::transport::Server::builder()
            .add_service(SyncServer::new(crate::grpc::SyncApi::new(api)))
            .serve_with_incoming_shutdown(
                tokio_stream::wrappers::ReceiverStream::new(incoming),
                stop,
            )
            .await;
        accepting.abort();
        if let Err(e) = served {
            tracing::error!(error = %e, "the sync server failed");
        }
    }))
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
    tracing::info!("shutting down: finishing queued requests");
}
