# SPDX-License-Identifier: Apache-2.0
"""Durability and load of the registry over real HTTP.

- SIGKILL in the middle of concurrent pushes, then a restart on the same data: every blob and
  manifest the server acknowledged (201) is there byte for byte, no blob that was not
  acknowledged is served with wrong content, and every file in the blob store hashes to its name.
- 64 concurrent clients pushing and pulling for a bounded time: no errors, and the server's
  resident memory stays within a stated bound (it may grow while warming up, not afterwards)."""

import hashlib
import http.client
import json
import os
import random
import shutil
import threading
import time
import unittest

from vigil_e2e import QUICK
from vigil_server import Server

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Client:
    """A keep-alive HTTP client for one worker thread."""

    def __init__(self, port):
        self.port = port
        self.c = None

    def req(self, method, path, body=None, headers=None):
        for attempt in (0, 1):
            if self.c is None:
                self.c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                self.c.request(method, path, body=body, headers=headers or {})
                r = self.c.getresponse()
                data = r.read()
                if r.getheader("connection", "").lower() == "close":
                    self.c.close()
                    self.c = None
                return r.status, r, data
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.c.close()
                self.c = None
                if attempt or method not in ("GET", "HEAD"):
                    raise
        raise AssertionError("unreachable")

    def close(self):
        if self.c:
            self.c.close()

    def push_blob(self, repo, data):
        st, r, body = self.req("POST", "/v2/%s/blobs/uploads/" % repo)
        if st != 202:
            raise AssertionError("POST upload: %d %r" % (st, body[:200]))
        loc = r.getheader("location")
        if loc.startswith("http"):
            loc = "/" + loc.split("/", 3)[3]
        st, r, body = self.req("PATCH", loc, body=data,
                               headers={"Content-Type": "application/octet-stream"})
        if st != 202:
            raise AssertionError("PATCH: %d %r" % (st, body[:200]))
        loc = r.getheader("location")
        if loc.startswith("http"):
            loc = "/" + loc.split("/", 3)[3]
        sep = "&" if "?" in loc else "?"
        st, r, body = self.req("PUT", loc + sep + "digest=" + digest(data))
        if st != 201:
            raise AssertionError("PUT: %d %r" % (st, body[:200]))
        return digest(data)

    def push_manifest(self, repo, tag, cfg, layers):
        m = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
             "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                        "digest": digest(cfg), "size": len(cfg)},
             "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                         "digest": digest(l), "size": len(l)} for l in layers]}
        raw = json.dumps(m).encode()
        st, r, body = self.req("PUT", "/v2/%s/manifests/%s" % (repo, tag), body=raw,
                               headers={"Content-Type": OCI_MANIFEST})
        if st != 201:
            raise AssertionError("manifest PUT: %d %r" % (st, body[:200]))
        return raw


class Durability(unittest.TestCase):
    def test_sigkill_mid_push(self):
        srv = Server(anonymous=True).start()
        acked_blobs = {}      # digest -> bytes (201 received)
        attempted = {}        # digest -> bytes (sent, maybe not acknowledged)
        acked_manifests = {}  # (repo, tag) -> raw
        lock = threading.Lock()
        stop = threading.Event()

        def worker(n):
            cl = Client(srv.port)
            rnd = random.Random(n)
            i = 0
            try:
                while not stop.is_set():
                    repo = "dur/w%d" % n
                    layers = [rnd.randbytes(rnd.randint(1, 4) * 1024 * 1024) for _ in range(2)]
                    cfg = json.dumps({"n": n, "i": i}).encode()
                    for b in layers + [cfg]:
                        with lock:
                            attempted[digest(b)] = b
                        cl.push_blob(repo, b)
                        with lock:
                            acked_blobs[digest(b)] = b
                    raw = cl.push_manifest(repo, "t%d" % i, cfg, layers)
                    with lock:
                        acked_manifests[(repo, "t%d" % i)] = raw
                    i += 1
            except Exception:
                pass  # the server died under us: expected
            finally:
                cl.close()

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
        for t in threads:
            t.start()
        time.sleep(2.5 if QUICK else 4.0)
        srv.kill()
        stop.set()
        for t in threads:
            t.join(30)
        self.assertGreater(len(acked_manifests), 0, "nothing was pushed before the kill")

        srv2 = Server(data_dir=srv.data_dir, anonymous=True).start()
        try:
            cl = Client(srv2.port)
            for (repo, tag), raw in acked_manifests.items():
                st, r, body = cl.req("GET", "/v2/%s/manifests/%s" % (repo, tag),
                                     headers={"Accept": OCI_MANIFEST})
                self.assertEqual(st, 200, "acknowledged manifest %s:%s lost" % (repo, tag))
                self.assertEqual(body, raw)
            for d, data in acked_blobs.items():
                repo = None
                st, r, body = cl.req("GET", "/v2/_catalog")
                repos = json.loads(body)["repositories"]
                found = False
                for repo in repos:
                    st, r, body = cl.req("GET", "/v2/%s/blobs/%s" % (repo, d))
                    if st == 200:
                        self.assertEqual(body, data, "blob %s served with wrong content" % d)
                        found = True
                        break
                self.assertTrue(found, "acknowledged blob %s lost" % d)
            for d, data in attempted.items():
                if d in acked_blobs:
                    continue
                for repo in repos:
                    st, r, body = cl.req("GET", "/v2/%s/blobs/%s" % (repo, d))
                    if st == 200:
                        self.assertEqual(body, data, "partial blob %s served" % d)
            cl.close()
            # every stored blob file hashes to its name
            root = os.path.join(srv.data_dir, "blobs", "sha256")
            n = 0
            for dirpath, _, files in os.walk(root):
                for fn in files:
                    with open(os.path.join(dirpath, fn), "rb") as f:
                        h = hashlib.sha256(f.read()).hexdigest()
                    self.assertEqual(h, fn, "blob file %s has other content" % fn)
                    n += 1
            self.assertGreaterEqual(n, len(acked_blobs))
        finally:
            srv2.stop()
            shutil.rmtree(srv.data_dir, ignore_errors=True)


