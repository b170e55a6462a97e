#!/usr/bin/env bash
# Builds census-rust.wasm (needs: rustup target add wasm32-wasip2).
set -euo pipefail
cd "$(dirname "$0")"
"${PTPLUGIN:-ptplugin}" sdk wit wit --contract 0.1
cargo build --release --target wasm32-wasip2
cp "${CARGO_TARGET_DIR:-target}/wasm32-wasip2/release/census_rust.wasm" census-rust.wasm
echo "built $(pwd)/census-rust.wasm"
