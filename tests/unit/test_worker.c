/* SPDX-License-Identifier: Apache-2.0 */
/* The delivery worker against real receivers: the SMTP sink (../shared/tools/smtp-sink, a
 * real aiosmtpd server writing a Maildir) and a small HTTP server in a thread that answers as
 * scripted. Mail content (Japanese text included), SMTP down then back, HTTP 500 retried per
 * policy into the dead letters and redriven, and a restart that resumes what was in flight.
 * Every wait is bounded; retry delays are scaled down, never asserted. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/b64.h"
#include "base/buf.h"
#include "base/vec.h"
#include "base/xalloc.h"
#include "deliver/mime.h"
#include "deliver/sns.h"
#include "deliver/sns_msg.h"
#include "deliver/worker.h"
#include "events/bus.h"
#include "store/meta.h"
#include "test.h"

#define REGION  "us-east-1"
#define ACCOUNT "123456789012"
#define WAIT_MS 30000

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A port nobody listens on (bound, then closed). */
static int free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    ASSERT_EQ(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
    socklen_t l = sizeof(a);
    ASSERT_EQ(getsockname(s, (struct sockaddr *)&a, &l), 0);
    close(s);
    return ntohs(a.sin_port);
}

/* ---- the SMTP sink ------------------------------------------------------------------------ */

/* Sinks still running when the runner exits (a failed test skips its cleanup). */
static pid_t sink_pids[16];
static size_t n_sink_pids;

static void kill_sinks(void)
{
    for (size_t i = 0; i < n_sink_pids; i++) {
        if (sink_pids[i] > 0) {
            kill(sink_pids[i], SIGTERM);
            waitpid(sink_pids[i], NULL, 0);
            sink_pids[i] = 0;
        }
    }
}

static const char *sink_path(void)
{
    const char *p = getenv("VIGIL_SMTP_SINK");
    return p && *p ? p : "../shared/tools/smtp-sink";
}

/* Start `smtp-sink serve --dir dir --port port` and wait until it listens. */
static pid_t sink_start(const char *dir, int port)
{
    static bool registered;
    if (!registered) {
        atexit(kill_sinks);
        registered = true;
    }
    struct stat st;
    if (stat(sink_path(), &st) != 0)
        test_fail(__FILE__, __LINE__, "smtp-sink not found at %s (set VIGIL_SMTP_SINK)",
                  sink_path());
    char portbuf[16];
    snprintf(portbuf, sizeof(portbuf), "%d", port);
    char a_py[] = "/usr/bin/python3", a_serve[] = "serve", a_dir[] = "--dir", a_port[] = "--port",
         a_quiet[] = "--quiet";
    char *a_sink = xstrdup(sink_path()), *a_dirv = xstrdup(dir);
    char *argv[] = { a_py, a_sink, a_serve, a_dir, a_dirv, a_port, portbuf, a_quiet, NULL };
    char *portfile = xasprintf("%s/port", dir);
    unlink(portfile);
    pid_t pid;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    ASSERT_EQ(posix_spawn(&pid, "/usr/bin/python3", &fa, NULL, argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    free(a_sink);
    free(a_dirv);
    if (n_sink_pids < ARRAY_SIZE(sink_pids))
        sink_pids[n_sink_pids++] = pid;
    int64_t until = mono_ms() + WAIT_MS;
    while (stat(portfile, &st) != 0) {
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid)
            test_fail(__FILE__, __LINE__, "smtp-sink exited at start (status %d)", status);
        if (mono_ms() > until)
            test_fail(__FILE__, __LINE__, "smtp-sink did not start");
        sleep_ms(20);
    }
    free(portfile);
    return pid;
}

static void sink_stop(pid_t pid)
{
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    for (size_t i = 0; i < n_sink_pids; i++)
        if (sink_pids[i] == pid)
            sink_pids[i] = 0;
}

/* One stored mail: headers unfolded and decoded, body decoded. */
struct mail {
    char *subject, *from, *event_id, *list_unsub;
    char *body;
};

static void mail_release(struct mail *m)
{
    free(m->subject);
    free(m->from);
    free(m->event_id);
    free(m->list_unsub);
    free(m->body);
}

static char *decode_header(struct str value)
{
    struct buf out;
    buf_init(&out, 1 << 16);
    ASSERT_EQ(mime_header_decode(value, &out), 0);
    return buf_detach(&out, NULL);
}

static void parse_mail(const char *text, size_t len, struct mail *m)
{
    memset(m, 0, sizeof(*m));
    const char *end = strstr(text, "\r\n\r\n");
    size_t sep = 4;
    if (!end) {
        end = strstr(text, "\n\n");
        sep = 2;
    }
    ASSERT_TRUE(end != NULL);
    /* headers: a line starting with blank continues the previous one */
    struct str head = str_make(text, (size_t)(end - text) + 2);
    struct str line;
    struct buf cur;
    buf_init(&cur, 1 << 16);
    bool more = true;
    while (more) {
        more = str_next_line(&head, &line);
        if (more && line.len && (line.ptr[0] == ' ' || line.ptr[0] == '\t')) {
            buf_append_str(&cur, line);
            continue;
        }
        if (cur.len) {
            const char *h = buf_cstr(&cur);
            const char *colon = strchr(h, ':');
            if (colon) {
                struct str name = str_make(h, (size_t)(colon - h));
                struct str value = str_make(colon + 1, cur.len - (size_t)(colon + 1 - h));
                if (str_eq_cstr(name, "Subject"))
                    m->subject = decode_header(value);
                else if (str_eq_cstr(name, "From"))
                    m->from = decode_header(value);
                else if (str_eq_cstr(name, "X-Vigil-Event-Id"))
                    m->event_id = str_dup(str_trim(value));
                else if (str_eq_cstr(name, "List-Unsubscribe"))
                    m->list_unsub = str_dup(str_trim(value));
            }
        }
        buf_reset(&cur);
        if (more)
            buf_append_str(&cur, line);
    }
    buf_release(&cur);
    /* body: base64 lines */
    struct buf b64, body;
    buf_init(&b64, len + 1);
    for (const char *p = end + sep; p < text + len; p++)
        if (*p != '\r' && *p != '\n')
            buf_putc(&b64, *p);
    buf_init(&body, len + 1);
    ASSERT_EQ(b64_decode(buf_str(&b64), B64_STD, &body), 0);
    buf_release(&b64);
    m->body = buf_detach(&body, NULL);
}

static char *read_all(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    ASSERT_TRUE(f != NULL);
    struct buf b;
    buf_init(&b, 1 << 24);
    char tmp[4096];
    size_t got;
    while ((got = fread(tmp, 1, sizeof(tmp), f)) > 0)
        buf_append(&b, tmp, got);
    fclose(f);
    return buf_detach(&b, n);
}

/* The mails in dir/new, sorted by file name (arrival order). */
static size_t read_mails(const char *dir, struct mail *out, size_t cap)
{
    char *newdir = xasprintf("%s/new", dir);
    struct dirent **names = NULL;
    int n = scandir(newdir, &names, NULL, alphasort);
    size_t k = 0;
    for (int i = 0; i < n; i++) {
        if (names[i]->d_name[0] != '.' && k < cap) {
            char *path = xasprintf("%s/%s", newdir, names[i]->d_name);
            size_t len;
            char *text = read_all(path, &len);
            parse_mail(text, len, &out[k++]);
            free(text);
            free(path);
        }
        free(names[i]);
    }
    free(names);
    free(newdir);
    return k;
}

static size_t count_mails(const char *dir)
{
    char *newdir = xasprintf("%s/new", dir);
    DIR *d = opendir(newdir);
    size_t n = 0;
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL)
            n += e->d_name[0] != '.';
        closedir(d);
    }
    free(newdir);
    return n;
}

