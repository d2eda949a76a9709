/*
 * report.c - the business-impact reports over the stored tickets, the incidents (through
 * incident.h) and billing's cancellations (through billing.h): MTTA/MTTR by service, customer
 * segment and tier; SLA adherence by tier (first responses against the route's respond-by,
 * and availability against tickets.sla_targets with the accounts to compensate); tickets per
 * incident; churn after SEV1/SEV2 incidents against a baseline window. JSON or CSV
 * (GET /v1/tickets/reports/{name}); the formulas are in docs/internals/tickets.md.
 *
 * Runs on an HTTP worker: reads the store under its lock and the incidents under theirs,
 * never under the module's mutex.
 */
#include "tickets/tickets_int.h"
#include "tickets/sql.h"
#include "billing/billing.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/timefmt.h"
#include "http/http.h"
#include "incident/incident.h"
#include "qoe/accounts.h"
#include "qoe/qoe.h"
#include "rca/rca.h"
#include "store/store.h"

#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REP_INCIDENTS_MAX  20000  /* incidents one report reads */
#define REP_SEGS_MAX       16     /* distinct segments kept per incident */
#define REP_LINKED_MAX     50000  /* linked tickets with an account one report reads */
#define REP_ACCOUNTS_MAX   200000 /* accounts with a segment */
#define REP_CANCELS_MAX    100000 /* cancellations one report reads */
#define REP_SEG_LEN        32
#define REP_COMPENSATE_MAX 1000 /* accounts listed per tier */
#define DEFAULT_DAYS       90

/* Tiers in report order (premium first); "standard" also holds tickets of no known tier. */
static const char *const tiers[] = {"premium", "standard", "free"};
#define NTIERS 3

static int tier_index(const char *t)
{
    for (int i = 0; i < NTIERS; i++)
        if (t && strcmp(t, tiers[i]) == 0)
            return i;
    return 1;
}

/* One incident as the report sees it. */
struct rinc {
    int64_t id;
    int sev; /* 1..4 */
    char service[TICKETS_QUEUE_MAX];
    int64_t opened_s, acked_s, resolved_s; /* 0: not yet */
    int64_t tickets, vip;                  /* linked tickets, of them VIPs */
    int64_t first_ticket_ms;               /* the earliest linked ticket's arrival */
    int tiers;                             /* bit i: a linked ticket of tiers[i] */
    char segs[REP_SEGS_MAX][REP_SEG_LEN];  /* distinct segments of the linked tickets */
    int nsegs;
    int64_t seg_n[REP_SEGS_MAX]; /* tickets per segment */
    double affected;             /* viewers * affected share at peak (else declaration) */
};

/* One linked ticket's account. */
struct racct {
    int64_t incident;
    char account[TICKETS_ACCOUNT_MAX + 1];
    char segment[REP_SEG_LEN];
    int tier;
};

/* An account's latest segment (from its latest ticket). */
struct rseg {
    char account[TICKETS_ACCOUNT_MAX + 1];
    char segment[REP_SEG_LEN];
    int64_t order;
};

struct rcancel {
    char account[TICKETS_ACCOUNT_MAX + 1];
    int64_t at_ms;
};

struct rep {
    struct tickets_mod *m;
    int64_t from_s, to_s, now_s;
    struct rinc *inc; /* n, by id */
    int n;
    struct racct *acc; /* nacc */
    int nacc;
    struct rcancel *can; /* ncan, by time */
    int ncan, cancap;
    int truncated; /* a cap was reached: the report is partial */
};

