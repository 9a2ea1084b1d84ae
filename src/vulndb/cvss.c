/* SPDX-License-Identifier: Apache-2.0 */
/* CVSS vector parsing and base scores: v2.0, v3.0, v3.1 (FIRST equations) and v4.0 (MacroVector
 * lookup plus interpolation). Table driven, no allocation: each vector is parsed into one small
 * array of value indexes on the stack, then scored. */
#include "vulndb/cvss.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* ---- metric tables -------------------------------------------------------------------------- */

#define MAX_VALUES  6
#define MAX_METRICS 32
#define ABSENT      0xff

struct metric_def {
    const char *name;
    bool required;
    const char *values[MAX_VALUES]; /* NULL-terminated when shorter */
};

struct version_def {
    enum cvss_version version;
    const char *prefix; /* "CVSS:3.1/"; NULL for v2 */
    /* v2 (guide 2.4, Table 13) and v4.0 (spec section 7, Table 23, and our brief) fix the order
     * of metrics; v3.x readers must accept any order (v3.1 spec section 6). */
    bool ordered;
    size_t count;
    const struct metric_def *metrics;
};

/* v2: values listed so that the index maps to the weight arrays below. */
enum { V2_AV, V2_AC, V2_AU, V2_C, V2_I, V2_A, V2_COUNT_BASE };
static const struct metric_def v2_metrics[] = {
    { "AV", true, { "L", "A", "N" } },
    { "AC", true, { "H", "M", "L" } },
    { "Au", true, { "M", "S", "N" } },
    { "C", true, { "N", "P", "C" } },
    { "I", true, { "N", "P", "C" } },
    { "A", true, { "N", "P", "C" } },
    { "E", false, { "U", "POC", "F", "H", "ND" } },
    { "RL", false, { "OF", "TF", "W", "U", "ND" } },
    { "RC", false, { "UC", "UR", "C", "ND" } },
    { "CDP", false, { "N", "L", "LM", "MH", "H", "ND" } },
    { "TD", false, { "N", "L", "M", "H", "ND" } },
    { "CR", false, { "L", "M", "H", "ND" } },
    { "IR", false, { "L", "M", "H", "ND" } },
    { "AR", false, { "L", "M", "H", "ND" } },
};

enum { V3_AV, V3_AC, V3_PR, V3_UI, V3_S, V3_C, V3_I, V3_A };
static const struct metric_def v3_metrics[] = {
    { "AV", true, { "N", "A", "L", "P" } },
    { "AC", true, { "L", "H" } },
    { "PR", true, { "N", "L", "H" } },
    { "UI", true, { "N", "R" } },
    { "S", true, { "U", "C" } },
    { "C", true, { "H", "L", "N" } },
    { "I", true, { "H", "L", "N" } },
    { "A", true, { "H", "L", "N" } },
    { "E", false, { "X", "H", "F", "P", "U" } },
    { "RL", false, { "X", "U", "W", "T", "O" } },
    { "RC", false, { "X", "C", "R", "U" } },
    { "CR", false, { "X", "H", "M", "L" } },
    { "IR", false, { "X", "H", "M", "L" } },
    { "AR", false, { "X", "H", "M", "L" } },
    { "MAV", false, { "X", "N", "A", "L", "P" } },
    { "MAC", false, { "X", "L", "H" } },
    { "MPR", false, { "X", "N", "L", "H" } },
    { "MUI", false, { "X", "N", "R" } },
    { "MS", false, { "X", "U", "C" } },
    { "MC", false, { "X", "H", "L", "N" } },
    { "MI", false, { "X", "H", "L", "N" } },
    { "MA", false, { "X", "H", "L", "N" } },
};

/* v4.0 in the order of the specification's Table 23: base, threat, environmental, supplemental.
 * Every value is one letter except U (Provider Urgency), which has no bearing on the score. */
