# SPDX-License-Identifier: Apache-2.0
"""Independent reference for language-package scanning: inventory and OSV matching.

Independence: written from the package formats' own documentation (npm's package.json and
package-lock.json, the Python core metadata spec and PEP 503, the JAR file spec and Maven's
pom.properties, Go's build info as `go version -m` prints it) and the OSV schema 1.6, without
looking at vigil's C sources. Images are read with refimage.py (Python tarfile + whiteouts).

Oracles (none shares code with vigil; every comparison is batched through one child process per
ecosystem and cached):
- npm: node's `semver` package (`semver.compare`, loose parsing), found in
  $VIGIL_NODE_SEMVER, tools/gen-versions/node_modules or build/reflang-oracles/node, else
  installed there with npm;
- PyPI: python3-packaging's `packaging.version.Version` (run with /usr/bin/python3, which has
  it; the `python3` on PATH may not);
- Maven: Maven's own `org.apache.maven.artifact.versioning.ComparableVersion` (Debian's
  maven-artifact jar), one JVM for a whole batch;
- Go: golang.org/x/mod/semver (Debian golang-golang-x-mod-dev, built offline in GOPATH mode);
  the Go build info itself comes from the real `go version -m`.

Inventory rules (each one a decision vigil has to match; `path` is the file in the image without
a leading '/', for archives inside archives "outer.jar!BOOT-INF/lib/inner.jar"):
- npm: every regular file named package.json with a `node_modules` directory among its parents
  and a non-empty string `name` and `version`; plus every package-lock.json (not npm's hidden
  node_modules/.package-lock.json): lockfileVersion 2/3 `packages` entries except the root ""
  and `link: true` entries (name = the entry's `name`, else the path after the last
  "node_modules/"), lockfileVersion 1 the nested `dependencies` tree.
- PyPI: `*.dist-info/METADATA`, `*.egg-info/PKG-INFO` and regular files named `*.egg-info`;
  the `Name` and `Version` headers; names normalised by PEP 503 (lower case, runs of "-_."
  become "-").
- Maven: every regular file named *.jar, *.war, *.ear (symlinks are not followed: Debian's
  versioned jar symlinks are the same file); every META-INF/maven/G/A/pom.properties in it
  with groupId, artifactId and version gives "groupId:artifactId" at that version; nested
  archives under BOOT-INF/lib/ and WEB-INF/lib/ are read the same way (depth <= 3).
  Archives with no pom.properties are listed in `unidentified` with the versions their
  MANIFEST.MF (Implementation-Version, Bundle-Version) and file name suggest; which name to give
  them is a heuristic, so the reference does not name them.
- Go: every regular file with an execute bit that starts with the ELF magic is copied to a
  temporary directory and `go version -m` is run on it: the main module (`mod`) unless its
  version is "(devel)", every `dep` (a `=>` replacement with a version replaces it), and the
  toolchain as "stdlib" with the version without "go" (go1.19.8 -> 1.19.8).
- layer: the layer of the file the package was read from (0-based).

Matching rules:
- OSV files npm, pypi, maven, go and malicious; records with the same id in several files are
  one record (newest `modified`); withdrawn records are skipped; ecosystems npm, PyPI (names
  PEP 503-normalised on both sides), Maven, Go.
- an entry affects a version that is in its `versions` list (string equality) or inside a
  SEMVER/ECOSYSTEM range (refmatch's OSV evaluation: introduced, fixed, last_affected, limit);
  a range with a version the oracle rejects (invalid in the ecosystem's grammar) is left out.
- finding id: the record id when it is a CVE, else the lowest CVE among its aliases, else the
  lowest of the record id and its non-CVE aliases (so GO-/PYSEC- records that alias a GHSA
  without CVE become that GHSA); MAL-* records (malicious packages) are named by the lowest of
  their own id and their MAL aliases (their GHSA malware aliases are not in the data).
- one finding per (finding id, package name, installed version); fixed-in = the lowest `fixed`
  above the installed version over every matching entry of every record merged into it, ""
  when none.
"""

