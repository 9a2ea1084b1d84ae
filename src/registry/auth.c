/* SPDX-License-Identifier: Apache-2.0 */
/* Registry authentication: PBKDF2 password hashes checked through a small keyed cache (clients
 * send Basic credentials on every request), and stateless HMAC-signed expiring tokens. */
#include "auth.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/b64.h"
#include "base/hash.h"
#include "base/log.h"
#include "base/vec.h"
#include "base/xalloc.h"

#define HASH_SCHEME        "pbkdf2-sha256"
#define DEFAULT_ITERATIONS 100000
#define MIN_ITERATIONS     1000
#define MAX_ITERATIONS     10000000
#define SALT_LEN           16
#define DERIVED_LEN        32
#define SALT_MAX           64
#define DERIVED_MIN        16
#define DERIVED_MAX        64
#define USER_NAME_MAX      128
#define AUTH_HEADER_MAX    8192 /* longest Authorization value looked at */
#define BASIC_DECODED_MAX  6144
#define TOKEN_PREFIX       "vgt1."
#define TOKEN_MAX          4096
#define IDENTITY_MAX       256
#define KEY_LEN            32
#define KEY_MAX            1024
#define DEFAULT_TTL_S      (12LL * 3600)
#define MAX_TTL_S          (3650LL * 86400)
#define CACHE_SLOTS        64
#define CACHE_TTL_S        300
#define TOKEN_USER         "AWS"

struct reg_user {
    char *name;
    unsigned iterations;
    unsigned char salt[SALT_MAX];
    size_t salt_len;
    unsigned char hash[DERIVED_MAX];
    size_t hash_len;
};

/* One verified (user, password): id = HMAC(cache_key, "user:password"), so the cache never
 * holds anything a dump could test passwords against faster than the PBKDF2 hashes. */
struct cache_entry {
    unsigned char id[32];
    size_t user;
    int64_t expires; /* 0 = free */
};

struct reg_auth {
    VEC(struct reg_user) users;
    unsigned char key[KEY_MAX];
    size_t key_len;
    bool anonymous;
    int64_t ttl_s;

    pthread_mutex_t mu; /* guards cache */
    unsigned char cache_key[32];
    struct cache_entry cache[CACHE_SLOTS];
};

/* ---- Random bytes and HMAC ------------------------------------------------------------- */

static int random_bytes(unsigned char *p, size_t n)
{
    if (RAND_bytes(p, (int)n) == 1)
        return 0;
    size_t got = 0;
    while (got < n) {
        ssize_t r = getrandom(p + got, n - got, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -EIO;
        got += (size_t)r;
    }
    return 0;
}

static void hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len,
                        unsigned char out[32])
{
    unsigned int n = 0;
    BUG_ON(!HMAC(EVP_sha256(), key, (int)key_len, msg, msg_len, out, &n) || n != 32);
}

static void pbkdf2(struct str password, const unsigned char *salt, size_t salt_len,
                   unsigned iterations, unsigned char *out, size_t out_len)
{
    BUG_ON(PKCS5_PBKDF2_HMAC(password.ptr ? password.ptr : "", (int)password.len, salt,
                             (int)salt_len, (int)iterations, EVP_sha256(), (int)out_len, out) != 1);
}

/* ---- Users ------------------------------------------------------------------------------ */

static bool valid_user_name(struct str s)
{
    if (s.len == 0 || s.len > USER_NAME_MAX)
        return false;
    for (size_t i = 0; i < s.len; i++)
        if ((unsigned char)s.ptr[i] <= 0x20 || (unsigned char)s.ptr[i] >= 0x7f || s.ptr[i] == ':')
            return false;
    return true;
}

/* Decode one base64 field of a stored hash into dst (cap bytes); false if it does not fit
 * [min, cap] bytes or is not canonical base64. */
