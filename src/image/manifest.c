/* SPDX-License-Identifier: Apache-2.0 */
/* Manifest, index, config and docker-archive manifest.json parsers (jansson, duplicate keys
 * rejected), and the platform matcher that picks one manifest out of an index. */
#include "image/manifest.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/hash.h"
#include "base/xalloc.h"

enum manifest_kind manifest_kind_of(const char *mt)
{
    if (!mt)
        return MANIFEST_UNKNOWN;
    if (strcmp(mt, MT_OCI_MANIFEST) == 0)
        return MANIFEST_OCI;
    if (strcmp(mt, MT_OCI_INDEX) == 0)
        return MANIFEST_OCI_INDEX;
    if (strcmp(mt, MT_DOCKER_MANIFEST) == 0)
        return MANIFEST_DOCKER;
    if (strcmp(mt, MT_DOCKER_LIST) == 0)
        return MANIFEST_DOCKER_LIST;
    if (strcmp(mt, MT_DOCKER_V1) == 0 || strcmp(mt, MT_DOCKER_V1_SIGNED) == 0)
        return MANIFEST_DOCKER_V1;
    return MANIFEST_UNKNOWN;
}

static const char *kind_media_type(enum manifest_kind k)
{
    switch (k) {
    case MANIFEST_OCI:
        return MT_OCI_MANIFEST;
    case MANIFEST_OCI_INDEX:
        return MT_OCI_INDEX;
    case MANIFEST_DOCKER:
        return MT_DOCKER_MANIFEST;
    case MANIFEST_DOCKER_LIST:
        return MT_DOCKER_LIST;
    case MANIFEST_DOCKER_V1:
        return MT_DOCKER_V1;
    case MANIFEST_UNKNOWN:
        break;
    }
    return NULL;
}

/* Load a JSON document: size cap first, duplicate keys rejected, trailing junk rejected. */
static json_t *load_json(const void *p, size_t n, size_t max, const char *what, struct diag *d,
                         int *rc)
{
    json_error_t je;
    if (n > max) {
        *rc = diag_set(d, -ERR_TOO_BIG, 0, "%s is %zu bytes, more than the %zu allowed", what, n,
                       max);
        return NULL;
    }
    json_t *root = json_loadb(p, n, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        *rc = diag_set(d, -ERR_MANIFEST_INVALID, (size_t)(je.position > 0 ? je.position : 0),
                       "%s: invalid JSON at line %d column %d: %s", what, je.line, je.column,
                       je.text);
        return NULL;
    }
    *rc = 0;
    return root;
}

/* Optional string member: 0 (absent: *out untouched) or error when present but not a string. */
static int opt_string(json_t *obj, const char *key, char **out, const char *what, struct diag *d)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return diag_set(d, -ERR_MANIFEST_INVALID, 0, "%s: \"%s\" is not a string", what, key);
    *out = xstrndup(json_string_value(v), json_string_length(v));
    return 0;
}

static int req_string(json_t *obj, const char *key, char **out, const char *what, struct diag *d)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return diag_set(d, -ERR_MANIFEST_INVALID, 0, "%s: \"%s\" is missing", what, key);
    if (!json_is_string(v) || json_string_length(v) == 0)
        return diag_set(d, -ERR_MANIFEST_INVALID, 0, "%s: \"%s\" is not a non-empty string", what,
                        key);
    *out = xstrndup(json_string_value(v), json_string_length(v));
    return 0;
}

static void descriptor_release(struct descriptor *x)
{
    free(x->media_type);
    free(x->digest);
    free(x->os);
    free(x->architecture);
    free(x->variant);
    free(x->ref_name);
    memset(x, 0, sizeof(*x));
}

