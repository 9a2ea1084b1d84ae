#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Generate tests/data/versions/pep440.txt: pairs of real PyPI versions (from
../shared/vulndb/osv/pypi.jsonl.gz, grouped by package) with the order python3-packaging's
packaging.version.Version gives them. Needs /usr/bin/python3 (Debian's, with python3-packaging
and python3-pip): /usr/bin/python3 tools/gen-versions/gen_pep440.py (or gen-all.sh, once it
lists this script).

Oracle: Version (packaging 23) when both strings are valid PEP 440 versions. packaging >= 22
rejects everything else; vigil orders such strings as packaging 21.3's LegacyVersion did
(below every valid version), so pairs with an invalid string take 21.3 as the oracle: the copy
vendored in Debian's pip (pip._vendor.packaging). On every pair of valid versions the two
releases are checked to agree, and on every string that they agree on validity.

Only ASCII strings are used: packaging's regexes match Unicode spaces, digits and case folds
that vigil (which compares bytes) does not.
"""

import os
import sys
import warnings

import common

try:
    import packaging
    from packaging.version import InvalidVersion, Version
except ImportError:
    sys.exit("gen_pep440.py: needs python3-packaging (run it with /usr/bin/python3)")
try:
    from pip._vendor import packaging as legacy_packaging
    from pip._vendor.packaging import version as legacy
except ImportError:
    sys.exit("gen_pep440.py: needs python3-pip (its vendored packaging 21.3 has LegacyVersion)")

warnings.simplefilter("ignore", DeprecationWarning)

SEED = 20250301

# Hand-picked edge cases (not from the data): every spelling PEP 440 normalises, implicit
# numbers, trailing zeros, epochs, local segments, huge numbers, blanks, invalid strings.
EDGE = [
    "", " ", "0", "1", "1.0", "1.0.0", "1.00", "01.0", "1.0.0.0.0.1", "v1.0", "V1.0", " 1.0 ",
    "\t1.0\n", "\x1c1.0\x1f", "1.0\x0b", "1!1.0", "0!1.0", "2!0.1", "1!", "!1",
    "1.0a", "1.0a0", "1.0a1", "1.0A1", "1.0alpha1", "1.0-alpha1", "1.0_alpha_1", "1.0.a.1",
    "1.0a-1", "1.0a-", "1.0a--1", "1.0b2", "1.0beta2", "1.0c1", "1.0rc1", "1.0RC1", "1.0pre1",
    "1.0preview1", "1.0-rc.1", "1.0post1", "1.0.post1", "1.0-post1", "1.0post", "1.0.post",
    "1.0.post.", "1.0-1", "1.0-0", "1.0rev1", "1.0r1", "1.0.r.1", "1.0.post-1", "1.0dev",
    "1.0.dev0", "1.0.dev1", "1.0-dev1", "1.0_dev_1", "1.0.dev-", "1.0a1.dev1", "1.0a1.post1",
    "1.0a1.post1.dev1", "1.0.post1.dev1", "1.0rc1-1", "1.0+local", "1.0+LOCAL", "1.0+1",
    "1.0+01", "1.0+a.1", "1.0+a-1", "1.0+a_1", "1.0+1.a", "1.0+abc.5", "1.0+abd", "1.0+ab",
    "1.0+", "1.0+a..b", "1.0+-a", "1.0-", "1.0.", ".1.0", "1..0", "1.0_1", "1.0-1-1",
    "1.0a1b1", "1.0.post1.post2", "1.0dev1dev2", "99999999999999999999999999",
    "100000000000000000000000000", "1.99999999999999999999", "1.100000000000000000000",
    "1.0~rc1", "abc", "ABC", "foo-bar", "1.0-final", "2.0.0-final", "1.0-SNAPSHOT",
    "0.3.2d", "0.3.2d.dev", "1.0beta6.1", "2013-01-21T20:33:09+0100", "2019-09-12",
    "3.0.0b3-", "1.0.0-p1", "1.0p1", "1.0-p1", "1.0-1.1", "1.0pre", "1.0-pre1", "1.0-dev",
    "1.0.0000000001", "1.000000001", "1.00000001", "1.0-0-a", "1-0-a", "1.0--a", "1.-",
    "0.9-stable", "0.1-charmander", "1.0final", "1.0-finale", "1.0_", "1.0~", "1.0*",
]

# Normalisation rewrites applied to real versions: (old, new) on the lower-cased string.
REWRITES = [
    ("a", "alpha"), ("a", "-a"), ("a", ".A"), ("b", "beta"), ("b", "_b"), ("rc", "c"),
    ("rc", "pre"), ("rc", "preview"), ("rc", "-RC."), (".post", "post"), (".post", "-post"),
    (".post", ".rev"), (".post", ".r"), (".post", "_post_"), (".dev", "dev"),
    (".dev", "-dev"), (".dev", "_DEV."),
]


def parse_new(s):
    try:
        return Version(s)
    except InvalidVersion:
        return None


def cmp(x, y):
    return (x > y) - (x < y)


def oracle(a, b):
    va, vb = parse_new(a), parse_new(b)
    la, lb = legacy.parse(a), legacy.parse(b)
    for s, v, l in ((a, va, la), (b, vb, lb)):
        if (v is None) != isinstance(l, legacy.LegacyVersion):
            sys.exit("gen_pep440.py: %r: packaging %s and 21.3 disagree on validity" %
                     (s, packaging.__version__))
    if va is not None and vb is not None:
        r = cmp(va, vb)
        if r != cmp(la, lb):
            sys.exit("gen_pep440.py: %r vs %r: packaging %s and 21.3 disagree" %
                     (a, b, packaging.__version__))
        return r
    return cmp(la, lb)


def variants(rng, v):
    """Other spellings of v that PEP 440 normalises (some are then invalid, which is fine:
    the oracle decides)."""
    low = v.lower()
    out = []
    if parse_new(v) is None:
        return out
    for old, new in REWRITES:
        if old in low:
            out.append(low.replace(old, new, 1))
    out.append("v" + v)
    out.append(v.upper())
    out.append(" " + v + "\n")
    rel_end = len(v)
    for i, c in enumerate(v):
        if not (c.isdigit() or c == "."):
            rel_end = i
            break
    out.append(v[:rel_end] + ".0" + v[rel_end:])
    out.append("0!" + v if "!" not in v else v)
    if v[:1].isdigit():
        out.append("0" + v)
    return [x for x in out if x != v]


def main():
    rng = common.new_rng(SEED)
    groups = common.osv_versions("pypi.jsonl.gz", "PyPI")
    groups = {k: {v for v in vs if v.isascii()} for k, vs in groups.items()}
    groups = {k: vs for k, vs in groups.items() if vs}
    allv = sorted(set().union(*groups.values()))
    invalid = sorted(v for v in allv if parse_new(v) is None)
    common.log("pep440: %d packages, %d versions, %d not PEP 440" %
               (len(groups), len(allv), len(invalid)))

    ps = common.PairSet(rng)
    common.add_same_package(ps, groups, n_adjacent=5500, n_random=4000)
    common.add_cross(ps, groups, 1500)
    common.add_identical(ps, groups, 300)

    ps.section("invalid-real", "real versions PEP 440 rejects, with each other and with valid "
               "versions of the same package")
    for v in invalid:
        owners = sorted(k for k, vs in groups.items() if v in vs)
        for k in owners:
            for w in sorted(groups[k]):
                ps.add(v, w)
    for a in invalid:
        for b in rng.sample(invalid, min(10, len(invalid))):
            ps.add(a, b)

    real = ps.count()
    ps.section("equivalent-forms", "a real version against other spellings of it (pre/post/dev "
               "labels and separators, case, 'v', blanks, a trailing .0, epoch 0, leading 0)")
    valid = [v for v in allv if parse_new(v) is not None]
    for v in rng.sample(valid, 400):
        for w in variants(rng, v):
            ps.add(v, w)
    derived = ps.count() - real

    common.add_all_pairs(ps, "edge-cases", "hand-picked edge cases, all pairs (not real data)",
                         EDGE)

    sections = []
    for name, desc, rows in ps.sections:
        sections.append((name, desc, [(a, b, oracle(a, b)) for a, b in rows]))
    common.log("pep440: %d pairs (%d of real versions, %d derived from real versions)" %
               (sum(len(s[2]) for s in sections), real, derived))

    header = [
        "PyPI version pairs: A <TAB> B <TAB> sign of cmp(A, B). Generated by",
        "tools/gen-versions/gen_pep440.py (run tools/gen-versions/gen-all.sh); do not edit.",
        "Oracle: python3-packaging %s packaging.version.Version; where A or B is not a PEP 440"
        % packaging.__version__,
        "version, packaging %s LegacyVersion (as vendored in python3-pip), which puts it below"
        % legacy_packaging.__version__,
        "every valid version. Versions: ../shared/vulndb/osv/pypi.jsonl.gz (ASCII only).",
        "Escapes in A and B: \\\\ \\t \\n \\r \\xHH; lines starting with '#' are comments.",
        "",
    ]
    path = os.path.join(common.OUT_DIR, "pep440.txt")
    common.write_table(path, header, sections)
    common.log("pep440: wrote %s" % path)


if __name__ == "__main__":
    sys.exit(main())
