/* SPDX-License-Identifier: Apache-2.0 */
/* vigil image inspect|fetch: resolve an image reference and print what the source says
 * (inspect) or also read every layer blob to its end, verifying digests (fetch). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "cli/cli.h"
#include "image/source.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: vigil image inspect|fetch [--platform OS/ARCH[/VARIANT]] "
               "[--creds USER:PASS] [--tls-verify=false] REF\n"
               "  REF: oci:DIR[:REF] | docker-archive:FILE[:NAME:TAG] | "
               "docker://HOST[:PORT]/REPO[:TAG|@DIGEST]\n"
               "  inspect  print the manifest, config and layer list as JSON\n"
               "  fetch    also read every layer blob, verifying digest and size\n"
               "  --tls-verify=false  skip TLS certificate checks and allow plain HTTP\n");
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *info_json(const struct image_info *info)
{
    json_t *o = json_object();
    json_object_set_new(o, "ref", json_string(info->ref));
    json_object_set_new(o, "name", str_or_null(info->name));
    json_object_set_new(o, "manifestDigest", json_string(info->manifest_digest));
    json_object_set_new(o, "mediaType", json_string(info->manifest_media_type));
    json_object_set_new(o, "indexDigest", str_or_null(info->index_digest));
    json_object_set_new(o, "configDigest", json_string(info->config_digest));
    json_object_set_new(o, "os", str_or_null(info->os));
    json_object_set_new(o, "architecture", str_or_null(info->architecture));
    json_object_set_new(o, "variant", str_or_null(info->variant));
    json_t *layers = json_array();
    for (size_t i = 0; i < info->nlayers; i++) {
        const struct image_layer *l = &info->layers[i];
        json_t *lj = json_object();
        json_object_set_new(lj, "digest", json_string(l->digest));
        json_object_set_new(lj, "mediaType", json_string(l->media_type));
        json_object_set_new(lj, "size", json_integer((json_int_t)l->size));
        json_object_set_new(lj, "diffID", str_or_null(l->diff_id));
        json_array_append_new(layers, lj);
    }
    json_object_set_new(o, "layers", layers);
    return o;
}

static void print_json(json_t *o)
{
    json_dumpf(o, stdout, JSON_INDENT(2));
    fputc('\n', stdout);
}

/* Read every layer to its end; the source's stream checks digest and size at the end. */
static int fetch_layers(const char *ref, struct image_source *src, const struct image_info *info,
                        json_t *out)
{
    static char chunk[1 << 16];
    json_t *layers = json_array();
    unsigned long long total = 0;
    json_object_set_new(out, "layers", layers);
    for (size_t i = 0; i < info->nlayers; i++) {
        const struct image_layer *l = &info->layers[i];
        struct reader *r = NULL;
        struct diag d = { 0 };
        unsigned long long n = 0;
        int rc = image_source_open_blob(src, l, &r, &d);
        while (rc == 0) {
            ssize_t got = reader_read(r, chunk, sizeof(chunk));
            if (got < 0) {
                rc = (int)got;
                d = r->diag;
                break;
            }
            if (got == 0)
                break;
            n += (unsigned long long)got;
        }
        reader_close(r);
        if (rc) {
            fprintf(stderr, "vigil image fetch: image '%s': layer %zu: %s\n", ref, i,
                    d.msg[0] ? d.msg : err_str(rc));
            return 1;
        }
        total += n;
        json_t *lj = json_object();
        json_object_set_new(lj, "digest", json_string(l->digest));
        json_object_set_new(lj, "size", json_integer((json_int_t)l->size));
        json_object_set_new(lj, "bytesRead", json_integer((json_int_t)n));
        json_array_append_new(layers, lj);
    }
    json_object_set_new(out, "totalBytes", json_integer((json_int_t)total));
    return 0;
}

/* "--name=value" or "--name value": the value, or NULL when arg is not this option. */
static const char *opt_value(const char *name, int argc, char **argv, int *i)
{
    size_t n = strlen(name);
    const char *a = argv[*i];
    if (!a || strncmp(a, name, n) != 0)
        return NULL;
    if (a[n] == '=')
        return a + n + 1;
    if (a[n] == '\0' && *i + 1 < argc) {
        (*i)++;
        return argv[*i];
    }
    return NULL;
}

int cmd_image(int argc, char **argv)
{
    struct image_opts opts = { .tls_verify = true };
    const char *ref = NULL, *v;
    char *user = NULL;
    int status = 1;

    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0) {
        usage(stdout);
        return 0;
    }
    bool fetch = strcmp(sub, "fetch") == 0;
    if (!fetch && strcmp(sub, "inspect") != 0) {
        fprintf(stderr, "vigil image: unknown subcommand '%s'\n", sub);
        usage(stderr);
        return 2;
    }
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            free(user);
            return 0;
        } else if ((v = opt_value("--platform", argc, argv, &i))) {
            opts.platform = v;
        } else if ((v = opt_value("--creds", argc, argv, &i))) {
            const char *colon = strchr(v, ':');
            free(user);
            user = colon ? xstrndup(v, (size_t)(colon - v)) : xstrdup(v);
            opts.username = user;
            opts.password = colon ? colon + 1 : "";
        } else if (strcmp(a, "--tls-verify") == 0 || strcmp(a, "--tls-verify=true") == 0) {
            opts.tls_verify = true;
        } else if (strcmp(a, "--tls-verify=false") == 0) {
            opts.tls_verify = false;
            opts.insecure_http = true; /* as skopeo: no verification also allows plain HTTP */
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "vigil image %s: unknown or incomplete option '%s'\n", sub, a);
            free(user);
            return 2;
        } else if (ref) {
            fprintf(stderr, "vigil image %s: more than one image reference\n", sub);
            free(user);
            return 2;
        } else {
            ref = a;
        }
    }
    if (!ref) {
        fprintf(stderr, "vigil image %s: missing image reference\n", sub);
        usage(stderr);
        free(user);
        return 2;
    }

    struct image_source *src = NULL;
    struct image_info info = { 0 };
    struct diag d = { 0 };
    int rc = image_source_open(ref, &opts, &src, &d);
    if (rc == 0)
        rc = image_source_resolve(src, &info, &d);
    if (rc) {
        fprintf(stderr, "vigil image %s: %s\n", sub, d.msg[0] ? d.msg : err_str(rc));
        status = 1;
        goto out;
    }
    json_t *o = info_json(&info);
    if (fetch) {
        json_t *f = json_object();
        json_object_set_new(f, "ref", json_string(info.ref));
        json_object_set_new(f, "manifestDigest", json_string(info.manifest_digest));
        json_object_set_new(f, "configDigest", json_string(info.config_digest));
        status = fetch_layers(ref, src, &info, f);
        if (status == 0)
            print_json(f);
        json_decref(f);
    } else {
        print_json(o);
        status = 0;
    }
    json_decref(o);
out:
    image_info_release(&info);
    image_source_close(src);
    free(user);
    return status;
}
