/* SPDX-License-Identifier: Apache-2.0 */
/* Error codes: 0 is success, -errno or -ERR_* on failure. The table in err.def gives each
 * vigil code its HTTP status, OCI error code, ECR exception name and default message. */
#ifndef VIGIL_BASE_ERR_H
#define VIGIL_BASE_ERR_H

#include <stddef.h>

enum vigil_err {
#define X(name, value, http, oci, ecr, msg) name = value,
#include "err.def"
#undef X
};

/* Message for a negative error code (-errno or -ERR_*). Never NULL. */
const char *err_str(int err);
/* HTTP status for a code; 500 for unknown codes. */
int err_http_status(int err);
/* OCI distribution error code ("BLOB_UNKNOWN", ...); "UNSUPPORTED" when none applies. */
const char *err_oci_code(int err);
/* ECR exception name; "ServerException" when none applies. */
const char *err_ecr_exception(int err);

/* A parser's account of what went wrong: a message and the byte offset it refers to
 * (like jansson's json_error_t). Parsers take an optional `struct diag *`. */
struct diag {
    char msg[256];
    size_t offset;
    int err;
};

/* Format a message into *d (no-op when d is NULL). Returns err so callers can
 * `return diag_set(d, -ERR_CORRUPT, off, "...")`. */
int diag_set(struct diag *d, int err, size_t offset, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Put a formatted prefix ("PATH: line 3: ") before the message already in *d, truncating the
 * message to fit. No-op when d is NULL. Returns err. */
int diag_prefix(struct diag *d, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
