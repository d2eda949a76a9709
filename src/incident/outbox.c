/*
 * outbox.c - the durable notification outbox: Slack and Microsoft Teams incoming webhooks,
 * PagerDuty Events API v2 and generic JSON webhooks signed per Standard Webhooks (the
 * bodies are shaped in message.c).
 *
 * Every incident.* event becomes one row per live endpoint, committed to the store before the
 * publisher returns, so nothing queued is lost across a crash. incident_outbox_deliver sends
 * the rows that are due (http/outbound.h: libcurl behind the address guard), records every attempt,
 * and reschedules failures on the Standard Webhooks schedule (immediately, 5 s, 5 min, 30 min, 2 h,
 * 5 h, 10 h, 10 h); 410 disables the endpoint; 429 and 5xx honour Retry-After. A restart
 * keeps each pending row's due time and attempts (a row claimed by another replica, or
 * waiting out its schedule, is not sent at start).
 */
#include "incident/incident_int.h"
#include "core/topics.h"
#include "incident/sql.h"
#include "core/alloc.h"
#include "core/err.h"
#include "core/log.h"
#include "core/webhook.h"
#include "http/outbound.h"
#include "store/store.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DUE_MAX    64    /* rows sent per deliver call */
#define CLAIM_S    60    /* a message claimed by a replica that died is due again this late */
#define TIMEOUT_MS 10000 /* per attempt */
#define URL_MAX    2048  /* bytes of an endpoint URL */

/* Seconds to wait after attempt n (1-based) failed; 0 ends the schedule. */
static const int retry_after_attempt[] = {0, 5, 300, 1800, 7200, 18000, 36000, 36000, 0};
#define MAX_ATTEMPTS 8

static const char *const kinds[] = {"slack",  "teams", "teams_legacy", "pagerduty", "webhook",
                                    "status", NULL};

/* 1 for the kinds whose messages are signed per Standard Webhooks (a secret is required). */
static int signed_kind(const char *k)
{
    return strcmp(k, "webhook") == 0 || strcmp(k, "status") == 0;
}

/* Seals the endpoint URLs and secrets stored in clear by a version before sealing (once:
 * sealed values are left alone). */
static void seal_plain(struct store *s)
{
    struct store_stmt *st;
    int64_t ids[256];
    int n = 0, done = 0;
    store_lock(s);
    if (store_prepare(s, INC_SQL_EP_PLAIN, &st) == 0) {
        while (n < 256 && store_step(st) == STORE_ROW)
            ids[n++] = store_col_int(st, 0);
        store_reset(st);
    }
    for (int i = 0; i < n; i++) {
        char *url = NULL, *secret = NULL, *surl, *ssec;
        if (store_prepare(s, INC_SQL_EP_SECRETS, &st) != 0)
            break;
        store_bind_int(st, 1, ids[i]);
        if (store_step(st) == STORE_ROW) {
            store_unseal(s, store_col_text(st, 0), &url);
            store_unseal(s, store_col_text(st, 1), &secret);
        }
        store_reset(st);
        surl = store_seal(s, url);
        ssec = store_seal(s, secret);
        if (url && store_prepare(s, INC_SQL_EP_SEAL, &st) == 0) {
            STORE_BIND(st, STORE_TEXT(surl), STORE_TEXT(ssec), STORE_INT(ids[i]));
            done += store_step(st) == STORE_DONE;
            store_reset(st);
        }
        free(url);
        free(secret);
        free(surl);
        free(ssec);
    }
    store_unlock(s);
    if (done)
        oc_log(OC_LOG_INFO, "incident: sealed the URLs and secrets of %d notification endpoints",
               done);
}

/* A new outbox over app's store (borrowed): 0 or OC_EIO when libsodium cannot start. */
int inc_outbox_new(struct oc_app *app, const char *allow, struct incident_outbox **out, char *err,
                   size_t errlen)
{
    struct oc_netguard g;
    char why[160];
    int rc = oc_netguard_parse(&g, allow, why, sizeof(why));
    if (rc) {
        snprintf(err, errlen, "incident.outbound_allow: %s", why);
        return rc;
    }
    struct incident_outbox *ob = oc_calloc(1, sizeof(*ob));
    if (sodium_init() < 0) {
        free(ob);
        snprintf(err, errlen, "incident: libsodium cannot start");
        return OC_EIO;
    }
    ob->app = app;
    ob->guard = g;
    pthread_mutex_init(&ob->deliver_mu, NULL);
    if (app->store)
        seal_plain(app->store);
    *out = ob;
    return 0;
}

