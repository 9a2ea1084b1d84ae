# SPDX-License-Identifier: Apache-2.0
"""End-to-end tests of `vigil scan` on the real test images, against an independent matcher.

The expected findings come from refmatch.py (OSV ranges evaluated in Python; Debian versions
compared by the real dpkg, Red Hat versions by python3-rpm, Alpine by an apk comparator
checked against osv.dev's own orderings) over the inventory of refinventory.py; never from
vigil. The vulnerability database is imported once per run from ../shared/vulndb with
`vigil db import --db PATH DIR`.

Compared finding by finding: the set of (vulnerability id, package name, installed version,
fixed-in version) from `--format enhanced-json`. Matching rules the reference asserts (vigil
must match them): Debian `unimportant` entries are not reported; withdrawn records are not
reported; DSA/DLA advisories are not reported separately (per-CVE records only); a Red Hat
advisory gives one finding per CVE in its `related` list (fixed-in = the lowest advisory fix);
one finding per (CVE id or advisory id, installed binary package); records with the same id in
several files are one record, the newest `modified` wins. Plus: specific CVEs fixed in the newer
curl/openssl/libxml2 builds on debian-vuln, nothing fixed-at-or-below-installed on minbase,
--ignore-unfixed, --severity with --exit-code, the basic ECR JSON, and SARIF 2.1.0.

Skipped only when VIGIL_TEST_IMAGES is unset (with a loud message). Every run is bounded.
"""

import json
import os
import unittest

import refimage
import refinventory
import refmatch
import vigil_e2e as E

SCAN_IMAGES = ["debian-vuln:bookworm-oldpkgs", "debian:bookworm-minbase",
               "alpine-synthetic:3.19.0", "rocky-synthetic:9.3"]
QUICK_SCAN_IMAGES = ["debian-vuln:bookworm-oldpkgs", "alpine-synthetic:3.19.0",
                     "rocky-synthetic:9.3"]
OPTIONS = refmatch.MatchOptions(include_unimportant=False, include_withdrawn=False,
                                debian_advisories="ignore", redhat_ids="cve")

_REF = {}


def reference(ref):
    if ref not in _REF:
        img = refimage.Image(E.IMAGES, ref)
        inv = refinventory.image_inventory(img)
        _REF[ref] = (img, inv, refmatch.match(inv, E.VULNDB, OPTIONS))
    return _REF[ref]


def full_version(vp):
    """Installed version from an enhanced vulnerablePackages entry ([epoch:]version[-release])."""
    v = vp.get("version", "")
    rel = vp.get("release") or ""
    if rel:
        v = "%s-%s" % (v, rel)
    ep = int(vp.get("epoch") or 0)
    if ep:
        v = "%d:%s" % (ep, v)
    return v


def fixed_in(vp):
    """fixedInVersion, with Inspector's "NotAvailable" (no fix yet) read as ""."""
    v = vp.get("fixedInVersion") or ""
    return "" if v == "NotAvailable" else v


def enhanced_tuples(doc):
    out = []
    for f in doc["imageScanFindings"].get("enhancedFindings", []):
        d = f["packageVulnerabilityDetails"]
        for vp in d.get("vulnerablePackages", []):
            out.append((d["vulnerabilityId"], vp["name"], full_version(vp), fixed_in(vp)))
    return out


def severities(doc):
    """(id, package, version) -> severity from an enhanced document."""
    s = {}
    for f in doc["imageScanFindings"].get("enhancedFindings", []):
        d = f["packageVulnerabilityDetails"]
        for vp in d.get("vulnerablePackages", []):
            s[(d["vulnerabilityId"], vp["name"], full_version(vp))] = f["severity"]
    return s


def diff_findings(label, want, got, limit=60):
    missing = sorted(want - got)
    extra = sorted(got - want)
    if not missing and not extra:
        return ""
    lines = ["%s: reference %d findings, vigil %d (tuples: id, package, installed, fixed-in)"
             % (label, len(want), len(got))]
    by_key = {}
    for t in missing:
        by_key.setdefault(t[:3], [None, None])[0] = t[3]
    for t in extra:
        by_key.setdefault(t[:3], [None, None])[1] = t[3]
    n = 0
    for k in sorted(by_key):
        w, g = by_key[k]
        if w is not None and g is not None:
            lines.append("  different fix   %s %s %s: reference %r, vigil %r" % (k + (w, g)))
        elif w is not None:
            lines.append("  missing in vigil %s %s %s (fixed %r)" % (k + (w,)))
        else:
            lines.append("  extra in vigil   %s %s %s (fixed %r)" % (k + (g,)))
        n += 1
        if n >= limit:
            lines.append("  ... %d keys differ in all" % len(by_key))
            break
    return "\n".join(lines)


