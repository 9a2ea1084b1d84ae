# SPDX-License-Identifier: Apache-2.0
"""End-to-end checks of delivery (`vigil deliver mail|webhook|sns|sns-cert`) against a real SMTP
server and a real HTTP receiver.

- SMTP: ../shared/tools/smtp-sink (aiosmtpd, run with /usr/bin/python3; --starttls, --auth,
  --reject-rcpt) writes a Maildir; Python's `mailbox` and `email` (policy.default) read what
  vigil sent, so the Japanese subject and body are decoded by an independent MIME parser.
- HTTP: a small http.server receiver in this process records requests and answers with the
  status the path asks for (/status/503, /sleep/3, ...).
- SNS signatures are checked with the `openssl` command against the certificate vigil made,
  over a string-to-sign that this file rebuilds from the JSON fields as AWS documents it.

Env: VIGIL_BIN (the binary), VIGIL_SMTP_SINK (default ../shared/tools/smtp-sink beside the
repository). Skips only when the binary has no `deliver` command yet.
"""

import base64
import email
import email.policy
import hashlib
import hmac
import http.server
import json
import mailbox
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

from vigil_e2e import REPO, VIGIL_BIN, run

SINK = os.environ.get("VIGIL_SMTP_SINK",
                      os.path.join(REPO, "..", "shared", "tools", "smtp-sink"))
SINK_PY = "/usr/bin/python3"  # Debian's python3-aiosmtpd lives there

JP_SUBJECT = ("【重要】脆弱性スキャン結果: リポジトリ my-app に CRITICAL 3 件、HIGH 12 件の脆弱性が"
              "見つかりました。詳細はコンソールで確認してください 🚨")
JP_BODY = ("リポジトリ my-app のスキャンが完了しました。\n"
           "CRITICAL: 3\nHIGH: 12\n\n"
           "詳細: https://console.example.com/ecr/repositories/my-app?tab=scan&x=1\n"
           "末尾の空白   \n"
           ".ドットで始まる行\n"
           "=イコール= " + "とても長い行" * 30 + " 😀\n")

TOPIC = "arn:aws:sns:us-east-1:123456789012:scan-results"
SUB = TOPIC + ":c9135db0-26c4-47ec-8998-413945fb5a96"


def deliver_registered():
    r = run(["deliver", "--help"], timeout=30)
    return r.rc == 0 and b"vigil deliver" in r.out


def setUpModule():
    if not deliver_registered():
        msg = ("`vigil deliver` is not registered in %s (src/cli/main.c does not list it yet): "
               "the delivery end-to-end tests were NOT run" % VIGIL_BIN)
        sys.stderr.write("\n*** %s ***\n" % msg)
        raise unittest.SkipTest(msg)
    if not os.path.exists(SINK):
        raise AssertionError("smtp-sink not found at %s (set VIGIL_SMTP_SINK)" % SINK)


def parse_outcome(res):
    """outcome, code and detail from `outcome=... code=N detail="..."`."""
    line = res.out.decode("utf-8", "replace").strip().splitlines()[-1]
    if not line.startswith("outcome="):
        raise AssertionError("no outcome line: " + res.describe())
    outcome, rest = line[len("outcome="):].split(" ", 1)
    code, detail = rest.split(" ", 1)
    return outcome, int(code[len("code="):]), detail[len('detail="'):-1]


