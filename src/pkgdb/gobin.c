/* SPDX-License-Identifier: Apache-2.0 */
/* Go inventories: the build info the Go linker writes into every executable (toolchain
 * version and module list, both the Go 1.18+ inline form and the older pointer form), and
 * go.mod require/replace directives.
 *
 * What is reported: the main module unless its version is "(devel)" (a build from a
 * checkout); every dep under its replacement's path and version when it is replaced; a dep
 * replaced by a local directory (no version, or "(devel)") not at all, since the code is not
 * the published module's; the toolchain as "stdlib" with the version spelled as the Go
 * vulnerability database spells stdlib ranges ("go1.19.8" -> "1.19.8", "go1.21rc2" ->
 * "1.21.0-rc.2"), nothing for a "devel" toolchain. Module versions keep their "v"
 * (gomod_vercmp equates "v1.2.3" and OSV's "1.2.3"). go.mod's "go" and "toolchain" lines are
 * not reported: they name a minimum, not the toolchain a binary was built with. */
#include <stdio.h>
#include <string.h>

#include "elf.h"
#include "internal.h"
#include "lang.h"

/* "\xff Go buildinf:" starts a 32-byte header aligned to 16 bytes: magic (14), pointer size
 * (1), flags (1: bit 0 big-endian pointers, bit 1 inline strings), then either two pointers
 * to Go string headers (old form) or padding followed by two varint-prefixed strings. */
static const char GO_MAGIC[14] = "\xff Go buildinf:";
#define GO_HDR_SIZE     32u
#define GO_ALIGN        16u
#define GO_FLAG_BE      1u
#define GO_FLAG_INLINE  2u
#define GO_STR_MAX      (1u << 20) /* longest version or modinfo string accepted */
#define GO_SCAN_MAX     (1u << 20) /* bytes of a data segment searched for the magic */
#define GO_SENTINEL_LEN 16u
#define GO_MOD_MAX      100000u /* modules in one binary or go.mod */

/* The 16-byte markers cmd/go puts around the module info. */
static const unsigned char MOD_START[GO_SENTINEL_LEN] = { 0x30, 0x77, 0xaf, 0x0c, 0x92, 0x74,
                                                          0x08, 0x02, 0x41, 0xe1, 0xc1, 0x07,
                                                          0xe6, 0xd6, 0x18, 0xe6 };
static const unsigned char MOD_END[GO_SENTINEL_LEN] = { 0xf9, 0x32, 0x43, 0x31, 0x86, 0x18,
                                                        0x20, 0x72, 0x00, 0x82, 0x42, 0x10,
                                                        0x41, 0x16, 0xd8, 0xf2 };

static size_t file_off(struct str whole, const char *p)
{
    return (size_t)(p - whole.ptr);
}

static void push_pkg(struct arena *a, struct pkg_list *out, const char *path, struct str name,
                     struct str version)
{
    struct pkg p = pkgdb_pkg_blank(PKG_GO, path);
    p.name = pkgdb_dup(a, name);
    p.version = pkgdb_dup(a, version);
    p.src_name = p.name;
    p.src_version = p.version;
    p.upstream = p.version;
    VEC_PUSH(&out->items, p);
}

/* ---- toolchain version -> OSV "stdlib" version ---------------------------------------- */

static bool take_num(struct str *s, struct str *num)
{
    size_t i = 0;
    while (i < s->len && s->ptr[i] >= '0' && s->ptr[i] <= '9')
        i++;
    if (i == 0 || i > 9)
        return false;
    *num = str_make(s->ptr, i);
    s->ptr += i;
    s->len -= i;
    return true;
}

/* "go1.21rc2" -> "1.21.0-rc.2", "go1.19.8" -> "1.19.8", "go1.20" -> "1.20.0": the way the Go
 * vulnerability database spells stdlib versions (semver without the "v"). Anything after the
 * first space ("go1.22.1 X:boringcrypto") is dropped. false when tag is not a release or
 * prerelease tag (a "devel ..." toolchain): then no stdlib package is reported. */
