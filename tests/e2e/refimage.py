# SPDX-License-Identifier: Apache-2.0
"""Independent reader for OCI image layouts, used as the truth for vigil's end-to-end tests.

Independence: this module is written from the OCI image-spec and image-layout documents only,
without looking at vigil's C sources, and uses nothing but the Python standard library (plus the
`zstd` command-line tool, piped, for zstd layers). It resolves a reference in an OCI layout
(index.json -> manifest, or -> image index -> the manifest for a platform, linux/amd64 by
default), verifies every blob against its digest (manifest, config, compressed layer) and every
layer's uncompressed content against the config's `rootfs.diff_ids`, walks each layer with
`tarfile`, applies OCI whiteouts (`.wh.NAME`) and opaque directories (`.wh..wh..opq`), and
returns the files a caller is interested in, both as the final merged tree and as it stood after
each layer (the per-layer views are what package-to-layer attribution is computed from).

Oracles: Python's tarfile/gzip/hashlib and the zstd tool.
"""

import gzip
import hashlib
import json
import os
import posixpath
import subprocess
import tarfile

INDEX_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)
MANIFEST_TYPES = (
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
REF_ANNOTATION = "org.opencontainers.image.ref.name"
ZSTD_TIMEOUT = 300


class ImageError(Exception):
    """Anything wrong with the image: missing/corrupt blob, unknown ref, bad tar."""


def _blob_path(layout, digest):
    if ":" not in digest:
        raise ImageError("bad digest %r" % digest)
    algo, hexd = digest.split(":", 1)
    if algo != "sha256" or len(hexd) != 64 or any(c not in "0123456789abcdef" for c in hexd):
        raise ImageError("unsupported digest %r" % digest)
    return os.path.join(layout, "blobs", algo, hexd)


def read_blob(layout, digest, verify=True):
    path = _blob_path(layout, digest)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise ImageError("blob %s missing" % digest) from None
    if verify and "sha256:" + hashlib.sha256(data).hexdigest() != digest:
        raise ImageError("blob %s: digest mismatch" % digest)
    return data


def parse_platform(s):
    """'linux/arm64/v8' -> dict(os, architecture, variant)."""
    parts = s.split("/")
    if len(parts) < 2 or len(parts) > 3 or not all(parts):
        raise ValueError("bad platform %r" % s)
    p = {"os": parts[0], "architecture": parts[1]}
    if len(parts) == 3:
        p["variant"] = parts[2]
    return p


def platform_string(p):
    s = "%s/%s" % (p.get("os", ""), p.get("architecture", ""))
    if p.get("variant"):
        s += "/" + p["variant"]
    return s


class Layer:
    def __init__(self, index, desc, diff_id):
        self.index = index  # 0-based position in the manifest
        self.digest = desc["digest"]
        self.media_type = desc.get("mediaType", "")
        self.size = desc.get("size")
        self.diff_id = diff_id

    def __repr__(self):
        return "Layer(%d, %s)" % (self.index, self.digest[:19])


class Image:
    """A resolved image: manifest, config and layer descriptors."""

    def __init__(self, layout, ref, platform=None):
        self.layout = layout
        self.ref = ref
        idx_path = os.path.join(layout, "index.json")
        try:
            with open(idx_path, "rb") as f:
                index = json.load(f)
        except (OSError, ValueError) as e:
            raise ImageError("%s: %s" % (idx_path, e)) from None
        found = [m for m in index.get("manifests", [])
                 if (m.get("annotations") or {}).get(REF_ANNOTATION) == ref]
        if not found:
            raise ImageError("ref %r not in %s" % (ref, idx_path))
        if len(found) > 1:
            raise ImageError("ref %r is ambiguous" % ref)
        desc = found[0]
        want = parse_platform(platform) if platform else {"os": "linux", "architecture": "amd64"}
        self.index_digest = None
        mtype = desc.get("mediaType", "")
        data = read_blob(layout, desc["digest"])
        doc = json.loads(data)
        if mtype in INDEX_TYPES or doc.get("mediaType") in INDEX_TYPES or "manifests" in doc:
            self.index_digest = desc["digest"]
            desc = self._pick(doc, want)
            data = read_blob(layout, desc["digest"])
            doc = json.loads(data)
        self.manifest_digest = desc["digest"]
        self.manifest = doc
        cdesc = doc["config"]
        self.config_digest = cdesc["digest"]
        self.config = json.loads(read_blob(layout, self.config_digest))
        diff_ids = (self.config.get("rootfs") or {}).get("diff_ids") or []
        lds = doc.get("layers") or []
        if len(diff_ids) != len(lds):
            raise ImageError("config has %d diff_ids for %d layers" % (len(diff_ids), len(lds)))
        self.layers = [Layer(i, d, diff_ids[i]) for i, d in enumerate(lds)]
        self.platform = {k: self.config.get(k) for k in ("os", "architecture", "variant")
                         if self.config.get(k)}

    @staticmethod
    def _pick(index, want):
        cands = []
        for m in index.get("manifests", []):
            p = m.get("platform") or {}
            if p.get("os") != want["os"] or p.get("architecture") != want["architecture"]:
                continue
            if want.get("variant") and p.get("variant") != want["variant"]:
                continue
            cands.append(m)
        if not cands:
            raise ImageError("no manifest for platform %s" % platform_string(want))
        return cands[0]

    @property
    def name(self):
        return self.ref


class _HashReader:
    """File-like wrapper that hashes what is read through it."""

    def __init__(self, raw):
        self.raw = raw
        self.h = hashlib.sha256()
        self.n = 0

    def read(self, n=-1):
        b = self.raw.read(n)
        self.h.update(b)
        self.n += len(b)
        return b

    def drain(self):
        while self.read(1 << 20):
            pass

    def digest(self):
        return "sha256:" + self.h.hexdigest()


class _LayerStream:
    """Context manager giving (tarfile in stream mode) for a layer, verifying both digests
    on close (compressed blob digest and diff_id)."""

    def __init__(self, image, layer):
        self.image = image
        self.layer = layer
        self.proc = None

    def __enter__(self):
        path = _blob_path(self.image.layout, self.layer.digest)
        try:
            self.f = open(path, "rb")
        except FileNotFoundError:
            raise ImageError("blob %s missing" % self.layer.digest) from None
        self.comp = _HashReader(self.f)
        mt = self.layer.media_type
        if mt.endswith("+zstd") or mt.endswith(".zstd"):
            self.proc = subprocess.Popen(["zstd", "-dcq"], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            # Feed the compressed stream through a thread so we hash what zstd consumes.
            import threading

            def feed():
                try:
                    while True:
                        b = self.comp.read(1 << 20)
                        if not b:
                            break
                        self.proc.stdin.write(b)
                except (BrokenPipeError, OSError):
                    pass
                finally:
                    try:
                        self.proc.stdin.close()
                    except OSError:
                        pass

            self.feeder = threading.Thread(target=feed, daemon=True)
            self.feeder.start()
            raw = self.proc.stdout
        elif mt.endswith("+gzip") or mt.endswith(".gzip") or mt.endswith("tar.gzip") or \
                mt == "application/vnd.docker.image.rootfs.diff.tar.gzip":
            raw = gzip.GzipFile(fileobj=self.comp, mode="rb")
        elif mt.endswith(".tar") or mt.endswith("layer.v1.tar"):
            raw = self.comp
        else:
            raise ImageError("layer %s: unsupported media type %r" % (self.layer.digest, mt))
        self.uncomp = _HashReader(raw)
        try:
            self.tar = tarfile.open(fileobj=self.uncomp, mode="r|")
        except (tarfile.TarError, OSError, EOFError) as e:
            self._cleanup()
            raise ImageError("layer %s: %s" % (self.layer.digest, e)) from None
        return self.tar

    def _cleanup(self):
        if self.proc:
            try:
                self.proc.stdout.close()
            except OSError:
                pass
            self.proc.kill()
            self.proc.wait(timeout=30)
            self.feeder.join(timeout=30)
        self.f.close()

    def __exit__(self, et, ev, tb):
        if et is not None:
            self._cleanup()
            if isinstance(ev, (tarfile.TarError, OSError, EOFError, zlib_error())):
                raise ImageError("layer %s: %s" % (self.layer.digest, ev)) from None
            return False
        try:
            self.uncomp.drain()
            if self.proc:
                self.proc.stdout.close()
                rc = self.proc.wait(timeout=ZSTD_TIMEOUT)
                self.feeder.join(timeout=30)
                self.comp.drain()
                if rc != 0:
                    raise ImageError("layer %s: zstd exited %d" % (self.layer.digest, rc))
            else:
                self.comp.drain()
        except (OSError, EOFError, zlib_error()) as e:
            self._cleanup()
            raise ImageError("layer %s: %s" % (self.layer.digest, e)) from None
        self.f.close()
        if self.comp.digest() != self.layer.digest:
            raise ImageError("layer %s: digest mismatch (%s)" % (self.layer.digest,
                                                                 self.comp.digest()))
        if self.uncomp.digest() != self.layer.diff_id:
            raise ImageError("layer %s: diff_id mismatch (%s, config says %s)" % (
                self.layer.digest, self.uncomp.digest(), self.layer.diff_id))
        return False


def zlib_error():
    import zlib
    return zlib.error


def normalize(name):
    """Tar member name -> path relative to the root without leading './' or '/'. Raises on
    '..' components (a layer must never escape the root)."""
    n = name
    while n.startswith("./"):
        n = n[2:]
    n = n.lstrip("/")
    parts = [p for p in n.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise ImageError("tar entry %r escapes the root" % name)
    return "/".join(parts)


class Entry:
    """A wanted file in the merged tree."""
    __slots__ = ("kind", "data", "target", "layer")

    def __init__(self, kind, layer, data=None, target=None):
        self.kind = kind      # 'file', 'symlink', 'dir', 'other'
        self.layer = layer    # 0-based index of the layer that wrote it
        self.data = data      # bytes for 'file'
        self.target = target  # symlink target

    def __repr__(self):
        return "Entry(%s, layer %d)" % (self.kind, self.layer)


def _descendants(mapping, d):
    pre = d + "/" if d else ""
    return [p for p in mapping if p.startswith(pre) and p != d]


class Merged:
    """Result of merging an image's layers.

    files: path -> Entry for wanted paths in the final tree.
    snapshots: one dict per layer (after applying that layer) of the wanted paths.
    paths: path -> (0-based layer index, kind), for every path in the final tree (only when
           all_paths=True was asked for), else None.
    """

    def __init__(self, image, files, snapshots, paths):
        self.image = image
        self.files = files
        self.snapshots = snapshots
        self.paths = paths

    @staticmethod
    def resolve(files, path, depth=0):
        """Follow symlinks inside `files` (which must contain the link targets)."""
        if depth > 16:
            return None
        e = files.get(path)
        if e is None:
            # a parent may be a symlink (e.g. /lib -> usr/lib)
            parts = path.split("/")
            for i in range(len(parts) - 1, 0, -1):
                pe = files.get("/".join(parts[:i]))
                if pe is not None and pe.kind == "symlink":
                    base = posixpath.dirname("/".join(parts[:i]))
                    t = pe.target
                    np = normalize(t if t.startswith("/") else posixpath.join(base, t))
                    return Merged.resolve(files, posixpath.join(np, *parts[i:]), depth + 1)
            return None
        if e.kind == "symlink":
            t = e.target
            base = posixpath.dirname(path)
            np = posixpath.normpath(t if t.startswith("/") else posixpath.join(base, t))
            return Merged.resolve(files, np.lstrip("/"), depth + 1)
        return e

    def read(self, path, layer=None):
        """Content of a wanted file (following symlinks among wanted entries) in the final tree,
        or after layer `layer` (0-based) when given. None when absent or not a regular file."""
        files = self.files if layer is None else self.snapshots[layer]
        e = Merged.resolve(files, path.lstrip("/"))
        if e is None or e.kind != "file":
            return None
        return e.data


def merge(image, want, all_paths=False, want_member=None):
    """Walk every layer of `image` in order and return a Merged.

    want(path) -> bool selects the files whose content is kept (path has no leading '/').
    Symlinks and directories among wanted paths are kept as such.
    want_member(path, tarinfo) -> bool, when given, selects more entries by their tar header
    (e.g. regular files with an execute bit), in addition to `want`.
    """
    files = {}
    snapshots = []
    paths = {} if all_paths else None
    for layer in image.layers:
        whiteouts = []      # paths removed from lower layers
        opaque = []         # directories whose lower contents are hidden
        added = {}          # wanted entries of this layer
        seen = {}           # every path of this layer -> kind (for all_paths and replacing)
        hardlinks = []      # (path, target) among wanted
        with _LayerStream(image, layer) as tar:
            for m in tar:
                p = normalize(m.name)
                if p == "":
                    continue
                base = posixpath.basename(p)
                d = posixpath.dirname(p)
                if base == ".wh..wh..opq":
                    opaque.append(d)
                    continue
                if base.startswith(".wh."):
                    whiteouts.append(posixpath.join(d, base[4:]))
                    continue
                kind = "dir" if m.isdir() else "symlink" if m.issym() else \
                    "file" if (m.isreg() or m.islnk()) else "other"
                seen[p] = kind
                if not want(p) and not (want_member is not None and want_member(p, m)):
                    continue
                if m.isreg():
                    f = tar.extractfile(m)
                    added[p] = Entry("file", layer.index, data=f.read())
                elif m.islnk():
                    hardlinks.append((p, normalize(m.linkname)))
                    added[p] = Entry("file", layer.index, data=None)
                elif m.issym():
                    added[p] = Entry("symlink", layer.index, target=m.linkname)
                else:
                    added[p] = Entry(kind, layer.index)
        for p, target in hardlinks:
            te = added.get(target)
            if te is not None and te.data is not None:
                added[p].data = te.data
            else:
                added[p].data = _read_member(image, layer, target)
        # whiteouts and opaque dirs act on the lower layers only
        for w in whiteouts:
            _remove_tree(files, w, paths)
        for d in opaque:
            for q in _descendants(files, d):
                del files[q]
            if paths is not None:
                for q in _descendants(paths, d):
                    del paths[q]
        # a non-directory entry replaces a lower directory with everything under it
        for p, kind in seen.items():
            if kind == "dir":
                continue
            for q in _descendants(files, p):
                del files[q]
            if paths is not None and paths.get(p, (0, ""))[1] == "dir":
                for q in _descendants(paths, p):
                    del paths[q]
        files.update(added)
        if paths is not None:
            for p, kind in seen.items():
                if kind != "dir" or p not in paths:
                    paths[p] = (layer.index, kind)
        snapshots.append(dict(files))
    return Merged(image, files, snapshots, paths)


def _read_member(image, layer, target):
    with _LayerStream(image, layer) as tar:
        data = None
        for m in tar:
            try:
                p = normalize(m.name)
            except ImageError:
                continue
            if p == target and m.isreg():
                data = tar.extractfile(m).read()
        return data


def _remove_tree(files, w, paths):
    files.pop(w, None)
    for q in _descendants(files, w):
        del files[q]
    if paths is not None:
        e = paths.pop(w, None)
        if e is not None and e[1] == "dir":
            for q in _descendants(paths, w):
                del paths[q]
