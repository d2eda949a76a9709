/*
 * module.c - the `billing` module: the webhook receiver POST /v1/billing/webhooks/{provider},
 * the entitlement check GET /v1/entitlements/{account}, the account view and support actions
 * under /v1/billing/accounts/{account}, its settings, its /metrics counters and the timer that
 * prunes event ids past billing.retention_s.
 *
 * A webhook is verified and parsed on its HTTP worker without a lock, then queued for the
 * committer (commit.c), which answers it once its batch is on disk. Signing secrets come from
 * the settings and are never logged nor shown: refusals name the reason, never a key.
 */
#include "billing/billing_int.h"
#include "billing/sql.h"
#include "config/config.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"
#include "core/lock.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/timefmt.h"
#include "http/http.h"
#include "qoe/qoe.h"
#include "search/search.h"
#include "store/store.h"

#include <sodium.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK_MAX 2048 /* bytes of one entitlement answer */

/* Copies string member key of o into out (BILLING_ID_MAX + 1 bytes) when it is a valid id. */
static void claimed(const json_t *o, const char *key, char *out)
{
    const char *s = json_string_value(json_object_get(o, key));
    if (s && billing_id_valid(s, BILLING_ID_MAX))
        memcpy(out, s, strlen(s) + 1);
}

/* The event id a delivery to provider p states, read without trusting it (the audit's tally of
 * refusals names it): Stripe's body "id", the webhook-id header, Apple's notificationUUID in
 * the JWS payload, the push's message.messageId. "" when none can be read. */
