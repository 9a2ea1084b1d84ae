/* SPDX-License-Identifier: Apache-2.0 */
/* struct pkg: one installed package as every package-database parser reports it, with what
 * vulnerability matching needs. All strings live in the arena given to the parser. */
#ifndef VIGIL_PKGDB_PKG_H
#define VIGIL_PKGDB_PKG_H

#include <stdbool.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/err.h"
#include "base/vec.h"

enum pkg_type {
    PKG_DEB = 1, /* dpkg */
    PKG_APK = 2, /* Alpine apk */
    PKG_RPM = 3, /* rpm (sqlite, bdb, ndb) */
    /* language packages (enhanced scanning); OSV ecosystem in parentheses */
    PKG_NPM = 10,      /* node_modules package.json, package-lock, yarn.lock, pnpm ("npm") */
    PKG_PYPI = 11,     /* dist-info, egg-info, poetry.lock, Pipfile.lock, requirements ("PyPI") */
    PKG_MAVEN = 12,    /* jar/war/ear: name "groupId:artifactId" ("Maven") */
    PKG_GO = 13,       /* Go binary build info, go.mod; the toolchain as name "stdlib" ("Go") */
    PKG_GEM = 14,      /* gemspec, Gemfile.lock ("RubyGems") */
    PKG_CARGO = 15,    /* Cargo.lock, cargo-auditable binaries ("crates.io") */
    PKG_COMPOSER = 16, /* composer.lock, vendor/composer/installed.json ("Packagist") */
    PKG_NUGET = 17,    /* *.deps.json, packages.lock.json ("NuGet") */
};

/* True for the language package types. */
static inline bool pkg_type_is_lang(enum pkg_type t)
{
    return t >= PKG_NPM;
}

struct pkg {
    enum pkg_type type;
    const char *name;        /* binary package name */
    const char *version;     /* full version as the ecosystem compares it:
                              * deb "[epoch:]upstream[-revision]" exactly as in the status file;
                              * apk "1.2.4_git20230717-r4";
                              * rpm "[epoch:]version-release" (epoch only when the header has one) */
    const char *arch;        /* "amd64", "x86_64", "noarch", ...; "" when unknown */
    const char *src_name;    /* source (deb Source:, rpm SOURCERPM name) or origin (apk o:);
                              * equals name when the database names none */
    const char *src_version; /* source version (deb "Source: x (ver)", rpm from SOURCERPM);
                              * equals version when the database names none */
    uint32_t epoch;          /* numeric epoch, 0 when absent (deb, rpm) */
    bool has_epoch;          /* rpm: the header carries an EPOCH tag (even 0) */
    const char *upstream;    /* version without epoch and revision/release */
    const char *release;     /* deb revision, rpm release, apk "rN" suffix; "" when none */
    const char *license;     /* "" when unknown */
    const char *maintainer;  /* "" when unknown */
    const char *db_path;     /* file in the image the record came from, e.g. "var/lib/dpkg/status";
                              * for archives inside archives, "opt/app.jar!BOOT-INF/lib/x.jar" */
    int layer; /* index of the layer that brought it in; -1 until the inventory sets it */
};

/* A list of packages. Owns the array, not the strings (those are in an arena). */
struct pkg_list {
    VEC(struct pkg) items;
};

#endif
