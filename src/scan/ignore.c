/* SPDX-License-Identifier: Apache-2.0 */
/* Ignore-file parser and matcher. */
#include "scan/ignore.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/reader.h"
#include "base/xalloc.h"

#define IGNORE_MAX_BYTES (4u << 20)
#define IGNORE_MAX_ID    256

void ignore_list_release(struct ignore_list *l)
{
    for (size_t i = 0; i < l->rules.n; i++) {
        free(l->rules.v[i].id);
        free(l->rules.v[i].package);
        free(l->rules.v[i].reason);
    }
    VEC_FREE(&l->rules);
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static struct str next_word(struct str *cur)
{
    while (cur->len && is_blank(cur->ptr[0])) {
        cur->ptr++;
        cur->len--;
    }
    size_t n = 0;
    while (n < cur->len && !is_blank(cur->ptr[n]))
        n++;
    struct str w = str_make(cur->ptr, n);
    cur->ptr += n;
    cur->len -= n;
    return w;
}

/* YYYY-MM-DD → the first second after that day (UTC), or -1. */
static time_t parse_date_end(struct str s)
{
    unsigned long long y, m, dd;
    if (s.len != 10 || s.ptr[4] != '-' || s.ptr[7] != '-' || !str_to_u64(str_make(s.ptr, 4), &y) ||
        !str_to_u64(str_make(s.ptr + 5, 2), &m) || !str_to_u64(str_make(s.ptr + 8, 2), &dd))
        return -1;
    static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (y < 1970 || y > 9999 || m < 1 || m > 12 || dd < 1 || (int)dd > mdays[m - 1])
        return -1;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (m == 2 && dd == 29 && !leap)
        return -1;
    struct tm tm = { 0 };
    tm.tm_year = (int)y - 1900;
    tm.tm_mon = (int)m - 1;
    tm.tm_mday = (int)dd + 1;
    return timegm(&tm);
}

static bool valid_id(struct str s)
{
    if (s.len == 0 || s.len > IGNORE_MAX_ID)
        return false;
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        if (!(c == '-' || c == '_' || c == '.' || c == ':' || (c >= '0' && c <= '9') ||
              (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')))
            return false;
    }
    return true;
}

int ignore_parse(struct str text, const char *name, struct ignore_list *l, struct diag *d)
{
    struct str cur = text, line;
    int lineno = 0;
    while (str_next_line(&cur, &line)) {
        lineno++;
        struct str reason = STR_NULL;
        long hash = str_chr(line, '#');
        if (hash >= 0) {
            reason = str_trim(str_make(line.ptr + hash + 1, line.len - (size_t)hash - 1));
            line.len = (size_t)hash;
        }
        struct str w = next_word(&line);
        if (w.len == 0)
            continue;
        if (!valid_id(w))
            return diag_set(d, -ERR_INVALID, (size_t)lineno,
                            "%s:%d: '%.*s' is not a vulnerability id", name, lineno,
                            (int)(w.len > 64 ? 64 : w.len), w.ptr);
        struct ignore_rule r = { .id = str_dup(w), .line = lineno };
        for (;;) {
            w = next_word(&line);
            if (w.len == 0)
                break;
            struct str val;
            if (str_has_prefix(w, "exp:") || str_has_prefix(w, "expires=")) {
                size_t skip = w.ptr[3] == ':' ? 4 : 8;
                val = str_make(w.ptr + skip, w.len - skip);
                r.expires = parse_date_end(val);
                if (r.expires == (time_t)-1) {
                    free(r.id);
                    free(r.package);
                    return diag_set(d, -ERR_INVALID, (size_t)lineno,
                                    "%s:%d: bad expiry date '%.*s' (want YYYY-MM-DD)", name, lineno,
                                    (int)(val.len > 32 ? 32 : val.len), val.ptr);
                }
            } else if (str_has_prefix(w, "package=") || str_has_prefix(w, "pkg:")) {
                size_t skip = w.ptr[3] == ':' ? 4 : 8;
                val = str_make(w.ptr + skip, w.len - skip);
                if (val.len == 0 || val.len > 256) {
                    free(r.id);
                    free(r.package);
                    return diag_set(d, -ERR_INVALID, (size_t)lineno, "%s:%d: bad package name",
                                    name, lineno);
                }
                free(r.package);
                r.package = str_dup(val);
            } else {
                free(r.id);
                free(r.package);
                return diag_set(d, -ERR_INVALID, (size_t)lineno,
                                "%s:%d: unknown field '%.*s' (expected exp:YYYY-MM-DD, "
                                "package=NAME or # reason)",
                                name, lineno, (int)(w.len > 32 ? 32 : w.len), w.ptr);
            }
        }
        if (reason.len)
            r.reason = str_dup(reason);
        VEC_PUSH(&l->rules, r);
    }
    return 0;
}

int ignore_load(const char *path, struct ignore_list *l, struct diag *d)
{
    struct reader *r = NULL;
    int rc = reader_file_open(path, &r, d);
    if (rc)
        return rc;
    struct buf b;
    buf_init(&b, IGNORE_MAX_BYTES);
    rc = reader_read_all(r, &b);
    reader_close(r);
    if (rc == -ERR_TOO_BIG)
        rc = diag_set(d, rc, 0, "%s: ignore file larger than %u bytes", path, IGNORE_MAX_BYTES);
    else if (rc)
        rc = diag_set(d, rc, 0, "%s: cannot read: %s", path, err_str(rc));
    else
        rc = ignore_parse(buf_str(&b), path, l, d);
    buf_release(&b);
    return rc;
}

static bool id_matches(const char *rule_id, const struct finding *f)
{
    if (strcmp(rule_id, f->id) == 0)
        return true;
    for (size_t i = 0; i < f->related.n; i++)
        if (strcmp(rule_id, f->related.v[i]) == 0)
            return true;
    return false;
}

const struct ignore_rule *ignore_match(const struct ignore_list *l, const struct finding *f,
                                       time_t now)
{
    for (size_t i = 0; i < l->rules.n; i++) {
        const struct ignore_rule *r = &l->rules.v[i];
        if (r->expires && now >= r->expires)
            continue;
        if (r->package && (!f->pkg || strcmp(r->package, f->pkg->name) != 0))
            continue;
        if (id_matches(r->id, f))
            return r;
    }
    return NULL;
}
