/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: a manifest PUT body through the registry's validation (media type, JSON shape,
 * references, subject, artifactType, annotations). The first byte picks the Content-Type the
 * body is announced with; the rest is the body. Checks what the push path relies on. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/hash.h"
#include "base/xalloc.h"
#include "image/manifest.h"
#include "registry/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const content_types[] = {
    MT_OCI_MANIFEST,
    MT_OCI_INDEX,
    MT_DOCKER_MANIFEST,
    MT_DOCKER_LIST,
    NULL,
    "",
    "application/vnd.oci.image.manifest.v1+json; charset=utf-8",
    "application/json",
    MT_DOCKER_V1_SIGNED,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *ct = content_types[data[0] % ARRAY_SIZE(content_types)];
    const void *body = data + 1;
    size_t n = size - 1;
    size_t max = (data[0] & 0x80) ? 64 : MANIFEST_MAX_BYTES;

    struct reg_manifest_meta m;
    struct diag d = { 0 };
    int rc = reg_manifest_validate(body, n, max, ct, &m, &d);
    if (rc) {
        BUG_ON(rc != -ERR_MANIFEST_INVALID && rc != -ERR_UNSUPPORTED && rc != -ERR_TOO_BIG);
        BUG_ON(d.msg[0] == '\0');
        BUG_ON(m.refs != NULL || m.subject || m.artifact_type || m.annotations);
        return 0;
    }
    BUG_ON(n > max);
    BUG_ON(manifest_kind_of(m.media_type) != m.kind);
    BUG_ON(m.kind != MANIFEST_OCI && m.kind != MANIFEST_OCI_INDEX && m.kind != MANIFEST_DOCKER &&
           m.kind != MANIFEST_DOCKER_LIST);
    /* an announced type is never contradicted by the accepted document */
    if (ct && *ct && strcmp(ct, "application/json") != 0)
        BUG_ON(strncmp(ct, m.media_type, strlen(m.media_type)) != 0);
    /* image manifests reference at least their config */
    if (!manifest_kind_is_index(m.kind))
        BUG_ON(m.nrefs < 1 || m.refs[0].is_manifest);
    for (size_t i = 0; i < m.nrefs; i++)
        BUG_ON(!digest_is_wellformed(str_from(m.refs[i].digest)));
    if (m.subject)
        BUG_ON(!digest_is_wellformed(str_from(m.subject)));
    if (m.annotations) {
        json_t *a = json_loads(m.annotations, JSON_REJECT_DUPLICATES, NULL);
        BUG_ON(!json_is_object(a));
        json_decref(a);
    }
    reg_manifest_meta_release(&m);
    return 0;
}
