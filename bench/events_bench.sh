#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Event-pattern matcher benchmark: generates the shared corpus (200,000 events, 33 rule files)
# with ../shared/bench/make-events into build/bench-events when absent, runs
# `vigil events bench` (release build) on every rule file, checks the total and per-rule match
# counts against event-ruler's (../shared/bench/expected-matches*.json) and prints a markdown
# table with events/s and the ratio to event-ruler's throughput.
#   bench/events_bench.sh [--vigil PATH] [--repeat N] [--only KIND-N]
# Exit status 1 when any count differs.
set -euo pipefail
cd "$(dirname "$0")/.."

vigil=build/release/vigil
repeat=1
only=""
while [ $# -gt 0 ]; do
    case "$1" in
    --vigil) vigil=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    *) echo "usage: $0 [--vigil PATH] [--repeat N] [--only KIND-N]" >&2; exit 2 ;;
    esac
done

shared=../shared/bench
corpus=build/bench-events
if [ ! -s "$corpus/events.jsonl" ]; then
    echo "generating the corpus into $corpus ..." >&2
    python3 "$shared/make-events" "$corpus" >&2
fi
if [ "$vigil" = build/release/vigil ] && [ ! -x "$vigil" ]; then
    make -s BUILD=release all >&2
fi

if ! "$vigil" events --help >/dev/null 2>&1; then
    echo "$vigil has no 'events' command; pass --vigil with a binary that has one" >&2
    exit 2
fi

python3 - "$vigil" "$corpus" "$shared" "$repeat" "$only" <<'EOF'
import json, os, subprocess, sys

vigil, corpus, shared, repeat, only = sys.argv[1:6]
expected = json.load(open(os.path.join(shared, "expected-matches.json")))
per_rule = json.load(open(os.path.join(shared, "expected-matches-per-rule.json")))
# event-ruler's events/s on this corpus (one core), where known
ruler = {"exact-5": 217000, "exact-1000": 112000, "anything-but-1000": 55000,
         "wildcard-1000": 26000, "mixed-1000": 23000}
kinds = ["exact", "prefix", "suffix", "anything-but", "numeric", "exists", "equals-ignore-case",
         "wildcard", "cidr", "or", "mixed"]
rows, bad = [], 0
for kind in kinds:
    for n in (5, 100, 1000):
        name = f"{kind}-{n}"
        if only and name != only:
            continue
        out = subprocess.run([vigil, "events", "bench", "--rules", f"{corpus}/rules/{name}.json",
                              "--events", f"{corpus}/events.jsonl", "--repeat", repeat,
                              "--per-rule"], check=True, capture_output=True, text=True).stdout
        lines = out.splitlines()
        kv = dict(l.split(" ", 1) for l in lines if not l.startswith("{"))
        counts = json.loads(next(l for l in lines if l.startswith("{")))
        total = int(kv["matches"])
        eps = float(kv["events_per_second"])
        diff = [r for r, c in counts.items() if per_rule.get(r) != c]
        ok = total == expected[name] and not diff and int(kv["invalid"]) == 0
        bad += not ok
        ratio = f"{eps / ruler[name]:.1f}x" if name in ruler else ""
        rows.append((name, total, expected[name], "yes" if ok else f"NO ({len(diff)} rules differ)",
                     eps, ratio))
        print(f"{name}: {total} matches ({'ok' if ok else 'MISMATCH'}), {eps:,.0f} events/s",
              file=sys.stderr)
print("| rule file | matches | event-ruler | equal (total and per rule) | events/s | vs event-ruler |")
print("|---|---:|---:|---|---:|---:|")
for name, total, exp, ok, eps, ratio in rows:
    print(f"| {name} | {total:,} | {exp:,} | {ok} | {eps:,.0f} | {ratio} |")
sys.exit(1 if bad else 0)
EOF
