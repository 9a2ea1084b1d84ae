/* SPDX-License-Identifier: Apache-2.0 */
/* Content-addressed blob files and resumable uploads: stream + hash into uploads/<id>, then
 * verify, sync and rename into blobs/sha256/<2 hex>/<hex>. */
#include "store/blob_store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/log.h"
#include "base/vec.h"
#include "base/xalloc.h"

/* Writeback is started every this many bytes (sync_file_range), so the fdatasync at the end of
 * an upload finds most of the file already on disk instead of flushing it all at once. */
#define WRITEBACK_STEP (8u << 20)
/* Detached uploads whose hash state is kept in memory; beyond this the oldest-touched state is
 * dropped and that upload is rehashed from its file if it ever resumes. */
#define MAX_KEPT_WRITERS 4096
#define NBUCKETS         256

struct blob_writer {
    char id[BLOB_UPLOAD_ID_MAX + 1];
    int fd; /* -1 while checked in */
    uint64_t offset;
    uint64_t writeback; /* bytes already handed to writeback */
    struct sha256 hash; /* ctx NULL once finished */
    bool busy;          /* checked out by a request */
    bool cancelled;     /* removed while checked out: delete on release */
    bool broken;        /* a write failed: the state no longer matches the file */
    bool finished, durable, verified;
    char digest[DIGEST_STR_LEN + 1];
    struct blob_store *bs;
    struct blob_writer *next; /* bucket chain */
};

struct blob_store {
    char *root;
    int blobs_dfd;   /* DATA/blobs/sha256 */
    int uploads_dfd; /* DATA/uploads */
    pthread_mutex_t lock;
    int prefix_dfd[256]; /* DATA/blobs/sha256/<xx>, opened on first use */
    struct blob_writer *buckets[NBUCKETS];
    size_t nwriters;
    bool usage_known;
    uint64_t usage_bytes, usage_count;
    /* Files to delete are renamed into DATA/uploads/.trash (instant) and unlinked by a
     * background thread: freeing a large file's extents takes tens of milliseconds, which
     * should not be spent inside a request or a database transaction. */
    int trash_dfd;
    pthread_t reaper;
    bool reaper_running, closing;
    pthread_cond_t reap_cv;
    VEC(char *) reap_q; /* names in .trash, guarded by lock */
};

/* ---- helpers ---- */

static unsigned bucket_of(const char *id)
{
    unsigned h = 5381;
    for (const char *p = id; *p; p++)
        h = h * 33 + (unsigned char)*p;
    return h % NBUCKETS;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static bool is_hex64(const char *s)
{
    for (int i = 0; i < 64; i++)
        if (hexval(s[i]) < 0)
            return false;
    return s[64] == '\0';
}

/* "sha256:<hex>" -> pointer to hex and the prefix number; false when not a sha256 digest. */
static bool split_digest(const char *digest, const char **hex, unsigned *prefix)
{
    if (!digest || !digest_is_sha256(str_from(digest)))
        return false;
    *hex = digest + 7;
    *prefix = (unsigned)(hexval((*hex)[0]) * 16 + hexval((*hex)[1]));
    return true;
}

static int open_dir_at(int dfd, const char *name, bool create, bool *created)
{
    if (created)
        *created = false;
    int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0 || errno != ENOENT || !create)
        return fd >= 0 ? fd : -errno;
    if (mkdirat(dfd, name, 0750) != 0 && errno != EEXIST)
        return -errno;
    if (created)
        *created = true;
    fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    return fd >= 0 ? fd : -errno;
}

/* The directory fd for a prefix; creates the directory (and syncs its parent, so the new entry
 * survives a crash) when `create`. Called with bs->lock held. */
static int prefix_dir(struct blob_store *bs, unsigned prefix, bool create)
{
    if (bs->prefix_dfd[prefix] >= 0)
        return bs->prefix_dfd[prefix];
    static const char hx[] = "0123456789abcdef";
    char name[3] = { hx[(prefix >> 4) & 15], hx[prefix & 15], '\0' };
    bool created;
    int fd = open_dir_at(bs->blobs_dfd, name, create, &created);
    if (fd < 0)
        return fd;
    if (created && fsync(bs->blobs_dfd) != 0) {
        int e = -errno;
        close(fd);
        return e;
    }
    bs->prefix_dfd[prefix] = fd;
    return fd;
}

