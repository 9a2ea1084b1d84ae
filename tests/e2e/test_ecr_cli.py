# SPDX-License-Identifier: Apache-2.0
"""The ECR control API driven by the real aws CLI v2 (/usr/bin/aws --endpoint-url) against
`vigil serve`: every operation and its errors (exit status 254 with the exception named),
pagination over several pages, SigV4 (unsigned, wrongly signed, unknown key, expired), bodies
the CLI never sends (not JSON, wrong types, missing members, oversized, wrong X-Amz-Target)
sent raw with a correct signature, `get-login-password` | `skopeo login` then a push, forged and
expired registry tokens, `aws ecr wait image-scan-complete`, and the findings of
debian-vuln:bookworm-oldpkgs compared with the independent matcher (refmatch.py).

The server is started with the settings `vigil serve` takes for the control API:
--aws-credentials FILE (aws CLI credentials the SigV4 verifier trusts), --account-id,
--region and --vulndb. The request signer used for raw requests is checked first against the
captured aws CLI vector of specs (aws-wire.md section 2)."""

import base64
import datetime
import hashlib
import hmac
import http.client
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

import vigil_e2e as E
from vigil_server import Server

AWS = "/usr/bin/aws"
ACCT = "210987654321"
REGION = "eu-central-1"
AKID, SECRET = "AKIDVIGILE2E", "vigil/e2e+Secret0123456789abcdefghijklmn"
OTHER_AKID, OTHER_SECRET = "AKIDOTHERKEY", "another-secret-0123456789"
TARGET = "AmazonEC2ContainerRegistry_V20150921."
CLI_ERROR = 254
CMD_TIMEOUT = 300
SCAN_IMAGE = "debian-vuln:bookworm-oldpkgs"
SMALL_IMAGE = "debian:bookworm-minbase"


# ---------------------------------------------------------------------------- SigV4 client

def _hmac(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def sigv4_headers(host, body, target, akid=AKID, secret=SECRET, region=REGION, service="ecr",
                  amz_date=None, content_type="application/x-amz-json-1.1"):
    """Headers for a signed AWS JSON 1.1 POST /, as botocore's SigV4Auth builds them."""
    amz_date = amz_date or datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    date = amz_date[:8]
    headers = {"content-type": content_type, "host": host, "x-amz-date": amz_date}
    if target is not None:
        headers["x-amz-target"] = target
    names = sorted(headers)
    canonical = "\n".join([
        "POST", "/", "",
        "".join("%s:%s\n" % (n, " ".join(headers[n].split())) for n in names),
        ";".join(names),
        hashlib.sha256(body).hexdigest()])
    scope = "%s/%s/%s/aws4_request" % (date, region, service)
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                     hashlib.sha256(canonical.encode()).hexdigest()])
    k = _hmac(("AWS4" + secret).encode(), date)
    k = _hmac(k, region)
    k = _hmac(k, service)
    k = _hmac(k, "aws4_request")
    sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    out = {"Content-Type": content_type, "X-Amz-Date": amz_date,
           "Authorization": "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s"
                            % (akid, scope, ";".join(names), sig)}
    if target is not None:
        out["X-Amz-Target"] = target
    return out, sig


