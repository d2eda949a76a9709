/*
 * engine.c - rule evaluation over closed minutes. Each closed minute is evaluated once, in
 * order: per rule, one QoE query (plus one for concurrent viewers when min_viewers is set)
 * gives each group's value; a per-(rule, group) state counts consecutive breaching minutes
 * (fire when they cover `for`) and, while firing, consecutive clear minutes (resolve when
 * they cover clear_for). "at" is the end of the evaluated minute, so tick times never change
 * the events. Thread-safe: one mutex around the states.
 */
#include "alert/alert_int.h"
#include "core/lock.h"
#include "core/topics.h"
#include "core/alloc.h"
#include "core/bus.h"
#include "core/err.h"
#include "core/log.h"
#include "qoe/qoe.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_MAX 512 /* bytes of a group key "region=EMEA,cdn=primary" */

struct gstate {
    int rule;            /* index in rules */
    char key[KEY_MAX];   /* group key; "all" without group_by */
    json_t *slice;       /* filter plus the group's values; owned */
    int held;            /* consecutive breaching minutes */
    int64_t since;       /* start of the first of them */
    int cleared;         /* consecutive clear minutes while firing */
    int firing;          /* alert.fired published, alert.resolved not yet */
    int64_t fired_since; /* since of the firing */
    int64_t seen;        /* last minute the group had a value */
    double value;        /* its value then */
};

struct alert_engine {
    const struct alert_rules *rules; /* borrowed */
    const struct slo_set *slos;      /* borrowed */
    struct oc_bus *bus;              /* borrowed, may be NULL */
    struct store *st;                /* borrowed, may be NULL */
    pthread_mutex_t mu;
    int64_t next; /* next minute to evaluate; 0: not started */
    int nstates;
    struct gstate *states;   /* ALERT_MAX_STATES */
    struct alert_burn *burn; /* burn-rate cache; owned */
};

struct alert_engine *alert_engine_new(const struct alert_rules *rules, const struct slo_set *slos,
                                      struct oc_bus *bus, struct store *st)
{
    struct alert_engine *e = oc_calloc(1, sizeof(*e));
    e->rules = rules;
    e->slos = slos;
    e->bus = bus;
    e->st = st;
    e->states = oc_calloc(ALERT_MAX_STATES, sizeof(*e->states));
    e->burn = alert_burn_new(slos);
    pthread_mutex_init(&e->mu, NULL);
    return e;
}

void alert_engine_destroy(struct alert_engine *e)
{
    if (!e)
        return;
    for (int i = 0; i < e->nstates; i++)
        json_decref(e->states[i].slice);
    pthread_mutex_destroy(&e->mu);
    alert_burn_destroy(e->burn);
    free(e->states);
    free(e);
}

void alert_engine_start_at(struct alert_engine *e, int64_t minute)
{
    oc_lock(&e->mu);
    e->next = minute - minute % 60;
    oc_unlock(&e->mu);
}

void alert_emit(struct oc_bus *bus, struct store *st, const char *topic, const json_t *payload)
{
    if (st && alert_store_record(st, topic, payload) != 0)
        oc_log(OC_LOG_ERROR, "alert: cannot record %s", topic);
    if (bus)
        oc_bus_publish(bus, topic, payload);
}

static json_t *payload(const struct alert_rule *r, const struct gstate *g, int64_t at)
{
    char id[SLO_NAME_MAX + KEY_MAX + 2], summary[SLO_TEXT_MAX + KEY_MAX + 64], now[32];
    const char *unit = r->kind == ALERT_BURN_RATE ? "x burn" : "";
    snprintf(id, sizeof(id), "%s/%s", r->name, g->key);
    /* a group that lost its traffic has no value: it says so rather than "nan" */
    if (isnan(g->value))
        snprintf(now, sizeof(now), "no data");
    else
        snprintf(now, sizeof(now), "now %.4g", g->value);
    if (r->summary[0])
        snprintf(summary, sizeof(summary), "%s (%s)", r->summary, g->key);
    else
        snprintf(summary, sizeof(summary), "%s %s %g%s for %lldm in %s (%s)",
                 qoe_metrics[r->metric].name, r->op == SLO_OP_GT ? ">" : "<", r->threshold, unit,
                 (long long)(r->for_s / 60), g->key, now);
    struct oc_ev_alert ev = {.alert_id = id,
                             .rule = r->name,
                             .metric = qoe_metrics[r->metric].name,
                             .level = alert_level_names[r->level],
                             .source = "oncue",
                             .kind = r->kind == ALERT_BURN_RATE ? "burn_rate" : "threshold",
                             .op = r->op == SLO_OP_GT ? ">" : "<",
                             .summary = summary,
                             .slice = g->slice,
                             .value = g->value,
                             .threshold = r->threshold,
                             .window_s = r->for_s,
                             .since = g->fired_since,
                             .at = at};
    return oc_ev_alert_build(&ev);
}

