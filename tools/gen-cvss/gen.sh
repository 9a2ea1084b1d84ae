#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Regenerate tests/data/cvss/*.txt with the reference CVSS calculators (npm, pinned in
# package-lock.json). Run from anywhere; needs node/npm and the real data in ../shared/vulndb
# (override with VIGIL_VULNDB=DIR). Extra arguments go to gen.mjs (e.g. --all-v40 FILE).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ ! -d "$here/node_modules/ae-cvss-calculator" ] || [ ! -d "$here/node_modules/@pandatix/js-cvss" ]; then
    (cd "$here" && npm ci --no-audit --no-fund)
fi
exec node "$here/gen.mjs" "$@"
