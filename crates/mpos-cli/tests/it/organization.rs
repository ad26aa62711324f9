//! An owner's three restaurants, each with its own register, and a cloud node on
//! PostgreSQL that founded the organization (use case 3, end to end, real processes): the
//! restaurants are paired with codes, sell at the same time while cut off (taking the same
//! stock item, each from its own location), come back one by one along a chain of peers,
//! and every node ends with the same state; the owner reads every location's stock on the
//! cloud node; a register killed with `kill -9` while it catches up loses nothing.

use std::path::Path;

use mpos_node::DataDir;
use mpos_node::store::StoreLocation;
use mpos_proto::v1::{self, change_stock_request::Change as Stock};

use crate::serve::{authed, client, id, login, sell_ticket, set_up_cafe_in};
use crate::shared::new_database;
use crate::support::{ok, s};
use crate::sync::{
    Member, Ports, eventually, heads, invite, invite_as, join, serve_synced, serve_synced_on, stop,
};

async fn change_stock(addr: &str, rid: u128, change: Stock) {
    let mut c = client(addr).await;
    let token = login(&mut c, 1, "4821").await;
    c.change_stock(authed(
        &token,
        v1::ChangeStockRequest {
            request_id: id(rid),
            change: Some(change),
        },
    ))
    .await
    .unwrap();
}

/// Flour at each location as the owner reads it on `addr`: location name -> grams.
async fn flour(addr: &str) -> Vec<(String, i64)> {
    let mut c = client(addr).await;
    let token = login(&mut c, 1, "4821").await;
    let view = c
        .get_stock(authed(&token, v1::GetStockRequest::default()))
        .await
        .unwrap()
        .into_inner();
    let mut out: Vec<(String, i64)> = view
        .levels
        .iter()
        .filter(|l| view.items[l.item as usize].name == "Flour")
        .map(|l| (view.locations[l.location as usize].name.clone(), l.milli))
        .collect();
    out.sort();
    out
}

