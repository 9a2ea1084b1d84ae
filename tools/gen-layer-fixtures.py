#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Generate the small tar / gzip / zstd fixtures in tests/data/layer/ used by the layer unit
tests (tests/unit/test_layer.c) and the fuzz seed corpora (fuzz/corpus/{tar,decomp}/).

Usage: tools/gen-layer-fixtures.py [OUT_DIR]   (default tests/data/layer)

Everything is deterministic (fixed mtimes, gzip mtime 0), so re-running gives the same bytes
with the same zstd version. Needs python3 and the `zstd` command-line tool (Debian: zstd).
Some archives are written with Python's tarfile (what real tools produce); the malformed ones
with a small hand-rolled ustar header writer, so every byte is under control.
"""
import gzip
import io
import os
import subprocess
import sys
import tarfile

MTIME = 1700000000
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join("tests", "data", "layer")


def write(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def zstd(data, level=19):
    return subprocess.run(["zstd", "-q", "-c", "-%d" % level], input=data, check=True,
                          stdout=subprocess.PIPE).stdout


def gz(data):
    return gzip.compress(data, 9, mtime=0)


# ---- hand-rolled ustar headers -------------------------------------------------------------

def octal(value, width):
    return ("%0*o" % (width - 1, value)).encode() + b"\0"


def header(name, size=0, typeflag=b"0", linkname="", mode=0o644, prefix="",
           magic=b"ustar\x0000", size_field=None, bad_checksum=False):
    h = bytearray(512)
    nb = name.encode() if isinstance(name, str) else name
    h[0:len(nb)] = nb
    h[100:108] = octal(mode, 8)
    h[108:116] = octal(0, 8)
    h[116:124] = octal(0, 8)
    h[124:136] = size_field if size_field is not None else octal(size, 12)
    h[136:148] = octal(MTIME, 12)
    h[148:156] = b" " * 8
    h[156:157] = typeflag
    lb = linkname.encode()
    h[157:157 + len(lb)] = lb
    h[257:265] = magic
    pb = prefix.encode()
    h[345:345 + len(pb)] = pb
    s = sum(h)
    if bad_checksum:
        s += 1
    h[148:156] = ("%06o" % s).encode() + b"\0 "
    return bytes(h)


def pad(data):
    return data + b"\0" * ((512 - len(data) % 512) % 512)


def member(name, content=b"", **kw):
    return header(name, size=len(content), **kw) + pad(content)


def pax_record(key, value):
    body = (" %s=%s\n" % (key, value)).encode()
    n = len(body) + 1
    while len(str(n).encode()) + len(body) != n:
        n += 1
    return str(n).encode() + body


END = b"\0" * 1024


# ---- archives written by tarfile ------------------------------------------------------------

def tinfo(name, typ=tarfile.REGTYPE, size=0, link="", mode=0o644):
    ti = tarfile.TarInfo(name)
    ti.type = typ
    ti.size = size
    ti.linkname = link
    ti.mode = mode
    ti.mtime = MTIME
    ti.uname = ti.gname = "root"
    return ti


def build(entries, fmt=tarfile.GNU_FORMAT, pax_headers=None):
    """entries: (name, kind, payload) with kind file/dir/sym/hard/chr/fifo."""
    bio = io.BytesIO()
    with tarfile.open(fileobj=bio, mode="w", format=fmt,
                      pax_headers=pax_headers or {}) as tf:
        for name, kind, payload in entries:
            if kind == "file":
                tf.addfile(tinfo(name, size=len(payload)), io.BytesIO(payload))
            elif kind == "dir":
                tf.addfile(tinfo(name, tarfile.DIRTYPE, mode=0o755))
            elif kind == "sym":
                tf.addfile(tinfo(name, tarfile.SYMTYPE, link=payload, mode=0o777))
            elif kind == "hard":
                tf.addfile(tinfo(name, tarfile.LNKTYPE, link=payload))
            elif kind == "chr":
                tf.addfile(tinfo(name, tarfile.CHRTYPE))
            elif kind == "fifo":
                tf.addfile(tinfo(name, tarfile.FIFOTYPE))
    return bio.getvalue()


def pattern(n, seed=7):
    """n bytes of a repeating 997-byte pseudo-random block (compresses well, still checks
    offsets: the unit test recomputes it)."""
    block = bytearray(997)
    x = seed
    for i in range(len(block)):
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        block[i] = (x >> 16) & 0xFF
    reps = n // len(block) + 1
    return (bytes(block) * reps)[:n]


def main():
    os.makedirs(OUT, exist_ok=True)

    # basic: names to normalise, the root entry, every entry kind
    basic = build([
        ("./", "dir", None),
        ("./etc/", "dir", None),
        ("./etc/os-release", "file", b"ID=test\nVERSION_ID=1\n"),
        ("etc//passwd", "file", b"root:x:0:0:root:/root:/bin/sh\n"),
        ("usr/lib/../share/doc/", "dir", None),
        ("usr/share/doc/readme", "file", pattern(1000)),
        ("bin", "sym", "usr/bin"),
        ("usr/bin/", "dir", None),
        ("usr/bin/tool", "file", b"#!/bin/sh\necho tool\n"),
        ("usr/bin/tool-link", "hard", "./usr/bin/tool"),
        ("dev/null", "chr", None),
        ("run/fifo", "fifo", None),
        ("empty", "file", b""),
    ])
    write("basic.tar", basic)
    write("basic.tar.gz", gz(basic))
    write("basic.tar.zst", zstd(basic))

    # big: content larger than the walker's 1 MiB buffer, and many members after it
    big_entries = [("data/big.bin", "file", pattern(3 * 1024 * 1024 + 123, 11))]
    big_entries += [("data/small-%03d" % i, "file", pattern(i * 37 % 2000, 11))
                    for i in range(200)]
    big = build(big_entries)
    write("big.tar.gz", gz(big))
    write("big.tar.zst", zstd(big))

    # GNU long names ('L') and long link names ('K')
    long_dir = "very/" + "long-directory-name-" * 6
    gnu = build([
        (long_dir + "/file-with-a-long-name.txt", "file", b"long\n"),
        ("short-link", "sym", "/" + long_dir + "/file-with-a-long-name.txt"),
        ("hard-long", "hard", long_dir + "/file-with-a-long-name.txt"),
    ], fmt=tarfile.GNU_FORMAT)
    write("gnu-long.tar", gnu)

    # pax: long path and linkpath in 'x' headers, UTF-8, a global header ('g')
    pax_dir = "pax/" + "deep-directory/" * 12
    pax = build([
        (pax_dir + "file.txt", "file", b"pax\n"),
        ("pax/caf\u00e9.txt", "file", b"utf8\n"),
        ("pax/link", "sym", "../" + "x" * 150),
    ], fmt=tarfile.PAX_FORMAT, pax_headers={"comment": "global header"})
    write("pax.tar", pax)

    # pax size override: the ustar size field says 0, the pax record says 11
    write("pax-size.tar",
          member("pax-size", pax_record("size", "11"), typeflag=b"x")
          + header("sized.txt", size=0) + pad(b"hello world")
          + member("after.txt", b"after\n") + END)

    # base-256 size field (GNU binary numbers) and ustar prefix/name split
    b256 = bytes([0x80]) + b"\0" * 10 + bytes([6])
    write("base256.tar",
          header("b256.txt", size_field=b256) + pad(b"b256!\n")
          + member("name.txt", b"prefixed\n", prefix="usr/share/prefixed")
          + END)

    # malformed and hostile archives
    write("bad-checksum.tar", member("ok.txt", b"ok\n")
          + header("bad.txt", size=3, bad_checksum=True) + pad(b"bad") + END)
    write("bad-number.tar", member("ok.txt", b"ok\n")
          + header("bad.txt", size_field=b"12x4567\0\0\0\0\0") + END)
    write("absolute.tar", member("ok.txt", b"ok\n") + member("/etc/shadow", b"x\n") + END)
    write("dotdot.tar", member("ok.txt", b"ok\n") + member("a/../../etc/x", b"x\n") + END)
    write("hardlink-escape.tar", member("ok.txt", b"ok\n")
          + header("link", typeflag=b"1", linkname="../../etc/shadow") + END)
    write("long-cap.tar", member("ok.txt", b"ok\n")
          + header("././@LongLink", size=5000, typeflag=b"L") + pad(b"n" * 4999 + b"\0")
          + member("x", b"") + END)
    write("pax-cap.tar", member("ok.txt", b"ok\n")
          + header("paxhdr", size=2 << 20, typeflag=b"x") + pad(b"9 a=bcd\n"))
    write("pax-bad.tar", member("ok.txt", b"ok\n")
          + member("paxhdr", b"99 path=x\n", typeflag=b"x") + member("y", b"") + END)
    write("lone-zero.tar", member("ok.txt", b"ok\n") + b"\0" * 512 + member("x", b"x") + END)
    write("no-end.tar", member("a.txt", b"a\n") + member("b.txt", b"b\n"))
    write("truncated-content.tar", (member("a.txt", b"a\n") + member("b.txt", b"b" * 3000))[:2048])
    write("truncated-header.tar", member("a.txt", b"a\n") + member("b.txt", b"b\n")[:300])
    write("garbage.bin", b"this is not an archive at all\n" * 40)
    write("empty.tar", END)

    # gzip: multi-member, trailing zeros, trailing garbage, truncated, corrupt, bad CRC
    comp = gz(basic)
    cut = 3000
    write("multi.tar.gz", gz(basic[:cut]) + gz(basic[cut:]))
    write("zeros-after.tar.gz", comp + b"\0" * 100)
    write("garbage-after.tar.gz", comp + b"\0\0GARBAGE")
    write("truncated.tar.gz", comp[:len(comp) // 2])
    write("truncated-trailer.tar.gz", comp[:-3])
    bad = bytearray(comp)
    for i in range(40, 60):
        bad[i] ^= 0x5A
    write("corrupt.tar.gz", bytes(bad))
    crc = bytearray(comp)
    crc[-8] ^= 0xFF
    write("bad-crc.tar.gz", bytes(crc))

    # zstd: two frames, truncated, corrupt
    zc = zstd(basic)
    write("multi.tar.zst", zstd(basic[:cut]) + zstd(basic[cut:]))
    write("truncated.tar.zst", zc[:len(zc) // 2])
    zbad = bytearray(zc)
    for i in range(len(zbad) // 2, len(zbad) // 2 + 16):
        zbad[i] ^= 0xA5
    write("corrupt.tar.zst", bytes(zbad))

    # bombs: a tar holding 1 GB of zeros (zstd), 10 MiB of zeros (gzip)
    proc = subprocess.Popen(["zstd", "-q", "-c", "-19"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE)
    size = 1 << 30

    def feed():
        proc.stdin.write(header("zeros.bin", size=size))
        chunk = b"\0" * (1 << 20)
        for _ in range(size // len(chunk)):
            proc.stdin.write(chunk)
        proc.stdin.write(END)
        proc.stdin.close()

    import threading
    t = threading.Thread(target=feed)
    t.start()
    bomb = proc.stdout.read()
    t.join()
    proc.wait()
    write("bomb.tar.zst", bomb)
    write("bomb.tar.gz", gz(header("zeros.bin", size=10 << 20) + b"\0" * (10 << 20) + END))

    # three layers for the merge tests (bottom first); see test_layer.c for the expectations
    chain = [("chain/s%d" % i, "sym", "s%d" % (i + 1)) for i in range(41)]
    write("merge0.tar", build([
        ("etc/", "dir", None),
        ("etc/os-release", "file", b"ID=base\n"),
        ("usr/lib/os-release", "file", b"ID=usrlib\n"),
        ("lib", "sym", "usr/lib"),
        ("etc/alt", "sym", "/usr/lib"),
        ("usr/share/java/a.jar", "file", b"jar-a"),
        ("usr/share/java/b.jar", "file", b"jar-b"),
        ("usr/share/maven/x/1.pom", "file", b"pom-1"),
        ("opt/app/lib/dep.jar", "file", b"dep"),
        ("opt/keep/k.txt", "file", b"keep-me"),
        ("dirlink", "sym", "opt/app"),
        ("loop1", "sym", "loop2"),
        ("loop2", "sym", "loop1"),
        ("up", "sym", "../../../../etc"),
        ("abs", "sym", "/etc/os-release"),
        ("dotdot", "sym", "usr/../../../usr/lib/os-release"),
        ("var/lib/dpkg/status.d/zlib", "file", b"Package: zlib\n"),
        ("var/lib/dpkg/status.d/bash", "file", b"Package: bash\n"),
        ("var/lib/dpkg/status.d-old", "file", b"old\n"),
        ("var/lib/dpkg/status", "file", b"Package: base\n"),
    ] + chain + [("chain/s41", "file", b"end of chain")]))
    write("merge1.tar", build([
        ("usr/share/java/.wh.a.jar", "file", b""),
        ("usr/share/maven/", "dir", None),
        ("usr/share/maven/y/2.pom", "file", b"pom-2"),
        ("usr/share/maven/.wh..wh..opq", "file", b""),
        ("opt/app", "file", b"now a file"),
        ("lib/newfile", "file", b"through the lib symlink"),
        ("opt/hl", "hard", "opt/keep/k.txt"),
        ("opt/hl2", "hard", "opt/hl"),
        ("var/lib/dpkg/status.d/curl", "file", b"Package: curl\n"),
    ]))
    write("merge2.tar", build([
        ("opt/.wh.keep", "file", b""),
        ("etc/os-release", "sym", "../usr/lib/os-release"),
        ("var/lib/dpkg/status.d/.wh.zlib", "file", b""),
        ("usr/share/java/b.jar", "file", b"jar-b-v2"),
    ]))
    # a file turned into a directory by entries below it (no directory entry in the layer),
    # and an entry written through a symlink to it
    write("replace0.tar", build([
        ("x", "file", b"plain file"),
        ("s", "sym", "x"),
        ("f", "file", b"f"),
    ]))
    write("replace1.tar", build([
        ("x/y", "file", b"under x"),
        ("s/z", "file", b"through s"),
        ("f/g/h", "file", b"deep"),
    ]))
    write("merge-root-opaque.tar", build([
        (".wh..wh..opq", "file", b""),
        ("fresh.txt", "file", b"fresh"),
    ]))


if __name__ == "__main__":
    main()
