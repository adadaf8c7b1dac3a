"""09_webhook - services' webhook() against a real HTTP server started by the
test: many calls over one kept-alive TCP connection, a stalled server hits
the configured timeout and is counted, and the loop stays responsive (API
answers and device readings keep their pace) while the server stalls."""
import http.server
import json
import socketserver
import threading
import time

import nanotest
from nanotest import NanoTestCase


class Hook:
    def __init__(self):
        self.calls = []
        self.connections = 0
        self.stall = 0.0
        self.lock = threading.Lock()
        hook = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                super().setup()
                with hook.lock:
                    hook.connections += 1

            def do_POST(self):
                n = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(n)
                if hook.stall:
                    time.sleep(hook.stall)
                with hook.lock:
                    hook.calls.append((self.path, self.headers.get("Content-Type"),
                                       body.decode()))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *a):
                pass

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def config(port):
    return """
webhooks: {connect_timeout: 300ms, timeout: 400ms, retries: 0}
devices:
  ticker:
    driver: sim
    interval: 20ms
    quantities: {t: {wave: ramp, min: 0, max: 1000, period: 1h}}
services:
  hook:
    input: events/+
    rule: value > 0
    action: 'webhook("http://127.0.0.1:%d/hook/{1}", {"v": value, "topic": "{topic}"})'
""" % port


def metric(d, name):
    return d.get("/v1/metrics").json().get(name, 0)


class Webhook(NanoTestCase):
    def setUp(self):
        super().setUp()
        self.hook = Hook()

    def tearDown(self):
        self.hook.close()
        super().tearDown()

    def test_calls_reuse_one_connection(self):
        d = self.start(config(self.hook.port))
        for i in range(30):
            d.post("/v1/publish", {"topic": "events/e%d" % i, "value": 1})
            # the next call starts once nanod has the answer to this one, so
            # the connection is back in the pool (else a second one is right)
            d.wait_for(lambda: metric(d, "nano_rules_webhook_ok_total") == i + 1,
                       what="call %d answered" % i)
        self.assertEqual(len(self.hook.calls), 30)
        self.assertEqual(self.hook.connections, 1)
        path, ctype, body = self.hook.calls[7]
        self.assertEqual(path, "/hook/e7")
        self.assertEqual(ctype, "application/json")
        self.assertEqual(json.loads(body), {"v": 1, "topic": "events/e7"})
        d.wait_for(lambda: metric(d, "nano_webhook_reused") >= 29, timeout=3)
        self.assertEqual(metric(d, "nano_webhook_connects"), 1)

    def test_stalled_server_times_out_and_loop_stays_responsive(self):
        d = self.start(config(self.hook.port))
        d.post("/v1/publish", {"topic": "events/warm", "value": 1})
        d.wait_for(lambda: len(self.hook.calls) == 1)
        self.hook.stall = 2.0                       # longer than timeout: 400ms
        t_before = d.value("sensors/ticker/t")["ts"]
        t0 = time.monotonic()
        for i in range(5):
            d.post("/v1/publish", {"topic": "events/s%d" % i, "value": 1})
        # While five calls hang on the server, the API answers at once and the
        # 20 ms device keeps sampling.
        worst = 0.0
        readings = set()
        while time.monotonic() - t0 < 0.35:
            a = time.monotonic()
            readings.add(d.value("sensors/ticker/t")["ts"])
            worst = max(worst, time.monotonic() - a)
            time.sleep(0.01)
        self.assertLess(worst, 0.1, "an API call took %.0f ms" % (worst * 1000))
        self.assertGreaterEqual(len(readings - {t_before}), 8)
        d.wait_for(lambda: metric(d, "nano_rules_webhook_failures_total") == 5,
                   timeout=3, what="5 timeouts")
        self.assertLess(time.monotonic() - t0, 1.5)  # 400 ms deadline, not 2 s
        self.assertIn("webhook failed", d.log())
        self.hook.stall = 0
        d.post("/v1/publish", {"topic": "events/after", "value": 1})
        d.wait_for(lambda: any(c[0] == "/hook/after" for c in self.hook.calls),
                   what="a call after the stall")


if __name__ == "__main__":
    nanotest.main()
