/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the image sources: reference parsing, manifest/index/config parsing,
 * platform selection, docker-archive manifest.json and tar index, auth challenges, and the
 * oci:/docker-archive: sources over the small fixtures in tests/data/image (regenerate them
 * with tests/data/image/make-fixtures.py). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/hash.h"
#include "base/xalloc.h"
#include "image/internal.h"
#include "image/manifest.h"
#include "image/ref.h"
#include "image/source.h"
#include "test.h"

#define SHA_A "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

/* ---- helpers ---- */

static char *fixture_path(const char *name)
{
    return xasprintf("%s/image/%s", test_data_dir(), name);
}

static void read_fixture(const char *name, struct buf *out)
{
    char *path = fixture_path(name);
    struct reader *r = NULL;
    buf_init(out, 1 << 24);
    if (reader_file_open(path, &r, NULL) != 0)
        test_fail(__FILE__, __LINE__, "cannot open fixture %s", path);
    free(path);
    ASSERT_EQ(reader_read_all(r, out), 0);
    reader_close(r);
}

static int parse_text(const char *json, const char *hint, struct manifest *m, struct diag *d)
{
    return manifest_parse(json, strlen(json), hint, m, d);
}

static void copy_file(const char *from, const char *to)
{
    struct buf b;
    buf_init(&b, 1 << 24);
    struct reader *r = NULL;
    ASSERT_EQ(reader_file_open(from, &r, NULL), 0);
    ASSERT_EQ(reader_read_all(r, &b), 0);
    reader_close(r);
    FILE *f = fopen(to, "wb");
    ASSERT_TRUE(f != NULL);
    ASSERT_EQ(fwrite(b.data ? b.data : "", 1, b.len, f), b.len);
    fclose(f);
    buf_release(&b);
}

/* Copy the fixture layout into a scratch dir (so tests can break it). */
static char *copy_layout(const char *tag)
{
    char *src = fixture_path("layout");
    char *dst = xasprintf("%s/%s", test_tmpdir(), tag);
    char *p = xasprintf("%s/blobs", dst);
    char *q = xasprintf("%s/blobs/sha256", dst);
    ASSERT_EQ(mkdir(dst, 0755), 0);
    ASSERT_EQ(mkdir(p, 0755), 0);
    ASSERT_EQ(mkdir(q, 0755), 0);
    const char *names[] = { "oci-layout", "index.json" };
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        char *a = xasprintf("%s/%s", src, names[i]), *b = xasprintf("%s/%s", dst, names[i]);
        copy_file(a, b);
        free(a);
        free(b);
    }
    char *srcblobs = xasprintf("%s/blobs/sha256", src);
    FILE *ls = NULL;
    char *cmd = xasprintf("ls '%s'", srcblobs);
    ls = popen(cmd, "r");
    ASSERT_TRUE(ls != NULL);
    char line[256];
    while (fgets(line, sizeof(line), ls)) {
        line[strcspn(line, "\n")] = '\0';
        char *a = xasprintf("%s/%s", srcblobs, line), *b = xasprintf("%s/%s", q, line);
        copy_file(a, b);
        free(a);
        free(b);
    }
    pclose(ls);
    free(cmd);
    free(srcblobs);
    free(src);
    free(p);
    free(q);
    return dst;
}

/* Read a blob stream to the end: the final status (0 or the error of the last read). */
static int drain(struct reader *r, unsigned long long *n)
{
    char tmp[4096];
    *n = 0;
    for (;;) {
        ssize_t got = reader_read(r, tmp, sizeof(tmp));
        if (got <= 0)
            return (int)got;
        *n += (unsigned long long)got;
    }
}

/* ---- references ---- */

TEST(imgsrc_ref_oci_path_ends_at_first_colon)
{
    struct image_ref r;
    ASSERT_EQ(image_ref_parse("oci:/srv/images:debian:bookworm-minbase", &r, NULL), 0);
    ASSERT_EQ(r.transport, TRANSPORT_OCI);
    ASSERT_STREQ(r.path, "/srv/images");
    ASSERT_STREQ(r.sub, "debian:bookworm-minbase");
    ASSERT_EQ(r.index, -1);
    image_ref_release(&r);

    ASSERT_EQ(image_ref_parse("oci:relative/dir", &r, NULL), 0);
    ASSERT_STREQ(r.path, "relative/dir");
    ASSERT_TRUE(r.sub == NULL);
    image_ref_release(&r);

    ASSERT_EQ(image_ref_parse("oci:dir:@2", &r, NULL), 0);
    ASSERT_EQ(r.index, 2);
    ASSERT_TRUE(r.sub == NULL);
    image_ref_release(&r);

    struct diag d = { 0 };
    ASSERT_EQ(image_ref_parse("oci::x", &r, &d), -ERR_INVALID);
    ASSERT_TRUE(strstr(d.msg, "missing path") != NULL);
    ASSERT_EQ(image_ref_parse("oci:dir:@x", &r, &d), -ERR_INVALID);
}

TEST(imgsrc_ref_docker_archive)
{
    struct image_ref r;
    struct diag d = { 0 };
    ASSERT_EQ(image_ref_parse("docker-archive:/srv/a.tar:alp:1", &r, NULL), 0);
    ASSERT_EQ(r.transport, TRANSPORT_DOCKER_ARCHIVE);
    ASSERT_STREQ(r.path, "/srv/a.tar");
    ASSERT_STREQ(r.sub, "alp:1");
    image_ref_release(&r);
    ASSERT_EQ(image_ref_parse("docker-archive:a.tar", &r, NULL), 0);
    ASSERT_TRUE(r.sub == NULL);
    image_ref_release(&r);
    /* a digest cannot name an archive entry, and names must be valid */
    ASSERT_EQ(image_ref_parse("docker-archive:a.tar:x@" SHA_A, &r, &d), -ERR_INVALID);
    ASSERT_EQ(image_ref_parse("docker-archive:a.tar:Upper:1", &r, &d), -ERR_INVALID);
    ASSERT_TRUE(strstr(d.msg, "docker-archive:a.tar:Upper:1") != NULL);
}

