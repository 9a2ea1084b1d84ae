/* SPDX-License-Identifier: Apache-2.0 */
/* os-release and legacy release-marker parsing. The KEY=value reader follows the shell
 * quoting rules the os-release specification refers to, for one line at a time. */
#include "osrelease.h"

#include <ctype.h>
#include <string.h>

#include "base/xalloc.h"
#include "internal.h"

#define OSRELEASE_MAX (64u << 10)

static const struct {
    const char *major, *codename;
} debian_names[] = {
    { "1", "buzz" },    { "2", "hamm" },    { "3", "woody" },     { "4", "etch" },
    { "5", "lenny" },   { "6", "squeeze" }, { "7", "wheezy" },    { "8", "jessie" },
    { "9", "stretch" }, { "10", "buster" }, { "11", "bullseye" }, { "12", "bookworm" },
    { "13", "trixie" }, { "14", "forky" },  { "15", "duke" },
};

const char *osrelease_debian_codename(const char *version_id)
{
    if (!version_id)
        return NULL;
    size_t n = strcspn(version_id, ".");
    for (size_t i = 0; i < ARRAY_SIZE(debian_names); i++)
        if (strlen(debian_names[i].major) == n &&
            strncmp(debian_names[i].major, version_id, n) == 0)
            return debian_names[i].codename;
    return NULL;
}

const char *osrelease_debian_version(const char *codename)
{
    if (!codename)
        return NULL;
    for (size_t i = 0; i < ARRAY_SIZE(debian_names); i++)
        if (strcmp(debian_names[i].codename, codename) == 0)
            return debian_names[i].major;
    return NULL;
}

