"""06_sandbox - WebAssembly services on a running nanod: build the example
filter from WAT and from C with `nanoctl sandbox build`, load it, see
cleaned readings on the bus, reload, unload, restart and find it back,
quarantine visible in `nanoctl sandbox status`, the config file's sandbox:
section with SIGHUP, and the API's errors.

Tests that need wabt's wat2wasm or clang's wasm32 target skip, saying
which, when those are not installed (tools/deps.sh test installs them)."""
import base64
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time

import nanotest
from nanotest import NanoTestCase, nanoctl

EXAMPLES = os.path.join(nanotest.ROOT, "examples")

# A boiler whose temperature is 20 with a 90 spike (two readings) every
# twelfth reading.
CFG = """
devices:
  boiler:
    driver: sim
    interval: 50ms
    quantities:
      temperature: {wave: steps, steps: [20, 20, 20, 90, 20, 20], period: 100ms}
"""


def reference_filter(seq):
    """What examples/filter.wat and filter.c compute, for one topic."""
    win, n, pos, spikes, out = [0.0] * 4, 0, 0, 0, []
    for x in seq:
        m = sum(win[:n]) / n if n else 0.0
        far = n >= 1 and abs(x - m) > 5
        if far and spikes < 3:
            spikes += 1
            out.append(m)
            continue
        if far:
            n, pos = 0, 0
        spikes = 0
        win[pos] = float(x)
        pos = (pos + 1) % 4
        n = min(n + 1, 4)
        out.append(sum(win[:n]) / n)
    return out


def have_wat2wasm():
    return shutil.which("wat2wasm") is not None


def have_clang_wasm():
    clang = shutil.which("clang-14") or shutil.which("clang")
    ld = shutil.which("wasm-ld-14") or shutil.which("wasm-ld") or \
        os.path.exists("/usr/lib/llvm-14/bin/wasm-ld")
    return clang is not None and ld


NEED_WAT = "wat2wasm not found (install the Debian package wabt)"
NEED_CLANG = "clang wasm32 not found (install the Debian packages clang-14 and lld-14)"


