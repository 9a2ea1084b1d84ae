/* SPDX-License-Identifier: Apache-2.0 */
/* Terminal tables for scan results and inventories. Every cell is sanitised (control
 * characters, which could carry escape sequences from vulnerability feeds, become spaces;
 * invalid UTF-8 becomes '?') and measured in terminal columns, so truncation fits the width
 * and never cuts a multi-byte character. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/xalloc.h"
#include "scan/report_internal.h"

#define LINE_MAX_BYTES (1 << 20)
#define ELLIPSIS       "\xE2\x80\xA6" /* U+2026, one column */
#define GAP            2
#define MIN_TITLE      16

/* Display width of s after sanitising. */
static int text_width(const char *s)
{
    size_t len = strlen(rpt_s(s)), i = 0;
    int w = 0;
    uint32_t cp;
    while (i < len) {
        size_t n = rpt_utf8_next(s + i, len - i, &cp);
        if (n == 0) {
            w += 1; /* shown as '?' */
            i++;
            continue;
        }
        w += (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0)) ? 1 : rpt_cp_width(cp);
        i += n;
    }
    return w;
}

/* Append s sanitised and cut to at most max columns (ending in "…" when cut); pad with
 * spaces up to max when pad is set. Returns the columns written before padding. */
static int put_cell(struct buf *b, const char *s, int max, bool pad)
{
    s = rpt_s(s);
    size_t len = strlen(s), i = 0;
    int total = text_width(s), w = 0;
    int limit = total > max ? max - 1 : max; /* leave one column for the ellipsis */
    uint32_t cp;

    while (i < len) {
        size_t n = rpt_utf8_next(s + i, len - i, &cp);
        bool ctrl = n != 0 && (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0));
        int cw = (n == 0 || ctrl) ? 1 : rpt_cp_width(cp);
        if (w + cw > limit)
            break;
        if (n == 0)
            buf_putc(b, '?');
        else if (ctrl)
            buf_putc(b, ' ');
        else
            buf_append(b, s + i, n);
        w += cw;
        i += n ? n : 1;
    }
    if (total > max && max > 0) {
        buf_append_cstr(b, ELLIPSIS);
        w++;
    }
    if (pad)
        for (int k = w; k < max; k++)
            buf_putc(b, ' ');
    return w;
}

static int min_int(int a, int b)
{
    return a < b ? a : b;
}

static int max_int(int a, int b)
{
    return a > b ? a : b;
}

static int flush_line(FILE *out, struct buf *b)
{
    /* no trailing blanks: the last cell is never padded, but a short row may end in a gap */
    while (b->len > 0 && b->data[b->len - 1] == ' ')
        b->len--;
    buf_putc(b, '\n');
    int rc = fwrite(b->data, 1, b->len, out) == b->len ? 0 : -EIO;
    buf_reset(b);
    return rc;
}

static int header_line(FILE *out, struct buf *b, const char *label, const char *value)
{
    buf_printf(b, "%-10s", label);
    put_cell(b, value, 4096, false);
    return flush_line(out, b);
}

static int write_header(FILE *out, struct buf *b, const struct inventory *inv)
{
    const char *name = !rpt_empty(inv->image_name) ? inv->image_name : rpt_s(inv->image_ref);
    const char *os = !rpt_empty(inv->os.pretty_name) ? inv->os.pretty_name : rpt_s(inv->os.id);
    char *osv = NULL, count[32];
    int rc = 0;

    if (rpt_empty(inv->os.pretty_name) && !rpt_empty(inv->os.version_id))
        os = osv = xasprintf("%s %s", rpt_s(inv->os.id), inv->os.version_id);
    snprintf(count, sizeof(count), "%zu", inv->pkgs.items.n);
    rc |= header_line(out, b, "Image:", name);
    if (!rpt_empty(inv->image_ref) && strcmp(inv->image_ref, name) != 0)
        rc |= header_line(out, b, "Ref:", inv->image_ref);
    rc |= header_line(out, b, "Digest:", inv->manifest_digest);
    rc |= header_line(out, b, "Platform:", inv->platform);
    rc |= header_line(out, b, "OS:", *os ? os : "unknown");
    rc |= header_line(out, b, "Packages:", count);
    free(osv);
    return rc;
}

