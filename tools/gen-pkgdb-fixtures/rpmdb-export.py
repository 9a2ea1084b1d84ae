#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Export the header blobs of an rpmdb.sqlite, as librpm stored them, one file per package:
# OUTDIR/<hnum>.hdr, and print "<hnum> <name>" for each (name as librpm reads it).
# usage: rpmdb-export.py RPMDB.SQLITE OUTDIR
import os
import sqlite3
import sys

import rpm

db, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
for hnum, blob in con.execute("SELECT hnum, blob FROM Packages ORDER BY hnum"):
    with open(os.path.join(out, "%d.hdr" % hnum), "wb") as f:
        f.write(blob)
    print(hnum, rpm.hdr(blob)["name"])
con.close()
