/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: image manifests, indexes (with platform selection), configs, docker-archive
 * manifest.json, the docker-archive tar index and registry auth challenges / error bodies.
 * The first byte picks the parser; the rest is its input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/xalloc.h"
#include "image/internal.h"
#include "image/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const hints[] = { NULL,           MT_OCI_MANIFEST,
                                     MT_OCI_INDEX,   MT_DOCKER_MANIFEST,
                                     MT_DOCKER_LIST, "application/json" };
static const char *const platforms[] = { NULL, "linux/arm64", "linux/arm/v7", "windows/amd64",
                                         "linux/arm64/v8" };

static void fuzz_manifest(const char *p, size_t n, unsigned sel)
{
    struct manifest m;
    struct diag d = { 0 };
    int rc = manifest_parse(p, n, hints[sel % ARRAY_SIZE(hints)], &m, &d);
    if (rc) {
        BUG_ON(d.msg[0] == '\0');
        return;
    }
    BUG_ON(m.nlayers > MANIFEST_MAX_LAYERS || m.nentries > INDEX_MAX_ENTRIES);
    if (manifest_kind_is_index(m.kind)) {
        for (size_t i = 0; i < ARRAY_SIZE(platforms); i++) {
            struct platform pl;
            BUG_ON(platform_parse(platforms[i], &pl, NULL) != 0);
            int k = index_select(&m, &pl, &d);
            BUG_ON(k >= (int)m.nentries);
            BUG_ON(k < 0 && k != -ERR_PLATFORM);
            platform_release(&pl);
        }
    }
    manifest_release(&m);
}

static void fuzz_tar_index(const uint8_t *p, size_t n)
{
    int fd = memfd_create("fuzz-tar", MFD_CLOEXEC);
    if (fd < 0)
        return;
    if (n && write(fd, p, n) != (ssize_t)n) {
        close(fd);
        return;
    }
    struct dar_index ix;
    if (dar_index_build(fd, n, &ix, NULL) == 0) {
        for (size_t i = 0; i < ix.n; i++) {
            BUG_ON(ix.m[i].offset > n || ix.m[i].size > n - ix.m[i].offset);
            const struct dar_member *m = dar_lookup(&ix, ix.m[i].name);
            BUG_ON(m && m->type != DAR_FILE);
        }
        (void)dar_lookup(&ix, "manifest.json");
        dar_index_release(&ix);
    }
    close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > (8u << 20))
        return 0;
    unsigned sel = data[0];
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    /* a NUL-terminated copy for the string parsers */
    char *s = xmalloc(n + 1);
    memcpy(s, p, n);
    s[n] = '\0';
    switch (sel % 5) {
    case 0:
        fuzz_manifest(s, n, sel / 5);
        break;
    case 1: {
        struct image_config c;
        if (image_config_parse(s, n, &c, NULL) == 0)
            image_config_release(&c);
        break;
    }
    case 2: {
        struct archive_manifest am;
        if (archive_manifest_parse(s, n, &am, NULL) == 0)
            archive_manifest_release(&am);
        break;
    }
    case 3:
        fuzz_tar_index(p, n);
        break;
    default: {
        struct auth_challenge c;
        char msg[128];
        if (auth_challenge_parse(s, &c) == 0) {
            BUG_ON(!c.scheme);
            auth_challenge_release(&c);
        }
        (void)registry_error_message(s, n, msg, sizeof(msg));
        break;
    }
    }
    free(s);
    return 0;
}