TEST(imgsrc_ref_docker_hub_short_names)
{
    struct image_ref r;
    ASSERT_EQ(image_ref_parse("docker://debian:12", &r, NULL), 0);
    ASSERT_EQ(r.transport, TRANSPORT_DOCKER);
    ASSERT_STREQ(r.name.domain, "docker.io");
    ASSERT_STREQ(r.name.repo, "library/debian");
    ASSERT_STREQ(r.name.tag, "12");
    ASSERT_STREQ(docker_name_host(&r.name), "registry-1.docker.io");
    image_ref_release(&r);

    ASSERT_EQ(image_ref_parse("docker://bitnami/redis", &r, NULL), 0);
    ASSERT_STREQ(r.name.repo, "bitnami/redis");
    ASSERT_STREQ(r.name.tag, "latest");
    image_ref_release(&r);

    ASSERT_EQ(image_ref_parse("docker://index.docker.io/alpine", &r, NULL), 0);
    ASSERT_STREQ(r.name.domain, "docker.io");
    ASSERT_STREQ(r.name.repo, "library/alpine");
    char *s = docker_name_format(&r.name);
    ASSERT_STREQ(s, "docker.io/library/alpine:latest");
    free(s);
    image_ref_release(&r);
}

TEST(imgsrc_ref_docker_hosts_ports_digests)
{
    struct image_ref r;
    ASSERT_EQ(image_ref_parse("docker://127.0.0.1:5000/team/app:v1.2", &r, NULL), 0);
    ASSERT_STREQ(r.name.domain, "127.0.0.1:5000");
    ASSERT_STREQ(docker_name_host(&r.name), "127.0.0.1:5000");
    ASSERT_STREQ(r.name.repo, "team/app");
    ASSERT_STREQ(r.name.tag, "v1.2");
    ASSERT_TRUE(r.name.digest == NULL);
    image_ref_release(&r);

    ASSERT_EQ(image_ref_parse("docker://localhost/app@" SHA_A, &r, NULL), 0);
    ASSERT_STREQ(r.name.domain, "localhost");
    ASSERT_STREQ(r.name.digest, SHA_A);
    ASSERT_TRUE(r.name.tag == NULL); /* a digest alone: no default tag */
    image_ref_release(&r);

    ASSERT_EQ(image_ref_parse("docker://[::1]:5000/a_b/c__d/e-f:t", &r, NULL), 0);
    ASSERT_STREQ(r.name.domain, "[::1]:5000");
    ASSERT_STREQ(r.name.repo, "a_b/c__d/e-f");
    image_ref_release(&r);

    ASSERT_EQ(image_ref_parse("docker://registry.example.com/x", &r, NULL), 0);
    ASSERT_STREQ(r.name.domain, "registry.example.com");
    ASSERT_STREQ(r.name.repo, "x"); /* library/ only on Docker Hub */
    image_ref_release(&r);
}

TEST(imgsrc_ref_rejects_bad_names)
{
    struct image_ref r;
    struct diag d = { 0 };
    const char *bad[] = {
        "docker://Debian:12",         /* upper-case repository */
        "docker://debian:",           /* empty tag */
        "docker://debian:-x",         /* tag starts with '-' */
        "docker://debian@sha256:abc", /* short digest */
        "docker://host:99999/x",      /* port out of range */
        "docker://a..b/x:1",          /* empty domain label */
        "docker://x/a__-b",           /* bad separator */
        "docker://x/",                /* empty path */
        "docker:debian",              /* missing // */
        "docker://",                  /* nothing */
        "debian:12",                  /* no transport */
        "oci:dir\n:x",                /* control character */
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        d.msg[0] = '\0';
        int rc = image_ref_parse(bad[i], &r, &d);
        if (rc == 0)
            test_fail(__FILE__, __LINE__, "accepted '%s'", bad[i]);
        ASSERT_TRUE(d.msg[0] != '\0');
    }
    ASSERT_EQ(image_ref_parse("dir:/srv/x", &r, &d), -ERR_UNSUPPORTED);
    ASSERT_TRUE(strstr(d.msg, "unknown transport 'dir'") != NULL);
    /* 128-character tags are fine, 129 are not */
    char tag[200];
    memset(tag, 'a', 128);
    tag[128] = '\0';
    char *ok = xasprintf("docker://x/y:%s", tag);
    ASSERT_EQ(image_ref_parse(ok, &r, NULL), 0);
    image_ref_release(&r);
    free(ok);
    char *toolong = xasprintf("docker://x/y:%sa", tag);
    ASSERT_EQ(image_ref_parse(toolong, &r, NULL), -ERR_INVALID);
    free(toolong);
}

TEST(imgsrc_docker_name_same_tagged)
{
    struct docker_name a, b, c;
    ASSERT_EQ(docker_name_parse(STR_LIT("alp:1"), true, &a, NULL), 0);
    ASSERT_EQ(docker_name_parse(STR_LIT("docker.io/library/alp:1"), true, &b, NULL), 0);
    ASSERT_EQ(docker_name_parse(STR_LIT("alp"), true, &c, NULL), 0);
    ASSERT_TRUE(docker_name_same_tagged(&a, &b));
    ASSERT_FALSE(docker_name_same_tagged(&a, &c)); /* c is alp:latest */
    docker_name_release(&a);
    docker_name_release(&b);
    docker_name_release(&c);
}

