# SPDX-License-Identifier: Apache-2.0
"""End-to-end tests of vigil's image sources: `vigil image inspect` and `vigil image fetch` on
oci: layouts, docker-archive: tarballs (made by skopeo and by hand in the legacy and Docker 25
forms) and docker:// registries (the CNCF reference registry, behind a Basic or Bearer-token
auth proxy from helpers/auth_proxy.py), plus the bad cases: altered, truncated and missing
blobs, unknown refs, missing platforms, schema 1 manifests.

Expected values come from the OCI layout's own JSON (read here with json/hashlib), from skopeo
and from the registry, never from vigil.

Env: VIGIL_BIN (the binary), VIGIL_TEST_IMAGES (the OCI layout of make-test-images: the tests
are skipped, loudly, only when it is unset), VIGIL_REFERENCE_REGISTRY (default
../shared/tools/reference-registry), SKOPEO (default skopeo).
Run: VIGIL_BIN=... VIGIL_TEST_IMAGES=... python3 -m unittest discover -s tests/e2e -p 'test_image_sources.py'
"""

import gzip
import hashlib
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import threading
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from vigil_e2e import REPO, run, require_images  # noqa: E402
from helpers.auth_proxy import AuthProxy  # noqa: E402

IMAGES = os.environ.get("VIGIL_TEST_IMAGES", "")
REF_REGISTRY = os.environ.get("VIGIL_REFERENCE_REGISTRY",
                              os.path.join(REPO, "..", "shared", "tools", "reference-registry"))
SKOPEO = os.environ.get("SKOPEO", "skopeo")
TOOL_TIMEOUT = 180
VIGIL_TIMEOUT = 300

MT_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MT_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MT_DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MT_DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar"
MT_DOCKER_LAYER_GZ = "application/vnd.docker.image.rootfs.diff.tar.gzip"


def sha256(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


# ------------------------------------------------------------------ reading the layout (oracle)

def blob_path(layout, digest):
    return os.path.join(layout, "blobs", "sha256", digest.split(":", 1)[1])


def read_blob(layout, digest):
    with open(blob_path(layout, digest), "rb") as f:
        return f.read()


def read_json_blob(layout, digest):
    return json.loads(read_blob(layout, digest))


def index_entries(layout):
    with open(os.path.join(layout, "index.json")) as f:
        return json.load(f)["manifests"]


def entry_for(layout, ref):
    for e in index_entries(layout):
        if e.get("annotations", {}).get("org.opencontainers.image.ref.name") == ref:
            return e
    raise AssertionError("%s not in %s" % (ref, layout))


def expected_image(layout, ref, platform=("linux", "amd64", None)):
    """What vigil should report for oci:layout:ref, computed from the layout's JSON."""
    e = entry_for(layout, ref)
    index_digest = None
    digest = e["digest"]
    doc = read_json_blob(layout, digest)
    if "manifests" in doc:
        index_digest = digest
        os_, arch, variant = platform
        chosen = None
        for m in doc["manifests"]:
            p = m.get("platform", {})
            v = p.get("variant") or ("v8" if p.get("architecture") == "arm64" else None)
            want_v = variant or ("v8" if arch == "arm64" else None)
            if p.get("os") == os_ and p.get("architecture") == arch and (
                    want_v is None or v == want_v):
                chosen = m
                break
        assert chosen, "no %s in %s" % (platform, ref)
        digest = chosen["digest"]
        doc = read_json_blob(layout, digest)
    cfg = read_json_blob(layout, doc["config"]["digest"])
    return {
        "manifestDigest": digest,
        "indexDigest": index_digest,
        "mediaType": doc.get("mediaType", MT_OCI_MANIFEST),
        "configDigest": doc["config"]["digest"],
        "os": cfg.get("os"),
        "architecture": cfg.get("architecture"),
        "variant": cfg.get("variant"),
        "layers": [{"digest": l["digest"], "mediaType": l["mediaType"], "size": l["size"],
                    "diffID": cfg["rootfs"]["diff_ids"][i]}
                   for i, l in enumerate(doc["layers"])],
    }


def copy_image(src, ref, dst, new_ref=None):
    """Copy one image (and, for an index, all its children) into a fresh layout by value
    (never hard links: tests alter the copies)."""
    e = json.loads(json.dumps(entry_for(src, ref)))
    if new_ref:
        e["annotations"]["org.opencontainers.image.ref.name"] = new_ref
    os.makedirs(os.path.join(dst, "blobs", "sha256"), exist_ok=True)
    todo = [e["digest"]]
    while todo:
        d = todo.pop()
        shutil.copyfile(blob_path(src, d), blob_path(dst, d))
        doc = json.loads(read_blob(src, d))
        if "manifests" in doc:
            todo += [m["digest"] for m in doc["manifests"]]
        else:
            for b in [doc["config"]] + doc["layers"]:
                shutil.copyfile(blob_path(src, b["digest"]), blob_path(dst, b["digest"]))
    with open(os.path.join(dst, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    with open(os.path.join(dst, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [e]}, f)
    return e


def flip_byte(path, offset):
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ 0x01]))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def tool(argv, timeout=TOOL_TIMEOUT):
    try:
        p = subprocess.run(argv, capture_output=True, timeout=timeout)
    except FileNotFoundError:
        raise AssertionError("%s is not installed (needed by these tests)" % argv[0]) from None
    except subprocess.TimeoutExpired:
        raise AssertionError("%s: no answer within %ds" % (" ".join(argv), timeout)) from None
    if p.returncode != 0:
        raise AssertionError("%s failed (%d): %s" % (" ".join(argv), p.returncode,
                                                     p.stderr.decode(errors="replace")[-2000:]))
    return p.stdout


