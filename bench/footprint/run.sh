#!/usr/bin/env bash
# bench/footprint/run.sh [PROFILE] - nanod's footprint on the bundled config.
#
# Builds the profile (default full), then prints one table: VmRSS, VmHWM, PSS
# and anonymous memory after startup and after 100,000 bus messages (published
# through the API in batches of 1,000 while an SSE client reads them), heap in
# use, exec-to-API-ready time (median of 50 runs), and binary sizes.
set -eu
cd "$(dirname "$0")/../.."
PROFILE=${1:-full}
tools/deps.sh build >/dev/null
make -s -j"$(nproc)" PROFILE="$PROFILE" all
mkdir -p build/bench
cc -O2 -o build/bench/readytime bench/tools/readytime.c
exec python3 bench/footprint/footprint.py "build/$PROFILE" config/nano.yaml
