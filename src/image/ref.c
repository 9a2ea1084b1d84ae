/* SPDX-License-Identifier: Apache-2.0 */
/* Reference parsing: skopeo's transports and the Docker name grammar (domain, path components,
 * tag, digest) with Docker Hub normalisation ("debian" is docker.io/library/debian). */
#include "image/ref.h"

#include <stdlib.h>
#include <string.h>

#include "base/hash.h"
#include "base/xalloc.h"

/* Messages quote at most this much of the reference so they stay one readable line. */
#define QUOTE_MAX 120

static bool is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
    return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* path-component := [a-z0-9]+ ((\.|_|__|-+)[a-z0-9]+)* */
static bool path_component_ok(struct str c)
{
    size_t i = 0;
    if (c.len == 0 || !is_lower_alnum(c.ptr[0]))
        return false;
    while (i < c.len) {
        while (i < c.len && is_lower_alnum(c.ptr[i]))
            i++;
        if (i == c.len)
            return true;
        /* a separator, then at least one alnum */
        if (c.ptr[i] == '.') {
            i++;
        } else if (c.ptr[i] == '_') {
            i++;
            if (i < c.len && c.ptr[i] == '_')
                i++;
        } else if (c.ptr[i] == '-') {
            while (i < c.len && c.ptr[i] == '-')
                i++;
        } else {
            return false;
        }
        if (i == c.len || !is_lower_alnum(c.ptr[i]))
            return false;
    }
    return true;
}

/* A path of components separated by single '/'. */
static bool repo_path_ok(struct str p)
{
    struct str cur = p, comp;
    if (p.len == 0)
        return false;
    for (;;) {
        bool more = str_cut(&cur, '/', &comp);
        if (!path_component_ok(comp))
            return false;
        if (!more)
            return true;
    }
}

/* domain := label ('.' label)* [':' port] | '[' ipv6 ']' [':' port];
 * label := [A-Za-z0-9] ([A-Za-z0-9-]* [A-Za-z0-9])? */
static bool domain_ok(struct str d)
{
    size_t i = 0;
    if (d.len == 0)
        return false;
    if (d.ptr[0] == '[') {
        i = 1;
        while (i < d.len && d.ptr[i] != ']') {
            char c = d.ptr[i];
            if (!(is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' ||
                  c == '.'))
                return false;
            i++;
        }
        if (i == d.len || i == 1)
            return false;
        i++; /* ']' */
    } else {
        for (;;) {
            size_t start = i;
            while (i < d.len && (is_alnum(d.ptr[i]) || d.ptr[i] == '-'))
                i++;
            if (i == start || d.ptr[start] == '-' || d.ptr[i - 1] == '-')
                return false;
            if (i < d.len && d.ptr[i] == '.') {
                i++;
                continue;
            }
            break;
        }
    }
    if (i == d.len)
        return true;
    if (d.ptr[i] != ':' || i + 1 == d.len || d.len - i - 1 > 5)
        return false;
    unsigned long long port;
    if (!str_to_u64(str_make(d.ptr + i + 1, d.len - i - 1), &port) || port == 0 || port > 65535)
        return false;
    return true;
}

/* tag := [A-Za-z0-9_] [A-Za-z0-9_.-]{0,127} */
static bool tag_ok(struct str t)
{
    if (t.len == 0 || t.len > DOCKER_TAG_MAX)
        return false;
    if (!(is_alnum(t.ptr[0]) || t.ptr[0] == '_'))
        return false;
    for (size_t i = 1; i < t.len; i++) {
        char c = t.ptr[i];
        if (!(is_alnum(c) || c == '_' || c == '.' || c == '-'))
            return false;
    }
    return true;
}

static bool has_upper(struct str s)
{
    for (size_t i = 0; i < s.len; i++)
        if (s.ptr[i] >= 'A' && s.ptr[i] <= 'Z')
            return true;
    return false;
}

void docker_name_release(struct docker_name *n)
{
    free(n->domain);
    free(n->repo);
    free(n->tag);
    free(n->digest);
    memset(n, 0, sizeof(*n));
}