static void claimed_id(enum billing_provider p, struct http_req *req, char out[BILLING_ID_MAX + 1])
{
    json_t *b = NULL, *jp = NULL;
    out[0] = '\0';
    if (p == BILLING_STANDARD) {
        const char *id = http_header(req, "webhook-id");
        if (id && billing_id_valid(id, BILLING_ID_MAX))
            memcpy(out, id, strlen(id) + 1);
        return;
    }
    b = json_loadb(req->body, req->body_len, 0, NULL);
    if (p == BILLING_STRIPE) {
        claimed(b, "id", out);
    } else if (p == BILLING_GOOGLE) {
        claimed(json_object_get(b, "message"), "messageId", out);
    } else { /* apple: the JWS's middle part, base64url */
        const char *t = json_string_value(json_object_get(b, "signedPayload"));
        const char *d1 = t ? strchr(t, '.') : NULL, *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
        size_t n = d2 ? (size_t)(d2 - d1 - 1) : 0, len = 0;
        unsigned char *raw = n ? oc_malloc(n) : NULL;
        if (raw && sodium_base642bin(raw, n, d1 + 1, n, NULL, &len, NULL,
                                     sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0)
            jp = json_loadb((const char *)raw, len, 0, NULL);
        claimed(jp, "notificationUUID", out);
        free(raw);
    }
    json_decref(jp);
    json_decref(b);
}

/* Counts a refused delivery (reason: an enum billing_sig, 0 an unusable payload) in the
 * audit's tally (tally.c). */
static void tally_refusal(struct billing_mod *m, struct http_req *req, enum billing_provider p,
                          int reason)
{
    char id[BILLING_ID_MAX + 1];
    atomic_fetch_add(&m->st.refused[reason], 1);
    claimed_id(p, req, id);
    billing_tally_add(m, p, reason, id[0] ? id : NULL, oc_clock_now_ms(m->app->clock));
}

/* Answers a refused delivery: 401 naming the reason (503 when no key is configured). */
static void refuse(struct billing_mod *m, struct http_req *req, enum billing_provider p, int sig,
                   const char *what)
{
    tally_refusal(m, req, p, sig);
    http_problem(req, sig == BILLING_SIG_NOKEY ? 503 : 401, "%s: %s", billing_sig_reasons[sig],
                 what);
}

/* Answers a signed delivery whose payload cannot be used (rc OC_EMALFORMED: 400, else 422). */
static void unusable(struct billing_mod *m, struct http_req *req, enum billing_provider p, int rc,
                     const char *err)
{
    tally_refusal(m, req, p, 0);
    http_problem(req, rc == OC_EMALFORMED ? 400 : 422, "%s", err);
}

/* Verifies a Stripe delivery and parses it into e: 0, or -1 after answering. */
static int stripe_in(struct billing_mod *m, struct http_req *req, struct billing_event *e)
{
    char err[240];
    int64_t ts = 0, now = oc_clock_now_s(m->app->clock);
    int sig = billing_stripe_verify(&m->keys[0], http_header(req, "Stripe-Signature"), req->body,
                                    req->body_len, now, m->o.tolerance_s, &ts);
    if (sig == BILLING_SIG_STALE) {
        char what[160];
        snprintf(what, sizeof what, "t=%lld is %lld s from now (billing.tolerance_s is %lld)",
                 (long long)ts, (long long)(ts > now ? ts - now : now - ts),
                 (long long)m->o.tolerance_s);
        refuse(m, req, BILLING_STRIPE, sig, what);
        return -1;
    }
    if (sig) {
        refuse(m, req, BILLING_STRIPE, sig,
               sig == BILLING_SIG_MISSING     ? "Stripe-Signature"
               : sig == BILLING_SIG_MALFORMED ? "Stripe-Signature needs one t= and a v1="
               : sig == BILLING_SIG_NOKEY     ? "billing.stripe_secrets is empty"
                                          : "no v1 signature verifies with a configured secret");
        return -1;
    }
    int rc = billing_parse_stripe(req->body, req->body_len, e, err, sizeof err);
    if (rc) {
        unusable(m, req, BILLING_STRIPE, rc, err);
        return -1;
    }
    return 0;
}

/* Verifies a Standard Webhooks delivery and parses it into e: 0, or -1 after answering. */
static int standard_in(struct billing_mod *m, struct http_req *req, struct billing_event *e)
{
    char err[240];
    const char *id = http_header(req, "webhook-id"), *ts = http_header(req, "webhook-timestamp"),
               *sigs = http_header(req, "webhook-signature");
    int64_t now = oc_clock_now_s(m->app->clock);
    int sig = billing_standard_verify(&m->keys[1], id, ts, sigs, req->body, req->body_len, now,
                                      m->o.tolerance_s);
    if (sig == BILLING_SIG_STALE) {
        char what[160];
        snprintf(what, sizeof what, "webhook-timestamp %s is more than %lld s from now", ts,
                 (long long)m->o.tolerance_s);
        refuse(m, req, BILLING_STANDARD, sig, what);
        return -1;
    }
    if (sig) {
        refuse(m, req, BILLING_STANDARD, sig,
               sig == BILLING_SIG_MISSING ? (!id   ? "webhook-id"
                                             : !ts ? "webhook-timestamp"
                                                   : "webhook-signature")
               : sig == BILLING_SIG_MALFORMED
                   ? "webhook-id, webhook-timestamp (unix seconds) or webhook-signature "
                     "(space-separated v1,<base64> or v1a,<base64>)"
               : sig == BILLING_SIG_NOKEY
                   ? "billing.standard_secrets is empty"
                   : "no v1 or v1a signature verifies with a configured key");
        return -1;
    }
    int rc = billing_parse_standard(id, req->body, req->body_len, e, err, sizeof err);
    if (rc) {
        unusable(m, req, BILLING_STANDARD, rc, err);
        return -1;
    }
    return 0;
}

/* Verifies an App Store Server Notification V2 and parses it into e: 0, or -1 after
 * answering. Apple retries one signed notification for days, so signedDate is not held to
 * billing.tolerance_s: the notification UUID, remembered billing.retention_s, stops
 * replays. */
static int apple_in(struct billing_mod *m, struct http_req *req, struct billing_event *e)
{
    char err[240];
    int sig = 0;
    int rc = billing_parse_apple(m->apple_roots, req->body, req->body_len,
                                 oc_clock_now_s(m->app->clock), e, &sig, err, sizeof err);
    if (rc == -1) {
        refuse(m, req, BILLING_APPLE, sig,
               sig == BILLING_SIG_NOKEY       ? "billing.apple_root_pem is not set"
               : sig == BILLING_SIG_CHAIN     ? "the x5c chain does not lead to a configured root"
               : sig == BILLING_SIG_MALFORMED ? "a JWS that is not ES256 with an x5c chain"
                                              : "the ES256 signature does not verify");
        return -1;
    }
    if (rc) {
        unusable(m, req, BILLING_APPLE, rc, err);
        return -1;
    }
    return 0;
}

/* Verifies a Pub/Sub push of a Play notification and parses it into e: 0, or -1 after
 * answering. */
static int google_in(struct billing_mod *m, struct http_req *req, struct billing_event *e)
{
    char err[240];
    int sig = billing_google_verify(m->google_keys, m->o.google_audience,
                                    http_header(req, "Authorization"),
                                    oc_clock_now_s(m->app->clock), m->o.tolerance_s);
    if (sig) {
        refuse(m, req, BILLING_GOOGLE, sig,
               sig == BILLING_SIG_MISSING     ? "Authorization (the push's Bearer JWT)"
               : sig == BILLING_SIG_MALFORMED ? "Authorization: Bearer <RS256 JWT>"
               : sig == BILLING_SIG_STALE     ? "the push JWT has expired"
               : sig == BILLING_SIG_NOKEY ? "billing.google_keys_pem or billing.google_audience "
                                            "is not set"
                                          : "the JWT is not Google's for billing.google_audience");
        return -1;
    }
    int rc = billing_parse_google(req->body, req->body_len, e, err, sizeof err);
    if (rc) {
        unusable(m, req, BILLING_GOOGLE, rc, err);
        return -1;
    }
    return 0;
}

/* POST /v1/billing/webhooks/{provider} */
static void post_webhook(struct http_req *req)
{
    struct billing_mod *m = req->state;
    const char *p = http_param(req, "provider");
    struct billing_op *op = oc_calloc(1, sizeof *op);
    int rc = -1;
    op->kind = BILLING_OP_EVENT;
    if (strcmp(p, "stripe") == 0)
        rc = stripe_in(m, req, &op->ev);
    else if (strcmp(p, "standard") == 0)
        rc = standard_in(m, req, &op->ev);
    else if (strcmp(p, "apple") == 0)
        rc = apple_in(m, req, &op->ev);
    else if (strcmp(p, "google") == 0)
        rc = google_in(m, req, &op->ev);
    else
        http_problem(req, 404, "unknown provider: %s (stripe, standard, apple, google)",
                     billing_id_valid(p, 32) ? p : "?");
    if (rc) {
        billing_op_free(op);
        return;
    }
    op->payload = oc_strndup(req->body, req->body_len);
    op->plen = req->body_len;
    op->recv_ms = oc_clock_now_ms(m->app->clock);
    op->later = http_later(req);
    if (op->later) {
        billing_submit(m, op); /* the committer answers and frees op: it is not ours now */
        return;
    }
    billing_submit(m, op); /* waits for the answer */
    if (op->status == 200)
        http_reply(req, 200, "application/json", op->answer, strlen(op->answer));
    else
        http_problem(req, op->status, "%s", op->answer ? op->answer : "the event was not stored");
    billing_op_free(op);
}

/* 1 when s is a region code: 1 to 8 of A-Z a-z 0-9 -. */
static int region_valid(const char *s)
{
    size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-");
    return n > 0 && n <= 8 && !s[n];
}

/* Writes s JSON-escaped (without quotes) into out (n bytes; truncated): the reason may quote
 * a catalog title's region and plan names, which are any text. */
static void json_esc(const char *s, char *out, size_t n)
{
    size_t at = 0;
    for (; *s && at + 7 < n; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            out[at++] = '\\', out[at++] = (char)c;
        else if (c < 0x20)
            at += (size_t)snprintf(out + at, n - at, "\\u%04x", c);
        else
            out[at++] = (char)c;
    }
    out[at] = '\0';
}

/* GET /v1/entitlements/{account}?title=T&region=R */
static void get_entitlement(struct http_req *req)
{
    struct billing_mod *m = req->state;
    const char *acct = http_param(req, "account"), *title = http_query(req, "title"),
               *region = http_query(req, "region");
    const struct billing_sub *subs[BILLING_SUBS_PER_ACCOUNT];
    struct billing_verdict v;
    char out[CHECK_MAX];
    int n = 0;
    if (!billing_id_valid(acct, BILLING_ID_MAX)) {
        http_problem(req, 422, "account: 1 to %d printable characters without spaces or quotes",
                     BILLING_ID_MAX);
        return;
    }
    if (title && !billing_id_valid(title, BILLING_ID_MAX)) {
        http_problem(req, 422, "title: 1 to %d printable characters without spaces or quotes",
                     BILLING_ID_MAX);
        return;
    }
    if (region && !region_valid(region)) {
        http_problem(req, 422, "region: 1 to 8 of A-Z a-z 0-9 -");
        return;
    }
    /* the title's rights, from the catalog's index in memory (when the search module runs) */
    char tregions[2200], tents[2200];
    struct billing_title t = {title, 0, tregions, tents};
    int known =
        title ? search_title_avail(m->app, title, tregions, sizeof tregions, tents, sizeof tents)
              : -1;
    t.known = known == 1;
    int64_t now = oc_clock_now_ms(m->app->clock);
    oc_rdlock(&m->lock);
    const struct billing_account *a = bmap_get(&m->table.accounts, acct);
    for (size_t i = 0; a && i < a->n; i++)
        subs[n++] = a->subs[i];
    billing_verdict_title(subs, n, region, known >= 0 ? &t : NULL, now, &v);
    oc_rwunlock(&m->lock);
    atomic_fetch_add(&m->st.checks, 1);
    char reason[sizeof v.reason * 2];
    json_esc(v.reason, reason, sizeof reason);
    int len = snprintf(out, sizeof out,
                       "{\"account\":\"%s\",\"title\":%s%s%s,\"region\":%s%s%s,\"allowed\":%s,"
                       "\"state\":\"%s\",\"reason\":\"%s\",\"title_checked\":%s}\n",
                       acct, title ? "\"" : "", title ? title : "null", title ? "\"" : "",
                       region ? "\"" : "", region ? region : "null", region ? "\"" : "",
                       v.allowed ? "true" : "false", billing_state_names[v.state], reason,
                       known >= 0 ? "true" : "false");
    http_reply(req, 200, "application/json", out, (size_t)len);
}

/* GET /v1/billing/accounts/{account} */
static void get_account(struct http_req *req)
{
    struct billing_mod *m = req->state;
    const char *acct = http_param(req, "account");
    json_t *out = NULL;
    if (!billing_id_valid(acct, BILLING_ID_MAX)) {
        http_problem(req, 422, "account: 1 to %d printable characters", BILLING_ID_MAX);
        return;
    }
    int rc = billing_account_json(m->app->store, acct, oc_clock_now_ms(m->app->clock), 20, &out);
    if (rc) {
        http_reply_err(req, rc, "cannot read the account");
        return;
    }
    /* the last reconciliation's findings about this account */
    json_t *found = json_array(), *x;
    static const char *const kinds[] = {"missing", "extra", "mismatch", "account"};
    oc_lock(&m->rmu);
    for (int p = 0; p < BILLING_MANUAL; p++)
        for (int k = 0; k < 4 && m->reports[p]; k++) {
            size_t i;
            json_array_foreach(json_object_get(m->reports[p], kinds[k]), i, x)
            {
                const char *a = json_string_value(json_object_get(x, "account"));
                const char *b = json_string_value(json_object_get(x, "provider_account"));
                if ((a && strcmp(a, acct) == 0) || (b && strcmp(b, acct) == 0)) {
                    json_t *d = json_deep_copy(x);
                    json_object_set_new(d, "discrepancy", json_string(kinds[k]));
                    json_object_set_new(d, "provider", json_string(billing_provider_names[p]));
                    json_object_del(d, "move");
                    json_array_append_new(found, d);
                }
            }
        }
    json_object_set_new(out, "reconciled_ms", json_integer(m->last_report ? m->last_ms : 0));
    oc_unlock(&m->rmu);
    json_object_set_new(out, "discrepancies", found);
    http_reply_json(req, 200, out);
}

/* Reads the support action of req (body and Idempotency-Key) into a: 0, or -1 after
 * answering 400/422. */
static int action_parse(struct http_req *req, struct billing_action *a)
{
    static const char *const kinds[] = {"", "grant", "revoke", "extend", NULL};
    static const char *const allowed[] = {"action", "subscription", "until", "reason", NULL};
    const char *key = http_header(req, "Idempotency-Key"), *acct = http_param(req, "account");
    const char *s = NULL, *bad;
    int rc = -1;
    if (!key || !key[0] || strlen(key) > BILLING_IDEM_KEY_MAX || !billing_id_valid(key, 255)) {
        http_problem(req, 400,
                     "Idempotency-Key: a header of 1 to %d printable characters is "
                     "required",
                     BILLING_IDEM_KEY_MAX);
        return -1;
    }
    if (!billing_id_valid(acct, BILLING_ID_MAX)) {
        http_problem(req, 422, "account: 1 to %d printable characters", BILLING_ID_MAX);
        return -1;
    }
    json_t *b = http_body_json(req);
    if (!b)
        return -1;
    snprintf(a->key, sizeof a->key, "%s", key);
    snprintf(a->account, sizeof a->account, "%s", acct);
    snprintf(a->actor, sizeof a->actor, "%s", req->principal);
    if ((bad = oc_json_unknown_key(b, allowed)) != NULL) {
        http_problem(req, 422, "%s: unknown field (action, subscription, until, reason)", bad);
        goto out;
    }
    a->kind = 0;
    if (oc_json_get_str(b, "action", &s) == 0)
        for (int i = 1; kinds[i]; i++)
            if (strcmp(s, kinds[i]) == 0)
                a->kind = (enum billing_action_kind)i;
    if (!a->kind) {
        http_problem(req, 422, "action: grant, revoke or extend");
        goto out;
    }
    if (oc_json_get_str(b, "reason", &s) != 0 || !s[0] || strlen(s) >= sizeof a->reason) {
        http_problem(req, 422, "reason: 1 to %zu characters saying why", sizeof a->reason - 1);
        goto out;
    }
    snprintf(a->reason, sizeof a->reason, "%s", s);
    if (oc_json_get_str(b, "subscription", &s) == 0) {
        if (!billing_id_valid(s, BILLING_ID_MAX)) {
            http_problem(req, 422, "subscription: 1 to %d printable characters", BILLING_ID_MAX);
            goto out;
        }
        snprintf(a->subscription, sizeof a->subscription, "%s", s);
    }
    int has_until = oc_json_get_str(b, "until", &s) == 0;
    if ((has_until && (oc_time_parse(s, OC_TIME_STRICT, &a->until_ms) != 0 || a->until_ms <= 0)) ||
        (!has_until && a->kind == BILLING_EXTEND)) {
        http_problem(req, 422, "until: an RFC 3339 time such as 2027-01-01T00:00:00Z%s",
                     a->kind == BILLING_EXTEND ? " (extend needs it)" : "");
        goto out;
    }
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    crypto_hash_sha256_update(&h, (const unsigned char *)req->path, strlen(req->path) + 1);
    crypto_hash_sha256_update(&h, (const unsigned char *)req->body, req->body_len);
    crypto_hash_sha256_final(&h, a->fingerprint);
    rc = 0;
out:
    json_decref(b);
    return rc;
}

/* Replays the stored answer of key or refuses a reuse; 1 when answered, 0 when the key is
 * new (and now in flight), -1 when answered with an error. */
static int idem_begin(struct billing_mod *m, struct http_req *req, const struct billing_action *a)
{
    struct store_stmt *q;
    int found = 0, status = 0, same = 0;
    char *ans = NULL;
    oc_lock(&m->imu);
    if (bmap_get(&m->inflight, a->key)) {
        oc_unlock(&m->imu);
        http_problem(req, 409, "a request with this Idempotency-Key is in flight");
        return -1;
    }
    store_lock(m->app->store);
    if (store_prepare(m->app->store, BILLING_SQL_IDEM_GET, &q) == 0 &&
        STORE_BIND(q, STORE_TEXT(a->key)) == 0 && store_step(q) == STORE_ROW) {
        size_t n = 0;
        const void *fp = store_col_blob(q, 0, &n);
        found = 1;
        same = n == 32 && memcmp(fp, a->fingerprint, 32) == 0;
        status = (int)store_col_int(q, 1);
        ans = oc_strdup(store_col_text(q, 2) ? store_col_text(q, 2) : "");
    }
    if (q)
        store_reset(q);
    store_unlock(m->app->store);
    if (!found)
        bmap_put(&m->inflight, a->key, (void *)1);
    oc_unlock(&m->imu);
    if (!found)
        return 0;
    if (!same) {
        http_problem(req, 422, "this Idempotency-Key was used with another request");
    } else {
        http_set_header(req, "Idempotent-Replayed", "true");
        if (status == 200)
            http_reply(req, 200, "application/json", ans, strlen(ans));
        else
            http_problem(req, status, "%s", ans);
    }
    free(ans);
    return same ? 1 : -1;
}

/* POST /v1/billing/accounts/{account}/actions */
static void post_action(struct http_req *req)
{
    struct billing_mod *m = req->state;
    struct billing_op *op = oc_calloc(1, sizeof *op);
    op->kind = BILLING_OP_ACTION;
    if (action_parse(req, &op->act) != 0 || idem_begin(m, req, &op->act) != 0) {
        billing_op_free(op);
        return;
    }
    op->recv_ms = oc_clock_now_ms(m->app->clock);
    billing_submit(m, op); /* an audited route: waits for its answer */
    oc_lock(&m->imu);
    bmap_del(&m->inflight, op->act.key);
    oc_unlock(&m->imu);
    if (op->status == 200)
        http_reply(req, 200, "application/json", op->answer, strlen(op->answer));
    else
        http_problem(req, op->status ? op->status : 503, "%s",
                     op->answer ? op->answer : "the action could not be stored");
    billing_op_free(op);
}

/* Reads the stored event (provider p, id) of a replay into op: its payload parsed again
 * (Apple's chain checked at its receive time) and its first decision. 0, or -1 after
 * answering. */
static int replay_load(struct billing_mod *m, struct http_req *req, enum billing_provider p,
                       const char *id, struct billing_op *op)
{
    struct store *st = m->app->store;
    struct store_stmt *q;
    char *payload = NULL, err[240];
    int64_t recv_ms = 0;
    int found = 0, rc, sig = 0;
    store_lock(st);
    if (store_prepare(st, BILLING_SQL_EVENT_GET, &q) == 0) {
        if (STORE_BIND(q, STORE_TEXT(billing_provider_names[p]), STORE_TEXT(id)) == 0 &&
            store_step(q) == STORE_ROW) {
            found = 1;
            payload = oc_strdup(store_col_text(q, 0) ? store_col_text(q, 0) : "");
            recv_ms = store_col_int(q, 1);
            snprintf(op->act.prior, sizeof op->act.prior, "%s",
                     store_col_text(q, 2) ? store_col_text(q, 2) : "");
        }
        store_reset(q);
    }
    store_unlock(st);
    if (!found) {
        http_problem(req, 404,
                     "no stored %s event %s: never received, or forgotten after "
                     "billing.retention_s",
                     billing_provider_names[p], id);
        return -1;
    }
    size_t n = strlen(payload);
    rc = p == BILLING_STRIPE     ? billing_parse_stripe(payload, n, &op->ev, err, sizeof err)
         : p == BILLING_STANDARD ? billing_parse_standard(id, payload, n, &op->ev, err, sizeof err)
         : p == BILLING_APPLE    ? billing_parse_apple(m->apple_roots, payload, n, recv_ms / 1000,
                                                       &op->ev, &sig, err, sizeof err)
                                 : billing_parse_google(payload, n, &op->ev, err, sizeof err);
    if (rc == -1)
        snprintf(err, sizeof err, "%s", billing_sig_reasons[sig]);
    free(payload);
    if (rc) {
        http_problem(req, 422, "the stored event no longer parses: %s", err);
        return -1;
    }
    return 0;
}

/* Reads a replay's body {"reason", "force"?} and Idempotency-Key into a: 0, or -1 after
 * answering. */
static int replay_parse(struct http_req *req, struct billing_action *a)
{
    static const char *const allowed[] = {"reason", "force", NULL};
    const char *key = http_header(req, "Idempotency-Key"), *s = NULL, *bad;
    if (!key || !billing_id_valid(key, BILLING_IDEM_KEY_MAX)) {
        http_problem(req, 400,
                     "Idempotency-Key: a header of 1 to %d printable characters is required",
                     BILLING_IDEM_KEY_MAX);
        return -1;
    }
    json_t *b = http_body_json(req);
    if (!b)
        return -1;
    int rc = -1;
    if ((bad = oc_json_unknown_key(b, allowed)) != NULL)
        http_problem(req, 422, "%s: unknown field (reason, force)", bad);
    else if (oc_json_get_str(b, "reason", &s) != 0 || !s[0] || strlen(s) >= sizeof a->reason)
        http_problem(req, 422, "reason: 1 to %zu characters saying why", sizeof a->reason - 1);
    else if (json_object_get(b, "force") && oc_json_get_bool(b, "force", &a->force) != 0)
        http_problem(req, 422, "force: true or false");
    else
        rc = 0;
    if (!rc) {
        snprintf(a->reason, sizeof a->reason, "%s", s);
        snprintf(a->key, sizeof a->key, "%s", key);
        snprintf(a->actor, sizeof a->actor, "%s", req->principal);
        crypto_hash_sha256_state h;
        crypto_hash_sha256_init(&h);
        crypto_hash_sha256_update(&h, (const unsigned char *)req->path, strlen(req->path) + 1);
        crypto_hash_sha256_update(&h, (const unsigned char *)req->body, req->body_len);
        crypto_hash_sha256_final(&h, a->fingerprint);
    }
    json_decref(b);
    return rc;
}

/* POST /v1/billing/events/{provider}/{id}/replay */
static void post_replay(struct http_req *req)
{
    struct billing_mod *m = req->state;
    const char *prov = http_param(req, "provider"), *id = http_param(req, "id");
    int p = -1;
    for (int i = 0; i < BILLING_MANUAL; i++)
        if (strcmp(prov, billing_provider_names[i]) == 0)
            p = i;
    if (p < 0) {
        http_problem(req, 404, "unknown provider: %s (stripe, standard, apple, google)",
                     billing_id_valid(prov, 32) ? prov : "?");
        return;
    }
    if (!billing_id_valid(id, BILLING_ID_MAX)) {
        http_problem(req, 422, "id: 1 to %d printable characters", BILLING_ID_MAX);
        return;
    }
    struct billing_op *op = oc_calloc(1, sizeof *op);
    op->kind = BILLING_OP_REPLAY;
    if (replay_parse(req, &op->act) != 0 || idem_begin(m, req, &op->act) != 0) {
        billing_op_free(op);
        return;
    }
    if (replay_load(m, req, (enum billing_provider)p, id, op) == 0) {
        op->recv_ms = oc_clock_now_ms(m->app->clock);
        billing_submit(m, op); /* an audited route: waits for its answer */
        if (op->status == 200)
            http_reply(req, 200, "application/json", op->answer, strlen(op->answer));
        else
            http_problem(req, op->status ? op->status : 503, "%s",
                         op->answer ? op->answer : "the replay could not be stored");
    }
    oc_lock(&m->imu);
    bmap_del(&m->inflight, op->act.key);
    oc_unlock(&m->imu);
    billing_op_free(op);
}

/* POST /v1/billing/reconcile {"repair": false, "provider": "stripe"} */
static void post_reconcile(struct http_req *req)
{
    struct billing_mod *m = req->state;
    json_t *b = req->body_len ? http_body_json(req) : json_object(), *report = NULL;
    char err[300];
    const char *pn = "stripe";
    int repair = 0, p = -1;
    if (!b)
        return;
    if (json_object_get(b, "repair") && oc_json_get_bool(b, "repair", &repair) != 0) {
        json_decref(b);
        http_problem(req, 422, "repair: true or false");
        return;
    }
    if (json_object_get(b, "provider") && oc_json_get_str(b, "provider", &pn) != 0)
        pn = "";
    for (int i = 0; i < BILLING_MANUAL; i++)
        if (i != BILLING_STANDARD && strcmp(pn, billing_provider_names[i]) == 0)
            p = i;
    json_decref(b);
    if (p < 0) {
        http_problem(req, 422, "provider: stripe, apple or google");
        return;
    }
    int rc = billing_reconcile(m, (enum billing_provider)p, repair, req->principal, &report, err,
                               sizeof err);
    billing_reconcile_keep(m, (enum billing_provider)p, report ? json_incref(report) : NULL, err);
    if (rc) {
        http_problem(req, rc == OC_EINVAL ? 503 : 502, "reconciliation failed: %s", err);
        return;
    }
    http_reply_json(req, 200, report);
}

/* GET /v1/billing/reconcile -> {"report": the last one or null, "at_ms", "error"} */
static void get_reconcile(struct http_req *req)
{
    struct billing_mod *m = req->state;
    oc_lock(&m->rmu);
    json_t *out = json_pack("{s:O?,s:I,s:s,s:{s:O?,s:O?,s:O?}}", "report", m->last_report, "at_ms",
                            (json_int_t)m->last_ms, "error", m->last_error, "reports", "stripe",
                            m->reports[BILLING_STRIPE], "apple", m->reports[BILLING_APPLE],
                            "google", m->reports[BILLING_GOOGLE]);
    oc_unlock(&m->rmu);
    http_reply_json(req, 200, out);
}

/* The day of a royalty route, validated: its text, or NULL after answering 422. */
static const char *royalty_day(struct http_req *req, int64_t *day_s)
{
    const char *day = http_param(req, "day");
    if (billing_day_parse(day, day_s) != 0) {
        http_problem(req, 422, "day: a UTC date YYYY-MM-DD");
        return NULL;
    }
    return day;
}

/* The day's report: its seal's when sealed (*sealed_id set), else from the cube. 0 or an
 * answered error (-1). */
static int royalty_report(struct billing_mod *m, struct http_req *req, const char *day,
                          int64_t day_s, json_t **rep, int64_t *sealed_id)
{
    json_t *detail = NULL;
    int64_t ts = 0;
    char err[300];
    *rep = NULL;
    *sealed_id = 0;
    int rc = billing_royalty_sealed(m->app->store, day, sealed_id, &ts, &detail);
    if (rc < 0) {
        http_reply_err(req, rc, "cannot read the audit");
        return -1;
    }
    if (rc == 1) {
        *rep = json_incref(json_object_get(detail, "report"));
        json_decref(detail);
        return 0;
    }
    struct qoe_cube *c = qoe_cube_of(m->app);
    if (!c) {
        http_problem(req, 503, "the qoe module is not running: no cube to read plays from");
        return -1;
    }
    rc = billing_royalty_day(c, day_s, rep, err, sizeof err);
    if (rc) {
        http_reply_err(req, rc, "%s", err);
        return -1;
    }
    return 0;
}

/* GET /v1/billing/royalties/{day}?format=csv|json */
static void get_royalties(struct http_req *req)
{
    struct billing_mod *m = req->state;
    const char *fmt = http_query(req, "format");
    int64_t day_s, sealed = 0;
    json_t *rep;
    size_t len;
    char hdr[64];
    const char *day = royalty_day(req, &day_s);
    if (!day)
        return;
    if (fmt && strcmp(fmt, "csv") != 0 && strcmp(fmt, "json") != 0) {
        http_problem(req, 422, "format: csv or json");
        return;
    }
    int csv = fmt && strcmp(fmt, "csv") == 0;
    if (royalty_report(m, req, day, day_s, &rep, &sealed) != 0)
        return;
    char *text = billing_royalty_render(rep, csv, &len);
    json_decref(rep);
    snprintf(hdr, sizeof hdr, "%lld", (long long)sealed);
    http_set_header(req, "Oncue-Sealed", hdr); /* the seal's audit row, 0: not sealed */
    snprintf(hdr, sizeof hdr, "attachment; filename=\"royalties-%s.%s\"", day,
             csv ? "csv" : "json");
    http_set_header(req, "Content-Disposition", hdr);
    http_reply(req, 200, csv ? "text/csv; charset=utf-8" : "application/json", text, len);
    free(text);
}

/* POST /v1/billing/royalties/{day}/seal */
static void post_seal(struct http_req *req)
{
    struct billing_mod *m = req->state;
    int64_t day_s;
    json_t *rep;
    const char *day = royalty_day(req, &day_s);
    if (!day)
        return;
    struct qoe_cube *c = qoe_cube_of(m->app);
    char err[300];
    if (!c) {
        http_problem(req, 503, "the qoe module is not running: no cube to read plays from");
        return;
    }
    int rc = billing_royalty_day(c, day_s, &rep, err, sizeof err);
    if (rc) {
        http_reply_err(req, rc, "%s", err);
        return;
    }
    json_t *detail = billing_royalty_seal_detail(rep, req->principal);
    json_decref(rep);
    struct billing_op *op = oc_calloc(1, sizeof *op);
    op->kind = BILLING_OP_SEAL;
    op->payload = json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS);
    op->plen = strlen(op->payload);
    json_decref(detail);
    snprintf(op->act.account, sizeof op->act.account, "royalty:%s", day);
    op->recv_ms = oc_clock_now_ms(m->app->clock);
    billing_submit(m, op); /* an audited route: waits for its answer */
    if (op->status == 200)
        http_reply(req, 200, "application/json", op->answer, strlen(op->answer));
    else
        http_problem(req, op->status ? op->status : 503, "%s",
                     op->answer ? op->answer : "the seal could not be stored");
    billing_op_free(op);
}

