#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Build the real test images (../shared/tools/make-test-images) into one OCI layout and print
# its directory. Images already built are kept; a second run takes about a second.
#   VIGIL_TEST_IMAGES  where to put the layout (default build/test-images); must not contain ':'
#   MTI_CACHE          build cache of make-test-images (default build/mti-cache)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
shared="${VIGIL_SHARED:-$top/../shared}"
out="${VIGIL_TEST_IMAGES:-$top/build/test-images}"
export MTI_CACHE="${MTI_CACHE:-$top/build/mti-cache}"
case "$out" in *:*) echo "test-images: '$out' must not contain ':'" >&2; exit 2 ;; esac
mkdir -p "$out" "$MTI_CACHE"
if ! "$shared/tools/make-test-images" "$out" >"$top/build/test-images.log" 2>&1; then
    echo "test-images: make-test-images failed; see build/test-images.log" >&2
    tail -20 "$top/build/test-images.log" >&2
    exit 1
fi
echo "$out"
