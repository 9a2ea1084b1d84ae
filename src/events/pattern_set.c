/* SPDX-License-Identifier: Apache-2.0 */
/* Rule sets and matching. All patterns of a set are compiled into one structure: a trie of the
 * path segments the rules name (so the event walk skips every other subtree), per-path value
 * indexes (hash of exact values, prefix/suffix tables probed by length, numeric interval
 * index, address ranges) and, for each sub-rule, one "anchor" condition chosen at build time
 * as the most selective. Matching walks the event text once, records the leaves on named
 * paths, looks the leaves up in the indexes to find candidate sub-rules, and checks each
 * candidate's fields against the recorded leaves with event-ruler's array consistency. */
#include <stdlib.h>
#include <string.h>

#include "base/vec.h"
#include "base/xalloc.h"
#include "events/jscan.h"
#include "events/pattern.h"
#include "events/pattern_internal.h"

#define NONE32 UINT32_MAX

/* anchor key tags */
enum {
    TAG_STR = 'S',    /* exact string */
    TAG_NUM = 'N',    /* comparable number (8 bytes) */
    TAG_NUMTXT = 'T', /* number text, not comparable */
    TAG_LIT = 'L',    /* true / false / null (1 byte: enum jtype) */
    TAG_PREFIX = 'P', /* prefix of the string */
    TAG_SUFFIX = 'X', /* suffix of the string */
    TAG_FOLD = 'E',   /* folded string */
    TAG_FPREFIX = 'Q',
    TAG_FSUFFIX = 'Y',
    TAG_GRAM = 'G' /* GRAM_LEN bytes found anywhere in the string */
};

/* Length of the substrings a wildcard's middle segment is indexed by. */
#define GRAM_LEN 8

struct rule {
    char *id;
    struct pattern *p;
};

struct xfield {
    uint32_t pid;
    uint32_t vid; /* the same (path, value list) in any rule has the same vid */
    const struct pvals *vals;
};

struct xsub {
    uint32_t rule;
    uint32_t nf;
    struct xfield *f;
};

/* trie of path segments */
struct tnode {
    uint32_t pid; /* path id when some field names this exact path, else NONE32 */
    bool has_children;
};

struct tedge {
    uint64_t h;
    uint32_t parent, child;
    uint32_t off, len; /* segment bytes in seg_pool */
};

/* anchor hash entries: key -> list of sub-rules */
struct akey {
    uint64_t h;
    uint32_t pid;
    uint32_t len;
    const char *bytes;
    uint32_t off, cnt; /* into anchor_subs */
    uint8_t tag;
};

struct iprange {
    uint8_t lo[16], hi[16];
    uint8_t len;
    uint32_t sub;
};

struct ppath {
    /* sub-rules anchored on "any leaf here" */
    uint32_t *presence;
    uint32_t npresence;
    /* probe lengths for prefix/suffix tables (plain and folded) */
    uint16_t *plen, *slen, *fplen, *fslen;
    uint32_t nplen, nslen, nfplen, nfslen;
    uint64_t gram_first[4]; /* first bytes of the GRAM_LEN keys anchored here */
    bool want_gram;
    bool want_fold;   /* some anchor needs the folded value */
    bool want_number; /* leaves need the comparable number */
    bool want_ip;
    /* numeric interval index: boundaries b[0..nb), slots 2*nb+1 */
    int64_t *bnd;
    uint32_t nbnd;
    uint32_t *slot_off; /* 2*nbnd+2 offsets into slot_subs */
    uint32_t *slot_subs;
    struct iprange *ip;
    uint32_t nip;
};

struct pattern_set {
    VEC(struct rule) rules;
    bool built;
    struct arena arena; /* index storage, rebuilt by pattern_set_build */
    struct tnode *nodes;
    size_t nnodes;
    struct tedge *edges;
    size_t edge_cap; /* power of two */
    char *seg_pool;
    size_t npaths;
    struct ppath *paths;
    struct xsub *subs;
    size_t nsubs;
    size_t nvids;
    struct akey *keys;
    size_t key_cap; /* power of two */
    uint32_t *anchor_subs;
    uint32_t *always;
    size_t nalways;
};

/* ---- rules -------------------------------------------------------------------------------- */

struct pattern_set *pattern_set_new(void)
{
    struct pattern_set *s = xcalloc(1, sizeof(*s));
    arena_init(&s->arena);
    return s;
}

static void clear_index(struct pattern_set *s)
{
    arena_release(&s->arena);
    arena_init(&s->arena);
    free(s->edges);
    free(s->keys);
    s->edges = NULL;
    s->keys = NULL;
    s->nodes = NULL;
    s->paths = NULL;
    s->subs = NULL;
    s->nnodes = s->npaths = s->nsubs = s->nalways = 0;
    s->edge_cap = s->key_cap = 0;
    s->built = false;
}

void pattern_set_free(struct pattern_set *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->rules.n; i++) {
        free(s->rules.v[i].id);
        pattern_free(s->rules.v[i].p);
    }
    VEC_FREE(&s->rules);
    clear_index(s);
    arena_release(&s->arena);
    free(s);
}

int pattern_set_add(struct pattern_set *s, const char *rule_id, const char *json, size_t len,
                    struct diag *d)
{
    struct pattern *p;
    int rc = pattern_compile(json, len, &p, d);
    if (rc != 0)
        return rc;
    s->built = false;
    for (size_t i = 0; i < s->rules.n; i++)
        if (strcmp(s->rules.v[i].id, rule_id) == 0) {
            pattern_free(s->rules.v[i].p);
            s->rules.v[i].p = p;
            return 0;
        }
    struct rule r = { xstrdup(rule_id), p };
    VEC_PUSH(&s->rules, r);
    return 0;
}

int pattern_set_remove(struct pattern_set *s, const char *rule_id)
{
    for (size_t i = 0; i < s->rules.n; i++)
        if (strcmp(s->rules.v[i].id, rule_id) == 0) {
            free(s->rules.v[i].id);
            pattern_free(s->rules.v[i].p);
            memmove(&s->rules.v[i], &s->rules.v[i + 1],
                    (s->rules.n - i - 1) * sizeof(s->rules.v[0]));
            s->rules.n--;
            s->built = false;
            return 0;
        }
    return -ERR_NOT_FOUND;
}

size_t pattern_set_count(const struct pattern_set *s)
{
    return s->rules.n;
}

const char *pattern_set_rule_id(const struct pattern_set *s, size_t i)
{
    return i < s->rules.n ? s->rules.v[i].id : NULL;
}

/* ---- trie --------------------------------------------------------------------------------- */

static inline uint64_t edge_hash(uint32_t parent, const char *seg, size_t n)
{
    return phash(seg, n) ^ ((uint64_t)(parent + 1) * 0x9e3779b97f4a7c15ull);
}

static uint32_t trie_find(const struct pattern_set *s, uint32_t parent, const char *seg, size_t n)
{
    if (!s->edge_cap)
        return NONE32;
    uint64_t h = edge_hash(parent, seg, n);
    size_t mask = s->edge_cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        const struct tedge *e = &s->edges[i];
        if (e->child == NONE32)
            return NONE32;
        if (e->h == h && e->parent == parent && e->len == n &&
            memcmp(s->seg_pool + e->off, seg, n) == 0)
            return e->child;
    }
}

struct build {
    VEC(struct tnode) nodes;
    VEC(char) pool;
    VEC(struct tedge) edges; /* unhashed list */
};

