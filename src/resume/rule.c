/*
 * rule.c - the conflict rule of cross-device resume (docs/internals/resume.md): which of a
 * device's reports supersedes another, which report of a point wins, and what counts as
 * watched. Pure functions over reports; no locks, no clock.
 */
#include "resume/resume.h"

#include <string.h>

const char *const resume_state_names[] = {"paused", "playing", "ended", NULL};

static int cmp_i64(int64_t a, int64_t b)
{
    return (a > b) - (a < b);
}

/* Orders two reports of one device: seq, then the other fields, so equal seq with different
 * content still has one answer on every server. */
int resume_device_cmp(const struct resume_report *a, const struct resume_report *b)
{
    int c = cmp_i64(a->seq, b->seq);
    if (!c)
        c = cmp_i64(a->t, b->t);
    if (!c)
        c = cmp_i64(a->position_ms, b->position_ms);
    if (!c)
        c = cmp_i64(a->duration_ms, b->duration_ms);
    if (!c)
        c = cmp_i64((int64_t)a->state, (int64_t)b->state);
    if (!c)
        c = strcmp(a->session, b->session);
    return (c > 0) - (c < 0);
}

/* The class of r in the set (higher wins): 3 an end not followed by a later viewing, 2 playing
 * and heard within idle_ms of the newest report, 1 paused or idle, 0 an end that a later
 * viewing superseded (another device's point moved more than idle_ms after the end). */
static int rank(const struct resume_report *r, const struct resume_report *all, int n,
                int64_t newest, int64_t idle_ms)
{
    if (r->state == RESUME_ENDED) {
        for (int i = 0; i < n; i++)
            if (all[i].state != RESUME_ENDED && all[i].since > r->since + idle_ms)
                return 0;
        return 3;
    }
    if (r->state == RESUME_PLAYING && newest - r->t <= idle_ms)
        return 2;
    return 1;
}

/* The winner: highest class, then the latest since (the point that moved last), then the
 * latest t, then the highest seq, then the greatest device id (distinct within a point), so
 * the order is total and the answer a function of the set. */
int resume_winner(const struct resume_report *r, int n, int64_t idle_ms)
{
    int64_t newest = r[0].t;
    for (int i = 1; i < n; i++)
        if (r[i].t > newest)
            newest = r[i].t;
    int best = 0, best_rank = rank(&r[0], r, n, newest, idle_ms);
    for (int i = 1; i < n; i++) {
        int k = rank(&r[i], r, n, newest, idle_ms), c = k - best_rank;
        if (!c)
            c = cmp_i64(r[i].since, r[best].since);
        if (!c)
            c = cmp_i64(r[i].t, r[best].t);
        if (!c)
            c = cmp_i64(r[i].seq, r[best].seq);
        if (!c)
            c = strcmp(r[i].device, r[best].device);
        if (c > 0) {
            best = i;
            best_rank = k;
        }
    }
    return best;
}

/* The report to drop from a full set: the lowest (t, device). */
static int oldest(const struct resume_report *r, int n)
{
    int o = 0;
    for (int i = 1; i < n; i++) {
        int c = cmp_i64(r[i].t, r[o].t);
        if (c < 0 || (c == 0 && strcmp(r[i].device, r[o].device) < 0))
            o = i;
    }
    return o;
}

/* 1 when a and b report the same point: session, position, duration and state. */
static int same_point(const struct resume_report *a, const struct resume_report *b)
{
    return a->position_ms == b->position_ms && a->duration_ms == b->duration_ms &&
           a->state == b->state && strcmp(a->session, b->session) == 0;
}

/* Folds w, whose point stands since ws, into the set: resume_apply's rule, shared with
 * resume_merge. gone and evicted (may be NULL) receive a device pushed out. */
static enum resume_outcome fold(struct resume_report *r, int *n, const struct resume_report *w,
                                int64_t ws, struct resume_report *gone, int *evicted)
{
    if (evicted)
        *evicted = -1;
    for (int i = 0; i < *n; i++) {
        if (strcmp(r[i].device, w->device) != 0)
            continue;
        int same = same_point(&r[i], w);
        int64_t since = same && r[i].since < ws ? r[i].since : ws;
        if (resume_device_cmp(w, &r[i]) <= 0) {
            if (same)
                r[i].since = since;
            return RESUME_STALE;
        }
        r[i] = *w;
        r[i].since = since;
        return same ? RESUME_COALESCED : RESUME_APPLIED;
    }
    int at = *n;
    if (at < RESUME_DEVICES) {
        (*n)++;
    } else {
        at = oldest(r, *n);
        if (r[at].t > w->t || (r[at].t == w->t && strcmp(r[at].device, w->device) > 0))
            return RESUME_STALE; /* older than every device kept */
        if (gone)
            *gone = r[at];
        if (evicted)
            *evicted = at;
    }
    r[at] = *w;
    r[at].since = ws;
    return RESUME_APPLIED;
}

/* Folds w into the set; see resume.h. */
enum resume_outcome resume_apply(struct resume_report *r, int *n, const struct resume_report *w,
                                 struct resume_report *gone, int *evicted)
{
    return fold(r, n, w, w->t, gone, evicted);
}

/* Folds a report another replica kept into the set (its own since); see resume.h. */
enum resume_outcome resume_merge(struct resume_report *r, int *n, const struct resume_report *w)
{
    return fold(r, n, w, w->since, NULL, NULL);
}

/* 1 when the point counts as watched; see resume.h. */
int resume_watched(const struct resume_report *r, double lo, double hi, int64_t min_duration_ms)
{
    if (r->state == RESUME_ENDED || r->duration_ms < min_duration_ms)
        return 1;
    double share = (double)r->position_ms / (double)r->duration_ms;
    return share < lo || share > hi;
}