def peak_rss_kb(args):
    """Run vigil with args to completion (bounded) and return its peak resident set in kB
    (wait4's rusage of that one child). Linux carries the parent's peak across fork+exec, so
    this is at least the test runner's own RSS (about 25 MB): compare two runs, and use blobs
    well above that size."""
    from vigil_e2e import VIGIL_BIN
    p = subprocess.Popen([VIGIL_BIN] + args, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    timer = threading.Timer(VIGIL_TIMEOUT, p.kill)
    timer.start()
    try:
        _, status, ru = os.wait4(p.pid, 0)
    finally:
        timer.cancel()
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise AssertionError("vigil %s exited %d" % (" ".join(args), p.returncode))
    return ru.ru_maxrss


# ------------------------------------------------------------------ test base

class ImageCase(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        require_images()
        cls.tmp = tempfile.mkdtemp(prefix="vigil-e2e-%s-" % cls.__name__)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def vigil(self, *args):
        return run(list(args), timeout=VIGIL_TIMEOUT)

    def inspect(self, ref, *opts):
        r = self.vigil("image", "inspect", *opts, ref)
        self.assertEqual(r.rc, 0, r.describe())
        return r.json()

    def fetch(self, ref, *opts):
        r = self.vigil("image", "fetch", *opts, ref)
        self.assertEqual(r.rc, 0, r.describe())
        return r.json()

    def fails(self, sub, ref, *opts, rc=1, want=()):
        """vigil image SUB fails with one line on stderr that names the image and each of
        `want`."""
        r = self.vigil("image", sub, *opts, ref)
        self.assertEqual(r.rc, rc, r.describe())
        lines = r.err_lines()
        self.assertEqual(len(lines), 1, r.describe())
        if rc == 1:
            self.assertIn(ref, lines[0])
        for w in want:
            self.assertIn(w, lines[0])
        self.assertEqual(r.out, b"", "nothing on stdout when failing")
        return lines[0]

    def assert_matches(self, got, want):
        for k, v in want.items():
            self.assertEqual(got[k], v, "field %s" % k)

    def assert_fetched(self, got, info):
        self.assertEqual([l["digest"] for l in got["layers"]],
                         [l["digest"] for l in info["layers"]])
        for l in got["layers"]:
            self.assertEqual(l["bytesRead"], l["size"])
        self.assertEqual(got["totalBytes"], sum(l["size"] for l in info["layers"]))


# ------------------------------------------------------------------ oci:

class TestOciLayout(ImageCase):
    def test_every_ref_in_the_layout(self):
        refs = [e["annotations"]["org.opencontainers.image.ref.name"]
                for e in index_entries(IMAGES)]
        self.assertGreaterEqual(len(refs), 1)
        for ref in refs:
            with self.subTest(ref=ref):
                arg = "oci:%s:%s" % (IMAGES, ref)
                want = expected_image(IMAGES, ref)
                got = self.inspect(arg)
                self.assert_matches(got, want)
                self.assertEqual(got["ref"], arg)
                self.assertEqual(got["name"], ref)
                self.assert_fetched(self.fetch(arg), want)

    def test_multiarch_platforms(self):
        ref = "multiarch-synthetic:latest"
        arg = "oci:%s:%s" % (IMAGES, ref)
        amd = expected_image(IMAGES, ref, ("linux", "amd64", None))
        arm = expected_image(IMAGES, ref, ("linux", "arm64", "v8"))
        self.assertNotEqual(amd["manifestDigest"], arm["manifestDigest"])
        self.assert_matches(self.inspect(arg), amd)
        for p in ("linux/arm64/v8", "linux/arm64", "LINUX/AARCH64"):
            with self.subTest(platform=p):
                got = self.inspect(arg, "--platform", p)
                self.assert_matches(got, arm)
                self.assertEqual(got["indexDigest"], entry_for(IMAGES, ref)["digest"])
        self.assert_fetched(self.fetch(arg, "--platform=linux/arm64/v8"), arm)
        line = self.fails("inspect", arg, "--platform", "linux/s390x",
                          want=("linux/s390x", "linux/amd64", "linux/arm64/v8"))
        self.assertIn("available", line)

    def test_unknown_ref_and_missing_layout(self):
        self.fails("inspect", "oci:%s:no-such:ref" % IMAGES,
                   want=("no-such:ref", "debian:bookworm-minbase"))
        self.fails("inspect", "oci:%s" % IMAGES, want=("name one",))
        self.fails("inspect", "oci:%s/does-not-exist:x" % self.tmp, want=("cannot open",))

    def test_usage_errors(self):
        r = self.vigil("image", "inspect")
        self.assertEqual(r.rc, 2, r.describe())
        r = self.vigil("image", "inspect", "--bogus", "oci:x:y")
        self.assertEqual(r.rc, 2, r.describe())
        r = self.vigil("image", "frobnicate", "oci:x:y")
        self.assertEqual(r.rc, 2, r.describe())
        r = self.vigil("image", "inspect", "oci:a:b", "oci:c:d")
        self.assertEqual(r.rc, 2, r.describe())
        # a malformed reference is bad input, not a usage error
        self.fails("inspect", "docker://host.example/Upper", want=("lower-case",))
        self.fails("inspect", "nonsense", want=("transport",))

    def _copy(self, name, ref="alpine-synthetic:3.19.0"):
        dst = os.path.join(self.tmp, name)
        copy_image(IMAGES, ref, dst)
        return dst, "oci:%s:%s" % (dst, ref), expected_image(IMAGES, ref)

    def test_altered_layer_blob(self):
        dst, arg, want = self._copy("altered-layer")
        layer = want["layers"][1]
        flip_byte(blob_path(dst, layer["digest"]), layer["size"] // 2)
        # the manifest and config are intact: inspect works; reading the layer does not
        self.assert_matches(self.inspect(arg), want)
        self.fails("fetch", arg, want=(layer["digest"], "does not match"))

    def test_truncated_and_extended_layer_blob(self):
        dst, arg, want = self._copy("truncated-layer")
        layer = want["layers"][1]
        p = blob_path(dst, layer["digest"])
        with open(p, "r+b") as f:
            f.truncate(layer["size"] - 100)
        self.fails("fetch", arg, want=(layer["digest"], "ends after"))
        with open(p, "r+b") as f:
            f.truncate(layer["size"] + 1)
        self.fails("fetch", arg, want=(layer["digest"], "longer than"))

    def test_missing_blobs(self):
        dst, arg, want = self._copy("missing-layer")
        layer = want["layers"][0]
        os.unlink(blob_path(dst, layer["digest"]))
        self.fails("fetch", arg, want=(layer["digest"], "missing"))
        os.unlink(blob_path(dst, want["configDigest"]))
        self.fails("inspect", arg, want=(want["configDigest"], "missing"))
        os.unlink(blob_path(dst, want["manifestDigest"]))
        self.fails("inspect", arg, want=(want["manifestDigest"], "missing"))

    def test_altered_config_and_manifest(self):
        dst, arg, want = self._copy("altered-config")
        flip_byte(blob_path(dst, want["configDigest"]), 10)
        self.fails("inspect", arg, want=(want["configDigest"], "does not match"))
        dst, arg, want = self._copy("altered-manifest")
        flip_byte(blob_path(dst, want["manifestDigest"]), 20)
        self.fails("inspect", arg, want=(want["manifestDigest"], "does not match"))

    def test_altered_index_child(self):
        ref = "multiarch-synthetic:latest"
        dst = os.path.join(self.tmp, "altered-index")
        copy_image(IMAGES, ref, dst)
        arm = expected_image(IMAGES, ref, ("linux", "arm64", "v8"))
        flip_byte(blob_path(dst, arm["manifestDigest"]), 30)
        arg = "oci:%s:%s" % (dst, ref)
        self.inspect(arg)  # amd64 is intact
        self.fails("inspect", arg, "--platform", "linux/arm64",
                   want=(arm["manifestDigest"], "does not match"))

    def test_schema1_manifest_is_unsupported(self):
        dst = os.path.join(self.tmp, "schema1")
        os.makedirs(os.path.join(dst, "blobs", "sha256"))
        doc = json.dumps({"schemaVersion": 1, "name": "library/old", "tag": "v1",
                          "architecture": "amd64",
                          "fsLayers": [{"blobSum": sha256(b"x")}],
                          "history": [{"v1Compatibility": "{}"}]}).encode()
        with open(blob_path(dst, sha256(doc)), "wb") as f:
            f.write(doc)
        with open(os.path.join(dst, "oci-layout"), "w") as f:
            json.dump({"imageLayoutVersion": "1.0.0"}, f)
        with open(os.path.join(dst, "index.json"), "w") as f:
            json.dump({"schemaVersion": 2, "manifests": [{
                "mediaType": "application/vnd.docker.distribution.manifest.v1+prettyjws",
                "digest": sha256(doc), "size": len(doc),
                "annotations": {"org.opencontainers.image.ref.name": "old:v1"}}]}, f)
        self.fails("inspect", "oci:%s:old:v1" % dst, want=("schema 1", "unsupported"))
        # also when nothing but the document itself says so
        with open(os.path.join(dst, "index.json"), "w") as f:
            json.dump({"schemaVersion": 2, "manifests": [{
                "mediaType": MT_OCI_MANIFEST, "digest": sha256(doc), "size": len(doc)}]}, f)
        self.fails("inspect", "oci:%s" % dst, want=("schema 1",))

    def test_index_without_platform_and_attestations(self):
        """An index with an attestation manifest for amd64 and an arm64 image: the default
        platform must not pick the attestation."""
        ref = "multiarch-synthetic:latest"
        dst = os.path.join(self.tmp, "attest")
        copy_image(IMAGES, ref, dst)
        idx = read_json_blob(dst, entry_for(dst, ref)["digest"])
        amd = [m for m in idx["manifests"] if m["platform"]["architecture"] == "amd64"][0]
        arm = [m for m in idx["manifests"] if m["platform"]["architecture"] == "arm64"][0]
        att = dict(amd)
        att["platform"] = {"os": "unknown", "architecture": "unknown"}
        att["annotations"] = {"vnd.docker.reference.type": "attestation-manifest",
                              "vnd.docker.reference.digest": arm["digest"]}
        att2 = dict(amd)
        att2["annotations"] = {"vnd.docker.reference.type": "attestation-manifest"}
        idx["manifests"] = [att, att2, arm]
        b = json.dumps(idx).encode()
        with open(blob_path(dst, sha256(b)), "wb") as f:
            f.write(b)
        with open(os.path.join(dst, "index.json"), "w") as f:
            json.dump({"schemaVersion": 2, "manifests": [{
                "mediaType": MT_OCI_INDEX, "digest": sha256(b), "size": len(b),
                "annotations": {"org.opencontainers.image.ref.name": ref}}]}, f)
        arg = "oci:%s:%s" % (dst, ref)
        line = self.fails("inspect", arg, want=("linux/amd64", "linux/arm64"))
        self.assertNotIn("unknown", line)
        got = self.inspect(arg, "--platform", "linux/arm64")
        self.assertEqual(got["manifestDigest"], arm["digest"])
        self.assertEqual(got["indexDigest"], sha256(b))


# ------------------------------------------------------------------ docker-archive:

def legacy_archive(path, images, compress=False):
    """Write a `docker save` tarball in the legacy layout: <id>/layer.tar, <id>/VERSION,
    <id>/json, <config hex>.json, manifest.json, repositories. images: list of (layout, ref,
    [tags]). compress=True stores the layout's gzip blobs as layer.tar (some tools do)."""
    manifest, repos, seen = [], {}, set()
    with tarfile.open(path, "w", format=tarfile.GNU_FORMAT) as t:
        def add(name, data):
            if name in seen:
                return
            seen.add(name)
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            ti.mtime = 1700000000
            t.addfile(ti, io.BytesIO(data))
        for layout, ref, tags in images:
            e = entry_for(layout, ref)
            man = read_json_blob(layout, e["digest"])
            cfgb = read_blob(layout, man["config"]["digest"])
            cfg = json.loads(cfgb)
            add(man["config"]["digest"][7:] + ".json", cfgb)
            layers, parent = [], ""
            for i, l in enumerate(man["layers"]):
                blob = read_blob(layout, l["digest"])
                data = blob if compress else gzip.decompress(blob)
                lid = hashlib.sha256((parent + cfg["rootfs"]["diff_ids"][i]).encode()).hexdigest()
                add(lid + "/VERSION", b"1.0")
                add(lid + "/json", json.dumps({"id": lid, "parent": parent}).encode())
                add(lid + "/layer.tar", data)
                layers.append(lid + "/layer.tar")
                parent = lid
            manifest.append({"Config": man["config"]["digest"][7:] + ".json",
                             "RepoTags": tags, "Layers": layers})
            for tag in tags:
                name, _, tg = tag.rpartition(":")
                repos.setdefault(name, {})[tg] = parent
        add("manifest.json", json.dumps(manifest).encode())
        add("repositories", json.dumps(repos).encode())


def ocistyle_archive(path, layout, ref, tag):
    """Docker 25's `docker save`: an OCI layout (uncompressed layers under blobs/sha256) that
    also carries manifest.json."""
    e = entry_for(layout, ref)
    man = read_json_blob(layout, e["digest"])
    cfgb = read_blob(layout, man["config"]["digest"])
    plain = [gzip.decompress(read_blob(layout, l["digest"])) for l in man["layers"]]
    new_man = {"schemaVersion": 2, "mediaType": MT_OCI_MANIFEST,
               "config": man["config"],
               "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                           "digest": sha256(p), "size": len(p)} for p in plain]}
    manb = json.dumps(new_man).encode()
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as t:
        def add(name, data):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            ti.mtime = 1700000000
            t.addfile(ti, io.BytesIO(data))
        add("blobs/sha256/" + man["config"]["digest"][7:], cfgb)
        for p in plain:
            add("blobs/sha256/" + sha256(p)[7:], p)
        add("blobs/sha256/" + sha256(manb)[7:], manb)
        add("oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        add("index.json", json.dumps({"schemaVersion": 2, "manifests": [{
            "mediaType": MT_OCI_MANIFEST, "digest": sha256(manb), "size": len(manb),
            "annotations": {"io.containerd.image.name": "docker.io/library/" + tag,
                            "org.opencontainers.image.ref.name": tag.split(":")[1]}}]}).encode())
        add("manifest.json", json.dumps([{
            "Config": "blobs/sha256/" + man["config"]["digest"][7:], "RepoTags": [tag],
            "Layers": ["blobs/sha256/" + sha256(p)[7:] for p in plain]}]).encode())