/* ---- deferred deletion ---- */

static void *reaper_main(void *arg)
{
    struct blob_store *bs = arg;
    pthread_mutex_lock(&bs->lock);
    for (;;) {
        while (bs->reap_q.n == 0 && !bs->closing)
            pthread_cond_wait(&bs->reap_cv, &bs->lock);
        if (bs->reap_q.n == 0)
            break; /* closing and nothing left */
        char *name = bs->reap_q.v[--bs->reap_q.n];
        pthread_mutex_unlock(&bs->lock);
        if (unlinkat(bs->trash_dfd, name, 0) != 0 && errno != ENOENT)
            log_warn("store", "cannot remove '%s/uploads/.trash/%s': %s", bs->root, name,
                     strerror(errno));
        free(name);
        pthread_mutex_lock(&bs->lock);
    }
    pthread_mutex_unlock(&bs->lock);
    return NULL;
}

/* Queue a name in .trash for unlinking. Lock held. */
static void reap_enqueue_locked(struct blob_store *bs, char *name)
{
    VEC_PUSH(&bs->reap_q, name);
    if (!bs->reaper_running) {
        if (pthread_create(&bs->reaper, NULL, reaper_main, bs) == 0) {
            bs->reaper_running = true;
        } else { /* no thread: delete right here */
            bs->reap_q.n--;
            unlinkat(bs->trash_dfd, name, 0);
            free(name);
            return;
        }
    }
    pthread_cond_signal(&bs->reap_cv);
}

/* Make dfd/name disappear now and free its space later. Returns 0 or -errno (ENOENT when it
 * does not exist). The _locked variant is called with bs->lock held. */
static int remove_later_locked(struct blob_store *bs, int dfd, const char *name)
{
    char trash[BLOB_UPLOAD_ID_LEN + 1];
    blob_upload_id_new(trash);
    if (bs->trash_dfd < 0 || renameat(dfd, name, bs->trash_dfd, trash) != 0) {
        if (errno == ENOENT)
            return -ENOENT;
        return unlinkat(dfd, name, 0) == 0 ? 0 : -errno;
    }
    reap_enqueue_locked(bs, xstrdup(trash));
    return 0;
}

static int remove_later(struct blob_store *bs, int dfd, const char *name)
{
    pthread_mutex_lock(&bs->lock);
    int rc = remove_later_locked(bs, dfd, name);
    pthread_mutex_unlock(&bs->lock);
    return rc;
}

static int queue_old_trash(void *ctx, const char *name, uint64_t size, int64_t mtime)
{
    struct blob_store *bs = ctx;
    (void)size;
    (void)mtime;
    pthread_mutex_lock(&bs->lock);
    reap_enqueue_locked(bs, xstrdup(name));
    pthread_mutex_unlock(&bs->lock);
    return 0;
}

static bool any_name(const char *name, void *arg)
{
    (void)name;
    (void)arg;
    return true;
}

static int walk_dir(int dfd, bool (*name_ok)(const char *name, void *arg), void *arg,
                    int (*fn)(void *ctx, const char *name, uint64_t size, int64_t mtime),
                    void *ctx);

/* ---- open / close ---- */

