/*
 * outbox.c - the durable outbox of event subscriptions. The bus subscriber ("*") turns each
 * event into one Standard Webhooks message {type, timestamp, data} per live subscription
 * whose filters select its topic, committed to the store before it returns, so nothing
 * queued is lost across a crash. The delivery thread sends the due messages
 * (http/outbound.h: libcurl behind the address guard) with webhook-id, webhook-timestamp and
 * webhook-signature (core/webhook.h: v1 and v1a, one signature per key while a key rotates),
 * records every attempt and reschedules a failure on the schedule of
 * automation_retry_delay_ms, or after the answer's Retry-After; 410 Gone disables the
 * subscription. A message is marked delivered in the transaction that records its 2xx. A
 * restart keeps each pending message's due time and attempts: nothing is sent before it is due.
 */
#include "automation/automation_int.h"
#include "automation/sql.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "core/timefmt.h"
#include "core/webhook.h"
#include "http/outbound.h"
#include "store/store.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DUE_MAX 32 /* messages sent per deliver call */
#define SUBS_MAX                                                                                   \
    256 /* subscriptions one event is matched against: automation.max_subscriptions' ceiling */

/* Seconds to wait after attempt n (index n - 1) failed. */
static const int64_t schedule_s[AUTO_ATTEMPTS_MAX - 1] = {
    5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400,
};

int64_t automation_retry_delay_ms(int n, int jitter)
{
    if (n < 1 || n >= AUTO_ATTEMPTS_MAX || jitter < -1000 || jitter > 1000)
        return -1;
    int64_t base = schedule_s[n - 1] * 1000;
    return base + base * jitter / 10000; /* +-10 % */
}

/* A uniformly random jitter in [-1000, 1000]. */
static int jitter_now(void)
{
    return (int)randombytes_uniform(2001) - 1000;
}

static void new_msg_id(char *out, size_t n)
{
    unsigned char r[12];
    char hex[25];
    randombytes_buf(r, sizeof r);
    sodium_bin2hex(hex, sizeof hex, r, sizeof r);
    snprintf(out, n, "msg_%s", hex);
}

/* Inside the caller's transaction: queues text for subscription sub unless it already has
 * automation.max_pending messages waiting. 1 queued, 0 dropped, -1 on a store error. */
static int queue_one(struct auto_mod *m, int64_t sub, const char *topic, const char *text,
                     int64_t now)
{
    struct store *s = m->app->store;
    struct store_stmt *q;
    char msg_id[48];
    int64_t pending = 0;
    if (store_prepare(s, AUTO_SQL_MSG_PENDING, &q) != 0)
        return -1;
    store_bind_int(q, 1, sub);
    pending = store_step(q) == STORE_ROW ? store_col_int(q, 0) : 0;
    store_reset(q);
    if (pending >= m->o.max_pending)
        return 0;
    if (store_prepare(s, AUTO_SQL_MSG_ADD, &q) != 0)
        return -1;
    new_msg_id(msg_id, sizeof msg_id);
    STORE_BIND(q, STORE_INT(sub), STORE_TEXT(msg_id), STORE_TEXT(topic), STORE_TEXT(text),
               STORE_INT(now));
    int rc = store_step(q) == STORE_DONE ? 1 : -1;
    store_reset(q);
    return rc;
}

/* 1 when one of the comma-separated filters selects topic. */
static int selects(const char *filters, const char *topic)
{
    char one[80];
    for (const char *p = filters; *p;) {
        size_t tl = strcspn(p, ",");
        snprintf(one, sizeof one, "%.*s", (int)(tl < sizeof one ? tl : sizeof one - 1), p);
        if (tl && automation_topic_matches(one, topic))
            return 1;
        p += tl + (p[tl] == ',');
    }
    return 0;
}