static bool go_tag_to_semver(struct str tag, char *buf, size_t cap, struct str *out)
{
    long sp = str_chr(tag, ' ');
    if (sp >= 0)
        tag.len = (size_t)sp;
    if (!str_has_prefix(tag, "go"))
        return false;
    struct str s = str_make(tag.ptr + 2, tag.len - 2), maj, min = STR_LIT("0"),
               patch = STR_LIT("0"), pre = STR_NULL, pren = STR_NULL;
    if (!take_num(&s, &maj))
        return false;
    if (s.len && s.ptr[0] == '.') {
        s.ptr++, s.len--;
        if (!take_num(&s, &min))
            return false;
        if (s.len && s.ptr[0] == '.') {
            s.ptr++, s.len--;
            if (!take_num(&s, &patch))
                return false;
        }
    }
    static const char *const kinds[] = { "alpha", "beta", "rc" };
    for (size_t i = 0; s.len && i < 3; i++) {
        if (str_has_prefix(s, kinds[i])) {
            pre = str_from(kinds[i]);
            s.ptr += pre.len;
            s.len -= pre.len;
            if (!take_num(&s, &pren))
                return false;
            break;
        }
    }
    if (s.len)
        return false;
    int n;
    if (pre.len)
        n = snprintf(buf, cap, "%.*s.%.*s.%.*s-%.*s.%.*s", STR_FMT(maj), STR_FMT(min),
                     STR_FMT(patch), STR_FMT(pre), STR_FMT(pren));
    else
        n = snprintf(buf, cap, "%.*s.%.*s.%.*s", STR_FMT(maj), STR_FMT(min), STR_FMT(patch));
    if (n < 0 || (size_t)n >= cap)
        return false;
    *out = str_make(buf, (size_t)n);
    return true;
}

/* ---- modinfo text ------------------------------------------------------------------------ */

struct gomod {
    struct str path, version;
    struct str rpath, rversion;
    bool replaced;
};

/* Split "a\tb[\tc]" into 2 or 3 columns; false for any other count. */
static bool split_cols(struct str s, struct str col[3])
{
    size_t n = 0;
    struct str head;
    for (;;) {
        bool more = str_cut(&s, '\t', &head);
        if (n == 3)
            return false;
        col[n++] = head;
        if (!more)
            break;
    }
    if (n == 2)
        col[2] = STR_NULL;
    return n >= 2;
}

/* Parse the module info between the sentinels ("path", "mod", "dep", "=>" and "build" lines)
 * and append the main module and the deps. base is the file offset of mi for messages. */
