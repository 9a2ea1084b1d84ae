/* SPDX-License-Identifier: Apache-2.0 */
/* Streaming tar reader (ustar, GNU long names/links, pax extended headers) over a reader.
 * Entries come in archive order; content not read is skipped. Nothing touches the disk. */
#ifndef VIGIL_IMAGE_TAR_H
#define VIGIL_IMAGE_TAR_H

#include <stdint.h>

#include "base/buf.h"
#include "base/reader.h"

enum tar_type { TAR_FILE, TAR_DIR, TAR_SYMLINK, TAR_HARDLINK, TAR_OTHER };

struct tar_entry {
    const char *path;  /* normalised: relative, no "." or empty components, no trailing "/";
                        * valid until the next tar_next() */
    const char *link;  /* symlink target as stored (may be absolute) / hard-link target
                        * (normalised like path); "" otherwise */
    enum tar_type type;
    uint64_t size;     /* content bytes (0 for everything but TAR_FILE) */
    uint32_t mode;
};

struct tar;

/* The tar reads from r, which stays owned by the caller. */
struct tar *tar_new(struct reader *r);
void tar_free(struct tar *t);
/* 1 with *e filled, 0 at the end of the archive, <0 on error (message in d): -ERR_TRUNCATED,
 * -ERR_CORRUPT (bad header checksum, bad number), -ERR_OUTSIDE (absolute name or a ".."
 * that climbs above the root), -ERR_TOO_BIG (a name or pax header over its cap). */
int tar_next(struct tar *t, struct tar_entry *e, struct diag *d);
/* Read the current entry's content into out (out->max caps it: -ERR_TOO_BIG, and the
 * rest of the entry is still skipped correctly by the next tar_next()). */
int tar_read_content(struct tar *t, struct buf *out, struct diag *d);
/* Stream the current entry's content: a reader valid until the next tar_next(); closing it
 * is optional. */
struct reader *tar_content_reader(struct tar *t);

#endif
