#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Write an rpm "ndb" Packages.db (the backend SUSE uses) holding the given header blobs.
# Debian's rpm 4.18 is built without ndb (`rpm --showrc`: "available backends: sqlite bdb_ro
# dummy"), so this file is NOT made by librpm: it is written here from the format as rpm's
# lib/backend/ndb/rpmpkg.c defines it (all integers little-endian):
#   header (32 bytes, inside the first slot page): "RpmP", version 0, generation,
#     slot page count, next package index
#   slot pages (4096 bytes each): 16-byte slots "Slot", pkgidx, blkoff, blkcnt (blkoff 0 = free)
#   blobs at blkoff*16, blkcnt 16-byte blocks: "BlbS", pkgidx, timestamp, length, the header
#     blob, zero padding, then adler32 (over head+blob+padding), length, "BlbE"
# The header blobs inside are real (exported from a librpm-written rpmdb.sqlite).
# usage: make-ndb.py OUT [--free-slot] HDRFILE...
import os
import struct
import sys
import zlib

out = sys.argv[1]
args = sys.argv[2:]
free_slot = "--free-slot" in args
files = [a for a in args if a != "--free-slot"]
PAGE, BLK, SLOT = 4096, 16, 16
blobs = []
for f in files:
    with open(f, "rb") as fh:
        blobs.append((int(os.path.basename(f).split(".")[0]), fh.read()))
nslots = len(blobs) + (1 if free_slot else 0)
slotpages = max(1, (32 + nslots * SLOT + PAGE - 1) // PAGE)
data = bytearray(slotpages * PAGE)
# every slot starts out empty ("Slot" magic, zero fields), as rpm initialises slot pages
for off in range(32, slotpages * PAGE, SLOT):
    data[off:off + 4] = b"Slot"
blkoff = slotpages * PAGE // BLK
slotoff = 32
if free_slot:
    slotoff += SLOT  # leave the first slot free, as a deleted package leaves it
for idx, blob in blobs:
    head = b"BlbS" + struct.pack("<III", idx, 1700000000, len(blob))
    blkcnt = (16 + len(blob) + 12 + BLK - 1) // BLK
    pad = blkcnt * BLK - (16 + len(blob) + 12)
    body = head + blob + b"\0" * pad
    tail = struct.pack("<II", zlib.adler32(body), len(blob)) + b"BlbE"
    data += body + tail
    data[slotoff:slotoff + SLOT] = b"Slot" + struct.pack("<III", idx, blkoff, blkcnt)
    slotoff += SLOT
    blkoff += blkcnt
nextidx = max([i for i, _ in blobs] + [0]) + 1
data[0:20] = b"RpmP" + struct.pack("<IIII", 0, len(blobs) + 1, slotpages, nextidx)
with open(out, "wb") as fh:
    fh.write(bytes(data))
