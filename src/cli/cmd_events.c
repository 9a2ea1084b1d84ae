/* SPDX-License-Identifier: Apache-2.0 */
/* vigil events: test an event pattern against an event as EventBridge's TestEventPattern does
 * (test-pattern), and measure the rule matcher over a corpus of JSON-lines events (bench). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/vec.h"
#include "base/xalloc.h"
#include "cli/cli.h"
#include "events/jscan.h"
#include "events/pattern.h"

#define PATTERN_FILE_MAX ((size_t)1 << 20)
#define EVENTS_FILE_MAX  ((size_t)4 << 30)

static const char events_usage[] =
    "usage: vigil events test-pattern (--pattern JSON | --pattern-file FILE)\n"
    "                                 (--event JSON | --event-file FILE)\n"
    "       vigil events bench --rules FILE --events FILE [--repeat N] [--per-rule]\n"
    "       vigil events dlq list|redrive ... (dead-lettered deliveries; see 'dlq --help')\n"
    "\n"
    "test-pattern prints true or false; an invalid pattern prints EventBridge's\n"
    "InvalidEventPatternException message on stderr and exits 1.\n"
    "bench loads {\"rules\": {NAME: PATTERN, ...}}, matches every line of the events file on\n"
    "one thread and prints the number of (event, rule) matches and events per second;\n"
    "--per-rule also prints each rule's count as a JSON object.\n";

/* Whole file into memory, NUL-terminated; NULL with a message on failure. */
static char *read_whole(const char *path, size_t max, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "vigil events: cannot open '%s': %s\n", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || (size_t)st.st_size > max) {
        fprintf(stderr, "vigil events: '%s' is too large\n", path);
        fclose(f);
        return NULL;
    }
    size_t n = (size_t)st.st_size;
    char *buf = xmalloc(n + 1);
    size_t got = fread(buf, 1, n, f);
    fclose(f);
    if (got != n) {
        fprintf(stderr, "vigil events: cannot read '%s'\n", path);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

static int test_pattern(int argc, char **argv)
{
    const char *pat = NULL, *pat_file = NULL, *ev = NULL, *ev_file = NULL;
    for (int i = 1; i < argc; i++) {
        const char **dst = NULL;
        if (strcmp(argv[i], "--pattern") == 0)
            dst = &pat;
        else if (strcmp(argv[i], "--pattern-file") == 0)
            dst = &pat_file;
        else if (strcmp(argv[i], "--event") == 0)
            dst = &ev;
        else if (strcmp(argv[i], "--event-file") == 0)
            dst = &ev_file;
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(events_usage, stdout);
            return 0;
        }
        if (!dst || i + 1 >= argc) {
            fputs(events_usage, stderr);
            return 2;
        }
        *dst = argv[++i];
    }
    if ((!pat == !pat_file) || (!ev == !ev_file)) {
        fputs(events_usage, stderr);
        return 2;
    }
    int rc = 1;
    char *ptext = NULL, *etext = NULL, *msg = NULL;
    size_t plen, elen;
    struct pattern *p = NULL;
    if (pat) {
        ptext = xstrdup(pat);
        plen = strlen(pat);
    } else if (!(ptext = read_whole(pat_file, PATTERN_FILE_MAX, &plen))) {
        goto out;
    }
    if (ev) {
        etext = xstrdup(ev);
        elen = strlen(ev);
    } else if (!(etext = read_whole(ev_file, EVENTS_FILE_MAX, &elen))) {
        goto out;
    }
    if (pattern_validate(ptext, plen, &msg) != 0) {
        fprintf(stderr, "%s\n", msg);
        goto out;
    }
    if (pattern_compile(ptext, plen, &p, NULL) != 0)
        goto out;
    bool matched = false;
    if (pattern_match(p, etext, elen, &matched) != 0) {
        /* EventBridge's TestEventPattern answer for an event that is not a JSON object */
        fprintf(stderr, "Parameter Event is not valid.\n");
        goto out;
    }
    printf("%s\n", matched ? "true" : "false");
    rc = 0;
out:
    pattern_free(p);
    free(msg);
    free(ptext);
    free(etext);
    return rc;
}

