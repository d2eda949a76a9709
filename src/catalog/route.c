/*
 * route.c - who to page. A QoE slice (from an alert or a root cause) goes to the owner of the
 * most specific service serving it; a service name goes to its owner directly. The on-call
 * comes from the owning team's weekly rotation and its overrides. Also the time parsing the
 * catalog's files and APIs use (core/timefmt.h plus bare unix seconds).
 */
#include "catalog/catalog_int.h"
#include "core/err.h"
#include "core/timefmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS 86400000LL

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int catalog_time_parse(const char *s, int64_t *out_ms)
{
    size_t n = s ? strlen(s) : 0;
    if (n > 0 && n <= 12 && strspn(s, "0123456789") == n) {
        *out_ms = strtoll(s, NULL, 10) * 1000;
        return 0;
    }
    return oc_time_parse(s, OC_TIME_UTC, out_ms);
}

int catalog_oncall(const struct catalog *c, const char *team, int64_t at_ms,
                   struct catalog_shift *out)
{
    memset(out, 0, sizeof(*out));
    const struct catalog_team *t = catalog_team_find(c, team);
    if (!t)
        return OC_ENOTFOUND;
    const struct catalog_schedule *sch = &t->oncall;
    if (sch->people.n == 0)
        return OC_EINVAL;
    int64_t week = floor_div(at_ms - sch->first_ms, CATALOG_WEEK_MS);
    int64_t idx = week % sch->people.n;
    if (idx < 0)
        idx += sch->people.n;
    snprintf(out->person, sizeof(out->person), "%s", sch->people.v[idx]);
    out->from_ms = sch->first_ms + week * CATALOG_WEEK_MS;
    out->to_ms = out->from_ms + CATALOG_WEEK_MS;
    for (int i = 0; i < sch->noverrides; i++) { /* the last matching override wins */
        const struct catalog_override *o = &sch->overrides[i];
        if (o->from_ms <= at_ms && at_ms < o->to_ms) {
            snprintf(out->person, sizeof(out->person), "%s", o->person);
            out->from_ms = o->from_ms;
            out->to_ms = o->to_ms;
            out->is_override = 1;
        }
    }
    return 0;
}

/* Fills the owner fields of out from s and appends the owner and on-call to out->reason. */
static void fill_owner(const struct catalog *c, const struct catalog_service *s, int64_t at_ms,
                       struct catalog_route *out)
{
    size_t len = strlen(out->reason), cap = sizeof(out->reason);
    char when[32], until[32];
    struct catalog_shift sh;
    snprintf(out->service, sizeof(out->service), "%s", s->name);
    snprintf(out->team, sizeof(out->team), "%s", s->team ? s->team : "");
    snprintf(out->lead, sizeof(out->lead), "%s", s->lead ? s->lead : "");
    snprintf(out->runbook, sizeof(out->runbook), "%s", s->runbook ? s->runbook : "");
    const struct catalog_team *t = catalog_team_find(c, s->team);
    snprintf(out->policy, sizeof(out->policy), "%s", t && t->policy ? t->policy : "");
    len += (size_t)snprintf(out->reason + len, cap - len, "; owner team %s, escalation lead %s",
                            s->team ? s->team : "(none)", s->lead ? s->lead : "(none)");
    if (len >= cap)
        return;
    oc_time_format(at_ms, when, sizeof(when));
    if (!t) {
        snprintf(out->reason + len, cap - len, "; no on-call: team %s is not in the catalog",
                 s->team ? s->team : "(none)");
    } else if (catalog_oncall(c, t->name, at_ms, &sh) != 0) {
        snprintf(out->reason + len, cap - len, "; no on-call: team %s has no rotation", t->name);
    } else {
        snprintf(out->oncall, sizeof(out->oncall), "%s", sh.person);
        oc_time_format(sh.to_ms, until, sizeof(until));
        snprintf(out->reason + len, cap - len, "; on call at %s: %s (%s until %s)", when, sh.person,
                 sh.is_override ? "override" : "weekly rotation", until);
    }
}

/* 1 when every dimension served constrains has the same value in slice ("*": any value). */
static int covers(const struct catalog_slice *served, const struct catalog_slice *slice)
{
    for (int d = 0; d < BEACON_NDIMS; d++)
        if (served->v[d] && (!slice->v[d] || (strcmp(served->v[d], CATALOG_ANY) != 0 &&
                                              strcmp(served->v[d], slice->v[d]) != 0)))
            return 0;
    return 1;
}

/* How specific a served slice is: two points per exact value, one per "*", so that
 * "cdn=primary" outranks "isp=*" and "cdn=primary,isp=*" outranks both. */
