#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Source rules that the compiler does not check:
#  - layering: a module includes only modules below it (base < store < version, pkgdb, image <
#    vulndb < scan < registry, events < deliver < api, http < cli); MHD types stay in src/http;
#    deliver sits above events because it delivers what the event bus produced (outbox rows,
#    SNS filter policies use the event-pattern matcher);
#  - banned functions (strcpy strcat sprintf strtok atoi gets sscanf strncpy);
#  - every C file starts with an SPDX line.
set -uo pipefail
cd "$(dirname "$0")/.."
fail=0

rank() {
    case "$1" in
    base) echo 0 ;; store) echo 1 ;;
    version | pkgdb | image) echo 2 ;;
    vulndb) echo 3 ;; scan) echo 4 ;;
    registry | events) echo 5 ;; deliver) echo 6 ;;
    api | http) echo 7 ;; cli) echo 8 ;;
    *) echo 99 ;;
    esac
}

for f in src/*/*.c src/*/*.h; do
    [ -e "$f" ] || continue
    mod=$(basename "$(dirname "$f")")
    r=$(rank "$mod")
    while IFS= read -r inc; do
        dep=${inc%%/*}
        [ "$dep" = "$inc" ] && continue # same-directory include
        [ "$dep" = "$mod" ] && continue
        dr=$(rank "$dep")
        if [ "$dr" -ge "$r" ]; then
            echo "$f: includes $inc: module '$mod' may not depend on '$dep'"
            fail=1
        fi
    done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f")
    if [ "$mod" != http ] && grep -q 'microhttpd\.h' "$f"; then
        echo "$f: libmicrohttpd is used only inside src/http"
        fail=1
    fi
    head -1 "$f" | grep -q 'SPDX-License-Identifier' || { echo "$f: missing SPDX line"; fail=1; }
done

banned='\b(strcpy|strcat|sprintf|vsprintf|strtok|atoi|atol|gets|sscanf|strncpy)[[:space:]]*\('
if grep -nE "$banned" src/*/*.c src/*/*.h fuzz/*.c tests/unit/*.c 2>/dev/null | grep -v '^\s*//'; then
    echo "banned function used (see STYLE.md)"
    fail=1
fi

[ $fail -eq 0 ] && echo "check-src: ok"
exit $fail
