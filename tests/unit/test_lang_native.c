/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the native-language inventories (Go build info and go.mod, Cargo.lock and
 * cargo-auditable, .NET deps.json and packages.lock.json) and their comparators (gomod, cargo,
 * nuget): fixtures in tests/data/lang/, oracle tables in tests/data/versions/, hand-made
 * broken inputs, and the real Go binaries of the polyglot test image when it is there. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "base/arena.h"
#include "base/err.h"
#include "base/reader.h"
#include "base/str.h"
#include "base/xalloc.h"
#include "image/decomp.h"
#include "image/layer.h"
#include "pkgdb/lang.h"
#include "test.h"
#include "version/version.h"
#include "vtable.h"

typedef int (*vercmp_fn)(struct str a, struct str b);

static int sgn(int v)
{
    return (v > 0) - (v < 0);
}

/* ---- files ----------------------------------------------------------------------------- */

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = xmalloc(cap);
    for (;;) {
        if (n == cap)
            buf = xrealloc(buf, cap *= 2);
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    buf = xrealloc(buf, n + 1);
    buf[n] = '\0';
    *len = n;
    return buf;
}

static char *fixture(const char *rel, size_t *len)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/lang/%s", test_data_dir(), rel);
    char *b = slurp(path, len);
    if (!b)
        test_fail(__FILE__, __LINE__, "cannot read fixture '%s'", path);
    return b;
}

/* ---- parse helpers ------------------------------------------------------------------------ */

struct parsed {
    struct arena a;
    struct pkg_list l;
    struct diag d;
    int rc;
};

static void parse_buf(struct parsed *p, lang_parse_fn fn, const char *data, size_t len,
                      const char *path)
{
    arena_init(&p->a);
    p->l = (struct pkg_list){ VEC_INIT };
    memset(&p->d, 0, sizeof(p->d));
    p->rc = fn(str_make(data, len), path, &p->a, &p->l, &p->d);
}

static void parse_file(struct parsed *p, lang_parse_fn fn, const char *rel)
{
    size_t len;
    char *b = fixture(rel, &len);
    parse_buf(p, fn, b, len, rel);
    free(b);
}

static void parsed_free(struct parsed *p)
{
    VEC_FREE(&p->l.items);
    arena_release(&p->a);
}

/* The package called name (NULL when absent); checks the common contract on every package. */
static const struct pkg *find(const struct parsed *p, enum pkg_type type, const char *name)
{
    const struct pkg *hit = NULL;
    for (size_t i = 0; i < p->l.items.n; i++) {
        const struct pkg *k = &p->l.items.v[i];
        ASSERT_EQ(k->type, type);
        ASSERT_EQ(k->layer, -1);
        ASSERT_STREQ(k->src_name, k->name);
        ASSERT_STREQ(k->src_version, k->version);
        ASSERT_STREQ(k->arch, "");
        ASSERT_STREQ(k->release, "");
        ASSERT_TRUE(k->name[0] && k->version[0]);
        if (strcmp(k->name, name) == 0) {
            ASSERT_TRUE(hit == NULL); /* reported once */
            hit = k;
        }
    }
    return hit;
}

static void expect_pkg(const struct parsed *p, enum pkg_type type, const char *name,
                       const char *version)
{
    const struct pkg *k = find(p, type, name);
    if (!k)
        test_fail(__FILE__, __LINE__, "package '%s' not reported", name);
    ASSERT_STREQ(k->version, version);
}

/* A parse that must fail: <0, nothing appended, a message naming the path and `what`. */
static void expect_error(lang_parse_fn fn, const char *data, size_t len, const char *path,
                         const char *what)
{
    struct parsed p;
    parse_buf(&p, fn, data, len, path);
    if (p.rc >= 0)
        test_fail(__FILE__, __LINE__, "%s: parse succeeded (%d packages), expected an error", path,
                  (int)p.l.items.n);
    ASSERT_EQ(p.l.items.n, 0);
    if (!strstr(p.d.msg, path) || !strstr(p.d.msg, what))
        test_fail(__FILE__, __LINE__, "%s: message '%s' lacks the path or '%s'", path, p.d.msg,
                  what);
    parsed_free(&p);
}

/* ---- Go build info -------------------------------------------------------------------------- */

/* The fixtures all hold the build info of one tiny module-mode program built with Go 1.19.8:
 * golang.org/x/mod v0.6.0 replaced by v0.7.0, example.com/localdep replaced by a local
 * directory, main module "(devel)". */
static void check_go_fixture(const char *rel)
{
    struct parsed p;
    parse_file(&p, go_parse_binary, rel);
    if (p.rc != 0)
        test_fail(__FILE__, __LINE__, "%s: %s", rel, p.d.msg);
    ASSERT_EQ(p.l.items.n, 2);
    expect_pkg(&p, PKG_GO, "golang.org/x/mod", "v0.7.0");
    expect_pkg(&p, PKG_GO, "stdlib", "1.19.8");
    ASSERT_TRUE(find(&p, PKG_GO, "example.com/localdep") == NULL);
    ASSERT_TRUE(find(&p, PKG_GO, "example.com/vigil-fixture") == NULL);
    ASSERT_STREQ(p.l.items.v[0].db_path, rel);
    parsed_free(&p);
}

TEST(go_binary_inline_amd64)
{
    check_go_fixture("go/real-amd64.elf");
}

