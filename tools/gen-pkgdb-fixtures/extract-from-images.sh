#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Copy real package databases and release files out of the test images (OCI layout made by
# ../shared/tools/make-test-images) into tests/data/pkgdb/. Run from the repository root,
# before make-dpkg-fixtures.sh and make-rpm-fixtures.sh, which build on these files.
#   VIGIL_IMAGES   OCI layout directory (default build/test-images, see scripts/test-images.sh)
#   OUT            destination (default tests/data/pkgdb)
set -euo pipefail
IMAGES=${VIGIL_IMAGES:-$(cd "$(dirname "$0")/../.." && pwd)/build/test-images}
OUT=${OUT:-tests/data/pkgdb}
mkdir -p "$OUT"

blob() { echo "$IMAGES/blobs/${1/://}"; }

# manifest digest of a ref, from index.json
manifest_of() {
    jq -r --arg r "$1" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $r) | .digest' \
        "$IMAGES/index.json"
}

# extract_file REF PATH DEST: take PATH from the topmost layer of REF that has it
extract_file() {
    local ref=$1 path=$2 dest=$3 m layers l tmp
    m=$(manifest_of "$ref")
    layers=$(jq -r '.layers[].digest' "$(blob "$m")" | tac)
    tmp=$(mktemp -d)
    for l in $layers; do
        if tar -xf "$(blob "$l")" -C "$tmp" "$path" 2>/dev/null; then
            cp "$tmp/$path" "$dest"
            rm -rf "$tmp"
            echo "$ref:$path -> $dest ($(stat -c %s "$dest") bytes)"
            return 0
        fi
    done
    rm -rf "$tmp"
    echo "$ref: $path not found" >&2
    return 1
}

extract_file debian:bookworm-minbase var/lib/dpkg/status "$OUT/dpkg-status-bookworm"
extract_file debian:bookworm-minbase usr/lib/os-release "$OUT/os-release-debian12"
extract_file debian:bookworm-minbase etc/debian_version "$OUT/debian_version-bookworm"
extract_file alpine-synthetic:3.19.0 lib/apk/db/installed "$OUT/apk-installed-3.19"
extract_file alpine-synthetic:3.19.0 etc/os-release "$OUT/os-release-alpine319"
extract_file alpine-synthetic:3.19.0 etc/alpine-release "$OUT/alpine-release-3.19"
# 232 KiB, mostly empty index pages: kept gzip'd (byte-exact inside) to stay small
extract_file rocky-synthetic:9.3 var/lib/rpm/rpmdb.sqlite "$OUT/rpmdb-rocky93.sqlite"
gzip -9nf "$OUT/rpmdb-rocky93.sqlite"
extract_file rocky-synthetic:9.3 usr/lib/os-release "$OUT/os-release-rocky93"
extract_file rocky-synthetic:9.3 etc/rocky-release "$OUT/rocky-release-9.3"
