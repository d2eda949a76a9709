/*
 * stores.c - reconciliation against the app stores' APIs, which list nothing: each
 * subscription oncue knows is looked up one by one.
 *
 * Apple: GET {billing.apple_api_url}/inApps/v1/subscriptions/{originalTransactionId} (the App
 * Store Server API's "Get All Subscription Statuses") with a bearer JWT that oncue signs ES256
 * with the in-app purchase key (billing.apple_api_key_pem, key id, issuer, bundle id). Google:
 * GET {billing.google_api_url}/androidpublisher/v3/applications/{package}/purchases/
 * subscriptionsv2/tokens/{purchaseToken} with an OAuth access token obtained from the service
 * account's token_uri with an RS256 JWT assertion (billing.google_service_account, the JSON key
 * file). The purchase tokens are those the notifications carried (billing_tokens); the answer's
 * externalAccountIdentifiers.obfuscatedExternalAccountId is the platform's account for the
 * token: a subscription held under the token's hash is reported (kind "account") and, with
 * repair, moved to that account.
 */
#include "billing/billing_int.h"
#include "billing/sql.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"
#include "core/lock.h"
#include "core/timefmt.h"
#include "store/store.h"

#include <curl/curl.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ANSWER_MAX (1 << 20) /* bytes of one store API answer */
#define JWT_TTL_S  600       /* lifetime of the JWTs oncue signs */

/* --- signing --- */

static void b64url(const void *p, size_t n, struct oc_buf *b)
{
    size_t cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    char *t = oc_malloc(cap);
    sodium_bin2base64(t, cap, p, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    oc_buf_puts(b, t);
    free(t);
}

/* A compact JWS of claims under header, signed with key (ES256: the raw r || s signature; RS256:
 * PKCS #1 v1.5). Heap text, or NULL. */
static char *jwt_sign(EVP_PKEY *key, const json_t *header, const json_t *claims)
{
    struct oc_buf b;
    char *h = json_dumps(header, JSON_COMPACT), *c = json_dumps(claims, JSON_COMPACT);
    unsigned char sig[1024], raw[64];
    size_t slen = sizeof sig;
    int ec = EVP_PKEY_get_base_id(key) == EVP_PKEY_EC, ok = 0;
    oc_buf_init(&b, 1 << 16);
    b64url(h, strlen(h), &b);
    oc_buf_puts(&b, ".");
    b64url(c, strlen(c), &b);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (md && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
        EVP_DigestSign(md, sig, &slen, (const unsigned char *)b.data, b.len) == 1)
        ok = 1;
    EVP_MD_CTX_free(md);
    if (ok && ec) { /* DER ECDSA-Sig-Value -> r || s, 32 bytes each */
        const unsigned char *p = sig;
        ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)slen);
        const BIGNUM *r, *s;
        ok = es != NULL;
        if (ok) {
            ECDSA_SIG_get0(es, &r, &s);
            ok = BN_bn2binpad(r, raw, 32) == 32 && BN_bn2binpad(s, raw + 32, 32) == 32;
        }
        ECDSA_SIG_free(es);
    }
    if (ok) {
        oc_buf_puts(&b, ".");
        b64url(ec ? raw : sig, ec ? 64 : slen, &b);
    }
    free(h);
    free(c);
    if (!ok) {
        oc_buf_free(&b);
        return NULL;
    }
    return oc_buf_steal(&b);
}

/* The private key of the PEM file path, or NULL with err. */
static EVP_PKEY *key_load(const char *path, const char *setting, char *err, size_t errlen)
{
    FILE *f = path && path[0] ? fopen(path, "r") : NULL;
    EVP_PKEY *k = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    if (!k)
        snprintf(err, errlen, "%s: not a readable PEM private key", setting);
    return k;
}

/* --- HTTP --- */

static size_t sink(char *p, size_t size, size_t n, void *arg)
{
    return oc_buf_append(arg, p, size * n) == 0 ? size * n : 0;
}

