"""08_seed - the README's example exactly as users type it, on the bundled
config/nano.yaml: install the (emulated) DS18B20, start the temp-guard
service with nanoctl, heat the probe to 76 °C and see led_pin go HIGH within
one sample interval; then the service commands, a rule error with its caret,
a service from a YAML file, and everything back after a restart."""
import os
import tempfile
import time

import nanotest
from nanotest import ROOT, NanoTestCase

BUNDLED = open(os.path.join(ROOT, "config", "nano.yaml")).read()
PROBE = ["wire0", "28-000005e2fdc3"]


class Seed(NanoTestCase):
    def test_readme_example_with_nanoctl(self):
        d = self.start(BUNDLED)
        r = d.nanoctl("driver", "install", "ds18b20", "--param", "bus=wire0", "--enable")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = d.nanoctl("service", "start", "temp-guard", "--config", """{
  "rule": "temperature > 75.0",
  "action": "gpio.set(led_pin, HIGH)"
}""")
        self.assertEqual(r.returncode, 0, r.stderr)
        d.wait_for(lambda: d.value("sensors/ds18b20/temperature"), what="first reading")
        self.assertEqual(d.nanoctl("gpio", "get", "led_pin").stdout.strip(), "LOW")
        self.assertRegex(d.nanoctl("service", "status", "temp-guard").stdout,
                         r"(?m)^state +idle ")

        interval = d.get("/v1/devices/ds18b20").json()["interval_ms"] / 1000.0
        r = d.nanoctl("sim", "set", *PROBE, "temperature=76")
        self.assertEqual(r.returncode, 0, r.stderr)
        t0 = time.monotonic()
        d.wait_for(lambda: d.nanoctl("gpio", "get", "led_pin").stdout.strip() == "HIGH",
                   timeout=interval + 3, what="led_pin HIGH")
        self.assertLess(time.monotonic() - t0, interval + 0.5)   # one sample interval

        st = d.nanoctl("service", "status", "temp-guard").stdout
        self.assertRegex(st, r"(?m)^state +active ")
        self.assertRegex(st, r"(?m)^counts .* 1 fires")
        self.assertIn("gpio.set(led_pin, HIGH)", st)
        ls = d.nanoctl("service", "list").stdout
        self.assertRegex(ls, r"(?m)^temp-guard +running +active .* 1  temperature > 75\.0$")
        ex = d.nanoctl("service", "explain", "temp-guard").stdout
        self.assertRegex(ex, r"sensors/ds18b20/temperature +76 +ok")
        self.assertRegex(ex, r"(?m)^  temperature > 75\.0 +=.* true$")

    def test_rule_errors_show_a_caret(self):
        d = self.start(BUNDLED)
        d.nanoctl("driver", "install", "ds18b20", "--param", "bus=wire0", "--enable")
        r = d.nanoctl("service", "start", "bad", "--config",
                      '{"rule": "temperature > > 75", "action": "gpio.set(led_pin, HIGH)"}')
        self.assertEqual(r.returncode, 4)
        self.assertEqual(r.stderr, "nanoctl: service 'bad': rule 1:15: expected an expression\n"
                                   "  temperature > > 75\n"
                                   "                ^\n")
        r = d.nanoctl("service", "start", "bad", "--config", '{"rule": ')
        self.assertEqual(r.returncode, 2)
        self.assertIn("--config:1:10:", r.stderr)
        self.assertEqual(d.nanoctl("service", "status", "bad").returncode, 3)

    def test_yaml_file_stop_restart_remove_and_restart_daemon(self):
        d = self.start(BUNDLED)
        d.nanoctl("driver", "install", "ds18b20", "--param", "bus=wire0", "--enable")
        f = os.path.join(d.dir, "guard.yaml")
        with open(f, "w") as fh:
            fh.write("rule: temperature > 75.0\nclear: temperature < 70\n"
                     "action: gpio.set(led_pin, HIGH)\non_clear: gpio.set(led_pin, LOW)\n")
        r = d.nanoctl("service", "start", "guard", "--config", "@" + f)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(d.nanoctl("service", "stop", "guard").returncode, 0)
        self.assertRegex(d.nanoctl("service", "list").stdout, r"(?m)^guard +stopped ")
        self.assertEqual(d.nanoctl("service", "restart", "guard").returncode, 0)
        self.assertRegex(d.nanoctl("service", "list").stdout, r"(?m)^guard +running ")
        rc, _ = d.stop()
        self.assertEqual(rc, 0)
        d.start()
        self.assertRegex(d.nanoctl("service", "list").stdout, r"(?m)^guard +running ")
        d.nanoctl("sim", "set", *PROBE, "temperature=80")
        d.wait_for(lambda: d.nanoctl("gpio", "get", "led_pin").stdout.strip() == "HIGH",
                   timeout=15, what="HIGH after restart")
        d.nanoctl("sim", "set", *PROBE, "temperature=65")
        d.wait_for(lambda: d.nanoctl("gpio", "get", "led_pin").stdout.strip() == "LOW",
                   timeout=15, what="cleared")
        self.assertEqual(d.nanoctl("service", "remove", "guard").returncode, 0)
        self.assertEqual(d.nanoctl("service", "status", "guard").returncode, 3)


if __name__ == "__main__":
    nanotest.main()
