/* SPDX-License-Identifier: Apache-2.0 */
/* SigV4 verification as the aws CLI (botocore SigV4Auth) signs: keyring from a credentials
 * file, Authorization parsing, canonical request, string to sign, HMAC chain, replay cache. */
#include "sigv4.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/hash.h"
#include "base/vec.h"
#include "base/xalloc.h"

#define ALGORITHM        "AWS4-HMAC-SHA256"
#define PATH_MAX_LEN     8192
#define QUERY_MAX_LEN    16384
#define QUERY_PARAMS_MAX 1024
#define HEADER_NAME_MAX  128

/* ---- Small helpers ---------------------------------------------------------------------- */

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static bool is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool is_hex64(struct str s, bool lower_only)
{
    if (s.len != 64)
        return false;
    for (size_t i = 0; i < 64; i++) {
        char c = s.ptr[i];
        if (lower_only ? !(is_digit(c) || (c >= 'a' && c <= 'f')) : hex_value(c) < 0)
            return false;
    }
    return true;
}

/* An access key id: it sits between '/' in the scope, so a conservative alphabet. */
static bool valid_key_id(struct str s)
{
    if (s.len == 0 || s.len > SIGV4_KEY_ID_MAX)
        return false;
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        if (!(is_unreserved(c) && c != '~'))
            return false;
    }
    return true;
}

static bool valid_secret(struct str s)
{
    if (s.len == 0 || s.len > SIGV4_SECRET_MAX)
        return false;
    for (size_t i = 0; i < s.len; i++)
        if ((unsigned char)s.ptr[i] < 0x21 || (unsigned char)s.ptr[i] > 0x7e)
            return false;
    return true;
}

/* Region and service names of the scope. */
static bool valid_scope_part(struct str s)
{
    if (s.len == 0 || s.len > SIGV4_SCOPE_PART_MAX)
        return false;
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        if (!(is_unreserved(c) && c != '~'))
            return false;
    }
    return true;
}

/* A lower-case HTTP header name (RFC 9110 token characters, no upper case). */
static bool valid_header_name(struct str s)
{
    if (s.len == 0 || s.len > HEADER_NAME_MAX)
        return false;
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        if ((c >= 'a' && c <= 'z') || is_digit((char)c))
            continue;
        if (c == '\0' || !strchr("!#$%&'*+-.^_`|~", c))
            return false;
    }
    return true;
}

static void copy_field(char *dst, size_t cap, struct str s)
{
    size_t n = s.len < cap - 1 ? s.len : cap - 1;
    if (n)
        memcpy(dst, s.ptr, n);
    dst[n] = '\0';
}

