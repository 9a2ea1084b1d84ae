/* SPDX-License-Identifier: Apache-2.0 */
/* SHA-256 over OpenSSL's EVP interface. */
#include "hash.h"

#include <openssl/evp.h>
#include <string.h>

#include "xalloc.h"

void sha256_init(struct sha256 *h)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    BUG_ON(!ctx);
    BUG_ON(EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1);
    h->ctx = ctx;
}

void sha256_update(struct sha256 *h, const void *p, size_t n)
{
    BUG_ON(EVP_DigestUpdate(h->ctx, p, n) != 1);
}

void sha256_final(struct sha256 *h, unsigned char out[SHA256_LEN])
{
    unsigned int n = 0;
    BUG_ON(EVP_DigestFinal_ex(h->ctx, out, &n) != 1 || n != SHA256_LEN);
    sha256_release(h);
}

void sha256_release(struct sha256 *h)
{
    EVP_MD_CTX_free(h->ctx);
    h->ctx = NULL;
}

void sha256_buf(const void *p, size_t n, unsigned char out[SHA256_LEN])
{
    struct sha256 h;
    sha256_init(&h);
    sha256_update(&h, p, n);
    sha256_final(&h, out);
}

void hex_encode(const unsigned char *p, size_t n, char *out)
{
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hx[p[i] >> 4];
        out[2 * i + 1] = hx[p[i] & 15];
    }
    out[2 * n] = '\0';
}

void digest_format(const unsigned char raw[SHA256_LEN], char *out)
{
    memcpy(out, "sha256:", 7);
    hex_encode(raw, SHA256_LEN, out + 7);
}

static bool is_lower_hex(struct str s)
{
    for (size_t i = 0; i < s.len; i++) {
        char c = s.ptr[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return true;
}

bool digest_is_sha256(struct str s)
{
    return s.len == DIGEST_STR_LEN && str_has_prefix(s, "sha256:") &&
           is_lower_hex(str_make(s.ptr + 7, 64));
}

bool digest_is_wellformed(struct str s)
{
    if (digest_is_sha256(s))
        return true;
    return s.len == 7 + 128 && str_has_prefix(s, "sha512:") &&
           is_lower_hex(str_make(s.ptr + 7, 128));
}
