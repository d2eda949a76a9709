/*
 * outbox.c - the relation back to the ticketing system: when a cluster links to an incident,
 * and when that incident's status changes or it resolves, one row per ticket of the cluster
 * is queued in tickets_outbox (in the store, so a restart loses none) and the delivery thread
 * POSTs each to tickets.sync_url + "/relations" as {source, external_id, relation:
 * "incident", incident_id, kind, status}: an adapter (or the ticketing system's automation)
 * turns it into Zendesk's problem/incident link or a Salesforce parent case. Delivery uses
 * libcurl with a short timeout on a thread of its own (so a slow helpdesk never holds the main
 * loop), waking every second or when a relation is queued, at most SEND_PER_TICK rows per
 * round, retrying with backoff;
 * the socket opener refuses private and loopback addresses unless tickets.outbound_allow lists
 * them (core/netguard.h). The token is never logged. The same thread delivers the
 * post-incident survey requests (survey.c; rows of kind "survey") to tickets.survey_url with
 * tickets.survey_token, and the Zendesk calls (zdsync.c; rows of kind zd_*) to
 * tickets.zendesk_url.
 */
#include "tickets/tickets_int.h"
#include "tickets/sql.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/netguard.h"
#include "store/store.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define SEND_PER_TICK 10   /* relations sent per timer tick */
#define TIMEOUT_MS    3000 /* per delivery */
#define MAX_ATTEMPTS  8    /* then the row is given up (status kept) */
#define PER_CLUSTER   1000 /* relations queued for one cluster event */
#define URL_MAX       1024

/* Under the store's lock: queues one row. */
static void put_row(struct store *s, const char *src, const char *ext, int64_t incident,
                    const char *kind, const char *body, int64_t now_ms)
{
    struct store_stmt *ins = NULL;
    if (store_prepare(s, TICKETS_SQL_OUTBOX_PUT, &ins) == 0 &&
        STORE_BIND(ins, STORE_TEXT(src), STORE_TEXT(ext), STORE_INT(incident), STORE_TEXT(kind),
                   STORE_TEXT(body), STORE_INT(now_ms)) == 0 &&
        store_step(ins) != STORE_DONE)
        oc_log(OC_LOG_ERROR, "tickets: cannot queue a relation: %s", store_errmsg(s));
    tickets_stmt_done(ins);
}

/* Under the store's lock: queues what one ticket's relation sends: the helpdesk-neutral
 * relation to tickets.sync_url and, for a Zendesk ticket's link with tickets.zendesk_url,
 * the call making it an incident of the incident's problem ticket. */
static void put_one(struct tickets_mod *m, const char *src, const char *ext, int64_t cluster,
                    int64_t incident, const char *kind, const char *status, int64_t now_ms)
{
    struct store *s = m->app->store;
    if (m->o.sync_url && m->o.sync_url[0]) {
        json_t *b = json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:I}", "source", src, "external_id",
                              ext, "relation", "incident", "incident_id", (json_int_t)incident,
                              "kind", kind, "status", status, "cluster_id", (json_int_t)cluster);
        char *body = json_dumps(b, JSON_COMPACT);
        put_row(s, src, ext, incident, kind, body, now_ms);
        free(body);
        json_decref(b);
    }
    if (tickets_zd_on(m) && strcmp(kind, "linked") == 0 && strcmp(src, "zendesk") == 0)
        put_row(s, src, ext, incident, "zd_incident", "{}", now_ms);
}

/* 1 when anything goes back per ticket (tickets.sync_url or tickets.zendesk_url). */
static int relating(const struct tickets_mod *m)
{
    return (m->o.sync_url && m->o.sync_url[0]) || tickets_zd_on(m);
}

void tickets_outbox_queue_one(struct tickets_mod *m, const char *src, const char *ext,
                              int64_t cluster, int64_t incident, int64_t now_ms)
{
    if (!relating(m))
        return;
    store_lock(m->app->store);
    put_one(m, src, ext, cluster, incident, "linked", "investigating", now_ms);
    store_unlock(m->app->store);
    tickets_outbox_wake(m);
}