def slug(ref):
    return "".join(c if c.isalnum() else "_" for c in ref)


class ScanImages(E.VigilCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.db = E.shared_db()
        cls._out = {}

    def scan(self, ref, *extra, fmt="enhanced-json", expect_rc=0):
        args = ["scan", "--format", fmt, "--db", self.db] + list(extra) + [E.image_arg(ref)]
        r = self.vigil(*args)
        if expect_rc is not None:
            self.assertEqual(r.rc, expect_rc, r.describe())
        return r

    def enhanced(self, ref):
        if ref not in self._out:
            self._out[ref] = self.scan(ref).json()
        return self._out[ref]

    def check_image(self, ref):
        img, inv, ref_findings = reference(ref)
        doc = self.enhanced(ref)
        got = enhanced_tuples(doc)
        self.assertEqual(len(got), len(set(got)), "duplicate findings in vigil's output")
        want = refmatch.finding_tuples(ref_findings)
        d = diff_findings(ref, want, set(got))
        self.assertFalse(d, "\n" + d)
        # the basic ECR shape lists the same (id, package, version) and counts them
        basic = self.scan(ref, fmt="json").json()
        fs = basic["imageScanFindings"].get("findings", [])
        tri = set()
        for f in fs:
            attrs = {a["key"]: a["value"] for a in f.get("attributes", [])}
            tri.add((f["name"], attrs.get("package_name"), attrs.get("package_version")))
            self.assertIn(f["severity"], ("INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL",
                                          "UNDEFINED"))
            self.assertTrue(f.get("uri"), "finding %s has no uri" % f["name"])
        self.assertEqual(tri, {t[:3] for t in want}, "basic findings of %s" % ref)
        counts = basic["imageScanFindings"].get("findingSeverityCounts", {})
        self.assertEqual(sum(counts.values()), len(fs), "findingSeverityCounts of %s" % ref)
        for sev, n in counts.items():
            self.assertEqual(n, sum(1 for f in fs if f["severity"] == sev), sev)

    # ---- specific checks

    def test_debian_vuln_newer_builds(self):
        """Every CVE the Debian data says is fixed between the installed (old) build and the
        newer candidate build of openssl, curl and libxml2 is reported on every binary package
        of that source, with the data's fixed-in version."""
        ref = "debian-vuln:bookworm-oldpkgs"
        img, inv, _ = reference(ref)
        text = refimage.merge(img, lambda p: p == "usr/share/mti/old-packages.txt").read(
            "usr/share/mti/old-packages.txt").decode()
        cand = {}
        for line in text.splitlines():
            parts = line.replace("(", " ").replace(")", " ").split()
            if len(parts) >= 4 and parts[2] == "candidate":
                cand[parts[0]] = (parts[1], parts[3])
        srcs = {}
        for p in inv["packages"]:
            if p["name"] in cand:
                srcs.setdefault(p["sourceName"], set()).add(p["name"])
        self.assertEqual(set(srcs), {"openssl", "curl", "libxml2"})
        db = refmatch.VulnDB.get("debian", E.VULNDB)
        dpkg = refmatch.DpkgComparator()
        expected = set()
        for src, bins in srcs.items():
            old, new = cand[sorted(bins)[0]]
            for rec, entry in db.by_pkg.get(("Debian:12", src), []):
                if rec["_source"] == "debian-advisories":
                    continue
                if (entry.get("ecosystem_specific") or {}).get("urgency") == "unimportant":
                    continue
                for rg in entry.get("ranges", []):
                    for ev in rg.get("events", []):
                        fx = ev.get("fixed")
                        if fx and dpkg(old, fx) < 0 and dpkg(fx, new) <= 0:
                            for b in bins:
                                expected.add((rec["id"], b, old, fx))
        got = set(enhanced_tuples(self.enhanced(ref)))
        self.assertTrue(expected, "the data has no fix between the old and new builds")
        self.assertTrue({t[1] for t in expected} >= {"curl", "libcurl4"})
        missing = sorted(expected - got)
        self.assertFalse(missing, "fixed in the newer builds but not reported: %s" % missing)

    def test_minbase_nothing_already_fixed(self):
        """Nothing reported on the current base image has a fixed-in version <= installed."""
        ref = "debian:bookworm-minbase"
        img, inv, _ = reference(ref)
        src_ver = {p["name"]: p["sourceVersion"] for p in inv["packages"]}
        dpkg = refmatch.DpkgComparator()
        bad = []
        for fid, pkg, ver, fixed in enhanced_tuples(self.enhanced(ref)):
            if fixed and dpkg(fixed, src_ver.get(pkg, ver)) <= 0:
                bad.append((fid, pkg, ver, fixed))
        self.assertFalse(bad, "reported although already fixed: %s" % bad)

    def test_ignore_unfixed(self):
        """--ignore-unfixed removes exactly the findings without a fixed-in version."""
        ref = "debian-vuln:bookworm-oldpkgs"
        full = set(enhanced_tuples(self.enhanced(ref)))
        self.assertTrue(any(t[3] for t in full) and any(not t[3] for t in full),
                        "the image should have fixed and unfixed findings")
        r = self.scan(ref, "--ignore-unfixed")
        self.assertEqual(set(enhanced_tuples(r.json())), {t for t in full if t[3]})

    def test_severity_exit_code(self):
        """--severity HIGH,CRITICAL --exit-code 3 exits 3 iff such findings exist, and lists
        exactly them."""
        seen_3 = seen_0 = False
        for ref in self.images():
            full = severities(self.enhanced(ref))
            high = {k for k, s in full.items() if s in ("HIGH", "CRITICAL")}
            r = self.scan(ref, "--severity", "HIGH,CRITICAL", "--exit-code", "3",
                          expect_rc=None)
            self.assertEqual(r.rc, 3 if high else 0, r.describe())
            got = set(severities(r.json()))
            self.assertEqual(got, high, "HIGH/CRITICAL findings of %s" % ref)
            seen_3 |= bool(high)
            seen_0 |= not high
        self.assertTrue(seen_3, "no image had HIGH/CRITICAL findings: the check proves nothing")

    def test_sarif(self):
        ref = "debian-vuln:bookworm-oldpkgs"
        r = self.scan(ref, fmt="sarif")
        doc = r.json()
        self.assertEqual(doc.get("version"), "2.1.0")
        self.assertIn("sarif", doc.get("$schema", ""))
        results = doc["runs"][0].get("results", [])
        rule_ids = {x.get("ruleId") for x in results}
        _, _, ref_findings = reference(ref)
        self.assertEqual(rule_ids, {f["id"] for f in ref_findings})

    def test_default_exit_status_zero(self):
        r = self.scan("alpine-synthetic:3.19.0")
        self.assertTrue(enhanced_tuples(r.json()), "alpine-synthetic has known findings")

    def images(self):
        return QUICK_SCAN_IMAGES if E.QUICK else SCAN_IMAGES


class ReferenceOracles(unittest.TestCase):
    """The reference's own comparators answer as their oracles do (no vigil involved)."""

    def test_dpkg(self):
        c = refmatch.DpkgComparator()
        self.assertEqual(c("1.0~rc1-1", "1.0-1"), -1)
        self.assertEqual(c("1:0.9-1", "2.0-1"), 1)
        self.assertEqual(c("7.88.1-10+deb12u5", "7.88.1-10+deb12u15"), -1)
        self.assertEqual(c("2.9.14+dfsg-1.3~deb12u4", "2.9.14+dfsg-1.3~deb12u4"), 0)
        self.assertEqual(c("1.0-1", "1.0-1+b1"), -1)

    def test_rpm(self):
        c = refmatch.RpmComparator()
        self.assertEqual(c("0:7.76.1-26.el9", "0:7.76.1-26.el9_3.2"), -1)
        self.assertEqual(c("1:3.0.7-24.el9", "0:9.9-1"), 1)
        self.assertEqual(c("0:2.34-60.el9", "0:2.34-100.el9_4.2"), -1)

    def test_apk_against_osv_dev(self):
        """osv.dev's enumerated affected versions sort below the fix (first 200,000 pairs);
        the only disagreements allowed are the known malformed versions in the data."""
        n, bad = refmatch.selfcheck_apk(E.VULNDB, limit=200000)
        self.assertGreater(n, 100000)
        self.assertFalse([b for b in bad if b[1] not in ("irssi", "gcc")], bad[:10])
        self.assertEqual(refmatch.apk_compare("1.36.1-r15", "1.36.1-r17"), -1)
        self.assertEqual(refmatch.apk_compare("1.2.4_git20230717-r4", "1.2.4-r0"), 1)
        self.assertEqual(refmatch.apk_compare("1.0_rc1", "1.0"), -1)
        self.assertEqual(refmatch.apk_compare("1.05", "1.1"), -1)


def _add_image_tests():
    for ref in (QUICK_SCAN_IMAGES if E.QUICK else SCAN_IMAGES):
        def t(self, ref=ref):
            self.check_image(ref)
        t.__doc__ = "scan of %s equals the reference matcher" % ref
        setattr(ScanImages, "test_image_%s" % slug(ref), t)


_add_image_tests()


if __name__ == "__main__":
    unittest.main()
