/*
 * lease.c - the lease row in PostgreSQL that lets one control-plane replica at a time run
 * the timers that must run once (store/lease.h, docs/internals/lease.md).
 *
 * The row: oncue_leases(name PRIMARY KEY, holder, expires), expires on PostgreSQL's clock, so
 * the replicas' clocks never have to agree. A renewal is one statement: insert the row, or
 * take it over when it is ours or has expired, returning the holder when it is now ours. The
 * holder trusts its lease until its own monotonic clock passes the renewal's start plus the
 * time to live less a margin: the row cannot expire before that on PostgreSQL's clock, since
 * the statement ran after the renewal started.
 */
#include "store/lease.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/metrics.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

struct oc_lease {
    char conninfo[1024], name[128], holder[160];
    int64_t ttl_ms;
    PGconn *pg;  /* the thread's own */
    int created; /* the table exists on this connection's server */
    int held;    /* what the thread last logged */
    pthread_t th;
    pthread_mutex_t mu; /* guards stop (a leaf) */
    pthread_cond_t cv;
    int stop;
    _Atomic int64_t held_until_ms; /* monotonic; 0: not held */
    _Atomic uint64_t acquired, failures;
};

static const char *const sql_create =
    "CREATE TABLE IF NOT EXISTS oncue_leases (name text PRIMARY KEY, holder text NOT NULL, "
    "expires timestamptz NOT NULL)";
static const char *const sql_renew =
    "INSERT INTO oncue_leases AS l (name, holder, expires) "
    "VALUES ($1, $2, now() + make_interval(secs => $3::float8)) "
    "ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires = EXCLUDED.expires "
    "WHERE l.holder = EXCLUDED.holder OR l.expires < now() RETURNING holder";
static const char *const sql_release = "DELETE FROM oncue_leases WHERE name = $1 AND holder = $2";

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void quiet(void *arg, const char *message)
{
    (void)arg, (void)message;
}

/* A connection, made when missing or broken: 0, or -1 (logged by the caller). */
static int connect_pg(struct oc_lease *l, char *err, size_t errlen)
{
    if (l->pg && PQstatus(l->pg) == CONNECTION_OK)
        return 0;
    if (l->pg)
        PQfinish(l->pg);
    l->created = 0;
    /* the conninfo first (expanded), then a bound on connecting it cannot lift */
    const char *keys[] = {"dbname", "connect_timeout", "application_name", NULL};
    const char *vals[] = {l->conninfo, "5", "oncue-lease", NULL};
    l->pg = PQconnectdbParams(keys, vals, 1);
    if (!l->pg || PQstatus(l->pg) != CONNECTION_OK) {
        snprintf(err, errlen, "%s", l->pg ? PQerrorMessage(l->pg) : "out of memory");
        return -1;
    }
    PQsetNoticeProcessor(l->pg, quiet, NULL); /* "relation already exists, skipping" */
    PGresult *r = PQexec(l->pg, "SET statement_timeout = 5000");
    PQclear(r);
    return 0;
}

