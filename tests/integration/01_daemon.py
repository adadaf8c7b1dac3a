"""01_daemon - nanod's lifecycle: version, --check-config, startup on the
bundled config, SIGTERM/SIGINT stop within a second, SIGHUP reload (a bad
new config is rejected and the running one kept), corrupt state at startup."""
import os
import signal
import subprocess
import time

import nanotest
from nanotest import NANOD, ROOT, NanoTestCase

SIM = """
log: {level: info}
devices:
  boiler:
    driver: sim
    interval: 50ms
    quantities:
      temperature: {wave: constant, value: 21.5, unit: "°C"}
"""


class Daemon(NanoTestCase):
    def test_version_lists_profile_features_and_drivers(self):
        out = subprocess.run([NANOD, "--version"], capture_output=True, text=True,
                             env=nanotest.ENV)
        self.assertEqual(out.returncode, 0)
        self.assertRegex(out.stdout, r"^nanod \d+\.\d+\.\d+\n")
        self.assertIn("profile:  debug", out.stdout)
        self.assertRegex(out.stdout, r"features:.* api")
        self.assertRegex(out.stdout, r"drivers: .*\bsim\b")

    def test_check_config_good_and_bad(self):
        d = nanotest.Nanod(SIM)
        try:
            ok = subprocess.run([NANOD, "--check-config", d.config_path],
                                capture_output=True, text=True, env=nanotest.ENV)
            self.assertEqual(ok.returncode, 0, ok.stderr)
            self.assertIn(": ok", ok.stdout)
            d.write_config(SIM.replace("interval: 50ms", "intervall: 50ms"))
            bad = subprocess.run([NANOD, "--check-config", d.config_path],
                                 capture_output=True, text=True, env=nanotest.ENV)
            self.assertEqual(bad.returncode, 1)
            self.assertEqual(bad.stderr.strip(), "%s:6:5: unknown key 'intervall' in "
                             "device 'boiler' (did you mean 'interval'?)" % d.config_path)
            missing = subprocess.run([NANOD, "--check-config", d.config_path + ".nope"],
                                     capture_output=True, text=True, env=nanotest.ENV)
            self.assertEqual(missing.returncode, 1)
            self.assertIn("No such file or directory", missing.stderr)
        finally:
            d.cleanup()

    def test_bundled_config_shows_live_readings(self):
        d = self.start(open(os.path.join(ROOT, "config", "nano.yaml")).read())
        d.wait_for(lambda: d.value("sensors/boiler/flow_temp"), what="boiler reading")
        v1 = d.value("sensors/boiler/flow_temp")
        self.assertEqual(v1["unit"], "°C")
        self.assertTrue(60 - 2 <= v1["value"] <= 80 + 2, v1)
        d.wait_for(lambda: d.value("sensors/boiler/flow_temp")["ts"] > v1["ts"],
                   what="a newer reading")
        self.assertEqual(d.status()["devices"]["ok"], 2)
        # the emulated hardware and pins are there for the README's examples
        pins = d.get("/v1/pins").json()
        self.assertEqual([(p["name"], p["level"]) for p in pins], [("led_pin", 0)])
        sim = {(e["bus"], e["model"]) for e in d.get("/v1/sim").json()}
        self.assertIn(("wire0", "ds18b20"), sim)

    def test_sigterm_and_sigint_stop_within_a_second(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            d = self.start(SIM)
            d.wait_for(lambda: d.value("sensors/boiler/temperature"))
            # An open stream must not delay shutdown.
            import socket as so
            s = so.socket(so.AF_UNIX)
            s.connect(d.socket)
            s.sendall(b"GET /v1/stream HTTP/1.1\r\nHost: x\r\n\r\n")
            time.sleep(0.1)
            rc, took = d.stop(sig)
            s.close()
            self.assertEqual(rc, 0, d.log())
            self.assertLess(took, 1.0)
            self.assertFalse(os.path.exists(d.socket), "socket file left behind")
            self.assertIn("stopping", d.log())

    def test_sighup_bad_config_keeps_running_one(self):
        d = self.start(SIM)
        d.wait_for(lambda: d.value("sensors/boiler/temperature"))
        d.write_config(SIM + "  broken: [\n")
        d.send_signal(signal.SIGHUP)
        d.wait_for(lambda: d.status()["reload_failures"] == 1, what="reload failure")
        self.assertIn("reload rejected, keeping the running config", d.log())
        self.assertRegex(d.log(), r"nano.yaml:\d+:\d+: ")
        self.assertEqual(d.status()["reloads"], 0)
        # still sampling the old config
        t = d.value("sensors/boiler/temperature")["ts"]
        d.wait_for(lambda: d.value("sensors/boiler/temperature")["ts"] > t)
        # a good config is applied: the new device appears, the old one goes
        d.write_config(SIM.replace("boiler", "tank").replace("21.5", "30"))
        d.send_signal(signal.SIGHUP)
        d.wait_for(lambda: d.status()["reloads"] == 1, what="reload")
        d.wait_for(lambda: d.value("sensors/tank/temperature"), what="tank reading")
        self.assertEqual(d.value("sensors/tank/temperature")["value"], 30)
        devs = d.get("/v1/devices").json()
        self.assertEqual([x["name"] for x in devs], ["tank"])
        self.assertEqual(d.value("sensors/boiler/temperature")["quality"], "stale")

    def test_startup_refuses_a_bad_config_with_position(self):
        d = nanotest.Nanod("devices:\n  a:\n    driver: sim\n    quantities: 5\n")
        try:
            d.start(wait=False)
            rc = d.proc.wait(10)
            self.assertEqual(rc, 1)
            self.assertIn("nano.yaml:4:17: parameter 'quantities' of device 'a' "
                          "expects a map or a list", d.log())
        finally:
            d.cleanup()

    def test_corrupt_state_never_stops_startup(self):
        d = nanotest.Nanod(SIM)
        self.daemons.append(d)
        os.makedirs(d.state_dir)
        with open(os.path.join(d.state_dir, "devices.json"), "w") as f:
            f.write("NANO-STATE 1 40 0badc0de\n{\"installed\": {\"x\": ")
        d.start()
        d.wait_for(lambda: d.value("sensors/boiler/temperature"))
        self.assertIn("ignoring saved devices", d.log())
        self.assertTrue(os.path.exists(os.path.join(d.state_dir, "devices.json.corrupt")))
        # and run-time changes still persist afterwards
        r = d.post("/v1/devices", {"name": "extra", "driver": "sim",
                                   "params": {"quantities": {"t": {}}}})
        self.assertEqual(r.status, 201, r.body)

    def test_second_daemon_on_same_socket_refused(self):
        d = self.start(SIM)
        other = nanotest.Nanod(SIM, workdir=None)
        try:
            other.socket = d.socket
            other.start(wait=False)
            rc = other.proc.wait(10)
            self.assertEqual(rc, 1)
            self.assertIn("cannot serve the API", other.log())
            self.assertEqual(d.get("/v1/status").status, 200)
        finally:
            other.cleanup()


if __name__ == "__main__":
    nanotest.main()
