#!/usr/bin/env bash
# Runs the benchmarks on the release build (make bench builds it first) and writes
# docs/BENCHMARKS.md. The load generator is wrk (Debian), installed when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 scripts/bench.py "$@"