/* /metrics */
static void render(struct oc_buf *b, void *arg)
{
    struct billing_mod *m = arg;
    oc_metrics_family(b, "oncue_billing_events_total", "counter",
                      "Verified billing events, by provider and decision (applied, stale: older "
                      "than what was applied, recorded: changes nothing).");
    for (int p = 0; p < BILLING_MANUAL; p++)
        for (int d = 0; d < 3; d++) {
            const char *labels[] = {"provider", billing_provider_names[p], "decision",
                                    billing_decision_names[d], NULL};
            oc_metrics_sample(b, "oncue_billing_events_total", labels,
                              (double)atomic_load(&m->st.decisions[p][d]));
        }
    oc_metrics_family(b, "oncue_billing_duplicates_total", "counter",
                      "Deliveries of an event id already recorded: answered, changed nothing.");
    oc_metrics_sample(b, "oncue_billing_duplicates_total", NULL,
                      (double)atomic_load(&m->st.duplicates));
    oc_metrics_family(b, "oncue_billing_refused_total", "counter",
                      "Webhook deliveries refused, by reason.");
    for (int i = 0; i < BILLING_TALLY_DUP; i++) {
        const char *labels[] = {"reason", billing_tally_reasons[i], NULL};
        oc_metrics_sample(b, "oncue_billing_refused_total", labels,
                          (double)atomic_load(&m->st.refused[i]));
    }
    oc_metrics_family(b, "oncue_billing_commits_total", "counter",
                      "Transactions of the billing committer.");
    oc_metrics_sample(b, "oncue_billing_commits_total", NULL, (double)atomic_load(&m->st.commits));
    oc_metrics_family(b, "oncue_billing_store_failures_total", "counter",
                      "Billing operations answered 503 because their transaction failed.");
    oc_metrics_sample(b, "oncue_billing_store_failures_total", NULL,
                      (double)atomic_load(&m->st.failed));
    oc_metrics_family(b, "oncue_billing_checks_total", "counter", "Entitlement checks answered.");
    oc_metrics_sample(b, "oncue_billing_checks_total", NULL, (double)atomic_load(&m->st.checks));
    oc_metrics_family(b, "oncue_billing_actions_total", "counter", "Support actions applied.");
    oc_metrics_sample(b, "oncue_billing_actions_total", NULL, (double)atomic_load(&m->st.actions));
}