static bool decode_field(struct str s, unsigned char *dst, size_t min, size_t cap, size_t *n)
{
    struct buf b;
    buf_init(&b, cap);
    bool ok = b64_decode(s, B64_STD, &b) == 0 && b.len >= min && b.len <= cap;
    if (ok) {
        memcpy(dst, b.data, b.len);
        *n = b.len;
    }
    buf_release(&b);
    return ok;
}

static int parse_hash(struct str h, struct reg_user *u, const char **why)
{
    struct str cur = h, scheme, iter, salt;
    if (!str_cut(&cur, '$', &scheme) || !str_eq_cstr(scheme, HASH_SCHEME)) {
        *why = "hash must start with '" HASH_SCHEME "$'";
        return -ERR_INVALID;
    }
    unsigned long long it;
    if (!str_cut(&cur, '$', &iter) || !str_to_u64(iter, &it) || it < MIN_ITERATIONS ||
        it > MAX_ITERATIONS) {
        *why = "iteration count must be a number from 1000 to 10000000";
        return -ERR_INVALID;
    }
    u->iterations = (unsigned)it;
    if (!str_cut(&cur, '$', &salt) || !decode_field(salt, u->salt, 8, SALT_MAX, &u->salt_len)) {
        *why = "salt must be 8 to 64 bytes in base64";
        return -ERR_INVALID;
    }
    if (str_chr(cur, '$') >= 0 ||
        !decode_field(cur, u->hash, DERIVED_MIN, DERIVED_MAX, &u->hash_len)) {
        *why = "hash must be 16 to 64 bytes in base64";
        return -ERR_INVALID;
    }
    return 0;
}

static int parse_users(struct reg_auth *a, const char *text, struct diag *d)
{
    struct str all = str_from(text), cur = all, line;
    size_t lineno = 0;
    while (str_next_line(&cur, &line)) {
        lineno++;
        size_t off = (size_t)(line.ptr - all.ptr);
        line = str_trim(line);
        if (line.len == 0 || line.ptr[0] == '#')
            continue;
        struct str rest = line, name;
        if (!str_cut(&rest, ':', &name))
            return diag_set(d, -ERR_INVALID, off, "users line %zu: expected 'name:hash'", lineno);
        if (!valid_user_name(name))
            return diag_set(d, -ERR_INVALID, off,
                            "users line %zu: user name must be 1 to %d printable characters "
                            "without spaces",
                            lineno, USER_NAME_MAX);
        if (str_eq_cstr(name, TOKEN_USER))
            return diag_set(d, -ERR_INVALID, off,
                            "users line %zu: the name '" TOKEN_USER "' is reserved for tokens",
                            lineno);
        for (size_t i = 0; i < a->users.n; i++)
            if (str_eq_cstr(name, a->users.v[i].name))
                return diag_set(d, -ERR_INVALID, off, "users line %zu: user '%.*s' repeated",
                                lineno, (int)name.len, name.ptr);
        struct reg_user u = { 0 };
        const char *why = NULL;
        if (parse_hash(rest, &u, &why) < 0)
            return diag_set(d, -ERR_INVALID, off, "users line %zu: %s", lineno, why);
        u.name = str_dup(name);
        VEC_PUSH(&a->users, u);
    }
    return 0;
}

int reg_auth_hash_password(const char *password, struct buf *out)
{
    unsigned char salt[SALT_LEN], dk[DERIVED_LEN];
    int rc = random_bytes(salt, sizeof(salt));
    if (rc < 0)
        return rc;
    pbkdf2(str_from(password), salt, sizeof(salt), DEFAULT_ITERATIONS, dk, sizeof(dk));
    rc = buf_printf(out, HASH_SCHEME "$%d$", DEFAULT_ITERATIONS);
    if (rc == 0)
        rc = b64_encode(salt, sizeof(salt), B64_STD, out);
    if (rc == 0)
        rc = buf_putc(out, '$');
    if (rc == 0)
        rc = b64_encode(dk, sizeof(dk), B64_STD, out);
    OPENSSL_cleanse(dk, sizeof(dk));
    return rc;
}

