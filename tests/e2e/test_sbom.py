# SPDX-License-Identifier: Apache-2.0
"""End-to-end tests of `vigil sbom` on the real test images, against an independent reference.

The expected inventory comes from refinventory.py (Python tarfile + whiteouts for the image,
its own dpkg/apk parsers and the real `rpm` tool for rpm databases), never from vigil. Every
image in VIGIL_TEST_IMAGES is checked package by package: (type, name, version, arch, source
name, source version, epoch[, rpm release]) of the OS packages (deb, apk, rpm; language
packages are not compared here) and the layer each package is attributed to; plus
OS, image digests, layers, a warm (layer-cache) run giving identical output, CycloneDX purls,
and bad inputs (corrupt/truncated/missing blobs, unknown ref, '../' tar entry, garbage dpkg
status) that must fail with exit status 1 and one stderr line naming the image and the culprit.

Skipped only when VIGIL_TEST_IMAGES is unset (with a loud message). Every run is bounded.
"""

import json
import os
import re
import unittest
import urllib.parse

import refimage
import refinventory
import vigil_e2e as E

_REF = {}


def reference(ref, platform):
    k = (ref, platform)
    if k not in _REF:
        img = refimage.Image(E.IMAGES, ref, platform)
        inv = refinventory.image_inventory(img)
        _REF[k] = (img, inv)
    return _REF[k]


def pkg_tuple(p):
    t = (p["type"], p["name"], p["version"], p.get("arch", ""), p.get("sourceName", ""),
         p.get("sourceVersion", ""), int(p.get("epoch") or 0))
    if p["type"] == "rpm":
        t += (p.get("release", ""),)
    return t


# The reference knows the OS package databases; language packages (npm, python, jar, go)
# are not compared here.
OS_TYPES = ("deb", "apk", "rpm")

TUPLE_FIELDS = "(type, name, version, arch, sourceName, sourceVersion, epoch[, release])"


def set_diff(label, want, got, limit=40):
    """Readable difference of two sets ('' when equal)."""
    missing = sorted(want - got)
    extra = sorted(got - want)
    if not missing and not extra:
        return ""
    lines = ["%s: %d expected, %d reported" % (label, len(want), len(got))]
    for x in missing[:limit]:
        lines.append("  missing (reference has, vigil lacks): %s" % (x,))
    for x in extra[:limit]:
        lines.append("  extra   (vigil has, reference lacks): %s" % (x,))
    if len(missing) > limit or len(extra) > limit:
        lines.append("  ... %d missing, %d extra in all" % (len(missing), len(extra)))
    return "\n".join(lines)


def expected_purl(p, os_info):
    """Package URL per the purl spec: percent-encoded name and version (':' stays as it is),
    qualifiers sorted by key. deb: distro=debian-<VERSION_ID>; apk: distro=<VERSION_ID>;
    rpm: namespace = the os-release ID, version VERSION-RELEASE, epoch as a qualifier."""
    q = urllib.parse.quote
    quals = {"arch": p["arch"]}
    if p["type"] == "deb":
        ns, ver = "debian", p["version"]
        quals["distro"] = "debian-%s" % os_info["versionId"]
    elif p["type"] == "apk":
        ns, ver = "alpine", p["version"]
        quals["distro"] = os_info["versionId"]
    else:
        ns = os_info["id"]
        ver = p["version"].split(":", 1)[1] if ":" in p["version"] else p["version"]
        quals["distro"] = "%s-%s" % (os_info["id"], os_info["versionId"])
        if p["epoch"]:
            quals["epoch"] = str(p["epoch"])
    qs = "&".join("%s=%s" % (k, q(v, safe="")) for k, v in sorted(quals.items()) if v)
    return "pkg:%s/%s/%s@%s?%s" % (p["type"], ns, q(p["name"], safe=""), q(ver, safe=":"), qs)


