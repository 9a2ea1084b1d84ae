# SPDX-License-Identifier: Apache-2.0
"""Run `vigil serve` for end-to-end tests: a private data directory, an ephemeral port on
127.0.0.1, bounded waits, SIGKILL and restart on the same data, the server's RSS, and small HTTP
helpers (standard library only)."""

import base64
import http.client
import json
import os
import signal
import socket
import subprocess
import tempfile
import time

from vigil_e2e import VIGIL_BIN, shared_db

START_TIMEOUT = 30.0


class Server:
    """One `vigil serve` process. Extra settings go in `args` as flags."""

    def __init__(self, data_dir=None, args=(), env=None, users=None, anonymous=False,
                 vulndb=None):
        self.own_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="vigil-serve-")
        self.args = list(args)
        self.env = dict(os.environ)
        self.env.setdefault("VIGIL_CACHE_DIR", os.path.join(self.data_dir, "cache"))
        if env:
            self.env.update(env)
        self.users = users  # {name: password}
        self.anonymous = anonymous
        # the vulnerability database is imported once per test run and shared (read-only)
        self.vulndb = vulndb
        self.proc = None
        self.port = None
        self.log_path = os.path.join(self.data_dir, "serve.log")

    # ---------------------------------------------------------------- lifecycle

    def _users_file(self):
        path = os.path.join(self.data_dir, "test-users")
        lines = []
        for name, pw in (self.users or {}).items():
            r = subprocess.run([VIGIL_BIN, "passwd", "--password-stdin"], input=pw.encode(),
                               capture_output=True, timeout=60)
            if r.returncode != 0:
                raise AssertionError("vigil passwd failed: %s" % r.stderr.decode())
            lines.append("%s:%s" % (name, r.stdout.decode().strip()))
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    def start(self, port=0):
        port_file = os.path.join(self.data_dir, "port")
        if os.path.exists(port_file):
            os.unlink(port_file)
        argv = [VIGIL_BIN, "serve", "--data-dir", self.data_dir,
                "--listen", "127.0.0.1:%d" % port, "--port-file", port_file]
        if self.users:
            argv += ["--users-file", self._users_file()]
        if self.anonymous:
            argv += ["--anonymous"]
        argv += ["--vulndb", self.vulndb or shared_db()]
        argv += self.args
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(argv, env=self.env, stdout=self.log, stderr=self.log,
                                     stdin=subprocess.DEVNULL)
        deadline = time.time() + START_TIMEOUT
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("vigil serve exited with %d:\n%s" % (
                    self.proc.returncode, self.log_tail()))
            try:
                with open(port_file) as f:
                    txt = f.read().strip()
                if txt:
                    self.port = int(txt)
                    break
            except (FileNotFoundError, ValueError):
                pass
            time.sleep(0.02)
        else:
            self.kill()
            raise AssertionError("vigil serve did not start within %ds:\n%s" % (
                START_TIMEOUT, self.log_tail()))
        return self

    def log_tail(self, n=4000):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-n:].decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def stop(self, timeout=20):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("vigil serve did not stop within %ds after SIGTERM" % timeout)
        self.log.close()
        return self.proc.returncode if self.proc else None

    def kill(self):
        """SIGKILL: no chance to clean up."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.close()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def rss_kib(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    @property
    def host(self):
        return "127.0.0.1:%d" % self.port

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # ---------------------------------------------------------------- HTTP

    def request(self, method, path, body=None, headers=None, auth=None, timeout=30):
        """One request on a new connection; returns (status, headers dict lowercased, body)."""
        h = dict(headers or {})
        if auth:
            h["Authorization"] = "Basic " + base64.b64encode(
                ("%s:%s" % auth).encode()).decode()
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            data = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, data
        finally:
            c.close()


def oci_errors(body):
    """The codes of an OCI error body ({"errors":[{"code":...}]})."""
    try:
        doc = json.loads(body)
    except ValueError:
        raise AssertionError("not an OCI error body: %r" % body[:300]) from None
    return [e.get("code") for e in doc.get("errors", [])]


def raw_connect(port, timeout=10):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    return s
