#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Write the *.truth files beside the npm fixtures, with readers that share nothing with
# src/pkgdb/npm.c: jq for JSON, awk for yarn v1, PyYAML (Debian python3-yaml) for pnpm and
# yarn berry. Each truth file lists "name<TAB>version", sorted and unique (the C parser
# reports one entry per name and version). The rules, applied the same way everywhere:
# - every entry counts, dev and optional ones included; the project itself does not;
# - local packages (workspace:, link:, portal:, file:, exec:, patch: protocols, link: true
#   entries, pnpm {directory: ...} resolutions) and versions that are URLs or paths (a v1
#   lock's git dependencies) do not;
# - aliases ("npm:real@1.2.3") count under the real name.
#
#     tests/data/lang/npm/make-truth.sh      (from anywhere; needs jq and /usr/bin/python3)
#
# Fixtures: node-app/ is cut from the node-app:vuln-deps test image (/app); real/ was made by
# npm 11 (--lockfile-version 1, 2, 3), yarn 1.22, yarn 4, pnpm 7 (lockfile 5.4), pnpm 8 (6.0)
# and pnpm 9 (9.0) from real/package.json; edge/ is written by hand from the formats' docs.
set -eu
cd "$(dirname "$0")"
PY=${PYTHON:-/usr/bin/python3}

header() { printf '# truth: %s\n' "$1"; }

# package-lock.json: v2/v3 "packages" map, else the v1 "dependencies" tree
lock_truth() {
    jq -r '
      def isver: type == "string" and length > 0 and (test("[:/ ]") | not);
      def v1: to_entries[] | .key as $k | .value |
        ( if (.version | type) == "string" and (.version | startswith("npm:"))
          then (.version | ltrimstr("npm:") | capture("^(?<n>.[^@]*)@(?<v>.+)$") | [.n, .v])
          else [$k, .version] end
          | select(.[1] | isver) ),
        ((.dependencies // {}) | v1);
      if (.packages | type) == "object" and ((.lockfileVersion // 2) >= 2) then
        .packages | to_entries[]
        | select(.key != "" and (.value.link != true) and (.value.version | type) == "string"
                 and (.value.version | length) > 0)
        | select((.value.name | type) == "string" or (.key | test("node_modules/")))
        | [ (if (.value.name | type) == "string" and (.value.name | length) > 0
             then .value.name
             else (.key | capture("^(.*/)?node_modules/(?<n>.+)$").n) end),
            .value.version ]
      else (.dependencies // {}) | v1 end
      | @tsv' "$1"
}

# yarn v1: headers in column 1 ("spec, spec:"), "  version \"x\"" fields
yarn_v1_truth() {
    awk '
      function flush() {
        if (spec != "" && ver != "") {
          at = index(substr(spec, 2), "@") + 1
          name = substr(spec, 1, at - 1); range = substr(spec, at + 1)
          if (range ~ /^(workspace|link|portal|file|exec|patch):/) { spec = ""; return }
          if (range ~ /^npm:/) { r = substr(range, 5); a2 = index(substr(r, 2), "@") + 1; name = substr(r, 1, a2 - 1) }
          if (ver !~ /[:\/ ]/) print name "\t" ver
        }
        spec = ""; ver = ""
      }
      /^#/ || /^[ \t]*$/ { next }
      /^[^ ]/ {
        flush()
        s = $0; sub(/:$/, "", s); sub(/,.*/, "", s); gsub(/"/, "", s); spec = s; next
      }
      /^  version / { v = $0; sub(/^  version /, "", v); gsub(/"/, "", v); ver = v }
      END { flush() }' "$1"
}

yaml_truth() {
    "$PY" - "$1" "$2" <<'EOF'
import sys, re, yaml

kind, path = sys.argv[1], sys.argv[2]
LOCAL = ("workspace:", "link:", "portal:", "file:", "exec:", "patch:")
isver = lambda v: isinstance(v, str) and v != "" and not re.search(r"[:/ ]", v)
out = set()

def split(spec):
    i = spec.index("@", 1)
    return spec[:i], spec[i + 1:]

if kind == "berry":
    doc = yaml.safe_load(open(path, encoding="utf-8"))
    for key, e in doc.items():
        if key == "__metadata":
            continue
        name, ref = split(e["resolution"])
        if ref.startswith(LOCAL):
            continue
        v = ref[4:] if ref.startswith("npm:") else str(e.get("version", ""))
        if isver(v):
            out.add((name, v))
else:
    docs = [d for d in yaml.safe_load_all(open(path, encoding="utf-8"))
            if isinstance(d, dict) and "lockfileVersion" in d]
    doc = docs[-1]
    major = int(str(doc["lockfileVersion"]).split(".")[0])
    for key, e in (doc.get("packages") or {}).items():
        if key.startswith(LOCAL) or "directory" in (e.get("resolution") or {}):
            continue
        k = re.sub(r"\(.*$", "", key.lstrip("/"))
        if major < 6:
            path_, _, kv = k.rpartition("/")
            kv = kv.split("_")[0]
        else:
            path_, _, kv = k.rpartition("@")
        if kv.startswith(LOCAL):
            continue
        segs = path_.split("/")
        kn = "/".join(segs[-2:]) if len(segs) >= 2 and segs[-2].startswith("@") else segs[-1]
        name = str(e.get("name") or kn)
        v = str(e.get("version") or kv)
        if isver(v):
            out.add((name, v))
for n, v in sorted(out):
    print("%s\t%s" % (n, v))
EOF
}

emit() { # truth-file header-text command...
    f=$1; h=$2; shift 2
    { header "$h"; "$@" | LC_ALL=C sort -u; } > "$f"
    echo "$f: $(grep -vc '^#' "$f") packages"
}

for f in node-app/package-lock.json real/package-lock-v1.json real/package-lock-v2.json \
         real/package-lock-v3.json edge/package-lock-v1-edge.json edge/package-lock-v3-edge.json; do
    emit "$f.truth" "jq over $f" lock_truth "$f"
done
for f in real/yarn-v1.lock edge/yarn-v1-edge.lock; do
    emit "$f.truth" "awk over $f" yarn_v1_truth "$f"
done
for f in real/yarn-berry.lock edge/yarn-berry-edge.lock; do
    emit "$f.truth" "PyYAML over $f" yaml_truth berry "$f"
done
for f in real/pnpm-lock-v5.yaml real/pnpm-lock-v6.yaml real/pnpm-lock-v9.yaml \
         edge/pnpm-lock-v5-edge.yaml edge/pnpm-lock-v6-edge.yaml edge/pnpm-lock-v9-edge.yaml; do
    emit "$f.truth" "PyYAML over $f" yaml_truth pnpm "$f"
done

# installed package.json files: path, name, version (files without both are left out)
{
    header "jq over node-app/**/package.json (path, name, version)"
    find node-app -name package.json | LC_ALL=C sort | while read -r f; do
        jq -r --arg f "$f" 'select((.name | type) == "string" and (.name | length) > 0 and
            (.version | type) == "string" and (.version | length) > 0)
            | [$f, .name, .version] | @tsv' "$f"
    done
} > node-app/package-json.truth
echo "node-app/package-json.truth: $(grep -vc '^#' node-app/package-json.truth) files"
