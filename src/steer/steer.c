/*
 * steer.c - the steering state: the effective policy behind a read-write lock, the answer to
 * one steering request (rate cap, 410 for retired assets, manifest), throughput measurements
 * per pathway and their metrics, and feature-flag evaluation.
 */
#include "steer/steer_int.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/bus.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/metrics.h"

#include <sodium.h>
#include <stdatomic.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int steer_new(const struct steer_opts *opts, struct steer **out)
{
    *out = NULL;
    if (sodium_init() < 0) /* session tokens come from randombytes_buf */
        return OC_EIO;
    struct steer *st = oc_calloc(1, sizeof(*st));
    int rc;
    st->clock = opts->clock;
    st->bus = opts->bus;
    st->store = opts->store;
    st->ttl_s = opts->ttl_s > 0 ? opts->ttl_s : 60;
    st->max_rps = opts->max_rps;
    st->geo = opts->geo;
    st->map_regions = steer_geo_map_regions(opts->region_map);
    st->deploy = opts->deploy;
    st->deploy_arg = opts->deploy_arg;
    st->followup_hours = opts->followup_hours > 0 ? opts->followup_hours : 72;
    st->backup_origin =
        opts->backup_origin && opts->backup_origin[0] ? oc_strdup(opts->backup_origin) : NULL;
    st->tokens = (double)st->max_rps;
    st->tokens_ms = oc_clock_now_ms(st->clock);
    st->next_id = 1;
    pthread_mutex_init(&st->write_mu, NULL);
    pthread_rwlockattr_t ra;
    pthread_rwlockattr_init(&ra);
    /* readers arrive continuously under load: let a policy change in between them */
    pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&st->lock, &ra);
    pthread_rwlockattr_destroy(&ra);
    pthread_mutex_init(&st->rate_mu, NULL);
    pthread_mutex_init(&st->measure_mu, NULL);
    pthread_mutex_init(&st->auto_mu, NULL);
    snprintf(st->measures[STEER_MAX_MEASURES].pathway, STEER_ID_BUF, "_other");
    rc = st->store ? steer_load(st) : 0;
    if (rc) {
        steer_destroy(st);
        st = NULL;
    }
    *out = st;
    return rc;
}

void steer_destroy(struct steer *st)
{
    if (!st)
        return;
    steer_policy_free(st->pol);
    json_decref(st->base);
    steer_records_free(st);
    free(st->backup_origin);
    free(st->map_regions);
    pthread_mutex_destroy(&st->write_mu);
    pthread_rwlock_destroy(&st->lock);
    pthread_mutex_destroy(&st->rate_mu);
    pthread_mutex_destroy(&st->measure_mu);
    pthread_mutex_destroy(&st->auto_mu);
    free(st);
}

json_t *steer_policy_get(struct steer *st)
{
    pthread_rwlock_rdlock(&st->lock);
    json_t *doc = st->base ? json_deep_copy(st->base) : json_object();
    pthread_rwlock_unlock(&st->lock);
    return doc;
}

char *steer_regions(struct steer *st)
{
    return st->map_regions ? oc_strdup(st->map_regions) : NULL;
}

int steer_decide(struct steer *st, const struct steer_query *q, struct steer_decision *d)
{
    int rc = OC_ENOTFOUND;
    memset(d, 0, sizeof(*d));
    pthread_rwlock_rdlock(&st->lock);
    if (st->pol && st->pol->npathways > 0) {
        const struct steer_rule *r = steer_policy_eval(st->pol, q);
        snprintf(d->priority, sizeof(d->priority), "%s", r->priority);
        snprintf(d->rule, sizeof(d->rule), "%s", r->name);
        d->ttl_s = st->pol->ttl_s;
        rc = 0;
    }
    pthread_rwlock_unlock(&st->lock);
    return rc;
}

/* Takes one token from the bucket; 1 when the request may proceed. */
static int rate_take(struct steer *st)
{
    int ok = 1;
    if (st->max_rps <= 0)
        return 1;
    pthread_mutex_lock(&st->rate_mu);
    int64_t now = oc_clock_now_ms(st->clock);
    if (now > st->tokens_ms) {
        st->tokens += (double)(now - st->tokens_ms) * (double)st->max_rps / 1000.0;
        if (st->tokens > (double)st->max_rps)
            st->tokens = (double)st->max_rps;
        st->tokens_ms = now;
    }
    if (st->tokens >= 1.0)
        st->tokens -= 1.0;
    else
        ok = 0;
    pthread_mutex_unlock(&st->rate_mu);
    return ok;
}

/* The slot of pathway among the first n published ones, or NULL. */
static struct steer_measure_slot *measure_find(struct steer *st, const char *pathway, int n)
{
    for (int i = 0; i < n; i++)
        if (strcmp(st->measures[i].pathway, pathway) == 0)
            return &st->measures[i];
    return NULL;
}