static int cmp_inc(const void *a, const void *b)
{
    const struct rinc *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

static struct rinc *find_inc(struct rep *r, int64_t id)
{
    struct rinc key;
    key.id = id;
    return bsearch(&key, r->inc, (size_t)r->n, sizeof key, cmp_inc);
}

static int64_t opt_s(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

/* Reads the incidents declared in [from, to) (not test incidents, not merged ones): 0 or
 * OC_ENOTFOUND (no incident module). Their affected viewers come from their snapshots. */
static int load_incidents(struct rep *r)
{
    struct incident_mgr *im = incident_mgr_of(r->m->app);
    if (!im)
        return OC_ENOTFOUND;
    json_t *arr = incident_list_json(im, NULL), *o;
    size_t i;
    r->inc = oc_calloc(json_array_size(arr) + 1, sizeof *r->inc);
    json_array_foreach(arr, i, o)
    {
        int64_t opened = opt_s(o, "opened_at");
        if (json_is_true(json_object_get(o, "test")) ||
            json_is_string(json_object_get(o, "merged_into")) || opened < r->from_s ||
            opened >= r->to_s)
            continue;
        if (r->n >= REP_INCIDENTS_MAX) {
            r->truncated = 1;
            break;
        }
        struct rinc *c = &r->inc[r->n++];
        const char *sev = json_string_value(json_object_get(o, "severity")),
                   *svc = json_string_value(json_object_get(o, "service"));
        c->id = opt_s(o, "id");
        c->sev = sev && strlen(sev) == 4 && sev[3] >= '1' && sev[3] <= '4' ? sev[3] - '0' : 4;
        snprintf(c->service, sizeof c->service, "%s", svc && svc[0] ? svc : "(unrouted)");
        c->opened_s = opened;
        c->acked_s = opt_s(o, "acknowledged_at");
        c->resolved_s = opt_s(o, "resolved_at");
        c->affected = tickets_incident_affected(o);
    }
    json_decref(arr);
    if (r->n > 1) /* qsort must not see NULL, even for no rows */
        qsort(r->inc, (size_t)r->n, sizeof *r->inc, cmp_inc);
    return 0;
}

/* Adds the linked tickets to their incidents and keeps their accounts: 0 or OC_EDB. */
static int load_linked(struct rep *r)
{
    struct store *s = r->m->app->store;
    struct store_stmt *q = NULL;
    int rc = OC_EDB, st = STORE_DONE;
    r->acc = oc_calloc(1024, sizeof *r->acc);
    int cap = 1024;
    store_lock(s);
    if (store_prepare(s, TICKETS_SQL_REP_LINKED, &q) == 0) {
        while ((st = store_step(q)) == STORE_ROW) {
            struct rinc *c = find_inc(r, store_col_int(q, 0));
            if (!c)
                continue;
            const char *seg = store_col_text(q, 1), *tier = store_col_text(q, 2),
                       *acct = store_col_text(q, 4);
            int64_t at = store_col_int(q, 5);
            int ti = tier_index(tier);
            c->tickets++;
            c->vip += store_col_int(q, 3) != 0;
            c->tiers |= 1 << ti;
            if (!c->first_ticket_ms || at < c->first_ticket_ms)
                c->first_ticket_ms = at;
            char sg[REP_SEG_LEN];
            snprintf(sg, sizeof sg, "%s", seg && seg[0] ? seg : "(none)");
            int k;
            for (k = 0; k < c->nsegs && strcmp(c->segs[k], sg) != 0; k++)
                ;
            if (k == c->nsegs && c->nsegs < REP_SEGS_MAX)
                snprintf(c->segs[c->nsegs++], REP_SEG_LEN, "%s", sg);
            if (k < c->nsegs)
                c->seg_n[k]++;
            if (acct && acct[0]) {
                if (r->nacc >= REP_LINKED_MAX) {
                    r->truncated = 1;
                    continue;
                }
                if (r->nacc == cap) {
                    cap *= 2;
                    r->acc = oc_realloc(r->acc, (size_t)cap * sizeof *r->acc);
                }
                struct racct *a = &r->acc[r->nacc++];
                a->incident = c->id;
                snprintf(a->account, sizeof a->account, "%s", acct);
                snprintf(a->segment, sizeof a->segment, "%s", sg);
                a->tier = ti;
            }
        }
        if (st == STORE_DONE)
            rc = 0;
    }
    tickets_stmt_done(q);
    store_unlock(s);
    return rc;
}

/* --- small helpers for groups --- */

/* A group's sums (MTTA and MTTR). */
struct grp {
    char key[TICKETS_QUEUE_MAX];
    int64_t incidents, acked, resolved;
    double ack_s, res_s;
};

static struct grp *grp_of(struct grp **v, int *n, int *cap, const char *key)
{
    for (int i = 0; i < *n; i++)
        if (strcmp((*v)[i].key, key) == 0)
            return &(*v)[i];
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        *v = oc_realloc(*v, (size_t)*cap * sizeof **v);
    }
    struct grp *g = &(*v)[(*n)++];
    memset(g, 0, sizeof *g);
    snprintf(g->key, sizeof g->key, "%s", key);
    return g;
}

static void grp_add(struct grp *g, const struct rinc *c)
{
    g->incidents++;
    if (c->acked_s) {
        g->acked++;
        g->ack_s += (double)(c->acked_s - c->opened_s);
    }
    if (c->resolved_s) {
        g->resolved++;
        g->res_s += (double)(c->resolved_s - c->opened_s);
    }
}

static int cmp_grp(const void *a, const void *b)
{
    return strcmp(((const struct grp *)a)->key, ((const struct grp *)b)->key);
}

static json_t *mean_or_null(double sum, int64_t n)
{
    return n ? json_real(sum / (double)n) : json_null();
}

static json_t *grps_json(struct grp *v, int n, int sort)
{
    json_t *arr = json_array();
    if (sort)
        if (n > 1)
            qsort(v, (size_t)n, sizeof *v, cmp_grp);
    for (int i = 0; i < n; i++)
        json_array_append_new(arr, json_pack("{s:s, s:I, s:I, s:I, s:o, s:o}", "key", v[i].key,
                                             "incidents", (json_int_t)v[i].incidents,
                                             "acknowledged", (json_int_t)v[i].acked, "resolved",
                                             (json_int_t)v[i].resolved, "mtta_s",
                                             mean_or_null(v[i].ack_s, v[i].acked), "mttr_s",
                                             mean_or_null(v[i].res_s, v[i].resolved)));
    return arr;
}

/* The release incident c correlates with: the change that rca_changes_ranked puts first for
 * its service at its declaration (a change of the 6 hours before it, or stamped up to a
 * minute after), named "SERVICE@VERSION" (or "SERVICE KIND #ID" without a version) into key;
 * its id into *change (0 and "(no change)" when none was recorded). */
static void release_of(struct rep *r, const struct rinc *c, char *key, size_t n, int64_t *change)
{
    const char *svc = strcmp(c->service, "(unrouted)") == 0 ? NULL : c->service;
    json_t *ranked = rca_changes_ranked(r->m->app->store, c->opened_s, svc);
    const json_t *top = json_array_get(ranked, 0);
    *change = 0;
    snprintf(key, n, "(no change)");
    if (top) {
        const char *s = json_string_value(json_object_get(top, "service")),
                   *v = json_string_value(json_object_get(top, "version")),
                   *k = json_string_value(json_object_get(top, "kind"));
        *change = (int64_t)json_integer_value(json_object_get(top, "id"));
        if (v && v[0])
            snprintf(key, n, "%s@%s", s ? s : "", v);
        else
            snprintf(key, n, "%s %s #%lld", s ? s : "", k ? k : "change", (long long)*change);
    }
    json_decref(ranked);
}

/* MTTA and MTTR by service, by segment, by tier and by release. */
static json_t *rep_mttr(struct rep *r)
{
    struct grp *svc = NULL, *seg = NULL, *rel = NULL, tier[NTIERS + 1];
    int ns = 0, cs = 0, ng = 0, cg = 0, nr = 0, cr = 0;
    json_t *rel_changes = json_object(); /* release key -> the change ids under it */
    memset(tier, 0, sizeof tier);
    for (int i = 0; i < NTIERS; i++)
        snprintf(tier[i].key, sizeof tier[i].key, "%s", tiers[i]);
    snprintf(tier[NTIERS].key, sizeof tier[NTIERS].key, "(no tickets)");
    for (int i = 0; i < r->n; i++) {
        const struct rinc *c = &r->inc[i];
        grp_add(grp_of(&svc, &ns, &cs, c->service), c);
        for (int k = 0; k < c->nsegs; k++)
            grp_add(grp_of(&seg, &ng, &cg, c->segs[k]), c);
        if (!c->tickets)
            grp_add(grp_of(&seg, &ng, &cg, "(no tickets)"), c);
        for (int t = 0; t < NTIERS; t++)
            if (c->tiers & (1 << t))
                grp_add(&tier[t], c);
        if (!c->tickets)
            grp_add(&tier[NTIERS], c);
        char key[TICKETS_QUEUE_MAX];
        int64_t change;
        release_of(r, c, key, sizeof key, &change);
        grp_add(grp_of(&rel, &nr, &cr, key), c);
        json_t *ids = json_object_get(rel_changes, key);
        if (!ids)
            json_object_set_new(rel_changes, key, ids = json_array());
        int seen = 0;
        for (size_t k = 0; k < json_array_size(ids); k++)
            seen |= json_integer_value(json_array_get(ids, k)) == change;
        if (change && !seen)
            json_array_append_new(ids, json_integer(change));
    }
    json_t *by_rel = grps_json(rel, nr, 1), *row;
    size_t i;
    json_array_foreach(by_rel, i, row)
    {
        json_object_set(
            row, "changes",
            json_object_get(rel_changes, json_string_value(json_object_get(row, "key"))));
    }
    json_t *out = json_pack("{s:o, s:o, s:o, s:o}", "by_service", grps_json(svc, ns, 1),
                            "by_segment", grps_json(seg, ng, 1), "by_tier",
                            grps_json(tier, NTIERS + 1, 0), "by_release", by_rel);
    json_decref(rel_changes);
    free(svc);
    free(seg);
    free(rel);
    return out;
}

/* The union of the intervals [a, b) (n of them, sorted here by a) in seconds. */
struct ivl {
    int64_t a, b;
};
static int cmp_ivl(const void *x, const void *y)
{
    const struct ivl *p = x, *q = y;
    return p->a < q->a ? -1 : p->a > q->a;
}
static int64_t union_s(struct ivl *v, int n)
{
    int64_t sum = 0, ca = 0, cb = 0;
    if (n > 1)
        qsort(v, (size_t)n, sizeof *v, cmp_ivl);
    for (int i = 0; i < n; i++) {
        if (i == 0 || v[i].a > cb) {
            sum += cb - ca;
            ca = v[i].a;
            cb = v[i].b;
        } else if (v[i].b > cb) {
            cb = v[i].b;
        }
    }
    return n ? sum + (cb - ca) : 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* First responses by priority and availability by tier against tickets.sla_targets. */
static json_t *rep_sla(struct rep *r)
{
    struct tickets_mod *m = r->m;
    struct store *s = m->app->store;
    struct store_stmt *q = NULL;
    int64_t cnt[TICKETS_NPRIO + 1][4]; /* met, late, overdue, pending */
    int st = STORE_DONE;
    memset(cnt, 0, sizeof cnt);
    int64_t now_ms = r->now_s * 1000;
    store_lock(s);
    if (store_prepare(s, TICKETS_SQL_REP_RESPONSES, &q) == 0 &&
        STORE_BIND(q, STORE_INT(r->from_s * 1000), STORE_INT(r->to_s * 1000)) == 0) {
        while ((st = store_step(q)) == STORE_ROW) {
            int64_t rank = store_col_int(q, 0), by = store_col_int(q, 1),
                    resp = store_col_int(q, 2);
            if (rank < 1 || rank > TICKETS_NPRIO)
                rank = TICKETS_P_NORMAL;
            int k = resp ? (resp <= by ? 0 : 1) : (now_ms > by ? 2 : 3);
            cnt[rank][k]++;
        }
    }
    tickets_stmt_done(q);
    store_unlock(s);
    json_t *resp = json_array();
    for (int p = 1; p <= TICKETS_NPRIO; p++) {
        int64_t due = cnt[p][0] + cnt[p][1] + cnt[p][2];
        static const char *const tier_of_prio[] = {"", "vip", "premium", "standard", "free"};
        json_array_append_new(
            resp,
            json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:o}", "priority", tickets_prio_names[p],
                      "tier", tier_of_prio[p], "tickets", (json_int_t)(due + cnt[p][3]), "met",
                      (json_int_t)cnt[p][0], "late", (json_int_t)cnt[p][1], "overdue",
                      (json_int_t)cnt[p][2], "pending", (json_int_t)cnt[p][3], "adherence",
                      due ? json_real((double)cnt[p][0] / (double)due) : json_null()));
    }
    /* availability per tier: SEV1/SEV2 incidents that tickets of the tier were linked to */
    json_t *avail = json_array();
    int64_t span = r->to_s - r->from_s;
    struct ivl *iv = oc_calloc((size_t)r->n + 1, sizeof *iv);
    for (int t = 0; t < NTIERS; t++) {
        int ni = 0;
        json_t *incs = json_array(), *accts = json_array();
        for (int i = 0; i < r->n; i++) {
            const struct rinc *c = &r->inc[i];
            if (c->sev > 2 || !(c->tiers & (1 << t)))
                continue;
            int64_t b = c->resolved_s ? c->resolved_s : r->now_s;
            iv[ni].a = c->opened_s;
            iv[ni].b = b < r->to_s ? b : r->to_s;
            if (iv[ni].b > iv[ni].a)
                ni++;
            json_array_append_new(incs, json_integer(c->id));
        }
        int64_t down = union_s(iv, ni);
        double target = m->sla_target[t];
        double pct = span > 0 ? 100.0 * (1.0 - (double)down / (double)span) : 100.0;
        int met = pct >= target;
        if (!met) { /* the accounts of this tier on the incidents that spent the budget */
            char **v = oc_calloc((size_t)r->nacc + 1, sizeof *v);
            int nv = 0;
            for (int a = 0; a < r->nacc; a++) {
                const struct rinc *c = find_inc(r, r->acc[a].incident);
                if (r->acc[a].tier == t && c && c->sev <= 2)
                    v[nv++] = r->acc[a].account;
            }
            if (nv > 1)
                qsort(v, (size_t)nv, sizeof *v, cmp_str);
            for (int a = 0, listed = 0; a < nv && listed < REP_COMPENSATE_MAX; a++)
                if (a == 0 || strcmp(v[a], v[a - 1]) != 0) {
                    json_array_append_new(accts, json_string(v[a]));
                    listed++;
                }
            free(v);
        }
        json_array_append_new(avail,
                              json_pack("{s:s, s:f, s:f, s:I, s:I, s:b, s:o, s:o}", "tier",
                                        tiers[t], "target_pct", target, "availability_pct", pct,
                                        "downtime_s", (json_int_t)down, "allowed_downtime_s",
                                        (json_int_t)llround((1.0 - target / 100.0) * (double)span),
                                        "met", met, "incidents", incs, "compensate", accts));
    }
    free(iv);
    return json_pack("{s:o, s:o}", "response", resp, "availability", avail);
}

