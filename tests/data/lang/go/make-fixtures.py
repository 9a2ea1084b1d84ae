#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Make the Go build-info fixtures of tests/data/lang/go/ (run from anywhere; needs Debian's
golang-go 1.19 and golang-golang-x-mod-dev, offline):

  real-*.elf   a tiny module-mode program (src/: main module example.com/vigil-fixture,
               golang.org/x/mod v0.6.0 replaced by v0.7.0, a dependency replaced by a local
               directory) built here with `go build -trimpath -ldflags=-s -w` in vendor mode
               (golang.org/x/mod/semver copied from /usr/share/gocode into a temporary vendor
               tree, so no third-party code is committed). Only the .go.buildinfo section is
               kept, byte for byte, in a minimal ELF of the same class, byte order, machine and
               addresses: amd64 (ELF64 LE), 386 (ELF32 LE) and s390x (ELF64 BE).
  real-amd64-noshdr.elf  the amd64 one without a section table: found through the writable
               PT_LOAD segment only.
  ptr-*.elf    SYNTHETIC: the pre-Go-1.18 pointer form (flags without the inline bit), which
               Go 1.19 no longer writes: the header holds two pointers to Go string headers
               {data, len} in .data, whose data lies in .rodata. Made from the same version and
               module-info strings, for ELF64 LE (ptrsize 8) and ELF32 BE (ptrsize 4).
