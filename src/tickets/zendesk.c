/*
 * zendesk.c - Zendesk's webhook signature: X-Zendesk-Webhook-Signature is the base64
 * HMAC-SHA256, under the webhook's signing secret (its text, as Zendesk shows it), of the
 * X-Zendesk-Webhook-Signature-Timestamp header's text followed directly by the raw body.
 * Zendesk does not follow Standard Webhooks, so core/webhook.h does not apply. The timestamp
 * is checked against tickets.max_skew_s before any MAC is computed; comparison is constant
 * time.
 */
#include "tickets/tickets.h"
#include "core/timefmt.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define TS_TEXT_MAX 40 /* bytes of a timestamp header we read */

const char *const tickets_sig_reasons[] = {
    "ok",
    "missing header",
    "malformed header",
    "stale timestamp",
    "no matching signature",
    "no signing secret configured",
};

/* The raw MAC of ts + body under secret. */
static void mac(const char *secret, const char *ts, const char *body, size_t len,
                unsigned char out[crypto_auth_hmacsha256_BYTES])
{
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)ts, strlen(ts));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
    crypto_auth_hmacsha256_final(&st, out);
    sodium_memzero(&st, sizeof st);
}

void tickets_zendesk_sign(const char *secret, const char *ts, const char *body, size_t len,
                          char *out, size_t n)
{
    unsigned char m[crypto_auth_hmacsha256_BYTES];
    mac(secret, ts, body, len, m);
    if (n >= sodium_base64_ENCODED_LEN(sizeof m, sodium_base64_VARIANT_ORIGINAL))
        sodium_bin2base64(out, n, m, sizeof m, sodium_base64_VARIANT_ORIGINAL);
    else if (n)
        out[0] = '\0';
}

/* Reads the timestamp header: RFC 3339 (what Zendesk sends) or whole unix seconds. */
static int read_ts(const char *ts, int64_t *out)
{
    size_t n = strlen(ts), digits = strspn(ts, "0123456789");
    int64_t ms = 0;
    if (n == 0 || n > TS_TEXT_MAX)
        return -1;
    if (digits == n) {
        if (n > 12)
            return -1;
        int64_t v = 0;
        for (size_t i = 0; i < n; i++)
            v = v * 10 + (ts[i] - '0');
        *out = v;
        return 0;
    }
    if (oc_time_parse(ts, OC_TIME_STRICT, &ms) != 0)
        return -1;
    *out = ms / 1000;
    return 0;
}

enum tickets_sig tickets_zendesk_verify(const char *secret, const char *sig, const char *ts,
                                        const char *body, size_t len, int64_t now_s,
                                        int64_t max_skew_s, int64_t *ts_s)
{
    unsigned char want[crypto_auth_hmacsha256_BYTES], got[crypto_auth_hmacsha256_BYTES];
    size_t glen = 0;
    int64_t t = 0;
    if (!secret || !secret[0])
        return TICKETS_SIG_NOKEY;
    if (!sig || !ts)
        return TICKETS_SIG_MISSING;
    if (read_ts(ts, &t) != 0)
        return TICKETS_SIG_MALFORMED;
    if (ts_s)
        *ts_s = t;
    if (t < now_s - max_skew_s || t > now_s + max_skew_s)
        return TICKETS_SIG_STALE;
    if (sodium_base642bin(got, sizeof got, sig, strlen(sig), " ", &glen, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        glen != sizeof got)
        return TICKETS_SIG_NOMATCH;
    mac(secret, ts, body, len, want);
    int ok = sodium_memcmp(want, got, sizeof want) == 0;
    sodium_memzero(want, sizeof want);
    return ok ? TICKETS_SIG_OK : TICKETS_SIG_NOMATCH;
}
