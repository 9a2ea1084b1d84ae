#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Regenerate the small image fixtures in this directory (deterministic output).

  layout/            an OCI layout: "tiny:1" (linux/amd64, a gzip layer and an uncompressed
                     layer) and "tiny:multi" (an index: amd64, arm64 without variant, and a
                     buildkit attestation manifest)
  legacy.tar         docker save, legacy form: <id>/layer.tar (one a symlink), <hex>.json config
  ocistyle.tar       docker save, Docker 25 form: blobs/sha256/<hex> members plus manifest.json
  *.json             single documents for the parser tests

Run from anywhere: python3 tests/data/image/make-fixtures.py
"""
import gzip
import hashlib
import io
import json
import os
import shutil
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))
MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_INDEX = "application/vnd.oci.image.index.v1+json"
MT_CONFIG = "application/vnd.oci.image.config.v1+json"


def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def tar_bytes(files):
    """An uncompressed tar of {name: bytes} with fixed metadata."""
    bio = io.BytesIO()
    with tarfile.open(fileobj=bio, mode="w", format=tarfile.USTAR_FORMAT) as t:
        for name, data in files:
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            ti.mtime = 1700000000
            ti.mode = 0o644
            t.addfile(ti, io.BytesIO(data))
    return bio.getvalue()


def gz(b):
    return gzip.compress(b, compresslevel=9, mtime=0)


def dumps(o):
    return json.dumps(o, separators=(",", ":")).encode()


class Layout:
    def __init__(self, root):
        self.root = root
        shutil.rmtree(root, ignore_errors=True)
        os.makedirs(os.path.join(root, "blobs", "sha256"))
        self.entries = []

    def put(self, b):
        d = sha(b)
        with open(os.path.join(self.root, "blobs", "sha256", d[7:]), "wb") as f:
            f.write(b)
        return d

    def finish(self):
        with open(os.path.join(self.root, "oci-layout"), "w") as f:
            f.write('{"imageLayoutVersion":"1.0.0"}')
        with open(os.path.join(self.root, "index.json"), "wb") as f:
            f.write(dumps({"schemaVersion": 2, "mediaType": MT_INDEX, "manifests": self.entries}))


def image(lay, arch, variant, layers_plain):
    """Store an image; layers_plain: list of (tar bytes, compress?)."""
    stored, diff_ids, descs = [], [], []
    for plain, compress in layers_plain:
        blob = gz(plain) if compress else plain
        diff_ids.append(sha(plain))
        d = lay.put(blob)
        descs.append({
            "mediaType": "application/vnd.oci.image.layer.v1.tar" + ("+gzip" if compress else ""),
            "digest": d, "size": len(blob)})
        stored.append(blob)
    cfg = {"architecture": arch, "os": "linux", "config": {"Env": ["PATH=/usr/bin"]},
           "rootfs": {"type": "layers", "diff_ids": diff_ids}}
    if variant:
        cfg["variant"] = variant
    cfgb = dumps(cfg)
    man = {"schemaVersion": 2, "mediaType": MT_MANIFEST,
           "config": {"mediaType": MT_CONFIG, "digest": lay.put(cfgb), "size": len(cfgb)},
           "layers": descs}
    manb = dumps(man)
    return {"digest": lay.put(manb), "size": len(manb), "config": cfgb, "layers": stored,
            "plain": [p for p, _ in layers_plain], "diff_ids": diff_ids}


def main():
    l1 = tar_bytes([("etc/os-release", b'ID=tiny\nVERSION_ID="1.0"\n')])
    l2 = tar_bytes([("usr/share/doc/tiny/README", b"tiny fixture image\n")])
    lay = Layout(os.path.join(HERE, "layout"))
    amd = image(lay, "amd64", None, [(l1, True), (l2, False)])
    arm = image(lay, "arm64", None, [(l1, True)])
    att = dumps({"schemaVersion": 2, "mediaType": MT_MANIFEST,
                 "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                            "digest": sha(b"{}"), "size": 2}, "layers": []})
    lay.put(b"{}")
    attd = lay.put(att)
    idx = dumps({"schemaVersion": 2, "mediaType": MT_INDEX, "manifests": [
        {"mediaType": MT_MANIFEST, "digest": attd, "size": len(att),
         "platform": {"os": "unknown", "architecture": "unknown"},
         "annotations": {"vnd.docker.reference.type": "attestation-manifest",
                         "vnd.docker.reference.digest": amd["digest"]}},
        {"mediaType": MT_MANIFEST, "digest": amd["digest"], "size": amd["size"],
         "platform": {"os": "linux", "architecture": "amd64"}},
        {"mediaType": MT_MANIFEST, "digest": arm["digest"], "size": arm["size"],
         "platform": {"os": "linux", "architecture": "arm64"}},
    ]})
    idxd = lay.put(idx)
    lay.entries = [
        {"mediaType": MT_MANIFEST, "digest": amd["digest"], "size": amd["size"],
         "annotations": {"org.opencontainers.image.ref.name": "tiny:1"}},
        {"mediaType": MT_INDEX, "digest": idxd, "size": len(idx),
         "annotations": {"org.opencontainers.image.ref.name": "tiny:multi"}},
    ]
    lay.finish()

    # docker save, legacy form (layers uncompressed; the second layer.tar is a symlink)
    cfgd = sha(amd["config"])[7:]
    ids = [hashlib.sha256(b"layer-id-%d" % i).hexdigest() for i in range(2)]
    members = [
        (f"{cfgd}.json", amd["config"]),
        (f"{ids[0]}/layer.tar", amd["plain"][0]),
        (f"{ids[0]}/VERSION", b"1.0"),
        (f"{ids[1]}/VERSION", b"1.0"),
        (f"{amd['diff_ids'][1][7:]}.tar", amd["plain"][1]),
        ("manifest.json", dumps([{"Config": f"{cfgd}.json",
                                  "RepoTags": ["tiny:1", "example.com/tiny:latest"],
                                  "Layers": [f"{ids[0]}/layer.tar", f"{ids[1]}/layer.tar"]}])),
    ]
    write_archive(os.path.join(HERE, "legacy.tar"), members,
                  symlinks=[(f"{ids[1]}/layer.tar", f"../{amd['diff_ids'][1][7:]}.tar")])

    # docker save, Docker 25 OCI-style form
    blobs = [(f"blobs/sha256/{cfgd}", amd["config"])]
    for p in amd["plain"]:
        blobs.append((f"blobs/sha256/{sha(p)[7:]}", p))
    blobs.append(("manifest.json", dumps([{
        "Config": f"blobs/sha256/{cfgd}", "RepoTags": ["docker.io/library/tiny:oci"],
        "Layers": [f"blobs/sha256/{sha(p)[7:]}" for p in amd["plain"]]}])))
    write_archive(os.path.join(HERE, "ocistyle.tar"), blobs)

    docs = {
        "oci-manifest.json": {"schemaVersion": 2, "mediaType": MT_MANIFEST,
                              "config": {"mediaType": MT_CONFIG, "digest": sha(b"c"), "size": 1},
                              "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                                          "digest": sha(b"l1"), "size": 2},
                                         {"mediaType": "application/vnd.oci.image.layer.v1.tar+zstd",
                                          "digest": sha(b"l2"), "size": 3}]},
        "docker-manifest.json": {"schemaVersion": 2,
                                 "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                                 "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                                            "digest": sha(b"c"), "size": 1},
                                 "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                                             "digest": sha(b"l1"), "size": 2}]},
        "docker-list.json": {"schemaVersion": 2,
                             "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
                             "manifests": [
                                 {"mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                                  "digest": sha(b"m-arm7"), "size": 10,
                                  "platform": {"os": "linux", "architecture": "arm", "variant": "v7"}},
                                 {"mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                                  "digest": sha(b"m-arm64"), "size": 11,
                                  "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
                                 {"mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                                  "digest": sha(b"m-amd64"), "size": 12,
                                  "platform": {"os": "linux", "architecture": "amd64"}},
                                 {"mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                                  "digest": sha(b"m-win"), "size": 13,
                                  "platform": {"os": "windows", "architecture": "amd64",
                                               "os.version": "10.0.17763.1"}}]},
        "schema1.json": {"schemaVersion": 1, "name": "library/old", "tag": "latest",
                         "architecture": "amd64",
                         "fsLayers": [{"blobSum": sha(b"x")}],
                         "history": [{"v1Compatibility": "{}"}]},
        "config.json": json.loads(amd["config"]),
    }
    for name, doc in docs.items():
        with open(os.path.join(HERE, name), "wb") as f:
            f.write(json.dumps(doc, indent=2).encode() + b"\n")


def write_archive(path, members, symlinks=()):
    with tarfile.open(path, "w", format=tarfile.USTAR_FORMAT) as t:
        for name, data in members:
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            ti.mtime = 1700000000
            t.addfile(ti, io.BytesIO(data))
        for name, target in symlinks:
            ti = tarfile.TarInfo(name)
            ti.type = tarfile.SYMTYPE
            ti.linkname = target
            ti.mtime = 1700000000
            t.addfile(ti)


if __name__ == "__main__":
    main()