static int append_pct_encoded(struct buf *out, const unsigned char *p, size_t n, bool keep_slash)
{
    static const char hx[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = p[i];
        int rc;
        if (is_unreserved(c) || (keep_slash && c == '/')) {
            rc = buf_putc(out, (char)c);
        } else {
            char e[3] = { '%', hx[c >> 4], hx[c & 15] };
            rc = buf_append(out, e, 3);
        }
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Percent-decode s into out (a '%' not followed by two hex digits stays literal; '+' stays
 * '+', as botocore encodes a space as %20 in both the URL and the canonical query). */
static void pct_decode(struct str s, struct buf *out)
{
    for (size_t i = 0; i < s.len; i++) {
        int h = -1, l = -1;
        if (s.ptr[i] == '%' && i + 2 < s.len) {
            h = hex_value(s.ptr[i + 1]);
            l = hex_value(s.ptr[i + 2]);
        }
        if (h >= 0 && l >= 0) {
            BUG_ON(buf_putc(out, (char)(h << 4 | l)) < 0);
            i += 2;
        } else {
            BUG_ON(buf_putc(out, s.ptr[i]) < 0);
        }
    }
}

/* ---- Keyring ---------------------------------------------------------------------------- */

struct sigv4_key {
    char *akid;
    char *secret;
};

struct sigv4_keyring {
    VEC(struct sigv4_key) keys;
};

struct sigv4_keyring *sigv4_keyring_new(void)
{
    return xcalloc(1, sizeof(struct sigv4_keyring));
}

void sigv4_keyring_free(struct sigv4_keyring *kr)
{
    if (!kr)
        return;
    for (size_t i = 0; i < kr->keys.n; i++) {
        free(kr->keys.v[i].akid);
        OPENSSL_cleanse(kr->keys.v[i].secret, strlen(kr->keys.v[i].secret));
        free(kr->keys.v[i].secret);
    }
    VEC_FREE(&kr->keys);
    free(kr);
}

static struct sigv4_key *keyring_find(const struct sigv4_keyring *kr, struct str akid)
{
    for (size_t i = 0; i < kr->keys.n; i++)
        if (str_eq_cstr(akid, kr->keys.v[i].akid))
            return &kr->keys.v[i];
    return NULL;
}

static int keyring_add_str(struct sigv4_keyring *kr, struct str akid, struct str secret)
{
    if (!valid_key_id(akid) || !valid_secret(secret))
        return -ERR_INVALID;
    struct sigv4_key *k = keyring_find(kr, akid);
    if (k)
        return str_eq_cstr(secret, k->secret) ? 0 : -ERR_INVALID;
    struct sigv4_key nk = { str_dup(akid), str_dup(secret) };
    VEC_PUSH(&kr->keys, nk);
    return 0;
}

int sigv4_keyring_add(struct sigv4_keyring *kr, const char *akid, const char *secret)
{
    if (!akid || !secret)
        return -ERR_INVALID;
    return keyring_add_str(kr, str_from(akid), str_from(secret));
}

const char *sigv4_keyring_lookup(const struct sigv4_keyring *kr, struct str akid)
{
    const struct sigv4_key *k = kr ? keyring_find(kr, akid) : NULL;
    return k ? k->secret : NULL;
}

size_t sigv4_keyring_count(const struct sigv4_keyring *kr)
{
    return kr ? kr->keys.n : 0;
}

/* The profile being read: where it started and the two keys seen so far. */
struct cred_profile {
    struct str name;
    size_t line;
    struct str akid, secret;
    bool has_akid, has_secret;
};

static int profile_finish(struct sigv4_keyring *kr, const struct cred_profile *p, struct diag *d)
{
    if (!p->name.ptr || (!p->has_akid && !p->has_secret))
        return 0;
    if (!p->has_akid || !p->has_secret)
        return diag_set(d, -ERR_INVALID, 0, "line %zu: profile '%.*s' has %s but no %s", p->line,
                        (int)(p->name.len > 64 ? 64 : p->name.len), p->name.ptr,
                        p->has_akid ? "aws_access_key_id" : "aws_secret_access_key",
                        p->has_akid ? "aws_secret_access_key" : "aws_access_key_id");
    int rc = keyring_add_str(kr, p->akid, p->secret);
    if (rc < 0)
        return diag_set(d, rc, 0,
                        "line %zu: profile '%.*s': unusable key id or secret, or the key id is "
                        "listed with another secret",
                        p->line, (int)(p->name.len > 64 ? 64 : p->name.len), p->name.ptr);
    return 0;
}

int sigv4_keyring_parse(struct sigv4_keyring *kr, struct str text, struct diag *d)
{
    struct str cur = text, raw;
    struct cred_profile prof = { 0 };
    size_t lineno = 0;
    int rc;
    while (str_next_line(&cur, &raw)) {
        lineno++;
        size_t off = (size_t)(raw.ptr - text.ptr);
        struct str line = str_trim(raw);
        if (line.len == 0 || line.ptr[0] == '#' || line.ptr[0] == ';')
            continue;
        if (memchr(line.ptr, '\0', line.len))
            return diag_set(d, -ERR_INVALID, off, "line %zu: NUL byte", lineno);
        /* An indented line continues the value above it (nested settings): not ours. */
        if ((raw.ptr[0] == ' ' || raw.ptr[0] == '\t') && prof.name.ptr)
            continue;
        if (line.ptr[0] == '[') {
            if (line.ptr[line.len - 1] != ']' || line.len < 3)
                return diag_set(d, -ERR_INVALID, off, "line %zu: malformed section header", lineno);
            rc = profile_finish(kr, &prof, d);
            if (rc < 0) {
                if (d)
                    d->offset = off;
                return rc;
            }
            struct str name = str_trim(str_make(line.ptr + 1, line.len - 2));
            if (str_has_prefix(name, "profile ") || str_has_prefix(name, "profile\t"))
                name = str_trim(str_make(name.ptr + 8, name.len - 8));
            if (name.len == 0)
                return diag_set(d, -ERR_INVALID, off, "line %zu: empty profile name", lineno);
            prof = (struct cred_profile){ .name = name, .line = lineno };
            continue;
        }
        struct str val = line, key;
        if (!str_cut(&val, '=', &key))
            return diag_set(d, -ERR_INVALID, off, "line %zu: expected 'key = value'", lineno);
        key = str_trim(key);
        val = str_trim(val);
        if (!prof.name.ptr)
            return diag_set(d, -ERR_INVALID, off, "line %zu: key outside a [profile] section",
                            lineno);
        bool *has = NULL;
        struct str *slot = NULL;
        if (str_eq_cstr(key, "aws_access_key_id")) {
            has = &prof.has_akid;
            slot = &prof.akid;
        } else if (str_eq_cstr(key, "aws_secret_access_key")) {
            has = &prof.has_secret;
            slot = &prof.secret;
        }
        if (!has)
            continue;
        if (*has)
            return diag_set(d, -ERR_INVALID, off, "line %zu: duplicate key '%.*s'", lineno,
                            (int)key.len, key.ptr);
        *has = true;
        *slot = val;
    }
    rc = profile_finish(kr, &prof, d);
    return rc;
}

int sigv4_keyring_load(const char *path, struct sigv4_keyring **out, struct diag *d)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        return diag_set(d, -e, 0, "cannot open '%s': %s", path, strerror(e));
    }
    struct buf b;
    buf_init(&b, SIGV4_CREDS_FILE_MAX);
    int rc = 0;
    char chunk[8192];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = -errno;
            diag_set(d, rc, 0, "cannot read '%s': %s", path, strerror(-rc));
            goto out;
        }
        if (n == 0)
            break;
        rc = buf_append(&b, chunk, (size_t)n);
        if (rc < 0) {
            diag_set(d, rc, 0, "'%s' is larger than %u bytes", path, SIGV4_CREDS_FILE_MAX);
            goto out;
        }
    }
    struct sigv4_keyring *kr = sigv4_keyring_new();
    rc = sigv4_keyring_parse(kr, buf_str(&b), d);
    if (rc == 0 && kr->keys.n == 0)
        rc = diag_set(d, -ERR_INVALID, 0, "no aws_access_key_id/aws_secret_access_key pair");
    if (rc < 0) {
        diag_prefix(d, rc, "%s: ", path);
        sigv4_keyring_free(kr);
        goto out;
    }
    *out = kr;
