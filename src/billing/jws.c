/*
 * jws.c - App Store Server Notifications V2: a compact JWS (ES256) whose header carries its
 * certificate chain (x5c: leaf, intermediates, root). It verifies when the chain leads to a
 * root the operator configured (billing.apple_root_pem), checked at the injected clock's
 * time, and the leaf's P-256 key verifies the signature over "header.payload". The payload
 * is then JSON: the notification, whose data.signedTransactionInfo is a JWS of its own,
 * verified the same way.
 */
#include "billing/billing_int.h"
#include "core/err.h"
#include "core/json.h"

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define X5C_MAX  4          /* certificates in one chain */
#define CERT_MAX (16 << 10) /* bytes of one DER certificate */

int billing_roots_load(const char *path, void **out, char *err, size_t errlen)
{
    X509_STORE *st = X509_STORE_new();
    FILE *f = fopen(path, "r");
    X509 *c;
    int n = 0;
    *out = NULL;
    if (!st || !f) {
        snprintf(err, errlen, "%s: cannot read", path);
        goto fail;
    }
    while ((c = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
        X509_STORE_add_cert(st, c);
        X509_free(c);
        n++;
    }
    if (n == 0) {
        snprintf(err, errlen, "%s: no PEM certificate", path);
        goto fail;
    }
    fclose(f);
    *out = st;
    return 0;
fail:
    if (f)
        fclose(f);
    X509_STORE_free(st);
    return OC_EINVAL;
}

void billing_roots_free(void *roots)
{
    X509_STORE_free(roots);
}

/* Decodes n bytes of base64 (url-safe without padding when url, else the original alphabet)
 * into a malloc'd buffer of *len bytes (NUL-terminated), or NULL. */
static unsigned char *b64(const char *s, size_t n, int url, size_t *len)
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

/* The x5c certificates of header h into certs: their count, or -1. */
static int read_x5c(const json_t *h, X509 **certs)
{
    const json_t *x5c = json_object_get(h, "x5c");
    size_t i, n = json_array_size(x5c);
    json_t *v;
    if (!json_is_array(x5c) || n < 1 || n > X5C_MAX)
        return -1;
    json_array_foreach(x5c, i, v)
    {
        size_t len = 0;
        const char *s = json_string_value(v);
        unsigned char *der = s && strlen(s) < CERT_MAX ? b64(s, strlen(s), 0, &len) : NULL;
        const unsigned char *p = der;
        certs[i] = der ? d2i_X509(NULL, &p, (long)len) : NULL;
        free(der);
        if (!certs[i]) {
            while (i--)
                X509_free(certs[i]);
            return -1;
        }
    }
    return (int)n;
}

/* 1 when certs[0] chains through certs[1..n) to a root of roots at now_s. */
static int chain_ok(X509_STORE *roots, X509 **certs, int n, int64_t now_s)
{
    STACK_OF(X509) *mid = sk_X509_new_null();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    int ok = 0;
    for (int i = 1; mid && i < n; i++)
        sk_X509_push(mid, certs[i]);
    if (ctx && mid && X509_STORE_CTX_init(ctx, roots, certs[0], mid) == 1) {
        X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), (time_t)now_s);
        ok = X509_verify_cert(ctx) == 1;
    }
    X509_STORE_CTX_free(ctx);
    sk_X509_free(mid);
    return ok;
}

/* 1 when the raw ES256 signature (r || s, 64 bytes) verifies over msg with cert's key. */
static int es256_ok(X509 *cert, const unsigned char *sig, const char *msg, size_t n)
{
    EVP_PKEY *key = X509_get0_pubkey(cert);
    ECDSA_SIG *es = ECDSA_SIG_new();
    unsigned char *der = NULL;
    int ok = 0, len;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!key || !es || !md || EVP_PKEY_get_base_id(key) != EVP_PKEY_EC)
        goto out;
    if (ECDSA_SIG_set0(es, BN_bin2bn(sig, 32, NULL), BN_bin2bn(sig + 32, 32, NULL)) != 1)
        goto out;
    if ((len = i2d_ECDSA_SIG(es, &der)) <= 0)
        goto out;
    ok = EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
         EVP_DigestVerify(md, der, (size_t)len, (const unsigned char *)msg, n) == 1;
out:
    OPENSSL_free(der);
    ECDSA_SIG_free(es);
    EVP_MD_CTX_free(md);
    return ok;
}

/* Checks the header (ES256 with a chain to a root) and the signature of token's parts
 * (dot1, dot2: the offsets of its dots): a billing_sig value. */