/* METHOD url with the bearer token (or none) and a JSON body (or none): the status with the
 * answer parsed into *out (NULL when not JSON), or -1 with err. */
static long call(const char *method, const char *url, const char *bearer, const char *body,
                 json_t **out, char *err, size_t errlen)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    struct oc_buf b;
    char auth[4096];
    long status = -1;
    *out = NULL;
    if (!c) {
        snprintf(err, errlen, "no HTTP client");
        return -1;
    }
    oc_buf_init(&b, ANSWER_MAX);
    if (bearer) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", bearer);
        h = curl_slist_append(h, auth);
    }
    if (body)
        h = curl_slist_append(h, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        *out = b.data ? json_loadb(b.data, b.len, 0, NULL) : NULL;
    } else {
        snprintf(err, errlen, "%s %s: %s", method, url, curl_easy_strerror(rc));
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    oc_buf_free(&b);
    return status;
}

/* --- the comparison --- */

#define theirs billing_theirs /* what the provider says of one subscription */

/* Compares sub (a copy of ours) with t, appending to the report and the repairs. */
static void compare(const struct billing_sub *ours, const struct theirs *t, json_t *report,
                    json_t *fix)
{
    if (t->account[0] && strcmp(t->account, ours->account) != 0) {
        json_t *d = json_pack("{s:s,s:s,s:s}", "subscription", ours->id, "account", ours->account,
                              "provider_account", t->account);
        json_array_append(json_object_get(report, "account"), d);
        json_object_set_new(d, "move", json_true());
        json_object_set_new(d, "provider_state", json_string(billing_state_names[t->state]));
        json_object_set_new(d, "period_end_ms", json_integer(t->period_end_ms));
        json_array_append_new(fix, d);
    } else if (ours->state != t->state) {
        json_t *d = json_pack("{s:s,s:s,s:s,s:s}", "subscription", ours->id, "account",
                              ours->account, "oncue_state", billing_state_names[ours->state],
                              "provider_state", billing_state_names[t->state]);
        json_array_append(json_object_get(report, "mismatch"), d);
        json_object_set_new(d, "period_end_ms", json_integer(t->period_end_ms));
        json_array_append_new(fix, d);
    }
}

static void extra(const struct billing_sub *ours, json_t *report, const char *why)
{
    json_array_append_new(json_object_get(report, "extra"),
                          json_pack("{s:s,s:s,s:s,s:s}", "subscription", ours->id, "account",
                                    ours->account, "oncue_state", billing_state_names[ours->state],
                                    "why", why));
}

/* The ids of the table's subscriptions of provider p (*n of them; the caller frees each and
 * the array). */
static char **subs_of(struct billing_mod *m, enum billing_provider p, size_t *n)
{
    char **v = NULL;
    size_t cap = 0;
    *n = 0;
    oc_rdlock(&m->lock);
    for (size_t i = 0; i < m->table.subs.nb; i++)
        for (struct bmap_node *e = m->table.subs.b[i]; e; e = e->next) {
            const struct billing_sub *s = e->val;
            if (s->provider != p)
                continue;
            v = oc_grow(v, &cap, *n + 1, sizeof *v);
            v[(*n)++] = oc_strdup(s->id);
        }
    oc_rwunlock(&m->lock);
    return v;
}

/* A copy of subscription id as the table holds it now: 1, or 0 when it is gone. */
static int sub_copy(struct billing_mod *m, const char *id, struct billing_sub *out)
{
    oc_rdlock(&m->lock);
    const struct billing_sub *s = bmap_get(&m->table.subs, id);
    if (s)
        *out = *s;
    oc_rwunlock(&m->lock);
    return s != NULL;
}

/* --- Apple --- */

/* App Store subscription status (1 active, 2 expired, 3 billing retry, 4 billing grace
 * period, 5 revoked) as a state, or -1. */
static int apple_status(json_int_t s)
{
    static const enum billing_state map[] = {
        0, BILLING_ACTIVE, BILLING_EXPIRED, BILLING_PAST_DUE, BILLING_GRACE, BILLING_REVOKED};
    return s >= 1 && s <= 5 ? (int)map[s] : -1;
}