void tickets_outbox_queue(struct tickets_mod *m, int64_t cluster, int64_t incident,
                          const char *kind, const char *status, int64_t now_ms)
{
    struct store *s = m->app->store;
    struct store_stmt *q = NULL;
    char src[16][TICKETS_ID_MAX + 1], ext[16][TICKETS_ID_MAX + 1];
    /* a status update goes per ticket only as the neutral relation (Zendesk's is one
     * comment on the problem ticket, zdsync.c) */
    if (!relating(m) || (!(m->o.sync_url && m->o.sync_url[0]) && strcmp(kind, "linked") != 0))
        return;
    store_lock(s);
    if (store_prepare(s, TICKETS_SQL_OF_CLUSTER, &q) == 0 &&
        STORE_BIND(q, STORE_INT(cluster), STORE_INT(PER_CLUSTER)) == 0) {
        for (int n = 16; n == 16;) { /* 16 at a time: read, then insert */
            n = 0;
            while (n < 16 && store_step(q) == STORE_ROW) {
                snprintf(src[n], sizeof src[n], "%s", store_col_text(q, 0));
                snprintf(ext[n], sizeof ext[n], "%s", store_col_text(q, 1));
                n++;
            }
            for (int i = 0; i < n; i++)
                put_one(m, src[i], ext[i], cluster, incident, kind, status, now_ms);
        }
    }
    tickets_stmt_done(q);
    store_unlock(s);
    tickets_outbox_wake(m);
}

/* What the socket opener needs. */
struct guard {
    struct oc_netguard g;
    char refused[160];
};

static curl_socket_t open_guarded(void *arg, curlsocktype purpose, struct curl_sockaddr *addr)
{
    struct guard *gd = arg;
    (void)purpose;
    const char *why = oc_netguard_refuses(&gd->g, &addr->addr);
    if (why) {
        snprintf(gd->refused, sizeof gd->refused,
                 "a %s address (list it in tickets.outbound_allow to allow it)", why);
        return CURL_SOCKET_BAD;
    }
    return socket(addr->family, addr->socktype, addr->protocol);
}

/* Keeps the answer's body in the caller's capped buffer (past the cap, the rest is dropped). */
static size_t keep(char *p, size_t size, size_t n, void *arg)
{
    struct oc_buf *b = arg;
    if (b)
        (void)oc_buf_append(b, p, size * n);
    return size * n;
}

long tickets_http(struct tickets_mod *m, const struct tickets_call *call, char *why, size_t wn)
{
    struct guard gd;
    struct curl_slist *h = NULL;
    char auth[600], idem[200];
    long status = 0;
    memset(&gd, 0, sizeof gd);
    if (oc_netguard_parse(&gd.g, m->o.outbound_allow, why, wn) != 0)
        return 0;
    CURL *c = curl_easy_init();
    if (!c) {
        snprintf(why, wn, "curl_easy_init failed");
        return 0;
    }
    h = curl_slist_append(h, "Content-Type: application/json");
    h = curl_slist_append(h, "Accept: application/json");
    h = curl_slist_append(h, "User-Agent: oncue-tickets/1");
    auth[0] = '\0';
    if (call->bearer && call->bearer[0]) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", call->bearer);
        h = curl_slist_append(h, auth);
    }
    if (call->idem) {
        snprintf(idem, sizeof idem, "Idempotency-Key: %s", call->idem);
        h = curl_slist_append(h, idem);
    }
    if (call->userpwd && call->userpwd[0]) {
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(c, CURLOPT_USERPWD, call->userpwd);
    }
    curl_easy_setopt(c, CURLOPT_URL, call->url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, call->body);
    if (call->method && strcmp(call->method, "POST") != 0)
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, call->method);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, call->resp);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_guarded);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &gd);
    CURLcode cc = curl_easy_perform(c);
    if (cc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    else
        snprintf(why, wn, "%s", gd.refused[0] ? gd.refused : curl_easy_strerror(cc));
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    sodium_memzero(auth, sizeof auth);
    return status;
}