static int specificity(const struct catalog_slice *served)
{
    int k = 0;
    for (int d = 0; d < BEACON_NDIMS; d++)
        if (served->v[d])
            k += strcmp(served->v[d], CATALOG_ANY) == 0 ? 1 : 2;
    return k;
}

static int tier_rank(const struct catalog_service *s)
{
    return s->tier ? s->tier : 5;
}

/* The specificity of the most specific slice of s covering slice (0 if none), and which. */
static int service_score(const struct catalog_service *s, const struct catalog_slice *slice,
                         const struct catalog_slice **which /* OUT */)
{
    int best = 0;
    for (int k = 0; k < s->nserves; k++) {
        int score = specificity(&s->serves[k]);
        if (score > best && covers(&s->serves[k], slice)) {
            best = score;
            *which = &s->serves[k];
        }
    }
    return best;
}

int catalog_route(const struct catalog *c, const struct catalog_slice *slice, int64_t at_ms,
                  struct catalog_route *out)
{
    const struct catalog_service *best = NULL;
    const struct catalog_slice *best_slice = NULL, *which = NULL;
    int best_score = 0, ties = 0;
    char want[CATALOG_TEXT_MAX];
    memset(out, 0, sizeof(*out));
    catalog_slice_format(slice, want, sizeof(want));
    for (int i = 0; i < c->nservices; i++) { /* name order, so ties keep the smaller name */
        const struct catalog_service *s = c->services[i];
        int score = service_score(s, slice, &which);
        if (score > best_score ||
            (score > 0 && score == best_score && tier_rank(s) < tier_rank(best))) {
            best = s, best_slice = which, best_score = score;
        }
    }
    for (int i = 0; i < c->nservices && best; i++)
        ties +=
            c->services[i] != best && service_score(c->services[i], slice, &which) == best_score;
    if (!best) {
        snprintf(out->reason, sizeof(out->reason), "no service in the catalog serves %s", want);
        return OC_ENOTFOUND;
    }
    catalog_slice_format(best_slice, out->matched, sizeof(out->matched));
    out->score = catalog_slice_dims(best_slice);
    snprintf(out->reason, sizeof(out->reason),
             "%.400s is served most specifically by %s (serves %.400s: %d of %d dimensions)%s",
             want, best->name, out->matched, out->score, catalog_slice_dims(slice),
             ties ? ", chosen over equally specific services by tier, then name" : "");
    fill_owner(c, best, at_ms, out);
    return 0;
}

int catalog_route_default(const struct catalog *c, int64_t at_ms, struct catalog_route *out)
{
    const struct catalog_service *s =
        c->default_owner ? catalog_service_find(c, c->default_owner) : NULL;
    memset(out, 0, sizeof(*out));
    if (!s) {
        snprintf(out->reason, sizeof(out->reason), "the catalog names no default_owner");
        return OC_ENOTFOUND;
    }
    snprintf(out->reason, sizeof(out->reason), "the catalog's default owner %s", s->name);
    fill_owner(c, s, at_ms, out);
    return 0;
}

int catalog_route_service(const struct catalog *c, const char *name, int64_t at_ms,
                          struct catalog_route *out)
{
    memset(out, 0, sizeof(*out));
    const struct catalog_service *s = catalog_service_find(c, name);
    if (!s) {
        snprintf(out->reason, sizeof(out->reason), "no service named %s", name);
        return OC_ENOTFOUND;
    }
    snprintf(out->reason, sizeof(out->reason), "service %s named directly", s->name);
    fill_owner(c, s, at_ms, out);
    return 0;
}

int catalog_escalation_plan(const struct catalog *c, const char *policy, int64_t start_ms,
                            struct catalog_page *out, int max, int *n)
{
    const struct catalog_policy *p = catalog_policy_find(c, policy);
    int64_t t = start_ms;
    *n = 0;
    if (!p)
        return OC_ENOTFOUND;
    for (int round = 0; round <= p->repeat; round++) {
        for (int i = 0; i < p->nsteps && *n < max; i++) {
            const struct catalog_step *st = &p->steps[i];
            struct catalog_page *pg = &out[(*n)++];
            struct catalog_shift sh;
            memset(pg, 0, sizeof(*pg));
            pg->at_ms = t;
            pg->round = round;
            pg->step = i;
            pg->kind = st->kind;
            snprintf(pg->target, sizeof(pg->target), "%s", st->target);
            if (st->kind == CATALOG_TARGET_PERSON)
                snprintf(pg->person, sizeof(pg->person), "%s", st->target);
            else if (st->kind == CATALOG_TARGET_ONCALL &&
                     catalog_oncall(c, st->target, t, &sh) == 0)
                snprintf(pg->person, sizeof(pg->person), "%s", sh.person);
            t += (int64_t)st->wait_minutes * 60000;
        }
    }
    return 0;
}