static uint32_t trie_add(struct pattern_set *s, struct build *b, uint32_t parent, const char *seg,
                         size_t n)
{
    /* linear over the edges under construction is fine for a few thousand paths: use a
     * temporary hash of the edges built so far */
    uint64_t h = edge_hash(parent, seg, n);
    for (size_t i = 0; i < b->edges.n; i++) {
        struct tedge *e = &b->edges.v[i];
        if (e->h == h && e->parent == parent && e->len == n &&
            memcmp(b->pool.v + e->off, seg, n) == 0)
            return e->child;
    }
    (void)s;
    struct tnode nd = { NONE32, false };
    VEC_PUSH(&b->nodes, nd);
    b->nodes.v[parent].has_children = true;
    struct tedge e = { h, parent, (uint32_t)(b->nodes.n - 1), (uint32_t)b->pool.n, (uint32_t)n };
    VEC_GROW(&b->pool, b->pool.n + n + 1);
    if (n)
        memcpy(b->pool.v + b->pool.n, seg, n);
    b->pool.n += n;
    VEC_PUSH(&b->edges, e);
    return e.child;
}

/* ---- building ----------------------------------------------------------------------------- */

struct apair {
    uint64_t h;
    uint32_t pid;
    uint8_t tag;
    uint32_t len;
    const char *bytes;
    uint32_t sub;
};

struct range_ent {
    int64_t lo, hi;
    bool lo_open, hi_open;
    uint32_t sub;
};

struct bpath {
    VEC(uint32_t) presence;
    VEC(uint16_t) plen, slen, fplen, fslen;
    VEC(struct range_ent) ranges;
    VEC(struct iprange) ip;
    /* distinct anchor keys seen here (for selectivity estimates) */
    uint64_t gram_first[4];
    bool want_gram;
    size_t nkeys;
    double coverage; /* share of all sub-rules that name this path */
    bool want_fold, want_number, want_ip;
};

static void add_len(void *vecp, uint16_t len)
{
    VEC(uint16_t) *v = vecp;
    for (size_t i = 0; i < v->n; i++)
        if (v->v[i] == len)
            return;
    VEC_PUSH(v, len);
}

/* the anchor key of one matcher: tag and bytes (0 = not hashable) */
static uint8_t matcher_key(const struct pm *m, const char **bytes, size_t *len, int64_t *numbuf,
                           char *litbuf)
{
    switch (m->kind) {
    case PM_EXACT_STR:
        *bytes = m->s.ptr;
        *len = m->s.len;
        return TAG_STR;
    case PM_EXACT_NUM:
        if (m->num_ok) {
            *numbuf = m->num;
            *bytes = (const char *)numbuf;
            *len = sizeof(*numbuf);
            return TAG_NUM;
        }
        *bytes = m->s.ptr;
        *len = m->s.len;
        return TAG_NUMTXT;
    case PM_EXACT_LIT:
        *litbuf = (char)m->lit;
        *bytes = litbuf;
        *len = 1;
        return TAG_LIT;
    case PM_PREFIX:
        *bytes = m->s.ptr;
        *len = m->s.len;
        return m->s.len ? TAG_PREFIX : 0;
    case PM_SUFFIX:
        *bytes = m->s.ptr;
        *len = m->s.len;
        return m->s.len ? TAG_SUFFIX : 0;
    case PM_EIC:
        *bytes = m->s.ptr;
        *len = m->s.len;
        return TAG_FOLD;
    case PM_PREFIX_EIC:
        *bytes = m->s.ptr;
        *len = m->s.len;
        return m->s.len ? TAG_FPREFIX : 0;
    case PM_SUFFIX_EIC:
        *bytes = m->s.ptr;
        *len = m->s.len;
        return m->s.len ? TAG_FSUFFIX : 0;
    case PM_WILDCARD: {
        const struct wc *w = m->wc;
        if (w->nseg == 1) {
            *bytes = w->seg[0].ptr;
            *len = w->seg[0].len;
            return TAG_STR;
        }
        /* the longest literal: head, tail, or a middle segment found by its first bytes */
        const struct str *hd = &w->seg[0], *tl = &w->seg[w->nseg - 1];
        const struct str *mid = NULL;
        for (size_t i = 1; i + 1 < w->nseg; i++)
            if (w->seg[i].len >= GRAM_LEN && (!mid || w->seg[i].len > mid->len))
                mid = &w->seg[i];
        if (mid && mid->len > hd->len && mid->len > tl->len) {
            *bytes = mid->ptr;
            *len = GRAM_LEN;
            return TAG_GRAM;
        }
        if (hd->len == 0 && tl->len == 0)
            return 0;
        if (hd->len >= tl->len) {
            *bytes = hd->ptr;
            *len = hd->len;
            return TAG_PREFIX;
        }
        *bytes = tl->ptr;
        *len = tl->len;
        return TAG_SUFFIX;
    }
    case PM_NUM_RANGE:
    case PM_IP_RANGE:
    case PM_EXISTS:
    case PM_ABSENT:
    case PM_AB_STR:
    case PM_AB_NUM:
    case PM_AB_PREFIX:
    case PM_AB_SUFFIX:
    case PM_AB_EIC:
    case PM_AB_WILDCARD:
        break;
    }
    return 0;
}

static bool matcher_wants_fold(enum pm_kind k)
{
    return k == PM_EIC || k == PM_PREFIX_EIC || k == PM_SUFFIX_EIC || k == PM_AB_EIC;
}

static bool matcher_wants_number(enum pm_kind k)
{
    return k == PM_EXACT_NUM || k == PM_NUM_RANGE || k == PM_AB_NUM;
}

/* estimated share of events whose leaf at this path hits the matcher */
static double matcher_cost(const struct pm *m, const struct bpath *bp)
{
    const char *b;
    size_t l;
    int64_t nb;
    char lb;
    uint8_t tag = matcher_key(m, &b, &l, &nb, &lb);
    double keys = bp->nkeys ? (double)bp->nkeys : 1.0;
    if (tag) {
        /* a value among D the rules name, weighted by how many rules name the path at all: a
         * path every rule names (source, detail-type) has its few values covering the events,
         * a path few rules name is likely more specific */
        double c = bp->coverage / keys;
        /* a short literal head or tail of a wildcard is weaker than an exact value */
        if (m->kind == PM_WILDCARD || m->kind == PM_PREFIX || m->kind == PM_SUFFIX)
            c *= 1.5;
        return c;
    }
    if (m->kind == PM_NUM_RANGE)
        return 0.3;
    if (m->kind == PM_IP_RANGE)
        return 0.1;
    return 1.0;
}

static int cmp_apair(const void *a, const void *b)
{
    const struct apair *x = a, *y = b;
    if (x->h != y->h)
        return x->h < y->h ? -1 : 1;
    if (x->pid != y->pid)
        return x->pid < y->pid ? -1 : 1;
    if (x->tag != y->tag)
        return x->tag - y->tag;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    int r = memcmp(x->bytes, y->bytes, x->len);
    if (r)
        return r;
    return x->sub < y->sub ? -1 : x->sub > y->sub;
}

