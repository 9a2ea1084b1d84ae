/* SPDX-License-Identifier: Apache-2.0 */
/* Image sources, common part: dispatch on the transport, the resolver (manifest -> platform
 * choice -> config -> layers) and the digest-verifying blob stream every backend's blobs go
 * through. Backends only fetch bytes; every check on them happens here. */
#include "image/source.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hash.h"
#include "base/xalloc.h"
#include "image/internal.h"
#include "image/manifest.h"

#define MAX_INDEX_DEPTH 2 /* an index may point at an index once (nested OCI indexes) */

void source_digest_of(const void *p, size_t n, char *out)
{
    unsigned char raw[SHA256_LEN];
    sha256_buf(p, n, raw);
    digest_format(raw, out);
}

int source_verify_bytes(const void *p, size_t n, const char *digest, const char *what,
                        struct diag *d)
{
    char got[DIGEST_STR_LEN + 1];
    if (!digest_is_sha256(str_from(digest)))
        return diag_set(d, -ERR_UNSUPPORTED, 0,
                        "%s: cannot verify digest '%.80s' (vigil verifies sha256 only)", what,
                        digest);
    source_digest_of(p, n, got);
    if (strcmp(got, digest) != 0)
        return diag_set(d, -ERR_DIGEST, 0,
                        "%s %s: content does not match its digest (content is %s)", what, digest,
                        got);
    return 0;
}

/* ---- verifying stream ---- */

struct verify_reader {
    struct reader base;
    struct reader *inner; /* owned */
    struct sha256 h;
    bool hashing;
    int state; /* 0 reading, 1 verified end, <0 sticky error */
    uint64_t want, got;
    char digest[DIGEST_STR_LEN + 1];
};

static ssize_t verify_fail(struct verify_reader *v, int rc)
{
    v->state = rc;
    if (v->hashing) {
        sha256_release(&v->h);
        v->hashing = false;
    }
    return rc;
}

static ssize_t verify_read(struct reader *r, void *p, size_t n)
{
    struct verify_reader *v = (struct verify_reader *)r;
    if (v->state < 0)
        return v->state;
    if (v->state == 1)
        return 0;
    if (n == 0)
        return 0;
    ssize_t got = reader_read(v->inner, p, n);
    if (got < 0) {
        if (v->inner->diag.msg[0])
            diag_set(&r->diag, (int)got, v->got, "blob %s: %s", v->digest, v->inner->diag.msg);
        else
            diag_set(&r->diag, (int)got, v->got, "blob %s: %s", v->digest, err_str((int)got));
        return verify_fail(v, (int)got);
    }
    if (got == 0) {
        if (v->got < v->want) {
            diag_set(&r->diag, -ERR_TRUNCATED, v->got,
                     "blob %s: ends after %llu of the %llu bytes the manifest says", v->digest,
                     (unsigned long long)v->got, (unsigned long long)v->want);
            return verify_fail(v, -ERR_TRUNCATED);
        }
        unsigned char raw[SHA256_LEN];
        char hex[DIGEST_STR_LEN + 1];
        sha256_final(&v->h, raw);
        v->hashing = false;
        digest_format(raw, hex);
        if (strcmp(hex, v->digest) != 0) {
            diag_set(&r->diag, -ERR_DIGEST, v->got,
                     "blob %s: content does not match its digest (content is %s)", v->digest, hex);
            return verify_fail(v, -ERR_DIGEST);
        }
        v->state = 1;
        return 0;
    }
    if ((uint64_t)got > v->want - v->got) {
        diag_set(&r->diag, -ERR_DIGEST, v->got,
                 "blob %s: longer than the %llu bytes the manifest says", v->digest,
                 (unsigned long long)v->want);
        return verify_fail(v, -ERR_DIGEST);
    }
    v->got += (uint64_t)got;
    sha256_update(&v->h, p, (size_t)got);
    return got;
}

