/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the scan service's stored forms (src/scan/svc_codec.h), read back from the
 * metadata database that may be damaged: inventories (as given, and the input taken as the
 * raw form inside a valid zstd frame, so the field parser is reached), vulnerability records
 * and finding members. A decoded inventory must encode and decode to the same packages. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "scan/svc_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void inventory_roundtrip(struct str in)
{
    struct inventory inv;
    inventory_init(&inv);
    if (svc_inv_decode(in, &inv, NULL) == 0) {
        struct buf b;
        buf_init(&b, SVC_INV_RAW_MAX);
        if (svc_inv_encode(&inv, &b) == 0) {
            struct inventory again;
            inventory_init(&again);
            if (svc_inv_decode(buf_str(&b), &again, NULL) != 0 ||
                again.pkgs.items.n != inv.pkgs.items.n || again.layers.n != inv.layers.n)
                abort();
            for (size_t i = 0; i < inv.pkgs.items.n; i++)
                if (strcmp(again.pkgs.items.v[i].name, inv.pkgs.items.v[i].name) != 0 ||
                    again.pkgs.items.v[i].layer != inv.pkgs.items.v[i].layer)
                    abort();
            inventory_release(&again);
        }
        buf_release(&b);
    }
    inventory_release(&inv);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct str in = str_make((const char *)data, size);
    inventory_roundtrip(in);

    /* the input as the raw form: "VSI1", its length, one zstd frame of it */
    if (size <= (1u << 20)) {
        size_t bound = ZSTD_compressBound(size);
        unsigned char *blob = malloc(4 + 10 + bound);
        memcpy(blob, "VSI1", 4);
        size_t n = 4, v = size;
        do {
            blob[n++] = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
            v >>= 7;
        } while (v);
        size_t z = ZSTD_compress(blob + n, bound, data, size, 1);
        if (!ZSTD_isError(z))
            inventory_roundtrip(str_make((const char *)blob, n + z));
        free(blob);
    }

    struct arena a;
    arena_init(&a);
    struct finding f;
    svc_vuln_decode(in, &a, &f, NULL);
    struct svc_member *m;
    size_t nm;
    svc_members_decode(in, &a, &m, &nm, NULL);
    arena_release(&a);
    return 0;
}
