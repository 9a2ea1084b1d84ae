/* SPDX-License-Identifier: Apache-2.0 */
/* Typed settings from defaults, a config file, the environment and flags (see config.h). */
#include "cli/config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/reader.h"
#include "base/xalloc.h"

#define CONF_FILE_MAX (1u << 20) /* a config file is small; refuse anything bigger */

static long find(const struct conf *c, const char *key, size_t keylen)
{
    for (size_t i = 0; i < c->n; i++)
        if (strlen(c->defs[i].key) == keylen && memcmp(c->defs[i].key, key, keylen) == 0)
            return (long)i;
    return -1;
}

void conf_init(struct conf *c, const struct conf_def *defs, size_t n)
{
    c->defs = defs;
    c->n = n;
    c->value = xcalloc(n ? n : 1, sizeof(*c->value));
    c->origin = xcalloc(n ? n : 1, sizeof(*c->origin));
    c->file = NULL;
    for (size_t i = 0; i < n; i++) {
        if (defs[i].def)
            c->value[i] = xstrdup(defs[i].def);
        c->origin[i] = "default";
    }
}

void conf_release(struct conf *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->value[i]);
    free(c->value);
    free(c->origin);
    free(c->file);
    c->value = NULL;
    c->origin = NULL;
    c->file = NULL;
}

int conf_parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = { "true", "yes", "on", "1" };
    static const char *const no[] = { "false", "no", "off", "0" };
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -ERR_INVALID;
}

/* Digits then an optional unit; the number part must fit comfortably. */
static int split_number(const char *s, unsigned long long *num, const char **unit)
{
    if (!isdigit((unsigned char)*s))
        return -ERR_INVALID;
    unsigned long long v = 0;
    while (isdigit((unsigned char)*s)) {
        if (v > (1ull << 50))
            return -ERR_INVALID;
        v = v * 10 + (unsigned)(*s - '0');
        s++;
    }
    while (*s == ' ')
        s++;
    *num = v;
    *unit = s;
    return 0;
}

int conf_parse_duration_ms(const char *s, int64_t *out)
{
    unsigned long long v;
    const char *u;
    if (split_number(s, &v, &u) < 0)
        return -ERR_INVALID;
    unsigned long long mul;
    if (!*u || strcmp(u, "s") == 0)
        mul = 1000;
    else if (strcmp(u, "ms") == 0)
        mul = 1;
    else if (strcmp(u, "m") == 0 || strcmp(u, "min") == 0)
        mul = 60000;
    else if (strcmp(u, "h") == 0)
        mul = 3600000;
    else if (strcmp(u, "d") == 0)
        mul = 86400000;
    else
        return -ERR_INVALID;
    *out = (int64_t)(v * mul);
    return 0;
}

int conf_parse_size(const char *s, uint64_t *out)
{
    unsigned long long v;
    const char *u;
    if (split_number(s, &v, &u) < 0)
        return -ERR_INVALID;
    static const struct {
        const char *unit;
        unsigned long long mul;
    } units[] = {
        { "", 1 },
        { "B", 1 },
        { "KiB", 1ull << 10 },
        { "MiB", 1ull << 20 },
        { "GiB", 1ull << 30 },
        { "TiB", 1ull << 40 },
        { "kB", 1000 },
        { "KB", 1000 },
        { "MB", 1000000 },
        { "GB", 1000000000 },
        { "TB", 1000000000000ull },
    };
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcmp(u, units[i].unit) == 0) {
            if (v > UINT64_MAX / units[i].mul)
                return -ERR_INVALID;
            *out = v * units[i].mul;
            return 0;
        }
    }
    return -ERR_INVALID;
}

static int check_range(const struct conf_def *def, long long v, const char *value, struct diag *d)
{
    if ((def->min || def->max) && (v < def->min || v > def->max))
        return diag_set(d, -ERR_INVALID, 0, "setting '%s': value '%s' is out of range", def->key,
                        value);
    return 0;
}

