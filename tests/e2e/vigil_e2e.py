# SPDX-License-Identifier: Apache-2.0
"""Shared helpers for vigil's end-to-end tests (standard library only).

- the binary: $VIGIL_BIN (default build/debug/vigil under the repository root);
- the real test images: $VIGIL_TEST_IMAGES, one OCI layout holding the refs that
  ../shared/tools/make-test-images builds (scripts/test-images.sh prints its path);
- the vulnerability data: $VIGIL_VULNDB (default ../shared/vulndb beside the repository);
- every run of vigil has a timeout; every test class gets its own temporary cache directory;
- the vulnerability database is imported once per test run (module-level cache);
- LayoutBuilder copies one image into a fresh OCI layout, lets a test replace or add layer blobs
  and rewrites the digests (config diff_ids, manifest, index) so only the intended part is bad.

The expected results never come from vigil: refimage.py / refinventory.py / refmatch.py compute
them independently.
"""

import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)

VIGIL_BIN = os.environ.get("VIGIL_BIN", os.path.join(REPO, "build", "debug", "vigil"))
IMAGES = os.environ.get("VIGIL_TEST_IMAGES", "")
VULNDB = os.environ.get("VIGIL_VULNDB", os.path.join(REPO, "..", "shared", "vulndb"))
QUICK = os.environ.get("VIGIL_E2E_QUICK", "") not in ("", "0")

RUN_TIMEOUT = float(os.environ.get("VIGIL_E2E_TIMEOUT", "600"))
IMPORT_TIMEOUT = float(os.environ.get("VIGIL_E2E_IMPORT_TIMEOUT", "1800"))

# every ref make-test-images builds; (ref, platform or None)
ALL_IMAGES = [
    ("debian:bookworm-minbase", None),
    ("debian-vuln:bookworm-oldpkgs", None),
    ("node-app:vuln-deps", None),
    ("polyglot:bookworm", None),
    ("alpine-synthetic:3.19.0", None),
    ("rocky-synthetic:9.3", None),
    ("multiarch-synthetic:latest", None),
    ("multiarch-synthetic:latest", "linux/arm64/v8"),
    ("debian:bookworm-minbase-zstd", None),
    ("debian-whiteout:bookworm", None),
]
# under sanitizers (VIGIL_E2E_QUICK=1): one image of each kind
QUICK_IMAGES = [
    ("debian-vuln:bookworm-oldpkgs", None),
    ("alpine-synthetic:3.19.0", None),
    ("rocky-synthetic:9.3", None),
    ("multiarch-synthetic:latest", "linux/arm64/v8"),
    ("debian-whiteout:bookworm", None),
]


def images():
    return QUICK_IMAGES if QUICK else ALL_IMAGES


def require_images():
    """Skip (loudly) when no image layout is given; this is the only reason to skip."""
    if not IMAGES:
        msg = ("VIGIL_TEST_IMAGES is not set: the end-to-end tests on real images were NOT "
               "run. Build the images with scripts/test-images.sh and export its output.")
        sys.stderr.write("\n*** %s ***\n" % msg)
        raise unittest.SkipTest(msg)
    if not os.path.isfile(os.path.join(IMAGES, "index.json")):
        raise AssertionError("VIGIL_TEST_IMAGES=%s is not an OCI layout" % IMAGES)


def image_arg(ref, layout=None):
    return "oci:%s:%s" % (layout or IMAGES, ref)


class Result:
    def __init__(self, argv, rc, out, err, secs):
        self.argv, self.rc, self.out, self.err, self.secs = argv, rc, out, err, secs

    def json(self):
        try:
            return json.loads(self.out)
        except ValueError as e:
            raise AssertionError("%s: output is not JSON (%s): %r" % (
                " ".join(self.argv), e, self.out[:500])) from None

    def err_lines(self):
        return [l for l in self.err.decode("utf-8", "replace").splitlines() if l.strip()]

    def describe(self):
        return "%s -> exit %d in %.1fs\nstderr: %s" % (
            " ".join(self.argv), self.rc, self.secs,
            self.err.decode("utf-8", "replace")[-2000:])


def run(args, env=None, timeout=RUN_TIMEOUT, stdin=None):
    """Run vigil with args; never waits longer than timeout (the test fails then)."""
    argv = [VIGIL_BIN] + list(args)
    e = dict(os.environ)
    if env:
        e.update(env)
    t = time.time()
    try:
        p = subprocess.run(argv, env=e, capture_output=True, timeout=timeout,
                           stdin=subprocess.DEVNULL if stdin is None else stdin)
    except subprocess.TimeoutExpired:
        raise AssertionError("%s: no answer within %ds" % (" ".join(argv), timeout)) from None
    except FileNotFoundError:
        raise AssertionError("vigil binary %s does not exist (set VIGIL_BIN)" % VIGIL_BIN) \
            from None
    return Result(argv, p.returncode, p.stdout, p.stderr, time.time() - t)


class VigilCase(unittest.TestCase):
    """A test class with its own temporary directory and vigil cache directory."""

    maxDiff = None

    @classmethod
    def setUpClass(cls):
        require_images()
        cls.tmp = tempfile.mkdtemp(prefix="vigil-e2e-%s-" % cls.__name__)
        cls.cache = os.path.join(cls.tmp, "cache")
        os.makedirs(cls.cache)
        cls.env = {"VIGIL_CACHE_DIR": cls.cache}

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def vigil(self, *args, timeout=RUN_TIMEOUT, env=None):
        e = dict(self.env)
        if env:
            e.update(env)
        return run(args, env=e, timeout=timeout)


# ------------------------------------------------------------------ vulnerability database

_DB = {}


