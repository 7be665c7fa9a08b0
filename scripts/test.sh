#!/usr/bin/env bash
# Every test, in the order that fails fastest: formatting, lints (server and browser
# targets), Rust unit + store + HTTP tests, then the end-to-end tests in Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\033[1;35m[test]\033[0m %s\n' "$*"; }
started=$(date +%s)

scripts/setup.sh test

say "cargo fmt --check"
cargo fmt --all -- --check

say "clippy (ssr, all targets)"
cargo clippy --features ssr --all-targets -- -D warnings
say "clippy (hydrate, wasm32)"
cargo clippy --lib --target wasm32-unknown-unknown --no-default-features --features hydrate -- -D warnings

say "build the site (dev): the HTTP and browser tests serve it"
scripts/build.sh dev

say "cargo test (unit, store, HTTP)"
if command -v cargo-nextest >/dev/null 2>&1; then
  cargo nextest run --features ssr --no-fail-fast
else
  cargo test --features ssr
fi


say "end-to-end (Playwright + Debian chromium)"
(cd end2end && npx playwright test)

say "all tests passed in $(( $(date +%s) - started )) s"