int docker_name_parse(struct str s, bool default_tag, struct docker_name *out, struct diag *d)
{
    memset(out, 0, sizeof(*out));
    int qn = s.len > QUOTE_MAX ? QUOTE_MAX : (int)s.len;
    if (s.len == 0)
        return diag_set(d, -ERR_INVALID, 0, "empty image name");

    struct str name = s, digest = STR_NULL, tag = STR_NULL;
    long at = str_chr(s, '@');
    if (at >= 0) {
        name = str_make(s.ptr, (size_t)at);
        digest = str_make(s.ptr + at + 1, s.len - (size_t)at - 1);
        if (!digest_is_wellformed(digest))
            return diag_set(d, -ERR_INVALID, (size_t)at + 1,
                            "invalid digest in '%.*s': want sha256:<64 lower-case hex digits>", qn,
                            s.ptr);
    }
    /* A ':' after the last '/' starts the tag; one before it belongs to the domain's port. */
    size_t last_slash = 0;
    bool any_slash = false;
    for (size_t i = 0; i < name.len; i++)
        if (name.ptr[i] == '/') {
            last_slash = i;
            any_slash = true;
        }
    for (size_t i = any_slash ? last_slash : 0; i < name.len; i++) {
        if (name.ptr[i] == ':') {
            tag = str_make(name.ptr + i + 1, name.len - i - 1);
            name.len = i;
            if (!tag_ok(tag))
                return diag_set(d, -ERR_INVALID, i + 1, "invalid tag '%.*s' in '%.*s'",
                                (int)(tag.len > 64 ? 64 : tag.len), tag.ptr, qn, s.ptr);
            break;
        }
    }

    /* Domain: the first component when it looks like a host (has '.' or ':', is "localhost",
     * or has upper-case letters, which repositories never do). */
    struct str domain = STR_LIT(DOCKER_HUB_DOMAIN), path = name;
    long slash = str_chr(name, '/');
    if (slash >= 0) {
        struct str first = str_make(name.ptr, (size_t)slash);
        if (str_chr(first, '.') >= 0 || str_chr(first, ':') >= 0 || first.ptr[0] == '[' ||
            str_eq_cstr(first, "localhost") || has_upper(first)) {
            domain = first;
            path = str_make(name.ptr + slash + 1, name.len - (size_t)slash - 1);
            if (!domain_ok(domain))
                return diag_set(d, -ERR_INVALID, 0, "invalid registry host '%.*s' in '%.*s'",
                                (int)(domain.len > 64 ? 64 : domain.len), domain.ptr, qn, s.ptr);
        }
    }
    if (str_eq_cstr(domain, "index.docker.io"))
        domain = STR_LIT(DOCKER_HUB_DOMAIN);
    if (has_upper(path))
        return diag_set(d, -ERR_INVALID, 0, "repository name must be lower-case in '%.*s'", qn,
                        s.ptr);
    if (!repo_path_ok(path))
        return diag_set(d, -ERR_INVALID, 0, "invalid repository name in '%.*s'", qn, s.ptr);
    bool hub = str_eq_cstr(domain, DOCKER_HUB_DOMAIN);
    bool official = hub && str_chr(path, '/') < 0;
    if (domain.len + 1 + path.len + (official ? 8 : 0) > DOCKER_NAME_MAX)
        return diag_set(d, -ERR_INVALID, 0, "image name longer than %d bytes in '%.*s'",
                        DOCKER_NAME_MAX, qn, s.ptr);

    out->domain = str_dup(domain);
    out->repo = official ? xasprintf("library/%.*s", STR_FMT(path)) : str_dup(path);
    if (tag.ptr)
        out->tag = str_dup(tag);
    else if (default_tag && !digest.ptr)
        out->tag = xstrdup("latest");
    if (digest.ptr)
        out->digest = str_dup(digest);
    return 0;
}

char *docker_name_format(const struct docker_name *n)
{
    return xasprintf("%s/%s%s%s%s%s", n->domain, n->repo, n->tag ? ":" : "", n->tag ? n->tag : "",
                     n->digest ? "@" : "", n->digest ? n->digest : "");
}

const char *docker_name_host(const struct docker_name *n)
{
    if (strcmp(n->domain, DOCKER_HUB_DOMAIN) == 0)
        return DOCKER_HUB_HOST;
    return n->domain;
}

