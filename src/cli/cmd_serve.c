/* SPDX-License-Identifier: Apache-2.0 */
/* vigil serve: the long-running server on one HTTP listener (libmicrohttpd): the OCI registry
 * under /v2/, the ECR, EventBridge and SNS control APIs behind SigV4, scanning on push, on
 * demand and continuously, the event bus with its transactional outbox and the delivery
 * worker, SNS link pages and /metrics; settings from flags, VIGIL_* variables and a config
 * file. vigil passwd: hash a password for the users file. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api/awsproto.h"
#include "api/ecr.h"
#include "api/events_api.h"
#include "api/gateway.h"
#include "api/sigv4.h"
#include "api/sns_api.h"
#include "base/buf.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/reader.h"
#include "base/xalloc.h"
#include "cli/cli.h"
#include "cli/config.h"
#include "cli/serve_events.h"
#include "deliver/smtp.h"
#include "deliver/sns.h"
#include "deliver/sns_msg.h"
#include "deliver/worker.h"
#include "events/bus.h"
#include "http/server.h"
#include "registry/auth.h"
#include "registry/registry.h"
#include "scan/service.h"
#include "store/blob_store.h"
#include "store/meta.h"

/* Every setting of `vigil serve`; --help is generated from this table. */
static const struct conf_def serve_defs[] = {
    { "listen", CONF_STRING, "127.0.0.1:5000", 0, 0,
      "address and port to listen on (HOST:PORT, [IPv6]:PORT; port 0 = any free port)", false },
    { "data-dir", CONF_STRING, NULL, 0, 0,
      "data directory: vigil.db, blobs/, uploads/, keys (default $XDG_DATA_HOME/vigil or "
      "~/.local/share/vigil)",
      false },
    { "port-file", CONF_STRING, NULL, 0, 0,
      "write the port listened on to this file once serving (for scripts using port 0)", false },
    { "threads", CONF_INT, "8", 1, 1024, "HTTP request threads", false },
    { "max-connections", CONF_INT, "512", 1, 100000, "open connections at most", false },
    { "idle-timeout", CONF_DURATION, "30s", 1000, 86400000,
      "close a connection that sends and receives nothing for this long", false },
    { "header-timeout", CONF_DURATION, "30s", 1000, 86400000,
      "request headers must be complete within this time (slow clients)", false },
    { "access-log", CONF_BOOL, "true", 0, 0, "log one line per request", false },
    { "log-level", CONF_STRING, "info", 0, 0, "error, warn, info or debug", false },
    { "users-file", CONF_STRING, NULL, 0, 0,
      "registry users, 'name:hash' lines from 'vigil passwd' (default DATA/users; created with "
      "a user 'vigil' and a random password in DATA/initial-password when absent)",
      false },
    { "anonymous", CONF_BOOL, "false", 0, 0,
      "allow pulls and pushes without credentials (off by default)", false },
    { "token-ttl", CONF_DURATION, "12h", 60000, 604800000,
      "lifetime of registry tokens (GetAuthorizationToken)", false },
    { "max-manifest", CONF_SIZE, "4MiB", 1024, 64 << 20, "largest manifest accepted", false },
    { "upload-expiry", CONF_DURATION, "24h", 60000, 2592000000LL,
      "idle upload sessions are removed by gc after this", false },
    { "create-on-push", CONF_BOOL, "true", 0, 0,
      "a push to an unknown repository creates it (else it must be created first)", false },
    { "delete-enabled", CONF_BOOL, "true", 0, 0,
      "allow DELETE of manifests, tags and blobs through the registry API", false },
    { "account-id", CONF_STRING, "000000000000", 0, 0, "12-digit account id in ARNs and registryId",
      false },
    { "region", CONF_STRING, "us-east-1", 0, 0,
      "region in ARNs; signed API requests must be scoped to it", false },
    { "public-url", CONF_STRING, NULL, 0, 0,
      "base URL clients reach this server at (repositoryUri, token proxyEndpoint, links in "
      "mails; default http://LISTEN)",
      false },
    { "aws-credentials", CONF_STRING, NULL, 0, 0,
      "access keys the control API accepts, in the aws CLI credentials-file format (default "
      "DATA/aws-credentials; created with a random key when absent)",
      false },
    { "signature-skew", CONF_DURATION, "15m", 1000, 86400000,
      "largest accepted difference between a request's X-Amz-Date and the server clock", false },
    { "refuse-replays", CONF_BOOL, "false", 0, 0,
      "refuse a SigV4 signature seen before within the skew window", false },
    { "vulndb", CONF_STRING, NULL, 0, 0,
      "vulnerability database (default DATA/vulndb.sqlite; built from the bundled data on first "
      "start)",
      false },
    { "cache-dir", CONF_STRING, NULL, 0, 0,
      "layer inventory cache shared by all scans (default DATA/cache)", false },
    { "scan-workers", CONF_INT, "2", 0, 64, "scan threads (0 = none)", false },
    { "manual-scan-interval", CONF_DURATION, "24h", 0, 31536000000LL,
      "StartImageScan of one image at most once per this (0 = no limit)", false },
    { "rescan-poll", CONF_DURATION, "60s", 1000, 86400000,
      "how often to look for a new vulnerability data import (continuous re-evaluation)", false },
    { "continuous-duration", CONF_DURATION, "0", 0, 315360000000LL,
      "CONTINUOUS_SCAN re-evaluates an image this long after its push, then "
      "SCAN_ELIGIBILITY_EXPIRED (0 = for ever)",
      false },
    { "scan-indexes", CONF_BOOL, "false", 0, 0,
      "also scan pushed image indexes (as the platform below); ECR scans only image manifests",
      false },
    { "scan-platform", CONF_STRING, "linux/amd64", 0, 0,
      "platform chosen from an index when indexes are scanned", false },
    { "smtp-url", CONF_STRING, NULL, 0, 0,
      "SMTP relay for e-mail subscriptions: smtp[s]://[user:pass@]host[:port][?starttls=required"
      "|try|no&verify=true|false&cafile=PATH&auth=plain|login|any] (unset: mails wait)",
      true },
    { "mail-from", CONF_STRING, "no-reply@localhost", 0, 0,
      "envelope and From address of notification mails", false },
    { "webhook-secret", CONF_STRING, NULL, 0, 0,
      "shared secret: http/https deliveries carry X-Vigil-Signature: sha256=HMAC(body)", true },
    { "delivery-retry-scale", CONF_STRING, "1", 0, 0,
      "multiply every delivery retry delay by this (tests use 0.01)", false },
};
#define SERVE_NDEFS (sizeof(serve_defs) / sizeof(serve_defs[0]))