/* ---- manifests ---- */

TEST(imgsrc_manifest_oci_fixture)
{
    struct buf b;
    struct manifest m;
    read_fixture("oci-manifest.json", &b);
    ASSERT_EQ(manifest_parse(b.data, b.len, NULL, &m, NULL), 0);
    ASSERT_EQ(m.kind, MANIFEST_OCI);
    ASSERT_STREQ(m.media_type, MT_OCI_MANIFEST);
    ASSERT_STREQ(m.config.media_type, MT_OCI_CONFIG);
    ASSERT_EQ(m.config.size, 1);
    ASSERT_EQ(m.nlayers, 2);
    ASSERT_STREQ(m.layers[1].media_type, "application/vnd.oci.image.layer.v1.tar+zstd");
    ASSERT_EQ(m.layers[1].size, 3);
    ASSERT_TRUE(digest_is_sha256(str_from(m.layers[0].digest)));
    manifest_release(&m);
    buf_release(&b);
}

TEST(imgsrc_manifest_docker_fixtures)
{
    struct buf b;
    struct manifest m;
    read_fixture("docker-manifest.json", &b);
    ASSERT_EQ(manifest_parse(b.data, b.len, MT_DOCKER_MANIFEST, &m, NULL), 0);
    ASSERT_EQ(m.kind, MANIFEST_DOCKER);
    ASSERT_STREQ(m.config.media_type, MT_DOCKER_CONFIG);
    ASSERT_EQ(m.nlayers, 1);
    manifest_release(&m);
    buf_release(&b);

    read_fixture("docker-list.json", &b);
    ASSERT_EQ(manifest_parse(b.data, b.len, NULL, &m, NULL), 0);
    ASSERT_EQ(m.kind, MANIFEST_DOCKER_LIST);
    ASSERT_EQ(m.nentries, 4);
    ASSERT_STREQ(m.entries[0].architecture, "arm");
    ASSERT_STREQ(m.entries[0].variant, "v7");
    ASSERT_STREQ(m.entries[3].os, "windows");
    manifest_release(&m);
    buf_release(&b);
}

TEST(imgsrc_manifest_schema1_unsupported)
{
    struct buf b;
    struct manifest m;
    struct diag d = { 0 };
    read_fixture("schema1.json", &b);
    ASSERT_EQ(manifest_parse(b.data, b.len, NULL, &m, &d), -ERR_UNSUPPORTED);
    ASSERT_TRUE(strstr(d.msg, "schema 1") != NULL);
    /* the media type alone says so too */
    ASSERT_EQ(manifest_parse(b.data, b.len, MT_DOCKER_V1_SIGNED, &m, &d), -ERR_UNSUPPORTED);
    buf_release(&b);
}

TEST(imgsrc_manifest_shape_without_media_type)
{
    struct manifest m;
    ASSERT_EQ(parse_text("{\"schemaVersion\":2,\"manifests\":[]}", NULL, &m, NULL), 0);
    ASSERT_EQ(m.kind, MANIFEST_OCI_INDEX);
    ASSERT_EQ(m.nentries, 0);
    manifest_release(&m);
    ASSERT_EQ(parse_text("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a\",\"digest\":\"" SHA_A
                         "\",\"size\":0},\"layers\":[]}",
                         NULL, &m, NULL),
              0);
    ASSERT_EQ(m.kind, MANIFEST_OCI);
    manifest_release(&m);
}

TEST(imgsrc_manifest_rejects_bad_documents)
{
    struct manifest m;
    struct diag d = { 0 };
    const char *layer = "{\"mediaType\":\"x\",\"digest\":\"" SHA_A "\",\"size\":1}";
    char *dup = xasprintf("{\"schemaVersion\":2,\"schemaVersion\":2,\"manifests\":[]}");
    ASSERT_EQ(parse_text(dup, NULL, &m, &d), -ERR_MANIFEST_INVALID);
    ASSERT_TRUE(strstr(d.msg, "invalid JSON") != NULL);
    free(dup);
    ASSERT_EQ(parse_text("{\"schemaVersion\":2,\"manifests\":[]} x", NULL, &m, &d),
              -ERR_MANIFEST_INVALID);
    ASSERT_EQ(parse_text("[]", NULL, &m, &d), -ERR_MANIFEST_INVALID);
    ASSERT_EQ(parse_text("{\"schemaVersion\":3,\"manifests\":[]}", NULL, &m, &d),
              -ERR_MANIFEST_INVALID);
    ASSERT_EQ(parse_text("{\"schemaVersion\":2}", NULL, &m, &d), -ERR_MANIFEST_INVALID);
    /* unknown media types are unsupported, contradicting hints are invalid */
    ASSERT_EQ(parse_text("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.artifact."
                         "manifest.v1+json\"}",
                         NULL, &m, &d),
              -ERR_UNSUPPORTED);
    ASSERT_EQ(parse_text("{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_INDEX
                         "\",\"manifests\":[]}",
                         MT_DOCKER_MANIFEST, &m, &d),
              -ERR_MANIFEST_INVALID);
    /* descriptors: bad digest, negative size, missing mediaType */
    ASSERT_EQ(parse_text("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a\",\"digest\":"
                         "\"sha256:1234\",\"size\":1},\"layers\":[]}",
                         NULL, &m, &d),
              -ERR_MANIFEST_INVALID);
    ASSERT_TRUE(strstr(d.msg, "malformed digest") != NULL);
    ASSERT_EQ(parse_text("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a\",\"digest\":\"" SHA_A
                         "\",\"size\":-1},\"layers\":[]}",
                         NULL, &m, &d),
              -ERR_MANIFEST_INVALID);
    ASSERT_EQ(parse_text("{\"schemaVersion\":2,\"config\":{\"digest\":\"" SHA_A
                         "\",\"size\":1},\"layers\":[]}",
                         NULL, &m, &d),
              -ERR_MANIFEST_INVALID);
    /* layer cap: 1000 is fine, 1001 is not */
    for (int n = 1000; n <= 1001; n++) {
        struct buf b;
        buf_init(&b, 1 << 20);
        ASSERT_EQ(buf_printf(&b, "{\"schemaVersion\":2,\"config\":%s,\"layers\":[", layer), 0);
        for (int i = 0; i < n; i++)
            ASSERT_EQ(buf_printf(&b, "%s%s", i ? "," : "", layer), 0);
        ASSERT_EQ(buf_append_cstr(&b, "]}"), 0);
        int rc = manifest_parse(b.data, b.len, NULL, &m, &d);
        ASSERT_EQ(rc, n == 1000 ? 0 : -ERR_MANIFEST_INVALID);
        if (rc == 0) {
            ASSERT_EQ(m.nlayers, 1000);
            manifest_release(&m);
        }
        buf_release(&b);
    }
    /* size cap before parsing */
    char *big = xmalloc(MANIFEST_MAX_BYTES + 2);
    memset(big, ' ', MANIFEST_MAX_BYTES + 1);
    big[0] = '{';
    big[MANIFEST_MAX_BYTES] = '}';
    ASSERT_EQ(manifest_parse(big, MANIFEST_MAX_BYTES + 1, NULL, &m, &d), -ERR_TOO_BIG);
    free(big);
}

