#!/usr/bin/env bash
# bench/http/run.sh [--update] - throughput, latency and memory of Nano's own
# HTTP server (src/api/) on one trivial route over TCP.
#
# Builds tests/tools/http_bench_server in the full profile (-O2), starts it on
# 127.0.0.1 with an ephemeral port, and measures:
#   - requests/s and latency percentiles with wrk (one thread, keep-alive),
#     for each connection count in CONNS;
#   - VmRSS / VmHWM of the server idle, after the load, and holding IDLE
#     idle keep-alive connections (giving the bytes per idle connection as
#     the kernel sees them, allocator overhead included).
# Prints a markdown section; with --update it replaces the "## http" section
# of bench/RESULTS.md with it (other sections are left alone).
#
# Environment: DUR (seconds per wrk run, default 10), CONNS (default "1 50"),
# IDLE (idle connections to hold, default 1000).  Needs wrk and python3.
set -euo pipefail
cd "$(dirname "$0")/../.."
DUR=${DUR:-10}
CONNS=${CONNS:-"1 50"}
IDLE=${IDLE:-1000}
UPDATE=0
[ "${1:-}" = "--update" ] && UPDATE=1
command -v wrk >/dev/null || { echo "bench/http: wrk not found" >&2; exit 1; }

make -s PROFILE=full build/full/tests/tools/http_bench_server
BIN=build/full/tests/tools/http_bench_server
OUT=$(mktemp)
"$BIN" 0 > "$OUT" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true; rm -f "$OUT"' EXIT
for _ in $(seq 50); do grep -q '^port' "$OUT" && break; sleep 0.1; done
PORT=$(awk '/^port/ {print $2}' "$OUT")
URL="http://127.0.0.1:$PORT/v1/ping"

kb() { awk -v k="$1" '$1 == k":" {print $2}' "/proc/$PID/status"; }
RSS_IDLE=$(kb VmRSS)

ROWS=""
for c in $CONNS; do
    R=$(wrk -t1 -c"$c" -d"${DUR}s" --latency "$URL")
    RPS=$(awk '/^Requests\/sec/ {printf "%.0f", $2}' <<<"$R")
    P50=$(awk '$1 == "50%" {print $2}' <<<"$R")
    P99=$(awk '$1 == "99%" {print $2}' <<<"$R")
    ROWS+="| $c | $RPS | $P50 | $P99 |"$'\n'
done
RSS_LOAD=$(kb VmRSS)
HWM_LOAD=$(kb VmHWM)

# Hold IDLE keep-alive connections that each made one request, then measure.
IDLE_KB=$(python3 - "$PORT" "$IDLE" "$PID" <<'PY'
import socket, sys, time
port, n, pid = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
def rss():
    for l in open(f"/proc/{pid}/status"):
        if l.startswith("VmRSS:"):
            return int(l.split()[1])
before = rss()
socks = []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /v1/ping HTTP/1.1\r\nHost: x\r\n\r\n")
    socks.append(s)
for s in socks:
    s.recv(4096)
time.sleep(0.5)
after = rss()
print(before, after)
for s in socks:
    s.close()
PY
)
read -r RB RA <<<"$IDLE_KB"
PER_CONN=$(( (RA - RB) * 1024 / IDLE ))

kill -TERM $PID
wait $PID 2>/dev/null || true
CONN_BYTES=$(awk '/conn_bytes/ {print $6}' "$OUT")

SECTION="## http

Nano's HTTP/1.1 server (src/api/), one loop thread, \`GET /v1/ping\` answering
\`{\"ok\":true}\` on 127.0.0.1; wrk with one thread and keep-alive, ${DUR} s per row.
Produced by \`bench/http/run.sh\` on $(uname -m), $(nproc) CPUs, $(date -u +%Y-%m-%d).

| connections | requests/s | p50 latency | p99 latency |
| --- | --- | --- | --- |
${ROWS}
| memory | value |
| --- | --- |
| server VmRSS idle | ${RSS_IDLE} kB |
| server VmRSS after load / VmHWM | ${RSS_LOAD} kB / ${HWM_LOAD} kB |
| VmRSS with ${IDLE} idle keep-alive connections | ${RA} kB (+$(( RA - RB )) kB) |
| per idle connection, measured (allocator included) | ~${PER_CONN} bytes |
| per idle connection, struct size | ${CONN_BYTES} bytes |
"
echo "$SECTION"

if [ "$UPDATE" = 1 ]; then
    F=bench/RESULTS.md
    [ -f "$F" ] || printf '# Benchmark results\n\nEvery number here is produced by a script under bench/; each section names its script.\n' > "$F"
    python3 - "$F" "$SECTION" <<'PY'
import re, sys
path, section = sys.argv[1], sys.argv[2].rstrip() + "\n"
text = open(path).read()
pat = re.compile(r"^## http\n.*?(?=^## |\Z)", re.S | re.M)
if pat.search(text):
    text = pat.sub(lambda m: section + "\n", text, count=1)
else:
    text = text.rstrip() + "\n\n" + section
open(path, "w").write(text.rstrip() + "\n")
PY
    echo "updated $F"
fi