int blob_store_open(const char *data_dir, struct blob_store **out, struct diag *d)
{
    struct blob_store *bs = xcalloc(1, sizeof(*bs));
    bs->root = xstrdup(data_dir);
    bs->blobs_dfd = bs->uploads_dfd = bs->trash_dfd = -1;
    for (int i = 0; i < 256; i++)
        bs->prefix_dfd[i] = -1;
    pthread_mutex_init(&bs->lock, NULL);
    pthread_cond_init(&bs->reap_cv, NULL);

    char *blobs = xasprintf("%s/blobs/sha256", data_dir);
    char *uploads = xasprintf("%s/uploads", data_dir);
    int rc = fs_mkdir_p(blobs, 0750);
    if (rc == 0)
        rc = fs_mkdir_p(uploads, 0750);
    if (rc) {
        diag_set(d, rc, 0, "cannot create '%s': %s", rc == 0 ? uploads : blobs, err_str(rc));
        goto fail;
    }
    bs->blobs_dfd = open(blobs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    bs->uploads_dfd = open(uploads, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (bs->blobs_dfd < 0 || bs->uploads_dfd < 0) {
        rc = -errno;
        diag_set(d, rc, 0, "cannot open '%s': %s", data_dir, err_str(rc));
        goto fail;
    }
    free(blobs);
    free(uploads);
    /* the trash is optional: without it files are unlinked in place */
    bs->trash_dfd = open_dir_at(bs->uploads_dfd, ".trash", true, NULL);
    if (bs->trash_dfd >= 0)
        walk_dir(bs->trash_dfd, any_name, NULL, queue_old_trash, bs); /* left by a crash */
    else
        bs->trash_dfd = -1;
    *out = bs;
    return 0;
fail:
    free(blobs);
    free(uploads);
    blob_store_close(bs);
    return rc;
}

static void writer_free(struct blob_writer *w)
{
    if (w->fd >= 0)
        close(w->fd);
    if (w->hash.ctx)
        sha256_release(&w->hash);
    free(w);
}

void blob_store_close(struct blob_store *bs)
{
    if (!bs)
        return;
    pthread_mutex_lock(&bs->lock);
    bs->closing = true;
    pthread_cond_signal(&bs->reap_cv);
    bool joined = bs->reaper_running;
    pthread_mutex_unlock(&bs->lock);
    if (joined)
        pthread_join(bs->reaper, NULL); /* finishes what is queued */
    for (size_t i = 0; i < bs->reap_q.n; i++)
        free(bs->reap_q.v[i]);
    VEC_FREE(&bs->reap_q);
    pthread_cond_destroy(&bs->reap_cv);
    for (int i = 0; i < NBUCKETS; i++) {
        struct blob_writer *w = bs->buckets[i];
        while (w) {
            struct blob_writer *next = w->next;
            BUG_ON(w->busy);
            writer_free(w);
            w = next;
        }
    }
    for (int i = 0; i < 256; i++)
        if (bs->prefix_dfd[i] >= 0)
            close(bs->prefix_dfd[i]);
    if (bs->blobs_dfd >= 0)
        close(bs->blobs_dfd);
    if (bs->uploads_dfd >= 0)
        close(bs->uploads_dfd);
    if (bs->trash_dfd >= 0)
        close(bs->trash_dfd);
    pthread_mutex_destroy(&bs->lock);
    free(bs->root);
    free(bs);
}

/* ---- reading ---- */

static int blob_fd_stat(struct blob_store *bs, const char *digest, bool want_fd, int *fd,
                        struct stat *st)
{
    const char *hex;
    unsigned prefix;
    if (!split_digest(digest, &hex, &prefix))
        return -ERR_INVALID;
    pthread_mutex_lock(&bs->lock);
    int dfd = prefix_dir(bs, prefix, false);
    pthread_mutex_unlock(&bs->lock);
    if (dfd < 0)
        return dfd;
    if (!want_fd)
        return fstatat(dfd, hex, st, 0) == 0 ? 0 : -errno;
    int f = openat(dfd, hex, O_RDONLY | O_CLOEXEC);
    if (f < 0)
        return -errno;
    if (fstat(f, st) != 0) {
        int e = -errno;
        close(f);
        return e;
    }
    *fd = f;
    return 0;
}

int blob_store_open_read(struct blob_store *bs, const char *digest, int *fd, uint64_t *size)
{
    struct stat st = { 0 };
    int rc = blob_fd_stat(bs, digest, true, fd, &st);
    if (rc == 0)
        *size = (uint64_t)st.st_size;
    return rc;
}

int blob_store_stat(struct blob_store *bs, const char *digest, uint64_t *size, int64_t *mtime)
{
    struct stat st;
    int rc = blob_fd_stat(bs, digest, false, NULL, &st);
    if (rc)
        return rc;
    if (size)
        *size = (uint64_t)st.st_size;
    if (mtime)
        *mtime = (int64_t)st.st_mtim.tv_sec;
    return 0;
}

int blob_store_remove(struct blob_store *bs, const char *digest)
{
    const char *hex;
    unsigned prefix;
    if (!split_digest(digest, &hex, &prefix))
        return -ERR_INVALID;
    pthread_mutex_lock(&bs->lock);
    int dfd = prefix_dir(bs, prefix, false);
    pthread_mutex_unlock(&bs->lock);
    if (dfd < 0)
        return dfd;
    struct stat st;
    if (fstatat(dfd, hex, &st, 0) != 0)
        return -errno;
    int rc = remove_later(bs, dfd, hex);
    if (rc == 0) {
        pthread_mutex_lock(&bs->lock);
        if (bs->usage_known) {
            bs->usage_bytes -= (uint64_t)st.st_size;
            bs->usage_count--;
        }
        pthread_mutex_unlock(&bs->lock);
    }
    return rc;
}

/* Walk one directory of regular files; `name_ok` filters names. */
static int walk_dir(int dfd, bool (*name_ok)(const char *name, void *arg), void *arg,
                    int (*fn)(void *ctx, const char *name, uint64_t size, int64_t mtime), void *ctx)
{
    int fd = dup(dfd);
    if (fd < 0)
        return -errno;
    DIR *dir = fdopendir(fd);
    if (!dir) {
        int e = -errno;
        close(fd);
        return e;
    }
    rewinddir(dir);
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(dir)) != NULL) {
        if (e->d_name[0] == '.' || !name_ok(e->d_name, arg))
            continue;
        struct stat st;
        if (fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
            continue; /* vanished meanwhile, or not ours */
        rc = fn(ctx, e->d_name, (uint64_t)st.st_size, (int64_t)st.st_mtim.tv_sec);
    }
    closedir(dir);
    return rc;
}

struct blob_walk_ctx {
    blob_walk_fn fn;
    void *ctx;
};

static bool blob_name_ok(const char *name, void *arg)
{
    const unsigned *prefix = arg;
    return strlen(name) == 64 && is_hex64(name) &&
           (unsigned)(hexval(name[0]) * 16 + hexval(name[1])) == *prefix;
}

static int blob_walk_cb(void *ctx, const char *name, uint64_t size, int64_t mtime)
{
    struct blob_walk_ctx *c = ctx;
    char digest[DIGEST_STR_LEN + 1];
    snprintf(digest, sizeof(digest), "sha256:%s", name);
    return c->fn(c->ctx, digest, size, mtime);
}

int blob_store_walk(struct blob_store *bs, blob_walk_fn fn, void *ctx)
{
    struct blob_walk_ctx c = { fn, ctx };
    for (unsigned prefix = 0; prefix < 256; prefix++) {
        pthread_mutex_lock(&bs->lock);
        int dfd = prefix_dir(bs, prefix, false);
        pthread_mutex_unlock(&bs->lock);
        if (dfd == -ENOENT)
            continue;
        if (dfd < 0)
            return dfd;
        int rc = walk_dir(dfd, blob_name_ok, &prefix, blob_walk_cb, &c);
        if (rc)
            return rc;
    }
    return 0;
}

static int usage_cb(void *ctx, const char *digest, uint64_t size, int64_t mtime)
{
    uint64_t *acc = ctx;
    (void)digest;
    (void)mtime;
    acc[0] += size;
    acc[1]++;
    return 0;
}

int blob_store_usage(struct blob_store *bs, uint64_t *bytes, uint64_t *count)
{
    pthread_mutex_lock(&bs->lock);
    bool known = bs->usage_known;
    pthread_mutex_unlock(&bs->lock);
    if (!known) {
        uint64_t acc[2] = { 0, 0 };
        int rc = blob_store_walk(bs, usage_cb, acc);
        if (rc)
            return rc;
        pthread_mutex_lock(&bs->lock);
        if (!bs->usage_known) {
            bs->usage_known = true;
            bs->usage_bytes = acc[0];
            bs->usage_count = acc[1];
        }
        pthread_mutex_unlock(&bs->lock);
    }
    pthread_mutex_lock(&bs->lock);
    if (bytes)
        *bytes = bs->usage_bytes;
    if (count)
        *count = bs->usage_count;
    pthread_mutex_unlock(&bs->lock);
    return 0;
}

/* ---- upload ids and the in-memory table ---- */

void blob_upload_id_new(char *out)
{
    unsigned char r[16];
    size_t got = 0;
    while (got < sizeof(r)) {
        ssize_t n = getrandom(r + got, sizeof(r) - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        BUG_ON(n <= 0);
        got += (size_t)n;
    }
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x40); /* version 4 */
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    static const char hx[] = "0123456789abcdef";
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hx[r[i] >> 4];
        out[o++] = hx[r[i] & 15];
    }
    out[o] = '\0';
}

