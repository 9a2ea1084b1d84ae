/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: rpmdb.sqlite reader (WAL replay + sqlite3_deserialize). An input starting
 * with 'W' is "W", a 4-byte big-endian database length, the database, then the -wal bytes;
 * any other input is a database alone. */
#include <stdint.h>

#include "fuzz_pkgdb_common.h"
#include "pkgdb/rpm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct str db = str_make((const char *)data, size), wal = STR_NULL;
    if (size >= 5 && data[0] == 'W') {
        size_t n = (size_t)data[1] << 24 | (size_t)data[2] << 16 | (size_t)data[3] << 8 | data[4];
        if (n > size - 5)
            n = size - 5;
        db = str_make((const char *)data + 5, n);
        wal = str_make((const char *)data + 5 + n, size - 5 - n);
    }
    struct arena a;
    struct pkg_list l = { VEC_INIT };
    struct diag d = { 0 };
    arena_init(&a);
    int rc = rpm_parse_sqlite(db, wal, "rpmdb.sqlite", &a, &l, &d);
    pkgdb_fuzz_check(rc, &l, &d, PKG_RPM);
    VEC_FREE(&l.items);
    arena_release(&a);
    return 0;
}