static void verify_close(struct reader *r)
{
    struct verify_reader *v = (struct verify_reader *)r;
    if (v->hashing)
        sha256_release(&v->h);
    reader_close(v->inner);
    free(v);
}

static const struct reader_ops verify_ops = { verify_read, verify_close };

/* Wrap a backend stream (ownership taken) so it is checked against digest and size. */
static struct reader *verify_reader_new(struct reader *inner, const char *digest, uint64_t size)
{
    struct verify_reader *v = xcalloc(1, sizeof(*v));
    v->base.ops = &verify_ops;
    v->inner = inner;
    v->want = size;
    snprintf(v->digest, sizeof(v->digest), "%s", digest);
    sha256_init(&v->h);
    v->hashing = true;
    return &v->base;
}

/* ---- open / close ---- */

int image_source_open(const char *ref, const struct image_opts *opts, struct image_source **out,
                      struct diag *d)
{
    static const struct image_opts defaults = { .tls_verify = true };
    struct image_ref parsed;
    struct image_source *s = NULL;
    int rc;
    *out = NULL;
    if (!opts)
        opts = &defaults;
    rc = image_ref_parse(ref, &parsed, d);
    if (rc)
        return rc;
    struct diag sd = { 0 };
    switch (parsed.transport) {
    case TRANSPORT_OCI:
        rc = oci_layout_new(&parsed, opts, &s, &sd);
        break;
    case TRANSPORT_DOCKER_ARCHIVE:
        rc = docker_archive_new(&parsed, opts, &s, &sd);
        break;
    case TRANSPORT_DOCKER:
        rc = registry_source_new(&parsed, opts, &s, &sd);
        break;
    default:
        rc = diag_set(&sd, -ERR_INTERNAL, 0, "unknown transport");
        break;
    }
    if (rc) {
        diag_set(d, rc, sd.offset, "image '%s': %s", ref, sd.msg[0] ? sd.msg : err_str(rc));
        image_ref_release(&parsed);
        return rc;
    }
    s->ref = xstrdup(ref);
    s->parsed = parsed; /* moved */
    s->opts = *opts;
    s->own_platform = opts->platform ? xstrdup(opts->platform) : NULL;
    s->own_username = opts->username ? xstrdup(opts->username) : NULL;
    s->own_password = opts->password ? xstrdup(opts->password) : NULL;
    s->opts.platform = s->own_platform;
    s->opts.username = s->own_username;
    s->opts.password = s->own_password;
    *out = s;
    return 0;
}

/* ---- provider-backed source: manifests and blobs from a caller's store ---- */

struct provider_source {
    struct image_source base;
    const struct image_provider *p;
    void *ctx;
    char digest[DIGEST_STR_LEN + 1];
};

static int provider_get_root(struct image_source *s, struct buf *out, char **media_type,
                             char **digest, struct diag *d)
{
    struct provider_source *ps = (struct provider_source *)s;
    int rc = ps->p->get_manifest(ps->ctx, ps->digest, out, media_type, d);
    if (rc)
        return rc;
    /* the digest asked for is the claim resolve() verifies the bytes against */
    *digest = xstrdup(ps->digest);
    return 0;
}

static int provider_get_manifest(struct image_source *s, const char *digest, struct buf *out,
                                 char **media_type, struct diag *d)
{
    struct provider_source *ps = (struct provider_source *)s;
    return ps->p->get_manifest(ps->ctx, digest, out, media_type, d);
}

static int provider_open_blob(struct image_source *s, const char *digest, uint64_t size,
                              struct reader **out, struct diag *d)
{
    struct provider_source *ps = (struct provider_source *)s;
    return ps->p->open_blob(ps->ctx, digest, size, out, d);
}

static void provider_destroy(struct image_source *s)
{
    free(s);
}

static const struct source_ops provider_ops = {
    provider_get_root,
    provider_get_manifest,
    provider_open_blob,
    provider_destroy,
};