/* Tickets per incident: count, VIPs, segments, tickets per 1,000 affected viewers. */
static json_t *rep_incidents(struct rep *r)
{
    json_t *arr = json_array();
    for (int i = r->n - 1; i >= 0; i--) {
        const struct rinc *c = &r->inc[i];
        json_t *segs = json_object();
        for (int k = 0; k < c->nsegs; k++)
            json_object_set_new(segs, c->segs[k], json_integer(c->seg_n[k]));
        json_array_append_new(
            arr,
            json_pack(
                "{s:I, s:s, s:s, s:I, s:I, s:I, s:o, s:o, s:o}", "incident_id", (json_int_t)c->id,
                "severity", (const char *[]){"SEV1", "SEV2", "SEV3", "SEV4"}[c->sev - 1], "service",
                c->service, "opened_at", (json_int_t)c->opened_s, "tickets", (json_int_t)c->tickets,
                "vip", (json_int_t)c->vip, "segments", segs, "per_1000_affected",
                tickets_per_1000(c->tickets, c->affected), "first_ticket_after_s",
                c->tickets ? json_integer(c->first_ticket_ms / 1000 - c->opened_s) : json_null()));
    }
    return json_pack("{s:o}", "incidents", arr);
}

/* --- churn --- */

static void on_cancel(const char *account, int64_t at_ms, void *arg)
{
    struct rep *r = arg;
    if (r->ncan >= REP_CANCELS_MAX) {
        r->truncated = 1;
        return;
    }
    if (r->ncan == r->cancap) {
        r->cancap = r->cancap ? r->cancap * 2 : 64;
        r->can = oc_realloc(r->can, (size_t)r->cancap * sizeof *r->can);
    }
    snprintf(r->can[r->ncan].account, sizeof r->can[r->ncan].account, "%s", account);
    r->can[r->ncan++].at_ms = at_ms;
}

