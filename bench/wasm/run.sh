#!/usr/bin/env bash
# bench/wasm/run.sh [RUNS] - the WebAssembly engine benchmark.
#
# Six C programs (recursive fib, a sieve, CRC-32 over 1 MiB, a float matrix
# multiply, quicksort, a sensor filter), each exporting run(iters) and
# returning a checksum, are built three ways from the same source:
#   native      gcc -O2 with native_main.c (times run() itself)
#   nano-wasm   clang-14 --target=wasm32 -O2, run by build/full/nano-wasm
#               (profile full, -O2), timed by its --stats
#   wasm-interp the same .wasm in wabt's interpreter, timed from outside
# The checksums of the three must agree, or the script fails.
#
# Time per iteration is (T(2k) - T(k)) / k, so process start-up, module
# loading and each program's one-off set-up cancel out.  native and
# nano-wasm use k = ITERS (the median of RUNS pairs); wasm-interp, ~25x
# slower, uses k = ITERS / WABT_DIV and one pair.  The whole run takes
# about a minute.
#
# Prints a markdown table: ms per iteration, ratio to native, geometric
# means; the peak RSS (VmHWM) of nano-wasm and wasm-interp; and the time
# nano-wasm takes to load (decode + validate + compile) and instantiate
# each module, plus a large one (~80 KB, 543 functions) that binaryen
# generates from seeded random bytes (median of RUNS loads).
set -eu
cd "$(dirname "$0")/../.."
RUNS=${1:-5}
WABT_DIV=${WABT_DIV:-20}
OUT=bench/out/wasm
NANO=build/full/nano-wasm
CLANG=${CLANG:-clang-14}
mkdir -p "$OUT"

# name iterations
BENCHES="fib:400 sieve:30 crc32:40 matmul:300 sort:30 filter:300"

make -s -j2 PROFILE=full all >/dev/null
$CLANG --target=wasm32 -O2 -fno-builtin -c bench/wasm/wlibc.c -o "$OUT/wlibc.o"
for spec in $BENCHES; do
    b=${spec%%:*}
    gcc -O2 -Ibench/wasm -o "$OUT/$b.native" bench/wasm/native_main.c "bench/wasm/$b.c"
    $CLANG --target=wasm32 -O2 -nostdlib -Ibench/wasm -Wl,--no-entry -Wl,--export=run \
        -o "$OUT/$b.wasm" "bench/wasm/$b.c" "$OUT/wlibc.o"
done

