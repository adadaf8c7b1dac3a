"""03_nanoctl - the CLI against a running nanod: what it says when no daemon
runs, status, pub/read/sub, --json, exit codes, and device management
(install, list, disable, remove) persisted across a restart."""
import json
import os
import subprocess
import tempfile
import time

import nanotest
from nanotest import NanoTestCase, nanoctl

CFG = """
devices:
  boiler:
    driver: sim
    interval: 50ms
    quantities:
      temperature: {wave: constant, value: 70, unit: "°C"}
"""


class Cli(NanoTestCase):
    def test_no_daemon_one_clear_line(self):
        d = tempfile.mkdtemp()
        sock = os.path.join(d, "nano.sock")
        r = nanoctl("status", env={"NANO_SOCKET": sock})
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr, "nanoctl: nanod is not running (no socket at %s)\n" % sock)
        self.assertEqual(r.stdout, "")
        # a socket file nobody listens on
        import socket
        s = socket.socket(socket.AF_UNIX)
        s.bind(sock)
        s.close()
        r = nanoctl("--socket", sock, "read", "x")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr, "nanoctl: nanod is not running (nothing listens on %s)\n" % sock)

    def test_usage_errors_exit_2(self):
        self.assertEqual(nanoctl().returncode, 2)
        self.assertEqual(nanoctl("frobnicate").returncode, 2)
        self.assertEqual(nanoctl("pub", "only-topic").returncode, 2)
        self.assertEqual(nanoctl("sub", "--count", "0").returncode, 2)
        r = nanoctl("help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("driver list|show|install", r.stdout)

    def test_status_table_and_json(self):
        d = self.start(CFG)
        r = d.nanoctl("status")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"^nanod \S+ \(debug\), pid \d+, up ")
        self.assertRegex(r.stdout, r"devices +1 instances: [01] ok")
        r = d.nanoctl("status", "--json")
        self.assertEqual(r.returncode, 0)
        self.assertEqual(json.loads(r.stdout)["devices"]["instances"], 1)

    def test_pub_read_and_sub(self):
        d = self.start(CFG)
        import threading
        res = {}

        def sub():
            res["r"] = d.nanoctl("sub", "alerts/#", "--count", "3", timeout=20)
        th = threading.Thread(target=sub)
        th.start()
        time.sleep(0.5)
        for v in ("21.5", "true", "hello world"):
            r = d.nanoctl("pub", "alerts/x", v, "--unit", "u")
            self.assertEqual(r.returncode, 0, r.stderr)
        th.join(20)
        out = res["r"]
        self.assertEqual(out.returncode, 0, out.stderr)
        lines = out.stdout.strip().splitlines()
        self.assertEqual(len(lines), 3, out.stdout)
        self.assertRegex(lines[0], r"^\d\d:\d\d:\d\d\.\d{3}  alerts/x +21\.5 u")
        self.assertIn("true", lines[1])
        self.assertIn("hello world", lines[2])
        r = d.nanoctl("read", "alerts/x", "--json")
        self.assertEqual(json.loads(r.stdout)["value"], "hello world")
        r = d.nanoctl("read", "nothing/here")
        self.assertEqual(r.returncode, 3)
        self.assertIn("no value has been published on 'nothing/here'", r.stderr)
        r = d.nanoctl("pub", "bad/+/topic", "1")
        self.assertEqual(r.returncode, 4)
        self.assertIn("wildcards", r.stderr)
        r = d.nanoctl("sub", "bad/#/filter", "--count", "1")
        self.assertEqual(r.returncode, 4)
        self.assertIn("'#' must be the last level", r.stderr)

    def test_driver_catalogue(self):
        d = self.start(CFG)
        r = d.nanoctl("driver", "list")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"(?m)^sim +Simulated sensor")
        r = d.nanoctl("driver", "show", "sim")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"(?m)^  quantities +map +\(required\) +map of quantity")
        self.assertRegex(r.stdout, r"(?m)^  latency +duration +0 ")
        r = d.nanoctl("driver", "show", "nosuch")
        self.assertEqual(r.returncode, 3)

    def test_install_list_disable_remove_and_restart(self):
        d = self.start(CFG)
        q = json.dumps({"level": {"wave": "constant", "value": 3}})
        r = d.nanoctl("driver", "install", "sim", "--name", "tank", "--interval", "50ms",
                      "--param", "quantities=" + q, "--enable")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("installed tank (driver sim), enabled", r.stdout)
        r = d.nanoctl("register", "--driver", "sim", "--name", "well",
                      "--param", "quantities=" + q)
        self.assertEqual(r.returncode, 0, r.stderr)
        d.wait_for(lambda: d.value("sensors/tank/level"), what="tank reading")
        r = d.nanoctl("devices")
        self.assertRegex(r.stdout, r"(?m)^tank +sim +ok +installed .* level=3")
        self.assertRegex(r.stdout, r"(?m)^boiler +sim +ok +config ")
        # errors name the parameter and change nothing
        r = d.nanoctl("driver", "install", "sim", "--name", "bad", "--param", "sed=4")
        self.assertEqual(r.returncode, 4)
        self.assertIn("unknown key 'sed' in device 'bad' (did you mean 'seed'?)", r.stderr)
        r = d.nanoctl("driver", "install", "nosuch")
        self.assertEqual(r.returncode, 4)
        self.assertIn("unknown driver 'nosuch'", r.stderr)
        r = d.nanoctl("driver", "install", "sim", "--name", "tank", "--param", "quantities=" + q)
        self.assertEqual(r.returncode, 4)
        self.assertIn("already exists", r.stderr)
        self.assertEqual(d.nanoctl("driver", "disable", "tank").returncode, 0)
        self.assertEqual(d.nanoctl("driver", "remove", "well").returncode, 0)
        self.assertEqual(d.nanoctl("driver", "remove", "boiler").returncode, 0)
        self.assertEqual(d.nanoctl("driver", "remove", "ghost").returncode, 3)
        self.assertRegex(d.nanoctl("devices").stdout, r"(?m)^tank +sim +disabled ")

        # restart: installed, disabled and removed devices are as we left them
        rc, _ = d.stop()
        self.assertEqual(rc, 0, d.log())
        d.start()
        devs = {x["name"]: x for x in d.get("/v1/devices").json()}
        self.assertEqual(sorted(devs), ["tank"])
        self.assertEqual(devs["tank"]["state"], "disabled")
        self.assertEqual(d.nanoctl("driver", "enable", "tank").returncode, 0)
        t0 = time.time() * 1e6
        d.wait_for(lambda: (d.value("sensors/tank/level") or {}).get("ts", 0) > t0,
                   what="tank sampling again")


if __name__ == "__main__":
    nanotest.main()
