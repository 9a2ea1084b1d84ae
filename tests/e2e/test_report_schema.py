# SPDX-License-Identifier: Apache-2.0
"""The report writers' output checked by tools other than vigil's own tests.

- SARIF and CycloneDX documents are validated against the published JSON schemas (SARIF 2.1.0
  from the OASIS schema, CycloneDX 1.5 from the CycloneDX library's copy) with ajv, installed
  from npm into tools/report-schema (`npm ci` there; this test runs it when node_modules is
  missing, unless VIGIL_NO_NPM=1).
- The ECR JSON bodies are parsed by the AWS CLI's own botocore against the
  DescribeImageScanFindings output shape (needs Debian's awscli under /usr/bin/python3).

The golden files in tests/data/report are byte-for-byte what the writers produce (the unit
tests compare them), so validating them validates the writers. With VIGIL_BIN and the test
images (VIGIL_TEST_IMAGES, default build/test-images) the real `vigil sbom` output of several
images is validated too.
"""

import json
import os
import shutil
import subprocess
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GOLDEN = os.path.join(ROOT, "tests", "data", "report")
TOOL = os.path.join(ROOT, "tools", "report-schema")
IMAGES = os.environ.get("VIGIL_TEST_IMAGES", os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "build", "test-images"))
SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's, which can import awscli's botocore


def _validator_ready():
    """True when tools/report-schema has its node modules (installing them if allowed)."""
    if os.path.isdir(os.path.join(TOOL, "node_modules", "ajv")):
        return True, ""
    if os.environ.get("VIGIL_NO_NPM") == "1":
        return False, "VIGIL_NO_NPM=1 and tools/report-schema/node_modules is missing"
    npm = shutil.which("npm")
    if not npm or not shutil.which("node"):
        return False, "node/npm not installed"
    try:
        subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--omit=optional",
                        "--ignore-scripts"], cwd=TOOL, check=True, timeout=300,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as e:
        out = getattr(e, "stdout", b"") or b""
        return False, "npm ci failed: %s" % out.decode(errors="replace")[-500:]
    return True, ""


def _validate(kind, *files):
    return subprocess.run(["node", os.path.join(TOOL, "validate.js"), kind] + list(files),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120,
                          text=True)