import glob
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import tempfile
import zipfile

import refimage
import refmatch

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
DEFAULT_VULNDB = refmatch.DEFAULT_VULNDB
SYSTEM_PYTHON = refmatch.SYSTEM_PYTHON
ORACLE_DIR = os.environ.get("VIGIL_ORACLE_DIR", os.path.join(REPO, "build", "reflang-oracles"))
MAVEN_ARTIFACT_JARS = ("/usr/share/maven/lib/maven-artifact-3.x.jar",
                       "/usr/share/java/maven3-artifact.jar", "/usr/share/java/maven-artifact.jar")
GOPATH = os.environ.get("VIGIL_GOPATH", "/usr/share/gocode")
ORACLE_TIMEOUT = 300

# inventory type -> OSV ecosystem
ECOSYSTEMS = {"npm": "npm", "pypi": "PyPI", "maven": "Maven", "go": "Go"}
OSV_FILES = ("npm", "pypi", "maven", "go", "malicious")

JAR_EXTS = (".jar", ".war", ".ear")
NESTED_DIRS = ("BOOT-INF/lib/", "WEB-INF/lib/")
MAX_NEST = 3


class OracleError(Exception):
    pass


# ================================================================ inventory

def pep503(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def _is_npm_manifest(p):
    parts = p.split("/")
    return parts[-1] == "package.json" and "node_modules" in parts[:-1]


def _is_lock(p):
    return p.split("/")[-1] == "package-lock.json"


def _is_python_meta(p):
    parts = p.split("/")
    if len(parts) >= 2 and parts[-1] == "METADATA" and parts[-2].endswith(".dist-info"):
        return True
    if len(parts) >= 2 and parts[-1] == "PKG-INFO" and parts[-2].endswith(".egg-info"):
        return True
    return parts[-1].endswith(".egg-info")


def _is_archive(p):
    return p.lower().endswith(JAR_EXTS)


def wanted(p):
    return _is_npm_manifest(p) or _is_lock(p) or _is_python_meta(p) or _is_archive(p)


def _executable(p, m):
    return m.isreg() and (m.mode & 0o111) != 0


def _pkg(typ, name, version, path, layer):
    return {"type": typ, "name": name, "version": version, "path": path, "layer": layer}


def npm_manifest(data, path, layer):
    try:
        d = json.loads(data)
    except ValueError:
        return []
    if not isinstance(d, dict):
        return []
    n, v = d.get("name"), d.get("version")
    if isinstance(n, str) and isinstance(v, str) and n and v:
        return [_pkg("npm", n, v, path, layer)]
    return []


def npm_lock(data, path, layer):
    try:
        d = json.loads(data)
    except ValueError:
        return []
    out = []
    if not isinstance(d, dict):
        return out
    pk = d.get("packages")
    if isinstance(pk, dict) and d.get("lockfileVersion", 1) >= 2:
        for key, e in pk.items():
            if key == "" or not isinstance(e, dict) or e.get("link"):
                continue
            name = e.get("name")
            if not isinstance(name, str) or not name:
                i = key.rfind("node_modules/")
                name = key[i + len("node_modules/"):] if i >= 0 else key
            v = e.get("version")
            if isinstance(v, str) and v and name:
                out.append(_pkg("npm", name, v, path, layer))
        return out

    def walk(deps):
        for name, e in (deps or {}).items():
            if not isinstance(e, dict):
                continue
            v = e.get("version")
            if isinstance(v, str) and v and not v.startswith("file:"):
                out.append(_pkg("npm", name, v, path, layer))
            walk(e.get("dependencies"))
    if isinstance(d.get("dependencies"), dict):
        walk(d["dependencies"])
    return out


def python_meta(data, path, layer):
    text = data.decode("utf-8", "replace")
    name = version = None
    for line in text.splitlines():
        if not line.strip():
            break
        if line[:1].isspace() or ":" not in line:
            continue
        k, v = line.split(":", 1)
        k = k.strip().lower()
        if k == "name" and name is None:
            name = v.strip()
        elif k == "version" and version is None:
            version = v.strip()
    if name and version:
        return [_pkg("pypi", pep503(name), version, path, layer)]
    return []


def _properties(text):
    props = {}
    for line in text.splitlines():
        s = line.strip()
        if not s or s[0] in "#!":
            continue
        m = re.match(r"([^=:\s]+)\s*[=:\s]\s*(.*)$", s)
        if m:
            props[m.group(1)] = m.group(2).strip()
    return props


def _manifest(text):
    attrs = {}
    key = None
    for line in text.replace("\r\n", "\n").split("\n"):
        if line.startswith(" ") and key:
            attrs[key] += line[1:]
            continue
        if ":" in line:
            key, v = line.split(":", 1)
            attrs[key] = v.strip()
        else:
            key = None
    return attrs


def _filename_version(path):
    base = path.rsplit("/", 1)[-1].rsplit("!", 1)[-1]
    base = base.rsplit("/", 1)[-1]
    stem = base[: base.rfind(".")] if "." in base else base
    m = re.match(r"^(.*?)-(\d.*)$", stem)
    return m.group(2) if m else None


def jar_packages(data, path, layer, depth=0, unidentified=None):
    out = []
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
        names = z.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return out
    seen = set()
    for n in names:
        parts = n.split("/")
        if len(parts) == 5 and parts[0] == "META-INF" and parts[1] == "maven" and \
                parts[4] == "pom.properties":
            try:
                props = _properties(z.read(n).decode("utf-8", "replace"))
            except (zipfile.BadZipFile, OSError, ValueError, RuntimeError):
                continue
            g, a, v = props.get("groupId"), props.get("artifactId"), props.get("version")
            if g and a and v and (g, a, v) not in seen:
                seen.add((g, a, v))
                out.append(_pkg("maven", "%s:%s" % (g, a), v, path, layer))
    if not seen and unidentified is not None:
        cands = []
        try:
            mf = _manifest(z.read("META-INF/MANIFEST.MF").decode("utf-8", "replace"))
        except (KeyError, zipfile.BadZipFile, OSError, ValueError, RuntimeError):
            mf = {}
        for k in ("Implementation-Version", "Bundle-Version", "Specification-Version"):
            if mf.get(k):
                cands.append(mf[k])
        fv = _filename_version(path)
        if fv:
            cands.append(fv)
        unidentified.append({"path": path, "layer": layer, "versions": cands,
                             "manifest": {k: v for k, v in mf.items() if k in (
                                 "Implementation-Title", "Implementation-Vendor-Id",
                                 "Bundle-SymbolicName", "Automatic-Module-Name")}})
    if depth < MAX_NEST:
        for n in names:
            if n.startswith(NESTED_DIRS) and n.lower().endswith(JAR_EXTS):
                try:
                    inner = z.read(n)
                except (zipfile.BadZipFile, OSError, ValueError, RuntimeError):
                    continue
                out += jar_packages(inner, "%s!%s" % (path, n), layer, depth + 1, unidentified)
    return out


def go_binaries(files, tmp):
    """files: {path: Entry} of candidate executables. -> list of packages via `go version -m`."""
    d = os.path.join(tmp, "go")
    os.makedirs(d, exist_ok=True)
    names = {}
    for i, (p, e) in enumerate(sorted(files.items())):
        if e.kind != "file" or not e.data or e.data[:4] != b"\x7fELF":
            continue
        fn = os.path.join(d, "b%05d" % i)
        with open(fn, "wb") as f:
            f.write(e.data)
        os.chmod(fn, 0o755)
        names[fn] = (p, e.layer)
    if not names:
        return []
    r = subprocess.run(["go", "version", "-m"] + sorted(names), capture_output=True,
                       timeout=ORACLE_TIMEOUT, env=_go_env())
    if r.returncode != 0 and not r.stdout:
        raise OracleError("go version -m failed: %s" % r.stderr.decode()[-500:])
    out = []
    cur = None
    deps = []

    def flush():
        if cur is None:
            return
        p, layer, gover = cur
        if gover:
            out.append(_pkg("go", "stdlib", gover, p, layer))
        for name, ver in deps:
            out.append(_pkg("go", name, ver, p, layer))

    for line in r.stdout.decode("utf-8", "replace").splitlines():
        if not line.startswith("\t"):
            flush()
            deps = []
            fn, _, rest = line.partition(": ")
            if fn not in names:
                cur = None
                continue
            tv = rest.strip()
            cur = (names[fn][0], names[fn][1], tv[2:] if tv.startswith("go") else tv)
            continue
        if cur is None:
            continue
        f = line[1:].split("\t")
        if f[0] == "mod" and len(f) >= 3 and f[2] != "(devel)" and f[2]:
            deps.append((f[1], f[2]))
        elif f[0] == "dep" and len(f) >= 3:
            deps.append((f[1], f[2]))
        elif f[0] == "=>" and len(f) >= 3 and deps and f[2]:
            deps[-1] = (f[1], f[2])
    flush()
    return out


def _go_env():
    e = dict(os.environ)
    e.setdefault("GOCACHE", os.path.join(ORACLE_DIR, "gocache"))
    e.setdefault("HOME", tempfile.gettempdir())
    return e


class LangInventory:
    def __init__(self, packages, unidentified):
        self.packages = packages          # list of dicts (type, name, version, path, layer)
        self.unidentified = unidentified  # archives without pom.properties

    def by_type(self, t):
        return [p for p in self.packages if p["type"] == t]

    def tuples(self, with_path=True):
        if with_path:
            return {(p["type"], p["name"], p["version"], p["path"]) for p in self.packages}
        return {(p["type"], p["name"], p["version"]) for p in self.packages}


def image_inventory(image):
    m = refimage.merge(image, wanted, want_member=_executable)
    pkgs = []
    unidentified = []
    execs = {}
    for p, e in sorted(m.files.items()):
        if e.kind != "file" or e.data is None:
            continue
        if _is_npm_manifest(p):
            pkgs += npm_manifest(e.data, p, e.layer)
        elif _is_lock(p):
            pkgs += npm_lock(e.data, p, e.layer)
        elif _is_python_meta(p):
            pkgs += python_meta(e.data, p, e.layer)
        elif _is_archive(p):
            pkgs += jar_packages(e.data, p, e.layer, 0, unidentified)
        if _executable_entry(m, p):
            execs[p] = e
    tmp = tempfile.mkdtemp(prefix="reflang-")
    try:
        pkgs += go_binaries(execs, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    pkgs.sort(key=lambda x: (x["type"], x["name"], x["version"], x["path"]))
    return LangInventory(pkgs, unidentified)


def _executable_entry(m, p):
    e = m.files[p]
    return e.kind == "file" and e.data is not None and e.data[:4] == b"\x7fELF"


# ================================================================ oracles

class _BatchComparator:
    """3-way comparison answered by an external oracle, batched and cached."""

    def __init__(self):
        self.cache = {}
        self.calls = 0

    def _run(self, pairs):  # -> list of -1/0/1 or None (cannot compare)
        raise NotImplementedError

    def canon(self, v):
        return v

    def prime(self, pairs):
        todo = sorted({(a, b) for a, b in pairs if a != b and (a, b) not in self.cache})
        if not todo:
            return
        res = self._run([(self.canon(a), self.canon(b)) for a, b in todo])
        if len(res) != len(todo):
            raise OracleError("%s: %d answers for %d pairs" % (type(self).__name__, len(res),
                                                               len(todo)))
        self.calls += len(todo)
        for (a, b), x in zip(todo, res):
            self.cache[(a, b)] = x
            self.cache[(b, a)] = None if x is None else -x

    def __call__(self, a, b):
        if a == b:
            return 0
        if (a, b) not in self.cache:
            self.prime([(a, b)])
        x = self.cache[(a, b)]
        if x is None:
            raise IncomparableError(a, b)
        return x


class IncomparableError(ValueError):
    def __init__(self, a, b):
        super().__init__("the oracle cannot compare %r and %r" % (a, b))
        self.pair = (a, b)


def _lines_child(argv, lines, env=None, what="oracle"):
    for l in lines:
        if "\n" in l or "\r" in l:
            raise ValueError("%s: line with a newline %r" % (what, l))
    inp = "".join(l + "\n" for l in lines).encode()
    try:
        r = subprocess.run(argv, input=inp, capture_output=True, timeout=ORACLE_TIMEOUT, env=env)
    except FileNotFoundError as e:
        raise OracleError("%s: %s" % (what, e)) from None
    if r.returncode != 0:
        raise OracleError("%s failed (rc %d): %s" % (what, r.returncode,
                                                     r.stderr.decode()[-800:]))
    out = r.stdout.decode().split()
    return [None if x == "E" else int(x) for x in out]


# ---- npm: node-semver

NODE_CMP = r'''
const semver = require(process.argv[1]);
let buf = [];
process.stdin.on("data", d => buf.push(d));
process.stdin.on("end", () => {
  const out = [];
  for (const line of Buffer.concat(buf).toString("utf8").split("\n")) {
    if (line === "") continue;
    const [a, b] = line.split("\t");
    try {
      const va = semver.parse(a, {loose: true}), vb = semver.parse(b, {loose: true});
      out.push(va && vb ? String(semver.compare(va, vb)) : "E");
    } catch (e) { out.push("E"); }
  }
  process.stdout.write(out.join("\n") + "\n");
});
'''


def node_semver_dir(install=True):
    cands = [os.environ.get("VIGIL_NODE_SEMVER", ""),
             os.path.join(REPO, "tools", "gen-versions", "node_modules", "semver"),
             os.path.join(ORACLE_DIR, "node", "node_modules", "semver")]
    for c in cands:
        if c and os.path.isfile(os.path.join(c, "package.json")):
            return c
    if not install:
        return None
    d = os.path.join(ORACLE_DIR, "node")
    os.makedirs(d, exist_ok=True)
    r = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--no-save", "--prefix", d,
                        "semver@7"], capture_output=True, timeout=ORACLE_TIMEOUT)
    c = cands[-1]
    if r.returncode != 0 or not os.path.isfile(os.path.join(c, "package.json")):
        raise OracleError("cannot install node's semver with npm: %s" % r.stderr.decode()[-500:])
    return c