out:
    if (b.data)
        OPENSSL_cleanse(b.data, b.len);
    buf_release(&b);
    close(fd);
    return rc;
}

/* ---- Authorization header --------------------------------------------------------------- */

static int parse_credential(struct str v, struct sigv4_auth *a, struct diag *d)
{
    struct str parts[5];
    size_t n = 0;
    struct str cur = v, head;
    bool more = true;
    while (more) {
        more = str_cut(&cur, '/', &head);
        if (n == 5)
            return diag_set(d, -ERR_INVALID, 0, "Credential has more than five '/' parts");
        parts[n++] = head;
    }
    if (n != 5)
        return diag_set(d, -ERR_INVALID, 0,
                        "Credential should be scoped to a valid region, not '%zu' parts", n);
    if (!valid_key_id(parts[0]))
        return diag_set(d, -ERR_INVALID, 0, "Credential has an invalid access key id");
    if (parts[1].len != 8)
        return diag_set(d, -ERR_INVALID, 0, "Credential date must be YYYYMMDD");
    for (size_t i = 0; i < 8; i++)
        if (!is_digit(parts[1].ptr[i]))
            return diag_set(d, -ERR_INVALID, 0, "Credential date must be YYYYMMDD");
    if (!valid_scope_part(parts[2]))
        return diag_set(d, -ERR_INVALID, 0, "Credential has an invalid region");
    if (!valid_scope_part(parts[3]))
        return diag_set(d, -ERR_INVALID, 0, "Credential has an invalid service");
    if (!str_eq_cstr(parts[4], "aws4_request"))
        return diag_set(d, -ERR_INVALID, 0,
                        "Credential should be scoped with a valid terminator: 'aws4_request'");
    a->access_key = parts[0];
    a->date = parts[1];
    a->region = parts[2];
    a->service = parts[3];
    return 0;
}

static int parse_signed_headers(struct str v, struct diag *d)
{
    struct str names[SIGV4_SIGNED_HDRS_MAX];
    size_t n = 0;
    bool has_host = false, more = true;
    struct str cur = v, name;
    while (more) {
        more = str_cut(&cur, ';', &name);
        if (!valid_header_name(name))
            return diag_set(d, -ERR_INVALID, 0,
                            "SignedHeaders must be a ';' list of lower-case header names");
        if (n == SIGV4_SIGNED_HDRS_MAX)
            return diag_set(d, -ERR_INVALID, 0, "SignedHeaders lists more than %d names",
                            SIGV4_SIGNED_HDRS_MAX);
        for (size_t i = 0; i < n; i++)
            if (str_eq(names[i], name))
                return diag_set(d, -ERR_INVALID, 0, "SignedHeaders lists '%.*s' twice",
                                (int)name.len, name.ptr);
        names[n++] = name;
        if (str_eq_cstr(name, "host"))
            has_host = true;
    }
    if (!has_host)
        return diag_set(d, -ERR_INVALID, 0, "SignedHeaders must include 'host'");
    return 0;
}

int sigv4_parse_authorization(struct str value, struct sigv4_auth *out, struct diag *d)
{
    memset(out, 0, sizeof(*out));
    struct str v = str_trim(value);
    if (v.len > SIGV4_AUTH_MAX)
        return diag_set(d, -ERR_INVALID, 0, "Authorization header is too long");
    if (!str_has_prefix(v, ALGORITHM) || v.len == strlen(ALGORITHM) ||
        !is_ws(v.ptr[strlen(ALGORITHM)]))
        return diag_set(d, -ERR_INVALID, 0,
                        "Authorization header requires the algorithm '" ALGORITHM "'");
    struct str rest = str_make(v.ptr + strlen(ALGORITHM), v.len - strlen(ALGORITHM));
    bool seen_cred = false, seen_sh = false, seen_sig = false, more = true;
    struct str item;
    while (more) {
        more = str_cut(&rest, ',', &item);
        item = str_trim(item);
        struct str val = item, name;
        if (!str_cut(&val, '=', &name))
            return diag_set(d, -ERR_INVALID, 0,
                            "Authorization header component is not 'Name=Value': '%.*s'",
                            (int)(item.len > 40 ? 40 : item.len), item.ptr);
        name = str_trim(name);
        val = str_trim(val);
        int rc;
        if (str_eq_cstr(name, "Credential")) {
            if (seen_cred)
                return diag_set(d, -ERR_INVALID, 0, "Authorization header repeats 'Credential'");
            seen_cred = true;
            rc = parse_credential(val, out, d);
        } else if (str_eq_cstr(name, "SignedHeaders")) {
            if (seen_sh)
                return diag_set(d, -ERR_INVALID, 0, "Authorization header repeats 'SignedHeaders'");
            seen_sh = true;
            out->signed_headers = val;
            rc = parse_signed_headers(val, d);
        } else if (str_eq_cstr(name, "Signature")) {
            if (seen_sig)
                return diag_set(d, -ERR_INVALID, 0, "Authorization header repeats 'Signature'");
            seen_sig = true;
            out->signature = val;
            rc = is_hex64(val, true)
                     ? 0
                     : diag_set(d, -ERR_INVALID, 0, "Signature must be 64 lower-case hex digits");
        } else {
            return diag_set(d, -ERR_INVALID, 0, "Authorization header has an unknown component");
        }
        if (rc < 0)
            return rc;
    }
    if (!seen_cred || !seen_sh || !seen_sig)
        return diag_set(d, -ERR_INVALID, 0, "Authorization header requires '%s' parameter.",
                        !seen_cred ? "Credential"
                        : !seen_sh ? "SignedHeaders"
                                   : "Signature");
    return 0;
}