/// The state digest of the node in `data` (stopped), on `store`.
fn digest(data: &Path, store: &str) -> String {
    let out = crate::support::mpos()
        .args(["ledger", "digest", "--data", s(data)])
        .env("MPOS_STORE", store)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_restaurants_sell_apart_and_every_node_and_the_cloud_agree_on_every_location() {
    let tmp = tempfile::tempdir().unwrap();
    let session = tmp.path().join("session.json");
    let cloud_dir = tmp.path().join("cloud");
    let database = {
        let dir = cloud_dir.clone();
        tokio::task::spawn_blocking(move || {
            let database = new_database();
            set_up_cafe_in(&dir, &StoreLocation::Postgres(database.clone()));
            database
        })
        .await
        .unwrap()
    };
    let names = ["Old Town", "Harbour", "Airport"];
    let dirs: Vec<_> = names
        .iter()
        .map(|n| tmp.path().join(n.to_lowercase().replace(' ', "-")))
        .collect();
    let pc = Ports::new();
    let ports: Vec<Ports> = names.iter().map(|_| Ports::new()).collect();
    let cloud = serve_synced_on(&cloud_dir, &database, pc, &[]);

    // The owner pairs a register for each restaurant.
    for (name, dir) in names.iter().zip(&dirs) {
        let code = invite(&cloud.addr, &session, name);
        join(dir, &pc.sync_addr(), &code);
    }
    // The head office sets up the locations, flour and the croissant's recipe (60 g), and
    // each location receives 10 kg.
    let (flour_id, locations): (Vec<u8>, Vec<Vec<u8>>) =
        (id(900), (0..3).map(|n| id(910 + n)).collect());
    let mut setup = Vec::new();
    for (name, at) in names.iter().zip(&locations) {
        setup.push(Stock::Location(v1::Location {
            id: at.clone(),
            name: (*name).into(),
            active: true,
        }));
    }
    setup.push(Stock::StockItem(v1::StockItem {
        id: flour_id.clone(),
        name: "Flour".into(),
        unit: v1::StockUnit::Kilogram.into(),
        active: true,
    }));
    setup.push(Stock::Recipe(v1::RecipeRequest {
        target: Some(v1::RecipeTarget {
            kind: Some(v1::recipe_target::Kind::Item(id(2))),
        }),
        ingredients: vec![v1::IngredientRequest {
            stock: flour_id.clone(),
            quantity: "60 g".into(),
        }],
    }));
    for at in &locations {
        setup.push(Stock::Receive(v1::ReceiveStockRequest {
            location: at.clone(),
            item: flour_id.clone(),
            quantity: "10 kg".into(),
            cost: 1_200,
            ..Default::default()
        }));
    }
    for (n, change) in setup.into_iter().enumerate() {
        change_stock(&cloud.addr, 1_000 + n as u128, change).await;
    }

    // Each register takes the organization from the cloud, then says where it sells.
    let mut registers = Vec::new();
    for (dir, p) in dirs.iter().zip(&ports) {
        registers.push(serve_synced(dir, *p, &[pc.sync_addr()]));
    }
    for (n, (register, at)) in registers.iter().zip(&locations).enumerate() {
        eventually(
            "the register taking the organization's staff and PINs",
            || async { crate::sync::logs_in(&register.addr, 1, "4821").await },
        )
        .await;
        eventually("the register taking the recipe", || async {
            flour(&register.addr).await.len() == 3
        })
        .await;
        let sells = Stock::SalesStock(v1::SalesStock {
            location: at.clone(),
            depletion: v1::StockDepletion::OnClose.into(),
        });
        change_stock(&register.addr, 2_000 + n as u128, sells).await;
    }

    // Cut off, all at once: each restaurant sells on its own (2 croissants a ticket).
    drop(registers);
    drop(cloud);
    let registers: Vec<_> = dirs
        .iter()
        .zip(&ports)
        .map(|(d, p)| serve_synced(d, *p, &[]))
        .collect();
    let sold = [3u128, 2, 4];
    for (n, (register, count)) in registers.iter().zip(sold).enumerate() {
        let mut c = client(&register.addr).await;
        let token = login(&mut c, 2, "1357").await;
        for k in 0..count {
            sell_ticket(&mut c, &token, 100 * (n as u128 + 1) + k).await;
        }
    }
    for (register, (name, count)) in registers.iter().zip(names.iter().zip(sold)) {
        let here = flour(&register.addr).await;
        let mine = here.iter().find(|(l, _)| l == name).unwrap();
        assert_eq!(mine.1, 10_000_000 - count as i64 * 120_000, "{here:?}");
    }
    drop(registers);

    // Back one by one along a chain, each pulling from its neighbours: the airport and
    // the harbour first, then the old town, then the cloud. The harbour's register is
    // killed with kill -9 while it catches up, and started again.
    let peers = |n: usize| -> Vec<String> {
        match n {
            0 => vec![pc.sync_addr(), ports[1].sync_addr()],
            1 => vec![ports[0].sync_addr(), ports[2].sync_addr()],
            _ => vec![ports[1].sync_addr()],
        }
    };
    let airport = serve_synced(&dirs[2], ports[2], &peers(2));
    let mut harbour = serve_synced(&dirs[1], ports[1], &peers(1));
    harbour.child.kill().unwrap();
    harbour.child.wait().unwrap();
    let harbour = serve_synced(&dirs[1], ports[1], &peers(1));
    let old_town = serve_synced(&dirs[0], ports[0], &peers(0));
    let cloud = serve_synced_on(&cloud_dir, &database, pc, &[ports[0].sync_addr()]);
    let nodes = [&cloud, &old_town, &harbour, &airport];
    eventually("every node holding every ledger whole", || async {
        let first = heads(&cloud.addr).await;
        if first.len() != 4 {
            return false;
        }
        for node in &nodes[1..] {
            if heads(&node.addr).await != first {
                return false;
            }
        }
        true
    })
    .await;

    // The owner, on the cloud node, sees every location's stock: what arrived, less what
    // each restaurant's sales took; every register agrees.
    let expected: Vec<(String, i64)> = {
        let mut e: Vec<(String, i64)> = names
            .iter()
            .zip(sold)
            .map(|(n, count)| (n.to_string(), 10_000_000 - count as i64 * 120_000))
            .collect();
        e.sort();
        e
    };
    for node in &nodes {
        assert_eq!(flour(&node.addr).await, expected);
    }
    assert_eq!(crate::sync::orders(&cloud.addr).await.len(), 9);

    // Stopped, every node's projections are the same state.
    for server in [cloud, old_town, harbour, airport] {
        stop(server);
    }
    let cloud_digest = digest(&cloud_dir, &database);
    for dir in &dirs {
        assert_eq!(digest(dir, "sqlite"), cloud_digest, "{}", dir.display());
    }
}

/// Every node whose ledger the node answering sync at `sync` holds: node id -> entries.
async fn sync_heads(who: &Member, sync: &str) -> std::collections::BTreeMap<Vec<u8>, u64> {
    let mut c = who.client(sync, Some(who.certificate.clone())).await;
    c.heads(v1::HeadsRequest {})
        .await
        .unwrap()
        .into_inner()
        .heads
        .into_iter()
        .map(|h| {
            let key: [u8; 32] = h.public_key.as_slice().try_into().unwrap();
            let key = mpos_ledger::PublicKey::from_bytes(&key).unwrap();
            (key.node_id().0.to_vec(), h.size)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_register_killed_while_it_catches_up_loses_nothing_and_takes_nothing_twice() {
    let tmp = tempfile::tempdir().unwrap();
    let session = tmp.path().join("session.json");
    let (a_dir, b_dir) = (tmp.path().join("bistro"), tmp.path().join("till-2"));
    // The demo restaurant: a week of sales, a few thousand entries.
    let mut demo = crate::support::mpos()
        .args(["demo", "--data", s(&a_dir), "--listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    {
        use std::io::BufRead;
        let out = std::io::BufReader::new(demo.stdout.take().unwrap());
        for line in out.lines() {
            if line.unwrap().starts_with("listening on") {
                break;
            }
        }
    }
    demo.kill().unwrap();
    demo.wait().unwrap();

    let (pa, pb) = (Ports::new(), Ports::new());
    let a = serve_synced(&a_dir, pa, &[]);
    let code = invite_as(&a.addr, &session, "Till 2", "1000");
    join(&b_dir, &pa.sync_addr(), &code);
    let watcher = Member::of(&a_dir, 0x51, "Auditor");
    let on_a = sync_heads(&watcher, &pa.sync_addr()).await;
    let a_id = on_a.keys().next().unwrap().clone();
    let total = on_a[&a_id];
    assert!(total > 5_000, "{total}");

    // B catches up, and is killed as soon as it has taken something.
    let mut b = serve_synced(&b_dir, pb, &[pa.sync_addr()]);
    let mut taken = 0;
    let start = std::time::Instant::now();
    while taken == 0 {
        assert!(start.elapsed() < std::time::Duration::from_secs(60));
        taken = crate::sync::metric(&b.addr, "mpos_replicated_entries_total").await;
    }
    b.child.kill().unwrap();
    b.child.wait().unwrap();
    drop(b);
    eprintln!("killed after taking {taken} of {total} entries");

    // Started again, it resumes from what is on its disk and ends with A's ledger whole.
    let b = serve_synced(&b_dir, pb, &[pa.sync_addr()]);
    eventually("B holding A's ledger whole", || async {
        crate::sync::held(&watcher, &pb.sync_addr(), &a_id).await == total
    })
    .await;
    // A takes B's ledger too (its introduction), so both hold the same ledgers.
    drop(a);
    let a = serve_synced(&a_dir, pa, &[pb.sync_addr()]);
    let b_id = DataDir::open(&b_dir).unwrap().key().node_id().0.to_vec();
    eventually("A holding B's ledger", || async {
        crate::sync::held(&watcher, &pa.sync_addr(), &b_id).await > 0
    })
    .await;
    stop(b);
    stop(a);
    assert_eq!(digest(&b_dir, "sqlite"), digest(&a_dir, "sqlite"));
    let file = tmp.path().join("b.mposledger");
    ok(&["ledger", "export", "--data", s(&b_dir), "--out", s(&file)]);
    let verified = crate::support::json(&["ledger", "verify", s(&file), "--json"]);
    assert_eq!(verified["status"], "intact", "{verified}");
    let a_hex = hex::encode(&a_id);
    let a_in_b = verified["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["node"] == a_hex.as_str())
        .unwrap();
    assert_eq!(a_in_b["entries"], total);
}

#[test]
fn the_sync_benchmark_catches_up_over_tls_and_times_propagation() {
    let tmp = tempfile::tempdir().unwrap();
    let out = crate::support::json(&[
        "bench",
        "sync",
        "--entries",
        "6000",
        "--orders",
        "20",
        "--rate",
        "200",
        "--data",
        s(tmp.path()),
        "--json",
    ]);
    assert!(out["entries"].as_u64().unwrap() >= 6_000, "{out}");
    assert!(out["catch_up_seconds"].as_f64().unwrap() > 0.0, "{out}");
    // An entry's bytes and its share of its batch's checkpoint, on the wire.
    let per_entry = out["sync_bytes_per_entry"].as_f64().unwrap();
    assert!((74.0..2_000.0).contains(&per_entry), "{out}");
    assert!(
        out["propagation_ms"]["p99"].as_f64().unwrap() > 0.0,
        "{out}"
    );
}