/* ---- platforms ---- */

TEST(imgsrc_platform_parse)
{
    struct platform p;
    ASSERT_EQ(platform_parse(NULL, &p, NULL), 0);
    ASSERT_STREQ(p.os, "linux");
    ASSERT_STREQ(p.architecture, "amd64");
    ASSERT_TRUE(p.variant == NULL);
    platform_release(&p);
    ASSERT_EQ(platform_parse("Linux/AARCH64", &p, NULL), 0);
    ASSERT_STREQ(p.os, "linux");
    ASSERT_STREQ(p.architecture, "arm64");
    platform_release(&p);
    ASSERT_EQ(platform_parse("linux/arm/v7", &p, NULL), 0);
    ASSERT_STREQ(p.variant, "v7");
    platform_release(&p);
    ASSERT_EQ(platform_parse("linux", &p, NULL), -ERR_INVALID);
    ASSERT_EQ(platform_parse("linux/arm/v7/x", &p, NULL), -ERR_INVALID);
    ASSERT_EQ(platform_parse("linux//v7", &p, NULL), -ERR_INVALID);
    ASSERT_EQ(platform_parse("linux/a b", &p, NULL), -ERR_INVALID);
}

static int select_in(const struct manifest *m, const char *plat, struct diag *d)
{
    struct platform p;
    ASSERT_EQ(platform_parse(plat, &p, NULL), 0);
    int rc = index_select(m, &p, d);
    platform_release(&p);
    return rc;
}

TEST(imgsrc_index_select_platforms)
{
    struct buf b;
    struct manifest m;
    struct diag d = { 0 };
    read_fixture("docker-list.json", &b);
    ASSERT_EQ(manifest_parse(b.data, b.len, NULL, &m, NULL), 0);
    ASSERT_EQ(select_in(&m, NULL, NULL), 2);          /* default linux/amd64 */
    ASSERT_EQ(select_in(&m, "linux/arm64", NULL), 1); /* arm64 means v8 */
    ASSERT_EQ(select_in(&m, "linux/arm64/v8", NULL), 1);
    ASSERT_EQ(select_in(&m, "linux/arm/v7", NULL), 0);
    ASSERT_EQ(select_in(&m, "linux/arm", NULL), 0);
    ASSERT_EQ(select_in(&m, "windows/amd64", NULL), 3);
    ASSERT_EQ(select_in(&m, "linux/arm/v6", &d), -ERR_PLATFORM);
    ASSERT_EQ(select_in(&m, "linux/s390x", &d), -ERR_PLATFORM);
    ASSERT_TRUE(strstr(d.msg, "linux/s390x") != NULL);
    ASSERT_TRUE(strstr(d.msg, "linux/arm/v7, linux/arm64/v8, linux/amd64, windows/amd64") != NULL);
    manifest_release(&m);
    buf_release(&b);
}

TEST(imgsrc_index_select_skips_attestations)
{
    struct manifest m;
    struct diag d = { 0 };
    /* an attestation claiming linux/amd64 is still skipped; unknown/unknown never matches */
    const char *doc = "{\"schemaVersion\":2,\"manifests\":["
                      "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"digest\":\"" SHA_A "\",\"size\":1,"
                      "\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"},"
                      "\"annotations\":{\"vnd.docker.reference.type\":\"attestation-manifest\"}},"
                      "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"digest\":\"" SHA_A "\",\"size\":2,"
                      "\"platform\":{\"os\":\"unknown\",\"architecture\":\"unknown\"}},"
                      "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"digest\":\"" SHA_A "\",\"size\":3,"
                      "\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\"}}]}";
    ASSERT_EQ(parse_text(doc, NULL, &m, NULL), 0);
    ASSERT_TRUE(m.entries[0].is_attestation);
    ASSERT_EQ(select_in(&m, "linux/amd64", &d), -ERR_PLATFORM);
    ASSERT_TRUE(strstr(d.msg, "available: linux/arm64)") != NULL);
    ASSERT_EQ(select_in(&m, "linux/arm64/v8", NULL), 2);
    ASSERT_EQ(select_in(&m, "unknown/unknown", NULL), -ERR_PLATFORM);
    manifest_release(&m);

    /* an index whose one entry has no platform: taken for any request */
    const char *lone = "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" MT_OCI_MANIFEST
                       "\",\"digest\":\"" SHA_A "\",\"size\":1}]}";
    ASSERT_EQ(parse_text(lone, NULL, &m, NULL), 0);
    ASSERT_EQ(select_in(&m, "linux/riscv64", NULL), 0);
    manifest_release(&m);
}

