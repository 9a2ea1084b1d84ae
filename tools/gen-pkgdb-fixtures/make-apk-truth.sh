#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Truth for apk installed-db fixtures, read with awk (apk-tools is not packaged for Debian 12):
# one TSV line per record: name  version  arch  origin  license  maintainer
# usage: make-apk-truth.sh INSTALLED > INSTALLED.truth
set -euo pipefail
echo "# truth: awk over $(basename "$1"), records separated by blank lines"
awk 'BEGIN { RS = ""; FS = "\n"; OFS = "\t" }
{
    P = V = A = o = L = m = ""
    for (i = 1; i <= NF; i++) {
        k = substr($i, 1, 2); v = substr($i, 3)
        if (k == "P:") P = v; else if (k == "V:") V = v; else if (k == "A:") A = v
        else if (k == "o:") o = v; else if (k == "L:") L = v; else if (k == "m:") m = v
    }
    if (P != "") print P, V, A, o, L, m
}' "$1" | LC_ALL=C sort
