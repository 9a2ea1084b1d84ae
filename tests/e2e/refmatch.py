# SPDX-License-Identifier: Apache-2.0
"""Independent OSV matcher: the truth vigil's `scan` findings are compared with.

Independence: written from the OSV schema 1.6 (ranges, events, `versions`) and the notes in
../shared/vulndb/README.md, without looking at vigil's C sources. It reads the OSV JSON lines
directly with the standard library; the inventory comes from refinventory.py.

Version oracles (none of them shares code with vigil):
- Debian: the real `dpkg --compare-versions`. Pairs that are equal as strings are decided
  here; every other pair is run through dpkg (batched through one shell, results cached),
  so dpkg's own algorithm is the truth, not a re-implementation of it.
- Red Hat: python3-rpm's `rpm.labelCompare` (run with /usr/bin/python3, which has the
  binding; `python3` on PATH may not), batched through one child process.
- Alpine: apk-tools cannot be installed here, so ApkVersion below is a comparator written
  from apk-package(5)'s version format; `selfcheck_apk()` checks it against the orderings
  osv.dev computed with its own apk comparator (every `versions` list in the Alpine data must
  sort below its range's `fixed`), and against tools/gen-versions/apk_oracle.py when present.

Matching rules (each one a decision vigil must make the same way; see MatchOptions):
- ecosystem from os-release: debian N -> `Debian:N`; alpine X.Y[.Z] -> `Alpine:vX.Y`;
  rhel/rocky/almalinux/centos N.M -> every `Red Hat:enterprise_linux:N::*` ecosystem (not the
  EUS/E4S/AUS streams and not layered products).
- package key: Debian -> the source package (dpkg Source:) compared at its source version;
  Alpine -> the origin (o:) compared at the package version; Red Hat -> the binary rpm name
  compared at epoch:version-release.
- an entry affects an installed version when the version is in its `versions` list (string
  equality) or inside any ECOSYSTEM range, evaluated the OSV way: events sorted by version,
  introduced opens, fixed closes (exclusive), last_affected closes (inclusive), and a version at
  or above a `limit` is not affected. fixedInVersion = the lowest `fixed` event above the
  installed version over all matching entries of the record, "" when none.
- one finding per (id, installed binary package): id = the record id when it is a CVE,
  else its lowest CVE alias, else the record id. Records with the same id from two files
  (debian-cve and alpine overlap, and the copies differ for some CVEs, e.g. CVE-2025-0725's
  Debian:12 curl entry) are one record: the newest `modified` wins (ties: the file that sorts
  first by name).
- Debian `unimportant` urgency: skipped by default (include_unimportant=False): the Debian
  security team uses it for issues that are not security problems in Debian's build.
- withdrawn records: skipped by default (include_withdrawn=False). (The current data has none.)
- Red Hat advisories (RHSA/RHBA/RHEA) name the CVEs they fix in `related`: by default
  (redhat_ids="cve") each matching advisory gives one finding per related CVE (ECR names
  findings by CVE), fixed-in = the advisory's fix, the lowest one when several advisories fix
  the same CVE in the same package; an advisory without CVEs is reported under its own id.
  redhat_ids="advisory" reports the advisory ids instead.
- Debian DSA/DLA/DTSA advisories: ignored by default (debian_advisories="ignore"): each one
  only repeats fixes of CVEs the per-CVE records already carry. "separate" reports them under
  their own ids; "merge" reports one only for a package none of its related CVEs matched.
"""

import functools
import gzip
import json
import os
import re
import subprocess

DEFAULT_VULNDB = os.environ.get(
    "VIGIL_VULNDB",
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "vulndb"))
SYSTEM_PYTHON = os.environ.get("VIGIL_SYSTEM_PYTHON", "/usr/bin/python3")
CMP_TIMEOUT = 600


class MatchOptions:
    def __init__(self, include_unimportant=False, include_withdrawn=False,
                 debian_advisories="ignore", redhat_ids="cve"):
        assert debian_advisories in ("ignore", "separate", "merge")
        assert redhat_ids in ("cve", "advisory")
        self.redhat_ids = redhat_ids
        self.include_unimportant = include_unimportant
        self.include_withdrawn = include_withdrawn
        self.debian_advisories = debian_advisories


# ---------------------------------------------------------------- comparators