static int parse_modinfo(struct str mi, size_t base, const char *path, struct arena *a,
                         struct pkg_list *out, struct diag *d)
{
    struct gomod main_mod = { 0 };
    bool have_main = false;
    VEC(struct gomod) deps = VEC_INIT;
    struct gomod *last = NULL;
    struct str cur = mi, line;
    size_t lineno = 0;
    int rc = 0;
    while (str_next_line(&cur, &line)) {
        size_t off = base + (size_t)(line.ptr - mi.ptr);
        lineno++;
        struct str col[3];
        bool is_mod = str_has_prefix(line, "mod\t"), is_dep = str_has_prefix(line, "dep\t"),
             is_rep = str_has_prefix(line, "=>\t");
        if (!is_mod && !is_dep && !is_rep)
            continue; /* "path", "build" and lines of later Go versions */
        struct str rest = str_make(line.ptr + (is_rep ? 3 : 4), line.len - (is_rep ? 3 : 4));
        if (!split_cols(rest, col) || col[0].len == 0) {
            rc = diag_set(d, -ERR_CORRUPT, off,
                          "%s: Go module info line %zu at offset %zu: expected "
                          "'path<TAB>version[<TAB>sum]'",
                          path, lineno, off);
            goto out;
        }
        if (is_rep) {
            if (!last) {
                rc = diag_set(d, -ERR_CORRUPT, off,
                              "%s: Go module info line %zu at offset %zu: '=>' with no module "
                              "before it",
                              path, lineno, off);
                goto out;
            }
            last->replaced = true;
            last->rpath = col[0];
            last->rversion = col[1];
            last = NULL; /* one replacement per module */
            continue;
        }
        if (col[1].len == 0) {
            rc = diag_set(d, -ERR_CORRUPT, off,
                          "%s: Go module info line %zu at offset %zu: module '%.*s' has no "
                          "version",
                          path, lineno, off, STR_FMT(col[0]));
            goto out;
        }
        struct gomod m = { .path = col[0], .version = col[1] };
        if (is_mod) {
            main_mod = m;
            have_main = true;
            last = &main_mod;
        } else {
            if (deps.n >= GO_MOD_MAX) {
                rc = diag_set(d, -ERR_TOO_BIG, off,
                              "%s: Go module info at offset %zu: more than %u modules", path, off,
                              GO_MOD_MAX);
                goto out;
            }
            VEC_PUSH(&deps, m);
            last = &deps.v[deps.n - 1];
        }
    }
    if (have_main) {
        struct gomod *m = &main_mod;
        struct str n = m->replaced ? m->rpath : m->path, v = m->replaced ? m->rversion : m->version;
        /* a main module built from a checkout has no version: "(devel)" */
        if (v.len && !str_eq_cstr(v, "(devel)"))
            push_pkg(a, out, path, n, v);
    }
    for (size_t i = 0; i < deps.n; i++) {
        const struct gomod *m = &deps.v[i];
        /* a replacement by a local directory has no version (or "(devel)"): the code is not
         * the module's published code, so it is not reported under either name */
        if (m->replaced && (m->rversion.len == 0 || str_eq_cstr(m->rversion, "(devel)")))
            continue;
        push_pkg(a, out, path, m->replaced ? m->rpath : m->path,
                 m->replaced ? m->rversion : m->version);
    }
out:
    VEC_FREE(&deps);
    return rc;
}

/* ---- locating and decoding the build info ---------------------------------------------- */

/* Find the 16-byte-aligned magic in region r (at least a whole header after it); the index or
 * -1. Alignment is relative to the start of r, which is a section or segment start. */
static long find_magic(struct str r)
{
    size_t i = 0;
    while (i + GO_HDR_SIZE <= r.len) {
        const char *p = memmem(r.ptr + i, r.len - i, GO_MAGIC, sizeof(GO_MAGIC));
        if (!p)
            return -1;
        size_t at = (size_t)(p - r.ptr);
        if (at % GO_ALIGN == 0 && r.len - at >= GO_HDR_SIZE)
            return (long)at;
        i = (at + GO_ALIGN) & ~(size_t)(GO_ALIGN - 1);
    }
    return -1;
}

/* The region that holds the build info: the .go.buildinfo section, else the first writable,
 * non-executable PT_LOAD segment whose first GO_SCAN_MAX bytes hold the magic. *r starts at
 * the magic and runs to the end of its section or segment.
 * 1 found, 0 none, <0 error. */
static int locate(const struct elf_file *e, const char *path, struct str *r, struct diag *d)
{
    struct elf_section s;
    if (elf_section_by_name(e, ".go.buildinfo", &s)) {
        struct str data;
        int rc = elf_section_data(e, &s, &data, d);
        if (rc < 0) {
            struct diag inner = d ? *d : (struct diag){ 0 };
            return diag_set(d, rc, inner.offset, "%s: %s", path, inner.msg);
        }
        long at = find_magic(data);
        if (at < 0)
            return 0;
        *r = str_make(data.ptr + at, data.len - (size_t)at);
        return 1;
    }
    for (uint16_t i = 0; i < e->phnum; i++) {
        struct elf_segment p;
        if (!elf_segment_at(e, i, &p) || p.type != ELF_PT_LOAD ||
            (p.flags & (ELF_PF_W | ELF_PF_X)) != ELF_PF_W)
            continue;
        if (p.offset > e->data.len)
            continue;
        uint64_t n = p.filesz;
        if (n > e->data.len - p.offset)
            n = e->data.len - p.offset;
        struct str seg = str_make(e->data.ptr + p.offset, (size_t)n);
        struct str head = str_make(seg.ptr, seg.len < GO_SCAN_MAX ? seg.len : GO_SCAN_MAX);
        long at = find_magic(head);
        if (at < 0)
            continue;
        *r = str_make(seg.ptr + at, seg.len - (size_t)at);
        return 1;
    }
    return 0;
}