TEST(go_binary_inline_elf32)
{
    check_go_fixture("go/real-386.elf");
}

TEST(go_binary_inline_big_endian)
{
    check_go_fixture("go/real-s390x.elf");
}

TEST(go_binary_no_section_table)
{
    check_go_fixture("go/real-amd64-noshdr.elf");
}

TEST(go_binary_pointer_form)
{
    check_go_fixture("go/ptr-le64.elf");
    check_go_fixture("go/ptr-be32.elf");
}

TEST(go_binary_not_go)
{
    struct parsed p;
    /* not ELF at all, and an ELF without build info */
    parse_file(&p, go_parse_binary, "go/src/main.go");
    ASSERT_EQ(p.rc, 0);
    ASSERT_EQ(p.l.items.n, 0);
    parsed_free(&p);
    size_t len;
    char *b = fixture("go/real-amd64.elf", &len);
    char *m = memmem(b, len, "\xff Go buildinf:", 14);
    ASSERT_TRUE(m != NULL);
    m[1] = 'X';
    parse_buf(&p, go_parse_binary, b, len, "x");
    ASSERT_EQ(p.rc, 0);
    ASSERT_EQ(p.l.items.n, 0);
    parsed_free(&p);
    free(b);
    parse_buf(&p, go_parse_binary, "", 0, "empty");
    ASSERT_EQ(p.rc, 0);
    parsed_free(&p);
}

TEST(go_binary_truncated)
{
    size_t len;
    char *b = fixture("go/real-amd64.elf", &len);
    /* inside the ELF header, inside the program headers, inside the build info section */
    expect_error(go_parse_binary, b, 40, "usr/bin/cut40", "ELF header");
    expect_error(go_parse_binary, b, 100, "usr/bin/cut100", "past the end");
    char *m = memmem(b, len, "\xff Go buildinf:", 14);
    size_t at = (size_t)(m - b);
    expect_error(go_parse_binary, b, at + 40, "usr/bin/cutbi", "past the end");
    /* and every length up to the header and a bit beyond: never a crash */
    for (size_t n = 0; n < 300; n++) {
        struct parsed p;
        parse_buf(&p, go_parse_binary, b, n, "x");
        ASSERT_TRUE(p.rc <= 0);
        ASSERT_TRUE(p.rc < 0 || p.l.items.n == 0);
        parsed_free(&p);
    }
    free(b);
}

static size_t put_uvarint(unsigned char *p, size_t x)
{
    size_t n = 0;
    while (x >= 0x80) {
        p[n++] = (unsigned char)(x | 0x80);
        x >>= 7;
    }
    p[n++] = (unsigned char)x;
    return n;
}

/* Build a minimal ELF64 LE with one .go.buildinfo section in the inline form holding vers and
 * mod (mod gets the 16-byte markers unless raw). Returns malloc'ed bytes. */
static char *make_inline_elf(const char *vers, const char *mod, bool raw, size_t *len)
{
    static const unsigned char start[16] = { 0x30, 0x77, 0xaf, 0x0c, 0x92, 0x74, 0x08, 0x02,
                                             0x41, 0xe1, 0xc1, 0x07, 0xe6, 0xd6, 0x18, 0xe6 };
    static const unsigned char end[16] = { 0xf9, 0x32, 0x43, 0x31, 0x86, 0x18, 0x20, 0x72,
                                           0x00, 0x82, 0x42, 0x10, 0x41, 0x16, 0xd8, 0xf2 };
    unsigned char sec[4096];
    size_t n = 0;
    memcpy(sec, "\xff Go buildinf:\x08\x02", 16);
    memset(sec + 16, 0, 16);
    n = 32;
    size_t vl = strlen(vers), ml = strlen(mod) + (raw ? 0 : 32);
    n += put_uvarint(sec + n, vl);
    memcpy(sec + n, vers, vl);
    n += vl;
    n += put_uvarint(sec + n, ml);
    if (!raw) {
        memcpy(sec + n, start, 16);
        n += 16;
    }
    memcpy(sec + n, mod, strlen(mod));
    n += strlen(mod);
    if (!raw) {
        memcpy(sec + n, end, 16);
        n += 16;
    }
    const char names[] = "\0.go.buildinfo\0.shstrtab\0";
    size_t sec_off = 64, names_off = sec_off + n, sh_off = (names_off + sizeof(names) + 7) & ~7u;
    size_t total = sh_off + 3 * 64;
    unsigned char *f = calloc(1, total);
    memcpy(f,
           "\x7f"
           "ELF\x02\x01\x01",
           7);
    f[16] = 2;  /* ET_EXEC */
    f[18] = 62; /* x86-64 */
    f[20] = 1;
    memcpy(f + 40, &(uint64_t){ sh_off }, 8);
    f[52] = 64;
    f[58] = 64; /* shentsize */
    f[60] = 3;  /* shnum */
    f[62] = 2;  /* shstrndx */
    memcpy(f + sec_off, sec, n);
    memcpy(f + names_off, names, sizeof(names));
    unsigned char *s1 = f + sh_off + 64, *s2 = f + sh_off + 128;
    memcpy(s1, &(uint32_t){ 1 }, 4);
    memcpy(s1 + 4, &(uint32_t){ 1 }, 4);
    memcpy(s1 + 8, &(uint64_t){ 3 }, 8);
    memcpy(s1 + 16, &(uint64_t){ 0x500000 }, 8);
    memcpy(s1 + 24, &(uint64_t){ sec_off }, 8);
    memcpy(s1 + 32, &(uint64_t){ n }, 8);
    memcpy(s2, &(uint32_t){ 15 }, 4);
    memcpy(s2 + 4, &(uint32_t){ 3 }, 4);
    memcpy(s2 + 24, &(uint64_t){ names_off }, 8);
    memcpy(s2 + 32, &(uint64_t){ sizeof(names) }, 8);
    *len = total;
    return (char *)f;
}

