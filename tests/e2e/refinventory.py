# SPDX-License-Identifier: Apache-2.0
"""Independent package inventory of an image, the truth vigil's `sbom` is compared with.

Independence: written from the file formats' own documentation (deb-control(5)/dpkg's status
file, apk-tools' installed database, os-release(5)) without looking at vigil's C sources. The
image is read by refimage.py (Python tarfile, not vigil's reader). RPM databases are not parsed
here at all: the files are extracted to a temporary directory and the real `rpm` tool is asked
(`rpm -qa --dbpath DIR --queryformat ...`), so Debian's rpm 4.18 is the oracle for rpm.

Rules (each is a decision vigil has to match):
- dpkg: /var/lib/dpkg/status plus every file in /var/lib/dpkg/status.d/ (distroless). A status
  paragraph counts when its Status's third word says the files are on disk (installed,
  half-installed, unpacked, half-configured, triggers-awaited, triggers-pending); not-installed
  and config-files do not count. Paragraphs in status.d without Status count.
  sourceName = `Source:` (name part) or the binary name; sourceVersion = the version in
  parentheses after the source name, or the binary Version. version is Version verbatim
  (with its epoch, if any); epoch is the number before ':' (0 when none).
- apk: /lib/apk/db/installed; sourceName = o: (origin; the package name when absent),
  sourceVersion = V:.
- rpm: rpmdb.sqlite / Packages.db (ndb) / Packages (bdb) under var/lib/rpm or
  usr/lib/sysimage/rpm; gpg-pubkey pseudo-packages are skipped. version is the full
  [EPOCH:]VERSION-RELEASE (epoch only when not 0, like a Debian version string), release =
  %{RELEASE}, epoch = %{EPOCHNUM}; sourceName is the name parsed from %{SOURCERPM}
  (NAME-VERSION-RELEASE.src.rpm) and sourceVersion its VERSION-RELEASE with the binary
  package's epoch in front (the file name carries no epoch; the binary's is assumed).
- Layer attribution: a package belongs to the lowest layer from which, in every layer up to the
  top, the package database (as merged up to that layer) lists the package with the same
  (name, arch, version). So a package rewritten unchanged in a later layer keeps its layer, and an
  upgraded or newly installed package belongs to the layer that upgraded or installed it.
"""

import os
import re
import shutil
import subprocess
import tempfile

import refimage

OS_RELEASE = ("etc/os-release", "usr/lib/os-release")
DPKG_STATUS = "var/lib/dpkg/status"
DPKG_STATUS_D = "var/lib/dpkg/status.d/"
APK_DB = "lib/apk/db/installed"
RPM_DIRS = ("var/lib/rpm/", "usr/lib/sysimage/rpm/")
RPM_FILES = ("rpmdb.sqlite", "rpmdb.sqlite-wal", "rpmdb.sqlite-shm", "Packages.db", "Packages")
RPM_TIMEOUT = 120

ON_DISK_STATES = {"installed", "half-installed", "unpacked", "half-configured",
                  "triggers-awaited", "triggers-pending"}


class InventoryError(Exception):
    pass


def wanted(path):
    if path in OS_RELEASE or path == DPKG_STATUS or path == APK_DB:
        return True
    if path.startswith(DPKG_STATUS_D) or path == DPKG_STATUS_D.rstrip("/"):
        return True
    # symlinked parents (var/lib/rpm -> ../../usr/lib/sysimage/rpm) and the db files
    for d in RPM_DIRS:
        if path == d.rstrip("/") or (path.startswith(d) and path[len(d):] in RPM_FILES):
            return True
    for p in ("usr", "usr/lib", "var", "var/lib", "lib", "etc", "lib/apk", "lib/apk/db",
              "var/lib/dpkg", "usr/lib/sysimage"):
        if path == p:
            return True
    return False


def parse_os_release(text):
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        k, v = line.split("=", 1)
        v = v.strip()
        if len(v) >= 2 and v[0] == v[-1] and v[0] in "\"'":
            v = v[1:-1]
            v = re.sub(r"\\(.)", r"\1", v)
        out[k.strip()] = v
    return out


# ---------------------------------------------------------------- dpkg

def parse_deb822(text, where):
    """Paragraphs of a Debian control file -> list of dict (field names as written).
    Raises InventoryError on lines that are neither 'Field: value' nor continuations."""
    paras = []
    cur = None
    last = None
    for n, line in enumerate(text.split("\n"), 1):
        if line.strip() == "":
            if cur:
                paras.append(cur)
            cur = None
            last = None
            continue
        if line[0] in " \t":
            if cur is None or last is None:
                raise InventoryError("%s:%d: continuation line outside a field" % (where, n))
            cur[last] += "\n" + line
            continue
        m = re.match(r"^([!-9;-~][!-9;-~]*):(.*)$", line)
        if not m:
            raise InventoryError("%s:%d: not a 'Field: value' line" % (where, n))
        if cur is None:
            cur = {}
        last = m.group(1)
        cur[last] = m.group(2).strip()
    if cur:
        paras.append(cur)
    return paras


