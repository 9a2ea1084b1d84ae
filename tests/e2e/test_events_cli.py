# SPDX-License-Identifier: Apache-2.0
"""The EventBridge and SNS control APIs driven by the real aws CLI v2 (/usr/bin/aws
--endpoint-url) against `vigil serve`: every operation and its errors (exit status 254 with the
exception named), auto-pagination across pages, the e-mail subscription flow through
../shared/tools/smtp-sink (the confirmation mail, its link followed with urllib, a Japanese
message body decoded exactly, the unsubscribe link), an http subscriber (a Python http.server
thread) that confirms through SubscribeURL and receives signed notifications whose signatures
verify with `openssl` against the PEM served at SigningCertURL, and an event put on the bus
reaching a mailbox through a rule, an input transformer and a topic.

The server gets the settings `vigil serve` takes for this: --aws-credentials FILE,
--account-id, --region, --public-url (the links in mails and messages) and --smtp-url.
Every wait is bounded; a failure shows the tail of the server's log."""

import datetime
import email
import email.policy
import hashlib
import hmac
import http.client
import http.server
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

from vigil_e2e import REPO
from vigil_server import Server

AWS = "/usr/bin/aws"
ACCT = "135792468024"
REGION = "ap-northeast-1"
AKID, SECRET = "AKIDEVENTSE2E", "events/e2e+Secret0123456789abcdefghijkl"
CLI_ERROR = 254
CMD_TIMEOUT = 120
WAIT = 60  # seconds any delivery may take
SINK = os.environ.get("VIGIL_SMTP_SINK", os.path.join(REPO, "..", "shared", "tools", "smtp-sink"))
SINK_PY = "/usr/bin/python3"  # smtp-sink needs Debian's python3-aiosmtpd
OPENSSL = "openssl"

JP_MESSAGE = ("リポジトリ my-app のスキャンが完了しました。\n"
              "CRITICAL: 3 件、HIGH: 12 件\n"
              "詳細はコンソールで確認してください 🚨\n"
              "=イコール= " + "とても長い行" * 20)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_for(pred, timeout=WAIT, step=0.1):
    deadline = time.time() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.time() >= deadline:
            return None
        time.sleep(step)


def error_code(stderr):
    """The code in 'An error occurred (Code) when calling ...'."""
    m = re.search(r"An error occurred \(([^)]*)\)", stderr)
    return m.group(1) if m else None


def error_message(stderr):
    """The text after 'operation ...: '."""
    m = re.search(r"operation(?: \(reached max retries: \d+\))?: (.*)", stderr, re.S)
    return m.group(1).strip() if m else None


# ---------------------------------------------------------------------------- SigV4 (Query)

def _hmac(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def signed_form_headers(host, body, service="sns"):
    """Headers of a SigV4-signed form POST /, as botocore signs Query requests."""
    amz_date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    ctype = "application/x-www-form-urlencoded; charset=utf-8"
    headers = {"content-type": ctype, "host": host, "x-amz-date": amz_date}
    names = sorted(headers)
    canonical = "\n".join(["POST", "/", "",
                           "".join("%s:%s\n" % (n, headers[n]) for n in names),
                           ";".join(names), hashlib.sha256(body).hexdigest()])
    scope = "%s/%s/%s/aws4_request" % (amz_date[:8], REGION, service)
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                     hashlib.sha256(canonical.encode()).hexdigest()])
    k = _hmac(("AWS4" + SECRET).encode(), amz_date[:8])
    for part in (REGION, service, "aws4_request"):
        k = _hmac(k, part)
    sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    return {"Content-Type": ctype, "X-Amz-Date": amz_date,
            "Authorization": "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s"
                             % (AKID, scope, ";".join(names), sig)}


# ---------------------------------------------------------------------------- helpers