static uint64_t key_hash(uint32_t pid, uint8_t tag, const char *bytes, size_t len)
{
    return phash(bytes, len) ^ ((uint64_t)pid * 0xc2b2ae3d27d4eb4full) ^ ((uint64_t)tag << 56);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* slot of v among boundaries: 2i+1 when v == b[i], 2i when b[i-1] < v < b[i] */
static size_t range_slot(const int64_t *b, size_t n, int64_t v)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (b[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < n && b[lo] == v)
        return 2 * lo + 1;
    return 2 * lo;
}

static bool range_covers_slot(const struct range_ent *r, const int64_t *b, size_t n, size_t slot)
{
    if (slot % 2 == 1) {
        int64_t v = b[slot / 2];
        return (r->lo_open ? v > r->lo : v >= r->lo) && (r->hi_open ? v < r->hi : v <= r->hi);
    }
    /* the open gap (b[i-1], b[i]); every range bound is a boundary, so the gap is inside a
     * range exactly when both its ends are */
    size_t i = slot / 2;
    if (i == 0 || i >= n)
        return false;
    return b[i - 1] >= r->lo && b[i] <= r->hi;
}

static bool pm_same(const struct pm *a, const struct pm *b)
{
    if (a->kind != b->kind || a->lit != b->lit || !str_eq(a->s, b->s) || a->num != b->num ||
        a->num_ok != b->num_ok || a->lo != b->lo || a->hi != b->hi || a->lo_open != b->lo_open ||
        a->hi_open != b->hi_open || a->ip_len != b->ip_len || a->nset != b->nset ||
        memcmp(a->ip_lo, b->ip_lo, 16) != 0 || memcmp(a->ip_hi, b->ip_hi, 16) != 0)
        return false;
    for (size_t i = 0; i < a->nset; i++) {
        if (a->set && !str_eq(a->set[i], b->set[i]))
            return false;
        if (a->nums && a->nums[i] != b->nums[i])
            return false;
    }
    return true;
}

static uint64_t pvals_hash(const struct pvals *pv)
{
    uint64_t h = pv->n;
    for (size_t i = 0; i < pv->n; i++) {
        const struct pm *m = &pv->v[i];
        h = h * 31 + (uint64_t)m->kind;
        h ^= phash(m->s.ptr ? m->s.ptr : "", m->s.len) + (uint64_t)m->lo * 7 + (uint64_t)m->hi;
        for (size_t k = 0; k < m->nset && m->set; k++)
            h ^= phash(m->set[k].ptr, m->set[k].len) * (k + 1);
    }
    return h;
}

static bool pvals_same(const struct pvals *a, const struct pvals *b)
{
    if (a == b)
        return true;
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (!pm_same(&a->v[i], &b->v[i]))
            return false;
    return true;
}

struct vid_ent {
    uint64_t h;
    uint32_t pid, vid;
    const struct pvals *vals;
};

/* Give equal (path, value list) pairs one id, so a check is done once per event. */
static void intern_values(struct pattern_set *s)
{
    size_t nf = 0;
    for (size_t i = 0; i < s->nsubs; i++)
        nf += s->subs[i].nf;
    size_t cap = 16;
    while (cap < nf * 2 + 2)
        cap *= 2;
    struct vid_ent *t = xcalloc(cap, sizeof(*t));
    s->nvids = 0;
    for (size_t i = 0; i < s->nsubs; i++)
        for (size_t j = 0; j < s->subs[i].nf; j++) {
            struct xfield *f = &s->subs[i].f[j];
            uint64_t h = pvals_hash(f->vals) ^ ((uint64_t)f->pid * 0x9e3779b97f4a7c15ull);
            size_t k = h & (cap - 1);
            while (t[k].vals &&
                   !(t[k].h == h && t[k].pid == f->pid && pvals_same(t[k].vals, f->vals)))
                k = (k + 1) & (cap - 1);
            if (!t[k].vals) {
                t[k].h = h;
                t[k].pid = f->pid;
                t[k].vals = f->vals;
                t[k].vid = (uint32_t)s->nvids++;
            }
            f->vid = t[k].vid;
        }
    free(t);
}

/* Check order of a candidate's fields: the likeliest to fail first, the anchor (which has
 * already matched a leaf) last. Only without exists:false, whose meaning depends on the path
 * order event-ruler walks in. */
static void order_fields(struct xsub *xs, size_t anchor, const struct bpath *bp)
{
    for (size_t j = 0; j < xs->nf; j++)
        if (xs->f[j].vals->has_absent)
            return;
    double cost[64];
    if (xs->nf > ARRAY_SIZE(cost))
        return;
    for (size_t j = 0; j < xs->nf; j++) {
        const struct pvals *pv = xs->f[j].vals;
        cost[j] = 0;
        for (size_t k = 0; k < pv->n; k++)
            cost[j] += matcher_cost(&pv->v[k], &bp[xs->f[j].pid]);
        if (j == anchor)
            cost[j] = 1e9;
    }
    /* insertion sort: a handful of fields */
    for (size_t j = 1; j < xs->nf; j++) {
        struct xfield f = xs->f[j];
        double c = cost[j];
        size_t k = j;
        while (k > 0 && cost[k - 1] > c) {
            xs->f[k] = xs->f[k - 1];
            cost[k] = cost[k - 1];
            k--;
        }
        xs->f[k] = f;
        cost[k] = c;
    }
}

int pattern_set_build(struct pattern_set *s)
{
    clear_index(s);
    struct build b = { VEC_INIT, VEC_INIT, VEC_INIT };
    struct tnode root = { NONE32, false };
    VEC_PUSH(&b.nodes, root);

    /* sub-rules of every rule, with their fields' paths in the trie */
    size_t nsubs = 0;
    for (size_t r = 0; r < s->rules.n; r++)
        nsubs += s->rules.v[r].p->nsubs;
    s->subs = arena_zalloc(&s->arena, (nsubs ? nsubs : 1) * sizeof(*s->subs));
    VEC(uint32_t) pid_node = VEC_INIT; /* pid -> trie node */
    for (size_t r = 0; r < s->rules.n; r++) {
        const struct pattern *p = s->rules.v[r].p;
        for (size_t i = 0; i < p->nsubs; i++) {
            const struct psub *ps = &p->subs[i];
            struct xsub *xs = &s->subs[s->nsubs++];
            xs->rule = (uint32_t)r;
            xs->nf = (uint32_t)ps->nf;
            xs->f = arena_alloc(&s->arena, (ps->nf ? ps->nf : 1) * sizeof(*xs->f));
            for (size_t j = 0; j < ps->nf; j++) {
                struct str path = ps->f[j].path;
                uint32_t node = 0;
                size_t st = 0;
                for (size_t k = 0; k <= path.len; k++) {
                    if (k == path.len || path.ptr[k] == '.') {
                        node = trie_add(s, &b, node, path.ptr + st, k - st);
                        st = k + 1;
                    }
                }
                if (b.nodes.v[node].pid == NONE32) {
                    b.nodes.v[node].pid = (uint32_t)pid_node.n;
                    VEC_PUSH(&pid_node, node);
                }
                xs->f[j].pid = b.nodes.v[node].pid;
                xs->f[j].vals = ps->f[j].vals;
            }
        }
    }
    /* freeze the trie into an open-addressing table */
    s->nnodes = b.nodes.n;
    s->nodes = arena_alloc(&s->arena, b.nodes.n * sizeof(*s->nodes));
    memcpy(s->nodes, b.nodes.v, b.nodes.n * sizeof(*s->nodes));
    s->seg_pool = arena_alloc(&s->arena, b.pool.n + 1);
    if (b.pool.n)
        memcpy(s->seg_pool, b.pool.v, b.pool.n);
    s->edge_cap = 16;
    while (s->edge_cap < b.edges.n * 2 + 2)
        s->edge_cap *= 2;
    s->edges = xmalloc(s->edge_cap * sizeof(*s->edges));
    for (size_t i = 0; i < s->edge_cap; i++)
        s->edges[i].child = NONE32;
    for (size_t i = 0; i < b.edges.n; i++) {
        size_t mask = s->edge_cap - 1, j = b.edges.v[i].h & mask;
        while (s->edges[j].child != NONE32)
            j = (j + 1) & mask;
        s->edges[j] = b.edges.v[i];
    }
    s->npaths = pid_node.n;
    VEC_FREE(&pid_node);
    VEC_FREE(&b.nodes);
    VEC_FREE(&b.pool);
    VEC_FREE(&b.edges);

    intern_values(s);

    /* distinct anchor keys per path, for the selectivity estimate */
    struct bpath *bp = xcalloc(s->npaths ? s->npaths : 1, sizeof(*bp));
    VEC(struct apair) all = VEC_INIT;
    for (size_t i = 0; i < s->nsubs; i++) {
        const struct xsub *xs = &s->subs[i];
        for (size_t j = 0; j < xs->nf; j++) {
            const struct pvals *pv = xs->f[j].vals;
            struct bpath *p = &bp[xs->f[j].pid];
            for (size_t k = 0; k < pv->n; k++) {
                const struct pm *m = &pv->v[k];
                if (matcher_wants_fold(m->kind))
                    p->want_fold = true;
                if (matcher_wants_number(m->kind))
                    p->want_number = true;
                if (m->kind == PM_IP_RANGE)
                    p->want_ip = true;
                const char *kb;
                size_t kl;
                int64_t nb;
                char lb;
                uint8_t tag = matcher_key(m, &kb, &kl, &nb, &lb);
                if (!tag)
                    continue;
                struct apair a = {
                    key_hash(xs->f[j].pid, tag, kb, kl), xs->f[j].pid, tag, (uint32_t)kl, kb, NONE32
                };
                if (tag == TAG_NUM || tag == TAG_LIT) {
                    char *copy = arena_alloc(&s->arena, kl);
                    memcpy(copy, kb, kl);
                    a.bytes = copy;
                }
                VEC_PUSH(&all, a);
            }
        }
    }
    for (size_t i = 0; i < s->nsubs; i++) {
        const struct xsub *xs = &s->subs[i];
        for (size_t j = 0; j < xs->nf; j++)
            bp[xs->f[j].pid].coverage += 1.0;
    }
    for (size_t i = 0; i < s->npaths; i++)
        bp[i].coverage /= (double)(s->nsubs ? s->nsubs : 1);
    if (all.n)
        qsort(all.v, all.n, sizeof(*all.v), cmp_apair);
    for (size_t i = 0; i < all.n; i++)
        if (i == 0 || cmp_apair(&all.v[i - 1], &all.v[i]) != 0 || all.v[i - 1].h != all.v[i].h)
            bp[all.v[i].pid].nkeys++;
    all.n = 0;

    /* choose each sub-rule's anchor and register it */
    s->always = arena_alloc(&s->arena, (s->nsubs ? s->nsubs : 1) * sizeof(uint32_t));
    for (size_t i = 0; i < s->nsubs; i++) {
        const struct xsub *xs = &s->subs[i];
        double best = 2.0;
        int bf = -1;
        for (size_t j = 0; j < xs->nf; j++) {
            const struct pvals *pv = xs->f[j].vals;
            if (pv->has_absent)
                continue; /* may hold with no leaf at all */
            double cost = 0;
            for (size_t k = 0; k < pv->n; k++)
                cost += matcher_cost(&pv->v[k], &bp[xs->f[j].pid]);
            if (cost < best) {
                best = cost;
                bf = (int)j;
            }
        }
        if (bf < 0) {
            s->always[s->nalways++] = (uint32_t)i;
            continue;
        }
        uint32_t pid = xs->f[bf].pid;
        struct bpath *p = &bp[pid];
        const struct pvals *pv = xs->f[bf].vals;
        bool presence = false;
        for (size_t k = 0; k < pv->n; k++) {
            const struct pm *m = &pv->v[k];
            const char *kb;
            size_t kl;
            int64_t nb;
            char lb;
            uint8_t tag = matcher_key(m, &kb, &kl, &nb, &lb);
            if (tag) {
                struct apair a = {
                    key_hash(pid, tag, kb, kl), pid, tag, (uint32_t)kl, kb, (uint32_t)i
                };
                if (tag == TAG_NUM || tag == TAG_LIT) {
                    char *copy = arena_alloc(&s->arena, kl);
                    memcpy(copy, kb, kl);
                    a.bytes = copy;
                }
                VEC_PUSH(&all, a);
                if (tag == TAG_PREFIX)
                    add_len(&p->plen, (uint16_t)(kl < 65535 ? kl : 65535));
                else if (tag == TAG_SUFFIX)
                    add_len(&p->slen, (uint16_t)(kl < 65535 ? kl : 65535));
                else if (tag == TAG_FPREFIX)
                    add_len(&p->fplen, (uint16_t)(kl < 65535 ? kl : 65535));
                else if (tag == TAG_FSUFFIX)
                    add_len(&p->fslen, (uint16_t)(kl < 65535 ? kl : 65535));
                if (tag == TAG_FOLD || tag == TAG_FPREFIX || tag == TAG_FSUFFIX)
                    p->want_fold = true;
                if (tag == TAG_GRAM) {
                    unsigned char c0 = (unsigned char)kb[0];
                    p->gram_first[c0 / 64] |= 1ull << (c0 % 64);
                    p->want_gram = true;
                }
                if (tag == TAG_NUM || tag == TAG_NUMTXT)
                    p->want_number = true;
            } else if (m->kind == PM_NUM_RANGE) {
                struct range_ent re = { m->lo, m->hi, m->lo_open, m->hi_open, (uint32_t)i };
                VEC_PUSH(&p->ranges, re);
                p->want_number = true;
            } else if (m->kind == PM_IP_RANGE) {
                struct iprange ir;
                memcpy(ir.lo, m->ip_lo, 16);
                memcpy(ir.hi, m->ip_hi, 16);
                ir.len = m->ip_len;
                ir.sub = (uint32_t)i;
                VEC_PUSH(&p->ip, ir);
                p->want_ip = true;
            } else {
                presence = true;
            }
        }
        if (presence)
            VEC_PUSH(&p->presence, (uint32_t)i);
        order_fields(&s->subs[i], (size_t)bf, bp);
    }

    /* anchor hash table: group equal keys */
    if (all.n)
        qsort(all.v, all.n, sizeof(*all.v), cmp_apair);
    size_t ngroups = 0;
    for (size_t i = 0; i < all.n; i++)
        if (i == 0 || all.v[i - 1].h != all.v[i].h || all.v[i - 1].pid != all.v[i].pid ||
            all.v[i - 1].tag != all.v[i].tag || all.v[i - 1].len != all.v[i].len ||
            memcmp(all.v[i - 1].bytes, all.v[i].bytes, all.v[i].len) != 0)
            ngroups++;
    s->key_cap = 16;
    while (s->key_cap < ngroups * 2 + 2)
        s->key_cap *= 2;
    s->keys = xcalloc(s->key_cap, sizeof(*s->keys));
    s->anchor_subs = arena_alloc(&s->arena, (all.n ? all.n : 1) * sizeof(uint32_t));
    for (size_t i = 0; i < all.n;) {
        size_t j = i + 1;
        while (j < all.n && all.v[j].h == all.v[i].h && all.v[j].pid == all.v[i].pid &&
               all.v[j].tag == all.v[i].tag && all.v[j].len == all.v[i].len &&
               memcmp(all.v[j].bytes, all.v[i].bytes, all.v[i].len) == 0)
            j++;
        size_t mask = s->key_cap - 1, slot = all.v[i].h & mask;
        while (s->keys[slot].cnt)
            slot = (slot + 1) & mask;
        struct akey *k = &s->keys[slot];
        k->h = all.v[i].h;
        k->pid = all.v[i].pid;
        k->tag = all.v[i].tag;
        k->len = all.v[i].len;
        k->bytes = all.v[i].bytes;
        k->off = (uint32_t)i;
        k->cnt = 0;
        for (size_t x = i; x < j; x++)
            if (k->cnt == 0 || s->anchor_subs[i + k->cnt - 1] != all.v[x].sub)
                s->anchor_subs[i + k->cnt++] = all.v[x].sub;
        i = j;
    }
    VEC_FREE(&all);

    /* per-path indexes */
    s->paths = arena_zalloc(&s->arena, (s->npaths ? s->npaths : 1) * sizeof(*s->paths));
    for (size_t i = 0; i < s->npaths; i++) {
        struct bpath *p = &bp[i];
        struct ppath *q = &s->paths[i];
        q->want_fold = p->want_fold;
        q->want_gram = p->want_gram;
        memcpy(q->gram_first, p->gram_first, sizeof(q->gram_first));
        q->want_number = p->want_number;
        q->want_ip = p->want_ip;
#define FREEZE(DST, CNT, SRC)                                                     \
    do {                                                                          \
        (CNT) = (uint32_t)(SRC).n;                                                \
        (DST) = arena_alloc(&s->arena, ((SRC).n ? (SRC).n : 1) * sizeof(*(DST))); \
        if ((SRC).n)                                                              \
            memcpy((DST), (SRC).v, (SRC).n * sizeof(*(DST)));                     \
        VEC_FREE(&(SRC));                                                         \
    } while (0)
        FREEZE(q->presence, q->npresence, p->presence);
        FREEZE(q->plen, q->nplen, p->plen);
        FREEZE(q->slen, q->nslen, p->slen);
        FREEZE(q->fplen, q->nfplen, p->fplen);
        FREEZE(q->fslen, q->nfslen, p->fslen);
        FREEZE(q->ip, q->nip, p->ip);
#undef FREEZE
        if (p->ranges.n) {
            size_t nr = p->ranges.n;
            int64_t *bv = xmalloc(2 * nr * sizeof(int64_t));
            for (size_t r = 0; r < nr; r++) {
                bv[2 * r] = p->ranges.v[r].lo;
                bv[2 * r + 1] = p->ranges.v[r].hi;
            }
            qsort(bv, 2 * nr, sizeof(int64_t), cmp_i64);
            size_t nb = 0;
            for (size_t r = 0; r < 2 * nr; r++)
                if (nb == 0 || bv[nb - 1] != bv[r])
                    bv[nb++] = bv[r];
            size_t nslots = 2 * nb + 1;
            q->nbnd = (uint32_t)nb;
            q->bnd = arena_alloc(&s->arena, nb * sizeof(int64_t));
            memcpy(q->bnd, bv, nb * sizeof(int64_t));
            free(bv);
            q->slot_off = arena_zalloc(&s->arena, (nslots + 1) * sizeof(uint32_t));
            VEC(uint32_t) ss = VEC_INIT;
            for (size_t sl = 0; sl < nslots; sl++) {
                q->slot_off[sl] = (uint32_t)ss.n;
                for (size_t r = 0; r < nr; r++)
                    if (range_covers_slot(&p->ranges.v[r], q->bnd, nb, sl))
                        VEC_PUSH(&ss, p->ranges.v[r].sub);
            }
            q->slot_off[nslots] = (uint32_t)ss.n;
            q->slot_subs = arena_alloc(&s->arena, (ss.n ? ss.n : 1) * sizeof(uint32_t));
            if (ss.n)
                memcpy(q->slot_subs, ss.v, ss.n * sizeof(uint32_t));
            VEC_FREE(&ss);
        }
        VEC_FREE(&p->ranges);
    }
    free(bp);
    s->built = true;
    return 0;
}

/* ---- matching: scratch -------------------------------------------------------------------- */

struct leaf {
    uint32_t pid;
    uint32_t next; /* next leaf on the same path */
    uint32_t elem; /* innermost array element holding it (0: none) */
    uint8_t type;  /* enum jtype */
    bool num_ok;
    int8_t ip_len; /* -1 until parsed */
    bool folded;
    const char *s; /* string body (unescaped) or number text */
    uint32_t len;
    uint32_t fold_off, fold_len; /* folded copy in scratch fold buffer */
    int64_t num;
    uint8_t ip[16];
};

struct elem {
    uint32_t parent;
    uint32_t array;
    uint32_t depth;
};

struct pattern_scratch {
    VEC(struct leaf) leaves;
    VEC(struct elem) elems;
    VEC(char) strbuf; /* unescaped strings (sized before the walk: pointers stay valid) */
    VEC(char) foldbuf;
    VEC(uint32_t) touched; /* paths with leaves in this event */
    uint32_t *path_head;
    uint32_t *path_epoch;
    uint32_t *path_arr_epoch; /* the path has a leaf inside an array in this event */
    size_t npaths_cap;
    uint32_t *sub_epoch;
    size_t nsubs_cap;
    uint32_t *vid_epoch; /* memo of "some leaf of the path fits the value list" */
    uint8_t *vid_val;
    size_t nvids_cap;
    uint32_t *rule_epoch;
    size_t nrules_cap;
    uint32_t epoch;
    uint32_t narrays;
    VEC(uint32_t) chosen;
    /* the walk */
    const struct pattern_set *set;
    const char *end;
};

struct pattern_scratch *pattern_scratch_new(void)
{
    return xcalloc(1, sizeof(struct pattern_scratch));
}

void pattern_scratch_free(struct pattern_scratch *m)
{
    if (!m)
        return;
    VEC_FREE(&m->leaves);
    VEC_FREE(&m->elems);
    VEC_FREE(&m->strbuf);
    VEC_FREE(&m->foldbuf);
    VEC_FREE(&m->touched);
    VEC_FREE(&m->chosen);
    free(m->path_head);
    free(m->path_epoch);
    free(m->path_arr_epoch);
    free(m->sub_epoch);
    free(m->rule_epoch);
    free(m->vid_epoch);
    free(m->vid_val);
    free(m);
}

static void scratch_fit(struct pattern_scratch *m, const struct pattern_set *s, size_t len)
{
    if (m->npaths_cap < s->npaths) {
        free(m->path_head);
        free(m->path_epoch);
        free(m->path_arr_epoch);
        m->npaths_cap = s->npaths;
        m->path_head = xcalloc(s->npaths, sizeof(uint32_t));
        m->path_epoch = xcalloc(s->npaths, sizeof(uint32_t));
        m->path_arr_epoch = xcalloc(s->npaths, sizeof(uint32_t));
    }
    if (m->nsubs_cap < s->nsubs) {
        free(m->sub_epoch);
        m->nsubs_cap = s->nsubs;
        m->sub_epoch = xcalloc(s->nsubs, sizeof(uint32_t));
    }
    if (m->nvids_cap < s->nvids) {
        free(m->vid_epoch);
        free(m->vid_val);
        m->nvids_cap = s->nvids;
        m->vid_epoch = xcalloc(s->nvids, sizeof(uint32_t));
        m->vid_val = xcalloc(s->nvids, 1);
    }
    if (m->nrules_cap < s->rules.n) {
        free(m->rule_epoch);
        m->nrules_cap = s->rules.n;
        m->rule_epoch = xcalloc(s->rules.n, sizeof(uint32_t));
    }
    VEC_GROW(&m->strbuf, len + 1);
    m->strbuf.n = 0;
    m->foldbuf.n = 0;
    m->leaves.n = 0;
    m->elems.n = 0;
    m->touched.n = 0;
    m->narrays = 0;
    struct elem root = { 0, 0, 0 };
    VEC_PUSH(&m->elems, root);
    if (++m->epoch == 0) {
        /* wrapped: forget every stamp */
        memset(m->path_epoch, 0, m->npaths_cap * sizeof(uint32_t));
        memset(m->path_arr_epoch, 0, m->npaths_cap * sizeof(uint32_t));
        memset(m->sub_epoch, 0, m->nsubs_cap * sizeof(uint32_t));
        memset(m->vid_epoch, 0, m->nvids_cap * sizeof(uint32_t));
        memset(m->rule_epoch, 0, m->nrules_cap * sizeof(uint32_t));
        m->epoch = 1;
    }
}

/* ---- matching: the walk ------------------------------------------------------------------- */

static void add_leaf(struct pattern_scratch *m, uint32_t pid, uint32_t elem, uint8_t type,
                     const char *s, size_t len)
{
    struct leaf lf;
    lf.pid = pid;
    lf.elem = elem;
    lf.type = type;
    lf.s = s;
    lf.len = (uint32_t)len;
    lf.num_ok = false;
    lf.ip_len = -1;
    lf.folded = false;
    lf.fold_off = lf.fold_len = 0;
    lf.num = 0;
    if (type == JT_NUMBER && m->set->paths[pid].want_number)
        lf.num_ok = pnum_parse(s, len, &lf.num);
    if (m->path_epoch[pid] != m->epoch) {
        m->path_epoch[pid] = m->epoch;
        m->path_head[pid] = NONE32;
        VEC_PUSH(&m->touched, pid);
    }
    if (elem)
        m->path_arr_epoch[pid] = m->epoch;
    lf.next = m->path_head[pid];
    m->path_head[pid] = (uint32_t)m->leaves.n;
    VEC_PUSH(&m->leaves, lf);
}

static const char *walk_value(struct pattern_scratch *m, const char *p, uint32_t node,
                              uint32_t elem, int depth);

/* Look a key up below node, a dotted key a segment at a time. */
static uint32_t key_child(const struct pattern_set *s, uint32_t node, const char *k, size_t n)
{
    /* segments never hold a dot: a key found whole has none to split at */
    uint32_t whole = trie_find(s, node, k, n);
    if (whole != NONE32)
        return whole;
    size_t d = 0;
    while (d < n && k[d] != '.')
        d++;
    if (d == n)
        return NONE32;
    size_t st = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || k[i] == '.') {
            node = trie_find(s, node, k + st, i - st);
            if (node == NONE32)
                return NONE32;
            st = i + 1;
        }
    }
    return node;
}

