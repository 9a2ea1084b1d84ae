#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Layer walk cost against the decompression floor: times `vigil layer ls --count BLOB` (ISA-L
# inflate + tar walk + recording every entry) and `igzip -dc BLOB > /dev/null` on the
# debian:bookworm-minbase gzip layer, interleaved in the same run; then the zstd variant
# against `zstd -dc`. Prints medians, the ratio and peak RSS; exits 1 when the gzip ratio is
# over the budget (1.5) or the peak RSS over 64 MiB.
#
#   bench/layer-walk.sh [RUNS]
#   env: VIGIL_BIN (default: a release build made in build/layer-walk),
#        VIGIL_TEST_IMAGES (OCI layout from ../shared/tools/make-test-images,
#        default build/test-images), BUDGET (default 1.5), RSS_BUDGET_KB (default 65536)
# The blob is read once by each tool before timing, so both run from the page cache.
set -euo pipefail

RUNS=${1:-7}
TOP=$(cd "$(dirname "$0")/.." && pwd)
IMAGES=${VIGIL_TEST_IMAGES:-$TOP/build/test-images}
BUDGET=${BUDGET:-1.5}
RSS_BUDGET_KB=${RSS_BUDGET_KB:-65536}

if [ -z "${VIGIL_BIN:-}" ]; then
    make -C "$TOP" -s BUILD=release B=build/layer-walk build/layer-walk/vigil >&2
    VIGIL_BIN=$TOP/build/layer-walk/vigil
fi
command -v igzip >/dev/null || { echo "layer-walk: igzip missing (apt-get install -y isal)" >&2; exit 2; }
command -v zstd >/dev/null || { echo "layer-walk: zstd missing (apt-get install -y zstd)" >&2; exit 2; }

# first layer of an image in the OCI layout
layer_of() {
    python3 - "$IMAGES" "$1" <<'EOF'
import json, os, sys
top, ref = sys.argv[1], sys.argv[2]
idx = json.load(open(os.path.join(top, "index.json")))
for m in idx["manifests"]:
    if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == ref:
        man = json.load(open(os.path.join(top, "blobs", "sha256", m["digest"][7:])))
        print(os.path.join(top, "blobs", "sha256", man["layers"][0]["digest"][7:]))
        sys.exit(0)
sys.exit("layer-walk: %s not in %s" % (ref, top))
EOF
}

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# one timed run: prints "SECONDS PEAK_RSS_KB"
timed() {
    local t0 t1
    t0=$EPOCHREALTIME
    /usr/bin/time -f %M -o "$TMP/rss" "$@" >/dev/null
    t1=$EPOCHREALTIME
    echo "$(echo "$t1 - $t0" | bc -l) $(cat "$TMP/rss")"
}

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# compare NAME BLOB REFERENCE-COMMAND...
compare() {
    local name=$1 blob=$2
    shift 2
    "$VIGIL_BIN" layer ls --count "$blob" >/dev/null
    "$@" "$blob" >/dev/null
    : >"$TMP/v"
    : >"$TMP/r"
    for _ in $(seq "$RUNS"); do
        timed "$VIGIL_BIN" layer ls --count "$blob" >>"$TMP/v"
        timed "$@" "$blob" >>"$TMP/r"
    done
    local vt rt vr rr ratio
    vt=$(cut -d' ' -f1 "$TMP/v" | median)
    rt=$(cut -d' ' -f1 "$TMP/r" | median)
    vr=$(cut -d' ' -f2 "$TMP/v" | sort -n | tail -n1)
    rr=$(cut -d' ' -f2 "$TMP/r" | sort -n | tail -n1)
    ratio=$(echo "$vt / $rt" | bc -l)
    printf '%-5s %-40s vigil %.3f s (peak RSS %d KiB)  %s %.3f s (%d KiB)  ratio %.2f\n' \
        "$name" "$(basename "$blob" | cut -c1-12)... $(du -m "$blob" | cut -f1) MB" \
        "$vt" "$vr" "$1" "$rt" "$rr" "$ratio"
    echo "$ratio $vr" >"$TMP/$name.result"
}

GZ=$(layer_of debian:bookworm-minbase)
echo "layer walk, median of $RUNS runs, $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
"$VIGIL_BIN" layer ls --count "$GZ" | tr '\n' ' ' | sed 's/^/minbase: /'
echo
compare gzip "$GZ" igzip -dc
if ZST=$(layer_of debian:bookworm-minbase-zstd 2>/dev/null); then
    compare zstd "$ZST" zstd -q -dc
fi

read -r ratio rss <"$TMP/gzip.result"
status=0
if [ "$(echo "$ratio > $BUDGET" | bc -l)" = 1 ]; then
    echo "FAIL: gzip ratio $ratio over the budget $BUDGET"
    status=1
fi
if [ "$rss" -gt "$RSS_BUDGET_KB" ]; then
    echo "FAIL: peak RSS $rss KiB over $RSS_BUDGET_KB KiB"
    status=1
fi
[ $status = 0 ] && echo "ok: within ${BUDGET}x of igzip and ${RSS_BUDGET_KB} KiB"
exit $status
