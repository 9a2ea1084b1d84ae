# SPDX-License-Identifier: Apache-2.0
"""End-to-end tests of vigil's language-package scanning against an independent reference.

The truth comes from reflang.py (never from vigil): the image read by refimage.py (Python
tarfile + whiteouts); npm package.json / package-lock.json, Python METADATA / PKG-INFO, jar
pom.properties (nested BOOT-INF/lib and WEB-INF/lib jars too) parsed in Python, Go build info
from the real `go version -m`; OSV ranges evaluated with each ecosystem's own comparator: node's
`semver` (npm), python3-packaging (PyPI), Maven's ComparableVersion (Maven) and
golang.org/x/mod/semver (Go).

- ReferenceLang: the reference alone, on the real images: the inventory says what the images
  were built with (tools README), the known advisories of lodash 4.17.15, minimist 1.2.0,
  node-fetch 2.6.0, jsonwebtoken 8.5.1 and express 4.17.1's tree are found with their fixed-in
  versions, polyglot has PyPI, Maven and Go findings, the whiteout image has no commons-io, and
  each oracle answers as its ecosystem documents. Counts are printed (stderr).
- LangVsVigil: `vigil sbom --format json` language packages equal the reference's (type, name,
  version, file path) and layers; `vigil scan --format enhanced-json --scanners os,lang`
  language findings equal the reference's, finding by finding (id, package, installed,
  fixed-in; "NotAvailable" = no fix), with a readable diff on failure; each finding's
  packageManager, filePath and sourceLayerHash agree with the file it came from. Jars without
  pom.properties (h2, atinject, jsr305) have no authoritative Maven name: vigil's version for
  them must be one the archive states, and the reference matches them under vigil's name.
- SyntheticLang: alpine-synthetic plus layers with malicious (MAL) npm/PyPI packages, a war
  with WEB-INF/lib, a shaded jar, a lockfile v1, a non-normalised Python name, a single-file
  egg-info, a whiteout and a replaced package.json; sbom and scan equal the reference.

Skipped only when VIGIL_TEST_IMAGES is unset (loudly). Every child process is bounded.
"""

import hashlib
import io
import json
import os
import sys
import time
import unittest
import zipfile

import refimage
import reflang
import vigil_e2e as E

LANG_IMAGES = ["node-app:vuln-deps", "polyglot:bookworm", "debian-whiteout:bookworm"]

# vigil's inventory `type` strings for language packages -> the reference's types
VIGIL_TYPES = {"npm": "npm", "pypi": "pypi", "maven": "maven", "golang": "go"}
# Inspector's packageManager values in enhanced findings -> the reference's types
PACKAGE_MANAGERS = {"NODEPKG": "npm", "NPM": "npm", "PYTHONPKG": "pypi", "PIP": "pypi",
                    "JAR": "maven", "POM": "maven", "GOBINARY": "go", "GOMOD": "go"}
OS_PACKAGE_MANAGERS = ("OS", "DPKG", "APK", "RPM")

_REF = {}


def reference(ref):
    """(image, LangInventory, findings) of the reference, computed once per run."""
    if ref not in _REF:
        t = time.time()
        img = refimage.Image(E.IMAGES, ref)
        inv = reflang.image_inventory(img)
        t1 = time.time()
        fs = reflang.match(inv, E.VULNDB)
        counts = {}
        for p in inv.packages:
            counts[p["type"]] = counts.get(p["type"], 0) + 1
        sys.stderr.write("\n[reflang] %s: packages %s (%d distinct), %d archives without "
                         "pom.properties (%.1fs); findings %d, unfixed %d (%.1fs)\n" % (
                             ref, counts, len(inv.tuples(with_path=False)),
                             len(inv.unidentified), t1 - t, len(fs),
                             sum(1 for f in fs if not f["fixed"]), time.time() - t1))
        _REF[ref] = (img, inv, fs)
    return _REF[ref]


def set_diff(label, want, got, limit=40):
    missing = sorted(want - got)
    extra = sorted(got - want)
    if not missing and not extra:
        return ""
    lines = ["%s: reference %d, vigil %d" % (label, len(want), len(got))]
    for x in missing[:limit]:
        lines.append("  missing in vigil: %s" % (x,))
    for x in extra[:limit]:
        lines.append("  extra in vigil:   %s" % (x,))
    if len(missing) > limit or len(extra) > limit:
        lines.append("  ... %d missing, %d extra in all" % (len(missing), len(extra)))
    return "\n".join(lines)