/* Timer: forgets event ids older than billing.retention_s and Idempotency-Key answers older
 * than billing.idempotency_ttl_s (billing_prune). */
static void prune(struct oc_app *app, void *state)
{
    struct billing_mod *m = state;
    int64_t now = oc_clock_now_ms(app->clock), n = 0;
    if (billing_prune(app->store, now - m->o.retention_s * 1000, now - m->o.idem_ttl_s * 1000,
                      &n) != 0)
        oc_log(OC_LOG_ERROR, "billing: prune failed: %s", store_errmsg(app->store));
}

/* Timer: queues the audit rows of refused and duplicate deliveries of the minutes that have
 * passed (tally.c). */
static void tally_tick(struct oc_app *app, void *state)
{
    struct billing_mod *m = state;
    struct billing_op *list = billing_tally_take(m, oc_clock_now_ms(app->clock), 0), *next;
    for (; list; list = next) {
        next = list->next;
        billing_submit(m, list); /* detached: the committer writes and frees it */
    }
}

#define F(field) offsetof(struct billing_opts, field)

static const struct oc_setting settings[] = {
    {"billing.stripe_secrets", OC_SETTING_STR, "", 0, 0, NULL, F(stripe_secrets), NULL,
     "Stripe endpoint secrets (whsec_...), space-separated while one is rotated; never logged"},
    {"billing.standard_secrets", OC_SETTING_STR, "", 0, 0, NULL, F(standard_secrets), NULL,
     "Standard Webhooks keys, space-separated: whsec_ base64 secrets (v1) and whpk_ base64"
     " Ed25519 public keys (v1a); never logged"},
    {"billing.apple_root_pem", OC_SETTING_STR, "", 0, 0, NULL, F(apple_root_pem), NULL,
     "PEM file of the roots an App Store notification's x5c chain must lead to (Apple Root CA -"
     " G3); empty: /v1/billing/webhooks/apple answers 503"},
    {"billing.google_keys_pem", OC_SETTING_STR, "", 0, 0, NULL, F(google_keys_pem), NULL,
     "PEM public keys that sign Pub/Sub push JWTs (Google's, from its certs endpoint); empty:"
     " /v1/billing/webhooks/google answers 503"},
    {"billing.google_audience", OC_SETTING_STR, "", 0, 0, NULL, F(google_audience), NULL,
     "the audience the push subscription puts in its JWT (the push endpoint's URL)"},
    {"billing.stripe_api_url", OC_SETTING_STR, "https://api.stripe.com", 0, 0, NULL,
     F(stripe_api_url), NULL, "Stripe's API, read by POST /v1/billing/reconcile"},
    {"billing.stripe_api_key", OC_SETTING_STR, "", 0, 0, NULL, F(stripe_api_key), NULL,
     "a Stripe restricted key that may read subscriptions; never logged; empty: no"
     " reconciliation"},
    {"billing.reconcile_interval_s", OC_SETTING_INT, "0", 0, 604800, NULL, F(reconcile_s), NULL,
     "reconcile with Stripe (and Apple and Google when configured) this often on a thread of its"
     " own (GET /v1/billing/reconcile shows the last reports); 0: only on request"},
    {"billing.apple_api_url", OC_SETTING_STR, "https://api.storekit.itunes.apple.com", 0, 0, NULL,
     F(apple_api_url), NULL,
     "the App Store Server API, read by POST /v1/billing/reconcile {provider: apple}"},
    {"billing.apple_api_key_pem", OC_SETTING_STR, "", 0, 0, NULL, F(apple_api_key_pem), NULL,
     "PEM file of the App Store Connect in-app purchase key (.p8) that signs the API's JWTs;"
     " never logged; empty: no Apple reconciliation"},
    {"billing.apple_api_key_id", OC_SETTING_STR, "", 0, 0, NULL, F(apple_api_key_id), NULL,
     "that key's id (the JWT's kid)"},
    {"billing.apple_api_issuer", OC_SETTING_STR, "", 0, 0, NULL, F(apple_api_issuer), NULL,
     "the App Store Connect issuer id (the JWT's iss)"},
    {"billing.apple_bundle_id", OC_SETTING_STR, "", 0, 0, NULL, F(apple_bundle_id), NULL,
     "the app's bundle id (the JWT's bid)"},
    {"billing.google_api_url", OC_SETTING_STR, "https://androidpublisher.googleapis.com", 0, 0,
     NULL, F(google_api_url), NULL,
     "the Play Developer API, read by POST /v1/billing/reconcile {provider: google}"},
    {"billing.google_service_account", OC_SETTING_STR, "", 0, 0, NULL, F(google_sa), NULL,
     "JSON key file of a service account that may read the app's subscriptions (client_email,"
     " private_key, token_uri); never logged; empty: no Google reconciliation"},
    {"billing.google_package", OC_SETTING_STR, "", 0, 0, NULL, F(google_package), NULL,
     "the app's package name on Google Play"},
    {"billing.reconcile_repair", OC_SETTING_BOOL, "false", 0, 0, NULL, F(reconcile_repair), NULL,
     "scheduled reconciliations also repair missing and mismatched subscriptions (audited)"},
    {"billing.tolerance_s", OC_SETTING_INT, "300", 1, 86400, NULL, F(tolerance_s), NULL,
     "a webhook whose signed timestamp is further than this from now is refused"},
    {"billing.retention_s", OC_SETTING_INT, "691200", 345600, 315360000, NULL, F(retention_s), NULL,
     "event ids are remembered (a redelivery answers duplicate) this long; at least 96 h"},
    {"billing.idempotency_ttl_s", OC_SETTING_INT, "86400", 3600, 31536000, NULL, F(idem_ttl_s),
     NULL, "Idempotency-Key answers of support actions are replayed this long"},
    {"billing.max_subscriptions", OC_SETTING_INT, "1000000", 1, 100000000, NULL, F(max_subs), NULL,
     "subscriptions held in memory (about 1 KB each); events creating more answer 503"},
    {0},
};

