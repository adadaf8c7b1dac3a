"""05_hardware - real drivers on emulated hardware through nanoctl: the
docs' DS18B20 and BME280 commands, an unplugged sensor going stale and
recovering by itself, pins set and read, and installed drivers found again
after a restart."""
import json
import os
import time

import nanotest
from nanotest import ROOT, NanoTestCase

CFG = """
simulation:
  wire0:
    - { device: ds18b20, id: 28-000005e2fdc3, temperature: 21.5 }
  i2c1:
    - { device: bme280, address: 0x76, temperature: 19.0, humidity: 48, pressure: 1013.25 }
pins:
  led_pin: { chip: sim:gpiochip0, line: 17, direction: out, initial: low }
  door:    { chip: sim:gpiochip0, line: 4, direction: in }
"""


class Hardware(NanoTestCase):
    def test_ds18b20_and_bme280_as_the_docs_show(self):
        d = self.start(CFG)
        r = d.nanoctl("driver", "install", "ds18b20", "--param", "bus=wire0",
                      "--interval", "200ms", "--enable")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = d.nanoctl("register", "--driver", "bme280", "--bus", "i2c1",
                      "--name", "air", "--interval", "200ms")
        self.assertEqual(r.returncode, 0, r.stderr)
        t = d.wait_for(lambda: d.value("sensors/ds18b20/temperature"), what="ds18b20")
        self.assertAlmostEqual(t["value"], 21.5, places=3)
        self.assertEqual(t["unit"], "°C")
        a = d.wait_for(lambda: d.value("sensors/air/pressure"), what="bme280")
        self.assertAlmostEqual(a["value"], 1013.25, delta=0.05)
        self.assertAlmostEqual(d.value("sensors/air/temperature")["value"], 19.0, delta=0.02)
        # heat the emulated probe: the driver reads the new value
        r = d.nanoctl("sim", "set", "wire0", "28-000005e2fdc3", "temperature=76")
        self.assertEqual(r.returncode, 0, r.stderr)
        d.wait_for(lambda: abs(d.value("sensors/ds18b20/temperature")["value"] - 76) < 0.01,
                   what="76 °C")
        r = d.nanoctl("driver", "show", "ds18b20")
        self.assertIn("bus", r.stdout)
        self.assertRegex(r.stdout, r"temperature +°C +-55\.\.125")

    def test_unplug_goes_stale_and_replug_recovers(self):
        d = self.start(CFG)
        d.nanoctl("driver", "install", "ds18b20", "--param", "bus=wire0",
                  "--interval", "100ms", "--enable")
        d.wait_for(lambda: d.value("sensors/ds18b20/temperature"))
        r = d.post("/v1/sim", {"bus": "wire0", "address": "28-000005e2fdc3",
                               "fault": "unplug"})
        self.assertEqual(r.status, 200, r.body)
        d.wait_for(lambda: d.value("sensors/ds18b20/temperature")["quality"] == "stale",
                   what="stale")
        dev = d.wait_for(lambda: [x for x in d.get("/v1/devices").json()
                                  if x["state"] in ("backoff", "failing")], what="backoff")
        self.assertTrue(dev[0]["last_error"])
        r = d.nanoctl("devices")
        self.assertRegex(r.stdout, r"(?m)^ds18b20 +ds18b20 +(backoff|failing) ")
        d.post("/v1/sim", {"bus": "wire0", "address": "28-000005e2fdc3", "fault": "none"})
        d.wait_for(lambda: d.value("sensors/ds18b20/temperature")["quality"] == "ok",
                   timeout=10, what="recovered")
        self.assertEqual(d.get("/v1/devices/ds18b20").json()["state"], "ok")

    def test_gpio_get_set_and_events(self):
        d = self.start(CFG)
        self.assertEqual(d.nanoctl("gpio", "get", "led_pin").stdout.strip(), "LOW")
        r = d.nanoctl("gpio", "set", "led_pin", "high")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(d.nanoctl("gpio", "get", "led_pin").stdout.strip(), "HIGH")
        self.assertIs(d.wait_for(lambda: d.value("pins/led_pin"))["value"], True)
        d.nanoctl("gpio", "set", "led_pin", "toggle")
        self.assertEqual(d.nanoctl("gpio", "get", "led_pin").stdout.strip(), "LOW")
        r = d.nanoctl("gpio", "set", "door", "high")
        self.assertEqual(r.returncode, 4)
        self.assertIn("is an input", r.stderr)
        r = d.nanoctl("gpio", "set", "nosuch", "high")
        self.assertEqual(r.returncode, 3)
        r = d.nanoctl("gpio", "set", "led_pin", "bright")
        self.assertEqual(r.returncode, 4)
        listing = d.nanoctl("gpio", "list").stdout
        self.assertRegex(listing, r"(?m)^led_pin +sim:gpiochip0 +17 out +LOW +ok")

    def test_bad_parameters_name_what_was_expected(self):
        d = self.start(CFG)
        cases = [
            (["driver", "install", "bme280", "--param", "address=0x99"],
             "parameter 'address' of device 'bme280' must be between"),
            (["driver", "install", "bme280", "--param", "adress=0x76"],
             "unknown key 'adress' in device 'bme280' (did you mean 'address'?)"),
            (["driver", "install", "ds18b20", "--interval", "soon"],
             "'interval' of device 'ds18b20' expects a duration"),
            (["register", "--driver", "bme280", "--bus", "i2c1", "--param", "oversampling=lots"],
             "'oversampling'"),
        ]
        for args, msg in cases:
            r = d.nanoctl(*args)
            with self.subTest(args=args):
                self.assertEqual(r.returncode, 4, r.stdout + r.stderr)
                self.assertIn(msg, r.stderr)
        self.assertEqual(d.get("/v1/devices").json(), [])   # nothing half-installed

    def test_installed_drivers_survive_restart(self):
        d = self.start(CFG)
        d.nanoctl("driver", "install", "ds18b20", "--param", "bus=wire0",
                  "--interval", "100ms", "--enable")
        d.nanoctl("register", "--driver", "bme280", "--bus", "i2c1", "--name", "air")
        d.nanoctl("driver", "disable", "air")
        rc, took = d.stop()
        self.assertEqual(rc, 0)
        self.assertLess(took, 1.0)
        d.start()
        devs = {x["name"]: x["state"] for x in d.get("/v1/devices").json()}
        self.assertEqual(devs["air"], "disabled")
        self.assertIn("ds18b20", devs)
        d.wait_for(lambda: d.get("/v1/devices/ds18b20").json()["state"] == "ok")


if __name__ == "__main__":
    nanotest.main()
