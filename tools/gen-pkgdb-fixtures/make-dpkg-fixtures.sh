#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# dpkg fixtures and their truth files, from dpkg-query reading the same data:
#  - dpkg-status.d/: a distroless-style /var/lib/dpkg/status.d built from the real bookworm
#    status (extract-from-images.sh): one file per package named after it, one file holding
#    two stanzas (libgcc-s1 with gcc-12-base), and a <pkg>.md5sums companion as distroless has
#  - *.truth: one line per stanza (every state) as dpkg-query prints it:
#      want eflag status \t package \t version \t arch \t source \t source version \t maintainer
# dpkg-status-edge is hand-written (states, epochs, Source with a version, continuation lines,
# lower-case field names); only its truth file is generated here.
#   OUT  fixture directory (default tests/data/pkgdb)
set -euo pipefail
OUT=$(realpath "${OUT:-tests/data/pkgdb}")
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
FMT='${db:Status-Want} ${db:Status-Eflag} ${db:Status-Status}\t${Package}\t${Version}\t${Architecture}\t${source:Package}\t${source:Version}\t${Maintainer}\n'

truth() { # truth STATUSFILE
    rm -rf "$W/adm" && mkdir "$W/adm" && cp "$1" "$W/adm/status"
    echo "# truth: dpkg-query $(dpkg-query --version | head -1 | sed 's/.* version //') --admindir over $(basename "$1")"
    dpkg-query --admindir="$W/adm" -W -f="$FMT" | LC_ALL=C sort
}

# stanza PKG: print the stanza of PKG from the bookworm status
stanza() {
    awk -v p="$1" 'BEGIN{RS=""; ORS="\n\n"} $0 ~ "(^|\n)Package: " p "\n" {print}' \
        "$OUT/dpkg-status-bookworm"
}

D="$OUT/dpkg-status.d"
rm -rf "$D" && mkdir -p "$D"
for p in base-files libc6 zlib1g bash; do
    stanza "$p" | sed '$d' >"$D/$p"   # one stanza, no trailing blank line
done
{ stanza libgcc-s1; stanza gcc-12-base; } >"$D/libgcc-s1"
# (companion file: distroless ships <pkg>.md5sums beside each stanza file; contents made up)
printf '%s\n' "5e1b2ad8bd8d4b3b7e8ad0a5e2b7a1c9  usr/lib/x86_64-linux-gnu/libz.so.1.2.13" >"$D/zlib1g.md5sums"
for f in base-files libc6 zlib1g bash libgcc-s1; do cat "$D/$f"; echo; done >"$W/joined"

truth "$OUT/dpkg-status-bookworm" >"$OUT/dpkg-status-bookworm.truth"
truth "$OUT/dpkg-status-edge" >"$OUT/dpkg-status-edge.truth"
truth "$W/joined" >"$OUT/dpkg-status.d.truth"
wc -l "$OUT"/dpkg-*.truth
