/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: registry Authorization header values (Basic credentials, Bearer and AWS tokens)
 * checked against a fixed token key and users list. Checks that an accepted header names a
 * principal and that a minted token for that principal is accepted in both forms. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/b64.h"
#include "base/xalloc.h"
#include "registry/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW 1795342186 /* 2026-11-22T10:09:46Z */

/* alice:password and bob:secret, with the smallest iteration count a users list allows so
 * each run stays fast. */
static const char users[] = "alice:pbkdf2-sha256$1000$c2FsdHNhbHRzYWx0c2FsdA==$"
                            "8nX7hwFEzIB8aPajJTYK8weHQc5Ngz0pFVAKvSu4jQA=\n"
                            "bob:pbkdf2-sha256$1000$c2FsdHNhbHQ=$"
                            "hgR9HsqtKupWxpnv8y99TrPDajTT/9PcSTlNafpdLXQ=\n";
static const unsigned char key[32] = "fuzz-key-fuzz-key-fuzz-key-fuzz!";

static struct reg_auth *auth(void)
{
    static struct reg_auth *a;
    if (!a) {
        struct reg_auth_config cfg = {
            .users_text = users, .token_key = key, .token_key_len = sizeof(key), .anonymous = 0
        };
        BUG_ON(reg_auth_new(&cfg, &a, NULL) != 0);
    }
    return a;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 16384)
        return 0;
    char *hdr = xmalloc(size + 1);
    memcpy(hdr, data, size);
    hdr[size] = '\0';
    struct reg_auth *a = auth();
    struct arena ar;
    arena_init(&ar);
    const char *who = NULL;
    int rc = reg_auth_check(a, hdr, NOW, &ar, &who);
    BUG_ON(rc != 0 && rc != -ERR_UNAUTHORIZED);
    BUG_ON((rc == 0) != (who != NULL));
    if (rc == 0 && strchr(who, ':') == NULL) {
        /* whoever got in can be given a token, and it works as Bearer and as AWS:<token> */
        struct buf tok, b;
        buf_init(&tok, 4096);
        buf_init(&b, 8192);
        BUG_ON(reg_auth_token_mint(a, who, NOW, &tok, NULL) != 0);
        BUG_ON(buf_printf(&b, "Bearer %s", buf_cstr(&tok)) != 0);
        const char *who2 = NULL;
        BUG_ON(reg_auth_check(a, buf_cstr(&b), NOW, &ar, &who2) != 0 || strcmp(who, who2) != 0);
        struct buf raw;
        buf_init(&raw, 4096);
        BUG_ON(buf_printf(&raw, "AWS:%s", buf_cstr(&tok)) != 0);
        buf_reset(&b);
        BUG_ON(buf_append_cstr(&b, "Basic ") != 0 ||
               b64_encode(raw.data, raw.len, B64_STD, &b) != 0);
        BUG_ON(reg_auth_check(a, buf_cstr(&b), NOW, &ar, &who2) != 0 || strcmp(who, who2) != 0);
        /* and it expires */
        BUG_ON(reg_auth_check(a, buf_cstr(&b), NOW + 12 * 3600, &ar, &who2) == 0);
        buf_release(&raw);
        buf_release(&tok);
        buf_release(&b);
    }
    arena_release(&ar);
    free(hdr);
    return 0;
}