void auto_on_event(const char *topic, const json_t *payload, void *state)
{
    struct auto_mod *m = state;
    struct store *s = m->app->store;
    struct store_stmt *q;
    int64_t subs[SUBS_MAX], now = oc_clock_now_ms(m->app->clock);
    int n = 0, queued = 0, dropped = 0;
    char ts[OC_TIME_LEN];
    if (!s || atomic_load(&m->nsubs) == 0 || store_begin(s) != 0)
        return; /* no subscription: no transaction per event */
    if (store_prepare(s, AUTO_SQL_SUB_FILTERS, &q) == 0) {
        while (n < SUBS_MAX && store_step(q) == STORE_ROW)
            if (selects(store_col_text(q, 1) ? store_col_text(q, 1) : "", topic))
                subs[n++] = store_col_int(q, 0);
        store_reset(q);
    }
    char *text = NULL;
    if (n) {
        oc_time_format(now, ts, sizeof ts);
        json_t *b =
            json_pack("{s:s, s:s, s:O}", "type", topic, "timestamp", ts, "data", (json_t *)payload);
        text = b ? json_dumps(b, JSON_COMPACT) : NULL;
        json_decref(b);
    }
    for (int i = 0; text && i < n; i++) {
        int r = queue_one(m, subs[i], topic, text, now);
        if (r < 0)
            oc_log(OC_LOG_ERROR, "automation: cannot queue %s: %s", topic, store_errmsg(s));
        queued += r > 0;
        dropped += r == 0;
    }
    free(text);
    if (store_commit(s) != 0) {
        oc_log(OC_LOG_ERROR, "automation: outbox commit failed: %s", store_errmsg(s));
        return;
    }
    atomic_fetch_add(&m->queued, queued);
    if (dropped) {
        atomic_fetch_add(&m->dropped, dropped);
        oc_log(OC_LOG_WARN,
               "automation: %s not queued for %d subscriptions already holding "
               "automation.max_pending messages",
               topic, dropped);
    }
    if (queued)
        auto_outbox_wake(m);
}

void auto_outbox_wake(struct auto_mod *m)
{
    if (!m->thread)
        return;
    pthread_mutex_lock(&m->mu);
    m->woken = 1; /* not lost when the thread is sending */
    pthread_cond_signal(&m->cv);
    pthread_mutex_unlock(&m->mu);
}

/* One due message, copied out of the store. */
struct due {
    int64_t id, sub, attempts;
    char msg_id[48];
    char *body, *url, *keys; /* owned */
};

static int load_due(struct auto_mod *m, int64_t now, struct due *d)
{
    struct store *s = m->app->store;
    struct store_stmt *q;
    int n = 0;
    store_lock(s);
    if (store_prepare(s, AUTO_SQL_MSG_DUE, &q) == 0) {
        STORE_BIND(q, STORE_INT(now), STORE_INT(DUE_MAX));
        while (n < DUE_MAX && store_step(q) == STORE_ROW) {
            struct due *x = &d[n++];
            memset(x, 0, sizeof *x);
            x->id = store_col_int(q, 0);
            snprintf(x->msg_id, sizeof x->msg_id, "%s", store_col_text(q, 1));
            x->body = oc_strdup(store_col_text(q, 2));
            x->attempts = store_col_int(q, 3);
            x->sub = store_col_int(q, 4);
            if (store_unseal(s, store_col_text(q, 5), &x->url) != 0)
                x->url = NULL;
            if (store_unseal(s, store_col_text(q, 6), &x->keys) != 0)
                x->keys = NULL;
        }
        store_reset(q);
    }
    store_unlock(s);
    return n;
}

/* Sends one message and fills a. */
static void send_one(struct auto_mod *m, const struct due *d, struct http_outbound_result *a)
{
    char id[80], ts[48], sig[OC_WEBHOOK_SIG_MAX + 32], v[OC_WEBHOOK_SIG_MAX];
    int64_t now = oc_wall_ms() / 1000; /* receivers compare with their own clock */
    struct http_outbound req = {.url = d->url,
                                .body = d->body,
                                .guard = &m->guard,
                                .allow_setting = "automation.outbound_allow",
                                .timeout_ms = m->o.timeout_s * 1000};
    memset(a, 0, sizeof *a);
    a->retry_after = -1;
    if (!d->url || !d->keys ||
        oc_webhook_sign(d->keys, d->msg_id, now, d->body, strlen(d->body), v, sizeof v) != 0) {
        snprintf(a->error, sizeof a->error,
                 "the subscription's URL or keys do not open with DATA/oncue.key (was the key "
                 "file replaced? create the subscription again)");
        return;
    }
    snprintf(id, sizeof id, "webhook-id: %s", d->msg_id);
    snprintf(ts, sizeof ts, "webhook-timestamp: %lld", (long long)now);
    snprintf(sig, sizeof sig, "webhook-signature: %s", v);
    req.headers[0] = id;
    req.headers[1] = ts;
    req.headers[2] = sig;
    http_outbound_post(&req, a);
    sodium_memzero(v, sizeof v);
    sodium_memzero(sig, sizeof sig);
}

