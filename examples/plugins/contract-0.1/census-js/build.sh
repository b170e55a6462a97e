#!/usr/bin/env bash
# Builds census-js.wasm with componentize-qjs (npm; QuickJS inside the component).
set -euo pipefail
cd "$(dirname "$0")"
"${PTPLUGIN:-ptplugin}" sdk wit wit --contract 0.1
# $COMPONENTIZE_QJS, else componentize-qjs on PATH, else npx fetches it from npm.
if [[ -n "${COMPONENTIZE_QJS:-}" ]]; then qjs=($COMPONENTIZE_QJS)
elif command -v componentize-qjs >/dev/null; then qjs=(componentize-qjs)
else qjs=(npx --yes componentize-qjs@0.4.5); fi
"${qjs[@]}" --wit wit --js plugin.js -n analyzer --sync -o census-js.wasm
echo "built $(pwd)/census-js.wasm"