class NpmComparator(_BatchComparator):
    def _run(self, pairs):
        sem = node_semver_dir()
        return _lines_child(["node", "-e", NODE_CMP, sem], ["%s\t%s" % p for p in pairs],
                            what="node semver")


# ---- PyPI: packaging

PY_CMP = r'''
import sys
from packaging.version import Version, InvalidVersion
out = []
for line in sys.stdin.read().split("\n"):
    if not line:
        continue
    a, b = line.split("\t")
    try:
        x, y = Version(a), Version(b)
        out.append(str((x > y) - (x < y)))
    except InvalidVersion:
        out.append("E")
print("\n".join(out))
'''


class Pep440Comparator(_BatchComparator):
    def _run(self, pairs):
        return _lines_child([SYSTEM_PYTHON, "-c", PY_CMP], ["%s\t%s" % p for p in pairs],
                            what="python3-packaging")


# ---- Maven: ComparableVersion

JAVA_CMP = r'''
import java.io.*;
import org.apache.maven.artifact.versioning.ComparableVersion;
public class MavenCmp {
  public static void main(String[] args) throws Exception {
    BufferedReader r = new BufferedReader(new InputStreamReader(System.in, "UTF-8"));
    PrintWriter w = new PrintWriter(new BufferedWriter(new OutputStreamWriter(System.out, "UTF-8")));
    String line;
    while ((line = r.readLine()) != null) {
      if (line.isEmpty()) continue;
      String[] p = line.split("\t", -1);
      int c = new ComparableVersion(p[0]).compareTo(new ComparableVersion(p[1]));
      w.println(Integer.signum(c));
    }
    w.flush();
  }
}
'''


