/*
 * test_resume_sim.c - the simulator's cross-device resume scenario (sim_resume_run) through
 * the resume rule in arrival order: a laptop with a clock 6 hours ahead, a phone that pauses
 * and keeps reporting, a TV that plays last (or to the end, or is paused while the phone
 * plays on); with network delay and retries. Every profile must end with its ground truth,
 * the same seed must give the same reports, the watched title must leave the continue-
 * watching row, and without clamping event time to the receive time the laptop would win.
 */
#include "t.h"

#include "resume/resume.h"
#include "sim/sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROFILES 1000
#define START    1764000000000LL
#define IDLE_MS  60000 /* resume.idle_s's default */

/* The point of one profile: the reports kept, one per device. */
struct point {
    struct resume_report r[RESUME_DEVICES];
    int n;
};

struct run {
    struct point *pts; /* by profile number */
    int clamp;         /* 0: use the device's ts as is (what the rule must not do) */
    size_t reports, stale;
    uint64_t hash; /* of every report delivered, in order */
};

static void fold(void *arg, const struct sim_resume_report *s)
{
    struct run *run = arg;
    struct resume_report r, gone;
    int ev, k = (int)strtol(s->profile + strlen("profile-"), NULL, 10);
    memset(&r, 0, sizeof r);
    snprintf(r.device, sizeof r.device, "%s", s->device);
    snprintf(r.session, sizeof r.session, "%s", s->session);
    r.position_ms = s->position_ms;
    r.duration_ms = s->duration_ms;
    r.seq = s->seq;
    r.ts = s->ts;
    r.t = run->clamp && s->ts > s->recv_ms ? s->recv_ms : s->ts;
    r.since = r.t;
    r.state = strcmp(s->state, "playing") == 0 ? RESUME_PLAYING
              : strcmp(s->state, "ended") == 0 ? RESUME_ENDED
                                               : RESUME_PAUSED;
    struct point *p = &run->pts[k];
    if (resume_apply(p->r, &p->n, &r, &gone, &ev) == RESUME_STALE)
        run->stale++;
    run->reports++;
    for (const unsigned char *c = (const unsigned char *)s; c < (const unsigned char *)(s + 1); c++)
        run->hash = (run->hash ^ *c) * 1099511628211ULL;
}

/* Runs the scenario; returns the number of profiles whose point differs from the truth. */
static int play(uint64_t seed, int clamp, struct sim_resume_truth *truth, struct run *run)
{
    int wrong = 0;
    memset(run, 0, sizeof *run);
    run->pts = calloc(PROFILES, sizeof *run->pts);
    run->clamp = clamp;
    run->hash = 14695981039346656037ULL;
    T_EQ_INT(sim_resume_run(seed, PROFILES, START, fold, run, truth), 0);
    for (int i = 0; i < PROFILES; i++) {
        const struct point *p = &run->pts[i];
        const struct resume_report *w = &p->r[resume_winner(p->r, p->n, IDLE_MS)];
        if (strcmp(w->device, truth[i].device) != 0 || w->position_ms != truth[i].position_ms ||
            strcmp(resume_state_names[w->state], truth[i].state) != 0) {
            if (clamp && wrong < 5)
                fprintf(stderr, "  %s (variant %d): got %s %lld %s, truth %s %lld %s\n",
                        truth[i].profile, truth[i].variant, w->device, (long long)w->position_ms,
                        resume_state_names[w->state], truth[i].device,
                        (long long)truth[i].position_ms, truth[i].state);
            wrong++;
        }
    }
    return wrong;
}

static void test_every_profile_ends_with_its_truth(void)
{
    static struct sim_resume_truth truth[PROFILES];
    struct run run;
    int variants[3] = {0};
    T_EQ_INT(play(7, 1, truth, &run), 0);
    for (int i = 0; i < PROFILES; i++)
        variants[truth[i].variant]++;
    for (int v = 0; v < 3; v++)
        T_TRUE(variants[v] > PROFILES / 4); /* every variant is played */
    T_TRUE(run.stale > 0);                  /* the retries were refused */
    T_TRUE(run.reports > (size_t)PROFILES * 300);
    /* The continue-watching row: the title the TV finished is watched, the others not. */
    int misplaced = 0;
    for (int i = 0; i < PROFILES; i++) {
        const struct point *p = &run.pts[i];
        const struct resume_report *w = &p->r[resume_winner(p->r, p->n, IDLE_MS)];
        if (resume_watched(w, 0.05, 0.90, 300000) != (truth[i].variant == 1))
            misplaced++;
    }
    T_EQ_INT(misplaced, 0);
    free(run.pts);
}

static void test_same_seed_same_reports(void)
{
    static struct sim_resume_truth a[PROFILES], b[PROFILES];
    struct run x, y;
    play(11, 1, a, &x);
    play(11, 1, b, &y);
    T_EQ_INT(x.reports, y.reports);
    T_TRUE(x.hash == y.hash);
    T_EQ_INT(memcmp(a, b, sizeof a), 0);
    free(y.pts);
    play(12, 1, b, &y);
    T_TRUE(x.hash != y.hash);
    free(x.pts);
    free(y.pts);
}

/* Taking the laptop's ts as is, its pause 5.5 hours "later" wins every profile: it supersedes
 * the end (variant 1), and it makes every other device look idle, even the phone that is
 * playing (variant 2). */
static void test_without_the_clamp_the_skewed_laptop_wins(void)
{
    static struct sim_resume_truth truth[PROFILES];
    struct run run;
    T_EQ_INT(play(7, 0, truth, &run), PROFILES);
    free(run.pts);
}

static const struct t_case cases[] = {
    T_CASE(test_every_profile_ends_with_its_truth),
    T_CASE(test_same_seed_same_reports),
    T_CASE(test_without_the_clamp_the_skewed_laptop_wins),
    {0},
};

T_MAIN(cases)