/* The next attempt's time after a failed attempt n (1-based) at now; 0 when n was the last. */
static int64_t next_after(int n, const struct http_outbound_result *a, int64_t now)
{
    if (n >= AUTO_ATTEMPTS_MAX)
        return 0;
    if (a->retry_after >= 0) /* the receiver says when */
        return now + 1000 * (a->retry_after < 1                      ? 1
                             : a->retry_after > AUTO_RETRY_AFTER_MAX ? AUTO_RETRY_AFTER_MAX
                                                                     : a->retry_after);
    return now + automation_retry_delay_ms(n, jitter_now());
}

/* Records attempt a of d at now and moves the message (and on 410 its subscription) on;
 * returns the next attempt's time (0: none). A receiver that throttles (429, 503) or does not
 * answer holds the subscription's other due messages until then too (no attempt counted), so
 * a backlog neither hammers it nor keeps the other subscriptions waiting. */
static int64_t record(struct auto_mod *m, const struct due *d, const struct http_outbound_result *a,
                      int64_t now)
{
    struct store *s = m->app->store;
    struct store_stmt *q;
    int n = (int)d->attempts + 1, ok = a->status >= 200 && a->status < 300;
    int gone = a->status == 410;
    int64_t next = ok || gone ? 0 : next_after(n, a, now);
    const char *state = ok ? "delivered" : gone || !next ? "failed" : "pending";
    if (store_begin(s) != 0)
        return 0;
    if (store_prepare(s, AUTO_SQL_ATT_ADD, &q) == 0) {
        STORE_BIND(q, STORE_INT(d->id), STORE_INT(now), STORE_INT(n),
                   a->status ? STORE_INT(a->status) : STORE_NULL,
                   STORE_TEXT(a->error[0] ? a->error : NULL), STORE_INT(a->ms),
                   a->retry_after >= 0 ? STORE_INT(a->retry_after) : STORE_NULL,
                   next ? STORE_INT(next) : STORE_NULL);
        store_step(q);
        store_reset(q);
    }
    if (store_prepare(s, AUTO_SQL_MSG_SET, &q) == 0) {
        STORE_BIND(q, STORE_INT(d->id), STORE_TEXT(state), STORE_INT(next ? next : now),
                   a->status ? STORE_INT(a->status) : STORE_NULL,
                   next ? STORE_NULL : STORE_INT(now));
        store_step(q);
        store_reset(q);
    }
    if (gone && store_prepare(s, AUTO_SQL_SUB_STATE, &q) == 0) {
        char why[80], t[OC_TIME_LEN];
        oc_time_format(now, t, sizeof t);
        snprintf(why, sizeof why, "the receiver answered 410 Gone at %s", t);
        STORE_BIND(q, STORE_INT(d->sub), STORE_TEXT("disabled"), STORE_TEXT(why), STORE_INT(now));
        store_step(q);
        store_reset(q);
    }
    if (next && (a->status == 0 || a->status == 429 || a->status == 503) &&
        store_prepare(s, AUTO_SQL_MSG_HOLD, &q) == 0) {
        STORE_BIND(q, STORE_INT(d->sub), STORE_INT(next));
        store_step(q);
        store_reset(q);
    }
    if (store_commit(s) != 0)
        oc_log(OC_LOG_ERROR, "automation: cannot record an attempt: %s", store_errmsg(s));
    return next;
}

int automation_deliver(struct auto_mod *m, int64_t now_ms)
{
    struct due d[DUE_MAX];
    struct http_outbound_result a;
    int sent = 0;
    int64_t skip[DUE_MAX];
    int nskip = 0;
    if (!m->app->store)
        return 0;
    pthread_mutex_lock(&m->deliver_mu);
    int n = load_due(m, now_ms, d);
    for (int i = 0; i < n; i++) {
        int skipped = 0;
        for (int k = 0; k < nskip; k++)
            skipped |= skip[k] == d[i].sub;
        if (!skipped) { /* not after a 410 or a hold of its subscription this round */
            int64_t t0 = oc_mono_ns();
            send_one(m, &d[i], &a);
            /* a Retry-After counts from the answer, not from the round's start */
            int64_t next = record(m, &d[i], &a, now_ms + (oc_mono_ns() - t0) / 1000000);
            sent++;
            int ok = a.status >= 200 && a.status < 300;
            atomic_fetch_add(ok ? &m->sent : &m->failed, 1);
            if (a.status == 410 || (next && (a.status == 0 || a.status == 429 || a.status == 503)))
                skip[nskip++] = d[i].sub;
            if (!ok)
                oc_log(OC_LOG_WARN, "automation: delivery of %s failed (attempt %lld): %ld %s",
                       d[i].msg_id, (long long)d[i].attempts + 1, a.status, a.error);
        }
        free(d[i].body);
        free(d[i].url);
        if (d[i].keys)
            sodium_memzero(d[i].keys, strlen(d[i].keys));
        free(d[i].keys);
    }
    pthread_mutex_unlock(&m->deliver_mu);
    return sent;
}