static int parse_descriptor(json_t *obj, bool entry, const char *what, struct descriptor *out,
                            struct diag *d)
{
    int rc;
    memset(out, 0, sizeof(*out));
    if (!json_is_object(obj))
        return diag_set(d, -ERR_MANIFEST_INVALID, 0, "%s is not an object", what);
    rc = req_string(obj, "mediaType", &out->media_type, what, d);
    if (rc)
        return rc;
    rc = req_string(obj, "digest", &out->digest, what, d);
    if (rc)
        return rc;
    if (!digest_is_wellformed(str_from(out->digest)))
        return diag_set(d, -ERR_MANIFEST_INVALID, 0, "%s: malformed digest '%.80s'", what,
                        out->digest);
    json_t *size = json_object_get(obj, "size");
    if (!json_is_integer(size) || json_integer_value(size) < 0)
        return diag_set(d, -ERR_MANIFEST_INVALID, 0, "%s: \"size\" is not a non-negative integer",
                        what);
    out->size = (uint64_t)json_integer_value(size);
    if (!entry)
        return 0;

    json_t *plat = json_object_get(obj, "platform");
    if (plat && !json_is_null(plat)) {
        if (!json_is_object(plat))
            return diag_set(d, -ERR_MANIFEST_INVALID, 0, "%s: \"platform\" is not an object", what);
        rc = opt_string(plat, "os", &out->os, what, d);
        if (!rc)
            rc = opt_string(plat, "architecture", &out->architecture, what, d);
        if (!rc)
            rc = opt_string(plat, "variant", &out->variant, what, d);
        if (rc)
            return rc;
    }
    json_t *ann = json_object_get(obj, "annotations");
    if (ann && !json_is_null(ann)) {
        if (!json_is_object(ann))
            return diag_set(d, -ERR_MANIFEST_INVALID, 0, "%s: \"annotations\" is not an object",
                            what);
        rc = opt_string(ann, ANNOT_REF_NAME, &out->ref_name, what, d);
        if (rc)
            return rc;
        out->is_attestation = json_object_get(ann, ANNOT_DOCKER_REFTYPE) != NULL;
    }
    return 0;
}

void manifest_release(struct manifest *m)
{
    descriptor_release(&m->config);
    for (size_t i = 0; i < m->nlayers; i++)
        descriptor_release(&m->layers[i]);
    free(m->layers);
    for (size_t i = 0; i < m->nentries; i++)
        descriptor_release(&m->entries[i]);
    free(m->entries);
    memset(m, 0, sizeof(*m));
}

/* Parse an array of descriptors into *out (allocated), with a cap on the count. */
static int parse_descriptors(json_t *arr, bool entries, size_t max, const char *name,
                             struct descriptor **out, size_t *nout, struct diag *d)
{
    if (!json_is_array(arr))
        return diag_set(d, -ERR_MANIFEST_INVALID, 0, "manifest: \"%s\" is %s", name,
                        arr ? "not an array" : "missing");
    size_t n = json_array_size(arr);
    if (n > max)
        return diag_set(d, -ERR_MANIFEST_INVALID, 0, "manifest: %zu %s, more than the %zu allowed",
                        n, name, max);
    *out = n ? xcalloc(n, sizeof(**out)) : NULL;
    for (size_t i = 0; i < n; i++) {
        char what[64];
        snprintf(what, sizeof(what), "manifest: %s[%zu]", name, i);
        int rc = parse_descriptor(json_array_get(arr, i), entries, what, &(*out)[i], d);
        *nout = i + 1; /* so release frees what was filled */
        if (rc)
            return rc;
    }
    return 0;
}