bool blob_upload_id_valid(const char *id)
{
    size_t n = 0;
    for (; id && id[n]; n++) {
        char c = id[n];
        if (n >= BLOB_UPLOAD_ID_MAX)
            return false;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
    }
    return n > 0;
}

static struct blob_writer *table_find(struct blob_store *bs, const char *id)
{
    for (struct blob_writer *w = bs->buckets[bucket_of(id)]; w; w = w->next)
        if (strcmp(w->id, id) == 0)
            return w;
    return NULL;
}

static void table_remove(struct blob_store *bs, struct blob_writer *w)
{
    for (struct blob_writer **pp = &bs->buckets[bucket_of(w->id)]; *pp; pp = &(*pp)->next) {
        if (*pp == w) {
            *pp = w->next;
            bs->nwriters--;
            return;
        }
    }
}

static void table_insert(struct blob_store *bs, struct blob_writer *w)
{
    unsigned b = bucket_of(w->id);
    w->next = bs->buckets[b];
    bs->buckets[b] = w;
    bs->nwriters++;
}

/* Over the cap: drop the state of some checked-in upload (its file stays). Lock held. */
static void table_trim(struct blob_store *bs)
{
    for (unsigned b = 0; b < NBUCKETS && bs->nwriters > MAX_KEPT_WRITERS; b++) {
        struct blob_writer **pp = &bs->buckets[b];
        while (*pp && bs->nwriters > MAX_KEPT_WRITERS) {
            struct blob_writer *w = *pp;
            if (w->busy) {
                pp = &w->next;
                continue;
            }
            *pp = w->next;
            bs->nwriters--;
            writer_free(w);
        }
    }
}