static int cmp_seg(const void *a, const void *b)
{
    const struct rseg *x = a, *y = b;
    int c = strcmp(x->account, y->account);
    return c ? c : (x->order < y->order ? -1 : x->order > y->order);
}

/* The segment of account (its latest ticket's), or "(unknown)". segs is sorted by account
 * then order. */
static const char *seg_of(const struct rseg *segs, int n, const char *account)
{
    int lo = 0, hi = n - 1, found = -1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2, c = strcmp(segs[mid].account, account);
        if (c == 0) {
            found = mid;
            lo = mid + 1; /* the last (latest) of equal accounts */
        } else if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    return found >= 0 ? segs[found].segment : "(unknown)";
}

/* 1 when account canceled in [a, b) ms. */
static int canceled_in(const struct rep *r, const char *account, int64_t a, int64_t b)
{
    for (int i = 0; i < r->ncan; i++)
        if (r->can[i].at_ms >= a && r->can[i].at_ms < b && strcmp(r->can[i].account, account) == 0)
            return 1;
    return 0;
}

/* Per-segment counts of one incident (or of the total). */
struct cseg {
    char seg[REP_SEG_LEN];
    int64_t affected, aff_after, aff_before, after, before;
};

static struct cseg *cseg_of(struct cseg *v, int *n, const char *seg)
{
    for (int i = 0; i < *n; i++)
        if (strcmp(v[i].seg, seg) == 0)
            return &v[i];
    if (*n >= 64)
        return NULL;
    memset(&v[*n], 0, sizeof v[*n]);
    snprintf(v[*n].seg, sizeof v[*n].seg, "%s", seg);
    return &v[(*n)++];
}

