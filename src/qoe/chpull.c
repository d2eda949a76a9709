/*
 * chpull.c - a control-plane node's own cube filled from ClickHouse (qoe.clickhouse_pull,
 * docs/internals/scale.md "The control plane over ClickHouse"), so that alert evaluation,
 * SLOs, incident severity and root-cause localization read every collector's minutes.
 *
 * A thread asks ClickHouse every second which minutes past its watermark are whole: every
 * batch of the minute (one per collector that took events in it) has its closed version. It
 * reads those minutes with every dimension kept (leaf-level rows, the collectors' leaves
 * merged by value), installs them as closed minutes of the cube and, on a replay clock, moves
 * the clock to the end of the last one. A minute with fewer collectors than one near it waits
 * for the missing one. A minute one collector never closes (a collector gone for good) is taken
 * as it stands once a minute CH_PULL_WAIT_S later is whole.
 *
 * Rows that arrive after their minute was pulled (that collector's, shipped late) revise it:
 * each pass also lists the minutes up to CH_PULL_REVISE_S behind the watermark, and one whose
 * batches or closed batches in ClickHouse grew since it was pulled is read again and replaces
 * the minute in the cube (qoe_ch_fill installs whole minutes), so nothing counts twice.
 */
#include "qoe/qoe.h"
#include "qoe/qoe_int.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CH_PULL_WAIT_S  600  /* a minute still partial this long behind a whole one is taken */
#define CH_PULL_MINUTES 30   /* minutes read from ClickHouse per request */
#define CH_PULL_LIST    4096 /* minutes listed per pass */
#define CH_PULL_NEAR_S  600  /* collectors in a minute this near count as expected in it */
#define CH_PULL_REVISE_S                                                                           \
    3600 /* pulled minutes this far behind the watermark are read again when their rows grow */
#define CH_PULL_REVISE_N (CH_PULL_REVISE_S / 60)
#define CH_CLOSED_VER    "18446744073709551615" /* the version of a closed minute's rows */

/* What ClickHouse held of one minute: listed each pass, kept for each minute pulled. */
struct ch_minute {
    int64_t t;   /* the minute */
    int whole;   /* every batch in it is closed */
    int ncol;    /* collectors with a batch in it */
    int batches; /* batches in it (one per collector that took events in the minute) */
    int closed;  /* ... of which closed */
};

struct qoe_pull {
    char url[1024];
    char table[128];
    struct qoe_cube *cube;   /* borrowed */
    struct oc_clock *clock;  /* borrowed; moved forward when it is a replay clock */
    int64_t memory_s;        /* how far back the first pass starts: the cube's memory */
    _Atomic int64_t upto;    /* every whole minute before this is in the cube */
    _Atomic uint64_t pulled; /* minutes installed */
    _Atomic uint64_t forced; /* ... of which taken with a collector's partial rows */
    _Atomic uint64_t failures;
    _Atomic uint64_t revised; /* minutes read again because rows arrived after they were pulled */
    int64_t first;            /* the first watermark: this process pulled nothing before it */
    struct ch_minute seen[CH_PULL_REVISE_N]; /* by minute % CH_PULL_REVISE_N: what a pulled
                                                minute held when pulled (pull thread only) */
    int stop;                                /* under mu */
    int failing;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t th;
};

/* The first watermark: the newest minute in ClickHouse less the cube's memory, or the oldest
 * minute there when that is later. 0 with *out (0: the table is empty), or OC_EDB. */
static int first_upto(struct qoe_pull *p, int64_t *out, char *err, size_t errlen)
{
    char sql[512];
    struct oc_buf ans;
    long long lo = 0, hi = 0;
    oc_buf_init(&ans, 256);
    snprintf(sql, sizeof sql, "SELECT toUInt32(min(t)), toUInt32(max(t)) FROM %s", p->table);
    int rc = qoe_ch_sql(p->url, sql, &ans, err, errlen);
    if (rc == 0 && (!ans.data || sscanf(ans.data, "%lld\t%lld", &lo, &hi) != 2)) {
        snprintf(err, errlen, "clickhouse: not an answer to min(t), max(t)");
        rc = OC_EDB;
    }
    oc_buf_free(&ans);
    if (rc != 0)
        return OC_EDB;
    *out = 0;
    if (hi > 0)
        *out = (hi - p->memory_s > lo ? hi - p->memory_s : lo) / 60 * 60;
    return 0;
}

/* Lists the minutes in ClickHouse from `from` on, oldest first, into l (CH_PULL_LIST at most):
 * 0 with *n, or OC_EDB. */