/* Adds one throughput report for pathway to its slot ("_other" past the cap). Lock-free
 * unless the pathway is new. */
static void measure_add(struct steer *st, const char *pathway, double bps)
{
    int n = atomic_load_explicit(&st->nmeasures, memory_order_acquire);
    struct steer_measure_slot *m = measure_find(st, pathway, n);
    if (!m) {
        pthread_mutex_lock(&st->measure_mu);
        n = atomic_load_explicit(&st->nmeasures, memory_order_acquire);
        m = measure_find(st, pathway, n);
        if (!m && n < STEER_MAX_MEASURES) {
            m = &st->measures[n];
            snprintf(m->pathway, sizeof(m->pathway), "%s", pathway);
            atomic_store_explicit(&st->nmeasures, n + 1, memory_order_release);
        }
        pthread_mutex_unlock(&st->measure_mu);
    }
    if (!m)
        m = &st->measures[STEER_MAX_MEASURES];
    atomic_fetch_add_explicit(&m->reports, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->sum_bps, (uint64_t)bps, memory_order_relaxed);
    atomic_store_explicit(&m->last_bps, (uint64_t)bps, memory_order_relaxed);
}

/* Records the query's pathway/throughput pairs (the lists are parallel). */
static void record_measures(struct steer *st, const struct steer_query *q)
{
    int n = q->npathway < q->nthroughput ? q->npathway : q->nthroughput;
    for (int i = 0; i < n; i++)
        if (!isnan(q->throughput[i])) /* NAN: that pathway had no measurement */
            measure_add(st, q->pathway[i], q->throughput[i]);
}

int steer_measures(struct steer *st, struct steer_measure *out, int max)
{
    int n = 0, used = atomic_load_explicit(&st->nmeasures, memory_order_acquire);
    for (int k = 0; k <= used && n < max; k++) {
        /* the published slots, then the overflow slot */
        struct steer_measure_slot *m = &st->measures[k < used ? k : STEER_MAX_MEASURES];
        uint64_t reports = atomic_load_explicit(&m->reports, memory_order_relaxed);
        if (!reports)
            continue;
        snprintf(out[n].pathway, sizeof(out[n].pathway), "%s", m->pathway);
        out[n].reports = reports;
        out[n].sum_bps = (double)atomic_load_explicit(&m->sum_bps, memory_order_relaxed);
        out[n].last_bps = (double)atomic_load_explicit(&m->last_bps, memory_order_relaxed);
        n++;
    }
    return n;
}

/* Writes a problem line into out and sets the status. */
static void answer_status(struct steer_answer *ans, int status, struct oc_buf *out,
                          const char *reason)
{
    ans->status = status;
    oc_buf_puts(out, reason); /* short and constant: only a tiny buffer could refuse it */
}

/* Fills a missing session with a random token (the RELOAD-URI carries it from then on). */
static void ensure_session(struct steer_query *q)
{
    unsigned char r[8];
    if (q->session[0])
        return;
    randombytes_buf(r, sizeof(r));
    for (int i = 0; i < 8; i++)
        snprintf(q->session + 2 * i, 3, "%02x", r[i]);
}

/* Checks the request before evaluation: 0 to proceed, 1 when it is already answered. */
static int answer_check(struct steer *st, const char *asset, int qrc, struct oc_buf *out,
                        struct steer_answer *ans)
{
    if (!rate_take(st)) {
        ans->retry_after_s = 1;
        st->rejected[2]++;
        answer_status(ans, 429, out, "steering request rate over the cap");
        return 1;
    }
    if (!steer_id_valid(asset) || strcmp(asset, ".") == 0 || strcmp(asset, "..") == 0) {
        st->rejected[0]++;
        answer_status(ans, 400, out, "asset: 1-64 of [A-Za-z0-9._-]");
        return 1;
    }
    if (qrc) {
        st->rejected[0]++;
        answer_status(ans, 400, out,
                      qrc == OC_ETOOBIG ? "query too long" : "malformed steering query");
        return 1;
    }
    return 0;
}

int steer_answer(struct steer *st, enum steer_proto proto, const char *asset, const char *qs,
                 size_t qslen, const struct steer_client *client, struct oc_buf *out,
                 struct steer_answer *ans)
{
    struct steer_query q;
    int qrc = steer_query_parse(qs ? qs : "", qs ? qslen : 0, &q);
    memset(ans, 0, sizeof(*ans));
    int rc = 0;
    if (answer_check(st, asset, qrc, out, ans))
        return 0;
    if (!q.region[0] && client && client->region && steer_id_valid(client->region))
        snprintf(q.region, sizeof(q.region), "%s", client->region);
    if (st->geo && client && client->addr && (!q.region[0] || !q.country[0] || !q.asn[0]))
        steer_geo_fill(st->geo, client->addr, &q);
    record_measures(st, &q);
    ensure_session(&q);
    pthread_rwlock_rdlock(&st->lock);
    if (!st->pol || st->pol->npathways == 0) {
        ans->retry_after_s = 5;
        answer_status(ans, 503, out, "no steering policy is configured");
        st->rejected[3]++;
    } else if (steer_policy_retired(st->pol, asset)) {
        answer_status(ans, 410, out, "the asset is retired");
        st->rejected[1]++;
    } else {
        const struct steer_rule *r = steer_policy_eval(st->pol, &q);
        rc = steer_policy_render(st->pol, r, asset, &q, out);
        ans->status = 200;
        st->served[proto == STEER_DASH]++;
    }
    pthread_rwlock_unlock(&st->lock);
    return rc;
}

