/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for src/registry/auth: password hashes and the users list, Basic and token
 * authentication, token expiry and forgery, the token key file, anonymous mode. */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/b64.h"
#include "base/xalloc.h"
#include "registry/auth.h"
#include "test.h"

#define NOW 1795342186 /* 2026-11-22T10:09:46Z */

static const unsigned char test_key[32] = "0123456789abcdef0123456789abcdef";

/* "Basic base64(user:pass)" in a static buffer. */
static const char *basic(const char *user, const char *pass)
{
    static char out[8192];
    struct buf raw, enc;
    buf_init(&raw, 4096);
    buf_init(&enc, 8000);
    BUG_ON(buf_printf(&raw, "%s:%s", user, pass) < 0);
    BUG_ON(buf_append_cstr(&enc, "Basic ") < 0);
    BUG_ON(b64_encode(raw.data, raw.len, B64_STD, &enc) < 0);
    snprintf(out, sizeof(out), "%s", buf_cstr(&enc));
    buf_release(&raw);
    buf_release(&enc);
    return out;
}

static char *hash_of(const char *password)
{
    struct buf b;
    buf_init(&b, 512);
    ASSERT_EQ(reg_auth_hash_password(password, &b), 0);
    return buf_detach(&b, NULL);
}

static struct reg_auth *auth_with(const char *users, bool anonymous, int64_t ttl)
{
    struct reg_auth_config cfg = { .users_text = users,
                                   .token_key = test_key,
                                   .token_key_len = sizeof(test_key),
                                   .anonymous = anonymous,
                                   .token_ttl_s = ttl };
    struct reg_auth *a = NULL;
    struct diag d = { 0 };
    int rc = reg_auth_new(&cfg, &a, &d);
    if (rc != 0)
        test_fail(__FILE__, __LINE__, "reg_auth_new: %d %s", rc, d.msg);
    return a;
}

static int check(struct reg_auth *a, const char *hdr, int64_t now, struct arena *ar,
                 const char **who)
{
    return reg_auth_check(a, hdr, now, ar, who);
}

TEST(regauth_hash_format_and_verify)
{
    char *h1 = hash_of("s3cret pass:word"), *h2 = hash_of("s3cret pass:word");
    ASSERT_TRUE(strncmp(h1, "pbkdf2-sha256$100000$", 21) == 0);
    /* 16-byte salt and 32-byte hash in padded base64 */
    const char *salt = h1 + 21, *dollar = strchr(salt, '$');
    ASSERT_TRUE(dollar != NULL);
    ASSERT_EQ(dollar - salt, 24);
    ASSERT_EQ(strlen(dollar + 1), 44);
    ASSERT_TRUE(strcmp(h1, h2) != 0); /* random salt */

    struct buf users;
    buf_init(&users, 4096);
    ASSERT_EQ(buf_printf(&users, "# registry users\n\nalice:%s\n  bob:%s  \n", h1, h2), 0);
    struct reg_auth *a = auth_with(buf_cstr(&users), false, 0);
    struct arena ar;
    arena_init(&ar);
    const char *who = NULL;
    ASSERT_EQ(check(a, basic("alice", "s3cret pass:word"), NOW, &ar, &who), 0);
    ASSERT_STREQ(who, "alice");
    ASSERT_EQ(check(a, basic("bob", "s3cret pass:word"), NOW, &ar, &who), 0);
    ASSERT_STREQ(who, "bob");
    /* a second time is answered from the cache, with the same result */
    ASSERT_EQ(check(a, basic("alice", "s3cret pass:word"), NOW + 1, &ar, &who), 0);
    ASSERT_STREQ(who, "alice");

    ASSERT_EQ(check(a, basic("alice", "s3cret pass:wore"), NOW, &ar, &who), -ERR_UNAUTHORIZED);
    ASSERT_TRUE(who == NULL);
    ASSERT_EQ(check(a, basic("alice", ""), NOW, &ar, &who), -ERR_UNAUTHORIZED);
    ASSERT_EQ(check(a, basic("Alice", "s3cret pass:word"), NOW, &ar, &who), -ERR_UNAUTHORIZED);
    ASSERT_EQ(check(a, basic("carol", "s3cret pass:word"), NOW, &ar, &who), -ERR_UNAUTHORIZED);
    /* one user's password does not open another's cached entry */
    ASSERT_EQ(check(a, basic("bob", "s3cret pass:wordX"), NOW, &ar, &who), -ERR_UNAUTHORIZED);
    /* scheme name is case-insensitive */
    const char *b = basic("alice", "s3cret pass:word");
    char lower[8192];
    snprintf(lower, sizeof(lower), "basic  %s", b + 6);
    ASSERT_EQ(check(a, lower, NOW, &ar, &who), 0);

    reg_auth_free(a);
    arena_release(&ar);
    buf_release(&users);
    free(h1);
    free(h2);
}

