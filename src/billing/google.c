/*
 * google.c - Google Play real-time developer notifications, pushed by Pub/Sub: the push
 * request carries `Authorization: Bearer <JWT>`, an RS256 token Google signs; it verifies
 * when one of the configured public keys (billing.google_keys_pem) verifies its signature, its
 * issuer is Google's, its audience is billing.google_audience and it has not expired at the
 * injected clock's time (with billing.tolerance_s of skew). The body is the Pub/Sub envelope
 * whose message.data is the base64 of the DeveloperNotification.
 *
 * The event id is the Pub/Sub messageId (a redelivery repeats it); the subscription is
 * "gp-" and the first 32 hex digits of the SHA-256 of the purchase token (tokens are longer
 * than an id may be), which is also the account: the notification names no account.
 */
#include "billing/billing_int.h"
#include "core/err.h"
#include "core/json.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GOOGLE_KEYS_MAX 8     /* public keys in billing.google_keys_pem */
#define JWT_MAX         8192  /* bytes of one token */
#define DATA_MAX        65536 /* bytes of one decoded message.data */

/* Google's subscriptionNotification.notificationType codes and their names in the table. */
static const struct {
    int code;
    const char *type;
} google_types[] = {
    {1, "SUBSCRIPTION_RECOVERED"},
    {2, "SUBSCRIPTION_RENEWED"},
    {3, "SUBSCRIPTION_CANCELED"},
    {4, "SUBSCRIPTION_PURCHASED"},
    {5, "SUBSCRIPTION_ON_HOLD"},
    {6, "SUBSCRIPTION_IN_GRACE_PERIOD"},
    {7, "SUBSCRIPTION_RESTARTED"},
    {8, "SUBSCRIPTION_PRICE_CHANGE_CONFIRMED"},
    {9, "SUBSCRIPTION_DEFERRED"},
    {10, "SUBSCRIPTION_PAUSED"},
    {11, "SUBSCRIPTION_PAUSE_SCHEDULE_CHANGED"},
    {12, "SUBSCRIPTION_REVOKED"},
    {13, "SUBSCRIPTION_EXPIRED"},
    {20, "SUBSCRIPTION_PENDING_PURCHASE_CANCELED"},
    {0, NULL},
};

/* The configured keys. */
struct google_keys {
    EVP_PKEY *k[GOOGLE_KEYS_MAX];
    int n;
};

int billing_google_keys_load(const char *path, void **out, char *err, size_t errlen)
{
    struct google_keys *g = calloc(1, sizeof *g);
    FILE *f = fopen(path, "r");
    EVP_PKEY *k;
    *out = NULL;
    if (!g || !f) {
        snprintf(err, errlen, "%s: cannot read", path);
        goto fail;
    }
    while (g->n < GOOGLE_KEYS_MAX && (k = PEM_read_PUBKEY(f, NULL, NULL, NULL)) != NULL)
        g->k[g->n++] = k;
    fclose(f);
    f = NULL;
    if (g->n == 0) {
        snprintf(err, errlen, "%s: no PEM public key", path);
        goto fail;
    }
    *out = g;
    return 0;
fail:
    if (f)
        fclose(f);
    billing_google_keys_free(g);
    return OC_EINVAL;
}

void billing_google_keys_free(void *keys)
{
    struct google_keys *g = keys;
    if (!g)
        return;
    for (int i = 0; i < g->n; i++)
        EVP_PKEY_free(g->k[i]);
    free(g);
}

/* Decodes n bytes of base64 (url-safe without padding when url) into a malloc'd,
 * NUL-terminated buffer of *len bytes, or NULL. */
static unsigned char *unb64(const char *s, size_t n, int url, size_t *len)
{
    unsigned char *out = malloc(n + 1);
    if (!out || sodium_base642bin(out, n, s, n, NULL, len, NULL,
                                  url ? sodium_base64_VARIANT_URLSAFE_NO_PADDING
                                      : sodium_base64_VARIANT_ORIGINAL) != 0) {
        free(out);
        return NULL;
    }
    out[*len] = '\0';
    return out;
}

/* 1 when one of g's keys verifies the RS256 signature sig (sl bytes) over msg (n bytes). */
static int rs256_ok(const struct google_keys *g, const unsigned char *sig, size_t sl,
                    const char *msg, size_t n)
{
    for (int i = 0; i < g->n; i++) {
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        int ok = md && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, g->k[i]) == 1 &&
                 EVP_DigestVerify(md, sig, sl, (const unsigned char *)msg, n) == 1;
        EVP_MD_CTX_free(md);
        if (ok)
            return 1;
    }
    return 0;
}

/* Checks the claims: Google's issuer, the audience, not expired nor issued in the future at
 * now_s (tol seconds of skew). A billing_sig value. */
static int claims_ok(const json_t *c, const char *aud, int64_t now_s, int64_t tol)
{
    const char *iss = NULL, *a = NULL;
    int64_t exp = 0, iat = 0;
    if (oc_json_get_str(c, "iss", &iss) != 0 || oc_json_get_str(c, "aud", &a) != 0 ||
        oc_json_get_int(c, "exp", &exp) != 0 || oc_json_get_int(c, "iat", &iat) != 0)
        return BILLING_SIG_MALFORMED;
    if (strcmp(iss, "accounts.google.com") != 0 && strcmp(iss, "https://accounts.google.com") != 0)
        return BILLING_SIG_NOMATCH;
    if (strcmp(a, aud) != 0)
        return BILLING_SIG_NOMATCH;
    if (exp < now_s - tol || iat > now_s + tol)
        return BILLING_SIG_STALE;
    return BILLING_SIG_OK;
}

