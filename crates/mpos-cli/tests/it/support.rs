//! Runs the real `mpos` binary.

use std::path::Path;
use std::process::{Command, Output};

pub fn mpos() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mpos"))
}

/// Runs `mpos ARGS` and returns (exit code, stdout, stderr).
pub fn run(args: &[&str]) -> (i32, String, String) {
    let out: Output = mpos().args(args).output().expect("mpos runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub fn ok(args: &[&str]) -> String {
    let (code, out, err) = run(args);
    assert_eq!(code, 0, "mpos {args:?} failed:\n{out}\n{err}");
    out
}

pub fn json(args: &[&str]) -> serde_json::Value {
    let out = ok(args);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

pub fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

/// A data directory whose ledger holds `entries` synthetic events in batches of `batch`.
pub fn filled(dir: &Path, name: &str, entries: u64, batch: u64) -> std::path::PathBuf {
    let data = dir.join(name);
    ok(&[
        "bench",
        "ledger",
        "--data",
        s(&data),
        "--entries",
        &entries.to_string(),
        "--batch",
        &batch.to_string(),
        "--payload-bytes",
        "120",
        "--json",
    ]);
    data
}
