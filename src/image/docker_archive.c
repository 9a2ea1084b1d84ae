/* SPDX-License-Identifier: Apache-2.0 */
/* docker-archive:FILE[:REF] — a `docker save` tarball (legacy <id>/layer.tar members, skopeo's
 * <hex>.tar, or Docker 25's OCI-style blobs/sha256/<hex>). The outer tar is indexed once by its
 * headers; members are then read in place by offset. The archive has no registry manifest, so
 * one (Docker schema 2) is synthesised from manifest.json, the config and the layer members. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/hash.h"
#include "base/vec.h"
#include "base/xalloc.h"
#include "image/internal.h"
#include "image/manifest.h"

#define TAR_BLOCK     512
#define PAX_MAX_BYTES (1u << 20)
#define LINK_HOPS_MAX 8

/* ---- path helpers ---- */

char *dar_path_normalise(const char *path)
{
    size_t n = strlen(path);
    char *out = xmalloc(n + 1);
    size_t len = 0;
    struct str cur = str_make(path, n), comp;
    bool more = true;
    while (more) {
        more = str_cut(&cur, '/', &comp);
        if (comp.len == 0 || str_eq_cstr(comp, "."))
            continue;
        if (str_eq_cstr(comp, "..")) {
            if (len == 0) {
                free(out);
                return NULL;
            }
            while (len > 0 && out[len - 1] != '/')
                len--;
            if (len > 0)
                len--; /* the '/' */
            continue;
        }
        if (len)
            out[len++] = '/';
        memcpy(out + len, comp.ptr, comp.len);
        len += comp.len;
    }
    out[len] = '\0';
    return out;
}

void dar_index_release(struct dar_index *ix)
{
    for (size_t i = 0; i < ix->n; i++) {
        free(ix->m[i].name);
        free(ix->m[i].link);
    }
    free(ix->m);
    ix->m = NULL;
    ix->n = 0;
}

/* ---- tar headers ---- */

/* A numeric header field: octal (space/NUL padded) or GNU base-256 (high bit set). */
static bool tar_number(const unsigned char *p, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    if (p[0] & 0x80) {
        if (p[0] == 0xff) /* negative */
            return false;
        v = p[0] & 0x7f;
        for (size_t i = 1; i < n; i++) {
            if (v >> 55)
                return false;
            v = (v << 8) | p[i];
        }
        *out = v;
        return true;
    }
    size_t i = 0;
    while (i < n && (p[i] == ' ' || p[i] == '\0'))
        i++;
    if (i == n) {
        *out = 0;
        return true;
    }
    for (; i < n && p[i] >= '0' && p[i] <= '7'; i++) {
        if (v >> 60)
            return false;
        v = (v << 3) | (uint64_t)(p[i] - '0');
    }
    for (; i < n; i++)
        if (p[i] != ' ' && p[i] != '\0')
            return false;
    *out = v;
    return true;
}

static bool block_is_zero(const unsigned char *b)
{
    for (size_t i = 0; i < TAR_BLOCK; i++)
        if (b[i])
            return false;
    return true;
}

static bool checksum_ok(const unsigned char *b)
{
    uint64_t want;
    if (!tar_number(b + 148, 8, &want))
        return false;
    unsigned long usum = 0;
    long ssum = 0;
    for (size_t i = 0; i < TAR_BLOCK; i++) {
        unsigned char c = (i >= 148 && i < 156) ? ' ' : b[i];
        usum += c;
        ssum += (signed char)c;
    }
    return want == usum || (long long)want == (long long)ssum;
}

static int pread_full(int fd, void *p, size_t n, uint64_t off)
{
    unsigned char *q = p;
    while (n) {
        ssize_t got = pread(fd, q, n, (off_t)off);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (got == 0)
            return -ERR_TRUNCATED;
        q += got;
        n -= (size_t)got;
        off += (uint64_t)got;
    }
    return 0;
}

/* A NUL-terminated copy of a fixed-width header field. */
static char *field_dup(const unsigned char *p, size_t n)
{
    size_t len = strnlen((const char *)p, n);
    return xstrndup((const char *)p, len);
}

struct pax_overrides {
    char *path;
    char *linkpath;
    uint64_t size;
    bool has_size;
};

