/* SPDX-License-Identifier: Apache-2.0 */
/* npm inventories: installed package.json files, package-lock.json (v1 tree, v2/v3 map),
 * yarn.lock (v1's own format, berry's YAML) and pnpm-lock.yaml (v5, v6, v9). Every package a
 * file records is reported, dev and optional ones included (as ECR and Inspector do; Trivy
 * leaves dev out by default), once per name and version; local ones (workspace, link, file,
 * portal protocols) and dependencies with no version number (git URLs in a v1 lock) are
 * not. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "internal.h"
#include "lang.h"
#include "npm_yaml.h"

/* An installed package.json is small (npm up to v4 copied the README into it: some
 * hundred KB); lockfiles of big monorepos reach tens of MB. */
#define NPM_MAX_MANIFEST (16u << 20)
#define NPM_MAX_LOCK     (256u << 20)
/* lockfile v1 nests "dependencies" as deep as node_modules directories go */
#define NPM_MAX_NESTING 256

/* ---- the package sink: arena copies, one entry per name and version ---------------------- */

struct sink {
    struct arena *a;
    struct pkg_list *out;
    const char *path; /* arena copy of the file's path */
    size_t n0;        /* out->items.n on entry */
    uint32_t *slots;  /* open addressing: index into out->items + 1, 0 = empty */
    size_t cap, used;
};

static void sink_init(struct sink *s, struct arena *a, struct pkg_list *out, const char *path)
{
    s->a = a;
    s->out = out;
    s->path = arena_strdup(a, path ? path : "");
    s->n0 = out->items.n;
    s->slots = NULL;
    s->cap = s->used = 0;
}

static uint64_t pkg_hash(struct str name, struct str version)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < name.len; i++)
        h = (h ^ (unsigned char)name.ptr[i]) * 0x100000001b3u;
    h = (h ^ 0xff) * 0x100000001b3u;
    for (size_t i = 0; i < version.len; i++)
        h = (h ^ (unsigned char)version.ptr[i]) * 0x100000001b3u;
    return h;
}

/* True when slot i of the table holds (name, version). */
static bool slot_is(const struct sink *s, size_t i, struct str name, struct str version)
{
    const struct pkg *p = &s->out->items.v[s->slots[i] - 1];
    return str_eq_cstr(name, p->name) && str_eq_cstr(version, p->version);
}

static void sink_grow(struct sink *s)
{
    size_t cap = s->cap ? s->cap * 2 : 64;
    uint32_t *slots = xcalloc(cap, sizeof(*slots));
    for (size_t k = s->n0; k < s->out->items.n; k++) {
        const struct pkg *p = &s->out->items.v[k];
        size_t i = pkg_hash(str_from(p->name), str_from(p->version)) & (cap - 1);
        while (slots[i])
            i = (i + 1) & (cap - 1);
        slots[i] = (uint32_t)(k + 1);
    }
    free(s->slots);
    s->slots = slots;
    s->cap = cap;
}

/* Append a package unless the file already gave the same name and version. Callers skip
 * entries without a name or version. */
static void sink_add(struct sink *s, struct str name, struct str version, struct str license)
{
    if ((s->used + 1) * 2 > s->cap)
        sink_grow(s);
    size_t i = pkg_hash(name, version) & (s->cap - 1);
    while (s->slots[i]) {
        if (slot_is(s, i, name, version))
            return;
        i = (i + 1) & (s->cap - 1);
    }
    struct pkg p = pkgdb_pkg_blank(PKG_NPM, s->path);
    p.name = pkgdb_dup(s->a, name);
    p.version = pkgdb_dup(s->a, version);
    p.src_name = p.name;
    p.src_version = p.version;
    p.upstream = p.version;
    p.license = pkgdb_dup(s->a, license);
    VEC_PUSH(&s->out->items, p);
    s->slots[i] = (uint32_t)s->out->items.n; /* index + 1 */
    s->used++;
}

/* Release the table; on error, cut the list back to what it was. */
static int sink_done(struct sink *s, int rc)
{
    free(s->slots);
    s->slots = NULL;
    return pkgdb_rollback(s->out, s->n0, rc);
}

/* ---- shared helpers ---------------------------------------------------------------------- */

/* A version as a registry publishes it: no protocol, path or URL ("git+https://...",
 * "file:../x", "github:user/repo#sha", "user/repo" are not versions). */