class DpkgComparator:
    """3-way comparison through the real dpkg, cached."""

    SCRIPT = r'''
while IFS=' ' read -r a b; do
  if dpkg --compare-versions "$a" lt "$b" 2>/dev/null; then echo "-1"
  elif dpkg --compare-versions "$a" eq "$b" 2>/dev/null; then echo "0"
  else r=$?; if [ "$r" = 1 ]; then echo "1"; else echo "E"; fi
  fi
done
'''

    def __init__(self):
        self.cache = {}
        self.calls = 0

    def prime(self, pairs):
        todo = sorted({(a, b) for a, b in pairs if a != b and (a, b) not in self.cache})
        if not todo:
            return
        for a, b in todo:
            if not a or not b or any(c.isspace() for c in a + b):
                raise ValueError("bad Debian version pair %r %r" % (a, b))
        inp = "".join("%s %s\n" % p for p in todo)
        r = subprocess.run(["bash", "-c", self.SCRIPT], input=inp.encode(),
                           capture_output=True, timeout=CMP_TIMEOUT)
        out = r.stdout.decode().split()
        if r.returncode != 0 or len(out) != len(todo):
            raise RuntimeError("dpkg batch failed: rc=%d, %d/%d answers" % (
                r.returncode, len(out), len(todo)))
        self.calls += len(todo)
        for (a, b), res in zip(todo, out):
            if res == "E":
                raise ValueError("dpkg cannot compare %r and %r" % (a, b))
            self.cache[(a, b)] = int(res)
            self.cache[(b, a)] = -int(res)

    def __call__(self, a, b):
        if a == b:
            return 0
        if (a, b) not in self.cache:
            self.prime([(a, b)])
        return self.cache[(a, b)]


def split_evr(s):
    """'1:3.0.7-24.el9' -> ('1', '3.0.7', '24.el9'); no epoch -> '0'."""
    e = "0"
    if ":" in s:
        e, s = s.split(":", 1)
    v, sep, r = s.rpartition("-")
    if not sep:
        v, r = s, ""
    return (e, v, r)


class RpmComparator:
    """3-way comparison with python3-rpm's labelCompare (in /usr/bin/python3), cached."""

    CHILD = r'''
import json, sys, rpm
pairs = json.load(sys.stdin)
out = []
for a, b in pairs:
    out.append(rpm.labelCompare(tuple(a), tuple(b)))
json.dump(out, sys.stdout)
'''

    def __init__(self):
        self.cache = {}
        self.calls = 0

    def prime(self, pairs):
        todo = sorted({(a, b) for a, b in pairs if a != b and (a, b) not in self.cache})
        if not todo:
            return
        args = [[list(split_evr(a)), list(split_evr(b))] for a, b in todo]
        r = subprocess.run([SYSTEM_PYTHON, "-c", self.CHILD], input=json.dumps(args).encode(),
                           capture_output=True, timeout=CMP_TIMEOUT)
        if r.returncode != 0:
            raise RuntimeError("rpm.labelCompare child failed: %s" % r.stderr.decode()[-500:])
        res = json.loads(r.stdout)
        self.calls += len(todo)
        for (a, b), x in zip(todo, res):
            x = (x > 0) - (x < 0)
            self.cache[(a, b)] = x
            self.cache[(b, a)] = -x

    def __call__(self, a, b):
        if a == b:
            return 0
        if (a, b) not in self.cache:
            self.prime([(a, b)])
        return self.cache[(a, b)]


