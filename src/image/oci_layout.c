/* SPDX-License-Identifier: Apache-2.0 */
/* oci:DIR[:REF] — an OCI image layout directory: index.json names the images by their
 * org.opencontainers.image.ref.name annotation, blobs live in blobs/<alg>/<hex>. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/hash.h"
#include "base/xalloc.h"
#include "image/internal.h"
#include "image/manifest.h"

#define OCI_LAYOUT_FILE_MAX 4096

struct oci_source {
    struct image_source base;
    char *dir;
    int dirfd;
};

/* Open DIR/blobs/<alg>/<hex>: 0, -ERR_BLOB_UNKNOWN or -errno, message naming the blob. */
static int open_blob_fd(struct oci_source *o, const char *digest, int *fd, struct diag *d)
{
    struct str dg = str_from(digest);
    long colon = str_chr(dg, ':');
    if (!digest_is_wellformed(dg) || colon < 0)
        return diag_set(d, -ERR_INVALID, 0, "malformed digest '%.80s'", digest);
    /* well-formed: the algorithm and hex parts hold no '/' or '.' */
    char *path = xasprintf("blobs/%.*s/%s", (int)colon, digest, digest + colon + 1);
    *fd = openat(o->dirfd, path, O_RDONLY | O_CLOEXEC);
    int e = errno;
    free(path);
    if (*fd >= 0)
        return 0;
    if (e == ENOENT)
        return diag_set(d, -ERR_BLOB_UNKNOWN, 0, "blob %s is missing from the layout", digest);
    return diag_set(d, -e, 0, "cannot open blob %s: %s", digest, strerror(e));
}

/* Read a whole open file (fd is consumed) into out, capped by out->max. */
static int read_whole(int fd, const char *what, struct buf *out, struct diag *d)
{
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return diag_set(d, -e, 0, "cannot stat %s: %s", what, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return diag_set(d, -ERR_CORRUPT, 0, "%s is not a regular file", what);
    }
    if ((uint64_t)st.st_size > out->max) {
        close(fd);
        return diag_set(d, -ERR_TOO_BIG, 0, "%s is %lld bytes, more than the %zu allowed", what,
                        (long long)st.st_size, out->max);
    }
    struct reader *r = reader_fd_new(fd);
    int rc = reader_read_all(r, out);
    if (rc == -ERR_TOO_BIG)
        diag_set(d, rc, 0, "%s grew past %zu bytes", what, out->max);
    else if (rc)
        diag_set(d, rc, 0, "cannot read %s: %s", what, r->diag.msg);
    reader_close(r);
    return rc;
}

static int read_layout_file(struct oci_source *o, const char *name, struct buf *out, struct diag *d)
{
    int fd = openat(o->dirfd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        if (e == ENOENT)
            return diag_set(d, -ERR_NOT_FOUND, 0, "'%s' is not an OCI layout (no %s)", o->dir,
                            name);
        return diag_set(d, -e, 0, "cannot open %s: %s", name, strerror(e));
    }
    return read_whole(fd, name, out, d);
}

static int oci_get_manifest(struct image_source *s, const char *digest, struct buf *out,
                            char **media_type, struct diag *d)
{
    struct oci_source *o = (struct oci_source *)s;
    int fd = -1;
    (void)media_type; /* a layout says nothing beyond the index entry */
    int rc = open_blob_fd(o, digest, &fd, d);
    if (rc)
        return rc;
    char what[DIGEST_STR_LEN + 16];
    snprintf(what, sizeof(what), "blob %s", digest);
    return read_whole(fd, what, out, d);
}

static int oci_open_blob(struct image_source *s, const char *digest, uint64_t size,
                         struct reader **out, struct diag *d)
{
    struct oci_source *o = (struct oci_source *)s;
    int fd = -1;
    (void)size;
    int rc = open_blob_fd(o, digest, &fd, d);
    if (rc)
        return rc;
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    *out = reader_fd_new(fd);
    return 0;
}

/* "a, b, c" of the ref names in the index, cut short with "..." to fit out. */
static void list_refs(const struct manifest *ix, char *out, size_t n)
{
    struct buf b;
    buf_init(&b, n > 5 ? n - 5 : 0);
    for (size_t i = 0; i < ix->nentries; i++) {
        const char *name = ix->entries[i].ref_name ? ix->entries[i].ref_name : "(unnamed)";
        if (buf_printf(&b, "%s%s", i ? ", " : "", name) != 0) {
            b.max = n - 1; /* room kept for the ellipsis */
            (void)buf_append_cstr(&b, b.len ? ", ..." : "...");
            break;
        }
    }
    snprintf(out, n, "%s", buf_cstr(&b));
    buf_release(&b);
}

static int oci_get_root(struct image_source *s, struct buf *out, char **media_type, char **digest,
                        struct diag *d)
{
    struct oci_source *o = (struct oci_source *)s;
    struct buf ixb;
    struct manifest ix = { 0 };
    char refs[120];
    int rc;
    const struct image_ref *r = &s->parsed;