/* ---- Canonical request ------------------------------------------------------------------ */

/* Canonical URI: dot segments and empty segments removed, a trailing '/' kept (botocore's
 * normalisation for every service but S3), each segment percent-encoded. */
static int canonical_uri(const char *path, struct buf *out)
{
    struct str p = str_from(path ? path : "/");
    if (p.len > PATH_MAX_LEN)
        return -ERR_TOO_BIG;
    struct str *segs = xmalloc(sizeof(*segs) * (p.len / 2 + 2));
    size_t n = 0;
    struct str cur = p, seg;
    bool more = true;
    while (more) {
        more = str_cut(&cur, '/', &seg);
        if (seg.len == 0 || str_eq_cstr(seg, "."))
            continue;
        if (str_eq_cstr(seg, "..")) {
            if (n)
                n--;
            continue;
        }
        segs[n++] = seg;
    }
    int rc = buf_putc(out, '/');
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = append_pct_encoded(out, (const unsigned char *)segs[i].ptr, segs[i].len, false);
        if (rc == 0 && i + 1 < n)
            rc = buf_putc(out, '/');
    }
    if (rc == 0 && n > 0 && p.len > 0 && p.ptr[p.len - 1] == '/')
        rc = buf_putc(out, '/');
    free(segs);
    return rc;
}

struct query_pair {
    size_t key_off, key_len, val_off, val_len; /* into the encoded text while it grows */
    const char *key, *val;                     /* set once it is complete */
};

static int cmp_slices(const char *a, size_t an, const char *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    if (c)
        return c;
    return an < bn ? -1 : an > bn ? 1 : 0;
}

/* By encoded name, then encoded value (byte order), as the canonical query wants. */
static int query_pair_cmp(const void *x, const void *y)
{
    const struct query_pair *a = x, *b = y;
    int c = cmp_slices(a->key, a->key_len, b->key, b->key_len);
    if (c)
        return c;
    return cmp_slices(a->val, a->val_len, b->val, b->val_len);
}

static int canonical_query(const char *raw_query, struct buf *out)
{
    struct str q = str_from(raw_query ? raw_query : "");
    if (q.len == 0)
        return 0;
    if (q.len > QUERY_MAX_LEN)
        return -ERR_TOO_BIG;
    /* Decoded bytes re-encoded can triple; the encoded text lives in enc. */
    struct buf enc, tmp;
    buf_init(&enc, q.len * 3 + 16);
    buf_init(&tmp, q.len + 16);
    VEC(struct query_pair) pairs = VEC_INIT;
    int rc = 0;
    struct str cur = q, item;
    bool more = true;
    while (more) {
        more = str_cut(&cur, '&', &item);
        if (item.len == 0)
            continue;
        if (pairs.n == QUERY_PARAMS_MAX) {
            rc = -ERR_TOO_BIG;
            goto out;
        }
        struct str val = item, key;
        str_cut(&val, '=', &key);
        struct query_pair qp = { 0 };
        buf_reset(&tmp);
        pct_decode(key, &tmp);
        qp.key_off = enc.len;
        BUG_ON(append_pct_encoded(&enc, (const unsigned char *)tmp.data, tmp.len, false) < 0);
        qp.key_len = enc.len - qp.key_off;
        buf_reset(&tmp);
        pct_decode(val, &tmp);
        qp.val_off = enc.len;
        BUG_ON(append_pct_encoded(&enc, (const unsigned char *)tmp.data, tmp.len, false) < 0);
        qp.val_len = enc.len - qp.val_off;
        VEC_PUSH(&pairs, qp);
    }
    for (size_t i = 0; i < pairs.n; i++) {
        pairs.v[i].key = enc.data + pairs.v[i].key_off;
        pairs.v[i].val = enc.data + pairs.v[i].val_off;
    }
    if (pairs.n > 1)
        qsort(pairs.v, pairs.n, sizeof(pairs.v[0]), query_pair_cmp);
    for (size_t i = 0; rc == 0 && i < pairs.n; i++) {
        const struct query_pair *p = &pairs.v[i];
        if (i)
            rc = buf_putc(out, '&');
        if (rc == 0)
            rc = buf_append(out, p->key, p->key_len);
        if (rc == 0)
            rc = buf_putc(out, '=');
        if (rc == 0)
            rc = buf_append(out, p->val, p->val_len);
    }
out:
    VEC_FREE(&pairs);
    buf_release(&enc);
    buf_release(&tmp);
    return rc;
}

