/* SPDX-License-Identifier: Apache-2.0 */
/* struct pkg: one installed package as every package-database parser reports it, with what
 * vulnerability matching needs. All strings live in the arena given to the parser. */
#ifndef VIGIL_PKGDB_PKG_H
#define VIGIL_PKGDB_PKG_H

#include <stdint.h>

#include "base/arena.h"
#include "base/err.h"
#include "base/vec.h"

enum pkg_type {
    PKG_DEB = 1, /* dpkg */
    PKG_APK = 2, /* Alpine apk */
    PKG_RPM = 3, /* rpm (sqlite, bdb, ndb) */
};

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
    const char *db_path; /* file in the image the record came from, e.g. "var/lib/dpkg/status" */
    int layer;           /* index of the layer that brought it in; -1 until the inventory sets it */
};

/* A list of packages. Owns the array, not the strings (those are in an arena). */
struct pkg_list {
    VEC(struct pkg) items;
};

#endif
