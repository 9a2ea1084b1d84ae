/* SPDX-License-Identifier: Apache-2.0 */
/* Throughput of the HTTP adapter on loopback: a streamed PUT of a large body whose chunks the
 * handler only counts, and a GET of a file body sent with sendfile.
 *   http_bench [MB] [rounds] [KiB]  libcurl client in-process, prints MB/s per direction;
 *                                   KiB = per-connection memory (default: the server's)
 *   http_bench --serve PORT         serve PUT/PATCH /upload and GET /file?len=N until killed
 * Build: cc -O2 -Isrc bench/http_bench.c build/release/libvigil.a $(pkg-config --libs ...) */
#include <curl/curl.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/str.h"
#include "http/server.h"

static atomic_ullong received, chunks;
static size_t conn_memory;
static char file_path[256];

static void up_begin(void *app, struct http_req *req, struct http_resp *resp)
{
    (void)app;
    (void)resp;
    req->stream = true;
}

static int up_body(void *app, struct http_req *req, const char *data, size_t len)
{
    (void)app;
    (void)req;
    (void)data;
    atomic_fetch_add_explicit(&received, len, memory_order_relaxed);
    atomic_fetch_add_explicit(&chunks, 1, memory_order_relaxed);
    return 0;
}

static void up_end(void *app, struct http_req *req, struct http_resp *resp)
{
    (void)app;
    char out[64];
    int n = snprintf(out, sizeof(out), "%llu\n", (unsigned long long)req->body_bytes);
    http_resp_set(req, resp, req->body_err ? 500 : 201, "text/plain", out, (size_t)n);
}

static void file_begin(void *app, struct http_req *req, struct http_resp *resp)
{
    (void)app;
    unsigned long long len = 0;
    const char *l = http_req_query(req, "len");
    if (l)
        str_to_u64(str_from(l), &len);
    resp->fd = open(file_path, O_RDONLY | O_CLOEXEC);
    resp->fd_len = len;
    resp->status = resp->fd >= 0 ? 200 : 500;
}

struct gen {
    size_t left;
};

static size_t gen_read(char *dst, size_t size, size_t n, void *p)
{
    struct gen *g = p;
    size_t want = size * n;
    if (want > g->left)
        want = g->left;
    memset(dst, 'v', want);
    g->left -= want;
    return want;
}

static size_t sink(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    *(size_t *)ud += size * n;
    return size * n;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct http_server *start(int port)
{
    struct http_server_config cfg = { .port = port, .threads = 4, .conn_memory = conn_memory };
    struct http_server *srv;
    struct diag d = { 0 };
    if (http_server_new(&cfg, &srv, &d) != 0)
        return NULL;
    struct http_handler up = { NULL, up_begin, up_body, up_end, NULL };
    struct http_handler file = { NULL, file_begin, NULL, up_end, NULL };
    http_server_route(srv, HTTP_PUT | HTTP_PATCH | HTTP_POST, "/upload", false, "upload", &up);
    http_server_route(srv, HTTP_GET, "/file", false, "file", &file);
    if (http_server_start(srv, &d) != 0) {
        fprintf(stderr, "http_bench: %s\n", d.msg);
        http_server_free(srv);
        return NULL;
    }
    return srv;
}

int main(int argc, char **argv)
{
    snprintf(file_path, sizeof(file_path), "/tmp/http_bench.%d", (int)getpid());
    if (argc == 3 && strcmp(argv[1], "--serve") == 0) {
        struct http_server *srv = start((int)strtol(argv[2], NULL, 10));
        if (!srv)
            return 1;
        int fd = open(file_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd < 0 || ftruncate(fd, 1 << 30) != 0)
            return 1;
        close(fd);
        printf("serving on port %d (file %s, 1 GiB)\n", http_server_port(srv), file_path);
        fflush(stdout);
        pause();
        return 0;
    }
    size_t mb = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 51;
    int rounds = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 5;
    conn_memory = argc > 3 ? (size_t)strtoul(argv[3], NULL, 10) << 10 : 0;
    size_t size = mb << 20;
    struct http_server *srv = start(0);
    if (!srv)
        return 1;
    int fd = open(file_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || ftruncate(fd, (off_t)size) != 0)
        return 1;
    close(fd);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    char url[128];
    CURL *h = curl_easy_init();
    double best_up = 0, best_down = 0;
    for (int r = 0; r < rounds; r++) {
        struct gen g = { size };
        size_t got = 0;
        snprintf(url, sizeof(url), "http://127.0.0.1:%d/upload", http_server_port(srv));
        curl_easy_reset(h);
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, gen_read);
        curl_easy_setopt(h, CURLOPT_READDATA, &g);
        curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)size);
        curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, 2L << 20);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &got);
        double t0 = now_s();
        CURLcode rc = curl_easy_perform(h);
        double up = (double)size / (now_s() - t0) / 1e6;
        long status = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        if (rc != CURLE_OK || status != 201) {
            fprintf(stderr, "upload failed: %s %ld\n", curl_easy_strerror(rc), status);
            return 1;
        }

        snprintf(url, sizeof(url), "http://127.0.0.1:%d/file?len=%zu", http_server_port(srv), size);
        curl_easy_reset(h);
        got = 0;
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &got);
        curl_easy_setopt(h, CURLOPT_BUFFERSIZE, 512L * 1024);
        t0 = now_s();
        rc = curl_easy_perform(h);
        double down = (double)size / (now_s() - t0) / 1e6;
        if (rc != CURLE_OK || got != size) {
            fprintf(stderr, "download failed: %s %zu\n", curl_easy_strerror(rc), got);
            return 1;
        }
        printf("round %d: PUT %zu MiB %.0f MB/s, GET (sendfile) %.0f MB/s\n", r + 1, mb, up, down);
        if (up > best_up)
            best_up = up;
        if (down > best_down)
            best_down = down;
    }
    unsigned long long total = atomic_load(&received), n = atomic_load(&chunks);
    printf("best: PUT %.0f MB/s, GET %.0f MB/s (server received %llu bytes in %llu chunks of "
           "%llu bytes on average)\n",
           best_up, best_down, total, n, n ? total / n : 0);
    curl_easy_cleanup(h);
    http_server_free(srv);
    unlink(file_path);
    return 0;
}
