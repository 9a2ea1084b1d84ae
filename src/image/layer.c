/* SPDX-License-Identifier: Apache-2.0 */
/* One pass over a layer's tar stream: record every directory, link, whiteout and regular file
 * (compactly, in the arena) and keep the content of the files the caller is interested in. */
#include "layer.h"

#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "image/tar.h"

#define LAYER_DEFAULT_MAX_FILE  (64ull << 20)
#define LAYER_DEFAULT_MAX_TOTAL (512ull << 20)
#define LAYER_DRAIN_CHUNK       (64u << 10)
#define WH_PREFIX               ".wh."
#define WH_OPAQUE               ".wh..wh..opq"

void layer_contents_init(struct layer_contents *lc)
{
    arena_init(&lc->arena);
    lc->files.v = NULL;
    lc->files.n = lc->files.cap = 0;
    lc->tar_bytes = lc->entries = lc->kept_bytes = 0;
}

void layer_contents_release(struct layer_contents *lc)
{
    arena_release(&lc->arena);
    VEC_FREE(&lc->files);
    lc->tar_bytes = lc->entries = lc->kept_bytes = 0;
}

/* Counts the uncompressed bytes the walk pulls through (tar_bytes). */
struct count_reader {
    struct reader base;
    struct reader *inner;
    unsigned long long n;
};

static ssize_t count_read(struct reader *r, void *p, size_t n)
{
    struct count_reader *c = (struct count_reader *)r;
    ssize_t got = reader_read(c->inner, p, n);
    if (got < 0)
        r->diag = c->inner->diag;
    else
        c->n += (unsigned long long)got;
    return got;
}

static const struct reader_ops count_ops = { count_read, NULL };

/* Paths of the files kept so far, so that a hard link to one of them can share its data:
 * open addressing over indices into lc->files. */
struct kept_map {
    size_t *slot; /* index + 1; 0 = empty */
    size_t cap, n;
};

static size_t path_hash(const char *s)
{
    size_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static void kept_put(struct kept_map *m, const struct layer_contents *lc, size_t idx)
{
    if (2 * (m->n + 1) > m->cap) {
        size_t ncap = m->cap ? m->cap * 2 : 64;
        size_t *ns = xcalloc(ncap, sizeof(*ns));
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->slot[i])
                continue;
            size_t j = path_hash(lc->files.v[m->slot[i] - 1].path) & (ncap - 1);
            while (ns[j])
                j = (j + 1) & (ncap - 1);
            ns[j] = m->slot[i];
        }
        free(m->slot);
        m->slot = ns;
        m->cap = ncap;
    }
    const char *path = lc->files.v[idx].path;
    size_t j = path_hash(path) & (m->cap - 1);
    while (m->slot[j]) {
        if (strcmp(lc->files.v[m->slot[j] - 1].path, path) == 0) {
            m->slot[j] = idx + 1; /* a later copy of the same path wins */
            return;
        }
        j = (j + 1) & (m->cap - 1);
    }
    m->slot[j] = idx + 1;
    m->n++;
}

static const struct layer_file *kept_get(const struct kept_map *m, const struct layer_contents *lc,
                                         const char *path)
{
    if (!m->cap)
        return NULL;
    size_t j = path_hash(path) & (m->cap - 1);
    while (m->slot[j]) {
        const struct layer_file *f = &lc->files.v[m->slot[j] - 1];
        if (strcmp(f->path, path) == 0)
            return f;
        j = (j + 1) & (m->cap - 1);
    }
    return NULL;
}

static struct layer_file *push(struct layer_contents *lc, enum lf_kind kind, const char *path,
                               size_t path_len)
{
    struct layer_file f = { 0 };
    f.path = arena_strndup(&lc->arena, path, path_len);
    f.link = "";
    f.kind = kind;
    VEC_PUSH(&lc->files, f);
    return &lc->files.v[lc->files.n - 1];
}

/* ".wh.NAME" and ".wh..wh..opq" markers. Returns true when the entry was one (recorded or,
 * for other ".wh..wh." names such as aufs metadata, deliberately dropped). */