class Load(unittest.TestCase):
    CLIENTS = 64
    SECONDS = 8 if QUICK else 30
    # stated bound: after the first quarter of the run (warm-up), resident memory may not grow
    # by more than this; and it never exceeds the absolute cap
    GROWTH_KIB = 48 * 1024
    CAP_KIB = 512 * 1024

    def test_64_clients(self):
        srv = Server(anonymous=True, args=["--threads", "8"]).start()
        errors = []
        counts = [0] * self.CLIENTS
        stop = threading.Event()

        def worker(n):
            cl = Client(srv.port)
            rnd = random.Random(1000 + n)
            mine = []
            i = 0
            try:
                while not stop.is_set():
                    repo = "load/c%d" % (n % 16)
                    if mine and rnd.random() < 0.5:
                        d, data = rnd.choice(mine)
                        st, r, body = cl.req("GET", "/v2/%s/blobs/%s" % (repo, d))
                        if st != 200 or body != data:
                            errors.append("GET %s: %d" % (d, st))
                    else:
                        data = rnd.randbytes(rnd.randint(1, 256) * 1024)
                        cl.push_blob(repo, data)
                        cfg = json.dumps({"c": n, "i": i}).encode()
                        cl.push_blob(repo, cfg)
                        cl.push_manifest(repo, "c%d-%d" % (n, i), cfg, [data])
                        st, r, body = cl.req("GET", "/v2/%s/manifests/c%d-%d" % (repo, n, i),
                                             headers={"Accept": OCI_MANIFEST})
                        if st != 200:
                            errors.append("manifest GET %d" % st)
                        mine.append((digest(data), data))
                        if len(mine) > 8:
                            mine.pop(0)
                        i += 1
                    counts[n] += 1
            except Exception as e:
                errors.append("client %d: %r" % (n, e))
            finally:
                cl.close()

        samples = []
        threads = [threading.Thread(target=worker, args=(n,)) for n in range(self.CLIENTS)]
        t0 = time.time()
        for t in threads:
            t.start()
        while time.time() - t0 < self.SECONDS:
            samples.append((time.time() - t0, srv.rss_kib()))
            time.sleep(0.25)
        stop.set()
        for t in threads:
            t.join(60)
        alive = srv.alive()
        srv.stop()
        shutil.rmtree(srv.data_dir, ignore_errors=True)
        self.assertTrue(alive)
        self.assertEqual(errors[:5], [], "%d errors" % len(errors))
        self.assertTrue(all(c > 0 for c in counts), "a client made no progress")
        warm = [kib for t, kib in samples if t <= self.SECONDS / 4]
        late = [kib for t, kib in samples if t > self.SECONDS / 4]
        peak = max(kib for _, kib in samples)
        print("\nload: %d clients, %ds, %d operations, RSS warm-up max %d KiB, later max %d KiB"
              % (self.CLIENTS, self.SECONDS, sum(counts), max(warm), max(late)))
        self.assertLess(max(late) - max(warm), self.GROWTH_KIB, "memory keeps growing")
        self.assertLess(peak, self.CAP_KIB)


if __name__ == "__main__":
    unittest.main()
