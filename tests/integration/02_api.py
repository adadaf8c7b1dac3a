"""02_api - the JSON REST API: errors are JSON with the right status, publish
and read back, topics, the SSE stream, devices and drivers."""
import json
import socket
import time

import nanotest
from nanotest import NanoTestCase

CFG = """
devices:
  boiler:
    driver: sim
    interval: 50ms
    quantities:
      temperature: {wave: constant, value: 70, unit: "°C"}
"""


def sse_events(sock_path, path, want, timeout=5):
    """Read `want` data events from an SSE endpoint; returns parsed JSON."""
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(timeout)
    s.connect(sock_path)
    s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path).encode())
    buf = b""
    events = []
    deadline = time.monotonic() + timeout
    while len(events) < want and time.monotonic() < deadline:
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
        for line in buf.split(b"\n"):
            pass
        events = [json.loads(l[5:].strip()) for l in buf.split(b"\n")
                  if l.startswith(b"data:") and l[5:].strip().startswith(b"{\"topic")]
    s.close()
    return buf, events


class Api(NanoTestCase):
    def test_unknown_route_and_method(self):
        d = self.start(CFG)
        r = d.get("/v1/nope")
        self.assertEqual(r.status, 404)
        self.assertEqual(r.json(), {"error": "not_found",
                                    "message": "no route for GET /v1/nope"})
        r = d.request("PUT", "/v1/status")
        self.assertEqual(r.status, 405)
        self.assertEqual(r.json()["error"], "method_not_allowed")
        self.assertIn("GET", r.headers.get("Allow", ""))

    def test_bad_json_bodies(self):
        d = self.start(CFG)
        cases = [
            ('{"topic": "a/b", "value": }', 1, 27),
            ('{"topic": "a/b"\n "value": 1}', 2, 2),
            ('[1, 2', 1, 6),
            ('', None, None),
        ]
        for body, line, col in cases:
            r = d.post("/v1/publish", body, headers={"Content-Type": "application/json"})
            self.assertEqual(r.status, 400, body)
            j = r.json()
            self.assertIn(j["error"], ("bad_json", "bad_request"))
            if line:
                self.assertEqual((j["line"], j["col"]), (line, col), j)
        r = d.post("/v1/publish", {"topic": "a/+/b", "value": 1})
        self.assertEqual(r.status, 400)
        self.assertIn("wildcards", r.json()["message"])
        r = d.post("/v1/publish", {"topic": "a/b", "valeu": 1})
        self.assertEqual(r.status, 400)
        self.assertIn("did you mean 'value'", r.json()["message"])
        r = d.post("/v1/publish", {"topic": "a/b", "value": 1, "quality": "meh"})
        self.assertEqual(r.status, 400)
        # nothing was published by the failures
        self.assertIsNone(d.value("a/b"))

    def test_publish_and_read_every_kind(self):
        d = self.start(CFG)
        r = d.post("/v1/publish", [
            {"topic": "t/num", "value": 21.5, "unit": "°C"},
            {"topic": "t/bool", "value": True},
            {"topic": "t/str", "value": "hello \"there\""},
            {"topic": "t/json", "value": {"a": [1, 2], "b": None}},
            {"topic": "t/bad", "value": 1, "quality": "fault"},
        ])
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json(), {"published": 5})
        self.assertEqual(d.value("t/num")["value"], 21.5)
        self.assertEqual(d.value("t/num")["unit"], "°C")
        self.assertIs(d.value("t/bool")["value"], True)
        self.assertEqual(d.value("t/str")["value"], "hello \"there\"")
        self.assertEqual(d.value("t/json")["value"], {"a": [1, 2], "b": None})
        self.assertEqual(d.value("t/bad")["quality"], "fault")
        topics = [t["topic"] for t in d.get("/v1/topics?filter=t/%23").json()]
        self.assertEqual(topics, ["t/bad", "t/bool", "t/json", "t/num", "t/str"])
        self.assertEqual(d.get("/v1/value?topic=t/none").status, 404)
        self.assertEqual(d.get("/v1/topics?filter=a/%23/b").status, 400)

    def test_stream_delivers_published_messages_in_order(self):
        d = self.start(CFG)
        import threading
        out = {}

        def reader():
            out["buf"], out["events"] = sse_events(d.socket, "/v1/stream?filter=live/%2B", 20)
        th = threading.Thread(target=reader)
        th.start()
        time.sleep(0.3)
        for i in range(20):
            d.post("/v1/publish", {"topic": "live/x", "value": i})
            d.post("/v1/publish", {"topic": "other/x", "value": i})
        th.join(10)
        vals = [e["value"] for e in out["events"]]
        self.assertEqual(vals, list(range(20)))
        self.assertTrue(all(e["topic"] == "live/x" for e in out["events"]))
        self.assertIn(b"text/event-stream", out["buf"])

    def test_status_counts(self):
        d = self.start(CFG)
        d.wait_for(lambda: d.value("sensors/boiler/temperature"))
        s = d.status()
        for key in ("version", "uptime_s", "memory", "bus", "devices", "api"):
            self.assertIn(key, s)
        self.assertGreater(s["memory"]["rss"], 0)
        self.assertGreaterEqual(s["bus"]["topics"], 1)
        self.assertEqual(s["devices"]["instances"], 1)

    def test_device_install_errors(self):
        d = self.start(CFG)
        r = d.post("/v1/devices", {"name": "x", "driver": "nosuch"})
        self.assertEqual(r.status, 400)
        self.assertIn("unknown driver 'nosuch'", r.json()["message"])
        r = d.post("/v1/devices", {"name": "boiler", "driver": "sim",
                                   "params": {"quantities": {"t": {}}}})
        self.assertEqual(r.status, 409)
        r = d.post("/v1/devices", {"name": "y", "driver": "sim",
                                   "params": {"quantities": {"t": {"wave": "sinus"}}}})
        self.assertEqual(r.status, 400)
        self.assertIn("'wave' must be one of", r.json()["message"])
        self.assertEqual(d.get("/v1/devices/y").status, 404)
        self.assertEqual(d.get("/v1/drivers/nosuch").status, 404)
        self.assertEqual(d.delete("/v1/devices/nosuch").status, 404)


if __name__ == "__main__":
    nanotest.main()
