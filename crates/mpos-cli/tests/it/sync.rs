//! Sync between real `mpos serve` processes on loopback, over TLS: a register paired into
//! the organization with `mpos pair` takes its menu, staff, PINs and sales; two registers
//! sell apart and hold the same sales once they sync; a member that sends altered entries
//! is refused and nothing of it is written; nodes of other organizations, callers without
//! a certificate and revoked nodes are not heard.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mpos_ledger::{NodeCertificate, NodeKey};
use mpos_node::DataDir;
use mpos_proto::v1::{self, sync_client::SyncClient, sync_server::Sync as SyncService};
use tokio_stream::wrappers::ReceiverStream;
use tonic::service::interceptor::InterceptedService;

use crate::serve::{
    Server, authed, cli, cli_ok, client, login, sell_ticket, set_up_cafe, start_with,
};
use crate::support::s;

/// A loopback port nothing listens on now (the node binds it next).
pub(crate) fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    // Below the kernel's ephemeral ports (32768 and up): a port handed out for port 0,
    // or to another test's outgoing connection, never takes this one between the check
    // and the node's bind. Each test process starts at a place of its own.
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let start = std::process::id().wrapping_mul(2_654_435_761);
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let port =
            u16::try_from(10_000 + start.wrapping_add(n.wrapping_mul(7_919)) % 22_000).unwrap();
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// A node's two ports: gRPC and HTTP, and sync.
#[derive(Clone, Copy)]
pub(crate) struct Ports {
    api: u16,
    sync: u16,
}

impl Ports {
    pub(crate) fn new() -> Ports {
        Ports {
            api: free_port(),
            sync: free_port(),
        }
    }

    pub(crate) fn sync_addr(&self) -> String {
        format!("127.0.0.1:{}", self.sync)
    }
}

/// `mpos serve` answering sync on its sync port and pulling from `peers` (sync addresses).
pub(crate) fn serve_synced(data: &Path, ports: Ports, peers: &[String]) -> Server {
    serve_synced_on(data, "sqlite", ports, peers)
}

/// `serve_synced` on the store `store` (`sqlite` or a PostgreSQL connection string).
pub(crate) fn serve_synced_on(data: &Path, store: &str, ports: Ports, peers: &[String]) -> Server {
    let listen = format!("127.0.0.1:{}", ports.api);
    let sync = ports.sync_addr();
    let mut args = vec!["--listen", &listen, "--sync", &sync];
    for p in peers {
        args.extend(["--peer", p.as_str()]);
    }
    start_with(data, store, &args)
}

/// What a node holds of each node's ledger (node id -> entries), as the owner sees it.
pub(crate) async fn heads(addr: &str) -> BTreeMap<Vec<u8>, u64> {
    let mut c = client(addr).await;
    let token = login(&mut c, 1, "4821").await;
    c.list_nodes(authed(&token, v1::ListNodesRequest {}))
        .await
        .unwrap()
        .into_inner()
        .nodes
        .into_iter()
        .filter(|n| n.entries > 0)
        .map(|n| (n.node_id, n.entries))
        .collect()
}

