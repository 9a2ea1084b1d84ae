/* SPDX-License-Identifier: Apache-2.0 */
/* Shared image options of the scan and sbom commands. */
#include "cli/common.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "base/xalloc.h"

const char image_cli_help[] =
    "image options:\n"
    "  --platform OS/ARCH[/VARIANT]  platform to pick from an image index (default linux/amd64)\n"
    "  --creds USER:PASS             registry credentials for docker:// references\n"
    "                                (also read from VIGIL_REGISTRY_CREDS)\n"
    "  --tls-verify=false            do not verify registry TLS certificates; allow plain HTTP\n"
    "  --cache-dir DIR               layer cache directory (default $VIGIL_CACHE_DIR,\n"
    "                                $XDG_CACHE_HOME/vigil or ~/.cache/vigil)\n"
    "  --no-cache                    read every layer, do not use or fill the layer cache\n"
    "  --max-file-size BYTES         cap on one file read from a layer (default 64 MiB)\n"
    "  -o, --output FILE             write the report to FILE instead of stdout\n"
    "\n"
    "IMAGE references (as skopeo writes them):\n"
    "  oci:DIR[:REF]                 OCI image layout directory (REF = ref.name annotation)\n"
    "  docker-archive:FILE[:REF]     'docker save' tarball\n"
    "  docker://HOST[:PORT]/REPO[:TAG|@DIGEST]  image in a registry\n";

void image_cli_init(struct image_cli *c)
{
    memset(c, 0, sizeof(*c));
    c->inv.image.tls_verify = true;
}

void image_cli_release(struct image_cli *c)
{
    free(c->cache_dir_owned);
    free(c->creds_owned);
}

char *default_cache_dir(void)
{
    const char *e = getenv("VIGIL_CACHE_DIR");
    if (e && *e)
        return xstrdup(e);
    e = getenv("XDG_CACHE_HOME");
    if (e && *e)
        return xasprintf("%s/vigil", e);
    e = getenv("HOME");
    return xasprintf("%s/.cache/vigil", e && *e ? e : "/tmp");
}

static void set_creds(struct image_cli *c, const char *v)
{
    free(c->creds_owned);
    c->creds_owned = xstrdup(v);
    char *colon = strchr(c->creds_owned, ':');
    if (colon) {
        *colon = '\0';
        c->inv.image.password = colon + 1;
    } else {
        c->inv.image.password = "";
    }
    c->inv.image.username = c->creds_owned;
}

static const char *opt_value(const char *cmd, int argc, char **argv, int *i, const char *name)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) == 0 && a[n] == '=')
        return a + n + 1;
    if (*i + 1 >= argc) {
        fprintf(stderr, "vigil %s: option '%s' needs a value\n", cmd, name);
        return NULL;
    }
    return argv[++*i];
}

static bool opt_is(const char *a, const char *name)
{
    size_t n = strlen(name);
    return strncmp(a, name, n) == 0 && (a[n] == '\0' || a[n] == '=');
}

int image_cli_option(struct image_cli *c, const char *cmd, int argc, char **argv, int *i)
{
    const char *a = argv[*i];
    const char *v;
    if (opt_is(a, "--platform")) {
        if (!(v = opt_value(cmd, argc, argv, i, "--platform")))
            return -1;
        c->inv.image.platform = v;
    } else if (opt_is(a, "--creds")) {
        if (!(v = opt_value(cmd, argc, argv, i, "--creds")))
            return -1;
        set_creds(c, v);
    } else if (strcmp(a, "--tls-verify=false") == 0) {
        c->inv.image.tls_verify = false;
        c->inv.image.insecure_http = true;
    } else if (strcmp(a, "--tls-verify=true") == 0 || strcmp(a, "--tls-verify") == 0) {
        c->inv.image.tls_verify = true;
    } else if (opt_is(a, "--cache-dir")) {
        if (!(v = opt_value(cmd, argc, argv, i, "--cache-dir")))
            return -1;
        free(c->cache_dir_owned);
        c->cache_dir_owned = xstrdup(v);
    } else if (strcmp(a, "--no-cache") == 0) {
        c->no_cache = true;
    } else if (opt_is(a, "--max-file-size")) {
        if (!(v = opt_value(cmd, argc, argv, i, "--max-file-size")))
            return -1;
        unsigned long long n;
        if (!str_to_u64(str_from(v), &n) || n == 0) {
            fprintf(stderr, "vigil %s: --max-file-size wants a positive byte count, not '%s'\n",
                    cmd, v);
            return -1;
        }
        c->inv.max_file = n;
    } else if (opt_is(a, "--output") || strcmp(a, "-o") == 0) {
        if (!(v = opt_value(cmd, argc, argv, i, strcmp(a, "-o") == 0 ? "-o" : "--output")))
            return -1;
        c->output = v;
    } else if (opt_is(a, "--format") || strcmp(a, "-f") == 0) {
        if (!(v = opt_value(cmd, argc, argv, i, strcmp(a, "-f") == 0 ? "-f" : "--format")))
            return -1;
        c->format = v;
    } else {
        return 0;
    }
    return 1;
}

void image_cli_finish(struct image_cli *c)
{
    if (!c->creds_owned) {
        const char *e = getenv("VIGIL_REGISTRY_CREDS");
        if (e && *e)
            set_creds(c, e);
    }
    if (c->no_cache) {
        c->inv.cache_dir = NULL;
        return;
    }
    if (!c->cache_dir_owned)
        c->cache_dir_owned = default_cache_dir();
    c->inv.cache_dir = c->cache_dir_owned;
}

FILE *open_output(const char *cmd, const char *path)
{
    if (!path || strcmp(path, "-") == 0)
        return stdout;
    FILE *f = fopen(path, "w");
    if (!f)
        fprintf(stderr, "vigil %s: cannot write '%s': %s\n", cmd, path, strerror(errno));
    return f;
}

int stdout_width(void)
{
    struct winsize ws;
    if (!isatty(STDOUT_FILENO))
        return 0;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    return 80;
}
