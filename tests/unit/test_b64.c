/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for src/base/b64: RFC 4648 vectors, round trips, and the strict decoder's
 * refusals. */
#include <stdlib.h>

#include "base/b64.h"
#include "base/err.h"
#include "test.h"

static const struct {
    const char *raw, *std, *url;
} b64_vectors[] = {
    /* RFC 4648 section 10 */
    { "", "", "" },
    { "f", "Zg==", "Zg" },
    { "fo", "Zm8=", "Zm8" },
    { "foo", "Zm9v", "Zm9v" },
    { "foob", "Zm9vYg==", "Zm9vYg" },
    { "fooba", "Zm9vYmE=", "Zm9vYmE" },
    { "foobar", "Zm9vYmFy", "Zm9vYmFy" },
    /* bytes that use the two alphabet-specific characters */
    { "\xfb\xff\xbf", "+/+/", "-_-_" },
    { "?>?", "Pz4/", "Pz4_" },
};

TEST(b64_rfc4648_vectors)
{
    for (size_t i = 0; i < sizeof(b64_vectors) / sizeof(b64_vectors[0]); i++) {
        const char *raw = b64_vectors[i].raw;
        struct buf b;
        buf_init(&b, 64);
        ASSERT_EQ(b64_encode(raw, strlen(raw), B64_STD, &b), 0);
        ASSERT_STREQ(buf_cstr(&b), b64_vectors[i].std);
        ASSERT_EQ(b.len, b64_encoded_len(strlen(raw), B64_STD));
        buf_reset(&b);
        ASSERT_EQ(b64_encode(raw, strlen(raw), B64_URL, &b), 0);
        ASSERT_STREQ(buf_cstr(&b), b64_vectors[i].url);
        ASSERT_EQ(b.len, b64_encoded_len(strlen(raw), B64_URL));
        buf_reset(&b);
        ASSERT_EQ(b64_decode(str_from(b64_vectors[i].std), B64_STD, &b), 0);
        ASSERT_STREQ(buf_cstr(&b), raw);
        buf_reset(&b);
        ASSERT_EQ(b64_decode(str_from(b64_vectors[i].url), B64_URL, &b), 0);
        ASSERT_STREQ(buf_cstr(&b), raw);
        buf_release(&b);
    }
}

TEST(b64_round_trip_all_lengths)
{
    unsigned char raw[70];
    unsigned seed = 12345;
    for (size_t n = 0; n <= sizeof(raw); n++) {
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            raw[i] = (unsigned char)(seed >> 16);
        }
        for (int v = B64_STD; v <= B64_URL; v++) {
            struct buf enc, dec;
            buf_init(&enc, 256);
            buf_init(&dec, 256);
            ASSERT_EQ(b64_encode(raw, n, (enum b64_variant)v, &enc), 0);
            ASSERT_TRUE(b64_decoded_max(enc.len) >= n);
            ASSERT_EQ(b64_decode(buf_str(&enc), (enum b64_variant)v, &dec), 0);
            ASSERT_EQ(dec.len, n);
            ASSERT_TRUE(n == 0 || memcmp(dec.data, raw, n) == 0);
            buf_release(&enc);
            buf_release(&dec);
        }
    }
}

TEST(b64_decode_appends)
{
    struct buf b;
    buf_init(&b, 64);
    ASSERT_EQ(buf_append_cstr(&b, "x:"), 0);
    ASSERT_EQ(b64_decode(STR_LIT("Zm9v"), B64_STD, &b), 0);
    ASSERT_STREQ(buf_cstr(&b), "x:foo");
    /* a refused input appends nothing and leaves the buffer terminated */
    ASSERT_EQ(b64_decode(STR_LIT("Zm9v!!!!"), B64_STD, &b), -ERR_CORRUPT);
    ASSERT_EQ(b.len, 5);
    ASSERT_STREQ(buf_cstr(&b), "x:foo");
    buf_release(&b);
}

TEST(b64_strict_refusals)
{
    static const char *bad_std[] = {
        "Zg=",      /* length not a multiple of 4 */
        "Zg",       /* padding missing */
        "Zh==",     /* unused bits set */
        "Zm9=",     /* unused bits set (two-byte group) */
        "Z===",     /* three pads */
        "====",     /* only padding */
        "Zm9v\n",   /* whitespace */
        " Zm9v",    /* whitespace */
        "Zm-v",     /* URL character */
        "Zm_v",     /* URL character */
        "Zg==Zg==", /* padding in the middle */
        "Zm9vYg=a", /* junk after a pad */
        "Zm\x80v",  /* high byte */
    };
    static const char *bad_url[] = {
        "Zg==",          /* padding */
        "Zh",            /* unused bits set */
        "Z",             /* one character cannot hold a byte */
        "Zm9vY", "Zm+v", /* standard character */
        "Zm/v",  "Zm9v ",
    };
    struct buf b;
    buf_init(&b, 64);
    for (size_t i = 0; i < sizeof(bad_std) / sizeof(bad_std[0]); i++) {
        int rc = b64_decode(str_from(bad_std[i]), B64_STD, &b);
        if (rc != -ERR_CORRUPT)
            test_fail(__FILE__, __LINE__, "standard '%s' decoded (rc %d)", bad_std[i], rc);
        ASSERT_EQ(b.len, 0);
    }
    for (size_t i = 0; i < sizeof(bad_url) / sizeof(bad_url[0]); i++) {
        int rc = b64_decode(str_from(bad_url[i]), B64_URL, &b);
        if (rc != -ERR_CORRUPT)
            test_fail(__FILE__, __LINE__, "url '%s' decoded (rc %d)", bad_url[i], rc);
        ASSERT_EQ(b.len, 0);
    }
    buf_release(&b);
}

TEST(b64_caps)
{
    struct buf b;
    buf_init(&b, 3);
    ASSERT_EQ(b64_encode("ab", 2, B64_STD, &b), -ERR_TOO_BIG);
    ASSERT_EQ(b.len, 0);
    ASSERT_EQ(b64_encode("ab", 2, B64_URL, &b), 0);
    ASSERT_STREQ(buf_cstr(&b), "YWI");
    buf_reset(&b);
    ASSERT_EQ(b64_decode(STR_LIT("Zm9vYg=="), B64_STD, &b), -ERR_TOO_BIG);
    ASSERT_EQ(b64_decode(STR_LIT("Zm9v"), B64_STD, &b), 0);
    ASSERT_STREQ(buf_cstr(&b), "foo");
    buf_release(&b);
}