TEST(go_binary_modinfo)
{
    size_t len;
    struct parsed p;
    /* a versioned main module, a replacement by another module, build lines, a trailing line
     * without newline, an rc toolchain */
    char *b = make_inline_elf("go1.21rc2",
                              "path\texample.com/cmd/x\n"
                              "mod\texample.com/cmd\tv1.4.0\th1:abc=\n"
                              "dep\tgithub.com/a/b\tv1.0.0\th1:x=\n"
                              "=>\tgithub.com/fork/b\tv1.0.1\th1:y=\n"
                              "dep\tgolang.org/x/text\tv0.3.7\n"
                              "build\t-compiler=gc\n"
                              "dep\tgopkg.in/yaml.v3\tv3.0.0-20200313102051-9f266ea9e77c\t",
                              false, &len);
    parse_buf(&p, go_parse_binary, b, len, "bin/x");
    if (p.rc != 0)
        test_fail(__FILE__, __LINE__, "%s", p.d.msg);
    ASSERT_EQ(p.l.items.n, 5);
    expect_pkg(&p, PKG_GO, "example.com/cmd", "v1.4.0");
    expect_pkg(&p, PKG_GO, "github.com/fork/b", "v1.0.1");
    expect_pkg(&p, PKG_GO, "golang.org/x/text", "v0.3.7");
    expect_pkg(&p, PKG_GO, "gopkg.in/yaml.v3", "v3.0.0-20200313102051-9f266ea9e77c");
    expect_pkg(&p, PKG_GO, "stdlib", "1.21.0-rc.2");
    ASSERT_TRUE(find(&p, PKG_GO, "github.com/a/b") == NULL);
    parsed_free(&p);
    free(b);

    /* toolchain spellings */
    static const char *const tags[][2] = { { "go1.20", "1.20.0" },
                                           { "go1.9.2rc2", "1.9.2-rc.2" },
                                           { "go1.22.1 X:boringcrypto", "1.22.1" },
                                           { "go1", "1.0.0" },
                                           { "devel go1.22-abc", NULL },
                                           { "go1.21x", NULL } };
    for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
        b = make_inline_elf(tags[i][0], "", true, &len);
        parse_buf(&p, go_parse_binary, b, len, "bin/t");
        ASSERT_EQ(p.rc, 0);
        if (tags[i][1]) {
            ASSERT_EQ(p.l.items.n, 1);
            expect_pkg(&p, PKG_GO, "stdlib", tags[i][1]);
        } else {
            ASSERT_EQ(p.l.items.n, 0);
        }
        parsed_free(&p);
        free(b);
    }
}

TEST(go_binary_bogus)
{
    size_t len;
    char *b;
    /* no markers around the module info */
    b = make_inline_elf("go1.19", "path\tx\nmod\tx\tv1.0.0\t\n", true, &len);
    expect_error(go_parse_binary, b, len, "bin/nomark", "markers");
    free(b);
    /* "=>" first */
    b = make_inline_elf("go1.19", "=>\tx\tv1.0.0\t\n", false, &len);
    expect_error(go_parse_binary, b, len, "bin/arrow", "'=>'");
    free(b);
    /* wrong column count, no version */
    b = make_inline_elf("go1.19", "dep\ta\tb\tc\td\n", false, &len);
    expect_error(go_parse_binary, b, len, "bin/cols", "line 1");
    free(b);
    b = make_inline_elf("go1.19", "mod\tx\t\t\n", false, &len);
    expect_error(go_parse_binary, b, len, "bin/nover", "no version");
    free(b);
    /* a NUL byte inside a module path */
    b = make_inline_elf("go1.19", "dep\tgithub.com/aQb\tv1.0.0\t\n", false, &len);
    char *q = memmem(b, len, "aQb", 3);
    ASSERT_TRUE(q != NULL);
    q[1] = '\0';
    expect_error(go_parse_binary, b, len, "bin/nul", "NUL");
    free(b);
    /* a string length past the section */
    b = make_inline_elf("go1.19", "", true, &len);
    char *m = memmem(b, len, "\xff Go buildinf:", 14);
    m[32] = 0x7f;
    expect_error(go_parse_binary, b, len, "bin/len", "claims");
    m[32] = (char)0xff;      /* a varint that never ends */
    memset(m + 33, 0xff, 7); /* up to the end of the section */
    expect_error(go_parse_binary, b, len, "bin/varint", "bad length");
    free(b);

    /* pointer form: pointer size 3, a pointer to nowhere */
    b = fixture("go/ptr-le64.elf", &len);
    m = memmem(b, len, "\xff Go buildinf:", 14);
    m[14] = 3;
    expect_error(go_parse_binary, b, len, "bin/ps", "pointer size");
    m[14] = 8;
    memset(m + 16, 0x41, 8);
    expect_error(go_parse_binary, b, len, "bin/ptr", "not in the file");
    free(b);
}