/* Frees ob (NULL is a no-op); queued rows stay in the store. */
void inc_outbox_destroy(struct incident_outbox *ob)
{
    if (!ob)
        return;
    pthread_mutex_destroy(&ob->deliver_mu);
    free(ob);
}

static int kind_ok(const char *k)
{
    for (int i = 0; k && kinds[i]; i++)
        if (strcmp(k, kinds[i]) == 0)
            return 1;
    return 0;
}

int incident_outbox_add_endpoint(struct incident_outbox *ob, const char *name, const char *kind,
                                 const char *url, const char *secret, int64_t *id)
{
    struct store_stmt *st;
    struct store *s = ob->app->store;
    int rc = OC_EDB;
    if (!name || !name[0] || strlen(name) > 128 || !kind_ok(kind) || !url ||
        strlen(url) > URL_MAX || (strncmp(url, "http://", 7) && strncmp(url, "https://", 8)))
        return OC_EINVAL;
    if ((signed_kind(kind) || !strcmp(kind, "pagerduty")) && (!secret || !secret[0]))
        return OC_EINVAL;
    if ((strcmp(kind, "status") == 0) != (strncmp(name, "status/", 7) == 0))
        return OC_EINVAL; /* status subscriptions are "status/NAME", and only they */
    char sig[OC_WEBHOOK_SIG_MAX];
    if (signed_kind(kind) &&
        incident_webhook_sign(secret, "msg_check", 0, "", 0, sig, sizeof sig) != 0)
        return OC_EINVAL;                 /* an undecodable secret would send unsigned messages */
    if (strncmp(name, "deploy/", 7) == 0) /* reserved for the catalog's deploy webhooks */
        return OC_EINVAL;
    char *surl = store_seal(s, url), *ssecret = store_seal(s, secret);
    store_lock(s);
    if (store_prepare(s, INC_SQL_EP_ADD, &st) == 0) {
        STORE_BIND(st, STORE_TEXT(name), STORE_TEXT(kind), STORE_TEXT(surl), STORE_TEXT(ssecret),
                   STORE_INT(oc_clock_now_s(ob->app->clock)));
        rc = store_step(st) == STORE_DONE ? 0 : OC_EDB;
        store_reset(st);
    }
    free(surl);
    free(ssecret);
    if (!rc && id && store_prepare(s, INC_SQL_EP_ID, &st) == 0) {
        store_bind_text(st, 1, name);
        *id = store_step(st) == STORE_ROW ? store_col_int(st, 0) : 0;
        store_reset(st);
    }
    store_unlock(s);
    return rc;
}

static void new_msg_id(char *out, size_t n)
{
    unsigned char r[12];
    char hex[25];
    randombytes_buf(r, sizeof(r));
    sodium_bin2hex(hex, sizeof(hex), r, sizeof(r));
    snprintf(out, n, "msg_%s", hex);
}

/* Inserts one pending message for endpoint ep, due now (inside the caller's transaction):
 * 0 or OC_EDB. */
static int queue_row(struct store *s, int64_t ep, const char *topic, const char *text, int64_t now)
{
    struct store_stmt *ins;
    char msg_id[48];
    if (store_prepare(s, INC_SQL_OB_ADD, &ins) != 0)
        return OC_EDB;
    new_msg_id(msg_id, sizeof(msg_id));
    STORE_BIND(ins, STORE_INT(ep), STORE_TEXT(msg_id), STORE_TEXT(topic), STORE_TEXT(text),
               STORE_INT(now), STORE_INT(now));
    int rc = store_step(ins) == STORE_DONE ? 0 : OC_EDB;
    store_reset(ins);
    return rc;
}

