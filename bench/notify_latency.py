#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Notification latency: from a scan on push completing in `vigil serve` to the mail it causes
being accepted by a real SMTP relay (../shared/tools/smtp-sink). The path measured: the scan's
transaction commits its result and the `ECR Image Scan` event (transactional outbox); the
delivery worker forwards the outbox row to the SNS topic of the rule's target, makes the
e-mail delivery and sends it; the relay stores the mail and answers 250.

  bench/notify_latency.py [--count K] [--mode sequential|burst] [--vigil BIN]
                          [--images DIR] [--ref REF] [--target-ms 100]

Set-up, through real clients: /usr/bin/aws creates a repository with scanOnPush, an SNS topic
with an e-mail subscription (confirmed through the link in the confirmation mail) and a rule on
`ECR Image Scan` whose target is the topic (the raw event, so each mail names its image
digest). K images are pushed through the registry API: the layers of REF once, then per push a
config blob with a label of its own (so every push is a new manifest digest, scanned anew) and
its manifest under a tag of its own. sequential: push, wait for its mail, push the next (the
latency of an idle server); burst: push all K, then wait for all mails.

Clocks (one machine, CLOCK_REALTIME on both sides):
  scan done   = the timestamp (ms) of the server's log line `sub=scan ... scan of N packages`,
                written right after the scan's transaction (result + event) committed;
                imageScanCompletedAt and the event's `time` have whole seconds only;
  mail done   = `time` of the sink's index.jsonl record (time.time(), us), written after the
                message is on disk (fsync) and just before the relay's 250 reply.