static bool take_whiteout(struct layer_contents *lc, const struct tar_entry *e)
{
    const char *slash = strrchr(e->path, '/');
    const char *base = slash ? slash + 1 : e->path;
    size_t dir_len = slash ? (size_t)(slash - e->path) : 0;
    if (strncmp(base, WH_PREFIX, strlen(WH_PREFIX)) != 0)
        return false;
    if (strcmp(base, WH_OPAQUE) == 0) {
        push(lc, LF_OPAQUE, e->path, dir_len);
        return true;
    }
    const char *name = base + strlen(WH_PREFIX);
    if (strncmp(name, WH_PREFIX, strlen(WH_PREFIX)) == 0 || !*name || strcmp(name, ".") == 0 ||
        strcmp(name, "..") == 0)
        return true; /* not a whiteout of anything we can name */
    /* "dir/.wh.NAME" -> "dir/NAME": drop the 4 prefix bytes from the full path */
    size_t plen = strlen(e->path);
    char *p = arena_alloc(&lc->arena, plen - strlen(WH_PREFIX) + 1);
    size_t pre = (size_t)(base - e->path);
    memcpy(p, e->path, pre);
    memcpy(p + pre, name, strlen(name) + 1);
    struct layer_file f = { 0 };
    f.path = p;
    f.link = "";
    f.kind = LF_WHITEOUT;
    VEC_PUSH(&lc->files, f);
    return true;
}

struct interest_adapter {
    layer_interest_fn interest;
    void *ctx;
};

static enum layer_action interest_action(const char *path, uint64_t size, uint32_t mode, void *ctx)
{
    const struct interest_adapter *ia = ctx;
    (void)mode;
    return ia->interest && ia->interest(path, size, ia->ctx) ? LAYER_KEEP : LAYER_SKIP;
}

int layer_collect(struct reader *tar_stream, layer_interest_fn interest, void *ctx,
                  const struct layer_limits *lim, struct layer_contents *out, struct diag *d)
{
    struct interest_adapter ia = { interest, ctx };
    struct layer_hooks h = { interest_action, NULL, &ia };
    return layer_collect_ex(tar_stream, &h, lim, out, d);
}

/* Read the current entry and keep what the analyze hook makes of it. */
static int analyze_file(struct tar *t, const struct tar_entry *e, struct layer_file *f,
                        const struct layer_hooks *h, unsigned long long max_total,
                        struct buf *scratch, struct buf *result, struct layer_contents *out,
                        struct diag *d)
{
    buf_reset(scratch);
    int rc = buf_reserve(scratch, (size_t)e->size);
    if (rc == 0)
        rc = reader_read_full(tar_content_reader(t), scratch->data, (size_t)e->size);
    if (rc) {
        if (d)
            *d = tar_content_reader(t)->diag;
        return rc;
    }
    scratch->len = (size_t)e->size;
    scratch->data[scratch->len] = '\0';
    buf_reset(result);
    struct diag ad = { 0 };
    int arc = h->analyze(f->path, e->mode, buf_str(scratch), result, h->ctx, &ad);
    if (arc) {
        buf_reset(result);
        buf_append_cstr(result, ad.msg[0] ? ad.msg : err_str(arc));
        f->failed = true;
    }
    if (result->len > max_total - out->kept_bytes) {
        f->too_big = true;
        f->failed = false;
        return 0;
    }
    char *p = arena_alloc(&out->arena, result->len + 1);
    memcpy(p, buf_cstr(result), result->len + 1);
    f->data = (struct str){ p, result->len };
    f->analyzed = true;
    out->kept_bytes += result->len;
    return 0;
}

