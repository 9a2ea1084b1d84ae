#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Build the rpm database fixtures in tests/data/pkgdb/ and their truth files (*.truth, what
# python3-rpm reads from the same database). Needs: rpm, rpmbuild, python3-rpm, gpg, sqlite3,
# db5.3-util (db5.3_load), gzip. Uses tests/data/pkgdb/rpmdb-rocky93.sqlite.gz (from
# extract-from-images.sh) for a second set of real headers.
#   OUT  destination (default tests/data/pkgdb)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$(realpath "${OUT:-tests/data/pkgdb}")
PY=/usr/bin/python3
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

# 1. real rpms from small synthetic specs, installed by librpm into a fresh sqlite rpmdb,
#    together with one imported public key (a gpg-pubkey pseudo-package)
mkdir -p "$W/specs" "$W/root" "$W/gnupg"
chmod 700 "$W/gnupg"
"$PY" "$HERE/make-specs.py" "$W/specs"
for s in "$W/specs"/*.spec; do
    rpmbuild --quiet --define "_topdir $W/build" -bb "$s"
done
GNUPGHOME="$W/gnupg" gpg --batch --quiet --passphrase '' \
    --quick-gen-key 'vigil fixtures <fixtures@example.invalid>' rsa2048 sign never
GNUPGHOME="$W/gnupg" gpg --armor --export fixtures@example.invalid >"$W/key.asc"
rpm --root "$W/root" --dbpath /var/lib/rpm --initdb
rpm --root "$W/root" --dbpath /var/lib/rpm --import "$W/key.asc"
rpm --root "$W/root" --dbpath /var/lib/rpm -i --nodeps --noscripts --ignorearch --ignoreos \
    "$W"/build/RPMS/*/*.rpm 2>/dev/null
sqlite3 "$W/root/var/lib/rpm/rpmdb.sqlite" 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null
SYN="$W/root/var/lib/rpm/rpmdb.sqlite"
gzip -9nc "$SYN" >"$OUT/rpmdb-synth.sqlite.gz"
"$PY" "$HERE/rpm-truth.py" sqlite "$W/root/var/lib/rpm" >"$OUT/rpmdb-synth.truth"

# 2. the real header blobs of both databases
gzip -dc "$OUT/rpmdb-rocky93.sqlite.gz" >"$W/rocky.sqlite"
mkdir -p "$W/rockydb"
cp "$W/rocky.sqlite" "$W/rockydb/rpmdb.sqlite"
"$PY" "$HERE/rpm-truth.py" sqlite "$W/rockydb" >"$OUT/rpmdb-rocky93.truth"
"$PY" "$HERE/rpmdb-export.py" "$SYN" "$W/hdr-synth" >"$W/synth.names"
"$PY" "$HERE/rpmdb-export.py" "$W/rocky.sqlite" "$W/hdr-rocky" >"$W/rocky.names"
hdr_of() { awk -v n="$2" '$2 == n { print $1 }' "$1"; }
# single headers for rpm_parse_header tests: the gpg-pubkey and a package with an Epoch
cp "$W/hdr-synth/$(hdr_of "$W/synth.names" gpg-pubkey).hdr" "$OUT/rpm-header-gpg-pubkey.bin"
cp "$W/hdr-synth/$(hdr_of "$W/synth.names" libexample).hdr" "$OUT/rpm-header-libexample.bin"