/* ---- Token key -------------------------------------------------------------------------- */

static int read_key(const char *path, unsigned char key[KEY_LEN], struct diag *d)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        int e = errno;
        if (e != ENOENT)
            diag_set(d, -e, 0, "cannot open '%s': %s", path, strerror(e));
        return -e;
    }
    int rc = 0;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        rc = -errno;
        diag_set(d, rc, 0, "cannot stat '%s': %s", path, strerror(-rc));
        goto out;
    }
    if (!S_ISREG(st.st_mode) || st.st_size != KEY_LEN) {
        rc = diag_set(d, -EINVAL, 0, "'%s' must be a regular file of exactly %d bytes", path,
                      KEY_LEN);
        goto out;
    }
    if (st.st_mode & 077)
        log_warn("auth", "token key file '%s' is readable by others (mode %03o)", path,
                 (unsigned)(st.st_mode & 0777));
    size_t got = 0;
    while (got < KEY_LEN) {
        ssize_t n = read(fd, key + got, KEY_LEN - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = n < 0 ? -errno : -EINVAL;
            diag_set(d, rc, 0, "cannot read '%s'", path);
            goto out;
        }
        got += (size_t)n;
    }
out:
    close(fd);
    return rc;
}

/* Write a new key to a private temporary file, then link() it into place: link fails with
 * EEXIST if another process got there first, so every process ends up reading one complete
 * key. Returns 0, -EEXIST (lost the race: read the winner's key) or -errno. */
static int create_key(const char *dir, const char *path, struct diag *d)
{
    unsigned char key[KEY_LEN];
    char *tmp = xasprintf("%s/.token.key.XXXXXX", dir);
    int rc = random_bytes(key, sizeof(key));
    if (rc < 0) {
        diag_set(d, rc, 0, "no random source for the token key");
        goto out;
    }
    int fd = mkostemp(tmp, O_CLOEXEC); /* O_EXCL, mode 0600 */
    if (fd < 0) {
        rc = -errno;
        diag_set(d, rc, 0, "cannot create a file in '%s': %s", dir, strerror(-rc));
        goto out;
    }
    size_t done = 0;
    while (done < sizeof(key) && rc == 0) {
        ssize_t n = write(fd, key + done, sizeof(key) - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            rc = n < 0 ? -errno : -EIO;
        else
            done += (size_t)n;
    }
    if (rc == 0 && fchmod(fd, 0600) != 0)
        rc = -errno;
    if (rc == 0 && fsync(fd) != 0)
        rc = -errno;
    if (close(fd) != 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && link(tmp, path) != 0)
        rc = -errno;
    unlink(tmp);
    if (rc < 0 && rc != -EEXIST)
        diag_set(d, rc, 0, "cannot create '%s': %s", path, strerror(-rc));
out:
    OPENSSL_cleanse(key, sizeof(key));
    free(tmp);
    return rc;
}

static int load_key(struct reg_auth *a, const char *dir, struct diag *d)
{
    char *path = xasprintf("%s/token.key", dir);
    int rc = read_key(path, a->key, d);
    if (rc == -ENOENT) {
        rc = create_key(dir, path, d);
        if (rc == 0 || rc == -EEXIST) {
            rc = read_key(path, a->key, d);
            if (rc == -ENOENT) /* removed between link() and open() */
                diag_set(d, rc, 0, "'%s' vanished after it was created", path);
        }
    }
    if (rc == 0)
        a->key_len = KEY_LEN;
    free(path);
    return rc;
}

/* ---- Lifecycle -------------------------------------------------------------------------- */

void reg_auth_free(struct reg_auth *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->users.n; i++)
        free(a->users.v[i].name);
    VEC_FREE(&a->users);
    pthread_mutex_destroy(&a->mu);
    OPENSSL_cleanse(a, sizeof(*a));
    free(a);
}