static const char *walk_object(struct pattern_scratch *m, const char *p, uint32_t node,
                               uint32_t elem, int depth)
{
    const char *end = m->end;
    const struct pattern_set *s = m->set;
    p = jscan_ws(p + 1, end);
    if (p < end && *p == '}')
        return p + 1;
    for (;;) {
        if (p >= end || *p != '"')
            return NULL;
        bool esc;
        const char *ke = jscan_string_end(p + 1, end, &esc);
        if (!ke)
            return NULL;
        const char *k = p + 1;
        size_t kn = (size_t)(ke - k);
        if (esc) {
            char *buf = m->strbuf.v + m->strbuf.n;
            long un = jscan_unescape(k, kn, buf);
            if (un < 0)
                return NULL;
            k = buf; /* not kept: the key is only looked up */
            kn = (size_t)un;
        }
        uint32_t child = key_child(s, node, k, kn);
        p = jscan_ws(ke + 1, end);
        if (p >= end || *p != ':')
            return NULL;
        p = jscan_ws(p + 1, end);
        if (child != NONE32)
            p = walk_value(m, p, child, elem, depth + 1);
        else
            p = jscan_skip(p, end, depth + 1);
        if (!p)
            return NULL;
        p = jscan_ws(p, end);
        if (p >= end)
            return NULL;
        if (*p == '}')
            return p + 1;
        if (*p != ',')
            return NULL;
        p = jscan_ws(p + 1, end);
    }
}