#undef F

/* Reads the keys of both providers and Apple's roots: 0, or OC_EINVAL after logging which
 * entry is bad. */
static int read_keys(struct billing_mod *m)
{
    char err[300];
    if (m->o.apple_root_pem && m->o.apple_root_pem[0] &&
        billing_roots_load(m->o.apple_root_pem, &m->apple_roots, err, sizeof err) != 0) {
        oc_log(OC_LOG_ERROR, "billing: billing.apple_root_pem: %s", err);
        return OC_EINVAL;
    }
    if (m->o.google_keys_pem && m->o.google_keys_pem[0] &&
        billing_google_keys_load(m->o.google_keys_pem, &m->google_keys, err, sizeof err) != 0) {
        oc_log(OC_LOG_ERROR, "billing: billing.google_keys_pem: %s", err);
        return OC_EINVAL;
    }
    if (billing_keys_parse(BILLING_STRIPE, m->o.stripe_secrets, &m->keys[0], err, sizeof err) ||
        billing_keys_parse(BILLING_STANDARD, m->o.standard_secrets, &m->keys[1], err, sizeof err)) {
        oc_log(OC_LOG_ERROR, "billing: %s", err);
        return OC_EINVAL;
    }
    return 0;
}

static void billing_stop(struct oc_app *app, void *state);

