/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for src/store: the metadata database (migrations, transactions, per-thread
 * connections, statement cache) and the blob store (verify, publish, abort, resume after a
 * restart, never a partial file visible). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/hash.h"
#include "base/xalloc.h"
#include "store/blob_store.h"
#include "store/meta.h"
#include "test.h"

static char *tmp_path(const char *name)
{
    return xasprintf("%s/%s", test_tmpdir(), name);
}

static void digest_of(const void *p, size_t n, char *out)
{
    unsigned char raw[SHA256_LEN];
    sha256_buf(p, n, raw);
    digest_format(raw, out);
}

static int count_rows(struct meta_conn *c, const char *sql)
{
    sqlite3_stmt *st;
    ASSERT_EQ(meta_stmt(c, sql, &st), 0);
    int n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    meta_done(st);
    return n;
}

/* ---- meta ---- */

TEST(meta_migrates_once_and_reopens)
{
    char *path = tmp_path("m1.db");
    struct meta_db *db;
    struct diag d = { 0 };
    ASSERT_EQ(meta_open(path, NULL, &db, &d), 0);
    struct meta_conn *c;
    ASSERT_EQ(meta_conn_get(db, &c), 0);
    ASSERT_EQ(count_rows(c, "PRAGMA user_version"), meta_schema_version());
    ASSERT_TRUE(meta_schema_version() >= 1);
    /* WAL and foreign keys are on for every connection */
    sqlite3_stmt *st;
    ASSERT_EQ(meta_stmt(c, "PRAGMA journal_mode", &st), 0);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    ASSERT_STREQ((const char *)sqlite3_column_text(st, 0), "wal");
    meta_done(st);
    ASSERT_EQ(count_rows(c, "PRAGMA foreign_keys"), 1);
    ASSERT_EQ(count_rows(c, "PRAGMA synchronous"), 2); /* FULL */
    ASSERT_EQ(meta_exec(c, "INSERT INTO repositories (name, created_at) VALUES ('a', 1)"), 0);
    meta_close(db);

    /* reopening runs no migration again and keeps the data */
    ASSERT_EQ(meta_open(path, NULL, &db, &d), 0);
    ASSERT_EQ(meta_conn_get(db, &c), 0);
    ASSERT_EQ(count_rows(c, "SELECT count(*) FROM repositories"), 1);
    /* a database from the future is refused */
    char bump[64];
    snprintf(bump, sizeof(bump), "PRAGMA user_version=%d", meta_schema_version() + 1);
    ASSERT_EQ(meta_exec(c, bump), 0);
    meta_close(db);
    ASSERT_EQ(meta_open(path, NULL, &db, &d), -ERR_VERSION);
    ASSERT_TRUE(strstr(d.msg, "newer") != NULL);
    free(path);
}

TEST(meta_transactions_and_rollback)
{
    char *path = tmp_path("m2.db");
    struct meta_db *db;
    ASSERT_EQ(meta_open(path, NULL, &db, NULL), 0);
    struct meta_conn *c;
    ASSERT_EQ(meta_conn_get(db, &c), 0);
    ASSERT_EQ(meta_begin(c), 0);
    ASSERT_TRUE(meta_in_tx(c));
    ASSERT_EQ(meta_exec(c, "INSERT INTO repositories (name, created_at) VALUES ('x', 1)"), 0);
    meta_rollback(c);
    ASSERT_FALSE(meta_in_tx(c));
    ASSERT_EQ(count_rows(c, "SELECT count(*) FROM repositories"), 0);

    ASSERT_EQ(meta_begin(c), 0);
    sqlite3_stmt *st;
    static const char ins[] = "INSERT INTO repositories (name, created_at) VALUES (?1, 2)";
    ASSERT_EQ(meta_stmt(c, ins, &st), 0);
    meta_bind_text(st, 1, "y");
    ASSERT_EQ(meta_step_done(c, st), 0);
    ASSERT_TRUE(meta_last_rowid(c) > 0);
    /* the cached statement comes back reset, bindings cleared */
    sqlite3_stmt *again;
    ASSERT_EQ(meta_stmt(c, ins, &again), 0);
    ASSERT_TRUE(again == st);
    meta_bind_text(again, 1, "y");
    ASSERT_EQ(meta_step_done(c, again), -EEXIST); /* UNIQUE(name) */
    ASSERT_EQ(meta_commit(c), 0);
    ASSERT_EQ(count_rows(c, "SELECT count(*) FROM repositories"), 1);
    /* foreign keys are enforced */
    ASSERT_NE(meta_exec(c, "INSERT INTO uploads (id, repo_id, created_at, updated_at) "
                           "VALUES ('u', 999, 1, 1)"),
              0);
    meta_close(db);
    free(path);
}