static bool streq_null(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

bool docker_name_same_tagged(const struct docker_name *a, const struct docker_name *b)
{
    return streq_null(a->domain, b->domain) && streq_null(a->repo, b->repo) &&
           streq_null(a->tag, b->tag);
}

void image_ref_release(struct image_ref *r)
{
    free(r->path);
    free(r->sub);
    docker_name_release(&r->name);
    memset(r, 0, sizeof(*r));
    r->index = -1;
}

/* "@N": a source index (decimal, at most 6 digits). */
static bool parse_index(struct str s, long *out)
{
    unsigned long long v;
    if (s.len < 2 || s.len > 7 || s.ptr[0] != '@')
        return false;
    if (!str_to_u64(str_make(s.ptr + 1, s.len - 1), &v))
        return false;
    *out = (long)v;
    return true;
}

/* Split "PATH[:REF]" for oci: and docker-archive:. */
static int parse_path_ref(const char *full, struct str rest, const char *transport,
                          struct image_ref *out, struct diag *d)
{
    struct str path, sub;
    int qn = (int)strnlen(full, QUOTE_MAX);
    bool has_sub = str_cut(&rest, ':', &path);
    sub = has_sub ? rest : STR_NULL;
    if (path.len == 0)
        return diag_set(d, -ERR_INVALID, strlen(transport),
                        "invalid reference '%.*s': missing path after '%s'", qn, full, transport);
    out->path = str_dup(path);
    if (sub.len == 0)
        return 0;
    if (sub.ptr[0] == '@') {
        if (!parse_index(sub, &out->index))
            return diag_set(d, -ERR_INVALID, (size_t)(sub.ptr - full),
                            "invalid reference '%.*s': '@' must be followed by an image index", qn,
                            full);
        return 0;
    }
    if (out->transport == TRANSPORT_DOCKER_ARCHIVE) {
        /* skopeo wants a name:tag here; check it now to fail early with a clear message */
        struct docker_name n;
        struct diag nd = { 0 };
        int rc = docker_name_parse(sub, false, &n, &nd);
        if (rc == 0 && n.digest)
            rc = diag_set(&nd, -ERR_INVALID, 0, "a digest cannot name an archive entry");
        docker_name_release(&n);
        if (rc)
            return diag_set(d, rc, (size_t)(sub.ptr - full), "invalid reference '%.*s': %s", qn,
                            full, nd.msg);
    }
    out->sub = str_dup(sub);
    return 0;
}

int image_ref_parse(const char *s, struct image_ref *out, struct diag *d)
{
    memset(out, 0, sizeof(*out));
    out->index = -1;
    size_t n = strnlen(s, IMAGE_REF_MAX + 1);
    int qn = n > QUOTE_MAX ? QUOTE_MAX : (int)n;
    int rc;
    if (n > IMAGE_REF_MAX)
        return diag_set(d, -ERR_INVALID, 0, "reference '%.*s...' is longer than %d bytes", qn, s,
                        IMAGE_REF_MAX);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return diag_set(d, -ERR_INVALID, i, "reference contains a control character");
    struct str all = str_make(s, n);

    if (str_has_prefix(all, "oci:")) {
        out->transport = TRANSPORT_OCI;
        rc = parse_path_ref(s, str_make(s + 4, n - 4), "oci:", out, d);
    } else if (str_has_prefix(all, "docker-archive:")) {
        out->transport = TRANSPORT_DOCKER_ARCHIVE;
        rc = parse_path_ref(s, str_make(s + 15, n - 15), "docker-archive:", out, d);
    } else if (str_has_prefix(all, "docker://")) {
        out->transport = TRANSPORT_DOCKER;
        struct diag nd = { 0 };
        rc = docker_name_parse(str_make(s + 9, n - 9), true, &out->name, &nd);
        if (rc)
            diag_set(d, rc, nd.offset + 9, "invalid reference '%.*s': %s", qn, s, nd.msg);
    } else if (str_has_prefix(all, "docker:")) {
        rc = diag_set(d, -ERR_INVALID, 7, "invalid reference '%.*s': want docker://HOST/REPO", qn,
                      s);
    } else {
        long colon = str_chr(all, ':');
        if (colon > 0 && strchr(s, '/') && (size_t)colon < (size_t)(strchr(s, '/') - s))
            rc = diag_set(d, -ERR_UNSUPPORTED, 0,
                          "unknown transport '%.*s' in '%.*s' (want oci:, docker-archive: or "
                          "docker://)",
                          (int)(colon > 32 ? 32 : colon), s, qn, s);
        else
            rc = diag_set(d, -ERR_INVALID, 0,
                          "reference '%.*s' has no transport (want oci:DIR[:REF], "
                          "docker-archive:FILE[:REF] or docker://HOST/REPO[:TAG])",
                          qn, s);
    }
    if (rc)
        image_ref_release(out);
    return rc;
}
