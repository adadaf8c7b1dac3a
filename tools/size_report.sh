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
printf '%-8s %-10s %10s %8s %8s\n' profile module text data bss
for prof in full tiny; do
    for dir in build/$prof/src/*/; do
        mod=$(basename "$dir")
        objs=$(find "$dir" -name '*.o' | sort)
        [ -n "$objs" ] || continue
        # LTO objects hold IR, not code: report the linked size for tiny instead.
        size $objs 2>/dev/null | awk -v p="$prof" -v m="$mod" \
            'NR>1 {t+=$1; d+=$2; b+=$3} END {printf "%-8s %-10s %10d %8d %8d\n", p, m, t, d, b}'
    done
done
