#!/usr/bin/env bash
# bench/cfg/run.sh [PROFILE] - config parser throughput (see cfg_bench.c).
#
# Builds libnano for the profile (default full), links cfg_bench.c against
# it (and cJSON when its headers are installed, for reference) and prints
# one line per input: size, values, documents/s, MB/s, allocations per
# parse and heap bytes per value.  Each figure is one second of parsing.
set -eu
cd "$(dirname "$0")/../.."
PROFILE=${1:-full}
tools/deps.sh build >/dev/null
make -s -j"$(nproc)" PROFILE="$PROFILE" "build/$PROFILE/libnano.a"
mkdir -p build/bench
extra=()
if [ -f /usr/include/cjson/cJSON.h ]; then
    extra=(-DWITH_CJSON -lcjson)
fi
cc -O2 -D_GNU_SOURCE -Isrc -o build/bench/cfg_bench bench/cfg/cfg_bench.c \
    "build/$PROFILE/libnano.a" -lyaml -lm "${extra[@]}"
exec build/bench/cfg_bench
