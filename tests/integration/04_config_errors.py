"""04_config_errors - malformed configuration files, each rejected by
`nanod --check-config` with exactly the expected file:line:col message."""
import os
import subprocess
import tempfile

import nanotest
from nanotest import NANOD, NanoTestCase

# (file name, text, expected message after "<path>:")
CASES = [
    ("nano.yaml", "log:\n  level: loud\n",
     "2:10: 'level' expects one of error, warn, info, debug, got 'loud'"),
    ("nano.yaml", "log:\n  levle: info\n",
     "2:3: unknown key 'levle' in 'log' (did you mean 'level'?)"),
    ("nano.yaml", "devics:\n  a: {}\n",
     "1:1: unknown key 'devics' in the configuration (did you mean 'devices'?)"),
    ("nano.yaml", "devices:\n  boiler:\n    interval: 1s\n",
     "2:3: missing required key 'driver' in device 'boiler'"),
    ("nano.yaml", "devices:\n  boiler:\n    driver: sim\n    intervall: 1s\n    quantities: {t: {}}\n",
     "4:5: unknown key 'intervall' in device 'boiler' (did you mean 'interval'?)"),
    ("nano.yaml", "devices:\n  boiler:\n    driver: sim\n    interval: fast\n    quantities: {t: {}}\n",
     "4:15: 'interval' of device 'boiler' expects a duration such as 500ms or 30s, got 'fast'"),
    ("nano.yaml", "devices:\n  boiler:\n    driver: smi\n",
     "3:13: unknown driver 'smi' (did you mean 'sim'?)"),
    ("nano.yaml", "devices:\n  boiler:\n    driver: sim\n",
     "2:3: missing required parameter 'quantities' in device 'boiler' (map of quantity name to waveform settings)"),
    ("nano.yaml", "devices:\n  boiler:\n    driver: sim\n    quantities:\n      t: {wave: square}\n",
     "5:17: 'wave' must be one of constant, sine, ramp, random_walk, steps, got 'square'"),
    ("nano.yaml", "devices:\n  boiler:\n    driver: sim\n    quantities:\n      t: {wave: sine, min: 5, max: 1}\n",
     "5:36: sim quantity 't': max (1) is below min (5)"),
    ("nano.yaml", "devices:\n  boiler:\n    driver: sim\n    quantities: {t: {nosie: 1}}\n",
     "4:22: unknown key 'nosie' in sim quantity 't' (did you mean 'noise'?)"),
    ("nano.yaml", "devices:\n  boiler:\n    driver: sim\n    seed: lots\n    quantities: {t: {}}\n",
     "4:11: parameter 'seed' of device 'boiler' expects an integer, got 'lots'"),
    ("nano.yaml", "devices:\n  boiler:\n    driver: sim\n    quantities: {t: {}}\n    faults: [{kind: melt}]\n",
     "5:21: fault 'kind' must be one of timeout, error, out_of_range, got 'melt'"),
    ("nano.yaml", "devices:\n  bad name:\n    driver: sim\n",
     "2:3: device name 'bad name' must be 1-48 letters, digits, '_' or '-' (it becomes a topic level)"),
    ("nano.yaml", "api:\n  max_connections: 0\n",
     "2:20: 'max_connections' expects an integer from 1 to 4096, got 0"),
    ("nano.yaml", "log:\n  level: info\n level: debug\n",
     None),   # bad indentation: a YAML syntax error with a position
    ("nano.yaml", "devices:\n  a:\n    driver: sim\n  a:\n    driver: sim\n",
     "4:3: duplicate key 'a' (first defined at 2:3)"),
    ("nano.yaml", "devices: &x\n  a: *x\n", None),
    ("nano.json", '{"log": {"level": "info",}}',
     "1:26: expected a string key after ',', got '}' (trailing commas are not allowed)"),
    ("nano.json", '{"devices": {"boiler": {"driver": "sim", "quantities": 7}}}',
     "1:56: parameter 'quantities' of device 'boiler' expects a map or a list"),
    ("nano.json", '{"log": {"level": "info"}}\n{"log": {}}',
     "2:1: expected the end of input after the top-level value, got '{'"),
]


class ConfigErrors(NanoTestCase):
    def test_each_malformed_config_names_its_position(self):
        d = tempfile.mkdtemp()
        self.assertGreaterEqual(len(CASES), 15)
        for name, text, want in CASES:
            path = os.path.join(d, name)
            with open(path, "w") as f:
                f.write(text)
            r = subprocess.run([NANOD, "--check-config", path], capture_output=True,
                               text=True, env=nanotest.ENV)
            with self.subTest(text=text):
                self.assertEqual(r.returncode, 1, r.stdout)
                self.assertEqual(r.stderr.count("\n"), 1, r.stderr)
                if want is None:
                    self.assertRegex(r.stderr, r"^%s:\d+:\d+: \S" % path)
                else:
                    self.assertEqual(r.stderr.strip(), "%s:%s" % (path, want))

    def test_yaml_and_json_configs_are_equivalent(self):
        d = tempfile.mkdtemp()
        y = os.path.join(d, "a.yaml")
        j = os.path.join(d, "a.json")
        with open(y, "w") as f:
            f.write("devices:\n  b:\n    driver: sim\n    interval: 50ms\n"
                    "    quantities:\n      t: {wave: constant, value: 4}\n")
        with open(j, "w") as f:
            f.write('{"devices": {"b": {"driver": "sim", "interval": "50ms",'
                    ' "quantities": {"t": {"wave": "constant", "value": 4}}}}}')
        vals = []
        for path in (y, j):
            n = nanotest.Nanod()
            n.config_path = path
            self.daemons.append(n)
            n.start()
            vals.append(n.wait_for(lambda: n.value("sensors/b/t"))["value"])
            vals.append(n.get("/v1/devices/b").json()["settings"])
        self.assertEqual(vals[0], vals[2])
        self.assertEqual(vals[1], vals[3])


if __name__ == "__main__":
    nanotest.main()