static int verify_parts(void *roots, const char *t, size_t n, size_t dot1, size_t dot2,
                        int64_t now_s)
{
    size_t hl = 0, sl = 0;
    X509 *certs[X5C_MAX];
    unsigned char *hdr = b64(t, dot1, 1, &hl), *sig = b64(t + dot2 + 1, n - dot2 - 1, 1, &sl);
    json_t *h = hdr ? json_loadb((const char *)hdr, hl, 0, NULL) : NULL;
    const char *alg = NULL;
    int rc = BILLING_SIG_MALFORMED, nc = -1;
    if (!h || !sig || sl != 64 || oc_json_get_str(h, "alg", &alg) != 0 ||
        strcmp(alg, "ES256") != 0 || (nc = read_x5c(h, certs)) < 1)
        goto out;
    if (!chain_ok(roots, certs, nc, now_s))
        rc = BILLING_SIG_CHAIN;
    else
        rc = es256_ok(certs[0], sig, t, dot2) ? BILLING_SIG_OK : BILLING_SIG_NOMATCH;
    for (int i = 0; i < nc; i++)
        X509_free(certs[i]);
out:
    json_decref(h);
    free(hdr);
    free(sig);
    return rc;
}

int billing_jws_verify(void *roots, const char *t, size_t n, int64_t now_s, json_t **payload)
{
    const char *d1 = memchr(t, '.', n),
               *d2 = d1 ? memchr(d1 + 1, '.', n - (size_t)(d1 - t) - 1) : NULL;
    size_t pl = 0;
    *payload = NULL;
    if (!roots)
        return BILLING_SIG_NOKEY;
    if (!d1 || !d2 || memchr(d2 + 1, '.', n - (size_t)(d2 - t) - 1))
        return BILLING_SIG_MALFORMED;
    int rc = verify_parts(roots, t, n, (size_t)(d1 - t), (size_t)(d2 - t), now_s);
    if (rc != BILLING_SIG_OK)
        return rc;
    unsigned char *p = b64(d1 + 1, (size_t)(d2 - d1 - 1), 1, &pl);
    *payload = p ? json_loadb((const char *)p, pl, JSON_REJECT_DUPLICATES, NULL) : NULL;
    free(p);
    if (!json_is_object(*payload)) {
        json_decref(*payload);
        *payload = NULL;
        return BILLING_SIG_MALFORMED;
    }
    return BILLING_SIG_OK;
}

/* Copies string member key of o into out (max + 1 bytes) when it is a valid id: 0, or -1. */
static int id_of(const json_t *o, const char *key, char *out, size_t max)
{
    const char *s = NULL;
    out[0] = '\0';
    if (oc_json_get_str(o, key, &s) != 0)
        return -1;
    if (!billing_id_valid(s, max))
        return -1;
    memcpy(out, s, strlen(s) + 1);
    return 0;
}

/* The rule of type and subtype: "TYPE/SUBTYPE" when the table has it, else "TYPE"; e->type
 * gets the one used. */
static void apple_type(struct billing_event *e, const char *type, const char *subtype)
{
    char both[BILLING_TYPE_MAX + 1];
    snprintf(e->type, sizeof e->type, "%s", type);
    if (subtype && snprintf(both, sizeof both, "%s/%s", type, subtype) < (int)sizeof both &&
        billing_rule_find(BILLING_APPLE, both)) {
        memcpy(e->type, both, sizeof both);
    }
    e->rule = billing_rule_find(BILLING_APPLE, e->type);
}

/* Reads the verified transaction tx into e: 0, or OC_EINVAL with err. */
static int apple_tx(const json_t *tx, struct billing_event *e, char *err, size_t errlen)
{
    int64_t exp = 0;
    if (id_of(tx, "originalTransactionId", e->subscription, BILLING_ID_MAX) != 0) {
        snprintf(err, errlen, "signedTransactionInfo.originalTransactionId: an id");
        return OC_EINVAL;
    }
    if (id_of(tx, "appAccountToken", e->account, BILLING_ID_MAX) != 0)
        memcpy(e->account, e->subscription, sizeof e->account);
    if (id_of(tx, "productId", e->plan, BILLING_PLAN_MAX) != 0)
        e->plan[0] = '\0'; /* the plan is optional */
    if (json_object_get(tx, "expiresDate") &&
        oc_json_get_int_range(tx, "signedTransactionInfo", "expiresDate", 1,
                              OC_JSON_UNIX_S_MAX * 1000, &exp, err, errlen) != 0)
        return OC_EINVAL;
    e->period_end_ms = exp;
    return 0;
}