class Sandbox(NanoTestCase):
    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp(prefix="nano-sb-")

    def tearDown(self):
        super().tearDown()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # -- helpers --
    def build(self, src, out=None):
        out = out or os.path.join(self.tmp, os.path.basename(src).rsplit(".", 1)[0] + ".wasm")
        r = nanoctl("sandbox", "build", "--wasm", src, "-o", out, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr + r.stdout)
        return out

    def wat(self, name, text):
        if not have_wat2wasm():
            self.skipTest(NEED_WAT)
        src = os.path.join(self.tmp, name + ".wat")
        with open(src, "w") as f:
            f.write(text)
        return self.build(src)

    def filter_wasm(self, lang="wat"):
        if lang == "wat" and not have_wat2wasm():
            self.skipTest(NEED_WAT)
        if lang == "c" and not have_clang_wasm():
            self.skipTest(NEED_CLANG)
        return self.build(os.path.join(EXAMPLES, "filter." + lang),
                          os.path.join(self.tmp, "filter_%s.wasm" % lang))

    def module(self, d, name):
        r = d.get("/v1/sandbox/" + name)
        return r.json() if r.status == 200 else None

    def sub(self, d, filt, count, timeout=20):
        r = d.nanoctl("sub", filt, "--count", str(count), "--json", timeout=timeout)
        self.assertEqual(r.returncode, 0, r.stderr)
        return [json.loads(line) for line in r.stdout.splitlines()]

    def load_filter(self, d, path, name="filter"):
        r = d.nanoctl("sandbox", "load", name, path, "--subscribe", "sensors/+/temperature",
                      "--grant-publish", "filtered/#")
        self.assertEqual(r.returncode, 0, r.stderr)
        return r

    def check_filtering(self, d):
        # raw readings carry the spike, filtered ones do not (the first few
        # may still be settling if the filter started on a spike)
        raw = [m["value"] for m in self.sub(d, "sensors/boiler/temperature", 14)]
        self.assertIn(90, raw)
        vals = [m["value"] for m in self.sub(d, "filtered/boiler/temperature", 18)]
        self.assertEqual(vals[-12:], [20] * 12, vals)

    # -- tests --
    def test_build_examples_and_errors(self):
        if not have_wat2wasm():
            self.skipTest(NEED_WAT)
        out = os.path.join(self.tmp, "f.wasm")
        r = nanoctl("sandbox", "build", "--wasm", os.path.join(EXAMPLES, "filter.wat"),
                    "-o", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"f\.wasm: ok, \d+ bytes")
        self.assertIn("import  nano.publish", r.stdout)
        self.assertIn("export  on_message", r.stdout)
        with open(out, "rb") as f:
            self.assertEqual(f.read(4), b"\0asm")
        # a syntax error is the tool's message and exit 4
        bad = os.path.join(self.tmp, "bad.wat")
        with open(bad, "w") as f:
            f.write("(module (func (export \"on_message\") (param i32) nope))")
        r = nanoctl("sandbox", "build", bad)
        self.assertEqual(r.returncode, 4)
        self.assertIn("wat2wasm rejected", r.stderr)
        # a valid module that does not fit the host interface
        wrong = os.path.join(self.tmp, "wrong.wat")
        with open(wrong, "w") as f:
            f.write('(module (import "env" "x" (func)))')
        r = nanoctl("sandbox", "build", wrong)
        self.assertEqual(r.returncode, 4)
        self.assertIn("import env.x: Nano offers only the imports of module 'nano'", r.stderr)
        r = nanoctl("sandbox", "build", os.path.join(self.tmp, "f.txt"))
        self.assertEqual(r.returncode, 1)
        self.assertEqual(nanoctl("sandbox", "build").returncode, 2)

    def test_build_c_example(self):
        if not have_clang_wasm():
            self.skipTest(NEED_CLANG)
        r = nanoctl("sandbox", "build", "--wasm", os.path.join(EXAMPLES, "filter.c"),
                    "-o", os.path.join(self.tmp, "fc.wasm"), timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"fc\.wasm: ok, \d+ bytes")
        self.assertIn("export  nano_inbox", r.stdout)

    def test_missing_tool_names_the_package(self):
        if not have_wat2wasm():
            self.skipTest(NEED_WAT)
        src = os.path.join(self.tmp, "x.wat")
        with open(src, "w") as f:
            f.write("(module)")
        r = nanoctl("sandbox", "build", src, env={"PATH": "/nonexistent"})
        self.assertEqual(r.returncode, 1)
        self.assertIn("install the Debian package wabt", r.stderr)
        csrc = os.path.join(self.tmp, "x.c")
        with open(csrc, "w") as f:
            f.write("int x;")
        r = nanoctl("sandbox", "build", csrc, env={"PATH": "/nonexistent"})
        self.assertEqual(r.returncode, 1)
        self.assertIn("clang-14", r.stderr)

    def test_filter_wat_and_c_clean_the_readings(self):
        d = self.start(CFG)
        wat = self.filter_wasm("wat")
        self.load_filter(d, wat)
        self.check_filtering(d)
        r = d.nanoctl("read", "filtered/boiler/temperature")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^filtered/boiler/temperature +20 ")
        if have_clang_wasm():
            c = self.filter_wasm("c")
            r = d.nanoctl("sandbox", "reload", "filter", c)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("reloaded filter (version 2", r.stdout)
            self.check_filtering(d)

    def test_wat_and_c_filters_agree_with_the_reference(self):
        if not have_clang_wasm():
            self.skipTest(NEED_CLANG)
        d = self.start("")
        for lang, inst in (("wat", "x"), ("c", "y")):
            r = d.nanoctl("sandbox", "load", "f" + lang, self.filter_wasm(lang),
                          "--subscribe", "sensors/%s/temperature" % inst,
                          "--grant-publish", "filtered/#")
            self.assertEqual(r.returncode, 0, r.stderr)
        seq = [20, 20, 21, 19, 90, 20, 20, 55, 56, 57, 58, 59, 20, 20, 20, 20,
               -5, 20, 20.5, 19.25, 90, 91, 92, 93, 94, 20]
        res = {}

        def sub():
            res["r"] = self.sub(d, "filtered/#", 2 * len(seq))
        th = threading.Thread(target=sub)
        th.start()
        time.sleep(0.5)
        batch = []
        for v in seq:
            batch += [{"topic": "sensors/x/temperature", "value": v},
                      {"topic": "sensors/y/temperature", "value": v}]
        self.assertEqual(d.post("/v1/publish", batch).status, 200)
        th.join(30)
        got = {"x": [], "y": []}
        for m in res["r"]:
            got[m["topic"].split("/")[1]].append(m["value"])
        want = reference_filter(seq)
        self.assertEqual(len(got["x"]), len(seq))
        for a, b, c in zip(got["x"], got["y"], want):
            self.assertAlmostEqual(a, c, places=9, msg=(got, want))
            self.assertAlmostEqual(b, c, places=9, msg=(got, want))
        self.assertEqual(want[4], 20)         # the spike is replaced
        self.assertEqual(want[10], 58)        # the 4th far reading is believed

    def test_reload_unload_restart(self):
        d = self.start(CFG)
        wat = self.filter_wasm("wat")
        r = self.load_filter(d, wat)
        self.assertRegex(r.stdout, r"loaded filter \(version 1, \d+ bytes\): running, "
                         r"subscribed to sensors/\+/temperature")
        d.wait_for(lambda: (self.module(d, "filter") or {}).get("calls", 0) > 5,
                   what="filter calls")
        r = d.nanoctl("sandbox", "reload", "filter", wat)
        self.assertEqual(r.returncode, 0, r.stderr)
        m = self.module(d, "filter")
        self.assertEqual(m["version"], 2)
        self.assertEqual(m["origin"], "installed")
        r = d.nanoctl("sandbox", "list")
        self.assertRegex(r.stdout, r"(?m)^filter +running +installed +2 ")
        r = d.nanoctl("sandbox", "status", "filter")
        self.assertIn("filter: running", r.stdout)
        self.assertIn("sensors/+/temperature (queued", r.stdout)
        self.assertIn("grants         publish filtered/#; read -; pins -", r.stdout)
        self.assertIn("kv             1 keys, 12 bytes", r.stdout)

        # restart: the module comes back from the state directory, and its
        # key-value store (the count of readings seen) goes on
        seen_before = self.module(d, "filter")["calls"]
        rc, _ = d.stop()
        self.assertEqual(rc, 0, d.log())
        d.start()
        m = self.module(d, "filter")
        self.assertIsNotNone(m)
        self.assertEqual(m["state"], "running")
        self.assertEqual(m["kv"]["keys"], 1)
        self.assertGreater(seen_before, 0)
        self.check_filtering(d)

        r = d.nanoctl("sandbox", "unload", "filter")
        self.assertEqual(r.returncode, 0)
        self.assertEqual(r.stdout, "filter: unloaded\n")
        self.assertEqual(d.nanoctl("sandbox", "unload", "filter").returncode, 3)
        self.assertEqual(d.nanoctl("sandbox", "status", "filter").returncode, 3)
        rc, _ = d.stop()
        d.start()
        self.assertEqual(d.get("/v1/sandbox").json(), [])
        self.assertIn("(no modules", d.nanoctl("sandbox", "list").stdout)

    def test_quarantine_visible_and_enable(self):
        d = self.start(CFG)
        bad = self.wat("bad", """(module (func (export "on_message")
            (param i32 i32 f64 i32 i32) unreachable))""")
        wat = self.filter_wasm("wat")
        self.load_filter(d, wat)
        r = d.nanoctl("sandbox", "load", "bad", bad, "--subscribe", "sensors/#",
                      "--max-faults", "3", "--fault-window", "10s")
        self.assertEqual(r.returncode, 0, r.stderr)
        d.wait_for(lambda: self.module(d, "bad")["state"] == "quarantined",
                   what="quarantine")
        r = d.nanoctl("sandbox", "status", "bad")
        self.assertIn("bad: quarantined", r.stdout)
        self.assertIn("faults         3 (traps: unreachable 3), quarantined 1 times",
                      r.stdout)
        self.assertIn("on_message trapped (unreachable)", r.stdout)
        self.assertRegex(d.nanoctl("sandbox", "list").stdout,
                         r"(?m)^bad +quarantined +installed +1 +3 +3 ")
        d.wait_for(lambda: self.module(d, "bad")["dropped"] > 0, what="drops")
        metrics = d.get("/v1/metrics").json()
        self.assertEqual(metrics['nano_sandbox_traps_total{module="bad",kind="unreachable"}'], 3)
        self.assertEqual(metrics['nano_sandbox_quarantined{module="bad"}'], 1)
        self.assertIn("quarantined after 3 faults", d.log())
        # the rest went on
        self.check_filtering(d)
        self.assertEqual(self.module(d, "filter")["faults"], 0)
        st = d.status()
        self.assertEqual(st["sandbox"]["quarantined"], 1)
        self.assertEqual(st["sandbox"]["running"], 1)
        # enable: it runs again (and, still broken, is quarantined again)
        r = d.nanoctl("sandbox", "enable", "bad")
        self.assertEqual(r.returncode, 0)
        self.assertEqual(r.stdout, "bad: enabled\n")
        d.wait_for(lambda: self.module(d, "bad")["quarantines"] == 2,
                   what="second quarantine")
        self.assertEqual(self.module(d, "bad")["calls"], 6)

    def test_looping_module_does_not_stop_rules_or_other_modules(self):
        d = self.start(CFG + """
services:
  hot:
    rule: boiler.temperature > 50
    clear: boiler.temperature < 30
    action: 'publish("alerts/hot", boiler.temperature)'
""")
        spin = self.wat("spin", """(module (func (export "on_message")
            (param i32 i32 f64 i32 i32) (loop br 0)))""")
        self.load_filter(d, self.filter_wasm("wat"))
        r = d.nanoctl("sandbox", "load", "spin", spin, "--subscribe", "sensors/#",
                      "--max-faults", "3", "--fault-window", "10s")
        self.assertEqual(r.returncode, 0, r.stderr)
        d.wait_for(lambda: self.module(d, "spin")["state"] == "quarantined",
                   what="quarantine")
        metrics = d.get("/v1/metrics").json()
        self.assertEqual(metrics['nano_sandbox_traps_total{module="spin",kind="fuel"}'], 3)
        # after the quarantine the service still fires on every spike and the
        # other module still filters
        fires = d.get("/v1/services/hot").json()["fires"]
        alerts = self.sub(d, "alerts/hot", 2, timeout=20)
        self.assertEqual([a["value"] for a in alerts], [90, 90])
        d.wait_for(lambda: d.get("/v1/services/hot").json()["fires"] >= fires + 2,
                   what="more fires")
        self.check_filtering(d)
        self.assertEqual(self.module(d, "filter")["faults"], 0)

    def test_config_section_and_sighup(self):
        wat = self.filter_wasm("wat")
        shutil.copy(wat, os.path.join(self.tmp, "filter.wasm"))
        cfg = CFG + """
sandbox:
  filter:
    file: filter.wasm
    subscribe: sensors/+/temperature
    grants: {publish: "filtered/#"}
"""
        d = self.start(cfg, workdir=self.tmp)
        m = self.module(d, "filter")
        self.assertEqual((m["state"], m["origin"], m["version"]),
                         ("running", "config", 1))
        self.check_filtering(d)
        # SIGHUP with the same config: untouched
        d.send_signal(signal.SIGHUP)
        d.wait_for(lambda: d.status()["reloads"] == 1, what="reload")
        self.assertEqual(self.module(d, "filter")["version"], 1)
        # new settings: swapped in
        d.write_config(cfg.replace('grants: {publish: "filtered/#"}',
                                   'grants: {publish: "filtered/#"}\n    max_publish: 4'))
        d.send_signal(signal.SIGHUP)
        d.wait_for(lambda: self.module(d, "filter")["version"] == 2, what="swap")
        self.assertEqual(self.module(d, "filter")["limits"]["max_publish"], 4)
        # a config with a broken module is rejected whole; the old one runs
        d.write_config(cfg.replace("file: filter.wasm", "file: nowhere.wasm"))
        d.send_signal(signal.SIGHUP)
        d.wait_for(lambda: d.status()["reload_failures"] == 1, what="rejection")
        self.assertIn("nowhere.wasm': No such file or directory", d.log())
        self.assertEqual(self.module(d, "filter")["state"], "running")
        # gone from the config: unloaded
        d.write_config(CFG)
        d.send_signal(signal.SIGHUP)
        d.wait_for(lambda: self.module(d, "filter") is None, what="unload")

    def test_check_config_positions(self):
        path = os.path.join(self.tmp, "nano.yaml")
        with open(path, "w") as f:
            f.write("sandbox:\n  filter:\n    file: missing.wasm\n")
        r = subprocess.run([nanotest.NANOD, "--check-config", path], capture_output=True,
                           text=True, env=nanotest.ENV)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr.strip(), "%s:3:11: module 'filter': cannot read '%s': "
                         "No such file or directory" % (path, os.path.join(self.tmp, "missing.wasm")))
        with open(path, "w") as f:
            f.write("sandbox:\n  filter:\n    file: x.wasm\n    fule: 5\n")
        r = subprocess.run([nanotest.NANOD, "--check-config", path], capture_output=True,
                           text=True, env=nanotest.ENV)
        self.assertEqual(r.returncode, 1)
        self.assertIn("4:5: unknown key 'fule' in module 'filter'", r.stderr)

    def test_api_errors(self):
        d = self.start(CFG)
        r = d.post("/v1/sandbox", {"name": "x", "wasm": "!!!"})
        self.assertEqual(r.status, 400)
        self.assertIn("'wasm' is not base64", r.json()["message"])
        r = d.post("/v1/sandbox", {"name": "x", "wasm": base64.b64encode(b"nope").decode()})
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json()["error"], "invalid_module")
        r = d.post("/v1/sandbox", {"name": "x"})
        self.assertEqual(r.status, 400)
        self.assertIn("missing 'wasm'", r.json()["message"])
        empty = base64.b64encode(b"\0asm\1\0\0\0").decode()
        r = d.post("/v1/sandbox", {"name": "x", "wasm": empty, "fuel": "lots"})
        self.assertEqual(r.status, 400)
        self.assertIn("'fuel'", r.json()["message"])
        r = d.post("/v1/sandbox", {"name": "x", "wasm": empty})
        self.assertEqual(r.status, 201, r.body)
        r = d.post("/v1/sandbox", {"name": "x", "wasm": empty})
        self.assertEqual(r.status, 409)
        self.assertEqual(d.get("/v1/sandbox/nosuch").status, 404)
        self.assertEqual(d.post("/v1/sandbox/nosuch/enable").status, 404)
        self.assertEqual(d.delete("/v1/sandbox/x").status, 200)
        self.assertEqual(d.nanoctl("sandbox", "status", "x").returncode, 3)

    def test_module_drives_a_pin_only_with_a_grant(self):
        # cmd/led value -> set_pin("led", value), the result on cmd/result
        led = self.wat("led", """(module
          (import "nano" "set_pin" (func $set (param i32 i32 i32) (result i32)))
          (import "nano" "publish" (func $pub (param i32 i32 f64) (result i32)))
          (memory 1)
          (data (i32.const 0) "led")
          (data (i32.const 8) "cmd/result")
          (func (export "on_message") (param i32 i32 f64 i32 i32)
            (drop (call $pub (i32.const 8) (i32.const 10)
              (f64.convert_i32_s (call $set (i32.const 0) (i32.const 3)
                                            (i32.trunc_f64_s (local.get 2))))))))""")
        d = self.start(CFG + "pins:\n  led: {chip: sim:gpiochip0, line: 5, direction: out}\n")
        r = d.nanoctl("sandbox", "load", "nogrant", led, "--subscribe", "cmd/led",
                      "--grant-publish", "cmd/result")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(d.nanoctl("pub", "cmd/led", "1").returncode, 0)
        d.wait_for(lambda: d.value("cmd/result"), what="result")
        self.assertEqual(d.value("cmd/result")["value"], -1)      # denied
        self.assertEqual(d.nanoctl("gpio", "get", "led").stdout.strip(), "LOW")
        self.assertEqual(self.module(d, "nogrant")["denied"], 1)
        d.nanoctl("sandbox", "unload", "nogrant")
        r = d.nanoctl("sandbox", "load", "granted", led, "--subscribe", "cmd/led",
                      "--grant-publish", "cmd/result", "--grant-pin", "led")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(d.nanoctl("pub", "cmd/led", "1").returncode, 0)
        d.wait_for(lambda: d.value("cmd/result")["value"] == 0, what="set")
        self.assertEqual(d.nanoctl("gpio", "get", "led").stdout.strip(), "HIGH")
        self.assertEqual(d.value("pins/led")["value"], True)

    def test_init_trap_keeps_old_version(self):
        d = self.start(CFG)
        wat = self.filter_wasm("wat")
        self.load_filter(d, wat)
        trapping = self.wat("trapping", """(module
            (func (export "init") unreachable)
            (func (export "on_message") (param i32 i32 f64 i32 i32)))""")
        r = d.nanoctl("sandbox", "reload", "filter", trapping)
        self.assertEqual(r.returncode, 4)
        self.assertIn("init trapped (unreachable)", r.stderr)
        r = d.nanoctl("sandbox", "load", "other", trapping)
        self.assertEqual(r.returncode, 4)
        self.assertEqual(self.module(d, "other"), None)
        m = self.module(d, "filter")
        self.assertEqual((m["version"], m["state"]), (1, "running"))
        self.check_filtering(d)


if __name__ == "__main__":
    nanotest.main()
