# SPDX-License-Identifier: Apache-2.0
"""The registry with real clients: every test image pushed with skopeo (with --all for the
index, the zstd image, Docker schema 2) and pulled back byte-identical; podman login/push/pull;
docker login + docker manifest inspect; authentication refused without or with wrong
credentials. The expected digests come from the OCI layout the images were built into, never
from vigil."""

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from vigil_e2e import IMAGES, QUICK, images, require_images
from vigil_server import Server

USER, PASSWORD = "alice", "correct horse battery staple"
CMD_TIMEOUT = 300


def layout_manifest(layout, ref):
    """(digest, mediaType) of the ref in an OCI layout's index.json."""
    with open(os.path.join(layout, "index.json")) as f:
        idx = json.load(f)
    for m in idx["manifests"]:
        if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == ref:
            return m["digest"], m["mediaType"]
    raise AssertionError("%s not in %s" % (ref, layout))


def blob_path(layout, digest):
    algo, hexd = digest.split(":", 1)
    return os.path.join(layout, "blobs", algo, hexd)


def sh(argv, env=None, input=None, timeout=CMD_TIMEOUT, check=True):
    e = dict(os.environ)
    if env:
        e.update(env)
    p = subprocess.run(argv, env=e, input=input, capture_output=True, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError("%s -> exit %d\n%s" % (" ".join(argv), p.returncode,
                                                   p.stderr.decode("utf-8", "replace")[-3000:]))
    return p


def unique_refs():
    seen, out = set(), []
    for ref, _ in images():
        if ref not in seen:
            seen.add(ref)
            out.append(ref)
    return out


class RegistryClients(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        require_images()
        cls.tmp = tempfile.mkdtemp(prefix="vigil-e2e-regclients-")
        cls.srv = Server(users={USER: PASSWORD}).start()
        cls.creds = "%s:%s" % (USER, PASSWORD)

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)
        shutil.rmtree(cls.srv.data_dir, ignore_errors=True)

    def dest(self, repo, tag):
        return "docker://%s/%s:%s" % (self.srv.host, repo, tag)

    def push(self, ref, repo, tag, extra=()):
        _, mt = layout_manifest(IMAGES, ref)
        all_ = ["--all"] if mt.endswith("index.v1+json") else []
        sh(["skopeo", "copy", "-q"] + all_ + list(extra) +
           ["--dest-tls-verify=false", "--dest-creds", self.creds,
            "oci:%s:%s" % (IMAGES, ref), self.dest(repo, tag)])

    def remote_raw(self, repo, tag):
        p = sh(["skopeo", "inspect", "--raw", "--tls-verify=false", "--creds", self.creds,
                self.dest(repo, tag)])
        return p.stdout

    def check_pulled_layout(self, layout, want_digest):
        """The pulled layout's manifest has the pushed digest and every blob hashes to its
        name, recursively through an index."""
        got, _ = layout_manifest(layout, "x")
        self.assertEqual(got, want_digest)
        todo = [want_digest]
        while todo:
            d = todo.pop()
            with open(blob_path(layout, d), "rb") as f:
                data = f.read()
            self.assertEqual("sha256:" + hashlib.sha256(data).hexdigest(), d)
            doc = json.loads(data)
            for m in doc.get("manifests", []):
                todo.append(m["digest"])
            for b in [doc.get("config")] + doc.get("layers", []):
                if b:
                    with open(blob_path(layout, b["digest"]), "rb") as f:
                        self.assertEqual("sha256:" + hashlib.sha256(f.read()).hexdigest(),
                                         b["digest"], "blob %s of %s" % (b["digest"], d))

    def test_skopeo_roundtrip_every_image(self):
        for ref in unique_refs():
            with self.subTest(ref=ref):
                want, mt = layout_manifest(IMAGES, ref)
                name, tag = ref.split(":", 1)
                repo = "e2e/" + name
                self.push(ref, repo, tag)
                raw = self.remote_raw(repo, tag)
                self.assertEqual("sha256:" + hashlib.sha256(raw).hexdigest(), want,
                                 "registry manifest bytes differ from the pushed ones")
                with open(blob_path(IMAGES, want), "rb") as f:
                    self.assertEqual(raw, f.read())
                out = os.path.join(self.tmp, "pull-" + name)
                shutil.rmtree(out, ignore_errors=True)
                all_ = ["--all"] if mt.endswith("index.v1+json") else []
                sh(["skopeo", "copy", "-q"] + all_ +
                   ["--src-tls-verify=false", "--src-creds", self.creds,
                    self.dest(repo, tag), "oci:%s:x" % out])
                self.check_pulled_layout(out, want)
                # by digest too
                p = sh(["skopeo", "inspect", "--raw", "--tls-verify=false", "--creds",
                        self.creds, "docker://%s/%s@%s" % (self.srv.host, repo, want)])
                self.assertEqual(p.stdout, raw)

    def test_skopeo_docker_schema2(self):
        """--format v2s2 converts to Docker schema 2; what the registry stores is what skopeo
        sent, and a pull gives the same bytes back."""
        refs = ["alpine-synthetic:3.19.0", "multiarch-synthetic:latest"]
        if not QUICK:
            refs.append("debian:bookworm-minbase")
        for ref in refs:
            with self.subTest(ref=ref):
                name, tag = ref.split(":", 1)
                repo = "v2s2/" + name
                self.push(ref, repo, tag, extra=["--format", "v2s2"])
                raw = self.remote_raw(repo, tag)
                doc = json.loads(raw)
                self.assertIn(doc["mediaType"], (
                    "application/vnd.docker.distribution.manifest.v2+json",
                    "application/vnd.docker.distribution.manifest.list.v2+json"))
                out = os.path.join(self.tmp, "v2s2-" + name)
                shutil.rmtree(out, ignore_errors=True)
                sh(["skopeo", "copy", "-q", "--src-tls-verify=false", "--src-creds",
                    self.creds, self.dest(repo, tag), "dir:%s" % out])
                with open(os.path.join(out, "manifest.json"), "rb") as f:
                    pulled = f.read()
                if doc["mediaType"].endswith("manifest.v2+json"):
                    self.assertEqual(pulled, raw)

    def test_credentials_required(self):
        st, hdr, body = self.srv.request("GET", "/v2/")
        self.assertEqual(st, 401)
        self.assertIn("basic", hdr.get("www-authenticate", "").lower())
        self.assertIn("UNAUTHORIZED", body.decode())
        st, _, _ = self.srv.request("GET", "/v2/", auth=(USER, "wrong"))
        self.assertEqual(st, 401)
        st, _, _ = self.srv.request("GET", "/v2/", auth=("mallory", PASSWORD))
        self.assertEqual(st, 401)
        st, hdr, _ = self.srv.request("GET", "/v2/", auth=(USER, PASSWORD))
        self.assertEqual(st, 200)
        self.assertEqual(hdr.get("docker-distribution-api-version"), "registry/2.0")
        p = sh(["skopeo", "copy", "-q", "--dest-tls-verify=false",
                "oci:%s:alpine-synthetic:3.19.0" % IMAGES, self.dest("noauth/x", "1")],
               check=False, env={"REGISTRY_AUTH_FILE": os.path.join(self.tmp, "none.json")})
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("unauthorized", p.stderr.decode().lower())

    def test_podman_login_push_pull(self):
        root = os.path.join(self.tmp, "podman")
        env = {"REGISTRY_AUTH_FILE": os.path.join(root, "auth.json"),
               "XDG_RUNTIME_DIR": os.path.join(root, "run"),
               "CONTAINERS_STORAGE_CONF": os.path.join(root, "storage.conf")}
        os.makedirs(env["XDG_RUNTIME_DIR"], exist_ok=True)
        with open(env["CONTAINERS_STORAGE_CONF"], "w") as f:
            f.write('[storage]\ndriver = "vfs"\nrunroot = "%s/runroot"\ngraphroot = "%s/graph"\n'
                    % (root, root))
        podman = ["podman", "--root", root + "/graph", "--runroot", root + "/runroot",
                  "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs"]
        sh(podman + ["login", "--tls-verify=false", "-u", USER, "--password-stdin",
                     self.srv.host], env=env, input=PASSWORD.encode())
        ref = "alpine-synthetic:3.19.0"
        sh(podman + ["pull", "-q", "oci:%s:%s" % (IMAGES, ref)], env=env)
        img = sh(podman + ["images", "-q", "--no-trunc"], env=env).stdout.decode().split()[0]
        target = "%s/podman/alpine:pushed" % self.srv.host
        sh(podman + ["push", "-q", "--tls-verify=false", img, "docker://" + target], env=env)
        sh(podman + ["rmi", "-af"], env=env)
        sh(podman + ["pull", "-q", "--tls-verify=false", target], env=env)
        out = sh(podman + ["images", "--format", "{{.Repository}}:{{.Tag}}"], env=env)
        self.assertIn("podman/alpine:pushed", out.stdout.decode())
        # the layers podman pulled back are the ones it pushed (digests match the registry)
        raw = self.remote_raw("podman/alpine", "pushed")
        doc = json.loads(raw)
        self.assertTrue(doc["layers"])
        sh(podman + ["logout", self.srv.host], env=env)
        p = sh(podman + ["pull", "-q", "--tls-verify=false", target], env=env, check=False)
        self.assertNotEqual(p.returncode, 0)

    def test_docker_login_manifest_inspect(self):
        cfg = os.path.join(self.tmp, "docker")
        os.makedirs(cfg, exist_ok=True)
        env = {"DOCKER_CONFIG": cfg}
        self.push("debian-vuln:bookworm-oldpkgs" if not QUICK else "alpine-synthetic:3.19.0",
                  "docker/img", "t1")
        sh(["docker", "login", self.srv.host, "-u", USER, "--password-stdin"], env=env,
           input=PASSWORD.encode())
        p = sh(["docker", "manifest", "inspect", "--insecure", "%s/docker/img:t1" %
                self.srv.host], env=env)
        doc = json.loads(p.stdout)
        raw = json.loads(self.remote_raw("docker/img", "t1"))
        self.assertEqual(doc["config"]["digest"], raw["config"]["digest"])
        self.assertEqual([l["digest"] for l in doc["layers"]],
                         [l["digest"] for l in raw["layers"]])
        sh(["docker", "logout", self.srv.host], env=env)
        p = sh(["docker", "manifest", "inspect", "--insecure", "%s/docker/img:t1" %
                self.srv.host], env=env, check=False)
        self.assertNotEqual(p.returncode, 0)


if __name__ == "__main__":
    unittest.main()
