# SPDX-License-Identifier: Apache-2.0
"""End-to-end checks of the layer walk (`vigil layer ls`, `vigil layer merge`).

Oracles: Python's tarfile/gzip and the zstd tool read the same blobs (LayerOracle below), and
refimage.merge() computes the merged tree of the debian-whiteout image independently.
Env: VIGIL_BIN, VIGIL_TEST_IMAGES (see vigil_e2e.py).
"""

import gzip
import hashlib
import json
import os
import posixpath
import shutil
import subprocess
import tarfile
import tempfile
import unittest

import refimage
from vigil_e2e import IMAGES, REPO, VigilCase, images, run

FIXTURES = os.path.join(REPO, "tests", "data", "layer")


def blobs_of(ref):
    """Layer blob paths of an image (bottom first) in the OCI layout."""
    with open(os.path.join(IMAGES, "index.json")) as f:
        idx = json.load(f)
    for m in idx["manifests"]:
        if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == ref:
            with open(os.path.join(IMAGES, "blobs", "sha256", m["digest"][7:])) as f:
                man = json.load(f)
            if "layers" not in man:
                return None  # an index: platforms are someone else's business
            return [os.path.join(IMAGES, "blobs", "sha256", l["digest"][7:])
                    for l in man["layers"]]
    raise AssertionError("%s not in %s" % (ref, IMAGES))


def oracle_entries(blob):
    """(kind, path, link) for every member, as vigil records them: normalised paths, the root
    entry dropped, whiteouts and opaque markers turned into their targets, devices and fifos
    left out. Also returns the member count."""
    with open(blob, "rb") as f:
        magic = f.read(4)
    if magic[:2] == b"\x1f\x8b":
        stream = gzip.open(blob)
    elif magic == b"\x28\xb5\x2f\xfd":
        stream = subprocess.run(["zstd", "-q", "-dc", blob], stdout=subprocess.PIPE,
                                check=True).stdout
        import io
        stream = io.BytesIO(stream)
    else:
        stream = open(blob, "rb")
    out, members = [], 0
    with tarfile.open(fileobj=stream, mode="r|") as tf:
        for m in tf:
            p = refimage.normalize(m.name)
            if p == "":
                continue
            members += 1
            d, base = posixpath.split(p)
            if base == ".wh..wh..opq":
                out.append(("opaque", d, ""))
            elif base.startswith(".wh..wh."):
                pass
            elif base.startswith(".wh."):
                out.append(("whiteout", posixpath.join(d, base[4:]), ""))
            elif m.isdir():
                out.append(("dir", p, ""))
            elif m.issym():
                out.append(("symlink", p, m.linkname))
            elif m.islnk():
                out.append(("hardlink", p, refimage.normalize(m.linkname)))
            elif m.isreg():
                out.append(("file", p, ""))
    stream.close()
    return out, members


def parse_ls(out):
    rows = []
    for line in out.decode("utf-8", "surrogateescape").splitlines():
        kind, size, path, link = line.split("\t")[:4]
        rows.append((kind, path, link))
    return rows


def parse_count(out):
    return dict(l.split(" ", 1) for l in out.decode().splitlines())


class LayerLs(VigilCase):
    def test_ls_matches_tarfile_on_every_layer(self):
        seen = set()
        for ref, plat in images():
            if plat:
                continue
            for blob in blobs_of(ref) or []:
                if blob in seen:
                    continue
                seen.add(blob)
                with self.subTest(ref=ref, blob=os.path.basename(blob)[:12]):
                    want, members = oracle_entries(blob)
                    r = self.vigil("layer", "ls", blob)
                    self.assertEqual(r.rc, 0, r.describe())
                    self.assertEqual(parse_ls(r.out), want)
                    c = self.vigil("layer", "ls", "--count", blob)
                    self.assertEqual(c.rc, 0, c.describe())
                    counts = parse_count(c.out)
                    self.assertEqual(int(counts["entries"]), members)
                    for kind in ("file", "dir", "symlink", "hardlink", "whiteout"):
                        self.assertEqual(int(counts[kind + "s"]),
                                         sum(1 for k, _, _ in want if k == kind), kind)
        self.assertTrue(seen)

    def test_interest_keeps_content(self):
        blob = blobs_of("debian:bookworm-minbase")[0]
        r = self.vigil("layer", "ls", "--interest", "var/lib/dpkg/status",
                       "--interest", "*os-release", blob)
        self.assertEqual(r.rc, 0, r.describe())
        rows = [l.split("\t") for l in r.out.decode().splitlines()]
        kept = [f[2] for f in rows if f[4] == "kept"]
        for f in rows:
            self.assertEqual(len(f), 6 if f[4] == "kept" else 5, f)
        self.assertEqual(sorted(kept), ["usr/lib/os-release", "var/lib/dpkg/status"])


    def test_kept_content_matches_tarfile(self):
        """--interest '*' keeps every file: each digest must match tarfile's content (this
        exercises the zero-copy paths: content in the buffer, across it, read directly)."""
        for blob in blobs_of("debian-whiteout:bookworm")[1:] + \
                blobs_of("debian:bookworm-minbase"):
            want = {}
            with tarfile.open(blob, "r:*") as tf:
                for m in tf:
                    if m.isreg() and not posixpath.basename(m.name).startswith(".wh."):
                        data = tf.extractfile(m).read()
                        want[refimage.normalize(m.name)] = hashlib.sha256(data).hexdigest()
            r = self.vigil("layer", "ls", "--interest", "*", blob)
            self.assertEqual(r.rc, 0, r.describe())
            got = {}
            for line in r.out.decode("utf-8", "surrogateescape").splitlines():
                f = line.split("\t")
                if f[0] == "file":
                    self.assertEqual(f[4], "kept", line)
                    got[f[2]] = f[5]
            self.assertEqual(len(got), len(want))
            self.assertEqual(got, want)


