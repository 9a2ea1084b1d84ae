/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the package-list and layer-contents encodings (what the layer cache holds). */
#include "pkgdb/codec.h"
#include "scan/layer_cache.h"
#include "test.h"

TEST(pkg_codec_roundtrip_and_damage)
{
    struct pkg in[2] = {
        { .type = PKG_NPM,
          .name = "lodash",
          .version = "4.17.15",
          .src_name = "lodash",
          .src_version = "4.17.15",
          .db_path = "app/node_modules/lodash/package.json" },
        { .type = PKG_MAVEN,
          .name = "commons-io:commons-io",
          .version = "2.11.0",
          .src_name = "commons-io:commons-io",
          .src_version = "2.11.0",
          .db_path = "opt/app/app.jar!BOOT-INF/lib/commons-io-2.11.0.jar" },
    };
    struct buf b;
    buf_init(&b, 1 << 20);
    ASSERT_EQ(pkg_list_encode(in, 2, &b), 0);
    struct arena a;
    arena_init(&a);
    struct pkg_list out = { VEC_INIT };
    struct diag d = { 0 };
    ASSERT_EQ(pkg_list_decode(buf_str(&b), &a, &out, &d), 0);
    ASSERT_EQ(out.items.n, 2);
    ASSERT_EQ(out.items.v[1].type, PKG_MAVEN);
    ASSERT_STREQ(out.items.v[1].db_path, in[1].db_path);
    ASSERT_STREQ(out.items.v[0].version, "4.17.15");
    ASSERT_EQ(out.items.v[0].layer, -1);
    /* every truncation is refused and leaves the list as it was */
    for (size_t cut = 0; cut < b.len; cut++) {
        ASSERT_EQ(pkg_list_decode(str_make(b.data, cut), &a, &out, &d), -ERR_CORRUPT);
        ASSERT_EQ(out.items.n, 2);
    }
    b.data[8] = 99; /* unknown type */
    ASSERT_EQ(pkg_list_decode(buf_str(&b), &a, &out, &d), -ERR_CORRUPT);
    ASSERT_TRUE(strstr(d.msg, "bad type") != NULL);
    VEC_FREE(&out.items);
    arena_release(&a);
    buf_release(&b);
}

TEST(layer_contents_codec_roundtrip)
{
    struct layer_contents lc;
    layer_contents_init(&lc);
    struct layer_file f1 = { .path = "etc/os-release",
                             .link = "",
                             .kind = LF_FILE,
                             .data = STR_LIT("ID=debian\n"),
                             .size = 10,
                             .mode = 0644 };
    struct layer_file f2 = { .path = "usr/lib/x.jar",
                             .link = "",
                             .kind = LF_FILE,
                             .data = STR_LIT("VPK1\0\0\0\0"),
                             .size = 1234,
                             .analyzed = true };
    struct layer_file f3 = { .path = "bin", .link = "usr/bin", .kind = LF_SYMLINK };
    struct layer_file f4 = {
        .path = "big", .link = "", .kind = LF_FILE, .too_big = true, .size = 1ull << 40
    };
    VEC_PUSH(&lc.files, f1);
    VEC_PUSH(&lc.files, f2);
    VEC_PUSH(&lc.files, f3);
    VEC_PUSH(&lc.files, f4);
    struct buf b;
    buf_init(&b, 1 << 20);
    ASSERT_EQ(layer_contents_encode(&lc, &b), 0);
    struct layer_contents back;
    layer_contents_init(&back);
    struct diag d = { 0 };
    ASSERT_EQ(layer_contents_decode(buf_str(&b), &back, &d), 0);
    ASSERT_EQ(back.files.n, 4);
    ASSERT_STR_EQ(back.files.v[0].data, "ID=debian\n");
    ASSERT_TRUE(back.files.v[1].analyzed);
    ASSERT_EQ(back.files.v[1].data.len, 8);
    ASSERT_STREQ(back.files.v[2].link, "usr/bin");
    ASSERT_TRUE(back.files.v[3].too_big);
    ASSERT_TRUE(back.files.v[3].size == 1ull << 40);
    layer_contents_release(&back);
    for (size_t cut = 0; cut < b.len; cut += 3) {
        layer_contents_init(&back);
        ASSERT_EQ(layer_contents_decode(str_make(b.data, cut), &back, &d), -ERR_CORRUPT);
        layer_contents_release(&back);
    }
    buf_release(&b);
    VEC_FREE(&lc.files);
    layer_contents_release(&lc);
}
