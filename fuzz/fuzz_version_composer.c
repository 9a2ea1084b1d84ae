/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: composer_vercmp antisymmetry, reflexivity and transitivity,
 * composer_version_check. */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_version_common.h"
#include "version/version.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fv_run(data, size, composer_vercmp, composer_version_check);
    return 0;
}
