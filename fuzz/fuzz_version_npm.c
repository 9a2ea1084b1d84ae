/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: npm_vercmp antisymmetry, reflexivity and transitivity, npm_version_check. */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_version_common.h"
#include "version/version.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fv_run(data, size, npm_vercmp, npm_version_check);
    return 0;
}