def slug(ref, platform):
    s = re.sub(r"[^a-zA-Z0-9]+", "_", ref + ("_" + platform if platform else ""))
    return s.strip("_")


class SbomImages(E.VigilCase):
    """vigil sbom --format json on every test image, compared with the reference."""

    def sbom(self, ref, platform, fmt="json"):
        args = ["sbom", "--format", fmt]
        if platform:
            args += ["--platform", platform]
        args.append(E.image_arg(ref))
        r = self.vigil(*args)
        self.assertEqual(r.rc, 0, r.describe())
        return r

    def check_image(self, ref, platform):
        img, inv = reference(ref, platform)
        r = self.sbom(ref, platform)
        doc = r.json()
        # image identity
        self.assertEqual(doc["image"]["manifestDigest"], img.manifest_digest)
        self.assertEqual(doc["image"]["configDigest"], img.config_digest)
        self.assertEqual(doc["image"]["platform"], refimage.platform_string(img.platform))
        self.assertIn(ref, doc["image"]["ref"])
        # OS
        for k in ("id", "versionId", "codename", "prettyName"):
            self.assertEqual(doc["os"].get(k, ""), inv["os"][k], "os.%s of %s" % (k, ref))
        # layers
        want_layers = [(l.digest, l.diff_id, l.size) for l in img.layers]
        got_layers = [(l["digest"], l["diffId"], l["size"]) for l in doc["layers"]]
        self.assertEqual(got_layers, want_layers, "layers of %s" % ref)
        # packages, field by field
        want = {pkg_tuple(p) for p in inv["packages"]}
        got = [pkg_tuple(p) for p in doc["packages"] if p["type"] in OS_TYPES]
        self.assertEqual(len(got), len(set(got)), "duplicate packages in vigil's output")
        d = set_diff("packages of %s %s" % (ref, TUPLE_FIELDS), want, set(got))
        self.assertFalse(d, "\n" + d)
        # layer attribution
        want_l = {(p["type"], p["name"], p["arch"], p["layer"], p["layerDigest"])
                  for p in inv["packages"]}
        got_l = {(p["type"], p["name"], p.get("arch", ""), p["layer"], p["layerDigest"])
                 for p in doc["packages"] if p["type"] in OS_TYPES}
        d = set_diff("layer attribution of %s (type, name, arch, layer, layerDigest)" % ref,
                     want_l, got_l)
        self.assertFalse(d, "\n" + d)
        return r, doc, img, inv

    def test_warm_run_identical(self):
        """A second run (layers from the cache) prints byte-identical output."""
        ref = "debian-vuln:bookworm-oldpkgs"
        a = self.sbom(ref, None)
        self.assertTrue(any(os.scandir(self.cache)), "cache directory %s stays empty" % self.cache)
        b = self.sbom(ref, None)
        self.assertEqual(a.out, b.out, "warm run output differs from the cold one")
        c = self.sbom(ref, None, fmt="cyclonedx")
        d = self.sbom(ref, None, fmt="cyclonedx")
        self.assertEqual(json.loads(c.out)["components"], json.loads(d.out)["components"])

    def test_debian_vuln_layers(self):
        """The downgraded packages (old-packages.txt in the image) come from layer 2, every
        package unchanged from the base from layer 1."""
        ref = "debian-vuln:bookworm-oldpkgs"
        img, inv = reference(ref, None)
        text = refimage.merge(img, lambda p: p == "usr/share/mti/old-packages.txt").read(
            "usr/share/mti/old-packages.txt")
        self.assertIsNotNone(text, "old-packages.txt missing from the reference tree")
        old = {}
        for line in text.decode().splitlines():
            if line.strip():
                name, ver = line.split()[:2]
                old[name] = ver
        self.assertEqual(set(old), {"openssl", "libssl3", "curl", "libcurl4", "libxml2"})
        base_img, base_inv = reference("debian:bookworm-minbase", None)
        base = {(p["name"], p["version"]) for p in base_inv["packages"]}
        doc = self.sbom(ref, None).json()
        by = {p["name"]: p for p in doc["packages"]}
        for name, ver in old.items():
            self.assertIn(name, by, "%s not reported" % name)
            self.assertEqual(by[name]["version"], ver)
            self.assertEqual(by[name]["layer"], 1, "%s %s: layer" % (name, ver))
            self.assertEqual(by[name]["layerDigest"], img.layers[1].digest)
        for p in doc["packages"]:
            if (p["name"], p["version"]) in base:
                self.assertEqual(p["layer"], 0, "%s is unchanged from the base" % p["name"])
                self.assertEqual(p["layerDigest"], img.layers[0].digest)
            else:
                self.assertEqual(p["layer"], 1, "%s was installed in layer 2" % p["name"])

    def test_whiteout(self):
        """libcommons-io-java is installed by layer 2 and purged by layer 3 (whiteouts and an
        opaque directory): not reported, and its dpkg file list is gone from the merged tree."""
        ref = "debian-whiteout:bookworm"
        img, inv = reference(ref, None)
        # the reference itself: layer 2's view has the package, the merged tree does not
        snap1 = inv["merged"].snapshots[1]
        self.assertIn("libcommons-io-java", snap1["var/lib/dpkg/status"].data.decode())
        merged = refimage.merge(img, lambda p: False, all_paths=True)
        self.assertNotIn("var/lib/dpkg/info/libcommons-io-java.list", merged.paths)
        self.assertFalse([p for p in merged.paths if p.startswith("usr/share/java/commons-io")])
        doc = self.sbom(ref, None).json()
        names = {p["name"] for p in doc["packages"]}
        self.assertFalse({n for n in names if "commons-io" in n},
                         "a purged package is reported")
        # vigil's own merged view of the tree (vigil layer merge on the three blobs) lists
        # exactly the reference's regular files, each from the same layer
        blobs = [os.path.join(E.IMAGES, "blobs", "sha256", l.digest.split(":", 1)[1])
                 for l in img.layers]
        r = self.vigil("layer", "merge", *blobs)
        self.assertEqual(r.rc, 0, r.describe())
        got = set()
        for line in r.out.decode().splitlines():
            f = line.split("\t")
            got.add((f[0], int(f[1])))
        want = {(p, l) for p, (l, kind) in merged.paths.items() if kind == "file"}
        self.assertIn(("usr/share/maven-repo/README", 2), want)
        d = set_diff("merged regular files (path, layer)", want, got)
        self.assertFalse(d, "\n" + d)

    def test_cyclonedx_purls(self):
        for ref in ("debian-vuln:bookworm-oldpkgs", "alpine-synthetic:3.19.0",
                    "rocky-synthetic:9.3"):
            img, inv = reference(ref, None)
            r = self.sbom(ref, None, fmt="cyclonedx")
            doc = r.json()
            self.assertEqual(doc.get("bomFormat"), "CycloneDX")
            comps = [c for c in doc.get("components", []) if c.get("type") != "operating-system"
                     and c.get("purl", "").split("/")[0] in ("pkg:deb", "pkg:apk", "pkg:rpm")]
            purls = [c.get("purl", "") for c in comps]
            self.assertEqual(len(purls), len(inv["packages"]), "one component per package")
            self.assertTrue(all(purls), "a component without purl in %s" % ref)
            want = sorted(expected_purl(p, inv["os"]) for p in inv["packages"])
            self.assertEqual(sorted(purls), want, "purls of %s" % ref)


