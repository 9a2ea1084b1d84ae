/* SPDX-License-Identifier: Apache-2.0 */
/* The merged image filesystem as a tree of nodes (one per visible path) indexed by one hash
 * table keyed on (parent, name). Layers are applied in two phases (whiteouts and opaque
 * markers first, since they only hide lower layers; then the entries in archive order), and
 * lookups follow symlinks with chroot semantics. */
#include "rootfs.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/xalloc.h"

#define ROOTFS_PATH_MAX 4095u /* longest path a node may have (rootfs_hit.path) */
#define ROOTFS_MAX_HOPS 40
#define ROOTFS_WORK_MAX (16u << 10) /* remaining path while expanding symlinks */

struct node {
    struct node *parent;
    struct node *child;       /* first child */
    struct node *next, *prev; /* siblings */
    struct node *hnext;       /* hash chain */
    const char *name;
    uint32_t name_len;
    uint32_t path_len;
    size_t hash;
    const struct layer_file *f;      /* NULL for the root and implied directories */
    const struct layer_file *target; /* hard links: the regular file linked to, or NULL */
    int layer;
    int target_layer;
    enum lf_kind kind; /* LF_FILE, LF_DIR, LF_SYMLINK or LF_HARDLINK */
};

struct rootfs {
    struct arena arena; /* nodes and names */
    struct node root;
    struct node **tab;
    size_t tab_cap; /* power of two */
    size_t count;
    struct node *free_nodes; /* removed nodes, reused before the arena grows */
};

struct rootfs *rootfs_new(void)
{
    struct rootfs *fs = xcalloc(1, sizeof(*fs));
    arena_init(&fs->arena);
    fs->root.kind = LF_DIR;
    fs->root.name = "";
    fs->tab_cap = 1024;
    fs->tab = xcalloc(fs->tab_cap, sizeof(struct node *));
    return fs;
}

void rootfs_free(struct rootfs *fs)
{
    if (!fs)
        return;
    free(fs->tab);
    arena_release(&fs->arena);
    free(fs);
}

static size_t key_hash(const struct node *parent, const char *name, size_t len)
{
    size_t h = (size_t)(uintptr_t)parent * 0x9e3779b97f4a7c15ull;
    h ^= 1469598103934665603ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)name[i]) * 1099511628211ull;
    return h ^ (h >> 29);
}

static struct node *find(const struct rootfs *fs, const struct node *parent, const char *name,
                         size_t len)
{
    size_t h = key_hash(parent, name, len);
    for (struct node *n = fs->tab[h & (fs->tab_cap - 1)]; n; n = n->hnext)
        if (n->hash == h && n->parent == parent && n->name_len == len &&
            memcmp(n->name, name, len) == 0)
            return n;
    return NULL;
}

static void tab_grow(struct rootfs *fs)
{
    size_t ncap = fs->tab_cap * 2;
    struct node **nt = xcalloc(ncap, sizeof(struct node *));
    for (size_t i = 0; i < fs->tab_cap; i++) {
        struct node *n = fs->tab[i];
        while (n) {
            struct node *next = n->hnext;
            size_t j = n->hash & (ncap - 1);
            n->hnext = nt[j];
            nt[j] = n;
            n = next;
        }
    }
    free(fs->tab);
    fs->tab = nt;
    fs->tab_cap = ncap;
}

/* Create a child; the caller has checked that none of that name exists. NULL when the path
 * would be longer than ROOTFS_PATH_MAX. */
static struct node *add_child(struct rootfs *fs, struct node *parent, const char *name, size_t len)
{
    size_t plen = parent->path_len + (parent == &fs->root ? 0 : 1) + len;
    if (plen > ROOTFS_PATH_MAX || len == 0)
        return NULL;
    if (fs->count + 1 > fs->tab_cap)
        tab_grow(fs);
    struct node *n = fs->free_nodes;
    if (n)
        fs->free_nodes = n->next;
    else
        n = arena_alloc(&fs->arena, sizeof(*n));
    memset(n, 0, sizeof(*n));
    n->parent = parent;
    n->name = arena_strndup(&fs->arena, name, len);
    n->name_len = (uint32_t)len;
    n->path_len = (uint32_t)plen;
    n->hash = key_hash(parent, name, len);
    n->kind = LF_DIR;
    size_t b = n->hash & (fs->tab_cap - 1);
    n->hnext = fs->tab[b];
    fs->tab[b] = n;
    n->next = parent->child;
    if (parent->child)
        parent->child->prev = n;
    parent->child = n;
    fs->count++;
    return n;
}