static void pax_release(struct pax_overrides *x)
{
    free(x->path);
    free(x->linkpath);
    memset(x, 0, sizeof(*x));
}

/* Parse pax records "LEN key=value\n" from data[0..n). */
static int pax_parse(const char *data, size_t n, struct pax_overrides *x, uint64_t off,
                     struct diag *d)
{
    size_t i = 0;
    while (i < n) {
        if (data[i] == '\0') /* padding */
            break;
        size_t j = i;
        uint64_t len = 0;
        while (j < n && data[j] >= '0' && data[j] <= '9' && j - i < 8)
            len = len * 10 + (uint64_t)(data[j++] - '0');
        if (j == i || j >= n || data[j] != ' ' || len > n - i || len < (j - i) + 3 ||
            data[i + len - 1] != '\n')
            return diag_set(d, -ERR_CORRUPT, off, "bad pax record at offset %llu",
                            (unsigned long long)off);
        const char *kv = data + j + 1, *end = data + i + len - 1;
        const char *eq = memchr(kv, '=', (size_t)(end - kv));
        if (!eq)
            return diag_set(d, -ERR_CORRUPT, off, "bad pax record at offset %llu",
                            (unsigned long long)off);
        struct str key = str_make(kv, (size_t)(eq - kv));
        struct str val = str_make(eq + 1, (size_t)(end - eq - 1));
        if (str_eq_cstr(key, "path") || str_eq_cstr(key, "linkpath")) {
            if (val.len > DAR_MAX_NAME || memchr(val.ptr, '\0', val.len))
                return diag_set(d, -ERR_TOO_BIG, off, "pax %.*s too long at offset %llu",
                                STR_FMT(key), (unsigned long long)off);
            char **dst = str_eq_cstr(key, "path") ? &x->path : &x->linkpath;
            free(*dst);
            *dst = str_dup(val);
        } else if (str_eq_cstr(key, "size")) {
            unsigned long long v;
            if (!str_to_u64(val, &v))
                return diag_set(d, -ERR_CORRUPT, off, "bad pax size at offset %llu",
                                (unsigned long long)off);
            x->size = v;
            x->has_size = true;
        }
        i += len;
    }
    return 0;
}

/* Read a member's content that holds metadata (pax records, GNU long names). */
static int read_meta(int fd, uint64_t off, uint64_t size, size_t max, char **out, struct diag *d)
{
    *out = NULL;
    if (size > max) {
        diag_set(d, -ERR_TOO_BIG, off, "tar metadata member of %llu bytes at offset %llu",
                 (unsigned long long)size, (unsigned long long)off);
        return -ERR_TOO_BIG;
    }
    char *p = xmalloc((size_t)size + 1);
    int rc = pread_full(fd, p, (size_t)size, off);
    if (rc) {
        free(p);
        diag_set(d, rc, off, "cannot read tar member at offset %llu: %s", (unsigned long long)off,
                 err_str(rc));
        return rc;
    }
    p[size] = '\0';
    *out = p;
    return 0;
}