class Sink:
    """smtp-sink in its own directory."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="vigil-e2e-evsink-")
        p = subprocess.run([SINK_PY, SINK, "start", "--dir", self.dir], capture_output=True,
                           text=True, timeout=60)
        if p.returncode != 0:
            raise AssertionError("smtp-sink did not start: %s%s" % (p.stdout, p.stderr))
        with open(os.path.join(self.dir, "port")) as f:
            self.port = int(f.read().strip())

    def close(self):
        subprocess.run([SINK_PY, SINK, "stop", "--dir", self.dir], capture_output=True,
                       timeout=60)
        shutil.rmtree(self.dir, ignore_errors=True)

    def messages(self, rcpt=None):
        """[email.message.EmailMessage] in arrival order, optionally only those to rcpt."""
        idx = os.path.join(self.dir, "index.jsonl")
        out = []
        if not os.path.exists(idx):
            return out
        with open(idx) as f:
            for line in f:
                if not line.strip():
                    continue
                rec = json.loads(line)
                if rcpt and rcpt not in rec.get("rcpt_tos", []):
                    continue
                with open(os.path.join(self.dir, rec["file"]), "rb") as m:
                    out.append(email.message_from_bytes(m.read(), policy=email.policy.default))
        return out

    def wait(self, rcpt, count):
        msgs = wait_for(lambda: len(self.messages(rcpt)) >= count and self.messages(rcpt))
        if not msgs:
            raise AssertionError("no %d mail(s) to %s within %ds (have %d)"
                                 % (count, rcpt, WAIT, len(self.messages(rcpt))))
        return msgs


class Hook:
    """An http subscriber: records every POST (headers, body) and answers 200."""

    def __init__(self):
        self.posts = []
        self.lock = threading.Lock()
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                with outer.lock:
                    outer.posts.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = "http://127.0.0.1:%d/sns-hook" % self.srv.server_address[1]
        self.thread = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.thread.start()

    def of_type(self, t):
        with self.lock:
            return [(h, json.loads(b)) for h, b in self.posts
                    if h.get("x-amz-sns-message-type") == t]

    def wait(self, t, count):
        got = wait_for(lambda: len(self.of_type(t)) >= count and self.of_type(t))
        if not got:
            raise AssertionError("no %d %s POST(s) within %ds" % (count, t, WAIT))
        return got

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


def sns_string_to_sign(msg):
    """AWS's canonical string for an SNS HTTP message."""
    if msg["Type"] == "Notification":
        keys = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
    else:
        keys = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    return "".join("%s\n%s\n" % (k, msg[k]) for k in keys if k in msg)


def openssl_verify(cert_pem, data, sig_b64, version, tmp):
    """True when openssl verifies the signature over data with the certificate's key."""
    cert = os.path.join(tmp, "cert.pem")
    pub = os.path.join(tmp, "pub.pem")
    sig = os.path.join(tmp, "sig.b64")
    sig_bin = os.path.join(tmp, "sig.bin")
    dat = os.path.join(tmp, "data.txt")
    with open(cert, "wb") as f:
        f.write(cert_pem)
    with open(sig, "w") as f:
        f.write(sig_b64 + "\n")
    with open(dat, "wb") as f:
        f.write(data.encode())
    subprocess.run([OPENSSL, "x509", "-in", cert, "-pubkey", "-noout", "-out", pub], check=True,
                   capture_output=True, timeout=30)
    subprocess.run([OPENSSL, "base64", "-d", "-A", "-in", sig, "-out", sig_bin], check=True,
                   capture_output=True, timeout=30)
    digest = "-sha1" if version == "1" else "-sha256"
    p = subprocess.run([OPENSSL, "dgst", digest, "-verify", pub, "-signature", sig_bin, dat],
                       capture_output=True, timeout=30)
    return p.returncode == 0 and b"Verified OK" in p.stdout


