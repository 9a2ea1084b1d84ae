#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Generate tests/data/versions/gomod.txt: pairs of real Go module versions with the result of
golang.org/x/mod/semver.Compare (the oracle: gen_gomod_oracle.go, built here against Debian's
golang-golang-x-mod-dev in GOPATH mode, offline; needs golang-go).

Versions: ../shared/vulndb/osv/go.jsonl.gz (SEMVER range events other than the "0" sentinel,
and `versions` lists, of the "Go" ecosystem, grouped by module; "stdlib" and "toolchain" are
Go releases). OSV spells them without the "v"; a Go binary reports them with it, so each side
of a pair is written with the "v" or without it at random (the oracle puts it back). The
stdlib section compares Go toolchain tags ("go1.21rc2", as a binary names its toolchain)
against the vulnerability database's stdlib versions ("1.21.0-rc.2").
  python3 tools/gen-versions/gen_gomod.py
"""

import os
import subprocess
import sys
import tempfile

import common

SEED = 20250301
HERE = os.path.dirname(os.path.abspath(__file__))
GOPATH = os.environ.get("GOPATH_X_MOD", "/usr/share/gocode")

EDGE = [
    "", "v", "go", "v0", "v1", "v1.2", "v1.2.3", "1.2.3", "v1.2.3-", "v1.2.3+",
    "v1.2-pre", "v1.2.3-pre", "v1.2.3-pre.1", "v1.2.3-pre.01", "v1.2.3-pre.1a",
    "v1.2.3-0pre", "v1.2.3-01", "v1.2.3-1", "v1.2.3-2", "v1.2.3-10", "v1.2.3-a.b.c",
    "v1.2.3-a.b", "v1.2.3-A", "v1.2.3-a", "v1.2.3--", "v1.2.3-pre+build", "v1.2.3+build.1",
    "v1.2.3+build..1", "v2.0.0+incompatible", "v2.0.0", "v2.0.1+incompatible", "v01.2.3",
    "v1.02.3", "v1.2.03", "v1.2.3.4", "V1.2.3", " v1.2.3", "v1.2.3 ",
    "v0.0.0-20191109021931-daa7c04131f5", "v0.0.0-20200101000000-000000000000",
    "v1.2.4-0.20191109021931-daa7c04131f5", "v1.2.3-pre.0.20191109021931-daa7c04131f5",
    "v99999999999999999999.0.0", "v100000000000000000000.0.0", "go1.21rc2", "1.21rc2",
    "go1.21", "1.21", "go1.21.0", "1.21.0-rc.2", "1.21.0-0", "go1.19.8", "1.19.8",
    "go1.9.2rc2", "go1.20beta1", "go1", "go1.21rc", "go1.21.rc2", "gox", "devel",
    "v1.2.3-rc.2", "1.2.3-beta.11", "1.2.3-beta.2", "\xe9", "1.2.3\t",
]


def go_versions():
    return common.osv_versions("go.jsonl.gz", "Go", exact=True, range_types=None)


def build_oracle(tmp):
    exe = os.path.join(tmp, "gomod-oracle")
    env = dict(os.environ, GO111MODULE="off", GOPATH=GOPATH, GOFLAGS="",
               GOCACHE=os.path.join(tmp, "cache"))
    subprocess.run(["go", "build", "-o", exe, os.path.join(HERE, "gen_gomod_oracle.go")],
                   env=env, check=True)
    return exe


def ask(exe, pairs):
    """Signs for [(a, b)]; a and b must not hold a TAB or newline (checked)."""
    for a, b in pairs:
        assert "\t" not in a + b and "\n" not in a + b
    inp = "".join("%s\t%s\n" % (a, b) for a, b in pairs).encode("utf-8", "surrogateescape")
    out = subprocess.run([exe], input=inp, capture_output=True, check=True).stdout.decode()
    res = [int(x) for x in out.split()]
    assert len(res) == len(pairs)
    return res


def tag_of(v):
    """"1.21.0-rc.2" -> "go1.21rc2", "1.20.0" -> "go1.20" (or "go1.20.0" from 1.21 on),
    "1.19.8" -> "go1.19.8": how a binary names the toolchain; None for "1.x.0-0"."""
    core, _, pre = v.partition("-")
    parts = core.split(".")
    if len(parts) != 3:
        return None
    major, minor, patch = parts
    if pre:
        kind, _, n = pre.partition(".")
        if kind not in ("alpha", "beta", "rc") or not n.isdigit():
            return None
        return "go%s.%s%s%s" % (major, minor, "" if patch == "0" else "." + patch, kind + n)
    if patch == "0" and int(minor) < 21:
        return "go%s.%s" % (major, minor)
    return "go" + v


def main():
    rng = common.new_rng(SEED)
    groups = go_versions()
    common.log("go: %d modules, %d versions" %
               (len(groups), len(set().union(*groups.values()))))
    ps = common.PairSet(rng)
    common.add_same_package(ps, groups, n_adjacent=5000, n_random=3500)
    common.add_cross(ps, groups, 4000)
    common.add_identical(ps, groups, 300)

    # random "v" on each side: binaries spell versions with it, OSV without
    for sec in ps.sections:
        sec[2] = [(a if rng.random() < 0.5 else "v" + a, b if rng.random() < 0.5 else "v" + b)
                  for a, b in sec[2]]
    real = ps.count()

    ps.section("stdlib-tags", "a Go toolchain tag as a binary names it against a stdlib "
               "version of the vulnerability database")
    std = sorted(groups.get("stdlib", set()) | groups.get("toolchain", set()),
                 key=common.natural_key)
    tags = [(v, tag_of(v)) for v in std if tag_of(v)]
    for v, t in tags:
        ps.add(t, v)  # the same release in both spellings
    for _ in range(800):
        (_v, t), w = rng.choice(tags), rng.choice(std)
        ps.add(t, w)
    derived = ps.count() - real
    common.add_all_pairs(ps, "edge-cases", "hand-picked edge cases, all pairs (not real data)",
                         [e for e in EDGE if "\t" not in e])

    flat = [(a, b) for _n, _d, rows in ps.sections for a, b in rows]
    tmp = tempfile.mkdtemp(prefix="vigil-gomod-")
    try:
        exe = build_oracle(tmp)
        res = iter(ask(exe, flat))
    finally:
        subprocess.run(["rm", "-rf", tmp])
    sections = [(n, d, [(a, b, next(res)) for a, b in rows]) for n, d, rows in ps.sections]
    gover = subprocess.run(["go", "version"], capture_output=True, text=True).stdout.strip()
    xmod = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "golang-golang-x-mod-dev"],
                          capture_output=True, text=True).stdout.strip()
    header = [
        "Go module version pairs: A <TAB> B <TAB> sign of cmp(A, B). Generated by",
        "tools/gen-versions/gen_gomod.py; do not edit.",
        "Oracle: golang.org/x/mod/semver.Compare (Debian golang-golang-x-mod-dev %s, %s)" %
        (xmod, gover),
        "after gen_gomod_oracle.go's norm(): a missing \"v\" is added, Go toolchain tags become",
        "the vulnerability database's stdlib semver (go1.21rc2 -> v1.21.0-rc.2).",
        "Versions: ../shared/vulndb/osv/go.jsonl.gz (%d pairs of real versions, %d derived)." %
        (real, derived),
        "Escapes in A and B: \\\\ \\t \\n \\r \\xHH; lines starting with '#' are comments.",
        "",
    ]
    path = os.path.join(common.OUT_DIR, "gomod.txt")
    common.write_table(path, header, sections)
    common.log("go: wrote %s (%d pairs)" % (path, sum(len(s[2]) for s in sections)))


if __name__ == "__main__":
    sys.exit(main())