/* Read an unsigned LEB128 varint (Go's binary.Uvarint). false when cut short or over 64 bits. */
static bool uvarint(struct str *s, uint64_t *v)
{
    uint64_t x = 0;
    unsigned shift = 0;
    for (size_t i = 0; i < s->len && i < 10; i++) {
        unsigned char b = (unsigned char)s->ptr[i];
        if (i == 9 && b > 1)
            return false;
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = x;
            s->ptr += i + 1;
            s->len -= i + 1;
            return true;
        }
        shift += 7;
    }
    return false;
}

static int inline_string(struct str *cur, struct str whole, const char *path, const char *what,
                         struct str *out, struct diag *d)
{
    size_t off = file_off(whole, cur->ptr);
    uint64_t n;
    if (!uvarint(cur, &n))
        return diag_set(d, -ERR_CORRUPT, off,
                        "%s: Go build info: bad length of the %s string at offset %zu", path, what,
                        off);
    if (n > GO_STR_MAX || n > cur->len)
        return diag_set(d, -ERR_TRUNCATED, off,
                        "%s: Go build info: %s string at offset %zu claims %llu bytes, %zu left",
                        path, what, off, (unsigned long long)n, cur->len);
    *out = str_make(cur->ptr, (size_t)n);
    cur->ptr += n;
    cur->len -= (size_t)n;
    return 0;
}

/* Old form: at hdr_addr + 16 (+ ptr_size) a pointer to a Go string header {data, len}. */
static int pointer_string(const struct elf_file *e, struct str hdr, unsigned ptr_size, bool be,
                          unsigned which, const char *path, const char *what, struct str *out,
                          struct diag *d)
{
    const unsigned char *p = (const unsigned char *)hdr.ptr + 16 + (size_t)which * ptr_size;
    size_t off = file_off(e->data, (const char *)p);
    uint64_t saddr = elf_uint(p, ptr_size, be);
    struct str sh;
    if (!elf_read_addr(e, saddr, 2ull * ptr_size, &sh))
        return diag_set(d, -ERR_CORRUPT, off,
                        "%s: Go build info: %s string header address 0x%llx (pointer at offset "
                        "%zu) is not in the file",
                        path, what, (unsigned long long)saddr, off);
    uint64_t daddr = elf_uint((const unsigned char *)sh.ptr, ptr_size, be);
    uint64_t dlen = elf_uint((const unsigned char *)sh.ptr + ptr_size, ptr_size, be);
    size_t shoff = file_off(e->data, sh.ptr);
    if (dlen > GO_STR_MAX)
        return diag_set(d, -ERR_TOO_BIG, shoff,
                        "%s: Go build info: %s string at offset %zu claims %llu bytes", path, what,
                        shoff, (unsigned long long)dlen);
    if (dlen == 0) {
        *out = str_make(e->data.ptr, 0);
        return 0;
    }
    if (!elf_read_addr(e, daddr, dlen, out))
        return diag_set(d, -ERR_CORRUPT, shoff,
                        "%s: Go build info: %s string (%llu bytes at address 0x%llx, header at "
                        "offset %zu) is not in the file",
                        path, what, (unsigned long long)dlen, (unsigned long long)daddr, shoff);
    return 0;
}

