/* SPDX-License-Identifier: Apache-2.0 */
/* A zip reader over an archive held in memory (a mapped file, a jar read from a layer, a jar
 * inside a jar): walk the central directory, then extract single members (stored or deflate
 * through zlib, CRC-32 checked) under caps on member count, member size, total output and
 * compression ratio, so that a zip bomb costs a bounded amount of memory and time. */
#ifndef VIGIL_BASE_ZIP_H
#define VIGIL_BASE_ZIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "str.h"

/* Caps for one archive. A field left 0 takes the default below. */
struct zip_limits {
    uint64_t max_members;     /* central directory entries; more: zip_open fails */
    uint64_t max_member_size; /* uncompressed size of one member zip_extract will produce */
    uint64_t max_total;       /* uncompressed bytes all zip_extract calls together produce */
    uint32_t max_ratio;       /* uncompressed/compressed above this is refused (a bomb) for
                               * members larger than ZIP_RATIO_MIN_SIZE */
};

#define ZIP_DEFAULT_MAX_MEMBERS     (1u << 20) /* an uber-jar has ~10^5 classes */
#define ZIP_DEFAULT_MAX_MEMBER_SIZE (64u << 20)
#define ZIP_DEFAULT_MAX_TOTAL       (1ull << 30)
/* Deflate cannot do better than about 1032:1, so a larger claimed ratio is a lie; real text
 * and class files stay below 20:1. Small members are exempt: a 4 KiB file of spaces is fine. */
#define ZIP_DEFAULT_MAX_RATIO 200u
#define ZIP_RATIO_MIN_SIZE    (1u << 20)

/* One central directory entry. `name` points into the archive (not NUL-terminated, may hold
 * any byte); the sizes are the directory's (zip64 extra fields applied). */
struct zip_entry {
    struct str name;
    uint64_t index; /* 0-based position in the central directory */
    uint16_t flags; /* general purpose bit flag; bit 0 = encrypted */
    uint16_t method;
    uint32_t crc32;
    uint64_t csize, usize;
    uint64_t local_offset;
    size_t dir_offset; /* of the central directory entry, for messages */
};

static inline bool zip_entry_is_dir(const struct zip_entry *e)
{
    return e->name.len && e->name.ptr[e->name.len - 1] == '/';
}

/* An open archive: a cursor over the directory plus the extraction budget. Borrows the
 * bytes given to zip_open; owns nothing, needs no release. */
struct zip {
    const unsigned char *data;
    size_t size;
    struct zip_limits lim;
    uint64_t count;     /* entries in the central directory */
    uint64_t next;      /* index of the entry zip_next returns next */
    size_t pos, cd_end; /* cursor in the central directory */
    uint64_t total_out; /* uncompressed bytes produced by zip_extract so far */
    size_t shift;       /* bytes in front of the archive, added to every recorded offset */
};

/* Find the end of central directory (zip64 too) in data[0..n). lim may be NULL (defaults).
 * Data in front of the archive (a launch script) is allowed: offsets are taken relative to
 * where the directory really is. Returns 0, -ERR_CORRUPT when no valid directory is found
 * (not a zip, truncated), or -ERR_TOO_BIG when it lists more than lim->max_members entries;
 * d says what and where. A truncated archive that holds whole archives (a fat jar cut short)
 * may be read as the last one of those: its end record is as good as any. */
int zip_open(struct zip *z, const void *data, size_t n, const struct zip_limits *lim,
             struct diag *d);

/* The next directory entry: 1 with *e filled, 0 after the last one, -ERR_CORRUPT when the
 * directory entry is malformed (the walk cannot go on; d gives its offset). */
int zip_next(struct zip *z, struct zip_entry *e, struct diag *d);

/* The uncompressed bytes of one member. */
struct zip_data {
    const void *ptr; /* the bytes: into the archive (stored member) or *owned */
    size_t len;
    void *owned; /* malloc'd buffer to free (zip_data_release), or NULL */
};

/* Extract e (from zip_next on the same z). Checks, in order: encryption and method (stored,
 * deflate: else -ERR_UNSUPPORTED), the caps (-ERR_TOO_BIG, nothing allocated), the local
 * header and data bounds (-ERR_CORRUPT), then inflates into exactly usize bytes and checks
 * the length and CRC-32 (-ERR_CORRUPT). Stored members are not copied. On error *out is
 * empty and d names the member. The archive stays usable after a member error. */
int zip_extract(struct zip *z, const struct zip_entry *e, struct zip_data *out, struct diag *d);

void zip_data_release(struct zip_data *zd);

#endif