static const char *walk_value(struct pattern_scratch *m, const char *p, uint32_t node,
                              uint32_t elem, int depth)
{
    const char *end = m->end;
    const struct tnode *nd = &m->set->nodes[node];
    if (depth >= JSCAN_MAX_DEPTH || p >= end)
        return NULL;
    switch (*p) {
    case '{':
        if (!nd->has_children)
            return jscan_skip(p, end, depth);
        return walk_object(m, p, node, elem, depth);
    case '[': {
        uint32_t array = ++m->narrays;
        uint32_t pdepth = m->elems.v[elem].depth;
        p = jscan_ws(p + 1, end);
        if (p < end && *p == ']')
            return p + 1;
        for (;;) {
            struct elem e = { elem, array, pdepth + 1 };
            VEC_PUSH(&m->elems, e);
            p = walk_value(m, p, node, (uint32_t)(m->elems.n - 1), depth + 1);
            if (!p)
                return NULL;
            p = jscan_ws(p, end);
            if (p >= end)
                return NULL;
            if (*p == ']')
                return p + 1;
            if (*p != ',')
                return NULL;
            p = jscan_ws(p + 1, end);
        }
    }
    case '"': {
        bool esc;
        const char *se = jscan_string_end(p + 1, end, &esc);
        if (!se)
            return NULL;
        if (nd->pid != NONE32) {
            const char *str = p + 1;
            size_t n = (size_t)(se - str);
            if (esc) {
                char *buf = m->strbuf.v + m->strbuf.n;
                long un = jscan_unescape(str, n, buf);
                if (un < 0)
                    return NULL;
                m->strbuf.n += (size_t)un;
                str = buf;
                n = (size_t)un;
            }
            add_leaf(m, nd->pid, elem, JT_STRING, str, n);
        }
        return se + 1;
    }
    case 't':
    case 'f':
    case 'n': {
        const char *q = jscan_skip(p, end, depth);
        if (q && nd->pid != NONE32)
            add_leaf(m, nd->pid, elem,
                     *p == 't'   ? JT_TRUE
                     : *p == 'f' ? JT_FALSE
                                 : JT_NULL,
                     p, (size_t)(q - p));
        return q;
    }
    default: {
        const char *q = jscan_number_end(p, end);
        if (q && nd->pid != NONE32)
            add_leaf(m, nd->pid, elem, JT_NUMBER, p, (size_t)(q - p));
        return q;
    }
    }
}