static json_t *rate(int64_t k, int64_t n)
{
    return n ? json_real((double)k / (double)n) : json_null();
}

static json_t *csegs_json(struct cseg *v, int n)
{
    json_t *arr = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(
            arr,
            json_pack("{s:s, s:I, s:I, s:I, s:o, s:o, s:I, s:I, s:I}", "segment", v[i].seg,
                      "affected_accounts", (json_int_t)v[i].affected, "affected_canceled_after",
                      (json_int_t)v[i].aff_after, "affected_canceled_baseline",
                      (json_int_t)v[i].aff_before, "affected_churn_after",
                      rate(v[i].aff_after, v[i].affected), "affected_churn_baseline",
                      rate(v[i].aff_before, v[i].affected), "canceled_after",
                      (json_int_t)v[i].after, "canceled_baseline", (json_int_t)v[i].before,
                      "change", (json_int_t)(v[i].after - v[i].before)));
    return arr;
}

/* Churn after each SEV1/SEV2 incident, per segment, against the window before it. */
void tickets_account_hmac(const char *key, const char *account, uint8_t out[32])
{
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)key, strlen(key));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)account, strlen(account));
    crypto_auth_hmacsha256_final(&st, out);
    sodium_memzero(&st, sizeof st);
}

static int cmp_h32(const void *a, const void *b)
{
    return memcmp(a, b, 32);
}

/* The viewers incident c touched, from the accounts beacons carried (account_hmac): the
 * accounts seen in its slice while it was open, those hurt there then (a failed start, an
 * error, a stall), how many of the hurt wrote a ticket linked to it, and how many of the hurt
 * canceled in the windows after and before t0 (billing's account ids hashed under
 * tickets.account_key). Null without the key, the ingest module or a viewer dimension in the
 * slice. */
static json_t *viewers_json(struct rep *r, const struct rinc *c, int64_t t0, int64_t w_ms)
{
    struct tickets_mod *m = r->m;
    struct qoe_accounts *acc = oc_app_find(m->app, QOE_PROVIDES_ACCOUNTS);
    struct qoe_cube *cube = qoe_cube_of(m->app);
    struct incident_mgr *im = incident_mgr_of(m->app);
    json_t *inc = NULL;
    if (!m->o.account_key || !m->o.account_key[0] || !acc || !cube || !im ||
        incident_get_json(im, c->id, &inc) != 0)
        return json_null();
    const json_t *slice = json_object_get(inc, "slice");
    int64_t end = c->resolved_s ? c->resolved_s * 1000 + 1000 : r->now_s * 1000 + 1000;
    uint8_t(*hurt)[QOE_ACCOUNT_HASH] = NULL, (*seen)[QOE_ACCOUNT_HASH] = NULL;
    size_t nh = 0, ns = 0;
    qoe_accounts_in_slice(acc, cube, slice, t0, end, 0, &seen, &ns);
    qoe_accounts_in_slice(acc, cube, slice, t0, end, 1, &hurt, &nh);
    json_decref(inc);
    free(seen);
    if (!ns) {
        free(hurt);
        return json_null();
    }
    uint8_t *flag = oc_calloc(nh + 1, 1); /* bit 0: canceled after, 1: before, 2: a ticket */
    uint8_t h[32];
    for (int k = 0; k < r->ncan; k++) {
        int64_t at = r->can[k].at_ms;
        if (at < t0 - w_ms || at >= t0 + w_ms)
            continue;
        tickets_account_hmac(m->o.account_key, r->can[k].account, h);
        uint8_t(*f)[32] = nh ? bsearch(h, hurt, nh, 32, cmp_h32) : NULL;
        if (f)
            flag[f - hurt] |= at >= t0 ? 1 : 2;
    }
    for (int a = 0; a < r->nacc; a++) {
        if (r->acc[a].incident != c->id)
            continue;
        tickets_account_hmac(m->o.account_key, r->acc[a].account, h);
        uint8_t(*f)[32] = nh ? bsearch(h, hurt, nh, 32, cmp_h32) : NULL;
        if (f)
            flag[f - hurt] |= 4;
    }
    int64_t after = 0, before = 0, wrote = 0;
    for (size_t i = 0; i < nh; i++) {
        after += (flag[i] & 1) != 0;
        before += (flag[i] & 2) != 0;
        wrote += (flag[i] & 4) != 0;
    }
    free(flag);
    free(hurt);
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:o, s:o}", "seen", (json_int_t)ns, "hurt",
                     (json_int_t)nh, "hurt_with_ticket", (json_int_t)wrote, "canceled_after",
                     (json_int_t)after, "canceled_baseline", (json_int_t)before, "churn_after",
                     nh ? json_real((double)after / (double)nh) : json_null(), "churn_baseline",
                     nh ? json_real((double)before / (double)nh) : json_null());
}

