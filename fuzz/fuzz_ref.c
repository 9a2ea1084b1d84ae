/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: image references (skopeo transports, Docker names) and platforms. Checks that a
 * parsed Docker name formats to a string that parses back to the same name. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "image/manifest.h"
#include "image/ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > IMAGE_REF_MAX + 16)
        return 0;
    char *s = xmalloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';

    struct image_ref r;
    struct diag d = { 0 };
    if (image_ref_parse(s, &r, &d) == 0) {
        BUG_ON(r.transport != TRANSPORT_DOCKER && (!r.path || !*r.path));
        image_ref_release(&r);
    } else {
        BUG_ON(d.msg[0] == '\0');
    }

    struct docker_name n;
    if (docker_name_parse(str_make((const char *)data, size), true, &n, NULL) == 0) {
        char *f = docker_name_format(&n);
        struct docker_name m;
        BUG_ON(docker_name_parse(str_from(f), false, &m, NULL) != 0);
        BUG_ON(!same(n.domain, m.domain) || !same(n.repo, m.repo) || !same(n.tag, m.tag) ||
               !same(n.digest, m.digest));
        BUG_ON(!docker_name_same_tagged(&n, &m));
        docker_name_release(&m);
        free(f);
        docker_name_release(&n);
    }

    struct platform p;
    if (platform_parse(s, &p, NULL) == 0)
        platform_release(&p);
    free(s);
    return 0;
}
