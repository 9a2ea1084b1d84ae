#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Regenerate the version-comparison oracle tables tests/data/versions/{deb,apk,rpm}.txt:
#
#     tools/gen-versions/gen-all.sh
#
# from the repository root or anywhere else. Needs Debian's /usr/bin/python3 with python3-rpm
# (the RPM oracle), dpkg (the Debian oracle), ../shared/vulndb (override with VIGIL_SHARED)
# and the OCI layout of the test images (VIGIL_IMAGES, default build/test-images; without
# it the installed-package versions are left out). The Alpine oracle is
# tools/gen-versions/apk_oracle.py. Pairs are chosen with fixed seeds, so the same data gives
# the same tables. Takes about half a minute (mostly dpkg, run in parallel).
#
# The language ecosystems' oracles need more: node and npm (node-semver for npm and Cargo),
# python3-packaging and python3-pip (PEP 440), ruby (Gem::Version), maven and a JDK
# (ComparableVersion), php-cli and php-composer-semver (Composer), golang-go and
# golang-golang-x-mod-dev (Go); NuGet's oracle is tools/gen-versions/gen_nuget_oracle.py.
# Set OS_ONLY=1 to regenerate deb/apk/rpm only.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
PYTHON=${PYTHON:-/usr/bin/python3}
"$PYTHON" "$here/gen_deb.py"
"$PYTHON" "$here/gen_apk.py"
"$PYTHON" "$here/gen_rpm.py"
[ "${OS_ONLY:-0}" = 1 ] && exit 0
(cd "$here" && npm ci --silent)
node "$here/gen_npm.js"
"$PYTHON" "$here/gen_pep440.py"
ruby "$here/gen_gem.rb"
"$PYTHON" "$here/gen_maven.py"
"$PYTHON" "$here/gen_composer.py"
"$PYTHON" "$here/gen_gomod.py"
"$PYTHON" "$here/gen_cargo.py"
"$PYTHON" "$here/gen_nuget.py"