int image_source_open_provider(const struct image_provider *p, void *ctx, const char *name,
                               const char *manifest_digest, const struct image_opts *opts,
                               struct image_source **out, struct diag *d)
{
    static const struct image_opts defaults = { .tls_verify = true };
    *out = NULL;
    if (!p || !p->get_manifest || !p->open_blob)
        return diag_set(d, -ERR_INVALID, 0, "image provider without functions");
    if (!manifest_digest || !digest_is_sha256(str_from(manifest_digest)))
        return diag_set(d, -ERR_INVALID, 0, "image '%s': manifest digest '%.80s' is not sha256",
                        name ? name : "?", manifest_digest ? manifest_digest : "(none)");
    if (!opts)
        opts = &defaults;
    struct provider_source *ps = xcalloc(1, sizeof(*ps));
    ps->base.ops = &provider_ops;
    ps->p = p;
    ps->ctx = ctx;
    memcpy(ps->digest, manifest_digest, DIGEST_STR_LEN + 1);
    struct image_source *s = &ps->base;
    /* the name doubles as the reference in messages; there is no transport to parse */
    s->ref = name && *name ? xstrdup(name) : xstrdup(manifest_digest);
    s->name = xstrdup(s->ref);
    s->parsed.index = -1;
    s->opts = *opts;
    s->own_platform = opts->platform ? xstrdup(opts->platform) : NULL;
    s->opts.platform = s->own_platform;
    s->opts.username = s->opts.password = NULL; /* nothing to authenticate to */
    *out = s;
    return 0;
}

void image_source_close(struct image_source *s)
{
    if (!s)
        return;
    free(s->ref);
    free(s->name);
    image_ref_release(&s->parsed);
    free(s->own_platform);
    free(s->own_username);
    if (s->own_password) {
        /* do not leave the secret in freed memory */
        explicit_bzero(s->own_password, strlen(s->own_password));
        free(s->own_password);
    }
    s->ops->destroy(s);
}

void image_info_release(struct image_info *info)
{
    free(info->ref);
    free(info->name);
    free(info->manifest_digest);
    free(info->manifest_media_type);
    free(info->index_digest);
    free(info->config_digest);
    free(info->os);
    free(info->architecture);
    free(info->variant);
    for (size_t i = 0; i < info->nlayers; i++) {
        free(info->layers[i].digest);
        free(info->layers[i].media_type);
        free(info->layers[i].diff_id);
    }
    free(info->layers);
    buf_release(&info->manifest);
    buf_release(&info->config);
    memset(info, 0, sizeof(*info));
}

/* ---- resolve ---- */

/* Prefix the backend's message with the image reference. */
static int fail(const struct image_source *s, struct diag *d, int rc, const struct diag *sub)
{
    const char *msg = sub->msg[0] ? sub->msg : err_str(rc);
    return diag_set(d, rc, sub->offset, "image '%s': %s", s->ref, msg);
}

static char *dup_or_null(const char *s)
{
    return s && *s ? xstrdup(s) : NULL;
}

int image_source_open_blob(struct image_source *s, const struct image_layer *layer,
                           struct reader **out, struct diag *d)
{
    struct reader *raw = NULL;
    *out = NULL;
    if (!layer->digest || !digest_is_sha256(str_from(layer->digest)))
        return diag_set(d, -ERR_UNSUPPORTED, 0,
                        "blob '%.80s': cannot verify this digest (vigil verifies sha256 only)",
                        layer->digest ? layer->digest : "(none)");
    int rc = s->ops->open_blob(s, layer->digest, layer->size, &raw, d);
    if (rc)
        return rc;
    *out = verify_reader_new(raw, layer->digest, layer->size);
    return 0;
}

