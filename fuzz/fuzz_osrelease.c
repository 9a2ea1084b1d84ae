/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: os-release and release-marker parsers. The first byte picks the file the
 * rest is read as. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pkgdb/osrelease.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_str(const char *s)
{
    if (s)
        (void)strlen(s); /* NUL-terminated (ASan checks the read) */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const paths[] = {
        "etc/os-release",       "etc/debian_version", "etc/alpine-release",
        "etc/redhat-release",   "etc/lsb-release",    "/etc/centos-release",
        "./etc/system-release", "etc/fedora-release", "etc/unknown",
    };
    if (size == 0)
        return 0;
    const char *path = paths[data[0] % (sizeof(paths) / sizeof(paths[0]))];
    struct str text = str_make((const char *)data + 1, size - 1);
    struct arena a;
    struct os_info o;
    struct diag d = { 0 };
    arena_init(&a);
    int rc = data[0] < 128 ? osrelease_from_marker(path, text, &a, &o, &d)
                           : osrelease_parse(text, &a, &o, &d);
    if (rc > 0 || (rc < 0 && (o.id || o.version_id || o.name || !d.msg[0])))
        abort();
    check_str(o.id);
    check_str(o.version_id);
    check_str(o.version_codename);
    check_str(o.name);
    check_str(o.pretty_name);
    check_str(o.id_like);
    check_str(osrelease_debian_codename(o.version_id));
    check_str(osrelease_debian_version(o.version_codename));
    arena_release(&a);
    return 0;
}