enum {
    V4_AV,
    V4_AC,
    V4_AT,
    V4_PR,
    V4_UI,
    V4_VC,
    V4_VI,
    V4_VA,
    V4_SC,
    V4_SI,
    V4_SA,
    V4_E,
    V4_CR,
    V4_IR,
    V4_AR,
    V4_MAV,
    V4_MAC,
    V4_MAT,
    V4_MPR,
    V4_MUI,
    V4_MVC,
    V4_MVI,
    V4_MVA,
    V4_MSC,
    V4_MSI,
    V4_MSA,
};
static const struct metric_def v4_metrics[] = {
    { "AV", true, { "N", "A", "L", "P" } },
    { "AC", true, { "L", "H" } },
    { "AT", true, { "N", "P" } },
    { "PR", true, { "N", "L", "H" } },
    { "UI", true, { "N", "P", "A" } },
    { "VC", true, { "H", "L", "N" } },
    { "VI", true, { "H", "L", "N" } },
    { "VA", true, { "H", "L", "N" } },
    { "SC", true, { "H", "L", "N" } },
    { "SI", true, { "H", "L", "N" } },
    { "SA", true, { "H", "L", "N" } },
    { "E", false, { "X", "A", "P", "U" } },
    { "CR", false, { "X", "H", "M", "L" } },
    { "IR", false, { "X", "H", "M", "L" } },
    { "AR", false, { "X", "H", "M", "L" } },
    { "MAV", false, { "X", "N", "A", "L", "P" } },
    { "MAC", false, { "X", "L", "H" } },
    { "MAT", false, { "X", "N", "P" } },
    { "MPR", false, { "X", "N", "L", "H" } },
    { "MUI", false, { "X", "N", "P", "A" } },
    { "MVC", false, { "X", "H", "L", "N" } },
    { "MVI", false, { "X", "H", "L", "N" } },
    { "MVA", false, { "X", "H", "L", "N" } },
    { "MSC", false, { "X", "H", "L", "N" } },
    { "MSI", false, { "X", "S", "H", "L", "N" } },
    { "MSA", false, { "X", "S", "H", "L", "N" } },
    { "S", false, { "X", "N", "P" } },
    { "AU", false, { "X", "N", "Y" } },
    { "R", false, { "X", "A", "U", "I" } },
    { "V", false, { "X", "D", "C" } },
    { "RE", false, { "X", "L", "M", "H" } },
    { "U", false, { "X", "Clear", "Green", "Amber", "Red" } },
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static const struct version_def v2_def = { CVSS_V2, NULL, true, N_OF(v2_metrics), v2_metrics };
static const struct version_def v30_def = { CVSS_V30, "CVSS:3.0/", false, N_OF(v3_metrics),
                                            v3_metrics };
static const struct version_def v31_def = { CVSS_V31, "CVSS:3.1/", false, N_OF(v3_metrics),
                                            v3_metrics };
static const struct version_def v40_def = { CVSS_V40, "CVSS:4.0/", true, N_OF(v4_metrics),
                                            v4_metrics };

_Static_assert(N_OF(v4_metrics) <= MAX_METRICS, "v4 metric table too large");
_Static_assert(N_OF(v3_metrics) <= MAX_METRICS, "v3 metric table too large");

/* ---- parsing -------------------------------------------------------------------------------- */

/* Quote at most 24 bytes of untrusted text into buf for a message, replacing control and
 * non-ASCII bytes so the diagnostic stays one printable line. */
static const char *quote(char *buf, size_t cap, struct str s)
{
    size_t n = 0, max = cap - 4;
    if (max > 24)
        max = 24;
    for (size_t i = 0; i < s.len && n < max; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        buf[n++] = (char)((c >= 0x20 && c < 0x7f) ? c : '?');
    }
    if (s.len > max) {
        buf[n++] = '.';
        buf[n++] = '.';
        buf[n++] = '.';
    }
    buf[n] = '\0';
    return buf;
}

static int find_metric(const struct version_def *vd, struct str name)
{
    for (size_t i = 0; i < vd->count; i++) {
        const char *m = vd->metrics[i].name;
        if (strlen(m) == name.len && memcmp(m, name.ptr, name.len) == 0)
            return (int)i;
    }
    return -1;
}

static int find_value(const struct metric_def *md, struct str value)
{
    for (int i = 0; i < MAX_VALUES && md->values[i]; i++) {
        const char *v = md->values[i];
        if (strlen(v) == value.len && memcmp(v, value.ptr, value.len) == 0)
            return i;
    }
    return -1;
}

/* Parse "M:V/M:V/..." (body starts at byte `off` of the caller's vector) into vals[], one value
 * index per metric of vd or ABSENT. */
static int parse_metrics(const struct version_def *vd, struct str body, size_t off, uint8_t *vals,
                         struct diag *d)
{
    char q1[32], q2[32];
    int last = -1;

    memset(vals, ABSENT, MAX_METRICS);
    if (body.len == 0)
        return diag_set(d, -ERR_INVALID, off, "empty CVSS vector at offset %zu", off);

    size_t pos = 0;
    for (;;) {
        size_t start = pos;
        while (pos < body.len && body.ptr[pos] != '/')
            pos++;
        struct str tok = str_make(body.ptr + start, pos - start);
        size_t at = off + start;
        if (tok.len == 0)
            return diag_set(d, -ERR_INVALID, at, "empty metric at offset %zu", at);

        const char *colon = memchr(tok.ptr, ':', tok.len);
        if (!colon)
            return diag_set(d, -ERR_INVALID, at, "expected 'METRIC:VALUE', got '%s' at offset %zu",
                            quote(q1, sizeof(q1), tok), at);
        struct str name = str_make(tok.ptr, (size_t)(colon - tok.ptr));
        struct str value = str_make(colon + 1, tok.len - name.len - 1);

        int mi = find_metric(vd, name);
        if (mi < 0)
            return diag_set(d, -ERR_INVALID, at, "unknown metric '%s' at offset %zu",
                            quote(q1, sizeof(q1), name), at);
        const struct metric_def *md = &vd->metrics[mi];
        if (vals[mi] != ABSENT)
            return diag_set(d, -ERR_INVALID, at, "duplicate metric '%s' at offset %zu", md->name,
                            at);
        if (vd->ordered && mi < last)
            return diag_set(d, -ERR_INVALID, at,
                            "metric '%s' out of order (after '%s') at offset %zu", md->name,
                            vd->metrics[last].name, at);
        int vi = find_value(md, value);
        if (vi < 0)
            return diag_set(d, -ERR_INVALID, at + name.len + 1,
                            "unknown value '%s' for metric '%s' at offset %zu",
                            quote(q2, sizeof(q2), value), md->name, at + name.len + 1);
        vals[mi] = (uint8_t)vi;
        last = mi;

        if (pos == body.len)
            break;
        pos++; /* past '/'; a trailing '/' yields an empty metric next round */
    }

    for (size_t i = 0; i < vd->count; i++)
        if (vd->metrics[i].required && vals[i] == ABSENT)
            return diag_set(d, -ERR_INVALID, off + body.len, "missing metric '%s'",
                            vd->metrics[i].name);
    return 0;
}

/* ---- v2.0 ----------------------------------------------------------------------------------- */

/* Weights of the v2 guide, section 3.2.1, in the value order of v2_metrics. */
static const double v2_av[] = { 0.395, 0.646, 1.0 };
static const double v2_ac[] = { 0.35, 0.61, 0.71 };
static const double v2_au[] = { 0.45, 0.56, 0.704 };
static const double v2_cia[] = { 0.0, 0.275, 0.660 };

/* Round half up to one decimal (round_to_1_decimal of the guide), without the x + 0.5 trap. */
static double round1(double x)
{
    double t = x * 10.0, r = floor(t);
    if (t - r >= 0.5)
        r += 1.0;
    return r / 10.0;
}

static double score_v2(const uint8_t *v)
{
    double impact =
        10.41 * (1.0 - (1.0 - v2_cia[v[V2_C]]) * (1.0 - v2_cia[v[V2_I]]) * (1.0 - v2_cia[v[V2_A]]));
    double expl = 20.0 * v2_av[v[V2_AV]] * v2_ac[v[V2_AC]] * v2_au[v[V2_AU]];
    double f = impact == 0.0 ? 0.0 : 1.176;
    return round1(((0.6 * impact) + (0.4 * expl) - 1.5) * f);
}

/* ---- v3.0 / v3.1 ---------------------------------------------------------------------------- */

static const double v3_av[] = { 0.85, 0.62, 0.55, 0.2 };
static const double v3_ac[] = { 0.77, 0.44 };
static const double v3_pr_u[] = { 0.85, 0.62, 0.27 };
static const double v3_pr_c[] = { 0.85, 0.68, 0.5 };
static const double v3_ui[] = { 0.85, 0.62 };
static const double v3_cia[] = { 0.56, 0.22, 0.0 };

/* v3.0 Roundup: the smallest one-decimal number >= x (spec 3.0, section 8.1 / Appendix). */
static double roundup30(double x)
{
    return ceil(x * 10.0) / 10.0;
}

/* v3.1 Roundup (spec 3.1 Appendix A): first round to 5 decimals as an integer so that floating
 * noise such as 4.000000000000001 does not round up to 4.1. */
static double roundup31(double x)
{
    long long i = llround(x * 100000.0);
    if (i % 10000 == 0)
        return (double)i / 100000.0;
    return (floor((double)i / 10000.0) + 1.0) / 10.0;
}

static double score_v3(const uint8_t *v, enum cvss_version ver)
{
    bool changed = v[V3_S] == 1;
    double iss =
        1.0 - ((1.0 - v3_cia[v[V3_C]]) * (1.0 - v3_cia[v[V3_I]]) * (1.0 - v3_cia[v[V3_A]]));
    double impact = changed ? 7.52 * (iss - 0.029) - 3.25 * pow(iss - 0.02, 15) : 6.42 * iss;
    double pr = changed ? v3_pr_c[v[V3_PR]] : v3_pr_u[v[V3_PR]];
    double expl = 8.22 * v3_av[v[V3_AV]] * v3_ac[v[V3_AC]] * pr * v3_ui[v[V3_UI]];
    if (impact <= 0.0)
        return 0.0;
    double raw = changed ? fmin(1.08 * (impact + expl), 10.0) : fmin(impact + expl, 10.0);
    return ver == CVSS_V30 ? roundup30(raw) : roundup31(raw);
}

/* ---- v4.0 ----------------------------------------------------------------------------------- */

/* MacroVector scores (CVSS v4.0 specification, section 8, and FIRST's reference lookup data),
 * tenths of a point, indexed by EQ1..EQ6; 0 marks combinations that do not exist (eq3 = 2 with
 * eq6 = 0 cannot occur). */
#define MV_INDEX(e1, e2, e3, e4, e5, e6) \
    ((((((e1)*2 + (e2)) * 3 + (e3)) * 3 + (e4)) * 3 + (e5)) * 2 + (e6))
#define MV(e1, e2, e3, e4, e5, e6, s) [MV_INDEX(e1, e2, e3, e4, e5, e6)] = (s)
static const uint8_t mv_score10[3 * 2 * 3 * 3 * 3 * 2] = {
#include "vulndb/cvss4_table.inc"
};

static bool mv_lookup(int e1, int e2, int e3, int e4, int e5, int e6, double *out)
{
    if (e1 > 2 || e2 > 1 || e3 > 2 || e4 > 2 || e5 > 2 || e6 > 1)
        return false;
    uint8_t s = mv_score10[MV_INDEX(e1, e2, e3, e4, e5, e6)];
    if (s == 0)
        return false;
    *out = s / 10.0;
    return true;
}

/* Effective value letter of a metric: the modified (environmental) value when one is given and
 * is not X, else the base value. Threat and requirement metrics default to their worst case. */
static char v4_letter(const uint8_t *v, int m)
{
    return v4_metrics[m].values[v[m]][0];
}

static char v4_eff(const uint8_t *v, int base, int modified)
{
    if (modified >= 0 && v[modified] != ABSENT && v[modified] != 0)
        return v4_letter(v, modified);
    return v4_letter(v, base);
}

static char v4_opt(const uint8_t *v, int m, char dflt)
{
    if (v[m] == ABSENT || v[m] == 0)
        return dflt;
    return v4_letter(v, m);
}

/* Severity levels of the reference algorithm ("distance" from the most severe value). The
 * decimal constants are kept as written there so that sums round the same way. */
static const double level_of[] = { 0.0, 0.1, 0.2, 0.3 };

static int lvl_index(char metric_kind, char c)
{
    switch (metric_kind) {
    case 'v': /* AV */
        return c == 'N' ? 0 : c == 'A' ? 1 : c == 'L' ? 2 : 3;
    case 'p': /* PR */
        return c == 'N' ? 0 : c == 'L' ? 1 : 2;
    case 'u': /* UI */
        return c == 'N' ? 0 : c == 'P' ? 1 : 2;
    case 'c': /* AC */
        return c == 'L' ? 0 : 1;
    case 't': /* AT */
        return c == 'N' ? 0 : 1;
    case 'i': /* VC VI VA */
        return c == 'H' ? 0 : c == 'L' ? 1 : 2;
    case 's': /* SC SI SA (S only for SI and SA) */
        return c == 'S' ? 0 : c == 'H' ? 1 : c == 'L' ? 2 : 3;
    case 'r': /* CR IR AR */
        return c == 'H' ? 0 : c == 'M' ? 1 : 2;
    default:
        return 0;
    }
}

/* Highest-severity vectors of each equivalence class, as letters of the class's metrics in the
 * order given by the `kinds` strings below (reference data of the v4.0 specification). */
static const char *const eq1_max[3][3] = { { "NNN" }, { "ANN", "NLN", "NNP" }, { "PNN", "ALP" } };
static const char *const eq2_max[2][2] = { { "LN" }, { "HN", "LP" } };
static const char *const eq36_max[3][2][5] = {
    { { "HHHHHH" }, { "HHLMMH", "HHHMMM" } },
    { { "LHHHHH", "HLHHHH" }, { "LHLHMH", "LHHHMM", "HLHMHM", "HLLMHH", "LLHHHM" } },
    { { NULL }, { "LLLHHH" } },
};
static const char *const eq4_max[3][1] = { { "HSS" }, { "HHH" }, { "LLL" } };

/* Depth of each MacroVector (maximal severity distance + 1), in steps of 0.1. */
static const int eq1_depth[] = { 1, 4, 5 };
static const int eq2_depth[] = { 1, 2 };
static const int eq36_depth[3][2] = { { 7, 6 }, { 8, 8 }, { 0, 10 } };
static const int eq4_depth[] = { 6, 5, 4 };

/* Among `maxes`, the index of the first whose every metric is at least as severe as cur, or -1.
 * dist[] receives the per-metric distances for that candidate (or for the last one tried). */
static int pick_max(const char *const *maxes, size_t nmax, const char *kinds, const char *cur,
                    double *dist)
{
    for (size_t k = 0; k < nmax && maxes[k]; k++) {
        bool ok = true;
        for (size_t j = 0; kinds[j]; j++) {
            dist[j] =
                level_of[lvl_index(kinds[j], cur[j])] - level_of[lvl_index(kinds[j], maxes[k][j])];
            if (dist[j] < 0)
                ok = false;
        }
        if (ok)
            return (int)k;
    }
    return -1;
}

static int count_max(const char *const *maxes, size_t nmax)
{
    int n = 0;
    while ((size_t)n < nmax && maxes[n])
        n++;
    return n;
}

static void distances_for(const char *max, const char *kinds, const char *cur, double *dist)
{
    for (size_t j = 0; kinds[j]; j++)
        dist[j] = level_of[lvl_index(kinds[j], cur[j])] - level_of[lvl_index(kinds[j], max[j])];
}

static double score_v4(const uint8_t *v)
{
    char av = v4_eff(v, V4_AV, V4_MAV), ac = v4_eff(v, V4_AC, V4_MAC);
    char at = v4_eff(v, V4_AT, V4_MAT), pr = v4_eff(v, V4_PR, V4_MPR);
    char ui = v4_eff(v, V4_UI, V4_MUI);
    char vc = v4_eff(v, V4_VC, V4_MVC), vi = v4_eff(v, V4_VI, V4_MVI);
    char va = v4_eff(v, V4_VA, V4_MVA), sc = v4_eff(v, V4_SC, V4_MSC);
    char si = v4_eff(v, V4_SI, V4_MSI), sa = v4_eff(v, V4_SA, V4_MSA);
    char e = v4_opt(v, V4_E, 'A');
    char cr = v4_opt(v, V4_CR, 'H'), ir = v4_opt(v, V4_IR, 'H'), ar = v4_opt(v, V4_AR, 'H');

    if (vc == 'N' && vi == 'N' && va == 'N' && sc == 'N' && si == 'N' && sa == 'N')
        return 0.0;

    /* Equivalence classes (spec section 8.2, Table 24). */
    int eq1 = (av == 'N' && pr == 'N' && ui == 'N')                  ? 0
              : ((av == 'N' || pr == 'N' || ui == 'N') && av != 'P') ? 1
                                                                     : 2;
    int eq2 = (ac == 'L' && at == 'N') ? 0 : 1;
    int eq3 = (vc == 'H' && vi == 'H') ? 0 : (vc == 'H' || vi == 'H' || va == 'H') ? 1 : 2;
    int eq4 = (si == 'S' || sa == 'S') ? 0 : (sc == 'H' || si == 'H' || sa == 'H') ? 1 : 2;
    int eq5 = e == 'A' ? 0 : e == 'P' ? 1 : 2;
    int eq6 =
        ((cr == 'H' && vc == 'H') || (ir == 'H' && vi == 'H') || (ar == 'H' && va == 'H')) ? 0 : 1;

    double value;
    if (!mv_lookup(eq1, eq2, eq3, eq4, eq5, eq6, &value))
        return 0.0; /* cannot happen: every reachable MacroVector is in the table */

    /* Score of the next lower MacroVector along each class (absent at the bottom). */
    double lo1, lo2, lo36, lo4, lo5;
    bool has1 = mv_lookup(eq1 + 1, eq2, eq3, eq4, eq5, eq6, &lo1);
    bool has2 = mv_lookup(eq1, eq2 + 1, eq3, eq4, eq5, eq6, &lo2);
    bool has36;
    if (eq3 == 0 && eq6 == 0) {
        /* two ways down (01 and 10): take the higher-scoring one */
        double left, right;
        bool hl = mv_lookup(eq1, eq2, eq3, eq4, eq5, eq6 + 1, &left);
        bool hr = mv_lookup(eq1, eq2, eq3 + 1, eq4, eq5, eq6, &right);
        has36 = hl || hr;
        lo36 = (hl && (!hr || left > right)) ? left : right;
    } else if (eq3 == 1 && eq6 == 0) {
        has36 = mv_lookup(eq1, eq2, eq3, eq4, eq5, eq6 + 1, &lo36);
    } else if (eq3 == 2) {
        has36 = false; /* 21 -> 32 does not exist */
        lo36 = 0;
    } else {
        has36 = mv_lookup(eq1, eq2, eq3 + 1, eq4, eq5, eq6, &lo36);
    }
    bool has4 = mv_lookup(eq1, eq2, eq3, eq4 + 1, eq5, eq6, &lo4);
    bool has5 = mv_lookup(eq1, eq2, eq3, eq4, eq5 + 1, eq6, &lo5);

    /* Severity distance from the first highest-severity vector of the MacroVector that is at
     * least as severe as this one, metric by metric. */
    const char cur1[] = { av, pr, ui, 0 }, cur2[] = { ac, at, 0 };
    const char cur36[] = { vc, vi, va, cr, ir, ar, 0 }, cur4[] = { sc, si, sa, 0 };
    double d1[3], d2[2], d36[6], d4[3];
    const char *const *m1 = eq1_max[eq1], *const *m2 = eq2_max[eq2];
    const char *const *m36 = eq36_max[eq3][eq6], *const *m4 = eq4_max[eq4];
    int n1 = count_max(m1, 3), n2 = count_max(m2, 2), n36 = count_max(m36, 5),
        n4 = count_max(m4, 1);
    int k1 = pick_max(m1, 3, "vpu", cur1, d1), k2 = pick_max(m2, 2, "ct", cur2, d2);
    int k36 = pick_max(m36, 5, "iiirrr", cur36, d36), k4 = pick_max(m4, 1, "sss", cur4, d4);
    if (k1 < 0 || k2 < 0 || k36 < 0 || k4 < 0) {
        /* The reference walks every combination of candidates and, when none fits, keeps the
         * distances of the last combination tried: the last candidate of every class. Kept for
         * fidelity only: enumerating every value combination of each class's metrics shows a
         * fitting candidate always exists. */
        distances_for(m1[n1 - 1], "vpu", cur1, d1);
        distances_for(m2[n2 - 1], "ct", cur2, d2);
        distances_for(m36[n36 - 1], "iiirrr", cur36, d36);
        distances_for(m4[n4 - 1], "sss", cur4, d4);
    }
    double dist1 = d1[0] + d1[1] + d1[2];
    double dist2 = d2[0] + d2[1];
    double dist36 = d36[0] + d36[1] + d36[2] + d36[3] + d36[4] + d36[5];
    double dist4 = d4[0] + d4[1] + d4[2];

    const double step = 0.1;
    int n = 0;
    double sum = 0.0;
    if (has1) {
        n++;
        sum += (value - lo1) * (dist1 / (eq1_depth[eq1] * step));
    }
    if (has2) {
        n++;
        sum += (value - lo2) * (dist2 / (eq2_depth[eq2] * step));
    }
    if (has36) {
        n++;
        sum += (value - lo36) * (dist36 / (eq36_depth[eq3][eq6] * step));
    }
    if (has4) {
        n++;
        sum += (value - lo4) * (dist4 / (eq4_depth[eq4] * step));
    }
    if (has5)
        n++; /* EQ5 has a single level per MacroVector: its proportion is always 0 */
    (void)lo5;

    if (n > 0)
        value -= sum / n;
    if (value < 0.0)
        value = 0.0;
    if (value > 10.0)
        value = 10.0;
    /* The reference calculators add 1e-6 before rounding half up so that values such as
     * 4.449999999 (meant as 4.45) round like their decimal intent. */
    return round1(value + 1e-6);
}

/* ---- entry points --------------------------------------------------------------------------- */

static const struct version_def *def_for(enum cvss_version v)
{
    switch (v) {
    case CVSS_V2:
        return &v2_def;
    case CVSS_V30:
        return &v30_def;
    case CVSS_V31:
        return &v31_def;
    case CVSS_V40:
        return &v40_def;
    }
    return NULL;
}

static double score_of(const struct version_def *vd, const uint8_t *vals)
{
    switch (vd->version) {
    case CVSS_V2:
        return score_v2(vals);
    case CVSS_V30:
    case CVSS_V31:
        return score_v3(vals, vd->version);
    case CVSS_V40:
        return score_v4(vals);
    }
    return 0.0;
}

/* Parse `s` as a vector of version vd; `imposed` says the caller named the version, in which case
 * a missing "CVSS:x.y/" prefix is tolerated. */
static int parse_version(const struct version_def *vd, struct str s, bool imposed,
                         struct cvss_result *out, struct diag *d)
{
    uint8_t vals[MAX_METRICS];
    size_t off = 0;
    struct str body = s;

    if (vd->version == CVSS_V2) {
        if (body.len >= 2 && body.ptr[0] == '(' && body.ptr[body.len - 1] == ')') {
            off = 1;
            body = str_make(s.ptr + 1, s.len - 2);
        } else if (str_has_prefix(body, "CVSS:2.0/")) {
            off = 9;
            body = str_make(s.ptr + 9, s.len - 9);
        }
    } else if (str_has_prefix(body, vd->prefix)) {
        off = strlen(vd->prefix);
        body = str_make(s.ptr + off, s.len - off);
    } else if (!imposed || str_has_prefix(body, "CVSS:")) {
        char q[32];
        long slash = str_chr(s, '/');
        struct str pfx = str_make(s.ptr, slash < 0 ? s.len : (size_t)slash);
        return diag_set(d, -ERR_INVALID, 0, "expected prefix '%s', got '%s' at offset 0",
                        vd->prefix, quote(q, sizeof(q), pfx));
    }

    int rc = parse_metrics(vd, body, off, vals, d);
    if (rc < 0)
        return rc;
    if (out) {
        out->version = vd->version;
        out->base_score = score_of(vd, vals);
    }
    return 0;
}

int cvss_parse(struct str vector, struct cvss_result *out, struct diag *d)
{
    if (!vector.ptr && vector.len)
        return diag_set(d, -ERR_INVALID, 0, "null CVSS vector");
    if (!str_has_prefix(vector, "CVSS:"))
        return parse_version(&v2_def, vector, false, out, d);

    const struct version_def *vd = NULL;
    if (str_has_prefix(vector, "CVSS:2.0/"))
        vd = &v2_def;
    else if (str_has_prefix(vector, "CVSS:3.0/"))
        vd = &v30_def;
    else if (str_has_prefix(vector, "CVSS:3.1/"))
        vd = &v31_def;
    else if (str_has_prefix(vector, "CVSS:4.0/"))
        vd = &v40_def;
    if (!vd) {
        char q[32];
        long slash = str_chr(vector, '/');
        struct str pfx = str_make(vector.ptr, slash < 0 ? vector.len : (size_t)slash);
        return diag_set(d, -ERR_INVALID, 0, "unsupported CVSS version '%s' at offset 0",
                        quote(q, sizeof(q), pfx));
    }
    return parse_version(vd, vector, false, out, d);
}

int cvss_parse_as(struct str vector, enum cvss_version v, struct cvss_result *out, struct diag *d)
{
    const struct version_def *vd = def_for(v);
    if (!vd)
        return diag_set(d, -ERR_INVALID, 0, "unsupported CVSS version %d", (int)v);
    if (!vector.ptr && vector.len)
        return diag_set(d, -ERR_INVALID, 0, "null CVSS vector");
    return parse_version(vd, vector, true, out, d);
}

const char *cvss_severity(enum cvss_version v, double score)
{
    if (!(score >= 0.0 && score <= 10.0)) /* also catches NaN */
        return "UNDEFINED";
    long tenths = lround(score * 10.0);
    switch (v) {
    case CVSS_V2:
        return tenths < 40 ? "LOW" : tenths < 70 ? "MEDIUM" : "HIGH";
    case CVSS_V30:
    case CVSS_V31:
    case CVSS_V40:
        if (tenths == 0)
            return "INFORMATIONAL";
        return tenths < 40 ? "LOW" : tenths < 70 ? "MEDIUM" : tenths < 90 ? "HIGH" : "CRITICAL";
    }
    return "UNDEFINED";
}
