#!/usr/bin/env bash
# tests/fuzz/run.sh BUILD SECONDS - run every built fuzz target for SECONDS on
# its corpus (tests/fuzz/corpus/<target>/, created if absent; new inputs go to
# a scratch copy so the committed corpus stays small).  A crash, leak or
# sanitizer report fails that target and leaves the input in
# tests/fuzz/crashes/.  Ends with "fuzz: N passed, N failed".
set -u
BUILD=${1:-build/fuzz}
SECS=${2:-20}
pass=0; fail=0
mkdir -p tests/fuzz/crashes
for bin in "$BUILD"/tests/fuzz/fuzz_*; do
    [ -x "$bin" ] || continue
    case "$bin" in *.o|*.d) continue ;; esac
    name=$(basename "$bin")
    seed=tests/fuzz/corpus/$name
    work=$(mktemp -d)
    [ -d "$seed" ] && cp -r "$seed"/. "$work"/ 2>/dev/null
    dict=()
    [ -f "tests/fuzz/dict/$name.dict" ] && dict=(-dict="tests/fuzz/dict/$name.dict")
    if "$bin" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=1024 \
            -artifact_prefix=tests/fuzz/crashes/"$name"- "${dict[@]}" \
            "$work" > "$work.log" 2>&1; then
        execs=$(grep -oE 'stat::number_of_executed_units: [0-9]+' "$work.log" | grep -oE '[0-9]+$')
        [ -z "$execs" ] && execs=$(grep -oE '#[0-9]+' "$work.log" | tail -n1 | tr -d '#')
        echo "  ok    $name (${execs:-?} runs in ${SECS}s)"
        pass=$((pass + 1))
    else
        echo "  FAIL  $name"
        tail -n 30 "$work.log"
        fail=$((fail + 1))
    fi
    rm -rf "$work" "$work.log"
done
echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