/* POSTs body to url with Bearer token (none when empty): the HTTP status, or 0 with why
 * filled. */
static long post(struct tickets_mod *m, const char *url, const char *token, const char *body,
                 char *why, size_t wn)
{
    struct tickets_call call = {.method = "POST", .url = url, .bearer = token, .body = body};
    return tickets_http(m, &call, why, wn);
}

static int configured(const char *url)
{
    return url && url[0];
}

/* Sends d where its kind goes: the HTTP status, or 0 with why. */
static long send_one(struct tickets_mod *m, const struct tickets_due *d, const char *url, char *why,
                     size_t wn)
{
    if (d->zendesk)
        return tickets_zd_send(m, d, why, wn);
    if (d->survey)
        return post(m, m->o.survey_url, m->o.survey_token, d->body, why, wn);
    return post(m, url, m->o.sync_token, d->body, why, wn);
}

/* Copies up to SEND_PER_TICK due rows into d: how many. */
static int read_due(struct tickets_mod *m, int64_t now, struct tickets_due *d)
{
    struct store *s = m->app->store;
    struct store_stmt *q = NULL;
    int n = 0;
    store_lock(s);
    if (store_prepare(s, TICKETS_SQL_OUTBOX_DUE, &q) == 0 &&
        STORE_BIND(q, STORE_INT(now), STORE_INT(SEND_PER_TICK),
                   STORE_INT(configured(m->o.survey_url)), STORE_INT(configured(m->o.sync_url)),
                   STORE_INT(tickets_zd_on(m))) == 0) {
        while (n < SEND_PER_TICK && store_step(q) == STORE_ROW) {
            const char *kind = store_col_text(q, 3), *ext = store_col_text(q, 2),
                       *body = store_col_text(q, 4);
            memset(&d[n], 0, sizeof d[n]);
            d[n].id = store_col_int(q, 0);
            d[n].attempts = store_col_int(q, 5);
            d[n].incident = store_col_int(q, 6);
            d[n].created_ms = store_col_int(q, 7);
            snprintf(d[n].kind, sizeof d[n].kind, "%s", kind ? kind : "");
            snprintf(d[n].ext, sizeof d[n].ext, "%s", ext ? ext : "");
            d[n].survey = strcmp(d[n].kind, "survey") == 0;
            d[n].zendesk = strncmp(d[n].kind, "zd_", 3) == 0;
            d[n].body = oc_strdup(body ? body : "{}");
            n++;
        }
        tickets_stmt_done(q);
    }
    store_unlock(s);
    return n;
}

/* Sends the due rows, SEND_PER_TICK at most, in queueing order (an incident's problem ticket
 * before the calls that need it), and records each outcome. */
static void send_due(struct tickets_mod *m)
{
    struct store *s = m->app->store;
    struct store_stmt *q = NULL;
    struct tickets_due d[SEND_PER_TICK];
    char url[URL_MAX] = "", why[200];
    if (!configured(m->o.sync_url) && !configured(m->o.survey_url) && !tickets_zd_on(m))
        return;
    int64_t now = oc_clock_now_ms(m->app->clock);
    int n = read_due(m, now, d);
    if (configured(m->o.sync_url))
        snprintf(url, sizeof url, "%s%srelations", m->o.sync_url,
                 m->o.sync_url[strlen(m->o.sync_url) - 1] == '/' ? "" : "/");
    for (int i = 0; i < n; i++) {
        why[0] = '\0';
        long st = send_one(m, &d[i], url, why, sizeof why);
        int ok = st >= 200 && st < 300, give_up = !ok && d[i].attempts + 1 >= MAX_ATTEMPTS;
        atomic_fetch_add(ok ? &m->sent : &m->send_failed, 1);
        if (!ok)
            oc_log(OC_LOG_WARN, "tickets: %s %lld (%s) to tickets.%s_url: %s%ld%s",
                   d[i].survey ? "survey request" : "relation", (long long)d[i].id, d[i].kind,
                   d[i].survey    ? "survey"
                   : d[i].zendesk ? "zendesk"
                                  : "sync",
                   st ? "HTTP " : "", st, st ? "" : why);
        int64_t next = now + ((int64_t)1000 << (d[i].attempts < 10 ? d[i].attempts : 10));
        store_lock(s);
        if (store_prepare(s, ok || give_up ? TICKETS_SQL_OUTBOX_DONE : TICKETS_SQL_OUTBOX_RETRY,
                          &q) == 0 &&
            STORE_BIND(q, STORE_INT(d[i].id), STORE_INT(ok || give_up ? now : next),
                       STORE_INT(st)) == 0)
            store_step(q);
        tickets_stmt_done(q);
        store_unlock(s);
        free(d[i].body);
    }
}