int reg_auth_new(const struct reg_auth_config *cfg, struct reg_auth **out, struct diag *d)
{
    *out = NULL;
    if (cfg->token_ttl_s < 0 || cfg->token_ttl_s > MAX_TTL_S)
        return diag_set(d, -ERR_INVALID, 0, "token lifetime must be 0 to %lld seconds",
                        (long long)MAX_TTL_S);
    struct reg_auth *a = xcalloc(1, sizeof(*a));
    BUG_ON(pthread_mutex_init(&a->mu, NULL) != 0);
    a->anonymous = cfg->anonymous;
    a->ttl_s = cfg->token_ttl_s ? cfg->token_ttl_s : DEFAULT_TTL_S;
    int rc = random_bytes(a->cache_key, sizeof(a->cache_key));
    if (rc < 0) {
        diag_set(d, rc, 0, "no random source");
        goto fail;
    }
    if (cfg->users_text) {
        rc = parse_users(a, cfg->users_text, d);
        if (rc < 0)
            goto fail;
    }
    if (cfg->token_key) {
        if (cfg->token_key_len < KEY_LEN || cfg->token_key_len > KEY_MAX) {
            rc = diag_set(d, -ERR_INVALID, 0, "token key must be %d to %d bytes", KEY_LEN, KEY_MAX);
            goto fail;
        }
        memcpy(a->key, cfg->token_key, cfg->token_key_len);
        a->key_len = cfg->token_key_len;
    } else if (cfg->data_dir) {
        rc = load_key(a, cfg->data_dir, d);
        if (rc < 0)
            goto fail;
    } else {
        rc = diag_set(d, -ERR_INVALID, 0, "no token key and no data directory to keep one in");
        goto fail;
    }
    *out = a;
    return 0;
fail:
    reg_auth_free(a);
    return rc;
}

/* ---- Tokens ----------------------------------------------------------------------------- */

static bool valid_identity(struct str s)
{
    if (s.len == 0 || s.len > IDENTITY_MAX)
        return false;
    for (size_t i = 0; i < s.len; i++)
        if ((unsigned char)s.ptr[i] <= 0x20 || (unsigned char)s.ptr[i] >= 0x7f || s.ptr[i] == ':')
            return false;
    return true;
}

/* MAC over the prefix and the encoded payload, exactly as they appear in the token. */
static void token_mac(const struct reg_auth *a, struct str signed_part, unsigned char out[32])
{
    hmac_sha256(a->key, a->key_len, signed_part.ptr, signed_part.len, out);
}

int reg_auth_token_mint(struct reg_auth *a, const char *identity, int64_t now, struct buf *out,
                        int64_t *expires_at)
{
    struct str id = str_from(identity);
    if (!identity || !valid_identity(id) || now < 0 || now > INT64_MAX - a->ttl_s)
        return -ERR_INVALID;
    int64_t exp = now + a->ttl_s;
    char payload[IDENTITY_MAX + 64];
    int pl = snprintf(payload, sizeof(payload), "%" PRId64 ":%" PRId64 ":%s", now, exp, identity);
    BUG_ON(pl < 0 || (size_t)pl >= sizeof(payload));

    struct buf tok;
    buf_init(&tok, TOKEN_MAX);
    int rc = buf_append_cstr(&tok, TOKEN_PREFIX);
    if (rc == 0)
        rc = b64_encode(payload, (size_t)pl, B64_URL, &tok);
    unsigned char mac[32];
    if (rc == 0) {
        token_mac(a, buf_str(&tok), mac);
        rc = buf_putc(&tok, '.');
    }
    if (rc == 0)
        rc = b64_encode(mac, sizeof(mac), B64_URL, &tok);
    if (rc == 0)
        rc = buf_append_str(out, buf_str(&tok));
    buf_release(&tok);
    if (rc == 0 && expires_at)
        *expires_at = exp;
    return rc;
}