def archive_members(path):
    """name -> (offset of the content, size) of every regular member."""
    out = {}
    with tarfile.open(path) as t:
        for m in t.getmembers():
            if m.isfile():
                out[m.name] = (m.offset_data, m.size)
    return out


class TestDockerArchive(ImageCase):
    def check_archive(self, arg, ref, compressed=False):
        """The archive holds the layout's image `ref`: same config and diff_ids; layer digests
        are those of the stored bytes (diff_ids when uncompressed)."""
        want = expected_image(IMAGES, ref)
        got = self.inspect(arg)
        self.assertEqual(got["mediaType"], MT_DOCKER_MANIFEST)
        self.assertEqual(got["configDigest"], want["configDigest"])
        self.assertEqual(got["os"], want["os"])
        self.assertEqual(got["architecture"], want["architecture"])
        self.assertEqual(len(got["layers"]), len(want["layers"]))
        for g, w in zip(got["layers"], want["layers"]):
            self.assertEqual(g["diffID"], w["diffID"])
            if compressed:
                self.assertEqual(g["digest"], w["digest"])
                self.assertEqual(g["size"], w["size"])
                self.assertEqual(g["mediaType"], MT_DOCKER_LAYER_GZ)
            else:
                self.assertEqual(g["digest"], w["diffID"])
                self.assertEqual(g["mediaType"], MT_DOCKER_LAYER)
        self.assert_fetched(self.fetch(arg), got)
        return got

    def test_skopeo_archives(self):
        for ref in ("alpine-synthetic:3.19.0", "rocky-synthetic:9.3", "node-app:vuln-deps"):
            with self.subTest(ref=ref):
                name = ref.split(":")[0]
                path = os.path.join(self.tmp, name + ".tar")
                tool([SKOPEO, "copy", "--quiet", "oci:%s:%s" % (IMAGES, ref),
                      "docker-archive:%s:%s:test" % (path, name)])
                got = self.check_archive("docker-archive:%s" % path, ref)
                self.assertEqual(got["name"], "docker.io/library/%s:test" % name)
                # the tag can be given short or in full
                for sub in ("%s:test" % name, "docker.io/library/%s:test" % name):
                    g2 = self.inspect("docker-archive:%s:%s" % (path, sub))
                    self.assertEqual(g2["manifestDigest"], got["manifestDigest"])
                self.fails("inspect", "docker-archive:%s:%s:other" % (path, name),
                           want=("%s:test" % name,))

    def test_legacy_archive_with_two_images(self):
        path = os.path.join(self.tmp, "legacy.tar")
        legacy_archive(path, [(IMAGES, "alpine-synthetic:3.19.0", ["alp:1", "alp:latest"]),
                              (IMAGES, "rocky-synthetic:9.3", ["registry.example.com/rocky:9"])])
        self.check_archive("docker-archive:%s:alp:latest" % path, "alpine-synthetic:3.19.0")
        self.check_archive("docker-archive:%s:registry.example.com/rocky:9" % path,
                           "rocky-synthetic:9.3")
        self.check_archive("docker-archive:%s:@1" % path, "rocky-synthetic:9.3")
        self.fails("inspect", "docker-archive:%s" % path, want=("2 images",))
        self.fails("inspect", "docker-archive:%s:@2" % path, want=("@2",))

    def test_legacy_archive_with_compressed_layers(self):
        path = os.path.join(self.tmp, "legacy-gz.tar")
        legacy_archive(path, [(IMAGES, "alpine-synthetic:3.19.0", ["alp:gz"])], compress=True)
        self.check_archive("docker-archive:%s" % path, "alpine-synthetic:3.19.0",
                           compressed=True)

    def test_docker25_oci_style_archive(self):
        path = os.path.join(self.tmp, "oci-style.tar")
        ocistyle_archive(path, IMAGES, "alpine-synthetic:3.19.0", "alp:25")
        got = self.check_archive("docker-archive:%s:alp:25" % path, "alpine-synthetic:3.19.0")
        self.assertEqual(got["name"], "alp:25")

    def test_altered_layer_in_archive(self):
        path = os.path.join(self.tmp, "altered.tar")
        legacy_archive(path, [(IMAGES, "alpine-synthetic:3.19.0", ["alp:1"])])
        members = archive_members(path)
        want = expected_image(IMAGES, "alpine-synthetic:3.19.0")
        layer_members = sorted(n for n in members if n.endswith("/layer.tar"))
        self.assertEqual(len(layer_members), 2)
        # flip a byte in the member whose content hashes to the second diff_id
        for n in layer_members:
            off, size = members[n]
            with open(path, "rb") as f:
                f.seek(off)
                if sha256(f.read(size)) == want["layers"][1]["diffID"]:
                    flip_byte(path, off + size // 2)
        arg = "docker-archive:%s" % path
        self.inspect(arg)  # the config still lists the diff_id
        self.fails("fetch", arg, want=(want["layers"][1]["diffID"], "does not match"))

    def test_altered_config_and_truncated_archive(self):
        path = os.path.join(self.tmp, "badcfg.tar")
        legacy_archive(path, [(IMAGES, "alpine-synthetic:3.19.0", ["alp:1"])])
        want = expected_image(IMAGES, "alpine-synthetic:3.19.0")
        off, size = archive_members(path)[want["configDigest"][7:] + ".json"]
        flip_byte(path, off + 5)
        self.fails("inspect", "docker-archive:%s" % path, want=("config",))
        path2 = os.path.join(self.tmp, "truncated.tar")
        legacy_archive(path2, [(IMAGES, "alpine-synthetic:3.19.0", ["alp:1"])])
        with open(path2, "r+b") as f:
            f.truncate(os.path.getsize(path2) // 2)
        self.fails("inspect", "docker-archive:%s" % path2)

    def test_missing_layer_member(self):
        path = os.path.join(self.tmp, "missing.tar")
        legacy_archive(path, [(IMAGES, "alpine-synthetic:3.19.0", ["alp:1"])])
        # rewrite manifest.json to name a layer that is not there
        src = tarfile.open(path)
        path2 = os.path.join(self.tmp, "missing2.tar")
        with tarfile.open(path2, "w") as out:
            for m in src.getmembers():
                data = src.extractfile(m).read() if m.isfile() else None
                if m.name == "manifest.json":
                    doc = json.loads(data)
                    doc[0]["Layers"][0] = "0" * 64 + "/layer.tar"
                    data = json.dumps(doc).encode()
                    m.size = len(data)
                out.addfile(m, io.BytesIO(data) if data is not None else None)
        src.close()
        self.fails("inspect", "docker-archive:%s" % path2, want=("0" * 64, "missing"))
        self.fails("inspect", "docker-archive:%s/nope.tar" % self.tmp, want=("cannot open",))
        gz_path = os.path.join(self.tmp, "compressed.tar.gz")
        with open(path, "rb") as f, open(gz_path, "wb") as g:
            g.write(gzip.compress(f.read(), mtime=0))
        self.fails("inspect", "docker-archive:%s" % gz_path, want=("gzip", "decompress"))


# ------------------------------------------------------------------ docker://

class RegistryCase(ImageCase):
    """A fresh CNCF reference registry on an ephemeral port, filled with skopeo."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.port = free_port()
        cls.reg_env = dict(os.environ, REF_REGISTRY_BASE=os.path.join(cls.tmp, "registry"))
        cls.registry = "127.0.0.1:%d" % cls.port
        try:
            p = subprocess.run([REF_REGISTRY, "start", str(cls.port), "--fresh"],
                               env=cls.reg_env, capture_output=True, timeout=60)
        except subprocess.TimeoutExpired:
            cls._stop_registry()
            raise AssertionError("reference-registry did not start within 60 s")
        if p.returncode != 0:
            cls._stop_registry()
            raise AssertionError("reference-registry start failed: %s" %
                                 p.stderr.decode(errors="replace"))
        try:
            cls.push("alpine-synthetic:3.19.0", "alpine-synthetic:3.19.0")
            cls.push("debian:bookworm-minbase", "debian:bookworm-minbase")
            cls.push("multiarch-synthetic:latest", "multiarch:latest", "--all")
            cls.push("rocky-synthetic:9.3", "rocky:v2s2", "--format", "v2s2")
            cls.push("multiarch-synthetic:latest", "multiarch:v2s2", "--all", "--format", "v2s2")
        except BaseException:
            cls._stop_registry()
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise

    @classmethod
    def push(cls, src_ref, dst, *opts, layout=None):
        tool([SKOPEO, "copy", "--quiet", "--dest-tls-verify=false"] + list(opts) +
             ["oci:%s:%s" % (layout or IMAGES, src_ref), "docker://%s/%s" % (cls.registry, dst)])

    @classmethod
    def _stop_registry(cls):
        try:
            subprocess.run([REF_REGISTRY, "stop", str(cls.port)], env=cls.reg_env,
                           capture_output=True, timeout=30)
        except subprocess.TimeoutExpired:
            pass

    @classmethod
    def tearDownClass(cls):
        cls._stop_registry()
        super().tearDownClass()

    def raw_manifest(self, ref):
        return tool([SKOPEO, "inspect", "--raw", "--tls-verify=false",
                     "docker://%s/%s" % (self.registry, ref)])


class TestRegistry(RegistryCase):
    def test_oci_image_by_tag_and_digest(self):
        want = expected_image(IMAGES, "alpine-synthetic:3.19.0")
        arg = "docker://%s/alpine-synthetic:3.19.0" % self.registry
        got = self.inspect(arg)
        self.assert_matches(got, want)
        self.assertEqual(got["name"], "%s/alpine-synthetic:3.19.0" % self.registry)
        self.assert_fetched(self.fetch(arg), want)
        by_digest = "docker://%s/alpine-synthetic@%s" % (self.registry, want["manifestDigest"])
        self.assert_matches(self.inspect(by_digest), want)
        # localhost is also allowed over plain HTTP
        self.assert_matches(self.inspect("docker://localhost:%d/alpine-synthetic:3.19.0" %
                                         self.port), want)

    def test_large_layer_streams(self):
        want = expected_image(IMAGES, "debian:bookworm-minbase")
        got = self.fetch("docker://%s/debian:bookworm-minbase" % self.registry)
        self.assert_fetched(got, want)
        self.assertGreater(got["totalBytes"], 10 << 20)
        # streamed, not buffered: fetching a 50 MB layer costs about as much memory as fetching
        # a 1 MB one (the difference allows for the read window and allocator slack)
        big = peak_rss_kb(["image", "fetch", "docker://%s/debian:bookworm-minbase" % self.registry])
        small = peak_rss_kb(["image", "fetch", "docker://%s/alpine-synthetic:3.19.0" %
                             self.registry])
        self.assertLess(big - small, 16 * 1024, "peak RSS %d kB vs %d kB" % (big, small))

    def test_oci_index_platforms(self):
        ref = "multiarch-synthetic:latest"
        arg = "docker://%s/multiarch:latest" % self.registry
        amd = expected_image(IMAGES, ref, ("linux", "amd64", None))
        arm = expected_image(IMAGES, ref, ("linux", "arm64", "v8"))
        self.assert_matches(self.inspect(arg), amd)
        got = self.inspect(arg, "--platform", "linux/arm64/v8")
        self.assert_matches(got, arm)
        self.assertEqual(got["indexDigest"], entry_for(IMAGES, ref)["digest"])
        self.assert_fetched(self.fetch(arg, "--platform", "linux/arm64/v8"), arm)
        self.fails("inspect", arg, "--platform", "windows/amd64",
                   want=("windows/amd64", "linux/arm64/v8"))

    def test_docker_schema2_and_manifest_list(self):
        raw = self.raw_manifest("rocky:v2s2")
        doc = json.loads(raw)
        got = self.inspect("docker://%s/rocky:v2s2" % self.registry)
        self.assertEqual(got["mediaType"], MT_DOCKER_MANIFEST)
        self.assertEqual(got["manifestDigest"], sha256(raw))
        self.assertEqual(got["configDigest"], doc["config"]["digest"])
        self.assertEqual([l["digest"] for l in got["layers"]],
                         [l["digest"] for l in doc["layers"]])
        self.assert_fetched(self.fetch("docker://%s/rocky:v2s2" % self.registry), got)

        lraw = self.raw_manifest("multiarch:v2s2")
        ldoc = json.loads(lraw)
        self.assertEqual(ldoc["mediaType"], MT_DOCKER_LIST)
        arm = [m for m in ldoc["manifests"] if m["platform"]["architecture"] == "arm64"][0]
        got = self.inspect("docker://%s/multiarch:v2s2" % self.registry,
                           "--platform", "linux/arm64/v8")
        self.assertEqual(got["indexDigest"], sha256(lraw))
        self.assertEqual(got["manifestDigest"], arm["digest"])
        self.assertEqual(got["mediaType"], MT_DOCKER_MANIFEST)
        self.assertEqual(got["architecture"], "arm64")

    def test_unknown_tag_repo_and_digest(self):
        self.fails("inspect", "docker://%s/alpine-synthetic:nope" % self.registry,
                   want=("404", "MANIFEST_UNKNOWN"))
        self.fails("inspect", "docker://%s/no-such-repo:1" % self.registry, want=("404",))
        self.fails("inspect", "docker://%s/alpine-synthetic@sha256:%s" % (self.registry, "0" * 64),
                   want=("404",))

    def test_unreachable_registry(self):
        port = free_port()  # nothing listens there
        self.fails("inspect", "docker://127.0.0.1:%d/x:1" % port, want=("127.0.0.1:%d" % port,))

    def test_corrupt_blob_in_registry(self):
        # a one-off image whose layer no other test shares
        src = os.path.join(self.tmp, "oneoff")
        copy_image(IMAGES, "alpine-synthetic:3.19.0", src)
        e = entry_for(src, "alpine-synthetic:3.19.0")
        man = read_json_blob(src, e["digest"])
        cfg = read_json_blob(src, man["config"]["digest"])
        body = os.urandom(4096)
        layer = io.BytesIO()
        with tarfile.open(fileobj=layer, mode="w") as t:
            ti = tarfile.TarInfo("oneoff.bin")
            ti.size = len(body)
            t.addfile(ti, io.BytesIO(body))
        plain = layer.getvalue()
        blob = gzip.compress(plain, mtime=0)
        with open(blob_path(src, sha256(blob)), "wb") as f:
            f.write(blob)
        man["layers"].append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                              "digest": sha256(blob), "size": len(blob)})
        cfg["rootfs"]["diff_ids"].append(sha256(plain))
        cfgb = json.dumps(cfg).encode()
        with open(blob_path(src, sha256(cfgb)), "wb") as f:
            f.write(cfgb)
        man["config"]["digest"], man["config"]["size"] = sha256(cfgb), len(cfgb)
        manb = json.dumps(man).encode()
        with open(blob_path(src, sha256(manb)), "wb") as f:
            f.write(manb)
        e.update(digest=sha256(manb), size=len(manb))
        with open(os.path.join(src, "index.json"), "w") as f:
            json.dump({"schemaVersion": 2, "manifests": [e]}, f)
        self.push("alpine-synthetic:3.19.0", "oneoff:1", layout=src)
        arg = "docker://%s/oneoff:1" % self.registry
        self.fetch(arg)
        stored = os.path.join(self.tmp, "registry-%d" % self.port, "data", "docker",
                              "registry", "v2", "blobs", "sha256", sha256(blob)[7:9],
                              sha256(blob)[7:], "data")
        self.assertTrue(os.path.exists(stored), stored)
        flip_byte(stored, len(blob) // 2)
        self.fails("fetch", arg, want=(sha256(blob), "does not match"))


class TestRegistryAuth(RegistryCase):
    def setUp(self):
        self.proxies = []

    def tearDown(self):
        for p in self.proxies:
            p.stop()

    def proxy(self, **kw):
        p = AuthProxy(self.registry, **kw).start()
        self.proxies.append(p)
        return p

    def test_basic_auth(self):
        p = self.proxy(mode="basic", user="alice", password="s3cret:x")
        arg = "docker://%s/alpine-synthetic:3.19.0" % p.url
        want = expected_image(IMAGES, "alpine-synthetic:3.19.0")
        self.fails("inspect", arg, want=("credentials",))
        self.fails("inspect", arg, "--creds", "alice:wrong", want=("401",))
        self.assert_matches(self.inspect(arg, "--creds", "alice:s3cret:x"), want)
        self.assert_fetched(self.fetch(arg, "--creds", "alice:s3cret:x"), want)
        # every request after the probe carried the credentials
        v2 = [a for _, path, a, _ in p.requests if path.startswith("/v2/") and path != "/v2/"]
        self.assertTrue(v2)
        self.assertTrue(all(a and a.startswith("Basic ") for a in v2))

    def test_bearer_token_anonymous(self):
        p = self.proxy(mode="bearer", token_field="access_token")
        arg = "docker://%s/multiarch:latest" % p.url
        arm = expected_image(IMAGES, "multiarch-synthetic:latest", ("linux", "arm64", "v8"))
        got = self.fetch(arg, "--platform", "linux/arm64/v8")
        self.assert_fetched(got, arm)
        scopes = {s for _, s, _ in p.token_requests}
        self.assertEqual(scopes, {"repository:multiarch:pull"})
        # one token, reused for every request, and one connection for all of them (token
        # server included: it is the same host here)
        self.assertEqual(len(p.token_requests), 1, p.token_requests)
        self.assertEqual(len({port for _, _, _, port in p.requests}), 1, p.requests)

    def test_bearer_token_with_credentials(self):
        p = self.proxy(mode="bearer", user="bob", password="pw")
        arg = "docker://%s/alpine-synthetic:3.19.0" % p.url
        want = expected_image(IMAGES, "alpine-synthetic:3.19.0")
        self.fails("inspect", arg, want=("401",))
        self.fails("inspect", arg, "--creds", "bob:nope", want=("401",))
        self.assert_fetched(self.fetch(arg, "--creds", "bob:pw"), want)
        self.assertTrue(all(had for _, _, had in p.token_requests[-1:]))

    def test_schema1_from_registry(self):
        body = json.dumps({"schemaVersion": 1, "name": "old", "tag": "v1",
                           "architecture": "amd64", "fsLayers": [{"blobSum": sha256(b"x")}],
                           "history": [{"v1Compatibility": "{}"}],
                           "signatures": [{"header": {}, "signature": "x", "protected": "y"}]},
                          indent=3).encode()
        p = self.proxy(mode="bearer", canned={"/v2/old/manifests/v1": (
            "application/vnd.docker.distribution.manifest.v1+prettyjws", body,
            [("Docker-Content-Digest", sha256(body[:-20]))])})
        self.fails("inspect", "docker://%s/old:v1" % p.url, want=("schema 1", "unsupported"))

    def test_redirected_blobs_do_not_get_credentials(self):
        p = self.proxy(mode="bearer", redirect_blobs=True)
        arg = "docker://%s/alpine-synthetic:3.19.0" % p.url
        want = expected_image(IMAGES, "alpine-synthetic:3.19.0")
        self.assert_fetched(self.fetch(arg), want)
        # config + 2 layers went through storage, none with an Authorization header
        self.assertGreaterEqual(p.storage_requests, 3)
        self.assertEqual(p.storage_auth_leaks, 0)
        # the basic flavour must not leak either
        p2 = self.proxy(mode="basic", user="u", password="p", redirect_blobs=True)
        self.assert_fetched(self.fetch("docker://%s/alpine-synthetic:3.19.0" % p2.url,
                                       "--creds", "u:p"), want)
        self.assertGreaterEqual(p2.storage_requests, 3)
        self.assertEqual(p2.storage_auth_leaks, 0)


if __name__ == "__main__":
    unittest.main()
