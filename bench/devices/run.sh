#!/usr/bin/env bash
# bench/devices/run.sh [N] [INTERVAL_MS] [SECONDS] - the device manager at
# scale: N instances (default 1,000) sampled every INTERVAL_MS (default 100)
# for SECONDS (default 10) on one loop thread, first with the sim driver,
# then with the real bme280 driver on emulated chips (two I2C transfers and
# a conversion timer per sample).  Each run prints the sustained sample rate
# against the scheduled one, CPU, allocations per sample, and heap and RSS
# per instance (see tests/tools/bench_devices.c for how they are measured).
# Exit status is non-zero if a run sustained less than 98 % of its schedule.
set -eu
cd "$(dirname "$0")/../.."
N=${1:-1000}
IV=${2:-100}
SECS=${3:-10}
tools/deps.sh build >/dev/null
make -s -j"${JOBS:-2}" PROFILE=full build/full/tests/tools/bench_devices
status=0
for drv in sim bme280; do
    build/full/tests/tools/bench_devices -n "$N" -i "$IV" -d "$SECS" --driver "$drv" || status=1
    echo
done
exit $status