/// The order list as a register sees it: number, status, total, paid, for every order.
pub(crate) async fn orders(addr: &str) -> Vec<(String, i32, i64, i64)> {
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
pub(crate) async fn eventually<F, Fut>(what: &str, mut done: F)
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

/// Whether staff member `staff` can log in at `addr` with `pin`.
pub(crate) async fn logs_in(addr: &str, staff: u128, pin: &str) -> bool {
    let mut c = client(addr).await;
    c.login(v1::LoginRequest {
        approval: false,
        staff: crate::serve::id(staff),
        pin: pin.into(),
    })
    .await
    .is_ok()
}

/// The owner, logged in with the CLI against `addr`, asks for a pairing code.
pub(crate) fn invite(addr: &str, session: &Path, name: &str) -> String {
    invite_as(addr, session, name, "4821")
}

/// `invite`, Ana logging in with `pin`.
pub(crate) fn invite_as(addr: &str, session: &Path, name: &str, pin: &str) -> String {
    cli_ok(addr, session, &["login", "--staff", "Ana", "--pin", pin]);
    let out = cli_ok(addr, session, &["pair", "new", "--name", name, "--json"]);
    let reply: serde_json::Value = serde_json::from_str(&out).unwrap();
    reply["code"].as_str().unwrap().to_string()
}

/// `mpos pair join` of a new register in `dir` through the inviting node's sync address
/// `peer`: what it printed.
pub(crate) fn join(dir: &Path, peer: &str, code: &str) -> String {
    crate::support::ok(&[
        "pair",
        "join",
        "--data",
        s(dir),
        "--peer",
        peer,
        "--code",
        code,
    ])
}

pub(crate) fn stop(mut server: Server) {
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
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(server.child.wait().unwrap().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paired_register_takes_the_organization_and_two_registers_converge_after_selling_apart() {
    let tmp = tempfile::tempdir().unwrap();
    let (a_dir, b_dir) = (tmp.path().join("a"), tmp.path().join("b"));
    let session = tmp.path().join("session.json");
    set_up_cafe(&a_dir);
    let (pa, pb) = (Ports::new(), Ports::new());
    let a = serve_synced(&a_dir, pa, &[]);

    // The owner invites a register; a mistyped code, then the right one.
    let code = invite(&a.addr, &session, "Register 2");
    let mut wrong = code.clone().into_bytes();
    wrong[0] = if wrong[0] == b'A' { b'B' } else { b'A' };
    let wrong = String::from_utf8(wrong).unwrap();
    let (status, _, err) = crate::support::run(&[
        "pair",
        "join",
        "--data",
        s(&b_dir),
        "--peer",
        &pa.sync_addr(),
        "--code",
        &wrong,
    ]);
    assert_eq!(status, 2, "{err}");
    assert!(
        err.contains("no such invitation") || err.contains("not the node whose code"),
        "{err}"
    );
    let joined = join(&b_dir, &pa.sync_addr(), &code);
    assert!(joined.contains("as \"Register 2\""), "{joined}");
    // Once only.
    let (status, _, err) = crate::support::run(&[
        "pair",
        "join",
        "--data",
        s(&tmp.path().join("c")),
        "--peer",
        &pa.sync_addr(),
        "--code",
        &code,
    ]);
    assert_eq!(status, 2, "{err}");

    // The new register takes the organization: menu, staff and their PINs, whose hashes
    // travel only between nodes. A pulls from it too.
    let b = serve_synced(&b_dir, pb, &[pa.sync_addr()]);
    drop(a);
    let a = serve_synced(&a_dir, pa, &[pb.sync_addr()]);
    eventually("Bao logging in at the new register", || async {
        logs_in(&b.addr, 2, "1357").await
    })
    .await;
    let listed = cli_ok(&a.addr, &session, &["node", "list", "--json"]);
    let listed: serde_json::Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(listed["holds_root_key"], true);
    let names: Vec<&str> = listed["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"Register 2"), "{listed}");

    // Apart: each sells on its own.
    drop((a, b));
    let a = serve_synced(&a_dir, pa, &[]);
    let b = serve_synced(&b_dir, pb, &[]);
    for (server, orders) in [(&a, 1..4u128), (&b, 11..14)] {
        let mut c = client(&server.addr).await;
        let token = login(&mut c, 2, "1357").await;
        for order in orders {
            sell_ticket(&mut c, &token, order).await;
        }
    }
    assert_eq!(self::orders(&a.addr).await.len(), 3);
    assert_eq!(self::orders(&b.addr).await.len(), 3);

    // Together again: each pulls from the other.
    drop((a, b));
    let a = serve_synced(&a_dir, pa, &[pb.sync_addr()]);
    let b = serve_synced(&b_dir, pb, &[pa.sync_addr()]);
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
    // The sale is four requests, four batches: B may hold its opening before its payment.
    eventually("the new sale reaching B paid", || async {
        orders(&a.addr).await == orders(&b.addr).await
    })
    .await;
    assert_eq!(orders(&a.addr).await, orders(&b.addr).await);

    // The receipt of a sale made on A reprints on B with the code A signed.
    let receipt = |addr: String| async move {
        let mut c = client(&addr).await;
        let token = login(&mut c, 2, "1357").await;
        c.get_receipt(authed(
            &token,
            v1::GetReceiptRequest {
                order: crate::serve::id(21),
                width: 32,
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .code
    };
    let signed_on_a = receipt(a.addr.clone()).await;
    assert!(signed_on_a.starts_with("MPR1."), "{signed_on_a}");
    eventually("the receipt code reaching B", || async {
        receipt(b.addr.clone()).await == signed_on_a
    })
    .await;

    // A node pulling and pulled from still stops on SIGTERM, and both ledgers, as B holds
    // them, verify.
    stop(b);
    stop(a);
    let out = tmp.path().join("b.mposledger");
    let (code, _, err) =
        crate::support::run(&["ledger", "export", "--data", s(&b_dir), "--out", s(&out)]);
    assert_eq!(code, 0, "{err}");
    let (code, text, err) = crate::support::run(&["ledger", "verify", s(&out)]);
    assert_eq!(code, 0, "{text}{err}");

    // Witnessing: each countersigned the other's checkpoints as it took them, and handed
    // the countersignatures over; A's own export shows B vouching for A's history.
    let a_id = DataDir::open(&a_dir).unwrap().key().node_id().to_string();
    let b_id = DataDir::open(&b_dir).unwrap().key().node_id().to_string();
    let out = tmp.path().join("a.mposledger");
    crate::support::ok(&["ledger", "export", "--data", s(&a_dir), "--out", s(&out)]);
    let verified = crate::support::json(&["ledger", "verify", s(&out), "--json"]);
    let a_summary = verified["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["node"] == a_id.as_str())
        .unwrap();
    assert!(a_summary["witnessed_by"].get(&b_id).is_some(), "{verified}");
    assert!(
        a_summary["witnessed_up_to"].as_u64().unwrap() > 0,
        "{verified}"
    );
}

/// A node identity for a test's own sync clients and servers: a key, and a certificate
/// issued by the organization whose founding data directory is `founder` (none: none).
pub(crate) struct Member {
    key: NodeKey,
    pub(crate) certificate: Vec<u8>,
}

impl Member {
    pub(crate) fn of(founder: &Path, secret: u8, name: &str) -> Member {
        let identity = DataDir::open(founder).unwrap().into_identity();
        let root = identity.root_key().unwrap();
        let key = NodeKey::from_secret(&[secret; 32]);
        let certificate = NodeCertificate::issue(root, key.public(), name, 1)
            .unwrap()
            .to_bytes();
        Member { key, certificate }
    }

    /// A sync client to `addr` over TLS, sending `certificate` (none: no header).
    pub(crate) async fn client(
        &self,
        addr: &str,
        certificate: Option<Vec<u8>>,
    ) -> SyncClient<InterceptedService<tonic::transport::Channel, ShowCertificate>> {
        let tls = mpos_node::tls::pinning_first_key(&self.key).unwrap();
        let channel = mpos_node::tls::channel(tls, addr.to_string(), Arc::new(Mutex::new(None)))
            .await
            .unwrap();
        SyncClient::with_interceptor(channel, ShowCertificate(certificate))
    }
}

/// Sends a node certificate with every call, as a node's puller does.
#[derive(Clone)]
pub(crate) struct ShowCertificate(Option<Vec<u8>>);

impl tonic::service::Interceptor for ShowCertificate {
    fn call(&mut self, mut r: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(c) = &self.0 {
            r.metadata_mut().insert_bin(
                "mpos-certificate-bin",
                tonic::metadata::MetadataValue::from_bytes(c),
            );
        }
        Ok(r)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_certified_unrevoked_nodes_of_the_organization_are_heard() {
    let tmp = tempfile::tempdir().unwrap();
    let (a_dir, other_dir) = (tmp.path().join("a"), tmp.path().join("other"));
    set_up_cafe(&a_dir);
    set_up_cafe(&other_dir);
    let pa = Ports::new();
    let a = serve_synced(&a_dir, pa, &[]);
    let sync = pa.sync_addr();

    let member = Member::of(&a_dir, 0x31, "Till 9");
    let mut ok = member.client(&sync, Some(member.certificate.clone())).await;
    let answered = ok.heads(v1::HeadsRequest {}).await.unwrap().into_inner();
    assert_eq!(answered.heads.len(), 1);
    let theirs = NodeCertificate::from_bytes(&answered.certificate).unwrap();
    assert_eq!(
        theirs.root,
        DataDir::open(&a_dir).unwrap().certificate().unwrap().root
    );

    let denied = |code: tonic::Code, what: &str, got: Result<_, tonic::Status>| match got {
        Err(s) => assert_eq!(s.code(), code, "{what}: {s:?}"),
        Ok(_) => panic!("{what}: answered"),
    };
    // No certificate at all.
    let mut none = member.client(&sync, None).await;
    denied(
        tonic::Code::Unauthenticated,
        "no certificate",
        none.heads(v1::HeadsRequest {}).await.map(|_| ()),
    );
    // Another organization's node.
    let stranger = Member::of(&other_dir, 0x32, "Elsewhere");
    let mut theirs = stranger
        .client(&sync, Some(stranger.certificate.clone()))
        .await;
    denied(
        tonic::Code::PermissionDenied,
        "another organization",
        theirs
            .pull(v1::PullRequest {
                held: vec![],
                follow: false,
            })
            .await
            .map(|_| ()),
    );
    // A member's certificate shown with another key.
    let thief = Member {
        key: NodeKey::from_secret(&[0x33; 32]),
        certificate: member.certificate.clone(),
    };
    let mut stolen = thief.client(&sync, Some(thief.certificate.clone())).await;
    denied(
        tonic::Code::PermissionDenied,
        "a stolen certificate",
        stolen.heads(v1::HeadsRequest {}).await.map(|_| ()),
    );
    // Plain gRPC without TLS gets nowhere.
    let plain = tokio::time::timeout(
        Duration::from_secs(10),
        SyncClient::connect(format!("http://{sync}")),
    )
    .await;
    if let Ok(Ok(mut c)) = plain {
        assert!(c.heads(v1::HeadsRequest {}).await.is_err());
    }
    // A node of another organization pulling from A takes nothing, and A lists it nowhere.
    let po = Ports::new();
    let other = serve_synced(&other_dir, po, std::slice::from_ref(&sync));
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(heads(&other.addr).await.len(), 1, "only its own ledger");
    assert_eq!(heads(&a.addr).await.len(), 1);
    drop(other);

    // Revoked: the owner withdraws Till 9 (known to A once A holds its certificate; here A
    // pairs it the way `mpos pair` records it), and its calls are refused from then on.
    let session = tmp.path().join("session.json");
    let code = invite(&a.addr, &session, "Register 3");
    let b_dir = tmp.path().join("b");
    join(&b_dir, &sync, &code);
    let b_cert = DataDir::open(&b_dir)
        .unwrap()
        .certificate()
        .unwrap()
        .clone();
    let b_identity = DataDir::open(&b_dir).unwrap().into_identity();
    let b_member = Member {
        key: NodeKey::from_secret(&b_identity.key().secret_bytes()),
        certificate: b_cert.to_bytes(),
    };
    let mut b_client = b_member
        .client(&sync, Some(b_member.certificate.clone()))
        .await;
    assert!(b_client.heads(v1::HeadsRequest {}).await.is_ok());
    // Its key joining again with a new code (as when its first answer was lost) gets the
    // certificate it has, not a second one.
    let secret_of = |code: &str| {
        mpos_node::pairing::PairingCode::parse(code)
            .unwrap()
            .secret
            .to_vec()
    };
    let again = invite(&a.addr, &session, "Register 3 again");
    let reply = b_client
        .join(v1::JoinRequest {
            secret: secret_of(&again),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(reply.certificate, b_cert.to_bytes());
    let listed = cli_ok(&a.addr, &session, &["node", "list"]);
    assert!(!listed.contains("Register 3 again"), "{listed}");
    // B follows A; the revocation ends that open stream too, not only later calls.
    let mut following = b_client
        .pull(v1::PullRequest {
            held: vec![],
            follow: true,
        })
        .await
        .unwrap()
        .into_inner();
    let revoked = cli_ok(
        &a.addr,
        &session,
        &[
            "node",
            "revoke",
            "Register 3",
            "--reason",
            "stolen from the bar",
        ],
    );
    assert!(revoked.contains("revoked \"Register 3\""), "{revoked}");
    let ended = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            match following.message().await {
                Ok(Some(_)) => continue,
                Ok(None) => return None,
                Err(s) => return Some(s.code()),
            }
        }
    })
    .await
    .expect("the open pull of a revoked node ends");
    assert_eq!(ended, Some(tonic::Code::PermissionDenied));
    let mut b_client = b_member
        .client(&sync, Some(b_member.certificate.clone()))
        .await;
    denied(
        tonic::Code::PermissionDenied,
        "a revoked node",
        b_client.heads(v1::HeadsRequest {}).await.map(|_| ()),
    );
    let back = invite(&a.addr, &session, "Register 3 back");
    denied(
        tonic::Code::PermissionDenied,
        "a revoked key pairing again",
        b_client
            .join(v1::JoinRequest {
                secret: secret_of(&back),
            })
            .await
            .map(|_| ()),
    );
    let list = cli_ok(&a.addr, &session, &["node", "list"]);
    assert!(list.contains("stolen from the bar"), "{list}");
    // Only an owner revokes, on the node holding the root key; not twice.
    let (code, _, err) = cli(
        &a.addr,
        &session,
        &["node", "revoke", "Register 3", "--reason", "again"],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("revoked already"), "{err}");
    cli_ok(
        &a.addr,
        &session,
        &["login", "--staff", "Bao", "--pin", "1357"],
    );
    let (code, _, err) = cli(&a.addr, &session, &["pair", "new", "--name", "Till 10"]);
    assert_eq!(code, 2);
    assert!(err.contains("not allowed"), "{err}");
}

/// A certified member gone bad: answers pulls with batches it was given, altered or not.
#[derive(Clone)]
struct Forger {
    certificate: Vec<u8>,
    batches: Arc<Mutex<Vec<v1::SyncBatch>>>,
}

#[tonic::async_trait]
impl SyncService for Forger {
    async fn heads(
        &self,
        _: tonic::Request<v1::HeadsRequest>,
    ) -> Result<tonic::Response<v1::HeadsReply>, tonic::Status> {
        Ok(tonic::Response::new(v1::HeadsReply {
            certificate: self.certificate.clone(),
            ..Default::default()
        }))
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

    async fn join(
        &self,
        _: tonic::Request<v1::JoinRequest>,
    ) -> Result<tonic::Response<v1::JoinReply>, tonic::Status> {
        Err(tonic::Status::unimplemented("a forger pairs nobody"))
    }

    async fn pins(
        &self,
        _: tonic::Request<v1::PinsRequest>,
    ) -> Result<tonic::Response<v1::PinsReply>, tonic::Status> {
        Ok(tonic::Response::new(v1::PinsReply::default()))
    }

    async fn witness(
        &self,
        _: tonic::Request<v1::WitnessRequest>,
    ) -> Result<tonic::Response<v1::WitnessReply>, tonic::Status> {
        Ok(tonic::Response::new(v1::WitnessReply::default()))
    }

    async fn receipts(
        &self,
        _: tonic::Request<v1::ReceiptsRequest>,
    ) -> Result<tonic::Response<v1::ReceiptsReply>, tonic::Status> {
        Ok(tonic::Response::new(v1::ReceiptsReply::default()))
    }
}

/// How many of `node`'s entries the node answering sync at `sync` holds, asked by `who`.
pub(crate) async fn held(who: &Member, sync: &str, node: &[u8]) -> u64 {
    let mut c = who.client(sync, Some(who.certificate.clone())).await;
    let heads = c.heads(v1::HeadsRequest {}).await.unwrap().into_inner();
    heads
        .heads
        .iter()
        .find(|h| {
            let key: [u8; 32] = h.public_key.as_slice().try_into().unwrap();
            mpos_ledger::PublicKey::from_bytes(&key)
                .unwrap()
                .node_id()
                .0
                == node
        })
        .map_or(0, |h| h.size)
}

/// The tree size a batch's checkpoint closes.
fn size_of(batch: &v1::SyncBatch) -> u64 {
    mpos_ledger::SignedCheckpoint::from_bytes(&batch.checkpoint)
        .unwrap()
        .checkpoint
        .tree_size
}

pub(crate) async fn metric(addr: &str, name: &str) -> u64 {
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

/// Serves `forger` over TLS with `key`, as a node's sync listener does; returns its address.
async fn serve_forger(forger: Forger, key: &NodeKey) -> String {
    let acceptor = tokio_rustls::TlsAcceptor::from(mpos_node::tls::server_config(key).unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    tokio::spawn(async move {
        loop {
            let (tcp, from) = listener.accept().await.unwrap();
            let stream = mpos_node::tls::PeerStream::accept(&acceptor, tcp, from).await;
            if tx.send(stream).await.is_err() {
                return;
            }
        }
    });
    tokio::spawn(async move {
        tonic::transport::Server::builder()
            .add_service(v1::sync_server::SyncServer::new(forger))
            .serve_with_incoming(ReceiverStream::new(rx))
            .await
            .unwrap();
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_sending_altered_or_reordered_entries_is_refused_and_nothing_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let (a_dir, b_dir) = (tmp.path().join("a"), tmp.path().join("b"));
    set_up_cafe(&a_dir);
    let pa = Ports::new();
    let a = serve_synced(&a_dir, pa, &[]);
    let mut c = client(&a.addr).await;
    let token = login(&mut c, 2, "1357").await;
    sell_ticket(&mut c, &token, 1).await;
    sell_ticket(&mut c, &token, 2).await;
    let reader = Member::of(&a_dir, 0x41, "Reader");
    let mut pulls = reader
        .client(&pa.sync_addr(), Some(reader.certificate.clone()))
        .await;
    let mut stream = pulls
        .pull(v1::PullRequest {
            held: vec![],
            follow: false,
        })
        .await
        .unwrap()
        .into_inner();
    let mut honest = Vec::new();
    while let Some(b) = stream.message().await.unwrap() {
        honest.push(b);
    }
    let a_node = heads(&a.addr).await;
    drop(a);
    assert!(honest.len() > 3);

    // The forger, a member of A's organization, serves A's batches with one entry's
    // payload altered.
    let forger_key = NodeKey::from_secret(&[0x42; 32]);
    let forger_certificate = NodeCertificate::issue(
        DataDir::open(&a_dir)
            .unwrap()
            .into_identity()
            .root_key()
            .unwrap(),
        forger_key.public(),
        "Forger",
        1,
    )
    .unwrap()
    .to_bytes();
    let mut altered = honest.clone();
    let last = altered.len() - 1;
    let entry = &mut altered[last].entries[0];
    let end = entry.len() - 1;
    entry[end] ^= 0x01;
    let forger = Forger {
        certificate: forger_certificate,
        batches: Arc::new(Mutex::new(altered)),
    };
    let forger_addr = serve_forger(forger.clone(), &forger_key).await;

    // B, a member too (paired the way `mpos pair join` leaves it), pulls from the forger.
    let mut b_data = DataDir::create_for_joining(&b_dir).unwrap();
    let root_identity = DataDir::open(&a_dir).unwrap().into_identity();
    let b_certificate = NodeCertificate::issue(
        root_identity.root_key().unwrap(),
        b_data.key().public(),
        "B",
        1,
    )
    .unwrap();
    b_data.join(b_certificate).unwrap();
    drop(b_data);
    let pb = Ports::new();
    let b = serve_synced(&b_dir, pb, std::slice::from_ref(&forger_addr));
    let b_sync = pb.sync_addr();
    eventually("B refusing the altered batch", || async {
        metric(&b.addr, "mpos_peer_refusals_total").await >= 1
    })
    .await;
    // Each batch verifies on its own (its entries and the checkpoint A signed): those
    // before the altered one are taken, nothing of it or after it.
    let a_id = a_node.keys().next().unwrap().clone();
    assert_eq!(a_node.len(), 1);
    eventually("B taking the batches before the altered one", || async {
        held(&reader, &b_sync, &a_id).await == size_of(&honest[last - 1])
    })
    .await;

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
    assert_eq!(
        held(&reader, &b_sync, &a_id).await,
        size_of(&honest[last - 1])
    );

    // The same peer turned honest: B takes A's ledger whole.
    *forger.batches.lock().unwrap() = honest;
    eventually("B taking the honest ledger", || async {
        held(&reader, &b_sync, &a_id).await == a_node[&a_id]
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_bill_paid_and_an_86d_item_sold_on_two_registers_apart_are_flagged_on_both() {
    let tmp = tempfile::tempdir().unwrap();
    let (a_dir, b_dir) = (tmp.path().join("a"), tmp.path().join("b"));
    let session = tmp.path().join("session.json");
    set_up_cafe(&a_dir);
    let (pa, pb) = (Ports::new(), Ports::new());
    let a = serve_synced(&a_dir, pa, &[]);
    let code = invite(&a.addr, &session, "Register 2");
    join(&b_dir, &pa.sync_addr(), &code);
    drop(a);
    let a = serve_synced(&a_dir, pa, &[pb.sync_addr()]);
    let b = serve_synced(&b_dir, pb, &[pa.sync_addr()]);
    eventually("Bao logging in at the new register", || async {
        logs_in(&b.addr, 2, "1357").await
    })
    .await;
    // A ticket opened on A reaches B.
    let mut c = client(&a.addr).await;
    let token = login(&mut c, 2, "1357").await;
    crate::serve::open_ticket(&mut c, &token, 31).await;
    eventually("the open ticket reaching B", || async {
        orders(&b.addr).await.iter().any(|o| o.0 == "T-31")
    })
    .await;
    // Flour on its way from the city kitchen to the harbour, known to both registers.
    cli_ok(
        &a.addr,
        &session,
        &["login", "--staff", "Ana", "--pin", "4821"],
    );
    for set_up in [
        &["stock", "location", "City"][..],
        &["stock", "location", "Harbour"],
        &["stock", "item", "Flour", "--unit", "kg"],
        &[
            "stock", "receive", "Flour", "5 kg", "--at", "City", "--cost", "6.00",
        ],
    ] {
        cli_ok(&a.addr, &session, set_up);
    }
    let sent = cli_ok(
        &a.addr,
        &session,
        &[
            "stock",
            "transfer",
            "--from",
            "City",
            "--to",
            "Harbour",
            "Flour=2 kg",
            "--json",
        ],
    );
    let sent: serde_json::Value = serde_json::from_str(&sent).unwrap();
    let transfer = sent["id"].as_str().unwrap().to_string();
    cli_ok(
        &b.addr,
        &session,
        &["login", "--staff", "Ana", "--pin", "4821"],
    );
    eventually("the transfer reaching B", || async {
        cli(&b.addr, &session, &["stock", "show", "--json"])
            .1
            .contains(&transfer)
    })
    .await;

    // Apart, each register takes the whole bill: each decides against what it sees.
    drop((a, b));
    let a = serve_synced(&a_dir, pa, &[]);
    let b = serve_synced(&b_dir, pb, &[]);
    let mut c = client(&a.addr).await;
    let token = login(&mut c, 2, "1357").await;
    let paid = crate::serve::pay_ticket(&mut c, &token, 31).await;
    assert_eq!(paid.order.unwrap().balance, 0);
    let mut c = client(&b.addr).await;
    let token = login(&mut c, 2, "1357").await;
    let paid = c
        .take_payment(authed(
            &token,
            v1::TakePaymentRequest {
                drawer: Vec::new(),
                request_id: crate::serve::id(0xb0b),
                order: crate::serve::id(31),
                payment: crate::serve::id(0xb0c),
                tender: Some(v1::Tender {
                    kind: Some(v1::tender::Kind::CardReference("AUTH 99".into())),
                }),
                amount: 1_010,
                tip: 0,
                cash_received: None,
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(paid.order.unwrap().balance, 0);
    // Meanwhile the bar 86'd the croissants on A, and B, not knowing, sold one.
    cli_ok(
        &a.addr,
        &session,
        &["login", "--staff", "Ana", "--pin", "4821"],
    );
    cli_ok(&a.addr, &session, &["menu", "86", "Croissant"]);
    crate::serve::open_ticket(&mut c, &token, 32).await;
    // And both harbour registers took the flour in: A first, with a bag split, then B,
    // the whole of it.
    cli_ok(
        &a.addr,
        &session,
        &[
            "stock",
            "arrive",
            &transfer,
            "Flour=1.5 kg",
            "--note",
            "a bag split",
        ],
    );
    cli_ok(
        &b.addr,
        &session,
        &["login", "--staff", "Ana", "--pin", "4821"],
    );
    cli_ok(&b.addr, &session, &["stock", "arrive", &transfer]);
    for server in [&a, &b] {
        let out = cli_ok(
            &server.addr,
            &session,
            &["login", "--staff", "Ana", "--pin", "4821"],
        );
        assert!(!out.is_empty());
        let none = cli_ok(&server.addr, &session, &["order", "conflicts"]);
        assert!(none.contains("no order needs a manager"), "{none}");
    }

    // Together again: both registers hold both payments, and both flag the bill and the
    // croissant; nothing was dropped.
    drop((a, b));
    let a = serve_synced(&a_dir, pa, &[pb.sync_addr()]);
    let b = serve_synced(&b_dir, pb, &[pa.sync_addr()]);
    for server in [&a, &b] {
        cli_ok(
            &server.addr,
            &session,
            &["login", "--staff", "Ana", "--pin", "4821"],
        );
        eventually("the bill and the croissant flagged", || async {
            let out = cli(&server.addr, &session, &["order", "conflicts", "--json"]).1;
            out.contains("more than its total") && out.contains("86'd")
        })
        .await;
        let out = cli_ok(&server.addr, &session, &["order", "conflicts", "--json"]);
        let listed: serde_json::Value = serde_json::from_str(&out).unwrap();
        let mut flagged: Vec<(String, String)> = listed["orders"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| {
                (
                    o["number"].as_str().unwrap().to_string(),
                    o["conflicts"][0].as_str().unwrap().to_string(),
                )
            })
            .collect();
        flagged.sort();
        assert_eq!(
            flagged,
            vec![
                (
                    "T-31".to_string(),
                    "paid 10.10 EUR more than its total".to_string()
                ),
                (
                    "T-32".to_string(),
                    "sold Croissant after another register 86'd it".to_string()
                ),
            ],
            "{listed}"
        );
        assert_eq!(metric(&server.addr, "mpos_order_conflicts_total").await, 2);
        // The arrival recorded first stands on both, and the transfer is to be checked.
        eventually("the two arrivals settled", || async {
            let out = cli(&server.addr, &session, &["stock", "show", "--json"]).1;
            serde_json::from_str::<serde_json::Value>(&out)
                .is_ok_and(|v| v["disputed"].as_array().is_some_and(|d| !d.is_empty()))
        })
        .await;
        let shown: serde_json::Value = serde_json::from_str(&cli_ok(
            &server.addr,
            &session,
            &["stock", "show", "--json"],
        ))
        .unwrap();
        assert_eq!(shown["disputed"][0]["id"], transfer.as_str(), "{shown}");
        assert_eq!(
            shown["disputed"][0]["received"][0]["quantity"], "1.5 kg",
            "{shown}"
        );
        assert_eq!(
            shown["disputed"][0]["sent"][0]["quantity"], "2 kg",
            "{shown}"
        );
        let harbour = shown["levels"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["location_name"] == "Harbour" && l["item_name"] == "Flour")
            .cloned();
        assert_eq!(harbour.unwrap()["quantity"], "1.5 kg", "{shown}");
        let text = cli_ok(&server.addr, &session, &["stock", "show"]);
        assert!(
            text.contains("two registers recorded its arrival differently"),
            "{text}"
        );
    }
    // The manager counts the flour at the harbour on A: the check is done on both.
    cli_ok(
        &a.addr,
        &session,
        &["login", "--staff", "Ana", "--pin", "4821"],
    );
    cli_ok(
        &a.addr,
        &session,
        &["stock", "count", "Flour", "1.5", "--at", "Harbour"],
    );
    for server in [&a, &b] {
        cli_ok(
            &server.addr,
            &session,
            &["login", "--staff", "Ana", "--pin", "4821"],
        );
        eventually("the count settling the transfer", || async {
            let out = cli(&server.addr, &session, &["stock", "show", "--json"]).1;
            serde_json::from_str::<serde_json::Value>(&out)
                .is_ok_and(|v| v["disputed"].as_array().is_some_and(Vec::is_empty))
        })
        .await;
    }
    assert_eq!(orders(&a.addr).await, orders(&b.addr).await);
}
