/*
 * seal.c - secrets at rest: webhook URLs (a chat webhook's path is its credential), signing
 * secrets and routing keys are stored sealed with the data directory's key file.
 *
 * The key is 32 random bytes in DATA/oncue.key (mode 0600), made when the store is first
 * opened. A sealed value is "sealed1:" + base64url(nonce | secretbox), libsodium's
 * crypto_secretbox_easy (XSalsa20-Poly1305) with a fresh random nonce, so equal secrets
 * seal differently and a changed byte fails to open. A copy of oncue.db alone gives nothing;
 * the key file belongs in the same backups as the database, or sealed values cannot be
 * opened (the delivery says so). A value without the prefix was stored before sealing and is
 * read as it is (store_unseal), until its owner seals it again.
 */
#include "store/store_int.h"
#include "core/alloc.h"
#include "core/err.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PREFIX     STORE_SEALED_PREFIX
#define PREFIX_LEN (sizeof(PREFIX) - 1)

int store_key_load(struct store *s, const char *dir, char *err, size_t errlen)
{
    char path[4096];
    unsigned char key[crypto_secretbox_KEYBYTES + 1]; /* one more: a longer file is refused */
    ssize_t n;
    if (sodium_init() < 0) {
        snprintf(err, errlen, "libsodium failed to initialize");
        return OC_EIO;
    }
    snprintf(path, sizeof path, "%s/%s", dir, STORE_KEY_NAME);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) { /* the first open: make the key */
        randombytes_buf(key, crypto_secretbox_KEYBYTES);
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 && errno == EEXIST) { /* another process made it meanwhile: read its */
            usleep(50000);
        } else if (fd < 0 ||
                   write(fd, key, crypto_secretbox_KEYBYTES) !=
                       (ssize_t)crypto_secretbox_KEYBYTES ||
                   fsync(fd) != 0) {
            snprintf(err, errlen, "%s: cannot write the key file: %s", path, strerror(errno));
            if (fd >= 0)
                close(fd);
            sodium_memzero(key, sizeof key);
            return OC_EIO;
        } else {
            close(fd);
        }
        fd = open(path, O_RDONLY | O_CLOEXEC);
    }
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot read the key file: %s", path, strerror(errno));
        return OC_EIO;
    }
    struct stat sb;
    if (fstat(fd, &sb) == 0 && (sb.st_mode & 077))
        (void)fchmod(fd, 0600);
    n = read(fd, key, sizeof key);
    close(fd);
    if (n == (ssize_t)sizeof s->key)
        memcpy(s->key, key, sizeof s->key);
    sodium_memzero(key, sizeof key);
    if (n != (ssize_t)sizeof s->key) {
        snprintf(err, errlen,
                 "%s: expected %zu bytes, found %s%zd (the key that seals stored secrets)", path,
                 sizeof s->key, n > (ssize_t)sizeof s->key ? "more than " : "", n);
        return OC_EIO;
    }
    s->has_key = 1;
    return 0;
}

int store_is_sealed(const char *text)
{
    return text && strncmp(text, PREFIX, PREFIX_LEN) == 0;
}

char *store_seal(struct store *s, const char *plain)
{
    if (!plain)
        return NULL;
    if (!s->has_key)
        return oc_strdup(plain);
    size_t n = strlen(plain), blen = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + n;
    unsigned char *box = oc_malloc(blen);
    randombytes_buf(box, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(box + crypto_secretbox_NONCEBYTES, (const unsigned char *)plain, n, box,
                          s->key);
    size_t tlen = sodium_base64_ENCODED_LEN(blen, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    char *out = oc_malloc(PREFIX_LEN + tlen);
    memcpy(out, PREFIX, PREFIX_LEN);
    sodium_bin2base64(out + PREFIX_LEN, tlen, box, blen, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    free(box);
    return out;
}

int store_unseal(struct store *s, const char *text, char **plain)
{
    *plain = NULL;
    if (!text)
        return 0;
    if (!store_is_sealed(text)) {
        *plain = oc_strdup(text);
        return 0;
    }
    if (!s->has_key)
        return OC_EAUTH;
    const char *b64 = text + PREFIX_LEN;
    size_t cap = strlen(b64), blen = 0;
    unsigned char *box = oc_malloc(cap + 1);
    int rc = OC_EAUTH;
    if (sodium_base642bin(box, cap, b64, strlen(b64), NULL, &blen, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0 &&
        blen >= crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES) {
        size_t n = blen - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
        char *out = oc_malloc(n + 1);
        if (crypto_secretbox_open_easy((unsigned char *)out, box + crypto_secretbox_NONCEBYTES,
                                       blen - crypto_secretbox_NONCEBYTES, box, s->key) == 0 &&
            memchr(out, '\0', n) == NULL) {
            out[n] = '\0';
            *plain = out;
            rc = 0;
        } else {
            free(out);
        }
    }
    free(box);
    return rc;
}