int dar_index_build(int fd, uint64_t file_size, struct dar_index *out, struct diag *d)
{
    unsigned char b[TAR_BLOCK];
    uint64_t off = 0;
    char *long_name = NULL, *long_link = NULL;
    struct pax_overrides pax = { 0 };
    VEC(struct dar_member) v = VEC_INIT;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    for (;;) {
        if (off == file_size)
            break; /* no end-of-archive blocks: accept, as tar does */
        if (file_size - off < TAR_BLOCK) {
            rc = diag_set(d, -ERR_TRUNCATED, off, "tar ends inside a header at offset %llu",
                          (unsigned long long)off);
            goto out;
        }
        rc = pread_full(fd, b, TAR_BLOCK, off);
        if (rc) {
            diag_set(d, rc, off, "cannot read tar header at offset %llu: %s",
                     (unsigned long long)off, err_str(rc));
            goto out;
        }
        if (block_is_zero(b))
            break;
        if (!checksum_ok(b)) {
            rc = diag_set(d, -ERR_CORRUPT, off, "bad tar header checksum at offset %llu",
                          (unsigned long long)off);
            goto out;
        }
        uint64_t size;
        if (!tar_number(b + 124, 12, &size)) {
            rc = diag_set(d, -ERR_CORRUPT, off, "bad size in tar header at offset %llu",
                          (unsigned long long)off);
            goto out;
        }
        char type = (char)b[156];
        if (pax.has_size && type != 'x' && type != 'g' && type != 'L' && type != 'K')
            size = pax.size;
        uint64_t data = off + TAR_BLOCK;
        if (size > file_size - data) {
            rc = diag_set(d, -ERR_TRUNCATED, off,
                          "tar member at offset %llu claims %llu bytes past the end of the file",
                          (unsigned long long)off, (unsigned long long)size);
            goto out;
        }
        uint64_t next = data + ((size + TAR_BLOCK - 1) / TAR_BLOCK) * TAR_BLOCK;
        if (next > file_size)
            next = file_size; /* unpadded last member */

        if (type == 'x' || type == 'L' || type == 'K') {
            char *meta = NULL;
            rc = read_meta(fd, data, size, type == 'x' ? PAX_MAX_BYTES : DAR_MAX_NAME, &meta, d);
            if (rc)
                goto out;
            if (type == 'x') {
                pax_release(&pax);
                rc = pax_parse(meta, (size_t)size, &pax, off, d);
            } else if (type == 'L') {
                free(long_name);
                long_name = meta;
                meta = NULL;
            } else {
                free(long_link);
                long_link = meta;
                meta = NULL;
            }
            free(meta);
            if (rc)
                goto out;
            off = next;
            continue;
        }
        if (type == 'g') { /* global pax header: nothing we need */
            off = next;
            continue;
        }

        if (v.n >= DAR_MAX_MEMBERS) {
            rc = diag_set(d, -ERR_TOO_BIG, off, "tar has more than %d members", DAR_MAX_MEMBERS);
            goto out;
        }
        char *raw;
        if (pax.path)
            raw = xstrdup(pax.path);
        else if (long_name)
            raw = xstrdup(long_name);
        else if (memcmp(b + 257, "ustar\0", 6) == 0 && b[345]) {
            char *prefix = field_dup(b + 345, 155), *name = field_dup(b, 100);
            raw = xasprintf("%s/%s", prefix, name);
            free(prefix);
            free(name);
        } else {
            raw = field_dup(b, 100);
        }
        char *name = dar_path_normalise(raw);
        free(raw);
        struct dar_member m = { 0 };
        m.name = name ? name : xstrdup(""); /* names climbing out match nothing */
        m.offset = data;
        m.size = size;
        switch (type) {
        case '0':
        case '\0':
        case '7':
            m.type = DAR_FILE;
            break;
        case '1':
            m.type = DAR_HARDLINK;
            break;
        case '2':
            m.type = DAR_SYMLINK;
            break;
        default:
            m.type = DAR_OTHER;
            break;
        }
        if (m.type == DAR_SYMLINK || m.type == DAR_HARDLINK) {
            if (pax.linkpath)
                m.link = xstrdup(pax.linkpath);
            else if (long_link)
                m.link = xstrdup(long_link);
            else
                m.link = field_dup(b + 157, 100);
            m.size = 0;
        }
        VEC_PUSH(&v, m);
        pax_release(&pax);
        free(long_name);
        free(long_link);
        long_name = long_link = NULL;
        off = next;
    }
out:
    pax_release(&pax);
    free(long_name);
    free(long_link);
    out->m = v.v;
    out->n = v.n;
    if (rc)
        dar_index_release(out);
    return rc;
}

static const struct dar_member *find_exact(const struct dar_index *ix, const char *name)
{
    /* the last member of a name wins, as when extracting */
    for (size_t i = ix->n; i-- > 0;)
        if (strcmp(ix->m[i].name, name) == 0)
            return &ix->m[i];
    return NULL;
}

