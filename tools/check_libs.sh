#!/usr/bin/env bash
# tools/check_libs.sh BUILD [ALLOWED...] - fail if BUILD/nanod maps a shared
# library outside libc, libyaml and the ones named (every library costs
# resident memory on every device; libm alone is ~0.6 MB: see
# bench/RESULTS.md).  Prints what it found.
set -eu
build=$1; shift
allowed="libc.so libyaml-0.so ld-linux linux-vdso $*"
bad=0
for lib in $(ldd "$build/nanod" | awk '{print $1}'); do
    ok=0
    for a in $allowed; do
        case "$lib" in "$a"*|*/"$a"*) ok=1 ;; esac
    done
    if [ $ok = 1 ]; then echo "ok       $lib"; else echo "unwanted $lib"; bad=1; fi
done
exit $bad