static bool looks_like_version(struct str v)
{
    return v.len > 0 && str_chr(v, ':') < 0 && str_chr(v, '/') < 0 && str_chr(v, ' ') < 0;
}

/* Split "name@rest" at the '@' that ends the name (a scope's leading '@' is part of it).
 * False when there is no such '@'. */
static bool split_at(struct str spec, struct str *name, struct str *rest)
{
    if (!spec.ptr || spec.len < 2)
        return false;
    const char *at = memchr(spec.ptr + 1, '@', spec.len - 1);
    if (!at)
        return false;
    *name = str_make(spec.ptr, (size_t)(at - spec.ptr));
    *rest = str_make(at + 1, spec.len - (size_t)(at - spec.ptr) - 1);
    return true;
}

/* "npm:real@1.2.3" (an alias) -> real, 1.2.3; false for anything else. */
static bool npm_alias(struct str v, struct str *name, struct str *version)
{
    if (!str_has_prefix(v, "npm:"))
        return false;
    return split_at(str_make(v.ptr + 4, v.len - 4), name, version) && version->len > 0;
}

/* Protocols of packages that live in the project itself, not in a registry ("patch:" is
 * yarn's patched copy of a package that has an npm: entry of its own). */
static bool is_local_protocol(struct str ref)
{
    static const char *const local[] = { "workspace:", "link:", "portal:",
                                         "file:",      "exec:", "patch:" };
    for (size_t i = 0; i < sizeof(local) / sizeof(local[0]); i++)
        if (str_has_prefix(ref, local[i]))
            return true;
    return false;
}

/* A name or version: non-empty and without a NUL (JSON can spell one as "\u0000"). */
static bool usable(struct str s)
{
    return s.len > 0 && memchr(s.ptr, '\0', s.len) == NULL;
}

/* ---- JSON: package.json and package-lock.json -------------------------------------------- */

static int load_json(struct str data, const char *path, size_t cap, json_t **out, struct diag *d)
{
    *out = NULL;
    if (data.len > cap)
        return diag_set(d, -ERR_TOO_BIG, 0, "%s: %zu bytes is over the %zu-byte limit", path,
                        data.len, cap);
    size_t skip = 0;
    if (data.len >= 3 && memcmp(data.ptr, "\xEF\xBB\xBF", 3) == 0)
        skip = 3; /* npm strips a byte-order mark too */
    json_error_t e;
    json_t *j =
        json_loadb(data.len ? data.ptr + skip : "", data.len - skip, JSON_REJECT_DUPLICATES, &e);
    if (!j)
        return diag_set(d, -ERR_CORRUPT, skip + (size_t)e.position, "%s: line %d column %d: %s",
                        path, e.line, e.column, e.text);
    if (!json_is_object(j)) {
        json_decref(j);
        return diag_set(d, -ERR_CORRUPT, skip, "%s: not a JSON object", path);
    }
    *out = j;
    return 0;
}

/* A JSON string member as a slice (empty when absent or not a string). */
static struct str jstr(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_string(v))
        return STR_NULL;
    return str_make(json_string_value(v), json_string_length(v));
}

/* "license": "MIT", or the old {"type": "MIT"} form. */
static struct str jlicense(const json_t *o)
{
    const json_t *l = json_object_get(o, "license");
    struct str s = json_is_object(l) ? jstr(l, "type") : jstr(o, "license");
    return usable(s) ? s : STR_NULL;
}

int npm_parse_package_json(struct str data, const char *path, struct arena *a, struct pkg_list *out,
                           struct diag *d)
{
    json_t *root;
    path = path ? path : "";
    int rc = load_json(data, path, NPM_MAX_MANIFEST, &root, d);
    if (rc < 0)
        return rc;
    struct sink s;
    sink_init(&s, a, out, path);
    /* a project's own package.json may have no version: then it is not an installed package */
    struct str name = jstr(root, "name"), version = jstr(root, "version");
    if (usable(name) && usable(version))
        sink_add(&s, name, version, jlicense(root));
    json_decref(root);
    return sink_done(&s, 0);
}

