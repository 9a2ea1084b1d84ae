# SPDX-License-Identifier: Apache-2.0
"""The scenario vigil exists for, end to end with real clients: /usr/bin/aws creates the
repository, the SNS topic and its e-mail subscription (the confirmation mail is read from the
real SMTP sink and its link followed), the EventBridge rule and its target with the input
transformer of DESIGN.md; `aws ecr get-login-password` logs skopeo in; skopeo pushes
debian-vuln:bookworm-oldpkgs; the scan on push publishes `ECR Image Scan`; the rule matches and
the formatted mail arrives with the repository and the severity counts that
describe-image-scan-findings reports. The same with no transformer delivers the raw event JSON,
and an http subscriber receives the SNS JSON, signed (checked with openssl against the
certificate at SigningCertURL)."""

import base64
import email
import email.policy
import http.server
import json
import mailbox
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse
import urllib.request

from vigil_e2e import IMAGES, REPO, require_images
from vigil_server import Server

SHARED = os.path.join(REPO, "..", "shared")
SINK = os.path.join(SHARED, "tools", "smtp-sink")
AWS = "/usr/bin/aws"
ACCOUNT = "123456789012"

TEMPLATE = ('"<detailtype> for <repository> at <time>"\n'
            '"Repository: <repository>"\n'
            '"CRITICAL: <CRITICAL>"\n'
            '"HIGH: <HIGH>"\n'
            '"リポジトリ <repository> のスキャンが完了しました"')
PATHS = {"CRITICAL": "$.detail.finding-severity-counts.CRITICAL",
         "HIGH": "$.detail.finding-severity-counts.HIGH",
         "detailtype": "$.detail-type",
         "repository": "$.detail.repository-name",
         "time": "$.time"}


class Receiver(http.server.BaseHTTPRequestHandler):
    got = []

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        Receiver.got.append(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *a):
        pass


def wait_for(pred, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.2)
    raise AssertionError("timed out after %ds waiting for %s" % (timeout, what))