/* Milliseconds until the next pending message is due, between 10 and 1000. */
static int64_t until_due(struct auto_mod *m)
{
    struct store *s = m->app->store;
    struct store_stmt *q;
    int64_t wait = 1000;
    store_lock(s);
    if (store_prepare(s, AUTO_SQL_NEXT_DUE, &q) == 0) {
        if (store_step(q) == STORE_ROW && !store_col_is_null(q, 0))
            wait = store_col_int(q, 0) - oc_clock_now_ms(m->app->clock);
        store_reset(q);
    }
    store_unlock(s);
    return wait < 10 ? 10 : wait > 1000 ? 1000 : wait;
}

/* The delivery thread: sends what is due when it is due (looking at least every second), or
 * at once when signalled. */
static void *deliver_main(void *arg)
{
    struct auto_mod *m = arg;
    while (!atomic_load(&m->stopping)) {
        while (automation_deliver(m, oc_clock_now_ms(m->app->clock)) == DUE_MAX &&
               !atomic_load(&m->stopping))
            ;                           /* a backlog: keep going */
        int64_t wait_ms = until_due(m); /* the store's lock, never under mu */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
        ts.tv_sec += wait_ms / 1000 + ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_mutex_lock(&m->mu);
        if (!atomic_load(&m->stopping) && !m->woken)
            pthread_cond_timedwait(&m->cv, &m->mu, &ts);
        m->woken = 0;
        pthread_mutex_unlock(&m->mu);
    }
    return NULL;
}

int auto_outbox_start(struct auto_mod *m)
{
    if (pthread_create(&m->th, NULL, deliver_main, m) != 0)
        return OC_EIO;
    m->thread = 1;
    return 0;
}

void auto_outbox_stop(struct auto_mod *m)
{
    if (!m->thread)
        return;
    pthread_mutex_lock(&m->mu);
    atomic_store(&m->stopping, 1);
    pthread_cond_signal(&m->cv);
    pthread_mutex_unlock(&m->mu);
    pthread_join(m->th, NULL); /* an attempt under way ends within automation.timeout_s */
    m->thread = 0;
}

/* Runs one statement binding ?1 = a (and ?2 = b when b >= 0) under the store's lock. */
static void exec2(struct auto_mod *m, const char *sql, int64_t a)
{
    struct store *s = m->app->store;
    struct store_stmt *q;
    store_lock(s);
    if (store_prepare(s, sql, &q) == 0) {
        store_bind_int(q, 1, a);
        store_step(q);
        store_reset(q);
    }
    store_unlock(s);
}

void auto_outbox_trim(struct auto_mod *m, int64_t before_ms)
{
    exec2(m, AUTO_SQL_TRIM_ATT, before_ms);
    exec2(m, AUTO_SQL_TRIM_MSG, before_ms);
}

/* An optional time column as ISO 8601, or JSON null. */
static json_t *time_or_null(struct store_stmt *q, int col)
{
    char t[OC_TIME_LEN];
    if (store_col_is_null(q, col))
        return json_null();
    oc_time_format(store_col_int(q, col), t, sizeof t);
    return json_string(t);
}

static json_t *int_or_null(struct store_stmt *q, int col)
{
    return store_col_is_null(q, col) ? json_null() : json_integer(store_col_int(q, col));
}