const struct dar_member *dar_lookup(const struct dar_index *ix, const char *path)
{
    char *cur = dar_path_normalise(path);
    const struct dar_member *hit = NULL;
    for (int hop = 0; cur && hop <= LINK_HOPS_MAX; hop++) {
        const struct dar_member *m = find_exact(ix, cur);
        if (!m || m->type == DAR_OTHER)
            break;
        if (m->type == DAR_FILE) {
            hit = m;
            break;
        }
        char *next;
        if (m->type == DAR_HARDLINK || m->link[0] == '/') {
            next = dar_path_normalise(m->link);
        } else {
            char *slash = strrchr(cur, '/');
            char *joined =
                slash ? xasprintf("%.*s/%s", (int)(slash - cur), cur, m->link) : xstrdup(m->link);
            next = dar_path_normalise(joined);
            free(joined);
        }
        free(cur);
        cur = next;
    }
    free(cur);
    return hit;
}

/* ---- member streams ---- */

struct section_reader {
    struct reader base;
    int fd; /* owned (a dup of the archive's) */
    uint64_t off, left;
};

static ssize_t section_read(struct reader *r, void *p, size_t n)
{
    struct section_reader *s = (struct section_reader *)r;
    if (s->left == 0 || n == 0)
        return 0;
    if (n > s->left)
        n = (size_t)s->left;
    for (;;) {
        ssize_t got = pread(s->fd, p, n, (off_t)s->off);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            int e = errno;
            diag_set(&r->diag, -e, 0, "read failed: %s", strerror(e));
            return -e;
        }
        if (got == 0) {
            diag_set(&r->diag, -ERR_TRUNCATED, 0, "archive ends %llu bytes early",
                     (unsigned long long)s->left);
            return -ERR_TRUNCATED;
        }
        s->off += (uint64_t)got;
        s->left -= (uint64_t)got;
        return got;
    }
}

static void section_close(struct reader *r)
{
    struct section_reader *s = (struct section_reader *)r;
    close(s->fd);
    free(s);
}

static const struct reader_ops section_ops = { section_read, section_close };

/* ---- the source ---- */

struct blob_ref {
    char digest[DIGEST_STR_LEN + 1];
    const struct dar_member *m;
};

struct dar_source {
    struct image_source base;
    char *path;
    int fd;
    uint64_t file_size;
    struct dar_index ix;
    VEC(struct blob_ref) blobs; /* digest -> member, filled by get_root */
};

static int member_reader(struct dar_source *a, const struct dar_member *m, struct reader **out,
                         struct diag *d)
{
    int fd = fcntl(a->fd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) {
        int e = errno;
        return diag_set(d, -e, 0, "cannot dup archive descriptor: %s", strerror(e));
    }
    struct section_reader *s = xcalloc(1, sizeof(*s));
    s->base.ops = &section_ops;
    s->fd = fd;
    s->off = m->offset;
    s->left = m->size;
    *out = &s->base;
    return 0;
}

static int read_member(struct dar_source *a, const struct dar_member *m, const char *what,
                       struct buf *out, struct diag *d)
{
    if (m->size > out->max)
        return diag_set(d, -ERR_TOO_BIG, 0, "%s is %llu bytes, more than the %zu allowed", what,
                        (unsigned long long)m->size, out->max);
    if (buf_reserve(out, (size_t)m->size) != 0)
        return diag_set(d, -ERR_TOO_BIG, 0, "%s is too big", what);
    int rc = pread_full(a->fd, out->data + out->len, (size_t)m->size, m->offset);
    if (rc)
        return diag_set(d, rc, 0, "cannot read %s: %s", what, err_str(rc));
    out->len += (size_t)m->size;
    out->data[out->len] = '\0';
    return 0;
}

/* sha256 of a member's bytes, read in place. */
static int hash_member(struct dar_source *a, const struct dar_member *m, char *out, struct diag *d)
{
    enum { CHUNK = 1 << 20 };
    unsigned char *tmp = xmalloc(CHUNK), raw[SHA256_LEN];
    struct sha256 h;
    uint64_t off = m->offset, left = m->size;
    int rc = 0;
    sha256_init(&h);
    while (left) {
        size_t n = left < CHUNK ? (size_t)left : CHUNK;
        rc = pread_full(a->fd, tmp, n, off);
        if (rc)
            break;
        sha256_update(&h, tmp, n);
        off += n;
        left -= n;
    }
    free(tmp);
    if (rc) {
        sha256_release(&h);
        return diag_set(d, rc, 0, "cannot read '%s': %s", m->name, err_str(rc));
    }
    sha256_final(&h, raw);
    digest_format(raw, out);
    return 0;
}

