/* SPDX-License-Identifier: Apache-2.0 */
/* The SNS signing identity: an RSA 2048 key and a self-signed certificate kept in the data
 * directory (made at first start), and RSA PKCS#1 v1.5 signatures over SHA1 or SHA256. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/b64.h"
#include "base/hash.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "deliver/internal.h"
#include "deliver/sns_msg.h"

#define PEM_FILE_MAX ((size_t)64 * 1024)
#define CERT_DAYS    3650
#define KEY_BITS     2048

/* Read a small file; 0, -errno, or -ERR_TOO_BIG. */
static int read_small(const char *path, struct buf *out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int err = 0;
    for (;;) {
        char tmp[4096];
        ssize_t n = read(fd, tmp, sizeof(tmp));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            err = -errno;
            break;
        }
        if (n == 0)
            break;
        if ((err = buf_append(out, tmp, (size_t)n)))
            break;
    }
    close(fd);
    return err;
}

/* Write data to a fresh temporary file beside `path`, fsync it and link it into place.
 * Returns 0, -EEXIST when path already exists (left untouched), or -errno. */
static int publish_file(const char *path, const void *data, size_t n, mode_t mode)
{
    unsigned char r[8];
    dlv_random(r, sizeof(r));
    char suffix[17];
    hex_encode(r, sizeof(r), suffix);
    char *tmp = xasprintf("%s.tmp-%s", path, suffix);
    int err = 0;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        err = -errno;
        goto out;
    }
    const char *p = data;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            err = -errno;
            break;
        }
        p += w;
        n -= (size_t)w;
    }
    if (!err && fsync(fd) != 0)
        err = -errno;
    if (close(fd) != 0 && !err)
        err = -errno;
    /* link() fails on an existing name: two first starts cannot overwrite each other */
    if (!err && link(tmp, path) != 0)
        err = -errno;
    unlink(tmp);
out:
    free(tmp);
    return err;
}

static char *pem_of_key(EVP_PKEY *k, size_t *len)
{
    BIO *b = BIO_new(BIO_s_mem());
    BUG_ON(!b);
    BUG_ON(PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) != 1);
    char *p;
    long n = BIO_get_mem_data(b, &p);
    char *out = xstrndup(p, (size_t)n);
    *len = (size_t)n;
    BIO_free(b);
    return out;
}

static char *pem_of_cert(X509 *x, size_t *len)
{
    BIO *b = BIO_new(BIO_s_mem());
    BUG_ON(!b);
    BUG_ON(PEM_write_bio_X509(b, x) != 1);
    char *p;
    long n = BIO_get_mem_data(b, &p);
    char *out = xstrndup(p, (size_t)n);
    *len = (size_t)n;
    BIO_free(b);
    return out;
}

static void add_ext(X509 *x, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    BUG_ON(!e);
    BUG_ON(X509_add_ext(x, e, -1) != 1);
    X509_EXTENSION_free(e);
}

/* A self-signed certificate for key k, valid for ten years from now. */
static X509 *make_cert(EVP_PKEY *k)
{
    X509 *x = X509_new();
    BUG_ON(!x);
    X509_set_version(x, 2);
    unsigned char serial[16];
    dlv_random(serial, sizeof(serial));
    serial[0] &= 0x7f; /* positive */
    BIGNUM *bn = BN_bin2bn(serial, sizeof(serial), NULL);
    BUG_ON(!bn);
    BUG_ON(!BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)));
    BN_free(bn);
    X509_gmtime_adj(X509_getm_notBefore(x), -300);
    X509_gmtime_adj(X509_getm_notAfter(x), (long)CERT_DAYS * 86400);
    BUG_ON(X509_set_pubkey(x, k) != 1);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"vigil", -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               (const unsigned char *)"vigil SNS message signing", -1, -1, 0);
    X509_set_issuer_name(x, name);
    add_ext(x, NID_basic_constraints, "critical,CA:FALSE");
    add_ext(x, NID_key_usage, "critical,digitalSignature");
    add_ext(x, NID_subject_key_identifier, "hash");
    BUG_ON(X509_sign(x, k, EVP_sha256()) <= 0);
    return x;
}

static int load_key(const char *path, EVP_PKEY **out, struct diag *d)
{
    struct buf b;
    buf_init(&b, PEM_FILE_MAX);
    int err = read_small(path, &b);
    if (err) {
        buf_release(&b);
        if (err == -ENOENT)
            return err;
        return diag_set(d, err, 0, "cannot read '%s': %s", path, err_str(err));
    }
    BIO *bio = BIO_new_mem_buf(b.data ? b.data : "", (int)b.len);
    EVP_PKEY *k = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (b.data)
        explicit_bzero(b.data, b.len);
    buf_release(&b);
    if (!k)
        return diag_set(d, -ERR_CORRUPT, 0, "'%s' is not a PEM private key", path);
    if (!EVP_PKEY_is_a(k, "RSA") || EVP_PKEY_get_bits(k) < KEY_BITS) {
        EVP_PKEY_free(k);
        return diag_set(d, -ERR_UNSUPPORTED, 0, "'%s' is not an RSA key of at least %d bits", path,
                        KEY_BITS);
    }
    struct stat st;
    if (stat(path, &st) == 0 && (st.st_mode & 077))
        log_warn("deliver", "signing key '%s' is readable by others (mode %03o); chmod 600 it",
                 path, (unsigned)(st.st_mode & 0777));
    *out = k;
    return 0;
}