/* ---- go.mod -----------------------------------------------------------------------------------
 */

TEST(go_mod_fixture)
{
    struct parsed p;
    parse_file(&p, go_parse_mod, "go/src/go.mod");
    if (p.rc != 0)
        test_fail(__FILE__, __LINE__, "%s", p.d.msg);
    ASSERT_EQ(p.l.items.n, 1);
    expect_pkg(&p, PKG_GO, "golang.org/x/mod", "v0.7.0");
    parsed_free(&p);
}

TEST(go_mod_forms)
{
    static const char mod[] = "// a comment\n"
                              "module example.com/m // trailing\n"
                              "\n"
                              "go 1.21\n"
                              "toolchain go1.21.3\n"
                              "require golang.org/x/net v0.7.0\n"
                              "require (\n"
                              "\tgithub.com/a/b v1.2.3 // indirect\n"
                              "\t\"github.com/q/r\" v0.1.0\n"
                              "\tgithub.com/c/d v2.0.0+incompatible\n"
                              "\tgithub.com/e/f v1.0.0\n"
                              "\tgithub.com/g/h v1.1.0\n"
                              ")\n"
                              "exclude (\n\tgithub.com/a/b v1.2.2\n)\n"
                              "retract [v1.0.0, v1.0.5]\n"
                              "replace github.com/c/d => github.com/c/d v2.0.1+incompatible\n"
                              "replace (\n"
                              "\tgithub.com/e/f v1.0.0 => ../f\n"
                              "\tgithub.com/g/h v9.9.9 => github.com/g/h v1.1.9\n"
                              ")\n"
                              "godebug default=go1.21\n";
    struct parsed p;
    parse_buf(&p, go_parse_mod, mod, sizeof(mod) - 1, "app/go.mod");
    if (p.rc != 0)
        test_fail(__FILE__, __LINE__, "%s", p.d.msg);
    ASSERT_EQ(p.l.items.n, 5);
    expect_pkg(&p, PKG_GO, "golang.org/x/net", "v0.7.0");
    expect_pkg(&p, PKG_GO, "github.com/a/b", "v1.2.3");
    expect_pkg(&p, PKG_GO, "github.com/q/r", "v0.1.0");
    expect_pkg(&p, PKG_GO, "github.com/c/d", "v2.0.1+incompatible");
    expect_pkg(&p, PKG_GO, "github.com/g/h", "v1.1.0"); /* the replace names another version */
    ASSERT_TRUE(find(&p, PKG_GO, "github.com/e/f") == NULL);
    ASSERT_STREQ(p.l.items.v[0].name, "golang.org/x/net"); /* file order */
    parsed_free(&p);
}