static int finish(FILE *out, struct buf *b, int rc)
{
    buf_release(b);
    if (rc != 0 || fflush(out) != 0 || ferror(out))
        return -EIO;
    return 0;
}

/* ---- scan table ---------------------------------------------------------------------- */

static const char *sev_color(enum severity s)
{
    switch (rpt_sev(s)) {
    case SEV_CRITICAL:
        return "\x1b[1;31m";
    case SEV_HIGH:
        return "\x1b[31m";
    case SEV_MEDIUM:
        return "\x1b[33m";
    case SEV_LOW:
        return "\x1b[36m";
    case SEV_INFORMATIONAL:
    case SEV_UNDEFINED:
        return "";
    }
    return "";
}

enum { COL_SEV, COL_ID, COL_PKG, COL_INST, COL_FIX, COL_TITLE, NCOLS };

static const char *finding_title(const struct finding *f)
{
    return !rpt_empty(f->title) ? f->title : rpt_s(f->description);
}

static const char *fixed_in(const struct finding *f)
{
    return !rpt_empty(f->fixed_version) ? f->fixed_version : "-";
}

int rpt_write_scan_table(FILE *out, const struct scan_result *r, const struct report_opts *o)
{
    static const char *const heads[NCOLS] = { "SEVERITY",  "ID",       "PACKAGE",
                                              "INSTALLED", "FIXED-IN", "TITLE" };
    static const int caps[NCOLS] = { 13, 24, 28, 24, 24, 0 };
    size_t n = 0, counts[SEV_COUNT] = { 0 };
    const struct finding **v = rpt_sorted(r->findings, &n);
    struct buf b;
    int rc = 0, width = o->width > 0 ? o->width : 120;

    buf_init(&b, LINE_MAX_BYTES);
    rc |= write_header(out, &b, r->inv);
    for (size_t i = 0; i < n; i++)
        counts[rpt_sev(v[i]->severity)]++;
    buf_printf(&b, "%-10s%zu (", "Findings:", n);
    for (int s = SEV_CRITICAL; s >= SEV_UNDEFINED; s--)
        buf_printf(&b, "%s: %zu%s", rpt_sev_name((enum severity)s), counts[s],
                   s > SEV_UNDEFINED ? ", " : ")");
    rc |= flush_line(out, &b);
    rc |= flush_line(out, &b);
    if (n == 0) {
        buf_append_cstr(&b, "No known vulnerabilities found.");
        rc |= flush_line(out, &b);
        free(v);
        return finish(out, &b, rc);
    }

    int w[NCOLS];
    for (int c = 0; c < NCOLS - 1; c++)
        w[c] = text_width(heads[c]);
    for (size_t i = 0; i < n; i++) {
        const struct finding *f = v[i];
        w[COL_SEV] = max_int(w[COL_SEV], text_width(rpt_sev_name(f->severity)));
        w[COL_ID] = max_int(w[COL_ID], text_width(f->id));
        w[COL_PKG] = max_int(w[COL_PKG], text_width(f->pkg ? f->pkg->name : ""));
        w[COL_INST] = max_int(w[COL_INST], text_width(f->pkg ? f->pkg->version : ""));
        w[COL_FIX] = max_int(w[COL_FIX], text_width(fixed_in(f)));
    }
    int used = 0;
    for (int c = 0; c < NCOLS - 1; c++) {
        w[c] = min_int(w[c], caps[c]);
        used += w[c] + GAP;
    }
    w[COL_TITLE] = max_int(width - used, MIN_TITLE);

    for (int c = 0; c < NCOLS; c++) {
        put_cell(&b, heads[c], w[c], c < NCOLS - 1);
        if (c < NCOLS - 1)
            buf_append_cstr(&b, "  ");
    }
    rc |= flush_line(out, &b);

    for (size_t i = 0; i < n && rc == 0; i++) {
        const struct finding *f = v[i];
        const char *color = o->color ? sev_color(f->severity) : "";
        const char *cells[NCOLS] = {
            rpt_sev_name(f->severity),     f->id,       f->pkg ? f->pkg->name : "",
            f->pkg ? f->pkg->version : "", fixed_in(f), finding_title(f),
        };
        for (int c = 0; c < NCOLS; c++) {
            if (c == COL_SEV && *color) {
                /* colour only the text, so the padding lines up the same way */
                buf_append_cstr(&b, color);
                int cw = put_cell(&b, cells[c], w[c], false);
                buf_append_cstr(&b, "\x1b[0m");
                for (int k = cw; k < w[c]; k++)
                    buf_putc(&b, ' ');
            } else {
                put_cell(&b, cells[c], w[c], c < NCOLS - 1);
            }
            if (c < NCOLS - 1)
                buf_append_cstr(&b, "  ");
        }
        rc |= flush_line(out, &b);
    }
    free(v);
    return finish(out, &b, rc);
}

