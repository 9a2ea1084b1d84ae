#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Make an rpmdb.sqlite whose latest transaction lives only in its -wal file, as a container
# image gets when it is committed while rpm (or anything else) still had the database open.
# Copies SRC to OUTDIR, then in one transaction deletes the package named DELNAME and adds
# the header blob ADDHDR, with automatic checkpoints off, and copies rpmdb.sqlite and
# rpmdb.sqlite-wal out while the connection is still open (closing would checkpoint).
# usage: make-wal.py SRC OUTDIR DELNAME ADDHDR
import os
import shutil
import sqlite3
import sys
import tempfile

src, outdir, delname, addhdr = sys.argv[1:5]
os.makedirs(outdir, exist_ok=True)
tmp = tempfile.mkdtemp()
db = os.path.join(tmp, "rpmdb.sqlite")
shutil.copy(src, db)
con = sqlite3.connect(db)
con.execute("PRAGMA wal_autocheckpoint=0")
assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
hnum = con.execute("SELECT hnum FROM Name WHERE key = ?", (delname,)).fetchone()[0]
with open(addhdr, "rb") as f:
    blob = f.read()
with con:
    con.execute("DELETE FROM Packages WHERE hnum = ?", (hnum,))
    con.execute("DELETE FROM Name WHERE hnum = ?", (hnum,))
    con.execute("INSERT INTO Packages(blob) VALUES (?)", (blob,))
shutil.copy(db, os.path.join(outdir, "rpmdb.sqlite"))
shutil.copy(db + "-wal", os.path.join(outdir, "rpmdb.sqlite-wal"))
con.close()
shutil.rmtree(tmp)
