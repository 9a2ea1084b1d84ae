/* SPDX-License-Identifier: Apache-2.0 */
/* PHP Composer inventories: composer.lock ("packages" and "packages-dev") and
 * vendor/composer/installed.json (Composer 1: a JSON array; Composer 2: {"packages": [...]}).
 * Names are lower-cased (Composer treats them case-insensitively and Packagist advisories
 * use lower case); versions are kept as written ("v1.2.3"; composer_vercmp normalises). */
#include <jansson.h>
#include <string.h>

#include "internal.h"
#include "lang.h"

#define PHP_MAX_PKGS 200000u

static json_t *load(struct str data, const char *path, struct diag *d, int *rc)
{
    json_error_t je;
    *rc = 0;
    if (data.len > PKGDB_MAX_DB) {
        *rc = diag_set(d, -ERR_TOO_BIG, 0, "%s: %zu bytes is over the limit", path, data.len);
        return NULL;
    }
    if (data.len >= 3 && memcmp(data.ptr, "\xef\xbb\xbf", 3) == 0) { /* UTF-8 BOM */
        data.ptr += 3;
        data.len -= 3;
    }
    json_t *root = json_loadb(data.len ? data.ptr : "", data.len,
                              JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    if (!root)
        *rc = diag_set(d, -ERR_CORRUPT, (size_t)je.position, "%s: line %d column %d: %s", path,
                       je.line, je.column, je.text);
    return root;
}

/* One array of package objects; `what` names it in messages. */
static int add_array(const json_t *arr, const char *what, const char *path, const char *dpath,
                     struct arena *a, struct pkg_list *out, size_t n0, struct diag *d)
{
    if (!json_is_array(arr))
        return diag_set(d, -ERR_CORRUPT, 0, "%s: %s is not an array", path, what);
    size_t i;
    const json_t *e;
    json_array_foreach(arr, i, e)
    {
        if (!json_is_object(e))
            return diag_set(d, -ERR_CORRUPT, 0, "%s: %s[%zu] is not an object", path, what, i);
        const json_t *jn = json_object_get(e, "name"), *jv = json_object_get(e, "version");
        if (!json_is_string(jn) || json_string_length(jn) == 0)
            return diag_set(d, -ERR_CORRUPT, 0, "%s: %s[%zu] has no string \"name\"", path, what,
                            i);
        if (!json_is_string(jv) || json_string_length(jv) == 0)
            return diag_set(d, -ERR_CORRUPT, 0, "%s: %s[%zu] (\"%.64s\") has no string \"version\"",
                            path, what, i, json_string_value(jn));
        if (out->items.n - n0 >= PHP_MAX_PKGS)
            return diag_set(d, -ERR_TOO_BIG, 0, "%s: more than %u packages", path, PHP_MAX_PKGS);
        struct str name = str_make(json_string_value(jn), json_string_length(jn));
        char *lname = arena_alloc(a, name.len + 1);
        for (size_t k = 0; k < name.len; k++) {
            char c = name.ptr[k];
            lname[k] = c >= 'A' && c <= 'Z' ? (char)(c | 0x20) : c;
        }
        lname[name.len] = '\0';
        struct pkg p = pkgdb_pkg_blank(PKG_COMPOSER, dpath);
        p.name = lname;
        p.version = pkgdb_dup(a, str_make(json_string_value(jv), json_string_length(jv)));
        p.src_name = p.name;
        p.src_version = p.version;
        p.upstream = p.version;
        VEC_PUSH(&out->items, p);
    }
    return 0;
}

int php_parse_composer_lock(struct str data, const char *path, struct arena *a,
                            struct pkg_list *out, struct diag *d)
{
    size_t n0 = out->items.n;
    int rc;
    if (!path)
        path = "";
    json_t *root = load(data, path, d, &rc);
    if (!root)
        return rc;
    const char *dpath = arena_strdup(a, path);
    if (!json_is_object(root)) {
        rc = diag_set(d, -ERR_CORRUPT, 0, "%s: top level is not a JSON object", path);
        goto out;
    }
    static const char *const keys[] = { "packages", "packages-dev" };
    for (size_t k = 0; k < ARRAY_SIZE(keys) && rc == 0; k++) {
        const json_t *arr = json_object_get(root, keys[k]);
        /* "packages-dev" is null in a lock written with --no-dev */
        if (arr && !json_is_null(arr))
            rc = add_array(arr, keys[k], path, dpath, a, out, n0, d);
    }
out:
    json_decref(root);
    return pkgdb_rollback(out, n0, rc);
}

int php_parse_installed_json(struct str data, const char *path, struct arena *a,
                             struct pkg_list *out, struct diag *d)
{
    size_t n0 = out->items.n;
    int rc;
    if (!path)
        path = "";
    json_t *root = load(data, path, d, &rc);
    if (!root)
        return rc;
    const char *dpath = arena_strdup(a, path);
    if (json_is_array(root)) { /* Composer 1 */
        rc = add_array(root, "top-level array", path, dpath, a, out, n0, d);
    } else if (json_is_object(root)) { /* Composer 2 */
        const json_t *arr = json_object_get(root, "packages");
        if (!arr)
            rc = diag_set(d, -ERR_CORRUPT, 0, "%s: no \"packages\" array", path);
        else
            rc = add_array(arr, "packages", path, dpath, a, out, n0, d);
    } else {
        rc = diag_set(d, -ERR_CORRUPT, 0, "%s: top level is neither an array nor an object", path);
    }
    json_decref(root);
    return pkgdb_rollback(out, n0, rc);
}