static void publish(struct alert_engine *e, const char *topic, const struct gstate *g, int64_t at)
{
    json_t *p = payload(&e->rules->rules[g->rule], g, at);
    alert_emit(e->bus, e->st, topic, p);
    json_decref(p);
}

/* The state of (rule, key), created when create is set; NULL when absent or full. */
static struct gstate *state(struct alert_engine *e, int rule, const char *key, int create)
{
    for (int i = 0; i < e->nstates; i++)
        if (e->states[i].rule == rule && strcmp(e->states[i].key, key) == 0)
            return &e->states[i];
    if (!create)
        return NULL;
    for (int i = 0; e->nstates == ALERT_MAX_STATES && i < e->nstates; i++)
        if (!e->states[i].firing && !e->states[i].held) { /* recycle an idle one */
            json_decref(e->states[i].slice);
            e->states[i] = e->states[--e->nstates];
            i--;
        }
    if (e->nstates == ALERT_MAX_STATES) {
        oc_log(OC_LOG_WARN, "alert: more than %d groups tracked; %s ignored", ALERT_MAX_STATES,
               key);
        return NULL;
    }
    struct gstate *g = &e->states[e->nstates++];
    memset(g, 0, sizeof(*g));
    g->rule = rule;
    snprintf(g->key, sizeof(g->key), "%s", key);
    return g;
}

/* Advances g by minute t: breach or clear (both 0: in the hysteresis band). streak >= 0
 * replaces the count of breaching minutes ending with t, as re-read from the cube (minutes
 * revised by late events count as revised); -1 counts on from the previous minute. */
static int step_streak(struct alert_engine *e, struct gstate *g, int64_t t, int breach, int clear,
                       int streak)
{
    const struct alert_rule *r = &e->rules->rules[g->rule];
    if (streak >= 0 && !g->firing) {
        g->held = streak;
        g->since = t - 60LL * (streak - 1);
    } else if (breach) {
        if (g->held++ == 0)
            g->since = t;
    } else {
        g->held = 0;
    }
    if (!g->firing) {
        int64_t need = r->for_s < 60 ? 60 : r->for_s;
        if (g->held * 60LL < need)
            return 0;
        g->firing = 1;
        g->cleared = 0;
        g->fired_since = g->since;
        publish(e, OC_TOPIC_ALERT_FIRED, g, t + 60);
        return 1;
    }
    g->cleared = clear ? g->cleared + 1 : 0;
    if (g->cleared * 60LL < r->clear_for_s)
        return 0;
    g->firing = 0;
    g->held = 0;
    g->cleared = 0;
    publish(e, OC_TOPIC_ALERT_RESOLVED, g, t + 60);
    return 1;
}

static int step(struct alert_engine *e, struct gstate *g, int64_t t, int breach, int clear)
{
    return step_streak(e, g, t, breach, clear, -1);
}

static int breaches(enum slo_op op, double v, double line)
{
    return op == SLO_OP_GT ? v > line : v < line;
}

static int clears(enum slo_op op, double v, double line)
{
    return op == SLO_OP_GT ? v < line : v > line;
}