struct thread_arg {
    struct meta_db *db;
    struct meta_conn *conn;
    int rc;
};

static void *thread_conn(void *p)
{
    struct thread_arg *a = p;
    a->rc = meta_conn_get(a->db, &a->conn);
    if (a->rc == 0)
        a->rc = meta_exec(a->conn, "INSERT INTO repositories (name, created_at) VALUES ('t', 1)");
    meta_thread_done(a->db);
    return NULL;
}

TEST(meta_connection_per_thread)
{
    char *path = tmp_path("m3.db");
    struct meta_db *db;
    ASSERT_EQ(meta_open(path, NULL, &db, NULL), 0);
    struct meta_conn *mine, *again;
    ASSERT_EQ(meta_conn_get(db, &mine), 0);
    ASSERT_EQ(meta_conn_get(db, &again), 0);
    ASSERT_TRUE(mine == again);
    struct thread_arg a = { .db = db };
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, thread_conn, &a), 0);
    pthread_join(t, NULL);
    ASSERT_EQ(a.rc, 0);
    ASSERT_TRUE(a.conn != mine);
    /* the other thread's committed row is visible here */
    ASSERT_EQ(count_rows(mine, "SELECT count(*) FROM repositories WHERE name = 't'"), 1);
    meta_close(db);

    /* a second database opened later never hands out the first one's connection */
    struct meta_db *db2;
    char *path2 = tmp_path("m3b.db");
    ASSERT_EQ(meta_open(path2, NULL, &db2, NULL), 0);
    struct meta_conn *c2;
    ASSERT_EQ(meta_conn_get(db2, &c2), 0);
    ASSERT_EQ(count_rows(c2, "SELECT count(*) FROM repositories"), 0);
    meta_close(db2);
    free(path);
    free(path2);
}

/* ---- blob store ---- */

static bool file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

TEST(blob_store_put_read_remove)
{
    struct blob_store *bs;
    ASSERT_EQ(blob_store_open(test_tmpdir(), &bs, NULL), 0);
    static const char data[] = "hello, blobs";
    char dg[DIGEST_STR_LEN + 1], want[DIGEST_STR_LEN + 1];
    digest_of(data, sizeof(data) - 1, want);
    ASSERT_EQ(blob_store_put(bs, data, sizeof(data) - 1, want, dg), 0);
    ASSERT_STREQ(dg, want);
    char *path = xasprintf("%s/blobs/sha256/%.2s/%s", test_tmpdir(), want + 7, want + 7);
    ASSERT_TRUE(file_exists(path));

    int fd;
    uint64_t size;
    ASSERT_EQ(blob_store_open_read(bs, want, &fd, &size), 0);
    ASSERT_EQ(size, sizeof(data) - 1);
    char back[64] = { 0 };
    ASSERT_EQ(read(fd, back, sizeof(back)), (ssize_t)size);
    close(fd);
    ASSERT_STREQ(back, data);

    uint64_t bytes, count;
    ASSERT_EQ(blob_store_usage(bs, &bytes, &count), 0);
    ASSERT_EQ(bytes, size);
    ASSERT_EQ(count, 1);
    /* a wrong expected digest: refused, nothing stored */
    char other[DIGEST_STR_LEN + 1];
    digest_of("x", 1, other);
    ASSERT_EQ(blob_store_put(bs, "y", 1, other, NULL), -ERR_DIGEST);
    ASSERT_EQ(blob_store_stat(bs, other, NULL, NULL), -ENOENT);
    ASSERT_EQ(blob_store_put(bs, "y", 1, "md5:abc", NULL), -ERR_INVALID);
    ASSERT_EQ(blob_store_open_read(bs, "sha256:../../etc", &fd, &size), -ERR_INVALID);

    ASSERT_EQ(blob_store_remove(bs, want), 0);
    ASSERT_FALSE(file_exists(path));
    ASSERT_EQ(blob_store_remove(bs, want), -ENOENT);
    ASSERT_EQ(blob_store_usage(bs, &bytes, &count), 0);
    ASSERT_EQ(count, 0);
    blob_store_close(bs);
    free(path);
}

