# SPDX-License-Identifier: Apache-2.0
"""Deliveries under faults, end to end with real clients: /usr/bin/aws drives the SNS and
EventBridge APIs, ../shared/tools/smtp-sink is the SMTP relay, a Python http.server thread is
the http subscriber. The faults: the relay down for a while and back on the same port; SIGKILL
of the server with deliveries pending, and with a mail inside the relay's DATA phase (received,
never acknowledged); an http subscriber answering 500 until its retries are exhausted, the
dead letter listed by `vigil events dlq list` and sent by `vigil events dlq redrive`; an
EventBridge target whose topic is missing, dead-lettered and redriven once the topic exists.
Every wait is bounded; a failure shows the tail of the server's log."""

import email
import email.policy
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
import urllib.request
import uuid

from vigil_e2e import REPO, VIGIL_BIN
from vigil_server import Server

SINK = os.path.join(REPO, "..", "shared", "tools", "smtp-sink")
SINK_PY = "/usr/bin/python3"  # smtp-sink needs Debian's python3-aiosmtpd
AWS = "/usr/bin/aws"
ACCOUNT = "123456789012"
REGION = "us-east-1"
MAIL_FROM = "vigil@example.test"
FOOTER = "\n\n--\nIf you wish to stop receiving notifications"


def wait_until(pred, timeout, step=0.1):
    """pred() until it is truthy (returned) or timeout seconds pass (None)."""
    deadline = time.time() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.time() >= deadline:
            return None
        time.sleep(step)


class Sink:
    """smtp-sink in its own Maildir; stop and start again on the same port."""

    def __init__(self, d):
        self.dir = d
        self.port = None

    def start(self, port=None):
        argv = [SINK_PY, SINK, "start", "--dir", self.dir]
        if port:
            argv += ["--port", str(port)]
        p = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            raise AssertionError("smtp-sink did not start: %s%s" % (p.stdout, p.stderr))
        with open(os.path.join(self.dir, "port")) as f:
            self.port = int(f.read().strip())
        if port and self.port != port:
            raise AssertionError("smtp-sink came back on %d, not %d" % (self.port, port))
        return self.port

    def stop(self):
        subprocess.run([SINK_PY, SINK, "stop", "--dir", self.dir], capture_output=True,
                       timeout=60)

    def files(self):
        out = []
        for sub in ("new", "cur"):
            p = os.path.join(self.dir, sub)
            if os.path.isdir(p):
                out += [os.path.join(p, n) for n in sorted(os.listdir(p))
                        if not n.startswith(".")]
        return out

    def messages(self):
        out = []
        for path in self.files():
            with open(path, "rb") as f:
                out.append(email.message_from_bytes(f.read(), policy=email.policy.default))
        return out


def text_of(m):
    return m.get_body(preferencelist=("plain",)).get_content()


def sns_message_of(m):
    """The published Message inside a notification mail (the text before SNS's footer)."""
    body = text_of(m).replace("\r\n", "\n")
    i = body.find(FOOTER)
    return body[:i] if i >= 0 else None


class Hook:
    """An http subscriber: answers SubscriptionConfirmation with 200 (and remembers it) and
    notifications with `status` (changeable); records every request."""

    def __init__(self):
        self.lock = threading.Lock()
        self.got = []  # dicts: type, message_id, doc, status, t
        self.status = 500
        hook = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                typ = self.headers.get("x-amz-sns-message-type", "")
                try:
                    doc = json.loads(body)
                except ValueError:
                    doc = None
                with hook.lock:
                    status = 200 if typ != "Notification" else hook.status
                    hook.got.append({"type": typ, "doc": doc, "status": status,
                                     "message_id": self.headers.get("x-amz-sns-message-id"),
                                     "t": time.time()})
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.web = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        threading.Thread(target=self.web.serve_forever, daemon=True).start()
        self.url = "http://127.0.0.1:%d/hook" % self.web.server_address[1]

    def of_type(self, typ):
        with self.lock:
            return [g for g in self.got if g["type"] == typ]

    def close(self):
        self.web.shutdown()
        self.web.server_close()