static int apple_read(const json_t *a, const char *id, struct theirs *t);

/* Finds the status of original transaction id in an answer of Get All Subscription Statuses:
 * 0 with t set, or -1 (the answer does not name it). */
static int apple_find(const json_t *a, const char *id, struct theirs *t)
{
    return billing_theirs_read(BILLING_APPLE, a, id, t);
}

static int apple_read(const json_t *a, const char *id, struct theirs *t)
{
    size_t i, k;
    json_t *g, *x;
    json_array_foreach(json_object_get(a, "data"), i, g)
    {
        json_array_foreach(json_object_get(g, "lastTransactions"), k, x)
        {
            const char *o = json_string_value(json_object_get(x, "originalTransactionId"));
            int st = apple_status(json_integer_value(json_object_get(x, "status")));
            if (o && strcmp(o, id) == 0 && st >= 0) {
                memset(t, 0, sizeof *t);
                t->state = (enum billing_state)st;
                return 0;
            }
        }
    }
    return -1;
}

static int reconcile_apple(struct billing_mod *m, json_t *report, json_t *fix, char *err,
                           size_t errlen)
{
    const struct billing_opts *o = &m->o;
    if (!o->apple_api_key_pem || !o->apple_api_key_pem[0] || !o->apple_bundle_id[0] ||
        !o->apple_api_key_id[0] || !o->apple_api_issuer[0]) {
        snprintf(err, errlen,
                 "billing.apple_api_key_pem, billing.apple_api_key_id, billing.apple_api_issuer "
                 "and billing.apple_bundle_id are needed");
        return OC_EINVAL;
    }
    EVP_PKEY *key = key_load(o->apple_api_key_pem, "billing.apple_api_key_pem", err, errlen);
    if (!key)
        return OC_EINVAL;
    size_t n, checked = 0;
    char **v = subs_of(m, BILLING_APPLE, &n);
    char *jwt = NULL, url[1024];
    int64_t jwt_at = 0;
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        struct billing_sub ours;
        if (!sub_copy(m, v[i], &ours))
            continue;
        int64_t now = oc_clock_now_s(m->app->clock);
        if (!jwt || now - jwt_at > JWT_TTL_S / 2) {
            json_t *h = json_pack("{s:s,s:s,s:s}", "alg", "ES256", "kid", o->apple_api_key_id,
                                  "typ", "JWT"),
                   *c = json_pack("{s:s,s:I,s:I,s:s,s:s}", "iss", o->apple_api_issuer, "iat",
                                  (json_int_t)now, "exp", (json_int_t)(now + JWT_TTL_S), "aud",
                                  "appstoreconnect-v1", "bid", o->apple_bundle_id);
            free(jwt);
            jwt = jwt_sign(key, h, c);
            jwt_at = now;
            json_decref(h);
            json_decref(c);
            if (!jwt) {
                snprintf(err, errlen, "billing.apple_api_key_pem: cannot sign ES256 with it");
                rc = OC_EINVAL;
                break;
            }
        }
        char *esc = curl_easy_escape(NULL, ours.id, 0);
        snprintf(url, sizeof url, "%s/inApps/v1/subscriptions/%s", o->apple_api_url, esc);
        curl_free(esc);
        json_t *a = NULL;
        struct theirs t;
        long st = call("GET", url, jwt, NULL, &a, err, errlen);
        checked++;
        if (st == 200 && apple_find(a, ours.id, &t) == 0)
            compare(&ours, &t, report, fix);
        else if (st == 200 || st == 404)
            extra(&ours, report, "the App Store does not know this original transaction");
        else {
            if (st > 0)
                snprintf(err, errlen, "GET %s: status %ld", url, st);
            rc = OC_EIO;
        }
        json_decref(a);
    }
    json_object_set_new(report, "checked", json_integer((json_int_t)checked));
    free(jwt);
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
    EVP_PKEY_free(key);
    return rc;
}