static void serve_usage(FILE *f)
{
    fprintf(f, "usage: vigil serve [--config FILE] [--print-config] [options]\n"
               "\n"
               "Run the vigil server on one HTTP listener:\n"
               "  /v2/...            OCI registry (docker, podman, skopeo push and pull)\n"
               "  POST /             ECR and EventBridge APIs (AWS JSON 1.1) and SNS (query\n"
               "                     protocol), SigV4-signed: aws ecr|events|sns --endpoint-url\n"
               "  /confirmation.html, /unsubscribe.html, the SNS signing certificate\n"
               "  /metrics           Prometheus metrics\n"
               "Pushed images are scanned as the scanning configuration says; scan results and\n"
               "image actions become events, rules route them to SNS topics, and the delivery\n"
               "worker sends mails and webhooks with retries and a dead-letter table.\n"
               "\n"
               "Settings come from (later wins): the defaults below, the config file\n"
               "(--config FILE or $VIGIL_CONFIG; 'key = value' lines), the VIGIL_* variables\n"
               "and the flags.\n"
               "\n"
               "  --config FILE                read settings from FILE\n"
               "  --print-config               print the effective settings and exit\n");
    conf_help(f, serve_defs, SERVE_NDEFS);
}

char *cli_default_data_dir(void)
{
    const char *v = getenv("VIGIL_DATA_DIR");
    if (v && *v)
        return xstrdup(v);
    struct buf b;
    buf_init(&b, 4096);
    const char *x = getenv("XDG_DATA_HOME");
    if (x && *x)
        buf_printf(&b, "%s/vigil", x);
    else
        buf_printf(&b, "%s/.local/share/vigil", getenv("HOME") ? getenv("HOME") : ".");
    return buf_detach(&b, NULL);
}

/* n random characters of alphabet (its length a power of two or not: rejection sampling keeps
 * every character equally likely) and a NUL into out[n + 1]. 0 or -EIO. */
static int random_text(const char *alphabet, size_t n, char *out)
{
    size_t len = strlen(alphabet), limit = 256 - 256 % len;
    unsigned char raw[64];
    size_t have = 0, used = 0;
    for (size_t i = 0; i < n;) {
        if (used == have) {
            ssize_t got = getrandom(raw, sizeof(raw), 0);
            if (got <= 0)
                return -EIO;
            have = (size_t)got;
            used = 0;
        }
        unsigned char b = raw[used++];
        if (b < limit)
            out[i++] = alphabet[b % len];
    }
    out[n] = '\0';
    explicit_bzero(raw, sizeof(raw));
    return 0;
}