class ApkVersion:
    """apk version: number{.number}*{letter}?{_suffix{number}?}*{~hash}?{-rN}?

    Parsed into a list of tokens compared left to right. Rules (apk-package(5) and apk-tools'
    documented behaviour):
      - the first number compares as an integer; later numbers compare as integers unless one
        of the two starts with '0', then as strings (1.05 < 1.1);
      - a letter after the numbers ranks above no letter (1.0a > 1.0);
      - suffixes: alpha < beta < pre < rc < (none) < cvs < svn < git < hg < p;
      - ~hash compares as a string; -rN compares as an integer;
      - when one version ends where the other continues, the shorter one is older unless the
        longer one continues with a pre-release suffix (1.0_rc1 < 1.0 < 1.0.1, 1.0 < 1.0-r1).
      - a version that does not follow the format compares by its valid prefix and is older
        than a valid continuation at the point where it stops matching.
    """

    PRE = {"alpha": 0, "beta": 1, "pre": 2, "rc": 3}
    POST = {"cvs": 5, "svn": 6, "git": 7, "hg": 8, "p": 9}

    # token classes; at a position where the classes differ, the higher class is newer,
    # except that a pre-release suffix is below everything.
    T_INVALID, T_END, T_REV, T_HASH, T_SUFFIX, T_LETTER, T_NUM = 1, 2, 3, 4, 5, 6, 7

    def __init__(self, s):
        self.s = s
        self.tokens = self._tokens(s)

    @classmethod
    def _tokens(cls, s):
        toks = []
        m = re.match(r"[0-9]+", s)
        if not m:
            return [(cls.T_INVALID, s)]
        toks.append((cls.T_NUM, m.group(0), True))
        i = m.end()
        while i < len(s):
            m = re.match(r"\.([0-9]+)", s[i:])
            if m and (not toks or toks[-1][0] == cls.T_NUM):
                toks.append((cls.T_NUM, m.group(1), False))
                i += m.end()
                continue
            break
        m = re.match(r"[a-z]", s[i:])
        if m and toks[-1][0] == cls.T_NUM:
            toks.append((cls.T_LETTER, m.group(0)))
            i += 1
        while i < len(s):
            m = re.match(r"_([a-z]+)([0-9]*)", s[i:])
            if not m:
                break
            name = m.group(1)
            if name in cls.PRE:
                rank = cls.PRE[name]
            elif name in cls.POST:
                rank = cls.POST[name]
            else:
                toks.append((cls.T_INVALID, s[i:]))
                return toks + [(cls.T_END,)]
            toks.append((cls.T_SUFFIX, rank, int(m.group(2)) if m.group(2) else 0))
            i += m.end()
        m = re.match(r"~([0-9a-f]+)", s[i:])
        if m:
            toks.append((cls.T_HASH, m.group(1)))
            i += m.end()
        m = re.match(r"-r([0-9]+)", s[i:])
        if m:
            toks.append((cls.T_REV, int(m.group(1))))
            i += m.end()
        if i < len(s):
            toks.append((cls.T_INVALID, s[i:]))
        toks.append((cls.T_END,))
        return toks

    @classmethod
    def _is_pre(cls, t):
        return t[0] == cls.T_SUFFIX and t[1] < 4

    @classmethod
    def _cmp_tok(cls, a, b):
        if a[0] != b[0]:
            # a pre-release suffix is older than anything else at that position
            if cls._is_pre(a):
                return -1
            if cls._is_pre(b):
                return 1
            return -1 if a[0] < b[0] else 1
        k = a[0]
        if k == cls.T_NUM:
            x, y = a[1], b[1]
            if a[2] or not (x.startswith("0") or y.startswith("0")):
                x, y = int(x), int(y)
            return (x > y) - (x < y)
        if k in (cls.T_LETTER, cls.T_HASH, cls.T_REV, cls.T_INVALID):
            return (a[1] > b[1]) - (a[1] < b[1])
        if k == cls.T_SUFFIX:
            return ((a[1], a[2]) > (b[1], b[2])) - ((a[1], a[2]) < (b[1], b[2]))
        return 0

    @classmethod
    def compare(cls, a, b):
        if a == b:
            return 0
        ta, tb = cls._tokens(a), cls._tokens(b)
        for x, y in zip(ta, tb):
            c = cls._cmp_tok(x, y)
            if c:
                return c
        return 0


def apk_compare(a, b):
    return ApkVersion.compare(a, b)


# ---------------------------------------------------------------- data

def _load(path, keep):
    """Yield parsed records from a .jsonl.gz whose raw line passes keep(line)."""
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            if keep(line):
                yield json.loads(line)


class VulnDB:
    """The OSV records relevant to one ecosystem family, loaded once."""

    _cache = {}

    @classmethod
    def get(cls, family, vulndb=DEFAULT_VULNDB):
        key = (family, os.path.abspath(vulndb))
        if key not in cls._cache:
            cls._cache[key] = cls(family, vulndb)
        return cls._cache[key]

    def __init__(self, family, vulndb):
        # every OSV file: the same id can be in several (per-CVE records carrying Debian and
        # Alpine entries are in debian-cve and alpine, sometimes with different `modified`)
        osv = os.path.join(vulndb, "osv")
        files = [("osv/" + n, n[: -len(".jsonl.gz")]) for n in sorted(os.listdir(osv))
                 if n.endswith(".jsonl.gz")]
        needle = {"debian": '"Debian:', "alpine": '"Alpine:',
                  "redhat": '"Red Hat:enterprise_linux:'}[family]
        recs = {}
        for rel, source in files:
            for r in _load(os.path.join(vulndb, rel), lambda l: needle in l):
                r["_source"] = source
                old = recs.get(r["id"])
                if old is None or r.get("modified", "") > old.get("modified", ""):
                    recs[r["id"]] = r
        # index: (ecosystem, package name) -> [(record, affected entry)]
        self.by_pkg = {}
        for r in recs.values():
            for a in r.get("affected", []):
                pkg = a.get("package") or {}
                eco, name = pkg.get("ecosystem"), pkg.get("name")
                if eco and name:
                    self.by_pkg.setdefault((eco, name), []).append((r, a))
        self.records = recs