class Sink:
    """One smtp-sink instance in its own directory."""

    def __init__(self, *opts):
        self.dir = tempfile.mkdtemp(prefix="vigil-e2e-sink-")
        p = subprocess.run([SINK_PY, SINK, "start", "--dir", self.dir, "--quiet"] + list(opts),
                           capture_output=True, timeout=60)
        if p.returncode != 0:
            raise AssertionError("smtp-sink did not start: %s" % p.stderr.decode()[-500:])
        with open(os.path.join(self.dir, "port")) as f:
            self.port = int(f.read().strip())
        self.running = True

    def stop(self):
        if self.running:
            subprocess.run([SINK_PY, SINK, "stop", "--dir", self.dir], capture_output=True,
                           timeout=60)
            self.running = False

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def messages(self):
        """[(envelope record, email.message.EmailMessage, raw bytes)] in arrival order."""
        idx = os.path.join(self.dir, "index.jsonl")
        if not os.path.exists(idx):
            return []
        out = []
        with open(idx) as f:
            for line in f:
                rec = json.loads(line)
                with open(os.path.join(self.dir, rec["file"]), "rb") as m:
                    raw = m.read()
                out.append((rec, email.message_from_bytes(raw, policy=email.policy.default),
                            raw))
        return out

    def maildir_count(self):
        return len(mailbox.Maildir(self.dir, create=False))

    def cert(self):
        return os.path.join(self.dir, "tls", "cert.pem")


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Receiver:
    """HTTP receiver: /status/N answers N, /sleep/S waits S seconds, /redirect answers 302 to
    /target; everything else 200. Records (method, path, headers, body)."""

    def __init__(self):
        self.requests = []
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                outer.requests.append(("POST", self.path, dict(self.headers), body))
                parts = self.path.strip("/").split("/")
                status, extra = 200, {}
                if parts[0] == "status":
                    status = int(parts[1])
                elif parts[0] == "sleep":
                    time.sleep(float(parts[1]))
                elif parts[0] == "redirect":
                    status, extra = 302, {"Location": "/target"}
                self.send_response(status)
                for k, v in extra.items():
                    self.send_header(k, v)
                reply = b"receiver says %d" % status
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                try:
                    self.wfile.write(reply)
                except OSError:
                    pass

            do_GET = do_POST

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class DeliverCase(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="vigil-e2e-deliver-")
        self.sinks = []

    def tearDown(self):
        for s in self.sinks:
            s.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def sink(self, *opts):
        s = Sink(*opts)
        self.sinks.append(s)
        return s

    def file(self, name, data):
        p = os.path.join(self.tmp, name)
        with open(p, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
        return p

    def vigil(self, *args):
        return run(list(args), timeout=120)

    def mail(self, sink_url, *extra, subject="s", body="b\n", to="ops@example.com"):
        return self.vigil("deliver", "mail", "--smtp", sink_url, "--from", "vigil@example.com",
                          "--to", to, "--subject", subject,
                          "--body-file", self.file("body.txt", body), *extra)


class TestMail(DeliverCase):

    def check_japanese(self, *extra):
        s = self.sink()
        r = self.mail("smtp://127.0.0.1:%d" % s.port, "--from-name", "脆弱性通知 (vigil)",
                      "--header", "X-Vigil-Topic: " + TOPIC, "--list-unsubscribe",
                      "http://127.0.0.1:8080/unsubscribe.html?SubscriptionArn=a&Endpoint=b",
                      *extra, subject=JP_SUBJECT, body=JP_BODY)
        outcome, code, detail = parse_outcome(r)
        self.assertEqual((outcome, code, r.rc), ("delivered", 250, 0), r.describe())
        msgs = s.messages()
        self.assertEqual(len(msgs), 1)
        rec, msg, raw = msgs[0]
        self.assertEqual(rec["mail_from"], "vigil@example.com")
        self.assertEqual(rec["rcpt_tos"], ["ops@example.com"])
        # an independent MIME parser gives back exactly what was sent
        self.assertEqual(str(msg["Subject"]), JP_SUBJECT)
        self.assertEqual(msg["From"].addresses[0].display_name, "脆弱性通知 (vigil)")
        self.assertEqual(msg["From"].addresses[0].addr_spec, "vigil@example.com")
        self.assertEqual(msg.get_content_type(), "text/plain")
        self.assertEqual(msg.get_content_charset(), "utf-8")
        self.assertEqual(msg.get_content().replace("\r\n", "\n"), JP_BODY)
        self.assertEqual(str(msg["X-Vigil-Topic"]), TOPIC)
        self.assertEqual(str(msg["List-Unsubscribe"]),
                         "<http://127.0.0.1:8080/unsubscribe.html?SubscriptionArn=a&Endpoint=b>")
        self.assertTrue(str(msg["Message-ID"]).endswith("@example.com>"))
        self.assertIsNotNone(msg["Date"].datetime)
        self.assertEqual(msg.defects, [])
        for h in ("Subject", "From", "To", "Date", "Message-ID"):
            self.assertEqual(msg[h].defects, (), h)
        # the header lines vigil wrote (after the sink's Return-Path/Delivered-To) fold to 78;
        # encoded words hold whole characters
        head = raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
        for line in head:
            if not line.startswith(b"List-Unsubscribe:"):
                self.assertLessEqual(len(line), 78, line)
        subj_lines = []
        for i, line in enumerate(head):
            if line.startswith(b"Subject:"):
                subj_lines = [line[8:]]
                for more in head[i + 1:]:
                    if not more.startswith(b" "):
                        break
                    subj_lines.append(more)
        words = b" ".join(subj_lines).split()
        self.assertGreater(len(words), 2)
        for w in words:
            self.assertTrue(w.startswith(b"=?UTF-8?B?") and w.endswith(b"?="), w)
            self.assertLessEqual(len(w), 75)
            base64.b64decode(w[10:-2]).decode("utf-8")  # whole characters in every word
        body = raw.split(b"\r\n\r\n", 1)[1]
        for line in body.split(b"\r\n"):
            self.assertLessEqual(len(line), 76)
        return msg

    def test_japanese_subject_and_body_base64(self):
        msg = self.check_japanese()
        self.assertEqual(msg["Content-Transfer-Encoding"], "base64")

    def test_japanese_subject_and_body_quoted_printable(self):
        msg = self.check_japanese("--qp")
        self.assertEqual(msg["Content-Transfer-Encoding"], "quoted-printable")

    def test_starttls_and_auth(self):
        s = self.sink("--starttls", "--auth", "alice:s3cret pass")
        pw = self.file("pw", "s3cret pass\n")
        # separate options; the relay's certificate checked against its CA file (verify on)
        r = self.mail("smtp://localhost:%d" % s.port, "--starttls", "--cafile", s.cert(),
                      "--user", "alice", "--password-file", pw, subject="one")
        self.assertEqual(parse_outcome(r)[0], "delivered", r.describe())
        # the one-URL form, each SASL mechanism
        for mech in ("plain", "login"):
            url = ("smtp://alice:s3cret%%20pass@localhost:%d?starttls=required&auth=%s&cafile=%s"
                   % (s.port, mech, urllib.parse.quote(s.cert(), safe="")))
            r = self.mail(url, subject="auth " + mech)
            self.assertEqual(parse_outcome(r)[0], "delivered", r.describe())
        msgs = s.messages()
        self.assertEqual([str(m["Subject"]) for _, m, _ in msgs],
                         ["one", "auth plain", "auth login"])
        for rec, _, _ in msgs:
            self.assertTrue(rec["tls"])
            self.assertEqual(rec["auth_user"], "alice")
        # a wrong password: the relay's fault, retried later, nothing stored
        r = self.mail("smtp://alice:wrong@localhost:%d?starttls=required&cafile=%s"
                      % (s.port, urllib.parse.quote(s.cert(), safe="")))
        outcome, code, detail = parse_outcome(r)
        self.assertEqual((outcome, code), ("retry", 535), r.describe())
        self.assertNotIn("wrong", r.out.decode() + r.err.decode())
        # verification on without the CA: TLS fails, retried, nothing sent
        r = self.mail("smtp://localhost:%d" % s.port, "--starttls", "--user", "alice",
                      "--password-file", pw)
        outcome, code, detail = parse_outcome(r)
        self.assertEqual((outcome, code), ("retry", 0), r.describe())
        self.assertIn("certificate", detail)
        # --insecure skips the check
        r = self.mail("smtp://127.0.0.1:%d" % s.port, "--starttls", "--insecure", "--user",
                      "alice", "--password-file", pw, subject="insecure")
        self.assertEqual(parse_outcome(r)[0], "delivered", r.describe())
        self.assertEqual(s.maildir_count(), 4)

    def test_rejected_recipient_is_permanent(self):
        s = self.sink("--reject-rcpt", "gone@example.com")
        r = self.mail("smtp://127.0.0.1:%d" % s.port, to="gone@example.com")
        outcome, code, detail = parse_outcome(r)
        self.assertEqual((outcome, code, r.rc), ("rejected", 550, 1), r.describe())
        self.assertIn("gone@example.com", detail)
        self.assertIn("Recipient address rejected", detail)
        self.assertEqual(s.maildir_count(), 0)

    def test_stopped_server_is_temporary(self):
        s = self.sink()
        port = s.port
        s.stop()
        r = self.mail("smtp://127.0.0.1:%d" % port)
        outcome, code, detail = parse_outcome(r)
        self.assertEqual((outcome, code, r.rc), ("retry", 0, 1), r.describe())
        self.assertTrue(detail)
        # a relay that answers 530 because vigil has no credentials: also the relay's business
        s2 = self.sink("--auth", "u:p")
        outcome, code, _ = parse_outcome(self.mail("smtp://127.0.0.1:%d" % s2.port))
        self.assertEqual((outcome, code), ("retry", 530))
        self.assertEqual(s2.maildir_count(), 0)

    def test_header_injection_refused_and_nothing_sent(self):
        s = self.sink()
        url = "smtp://127.0.0.1:%d" % s.port
        attempts = [
            self.mail(url, subject="Hello\r\nBcc: evil@example.com"),
            self.mail(url, subject="Hello\nBcc: evil@example.com"),
            self.mail(url, "--from-name", "Ops\r\nBcc: evil@example.com"),
            self.mail(url, "--header", "X-Note: a\r\nBcc: evil@example.com"),
            self.mail(url, "--header", "Bcc: evil@example.com"),
            self.mail(url, "--list-unsubscribe", "http://x/\r\nBcc: evil@example.com"),
            self.mail(url, to="ops@example.com\r\nRCPT TO:<evil@example.com>"),
            self.mail(url, to="ops@example.com>\r\nRCPT TO:<evil@example.com"),
        ]
        for r in attempts:
            outcome, code, detail = parse_outcome(r)
            self.assertEqual((outcome, code, r.rc), ("rejected", 0, 1), r.describe())
        self.assertIn("header 'Subject' contains CR", parse_outcome(attempts[0])[2])
        self.assertIn("'From'", parse_outcome(attempts[2])[2])
        self.assertIn("'X-Note'", parse_outcome(attempts[3])[2])
        self.assertIn("set by vigil", parse_outcome(attempts[4])[2])
        time.sleep(0.5)
        self.assertEqual(s.maildir_count(), 0)
        self.assertFalse(os.path.exists(os.path.join(s.dir, "index.jsonl")))
        # and a clean one still goes through
        self.assertEqual(parse_outcome(self.mail(url))[0], "delivered")
        self.assertEqual(s.maildir_count(), 1)


class TestWebhook(DeliverCase):

    def setUp(self):
        super().setUp()
        self.rx = Receiver()

    def tearDown(self):
        self.rx.close()
        super().tearDown()

    def post(self, path, *extra, body='{"k":"値"}'):
        return self.vigil("deliver", "webhook", self.rx.url(path), "--body-file",
                          self.file("hook.json", body), *extra)

    def test_statuses(self):
        cases = [("/ok", "delivered", 200), ("/status/204", "delivered", 204),
                 ("/status/404", "rejected", 404), ("/status/429", "rejected", 429),
                 ("/status/500", "retry", 500), ("/status/503", "retry", 503)]
        for path, want, status in cases:
            outcome, code, detail = parse_outcome(self.post(path))
            self.assertEqual((outcome, code), (want, status), path)
            if want != "delivered":
                self.assertIn("HTTP %d" % status, detail)
                self.assertIn("receiver says %d" % status, detail)
        self.assertEqual(len(self.rx.requests), len(cases))

    def test_body_headers_and_hmac(self):
        secret = self.file("secret", "shared-secret\n")
        body = '{"Message":"脆弱性 found","n":3}'
        r = self.post("/ok", "--header", "X-Custom: yes", "--header", "User-Agent: test-agent",
                      "--secret-file", secret, body=body)
        self.assertEqual(parse_outcome(r)[0], "delivered", r.describe())
        method, path, headers, got = self.rx.requests[0]
        self.assertEqual((method, path), ("POST", "/ok"))
        self.assertEqual(got, body.encode())
        self.assertEqual(headers["X-Custom"], "yes")
        self.assertEqual(headers["User-Agent"], "test-agent")
        self.assertEqual(headers["Content-Type"], "text/plain; charset=UTF-8")
        self.assertNotIn("Expect", headers)
        want = "sha256=" + hmac.new(b"shared-secret", body.encode(), hashlib.sha256).hexdigest()
        self.assertEqual(headers["X-Vigil-Signature"], want)

    def test_redirect_not_followed(self):
        outcome, code, _ = parse_outcome(self.post("/redirect"))
        self.assertEqual((outcome, code), ("delivered", 302))
        self.assertEqual([p for _, p, _, _ in self.rx.requests], ["/redirect"])

    def test_timeout_and_refused_are_temporary(self):
        outcome, code, detail = parse_outcome(self.post("/sleep/4", "--timeout", "1"))
        self.assertEqual((outcome, code), ("retry", 0))
        self.assertIn("timed out", detail)
        r = self.vigil("deliver", "webhook", "http://127.0.0.1:%d/x" % closed_port(),
                       "--body-file", self.file("b", "x"))
        self.assertEqual(parse_outcome(r)[:2], ("retry", 0))

    def test_header_injection_refused(self):
        r = self.post("/ok", "--header", "X-A: 1\r\nX-Injected: 2")
        outcome, code, detail = parse_outcome(r)
        self.assertEqual((outcome, code), ("rejected", 0))
        self.assertIn("injection", detail)
        self.assertEqual(self.rx.requests, [])


def string_to_sign(doc):
    """AWS's documented canonical string, built from the delivered JSON."""
    if doc["Type"] == "Notification":
        keys = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
    else:
        keys = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    return "".join("%s\n%s\n" % (k, doc[k]) for k in keys if k in doc).encode()


class TestSns(DeliverCase):

    def setUp(self):
        super().setUp()
        self.rx = Receiver()
        self.data = os.path.join(self.tmp, "data")
        os.makedirs(self.data)
        self.base = "http://127.0.0.1:8080"

    def tearDown(self):
        self.rx.close()
        super().tearDown()

    def sns(self, kind, *extra):
        return self.vigil("deliver", "sns", "--kind", kind, "--data-dir", self.data,
                          "--base-url", self.base, "--topic-arn", TOPIC, *extra)

    def openssl_verify(self, doc):
        pub = os.path.join(self.tmp, "pub.pem")
        subprocess.run(["openssl", "x509", "-pubkey", "-noout", "-in",
                        os.path.join(self.data, "sns-signing.pem"), "-out", pub], check=True,
                       timeout=30)
        sig = self.file("sig.bin", base64.b64decode(doc["Signature"]))
        data = self.file("sts.txt", string_to_sign(doc))
        md = {"1": "-sha1", "2": "-sha256"}[doc["SignatureVersion"]]
        p = subprocess.run(["openssl", "dgst", md, "-verify", pub, "-signature", sig, data],
                           capture_output=True, timeout=30)
        return p.returncode == 0 and b"Verified OK" in p.stdout

    def test_notification_over_http_signed(self):
        msg = self.file("m.txt", '"Repository: my-app"\n"CRITICAL: 3" / 日本語\t"\\"')
        for ver in ("1", "2"):
            self.rx.requests.clear()
            r = self.sns("notification", "--subscription-arn", SUB, "--message-file", msg,
                         "--subject", "Scan result", "--signature-version", ver,
                         "--webhook", self.rx.url("/sns"))
            self.assertEqual(parse_outcome(r)[:2], ("delivered", 200), r.describe())
            _, _, headers, body = self.rx.requests[0]
            self.assertEqual(headers["x-amz-sns-message-type"], "Notification")
            self.assertEqual(headers["x-amz-sns-topic-arn"], TOPIC)
            self.assertEqual(headers["x-amz-sns-subscription-arn"], SUB)
            self.assertEqual(headers["Content-Type"], "text/plain; charset=UTF-8")
            self.assertEqual(headers["User-Agent"], "Amazon Simple Notification Service Agent")
            doc = json.loads(body, object_pairs_hook=lambda kv: kv)
            self.assertEqual([k for k, _ in doc],
                             ["Type", "MessageId", "TopicArn", "Subject", "Message", "Timestamp",
                              "SignatureVersion", "Signature", "SigningCertURL",
                              "UnsubscribeURL"])
            doc = dict(doc)
            self.assertEqual(headers["x-amz-sns-message-id"], doc["MessageId"])
            self.assertTrue(body.startswith(b'{\n  "Type" : "Notification",\n  "MessageId" : "'))
            self.assertTrue(body.endswith(b'"\n}'))
            with open(msg, encoding="utf-8") as f:
                self.assertEqual(doc["Message"], f.read())
            self.assertEqual(doc["SignatureVersion"], ver)
            self.assertRegex(doc["Timestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
            u = urllib.parse.urlsplit(doc["UnsubscribeURL"])
            self.assertEqual(urllib.parse.parse_qs(u.query),
                             {"Action": ["Unsubscribe"], "SubscriptionArn": [SUB]})
            self.assertTrue(self.openssl_verify(doc))
            # a changed field breaks the signature
            doc["Message"] += "x"
            self.assertFalse(self.openssl_verify(doc))
        # the certificate is published under the name in SigningCertURL
        r = self.vigil("deliver", "sns-cert", "--data-dir", self.data)
        name, pem = r.out.decode().split("\n", 1)
        self.assertTrue(doc["SigningCertURL"].endswith("/" + name[len("name="):]))
        self.assertTrue(doc["SigningCertURL"].startswith(self.base + "/SimpleNotificationService-"))
        with open(os.path.join(self.data, "sns-signing.pem")) as f:
            self.assertEqual(pem, f.read())
        self.assertEqual(os.stat(os.path.join(self.data, "sns-signing.key")).st_mode & 0o777,
                         0o600)

    def test_subscription_confirmation_over_http(self):
        token = "2336412f37fb687f5d51e6e2425c464d+/="
        r = self.sns("subscription", "--token", token, "--webhook", self.rx.url("/sns"))
        self.assertEqual(parse_outcome(r)[0], "delivered", r.describe())
        _, _, headers, body = self.rx.requests[0]
        self.assertEqual(headers["x-amz-sns-message-type"], "SubscriptionConfirmation")
        self.assertNotIn("x-amz-sns-subscription-arn", headers)
        doc = json.loads(body, object_pairs_hook=lambda kv: kv)
        self.assertEqual([k for k, _ in doc],
                         ["Type", "MessageId", "Token", "TopicArn", "Message", "SubscribeURL",
                          "Timestamp", "SignatureVersion", "Signature", "SigningCertURL"])
        doc = dict(doc)
        self.assertEqual(doc["Message"], "You have chosen to subscribe to the topic %s.\nTo "
                         "confirm the subscription, visit the SubscribeURL included in this "
                         "message." % TOPIC)
        u = urllib.parse.urlsplit(doc["SubscribeURL"])
        self.assertEqual("%s://%s" % (u.scheme, u.netloc), self.base)
        self.assertEqual(urllib.parse.parse_qs(u.query),
                         {"Action": ["ConfirmSubscription"], "TopicArn": [TOPIC],
                          "Token": [token]})
        self.assertTrue(self.openssl_verify(doc))

    def test_email_notification_and_confirmation(self):
        s = self.sink()
        url = "smtp://127.0.0.1:%d" % s.port
        msg = self.file("m.txt", '"Repository: my-app"\n"CRITICAL: 3"')
        endpoint = "ops+scan@example.com"
        r = self.sns("notification", "--subscription-arn", SUB, "--message-file", msg,
                     "--email", endpoint, "--smtp", url, "--from", "no-reply@vigil.example.com")
        self.assertEqual(parse_outcome(r)[0], "delivered", r.describe())
        r = self.sns("subscription", "--token", "abc123", "--email", endpoint, "--smtp", url,
                     "--from", "no-reply@vigil.example.com")
        self.assertEqual(parse_outcome(r)[0], "delivered", r.describe())
        r = self.sns("notification", "--subscription-arn", SUB, "--message-file", msg,
                     "--subject", "Custom subject", "--email-json", endpoint, "--smtp", url,
                     "--from", "no-reply@vigil.example.com")
        self.assertEqual(parse_outcome(r)[0], "delivered", r.describe())
        (_, note, _), (_, conf, _), (_, js, _) = s.messages()

        self.assertEqual(str(note["Subject"]), "AWS Notification Message")
        self.assertEqual(note["From"].addresses[0].display_name, "AWS Notifications")
        text = note.get_content().replace("\r\n", "\n")
        head, foot = text.split("\n\n--\n", 1)
        self.assertEqual(head, '"Repository: my-app"\n"CRITICAL: 3"')
        lines = foot.split("\n")
        self.assertEqual(lines[0], "If you wish to stop receiving notifications from this "
                         "topic, please click or visit the link below to unsubscribe:")
        u = urllib.parse.urlsplit(lines[1])
        self.assertEqual(u.path, "/unsubscribe.html")
        self.assertEqual(urllib.parse.parse_qs(u.query),
                         {"SubscriptionArn": [SUB], "Endpoint": [endpoint]})
        self.assertTrue(lines[3].startswith("Please do not reply directly to this email."))
        self.assertEqual(str(note["List-Unsubscribe"]), "<%s>" % lines[1])

        self.assertEqual(str(conf["Subject"]), "AWS Notification - Subscription Confirmation")
        text = conf.get_content()
        self.assertIn(TOPIC, text)
        link = [l for l in text.splitlines() if "/confirmation.html?" in l][0]
        u = urllib.parse.urlsplit(link)
        self.assertEqual(urllib.parse.parse_qs(u.query),
                         {"TopicArn": [TOPIC], "Token": ["abc123"], "Endpoint": [endpoint]})

        self.assertEqual(str(js["Subject"]), "Custom subject")
        doc = json.loads(js.get_content())
        self.assertEqual(doc["Type"], "Notification")
        self.assertEqual(doc["Subject"], "Custom subject")
        self.assertTrue(self.openssl_verify(doc))

    def test_bad_subject_refused_before_sending(self):
        s = self.sink()
        msg = self.file("m.txt", "x")
        r = self.sns("notification", "--subscription-arn", SUB, "--message-file", msg,
                     "--subject", "Hi\r\nBcc: evil@example.com", "--email", "ops@example.com",
                     "--smtp", "smtp://127.0.0.1:%d" % s.port, "--from", "a@example.com")
        outcome, code, detail = parse_outcome(r)
        self.assertEqual((outcome, code), ("rejected", 0), r.describe())
        self.assertIn("'Subject'", detail)
        self.assertEqual(s.maildir_count(), 0)


if __name__ == "__main__":
    unittest.main()