TEST(blob_store_partial_never_visible)
{
    struct blob_store *bs;
    ASSERT_EQ(blob_store_open(test_tmpdir(), &bs, NULL), 0);
    char *data = xmalloc(3 << 20);
    for (size_t i = 0; i < (3u << 20); i++)
        data[i] = (char)(i * 31 + 7);
    char want[DIGEST_STR_LEN + 1];
    digest_of(data, 3 << 20, want);

    char id[BLOB_UPLOAD_ID_LEN + 1];
    blob_upload_id_new(id);
    ASSERT_TRUE(blob_upload_id_valid(id));
    struct blob_writer *w;
    ASSERT_EQ(blob_upload_create(bs, id, &w), 0);
    struct blob_writer *dup;
    ASSERT_EQ(blob_upload_create(bs, id, &dup), -EEXIST);
    ASSERT_EQ(blob_writer_write(w, data, 1 << 20), 0);
    /* half way: the content address does not exist, the upload file does */
    ASSERT_EQ(blob_store_stat(bs, want, NULL, NULL), -ENOENT);
    ASSERT_EQ(blob_writer_write(w, data + (1 << 20), 2 << 20), 0);
    ASSERT_EQ(blob_store_stat(bs, want, NULL, NULL), -ENOENT);
    char dg[DIGEST_STR_LEN + 1];
    ASSERT_EQ(blob_writer_finish(w, want, dg), 0);
    /* verified and synced but not published: still invisible */
    ASSERT_EQ(blob_store_stat(bs, want, NULL, NULL), -ENOENT);
    bool created = false;
    ASSERT_EQ(blob_writer_publish(bs, w, &created), 0);
    ASSERT_TRUE(created);
    uint64_t size;
    ASSERT_EQ(blob_store_stat(bs, want, &size, NULL), 0);
    ASSERT_EQ(size, 3u << 20);
    /* the upload file is gone */
    uint64_t off;
    ASSERT_EQ(blob_upload_offset(bs, id, &off), -ENOENT);

    /* publishing the same content again drops the copy */
    ASSERT_EQ(blob_store_put(bs, data, 3 << 20, NULL, dg), 0);
    ASSERT_STREQ(dg, want);
    free(data);
    blob_store_close(bs);
}