/* Append one header value trimmed, with inner white space runs folded to one space. */
static int append_folded(struct buf *out, const char *value)
{
    struct str v = str_trim(str_from(value ? value : ""));
    bool in_ws = false;
    for (size_t i = 0; i < v.len; i++) {
        int rc = 0;
        if (is_ws(v.ptr[i])) {
            in_ws = true;
            continue;
        }
        if (in_ws)
            rc = buf_putc(out, ' ');
        in_ws = false;
        if (rc == 0)
            rc = buf_putc(out, v.ptr[i]);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static bool name_eq_nocase(const char *a, struct str b)
{
    return a && strlen(a) == b.len && strncasecmp(a, b.ptr, b.len) == 0;
}

static int canonical_headers(const struct http_req *req, struct str signed_headers, struct buf *out,
                             struct diag *d)
{
    struct str cur = signed_headers, name;
    bool more = true;
    size_t count = 0;
    while (more) {
        more = str_cut(&cur, ';', &name);
        if (!valid_header_name(name) || ++count > SIGV4_SIGNED_HDRS_MAX)
            return diag_set(d, -ERR_INVALID, 0, "malformed SignedHeaders list");
        int rc = buf_append_str(out, name);
        if (rc == 0)
            rc = buf_putc(out, ':');
        bool found = false;
        for (size_t i = 0; rc == 0 && i < req->headers.n; i++) {
            const struct http_kv *h = &req->headers.v[i];
            if (!name_eq_nocase(h->name, name))
                continue;
            if (found)
                rc = buf_putc(out, ',');
            if (rc == 0)
                rc = append_folded(out, h->value);
            found = true;
        }
        if (rc == 0)
            rc = buf_putc(out, '\n');
        if (rc < 0)
            return diag_set(d, rc, 0, "signed headers are too large");
        if (!found)
            return diag_set(d, -ERR_INVALID, 0, "signed header '%.*s' is not in the request",
                            (int)name.len, name.ptr);
    }
    return 0;
}

int sigv4_canonical_request(const struct http_req *req, struct str signed_headers,
                            struct str payload_hash, struct buf *out, struct diag *d)
{
    const char *method = req->method_str;
    if (!method || !*method)
        return diag_set(d, -ERR_INVALID, 0, "request has no method");
    int rc = buf_append_cstr(out, method);
    if (rc == 0)
        rc = buf_putc(out, '\n');
    if (rc == 0)
        rc = canonical_uri(req->path, out);
    if (rc == 0)
        rc = buf_putc(out, '\n');
    if (rc == 0)
        rc = canonical_query(req->raw_query, out);
    if (rc == 0)
        rc = buf_putc(out, '\n');
    if (rc < 0)
        return diag_set(d, rc, 0, "request path or query is too large");
    rc = canonical_headers(req, signed_headers, out, d);
    if (rc < 0)
        return rc;
    rc = buf_putc(out, '\n');
    if (rc == 0)
        rc = buf_append_str(out, signed_headers);
    if (rc == 0)
        rc = buf_putc(out, '\n');
    if (rc == 0)
        rc = buf_append_str(out, payload_hash);
    if (rc < 0)
        return diag_set(d, rc, 0, "canonical request is too large");
    return 0;
}

int sigv4_string_to_sign(struct str amz_date, struct str region, struct str service,
                         struct str canonical_request, struct buf *out)
{
    unsigned char h[SHA256_LEN];
    char hex[2 * SHA256_LEN + 1];
    sha256_buf(canonical_request.ptr, canonical_request.len, h);
    hex_encode(h, SHA256_LEN, hex);
    hex[sizeof(hex) - 1] = '\0';
    return buf_printf(out, ALGORITHM "\n%.*s\n%.*s/%.*s/%.*s/aws4_request\n%s", STR_FMT(amz_date),
                      (int)(amz_date.len < 8 ? amz_date.len : 8), amz_date.ptr, STR_FMT(region),
                      STR_FMT(service), hex);
}

static void hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len,
                        unsigned char out[32])
{
    unsigned int n = 0;
    BUG_ON(!HMAC(EVP_sha256(), key, (int)key_len, msg, msg_len, out, &n) || n != 32);
}

void sigv4_signing_key(struct str secret, struct str date, struct str region, struct str service,
                       unsigned char out[32])
{
    size_t kl = 4 + secret.len;
    unsigned char *k = xmalloc(kl);
    memcpy(k, "AWS4", 4); /* key bytes, not a string */
    if (secret.len)
        memcpy(k + 4, secret.ptr, secret.len);
    unsigned char a[32], b[32];
    hmac_sha256(k, kl, date.ptr, date.len, a);
    hmac_sha256(a, 32, region.ptr, region.len, b);
    hmac_sha256(b, 32, service.ptr, service.len, a);
    hmac_sha256(a, 32, "aws4_request", 12, out);
    OPENSSL_cleanse(k, kl);
    OPENSSL_cleanse(a, sizeof(a));
    OPENSSL_cleanse(b, sizeof(b));
    free(k);
}

/* All values of the named request header; *count says how many there were. */
static const char *find_header(const struct http_req *req, const char *name, size_t *count)
{
    const char *first = NULL;
    struct str n = str_from(name);
    *count = 0;
    for (size_t i = 0; i < req->headers.n; i++) {
        if (name_eq_nocase(req->headers.v[i].name, n)) {
            if (!first)
                first = req->headers.v[i].value ? req->headers.v[i].value : "";
            (*count)++;
        }
    }
    return first;
}

static void body_hash_hex(const char *body, size_t len, char hex[65])
{
    unsigned char h[SHA256_LEN];
    sha256_buf(body ? body : "", body ? len : 0, h);
    hex_encode(h, SHA256_LEN, hex);
    hex[64] = '\0';
}

/* Signature over an already-built canonical request. */
static void compute_signature(struct str secret, struct str amz_date, struct str region,
                              struct str service, struct str creq, unsigned char sig[32])
{
    struct buf sts;
    buf_init(&sts, 4096);
    BUG_ON(sigv4_string_to_sign(amz_date, region, service, creq, &sts) < 0);
    unsigned char key[32];
    sigv4_signing_key(secret, str_make(amz_date.ptr, 8), region, service, key);
    hmac_sha256(key, 32, sts.data, sts.len, sig);
    OPENSSL_cleanse(key, sizeof(key));
    buf_release(&sts);
}

int sigv4_sign(const struct sigv4_cred *cred, const char *region, const char *service,
               const char *amz_date, const struct http_req *req, const char *body, size_t body_len,
               struct str signed_headers, struct buf *out, struct diag *d)
{
    struct str date = str_from(amz_date);
    if (date.len < 8 || !valid_scope_part(str_from(region)) || !valid_scope_part(str_from(service)))
        return diag_set(d, -ERR_INVALID, 0, "bad date, region or service");
    char hex[65];
    size_t n;
    const char *hdr = find_header(req, "x-amz-content-sha256", &n);
    if (!hdr) {
        body_hash_hex(body, body_len, hex);
        hdr = hex;
    }
    struct buf creq;
    buf_init(&creq, 1u << 20);
    int rc = sigv4_canonical_request(req, signed_headers, str_from(hdr), &creq, d);
    if (rc == 0) {
        unsigned char sig[32];
        char sighex[65];
        compute_signature(str_from(cred->secret), date, str_from(region), str_from(service),
                          buf_str(&creq), sig);
        hex_encode(sig, 32, sighex);
        sighex[64] = '\0';
        rc = buf_printf(out,
                        ALGORITHM " Credential=%s/%.8s/%s/%s/aws4_request, SignedHeaders=%.*s, "
                                  "Signature=%s",
                        cred->access_key, amz_date, region, service, STR_FMT(signed_headers),
                        sighex);
    }
    buf_release(&creq);
    return rc;
}

/* ---- Time ------------------------------------------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static unsigned digits(const char *p, size_t n)
{
    unsigned v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (unsigned)(p[i] - '0');
    return v;
}

bool sigv4_parse_amz_date(struct str s, int64_t *out)
{
    if (s.len != 16 || s.ptr[8] != 'T' || s.ptr[15] != 'Z')
        return false;
    for (size_t i = 0; i < 15; i++)
        if (i != 8 && !is_digit(s.ptr[i]))
            return false;
    unsigned y = digits(s.ptr, 4), mo = digits(s.ptr + 4, 2), d = digits(s.ptr + 6, 2);
    unsigned h = digits(s.ptr + 9, 2), mi = digits(s.ptr + 11, 2), se = digits(s.ptr + 13, 2);
    static const unsigned mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || se > 59)
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > mdays[mo - 1] + (mo == 2 && leap))
        return false;
    *out = days_from_civil(y, mo, d) * 86400 + (int64_t)h * 3600 + (int64_t)mi * 60 + se;
    return true;
}

static void format_amz_date(int64_t t, char out[17])
{
    int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
    int64_t secs = t - days * 86400;
    /* civil_from_days */
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned d = doy - (153 * mp + 2) / 5 + 1;
    unsigned m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
    if (y < 0 || y > 9999) {
        memcpy(out, y < 0 ? "00000101T000000Z" : "99991231T235959Z", 17);
        return;
    }
    unsigned v[6] = {
        (unsigned)y,          m, d, (unsigned)(secs / 3600), (unsigned)(secs / 60 % 60),
        (unsigned)(secs % 60)
    };
    char *p = out;
    for (size_t i = 0; i < 6; i++) {
        if (i == 3)
            *p++ = 'T';
        for (int w = i == 0 ? 1000 : 10; w > 0; w /= 10)
            *p++ = (char)('0' + v[i] / (unsigned)w % 10);
    }
    *p++ = 'Z';
    *p = '\0';
}

