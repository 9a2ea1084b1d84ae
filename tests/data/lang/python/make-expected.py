#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Write expected.tsv next to this script: for each Python fixture here, the packages a
reader independent of vigil finds in it (FILE <TAB> NAME <TAB> VERSION, names normalised as
PEP 503 says), which tests/unit/test_lang_pyrb.c compares with src/pkgdb/python.c.

  dist-packages/**/METADATA, PKG-INFO, *.egg-info   email.parser (Name, Version headers)
  *.lock (poetry)                                    tomllib, [[package]] name and version
  Pipfile.lock                                       json, default + develop entries with "=="
  requirements*.txt                                  pip's own parse_requirements, kept when
                                                     packaging's SpecifierSet is one == or ===
                                                     without a wildcard

The fixtures under dist-packages/ are real files: from the polyglot:bookworm test image
(usr/lib/python3/dist-packages) and, for the single-file egg-info, Debian's python3-rpm.
Run with Debian's /usr/bin/python3 (python3-pip, python3-packaging, Python >= 3.11).
"""

import email.parser
import json
import os
import re
import sys
import tomllib

from packaging.requirements import Requirement
from pip._internal.network.session import PipSession
from pip._internal.req.req_file import parse_requirements

HERE = os.path.dirname(os.path.abspath(__file__))


def pep503(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def metadata(path):
    with open(path, "rb") as f:
        msg = email.parser.BytesHeaderParser().parse(f)
    return [(msg["Name"], msg["Version"])]


def poetry(path):
    with open(path, "rb") as f:
        doc = tomllib.load(f)
    return [(p["name"], p["version"]) for p in doc.get("package", [])]


def pipfile(path):
    with open(path) as f:
        doc = json.load(f)
    out = []
    for sec in ("default", "develop"):
        for name, ent in doc.get(sec, {}).items():
            if "version" in ent:
                out.append((name, ent["version"].lstrip("=")))
    return out


def requirements(path):
    out = []
    for pr in parse_requirements(path, session=PipSession()):
        if pr.is_editable:
            continue
        try:
            req = Requirement(pr.requirement)
        except Exception:
            continue  # paths and URLs
        specs = list(req.specifier)
        if req.url or len(specs) != 1:
            continue
        s = specs[0]
        if s.operator in ("==", "===") and "*" not in s.version:
            out.append((req.name, s.version))
    return out


def main():
    rows = []
    for root, dirs, files in os.walk(HERE):
        dirs.sort()
        for fn in sorted(files):
            full = os.path.join(root, fn)
            rel = os.path.relpath(full, HERE)
            if fn in ("METADATA", "PKG-INFO") or fn.endswith(".egg-info"):
                pkgs = metadata(full)
            elif fn == "Pipfile.lock":
                pkgs = pipfile(full)
            elif fn.endswith(".lock"):
                pkgs = poetry(full)
            elif fn.startswith("requirements") and fn.endswith(".txt"):
                pkgs = requirements(full)
            else:
                continue
            rows.extend((rel, pep503(n), v) for n, v in pkgs)
    with open(os.path.join(HERE, "expected.tsv"), "w") as f:
        f.write("# FILE\tNAME\tVERSION, written by make-expected.py (independent readers)\n")
        for r in rows:
            f.write("\t".join(r) + "\n")
    print("%d packages" % len(rows), file=sys.stderr)


if __name__ == "__main__":
    main()