/* Create path (mode 0600; O_EXCL unless replace) holding text. 0 or -errno. */
static int write_private_file(const char *path, const char *text, bool replace)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (replace ? O_TRUNC : O_EXCL), 0600);
    if (fd < 0)
        return -errno;
    FILE *f = fdopen(fd, "w");
    if (!f) {
        int e = -errno;
        close(fd);
        return e;
    }
    fputs(text, f);
    return fclose(f) != 0 ? -EIO : 0;
}

/* When no users file exists: create DATA/users with user 'vigil' and a random password, kept
 * in DATA/initial-password (0600) so the operator can log in once and replace it. */
static int make_initial_user(const char *users_path, const char *data_dir)
{
    char pw[19];
    struct buf hash, path, text;
    buf_init(&hash, 4096);
    buf_init(&path, 4096);
    buf_init(&text, 8192);
    int rc = random_text("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789", 18, pw);
    if (rc < 0 || (rc = reg_auth_hash_password(pw, &hash)) < 0)
        goto out;
    buf_printf(&path, "%s/initial-password", data_dir);
    buf_printf(&text, "%s\n", pw);
    if ((rc = write_private_file(buf_cstr(&path), buf_cstr(&text), true)) < 0)
        goto out;
    buf_reset(&text);
    buf_printf(&text, "# registry users: 'name:hash' lines, hashes from 'vigil passwd'\nvigil:%s\n",
               buf_cstr(&hash));
    if ((rc = write_private_file(users_path, buf_cstr(&text), false)) < 0)
        goto out;
    log_warn("serve", "no users file: created %s with user 'vigil'; its password is in %s",
             users_path, buf_cstr(&path));
out:
    explicit_bzero(pw, sizeof(pw));
    buf_release(&hash);
    buf_release(&path);
    buf_release(&text);
    return rc;
}

/* Split HOST:PORT / [V6]:PORT. */
static int parse_listen(const char *s, char *host, size_t hostcap, int *port)
{
    const char *colon;
    if (s[0] == '[') {
        const char *end = strchr(s, ']');
        if (!end || end[1] != ':')
            return -ERR_INVALID;
        size_t n = (size_t)(end - s - 1);
        if (n == 0 || n >= hostcap)
            return -ERR_INVALID;
        memcpy(host, s + 1, n);
        host[n] = '\0';
        colon = end + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon)
            return -ERR_INVALID;
        size_t n = (size_t)(colon - s);
        if (n >= hostcap)
            return -ERR_INVALID;
        memcpy(host, s, n);
        host[n] = '\0';
        if (n == 0) {
            if (hostcap < sizeof("0.0.0.0"))
                return -ERR_INVALID;
            memcpy(host, "0.0.0.0", sizeof("0.0.0.0"));
        }
    }
    char *end;
    errno = 0;
    long p = strtol(colon + 1, &end, 10);
    if (errno || end == colon + 1 || *end || p < 0 || p > 65535)
        return -ERR_INVALID;
    *port = (int)p;
    return 0;
}

static double blob_bytes_gauge(void *ctx)
{
    uint64_t bytes = 0, count = 0;
    blob_store_usage(ctx, &bytes, &count);
    return (double)bytes;
}

static double blob_count_gauge(void *ctx)
{
    uint64_t bytes = 0, count = 0;
    blob_store_usage(ctx, &bytes, &count);
    return (double)count;
}

static int write_port_file(const char *path, int port)
{
    struct buf tmp;
    buf_init(&tmp, 4096);
    buf_printf(&tmp, "%s.tmp", path);
    FILE *f = fopen(buf_cstr(&tmp), "w");
    int rc = 0;
    if (!f) {
        rc = -errno;
        goto out;
    }
    fprintf(f, "%d\n", port);
    if (fclose(f) != 0 || rename(buf_cstr(&tmp), path) != 0)
        rc = -errno;
out:
    buf_release(&tmp);
    return rc;
}

/* What the registry's event callback reaches: filled in as the parts are built. */
struct serve_hooks {
    struct scan_service *scan;
    struct serve_events ev;
};