/* --- Google --- */

/* subscriptionState (Play Developer API subscriptionsv2) as a state, or -1. */
static int google_state(const char *s)
{
    static const struct {
        const char *name;
        enum billing_state st;
    } map[] = {
        {"SUBSCRIPTION_STATE_ACTIVE", BILLING_ACTIVE},
        {"SUBSCRIPTION_STATE_CANCELED", BILLING_CANCELED},
        {"SUBSCRIPTION_STATE_IN_GRACE_PERIOD", BILLING_GRACE},
        {"SUBSCRIPTION_STATE_ON_HOLD", BILLING_PAUSED},
        {"SUBSCRIPTION_STATE_PAUSED", BILLING_PAUSED},
        {"SUBSCRIPTION_STATE_EXPIRED", BILLING_EXPIRED},
        {"SUBSCRIPTION_STATE_PENDING_PURCHASE_CANCELED", BILLING_EXPIRED},
        {NULL, 0},
    };
    for (int i = 0; s && map[i].name; i++)
        if (strcmp(s, map[i].name) == 0)
            return (int)map[i].st;
    return -1;
}

/* Reads a subscriptionsv2 answer into t: 0, or -1 (no state oncue maps). */
static int google_read(const json_t *a, struct theirs *t);

int billing_theirs_read(enum billing_provider p, const json_t *a, const char *id,
                        struct billing_theirs *t)
{
    if (!json_is_object(a) || (p == BILLING_APPLE && !id))
        return -1;
    return p == BILLING_APPLE ? apple_read(a, id, t) : google_read(a, t);
}

static int google_read(const json_t *a, struct theirs *t)
{
    int st = google_state(json_string_value(json_object_get(a, "subscriptionState")));
    const json_t *items = json_object_get(a, "lineItems");
    const char *exp = json_string_value(json_object_get(json_array_get(items, 0), "expiryTime"));
    const json_t *ext = json_object_get(a, "externalAccountIdentifiers");
    const char *acct = json_string_value(json_object_get(ext, "obfuscatedExternalAccountId"));
    if (st < 0)
        return -1;
    memset(t, 0, sizeof *t);
    t->state = (enum billing_state)st;
    if (exp && (oc_time_parse(exp, OC_TIME_STRICT, &t->period_end_ms) != 0 || t->period_end_ms < 0))
        t->period_end_ms = 0;
    if (acct && billing_id_valid(acct, BILLING_ID_MAX))
        snprintf(t->account, sizeof t->account, "%s", acct);
    return 0;
}

/* An OAuth access token for the service account of file path: heap text, or NULL with err. */
static char *google_token(struct billing_mod *m, const char *path, char *err, size_t errlen)
{
    json_error_t je;
    json_t *sa = json_load_file(path, 0, &je), *a = NULL;
    const char *email = json_string_value(json_object_get(sa, "client_email"));
    const char *pem = json_string_value(json_object_get(sa, "private_key"));
    const char *uri = json_string_value(json_object_get(sa, "token_uri"));
    char *tok = NULL;
    if (!email || !pem || !uri) {
        snprintf(err, errlen,
                 "billing.google_service_account: a service account key file (client_email, "
                 "private_key, token_uri)");
        json_decref(sa);
        return NULL;
    }
    BIO *bio = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    int64_t now = oc_clock_now_s(m->app->clock);
    json_t *h = json_pack("{s:s,s:s}", "alg", "RS256", "typ", "JWT"),
           *c = json_pack("{s:s,s:s,s:s,s:I,s:I}", "iss", email, "scope",
                          "https://www.googleapis.com/auth/androidpublisher", "aud", uri, "iat",
                          (json_int_t)now, "exp", (json_int_t)(now + JWT_TTL_S));
    char *jwt = key ? jwt_sign(key, h, c) : NULL;
    json_decref(h);
    json_decref(c);
    EVP_PKEY_free(key);
    if (!jwt) {
        snprintf(err, errlen, "billing.google_service_account: cannot sign RS256 with its key");
        json_decref(sa);
        return NULL;
    }
    json_t *body = json_pack("{s:s,s:s}", "grant_type",
                             "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion", jwt);
    char *b = json_dumps(body, JSON_COMPACT);
    long st = call("POST", uri, NULL, b, &a, err, errlen);
    const char *at = json_string_value(json_object_get(a, "access_token"));
    if (st == 200 && at)
        tok = oc_strdup(at);
    else if (st > 0)
        snprintf(err, errlen, "POST %s: status %ld, no access_token", uri, st);
    free(b);
    free(jwt);
    json_decref(body);
    json_decref(a);
    json_decref(sa);
    return tok;
}