/* Module init: needs the store; loads every subscription and the audit chain's head. */
static int billing_init(struct oc_app *app, void **state)
{
    struct billing_opts def;
    *state = NULL;
    if (!app->store) {
        oc_log(OC_LOG_ERROR, "billing: the module needs the store");
        return OC_EINVAL;
    }
    struct billing_mod *m = oc_calloc(1, sizeof *m);
    m->app = app;
    m->o = *(const struct billing_opts *)config_module_opts(app->cfg, &billing_module, &def);
    pthread_rwlock_init(&m->lock, NULL);
    pthread_mutex_init(&m->imu, NULL);
    pthread_mutex_init(&m->rmu, NULL);
    pthread_mutex_init(&m->tmu, NULL);
    pthread_mutex_init(&m->qmu, NULL);
    pthread_cond_init(&m->qcv, NULL);
    pthread_cond_init(&m->dcv, NULL);
    billing_table_init(&m->table);
    bmap_init(&m->inflight);
    int rc = read_keys(m);
    if (!rc && (rc = billing_load(m)) != 0)
        oc_log(OC_LOG_ERROR, "billing: cannot load: %s", store_errmsg(app->store));
    if (!rc && (rc = billing_committer_start(m)) != 0)
        oc_log(OC_LOG_ERROR, "billing: cannot start the committer thread");
    if (rc) {
        billing_stop(app, m);
        return rc;
    }
    if (app->metrics)
        oc_metrics_register(app->metrics, render, m);
    oc_log(OC_LOG_INFO,
           "billing: %zu subscriptions of %zu accounts; %d stripe and %d standard keys, %s",
           m->table.subs.n, m->table.accounts.n, m->keys[0].n, m->keys[1].n,
           m->apple_roots ? "apple roots" : "no apple roots");
    *state = m;
    return 0;
}

