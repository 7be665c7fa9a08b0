#!/usr/bin/env bash
# Runs the Rust tests and the browser tests with the server's clock started on other days
# (TSUDOI_NOW), to show that no test depends on the date it runs: by default a month
# start, a weekend and the turn of a year in Tokyo (the clock crosses midnight of
# 2027-01-01 JST five minutes into that run). Needs a dev build (`make build`).
#   scripts/test-dates.sh [DATE …]    DATE: RFC 3339, or YYYY-MM-DD (noon in Tokyo)
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\033[1;35m[dates]\033[0m %s\n' "$*"; }
dates=("$@")
[ ${#dates[@]} -gt 0 ] || dates=(2027-03-01T09:00:00+09:00 2027-02-13 2026-12-31T23:55:00+09:00)
for d in "${dates[@]}"; do
  say "TSUDOI_NOW=$d: Rust tests"
  if command -v cargo-nextest >/dev/null 2>&1; then
    TSUDOI_NOW="$d" cargo nextest run --features ssr --no-fail-fast
  else
    TSUDOI_NOW="$d" cargo test --features ssr
  fi
  say "TSUDOI_NOW=$d: browser tests"
  (cd end2end && TSUDOI_NOW="$d" npx playwright test)
done
say "all dates passed: ${dates[*]}"
