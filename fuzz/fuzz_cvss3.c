/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the CVSS v3.0 and v3.1 parser and calculator: the input is a vector. */
#include "fuzz_cvss_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum cvss_version versions[] = { CVSS_V30, CVSS_V31 };
    return fuzz_cvss(data, size, versions, sizeof(versions) / sizeof(versions[0]));
}