int conf_set(struct conf *c, const char *key, const char *value, const char *origin, struct diag *d)
{
    long i = find(c, key, strlen(key));
    if (i < 0)
        return diag_set(d, -ERR_INVALID, 0, "unknown setting '%s'", key);
    const struct conf_def *def = &c->defs[i];
    switch (def->type) {
    case CONF_STRING:
        break;
    case CONF_INT: {
        char *end;
        errno = 0;
        long long v = strtoll(value, &end, 10);
        if (errno || end == value || *end)
            return diag_set(d, -ERR_INVALID, 0, "setting '%s': '%s' is not an integer", key, value);
        if (check_range(def, v, value, d) < 0)
            return -ERR_INVALID;
        break;
    }
    case CONF_BOOL: {
        bool b;
        if (conf_parse_bool(value, &b) < 0)
            return diag_set(d, -ERR_INVALID, 0,
                            "setting '%s': '%s' is not a boolean (true or false)", key, value);
        break;
    }
    case CONF_DURATION: {
        int64_t ms;
        if (conf_parse_duration_ms(value, &ms) < 0)
            return diag_set(d, -ERR_INVALID, 0,
                            "setting '%s': '%s' is not a duration (like 500ms, 30s, 5m, 24h)", key,
                            value);
        if (check_range(def, ms, value, d) < 0)
            return -ERR_INVALID;
        break;
    }
    case CONF_SIZE: {
        uint64_t sz;
        if (conf_parse_size(value, &sz) < 0 || sz > (uint64_t)LLONG_MAX)
            return diag_set(d, -ERR_INVALID, 0,
                            "setting '%s': '%s' is not a size (like 4096, 64KiB, 4MiB)", key,
                            value);
        if (check_range(def, (long long)sz, value, d) < 0)
            return -ERR_INVALID;
        break;
    }
    }
    free(c->value[i]);
    c->value[i] = xstrdup(value);
    c->origin[i] = origin;
    return 0;
}

/* Parse a quoted value in place semantics: writes the unescaped text to out. */
static int unquote(const char *p, const char *end, struct buf *out)
{
    p++; /* opening quote */
    while (p < end && *p != '"') {
        char ch = *p++;
        if (ch == '\\') {
            if (p >= end)
                return -ERR_INVALID;
            char e = *p++;
            if (e == 'n')
                ch = '\n';
            else if (e == 't')
                ch = '\t';
            else if (e == '"' || e == '\\')
                ch = e;
            else
                return -ERR_INVALID;
        }
        if (buf_putc(out, ch) < 0)
            return -ERR_TOO_BIG;
    }
    if (p >= end)
        return -ERR_INVALID; /* no closing quote */
    p++;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if (p < end && *p != '#')
        return -ERR_INVALID; /* text after the closing quote */
    return 0;
}

int conf_load_text(struct conf *c, const char *name, const char *text, size_t len, struct diag *d)
{
    struct str cur = str_make(text, len), line;
    unsigned lineno = 0;
    struct buf val;
    buf_init(&val, CONF_FILE_MAX);
    int rc = 0;
    while (str_next_line(&cur, &line)) {
        lineno++;
        line = str_trim(line);
        if (line.len == 0 || line.ptr[0] == '#')
            continue;
        if (memchr(line.ptr, '\0', line.len)) {
            rc = diag_set(d, -ERR_INVALID, 0, "%s:%u: NUL byte in line", name, lineno);
            goto out;
        }
        long eq = str_chr(line, '=');
        if (eq <= 0) {
            rc = diag_set(d, -ERR_INVALID, 0, "%s:%u: expected 'key = value'", name, lineno);
            goto out;
        }
        struct str key = str_trim(str_make(line.ptr, (size_t)eq));
        struct str v = str_trim(str_make(line.ptr + eq + 1, line.len - (size_t)eq - 1));
        buf_reset(&val);
        if (v.len && v.ptr[0] == '"') {
            if (unquote(v.ptr, v.ptr + v.len, &val) < 0) {
                rc = diag_set(d, -ERR_INVALID, 0, "%s:%u: bad quoted value", name, lineno);
                goto out;
            }
        } else {
            /* an unquoted value ends at a " #" comment */
            for (size_t k = 0; k + 1 < v.len; k++)
                if ((v.ptr[k] == ' ' || v.ptr[k] == '\t') && v.ptr[k + 1] == '#') {
                    v.len = k;
                    break;
                }
            v = str_trim(v);
            buf_append(&val, v.ptr, v.len);
        }
        char keyz[64];
        if (key.len == 0 || key.len >= sizeof(keyz)) {
            rc = diag_set(d, -ERR_INVALID, 0, "%s:%u: bad key", name, lineno);
            goto out;
        }
        memcpy(keyz, key.ptr, key.len);
        keyz[key.len] = '\0';
        rc = conf_set(c, keyz, buf_cstr(&val), "file", d);
        if (rc < 0) {
            diag_prefix(d, rc, "%s:%u: ", name, lineno);
            goto out;
        }
    }
out:
    buf_release(&val);
    return rc;
}

