#!/usr/bin/env bash
# Builds census-js.wasm with componentize-qjs (npm; QuickJS inside the component).
set -euo pipefail
cd "$(dirname "$0")"
"${PTPLUGIN:-ptplugin}" sdk wit wit
${COMPONENTIZE_QJS:-npx --yes componentize-qjs@0.4.5} --wit wit --js plugin.js -n analyzer --sync -o census-js.wasm
echo "built $(pwd)/census-js.wasm"
