#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Make tests/data/lang/rust/auditable.elf: a cargo-auditable-like binary made here, NOT built
# by cargo-auditable (which Debian 12 does not package): a tiny C program compiled with gcc
# and stripped, with a ".dep-v0" section added by objcopy that holds auditable.json
# compressed with zlib (the format cargo-auditable writes: zlib-wrapped deflate of the
# {"packages": [...]} JSON). Also auditable-none.elf, the same program without the section.
# Needs gcc, binutils and python3; run from anywhere.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf 'int main(void) { return 0; }\n' >"$tmp/main.c"
gcc -Os -s -o "$tmp/main" "$tmp/main.c"
python3 -c 'import sys, zlib; sys.stdout.buffer.write(zlib.compress(open(sys.argv[1], "rb").read(), 9))' \
    "$here/auditable.json" >"$tmp/dep-v0"
objcopy --add-section .dep-v0="$tmp/dep-v0" --set-section-flags .dep-v0=readonly,data \
    "$tmp/main" "$here/auditable.elf"
cp "$tmp/main" "$here/auditable-none.elf"
ls -l "$here"/auditable*.elf