void steer_metrics_write(struct oc_buf *b, void *arg)
{
    struct steer *st = arg;
    static const char *const reasons[] = {"bad_request", "retired", "overload", "no_policy"};
    struct steer_measure m[STEER_MAX_MEASURES + 1];
    int n = steer_measures(st, m, STEER_MAX_MEASURES + 1);
    oc_metrics_family(b, "oncue_steer_requests_total", "counter",
                      "steering manifests served, by protocol");
    for (int i = 0; i < 2; i++) {
        const char *l[] = {"protocol", i ? "dash" : "hls", NULL};
        oc_metrics_sample(b, "oncue_steer_requests_total", l, (double)st->served[i]);
    }
    oc_metrics_family(b, "oncue_steer_rejected_total", "counter",
                      "steering requests answered with an error, by reason");
    for (int i = 0; i < 4; i++) {
        const char *l[] = {"reason", reasons[i], NULL};
        oc_metrics_sample(b, "oncue_steer_rejected_total", l, (double)st->rejected[i]);
    }
    if (st->geo) {
        uint64_t found, missed;
        steer_geo_counts(st->geo, &found, &missed);
        oc_metrics_family(b, "oncue_steer_geoip_lookups_total", "counter",
                          "MaxMind lookups of steering clients, by whether a database knew them");
        const char *lf[] = {"result", "found", NULL}, *lm[] = {"result", "not_found", NULL};
        oc_metrics_sample(b, "oncue_steer_geoip_lookups_total", lf, (double)found);
        oc_metrics_sample(b, "oncue_steer_geoip_lookups_total", lm, (double)missed);
    }
    /* a summary without quantiles: _count reports, _sum their throughputs (mean = sum/count) */
    oc_metrics_family(b, "oncue_steer_throughput_bytes_per_second", "summary",
                      "throughputs reported by players, by pathway");
    for (int i = 0; i < n; i++) {
        const char *l[] = {"pathway", m[i].pathway, NULL};
        oc_metrics_sample(b, "oncue_steer_throughput_bytes_per_second_sum", l, m[i].sum_bps / 8);
        oc_metrics_sample(b, "oncue_steer_throughput_bytes_per_second_count", l,
                          (double)m[i].reports);
    }
    oc_metrics_family(b, "oncue_steer_throughput_last_bytes_per_second", "gauge",
                      "latest reported throughput, by pathway");
    for (int i = 0; i < n; i++) {
        const char *l[] = {"pathway", m[i].pathway, NULL};
        oc_metrics_sample(b, "oncue_steer_throughput_last_bytes_per_second", l, m[i].last_bps / 8);
    }
}

static int flag_match(const struct steer_flag *f, const char *player, const char *version,
                      const char *device, const char *region)
{
    return (!f->player[0] || (player && strcmp(f->player, player) == 0)) &&
           (!f->player_version[0] || (version && strcmp(f->player_version, version) == 0)) &&
           (!f->device[0] || (device && strcmp(f->device, device) == 0)) &&
           (!f->region[0] || (region && strcmp(f->region, region) == 0));
}

int steer_flag_value(struct steer *st, const char *name, const char *player,
                     const char *player_version, const char *device, const char *region)
{
    int v = -1;
    pthread_rwlock_rdlock(&st->lock);
    for (int i = 0; st->pol && i < st->pol->nflags && v < 0; i++) {
        const struct steer_flag *f = &st->pol->flags[i];
        if (strcmp(f->name, name) == 0 && flag_match(f, player, player_version, device, region))
            v = f->on;
    }
    pthread_rwlock_unlock(&st->lock);
    return v;
}

json_t *steer_flags_eval(struct steer *st, const char *player, const char *player_version,
                         const char *device, const char *region)
{
    json_t *o = json_object();
    pthread_rwlock_rdlock(&st->lock);
    for (int i = 0; st->pol && i < st->pol->nflags; i++) {
        const struct steer_flag *f = &st->pol->flags[i];
        if (json_object_get(o, f->name) || !flag_match(f, player, player_version, device, region))
            continue;
        json_object_set_new(o, f->name, json_boolean(f->on));
    }
    pthread_rwlock_unlock(&st->lock);
    return o;
}
