#!/usr/bin/env bash
# tools/deps.sh build|test|bench - install the Debian 12 packages a task needs,
# only those missing, with apt-get (as root, or through sudo).
set -eu
BUILD_PKGS="gcc make pkg-config libc6-dev libyaml-dev libmodbus-dev"
TEST_PKGS="$BUILD_PKGS python3 clang lld libclang-rt-14-dev libcjson-dev wabt binaryen wasi-libc curl mosquitto mosquitto-clients libcoap3-bin"
BENCH_PKGS="$TEST_PKGS hyperfine wrk valgrind"

case "${1:-build}" in
    build) pkgs=$BUILD_PKGS ;;
    test)  pkgs=$TEST_PKGS ;;
    bench) pkgs=$BENCH_PKGS ;;
    *) echo "usage: $0 build|test|bench" >&2; exit 2 ;;
esac

missing=()
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}"
SUDO=
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || {
        echo "need root or sudo to install: ${missing[*]}" >&2; exit 1; }
    SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