struct rule_span {
    char *name;
    const char *json;
    size_t len;
};

struct span_vec {
    struct rule_span *v;
    size_t n, cap;
};

/* The raw text of each pattern in {"rules": {NAME: PATTERN, ...}}: patterns are compiled from
 * their own text, never re-serialised (numbers keep their spelling). */
static int rule_spans(const char *text, size_t len, struct span_vec *out)
{
    const char *end = text + len, *p = jscan_ws(text, end);
    if (p >= end || *p != '{')
        return -1;
    p = jscan_ws(p + 1, end);
    while (p < end && *p == '"') {
        bool esc;
        const char *ke = jscan_string_end(p + 1, end, &esc);
        if (!ke)
            return -1;
        bool is_rules = (size_t)(ke - p - 1) == 5 && memcmp(p + 1, "rules", 5) == 0;
        p = jscan_ws(ke + 1, end);
        if (p >= end || *p != ':')
            return -1;
        p = jscan_ws(p + 1, end);
        if (!is_rules) {
            p = jscan_skip(p, end, 0);
        } else {
            if (p >= end || *p != '{')
                return -1;
            p = jscan_ws(p + 1, end);
            while (p < end && *p == '"') {
                const char *ne = jscan_string_end(p + 1, end, &esc);
                if (!ne)
                    return -1;
                char *name = xmalloc((size_t)(ne - p));
                long nl = jscan_unescape(p + 1, (size_t)(ne - p - 1), name);
                if (nl < 0) {
                    free(name);
                    return -1;
                }
                name[nl] = '\0';
                p = jscan_ws(ne + 1, end);
                if (p >= end || *p != ':') {
                    free(name);
                    return -1;
                }
                p = jscan_ws(p + 1, end);
                const char *ve = jscan_skip(p, end, 1);
                if (!ve) {
                    free(name);
                    return -1;
                }
                struct rule_span rs = { name, p, (size_t)(ve - p) };
                VEC_PUSH(out, rs);
                p = jscan_ws(ve, end);
                if (p < end && *p == ',')
                    p = jscan_ws(p + 1, end);
            }
            if (p >= end || *p != '}')
                return -1;
            p++;
        }
        if (!p)
            return -1;
        p = jscan_ws(p, end);
        if (p < end && *p == ',')
            p = jscan_ws(p + 1, end);
    }
    return 0;
}

struct bench_ctx {
    unsigned long long *per_rule;
};

static int count_rule(void *ctx, size_t rule)
{
    struct bench_ctx *b = ctx;
    b->per_rule[rule]++;
    return 0;
}

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now_s(void)
{
    return clock_s(CLOCK_MONOTONIC);
}

