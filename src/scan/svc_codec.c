/* SPDX-License-Identifier: Apache-2.0 */
/* The scan service's stored forms (svc_codec.h): LEB128 integers and length-prefixed strings,
 * the inventory compressed with zstd, vulnerability records and finding members. Decoders
 * check every length against what is left and every count against a cap first. */
#include "scan/svc_codec.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "base/hash.h"
#include "base/xalloc.h"

#define INV_MAGIC  "VSI1"
#define VULN_TAG   'V'
#define ZSTD_LEVEL 3

/* ---- writing ---- */

static int put_uv(struct buf *b, uint64_t v)
{
    unsigned char tmp[10];
    size_t n = 0;
    do {
        unsigned char byte = v & 0x7f;
        v >>= 7;
        tmp[n++] = (unsigned char)(byte | (v ? 0x80 : 0));
    } while (v);
    return buf_append(b, tmp, n);
}

static int put_str(struct buf *b, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    int rc = put_uv(b, n);
    return rc ? rc : buf_append(b, s ? s : "", n);
}

static int put_u8(struct buf *b, unsigned v)
{
    return buf_putc(b, (char)(unsigned char)v);
}

/* ---- reading ---- */

struct rd {
    const unsigned char *p;
    size_t left, off;
    bool bad;
};

static uint64_t get_uv(struct rd *r, uint64_t max)
{
    uint64_t v = 0;
    for (unsigned shift = 0; !r->bad; shift += 7) {
        if (!r->left || shift > 63) {
            r->bad = true;
            break;
        }
        unsigned char byte = *r->p++;
        r->left--;
        r->off++;
        v |= (uint64_t)(byte & 0x7f) << shift;
        if (!(byte & 0x80))
            break;
    }
    if (v > max)
        r->bad = true;
    return r->bad ? 0 : v;
}

static unsigned get_u8(struct rd *r)
{
    if (r->bad || !r->left) {
        r->bad = true;
        return 0;
    }
    r->left--;
    r->off++;
    return *r->p++;
}

/* A string copied into a (NUL-terminated); "" once the input is bad. */
static const char *get_str(struct rd *r, struct arena *a)
{
    uint64_t n = get_uv(r, UINT64_MAX);
    if (!r->bad && n > r->left) /* checked after the length's own bytes are consumed */
        r->bad = true;
    if (r->bad)
        return "";
    const char *s = arena_strndup(a, (const char *)r->p, (size_t)n);
    r->p += n;
    r->left -= (size_t)n;
    r->off += (size_t)n;
    return s;
}

static bool get_raw(struct rd *r, void *out, size_t n)
{
    if (r->bad || r->left < n) {
        r->bad = true;
        return false;
    }
    memcpy(out, r->p, n);
    r->p += n;
    r->left -= n;
    r->off += n;
    return true;
}

/* ---- inventory ---- */

static int inv_raw(const struct inventory *inv, struct buf *b)
{
    int rc = 0;
    const char *head[] = { inv->manifest_digest, inv->config_digest,  inv->platform,
                           inv->image_name,      inv->os.id,          inv->os.version_id,
                           inv->os.codename,     inv->os.pretty_name, inv->os.source };
    for (size_t i = 0; !rc && i < ARRAY_SIZE(head); i++)
        rc = put_str(b, head[i]);
    if (!rc)
        rc = put_uv(b, inv->layers.n);
    for (size_t i = 0; !rc && i < inv->layers.n; i++) {
        const struct inventory_layer *l = &inv->layers.v[i];
        rc = put_str(b, l->digest);
        if (!rc)
            rc = put_str(b, l->diff_id);
        if (!rc)
            rc = put_uv(b, l->size);
    }
    if (!rc)
        rc = put_uv(b, inv->pkgs.items.n);
    for (size_t i = 0; !rc && i < inv->pkgs.items.n; i++) {
        const struct pkg *p = &inv->pkgs.items.v[i];
        rc = put_u8(b, (unsigned)p->type);
        const char *s[] = { p->name,        p->version,  p->arch,    p->src_name,
                            p->src_version, p->upstream, p->release, p->db_path };
        for (size_t k = 0; !rc && k < 5; k++) /* name .. src_version */
            rc = put_str(b, s[k]);
        if (!rc)
            rc = put_uv(b, p->epoch);
        if (!rc)
            rc = put_u8(b, p->has_epoch ? 1 : 0);
        for (size_t k = 5; !rc && k < ARRAY_SIZE(s); k++) /* upstream, release, db_path */
            rc = put_str(b, s[k]);
        if (!rc)
            rc = put_uv(b, p->layer < 0 ? 0 : (uint64_t)p->layer + 1);
    }
    return rc;
}

