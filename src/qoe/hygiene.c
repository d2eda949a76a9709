/*
 * hygiene.c - what keeps junk out of the dimension dictionaries: closed lists, a budget of new
 * values per principal and minute, and ageing out values not seen for ingest.value_idle_s.
 *
 * An ingest token ships inside players, so anyone can send values. Without these a flood of
 * made-up titles fills a dimension's ingest.max_values_per_dim for good (the values are
 * stored and reloaded), and every real value that comes later folds into "other".
 *
 * - Closed lists (ingest.regions, ingest.cdns, or for either "steering": the steering
 *   policy's pathways, set by the module at start and at each steer.policy_changed): the
 *   listed values are interned and any other value of the dimension is "other" (the event is
 *   still counted). They never age. A value dropped from a list keeps its id and its past
 *   minutes, but new events with it count as "other".
 * - Budget: a value never seen before costs its sender (the request's principal: the token's
 *   or the public ingest key's name) one of ingest.new_values_per_minute for the current
 *   minute of the cube's clock. Past it the value is "other" for this event only: nothing is
 *   cached, so the same value from a principal with budget left gets its own id. The ledger is
 *   direct-mapped (BUDGET_SLOTS): two principals sharing a slot in one minute share a budget.
 * - Ageing (cube_sweep, once a minute of the cube's clock, on the main thread): a value whose
 *   newest minute (marked when a minute closes, and from the open minutes at each sweep) is
 *   older than ingest.value_idle_s is freed; the leaves naming it are rewritten to "other", so
 *   its past minutes count under "other" and its id never names two things in one answer; the
 *   per-thread caches are cleared by a new serial. The sweep holds dict_rw (resolution), mu
 *   (ingest) and rw (queries) exclusively, in that order, so no reader sees a half-rewritten
 *   leaf; a pointer to a value's bytes taken before stays in bounds (dict.h).
 */
#include "qoe/qoe_int.h"
#include "qoe/minute.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SWEEP_EVERY_S 60 /* seconds of the cube's clock between two sweeps */

/* Calls fn(c, d, value, length, arg) for each value of the comma-separated list (blanks
 * around a value trimmed, empty values skipped); stops at the first non-zero return. */
static int each_listed(struct qoe_cube *c, int d, const char *list,
                       int (*fn)(struct qoe_cube *, int, const char *, size_t, void *), void *arg)
{
    for (const char *p = list; p && *p;) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        const char *s = p;
        while (n && (*s == ' ' || *s == '\t'))
            s++, n--;
        while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
            n--;
        int rc = n ? fn(c, d, s, n, arg) : 0;
        if (rc)
            return rc;
        p = e ? e + 1 : NULL;
    }
    return 0;
}

static int check_one(struct qoe_cube *c, int d, const char *s, size_t n, void *arg)
{
    (void)c, (void)d, (void)s, (void)arg;
    return n > QOE_MAX_DIM_VALUE ? OC_EINVAL : 0;
}

/* Interns a listed value and marks it listed (mu held). */
static int intern_one(struct qoe_cube *c, int d, const char *s, size_t n, void *arg)
{
    (void)arg;
    int folded = 0;
    uint32_t id =
        dict_value_intern(&c->vals[d], s, (uint32_t)n, oc_clock_now_ms(c->clock) / 1000, &folded);
    if (folded)
        return OC_ETOOBIG;
    c->listed[d][id] = 1;
    return 0;
}

/* Marks a listed value seen at *(int64_t *)arg: a listed value never ages out (mu held). */
static int pin_one(struct qoe_cube *c, int d, const char *s, size_t n, void *arg)
{
    uint32_t id;
    if (dict_value_find(&c->vals[d], s, n, &id) == 0)
        c->vals[d].seen[id] = *(const int64_t *)arg;
    return 0;
}

int qoe_cube_set_closed(struct qoe_cube *c, int d, const char *list, const char *setting, char *err,
                        size_t errlen)
{
    if (d != BEACON_REGION && d != BEACON_CDN)
        return OC_EINVAL;
    if (each_listed(c, d, list, check_one, NULL) != 0) {
        snprintf(err, errlen, "%s: a value is longer than %d bytes", setting, QOE_MAX_DIM_VALUE);
        return OC_EINVAL;
    }
    pthread_rwlock_wrlock(&c->dict_rw); /* no batch resolves while the list changes */
    pthread_mutex_lock(&c->mu);
    if (!c->listed[d])
        c->listed[d] = oc_calloc(c->vals[d].max, 1);
    memset(c->listed[d], 0, c->vals[d].max);
    c->listed[d][0] = c->listed[d][1] = 1; /* "unknown" and "other" */
    int rc = each_listed(c, d, list, intern_one, NULL);
    free(c->list[d]);
    c->list[d] = list && *list ? oc_strdup(list) : NULL;
    c->closed[d] = c->list[d] != NULL;
    c->serial = cube_new_serial(); /* cached ids of values no longer listed are stale */
    pthread_mutex_unlock(&c->mu);
    pthread_rwlock_unlock(&c->dict_rw);
    if (rc)
        snprintf(err, errlen, "%s: more values than ingest.max_values_per_dim", setting);
    return rc ? OC_EINVAL : 0;
}

