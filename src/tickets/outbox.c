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
 * tickets.survey_token.
 */
#include "tickets/tickets_int.h"
#include "tickets/sql.h"
#include "core/alloc.h"
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

/* Under the store's lock: queues one relation. */
static void put_one(struct store *s, const char *src, const char *ext, int64_t cluster,
                    int64_t incident, const char *kind, const char *status, int64_t now_ms)
{
    struct store_stmt *ins = NULL;
    json_t *b = json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:I}", "source", src, "external_id", ext,
                          "relation", "incident", "incident_id", (json_int_t)incident, "kind", kind,
                          "status", status, "cluster_id", (json_int_t)cluster);
    char *body = json_dumps(b, JSON_COMPACT);
    if (store_prepare(s, TICKETS_SQL_OUTBOX_PUT, &ins) == 0 &&
        STORE_BIND(ins, STORE_TEXT(src), STORE_TEXT(ext), STORE_INT(incident), STORE_TEXT(kind),
                   STORE_TEXT(body), STORE_INT(now_ms)) == 0 &&
        store_step(ins) != STORE_DONE)
        oc_log(OC_LOG_ERROR, "tickets: cannot queue a relation: %s", store_errmsg(s));
    tickets_stmt_done(ins);
    free(body);
    json_decref(b);
}

void tickets_outbox_queue_one(struct tickets_mod *m, const char *src, const char *ext,
                              int64_t cluster, int64_t incident, int64_t now_ms)
{
    if (!m->o.sync_url || !m->o.sync_url[0])
        return;
    store_lock(m->app->store);
    put_one(m->app->store, src, ext, cluster, incident, "linked", "investigating", now_ms);
    store_unlock(m->app->store);
    tickets_outbox_wake(m);
}

void tickets_outbox_queue(struct tickets_mod *m, int64_t cluster, int64_t incident,
                          const char *kind, const char *status, int64_t now_ms)
{
    struct store *s = m->app->store;
    struct store_stmt *q = NULL;
    char src[16][TICKETS_ID_MAX + 1], ext[16][TICKETS_ID_MAX + 1];
    if (!m->o.sync_url || !m->o.sync_url[0])
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
                put_one(s, src[i], ext[i], cluster, incident, kind, status, now_ms);
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

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
    (void)p;
    (void)arg;
    return size * n;
}

/* POSTs body to url with Bearer token (none when empty): the HTTP status, or 0 with why
 * filled. */
static long post(struct tickets_mod *m, const char *url, const char *token, const char *body,
                 char *why, size_t wn)
{
    struct guard gd;
    struct curl_slist *h = NULL;
    char auth[600];
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
    h = curl_slist_append(h, "User-Agent: oncue-tickets/1");
    if (token && token[0]) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
        h = curl_slist_append(h, auth);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
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

/* A due row, copied out of the store. */
struct due {
    int64_t id, attempts;
    int survey; /* a survey request (tickets.survey_url), else a relation */
    char *body;
};

static int configured(const char *url)
{
    return url && url[0];
}

/* Sends the due relations, SEND_PER_TICK at most, and records each outcome. */
static void send_due(struct tickets_mod *m)
{
    struct oc_app *app = m->app;
    struct store *s = app->store;
    struct store_stmt *q = NULL;
    struct due d[SEND_PER_TICK];
    char url[URL_MAX], why[200];
    int n = 0, sync = configured(m->o.sync_url), survey = configured(m->o.survey_url);
    if (!sync && !survey)
        return;
    int64_t now = oc_clock_now_ms(app->clock);
    store_lock(s);
    if (store_prepare(s, TICKETS_SQL_OUTBOX_DUE, &q) == 0 &&
        STORE_BIND(q, STORE_INT(now), STORE_INT(SEND_PER_TICK), STORE_INT(survey),
                   STORE_INT(sync)) == 0) {
        while (n < SEND_PER_TICK && store_step(q) == STORE_ROW) {
            d[n].id = store_col_int(q, 0);
            d[n].attempts = store_col_int(q, 5);
            d[n].survey = strcmp(store_col_text(q, 3) ? store_col_text(q, 3) : "", "survey") == 0;
            d[n].body = oc_strdup(store_col_text(q, 4) ? store_col_text(q, 4) : "{}");
            n++;
        }
        tickets_stmt_done(q);
    }
    store_unlock(s);
    if (sync)
        snprintf(url, sizeof url, "%s%srelations", m->o.sync_url,
                 m->o.sync_url[strlen(m->o.sync_url) - 1] == '/' ? "" : "/");
    for (int i = 0; i < n; i++) {
        why[0] = '\0';
        long st = d[i].survey
                      ? post(m, m->o.survey_url, m->o.survey_token, d[i].body, why, sizeof why)
                      : post(m, url, m->o.sync_token, d[i].body, why, sizeof why);
        int ok = st >= 200 && st < 300, give_up = !ok && d[i].attempts + 1 >= MAX_ATTEMPTS;
        atomic_fetch_add(ok ? &m->sent : &m->send_failed, 1);
        if (!ok)
            oc_log(OC_LOG_WARN, "tickets: %s %lld to tickets.%s_url: %s%ld%s",
                   d[i].survey ? "survey request" : "relation", (long long)d[i].id,
                   d[i].survey ? "survey" : "sync", st ? "HTTP " : "", st, st ? "" : why);
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
    if (!configured(m->o.sync_url) && !configured(m->o.survey_url))
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
    int64_t v[2][3] = {{0, 0, 0}, {0, 0, 0}}; /* relations, surveys: queued, pending, delivered */
    store_lock(s);
    if (store_prepare(s, TICKETS_SQL_OUTBOX_COUNT_BY, &q) == 0)
        while (store_step(q) == STORE_ROW) {
            int k = store_col_int(q, 3) != 0;
            for (int c = 0; c < 3; c++)
                v[k][c] = store_col_int(q, c);
        }
    tickets_stmt_done(q);
    store_unlock(s);
    return json_pack("{s:I, s:I, s:I, s:{s:I, s:I, s:I}}", "queued", (json_int_t)v[0][0], "pending",
                     (json_int_t)v[0][1], "delivered", (json_int_t)v[0][2], "surveys", "queued",
                     (json_int_t)v[1][0], "pending", (json_int_t)v[1][1], "delivered",
                     (json_int_t)v[1][2]);
}