int conf_load_file(struct conf *c, const char *path, struct diag *d)
{
    struct reader *r = NULL;
    int rc = reader_file_open(path, &r, NULL);
    if (rc < 0)
        return diag_set(d, rc, 0, "cannot open config file '%s': %s", path, strerror(-rc));
    struct buf b;
    buf_init(&b, CONF_FILE_MAX);
    rc = reader_read_all(r, &b);
    reader_close(r);
    if (rc == -ERR_TOO_BIG)
        rc = diag_set(d, rc, 0, "config file '%s' is larger than 1 MiB", path);
    else if (rc < 0)
        rc = diag_set(d, rc, 0, "cannot read config file '%s': %s", path, err_str(rc));
    if (rc == 0) {
        free(c->file);
        c->file = xstrdup(path);
        rc = conf_load_text(c, path, b.data ? b.data : "", b.len, d);
    }
    buf_release(&b);
    return rc;
}

static void env_name(const char *key, char *out, size_t cap)
{
    size_t o = 0;
    const char *pre = "VIGIL_";
    while (*pre && o + 1 < cap)
        out[o++] = *pre++;
    for (; *key && o + 1 < cap; key++)
        out[o++] = (*key == '-' || *key == '.') ? '_' : (char)toupper((unsigned char)*key);
    out[o] = '\0';
}

int conf_load_env(struct conf *c, struct diag *d)
{
    for (size_t i = 0; i < c->n; i++) {
        char name[96];
        env_name(c->defs[i].key, name, sizeof(name));
        const char *v = getenv(name);
        if (!v || !*v)
            continue;
        int rc = conf_set(c, c->defs[i].key, v, "environment", d);
        if (rc < 0)
            return diag_prefix(d, rc, "%s: ", name);
    }
    return 0;
}

int conf_flag(struct conf *c, int argc, char **argv, int *i, struct diag *d)
{
    const char *a = argv[*i];
    if (strncmp(a, "--", 2) != 0)
        return 0;
    a += 2;
    const char *eq = strchr(a, '=');
    size_t klen = eq ? (size_t)(eq - a) : strlen(a);
    long k = find(c, a, klen);
    bool negated = false;
    if (k < 0 && !eq && strncmp(a, "no-", 3) == 0) {
        k = find(c, a + 3, klen - 3);
        if (k < 0 || c->defs[k].type != CONF_BOOL)
            return 0;
        negated = true;
    }
    if (k < 0)
        return 0;
    const struct conf_def *def = &c->defs[k];
    const char *value;
    if (eq)
        value = eq + 1;
    else if (def->type == CONF_BOOL)
        value = negated ? "false" : "true";
    else if (*i + 1 < argc)
        value = argv[++*i];
    else
        return diag_set(d, -ERR_INVALID, 0, "option '--%s' needs a value", def->key);
    return conf_set(c, def->key, value, "flag", d) < 0 ? -ERR_INVALID : 1;
}

static long must_find(const struct conf *c, const char *key)
{
    long i = find(c, key, strlen(key));
    BUG_ON(i < 0);
    return i;
}

const char *conf_str(const struct conf *c, const char *key)
{
    return c->value[must_find(c, key)];
}

long long conf_int(const struct conf *c, const char *key)
{
    const char *v = conf_str(c, key);
    return v ? strtoll(v, NULL, 10) : 0;
}

bool conf_bool(const struct conf *c, const char *key)
{
    const char *v = conf_str(c, key);
    bool b = false;
    if (v)
        conf_parse_bool(v, &b);
    return b;
}

int64_t conf_duration_ms(const struct conf *c, const char *key)
{
    const char *v = conf_str(c, key);
    int64_t ms = 0;
    if (v)
        conf_parse_duration_ms(v, &ms);
    return ms;
}

uint64_t conf_size(const struct conf *c, const char *key)
{
    const char *v = conf_str(c, key);
    uint64_t sz = 0;
    if (v)
        conf_parse_size(v, &sz);
    return sz;
}

void conf_help(FILE *f, const struct conf_def *defs, size_t n)
{
    static const char *const tname[] = { "TEXT", "N", "BOOL", "DURATION", "SIZE" };
    for (size_t i = 0; i < n; i++) {
        char flag[96], env[96];
        if (defs[i].type == CONF_BOOL)
            snprintf(flag, sizeof(flag), "--[no-]%s", defs[i].key);
        else
            snprintf(flag, sizeof(flag), "--%s %s", defs[i].key, tname[defs[i].type]);
        env_name(defs[i].key, env, sizeof(env));
        fprintf(f, "  %-28s %s\n", flag, defs[i].help);
        fprintf(f, "  %-28s (%s; default %s)\n", "", env, defs[i].def ? defs[i].def : "unset");
    }
}

void conf_dump(FILE *f, const struct conf *c)
{
    for (size_t i = 0; i < c->n; i++) {
        const char *v = c->value[i];
        fprintf(f, "%s = %s  # %s\n", c->defs[i].key,
                !v                  ? "(unset)"
                : c->defs[i].secret ? "(secret)"
                                    : v,
                c->origin[i]);
    }
}
