/* SPDX-License-Identifier: Apache-2.0 */
/* Streaming tar reader (ustar, GNU long names/links, pax extended headers) over a reader.
 * Entries come in archive order; content not read is skipped. Nothing touches the disk.
 *
 * Format rules: header checksums are verified (unsigned or signed sum); numbers are octal or
 * GNU base-256; names come from pax "path" > GNU 'L' > ustar prefix + name; pax records used
 * are path, linkpath and size ('g' global headers are ignored); names are capped at 4096
 * bytes and a pax header at 1 MiB (-ERR_TOO_BIG). Types: '0', '\0', '7' files (a name ending
 * in "/" makes a directory), '1' hard link, '2' symlink, '5' and GNU 'D' directories;
 * devices, fifos, GNU sparse and unknown types are TAR_OTHER (their content is skipped).
 * Header-only types ignore the size field, as GNU tar and Go's archive/tar do. The root entry
 * ("./") is not reported.
 * End of archive: two zero blocks; a zero block or a clean end of stream at a block boundary
 * is accepted too (writers always add the blocks, lenient readers accept their absence); a
 * zero block followed by a header is -ERR_CORRUPT; a stream ending inside a header or a
 * member's content is -ERR_TRUNCATED. Nothing after the end is read: a caller who needs the
 * stream's own end (digest check, gzip trailer) drains it (layer_collect() does).
 * Errors of the underlying reader pass through with their code, the message prefixed with
 * the member being read ("in tar member 'x': ..." / "after tar member 'x': ..."). Errors are
 * sticky. The stream is read in 1 MiB chunks; headers are parsed in place. */
#ifndef VIGIL_IMAGE_TAR_H
#define VIGIL_IMAGE_TAR_H

#include <stdint.h>

#include "base/buf.h"
#include "base/reader.h"

enum tar_type { TAR_FILE, TAR_DIR, TAR_SYMLINK, TAR_HARDLINK, TAR_OTHER };

struct tar_entry {
    const char *path; /* normalised: relative, no "." or empty components, no trailing "/";
                       * valid until the next tar_next() */
    const char *link; /* symlink target as stored (may be absolute) / hard-link target
                       * (normalised like path); "" otherwise */
    enum tar_type type;
    uint64_t size; /* content bytes (0 for everything but TAR_FILE) */
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
 * rest of the entry is still skipped correctly by the next tar_next()). Appends to out; the
 * cap is checked against the entry's size before anything is read. */
int tar_read_content(struct tar *t, struct buf *out, struct diag *d);
/* Stream the current entry's content: a reader valid until the next tar_next(); closing it
 * is optional. */
struct reader *tar_content_reader(struct tar *t);

#endif