/* Check a token; on success the identity is copied into the arena. */
static int token_verify(struct reg_auth *a, struct str t, int64_t now, struct arena *arena,
                        const char **principal)
{
    if (t.len > TOKEN_MAX || !str_has_prefix(t, TOKEN_PREFIX))
        return -ERR_UNAUTHORIZED;
    long dot = str_chr(str_make(t.ptr + strlen(TOKEN_PREFIX), t.len - strlen(TOKEN_PREFIX)), '.');
    if (dot < 0)
        return -ERR_UNAUTHORIZED;
    struct str signed_part = str_make(t.ptr, strlen(TOKEN_PREFIX) + (size_t)dot);
    struct str payload_b64 = str_make(t.ptr + strlen(TOKEN_PREFIX), (size_t)dot);
    struct str mac_b64 =
        str_make(signed_part.ptr + signed_part.len + 1, t.len - signed_part.len - 1);

    /* The MAC first: nothing of an unauthenticated payload is interpreted. */
    struct buf mac, payload;
    buf_init(&mac, 32);
    buf_init(&payload, TOKEN_MAX);
    int rc = -ERR_UNAUTHORIZED;
    unsigned char want[32];
    if (b64_decode(mac_b64, B64_URL, &mac) < 0 || mac.len != 32)
        goto out;
    token_mac(a, signed_part, want);
    if (CRYPTO_memcmp(want, mac.data, 32) != 0)
        goto out;
    if (b64_decode(payload_b64, B64_URL, &payload) < 0)
        goto out;

    struct str cur = buf_str(&payload), iat_s, exp_s;
    unsigned long long iat, exp;
    if (!str_cut(&cur, ':', &iat_s) || !str_cut(&cur, ':', &exp_s) || !str_to_u64(iat_s, &iat) ||
        !str_to_u64(exp_s, &exp) || iat > exp || exp > (unsigned long long)INT64_MAX ||
        !valid_identity(cur))
        goto out;
    if (now >= (int64_t)exp)
        goto out;
    *principal = arena_strndup(arena, cur.ptr, cur.len);
    rc = 0;
out:
    buf_release(&mac);
    buf_release(&payload);
    return rc;
}

/* ---- Passwords and the verification cache ----------------------------------------------- */

static const struct reg_user *find_user(const struct reg_auth *a, struct str name, size_t *idx)
{
    for (size_t i = 0; i < a->users.n; i++)
        if (str_eq_cstr(name, a->users.v[i].name)) {
            *idx = i;
            return &a->users.v[i];
        }
    return NULL;
}

static bool cache_lookup(struct reg_auth *a, const unsigned char id[32], int64_t now, size_t *user)
{
    bool hit = false;
    pthread_mutex_lock(&a->mu);
    for (size_t i = 0; i < CACHE_SLOTS; i++) {
        struct cache_entry *e = &a->cache[i];
        if (e->expires > now && CRYPTO_memcmp(e->id, id, 32) == 0) {
            *user = e->user;
            hit = true;
            break;
        }
    }
    pthread_mutex_unlock(&a->mu);
    return hit;
}

static void cache_store(struct reg_auth *a, const unsigned char id[32], size_t user, int64_t now)
{
    pthread_mutex_lock(&a->mu);
    /* A free or expired slot, else the one that expires first. */
    struct cache_entry *victim = &a->cache[0];
    for (size_t i = 0; i < CACHE_SLOTS; i++) {
        struct cache_entry *e = &a->cache[i];
        if (e->expires <= now) {
            victim = e;
            break;
        }
        if (e->expires < victim->expires)
            victim = e;
    }
    memcpy(victim->id, id, 32);
    victim->user = user;
    victim->expires = now + CACHE_TTL_S;
    pthread_mutex_unlock(&a->mu);
}