static int list_minutes(struct qoe_pull *p, int64_t from, struct ch_minute *l, int *n, char *err,
                        size_t errlen)
{
    char sql[1024];
    struct oc_buf ans;
    *n = 0;
    oc_buf_init(&ans, 1 << 20);
    /* per minute: 1 when each of its batches' newest version is the closed one, how many
     * collectors (the batch id's first part) have a batch in it, its batches, closed ones */
    snprintf(sql, sizeof sql,
             "SELECT toUInt32(t) AS m, min(v) = " CH_CLOSED_VER ", "
             "uniqExact(splitByChar('-', batch)[1]), count(), countIf(v = " CH_CLOSED_VER ") "
             "FROM (SELECT t, batch, max(ver) AS v FROM %s WHERE t >= toDateTime(%lld) "
             "GROUP BY t, batch) GROUP BY m ORDER BY m LIMIT %d FORMAT TabSeparated",
             p->table, (long long)from, CH_PULL_LIST);
    int rc = qoe_ch_sql(p->url, sql, &ans, err, errlen);
    const char *s = ans.data ? ans.data : "";
    while (rc == 0 && *s && *n < CH_PULL_LIST) {
        long long m = 0;
        int w = 0, k = 0, nb = 0, nc = 0, used = 0;
        if (sscanf(s, "%lld\t%d\t%d\t%d\t%d\n%n", &m, &w, &k, &nb, &nc, &used) != 5 || used == 0 ||
            m % 60 || m < from) {
            snprintf(err, errlen, "clickhouse: not a list of minutes");
            rc = OC_EDB;
            break;
        }
        l[(*n)++] = (struct ch_minute){m, w == 1, k, nb, nc};
        s += used;
    }
    oc_buf_free(&ans);
    return rc == 0 ? 0 : OC_EDB;
}

/* The end of the whole minutes among the n listed in l (all from upto on): upto itself when
 * none is; *forced: how many of them are taken though not whole. */
static int64_t whole_upto(struct ch_minute *l, int n, int64_t upto, int64_t *forced)
{
    /* a minute with fewer collectors than a minute near it is missing one that has not shipped
     * it yet (restarting, or behind): not whole */
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n && l[i].whole; j++)
            if (l[j].t >= l[i].t - CH_PULL_NEAR_S && l[j].t <= l[i].t + CH_PULL_NEAR_S &&
                l[j].ncol > l[i].ncol)
                l[i].whole = 0;
    int64_t last_whole = INT64_MIN, end = upto;
    for (int i = 0; i < n; i++)
        if (l[i].whole)
            last_whole = l[i].t;
    *forced = 0;
    for (int i = 0; i < n; i++) {
        if (!l[i].whole && (last_whole == INT64_MIN || l[i].t + CH_PULL_WAIT_S > last_whole))
            break;
        *forced += !l[i].whole;
        end = l[i].t + 60;
    }
    return end;
}

/* Keeps what ClickHouse held of the listed minutes in [from, to) as pulled. */
static void remember(struct qoe_pull *p, const struct ch_minute *l, int n, int64_t from, int64_t to)
{
    for (int i = 0; i < n; i++)
        if (l[i].t >= from && l[i].t < to)
            p->seen[(l[i].t / 60) % CH_PULL_REVISE_N] = l[i];
}

/* Reads again the pulled minutes among the n listed in l (those before upto) whose batches or
 * closed batches grew since they were pulled, each run of them in one request: 0 or OC_EDB. */
static int revise(struct qoe_pull *p, const struct ch_minute *l, int n, int64_t upto, char *err,
                  size_t errlen)
{
    for (int i = 0; i < n && l[i].t < upto;) {
        const struct ch_minute *was = &p->seen[(l[i].t / 60) % CH_PULL_REVISE_N];
        int same = was->t == l[i].t, j = i;
        if (l[i].t < p->first ||
            (same && l[i].batches <= was->batches && l[i].closed <= was->closed)) {
            i++;
            continue;
        }
        /* a run of consecutive minutes that grew (or were empty when pulled) */
        while (j + 1 < n && l[j + 1].t < upto && l[j + 1].t == l[j].t + 60) {
            const struct ch_minute *w = &p->seen[(l[j + 1].t / 60) % CH_PULL_REVISE_N];
            if (w->t == l[j + 1].t && l[j + 1].batches <= w->batches &&
                l[j + 1].closed <= w->closed)
                break;
            j++;
        }
        size_t rows = 0;
        int64_t from = l[i].t, to = l[j].t + 60;
        if (qoe_ch_fill(p->cube, p->url, p->table, from, to, &rows, err, errlen) != 0)
            return OC_EDB;
        remember(p, l, n, from, to);
        atomic_fetch_add(&p->revised, (uint64_t)(j - i + 1));
        oc_log(OC_LOG_INFO,
               "qoe: minutes %lld to %lld read again from ClickHouse (rows arrived after they "
               "were pulled): %zu rows",
               (long long)from, (long long)to, rows);
        i = j + 1;
    }
    return 0;
}

