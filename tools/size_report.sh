#!/usr/bin/env bash
# tools/size_report.sh - stripped binary sizes per profile, and the code each
# module contributes (text+data+bss of its objects, from `size`), so a change
# that bloats the router build shows up here.  Builds what is missing.
set -eu
cd "$(dirname "$0")/.."
JOBS=$(nproc 2>/dev/null || echo 2)
printf '%-8s %-12s %10s\n' profile binary "stripped B"
for prof in full tiny; do
    make -s -j"$JOBS" PROFILE=$prof all >/dev/null
    for bin in build/$prof/nanod build/$prof/nanoctl build/$prof/nano-wasm; do
        [ -x "$bin" ] || continue
        tmp=$(mktemp)
        strip --strip-all -o "$tmp" "$bin"
        printf '%-8s %-12s %10d\n' "$prof" "$(basename "$bin")" "$(stat -c %s "$tmp")"
        rm -f "$tmp"
    done
done
echo
# LTO objects hold compiler IR, not code, so the tiny per-module figures come
# from the same flags without -flto (the linked binary above is the truth).
make -s -j"$JOBS" PROFILE=tiny BUILD=build/tiny-size \
     OPT_CFLAGS="-Os -g0 -ffunction-sections -fdata-sections" \
     build/tiny-size/libnano.a >/dev/null
printf '%-8s %-10s %10s %8s %8s\n' profile module text data bss
for prof in full tiny; do
    objdir=build/$prof
    [ "$prof" = tiny ] && objdir=build/tiny-size
    for dir in $objdir/src/*/; do
        mod=$(basename "$dir")
        objs=$(find "$dir" -name '*.o' | sort)
        [ -n "$objs" ] || continue
        size $objs 2>/dev/null | awk -v p="$prof" -v m="$mod" \
            'NR>1 {t+=$1; d+=$2; b+=$3} END {printf "%-8s %-10s %10d %8d %8d\n", p, m, t, d, b}'
    done
done
