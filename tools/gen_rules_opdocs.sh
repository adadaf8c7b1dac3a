#!/usr/bin/env bash
# tools/gen_rules_opdocs.sh [--update] - the rule VM's instruction table as
# markdown, generated from src/rules/ops.def (the table the compiler and the
# VM are built from).  With --update it rewrites the block between the
# "ops.def:begin" and "ops.def:end" markers of docs/internals/rules.md.
set -euo pipefail
cd "$(dirname "$0")/.."
table() {
    echo "| opcode | pops | pushes | operands | function | arguments | does |"
    echo "| --- | --- | --- | --- | --- | --- | --- |"
    sed -n 's/^RULE_OP( *\([A-Z0-9_]*\), *\([0-9]*\), *\([0-9]*\), *\([A-Z_]*\), *\([^,]*\), *\([A-Z0-9_]*\), *"\(.*\)")$/\1|\2|\3|\4|\5|\6|\7/p' \
        src/rules/ops.def |
    while IFS='|' read -r name pop push imm fn form doc; do
        fn=${fn//\"/}
        [ "$fn" = NULL ] && fn="" || fn="\`$fn\`"
        echo "| \`$name\` | $pop | $push | ${imm#I_} | $fn | ${form#F_} | $doc |"
    done
}
if [ "${1:-}" = "--update" ]; then
    f=docs/internals/rules.md
    python3 - "$f" "$(table)" <<'PY'
import re, sys
path, table = sys.argv[1], sys.argv[2]
text = open(path).read()
text = re.sub(r"(<!-- ops.def:begin -->\n).*?(<!-- ops.def:end -->)",
              lambda m: m.group(1) + table + "\n" + m.group(2), text, flags=re.S)
open(path, "w").write(text)
PY
else
    table
fi
