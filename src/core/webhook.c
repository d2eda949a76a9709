/*
 * webhook.c - Standard Webhooks key decoding and the signed content's HMAC (webhook.h).
 */
#include "core/webhook.h"

#include <sodium.h>
#include <stdio.h>
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
