#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The whole test suite, as CI runs it:
#   1. source checks (layering, banned functions, formatting)
#   2. gcc -Werror build, unit tests, end-to-end tests on real images
#   3. ASan+UBSan build: unit tests, end-to-end tests, replay of every fuzz corpus
# Each step prints its result; the script stops at the first failure.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
jobs=$(nproc 2>/dev/null || echo 2)
step() { printf '\n=== %s\n' "$*"; }

step "source checks"
tools/check-src.sh
make -s format-check

step "build (gcc, -Werror)"
make -s -j"$jobs" DEV=1 all build/debug/unit-tests

step "test images"
VIGIL_TEST_IMAGES=$(scripts/test-images.sh)
export VIGIL_TEST_IMAGES

step "unit tests (the real-image ones read VIGIL_TEST_IMAGES)"
make -s DEV=1 check

step "end-to-end tests"
make -s DEV=1 e2e

step "sanitizer build (ASan+UBSan)"
make -s -j"$jobs" SAN=address,undefined all build/san-address-undefined/unit-tests

step "unit tests under ASan+UBSan"
ASAN_OPTIONS=detect_leaks=1 make -s SAN=address,undefined check

step "end-to-end tests under ASan+UBSan"
ASAN_OPTIONS=detect_leaks=0 VIGIL_E2E_QUICK=1 make -s SAN=address,undefined e2e

step "fuzz corpus replay under ASan+UBSan"
make -s -j"$jobs" SAN=address,undefined fuzz-replay

echo
echo "all tests passed"
