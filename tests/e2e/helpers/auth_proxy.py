# SPDX-License-Identifier: Apache-2.0
"""A registry front end that demands authentication and forwards to a plain registry
(standard library only). For vigil's image-source tests.

Modes:
  basic   every /v2/ request needs `Authorization: Basic` with the configured user/password;
          otherwise 401 with `WWW-Authenticate: Basic realm="..."`.
  bearer  every /v2/ request needs `Authorization: Bearer <token>`; otherwise 401 with
          `WWW-Authenticate: Bearer realm="http://HOST:PORT/token",service="vigil-test"`
          (plus scope="repository:REPO:pull" on repository URLs). GET /token?service=&scope=
          hands out a token for that scope (requiring Basic credentials when a user is set),
          as {"token": ...} or, with token_field="access_token", {"access_token": ...}.
          A token only opens the repositories its scope names.

canned: {path: (content_type, body, headers)} answers those paths itself (after the auth
check), e.g. to serve a schema 1 manifest the upstream registry would refuse to store.

With redirect_blobs=True, blob GETs that pass the auth check answer 307 with a Location on
another host name (`localhost` when the client used 127.0.0.1, and the other way round) under
/_storage/, which serves the blob without any authentication and records whether an
Authorization header reached it (a registry must not forward credentials to storage).

Usage from a test:
    p = AuthProxy("127.0.0.1:5000", mode="bearer", user="u", password="p")
    p.start(); ... p.url ... ; p.stop()
Or standalone: python3 auth_proxy.py UPSTREAM MODE [USER PASS]  (prints the port, serves until
interrupted).
"""

import base64
import hashlib
import http.client
import http.server
import json
import re
import sys
import threading
import urllib.parse

CHUNK = 1 << 16