TEST(go_mod_errors)
{
    static const struct {
        const char *text, *what;
    } bad[] = {
        { "module m\nrequire (\n\tgithub.com/a/b v1.0.0\n", "never closed" },
        { "module m\n)\n", "unexpected ')'" },
        { "require github.com/a/b\n", ":1:" },
        { "require (\n\tgithub.com/a/b v1 v2\n)\n", ":2:" },
        { "require \"github.com/a/b v1\n", "unterminated" },
        { "replace a b c\n", "replace" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_error(go_parse_mod, bad[i].text, strlen(bad[i].text), "src/go.mod", bad[i].what);
    static const char nul[] = "module m\nrequire x v1\x00\n";
    expect_error(go_parse_mod, nul, sizeof(nul) - 1, "src/go.mod", "NUL");
}

/* ---- real binaries of the polyglot image (when the OCI layout is there) ---------------------- */

static bool interest_go(const char *path, uint64_t size, void *ctx)
{
    (void)size;
    (void)ctx;
    return strcmp(path, "usr/local/bin/scanme") == 0 || strcmp(path, "usr/bin/shfmt") == 0;
}

/* Layer blob paths of image ref in the OCI layout dir (up to 8); false when absent. */
static bool image_layer_paths(const char *dir, const char *ref, char layers[8][512], size_t *n)
{
    json_error_t je;
    char path[512];
    snprintf(path, sizeof(path), "%s/index.json", dir);
    json_t *idx = json_load_file(path, 0, &je), *m;
    size_t i;
    char digest[128] = "";
    json_array_foreach(json_object_get(idx, "manifests"), i, m)
    {
        const char *r = json_string_value(json_object_get(json_object_get(m, "annotations"),
                                                          "org.opencontainers.image.ref.name"));
        const char *dg = json_string_value(json_object_get(m, "digest"));
        if (r && dg && strcmp(r, ref) == 0 && strlen(dg) < sizeof(digest))
            snprintf(digest, sizeof(digest), "%s", dg);
    }
    json_decref(idx);
    if (!digest[0])
        return false;
    snprintf(path, sizeof(path), "%s/blobs/sha256/%s", dir, digest + 7);
    json_t *man = json_load_file(path, 0, &je);
    *n = 0;
    json_array_foreach(json_object_get(man, "layers"), i, m)
    {
        const char *dg = json_string_value(json_object_get(m, "digest"));
        if (dg && *n < 8)
            snprintf(layers[(*n)++], 512, "%s/blobs/sha256/%s", dir, dg + 7);
    }
    json_decref(man);
    return *n > 0;
}

TEST(go_binary_real_image)
{
    const char *dir = getenv("VIGIL_TEST_IMAGES");
    char layers[8][512];
    size_t n = 0;
    if (!dir || !image_layer_paths(dir, "polyglot:bookworm", layers, &n)) {
        fprintf(stderr, "note: VIGIL_TEST_IMAGES unset or without polyglot:bookworm; the real "
                        "Go binaries are not checked\n");
        return;
    }
    int seen = 0;
    for (size_t i = 0; i < n; i++) {
        struct reader *f, *z;
        struct diag d = { 0 };
        struct layer_contents lc;
        ASSERT_EQ(reader_file_open(layers[i], &f, &d), 0);
        ASSERT_EQ(decomp_open(f, NULL, &z, NULL, &d), 0);
        layer_contents_init(&lc);
        int rc = layer_collect(z, interest_go, NULL, NULL, &lc, &d);
        if (rc)
            test_fail(__FILE__, __LINE__, "%s: %s", layers[i], d.msg);
        reader_close(z);
        for (size_t j = 0; j < lc.files.n; j++) {
            const struct layer_file *lf = &lc.files.v[j];
            if (!lf->data.len || !interest_go(lf->path, 0, NULL))
                continue;
            struct parsed p;
            parse_buf(&p, go_parse_binary, lf->data.ptr, lf->data.len, lf->path);
            if (p.rc != 0)
                test_fail(__FILE__, __LINE__, "%s: %s", lf->path, p.d.msg);
            expect_pkg(&p, PKG_GO, "stdlib", "1.19.8");
            if (strcmp(lf->path, "usr/local/bin/scanme") == 0) {
                /* module mode: two deps, the main module is "(devel)" */
                ASSERT_EQ(p.l.items.n, 3);
                expect_pkg(&p, PKG_GO, "golang.org/x/net", "v0.7.0");
                expect_pkg(&p, PKG_GO, "gopkg.in/yaml.v2", "v2.4.0");
            } else {
                /* Debian's GOPATH-mode build: the toolchain only */
                ASSERT_EQ(p.l.items.n, 1);
            }
            seen++;
            parsed_free(&p);
        }
        layer_contents_release(&lc);
    }
    ASSERT_EQ(seen, 2);
}

/* ---- oracle tables --------------------------------------------------------------------------- */

TEST(version_gomod_table)
{
    vtable_check("gomod", gomod_vercmp, 10000, 100);
    vtable_sort_check("gomod", gomod_vercmp, false);
}

TEST(version_gomod_cases)
{
    ASSERT_EQ(sgn(gomod_vercmp(STR_LIT("1.21rc2"), STR_LIT("1.21.0"))), -1);
    ASSERT_EQ(sgn(gomod_vercmp(STR_LIT("go1.21rc2"), STR_LIT("1.21.0-rc.2"))), 0);
    ASSERT_EQ(sgn(gomod_vercmp(STR_LIT("v1.2.3"), STR_LIT("1.2.3"))), 0);
    ASSERT_EQ(sgn(gomod_vercmp(STR_LIT("v2.0.0+incompatible"), STR_LIT("v2.0.0"))), 0);
    ASSERT_EQ(sgn(gomod_vercmp(STR_LIT("v0.0.0-20191109021931-daa7c04131f5"), STR_LIT("v0.0.0"))),
              -1);
    ASSERT_EQ(sgn(gomod_vercmp(STR_LIT("junk"), STR_LIT("v0.0.0"))), -1);
    ASSERT_EQ(sgn(gomod_vercmp(STR_LIT("junk"), STR_LIT("other junk"))), 0);
    ASSERT_EQ(gomod_version_check(STR_LIT("v1.2.3-pre.1+build"), NULL), 0);
    ASSERT_EQ(gomod_version_check(STR_LIT("go1.21rc2"), NULL), 0);
    struct diag d = { 0 };
    ASSERT_EQ(gomod_version_check(STR_LIT("v1.2.3-01"), &d), -ERR_VERSION);
    ASSERT_TRUE(strstr(d.msg, "v1.2.3-01") != NULL);
    ASSERT_EQ(gomod_version_check(STR_LIT("v1.2-pre"), NULL), -ERR_VERSION);
}

TEST(version_cargo_table)
{
    vtable_check("cargo", cargo_vercmp, 10000, 100);
    vtable_sort_check("cargo", cargo_vercmp, false);
}

TEST(version_cargo_cases)
{
    ASSERT_EQ(sgn(cargo_vercmp(STR_LIT("1.0.0-alpha"), STR_LIT("1.0.0"))), -1);
    ASSERT_EQ(sgn(cargo_vercmp(STR_LIT("1.0.0+a"), STR_LIT("1.0.0+b"))), 0);
    ASSERT_EQ(sgn(cargo_vercmp(STR_LIT("1.0.0-2"), STR_LIT("1.0.0-10"))), -1);
    ASSERT_EQ(sgn(cargo_vercmp(STR_LIT("1.0.0-99999999999999999999"),
                               STR_LIT("1.0.0-100000000000000000000"))),
              -1);
    /* not SemVer: below every version, ordered by bytes among themselves */
    ASSERT_EQ(sgn(cargo_vercmp(STR_LIT("1.0"), STR_LIT("0.0.0"))), -1);
    ASSERT_EQ(sgn(cargo_vercmp(STR_LIT("1.0"), STR_LIT("1.1"))), -1);
    ASSERT_EQ(sgn(cargo_vercmp(STR_LIT("1.0"), STR_LIT("1.0"))), 0);
    ASSERT_EQ(cargo_version_check(STR_LIT("1.2.3-rc.1+build.01"), NULL), 0);
    struct diag d = { 0 };
    ASSERT_EQ(cargo_version_check(STR_LIT("01.2.3"), &d), -ERR_VERSION);
    ASSERT_TRUE(strstr(d.msg, "01.2.3") != NULL);
    ASSERT_EQ(cargo_version_check(STR_LIT("1.2.3-01"), NULL), -ERR_VERSION);
    ASSERT_EQ(cargo_version_check(STR_LIT("v1.2.3"), NULL), -ERR_VERSION);
    ASSERT_EQ(cargo_version_check(STR_LIT("1.2.3-"), NULL), -ERR_VERSION);
}

TEST(version_nuget_table)
{
    vtable_check("nuget", nuget_vercmp, 10000, 100);
    vtable_sort_check("nuget", nuget_vercmp, false);
}

TEST(version_nuget_cases)
{
    ASSERT_EQ(sgn(nuget_vercmp(STR_LIT("1.0"), STR_LIT("1.0.0.0"))), 0);
    ASSERT_EQ(sgn(nuget_vercmp(STR_LIT("1.01.1"), STR_LIT("1.1.1"))), 0);
    ASSERT_EQ(sgn(nuget_vercmp(STR_LIT("1.0.0.1"), STR_LIT("1.0.0"))), 1);
    ASSERT_EQ(sgn(nuget_vercmp(STR_LIT("1.0.0-BETA"), STR_LIT("1.0.0-beta"))), 0);
    ASSERT_EQ(sgn(nuget_vercmp(STR_LIT("1.0.0-beta.2"), STR_LIT("1.0.0-beta.11"))), -1);
    ASSERT_EQ(sgn(nuget_vercmp(STR_LIT("1.0.0-beta2"), STR_LIT("1.0.0-beta11"))), 1);
    ASSERT_EQ(sgn(nuget_vercmp(STR_LIT("1.0.7+r3456"), STR_LIT("1.0.7"))), 0);
    ASSERT_EQ(sgn(nuget_vercmp(STR_LIT("1.0.0-rc"), STR_LIT("1.0.0"))), -1);
    ASSERT_EQ(nuget_version_check(STR_LIT("1.2.3.4-rc.1+meta"), NULL), 0);
    ASSERT_EQ(nuget_version_check(STR_LIT("1.2.3.4.5"), NULL), -ERR_VERSION);
    ASSERT_EQ(nuget_version_check(STR_LIT("1.0.0-a..b"), NULL), -ERR_VERSION);
}

/* ---- Rust ------------------------------------------------------------------------------------ */

TEST(cargo_lock_versions)
{
    struct parsed p;
    /* v1: [root] and [metadata] checksums; the root has no source and is not reported */
    parse_file(&p, rust_parse_cargo_lock, "rust/Cargo.lock.v1");
    if (p.rc)
        test_fail(__FILE__, __LINE__, "%s", p.d.msg);
    ASSERT_EQ(p.l.items.n, 2);
    expect_pkg(&p, PKG_CARGO, "libc", "0.2.40");
    expect_pkg(&p, PKG_CARGO, "smallvec", "0.6.9");
    parsed_free(&p);
    /* v3: a git source is reported, path crates (no source) are not */
    parse_file(&p, rust_parse_cargo_lock, "rust/Cargo.lock.v3");
    if (p.rc)
        test_fail(__FILE__, __LINE__, "%s", p.d.msg);
    ASSERT_EQ(p.l.items.n, 5);
    expect_pkg(&p, PKG_CARGO, "regex", "1.5.4");
    expect_pkg(&p, PKG_CARGO, "aho-corasick", "0.7.18");
    expect_pkg(&p, PKG_CARGO, "time", "0.1.43");
    ASSERT_TRUE(find(&p, PKG_CARGO, "app") == NULL);
    ASSERT_TRUE(find(&p, PKG_CARGO, "util") == NULL);
    ASSERT_STREQ(p.l.items.v[0].db_path, "rust/Cargo.lock.v3");
    parsed_free(&p);
    /* v4: sparse registry, build metadata kept in the version; [[patch.unused]] is not a
     * package */
    parse_file(&p, rust_parse_cargo_lock, "rust/Cargo.lock.v4");
    if (p.rc)
        test_fail(__FILE__, __LINE__, "%s", p.d.msg);
    ASSERT_EQ(p.l.items.n, 3);
    expect_pkg(&p, PKG_CARGO, "internal-crate", "2.0.0-beta.1+build.5");
    expect_pkg(&p, PKG_CARGO, "tokio", "1.18.0");
    ASSERT_TRUE(find(&p, PKG_CARGO, "unused-patch") == NULL);
    parsed_free(&p);
}

TEST(cargo_lock_toml_forms)
{
    static const char lock[] = "\xef\xbb\xbfversion = 3 # comment\r\n"
                               "[[package]]\n"
                               "name = 'lit\\eral' # literal strings keep backslashes\n"
                               "\"version\" = \"1.0.0\"\n"
                               "source = \"registry+x\\u0041\\\"\"\n"
                               "dependencies = [\n  [1, 2], { a = true, b.c = -1_000 },\n"
                               "  # comment inside an array\n  \"x\",\n]\n"
                               "[[ package ]]\n"
                               "name = \"esc\\u00e9\"\n"
                               "version = \"2.0.0\"\n"
                               "source = \"git+y\"\n"
                               "[metadata]\n"
                               "\"checksum a 1 (r)\" = \"00\"\n";
    struct parsed p;
    parse_buf(&p, rust_parse_cargo_lock, lock, sizeof(lock) - 1, "Cargo.lock");
    if (p.rc)
        test_fail(__FILE__, __LINE__, "%s", p.d.msg);
    ASSERT_EQ(p.l.items.n, 2);
    expect_pkg(&p, PKG_CARGO, "lit\\eral", "1.0.0");
    expect_pkg(&p, PKG_CARGO, "esc\xc3\xa9", "2.0.0");
    parsed_free(&p);
}

TEST(cargo_lock_errors)
{
    static const struct {
        const char *text, *what;
    } bad[] = {
        { "[[package]]\nname = \"a\"\nversion = \"1\"\nname = \"b\"\n", "duplicate key" },
        { "[[package]]\nname = \"a\"\n", ":1:" },
        { "[[package]]\nname = \"a\nversion = \"1\"\n", "unterminated string" },
        { "[[package]]\nname = \"\"\"a\"\"\"\n", "multi-line" },
        { "[[package]\nname = \"a\"\n", "expected ']]'" },
        { "[[package]]\nname = \"a\" version = \"1\"\n", "end of the line" },
        { "[[package]]\nname = a\n", ":2:8" },
        { "[[package]]\nname = 1.5\n", "malformed value" },
        { "[[package]]\nname = 1\nversion = \"1\"\n", "not a string" },
        { "[[package]]\ndependencies = [\n \"a\"\n", "expected ',' or ']'" },
        { "x = [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n",
          "nested" },
        { "[[package]]\nname = \"\\q\"\n", "unknown escape" },
        { "x = 1979-05-27\n", "malformed value" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_error(rust_parse_cargo_lock, bad[i].text, strlen(bad[i].text), "app/Cargo.lock",
                     bad[i].what);
}

TEST(cargo_auditable_fixture)
{
    struct parsed p;
    /* root crate, git crate skipped; build-kind cc kept */
    parse_file(&p, rust_parse_auditable, "rust/auditable.elf");
    if (p.rc)
        test_fail(__FILE__, __LINE__, "%s", p.d.msg);
    ASSERT_EQ(p.l.items.n, 4);
    expect_pkg(&p, PKG_CARGO, "cc", "1.0.73");
    expect_pkg(&p, PKG_CARGO, "libc", "0.2.126");
    expect_pkg(&p, PKG_CARGO, "regex", "1.5.4");
    expect_pkg(&p, PKG_CARGO, "regex-syntax", "0.6.25");
    ASSERT_TRUE(find(&p, PKG_CARGO, "mytool") == NULL);
    ASSERT_TRUE(find(&p, PKG_CARGO, "forked") == NULL);
    parsed_free(&p);
    /* no section, not ELF: nothing, no error */
    parse_file(&p, rust_parse_auditable, "rust/auditable-none.elf");
    ASSERT_EQ(p.rc, 0);
    ASSERT_EQ(p.l.items.n, 0);
    parsed_free(&p);
    parse_file(&p, rust_parse_auditable, "rust/Cargo.lock.v3");
    ASSERT_EQ(p.rc, 0);
    ASSERT_EQ(p.l.items.n, 0);
    parsed_free(&p);
}

/* The fixture binary with its .dep-v0 section holding `payload` instead (same length or
 * shorter: the section size is rewritten). */
static char *auditable_with(const unsigned char *payload, size_t n, size_t *len)
{
    char *b = fixture("rust/auditable.elf", len);
    /* find the section through its header: the name table holds ".dep-v0" */
    struct str data = str_make(b, *len);
    uint64_t shoff;
    uint16_t shnum;
    memcpy(&shoff, b + 40, 8);
    memcpy(&shnum, b + 60, 2);
    uint16_t shstrndx;
    memcpy(&shstrndx, b + 62, 2);
    uint64_t stroff;
    memcpy(&stroff, b + shoff + (uint64_t)shstrndx * 64 + 24, 8);
    for (uint16_t i = 0; i < shnum; i++) {
        char *sh = b + shoff + (uint64_t)i * 64;
        uint32_t name;
        memcpy(&name, sh, 4);
        if (strcmp(b + stroff + name, ".dep-v0") != 0)
            continue;
        uint64_t off, size;
        memcpy(&off, sh + 24, 8);
        memcpy(&size, sh + 32, 8);
        ASSERT_TRUE(n <= size);
        memcpy(b + off, payload, n);
        size = n;
        memcpy(sh + 32, &size, 8);
        (void)data;
        return b;
    }
    test_fail(__FILE__, __LINE__, "fixture has no .dep-v0");
}

static void auditable_json_error(const char *json, const char *what)
{
    unsigned char z[512];
    uLongf zn = sizeof(z);
    ASSERT_EQ(compress2(z, &zn, (const Bytef *)json, (uLong)strlen(json), 9), Z_OK);
    size_t len;
    char *b = auditable_with(z, zn, &len);
    expect_error(rust_parse_auditable, b, len, "usr/bin/tool", what);
    free(b);
}

TEST(cargo_auditable_errors)
{
    size_t len;
    char *b;
    /* not zlib, cut short */
    b = auditable_with((const unsigned char *)"garbage!", 8, &len);
    expect_error(rust_parse_auditable, b, len, "usr/bin/tool", "zlib");
    free(b);
    unsigned char z[512];
    uLongf zn = sizeof(z);
    const char *json =
        "{\"packages\":[{\"name\":\"a\",\"version\":\"1.0.0\",\"source\":\"crates.io\"}]}";
    ASSERT_EQ(compress2(z, &zn, (const Bytef *)json, (uLong)strlen(json), 9), Z_OK);
    b = auditable_with(z, zn / 2, &len);
    expect_error(rust_parse_auditable, b, len, "usr/bin/tool", "cut short");
    free(b);
    auditable_json_error("{\"packages\":[", "JSON");
    auditable_json_error("{\"pkgs\":[]}", "\"packages\"");
    auditable_json_error("{\"packages\":[{\"name\":\"a\",\"version\":\"1\"}]}", "packages[0]");
    auditable_json_error(
        "{\"packages\":[{\"name\":\"a\",\"version\":\"1\",\"source\":\"crates.io\","
        "\"dependencies\":[7]}]}",
        "out of range");
    auditable_json_error("{\"packages\":[{\"name\":\"a\",\"version\":\"1\",\"source\":\"x\","
                         "\"root\":1}]}",
                         "root");
    /* truncated ELF */
    b = fixture("rust/auditable.elf", &len);
    expect_error(rust_parse_auditable, b, len - 100, "usr/bin/tool", "past the end");
    free(b);
}

/* ---- .NET ------------------------------------------------------------------------------------ */

TEST(dotnet_deps_json)
{
    struct parsed p;
    parse_file(&p, dotnet_parse_deps_json, "dotnet/webapp.deps.json");
    if (p.rc)
        test_fail(__FILE__, __LINE__, "%s", p.d.msg);
    ASSERT_EQ(p.l.items.n, 3);
    expect_pkg(&p, PKG_NUGET, "Newtonsoft.Json", "12.0.1");
    expect_pkg(&p, PKG_NUGET, "System.Text.Encodings.Web", "4.5.0");
    expect_pkg(&p, PKG_NUGET, "Microsoft.NETCore.App.Runtime.linux-x64", "6.0.5");
    ASSERT_TRUE(find(&p, PKG_NUGET, "WebApp") == NULL);
    ASSERT_TRUE(find(&p, PKG_NUGET, "Shared.Lib") == NULL);
    parsed_free(&p);
    static const char empty[] = "{\"runtimeTarget\":{}}";
    parse_buf(&p, dotnet_parse_deps_json, empty, sizeof(empty) - 1, "x.deps.json");
    ASSERT_EQ(p.rc, 0);
    ASSERT_EQ(p.l.items.n, 0);
    parsed_free(&p);
}

TEST(dotnet_packages_lock)
{
    struct parsed p;
    parse_file(&p, dotnet_parse_packages_lock, "dotnet/packages.lock.json");
    if (p.rc)
        test_fail(__FILE__, __LINE__, "%s", p.d.msg);
    ASSERT_EQ(p.l.items.n, 3); /* System.Text.Encodings.Web once for both frameworks */
    expect_pkg(&p, PKG_NUGET, "Newtonsoft.Json", "12.0.1");
    expect_pkg(&p, PKG_NUGET, "System.Text.Encodings.Web", "4.5.0");
    expect_pkg(&p, PKG_NUGET, "runtime.native.System.Security.Cryptography.OpenSsl", "4.3.0");
    ASSERT_TRUE(find(&p, PKG_NUGET, "shared.lib") == NULL);
    parsed_free(&p);
}

TEST(dotnet_errors)
{
    static const struct {
        const char *text, *what;
        bool lock;
    } bad[] = {
        { "{\"libraries\":{\"A/1\":{\"type\":\"package\"},}}", "line 1 column", false },
        { "[1]", "not a JSON object", false },
        { "{\"libraries\":[]}", "\"libraries\"", false },
        { "{\"libraries\":{\"NoSlash\":{\"type\":\"package\"}}}", "Name/Version", false },
        { "{\"libraries\":{\"A/1\":{}}}", "\"type\"", false },
        { "{\"libraries\":{\"A/1\":{\"type\":\"package\"},\"A/1\":{\"type\":\"package\"}}}",
          "duplicate", false },
        { "{\"version\":1}", "\"dependencies\"", true },
        { "{\"dependencies\":{\"net6.0\":{\"A\":{\"type\":\"Direct\"}}}}", "resolved", true },
        { "{\"dependencies\":{\"net6.0\":[]}}", "not an object", true },
        { "{\"dependencies\":{\"net6.0\":{\n\"A\":{\"resolved\":\"1\"\n", "line 3", true },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_error(bad[i].lock ? dotnet_parse_packages_lock : dotnet_parse_deps_json, bad[i].text,
                     strlen(bad[i].text), "app/x.json", bad[i].what);
}