int manifest_parse(const void *p, size_t n, const char *hint, struct manifest *out, struct diag *d)
{
    int rc;
    memset(out, 0, sizeof(*out));
    json_t *root = load_json(p, n, MANIFEST_MAX_BYTES, "manifest", d, &rc);
    if (!root)
        return rc;
    if (!json_is_object(root)) {
        rc = diag_set(d, -ERR_MANIFEST_INVALID, 0, "manifest: not a JSON object");
        goto out;
    }

    json_t *sv = json_object_get(root, "schemaVersion");
    json_t *mtv = json_object_get(root, "mediaType");
    const char *body_mt = json_is_string(mtv) ? json_string_value(mtv) : NULL;
    enum manifest_kind kb = manifest_kind_of(body_mt), kh = manifest_kind_of(hint), k;
    if (kb == MANIFEST_DOCKER_V1 || kh == MANIFEST_DOCKER_V1 ||
        (json_is_integer(sv) && json_integer_value(sv) == 1)) {
        rc = diag_set(d, -ERR_UNSUPPORTED, 0,
                      "Docker schema 1 manifests are unsupported (re-push the image with a "
                      "current client to get schema 2 or OCI)");
        goto out;
    }
    if (!json_is_integer(sv) || json_integer_value(sv) != 2) {
        rc = diag_set(d, -ERR_MANIFEST_INVALID, 0, "manifest: \"schemaVersion\" is %s, want 2",
                      sv ? "not 2" : "missing");
        goto out;
    }
    if (mtv && !json_is_string(mtv)) {
        rc = diag_set(d, -ERR_MANIFEST_INVALID, 0, "manifest: \"mediaType\" is not a string");
        goto out;
    }
    if (body_mt && kb == MANIFEST_UNKNOWN) {
        rc = diag_set(d, -ERR_UNSUPPORTED, 0, "unsupported manifest media type '%.100s'", body_mt);
        goto out;
    }
    if (kb != MANIFEST_UNKNOWN && kh != MANIFEST_UNKNOWN && kb != kh) {
        rc = diag_set(d, -ERR_MANIFEST_INVALID, 0,
                      "manifest says its media type is %s but was announced as %s", body_mt, hint);
        goto out;
    }
    k = kb != MANIFEST_UNKNOWN ? kb : kh;
    if (k == MANIFEST_UNKNOWN) {
        /* OCI documents may omit mediaType: tell them apart by shape */
        if (json_object_get(root, "manifests"))
            k = MANIFEST_OCI_INDEX;
        else if (json_object_get(root, "config") || json_object_get(root, "layers"))
            k = MANIFEST_OCI;
        else {
            rc = diag_set(d, -ERR_MANIFEST_INVALID, 0,
                          "manifest: neither an image manifest nor an index (no mediaType, "
                          "config or manifests)");
            goto out;
        }
    }
    out->kind = k;
    out->media_type = kind_media_type(k);

    if (manifest_kind_is_index(k)) {
        rc = parse_descriptors(json_object_get(root, "manifests"), true, INDEX_MAX_ENTRIES,
                               "manifests", &out->entries, &out->nentries, d);
    } else {
        rc = parse_descriptor(json_object_get(root, "config"), false, "manifest: config",
                              &out->config, d);
        if (rc == 0 && !json_object_get(root, "config"))
            rc = diag_set(d, -ERR_MANIFEST_INVALID, 0, "manifest: \"config\" is missing");
        if (rc == 0)
            rc = parse_descriptors(json_object_get(root, "layers"), false, MANIFEST_MAX_LAYERS,
                                   "layers", &out->layers, &out->nlayers, d);
    }
out:
    json_decref(root);
    if (rc)
        manifest_release(out);
    return rc;
}

/* ---- platforms ---- */

void platform_release(struct platform *p)
{
    free(p->os);
    free(p->architecture);
    free(p->variant);
    memset(p, 0, sizeof(*p));
}