def _add_image_tests():
    for ref, platform in E.images():
        def t(self, ref=ref, platform=platform):
            self.check_image(ref, platform)
        t.__doc__ = "sbom of %s%s equals the reference" % (ref, " " + platform if platform else "")
        setattr(SbomImages, "test_image_%s" % slug(ref, platform), t)


_add_image_tests()


class SbomBadInput(E.VigilCase):
    """Broken images: exit status 1 and exactly one stderr line that names the image and,
    where there is one, the layer digest and the file."""

    BASE = "alpine-synthetic:3.19.0"

    def builder(self, name, src_ref=None):
        d = os.path.join(self.tmp, name)
        return E.LayoutBuilder(E.IMAGES, src_ref or self.BASE, d, ref="bad:" + name), d

    def expect_failure(self, layout, ref, *needles):
        r = self.vigil("sbom", "--format", "json", "--no-cache", E.image_arg(ref, layout))
        self.assertEqual(r.rc, 1, r.describe())
        lines = r.err_lines()
        self.assertEqual(len(lines), 1, "want one stderr line, got:\n" + "\n".join(lines))
        line = lines[0]
        self.assertIn(ref, line, "stderr does not name the image")
        for n in needles:
            if n.startswith("sha256:"):
                short = n.split(":", 1)[1][:12]
                self.assertIn(short, line, "stderr does not name %s" % n)
            else:
                self.assertIn(n, line, "stderr does not name %r" % n)
        self.assertEqual(r.out.strip(), b"", "no inventory may be printed on failure")
        return line

    def test_corrupt_layer_blob(self):
        b, d = self.builder("corrupt")
        data = open(os.path.join(E.IMAGES, "blobs", "sha256",
                                 b.layer_digest(1).split(":")[1]), "rb").read()
        bad = bytearray(data)
        bad[len(bad) // 2] ^= 0xFF
        dg = b.replace_layer(1, bytes(bad), fix_digests=False)
        b.write()
        self.expect_failure(d, b.ref, dg)

    def test_truncated_gzip_layer(self):
        b, d = self.builder("truncated")
        data = open(os.path.join(E.IMAGES, "blobs", "sha256",
                                 b.layer_digest(1).split(":")[1]), "rb").read()
        self.assertEqual(data[:2], b"\x1f\x8b")
        dg = b.replace_layer(1, data[: len(data) // 2], fix_digests=True)
        b.write()
        # only the gzip stream is bad: every digest in the layout matches its blob
        img = refimage.Image(d, b.ref)
        self.assertEqual(img.layers[1].digest, dg)
        self.expect_failure(d, b.ref, dg)

    def test_missing_blob(self):
        b, d = self.builder("missing")
        dg = b.layer_digest(0)
        b.write()
        b.remove_blob(dg)
        self.expect_failure(d, b.ref, dg)

    def test_unknown_ref(self):
        self.expect_failure(E.IMAGES, "no-such-image:nowhere")

    def test_dotdot_entry(self):
        b, d = self.builder("dotdot")
        tar = E.make_tar([("etc", None), ("etc/motd", b"hi\n"), ("../escape", b"x\n")])
        dg = b.add_layer(E.gz(tar), E.sha256(tar))
        b.write()
        self.expect_failure(d, b.ref, dg, "../escape")

    def test_garbage_dpkg_status(self):
        d = os.path.join(self.tmp, "dpkg-garbage")
        b = E.LayoutBuilder(None, None, d, ref="bad:dpkg-garbage")
        status = (b"Package: libfoo\nStatus: install ok installed\nVersion: 1.0-1\n"
                  b"Architecture: amd64\n\x00\x01\x02 this line is not a field \xff\xfe\n\n"
                  b"Package: bar\nStatus: install ok installed\nVersion: 2.0\n")
        tar = E.make_tar([
            ("etc", None),
            ("etc/os-release", b'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n'
                               b'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n'),
            ("var", None), ("var/lib", None), ("var/lib/dpkg", None),
            ("var/lib/dpkg/status", status)])
        dg = b.add_layer(E.gz(tar), E.sha256(tar))
        b.write()
        self.expect_failure(d, b.ref, dg, "var/lib/dpkg/status")


if __name__ == "__main__":
    unittest.main()