/* Read a whole small blob (a config) through the verifying stream. */
static int read_small_blob(struct image_source *s, const struct descriptor *desc, size_t max,
                           struct buf *out, struct diag *d)
{
    struct reader *raw = NULL, *r;
    if (!digest_is_sha256(str_from(desc->digest)))
        return diag_set(d, -ERR_UNSUPPORTED, 0,
                        "blob %.80s: cannot verify this digest (vigil verifies sha256 only)",
                        desc->digest);
    if (desc->size > max)
        return diag_set(d, -ERR_TOO_BIG, 0, "blob %s is %llu bytes, more than the %zu allowed",
                        desc->digest, (unsigned long long)desc->size, max);
    int rc = s->ops->open_blob(s, desc->digest, desc->size, &raw, d);
    if (rc)
        return rc;
    r = verify_reader_new(raw, desc->digest, desc->size);
    rc = reader_read_all(r, out);
    if (rc == -ERR_TOO_BIG)
        diag_set(d, rc, 0, "blob %s is more than the %zu bytes allowed", desc->digest, max);
    else if (rc)
        *d = r->diag;
    reader_close(r);
    return rc;
}

int image_source_resolve(struct image_source *s, struct image_info *out, struct diag *d)
{
    struct diag sd = { 0 };
    struct buf bytes;
    struct manifest m = { 0 };
    struct image_config cfg = { 0 };
    struct platform want = { 0 };
    char *mt = NULL, *claimed = NULL;
    char digest[DIGEST_STR_LEN + 1];
    struct descriptor chosen_copy = { 0 }; /* platform of the index entry picked, if any */
    int rc;

    memset(out, 0, sizeof(*out));
    buf_init(&out->manifest, MANIFEST_MAX_BYTES);
    buf_init(&out->config, CONFIG_MAX_BYTES);
    buf_init(&bytes, MANIFEST_MAX_BYTES);

    rc = platform_parse(s->opts.platform, &want, &sd);
    if (rc)
        goto fail;
    rc = s->ops->get_root(s, &bytes, &mt, &claimed, &sd);
    if (rc)
        goto fail;
    source_digest_of(buf_str(&bytes).ptr, bytes.len, digest);

    for (int depth = 0;; depth++) {
        manifest_release(&m);
        rc = manifest_parse(buf_str(&bytes).ptr, bytes.len, mt, &m, &sd);
        /* the source's claim about the top manifest: checked before anything in it is used,
         * except that a schema 1 manifest (whose digest covers only part of it) is reported
         * as what it is */
        if (depth == 0 && claimed && rc != -ERR_UNSUPPORTED) {
            int vrc = source_verify_bytes(buf_str(&bytes).ptr, bytes.len, claimed, "manifest", &sd);
            if (vrc) {
                rc = vrc;
                goto fail;
            }
        }
        if (rc) {
            char tmp[sizeof(sd.msg)];
            memcpy(tmp, sd.msg, sizeof(tmp));
            diag_set(&sd, rc, sd.offset, "manifest %s: %s", digest, tmp);
            goto fail;
        }
        if (!manifest_kind_is_index(m.kind))
            break;
        if (depth >= MAX_INDEX_DEPTH) {
            rc = diag_set(&sd, -ERR_UNSUPPORTED, 0, "indexes nested more than %d deep",
                          MAX_INDEX_DEPTH);
            goto fail;
        }
        free(out->index_digest);
        out->index_digest = xstrdup(digest);
        rc = index_select(&m, &want, &sd);
        if (rc < 0)
            goto fail;
        const struct descriptor *chosen = &m.entries[rc];
        if (chosen->size > MANIFEST_MAX_BYTES) {
            rc = diag_set(&sd, -ERR_TOO_BIG, 0,
                          "manifest %s is %llu bytes, more than the %u allowed", chosen->digest,
                          (unsigned long long)chosen->size, MANIFEST_MAX_BYTES);
            goto fail;
        }
        /* keep the entry: m is replaced on the next round */
        free(chosen_copy.os);
        free(chosen_copy.architecture);
        free(chosen_copy.variant);
        chosen_copy.os = dup_or_null(chosen->os);
        chosen_copy.architecture = dup_or_null(chosen->architecture);
        chosen_copy.variant = dup_or_null(chosen->variant);
        char *want_digest = xstrdup(chosen->digest);
        uint64_t want_size = chosen->size;
        free(mt);
        mt = xstrdup(chosen->media_type);
        char *served_mt = NULL;
        buf_reset(&bytes);
        rc = s->ops->get_manifest(s, want_digest, &bytes, &served_mt, &sd);
        free(served_mt); /* the index entry's media type is the one that counts */
        if (rc == 0)
            rc = source_verify_bytes(buf_str(&bytes).ptr, bytes.len, want_digest, "manifest", &sd);
        if (rc == 0 && bytes.len != want_size)
            rc = diag_set(&sd, -ERR_DIGEST, 0, "manifest %s: %zu bytes, the index says %llu",
                          want_digest, bytes.len, (unsigned long long)want_size);
        if (rc == 0) /* verified: a sha256 digest */
            memcpy(digest, want_digest, DIGEST_STR_LEN + 1);
        free(want_digest);
        if (rc)
            goto fail;
    }

    /* an image manifest: its config must be a container image config */
    if (strcmp(m.config.media_type, MT_OCI_CONFIG) != 0 &&
        strcmp(m.config.media_type, MT_DOCKER_CONFIG) != 0) {
        rc = diag_set(&sd, -ERR_UNSUPPORTED, 0,
                      "manifest %s is not a container image (config media type '%.100s')", digest,
                      m.config.media_type);
        goto fail;
    }
    rc = read_small_blob(s, &m.config, CONFIG_MAX_BYTES, &out->config, &sd);
    if (rc)
        goto fail;
    rc = image_config_parse(buf_str(&out->config).ptr, out->config.len, &cfg, &sd);
    if (rc) {
        char tmp[sizeof(sd.msg)];
        memcpy(tmp, sd.msg, sizeof(tmp));
        diag_set(&sd, rc, sd.offset, "config %s: %s", m.config.digest, tmp);
        goto fail;
    }
    if (cfg.ndiff_ids != m.nlayers) {
        rc = diag_set(&sd, -ERR_MANIFEST_INVALID, 0,
                      "config %s lists %zu diff_ids for the %zu layers of manifest %s",
                      m.config.digest, cfg.ndiff_ids, m.nlayers, digest);
        goto fail;
    }

    out->ref = xstrdup(s->ref);
    out->name = xstrdup(s->name ? s->name : s->ref);
    out->manifest_digest = xstrdup(digest);
    out->manifest_media_type = xstrdup(m.media_type);
    out->config_digest = xstrdup(m.config.digest);
    /* the config says what the image is; the index entry is the fallback */
    out->os = dup_or_null(cfg.os ? cfg.os : chosen_copy.os);
    out->architecture = dup_or_null(cfg.architecture ? cfg.architecture : chosen_copy.architecture);
    out->variant = dup_or_null(cfg.os || cfg.architecture ? cfg.variant : chosen_copy.variant);
    out->nlayers = m.nlayers;
    out->layers = m.nlayers ? xcalloc(m.nlayers, sizeof(*out->layers)) : NULL;
    for (size_t i = 0; i < m.nlayers; i++) {
        out->layers[i].digest = xstrdup(m.layers[i].digest);
        out->layers[i].media_type = xstrdup(m.layers[i].media_type);
        out->layers[i].size = m.layers[i].size;
        out->layers[i].diff_id = xstrdup(cfg.diff_ids[i]);
    }
    /* the manifest bytes exactly as stored */
    struct buf tmpb = out->manifest;
    out->manifest = bytes;
    bytes = tmpb;
    rc = 0;
    goto out;

fail:
    fail(s, d, rc, &sd);
    image_info_release(out);
out:
    buf_release(&bytes);
    manifest_release(&m);
    image_config_release(&cfg);
    platform_release(&want);
    free(chosen_copy.os);
    free(chosen_copy.architecture);
    free(chosen_copy.variant);
    free(mt);
    free(claimed);
    return rc;
}