/* Queues topic/payload for every live endpoint; committed before returning. */
void inc_outbox_enqueue(struct incident_outbox *ob, const struct inc_msg *msg)
{
    struct store *s = ob->app->store;
    struct store_stmt *eps;
    int64_t now = oc_clock_now_s(ob->app->clock);
    if (!s || store_begin(s) != 0)
        return;
    if (store_prepare(s, INC_SQL_EP_LIVE, &eps) == 0) {
        while (store_step(eps) == STORE_ROW) {
            int64_t ep = store_col_int(eps, 0);
            const char *kind = store_col_text(eps, 1);
            json_t *b = inc_msg_body(kind, msg, now);
            char *text = b ? json_dumps(b, JSON_COMPACT) : NULL;
            json_decref(b);
            if (text && queue_row(s, ep, msg->topic, text, now) != 0)
                oc_log(OC_LOG_ERROR, "incident: outbox: %s", store_errmsg(s));
            free(text);
        }
        store_reset(eps);
    }
    if (store_commit(s) != 0)
        oc_log(OC_LOG_ERROR, "incident: outbox commit failed: %s", store_errmsg(s));
}

int inc_outbox_has_status(struct incident_outbox *ob)
{
    struct store *s = ob->app->store;
    struct store_stmt *st;
    int any = 0;
    store_lock(s);
    if (store_prepare(s, INC_SQL_EP_STATUS, &st) == 0) {
        any = store_step(st) == STORE_ROW;
        store_reset(st);
    }
    store_unlock(s);
    return any;
}

void inc_outbox_status(struct incident_outbox *ob, const char *type, const json_t *data)
{
    struct store *s = ob->app->store;
    struct store_stmt *eps;
    int64_t now = oc_clock_now_s(ob->app->clock);
    char ts[32];
    inc_iso_time(now, ts, sizeof ts);
    json_t *b = json_pack("{s:s, s:s, s:O}", "type", type, "timestamp", ts, "data", data);
    char *text = json_dumps(b, JSON_COMPACT);
    json_decref(b);
    if (!text || !s || store_begin(s) != 0) {
        free(text);
        return;
    }
    if (store_prepare(s, INC_SQL_EP_STATUS, &eps) == 0) {
        while (store_step(eps) == STORE_ROW)
            if (queue_row(s, store_col_int(eps, 0), type, text, now) != 0)
                oc_log(OC_LOG_ERROR, "incident: outbox: %s", store_errmsg(s));
        store_reset(eps);
    }
    if (store_commit(s) != 0)
        oc_log(OC_LOG_ERROR, "incident: outbox commit failed: %s", store_errmsg(s));
    free(text);
}

int incident_outbox_disable(struct incident_outbox *ob, const char *name)
{
    struct store *s = ob->app->store;
    struct store_stmt *st;
    int64_t id = 0;
    int rc = OC_EDB;
    store_lock(s);
    if (store_prepare(s, INC_SQL_EP_ID, &st) == 0) {
        store_bind_text(st, 1, name);
        id = store_step(st) == STORE_ROW ? store_col_int(st, 0) : 0;
        store_reset(st);
        rc = id ? OC_EDB : OC_ENOTFOUND;
    }
    if (id && store_prepare(s, INC_SQL_EP_DISABLE, &st) == 0) {
        STORE_BIND(st, STORE_INT(oc_clock_now_s(ob->app->clock)), STORE_INT(id));
        rc = store_step(st) == STORE_DONE ? 0 : OC_EDB;
        store_reset(st);
    }
    if (!rc && store_prepare(s, INC_SQL_OB_DISABLE_EP, &st) == 0) {
        store_bind_int(st, 1, id);
        store_step(st);
        store_reset(st);
    }
    store_unlock(s);
    return rc;
}

