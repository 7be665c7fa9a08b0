#!/usr/bin/env bash
# Runs the benchmarks on the release build (make bench builds it first) and writes
# docs/BENCHMARKS.md. The load generator is wrk (Debian), installed when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
# The registration and live-stream load generator (examples/bench.rs), release like the server.
cargo build --release --example bench --example bench_search --features ssr
exec python3 scripts/bench.py "$@"