static void clear_children(struct rootfs *fs, struct node *n);

/* Unlink n (and everything below it) from the tree and the table. */
static void remove_node(struct rootfs *fs, struct node *n)
{
    clear_children(fs, n);
    struct node **pp = &fs->tab[n->hash & (fs->tab_cap - 1)];
    while (*pp != n)
        pp = &(*pp)->hnext;
    *pp = n->hnext;
    if (n->prev)
        n->prev->next = n->next;
    else
        n->parent->child = n->next;
    if (n->next)
        n->next->prev = n->prev;
    fs->count--;
    n->next = fs->free_nodes;
    fs->free_nodes = n;
}

static void clear_children(struct rootfs *fs, struct node *n)
{
    while (n->child)
        remove_node(fs, n->child);
}

/* Lookups share resolve() with rootfs_apply(); without `mut` it never writes, so handing it
 * the (heap-allocated, never const-defined) rootfs without its qualifier is sound. */
static struct rootfs *unconst(const struct rootfs *fs)
{
    union {
        const struct rootfs *c;
        struct rootfs *m;
    } u = { .c = fs };
    return u.m;
}

/* Resolve a path from the root, following symlinks in every component but the last (the last
 * too with follow_last). ".." at the root stays at the root; absolute link targets restart
 * from the root. With mut (apply), missing directories are created for `layer` and
 * non-directories in the way are replaced by directories. 1 with *out set, 0 when absent
 * (or a non-directory is in the way), -ERR_LOOP, -ENAMETOOLONG. */
static int resolve(const struct rootfs *fs, struct rootfs *mut, int layer, const char *path,
                   bool follow_last, struct node **out)
{
    char work[2][ROOTFS_WORK_MAX];
    int w = 0, hops = 0;
    size_t len = strlen(path);
    if (len >= ROOTFS_WORK_MAX)
        return -ENAMETOOLONG;
    memcpy(work[0], path, len + 1);
    const char *p = work[0];
    struct node *cur = &unconst(fs)->root;

    for (;;) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        const char *c = p;
        while (*p && *p != '/')
            p++;
        size_t cl = (size_t)(p - c);
        const char *rest = p;
        while (*rest == '/')
            rest++;
        bool last = *rest == '\0';
        if (cl == 1 && c[0] == '.')
            continue;
        if (cl == 2 && c[0] == '.' && c[1] == '.') {
            if (cur->parent)
                cur = cur->parent;
            continue;
        }
        struct node *n = find(fs, cur, c, cl);
        if (!n) {
            if (!mut)
                return 0;
            n = add_child(mut, cur, c, cl);
            if (!n)
                return -ENAMETOOLONG;
            n->layer = layer;
        }
        if (n->kind == LF_SYMLINK && (!last || follow_last)) {
            if (++hops > ROOTFS_MAX_HOPS)
                return -ERR_LOOP;
            const char *target = n->f->link;
            size_t tl = strlen(target), rl = strlen(rest);
            if (tl == 0)
                return 0; /* an empty target names nothing */
            if (tl + 1 + rl + 1 > ROOTFS_WORK_MAX)
                return -ENAMETOOLONG;
            char *dst = work[w ^ 1];
            memcpy(dst, target, tl + 1);
            dst[tl] = '/';
            memcpy(dst + tl + 1, rest, rl + 1);
            w ^= 1;
            p = dst;
            if (target[0] == '/')
                cur = &unconst(fs)->root;
            continue; /* relative targets resolve from the link's directory, cur */
        }
        if (n->kind != LF_DIR && n->kind != LF_SYMLINK && mut) {
            /* extraction would make a directory here too (the file is replaced) */
            clear_children(mut, n);
            n->kind = LF_DIR;
            n->f = NULL;
            n->target = NULL;
            n->layer = layer;
        }
        if (last) {
            cur = n;
            break;
        }
        if (n->kind != LF_DIR)
            return 0; /* not a directory */
        cur = n;
    }
    *out = cur;
    return 1;
}