/* The group key and slice of series i of r (filter terms plus the group's values). */
static json_t *group_of(const struct alert_rule *r, const struct qoe_result *res, int i, char *key,
                        size_t keylen)
{
    json_t *slice = json_object();
    size_t off = 0;
    key[0] = 0;
    for (int k = 0; k < r->nfilters; k++)
        json_object_set_new(slice, beacon_dim_names[r->filters[k].dim],
                            json_string(r->filters[k].value));
    for (int k = 0; k < r->ngroup; k++) {
        const char *v = res ? res->series[i].values[k] : "";
        json_object_set_new(slice, beacon_dim_names[r->group_by[k]], json_string(v));
        int n = snprintf(key + off, keylen - off, "%s%s=%s", k ? "," : "",
                         beacon_dim_names[r->group_by[k]], v);
        off = n > 0 && (size_t)n < keylen - off ? off + (size_t)n : keylen - 1;
    }
    if (!r->ngroup)
        snprintf(key, keylen, "all");
    return slice;
}

/* The query of rule r's groups, minute by minute, from minute `from` to the evaluated one. */
static void query_init(const struct alert_rule *r, struct qoe_query *q, int metric, int64_t from,
                       int64_t t)
{
    memset(q, 0, sizeof(*q));
    q->metric = (enum qoe_metric)metric;
    q->from = from;
    q->to = t + 60;
    q->step = 60;
    q->top = QOE_MAX_TOP;
    for (int i = 0; i < r->nfilters; i++)
        q->filters[q->nfilters++] = (struct qoe_filter){r->filters[i].dim, r->filters[i].value};
    q->ngroup = r->ngroup;
    memcpy(q->group_by, r->group_by, sizeof(q->group_by));
}

/* The volume (concurrent viewers, or starts) at point k of the group of series i of res in
 * vol (matched by values). */
static double volume_of(const struct alert_rule *r, const struct qoe_result *res, int i,
                        const struct qoe_result *vol, int k)
{
    for (int j = 0; vol && j < vol->nseries; j++) {
        int same = 1;
        for (int d = 0; same && d < r->ngroup; d++)
            same = strcmp(res->series[i].values[d], vol->series[j].values[d]) == 0;
        if (same) {
            double n = qoe_point(vol, j, k);
            return isnan(n) ? 0 : n;
        }
    }
    return 0;
}

/* What a share's noise_z counts as its sample: the starts a start share (vsf_rate,
 * ebvs_rate) is of, else the concurrent viewers. */
static enum qoe_metric sample_metric(const struct alert_rule *r)
{
    return qoe_metrics[r->metric].den == QOE_COL_STARTS ? QOE_PLAYS : QOE_CONCURRENT;
}

/* The threshold a group of n viewers (or starts) must cross: with noise_z, the band's edge
 * moved out by noise_z standard deviations of a share measured over n (binomial at the edge),
 * so a slice of 270 viewers must show 5.1% rebuffering against a 3% band (z = 2), one of
 * 27,000 viewers 3.2%; a player version with 5 starts in the minute 37% start failures
 * against a 10% band, one with 500 starts 12.7%. */
static double noisy_threshold(const struct alert_rule *r, double n)
{
    double p = r->threshold;
    if (r->noise_z <= 0 || !(n > 0) || p <= 0 || p >= 1)
        return p;
    double sd = sqrt(p * (1 - p) / n);
    return r->op == SLO_OP_GT ? p + r->noise_z * sd : p - r->noise_z * sd;
}