/* The stored purchase tokens: an array of [subscription, token] (the caller's), or NULL. */
static json_t *google_tokens(struct billing_mod *m)
{
    struct store *st = m->app->store;
    struct store_stmt *q;
    json_t *v = json_array();
    int s = STORE_DONE;
    store_lock(st);
    if (store_prepare(st, BILLING_SQL_TOKEN_ALL, &q) == 0) {
        if (STORE_BIND(q, STORE_TEXT("google")) == 0)
            while ((s = store_step(q)) == STORE_ROW)
                json_array_append_new(
                    v, json_pack("[s,s]", store_col_text(q, 0), store_col_text(q, 1)));
        store_reset(q);
    }
    store_unlock(st);
    if (s < 0) {
        json_decref(v);
        return NULL;
    }
    return v;
}

static int reconcile_google(struct billing_mod *m, json_t *report, json_t *fix, char *err,
                            size_t errlen)
{
    const struct billing_opts *o = &m->o;
    if (!o->google_sa || !o->google_sa[0] || !o->google_package[0]) {
        snprintf(err, errlen,
                 "billing.google_service_account and billing.google_package are "
                 "needed");
        return OC_EINVAL;
    }
    json_t *toks = google_tokens(m), *x;
    if (!toks) {
        snprintf(err, errlen, "cannot read the stored purchase tokens");
        return OC_EIO;
    }
    char *access = google_token(m, o->google_sa, err, errlen), url[2048];
    int rc = access ? 0 : OC_EIO;
    size_t i, checked = 0;
    json_array_foreach(toks, i, x)
    {
        if (rc)
            break;
        const char *id = json_string_value(json_array_get(x, 0));
        const char *token = json_string_value(json_array_get(x, 1));
        struct billing_sub ours;
        if (!id || !token || !sub_copy(m, id, &ours))
            continue;
        char *pk = curl_easy_escape(NULL, o->google_package, 0),
             *tk = curl_easy_escape(NULL, token, 0);
        snprintf(url, sizeof url,
                 "%s/androidpublisher/v3/applications/%s/purchases/subscriptionsv2/tokens/%s",
                 o->google_api_url, pk, tk);
        curl_free(pk);
        curl_free(tk);
        json_t *a = NULL;
        struct theirs t;
        long st = call("GET", url, access, NULL, &a, err, errlen);
        checked++;
        if (st == 200 && billing_theirs_read(BILLING_GOOGLE, a, NULL, &t) == 0)
            compare(&ours, &t, report, fix);
        else if (st == 404 || st == 410)
            extra(&ours, report, "Google Play does not know this purchase token");
        else {
            if (st > 0)
                snprintf(err, errlen, "GET .../subscriptionsv2/tokens/...: status %ld", st);
            rc = OC_EIO;
        }
        json_decref(a);
    }
    json_object_set_new(report, "checked", json_integer((json_int_t)checked));
    free(access);
    json_decref(toks);
    return rc;
}

int billing_reconcile_store(struct billing_mod *m, enum billing_provider p, json_t *report,
                            json_t *fix, char *err, size_t errlen)
{
    return p == BILLING_APPLE ? reconcile_apple(m, report, fix, err, errlen)
                              : reconcile_google(m, report, fix, err, errlen);
}
