#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Install the Debian 12 packages vigil's build and tests need, only those that are missing.
# Usage: scripts/install-deps.sh [--build-only]
set -euo pipefail

build_pkgs=(
    gcc make pkg-config
    libjansson-dev libcurl4-openssl-dev libsqlite3-dev libssl-dev libzstd-dev zlib1g-dev
    libisal-dev libmicrohttpd-dev
)
test_pkgs=(
    clang libclang-rt-14-dev clang-format
    python3 sqlite3 curl jq isal zstd time
    skopeo umoci docker-registry debootstrap buildah podman fuse-overlayfs uidmap crun
    rpm python3-rpm python3-packaging dpkg-dev db5.3-util
    awscli python3-aiosmtpd
    golang-go golang-golang-x-mod-dev maven default-jdk-headless
)

pkgs=("${build_pkgs[@]}")
if [ "${1:-}" != "--build-only" ]; then
    pkgs+=("${test_pkgs[@]}")
fi

# the report-schema and language-reference tests use node and npm (any recent version)
if [ "${1:-}" != "--build-only" ] && ! command -v node >/dev/null 2>&1; then
    pkgs+=(nodejs npm)
fi

missing=()
for p in "${pkgs[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all ${#pkgs[@]} packages present"
    exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
