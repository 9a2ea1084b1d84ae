/* SPDX-License-Identifier: Apache-2.0 */
/* One layer's contribution to the image filesystem: walk the layer's tar stream once and keep
 * what the merge and the analyzers need (files of interest with their content, symlinks, hard
 * links, directories, OCI whiteouts and opaque markers). Everything else is skipped. */
#ifndef VIGIL_IMAGE_LAYER_H
#define VIGIL_IMAGE_LAYER_H

#include <stdbool.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/reader.h"
#include "base/vec.h"

enum lf_kind {
    LF_FILE = 1, /* regular file; data set when it was of interest and within the caps */
    LF_DIR = 2,
    LF_SYMLINK = 3,  /* link = target as stored */
    LF_HARDLINK = 4, /* link = normalised path of the target (same or a lower layer) */
    LF_WHITEOUT = 5, /* ".wh.NAME": path is the removed NAME (its whole subtree is removed) */
    LF_OPAQUE = 6,   /* ".wh..wh..opq" in dir D: path is D; lower layers' D contents are hidden */
};

struct layer_file {
    const char *path; /* normalised relative path (arena) */
    const char *link; /* "" unless symlink/hardlink */
    struct str data;  /* content when kept, else {NULL,0} */
    uint64_t size;    /* size in the tar */
    uint32_t mode;
    enum lf_kind kind;
    bool too_big;  /* of interest but over max_file (or the total cap): data not kept */
    bool analyzed; /* data is the analyze hook's result for the content, not the content */
    bool failed;   /* analyzed, but the hook failed: data is its one-line message */
};

struct layer_contents {
    struct arena arena;           /* owns paths, links and data */
    VEC(struct layer_file) files; /* archive order */
    uint64_t tar_bytes;           /* uncompressed bytes walked */
    uint64_t entries;             /* tar entries seen */
    uint64_t kept_bytes;
};

/* Is a regular file's content worth keeping? path is normalised, size from the tar header. */
typedef bool (*layer_interest_fn)(const char *path, uint64_t size, void *ctx);

struct layer_limits {
    uint64_t max_file;  /* cap per kept file (0 = default 64 MiB) */
    uint64_t max_total; /* cap on all kept bytes in the layer (0 = default 512 MiB) */
};

/* What to do with a regular file's content (layer_collect_ex). */
enum layer_action {
    LAYER_SKIP = 0,    /* record the entry only */
    LAYER_KEEP = 1,    /* keep the content (capped by max_file / max_total) */
    LAYER_ANALYZE = 2, /* hand the content to analyze() and keep its result instead */
};

/* Turn a file's content into a compact result right away (the language-package parsers: a
 * layer then holds the parsed packages of its jars and binaries, never the archives). content
 * is borrowed for the call. Returns 0 with the result appended to out (may stay empty), or <0
 * with a message in d: the file is then kept with failed=true and the message as its data,
 * and the walk goes on. */
typedef int (*layer_analyze_fn)(const char *path, uint32_t mode, struct str content,
                                struct buf *out, void *ctx, struct diag *d);

struct layer_hooks {
    /* decides per regular file; mode is the tar header's permission bits */
    enum layer_action (*action)(const char *path, uint64_t size, uint32_t mode, void *ctx);
    layer_analyze_fn analyze;
    void *ctx;
};

void layer_contents_init(struct layer_contents *lc);
void layer_contents_release(struct layer_contents *lc);
/* Walk the uncompressed tar stream `tar_stream` (owned by the caller). 0 or <0 with a message
 * in d naming the tar member at fault.
 *
 * What is recorded (entries are ~60 bytes plus the path in the arena, ~5 MiB for 50k files):
 * - every regular file, with data only when interest() says so (called once per regular
 *   file, never for links) and it fits max_file and max_total (else too_big, no data). Files
 *   not of interest are kept as entries because they matter to the merge: a file in an upper
 *   layer hides a lower directory or symlink at its path (and all below it).
 * - directories, symlinks, hard links (data and size shared with the target when that was
 *   kept earlier in this layer; otherwise the rootfs resolves them, across layers too);
 * - ".wh.NAME" as LF_WHITEOUT "dir/NAME", ".wh..wh..opq" as LF_OPAQUE "dir" ("" at the
 *   root); other ".wh..wh." names (aufs metadata) are dropped;
 * - devices, fifos and other special files are not recorded (nothing to scan in them).
 * After the archive's end the rest of the stream is read to EOF, so a verifying reader below
 * checks its digest and the decompressor its trailer; their errors pass through.
 * out is added to (counters too); release it with layer_contents_release() even on error. */
int layer_collect(struct reader *tar_stream, layer_interest_fn interest, void *ctx,
                  const struct layer_limits *lim, struct layer_contents *out, struct diag *d);
/* layer_collect() with per-file actions: LAYER_KEEP as interest() returning true, LAYER_ANALYZE
 * reads the content (capped by max_file; over it the file is too_big) and keeps what
 * hooks->analyze makes of it (counted against max_total). */
int layer_collect_ex(struct reader *tar_stream, const struct layer_hooks *hooks,
                     const struct layer_limits *lim, struct layer_contents *out, struct diag *d);

#endif
