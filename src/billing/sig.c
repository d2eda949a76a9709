/*
 * sig.c - verifying provider webhook signatures: Stripe's Stripe-Signature (HMAC-SHA256 of
 * "t.body", lower-case hex, several v1 entries) and Standard Webhooks v1 (HMAC-SHA256 of
 * "id.ts.body", base64) and v1a (Ed25519 over the same content), several space-separated
 * entries in one header, against several configured keys (rotation). Comparisons are constant
 * time; timestamps outside the tolerance either way are refused before any MAC is computed.
 * The published test vectors of Stripe and of Standard Webhooks (v1, v1a) are in
 * tests/unit/test_billing.c.
 */
#include "billing/billing.h"
#include "core/err.h"
#include "core/webhook.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TS_DIGITS_MAX 15 /* digits of a unix-seconds timestamp we read */

const char *const billing_sig_reasons[] = {
    "ok",
    "missing header",
    "malformed header",
    "stale timestamp",
    "no matching signature",
    "no signing key configured",
    "untrusted certificate chain",
};

/* Adds one key text (n bytes) of provider p to out: 0 or OC_EINVAL. */
static int key_add(enum billing_provider p, const char *s, size_t n, struct billing_keys *out)
{
    char text[600];
    struct billing_key *k = &out->k[out->n];
    int rc = OC_EINVAL;
    if (n >= sizeof text || out->n >= BILLING_KEYS_MAX)
        return OC_EINVAL;
    memcpy(text, s, n);
    text[n] = '\0';
    memset(k, 0, sizeof *k);
    if (p == BILLING_STRIPE) {
        if (strncmp(text, "whsec_", 6) == 0 && n > 6 && n <= sizeof k->key) {
            memcpy(k->key, text, n);
            k->len = n;
            rc = 0;
        }
    } else if (strncmp(text, "whpk_", 5) == 0) {
        size_t got = 0;
        k->ed25519 = 1;
        if (sodium_base642bin(k->key, sizeof k->key, text + 5, n - 5, NULL, &got, NULL,
                              sodium_base64_VARIANT_ORIGINAL) == 0 &&
            got == crypto_sign_PUBLICKEYBYTES) {
            k->len = got;
            rc = 0;
        }
    } else {
        int len = oc_webhook_key(text, k->key);
        if (len > 0) {
            k->len = (size_t)len;
            rc = 0;
        }
    }
    sodium_memzero(text, sizeof text);
    if (rc == 0)
        out->n++;
    return rc;
}

int billing_keys_parse(enum billing_provider p, const char *text, struct billing_keys *out,
                       char *err, size_t errlen)
{
    int pos = 0;
    memset(out, 0, sizeof *out);
    for (const char *s = text ? text : ""; *s;) {
        s += strspn(s, " \t");
        size_t n = strcspn(s, " \t");
        if (!n)
            break;
        pos++;
        if (key_add(p, s, n, out) != 0) {
            snprintf(err, errlen, "%s key %d of the list is not %s (at most %d keys)",
                     billing_provider_names[p], pos,
                     p == BILLING_STRIPE ? "a whsec_ endpoint secret"
                                         : "a whsec_ base64 secret nor a whpk_ Ed25519 public key",
                     BILLING_KEYS_MAX);
            sodium_memzero(out, sizeof *out);
            return OC_EINVAL;
        }
        s += n;
    }
    return 0;
}

/* Reads a whole-number timestamp of n bytes: 0 or -1. */
static int read_ts(const char *s, size_t n, int64_t *out)
{
    int64_t v = 0;
    if (n == 0 || n > TS_DIGITS_MAX)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static int stale(int64_t ts, int64_t now_s, int64_t tol)
{
    return ts < now_s - tol || ts > now_s + tol;
}

/* The HMAC-SHA256 of "t.body" under the Stripe secret k, as lower-case hex (65 bytes). */
static void stripe_mac(const unsigned char *key, size_t klen, int64_t t, const char *body, size_t n,
                       char hex[65])
{
    crypto_auth_hmacsha256_state st;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    char tb[32];
    int tl = snprintf(tb, sizeof tb, "%lld.", (long long)t);
    crypto_auth_hmacsha256_init(&st, key, klen);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)tb, (size_t)tl);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, n);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2hex(hex, 65, mac, sizeof mac);
}

/* Splits a Stripe-Signature header into t and up to BILLING_SIGS_MAX v1 values (pointers
 * into header, each 64 bytes long when well formed; lengths in vlen). 0 or -1 (malformed:
 * an item without '=', no t or t twice or not a number, no v1). */
static int stripe_split(const char *h, int64_t *t, const char **v, size_t *vlen, int *nv)
{
    int have_t = 0;
    *nv = 0;
    for (const char *p = h; *p;) {
        size_t n = strcspn(p, ",");
        const char *eq = memchr(p, '=', n);
        if (!eq)
            return -1;
        size_t kl = (size_t)(eq - p);
        const char *val = eq + 1;
        size_t vl = n - kl - 1;
        if (kl == 1 && p[0] == 't') {
            if (have_t++ || read_ts(val, vl, t) != 0)
                return -1;
        } else if (kl == 2 && p[0] == 'v' && p[1] == '1' && *nv < BILLING_SIGS_MAX) {
            v[*nv] = val;
            vlen[(*nv)++] = vl;
        }
        p += n + (p[n] == ',');
    }
    return have_t && *nv > 0 ? 0 : -1;
}

