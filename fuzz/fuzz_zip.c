/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: base/zip directory walk and extraction of every member under small caps;
 * an extracted member has exactly the size its directory entry claims. */
#include <stdint.h>
#include <stdlib.h>

#include "base/zip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct zip_limits lim = {
        .max_members = 4096, .max_member_size = 1u << 20, .max_total = 4u << 20, .max_ratio = 100
    };
    struct zip z;
    struct diag d = { 0 };
    if (zip_open(&z, data, size, &lim, &d) < 0) {
        if (!d.msg[0])
            abort();
        return 0;
    }
    struct zip_entry e;
    int rc;
    while ((rc = zip_next(&z, &e, &d)) > 0) {
        if (e.name.len && !e.name.ptr)
            abort();
        struct zip_data zd;
        if (zip_extract(&z, &e, &zd, &d) == 0) {
            if (zd.len != e.usize || (zd.len && !zd.ptr))
                abort();
            /* every byte readable (ASan) */
            unsigned sum = 0;
            for (size_t i = 0; i < zd.len; i++)
                sum += ((const unsigned char *)zd.ptr)[i];
            (void)sum;
            zip_data_release(&zd);
        } else if (zd.ptr || zd.len || !d.msg[0]) {
            abort();
        }
    }
    if (z.total_out > lim.max_total)
        abort();
    return 0;
}
