#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# First run on a fresh Debian 12 machine: install what is missing, build vigil, build a real
# sample image (Debian bookworm with older openssl, curl and libxml2 builds), then run the
# server on its embedded defaults: registry and control API on 127.0.0.1:5000, SQLite and
# blobs in the data directory, the bundled vulnerability data imported on first start.
#   VIGIL_DATA_DIR  data directory (default ~/.local/share/vigil)
#   VIGIL_LISTEN    listen address (default 127.0.0.1:5000)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
scripts/install-deps.sh
make -s -j"$(nproc 2>/dev/null || echo 2)" BUILD=release
images="${VIGIL_TEST_IMAGES:-$top/build/test-images}"
mkdir -p "$images"
echo "quickstart: building the sample image (about a minute the first time)..."
MTI_CACHE="${MTI_CACHE:-$top/build/mti-cache}" "$top/../shared/tools/make-test-images" \
    "$images" base vuln >"$top/build/quickstart-images.log" 2>&1 || {
    echo "quickstart: building the sample image failed; see build/quickstart-images.log" >&2
    exit 1
}
data="${VIGIL_DATA_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/vigil}"
listen="${VIGIL_LISTEN:-127.0.0.1:5000}"
cat <<MSG

quickstart: starting 'vigil serve' on http://$listen (data in $data; Ctrl-C stops it).
In another shell, once it says "serving":

  # push the sample image (user 'vigil', password created on first start)
  skopeo copy --dest-tls-verify=false --dest-creds "vigil:\$(cat $data/initial-password)" \\
      oci:$images:debian-vuln:bookworm-oldpkgs docker://$listen/demo/app:1
  # the ECR API with the aws CLI (access key created on first start)
  export AWS_SHARED_CREDENTIALS_FILE=$data/aws-credentials AWS_DEFAULT_REGION=us-east-1
  aws ecr describe-images --endpoint-url http://$listen --repository-name demo/app
  aws ecr start-image-scan --endpoint-url http://$listen --repository-name demo/app --image-id imageTag=1
  aws ecr wait image-scan-complete --endpoint-url http://$listen --repository-name demo/app --image-id imageTag=1
  aws ecr describe-image-scan-findings --endpoint-url http://$listen --repository-name demo/app \\
      --image-id imageTag=1 --query 'imageScanFindings.findings[].[name,severity]' --output text

MSG
exec build/release/vigil serve --data-dir "$data" --listen "$listen"
