/*
 * sign.c - Standard Webhooks signatures (webhook-id, webhook-timestamp, webhook-signature).
 *
 * The signed content is "msg_id.timestamp.body"; the key is the base64-decoded secret after
 * an optional "whsec_" prefix; the signature is "v1," + base64(HMAC-SHA256). A verifier
 * accepts when any space-separated v1 entry matches (constant-time) and the timestamp is
 * within 300 s of now (the key and the MAC: core/webhook.h, shared with billing/). Checked against
 * the published test vectors in tests/unit (see docs/contracts.md "Outbound webhook signatures").
 */
#include "incident/incident.h"
#include "core/err.h"
#include "core/webhook.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_MAX   OC_WEBHOOK_KEY_MAX /* bytes of a decoded secret */
#define TOLERANCE 300                /* seconds a timestamp may be away from now */

/* Appends "v1,<signature>" of one secret (NUL-terminated) to out at *len: 0 or OC_EINVAL. */
static int sign_one(const char *secret, const char *msg_id, int64_t ts, const char *body,
                    size_t len, char *out, size_t n, size_t *at)
{
    unsigned char key[KEY_MAX], sig[crypto_auth_hmacsha256_BYTES];
    char b64[sodium_base64_ENCODED_LEN(crypto_auth_hmacsha256_BYTES,
                                       sodium_base64_VARIANT_ORIGINAL)];
    int klen = oc_webhook_key(secret, key);
    if (klen <= 0)
        return OC_EINVAL;
    oc_webhook_mac(key, (size_t)klen, msg_id, ts, body, len, sig);
    sodium_memzero(key, sizeof(key));
    sodium_bin2base64(b64, sizeof(b64), sig, sizeof(sig), sodium_base64_VARIANT_ORIGINAL);
    int w = snprintf(out + *at, n - *at, "%sv1,%s", *at ? " " : "", b64);
    if (w < 0 || (size_t)w >= n - *at)
        return OC_EINVAL;
    *at += (size_t)w;
    return 0;
}

int incident_webhook_sign(const char *secret, const char *msg_id, int64_t ts, const char *body,
                          size_t len, char *out, size_t n)
{
    char one[KEY_MAX * 2];
    size_t at = 0;
    int count = 0;
    if (!secret || !msg_id || n < 64)
        return OC_EINVAL;
    out[0] = 0;
    for (const char *p = secret; *p;) { /* several secrets, space-separated: key rotation */
        while (*p == ' ')
            p++;
        size_t tl = strcspn(p, " ");
        if (tl == 0)
            break;
        if (tl >= sizeof one || ++count > WEBHOOK_SECRETS_MAX)
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

/* Parses a whole-number timestamp: 0 or OC_EINVAL. */
static int parse_ts(const char *s, int64_t *out)
{
    char *end;
    if (!s || !*s)
        return OC_EINVAL;
    long long v = strtoll(s, &end, 10);
    if (*end)
        return OC_EINVAL;
    *out = v;
    return 0;
}

int incident_webhook_verify(const char *secret, const char *msg_id, const char *ts_text,
                            const char *body, size_t len, const char *header, int64_t now_s)
{
    char want[128];
    int64_t ts;
    size_t wl = 0;
    if (!secret || !msg_id || !header || !body || parse_ts(ts_text, &ts) != 0 ||
        ts < now_s - TOLERANCE || ts > now_s + TOLERANCE ||
        sign_one(secret, msg_id, ts, body, len, want, sizeof(want), &wl) != 0)
        return OC_EAUTH;
    const char *p = header;
    while (*p) {
        while (*p == ' ')
            p++;
        size_t el = strcspn(p, " ");
        if (el == wl && sodium_memcmp(p, want, wl) == 0)
            return 0;
        p += el;
    }
    return OC_EAUTH;
}