class SchemaValidation(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        ok, why = _validator_ready()
        if not ok:
            raise unittest.SkipTest(why)
        cls.tmp = tempfile.mkdtemp(prefix="vigil-report-schema-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def assertValid(self, kind, *files):
        r = _validate(kind, *files)
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertEqual(r.stdout.count("\nok ") + r.stdout.startswith("ok "), len(files),
                         r.stdout)

    def test_golden_sarif(self):
        self.assertValid("sarif", os.path.join(GOLDEN, "scan.sarif.json"))

    def test_golden_cyclonedx(self):
        self.assertValid("cyclonedx", os.path.join(GOLDEN, "scan.cdx.json"),
                         os.path.join(GOLDEN, "inventory.cdx.json"))

    def _mutated(self, name, mutate):
        with open(os.path.join(GOLDEN, name), encoding="utf-8") as f:
            doc = json.load(f)
        mutate(doc)
        path = os.path.join(self.tmp, "bad-" + name)
        with open(path, "w", encoding="utf-8") as f:
            json.dump(doc, f)
        return path

    def test_validator_rejects_broken_documents(self):
        # The validator has to bite, or the checks above prove nothing.
        cases = [
            ("sarif", "scan.sarif.json", lambda d: d.pop("version")),
            ("sarif", "scan.sarif.json",
             lambda d: d["runs"][0]["results"][0].__setitem__("level", "fatal")),
            ("sarif", "scan.sarif.json", lambda d: d["runs"][0]["tool"]["driver"].pop("name")),
            ("cyclonedx", "scan.cdx.json", lambda d: d.__setitem__("serialNumber", "x")),
            ("cyclonedx", "scan.cdx.json",
             lambda d: d["vulnerabilities"][0]["ratings"][0].__setitem__("severity", "severe")),
            ("cyclonedx", "inventory.cdx.json",
             lambda d: d["components"][1].__setitem__("type", "lib")),
        ]
        for kind, name, mutate in cases:
            path = self._mutated(name, mutate)
            r = _validate(kind, path)
            self.assertEqual(r.returncode, 1, "%s accepted a broken %s:\n%s" % (kind, name,
                                                                              r.stdout))

    def test_vigil_sbom_cyclonedx(self):
        vigil = os.environ.get("VIGIL_BIN")
        if not vigil or not os.path.exists(os.path.join(IMAGES, "index.json")):
            self.skipTest("needs VIGIL_BIN and the test images in %s" % IMAGES)
        files = []
        for ref in ("debian:bookworm-minbase", "alpine-synthetic:3.19.0", "rocky-synthetic:9.3"):
            out = os.path.join(self.tmp, ref.replace(":", "_") + ".cdx.json")
            subprocess.run([vigil, "sbom", "--no-cache", "-q", "-f", "cyclonedx", "-o", out,
                            "oci:%s:%s" % (IMAGES, ref)], check=True, timeout=300)
            with open(out, encoding="utf-8") as f:
                doc = json.load(f)
            purls = [c["purl"] for c in doc["components"] if c["type"] == "library"]
            self.assertTrue(purls)
            prefix = {"debian": "pkg:deb/debian/", "alpine": "pkg:apk/alpine/",
                      "rocky": "pkg:rpm/rocky/"}[ref.split(":")[0].split("-")[0]]
            self.assertTrue(all(p.startswith(prefix) for p in purls), purls[:3])
            files.append(out)
        self.assertValid("cyclonedx", *files)


class AwsCliParsesEcrBodies(unittest.TestCase):
    """botocore (as bundled with Debian's aws CLI v2) parses the ECR bodies as the CLI would."""

    SCRIPT = r"""
import json, sys
from awscli.botocore import loaders, model, parsers
op = model.ServiceModel(loaders.Loader().load_service_model("ecr", "service-2")) \
    .operation_model("DescribeImageScanFindings")
out = {}
for path in sys.argv[1:]:
    with open(path, "rb") as f:
        body = f.read()
    r = parsers.create_parser("json").parse({"status_code": 200, "headers": {}, "body": body},
                                            op.output_shape)
    isf = r["imageScanFindings"]
    out[path] = {
        "completed": isf["imageScanCompletedAt"].isoformat(),
        "findings": len(isf.get("findings", [])),
        "enhanced": len(isf.get("enhancedFindings", [])),
        "counts": isf["findingSeverityCounts"],
        "status": r["imageScanStatus"]["status"],
        "first_pkg": (isf.get("enhancedFindings") or [{}])[0]
            .get("packageVulnerabilityDetails", {}).get("vulnerablePackages", [None])[0],
        "vendor_created": [str(e["packageVulnerabilityDetails"].get("vendorCreatedAt"))
                           for e in isf.get("enhancedFindings", [])],
    }
print(json.dumps(out))
"""

    def test_parse(self):
        if not os.path.exists(SYSTEM_PYTHON):
            self.skipTest("no %s" % SYSTEM_PYTHON)
        probe = subprocess.run([SYSTEM_PYTHON, "-c", "import awscli.botocore"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if probe.returncode != 0:
            self.skipTest("Debian's awscli is not installed")
        basic = os.path.join(GOLDEN, "scan.ecr.json")
        enhanced = os.path.join(GOLDEN, "scan.enhanced.json")
        r = subprocess.run([SYSTEM_PYTHON, "-c", self.SCRIPT, basic, enhanced], check=True,
                           stdout=subprocess.PIPE, timeout=60, text=True)
        res = json.loads(r.stdout)
        self.assertEqual(res[basic]["completed"], "2023-11-14T22:13:20+00:00")
        self.assertEqual(res[basic]["findings"], 7)
        self.assertEqual(res[basic]["status"], "COMPLETE")
        self.assertEqual(sum(res[basic]["counts"].values()), 7)
        self.assertEqual(res[enhanced]["enhanced"], 6)
        self.assertEqual(res[enhanced]["first_pkg"]["packageManager"], "OS")
        self.assertEqual(res[enhanced]["first_pkg"]["epoch"], 0)
        # timestamps sent as epoch seconds come back as datetimes
        self.assertIn("2023-10-03 18:15:10+00:00", res[enhanced]["vendor_created"])


if __name__ == "__main__":
    unittest.main()
