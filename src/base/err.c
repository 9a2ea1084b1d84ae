/* SPDX-License-Identifier: Apache-2.0 */
/* Error table lookups and parser diagnostics. */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct err_row {
    int code;
    int http;
    const char *oci;
    const char *ecr;
    const char *msg;
};

static const struct err_row err_rows[] = {
#define X(name, value, http, oci, ecr, msg) { value, http, oci, ecr, msg },
#include "err.def"
#undef X
};

static const struct err_row *err_find(int err)
{
    int code = err < 0 ? -err : err;
    for (size_t i = 0; i < sizeof(err_rows) / sizeof(err_rows[0]); i++)
        if (err_rows[i].code == code)
            return &err_rows[i];
    return NULL;
}

const char *err_str(int err)
{
    const struct err_row *r = err_find(err);
    if (r)
        return r->msg;
    return strerror(err < 0 ? -err : err);
}

int err_http_status(int err)
{
    const struct err_row *r = err_find(err);
    if (r)
        return r->http;
    if (err == -2) /* ENOENT */
        return 404;
    return 500;
}

const char *err_oci_code(int err)
{
    const struct err_row *r = err_find(err);
    return r ? r->oci : "UNSUPPORTED";
}

const char *err_ecr_exception(int err)
{
    const struct err_row *r = err_find(err);
    return r ? r->ecr : "ServerException";
}

int diag_set(struct diag *d, int err, size_t offset, const char *fmt, ...)
{
    if (!d)
        return err;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
    va_end(ap);
    d->offset = offset;
    d->err = err;
    return err;
}

int diag_prefix(struct diag *d, int err, const char *fmt, ...)
{
    if (!d)
        return err;
    char pre[sizeof(d->msg)], msg[sizeof(d->msg)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof(pre), fmt, ap);
    va_end(ap);
    memcpy(msg, d->msg, sizeof(msg));
    size_t pl = strnlen(pre, sizeof(pre) - 1), ml = strnlen(msg, sizeof(msg) - 1);
    if (ml > sizeof(d->msg) - 1 - pl)
        ml = sizeof(d->msg) - 1 - pl; /* the message yields to the prefix */
    memcpy(d->msg, pre, pl);
    memcpy(d->msg + pl, msg, ml);
    d->msg[pl + ml] = '\0';
    return err;
}
