/* SPDX-License-Identifier: Apache-2.0 */
/* .NET inventories: the *.deps.json an application ships beside its assemblies (NuGet
 * packages and, in self-contained apps, the runtime pack) and NuGet's packages.lock.json. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "lang.h"

#define DOTNET_MAX_PKGS 200000u

static void push_nuget(struct arena *a, struct pkg_list *out, const char *path, struct str name,
                       struct str version)
{
    struct pkg p = pkgdb_pkg_blank(PKG_NUGET, path);
    p.name = pkgdb_dup(a, name);
    p.version = pkgdb_dup(a, version);
    p.src_name = p.name;
    p.src_version = p.version;
    p.upstream = p.version;
    VEC_PUSH(&out->items, p);
}

static json_t *load(struct str data, const char *path, struct diag *d, int *rc)
{
    json_error_t je;
    *rc = 0;
    if (data.len > PKGDB_MAX_DB) {
        *rc = diag_set(d, -ERR_TOO_BIG, 0, "%s: %zu bytes is over the limit", path, data.len);
        return NULL;
    }
    /* a UTF-8 byte-order mark is common in files written by Windows tools */
    if (data.len >= 3 && memcmp(data.ptr, "\xef\xbb\xbf", 3) == 0) {
        data.ptr += 3;
        data.len -= 3;
    }
    json_t *root = json_loadb(data.ptr, data.len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        *rc = diag_set(d, -ERR_CORRUPT, (size_t)je.position, "%s: line %d column %d: %s", path,
                       je.line, je.column, je.text);
        return NULL;
    }
    if (!json_is_object(root)) {
        *rc = diag_set(d, -ERR_CORRUPT, 0, "%s: top level is not a JSON object", path);
        json_decref(root);
        return NULL;
    }
    return root;
}

int dotnet_parse_deps_json(struct str data, const char *path, struct arena *a, struct pkg_list *out,
                           struct diag *d)
{
    size_t n0 = out->items.n;
    int rc;
    if (!path)
        path = "";
    json_t *root = load(data, path, d, &rc);
    if (!root)
        return rc;
    json_t *libs = json_object_get(root, "libraries");
    const char *dpath = arena_strdup(a, path);
    if (!libs)
        goto out; /* a deps.json without libraries lists nothing */
    if (!json_is_object(libs)) {
        rc = diag_set(d, -ERR_CORRUPT, 0, "%s: \"libraries\" is not an object", path);
        goto out;
    }
    const char *key;
    json_t *lib;
    json_object_foreach(libs, key, lib)
    {
        if (!json_is_object(lib)) {
            rc = diag_set(d, -ERR_CORRUPT, 0, "%s: libraries[\"%.64s\"] is not an object", path,
                          key);
            goto out;
        }
        const char *type = json_string_value(json_object_get(lib, "type"));
        if (!type) {
            rc = diag_set(d, -ERR_CORRUPT, 0, "%s: libraries[\"%.64s\"] has no string \"type\"",
                          path, key);
            goto out;
        }
        struct str k = str_from(key), name;
        bool slash = str_cut(&k, '/', &name);
        if (!slash || name.len == 0 || k.len == 0) {
            rc = diag_set(d, -ERR_CORRUPT, 0, "%s: libraries key \"%.64s\" is not Name/Version",
                          path, key);
            goto out;
        }
        /* "project" and "reference" entries are the application's own code */
        if (strcmp(type, "runtimepack") == 0) {
            /* self-contained apps carry the runtime as "runtimepack.<pack id>/<version>";
             * advisories name the pack (Microsoft.NETCore.App.Runtime.linux-x64) */
            if (str_has_prefix(name, "runtimepack."))
                name = str_make(name.ptr + 12, name.len - 12);
        } else if (strcmp(type, "package") != 0) {
            continue;
        }
        if (out->items.n - n0 >= DOTNET_MAX_PKGS) {
            rc = diag_set(d, -ERR_TOO_BIG, 0, "%s: more than %u libraries", path, DOTNET_MAX_PKGS);
            goto out;
        }
        push_nuget(a, out, dpath, name, k);
    }
out:
    json_decref(root);
    return pkgdb_rollback(out, n0, rc);
}

int dotnet_parse_packages_lock(struct str data, const char *path, struct arena *a,
                               struct pkg_list *out, struct diag *d)
{
    size_t n0 = out->items.n;
    int rc;
    if (!path)
        path = "";
    json_t *root = load(data, path, d, &rc);
    if (!root)
        return rc;
    json_t *seen = json_object();
    const char *dpath = arena_strdup(a, path);
    json_t *deps = json_object_get(root, "dependencies");
    if (!json_is_object(deps)) {
        rc = diag_set(d, -ERR_CORRUPT, 0, "%s: no \"dependencies\" object", path);
        goto out;
    }
    const char *tfm, *name;
    json_t *pkgs, *p;
    /* one object per target framework ("net6.0", "net6.0/linux-x64"); the same package is
     * usually listed under several and reported once */
    json_object_foreach(deps, tfm, pkgs)
    {
        if (!json_is_object(pkgs)) {
            rc = diag_set(d, -ERR_CORRUPT, 0, "%s: dependencies[\"%.64s\"] is not an object", path,
                          tfm);
            goto out;
        }
        json_object_foreach(pkgs, name, p)
        {
            if (!json_is_object(p)) {
                rc = diag_set(d, -ERR_CORRUPT, 0,
                              "%s: dependencies[\"%.64s\"][\"%.64s\"] is not an object", path, tfm,
                              name);
                goto out;
            }
            const char *type = json_string_value(json_object_get(p, "type"));
            json_t *res = json_object_get(p, "resolved");
            if (type && strcmp(type, "Project") == 0)
                continue;
            if (!json_is_string(res) || json_string_length(res) == 0 || !name[0]) {
                rc = diag_set(d, -ERR_CORRUPT, 0,
                              "%s: dependencies[\"%.64s\"][\"%.64s\"] has no \"resolved\" "
                              "version",
                              path, tfm, name);
                goto out;
            }
            char key[512];
            int kn = snprintf(key, sizeof(key), "%s/%s", name, json_string_value(res));
            if (kn > 0 && (size_t)kn < sizeof(key)) {
                if (json_object_get(seen, key))
                    continue;
                json_object_set_new(seen, key, json_true());
            }
            if (out->items.n - n0 >= DOTNET_MAX_PKGS) {
                rc = diag_set(d, -ERR_TOO_BIG, 0, "%s: more than %u packages", path,
                              DOTNET_MAX_PKGS);
                goto out;
            }
            push_nuget(a, out, dpath, str_from(name),
                       str_make(json_string_value(res), json_string_length(res)));
        }
    }
out:
    json_decref(seen);
    json_decref(root);
    return pkgdb_rollback(out, n0, rc);
}