static int rep_churn(struct rep *r, json_t **out)
{
    struct tickets_mod *m = r->m;
    struct store *s = m->app->store;
    struct store_stmt *q = NULL;
    int64_t w_ms = m->o.churn_days * 86400000LL, lo = INT64_MAX, hi = 0;
    for (int i = 0; i < r->n; i++)
        if (r->inc[i].sev <= 2) {
            int64_t t0 = r->inc[i].opened_s * 1000;
            lo = t0 - w_ms < lo ? t0 - w_ms : lo;
            hi = t0 + w_ms > hi ? t0 + w_ms : hi;
        }
    if (hi && billing_cancellations(s, lo, hi, on_cancel, r) != 0)
        return OC_EDB;
    /* account -> segment from the tickets */
    struct rseg *segs = oc_calloc(1024, sizeof *segs);
    int ns = 0, cap = 1024, st = STORE_DONE;
    store_lock(s);
    if (store_prepare(s, TICKETS_SQL_REP_ACCOUNTS, &q) == 0) {
        while ((st = store_step(q)) == STORE_ROW) {
            if (ns >= REP_ACCOUNTS_MAX) {
                r->truncated = 1;
                break;
            }
            if (ns == cap) {
                cap *= 2;
                segs = oc_realloc(segs, (size_t)cap * sizeof *segs);
            }
            const char *a = store_col_text(q, 0), *g = store_col_text(q, 1);
            snprintf(segs[ns].account, sizeof segs[ns].account, "%s", a ? a : "");
            snprintf(segs[ns].segment, sizeof segs[ns].segment, "%s", g && g[0] ? g : "(none)");
            segs[ns].order = ns;
            ns++;
        }
    }
    tickets_stmt_done(q);
    store_unlock(s);
    if (ns > 1)
        qsort(segs, (size_t)ns, sizeof *segs, cmp_seg);
    struct cseg *tot = oc_calloc(64, sizeof *tot), *one = oc_calloc(64, sizeof *one);
    int ntot = 0;
    json_t *incs = json_array();
    for (int i = 0; i < r->n; i++) {
        const struct rinc *c = &r->inc[i];
        if (c->sev > 2)
            continue;
        int64_t t0 = c->opened_s * 1000;
        int none = 0;
        /* affected accounts: distinct accounts of the incident's linked tickets */
        for (int a = 0; a < r->nacc; a++) {
            const struct racct *x = &r->acc[a];
            if (x->incident != c->id)
                continue;
            int dup = 0;
            for (int b = 0; b < a && !dup; b++)
                dup = r->acc[b].incident == c->id && strcmp(r->acc[b].account, x->account) == 0;
            if (dup)
                continue;
            struct cseg *g = cseg_of(one, &none, x->segment);
            if (!g)
                continue;
            g->affected++;
            g->aff_after += canceled_in(r, x->account, t0, t0 + w_ms);
            g->aff_before += canceled_in(r, x->account, t0 - w_ms, t0);
        }
        /* every cancellation in the two windows, by the account's segment */
        for (int k = 0; k < r->ncan; k++) {
            int64_t at = r->can[k].at_ms;
            if (at < t0 - w_ms || at >= t0 + w_ms)
                continue;
            struct cseg *g = cseg_of(one, &none, seg_of(segs, ns, r->can[k].account));
            if (!g)
                continue;
            if (at >= t0)
                g->after++;
            else
                g->before++;
        }
        for (int k = 0; k < none; k++) {
            struct cseg *g = cseg_of(tot, &ntot, one[k].seg);
            if (!g)
                continue;
            g->affected += one[k].affected;
            g->aff_after += one[k].aff_after;
            g->aff_before += one[k].aff_before;
            g->after += one[k].after;
            g->before += one[k].before;
        }
        json_array_append_new(
            incs, json_pack("{s:I, s:s, s:s, s:I, s:o, s:o}", "incident_id", (json_int_t)c->id,
                            "severity", c->sev == 1 ? "SEV1" : "SEV2", "service", c->service,
                            "opened_at", (json_int_t)c->opened_s, "segments", csegs_json(one, none),
                            "viewers", viewers_json(r, c, t0, w_ms)));
    }
    *out = json_pack("{s:I, s:o, s:o}", "window_days", (json_int_t)m->o.churn_days, "incidents",
                     incs, "total", csegs_json(tot, ntot));
    free(tot);
    free(one);
    free(segs);
    return 0;
}

