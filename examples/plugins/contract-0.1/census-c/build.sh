#!/usr/bin/env bash
# Builds census-c.wasm (needs Debian's clang-19 lld-19 wasi-libc libclang-rt-19-dev-wasm32).
set -euo pipefail
cd "$(dirname "$0")"
PTPLUGIN="${PTPLUGIN:-ptplugin}"
"$PTPLUGIN" sdk wit wit --contract 0.1
"$PTPLUGIN" sdk c-bindings gen --contract 0.1
mkdir -p build
"${CC:-clang-19}" --target=wasm32-wasi -mexec-model=reactor -O2 -Wall -Igen \
  src/plugin.c gen/analyzer.c gen/analyzer_component_type.o -o build/core.wasm
"$PTPLUGIN" sdk componentize build/core.wasm -o census-c.wasm
echo "built $(pwd)/census-c.wasm"
