#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Generate tests/data/versions/composer.txt: pairs of real Packagist versions with the order
Composer gives them: each version normalised by composer/semver's VersionParser::normalize()
(kept as written when it is rejected), then compared with composer/semver's Comparator.

The oracle is Debian's php-cli with php-composer-semver (apt-get install php-cli
php-composer-semver): tools/gen-versions/composer_oracle.php reads the pairs on stdin.
Versions: the Packagist OSV file (../shared/vulndb/osv/packagist.jsonl.gz: range events and
`versions` lists, grouped by package), plus hand-picked edge cases and random strings.
Pairs the Comparator calls neither <, == nor > (two different dev- branches) are dropped and
counted in the header. Run: /usr/bin/python3 tools/gen-versions/gen_composer.py.
"""

import os
import subprocess
import sys

import common

SEED = 20250302
HERE = os.path.dirname(os.path.abspath(__file__))
PHP = os.environ.get("PHP", "php")

EDGE = [
    "", "0", "1", "1.0", "1.0.0", "1.0.0.0", "1.0.0.0.0", "v1.0", "V1.0", "1.0.0-beta",
    "1.0.0-beta1", "1.0.0-BETA2", "1.0.0-b1", "1.0.0beta1", "1.0.0.beta.1", "1.0.0-beta.1.2",
    "1.0.0-alpha", "1.0.0-a1", "1.0.0-RC1", "1.0.0-rc1", "1.0.0-rc.1", "1.0.0-patch1",
    "1.0.0-p1", "1.0.0-pl1", "1.0.0-pl", "1.0.0-stable", "1.0.0-STABLE", "1.0.0-dev",
    "1.0.0-beta1-dev", "1.0-dev", "1.x-dev", "1.2.x-dev", "dev-master", "dev-main", "master",
    "trunk", "dev-feature/x", "DEV-master", "1.0.0+build.1", "1.0.0+20200101", "1.0.0@dev",
    "1.0.0@beta", "1.0.0 as 2.0.0", "2021-01-01", "2021.01.01", "20210101", "2021-01-01-beta",
    "123456", "123456.1", "1.2.3.4.5", "99999.1", "100000.1", "1.0.x", "1..0", "1.0.",
    "1.0-", "-1", ".1", "1_0", "1+0", "1.0foo", "1.0-foo", "1.0.pl", "1.0#", "#1",
    "9223372036854775807", "9223372036854775808", "1.01", "1.1", "1.10", "1.0-beta.01",
    " 1.0 ", "v", "dev", "beta", "1.0 as dev-master",
]


def synthetic(rng):
    words = ["v", "alpha", "beta", "RC", "rc", "b", "a", "p", "pl", "patch", "dev", "stable",
             "foo", "x", "#", "@dev", "+1", " as ", "dev-"]
    out = ""
    for _ in range(rng.randint(1, 7)):
        k = rng.random()
        if k < 0.45:
            out += rng.choice(["0", "1", "2", "10", "00", "01", "2021", "123456"])
        elif k < 0.7:
            out += rng.choice(".-_")
        else:
            out += rng.choice(words)
    return out


def main():
    rng = common.new_rng(SEED)
    groups = common.osv_versions("packagist.jsonl.gz", "Packagist")
    allv = sorted(set().union(*groups.values()))
    common.log("composer: %d packages, %d versions" % (len(groups), len(allv)))

    ps = common.PairSet(rng)
    common.add_same_package(ps, groups, n_adjacent=5000, n_random=4000)
    common.add_cross(ps, groups, 1500)
    common.add_identical(ps, groups, 300)
    real = ps.count()

    ps.section("equivalent-forms", "a real version against another spelling (v prefix, "
               "upper case, trailing .0, build metadata)")
    for v in rng.sample(allv, 400):
        ps.add(v, v[1:] if v[:1] in "vV" else "v" + v)
        ps.add(v, v.upper())
        ps.add(v, v + ".0")
        ps.add(v, v + "+1")
    derived = ps.count() - real
    common.add_all_pairs(ps, "edge-cases", "hand-picked edge cases, all pairs (not real data)",
                         EDGE)
    ps.section("synthetic", "random strings of numbers, separators and stability words "
               "(not real data)")
    while len(ps.sections[-1][2]) < 1500:
        ps.add(synthetic(rng), synthetic(rng))

    rows = [(a, b) for _n, _d, rs in ps.sections for a, b in rs]
    for a, b in rows:  # the oracle reads one pair per line
        if any(c in a + b for c in "\t\n\r"):
            raise SystemExit("version with TAB/CR/LF: %r %r" % (a, b))
    # both directions: version_compare() is not antisymmetric on some odd strings
    inp = "".join("%s\t%s\n%s\t%s\n" % (a, b, b, a) for a, b in rows)
    res = subprocess.run([PHP, os.path.join(HERE, "composer_oracle.php")],
                         input=inp.encode("utf-8", "surrogateescape"), stdout=subprocess.PIPE,
                         check=True)
    out = iter(res.stdout.decode("utf-8", "surrogateescape").split("\n"))
    sections, dropped, asym, hashes = [], 0, 0, 0
    for name, desc, rs in ps.sections:
        kept = []
        for a, b in rs:
            r, rr = next(out).split("\t")[0], next(out).split("\t")[0]
            if r == "x" or rr == "x":
                dropped += 1
            elif int(r) != -int(rr):
                asym += 1
            elif "#" in a + b:
                hashes += 1
            else:
                kept.append((a, b, int(r)))
        sections.append((name, desc, kept))
    n = sum(len(s[2]) for s in sections)
    ver = subprocess.run([PHP, "-r", "echo PHP_VERSION;"], stdout=subprocess.PIPE,
                         check=True).stdout.decode()
    semver = "?"
    try:
        with open("/usr/share/doc/php-composer-semver/changelog.Debian.gz", "rb") as f:
            import gzip
            semver = gzip.decompress(f.read()).decode().split("(", 1)[1].split(")", 1)[0]
    except (OSError, IndexError):
        pass
    common.log("composer: %d pairs (%d of real versions, %d derived); left out: %d "
               "incomparable, %d antisymmetry violations, %d with '#'" %
               (n, real, derived, dropped, asym, hashes))
    header = [
        "Packagist version pairs: A <TAB> B <TAB> sign of cmp(A, B). Generated by",
        "tools/gen-versions/gen_composer.py (needs php-cli, php-composer-semver); do not edit.",
        "Oracle: composer/semver %s (Debian php-composer-semver, PHP %s):" % (semver, ver),
        "VersionParser::normalize() on each side (the version as written when it throws), then",
        "Comparator::compare(<, ==, >), asked in both directions. Left out: %d pairs of two" %
        dropped,
        "different dev- branches (the Comparator leaves them unordered), %d pairs where PHP's" %
        asym,
        "version_compare() contradicts itself (cmp(a,b) != -cmp(b,a), e.g. '1.' against '1.a'),",
        "and %d made-up pairs holding '#' (version_compare() calls a '#' part equal to every" %
        hashes,
        "number, which is no order; src/version/composer.c puts it below the numbers).",
        "Versions: ../shared/vulndb/osv/packagist.jsonl.gz.",
        "Escapes in A and B: \\\\ \\t \\n \\r \\xHH; lines starting with '#' are comments.",
        "",
    ]
    path = os.path.join(common.OUT_DIR, "composer.txt")
    common.write_table(path, header, sections)
    common.log("composer: wrote %s" % path)


if __name__ == "__main__":
    sys.exit(main())
