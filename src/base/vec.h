/* SPDX-License-Identifier: Apache-2.0 */
/* VEC(type): a typed growable array { type *v; size_t n, cap; }. The vector owns its storage,
 * never its elements' pointees. VEC_PUSH aborts on OOM. */
#ifndef VIGIL_BASE_VEC_H
#define VIGIL_BASE_VEC_H

#include <stddef.h>
#include <stdlib.h>

#include "xalloc.h"

#define VEC(type)   \
    struct {        \
        type *v;    \
        size_t n;   \
        size_t cap; \
    }

#define VEC_INIT   \
    {              \
        NULL, 0, 0 \
    }

#define VEC_GROW(vec, want)                                                  \
    do {                                                                     \
        if ((want) > (vec)->cap) {                                           \
            size_t vec_cap_ = (vec)->cap ? (vec)->cap * 2 : 8;               \
            while (vec_cap_ < (want))                                        \
                vec_cap_ *= 2;                                               \
            (vec)->v = xreallocarray((vec)->v, vec_cap_, sizeof(*(vec)->v)); \
            (vec)->cap = vec_cap_;                                           \
        }                                                                    \
    } while (0)

#define VEC_PUSH(vec, item)            \
    do {                               \
        VEC_GROW(vec, (vec)->n + 1);   \
        (vec)->v[(vec)->n++] = (item); \
    } while (0)

#define VEC_FREE(vec)              \
    do {                           \
        free((vec)->v);            \
        (vec)->v = NULL;           \
        (vec)->n = (vec)->cap = 0; \
    } while (0)

#endif