json_t *auto_msgs_json(struct auto_mod *m, int64_t sub, const char *state, int limit, int full)
{
    struct store *s = m->app->store;
    struct store_stmt *q;
    json_t *a = json_array();
    store_lock(s);
    if (store_prepare(s, AUTO_SQL_MSG_LIST, &q) == 0) {
        STORE_BIND(q, STORE_INT(sub), STORE_TEXT(state), STORE_INT(limit));
        while (store_step(q) == STORE_ROW) {
            int pending = strcmp(store_col_text(q, 2), "pending") == 0;
            json_array_append_new(
                a, json_pack("{s:s, s:s, s:s, s:I, s:o, s:o, s:o, s:o}", "msg_id",
                             store_col_text(q, 0), "topic", store_col_text(q, 1), "state",
                             store_col_text(q, 2), "attempts", (json_int_t)store_col_int(q, 3),
                             "last_status", int_or_null(q, 4), "next_attempt",
                             pending ? time_or_null(q, 5) : json_null(), "created",
                             time_or_null(q, 6), "finished", time_or_null(q, 7)));
            if (!full) /* the receivers' answers are for admins */
                json_object_del(json_array_get(a, json_array_size(a) - 1), "last_status");
        }
        store_reset(q);
    }
    store_unlock(s);
    return a;
}

json_t *auto_msg_json(struct auto_mod *m, int64_t sub, const char *msg_id, int full)
{
    struct store *s = m->app->store;
    struct store_stmt *q;
    json_t *msg = NULL;
    int64_t id = 0;
    store_lock(s);
    if (store_prepare(s, AUTO_SQL_MSG_ONE, &q) == 0) {
        STORE_BIND(q, STORE_INT(sub), STORE_TEXT(msg_id));
        if (store_step(q) == STORE_ROW) {
            id = store_col_int(q, 0);
            int pending = strcmp(store_col_text(q, 3), "pending") == 0;
            json_t *body = json_loads(store_col_text(q, 9), 0, NULL);
            msg = json_pack(
                "{s:s, s:s, s:s, s:I, s:o, s:o, s:o, s:o, s:o}", "msg_id", store_col_text(q, 1),
                "topic", store_col_text(q, 2), "state", store_col_text(q, 3), "attempts",
                (json_int_t)store_col_int(q, 4), "last_status", int_or_null(q, 5), "next_attempt",
                pending ? time_or_null(q, 6) : json_null(), "created", time_or_null(q, 7),
                "finished", time_or_null(q, 8), "body", body ? body : json_null());
            if (msg && !full) {
                json_object_del(msg, "last_status");
                json_object_del(msg, "body");
            }
        }
        store_reset(q);
    }
    if (msg && store_prepare(s, AUTO_SQL_ATT_LIST, &q) == 0) {
        json_t *att = json_array();
        store_bind_int(q, 1, id);
        while (store_step(q) == STORE_ROW)
            json_array_append_new(
                att, full
                         ? json_pack("{s:o, s:I, s:o, s:o, s:o, s:o, s:o}", "at",
                                     time_or_null(q, 0), "attempt", (json_int_t)store_col_int(q, 1),
                                     "status", int_or_null(q, 2), "error",
                                     store_col_is_null(q, 3) ? json_null()
                                                             : json_string(store_col_text(q, 3)),
                                     "ms", int_or_null(q, 4), "retry_after", int_or_null(q, 5),
                                     "next_attempt", time_or_null(q, 6))
                         : json_pack("{s:o, s:I, s:o}", "at", time_or_null(q, 0), "attempt",
                                     (json_int_t)store_col_int(q, 1), "next_attempt",
                                     time_or_null(q, 6)));
        store_reset(q);
        json_object_set_new(msg, "log", att);
    }
    store_unlock(s);
    return msg;
}

int auto_replay(struct auto_mod *m, int64_t sub, const char *msg_id, int64_t since_ms,
                const char *state, int *count)
{
    struct store *s = m->app->store;
    struct store_stmt *q;
    int64_t now = oc_clock_now_ms(m->app->clock);
    int rc = OC_EDB;
    *count = 0;
    store_lock(s);
    if (store_prepare(s, msg_id ? AUTO_SQL_MSG_REPLAY : AUTO_SQL_MSG_REPLAY_RANGE, &q) == 0) {
        if (msg_id)
            STORE_BIND(q, STORE_INT(sub), STORE_TEXT(msg_id), STORE_INT(now));
        else
            STORE_BIND(q, STORE_INT(sub), STORE_INT(since_ms), STORE_TEXT(state), STORE_INT(now));
        if (store_step(q) == STORE_DONE) {
            *count = store_changes(s);
            rc = 0;
        }
        store_reset(q);
    }
    store_unlock(s);
    if (!rc && *count)
        auto_outbox_wake(m);
    return rc;
}