# ---------------------------------------------------------------- matching

def os_family(osr):
    i = (osr.get("id") or "").lower()
    v = osr.get("versionId") or ""
    if i == "debian":
        return "debian", ["Debian:%s" % v.split(".")[0]]
    if i == "alpine":
        parts = v.split(".")
        return "alpine", ["Alpine:v%s.%s" % (parts[0], parts[1] if len(parts) > 1 else "0")]
    if i in ("rhel", "rocky", "almalinux", "centos", "redhat"):
        return "redhat", ["Red Hat:enterprise_linux:%s::" % v.split(".")[0]]
    return None, []


def _eco_match(eco, prefixes):
    for p in prefixes:
        if p.endswith("::"):
            if eco.startswith(p):
                return True
        elif eco == p:
            return True
    return False


def _events_affect(v, events, cmp):
    """OSV range evaluation. -> (affected, fix candidates > v)."""
    def key_cmp(x, y):
        vx, vy = x[1], y[1]
        if vx == vy:
            return 0
        if vx == "0":
            return -1
        if vy == "0":
            return 1
        return cmp(vx, vy)

    evs = []
    limits = []
    for ev in events:
        for k, val in ev.items():
            if k == "limit":
                limits.append(val)
            elif k in ("introduced", "fixed", "last_affected"):
                evs.append((k, val))
    evs.sort(key=functools.cmp_to_key(key_cmp))
    status = False
    for k, val in evs:
        if k == "introduced":
            if val == "0" or cmp(v, val) >= 0:
                status = True
        elif k == "fixed":
            if cmp(v, val) >= 0:
                status = False
        elif k == "last_affected":
            if cmp(v, val) > 0:
                status = False
    if status and limits and any(l != "*" and cmp(v, l) >= 0 for l in limits):
        status = False
    fixes = [val for k, val in evs if k == "fixed" and cmp(v, val) < 0]
    return status, fixes


def entry_affects(v, entry, cmp):
    affected = v in (entry.get("versions") or [])
    fixes = []
    for rg in entry.get("ranges") or []:
        if rg.get("type") not in ("ECOSYSTEM", "SEMVER"):
            continue
        a, f = _events_affect(v, rg.get("events") or [], cmp)
        affected = affected or a
        fixes += f
    return affected, fixes


def finding_id(rec):
    rid = rec["id"]
    if rid.startswith("CVE-"):
        return rid
    cves = sorted(a for a in rec.get("aliases") or [] if a.startswith("CVE-"))
    return cves[0] if cves else rid


def _pkg_subject(family, p):
    """-> (name to look up, version to compare)."""
    if family == "debian":
        return p["sourceName"], p["sourceVersion"]
    if family == "alpine":
        return p["sourceName"], p["version"]
    v = p["version"]
    return p["name"], v if ":" in v else "0:" + v


def installed_version(p):
    """The installed version as findings name it: the package's full version string
    (Debian and rpm: [EPOCH:]VERSION-RELEASE as refinventory gives it)."""
    return p["version"]


