#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# First run on a fresh Debian 12 machine: install what is missing, build vigil, build a real
# sample image (Debian bookworm with older openssl, curl and libxml2 builds), and scan it with
# the bundled vulnerability data (imported into the local database on first use).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
scripts/install-deps.sh
make -s -j"$(nproc 2>/dev/null || echo 2)" BUILD=release
images="${VIGIL_TEST_IMAGES:-$top/build/test-images}"
mkdir -p "$images"
echo "quickstart: building the sample image (about a minute the first time)..."
MTI_CACHE="${MTI_CACHE:-$top/build/mti-cache}" "$top/../shared/tools/make-test-images" \
    "$images" base vuln >"$top/build/quickstart-images.log" 2>&1 || {
    echo "quickstart: building the sample image failed; see build/quickstart-images.log" >&2
    exit 1
}
exec build/release/vigil scan "oci:$images:debian-vuln:bookworm-oldpkgs"