int inc_outbox_deploy(struct incident_outbox *ob, const char *service, const char *url,
                      const char *secret, const char *type, const json_t *data)
{
    struct store *s = ob->app->store;
    struct store_stmt *st;
    char name[160], ts[32];
    int64_t now = oc_clock_now_s(ob->app->clock), ep = 0;
    int rc = OC_EDB;
    if (!service || !url || strlen(url) > URL_MAX ||
        (strncmp(url, "http://", 7) && strncmp(url, "https://", 8)))
        return OC_EINVAL;
    if (!s || store_begin(s) != 0)
        return OC_EDB;
    snprintf(name, sizeof(name), "deploy/%s", service);
    inc_iso_time(now, ts, sizeof(ts));
    json_t *b = json_pack("{s:s, s:s, s:O}", "type", type, "timestamp", ts, "data", data);
    char *text = json_dumps(b, JSON_COMPACT);
    json_decref(b);
    char *surl = store_seal(s, url), *ssecret = store_seal(s, secret && secret[0] ? secret : NULL);
    if (store_prepare(s, INC_SQL_EP_ADD, &st) == 0) {
        STORE_BIND(st, STORE_TEXT(name), STORE_TEXT("deploy"), STORE_TEXT(surl),
                   STORE_TEXT(ssecret), STORE_INT(now));
        if (store_step(st) == STORE_DONE)
            ep = 1;
        store_reset(st);
    }
    free(surl);
    free(ssecret);
    if (ep && store_prepare(s, INC_SQL_EP_ID, &st) == 0) {
        store_bind_text(st, 1, name);
        ep = store_step(st) == STORE_ROW ? store_col_int(st, 0) : 0;
        store_reset(st);
    }
    if (ep && text)
        rc = queue_row(s, ep, type, text, now);
    free(text);
    if (rc) {
        oc_log(OC_LOG_ERROR, "incident: deploy call for %s not queued: %s", service,
               store_errmsg(s));
        store_rollback(s);
        return rc;
    }
    return store_commit(s) == 0 ? 0 : OC_EDB;
}

/* One due message, copied out of the store. */
struct due {
    int64_t id, ep, attempts, created, next;
    char msg_id[48], kind[16];
    char *body, *url, *secret;
    int sealed_bad; /* its URL or secret did not open with the data directory's key */
};

static int load_due(struct store *s, int64_t now, struct due *d, int max)
{
    struct store_stmt *st;
    int n = 0;
    store_lock(s);
    if (store_prepare(s, INC_SQL_OB_DUE, &st) == 0) {
        store_bind_int(st, 1, now);
        while (n < max && store_step(st) == STORE_ROW) {
            struct due *x = &d[n++];
            const char *sec = store_col_text(st, 7);
            memset(x, 0, sizeof *x);
            x->id = store_col_int(st, 0);
            snprintf(x->msg_id, sizeof(x->msg_id), "%s", store_col_text(st, 1));
            x->body = oc_strdup(store_col_text(st, 2));
            x->attempts = store_col_int(st, 3);
            x->created = store_col_int(st, 4);
            snprintf(x->kind, sizeof(x->kind), "%s", store_col_text(st, 5));
            /* sealed at rest; one that does not open is sent nowhere (deliver says why) */
            if (store_unseal(s, store_col_text(st, 6), &x->url) != 0 ||
                store_unseal(s, sec, &x->secret) != 0)
                x->sealed_bad = 1;
            x->ep = store_col_int(st, 8);
            x->next = store_col_int(st, 9);
        }
        store_reset(st);
    }
    store_unlock(s);
    return n;
}

static void post(const struct oc_netguard *g, const struct due *d, const char *body,
                 struct http_outbound_result *a)
{
    struct http_outbound req = {.url = d->url,
                                .body = body,
                                .guard = g,
                                .allow_setting = "incident.outbound_allow",
                                .timeout_ms = TIMEOUT_MS};
    char id[80], ts[48], sig[OC_WEBHOOK_SIG_MAX + 32];
    int64_t now = oc_wall_ms() / 1000; /* receivers compare with their clock */
    if (signed_kind(d->kind) || (strcmp(d->kind, "deploy") == 0 && d->secret)) {
        char v[OC_WEBHOOK_SIG_MAX];
        snprintf(id, sizeof id, "webhook-id: %s", d->msg_id);
        snprintf(ts, sizeof ts, "webhook-timestamp: %lld", (long long)now);
        req.headers[0] = id;
        req.headers[1] = ts;
        if (incident_webhook_sign(d->secret, d->msg_id, now, body, strlen(body), v, sizeof v) ==
            0) {
            snprintf(sig, sizeof sig, "webhook-signature: %s", v);
            req.headers[2] = sig;
        }
    }
    http_outbound_post(&req, a);
}

/* The body actually sent: PagerDuty gets its routing key at send time. */
static char *final_body(const struct due *d)
{
    if (strcmp(d->kind, "pagerduty") != 0)
        return oc_strdup(d->body);
    json_t *b = json_loads(d->body, 0, NULL);
    json_object_set_new(b, "routing_key", json_string(d->secret ? d->secret : ""));
    char *s = json_dumps(b, JSON_COMPACT);
    json_decref(b);
    return s ? s : oc_strdup(d->body);
}