static bool is_key_start(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool is_key_char(char c)
{
    return is_key_start(c) || (c >= '0' && c <= '9');
}

/* Decode the shell word at the start of v into dst (at least v.len + 1 bytes). Returns false
 * for an unterminated quote or a trailing lone backslash. */
static bool shell_word(struct str v, char *dst)
{
    size_t i = 0, o = 0;
    while (i < v.len) {
        char c = v.ptr[i];
        if (c == ' ' || c == '\t')
            break; /* an unquoted blank ends the word; what follows is not the value */
        if (c == '\'') {
            size_t j = i + 1;
            while (j < v.len && v.ptr[j] != '\'')
                dst[o++] = v.ptr[j++];
            if (j >= v.len)
                return false;
            i = j + 1;
        } else if (c == '"') {
            size_t j = i + 1;
            while (j < v.len && v.ptr[j] != '"') {
                char e = j + 1 < v.len ? v.ptr[j + 1] : '\0';
                if (v.ptr[j] == '\\' && (e == '"' || e == '\\' || e == '$' || e == '`')) {
                    dst[o++] = e;
                    j += 2;
                } else {
                    dst[o++] = v.ptr[j++];
                }
            }
            if (j >= v.len)
                return false;
            i = j + 1;
        } else if (c == '\\') {
            if (i + 1 >= v.len)
                return false;
            dst[o++] = v.ptr[i + 1];
            i += 2;
        } else {
            dst[o++] = c;
            i++;
        }
    }
    dst[o] = '\0';
    return true;
}

struct kv_want {
    const char *key;
    const char **dst;
};

/* Assign the wanted keys found in KEY=value lines. Returns how many well-formed assignment
 * lines there were (wanted or not). */
static size_t parse_kv(struct str data, struct arena *a, const struct kv_want *want, size_t nwant)
{
    struct str cur = data, line;
    size_t good = 0;
    while (str_next_line(&cur, &line)) {
        line = str_trim(line);
        if (line.len == 0 || line.ptr[0] == '#' || !is_key_start(line.ptr[0]))
            continue;
        size_t k = 1;
        while (k < line.len && is_key_char(line.ptr[k]))
            k++;
        if (k >= line.len || line.ptr[k] != '=')
            continue;
        struct str key = str_make(line.ptr, k);
        struct str val = str_make(line.ptr + k + 1, line.len - k - 1);
        char *buf = arena_alloc(a, val.len + 1);
        if (!shell_word(val, buf))
            continue;
        good++;
        for (size_t i = 0; i < nwant; i++)
            if (str_eq_cstr(key, want[i].key))
                *want[i].dst = buf;
    }
    return good;
}

static int check_input(struct str data, const char *what, struct os_info *out, struct diag *d)
{
    size_t where;
    memset(out, 0, sizeof(*out));
    if (data.len > OSRELEASE_MAX)
        return diag_set(d, -ERR_TOO_BIG, 0, "%s: %zu bytes is over the 64 KiB limit", what,
                        data.len);
    if (pkgdb_has_nul(data, &where))
        return diag_set(d, -ERR_CORRUPT, where, "%s: NUL byte at offset %zu", what, where);
    return 0;
}

static void fill_debian_codename(struct os_info *o)
{
    if (o->id && strcmp(o->id, "debian") == 0 && !o->version_codename)
        o->version_codename = osrelease_debian_codename(o->version_id);
}

int osrelease_parse(struct str data, struct arena *a, struct os_info *out, struct diag *d)
{
    int rc = check_input(data, "os-release", out, d);
    if (rc < 0)
        return rc;
    const struct kv_want want[] = {
        { "ID", &out->id },
        { "VERSION_ID", &out->version_id },
        { "VERSION_CODENAME", &out->version_codename },
        { "NAME", &out->name },
        { "PRETTY_NAME", &out->pretty_name },
        { "ID_LIKE", &out->id_like },
    };
    if (parse_kv(data, a, want, ARRAY_SIZE(want)) == 0) {
        memset(out, 0, sizeof(*out));
        return diag_set(d, -ERR_INVALID, 0, "os-release: no KEY=value line");
    }
    fill_debian_codename(out);
    return 0;
}

/* First line, trimmed. */
static struct str first_line(struct str data)
{
    struct str line = STR_NULL, cur = data;
    while (str_next_line(&cur, &line)) {
        line = str_trim(line);
        if (line.len)
            return line;
    }
    return STR_NULL;
}

static bool all_chars(struct str s, const char *allowed)
{
    for (size_t i = 0; i < s.len; i++)
        if (!isalnum((unsigned char)s.ptr[i]) && !strchr(allowed, s.ptr[i]))
            return false;
    return true;
}

static int parse_debian_version(struct str data, struct arena *a, struct os_info *o, struct diag *d)
{
    struct str v = first_line(data);
    if (v.len == 0 || v.len > 64 || !all_chars(v, ".+~/-"))
        return diag_set(d, -ERR_INVALID, 0, "debian_version: '%.*s' is not a Debian version",
                        (int)(v.len > 64 ? 64 : v.len), v.ptr ? v.ptr : "");
    o->id = "debian";
    o->name = "Debian GNU/Linux";
    if (v.ptr[0] >= '0' && v.ptr[0] <= '9') {
        long dot = str_chr(v, '.');
        o->version_id = pkgdb_dup(a, dot >= 0 ? str_make(v.ptr, (size_t)dot) : v);
        o->version_codename = osrelease_debian_codename(o->version_id);
    } else {
        /* "bookworm/sid": testing or unstable, named by the next release's codename */
        long slash = str_chr(v, '/');
        o->version_codename = pkgdb_dup(a, slash >= 0 ? str_make(v.ptr, (size_t)slash) : v);
    }
    struct str parts[] = { STR_LIT("Debian GNU/Linux "), v, STR_NULL, STR_NULL, STR_NULL };
    if (o->version_codename && o->version_id) {
        parts[2] = STR_LIT(" (");
        parts[3] = str_from(o->version_codename);
        parts[4] = STR_LIT(")");
    }
    o->pretty_name = pkgdb_join(a, parts, ARRAY_SIZE(parts));
    return 0;
}

static int parse_alpine_release(struct str data, struct arena *a, struct os_info *o, struct diag *d)
{
    struct str v = first_line(data);
    if (v.len == 0 || v.len > 64 || v.ptr[0] < '0' || v.ptr[0] > '9' || !all_chars(v, "._-"))
        return diag_set(d, -ERR_INVALID, 0, "alpine-release: '%.*s' is not an Alpine version",
                        (int)(v.len > 64 ? 64 : v.len), v.ptr ? v.ptr : "");
    o->id = "alpine";
    o->name = "Alpine Linux";
    o->version_id = pkgdb_dup(a, v);
    /* "Alpine Linux v3.19": major.minor, as Alpine's own os-release writes it */
    struct str mm = v;
    long d1 = str_chr(v, '.');
    if (d1 >= 0) {
        struct str rest = str_make(v.ptr + d1 + 1, v.len - (size_t)d1 - 1);
        long d2 = str_chr(rest, '.');
        if (d2 >= 0)
            mm.len = (size_t)d1 + 1 + (size_t)d2;
    }
    struct str parts[] = { STR_LIT("Alpine Linux v"), mm };
    o->pretty_name = pkgdb_join(a, parts, ARRAY_SIZE(parts));
    return 0;
}

/* Distributions of the redhat-release family: the name prefix in the marker, the os-release
 * ID and ID_LIKE each ships, and whether its VERSION_ID keeps only the major number. */
static const struct {
    const char *prefix, *id, *id_like;
    bool major_only;
} rh_names[] = {
    { "Red Hat Enterprise Linux", "rhel", "fedora", false },
    { "CentOS", "centos", "rhel fedora", true },
    { "Rocky Linux", "rocky", "rhel centos fedora", false },
    { "AlmaLinux", "almalinux", "rhel centos fedora", false },
    { "Fedora", "fedora", NULL, false },
    { "Amazon Linux", "amzn", "centos rhel fedora", true },
    { "Oracle Linux", "ol", "fedora", false },
};

static int parse_redhat_release(struct str data, struct arena *a, struct os_info *o, struct diag *d)
{
    struct str line = first_line(data);
    const char *sep = " release ";
    size_t seplen = strlen(sep), at = 0;
    bool found = false;
    for (; line.len >= seplen && at + seplen <= line.len; at++) {
        if (memcmp(line.ptr + at, sep, seplen) == 0) {
            found = true;
            break;
        }
    }
    if (!found || at == 0)
        return diag_set(d, -ERR_INVALID, 0,
                        "redhat-release: no '<name> release <version>' in '%.*s'",
                        (int)(line.len > 80 ? 80 : line.len), line.ptr ? line.ptr : "");
    struct str name = str_make(line.ptr, at);
    struct str rest = str_make(line.ptr + at + seplen, line.len - at - seplen), ver;
    str_cut(&rest, ' ', &ver);
    if (ver.len == 0 || !all_chars(ver, "._-"))
        return diag_set(d, -ERR_INVALID, 0, "redhat-release: bad version in '%.*s'",
                        (int)(line.len > 80 ? 80 : line.len), line.ptr);
    o->name = pkgdb_dup(a, name);
    o->pretty_name = pkgdb_dup(a, line);
    long open = str_chr(rest, '(');
    if (open >= 0) {
        struct str cn = str_make(rest.ptr + open + 1, rest.len - (size_t)open - 1);
        long close = str_chr(cn, ')');
        if (close > 0)
            o->version_codename = pkgdb_dup(a, str_trim(str_make(cn.ptr, (size_t)close)));
    }
    bool major_only = false;
    for (size_t i = 0; i < ARRAY_SIZE(rh_names); i++) {
        if (str_has_prefix(name, rh_names[i].prefix)) {
            o->id = rh_names[i].id;
            o->id_like = rh_names[i].id_like;
            major_only = rh_names[i].major_only;
            break;
        }
    }
    if (major_only) {
        long dot = str_chr(ver, '.');
        if (dot >= 0)
            ver.len = (size_t)dot;
    }
    o->version_id = pkgdb_dup(a, ver);
    return 0;
}

static int parse_lsb_release(struct str data, struct arena *a, struct os_info *o, struct diag *d)
{
    const char *distrib_id = NULL;
    const struct kv_want want[] = {
        { "DISTRIB_ID", &distrib_id },
        { "DISTRIB_RELEASE", &o->version_id },
        { "DISTRIB_CODENAME", &o->version_codename },
        { "DISTRIB_DESCRIPTION", &o->pretty_name },
    };
    parse_kv(data, a, want, ARRAY_SIZE(want));
    if (!distrib_id || !*distrib_id)
        return diag_set(d, -ERR_INVALID, 0, "lsb-release: no DISTRIB_ID");
    o->name = distrib_id;
    size_t n = strlen(distrib_id);
    char *id = arena_alloc(a, n + 1);
    for (size_t i = 0; i <= n; i++)
        id[i] = (char)tolower((unsigned char)distrib_id[i]);
    o->id = id;
    fill_debian_codename(o);
    return 0;
}

int osrelease_from_marker(const char *path, struct str data, struct arena *a, struct os_info *out,
                          struct diag *d)
{
    int rc = check_input(data, path ? path : "(null)", out, d);
    if (rc < 0)
        return rc;
    const char *p = path ? path : "";
    for (;;) {
        if (p[0] == '/')
            p++;
        else if (p[0] == '.' && p[1] == '/')
            p += 2;
        else
            break;
    }
    static const char *const rh_files[] = {
        "etc/redhat-release", "etc/centos-release", "etc/rocky-release",  "etc/almalinux-release",
        "etc/fedora-release", "etc/system-release", "etc/oracle-release",
    };
    if (strcmp(p, "etc/os-release") == 0 || strcmp(p, "usr/lib/os-release") == 0)
        return osrelease_parse(data, a, out, d);
    if (strcmp(p, "etc/debian_version") == 0)
        rc = parse_debian_version(data, a, out, d);
    else if (strcmp(p, "etc/alpine-release") == 0)
        rc = parse_alpine_release(data, a, out, d);
    else if (strcmp(p, "etc/lsb-release") == 0)
        rc = parse_lsb_release(data, a, out, d);
    else {
        rc = -ERR_UNSUPPORTED;
        for (size_t i = 0; i < ARRAY_SIZE(rh_files); i++)
            if (strcmp(p, rh_files[i]) == 0)
                rc = parse_redhat_release(data, a, out, d);
        if (rc == -ERR_UNSUPPORTED)
            diag_set(d, rc, 0, "'%s' is not a known release marker", p);
    }
    if (rc < 0)
        memset(out, 0, sizeof(*out));
    return rc;
}