TEST(blob_store_abort_and_mismatch)
{
    struct blob_store *bs;
    ASSERT_EQ(blob_store_open(test_tmpdir(), &bs, NULL), 0);
    struct blob_writer *w;
    ASSERT_EQ(blob_upload_create(bs, "abc-1", &w), 0);
    ASSERT_EQ(blob_writer_write(w, "data", 4), 0);
    char *up = xasprintf("%s/uploads/abc-1", test_tmpdir());
    ASSERT_TRUE(file_exists(up));
    blob_writer_abort(bs, w);
    ASSERT_FALSE(file_exists(up));

    char wrong[DIGEST_STR_LEN + 1], right[DIGEST_STR_LEN + 1];
    digest_of("other", 5, wrong);
    digest_of("data", 4, right);
    ASSERT_EQ(blob_upload_create(bs, "abc-1", &w), 0);
    ASSERT_EQ(blob_writer_write(w, "data", 4), 0);
    ASSERT_EQ(blob_writer_finish(w, wrong, NULL), -ERR_DIGEST);
    blob_writer_abort(bs, w);
    ASSERT_EQ(blob_store_stat(bs, wrong, NULL, NULL), -ENOENT);
    ASSERT_EQ(blob_store_stat(bs, right, NULL, NULL), -ENOENT);
    ASSERT_FALSE(file_exists(up));
    ASSERT_EQ(blob_upload_create(bs, "../x", &w), -ERR_INVALID);
    free(up);
    blob_store_close(bs);
    /* deleted files went through the trash, which close leaves empty */
    char *trash = xasprintf("%s/uploads/.trash", test_tmpdir());
    DIR *d = opendir(trash);
    ASSERT_TRUE(d != NULL);
    int entries = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        entries += de->d_name[0] != '.';
    closedir(d);
    ASSERT_EQ(entries, 0);
    free(trash);
}

TEST(blob_store_trash_left_by_a_crash_is_emptied)
{
    struct blob_store *bs;
    ASSERT_EQ(blob_store_open(test_tmpdir(), &bs, NULL), 0);
    blob_store_close(bs);
    char *junk = xasprintf("%s/uploads/.trash/leftover", test_tmpdir());
    int fd = open(junk, O_CREAT | O_WRONLY, 0600);
    ASSERT_TRUE(fd >= 0);
    ASSERT_EQ(write(fd, "x", 1), 1);
    close(fd);
    ASSERT_EQ(blob_store_open(test_tmpdir(), &bs, NULL), 0);
    blob_store_close(bs);
    ASSERT_FALSE(file_exists(junk));
    free(junk);
}

TEST(blob_store_resume_in_memory_and_after_restart)
{
    struct blob_store *bs;
    ASSERT_EQ(blob_store_open(test_tmpdir(), &bs, NULL), 0);
    static const char part1[] = "first part / ", part2[] = "second part / ", part3[] = "third part";
    char all[128];
    snprintf(all, sizeof(all), "%s%s%s", part1, part2, part3);
    char want[DIGEST_STR_LEN + 1];
    digest_of(all, strlen(all), want);

    struct blob_writer *w, *w2;
    ASSERT_EQ(blob_upload_create(bs, "up1", &w), 0);
    ASSERT_EQ(blob_writer_write(w, part1, strlen(part1)), 0);
    /* checked out: a second request cannot take it */
    ASSERT_EQ(blob_upload_acquire(bs, "up1", &w2), -EBUSY);
    blob_upload_release(bs, w);
    uint64_t off;
    ASSERT_EQ(blob_upload_offset(bs, "up1", &off), 0);
    ASSERT_EQ(off, strlen(part1));
    /* resumed from the in-memory state */
    ASSERT_EQ(blob_upload_acquire(bs, "up1", &w), 0);
    ASSERT_EQ(blob_writer_offset(w), strlen(part1));
    ASSERT_EQ(blob_writer_write(w, part2, strlen(part2)), 0);
    blob_upload_release(bs, w);
    blob_store_close(bs);

    /* "restart": a new store rehashes the upload file */
    ASSERT_EQ(blob_store_open(test_tmpdir(), &bs, NULL), 0);
    ASSERT_EQ(blob_upload_offset(bs, "up1", &off), 0);
    ASSERT_EQ(off, strlen(part1) + strlen(part2));
    ASSERT_EQ(blob_upload_acquire(bs, "up1", &w), 0);
    ASSERT_EQ(blob_writer_offset(w), strlen(part1) + strlen(part2));
    ASSERT_EQ(blob_writer_write(w, part3, strlen(part3)), 0);
    char dg[DIGEST_STR_LEN + 1];
    ASSERT_EQ(blob_writer_finish(w, want, dg), 0);
    ASSERT_EQ(blob_writer_publish(bs, w, NULL), 0);
    ASSERT_EQ(blob_store_stat(bs, want, NULL, NULL), 0);

    /* cancel of a detached upload removes its file; unknown ids say so */
    ASSERT_EQ(blob_upload_create(bs, "up2", &w), 0);
    blob_upload_release(bs, w);
    ASSERT_EQ(blob_upload_remove(bs, "up2"), 0);
    ASSERT_EQ(blob_upload_acquire(bs, "up2", &w), -ENOENT);
    ASSERT_EQ(blob_upload_remove(bs, "up2"), -ENOENT);
    /* cancel while checked out takes effect at release */
    ASSERT_EQ(blob_upload_create(bs, "up3", &w), 0);
    ASSERT_EQ(blob_upload_remove(bs, "up3"), 0);
    blob_upload_release(bs, w);
    ASSERT_EQ(blob_upload_offset(bs, "up3", &off), -ENOENT);
    blob_store_close(bs);
}

