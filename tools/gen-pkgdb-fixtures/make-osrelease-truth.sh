#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Truth for the os-release fixtures: what a POSIX shell assigns when it sources each file
# (the os-release specification defines the format as shell-compatible assignments).
# Writes tests/data/pkgdb/os-release-*.truth as KEY=value lines (empty value = unset).
#   OUT  fixture directory (default tests/data/pkgdb)
set -euo pipefail
OUT=${OUT:-tests/data/pkgdb}
for f in "$OUT"/os-release-*; do
    case "$f" in *.truth) continue ;; esac
    {
        echo "# truth: dash sourcing $(basename "$f")"
        env -i dash -c '. "$1"; for k in ID VERSION_ID VERSION_CODENAME NAME PRETTY_NAME ID_LIKE; do
            eval "printf \"%s=%s\n\" $k \"\${$k-}\""; done' sh "$f"
    } >"$f.truth"
done
head -n 20 "$OUT"/os-release-*.truth