/* ---- Verification ----------------------------------------------------------------------- */

const char *sigv4_status_json_error(enum sigv4_status st)
{
    switch (st) {
    case SIGV4_OK:
        return "";
    case SIGV4_MISSING:
        return "MissingAuthenticationTokenException";
    case SIGV4_INCOMPLETE:
        return "IncompleteSignatureException";
    case SIGV4_UNKNOWN_KEY:
        return "UnrecognizedClientException";
    case SIGV4_EXPIRED:
    case SIGV4_MISMATCH:
    case SIGV4_REPLAYED:
        return "InvalidSignatureException";
    }
    return "InvalidSignatureException";
}

const char *sigv4_status_query_error(enum sigv4_status st)
{
    switch (st) {
    case SIGV4_OK:
        return "";
    case SIGV4_MISSING:
        return "MissingAuthenticationToken";
    case SIGV4_INCOMPLETE:
        return "IncompleteSignature";
    case SIGV4_UNKNOWN_KEY:
        return "InvalidClientTokenId";
    case SIGV4_EXPIRED:
    case SIGV4_MISMATCH:
    case SIGV4_REPLAYED:
        return "SignatureDoesNotMatch";
    }
    return "SignatureDoesNotMatch";
}

int sigv4_status_http(enum sigv4_status st, bool query_protocol)
{
    if (st == SIGV4_OK)
        return 200;
    if (query_protocol || st == SIGV4_MISSING)
        return 403;
    return 400;
}

