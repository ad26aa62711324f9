//! `mpos ledger ...` as a user runs it: export, verify, prove, receipts, crashes.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use mpos_ledger::{Hlc, Receipt};
use mpos_node::ledger::Event;
use mpos_node::{DataDir, Ledger};

use crate::support::{filled, json, mpos, ok, run, s};

#[test]
fn export_then_verify_reports_an_intact_ledger() {
    let tmp = tempfile::tempdir().unwrap();
    let data = filled(tmp.path(), "node", 2_500, 1_000);
    let file = tmp.path().join("ledger.mposledger");
    let exported = json(&[
        "ledger",
        "export",
        "--data",
        s(&data),
        "--out",
        s(&file),
        "--json",
    ]);
    assert_eq!(exported["entries"], 2_500);
    assert_eq!(exported["checkpoints"], 3);

    let text = ok(&["ledger", "verify", s(&file)]);
    assert!(
        text.starts_with("intact: 1 node(s), 2500 entries, 3 checkpoints"),
        "{text}"
    );

    let head = json(&["ledger", "head", "--data", s(&data), "--json"]);
    let v = json(&[
        "ledger",
        "verify",
        s(&file),
        "--json",
        "--node-key",
        head["public_key"].as_str().unwrap(),
    ]);
    assert_eq!(v["status"], "intact");
    assert_eq!(v["nodes"][0]["node"], head["node"]);
    assert_eq!(v["nodes"][0]["head"], head["head"]);
    assert_eq!(v["nodes"][0]["entries"], 2_500);
}

#[test]
fn a_tampered_export_exits_1_naming_the_entry() {
    let tmp = tempfile::tempdir().unwrap();
    let data = filled(tmp.path(), "node", 300, 100);
    let file = tmp.path().join("ledger.mposledger");
    ok(&["ledger", "export", "--data", s(&data), "--out", s(&file)]);
    let head = json(&["ledger", "head", "--data", s(&data), "--json"]);

    // Entry records are 5 + 74 + 120 bytes after a 12-byte header and one key record.
    let mut bytes = std::fs::read(&file).unwrap();
    let entry_42 = 12 + (5 + 48) + 41 * (5 + 74 + 120);
    bytes[entry_42 + 5 + 74 + 60] ^= 0x01; // a payload byte of seq 42
    std::fs::write(&file, &bytes).unwrap();

    let (code, out, _) = run(&["ledger", "verify", s(&file)]);
    assert_eq!(code, 1, "{out}");
    let node = head["node"].as_str().unwrap();
    assert!(
        out.contains(&format!("node {node}, seq 42: entry altered")),
        "{out}"
    );

    let (code, out, _) = run(&["ledger", "verify", s(&file), "--json"]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (v["status"].as_str(), v["seq"].as_u64()),
        (Some("tampered"), Some(42))
    );
}

#[test]
fn garbage_empty_missing_and_truncated_files_exit_2_with_a_message() {
    let tmp = tempfile::tempdir().unwrap();
    let data = filled(tmp.path(), "node", 50, 10);
    let file = tmp.path().join("ledger.mposledger");
    ok(&["ledger", "export", "--data", s(&data), "--out", s(&file)]);
    let bytes = std::fs::read(&file).unwrap();

    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty", vec![], "the file is empty"),
        (
            "garbage",
            b"\x89PNG\r\n\x1a\n not a ledger at all".to_vec(),
            "not an M_POS ledger export",
        ),
        ("truncated", bytes[..bytes.len() / 2].to_vec(), "truncated"),
        (
            "no-end",
            bytes[..bytes.len() - 29].to_vec(),
            "end record is missing",
        ),
    ];
    for (name, content, message) in cases {
        let path = tmp.path().join(name);
        std::fs::write(&path, content).unwrap();
        let (code, out, err) = run(&["ledger", "verify", s(&path)]);
        assert_eq!(code, 2, "{name}: {out} {err}");
        assert!(err.contains(message), "{name}: {err}");
        assert!(!err.contains("panicked"), "{name}: {err}");
    }
    let (code, _, err) = run(&["ledger", "verify", s(&tmp.path().join("missing"))]);
    assert_eq!(code, 2);
    assert!(err.contains("No such file"), "{err}");
}

/// Appends `n` more events to a data directory through the node library.
fn append(data: &std::path::Path, n: usize, millis: u64) {
    let dir = DataDir::open(data).unwrap();
    let store = dir.store().unwrap();
    let mut ledger = Ledger::open(store, dir.into_identity()).unwrap();
    let events: Vec<Event> = (0..n)
        .map(|i| Event {
            schema: 1,
            payload: format!("later event {i}").into_bytes(),
        })
        .collect();
    ledger.append_batch(&events, millis).unwrap();
}