/* The delivery thread: sends what is due every second, or at once when signalled. */
static void *deliver(void *arg)
{
    struct tickets_mod *m = arg;
    pthread_mutex_lock(&m->omu);
    while (!m->ostop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&m->ocv, &m->omu, &ts);
        if (m->ostop)
            break;
        pthread_mutex_unlock(&m->omu);
        send_due(m);
        pthread_mutex_lock(&m->omu);
    }
    pthread_mutex_unlock(&m->omu);
    return NULL;
}

int tickets_outbox_start(struct tickets_mod *m)
{
    pthread_mutex_init(&m->omu, NULL);
    pthread_cond_init(&m->ocv, NULL);
    m->ostarted = 1;
    if (!configured(m->o.sync_url) && !configured(m->o.survey_url) && !tickets_zd_on(m))
        return 0;
    if (pthread_create(&m->oth, NULL, deliver, m) != 0)
        return OC_EIO;
    m->othread = 1;
    return 0;
}

void tickets_outbox_wake(struct tickets_mod *m)
{
    if (!m->othread)
        return;
    pthread_mutex_lock(&m->omu);
    pthread_cond_signal(&m->ocv);
    pthread_mutex_unlock(&m->omu);
}

void tickets_outbox_stop(struct tickets_mod *m)
{
    if (!m->ostarted)
        return;
    if (m->othread) {
        pthread_mutex_lock(&m->omu);
        m->ostop = 1;
        pthread_cond_signal(&m->ocv);
        pthread_mutex_unlock(&m->omu);
        pthread_join(m->oth, NULL); /* a delivery under way ends within TIMEOUT_MS */
        m->othread = 0;
    }
    pthread_cond_destroy(&m->ocv);
    pthread_mutex_destroy(&m->omu);
    m->ostarted = 0;
}

json_t *tickets_outbox_json(struct tickets_mod *m)
{
    struct store *s = m->app->store;
    struct store_stmt *q = NULL;
    /* relations, surveys, Zendesk calls: queued, pending, delivered */
    int64_t v[3][3] = {{0, 0, 0}, {0, 0, 0}, {0, 0, 0}};
    store_lock(s);
    if (store_prepare(s, TICKETS_SQL_OUTBOX_COUNT_BY, &q) == 0)
        while (store_step(q) == STORE_ROW) {
            int64_t k = store_col_int(q, 3);
            for (int c = 0; k >= 0 && k < 3 && c < 3; c++)
                v[k][c] = store_col_int(q, c);
        }
    tickets_stmt_done(q);
    store_unlock(s);
    return json_pack("{s:I, s:I, s:I, s:{s:I, s:I, s:I}, s:{s:I, s:I, s:I}}", "queued",
                     (json_int_t)v[0][0], "pending", (json_int_t)v[0][1], "delivered",
                     (json_int_t)v[0][2], "surveys", "queued", (json_int_t)v[1][0], "pending",
                     (json_int_t)v[1][1], "delivered", (json_int_t)v[1][2], "zendesk", "queued",
                     (json_int_t)v[2][0], "pending", (json_int_t)v[2][1], "delivered",
                     (json_int_t)v[2][2]);
}
