//! Discovery on a LAN of the test's own: two network namespaces joined by a veth pair, so
//! nothing, mDNS multicast included, leaves the machine. Two registers of one organization,
//! started with `--discover` and no `--peer`, find each other by mDNS and take each
//! other's ledgers; a node of another organization on the same LAN is ignored.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::s;

/// Two namespaces, `a` at 10.77.0.1 and `b` at 10.77.0.2, on one link. Removed on drop.
struct Lan {
    a: String,
    b: String,
}

fn ip(args: &[&str]) {
    let out = Command::new("ip")
        .args(args)
        .output()
        .expect("iproute2's ip");
    assert!(
        out.status.success(),
        "ip {args:?}: {} (this test makes network namespaces: run it as root)",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Lan {
    fn new() -> Lan {
        let tag = std::process::id() % 100_000;
        let lan = Lan {
            a: format!("mpos-a-{tag}"),
            b: format!("mpos-b-{tag}"),
        };
        let (va, vb) = (format!("mpa{tag}"), format!("mpb{tag}"));
        ip(&["netns", "add", &lan.a]);
        ip(&["netns", "add", &lan.b]);
        ip(&["link", "add", &va, "type", "veth", "peer", "name", &vb]);
        ip(&["link", "set", &va, "netns", &lan.a]);
        ip(&["link", "set", &vb, "netns", &lan.b]);
        for (ns, dev, addr) in [(&lan.a, &va, "10.77.0.1/24"), (&lan.b, &vb, "10.77.0.2/24")] {
            ip(&["-n", ns, "addr", "add", addr, "dev", dev]);
            ip(&["-n", ns, "link", "set", dev, "up"]);
            ip(&["-n", ns, "link", "set", "lo", "up"]);
        }
        lan
    }
}

impl Drop for Lan {
    fn drop(&mut self) {
        for ns in [&self.a, &self.b] {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

/// `mpos ARGS` inside namespace `ns`.
fn mpos_in(ns: &str, session: &Path) -> Command {
    let mut c = Command::new("ip");
    c.args(["netns", "exec", ns, env!("CARGO_BIN_EXE_mpos")])
        .env("MPOS_SESSION", session);
    c
}

fn ok_in(ns: &str, session: &Path, args: &[&str]) -> String {
    let out = mpos_in(ns, session).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "mpos {args:?} in {ns}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A node serving in `ns` at `ip`, answering sync and discovering its peers.
struct Node {
    child: Child,
    api: String,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(ns: &str, session: &Path, data: &Path, ip: &str) -> Node {
    let (api, sync) = (format!("{ip}:7070"), format!("{ip}:7071"));
    let mut child = mpos_in(ns, session)
        .args([
            "serve",
            "--data",
            s(data),
            "--listen",
            &api,
            "--sync",
            &sync,
            "--discover",
        ])
        .stdout(Stdio::piped())
        .stderr(
            std::env::var_os("MPOS_TEST_NODE_LOGS").map_or_else(Stdio::null, |_| Stdio::inherit()),
        )
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert!(line.starts_with("listening on"), "{line:?}");
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    Node { child, api }
}

/// The organization's nodes as the owner sees them on `node`: name -> entries held.
fn nodes(ns: &str, session: &Path, node: &Node) -> Vec<(String, u64)> {
    ok_in(
        ns,
        session,
        &[
            "login", "--target", &node.api, "--staff", "Ana", "--pin", "4821",
        ],
    );
    let out = ok_in(
        ns,
        session,
        &["node", "list", "--target", &node.api, "--json"],
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let mut list: Vec<(String, u64)> = v["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["name"].as_str().unwrap().to_string(),
                n["entries"].as_u64().unwrap(),
            )
        })
        .collect();
    list.sort();
    list
}

fn until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{what} did not happen"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn registers_of_one_organization_find_each_other_on_the_lan() {
    let lan = Lan::new();
    let tmp = tempfile::tempdir().unwrap();
    let (a_dir, b_dir) = (tmp.path().join("a"), tmp.path().join("b"));
    let (session_a, session_b) = (tmp.path().join("a.json"), tmp.path().join("b.json"));
    crate::serve::set_up_cafe(&a_dir);
    let a = serve(&lan.a, &session_a, &a_dir, "10.77.0.1");
    ok_in(
        &lan.a,
        &session_a,
        &[
            "login", "--target", &a.api, "--staff", "Ana", "--pin", "4821",
        ],
    );
    let invited = ok_in(
        &lan.a,
        &session_a,
        &[
            "pair",
            "new",
            "--name",
            "Register 2",
            "--target",
            &a.api,
            "--json",
        ],
    );
    let code: serde_json::Value = serde_json::from_str(&invited).unwrap();
    ok_in(
        &lan.b,
        &session_b,
        &[
            "pair",
            "join",
            "--data",
            s(&b_dir),
            "--peer",
            "10.77.0.1:7071",
            "--code",
            code["code"].as_str().unwrap(),
        ],
    );
    // Neither is told where the other is.
    let b = serve(&lan.b, &session_b, &b_dir, "10.77.0.2");
    // B finds A and takes the organization (its staff and PINs: the owner logs in there);
    // A finds B and takes B's ledger (its introduction).
    until("B taking A's ledger", || {
        let out = mpos_in(&lan.b, &session_b)
            .args([
                "login", "--target", &b.api, "--staff", "Ana", "--pin", "4821",
            ])
            .output()
            .unwrap();
        out.status.success()
    });
    until("A taking B's ledger", || {
        nodes(&lan.a, &session_a, &a)
            .iter()
            .any(|(name, entries)| name == "Register 2" && *entries > 0)
    });
    let on_b = nodes(&lan.b, &session_b, &b);
    assert!(on_b.iter().all(|(_, entries)| *entries > 0), "{on_b:?}");
    assert_eq!(on_b.len(), 2, "{on_b:?}");

    // A node of another organization on the same LAN is heard of, and left alone.
    let other_dir = tmp.path().join("other");
    crate::serve::set_up_cafe(&other_dir);
    drop(b);
    let other = serve(&lan.b, &session_b, &other_dir, "10.77.0.2");
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(nodes(&lan.b, &session_b, &other).len(), 1);
    assert!(nodes(&lan.a, &session_a, &a).len() == 2);
}
