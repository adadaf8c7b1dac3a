"""nanotest - helpers for Nano's integration tests (Python 3 standard library).

Each test starts a real nanod from the build under test (NANO_BUILD, default
build/debug) on a temporary config, state directory and Unix socket, and talks
to it only through its HTTP API on that socket and the nanoctl CLI.

A test file is a unittest module that ends with `nanotest.main()`, which runs
its tests and prints the suite's last line "<file>: N passed, N failed".
"""
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("NANO_BUILD", os.path.join(ROOT, "build", "debug"))
NANOD = os.path.join(BUILD, "nanod")
NANOCTL = os.path.join(BUILD, "nanoctl")
SHARED = os.path.join(os.path.dirname(ROOT), "shared")

# Sanitizer builds print leak reports at exit; keep them failing loudly.
ENV = dict(os.environ)
ENV.setdefault("ASAN_OPTIONS", "detect_leaks=1:halt_on_error=1")


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=10):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.unix_path)
        self.sock = s


class Response:
    def __init__(self, status, body, headers):
        self.status = status
        self.body = body
        self.headers = headers

    def json(self):
        return json.loads(self.body)


class Nanod:
    """A nanod process on a temporary directory."""

    def __init__(self, config=None, config_name="nano.yaml", state_dir=None,
                 extra_args=(), workdir=None):
        self.dir = workdir or tempfile.mkdtemp(prefix="nano-it-")
        self.socket = os.path.join(self.dir, "nano.sock")
        self.state_dir = state_dir or os.path.join(self.dir, "state")
        self.config_path = None
        if config is not None:
            self.config_path = os.path.join(self.dir, config_name)
            self.write_config(config)
        self.extra_args = list(extra_args)
        self.proc = None
        self.log_path = os.path.join(self.dir, "nanod.log")
        self._log = None

    def write_config(self, text):
        with open(self.config_path, "w") as f:
            f.write(text)

    def start(self, wait=True):
        args = [NANOD, "--state-dir", self.state_dir, "--socket", self.socket]
        if self.config_path:
            args += ["--config", self.config_path]
        args += self.extra_args
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT,
                                     env=ENV, cwd=self.dir)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("nanod exited with %d:\n%s" %
                                     (self.proc.returncode, self.log()))
            try:
                if self.get("/v1/status").status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.02)
        raise AssertionError("nanod not ready after %ss:\n%s" % (timeout, self.log()))

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def send_signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, sig=None, timeout=5):
        """Stop nanod; returns (exit code, seconds it took)."""
        # Inside the class body `signal` is the method above, not the
        # module, so the default is resolved here.
        if sig is None:
            sig = signal.SIGTERM
        if not self.proc or self.proc.poll() is not None:
            return (self.proc.returncode if self.proc else None, 0.0)
        t0 = time.monotonic()
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        took = time.monotonic() - t0
        if self._log:
            self._log.close()
            self._log = None
        return rc, took

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- API over the Unix socket --
    def request(self, method, path, body=None, headers=None, timeout=10):
        conn = UnixHTTPConnection(self.socket, timeout=timeout)
        try:
            hdrs = dict(headers or {})
            if body is not None and not isinstance(body, (bytes, str)):
                body = json.dumps(body)
                hdrs.setdefault("Content-Type", "application/json")
            conn.request(method, path, body=body, headers=hdrs)
            r = conn.getresponse()
            data = r.read()
            return Response(r.status, data.decode("utf-8", "replace"), dict(r.getheaders()))
        finally:
            conn.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body=body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def status(self):
        return self.get("/v1/status").json()

    def value(self, topic):
        r = self.get("/v1/value?topic=" + topic.replace("#", "%23").replace("+", "%2B"))
        return r.json() if r.status == 200 else None

    def wait_for(self, pred, timeout=5, what="condition"):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = pred()
            if last:
                return last
            time.sleep(0.02)
        raise AssertionError("timed out waiting for %s (last: %r)\n%s" %
                             (what, last, self.log()[-3000:]))

    def nanoctl(self, *args, input=None, timeout=20, env=None):
        e = dict(ENV)
        e["NANO_SOCKET"] = self.socket
        if env:
            e.update(env)
        return subprocess.run([NANOCTL] + list(args), capture_output=True, text=True,
                              timeout=timeout, env=e, input=input)


def nanoctl(*args, env=None, timeout=20):
    e = dict(ENV)
    if env:
        e.update(env)
    return subprocess.run([NANOCTL] + list(args), capture_output=True, text=True,
                          timeout=timeout, env=e)


class NanoTestCase(unittest.TestCase):
    """Gives each test a fresh nanod via self.start(config)."""

    def setUp(self):
        self.daemons = []

    def tearDown(self):
        for d in self.daemons:
            rc, _ = d.stop()
            # A sanitizer report or a crash at exit fails the test.
            log = d.log()
            d.cleanup()
            if "ERROR: AddressSanitizer" in log or "runtime error:" in log or \
               "ERROR: LeakSanitizer" in log:
                self.fail("sanitizer report from nanod:\n" + log[-4000:])
            if rc not in (0, None):
                self.fail("nanod exited with %s:\n%s" % (rc, log[-4000:]))

    def start(self, config="", **kw):
        d = Nanod(config, **kw)
        self.daemons.append(d)
        return d.start()


class _Result(unittest.TextTestResult):
    def startTest(self, test):
        super().startTest(test)
        self._t0 = time.monotonic()

    def _line(self, test, word):
        self.stream.write("  %-5s %s (%.0f ms)\n" % (word, test._testMethodName,
                          (time.monotonic() - self._t0) * 1000))
        self.stream.flush()

    def addSuccess(self, test):
        unittest.TestResult.addSuccess(self, test)
        self._line(test, "ok")

    def addFailure(self, test, err):
        unittest.TestResult.addFailure(self, test, err)
        self._line(test, "FAIL")

    def addError(self, test, err):
        unittest.TestResult.addError(self, test, err)
        self._line(test, "FAIL")

    def addSkip(self, test, reason):
        unittest.TestResult.addSkip(self, test, reason)
        self.stream.write("  skip  %s: %s\n" % (test._testMethodName, reason))


def main():
    name = os.path.splitext(os.path.basename(sys.argv[0]))[0]
    for exe in (NANOD, NANOCTL):
        if not os.access(exe, os.X_OK):
            print("%s: missing %s (build first)" % (name, exe))
            print("%s: 0 passed, 1 failed" % name)
            sys.exit(1)
    suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules["__main__"])
    runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=0,
                                     resultclass=_Result)
    result = runner.run(suite)
    # Count tests, not subtests: a test with three failing subtests is one
    # failed test.
    failed = len({getattr(t, "test_case", t).id()
                  for t, _ in result.failures + result.errors})
    passed = result.testsRun - failed - len(result.skipped)
    print("%s: %d passed, %d failed" % (name, passed, failed))
    sys.exit(1 if failed else 0)