class SeedScenario(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        require_images()
        cls.tmp = tempfile.mkdtemp(prefix="vigil-e2e-seed-")
        cls.mail = os.path.join(cls.tmp, "mail")
        p = subprocess.run(["/usr/bin/python3", SINK, "start", "--dir", cls.mail],
                           capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            raise AssertionError("smtp-sink did not start: " + p.stderr)
        with open(os.path.join(cls.mail, "port")) as f:
            cls.smtp_port = int(f.read().strip())
        cls.creds = os.path.join(cls.tmp, "credentials")
        with open(cls.creds, "w") as f:
            f.write("[default]\naws_access_key_id = AKIDSEEDTEST\n"
                    "aws_secret_access_key = seed-secret\n")
        cls.srv = Server(args=["--aws-credentials", cls.creds, "--account-id", ACCOUNT,
                               "--region", "us-east-1",
                               "--smtp-url", "smtp://127.0.0.1:%d" % cls.smtp_port,
                               "--mail-from", "vigil@example.test",
                               "--delivery-retry-scale", "0.01"]).start()
        cls.env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDSEEDTEST",
                       AWS_SECRET_ACCESS_KEY="seed-secret", AWS_DEFAULT_REGION="us-east-1",
                       AWS_PAGER="", AWS_MAX_ATTEMPTS="1",
                       AWS_CONFIG_FILE=os.path.join(cls.tmp, "none"),
                       AWS_SHARED_CREDENTIALS_FILE=os.path.join(cls.tmp, "none"))
        Receiver.got = []
        cls.web = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
        threading.Thread(target=cls.web.serve_forever, daemon=True).start()

    @classmethod
    def tearDownClass(cls):
        cls.web.shutdown()
        cls.srv.stop()
        subprocess.run(["/usr/bin/python3", SINK, "stop", "--dir", cls.mail],
                       capture_output=True, timeout=60)
        shutil.rmtree(cls.tmp, ignore_errors=True)
        shutil.rmtree(cls.srv.data_dir, ignore_errors=True)

    def aws(self, *args, check=True):
        p = subprocess.run([AWS, "--endpoint-url", self.srv.url] + list(args), env=self.env,
                           capture_output=True, text=True, timeout=120)
        if check and p.returncode != 0:
            raise AssertionError("aws %s -> %d\n%s" % (" ".join(args), p.returncode, p.stderr))
        return json.loads(p.stdout) if p.stdout.strip().startswith(("{", "[")) else p.stdout

    def messages(self):
        box = mailbox.Maildir(self.mail, factory=None, create=False)
        out = []
        for key in box.iterkeys():
            with open(os.path.join(self.mail, "new", key) if os.path.exists(
                    os.path.join(self.mail, "new", key)) else box._lookup(key), "rb") as f:
                pass
        for key, msg in box.items():
            raw = msg.as_bytes()
            out.append(email.message_from_bytes(raw, policy=email.policy.default))
        return out

    def body(self, m):
        part = m.get_body(preferencelist=("plain",))
        return part.get_content()

    def test_seed_scenario(self):
        repo = "seed/app"
        self.aws("ecr", "create-repository", "--repository-name", repo,
                 "--image-scanning-configuration", "scanOnPush=true")
        topic = self.aws("sns", "create-topic", "--name", "scan-alerts")["TopicArn"]
        self.assertEqual(topic, "arn:aws:sns:us-east-1:%s:scan-alerts" % ACCOUNT)
        sub = self.aws("sns", "subscribe", "--topic-arn", topic, "--protocol", "email",
                       "--notification-endpoint", "ops@example.com")
        self.assertEqual(sub["SubscriptionArn"], "pending confirmation")

        # the confirmation mail and its link
        conf = wait_for(lambda: [m for m in self.messages()
                                 if "Subscription Confirmation" in str(m["Subject"])],
                        30, "the confirmation mail")[0]
        self.assertEqual(str(conf["To"]), "ops@example.com")
        link = re.search(r"(http://\S+confirmation\.html\?\S+)", self.body(conf)).group(1)
        with urllib.request.urlopen(link, timeout=30) as r:
            self.assertEqual(r.status, 200)
        subs = self.aws("sns", "list-subscriptions-by-topic", "--topic-arn", topic)
        self.assertTrue(subs["Subscriptions"][0]["SubscriptionArn"].startswith(topic + ":"))

        # http subscriber (auto-confirmed through its SubscribeURL)
        hook = "http://127.0.0.1:%d/hook" % self.web.server_address[1]
        self.aws("sns", "subscribe", "--topic-arn", topic, "--protocol", "http",
                 "--notification-endpoint", hook)
        confirm = wait_for(lambda: [b for h, b in Receiver.got
                                    if h.get("x-amz-sns-message-type") ==
                                    "SubscriptionConfirmation"], 30, "SubscriptionConfirmation")
        doc = json.loads(confirm[0])
        with urllib.request.urlopen(doc["SubscribeURL"], timeout=30) as r:
            self.assertEqual(r.status, 200)

        # rule + transformer target, and a second rule with the raw event
        pattern = json.dumps({"source": ["aws.ecr"], "detail-type": ["ECR Image Scan"]})
        arn = self.aws("events", "put-rule", "--name", "scan-done", "--event-pattern",
                       pattern)["RuleArn"]
        self.assertEqual(arn, "arn:aws:events:us-east-1:%s:rule/scan-done" % ACCOUNT)
        targets = [{"Id": "mail", "Arn": topic,
                    "InputTransformer": {"InputPathsMap": PATHS, "InputTemplate": TEMPLATE}}]
        r = self.aws("events", "put-targets", "--rule", "scan-done", "--targets",
                     json.dumps(targets))
        self.assertEqual(r["FailedEntryCount"], 0)
        self.aws("events", "put-rule", "--name", "scan-raw", "--event-pattern", pattern)
        self.aws("events", "put-targets", "--rule", "scan-raw", "--targets",
                 json.dumps([{"Id": "raw", "Arn": topic}]))

        # log in with the ECR token and push
        pw = self.aws("ecr", "get-login-password").strip()
        auth = os.path.join(self.tmp, "auth.json")
        subprocess.run(["skopeo", "login", "--tls-verify=false", "-u", "AWS", "--password-stdin",
                        "--authfile", auth, self.srv.host], input=pw, text=True, check=True,
                       capture_output=True, timeout=60)
        t_push = time.time()
        p = subprocess.run(["skopeo", "copy", "-q", "--dest-tls-verify=false", "--authfile", auth,
                            "oci:%s:debian-vuln:bookworm-oldpkgs" % IMAGES,
                            "docker://%s/%s:v1" % (self.srv.host, repo)],
                           capture_output=True, text=True, timeout=300)
        self.assertEqual(p.returncode, 0, p.stderr + self.srv.log_tail())

        # the formatted mail
        def formatted():
            return [m for m in self.messages() if "Repository: " in self.body(m)]
        m = wait_for(formatted, 120, "the formatted scan mail")[0]
        print("\nscan mail %.1f s after the push finished" % (time.time() - t_push))
        text = self.body(m)
        self.assertEqual(str(m["Subject"]), "AWS Notification Message")
        counts = self.aws("ecr", "describe-image-scan-findings", "--repository-name", repo,
                          "--image-id", "imageTag=v1")["imageScanFindings"][
                              "findingSeverityCounts"]
        lines = text.splitlines()
        self.assertIn('"Repository: %s"' % repo, lines)
        self.assertIn('"CRITICAL: %s"' % counts.get("CRITICAL", ""), lines)
        self.assertIn('"HIGH: %s"' % counts.get("HIGH", ""), lines)
        self.assertIn('"リポジトリ %s のスキャンが完了しました"' % repo, lines)
        self.assertTrue(lines[0].startswith('"ECR Image Scan for %s at ' % repo), lines[0])
        self.assertIn("unsubscribe", text.lower())

        # the raw event
        def raw():
            out = []
            for mm in self.messages():
                b = self.body(mm).replace("\r\n", "\n").split("\n--\n")[0].strip()
                if b.startswith("{"):
                    out.append(json.loads(b))
            return out
        ev = wait_for(raw, 60, "the raw event mail")[0]
        self.assertEqual(ev["detail-type"], "ECR Image Scan")
        self.assertEqual(ev["source"], "aws.ecr")
        self.assertEqual(ev["account"], ACCOUNT)
        self.assertEqual(ev["detail"]["repository-name"], repo)
        self.assertEqual(ev["detail"]["scan-status"], "COMPLETE")
        self.assertEqual(ev["detail"]["finding-severity-counts"], counts)

        # the http subscriber got signed notifications
        notes = wait_for(lambda: [(h, b) for h, b in Receiver.got
                                  if h.get("x-amz-sns-message-type") == "Notification"],
                         60, "http notifications")
        h, b = notes[0]
        doc = json.loads(b)
        self.assertEqual(doc["Type"], "Notification")
        self.assertEqual(doc["TopicArn"], topic)
        with urllib.request.urlopen(doc["SigningCertURL"], timeout=30) as r:
            pem = r.read()
        keys = ["Message", "MessageId"] + (["Subject"] if "Subject" in doc else []) + \
            ["Timestamp", "TopicArn", "Type"]
        sts = "".join("%s\n%s\n" % (k, doc[k]) for k in keys)
        cert = os.path.join(self.tmp, "cert.pem")
        with open(cert, "wb") as f:
            f.write(pem)
        pub = subprocess.run(["openssl", "x509", "-in", cert, "-pubkey", "-noout"],
                             capture_output=True, check=True).stdout
        pubf = os.path.join(self.tmp, "pub.pem")
        with open(pubf, "wb") as f:
            f.write(pub)
        sig = os.path.join(self.tmp, "sig")
        with open(sig, "wb") as f:
            f.write(base64.b64decode(doc["Signature"]))
        digest = "-sha1" if doc["SignatureVersion"] == "1" else "-sha256"
        v = subprocess.run(["openssl", "dgst", digest, "-verify", pubf, "-signature", sig],
                           input=sts.encode(), capture_output=True)
        self.assertEqual(v.returncode, 0, v.stdout + v.stderr)


if __name__ == "__main__":
    unittest.main()