def diff_findings(label, want, got, limit=60):
    missing = sorted(want - got)
    extra = sorted(got - want)
    if not missing and not extra:
        return ""
    lines = ["%s: reference %d findings, vigil %d (id, package, installed, fixed-in)"
             % (label, len(want), len(got))]
    by_key = {}
    for t in missing:
        by_key.setdefault(t[:3], [None, None])[0] = t[3]
    for t in extra:
        by_key.setdefault(t[:3], [None, None])[1] = t[3]
    for n, k in enumerate(sorted(by_key)):
        if n >= limit:
            lines.append("  ... %d keys differ in all" % len(by_key))
            break
        w, g = by_key[k]
        if w is not None and g is not None:
            lines.append("  different fix    %s %s %s: reference %r, vigil %r" % (k + (w, g)))
        elif w is not None:
            lines.append("  missing in vigil %s %s %s (fixed %r)" % (k + (w,)))
        else:
            lines.append("  extra in vigil   %s %s %s (fixed %r)" % (k + (g,)))
    return "\n".join(lines)


def find(findings, fid, pkg, ver):
    for f in findings:
        if (f["id"], f["package"], f["version"]) == (fid, pkg, ver):
            return f
    return None


# ====================================================================== reference alone

class ReferenceLang(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        E.require_images()
        t = time.time()
        for ref in LANG_IMAGES:
            reference(ref)
        cls.secs = time.time() - t

    def assertFindings(self, findings, expected):
        """expected: (id, package, installed, fixed-in) that must all be in the findings."""
        got = reflang.finding_tuples(findings)
        missing = [e for e in expected if e not in got]
        self.assertFalse(missing, "known advisories not found (or with another fix): %s\n"
                         "near them: %s" % (missing, sorted(
                             t for t in got if t[1] in {m[1] for m in missing})))

    def test_runs_fast(self):
        self.assertLess(self.secs, 60, "the reference took %.1fs for %d images" % (
            self.secs, len(LANG_IMAGES)))

    def test_node_app_inventory(self):
        _, inv, _ = reference("node-app:vuln-deps")
        mods = {(p["name"], p["version"]) for p in inv.packages
                if p["path"].startswith("app/node_modules/")}
        lock = {(p["name"], p["version"]) for p in inv.packages
                if p["path"] == "app/package-lock.json"}
        self.assertGreaterEqual(len(mods), 60)
        self.assertEqual(mods, lock, "node_modules and the lockfile disagree")
        for nv in [("lodash", "4.17.15"), ("minimist", "1.2.0"), ("node-fetch", "2.6.0"),
                   ("jsonwebtoken", "8.5.1"), ("express", "4.17.1"), ("qs", "6.7.0"),
                   ("body-parser", "1.19.0"), ("path-to-regexp", "0.1.7")]:
            self.assertIn(nv, mods)
            self.assertIn(("npm",) + nv + ("app/node_modules/%s/package.json" % nv[0],),
                          inv.tuples())
        # the application itself (app/package.json, the lockfile's root) is not a dependency
        self.assertNotIn("mti-vulnerable-node-app", {p["name"] for p in inv.packages})
        self.assertEqual({p["type"] for p in inv.packages}, {"npm"})

    def test_node_app_known_advisories(self):
        _, _, fs = reference("node-app:vuln-deps")
        self.assertFindings(fs, [
            ("CVE-2020-8203", "lodash", "4.17.15", "4.17.19"),
            ("CVE-2020-28500", "lodash", "4.17.15", "4.17.21"),
            ("CVE-2021-23337", "lodash", "4.17.15", "4.17.21"),
            ("CVE-2020-7598", "minimist", "1.2.0", "1.2.3"),
            ("CVE-2021-44906", "minimist", "1.2.0", "1.2.6"),
            ("CVE-2020-15168", "node-fetch", "2.6.0", "2.6.1"),
            ("CVE-2022-0235", "node-fetch", "2.6.0", "2.6.7"),
            ("CVE-2022-23539", "jsonwebtoken", "8.5.1", "9.0.0"),
            ("CVE-2022-23540", "jsonwebtoken", "8.5.1", "9.0.0"),
            ("CVE-2022-23541", "jsonwebtoken", "8.5.1", "9.0.0"),
            ("CVE-2024-29041", "express", "4.17.1", "4.19.2"),
            ("CVE-2024-43796", "express", "4.17.1", "4.20.0"),
            ("CVE-2022-24999", "qs", "6.7.0", "6.7.3"),
            ("CVE-2024-45590", "body-parser", "1.19.0", "1.20.3"),
            ("CVE-2024-45296", "path-to-regexp", "0.1.7", "0.1.10"),
            ("CVE-2024-52798", "path-to-regexp", "0.1.7", "0.1.12"),
            ("CVE-2024-43799", "send", "0.17.1", "0.19.0"),
            ("CVE-2024-43800", "serve-static", "1.14.1", "1.16.0"),
        ])
        # a GHSA without CVE keeps its GHSA id
        self.assertTrue(find(fs, "GHSA-7fhm-mqm4-2wp7", "minimist", "1.2.0"))
        # nothing fixed at or below what is installed
        cmp = reflang.NpmComparator()
        bad = [f for f in fs if f["fixed"] and cmp(f["fixed"], f["version"]) <= 0]
        self.assertFalse(bad)
        # lodash 4.17.15 is newer than CVE-2019-10744's fix (4.17.12): not reported
        self.assertIsNone(find(fs, "CVE-2019-10744", "lodash", "4.17.15"))

    def test_polyglot_inventory(self):
        _, inv, _ = reference("polyglot:bookworm")
        py = {(p["name"], p["version"]) for p in inv.by_type("pypi")}
        for nv in [("requests", "2.28.1"), ("urllib3", "1.26.12"), ("jinja2", "3.1.2"),
                   ("idna", "3.3"), ("certifi", "2022.9.24"), ("pyyaml", "6.0")]:
            self.assertIn(nv, py)
        self.assertTrue({"six", "markupsafe", "chardet", "charset-normalizer"} <=
                        {n for n, _ in py}, py)
        mv = {(p["name"], p["version"], p["path"]) for p in inv.by_type("maven")}
        for t in [("com.google.guava:guava", "31.1-jre", "usr/share/java/guava.jar"),
                  ("commons-io:commons-io", "2.11.0", "usr/share/java/commons-io.jar"),
                  ("com.fasterxml.jackson.core:jackson-databind", "2.14.0",
                   "usr/share/java/jackson-databind.jar"),
                  ("org.yaml:snakeyaml", "1.33",
                   "opt/app/app.jar!BOOT-INF/lib/snakeyaml-1.33.jar"),
                  ("commons-io:commons-io", "2.11.0",
                   "opt/app/app.jar!BOOT-INF/lib/commons-io-2.11.0.jar"),
                  ("org.apache.commons:commons-compress", "1.22",
                   "opt/app/app.jar!BOOT-INF/lib/commons-compress-1.22.jar")]:
            self.assertIn(t, mv)
        # Debian's versioned symlinks (commons-io-2.11.0.jar -> commons-io.jar) add nothing
        self.assertFalse([t for t in mv if t[2].startswith("usr/share/maven-repo/")])
        unid = {u["path"] for u in inv.unidentified}
        self.assertTrue({"usr/share/java/h2-2.1.214.jar",
                         "usr/share/java/atinject-jsr330-api-1.0.jar",
                         "usr/share/java/jsr305-0.1~+svn49.jar"} <= unid, unid)
        go = {(p["name"], p["version"], p["path"]) for p in inv.by_type("go")}
        self.assertEqual(go, {("golang.org/x/net", "v0.7.0", "usr/local/bin/scanme"),
                              ("gopkg.in/yaml.v2", "v2.4.0", "usr/local/bin/scanme"),
                              ("stdlib", "1.19.8", "usr/local/bin/scanme"),
                              ("stdlib", "1.19.8", "usr/bin/shfmt")})

    def test_polyglot_findings(self):
        _, _, fs = reference("polyglot:bookworm")
        self.assertEqual({f["ecosystem"] for f in fs}, {"PyPI", "Maven", "Go"})
        self.assertFindings(fs, [
            ("CVE-2023-32681", "requests", "2.28.1", "2.31.0"),
            ("CVE-2023-43804", "urllib3", "1.26.12", "1.26.17"),
            ("CVE-2024-22195", "jinja2", "3.1.2", "3.1.3"),
            ("CVE-2022-1471", "org.yaml:snakeyaml", "1.33", "2.0"),
            ("CVE-2024-47554", "commons-io:commons-io", "2.11.0", "2.14.0"),
            ("CVE-2023-44487", "golang.org/x/net", "v0.7.0", "0.17.0"),
            ("CVE-2023-29403", "stdlib", "1.19.8", "1.19.10"),
        ])
        # GHSA and PYSEC records of one issue are one finding named by the CVE
        f = find(fs, "CVE-2023-32681", "requests", "2.28.1")
        self.assertTrue({x.split("-")[0] for x in f["record_ids"]} >= {"GHSA", "PYSEC"},
                        f["record_ids"])
        self.assertEqual(len(fs), len(reflang.finding_tuples(fs)))

    def test_whiteout_no_commons_io(self):
        _, inv, fs = reference("debian-whiteout:bookworm")
        self.assertFalse([p for p in inv.packages if "commons-io" in p["name"]], inv.packages)
        self.assertFalse([f for f in fs if "commons-io" in f["package"]])
        # ... while the layer that installed it does have the jar
        img = reference("debian-whiteout:bookworm")[0]
        m = refimage.merge(img, lambda p: p.endswith(".jar"))
        self.assertTrue(any("commons-io" in p for snap in m.snapshots for p in snap))

    def test_oracles_agree_with_osv_dev(self):
        """osv.dev enumerates the versions each range covers with its own comparators; with our
        oracles every enumerated version falls inside its ranges (first ~20,000 per
        ecosystem). The one Go exception is a record listing "2.10.0-rc1", which is not the
        SemVer spelling its range uses."""
        for eco, least, allowed in (("Maven", 10000, set()), ("PyPI", 10000, set()),
                                    ("npm", 3000, set()),
                                    ("Go", 50, {("GHSA-92mw-q256-5vwg",
                                                 "github.com/argoproj/argo-cd/v2",
                                                 "2.10.0-rc1")})):
            n, bad = reflang.selfcheck_versions(eco, E.VULNDB)
            self.assertGreaterEqual(n, least, eco)
            self.assertFalse(set(bad) - allowed, "%s: %d of %d listed versions outside their "
                             "ranges: %s" % (eco, len(bad), n, bad[:10]))

    def test_finding_ids(self):
        """Finding ids on real records: a GHSA with a CVE alias -> the CVE; a GO record
        aliasing a GHSA and no CVE -> the GHSA (the same finding as the GHSA record); MAL ->
        MAL."""
        db = reflang.LangDB.get(E.VULNDB)
        r = db.records
        self.assertEqual(reflang.finding_id(r["GHSA-p6mc-m468-83gw"]), "CVE-2020-8203")
        self.assertEqual(reflang.finding_id(r["GO-2022-0360"]), "GHSA-5j5w-g665-5m35")
        self.assertEqual(reflang.finding_id(r["MAL-2022-1122"]), "MAL-2022-1122")
        self.assertEqual(reflang.finding_id(r["GHSA-7fhm-mqm4-2wp7"]), "GHSA-7fhm-mqm4-2wp7")

    def test_oracles(self):
        c = reflang.comparators()
        cases = {
            "npm": [("1.0.0-alpha", "1.0.0", -1), ("1.0.0-alpha.1", "1.0.0-alpha.beta", -1),
                    ("1.0.0+build.5", "1.0.0", 0), ("1.10.0", "1.9.0", 1),
                    ("4.17.15", "4.17.21", -1)],
            "PyPI": [("1.0rc1", "1.0", -1), ("1.0", "1.0.post1", -1), ("1.0.dev0", "1.0a1", -1),
                     ("1!0.1", "2.0", 1), ("2022.9.24", "2022.12.07", -1), ("1.0", "1.0.0", 0)],
            "Maven": [("1.0-alpha-1", "1.0", -1), ("1.0", "1.0-sp", -1),
                      ("31.1-jre", "32.0.0-android", -1), ("1.0", "1.0.0", 0),
                      ("1.0-SNAPSHOT", "1.0", -1), ("1.0-rc1", "1.0-beta2", 1)],
            "Go": [("v0.7.0", "0.17.0", -1), ("1.19.8", "1.20", -1), ("1.21rc2", "1.21.0", -1),
                   ("v2.4.0+incompatible", "v2.4.0", 0),
                   ("v0.0.0-20230101000000-abcdefabcdef", "v0.0.1", -1)],
        }
        for eco, lst in cases.items():
            for a, b, want in lst:
                self.assertEqual(c[eco](a, b), want, "%s: %s vs %s" % (eco, a, b))
        with self.assertRaises(reflang.IncomparableError):
            c["npm"]("not-a-version", "1.0.0")


# ====================================================================== vigil vs reference

def vigil_lang_packages(doc):
    """Language packages of a `vigil sbom --format json` document as (type, name, version,
    dbPath, layer) with the reference's type names; unknown non-OS types fail."""
    out = []
    for p in doc.get("packages", []):
        t = p.get("type")
        if t in ("deb", "apk", "rpm"):
            continue
        if t not in VIGIL_TYPES:
            raise AssertionError("vigil sbom: unknown package type %r in %s" % (t, p))
        out.append((VIGIL_TYPES[t], p.get("name"), p.get("version"), p.get("dbPath"),
                    p.get("layer")))
    return out


def vigil_lang_findings(doc):
    """(id, package, installed, fixed-in, filePath, type, sourceLayerHash) of the language
    findings of an enhanced-json document."""
    out = []
    for f in doc["imageScanFindings"].get("enhancedFindings", []):
        d = f["packageVulnerabilityDetails"]
        for vp in d.get("vulnerablePackages", []):
            pm = vp.get("packageManager", "")
            if pm in OS_PACKAGE_MANAGERS:
                continue
            if pm not in PACKAGE_MANAGERS:
                raise AssertionError("vigil scan: unknown packageManager %r in %s" % (pm, vp))
            fixed = vp.get("fixedInVersion") or ""
            out.append((d["vulnerabilityId"], vp["name"], vp.get("version", ""),
                        "" if fixed == "NotAvailable" else fixed, vp.get("filePath"),
                        PACKAGE_MANAGERS[pm], vp.get("sourceLayerHash")))
    return out


def slug(ref):
    return "".join(c if c.isalnum() else "_" for c in ref)


class LangVsVigil(E.VigilCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._sbom = {}
        cls._scan = {}

    def sbom(self, ref):
        if ref not in self._sbom:
            r = self.vigil("sbom", "--format", "json", E.image_arg(ref))
            self.assertEqual(r.rc, 0, r.describe())
            self._sbom[ref] = r.json()
        return self._sbom[ref]

    def scan(self, ref):
        if ref not in self._scan:
            r = self.vigil("scan", "--format", "enhanced-json", "--scanners", "os,lang",
                           "--db", E.shared_db(), E.image_arg(ref))
            self.assertEqual(r.rc, 0, r.describe())
            self._scan[ref] = r.json()
        return self._scan[ref]

    def check_sbom(self, ref):
        _, inv, _ = reference(ref)
        got = vigil_lang_packages(self.sbom(ref))
        unid = {u["path"]: u for u in inv.unidentified}
        main = [g for g in got if g[3] not in unid]
        self.assertEqual(len(main), len(set(main)), "duplicate packages in vigil's sbom")
        want = {(p["type"], p["name"], p["version"], p["path"]) for p in inv.packages}
        d = set_diff(ref + " language packages (type, name, version, path)", want,
                     {g[:4] for g in main})
        if d:
            self.fail("\n" + d)
        # each package is attributed to the layer of the file it was read from
        want_l = {(p["type"], p["name"], p["version"], p["path"], p["layer"])
                  for p in inv.packages}
        d = set_diff(ref + " language packages with layer", want_l, set(main))
        if d:
            self.fail("\n" + d)
        # archives without pom.properties: the reference cannot name them, but whatever vigil
        # reports for one is one package with a version the archive states
        for path, u in unid.items():
            rep = [g for g in got if g[3] == path]
            self.assertLessEqual(len(rep), 1, "%s: %s" % (path, rep))
            for g in rep:
                self.assertEqual(g[0], "maven", g)
                self.assertIn(g[2], u["versions"], "%s: version %r not among %s" % (
                    path, g[2], u["versions"]))

    def check_scan(self, ref):
        img, inv, fs = reference(ref)
        unid = {u["path"] for u in inv.unidentified}
        if unid:
            # archives without pom.properties: the reference takes the name vigil gives them
            # (its version is checked against the archive in check_sbom) and matches it itself
            extra = [{"type": t, "name": n, "version": v, "path": p, "layer": l}
                     for t, n, v, p, l in vigil_lang_packages(self.sbom(ref)) if p in unid]
            sys.stderr.write("\n[reflang] %s: vigil names the archives without pom.properties "
                             "%s\n" % (ref, [(x["name"], x["version"]) for x in extra]))
            inv = reflang.LangInventory(inv.packages + extra, [])
            fs = reflang.match(inv, E.VULNDB)
        main = vigil_lang_findings(self.scan(ref))
        keys = [(g[0], g[1], g[2], g[4]) for g in main]
        self.assertEqual(len(keys), len(set(keys)), "a language finding is reported twice for "
                         "one file: %s" % sorted(k for k in keys if keys.count(k) > 1)[:10])
        tuples = {g[:4] for g in main}
        d = diff_findings(ref + " language findings", reflang.finding_tuples(fs), tuples)
        if d:
            self.fail("\n" + d)
        # type and file path of each finding agree with the reference
        by_key = {(f["id"], f["package"], f["version"]): f for f in fs}
        bad = []
        for g in main:
            f = by_key[g[:3]]
            if g[5] != f["type"] or (g[4] is not None and g[4] not in f["paths"]):
                bad.append((g, f["type"], sorted(f["paths"])))
        self.assertFalse(bad, "findings with another type or file path: %s" % bad[:10])
        # the layer named is the one the file came from
        layer_of = {(p["name"], p["version"], p["path"]): img.layers[p["layer"]].digest
                    for p in inv.packages}
        bad = [(g, layer_of.get((g[1], g[2], g[4]))) for g in main
               if g[4] is not None and g[6] is not None
               and layer_of.get((g[1], g[2], g[4])) != g[6]]
        self.assertFalse(bad, "findings naming another layer: %s" % bad[:10])

    def test_whiteout_no_commons_io(self):
        ref = "debian-whiteout:bookworm"
        pk = vigil_lang_packages(self.sbom(ref))
        self.assertFalse([p for p in pk if "commons-io" in (p[1] or "")], pk)
        fs = vigil_lang_findings(self.scan(ref))
        self.assertFalse([f for f in fs if "commons-io" in f[1]], fs)

    def test_fat_jar_nested_paths(self):
        ref = "polyglot:bookworm"
        pk = vigil_lang_packages(self.sbom(ref))
        nested = {(p[1], p[2], p[3]) for p in pk if (p[3] or "").startswith("opt/app/app.jar!")}
        self.assertEqual(nested, {
            ("commons-io:commons-io", "2.11.0", "opt/app/app.jar!BOOT-INF/lib/commons-io-2.11.0.jar"),
            ("org.yaml:snakeyaml", "1.33", "opt/app/app.jar!BOOT-INF/lib/snakeyaml-1.33.jar"),
            ("org.apache.commons:commons-compress", "1.22",
             "opt/app/app.jar!BOOT-INF/lib/commons-compress-1.22.jar")})


# ====================================================================== synthetic image

SYN_REF = "lang-synthetic:1"


def _jar(entries, compression=None):
    """A zip archive (jar/war) from {name: bytes}."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression or zipfile.ZIP_DEFLATED) as z:
        for n, data in entries.items():
            zi = zipfile.ZipInfo(n, date_time=(2023, 11, 14, 22, 13, 20))
            zi.compress_type = compression or zipfile.ZIP_DEFLATED
            z.writestr(zi, data)
    return buf.getvalue()


def _pom(g, a, v):
    return ("#Generated by Maven\ngroupId=%s\nartifactId=%s\nversion=%s\n" % (g, a, v)).encode()


def _pkgjson(name, version):
    return json.dumps({"name": name, "version": version, "main": "index.js"}).encode()


def build_synthetic(dst):
    """alpine-synthetic:3.19.0 plus two layers of language packages (real names and versions
    with known advisories, malicious-package names from the MAL data, a war with WEB-INF/lib, a
    shaded jar with two pom.properties, a lockfile v1, a non-normalised Python name, a
    single-file egg-info) and a whiteout/replacement layer. Returns the layout directory."""
    b = E.LayoutBuilder(E.IMAGES, "alpine-synthetic:3.19.0", dst, ref=SYN_REF)
    log4j = _jar({"META-INF/MANIFEST.MF": b"Manifest-Version: 1.0\r\n\r\n",
                  "META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties":
                      _pom("org.apache.logging.log4j", "log4j-core", "2.14.1")})
    war = _jar({"META-INF/MANIFEST.MF": b"Manifest-Version: 1.0\r\n\r\n",
                "META-INF/maven/com.example/shop/pom.properties": _pom("com.example", "shop", "2.0"),
                "WEB-INF/lib/log4j-core-2.14.1.jar": log4j,
                "WEB-INF/classes/shop/Main.class": b"\xca\xfe\xba\xbe"})
    shaded = _jar({"META-INF/maven/com.fasterxml.jackson.core/jackson-databind/pom.properties":
                       _pom("com.fasterxml.jackson.core", "jackson-databind", "2.9.10"),
                   "META-INF/maven/org.yaml/snakeyaml/pom.properties":
                       _pom("org.yaml", "snakeyaml", "1.26")}, zipfile.ZIP_STORED)
    lock1 = json.dumps({"name": "legacy", "version": "1.0.0", "lockfileVersion": 1,
                        "requires": True, "dependencies": {
                            "ansi-regex": {"version": "5.0.0", "integrity": "sha512-x"},
                            "glob-parent": {"version": "5.1.1", "dependencies": {
                                "is-glob": {"version": "4.0.1"}}}}}).encode()
    site = "usr/lib/python3.11/site-packages/"
    layer1 = [
        ("app", None), ("app/node_modules", None),
        ("app/node_modules/arpan-package/package.json", _pkgjson("arpan-package", "2.0.5")),
        ("app/node_modules/@babel/traverse/package.json", _pkgjson("@babel/traverse", "7.22.0")),
        ("app/node_modules/minimist/package.json", _pkgjson("minimist", "1.2.5")),
        ("app/node_modules/lodash/package.json", _pkgjson("lodash", "4.17.20")),
        ("legacy/package-lock.json", lock1),
        (site + "Flask_Cors-3.0.8.dist-info/METADATA",
         b"Metadata-Version: 2.1\nName: Flask_Cors\nVersion: 3.0.8\nSummary: x\n\nbody\n"),
        (site + "py-1.10.0.egg-info",
         b"Metadata-Version: 1.2\nName: py\nVersion: 1.10.0\n"),
        (site + "barcodegeneratorqr-1.0.3.dist-info/METADATA",
         b"Metadata-Version: 2.1\nName: barcodegeneratorqr\nVersion: 1.0.3\n"),
        ("opt/web/shop.war", war),
        ("opt/lib/shaded.jar", shaded),
    ]
    layer2 = [
        ("app/node_modules/.wh.minimist", b""),
        ("app/node_modules/lodash/package.json", _pkgjson("lodash", "4.17.21")),
    ]
    for entries in (layer1, layer2):
        raw = E.make_tar(entries)
        b.add_layer(E.gz(raw), "sha256:" + hashlib.sha256(raw).hexdigest())
    b.write()
    return dst


class SyntheticLang(E.VigilCase):
    """A synthetic image (real package names, versions and advisories) for what the real
    images lack: malicious packages, a war, a shaded jar, lockfile v1, whiteouts."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.layout = build_synthetic(os.path.join(cls.tmp, "layout"))
        img = refimage.Image(cls.layout, SYN_REF)
        cls.inv = reflang.image_inventory(img)
        cls.fs = reflang.match(cls.inv, E.VULNDB)
        sys.stderr.write("\n[reflang] %s: %d packages, %d findings\n" % (
            SYN_REF, len(cls.inv.packages), len(cls.fs)))

    def arg(self):
        return "oci:%s:%s" % (self.layout, SYN_REF)

    def test_reference(self):
        t = self.inv.tuples()
        self.assertIn(("maven", "org.apache.logging.log4j:log4j-core", "2.14.1",
                       "opt/web/shop.war!WEB-INF/lib/log4j-core-2.14.1.jar"), t)
        self.assertIn(("maven", "com.example:shop", "2.0", "opt/web/shop.war"), t)
        self.assertIn(("maven", "org.yaml:snakeyaml", "1.26", "opt/lib/shaded.jar"), t)
        self.assertIn(("npm", "is-glob", "4.0.1", "legacy/package-lock.json"), t)
        self.assertIn(("pypi", "flask-cors", "3.0.8",
                       "usr/lib/python3.11/site-packages/Flask_Cors-3.0.8.dist-info/METADATA"), t)
        self.assertIn(("pypi", "py", "1.10.0", "usr/lib/python3.11/site-packages/py-1.10.0.egg-info"), t)
        names = {(p["name"], p["version"]) for p in self.inv.packages}
        self.assertNotIn("minimist", {n for n, _ in names})
        self.assertIn(("lodash", "4.17.21"), names)
        self.assertNotIn(("lodash", "4.17.20"), names)
        ft = reflang.finding_tuples(self.fs)
        for want in [("MAL-2022-1122", "arpan-package", "2.0.5", ""),
                     ("CVE-2023-45133", "@babel/traverse", "7.22.0", "7.23.2"),
                     ("CVE-2021-3807", "ansi-regex", "5.0.0", "5.0.1"),
                     ("CVE-2020-28469", "glob-parent", "5.1.1", "5.1.2"),
                     ("CVE-2020-25032", "flask-cors", "3.0.8", "3.0.9"),
                     ("CVE-2022-42969", "py", "1.10.0", ""),
                     ("CVE-2021-44228", "org.apache.logging.log4j:log4j-core", "2.14.1", "2.15.0"),
                     ("CVE-2021-45046", "org.apache.logging.log4j:log4j-core", "2.14.1", "2.16.0"),
                     ("CVE-2021-44832", "org.apache.logging.log4j:log4j-core", "2.14.1", "2.17.1")]:
            self.assertIn(want, ft)
        self.assertTrue([f for f in self.fs if f["id"].startswith("MAL-")
                         and f["package"] == "barcodegeneratorqr"])
        self.assertFalse([f for f in self.fs if f["package"] in ("minimist", "lodash")])

    def test_sbom(self):
        r = self.vigil("sbom", "--format", "json", self.arg())
        self.assertEqual(r.rc, 0, r.describe())
        got = vigil_lang_packages(r.json())
        self.assertEqual(len(got), len(set(got)), "duplicate packages in vigil's sbom")
        want = {(p["type"], p["name"], p["version"], p["path"], p["layer"])
                for p in self.inv.packages}
        d = set_diff(SYN_REF + " (type, name, version, path, layer)", want, set(got))
        if d:
            self.fail("\n" + d)

    def test_scan(self):
        r = self.vigil("scan", "--format", "enhanced-json", "--scanners", "os,lang",
                       "--db", E.shared_db(), self.arg())
        self.assertEqual(r.rc, 0, r.describe())
        got = {g[:4] for g in vigil_lang_findings(r.json())}
        d = diff_findings(SYN_REF + " language findings", reflang.finding_tuples(self.fs), got)
        if d:
            self.fail("\n" + d)


def _add_tests():
    for ref in LANG_IMAGES:
        def s(self, ref=ref):
            self.check_sbom(ref)
        s.__doc__ = "vigil sbom language packages of %s equal the reference" % ref
        setattr(LangVsVigil, "test_sbom_%s" % slug(ref), s)

        def f(self, ref=ref):
            self.check_scan(ref)
        f.__doc__ = "vigil scan language findings of %s equal the reference" % ref
        setattr(LangVsVigil, "test_scan_%s" % slug(ref), f)


_add_tests()


if __name__ == "__main__":
    unittest.main()
