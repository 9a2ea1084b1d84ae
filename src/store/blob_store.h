/* SPDX-License-Identifier: Apache-2.0 */
/* Content-addressed blob files: DATA/blobs/sha256/<2 hex>/<64 hex>. Uploads stream into
 * DATA/uploads/<id> while being hashed, and become visible only when the digest is verified,
 * the data synced and the file renamed into place; a reader never sees a partial blob.
 * Upload state (fd, running SHA-256, offset) stays in memory between requests; after a restart
 * an upload is resumed by rehashing its file. */
#ifndef VIGIL_STORE_BLOB_STORE_H
#define VIGIL_STORE_BLOB_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/hash.h"

struct blob_store;
struct blob_writer;

/* Upload ids: 1..64 characters of [A-Za-z0-9_-]. blob_upload_id_new() makes a random UUID. */
#define BLOB_UPLOAD_ID_MAX 64
#define BLOB_UPLOAD_ID_LEN 36

/* Open the store under data_dir, creating blobs/sha256/ and uploads/ as needed (mode 0750).
 * Errors: -errno (message in d). */
int blob_store_open(const char *data_dir, struct blob_store **out, struct diag *d);
/* Free the handle, after the background thread has unlinked what was queued. Writers must
 * have been released, published or aborted. Upload files stay on disk for a later resume. */
void blob_store_close(struct blob_store *bs);

/* ---- reading ---- */

/* Open a blob for reading: *fd (O_CLOEXEC, owned by the caller) and its *size. Errors:
 * -ERR_INVALID (digest is not sha256:<64 lower hex>), -ENOENT, -errno. */
int blob_store_open_read(struct blob_store *bs, const char *digest, int *fd, uint64_t *size);
/* Size and modification time (unix seconds) of a blob; either pointer may be NULL. Errors as
 * blob_store_open_read. */
int blob_store_stat(struct blob_store *bs, const char *digest, uint64_t *size, int64_t *mtime);
/* Remove a blob: it disappears at once (renamed into uploads/.trash, whose files a background
 * thread unlinks; readers with an open fd keep reading it). 0, -ENOENT, -ERR_INVALID, -errno.
 * Callers coordinate with writers through the metadata database (see registry gc). */
int blob_store_remove(struct blob_store *bs, const char *digest);
/* Call fn for every blob file ("sha256:<hex>", size, mtime); files with other names are
 * skipped. fn returns 0 to go on, non-zero to stop (that value is returned). */
typedef int (*blob_walk_fn)(void *ctx, const char *digest, uint64_t size, int64_t mtime);
int blob_store_walk(struct blob_store *bs, blob_walk_fn fn, void *ctx);
/* Total bytes and number of blob files. Counted by a walk on the first call, then kept up to
 * date by this process's publishes and removals (another process's changes are not seen). */
int blob_store_usage(struct blob_store *bs, uint64_t *bytes, uint64_t *count);

/* ---- writing ---- */

/* A fresh random upload id (UUID v4 text) into out[BLOB_UPLOAD_ID_LEN + 1]. */
void blob_upload_id_new(char *out);
/* True when id is usable as an upload id. */
bool blob_upload_id_valid(const char *id);

/* Start an upload: create DATA/uploads/<id> (must not exist) and return its writer, checked
 * out by the caller. Errors: -ERR_INVALID (id), -EEXIST, -errno. */
int blob_upload_create(struct blob_store *bs, const char *id, struct blob_writer **out);
/* Check out an existing upload for one request. Uses the in-memory state when there is one;
 * otherwise (restart, eviction) reopens the file and rehashes it. Errors: -ENOENT (no such
 * upload), -EBUSY (another request has it checked out), -ERR_INVALID, -errno. */
int blob_upload_acquire(struct blob_store *bs, const char *id, struct blob_writer **out);
/* Check a writer back in (end of a PATCH or of a request that failed): its state is kept for
 * the next acquire. If the upload was cancelled meanwhile, it is removed now. */
void blob_upload_release(struct blob_store *bs, struct blob_writer *w);
/* Bytes written so far to an upload without checking it out (upload status). Errors: -ENOENT,
 * -ERR_INVALID. */
int blob_upload_offset(struct blob_store *bs, const char *id, uint64_t *offset);
/* Cancel an upload: unlink its file and forget its state. If a request has it checked out,
 * the removal happens when that request releases it. 0 or -ENOENT. */
int blob_upload_remove(struct blob_store *bs, const char *id);
/* Call fn for every upload file (id, size, mtime), same contract as blob_store_walk. */
typedef int (*blob_upload_walk_fn)(void *ctx, const char *id, uint64_t size, int64_t mtime);
int blob_upload_walk(struct blob_store *bs, blob_upload_walk_fn fn, void *ctx);

/* The upload id and the bytes written so far. */
const char *blob_writer_id(const struct blob_writer *w);
uint64_t blob_writer_offset(const struct blob_writer *w);
/* Append bytes (hashed as they pass). Errors: -errno (ENOSPC...); after an error the writer
 * is unusable (abort it). */
int blob_writer_write(struct blob_writer *w, const void *p, size_t n);
/* Finish hashing and verify: with `expected` (a digest) set, a mismatch returns -ERR_DIGEST;
 * an expected digest that is not sha256 returns -ERR_UNSUPPORTED. On success the digest is
 * written to digest_out[DIGEST_STR_LEN + 1] and the data is durable on disk (fdatasync) unless
 * the blob already exists. After finish (whatever the result) the writer can only be
 * published or aborted. */
int blob_writer_finish(struct blob_writer *w, const char *expected, char *digest_out);
/* Make a finished blob visible: rename it to its content address and sync the directory
 * (or drop the upload file when that blob already exists). Frees the writer and forgets the
 * upload. *created tells whether a new file appeared (may be NULL). Errors: -errno (the
 * writer is freed and its file removed in every case). */
int blob_writer_publish(struct blob_store *bs, struct blob_writer *w, bool *created);
/* Discard an upload: unlink its file, forget its state, free the writer. */
void blob_writer_abort(struct blob_store *bs, struct blob_writer *w);

/* Convenience for small blobs (tests, tools): write p[0..n) as one upload, verify against
 * `expected` when not NULL, publish. digest_out may be NULL. Errors as the steps. */
int blob_store_put(struct blob_store *bs, const void *p, size_t n, const char *expected,
                   char *digest_out);

#endif