static int count_cb(void *ctx, const char *digest, uint64_t size, int64_t mtime)
{
    int *n = ctx;
    (void)size;
    (void)mtime;
    if (strncmp(digest, "sha256:", 7) == 0)
        (*n)++;
    return 0;
}

TEST(blob_store_walk_skips_foreign_files)
{
    struct blob_store *bs;
    ASSERT_EQ(blob_store_open(test_tmpdir(), &bs, NULL), 0);
    for (int i = 0; i < 5; i++) {
        char data[16];
        snprintf(data, sizeof(data), "blob %d", i);
        ASSERT_EQ(blob_store_put(bs, data, strlen(data), NULL, NULL), 0);
    }
    /* junk in the tree is not a blob */
    char *junk = xasprintf("%s/blobs/sha256/ab/not-a-digest", test_tmpdir());
    char *dir = xasprintf("%s/blobs/sha256/ab", test_tmpdir());
    mkdir(dir, 0750);
    int fd = open(junk, O_CREAT | O_WRONLY, 0600);
    ASSERT_TRUE(fd >= 0);
    close(fd);
    int n = 0;
    ASSERT_EQ(blob_store_walk(bs, count_cb, &n), 0);
    ASSERT_EQ(n, 5);
    free(junk);
    free(dir);
    blob_store_close(bs);
}

TEST(meta_module_migrations)
{
    char *path = tmp_path("m4.db");
    struct meta_db *db;
    struct diag d = { 0 };
    ASSERT_EQ(meta_open(path, NULL, &db, &d), 0);
    static const char *const v1[] = { "CREATE TABLE things (id INTEGER PRIMARY KEY);" };
    static const char *const v2[] = { "CREATE TABLE things (id INTEGER PRIMARY KEY);",
                                      "ALTER TABLE things ADD COLUMN name TEXT;"
                                      "INSERT INTO things (name) VALUES ('x');" };
    ASSERT_EQ(meta_migrate(db, "mod", v1, 1, &d), 0);
    ASSERT_EQ(meta_migrate(db, "mod", v1, 1, &d), 0); /* idempotent */
    ASSERT_EQ(meta_migrate(db, "mod", v2, 2, &d), 0); /* only step 2 runs */
    struct meta_conn *c;
    ASSERT_EQ(meta_conn_get(db, &c), 0);
    ASSERT_EQ(count_rows(c, "SELECT count(*) FROM things WHERE name = 'x'"), 1);
    ASSERT_EQ(count_rows(c, "SELECT version FROM schema_modules WHERE module = 'mod'"), 2);
    /* an older build that knows fewer steps refuses the newer database */
    ASSERT_EQ(meta_migrate(db, "mod", v1, 1, &d), -ERR_VERSION);
    /* a failing step changes nothing */
    static const char *const bad[] = { "CREATE TABLE other (a);", "NOT SQL AT ALL" };
    ASSERT_EQ(meta_migrate(db, "other", bad, 2, &d), -ERR_DB);
    ASSERT_TRUE(strstr(d.msg, "other: migration 2") != NULL);
    ASSERT_EQ(count_rows(c, "SELECT version FROM schema_modules WHERE module = 'other'"), 1);
    meta_close(db);
    free(path);
}