int svc_inv_encode(const struct inventory *inv, struct buf *out)
{
    struct buf raw;
    buf_init(&raw, SVC_INV_RAW_MAX);
    int rc = inv_raw(inv, &raw);
    if (rc)
        goto out;
    size_t bound = ZSTD_compressBound(raw.len);
    rc = buf_append(out, INV_MAGIC, 4);
    if (!rc)
        rc = put_uv(out, raw.len);
    if (!rc)
        rc = buf_reserve(out, bound);
    if (rc)
        goto out;
    size_t n =
        ZSTD_compress(out->data + out->len, bound, raw.data ? raw.data : "", raw.len, ZSTD_LEVEL);
    if (ZSTD_isError(n)) {
        rc = -ERR_INTERNAL;
        goto out;
    }
    out->len += n;
    out->data[out->len] = '\0';
out:
    buf_release(&raw);
    return rc;
}

static bool known_pkg_type(unsigned t)
{
    switch ((enum pkg_type)t) {
    case PKG_DEB:
    case PKG_APK:
    case PKG_RPM:
    case PKG_NPM:
    case PKG_PYPI:
    case PKG_MAVEN:
    case PKG_GO:
    case PKG_GEM:
    case PKG_CARGO:
    case PKG_COMPOSER:
    case PKG_NUGET:
        return true;
    }
    return false;
}

int svc_inv_decode(struct str in, struct inventory *inv, struct diag *d)
{
    const unsigned char *p = (const unsigned char *)in.ptr;
    if (in.len < 5 || memcmp(p, INV_MAGIC, 4) != 0)
        return diag_set(d, -ERR_CORRUPT, 0, "stored inventory: bad magic");
    struct rd hdr = { p + 4, in.len - 4, 4, false };
    uint64_t raw_len = get_uv(&hdr, SVC_INV_RAW_MAX);
    if (hdr.bad)
        return diag_set(d, -ERR_CORRUPT, hdr.off, "stored inventory: bad length");
    /* the frame must say the same size before anything that large is allocated */
    unsigned long long fsz = ZSTD_getFrameContentSize(hdr.p, hdr.left);
    if (fsz != raw_len)
        return diag_set(d, -ERR_CORRUPT, hdr.off, "stored inventory: frame size mismatch");
    char *raw = xmalloc(raw_len ? raw_len : 1);
    size_t got = ZSTD_decompress(raw, raw_len, hdr.p, hdr.left);
    if (ZSTD_isError(got) || got != raw_len) {
        free(raw);
        return diag_set(d, -ERR_CORRUPT, hdr.off, "stored inventory: bad compressed data");
    }
    struct arena *a = &inv->arena;
    struct rd r = { (const unsigned char *)raw, (size_t)raw_len, 0, false };
    int rc = 0;
    const char **head[] = { &inv->manifest_digest, &inv->config_digest,  &inv->platform,
                            &inv->image_name,      &inv->os.id,          &inv->os.version_id,
                            &inv->os.codename,     &inv->os.pretty_name, &inv->os.source };
    for (size_t i = 0; i < ARRAY_SIZE(head); i++)
        *head[i] = get_str(&r, a);
    inv->image_ref = inv->image_name;
    /* every layer takes at least 3 bytes, every package at least 12 */
    uint64_t nl = get_uv(&r, r.left / 3 < SVC_INV_LAYERS ? r.left / 3 : SVC_INV_LAYERS);
    for (uint64_t i = 0; !r.bad && i < nl; i++) {
        struct inventory_layer l = { 0 };
        l.digest = get_str(&r, a);
        l.diff_id = get_str(&r, a);
        l.size = get_uv(&r, UINT64_MAX);
        VEC_PUSH(&inv->layers, l);
    }
    uint64_t np = get_uv(&r, r.left / 12 < SVC_INV_PKGS ? r.left / 12 : SVC_INV_PKGS);
    if (!r.bad)
        VEC_GROW(&inv->pkgs.items, np);
    for (uint64_t i = 0; !r.bad && i < np; i++) {
        struct pkg k = { 0 };
        unsigned t = get_u8(&r);
        if (!r.bad && !known_pkg_type(t)) {
            rc = diag_set(d, -ERR_CORRUPT, r.off, "stored inventory: package %llu: type %u",
                          (unsigned long long)i, t);
            goto out;
        }
        k.type = (enum pkg_type)t;
        k.name = get_str(&r, a);
        k.version = get_str(&r, a);
        k.arch = get_str(&r, a);
        k.src_name = get_str(&r, a);
        k.src_version = get_str(&r, a);
        k.epoch = (uint32_t)get_uv(&r, UINT32_MAX);
        k.has_epoch = get_u8(&r) != 0;
        k.upstream = get_str(&r, a);
        k.release = get_str(&r, a);
        k.db_path = get_str(&r, a);
        k.license = k.maintainer = "";
        uint64_t layer = get_uv(&r, nl);
        k.layer = (int)layer - 1;
        VEC_PUSH(&inv->pkgs.items, k);
    }
    if (r.bad) {
        rc = diag_set(d, -ERR_CORRUPT, r.off, "stored inventory: truncated or out of range");
        goto out;
    }
    if (r.left) {
        rc = diag_set(d, -ERR_CORRUPT, r.off, "stored inventory: %zu trailing bytes", r.left);
        goto out;
    }
out:
    free(raw);
    return rc;
}

