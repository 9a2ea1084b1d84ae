/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: SigV4 verification of arbitrary requests, written as "METHOD target" then
 * "Name:value" header lines, a blank line and the body. Checks that verify() never accepts
 * under a key it was not given, that the Authorization parser agrees with it, and that a
 * request re-signed by sigv4_sign() verifies. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/sigv4.h"
#include "base/xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW  1440938160 /* 20150830T123600Z, the test suite's time */
#define DATE "20150830T123600Z"

static struct sigv4_keyring *keyring(void)
{
    static struct sigv4_keyring *kr;
    if (!kr) {
        kr = sigv4_keyring_new();
        BUG_ON(sigv4_keyring_add(kr, "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY") !=
               0);
        BUG_ON(sigv4_keyring_add(kr, "test", "test") != 0);
    }
    return kr;
}

static void add_header(struct http_req *req, struct arena *a, struct str name, struct str value)
{
    struct http_kv kv = { arena_strndup(a, name.ptr, name.len),
                          arena_strndup(a, value.ptr, value.len) };
    VEC_PUSH(&req->headers, kv);
}

static bool has_header(const struct http_req *req, const char *name)
{
    for (size_t i = 0; i < req->headers.n; i++)
        if (strcasecmp(req->headers.v[i].name, name) == 0)
            return true;
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0;
    struct str in = str_make((const char *)data, size), head = in, body = STR_NULL;
    for (size_t i = 0; i + 1 < size; i++)
        if (data[i] == '\n' && data[i + 1] == '\n') {
            head = str_make(in.ptr, i);
            body = str_make(in.ptr + i + 2, size - i - 2);
            break;
        }
    struct arena a;
    arena_init(&a);
    struct http_req req;
    memset(&req, 0, sizeof(req));
    req.arena = &a;
    struct str cur = head, line;
    if (!str_next_line(&cur, &line))
        line = STR_NULL;
    struct str target = line, method, path;
    str_cut(&target, ' ', &method);
    for (size_t i = target.len; i > 0; i--)
        if (target.ptr[i - 1] == ' ') { /* drop " HTTP/1.1" */
            target.len = i - 1;
            break;
        }
    bool q = str_cut(&target, '?', &path);
    req.method_str = arena_strndup(&a, method.ptr, method.len);
    req.path = arena_strndup(&a, path.ptr, path.len);
    req.raw_query = q ? arena_strndup(&a, target.ptr, target.len) : "";
    while (str_next_line(&cur, &line)) {
        struct str value = line, name;
        if (str_cut(&value, ':', &name))
            add_header(&req, &a, name, value);
    }

    /* The parser alone, on every header line's value. */
    for (size_t i = 0; i < req.headers.n; i++) {
        struct sigv4_auth au;
        struct diag d = { 0 };
        if (sigv4_parse_authorization(str_from(req.headers.v[i].value), &au, &d) == 0) {
            BUG_ON(au.signature.len != 64 || au.date.len != 8 || au.access_key.len == 0);
            BUG_ON(au.signed_headers.len == 0);
        } else {
            BUG_ON(d.msg[0] == '\0');
        }
    }

    struct sigv4_result res;
    struct diag d = { 0 };
    int rc = sigv4_verify(keyring(), &req, body.ptr, body.len, NOW, 0, &res, &d);
    BUG_ON(rc != 0 && rc != -ERR_UNAUTHORIZED);
    BUG_ON((rc == 0) != (res.status == SIGV4_OK));
    BUG_ON(rc != 0 && d.msg[0] == '\0');
    if (rc == 0) {
        /* accepted: so the same request fails under an empty keyring */
        struct sigv4_keyring *none = sigv4_keyring_new();
        BUG_ON(sigv4_verify(none, &req, body.ptr, body.len, NOW, 0, &res, &d) == 0);
        BUG_ON(res.status != SIGV4_UNKNOWN_KEY);
        sigv4_keyring_free(none);
    }

    /* Re-sign a request that carries a Host and no auth headers of its own: it must verify. */
    if (*req.method_str && has_header(&req, "host") && !has_header(&req, "authorization") &&
        !has_header(&req, "x-amz-date") && !has_header(&req, "x-amz-content-sha256")) {
        add_header(&req, &a, STR_LIT("X-Amz-Date"), STR_LIT(DATE));
        struct sigv4_cred cred = { "test", "test" };
        struct buf authz;
        buf_init(&authz, 8192);
        if (sigv4_sign(&cred, "us-east-1", "ecr", DATE, &req, body.ptr, body.len,
                       STR_LIT("host;x-amz-date"), &authz, &d) == 0) {
            add_header(&req, &a, STR_LIT("Authorization"), buf_str(&authz));
            rc = sigv4_verify(keyring(), &req, body.ptr, body.len, NOW, 0, &res, &d);
            BUG_ON(rc != 0);
            BUG_ON(strcmp(res.service, "ecr") != 0 || strcmp(res.access_key, "test") != 0);
        }
        buf_release(&authz);
    }
    VEC_FREE(&req.headers);
    arena_release(&a);
    return 0;
}
