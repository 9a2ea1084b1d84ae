#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Print what librpm (python3-rpm) reads from an rpm database, one TSV line per package:
#   name  version([E:]V-R)  arch  src_name  src_version  license  vendor
# This is the independent truth the unit tests compare vigil's own readers with.
# gpg-pubkey pseudo-packages are left out and counted in a leading comment.
# usage: rpm-truth.py BACKEND DBPATH      (BACKEND: sqlite | bdb_ro)
import sys

import rpm

backend, dbpath = sys.argv[1], sys.argv[2]
rpm.addMacro("_db_backend", backend)
rpm.addMacro("_dbpath", dbpath)
ts = rpm.TransactionSet()
ts.setVSFlags(-1)
rows, skipped = [], 0


def s(v):
    if v is None:
        return ""
    return v.decode() if isinstance(v, bytes) else str(v)


for h in ts.dbMatch():
    if s(h["name"]) == "gpg-pubkey":
        skipped += 1
        continue
    e = h["epoch"]
    epfx = "%d:" % e if e is not None else ""
    srpm = s(h["sourcerpm"])
    if srpm:
        base = srpm[: -len(".src.rpm")] if srpm.endswith(".src.rpm") else srpm
        sname, sver, srel = base.rsplit("-", 2)
        src_name, src_version = sname, epfx + sver + "-" + srel
    else:
        src_name = s(h["name"])
        src_version = epfx + s(h["version"]) + "-" + s(h["release"])
    rows.append("\t".join([s(h["name"]), epfx + s(h["version"]) + "-" + s(h["release"]),
                           s(h["arch"]), src_name, src_version, s(h["license"]), s(h["vendor"])]))
ts.closeDB()
print("# truth: python3-rpm %s backend=%s; gpg-pubkey skipped: %d" % (rpm.__version__, backend, skipped))
for r in sorted(rows):
    print(r)