class WhiteoutMerge(VigilCase):
    REF = "debian-whiteout:bookworm"
    GONE = ["usr/share/java/commons-io.jar",
            "usr/share/java/commons-io-2.11.0.jar",
            "usr/share/maven-repo/commons-io/commons-io/2.11.0/commons-io-2.11.0.jar",
            "usr/share/doc/libcommons-io-java/copyright"]

    def test_commons_io_gone_after_three_layers(self):
        blobs = blobs_of(self.REF)
        self.assertEqual(len(blobs), 3)
        args = ["layer", "merge"]
        for p in self.GONE:
            args += ["--lookup", p]
        two = self.vigil(*(args + blobs[:2]))
        self.assertEqual(two.rc, 0, two.describe())
        lines = two.out.decode().splitlines()
        self.assertEqual(len(lines), len(self.GONE))
        for line in lines:
            self.assertNotIn("\tabsent", line)  # present while layer 1 is on top
        three = self.vigil(*(args + blobs))
        self.assertEqual(three.rc, 0, three.describe())
        self.assertEqual(three.out.decode().splitlines(),
                         [p + "\tabsent" for p in self.GONE])

    def test_visible_files_match_reference_merge(self):
        prefixes = ("usr/share/", "var/lib/dpkg/", "etc/")
        image = refimage.Image(IMAGES, self.REF)
        ref = refimage.merge(image, lambda p: p.startswith(prefixes))
        want = sorted(p for p, e in ref.files.items() if e.kind == "file")
        r = self.vigil("layer", "merge", *blobs_of(self.REF))
        self.assertEqual(r.rc, 0, r.describe())
        got = [l.split("\t")[0] for l in r.out.decode("utf-8", "surrogateescape").splitlines()]
        got = [p for p in got if p.startswith(prefixes)]
        self.assertEqual(got, sorted(got, key=lambda s: s.encode("utf-8", "surrogateescape")))
        self.assertEqual(sorted(got), want)
        self.assertFalse([p for p in got if "commons-io" in p])


class LayerErrors(unittest.TestCase):
    """Bad blobs: exit 1 and one line naming the blob and the tar member (fixtures only)."""

    def check(self, name, *needles):
        path = os.path.join(FIXTURES, name)
        r = run(["layer", "ls", "--count", path])
        self.assertEqual(r.rc, 1, r.describe())
        lines = r.err_lines()
        self.assertEqual(len(lines), 1, lines)
        self.assertIn(path, lines[0])
        for n in needles:
            self.assertIn(n, lines[0])

    def test_errors(self):
        self.check("truncated.tar.gz", "in tar member 'usr/share/doc/readme'", "truncated")
        self.check("corrupt.tar.gz", "gzip data corrupt at compressed offset")
        self.check("absolute.tar", "'/etc/shadow'", "absolute")
        self.check("dotdot.tar", "'a/../../etc/x'")
        self.check("bad-checksum.tar", "after member 'ok.txt'")
        self.check("garbage.bin", "not a tar, gzip or zstd stream")

    def test_bomb_limit(self):
        path = os.path.join(FIXTURES, "bomb.tar.gz")
        r = run(["layer", "ls", "--count", "--max-output", "1000000", path])
        self.assertEqual(r.rc, 1, r.describe())
        self.assertIn("limit of 1000000 bytes", r.err_lines()[0])
        self.assertIn("zeros.bin", r.err_lines()[0])
        ok = run(["layer", "ls", "--count", path])
        self.assertEqual(ok.rc, 0, ok.describe())
        self.assertEqual(parse_count(ok.out)["tar_bytes"], str((10 << 20) + 1536))

    def test_truncated_real_layer(self):
        if not IMAGES:
            self.skipTest("VIGIL_TEST_IMAGES not set")
        blob = blobs_of("debian:bookworm-minbase")[0]
        d = tempfile.mkdtemp(prefix="vigil-e2e-layers-")
        try:
            cut = os.path.join(d, "cut.tar.gz")
            with open(blob, "rb") as src, open(cut, "wb") as dst:
                dst.write(src.read(os.path.getsize(blob) // 2))
            r = run(["layer", "ls", "--count", cut])
            self.assertEqual(r.rc, 1, r.describe())
            line = r.err_lines()[0]
            self.assertIn(cut, line)
            self.assertIn("tar member '", line)
            self.assertIn("gzip stream truncated at compressed offset", line)
        finally:
            shutil.rmtree(d)


if __name__ == "__main__":
    unittest.main()