#[test]
fn an_export_cut_short_fails_against_a_checkpoint_kept_earlier() {
    let tmp = tempfile::tempdir().unwrap();
    let data = filled(tmp.path(), "node", 200, 100);
    // Keep a copy of the directory as it was, as an owner hiding later sales would.
    let old = tmp.path().join("old");
    std::fs::create_dir(&old).unwrap();
    for f in std::fs::read_dir(&data).unwrap() {
        let f = f.unwrap();
        std::fs::copy(f.path(), old.join(f.file_name())).unwrap();
    }
    append(&data, 50, 4_000_000_000_000);
    // The auditor kept the checkpoint at 250 entries (say, from last month's visit).
    let kept = json(&["ledger", "head", "--data", s(&data), "--json"]);
    let checkpoint = kept["checkpoint"].as_str().unwrap();

    let short = tmp.path().join("short.mposledger");
    ok(&["ledger", "export", "--data", s(&old), "--out", s(&short)]);
    ok(&["ledger", "verify", s(&short)]);
    let (code, out, _) = run(&["ledger", "verify", s(&short), "--checkpoint", checkpoint]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(
            "history truncated: the file has 200 entries, a trusted checkpoint covers 250"
        ),
        "{out}"
    );

    let full = tmp.path().join("full.mposledger");
    ok(&["ledger", "export", "--data", s(&data), "--out", s(&full)]);
    let out = ok(&["ledger", "verify", s(&full), "--checkpoint", checkpoint]);
    assert!(out.contains("extends 1 trusted checkpoint"), "{out}");

    // A key that is not the node's: the node's history is missing from the file.
    let other = filled(tmp.path(), "other", 5, 5);
    let other_key = json(&["ledger", "head", "--data", s(&other), "--json"])["public_key"].clone();
    let (code, out, _) = run(&[
        "ledger",
        "verify",
        s(&full),
        "--node-key",
        other_key.as_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert!(out.contains("trusted node key is absent"), "{out}");
}

#[test]
fn inclusion_and_consistency_proofs_check_out_and_forgeries_do_not() {
    let tmp = tempfile::tempdir().unwrap();
    let data = filled(tmp.path(), "node", 1_000, 250);
    let pubkey = json(&["ledger", "head", "--data", s(&data), "--json"])["public_key"]
        .as_str()
        .unwrap()
        .to_string();
    let proof = tmp.path().join("proof.json");
    let mut p = json(&[
        "ledger",
        "prove",
        "--data",
        s(&data),
        "--seq",
        "777",
        "--json",
    ]);
    assert_eq!(
        (p["seq"].as_u64(), p["tree_size"].as_u64()),
        (Some(777), Some(1_000))
    );
    std::fs::write(&proof, p.to_string()).unwrap();
    let out = ok(&["ledger", "check-proof", s(&proof), "--pubkey", &pubkey]);
    assert!(out.starts_with("valid: entry 777"), "{out}");

    // Against an earlier checkpoint.
    let early = json(&[
        "ledger",
        "prove",
        "--data",
        s(&data),
        "--seq",
        "3",
        "--size",
        "250",
        "--json",
    ]);
    std::fs::write(&proof, early.to_string()).unwrap();
    ok(&["ledger", "check-proof", s(&proof), "--pubkey", &pubkey]);

    // Someone swaps in another entry's bytes: the proof no longer holds.
    let other = json(&[
        "ledger",
        "prove",
        "--data",
        s(&data),
        "--seq",
        "778",
        "--json",
    ]);
    p["entry"] = other["entry"].clone();
    std::fs::write(&proof, p.to_string()).unwrap();
    let (code, out, _) = run(&["ledger", "check-proof", s(&proof), "--pubkey", &pubkey]);
    assert_eq!(code, 1, "{out}");
    assert!(out.starts_with("INVALID"), "{out}");

    let c = json(&[
        "ledger",
        "prove",
        "--data",
        s(&data),
        "--from-size",
        "500",
        "--json",
    ]);
    std::fs::write(&proof, c.to_string()).unwrap();
    let out = ok(&["ledger", "check-proof", s(&proof), "--pubkey", &pubkey]);
    assert!(out.contains("extends the one at 500 entries"), "{out}");

    for (args, message) in [
        (vec!["--seq", "1001"], "not in 1..=1000"),
        (vec!["--seq", "0"], "not in 1..=1000"),
        (
            vec!["--seq", "1", "--size", "999"],
            "no checkpoint covers exactly 999",
        ),
        (
            vec!["--from-size", "300"],
            "no checkpoint covers exactly 300",
        ),
    ] {
        let mut all = vec!["ledger", "prove", "--data", s(&data)];
        all.extend(args);
        let (code, _, err) = run(&all);
        assert_eq!(code, 2, "{all:?}");
        assert!(err.contains(message), "{all:?}: {err}");
    }
}

#[test]
fn a_receipt_code_checks_offline_with_the_node_key() {
    let tmp = tempfile::tempdir().unwrap();
    let data = filled(tmp.path(), "node", 10, 10);
    let dir = DataDir::open(&data).unwrap();
    let pubkey = dir.key().public().to_string();
    let code = Receipt::new(
        dir.key().node_id(),
        10,
        Hlc::new(1_764_000_000_000, 0),
        4_550,
        "EUR",
        &mpos_ledger::Hash([3; 32]),
    )
    .unwrap()
    .sign(dir.key());

    let out = ok(&["ledger", "check-receipt", &code, "--pubkey", &pubkey]);
    assert!(
        out.contains("genuine receipt") && out.contains("45.50 EUR"),
        "{out}"
    );
    // Copied off the paper as printed: in lines of the receipt's width.
    let printed: Vec<String> = code
        .chars()
        .collect::<Vec<_>>()
        .chunks(32)
        .map(|c| c.iter().collect())
        .collect();
    let out = ok(&[
        "ledger",
        "check-receipt",
        &printed.join("\n"),
        "--pubkey",
        &pubkey,
    ]);
    assert!(out.contains("genuine receipt"), "{out}");
    let v = json(&[
        "ledger",
        "check-receipt",
        &code,
        "--pubkey",
        &pubkey,
        "--json",
    ]);
    assert_eq!(
        (v["total_minor"].as_i64(), v["seq"].as_u64()),
        (Some(4_550), Some(10))
    );

    let other = filled(tmp.path(), "other", 1, 1);
    let other_key = DataDir::open(&other).unwrap().key().public().to_string();
    let (code_exit, out, _) = run(&["ledger", "check-receipt", &code, "--pubkey", &other_key]);
    assert_eq!(code_exit, 1);
    assert!(out.contains("INVALID"), "{out}");

    // One character changed in the code.
    let mut altered: Vec<char> = code.chars().collect();
    let i = altered.len() - 20;
    altered[i] = if altered[i] == 'A' { 'B' } else { 'A' };
    let altered: String = altered.into_iter().collect();
    let (exit, out, err) = run(&["ledger", "check-receipt", &altered, "--pubkey", &pubkey]);
    assert_ne!(exit, 0, "{out} {err}");

    let (exit, _, err) = run(&["ledger", "check-receipt", "hello", "--pubkey", &pubkey]);
    assert_eq!(exit, 2);
    assert!(err.contains("not a receipt code"), "{err}");
    let (exit, _, err) = run(&["ledger", "check-receipt", &code, "--pubkey", "12ab"]);
    assert_eq!(exit, 2);
    assert!(err.contains("public key"), "{err}");
}

#[test]
fn kill_9_while_appending_loses_no_acknowledged_batch_and_the_ledger_verifies() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("node");
    let mut child = mpos()
        .args([
            "bench",
            "ledger",
            "--data",
            s(&data),
            "--entries",
            "5000000",
            "--batch",
            "1000",
        ])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // Progress lines are printed only after a batch is durable: wait for two, then kill.
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut acknowledged = 0u64;
    for _ in 0..2 {
        let line = lines.next().unwrap().unwrap();
        acknowledged = line.trim().trim_end_matches(" entries...").parse().unwrap();
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    let file = tmp.path().join("after-crash.mposledger");
    let v = json(&[
        "ledger",
        "export",
        "--data",
        s(&data),
        "--out",
        s(&file),
        "--json",
    ]);
    let entries = v["entries"].as_u64().unwrap();
    assert!(
        entries >= acknowledged,
        "{entries} < {acknowledged} acknowledged"
    );
    assert_eq!(entries % 1_000, 0, "a half-written batch: {entries}");
    let verified = json(&["ledger", "verify", s(&file), "--json"]);
    assert_eq!(verified["entries"].as_u64(), Some(entries));
    // And the node resumes appending after the crash.
    append(&data, 3, 4_000_000_000_000);
    ok(&["ledger", "export", "--data", s(&data), "--out", s(&file)]);
    ok(&["ledger", "verify", s(&file)]);
}
