/*
 * webhook.c - Standard Webhooks key decoding, the signed content's HMAC, and signing with v1
 * (HMAC-SHA256) and v1a (Ed25519) keys (webhook.h).
 */
#include "core/webhook.h"
#include "core/err.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int oc_webhook_key(const char *secret, unsigned char *key)
{
    size_t n = 0;
    if (!secret)
        return -1;
    if (strncmp(secret, "whsec_", 6) == 0)
        secret += 6;
    if (!secret[0] ||
        sodium_base642bin(key, OC_WEBHOOK_KEY_MAX, secret, strlen(secret), NULL, &n, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        n == 0)
        return -1;
    return (int)n;
}

void oc_webhook_mac(const unsigned char *key, size_t klen, const char *msg_id, int64_t ts,
                    const char *body, size_t len, unsigned char out[OC_WEBHOOK_MAC_LEN])
{
    crypto_auth_hmacsha256_state st;
    char tsbuf[32];
    snprintf(tsbuf, sizeof(tsbuf), ".%lld.", (long long)ts);
    crypto_auth_hmacsha256_init(&st, key, klen);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg_id, strlen(msg_id));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)tsbuf, strlen(tsbuf));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
    crypto_auth_hmacsha256_final(&st, out);
    sodium_memzero(&st, sizeof st);
}

/* Decodes a "whsk_" key into libsodium's 64-byte secret key: 0 or -1. */
static int ed_key(const char *text, unsigned char sk[crypto_sign_SECRETKEYBYTES])
{
    unsigned char raw[crypto_sign_SECRETKEYBYTES];
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    size_t n = 0;
    int rc = -1;
    if (strncmp(text, "whsk_", 5) != 0 ||
        sodium_base642bin(raw, sizeof raw, text + 5, strlen(text + 5), NULL, &n, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0)
        return -1;
    if (n == crypto_sign_SECRETKEYBYTES) {
        memcpy(sk, raw, n);
        rc = 0;
    } else if (n == crypto_sign_SEEDBYTES) {
        rc = crypto_sign_seed_keypair(pk, sk, raw) == 0 ? 0 : -1;
    }
    sodium_memzero(raw, sizeof raw);
    return rc;
}

/* The Ed25519 signature of msg_id.ts.body under sk into sig: 0 or -1. */
static int ed_sign(const unsigned char *sk, const char *msg_id, int64_t ts, const char *body,
                   size_t len, unsigned char sig[crypto_sign_BYTES])
{
    char tb[32];
    int tl = snprintf(tb, sizeof tb, ".%lld.", (long long)ts);
    size_t il = strlen(msg_id), total = il + (size_t)tl + len;
    unsigned char *m = malloc(total ? total : 1);
    if (!m)
        return -1;
    memcpy(m, msg_id, il);
    memcpy(m + il, tb, (size_t)tl);
    memcpy(m + il + (size_t)tl, body, len);
    int rc = crypto_sign_detached(sig, NULL, m, total, sk);
    free(m);
    return rc == 0 ? 0 : -1;
}

/* Appends the entry of one key (NUL-terminated) to out at *at: 0 or OC_EINVAL. */
static int sign_one(const char *key, const char *msg_id, int64_t ts, const char *body, size_t len,
                    char *out, size_t n, size_t *at)
{
    unsigned char k[OC_WEBHOOK_KEY_MAX], sig[crypto_sign_BYTES];
    char b64[sodium_base64_ENCODED_LEN(crypto_sign_BYTES, sodium_base64_VARIANT_ORIGINAL)];
    const char *ver = "v1";
    size_t sl = OC_WEBHOOK_MAC_LEN;
    if (strncmp(key, "whsk_", 5) == 0) {
        int bad = ed_key(key, k) != 0 || ed_sign(k, msg_id, ts, body, len, sig) != 0;
        sodium_memzero(k, sizeof k);
        if (bad)
            return OC_EINVAL;
        ver = "v1a";
        sl = crypto_sign_BYTES;
    } else {
        int klen = oc_webhook_key(key, k);
        if (klen <= 0)
            return OC_EINVAL;
        oc_webhook_mac(k, (size_t)klen, msg_id, ts, body, len, sig);
        sodium_memzero(k, sizeof k);
    }
    sodium_bin2base64(b64, sizeof b64, sig, sl, sodium_base64_VARIANT_ORIGINAL);
    int w = snprintf(out + *at, n - *at, "%s%s,%s", *at ? " " : "", ver, b64);
    if (w < 0 || (size_t)w >= n - *at)
        return OC_EINVAL;
    *at += (size_t)w;
    return 0;
}

int oc_webhook_sign(const char *keys, const char *msg_id, int64_t ts, const char *body, size_t len,
                    char *out, size_t n)
{
    char one[OC_WEBHOOK_KEY_MAX * 2];
    size_t at = 0;
    int count = 0;
    if (!keys || !msg_id || !out || n < 64)
        return OC_EINVAL;
    out[0] = 0;
    for (const char *p = keys; *p;) {
        p += strspn(p, " ");
        size_t tl = strcspn(p, " ");
        if (tl == 0)
            break;
        if (tl >= sizeof one || ++count > OC_WEBHOOK_KEYS_MAX)
            return OC_EINVAL;
        memcpy(one, p, tl);
        one[tl] = 0;
        int rc = sign_one(one, msg_id, ts, body, len, out, n, &at);
        sodium_memzero(one, sizeof one);
        if (rc)
            return rc;
        p += tl;
    }
    return count ? 0 : OC_EINVAL;
}

int oc_webhook_public(const char *key, char *out, size_t n)
{
    unsigned char sk[crypto_sign_SECRETKEYBYTES], pk[crypto_sign_PUBLICKEYBYTES];
    char b64[sodium_base64_ENCODED_LEN(crypto_sign_PUBLICKEYBYTES, sodium_base64_VARIANT_ORIGINAL)];
    if (!key || n < 64 || ed_key(key, sk) != 0)
        return OC_EINVAL;
    crypto_sign_ed25519_sk_to_pk(pk, sk);
    sodium_memzero(sk, sizeof sk);
    sodium_bin2base64(b64, sizeof b64, pk, sizeof pk, sodium_base64_VARIANT_ORIGINAL);
    snprintf(out, n, "whpk_%s", b64);
    return 0;
}

void oc_webhook_secret_new(char *out, size_t n)
{
    unsigned char k[32];
    char b64[sodium_base64_ENCODED_LEN(sizeof k, sodium_base64_VARIANT_ORIGINAL)];
    randombytes_buf(k, sizeof k);
    sodium_bin2base64(b64, sizeof b64, k, sizeof k, sodium_base64_VARIANT_ORIGINAL);
    snprintf(out, n, "whsec_%s", b64);
    sodium_memzero(k, sizeof k);
    sodium_memzero(b64, sizeof b64);
}