static const char msg_mismatch[] =
    "The request signature we calculated does not match the signature you provided. Check your "
    "AWS Secret Access Key and signing method. Consult the service documentation for details.";

static int fail(struct sigv4_result *res, enum sigv4_status st)
{
    res->status = st;
    return -ERR_UNAUTHORIZED;
}

int sigv4_verify(const struct sigv4_keyring *kr, const struct http_req *req, const char *body,
                 size_t body_len, int64_t now, int64_t max_skew_s, struct sigv4_result *res,
                 struct diag *d)
{
    memset(res, 0, sizeof(*res));
    if (max_skew_s <= 0)
        max_skew_s = SIGV4_DEFAULT_SKEW_S;

    size_t n;
    const char *authz = find_header(req, "authorization", &n);
    if (!authz) {
        diag_set(d, -ERR_UNAUTHORIZED, 0, "Missing Authentication Token");
        return fail(res, SIGV4_MISSING);
    }
    if (n > 1) {
        diag_set(d, -ERR_UNAUTHORIZED, 0, "Only one Authorization header is allowed");
        return fail(res, SIGV4_INCOMPLETE);
    }
    struct sigv4_auth a;
    if (sigv4_parse_authorization(str_from(authz), &a, d) < 0)
        return fail(res, SIGV4_INCOMPLETE);
    copy_field(res->access_key, sizeof(res->access_key), a.access_key);
    copy_field(res->date, sizeof(res->date), a.date);
    copy_field(res->region, sizeof(res->region), a.region);
    copy_field(res->service, sizeof(res->service), a.service);

    const char *amz = find_header(req, "x-amz-date", &n);
    if (!amz) {
        diag_set(d, -ERR_UNAUTHORIZED, 0,
                 "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' "
                 "header.");
        return fail(res, SIGV4_INCOMPLETE);
    }
    struct str amz_s = str_trim(str_from(amz));
    if (n > 1 || !sigv4_parse_amz_date(amz_s, &res->request_time)) {
        diag_set(d, -ERR_UNAUTHORIZED, 0, "X-Amz-Date must be one YYYYMMDD'T'HHMMSS'Z' value");
        return fail(res, SIGV4_INCOMPLETE);
    }
    copy_field(res->amz_date, sizeof(res->amz_date), amz_s);
    if (memcmp(res->date, amz_s.ptr, 8) != 0) {
        diag_set(d, -ERR_UNAUTHORIZED, 0,
                 "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
                 "from HTTP: '%.8s' != '%.8s', from '%s'.",
                 a.date.ptr, amz_s.ptr, res->amz_date);
        return fail(res, SIGV4_MISMATCH);
    }

    const char *secret = sigv4_keyring_lookup(kr, a.access_key);
    if (!secret) {
        diag_set(d, -ERR_UNAUTHORIZED, 0, "The security token included in the request is invalid.");
        return fail(res, SIGV4_UNKNOWN_KEY);
    }

    char when[17], edge[17];
    format_amz_date(now, when);
    if (res->request_time < now - max_skew_s) {
        format_amz_date(now - max_skew_s, edge);
        if (max_skew_s % 60 == 0)
            diag_set(d, -ERR_UNAUTHORIZED, 0,
                     "Signature expired: %s is now earlier than %s (%s - %lld min.)", res->amz_date,
                     edge, when, (long long)(max_skew_s / 60));
        else
            diag_set(d, -ERR_UNAUTHORIZED, 0,
                     "Signature expired: %s is now earlier than %s (%s - %lld s.)", res->amz_date,
                     edge, when, (long long)max_skew_s);
        return fail(res, SIGV4_EXPIRED);
    }
    if (res->request_time > now + max_skew_s) {
        format_amz_date(now + max_skew_s, edge);
        if (max_skew_s % 60 == 0)
            diag_set(d, -ERR_UNAUTHORIZED, 0,
                     "Signature not yet current: %s is still later than %s (%s + %lld min.)",
                     res->amz_date, edge, when, (long long)(max_skew_s / 60));
        else
            diag_set(d, -ERR_UNAUTHORIZED, 0,
                     "Signature not yet current: %s is still later than %s (%s + %lld s.)",
                     res->amz_date, edge, when, (long long)max_skew_s);
        return fail(res, SIGV4_EXPIRED);
    }