The log timestamps are cut to the millisecond, so each latency may read up to 1 ms long.
Prints markdown (machine, command, percentiles) on stdout; progress goes to stderr."""
import argparse
import email
import email.policy
import hashlib
import http.client
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from datetime import datetime, timezone

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("VIGIL_SHARED", os.path.join(os.path.dirname(TOP), "shared"))
SINK = os.path.join(SHARED, "tools", "smtp-sink")
SINK_PY = "/usr/bin/python3"
AWS = "/usr/bin/aws"
ACCOUNT = "123456789012"
REGION = "us-east-1"
REPO = "bench/notify"
FOOTER = "\n\n--\nIf you wish to stop receiving notifications"
SCAN_LINE = re.compile(r'^ts=(\S+) level=\w+ sub=scan msg="([^"@]+)@(sha256:[0-9a-f]{64}): '
                       r'\w+ scan of (\d+) packages')


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def wait_until(pred, timeout, what, step=0.02):
    deadline = time.time() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.time() > deadline:
            raise SystemExit("timed out after %gs waiting for %s" % (timeout, what))
        time.sleep(step)


def sha256(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def percentile(sorted_vals, p):
    """Nearest-rank percentile of an ascending list."""
    k = max(1, -(-len(sorted_vals) * p // 100))
    return sorted_vals[int(k) - 1]


def parse_ts(ts):
    # 2026-11-24T05:04:49.514Z
    return datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=timezone.utc).timestamp()


class Layout:
    """One image of an OCI layout: manifest, config and layer blobs."""

    def __init__(self, path, ref):
        self.path = path
        with open(os.path.join(path, "index.json")) as f:
            idx = json.load(f)
        desc = [m for m in idx["manifests"]
                if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == ref]
        if not desc:
            raise SystemExit("%s has no ref %s (build it: scripts/test-images.sh, or "
                             "make-test-images DIR alpine)" % (path, ref))
        doc = json.loads(self.blob(desc[0]["digest"]))
        if "manifests" in doc:  # an index: the linux/amd64 image
            m = [x for x in doc["manifests"]
                 if x.get("platform", {}).get("architecture") in ("amd64", None)][0]
            doc = json.loads(self.blob(m["digest"]))
        self.manifest = doc
        self.config = json.loads(self.blob(doc["config"]["digest"]))

    def blob(self, digest):
        algo, hexd = digest.split(":", 1)
        with open(os.path.join(self.path, "blobs", algo, hexd), "rb") as f:
            return f.read()


class Registry:
    """Pushes through the OCI distribution API (anonymous server), one connection."""

    def __init__(self, port):
        self.port = port

    def req(self, method, path, body=None, headers=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            data = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, data
        finally:
            c.close()

    def put_blob(self, repo, data):
        digest = sha256(data)
        st, _, _ = self.req("HEAD", "/v2/%s/blobs/%s" % (repo, digest))
        if st == 200:
            return digest
        st, h, body = self.req("POST", "/v2/%s/blobs/uploads/" % repo)
        if st != 202:
            raise SystemExit("upload start: %d %r" % (st, body[:300]))
        loc = h["location"]
        u = urllib.parse.urlsplit(loc)
        path = u.path + "?" + (u.query + "&" if u.query else "") + "digest=" + digest
        st, _, body = self.req("PUT", path, body=data,
                               headers={"Content-Type": "application/octet-stream"})
        if st != 201:
            raise SystemExit("blob PUT: %d %r" % (st, body[:300]))
        return digest

    def put_manifest(self, repo, tag, data, media_type):
        st, h, body = self.req("PUT", "/v2/%s/manifests/%s" % (repo, tag), body=data,
                               headers={"Content-Type": media_type})
        if st != 201:
            raise SystemExit("manifest PUT: %d %r" % (st, body[:300]))
        return h.get("docker-content-digest")


class Bench:
    def __init__(self, a):
        self.a = a
        self.tmp = tempfile.mkdtemp(prefix="vigil-notify-bench-")
        self.mail = os.path.join(self.tmp, "mail")
        self.data = os.path.join(self.tmp, "data")
        self.proc = None
        self._seen = set()
        self._scan_mails = {}

    # ---------------------------------------------------------------- processes

    def start(self):
        p = subprocess.run([SINK_PY, SINK, "start", "--dir", self.mail, "--quiet"],
                           capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            p = subprocess.run([SINK_PY, SINK, "start", "--dir", self.mail],
                               capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            raise SystemExit("smtp-sink did not start: " + p.stderr)
        with open(os.path.join(self.mail, "port")) as f:
            smtp_port = int(f.read().strip())
        self.creds = os.path.join(self.tmp, "credentials")
        with open(self.creds, "w") as f:
            f.write("[default]\naws_access_key_id = AKIDBENCH\naws_secret_access_key = bench\n")
        os.makedirs(self.data)
        port_file = os.path.join(self.tmp, "port")
        self.log_path = os.path.join(self.tmp, "serve.log")
        argv = [self.a.vigil, "serve", "--data-dir", self.data, "--listen", "127.0.0.1:0",
                "--port-file", port_file, "--anonymous", "--aws-credentials", self.creds,
                "--account-id", ACCOUNT, "--region", REGION,
                "--smtp-url", "smtp://127.0.0.1:%d" % smtp_port,
                "--mail-from", "vigil@example.test", "--no-access-log"]
        if self.a.vulndb:
            argv += ["--vulndb", self.a.vulndb]
        self.log_f = open(self.log_path, "ab")
        self.proc = subprocess.Popen(argv, stdout=self.log_f, stderr=self.log_f,
                                     stdin=subprocess.DEVNULL)
        # the first start may import the bundled vulnerability data
        wait_until(lambda: self.proc.poll() is not None or os.path.exists(port_file), 600,
                   "vigil serve to start", step=0.05)
        if self.proc.poll() is not None:
            raise SystemExit("vigil serve exited:\n" + self.log_tail())
        wait_until(lambda: open(port_file).read().strip(), 10, "the port file")
        self.port = int(open(port_file).read().strip())
        self.url = "http://127.0.0.1:%d" % self.port
        self.env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDBENCH", AWS_SECRET_ACCESS_KEY="bench",
                        AWS_DEFAULT_REGION=REGION, AWS_PAGER="", AWS_MAX_ATTEMPTS="1",
                        AWS_CONFIG_FILE=os.path.join(self.tmp, "none"),
                        AWS_SHARED_CREDENTIALS_FILE=os.path.join(self.tmp, "none"))

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        subprocess.run([SINK_PY, SINK, "stop", "--dir", self.mail], capture_output=True,
                       timeout=60)
        if not self.a.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)
        else:
            log("kept %s" % self.tmp)

    def log_tail(self, n=3000):
        with open(self.log_path, "rb") as f:
            return f.read()[-n:].decode("utf-8", "replace")

    def aws(self, *args):
        p = subprocess.run([AWS, "--endpoint-url", self.url] + list(args), env=self.env,
                           capture_output=True, text=True, timeout=120)
        if p.returncode != 0:
            raise SystemExit("aws %s -> %d\n%s\n%s" % (" ".join(args), p.returncode, p.stderr,
                                                       self.log_tail()))
        out = p.stdout.strip()
        return json.loads(out) if out.startswith(("{", "[")) else out

    # ---------------------------------------------------------------- mail

    def mails(self):
        """[(index record, parsed message)] for every stored mail."""
        out = []
        try:
            with open(os.path.join(self.mail, "index.jsonl")) as f:
                recs = [json.loads(l) for l in f if l.strip()]
        except FileNotFoundError:
            return out
        for r in recs:
            path = os.path.join(self.mail, r["file"])
            if not os.path.exists(path):
                continue  # the index is written just before the rename
            with open(path, "rb") as f:
                m = email.message_from_bytes(f.read(), policy=email.policy.default)
            out.append((r, m))
        return out

    def scan_mails(self):
        """{image digest: index record} of the raw-event mails (each mail parsed once)."""
        try:
            with open(os.path.join(self.mail, "index.jsonl")) as f:
                recs = [json.loads(l) for l in f if l.strip()]
        except FileNotFoundError:
            return dict(self._scan_mails)
        for r in recs:
            if r["file"] in self._seen:
                continue
            path = os.path.join(self.mail, r["file"])
            if not os.path.exists(path):
                continue  # the index is written just before the rename
            self._seen.add(r["file"])
            with open(path, "rb") as f:
                m = email.message_from_bytes(f.read(), policy=email.policy.default)
            body = m.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")
            i = body.find(FOOTER)
            if i < 0:
                continue
            try:
                ev = json.loads(body[:i])
            except ValueError:
                continue
            if ev.get("detail-type") == "ECR Image Scan":
                self._scan_mails.setdefault(ev["detail"]["image-digest"], r)
        return dict(self._scan_mails)

    def scan_lines(self):
        """{digest: log timestamp (s)} of the scan-completed log lines of REPO."""
        out = {}
        with open(self.log_path, "rb") as f:
            for line in f.read().decode("utf-8", "replace").splitlines():
                mm = SCAN_LINE.match(line)
                if mm and mm.group(2) == REPO:
                    out[mm.group(3)] = parse_ts(mm.group(1))
        return out

    # ---------------------------------------------------------------- the run

    def setup(self):
        self.aws("ecr", "create-repository", "--repository-name", REPO,
                 "--image-scanning-configuration", "scanOnPush=true")
        topic = self.aws("sns", "create-topic", "--name", "scan-mail")["TopicArn"]
        self.aws("sns", "subscribe", "--topic-arn", topic, "--protocol", "email",
                 "--notification-endpoint", "ops@example.com")

        def confirmation():
            for _, m in self.mails():
                if "Subscription Confirmation" in str(m["Subject"]):
                    t = m.get_body(preferencelist=("plain",)).get_content()
                    mm = re.search(r"(http://\S+confirmation\.html\?\S+)", t)
                    if mm:
                        return mm.group(1)
            return None
        link = wait_until(confirmation, 30, "the confirmation mail")
        with urllib.request.urlopen(link, timeout=30) as r:
            if r.status != 200:
                raise SystemExit("confirmation link: HTTP %d" % r.status)
        pattern = json.dumps({"source": ["aws.ecr"], "detail-type": ["ECR Image Scan"]})
        self.aws("events", "put-rule", "--name", "scan-done", "--event-pattern", pattern)
        r = self.aws("events", "put-targets", "--rule", "scan-done", "--targets",
                     json.dumps([{"Id": "mail", "Arn": topic}]))
        if r["FailedEntryCount"]:
            raise SystemExit("put-targets: %s" % r)

    def run(self):
        a = self.a
        lay = Layout(a.images, a.ref)
        reg = Registry(self.port)
        for layer in lay.manifest["layers"]:
            reg.put_blob(REPO, lay.blob(layer["digest"]))
        media_type = lay.manifest.get("mediaType", "application/vnd.oci.image.manifest.v1+json")
        nonce = "%d" % time.time_ns()
        pushed = []  # (digest, time the manifest PUT returned)
        # one warm-up push (first scan opens the database, fills caches): not counted
        for i in range(a.count + 1):
            cfg = json.loads(json.dumps(lay.config))
            cfg.setdefault("config", {}).setdefault("Labels", {})
            cfg["config"]["Labels"] = dict(cfg["config"]["Labels"] or {},
                                           **{"bench.notify.seq": "%s-%d" % (nonce, i)})
            cb = json.dumps(cfg, separators=(",", ":")).encode()
            man = json.loads(json.dumps(lay.manifest))
            man["config"] = dict(man["config"], digest=reg.put_blob(REPO, cb), size=len(cb))
            mb = json.dumps(man, separators=(",", ":")).encode()
            digest = sha256(mb)
            got = reg.put_manifest(REPO, "n%d" % i, mb, media_type)
            if got and got != digest:
                raise SystemExit("manifest digest %s, expected %s" % (got, digest))
            pushed.append((digest, time.time()))
            if a.mode == "sequential" or i == 0:
                wait_until(lambda: digest in self.scan_mails(), 60,
                           "the mail of push %d (%s)" % (i, digest))
                log("push %d/%d: mail arrived" % (i, a.count))
        wait_until(lambda: len(set(d for d, _ in pushed) & set(self.scan_mails())) ==
                   len(pushed), 300, "every mail")
        wait_until(lambda: len(set(d for d, _ in pushed) & set(self.scan_lines())) ==
                   len(pushed), 10, "every scan log line")
        mails, scans = self.scan_mails(), self.scan_lines()
        rows = []
        for digest, t_push in pushed[1:]:
            rows.append({"digest": digest, "scan": scans[digest], "mail": mails[digest]["time"],
                         "push": t_push})
        return rows


def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "?"
    try:
        with open("/proc/meminfo") as f:
            mem = "%.0f GiB" % (int(f.readline().split()[1]) / 1048576)
    except OSError:
        pass
    return "%s, %d CPUs, %s RAM, Linux %s" % (cpu, os.cpu_count() or 0, mem, platform.release())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--count", type=int, default=20, help="pushes measured (default 20)")
    ap.add_argument("--mode", choices=("sequential", "burst"), default="sequential")
    ap.add_argument("--vigil", default=os.path.join(TOP, "build", "release", "vigil"))
    ap.add_argument("--images", default=os.environ.get("VIGIL_TEST_IMAGES") or
                    os.path.join(TOP, "build", "test-images"))
    ap.add_argument("--ref", default="alpine-synthetic:3.19.0")
    ap.add_argument("--vulndb", help="vulnerability database (default: the server's)")
    ap.add_argument("--target-ms", type=float, default=100.0, help="p99 target (report only)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    a = ap.parse_args()
    a.vigil = os.path.abspath(a.vigil)
    if not os.access(a.vigil, os.X_OK):
        raise SystemExit("no vigil binary at %s (make BUILD=release)" % a.vigil)
    b = Bench(a)
    try:
        b.start()
        b.setup()
        rows = b.run()
    finally:
        b.stop()

    lat = sorted((r["mail"] - r["scan"]) * 1000 for r in rows)
    tot = sorted((r["mail"] - r["push"]) * 1000 for r in rows)
    neg = [x for x in lat if x < 0]
    if neg:
        raise SystemExit("a mail before its scan line (%s ms): clocks disagree" % neg)

    def line(name, v):
        return "| %s | %d | %.1f | %.1f | %.1f | %.1f | %.1f |" % (
            name, len(v), percentile(v, 50), percentile(v, 95), percentile(v, 99), max(v),
            sum(v) / len(v))
    p99 = percentile(lat, 99)
    print("### Notification latency: scan done -> mail accepted by the SMTP relay\n")
    print("Machine: %s. Date: %s." % (machine(), time.strftime("%Y-%m-%d")))
    print("Command: `bench/notify_latency.py %s` (vigil: `%s`).\n" % (
        " ".join(sys.argv[1:]), os.path.relpath(a.vigil, TOP)))
    print("%d pushes of `%s` (each a new manifest), %s, one warm-up push not counted; "
          "relay: smtp-sink (fsync per mail).\n" % (len(rows), a.ref, a.mode))
    print("| interval (ms) | n | p50 | p95 | p99 | max | mean |")
    print("|---|---|---|---|---|---|---|")
    print(line("scan committed -> mail accepted", lat))
    print(line("manifest PUT answered -> mail accepted", tot))
    print("\np99 %.1f ms; target p99 < %g ms: %s" % (p99, a.target_ms,
                                                     "met" if p99 < a.target_ms else "NOT met"))


if __name__ == "__main__":
    main()