TEST(imgsrc_index_ref_names)
{
    struct buf b;
    struct manifest m;
    char *path = fixture_path("layout/index.json");
    struct reader *r;
    buf_init(&b, 1 << 20);
    ASSERT_EQ(reader_file_open(path, &r, NULL), 0);
    ASSERT_EQ(reader_read_all(r, &b), 0);
    reader_close(r);
    ASSERT_EQ(manifest_parse(b.data, b.len, MT_OCI_INDEX, &m, NULL), 0);
    ASSERT_EQ(m.nentries, 2);
    ASSERT_STREQ(m.entries[0].ref_name, "tiny:1");
    ASSERT_STREQ(m.entries[1].ref_name, "tiny:multi");
    ASSERT_STREQ(m.entries[1].media_type, MT_OCI_INDEX);
    manifest_release(&m);
    buf_release(&b);
    free(path);
}

/* ---- configs and docker-archive manifest.json ---- */

TEST(imgsrc_config_parse)
{
    struct buf b;
    struct image_config c;
    struct diag d = { 0 };
    read_fixture("config.json", &b);
    ASSERT_EQ(image_config_parse(b.data, b.len, &c, NULL), 0);
    ASSERT_STREQ(c.os, "linux");
    ASSERT_STREQ(c.architecture, "amd64");
    ASSERT_EQ(c.ndiff_ids, 2);
    ASSERT_TRUE(digest_is_sha256(str_from(c.diff_ids[1])));
    image_config_release(&c);
    buf_release(&b);
    const char *bad[] = {
        "{\"rootfs\":{\"type\":\"other\",\"diff_ids\":[]}}",
        "{\"rootfs\":{\"type\":\"layers\"}}",
        "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"nope\"]}}",
        "{\"os\":1,\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}",
        "{}",
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
        ASSERT_EQ(image_config_parse(bad[i], strlen(bad[i]), &c, &d), -ERR_MANIFEST_INVALID);
}

TEST(imgsrc_archive_manifest_parse)
{
    struct archive_manifest am;
    struct diag d = { 0 };
    const char *doc = "[{\"Config\":\"c.json\",\"RepoTags\":[\"a:1\",\"b:2\"],"
                      "\"Layers\":[\"x/layer.tar\",\"y/layer.tar\"]},"
                      "{\"Config\":\"d.json\",\"RepoTags\":null,\"Layers\":[]}]";
    ASSERT_EQ(archive_manifest_parse(doc, strlen(doc), &am, NULL), 0);
    ASSERT_EQ(am.nimages, 2);
    ASSERT_STREQ(am.images[0].config, "c.json");
    ASSERT_EQ(am.images[0].ntags, 2);
    ASSERT_STREQ(am.images[0].repo_tags[1], "b:2");
    ASSERT_EQ(am.images[0].nlayers, 2);
    ASSERT_STREQ(am.images[0].layers[1], "y/layer.tar");
    ASSERT_EQ(am.images[1].ntags, 0);
    archive_manifest_release(&am);
    const char *bad[] = {
        "[]",
        "{}",
        "[{\"RepoTags\":[],\"Layers\":[]}]",
        "[{\"Config\":\"c\",\"Layers\":\"x\"}]",
        "[{\"Config\":\"c\",\"Layers\":[1]}]",
        "[{\"Config\":\"c\",\"Layers\":[\"\"]}]",
        "[{\"Config\":\"c\",\"Config\":\"d\",\"Layers\":[]}]",
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
        ASSERT_EQ(archive_manifest_parse(bad[i], strlen(bad[i]), &am, &d), -ERR_MANIFEST_INVALID);
}

/* ---- docker-archive tar index ---- */

TEST(imgsrc_dar_path_normalise)
{
    char *p = dar_path_normalise("./a//b/./c/../d/");
    ASSERT_STREQ(p, "a/b/d");
    free(p);
    p = dar_path_normalise("/abs/x");
    ASSERT_STREQ(p, "abs/x");
    free(p);
    ASSERT_TRUE(dar_path_normalise("a/../../x") == NULL);
}

TEST(imgsrc_dar_index_legacy_archive)
{
    char *path = fixture_path("legacy.tar");
    int fd = open(path, O_RDONLY);
    ASSERT_TRUE(fd >= 0);
    struct stat st;
    ASSERT_EQ(fstat(fd, &st), 0);
    struct dar_index ix;
    ASSERT_EQ(dar_index_build(fd, (uint64_t)st.st_size, &ix, NULL), 0);
    ASSERT_EQ(ix.n, 7);
    const struct dar_member *m = dar_lookup(&ix, "manifest.json");
    ASSERT_TRUE(m != NULL);
    ASSERT_EQ(m->type, DAR_FILE);
    ASSERT_EQ(m->offset % 512, 0);
    /* the symlinked layer resolves to the member it points at */
    int links = 0;
    for (size_t i = 0; i < ix.n; i++) {
        if (ix.m[i].type != DAR_SYMLINK)
            continue;
        links++;
        const struct dar_member *t = dar_lookup(&ix, ix.m[i].name);
        ASSERT_TRUE(t != NULL);
        ASSERT_EQ(t->size, 10240);
        ASSERT_TRUE(str_has_suffix(str_from(t->name), ".tar"));
    }
    ASSERT_EQ(links, 1);
    ASSERT_TRUE(dar_lookup(&ix, "nope") == NULL);
    dar_index_release(&ix);
    close(fd);
    free(path);
}

static int index_bytes(const void *p, size_t n, struct dar_index *ix, struct diag *d)
{
    char *path = xasprintf("%s/t.tar", test_tmpdir());
    FILE *f = fopen(path, "wb");
    ASSERT_TRUE(f != NULL);
    ASSERT_EQ(fwrite(p, 1, n, f), n);
    fclose(f);
    int fd = open(path, O_RDONLY);
    int rc = dar_index_build(fd, n, ix, d);
    close(fd);
    free(path);
    return rc;
}

TEST(imgsrc_dar_index_rejects_damage)
{
    struct buf b;
    struct dar_index ix;
    struct diag d = { 0 };
    read_fixture("legacy.tar", &b);
    /* a flipped byte in the first header breaks its checksum */
    b.data[10] ^= 0x20;
    ASSERT_EQ(index_bytes(b.data, b.len, &ix, &d), -ERR_CORRUPT);
    ASSERT_TRUE(strstr(d.msg, "checksum") != NULL);
    b.data[10] ^= 0x20;
    /* cut inside the first member's content */
    ASSERT_EQ(index_bytes(b.data, 700, &ix, &d), -ERR_TRUNCATED);
    /* cut inside a header */
    ASSERT_EQ(index_bytes(b.data, 100, &ix, &d), -ERR_TRUNCATED);
    /* no end-of-archive blocks at all is accepted (GNU tar does too) */
    ASSERT_EQ(index_bytes(b.data, 0, &ix, &d), 0);
    ASSERT_EQ(ix.n, 0);
    dar_index_release(&ix);
    buf_release(&b);
}

/* ---- registry helpers ---- */

TEST(imgsrc_auth_challenge_parse)
{
    struct auth_challenge c;
    ASSERT_EQ(auth_challenge_parse("Bearer realm=\"https://auth.docker.io/token\","
                                   "service=\"registry.docker.io\","
                                   "scope=\"repository:library/debian:pull\"",
                                   &c),
              0);
    ASSERT_STREQ(c.scheme, "bearer");
    ASSERT_STREQ(c.realm, "https://auth.docker.io/token");
    ASSERT_STREQ(c.service, "registry.docker.io");
    ASSERT_STREQ(c.scope, "repository:library/debian:pull");
    auth_challenge_release(&c);

    ASSERT_EQ(auth_challenge_parse("Basic realm=\"Registry Realm\"", &c), 0);
    ASSERT_STREQ(c.scheme, "basic");
    ASSERT_STREQ(c.realm, "Registry Realm");
    auth_challenge_release(&c);

    /* several challenges: Bearer wins; unquoted and escaped values */
    ASSERT_EQ(auth_challenge_parse("Basic realm=x, BEARER realm=http://h/t,service=\"a\\\"b\"", &c),
              0);
    ASSERT_STREQ(c.scheme, "bearer");
    ASSERT_STREQ(c.realm, "http://h/t");
    ASSERT_STREQ(c.service, "a\"b");
    ASSERT_TRUE(c.scope == NULL);
    auth_challenge_release(&c);

    ASSERT_EQ(auth_challenge_parse("", &c), -ERR_INVALID);
    ASSERT_EQ(auth_challenge_parse("Bearer realm=\"unterminated", &c), -ERR_INVALID);
}

TEST(imgsrc_registry_error_message)
{
    char out[128];
    const char *body = "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest "
                       "unknown\",\"detail\":{\"Tag\":\"x\"}}]}";
    ASSERT_TRUE(registry_error_message(body, strlen(body), out, sizeof(out)));
    ASSERT_STREQ(out, "MANIFEST_UNKNOWN: manifest unknown");
    const char *multi = "{\"errors\":[{\"code\":\"DENIED\",\"message\":\"a\\nb\"}]}";
    ASSERT_TRUE(registry_error_message(multi, strlen(multi), out, sizeof(out)));
    ASSERT_STREQ(out, "DENIED: a b"); /* one line */
    ASSERT_FALSE(registry_error_message("<html>", 6, out, sizeof(out)));
}

/* ---- sources over the fixtures ---- */

TEST(imgsrc_oci_layout_resolve_and_stream)
{
    char *ref = xasprintf("oci:%s/image/layout:tiny:1", test_data_dir());
    struct image_source *s = NULL;
    struct image_info info;
    struct diag d = { 0 };
    ASSERT_EQ(image_source_open(ref, NULL, &s, &d), 0);
    ASSERT_EQ(image_source_resolve(s, &info, &d), 0);
    ASSERT_STREQ(info.name, "tiny:1");
    ASSERT_STREQ(info.manifest_media_type, MT_OCI_MANIFEST);
    ASSERT_TRUE(info.index_digest == NULL);
    ASSERT_STREQ(info.architecture, "amd64");
    ASSERT_EQ(info.nlayers, 2);
    /* the manifest bytes hash to the manifest digest */
    char dg[DIGEST_STR_LEN + 1];
    source_digest_of(info.manifest.data, info.manifest.len, dg);
    ASSERT_STREQ(dg, info.manifest_digest);
    source_digest_of(info.config.data, info.config.len, dg);
    ASSERT_STREQ(dg, info.config_digest);
    /* the uncompressed layer's digest is its diff_id */
    ASSERT_STREQ(info.layers[1].digest, info.layers[1].diff_id);
    for (size_t i = 0; i < info.nlayers; i++) {
        struct reader *r = NULL;
        unsigned long long n;
        ASSERT_EQ(image_source_open_blob(s, &info.layers[i], &r, &d), 0);
        ASSERT_EQ(drain(r, &n), 0);
        ASSERT_EQ(n, info.layers[i].size);
        /* reading after the end stays at the end */
        ASSERT_EQ(drain(r, &n), 0);
        reader_close(r);
    }
    image_info_release(&info);
    image_source_close(s);
    free(ref);
}

TEST(imgsrc_oci_layout_index_platforms)
{
    char *ref = xasprintf("oci:%s/image/layout:tiny:multi", test_data_dir());
    struct image_opts o = { .platform = "linux/arm64", .tls_verify = true };
    struct image_source *s = NULL;
    struct image_info info;
    struct diag d = { 0 };
    ASSERT_EQ(image_source_open(ref, &o, &s, &d), 0);
    ASSERT_EQ(image_source_resolve(s, &info, &d), 0);
    ASSERT_TRUE(info.index_digest != NULL);
    ASSERT_STREQ(info.architecture, "arm64");
    ASSERT_EQ(info.nlayers, 1);
    image_info_release(&info);
    image_source_close(s);

    o.platform = "linux/ppc64le";
    ASSERT_EQ(image_source_open(ref, &o, &s, &d), 0);
    ASSERT_EQ(image_source_resolve(s, &info, &d), -ERR_PLATFORM);
    ASSERT_TRUE(strstr(d.msg, ref) != NULL);
    ASSERT_TRUE(strstr(d.msg, "linux/amd64, linux/arm64") != NULL);
    ASSERT_TRUE(strstr(d.msg, "unknown") == NULL); /* the attestation is not offered */
    image_source_close(s);
    free(ref);
}

TEST(imgsrc_oci_layout_errors)
{
    struct image_source *s = NULL;
    struct image_info info;
    struct diag d = { 0 };
    char *ref = xasprintf("oci:%s/image/layout:nope", test_data_dir());
    ASSERT_EQ(image_source_open(ref, NULL, &s, &d), 0);
    ASSERT_EQ(image_source_resolve(s, &info, &d), -ERR_MANIFEST_UNKNOWN);
    ASSERT_TRUE(strstr(d.msg, "tiny:1, tiny:multi") != NULL);
    image_source_close(s);
    free(ref);
    /* two images and no REF */
    ref = xasprintf("oci:%s/image/layout", test_data_dir());
    ASSERT_EQ(image_source_open(ref, NULL, &s, &d), 0);
    ASSERT_EQ(image_source_resolve(s, &info, &d), -ERR_MANIFEST_UNKNOWN);
    image_source_close(s);
    free(ref);
    /* not a layout */
    ref = xasprintf("oci:%s/image", test_data_dir());
    ASSERT_EQ(image_source_open(ref, NULL, &s, &d), -ERR_NOT_FOUND);
    ASSERT_TRUE(strstr(d.msg, "oci-layout") != NULL);
    free(ref);
}

/* Find the blob file of a digest in a copied layout. */
static char *blob_path(const char *dir, const char *digest)
{
    return xasprintf("%s/blobs/sha256/%s", dir, digest + 7);
}

TEST(imgsrc_oci_layout_verifies_blobs)
{
    char *dir = copy_layout("verify");
    char *ref = xasprintf("oci:%s:tiny:1", dir);
    struct image_source *s = NULL;
    struct image_info info;
    struct diag d = { 0 };
    ASSERT_EQ(image_source_open(ref, NULL, &s, &d), 0);
    ASSERT_EQ(image_source_resolve(s, &info, &d), 0);

    /* a changed byte in a layer: the read that reaches the end fails with ERR_DIGEST */
    char *lp = blob_path(dir, info.layers[1].digest);
    int fd = open(lp, O_RDWR);
    ASSERT_TRUE(fd >= 0);
    ASSERT_EQ(pwrite(fd, "X", 1, 600), 1);
    struct reader *r = NULL;
    unsigned long long n;
    ASSERT_EQ(image_source_open_blob(s, &info.layers[1], &r, &d), 0);
    ASSERT_EQ(drain(r, &n), -ERR_DIGEST);
    ASSERT_EQ(n, info.layers[1].size);
    ASSERT_TRUE(strstr(r->diag.msg, info.layers[1].digest) != NULL);
    reader_close(r);
    /* shorter than the manifest says: ERR_TRUNCATED */
    ASSERT_EQ(ftruncate(fd, 1000), 0);
    ASSERT_EQ(image_source_open_blob(s, &info.layers[1], &r, &d), 0);
    ASSERT_EQ(drain(r, &n), -ERR_TRUNCATED);
    reader_close(r);
    /* longer: ERR_DIGEST before the end */
    ASSERT_EQ(ftruncate(fd, (off_t)info.layers[1].size + 1), 0);
    ASSERT_EQ(image_source_open_blob(s, &info.layers[1], &r, &d), 0);
    ASSERT_EQ(drain(r, &n), -ERR_DIGEST);
    reader_close(r);
    close(fd);
    /* missing blob */
    ASSERT_EQ(unlink(lp), 0);
    ASSERT_EQ(image_source_open_blob(s, &info.layers[1], &r, &d), -ERR_BLOB_UNKNOWN);
    ASSERT_TRUE(strstr(d.msg, info.layers[1].digest) != NULL);
    free(lp);

    /* a changed config fails resolve */
    char *cp = blob_path(dir, info.config_digest);
    fd = open(cp, O_RDWR);
    ASSERT_EQ(pwrite(fd, " ", 1, 0), 1);
    close(fd);
    struct image_info info2;
    ASSERT_EQ(image_source_resolve(s, &info2, &d), -ERR_DIGEST);
    ASSERT_TRUE(strstr(d.msg, info.config_digest) != NULL);
    ASSERT_TRUE(strstr(d.msg, ref) != NULL);
    /* a missing manifest */
    char *mp = blob_path(dir, info.manifest_digest);
    ASSERT_EQ(unlink(mp), 0);
    ASSERT_EQ(image_source_resolve(s, &info2, &d), -ERR_BLOB_UNKNOWN);
    ASSERT_TRUE(strstr(d.msg, info.manifest_digest) != NULL);
    free(mp);
    free(cp);
    image_info_release(&info);
    image_source_close(s);
    free(ref);
    free(dir);
}

static void check_archive(const char *file, const char *sub, const char *want_name)
{
    char *ref = sub ? xasprintf("docker-archive:%s/image/%s:%s", test_data_dir(), file, sub)
                    : xasprintf("docker-archive:%s/image/%s", test_data_dir(), file);
    char *lref = xasprintf("oci:%s/image/layout:tiny:1", test_data_dir());
    struct image_source *s = NULL, *ls = NULL;
    struct image_info info, linfo;
    struct diag d = { 0 };
    ASSERT_EQ(image_source_open(ref, NULL, &s, &d), 0);
    ASSERT_EQ(image_source_resolve(s, &info, &d), 0);
    ASSERT_STREQ(info.name, want_name);
    ASSERT_STREQ(info.manifest_media_type, MT_DOCKER_MANIFEST);
    /* same image as the layout's tiny:1: same config, same diff_ids */
    ASSERT_EQ(image_source_open(lref, NULL, &ls, &d), 0);
    ASSERT_EQ(image_source_resolve(ls, &linfo, &d), 0);
    ASSERT_STREQ(info.config_digest, linfo.config_digest);
    ASSERT_EQ(info.nlayers, linfo.nlayers);
    for (size_t i = 0; i < info.nlayers; i++) {
        ASSERT_STREQ(info.layers[i].diff_id, linfo.layers[i].diff_id);
        /* layers are stored uncompressed: their digest is their diff_id */
        ASSERT_STREQ(info.layers[i].digest, info.layers[i].diff_id);
        ASSERT_STREQ(info.layers[i].media_type, MT_DOCKER_LAYER);
        struct reader *r = NULL;
        unsigned long long n;
        ASSERT_EQ(image_source_open_blob(s, &info.layers[i], &r, &d), 0);
        ASSERT_EQ(drain(r, &n), 0);
        ASSERT_EQ(n, info.layers[i].size);
        reader_close(r);
    }
    char dg[DIGEST_STR_LEN + 1];
    source_digest_of(info.manifest.data, info.manifest.len, dg);
    ASSERT_STREQ(dg, info.manifest_digest);
    image_info_release(&linfo);
    image_info_release(&info);
    image_source_close(ls);
    image_source_close(s);
    free(lref);
    free(ref);
}

TEST(imgsrc_docker_archive_legacy)
{
    check_archive("legacy.tar", NULL, "tiny:1");
    check_archive("legacy.tar", "example.com/tiny:latest", "example.com/tiny:latest");
    check_archive("legacy.tar", "docker.io/library/tiny:1", "tiny:1");
}

TEST(imgsrc_docker_archive_ocistyle)
{
    check_archive("ocistyle.tar", "tiny:oci", "docker.io/library/tiny:oci");
}

TEST(imgsrc_docker_archive_errors)
{
    struct image_source *s = NULL;
    struct image_info info;
    struct diag d = { 0 };
    char *ref = xasprintf("docker-archive:%s/image/legacy.tar:tiny:2", test_data_dir());
    ASSERT_EQ(image_source_open(ref, NULL, &s, &d), 0);
    ASSERT_EQ(image_source_resolve(s, &info, &d), -ERR_MANIFEST_UNKNOWN);
    ASSERT_TRUE(strstr(d.msg, "tiny:1, example.com/tiny:latest") != NULL);
    image_source_close(s);
    free(ref);

    /* a layer changed inside the archive: its diff_id no longer matches */
    struct buf b;
    read_fixture("legacy.tar", &b);
    char *copy = xasprintf("%s/broken.tar", test_tmpdir());
    struct dar_index ix;
    ASSERT_EQ(index_bytes(b.data, b.len, &ix, NULL), 0);
    const struct dar_member *m = NULL;
    for (size_t i = 0; i < ix.n; i++)
        if (ix.m[i].type == DAR_FILE && !strchr(ix.m[i].name, '/') &&
            str_has_suffix(str_from(ix.m[i].name), ".tar"))
            m = &ix.m[i];
    ASSERT_TRUE(m != NULL);
    b.data[m->offset + 2000] ^= 1;
    FILE *f = fopen(copy, "wb");
    ASSERT_EQ(fwrite(b.data, 1, b.len, f), b.len);
    fclose(f);
    dar_index_release(&ix);
    ref = xasprintf("docker-archive:%s", copy);
    ASSERT_EQ(image_source_open(ref, NULL, &s, &d), 0);
    ASSERT_EQ(image_source_resolve(s, &info, &d), 0);
    struct reader *r = NULL;
    unsigned long long n;
    ASSERT_EQ(image_source_open_blob(s, &info.layers[1], &r, &d), 0);
    ASSERT_EQ(drain(r, &n), -ERR_DIGEST);
    reader_close(r);
    ASSERT_EQ(image_source_open_blob(s, &info.layers[0], &r, &d), 0);
    ASSERT_EQ(drain(r, &n), 0);
    reader_close(r);
    image_info_release(&info);
    image_source_close(s);
    free(ref);
    free(copy);
    buf_release(&b);
}