int billing_google_verify(void *keys, const char *aud, const char *authz, int64_t now_s,
                          int64_t tol)
{
    const char *t, *d1, *d2;
    size_t hl = 0, cl = 0, sl = 0;
    if (!keys || !aud || !aud[0])
        return BILLING_SIG_NOKEY;
    if (!authz)
        return BILLING_SIG_MISSING;
    if (strncmp(authz, "Bearer ", 7) != 0 || strlen(authz + 7) > JWT_MAX)
        return BILLING_SIG_MALFORMED;
    t = authz + 7;
    d1 = strchr(t, '.');
    d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    if (!d1 || !d2 || strchr(d2 + 1, '.'))
        return BILLING_SIG_MALFORMED;
    unsigned char *h = unb64(t, (size_t)(d1 - t), 1, &hl),
                  *c = unb64(d1 + 1, (size_t)(d2 - d1 - 1), 1, &cl),
                  *s = unb64(d2 + 1, strlen(d2 + 1), 1, &sl);
    json_t *hj = h ? json_loadb((const char *)h, hl, 0, NULL) : NULL,
           *cj = c ? json_loadb((const char *)c, cl, 0, NULL) : NULL;
    const char *alg = NULL;
    int rc = BILLING_SIG_MALFORMED;
    if (hj && cj && s && oc_json_get_str(hj, "alg", &alg) == 0 && strcmp(alg, "RS256") == 0) {
        rc = rs256_ok(keys, s, sl, t, (size_t)(d2 - t)) ? BILLING_SIG_OK : BILLING_SIG_NOMATCH;
        if (rc == BILLING_SIG_OK)
            rc = claims_ok(cj, aud, now_s, tol);
    }
    json_decref(hj);
    json_decref(cj);
    free(h);
    free(c);
    free(s);
    return rc;
}

/* The notification's fields into e: 0 or OC_EINVAL with err. */
static int notification(const json_t *n, struct billing_event *e, char *err, size_t errlen)
{
    const json_t *sn = json_object_get(n, "subscriptionNotification");
    const char *ms = NULL, *token = NULL;
    int64_t code = 0;
    char *end = NULL;
    if (oc_json_get_str(n, "eventTimeMillis", &ms) != 0 ||
        (e->event_ms = strtoll(ms, &end, 10)) <= 0 || *end ||
        e->event_ms > OC_JSON_UNIX_S_MAX * 1000) {
        snprintf(err, errlen, "eventTimeMillis: unix milliseconds as a string");
        return OC_EINVAL;
    }
    if (!json_is_object(sn)) {
        snprintf(e->type, sizeof e->type, "%s", "NOT_A_SUBSCRIPTION");
        return 0; /* a one-time product or a test notification: recorded */
    }
    if (oc_json_get_int_range(sn, "subscriptionNotification", "notificationType", 1, 1000, &code,
                              err, errlen) != 0 ||
        oc_json_get_str(sn, "purchaseToken", &token) != 0 || !token[0]) {
        snprintf(err, errlen, "subscriptionNotification: notificationType and purchaseToken");
        return OC_EINVAL;
    }
    int i = 0;
    while (google_types[i].type && google_types[i].code != code)
        i++;
    snprintf(e->type, sizeof e->type, "%s",
             google_types[i].type ? google_types[i].type : "UNKNOWN");
    unsigned char h[32];
    char hex[65];
    crypto_hash_sha256(h, (const unsigned char *)token, strlen(token));
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    snprintf(e->subscription, sizeof e->subscription, "gp-%.32s", hex);
    if (strlen(token) <= BILLING_TOKEN_MAX && billing_id_valid(token, BILLING_TOKEN_MAX))
        memcpy(e->token, token, strlen(token) + 1); /* kept for reconciliation */
    memcpy(e->account, e->subscription, sizeof e->account);
    const char *product = NULL; /* the plan: the subscription's product id, when valid */
    if (oc_json_get_str(sn, "subscriptionId", &product) == 0 &&
        billing_id_valid(product, BILLING_PLAN_MAX))
        snprintf(e->plan, sizeof e->plan, "%s", product);
    e->rule = billing_rule_find(BILLING_GOOGLE, e->type);
    return 0;
}

int billing_parse_google(const char *body, size_t n, struct billing_event *out, char *err,
                         size_t errlen)
{
    json_t *root = NULL, *dn = NULL;
    const char *data = NULL;
    size_t dl = 0;
    unsigned char *raw = NULL;
    int rc = OC_EMALFORMED;
    memset(out, 0, sizeof *out);
    out->provider = BILLING_GOOGLE;
    const json_t *msg = NULL;
    if (oc_json_parse(body, n, &root, err, errlen) == 0)
        msg = json_object_get(root, "message"); /* NULL unless root is an object */
    if (json_is_object(msg) && oc_json_get_str(msg, "data", &data) == 0 &&
        strlen(data) <= DATA_MAX && (raw = unb64(data, strlen(data), 0, &dl)) != NULL)
        dn = json_loadb((const char *)raw, dl, 0, NULL); /* json_is_* evaluate twice */
    if (!json_is_object(dn)) {
        snprintf(err, errlen, "the body is not a Pub/Sub push of a DeveloperNotification");
        goto out;
    }
    rc = OC_EINVAL;
    const char *id = NULL;
    if (oc_json_get_str(msg, "messageId", &id) != 0 && oc_json_get_str(msg, "message_id", &id) != 0)
        id = NULL;
    if (!id || !billing_id_valid(id, BILLING_ID_MAX)) {
        snprintf(err, errlen, "message.messageId: 1 to %d printable characters", BILLING_ID_MAX);
        goto out;
    }
    memcpy(out->id, id, strlen(id) + 1);
    rc = notification(dn, out, err, errlen);
out:
    json_decref(dn);
    json_decref(root);
    free(raw);
    return rc;
}