static int eval_threshold(struct alert_engine *e, int ri, struct qoe_cube *c, int64_t t)
{
    const struct alert_rule *r = &e->rules->rules[ri];
    struct qoe_query q;
    struct qoe_result *res = NULL, *vol = NULL, *samp = NULL;
    char err[256], key[KEY_MAX];
    int rc, n = 0, by_starts = r->noise_z > 0 && sample_metric(r) == QOE_PLAYS;
    /* the rule's whole window is read again each minute, so a minute revised by late events
     * after it was first evaluated counts as revised in every window still open over it */
    int win = r->for_s > 60 ? (int)((r->for_s + 59) / 60) : 1;
    query_init(r, &q, r->metric, t - 60LL * (win - 1), t);
    rc = qoe_query_run(c, &q, &res, err, sizeof(err));
    if (rc == 0 && (r->min_viewers > 0 || (r->noise_z > 0 && !by_starts))) {
        query_init(r, &q, QOE_CONCURRENT, t - 60LL * (win - 1), t);
        rc = qoe_query_run(c, &q, &vol, err, sizeof(err));
    }
    if (rc == 0 && by_starts) {
        query_init(r, &q, QOE_PLAYS, t - 60LL * (win - 1), t);
        rc = qoe_query_run(c, &q, &samp, err, sizeof(err));
    }
    for (int i = 0; rc == 0 && i < res->nseries; i++) {
        int streak = 0, ok = 0, breach = 0;
        double v = NAN, bad = 0, starts = 0; /* a start share's streak, pooled */
        for (int k = 0; k < win && k < res->npoints; k++) {
            double viewers = vol ? volume_of(r, res, i, vol, k) : 0;
            v = qoe_point(res, i, k);
            ok = !isnan(v) && (r->min_viewers <= 0 || viewers >= r->min_viewers);
            breach =
                ok && breaches(r->op, v, by_starts ? r->threshold : noisy_threshold(r, viewers));
            streak = breach ? streak + 1 : 0;
            if (by_starts) { /* v is bad starts / starts: pool the streak's minutes */
                double m = volume_of(r, res, i, samp, k);
                bad = breach ? bad + v * m : 0;
                starts = breach ? starts + m : 0;
            }
        }
        /* A start share (vsf_rate, ebvs_rate) of a slice with few starts a minute would cross
         * its band for a few minutes by chance (one failure in five starts is 20%): the
         * streak's starts taken together must cross it by noise_z standard deviations. */
        if (by_starts && breach &&
            !(starts > 0 && breaches(r->op, bad / starts, noisy_threshold(r, starts))))
            breach = streak = 0;
        if (isnan(v)) /* no data in minute t: the loop below takes the group */
            continue;
        json_t *slice = group_of(r, res, i, key, sizeof(key));
        struct gstate *g = state(e, ri, key, breach);
        if (g) {
            if (!g->slice)
                g->slice = json_incref(slice);
            g->seen = t;
            g->value = v;
            n += step_streak(e, g, t, breach, !ok || clears(r->op, v, r->clear_threshold), streak);
        }
        json_decref(slice);
    }
    for (int i = 0; rc == 0 && i < e->nstates; i++) /* groups without data this minute */
        if (e->states[i].rule == ri && e->states[i].seen != t) {
            e->states[i].value = NAN;
            n += step(e, &e->states[i], t, 0, 1);
        }
    if (rc)
        oc_log(OC_LOG_ERROR, "alert: rule %s: %s", r->name, err);
    qoe_result_destroy(res);
    qoe_result_destroy(vol);
    qoe_result_destroy(samp);
    return rc ? rc : n;
}

static int eval_burn(struct alert_engine *e, int ri, struct qoe_cube *c, int64_t t)
{
    const struct alert_rule *r = &e->rules->rules[ri];
    const struct slo *s = slo_find(e->slos, r->slo);
    char key[KEY_MAX];
    double best = NAN;
    int breach = 0;
    if (!s) { /* its SLO went with a reload: a firing alert clears */
        json_t *none = group_of(r, NULL, 0, key, sizeof(key));
        struct gstate *g = state(e, ri, key, 0);
        json_decref(none);
        return g && g->firing ? step(e, g, t, 0, 1) : 0;
    }
    for (int i = 0; i < r->npairs; i++) {
        int64_t nl, ns;
        double bl = alert_burn_rate(e->burn, s, c, t + 60, r->pairs[i].long_s, &nl);
        double bs = alert_burn_rate(e->burn, s, c, t + 60, r->pairs[i].short_s, &ns);
        /* a pair speaks once the data spans its short window: a fresh server's first minute
         * (48 starts, one failure: a burn of 2) is not a 3-day trend */
        if (nl * 60 >= r->pairs[i].short_s && bl > r->pairs[i].factor && bs > r->pairs[i].factor)
            breach = 1;
        if (i == 0 || bl > best)
            best = bl;
    }
    json_t *slice = group_of(r, NULL, 0, key, sizeof(key));
    struct gstate *g = state(e, ri, key, breach);
    if (g && !g->slice)
        g->slice = json_incref(slice);
    json_decref(slice);
    if (!g)
        return 0;
    g->seen = t;
    g->value = best;
    return step(e, g, t, breach, !breach);
}

