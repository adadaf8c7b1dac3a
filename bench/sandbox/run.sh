#!/usr/bin/env bash
# bench/sandbox/run.sh [N] [K] - what a WebAssembly service costs nanod:
# time per message through examples/filter.wat against the bus alone (N
# messages, default 200,000), how long a module that loops forever holds
# the loop thread with the default budgets, and heap and RSS per loaded
# module (K modules, default 100).  See tests/tools/bench_sandbox.c.
set -eu
cd "$(dirname "$0")/../.."
N=${1:-200000}
K=${2:-100}
OUT=bench/out/sandbox
tools/deps.sh build >/dev/null
command -v wat2wasm >/dev/null || { echo "needs wat2wasm (Debian package wabt)" >&2; exit 1; }
mkdir -p "$OUT"
make -s -j"${JOBS:-2}" PROFILE=full all build/full/tests/tools/bench_sandbox
build/full/nanoctl sandbox build --wasm examples/filter.wat -o "$OUT/filter.wasm" >/dev/null
build/full/tests/tools/bench_sandbox -m "$OUT/filter.wasm" -n "$N" -k "$K"
