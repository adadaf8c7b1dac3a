"""07_rules - services in a running nanod: from the config file and the API,
rule errors with positions and a caret, explain, stop/restart/remove,
persistence across a restart, topic services over the bus."""
import json
import os
import subprocess
import time

import nanotest
from nanotest import NanoTestCase

CFG = """
devices:
  probe:
    driver: sim
    interval: 50ms
    quantities:
      temperature: {wave: constant, value: 76, unit: "°C"}
services:
  temp-alert:
    rule: temperature > 75.0
    clear: temperature < 70
    action: 'publish("alerts/heat", {"t": temperature, "service": "{service}"})'
"""


SEED = """
simulation:
  wire0:
    - { device: ds18b20, id: 28-000005e2fdc3, temperature: 76.0 }
pins:
  led_pin: { chip: sim:gpiochip0, line: 17, direction: out, initial: low }
"""


class Rules(NanoTestCase):
    def test_seed_example(self):
        """nanoctl driver install ds18b20 --param bus=wire0 --enable
        nanoctl service start temp-guard --config '{ "rule": "temperature > 75.0",
                                                     "action": "gpio.set(led_pin, HIGH)" }'"""
        d = self.start(SEED)
        r = d.post("/v1/devices", {"name": "ds18b20", "driver": "ds18b20",
                                   "interval": "200ms", "params": {"bus": "wire0"}})
        self.assertEqual(r.status, 201, r.body)
        r = d.post("/v1/services", {"name": "temp-guard", "config": {
            "rule": "temperature > 75.0", "action": "gpio.set(led_pin, HIGH)"}})
        self.assertIn(r.status, (201,), r.body)
        t0 = time.monotonic()
        pin = d.wait_for(lambda: (d.value("pins/led_pin") or {}).get("value") is True,
                         timeout=5, what="led_pin HIGH")
        self.assertTrue(pin)
        self.assertLess(time.monotonic() - t0, 2.0)
        svc = d.get("/v1/services/temp-guard").json()
        self.assertEqual(svc["state"], "active")
        self.assertEqual(svc["detail"]["last_action"],
                         {"action": "gpio.set(led_pin, HIGH)", "result": "ok"})
        # an unknown pin is refused with the known ones listed
        r = d.post("/v1/services", {"name": "x", "config": {
            "rule": "temperature > 75.0", "action": "gpio.set(ledpin, HIGH)"}})
        self.assertEqual(r.status, 404)
        self.assertIn("did you mean 'led_pin'?", r.json()["message"])

    def test_config_service_acts(self):
        d = self.start(CFG)
        v = d.wait_for(lambda: d.value("alerts/heat"), what="alerts/heat")
        self.assertEqual(v["value"], {"t": 76, "service": "temp-alert"})
        svc = d.get("/v1/services/temp-alert").json()
        self.assertEqual(svc["status"], "running")
        self.assertEqual(svc["state"], "active")
        self.assertEqual(svc["origin"], "config")
        self.assertEqual(svc["inputs"], ["sensors/probe/temperature"])
        lst = d.get("/v1/services").json()
        self.assertEqual([s["name"] for s in lst], ["temp-alert"])

    def test_api_start_errors_and_explain(self):
        d = self.start(CFG)
        r = d.post("/v1/services", {"name": "bad", "config": {
            "rule": "temperature > > 75", "action": "log(info, \"x\")"}})
        self.assertEqual(r.status, 400)
        e = r.json()
        self.assertEqual(e["error"], "invalid")
        self.assertEqual(e["field"], "rule")
        self.assertEqual((e["text_line"], e["text_col"]), (1, 15))
        self.assertEqual(e["caret"], "1:15: expected an expression\n"
                                     "  temperature > > 75\n"
                                     "                ^")
        self.assertEqual(e["message"],
                         "service 'bad': rule 1:15: expected an expression")
        d.wait_for(lambda: d.value("sensors/probe/temperature"), what="a reading")
        r = d.post("/v1/services", {"name": "typo", "config": {"rule": "temprature > 1"}})
        self.assertEqual(r.status, 404)
        self.assertIn("did you mean 'temperature'?", r.json()["message"])
        r = d.post("/v1/services", {"name": "hot", "config": {
            "rule": "temperature > 75 and avg(temperature, 1s) > 70",
            "action": "publish(\"alerts/hot\", temperature)"}})
        self.assertEqual(r.status, 201, r.body)
        d.wait_for(lambda: d.value("alerts/hot"), what="alerts/hot")
        x = d.get("/v1/services/hot/explain").json()
        self.assertEqual(x["state"], "active")
        exprs = {t["expr"]: t["value"] for t in x["rule"]["terms"]}
        self.assertEqual(exprs["temperature > 75"], True)
        self.assertEqual(exprs["avg(temperature, 1s)"], 76)
        self.assertIn("active for", x["why"])
        self.assertEqual(d.get("/v1/services/nope").status, 404)

    def test_lifecycle_and_persistence(self):
        d = self.start(CFG)
        d.wait_for(lambda: d.value("sensors/probe/temperature"), what="a reading")
        cfg = {"rule": "temperature > 75", "action": "publish(\"alerts/api\", 1)"}
        self.assertEqual(d.post("/v1/services", {"name": "api-svc", "config": cfg}).status, 201)
        self.assertEqual(d.post("/v1/services/api-svc/stop").json()["status"], "stopped")
        self.assertEqual(d.post("/v1/services/temp-alert/stop").status, 200)
        rc, _ = d.stop()
        self.assertEqual(rc, 0)
        d.start()
        st = {s["name"]: s["status"] for s in d.get("/v1/services").json()}
        self.assertEqual(st, {"temp-alert": "stopped", "api-svc": "stopped"})
        self.assertEqual(d.post("/v1/services/api-svc/start").json()["status"], "running")
        self.assertEqual(d.post("/v1/services/api-svc/restart").status, 200)
        self.assertEqual(d.delete("/v1/services/temp-alert").status, 200)
        rc, _ = d.stop()
        d.start()
        st = {s["name"]: s["status"] for s in d.get("/v1/services").json()}
        self.assertEqual(st, {"api-svc": d.get("/v1/services/api-svc").json()["status"]})
        self.assertIn(st["api-svc"], ("running", "waiting"))

    def test_topic_service(self):
        d = self.start("")
        r = d.post("/v1/services", {"name": "fwd", "config": {
            "input": "sensors/+/temperature", "rule": "value > 75",
            "action": "publish(\"alerts/{1}\", {\"value\": value, \"ts\": ts})"}})
        self.assertEqual(r.status, 201, r.body)
        r = d.post("/v1/publish", {"topic": "sensors/boiler/temperature",
                                   "value": {"value": 80.2, "ts": 1764777600123456}})
        self.assertIn(r.status, (200, 202), r.body)
        v = d.wait_for(lambda: d.value("alerts/boiler"), what="alerts/boiler")
        self.assertEqual(v["value"], {"value": 80.2, "ts": 1764777600123456})

    def test_check_config_points_at_the_rule(self):
        bad = CFG.replace("temperature > 75.0", "temperature > > 75.0")
        path = os.path.join(self.start("").dir, "bad.yaml")
        with open(path, "w") as f:
            f.write(bad)
        r = subprocess.run([nanotest.NANOD, "--check-config", path],
                           capture_output=True, text=True, env=nanotest.ENV)
        self.assertEqual(r.returncode, 1)
        self.assertIn("bad.yaml:10:25: service 'temp-alert': rule 1:15: "
                      "expected an expression", r.stderr)


if __name__ == "__main__":
    nanotest.main()