# 3. Berkeley DB hash Packages, written by db5.3_load, read back by librpm's bdb_ro backend:
#    little-endian 4 KiB pages (every value off-page; the 29 KB header spans 8 overflow pages)
#    and big-endian 8 KiB pages holding both header sets (rocky's renumbered from 101): most
#    values on the hash pages, byte-swapped metadata, and with splits held back
#    (h_ffactor=1000) a bucket whose hash pages form a chain
mkdir -p "$OUT/rpmdb-bdb-le4k" "$OUT/rpmdb-bdb-be8k-chain" "$W/hdr-mixed"
"$PY" "$HERE/make-bdb.py" "$OUT/rpmdb-bdb-le4k/Packages" 4096 little "$W"/hdr-synth/*.hdr
cp "$W"/hdr-synth/*.hdr "$W/hdr-mixed/"
for f in "$W"/hdr-rocky/*.hdr; do cp "$f" "$W/hdr-mixed/$((100 + $(basename "$f" .hdr))).hdr"; done
"$PY" "$HERE/make-bdb.py" "$OUT/rpmdb-bdb-be8k-chain/Packages" 8192 big --ffactor=1000 \
    "$W"/hdr-mixed/*.hdr
# (bdb_ro warns about the index databases we do not make: only Packages is read)
"$PY" "$HERE/rpm-truth.py" bdb_ro "$OUT/rpmdb-bdb-le4k" >"$OUT/rpmdb-bdb-le4k.truth" 2>/dev/null
"$PY" "$HERE/rpm-truth.py" bdb_ro "$OUT/rpmdb-bdb-be8k-chain" >"$OUT/rpmdb-bdb-be8k-chain.truth" 2>/dev/null
# the readers must agree with the sqlite databases the blobs came from
diff <(grep -v '^#' "$OUT/rpmdb-bdb-le4k.truth") <(grep -v '^#' "$OUT/rpmdb-synth.truth")
diff <(grep -v '^#' "$OUT/rpmdb-bdb-be8k-chain.truth") \
    <(grep -hv '^#' "$OUT/rpmdb-rocky93.truth" "$OUT/rpmdb-synth.truth" | LC_ALL=C sort)
#    and 512-byte pages with page checksums (DB_CHKSUM), which librpm's bdb_ro cannot read:
#    db5.3_verify checks it, db5.3_dump must give back the exact blobs, truth = the sqlite
mkdir -p "$OUT/rpmdb-bdb-le512-chksum"
"$PY" "$HERE/make-bdb.py" "$OUT/rpmdb-bdb-le512-chksum/Packages" 512 little --chksum "$W"/hdr-synth/*.hdr
db5.3_verify -q "$OUT/rpmdb-bdb-le512-chksum/Packages"
"$PY" "$HERE/make-bdb.py" --check "$OUT/rpmdb-bdb-le512-chksum/Packages" little "$W"/hdr-synth/*.hdr
{ echo "# truth: rpmdb-synth.truth (same header blobs; db5.3_dump gives them back unchanged)"
  grep -v '^#' "$OUT/rpmdb-synth.truth"; } >"$OUT/rpmdb-bdb-le512-chksum.truth"

# 4. ndb Packages.db (written from the format description, see make-ndb.py); truth = the
#    sqlite database the blobs came from, as python3-rpm reads it
mkdir -p "$OUT/rpmdb-ndb"
cp "$W/hdr-rocky/$(hdr_of "$W/rocky.names" rocky-release).hdr" "$W/100.hdr"
"$PY" "$HERE/make-ndb.py" "$OUT/rpmdb-ndb/Packages.db" --free-slot "$W"/hdr-synth/*.hdr "$W/100.hdr"
# the synth headers plus rocky-release (as package index 100): truth = synth + rocky-release
{ cat "$OUT/rpmdb-synth.truth"; grep -P '^rocky-release\t' "$OUT/rpmdb-rocky93.truth"; } |
    { read -r c; echo "$c (+ rocky-release from rpmdb-rocky93.truth)"; sort; } >"$OUT/rpmdb-ndb.truth"

# 5. WAL with frames: delete data-files, add rocky's zlib header, leave it all in the -wal
mkdir -p "$W/wal"
ZLIB="$W/hdr-rocky/$(hdr_of "$W/rocky.names" zlib).hdr"
"$PY" "$HERE/make-wal.py" "$SYN" "$W/wal" data-files "$ZLIB"
gzip -9nc "$W/wal/rpmdb.sqlite" >"$OUT/rpmdb-wal.sqlite.gz"
gzip -9nc "$W/wal/rpmdb.sqlite-wal" >"$OUT/rpmdb-wal.sqlite-wal.gz"
"$PY" "$HERE/rpm-truth.py" sqlite "$W/wal" >"$OUT/rpmdb-wal.truth"
ls -la "$OUT"/rpm*