static struct blob_writer *writer_new(struct blob_store *bs, const char *id)
{
    struct blob_writer *w = xcalloc(1, sizeof(*w));
    w->bs = bs;
    memcpy(w->id, id, strlen(id) + 1);
    w->fd = -1;
    w->busy = true;
    sha256_init(&w->hash);
    return w;
}

int blob_upload_create(struct blob_store *bs, const char *id, struct blob_writer **out)
{
    if (!blob_upload_id_valid(id))
        return -ERR_INVALID;
    int fd = openat(bs->uploads_dfd, id, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (fd < 0)
        return -errno;
    struct blob_writer *w = writer_new(bs, id);
    w->fd = fd;
    pthread_mutex_lock(&bs->lock);
    table_insert(bs, w);
    pthread_mutex_unlock(&bs->lock);
    *out = w;
    return 0;
}

/* Rebuild the hash state of an upload from its file (after a restart or an eviction). */
static int writer_rehash(struct blob_writer *w)
{
    enum { CHUNK = 1 << 20 };
    char *buf = xmalloc(CHUNK);
    int rc = 0;
    uint64_t off = 0;
    for (;;) {
        ssize_t n = pread(w->fd, buf, CHUNK, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = -errno;
            break;
        }
        if (n == 0)
            break;
        sha256_update(&w->hash, buf, (size_t)n);
        off += (uint64_t)n;
    }
    free(buf);
    w->offset = off;
    w->writeback = off;
    if (rc == 0 && lseek(w->fd, (off_t)off, SEEK_SET) < 0)
        rc = -errno;
    return rc;
}

int blob_upload_acquire(struct blob_store *bs, const char *id, struct blob_writer **out)
{
    if (!blob_upload_id_valid(id))
        return -ERR_INVALID;
    pthread_mutex_lock(&bs->lock);
    struct blob_writer *w = table_find(bs, id);
    if (w && (w->busy || w->cancelled)) {
        pthread_mutex_unlock(&bs->lock);
        return w->cancelled ? -ENOENT : -EBUSY;
    }
    if (w)
        w->busy = true;
    pthread_mutex_unlock(&bs->lock);

    int fd = openat(bs->uploads_dfd, id, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        int e = -errno;
        if (w) { /* the file went away (gc of another process): forget the state */
            pthread_mutex_lock(&bs->lock);
            table_remove(bs, w);
            pthread_mutex_unlock(&bs->lock);
            writer_free(w);
        }
        return e;
    }
    if (w) {
        struct stat st;
        if (fstat(fd, &st) != 0) {
            int e = -errno;
            close(fd);
            blob_upload_release(bs, w);
            return e;
        }
        w->fd = fd;
        if ((uint64_t)st.st_size == w->offset) {
            if (lseek(fd, (off_t)w->offset, SEEK_SET) < 0) {
                int e = -errno;
                blob_upload_release(bs, w);
                return e;
            }
            *out = w;
            return 0;
        }
        /* the file no longer matches the state (written by a failed request, or changed
         * outside): rehash what is there */
        sha256_release(&w->hash);
        sha256_init(&w->hash);
        int rc = writer_rehash(w);
        if (rc) {
            blob_upload_release(bs, w);
            return rc;
        }
        *out = w;
        return 0;
    }

    w = writer_new(bs, id);
    w->fd = fd;
    int rc = writer_rehash(w);
    pthread_mutex_lock(&bs->lock);
    if (rc == 0 && table_find(bs, id))
        rc = -EBUSY; /* a concurrent acquire of the same upload won */
    if (rc == 0)
        table_insert(bs, w);
    pthread_mutex_unlock(&bs->lock);
    if (rc) {
        writer_free(w);
        return rc;
    }
    *out = w;
    return 0;
}

void blob_upload_release(struct blob_store *bs, struct blob_writer *w)
{
    if (w->fd >= 0) {
        close(w->fd);
        w->fd = -1;
    }
    pthread_mutex_lock(&bs->lock);
    bool drop = w->cancelled || w->broken || w->finished;
    if (w->cancelled)
        remove_later_locked(bs, bs->uploads_dfd, w->id);
    if (drop) {
        /* a broken or finished state cannot continue: the next acquire rehashes the file */
        table_remove(bs, w);
    } else {
        w->busy = false;
        if (bs->nwriters > MAX_KEPT_WRITERS)
            table_trim(bs);
    }
    pthread_mutex_unlock(&bs->lock);
    if (drop)
        writer_free(w);
}

int blob_upload_offset(struct blob_store *bs, const char *id, uint64_t *offset)
{
    if (!blob_upload_id_valid(id))
        return -ERR_INVALID;
    pthread_mutex_lock(&bs->lock);
    struct blob_writer *w = table_find(bs, id);
    if (w && !w->cancelled) {
        *offset = __atomic_load_n(&w->offset, __ATOMIC_RELAXED);
        pthread_mutex_unlock(&bs->lock);
        return 0;
    }
    pthread_mutex_unlock(&bs->lock);
    if (w)
        return -ENOENT;
    struct stat st;
    if (fstatat(bs->uploads_dfd, id, &st, 0) != 0)
        return -errno;
    *offset = (uint64_t)st.st_size;
    return 0;
}

int blob_upload_remove(struct blob_store *bs, const char *id)
{
    if (!blob_upload_id_valid(id))
        return -ENOENT;
    pthread_mutex_lock(&bs->lock);
    struct blob_writer *w = table_find(bs, id);
    if (w && w->busy) {
        bool already = w->cancelled;
        w->cancelled = true;
        pthread_mutex_unlock(&bs->lock);
        return already ? -ENOENT : 0;
    }
    if (w)
        table_remove(bs, w);
    int rc = remove_later_locked(bs, bs->uploads_dfd, id);
    pthread_mutex_unlock(&bs->lock);
    if (w) {
        writer_free(w);
        rc = 0;
    }
    return rc;
}

static bool upload_name_ok(const char *name, void *arg)
{
    (void)arg;
    return blob_upload_id_valid(name);
}

int blob_upload_walk(struct blob_store *bs, blob_upload_walk_fn fn, void *ctx)
{
    return walk_dir(bs->uploads_dfd, upload_name_ok, NULL, fn, ctx);
}

/* ---- writer ---- */

const char *blob_writer_id(const struct blob_writer *w)
{
    return w->id;
}

uint64_t blob_writer_offset(const struct blob_writer *w)
{
    return w->offset;
}

int blob_writer_write(struct blob_writer *w, const void *p, size_t n)
{
    BUG_ON(w->finished || w->fd < 0);
    if (w->broken)
        return -EIO;
    const char *s = p;
    size_t left = n;
    while (left > 0) {
        ssize_t k = write(w->fd, s, left);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            w->broken = true;
            return k < 0 ? -errno : -EIO;
        }
        s += k;
        left -= (size_t)k;
    }
    sha256_update(&w->hash, p, n);
    __atomic_store_n(&w->offset, w->offset + n, __ATOMIC_RELAXED);
    if (w->offset - w->writeback >= WRITEBACK_STEP) {
        /* start writeback of what is complete; failure is harmless (fdatasync follows) */
        sync_file_range(w->fd, (off64_t)w->writeback, (off64_t)(w->offset - w->writeback),
                        SYNC_FILE_RANGE_WRITE);
        w->writeback = w->offset;
    }
    return 0;
}