def maven_artifact_jar():
    for j in [os.environ.get("VIGIL_MAVEN_ARTIFACT_JAR", "")] + list(MAVEN_ARTIFACT_JARS):
        if j and os.path.isfile(j):
            return j
    hits = glob.glob("/usr/share/java/maven*-artifact*.jar")
    if hits:
        return sorted(hits)[0]
    raise OracleError("Maven's maven-artifact jar not found (apt-get install maven)")


class MavenComparator(_BatchComparator):
    def _run(self, pairs):
        jar = maven_artifact_jar()
        d = os.path.join(ORACLE_DIR, "java")
        os.makedirs(d, exist_ok=True)
        src = os.path.join(d, "MavenCmp.java")
        cur = None
        if os.path.exists(src):
            with open(src) as f:
                cur = f.read()
        if cur != JAVA_CMP:
            with open(src, "w") as f:
                f.write(JAVA_CMP)
        return _lines_child(["java", "-cp", jar, src], ["%s\t%s" % p for p in pairs],
                            what="Maven ComparableVersion")


# ---- Go: golang.org/x/mod/semver

GO_CMP = r'''package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"golang.org/x/mod/semver"
)

func main() {
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	w := bufio.NewWriter(os.Stdout)
	for sc.Scan() {
		p := strings.SplitN(sc.Text(), "\t", 2)
		if len(p) != 2 || !semver.IsValid(p[0]) || !semver.IsValid(p[1]) {
			fmt.Fprintln(w, "E")
			continue
		}
		fmt.Fprintln(w, semver.Compare(p[0], p[1]))
	}
	w.Flush()
}
'''


