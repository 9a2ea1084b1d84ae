/* SPDX-License-Identifier: Apache-2.0 */
/* Language-package file rules and the analyze hook. */
#include "scan/lang_scan.h"

#include <string.h>
#include <strings.h>

#include "base/arena.h"
#include "pkgdb/codec.h"
#include "pkgdb/lang.h"

/* Executables smaller than this hold no Go build info or cargo-auditable section worth it. */
#define EXEC_MIN_BYTES 4096

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static bool has_suffix_ci(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

/* The directory part of path ends with the given component suffix, e.g. ".dist-info". */
static bool parent_has_suffix(const char *path, const char *suffix)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return false;
    size_t n = (size_t)(slash - path), m = strlen(suffix);
    return n >= m && memcmp(slash - m, suffix, m) == 0;
}

/* The component `back` levels above the last one (0 = the base name), as a slice. */
static struct str component(const char *path, int back)
{
    const char *end = path + strlen(path);
    for (;;) {
        const char *start = end;
        while (start > path && start[-1] != '/')
            start--;
        if (back-- == 0)
            return str_make(start, (size_t)(end - start));
        if (start == path)
            return STR_NULL;
        end = start - 1;
    }
}

/* .../node_modules/NAME/package.json or .../node_modules/@SCOPE/NAME/package.json */
static bool is_node_module_manifest(const char *path)
{
    if (!str_eq_cstr(component(path, 0), "package.json"))
        return false;
    if (str_eq_cstr(component(path, 2), "node_modules"))
        return true;
    struct str scope = component(path, 2);
    return scope.len > 1 && scope.ptr[0] == '@' && str_eq_cstr(component(path, 3), "node_modules");
}

static bool under_node_modules(const char *path)
{
    return strstr(path, "node_modules/") != NULL;
}

static bool is_requirements(const char *b)
{
    return strncmp(b, "requirements", 12) == 0 && has_suffix_ci(b, ".txt");
}

/* The parser for a file, or NULL. exec: the file is executable. */
static lang_parse_fn parser_for(const char *path, bool exec)
{
    const char *b = base_name(path);
    if (is_node_module_manifest(path))
        return npm_parse_package_json;
    if (!under_node_modules(path)) {
        if (strcmp(b, "package-lock.json") == 0)
            return npm_parse_package_lock;
        if (strcmp(b, "yarn.lock") == 0)
            return npm_parse_yarn_lock;
        if (strcmp(b, "pnpm-lock.yaml") == 0)
            return npm_parse_pnpm_lock;
    }
    if ((strcmp(b, "METADATA") == 0 && parent_has_suffix(path, ".dist-info")) ||
        (strcmp(b, "PKG-INFO") == 0 && parent_has_suffix(path, ".egg-info")) ||
        has_suffix_ci(b, ".egg-info"))
        return python_parse_metadata;
    if (strcmp(b, "poetry.lock") == 0)
        return python_parse_poetry_lock;
    if (strcmp(b, "Pipfile.lock") == 0)
        return python_parse_pipfile_lock;
    if (is_requirements(b))
        return python_parse_requirements;
    if (has_suffix_ci(b, ".gemspec") && (parent_has_suffix(path, "/specifications") ||
                                         parent_has_suffix(path, "/specifications/default")))
        return ruby_parse_gemspec;
    if (strcmp(b, "Gemfile.lock") == 0)
        return ruby_parse_gemfile_lock;
    if (has_suffix_ci(b, ".jar") || has_suffix_ci(b, ".war") || has_suffix_ci(b, ".ear"))
        return jar_parse;
    if (strcmp(b, "composer.lock") == 0)
        return php_parse_composer_lock;
    if (strcmp(b, "installed.json") == 0 && parent_has_suffix(path, "vendor/composer"))
        return php_parse_installed_json;
    if (strcmp(b, "go.mod") == 0)
        return go_parse_mod;
    if (strcmp(b, "Cargo.lock") == 0)
        return rust_parse_cargo_lock;
    if (has_suffix_ci(b, ".deps.json"))
        return dotnet_parse_deps_json;
    if (strcmp(b, "packages.lock.json") == 0)
        return dotnet_parse_packages_lock;
    (void)exec;
    return NULL;
}

enum layer_action lang_action(const char *path, uint64_t size, uint32_t mode)
{
    bool exec = (mode & 0111) != 0;
    if (parser_for(path, exec))
        return LAYER_ANALYZE;
    if (exec && size >= EXEC_MIN_BYTES)
        return LAYER_ANALYZE;
    return LAYER_SKIP;
}

static bool is_elf(struct str s)
{
    return s.len >= 4 && memcmp(s.ptr,
                                "\x7f"
                                "ELF",
                                4) == 0;
}

int lang_analyze(const char *path, uint32_t mode, struct str content, struct buf *out, void *ctx,
                 struct diag *d)
{
    (void)ctx;
    struct arena a;
    struct pkg_list pl = { VEC_INIT };
    int rc = 0;
    arena_init(&a);
    lang_parse_fn fn = parser_for(path, (mode & 0111) != 0);
    if (fn) {
        rc = fn(content, path, &a, &pl, d);
    } else if (is_elf(content)) {
        /* an executable: Go build info and cargo-auditable data, either or both */
        rc = go_parse_binary(content, path, &a, &pl, d);
        if (rc == 0)
            rc = rust_parse_auditable(content, path, &a, &pl, d);
    }
    if (rc == 0 && pl.items.n)
        rc = pkg_list_encode(pl.items.v, pl.items.n, out);
    VEC_FREE(&pl.items);
    arena_release(&a);
    return rc;
}

const char *lang_ecosystem(enum pkg_type t)
{
    switch (t) {
    case PKG_NPM:
        return "npm";
    case PKG_PYPI:
        return "PyPI";
    case PKG_MAVEN:
        return "Maven";
    case PKG_GO:
        return "Go";
    case PKG_GEM:
        return "RubyGems";
    case PKG_CARGO:
        return "crates.io";
    case PKG_COMPOSER:
        return "Packagist";
    case PKG_NUGET:
        return "NuGet";
    case PKG_DEB:
    case PKG_APK:
    case PKG_RPM:
        break;
    }
    return NULL;
}

const char *lang_type_name(enum pkg_type t)
{
    switch (t) {
    case PKG_NPM:
        return "npm";
    case PKG_PYPI:
        return "pypi";
    case PKG_MAVEN:
        return "maven";
    case PKG_GO:
        return "golang";
    case PKG_GEM:
        return "gem";
    case PKG_CARGO:
        return "cargo";
    case PKG_COMPOSER:
        return "composer";
    case PKG_NUGET:
        return "nuget";
    case PKG_DEB:
        return "deb";
    case PKG_APK:
        return "apk";
    case PKG_RPM:
        return "rpm";
    }
    return "unknown";
}