static void wait_mails(const char *dir, size_t n)
{
    int64_t until = mono_ms() + WAIT_MS;
    while (count_mails(dir) < n) {
        if (mono_ms() > until)
            test_fail(__FILE__, __LINE__, "only %zu of %zu mails arrived", count_mails(dir), n);
        sleep_ms(20);
    }
}

/* ---- a scripted HTTP server --------------------------------------------------------------- */

struct hreq {
    char *head; /* request line and headers */
    char *body;
};

struct hsrv {
    int fd, port;
    pthread_t th;
    atomic_bool stop;
    pthread_mutex_t lock;
    int script[32]; /* statuses for the next requests; 0 = never answer */
    size_t n_script, next;
    int dflt;
    VEC(struct hreq) reqs;
    VEC(int) hung;
};

/* Read one request (head and Content-Length body) from fd: 0, or -1. */
static int read_request(int fd, struct hreq *r)
{
    struct buf b;
    buf_init(&b, 1 << 22);
    char tmp[8192];
    const char *hend = NULL;
    size_t want = 0;
    for (;;) {
        if (hend && b.len >= want)
            break;
        struct pollfd p = { fd, POLLIN, 0 };
        if (poll(&p, 1, 5000) <= 0)
            goto fail;
        ssize_t got = recv(fd, tmp, sizeof(tmp), 0);
        if (got <= 0)
            goto fail;
        buf_append(&b, tmp, (size_t)got);
        if (!hend) {
            hend = strstr(buf_cstr(&b), "\r\n\r\n");
            if (hend) {
                size_t hlen = (size_t)(hend - b.data) + 4;
                const char *cl = strcasestr(b.data, "\r\nContent-Length:");
                size_t clen = cl && cl < hend ? strtoul(cl + 17, NULL, 10) : 0;
                want = hlen + clen;
                r->head = xstrndup(b.data, hlen);
            }
        }
    }
    r->body = xstrndup(b.data + strlen(r->head), want - strlen(r->head));
    buf_release(&b);
    return 0;
fail:
    buf_release(&b);
    free(r->head);
    r->head = NULL;
    return -1;
}