def shared_db():
    """Path of a vulnerability database imported from VULNDB once per test run."""
    if "path" in _DB:
        return _DB["path"]
    if "error" in _DB:
        raise AssertionError(_DB["error"])
    d = tempfile.mkdtemp(prefix="vigil-e2e-db-")
    path = os.path.join(d, "vulndb.sqlite")
    r = run(["db", "import", "--db", path, VULNDB], timeout=IMPORT_TIMEOUT)
    if r.rc != 0 or not os.path.exists(path):
        _DB["error"] = "vulnerability import failed: " + r.describe()
        raise AssertionError(_DB["error"])
    _DB["path"] = path
    _DB["dir"] = d
    _DB["secs"] = r.secs
    import atexit
    atexit.register(shutil.rmtree, d, True)
    return path


# ------------------------------------------------------------------ layout surgery

def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


class LayoutBuilder:
    """Copy one image (resolved to a single manifest) of a source layout into a new layout
    under `dst`, with the ref `ref` (default: the source ref), then let a test change it:

        b = LayoutBuilder(src_layout, "alpine-synthetic:3.19.0", dst)
        b.replace_layer(1, new_bytes, fix_digests=True)   # digest/size/diff_id rewritten
        b.add_layer(tar_gz_bytes, diff_id)                 # appended layer
        b.write()                                          # index.json, manifest, config

    write() returns the final manifest digest. With fix_digests=False the manifest keeps the
    old digest (so the blob no longer matches it)."""

    def __init__(self, src, src_ref, dst, ref=None, platform=None):
        """src=None starts from an empty linux/amd64 image with no layers."""
        self.src = src
        self.dst = dst
        self.ref = ref or src_ref
        if src is None:
            self.manifest = {"schemaVersion": 2,
                             "mediaType": "application/vnd.oci.image.manifest.v1+json",
                             "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                        "digest": "", "size": 0},
                             "layers": []}
            self.config = {"architecture": "amd64", "os": "linux",
                           "rootfs": {"type": "layers", "diff_ids": []}, "history": []}
        else:
            import refimage
            img = refimage.Image(src, src_ref, platform)
            self.manifest = json.loads(json.dumps(img.manifest))
            self.config = json.loads(json.dumps(img.config))
        os.makedirs(os.path.join(dst, "blobs", "sha256"), exist_ok=True)
        with open(os.path.join(dst, "oci-layout"), "w") as f:
            json.dump({"imageLayoutVersion": "1.0.0"}, f)
        for l in self.manifest["layers"]:
            self._link(l["digest"])

    def _path(self, digest):
        return os.path.join(self.dst, "blobs", "sha256", digest.split(":", 1)[1])

    def _link(self, digest):
        s = os.path.join(self.src, "blobs", "sha256", digest.split(":", 1)[1])
        d = self._path(digest)
        if not os.path.exists(d):
            try:
                os.link(s, d)
            except OSError:
                shutil.copyfile(s, d)

    def put_blob(self, data):
        dg = sha256(data)
        p = self._path(dg)
        if not os.path.exists(p):
            with open(p, "wb") as f:
                f.write(data)
        return dg

    def put_blob_as(self, digest, data):
        """Store data under a digest it does not have (a corrupt blob)."""
        p = self._path(digest)
        if os.path.exists(p):
            os.unlink(p)
        with open(p, "wb") as f:
            f.write(data)

    def remove_blob(self, digest):
        p = self._path(digest)
        if os.path.exists(p):
            os.unlink(p)

    def replace_layer(self, i, data, diff_id=None, fix_digests=True):
        l = self.manifest["layers"][i]
        if fix_digests:
            l["digest"] = self.put_blob(data)
            l["size"] = len(data)
            if diff_id:
                self.config["rootfs"]["diff_ids"][i] = diff_id
        else:
            self.put_blob_as(l["digest"], data)
        return l["digest"]

    def add_layer(self, data, diff_id, media_type="application/vnd.oci.image.layer.v1.tar+gzip"):
        dg = self.put_blob(data)
        self.manifest["layers"].append({"mediaType": media_type, "digest": dg,
                                        "size": len(data)})
        self.config["rootfs"]["diff_ids"].append(diff_id)
        self.config.setdefault("history", []).append(
            {"created": "2023-11-14T22:13:20Z", "created_by": "vigil e2e test layer"})
        return dg

    def layer_digest(self, i):
        return self.manifest["layers"][i]["digest"]

    def write(self):
        cfg = json.dumps(self.config, separators=(",", ":")).encode()
        cd = self.put_blob(cfg)
        self.manifest["config"]["digest"] = cd
        self.manifest["config"]["size"] = len(cfg)
        man = json.dumps(self.manifest, separators=(",", ":")).encode()
        md = self.put_blob(man)
        index = {"schemaVersion": 2, "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md,
            "size": len(man), "annotations": {"org.opencontainers.image.ref.name": self.ref}}]}
        with open(os.path.join(self.dst, "index.json"), "w") as f:
            json.dump(index, f)
        self.manifest_digest = md
        return md


def make_tar(entries):
    """entries: list of (name, bytes or None for a directory, or ('symlink', target)).
    Returns the uncompressed tar bytes."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data in entries:
            ti = tarfile.TarInfo(name)
            ti.mtime = 1700000000
            if data is None:
                ti.type = tarfile.DIRTYPE
                ti.mode = 0o755
                t.addfile(ti)
            elif isinstance(data, tuple):
                ti.type = tarfile.SYMTYPE
                ti.linkname = data[1]
                t.addfile(ti)
            else:
                ti.size = len(data)
                ti.mode = 0o644
                t.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def gz(data):
    return gzip.compress(data, mtime=0)


def read_layer_uncompressed(layout, digest):
    with open(os.path.join(layout, "blobs", "sha256", digest.split(":", 1)[1]), "rb") as f:
        return gzip.decompress(f.read())
