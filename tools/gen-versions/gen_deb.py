#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Generate tests/data/versions/deb.txt: pairs of real Debian versions with the result of
`dpkg --compare-versions` (the oracle, run once or twice per pair, in parallel).

Versions: the Debian OSV files (../shared/vulndb/osv/debian-*.jsonl.gz: range events and
`versions` lists, grouped by source package) and the installed packages of the Debian test
images (/var/lib/dpkg/status read from their layers, grouped by source package).
Run through tools/gen-versions/gen-all.sh.
"""

import concurrent.futures
import os
import subprocess
import sys

import common

DPKG = os.environ.get("DPKG", "dpkg")
SEED = 20250218


def dpkg_status_versions():
    """{source package: set(versions)} and [(source, version)] of installed packages."""
    groups = {}
    installed = []
    for ref, _path, data in common.image_files({"var/lib/dpkg/status"}):
        for st in common.stanzas(data.decode("utf-8", "surrogateescape")):
            if "Version" not in st or "Package" not in st:
                continue
            if "installed" not in st.get("Status", "install ok installed").split():
                continue
            src = st.get("Source", st["Package"])
            src_name, _, rest = src.partition(" ")
            groups.setdefault(src_name, set()).add(st["Version"])
            installed.append((src_name, st["Version"]))
            # "Source: name (version)" names the source version when it differs
            rest = rest.strip()
            if rest.startswith("(") and rest.endswith(")"):
                groups[src_name].add(rest[1:-1].strip())
    common.log("dpkg status: %d installed entries, %d source packages" %
               (len(installed), len(groups)))
    return groups, sorted(set(installed))


def _arg(v):
    return v.encode("utf-8", "surrogateescape")


def dpkg_cmp(pair):
    """-1/0/1 from dpkg, or None when dpkg rejects a version (bad syntax error)."""
    a, b = pair
    for op, res in (("lt", -1), ("eq", 0)):
        p = subprocess.run([DPKG, "--compare-versions", _arg(a), op, _arg(b)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if p.returncode == 0:
            return res
        if p.returncode != 1:
            return None
    return 1


# Hand-picked edge cases (not from the data): tilde, epochs, revisions, leading zeros, huge
# numbers, letters against punctuation, bytes dpkg only warns about. Every pair still goes
# through dpkg; pairs dpkg refuses (syntax errors) are dropped.
EDGE = [
    "", "0", "00", "0:0", "1", "1.0", "1.00", "1.0.0", "1.0~", "1.0~~", "1.0~~a", "1.0~rc1",
    "1.0~rc1-1", "1.0+", "1.0+dfsg", "1.0+dfsg-1", "1.0~dfsg-1", "1.0a", "1.0A", "1.0z",
    "1.0.", "1.0-0", "1.0-1", "1.0-1~bpo1", "1.0-1+b1", "1.0-1.1", "1.0-a", "1.0-~",
    "1:0.9", "0:1.0", "00:1.0", "2:0.1", "10:0.1", "9:0.1", "+1:1.0", "1:1:1", "1:1.0-1-1",
    "1.0-1-1", " 1.0", "1.0 ", "1.00000000000000000000000000000000001",
    "1.99999999999999999999999999999999999",
    "1.100000000000000000000000000000000000", "99999999999999999999999999999999",
    "100000000000000000000000000000000", "2147483647:1", "a1.0", "1_0", "1.0_1",
    "1.0\udce9", "1.0\udc80", "1.0Z\udcff", "~", "~~", "1.0~\udce9", "1.0!", "1.0-1!",
]


def main():
    rng = common.new_rng(SEED)
    osv = common.merge_groups(common.osv_versions("debian-cve.jsonl.gz", "Debian"),
                              common.osv_versions("debian-advisories.jsonl.gz", "Debian"))
    status, installed = dpkg_status_versions()
    groups = common.merge_groups(osv, status)
    common.log("debian: %d packages, %d versions" %
               (len(groups), len(set().union(*groups.values()))))

    ps = common.PairSet(rng)
    common.add_same_package(ps, groups, n_adjacent=5000, n_random=3500)

    ps.section("installed-vs-advisory",
               "a version installed in a test image against an OSV version of its source package")
    inst = [(s, v) for s, v in installed if len(osv.get(s, ())) > 0]
    per = max(1, 1800 // max(1, len(inst)))
    for src, v in inst:
        cand = sorted(osv[src], key=common.natural_key)
        # the nearest advisory versions on both sides plus a few random ones
        keyed = sorted(cand + [v], key=common.natural_key)
        i = keyed.index(v)
        near = keyed[max(0, i - 3):i] + keyed[i + 1:i + 4]
        for w in near + rng.sample(cand, min(per, len(cand))):
            ps.add(v, w)

    common.add_cross(ps, groups, 1500)
    common.add_identical(ps, groups, 300)

    real = ps.count()
    ps.section("equivalent-forms",
               "a real version against the same version with an explicit 0: epoch or -0 revision")
    allv = sorted(set().union(*groups.values()))
    for v in rng.sample([v for v in allv if ":" not in v], 250):
        ps.add(v, "0:" + v)
    for v in rng.sample([v for v in allv if "-" not in v and ":" not in v], 100):
        ps.add(v, v + "-0")

    derived = ps.count() - real
    common.add_all_pairs(ps, "edge-cases", "hand-picked edge cases, all pairs (not real data)",
                         EDGE)

    flat = [(name, a, b) for name, _d, rows in ps.sections for a, b in rows]
    common.log("debian: %d pairs (%d of real versions, %d derived from real versions), asking "
               "dpkg..." % (len(flat), real, derived))
    with concurrent.futures.ThreadPoolExecutor(max_workers=(os.cpu_count() or 2) * 3) as ex:
        results = list(ex.map(dpkg_cmp, [(a, b) for _n, a, b in flat], chunksize=64))

    sections = []
    dropped = 0
    it = iter(results)
    for name, desc, rows in ps.sections:
        out = []
        for a, b in rows:
            r = next(it)
            if r is None:
                dropped += 1
                continue
            out.append((a, b, r))
        sections.append((name, desc, out))
    common.log("debian: dpkg rejected %d pairs (syntax errors), dropped" % dropped)

    ver = subprocess.run([DPKG, "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    header = [
        "Debian version pairs: A <TAB> B <TAB> sign of cmp(A, B). Generated by",
        "tools/gen-versions/gen_deb.py (run tools/gen-versions/gen-all.sh); do not edit.",
        "Oracle: `dpkg --compare-versions A lt B` / `eq` -- " + ver.strip(),
        "Versions: ../shared/vulndb/osv/debian-*.jsonl.gz and /var/lib/dpkg/status of the",
        "test images.",
        "Escapes in A and B: \\\\ \\t \\n \\r \\xHH; lines starting with '#' are comments.",
        "",
    ]
    path = os.path.join(common.OUT_DIR, "deb.txt")
    common.write_table(path, header, sections)
    common.log("debian: wrote %s (%d pairs)" % (path, sum(len(s[2]) for s in sections)))


if __name__ == "__main__":
    sys.exit(main())
