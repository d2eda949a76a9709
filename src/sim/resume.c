/*
 * resume.c - the cross-device resume scenario of the simulator (sim.h, sim_resume_run): a
 * laptop with a skewed clock, a phone and a TV per profile, their progress reports with
 * network delay and retries, and the resume point each profile must end with.
 */
#include "sim/sim.h"
#include "sim/rng.h"
#include "core/alloc.h"
#include "core/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIN_MS    60000LL
#define BEAT_MS   10000LL       /* a playing device reports every 10 s */
#define PAUSED_MS 30000LL       /* a paused device repeats its point every 30 s */
#define MAX_DELAY 4000          /* network delay, ms */
#define RETRY_MS  5000LL        /* a retry arrives this long after the first copy */
#define END_MS    (50 * MIN_MS) /* the scenario's length after start */

/* The reports of one run, sorted by arrival at the end. */
struct plan {
    struct sim_resume_report *r;
    size_t n, cap;
    struct sim_rng rng;
};

/* One device's running state while its reports are planned. */
struct dev {
    const char *name;
    int64_t skew_ms, seq;
    char session[SIM_RESUME_ID_MAX];
};

static void emit(struct plan *p, const struct sim_resume_truth *tr, struct dev *d, int64_t at,
                 int64_t pos, int64_t duration, const char *state)
{
    p->r = oc_grow(p->r, &p->cap, p->n + 2, sizeof *p->r);
    struct sim_resume_report *r = &p->r[p->n++];
    memset(r, 0, sizeof *r);
    snprintf(r->profile, sizeof r->profile, "%s", tr->profile);
    snprintf(r->title, sizeof r->title, "%s", tr->title);
    snprintf(r->device, sizeof r->device, "%s", d->name);
    snprintf(r->session, sizeof r->session, "%s", d->session);
    r->position_ms = pos;
    r->duration_ms = duration;
    r->seq = ++d->seq;
    r->ts = at + d->skew_ms;
    r->recv_ms = at + sim_rng_below(&p->rng, MAX_DELAY);
    r->state = state;
    if (sim_rng_below(&p->rng, 10) == 0) { /* a retry of the same report */
        p->r[p->n] = *r;
        p->r[p->n++].recv_ms += RETRY_MS;
    }
}

/* d plays from pos at true time from until to (exclusive), then reports end_state once (NULL:
 * none, the device goes silent). Returns the position reached. */
static int64_t play(struct plan *p, const struct sim_resume_truth *tr, struct dev *d, int64_t from,
                    int64_t to, int64_t pos, int64_t duration, const char *end_state)
{
    int64_t t = from;
    for (; t < to; t += BEAT_MS)
        emit(p, tr, d, t, pos + (t - from), duration, "playing");
    pos += to - from;
    if (end_state)
        emit(p, tr, d, to, pos, duration, end_state);
    return pos;
}

/* d repeats a paused point every PAUSED_MS from from until to. */
static void idle(struct plan *p, const struct sim_resume_truth *tr, struct dev *d, int64_t from,
                 int64_t to, int64_t pos, int64_t duration)
{
    for (int64_t t = from; t < to; t += PAUSED_MS)
        emit(p, tr, d, t, pos, duration, "paused");
}

/* Plans one profile's viewing in its variant and sets its truth. */
static void plan_profile(struct plan *p, struct sim_resume_truth *tr, int64_t t0)
{
    struct dev lap = {"laptop", SIM_RESUME_SKEW_MS, 0, ""}, ph = {"phone", 0, 0, ""},
               tv = {"tv", 0, 0, ""};
    int64_t off = (int64_t)sim_rng_below(&p->rng, 20000), dur = 120 * MIN_MS, pos;
    t0 += off;
    snprintf(lap.session, sizeof lap.session, "%.24s-l", tr->profile);
    snprintf(ph.session, sizeof ph.session, "%.24s-p", tr->profile);
    snprintf(tv.session, sizeof tv.session, "%.24s-t", tr->profile);
    if (tr->variant == 1)
        dur = 45 * MIN_MS;
    /* Half an hour earlier on the laptop (whose clock says 5.5 hours later): 0 -> 5 min. */
    pos = play(p, tr, &lap, t0 - 30 * MIN_MS, t0 - 25 * MIN_MS, 0, dur, "paused");
    /* The phone picks it up: 5 -> 15 min, paused, and keeps repeating its point. */
    pos = play(p, tr, &ph, t0, t0 + 10 * MIN_MS, pos, dur, "paused");
    int64_t phone_pos = pos;
    if (tr->variant == 2) {
        /* The TV: 15 -> 25 min, paused and repeating; the phone plays on 25 -> 50 min. */
        idle(p, tr, &ph, t0 + 10 * MIN_MS + PAUSED_MS, t0 + 12 * MIN_MS, phone_pos, dur);
        pos = play(p, tr, &tv, t0 + 12 * MIN_MS, t0 + 22 * MIN_MS, pos, dur, "paused");
        idle(p, tr, &tv, t0 + 22 * MIN_MS + PAUSED_MS, t0 + END_MS, pos, dur);
        pos = play(p, tr, &ph, t0 + 25 * MIN_MS, t0 + END_MS, pos, dur, NULL);
        snprintf(tr->device, sizeof tr->device, "phone");
        tr->position_ms = pos - BEAT_MS; /* its last heartbeat */
        tr->state = "playing";
        return;
    }
    idle(p, tr, &ph, t0 + 10 * MIN_MS + PAUSED_MS, t0 + END_MS, phone_pos, dur);
    if (tr->variant == 1) {
        /* The TV plays the rest of the 45-minute title: 15 -> 45 min, ended. */
        play(p, tr, &tv, t0 + 12 * MIN_MS, t0 + 42 * MIN_MS, pos, dur, NULL);
        emit(p, tr, &tv, t0 + 42 * MIN_MS, dur, dur, "ended");
        tr->position_ms = dur;
        tr->state = "ended";
    } else {
        /* The TV plays 15 -> 45 min and is switched off at the wall (no pause). */
        pos = play(p, tr, &tv, t0 + 12 * MIN_MS, t0 + 42 * MIN_MS, pos, dur, NULL);
        tr->position_ms = pos - BEAT_MS;
        tr->state = "playing";
    }
    snprintf(tr->device, sizeof tr->device, "tv");
}

static int by_arrival(const void *a, const void *b)
{
    const struct sim_resume_report *x = a, *y = b;
    if (x->recv_ms != y->recv_ms)
        return x->recv_ms < y->recv_ms ? -1 : 1;
    int c = strcmp(x->profile, y->profile);
    if (!c)
        c = strcmp(x->device, y->device);
    return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

int sim_resume_run(uint64_t seed, int n, int64_t start_ms, sim_resume_sink_fn *sink, void *arg,
                   struct sim_resume_truth *truth)
{
    struct plan p = {0};
    if (n < 1 || n > 100000 || !sink)
        return OC_EINVAL;
    sim_rng_seed(&p.rng, seed);
    for (int i = 0; i < n; i++) {
        struct sim_resume_truth *tr = &truth[i];
        memset(tr, 0, sizeof *tr);
        snprintf(tr->profile, sizeof tr->profile, "profile-%d", i);
        snprintf(tr->title, sizeof tr->title, "title-%d", (int)sim_rng_below(&p.rng, 50));
        tr->variant = (int)sim_rng_below(&p.rng, 3);
        plan_profile(&p, tr, start_ms);
    }
    qsort(p.r, p.n, sizeof *p.r, by_arrival);
    for (size_t i = 0; i < p.n; i++)
        sink(arg, &p.r[i]);
    free(p.r);
    return 0;
}
