/* SPDX-License-Identifier: Apache-2.0 */
/* Java archives (jar, war, ear) held in memory: Maven coordinates from pom.properties, else
 * from MANIFEST.MF, else from the file name; archives inside archives are read the same way
 * under a depth cap and one budget for the whole tree. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "base/log.h"
#include "base/zip.h"
#include "internal.h"
#include "lang.h"

/*
 * Rules, per archive:
 *  1. Every META-INF/maven/<g>/<a>/pom.properties is a package "groupId:artifactId" at
 *     `version` (groupId/artifactId from the file, else from the path; entries without a
 *     version, or with an unresolved "${...}", are skipped). Shaded jars carry several: each
 *     is reported. The same (name, version) twice in one archive is reported once. At most
 *     JAR_MAX_POMS per archive are read.
 *  2. An archive with no pom.properties gives at most one package from META-INF/MANIFEST.MF:
 *     version = Implementation-Version, else Bundle-Version, else Specification-Version
 *     (spec versions describe an API, not the artifact: last resort); artifactId = the file
 *     name without ".jar" and without a "-<digit>..." version suffix; groupId =
 *     Implementation-Vendor-Id (older Maven archivers write the groupId there), else the
 *     OSGi Bundle-SymbolicName or the Automatic-Module-Name, minus a trailing ".<artifactId>"
 *     (org.yaml.snakeyaml + snakeyaml -> org.yaml), else as it is (com.h2database + h2 ->
 *     com.h2database:h2). Without a groupId the name is the bare artifactId, which OSV's
 *     "Maven" ecosystem ("g:a") never matches, but the package is listed. This is a guess,
 *     right for the common conventions, wrong when Debian renamed a jar.
 *  3. Else the file name "name-version.jar" (split at the last '-' before a digit) gives
 *     artifactId "name" (no groupId) at "version".
 *  4. Members named *.jar, *.war, *.ear (any directory: BOOT-INF/lib, WEB-INF/lib, an ear's
 *     lib/ and root) are read as archives with db_path "outer!member", up to JAR_MAX_DEPTH
 *     levels below the file itself. Stored members (Spring Boot requires it) are not copied.
 * A nested archive or member that cannot be read (damaged, encrypted, over a cap) is skipped
 * with a warning; only an unreadable outer archive is an error.
 */

#define JAR_MAX_DEPTH    4            /* nested archive levels read below the file itself */
#define JAR_MAX_ARCHIVES 10000u       /* nested archives opened per file */
#define JAR_MAX_PKGS     100000u      /* packages per file */
#define JAR_MAX_POMS     4096u        /* pom.properties read per archive (an uber-jar: ~100) */
#define JAR_MAX_TEXT     (1u << 20)   /* pom.properties, MANIFEST.MF */
#define JAR_MAX_NESTED   (256u << 20) /* one nested archive, uncompressed */
#define JAR_BUDGET       (1ull << 30) /* bytes extracted (or CRC-checked) per file, in all */

struct jar_ctx {
    struct arena *a;
    struct pkg_list *out;
    uint64_t budget;
    unsigned archives;
};

static bool is_archive_name(struct str n)
{
    static const char *const ext[] = { ".jar", ".war", ".ear" };
    if (n.len < 5)
        return false;
    for (size_t i = 0; i < ARRAY_SIZE(ext); i++)
        if (strncasecmp(n.ptr + n.len - 4, ext[i], 4) == 0)
            return true;
    return false;
}

/* The last path component of s (after '/' and after '!'). */
static struct str base_name(struct str s)
{
    size_t i = s.len;
    while (i > 0 && s.ptr[i - 1] != '/' && s.ptr[i - 1] != '!')
        i--;
    return str_make(s.ptr + i, s.len - i);
}

/* Extract a member under the file's budget. 0, or <0 with d set. */
static int extract(struct jar_ctx *c, struct zip *z, const struct zip_entry *e, uint64_t cap,
                   struct zip_data *zd, struct diag *d)
{
    if (e->usize > cap)
        return diag_set(d, -ERR_TOO_BIG, e->dir_offset, "%llu bytes, over the cap of %llu",
                        (unsigned long long)e->usize, (unsigned long long)cap);
    if (e->usize > c->budget)
        return diag_set(d, -ERR_TOO_BIG, e->dir_offset,
                        "%llu bytes, over what is left of the archive's budget",
                        (unsigned long long)e->usize);
    int rc = zip_extract(z, e, zd, d);
    if (rc == 0)
        c->budget -= e->usize;
    return rc;
}

