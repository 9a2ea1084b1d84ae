#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Scan service benchmark (bench/rescan_bench.c does the work in-process):

1. continuous re-evaluation: real images are scanned (ENHANCED, CONTINUOUS_SCAN) into a fresh
   data directory, their results (stored inventory, findings, package index rows) are cloned
   under new digests directly in the database up to --images-count, the vulnerability
   database gets an update, and scan_service_rescan() is timed: (a) new advisories for glibc,
   zlib and musl (findings created in every clone), (b) a second update (a fix added, a
   severity changed, one advisory withdrawn: updated and closed), (c) a full re-evaluation of
   every image (what a rebuilt database costs). Target: under 10 s for 10,000 images.
2. scan on push: the time from a manifest PUT's return to the result's COMPLETE (two scan
   workers, cold layer cache, the registry called in-process as the HTTP handler calls it)
   against `vigil scan` of the same image from its OCI layout with a cold cache. Target: at
   most 1.5x. With --server, the same through `vigil serve` (skopeo push, DescribeImageScanFindings
   polled with curl --aws-sigv4).

  bench/rescan_bench.py [--images-count N] [--vulndb PATH] [--layout DIR] [--runs N]
                        [--server] [--out FILE]

The vulnerability database is copied (default: $VIGIL_DATA_DIR or the cache directory's
vulndb.sqlite, else built from ../shared/vulndb); the copy is changed, never the original."""
import argparse
import hashlib
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("VIGIL_SHARED", os.path.join(os.path.dirname(TOP), "shared"))
B = os.path.join(TOP, "build", "rescan-bench")
REFS = ("debian-vuln:bookworm-oldpkgs", "debian:bookworm-minbase", "alpine-synthetic:3.19.0")
PUSH_REF = "debian-vuln:bookworm-oldpkgs"


def run(cmd, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        raise SystemExit("%s failed:\n%s%s" % (" ".join(cmd), p.stdout[-2000:], p.stderr[-3000:]))
    return p.stdout


def build():
    run(["make", "-C", TOP, "-s", "-j2", "BUILD=release", "B=" + B, B + "/libvigil.a",
         B + "/vigil"])
    libs = run(["pkg-config", "--libs", "jansson", "libcurl", "sqlite3", "libcrypto", "libzstd",
                "zlib", "libmicrohttpd"]).split()
    cflags = run(["pkg-config", "--cflags", "jansson", "libcurl", "sqlite3", "libcrypto",
                  "libzstd", "zlib", "libmicrohttpd"]).split()
    run(["cc", "-O2", "-D_GNU_SOURCE", "-I" + os.path.join(TOP, "src")] + cflags +
        ["-o", B + "/rescan_bench", os.path.join(TOP, "bench", "rescan_bench.c"),
         B + "/libvigil.a"] + libs + ["-lisal", "-lpthread", "-lm"])
    return B + "/rescan_bench", B + "/vigil"


def default_vulndb():
    for d in (os.environ.get("VIGIL_DATA_DIR"), os.environ.get("VIGIL_CACHE_DIR"),
              os.path.join(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")),
                           "vigil")):
        if d and os.path.exists(os.path.join(d, "vulndb.sqlite")):
            return os.path.join(d, "vulndb.sqlite")
    return None


def driver(bin_, *args):
    return json.loads(run([bin_] + list(args), timeout=1800).strip().splitlines()[-1])


def osv(id_, eco, name, fixed, modified, **extra):
    events = [{"introduced": "0"}] + ([{"fixed": fixed}] if fixed else [])
    rec = {"id": id_, "modified": modified, "published": "2099-01-01T00:00:00Z",
           "summary": "%s benchmark issue" % name, "details": "Benchmark record for %s." % name,
           "affected": [{"package": {"ecosystem": eco, "name": name},
                         "ranges": [{"type": "ECOSYSTEM", "events": events}]}]}
    rec.update(extra)
    return rec


def import_update(vigil, db, tmp, name, recs):
    path = os.path.join(tmp, name + ".jsonl")
    with open(path, "w") as f:
        for r in recs:
            f.write(json.dumps(r) + "\n")
    run([vigil, "db", "import", "--db", db, path])


def clone(data, count):
    """Copy the seeded results under new digests until `count` images exist."""
    con = sqlite3.connect(os.path.join(data, "vigil.db"))
    con.execute("PRAGMA foreign_keys=ON")
    cur = con.cursor()
    bases = cur.execute("SELECT id, manifest_id FROM scan_results WHERE scan_type = 1"
                        " ORDER BY id").fetchall()
    if not bases:
        raise SystemExit("no seeded results")
    now = int(time.time())
    cur.execute("INSERT INTO repositories (name, created_at) VALUES ('bench/clones', ?)", (now,))
    repo = cur.lastrowid
    t0 = time.time()
    for i in range(count - len(bases)):
        rid, mid = bases[i % len(bases)]
        digest = "sha256:" + hashlib.sha256(b"clone-%d" % i).hexdigest()
        cur.execute("INSERT INTO manifests (repo_id, digest, media_type, size, content,"
                    " created_at) SELECT ?, ?, media_type, size, content, ? FROM manifests"
                    " WHERE id = ?", (repo, digest, now, mid))
        m = cur.lastrowid
        cur.execute("INSERT INTO scan_results (repo_id, manifest_id, digest, scan_type,"
                    " frequency, status, description, requested_at, started_at, completed_at,"
                    " evaluated_at, vuln_updated_at, vuln_import, n_critical, n_high, n_medium,"
                    " n_low, n_informational, n_undefined, inventory) SELECT ?, ?, ?, scan_type,"
                    " frequency, status, description, requested_at, started_at, completed_at,"
                    " evaluated_at, vuln_updated_at, vuln_import, n_critical, n_high, n_medium,"
                    " n_low, n_informational, n_undefined, inventory FROM scan_results"
                    " WHERE id = ?", (repo, m, digest, rid))
        r = cur.lastrowid
        cur.execute("INSERT INTO scan_findings SELECT ?, fkey, vuln_id, severity, status, fix,"
                    " first_at, last_at, updated_at, chash, members FROM scan_findings"
                    " WHERE result_id = ?", (r, rid))
        cur.execute("INSERT INTO scan_pkg_index SELECT eco, name, ? FROM scan_pkg_index"
                    " WHERE result_id = ?", (r, rid))
    con.commit()
    n = cur.execute("SELECT COUNT(*) FROM scan_results").fetchone()[0]
    rows = cur.execute("SELECT COUNT(*) FROM scan_findings").fetchone()[0]
    con.close()
    return n, rows, time.time() - t0


def force_full(data):
    con = sqlite3.connect(os.path.join(data, "vigil.db"))
    con.execute("UPDATE scan_state SET value = value - 100 WHERE key IN"
                " ('rescan_done', 'rescan_target')")
    con.commit()
    con.close()


def cold_cli(vigil, db, layout, ref, tmp, runs):
    times = []
    for i in range(runs):
        cache = os.path.join(tmp, "cli-cache-%d" % i)
        env = dict(os.environ, VIGIL_CACHE_DIR=cache)
        t0 = time.time()
        run([vigil, "scan", "--db", db, "-q", "-f", "enhanced-json", "-o", os.devnull,
             "oci:%s:%s" % (layout, ref)], env=env)
        times.append(time.time() - t0)
    return times


def cold_push(bench, db, layout, ref, tmp, runs):
    times = []
    for i in range(runs):
        data = os.path.join(tmp, "push-%d" % i)
        os.makedirs(data)
        r = driver(bench, "push", data, db, layout, ref, "bench/push")
        if r["status"] not in ("ACTIVE", "COMPLETE"):
            raise SystemExit("push scan ended %s" % r["status"])
        times.append(r["ack_to_complete_seconds"])
    return times


def server_push(vigil, db, layout, ref, tmp, runs):
    """The same through `vigil serve` (--vulndb, --scan-workers 2), a fresh server and data
    directory per run (cold layer cache): skopeo pushes the image (its last request is the
    manifest PUT), then DescribeImageScanFindings is polled with curl's SigV4 signing every
    20 ms until the scan is COMPLETE (an upper bound by the poll step and curl's start-up)."""
    import socket
    akid, secret = "AKIDBENCHBENCHBENCH1", "benchbenchbenchbenchbenchbenchbenchbench"
    creds = os.path.join(tmp, "aws-credentials")
    with open(creds, "w") as f:
        f.write("[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n"
                % (akid, secret))
    times = []
    for i in range(runs):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        data = os.path.join(tmp, "serve-%d" % i)
        port_file = data + ".port"
        log = open(data + ".log", "wb")
        srv = subprocess.Popen([vigil, "serve", "--data-dir", data, "--listen",
                                "127.0.0.1:%d" % port, "--anonymous", "--no-access-log",
                                "--port-file", port_file, "--aws-credentials", creds,
                                "--scan-workers", "2", "--vulndb", db], stdout=log, stderr=log)
        env = dict(os.environ, AWS_ACCESS_KEY_ID=akid, AWS_SECRET_ACCESS_KEY=secret,
                   AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="")
        aws = ["/usr/bin/aws", "--endpoint-url", "http://127.0.0.1:%d" % port, "ecr"]
        try:
            for _ in range(300):
                if os.path.exists(port_file):
                    break
                time.sleep(0.05)
            run(aws + ["put-registry-scanning-configuration", "--scan-type", "ENHANCED",
                       "--rules", '[{"scanFrequency":"SCAN_ON_PUSH","repositoryFilters":'
                       '[{"filter":"*","filterType":"WILDCARD"}]}]'], env=env)
            repo = "bench/srv"
            run(["skopeo", "copy", "-q", "--dest-tls-verify=false", "oci:%s:%s" % (layout, ref),
                 "docker://127.0.0.1:%d/%s:latest" % (port, repo)])
            acked = time.time()
            status = None
            body = json.dumps({"repositoryName": repo, "imageId": {"imageTag": "latest"},
                               "maxResults": 1})
            for _ in range(3000):
                # curl signs with SigV4 itself: no aws CLI start-up inside the measurement
                p = subprocess.run(
                    ["curl", "-s", "--aws-sigv4", "aws:amz:us-east-1:ecr", "--user",
                     "%s:%s" % (akid, secret), "-H",
                     "X-Amz-Target: AmazonEC2ContainerRegistry_V20150921."
                     "DescribeImageScanFindings",
                     "-H", "Content-Type: application/x-amz-json-1.1", "--data", body,
                     "http://127.0.0.1:%d/" % port], capture_output=True, text=True)
                try:
                    status = json.loads(p.stdout)["imageScanStatus"]["status"]
                except (ValueError, KeyError):
                    status = None
                if status in ("COMPLETE", "ACTIVE", "FAILED"):
                    break
                time.sleep(0.02)
            if status not in ("COMPLETE", "ACTIVE"):
                raise SystemExit("server scan ended %s" % status)
            times.append(time.time() - acked)
        finally:
            srv.terminate()
            srv.wait(timeout=30)
    return times


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--images-count", type=int, default=10000)
    ap.add_argument("--vulndb", default=default_vulndb())
    ap.add_argument("--layout", default=os.environ.get("VIGIL_TEST_IMAGES",
                                                       os.path.join(TOP, "build", "test-images")))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--server", action="store_true")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--out")
    a = ap.parse_args()

    bench, vigil = build()
    tmp = tempfile.mkdtemp(prefix="vigil-rescan-bench-")
    res = {"machine": {"cpus": os.cpu_count()}, "images_count": a.images_count}
    try:
        db = os.path.join(tmp, "vulndb.sqlite")
        if a.vulndb:
            shutil.copyfile(a.vulndb, db)
        else:
            run([vigil, "db", "import", "--db", db, os.path.join(SHARED, "vulndb")])
        with open(os.path.join(a.layout, "index.json")) as f:
            have = {m.get("annotations", {}).get("org.opencontainers.image.ref.name")
                    for m in json.load(f)["manifests"]}
        refs = [r for r in REFS if r in have]
        if not refs:
            raise SystemExit("no benchmark image in %s" % a.layout)

        # 1. re-evaluation
        data = os.path.join(tmp, "data")
        os.makedirs(data)
        res["seed"] = {}
        for i, ref in enumerate(refs):
            res["seed"][ref] = driver(bench, "seed", data, db, a.layout, ref, "bench/base%d" % i)
        n, rows, secs = clone(data, a.images_count)
        res["clone"] = {"images": n, "finding_rows": rows, "seconds": round(secs, 1)}
        driver(bench, "rescan", data, db)  # records the current import
        import_update(vigil, db, tmp, "update1", [
            osv("CVE-2099-9001", "Debian:12", "glibc", "2.36-9+deb12u99", "2099-02-01T00:00:00Z",
                severity=[{"type": "CVSS_V3",
                           "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N"}]),
            osv("CVE-2099-9002", "Debian:12", "zlib", None, "2099-02-01T00:00:00Z"),
            osv("CVE-2099-9003", "Alpine:v3.19", "musl", "1.2.4_git20230717-r9",
                "2099-02-01T00:00:00Z"),
        ])
        res["rescan_new_advisories"] = driver(bench, "rescan", data, db)
        import_update(vigil, db, tmp, "update2", [
            osv("CVE-2099-9001", "Debian:12", "glibc", "2.36-9+deb12u99", "2099-03-01T00:00:00Z",
                severity=[{"type": "CVSS_V3",
                           "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]),
            osv("CVE-2099-9002", "Debian:12", "zlib", "1:1.2.13.dfsg-9", "2099-03-01T00:00:00Z"),
            osv("CVE-2099-9003", "Alpine:v3.19", "musl", "1.2.4_git20230717-r9",
                "2099-03-01T00:00:00Z", withdrawn="2099-03-01T00:00:00Z"),
        ])
        res["rescan_changed_withdrawn"] = driver(bench, "rescan", data, db)
        force_full(data)
        res["rescan_full"] = driver(bench, "rescan", data, db)
        worst = max(res[k]["seconds"] for k in ("rescan_new_advisories",
                                                 "rescan_changed_withdrawn", "rescan_full"))
        res["rescan_target_met"] = worst < 10.0

        # 2. push to COMPLETE vs the CLI
        if PUSH_REF in have:
            cli = cold_cli(vigil, db, a.layout, PUSH_REF, tmp, a.runs)
            push = (server_push(vigil, db, a.layout, PUSH_REF, tmp, a.runs) if a.server
                    else cold_push(bench, db, a.layout, PUSH_REF, tmp, a.runs))
            res["push"] = {"ref": PUSH_REF, "mode": "server" if a.server else "in-process",
                           "cli_cold_s": [round(t, 3) for t in cli],
                           "ack_to_complete_s": [round(t, 3) for t in push],
                           "ratio_median": round(statistics.median(push) /
                                                 statistics.median(cli), 2)}
            res["push_target_met"] = res["push"]["ratio_median"] <= 1.5
    finally:
        if not a.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    text = json.dumps(res, indent=2)
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