int go_parse_binary(struct str data, const char *path, struct arena *a, struct pkg_list *out,
                    struct diag *d)
{
    size_t n0 = out->items.n;
    struct elf_file e;
    struct diag inner = { 0 };
    if (!path)
        path = "";
    int rc = elf_open(&e, data, &inner);
    if (rc == 0)
        return 0;
    if (rc < 0)
        return diag_set(d, rc, inner.offset, "%s: %s", path, inner.msg);

    struct str r = STR_NULL;
    rc = locate(&e, path, &r, d);
    if (rc <= 0 || r.len < GO_HDR_SIZE)
        return rc < 0 ? rc : 0;
    size_t hoff = file_off(data, r.ptr);
    unsigned ptr_size = (unsigned char)r.ptr[14], flags = (unsigned char)r.ptr[15];
    struct str vers = STR_NULL, mod = STR_NULL;
    if (flags & GO_FLAG_INLINE) {
        struct str cur = str_make(r.ptr + GO_HDR_SIZE, r.len - GO_HDR_SIZE);
        rc = inline_string(&cur, data, path, "version", &vers, d);
        if (rc == 0)
            rc = inline_string(&cur, data, path, "module info", &mod, d);
        if (rc < 0)
            return rc;
    } else {
        if (ptr_size != 4 && ptr_size != 8)
            return diag_set(d, -ERR_CORRUPT, hoff + 14,
                            "%s: Go build info at offset %zu: pointer size %u is neither 4 nor 8",
                            path, hoff, ptr_size);
        bool be = flags & GO_FLAG_BE;
        rc = pointer_string(&e, r, ptr_size, be, 0, path, "version", &vers, d);
        if (rc == 0)
            rc = pointer_string(&e, r, ptr_size, be, 1, path, "module info", &mod, d);
        if (rc < 0)
            return rc;
    }
    /* the Go tools call a binary with an empty version "not a Go executable" */
    if (vers.len == 0)
        return 0;

    const char *dpath = arena_strdup(a, path);
    if (mod.len) {
        size_t moff = file_off(data, mod.ptr);
        if (mod.len < (size_t)2 * GO_SENTINEL_LEN + 1 ||
            memcmp(mod.ptr, MOD_START, GO_SENTINEL_LEN) != 0 ||
            memcmp(mod.ptr + mod.len - GO_SENTINEL_LEN, MOD_END, GO_SENTINEL_LEN) != 0)
            return diag_set(d, -ERR_CORRUPT, moff,
                            "%s: Go module info at offset %zu (%zu bytes) lacks its 16-byte "
                            "start/end markers",
                            path, moff, mod.len);
        struct str mi = str_make(mod.ptr + GO_SENTINEL_LEN, mod.len - (size_t)2 * GO_SENTINEL_LEN);
        size_t where;
        if (pkgdb_has_nul(mi, &where))
            return diag_set(d, -ERR_CORRUPT, moff + GO_SENTINEL_LEN + where,
                            "%s: Go module info: NUL byte at offset %zu", path,
                            moff + GO_SENTINEL_LEN + where);
        rc = parse_modinfo(mi, moff + GO_SENTINEL_LEN, dpath, a, out, d);
        if (rc < 0)
            return pkgdb_rollback(out, n0, rc);
    }
    char vbuf[64];
    struct str sv;
    if (go_tag_to_semver(vers, vbuf, sizeof(vbuf), &sv))
        push_pkg(a, out, dpath, STR_LIT("stdlib"), sv);
    return 0;
}

/* ---- go.mod ------------------------------------------------------------------------------- */

#define GOMOD_MAX_TOKENS 8

struct gomod_line {
    struct str tok[GOMOD_MAX_TOKENS];
    size_t n;
};

/* Split one go.mod line into tokens: bare words, "interpreted" (backslash escapes kept as
 * written) and `raw` strings (quotes removed), "(", ")" and "=>"; "//" starts a comment.
 * <0 on an unterminated string or too many tokens. */