static bool is_hex64(const char *p, size_t n)
{
    if (n != 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
            return false;
    return true;
}

/* The digest a member's path claims: "blobs/sha256/<hex>" and, when with_json, "<hex>.json"
 * (docker names the config after its digest). false when the path claims nothing. */
static bool path_digest(const char *path, bool with_json, char *out)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t blen = strlen(base);
    if (strncmp(path, "blobs/sha256/", 13) == 0 && base == path + 13 && is_hex64(base, blen)) {
        snprintf(out, DIGEST_STR_LEN + 1, "sha256:%s", base);
        return true;
    }
    if (with_json && blen == 69 && strcmp(base + 64, ".json") == 0 && is_hex64(base, 64)) {
        snprintf(out, DIGEST_STR_LEN + 1, "sha256:%.64s", base);
        return true;
    }
    return false;
}

static void add_blob(struct dar_source *a, const char *digest, const struct dar_member *m)
{
    struct blob_ref b = { .m = m };
    snprintf(b.digest, sizeof(b.digest), "%s", digest);
    VEC_PUSH(&a->blobs, b);
}

/* Pick the image from manifest.json: by "@N", by name:tag against RepoTags, or the only one. */
static int choose_image(struct dar_source *a, const struct archive_manifest *am,
                        const char **tag_out, struct diag *d)
{
    const struct image_ref *r = &a->base.parsed;
    *tag_out = NULL;
    if (r->index >= 0) {
        if ((size_t)r->index >= am->nimages)
            return diag_set(d, -ERR_MANIFEST_UNKNOWN, 0, "the archive has only %zu images, no @%ld",
                            am->nimages, r->index);
        return (int)r->index;
    }
    if (!r->sub) {
        if (am->nimages != 1)
            return diag_set(d, -ERR_MANIFEST_UNKNOWN, 0,
                            "the archive has %zu images: name one as docker-archive:FILE:NAME:TAG",
                            am->nimages);
        if (am->images[0].ntags)
            *tag_out = am->images[0].repo_tags[0];
        return 0;
    }
    struct docker_name want;
    int rc = docker_name_parse(str_from(r->sub), true, &want, d);
    if (rc)
        return rc;
    int found = -1;
    struct buf tags;
    bool tags_full = false;
    buf_init(&tags, 160);
    for (size_t i = 0; i < am->nimages && found < 0; i++) {
        for (size_t t = 0; t < am->images[i].ntags; t++) {
            struct docker_name have;
            const char *tag = am->images[i].repo_tags[t];
            if (!tags_full)
                tags_full = buf_printf(&tags, "%s%s", tags.len ? ", " : "", tag) != 0;
            if (docker_name_parse(str_from(tag), true, &have, NULL) != 0)
                continue;
            bool same = docker_name_same_tagged(&want, &have);
            docker_name_release(&have);
            if (same) {
                found = (int)i;
                *tag_out = tag;
                break;
            }
        }
    }
    docker_name_release(&want);
    if (found < 0)
        found = diag_set(d, -ERR_MANIFEST_UNKNOWN, 0,
                         "no image tagged '%.64s' in the archive (it has: %s%s)", r->sub,
                         tags.len ? buf_cstr(&tags) : "no tags", tags_full ? ", ..." : "");
    buf_release(&tags);
    return found;
}

static const char *sniff_layer(struct dar_source *a, const struct dar_member *m)
{
    unsigned char magic[4] = { 0 };
    if (m->size >= 4 && pread_full(a->fd, magic, 4, m->offset) == 0) {
        if (magic[0] == 0x1f && magic[1] == 0x8b)
            return MT_DOCKER_LAYER_GZ;
        if (magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd)
            return MT_DOCKER_LAYER_ZST;
    }
    return MT_DOCKER_LAYER;
}

