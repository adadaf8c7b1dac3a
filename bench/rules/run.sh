#!/usr/bin/env bash
# bench/rules/run.sh [--update] - rule engine speed, allocations and
# reading-to-action latency (see tests/tools/bench_rules.c for what each row
# measures).
#
# Builds tests/tools/bench_rules in the full profile (-O2) and prints a
# markdown section: evaluations per second and allocations per
# evaluation for the seed's rule and a windowed rule (pure engine, one core),
# then latency percentiles from a published reading to the action callback
# with a real loop, bus and engine.  With --update it replaces the
# "## rules" section of bench/RESULTS.md (other sections are left alone).
#
# Environment: SECS (seconds per throughput row, default 2), ROUNDS
# (latency samples per row, default 200000).
set -euo pipefail
cd "$(dirname "$0")/../.."
SECS=${SECS:-2}
ROUNDS=${ROUNDS:-200000}
UPDATE=0
[ "${1:-}" = "--update" ] && UPDATE=1

tools/deps.sh build >/dev/null
make -s -j"${JOBS:-2}" PROFILE=full build/full/tests/tools/bench_rules
TABLES=$(build/full/tests/tools/bench_rules "$SECS" "$ROUNDS")
CPU=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || echo "?")
SECTION="## rules

The rule engine (src/rules/), produced by \`bench/rules/run.sh\` on $(uname -m),
$(nproc) CPUs ($CPU), $(date -u +%Y-%m-%d).  Throughput rows run the pure engine on
one core with simulated time; the latency rows run the daemon's engine.c on a
real loop and bus (publish a reading, time until the action's callback).

$TABLES

- *eval*: \`nano_rule_eval()\`, the compiled rule alone (5 instructions or fewer).
- *reading + step*: one reading through \`nano_rule_set_input()\` and the state
  machine (\`nano_rule_step()\`), values crossing the threshold every 8
  readings so the service fires and clears (actions go to a no-op sink).
- *JSON message*: a topic service (\`sensors/+/temperature\`) scanning
  \`{\"value\": .., \"ts\": ..}\` without allocating and, on every other message,
  formatting \`publish(\"alerts/{1}\", {\"value\": value, \"ts\": ts})\`.
- *latency*: publish on the bus, one deferred-work hop, evaluation, action
  callback; the last row has a sim device sampling every 2 ms while the loop
  sleeps in epoll between samples, timed from the reading's own timestamp.
- allocations/op counts \`nano_malloc\`/\`calloc\`/\`realloc\` over the whole row."
echo "$SECTION"

if [ "$UPDATE" = 1 ]; then
    F=bench/RESULTS.md
    [ -f "$F" ] || printf '# Benchmark results\n\nEvery number here is produced by a script under bench/; each section names its script.\n' > "$F"
    python3 - "$F" "$SECTION" <<'PY'
import re, sys
path, section = sys.argv[1], sys.argv[2].rstrip() + "\n"
text = open(path).read()
pat = re.compile(r"^## rules\n.*?(?=^## |\Z)", re.S | re.M)
if pat.search(text):
    text = pat.sub(lambda m: section + "\n", text, count=1)
else:
    text = text.rstrip() + "\n\n" + section
open(path, "w").write(text.rstrip() + "\n")
PY
    echo "updated $F"
fi
