/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the vulnerability-data readers: the input is one JSON document (OSV record, NVD item,
 * CVE JSON 5 record, Alpine secdb document) or, when it starts with "PK", a zip of them as
 * osv.dev's all.zip. Every OSV affected entry is encoded as a compact row and evaluated for
 * the versions the record itself names; the fix a row reports must be one of its events. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "vulndb/import.h"
#include "vulndb/match.h"
#include "vulndb/osv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_fixed(const struct buf *row, const struct arow_result *r)
{
    if (!r->affected) {
        if (r->fixed[0])
            abort();
        return;
    }
    if (!r->fixed[0])
        return;
    /* the reported fix points into the row, at an 'f' item */
    const char *p = row->data;
    if (r->fixed < p + 2 || r->fixed >= p + row->len || r->fixed[-1] != 'f')
        abort();
}

static void exercise_affected(const struct osv_affected *a)
{
    enum eco_family f = eco_family_of(a->ecosystem);
    struct buf row;
    buf_init(&row, AROW_MAX + 4096);
    if (arow_encode(a, f, NULL, 0, &row) == 0) {
        struct arow_result r;
        for (size_t i = 0; i < a->n_ranges; i++)
            for (size_t e = 0; e < a->ranges[i].n_events; e++) {
                if (arow_check(row.data, row.len, f, str_from(a->ranges[i].events[e].version),
                               &r) != 0)
                    abort(); /* rows we encode always decode */
                check_fixed(&row, &r);
            }
        for (size_t v = 0; v < a->n_versions && v < 64; v++) {
            if (arow_check(row.data, row.len, f, str_from(a->versions[v]), &r) != 0)
                abort();
            /* an explicitly listed version is always affected */
            if (!r.affected)
                abort();
            check_fixed(&row, &r);
        }
    }
    buf_release(&row);
}

static int one_document(const void *p, size_t n)
{
    void *root;
    enum vin_kind kind;
    struct diag d = { 0 };
    if (vin_parse(p, n, &root, &kind, &d) < 0)
        return 0;
    switch (kind) {
    case VIN_OSV: {
        struct osv_record r;
        if (osv_record_from_json(root, &r, &d) == 0)
            for (size_t i = 0; i < r.n_affected; i++)
                exercise_affected(&r.affected[i]);
        osv_record_release(&r);
        break;
    }
    case VIN_NVD:
    case VIN_CISA: {
        struct cve_info ci;
        cve_info_from_json(root, kind, &ci, &d);
        cve_info_release(&ci);
        break;
    }
    case VIN_SECDB: {
        struct secdb_doc doc;
        secdb_doc_from_json(root, &doc, &d);
        secdb_doc_release(&doc);
        break;
    }
    case VIN_UNKNOWN:
        json_decref(root);
        break;
    }
    return 0;
}

static int zip_member(void *ctx, const char *name, const void *p, size_t n)
{
    (void)ctx;
    (void)name;
    return one_document(p, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size >= 2 && data[0] == 'P' && data[1] == 'K') {
        struct diag d = { 0 };
        zip_walk(data, size, zip_member, NULL, NULL, &d);
        return 0;
    }
    one_document(data, size);
    return 0;
}