static void warn_member(const char *db_path, struct str member, const struct diag *d)
{
    log_warn("pkgdb", "%s!%.*s: skipped: %s", db_path, (int)(member.len > 200 ? 200 : member.len),
             member.ptr, d->msg);
}

/* ---- pom.properties (java.util.Properties, the parts Maven writes) ----------------------- */

static bool prop_space(char c)
{
    return c == ' ' || c == '\t' || c == '\f';
}

/* Length of the logical line at the start of s: up to a line break that is not escaped
 * (a line ending in an odd number of '\\' continues on the next one). */
static size_t prop_span(struct str s, bool comment)
{
    size_t i = 0;
    while (i < s.len && s.ptr[i] != '\n' && s.ptr[i] != '\r') {
        if (s.ptr[i] == '\\' && !comment && i + 1 < s.len) {
            i += 2; /* the escaped byte, or the first byte of an escaped line break */
            if (s.ptr[i - 1] == '\r' && i < s.len && s.ptr[i] == '\n')
                i++;
        } else {
            i++;
        }
    }
    return i;
}

/* The next logical line of a .properties text: continuation lines joined (their leading
 * white space dropped), escapes resolved, into arena memory no longer than the line. False
 * at the end. Comment lines are skipped. */
static bool prop_line(struct str *cur, struct arena *a, struct str *out)
{
    for (;;) {
        /* skip leading white space and blank lines */
        while (cur->len && (prop_space(*cur->ptr) || *cur->ptr == '\n' || *cur->ptr == '\r')) {
            cur->ptr++;
            cur->len--;
        }
        if (!cur->len)
            return false;
        bool comment = *cur->ptr == '#' || *cur->ptr == '!';
        size_t n = prop_span(*cur, comment);
        struct str line = str_make(cur->ptr, n);
        cur->ptr += n;
        cur->len -= n;
        if (comment)
            continue;
        char *buf = arena_alloc(a, n + 1), *o = buf;
        for (size_t i = 0; i < line.len;) {
            char ch = line.ptr[i++];
            if (ch != '\\' || i == line.len) {
                *o++ = ch;
                continue;
            }
            char e = line.ptr[i++];
            if (e == '\n' || e == '\r') { /* continuation: skip the break and the indent */
                if (e == '\r' && i < line.len && line.ptr[i] == '\n')
                    i++;
                while (i < line.len && prop_space(line.ptr[i]))
                    i++;
                continue;
            }
            /* \uXXXX is not decoded (Maven writes ASCII); "\=" is "=" */
            *o++ = e == 't' ? '\t' : e == 'n' ? '\n' : e == 'r' ? '\r' : e == 'f' ? '\f' : e;
        }
        *o = '\0';
        *out = str_make(buf, (size_t)(o - buf));
        return true;
    }
}

struct props {
    struct str group, artifact, version;
};

static void parse_props(struct str text, struct arena *a, struct props *p)
{
    memset(p, 0, sizeof(*p));
    struct str line;
    while (prop_line(&text, a, &line)) {
        /* key ends at '=', ':' or white space (escapes were resolved: keys Maven writes have
         * none) */
        size_t k = 0;
        while (k < line.len && line.ptr[k] != '=' && line.ptr[k] != ':' && !prop_space(line.ptr[k]))
            k++;
        struct str key = str_make(line.ptr, k);
        size_t v = k;
        while (v < line.len && prop_space(line.ptr[v]))
            v++;
        if (v < line.len && (line.ptr[v] == '=' || line.ptr[v] == ':'))
            v++;
        struct str val = str_trim(str_make(line.ptr + v, line.len - v));
        if (str_eq_cstr(key, "groupId"))
            p->group = val;
        else if (str_eq_cstr(key, "artifactId"))
            p->artifact = val;
        else if (str_eq_cstr(key, "version"))
            p->version = val;
    }
}

/* ---- MANIFEST.MF main section ------------------------------------------------------------ */

struct manifest {
    struct str impl_version, bundle_version, spec_version, vendor_id, symbolic_name, module_name;
};