/* ---- inventory table ----------------------------------------------------------------- */

struct inv_row {
    const struct pkg *p;
    char *source;
    char *layer;
};

static int cmp_row(const void *a, const void *b)
{
    const struct inv_row *x = a, *y = b;
    int c = strcmp(rpt_s(x->p->name), rpt_s(y->p->name));
    if (c)
        return c;
    c = strcmp(rpt_s(x->p->version), rpt_s(y->p->version));
    if (c)
        return c;
    return x->p < y->p ? -1 : x->p > y->p;
}

int rpt_write_inv_table(FILE *out, const struct inventory *inv, const struct report_opts *o)
{
    static const char *const heads[] = { "NAME", "VERSION", "ARCH", "SOURCE", "LAYER" };
    static const int caps[] = { 40, 40, 12, 48, 20 };
    enum { NC = 5 };
    size_t n = inv->pkgs.items.n;
    struct inv_row *rows = xcalloc(n ? n : 1, sizeof(*rows));
    struct buf b;
    int rc = 0, w[NC];

    (void)o; /* no colours in the inventory table; widths come from the content */
    buf_init(&b, LINE_MAX_BYTES);
    rc |= write_header(out, &b, inv);
    rc |= flush_line(out, &b);
    if (n == 0) {
        buf_append_cstr(&b, "No packages found.");
        rc |= flush_line(out, &b);
        free(rows);
        return finish(out, &b, rc);
    }

    for (size_t i = 0; i < n; i++) {
        const struct pkg *p = &inv->pkgs.items.v[i];
        rows[i].p = p;
        /* the source package, with its version when that differs from the binary's */
        const char *src = !rpt_empty(p->src_name) ? p->src_name : rpt_s(p->name);
        if (!rpt_empty(p->src_version) && strcmp(p->src_version, rpt_s(p->version)) != 0)
            rows[i].source = xasprintf("%s (%s)", src, p->src_version);
        else
            rows[i].source = xstrdup(src);
        if (p->layer >= 0 && (size_t)p->layer < inv->layers.n) {
            const char *d = rpt_s(inv->layers.v[p->layer].digest);
            const char *hex = strchr(d, ':');
            hex = hex ? hex + 1 : d;
            rows[i].layer = xasprintf("%d %.12s", p->layer, hex);
        } else {
            rows[i].layer = xstrdup("-");
        }
    }
    qsort(rows, n, sizeof(*rows), cmp_row);

    for (int c = 0; c < NC; c++)
        w[c] = text_width(heads[c]);
    for (size_t i = 0; i < n; i++) {
        w[0] = max_int(w[0], text_width(rows[i].p->name));
        w[1] = max_int(w[1], text_width(rows[i].p->version));
        w[2] = max_int(w[2], text_width(rows[i].p->arch));
        w[3] = max_int(w[3], text_width(rows[i].source));
        w[4] = max_int(w[4], text_width(rows[i].layer));
    }
    for (int c = 0; c < NC; c++)
        w[c] = min_int(w[c], caps[c]);

    for (int c = 0; c < NC; c++) {
        put_cell(&b, heads[c], w[c], c < NC - 1);
        if (c < NC - 1)
            buf_append_cstr(&b, "  ");
    }
    rc |= flush_line(out, &b);
    for (size_t i = 0; i < n; i++) {
        const char *cells[NC] = { rows[i].p->name, rows[i].p->version, rows[i].p->arch,
                                  rows[i].source, rows[i].layer };
        for (int c = 0; c < NC; c++) {
            put_cell(&b, cells[c], w[c], c < NC - 1);
            if (c < NC - 1)
                buf_append_cstr(&b, "  ");
        }
        rc |= flush_line(out, &b);
        free(rows[i].source);
        free(rows[i].layer);
    }
    free(rows);
    return finish(out, &b, rc);
}