int qoe_cube_close_lists(struct qoe_cube *c, char *err, size_t errlen)
{
    const char *cdns = c->o.closed_cdns; /* "steering": the module sets it from the policy */
    const char *regions = c->o.closed_regions;
    int rc = 0;
    if (!(regions && strcmp(regions, QOE_CLOSED_FROM_STEERING) == 0))
        rc = qoe_cube_set_closed(c, BEACON_REGION, regions, "ingest.regions", err, errlen);
    if (rc == 0 && !(cdns && strcmp(cdns, QOE_CLOSED_FROM_STEERING) == 0))
        rc = qoe_cube_set_closed(c, BEACON_CDN, cdns, "ingest.cdns", err, errlen);
    return rc;
}

/* 1 when principal may add one more value to dimension d this minute (and counts it), else 0
 * (mu held). */
static int budget_take(struct qoe_cube *c, uint64_t principal, int d, int64_t minute)
{
    principal = qoe_hash(&principal, sizeof principal, (uint64_t)d + 1) | 1;
    struct cube_budget *b = &c->budget[principal % BUDGET_SLOTS];
    if (b->minute != minute || (b->who != principal && b->used == 0)) {
        b->minute = minute;
        b->who = principal;
        b->used = 0;
    }
    if (b->used >= c->o.new_values_per_minute)
        return 0;
    b->used++;
    return 1;
}

uint32_t cube_value_intern(struct qoe_cube *c, int d, const char *s, uint32_t n, uint64_t principal,
                           int *why)
{
    struct dict_values *v = &c->vals[d];
    uint32_t id;
    *why = INTERN_OK;
    if (!s)
        return 0;
    if (dict_value_find(v, s, n, &id) == 0) {
        if (c->closed[d] && !c->listed[d][id]) { /* known, but no longer listed */
            *why = INTERN_FOLDED;
            return 1;
        }
        return id;
    }
    int64_t now_s = oc_clock_now_ms(c->clock) / 1000;
    int folded = 0;
    if (c->closed[d]) {
        *why = INTERN_FOLDED;
        return 1;
    }
    if (n > QOE_MAX_DIM_VALUE || dict_values_full(v)) {
        *why = INTERN_FOLDED;
        return 1;
    }
    if (principal && !budget_take(c, principal, d, now_s / 60)) {
        *why = INTERN_REFUSED;
        return 1;
    }
    id = dict_value_intern(v, s, n, now_s, &folded);
    if (folded)
        *why = INTERN_FOLDED;
    return id;
}

/* Marks the values of leaf seen at t in events more events (mu held). */
static void mark_leaf(struct qoe_cube *c, uint32_t leaf, int64_t t, uint64_t events)
{
    const uint32_t *dims = c->leaves.dims + (size_t)leaf * BEACON_NDIMS;
    for (int d = 0; d < BEACON_NDIMS; d++) {
        struct dict_values *v = &c->vals[d];
        uint32_t id = dims[d];
        if (v->seen[id] < t)
            v->seen[id] = t;
        v->events[id] =
            v->events[id] + events > UINT32_MAX ? UINT32_MAX : (uint32_t)(v->events[id] + events);
    }
}

void cube_mark_seen(struct qoe_cube *c, const struct qoe_minute *cm)
{
    for (uint32_t i = 0; i < cm->nrows; i++)
        mark_leaf(c, cm->leaf[i], cm->t,
                  (uint64_t)cm->starts[i] + cm->hb_sessions[i] +
                      (cm->edge_req ? cm->edge_req[i] : 0));
}

struct junk {
    int64_t seen;
    uint32_t id;
};

static int junk_cmp(const void *a, const void *b)
{
    const struct junk *x = a, *y = b;
    return x->seen < y->seen ? -1 : x->seen > y->seen ? 1 : x->id < y->id ? -1 : x->id > y->id;
}

/* Marks in *gone (allocated if NULL) the junk of dimension d to free so that a reserve of ids
 * (a hundredth of the cap, at least 16) is free: values seen in at most junk_max_events
 * events and idle junk_idle_s, least recently seen first (mu held). Returns how many. */