/* Reads the verified notification p into e (its id, type and time; the transaction is read
 * by apple_tx): 0, or OC_EINVAL with err. *sti gets its data.signedTransactionInfo, or NULL
 * when it has none (a TEST notification). */
static int apple_note(const json_t *p, struct billing_event *e, const char **sti, char *err,
                      size_t errlen)
{
    const char *type = NULL, *subtype = NULL;
    const json_t *d = json_object_get(p, "data");
    *sti = NULL;
    if (id_of(p, "notificationUUID", e->id, BILLING_ID_MAX) != 0 ||
        oc_json_get_str(p, "notificationType", &type) != 0 ||
        !billing_id_valid(type, BILLING_TYPE_MAX / 2) ||
        oc_json_get_int_range(p, NULL, "signedDate", 1, OC_JSON_UNIX_S_MAX * 1000, &e->event_ms,
                              err, errlen) != 0) {
        snprintf(err, errlen, "notificationUUID, notificationType and signedDate are required");
        return OC_EINVAL;
    }
    if (oc_json_get_str(p, "subtype", &subtype) != 0 ||
        !billing_id_valid(subtype, BILLING_TYPE_MAX / 2))
        subtype = NULL;
    apple_type(e, type, subtype);
    if (json_is_object(d) && oc_json_get_str(d, "signedTransactionInfo", sti) != 0)
        *sti = NULL;
    return 0;
}

/* Reads the verified notification p (its transaction verified with roots) into e: 0, -1 with
 * *sig, or OC_EINVAL with err. */
static int apple_notification(void *roots, const json_t *p, int64_t now_s, struct billing_event *e,
                              int *sig, char *err, size_t errlen)
{
    const char *sti = NULL;
    json_t *tx = NULL;
    int rc = apple_note(p, e, &sti, err, errlen);
    if (rc || !sti)
        return rc; /* no transaction (a TEST notification): recorded */
    *sig = billing_jws_verify(roots, sti, strlen(sti), now_s, &tx);
    if (*sig != BILLING_SIG_OK)
        return -1;
    rc = apple_tx(tx, e, err, errlen);
    json_decref(tx);
    return rc;
}

/* Parses the payload of a verified JWS as billing_jws_verify does: an object, or NULL. */
static json_t *payload_object(const char *s, size_t n)
{
    json_t *o = s ? json_loadb(s, n, JSON_REJECT_DUPLICATES, NULL) : NULL;
    if (!json_is_object(o)) {
        json_decref(o);
        return NULL;
    }
    return o;
}

int billing_apple_payload(const char *note, size_t n, const char *tx, size_t txn,
                          struct billing_event *out, char *err, size_t errlen)
{
    const char *sti = NULL;
    json_t *p = payload_object(note, n), *t = NULL;
    int rc = OC_EMALFORMED;
    memset(out, 0, sizeof *out);
    out->provider = BILLING_APPLE;
    if (!p) {
        snprintf(err, errlen, "the notification's payload is not a JSON object");
        return rc;
    }
    rc = apple_note(p, out, &sti, err, errlen);
    if (!rc && sti) {
        if ((t = payload_object(tx, txn)) == NULL) {
            snprintf(err, errlen, "the transaction's payload is not a JSON object");
            rc = OC_EMALFORMED;
        } else {
            rc = apple_tx(t, out, err, errlen);
        }
    }
    json_decref(t);
    json_decref(p);
    return rc;
}

int billing_parse_apple(void *roots, const char *body, size_t n, int64_t now_s,
                        struct billing_event *out, int *sig, char *err, size_t errlen)
{
    json_t *root = NULL, *p = NULL;
    const char *sp = NULL;
    int rc;
    memset(out, 0, sizeof *out);
    out->provider = BILLING_APPLE;
    *sig = BILLING_SIG_OK;
    if (oc_json_parse(body, n, &root, err, errlen) != 0 || !json_is_object(root) ||
        oc_json_get_str(root, "signedPayload", &sp) != 0) {
        snprintf(err, errlen, "the body is not {\"signedPayload\": \"<JWS>\"}");
        json_decref(root);
        return OC_EMALFORMED;
    }
    *sig = billing_jws_verify(roots, sp, strlen(sp), now_s, &p);
    if (*sig != BILLING_SIG_OK)
        rc = -1;
    else
        rc = apple_notification(roots, p, now_s, out, sig, err, errlen);
    json_decref(p);
    json_decref(root);
    return rc;
}
