/* SPDX-License-Identifier: Apache-2.0 */
/* Language-package inventories (enhanced scanning). Every parser has the same shape: the bytes
 * of one file found in an image, its path in the image, and it appends the packages the file
 * records to `out` (strings in arena `a`; type, name, version, db_path = path, layer = -1;
 * src_name = name and src_version = version; arch/release/epoch fields empty/0). On malformed
 * input it returns <0 with a one-line message in d naming the path and the position
 * (line/offset/field), and leaves `out` as it was. Nothing is allocated from a length in the
 * input without a cap. Package names are normalised the way the ecosystem's advisories name
 * them (PEP 503 for PyPI, "groupId:artifactId" for Maven, module path for Go). */
#ifndef VIGIL_PKGDB_LANG_H
#define VIGIL_PKGDB_LANG_H

#include "base/arena.h"
#include "base/err.h"
#include "base/str.h"
#include "pkg.h"

typedef int (*lang_parse_fn)(struct str data, const char *path, struct arena *a,
                             struct pkg_list *out, struct diag *d);

/* npm (src/pkgdb/npm.c) */
int npm_parse_package_json(struct str data, const char *path, struct arena *a, struct pkg_list *out,
                           struct diag *d); /* node_modules/.../package.json */
int npm_parse_package_lock(struct str data, const char *path, struct arena *a, struct pkg_list *out,
                           struct diag *d); /* lockfileVersion 1, 2, 3 */
int npm_parse_yarn_lock(struct str data, const char *path, struct arena *a, struct pkg_list *out,
                        struct diag *d); /* yarn v1 and berry */
int npm_parse_pnpm_lock(struct str data, const char *path, struct arena *a, struct pkg_list *out,
                        struct diag *d); /* pnpm-lock.yaml v5, v6, v9 */

/* Python (src/pkgdb/python.c) */
int python_parse_metadata(struct str data, const char *path, struct arena *a, struct pkg_list *out,
                          struct diag *d); /* METADATA, PKG-INFO */
int python_parse_poetry_lock(struct str data, const char *path, struct arena *a,
                             struct pkg_list *out, struct diag *d);
int python_parse_pipfile_lock(struct str data, const char *path, struct arena *a,
                              struct pkg_list *out, struct diag *d);
int python_parse_requirements(struct str data, const char *path, struct arena *a,
                              struct pkg_list *out, struct diag *d); /* pinned "==" lines */

/* Ruby (src/pkgdb/ruby.c) */
int ruby_parse_gemspec(struct str data, const char *path, struct arena *a, struct pkg_list *out,
                       struct diag *d); /* specifications/NAME-VERSION.gemspec */
int ruby_parse_gemfile_lock(struct str data, const char *path, struct arena *a,
                            struct pkg_list *out, struct diag *d);

/* Java (src/pkgdb/jar.c): jar/war/ear, nested archives (BOOT-INF/lib, WEB-INF/lib) with
 * depth and size caps; pom.properties, else MANIFEST.MF, else the file name. */
int jar_parse(struct str data, const char *path, struct arena *a, struct pkg_list *out,
              struct diag *d);

/* PHP (src/pkgdb/php.c) */
int php_parse_composer_lock(struct str data, const char *path, struct arena *a,
                            struct pkg_list *out, struct diag *d);
int php_parse_installed_json(struct str data, const char *path, struct arena *a,
                             struct pkg_list *out, struct diag *d); /* vendor/composer/ */

/* Go (src/pkgdb/gobin.c): ELF binaries with build info (main module, deps with replacements,
 * toolchain as "stdlib"); returns 0 with nothing appended for non-Go or non-ELF files. */
int go_parse_binary(struct str data, const char *path, struct arena *a, struct pkg_list *out,
                    struct diag *d);
int go_parse_mod(struct str data, const char *path, struct arena *a, struct pkg_list *out,
                 struct diag *d);

/* Rust (src/pkgdb/rust.c) */
int rust_parse_cargo_lock(struct str data, const char *path, struct arena *a, struct pkg_list *out,
                          struct diag *d);
/* cargo-auditable: the ".dep-v0" ELF section (zlib-compressed JSON); 0 with nothing appended
 * when the binary has none. */
int rust_parse_auditable(struct str data, const char *path, struct arena *a, struct pkg_list *out,
                         struct diag *d);

/* .NET (src/pkgdb/dotnet.c) */
int dotnet_parse_deps_json(struct str data, const char *path, struct arena *a, struct pkg_list *out,
                           struct diag *d);
int dotnet_parse_packages_lock(struct str data, const char *path, struct arena *a,
                               struct pkg_list *out, struct diag *d);

#endif