int billing_stripe_verify(const struct billing_keys *k, const char *header, const char *body,
                          size_t n, int64_t now_s, int64_t tolerance_s, int64_t *ts)
{
    const char *v[BILLING_SIGS_MAX];
    size_t vlen[BILLING_SIGS_MAX];
    int nv;
    char hex[65];
    if (!header)
        return BILLING_SIG_MISSING;
    if (stripe_split(header, ts, v, vlen, &nv) != 0)
        return BILLING_SIG_MALFORMED;
    if (stale(*ts, now_s, tolerance_s))
        return BILLING_SIG_STALE;
    if (k->n == 0)
        return BILLING_SIG_NOKEY;
    for (int i = 0; i < k->n; i++) {
        stripe_mac(k->k[i].key, k->k[i].len, *ts, body, n, hex);
        for (int j = 0; j < nv; j++)
            if (vlen[j] == 64 && sodium_memcmp(v[j], hex, 64) == 0)
                return BILLING_SIG_OK;
    }
    return BILLING_SIG_NOMATCH;
}

int billing_stripe_sign(const char *secret, int64_t t, const char *body, size_t len, char *out,
                        size_t n)
{
    char hex[65];
    if (!secret || !secret[0] || n < 100)
        return OC_EINVAL;
    stripe_mac((const unsigned char *)secret, strlen(secret), t, body, len, hex);
    snprintf(out, n, "t=%lld,v1=%s", (long long)t, hex);
    return 0;
}

/* 1 when the v1a signature sig (64 bytes) verifies over "id.ts.body" with public key pk. */
static int ed_ok(const unsigned char *pk, const unsigned char *sig, const char *id, int64_t ts,
                 const char *body, size_t n)
{
    char tb[32];
    int tl = snprintf(tb, sizeof tb, ".%lld.", (long long)ts);
    size_t il = strlen(id), total = il + (size_t)tl + n;
    unsigned char *m = malloc(total ? total : 1);
    if (!m)
        return 0;
    memcpy(m, id, il);
    memcpy(m + il, tb, (size_t)tl);
    memcpy(m + il + (size_t)tl, body, n);
    int ok = crypto_sign_verify_detached(sig, m, total, pk) == 0;
    free(m);
    return ok;
}

/* Checks one "version,base64" entry (n bytes) against every key: 1 when it verifies, 0 when
 * not, -1 when the entry is malformed (no comma). */
static int entry_ok(const struct billing_keys *k, const char *e, size_t n, const char *id,
                    int64_t ts, const char *body, size_t bn, const unsigned char *macs)
{
    const char *comma = memchr(e, ',', n);
    unsigned char sig[crypto_sign_BYTES];
    size_t got = 0;
    if (!comma)
        return -1;
    size_t vl = (size_t)(comma - e);
    int v1 = vl == 2 && memcmp(e, "v1", 2) == 0, v1a = vl == 3 && memcmp(e, "v1a", 3) == 0;
    if ((!v1 && !v1a) || sodium_base642bin(sig, sizeof sig, comma + 1, n - vl - 1, NULL, &got, NULL,
                                           sodium_base64_VARIANT_ORIGINAL) != 0)
        return 0;
    for (int i = 0; i < k->n; i++) {
        if (v1 && !k->k[i].ed25519 && got == OC_WEBHOOK_MAC_LEN &&
            sodium_memcmp(sig, macs + i * OC_WEBHOOK_MAC_LEN, OC_WEBHOOK_MAC_LEN) == 0)
            return 1;
        if (v1a && k->k[i].ed25519 && got == crypto_sign_BYTES &&
            ed_ok(k->k[i].key, sig, id, ts, body, bn))
            return 1;
    }
    return 0;
}

int billing_standard_verify(const struct billing_keys *k, const char *id, const char *ts_text,
                            const char *sigs, const char *body, size_t n, int64_t now_s,
                            int64_t tolerance_s)
{
    unsigned char macs[BILLING_KEYS_MAX * OC_WEBHOOK_MAC_LEN];
    int64_t ts;
    int seen = 0, found = 0;
    if (!id || !ts_text || !sigs)
        return BILLING_SIG_MISSING;
    if (!id[0] || strlen(id) > BILLING_ID_MAX || read_ts(ts_text, strlen(ts_text), &ts) != 0)
        return BILLING_SIG_MALFORMED;
    if (stale(ts, now_s, tolerance_s))
        return BILLING_SIG_STALE;
    if (k->n == 0)
        return BILLING_SIG_NOKEY;
    for (int i = 0; i < k->n; i++)
        if (!k->k[i].ed25519)
            oc_webhook_mac(k->k[i].key, k->k[i].len, id, ts, body, n,
                           macs + i * OC_WEBHOOK_MAC_LEN);
    for (const char *p = sigs; *p && !found && seen < BILLING_SIGS_MAX;) {
        p += strspn(p, " ");
        size_t el = strcspn(p, " ");
        if (!el)
            break;
        int r = entry_ok(k, p, el, id, ts, body, n, macs);
        if (r < 0) {
            seen = 0; /* an entry without a comma: the header is malformed */
            break;
        }
        found = r;
        seen++;
        p += el;
    }
    sodium_memzero(macs, sizeof macs);
    if (!seen)
        return BILLING_SIG_MALFORMED;
    return found ? BILLING_SIG_OK : BILLING_SIG_NOMATCH;
}
