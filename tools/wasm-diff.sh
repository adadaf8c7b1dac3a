#!/usr/bin/env bash
# tools/wasm-diff.sh - differential testing of nano-wasm against wabt's
# wasm-interp on random valid modules.
#
#   tools/wasm-diff.sh [-n COUNT] [-s SEED] [-b BYTES] [--nano PATH] [--keep DIR]
#
# For each of COUNT cases: make BYTES random bytes (seeded, so a run can be
# repeated), turn them into a valid module with binaryen's
# `wasm-opt -ttf` restricted to features both engines implement (1.0 plus
# sign-extension, non-trapping float-to-int, multi-value, bulk memory; no
# SIMD, threads, GC, tail calls, exceptions...).  Reference types stay off:
# binaryen 108 generates the pre-standard form (funcref a subtype of
# externref/anyref) that neither engine accepts.  Then
# run every exported function that takes no arguments in both engines:
#     nano-wasm run M.wasm --run-all-exports
#     wasm-interp M.wasm --run-all-exports --dummy-import-func
# Both print one line per call (results, or the trap) and one line per call
# of an imported function (with its arguments), so the outputs must be
# identical once trap wordings are mapped to the spec's.  Mismatching
# modules and both outputs are kept in DIR (default bench/out/wasm-diff).
# Ends with "wasm-diff: N modules, N agree, N differ, N not generated" and
# exits 1 if any differ.
#
# Needs: wasm-opt (binaryen), wasm-interp (wabt), python3 (seeded bytes),
# and a built nano-wasm (default build/full/nano-wasm; `make` builds it).
set -u
cd "$(dirname "$0")/.."

COUNT=100
SEED=1
BYTES=4000
NANO=build/full/nano-wasm
KEEP=bench/out/wasm-diff
while [ $# -gt 0 ]; do
    case "$1" in
        -n) COUNT=$2; shift 2 ;;
        -s) SEED=$2; shift 2 ;;
        -b) BYTES=$2; shift 2 ;;
        --nano) NANO=$2; shift 2 ;;
        --keep) KEEP=$2; shift 2 ;;
        -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done

for tool in wasm-opt wasm-interp python3; do
    command -v "$tool" >/dev/null 2>&1 || { echo "wasm-diff: $tool not found" >&2; exit 2; }
done
[ -x "$NANO" ] || { echo "wasm-diff: $NANO not built (run make)" >&2; exit 2; }

FEATURES="--disable-simd --disable-threads --disable-exception-handling
          --disable-tail-call --disable-gc --disable-memory64
          --disable-typed-function-references --disable-relaxed-simd
          --disable-extended-const --disable-gc-nn-locals
          --enable-sign-ext --enable-nontrapping-float-to-int
          --enable-bulk-memory --disable-reference-types --enable-multivalue
          --enable-mutable-globals"

# Map wabt's trap wording to the spec's (which nano-wasm prints), and drop
# the sign of NaNs: the spec leaves it nondeterministic (f32.demote_f64 of
# a negative NaN is -nan on x86 hardware and nan in wabt).
normalize() {
    sed -E \
        -e 's/-nan/nan/g' \
        -e 's/error: unreachable executed/error: unreachable/' \
        -e 's/error: out of bounds memory access.*/error: out of bounds memory access/' \
        -e 's/error: (memory access out of bounds|access out of bounds).*/error: out of bounds memory access/' \
        -e 's/error: undefined table index.*/error: undefined element/' \
        -e 's/error: uninitialized table element.*/error: uninitialized element/' \
        -e 's/error: indirect call signature mismatch.*/error: indirect call type mismatch/' \
        -e 's/error: out of bounds table access.*/error: out of bounds table access/' \
        -e 's/(externref|funcref):[0-9]+/\1:ref/g'
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$KEEP"
agree=0; differ=0; nogen=0

for i in $(seq 1 "$COUNT"); do
    s=$((SEED + i - 1))
    python3 -c "import random,sys; random.seed($s); sys.stdout.buffer.write(bytes(random.getrandbits(8) for _ in range($BYTES)))" > "$work/in.bin"
    # shellcheck disable=SC2086
    if ! wasm-opt -ttf "$work/in.bin" -o "$work/m.wasm" $FEATURES > "$work/gen.log" 2>&1; then
        nogen=$((nogen + 1))
        continue
    fi
    timeout 20 "$NANO" run "$work/m.wasm" --run-all-exports > "$work/nano.out" 2>&1
    timeout 20 wasm-interp "$work/m.wasm" --run-all-exports --dummy-import-func 2>&1 \
        | normalize > "$work/wabt.out"
    normalize < "$work/nano.out" > "$work/nano.norm"
    if cmp -s "$work/nano.norm" "$work/wabt.out"; then
        agree=$((agree + 1))
    else
        differ=$((differ + 1))
        cp "$work/m.wasm" "$KEEP/seed$s.wasm"
        cp "$work/nano.norm" "$KEEP/seed$s.nano"
        cp "$work/wabt.out" "$KEEP/seed$s.wabt"
        echo "  DIFF  seed $s ($KEEP/seed$s.wasm)"
        diff "$KEEP/seed$s.wabt" "$KEEP/seed$s.nano" | head -n 6 | sed 's/^/        /'
    fi
done
echo "wasm-diff: $COUNT modules, $agree agree, $differ differ, $nogen not generated"
[ "$differ" -eq 0 ]
