/* SPDX-License-Identifier: Apache-2.0 */
/* Bump allocator in chunks of at least 64 KiB; big requests get a chunk of their own. */
#include "arena.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

struct arena_chunk {
    struct arena_chunk *next;
    size_t size;
    size_t off;
    _Alignas(16) unsigned char data[];
};

#define ARENA_CHUNK_MIN (64 * 1024)

void arena_init(struct arena *a)
{
    a->head = NULL;
    a->used = 0;
}

void arena_release(struct arena *a)
{
    struct arena_chunk *c = a->head;
    while (c) {
        struct arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    arena_init(a);
}

void *arena_alloc(struct arena *a, size_t n)
{
    size_t need = (n + 15) & ~(size_t)15;
    BUG_ON(need < n);
    struct arena_chunk *c = a->head;
    if (!c || c->size - c->off < need) {
        size_t size = need > ARENA_CHUNK_MIN ? need : ARENA_CHUNK_MIN;
        struct arena_chunk *nc = xmalloc(sizeof(*nc) + size);
        nc->size = size;
        nc->off = 0;
        if (c && need > ARENA_CHUNK_MIN) {
            /* keep filling the current chunk: put the big one behind it */
            nc->next = c->next;
            c->next = nc;
        } else {
            nc->next = c;
            a->head = nc;
        }
        c = nc;
    }
    void *p = c->data + c->off;
    c->off += need;
    a->used += need;
    return p;
}

void *arena_zalloc(struct arena *a, size_t n)
{
    void *p = arena_alloc(a, n);
    memset(p, 0, n);
    return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    if (n)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
    return arena_strndup(a, s, strlen(s));
}

struct str arena_str(struct arena *a, struct str s)
{
    return (struct str){ arena_strndup(a, s.ptr, s.len), s.len };
}