/* Module stop: answers what is queued, then frees the table. */
static void billing_stop(struct oc_app *app, void *state)
{
    struct billing_mod *m = state;
    (void)app;
    if (!m)
        return;
    billing_reconcile_stop(m); /* its repairs go through the committer */
    billing_committer_stop(m);
    bmap_free(&m->inflight, NULL);
    billing_table_free(&m->table);
    pthread_mutex_destroy(&m->imu);
    pthread_mutex_destroy(&m->rmu);
    pthread_mutex_destroy(&m->tmu);
    pthread_rwlock_destroy(&m->lock);
    sodium_memzero(m->keys, sizeof m->keys);
    billing_roots_free(m->apple_roots);
    billing_google_keys_free(m->google_keys);
    free(m);
}

static const struct oc_module_timer timers[] = {
    {"billing prune", 60000, prune},
    {"billing tally", 1000, tally_tick},
    {"billing reconcile", 1000, billing_reconcile_tick},
    {0},
};

static const struct http_route routes[] = {
    {"POST", "/v1/billing/webhooks/{provider}", post_webhook, HTTP_SIGNED, BILLING_BODY_MAX,
     "a provider's webhook (stripe: Stripe-Signature; standard: webhook-id, webhook-timestamp,"
     " webhook-signature; apple: {signedPayload}, a JWS with its x5c chain; google: a Pub/Sub"
     " push with its Bearer JWT) -> {duplicate, id,"
     " decision, changes}; 401 names the refusal"},
    {"GET", "/v1/entitlements/{account}", get_entitlement, HTTP_VIEWER, 0,
     "?title=T&region=R -> {account, title, region, allowed, state, reason, title_checked} from"
     " memory: the account's subscriptions and the catalog title's regions and plans"},
    {"GET", "/v1/billing/accounts/{account}", get_account, HTTP_VIEWER, 0,
     "an account's subscriptions, verdict, last 20 audit rows and the last reconciliation's"
     " discrepancies about it"},
    {"POST", "/v1/billing/accounts/{account}/actions", post_action, HTTP_ADMIN, 4096,
     "a support action {action: grant|revoke|extend, subscription?, until?, reason} with an"
     " Idempotency-Key header (replayed; 422 other body; 409 in flight)"},
    {"POST", "/v1/billing/events/{provider}/{id}/replay", post_replay, HTTP_ADMIN, 4096,
     "{reason, force?} with an Idempotency-Key header: decides the stored event again (force: as"
     " of now, above what was applied) -> {provider, id, first_decision, force, decision,"
     " changes}; audited"},
    {"GET", "/v1/billing/reconcile", get_reconcile, HTTP_VIEWER, 0,
     "the last reconciliation's report (on request or scheduled) -> {report, at_ms, error,"
     " reports: {stripe, apple, google}}"},
    {"POST", "/v1/billing/reconcile", post_reconcile, HTTP_ADMIN, 4096,
     "{repair?: bool, provider?: stripe|apple|google} -> the provider's subscriptions compared"
     " with oncue's: {checked, missing, extra, mismatch, account (google), repaired}; repair sets"
     " missing and mismatched ones to the provider's state and moves a Play subscription to the"
     " account Google names (audited)"},
    {"GET", "/v1/billing/royalties/{day}", get_royalties, HTTP_VIEWER, 0,
     "?format=csv|json -> the UTC day's plays, attempts and watch time per title and region from"
     " the QoE cube (the sealed report once sealed; Oncue-Sealed names its audit row); 409 until"
     " the cube has closed the day"},
    {"POST", "/v1/billing/royalties/{day}/seal", post_seal, HTTP_ADMIN, 0,
     "seals the day's royalty report into the billing audit chain -> {day, audit_id, sealed_ms,"
     " already_sealed, csv_sha256, json_sha256, rows, totals}"},
    {0},
};

const struct oc_module billing_module = {
    .name = "billing",
    .summary = "billing webhooks (Stripe, Standard Webhooks) exactly once, entitlements, audit",
    .init = billing_init,
    .routes = routes,
    .timers = timers,
    .stop = billing_stop,
    .settings = settings,
    .opts_size = sizeof(struct billing_opts),
};
