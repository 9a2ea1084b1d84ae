# SPDX-License-Identifier: Apache-2.0
"""The OCI distribution API driven directly over HTTP: chunked, resumed and monolithic uploads,
cross-repository mounts, ranges, pagination, referrers, deletion, and bad input (malformed
digests, digest mismatch, out-of-order Content-Range, oversized and invalid manifests, unknown
blobs and media types, invalid names, slow clients, clients that vanish mid-upload). After every
bad request the server is still up and nothing half-written is visible."""

import hashlib
import json
import os
import shutil
import socket
import time
import unittest

from vigil_server import Server, oci_errors

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


def digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


class RegistryAPI(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(anonymous=True, args=["--idle-timeout", "2s"]).start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()
        shutil.rmtree(cls.srv.data_dir, ignore_errors=True)

    def req(self, method, path, body=None, headers=None):
        return self.srv.request(method, path, body=body, headers=headers)

    def assertAlive(self):
        st, _, _ = self.req("GET", "/v2/")
        self.assertEqual(st, 200, "server no longer answers")

    def start_upload(self, repo):
        st, h, body = self.req("POST", "/v2/%s/blobs/uploads/" % repo)
        self.assertEqual(st, 202, body)
        self.assertIn("location", h)
        self.assertTrue(h.get("docker-upload-uuid"))
        return h["location"]

    @staticmethod
    def path_of(location):
        # Location may be absolute or relative
        if location.startswith("http"):
            location = "/" + location.split("/", 3)[3]
        return location

    def with_query(self, location, q):
        loc = self.path_of(location)
        return loc + ("&" if "?" in loc else "?") + q

    def push_blob(self, repo, data):
        loc = self.start_upload(repo)
        st, h, body = self.req("PUT", self.with_query(loc, "digest=" + digest(data)), body=data,
                               headers={"Content-Type": "application/octet-stream"})
        self.assertEqual(st, 201, body)
        self.assertEqual(h.get("docker-content-digest"), digest(data))
        return digest(data)

    def image(self, repo, tag, layers=(b"layer-a",), extra=None):
        cfg = json.dumps({"architecture": "amd64", "os": "linux",
                          "rootfs": {"type": "layers", "diff_ids": []}}).encode()
        ls = []
        for data in layers:
            ls.append({"mediaType": LAYER, "digest": self.push_blob(repo, data),
                       "size": len(data)})
        m = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
             "config": {"mediaType": OCI_CONFIG, "digest": self.push_blob(repo, cfg),
                        "size": len(cfg)},
             "layers": ls}
        if extra:
            m.update(extra)
        raw = json.dumps(m, indent=1).encode()
        st, h, body = self.req("PUT", "/v2/%s/manifests/%s" % (repo, tag), body=raw,
                               headers={"Content-Type": OCI_MANIFEST})
        self.assertEqual(st, 201, body)
        self.assertEqual(h.get("docker-content-digest"), digest(raw))
        return raw

    # ------------------------------------------------------------------ uploads

    def test_api_version(self):
        st, h, body = self.req("GET", "/v2/")
        self.assertEqual(st, 200)
        self.assertEqual(h.get("docker-distribution-api-version"), "registry/2.0")

    def test_monolithic_post(self):
        data = os.urandom(100000)
        st, h, body = self.req("POST", "/v2/mono/app/blobs/uploads/?digest=" + digest(data),
                               body=data, headers={"Content-Type": "application/octet-stream"})
        self.assertEqual(st, 201, body)
        st, h, body = self.req("GET", "/v2/mono/app/blobs/" + digest(data))
        self.assertEqual(st, 200)
        self.assertEqual(body, data)
        self.assertEqual(h.get("docker-content-digest"), digest(data))

    def test_chunked_upload(self):
        data = os.urandom(3 * 1024 * 1024 + 17)
        loc = self.start_upload("chunk/app")
        chunks = [data[:1000000], data[1000000:2500000], data[2500000:]]
        off = 0
        for c in chunks:
            st, h, body = self.req("PATCH", self.path_of(loc), body=c, headers={
                "Content-Type": "application/octet-stream",
                "Content-Range": "%d-%d" % (off, off + len(c) - 1)})
            self.assertEqual(st, 202, body)
            off += len(c)
            self.assertEqual(h.get("range"), "0-%d" % (off - 1))
            loc = h["location"]
        st, h, body = self.req("PUT", self.with_query(loc, "digest=" + digest(data)))
        self.assertEqual(st, 201, body)
        st, h, body = self.req("HEAD", "/v2/chunk/app/blobs/" + digest(data))
        self.assertEqual(st, 200)
        self.assertEqual(int(h["content-length"]), len(data))
        st, h, body = self.req("GET", "/v2/chunk/app/blobs/" + digest(data))
        self.assertEqual(body, data)

    def test_resumed_upload(self):
        """A client that lost track asks for the upload's status and continues from there;
        the final chunk may come with the PUT."""
        data = os.urandom(500000)
        loc = self.start_upload("resume/app")
        st, h, _ = self.req("PATCH", self.path_of(loc), body=data[:200000],
                            headers={"Content-Range": "0-199999",
                                     "Content-Type": "application/octet-stream"})
        self.assertEqual(st, 202)
        st, h, _ = self.req("GET", self.path_of(loc))
        self.assertEqual(st, 204)
        self.assertEqual(h.get("range"), "0-199999")
        start = int(h["range"].split("-")[1]) + 1
        st, h, _ = self.req("PATCH", self.path_of(h.get("location", loc)),
                            body=data[start:400000],
                            headers={"Content-Range": "%d-%d" % (start, 399999),
                                     "Content-Type": "application/octet-stream"})
        self.assertEqual(st, 202)
        st, h, body = self.req("PUT", self.with_query(h["location"], "digest=" + digest(data)),
                               body=data[400000:],
                               headers={"Content-Type": "application/octet-stream"})
        self.assertEqual(st, 201, body)
        st, _, body = self.req("GET", "/v2/resume/app/blobs/" + digest(data))
        self.assertEqual(body, data)

    def test_upload_cancel(self):
        loc = self.start_upload("cancel/app")
        self.req("PATCH", self.path_of(loc), body=b"x" * 1000,
                 headers={"Content-Type": "application/octet-stream"})
        st, _, _ = self.req("DELETE", self.path_of(loc))
        self.assertEqual(st, 204)
        st, _, body = self.req("GET", self.path_of(loc))
        self.assertEqual(st, 404)
        self.assertIn("BLOB_UPLOAD_UNKNOWN", oci_errors(body))

    def test_cross_repo_mount(self):
        data = os.urandom(70000)
        d = self.push_blob("mount/src", data)
        st, h, body = self.req("POST", "/v2/mount/dst/blobs/uploads/?mount=%s&from=%s" % (
            d, "mount%2Fsrc"))
        self.assertEqual(st, 201, body)
        self.assertEqual(h.get("docker-content-digest"), d)
        st, _, body = self.req("GET", "/v2/mount/dst/blobs/" + d)
        self.assertEqual(body, data)
        # from a repository that does not have it: an ordinary upload session instead
        other = digest(b"never pushed anywhere")
        st, h, _ = self.req("POST", "/v2/mount/dst2/blobs/uploads/?mount=%s&from=mount%%2Fsrc"
                            % other)
        self.assertEqual(st, 202)
        # a blob is visible only in the repositories it was pushed or mounted to
        st, _, body = self.req("HEAD", "/v2/mount/elsewhere/blobs/" + d)
        self.assertEqual(st, 404)

    def test_range_get(self):
        data = bytes(range(256)) * 40
        d = self.push_blob("range/app", data)
        st, h, body = self.req("GET", "/v2/range/app/blobs/" + d, headers={"Range": "bytes=10-99"})
        self.assertEqual(st, 206)
        self.assertEqual(body, data[10:100])
        self.assertEqual(h.get("content-range"), "bytes 10-99/%d" % len(data))
        st, h, body = self.req("GET", "/v2/range/app/blobs/" + d,
                               headers={"Range": "bytes=%d-" % (len(data) + 5)})
        self.assertEqual(st, 416)

    # ------------------------------------------------------------------ manifests

    def test_manifest_by_tag_and_digest_and_delete(self):
        raw = self.image("man/app", "v1")
        for ref in ("v1", digest(raw)):
            st, h, body = self.req("GET", "/v2/man/app/manifests/" + ref,
                                   headers={"Accept": OCI_MANIFEST})
            self.assertEqual(st, 200)
            self.assertEqual(body, raw, "manifest not byte-exact")
            self.assertEqual(h.get("content-type"), OCI_MANIFEST)
            self.assertEqual(h.get("docker-content-digest"), digest(raw))
            st, h, body = self.req("HEAD", "/v2/man/app/manifests/" + ref)
            self.assertEqual(st, 200)
            self.assertEqual(int(h["content-length"]), len(raw))
        st, _, _ = self.req("DELETE", "/v2/man/app/manifests/" + digest(raw))
        self.assertEqual(st, 202)
        st, _, body = self.req("GET", "/v2/man/app/manifests/v1")
        self.assertEqual(st, 404)
        self.assertIn("MANIFEST_UNKNOWN", oci_errors(body))

    def test_tags_and_catalog_pagination(self):
        for t in ("a", "b", "c", "d", "e"):
            self.image("page/app", t)
        st, h, body = self.req("GET", "/v2/page/app/tags/list?n=2")
        self.assertEqual(st, 200)
        self.assertEqual(json.loads(body), {"name": "page/app", "tags": ["a", "b"]})
        self.assertIn("rel=\"next\"", h.get("link", ""))
        self.assertIn("last=b", h["link"])
        st, h, body = self.req("GET", "/v2/page/app/tags/list?n=2&last=b")
        self.assertEqual(json.loads(body)["tags"], ["c", "d"])
        st, h, body = self.req("GET", "/v2/page/app/tags/list?n=2&last=d")
        self.assertEqual(json.loads(body)["tags"], ["e"])
        self.assertNotIn("link", h)
        self.image("page/zz", "x")
        st, h, body = self.req("GET", "/v2/_catalog?n=1&last=page/app")
        self.assertEqual(st, 200)
        repos = json.loads(body)["repositories"]
        self.assertEqual(len(repos), 1)
        self.assertGreater(repos[0], "page/app")

    def test_index_and_referrers(self):
        raw = self.image("ref/app", "base")
        sub = {"mediaType": OCI_MANIFEST, "digest": digest(raw), "size": len(raw)}
        art = self.image("ref/app", "sig", layers=(b"signature",),
                         extra={"artifactType": "application/vnd.example.sig",
                                "subject": sub})
        st, h, body = self.req("GET", "/v2/ref/app/referrers/" + digest(raw))
        self.assertEqual(st, 200)
        doc = json.loads(body)
        self.assertEqual(doc["mediaType"], OCI_INDEX)
        self.assertEqual([m["digest"] for m in doc["manifests"]], [digest(art)])
        self.assertEqual(doc["manifests"][0].get("artifactType"), "application/vnd.example.sig")
        idx = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX,
                          "manifests": [dict(sub, platform={"architecture": "amd64",
                                                            "os": "linux"})]}).encode()
        st, h, body = self.req("PUT", "/v2/ref/app/manifests/multi", body=idx,
                               headers={"Content-Type": OCI_INDEX})
        self.assertEqual(st, 201, body)

    # ------------------------------------------------------------------ bad input

    def test_bad_digests(self):
        for bad in ("sha256:xyz", "md5:abcd", "sha256:" + "A" * 64, "sha256:" + "0" * 63,
                    "nodigest"):
            st, _, body = self.req("HEAD", "/v2/bad/app/blobs/" + bad)
            self.assertIn(st, (400, 404), bad)
            loc = self.start_upload("bad/app")
            st, _, body = self.req("PUT", self.with_query(loc, "digest=" + bad), body=b"abc",
                                   headers={"Content-Type": "application/octet-stream"})
            self.assertEqual(st, 400, bad)
            self.assertIn("DIGEST_INVALID", oci_errors(body), bad)
        self.assertAlive()

    def test_digest_mismatch_leaves_nothing(self):
        data = b"the real content"
        wrong = digest(b"something else")
        loc = self.start_upload("mismatch/app")
        st, _, body = self.req("PUT", self.with_query(loc, "digest=" + wrong), body=data,
                               headers={"Content-Type": "application/octet-stream"})
        self.assertEqual(st, 400)
        self.assertIn("DIGEST_INVALID", oci_errors(body))
        for d in (wrong, digest(data)):
            st, _, _ = self.req("HEAD", "/v2/mismatch/app/blobs/" + d)
            self.assertEqual(st, 404)

    def test_content_range_must_follow_offset(self):
        loc = self.start_upload("crange/app")
        st, h, _ = self.req("PATCH", self.path_of(loc), body=b"a" * 100,
                            headers={"Content-Range": "0-99",
                                     "Content-Type": "application/octet-stream"})
        self.assertEqual(st, 202)
        st, h, body = self.req("PATCH", self.path_of(h["location"]), body=b"b" * 100,
                               headers={"Content-Range": "150-249",
                                        "Content-Type": "application/octet-stream"})
        self.assertEqual(st, 416, body)
        st, h, _ = self.req("GET", self.path_of(loc))
        self.assertEqual(h.get("range"), "0-99")

    def test_bad_manifests(self):
        repo = "badman/app"
        good = self.image(repo, "ok")
        doc = json.loads(good)
        cases = []
        # oversized: announced with Expect: 100-continue, the server answers before the body
        big = json.dumps(dict(doc, annotations={"pad": "x" * (4 * 1024 * 1024)})).encode()
        s = socket.create_connection(("127.0.0.1", self.srv.port), timeout=10)
        s.sendall(("PUT /v2/%s/manifests/big HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\n"
                   "Content-Length: %d\r\nExpect: 100-continue\r\n\r\n"
                   % (repo, OCI_MANIFEST, len(big))).encode())
        resp = b""
        while b"\r\n\r\n" not in resp:
            chunk = s.recv(4096)
            if not chunk:
                break
            resp += chunk
        s.close()
        self.assertTrue(resp.startswith(b"HTTP/1.1 413") or resp.startswith(b"HTTP/1.1 400"),
                        resp[:200])
        st, _, _ = self.req("GET", "/v2/%s/manifests/big" % repo)
        self.assertEqual(st, 404)
        # just over the cap without Expect: refused too (the server may close early)
        try:
            st, _, rb = self.req("PUT", "/v2/%s/manifests/big" % repo, body=big,
                                 headers={"Content-Type": OCI_MANIFEST})
            self.assertIn(st, (400, 413))
        except (BrokenPipeError, ConnectionResetError):
            pass
        cases.append(("not json", b"{\"schemaVersion\": 2,", OCI_MANIFEST, ("MANIFEST_INVALID",)))
        unknown = json.loads(good)
        unknown["layers"][0]["digest"] = digest(b"never uploaded")
        cases.append(("unknown blob", json.dumps(unknown).encode(), OCI_MANIFEST,
                      ("MANIFEST_BLOB_UNKNOWN",)))
        cases.append(("unknown media type", good, "application/x-not-a-manifest",
                      ("MANIFEST_INVALID", "UNSUPPORTED")))
        wrongmt = json.loads(good)
        wrongmt["mediaType"] = OCI_INDEX
        cases.append(("media type mismatch", json.dumps(wrongmt).encode(), OCI_MANIFEST,
                      ("MANIFEST_INVALID",)))
        for name, body, ct, codes in cases:
            with self.subTest(case=name):
                st, _, rb = self.req("PUT", "/v2/%s/manifests/%s" % (repo, "bad"), body=body,
                                     headers={"Content-Type": ct})
                self.assertIn(st, (400, 404, 413, 415), rb)
                self.assertTrue(set(oci_errors(rb)) & set(codes), (name, rb[:300]))
                st, _, _ = self.req("GET", "/v2/%s/manifests/bad" % repo)
                self.assertEqual(st, 404, "%s: a refused manifest became visible" % name)
        self.assertAlive()

    def test_invalid_names(self):
        for name in ("Upper/app", "a/../b", "a//b", "-lead", "x" * 256, "a/b/"):
            with self.subTest(name=name):
                st, _, body = self.req("POST", "/v2/%s/blobs/uploads/" % name)
                self.assertIn(st, (400, 404), name)
                self.assertTrue(set(oci_errors(body)) & {"NAME_INVALID", "NAME_UNKNOWN"}, body)

    def test_slowloris_does_not_block_others(self):
        """100 clients trickle header bytes (each within the idle timeout, so none is idle);
        ordinary requests are still served meanwhile, and once the trickling stops the idle
        timeout closes every one of them."""
        slow = []
        for _ in range(100):
            s = socket.create_connection(("127.0.0.1", self.srv.port), timeout=10)
            s.sendall(b"GET /v2/ HTTP/1.1\r\nHost: x\r\n")
            slow.append(s)
        for _ in range(6):
            for s in slow:
                try:
                    s.sendall(b"X")
                except OSError:
                    pass
            t0 = time.time()
            self.assertAlive()
            self.assertLess(time.time() - t0, 5, "ordinary request starved by slow clients")
            time.sleep(0.5)
        # now silent: each must be closed by the idle timeout (2 s) within a bounded time
        deadline = time.time() + 15
        for s in slow:
            s.settimeout(max(0.1, deadline - time.time()))
            try:
                data = s.recv(1000)
            except ConnectionResetError:
                data = b""
            except socket.timeout:
                self.fail("a silent slow client was not disconnected")
            self.assertFalse(data.startswith(b"HTTP/1.1 200"))
            s.close()
        self.assertAlive()

    def test_idle_client_cut_off(self):
        s = socket.create_connection(("127.0.0.1", self.srv.port), timeout=10)
        s.sendall(b"GET /v2/ HTTP/1.1\r\nHost: x\r\n")  # and then nothing
        s.settimeout(10)
        t0 = time.time()
        try:
            data = s.recv(100)
        except ConnectionResetError:
            data = b""
        self.assertLess(time.time() - t0, 9, "idle connection not closed")
        self.assertFalse(data.startswith(b"HTTP/1.1 200"))
        s.close()
        self.assertAlive()

    def test_disconnect_mid_upload(self):
        loc = self.path_of(self.start_upload("gone/app"))
        data = os.urandom(100000)
        s = socket.create_connection(("127.0.0.1", self.srv.port), timeout=10)
        s.sendall(("PATCH %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
                   "Content-Length: 10000000\r\n\r\n" % loc).encode() + data)
        s.close()
        time.sleep(0.3)
        self.assertAlive()
        # the session either kept what arrived or nothing; never a visible blob
        st, h, _ = self.req("GET", loc)
        self.assertIn(st, (204, 404))
        st, _, _ = self.req("HEAD", "/v2/gone/app/blobs/" + digest(data))
        self.assertEqual(st, 404)
        # a complete upload on the same session still works when it survived
        if st == 204 and h.get("range"):
            pass

    def test_garbage_requests(self):
        for raw in (b"BLAH\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n", b"\x00\x01\x02\r\n\r\n",
                    b"GET /v2/ HTTP/1.1\r\nHost: x\r\n" + b"X-Big: " + b"a" * 200000 + b"\r\n\r\n"):
            s = socket.create_connection(("127.0.0.1", self.srv.port), timeout=10)
            try:
                s.sendall(raw)
                s.recv(1000)
            except (ConnectionResetError, BrokenPipeError, socket.timeout):
                pass
            s.close()
        self.assertAlive()


if __name__ == "__main__":
    unittest.main()