static int tokenize(struct str line, struct gomod_line *t, size_t lineno, size_t off,
                    const char *path, struct diag *d)
{
    size_t i = 0;
    t->n = 0;
    while (i < line.len) {
        char c = line.ptr[i];
        if (c == ' ' || c == '\t' || c == '\r') {
            i++;
            continue;
        }
        if (c == '/' && i + 1 < line.len && line.ptr[i + 1] == '/')
            break;
        if (t->n == GOMOD_MAX_TOKENS)
            return diag_set(d, -ERR_CORRUPT, off + i, "%s:%zu:%zu: too many words on the line",
                            path, lineno, i + 1);
        size_t start = i;
        if (c == '"' || c == '`') {
            i++;
            while (i < line.len && line.ptr[i] != c) {
                if (c == '"' && line.ptr[i] == '\\')
                    i++;
                i++;
            }
            if (i >= line.len)
                return diag_set(d, -ERR_CORRUPT, off + start, "%s:%zu:%zu: unterminated string",
                                path, lineno, start + 1);
            t->tok[t->n++] = str_make(line.ptr + start + 1, i - start - 1);
            i++;
            continue;
        }
        if (c == '(' || c == ')') {
            t->tok[t->n++] = str_make(line.ptr + i, 1);
            i++;
            continue;
        }
        while (i < line.len && line.ptr[i] != ' ' && line.ptr[i] != '\t' && line.ptr[i] != '\r' &&
               line.ptr[i] != '(' && line.ptr[i] != ')' && line.ptr[i] != '"' &&
               line.ptr[i] != '`' &&
               !(line.ptr[i] == '/' && i + 1 < line.len && line.ptr[i + 1] == '/'))
            i++;
        t->tok[t->n++] = str_make(line.ptr + start, i - start);
    }
    return 0;
}

struct gomod_replace {
    struct str old, oldver, new, newver;
};

struct gomod_reqs {
    struct gomod *v;
    size_t n, cap;
};

struct gomod_reps {
    struct gomod_replace *v;
    size_t n, cap;
};

enum gomod_block { GB_NONE, GB_REQUIRE, GB_REPLACE, GB_OTHER };

static int gomod_entry(enum gomod_block kind, const struct str *tok, size_t n, size_t lineno,
                       size_t off, const char *path, struct gomod_reqs *reqs,
                       struct gomod_reps *reps, struct diag *d)
{
    if (kind == GB_REQUIRE) {
        if (n != 2 || tok[0].len == 0 || tok[1].len == 0)
            return diag_set(d, -ERR_CORRUPT, off, "%s:%zu: expected 'require PATH VERSION'", path,
                            lineno);
        if (reqs->n >= GO_MOD_MAX)
            return diag_set(d, -ERR_TOO_BIG, off, "%s:%zu: more than %u requirements", path, lineno,
                            GO_MOD_MAX);
        VEC_PUSH(reqs, ((struct gomod){ .path = tok[0], .version = tok[1] }));
        return 0;
    }
    if (kind == GB_REPLACE) {
        /* OLD [OLDVER] => NEW [NEWVER] */
        size_t arrow = n;
        for (size_t i = 0; i < n; i++)
            if (str_eq_cstr(tok[i], "=>"))
                arrow = i;
        if (arrow == n || arrow < 1 || arrow > 2 || n - arrow - 1 < 1 || n - arrow - 1 > 2)
            return diag_set(d, -ERR_CORRUPT, off,
                            "%s:%zu: expected 'replace OLD [VERSION] => NEW [VERSION]'", path,
                            lineno);
        if (reps->n >= GO_MOD_MAX)
            return diag_set(d, -ERR_TOO_BIG, off, "%s:%zu: more than %u replacements", path, lineno,
                            GO_MOD_MAX);
        struct gomod_replace r = { .old = tok[0],
                                   .oldver = arrow == 2 ? tok[1] : STR_NULL,
                                   .new = tok[arrow + 1],
                                   .newver = n - arrow - 1 == 2 ? tok[arrow + 2] : STR_NULL };
        VEC_PUSH(reps, r);
        return 0;
    }
    return 0;
}