def http_get(url, timeout=30):
    """(status, content-type, body bytes) of a GET, errors included."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.headers.get("Content-Type"), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read()


# ---------------------------------------------------------------------------- the tests

class EventsSnsCli(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        if not os.path.exists(SINK):
            raise AssertionError("smtp-sink not found at %s (set VIGIL_SMTP_SINK)" % SINK)
        cls.tmp = tempfile.mkdtemp(prefix="vigil-e2e-events-")
        cls.creds = os.path.join(cls.tmp, "aws-credentials")
        with open(cls.creds, "w") as f:
            f.write("[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n"
                    % (AKID, SECRET))
        cls.home = os.path.join(cls.tmp, "home")
        os.makedirs(cls.home)
        cls.sink = Sink()
        cls.hook = Hook()
        port = free_port()
        cls.public = "http://127.0.0.1:%d" % port
        args = ["--aws-credentials", cls.creds, "--account-id", ACCT, "--region", REGION,
                "--public-url", cls.public, "--smtp-url", "smtp://127.0.0.1:%d" % cls.sink.port,
                "--scan-workers", "0"]
        cls.srv = Server(args=args)
        try:
            cls.srv.start(port=port)
        except Exception:
            cls.sink.close()
            cls.hook.close()
            raise

    @classmethod
    def tearDownClass(cls):
        rc = cls.srv.stop()
        log = cls.srv.log_tail(1 << 20)
        cls.sink.close()
        cls.hook.close()
        shutil.rmtree(cls.srv.data_dir, ignore_errors=True)
        shutil.rmtree(cls.tmp, ignore_errors=True)
        # a sanitizer build reports there; a clean stop exits 0
        for mark in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
            if mark in log:
                i = log.index(mark)
                raise AssertionError("vigil serve: %s\n%s" % (mark, log[max(0, i - 200):i + 3000]))
        if rc != 0:
            raise AssertionError("vigil serve exited with %s:\n%s" % (rc, log[-3000:]))

    # -------------------------------------------------------------- CLI

    def env(self):
        e = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        e.update({"HOME": self.home, "AWS_ACCESS_KEY_ID": AKID, "AWS_SECRET_ACCESS_KEY": SECRET,
                  "AWS_DEFAULT_REGION": REGION, "AWS_MAX_ATTEMPTS": "1",
                  "AWS_RETRY_MODE": "standard", "AWS_PAGER": "",
                  "AWS_CONFIG_FILE": os.path.join(self.home, "no-config"),
                  "AWS_SHARED_CREDENTIALS_FILE": os.path.join(self.home, "no-credentials"),
                  "AWS_EC2_METADATA_DISABLED": "true"})
        return e

    def aws(self, *args, expect=0):
        """`aws ARGS --output json`; returns (parsed stdout or {}, stderr)."""
        argv = [AWS, "--endpoint-url", self.srv.url] + list(args) + ["--output", "json"]
        try:
            p = subprocess.run(argv, env=self.env(), capture_output=True, timeout=CMD_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise AssertionError("%s: no answer within %ds" % (" ".join(args), CMD_TIMEOUT)) \
                from None
        out, err = p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")
        if p.returncode != expect:
            raise AssertionError("aws %s -> exit %d (want %d)\nstdout: %s\nstderr: %s\n"
                                 "server: %s" % (" ".join(args), p.returncode, expect,
                                                 out[-2000:], err[-2000:],
                                                 self.srv.log_tail(1500)))
        return (json.loads(out) if out.strip() else {}), err

    def ok(self, *args):
        return self.aws(*args)[0]

    def fails(self, code, *args, message=None):
        """Require exit 254 with that error code (and message); returns the message."""
        _, err = self.aws(*args, expect=CLI_ERROR)
        self.assertEqual(error_code(err), code, err)
        msg = error_message(err)
        if message is not None:
            self.assertEqual(msg, message, err)
        return msg

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return "file://" + path

    def raw_sns(self, params, sign=True):
        """POST / with a form; returns (status, body text)."""
        body = urllib.parse.urlencode(params).encode()
        h = signed_form_headers(self.srv.host, body) if sign else {
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
        c = http.client.HTTPConnection("127.0.0.1", self.srv.port, timeout=60)
        try:
            c.request("POST", "/", body=body, headers=h)
            r = c.getresponse()
            return r.status, r.read().decode("utf-8", "replace")
        finally:
            c.close()

    def topic(self, name):
        return self.ok("sns", "create-topic", "--name", name)["TopicArn"]

    # -------------------------------------------------------------- EventBridge

    def test_rules(self):
        pat = json.dumps({"source": ["aws.ecr"], "detail-type": ["ECR Image Scan"]})
        out = self.ok("events", "put-rule", "--name", "rules-scan", "--event-pattern", pat,
                      "--description", "ECR scans", "--state", "ENABLED")
        self.assertEqual(out["RuleArn"], "arn:aws:events:%s:%s:rule/rules-scan" % (REGION, ACCT))
        d = self.ok("events", "describe-rule", "--name", "rules-scan")
        self.assertEqual(d["Name"], "rules-scan")
        self.assertEqual(d["Arn"], out["RuleArn"])
        self.assertEqual(d["EventPattern"], pat)
        self.assertEqual(d["State"], "ENABLED")
        self.assertEqual(d["Description"], "ECR scans")
        self.assertEqual(d["EventBusName"], "default")
        self.assertEqual(d["CreatedBy"], ACCT)

        self.ok("events", "disable-rule", "--name", "rules-scan")
        self.assertEqual(self.ok("events", "describe-rule", "--name", "rules-scan")["State"],
                         "DISABLED")
        self.ok("events", "enable-rule", "--name", "rules-scan")
        self.assertEqual(self.ok("events", "describe-rule", "--name", "rules-scan")["State"],
                         "ENABLED")
        # PutRule replaces: a new state and no description
        self.ok("events", "put-rule", "--name", "rules-scan", "--event-pattern", pat,
                "--state", "DISABLED")
        d = self.ok("events", "describe-rule", "--name", "rules-scan")
        self.assertEqual(d["State"], "DISABLED")
        self.assertNotIn("Description", d)

        # auto-pagination: pages of one through all rules with the prefix
        for n in ("rules-a", "rules-b", "rules-c"):
            self.ok("events", "put-rule", "--name", n, "--event-pattern", '{"source":["x"]}')
        names = [r["Name"] for r in self.ok("events", "list-rules", "--name-prefix", "rules-",
                                            "--page-size", "1")["Rules"]]
        self.assertEqual(names, ["rules-a", "rules-b", "rules-c", "rules-scan"])
        page = self.ok("events", "list-rules", "--name-prefix", "rules-", "--max-items", "2")
        self.assertEqual([r["Name"] for r in page["Rules"]], ["rules-a", "rules-b"])
        self.assertIn("NextToken", page)
        rest = self.ok("events", "list-rules", "--name-prefix", "rules-", "--starting-token",
                       page["NextToken"])
        self.assertEqual([r["Name"] for r in rest["Rules"]], ["rules-c", "rules-scan"])

        for n in ("rules-a", "rules-b", "rules-c", "rules-scan"):
            self.ok("events", "delete-rule", "--name", n)
        self.assertEqual(self.ok("events", "list-rules", "--name-prefix", "rules-")["Rules"], [])

    def test_rule_errors(self):
        self.fails("ResourceNotFoundException", "events", "describe-rule", "--name", "nope",
                   message="Rule nope does not exist on EventBus default.")
        self.fails("ResourceNotFoundException", "events", "enable-rule", "--name", "nope",
                   message="Rule nope does not exist on EventBus default.")
        self.fails("ResourceNotFoundException", "events", "put-rule", "--name", "r",
                   "--event-pattern", '{"source":["x"]}', "--event-bus-name", "custom",
                   message="Event bus custom does not exist.")
        msg = self.fails("InvalidEventPatternException", "events", "put-rule", "--name", "r",
                         "--event-pattern", '{"source":[]}')
        self.assertTrue(msg.startswith(
            "Event pattern is not valid. Reason: Empty arrays are not allowed"), msg)
        msg = self.fails("InvalidEventPatternException", "events", "put-rule", "--name", "r",
                         "--event-pattern", '{"detail":{"n":[{"numeric":[">",0,">",1]}]}}')
        self.assertIn("Bad numeric range operator: >", msg)
        self.fails("ValidationException", "events", "put-rule", "--name", "r",
                   message="Parameter(s) ScheduleExpression or EventPattern must be specified.")
        self.fails("ValidationException", "events", "put-rule", "--name", "bad name!",
                   "--event-pattern", '{"source":["x"]}')
        # a rule with targets cannot be deleted
        topic = self.topic("rule-errors")
        self.ok("events", "put-rule", "--name", "with-target", "--event-pattern",
                '{"source":["x"]}')
        self.ok("events", "put-targets", "--rule", "with-target", "--targets",
                json.dumps([{"Id": "t", "Arn": topic}]))
        self.fails("ValidationException", "events", "delete-rule", "--name", "with-target",
                   message="Rule can't be deleted since it has targets.")
        self.ok("events", "delete-rule", "--name", "with-target", "--force")
        self.fails("ResourceNotFoundException", "events", "describe-rule", "--name",
                   "with-target")

    def test_targets(self):
        topic = self.topic("targets")
        self.ok("events", "put-rule", "--name", "tg", "--event-pattern", '{"source":["x"]}')
        targets = [
            {"Id": "t1", "Arn": topic,
             "InputTransformer": {"InputPathsMap": {"repo": "$.detail.repository-name"},
                                  "InputTemplate": '"Repository: <repo>"'},
             "RetryPolicy": {"MaximumRetryAttempts": 4, "MaximumEventAgeInSeconds": 300}},
            {"Id": "t2", "Arn": topic, "InputPath": "$.detail"},
            {"Id": "t3", "Arn": topic, "Input": '{"fixed":true}'},
        ]
        out = self.ok("events", "put-targets", "--rule", "tg", "--targets", json.dumps(targets))
        self.assertEqual(out["FailedEntryCount"], 0)
        self.assertEqual(out["FailedEntries"], [])
        got = self.ok("events", "list-targets-by-rule", "--rule", "tg", "--page-size", "1")
        self.assertEqual(got["Targets"], targets)

        # an ARN vigil cannot deliver to fails alone
        out = self.ok("events", "put-targets", "--rule", "tg", "--targets", json.dumps(
            [{"Id": "q", "Arn": "arn:aws:sqs:%s:%s:queue" % (REGION, ACCT)}]))
        self.assertEqual(out["FailedEntryCount"], 1)
        self.assertEqual(out["FailedEntries"][0]["TargetId"], "q")
        self.assertEqual(out["FailedEntries"][0]["ErrorCode"], "ValidationException")

        self.fails("ValidationException", "events", "put-targets", "--rule", "tg", "--targets",
                   json.dumps([{"Id": "bad", "Arn": topic, "Input": "{}",
                                "InputPath": "$.detail"}]),
                   message="Only one of Input, InputPath, or InputTransformer must be provided "
                           "for target bad.")
        self.fails("ValidationException", "events", "put-targets", "--rule", "tg", "--targets",
                   json.dumps([{"Id": "bad", "Arn": topic, "InputTransformer": {
                       "InputPathsMap": {"a": "$.detail"}, "InputTemplate": '"<b>"'}}]),
                   message="InputTemplate for target bad contains invalid placeholder b.")
        self.fails("ResourceNotFoundException", "events", "put-targets", "--rule", "nope",
                   "--targets", json.dumps([{"Id": "x", "Arn": topic}]),
                   message="Rule nope does not exist on EventBus default.")
        self.fails("ResourceNotFoundException", "events", "list-targets-by-rule", "--rule",
                   "nope")
        # five targets at most
        self.ok("events", "put-targets", "--rule", "tg", "--targets",
                json.dumps([{"Id": "t4", "Arn": topic}, {"Id": "t5", "Arn": topic}]))
        self.fails("LimitExceededException", "events", "put-targets", "--rule", "tg",
                   "--targets", json.dumps([{"Id": "t6", "Arn": topic}]),
                   message="The requested resource exceeds the maximum number allowed.")

        out = self.ok("events", "remove-targets", "--rule", "tg", "--ids", "t1", "t2", "t3",
                      "t4", "t5", "zz")
        self.assertEqual(out["FailedEntryCount"], 1)
        self.assertEqual(out["FailedEntries"][0]["TargetId"], "zz")
        self.assertEqual(out["FailedEntries"][0]["ErrorCode"], "ResourceNotFoundException")
        self.assertEqual(self.ok("events", "list-targets-by-rule", "--rule", "tg")["Targets"], [])
        self.ok("events", "delete-rule", "--name", "tg")

    def test_test_event_pattern(self):
        event = json.dumps({
            "version": "0", "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
            "detail-type": "ECR Image Scan", "source": "aws.ecr", "account": ACCT,
            "time": "2024-01-02T03:04:05Z", "region": REGION,
            "resources": ["arn:aws:ecr:%s:%s:repository/my-app" % (REGION, ACCT)],
            "detail": {"scan-status": "COMPLETE", "repository-name": "my-app",
                       "finding-severity-counts": {"HIGH": 2}}})
        yes = json.dumps({"source": ["aws.ecr"], "detail": {"finding-severity-counts": {
            "$or": [{"CRITICAL": [{"exists": True}]}, {"HIGH": [{"numeric": [">=", 1]}]}]}}})
        no = json.dumps({"detail": {"finding-severity-counts": {
            "CRITICAL": [{"numeric": [">", 0]}]}}})
        self.assertIs(self.ok("events", "test-event-pattern", "--event-pattern", yes,
                              "--event", event)["Result"], True)
        self.assertIs(self.ok("events", "test-event-pattern", "--event-pattern", no,
                              "--event", event)["Result"], False)
        msg = self.fails("InvalidEventPatternException", "events", "test-event-pattern",
                         "--event-pattern", '{"source":[{"NUMERIC":[">",0]}]}', "--event", event)
        self.assertTrue(msg.startswith(
            "Event pattern is not valid. Reason: Unrecognized match type NUMERIC"), msg)
        self.fails("ValidationException", "events", "test-event-pattern", "--event-pattern", yes,
                   "--event", '{"source":"aws.ecr"}', message="Parameter Event is not valid.")
        self.fails("ValidationException", "events", "test-event-pattern", "--event-pattern", yes,
                   "--event", "not json", message="Parameter Event is not valid.")

    def test_put_events(self):
        entries = [
            {"Source": "e2e.put", "DetailType": "Thing", "Detail": json.dumps({"n": 1}),
             "Resources": ["arn:aws:s3:::b"], "Time": "2024-01-02T03:04:05Z"},
            {"DetailType": "Thing", "Detail": "{}"},
            {"Source": "e2e.put", "DetailType": "Thing", "Detail": "[1, 2]"},
            {"Source": "e2e.put", "DetailType": "Thing", "Detail": "{}",
             "EventBusName": "no-such-bus"},
        ]
        out = self.ok("events", "put-events", "--entries", self.write("entries.json",
                                                                      json.dumps(entries)))
        self.assertEqual(out["FailedEntryCount"], 2)
        r = out["Entries"]
        self.assertEqual(len(r), 4)
        self.assertRegex(r[0]["EventId"], r"^[0-9a-f-]{36}$")
        self.assertEqual(r[1], {"ErrorCode": "InvalidArgument", "ErrorMessage":
                                "Parameter Source is not valid. Reason: Source is a required "
                                "argument."})
        self.assertEqual(r[2], {"ErrorCode": "MalformedDetail",
                                "ErrorMessage": "Detail is malformed."})
        self.assertIn("EventId", r[3])  # a bus that does not exist: accepted, dropped
        many = [{"Source": "s", "DetailType": "d", "Detail": "{}"}] * 11
        self.fails("ValidationException", "events", "put-events", "--entries",
                   self.write("many.json", json.dumps(many)))

    # -------------------------------------------------------------- SNS

    def test_topics(self):
        arn = self.topic("topics-one")
        self.assertEqual(arn, "arn:aws:sns:%s:%s:topics-one" % (REGION, ACCT))
        self.assertEqual(self.topic("topics-one"), arn)  # idempotent
        self.ok("sns", "set-topic-attributes", "--topic-arn", arn, "--attribute-name",
                "DisplayName", "--attribute-value", "Scan alerts")
        attrs = self.ok("sns", "get-topic-attributes", "--topic-arn", arn)["Attributes"]
        self.assertEqual(attrs["TopicArn"], arn)
        self.assertEqual(attrs["Owner"], ACCT)
        self.assertEqual(attrs["DisplayName"], "Scan alerts")
        self.assertEqual(attrs["SubscriptionsConfirmed"], "0")
        self.fails("InvalidParameter", "sns", "set-topic-attributes", "--topic-arn", arn,
                   "--attribute-name", "Bogus", "--attribute-value", "1",
                   message="Invalid parameter: AttributeName")
        self.fails("InvalidParameter", "sns", "create-topic", "--name", "topics-one",
                   "--attributes", "DisplayName=other",
                   message="Invalid parameter: Attributes Reason: Topic already exists with "
                           "different attributes")
        self.fails("InvalidParameter", "sns", "create-topic", "--name", "bad name")

        # more than a page (100), created with raw signed requests; the CLI follows NextToken
        for i in range(105):
            st, body = self.raw_sns({"Action": "CreateTopic", "Version": "2010-03-31",
                                     "Name": "topics-page-%03d" % i})
            self.assertEqual(st, 200, body)
        listed = [t["TopicArn"] for t in self.ok("sns", "list-topics")["Topics"]]
        for i in range(105):
            self.assertIn("arn:aws:sns:%s:%s:topics-page-%03d" % (REGION, ACCT, i), listed)
        self.assertEqual(len(listed), len(set(listed)))

        self.ok("sns", "delete-topic", "--topic-arn", arn)
        self.ok("sns", "delete-topic", "--topic-arn", arn)
        self.fails("NotFound", "sns", "get-topic-attributes", "--topic-arn", arn,
                   message="Topic does not exist")

    def test_sns_errors(self):
        topic = self.topic("errors")
        missing = "arn:aws:sns:%s:%s:missing" % (REGION, ACCT)
        self.fails("NotFound", "sns", "publish", "--topic-arn", missing, "--message", "x",
                   message="Topic does not exist")
        self.fails("InvalidParameter", "sns", "subscribe", "--topic-arn", topic, "--protocol",
                   "pigeon", "--notification-endpoint", "x",
                   message="Invalid parameter: Amazon SNS does not support this protocol "
                           "string: pigeon")
        self.fails("InvalidParameter", "sns", "subscribe", "--topic-arn", topic, "--protocol",
                   "https", "--notification-endpoint", "http://example.com/",
                   message="Invalid parameter: Endpoint must match the specified protocol")
        self.fails("InvalidParameter", "sns", "confirm-subscription", "--topic-arn", topic,
                   "--token", "00" * 128, message="Invalid token")
        self.fails("NotFound", "sns", "get-subscription-attributes", "--subscription-arn",
                   topic + ":00000000-0000-4000-8000-000000000000",
                   message="Subscription does not exist")
        self.fails("NotFound", "sns", "unsubscribe", "--subscription-arn",
                   topic + ":00000000-0000-4000-8000-000000000000")
        self.fails("InvalidParameter", "sns", "publish", "--topic-arn", topic, "--message", "x",
                   "--subject", "件名", message="Invalid parameter: Subject")
        self.fails("InvalidParameter", "sns", "publish", "--topic-arn", topic, "--message",
                   self.write("big.txt", "a" * 262145),
                   message="Invalid parameter: Message too long")
        self.fails("InvalidParameter", "sns", "publish", "--topic-arn", topic,
                   "--message-structure", "json", "--message", '{"email":"x"}',
                   message="Invalid parameter: Message Structure - No default entry in JSON "
                           "message body")
        self.fails("InvalidParameter", "sns", "publish", "--message", "x",
                   message="Invalid parameter: TopicArn or TargetArn Reason: no value for "
                           "required parameter")
        # ConfirmSubscription needs no signature (a bad token is the answer, not 403); other
        # operations do
        st, body = self.raw_sns({"Action": "ConfirmSubscription", "Version": "2010-03-31",
                                 "TopicArn": topic, "Token": "ab"}, sign=False)
        self.assertEqual(st, 400, body)
        self.assertIn("<Code>InvalidParameter</Code>", body)
        st, body = self.raw_sns({"Action": "ListTopics", "Version": "2010-03-31"}, sign=False)
        self.assertEqual(st, 403, body)
        self.assertIn("<Code>MissingAuthenticationToken</Code>", body)

    def subscribe_email(self, topic, addr, mails_before=0):
        """Subscribe addr, follow the link in the confirmation mail; returns the ARN."""
        out = self.ok("sns", "subscribe", "--topic-arn", topic, "--protocol", "email",
                      "--notification-endpoint", addr)
        self.assertEqual(out["SubscriptionArn"], "pending confirmation")
        msgs = self.sink.wait(addr, mails_before + 1)
        conf = msgs[mails_before]
        self.assertEqual(conf["Subject"], "AWS Notification - Subscription Confirmation")
        text = conf.get_body(("plain",)).get_content()
        self.assertIn(topic, text)
        m = re.search(r"(https?://\S+/confirmation\.html\?\S+)", text)
        self.assertIsNotNone(m, text)
        link = m.group(1)
        self.assertTrue(link.startswith(self.public + "/confirmation.html?"), link)
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)
        self.assertEqual(q["TopicArn"], [topic])
        self.assertEqual(q["Endpoint"], [addr])
        subs = self.ok("sns", "list-subscriptions-by-topic", "--topic-arn", topic)
        mine = [s for s in subs["Subscriptions"] if s["Endpoint"] == addr]
        self.assertEqual(mine[0]["SubscriptionArn"], "PendingConfirmation")
        status, ctype, body = http_get(link)
        self.assertEqual(status, 200, body)
        self.assertEqual(ctype, "text/html; charset=UTF-8")
        page = body.decode("utf-8")
        self.assertIn("Subscription confirmed!", page)
        subs = self.ok("sns", "list-subscriptions-by-topic", "--topic-arn", topic)
        mine = [s for s in subs["Subscriptions"] if s["Endpoint"] == addr]
        arn = mine[0]["SubscriptionArn"]
        self.assertTrue(arn.startswith(topic + ":"), arn)
        self.assertIn(arn, page)
        # a bad token on the same page is a clear error
        bad = link.replace("Token=", "Token=00")
        status, ctype, body = http_get(bad)
        self.assertEqual(status, 400)
        self.assertIn("Invalid token", body.decode("utf-8"))
        return arn

    def test_email_subscription(self):
        topic = self.topic("mail")
        arn = self.subscribe_email(topic, "ops@example.com")
        attrs = self.ok("sns", "get-subscription-attributes", "--subscription-arn",
                        arn)["Attributes"]
        self.assertEqual(attrs["PendingConfirmation"], "false")
        self.assertEqual(attrs["Protocol"], "email")
        self.assertEqual(attrs["TopicArn"], topic)
        all_subs = self.ok("sns", "list-subscriptions")["Subscriptions"]
        self.assertIn(arn, [s["SubscriptionArn"] for s in all_subs])

        # a Japanese body, an ASCII subject
        out = self.ok("sns", "publish", "--topic-arn", topic, "--subject", "Scan finished",
                      "--message", self.write("jp.txt", JP_MESSAGE))
        self.assertRegex(out["MessageId"], r"^[0-9a-f-]{36}$")
        mail = self.sink.wait("ops@example.com", 2)[1]
        self.assertEqual(mail["Subject"], "Scan finished")
        text = mail.get_body(("plain",)).get_content().replace("\r\n", "\n")
        self.assertTrue(text.startswith(JP_MESSAGE + "\n"), repr(text[:400]))
        m = re.search(r"(https?://\S+/unsubscribe\.html\?\S+)", text)
        self.assertIsNotNone(m, text)
        unsub = m.group(1)
        self.assertTrue(unsub.startswith(self.public + "/unsubscribe.html?"), unsub)
        self.assertEqual(urllib.parse.parse_qs(urllib.parse.urlsplit(unsub).query)
                         ["SubscriptionArn"], [arn])

        # a second subscriber, then the first leaves through the link in its mail
        self.subscribe_email(topic, "dev@example.com")
        status, ctype, body = http_get(unsub)
        self.assertEqual(status, 200, body)
        self.assertIn("Subscription removed!", body.decode("utf-8"))
        status, _, body = http_get(unsub)
        self.assertEqual(status, 404, body)
        left = [s["Endpoint"] for s in self.ok("sns", "list-subscriptions-by-topic",
                                               "--topic-arn", topic)["Subscriptions"]]
        self.assertEqual(left, ["dev@example.com"])
        self.ok("sns", "publish", "--topic-arn", topic, "--message", "after unsubscribe")
        mail = self.sink.wait("dev@example.com", 2)[1]
        self.assertIn("after unsubscribe", mail.get_body(("plain",)).get_content())
        self.assertEqual(len(self.sink.messages("ops@example.com")), 2)

    def check_signed(self, msg, tmp):
        """The message's signature verifies with the certificate at SigningCertURL, and a
        changed message does not."""
        cert_url = msg["SigningCertURL"]
        self.assertTrue(cert_url.startswith(self.public + "/SimpleNotificationService-"),
                        cert_url)
        self.assertTrue(cert_url.endswith(".pem"))
        status, _, pem = http_get(cert_url)
        self.assertEqual(status, 200)
        self.assertTrue(pem.startswith(b"-----BEGIN CERTIFICATE-----"))
        data = sns_string_to_sign(msg)
        self.assertTrue(openssl_verify(pem, data, msg["Signature"], msg["SignatureVersion"], tmp),
                        "signature does not verify: %s" % json.dumps(msg))
        forged = dict(msg, Message=msg["Message"] + "!")
        self.assertFalse(openssl_verify(pem, sns_string_to_sign(forged), msg["Signature"],
                                        msg["SignatureVersion"], tmp))

    def test_http_subscription(self):
        tmp = tempfile.mkdtemp(prefix="vigil-e2e-sig-", dir=self.tmp)
        topic = self.topic("hook")
        out = self.ok("sns", "subscribe", "--topic-arn", topic, "--protocol", "http",
                      "--notification-endpoint", self.hook.url)
        self.assertEqual(out["SubscriptionArn"], "pending confirmation")
        h, conf = self.hook.wait("SubscriptionConfirmation", 1)[0]
        self.assertEqual(conf["Type"], "SubscriptionConfirmation")
        self.assertEqual(conf["TopicArn"], topic)
        self.assertEqual(h["x-amz-sns-topic-arn"], topic)
        self.check_signed(conf, tmp)
        self.assertTrue(conf["SubscribeURL"].startswith(self.public + "/?Action="
                                                        "ConfirmSubscription"))
        status, ctype, body = http_get(conf["SubscribeURL"])
        self.assertEqual(status, 200, body)
        text = body.decode("utf-8")
        self.assertIn("<ConfirmSubscriptionResponse", text)
        sub = re.search(r"<SubscriptionArn>([^<]+)</SubscriptionArn>", text).group(1)
        self.assertTrue(sub.startswith(topic + ":"))

        self.ok("sns", "publish", "--topic-arn", topic, "--subject", "Hook test", "--message",
                self.write("jp2.txt", JP_MESSAGE))
        h, note = self.hook.wait("Notification", 1)[0]
        self.assertEqual(note["Message"], JP_MESSAGE)
        self.assertEqual(note["Subject"], "Hook test")
        self.assertEqual(note["TopicArn"], topic)
        self.assertEqual(note["SignatureVersion"], "1")
        self.assertEqual(h["x-amz-sns-subscription-arn"], sub)
        self.assertEqual(h["x-amz-sns-message-id"], note["MessageId"])
        self.check_signed(note, tmp)

        # SignatureVersion 2 (RSA-SHA256), message attributes and a filter policy: the LOW
        # message is filtered out, the CRITICAL one (published after it) arrives
        self.ok("sns", "set-topic-attributes", "--topic-arn", topic, "--attribute-name",
                "SignatureVersion", "--attribute-value", "2")
        self.ok("sns", "set-subscription-attributes", "--subscription-arn", sub,
                "--attribute-name", "FilterPolicy", "--attribute-value",
                json.dumps({"severity": ["CRITICAL"]}))
        attrs = self.ok("sns", "get-subscription-attributes", "--subscription-arn",
                        sub)["Attributes"]
        self.assertEqual(json.loads(attrs["FilterPolicy"]), {"severity": ["CRITICAL"]})
        self.ok("sns", "publish", "--topic-arn", topic, "--message", "low one",
                "--message-attributes",
                json.dumps({"severity": {"DataType": "String", "StringValue": "LOW"}}))
        self.ok("sns", "publish", "--topic-arn", topic, "--message", "second",
                "--message-attributes",
                json.dumps({"severity": {"DataType": "String", "StringValue": "CRITICAL"}}))
        _, note2 = self.hook.wait("Notification", 2)[1]
        self.assertEqual(note2["Message"], "second")
        self.assertEqual(note2["SignatureVersion"], "2")
        self.assertNotIn("Subject", note2)
        self.assertEqual(note2["MessageAttributes"],
                         {"severity": {"Type": "String", "Value": "CRITICAL"}})
        self.check_signed(note2, tmp)
        self.assertNotIn("low one", [n["Message"] for _, n in self.hook.of_type("Notification")])

        # the UnsubscribeURL
        self.assertTrue(note2["UnsubscribeURL"].startswith(self.public + "/?Action=Unsubscribe"))
        status, _, body = http_get(note2["UnsubscribeURL"])
        self.assertEqual(status, 200, body)
        self.assertIn(b"<UnsubscribeResponse", body)
        self.assertEqual(self.ok("sns", "list-subscriptions-by-topic", "--topic-arn",
                                 topic)["Subscriptions"], [])

    def test_event_to_mailbox(self):
        """put-events -> rule -> input transformer -> topic -> confirmed e-mail subscriber."""
        topic = self.topic("bus-mail")
        self.subscribe_email(topic, "bus@example.com")
        self.ok("events", "put-rule", "--name", "bus-mail", "--event-pattern",
                json.dumps({"source": ["e2e.bus"], "detail-type": ["Scan Done"]}))
        self.ok("events", "put-targets", "--rule", "bus-mail", "--targets", json.dumps([{
            "Id": "mail", "Arn": topic,
            "InputTransformer": {"InputPathsMap": {"repo": "$.detail.repository-name",
                                                   "crit": "$.detail.counts.CRITICAL"},
                                 "InputTemplate": '"Repository: <repo> CRITICAL: <crit>"'}}]))
        entries = [{"Source": "e2e.bus", "DetailType": "Scan Done",
                    "Detail": json.dumps({"repository-name": "my-app", "counts": {"CRITICAL": 3}})},
                   {"Source": "e2e.other", "DetailType": "Scan Done", "Detail": "{}"}]
        out = self.ok("events", "put-events", "--entries",
                      self.write("bus.json", json.dumps(entries)))
        self.assertEqual(out["FailedEntryCount"], 0)
        mail = self.sink.wait("bus@example.com", 2)[1]
        self.assertEqual(mail["Subject"], "AWS Notification Message")
        text = mail.get_body(("plain",)).get_content()
        self.assertTrue(text.startswith('"Repository: my-app CRITICAL: 3"'), text[:200])
        self.ok("events", "remove-targets", "--rule", "bus-mail", "--ids", "mail")
        self.ok("events", "delete-rule", "--name", "bus-mail")


if __name__ == "__main__":
    unittest.main()
