# SPDX-License-Identifier: Apache-2.0
"""Shared code of the version-table generators: reading the real version data (OSV files,
Alpine secdb, package databases inside the OCI test images), choosing pairs, and writing
tests/data/versions/<eco>.txt.

Table format (read by tests/unit/test_version.c): one pair per line, three fields separated
by a TAB: A, B and the oracle's RESULT (-1, 0 or 1, the sign of cmp(A, B)). Inside A and B a
backslash escapes: \\\\ is a backslash, \\t TAB, \\n LF, \\r CR and \\xHH any other byte
(every byte below 0x20 or from 0x7f up, and a '#' at the start of a field, is written that
way), so a version may contain any byte and the file stays ASCII. An empty field is the
empty string. Lines starting with '#' are comments; a comment "# section: NAME" starts a
section of pairs chosen the same way.
"""

import gzip
import io
import json
import os
import random
import re
import sys
import tarfile

REPO_ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
# ../shared relative to the repository root unless VIGIL_SHARED says otherwise
SHARED = os.environ.get("VIGIL_SHARED", os.path.join(REPO_ROOT, "..", "shared"))
VULNDB = os.path.join(SHARED, "vulndb")
# the OCI layout of the test images (see ../shared/tools/README.md)
IMAGES = os.environ.get("VIGIL_IMAGES", os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "build", "test-images"))
OUT_DIR = os.path.join(REPO_ROOT, "tests", "data", "versions")