    buf_init(&ixb, MANIFEST_MAX_BYTES);
    rc = read_layout_file(o, "index.json", &ixb, d);
    if (rc)
        goto out;
    rc = manifest_parse(buf_str(&ixb).ptr, ixb.len, MT_OCI_INDEX, &ix, d);
    if (rc) {
        char tmp[sizeof(d->msg)];
        memcpy(tmp, d->msg, sizeof(tmp));
        diag_set(d, rc, d->offset, "index.json: %s", tmp);
        goto out;
    }
    if (ix.kind != MANIFEST_OCI_INDEX) {
        rc = diag_set(d, -ERR_MANIFEST_INVALID, 0, "index.json is not an index");
        goto out;
    }

    const struct descriptor *e = NULL;
    if (r->index >= 0) {
        if ((size_t)r->index >= ix.nentries) {
            rc = diag_set(d, -ERR_MANIFEST_UNKNOWN, 0, "the layout has only %zu images, no @%ld",
                          ix.nentries, r->index);
            goto out;
        }
        e = &ix.entries[r->index];
    } else if (r->sub) {
        for (size_t i = 0; i < ix.nentries; i++) {
            if (!ix.entries[i].ref_name || strcmp(ix.entries[i].ref_name, r->sub) != 0)
                continue;
            if (e) {
                rc = diag_set(d, -ERR_MANIFEST_INVALID, 0,
                              "the layout has more than one image named '%s'", r->sub);
                goto out;
            }
            e = &ix.entries[i];
        }
        if (!e) {
            list_refs(&ix, refs, sizeof(refs));
            rc = diag_set(d, -ERR_MANIFEST_UNKNOWN, 0,
                          "no image named '%.64s' in the layout (it has: %s)", r->sub,
                          ix.nentries ? refs : "nothing");
            goto out;
        }
    } else {
        if (ix.nentries != 1) {
            list_refs(&ix, refs, sizeof(refs));
            rc = diag_set(d, -ERR_MANIFEST_UNKNOWN, 0,
                          ix.nentries ? "the layout has %zu images: name one as oci:DIR:REF (%s)"
                                      : "the layout has %zu images%s",
                          ix.nentries, ix.nentries ? refs : "");
            goto out;
        }
        e = &ix.entries[0];
    }

    if (e->size > MANIFEST_MAX_BYTES) {
        rc = diag_set(d, -ERR_TOO_BIG, 0, "manifest %s is %llu bytes, more than the %u allowed",
                      e->digest, (unsigned long long)e->size, MANIFEST_MAX_BYTES);
        goto out;
    }
    rc = oci_get_manifest(s, e->digest, out, NULL, d);
    if (rc)
        goto out;
    if (out->len != e->size) {
        rc = diag_set(d, -ERR_DIGEST, 0, "manifest %s: %zu bytes, index.json says %llu", e->digest,
                      out->len, (unsigned long long)e->size);
        goto out;
    }
    *media_type = xstrdup(e->media_type);
    *digest = xstrdup(e->digest);
    free(s->name);
    if (r->sub)
        s->name = xstrdup(r->sub);
    else if (e->ref_name)
        s->name = xstrdup(e->ref_name);
    else
        s->name = NULL; /* source.c falls back to the reference */
out:
    manifest_release(&ix);
    buf_release(&ixb);
    return rc;
}

static void oci_destroy(struct image_source *s)
{
    struct oci_source *o = (struct oci_source *)s;
    if (o->dirfd >= 0)
        close(o->dirfd);
    free(o->dir);
    free(o);
}

static const struct source_ops oci_ops = {
    .get_root = oci_get_root,
    .get_manifest = oci_get_manifest,
    .open_blob = oci_open_blob,
    .destroy = oci_destroy,
};

int oci_layout_new(const struct image_ref *parsed, const struct image_opts *opts,
                   struct image_source **out, struct diag *d)
{
    (void)opts;
    int fd = open(parsed->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        return diag_set(d, e == ENOENT ? -ERR_NOT_FOUND : -e, 0, "cannot open OCI layout '%s': %s",
                        parsed->path, strerror(e));
    }
    struct oci_source *o = xcalloc(1, sizeof(*o));
    o->base.ops = &oci_ops;
    o->dir = xstrdup(parsed->path);
    o->dirfd = fd;

    /* oci-layout must exist and name a version we understand */
    struct buf lb;
    buf_init(&lb, OCI_LAYOUT_FILE_MAX);
    int rc = read_layout_file(o, "oci-layout", &lb, d);
    if (rc == 0) {
        json_error_t je;
        json_t *root = json_loadb(buf_str(&lb).ptr, lb.len, JSON_REJECT_DUPLICATES, &je);
        json_t *v = root ? json_object_get(root, "imageLayoutVersion") : NULL;
        if (!json_is_string(v))
            rc = diag_set(d, -ERR_CORRUPT, 0, "oci-layout of '%s' has no imageLayoutVersion",
                          o->dir);
        else if (strncmp(json_string_value(v), "1.", 2) != 0)
            rc = diag_set(d, -ERR_UNSUPPORTED, 0, "layout '%s' has version '%.20s', want 1.x",
                          o->dir, json_string_value(v));
        json_decref(root);
    }
    buf_release(&lb);
    if (rc) {
        oci_destroy(&o->base);
        return rc;
    }
    *out = &o->base;
    return 0;
}