/* Inside the registry's push/delete transaction: queue scans (and, through them, events). */
static int on_registry_event(void *ctx, struct meta_conn *c, const struct reg_event *ev)
{
    struct serve_hooks *h = ctx;
    if (h->scan && (ev->action == REG_EVENT_PUSH || ev->action == REG_EVENT_DELETE)) {
        struct scan_image_event se;
        memset(&se, 0, sizeof(se));
        se.action = ev->action == REG_EVENT_PUSH ? SCAN_IMAGE_PUSHED : SCAN_IMAGE_DELETED;
        se.repo = ev->repo;
        se.repo_id = ev->repo_id;
        se.manifest_id = ev->manifest_id;
        se.digest = ev->digest;
        se.media_type = ev->media_type;
        se.subject = ev->subject;
        se.artifact_type = ev->artifact_type;
        se.is_new = ev->is_new;
        se.at = ev->at;
        int rc = scan_service_on_push(h->scan, c, &se);
        if (rc < 0)
            return rc;
    }
    int rc = serve_publish_image_action(&h->ev, c, ev);
    /* the worker wakes now and again after a short delay, by when this push has committed */
    if (rc == 0 && h->ev.bus)
        bus_kick(h->ev.bus);
    return rc;
}

/* Inside the scan service's transaction: publish what the scan changed. */
static int on_scan_event(void *ctx, struct meta_conn *c, const struct scan_event *ev)
{
    struct serve_hooks *h = ctx;
    int rc = serve_publish_scan_event(&h->ev, c, ev);
    if (rc == 0 && h->ev.bus)
        bus_kick(h->ev.bus);
    return rc;
}

/* When no credentials file exists: create one with a random access key, like the keys an
 * operator hands to the aws CLI (`aws configure`). */
static int make_aws_credentials(const char *path)
{
    char akid[17], secret[41];
    struct buf text;
    buf_init(&text, 4096);
    int rc = random_text("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16, akid);
    if (rc == 0)
        rc = random_text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 40,
                         secret);
    if (rc == 0) {
        buf_printf(&text, "[default]\naws_access_key_id = AKIA%s\naws_secret_access_key = %s\n",
                   akid, secret);
        rc = write_private_file(path, buf_cstr(&text), false);
    }
    explicit_bzero(secret, sizeof(secret));
    explicit_bzero(text.data, text.len);
    buf_release(&text);
    if (rc == 0)
        log_warn("serve",
                 "no credentials file: created %s with a random access key for the control API "
                 "(use it as AWS_SHARED_CREDENTIALS_FILE)",
                 path);
    return rc;
}

