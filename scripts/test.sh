#!/usr/bin/env bash
# Runs every check and test of M_POS. This is the README's test command; .ci/run calls it.
# It installs or starts whatever the tests need, so it works on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "toolchain"
cargo --version
if ! cargo nextest --version >/dev/null 2>&1; then
    step "installing cargo-nextest"
    cargo install cargo-nextest --locked
fi

step "format"
cargo fmt --all -- --check

step "lint"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "dependency invariants"
# The domain and the ledger are what an auditor's verifier or a phone links: no async
# runtime, no database, no RPC framework may creep in (docs/ARCHITECTURE.md).
for crate in mpos-domain mpos-ledger; do
    if cargo tree -p "$crate" -e normal --prefix none --locked | grep -E '^(tokio|rusqlite|libsqlite3-sys|postgres|tokio-postgres|sqlx|tonic|axum|hyper) ' ; then
        echo "error: $crate depends on a crate it must not (see above)" >&2
        exit 1
    fi
done
if grep -rlE '\b(CREATE TABLE|INSERT INTO|SELECT .* FROM)\b' crates --include='*.rs' | grep -v '^crates/mpos-store-'; then
    echo "error: SQL outside the mpos-store-* crates (see above)" >&2
    exit 1
fi

step "doc tests"
cargo test --workspace --doc --locked

# Last, so its summary closes the output.
step "tests"
cargo nextest run --workspace --locked --no-fail-fast
