#!/usr/bin/env bash
# Builds census-python.wasm with componentize-py (pip install componentize-py).
set -euo pipefail
cd "$(dirname "$0")"
"${PTPLUGIN:-ptplugin}" sdk wit wit
"${COMPONENTIZE_PY:-componentize-py}" -d wit -w analyzer componentize app -o census-python.wasm
echo "built $(pwd)/census-python.wasm"