int cmd_serve(int argc, char **argv)
{
    struct conf c;
    struct diag d = { 0 };
    int status = 1;
    bool print_config = false;
    const char *config_file = getenv("VIGIL_CONFIG");
    struct meta_db *db = NULL;
    struct blob_store *bs = NULL;
    struct reg_auth *auth = NULL;
    struct registry *reg = NULL;
    struct http_server *srv = NULL;
    struct scan_service *scan = NULL;
    struct api_router *router = NULL;
    struct api_gateway *gw = NULL;
    struct ecr_api *ecr = NULL;
    struct sigv4_keyring *keys = NULL;
    struct serve_hooks hooks = { 0 };
    struct bus *bus = NULL;
    struct sns *sns = NULL;
    struct worker *worker = NULL;
    struct events_api *evapi = NULL;
    struct sns_api *snsapi = NULL;
    struct sns_signer signer;
    bool have_signer = false;
    struct smtp_config smtp;
    smtp_config_init(&smtp);
    char *vulndb = NULL, *cache_dir = NULL, *creds = NULL, *public_url = NULL;
    char *data_dir = NULL;
    struct buf users_path, users_text;
    buf_init(&users_path, 4096);
    buf_init(&users_text, 1 << 20);
    conf_init(&c, serve_defs, SERVE_NDEFS);

    /* --config first, so that flags override the file whatever their order */
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            serve_usage(stdout);
            status = 0;
            goto out;
        }
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            config_file = argv[++i];
        else if (strncmp(argv[i], "--config=", 9) == 0)
            config_file = argv[i] + 9;
    }
    if (config_file && *config_file && conf_load_file(&c, config_file, &d) < 0) {
        fprintf(stderr, "vigil serve: %s\n", d.msg);
        status = 2;
        goto out;
    }
    if (conf_load_env(&c, &d) < 0) {
        fprintf(stderr, "vigil serve: %s\n", d.msg);
        status = 2;
        goto out;
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0) {
            i++;
            continue;
        }
        if (strncmp(argv[i], "--config=", 9) == 0)
            continue;
        if (strcmp(argv[i], "--print-config") == 0) {
            print_config = true;
            continue;
        }
        int rc = conf_flag(&c, argc, argv, &i, &d);
        if (rc == 1)
            continue;
        if (rc < 0)
            fprintf(stderr, "vigil serve: %s\n", d.msg);
        else
            fprintf(stderr, "vigil serve: unknown option '%s' (see 'vigil serve --help')\n",
                    argv[i]);
        status = 2;
        goto out;
    }
    if (print_config) {
        conf_dump(stdout, &c);
        status = 0;
        goto out;
    }

    int lvl = log_level_parse(conf_str(&c, "log-level"));
    if (lvl < 0) {
        fprintf(stderr, "vigil serve: log-level '%s' is not one of error, warn, info, debug\n",
                conf_str(&c, "log-level"));
        status = 2;
        goto out;
    }
    log_set_level((enum log_level)lvl);

    char host[256];
    int port;
    if (parse_listen(conf_str(&c, "listen"), host, sizeof(host), &port) < 0) {
        fprintf(stderr, "vigil serve: listen address '%s' is not HOST:PORT\n",
                conf_str(&c, "listen"));
        status = 2;
        goto out;
    }

    data_dir =
        conf_str(&c, "data-dir") ? xstrdup(conf_str(&c, "data-dir")) : cli_default_data_dir();
    int rc = fs_mkdir_p(data_dir, 0750);
    if (rc < 0) {
        fprintf(stderr, "vigil serve: cannot create data directory '%s': %s\n", data_dir,
                strerror(-rc));
        goto out;
    }

    /* metadata and blobs */
    struct buf dbpath;
    buf_init(&dbpath, 4096);
    buf_printf(&dbpath, "%s/%s", data_dir, META_DB_FILE);
    rc = meta_open(buf_cstr(&dbpath), NULL, &db, &d);
    buf_release(&dbpath);
    if (rc < 0) {
        fprintf(stderr, "vigil serve: %s\n", d.msg);
        goto out;
    }
    if (blob_store_open(data_dir, &bs, &d) < 0) {
        fprintf(stderr, "vigil serve: %s\n", d.msg);
        goto out;
    }
    /* the first usage call walks the store: do it now, not under the metrics lock */
    uint64_t store_bytes = 0, store_blobs = 0;
    blob_store_usage(bs, &store_bytes, &store_blobs);

    /* authentication */
    struct reg_auth_config ac = { 0 };
    ac.data_dir = data_dir;
    ac.anonymous = conf_bool(&c, "anonymous");
    ac.token_ttl_s = conf_duration_ms(&c, "token-ttl") / 1000;
    if (conf_str(&c, "users-file")) {
        buf_append_cstr(&users_path, conf_str(&c, "users-file"));
    } else {
        buf_printf(&users_path, "%s/users", data_dir);
        if (!ac.anonymous && access(buf_cstr(&users_path), F_OK) != 0 &&
            (rc = make_initial_user(buf_cstr(&users_path), data_dir)) < 0) {
            fprintf(stderr, "vigil serve: cannot create the users file '%s': %s\n",
                    buf_cstr(&users_path), err_str(rc));
            goto out;
        }
    }
    struct reader *ur = NULL;
    rc = reader_file_open(buf_cstr(&users_path), &ur, NULL);
    if (rc == 0) {
        rc = reader_read_all(ur, &users_text); /* users_text caps it at 1 MiB */
        reader_close(ur);
    }
    if (rc < 0 && !(rc == -ENOENT && ac.anonymous)) {
        fprintf(stderr, "vigil serve: cannot read the users file '%s': %s\n", buf_cstr(&users_path),
                err_str(rc));
        goto out;
    }
    ac.users_text = buf_cstr(&users_text);
    if (reg_auth_new(&ac, &auth, &d) < 0) {
        /* a bad users line is named by its number: say which file; key-file errors name it */
        if (strncmp(d.msg, "users line", 10) == 0)
            fprintf(stderr, "vigil serve: %s: %s\n", buf_cstr(&users_path), d.msg);
        else
            fprintf(stderr, "vigil serve: %s\n", d.msg);
        goto out;
    }

    /* vulnerability database and scanning */
    vulndb = conf_str(&c, "vulndb") ? xstrdup(conf_str(&c, "vulndb"))
                                    : xasprintf("%s/vulndb.sqlite", data_dir);
    if (access(vulndb, F_OK) != 0 && cli_import_bundled(vulndb, "vigil serve", &d) < 0) {
        fprintf(stderr, "vigil serve: %s\n", d.msg);
        goto out;
    }
    cache_dir = conf_str(&c, "cache-dir") ? xstrdup(conf_str(&c, "cache-dir"))
                                          : xasprintf("%s/cache", data_dir);
    if ((rc = fs_mkdir_p(cache_dir, 0750)) < 0) {
        fprintf(stderr, "vigil serve: cannot create cache directory '%s': %s\n", cache_dir,
                strerror(-rc));
        goto out;
    }
    /* event bus and SNS topics (their tables first: the registry and the scans publish) */
    struct bus_config bc = { 0 };
    bc.region = conf_str(&c, "region");
    bc.account = conf_str(&c, "account-id");
    if (bus_migrate(db, &d) < 0 || bus_new(&bc, &bus, &d) < 0) {
        fprintf(stderr, "vigil serve: event bus: %s\n", d.msg);
        goto out;
    }
    struct sns_config nc = { 0 };
    nc.region = conf_str(&c, "region");
    nc.account = conf_str(&c, "account-id");
    if (sns_migrate(db, &d) < 0 || sns_new(&nc, &sns, &d) < 0) {
        fprintf(stderr, "vigil serve: topics: %s\n", d.msg);
        goto out;
    }
    hooks.ev.bus = bus;
    hooks.ev.account = conf_str(&c, "account-id");
    hooks.ev.region = conf_str(&c, "region");

    struct scan_service_config sc;
    scan_service_config_init(&sc);
    sc.on_event = on_scan_event;
    sc.event_ctx = &hooks;
    sc.db = db;
    sc.blobs = bs;
    sc.vulndb_path = vulndb;
    sc.cache_dir = cache_dir;
    sc.workers = (int)conf_int(&c, "scan-workers");
    if (sc.workers == 0)
        sc.workers = -1;
    sc.manual_interval_s = conf_duration_ms(&c, "manual-scan-interval") / 1000;
    if (sc.manual_interval_s == 0)
        sc.manual_interval_s = -1;
    sc.rescan_poll_s = conf_duration_ms(&c, "rescan-poll") / 1000;
    sc.continuous_duration_s = conf_duration_ms(&c, "continuous-duration") / 1000;
    sc.scan_indexes = conf_bool(&c, "scan-indexes");
    sc.platform = conf_str(&c, "scan-platform");
    sc.account_id = conf_str(&c, "account-id");
    sc.region = conf_str(&c, "region");
    if (scan_service_new(&sc, &scan, &d) < 0) {
        fprintf(stderr, "vigil serve: %s\n", d.msg);
        goto out;
    }
    hooks.scan = scan;

    /* registry */
    struct registry_config rc_cfg;
    registry_config_init(&rc_cfg);
    rc_cfg.db = db;
    rc_cfg.blobs = bs;
    rc_cfg.auth = auth;
    rc_cfg.create_on_push = conf_bool(&c, "create-on-push");
    rc_cfg.manifest_max = conf_size(&c, "max-manifest");
    rc_cfg.upload_expiry_s = conf_duration_ms(&c, "upload-expiry") / 1000;
    rc_cfg.delete_disabled = !conf_bool(&c, "delete-enabled");
    rc_cfg.on_event = on_registry_event;
    rc_cfg.event_ctx = &hooks;
    if (registry_new(&rc_cfg, &reg, &d) < 0) {
        fprintf(stderr, "vigil serve: %s\n", d.msg);
        goto out;
    }

    /* control API: ECR (AWS JSON 1.1) behind SigV4 */
    if (conf_str(&c, "aws-credentials")) {
        creds = xstrdup(conf_str(&c, "aws-credentials"));
    } else {
        creds = xasprintf("%s/aws-credentials", data_dir);
        if (access(creds, F_OK) != 0 && (rc = make_aws_credentials(creds)) < 0) {
            fprintf(stderr, "vigil serve: cannot create '%s': %s\n", creds, err_str(rc));
            goto out;
        }
    }
    if (sigv4_keyring_load(creds, &keys, &d) < 0) {
        fprintf(stderr, "vigil serve: %s\n", d.msg);
        goto out;
    }
    if (conf_str(&c, "public-url"))
        public_url = xstrdup(conf_str(&c, "public-url"));
    router = api_router_new();
    struct ecr_api_config ec = { 0 };
    ec.db = db;
    ec.registry = reg;
    ec.auth = auth;
    ec.scan = scan;
    ec.account_id = conf_str(&c, "account-id");
    ec.region = conf_str(&c, "region");
    ec.public_url = public_url;
    if (ecr_api_new(&ec, &ecr, &d) < 0 || ecr_api_register(ecr, router) < 0) {
        fprintf(stderr, "vigil serve: control API: %s\n", d.msg[0] ? d.msg : "setup failed");
        goto out;
    }
    memset(&signer, 0, sizeof(signer));
    if (sns_signer_load_or_create(&signer, data_dir, &d) < 0) {
        fprintf(stderr, "vigil serve: notification signing key: %s\n", d.msg);
        goto out;
    }
    have_signer = true;
    struct events_api_config evc = { 0 };
    evc.db = db;
    evc.bus = bus;
    evc.account_id = conf_str(&c, "account-id");
    evc.region = conf_str(&c, "region");
    if (events_api_new(&evc, &evapi, &d) < 0 || events_api_register(evapi, router) < 0) {
        fprintf(stderr, "vigil serve: EventBridge API: %s\n", d.msg[0] ? d.msg : "setup failed");
        goto out;
    }
    struct sns_api_config snc = { 0 };
    snc.db = db;
    snc.sns = sns;
    snc.signer = &signer;
    if (sns_api_new(&snc, &snsapi, &d) < 0 || sns_api_register(snsapi, router) < 0) {
        fprintf(stderr, "vigil serve: SNS API: %s\n", d.msg[0] ? d.msg : "setup failed");
        goto out;
    }
    struct api_gateway_config gc = { 0 };
    gc.router = router;
    gc.keys = keys;
    gc.max_skew_s = conf_duration_ms(&c, "signature-skew") / 1000;
    gc.refuse_replays = conf_bool(&c, "refuse-replays");
    gc.region = conf_str(&c, "region");
    if (api_gateway_new(&gc, &gw) < 0) {
        fprintf(stderr, "vigil serve: control API: setup failed\n");
        goto out;
    }

    /* HTTP */
    struct http_server_config hc = { 0 };
    hc.addr = host;
    hc.port = port;
    hc.threads = (unsigned)conf_int(&c, "threads");
    hc.max_conns = (unsigned)conf_int(&c, "max-connections");
    hc.idle_timeout_s = (unsigned)(conf_duration_ms(&c, "idle-timeout") / 1000);
    hc.header_timeout_s = (unsigned)(conf_duration_ms(&c, "header-timeout") / 1000);
    hc.access_log = conf_bool(&c, "access-log");
    if (http_server_new(&hc, &srv, &d) < 0) {
        fprintf(stderr, "vigil serve: %s\n", d.msg);
        goto out;
    }
    struct http_handler rh, ah, lh;
    registry_handler(reg, &rh);
    api_gateway_handler(gw, &ah);
    sns_api_link_handler(snsapi, &lh);
    if (http_server_route(srv,
                          HTTP_GET | HTTP_HEAD | HTTP_POST | HTTP_PUT | HTTP_PATCH | HTTP_DELETE,
                          "/v2/", true, "registry", &rh) < 0 ||
        http_server_route(srv, HTTP_GET | HTTP_HEAD, "/v2", false, "registry", &rh) < 0 ||
        http_server_route(srv, HTTP_POST | HTTP_GET, "/", false, "api", &ah) < 0 ||
        http_server_route(srv, HTTP_GET, SNS_CONFIRM_PATH, false, "sns-link", &lh) < 0 ||
        http_server_route(srv, HTTP_GET, SNS_UNSUBSCRIBE_PATH, false, "sns-link", &lh) < 0 ||
        (sns_api_cert_path(snsapi) &&
         http_server_route(srv, HTTP_GET, sns_api_cert_path(snsapi), false, "sns-link", &lh) < 0) ||
        http_server_enable_metrics(srv, "/metrics") < 0 ||
        http_server_add_gauge(srv, "vigil_blob_store_bytes", "Bytes in the blob store",
                              blob_bytes_gauge, bs) < 0 ||
        http_server_add_gauge(srv, "vigil_blob_store_blobs", "Blobs in the blob store",
                              blob_count_gauge, bs) < 0) {
        fprintf(stderr, "vigil serve: cannot set up the HTTP routes\n");
        goto out;
    }

    /* Block the stop signals before any thread starts so that only sigwait() sees them. */
    sigset_t stop_set;
    sigemptyset(&stop_set);
    sigaddset(&stop_set, SIGINT);
    sigaddset(&stop_set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_set, NULL);

    if (scan_service_start(scan) < 0) {
        fprintf(stderr, "vigil serve: cannot start the scan workers\n");
        goto out;
    }
    if (http_server_start(srv, &d) < 0) {
        fprintf(stderr, "vigil serve: %s\n", d.msg);
        goto out;
    }
    int actual = http_server_port(srv);
    if (!public_url)
        public_url = xasprintf("http://%s%s%s:%d", strchr(host, ':') ? "[" : "",
                               strcmp(host, "0.0.0.0") == 0 ? "127.0.0.1" : host,
                               strchr(host, ':') ? "]" : "", actual);

    /* the delivery worker: outbox -> topics -> mail and webhooks */
    if (conf_str(&c, "smtp-url") && smtp_config_parse(&smtp, conf_str(&c, "smtp-url"), &d) < 0) {
        fprintf(stderr, "vigil serve: smtp-url: %s\n", d.msg);
        goto out;
    }
    char *end = NULL;
    double scale = strtod(conf_str(&c, "delivery-retry-scale"), &end);
    if (!end || *end || !(scale > 0) || scale > 1000) {
        fprintf(stderr, "vigil serve: delivery-retry-scale '%s' is not a number in (0, 1000]\n",
                conf_str(&c, "delivery-retry-scale"));
        goto out;
    }
    struct worker_config wc = { 0 };
    wc.db = db;
    wc.bus = bus;
    wc.sns = sns;
    wc.smtp = conf_str(&c, "smtp-url") ? &smtp : NULL;
    wc.mail_from = conf_str(&c, "mail-from");
    wc.public_url = public_url;
    wc.signer = &signer;
    if (conf_str(&c, "webhook-secret")) {
        wc.webhook_secret = conf_str(&c, "webhook-secret");
        wc.webhook_secret_len = strlen(conf_str(&c, "webhook-secret"));
    }
    wc.retry_scale = scale;
    if (worker_new(&wc, &worker, &d) < 0) {
        fprintf(stderr, "vigil serve: delivery worker: %s\n", d.msg);
        goto out;
    }
    log_info("serve", "serving http://%s%s%s:%d data_dir=%s anonymous=%s",
             strchr(host, ':') ? "[" : "", host, strchr(host, ':') ? "]" : "", actual, data_dir,
             ac.anonymous ? "true" : "false");
    if (conf_str(&c, "port-file") &&
        (rc = write_port_file(conf_str(&c, "port-file"), actual)) < 0) {
        fprintf(stderr, "vigil serve: cannot write port file '%s': %s\n", conf_str(&c, "port-file"),
                strerror(-rc));
        goto out;
    }

    int sig = 0;
    sigwait(&stop_set, &sig);
    log_info("serve", "stopping on signal %d", sig);
    http_server_stop(srv);
    scan_service_stop(scan);
    status = 0;