class AuthProxy:
    def __init__(self, upstream, mode="bearer", user=None, password=None,
                 token_field="token", redirect_blobs=False, host="127.0.0.1", canned=None):
        assert mode in ("basic", "bearer")
        self.upstream = upstream
        self.mode = mode
        self.user = user
        self.password = password
        self.token_field = token_field
        self.redirect_blobs = redirect_blobs
        self.canned = dict(canned or {})
        self.host = host
        self.lock = threading.Lock()
        self.token_requests = []      # (service, scope, had_basic)
        self.requests = []            # (method, path, authorization or None, client port)
        self.storage_auth_leaks = 0   # storage requests that carried Authorization
        self.storage_requests = 0
        self.server = None
        self.thread = None

    # -- lifecycle ------------------------------------------------------------------------
    def start(self):
        proxy = self

        class Handler(_Handler):
            pass
        Handler.proxy = proxy
        self.server = http.server.ThreadingHTTPServer((self.host, 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = "%s:%d" % (self.host, self.port)
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.thread.join(timeout=10)
            self.server = None

    # -- auth -----------------------------------------------------------------------------
    def token_for(self, scope):
        # deterministic, but not guessable without the secret
        return "tok-" + hashlib.sha256(("vigil-test-secret|" + scope).encode()).hexdigest()

    def basic_ok(self, header):
        if not header or not header.startswith("Basic "):
            return False
        try:
            raw = base64.b64decode(header[6:].strip()).decode()
        except ValueError:
            return False
        return raw == "%s:%s" % (self.user, self.password)


def _repo_of(path):
    m = re.match(r"^/v2/(.+)/(manifests|blobs|tags)/", path)
    return m.group(1) if m else None


class _Handler(http.server.BaseHTTPRequestHandler):
    proxy = None
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # keep test output quiet
        pass

    def _reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _unauthorized(self, challenge):
        body = json.dumps({"errors": [{"code": "UNAUTHORIZED",
                                       "message": "authentication required"}]}).encode()
        self._reply(401, body, [("Content-Type", "application/json"),
                                ("WWW-Authenticate", challenge)])

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        p = self.proxy
        url = urllib.parse.urlsplit(self.path)
        auth = self.headers.get("Authorization")
        with p.lock:
            p.requests.append((self.command, url.path, auth, self.client_address[1]))
        if url.path == "/token":
            return self._token(url)
        if url.path.startswith("/_storage/"):
            return self._storage(url, auth)
        if not url.path.startswith("/v2/"):
            return self._reply(404, b"not found")
        repo = _repo_of(url.path)
        if p.mode == "basic":
            if not p.basic_ok(auth):
                return self._unauthorized('Basic realm="vigil-test"')
        else:
            scope = "repository:%s:pull" % repo if repo else None
            ok = False
            if auth and auth.startswith("Bearer "):
                tok = auth[7:].strip()
                # /v2/ itself: any token we issued; a repository: a token for its scope
                with p.lock:
                    issued = [p.token_for(s) for _, s, _ in p.token_requests if s]
                ok = tok == p.token_for(scope) if scope else tok in issued
            if not ok:
                ch = 'Bearer realm="http://%s/token",service="vigil-test"' % self.headers.get(
                    "Host", p.url)
                if scope:
                    ch += ',scope="%s"' % scope
                return self._unauthorized(ch)
        if url.path in p.canned:
            ctype, body, extra = p.canned[url.path]
            return self._reply(200, body, [("Content-Type", ctype)] + list(extra))
        if p.redirect_blobs and "/blobs/sha256:" in url.path:
            host = self.headers.get("Host", p.url)
            other = host.replace("127.0.0.1", "localhost") if host.startswith("127.0.0.1") \
                else host.replace("localhost", "127.0.0.1")
            loc = "http://%s/_storage%s?sig=abc" % (other, url.path)
            return self._reply(307, b"", [("Location", loc)])
        self._forward(url.path + (("?" + url.query) if url.query else ""))

    def _token(self, url):
        p = self.proxy
        q = urllib.parse.parse_qs(url.query)
        auth = self.headers.get("Authorization")
        scope = q.get("scope", [""])[0]
        with p.lock:
            p.token_requests.append((q.get("service", [""])[0], scope, bool(auth)))
        if p.user is not None and not p.basic_ok(auth):
            body = json.dumps({"errors": [{"code": "UNAUTHORIZED",
                                           "message": "bad credentials for the token"}]})
            return self._reply(401, body.encode(), [("Content-Type", "application/json")])
        if q.get("service", [""])[0] != "vigil-test":
            return self._reply(400, b'{"details":"wrong service"}')
        body = json.dumps({p.token_field: p.token_for(scope), "expires_in": 300}).encode()
        self._reply(200, body, [("Content-Type", "application/json")])

    def _storage(self, url, auth):
        p = self.proxy
        with p.lock:
            p.storage_requests += 1
            if auth:
                p.storage_auth_leaks += 1
        if auth:
            return self._reply(400, b"credentials must not be sent to storage")
        self._forward(url.path[len("/_storage"):])

    def _forward(self, path):
        p = self.proxy
        conn = http.client.HTTPConnection(p.upstream, timeout=30)
        try:
            hdrs = {}
            for k in ("Accept", "Range"):
                if self.headers.get(k):
                    hdrs[k] = self.headers.get(k)
            conn.request(self.command, path, headers=hdrs)
            r = conn.getresponse()
            self.send_response(r.status)
            length = r.getheader("Content-Length")
            for k, v in r.getheaders():
                if k.lower() in ("content-type", "docker-content-digest", "etag",
                                 "docker-distribution-api-version", "location"):
                    self.send_header(k, v)
            if length is not None:
                self.send_header("Content-Length", length)
            else:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            if self.command == "HEAD":
                return
            while True:
                chunk = r.read(CHUNK)
                if not chunk:
                    break
                self.wfile.write(chunk)
        finally:
            conn.close()


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    p = AuthProxy(argv[1], argv[2], *(argv[3:5]))
    p.start()
    print(p.port, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    p.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
