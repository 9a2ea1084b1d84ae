#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# dpkg fixtures and their truth files:
#  - dpkg-distroless/: a distroless /var/lib/dpkg/status.d (the name avoids .gitignore's *.d)
#    made as distroless makes it:
#    the control fields of real bookworm .debs (`apt-get download`, then `dpkg-deb --field`),
#    which carry NO Status field; one file per package named after it, except libgcc-s1,
#    whose file also holds gcc-12-base's stanza (two stanzas in one file); and real
#    <pkg>.md5sums companions (from the .deb control archive) for two of them
#  - *.truth: one line per stanza:
#      want eflag status \t package \t version \t arch \t source \t source version \t maintainer
#    from dpkg-query --admindir over the status files, and from dpkg-deb --show over the .debs
#    for status.d (whose packages are all installed: distroless writes nothing else)
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

D="$OUT/dpkg-distroless"
rm -rf "$D" && mkdir -p "$D"
(cd "$W" && apt-get download -q base-files libc6 zlib1g libgcc-s1 gcc-12-base tzdata 2>/dev/null)
for deb in "$W"/*.deb; do
    p=$(dpkg-deb --field "$deb" Package)
    case $p in
    gcc-12-base) continue ;; # goes into libgcc-s1's file below
    libgcc-s1) { dpkg-deb --field "$deb"; echo; dpkg-deb --field "$W"/gcc-12-base_*.deb; } >"$D/$p" ;;
    *) dpkg-deb --field "$deb" >"$D/$p" ;;
    esac
    case $p in
    base-files | zlib1g) dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./md5sums >"$D/$p.md5sums" ;;
    esac
done
{
    echo "# truth: dpkg-deb $(dpkg-deb --version | head -1 | sed 's/.* version //') --show over the .debs"
    for deb in "$W"/*.deb; do
        dpkg-deb -W --showformat='install ok installed\t${Package}\t${Version}\t${Architecture}\t${source:Package}\t${source:Version}\t${Maintainer}\n' "$deb"
    done | LC_ALL=C sort
} >"$OUT/dpkg-distroless.truth"

truth "$OUT/dpkg-status-bookworm" >"$OUT/dpkg-status-bookworm.truth"
truth "$OUT/dpkg-status-edge" >"$OUT/dpkg-status-edge.truth"
wc -l "$OUT"/dpkg-*.truth
