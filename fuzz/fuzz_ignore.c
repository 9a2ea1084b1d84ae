/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: ignore-file parser. */
#include <stdint.h>

#include "scan/ignore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ignore_list l = { VEC_INIT };
    struct diag d = { 0 };
    ignore_parse(str_make((const char *)data, size), "fuzz", &l, &d);
    ignore_list_release(&l);
    return 0;
}