out:
    http_server_free(srv);
    scan_service_free(scan);
    worker_free(worker);
    events_api_free(evapi);
    sns_api_free(snsapi);
    api_gateway_free(gw);
    ecr_api_free(ecr);
    if (router)
        api_router_free(router);
    if (keys)
        sigv4_keyring_free(keys);
    registry_free(reg);
    bus_free(bus);
    sns_free(sns);
    if (have_signer)
        sns_signer_release(&signer);
    smtp_config_release(&smtp);
    reg_auth_free(auth);
    if (bs)
        blob_store_close(bs);
    if (db)
        meta_close(db);
    free(data_dir);
    free(vulndb);
    free(cache_dir);
    free(creds);
    free(public_url);
    buf_release(&users_path);
    buf_release(&users_text);
    conf_release(&c);
    return status;
}

int cmd_passwd(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: vigil passwd [--password-stdin]\n"
                   "\n"
                   "Read a password (one line) from standard input and print its hash for the\n"
                   "users file of 'vigil serve' (a line 'name:HASH').\n");
            return 0;
        }
        if (strcmp(argv[i], "--password-stdin") != 0) {
            fprintf(stderr, "vigil passwd: unknown option '%s'\n", argv[i]);
            return 2;
        }
    }
    char line[1024];
    if (!fgets(line, sizeof(line), stdin)) {
        fprintf(stderr, "vigil passwd: no password on standard input\n");
        return 1;
    }
    size_t n = strcspn(line, "\r\n");
    if (n == sizeof(line) - 1) {
        fprintf(stderr, "vigil passwd: password longer than 1022 bytes\n");
        return 1;
    }
    line[n] = '\0';
    if (n == 0) {
        fprintf(stderr, "vigil passwd: empty password\n");
        return 1;
    }
    struct buf out;
    buf_init(&out, 4096);
    int rc = reg_auth_hash_password(line, &out);
    explicit_bzero(line, sizeof(line));
    if (rc < 0) {
        fprintf(stderr, "vigil passwd: %s\n", err_str(rc));
        buf_release(&out);
        return 1;
    }
    printf("%s\n", buf_cstr(&out));
    buf_release(&out);
    return 0;
}
