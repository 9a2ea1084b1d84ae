/* SPDX-License-Identifier: Apache-2.0 */
/* Compact serialisations the scan service stores in the metadata database: an image's
 * inventory (what the continuous rescans re-match instead of reading layers), the
 * advisory-level part of a finding (shared by every image with that finding), and the members
 * of a stored finding. Every decoder takes bytes from the database, which may be damaged: each
 * length and count is checked against the input and a cap before anything is allocated. */
#ifndef VIGIL_SCAN_SVC_CODEC_H
#define VIGIL_SCAN_SVC_CODEC_H

#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "scan/inventory.h"
#include "vulndb/finding.h"

/* Caps of the decoders. */
#define SVC_INV_RAW_MAX   (64u << 20) /* decompressed inventory */
#define SVC_INV_LAYERS    4096
#define SVC_INV_PKGS      (1u << 20)
#define SVC_VULN_LIST_MAX 4096 /* related ids, references */
#define SVC_VULN_CVSS_MAX 64
#define SVC_MEMBERS_MAX   65536
#define SVC_HASH_LEN      16 /* truncated SHA-256 naming a vulnerability record */

/* Inventory: "VSI1", a LEB128 length of the raw form, then the raw form as one zstd frame.
 * Raw: manifest and config digests, platform, name, the OS fields, the layers (digest,
 * diff_id, size) and the packages (type, name, version, arch, src_name, src_version, epoch,
 * has_epoch, upstream, release, db_path, layer); strings are LEB128 length + bytes. Warnings,
 * licenses and maintainers are not kept. 0 or -ERR_TOO_BIG / -ERR_INTERNAL (compression). */
int svc_inv_encode(const struct inventory *inv, struct buf *out);
/* Decode into inv (inventory_init()ed by the caller; its arena receives every string). 0 or
 * -ERR_CORRUPT with d set (inv is then partially filled: release it). */
int svc_inv_decode(struct str in, struct inventory *inv, struct diag *d);

/* The advisory-level fields of a finding: id, title, description, uri, severity,
 * vendor_severity, severity_source, ecosystem, published, modified, source, malicious, related,
 * references and cvss (not pkg nor fixed_version). Appends to out; 0 or -ERR_TOO_BIG. */
int svc_vuln_encode(const struct finding *f, struct buf *out);
/* Decode into *f (pkg NULL, fixed_version ""); strings and arrays live in a. 0 or -ERR_CORRUPT
 * with d set. */
int svc_vuln_decode(struct str in, struct arena *a, struct finding *f, struct diag *d);
/* The record's name: the first SVC_HASH_LEN bytes of the SHA-256 of its encoding. */
void svc_vuln_hash(const struct buf *encoded, unsigned char out[SVC_HASH_LEN]);

/* One package of a stored finding. */
struct svc_member {
    uint32_t pkg;                      /* index in the inventory's packages */
    unsigned char vhash[SVC_HASH_LEN]; /* its vulnerability record */
    enum severity severity;            /* for this package */
    const char *fixed;                 /* "" = no fix */
    const struct finding *f;           /* resolved record (NULL until looked up) */
    const void *rec;                   /* its encoding when freshly matched (to store), or NULL */
    size_t rec_len;
};

/* LEB128 count, then per member: LEB128 pkg, the hash, a severity byte, the fixed version. */
int svc_members_encode(const struct svc_member *m, size_t n, struct buf *out);
/* Decode (strings in a, the array allocated in a). 0 or -ERR_CORRUPT with d set. */
int svc_members_decode(struct str in, struct arena *a, struct svc_member **out, size_t *n,
                       struct diag *d);

#endif