    /* The payload hash: the body's, or the client's X-Amz-Content-SHA256, which must then be
     * the body's too (a value that is not checked would leave the body unauthenticated). */
    char hex[65];
    body_hash_hex(body, body_len, hex);
    struct str payload = str_make(hex, 64);
    const char *ch = find_header(req, "x-amz-content-sha256", &n);
    if (ch) {
        struct str cs = str_trim(str_from(ch));
        if (n > 1 || !is_hex64(cs, false)) {
            diag_set(d, -ERR_UNAUTHORIZED, 0,
                     "x-amz-content-sha256 must be the hex SHA-256 of the body (unsigned and "
                     "streaming payloads are not accepted)");
            return fail(res, SIGV4_INCOMPLETE);
        }
        if (strncasecmp(cs.ptr, hex, 64) != 0) {
            diag_set(d, -ERR_UNAUTHORIZED, 0,
                     "The provided 'x-amz-content-sha256' header does not match what was "
                     "computed.");
            return fail(res, SIGV4_MISMATCH);
        }
        payload = cs;
    }

    struct buf creq;
    buf_init(&creq, 1u << 20);
    int rc = sigv4_canonical_request(req, a.signed_headers, payload, &creq, d);
    if (rc < 0) {
        buf_release(&creq);
        return fail(res, rc == -ERR_TOO_BIG ? SIGV4_INCOMPLETE : SIGV4_MISMATCH);
    }
    unsigned char want[32], got[32];
    compute_signature(str_from(secret), amz_s, a.region, a.service, buf_str(&creq), want);
    buf_release(&creq);
    for (size_t i = 0; i < 32; i++) {
        /* parse_authorization checked the 64 hex digits */
        int hi = hex_value(a.signature.ptr[2 * i]), lo = hex_value(a.signature.ptr[2 * i + 1]);
        BUG_ON(hi < 0 || lo < 0);
        got[i] = (unsigned char)((unsigned)hi << 4 | (unsigned)lo);
    }
    if (CRYPTO_memcmp(want, got, 32) != 0) {
        diag_set(d, -ERR_UNAUTHORIZED, 0, "%s", msg_mismatch);
        return fail(res, SIGV4_MISMATCH);
    }
    memcpy(res->signature, want, 32);
    res->status = SIGV4_OK;
    return 0;
}

/* ---- Replay cache ----------------------------------------------------------------------- */

#define REPLAY_WAYS 4

struct replay_entry {
    unsigned char sig[16]; /* half of an HMAC-SHA256: collisions are not a concern */
    int64_t expires;       /* 0 = free */
};

struct sigv4_replay {
    pthread_mutex_t mu;
    size_t nsets;
    int64_t window_s;
    struct replay_entry *e;
};

struct sigv4_replay *sigv4_replay_new(size_t capacity, int64_t window_s)
{
    if (capacity < 64)
        capacity = 64;
    if (capacity > (1u << 20))
        capacity = 1u << 20;
    struct sigv4_replay *rp = xcalloc(1, sizeof(*rp));
    BUG_ON(pthread_mutex_init(&rp->mu, NULL) != 0);
    rp->nsets = (capacity + REPLAY_WAYS - 1) / REPLAY_WAYS;
    rp->window_s = window_s > 0 ? window_s : SIGV4_DEFAULT_SKEW_S;
    rp->e = xcalloc(rp->nsets * REPLAY_WAYS, sizeof(struct replay_entry));
    return rp;
}

void sigv4_replay_free(struct sigv4_replay *rp)
{
    if (!rp)
        return;
    pthread_mutex_destroy(&rp->mu);
    free(rp->e);
    free(rp);
}

int sigv4_replay_check(struct sigv4_replay *rp, struct sigv4_result *res, int64_t now,
                       struct diag *d)
{
    uint64_t h = 0;
    memcpy(&h, res->signature + 16, sizeof(h)); /* the signature is uniformly random */
    struct replay_entry *set = rp->e + (h % rp->nsets) * REPLAY_WAYS;
    int64_t expires = res->request_time + rp->window_s;
    if (expires <= now) /* already outside the window: verify() would have refused it */
        expires = now + 1;
    int rc = 0;
    pthread_mutex_lock(&rp->mu);
    struct replay_entry *victim = &set[0];
    for (size_t i = 0; i < REPLAY_WAYS; i++) {
        struct replay_entry *e = &set[i];
        bool live = e->expires > now;
        if (live && CRYPTO_memcmp(e->sig, res->signature, 16) == 0) {
            rc = -ERR_UNAUTHORIZED;
            break;
        }
        if (!live)
            e->expires = 0;
        if (e->expires < victim->expires)
            victim = e;
    }
    if (rc == 0) {
        memcpy(victim->sig, res->signature, 16);
        victim->expires = expires;
    }
    pthread_mutex_unlock(&rp->mu);
    if (rc < 0) {
        res->status = SIGV4_REPLAYED;
        diag_set(d, rc, 0, "The request signature has already been used.");
    }
    return rc;
}