static int password_verify(struct reg_auth *a, struct str user, struct str password, int64_t now,
                           struct arena *arena, const char **principal)
{
    /* Cache id over "user:password"; the user name has no ':', so the split is unambiguous. */
    unsigned char id[32];
    struct buf msg;
    buf_init(&msg, BASIC_DECODED_MAX + 1);
    BUG_ON(buf_append_str(&msg, user) < 0 || buf_putc(&msg, ':') < 0 ||
           buf_append_str(&msg, password) < 0);
    hmac_sha256(a->cache_key, sizeof(a->cache_key), msg.data, msg.len, id);
    OPENSSL_cleanse(msg.data, msg.len);
    buf_release(&msg);

    size_t idx = 0;
    if (cache_lookup(a, id, now, &idx)) {
        *principal = arena_strdup(arena, a->users.v[idx].name);
        return 0;
    }
    const struct reg_user *u = find_user(a, user, &idx);
    unsigned char dk[DERIVED_MAX];
    if (!u) {
        /* Spend the work of a real user's check, so timing does not tell names apart. */
        static const unsigned char salt[SALT_LEN] = { 0 };
        const struct reg_user *like = &a->users.v[0];
        pbkdf2(password, salt, sizeof(salt), like->iterations, dk, like->hash_len);
        OPENSSL_cleanse(dk, sizeof(dk));
        return -ERR_UNAUTHORIZED;
    }
    pbkdf2(password, u->salt, u->salt_len, u->iterations, dk, u->hash_len);
    bool ok = CRYPTO_memcmp(dk, u->hash, u->hash_len) == 0;
    OPENSSL_cleanse(dk, sizeof(dk));
    if (!ok)
        return -ERR_UNAUTHORIZED;
    cache_store(a, id, idx, now);
    *principal = arena_strdup(arena, u->name);
    return 0;
}

/* ---- The check -------------------------------------------------------------------------- */

/* Split "Scheme credentials": the scheme (case-insensitive) and the trimmed rest. */
static bool split_scheme(struct str v, const char *scheme, struct str *rest)
{
    size_t n = strlen(scheme);
    if (v.len <= n || strncasecmp(v.ptr, scheme, n) != 0 || (v.ptr[n] != ' ' && v.ptr[n] != '\t'))
        return false;
    *rest = str_trim(str_make(v.ptr + n, v.len - n));
    return true;
}

static int check_basic(struct reg_auth *a, struct str cred, int64_t now, struct arena *arena,
                       const char **principal)
{
    struct buf dec;
    buf_init(&dec, BASIC_DECODED_MAX);
    int rc = -ERR_UNAUTHORIZED;
    if (b64_decode(cred, B64_STD, &dec) < 0 || memchr(dec.data, '\0', dec.len))
        goto out;
    struct str rest = buf_str(&dec), user;
    if (!str_cut(&rest, ':', &user) || user.len == 0)
        goto out;
    if (str_eq_cstr(user, TOKEN_USER))
        rc = token_verify(a, rest, now, arena, principal);
    else if (valid_user_name(user) && a->users.n > 0)
        rc = password_verify(a, user, rest, now, arena, principal);
out:
    if (dec.data)
        OPENSSL_cleanse(dec.data, dec.len);
    buf_release(&dec);
    return rc;
}

int reg_auth_check(struct reg_auth *a, const char *authorization, int64_t now, struct arena *arena,
                   const char **principal)
{
    *principal = NULL;
    if (!authorization)
        return a->anonymous ? 0 : -ERR_UNAUTHORIZED;
    size_t len = strnlen(authorization, AUTH_HEADER_MAX + 1);
    if (len > AUTH_HEADER_MAX)
        return -ERR_UNAUTHORIZED;
    struct str v = str_trim(str_make(authorization, len)), rest;
    if (split_scheme(v, "Basic", &rest))
        return check_basic(a, rest, now, arena, principal);
    if (split_scheme(v, "Bearer", &rest))
        return token_verify(a, rest, now, arena, principal);
    return -ERR_UNAUTHORIZED;
}