/* ---- vulnerability records ---- */

static int put_list(struct buf *b, const char *const *v, size_t n)
{
    int rc = put_uv(b, n);
    for (size_t i = 0; !rc && i < n; i++)
        rc = put_str(b, v[i]);
    return rc;
}

static int put_double(struct buf *b, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof(bits));
    unsigned char p[8];
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(bits >> (8 * i));
    return buf_append(b, p, 8);
}

int svc_vuln_encode(const struct finding *f, struct buf *out)
{
    int rc = put_u8(out, VULN_TAG);
    const char *s[] = { f->id,        f->title,           f->description,
                        f->uri,       f->vendor_severity, f->severity_source,
                        f->ecosystem, f->published,       f->modified,
                        f->source };
    for (size_t i = 0; !rc && i < ARRAY_SIZE(s); i++)
        rc = put_str(out, s[i]);
    if (!rc)
        rc = put_u8(out, (unsigned)f->severity);
    if (!rc)
        rc = put_u8(out, f->malicious ? 1 : 0);
    if (!rc)
        rc = put_list(out, f->related.v, f->related.n);
    if (!rc)
        rc = put_list(out, f->references.v, f->references.n);
    if (!rc)
        rc = put_uv(out, f->cvss.n);
    for (size_t i = 0; !rc && i < f->cvss.n; i++) {
        const struct finding_cvss *c = &f->cvss.v[i];
        rc = put_str(out, c->version);
        if (!rc)
            rc = put_str(out, c->vector);
        if (!rc)
            rc = put_str(out, c->source);
        if (!rc)
            rc = put_double(out, c->score);
    }
    return rc;
}

void svc_vuln_hash(const struct buf *encoded, unsigned char out[SVC_HASH_LEN])
{
    unsigned char h[SHA256_LEN];
    sha256_buf(encoded->data ? encoded->data : "", encoded->len, h);
    memcpy(out, h, SVC_HASH_LEN);
}

/* A list of strings into an arena array (the VEC fields of struct finding hold arena memory,
 * as the matcher's do). */
static void get_list(struct rd *r, struct arena *a, const char ***v, size_t *n, size_t *cap)
{
    uint64_t cnt = get_uv(r, r->left < SVC_VULN_LIST_MAX ? r->left : SVC_VULN_LIST_MAX);
    *v = NULL;
    *n = *cap = 0;
    if (r->bad || !cnt)
        return;
    const char **arr = arena_alloc(a, (size_t)cnt * sizeof(*arr));
    size_t i;
    for (i = 0; i < cnt && !r->bad; i++)
        arr[i] = get_str(r, a);
    *v = arr;
    *n = *cap = i;
}