/* Split "a/b/c" into the directory "a/b" (copied into dir) and the last component. */
static const char *split_last(const char *path, char *dir, size_t dir_cap)
{
    const char *slash = strrchr(path, '/');
    if (!slash) {
        dir[0] = '\0';
        return path;
    }
    size_t n = (size_t)(slash - path);
    if (n >= dir_cap)
        n = dir_cap - 1; /* cannot happen: paths are shorter than the buffer */
    memcpy(dir, path, n);
    dir[n] = '\0';
    return slash + 1;
}

/* The node at exactly this path, parents resolved through symlinks, the last component not
 * followed. */
static struct node *find_entry(const struct rootfs *fs, const char *path, struct node **parent)
{
    char dir[ROOTFS_WORK_MAX];
    if (strlen(path) >= sizeof(dir))
        return NULL;
    const char *base = split_last(path, dir, sizeof(dir));
    struct node *pn;
    if (resolve(fs, NULL, 0, dir, true, &pn) != 1 || pn->kind != LF_DIR)
        return NULL;
    if (parent)
        *parent = pn;
    if (!*base)
        return pn;
    return find(fs, pn, base, strlen(base));
}

static void apply_hide(struct rootfs *fs, const struct layer_file *f)
{
    if (f->kind == LF_OPAQUE && !*f->path) {
        clear_children(fs, &fs->root);
        return;
    }
    struct node *n = find_entry(fs, f->path, NULL);
    if (!n)
        return;
    if (f->kind == LF_WHITEOUT)
        remove_node(fs, n);
    else if (n->kind == LF_DIR)
        clear_children(fs, n);
}

static void apply_entry(struct rootfs *fs, const struct layer_file *f, int layer)
{
    char dir[ROOTFS_WORK_MAX];
    if (strlen(f->path) >= sizeof(dir))
        return;
    const char *base = split_last(f->path, dir, sizeof(dir));

    /* A hard link points at the file its target names right now (this layer's earlier
     * entries or a lower layer), whatever later replaces that path. */
    const struct layer_file *target = NULL;
    int target_layer = 0;
    if (f->kind == LF_HARDLINK) {
        struct node *t = find_entry(fs, f->link, NULL);
        if (t && t->kind == LF_FILE) {
            target = t->f;
            target_layer = t->layer;
        } else if (t && t->kind == LF_HARDLINK) {
            target = t->target;
            target_layer = t->target_layer;
        }
    }

    struct node *parent;
    if (resolve(fs, fs, layer, dir, true, &parent) != 1 || parent->kind != LF_DIR)
        return; /* a loop or an over-long path in the way: the entry cannot be placed */
    size_t bl = strlen(base);
    struct node *n = find(fs, parent, base, bl);
    if (n && !(f->kind == LF_DIR && n->kind == LF_DIR))
        clear_children(fs, n); /* a non-directory hides the lower subtree */
    if (!n) {
        n = add_child(fs, parent, base, bl);
        if (!n)
            return;
    }
    n->kind = f->kind;
    n->f = f;
    n->layer = layer;
    n->target = target;
    n->target_layer = target_layer;
}

void rootfs_apply(struct rootfs *fs, const struct layer_contents *lc, int layer_index)
{
    /* Whiteouts and opaque markers only hide what lower layers put there, wherever they sit
     * in the archive: apply them before any of this layer's own entries. */
    for (size_t i = 0; i < lc->files.n; i++) {
        const struct layer_file *f = &lc->files.v[i];
        if (f->kind == LF_WHITEOUT || f->kind == LF_OPAQUE)
            apply_hide(fs, f);
    }
    for (size_t i = 0; i < lc->files.n; i++) {
        const struct layer_file *f = &lc->files.v[i];
        switch (f->kind) {
        case LF_FILE:
        case LF_DIR:
        case LF_SYMLINK:
        case LF_HARDLINK:
            apply_entry(fs, f, layer_index);
            break;
        case LF_WHITEOUT:
        case LF_OPAQUE:
            break;
        }
    }
}

