#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Cut the vulndb unit-test fixtures from the shared vulnerability data.

Usage: tests/data/vulndb/make-fixtures.py   (from the repository root)
VULNDB_SRC overrides the source directory (default ../shared/vulndb).

Every record under osv/, nvd.jsonl, cisa.jsonl and secdb.jsonl is copied byte for byte from
the source files (secdb: one real document with its package list cut down to a few
packages). The files under updates/ and bad/ are derived from real records and say how in
README.md; all.zip holds two real records pretty-printed as osv.dev's all.zip does.
"""
import gzip
import json
import os
import sys
import zipfile

SRC = os.environ.get("VULNDB_SRC", "../shared/vulndb")
OUT = os.path.dirname(os.path.abspath(__file__))


def lines_with_ids(path, ids):
    """Raw lines of a .jsonl.gz whose top-level id is in ids (dict id -> line)."""
    found = {}
    with gzip.open(os.path.join(SRC, path), "rt", encoding="utf-8") as f:
        for line in f:
            head = line[:200]
            for i in ids:
                if '"id":"%s"' % i in head and i not in found:
                    if json.loads(line).get("id") == i:
                        found[i] = line
    missing = set(ids) - set(found)
    if missing:
        sys.exit("not found in %s: %s" % (path, ", ".join(sorted(missing))))
    return [found[i] for i in ids]


def cve_lines(path, key, ids):
    found = {}
    with gzip.open(os.path.join(SRC, path), "rt", encoding="utf-8") as f:
        for line in f:
            for i in ids:
                if key % i in line and i not in found:
                    found[i] = line
    missing = set(ids) - set(found)
    if missing:
        sys.exit("not found in %s: %s" % (path, ", ".join(sorted(missing))))
    return [found[i] for i in ids]


def write(rel, data, mode="w"):
    p = os.path.join(OUT, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, mode) as f:
        f.write(data)


def main():
    deb = lines_with_ids("osv/debian-cve.jsonl.gz",
                         ["CVE-2008-3234", "CVE-2023-38408", "CVE-2023-51385", "CVE-2024-6387"])
    dsa = lines_with_ids("osv/debian-advisories.jsonl.gz", ["DSA-5724-1"])
    write("osv/debian.jsonl", "".join(deb + dsa))
    # the same id exported again for Alpine (osv.dev writes one copy per ecosystem)
    write("osv/alpine.jsonl", "".join(lines_with_ids("osv/alpine.jsonl.gz", ["CVE-2024-6387"])))
    write("osv/redhat.jsonl", "".join(lines_with_ids("osv/redhat.jsonl.gz", ["RHSA-2024:4312"])))
    pypi = lines_with_ids("osv/pypi.jsonl.gz", ["GHSA-qr3x-v97p-42xw", "PYSEC-2013-27"])
    write("osv/pypi.jsonl", "".join(pypi))
    npm = lines_with_ids("osv/npm.jsonl.gz", ["GHSA-89w7-5q45-r53w"])
    mal = lines_with_ids("osv/malicious.jsonl.gz", ["MAL-2021-1"])
    write("osv/npm.jsonl.gz", gzip.compress("".join(npm + mal).encode(), mtime=0), "wb")

    write("nvd.jsonl", "".join(cve_lines("nvd/nvd-cve.jsonl.gz", '"ID":"%s"',
                                         ["CVE-2008-3234", "CVE-2013-4437", "CVE-2017-0208"])))
    write("cisa.jsonl", "".join(cve_lines("cve/cisa-vulnrichment.jsonl.gz", '"cveId":"%s"',
                                          ["CVE-2023-38408", "CVE-2024-6387"])))

    # secdb: the v3.19 main document, cut down to three packages
    with gzip.open(os.path.join(SRC, "alpine-secdb/secdb.jsonl.gz"), "rt") as f:
        for line in f:
            doc = json.loads(line)
            if doc["distroversion"] == "v3.19" and doc["reponame"] == "main":
                doc["packages"] = [p for p in doc["packages"]
                                   if p["pkg"]["name"] in ("openssh", "busybox", "musl")]
                write("secdb.jsonl", json.dumps(doc, separators=(",", ":")) + "\n")
                break

    # updates: the DSA re-published later with another fixed version; the npm advisory
    # withdrawn (both derived from the real records above)
    upd = json.loads(dsa[0])
    upd["modified"] = "2025-01-01T00:00:00Z"
    upd["affected"][0]["ranges"][0]["events"][1]["fixed"] = "1:9.2p1-2+deb12u4"
    write("updates/dsa-modified.jsonl", json.dumps(upd, separators=(",", ":")) + "\n")
    wd = json.loads(npm[0])
    wd["modified"] = "2025-01-01T00:00:00Z"
    wd["withdrawn"] = "2025-01-01T00:00:00Z"
    write("updates/ghsa-withdrawn.json", json.dumps(wd, indent=2) + "\n")

    # bad input
    good = pypi[0]
    bad_rec = json.loads(pypi[1])
    bad_rec["id"] = "PYSEC-TEST-BROKEN"
    bad_rec["affected"].append({"package": {"ecosystem": "Nonexistent", "name": "x"}})
    bad_rec["affected"].append({"package": {"ecosystem": "Debian:12", "name": "y"},
                                "ranges": [{"type": "ECOSYSTEM", "events": [{"fixed": "1.0"}]}]})
    bad_rec["affected"].append({"package": {"ecosystem": "Debian:12", "name": "z"},
                                "ranges": [{"type": "ECOSYSTEM",
                                            "events": [{"introduced": "0"}, {"fixed": "a b"}]}]})
    bad_rec["affected"].append({"package": {"ecosystem": "Debian:12", "name": "w"},
                                "ranges": [{"type": "ECOSYSTEM",
                                            "events": [{"introduced": "0"}, {"bogus": "1"}]}],
                                "unknown_field": {"x": 1}})
    write("bad/mixed.jsonl", good + "this is not JSON\n" + json.dumps(bad_rec) + "\n"
          + '{"id": "NO-MODIFIED"}\n' + "[1, 2\n")
    gz = gzip.compress("".join(deb[:2]).encode(), mtime=0)
    write("bad/truncated.jsonl.gz", gz[: len(gz) // 2], "wb")
    corrupt = bytearray(gz)
    for i in range(40, 80):
        corrupt[i] ^= 0x5A
    write("bad/corrupt.jsonl.gz", bytes(corrupt), "wb")

    zpath = os.path.join(OUT, "all.zip")
    with zipfile.ZipFile(zpath, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for line in pypi:
            rec = json.loads(line)
            info = zipfile.ZipInfo(rec["id"] + ".json", date_time=(2025, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, json.dumps(rec, indent=2))
        info = zipfile.ZipInfo("README.txt", date_time=(2025, 1, 1, 0, 0, 0))
        z.writestr(info, "not a record\n")


if __name__ == "__main__":
    main()
