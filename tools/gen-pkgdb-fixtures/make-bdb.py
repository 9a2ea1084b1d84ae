#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Build a Berkeley DB hash "Packages" database like rpm < 4.16 kept (RHEL/CentOS 7, Amazon
# Linux 2): key = 4-byte header instance number in the database's byte order, value = the
# header blob; plus the key-0 record in which rpm kept the highest instance number.
# The database itself is written by Berkeley DB's own db5.3_load (Debian db5.3-util).
# usage: make-bdb.py OUT PAGESIZE little|big [--chksum] [--ffactor=N] HDRFILE...
#        (--ffactor: records per bucket before a split; large values chain hash pages)
#        make-bdb.py --check DB little|big HDRFILE...   (db5.3_dump must give the blobs back)
import os
import struct
import subprocess
import sys


def records(order, files):
    fmt = "<I" if order == "little" else ">I"
    recs, maxnum = {}, 0
    for f in files:
        num = int(os.path.basename(f).split(".")[0])
        maxnum = max(maxnum, num)
        with open(f, "rb") as fh:
            recs[struct.pack(fmt, num)] = fh.read()
    recs[struct.pack(fmt, 0)] = struct.pack(fmt, maxnum)
    return recs


if sys.argv[1] == "--check":
    db, order, files = sys.argv[2], sys.argv[3], sys.argv[4:]
    dump = subprocess.run(["db5.3_dump", db], check=True, capture_output=True).stdout.decode()
    body = dump.split("HEADER=END\n", 1)[1].split("DATA=END", 1)[0].split()
    got = {bytes.fromhex(body[i]): bytes.fromhex(body[i + 1]) for i in range(0, len(body), 2)}
    if got != records(order, files):
        sys.exit("make-bdb.py: %s does not hold the expected records" % db)
    sys.exit(0)

out, pagesize, order = sys.argv[1], int(sys.argv[2]), sys.argv[3]
args = sys.argv[4:]
chksum = "--chksum" in args
ffactor = [a.split("=", 1)[1] for a in args if a.startswith("--ffactor=")]
files = [a for a in args if not a.startswith("--")]
lines = ["VERSION=3", "format=bytevalue", "type=hash", "db_pagesize=%d" % pagesize, "HEADER=END"]
for k, v in records(order, files).items():
    lines += [" " + k.hex(), " " + v.hex()]
lines.append("DATA=END")
if os.path.exists(out):
    os.unlink(out)
opts = ["-c", "db_lorder=" + ("1234" if order == "little" else "4321")]
if chksum:
    opts += ["-c", "chksum=1"]
if ffactor:
    opts += ["-c", "h_ffactor=" + ffactor[0]]
subprocess.run(["db5.3_load"] + opts + [out], input=("\n".join(lines) + "\n").encode(), check=True)
