//! Sync between real `mpos serve` processes on loopback: two registers sell while apart,
//! then pull each other's ledgers and hold the same sales; a peer that sends altered
//! entries is refused and nothing of it is written.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use mpos_proto::v1::{self, sync_client::SyncClient, sync_server::Sync as SyncService};
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::Channel;

use crate::serve::{Server, authed, client, login, sell_ticket, set_up_cafe, start_with};
use crate::support::s;

/// A loopback port nothing listens on now (the node binds it next).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `mpos serve --sync` on `port`, pulling from `peers`.
fn serve_synced(data: &Path, port: u16, peers: &[&str]) -> Server {
    let listen = format!("127.0.0.1:{port}");
    let mut args = vec!["--listen", &listen, "--sync"];
    for p in peers {
        args.extend(["--peer", p]);
    }
    start_with(data, "sqlite", &args)
}

/// What a node holds of each node's ledger: node id -> entries.
async fn heads(addr: &str) -> BTreeMap<Vec<u8>, u64> {
    let mut c = SyncClient::connect(format!("http://{addr}")).await.unwrap();
    let reply = c.heads(v1::HeadsRequest {}).await.unwrap().into_inner();
    reply
        .heads
        .into_iter()
        .map(|h| {
            let key: [u8; 32] = h.public_key.as_slice().try_into().unwrap();
            let key = mpos_ledger::PublicKey::from_bytes(&key).unwrap();
            (key.node_id().0.to_vec(), h.size)
        })
        .collect()
}