/* ---- matching: values --------------------------------------------------------------------- */

static struct str leaf_fold(struct pattern_scratch *m, struct leaf *lf)
{
    if (!lf->folded) {
        if (fold_is_identity(lf->s, lf->len)) {
            lf->fold_off = NONE32;
            lf->fold_len = lf->len;
        } else {
            VEC_GROW(&m->foldbuf, m->foldbuf.n + (size_t)lf->len * 4 + 1);
            lf->fold_off = (uint32_t)m->foldbuf.n;
            lf->fold_len = (uint32_t)fold_case(lf->s, lf->len, m->foldbuf.v + m->foldbuf.n);
            m->foldbuf.n += lf->fold_len;
        }
        lf->folded = true;
    }
    if (lf->fold_off == NONE32)
        return str_make(lf->s, lf->len);
    return str_make(m->foldbuf.v + lf->fold_off, lf->fold_len);
}

static int leaf_ip(struct leaf *lf)
{
    if (lf->ip_len < 0)
        lf->ip_len = (int8_t)ip_parse(lf->s, lf->len, lf->ip);
    return lf->ip_len;
}

static bool has_prefix(const char *s, size_t n, struct str p)
{
    return n >= p.len && memcmp(s, p.ptr, p.len) == 0;
}

static bool has_suffix(const char *s, size_t n, struct str p)
{
    return n >= p.len && memcmp(s + n - p.len, p.ptr, p.len) == 0;
}

