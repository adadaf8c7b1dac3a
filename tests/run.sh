#!/usr/bin/env bash
# tests/run.sh - the whole test suite.  Builds the debug profile (ASan+UBSan),
# then runs, in order: C unit tests (one process per test), integration tests
# against a real nanod, the WebAssembly spec suite (when ../shared/wasm-spec is
# present), the release profiles' builds, and a short fuzz smoke run.
#
# Every suite ends with a line "<name>: N passed, N failed"; this script adds
# them up and ends with the grand total on its own last line:
#     N passed, N failed
# Exit status 0 only when nothing failed.
#
# Environment: JOBS (make -j, default nproc), FUZZ_SECONDS (default 3 per
# target, 0 skips), NANO_TEST_ONLY (a regex of suite names to run).
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
FUZZ_SECONDS=${FUZZ_SECONDS:-3}
ONLY=${NANO_TEST_ONLY:-}
BUILD=build/debug
LOG=$BUILD/test-logs
PASS=0
FAIL=0
FAILED_SUITES=()

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export NANO_BUILD=$ROOT/$BUILD

want() { [ -z "$ONLY" ] || [[ "$1" =~ $ONLY ]]; }

# run_suite NAME CMD... : run CMD, echo its output, add its summary line.
run_suite() {
    local name=$1; shift
    want "$name" || return 0
    local out="$LOG/$name.log"
    mkdir -p "$(dirname "$out")"
    "$@" > "$out" 2>&1
    local rc=$?
    local summary
    summary=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
    if [ -z "$summary" ]; then
        cat "$out"
        echo "$name: 0 passed, 1 failed (no summary; exit $rc)"
        FAIL=$((FAIL + 1)); FAILED_SUITES+=("$name")
        return
    fi
    local p f
    [[ "$summary" =~ (^|[^0-9])([0-9]+)\ passed,\ ([0-9]+)\ failed ]]
    p=${BASH_REMATCH[2]}
    f=${BASH_REMATCH[3]}
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1    # a suite that exits non-zero without saying why still failed
    fi
    if [ "$f" -ne 0 ]; then
        cat "$out"
        FAILED_SUITES+=("$name")
    else
        grep -E '^(  (ok|FAIL|skip)|skip:|SKIP)' "$out" | grep -vE '^  ok' | head -n 20
    fi
    printf '%-40s %5d passed, %d failed\n' "$name" "$p" "$f"
    PASS=$((PASS + p)); FAIL=$((FAIL + f))
}

# run_check NAME CMD... : a single pass/fail step (a build, a script).
run_check() {
    local name=$1; shift
    want "$name" || return 0
    local out="$LOG/$name.log"
    mkdir -p "$(dirname "$out")"
    if "$@" > "$out" 2>&1; then
        printf '%-40s %5d passed, %d failed\n' "$name" 1 0
        PASS=$((PASS + 1))
    else
        tail -n 40 "$out"
        printf '%-40s %5d passed, %d failed\n' "$name" 0 1
        FAIL=$((FAIL + 1)); FAILED_SUITES+=("$name")
    fi
}

mkdir -p "$LOG"
echo "== build (profile debug: ASan + UBSan)"
if ! make -s -j"$JOBS" PROFILE=debug tests > "$LOG/build.log" 2>&1; then
    tail -n 60 "$LOG/build.log"
    echo "build failed"
    echo "0 passed, 1 failed"
    exit 1
fi

echo "== unit tests"
for bin in $(find "$BUILD/tests/unit" -type f -name 'test_*' -perm -u+x | sort); do
    rel=${bin#$BUILD/tests/unit/}
    run_suite "unit/$rel" "$bin"
done

echo "== integration tests"
if [ -d tests/integration ] && ls tests/integration/[0-9]*.py >/dev/null 2>&1; then
    for t in tests/integration/[0-9]*.py; do
        run_suite "integration/$(basename "$t" .py)" python3 "$t"
    done
fi

echo "== WebAssembly spec suite"
if [ -x "$BUILD/tests/tools/wasm_spec" ]; then
    if [ -d ../shared/wasm-spec ]; then
        run_suite "wasm-spec" "$BUILD/tests/tools/wasm_spec" --suite ../shared/wasm-spec
    else
        echo "skip: ../shared/wasm-spec not found beside the project; spec suite not run"
    fi
fi

echo "== release profiles build"
for prof in full tiny; do
    run_check "build/$prof" make -s -j"$JOBS" PROFILE=$prof all
done
# The daemon maps libc and libyaml, plus libmodbus where the modbus driver
# is built; a stray libm or another library fails here.
run_check "libs/full" tools/check_libs.sh build/full libmodbus.so
run_check "libs/tiny" tools/check_libs.sh build/tiny

echo "== fuzz smoke (${FUZZ_SECONDS}s per target)"
if [ "$FUZZ_SECONDS" != 0 ] && command -v clang >/dev/null 2>&1 && ls tests/fuzz/fuzz_*.c >/dev/null 2>&1; then
    if make -s -j"$JOBS" PROFILE=fuzz fuzz-bins > "$LOG/fuzz-build.log" 2>&1; then
        run_suite "fuzz" bash tests/fuzz/run.sh build/fuzz "$FUZZ_SECONDS"
    else
        tail -n 40 "$LOG/fuzz-build.log"
        printf '%-40s %5d passed, %d failed\n' "fuzz (build)" 0 1
        FAIL=$((FAIL + 1)); FAILED_SUITES+=("fuzz-build")
    fi
fi

if [ ${#FAILED_SUITES[@]} -ne 0 ]; then
    echo "failed: ${FAILED_SUITES[*]}"
fi
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