int go_parse_mod(struct str data, const char *path, struct arena *a, struct pkg_list *out,
                 struct diag *d)
{
    size_t n0 = out->items.n, where;
    if (!path)
        path = "";
    if (data.len > PKGDB_MAX_DB)
        return diag_set(d, -ERR_TOO_BIG, 0, "%s: %zu bytes is over the limit", path, data.len);
    if (pkgdb_has_nul(data, &where))
        return diag_set(d, -ERR_CORRUPT, where, "%s: NUL byte at offset %zu", path, where);

    struct gomod_reqs reqs = VEC_INIT;
    struct gomod_reps reps = VEC_INIT;
    enum gomod_block block = GB_NONE;
    size_t block_line = 0, lineno = 0;
    struct str cur = data, line;
    int rc = 0;
    while (str_next_line(&cur, &line)) {
        size_t off = (size_t)(line.ptr - data.ptr);
        struct gomod_line t;
        lineno++;
        rc = tokenize(line, &t, lineno, off, path, d);
        if (rc < 0)
            goto out;
        if (t.n == 0)
            continue;
        if (block != GB_NONE) {
            if (t.n == 1 && str_eq_cstr(t.tok[0], ")")) {
                block = GB_NONE;
                continue;
            }
            rc = gomod_entry(block, t.tok, t.n, lineno, off, path, &reqs, &reps, d);
            if (rc < 0)
                goto out;
            continue;
        }
        enum gomod_block kind = GB_OTHER;
        if (str_eq_cstr(t.tok[0], "require"))
            kind = GB_REQUIRE;
        else if (str_eq_cstr(t.tok[0], "replace"))
            kind = GB_REPLACE;
        else if (str_eq_cstr(t.tok[0], "(") || str_eq_cstr(t.tok[0], ")")) {
            rc = diag_set(d, -ERR_CORRUPT, off, "%s:%zu: unexpected '%.*s'", path, lineno,
                          STR_FMT(t.tok[0]));
            goto out;
        }
        if (t.n == 2 && str_eq_cstr(t.tok[1], "(")) {
            block = kind;
            block_line = lineno;
            continue;
        }
        if (t.n >= 2 && str_eq_cstr(t.tok[1], "(")) {
            rc = diag_set(d, -ERR_CORRUPT, off, "%s:%zu: text after '('", path, lineno);
            goto out;
        }
        /* module, go, toolchain, exclude, retract, godebug, ...: nothing to report */
        rc = gomod_entry(kind, t.tok + 1, t.n - 1, lineno, off, path, &reqs, &reps, d);
        if (rc < 0)
            goto out;
    }
    if (block != GB_NONE) {
        rc = diag_set(d, -ERR_TRUNCATED, data.len, "%s:%zu: block opened on line %zu never closed",
                      path, lineno, block_line);
        goto out;
    }
    const char *dpath = arena_strdup(a, path);
    for (size_t i = 0; i < reqs.n; i++) {
        struct str n = reqs.v[i].path, v = reqs.v[i].version;
        bool drop = false;
        /* the last matching replace wins, a versioned one over an unversioned one */
        const struct gomod_replace *hit = NULL;
        for (size_t j = 0; j < reps.n; j++) {
            const struct gomod_replace *r = &reps.v[j];
            if (!str_eq(r->old, n))
                continue;
            if (r->oldver.len && !str_eq(r->oldver, v))
                continue;
            if (hit && hit->oldver.len && !r->oldver.len)
                continue;
            hit = r;
        }
        if (hit) {
            if (hit->newver.len == 0)
                drop = true; /* local directory: not the published module */
            n = hit->new;
            v = hit->newver;
        }
        if (!drop)
            push_pkg(a, out, dpath, n, v);
    }
out:
    VEC_FREE(&reqs);
    VEC_FREE(&reps);
    return pkgdb_rollback(out, n0, rc);
}