/* event-ruler compares addresses as hex-digit strings in a byte trie: a value longer than the
 * range is decided by its first bytes; a shorter one only when strictly inside */
static bool ip_in_range(const uint8_t *v, int vlen, const uint8_t *lo, const uint8_t *hi, int rlen)
{
    if (vlen >= rlen)
        return memcmp(v, lo, (size_t)rlen) >= 0 && memcmp(v, hi, (size_t)rlen) <= 0;
    return memcmp(v, lo, (size_t)vlen) > 0 && memcmp(v, hi, (size_t)vlen) < 0;
}

static bool str_in_set(const struct str *set, size_t n, const char *s, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (set[i].len == len && memcmp(set[i].ptr, s, len) == 0)
            return true;
    return false;
}

static bool pm_test(struct pattern_scratch *m, const struct pm *pm, struct leaf *lf)
{
    bool str = lf->type == JT_STRING;
    switch (pm->kind) {
    case PM_EXACT_STR:
        return str && lf->len == pm->s.len && memcmp(lf->s, pm->s.ptr, pm->s.len) == 0;
    case PM_EXACT_NUM:
        if (lf->type != JT_NUMBER)
            return false;
        if (!m->set->paths[lf->pid].want_number)
            lf->num_ok = pnum_parse(lf->s, lf->len, &lf->num);
        if (pm->num_ok && lf->num_ok)
            return pm->num == lf->num;
        return lf->len == pm->s.len && memcmp(lf->s, pm->s.ptr, pm->s.len) == 0;
    case PM_EXACT_LIT:
        return lf->type == pm->lit;
    case PM_PREFIX:
        return str && has_prefix(lf->s, lf->len, pm->s);
    case PM_SUFFIX:
        return str && has_suffix(lf->s, lf->len, pm->s);
    case PM_EIC: {
        if (!str)
            return false;
        struct str f = leaf_fold(m, lf);
        return str_eq(f, pm->s);
    }
    case PM_PREFIX_EIC: {
        if (!str)
            return false;
        struct str f = leaf_fold(m, lf);
        return has_prefix(f.ptr, f.len, pm->s);
    }
    case PM_SUFFIX_EIC: {
        if (!str)
            return false;
        struct str f = leaf_fold(m, lf);
        return has_suffix(f.ptr, f.len, pm->s);
    }
    case PM_WILDCARD:
        return str && wc_match(pm->wc, lf->s, lf->len);
    case PM_NUM_RANGE:
        if (lf->type != JT_NUMBER || !lf->num_ok)
            return false;
        return (pm->lo_open ? lf->num > pm->lo : lf->num >= pm->lo) &&
               (pm->hi_open ? lf->num < pm->hi : lf->num <= pm->hi);
    case PM_IP_RANGE: {
        if (!str)
            return false;
        int l = leaf_ip(lf);
        return l > 0 && ip_in_range(lf->ip, l, pm->ip_lo, pm->ip_hi, pm->ip_len);
    }
    case PM_EXISTS:
        return true;
    case PM_ABSENT:
        return false;
    case PM_AB_STR:
        return !(str && str_in_set(pm->set, pm->nset, lf->s, lf->len));
    case PM_AB_NUM:
        if (lf->type != JT_NUMBER)
            return true;
        if (!m->set->paths[lf->pid].want_number)
            lf->num_ok = pnum_parse(lf->s, lf->len, &lf->num);
        if (!lf->num_ok)
            return true;
        for (size_t i = 0; i < pm->nset; i++)
            if (pm->nums[i] == lf->num)
                return false;
        return true;
    case PM_AB_PREFIX:
        if (!str)
            return true;
        for (size_t i = 0; i < pm->nset; i++)
            if (has_prefix(lf->s, lf->len, pm->set[i]))
                return false;
        return true;
    case PM_AB_SUFFIX:
        if (!str)
            return true;
        for (size_t i = 0; i < pm->nset; i++)
            if (has_suffix(lf->s, lf->len, pm->set[i]))
                return false;
        return true;
    case PM_AB_EIC: {
        if (!str)
            return true;
        struct str f = leaf_fold(m, lf);
        return !str_in_set(pm->set, pm->nset, f.ptr, f.len);
    }
    case PM_AB_WILDCARD:
        if (!str)
            return true;
        for (size_t i = 0; i < pm->nset; i++)
            if (wc_match(&pm->wc[i], lf->s, lf->len))
                return false;
        return true;
    }
    return false;
}

static bool field_test(struct pattern_scratch *m, const struct pvals *pv, struct leaf *lf)
{
    for (size_t i = 0; i < pv->n; i++)
        if (pm_test(m, &pv->v[i], lf))
            return true;
    return false;
}

/* ---- matching: array consistency ---------------------------------------------------------- */

/* Two leaves may be used together unless they sit in different elements of one array. */
static bool elems_consistent(const struct pattern_scratch *m, uint32_t a, uint32_t b)
{
    if (a == 0 || b == 0 || a == b)
        return true;
    const struct elem *ev = m->elems.v;
    uint32_t da = ev[a].depth, db = ev[b].depth;
    /* bring both to the same depth, remembering the last element passed */
    while (da > db) {
        a = ev[a].parent;
        da--;
    }
    while (db > da) {
        b = ev[b].parent;
        db--;
    }
    if (a == b)
        return true; /* one holds the other */
    /* climb together to the children of the common ancestor */
    while (ev[a].parent != ev[b].parent) {
        a = ev[a].parent;
        b = ev[b].parent;
    }
    return ev[a].array != ev[b].array;
}

static bool consistent_with(const struct pattern_scratch *m, uint32_t e)
{
    if (e == 0)
        return true;
    for (size_t i = 0; i < m->chosen.n; i++)
        if (!elems_consistent(m, e, m->chosen.v[i]))
            return false;
    return true;
}

static bool eval_fields(struct pattern_scratch *m, const struct xsub *xs, uint32_t k)
{
    if (k == xs->nf)
        return true;
    const struct xfield *f = &xs->f[k];
    uint32_t head = m->path_epoch[f->pid] == m->epoch ? m->path_head[f->pid] : NONE32;
    for (uint32_t li = head; li != NONE32; li = m->leaves.v[li].next) {
        struct leaf *lf = &m->leaves.v[li];
        if (!field_test(m, f->vals, lf) || !consistent_with(m, lf->elem))
            continue;
        if (lf->elem == 0) {
            /* a leaf outside arrays constrains nothing: no other leaf can do better, and it
             * rules out exists:false */
            return eval_fields(m, xs, k + 1);
        }
        VEC_PUSH(&m->chosen, lf->elem);
        bool ok = eval_fields(m, xs, k + 1);
        m->chosen.n--;
        if (ok)
            return true;
    }
    if (f->vals->has_absent) {
        /* exists:false holds when no leaf of the path fits with what is chosen so far */
        for (uint32_t li = head; li != NONE32; li = m->leaves.v[li].next)
            if (consistent_with(m, m->leaves.v[li].elem))
                return false;
        return eval_fields(m, xs, k + 1);
    }
    return false;
}

/* A sub-rule none of whose paths has a leaf inside an array this time: every field only needs
 * one matching leaf (or none at all, for exists:false), in any order. */
