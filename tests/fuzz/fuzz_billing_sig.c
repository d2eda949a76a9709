/*
 * fuzz_billing_sig.c - fuzzes the webhook signature header parsers (billing/sig.c) and the
 * key-list parser with bytes an attacker controls: the input's first line is a
 * Stripe-Signature header, then a Standard Webhooks webhook-id, webhook-timestamp and
 * webhook-signature line each; the rest is the body.
 *
 * Besides not crashing: every answer is a billing_sig value; a Stripe header verifies only
 * when it holds the real HMAC of its t and the body; a Standard Webhooks header verifies only
 * when it holds the real "v1," signature; a key list parses into at most BILLING_KEYS_MAX keys.
 * The whole input is also an App Store notification body checked against a root no input can
 * chain to, and its first line a Pub/Sub push's Authorization header checked against an RSA
 * key whose private half is gone: neither ever verifies.
 */
#include "billing/billing.h"
#include "core/webhook.h"

#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A self-signed P-256 root made for this target (its key was not kept). */
static const char root_pem[] = "-----BEGIN CERTIFICATE-----\n"
                               "MIIBijCCATGgAwIBAgIUBLqRLydOUntFPQ+oAuFNllrCIiswCgYIKoZIzj0EAwIw\n"
                               "GjEYMBYGA1UEAwwPb25jdWUgZnV6eiByb290MCAXDTI2MTIwNjA5NDcxOFoYDzIx\n"
                               "MjYxMTEyMDk0NzE4WjAaMRgwFgYDVQQDDA9vbmN1ZSBmdXp6IHJvb3QwWTATBgcq\n"
                               "hkjOPQIBBggqhkjOPQMBBwNCAAQYiDx2FDSmLn93YUssY0uzZkyV+CtH7sstUhcp\n"
                               "AxIclse9nC5ZXc/K1WIdEIvv2+wRzBFp2w21rd/7Srp8Kz8Jo1MwUTAdBgNVHQ4E\n"
                               "FgQUDpNl+T2NXXEP9BYMJhbhMyjZI/QwHwYDVR0jBBgwFoAUDpNl+T2NXXEP9BYM\n"
                               "JhbhMyjZI/QwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNHADBEAiAaY18u\n"
                               "P19vkcoIdlgQBGGEIAkuote3FWM1RQsnmSETsQIgXGDZLYB0iKyxon6goOEJXrDp\n"
                               "5MlkFyxlE45Hv6YKvgY=\n"
                               "-----END CERTIFICATE-----\n";

/* An RSA public key made for this target (its private key was not kept). */
static const char rsa_pem[] = "-----BEGIN PUBLIC KEY-----\n"
                              "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA0+WHIzjwwFZCcJ79S1KH\n"
                              "stZkfKWgdYeZi9OpWZbFPTYcTe849Ogk5CCO/ZoafUq5z+3p8cAnshWm6zAuQeAa\n"
                              "wIOdNAavxtVQlJ8nDhHNveW4U8bxmzZLFimRdx1YT8pgDjRt3zeL7JphDaksY8Cd\n"
                              "xe7305WBaP78y+fLbis+w+hix21ZsCxTHw35Ia7i0T91QpaE7c3ne8OwFqbvEprv\n"
                              "tatIQQOa/S5wwZWP24BdxuDWA+2iT48Z+8tEYLIjMmy7ZNnWU7xTraMKLdLi1bMs\n"
                              "Vk43JCbOjAl3brf8Amc42We4jkNTg6CFC0lUhR/fA0DSXkzMRyGkA9eODjxxYUcS\n"
                              "twIDAQAB\n"
                              "-----END PUBLIC KEY-----\n";

/* Loads text (n bytes) through a temporary file with load: the result, or abort. */
static void *load_pem(const char *text, size_t n,
                      int (*load)(const char *, void **, char *, size_t))
{
    char path[] = "/tmp/oncue-fuzz-pem.XXXXXX", err[200];
    void *r = NULL;
    int fd = mkstemp(path);
    if (fd < 0 || write(fd, text, n) != (ssize_t)n)
        abort();
    close(fd);
    if (load(path, &r, err, sizeof err) != 0)
        abort();
    unlink(path);
    return r;
}

/* The roots and the Google key, loaded once. */
static void *roots(void)
{
    static void *r;
    return r ? r : (r = load_pem(root_pem, sizeof root_pem - 1, billing_roots_load));
}

static void *gkeys(void)
{
    static void *k;
    return k ? k : (k = load_pem(rsa_pem, sizeof rsa_pem - 1, billing_google_keys_load));
}

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
    if (r < BILLING_SIG_OK || r > BILLING_SIG_CHAIN)
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
    if (r < BILLING_SIG_OK || r > BILLING_SIG_CHAIN)
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
    char err[200];
    size_t n = (size_t)(end - p);
    char *body = malloc(n + 1);
    memcpy(body, p, n);
    body[n] = '\0';
    check_stripe(stripe, body, n);
    struct billing_event e;
    int asig = 0;
    if (billing_parse_apple(roots(), (const char *)data, size, NOW, &e, &asig, err, sizeof err) ==
        0)
        abort(); /* nothing chains to a root whose key is gone */
    if (billing_google_verify(gkeys(), "aud", stripe, NOW, 300) == BILLING_SIG_OK)
        abort(); /* nor is signed by a key that is gone */
    check_standard(id, ts, sig, body, n);
    struct billing_keys k;
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