static int dar_get_root(struct image_source *s, struct buf *out, char **media_type, char **digest,
                        struct diag *d)
{
    struct dar_source *a = (struct dar_source *)s;
    struct archive_manifest am = { 0 };
    struct image_config cfg = { 0 };
    struct buf mj, cb;
    json_t *doc = NULL, *layers = NULL;
    char cdigest[DIGEST_STR_LEN + 1], claim[DIGEST_STR_LEN + 1];
    const char *tag = NULL;
    int rc;
    (void)digest; /* nothing in the archive names the manifest we synthesise */

    buf_init(&mj, MANIFEST_MAX_BYTES);
    buf_init(&cb, CONFIG_MAX_BYTES);
    a->blobs.n = 0;
    const struct dar_member *mm = dar_lookup(&a->ix, "manifest.json");
    if (!mm) {
        rc = diag_set(d, -ERR_NOT_FOUND, 0, "not a docker-archive (no manifest.json)");
        goto out;
    }
    rc = read_member(a, mm, "manifest.json", &mj, d);
    if (rc)
        goto out;
    rc = archive_manifest_parse(buf_str(&mj).ptr, mj.len, &am, d);
    if (rc)
        goto out;
    rc = choose_image(a, &am, &tag, d);
    if (rc < 0)
        goto out;
    const struct archive_image *im = &am.images[rc];

    /* config: its digest is the hash of the bytes; a name that claims a digest must agree */
    const struct dar_member *cm = dar_lookup(&a->ix, im->config);
    if (!cm) {
        rc = diag_set(d, -ERR_BLOB_UNKNOWN, 0, "config '%.100s' is missing from the archive",
                      im->config);
        goto out;
    }
    rc = read_member(a, cm, "config", &cb, d);
    if (rc)
        goto out;
    source_digest_of(buf_str(&cb).ptr, cb.len, cdigest);
    if ((path_digest(im->config, true, claim) || path_digest(cm->name, true, claim)) &&
        strcmp(claim, cdigest) != 0) {
        rc = diag_set(d, -ERR_DIGEST, 0,
                      "config '%.100s' does not match the digest its name claims (content is %s)",
                      im->config, cdigest);
        goto out;
    }
    rc = image_config_parse(buf_str(&cb).ptr, cb.len, &cfg, d);
    if (rc) {
        char tmp[sizeof(d->msg)];
        memcpy(tmp, d->msg, sizeof(tmp));
        diag_set(d, rc, d->offset, "config %s: %s", cdigest, tmp);
        goto out;
    }
    if (cfg.ndiff_ids != im->nlayers) {
        rc = diag_set(d, -ERR_MANIFEST_INVALID, 0, "config lists %zu diff_ids for %zu layers",
                      cfg.ndiff_ids, im->nlayers);
        goto out;
    }
    add_blob(a, cdigest, cm);

    doc = json_object();
    layers = json_array();
    for (size_t i = 0; i < im->nlayers; i++) {
        const struct dar_member *lm = dar_lookup(&a->ix, im->layers[i]);
        char ldigest[DIGEST_STR_LEN + 1];
        if (!lm) {
            rc = diag_set(d, -ERR_BLOB_UNKNOWN, 0, "layer '%.100s' is missing from the archive",
                          im->layers[i]);
            goto out;
        }
        const char *mt = sniff_layer(a, lm);
        bool named =
            path_digest(im->layers[i], false, ldigest) || path_digest(lm->name, false, ldigest);
        const char *diff_id = cfg.diff_ids[i];
        if (strcmp(mt, MT_DOCKER_LAYER) == 0 && digest_is_sha256(str_from(diff_id))) {
            /* an uncompressed layer's stored digest is its diff_id: take the claim and let
             * the blob stream verify it */
            if (named && strcmp(ldigest, diff_id) != 0) {
                rc = diag_set(d, -ERR_DIGEST, 0,
                              "layer '%.100s': its name says %s, config diff_id %s", im->layers[i],
                              ldigest, diff_id);
                goto out;
            }
            memcpy(ldigest, diff_id, DIGEST_STR_LEN + 1); /* sha256: checked above */
        } else if (!named) {
            rc = hash_member(a, lm, ldigest, d);
            if (rc)
                goto out;
        }
        add_blob(a, ldigest, lm);
        json_t *l = json_object();
        json_object_set_new(l, "mediaType", json_string(mt));
        json_object_set_new(l, "size", json_integer((json_int_t)lm->size));
        json_object_set_new(l, "digest", json_string(ldigest));
        json_array_append_new(layers, l);
    }
    json_t *c = json_object();
    json_object_set_new(c, "mediaType", json_string(MT_DOCKER_CONFIG));
    json_object_set_new(c, "size", json_integer((json_int_t)cm->size));
    json_object_set_new(c, "digest", json_string(cdigest));
    json_object_set_new(doc, "schemaVersion", json_integer(2));
    json_object_set_new(doc, "mediaType", json_string(MT_DOCKER_MANIFEST));
    json_object_set_new(doc, "config", c);
    json_object_set_new(doc, "layers", layers);
    layers = NULL;
    char *text = json_dumps(doc, JSON_COMPACT);
    BUG_ON(!text);
    if (buf_append_cstr(out, text) != 0)
        rc = diag_set(d, -ERR_TOO_BIG, 0, "synthesised manifest too big");
    free(text);
    if (rc)
        goto out;
    *media_type = xstrdup(MT_DOCKER_MANIFEST);
    free(s->name);
    s->name = tag ? xstrdup(tag) : NULL;
out:
    json_decref(layers);
    json_decref(doc);
    archive_manifest_release(&am);
    image_config_release(&cfg);
    buf_release(&mj);
    buf_release(&cb);
    return rc;
}