def deb_epoch(version):
    m = re.match(r"^(\d+):", version)
    return int(m.group(1)) if m else 0


def dpkg_packages(text, db_path, require_status=True):
    pkgs = []
    for p in parse_deb822(text, db_path):
        name = p.get("Package")
        if not name:
            raise InventoryError("%s: paragraph without Package" % db_path)
        status = p.get("Status")
        if status is not None:
            words = status.split()
            if len(words) != 3:
                raise InventoryError("%s: %s: bad Status %r" % (db_path, name, status))
            if words[2] not in ON_DISK_STATES:
                continue
        elif require_status:
            continue
        version = p.get("Version", "")
        if not version:
            raise InventoryError("%s: %s: no Version" % (db_path, name))
        src = p.get("Source", "").strip()
        src_name, src_version = name, version
        if src:
            m = re.match(r"^(\S+)(?:\s*\((\S+)\))?\s*$", src)
            if not m:
                raise InventoryError("%s: %s: bad Source %r" % (db_path, name, src))
            src_name = m.group(1)
            if m.group(2):
                src_version = m.group(2)
        pkgs.append({
            "type": "deb", "name": name, "version": version,
            "arch": p.get("Architecture", ""), "sourceName": src_name,
            "sourceVersion": src_version, "epoch": deb_epoch(version), "release": "",
            "dbPath": db_path,
        })
    return pkgs


# ---------------------------------------------------------------- apk

def apk_packages(text, db_path):
    pkgs = []
    cur = {}

    def flush():
        if not cur:
            return
        if "P" not in cur or "V" not in cur:
            raise InventoryError("%s: record without P: or V:" % db_path)
        pkgs.append({
            "type": "apk", "name": cur["P"], "version": cur["V"], "arch": cur.get("A", ""),
            "sourceName": cur.get("o") or cur["P"], "sourceVersion": cur["V"],
            "epoch": 0, "release": "", "license": cur.get("L", ""), "dbPath": db_path,
        })

    for n, line in enumerate(text.split("\n"), 1):
        if line == "":
            flush()
            cur = {}
            continue
        if len(line) < 2 or line[1] != ":":
            raise InventoryError("%s:%d: not an 'X:value' line" % (db_path, n))
        k, v = line[0], line[2:]
        if k in "PVAoL" and k not in cur:
            cur[k] = v
    flush()
    return pkgs


# ---------------------------------------------------------------- rpm

QF = "%{NAME}\\t%{EPOCHNUM}\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}\\t%{SOURCERPM}\\t%{LICENSE}\\n"


def split_srpm(srpm):
    """'openssl-3.0.7-24.el9.src.rpm' -> ('openssl', '3.0.7-24.el9')."""
    s = srpm
    for suf in (".src.rpm", ".nosrc.rpm"):
        if s.endswith(suf):
            s = s[: -len(suf)]
            break
    parts = s.rsplit("-", 2)
    if len(parts) != 3:
        return "", ""
    return parts[0], parts[1] + "-" + parts[2]


def rpm_packages(files_by_name, db_path):
    """files_by_name: basename -> bytes of the rpm database files of one directory."""
    tmp = tempfile.mkdtemp(prefix="refinv-rpm-")
    try:
        for n, data in files_by_name.items():
            with open(os.path.join(tmp, n), "wb") as f:
                f.write(data)
        if "rpmdb.sqlite" in files_by_name:
            backend = "sqlite"
        elif "Packages.db" in files_by_name:
            backend = "ndb"
        else:
            backend = "bdb_ro"
        cmd = ["rpm", "--define", "_db_backend %s" % backend, "--dbpath", tmp, "-qa",
               "--queryformat", QF]
        r = subprocess.run(cmd, capture_output=True, timeout=RPM_TIMEOUT)
        if r.returncode != 0:
            raise InventoryError("%s: rpm -qa failed: %s" % (db_path, r.stderr.decode()[:300]))
        pkgs = []
        for line in r.stdout.decode().splitlines():
            name, epoch, ver, rel, arch, srpm, lic = line.split("\t")
            if name == "gpg-pubkey":
                continue
            sname, sver = split_srpm(srpm) if srpm != "(none)" else (name, ver + "-" + rel)
            full = "%s-%s" % (ver, rel)
            if int(epoch):
                full = "%s:%s" % (epoch, full)
                sver = "%s:%s" % (epoch, sver)
            pkgs.append({
                "type": "rpm", "name": name, "version": full, "release": rel,
                "epoch": int(epoch), "arch": "" if arch == "(none)" else arch,
                "sourceName": sname, "sourceVersion": sver, "license": lic,
                "dbPath": db_path,
            })
        return pkgs
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------- whole image