static int writer_sync(struct blob_writer *w)
{
    if (w->durable)
        return 0;
    if (fdatasync(w->fd) != 0)
        return -errno;
    w->durable = true;
    return 0;
}

static bool blob_exists_locked(struct blob_store *bs, const char *digest)
{
    const char *hex;
    unsigned prefix;
    if (!split_digest(digest, &hex, &prefix))
        return false;
    int dfd = prefix_dir(bs, prefix, false);
    struct stat st;
    return dfd >= 0 && fstatat(dfd, hex, &st, 0) == 0;
}

int blob_writer_finish(struct blob_writer *w, const char *expected, char *digest_out)
{
    BUG_ON(w->finished);
    w->finished = true;
    if (w->broken)
        return -EIO;
    unsigned char raw[SHA256_LEN];
    sha256_final(&w->hash, raw);
    digest_format(raw, w->digest);
    if (expected && !digest_is_sha256(str_from(expected)))
        return digest_is_wellformed(str_from(expected)) ? -ERR_UNSUPPORTED : -ERR_INVALID;
    if (expected && strcmp(expected, w->digest) != 0)
        return -ERR_DIGEST;
    w->verified = true;
    if (digest_out)
        memcpy(digest_out, w->digest, DIGEST_STR_LEN + 1);
    /* A blob that already exists needs no sync: this copy will just be dropped. The check is
     * only an optimisation; publish checks again. fdatasync covers the data and the size; the
     * name is made durable by the directory sync after the rename. */
    pthread_mutex_lock(&w->bs->lock);
    bool exists = blob_exists_locked(w->bs, w->digest);
    pthread_mutex_unlock(&w->bs->lock);
    return exists ? 0 : writer_sync(w);
}