class HoldingRelay:
    """A one-connection SMTP relay that takes a whole message after DATA and then never
    answers: the message has reached the relay, the sender has no verdict."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.received = []  # raw messages that got to the end of DATA
        self.conns = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.conns.append(c)
            threading.Thread(target=self._session, args=(c,), daemon=True).start()

    def _session(self, c):
        f = c.makefile("rb")
        try:
            c.sendall(b"220 holding-relay ESMTP\r\n")
            while True:
                line = f.readline()
                if not line:
                    return
                verb = line[:4].upper()
                if verb in (b"EHLO", b"HELO"):
                    c.sendall(b"250 holding-relay\r\n")
                elif verb in (b"MAIL", b"RCPT", b"RSET", b"NOOP"):
                    c.sendall(b"250 OK\r\n")
                elif verb == b"DATA":
                    c.sendall(b"354 go ahead\r\n")
                    data = []
                    while True:
                        ln = f.readline()
                        if not ln or ln == b".\r\n":
                            break
                        data.append(ln[1:] if ln.startswith(b"..") else ln)
                    with self.lock:
                        self.received.append(b"".join(data))
                    # no "250": hold the sender until the connection dies
                    while f.readline():
                        pass
                    return
                elif verb == b"QUIT":
                    c.sendall(b"221 bye\r\n")
                    return
                else:
                    c.sendall(b"502 not here\r\n")
        except OSError:
            return

    def close(self):
        self.sock.close()
        with self.lock:
            for c in self.conns:
                try:
                    c.close()
                except OSError:
                    pass


class FaultCase(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="vigil-e2e-faults-")
        self.sink = Sink(os.path.join(self.tmp, "mail"))
        self.sink.start()
        self.creds = os.path.join(self.tmp, "credentials")
        with open(self.creds, "w") as f:
            f.write("[default]\naws_access_key_id = AKIDFAULTTEST\n"
                    "aws_secret_access_key = fault-secret\n")
        self.env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDFAULTTEST",
                        AWS_SECRET_ACCESS_KEY="fault-secret", AWS_DEFAULT_REGION=REGION,
                        AWS_PAGER="", AWS_MAX_ATTEMPTS="1",
                        AWS_CONFIG_FILE=os.path.join(self.tmp, "none"),
                        AWS_SHARED_CREDENTIALS_FILE=os.path.join(self.tmp, "none"))
        self.hooks = []
        self.servers = []
        self.srv = self.start_server(self.sink.port)

    def tearDown(self):
        problems = []
        for h in self.hooks:
            h.close()
        for s in self.servers:
            if s.alive():
                try:
                    rc = s.stop()
                    if rc != 0:
                        problems.append("vigil serve exited with %s after SIGTERM" % rc)
                except AssertionError as e:
                    problems.append(str(e))
        # a sanitizer build reports in the server's log (one log per data directory)
        for path in sorted({s.log_path for s in self.servers}):
            with open(path, "rb") as f:
                text = f.read().decode("utf-8", "replace")
            for mark in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
                if mark in text:
                    i = text.index(mark)
                    problems.append("%s in %s:\n%s" % (mark, path, text[max(0, i - 200):
                                                                       i + 3000]))
        tail = self.srv.log_tail() if problems else ""
        self.sink.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)
        if self.servers:
            shutil.rmtree(self.servers[0].data_dir, ignore_errors=True)
        if problems:
            raise AssertionError("\n".join(problems) + "\n--- server log (tail) ---\n" + tail)

    # ------------------------------------------------------------------ helpers

    def server_args(self, smtp_port):
        return ["--aws-credentials", self.creds, "--account-id", ACCOUNT, "--region", REGION,
                "--smtp-url", "smtp://127.0.0.1:%d" % smtp_port, "--mail-from", MAIL_FROM,
                "--delivery-retry-scale", "0.01", "--scan-workers", "0", "--log-level", "debug"]

    def start_server(self, smtp_port, data_dir=None):
        s = Server(data_dir=data_dir, args=self.server_args(smtp_port)).start()
        self.servers.append(s)
        return s

    def log(self):
        return "\n--- server log (tail) ---\n%s" % self.srv.log_tail(6000)

    def wait_for(self, pred, timeout, what):
        v = wait_until(pred, timeout)
        if not v:
            raise AssertionError("timed out after %gs waiting for %s%s" % (timeout, what,
                                                                          self.log()))
        return v

    def aws(self, *args):
        p = subprocess.run([AWS, "--endpoint-url", self.srv.url] + list(args), env=self.env,
                           capture_output=True, text=True, timeout=120)
        if p.returncode != 0:
            raise AssertionError("aws %s -> %d\n%s%s" % (" ".join(args), p.returncode, p.stderr,
                                                         self.log()))
        out = p.stdout.strip()
        return json.loads(out) if out.startswith(("{", "[")) else out

    def vigil(self, *args, check=True):
        p = subprocess.run([VIGIL_BIN] + list(args), capture_output=True, text=True, timeout=120)
        if check and p.returncode != 0:
            raise AssertionError("vigil %s -> %d\n%s%s%s" % (" ".join(args), p.returncode,
                                                             p.stdout, p.stderr, self.log()))
        return p

    def dlq_list(self):
        """The dead letters `vigil events dlq list --format json` shows ({"dead_letters":
        [...], "render_failures": [...]}); no render failure is expected in these tests."""
        p = self.vigil("events", "dlq", "list", "--data-dir", self.srv.data_dir, "--format",
                       "json")
        try:
            doc = json.loads(p.stdout)
        except ValueError:
            raise AssertionError("dlq list --format json is not JSON: %r" % p.stdout[:500]) \
                from None
        self.assertEqual(doc["render_failures"], [])
        return doc["dead_letters"]

    def dead_letters_with(self, needle):
        return [r for r in self.dlq_list() if needle in (r.get("message_id"), r.get("event_id"))]

    def create_topic(self, name):
        return self.aws("sns", "create-topic", "--name", name)["TopicArn"]

    def subscribe_email(self, topic, addr):
        sub = self.aws("sns", "subscribe", "--topic-arn", topic, "--protocol", "email",
                       "--notification-endpoint", addr)
        self.assertEqual(sub["SubscriptionArn"], "pending confirmation")

        def confirmation():
            return [m for m in self.sink.messages()
                    if "Subscription Confirmation" in str(m["Subject"]) and
                    str(m["To"]) == addr]
        conf = self.wait_for(confirmation, 30, "the confirmation mail to %s" % addr)[0]
        link = re.search(r"(http://\S+confirmation\.html\?\S+)", text_of(conf))
        self.assertIsNotNone(link, text_of(conf))
        with urllib.request.urlopen(link.group(1), timeout=30) as r:
            self.assertEqual(r.status, 200)
        return self.confirmed_arn(topic, addr)

    def confirmed_arn(self, topic, endpoint):
        subs = self.aws("sns", "list-subscriptions-by-topic", "--topic-arn", topic)
        arns = [s["SubscriptionArn"] for s in subs["Subscriptions"]
                if s["Endpoint"] == endpoint]
        self.assertEqual(len(arns), 1, subs)
        self.assertTrue(arns[0].startswith(topic + ":"), "not confirmed: %s" % arns[0])
        return arns[0]

    def subscribe_http(self, topic, hook):
        self.aws("sns", "subscribe", "--topic-arn", topic, "--protocol", "http",
                 "--notification-endpoint", hook.url)
        conf = self.wait_for(lambda: [g for g in hook.of_type("SubscriptionConfirmation")
                                      if g["doc"] and g["doc"].get("TopicArn") == topic],
                             30, "the SubscriptionConfirmation POST")[-1]
        with urllib.request.urlopen(conf["doc"]["SubscribeURL"], timeout=30) as r:
            self.assertEqual(r.status, 200)
        return self.confirmed_arn(topic, hook.url)

    def publish(self, topic, message, subject=None):
        args = ["sns", "publish", "--topic-arn", topic, "--message", message]
        if subject:
            args += ["--subject", subject]
        return self.aws(*args)["MessageId"]

    def retried(self, message_ids):
        """The message ids with a failed attempt in the server log (the worker logs
        '<MessageId> to <endpoint> failed, retry N in M ms: ...')."""
        tail = self.srv.log_tail(1 << 22)
        return {m for m in message_ids if re.search(re.escape(m) + r" to \S+ failed, retry",
                                                   tail)}

    def notification_mails(self, message_ids):
        """{MessageId: [mail, ...]} for the notifications among the sink's mails (matched by
        their X-Vigil-Message-Id header)."""
        out = {m: [] for m in message_ids}
        for m in self.sink.messages():
            mid = str(m.get("X-Vigil-Message-Id", ""))
            if mid in out:
                out[mid].append(m)
        return out

    def bodies(self):
        """Every notification message text in the sink (one entry per mail)."""
        return [b for b in (sns_message_of(m) for m in self.sink.messages()) if b is not None]

    def check_each_once(self, sent, what):
        """sent: {MessageId: message text}. Every one arrived, intact; returns the duplicates
        ({text: count} for texts seen more than once)."""
        got = self.notification_mails(sent)
        missing = [mid for mid, mails in got.items() if not mails]
        self.assertEqual(missing, [], "%s: mails missing for %s%s" % (what, missing, self.log()))
        dups = {}
        for mid, mails in got.items():
            for m in mails:
                self.assertEqual(sns_message_of(m), sent[mid], "%s: body changed" % what)
                self.assertIn(mid, str(m["Message-ID"]))
            if len(mails) > 1:
                dups[sent[mid]] = len(mails)
        # the same texts counted without the header: no other mail carries them
        texts = self.bodies()
        for mid, text in sent.items():
            self.assertEqual(texts.count(text), len(got[mid]), "%s: %r" % (what, text))
        print("\n%s: %d messages, %d distinct bodies delivered, duplicates: %s" % (
            what, len(sent), len({t for t in texts if t in sent.values()}), dups or "none"))
        return dups

    # ------------------------------------------------------------------ tests

    def test_relay_down_then_back(self):
        """The relay goes away with the subscription confirmed; ten messages published
        meanwhile are retried, and all arrive once it is back on the same port."""
        topic = self.create_topic("relay-down")
        self.subscribe_email(topic, "ops@example.com")
        port = self.sink.port
        before = len(self.sink.files())
        self.sink.stop()

        nonce = uuid.uuid4().hex[:8]
        sent = {}
        for i in range(10):
            if i % 3 == 1:
                text = "リレー停止テスト %s 第%d号: 脆弱性スキャンが完了しました。重大度は「高」です。" % (
                    nonce, i)
            elif i == 5:
                text = "relay-down %s #%d\nline two — 日本語とASCII\n\ttabbed line\nlast" % (
                    nonce, i)
            else:
                text = "relay-down %s #%d: plain ASCII body" % (nonce, i)
            sent[self.publish(topic, text, subject="relay test %d" % i)] = text
        self.assertEqual(len(sent), 10, "MessageIds are not distinct")

        # every delivery was attempted while the relay was down, and failed
        self.wait_for(lambda: self.retried(sent) == set(sent), 30,
                      "a failed attempt of each of the 10 deliveries")
        time.sleep(3)
        self.assertEqual(len(self.sink.files()), before)

        self.sink.start(port=port)
        self.wait_for(lambda: all(self.notification_mails(sent).values()), 120,
                      "the 10 mails after the relay came back")
        time.sleep(1)  # a late duplicate would show up here
        dups = self.check_each_once(sent, "relay down then back")
        # nothing reached the relay while it was down, so nothing can have been sent twice
        self.assertEqual(dups, {})
        self.assertEqual(self.dlq_list(), [])

    def test_sigkill_with_pending_deliveries(self):
        """SIGKILL while deliveries wait for the relay: a server restarted on the same data
        directory sends every one of them."""
        topic = self.create_topic("sigkill")
        self.subscribe_email(topic, "oncall@example.com")
        port = self.sink.port
        self.sink.stop()
        nonce = uuid.uuid4().hex[:8]
        sent = {}
        for i in range(8):
            text = ("強制終了テスト %s 第%d号" if i % 2 else "sigkill %s #%d") % (nonce, i)
            sent[self.publish(topic, text)] = text
        self.wait_for(lambda: self.retried(sent) == set(sent), 30,
                      "a failed attempt of each of the 8 deliveries")
        old = self.srv
        old.kill()
        self.assertFalse(old.alive())

        self.sink.start(port=port)
        self.srv = self.start_server(port, data_dir=old.data_dir)
        self.wait_for(lambda: all(self.notification_mails(sent).values()), 120,
                      "the 8 mails after the restart")
        time.sleep(1)
        dups = self.check_each_once(sent, "SIGKILL with pending deliveries")
        self.assertEqual(dups, {})  # the relay was down: none of them was received before
        self.assertEqual(self.dlq_list(), [])

    def switch_to_holding_relay(self, topic):
        """Restart the server (same data) with a relay that never acknowledges DATA."""
        holding = HoldingRelay()
        self.addCleanup(holding.close)
        old = self.srv
        old.stop()
        self.srv = self.start_server(holding.port, data_dir=old.data_dir)
        return holding

    def test_sigkill_inside_smtp_data(self):
        """A relay that has the whole message but has not answered the end of DATA when the
        server is killed: the delivery has no verdict, so the restarted server sends it again.
        Every message then reaches the real relay once (the copies the first relay holds are
        the duplicates at-least-once delivery allows, with the same Message-ID)."""
        topic = self.create_topic("in-data")
        self.subscribe_email(topic, "data@example.com")
        holding = self.switch_to_holding_relay(topic)

        nonce = uuid.uuid4().hex[:8]
        sent = {}
        for i in range(3):
            text = "in-data %s #%d データ" % (nonce, i)
            sent[self.publish(topic, text)] = text

        def held():
            with holding.lock:
                return [r for r in holding.received
                        if any(mid.encode() in r for mid in sent)]
        self.wait_for(held, 30, "a message inside the held DATA")
        time.sleep(1)  # let every transfer the worker can start reach the relay
        n_held = len(held())
        self.srv.kill()

        self.srv = self.start_server(self.sink.port, data_dir=self.srv.data_dir)
        self.wait_for(lambda: all(self.notification_mails(sent).values()), 60,
                      "the 3 mails at the real relay after the restart")
        time.sleep(1)
        dups = self.check_each_once(sent, "SIGKILL inside DATA")
        self.assertEqual(dups, {})  # the real relay got each once; the held copies are apart
        resent = self.notification_mails(sent)
        for raw in held():
            m = email.message_from_bytes(raw, policy=email.policy.default)
            mid = str(m["X-Vigil-Message-Id"])
            self.assertEqual(sns_message_of(m), sent[mid])
            # the copy sent again carries the same Message-ID, so a receiver can drop it
            self.assertEqual(str(m["Message-ID"]), str(resent[mid][0]["Message-ID"]))
        print("SIGKILL inside DATA: %d of 3 messages were at the first relay when the server "
              "died and were sent again (the justified duplicates)" % n_held)

    def test_stalled_relay(self):
        """A relay that stalls after DATA holds up neither the other deliveries (an http
        subscriber of the same topic gets the next message while the mail waits) nor a
        SIGTERM; the stalled mails stay pending and go out after the restart. (libcurl waits
        for the reply to the end of DATA with a blocking poll even under the multi interface,
        so a worker that ran SMTP in its multi handle stopped here for the SMTP timeout.)"""
        hook = Hook()
        hook.status = 200
        self.hooks.append(hook)
        topic = self.create_topic("stall")
        self.subscribe_email(topic, "stall@example.com")
        self.subscribe_http(topic, hook)
        holding = self.switch_to_holding_relay(topic)
        sent = {self.publish(topic, "stall first 停止"): "stall first 停止"}
        self.wait_for(lambda: holding.received, 30, "the first mail inside the held DATA")
        second = self.publish(topic, "stall second")
        sent[second] = "stall second"
        self.wait_for(lambda: [g for g in hook.of_type("Notification")
                               if g["message_id"] == second], 10,
                      "the http delivery of the second message beside a stalled mail")
        t = time.time()
        try:
            self.srv.stop(timeout=15)
        except AssertionError as e:
            self.srv.kill()
            raise AssertionError("%s (a relay that stalls after DATA)%s" % (e, self.log())) \
                from None
        print("\nstalled relay: SIGTERM took %.1f s" % (time.time() - t))
        self.assertEqual(self.notification_mails(sent), {m: [] for m in sent})

        self.srv = self.start_server(self.sink.port, data_dir=self.srv.data_dir)
        self.wait_for(lambda: all(self.notification_mails(sent).values()), 60,
                      "both mails at the real relay after the restart")
        time.sleep(1)
        self.assertEqual(self.check_each_once(sent, "stalled relay"), {})

    def test_http_500_dead_letter_and_redrive(self):
        """An http subscriber answering 500: the attempts follow the subscription's
        DeliveryPolicy (1 + numRetries), the delivery is dead-lettered, listed by `vigil
        events dlq list`, and `vigil events dlq redrive --all` sends it once the subscriber
        answers 200."""
        hook = Hook()
        self.hooks.append(hook)
        topic = self.create_topic("http-500")
        sub = self.subscribe_http(topic, hook)
        policy = {"healthyRetryPolicy": {"numRetries": 3, "minDelayTarget": 1,
                                         "maxDelayTarget": 1, "numNoDelayRetries": 0,
                                         "numMinDelayRetries": 0, "numMaxDelayRetries": 0,
                                         "backoffFunction": "linear"}}
        self.aws("sns", "set-subscription-attributes", "--subscription-arn", sub,
                 "--attribute-name", "DeliveryPolicy", "--attribute-value", json.dumps(policy))
        attrs = self.aws("sns", "get-subscription-attributes", "--subscription-arn",
                         sub)["Attributes"]
        eff = json.loads(attrs["EffectiveDeliveryPolicy"])
        self.assertEqual(eff["healthyRetryPolicy"]["numRetries"], 3, attrs)

        text = "http-500 %s 再送テスト" % uuid.uuid4().hex[:8]
        mid = self.publish(topic, text, subject="http 500")

        def attempts():
            return [g for g in hook.of_type("Notification") if g["message_id"] == mid]
        self.wait_for(lambda: self.dead_letters_with(mid), 60,
                      "the dead letter of %s in `vigil events dlq list`" % mid)
        time.sleep(1)  # no attempt after the dead letter
        tries = attempts()
        gaps = ["%.0f ms" % ((b["t"] - a["t"]) * 1000) for a, b in zip(tries, tries[1:])]
        print("\nhttp 500: %d attempts, gaps %s" % (len(tries), ", ".join(gaps)))
        self.assertEqual(len(tries), 4, "1 attempt + numRetries 3%s" % self.log())
        self.assertTrue(all(g["status"] == 500 for g in tries))
        self.assertEqual({g["doc"]["MessageId"] for g in tries}, {mid})
        self.assertEqual(len({g["doc"]["Timestamp"] for g in tries}), 1)
        self.assertTrue(all(g["doc"]["Message"] == text for g in tries))
        dead = self.dead_letters_with(mid)
        self.assertEqual(len(dead), 1, dead)
        self.assertEqual(dead[0]["kind"], "sns-notification")
        self.assertEqual(dead[0]["protocol"], "http")
        self.assertEqual(dead[0]["endpoint"], hook.url)
        self.assertEqual(dead[0]["subscription_arn"], sub)
        self.assertEqual(dead[0]["attempts"], 4)
        self.assertEqual(dead[0]["message"], text)
        self.assertIn("500", dead[0]["error"])

        hook.status = 200
        self.vigil("events", "dlq", "redrive", "--data-dir", self.srv.data_dir, "--all")
        ok = self.wait_for(lambda: [g for g in attempts() if g["status"] == 200], 30,
                           "the redriven delivery")
        self.assertEqual(len(ok), 1)
        self.assertEqual(ok[0]["doc"]["Message"], text)
        self.assertEqual(ok[0]["doc"]["Subject"], "http 500")
        self.assertEqual(ok[0]["doc"]["Timestamp"], tries[0]["doc"]["Timestamp"])
        self.wait_for(lambda: not self.dead_letters_with(mid), 10,
                      "the dead letter to leave the list")
        time.sleep(1)
        self.assertEqual(len(attempts()), 5, "no attempt after the 200%s" % self.log())

    def test_eventbridge_target_dead_letter_and_redrive(self):
        """An event whose target topic does not exist is a dead letter at once (EventBridge's
        NO_RESOURCE); once the topic exists with a subscriber, the redrive delivers it."""
        topic = self.create_topic("late-topic")
        pattern = json.dumps({"source": ["vigil.test.faults"]})
        self.aws("events", "put-rule", "--name", "faults", "--event-pattern", pattern)
        r = self.aws("events", "put-targets", "--rule", "faults", "--targets",
                     json.dumps([{"Id": "late", "Arn": topic}]))
        self.assertEqual(r["FailedEntryCount"], 0, r)
        self.aws("sns", "delete-topic", "--topic-arn", topic)

        nonce = uuid.uuid4().hex[:8]
        detail = {"nonce": nonce, "text": "イベント配信テスト"}
        r = self.aws("events", "put-events", "--entries", json.dumps([
            {"Source": "vigil.test.faults", "DetailType": "Fault Test",
             "Detail": json.dumps(detail)}]))
        self.assertEqual(r["FailedEntryCount"], 0, r)
        event_id = r["Entries"][0]["EventId"]
        dead = self.wait_for(lambda: self.dead_letters_with(event_id), 30,
                             "the event's dead letter")
        self.assertEqual(len(dead), 1, dead)
        self.assertEqual(dead[0]["kind"], "eventbridge-target")
        self.assertEqual(dead[0]["target_id"], "late")
        self.assertEqual(dead[0]["target_arn"], topic)
        self.assertIn("NO_RESOURCE", dead[0]["error"])
        self.assertEqual(json.loads(dead[0]["message"])["detail"], detail)

        hook = Hook()
        hook.status = 200
        self.hooks.append(hook)
        self.assertEqual(self.create_topic("late-topic"), topic)
        self.subscribe_http(topic, hook)
        self.vigil("events", "dlq", "redrive", "--data-dir", self.srv.data_dir, "--all")

        def delivered():
            out = []
            for g in hook.of_type("Notification"):
                try:
                    ev = json.loads(g["doc"]["Message"])
                except (ValueError, TypeError, KeyError):
                    continue
                if ev.get("id") == event_id:
                    out.append(ev)
            return out
        ev = self.wait_for(delivered, 30, "the redriven event at the subscriber")[0]
        self.assertEqual(ev["source"], "vigil.test.faults")
        self.assertEqual(ev["detail-type"], "Fault Test")
        self.assertEqual(ev["detail"], detail)
        self.wait_for(lambda: not self.dead_letters_with(event_id), 10,
                      "the dead letter to leave the list")
        time.sleep(1)
        self.assertEqual(len(delivered()), 1)


if __name__ == "__main__":
    unittest.main()
