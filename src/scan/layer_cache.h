/* SPDX-License-Identifier: Apache-2.0 */
/* Per-layer cache: what layer_collect() kept from a layer, stored in SQLite keyed by the layer
 * blob digest and the version of the set of paths of interest, so a layer is read only once
 * for all images that share it. */
#ifndef VIGIL_SCAN_LAYER_CACHE_H
#define VIGIL_SCAN_LAYER_CACHE_H

#include "base/buf.h"
#include "image/layer.h"

struct layer_cache;

/* Open (creating) DIR/layers.sqlite; DIR is created if missing. 0 or <0 with d set. */
int layer_cache_open(const char *dir, struct layer_cache **out, struct diag *d);
void layer_cache_close(struct layer_cache *c);
/* 1 and *lc filled (lc must be freshly initialised), 0 when absent, <0 on a database error.
 * A corrupt entry is deleted and reported as absent. */
int layer_cache_get(struct layer_cache *c, const char *digest, unsigned interest_version,
                    struct layer_contents *lc);
/* Store lc for digest (replacing). 0 or <0. */
int layer_cache_put(struct layer_cache *c, const char *digest, unsigned interest_version,
                    const struct layer_contents *lc);

/* The serialised form, exposed for tests and the fuzz target. */
int layer_contents_encode(const struct layer_contents *lc, struct buf *out);
/* Decode into lc (freshly initialised); the bytes are copied into lc's arena. 0 or
 * -ERR_CORRUPT with d set. */
int layer_contents_decode(struct str in, struct layer_contents *lc, struct diag *d);

#endif
