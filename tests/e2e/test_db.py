# SPDX-License-Identifier: Apache-2.0
"""vigil db import/status/match over the whole shared vulnerability data set.

The expected counts are computed here, independently, from the source files: distinct
record ids per ecosystem (the newest copy of an id found in several files wins), the newest
`modified`, the CVEs some advisory names (for the NVD/CISA supplements).

Environment: VIGIL_BIN (the vigil binary), VIGIL_VULNDB_SRC (default ../shared/vulndb).
"""
import gzip
import json
import os
import subprocess
import tempfile
import time
import unittest

VIGIL = os.environ.get("VIGIL_BIN", "build/debug/vigil")
SRC = os.environ.get("VIGIL_VULNDB_SRC", "../shared/vulndb")

# distro fix advisories whose `related` CVEs are the issues they fix (as the importer reads them)
FIX_ADVISORIES = ("DSA-", "DLA-", "DTSA-", "RHSA-", "RHBA-", "RHEA-", "ALSA-", "RLSA-")


def jsonl(path):
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def expected_from_sources():
    """Per-ecosystem distinct ids, newest modified, referenced CVEs, NVD/CISA rows kept."""
    osv_dir = os.path.join(SRC, "osv")
    records = {}
    for name in sorted(os.listdir(osv_dir)):
        if not name.endswith(".jsonl.gz"):
            continue
        for r in jsonl(os.path.join(osv_dir, name)):
            old = records.get(r["id"])
            if old is None or r["modified"] > old["modified"]:
                records[r["id"]] = r
    per_eco = {}
    referenced = set()
    for rid, r in records.items():
        if "withdrawn" in r:
            continue
        for a in r.get("affected", []):
            eco = (a.get("package") or {}).get("ecosystem")
            if eco:
                per_eco.setdefault(eco, set()).add(rid)
        keys = {rid} | set(r.get("aliases", [])) | set(r.get("upstream", []))
        if not rid.startswith("CVE-") and not any(k.startswith("CVE-") for k in keys):
            if rid.startswith(FIX_ADVISORIES):
                keys |= {x for x in r.get("related", []) if x.startswith("CVE-")}
        referenced |= keys
    for doc in jsonl(os.path.join(SRC, "alpine-secdb/secdb.jsonl.gz")):
        for p in doc["packages"]:
            for ver, ids in (p["pkg"].get("secfixes") or {}).items():
                if ver != "0":
                    for entry in ids:
                        referenced |= set(entry.split())
    newest = max(r["modified"] for r in records.values())
    return {
        "records": len(records),
        "ecosystems": {e: len(ids) for e, ids in per_eco.items()},
        "newest_modified": newest,
        "referenced": referenced,
        "named": set(records),
    }


def cve_rows_kept(expected):
    """NVD and CISA records the importer keeps: referenced, and with a vector or a
    description that no OSV record of the same id already carries."""
    nvd = 0
    for item in jsonl(os.path.join(SRC, "nvd/nvd-cve.jsonl.gz")):
        cve = item["cve"]["CVE_data_meta"]["ID"]
        if cve not in expected["referenced"]:
            continue
        impact = item.get("impact", {})
        vec = ("baseMetricV3" in impact) or ("baseMetricV2" in impact)
        desc = any(d.get("value") for d in item["cve"]["description"]["description_data"])
        if vec or (desc and cve not in expected["named"]):
            nvd += 1
    cisa = 0
    for rec in jsonl(os.path.join(SRC, "cve/cisa-vulnrichment.jsonl.gz")):
        cve = rec["cveMetadata"]["cveId"]
        if cve not in expected["referenced"]:
            continue
        conts = [rec["containers"].get("cna", {})] + rec["containers"].get("adp", [])
        vec = any(k in m for c in conts for m in c.get("metrics", [])
                  for k in ("cvssV2_0", "cvssV3_0", "cvssV3_1", "cvssV4_0"))
        desc = any(d.get("value") for d in rec["containers"].get("cna", {}).get("descriptions", []))
        if vec or (desc and cve not in expected["named"]):
            cisa += 1
    return nvd, cisa


def vigil(*args, check=True):
    p = subprocess.run([VIGIL, *args], capture_output=True, text=True, timeout=600)
    if check and p.returncode != 0:
        raise AssertionError("vigil %s: exit %d\n%s" % (" ".join(args), p.returncode, p.stderr))
    return p