def go_cmp_binary():
    h = hashlib.sha256(GO_CMP.encode()).hexdigest()[:12]
    d = os.path.join(ORACLE_DIR, "go")
    b = os.path.join(d, "gosemver-" + h)
    if os.path.exists(b):
        return b
    os.makedirs(d, exist_ok=True)
    src = os.path.join(d, "gosemver.go")
    with open(src, "w") as f:
        f.write(GO_CMP)
    if not os.path.isdir(os.path.join(GOPATH, "src", "golang.org", "x", "mod", "semver")):
        raise OracleError("golang.org/x/mod/semver not under %s "
                          "(apt-get install golang-golang-x-mod-dev)" % GOPATH)
    env = _go_env()
    env.update({"GO111MODULE": "off", "GOPATH": GOPATH, "GOFLAGS": "", "CGO_ENABLED": "0"})
    r = subprocess.run(["go", "build", "-o", b + ".tmp", src], capture_output=True, env=env,
                       timeout=ORACLE_TIMEOUT, cwd=d)
    if r.returncode != 0:
        raise OracleError("building the Go semver oracle failed: %s" % r.stderr.decode()[-800:])
    os.replace(b + ".tmp", b)
    return b


def go_canon(v):
    """A Go ecosystem version as x/mod/semver wants it: module versions get their 'v';
    toolchain versions (stdlib) 1.21 -> v1.21.0, 1.21rc2 -> v1.21.0-rc.2, go1.19.8 -> v1.19.8."""
    if v.startswith("go"):
        v = v[2:]
    if v.startswith("v"):
        return v
    m = re.match(r"^(\d+)\.(\d+)(?:\.(\d+))?(?:(beta|rc)(\d+))?$", v)
    if m:
        s = "v%s.%s.%s" % (m.group(1), m.group(2), m.group(3) or "0")
        if m.group(4):
            s += "-%s.%s" % (m.group(4), m.group(5))
        return s
    return "v" + v


