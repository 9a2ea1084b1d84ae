/* SPDX-License-Identifier: Apache-2.0 */
/* struct arena: bump allocator for data that lives and dies together (a request, a scan's
 * inventory). Allocations are never freed one by one; arena_release() frees all. */
#ifndef VIGIL_BASE_ARENA_H
#define VIGIL_BASE_ARENA_H

#include <stddef.h>

#include "str.h"

struct arena_chunk;

struct arena {
    struct arena_chunk *head;
    size_t used; /* bytes handed out, for statistics */
};

void arena_init(struct arena *a);
void arena_release(struct arena *a);
/* 16-byte aligned, never NULL (aborts on OOM). */
void *arena_alloc(struct arena *a, size_t n);
void *arena_zalloc(struct arena *a, size_t n);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_strdup(struct arena *a, const char *s);
/* NUL-terminated copy of a slice, returned as a slice over the copy. */
struct str arena_str(struct arena *a, struct str s);

#endif