def log(*args):
    print(*args, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------
# table format

def escape(v):
    """bytes or str -> one table field."""
    if isinstance(v, str):
        v = v.encode("utf-8", "surrogateescape")
    out = []
    for i, b in enumerate(v):
        if b == 0x5C:
            out.append("\\\\")
        elif b == 0x09:
            out.append("\\t")
        elif b == 0x0A:
            out.append("\\n")
        elif b == 0x0D:
            out.append("\\r")
        elif b < 0x20 or b >= 0x7F or (i == 0 and b == 0x23):
            out.append("\\x%02x" % b)
        else:
            out.append(chr(b))
    return "".join(out)


def write_table(path, header_lines, sections):
    """sections: list of (name, description, [(a, b, result), ...])."""
    with open(path, "w", encoding="ascii", newline="\n") as f:
        for line in header_lines:
            f.write("# " + line + "\n" if line else "#\n")
        for name, desc, rows in sections:
            f.write("# section: %s (%d pairs): %s\n" % (name, len(rows), desc))
            for a, b, r in rows:
                f.write("%s\t%s\t%d\n" % (escape(a), escape(b), r))


# ---------------------------------------------------------------------------------------
# real version data

def osv_versions(filename, eco_prefix, exact=False, range_types=("ECOSYSTEM",)):
    """{package name: set(versions)} from the OSV records of one file: range events
    (introduced other than the "0" sentinel, fixed, last_affected, limit) and `versions`.
    The ecosystem must start with eco_prefix (or equal it when exact); only ranges of the
    given types count (None: every type, e.g. SEMVER for Go and crates.io)."""
    groups = {}
    path = os.path.join(VULNDB, "osv", filename)
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            for aff in rec.get("affected", []):
                pkg = aff.get("package", {})
                eco = pkg.get("ecosystem", "")
                if eco != eco_prefix if exact else not eco.startswith(eco_prefix):
                    continue
                s = groups.setdefault(pkg["name"], set())
                for rng in aff.get("ranges", []):
                    if range_types is not None and rng.get("type") not in range_types:
                        continue
                    for ev in rng.get("events", []):
                        for k, v in ev.items():
                            if k == "introduced" and v == "0":
                                continue
                            if isinstance(v, str) and v:
                                s.add(v)
                for v in aff.get("versions") or []:
                    if isinstance(v, str) and v:
                        s.add(v)
    return {k: v for k, v in groups.items() if v}


def merge_groups(*gs):
    out = {}
    for g in gs:
        for k, v in g.items():
            out.setdefault(k, set()).update(v)
    return out


def _blob(digest):
    algo, hexd = digest.split(":", 1)
    return os.path.join(IMAGES, "blobs", algo, hexd)


def image_files(wanted):
    """Yield (image ref, path, bytes) for every file whose path (without a leading "./" or
    "/") is in `wanted`, from every gzip/uncompressed layer of every image of the OCI layout.
    Later layers come later, so the last occurrence per image is the effective one. Yields
    nothing (with a note) when the layout is missing."""
    index_path = os.path.join(IMAGES, "index.json")
    if not os.path.exists(index_path):
        log("note: no OCI layout at %s (set VIGIL_IMAGES); skipping image data" % IMAGES)
        return
    with open(index_path) as f:
        index = json.load(f)

    def manifests(desc, ref):
        with open(_blob(desc["digest"]), "rb") as f:
            m = json.load(f)
        if "manifests" in m:
            for sub in m["manifests"]:
                yield from manifests(sub, ref)
        else:
            yield ref, m

    seen_layers = {}
    for desc in index.get("manifests", []):
        ref = desc.get("annotations", {}).get("org.opencontainers.image.ref.name", "?")
        for ref, m in manifests(desc, ref):
            for layer in m.get("layers", []):
                mt = layer.get("mediaType", "")
                if "zstd" in mt:
                    continue  # the stdlib cannot read it; the same files exist as gzip
                dg = layer["digest"]
                if dg not in seen_layers:
                    found = []
                    with tarfile.open(_blob(dg), "r:*") as t:
                        for ti in t:
                            name = ti.name.lstrip("./").lstrip("/")
                            if ti.isfile() and name in wanted:
                                found.append((name, t.extractfile(ti).read()))
                    seen_layers[dg] = found
                for name, data in seen_layers[dg]:
                    yield ref, name, data


def stanzas(text):
    """RFC-822-like records separated by blank lines -> list of {field: value} (first line
    of each field only, which is all we need)."""
    out = []
    cur = {}
    for line in text.split("\n"):
        if not line.strip():
            if cur:
                out.append(cur)
            cur = {}
            continue
        if line[0] in " \t":
            continue
        k, sep, v = line.partition(":")
        if sep:
            cur[k.strip()] = v.strip()
    if cur:
        out.append(cur)
    return out


# ---------------------------------------------------------------------------------------
# choosing pairs

_num_split = re.compile(r"(\d+)")


def natural_key(v):
    """Rough ordering that puts close versions next to each other (the oracle decides the
    real order); ties are broken by the string so that the order never depends on set
    iteration order."""
    return (tuple((0, int(p)) if p.isdigit() else (1, p) for p in _num_split.split(v) if p), v)


class PairSet:
    """Unordered pairs, each kept once, in sections."""

    def __init__(self, rng):
        self.rng = rng
        self.seen = set()
        self.sections = []

    def section(self, name, desc):
        self.sections.append([name, desc, []])

    def add(self, a, b):
        key = (a, b) if a <= b else (b, a)
        if key in self.seen:
            return False
        self.seen.add(key)
        # random orientation so that both "<" and ">" results occur
        if a != b and self.rng.random() < 0.5:
            a, b = b, a
        self.sections[-1][2].append((a, b))
        return True

    def count(self):
        return sum(len(s[2]) for s in self.sections)


def add_same_package(ps, groups, n_adjacent, n_random):
    """Adjacent versions of the same package (by natural_key) and random pairs of versions
    of the same package."""
    rng = ps.rng
    names = sorted(n for n, vs in groups.items() if len(vs) >= 2)
    adjacent = []
    for n in names:
        vs = sorted(groups[n], key=natural_key)
        adjacent.extend(zip(vs, vs[1:]))
    rng.shuffle(adjacent)
    ps.section("same-package-adjacent", "neighbouring versions of one package")
    for a, b in adjacent:
        if len(ps.sections[-1][2]) >= n_adjacent:
            break
        ps.add(a, b)

    ps.section("same-package-random", "two random versions of one package")
    weights = [len(groups[n]) for n in names]
    tries = 0
    while len(ps.sections[-1][2]) < n_random and tries < n_random * 20:
        tries += 1
        n = rng.choices(names, weights)[0]
        a, b = rng.sample(sorted(groups[n]), 2)
        ps.add(a, b)


def add_cross(ps, groups, n):
    ps.section("cross-package", "random versions of two different packages")
    names = sorted(groups)
    tries = 0
    while len(ps.sections[-1][2]) < n and tries < n * 20:
        tries += 1
        x, y = rng_two(ps.rng, names)
        a = ps.rng.choice(sorted(groups[x]))
        b = ps.rng.choice(sorted(groups[y]))
        ps.add(a, b)


def rng_two(rng, names):
    x = rng.choice(names)
    y = rng.choice(names)
    while y == x and len(names) > 1:
        y = rng.choice(names)
    return x, y


def add_identical(ps, groups, n):
    ps.section("identical", "a version compared with itself")
    allv = sorted(set().union(*groups.values()))
    for v in ps.rng.sample(allv, min(n, len(allv))):
        ps.add(v, v)


def add_all_pairs(ps, name, desc, versions):
    ps.section(name, desc)
    for i, a in enumerate(versions):
        for b in versions[i + 1:]:
            ps.add(a, b)


def new_rng(seed):
    return random.Random(seed)