/* lockfileVersion 1: {"dependencies": {name: {version, dependencies: {...}}}} to any depth. */
static int lock_v1(struct sink *s, json_t *deps, int depth, struct diag *d)
{
    if (depth > NPM_MAX_NESTING)
        return diag_set(d, -ERR_TOO_BIG, 0, "%s: dependencies nested deeper than %d levels",
                        s->path, NPM_MAX_NESTING);
    const char *key;
    json_t *e;
    json_object_foreach(deps, key, e)
    {
        if (!json_is_object(e))
            return diag_set(d, -ERR_CORRUPT, 0, "%s: dependencies[\"%s\"] is not an object",
                            s->path, key);
        struct str name = str_from(key), version = jstr(e, "version"), rn, rv;
        if (npm_alias(version, &rn, &rv)) {
            name = rn;
            version = rv;
        }
        if (usable(name) && usable(version) && looks_like_version(version))
            sink_add(s, name, version, STR_NULL);
        json_t *sub = json_object_get(e, "dependencies");
        if (sub && !json_is_object(sub))
            return diag_set(d, -ERR_CORRUPT, 0,
                            "%s: dependencies[\"%s\"].dependencies is not an object", s->path, key);
        if (sub) {
            int rc = lock_v1(s, sub, depth + 1, d);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

/* lockfileVersion 2/3: {"packages": {"node_modules/a/node_modules/b": {version, name?}}}. */
static int lock_v2(struct sink *s, json_t *packages, struct diag *d)
{
    const char *key;
    json_t *e;
    json_object_foreach(packages, key, e)
    {
        if (!json_is_object(e))
            return diag_set(d, -ERR_CORRUPT, 0, "%s: packages[\"%s\"] is not an object", s->path,
                            key);
        if (key[0] == '\0' || json_is_true(json_object_get(e, "link")))
            continue; /* the project itself; a symlink to a package listed under its own key */
        struct str version = jstr(e, "version"), name = jstr(e, "name");
        if (!usable(name)) {
            /* the directory after the last node_modules/ ("@scope/x" for scoped packages) */
            const char *nm = NULL;
            for (const char *p = key; (p = strstr(p, "node_modules/")) != NULL; p++)
                nm = p;
            if (!nm)
                continue; /* a workspace directory without a name: nothing to call it */
            name = str_from(nm + strlen("node_modules/"));
        }
        if (usable(name) && usable(version))
            sink_add(s, name, version, jlicense(e));
    }
    return 0;
}

int npm_parse_package_lock(struct str data, const char *path, struct arena *a, struct pkg_list *out,
                           struct diag *d)
{
    json_t *root;
    path = path ? path : "";
    int rc = load_json(data, path, NPM_MAX_LOCK, &root, d);
    if (rc < 0)
        return rc;
    struct sink s;
    sink_init(&s, a, out, path);

    json_t *lv = json_object_get(root, "lockfileVersion");
    json_t *packages = json_object_get(root, "packages");
    json_t *deps = json_object_get(root, "dependencies");
    if (lv && !json_is_integer(lv)) {
        rc = diag_set(d, -ERR_CORRUPT, 0, "%s: lockfileVersion is not an integer", path);
    } else if (packages && !json_is_object(packages)) {
        rc = diag_set(d, -ERR_CORRUPT, 0, "%s: \"packages\" is not an object", path);
    } else if (deps && !json_is_object(deps)) {
        rc = diag_set(d, -ERR_CORRUPT, 0, "%s: \"dependencies\" is not an object", path);
    } else if (packages && (!lv || json_integer_value(lv) >= 2)) {
        /* v2 carries the v1 tree too, for old npm; the map is the complete one */
        rc = lock_v2(&s, packages, d);
    } else if (deps) {
        rc = lock_v1(&s, deps, 0, d);
    }
    json_decref(root);
    return sink_done(&s, rc);
}

/* ---- yarn.lock ------------------------------------------------------------------------- */

/* A line of a text lockfile with its offset and 1-based number, for diagnostics. */
struct yline {
    struct str text; /* without the line break */
    size_t off, no;
};

static bool next_yline(struct str *cur, const char *base, struct yline *l)
{
    if (cur->len == 0)
        return false;
    l->off = (size_t)(cur->ptr - base);
    l->no++;
    str_next_line(cur, &l->text);
    return true;
}

/* One token of a yarn v1 line at *p: a double-quoted string (JSON escapes, kept raw: the
 * names and versions we read never contain escapes) or a bare word up to a blank, ',' or
 * a ':' that ends the line. */
static bool yarn_token(struct str line, size_t *p, struct str *tok)
{
    size_t i = *p;
    if (i < line.len && line.ptr[i] == '"') {
        size_t j = i + 1;
        while (j < line.len && line.ptr[j] != '"')
            j += line.ptr[j] == '\\' ? 2 : 1;
        if (j >= line.len)
            return false;
        *tok = str_make(line.ptr + i + 1, j - i - 1);
        *p = j + 1;
        return true;
    }
    size_t j = i;
    while (j < line.len && line.ptr[j] != ' ' && line.ptr[j] != ',' &&
           !(line.ptr[j] == ':' && j + 1 == line.len))
        j++;
    if (j == i)
        return false;
    *tok = str_make(line.ptr + i, j - i);
    *p = j;
    return true;
}

struct yarn_entry {
    bool open;
    struct str spec;    /* the first "name@range" of the header */
    struct str version; /* the "version" field */
};

static void yarn_emit(struct sink *s, const struct yarn_entry *e)
{
    struct str name, range, rn, rv;
    if (!e->open || !usable(e->version) || !split_at(e->spec, &name, &range))
        return;
    if (is_local_protocol(range))
        return;
    if (npm_alias(range, &rn, &rv)) /* "alias@npm:real@^1.0.0" installs real */
        name = rn;
    if (looks_like_version(e->version))
        sink_add(s, name, e->version, STR_NULL);
}

/* yarn v1: "spec, spec:" headers in column 1, two-space indented "key value" fields,
 * deeper lines under "dependencies:"-style keys. */
static int yarn_v1(struct sink *s, struct str data, struct diag *d)
{
    struct str cur = data;
    struct yline l = { 0 };
    struct yarn_entry e = { 0 };
    bool in_sub = false; /* inside a "key:" block of the current entry */
    while (next_yline(&cur, data.ptr, &l)) {
        struct str t = l.text;
        size_t ind = 0;
        while (ind < t.len && t.ptr[ind] == ' ')
            ind++;
        if (ind == t.len || t.ptr[ind] == '#')
            continue;
        if (t.ptr[ind] == '\t')
            return diag_set(d, -ERR_CORRUPT, l.off + ind, "%s: line %zu: TAB in indentation",
                            s->path, l.no);
        while (t.len > ind && (t.ptr[t.len - 1] == ' ' || t.ptr[t.len - 1] == '\t'))
            t.len--;
        if (ind == 0) {
            yarn_emit(s, &e);
            struct str spec;
            size_t p = 0;
            if (t.ptr[t.len - 1] != ':')
                return diag_set(d, -ERR_CORRUPT, l.off, "%s: line %zu: expected 'spec:'", s->path,
                                l.no);
            if (!yarn_token(t, &p, &spec))
                return diag_set(d, -ERR_CORRUPT, l.off, "%s: line %zu: bad entry header", s->path,
                                l.no);
            e = (struct yarn_entry){ .open = true, .spec = spec };
            in_sub = false;
            continue;
        }
        if (!e.open)
            return diag_set(d, -ERR_CORRUPT, l.off, "%s: line %zu: field outside an entry", s->path,
                            l.no);
        if (ind > 2 && in_sub)
            continue; /* dependencies and the like */
        if (ind != 2)
            return diag_set(d, -ERR_CORRUPT, l.off + ind, "%s: line %zu: bad indentation", s->path,
                            l.no);
        size_t p = ind;
        struct str key, value;
        if (!yarn_token(t, &p, &key))
            return diag_set(d, -ERR_CORRUPT, l.off + ind, "%s: line %zu: bad field", s->path, l.no);
        if (p + 1 == t.len && t.ptr[p] == ':') {
            in_sub = true;
            continue;
        }
        in_sub = false;
        if (p >= t.len || t.ptr[p] != ' ')
            return diag_set(d, -ERR_CORRUPT, l.off + p, "%s: line %zu: expected 'key value'",
                            s->path, l.no);
        p++;
        if (!yarn_token(t, &p, &value) || p != t.len)
            return diag_set(d, -ERR_CORRUPT, l.off + p, "%s: line %zu: bad value", s->path, l.no);
        if (str_eq_cstr(key, "version"))
            e.version = value;
    }
    yarn_emit(s, &e);
    return 0;
}

/* The documents of a YAML lockfile; the message of an error names the file. */
static int yaml_load(struct str data, const char *path, struct arena *a, struct yaml_node **docs,
                     struct diag *d)
{
    int rc = yaml_parse(data, a, docs, d);
    if (rc < 0 && d) {
        char msg[sizeof(d->msg)];
        snprintf(msg, sizeof(msg), "%s", d->msg);
        diag_set(d, rc, d->offset, "%s: %s", path, msg);
    }
    return rc;
}

/* yarn berry: a YAML mapping of "spec, spec" -> {version, resolution, ...}, plus
 * __metadata. The resolution ("name@npm:1.2.3") names the package. */
static int yarn_berry(struct sink *s, struct str data, struct diag *d)
{
    struct yaml_node *docs;
    int rc = yaml_load(data, s->path, s->a, &docs, d);
    if (rc < 0)
        return rc;
    if (!docs || docs->next || docs->kind != YAML_MAP)
        return diag_set(d, -ERR_CORRUPT, 0, "%s: not a single YAML mapping", s->path);
    for (const struct yaml_node *e = docs->child; e; e = e->next) {
        if (str_eq_cstr(e->key, "__metadata"))
            continue;
        if (e->kind != YAML_MAP)
            return diag_set(d, -ERR_CORRUPT, 0, "%s: line %zu: entry '%.*s' is not a mapping",
                            s->path, e->line, STR_FMT(e->key));
        const struct str *res = yaml_get_str(e, "resolution");
        const struct str *ver = yaml_get_str(e, "version");
        struct str name, ref, version;
        if (!res || !split_at(*res, &name, &ref))
            return diag_set(d, -ERR_CORRUPT, 0, "%s: line %zu: entry '%.*s' has no resolution",
                            s->path, e->line, STR_FMT(e->key));
        if (is_local_protocol(ref))
            continue;
        if (str_has_prefix(ref, "npm:"))
            version = str_make(ref.ptr + 4, ref.len - 4);
        else if (ver) /* git, http(s) tarballs: the version their package.json gives */
            version = *ver;
        else
            continue;
        if (usable(version) && looks_like_version(version))
            sink_add(s, name, version, STR_NULL);
    }
    return 0;
}

/* berry writes "__metadata:" as a top-level key; v1 has no such line. */
static bool is_berry(struct str data)
{
    struct str cur = data, line;
    while (str_next_line(&cur, &line))
        if (str_has_prefix(line, "__metadata:"))
            return true;
    return false;
}

int npm_parse_yarn_lock(struct str data, const char *path, struct arena *a, struct pkg_list *out,
                        struct diag *d)
{
    path = path ? path : "";
    if (data.len > NPM_MAX_LOCK)
        return diag_set(d, -ERR_TOO_BIG, 0, "%s: %zu bytes is over the %u-byte limit", path,
                        data.len, NPM_MAX_LOCK);
    size_t where;
    if (pkgdb_has_nul(data, &where))
        return diag_set(d, -ERR_CORRUPT, where, "%s: NUL byte at offset %zu", path, where);
    struct sink s;
    sink_init(&s, a, out, path);
    int rc = is_berry(data) ? yarn_berry(&s, data, d) : yarn_v1(&s, data, d);
    return sink_done(&s, rc);
}

/* ---- pnpm-lock.yaml -------------------------------------------------------------------- */

/* Name and version from a key of `packages`: v5 "/name/1.2.3_peer@1", "/@s/name/1.2.3";
 * v6 "/name@1.2.3(peer@1)"; v9 "name@1.2.3", "@s/name@1.2.3". A registry host may lead
 * ("registry.example.com/name/1.2.3"). */
static bool pnpm_key(struct str key, int major, struct str *name, struct str *version)
{
    if (key.len && key.ptr[0] == '/') {
        key.ptr++;
        key.len--;
    }
    long paren = str_chr(key, '(');
    if (paren >= 0)
        key.len = (size_t)paren;
    struct str path;
    if (major < 6) {
        const char *slash = key.len ? memrchr(key.ptr, '/', key.len) : NULL;
        if (!slash)
            return false;
        path = str_make(key.ptr, (size_t)(slash - key.ptr));
        *version = str_make(slash + 1, key.len - (size_t)(slash - key.ptr) - 1);
        long us = str_chr(*version, '_');
        if (us >= 0)
            version->len = (size_t)us;
    } else {
        const char *at = key.len > 1 ? memrchr(key.ptr + 1, '@', key.len - 1) : NULL;
        if (!at)
            return false;
        path = str_make(key.ptr, (size_t)(at - key.ptr));
        *version = str_make(at + 1, key.len - (size_t)(at - key.ptr) - 1);
    }
    /* the name is the last path segment, or the last two when the first of them is a scope */
    const char *last = path.len ? memrchr(path.ptr, '/', path.len) : NULL;
    if (last && last > path.ptr) {
        const char *prev = memrchr(path.ptr, '/', (size_t)(last - path.ptr));
        const char *seg = prev ? prev + 1 : path.ptr;
        if (*seg == '@')
            last = prev;
    }
    if (last)
        path = str_make(last + 1, path.len - (size_t)(last + 1 - path.ptr));
    *name = path;
    return name->len > 0 && version->len > 0;
}

/* "5.4", 5.4, '6.0', "9.0" -> 5, 6, 9; -1 when not a number. */
static int lockfile_major(struct str v)
{
    size_t n = 0;
    int major = 0;
    while (n < v.len && n < 4 && v.ptr[n] >= '0' && v.ptr[n] <= '9')
        major = major * 10 + (v.ptr[n++] - '0');
    if (n == 0 || (n < v.len && v.ptr[n] != '.'))
        return -1;
    return major;
}

static int pnpm_packages(struct sink *s, const struct yaml_node *packages, int major,
                         struct diag *d)
{
    for (const struct yaml_node *e = packages->child; e; e = e->next) {
        if (e->kind != YAML_MAP)
            return diag_set(d, -ERR_CORRUPT, 0, "%s: line %zu: package '%.*s' is not a mapping",
                            s->path, e->line, STR_FMT(e->key));
        struct str key = e->key, kname = STR_NULL, kver = STR_NULL, name, version;
        if (is_local_protocol(key))
            continue;
        bool have_key = pnpm_key(key, major, &kname, &kver);
        /* local directories: "name@file:dir" keys, {directory: ...} resolutions */
        const struct yaml_node *res = yaml_get(e, "resolution");
        if ((have_key && is_local_protocol(kver)) || yaml_get(res, "directory"))
            continue;
        /* tarball and git dependencies carry their name and version as fields */
        const struct str *fname = yaml_get_str(e, "name"), *fver = yaml_get_str(e, "version");
        name = fname && fname->len ? *fname : kname;
        version = fver && fver->len ? *fver : kver;
        if (!name.len || !version.len)
            return diag_set(d, -ERR_CORRUPT, 0,
                            "%s: line %zu: cannot read a name and version from '%.*s'", s->path,
                            e->line, STR_FMT(key));
        if (looks_like_version(version))
            sink_add(s, name, version, STR_NULL);
    }
    return 0;
}

int npm_parse_pnpm_lock(struct str data, const char *path, struct arena *a, struct pkg_list *out,
                        struct diag *d)
{
    path = path ? path : "";
    if (data.len > NPM_MAX_LOCK)
        return diag_set(d, -ERR_TOO_BIG, 0, "%s: %zu bytes is over the %u-byte limit", path,
                        data.len, NPM_MAX_LOCK);
    struct sink s;
    sink_init(&s, a, out, path);
    struct yaml_node *docs;
    int rc = yaml_load(data, s.path, a, &docs, d);
    if (rc < 0)
        return sink_done(&s, rc);

    /* pnpm 9.7+ may put an "env" document (config dependencies) before the lockfile: the
     * last document with a lockfileVersion is the lockfile */
    const struct yaml_node *doc = NULL;
    for (const struct yaml_node *n = docs; n; n = n->next)
        if (yaml_get_str(n, "lockfileVersion"))
            doc = n;
    const struct str *lv = doc ? yaml_get_str(doc, "lockfileVersion") : NULL;
    const struct yaml_node *packages = doc ? yaml_get(doc, "packages") : NULL;
    int major = lv ? lockfile_major(*lv) : -1;
    if (!lv)
        rc = diag_set(d, -ERR_CORRUPT, 0, "%s: no lockfileVersion", path);
    else if (major < 0)
        rc = diag_set(d, -ERR_CORRUPT, 0, "%s: lockfileVersion '%.*s' is not a number", path,
                      STR_FMT(*lv));
    else if (!packages || (packages->kind == YAML_SCALAR && packages->str.len == 0))
        rc = 0; /* no dependencies */
    else if (packages->kind != YAML_MAP)
        rc = diag_set(d, -ERR_CORRUPT, 0, "%s: line %zu: packages is not a mapping", path,
                      packages->line);
    else
        rc = pnpm_packages(&s, packages, major, d);
    return sink_done(&s, rc);
}