def sh(argv, env=None, input=None, timeout=CMD_TIMEOUT, check=True):
    e = dict(os.environ)
    if env:
        e.update(env)
    try:
        p = subprocess.run(argv, env=e, input=input, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise AssertionError("%s: no answer within %ds" % (" ".join(argv), timeout)) from None
    if check and p.returncode != 0:
        raise AssertionError("%s -> exit %d\n%s" % (" ".join(argv), p.returncode,
                                                   p.stderr.decode("utf-8", "replace")[-3000:]))
    return p


class SignerVector(unittest.TestCase):
    """The raw-request signer above against the aws CLI request captured in the specs."""

    def test_captured_cli_vector(self):
        body = b'{"repositoryName": "my/repo", "imageId": {"imageTag": "latest"}}'
        self.assertEqual(hashlib.sha256(body).hexdigest(),
                         "d3082237c0d16ac796ad80581fc343f8d726e3867b2d381f7079649c42d06889")
        _, sig = sigv4_headers("127.0.0.1:18765", body, TARGET + "DescribeImageScanFindings",
                               akid="AKIDEXAMPLE",
                               secret="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                               region="us-east-1", amz_date="20261122T100946Z")
        self.assertEqual(sig, "0f6f72aed97415f3db9ab29bc777f99ebe75a5ee7899b317422df16cf290bcd0")


# ---------------------------------------------------------------------------- the server

class EcrServer:
    """One `vigil serve` with the control API settings, shared by a test class."""

    def __init__(self, tmp, vulndb, extra=()):
        self.tmp = tmp
        self.creds_file = os.path.join(tmp, "aws-credentials")
        with open(self.creds_file, "w") as f:
            f.write("[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n\n"
                    "[other]\naws_access_key_id = %s\naws_secret_access_key = %s\n"
                    % (AKID, SECRET, OTHER_AKID, OTHER_SECRET))
        args = ["--aws-credentials", self.creds_file, "--account-id", ACCT, "--region", REGION,
                "--vulndb", vulndb] + list(extra)
        self.srv = Server(args=args, users={"ops": "ops-password-1"}).start()
        self.home = os.path.join(tmp, "home")
        os.makedirs(self.home, exist_ok=True)

    def stop(self):
        self.srv.stop()
        shutil.rmtree(self.srv.data_dir, ignore_errors=True)

    def cli_env(self, akid=AKID, secret=SECRET):
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update({"HOME": self.home, "AWS_ACCESS_KEY_ID": akid,
                    "AWS_SECRET_ACCESS_KEY": secret, "AWS_DEFAULT_REGION": REGION,
                    "AWS_MAX_ATTEMPTS": "1", "AWS_RETRY_MODE": "standard", "AWS_PAGER": "",
                    "AWS_CONFIG_FILE": os.path.join(self.home, "no-config"),
                    "AWS_SHARED_CREDENTIALS_FILE": os.path.join(self.home, "no-credentials"),
                    "AWS_EC2_METADATA_DISABLED": "true"})
        return env

    def aws(self, *args, expect=0, akid=AKID, secret=SECRET, input=None, timeout=CMD_TIMEOUT):
        """Run `aws ecr ARGS`; returns (stdout text, stderr text). expect: exit status."""
        argv = [AWS, "--endpoint-url", self.srv.url, "ecr"] + list(args)
        try:
            p = subprocess.run(argv, env=self.cli_env(akid, secret), input=input,
                               capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("%s: no answer within %ds" % (" ".join(argv), timeout)) \
                from None
        out, err = p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")
        if expect is not None and p.returncode != expect:
            raise AssertionError("%s -> exit %d (want %d)\nstdout: %s\nstderr: %s\nserver: %s"
                                 % (" ".join(argv[3:]), p.returncode, expect, out[-2000:],
                                    err[-2000:], self.srv.log_tail(1500)))
        return out, err

    def aws_json(self, *args, **kw):
        out, _ = self.aws(*(list(args) + ["--output", "json"]), **kw)
        return json.loads(out) if out.strip() else {}

    def raw(self, body, target=TARGET + "ListImages", sign=True, headers=None, **signkw):
        """POST / with a body and (by default) a correct signature; returns (status, json)."""
        if isinstance(body, str):
            body = body.encode()
        h = {}
        if sign:
            h, _ = sigv4_headers(self.srv.host, body, target, **signkw)
        else:
            h = {"Content-Type": "application/x-amz-json-1.1"}
            if target is not None:
                h["X-Amz-Target"] = target
        h.update(headers or {})
        c = http.client.HTTPConnection("127.0.0.1", self.srv.port, timeout=60)
        try:
            c.request("POST", "/", body=body, headers=h)
            r = c.getresponse()
            data = r.read()
        finally:
            c.close()
        try:
            doc = json.loads(data) if data else {}
        except ValueError:
            doc = {"_raw": data[:300]}
        return r.status, doc

    def login(self, auth_file):
        """aws ecr get-login-password | skopeo login --password-stdin."""
        pw, _ = self.aws("get-login-password")
        sh(["skopeo", "login", "--tls-verify=false", "-u", "AWS", "--password-stdin",
            self.srv.host], env={"REGISTRY_AUTH_FILE": auth_file}, input=pw.strip().encode())
        return pw.strip()


def error_code(stderr):
    """The code in 'An error occurred (Code) when calling ...'."""
    i = stderr.find("An error occurred (")
    if i < 0:
        return None
    j = stderr.find(")", i)
    return stderr[i + len("An error occurred ("):j]


def tiny_layout(dst, ref, payload):
    """A one-layer OCI image built here (no test images needed)."""
    b = E.LayoutBuilder(None, None, dst, ref=ref)
    tar = E.make_tar([("etc/", None), ("etc/hello.txt", payload)])
    b.add_layer(E.gz(tar), E.sha256(tar))
    return b.write(), b


# ---------------------------------------------------------------------------- API tests

class EcrCliApi(unittest.TestCase):
    """Operations that need no real test image."""

    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="vigil-e2e-ecr-")
        cls.s = EcrServer(cls.tmp, E.shared_db())
        cls.auth_file = os.path.join(cls.tmp, "auth.json")

    @classmethod
    def tearDownClass(cls):
        cls.s.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def expect_error(self, code, *args, contains=None, **kw):
        _, err = self.s.aws(*args, expect=CLI_ERROR, **kw)
        self.assertEqual(error_code(err), code, err)
        if contains:
            self.assertIn(contains, err)
        return err

    def push_tiny(self, repo, tag, payload):
        layout = tempfile.mkdtemp(dir=self.tmp)
        digest, _ = tiny_layout(layout, "t", payload)
        self.s.login(self.auth_file)
        sh(["skopeo", "copy", "-q", "--dest-tls-verify=false", "oci:%s:t" % layout,
            "docker://%s/%s:%s" % (self.s.srv.host, repo, tag)],
           env={"REGISTRY_AUTH_FILE": self.auth_file})
        return digest

    # -- repositories

    def test_create_describe_delete_repository(self):
        r = self.s.aws_json("create-repository", "--repository-name", "cli/app",
                            "--image-tag-mutability", "IMMUTABLE",
                            "--image-scanning-configuration", "scanOnPush=true",
                            "--encryption-configuration", "encryptionType=AES256",
                            "--tags", "Key=team,Value=blue")["repository"]
        self.assertEqual(r["repositoryArn"],
                         "arn:aws:ecr:%s:%s:repository/cli/app" % (REGION, ACCT))
        self.assertEqual(r["registryId"], ACCT)
        self.assertEqual(r["repositoryUri"], "%s/cli/app" % self.s.srv.host)
        self.assertEqual(r["imageTagMutability"], "IMMUTABLE")
        self.assertEqual(r["imageScanningConfiguration"], {"scanOnPush": True})
        self.assertEqual(r["encryptionConfiguration"], {"encryptionType": "AES256"})
        created = datetime.datetime.fromisoformat(r["createdAt"])
        now = datetime.datetime.now(datetime.timezone.utc)
        self.assertLess(abs((now - created).total_seconds()), 600)

        err = self.expect_error("RepositoryAlreadyExistsException", "create-repository",
                                "--repository-name", "cli/app")
        self.assertIn("The repository with name 'cli/app' already exists in the registry with "
                      "id '%s'" % ACCT, err)
        self.expect_error("InvalidParameterException", "create-repository", "--repository-name",
                          "cli/kms", "--encryption-configuration", "encryptionType=KMS")
        self.expect_error("InvalidParameterException", "create-repository", "--repository-name",
                          "Upper/Case")
        self.expect_error("InvalidTagParameterException", "create-repository",
                          "--repository-name", "cli/tags", "--tags", "Key=aws:x,Value=1")

        d = self.s.aws_json("describe-repositories", "--repository-names", "cli/app")
        self.assertEqual(d["repositories"], [r])
        err = self.expect_error("RepositoryNotFoundException", "describe-repositories",
                                "--repository-names", "cli/none")
        self.assertIn("The repository with name 'cli/none' does not exist in the registry with "
                      "id '%s'" % ACCT, err)
        m = self.s.aws_json("put-image-tag-mutability", "--repository-name", "cli/app",
                            "--image-tag-mutability", "MUTABLE")
        self.assertEqual(m, {"registryId": ACCT, "repositoryName": "cli/app",
                             "imageTagMutability": "MUTABLE"})
        self.expect_error("RepositoryNotFoundException", "put-image-tag-mutability",
                          "--repository-name", "cli/none", "--image-tag-mutability", "MUTABLE")

        # not empty -> refused without --force
        self.push_tiny("cli/app", "v1", b"hello")
        err = self.expect_error("RepositoryNotEmptyException", "delete-repository",
                                "--repository-name", "cli/app")
        self.assertIn("cannot be deleted because it still contains images", err)
        gone = self.s.aws_json("delete-repository", "--repository-name", "cli/app", "--force")
        self.assertEqual(gone["repository"]["repositoryName"], "cli/app")
        self.expect_error("RepositoryNotFoundException", "delete-repository", "--repository-name",
                          "cli/app")
        # the registry forgot it too
        st, _, _ = self.s.srv.request("GET", "/v2/cli/app/manifests/v1",
                                      auth=("ops", "ops-password-1"))
        self.assertEqual(st, 404)

    def test_describe_repositories_pages(self):
        names = ["pg/r%02d" % i for i in range(7)]
        for n in names:
            self.s.aws("create-repository", "--repository-name", n)
        # the CLI follows nextToken page by page (maxResults 2: four requests)
        d = self.s.aws_json("describe-repositories", "--page-size", "2")
        got = [r["repositoryName"] for r in d["repositories"] if r["repositoryName"].startswith("pg/")]
        self.assertEqual(got, names)
        # one page by hand, then the rest from its token
        first = self.s.aws_json("describe-repositories", "--max-results", "2", "--no-paginate")
        self.assertEqual(len(first["repositories"]), 2)
        self.assertIn("nextToken", first)
        rest = self.s.aws_json("describe-repositories", "--no-paginate", "--next-token",
                               first["nextToken"], "--max-results", "1000")
        self.assertNotIn("nextToken", rest)
        total = [r["repositoryName"] for r in first["repositories"] + rest["repositories"]]
        self.assertEqual(total, sorted(total))
        self.assertTrue(set(names) <= set(total))
        self.expect_error("InvalidParameterException", "describe-repositories", "--no-paginate",
                          "--next-token", "not-a-token")
        self.expect_error("InvalidParameterException", "describe-repositories",
                          "--repository-names", names[0], "--max-results", "1", "--no-paginate")

    # -- images

    def test_images_list_describe_get_delete(self):
        repo = "img/tiny"
        self.s.aws("create-repository", "--repository-name", repo)
        d1 = self.push_tiny(repo, "v1", b"one")
        self.push_tiny(repo, "latest", b"one")            # same image, second tag
        d2 = self.push_tiny(repo, "v2", b"two, a longer layer")
        d3 = self.push_tiny(repo, "tmp", b"three")
        self.s.aws("batch-delete-image", "--repository-name", repo, "--image-ids",
                   "imageTag=tmp")                          # last tag: the image goes

        ids = self.s.aws_json("list-images", "--repository-name", repo)["imageIds"]
        self.assertEqual(sorted((i["imageDigest"], i.get("imageTag")) for i in ids),
                         sorted([(d1, "latest"), (d1, "v1"), (d2, "v2")]))
        # more than one page: maxResults 1 through the CLI's paginator
        paged = self.s.aws_json("list-images", "--repository-name", repo, "--page-size", "1")
        self.assertEqual(paged["imageIds"], ids)
        one = self.s.aws_json("list-images", "--repository-name", repo, "--max-results", "1",
                              "--no-paginate")
        self.assertEqual(len(one["imageIds"]), 1)
        self.assertIn("nextToken", one)
        tagged = self.s.aws_json("list-images", "--repository-name", repo, "--filter",
                                 "tagStatus=UNTAGGED")["imageIds"]
        self.assertEqual(tagged, [])

        det = self.s.aws_json("describe-images", "--repository-name", repo,
                              "--image-ids", "imageTag=v1")["imageDetails"]
        self.assertEqual(len(det), 1)
        self.assertEqual(det[0]["imageDigest"], d1)
        self.assertEqual(sorted(det[0]["imageTags"]), ["latest", "v1"])
        self.assertEqual(det[0]["registryId"], ACCT)
        self.assertEqual(det[0]["imageManifestMediaType"],
                         "application/vnd.oci.image.manifest.v1+json")
        # size = config + layers as the manifest declares them (ECR's rule)
        raw = self.s.aws_json("batch-get-image", "--repository-name", repo, "--image-ids",
                              "imageDigest=%s" % d1)
        man = json.loads(raw["images"][0]["imageManifest"])
        self.assertEqual(det[0]["imageSizeInBytes"],
                         man["config"]["size"] + sum(l["size"] for l in man["layers"]))
        self.assertEqual(E.sha256(raw["images"][0]["imageManifest"].encode()), d1)
        every = self.s.aws_json("describe-images", "--repository-name", repo, "--page-size",
                                "1")["imageDetails"]
        self.assertEqual(sorted(x["imageDigest"] for x in every), sorted([d1, d2]))
        err = self.expect_error("ImageNotFoundException", "describe-images", "--repository-name",
                                repo, "--image-ids", "imageTag=nope")
        self.assertIn("The image with imageId {imageDigest:'null', imageTag:'nope'} does not "
                      "exist within the repository with name '%s' in the registry with id '%s'"
                      % (repo, ACCT), err)
        self.expect_error("RepositoryNotFoundException", "list-images", "--repository-name",
                          "img/none")

        got = self.s.aws_json("batch-get-image", "--repository-name", repo, "--image-ids",
                              "imageTag=v2", "imageTag=nope",
                              "imageTag=v1,imageDigest=%s" % d2)
        self.assertEqual([i["imageId"] for i in got["images"]],
                         [{"imageDigest": d2, "imageTag": "v2"}])
        self.assertEqual([(f["imageId"], f["failureCode"]) for f in got["failures"]],
                         [({"imageTag": "nope"}, "ImageNotFound"),
                          ({"imageTag": "v1", "imageDigest": d2}, "ImageTagDoesNotMatchDigest")])
        # the manifest exactly as skopeo pushed it (its digest is the image digest)
        self.assertEqual(E.sha256(got["images"][0]["imageManifest"].encode()), d2)

        dl = self.s.aws_json("batch-delete-image", "--repository-name", repo, "--image-ids",
                             "imageDigest=%s" % d1, "imageTag=gone")
        self.assertEqual(sorted((i["imageDigest"], i["imageTag"]) for i in dl["imageIds"]),
                         [(d1, "latest"), (d1, "v1")])
        self.assertEqual(dl["failures"], [{"imageId": {"imageTag": "gone"},
                                           "failureCode": "ImageNotFound",
                                           "failureReason": "Requested image not found"}])
        self.assertNotEqual(d3, d1)

    # -- login

    def test_login_password_push_and_tokens(self):
        self.s.aws("create-repository", "--repository-name", "login/app")
        tok = self.s.aws_json("get-authorization-token")["authorizationData"]
        self.assertEqual(len(tok), 1)
        user, _, pw = base64.b64decode(tok[0]["authorizationToken"]).decode().partition(":")
        self.assertEqual(user, "AWS")
        self.assertEqual(tok[0]["proxyEndpoint"], self.s.srv.url)
        expires = datetime.datetime.fromisoformat(tok[0]["expiresAt"])
        left = (expires - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
        self.assertTrue(11 * 3600 < left <= 12 * 3600 + 60, left)

        auth = os.path.join(self.tmp, "login-auth.json")
        login_pw = self.s.login(auth)
        self.assertTrue(login_pw.startswith("vgt1."))
        layout = tempfile.mkdtemp(dir=self.tmp)
        digest, _ = tiny_layout(layout, "t", b"login")
        sh(["skopeo", "copy", "-q", "--dest-tls-verify=false", "oci:%s:t" % layout,
            "docker://%s/login/app:v1" % self.s.srv.host], env={"REGISTRY_AUTH_FILE": auth})
        ids = self.s.aws_json("list-images", "--repository-name", "login/app")["imageIds"]
        self.assertEqual(ids, [{"imageDigest": digest, "imageTag": "v1"}])

        def registry_status(password):
            st, _, _ = self.s.srv.request("GET", "/v2/login/app/manifests/v1",
                                          auth=("AWS", password))
            return st

        self.assertEqual(registry_status(login_pw), 200)
        # forged: one character of the MAC changed
        head, _, mac = login_pw.rpartition(".")
        forged = head + "." + ("A" if mac[0] != "A" else "B") + mac[1:]
        self.assertEqual(registry_status(forged), 401)
        # expired: a token made with the server's own key whose time is over
        with open(os.path.join(self.s.srv.data_dir, "token.key"), "rb") as f:
            key = f.read()
        now = int(time.time())

        def mint(issued, expires_at):
            payload = base64.urlsafe_b64encode(
                ("%d:%d:%s" % (issued, expires_at, AKID)).encode()).rstrip(b"=").decode()
            mac = hmac.new(key, ("vgt1." + payload).encode(), hashlib.sha256).digest()
            return "vgt1.%s.%s" % (payload,
                                   base64.urlsafe_b64encode(mac).rstrip(b"=").decode())

        self.assertEqual(registry_status(mint(now - 60, now + 3600)), 200)  # the format is right
        self.assertEqual(registry_status(mint(now - 7200, now - 3600)), 401)
        p = sh(["skopeo", "copy", "-q", "--dest-tls-verify=false", "--dest-creds",
                "AWS:" + mint(now - 7200, now - 1), "oci:%s:t" % layout,
                "docker://%s/login/app:v2" % self.s.srv.host], check=False,
               env={"REGISTRY_AUTH_FILE": os.path.join(self.tmp, "none.json")})
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("unauthorized", p.stderr.decode().lower())

    # -- SigV4 and bodies

    def test_signatures(self):
        self.expect_error("InvalidSignatureException", "describe-repositories",
                          secret="not-the-secret")
        self.expect_error("UnrecognizedClientException", "describe-repositories",
                          akid="AKIDUNKNOWN", secret=SECRET)
        # the second key of the credentials file works as well
        self.s.aws("describe-repositories", akid=OTHER_AKID, secret=OTHER_SECRET)

        body = b'{"repositoryName": "sig/none"}'
        st, doc = self.s.raw(body, sign=False)
        self.assertEqual((st, doc.get("__type")), (400, "MissingAuthenticationTokenException"))
        st, doc = self.s.raw(body, secret="wrong")
        self.assertEqual((st, doc.get("__type")), (400, "InvalidSignatureException"))
        old = (datetime.datetime.now(datetime.timezone.utc) -
               datetime.timedelta(minutes=30)).strftime("%Y%m%dT%H%M%SZ")
        st, doc = self.s.raw(body, amz_date=old)
        self.assertEqual((st, doc.get("__type")), (400, "InvalidSignatureException"))
        self.assertIn("expired", doc.get("message", "").lower())
        st, doc = self.s.raw(body, service="events")
        self.assertEqual(st, 400)
        self.assertIn(doc.get("__type"), ("InvalidSignatureException",
                                          "IncompleteSignatureException"))
        # a correct signature reaches the operation
        st, doc = self.s.raw(body)
        self.assertEqual((st, doc.get("__type")), (400, "RepositoryNotFoundException"))
        # the body is covered by the signature: one byte changed after signing is refused
        h, _ = sigv4_headers(self.s.srv.host, body, TARGET + "ListImages")
        c = http.client.HTTPConnection("127.0.0.1", self.s.srv.port, timeout=60)
        c.request("POST", "/", body=body.replace(b"none", b"nonf"), headers=h)
        r = c.getresponse()
        doc = json.loads(r.read())
        c.close()
        self.assertEqual((r.status, doc.get("__type")), (400, "InvalidSignatureException"))

    def test_bodies_the_cli_never_sends(self):
        cases = [
            (b"this is not json", "SerializationException"),
            (b"[1, 2]", "SerializationException"),
            (b'{"repositoryName": 12}', "SerializationException"),
            (b'{"repositoryName": "a", "maxResults": "ten"}', "SerializationException"),
            (b"{}", "InvalidParameterException"),                      # missing member
            (b'{"repositoryName": "x", "maxResults": 5000}', "InvalidParameterException"),
            (b'{"repositoryName": "UPPER"}', "InvalidParameterException"),
            (b'{"repositoryName": "x", "filter": {"tagStatus": "MAYBE"}}',
             "InvalidParameterException"),
        ]
        for body, code in cases:
            st, doc = self.s.raw(body)
            self.assertEqual(st, 400, body)
            self.assertEqual(doc.get("__type"), code, (body, doc))
        # oversized: more than 1 MiB (the server may answer before it has read the body)
        big = b'{"repositoryName": "' + b"a" * (1 << 20) + b'"}'
        h, _ = sigv4_headers(self.s.srv.host, big, TARGET + "ListImages")
        head = "POST / HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n%s\r\n" % (
            self.s.srv.host, len(big), "".join("%s: %s\r\n" % kv for kv in h.items()))
        sock = socket.create_connection(("127.0.0.1", self.s.srv.port), timeout=60)
        try:
            sock.sendall(head.encode())
            try:
                sock.sendall(big)
            except (BrokenPipeError, ConnectionResetError):
                pass
            answer = b""
            while b"\r\n" not in answer:
                try:
                    chunk = sock.recv(65536)
                except ConnectionResetError:
                    break
                if not chunk:
                    break
                answer += chunk
        finally:
            sock.close()
        self.assertTrue(answer.startswith(b"HTTP/1.1 413"), answer[:200])
        # wrong or missing targets
        for target in (TARGET + "NoSuchOperation", "AmazonEC2ContainerRegistry_V20150922.ListImages",
                       "ListImages", TARGET + "PutImage"):
            st, doc = self.s.raw(b'{"repositoryName": "x"}', target=target)
            self.assertEqual((st, doc.get("__type")), (400, "UnknownOperationException"), target)
        # the server is still fine
        self.s.aws("describe-repositories")

    def test_registry_id_of_another_account(self):
        self.s.aws("create-repository", "--repository-name", "acct/app")
        err = self.expect_error("RepositoryNotFoundException", "describe-repositories",
                                "--registry-id", "111122223333", "--repository-names",
                                "acct/app")
        self.assertIn("in the registry with id '111122223333'", err)
        self.expect_error("InvalidParameterException", "list-images", "--registry-id", "12",
                          "--repository-name", "acct/app")


# ---------------------------------------------------------------------------- scanning

class EcrCliScan(unittest.TestCase):
    """Scanning through the CLI on the real debian-vuln image; needs the test images."""

    maxDiff = None

    @classmethod
    def setUpClass(cls):
        E.require_images()
        cls.tmp = tempfile.mkdtemp(prefix="vigil-e2e-ecrscan-")
        cls.s = EcrServer(cls.tmp, E.shared_db())
        cls.auth_file = os.path.join(cls.tmp, "auth.json")
        cls.s.login(cls.auth_file)

    @classmethod
    def tearDownClass(cls):
        cls.s.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def push(self, ref, repo, tag):
        sh(["skopeo", "copy", "-q", "--dest-tls-verify=false", E.image_arg(ref),
            "docker://%s/%s:%s" % (self.s.srv.host, repo, tag)],
           env={"REGISTRY_AUTH_FILE": self.auth_file})

    def expect_error(self, code, *args):
        _, err = self.s.aws(*args, expect=CLI_ERROR)
        self.assertEqual(error_code(err), code, err)
        return err

    def test_scan_on_push_findings_match_reference(self):
        import refmatch
        import test_scan
        repo, tag = "scan/debian", "oldpkgs"
        self.s.aws("create-repository", "--repository-name", repo,
                   "--image-scanning-configuration", "scanOnPush=true")
        self.push(SCAN_IMAGE, repo, tag)
        # the waiter polls DescribeImageScanFindings every 5 s until COMPLETE (60 tries)
        self.s.aws("wait", "image-scan-complete", "--repository-name", repo, "--image-id",
                   "imageTag=" + tag, timeout=400)
        out, _ = self.s.aws("describe-image-scan-findings", "--repository-name", repo,
                            "--image-id", "imageTag=" + tag, "--query",
                            "imageScanFindings.findings[].[name,uri,severity]", "--output",
                            "text")
        rows = [l.split("\t") for l in out.splitlines() if l.strip()]
        self.assertTrue(rows, "no findings listed")
        for name, uri, sev in rows:
            self.assertTrue(uri.startswith("http"), uri)
            self.assertIn(sev, ("INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL",
                                "UNDEFINED"))
        _, _, ref_findings = test_scan.reference(SCAN_IMAGE)
        want = {f["id"] for f in ref_findings}
        self.assertEqual({r[0] for r in rows}, want)

        # the whole document: (CVE, package, version) as the reference has them, and counts
        doc = self.s.aws_json("describe-image-scan-findings", "--repository-name", repo,
                              "--image-id", "imageTag=" + tag)
        self.assertEqual(doc["imageScanStatus"]["status"], "COMPLETE")
        fs = doc["imageScanFindings"]["findings"]
        tri = set()
        for f in fs:
            attrs = {a["key"]: a["value"] for a in f.get("attributes", [])}
            tri.add((f["name"], attrs.get("package_name"), attrs.get("package_version")))
        self.assertEqual(tri, {t[:3] for t in refmatch.finding_tuples(ref_findings)})
        counts = doc["imageScanFindings"]["findingSeverityCounts"]
        self.assertEqual(sum(counts.values()), len(fs))
        # pages: the paginator merges them back; one page by hand has a token
        paged = self.s.aws_json("describe-image-scan-findings", "--repository-name", repo,
                                "--image-id", "imageTag=" + tag, "--page-size", "25")
        self.assertEqual(len(paged["imageScanFindings"]["findings"]), len(fs))
        one = self.s.aws_json("describe-image-scan-findings", "--repository-name", repo,
                              "--image-id", "imageTag=" + tag, "--max-results", "10",
                              "--no-paginate")
        self.assertEqual(len(one["imageScanFindings"]["findings"]), 10)
        self.assertIn("nextToken", one)
        self.assertEqual(one["imageScanFindings"]["findingSeverityCounts"], counts)

        det = self.s.aws_json("describe-images", "--repository-name", repo)["imageDetails"][0]
        self.assertEqual(det["imageScanStatus"]["status"], "COMPLETE")
        self.assertEqual(det["imageScanFindingsSummary"]["findingSeverityCounts"], counts)
        # scanned on push less than 24 hours ago: a manual scan is refused
        err = self.expect_error("LimitExceededException", "start-image-scan",
                                "--repository-name", repo, "--image-id", "imageTag=" + tag)
        self.assertIn("The scan quota per image has been exceeded", err)

    def test_enhanced_findings(self):
        import refmatch
        import test_scan
        repo, tag = "enh-debian", "oldpkgs"
        put = self.s.aws_json("put-registry-scanning-configuration", "--scan-type", "ENHANCED",
                              "--rules",
                              '[{"scanFrequency": "CONTINUOUS_SCAN", "repositoryFilters": '
                              '[{"filter": "enh-*", "filterType": "WILDCARD"}]}]')
        try:
            self.assertEqual(put["registryScanningConfiguration"]["scanType"], "ENHANCED")
            self.s.aws("create-repository", "--repository-name", repo)
            self.push(SCAN_IMAGE, repo, tag)
            # enhanced results are ACTIVE, not COMPLETE (the waiter is for basic scans), so
            # poll as a client would, bounded
            deadline = time.time() + 400
            status = None
            while time.time() < deadline:
                doc = self.s.aws_json("describe-image-scan-findings", "--repository-name", repo,
                                      "--image-id", "imageTag=" + tag, "--max-results", "1",
                                      "--no-paginate")
                status = doc["imageScanStatus"]["status"]
                if status not in ("PENDING", "IN_PROGRESS"):
                    break
                time.sleep(2)
            self.assertEqual(status, "ACTIVE", doc)
            full = self.s.aws_json("describe-image-scan-findings", "--repository-name", repo,
                                   "--image-id", "imageTag=" + tag, "--page-size", "40")
            enh = full["imageScanFindings"].get("enhancedFindings", [])
            self.assertNotIn("findings", full["imageScanFindings"])
            _, _, ref_findings = test_scan.reference(SCAN_IMAGE)
            want = refmatch.finding_tuples(ref_findings)
            got = test_scan.enhanced_tuples(full)
            self.assertEqual(len(got), len(set(got)))
            # CLI 2.9's model has no vulnerablePackages[].fixedInVersion, so the CLI drops it:
            # compare (id, package, installed) here, and the fixed-in versions on the raw wire
            self.assertEqual({t[:3] for t in got}, {t[:3] for t in want})
            wire, token = {"imageScanFindings": {"enhancedFindings": []}}, None
            for _ in range(100):
                body = {"repositoryName": repo, "imageId": {"imageTag": tag}, "maxResults": 20}
                if token:
                    body["nextToken"] = token
                st, page = self.s.raw(json.dumps(body),
                                      target=TARGET + "DescribeImageScanFindings")
                self.assertEqual(st, 200, page)
                wire["imageScanFindings"]["enhancedFindings"] += \
                    page["imageScanFindings"]["enhancedFindings"]
                token = page.get("nextToken")
                if not token:
                    break
            d = test_scan.diff_findings(SCAN_IMAGE, want,
                                        set(test_scan.enhanced_tuples(wire)))
            self.assertFalse(d, "\n" + d)
            f = enh[0]
            self.assertTrue(f["findingArn"].startswith("arn:aws:inspector2:%s:%s:finding/"
                                                       % (REGION, ACCT)), f["findingArn"])
            self.assertEqual(f["awsAccountId"], ACCT)
            self.assertEqual(f["status"], "ACTIVE")
            self.assertEqual(f["type"], "PACKAGE_VULNERABILITY")
            counts = full["imageScanFindings"]["findingSeverityCounts"]
            self.assertEqual(sum(counts.values()), len(enh))
            # one page by hand: its token continues where it stopped
            p1 = self.s.aws_json("describe-image-scan-findings", "--repository-name", repo,
                                 "--image-id", "imageTag=" + tag, "--max-results", "7",
                                 "--no-paginate")
            p2 = self.s.aws_json("describe-image-scan-findings", "--repository-name", repo,
                                 "--image-id", "imageTag=" + tag, "--max-results", "7",
                                 "--no-paginate", "--next-token", p1["nextToken"])
            arns = [x["findingArn"] for x in p1["imageScanFindings"]["enhancedFindings"] +
                    p2["imageScanFindings"]["enhancedFindings"]]
            self.assertEqual(arns, [x["findingArn"] for x in enh[:14]])
            # a token is bound to its image
            self.s.aws("create-repository", "--repository-name", "enh-other")
            self.push(SMALL_IMAGE, "enh-other", "v1")
            _, err = self.s.aws("describe-image-scan-findings", "--repository-name", "enh-other",
                                "--image-id", "imageTag=v1", "--no-paginate", "--next-token",
                                p1["nextToken"], expect=CLI_ERROR)
            self.assertEqual(error_code(err), "InvalidParameterException", err)
        finally:
            self.s.aws("put-registry-scanning-configuration", "--scan-type", "BASIC", "--rules",
                       "[]")

    def test_manual_scan_and_errors(self):
        repo = "scan/manual"
        self.s.aws("create-repository", "--repository-name", repo)
        self.push(SMALL_IMAGE, repo, "v1")
        self.expect_error("ScanNotFoundException", "describe-image-scan-findings",
                          "--repository-name", repo, "--image-id", "imageTag=v1")
        st = self.s.aws_json("start-image-scan", "--repository-name", repo, "--image-id",
                             "imageTag=v1")
        self.assertEqual(st["imageScanStatus"]["status"], "IN_PROGRESS")
        self.assertEqual(st["repositoryName"], repo)
        self.assertEqual(st["registryId"], ACCT)
        self.s.aws("wait", "image-scan-complete", "--repository-name", repo, "--image-id",
                   "imageTag=v1", timeout=400)
        self.expect_error("LimitExceededException", "start-image-scan", "--repository-name", repo,
                          "--image-id", "imageTag=v1")
        self.expect_error("ImageNotFoundException", "start-image-scan", "--repository-name", repo,
                          "--image-id", "imageTag=nope")
        self.expect_error("RepositoryNotFoundException", "start-image-scan", "--repository-name",
                          "scan/none", "--image-id", "imageTag=v1")
        self.expect_error("ImageNotFoundException", "describe-image-scan-findings",
                          "--repository-name", repo, "--image-id", "imageTag=nope")

    def test_scanning_configuration(self):
        cfg = self.s.aws_json("get-registry-scanning-configuration")
        self.assertEqual(cfg["registryId"], ACCT)
        self.assertIn(cfg["scanningConfiguration"]["scanType"], ("BASIC", "ENHANCED"))
        put = self.s.aws_json("put-registry-scanning-configuration", "--scan-type", "BASIC",
                              "--rules",
                              '[{"scanFrequency": "SCAN_ON_PUSH", "repositoryFilters": '
                              '[{"filter": "auto-*", "filterType": "WILDCARD"}]}]')
        self.assertEqual(put["registryScanningConfiguration"]["rules"][0]["repositoryFilters"],
                         [{"filter": "auto-*", "filterType": "WILDCARD"}])
        got = self.s.aws_json("get-registry-scanning-configuration")
        self.assertEqual(got["scanningConfiguration"], put["registryScanningConfiguration"])
        self.expect_error("InvalidParameterException", "put-registry-scanning-configuration",
                          "--scan-type", "BASIC", "--rules",
                          '[{"scanFrequency": "SCAN_ON_PUSH", "repositoryFilters": '
                          '[{"filter": "Bad Filter", "filterType": "WILDCARD"}]}]')
        # a repository the rule matches is scanned on push without its own flag
        self.s.aws("create-repository", "--repository-name", "auto-scan")
        self.push(SMALL_IMAGE, "auto-scan", "v1")
        self.s.aws("wait", "image-scan-complete", "--repository-name", "auto-scan", "--image-id",
                   "imageTag=v1", timeout=400)
        r = self.s.aws_json("put-image-scanning-configuration", "--repository-name", "auto-scan",
                            "--image-scanning-configuration", "scanOnPush=true")
        self.assertEqual(r, {"registryId": ACCT, "repositoryName": "auto-scan",
                             "imageScanningConfiguration": {"scanOnPush": True}})
        d = self.s.aws_json("describe-repositories", "--repository-names", "auto-scan")
        self.assertTrue(d["repositories"][0]["imageScanningConfiguration"]["scanOnPush"])
        self.expect_error("RepositoryNotFoundException", "put-image-scanning-configuration",
                          "--repository-name", "auto-none", "--image-scanning-configuration",
                          "scanOnPush=true")
        # back to the default for the other tests
        self.s.aws("put-registry-scanning-configuration", "--scan-type", "BASIC", "--rules", "[]")


if __name__ == "__main__":
    unittest.main()