# getstat FIELD FILE: a number from a "stats:" line
getstat() { sed -nE "s/.*$1 ([0-9.]+).*/\1/p" "$2" | tail -n 1; }
now_ms() { echo $(( $(date +%s%N) / 1000 )) | awk '{ printf "%.3f", $1 / 1000 }'; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# per_iter CMD... : run with ITERS and 2*ITERS (appended), print ms/iter
per_iter_internal() {
    local k=$1; shift
    local a b
    "$@" "$k" > "$OUT/r1" 2> "$OUT/s1"
    "$@" "$((2 * k))" > "$OUT/r2" 2> "$OUT/s2"
    a=$(getstat call "$OUT/s1"); b=$(getstat call "$OUT/s2")
    awk -v a="$a" -v b="$b" -v k="$k" 'BEGIN { printf "%.4f\n", (b - a) / k }'
}

printf '| benchmark | native ms/iter | nano-wasm ms/iter | x native | wasm-interp ms/iter | x native | nano-wasm VmHWM | wasm-interp VmHWM |\n'
printf '|---|---:|---:|---:|---:|---:|---:|---:|\n'
geo_nano=0; geo_wabt=0; n=0
LOADS=""
for spec in $BENCHES; do
    b=${spec%%:*}; iters=${spec##*:}
    nat=(); nan=()
    for _ in $(seq 1 "$RUNS"); do
        nat+=("$(per_iter_internal "$iters" "$OUT/$b.native")")
        nan+=("$(per_iter_internal "$iters" "$NANO" run "$OUT/$b.wasm" --stats --invoke run)")
        want=$(cat "$OUT/r1")
    done
    tn=$(printf '%s\n' "${nat[@]}" | median)
    tw=$(printf '%s\n' "${nan[@]}" | median)
    # checksums: native vs nano-wasm (same iteration count)
    "$OUT/$b.native" "$iters" > "$OUT/cn" 2>/dev/null
    if ! cmp -s "$OUT/cn" "$OUT/r1"; then
        echo "checksum mismatch for $b: native $(cat "$OUT/cn"), nano-wasm $want" >&2
        exit 1
    fi
    hwm=$(getstat VmHWM "$OUT/s2")
    LOADS="$LOADS $b:$(getstat load "$OUT/s2"):$(getstat instantiate "$OUT/s2"):$(wc -c < "$OUT/$b.wasm")"
    # wasm-interp at 1/WABT_DIV of the work
    kw=$(( iters / WABT_DIV )); [ "$kw" -ge 1 ] || kw=1
    for m in 1 2; do
        $CLANG --target=wasm32 -O2 -nostdlib -Ibench/wasm -DITERS=$((m * kw)) \
            -Wl,--no-entry -Wl,--export=bench -o "$OUT/$b.wabt$m.wasm" \
            bench/wasm/wabt_entry.c "bench/wasm/$b.c" "$OUT/wlibc.o"
    done
    t0=$(now_ms)
    wasm-interp "$OUT/$b.wabt1.wasm" --run-all-exports > "$OUT/w1" 2>&1 || true
    t1=$(now_ms)
    /usr/bin/time -f "%M" -o "$OUT/wm" \
        wasm-interp "$OUT/$b.wabt2.wasm" --run-all-exports > "$OUT/w2" 2>&1 || true
    t2=$(now_ms)
    wabt_hwm=$(cat "$OUT/wm" 2>/dev/null || echo 0)
    "$OUT/$b.native" "$kw" > "$OUT/cw" 2>/dev/null
    want_u=$(sed 's/i32://' "$OUT/cw")         # wabt prints i32 unsigned
    [ "$want_u" -lt 0 ] && want_u=$((want_u + 4294967296))
    if ! grep -q "bench() => i32:$want_u\$" "$OUT/w1"; then
        echo "checksum mismatch for $b in wasm-interp: $(cat "$OUT/w1")" >&2
        exit 1
    fi
    tb=$(awk -v a="$t0" -v b="$t1" -v c="$t2" -v k="$kw" \
        'BEGIN { printf "%.4f\n", ((c - b) - (b - a)) / k }')
    rn=$(awk -v x="$tw" -v y="$tn" 'BEGIN { printf "%.1f", x / y }')
    rb=$(awk -v x="$tb" -v y="$tn" 'BEGIN { printf "%.0f", x / y }')
    geo_nano=$(awk -v g="$geo_nano" -v x="$tw" -v y="$tn" 'BEGIN { print g + log(x / y) }')
    geo_wabt=$(awk -v g="$geo_wabt" -v x="$tb" -v y="$tn" 'BEGIN { print g + log(x / y) }')
    n=$((n + 1))
    printf '| %s | %.3f | %.3f | %sx | %.2f | %sx | %s kB | %s kB |\n' \
        "$b" "$tn" "$tw" "$rn" "$tb" "$rb" "$hwm" "$wabt_hwm"
done
printf '| **geomean** | | | **%.1fx** | | **%.0fx** | | |\n' \
    "$(awk -v g="$geo_nano" -v n="$n" 'BEGIN { print exp(g / n) }')" \
    "$(awk -v g="$geo_wabt" -v n="$n" 'BEGIN { print exp(g / n) }')"
echo
printf '| module | size | load (decode+validate+compile) | instantiate |\n'
printf '|---|---:|---:|---:|\n'
for e in $LOADS; do
    IFS=: read -r b l i sz <<<"$e"
    printf '| %s.wasm | %s B | %s ms | %s ms |\n' "$b" "$sz" "$l" "$i"
done
if command -v wasm-opt >/dev/null 2>&1 && command -v python3 >/dev/null 2>&1; then
    python3 -c "import random,sys; random.seed(1); sys.stdout.buffer.write(bytes(random.getrandbits(8) for _ in range(400000)))" > "$OUT/big.bin"
    wasm-opt -ttf "$OUT/big.bin" -o "$OUT/big.wasm" --disable-simd --disable-threads \
        --disable-exception-handling --disable-tail-call --disable-gc --disable-memory64 \
        --disable-typed-function-references --disable-relaxed-simd \
        --disable-extended-const --disable-reference-types 2>/dev/null
    l=(); i=()
    for _ in $(seq 1 "$RUNS"); do
        "$NANO" run "$OUT/big.wasm" --stats 2> "$OUT/sb" >/dev/null
        l+=("$(getstat load "$OUT/sb")"); i+=("$(getstat instantiate "$OUT/sb")")
    done
    nf=$(wasm-objdump -h "$OUT/big.wasm" 2>/dev/null | sed -nE 's/.*Function .*count: ([0-9]+).*/\1/p')
    printf '| big.wasm (%s functions, generated) | %s B | %s ms | %s ms |\n' "${nf:-?}" \
        "$(wc -c < "$OUT/big.wasm")" "$(printf '%s\n' "${l[@]}" | median)" \
        "$(printf '%s\n' "${i[@]}" | median)"
fi