class GoComparator(_BatchComparator):
    def canon(self, v):
        return go_canon(v)

    def _run(self, pairs):
        return _lines_child([go_cmp_binary()], ["%s\t%s" % p for p in pairs],
                            what="x/mod/semver")


def comparators():
    return {"npm": NpmComparator(), "PyPI": Pep440Comparator(), "Maven": MavenComparator(),
            "Go": GoComparator()}


# ================================================================ data and matching

def osv_name(eco, name):
    return pep503(name) if eco == "PyPI" else name


class LangDB:
    """OSV records of the language ecosystems, indexed by (ecosystem, package name)."""

    _cache = {}

    @classmethod
    def get(cls, vulndb=DEFAULT_VULNDB):
        k = os.path.abspath(vulndb)
        if k not in cls._cache:
            cls._cache[k] = cls(vulndb)
        return cls._cache[k]

    def __init__(self, vulndb):
        recs = {}
        for n in OSV_FILES:
            path = os.path.join(vulndb, "osv", n + ".jsonl.gz")
            with gzip.open(path, "rt", encoding="utf-8") as f:
                for line in f:
                    r = json.loads(line)
                    r["_source"] = n
                    old = recs.get(r["id"])
                    if old is None or r.get("modified", "") > old.get("modified", ""):
                        recs[r["id"]] = r
        self.records = recs
        self.by_pkg = {}
        for r in recs.values():
            for a in r.get("affected") or []:
                pkg = a.get("package") or {}
                eco, name = pkg.get("ecosystem"), pkg.get("name")
                if eco in ECOSYSTEMS.values() and name:
                    self.by_pkg.setdefault((eco, osv_name(eco, name)), []).append((r, a))


