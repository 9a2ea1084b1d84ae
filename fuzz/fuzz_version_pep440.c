/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: pep440_vercmp (valid PEP 440 and legacy strings) antisymmetry, reflexivity and
 * transitivity, pep440_version_check. */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_version_common.h"
#include "version/version.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fv_run(data, size, pep440_vercmp, pep440_version_check);
    return 0;
}
