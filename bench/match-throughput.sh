#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Raw matching throughput of the vulnerability matcher on one core, per ecosystem, with
# `vigil db bench` (hidden subcommand): every package of the ecosystem that has entries, each
# at up to four installed versions taken from its own fixed versions (near the range
# boundaries, so the comparators do real work). Reports
#   raw_checks_per_second     entry evaluations (arow_check with the ecosystem's comparator)
#   match_packages_per_second vulndb_match end to end (SQLite lookup, evaluation, merging,
#                             findings with text and severity)
#   match_rows_per_second     entries evaluated per second inside vulndb_match
# Exits 1 when the raw rate of any ecosystem is under BUDGET (2,000,000 checks/s).
#
#   bench/match-throughput.sh [SECONDS]
#   env: VIGIL_BIN (default: a release build made in build/db-import-bench), VIGIL_DB (a
#        database; default: import ../shared/vulndb into a temporary one), BUDGET
set -euo pipefail

SECONDS_PER=${1:-3}
TOP=$(cd "$(dirname "$0")/.." && pwd)
SRC=${VIGIL_VULNDB_SRC:-$TOP/../shared/vulndb}
BUDGET=${BUDGET:-2000000}

if [ -z "${VIGIL_BIN:-}" ]; then
    make -C "$TOP" -s BUILD=release B=build/db-import-bench build/db-import-bench/vigil >&2
    VIGIL_BIN=$TOP/build/db-import-bench/vigil
fi
TMP=$(mktemp -d /tmp/vigil-match-bench.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
DB=${VIGIL_DB:-}
if [ -z "$DB" ]; then
    DB=$TMP/vulndb.sqlite
    "$VIGIL_BIN" db import --db "$DB" "$SRC" >/dev/null 2>&1
fi

fail=0
for eco in Debian:12 Alpine:v3.19 "Red Hat:enterprise_linux:9" npm; do
    out=$(taskset -c 0 "$VIGIL_BIN" db bench --db "$DB" --ecosystem "$eco" \
        --seconds "$SECONDS_PER" 2>&1) || { echo "$eco: $out" >&2; fail=1; continue; }
    echo "$out" | python3 -c '
import json, sys
r = json.load(sys.stdin)
print("%-28s %6d packages %7d entries  raw %10.0f checks/s  match %8.0f packages/s"
      " (%9.0f entries/s)" % (r["ecosystem"], r["packages"], r["rows"],
      r["raw_checks_per_second"], r["match_packages_per_second"], r["match_rows_per_second"]))
if r["raw_checks_per_second"] < float(sys.argv[1]):
    sys.exit(1)' "$BUDGET" || fail=1
done
exit $fail