/* One statement with parameters; 1 when it returned a row, 0 when none, -1 on failure. */
static int exec_params(struct oc_lease *l, const char *sql, int n, const char *const *params,
                       char *err, size_t errlen)
{
    PGresult *r = PQexecParams(l->pg, sql, n, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    int rc = -1;
    if (st == PGRES_TUPLES_OK)
        rc = PQntuples(r) > 0;
    else if (st == PGRES_COMMAND_OK)
        rc = 0;
    else
        snprintf(err, errlen, "%s", PQerrorMessage(l->pg));
    PQclear(r);
    return rc;
}

/* Renews (or takes) the lease: sets held_until_ms. */
static void renew(struct oc_lease *l)
{
    char err[512] = "", ttl[32];
    int64_t t0 = mono_ms();
    int got = -1;
    if (connect_pg(l, err, sizeof err) == 0) {
        got = 0;
        if (!l->created) {
            PGresult *r = PQexec(l->pg, sql_create);
            /* two replicas creating it at once: one fails, and retries the next round */
            l->created = PQresultStatus(r) == PGRES_COMMAND_OK;
            if (!l->created)
                snprintf(err, sizeof err, "%s", PQerrorMessage(l->pg));
            PQclear(r);
        }
        snprintf(ttl, sizeof ttl, "%.3f", (double)l->ttl_ms / 1000.0);
        const char *p[] = {l->name, l->holder, ttl};
        got = l->created ? exec_params(l, sql_renew, 3, p, err, sizeof err) : -1;
    }
    if (got < 0) {
        l->failures++;
        char *nl = strchr(err, '\n');
        if (nl)
            *nl = 0;
        oc_log(OC_LOG_WARN, "lease %s: cannot renew: %s", l->name, err);
    }
    int64_t margin = l->ttl_ms / 5 < 1000 ? l->ttl_ms / 5 : 1000;
    if (got == 1)
        l->held_until_ms = t0 + l->ttl_ms - margin;
    else if (got == 0)
        l->held_until_ms = 0; /* another replica holds it */
    /* a failed renewal keeps what the last good one granted, which then runs out */
    int held = mono_ms() < l->held_until_ms;
    if (held && !l->held) {
        l->acquired++;
        oc_log(OC_LOG_INFO, "lease %s: held by this replica (%s)", l->name, l->holder);
    } else if (!held && l->held) {
        oc_log(OC_LOG_WARN, "lease %s: no longer held by this replica", l->name);
    }
    l->held = held;
}

static void *lease_main(void *arg)
{
    struct oc_lease *l = arg;
    pthread_mutex_lock(&l->mu);
    while (!l->stop) {
        pthread_mutex_unlock(&l->mu);
        renew(l);
        pthread_mutex_lock(&l->mu);
        if (l->stop)
            break;
        int64_t wait = l->ttl_ms / 3;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += wait / 1000;
        ts.tv_nsec += (wait % 1000) * 1000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&l->cv, &l->mu, &ts);
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

static void render(struct oc_buf *b, void *arg)
{
    struct oc_lease *l = arg;
    const char *labels[] = {"lease", l->name, NULL};
    oc_metrics_family(b, "oncue_lease_held", "gauge",
                      "1 while this replica holds the lease (runs the timers that run once).");
    oc_metrics_sample(b, "oncue_lease_held", labels, oc_lease_held(l));
    oc_metrics_family(b, "oncue_lease_acquired_total", "counter",
                      "Times this replica took the lease.");
    oc_metrics_sample(b, "oncue_lease_acquired_total", labels, (double)atomic_load(&l->acquired));
    oc_metrics_family(b, "oncue_lease_failures_total", "counter",
                      "Renewals that failed (PostgreSQL unreachable or refusing).");
    oc_metrics_sample(b, "oncue_lease_failures_total", labels, (double)atomic_load(&l->failures));
}

struct oc_lease *oc_lease_start(const char *conninfo, const char *name, int ttl_s,
                                struct oc_metrics *m)
{
    struct oc_lease *l = oc_calloc(1, sizeof *l);
    char host[64] = "";
    uint32_t r = 0;
    snprintf(l->conninfo, sizeof l->conninfo, "%s", conninfo);
    snprintf(l->name, sizeof l->name, "%s", name);
    l->ttl_ms = (int64_t)ttl_s * 1000;
    gethostname(host, sizeof host - 1);
    if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r)
        r = (uint32_t)mono_ms();
    snprintf(l->holder, sizeof l->holder, "%s:%d:%08x", host, (int)getpid(), r);
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    if (pthread_create(&l->th, NULL, lease_main, l) != 0) {
        oc_log(OC_LOG_ERROR, "lease %s: cannot start its thread", l->name);
        pthread_mutex_destroy(&l->mu);
        pthread_cond_destroy(&l->cv);
        free(l);
        return NULL;
    }
    if (m)
        oc_metrics_register(m, render, l);
    oc_log(OC_LOG_INFO, "lease %s: renewing every %lld ms as %s", l->name,
           (long long)(l->ttl_ms / 3), l->holder);
    return l;
}

int oc_lease_held(void *lease)
{
    struct oc_lease *l = lease;
    return mono_ms() < atomic_load(&l->held_until_ms);
}

void oc_lease_stop(struct oc_lease *l)
{
    if (!l)
        return;
    pthread_mutex_lock(&l->mu);
    l->stop = 1;
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
    pthread_join(l->th, NULL);
    if (l->held_until_ms && l->pg && PQstatus(l->pg) == CONNECTION_OK) {
        char err[512];
        const char *p[] = {l->name, l->holder};
        l->held_until_ms = 0;
        if (exec_params(l, sql_release, 2, p, err, sizeof err) >= 0)
            oc_log(OC_LOG_INFO, "lease %s: given up", l->name);
    }
    if (l->pg)
        PQfinish(l->pg);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv);
    free(l);
}