def _packages_in(files):
    """All packages found in a dict of wanted files (the merged tree or a layer snapshot)."""
    out = []
    e = refimage.Merged.resolve(files, DPKG_STATUS)
    if e is not None and e.kind == "file":
        out += dpkg_packages(e.data.decode("utf-8", "replace"), "/" + DPKG_STATUS)
    for p in sorted(files):
        if p.startswith(DPKG_STATUS_D) and files[p].kind == "file":
            base = p[len(DPKG_STATUS_D):]
            if "/" in base or base.endswith(".md5sums"):
                continue
            out += dpkg_packages(files[p].data.decode("utf-8", "replace"), "/" + p,
                                 require_status=False)
    e = refimage.Merged.resolve(files, APK_DB)
    if e is not None and e.kind == "file":
        out += apk_packages(e.data.decode("utf-8", "replace"), "/" + APK_DB)
    done = set()
    for d in RPM_DIRS:
        blobs = {}
        ident = []
        for n in RPM_FILES:
            e = refimage.Merged.resolve(files, d + n)
            if e is not None and e.kind == "file":
                blobs[n] = e.data
                ident.append(id(e))
        if not blobs or tuple(ident) in done:
            continue
        done.add(tuple(ident))
        if not any(k in blobs for k in ("rpmdb.sqlite", "Packages.db", "Packages")):
            continue
        main = next(k for k in ("rpmdb.sqlite", "Packages.db", "Packages") if k in blobs)
        out += rpm_packages(blobs, "/" + d + main)
    return out


def pkg_key(p):
    return (p["type"], p["name"], p["arch"])


def image_inventory(image):
    """-> dict(os=..., packages=[...], merged=Merged). Packages are dicts with the sbom JSON
    field names; 'layer' is the 0-based layer index and 'layerDigest' its blob digest."""
    merged = refimage.merge(image, wanted)
    osr = {}
    for p in OS_RELEASE:
        data = merged.read(p)
        if data is not None:
            osr = parse_os_release(data.decode("utf-8", "replace"))
            break
    final = _packages_in(merged.files)
    # per-layer views, reparsed only where a layer changed a wanted file
    views = []
    prev = None
    for i, snap in enumerate(merged.snapshots):
        changed = prev is None or any(e.layer == i for e in snap.values()) or \
            set(snap) != set(prev)
        if changed:
            pk = {}
            for p in _packages_in(snap):
                pk[pkg_key(p)] = (p["version"], p.get("release", ""), p["epoch"])
            views.append(pk)
        else:
            views.append(views[-1])
        prev = snap
    top = len(views) - 1
    for p in final:
        k = pkg_key(p)
        v = (p["version"], p.get("release", ""), p["epoch"])
        layer = top
        while layer > 0 and views[layer - 1].get(k) == v:
            layer -= 1
        p["layer"] = layer
        p["layerDigest"] = image.layers[layer].digest
        p["diffId"] = image.layers[layer].diff_id
    return {
        "os": {"id": osr.get("ID", ""), "versionId": osr.get("VERSION_ID", ""),
               "codename": osr.get("VERSION_CODENAME", ""),
               "prettyName": osr.get("PRETTY_NAME", "")},
        "packages": final,
        "merged": merged,
    }


if __name__ == "__main__":
    import sys
    import time
    layout = sys.argv[1] if len(sys.argv) > 1 else os.environ.get(
        "VIGIL_TEST_IMAGES",
        os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "build",
                     "test-images"))
    refs = sys.argv[2:] or ["debian:bookworm-minbase", "debian-vuln:bookworm-oldpkgs",
                            "node-app:vuln-deps", "polyglot:bookworm",
                            "alpine-synthetic:3.19.0", "rocky-synthetic:9.3",
                            "multiarch-synthetic:latest", "multiarch-synthetic:latest@linux/arm64/v8",
                            "debian:bookworm-minbase-zstd", "debian-whiteout:bookworm"]
    for r in refs:
        ref, _, plat = r.partition("@")
        t = time.time()
        im = refimage.Image(layout, ref, plat or None)
        inv = image_inventory(im)
        by_layer = {}
        for p in inv["packages"]:
            by_layer[p["layer"]] = by_layer.get(p["layer"], 0) + 1
        print("%-45s os=%s %s packages=%d by_layer=%s (%.1fs)" % (
            r, inv["os"]["id"], inv["os"]["versionId"], len(inv["packages"]),
            dict(sorted(by_layer.items())), time.time() - t))