/* --- CSV --- */

/* Writes a CSV field (quoted when it holds a comma, quote or newline). */
static void csv_str(struct oc_buf *b, const char *s)
{
    if (!s)
        return;
    if (!strpbrk(s, ",\"\n\r")) {
        oc_buf_puts(b, s);
        return;
    }
    oc_buf_puts(b, "\"");
    for (; *s; s++)
        oc_buf_printf(b, "%s", *s == '"' ? "\"\"" : (char[]){*s, 0});
    oc_buf_puts(b, "\"");
}

/* A JSON scalar as a CSV field ("" for null). */
static void csv_val(struct oc_buf *b, const json_t *v)
{
    if (json_is_string(v))
        csv_str(b, json_string_value(v));
    else if (json_is_integer(v))
        oc_buf_printf(b, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        oc_buf_printf(b, "%.6g", json_real_value(v));
    else if (json_is_boolean(v))
        oc_buf_puts(b, json_is_true(v) ? "true" : "false");
}

/* Rows of arr with the named columns, each row prefixed with the prefix fields. */
static void csv_rows(struct oc_buf *b, const char *prefix, const json_t *arr,
                     const char *const *cols)
{
    size_t i;
    json_t *row;
    json_array_foreach(arr, i, row)
    {
        if (prefix)
            oc_buf_printf(b, "%s,", prefix);
        for (int c = 0; cols[c]; c++) {
            if (c)
                oc_buf_puts(b, ",");
            csv_val(b, json_object_get(row, cols[c]));
        }
        oc_buf_puts(b, "\r\n");
    }
}

static void csv_header(struct oc_buf *b, const char *first, const char *const *cols)
{
    if (first)
        oc_buf_printf(b, "%s,", first);
    for (int c = 0; cols[c]; c++)
        oc_buf_printf(b, "%s%s", c ? "," : "", cols[c]);
    oc_buf_puts(b, "\r\n");
}

/* The report j named name as CSV into b. */
static void to_csv(const char *name, const json_t *j, struct oc_buf *b)
{
    if (strcmp(name, "mttr") == 0) {
        static const char *const cols[] = {
            "key", "incidents", "acknowledged", "resolved", "mtta_s", "mttr_s", NULL};
        csv_header(b, "dimension", cols);
        csv_rows(b, "service", json_object_get(j, "by_service"), cols);
        csv_rows(b, "segment", json_object_get(j, "by_segment"), cols);
        csv_rows(b, "tier", json_object_get(j, "by_tier"), cols);
        csv_rows(b, "release", json_object_get(j, "by_release"), cols);
    } else if (strcmp(name, "sla") == 0) {
        static const char *const rc[] = {"priority", "tier",    "tickets",   "met", "late",
                                         "overdue",  "pending", "adherence", NULL};
        static const char *const ac[] = {"tier",       "target_pct",         "availability_pct",
                                         "downtime_s", "allowed_downtime_s", "met",
                                         NULL};
        csv_header(b, NULL, rc);
        csv_rows(b, NULL, json_object_get(j, "response"), rc);
        oc_buf_puts(b, "\r\n");
        csv_header(b, NULL, ac);
        csv_rows(b, NULL, json_object_get(j, "availability"), ac);
    } else if (strcmp(name, "incidents") == 0) {
        static const char *const cols[] = {
            "incident_id", "severity", "service",           "opened_at",
            "tickets",     "vip",      "per_1000_affected", "first_ticket_after_s",
            NULL};
        csv_header(b, NULL, cols);
        csv_rows(b, NULL, json_object_get(j, "incidents"), cols);
    } else {
        static const char *const cols[] = {"segment",
                                           "affected_accounts",
                                           "affected_canceled_after",
                                           "affected_canceled_baseline",
                                           "canceled_after",
                                           "canceled_baseline",
                                           "change",
                                           NULL};
        size_t i;
        json_t *inc;
        csv_header(b, "incident_id", cols);
        json_array_foreach(json_object_get(j, "incidents"), i, inc)
        {
            char id[32];
            snprintf(id, sizeof id, "%lld",
                     (long long)json_integer_value(json_object_get(inc, "incident_id")));
            csv_rows(b, id, json_object_get(inc, "segments"), cols);
        }
        csv_rows(b, "total", json_object_get(j, "total"), cols);
    }
}

static const char *const reports[] = {"mttr", "sla", "incidents", "churn", NULL};

/* The index of report name in reports, or -1. */
static int report_index(const char *name)
{
    for (int i = 0; name && reports[i]; i++)
        if (strcmp(name, reports[i]) == 0)
            return i;
    return -1;
}

/* Runs report k over [from_s, to_s) at the clock's now: 0 with *out (a new reference with
 * report, from, to and partial), OC_ENOTFOUND (no incident module) or OC_EDB. */
static int run_report(struct tickets_mod *m, int k, int64_t from_s, int64_t to_s, json_t **out)
{
    struct rep r;
    json_t *j = NULL;
    int rc;
    memset(&r, 0, sizeof r);
    r.m = m;
    r.now_s = oc_clock_now_s(m->app->clock);
    r.from_s = from_s;
    r.to_s = to_s;
    *out = NULL;
    if ((rc = load_incidents(&r)) == 0 && (rc = load_linked(&r)) == 0) {
        if (k == 0)
            j = rep_mttr(&r);
        else if (k == 1)
            j = rep_sla(&r);
        else if (k == 2)
            j = rep_incidents(&r);
        else
            rc = rep_churn(&r, &j);
        if (!rc && !j)
            rc = OC_EDB;
    } else if (rc != OC_ENOTFOUND) {
        rc = OC_EDB;
    }
    free(r.inc);
    free(r.acc);
    free(r.can);
    if (rc) {
        json_decref(j);
        return rc;
    }
    char f[OC_TIME_LEN], t[OC_TIME_LEN];
    oc_time_format(from_s * 1000, f, sizeof f);
    oc_time_format(to_s * 1000, t, sizeof t);
    json_object_set_new(j, "report", json_string(reports[k]));
    json_object_set_new(j, "from", json_string(f));
    json_object_set_new(j, "to", json_string(t));
    json_object_set_new(j, "partial", json_boolean(r.truncated));
    *out = j;
    return 0;
}

int tickets_report(struct oc_app *app, const char *name, int64_t from_s, int64_t to_s, json_t **out)
{
    struct tickets_mod *m = oc_app_find(app, TICKETS_PROVIDES);
    int k = report_index(name);
    *out = NULL;
    if (!m || k < 0 || from_s >= to_s)
        return OC_ENOTFOUND;
    return run_report(m, k, from_s, to_s, out);
}

/* GET /v1/tickets/reports/{name}?from=&to=&format=json|csv */
void tickets_get_report(struct http_req *req)
{
    struct tickets_mod *m = req->state;
    const char *name = http_param(req, "name"), *fs = http_query(req, "from"),
               *ts = http_query(req, "to"), *fmt = http_query(req, "format");
    char why[200];
    int k = report_index(name), rc;
    int64_t now_s = oc_clock_now_s(m->app->clock), from_s, to_s;
    json_t *j = NULL;
    if (k < 0) {
        http_problem(req, 404, "no report %.40s (mttr, sla, incidents, churn)", name);
        return;
    }
    if (fmt && strcmp(fmt, "json") != 0 && strcmp(fmt, "csv") != 0) {
        http_problem(req, 422, "format: json or csv");
        return;
    }
    to_s = now_s + 1;
    if (ts && oc_time_param(ts, now_s, &to_s, why, sizeof why) != 0) {
        http_problem(req, 422, "to: %s", why);
        return;
    }
    from_s = to_s - DEFAULT_DAYS * 86400;
    if (fs && oc_time_param(fs, now_s, &from_s, why, sizeof why) != 0) {
        http_problem(req, 422, "from: %s", why);
        return;
    }
    if (from_s >= to_s) {
        http_problem(req, 422, "from: must be before to");
        return;
    }
    if ((rc = run_report(m, k, from_s, to_s, &j)) == OC_ENOTFOUND) {
        http_problem(req, 503, "the incident module is not running");
        return;
    }
    if (rc) {
        http_reply_err(req, OC_EDB, "cannot read the tickets or the billing audit");
        return;
    }
    if (fmt && strcmp(fmt, "csv") == 0) {
        struct oc_buf b;
        oc_buf_init(&b, 64 << 20);
        to_csv(name, j, &b);
        http_reply(req, 200, "text/csv; charset=utf-8", b.data ? b.data : "", b.len);
        oc_buf_free(&b);
        json_decref(j);
        return;
    }
    http_reply_json(req, 200, j);
}

int tickets_sla_targets_parse(const char *text, double out[3], char *err, size_t errlen)
{
    double v[3] = {99.95, 99.9, 99.5};
    const char *p = text ? text : "";
    while (*p) {
        p += strspn(p, " ,");
        if (!*p)
            break;
        size_t len = strcspn(p, ",");
        const char *eq = memchr(p, '=', len);
        int t = -1;
        size_t kl = eq ? (size_t)(eq - p) : 0;
        while (kl && p[kl - 1] == ' ')
            kl--;
        for (int i = 0; eq && i < NTIERS; i++)
            if (kl == strlen(tiers[i]) && strncmp(p, tiers[i], kl) == 0)
                t = i;
        char num[32], *end = NULL;
        double x = -1;
        if (t >= 0 && len - (size_t)(eq + 1 - p) < sizeof num) {
            memcpy(num, eq + 1, len - (size_t)(eq + 1 - p));
            num[len - (size_t)(eq + 1 - p)] = '\0';
            x = strtod(num, &end);
            while (end && *end == ' ')
                end++;
        }
        if (t < 0 || !end || *end || end == num || !(x >= 0 && x <= 100)) {
            snprintf(err, errlen,
                     "tickets.sla_targets: \"%.*s\": expected premium=PCT, standard=PCT or "
                     "free=PCT (0 to 100)",
                     (int)(len > 40 ? 40 : len), p);
            return OC_EINVAL;
        }
        v[t] = x;
        p += len;
    }
    memcpy(out, v, sizeof v);
    return 0;
}