int layer_collect_ex(struct reader *tar_stream, const struct layer_hooks *hooks,
                     const struct layer_limits *lim, struct layer_contents *out, struct diag *d)
{
    unsigned long long max_file = lim && lim->max_file ? lim->max_file : LAYER_DEFAULT_MAX_FILE;
    unsigned long long max_total = lim && lim->max_total ? lim->max_total : LAYER_DEFAULT_MAX_TOTAL;
    struct count_reader cr = { .base = { .ops = &count_ops }, .inner = tar_stream };
    struct tar *t = tar_new(&cr.base);
    struct kept_map kept = { 0 };
    struct buf scratch, result; /* analyze hook: content in, compact result out */
    buf_init(&scratch, (size_t)max_file + 1);
    buf_init(&result, (size_t)max_file + 1);
    struct tar_entry e;
    int rc;

    while ((rc = tar_next(t, &e, d)) > 0) {
        out->entries++;
        if (take_whiteout(out, &e))
            continue;
        struct layer_file *f;
        switch (e.type) {
        case TAR_DIR:
            f = push(out, LF_DIR, e.path, strlen(e.path));
            f->mode = e.mode;
            break;
        case TAR_SYMLINK:
            f = push(out, LF_SYMLINK, e.path, strlen(e.path));
            f->link = arena_strdup(&out->arena, e.link);
            f->mode = e.mode;
            break;
        case TAR_HARDLINK: {
            /* copy before push(): growing the vector moves the entries */
            const struct layer_file *tp = kept_get(&kept, out, e.link);
            struct layer_file target = tp ? *tp : (struct layer_file){ 0 };
            f = push(out, LF_HARDLINK, e.path, strlen(e.path));
            f->link = arena_strdup(&out->arena, e.link);
            f->mode = e.mode;
            if (tp) {
                f->data = target.data;
                f->size = target.size;
                f->too_big = target.too_big;
                f->analyzed = target.analyzed;
                f->failed = target.failed;
                kept_put(&kept, out, out->files.n - 1); /* links to this link share it too */
            }
            break;
        }
        case TAR_FILE:
            f = push(out, LF_FILE, e.path, strlen(e.path));
            f->size = e.size;
            f->mode = e.mode;
            enum layer_action act = hooks && hooks->action
                                        ? hooks->action(f->path, e.size, e.mode, hooks->ctx)
                                        : LAYER_SKIP;
            if (act == LAYER_SKIP)
                break;
            if (act == LAYER_ANALYZE && hooks->analyze) {
                if (e.size > max_file) {
                    f->too_big = true;
                    break;
                }
                rc = analyze_file(t, &e, f, hooks, max_total, &scratch, &result, out, d);
                if (rc)
                    goto out;
                break;
            }
            if (e.size > max_file || e.size > max_total - out->kept_bytes) {
                f->too_big = true;
                break;
            }
            {
                char *p = arena_alloc(&out->arena, (size_t)e.size + 1);
                rc = reader_read_full(tar_content_reader(t), p, (size_t)e.size);
                if (rc) {
                    if (d)
                        *d = tar_content_reader(t)->diag;
                    goto out;
                }
                p[e.size] = '\0';
                f->data = (struct str){ p, (size_t)e.size };
                out->kept_bytes += e.size;
                kept_put(&kept, out, out->files.n - 1);
            }
            break;
        case TAR_OTHER:
            /* devices and fifos: nothing a scanner reads */
            break;
        }
    }
    if (rc < 0)
        goto out;

    /* Read what follows the end-of-archive blocks (normally zero padding): a verifying
     * reader below checks the digest at EOF, and the decompressor checks its trailer. */
    char *sink = xmalloc(LAYER_DRAIN_CHUNK);
    for (;;) {
        ssize_t got = reader_read(&cr.base, sink, LAYER_DRAIN_CHUNK);
        if (got == 0)
            break;
        if (got < 0) {
            rc = diag_set(d, (int)got, (size_t)cr.n, "after the end of the tar archive: %s",
                          cr.base.diag.msg[0] ? cr.base.diag.msg : err_str((int)got));
            free(sink);
            goto out;
        }
    }
    free(sink);
    rc = 0;
out:
    out->tar_bytes += cr.n;
    buf_release(&scratch);
    buf_release(&result);
    free(kept.slot);
    tar_free(t);
    return rc;
}
