/* SPDX-License-Identifier: Apache-2.0 */
/* Repository names, tags and /v2/ request paths. Paths are split from the end because a
 * repository name may itself contain "blobs" or "manifests" as a component. */
#include <string.h>

#include "registry/internal.h"

static bool is_alnum_lower(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* One component: [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)* */
static bool component_ok(const char *p, size_t n)
{
    if (n == 0 || !is_alnum_lower(p[0]) || !is_alnum_lower(p[n - 1]))
        return false;
    size_t i = 0;
    while (i < n) {
        if (is_alnum_lower(p[i])) {
            i++;
            continue;
        }
        /* a separator run: ".", "_", "__" or one or more "-" */
        size_t j = i;
        if (p[i] == '.') {
            j = i + 1;
        } else if (p[i] == '_') {
            j = i + 1;
            if (j < n && p[j] == '_')
                j++;
        } else if (p[i] == '-') {
            while (j < n && p[j] == '-')
                j++;
        } else {
            return false;
        }
        if (j >= n || !is_alnum_lower(p[j]))
            return false;
        i = j;
    }
    return true;
}

bool reg_name_is_valid(const char *name, size_t len)
{
    if (!name || len == 0 || len > REG_NAME_MAX)
        return false;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || name[i] == '/') {
            if (!component_ok(name + start, i - start))
                return false;
            start = i + 1;
        }
    }
    return true;
}

bool reg_tag_is_valid(const char *tag, size_t len)
{
    if (!tag || len == 0 || len > 128)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = tag[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || (i > 0 && (c == '.' || c == '-'));
        if (!ok)
            return false;
    }
    return true;
}

static bool cut_suffix(struct str *s, const char *suffix)
{
    if (!str_has_suffix(*s, suffix))
        return false;
    s->len -= strlen(suffix);
    return true;
}

int reg_route_parse(struct str path, struct reg_route *out)
{
    memset(out, 0, sizeof(*out));
    if (str_eq_cstr(path, "/v2/") || str_eq_cstr(path, "/v2")) {
        out->kind = REG_ROUTE_BASE;
        return 0;
    }
    if (!str_has_prefix(path, "/v2/"))
        return -ERR_NOT_FOUND;
    struct str rest = str_make(path.ptr + 4, path.len - 4);
    if (str_eq_cstr(rest, "_catalog")) {
        out->kind = REG_ROUTE_CATALOG;
        return 0;
    }

    struct str name = rest;
    if (cut_suffix(&name, "/tags/list")) {
        out->kind = REG_ROUTE_TAGS;
    } else {
        /* the last segment is the argument; what precedes it says which resource */
        size_t slash = rest.len;
        while (slash > 0 && rest.ptr[slash - 1] != '/')
            slash--;
        if (slash == 0)
            return -ERR_NOT_FOUND;
        out->arg = str_make(rest.ptr + slash, rest.len - slash);
        name = str_make(rest.ptr, slash - 1);
        if (cut_suffix(&name, "/blobs/uploads")) {
            out->kind = out->arg.len ? REG_ROUTE_UPLOAD : REG_ROUTE_UPLOADS;
        } else if (str_eq_cstr(out->arg, "uploads") && cut_suffix(&name, "/blobs")) {
            out->kind = REG_ROUTE_UPLOADS; /* POST .../blobs/uploads without the slash */
            out->arg = STR_NULL;
        } else if (cut_suffix(&name, "/blobs")) {
            out->kind = REG_ROUTE_BLOB;
        } else if (cut_suffix(&name, "/manifests")) {
            out->kind = REG_ROUTE_MANIFEST;
        } else if (cut_suffix(&name, "/referrers")) {
            out->kind = REG_ROUTE_REFERRERS;
        } else {
            return -ERR_NOT_FOUND;
        }
    }
    out->name = name;
    return reg_name_is_valid(name.ptr, name.len) ? 0 : -ERR_INVALID;
}
