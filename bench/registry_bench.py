#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Registry benchmark: vigil serve against Debian's CNCF registry (../shared/tools/
reference-registry) in the same run, alternating one round of ../shared/tools/registry-bench on
each (real skopeo push, re-push, cross-repository mount and pull of one image), then medians per
step and the ratio vigil / CNCF. Also vigil's idle resident memory (fresh, and after the runs).
Needs root (registry-bench hides skopeo's blob-info cache with unshare -m).

  bench/registry_bench.py [--runs N] [--images DIR] [--ref REF] [--vigil BIN] [--out FILE]

Both registries run without authentication and on a fresh data directory."""
import argparse
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("VIGIL_SHARED", os.path.join(os.path.dirname(TOP), "shared"))
TOOLS = os.path.join(SHARED, "tools")
STEPS = ("push", "repush", "mount", "pull")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def one_round(host, images, ref):
    p = subprocess.run([os.path.join(TOOLS, "registry-bench"), host, images, ref, "1"],
                       capture_output=True, text=True, timeout=900)
    if p.returncode != 0:
        raise SystemExit("registry-bench %s failed:\n%s" % (host, p.stderr[-3000:]))
    for line in p.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            doc = json.loads(line[len("BENCH_JSON "):])
            return {s: doc[s]["median"] for s in STEPS}, doc["bytes"]
    raise SystemExit("registry-bench printed no BENCH_JSON line")


def blob_get_seconds(port, repo, ref_layout, ref):
    """Median time of `curl` fetching the image's largest layer from the registry (the server's
    own share of a pull, without skopeo's client-side work)."""
    with open(os.path.join(ref_layout, "index.json")) as f:
        idx = json.load(f)
    m = [x for x in idx["manifests"]
         if x.get("annotations", {}).get("org.opencontainers.image.ref.name") == ref][0]
    with open(os.path.join(ref_layout, "blobs", *m["digest"].split(":"))) as f:
        doc = json.load(f)
    if "layers" not in doc:
        return None
    layer = max(doc["layers"], key=lambda l: l["size"])["digest"]
    times = []
    for _ in range(7):
        p = subprocess.run(["curl", "-sf", "-o", "/dev/null", "-w", "%{time_total}",
                            "http://127.0.0.1:%d/v2/%s/blobs/%s" % (port, repo, layer)],
                           capture_output=True, text=True, timeout=120)
        if p.returncode != 0:
            return None
        times.append(float(p.stdout))
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--images", default=os.environ.get("VIGIL_TEST_IMAGES",
                                                       os.path.join(TOP, "build", "test-images")))
    ap.add_argument("--ref", default="debian:bookworm-minbase")
    ap.add_argument("--vigil", default=os.path.join(TOP, "build", "release", "vigil"))
    ap.add_argument("--out")
    ap.add_argument("--vulndb", help="an imported vulnerability database (default: import "
                    "../shared/vulndb once into build/bench-vulndb.sqlite)")
    a = ap.parse_args()

    vulndb = a.vulndb or os.path.join(TOP, "build", "bench-vulndb.sqlite")
    if not os.path.exists(vulndb):
        subprocess.run([a.vigil, "db", "import", "--db", vulndb, os.path.join(SHARED, "vulndb")],
                       check=True, capture_output=True)
    tmp = tempfile.mkdtemp(prefix="vigil-regbench-")
    ref_port, vig_port = free_port(), free_port()
    subprocess.run([os.path.join(TOOLS, "reference-registry"), "start", str(ref_port),
                    "--fresh"], check=True, capture_output=True)
    port_file = os.path.join(tmp, "port")
    log = open(os.path.join(tmp, "serve.log"), "wb")
    vig = subprocess.Popen([a.vigil, "serve", "--data-dir", os.path.join(tmp, "data"),
                            "--listen", "127.0.0.1:%d" % vig_port, "--anonymous",
                            "--no-access-log", "--port-file", port_file, "--vulndb", vulndb],
                           stdout=log, stderr=log)
    try:
        for _ in range(1200):
            if os.path.exists(port_file):
                break
            time.sleep(0.05)
        else:
            raise SystemExit("vigil serve did not start")
        time.sleep(0.5)
        idle_fresh = rss_kib(vig.pid)
        res = {"vigil": {s: [] for s in STEPS}, "cncf": {s: [] for s in STEPS}}
        size = 0
        for i in range(a.runs):
            order = [("cncf", ref_port), ("vigil", vig_port)]
            if i % 2:
                order.reverse()
            for name, port in order:
                r, size = one_round("127.0.0.1:%d" % port, a.images, a.ref)
                for s in STEPS:
                    res[name][s].append(r[s])
                print("round %d %s: %s" % (i + 1, name, " ".join(
                    "%s %.3fs" % (s, r[s]) for s in STEPS)), file=sys.stderr)
        time.sleep(1.0)
        idle_after = rss_kib(vig.pid)
        # the last pushed repository of each registry holds the image
        repo = "bench/%s" % a.ref.split(":")[0].replace("/", "-")
        blob = {}
        for name, port in (("cncf", ref_port), ("vigil", vig_port)):
            cat = subprocess.run(["curl", "-sf", "http://127.0.0.1:%d/v2/_catalog?n=1000" % port],
                                 capture_output=True, text=True).stdout
            repos = [r for r in json.loads(cat or "{}").get("repositories", [])
                     if r.startswith(repo)]
            blob[name] = blob_get_seconds(port, sorted(repos)[0], a.images, a.ref) \
                if repos else None
    finally:
        vig.send_signal(signal.SIGTERM)
        try:
            vig.wait(20)
        except subprocess.TimeoutExpired:
            vig.kill()
        subprocess.run([os.path.join(TOOLS, "reference-registry"), "stop", str(ref_port)],
                       capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)

    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    out = []
    out.append("### Registry: vigil serve vs CNCF registry 2.8.2 (%s, %.1f MB)\n" % (
        a.ref, size / 1e6))
    out.append("Machine: %s, %d cores, %s. Command: `bench/registry_bench.py --runs %d` "
               "(real skopeo via ../shared/tools/registry-bench, rounds alternating between "
               "the two registries, medians of %d rounds, both without authentication).\n" % (
                   cpu, os.cpu_count(), platform.platform(), a.runs, a.runs))
    out.append("| step | CNCF median s | vigil median s | vigil / CNCF |")
    out.append("|---|---|---|---|")
    summary = {}
    for s in STEPS:
        c = statistics.median(res["cncf"][s])
        v = statistics.median(res["vigil"][s])
        summary[s] = {"cncf": c, "vigil": v, "ratio": v / c if c else 0}
        out.append("| %s | %.3f | %.3f | %.2fx |" % (s, c, v, v / c if c else 0))
    if blob.get("cncf") and blob.get("vigil"):
        out.append("| largest layer GET with curl (server side of a pull) | %.3f | %.3f | %.2fx |"
                   % (blob["cncf"], blob["vigil"], blob["vigil"] / blob["cncf"]))
    out.append("")
    out.append("vigil idle RSS: %.1f MiB fresh, %.1f MiB after the runs.\n" % (
        idle_fresh / 1024, idle_after / 1024))
    text = "\n".join(out)
    print(json.dumps({"bench": "registry", "steps": summary, "idle_rss_kib":
                      [idle_fresh, idle_after]}), file=sys.stderr)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
