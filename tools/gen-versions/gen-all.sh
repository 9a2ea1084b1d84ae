#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Regenerate the version-comparison oracle tables tests/data/versions/{deb,apk,rpm}.txt:
#
#     tools/gen-versions/gen-all.sh
#
# from the repository root or anywhere else. Needs Debian's /usr/bin/python3 with python3-rpm
# (the RPM oracle), dpkg (the Debian oracle), ../shared/vulndb (override with VIGIL_SHARED)
# and the OCI layout of the test images (VIGIL_IMAGES, default /tmp/vigil-images; without
# it the installed-package versions are left out). The Alpine oracle is
# tools/gen-versions/apk_oracle.py. Pairs are chosen with fixed seeds, so the same data gives
# the same tables. Takes about half a minute (mostly dpkg, run in parallel).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
PYTHON=${PYTHON:-/usr/bin/python3}
"$PYTHON" "$here/gen_deb.py"
"$PYTHON" "$here/gen_apk.py"
"$PYTHON" "$here/gen_rpm.py"