static void *hsrv_main(void *arg)
{
    struct hsrv *s = arg;
    while (!atomic_load(&s->stop)) {
        struct pollfd p = { s->fd, POLLIN, 0 };
        if (poll(&p, 1, 50) <= 0)
            continue;
        int c = accept(s->fd, NULL, NULL);
        if (c < 0)
            continue;
        struct hreq r = { 0 };
        if (read_request(c, &r) < 0) {
            close(c);
            continue;
        }
        pthread_mutex_lock(&s->lock);
        VEC_PUSH(&s->reqs, r);
        int status = s->next < s->n_script ? s->script[s->next] : s->dflt;
        s->next++;
        pthread_mutex_unlock(&s->lock);
        if (status == 0) {
            pthread_mutex_lock(&s->lock);
            VEC_PUSH(&s->hung, c); /* never answered: the client waits */
            pthread_mutex_unlock(&s->lock);
            continue;
        }
        char resp[128];
        int n = snprintf(resp, sizeof(resp),
                         "HTTP/1.1 %d Scripted\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                         status);
        ssize_t wr = send(c, resp, (size_t)n, MSG_NOSIGNAL);
        (void)wr;
        close(c);
    }
    return NULL;
}

static void hsrv_start(struct hsrv *s, int dflt)
{
    memset(s, 0, sizeof(*s));
    s->dflt = dflt;
    pthread_mutex_init(&s->lock, NULL);
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    ASSERT_EQ(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ASSERT_EQ(listen(s->fd, 16), 0);
    socklen_t l = sizeof(a);
    ASSERT_EQ(getsockname(s->fd, (struct sockaddr *)&a, &l), 0);
    s->port = ntohs(a.sin_port);
    ASSERT_EQ(pthread_create(&s->th, NULL, hsrv_main, s), 0);
}

static void hsrv_script(struct hsrv *s, const int *statuses, size_t n, int dflt)
{
    pthread_mutex_lock(&s->lock);
    if (n)
        memcpy(s->script, statuses, n * sizeof(int));
    s->n_script = n;
    s->next = 0;
    s->dflt = dflt;
    pthread_mutex_unlock(&s->lock);
}

static size_t hsrv_count(struct hsrv *s)
{
    pthread_mutex_lock(&s->lock);
    size_t n = s->reqs.n;
    pthread_mutex_unlock(&s->lock);
    return n;
}

static void hsrv_wait(struct hsrv *s, size_t n)
{
    int64_t until = mono_ms() + WAIT_MS;
    while (hsrv_count(s) < n) {
        if (mono_ms() > until)
            test_fail(__FILE__, __LINE__, "only %zu of %zu requests arrived", hsrv_count(s), n);
        sleep_ms(10);
    }
}

static void hsrv_stop(struct hsrv *s)
{
    atomic_store(&s->stop, true);
    pthread_join(s->th, NULL);
    close(s->fd);
    for (size_t i = 0; i < s->reqs.n; i++) {
        free(s->reqs.v[i].head);
        free(s->reqs.v[i].body);
    }
    VEC_FREE(&s->reqs);
    for (size_t i = 0; i < s->hung.n; i++)
        close(s->hung.v[i]);
    VEC_FREE(&s->hung);
    pthread_mutex_destroy(&s->lock);
}

/* The value of header name in a request head (owned), NULL when absent. */
static char *header_of(const char *head, const char *name)
{
    struct str cur = str_from(head), line;
    size_t n = strlen(name);
    while (str_next_line(&cur, &line)) {
        if (line.len > n && strncasecmp(line.ptr, name, n) == 0 && line.ptr[n] == ':')
            return str_dup(str_trim(str_make(line.ptr + n + 1, line.len - n - 1)));
    }
    return NULL;
}

/* ---- an SMTP relay that never answers the end of DATA ------------------------------------ */

/* It takes whole messages and then holds the sender: the message reached the relay, the
 * sender has no verdict (a relay stuck in its queue manager, or a crash at that moment). */
struct hold_relay {
    int fd, port;
    pthread_t th;
    atomic_bool stop;
    pthread_mutex_t lock;
    size_t received; /* messages that reached the end of DATA */
    char last[4096]; /* the start of the last one */
    VEC(pthread_t) sessions;
};

struct hold_session {
    struct hold_relay *r;
    int fd;
};

/* One line from fd into line (without CRLF); false at EOF, error or stop. */
static bool hold_line(struct hold_relay *r, int fd, char *line, size_t cap)
{
    size_t n = 0;
    while (!atomic_load(&r->stop)) {
        struct pollfd p = { fd, POLLIN, 0 };
        int pr = poll(&p, 1, 50);
        if (pr < 0)
            return false;
        if (pr == 0)
            continue;
        char ch;
        if (recv(fd, &ch, 1, 0) != 1)
            return false;
        if (ch == '\n') {
            if (n && line[n - 1] == '\r')
                n--;
            line[n] = '\0';
            return true;
        }
        if (n + 1 < cap)
            line[n++] = ch;
    }
    return false;
}

static void hold_say(int fd, const char *text)
{
    ssize_t w = send(fd, text, strlen(text), MSG_NOSIGNAL);
    (void)w;
}

static void *hold_session_main(void *arg)
{
    struct hold_session *hs = arg;
    struct hold_relay *r = hs->r;
    int fd = hs->fd;
    free(hs);
    char line[1024];
    hold_say(fd, "220 hold ESMTP\r\n");
    while (hold_line(r, fd, line, sizeof(line))) {
        if (strncasecmp(line, "EHLO", 4) == 0 || strncasecmp(line, "HELO", 4) == 0) {
            hold_say(fd, "250 hold\r\n");
        } else if (strncasecmp(line, "DATA", 4) == 0) {
            hold_say(fd, "354 go ahead\r\n");
            struct buf msg;
            buf_init(&msg, 1 << 22);
            while (hold_line(r, fd, line, sizeof(line)) && strcmp(line, ".") != 0) {
                buf_append_cstr(&msg, line);
                buf_append_cstr(&msg, "\n");
            }
            pthread_mutex_lock(&r->lock);
            r->received++;
            snprintf(r->last, sizeof(r->last), "%s", buf_cstr(&msg));
            pthread_mutex_unlock(&r->lock);
            buf_release(&msg);
            /* no answer: wait for the sender to give up or the relay to stop */
            while (hold_line(r, fd, line, sizeof(line)))
                ;
            break;
        } else if (strncasecmp(line, "QUIT", 4) == 0) {
            hold_say(fd, "221 bye\r\n");
            break;
        } else {
            hold_say(fd, "250 OK\r\n");
        }
    }
    close(fd);
    return NULL;
}

static void *hold_main(void *arg)
{
    struct hold_relay *r = arg;
    while (!atomic_load(&r->stop)) {
        struct pollfd p = { r->fd, POLLIN, 0 };
        if (poll(&p, 1, 50) <= 0)
            continue;
        int c = accept(r->fd, NULL, NULL);
        if (c < 0)
            continue;
        struct hold_session *hs = xmalloc(sizeof(*hs));
        hs->r = r;
        hs->fd = c;
        pthread_t t;
        if (pthread_create(&t, NULL, hold_session_main, hs) != 0) {
            close(c);
            free(hs);
            continue;
        }
        pthread_mutex_lock(&r->lock);
        VEC_PUSH(&r->sessions, t);
        pthread_mutex_unlock(&r->lock);
    }
    return NULL;
}

static void hold_start(struct hold_relay *r)
{
    memset(r, 0, sizeof(*r));
    pthread_mutex_init(&r->lock, NULL);
    r->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    ASSERT_EQ(bind(r->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ASSERT_EQ(listen(r->fd, 16), 0);
    socklen_t l = sizeof(a);
    ASSERT_EQ(getsockname(r->fd, (struct sockaddr *)&a, &l), 0);
    r->port = ntohs(a.sin_port);
    ASSERT_EQ(pthread_create(&r->th, NULL, hold_main, r), 0);
}

static size_t hold_received(struct hold_relay *r)
{
    pthread_mutex_lock(&r->lock);
    size_t n = r->received;
    pthread_mutex_unlock(&r->lock);
    return n;
}

static void hold_stop(struct hold_relay *r)
{
    atomic_store(&r->stop, true);
    pthread_join(r->th, NULL);
    for (size_t i = 0; i < r->sessions.n; i++)
        pthread_join(r->sessions.v[i], NULL);
    VEC_FREE(&r->sessions);
    close(r->fd);
    pthread_mutex_destroy(&r->lock);
}

/* ---- the environment ---------------------------------------------------------------------- */

struct wenv {
    struct meta_db *db;
    struct meta_conn *c;
    struct bus *bus;
    struct sns *sns;
    struct sns_signer signer;
    struct smtp_config smtp;
    bool has_smtp;
    struct worker *w;
    char *dbpath;
};

static void wenv_open(struct wenv *e, const char *name)
{
    memset(e, 0, sizeof(*e));
    e->dbpath = xasprintf("%s/%s", test_tmpdir(), name);
    struct diag d = { 0 };
    ASSERT_EQ(meta_open(e->dbpath, NULL, &e->db, &d), 0);
    ASSERT_EQ(bus_migrate(e->db, &d), 0);
    ASSERT_EQ(sns_migrate(e->db, &d), 0);
    ASSERT_EQ(meta_conn_get(e->db, &e->c), 0);
    struct bus_config bc = { REGION, ACCOUNT };
    ASSERT_EQ(bus_new(&bc, &e->bus, &d), 0);
    struct sns_config sc = { REGION, ACCOUNT };
    ASSERT_EQ(sns_new(&sc, &e->sns, &d), 0);
    if (sns_signer_load_or_create(&e->signer, test_tmpdir(), &d) != 0)
        test_fail(__FILE__, __LINE__, "signer: %s", d.msg);
    smtp_config_init(&e->smtp);
}

static void wenv_smtp(struct wenv *e, int port)
{
    char url[64];
    snprintf(url, sizeof(url), "smtp://127.0.0.1:%d?timeout=10&connect_timeout=5", port);
    ASSERT_EQ(smtp_config_parse(&e->smtp, url, NULL), 0);
    e->has_smtp = true;
}

static const char secret[] = "shared-secret";

static void worker_start(struct wenv *e, double scale)
{
    struct worker_config cfg = {
        .db = e->db,
        .bus = e->bus,
        .sns = e->sns,
        .smtp = e->has_smtp ? &e->smtp : NULL,
        .mail_from = "vigil@example.com",
        .public_url = "http://vigil.example:8080",
        .signer = &e->signer,
        .webhook_secret = secret,
        .webhook_secret_len = sizeof(secret) - 1,
        .retry_scale = scale,
    };
    struct diag d = { 0 };
    if (worker_new(&cfg, &e->w, &d) != 0)
        test_fail(__FILE__, __LINE__, "worker: %s", d.msg);
}

static void worker_stop(struct wenv *e)
{
    worker_free(e->w);
    e->w = NULL;
}

static void wenv_close(struct wenv *e)
{
    worker_stop(e);
    sns_signer_release(&e->signer);
    smtp_config_release(&e->smtp);
    sns_free(e->sns);
    bus_free(e->bus);
    meta_close(e->db);
    free(e->dbpath);
}

static int count(struct meta_conn *c, const char *sql)
{
    sqlite3_stmt *st;
    ASSERT_EQ(meta_stmt(c, sql, &st), 0);
    int n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    meta_done(st);
    return n;
}

static void wait_count(struct meta_conn *c, const char *sql, int want)
{
    int64_t until = mono_ms() + WAIT_MS;
    int n;
    while ((n = count(c, sql)) != want) {
        if (mono_ms() > until)
            test_fail(__FILE__, __LINE__, "%s: %d, waiting for %d", sql, n, want);
        sleep_ms(20);
    }
}

static char *make_topic(struct wenv *e, const char *name, const char *display)
{
    struct sns_kv attrs[] = { { "DisplayName", display } };
    char *arn = NULL;
    struct sns_error err = { 0 };
    int rc = sns_topic_create(e->sns, e->c, name, attrs, display ? 1 : 0, NULL, 0, &arn, &err);
    if (rc != 0)
        test_fail(__FILE__, __LINE__, "topic: %s", err.message);
    return arn;
}

static char *subscribe(struct wenv *e, const char *topic, const char *proto, const char *endpoint)
{
    struct sns_subscribe_req req = { topic, proto, endpoint, NULL, 0 };
    char *arn = NULL;
    bool pending;
    struct sns_error err = { 0 };
    if (sns_subscribe(e->sns, e->c, &req, &arn, &pending, &err) != 0)
        test_fail(__FILE__, __LINE__, "subscribe: %s", err.message);
    sns_kick(e->sns);
    return arn;
}

static void confirm(struct wenv *e, const char *topic, const char *token)
{
    char *arn = NULL;
    struct sns_error err = { 0 };
    if (sns_confirm_subscription(e->sns, e->c, topic, token, false, &arn, &err) != 0)
        test_fail(__FILE__, __LINE__, "confirm: %s", err.message);
    free(arn);
}

/* The token in a confirmation text: the hex after "Token=". Owned. */
static char *token_in(const char *text)
{
    const char *t = strstr(text, "Token=");
    ASSERT_TRUE(t != NULL);
    t += 6;
    size_t n = strspn(t, "0123456789abcdef");
    ASSERT_EQ(n, 2 * SNS_TOKEN_BYTES);
    return xstrndup(t, n);
}

static const char scan_event[] =
    "{\"version\":\"0\",\"id\":\"5b1b7e9c-1111-4c2d-9f00-0123456789ab\","
    "\"detail-type\":\"ECR Image Scan\",\"source\":\"aws.ecr\",\"account\":\"123456789012\","
    "\"time\":\"2024-01-02T03:04:05Z\",\"region\":\"us-east-1\","
    "\"resources\":[\"arn:aws:ecr:us-east-1:123456789012:repository/web\"],"
    "\"detail\":{\"scan-status\":\"COMPLETE\",\"repository-name\":\"web\","
    "\"finding-severity-counts\":{\"CRITICAL\":2,\"HIGH\":5},"
    "\"image-digest\":\"sha256:0123\",\"image-tags\":[\"v1\"]}}";

static void rule_to_topic(struct wenv *e, const char *topic, const char *tpl)
{
    struct bus_rule_spec spec = {
        .name = "scan-critical",
        .event_pattern = "{\"source\":[\"aws.ecr\"],\"detail-type\":[\"ECR Image Scan\"],"
                         "\"detail\":{\"finding-severity-counts\":{\"CRITICAL\":[{\"numeric\":"
                         "[\">\",0]}]}}}",
    };
    struct bus_error err = { 0 };
    ASSERT_EQ(bus_rule_put(e->bus, e->c, &spec, NULL, &err), 0);
    struct bus_target_spec t = {
        .id = "mail",
        .arn = topic,
        .has_transformer = tpl != NULL,
        .paths_map = "{\"CRITICAL\":\"$.detail.finding-severity-counts.CRITICAL\","
                     "\"repository\":\"$.detail.repository-name\"}",
        .input_template = tpl,
    };
    struct bus_failed_entries f;
    if (bus_targets_put(e->bus, e->c, "scan-critical", &t, 1, &f, &err) != 0)
        test_fail(__FILE__, __LINE__, "targets: %s", err.message);
    ASSERT_EQ(f.n, 0);
    bus_failed_entries_release(&f);
}

static void publish_event(struct wenv *e, const char *event_id)
{
    ASSERT_EQ(meta_begin(e->c), 0);
    ASSERT_EQ(bus_publish(e->bus, e->c, scan_event, strlen(scan_event), event_id), 1);
    ASSERT_EQ(meta_commit(e->c), 0);
    bus_kick(e->bus);
}

/* ---- tests -------------------------------------------------------------------------------- */

TEST(worker_mail_confirmation_and_event_notification)
{
    struct wenv e;
    wenv_open(&e, "mail.db");
    char *dir = xasprintf("%s/sink1", test_tmpdir());
    int port = free_port();
    pid_t sink = sink_start(dir, port);
    wenv_smtp(&e, port);
    worker_start(&e, 0.01);

    char *topic = make_topic(&e, "scan-alerts", "脆弱性スキャナ");
    char *sub = subscribe(&e, topic, "email", "ops@example.com");
    wait_mails(dir, 1);
    struct mail m[4];
    ASSERT_EQ(read_mails(dir, m, 4), 1);
    ASSERT_STREQ(m[0].subject, "AWS Notification - Subscription Confirmation");
    ASSERT_TRUE(strstr(m[0].from, "脆弱性スキャナ") != NULL);
    ASSERT_TRUE(strstr(m[0].from, "<vigil@example.com>") != NULL);
    ASSERT_TRUE(strstr(m[0].body, "http://vigil.example:8080/confirmation.html?TopicArn=") != NULL);
    ASSERT_TRUE(strstr(m[0].body, topic) != NULL);
    /* the link in the mail confirms the subscription */
    char *tok = token_in(m[0].body);
    confirm(&e, topic, tok);
    free(tok);
    mail_release(&m[0]);

    rule_to_topic(&e, topic, "\"リポジトリ: <repository>\"\n\"CRITICAL: <CRITICAL>\"");
    publish_event(&e, NULL);
    wait_mails(dir, 2);
    ASSERT_EQ(read_mails(dir, m, 4), 2);
    struct mail *n = strcmp(m[0].subject, "AWS Notification Message") == 0 ? &m[0] : &m[1];
    ASSERT_STREQ(n->subject, "AWS Notification Message");
    /* the rendered template, Japanese intact, lines kept (CRLF in mail), then SNS's footer */
    ASSERT_TRUE(strncmp(n->body, "\"リポジトリ: web\"\r\n\"CRITICAL: 2\"\r\n", 38) == 0);
    ASSERT_TRUE(strstr(n->body, "unsubscribe.html?SubscriptionArn=") != NULL);
    ASSERT_TRUE(strstr(n->body, sub) != NULL);
    ASSERT_STREQ(n->event_id, "5b1b7e9c-1111-4c2d-9f00-0123456789ab");
    ASSERT_TRUE(n->list_unsub != NULL && strstr(n->list_unsub, "unsubscribe.html") != NULL);
    ASSERT_TRUE(strstr(n->from, "脆弱性スキャナ") != NULL);
    mail_release(&m[0]);
    mail_release(&m[1]);

    wait_count(e.c, "SELECT count(*) FROM events_outbox WHERE state = 1", 1);
    wait_count(e.c, "SELECT count(*) FROM sns_deliveries WHERE state = 1", 2);
    struct worker_stats ws;
    worker_get_stats(e.w, &ws);
    ASSERT_EQ(ws.outbox_forwarded, 1);
    ASSERT_EQ(ws.sent, 2);
    ASSERT_EQ(ws.dead, 0);
    sink_stop(sink);
    free(sub);
    free(topic);
    free(dir);
    wenv_close(&e);
}

TEST(worker_smtp_down_then_back_delivers_everything)
{
    struct wenv e;
    wenv_open(&e, "down.db");
    char *dir = xasprintf("%s/sink2", test_tmpdir());
    int port = free_port(); /* nothing listens there yet */
    wenv_smtp(&e, port);
    char *topic = make_topic(&e, "alerts", NULL);
    char *sub = subscribe(&e, topic, "email", "ops@example.com");
    char tok[2 * SNS_TOKEN_BYTES + 1];
    sqlite3_stmt *st;
    ASSERT_EQ(meta_stmt(e.c, "SELECT token FROM sns_subscriptions", &st), 0);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    snprintf(tok, sizeof(tok), "%s", (const char *)sqlite3_column_text(st, 0));
    meta_done(st);
    confirm(&e, topic, tok);
    /* five messages, Japanese subject on one */
    struct sns_error err = { 0 };
    char mid[SNS_UUID_LEN + 1];
    for (int i = 0; i < 5; i++) {
        char text[64];
        snprintf(text, sizeof(text), "message %d: 検出されました", i);
        struct sns_publish_req p = { .topic_arn = topic,
                                     .message = text,
                                     .message_len = strlen(text),
                                     .subject = i == 0 ? "Scan report" : NULL };
        ASSERT_EQ(sns_publish(e.sns, e.c, &p, mid, NULL, &err), 0);
    }
    worker_start(&e, 0.001);
    /* attempts fail while the relay is down; the rows stay pending with their error */
    wait_count(e.c, "SELECT count(*) FROM sns_deliveries WHERE state = 0 AND attempts >= 2", 6);
    ASSERT_EQ(count(e.c, "SELECT count(*) FROM sns_deliveries WHERE last_error IS NULL"), 0);
    struct worker_stats ws;
    worker_get_stats(e.w, &ws);
    ASSERT_TRUE(ws.retried >= 12);
    ASSERT_EQ(ws.sent, 0);
    /* the relay comes back: everything arrives */
    pid_t sink = sink_start(dir, port);
    wait_mails(dir, 6);
    wait_count(e.c, "SELECT count(*) FROM sns_deliveries WHERE state = 1", 6);
    struct mail m[8];
    size_t n = read_mails(dir, m, 8);
    ASSERT_EQ(n, 6);
    int seen[5] = { 0 };
    int reports = 0;
    for (size_t i = 0; i < n; i++) {
        for (int k = 0; k < 5; k++) {
            char text[64];
            snprintf(text, sizeof(text), "message %d: 検出されました\r\n", k);
            if (strncmp(m[i].body, text, strlen(text)) == 0)
                seen[k]++;
        }
        reports += strcmp(m[i].subject, "Scan report") == 0;
        mail_release(&m[i]);
    }
    for (int k = 0; k < 5; k++)
        ASSERT_EQ(seen[k], 1);
    ASSERT_EQ(reports, 1);
    sink_stop(sink);
    free(sub);
    free(topic);
    free(dir);
    wenv_close(&e);
}

TEST(worker_http_retry_dead_letter_redrive)
{
    struct wenv e;
    wenv_open(&e, "http.db");
    struct hsrv h;
    hsrv_start(&h, 200);
    worker_start(&e, 0.01);
    char *topic = make_topic(&e, "hooks", NULL);
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/in", h.port);
    char *sub = subscribe(&e, topic, "http", url);
    /* the SubscriptionConfirmation POST, as SNS sends it */
    hsrv_wait(&h, 1);
    pthread_mutex_lock(&h.lock);
    char *type = header_of(h.reqs.v[0].head, "x-amz-sns-message-type");
    json_error_t je;
    json_t *body = json_loads(h.reqs.v[0].body, 0, &je);
    pthread_mutex_unlock(&h.lock);
    ASSERT_STREQ(type, "SubscriptionConfirmation");
    free(type);
    ASSERT_TRUE(body != NULL);
    ASSERT_STREQ(json_string_value(json_object_get(body, "Type")), "SubscriptionConfirmation");
    const char *surl = json_string_value(json_object_get(body, "SubscribeURL"));
    ASSERT_TRUE(surl &&
                strncmp(surl, "http://vigil.example:8080/?Action=ConfirmSubscription", 53) == 0);
    confirm(&e, topic, json_string_value(json_object_get(body, "Token")));
    json_decref(body);
    wait_count(e.c, "SELECT count(*) FROM sns_deliveries WHERE state = 1", 1);

    /* 2 retries 1 s apart (scaled): three attempts, then the dead letter */
    struct sns_error err = { 0 };
    ASSERT_EQ(sns_subscription_set_attribute(e.sns, e.c, sub, "DeliveryPolicy",
                                             "{\"healthyRetryPolicy\":{\"numRetries\":2,"
                                             "\"minDelayTarget\":1,\"maxDelayTarget\":1}}",
                                             &err),
              0);
    hsrv_script(&h, NULL, 0, 500);
    char mid[SNS_UUID_LEN + 1];
    struct sns_publish_req p = { .topic_arn = topic,
                                 .message = "{\"alert\":\"CVE-2024-0001\"}",
                                 .message_len = 25 };
    ASSERT_EQ(sns_publish(e.sns, e.c, &p, mid, NULL, &err), 0);
    sns_kick(e.sns);
    wait_count(e.c, "SELECT count(*) FROM sns_deliveries WHERE state = 2", 1);
    ASSERT_EQ(hsrv_count(&h), 4);
    struct sns_deliveries dead;
    ASSERT_EQ(sns_delivery_list(e.sns, e.c, SNS_DELIVERY_DEAD, 0, 0, &dead), 0);
    ASSERT_EQ(dead.n, 1);
    ASSERT_EQ(dead.v[0].attempts, 3);
    ASSERT_TRUE(strstr(dead.v[0].last_error, "HTTP 500") != NULL);
    ASSERT_TRUE(strstr(dead.v[0].last_error, "retries exhausted after 3 attempts") != NULL);
    int64_t dead_id = dead.v[0].id;
    sns_deliveries_release(&dead);

    /* the endpoint recovers; a redrive delivers, with the same MessageId */
    hsrv_script(&h, NULL, 0, 200);
    size_t n;
    ASSERT_EQ(sns_delivery_redrive(e.c, dead_id, (int64_t)time(NULL) * 1000, &n), 0);
    worker_kick(e.w);
    wait_count(e.c, "SELECT count(*) FROM sns_deliveries WHERE state = 1", 2);
    ASSERT_EQ(hsrv_count(&h), 5);
    pthread_mutex_lock(&h.lock);
    for (size_t i = 1; i < 5; i++) {
        struct hreq *r = &h.reqs.v[i];
        char *t = header_of(r->head, "x-amz-sns-message-type");
        char *id = header_of(r->head, "x-amz-sns-message-id");
        char *sig = header_of(r->head, "X-Vigil-Signature");
        ASSERT_STREQ(t, "Notification");
        ASSERT_STREQ(id, mid);
        /* the HMAC of the body under the shared secret */
        char want[SNS_HMAC_HEADER_LEN + 1];
        sns_hmac_signature(secret, sizeof(secret) - 1, str_from(r->body), want);
        ASSERT_STREQ(sig, want);
        json_t *j = json_loads(r->body, 0, &je);
        ASSERT_STREQ(json_string_value(json_object_get(j, "Message")),
                     "{\"alert\":\"CVE-2024-0001\"}");
        ASSERT_STREQ(json_string_value(json_object_get(j, "MessageId")), mid);
        ASSERT_TRUE(json_string_value(json_object_get(j, "Signature")) != NULL);
        json_decref(j);
        /* every retry is the same request */
        ASSERT_STREQ(r->body, h.reqs.v[1].body);
        free(t);
        free(id);
        free(sig);
    }
    pthread_mutex_unlock(&h.lock);
    struct worker_stats ws;
    worker_get_stats(e.w, &ws);
    ASSERT_EQ(ws.dead, 1);
    ASSERT_EQ(ws.retried, 2);
    ASSERT_EQ(ws.sent, 2);
    wenv_close(&e);
    hsrv_stop(&h);
    free(sub);
    free(topic);
}

TEST(worker_restart_resumes_pending_and_in_flight)
{
    struct wenv e;
    wenv_open(&e, "restart.db");
    struct hsrv h;
    hsrv_start(&h, 200);
    char *topic = make_topic(&e, "hooks", NULL);
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/in", h.port);
    char *sub = subscribe(&e, topic, "http", url);
    ASSERT_EQ(meta_exec(e.c, "UPDATE sns_subscriptions SET confirmed = 1"), 0);
    ASSERT_EQ(meta_exec(e.c, "UPDATE sns_deliveries SET state = 1"), 0); /* the confirmation */
    rule_to_topic(&e, topic, NULL);
    /* an EventBridge target whose topic does not exist: straight to the dead letters */
    struct bus_target_spec gone = { .id = "gone",
                                    .arn = "arn:aws:sns:us-east-1:123456789012:missing" };
    struct bus_failed_entries f;
    struct bus_error berr;
    ASSERT_EQ(bus_targets_put(e.bus, e.c, "scan-critical", &gone, 1, &f, &berr), 0);
    bus_failed_entries_release(&f);

    /* the first attempt hangs: the worker is stopped with it in flight */
    int hang[1] = { 0 };
    hsrv_script(&h, hang, 1, 200);
    ASSERT_EQ(meta_begin(e.c), 0);
    ASSERT_EQ(bus_publish(e.bus, e.c, scan_event, strlen(scan_event), "ev-restart"), 2);
    ASSERT_EQ(meta_commit(e.c), 0);
    worker_start(&e, 0.01);
    hsrv_wait(&h, 1);
    worker_stop(&e);
    ASSERT_EQ(count(e.c, "SELECT count(*) FROM sns_deliveries WHERE state = 0"), 1);
    ASSERT_EQ(count(e.c, "SELECT count(*) FROM events_outbox WHERE state = 1"), 1);
    ASSERT_EQ(count(e.c, "SELECT count(*) FROM events_outbox WHERE state = 2 AND last_error LIKE"
                         " 'NO_RESOURCE%'"),
              1);
    /* more work arrives while no worker runs */
    ASSERT_EQ(meta_begin(e.c), 0);
    char *ev2 = xstrdup(scan_event);
    memcpy(strstr(ev2, "5b1b7e9c"), "6c2c8fad", 8);
    ASSERT_EQ(bus_publish(e.bus, e.c, ev2, strlen(ev2), NULL), 2);
    ASSERT_EQ(meta_commit(e.c), 0);
    free(ev2);

    /* a new worker on the same database sends both */
    worker_start(&e, 0.01);
    wait_count(e.c, "SELECT count(*) FROM sns_deliveries WHERE state = 1 AND type = 0", 2);
    ASSERT_EQ(count(e.c, "SELECT count(*) FROM sns_deliveries WHERE state = 0"), 0);
    ASSERT_EQ(hsrv_count(&h), 3);
    pthread_mutex_lock(&h.lock);
    char *id0 = header_of(h.reqs.v[0].head, "x-amz-sns-message-id");
    char *ev0 = header_of(h.reqs.v[0].head, "X-Vigil-Event-Id");
    int resent = 0;
    for (size_t i = 1; i < 3; i++) {
        char *id = header_of(h.reqs.v[i].head, "x-amz-sns-message-id");
        resent += strcmp(id, id0) == 0;
        free(id);
    }
    pthread_mutex_unlock(&h.lock);
    ASSERT_EQ(resent, 1); /* the interrupted message again, with its MessageId */
    ASSERT_STREQ(ev0, "ev-restart");
    free(id0);
    free(ev0);
    wenv_close(&e);
    hsrv_stop(&h);
    free(sub);
    free(topic);
}

TEST(worker_relay_holding_data_does_not_stall_other_deliveries)
{
    struct wenv e;
    wenv_open(&e, "hold.db");
    struct hold_relay relay;
    hold_start(&relay);
    struct hsrv h;
    hsrv_start(&h, 200);
    wenv_smtp(&e, relay.port);
    char *topic = make_topic(&e, "mixed", NULL);
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/in", h.port);
    free(subscribe(&e, topic, "email", "a@example.com"));
    free(subscribe(&e, topic, "email", "b@example.com"));
    free(subscribe(&e, topic, "http", url));
    ASSERT_EQ(meta_exec(e.c, "UPDATE sns_subscriptions SET confirmed = 1"), 0);
    ASSERT_EQ(meta_exec(e.c, "UPDATE sns_deliveries SET state = 1"), 0);
    worker_start(&e, 0.01);
    struct sns_error err = { 0 };
    char mid[SNS_UUID_LEN + 1];
    for (int i = 0; i < 3; i++) {
        struct sns_publish_req p = { .topic_arn = topic, .message = "held", .message_len = 4 };
        ASSERT_EQ(sns_publish(e.sns, e.c, &p, mid, NULL, &err), 0);
        sns_kick(e.sns);
    }
    /* six mails sit inside the relay's DATA at once, and the webhooks still go out */
    int64_t until = mono_ms() + WAIT_MS;
    while (hold_received(&relay) < 6) {
        if (mono_ms() > until)
            test_fail(__FILE__, __LINE__, "only %zu mails reached the relay",
                      hold_received(&relay));
        sleep_ms(10);
    }
    wait_count(
        e.c,
        "SELECT count(*) FROM sns_deliveries WHERE state = 1 AND type = 0 AND protocol = 'http'",
        3);
    pthread_mutex_lock(&relay.lock);
    ASSERT_TRUE(strstr(relay.last, "X-Vigil-Message-Id: ") != NULL);
    pthread_mutex_unlock(&relay.lock);
    /* stopping abandons the held sessions; the mails stay pending, never marked done */
    worker_stop(&e);
    ASSERT_EQ(count(e.c, "SELECT count(*) FROM sns_deliveries WHERE state = 0 AND protocol = "
                         "'email' AND attempts = 0"),
              6);
    hold_stop(&relay);
    hsrv_stop(&h);
    free(topic);
    wenv_close(&e);
}