/* A header value that may go on over continuation lines ("\n " or "\r\n "): joined once,
 * when the header is complete. */
static struct str manifest_value(struct str raw, struct arena *a)
{
    if (!memchr(raw.ptr, '\n', raw.len))
        return raw;
    char *buf = arena_alloc(a, raw.len + 1), *o = buf;
    for (size_t i = 0; i < raw.len; i++) {
        if (raw.ptr[i] == '\r' && i + 1 < raw.len && raw.ptr[i + 1] == '\n')
            continue;
        if (raw.ptr[i] == '\n') {
            i++; /* and the space that marks the continuation */
            continue;
        }
        *o++ = raw.ptr[i];
    }
    *o = '\0';
    return str_make(buf, (size_t)(o - buf));
}

static void parse_manifest(struct str text, struct arena *a, struct manifest *m)
{
    memset(m, 0, sizeof(*m));
    struct str cur = text, line;
    struct str *target = NULL;
    const char *vstart = NULL, *vend = NULL; /* the raw value of *target, continuations too */
    for (;;) {
        bool more = str_next_line(&cur, &line);
        if (more && line.len && line.ptr[line.len - 1] == '\r')
            line.len--;
        if (more && line.len && line.ptr[0] == ' ') { /* continuation of the previous value */
            if (target)
                vend = line.ptr + line.len;
            continue;
        }
        if (target) {
            *target = str_trim(manifest_value(str_make(vstart, (size_t)(vend - vstart)), a));
            target = NULL;
        }
        if (!more || line.len == 0)
            break; /* the end of the main section */
        long colon = str_chr(line, ':');
        if (colon <= 0)
            continue;
        struct str key = str_make(line.ptr, (size_t)colon);
        static const struct {
            const char *name;
            size_t off;
        } keys[] = {
            { "Implementation-Version", offsetof(struct manifest, impl_version) },
            { "Bundle-Version", offsetof(struct manifest, bundle_version) },
            { "Specification-Version", offsetof(struct manifest, spec_version) },
            { "Implementation-Vendor-Id", offsetof(struct manifest, vendor_id) },
            { "Bundle-SymbolicName", offsetof(struct manifest, symbolic_name) },
            { "Automatic-Module-Name", offsetof(struct manifest, module_name) },
        };
        for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
            if (key.len == strlen(keys[i].name) && strncasecmp(key.ptr, keys[i].name, key.len) == 0)
                target = (struct str *)((char *)m + keys[i].off);
        if (target) {
            vstart = line.ptr + colon + 1;
            vend = line.ptr + line.len;
        }
    }
}

/* [A-Za-z0-9_.-]+ : a plausible groupId or version token */
static bool is_token(struct str s)
{
    if (!s.len)
        return false;
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        if (!(c == '.' || c == '-' || c == '_' || (c >= '0' && c <= '9') ||
              ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')))
            return false;
    }
    return true;
}

/* A version as an archive states it: printable, no white space, no "${". */
static bool is_version(struct str s)
{
    if (!s.len || s.len > 256)
        return false;
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        if (c <= 0x20 || c == 0x7f)
            return false;
        if (c == '$' && i + 1 < s.len && s.ptr[i + 1] == '{')
            return false;
    }
    return true;
}

/* "name-1.2.3.jar" -> name, "1.2.3" (split at the last '-' followed by a digit); without
 * such a '-', the whole stem is the name and the version is empty. */
static void split_file_name(struct str file, struct str *name, struct str *version)
{
    struct str stem = file;
    long dot = -1;
    for (size_t i = stem.len; i-- > 0;)
        if (stem.ptr[i] == '.') {
            dot = (long)i;
            break;
        }
    if (dot > 0)
        stem.len = (size_t)dot;
    *name = stem;
    *version = STR_NULL;
    for (size_t i = stem.len; i-- > 1;)
        if (stem.ptr[i - 1] == '-' && stem.ptr[i] >= '0' && stem.ptr[i] <= '9') {
            *name = str_make(stem.ptr, i - 1);
            *version = str_make(stem.ptr + i, stem.len - i);
            return;
        }
}

/* ---- output ------------------------------------------------------------------------------ */

