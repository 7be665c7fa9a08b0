#!/usr/bin/env bash
# Builds the site (hydrate wasm + JS glue + CSS + public files into target/site) and the
# server binary, without cargo-leptos (whose install alone takes 15–20 minutes here).
#   scripts/build.sh          dev build   → target/debug/tsudoi
#   scripts/build.sh release  release     → target/release/tsudoi (wasm optimised by wasm-opt)
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-dev}"
say() { printf '\033[1;32m[build]\033[0m %s\n' "$*"; }

# leptos_config bakes the output name in at compile time; both halves must agree.
export LEPTOS_OUTPUT_NAME=tsudoi
site=target/site
pkg="$site/pkg"

if [ "$mode" = release ]; then
  wasm_profile=(--profile wasm-release); wasm_dir=wasm-release; bin_profile=(--release)
else
  wasm_profile=(); wasm_dir=debug; bin_profile=()
fi

say "wasm ($mode)"
cargo build --lib --target wasm32-unknown-unknown --no-default-features --features hydrate "${wasm_profile[@]}"

say "wasm-bindgen"
rm -rf "$pkg" && mkdir -p "$pkg"
wasm-bindgen --target web --no-typescript --out-name tsudoi --out-dir "$pkg" \
  "target/wasm32-unknown-unknown/$wasm_dir/tsudoi.wasm"
mv "$pkg/tsudoi_bg.wasm" "$pkg/tsudoi.wasm"
if [ "$mode" = release ]; then
  say "wasm-opt -Oz"
  .tools/node_modules/.bin/wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
    "$pkg/tsudoi.wasm" -o "$pkg/tsudoi.opt.wasm"
  mv "$pkg/tsudoi.opt.wasm" "$pkg/tsudoi.wasm"
fi

say "assets"
cp -r public/. "$site/"
cp style/main.css "$pkg/tsudoi.css"

say "server ($mode)"
cargo build --bin tsudoi --no-default-features --features ssr "${bin_profile[@]}"
say "done: target/$([ "$mode" = release ] && echo release || echo debug)/tsudoi, site in $site"