static int rule_index(const struct alert_rules *rules, const char *name)
{
    for (int i = 0; name && i < rules->n; i++)
        if (strcmp(rules->rules[i].name, name) == 0)
            return i;
    return -1;
}

int alert_eval_tick(struct alert_engine *e, struct qoe_cube *c, int64_t now_s)
{
    int64_t upto = slo_closed_upto(c, now_s);
    int n = 0, done = 0;
    oc_lock(&e->mu);
    slo_set_rdlock(e->slos); /* a SIGHUP may replace the SLOs; never in the middle of a tick */
    if (!e->next && upto > 0)
        e->next = upto - 60;
    while (e->next && e->next + 60 <= upto && done++ < ALERT_MAX_CATCHUP) {
        /* page-level rules first: when several fire on one minute, the most urgent opens the
         * incident (its slice routes it) and the others meet it */
        static const int order[] = {ALERT_PAGE, ALERT_NOTIFY, ALERT_BACKLOG};
        for (int l = 0; l < 3; l++)
            for (int i = 0; i < e->rules->n; i++) {
                if ((int)e->rules->rules[i].level != order[l])
                    continue;
                int rc = e->rules->rules[i].kind == ALERT_THRESHOLD
                             ? eval_threshold(e, i, c, e->next)
                             : eval_burn(e, i, c, e->next);
                n += rc > 0 ? rc : 0;
            }
        e->next += 60;
    }
    slo_set_unlock(e->slos);
    oc_unlock(&e->mu);
    return n;
}

int alert_engine_set_rules(struct alert_engine *e, const struct alert_rules *rules)
{
    int dropped = 0;
    oc_lock(&e->mu);
    for (int i = 0; i < e->nstates; i++) {
        struct gstate *g = &e->states[i];
        int ri = rule_index(rules, e->rules->rules[g->rule].name);
        if (ri >= 0) {
            g->rule = ri;
            continue;
        }
        /* its rule is gone: a firing alert resolves now, so its incident can recover */
        if (g->firing)
            publish(e, OC_TOPIC_ALERT_RESOLVED, g, e->next ? e->next : g->seen + 60);
        json_decref(g->slice);
        e->states[i--] = e->states[--e->nstates];
        dropped++;
    }
    e->rules = rules;
    oc_unlock(&e->mu);
    return dropped;
}

int alert_engine_restore(struct alert_engine *e, const json_t *payloads)
{
    size_t i;
    json_t *p;
    int n = 0;
    oc_lock(&e->mu);
    json_array_foreach(payloads, i, p)
    {
        const char *id = json_string_value(json_object_get(p, "alert_id"));
        int ri = rule_index(e->rules, json_string_value(json_object_get(p, "rule")));
        const char *slash = id ? strchr(id, '/') : NULL;
        struct gstate *g = ri >= 0 && slash ? state(e, ri, slash + 1, 1) : NULL;
        if (!g)
            continue;
        const struct alert_rule *r = &e->rules->rules[ri];
        json_decref(g->slice);
        g->slice = json_is_object(json_object_get(p, "slice"))
                       ? json_deep_copy(json_object_get(p, "slice"))
                       : json_object();
        g->firing = 1;
        g->held = (int)((r->for_s + 59) / 60);
        g->since = g->fired_since = json_integer_value(json_object_get(p, "since"));
        g->value = json_is_number(json_object_get(p, "value"))
                       ? json_number_value(json_object_get(p, "value"))
                       : NAN;
        n++;
    }
    oc_unlock(&e->mu);
    return n;
}

json_t *alert_engine_active(struct alert_engine *e)
{
    json_t *a = json_array();
    oc_lock(&e->mu);
    for (int i = 0; i < e->nstates; i++)
        if (e->states[i].firing)
            json_array_append_new(
                a, payload(&e->rules->rules[e->states[i].rule], &e->states[i], e->next));
    oc_unlock(&e->mu);
    return a;
}
