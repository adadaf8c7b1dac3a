"""footprint.py BUILD CONFIG - measure nanod (see run.sh)."""
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

BUILD, CONFIG = sys.argv[1], sys.argv[2]
NANOD = os.path.join(BUILD, "nanod")
MESSAGES = 100_000
BATCH = 1_000


class UnixConn(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=30)
        self.path_ = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(self.path_)


def mem(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM", "RssAnon"):
                out[k] = int(v.split()[0])
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            if line.startswith("Pss:"):
                out["Pss"] = int(line.split()[1])
    return out


def main():
    d = tempfile.mkdtemp(prefix="nano-fp-")
    sock = os.path.join(d, "nano.sock")
    p = subprocess.Popen([NANOD, "--config", CONFIG, "--state-dir", d + "/state",
                          "--socket", sock], stderr=subprocess.DEVNULL)
    conn = None
    for _ in range(500):
        try:
            conn = UnixConn(sock)
            conn.request("GET", "/v1/status")
            conn.getresponse().read()
            break
        except OSError:
            time.sleep(0.01)
    time.sleep(2.0)                     # let the sim devices sample a few times
    conn.request("GET", "/v1/status")
    st0 = json.loads(conn.getresponse().read())
    m0 = mem(p.pid)

    # An SSE reader consumes the stream while we publish.
    got = [0]

    def reader():
        s = socket.socket(socket.AF_UNIX)
        s.connect(sock)
        s.sendall(b"GET /v1/stream?filter=bench/%23 HTTP/1.1\r\nHost: x\r\n\r\n")
        s.settimeout(5)
        try:
            while True:
                b = s.recv(1 << 16)
                if not b:
                    break
                got[0] += b.count(b"\ndata: ")
        except OSError:
            pass
    th = threading.Thread(target=reader, daemon=True)
    th.start()
    time.sleep(0.2)
    t0 = time.monotonic()
    for i in range(MESSAGES // BATCH):
        body = json.dumps([{"topic": "bench/t%d" % (j % 16), "value": i * BATCH + j}
                           for j in range(BATCH)])
        conn.request("POST", "/v1/publish", body=body,
                     headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        r.read()
        assert r.status == 200, r.status
    pub_s = time.monotonic() - t0
    time.sleep(1.0)
    conn.request("GET", "/v1/status")
    st1 = json.loads(conn.getresponse().read())
    m1 = mem(p.pid)
    time.sleep(11.0)                    # one housekeeping trim later
    conn.request("GET", "/v1/status")
    st2 = json.loads(conn.getresponse().read())
    m2 = mem(p.pid)
    p.terminate()
    p.wait()

    ready = subprocess.run(["build/bench/readytime", NANOD, CONFIG, "50"],
                           capture_output=True, text=True).stdout.strip()
    kv = dict(x.split("=") for x in ready.split())

    def kb(v):
        return "%.2f MB" % (v / 1024.0)

    print("nanod footprint (%s, config %s)" % (BUILD, CONFIG))
    print("%-34s %14s %14s %14s" % ("", "after start", "after 100k msg", "+11 s idle"))
    for key, label in (("VmRSS", "VmRSS"), ("VmHWM", "VmHWM"), ("Pss", "PSS"),
                       ("RssAnon", "anonymous (RssAnon)")):
        print("%-34s %14s %14s %14s" % (label, kb(m0[key]), kb(m1[key]), kb(m2[key])))
    print("%-34s %14s %14s %14s" % ("heap in use (mallinfo2)",
                                    "%.1f KB" % (st0["memory"]["heap"] / 1024.0),
                                    "%.1f KB" % (st1["memory"]["heap"] / 1024.0),
                                    "%.1f KB" % (st2["memory"]["heap"] / 1024.0)))
    print("%-34s %14s" % ("messages published / s via API", "%.0f" % (MESSAGES / pub_s)))
    print("%-34s %14s" % ("SSE messages received", got[0]))
    print("%-34s %14s" % ("bus dropped (stream queue)", st1["bus"]["dropped"]))
    print("%-34s %14s" % ("exec -> API ready, median", "%s ms" % kv["median_ms"]))
    print("%-34s %14s" % ("exec -> API ready, p90", "%s ms" % kv["p90_ms"]))
    for b in ("nanod", "nanoctl", "nano-wasm"):
        path = os.path.join(BUILD, b)
        if os.path.exists(path):
            out = path + ".stripped"
            subprocess.run(["strip", "--strip-all", "-o", out, path], check=True)
            print("%-34s %14s" % ("%s stripped" % b, "%d KB" % (os.path.getsize(out) // 1024)))
            os.unlink(out)
    libs = subprocess.run(["ldd", NANOD], capture_output=True, text=True).stdout
    print("%-34s %s" % ("shared libraries", " ".join(sorted(
        l.split()[0] for l in libs.splitlines() if "=>" in l))))


main()
