/*
 * fuzz_billing_sig.c - fuzzes the webhook signature header parsers (billing/sig.c) and the
 * key-list parser with bytes an attacker controls: the input's first line is a
 * Stripe-Signature header, then a Standard Webhooks webhook-id, webhook-timestamp and
 * webhook-signature line each; the rest is the body.
 *
 * Besides not crashing: every answer is a billing_sig value; a Stripe header verifies only
 * when it holds the real HMAC of its t and the body; a Standard Webhooks header verifies only
 * when it holds the real "v1," signature; a key list parses into at most BILLING_KEYS_MAX keys.
 */
#include "billing/billing.h"
#include "core/webhook.h"

#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NOW 1700000000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Cuts the next line of [*p, end) into a NUL-terminated copy (malloc'd). */
static char *line(const char **p, const char *end)
{
    const char *nl = memchr(*p, '\n', (size_t)(end - *p));
    size_t n = nl ? (size_t)(nl - *p) : (size_t)(end - *p);
    char *s = malloc(n + 1);
    memcpy(s, *p, n);
    s[n] = '\0';
    *p += n + (nl != NULL);
    return s;
}

static void check_stripe(const char *hdr, const char *body, size_t n)
{
    struct billing_keys k;
    char err[200], want[128];
    int64_t ts = 0;
    if (billing_keys_parse(BILLING_STRIPE, "whsec_test_secret", &k, err, sizeof err) != 0)
        abort();
    int r = billing_stripe_verify(&k, hdr, body, n, NOW, 300, &ts);
    if (r < BILLING_SIG_OK || r > BILLING_SIG_NOKEY)
        abort();
    if (r == BILLING_SIG_OK) {
        billing_stripe_sign("whsec_test_secret", ts, body, n, want, sizeof want);
        if (!strstr(hdr, strchr(want, ',') + 4))
            abort();
    }
}

static void check_standard(const char *id, const char *ts, const char *sig, const char *body,
                           size_t n)
{
    struct billing_keys k;
    char err[200];
    if (billing_keys_parse(BILLING_STANDARD, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", &k, err,
                           sizeof err) != 0)
        abort();
    int r = billing_standard_verify(&k, id, ts, sig, body, n, NOW, 300);
    if (r < BILLING_SIG_OK || r > BILLING_SIG_NOKEY)
        abort();
    if (r == BILLING_SIG_OK) {
        unsigned char mac[OC_WEBHOOK_MAC_LEN];
        char b64[64];
        oc_webhook_mac(k.k[0].key, k.k[0].len, id, strtoll(ts, NULL, 10), body, n, mac);
        sodium_bin2base64(b64, sizeof b64, mac, sizeof mac, sodium_base64_VARIANT_ORIGINAL);
        if (!strstr(sig, b64))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    char *stripe = line(&p, end), *id = line(&p, end), *ts = line(&p, end), *sig = line(&p, end);
    size_t n = (size_t)(end - p);
    char *body = malloc(n + 1);
    memcpy(body, p, n);
    body[n] = '\0';
    check_stripe(stripe, body, n);
    check_standard(id, ts, sig, body, n);
    struct billing_keys k;
    char err[200];
    for (int prov = BILLING_STRIPE; prov <= BILLING_STANDARD; prov++)
        if (billing_keys_parse((enum billing_provider)prov, stripe, &k, err, sizeof err) == 0 &&
            (k.n < 0 || k.n > BILLING_KEYS_MAX))
            abort();
    free(stripe);
    free(id);
    free(ts);
    free(sig);
    free(body);
    return 0;
}