/* Records the attempt and moves the row to its next state. */
static void record(struct store *s, const struct due *d, const struct http_outbound_result *a,
                   int64_t now)
{
    struct store_stmt *st;
    int n = (int)d->attempts + 1;
    const char *state = "pending";
    int64_t next = now;
    if (a->status >= 200 && a->status < 300) {
        state = "delivered";
    } else if (a->status == 410) {
        state = "failed";
    } else if (n >= MAX_ATTEMPTS) {
        state = "failed";
    } else {
        next = now + retry_after_attempt[n];
        if ((a->status == 429 || a->status >= 500) && a->retry_after >= 0 &&
            now + a->retry_after > next)
            next = now + a->retry_after;
    }
    store_begin(s);
    if (store_prepare(s, INC_SQL_AT_ADD, &st) == 0) {
        STORE_BIND(st, STORE_INT(d->id), STORE_INT(now), STORE_INT(a->status),
                   STORE_TEXT(a->error[0] ? a->error : NULL), STORE_INT(a->ms));
        store_step(st);
        store_reset(st);
    }
    if (store_prepare(s, INC_SQL_OB_SET, &st) == 0) {
        STORE_BIND(st, STORE_TEXT(state), STORE_INT(next), STORE_INT(a->status), STORE_INT(d->id));
        store_step(st);
        store_reset(st);
    }
    if (a->status == 410) {
        if (store_prepare(s, INC_SQL_EP_DISABLE, &st) == 0) {
            store_bind_int(st, 1, now);
            store_bind_int(st, 2, d->ep);
            store_step(st);
            store_reset(st);
        }
        if (store_prepare(s, INC_SQL_OB_DISABLE_EP, &st) == 0) {
            store_bind_int(st, 1, d->ep);
            store_step(st);
            store_reset(st);
        }
    }
    store_commit(s);
}

/* 1 when this process now owns the due message d (no other replica sends it before
 * now + CLAIM_S), else 0: another replica claimed or recorded it first. */
static int claim(struct store *s, const struct due *d, int64_t now)
{
    struct store_stmt *st;
    int got = 0;
    store_lock(s);
    if (store_prepare(s, INC_SQL_OB_CLAIM, &st) == 0) {
        STORE_BIND(st, STORE_INT(now + CLAIM_S), STORE_INT(d->id), STORE_INT(d->next));
        got = store_step(st) == STORE_DONE && store_changes(s) == 1;
        store_reset(st);
    }
    store_unlock(s);
    return got;
}

int incident_outbox_deliver(struct incident_outbox *ob, int64_t now_s)
{
    struct due d[DUE_MAX];
    struct http_outbound_result a;
    int n, sent = 0;
    int64_t gone_ep = 0;
    if (!ob->app->store)
        return 0;
    pthread_mutex_lock(&ob->deliver_mu);
    n = load_due(ob->app->store, now_s, d, DUE_MAX);
    for (int i = 0; i < n; i++) {
        char *body = (gone_ep && d[i].ep == gone_ep) || !claim(ob->app->store, &d[i], now_s)
                         ? NULL
                         : final_body(&d[i]);
        if (body && d[i].sealed_bad) { /* an attempt that failed here, with why */
            memset(&a, 0, sizeof a);
            snprintf(a.error, sizeof a.error,
                     "the endpoint's URL or secret does not open with DATA/oncue.key (was the "
                     "key file replaced? define the endpoint again)");
            record(ob->app->store, &d[i], &a, now_s);
        } else if (body) {
            post(&ob->guard, &d[i], body, &a);
            record(ob->app->store, &d[i], &a, now_s);
            sent++;
            if (a.status == 410)
                gone_ep = d[i].ep; /* its other rows were disabled with it */
        }
        if (body && (a.status < 200 || a.status >= 300))
            oc_log(OC_LOG_WARN, "incident: delivery of %s to %s failed: %ld %s", d[i].msg_id,
                   d[i].kind, a.status, a.error);
        free(body);
        free(d[i].body);
        free(d[i].url);
        free(d[i].secret);
    }
    pthread_mutex_unlock(&ob->deliver_mu);
    return sent;
}