def finding_id(rec):
    rid = rec["id"]
    if rid.startswith("CVE-"):
        return rid
    aliases = rec.get("aliases") or []
    cves = sorted(a for a in aliases if a.startswith("CVE-"))
    if cves:
        return cves[0]
    if rid.startswith("MAL-"):
        return min([rid] + [a for a in aliases if a.startswith("MAL-")])
    return min([rid] + [a for a in aliases if not a.startswith("MAL-")])


def match(inv, vulndb=DEFAULT_VULNDB, cmps=None):
    """inv: LangInventory. -> sorted list of findings
    {id, package, version, fixed, type, ecosystem, record_ids, paths}."""
    db = LangDB.get(vulndb)
    cmps = cmps or comparators()
    subjects = {}  # (eco, name, version) -> set of paths
    for p in inv.packages:
        eco = ECOSYSTEMS[p["type"]]
        subjects.setdefault((eco, p["name"], p["version"], p["type"]), set()).add(p["path"])
    cands = []
    for (eco, name, ver, typ), paths in subjects.items():
        for rec, entry in db.by_pkg.get((eco, osv_name(eco, name)), []):
            if rec.get("withdrawn"):
                continue
            cands.append((eco, name, ver, typ, paths, rec, entry))
    # batch every comparison the ranges need, per ecosystem
    pairs = {}
    for eco, name, ver, typ, paths, rec, entry in cands:
        vals = [val for rg in entry.get("ranges") or [] if rg.get("type") in ("SEMVER", "ECOSYSTEM")
                for ev in rg.get("events") or [] for k, val in ev.items()
                if k in ("introduced", "fixed", "last_affected", "limit")
                and val not in ("0", "*")]
        lst = pairs.setdefault(eco, [])
        lst += [(ver, v) for v in vals]
        # events are sorted among themselves too
        lst += [(a, b) for i, a in enumerate(vals) for b in vals[i + 1:]]
    for eco, lst in pairs.items():
        cmps[eco].prime(lst)

    per = {}
    skipped = []
    for eco, name, ver, typ, paths, rec, entry in cands:
        affected, fixes = entry_affects(ver, entry, cmps[eco], skipped)
        if not affected:
            continue
        fid = finding_id(rec)
        f = per.setdefault((fid, name, ver), {
            "id": fid, "package": name, "version": ver, "type": typ, "ecosystem": eco,
            "fixes": [], "record_ids": set(), "paths": set(paths)})
        f["fixes"] += fixes
        f["record_ids"].add(rec["id"])
    out = []
    for f in per.values():
        cmp = cmps[f["ecosystem"]]
        best = None
        for v in f.pop("fixes"):
            if best is None or cmp(v, best) < 0:
                best = v
        f["fixed"] = best or ""
        out.append(f)
    return sorted(out, key=lambda f: (f["id"], f["package"], f["version"]))