static int pick_junk(struct qoe_cube *c, int d, uint8_t **gonep, uint32_t already, int64_t now_s)
{
    struct dict_values *v = &c->vals[d];
    uint32_t n = atomic_load(&v->n), reserve = v->max / 100 > 16 ? v->max / 100 : 16;
    uint32_t room = v->nfree + (v->max - n) + already;
    if (room >= reserve)
        return 0;
    if (!*gonep)
        *gonep = oc_calloc(n, 1);
    uint8_t *gone = *gonep;
    struct junk *j = oc_malloc((size_t)n * sizeof *j);
    uint32_t nj = 0;
    for (uint32_t id = 2; id < n; id++)
        if (!v->isfree[id] && !gone[id] && v->events[id] <= c->o.junk_max_events &&
            v->seen[id] + c->o.junk_idle_s <= now_s && (!c->persist || id < c->saved_values[d]))
            j[nj++] = (struct junk){v->seen[id], id};
    qsort(j, nj, sizeof *j, junk_cmp);
    uint32_t take = reserve - room < nj ? reserve - room : nj;
    for (uint32_t i = 0; i < take; i++)
        gone[j[i].id] = 1;
    free(j);
    return (int)take;
}

int cube_sweep(struct qoe_cube *c, int64_t now_s, int force)
{
    int aged = 0;
    if (!force && c->last_sweep_s != INT64_MIN && now_s < c->last_sweep_s + SWEEP_EVERY_S)
        return 0;
    pthread_rwlock_wrlock(&c->dict_rw);
    pthread_mutex_lock(&c->mu);
    c->last_sweep_s = now_s;
    for (int i = 0; i < c->nopen; i++)
        for (uint32_t k = 0; c->open[i].used && k < c->open[i].nacc; k++)
            mark_leaf(c, c->open[i].acc[k].leaf, c->open[i].t, 0);
    each_listed(c, BEACON_REGION, c->list[BEACON_REGION], pin_one, &now_s);
    each_listed(c, BEACON_CDN, c->list[BEACON_CDN], pin_one, &now_s);
    uint8_t *gone[BEACON_NDIMS] = {0};
    for (int d = 0; d < BEACON_NDIMS; d++) {
        struct dict_values *v = &c->vals[d];
        uint32_t n = atomic_load(&v->n), nd = 0;
        for (uint32_t id = 2; id < n; id++) {
            if (v->isfree[id])
                continue;
            if (v->seen[id] == 0) /* loaded without a time: the period starts now */
                v->seen[id] = now_s;
            /* values the store has not heard of yet stay (persist.c writes [saved, n)) */
            if (v->seen[id] + c->o.value_idle_s > now_s || (c->persist && id >= c->saved_values[d]))
                continue;
            if (!gone[d])
                gone[d] = oc_calloc(n, 1);
            gone[d][id] = 1;
            nd++;
        }
        nd += (uint32_t)pick_junk(c, d, &gone[d], nd, now_s);
        aged += (int)nd;
    }
    if (aged) {
        pthread_rwlock_wrlock(&c->rw);
        uint32_t nl = atomic_load(&c->leaves.n);
        for (uint32_t l = 1; l < nl; l++) {
            uint32_t *dims = c->leaves.dims + (size_t)l * BEACON_NDIMS;
            int changed = 0;
            for (int d = 0; d < BEACON_NDIMS; d++)
                if (gone[d] && gone[d][dims[d]]) {
                    dims[d] = 1;
                    changed = 1;
                }
            if (changed && c->persist &&
                l < c->saved_leaves) { /* the store's copy is rewritten too */
                c->swept_leaves = oc_grow(c->swept_leaves, &c->capswept_leaves,
                                          c->nswept_leaves + 1, sizeof *c->swept_leaves);
                c->swept_leaves[c->nswept_leaves++] = l;
            }
        }
        for (int d = 0; d < BEACON_NDIMS; d++) {
            struct dict_values *v = &c->vals[d];
            for (uint32_t id = 2; gone[d] && id < atomic_load(&v->n); id++)
                if (gone[d][id]) {
                    dict_value_free(v, id);
                    c->st.values_aged[d]++;
                    if (!c->persist)
                        continue;
                    c->swept_vals = oc_grow(c->swept_vals, &c->capswept_vals, c->nswept_vals + 1,
                                            sizeof *c->swept_vals);
                    c->swept_vals[c->nswept_vals++] = (uint64_t)d << 32 | id;
                }
            if (gone[d])
                dict_values_rehash(v);
        }
        dict_leaves_rehash(&c->leaves);
        c->serial = cube_new_serial(); /* every thread's cache is stale */
        pthread_rwlock_unlock(&c->rw);
    }
    pthread_mutex_unlock(&c->mu);
    pthread_rwlock_unlock(&c->dict_rw);
    for (int d = 0; d < BEACON_NDIMS; d++)
        free(gone[d]);
    if (aged)
        oc_log(OC_LOG_INFO, "qoe: %d dimension values aged out (idle, or junk in a full dimension)",
               aged);
    return aged;
}

int qoe_cube_sweep(struct qoe_cube *c, int64_t now_s)
{
    return cube_sweep(c, now_s, 0);
}
