#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""vigil benchmarks: each figure is measured against its named reference in the same run and
reported as a ratio, with medians over several runs. Writes a Markdown section to stdout (or
--out FILE) and a JSON line per benchmark to stderr.

  bench/bench.py [--runs N] [--images DIR] [--vigil BIN] [--only NAME,...]

Benchmarks:
  inventory  vigil sbom of debian:bookworm-minbase, cold (no layer cache) vs `igzip -dc` and
             `gzip -dc` of its layer; warm (layer cache) whole process; peak RSS
  scan       vigil scan of debian:bookworm-minbase, cold and warm, vs `igzip -dc`
  import     vigil db import of ../shared/vulndb: time and database size
  match      raw matching throughput (package-version checks per second, one core)
  lang       vigil scan (OS + language packages) of polyglot:bookworm and node-app:vuln-deps,
             cold, vs `igzip -dc` of all their layers; peak RSS
"""
import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("VIGIL_SHARED", os.path.join(os.path.dirname(TOP), "shared"))


def run_timed(cmd, env=None, stdout=subprocess.DEVNULL, shell=False):
    """Wall seconds and peak RSS (KiB) of one run, via GNU time."""
    with tempfile.NamedTemporaryFile("r") as tf:
        full = ["/usr/bin/time", "-f", "%e %M", "-o", tf.name]
        full += ["sh", "-c", cmd] if shell else cmd
        t0 = time.monotonic()
        subprocess.run(full, env=env, stdout=stdout, stderr=subprocess.DEVNULL, check=True)
        wall = time.monotonic() - t0
        _, rss = tf.read().split()
        return wall, int(rss)


def median_runs(cmd, runs, **kw):
    walls, rsss = [], []
    for _ in range(runs):
        w, r = run_timed(cmd, **kw)
        walls.append(w)
        rsss.append(r)
    return statistics.median(walls), max(rsss)


def layer_blob(images, ref):
    with open(os.path.join(images, "index.json")) as f:
        idx = json.load(f)
    for m in idx["manifests"]:
        if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == ref:
            d = m["digest"].split(":", 1)[1]
            with open(os.path.join(images, "blobs", "sha256", d)) as f:
                man = json.load(f)
            layer = man["layers"][0]["digest"].split(":", 1)[1]
            return os.path.join(images, "blobs", "sha256", layer)
    raise SystemExit(f"bench: {ref} not found in {images}")


def machine():
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB RAM, {platform.platform()}"


def bench_inventory(a, out, cmd_name="sbom", label="inventory", extra_args=(), title=None):
    ref = "debian:bookworm-minbase"
    blob = layer_blob(a.images, ref)
    image = f"oci:{a.images}:{ref}"
    cache = tempfile.mkdtemp(prefix="vigil-bench-cache-")
    env = dict(os.environ, VIGIL_CACHE_DIR=cache)
    extra = (["--db", a.db] if cmd_name == "scan" else []) + list(extra_args)
    try:
        # alternate subject and references in every round, so load on a shared machine hits
        # them alike; report medians
        rounds = {"igz": [], "gz": [], "cold": [], "cold_rss": []}
        for _ in range(a.runs):
            rounds["igz"].append(run_timed(f"igzip -dc {blob} > /dev/null", shell=True)[0])
            w, r = run_timed([a.vigil, cmd_name, "--no-cache", "-f", "json"] + extra + [image],
                             env=env)
            rounds["cold"].append(w)
            rounds["cold_rss"].append(r)
            rounds["gz"].append(run_timed(f"gzip -dc {blob} > /dev/null", shell=True)[0])
        igz = statistics.median(rounds["igz"])
        gz = statistics.median(rounds["gz"])
        cold = statistics.median(rounds["cold"])
        cold_rss = max(rounds["cold_rss"])
        subprocess.run([a.vigil, cmd_name, "-f", "json"] + extra + [image], env=env,
                       stdout=subprocess.DEVNULL, check=True)
        warm, warm_rss = median_runs([a.vigil, cmd_name, "-f", "json"] + extra + [image],
                                     a.runs, env=env)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    size = os.path.getsize(blob) / 1e6
    res = dict(bench=label, args=" ".join(extra_args), layer_mb=round(size, 1), igzip_s=round(igz, 3), gzip_s=round(gz, 3),
               cold_s=round(cold, 3), cold_ratio_igzip=round(cold / igz, 2),
               cold_ratio_gzip=round(cold / gz, 2), warm_s=round(warm, 4),
               cold_peak_rss_mib=round(cold_rss / 1024, 1),
               warm_peak_rss_mib=round(warm_rss / 1024, 1))
    print(json.dumps(res), file=sys.stderr)
    what = title or ("full inventory, OS and language packages (`vigil sbom`)"
                     if cmd_name == "sbom" else "scan, OS and language packages (`vigil scan`)")
    out.append(f"### {what} of `{ref}` ({size:.1f} MB gzip layer)\n")
    out.append("| measure | median of %d | reference | ratio |" % a.runs)
    out.append("|---|---|---|---|")
    out.append(f"| cold, no layer cache | {cold:.3f} s | `igzip -dc` {igz:.3f} s | "
               f"{cold / igz:.2f}x |")
    out.append(f"| cold, no layer cache | {cold:.3f} s | `gzip -dc` {gz:.3f} s | "
               f"{cold / gz:.2f}x |")
    out.append(f"| warm, layer cache (whole process) | {warm * 1000:.1f} ms | | |")
    out.append(f"| peak RSS cold / warm | {cold_rss / 1024:.1f} MiB / {warm_rss / 1024:.1f} MiB"
               " | | |\n")


def layer_blobs(images, ref):
    with open(os.path.join(images, "index.json")) as f:
        idx = json.load(f)
    for m in idx["manifests"]:
        if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == ref:
            d = m["digest"].split(":", 1)[1]
            with open(os.path.join(images, "blobs", "sha256", d)) as f:
                man = json.load(f)
            return [os.path.join(images, "blobs", "sha256", l["digest"].split(":", 1)[1])
                    for l in man["layers"]]
    raise SystemExit(f"bench: {ref} not found in {images}")


def bench_lang(a, out):
    out.append("### Enhanced scan (`vigil scan`, OS + language packages), cold\n")
    out.append("| image | layers (gzip) | vigil scan, no layer cache | `igzip -dc` of all layers "
               "| ratio | peak RSS |")
    out.append("|---|---|---|---|---|---|")
    for ref in ("polyglot:bookworm", "node-app:vuln-deps"):
        blobs = layer_blobs(a.images, ref)
        size = sum(os.path.getsize(b) for b in blobs) / 1e6
        cmd_ref = " && ".join(f"igzip -dc {b} > /dev/null" for b in blobs)
        image = f"oci:{a.images}:{ref}"
        igz, cold, rss = [], [], []
        for _ in range(a.runs):
            igz.append(run_timed(cmd_ref, shell=True)[0])
            w, r = run_timed([a.vigil, "scan", "--no-cache", "--db", a.db, "-f", "json",
                              image])
            cold.append(w)
            rss.append(r)
        i, c = statistics.median(igz), statistics.median(cold)
        res = dict(bench="lang", image=ref, layers_mb=round(size, 1), igzip_s=round(i, 3),
                   cold_s=round(c, 3), ratio=round(c / i, 2),
                   peak_rss_mib=round(max(rss) / 1024, 1))
        print(json.dumps(res), file=sys.stderr)
        out.append(f"| `{ref}` | {len(blobs)}, {size:.1f} MB | {c:.3f} s | {i:.3f} s | "
                   f"{c / i:.2f}x | {max(rss) / 1024:.1f} MiB |")
    out.append("")


def bench_import(a, out):
    tmp = tempfile.mkdtemp(prefix="vigil-bench-db-")
    db = os.path.join(tmp, "vulndb.sqlite")
    try:
        wall, rss = run_timed([a.vigil, "db", "import", "--db", db,
                               os.path.join(SHARED, "vulndb")])
        size = sum(os.path.getsize(os.path.join(tmp, f)) for f in os.listdir(tmp))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    src = sum(os.path.getsize(os.path.join(dp, f))
              for dp, _, fs in os.walk(os.path.join(SHARED, "vulndb")) for f in fs)
    res = dict(bench="import", seconds=round(wall, 2), db_mb=round(size / 1e6, 1),
               source_mb=round(src / 1e6, 1), peak_rss_mib=round(rss / 1024, 1))
    print(json.dumps(res), file=sys.stderr)
    out.append("### `vigil db import` of all of `../shared/vulndb` (one run, fresh database)\n")
    out.append("| measure | value | target |")
    out.append("|---|---|---|")
    out.append(f"| time | {wall:.1f} s | under 60 s |")
    out.append(f"| database on disk | {size / 1e6:.1f} MB (from {src / 1e6:.1f} MB of gzip'd "
               "input) | under 150 MB |")
    out.append(f"| peak RSS | {rss / 1024:.1f} MiB | |\n")


def bench_match(a, out):
    r = subprocess.run([a.vigil, "db", "bench", "--db", a.db], capture_output=True, text=True)
    if r.returncode != 0:
        out.append(f"### matching throughput\n\nnot measured: `vigil db bench` failed: "
                   f"{r.stderr.strip()}\n")
        return
    print(r.stdout.strip(), file=sys.stderr)
    out.append("### raw matching throughput (`vigil db bench`, one core)\n")
    out.append("```\n" + r.stdout.strip() + "\n```\n")


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--images", default=os.environ.get("VIGIL_TEST_IMAGES",
                                                      os.path.join(TOP, "build", "test-images")))
    p.add_argument("--vigil", default=os.path.join(TOP, "build", "release", "vigil"))
    p.add_argument("--db", default=None, help="vulnerability database (default: import one)")
    p.add_argument("--only", default="inventory,scan,lang,import,match")
    p.add_argument("--out", default=None)
    a = p.parse_args()
    only = set(a.only.split(","))
    out = [f"Machine: {machine()}  ", f"Date: {time.strftime('%Y-%m-%d')}  ",
           f"Command: `bench/bench.py --runs {a.runs}`\n"]
    tmpdb = None
    if ({"scan", "match", "lang"} & only) and not a.db:
        tmpdb = tempfile.mkdtemp(prefix="vigil-bench-vdb-")
        a.db = os.path.join(tmpdb, "vulndb.sqlite")
        subprocess.run([a.vigil, "db", "import", "--db", a.db, os.path.join(SHARED, "vulndb")],
                       stdout=subprocess.DEVNULL, check=True)
    try:
        if "inventory" in only:
            bench_inventory(a, out, extra_args=["--scanners", "os"],
                            title="inventory of OS packages (`vigil sbom --scanners os`)")
            bench_inventory(a, out)
        if "scan" in only:
            bench_inventory(a, out, cmd_name="scan", label="scan")
        if "lang" in only:
            bench_lang(a, out)
        if "import" in only:
            bench_import(a, out)
        if "match" in only:
            bench_match(a, out)
    finally:
        if tmpdb:
            shutil.rmtree(tmpdb, ignore_errors=True)
    text = "\n".join(out) + "\n"
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