/// The order list as a register sees it: number, status, total, paid, for every order.
async fn orders(addr: &str) -> Vec<(String, i32, i64, i64)> {
    let mut c = client(addr).await;
    let token = login(&mut c, 1, "4821").await;
    let reply = c
        .list_orders(authed(
            &token,
            v1::ListOrdersRequest {
                limit: 200,
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let mut out: Vec<_> = reply
        .orders
        .into_iter()
        .map(|o| (o.number, o.status, o.total, o.paid))
        .collect();
    out.sort();
    out
}

/// Waits (up to a bound that only a hang reaches) until `done` holds.
async fn eventually<F, Fut>(what: &str, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !done().await {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{what} did not happen"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_registers_sell_apart_and_hold_the_same_sales_once_they_sync() {
    let (a_dir, b_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    set_up_cafe(a_dir.path());
    set_up_cafe(b_dir.path());
    let (pa, pb) = (free_port(), free_port());
    // Apart: each sells on its own.
    let a = serve_synced(a_dir.path(), pa, &[]);
    let b = serve_synced(b_dir.path(), pb, &[]);
    for (server, orders) in [(&a, 1..4u128), (&b, 11..14)] {
        let mut c = client(&server.addr).await;
        let token = login(&mut c, 2, "1357").await;
        for order in orders {
            sell_ticket(&mut c, &token, order).await;
        }
    }
    assert_eq!(self::orders(&a.addr).await.len(), 3);
    assert_eq!(self::orders(&b.addr).await.len(), 3);
    let (a_addr, b_addr) = (a.addr.clone(), b.addr.clone());

    // Together again: each pulls from the other.
    drop((a, b));
    let a = serve_synced(a_dir.path(), pa, &[&b_addr]);
    let b = serve_synced(b_dir.path(), pb, &[&a_addr]);
    eventually("both nodes holding both ledgers whole", || async {
        let (ha, hb) = (heads(&a.addr).await, heads(&b.addr).await);
        ha.len() == 2 && ha == hb
    })
    .await;
    let on_a = orders(&a.addr).await;
    assert_eq!(on_a.len(), 6, "{on_a:?}");
    assert_eq!(on_a, orders(&b.addr).await);
    assert!(
        on_a.iter()
            .all(|(_, _, total, paid)| total == paid && *total == 1_010)
    );

    // A sale now reaches the other register by itself (the pull follows).
    let mut c = client(&a.addr).await;
    let token = login(&mut c, 2, "1357").await;
    sell_ticket(&mut c, &token, 21).await;
    eventually("the new sale reaching B", || async {
        orders(&b.addr).await.len() == 7
    })
    .await;
    assert_eq!(orders(&a.addr).await, orders(&b.addr).await);

    // A node pulling and pulled from still stops on SIGTERM, and both ledgers, as B
    // holds them, verify.
    for mut server in [b, a] {
        let pid = server.child.id().to_string();
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status();
        assert!(sent.unwrap().success());
        let start = Instant::now();
        while server.child.try_wait().unwrap().is_none() {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "the node did not stop"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(server.child.wait().unwrap().success());
    }
    let out = b_dir.path().join("b.mposledger");
    let (code, _, err) = crate::support::run(&[
        "ledger",
        "export",
        "--data",
        s(b_dir.path()),
        "--out",
        s(&out),
    ]);
    assert_eq!(code, 0, "{err}");
    let (code, text, err) = crate::support::run(&["ledger", "verify", s(&out)]);
    assert_eq!(code, 0, "{text}{err}");
}

/// A peer that answers pulls with batches it was given, altered or not.
#[derive(Clone)]
struct Forger {
    batches: std::sync::Arc<std::sync::Mutex<Vec<v1::SyncBatch>>>,
}

#[tonic::async_trait]
impl SyncService for Forger {
    async fn heads(
        &self,
        _: tonic::Request<v1::HeadsRequest>,
    ) -> Result<tonic::Response<v1::HeadsReply>, tonic::Status> {
        Ok(tonic::Response::new(v1::HeadsReply::default()))
    }

    type PullStream = ReceiverStream<Result<v1::SyncBatch, tonic::Status>>;

    async fn pull(
        &self,
        _: tonic::Request<v1::PullRequest>,
    ) -> Result<tonic::Response<Self::PullStream>, tonic::Status> {
        let batches = self.batches.lock().unwrap().clone();
        let (tx, rx) = tokio::sync::mpsc::channel(batches.len().max(1));
        for b in batches {
            tx.send(Ok(b)).await.unwrap();
        }
        Ok(tonic::Response::new(ReceiverStream::new(rx)))
    }
}

/// How many of `node`'s entries `addr` holds.
async fn held(addr: &str, node: &[u8]) -> u64 {
    heads(addr).await.get(node).copied().unwrap_or(0)
}

/// The tree size a batch's checkpoint closes.
fn size_of(batch: &v1::SyncBatch) -> u64 {
    mpos_ledger::SignedCheckpoint::from_bytes(&batch.checkpoint)
        .unwrap()
        .checkpoint
        .tree_size
}

async fn pull_all(addr: &str) -> Vec<v1::SyncBatch> {
    let mut c: SyncClient<Channel> = SyncClient::connect(format!("http://{addr}")).await.unwrap();
    let mut stream = c
        .pull(v1::PullRequest {
            held: vec![],
            follow: false,
        })
        .await
        .unwrap()
        .into_inner();
    let mut out = Vec::new();
    while let Some(b) = stream.message().await.unwrap() {
        out.push(b);
    }
    out
}

async fn metric(addr: &str, name: &str) -> u64 {
    let addr = addr.to_string();
    let name = name.to_string();
    tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(&addr).unwrap();
        write!(
            stream,
            "GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut text = String::new();
        stream.read_to_string(&mut text).unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .map_or(0, |v| v.trim().parse().unwrap())
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_sending_altered_or_reordered_entries_is_refused_and_nothing_is_written() {
    let (a_dir, b_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    set_up_cafe(a_dir.path());
    let a = serve_synced(a_dir.path(), free_port(), &[]);
    let mut c = client(&a.addr).await;
    let token = login(&mut c, 2, "1357").await;
    sell_ticket(&mut c, &token, 1).await;
    sell_ticket(&mut c, &token, 2).await;
    let honest = pull_all(&a.addr).await;
    let a_node = heads(&a.addr).await;
    drop(a);
    assert!(honest.len() > 3);

    // The forger serves A's batches with one entry's payload altered.
    let mut altered = honest.clone();
    let last = altered.len() - 1;
    let entry = &mut altered[last].entries[0];
    let end = entry.len() - 1;
    entry[end] ^= 0x01;
    let forger = Forger {
        batches: std::sync::Arc::new(std::sync::Mutex::new(altered)),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let forger_addr = listener.local_addr().unwrap().to_string();
    let served = forger.clone();
    tokio::spawn(async move {
        tonic::transport::Server::builder()
            .add_service(v1::sync_server::SyncServer::new(served))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener))
            .await
            .unwrap();
    });

    let b = serve_synced(b_dir.path(), free_port(), &[&forger_addr]);
    eventually("B refusing the altered batch", || async {
        metric(&b.addr, "mpos_peer_refusals_total").await >= 1
    })
    .await;
    // Each batch verifies on its own (its entries and the checkpoint A signed): those
    // before the altered one may be taken, nothing of it or after it.
    let a_id = a_node.keys().next().unwrap().clone();
    assert_eq!(a_node.len(), 1);
    assert!(held(&b.addr, &a_id).await <= size_of(&honest[last - 1]));

    // Reordered: the last batch's entries (its payment and the close) swapped.
    let mut reordered = honest.clone();
    assert!(reordered[last].entries.len() >= 2);
    reordered[last].entries.swap(0, 1);
    *forger.batches.lock().unwrap() = reordered;
    let before = metric(&b.addr, "mpos_peer_refusals_total").await;
    eventually("B refusing the reordered batches", || async {
        metric(&b.addr, "mpos_peer_refusals_total").await > before
    })
    .await;
    assert!(held(&b.addr, &a_id).await <= size_of(&honest[last - 1]));

    // The same peer turned honest: B takes A's ledger whole.
    *forger.batches.lock().unwrap() = honest;
    eventually("B taking the honest ledger", || async {
        heads(&b.addr).await == a_node
    })
    .await;
}