static int add_pkg(struct jar_ctx *c, const char *db_path, size_t n_archive, struct str name,
                   struct str version, struct diag *d)
{
    /* once per (name, version) in this archive (nested archives have other db_paths) */
    for (size_t i = n_archive; i < c->out->items.n; i++) {
        const struct pkg *q = &c->out->items.v[i];
        if (q->db_path == db_path && str_eq_cstr(name, q->name) && str_eq_cstr(version, q->version))
            return 0;
    }
    if (c->out->items.n >= JAR_MAX_PKGS)
        return diag_set(d, -ERR_TOO_BIG, 0, "more than %u packages", JAR_MAX_PKGS);
    struct pkg p = pkgdb_pkg_blank(PKG_MAVEN, db_path);
    p.name = pkgdb_dup(c->a, name);
    p.version = pkgdb_dup(c->a, version);
    p.src_name = p.name;
    p.src_version = p.version;
    p.upstream = p.version;
    VEC_PUSH(&c->out->items, p);
    return 0;
}

/* Rule 2 and 3 for an archive without pom.properties. */
static int add_fallback(struct jar_ctx *c, const char *db_path, size_t n_archive,
                        const struct manifest *m, struct diag *d)
{
    struct str art, file_version;
    split_file_name(base_name(str_from(db_path)), &art, &file_version);
    struct str version = STR_NULL;
    const struct str *cands[] = { m ? &m->impl_version : NULL, m ? &m->bundle_version : NULL,
                                  m ? &m->spec_version : NULL, &file_version };
    for (size_t i = 0; i < ARRAY_SIZE(cands) && !version.len; i++)
        if (cands[i] && is_version(*cands[i]))
            version = *cands[i];
    if (!version.len || !art.len || !is_version(art))
        return 0; /* nothing that could ever be matched */
    struct str group = STR_NULL;
    if (m && is_token(m->vendor_id)) {
        group = m->vendor_id;
    } else if (m) {
        struct str sym = m->symbolic_name;
        long semi = str_chr(sym, ';'); /* "name;singleton:=true" */
        if (semi >= 0)
            sym.len = (size_t)semi;
        sym = str_trim(sym);
        if (!is_token(sym))
            sym = str_trim(m->module_name);
        if (is_token(sym)) {
            group = sym;
            if (sym.len > art.len + 1 && sym.ptr[sym.len - art.len - 1] == '.' &&
                memcmp(sym.ptr + sym.len - art.len, art.ptr, art.len) == 0)
                group.len = sym.len - art.len - 1;
        }
    }
    if (!group.len)
        return add_pkg(c, db_path, n_archive, art, version, d);
    struct str parts[3] = { group, STR_LIT(":"), art };
    return add_pkg(c, db_path, n_archive, str_from(pkgdb_join(c->a, parts, 3)), version, d);
}

/* ---- archives ---------------------------------------------------------------------------- */

/* "META-INF/maven/<g>/<a>/pom.properties": g and a. */
static bool is_pom_properties(struct str n, struct str *g, struct str *a)
{
    static const char pre[] = "META-INF/maven/", post[] = "/pom.properties";
    if (!str_has_prefix(n, pre) || !str_has_suffix(n, post))
        return false;
    struct str mid = str_make(n.ptr + sizeof(pre) - 1, n.len - (sizeof(pre) - 1));
    if (mid.len < sizeof(post) - 1)
        return false;
    mid.len -= sizeof(post) - 1;
    long slash = str_chr(mid, '/');
    if (slash <= 0 || (size_t)slash + 1 >= mid.len)
        return false;
    *g = str_make(mid.ptr, (size_t)slash);
    *a = str_make(mid.ptr + slash + 1, mid.len - (size_t)slash - 1);
    return str_chr(*a, '/') < 0;
}

