#!/usr/bin/env bash
# Development loop without cargo-leptos: build (dev), serve with demo data, and rebuild +
# restart whenever something under src/, style/, locales/, public/ or migrations/ changes.
# (With cargo-leptos installed, `cargo leptos watch` works too: Cargo.toml has its metadata.)
set -uo pipefail
cd "$(dirname "$0")/.."
export DATABASE_URL="${DATABASE_URL:-sqlite://tsudoi-dev.db}" TSUDOI_DEMO="${TSUDOI_DEMO:-1}"
pid=""
stop() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; pid=""; }
trap 'stop; exit 0' INT TERM
latest() { find src style locales public migrations Cargo.toml -type f -printf '%T@\n' | sort -n | tail -1; }
seen=""
while true; do
  now=$(latest)
  if [ "$now" != "$seen" ]; then
    seen="$now"
    stop
    if scripts/build.sh dev; then
      target/debug/tsudoi & pid=$!
    else
      echo "[dev] build failed; waiting for the next change"
    fi
  fi
  sleep 1
done