def entry_affects(v, entry, cmp, skipped=None):
    """refmatch's OSV evaluation, except that a range whose versions the oracle cannot compare
    (not valid in the ecosystem's grammar) is left out (and noted in `skipped`): only the
    `versions` list (string equality) and the comparable ranges decide."""
    affected = v in (entry.get("versions") or [])
    fixes = []
    for rg in entry.get("ranges") or []:
        if rg.get("type") not in ("ECOSYSTEM", "SEMVER"):
            continue
        try:
            a, f = refmatch._events_affect(v, rg.get("events") or [], cmp)
        except IncomparableError as e:
            if skipped is not None:
                skipped.append((v, e.pair))
            continue
        affected = affected or a
        fixes += f
    return affected, fixes


def finding_tuples(findings):
    """Set of (id, package, installed version, fixed-in version)."""
    return {(f["id"], f["package"], f["version"], f["fixed"]) for f in findings}


# ================================================================ command line

if __name__ == "__main__":
    import sys
    import time
    layout = sys.argv[1] if len(sys.argv) > 1 else os.environ.get(
        "VIGIL_TEST_IMAGES",
        os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "build",
                     "test-images"))
    refs = sys.argv[2:] or ["node-app:vuln-deps", "polyglot:bookworm", "debian-whiteout:bookworm"]
    for r in refs:
        t = time.time()
        img = refimage.Image(layout, r)
        inv = image_inventory(img)
        t1 = time.time()
        fs = match(inv)
        counts = {}
        for p in inv.packages:
            counts[p["type"]] = counts.get(p["type"], 0) + 1
        print("%s: packages %s, unidentified archives %d (%.1fs); findings %d (unfixed %d, "
              "ids %d) (%.1fs)" % (r, counts, len(inv.unidentified), t1 - t, len(fs),
                                   sum(1 for f in fs if not f["fixed"]),
                                   len({f["id"] for f in fs}), time.time() - t1))
        if "-v" in os.environ.get("REFLANG_VERBOSE", "-v"):
            for p in inv.packages:
                print("   pkg  %-5s %-45s %-12s %s" % (p["type"], p["name"], p["version"],
                                                      p["path"]))
            for u in inv.unidentified:
                print("   ???  %s %s %s" % (u["path"], u["versions"], u["manifest"]))
            for f in fs:
                print("   vuln %-20s %-40s %-12s fixed %-12s %s" % (
                    f["id"], f["package"], f["version"], f["fixed"] or "-",
                    ",".join(sorted(f["record_ids"]))))


# ================================================================ self check

def selfcheck_versions(eco, vulndb=DEFAULT_VULNDB, max_pairs=20000, cmp=None):
    """osv.dev lists the versions each range covers (in the ecosystem's own ordering) in
    `versions`: every listed version must be inside the entry's ranges as the oracle orders
    them. Returns (versions checked, [(record id, package, version)] that fall outside)."""
    db = LangDB.get(vulndb)
    cmp = cmp or comparators()[eco]
    todo = []
    for (e, name), lst in sorted(db.by_pkg.items()):
        if e != eco:
            continue
        for rec, a in lst:
            rgs = [rg for rg in a.get("ranges") or [] if rg.get("type") in ("ECOSYSTEM", "SEMVER")]
            if not rgs or not a.get("versions"):
                continue
            for v in a["versions"]:
                todo.append((rec["id"], name, v, rgs))
        if len(todo) >= max_pairs:
            break
    pairs = []
    for rid, name, v, rgs in todo:
        vals = [val for rg in rgs for ev in rg.get("events") or [] for k, val in ev.items()
                if k in ("introduced", "fixed", "last_affected", "limit") and val not in ("0", "*")]
        pairs += [(v, x) for x in vals]
        pairs += [(x, y) for i, x in enumerate(vals) for y in vals[i + 1:]]
    cmp.prime(pairs)
    bad = []
    for rid, name, v, rgs in todo:
        ok = False
        for rg in rgs:
            try:
                a, _ = refmatch._events_affect(v, rg.get("events") or [], cmp)
            except IncomparableError:
                continue
            ok = ok or a
        if not ok:
            bad.append((rid, name, v))
    return len(todo), bad
