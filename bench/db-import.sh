#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `vigil db import` of all of ../shared/vulndb into a fresh database: wall time, CPU time, peak
# RSS and size on disk (with the largest tables), then the time of re-importing everything
# into the built database (every record unchanged: the incremental path). Exits 1 when the
# fresh import takes longer than TIME_BUDGET seconds or the database is larger than
# SIZE_BUDGET_MB.
#
#   bench/db-import.sh [RUNS]
#   env: VIGIL_BIN (default: a release build made in build/db-import-bench),
#        VIGIL_VULNDB_SRC (default ../shared/vulndb), TIME_BUDGET (60), SIZE_BUDGET_MB (150)
set -euo pipefail

RUNS=${1:-1}
TOP=$(cd "$(dirname "$0")/.." && pwd)
SRC=${VIGIL_VULNDB_SRC:-$TOP/../shared/vulndb}
TIME_BUDGET=${TIME_BUDGET:-60}
SIZE_BUDGET_MB=${SIZE_BUDGET_MB:-150}

if [ -z "${VIGIL_BIN:-}" ]; then
    make -C "$TOP" -s BUILD=release B=build/db-import-bench build/db-import-bench/vigil >&2
    VIGIL_BIN=$TOP/build/db-import-bench/vigil
fi
[ -d "$SRC/osv" ] || { echo "db-import: no vulnerability data in $SRC" >&2; exit 2; }

TMP=$(mktemp -d /tmp/vigil-db-import.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

walls=()
for ((i = 1; i <= RUNS; i++)); do
    rm -f "$TMP"/vulndb.sqlite*
    /usr/bin/time -f '%e %U %S %M' -o "$TMP/time" \
        "$VIGIL_BIN" db import --db "$TMP/vulndb.sqlite" "$SRC" >"$TMP/out" 2>"$TMP/err"
    read -r wall user sys rss <"$TMP/time"
    walls+=("$wall")
    echo "run $i: wall ${wall} s, user ${user} s, sys ${sys} s, peak RSS $((rss / 1024)) MiB"
done
sed 's/^/  /' "$TMP/out"
echo "  ($(grep -c 'level=warn' "$TMP/err" || true) warning lines on stderr)"
median=$(printf '%s\n' "${walls[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
size=$(stat -c %s "$TMP/vulndb.sqlite")
size_mb=$(awk -v s="$size" 'BEGIN {printf "%.1f", s / 1e6}')
src_mb=$(du -sb "$SRC" | awk '{printf "%.1f", $1 / 1e6}')
echo "fresh import: median ${median} s over ${RUNS} run(s); database ${size_mb} MB" \
    "(input ${src_mb} MB gzip'd)"
if command -v sqlite3 >/dev/null; then
    echo "largest tables and indexes (MB):"
    sqlite3 "$TMP/vulndb.sqlite" "SELECT name, ROUND(SUM(pgsize) / 1e6, 1) FROM dbstat
        GROUP BY name ORDER BY SUM(pgsize) DESC LIMIT 6" 2>/dev/null | sed 's/|/  /; s/^/  /' ||
        true
fi
/usr/bin/time -f '%e %U' -o "$TMP/time" \
    "$VIGIL_BIN" db import --db "$TMP/vulndb.sqlite" "$SRC" >"$TMP/out" 2>/dev/null
read -r wall user <"$TMP/time"
echo "re-import (all unchanged): wall ${wall} s, user ${user} s"
sed 's/^/  /' "$TMP/out"

fail=0
awk -v m="$median" -v b="$TIME_BUDGET" 'BEGIN {exit !(m > b)}' &&
    { echo "db-import: ${median} s is over the ${TIME_BUDGET} s budget" >&2; fail=1; }
awk -v s="$size_mb" -v b="$SIZE_BUDGET_MB" 'BEGIN {exit !(s > b)}' &&
    { echo "db-import: ${size_mb} MB is over the ${SIZE_BUDGET_MB} MB budget" >&2; fail=1; }
exit $fail