def match(inventory, vulndb=DEFAULT_VULNDB, opts=None):
    """inventory: dict from refinventory.image_inventory. -> list of finding dicts:
    {id, package, version, fixed, source, record_ids, sourceName}."""
    opts = opts or MatchOptions()
    family, ecos = os_family(inventory["os"])
    if family is None:
        return []
    db = VulnDB.get(family, vulndb)
    cmp = {"debian": DpkgComparator, "alpine": lambda: apk_compare,
           "redhat": RpmComparator}[family]()

    # candidates: (pkg, record, entry)
    cands = []
    for p in inventory["packages"]:
        name, ver = _pkg_subject(family, p)
        for (eco, n), lst in _iter_index(db, name, ecos):
            for rec, entry in lst:
                if rec.get("withdrawn") and not opts.include_withdrawn:
                    continue
                if family == "debian":
                    urg = (entry.get("ecosystem_specific") or {}).get("urgency")
                    if urg == "unimportant" and not opts.include_unimportant:
                        continue
                    if rec["_source"] == "debian-advisories" and opts.debian_advisories == "ignore":
                        continue
                cands.append((p, ver, rec, entry))
    # batch the external comparisons
    if hasattr(cmp, "prime"):
        pairs = []
        for p, ver, rec, entry in cands:
            for rg in entry.get("ranges") or []:
                for ev in rg.get("events") or []:
                    for k, val in ev.items():
                        if val not in ("0", "*"):
                            pairs.append((ver, val))
        cmp.prime(pairs)

    per = {}  # (record id, package name, version) -> dict
    for p, ver, rec, entry in cands:
        affected, fixes = entry_affects(ver, entry, cmp)
        if not affected:
            continue
        k = (rec["id"], p["name"], installed_version(p))
        f = per.setdefault(k, {"rec": rec, "pkg": p, "fixes": []})
        f["fixes"] += fixes

    def lowest(vs):
        best = None
        for v in vs:
            if best is None or cmp(v, best) < 0:
                best = v
        return best or ""

    findings = {}
    for (rid, pname, pver), f in per.items():
        rec = f["rec"]
        fix = lowest(f["fixes"])
        ids = [finding_id(rec)]
        if family == "redhat" and opts.redhat_ids == "cve":
            cves = sorted({c for c in rec.get("related") or [] if c.startswith("CVE-")})
            ids = cves or ids
        for fid in ids:
            k = (fid, pname, pver)
            cur = findings.get(k)
            if cur is None:
                findings[k] = {"id": fid, "package": pname, "version": pver, "fixed": fix,
                               "sourceName": f["pkg"]["sourceName"], "record_ids": {rid},
                               "source": rec["_source"],
                               "related": set(rec.get("related") or [])}
            else:
                cur["record_ids"].add(rid)
                cur["fixed"] = lowest([x for x in (cur["fixed"], fix) if x])

    if family == "debian" and opts.debian_advisories == "merge":
        for k in list(findings):
            f = findings[k]
            if f["source"] != "debian-advisories":
                continue
            covered = [c for c in f["related"] if (c, k[1], k[2]) in findings]
            if covered:
                del findings[k]
    return sorted(findings.values(), key=lambda f: (f["id"], f["package"], f["version"]))


def _iter_index(db, name, ecos):
    for eco in _ecos_for(db, ecos):
        lst = db.by_pkg.get((eco, name))
        if lst:
            yield (eco, name), lst


def _ecos_for(db, prefixes):
    key = tuple(prefixes)
    cache = db.__dict__.setdefault("_eco_cache", {})
    if key not in cache:
        all_ecos = {e for e, _ in db.by_pkg}
        cache[key] = sorted(e for e in all_ecos if _eco_match(e, prefixes))
    return cache[key]


def finding_tuples(findings):
    """Set of (id, package, installed version, fixed-in version)."""
    return {(f["id"], f["package"], f["version"], f["fixed"]) for f in findings}


# ---------------------------------------------------------------- self checks

def selfcheck_apk(vulndb=DEFAULT_VULNDB, limit=None):
    """Every version osv.dev lists as affected in an Alpine entry must sort below that entry's
    fixed version. Returns (checked, [disagreements])."""
    bad = []
    n = 0
    for r in _load(os.path.join(vulndb, "osv/alpine.jsonl.gz"), lambda l: True):
        for a in r.get("affected", []):
            if not (a.get("package") or {}).get("ecosystem", "").startswith("Alpine:"):
                continue
            fixed = [ev["fixed"] for rg in a.get("ranges", []) for ev in rg.get("events", [])
                     if "fixed" in ev]
            for v in a.get("versions") or []:
                for fx in fixed:
                    n += 1
                    if apk_compare(v, fx) >= 0:
                        bad.append((r["id"], a["package"]["name"], v, fx))
        if limit and n > limit:
            break
    return n, bad


if __name__ == "__main__":
    import sys
    import time
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import refimage
    import refinventory
    layout = sys.argv[1] if len(sys.argv) > 1 else os.environ.get(
        "VIGIL_TEST_IMAGES",
        os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "build",
                     "test-images"))
    refs = sys.argv[2:] or ["debian:bookworm-minbase", "debian-vuln:bookworm-oldpkgs",
                            "alpine-synthetic:3.19.0", "rocky-synthetic:9.3"]
    for r in refs:
        t = time.time()
        im = refimage.Image(layout, r)
        inv = refinventory.image_inventory(im)
        for label, o in (("default", MatchOptions()),
                         ("+unimportant", MatchOptions(include_unimportant=True)),
                         ("+advisories", MatchOptions(debian_advisories="separate")),
                         ("merge-adv", MatchOptions(debian_advisories="merge"))):
            fs = match(inv, opts=o)
            nofix = sum(1 for f in fs if not f["fixed"])
            print("%-32s %-13s findings=%d (unfixed %d, ids %d) (%.1fs)" % (
                r, label, len(fs), nofix, len({f["id"] for f in fs}), time.time() - t))
