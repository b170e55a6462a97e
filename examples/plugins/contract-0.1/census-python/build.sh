#!/usr/bin/env bash
# Builds census-python.wasm with componentize-py (pip install componentize-py).
set -euo pipefail
cd "$(dirname "$0")"
"${PTPLUGIN:-ptplugin}" sdk wit wit --contract 0.1
py="${COMPONENTIZE_PY:-componentize-py}"
command -v "$py" >/dev/null || { echo "$py not found: pip install componentize-py" >&2; exit 1; }
"$py" -d wit -w analyzer componentize app -o census-python.wasm
echo "built $(pwd)/census-python.wasm"