static int read_archive(struct jar_ctx *c, struct str data, const char *db_path, int depth,
                        struct diag *d)
{
    struct zip z;
    int rc = zip_open(&z, data.ptr, data.len, NULL, d);
    if (rc < 0)
        return rc;
    const struct zip first = z;
    size_t n_archive = c->out->items.n;
    bool have_pom = false, have_manifest = false;
    unsigned poms = 0;
    struct zip_entry e, mf_entry;
    struct diag md;
    /* pass 1: this archive's own metadata */
    while ((rc = zip_next(&z, &e, d)) > 0) {
        struct str g, a;
        if (is_pom_properties(e.name, &g, &a)) {
            /* the per-archive duplicate check is quadratic: bound it */
            if (++poms > JAR_MAX_POMS) {
                if (poms == JAR_MAX_POMS + 1)
                    log_warn("pkgdb", "%s: more than %u pom.properties, the rest skipped", db_path,
                             JAR_MAX_POMS);
                continue;
            }
            struct zip_data zd;
            if (extract(c, &z, &e, JAR_MAX_TEXT, &zd, &md) < 0) {
                warn_member(db_path, e.name, &md);
                continue;
            }
            struct props p;
            parse_props(str_make(zd.ptr, zd.len), c->a, &p);
            zip_data_release(&zd);
            if (p.group.len)
                g = p.group;
            if (p.artifact.len)
                a = p.artifact;
            if (!is_version(p.version) || !is_version(g) || !is_version(a))
                continue;
            have_pom = true;
            struct str parts[3] = { g, STR_LIT(":"), a };
            rc = add_pkg(c, db_path, n_archive, str_from(pkgdb_join(c->a, parts, 3)), p.version, d);
            if (rc < 0)
                return rc;
        } else if (str_eq_cstr(e.name, "META-INF/MANIFEST.MF") && !have_manifest) {
            mf_entry = e;
            have_manifest = true;
        }
    }
    if (rc < 0)
        return rc;
    if (!have_pom) {
        struct manifest m;
        struct zip_data zd;
        bool got = false;
        if (have_manifest) {
            if (extract(c, &z, &mf_entry, JAR_MAX_TEXT, &zd, &md) < 0) {
                warn_member(db_path, mf_entry.name, &md);
            } else {
                parse_manifest(str_make(zd.ptr, zd.len), c->a, &m);
                got = true;
            }
        }
        rc = add_fallback(c, db_path, n_archive, got ? &m : NULL, d);
        if (got)
            zip_data_release(&zd);
        if (rc < 0)
            return rc;
    }
    /* pass 2: archives inside */
    uint64_t spent = z.total_out;
    z = first;
    z.total_out = spent;
    while ((rc = zip_next(&z, &e, d)) > 0) {
        if (!is_archive_name(e.name) || zip_entry_is_dir(&e) ||
            memchr(e.name.ptr, '\0', e.name.len))
            continue;
        if (depth >= JAR_MAX_DEPTH) {
            log_warn("pkgdb", "%s!%.*s: skipped: archives nested more than %d deep are not read",
                     db_path, (int)(e.name.len > 200 ? 200 : e.name.len), e.name.ptr,
                     JAR_MAX_DEPTH);
            continue;
        }
        if (c->archives >= JAR_MAX_ARCHIVES) {
            log_warn("pkgdb", "%s: more than %u nested archives, the rest skipped", db_path,
                     JAR_MAX_ARCHIVES);
            break;
        }
        c->archives++;
        struct zip_data zd;
        if (extract(c, &z, &e, JAR_MAX_NESTED, &zd, &md) < 0) {
            warn_member(db_path, e.name, &md);
            continue;
        }
        struct str parts[3] = { str_from(db_path), STR_LIT("!"), e.name };
        const char *inner = pkgdb_join(c->a, parts, 3);
        size_t n_inner = c->out->items.n;
        rc = read_archive(c, str_make(zd.ptr, zd.len), inner, depth + 1, &md);
        zip_data_release(&zd);
        if (rc == -ERR_TOO_BIG && c->out->items.n >= JAR_MAX_PKGS)
            return diag_set(d, rc, 0, "%s", md.msg);
        if (rc < 0) {
            /* a damaged nested archive: keep what the rest of the file gives */
            c->out->items.n = n_inner;
            log_warn("pkgdb", "%s: skipped: %s", inner, md.msg);
        }
    }
    return rc < 0 ? rc : 0;
}

int jar_parse(struct str data, const char *path, struct arena *a, struct pkg_list *out,
              struct diag *d)
{
    size_t n0 = out->items.n;
    if (!path)
        path = "";
    struct jar_ctx c = { .a = a, .out = out, .budget = JAR_BUDGET };
    struct diag zd = { 0 };
    int rc = read_archive(&c, data, arena_strdup(a, path), 0, &zd);
    if (rc < 0)
        diag_set(d, rc, zd.offset, "%s: %s", path, zd.msg);
    return pkgdb_rollback(out, n0, rc);
}