static bool platform_part_ok(struct str s)
{
    if (s.len == 0 || s.len > 32)
        return false;
    for (size_t i = 0; i < s.len; i++) {
        char c = s.ptr[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
            return false;
    }
    return true;
}

static char *lower_dup(struct str s)
{
    char *r = str_dup(s);
    for (char *q = r; *q; q++)
        if (*q >= 'A' && *q <= 'Z')
            *q = (char)(*q - 'A' + 'a');
    return r;
}

int platform_parse(const char *s, struct platform *out, struct diag *d)
{
    memset(out, 0, sizeof(*out));
    if (!s || !*s) {
        out->os = xstrdup("linux");
        out->architecture = xstrdup("amd64");
        return 0;
    }
    char *low = lower_dup(str_from(s));
    struct str cur = str_from(low), parts[3];
    size_t np = 0;
    bool more = true;
    while (more && np < 3)
        more = str_cut(&cur, '/', &parts[np++]);
    int rc = 0;
    if (more || np < 2) {
        rc = diag_set(d, -ERR_INVALID, 0, "invalid platform '%.64s': want os/arch[/variant]", s);
        goto out;
    }
    for (size_t i = 0; i < np; i++)
        if (!platform_part_ok(parts[i])) {
            rc = diag_set(d, -ERR_INVALID, 0, "invalid platform '%.64s': bad part '%.*s'", s,
                          (int)(parts[i].len > 32 ? 32 : parts[i].len), parts[i].ptr);
            goto out;
        }
    out->os = str_dup(parts[0]);
    if (str_eq_cstr(parts[1], "x86_64") || str_eq_cstr(parts[1], "x86-64"))
        out->architecture = xstrdup("amd64");
    else if (str_eq_cstr(parts[1], "aarch64"))
        out->architecture = xstrdup("arm64");
    else
        out->architecture = str_dup(parts[1]);
    if (np == 3)
        out->variant = str_dup(parts[2]);
out:
    free(low);
    return rc;
}

void platform_format(const char *os, const char *arch, const char *variant, char *out, size_t n)
{
    snprintf(out, n, "%s/%s%s%s", os ? os : "?", arch ? arch : "?", variant && *variant ? "/" : "",
             variant && *variant ? variant : "");
}

static bool is_empty(const char *s)
{
    return !s || !*s;
}

/* arm64 without a variant means v8 (as containerd and Docker treat it). */
static const char *norm_variant(const char *arch, const char *variant)
{
    if (is_empty(variant))
        return arch && strcmp(arch, "arm64") == 0 ? "v8" : NULL;
    return variant;
}

static bool entry_selectable(const struct descriptor *e)
{
    if (e->is_attestation || is_empty(e->os) || is_empty(e->architecture))
        return false;
    return strcmp(e->os, "unknown") != 0 && strcmp(e->architecture, "unknown") != 0;
}

int index_select(const struct manifest *idx, const struct platform *want, struct diag *d)
{
    int best = -1, best_score = 0;
    const char *wv = norm_variant(want->architecture, want->variant);
    for (size_t i = 0; i < idx->nentries; i++) {
        const struct descriptor *e = &idx->entries[i];
        if (!entry_selectable(e))
            continue;
        if (strcmp(e->os, want->os) != 0 || strcmp(e->architecture, want->architecture) != 0)
            continue;
        const char *ev = norm_variant(e->architecture, e->variant);
        int score;
        if (wv) {
            if (!ev || strcmp(ev, wv) != 0)
                continue;
            score = 2;
        } else {
            score = ev ? 1 : 2; /* nothing asked: prefer the entry without a variant */
        }
        if (score > best_score) {
            best = (int)i;
            best_score = score;
        }
    }
    if (best >= 0)
        return best;

    /* An index whose only real entry carries no platform at all (some tools write those):
     * take it when nothing in the index says otherwise; its config tells the platform. */
    int lone = -1, candidates = 0;
    bool any_platform = false;
    for (size_t i = 0; i < idx->nentries; i++) {
        const struct descriptor *e = &idx->entries[i];
        if (e->is_attestation)
            continue;
        if (!is_empty(e->os) || !is_empty(e->architecture)) {
            any_platform = true;
            continue;
        }
        lone = (int)i;
        candidates++;
    }
    if (!any_platform && candidates == 1)
        return lone;

    char wantp[128];
    struct buf avail;
    buf_init(&avail, 160);
    platform_format(want->os, want->architecture, want->variant, wantp, sizeof(wantp));
    for (size_t i = 0; i < idx->nentries; i++) {
        const struct descriptor *e = &idx->entries[i];
        char p[128];
        if (!entry_selectable(e))
            continue;
        platform_format(e->os, e->architecture, e->variant, p, sizeof(p));
        if (strstr(buf_cstr(&avail), p))
            continue;
        if (buf_printf(&avail, "%s%s", avail.len ? ", " : "", p) != 0) {
            (void)buf_append_cstr(&avail, ", ...");
            break;
        }
    }
    int rc =
        diag_set(d, -ERR_PLATFORM, 0, "no manifest for platform %s in the index (available: %s)",
                 wantp, avail.len ? buf_cstr(&avail) : "none");
    buf_release(&avail);
    return rc;
}

/* ---- image config ---- */

void image_config_release(struct image_config *c)
{
    free(c->os);
    free(c->architecture);
    free(c->variant);
    for (size_t i = 0; i < c->ndiff_ids; i++)
        free(c->diff_ids[i]);
    free(c->diff_ids);
    memset(c, 0, sizeof(*c));
}

int image_config_parse(const void *p, size_t n, struct image_config *out, struct diag *d)
{
    int rc;
    memset(out, 0, sizeof(*out));
    json_t *root = load_json(p, n, CONFIG_MAX_BYTES, "config", d, &rc);
    if (!root)
        return rc;
    if (!json_is_object(root)) {
        rc = diag_set(d, -ERR_MANIFEST_INVALID, 0, "config: not a JSON object");
        goto out;
    }
    rc = opt_string(root, "os", &out->os, "config", d);
    if (!rc)
        rc = opt_string(root, "architecture", &out->architecture, "config", d);
    if (!rc)
        rc = opt_string(root, "variant", &out->variant, "config", d);
    if (rc)
        goto out;
    json_t *rootfs = json_object_get(root, "rootfs");
    if (!json_is_object(rootfs)) {
        rc = diag_set(d, -ERR_MANIFEST_INVALID, 0, "config: \"rootfs\" is %s",
                      rootfs ? "not an object" : "missing");
        goto out;
    }
    json_t *type = json_object_get(rootfs, "type");
    if (!json_is_string(type) || strcmp(json_string_value(type), "layers") != 0) {
        rc = diag_set(d, -ERR_MANIFEST_INVALID, 0, "config: rootfs.type is not \"layers\"");
        goto out;
    }
    json_t *ids = json_object_get(rootfs, "diff_ids");
    if (!json_is_array(ids)) {
        rc = diag_set(d, -ERR_MANIFEST_INVALID, 0, "config: rootfs.diff_ids is %s",
                      ids ? "not an array" : "missing");
        goto out;
    }
    size_t nids = json_array_size(ids);
    if (nids > MANIFEST_MAX_LAYERS) {
        rc = diag_set(d, -ERR_MANIFEST_INVALID, 0, "config: %zu diff_ids, more than the %d allowed",
                      nids, MANIFEST_MAX_LAYERS);
        goto out;
    }
    out->diff_ids = nids ? xcalloc(nids, sizeof(char *)) : NULL;
    for (size_t i = 0; i < nids; i++) {
        json_t *v = json_array_get(ids, i);
        if (!json_is_string(v) ||
            !digest_is_wellformed(str_make(json_string_value(v), json_string_length(v)))) {
            rc = diag_set(d, -ERR_MANIFEST_INVALID, 0,
                          "config: rootfs.diff_ids[%zu] is not a digest", i);
            goto out;
        }
        out->diff_ids[i] = xstrdup(json_string_value(v));
        out->ndiff_ids = i + 1;
    }
out:
    json_decref(root);
    if (rc)
        image_config_release(out);
    return rc;
}

/* ---- docker-archive manifest.json ---- */

static void archive_image_release(struct archive_image *im)
{
    free(im->config);
    for (size_t i = 0; i < im->ntags; i++)
        free(im->repo_tags[i]);
    free(im->repo_tags);
    for (size_t i = 0; i < im->nlayers; i++)
        free(im->layers[i]);
    free(im->layers);
    memset(im, 0, sizeof(*im));
}

void archive_manifest_release(struct archive_manifest *m)
{
    for (size_t i = 0; i < m->nimages; i++)
        archive_image_release(&m->images[i]);
    free(m->images);
    memset(m, 0, sizeof(*m));
}

/* An array of non-empty strings (NULL/absent allowed when optional). */
static int string_array(json_t *arr, bool optional, size_t max, const char *what, size_t img,
                        char ***out, size_t *nout, struct diag *d)
{
    if (!arr || json_is_null(arr)) {
        if (optional)
            return 0;
        return diag_set(d, -ERR_MANIFEST_INVALID, 0, "manifest.json: [%zu].%s is missing", img,
                        what);
    }
    if (!json_is_array(arr))
        return diag_set(d, -ERR_MANIFEST_INVALID, 0, "manifest.json: [%zu].%s is not an array", img,
                        what);
    size_t n = json_array_size(arr);
    if (n > max)
        return diag_set(d, -ERR_MANIFEST_INVALID, 0,
                        "manifest.json: [%zu].%s has %zu entries, more than the %zu allowed", img,
                        what, n, max);
    *out = n ? xcalloc(n, sizeof(char *)) : NULL;
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(arr, i);
        if (!json_is_string(v) || json_string_length(v) == 0 ||
            strlen(json_string_value(v)) != json_string_length(v))
            return diag_set(d, -ERR_MANIFEST_INVALID, 0,
                            "manifest.json: [%zu].%s[%zu] is not a non-empty string", img, what, i);
        (*out)[i] = xstrdup(json_string_value(v));
        *nout = i + 1;
    }
    return 0;
}

