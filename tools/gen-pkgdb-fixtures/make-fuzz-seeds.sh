#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Seed corpora for the package-database fuzz targets (fuzz/corpus/<target>/), cut down from
# the fixtures in tests/data/pkgdb/ so each seed stays small (the fuzzers run faster on small
# inputs). Run from the repository root after the other make-*-fixtures scripts. Needs
# python3-rpm, db5.3-util, sqlite3 (Python module).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
T=tests/data/pkgdb
C=fuzz/corpus
PY=/usr/bin/python3
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
# (other files in the corpus directories are regression inputs found by fuzzing: kept)
for t in dpkg apk osrelease rpm_header rpm_sqlite rpm_bdb rpm_ndb; do
    mkdir -p "$C/$t"
done

# dpkg: the hand-written edge cases, one distroless file, the first stanzas of the real status
cp "$T/dpkg-status-edge" "$C/dpkg/edge"
cp "$T/dpkg-distroless/libgcc-s1" "$C/dpkg/status.d-two-stanzas"
awk 'BEGIN{RS=""; ORS="\n\n"} NR<=6' "$T/dpkg-status-bookworm" >"$C/dpkg/bookworm-head"
printf 'Package: a\nStatus: install ok installed\nVersion: 1:2-3\nSource: s (1:2-2)\n' >"$C/dpkg/small"

# apk: the real-format installed db, and a small record without origin
cp "$T/apk-installed-3.19" "$C/apk/installed-3.19"
printf 'P:a\nV:1.0_rc1-r0\nA:x86_64\n\nP:b\nV:2\n' >"$C/apk/small"

# osrelease: first byte picks the path (see fuzz_osrelease.c: <128 marker, index = byte % 9)
sel() { printf "\\$(printf '%03o' "$1")"; }
{ sel 128; cat "$T/os-release-debian12"; } >"$C/osrelease/os-release-debian"
{ sel 128; cat "$T/os-release-rocky93"; } >"$C/osrelease/os-release-rocky"
{ sel 1; cat "$T/debian_version-bookworm"; } >"$C/osrelease/debian_version"
{ sel 1; echo "trixie/sid"; } >"$C/osrelease/debian_version-sid"
{ sel 2; cat "$T/alpine-release-3.19"; } >"$C/osrelease/alpine-release"
{ sel 3; cat "$T/rocky-release-9.3"; } >"$C/osrelease/rocky-release"
{ sel 5; echo "CentOS Linux release 7.9.2009 (Core)"; } >"$C/osrelease/centos-release"
{ sel 4; printf 'DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=22.04\nDISTRIB_CODENAME=jammy\nDISTRIB_DESCRIPTION="Ubuntu 22.04.3 LTS"\n'; } >"$C/osrelease/lsb-release"

# rpm headers: real blobs
gzip -dc "$T/rpmdb-synth.sqlite.gz" >"$W/synth.sqlite"
"$PY" "$HERE/rpmdb-export.py" "$W/synth.sqlite" "$W/hdr" >"$W/names"
cp "$T/rpm-header-libexample.bin" "$C/rpm_header/libexample"
cp "$T/rpm-header-gpg-pubkey.bin" "$C/rpm_header/gpg-pubkey"
hdr_of() { echo "$W/hdr/$(awk -v n="$1" '$2 == n { print $1 }' "$W/names").hdr"; }
cp "$(hdr_of zeroepoch)" "$C/rpm_header/zeroepoch"
cp "$(hdr_of data-files)" "$C/rpm_header/data-files"
mkdir -p "$W/two"
cp "$(hdr_of zeroepoch)" "$W/two/1.hdr"
cp "$(hdr_of libexample)" "$W/two/2.hdr"

# rpm sqlite: minimal rpm-shaped databases with 512-byte pages, one checkpointed, one with
# its last transaction in the WAL ("W" + 4-byte length + db + wal, see fuzz_rpm_sqlite.c)
"$PY" - "$W" "$C/rpm_sqlite" <<'PYEOF'
import os, shutil, sqlite3, struct, sys
w, out = sys.argv[1], sys.argv[2]
blobs = [open(os.path.join(w, "two", f), "rb").read() for f in ("1.hdr", "2.hdr")]
def make(path, wal):
    con = sqlite3.connect(path)
    con.execute("PRAGMA page_size=512")
    con.execute("PRAGMA journal_mode=%s" % ("WAL" if wal else "DELETE"))
    con.execute("PRAGMA wal_autocheckpoint=0")
    con.execute("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT,blob BLOB NOT NULL)")
    con.commit()
    return con
con = make(os.path.join(w, "plain.sqlite"), False)
with con:
    for b in blobs:
        con.execute("INSERT INTO Packages(blob) VALUES (?)", (b,))
con.close()
shutil.copy(os.path.join(w, "plain.sqlite"), os.path.join(out, "two-packages"))
db = os.path.join(w, "wal.sqlite")
con = make(db, True)
con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
with con:
    con.execute("INSERT INTO Packages(blob) VALUES (?)", (blobs[0],))
con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
with con:
    con.execute("INSERT INTO Packages(blob) VALUES (?)", (blobs[1],))
d, l = open(db, "rb").read(), open(db + "-wal", "rb").read()
con.close()
with open(os.path.join(out, "wal-frames"), "wb") as f:
    f.write(b"W" + struct.pack(">I", len(d)) + d + l)
PYEOF

# rpm bdb: two real headers, 512-byte little-endian pages (overflow chains) and 8 KiB
# big-endian pages with checksums (values of under 2 KiB stay on the hash page)
"$PY" "$HERE/make-bdb.py" "$C/rpm_bdb/le512" 512 little "$W"/two/*.hdr
"$PY" "$HERE/make-bdb.py" "$C/rpm_bdb/be8k-chksum" 8192 big --chksum "$W"/two/*.hdr

# rpm ndb: the same two headers, one free slot
"$PY" "$HERE/make-ndb.py" "$C/rpm_ndb/two" --free-slot "$W"/two/*.hdr
du -sh "$C"/{dpkg,apk,osrelease,rpm_header,rpm_sqlite,rpm_bdb,rpm_ndb}
