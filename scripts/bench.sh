#!/usr/bin/env bash
# Runs the benchmarks on the release build (make bench builds it first) and writes
# docs/BENCHMARKS.md. The load generator is wrk (Debian), installed when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v wrk >/dev/null 2>&1; then
  echo "[bench] installing wrk (Debian)"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get install -y -qq wrk >/dev/null || { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq wrk >/dev/null; }
fi
exec python3 scripts/bench.py "$@"