int archive_manifest_parse(const void *p, size_t n, struct archive_manifest *out, struct diag *d)
{
    int rc;
    memset(out, 0, sizeof(*out));
    json_t *root = load_json(p, n, MANIFEST_MAX_BYTES, "manifest.json", d, &rc);
    if (!root)
        return rc;
    if (!json_is_array(root)) {
        rc = diag_set(d, -ERR_MANIFEST_INVALID, 0, "manifest.json: not a JSON array");
        goto out;
    }
    size_t nimg = json_array_size(root);
    if (nimg == 0) {
        rc = diag_set(d, -ERR_MANIFEST_INVALID, 0, "manifest.json: lists no images");
        goto out;
    }
    if (nimg > ARCHIVE_MAX_IMAGES) {
        rc = diag_set(d, -ERR_MANIFEST_INVALID, 0,
                      "manifest.json: %zu images, more than the %d allowed", nimg,
                      ARCHIVE_MAX_IMAGES);
        goto out;
    }
    out->images = xcalloc(nimg, sizeof(*out->images));
    for (size_t i = 0; i < nimg; i++) {
        json_t *o = json_array_get(root, i);
        struct archive_image *im = &out->images[i];
        out->nimages = i + 1;
        char what[48];
        snprintf(what, sizeof(what), "manifest.json: [%zu]", i);
        if (!json_is_object(o)) {
            rc = diag_set(d, -ERR_MANIFEST_INVALID, 0, "%s is not an object", what);
            goto out;
        }
        rc = req_string(o, "Config", &im->config, what, d);
        if (!rc)
            rc = string_array(json_object_get(o, "RepoTags"), true, 4096, "RepoTags", i,
                              &im->repo_tags, &im->ntags, d);
        if (!rc)
            rc = string_array(json_object_get(o, "Layers"), false, MANIFEST_MAX_LAYERS, "Layers", i,
                              &im->layers, &im->nlayers, d);
        if (rc)
            goto out;
    }
out:
    json_decref(root);
    if (rc)
        archive_manifest_release(out);
    return rc;
}