int svc_vuln_decode(struct str in, struct arena *a, struct finding *f, struct diag *d)
{
    memset(f, 0, sizeof(*f));
    struct rd r = { (const unsigned char *)in.ptr, in.len, 0, false };
    if (get_u8(&r) != VULN_TAG)
        return diag_set(d, -ERR_CORRUPT, 0, "vulnerability record: bad tag");
    const char **s[] = { &f->id,        &f->title,           &f->description,
                         &f->uri,       &f->vendor_severity, &f->severity_source,
                         &f->ecosystem, &f->published,       &f->modified,
                         &f->source };
    for (size_t i = 0; i < ARRAY_SIZE(s); i++)
        *s[i] = get_str(&r, a);
    unsigned sev = get_u8(&r);
    if (sev > SEV_CRITICAL)
        r.bad = true;
    f->severity = (enum severity)sev;
    f->malicious = get_u8(&r) != 0;
    get_list(&r, a, &f->related.v, &f->related.n, &f->related.cap);
    get_list(&r, a, &f->references.v, &f->references.n, &f->references.cap);
    uint64_t nc = get_uv(&r, SVC_VULN_CVSS_MAX);
    if (!r.bad && nc) {
        f->cvss.v = arena_zalloc(a, (size_t)nc * sizeof(*f->cvss.v));
        for (uint64_t i = 0; i < nc && !r.bad; i++) {
            struct finding_cvss *c = &f->cvss.v[i];
            c->version = get_str(&r, a);
            c->vector = get_str(&r, a);
            c->source = get_str(&r, a);
            unsigned char p[8];
            uint64_t bits = 0;
            if (get_raw(&r, p, 8))
                for (int k = 0; k < 8; k++)
                    bits |= (uint64_t)p[k] << (8 * k);
            memcpy(&c->score, &bits, sizeof(c->score));
            if (!isfinite(c->score) || c->score < 0 || c->score > 10)
                r.bad = true;
            f->cvss.n = f->cvss.cap = (size_t)i + 1;
        }
    }
    f->fixed_version = "";
    if (r.bad || r.left)
        return diag_set(d, -ERR_CORRUPT, r.off, "vulnerability record: malformed");
    return 0;
}

/* ---- members ---- */

int svc_members_encode(const struct svc_member *m, size_t n, struct buf *out)
{
    int rc = put_uv(out, n);
    for (size_t i = 0; !rc && i < n; i++) {
        rc = put_uv(out, m[i].pkg);
        if (!rc)
            rc = buf_append(out, m[i].vhash, SVC_HASH_LEN);
        if (!rc)
            rc = put_u8(out, (unsigned)m[i].severity);
        if (!rc)
            rc = put_str(out, m[i].fixed);
    }
    return rc;
}

int svc_members_decode(struct str in, struct arena *a, struct svc_member **out, size_t *n,
                       struct diag *d)
{
    struct rd r = { (const unsigned char *)in.ptr, in.len, 0, false };
    /* a member takes at least 19 bytes */
    uint64_t cnt = get_uv(&r, r.left / 19 < SVC_MEMBERS_MAX ? r.left / 19 : SVC_MEMBERS_MAX);
    *out = NULL;
    *n = 0;
    if (r.bad || cnt == 0)
        return diag_set(d, -ERR_CORRUPT, r.off, "finding members: bad count");
    struct svc_member *m = arena_zalloc(a, (size_t)cnt * sizeof(*m));
    for (uint64_t i = 0; i < cnt && !r.bad; i++) {
        m[i].pkg = (uint32_t)get_uv(&r, SVC_INV_PKGS);
        get_raw(&r, m[i].vhash, SVC_HASH_LEN);
        unsigned sev = get_u8(&r);
        if (sev > SEV_CRITICAL)
            r.bad = true;
        m[i].severity = (enum severity)sev;
        m[i].fixed = get_str(&r, a);
    }
    if (r.bad || r.left)
        return diag_set(d, -ERR_CORRUPT, r.off, "finding members: malformed");
    *out = m;
    *n = (size_t)cnt;
    return 0;
}