"""

import os
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
GOCODE = os.environ.get("GOCODE", "/usr/share/gocode/src")
MAGIC = b"\xff Go buildinf:"


def build(arch, tmp):
    src = os.path.join(tmp, "src")
    if not os.path.exists(src):
        shutil.copytree(os.path.join(HERE, "src"), src)
        vend = os.path.join(src, "vendor")
        shutil.copytree(os.path.join(GOCODE, "golang.org/x/mod/semver"),
                        os.path.join(vend, "golang.org/x/mod/semver"))
        shutil.copytree(os.path.join(src, "localdep"), os.path.join(vend, "example.com/localdep"))
        os.remove(os.path.join(vend, "example.com/localdep/go.mod"))
        shutil.copy(os.path.join(src, "modules.txt"), os.path.join(vend, "modules.txt"))
    env = dict(os.environ, GOARCH=arch, CGO_ENABLED="0", GOFLAGS="-mod=vendor", GOPROXY="off",
               GOCACHE=os.path.join(tmp, "cache"), GO111MODULE="on")
    out = os.path.join(tmp, "bin-" + arch)
    subprocess.run(["go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, "."], cwd=src,
                   env=env, check=True)
    with open(out, "rb") as f:
        return f.read()


class Elf:
    def __init__(self, data):
        self.data = data
        self.is64 = data[4] == 2
        self.end = ">" if data[5] == 2 else "<"
        if self.is64:
            (self.machine,) = struct.unpack_from(self.end + "H", data, 18)
            shoff, = struct.unpack_from(self.end + "Q", data, 40)
            shentsize, shnum, shstrndx = struct.unpack_from(self.end + "HHH", data, 58)
        else:
            (self.machine,) = struct.unpack_from(self.end + "H", data, 18)
            shoff, = struct.unpack_from(self.end + "I", data, 32)
            shentsize, shnum, shstrndx = struct.unpack_from(self.end + "HHH", data, 46)
        self.sections = []
        for i in range(shnum):
            o = shoff + i * shentsize
            if self.is64:
                name, typ, flags, addr, off, size = struct.unpack_from(self.end + "IIQQQQ",
                                                                        data, o)
            else:
                name, typ, flags, addr, off, size = struct.unpack_from(self.end + "IIIIII",
                                                                        data, o)
            self.sections.append([name, typ, flags, addr, off, size])
        strtab = self.sections[shstrndx]
        for s in self.sections:
            nb = data[strtab[4] + s[0]:]
            s[0] = nb[:nb.index(b"\0")].decode()

    def section(self, name):
        for s in self.sections:
            if s[0] == name:
                return s[3], self.data[s[4]:s[4] + s[5]]
        raise KeyError(name)


def write_elf(is64, big, machine, sections, with_shdr=True, with_phdr=True):
    """sections: [(name, addr, bytes, flags)] -> a minimal ELF executable: header, program
    headers (one PT_LOAD per section, RW for writable ones), the section bytes each at a file
    offset congruent to its address modulo 0x1000, then the section-name table and headers."""
    e = ">" if big else "<"
    ehsize, phsize, shsize = (64, 56, 64) if is64 else (52, 32, 40)
    nph = len(sections) if with_phdr else 0
    off = ehsize + nph * phsize
    placed = []
    for name, addr, data, flags in sections:
        want = addr % 0x1000
        off = off + ((want - off) % 0x1000)
        placed.append((name, addr, data, flags, off))
        off += len(data)
    names = b"\0" + b"".join(s[0].encode() + b"\0" for s in sections) + b".shstrtab\0"
    shstr_off = off
    off += len(names)
    off = (off + 7) & ~7
    shoff = off if with_shdr else 0
    nsh = len(sections) + 2 if with_shdr else 0
    out = bytearray(off + nsh * shsize)
    ident = b"\x7fELF" + bytes([2 if is64 else 1, 2 if big else 1, 1]) + b"\0" * 9
    if is64:
        hdr = struct.pack(e + "16sHHIQQQIHHHHHH", ident, 2, machine, 1, 0, ehsize if nph else 0,
                          shoff, 0, ehsize, phsize, nph, shsize, nsh, nsh - 1 if nsh else 0)
    else:
        hdr = struct.pack(e + "16sHHIIIIIHHHHHH", ident, 2, machine, 1, 0, ehsize if nph else 0,
                          shoff, 0, ehsize, phsize, nph, shsize, nsh, nsh - 1 if nsh else 0)
    out[0:len(hdr)] = hdr
    for i, (name, addr, data, flags, o) in enumerate(placed):
        if with_phdr:
            pflags = 4 | (2 if flags & 1 else 0)
            if is64:
                ph = struct.pack(e + "IIQQQQQQ", 1, pflags, o, addr, addr, len(data), len(data),
                                 0x1000)
            else:
                ph = struct.pack(e + "IIIIIIII", 1, o, addr, addr, len(data), len(data), pflags,
                                 0x1000)
            out[ehsize + i * phsize:ehsize + (i + 1) * phsize] = ph
        out[o:o + len(data)] = data
    out[shstr_off:shstr_off + len(names)] = names
    if with_shdr:
        name_off = 1
        shdrs = [struct.pack(e + ("IIQQQQIIQQ" if is64 else "IIIIIIIIII"), *([0] * 10))]
        for name, addr, data, flags, o in placed:
            shflags = 2 | (1 if flags & 1 else 0)  # SHF_ALLOC | SHF_WRITE
            fields = (name_off, 1, shflags, addr, o, len(data), 0, 0, 16, 0)
            shdrs.append(struct.pack(e + ("IIQQQQIIQQ" if is64 else "IIIIIIIIII"), *fields))
            name_off += len(name) + 1
        fields = (name_off, 3, 0, 0, shstr_off, len(names), 0, 0, 1, 0)
        shdrs.append(struct.pack(e + ("IIQQQQIIQQ" if is64 else "IIIIIIIIII"), *fields))
        b = b"".join(shdrs)
        out[shoff:shoff + len(b)] = b
    return bytes(out)


def uvarint(b, i):
    x = shift = 0
    while True:
        c = b[i]
        i += 1
        x |= (c & 0x7F) << shift
        if c < 0x80:
            return x, i
        shift += 7


def inline_strings(bi):
    n, i = uvarint(bi, 32)
    vers = bi[i:i + n]
    n, i = uvarint(bi, i + n)
    return vers, bi[i:i + n]


def pointer_form(is64, big, machine, vers, mod):
    e = ">" if big else "<"
    ps = 8 if is64 else 4
    pf = "Q" if is64 else "I"
    bi_addr, data_addr, ro_addr = 0x500000, 0x510000, 0x480000
    rodata = vers + b"\0" * ((-len(vers)) % 16) + mod
    mod_addr = ro_addr + len(vers) + ((-len(vers)) % 16)
    data = struct.pack(e + pf + pf, ro_addr, len(vers)) + struct.pack(e + pf + pf, mod_addr,
                                                                       len(mod))
    hdr = MAGIC + bytes([ps, 1 if big else 0]) + struct.pack(e + pf + pf, data_addr,
                                                           data_addr + 2 * ps)
    hdr += b"\0" * (32 - len(hdr))
    return write_elf(is64, big, machine, [(".go.buildinfo", bi_addr, hdr, 1),
                                          (".rodata", ro_addr, rodata, 0),
                                          (".data", data_addr, data, 1)])


def main():
    tmp = tempfile.mkdtemp(prefix="vigil-gofix-")
    try:
        outs = {}
        for arch in ("amd64", "386", "s390x"):
            elf = Elf(build(arch, tmp))
            addr, bi = elf.section(".go.buildinfo")
            big = elf.end == ">"
            outs["real-%s.elf" % arch] = write_elf(elf.is64, big, elf.machine,
                                                   [(".go.buildinfo", addr, bi, 1)])
            if arch == "amd64":
                outs["real-amd64-noshdr.elf"] = write_elf(elf.is64, big, elf.machine,
                                                          [(".go.buildinfo", addr, bi, 1)],
                                                          with_shdr=False)
                vers, mod = inline_strings(bi)
        outs["ptr-le64.elf"] = pointer_form(True, False, 62, vers, mod)
        outs["ptr-be32.elf"] = pointer_form(False, True, 20, vers, mod)  # EM_PPC
        for name, b in outs.items():
            with open(os.path.join(HERE, name), "wb") as f:
                f.write(b)
            print("%s: %d bytes" % (name, len(b)), file=sys.stderr)
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