/* Write n's path into out (at least ROOTFS_PATH_MAX + 1 bytes). */
static void node_path(const struct rootfs *fs, const struct node *n, char *out)
{
    size_t end = n->path_len;
    out[end] = '\0';
    for (; n != &fs->root; n = n->parent) {
        end -= n->name_len;
        memcpy(out + end, n->name, n->name_len);
        if (end)
            out[--end] = '/';
    }
}

int rootfs_lookup(const struct rootfs *fs, const char *path, struct rootfs_hit *hit)
{
    struct node *n;
    int rc = resolve(fs, NULL, 0, path, true, &n);
    if (rc == -ERR_LOOP)
        return rc;
    if (rc != 1)
        return 0;
    const struct layer_file *f;
    int layer;
    if (n->kind == LF_FILE) {
        f = n->f;
        layer = n->layer;
    } else if (n->kind == LF_HARDLINK && n->target) {
        f = n->target;
        layer = n->target_layer;
    } else {
        return 0;
    }
    if (hit) {
        hit->file = f;
        hit->layer = layer;
        node_path(fs, n, hit->path);
    }
    return 1;
}

/* Path order is plain byte order of the full paths: a directory sorts as its name plus "/". */
static int node_cmp(const void *a, const void *b)
{
    const struct node *x = *(const struct node *const *)a;
    const struct node *y = *(const struct node *const *)b;
    size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
    int r = memcmp(x->name, y->name, n);
    if (r)
        return r;
    int cx = x->name_len > n ? (unsigned char)x->name[n] : x->kind == LF_DIR ? '/' : -1;
    int cy = y->name_len > n ? (unsigned char)y->name[n] : y->kind == LF_DIR ? '/' : -1;
    return (cx > cy) - (cx < cy);
}

struct walk {
    const struct rootfs *fs;
    rootfs_file_fn fn;
    void *ctx;
    char path[ROOTFS_PATH_MAX + 1];
};

static int walk_dir(struct walk *w, const struct node *dir, const char *partial, size_t plen)
{
    size_t n = 0;
    for (const struct node *c = dir->child; c; c = c->next)
        n++;
    if (!n)
        return 0;
    const struct node **kids = xmalloc(n * sizeof(const struct node *));
    size_t k = 0;
    for (const struct node *c = dir->child; c; c = c->next)
        if (c->name_len >= plen && memcmp(c->name, partial, plen) == 0)
            kids[k++] = c;
    qsort(kids, k, sizeof(const struct node *), node_cmp);
    int rc = 0;
    for (size_t i = 0; i < k && !rc; i++) {
        const struct node *c = kids[i];
        if (c->kind == LF_DIR) {
            rc = walk_dir(w, c, "", 0);
        } else if (c->kind == LF_FILE || (c->kind == LF_HARDLINK && c->target)) {
            node_path(w->fs, c, w->path);
            if (c->kind == LF_FILE)
                rc = w->fn(w->path, c->f, c->layer, w->ctx);
            else
                rc = w->fn(w->path, c->target, c->target_layer, w->ctx);
        }
    }
    free(kids);
    return rc;
}

int rootfs_foreach(const struct rootfs *fs, const char *prefix, rootfs_file_fn fn, void *ctx)
{
    /* walk the directory part of the prefix exactly (no symlinks: paths reported start
     * with the prefix), then filter its children on the partial last component */
    const struct node *dir = &fs->root;
    const char *p = prefix ? prefix : "";
    for (;;) {
        while (*p == '/')
            p++;
        const char *slash = strchr(p, '/');
        if (!slash)
            break;
        size_t cl = (size_t)(slash - p);
        if (!(cl == 1 && p[0] == '.')) {
            const struct node *n = find(fs, dir, p, cl);
            if (!n || n->kind != LF_DIR)
                return 0;
            dir = n;
        }
        p = slash + 1;
    }
    struct walk *w = xmalloc(sizeof(*w));
    w->fs = fs;
    w->fn = fn;
    w->ctx = ctx;
    int rc = walk_dir(w, dir, p, strlen(p));
    free(w);
    return rc;
}