static int load_cert(const char *path, X509 **out, struct diag *d)
{
    struct buf b;
    buf_init(&b, PEM_FILE_MAX);
    int err = read_small(path, &b);
    if (err) {
        buf_release(&b);
        if (err == -ENOENT)
            return err;
        return diag_set(d, err, 0, "cannot read '%s': %s", path, err_str(err));
    }
    BIO *bio = BIO_new_mem_buf(b.data ? b.data : "", (int)b.len);
    X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);
    buf_release(&b);
    if (!x)
        return diag_set(d, -ERR_CORRUPT, 0, "'%s' is not a PEM certificate", path);
    *out = x;
    return 0;
}

static int finish(struct sns_signer *s, EVP_PKEY *k, X509 *x, const char *cert_path, struct diag *d)
{
    if (X509_check_private_key(x, k) != 1) {
        EVP_PKEY_free(k);
        X509_free(x);
        return diag_set(d, -ERR_CORRUPT, 0, "certificate '%s' does not belong to the signing key",
                        cert_path);
    }
    s->key = k;
    s->cert = x;
    size_t n;
    s->cert_pem = pem_of_cert(x, &n);
    unsigned char *der = NULL;
    int dl = i2d_X509(x, &der);
    BUG_ON(dl <= 0);
    unsigned char h[SHA256_LEN];
    sha256_buf(der, (size_t)dl, h);
    OPENSSL_free(der);
    char hex[2 * SHA256_LEN + 1];
    hex_encode(h, sizeof(h), hex);
    snprintf(s->cert_name, sizeof(s->cert_name), "SimpleNotificationService-%.32s.pem", hex);
    return 0;
}

int sns_signer_load_or_create(struct sns_signer *s, const char *dir, struct diag *d)
{
    memset(s, 0, sizeof(*s));
    char *key_path = xasprintf("%s/%s", dir, SNS_KEY_FILE);
    char *cert_path = xasprintf("%s/%s", dir, SNS_CERT_FILE);
    EVP_PKEY *k = NULL;
    X509 *x = NULL;
    int err = load_key(key_path, &k, d);
    if (err == -ENOENT) {
        struct stat st;
        if (stat(cert_path, &st) == 0) {
            err = diag_set(d, -ERR_CORRUPT, 0,
                           "'%s' exists but its key '%s' does not; move the certificate away "
                           "to make a new signing identity",
                           cert_path, key_path);
            goto out;
        }
        k = EVP_RSA_gen(KEY_BITS);
        BUG_ON(!k);
        size_t n;
        char *pem = pem_of_key(k, &n);
        err = publish_file(key_path, pem, n, 0600);
        explicit_bzero(pem, n);
        free(pem);
        EVP_PKEY_free(k);
        k = NULL;
        if (err && err != -EEXIST) {
            err = diag_set(d, err, 0, "cannot write '%s': %s", key_path, err_str(err));
            goto out;
        }
        /* ours or a concurrent starter's: read back what is on disk */
        if ((err = load_key(key_path, &k, d)))
            goto out;
        log_info("deliver", "made SNS signing key '%s'", key_path);
    } else if (err) {
        goto out;
    }
    err = load_cert(cert_path, &x, d);
    if (err == -ENOENT) {
        X509 *nx = make_cert(k);
        size_t n;
        char *pem = pem_of_cert(nx, &n);
        X509_free(nx);
        err = publish_file(cert_path, pem, n, 0644);
        free(pem);
        if (err && err != -EEXIST) {
            err = diag_set(d, err, 0, "cannot write '%s': %s", cert_path, err_str(err));
            goto out;
        }
        if ((err = load_cert(cert_path, &x, d)))
            goto out;
    } else if (err) {
        goto out;
    }
    err = finish(s, k, x, cert_path, d);
    k = NULL;
    x = NULL;
out:
    EVP_PKEY_free(k);
    X509_free(x);
    free(key_path);
    free(cert_path);
    return err;
}

void sns_signer_release(struct sns_signer *s)
{
    EVP_PKEY_free(s->key);
    X509_free(s->cert);
    free(s->cert_pem);
    memset(s, 0, sizeof(*s));
}

int sns_sign(const struct sns_signer *s, int version, struct str data, struct buf *b64_out)
{
    const EVP_MD *md = version == 1 ? EVP_sha1() : version == 2 ? EVP_sha256() : NULL;
    if (!md)
        return -ERR_INVALID;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    BUG_ON(!ctx);
    unsigned char sig[1024];
    size_t n = sizeof(sig);
    BUG_ON(EVP_PKEY_get_size(s->key) > (int)sizeof(sig));
    BUG_ON(EVP_DigestSignInit(ctx, NULL, md, NULL, s->key) != 1);
    BUG_ON(EVP_DigestSign(ctx, sig, &n, (const unsigned char *)data.ptr, data.len) != 1);
    EVP_MD_CTX_free(ctx);
    return b64_encode(sig, n, B64_STD, b64_out);
}
