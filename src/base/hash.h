/* SPDX-License-Identifier: Apache-2.0 */
/* SHA-256 (OpenSSL libcrypto, SHA-NI where the CPU has it), digests as "sha256:<hex>". */
#ifndef VIGIL_BASE_HASH_H
#define VIGIL_BASE_HASH_H

#include <stdbool.h>
#include <stddef.h>

#include "str.h"

#define SHA256_LEN     32
#define DIGEST_STR_LEN (7 + 64) /* "sha256:" + hex */

struct sha256 {
    void *ctx; /* EVP_MD_CTX */
};

void sha256_init(struct sha256 *h);
void sha256_update(struct sha256 *h, const void *p, size_t n);
/* Finish into out[32] and release the context. */
void sha256_final(struct sha256 *h, unsigned char out[SHA256_LEN]);
/* Release without finishing (error paths). */
void sha256_release(struct sha256 *h);
void sha256_buf(const void *p, size_t n, unsigned char out[SHA256_LEN]);
/* "sha256:<64 hex>" into out (at least DIGEST_STR_LEN + 1 bytes). */
void digest_format(const unsigned char raw[SHA256_LEN], char *out);
/* True when s is "sha256:" followed by exactly 64 lower-case hex digits. Other algorithms
 * (sha512) are recognised by digest_is_wellformed() but not verified by vigil. */
bool digest_is_sha256(struct str s);
bool digest_is_wellformed(struct str s);
void hex_encode(const unsigned char *p, size_t n, char *out);

#endif