/* One pass: installs the whole minutes past the watermark. 1 when it installed some. */
static int pull_pass(struct qoe_pull *p)
{
    char err[512];
    int64_t upto = atomic_load(&p->upto), end = 0, forced = 0;
    int rc = 0, n = 0, i0 = 0;
    if (upto == 0) {
        rc = first_upto(p, &upto, err, sizeof err);
        if (rc == 0 && upto == 0)
            return 0; /* nothing shipped yet */
        if (rc == 0 && !p->first)
            p->first = upto;
    }
    struct ch_minute *l = oc_calloc(CH_PULL_LIST, sizeof *l);
    /* revised: the minutes within CH_PULL_REVISE_S and the cube's memory, pulled here */
    int64_t back = CH_PULL_REVISE_S < p->memory_s ? CH_PULL_REVISE_S : p->memory_s;
    int64_t lo = upto - back > p->first ? upto - back : p->first;
    if (rc == 0)
        rc = list_minutes(p, lo < upto ? lo : upto, l, &n, err, sizeof err);
    if (rc == 0)
        rc = revise(p, l, n, upto, err, sizeof err);
    while (i0 < n && l[i0].t < upto)
        i0++;
    if (rc == 0)
        end = whole_upto(l + i0, n - i0, upto, &forced);
    for (int64_t from = upto; rc == 0 && from < end; from += CH_PULL_MINUTES * 60) {
        int64_t to = from + CH_PULL_MINUTES * 60 < end ? from + CH_PULL_MINUTES * 60 : end;
        size_t rows = 0;
        rc = qoe_ch_fill(p->cube, p->url, p->table, from, to, &rows, err, sizeof err);
        if (rc == 0) {
            atomic_store(&p->upto, to);
            atomic_fetch_add(&p->pulled, (uint64_t)(to - from) / 60);
            remember(p, l, n, from, to);
            oc_clock_observe_ms(p->clock, to * 1000); /* a replay clock follows the data */
            oc_log(OC_LOG_DEBUG, "qoe: pulled minutes %lld to %lld from ClickHouse: %zu rows",
                   (long long)from, (long long)to, rows);
        }
    }
    free(l);
    if (rc != 0) {
        atomic_fetch_add(&p->failures, 1);
        if (!p->failing)
            oc_log(OC_LOG_WARN, "qoe: pulling minutes from ClickHouse: %s; retrying every second",
                   err);
        p->failing = 1;
        return 0;
    }
    if (p->failing)
        oc_log(OC_LOG_INFO, "qoe: pulling minutes from ClickHouse again");
    p->failing = 0;
    if (forced) {
        atomic_fetch_add(&p->forced, (uint64_t)forced);
        oc_log(OC_LOG_WARN,
               "qoe: %lld minute(s) before %lld taken from ClickHouse with a collector's partial "
               "rows (not closed %d s later)",
               (long long)forced, (long long)end, CH_PULL_WAIT_S);
    }
    if (atomic_load(&p->upto) == 0 && upto > 0)
        atomic_store(&p->upto, upto);
    return end > upto;
}

static void *pull_main(void *arg)
{
    struct qoe_pull *p = arg;
    pthread_mutex_lock(&p->mu);
    while (!p->stop) {
        pthread_mutex_unlock(&p->mu);
        pull_pass(p);
        pthread_mutex_lock(&p->mu);
        if (p->stop)
            break;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&p->cv, &p->mu, &ts);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

struct qoe_pull *qoe_pull_start(const char *url, const char *table, struct qoe_cube *c,
                                struct oc_clock *clock, int64_t memory_minutes)
{
    struct qoe_pull *p = oc_calloc(1, sizeof *p);
    snprintf(p->url, sizeof p->url, "%s", url);
    size_t n = strlen(p->url);
    if (n && p->url[n - 1] == '/')
        p->url[n - 1] = 0;
    snprintf(p->table, sizeof p->table, "%s", table);
    p->cube = c;
    p->clock = clock;
    p->memory_s = memory_minutes * 60;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    if (pthread_create(&p->th, NULL, pull_main, p) != 0) {
        oc_log(OC_LOG_ERROR, "qoe: cannot start the clickhouse pull thread");
        pthread_mutex_destroy(&p->mu);
        pthread_cond_destroy(&p->cv);
        free(p);
        return NULL;
    }
    oc_log(OC_LOG_INFO, "qoe: filling the cube from ClickHouse table %s (whole minutes)", p->table);
    return p;
}

void qoe_pull_stats(struct qoe_pull *p, struct qoe_pull_stats *out)
{
    out->upto = atomic_load(&p->upto);
    out->pulled = atomic_load(&p->pulled);
    out->forced = atomic_load(&p->forced);
    out->failures = atomic_load(&p->failures);
    out->revised = atomic_load(&p->revised);
}

void qoe_pull_stop(struct qoe_pull *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->th, NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p);
}
