/* SPDX-License-Identifier: Apache-2.0 */
/* Manifest PUT validation: media type, JSON shape (image/manifest.c), and what the registry
 * needs from the document: referenced digests, subject, artifactType and annotations. */
#include <ctype.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "base/hash.h"
#include "base/xalloc.h"
#include "registry/internal.h"

void reg_manifest_meta_release(struct reg_manifest_meta *m)
{
    for (size_t i = 0; i < m->nrefs; i++)
        free(m->refs[i].digest);
    free(m->refs);
    free(m->subject);
    free(m->artifact_type);
    free(m->annotations);
    memset(m, 0, sizeof(*m));
}

/* Content-Type without parameters and blanks, lower-cased, into out (truncated). */
static void media_type_base(const char *ct, char *out, size_t n)
{
    size_t o = 0;
    if (ct) {
        while (*ct == ' ' || *ct == '\t')
            ct++;
        for (; *ct && *ct != ';' && o + 1 < n; ct++)
            out[o++] = (char)tolower((unsigned char)*ct);
    }
    while (o > 0 && (out[o - 1] == ' ' || out[o - 1] == '\t'))
        o--;
    out[o] = '\0';
}

/* Layers a registry need not hold: Docker foreign layers and OCI non-distributable ones. */
static bool is_optional_layer(const char *mt)
{
    return mt && (strstr(mt, ".foreign.") || strstr(mt, "nondistributable"));
}

static void add_ref(struct reg_manifest_meta *m, const char *digest, bool is_manifest, bool any,
                    bool optional)
{
    m->refs = xreallocarray(m->refs, m->nrefs + 1, sizeof(*m->refs));
    m->refs[m->nrefs++] = (struct reg_ref){ xstrdup(digest), is_manifest, any, optional };
}

/* subject, artifactType, annotations: shapes the shared parser does not look at. */
static int parse_extras(const void *p, size_t n, struct reg_manifest_meta *out,
                        const struct manifest *mf, struct diag *d)
{
    json_error_t je;
    json_t *root = json_loadb(p, n, JSON_REJECT_DUPLICATES, &je);
    if (!root) /* manifest_parse already accepted it, so this cannot happen */
        return diag_set(d, -ERR_MANIFEST_INVALID, 0, "manifest: invalid JSON");
    int rc = 0;
    json_t *sub = json_object_get(root, "subject");
    if (sub && !json_is_null(sub)) {
        json_t *dg = json_object_get(sub, "digest");
        json_t *mt = json_object_get(sub, "mediaType");
        json_t *sz = json_object_get(sub, "size");
        if (!json_is_object(sub) || !json_is_string(dg) ||
            !digest_is_wellformed(str_from(json_string_value(dg))) || !json_is_string(mt) ||
            !json_is_integer(sz) || json_integer_value(sz) < 0) {
            rc = diag_set(d, -ERR_MANIFEST_INVALID, 0,
                          "manifest: \"subject\" is not a descriptor (mediaType, digest, size)");
            goto out;
        }
        out->subject = xstrdup(json_string_value(dg));
    }
    json_t *at = json_object_get(root, "artifactType");
    if (at && !json_is_null(at)) {
        if (!json_is_string(at)) {
            rc =
                diag_set(d, -ERR_MANIFEST_INVALID, 0, "manifest: \"artifactType\" is not a string");
            goto out;
        }
        if (json_string_length(at) > 0)
            out->artifact_type = xstrdup(json_string_value(at));
    }
    if (!out->artifact_type && !manifest_kind_is_index(mf->kind) && mf->config.media_type)
        out->artifact_type = xstrdup(mf->config.media_type);
    json_t *ann = json_object_get(root, "annotations");
    if (ann && !json_is_null(ann)) {
        if (!json_is_object(ann)) {
            rc =
                diag_set(d, -ERR_MANIFEST_INVALID, 0, "manifest: \"annotations\" is not an object");
            goto out;
        }
        const char *k;
        json_t *v;
        json_object_foreach(ann, k, v)
        {
            if (!json_is_string(v)) {
                rc = diag_set(d, -ERR_MANIFEST_INVALID, 0,
                              "manifest: annotation '%.100s' is not a string", k);
                goto out;
            }
        }
        if (json_object_size(ann) > 0)
            out->annotations = json_dumps(ann, JSON_COMPACT | JSON_PRESERVE_ORDER);
    }
out:
    json_decref(root);
    return rc;
}

int reg_manifest_validate(const void *p, size_t n, size_t max, const char *content_type,
                          struct reg_manifest_meta *out, struct diag *d)
{
    memset(out, 0, sizeof(*out));
    if (n > max)
        return diag_set(d, -ERR_TOO_BIG, 0, "manifest is %zu bytes, more than the %zu allowed", n,
                        max);
    char ct[128];
    media_type_base(content_type, ct, sizeof(ct));
    enum manifest_kind hk = manifest_kind_of(ct);
    if (ct[0] && hk == MANIFEST_DOCKER_V1)
        return diag_set(d, -ERR_UNSUPPORTED, 0,
                        "Docker schema 1 manifests are not supported; push schema 2 or OCI");
    /* no Content-Type at all: the document's mediaType decides */
    bool generic = ct[0] == '\0';
    if (!generic && hk == MANIFEST_UNKNOWN)
        return diag_set(d, -ERR_MANIFEST_INVALID, 0,
                        "unsupported manifest media type '%.100s' (supported: OCI image manifest "
                        "and index, Docker schema 2 manifest and manifest list)",
                        ct);

    struct manifest mf;
    int rc = manifest_parse(p, n, generic ? NULL : ct, &mf, d);
    if (rc)
        return rc == -ERR_TOO_BIG ? rc : (rc == -ERR_UNSUPPORTED ? rc : -ERR_MANIFEST_INVALID);
    if (generic) {
        /* without a usable Content-Type the document must name its own type */
        json_t *root = json_loadb(p, n, 0, NULL);
        bool named = root && json_is_string(json_object_get(root, "mediaType"));
        json_decref(root);
        if (!named) {
            manifest_release(&mf);
            return diag_set(d, -ERR_MANIFEST_INVALID, 0,
                            "manifest has no mediaType and was sent without a Content-Type");
        }
    }
    out->kind = mf.kind;
    out->media_type = mf.media_type;
    if (manifest_kind_is_index(mf.kind)) {
        for (size_t i = 0; i < mf.nentries; i++) {
            enum manifest_kind ek = manifest_kind_of(mf.entries[i].media_type);
            bool is_m = ek == MANIFEST_OCI || ek == MANIFEST_DOCKER || manifest_kind_is_index(ek);
            add_ref(out, mf.entries[i].digest, is_m, !is_m, false);
        }
    } else {
        add_ref(out, mf.config.digest, false, false, false);
        for (size_t i = 0; i < mf.nlayers; i++)
            add_ref(out, mf.layers[i].digest, false, false,
                    is_optional_layer(mf.layers[i].media_type));
    }
    rc = parse_extras(p, n, out, &mf, d);
    manifest_release(&mf);
    if (rc)
        reg_manifest_meta_release(out);
    return rc;
}