static int dar_get_manifest(struct image_source *s, const char *digest, struct buf *out,
                            char **media_type, struct diag *d)
{
    (void)s;
    (void)out;
    (void)media_type;
    return diag_set(d, -ERR_MANIFEST_UNKNOWN, 0, "the archive holds no manifest %s", digest);
}

static int dar_open_blob(struct image_source *s, const char *digest, uint64_t size,
                         struct reader **out, struct diag *d)
{
    struct dar_source *a = (struct dar_source *)s;
    (void)size;
    for (size_t i = 0; i < a->blobs.n; i++)
        if (strcmp(a->blobs.v[i].digest, digest) == 0)
            return member_reader(a, a->blobs.v[i].m, out, d);
    return diag_set(d, -ERR_BLOB_UNKNOWN, 0, "blob %s is not in the archive", digest);
}

static void dar_destroy(struct image_source *s)
{
    struct dar_source *a = (struct dar_source *)s;
    if (a->fd >= 0)
        close(a->fd);
    dar_index_release(&a->ix);
    VEC_FREE(&a->blobs);
    free(a->path);
    free(a);
}

static const struct source_ops dar_ops = {
    .get_root = dar_get_root,
    .get_manifest = dar_get_manifest,
    .open_blob = dar_open_blob,
    .destroy = dar_destroy,
};

int docker_archive_new(const struct image_ref *parsed, const struct image_opts *opts,
                       struct image_source **out, struct diag *d)
{
    (void)opts;
    int fd = open(parsed->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        return diag_set(d, e == ENOENT ? -ERR_NOT_FOUND : -e, 0, "cannot open archive '%s': %s",
                        parsed->path, strerror(e));
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return diag_set(d, -ERR_INVALID, 0, "archive '%s' is not a regular file", parsed->path);
    }
    unsigned char magic[4] = { 0 };
    if (st.st_size >= 4 && pread_full(fd, magic, 4, 0) == 0 &&
        ((magic[0] == 0x1f && magic[1] == 0x8b) ||
         (magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd))) {
        close(fd);
        return diag_set(d, -ERR_UNSUPPORTED, 0,
                        "archive '%s' is compressed (%s): decompress it first (docker save "
                        "writes a plain tar)",
                        parsed->path, magic[0] == 0x1f ? "gzip" : "zstd");
    }
    struct dar_source *a = xcalloc(1, sizeof(*a));
    a->base.ops = &dar_ops;
    a->fd = fd;
    a->path = xstrdup(parsed->path);
    a->file_size = (uint64_t)st.st_size;
    struct diag td = { 0 };
    int rc = dar_index_build(fd, a->file_size, &a->ix, &td);
    if (rc) {
        diag_set(d, rc, td.offset, "bad archive: %s", td.msg);
        dar_destroy(&a->base);
        return rc;
    }
    *out = &a->base;
    return 0;
}