static int bench(int argc, char **argv)
{
    const char *rules_path = NULL, *events_path = NULL;
    long repeat = 1;
    bool per_rule = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--rules") == 0 && i + 1 < argc) {
            rules_path = argv[++i];
        } else if (strcmp(argv[i], "--events") == 0 && i + 1 < argc) {
            events_path = argv[++i];
        } else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc) {
            char *e;
            repeat = strtol(argv[++i], &e, 10);
            if (*e || repeat < 1 || repeat > 1000) {
                fprintf(stderr, "vigil events: --repeat takes 1..1000\n");
                return 2;
            }
        } else if (strcmp(argv[i], "--per-rule") == 0) {
            per_rule = true;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(events_usage, stdout);
            return 0;
        } else {
            fputs(events_usage, stderr);
            return 2;
        }
    }
    if (!rules_path || !events_path) {
        fputs(events_usage, stderr);
        return 2;
    }
    int rc = 1;
    size_t rlen = 0, elen = 0;
    char *rtext = NULL, *etext = NULL;
    struct span_vec spans = { NULL, 0, 0 };
    VEC(struct str) lines = VEC_INIT;
    struct pattern_set *set = pattern_set_new();
    struct pattern_scratch *scr = pattern_scratch_new();
    unsigned long long *counts = NULL;
    if (!(rtext = read_whole(rules_path, (size_t)64 << 20, &rlen)))
        goto out;
    if (rule_spans(rtext, rlen, &spans) != 0) {
        fprintf(stderr, "vigil events: '%s' is not {\"rules\": {NAME: PATTERN, ...}}\n",
                rules_path);
        goto out;
    }
    double t0 = now_s();
    for (size_t i = 0; i < spans.n; i++) {
        struct diag d = { 0 };
        if (pattern_set_add(set, spans.v[i].name, spans.v[i].json, spans.v[i].len, &d) != 0) {
            fprintf(stderr, "vigil events: rule '%s': %s\n", spans.v[i].name, d.msg);
            goto out;
        }
    }
    pattern_set_build(set);
    double t_build = now_s() - t0;
    if (!(etext = read_whole(events_path, EVENTS_FILE_MAX, &elen)))
        goto out;
    struct str cur = str_make(etext, elen), line;
    while (str_next_line(&cur, &line))
        if (line.len)
            VEC_PUSH(&lines, line);
    counts = xcalloc(pattern_set_count(set) + 1, sizeof(*counts));
    struct bench_ctx bc = { counts };
    unsigned long long total = 0, bad = 0;
    double t1 = now_s(), c1 = clock_s(CLOCK_THREAD_CPUTIME_ID), best = 0;
    for (long r = 0; r < repeat; r++) {
        double c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
        for (size_t i = 0; i < lines.n; i++) {
            int n = pattern_set_match(set, scr, lines.v[i].ptr, lines.v[i].len,
                                      per_rule ? count_rule : NULL, &bc);
            if (n < 0)
                bad++;
            else
                total += (unsigned long long)n;
        }
        double pass = clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
        if (pass > 0 && (double)lines.n / pass > best)
            best = (double)lines.n / pass;
    }
    double secs = now_s() - t1, cpu = clock_s(CLOCK_THREAD_CPUTIME_ID) - c1;
    unsigned long long nev = (unsigned long long)lines.n * (unsigned long long)repeat;
    /* events per second of the matching thread's CPU time (what one core does, whatever else
     * runs on the machine), of wall time, and of the fastest pass */
    printf("rules %zu\nevents %llu\nmatches %llu\ninvalid %llu\nbuild_seconds %.6f\n"
           "seconds %.6f\ncpu_seconds %.6f\nevents_per_second %.0f\n"
           "wall_events_per_second %.0f\nbest_pass_events_per_second %.0f\n",
           pattern_set_count(set), nev, total / (unsigned long long)repeat,
           bad / (unsigned long long)repeat, t_build, secs, cpu, cpu > 0 ? (double)nev / cpu : 0.0,
           secs > 0 ? (double)nev / secs : 0.0, best);
    if (per_rule) {
        printf("{");
        for (size_t i = 0; i < pattern_set_count(set); i++)
            printf("%s\"%s\": %llu", i ? ", " : "", pattern_set_rule_id(set, i),
                   counts[i] / (unsigned long long)repeat);
        printf("}\n");
    }
    rc = 0;
out:
    for (size_t i = 0; i < spans.n; i++)
        free(spans.v[i].name);
    VEC_FREE(&spans);
    VEC_FREE(&lines);
    free(counts);
    pattern_scratch_free(scr);
    pattern_set_free(set);
    free(rtext);
    free(etext);
    return rc;
}

int cmd_events(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(events_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "test-pattern") == 0)
        return test_pattern(argc - 1, argv + 1);
    if (strcmp(argv[1], "bench") == 0)
        return bench(argc - 1, argv + 1);
    if (strcmp(argv[1], "dlq") == 0)
        return cmd_events_dlq(argc - 1, argv + 1);
    fprintf(stderr, "vigil events: unknown subcommand '%s'\n", argv[1]);
    fputs(events_usage, stderr);
    return 2;
}
