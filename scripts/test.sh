#!/usr/bin/env bash
# Runs every check and test of M_POS. This is the README's test command; .ci/run calls it.
# It installs or starts whatever the tests need, so it works on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

# A run from a fresh clone builds everything once: incremental compilation's caches would
# only double what target/ holds on disk. Set CARGO_INCREMENTAL=1 to keep them while editing.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

step "toolchain"
cargo --version
if ! cargo nextest --version >/dev/null 2>&1; then
    step "installing cargo-nextest"
    cargo install cargo-nextest --locked
fi

step "web app packages"
# The web app (web/) is built by crates/mpos-web's build script; its npm packages come
# from package-lock.json.
if [ ! -f web/node_modules/.package-lock.json ] || [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; then
    (cd web && npm ci --no-audit --no-fund)
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

step "web app unit tests"
(cd web && npm test --silent)

step "PostgreSQL for the store tests"
# A server of the tests' own (temporary folder, free loopback port), stopped on exit.
source scripts/postgres.sh

step "tests"
cargo nextest run --workspace --locked --no-fail-fast

step "web app in a real browser"
if [ ! -x /usr/bin/chromium ]; then
    step "installing Chromium (Debian)"
    as_root=""
    [ "$(id -u)" -ne 0 ] && as_root="sudo"
    $as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq chromium
fi
# The same feature set as the tests' build (dev-dependencies unified in): the `mpos`
# binary the integration tests used is reused, not rebuilt.
cargo build --workspace --all-targets --locked
(cd web && MPOS_BIN="$PWD/../target/debug/mpos" npm run e2e --silent)
echo "screenshots: target/e2e/"