static bool eval_flat(struct pattern_scratch *m, const struct xsub *xs)
{
    for (uint32_t k = 0; k < xs->nf; k++) {
        const struct xfield *f = &xs->f[k];
        uint32_t head = m->path_epoch[f->pid] == m->epoch ? m->path_head[f->pid] : NONE32;
        if (head == NONE32) {
            if (!f->vals->has_absent)
                return false;
            continue;
        }
        if (m->vid_epoch[f->vid] != m->epoch) {
            bool ok = false;
            for (uint32_t li = head; li != NONE32 && !ok; li = m->leaves.v[li].next)
                ok = field_test(m, f->vals, &m->leaves.v[li]);
            m->vid_epoch[f->vid] = m->epoch;
            m->vid_val[f->vid] = ok;
        }
        if (!m->vid_val[f->vid])
            return false;
    }
    return true;
}

static bool eval_sub(struct pattern_scratch *m, const struct xsub *xs)
{
    for (uint32_t k = 0; k < xs->nf; k++)
        if (m->path_arr_epoch[xs->f[k].pid] == m->epoch) {
            m->chosen.n = 0;
            return eval_fields(m, xs, 0);
        }
    return eval_flat(m, xs);
}

/* ---- matching: candidates ----------------------------------------------------------------- */

struct run {
    struct pattern_scratch *m;
    const struct pattern_set *s;
    pattern_match_fn fn;
    void *ctx;
    int count;
    bool stop;
};

static void candidate(struct run *r, uint32_t sub)
{
    struct pattern_scratch *m = r->m;
    if (m->sub_epoch[sub] == m->epoch || r->stop)
        return;
    m->sub_epoch[sub] = m->epoch;
    const struct xsub *xs = &r->s->subs[sub];
    if (m->rule_epoch[xs->rule] == m->epoch)
        return;
    if (!eval_sub(m, xs))
        return;
    m->rule_epoch[xs->rule] = m->epoch;
    r->count++;
    if (r->fn && r->fn(r->ctx, xs->rule) != 0)
        r->stop = true;
}

static void probe(struct run *r, uint32_t pid, uint8_t tag, const char *bytes, size_t len)
{
    const struct pattern_set *s = r->s;
    uint64_t h = key_hash(pid, tag, bytes, len);
    size_t mask = s->key_cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        const struct akey *k = &s->keys[i];
        if (k->cnt == 0)
            return;
        if (k->h == h && k->pid == pid && k->tag == tag && k->len == len &&
            memcmp(k->bytes, bytes, len) == 0) {
            for (uint32_t j = 0; j < k->cnt; j++)
                candidate(r, s->anchor_subs[k->off + j]);
            return;
        }
    }
}

static void anchors_of_leaf(struct run *r, const struct ppath *pp, struct leaf *lf)
{
    uint32_t pid = lf->pid;
    switch ((enum jtype)lf->type) {
    case JT_STRING:
        probe(r, pid, TAG_STR, lf->s, lf->len);
        for (uint32_t i = 0; i < pp->nplen; i++)
            if (pp->plen[i] <= lf->len)
                probe(r, pid, TAG_PREFIX, lf->s, pp->plen[i]);
        for (uint32_t i = 0; i < pp->nslen; i++)
            if (pp->slen[i] <= lf->len)
                probe(r, pid, TAG_SUFFIX, lf->s + lf->len - pp->slen[i], pp->slen[i]);
        if (pp->want_fold) {
            struct str f = leaf_fold(r->m, lf);
            probe(r, pid, TAG_FOLD, f.ptr, f.len);
            for (uint32_t i = 0; i < pp->nfplen; i++)
                if (pp->fplen[i] <= f.len)
                    probe(r, pid, TAG_FPREFIX, f.ptr, pp->fplen[i]);
            for (uint32_t i = 0; i < pp->nfslen; i++)
                if (pp->fslen[i] <= f.len)
                    probe(r, pid, TAG_FSUFFIX, f.ptr + f.len - pp->fslen[i], pp->fslen[i]);
        }
        if (pp->want_gram && lf->len >= GRAM_LEN) {
            const unsigned char *v = (const unsigned char *)lf->s;
            for (uint32_t i = 0; i + GRAM_LEN <= lf->len; i++)
                if ((pp->gram_first[v[i] / 64] >> (v[i] % 64)) & 1)
                    probe(r, pid, TAG_GRAM, lf->s + i, GRAM_LEN);
        }
        if (pp->nip) {
            int l = leaf_ip(lf);
            if (l > 0)
                for (uint32_t i = 0; i < pp->nip; i++)
                    if (ip_in_range(lf->ip, l, pp->ip[i].lo, pp->ip[i].hi, pp->ip[i].len))
                        candidate(r, pp->ip[i].sub);
        }
        break;
    case JT_NUMBER:
        if (lf->num_ok) {
            probe(r, pid, TAG_NUM, (const char *)&lf->num, sizeof(lf->num));
            if (pp->nbnd) {
                size_t sl = range_slot(pp->bnd, pp->nbnd, lf->num);
                for (uint32_t j = pp->slot_off[sl]; j < pp->slot_off[sl + 1]; j++)
                    candidate(r, pp->slot_subs[j]);
            }
        } else {
            probe(r, pid, TAG_NUMTXT, lf->s, lf->len);
        }
        break;
    case JT_TRUE:
    case JT_FALSE:
    case JT_NULL: {
        char t = (char)lf->type;
        probe(r, pid, TAG_LIT, &t, 1);
        break;
    }
    }
}

int pattern_set_match(const struct pattern_set *s, struct pattern_scratch *m, const char *event,
                      size_t len, pattern_match_fn fn, void *ctx)
{
    BUG_ON(!s->built && s->rules.n > 0);
    if (len > UINT32_MAX / 2)
        return -ERR_TOO_BIG;
    scratch_fit(m, s, len);
    m->set = s;
    m->end = event + len;
    const char *p = jscan_ws(event, event + len);
    if (p >= m->end || *p != '{')
        return -ERR_INVALID;
    if (s->nnodes == 0) {
        /* no rules: still check the event */
        return jscan_skip(p, m->end, 0) ? 0 : -ERR_INVALID;
    }
    p = walk_object(m, p, 0, 0, 0);
    if (!p)
        return -ERR_INVALID;
    struct run r = { m, s, fn, ctx, 0, false };
    for (size_t i = 0; i < m->touched.n && !r.stop; i++) {
        uint32_t pid = m->touched.v[i];
        const struct ppath *pp = &s->paths[pid];
        for (uint32_t li = m->path_head[pid]; li != NONE32; li = m->leaves.v[li].next)
            anchors_of_leaf(&r, pp, &m->leaves.v[li]);
        for (uint32_t j = 0; j < pp->npresence; j++)
            candidate(&r, pp->presence[j]);
    }
    for (size_t i = 0; i < s->nalways && !r.stop; i++)
        candidate(&r, s->always[i]);
    return r.count;
}

/* ---- one pattern -------------------------------------------------------------------------- */

int pattern_match(const struct pattern *p, const char *event, size_t len, bool *matched)
{
    /* a one-rule set around the borrowed pattern */
    struct pattern_set *s = pattern_set_new();
    struct rule r = { NULL, (struct pattern *)(uintptr_t)p };
    VEC_PUSH(&s->rules, r);
    pattern_set_build(s);
    struct pattern_scratch *m = pattern_scratch_new();
    int rc = pattern_set_match(s, m, event, len, NULL, NULL);
    pattern_scratch_free(m);
    s->rules.n = 0; /* the pattern is borrowed */
    pattern_set_free(s);
    if (rc < 0)
        return rc;
    *matched = rc > 0;
    return 0;
}