int blob_writer_publish(struct blob_store *bs, struct blob_writer *w, bool *created)
{
    BUG_ON(!w->finished || !w->verified);
    if (created)
        *created = false;
    const char *hex;
    unsigned prefix;
    BUG_ON(!split_digest(w->digest, &hex, &prefix));
    pthread_mutex_lock(&bs->lock);
    int dfd = prefix_dir(bs, prefix, true);
    pthread_mutex_unlock(&bs->lock);
    /* The file operations run without the store lock (prefix fds stay open until close). Two
     * publishers of one digest may both rename: the second replaces identical bytes. */
    int rc = dfd < 0 ? dfd : 0;
    bool made = false;
    struct stat st;
    /* a blob that is already there makes this copy redundant */
    if (rc == 0 && fstatat(dfd, hex, &st, 0) != 0) {
        rc = writer_sync(w);
        if (rc == 0 && renameat(bs->uploads_dfd, w->id, dfd, hex) != 0)
            rc = -errno;
        made = rc == 0;
        if (made && fsync(dfd) != 0)
            rc = -errno;
    }
    if (!made)
        remove_later(bs, bs->uploads_dfd, w->id);
    pthread_mutex_lock(&bs->lock);
    if (made && bs->usage_known) {
        bs->usage_bytes += w->offset;
        bs->usage_count++;
    }
    table_remove(bs, w);
    pthread_mutex_unlock(&bs->lock);
    writer_free(w);
    if (created)
        *created = made;
    return rc;
}

void blob_writer_abort(struct blob_store *bs, struct blob_writer *w)
{
    pthread_mutex_lock(&bs->lock);
    remove_later_locked(bs, bs->uploads_dfd, w->id);
    table_remove(bs, w);
    pthread_mutex_unlock(&bs->lock);
    writer_free(w);
}

int blob_store_put(struct blob_store *bs, const void *p, size_t n, const char *expected,
                   char *digest_out)
{
    char id[BLOB_UPLOAD_ID_LEN + 1];
    blob_upload_id_new(id);
    struct blob_writer *w = NULL;
    int rc = blob_upload_create(bs, id, &w);
    if (rc || !w)
        return rc ? rc : -EIO;
    rc = blob_writer_write(w, p, n);
    if (rc == 0)
        rc = blob_writer_finish(w, expected, digest_out);
    if (rc) {
        blob_writer_abort(bs, w);
        return rc;
    }
    return blob_writer_publish(bs, w, NULL);
}