@unittest.skipUnless(os.path.isdir(os.path.join(SRC, "osv")), "no shared vulnerability data")
class DbImportTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="vigil-e2e-db-")
        cls.db = os.path.join(cls.tmp.name, "vulndb.sqlite")
        t0 = time.monotonic()
        cls.imported = vigil("db", "import", "--db", cls.db, SRC)
        cls.seconds = time.monotonic() - t0
        cls.expected = expected_from_sources()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def status(self):
        return json.loads(vigil("db", "status", "--db", self.db, "--format", "json").stdout)

    def test_counts_per_ecosystem(self):
        s = self.status()
        self.assertEqual(s["records"], self.expected["records"])
        self.assertEqual(s["ecosystems"], self.expected["ecosystems"])
        self.assertEqual(s["newest_modified"], self.expected["newest_modified"])
        self.assertEqual(s["secdb_documents"], 41)
        self.assertEqual(s["withdrawn"], 0)

    def test_last_import_and_sources(self):
        s = self.status()
        li = s["last_import"]
        # every distinct OSV id plus the 41 secdb documents, each once
        self.assertEqual(li["added"], self.expected["records"] + 41)
        self.assertEqual(li["changed"], 0)
        self.assertEqual(li["removed"], 0)
        self.assertEqual(li["mode"], "build")
        kinds = sorted(x["kind"] for x in s["sources"])
        self.assertEqual(len(kinds), 16)
        self.assertEqual(kinds.count("jsonl:osv"), 13)
        self.assertIn("jsonl:nvd", kinds)
        self.assertIn("jsonl:cve5", kinds)
        self.assertIn("jsonl:secdb", kinds)
        self.assertLess(s["size_bytes"], 150 * 1024 * 1024)

    def test_severity_supplements(self):
        nvd, cisa = cve_rows_kept(self.expected)
        s = self.status()
        self.assertEqual(s["cve_info"].get("NVD", 0), nvd)
        self.assertEqual(s["cve_info"].get("CISA", 0), cisa)

    def test_reimport_is_a_noop(self):
        path = os.path.join(SRC, "osv/npm.jsonl.gz")
        out = vigil("db", "import", "--db", self.db, path).stdout
        self.assertIn("(0 added, 0 changed, 0 removed", out)
        li = self.status()["last_import"]
        n = sum(1 for _ in jsonl(path))
        self.assertEqual(li["unchanged"], n)
        self.assertEqual(li["mode"], "update")

    def test_match_openssh(self):
        out = vigil("db", "match", "--db", self.db, "--ecosystem", "Debian:12", "--package",
                    "openssh-server", "--source-name", "openssh", "--version",
                    "1:9.2p1-2+deb12u2").stdout
        found = {f["id"]: f for f in json.loads(out)}
        f = found["CVE-2024-6387"]
        self.assertEqual(f["fixed"], "1:9.2p1-2+deb12u3")
        self.assertIn("DSA-5724-1", f["related"])
        self.assertEqual(f["package"], "openssh-server")
        out = vigil("db", "match", "--db", self.db, "--ecosystem", "Red Hat:enterprise_linux:9",
                    "--package", "openssh", "--version", "8.7p1-38.el9_4").stdout
        found = {f["id"]: f for f in json.loads(out)}
        self.assertEqual(found["CVE-2024-6387"]["fixed"], "0:8.7p1-38.el9_4.1")
        self.assertEqual(found["CVE-2024-6387"]["severity"], "HIGH")

    def test_corrupt_database_is_a_clear_error(self):
        bad = os.path.join(self.tmp.name, "garbage.sqlite")
        with open(bad, "wb") as f:
            f.write(b"not a database " * 500)
        p = vigil("db", "status", "--db", bad, check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("not a vigil vulnerability database", p.stderr)
        p = vigil("db", "match", "--db", bad, "--ecosystem", "npm", "--package", "x",
                  "--version", "1", check=False)
        self.assertEqual(p.returncode, 1)

    def test_bad_input_is_skipped_with_a_warning(self):
        d = tempfile.mkdtemp(dir=self.tmp.name)
        good = os.path.join(SRC, "osv/rubygems.jsonl.gz")
        with open(good, "rb") as f:
            data = f.read()
        trunc = os.path.join(d, "truncated.jsonl.gz")
        with open(trunc, "wb") as f:
            f.write(data[: len(data) // 3])
        db = os.path.join(d, "v.sqlite")
        p = vigil("db", "import", "--db", db, trunc)
        self.assertIn("truncated.jsonl.gz", p.stderr)
        self.assertIn("unexpected end of file", p.stderr)
        s = json.loads(vigil("db", "status", "--db", db, "--format", "json").stdout)
        self.assertGreater(s["records"], 10)
        self.assertEqual(s["last_import"]["skipped"], 2)  # the cut line and the gzip error


if __name__ == "__main__":
    unittest.main()