/* A hash made with a known salt and iteration count, as another tool would write it. */
TEST(regauth_known_hash)
{
    /* PBKDF2-HMAC-SHA256("password", "saltsaltsaltsalt", 1000, 32), computed with Python's
     * hashlib.pbkdf2_hmac */
    const char *users = "u:pbkdf2-sha256$1000$c2FsdHNhbHRzYWx0c2FsdA==$"
                        "8nX7hwFEzIB8aPajJTYK8weHQc5Ngz0pFVAKvSu4jQA=\n";
    struct reg_auth *a = auth_with(users, false, 0);
    struct arena ar;
    arena_init(&ar);
    const char *who;
    ASSERT_EQ(check(a, basic("u", "password"), NOW, &ar, &who), 0);
    ASSERT_EQ(check(a, basic("u", "passwore"), NOW, &ar, &who), -ERR_UNAUTHORIZED);
    reg_auth_free(a);
    arena_release(&ar);
}

TEST(regauth_bad_users_lines)
{
    static const struct {
        const char *text, *msg;
    } cases[] = {
        { "# ok\n\nalice\n", "users line 3: expected 'name:hash'" },
        { "a:pbkdf2-sha1$1000$c2FsdHNhbHQ=$c2FsdHNhbHRzYWx0c2FsdA==\n",
          "users line 1: hash must start with 'pbkdf2-sha256$'" },
        { "\n\n\n\na:pbkdf2-sha256$999$c2FsdHNhbHQ=$c2FsdHNhbHRzYWx0c2FsdA==\n",
          "users line 5: iteration count must be a number from 1000 to 10000000" },
        { "a:pbkdf2-sha256$1000x$c2FsdHNhbHQ=$c2FsdHNhbHRzYWx0c2FsdA==\n",
          "users line 1: iteration count must be a number from 1000 to 10000000" },
        { "a:pbkdf2-sha256$1000$c2FsdA==$c2FsdHNhbHRzYWx0c2FsdA==\n",
          "users line 1: salt must be 8 to 64 bytes in base64" },
        { "a:pbkdf2-sha256$1000$c2FsdHNhbHQ$c2FsdHNhbHRzYWx0c2FsdA==\n",
          "users line 1: salt must be 8 to 64 bytes in base64" },
        { "a:pbkdf2-sha256$1000$c2FsdHNhbHQ=$c2FsdA==\n",
          "users line 1: hash must be 16 to 64 bytes in base64" },
        { "a:pbkdf2-sha256$1000$c2FsdHNhbHQ=$c2FsdHNhbHRzYWx0c2FsdA==$x\n",
          "users line 1: hash must be 16 to 64 bytes in base64" },
        { "AWS:pbkdf2-sha256$1000$c2FsdHNhbHQ=$c2FsdHNhbHRzYWx0c2FsdA==\n",
          "users line 1: the name 'AWS' is reserved for tokens" },
        { "a b:pbkdf2-sha256$1000$c2FsdHNhbHQ=$c2FsdHNhbHRzYWx0c2FsdA==\n",
          "users line 1: user name must be 1 to 128 printable characters without spaces" },
        { ":pbkdf2-sha256$1000$c2FsdHNhbHQ=$c2FsdHNhbHRzYWx0c2FsdA==\n",
          "users line 1: user name must be 1 to 128 printable characters without spaces" },
        { "a:pbkdf2-sha256$1000$c2FsdHNhbHQ=$c2FsdHNhbHRzYWx0c2FsdA==\n"
          "# again\n"
          "a:pbkdf2-sha256$1000$c2FsdHNhbHQ=$c2FsdHNhbHRzYWx0c2FsdA==\n",
          "users line 3: user 'a' repeated" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct reg_auth_config cfg = { .users_text = cases[i].text,
                                       .token_key = test_key,
                                       .token_key_len = sizeof(test_key) };
        struct reg_auth *a = NULL;
        struct diag d = { 0 };
        int rc = reg_auth_new(&cfg, &a, &d);
        if (rc != -ERR_INVALID || strcmp(d.msg, cases[i].msg) != 0)
            test_fail(__FILE__, __LINE__, "case %zu: rc %d '%s'", i, rc, d.msg);
        ASSERT_TRUE(a == NULL);
    }
}

TEST(regauth_config_errors)
{
    struct reg_auth *a = NULL;
    struct diag d = { 0 };
    struct reg_auth_config cfg = { .token_key = test_key, .token_key_len = 31 };
    ASSERT_EQ(reg_auth_new(&cfg, &a, &d), -ERR_INVALID);
    cfg = (struct reg_auth_config){ 0 };
    ASSERT_EQ(reg_auth_new(&cfg, &a, &d), -ERR_INVALID);
    cfg = (struct reg_auth_config){ .token_key = test_key, .token_key_len = 32, .token_ttl_s = -1 };
    ASSERT_EQ(reg_auth_new(&cfg, &a, &d), -ERR_INVALID);
    ASSERT_TRUE(a == NULL);
}

static const char *mint(struct reg_auth *a, const char *identity, int64_t now, int64_t *exp)
{
    static char out[4096];
    struct buf b;
    buf_init(&b, sizeof(out) - 1);
    int rc = reg_auth_token_mint(a, identity, now, &b, exp);
    if (rc != 0)
        test_fail(__FILE__, __LINE__, "mint '%s': %d", identity, rc);
    snprintf(out, sizeof(out), "%s", buf_cstr(&b));
    buf_release(&b);
    return out;
}

static const char *bearer(const char *tok)
{
    static char out[8192];
    snprintf(out, sizeof(out), "Bearer %s", tok);
    return out;
}

TEST(regauth_token_mint_and_verify)
{
    struct reg_auth *a = auth_with(NULL, false, 0);
    struct arena ar;
    arena_init(&ar);
    int64_t exp = 0;
    char tok[4096];
    snprintf(tok, sizeof(tok), "%s", mint(a, "AKIDEXAMPLE", NOW, &exp));
    ASSERT_EQ(exp, NOW + 12 * 3600);
    ASSERT_TRUE(strncmp(tok, "vgt1.", 5) == 0);
    const char *who = NULL;
    ASSERT_EQ(check(a, bearer(tok), NOW, &ar, &who), 0);
    ASSERT_STREQ(who, "AKIDEXAMPLE");
    ASSERT_EQ(check(a, basic("AWS", tok), NOW + 60, &ar, &who), 0);
    ASSERT_STREQ(who, "AKIDEXAMPLE");
    /* a user name with ':' would be ambiguous in Basic; other odd identities are refused too */
    struct buf b;
    buf_init(&b, 4096);
    ASSERT_EQ(reg_auth_token_mint(a, "a:b", NOW, &b, &exp), -ERR_INVALID);
    ASSERT_EQ(reg_auth_token_mint(a, "", NOW, &b, &exp), -ERR_INVALID);
    ASSERT_EQ(reg_auth_token_mint(a, "a b", NOW, &b, &exp), -ERR_INVALID);
    ASSERT_EQ(reg_auth_token_mint(a, "a\nb", NOW, &b, &exp), -ERR_INVALID);
    char longid[300];
    memset(longid, 'x', sizeof(longid) - 1);
    longid[sizeof(longid) - 1] = '\0';
    ASSERT_EQ(reg_auth_token_mint(a, longid, NOW, &b, &exp), -ERR_INVALID);
    ASSERT_EQ(b.len, 0);
    buf_release(&b);
    reg_auth_free(a);
    arena_release(&ar);
}

TEST(regauth_token_expiry_boundary)
{
    struct reg_auth *a = auth_with(NULL, false, 3600);
    struct arena ar;
    arena_init(&ar);
    int64_t exp;
    char tok[4096];
    snprintf(tok, sizeof(tok), "%s", mint(a, "ci-bot", NOW, &exp));
    ASSERT_EQ(exp, NOW + 3600);
    const char *who;
    ASSERT_EQ(check(a, bearer(tok), exp - 1, &ar, &who), 0);
    ASSERT_EQ(check(a, bearer(tok), exp, &ar, &who), -ERR_UNAUTHORIZED);
    ASSERT_TRUE(who == NULL);
    ASSERT_EQ(check(a, bearer(tok), exp + 1, &ar, &who), -ERR_UNAUTHORIZED);
    ASSERT_EQ(check(a, basic("AWS", tok), exp, &ar, &who), -ERR_UNAUTHORIZED);
    reg_auth_free(a);
    arena_release(&ar);
}

TEST(regauth_token_forged_and_tampered)
{
    struct reg_auth *a = auth_with(NULL, false, 0);
    struct arena ar;
    arena_init(&ar);
    const char *who;
    char tok[4096];
    snprintf(tok, sizeof(tok), "%s", mint(a, "alice", NOW, NULL));
    char *dot = strrchr(tok, '.');
    ASSERT_TRUE(dot != NULL);

    /* every single-character change in the MAC part is refused */
    for (char *p = dot + 1; *p; p++) {
        char save = *p;
        *p = *p == 'A' ? 'B' : 'A';
        ASSERT_EQ(check(a, bearer(tok), NOW, &ar, &who), -ERR_UNAUTHORIZED);
        *p = save;
    }
    ASSERT_EQ(check(a, bearer(tok), NOW, &ar, &who), 0);

    /* a new payload (other identity, later expiry) under the old MAC */
    struct buf forged;
    buf_init(&forged, 4096);
    ASSERT_EQ(buf_append_cstr(&forged, "vgt1."), 0);
    char payload[128];
    snprintf(payload, sizeof(payload), "%d:%d:admin", NOW, NOW + 999999);
    ASSERT_EQ(b64_encode(payload, strlen(payload), B64_URL, &forged), 0);
    ASSERT_EQ(buf_append_cstr(&forged, dot), 0);
    ASSERT_EQ(check(a, bearer(buf_cstr(&forged)), NOW, &ar, &who), -ERR_UNAUTHORIZED);

    /* a token minted under another key */
    static const unsigned char other_key[32] = "fedcba9876543210fedcba9876543210";
    struct reg_auth_config cfg = { .token_key = other_key, .token_key_len = 32 };
    struct reg_auth *b = NULL;
    ASSERT_EQ(reg_auth_new(&cfg, &b, NULL), 0);
    buf_reset(&forged);
    ASSERT_EQ(reg_auth_token_mint(b, "alice", NOW, &forged, NULL), 0);
    ASSERT_EQ(check(a, bearer(buf_cstr(&forged)), NOW, &ar, &who), -ERR_UNAUTHORIZED);
    ASSERT_EQ(check(b, bearer(buf_cstr(&forged)), NOW, &ar, &who), 0);

    /* malformed tokens */
    static const char *bad[] = {
        "", "vgt1.", "vgt1..", "vgt1.abc", "vgt2.abc.def", "vgt1.abc.def.ghi", "vgt1.!!!.AAAA"
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ASSERT_EQ(check(a, bearer(bad[i]), NOW, &ar, &who), -ERR_UNAUTHORIZED);
        ASSERT_EQ(check(a, basic("AWS", bad[i]), NOW, &ar, &who), -ERR_UNAUTHORIZED);
    }
    /* trailing data after a valid token */
    char longer[4200];
    snprintf(longer, sizeof(longer), "%s=", tok);
    ASSERT_EQ(check(a, bearer(longer), NOW, &ar, &who), -ERR_UNAUTHORIZED);

    buf_release(&forged);
    reg_auth_free(b);
    reg_auth_free(a);
    arena_release(&ar);
}

TEST(regauth_token_needs_aws_user)
{
    char *h = hash_of("pw");
    char users[256];
    snprintf(users, sizeof(users), "bob:%s\n", h);
    struct reg_auth *a = auth_with(users, false, 0);
    struct arena ar;
    arena_init(&ar);
    const char *who;
    char tok[4096];
    snprintf(tok, sizeof(tok), "%s", mint(a, "bob", NOW, NULL));
    ASSERT_EQ(check(a, basic("AWS", tok), NOW, &ar, &who), 0);
    ASSERT_EQ(check(a, basic("bob", tok), NOW, &ar, &who), -ERR_UNAUTHORIZED);
    ASSERT_EQ(check(a, basic("aws", tok), NOW, &ar, &who), -ERR_UNAUTHORIZED);
    ASSERT_EQ(check(a, basic("carol", tok), NOW, &ar, &who), -ERR_UNAUTHORIZED);
    /* and a password is not a token */
    ASSERT_EQ(check(a, basic("AWS", "pw"), NOW, &ar, &who), -ERR_UNAUTHORIZED);
    ASSERT_EQ(check(a, bearer("pw"), NOW, &ar, &who), -ERR_UNAUTHORIZED);
    reg_auth_free(a);
    arena_release(&ar);
    free(h);
}

TEST(regauth_malformed_headers)
{
    char *h = hash_of("pw");
    char users[256];
    snprintf(users, sizeof(users), "bob:%s\n", h);
    struct reg_auth *a = auth_with(users, false, 0);
    struct arena ar;
    arena_init(&ar);
    const char *who;
    static const char *bad[] = {
        "",
        "Basic",
        "Basic ",
        "Basic !!!!",
        "Basic Ym9iOnB",
        "Bearer",
        "Bearer ",
        "Digest x=y",
        "Basicbm9wZTpwdw==",
        "Basic Ym9icHc=",
        "Basic Ojp3",
        "Basic OnB3",
        "NTLM TlRMTVNTUAABAAAA",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (check(a, bad[i], NOW, &ar, &who) != -ERR_UNAUTHORIZED)
            test_fail(__FILE__, __LINE__, "'%s' accepted", bad[i]);
    ASSERT_EQ(check(a, basic("bob", "pw"), NOW, &ar, &who), 0);
    /* a NUL inside the credentials */
    ASSERT_EQ(check(a, "Basic Ym9iOnB3AA==", NOW, &ar, &who), -ERR_UNAUTHORIZED);
    /* over-long headers are refused before decoding */
    char *longh = xmalloc(9001);
    memcpy(longh, "Basic ", 6);
    memset(longh + 6, 'A', 8994);
    longh[9000] = '\0';
    ASSERT_EQ(check(a, longh, NOW, &ar, &who), -ERR_UNAUTHORIZED);
    free(longh);
    reg_auth_free(a);
    arena_release(&ar);
    free(h);
}

TEST(regauth_anonymous)
{
    char *h = hash_of("pw");
    char users[256];
    snprintf(users, sizeof(users), "bob:%s\n", h);
    struct arena ar;
    arena_init(&ar);
    const char *who = "x";

    struct reg_auth *closed = auth_with(users, false, 0);
    ASSERT_EQ(check(closed, NULL, NOW, &ar, &who), -ERR_UNAUTHORIZED);
    ASSERT_TRUE(who == NULL);
    reg_auth_free(closed);

    struct reg_auth *open = auth_with(users, true, 0);
    who = "x";
    ASSERT_EQ(check(open, NULL, NOW, &ar, &who), 0);
    ASSERT_TRUE(who == NULL);
    ASSERT_EQ(check(open, basic("bob", "wrong"), NOW, &ar, &who), -ERR_UNAUTHORIZED);
    ASSERT_EQ(check(open, "Bearer nope", NOW, &ar, &who), -ERR_UNAUTHORIZED);
    ASSERT_EQ(check(open, "", NOW, &ar, &who), -ERR_UNAUTHORIZED);
    ASSERT_EQ(check(open, basic("bob", "pw"), NOW, &ar, &who), 0);
    ASSERT_STREQ(who, "bob");
    reg_auth_free(open);

    /* no users at all: only tokens (and anonymity, when on) get in */
    struct reg_auth *none = auth_with(NULL, true, 0);
    ASSERT_EQ(check(none, basic("bob", "pw"), NOW, &ar, &who), -ERR_UNAUTHORIZED);
    ASSERT_EQ(check(none, NULL, NOW, &ar, &who), 0);
    reg_auth_free(none);
    arena_release(&ar);
    free(h);
}

TEST(regauth_key_file_created_and_reused)
{
    char dir[512], path[600];
    snprintf(dir, sizeof(dir), "%s/data", test_tmpdir());
    ASSERT_EQ(mkdir(dir, 0755), 0);
    snprintf(path, sizeof(path), "%s/token.key", dir);
    mode_t old = umask(0);
    struct reg_auth_config cfg = { .data_dir = dir };
    struct reg_auth *a = NULL, *b = NULL;
    struct diag d = { 0 };
    ASSERT_EQ(reg_auth_new(&cfg, &a, &d), 0);
    umask(old);
    struct stat st;
    ASSERT_EQ(stat(path, &st), 0);
    ASSERT_EQ(st.st_mode & 0777, 0600);
    ASSERT_EQ(st.st_size, 32);
    ASSERT_TRUE(S_ISREG(st.st_mode));
    /* no temporary file left behind */
    DIR *dh = opendir(dir);
    ASSERT_TRUE(dh != NULL);
    struct dirent *e;
    size_t entries = 0;
    while ((e = readdir(dh)))
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            entries++;
    closedir(dh);
    ASSERT_EQ(entries, 1);

    ASSERT_EQ(reg_auth_new(&cfg, &b, &d), 0);
    struct arena ar;
    arena_init(&ar);
    const char *who;
    char tok[4096];
    snprintf(tok, sizeof(tok), "%s", mint(a, "AKIDEXAMPLE", NOW, NULL));
    ASSERT_EQ(check(b, bearer(tok), NOW, &ar, &who), 0);
    ASSERT_STREQ(who, "AKIDEXAMPLE");
    struct stat st2;
    ASSERT_EQ(stat(path, &st2), 0);
    ASSERT_EQ(st2.st_ino, st.st_ino); /* read back, not rewritten */
    reg_auth_free(a);
    reg_auth_free(b);

    /* a key file of the wrong size is refused */
    FILE *f = fopen(path, "w");
    ASSERT_TRUE(f != NULL);
    fputs("too short", f);
    fclose(f);
    ASSERT_EQ(reg_auth_new(&cfg, &a, &d), -EINVAL);
    ASSERT_TRUE(a == NULL);
    ASSERT_TRUE(strstr(d.msg, "exactly 32 bytes") != NULL);

    /* a data directory that does not exist */
    snprintf(dir, sizeof(dir), "%s/absent", test_tmpdir());
    cfg.data_dir = dir;
    ASSERT_EQ(reg_auth_new(&cfg, &a, &d), -ENOENT);
    arena_release(&ar);
}

struct race_arg {
    const char *dir;
    unsigned char key[64];
    int rc;
};

static void *race_new(void *p)
{
    struct race_arg *r = p;
    struct reg_auth_config cfg = { .data_dir = r->dir };
    struct reg_auth *a = NULL;
    r->rc = reg_auth_new(&cfg, &a, NULL);
    if (r->rc == 0) {
        struct buf b;
        buf_init(&b, 1024);
        BUG_ON(reg_auth_token_mint(a, "x", NOW, &b, NULL) < 0);
        snprintf((char *)r->key, sizeof(r->key), "%s", buf_cstr(&b) + b.len - 43);
        buf_release(&b);
        reg_auth_free(a);
    }
    return NULL;
}

/* Several first starts at once agree on one key (the token MACs come out equal). */
TEST(regauth_key_file_race)
{
    char dir[512];
    snprintf(dir, sizeof(dir), "%s/race", test_tmpdir());
    ASSERT_EQ(mkdir(dir, 0700), 0);
    pthread_t th[6];
    struct race_arg args[6];
    for (int i = 0; i < 6; i++) {
        memset(&args[i], 0, sizeof(args[i]));
        args[i].dir = dir;
        ASSERT_EQ(pthread_create(&th[i], NULL, race_new, &args[i]), 0);
    }
    for (int i = 0; i < 6; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 6; i++) {
        ASSERT_EQ(args[i].rc, 0);
        ASSERT_STREQ((char *)args[i].key, (char *)args[0].key);
    }
}

struct thread_arg {
    struct reg_auth *a;
    const char *hdr_ok, *hdr_bad;
    int failures;
};

static void *hammer(void *p)
{
    struct thread_arg *t = p;
    struct arena ar;
    arena_init(&ar);
    for (int i = 0; i < 20; i++) {
        const char *who = NULL;
        if (reg_auth_check(t->a, t->hdr_ok, NOW + i, &ar, &who) != 0 || !who ||
            strcmp(who, "alice") != 0)
            t->failures++;
        if (i % 10 == 0 && reg_auth_check(t->a, t->hdr_bad, NOW + i, &ar, &who) == 0)
            t->failures++;
    }
    arena_release(&ar);
    return NULL;
}

TEST(regauth_concurrent_checks)
{
    char *h = hash_of("pw");
    char users[256];
    snprintf(users, sizeof(users), "alice:%s\n", h);
    struct reg_auth *a = auth_with(users, false, 0);
    char ok[256], bad[256];
    snprintf(ok, sizeof(ok), "%s", basic("alice", "pw"));
    snprintf(bad, sizeof(bad), "%s", basic("alice", "pX"));
    pthread_t th[4];
    struct thread_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (struct thread_arg){ a, ok, bad, 0 };
        ASSERT_EQ(pthread_create(&th[i], NULL, hammer, &args[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        ASSERT_EQ(args[i].failures, 0);
    }
    reg_auth_free(a);
    free(h);
}
