#!/usr/bin/env bash
# Installs whatever is missing for building, running and testing Tsudoi. Idempotent:
# every step checks first, so a warm machine passes through in a second.
#   scripts/setup.sh build     wasm32 target + wasm-bindgen CLI (dev builds)
#   scripts/setup.sh release   + wasm-opt (npm binaryen; never Debian's, it breaks the wasm)
#   scripts/setup.sh test      + Chromium (Debian) and Playwright (npm) for end-to-end tests
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-build}"
say() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# The CLI must equal the wasm-bindgen crate in Cargo.lock (schema check).
want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$want" ]; then
  say "installing wasm-bindgen-cli $want (about 3 minutes, once)"
  # No --locked: its lock file names a webpki-roots version the registry lacks.
  cargo install wasm-bindgen-cli --version "$want"
fi

if [ "$what" = release ] || [ "$what" = test ] || [ "$what" = bench ]; then
  if [ ! -x .tools/node_modules/.bin/wasm-opt ]; then
    say "installing wasm-opt (npm binaryen@132) into .tools/"
    mkdir -p .tools
    npm install --silent --no-audit --no-fund --prefix .tools binaryen@132 >/dev/null
  fi
fi

if [ "$what" = test ]; then
  if [ ! -x /usr/bin/chromium ]; then
    say "installing Debian's chromium (about 1 minute, once)"
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
  fi
  # Japanese glyphs for screenshots (without them every kanji is a box).
  if ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then
    say "installing Debian's fonts-noto-cjk"
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq fonts-noto-cjk >/dev/null \
      || { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq fonts-noto-cjk >/dev/null; }
  fi
  # The deployment test runs Debian's nginx (deploy/nginx) with curl and openssl.
  if ! [ -x /usr/sbin/nginx ] || ! command -v curl >/dev/null 2>&1 || ! command -v openssl >/dev/null 2>&1; then
    say "installing Debian's nginx, curl and openssl for the deployment test"
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nginx curl openssl >/dev/null \
      || { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nginx curl openssl >/dev/null; }
  fi
  if [ ! -d end2end/node_modules/@playwright/test ]; then
    say "installing Playwright (npm) in end2end/"
    (cd end2end && npm ci --silent --no-audit --no-fund)
  fi
fi

if [ "$what" = bench ] && ! command -v wrk >/dev/null 2>&1; then
  say "installing wrk (Debian) for the benchmarks"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq wrk >/dev/null \
    || { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq wrk >/dev/null; }
fi
