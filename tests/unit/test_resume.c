/*
 * test_resume.c - cross-device resume: the body parser's bounds and refusals, the conflict
 * rule (ends, playing over paused, idle, clamped clocks, seq, the device tie-break), its
 * independence from arrival order over random permutations, stale and coalesced writes, the
 * continue-watching thresholds, and the group commit reloaded from the log (more of the log
 * in test_resume_log.c).
 */
#include "resume/resume_int.h"
#include "core/err.h"
#include "t.h"

#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/stat.h>

#define NOW  1764000000000LL /* the receive time of every case */
#define IDLE 60000           /* the idle window (resume.idle_s = 60) */

/* A report from device d at t (ms before NOW when negative offsets are used by callers). */
static struct resume_report rep(const char *d, int64_t seq, int64_t t, int64_t pos,
                                enum resume_state st)
{
    struct resume_report r;
    memset(&r, 0, sizeof r);
    snprintf(r.device, sizeof r.device, "%s", d);
    snprintf(r.session, sizeof r.session, "s-%s", d);
    r.seq = seq;
    r.ts = r.t = r.since = t;
    r.position_ms = pos;
    r.duration_ms = 3600000;
    r.state = st;
    return r;
}

/* Parses one PUT body; returns the error code and leaves the detail in err. */
static int parse_put(const char *body, struct resume_write *w, char *err, size_t n)
{
    json_t *j = json_loads(body, JSON_ALLOW_NUL, NULL);
    int rc = j ? resume_parse_object(j, 0, NOW, w, err, n) : -100;
    json_decref(j);
    return rc;
}

static void test_parse_valid_and_clamped(void)
{
    struct resume_write w;
    char err[200] = "";
    T_EQ_INT(parse_put("{\"position_ms\":1000,\"duration_ms\":2000,\"device\":\"tv-1\","
                       "\"session\":\"a:b\",\"seq\":3,\"state\":\"paused\",\"ts\":1764000005000}",
                       &w, err, sizeof err),
             0);
    T_EQ_INT(w.r.position_ms, 1000);
    T_EQ_INT(w.r.state, RESUME_PAUSED);
    T_EQ_INT(w.r.ts, 1764000005000LL);
    T_EQ_INT(w.r.t, NOW); /* a clock in the future is clamped to the receive time */
    T_EQ_STR(w.r.device, "tv-1");
}

/* Each bad body and the field its refusal must name. */
static void test_parse_refusals_name_the_field(void)
{
    static const struct {
        const char *body, *field;
    } cases[] = {
        {"{\"position_ms\":-1,\"duration_ms\":2000,\"device\":\"d\",\"session\":\"s\",\"seq\":1,"
         "\"state\":\"paused\",\"ts\":1764000000000}",
         "position_ms"},
        {"{\"position_ms\":3000,\"duration_ms\":2000,\"device\":\"d\",\"session\":\"s\",\"seq\":1,"
         "\"state\":\"paused\",\"ts\":1764000000000}",
         "position_ms"},
        {"{\"position_ms\":1,\"duration_ms\":604800001,\"device\":\"d\",\"session\":\"s\","
         "\"seq\":1,\"state\":\"paused\",\"ts\":1764000000000}",
         "duration_ms"},
        {"{\"position_ms\":1,\"duration_ms\":2000,\"device\":\"d\\u0000x\",\"session\":\"s\","
         "\"seq\":1,\"state\":\"paused\",\"ts\":1764000000000}",
         "device"},
        {"{\"position_ms\":1,\"duration_ms\":2000,\"device\":\"d/x\",\"session\":\"s\","
         "\"seq\":1,\"state\":\"paused\",\"ts\":1764000000000}",
         "device"},
        {"{\"position_ms\":1,\"duration_ms\":2000,\"device\":\"d\",\"session\":\"s\","
         "\"seq\":9007199254740992,\"state\":\"paused\",\"ts\":1764000000000}",
         "seq"},
        {"{\"position_ms\":1,\"duration_ms\":2000,\"device\":\"d\",\"session\":\"s\",\"seq\":1.5,"
         "\"state\":\"paused\",\"ts\":1764000000000}",
         "seq"},
        {"{\"position_ms\":1,\"duration_ms\":2000,\"device\":\"d\",\"session\":\"s\",\"seq\":1,"
         "\"state\":\"stopped\",\"ts\":1764000000000}",
         "state"},
        {"{\"position_ms\":1,\"duration_ms\":2000,\"device\":\"d\",\"session\":\"s\",\"seq\":1,"
         "\"state\":\"paused\",\"ts\":17640000}",
         "ts"},
        {"{\"position_ms\":1,\"duration_ms\":2000,\"device\":\"d\",\"session\":\"s\",\"seq\":1,"
         "\"state\":\"paused\",\"ts\":1764000000000,\"extra\":1}",
         "extra"},
        {"{\"position_ms\":1,\"duration_ms\":2000,\"device\":\"d\",\"session\":\"s\",\"seq\":1,"
         "\"state\":\"paused\",\"ts\":1764000000000,\"profile\":\"p\"}",
         "profile"},
        {"{\"position_ms\":1,\"duration_ms\":2000,\"session\":\"s\",\"seq\":1,"
         "\"state\":\"paused\",\"ts\":1764000000000}",
         "device"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct resume_write w;
        char err[200] = "";
        T_EQ_INT(parse_put(cases[i].body, &w, err, sizeof err), OC_EINVAL);
        T_EQ_INT(strncmp(err, cases[i].field, strlen(cases[i].field)), 0);
        if (strncmp(err, cases[i].field, strlen(cases[i].field)) != 0)
            fprintf(stderr, "  case %zu: %s\n", i, err);
    }
}

static void test_ids(void)
{
    char long_id[RESUME_ID_MAX + 2];
    memset(long_id, 'a', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    T_EQ_INT(resume_id_valid("profile-1.kids:2_x", RESUME_ID_MAX), 1);
    T_EQ_INT(resume_id_valid("", RESUME_ID_MAX), 0);
    T_EQ_INT(resume_id_valid("a b", RESUME_ID_MAX), 0);
    T_EQ_INT(resume_id_valid("é", RESUME_ID_MAX), 0);
    T_EQ_INT(resume_id_valid(long_id, RESUME_ID_MAX), 0);
    long_id[RESUME_ID_MAX] = '\0';
    T_EQ_INT(resume_id_valid(long_id, RESUME_ID_MAX), 1);
}

static void test_parse_batch(void)
{
    struct resume_write *w;
    size_t n;
    char err[240] = "";
    const char *ok = "[{\"profile\":\"p\",\"title\":\"t\",\"position_ms\":1,\"duration_ms\":2000,"
                     "\"device\":\"d\",\"session\":\"s\",\"seq\":1,\"state\":\"ended\","
                     "\"ts\":1764000000000}]";
    T_EQ_INT(resume_parse_batch(ok, strlen(ok), 10, NOW, &w, &n, err, sizeof err), 0);
    T_EQ_INT(n, 1);
    T_EQ_STR(w[0].profile, "p");
    T_EQ_INT(w[0].r.state, RESUME_ENDED);
    free(w);
    T_EQ_INT(resume_parse_batch(ok, strlen(ok), 0, NOW, &w, &n, err, sizeof err), OC_ETOOBIG);
    T_EQ_INT(resume_parse_batch("{}", 2, 10, NOW, &w, &n, err, sizeof err), OC_EMALFORMED);
    T_EQ_INT(resume_parse_batch("[1", 2, 10, NOW, &w, &n, err, sizeof err), OC_EMALFORMED);
    const char *bad = "[{\"profile\":\"p\",\"title\":\"t t\"}]";
    T_EQ_INT(resume_parse_batch(bad, strlen(bad), 10, NOW, &w, &n, err, sizeof err), OC_EINVAL);
    T_CONTAINS(err, "[0].title");
    T_TRUE(w == NULL);
}

/* The hot path reads the plain shape itself and declines the rest (which parse.c then reads). */
static void test_fast_path(void)
{
    struct resume_write *w = NULL, one;
    size_t n = 0;
    const char *ok = " [{\"profile\":\"p\",\"title\":\"t\",\"position_ms\":5,\"duration_ms\":9,"
                     "\"device\":\"d\",\"session\":\"s\",\"seq\":2,\"state\":\"playing\","
                     "\"ts\":1764000009000} ]\n";
    T_EQ_INT(resume_fast_batch(ok, strlen(ok), 10, NOW, &w, &n), 0);
    T_EQ_INT(n, 1);
    if (n == 1) {
        T_EQ_STR(w[0].title, "t");
        T_EQ_INT(w[0].r.position_ms, 5);
        T_EQ_INT(w[0].r.t, NOW);
        T_EQ_INT(w[0].r.state, RESUME_PLAYING);
    }
    free(w);
    const char *declined[] = {
        "[{\"profile\":\"\\u0070\"}]",             /* an escape */
        "[{\"profile\":\"p\",\"profile\":\"p\"}]", /* a duplicate */
        "{\"position_ms\":1.0}",                   /* a fraction */
        "[1]",
        "[{}] x",
        "",
        "[{\"extra\":1}]",
    };
    for (size_t i = 0; i < sizeof declined / sizeof declined[0]; i++) {
        T_EQ_INT(resume_fast_batch(declined[i], strlen(declined[i]), 10, NOW, &w, &n), -1);
        T_EQ_INT(resume_fast_object(declined[i], strlen(declined[i]), NOW, &one), -1);
    }
    const char *put = "{\"position_ms\":0,\"duration_ms\":1,\"device\":\"d\",\"session\":\"s\","
                      "\"seq\":0,\"state\":\"ended\",\"ts\":946684800000}";
    T_EQ_INT(resume_fast_object(put, strlen(put), NOW, &one), 0);
    T_EQ_INT(one.r.state, RESUME_ENDED);
    T_EQ_INT(one.r.t, 946684800000LL);
}

/* The winner's device among reports r[0..n). */
static const char *winner(const struct resume_report *r, int n)
{
    return r[resume_winner(r, n, IDLE)].device;
}

static void test_rule_table(void)
{
    /* An end wins over a later playing report... */
    struct resume_report a[] = {rep("phone", 1, NOW - 30000, 3500000, RESUME_ENDED),
                                rep("tv", 9, NOW, 1000, RESUME_PLAYING)};
    T_EQ_STR(winner(a, 2), "phone");
    /* ...unless another device's point moved more than the idle window after it: a new
     * viewing. */
    a[0].t = a[0].since = NOW - IDLE - 1;
    T_EQ_STR(winner(a, 2), "tv");
    /* A paused TV that keeps reporting does not beat a phone that is playing. */
    struct resume_report b[] = {rep("tv", 50, NOW, 600000, RESUME_PAUSED),
                                rep("phone", 3, NOW - 20000, 900000, RESUME_PLAYING)};
    T_EQ_STR(winner(b, 2), "phone");
    /* A phone silent for longer than the idle window is idle: the point that moved last wins
     * (here the TV's, paused after the phone went silent). */
    b[1].t = b[1].since = NOW - IDLE - 1;
    T_EQ_STR(winner(b, 2), "tv");
    /* The TV's heartbeats repeat a pause older than the phone's last move: the phone's. */
    b[0].since = NOW - IDLE - 2;
    T_EQ_STR(winner(b, 2), "phone");
    /* Two paused: the later since, then the later t, then the higher seq, then the device. */
    struct resume_report c[] = {rep("a", 1, NOW - 5, 10, RESUME_PAUSED),
                                rep("b", 1, NOW - 6, 20, RESUME_PAUSED)};
    T_EQ_STR(winner(c, 2), "a");
    c[1].t = NOW - 4;
    T_EQ_STR(winner(c, 2), "a");
    c[1].since = NOW - 5;
    T_EQ_STR(winner(c, 2), "b");
    c[1].t = NOW - 5;
    T_EQ_STR(winner(c, 2), "b");
    c[1].seq = 0;
    T_EQ_STR(winner(c, 2), "a");
    c[1].seq = 1;
    T_EQ_STR(winner(c, 2), "b");
}

static void test_future_clock_cannot_win_forever(void)
{
    /* The laptop's clock is a day ahead: clamped to the receive time, so a later report from
     * another device wins. */
    struct resume_write w;
    char err[200];
    T_EQ_INT(parse_put("{\"position_ms\":1,\"duration_ms\":2000,\"device\":\"laptop\","
                       "\"session\":\"s\",\"seq\":1,\"state\":\"paused\",\"ts\":1764086400000}",
                       &w, err, sizeof err),
             0);
    struct resume_report r[] = {w.r, rep("phone", 1, NOW + 1000, 20, RESUME_PAUSED)};
    T_EQ_STR(winner(r, 2), "phone");
}

static void test_apply_stale_and_coalesced(void)
{
    struct resume_report set[RESUME_DEVICES], gone;
    int n = 0, ev;
    struct resume_report r1 = rep("tv", 5, NOW, 1000, RESUME_PLAYING);
    T_EQ_INT(resume_apply(set, &n, &r1, &gone, &ev), RESUME_APPLIED);
    T_EQ_INT(resume_apply(set, &n, &r1, &gone, &ev), RESUME_STALE); /* duplicate */
    struct resume_report r0 = rep("tv", 4, NOW + 5, 9000, RESUME_PLAYING);
    T_EQ_INT(resume_apply(set, &n, &r0, &gone, &ev), RESUME_STALE); /* out of order */
    struct resume_report r2 = rep("tv", 6, NOW + 10, 1000, RESUME_PLAYING);
    T_EQ_INT(resume_apply(set, &n, &r2, &gone, &ev), RESUME_COALESCED); /* did not move */
    struct resume_report r3 = rep("tv", 7, NOW + 20, 2000, RESUME_PLAYING);
    T_EQ_INT(resume_apply(set, &n, &r3, &gone, &ev), RESUME_APPLIED);
    T_EQ_INT(n, 1);
    T_EQ_INT(set[0].seq, 7);
    T_EQ_INT(ev, -1);
}

static void test_apply_full_evicts_oldest(void)
{
    struct resume_report set[RESUME_DEVICES], gone;
    int n = 0, ev;
    char d[16];
    for (int i = 0; i < RESUME_DEVICES; i++) {
        snprintf(d, sizeof d, "d%02d", i);
        struct resume_report r = rep(d, 1, NOW + i, 100, RESUME_PAUSED);
        T_EQ_INT(resume_apply(set, &n, &r, &gone, &ev), RESUME_APPLIED);
    }
    struct resume_report late = rep("late", 1, NOW + 100, 100, RESUME_PAUSED);
    T_EQ_INT(resume_apply(set, &n, &late, &gone, &ev), RESUME_APPLIED);
    T_EQ_INT(n, RESUME_DEVICES);
    T_EQ_STR(gone.device, "d00");
    T_TRUE(ev >= 0);
    struct resume_report early = rep("early", 1, NOW - 100, 100, RESUME_PAUSED);
    T_EQ_INT(resume_apply(set, &n, &early, &gone, &ev), RESUME_STALE);
}

/* xorshift64: a deterministic generator for the permutations. */
static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Folds w[order[i]] for every i into a fresh set; returns the winner copied into out. */
static void fold(const struct resume_report *w, const int *order, int n, struct resume_report *out)
{
    struct resume_report set[RESUME_DEVICES], gone;
    int k = 0, ev;
    for (int i = 0; i < n; i++)
        resume_apply(set, &k, &w[order[i]], &gone, &ev);
    *out = set[resume_winner(set, k, IDLE)];
}

/* One device's report stream as players send it: seq rising by one, the session's position
 * never going back, paused or playing, heartbeats that repeat a paused point, now and then an
 * end; each report also sent twice now and then (a retry). Appends to w from *n. */
static void stream(uint64_t *s, const char *d, struct resume_report *w, int *n)
{
    int64_t t = NOW - 600000 + (int64_t)(rng_next(s) % 300000), pos = 0;
    int count = 3 + (int)(rng_next(s) % 8);
    enum resume_state st = RESUME_PLAYING;
    for (int i = 0; i < count; i++) {
        int r = (int)(rng_next(s) % 10);
        t += 10000 + (int64_t)(rng_next(s) % 3) * 10000;
        if (st == RESUME_PLAYING)
            pos += 10000;
        st = r < 6 ? RESUME_PLAYING : r < 9 ? RESUME_PAUSED : RESUME_ENDED;
        if (st == RESUME_ENDED)
            pos = 3600000;
        w[*n] = rep(d, i + 1, t, pos, st);
        (*n)++;
        if (rng_next(s) % 4 == 0) {
            w[*n] = w[*n - 1];
            (*n)++;
        }
        if (st == RESUME_ENDED)
            break;
    }
}

/* Streams from up to 6 devices, delivered in 200 random orders each (interleaved, reordered
 * within a device, duplicated): every order ends with the same winner, field for field,
 * since included. */
static void test_permutations_converge(void)
{
    static const char *const devices[] = {"phone", "tv", "laptop", "tablet", "car", "web"};
    uint64_t s = 0x9e3779b97f4a7c15ULL;
    for (int round = 0; round < 300; round++) {
        struct resume_report w[6 * 20];
        int order[6 * 20], n = 0, bad = 0, nd = 1 + (int)(rng_next(&s) % 6);
        for (int d = 0; d < nd; d++)
            stream(&s, devices[d], w, &n);
        for (int i = 0; i < n; i++)
            order[i] = i;
        struct resume_report first, again;
        fold(w, order, n, &first);
        for (int p = 0; p < 200; p++) {
            for (int i = n - 1; i > 0; i--) {
                int j = (int)(rng_next(&s) % (uint64_t)(i + 1)), x = order[i];
                order[i] = order[j];
                order[j] = x;
            }
            fold(w, order, n, &again);
            if (resume_device_cmp(&first, &again) != 0 || first.since != again.since ||
                strcmp(first.device, again.device) != 0)
                bad++;
        }
        T_EQ_INT(bad, 0);
    }
}

/* A replica of the shared mode: its set, and the changes it sent (each changed report as
 * the set keeps it, as module.c's apply_one logs them). */
struct replica {
    struct resume_report set[RESUME_DEVICES];
    int n;
    struct resume_report sent[6 * 20];
    int nsent;
};

/* Applies w to the replica as a write it received, noting what it sends to the others. */
static void replica_write(struct replica *r, const struct resume_report *w)
{
    struct resume_report gone;
    int ev;
    int64_t before = INT64_MAX, after = INT64_MAX;
    for (int k = 0; k < r->n; k++)
        if (strcmp(r->set[k].device, w->device) == 0)
            before = r->set[k].since;
    enum resume_outcome oc = resume_apply(r->set, &r->n, w, &gone, &ev);
    for (int k = 0; k < r->n; k++)
        if (strcmp(r->set[k].device, w->device) == 0)
            after = r->set[k].since;
    if (oc == RESUME_STALE && after >= before)
        return;
    for (int k = 0; k < r->n; k++)
        if (strcmp(r->set[k].device, w->device) == 0)
            r->sent[r->nsent++] = r->set[k];
}

/* The shared mode (shared.c): the reports of several devices spread over three replicas in
 * random orders; each folds the others' changes with resume_merge in a random order, twice
 * (a row read again after a restart). Every replica ends with the same set, field for field,
 * and the winner of one server that took every report. */
static void test_merge_replicas_converge(void)
{
    static const char *const devices[] = {"phone", "tv", "laptop", "tablet", "car", "web"};
    uint64_t s = 0x2545f4914f6cdd1dULL;
    for (int round = 0; round < 300; round++) {
        struct resume_report w[6 * 20], one;
        int order[6 * 20], n = 0, bad = 0, nd = 1 + (int)(rng_next(&s) % 6);
        for (int d = 0; d < nd; d++)
            stream(&s, devices[d], w, &n);
        for (int i = 0; i < n; i++)
            order[i] = i;
        fold(w, order, n, &one);
        for (int i = n - 1; i > 0; i--) {
            int j = (int)(rng_next(&s) % (uint64_t)(i + 1)), x = order[i];
            order[i] = order[j];
            order[j] = x;
        }
        static struct replica rep3[3];
        memset(rep3, 0, sizeof rep3);
        for (int i = 0; i < n; i++)
            replica_write(&rep3[rng_next(&s) % 3], &w[order[i]]);
        for (int pass = 0; pass < 2; pass++)
            for (int a = 0; a < 3; a++)
                for (int b = 0; b < 3; b++) {
                    int from = (int)((a + b + pass) % 3);
                    if (from == a)
                        continue;
                    for (int i = 0; i < rep3[from].nsent; i++) {
                        int k = pass ? rep3[from].nsent - 1 - i : i;
                        resume_merge(rep3[a].set, &rep3[a].n, &rep3[from].sent[k]);
                    }
                }
        for (int a = 0; a < 3; a++) {
            const struct resume_report *win =
                &rep3[a].set[resume_winner(rep3[a].set, rep3[a].n, IDLE)];
            if (resume_device_cmp(win, &one) != 0 || win->since != one.since ||
                strcmp(win->device, one.device) != 0 || rep3[a].n != rep3[0].n)
                bad++;
            for (int k = 0; k < rep3[a].n; k++) { /* every device's report, since included */
                int found = 0;
                for (int j = 0; j < rep3[0].n; j++)
                    found |= strcmp(rep3[0].set[j].device, rep3[a].set[k].device) == 0 &&
                             resume_device_cmp(&rep3[0].set[j], &rep3[a].set[k]) == 0 &&
                             rep3[0].set[j].since == rep3[a].set[k].since;
                bad += !found;
            }
        }
        T_EQ_INT(bad, 0);
    }
}

/* resume_merge: the greater report of a device stays, the lesser since of the same point,
 * and merging the same report again changes nothing. */
static void test_merge_rule(void)
{
    struct resume_report set[RESUME_DEVICES];
    int n = 0;
    struct resume_report a = rep("tv", 5, NOW + 20000, 600000, RESUME_PAUSED);
    struct resume_report b = rep("tv", 6, NOW + 30000, 600000, RESUME_PAUSED);
    struct resume_report c = rep("tv", 4, NOW + 10000, 500000, RESUME_PAUSED);
    a.since = NOW + 20000;
    b.since = NOW + 30000;
    c.since = NOW + 10000;
    T_EQ_INT(resume_merge(set, &n, &b), RESUME_APPLIED);
    T_EQ_INT(resume_merge(set, &n, &b), RESUME_STALE);
    T_EQ_INT(n, 1);
    T_EQ_INT(resume_merge(set, &n, &a), RESUME_STALE); /* older, same point: since lowered */
    T_EQ_INT(set[0].seq, 6);
    T_EQ_INT(set[0].since, NOW + 20000);
    T_EQ_INT(resume_merge(set, &n, &c), RESUME_STALE); /* older, another point */
    T_EQ_INT(set[0].since, NOW + 20000);
    T_EQ_INT(set[0].position_ms, 600000);
}

/* A point one device writes again and again keeps one report's room (a slot is 256 bytes:
 * reserving one per write before the rule looked for the device doubled a single-device
 * point's memory on its second write); a second device gets its own. */
static void test_one_device_keeps_one_slot(void)
{
    struct resume_table t;
    struct resume_op op;
    resume_table_init(&t);
    memset(&op, 0, sizeof op);
    snprintf(op.w.profile, sizeof op.w.profile, "p");
    snprintf(op.w.title, sizeof op.w.title, "t");
    for (int seq = 1; seq <= 5; seq++) {
        op.w.r = rep("tv", seq, NOW + seq, 1000 * seq, RESUME_PLAYING);
        T_EQ_INT(resume_table_merge(&t, &op, 10, 10), RESUME_APPLIED);
    }
    struct resume_point *p = resume_table_get(&t, "p", "t");
    T_TRUE(p != NULL);
    if (p) {
        T_EQ_INT(p->n, 1);
        T_EQ_INT(p->cap, 1);
        T_EQ_INT(p->r[0].position_ms, 5000);
        resume_point_reserve_for(p, "tv");
        T_EQ_INT(p->cap, 1);
        resume_point_reserve_for(p, "phone");
        T_EQ_INT(p->cap, 2);
    }
    op.w.r = rep("phone", 1, NOW + 9, 7000, RESUME_PLAYING);
    T_EQ_INT(resume_table_merge(&t, &op, 10, 10), RESUME_APPLIED);
    T_EQ_INT(p->n, 2);
    T_EQ_INT(p->cap, 2);
    resume_table_free(&t);
}

/* The paused TV keeps reporting its old point while the phone plays, and goes on reporting
 * after the phone went silent (the app was closed without a pause): the phone's point, which
 * moved last, stays the resume point. */
static void test_paused_heartbeats_do_not_overwrite(void)
{
    struct resume_report set[RESUME_DEVICES], gone;
    int n = 0, ev, seq = 0;
    for (int64_t t = 0; t <= 600000; t += 30000) { /* TV paused at 10 min, reporting */
        struct resume_report tv = rep("tv", ++seq, NOW + t, 600000, RESUME_PAUSED);
        resume_apply(set, &n, &tv, &gone, &ev);
    }
    for (int64_t t = 60000; t <= 300000; t += 10000) { /* the phone plays 1..5 min in */
        struct resume_report ph = rep("phone", t / 10000, NOW + t, 600000 + t, RESUME_PLAYING);
        resume_apply(set, &n, &ph, &gone, &ev);
    }
    const struct resume_report *win = &set[resume_winner(set, n, IDLE)];
    T_EQ_STR(win->device, "phone");
    T_EQ_INT(win->position_ms, 900000);
    for (int i = 0; i < n; i++)
        if (strcmp(set[i].device, "tv") == 0)
            T_EQ_INT(set[i].since, NOW); /* heartbeats did not move the TV's point */
}

static void test_watched_thresholds(void)
{
    struct resume_report r = rep("tv", 1, NOW, 0, RESUME_PAUSED);
    r.duration_ms = 1000000;
    r.position_ms = 49999; /* under 5% */
    T_EQ_INT(resume_watched(&r, 0.05, 0.90, 300000), 1);
    r.position_ms = 50000;
    T_EQ_INT(resume_watched(&r, 0.05, 0.90, 300000), 0);
    r.position_ms = 900000;
    T_EQ_INT(resume_watched(&r, 0.05, 0.90, 300000), 0);
    r.position_ms = 900001; /* over 90% */
    T_EQ_INT(resume_watched(&r, 0.05, 0.90, 300000), 1);
    r.position_ms = 100000;
    r.duration_ms = 299999; /* shorter than 300 s */
    T_EQ_INT(resume_watched(&r, 0.05, 0.90, 300000), 1);
    r.duration_ms = 1000000;
    r.state = RESUME_ENDED;
    T_EQ_INT(resume_watched(&r, 0.05, 0.90, 300000), 1);
}

static void test_table_caps(void)
{
    struct resume_table t;
    struct resume_point *p, *q;
    resume_table_init(&t);
    T_EQ_INT(resume_table_put(&t, "p", "a", 3, 2, &p), 0);
    T_EQ_INT(resume_table_put(&t, "p", "a", 3, 2, &q), 0);
    T_TRUE(p == q);
    T_EQ_INT(resume_table_put(&t, "p", "b", 3, 2, &p), 0);
    T_EQ_INT(resume_table_put(&t, "p", "c", 3, 2, &p), OC_ETOOBIG); /* titles per profile */
    T_EQ_INT(resume_table_put(&t, "q", "a", 3, 2, &p), 0);
    T_EQ_INT(resume_table_put(&t, "r", "a", 3, 2, &p), OC_ETOOBIG); /* points */
    T_TRUE(resume_table_get(&t, "q", "a") == p);
    T_TRUE(resume_table_get(&t, "q", "b") == NULL);
    T_EQ_INT(resume_table_profile(&t, "p")->npoints, 2);
    for (int i = 0; i < 5000; i++) { /* past several bucket doublings */
        char id[16];
        snprintf(id, sizeof id, "x%d", i);
        T_EQ_INT(resume_table_put(&t, id, "t", 100000, 10, &p), 0);
    }
    T_TRUE(resume_table_get(&t, "x4321", "t") != NULL);
    T_EQ_INT(t.npoints, 5003);
    resume_table_free(&t);
}

/* Writers for the group-commit case. */
struct writer {
    struct resume_log *log;
    pthread_mutex_t *mu; /* stands for the table's write lock */
    int id;
    int failed;
};

static void *write_many(void *arg)
{
    struct writer *w = arg;
    for (int i = 0; i < 200; i++) {
        struct resume_write x;
        memset(&x, 0, sizeof x);
        snprintf(x.profile, sizeof x.profile, "p%d", w->id);
        snprintf(x.title, sizeof x.title, "t%d", i);
        x.r = rep("dev", i, NOW + i, 1000 + i, RESUME_PLAYING);
        uint64_t b;
        pthread_mutex_lock(w->mu);
        resume_log_lock(w->log);
        resume_log_push(w->log, 0, &x, &b);
        resume_log_unlock(w->log);
        pthread_mutex_unlock(w->mu);
        if (resume_log_wait(w->log, b) != 0)
            w->failed++;
    }
    return NULL;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Opens the log of dir into t (initialized here): 0 or the error. */
static int open_log(struct resume_log *l, const char *dir, struct resume_table *t)
{
    char err[1400];
    resume_table_init(t);
    int rc = resume_log_open(l, dir, 0, 0, NULL, t, err, sizeof err);
    if (rc)
        fprintf(stderr, "open_log: %s\n", err);
    return rc;
}

static void test_group_commit_reloads(void)
{
    char dir[64] = "/tmp/oncue-resume-XXXXXX";
    struct resume_log log;
    struct resume_table t;
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_t th[4];
    struct writer w[4];
    T_TRUE(mkdtemp(dir) != NULL);
    T_EQ_INT(open_log(&log, dir, &t), 0);
    T_EQ_INT(t.npoints, 0);
    resume_table_free(&t);
    for (int i = 0; i < 4; i++) {
        w[i] = (struct writer){&log, &mu, i, 0};
        pthread_create(&th[i], NULL, write_many, &w[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        T_EQ_INT(w[i].failed, 0);
    }
    T_EQ_INT(atomic_load(&log.rows), 800);
    T_TRUE(atomic_load(&log.commits) <= 800);
    resume_log_close(&log);
    T_EQ_INT(open_log(&log, dir, &t), 0);
    T_EQ_INT(t.npoints, 800);
    const struct resume_point *p = resume_table_get(&t, "p3", "t199");
    T_TRUE(p != NULL);
    if (p) {
        T_EQ_INT(p->n, 1);
        T_EQ_INT(p->r[0].position_ms, 1199);
        T_EQ_INT(p->r[0].seq, 199);
        T_EQ_INT(p->r[0].t, NOW + 199);
        T_EQ_INT(p->r[0].since, NOW + 199);
        T_EQ_INT(p->r[0].state, RESUME_PLAYING);
        T_EQ_STR(p->r[0].session, "s-dev");
    }
    resume_table_free(&t);
    resume_log_close(&log);
    nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* Queues a put (del 0) or a delete of (p, title, dev) in the filling batch of l. */
static uint64_t queue_op(struct resume_log *l, int del, const char *title, const char *dev,
                         int64_t seq, int64_t pos)
{
    uint64_t b;
    struct resume_write w;
    memset(&w, 0, sizeof w);
    snprintf(w.profile, sizeof w.profile, "p");
    snprintf(w.title, sizeof w.title, "%s", title);
    w.r = rep(dev, seq, NOW + seq, pos, RESUME_PLAYING);
    resume_log_lock(l);
    resume_log_push(l, del, &w, &b);
    resume_log_unlock(l);
    return b;
}

/* One commit of the same report put several times and a delete between puts: replayed in
 * the order queued. */
static void test_commit_runs_keep_order(void)
{
    char dir[64] = "/tmp/oncue-resume-XXXXXX", title[16];
    struct resume_log log;
    struct resume_table t;
    uint64_t b = 0;
    T_TRUE(mkdtemp(dir) != NULL);
    T_EQ_INT(open_log(&log, dir, &t), 0);
    resume_table_free(&t);
    for (int i = 0; i < 150; i++) { /* t0..t49 by device a, three times each */
        snprintf(title, sizeof title, "t%d", i % 50);
        b = queue_op(&log, 0, title, "a", i, 1000 + i);
    }
    b = queue_op(&log, 1, "t7", "a", 0, 0);
    for (int j = 0; j < 70; j++) { /* t0..t69 by device b */
        snprintf(title, sizeof title, "t%d", j);
        b = queue_op(&log, 0, title, "b", j, 5000 + j);
    }
    T_EQ_INT(resume_log_wait(&log, b), 0);
    T_EQ_INT(atomic_load(&log.commits), 1);
    T_EQ_INT(atomic_load(&log.rows), 221);
    resume_log_close(&log);
    T_EQ_INT(open_log(&log, dir, &t), 0);
    T_EQ_INT(t.npoints, 70);
    const struct resume_point *p = resume_table_get(&t, "p", "t0");
    T_TRUE(p != NULL && p->n == 2);
    for (int k = 0; p && k < p->n; k++)
        if (strcmp(p->r[k].device, "a") == 0) {
            T_EQ_INT(p->r[k].seq, 100);
            T_EQ_INT(p->r[k].position_ms, 1100);
        }
    p = resume_table_get(&t, "p", "t49");
    T_TRUE(p != NULL && p->n == 2);
    for (int k = 0; p && k < p->n; k++)
        T_EQ_INT(p->r[k].position_ms, strcmp(p->r[k].device, "a") == 0 ? 1149 : 5049);
    p = resume_table_get(&t, "p", "t7");
    T_TRUE(p != NULL && p->n == 1);
    if (p) {
        T_EQ_STR(p->r[0].device, "b");
        T_EQ_INT(p->r[0].position_ms, 5007);
    }
    p = resume_table_get(&t, "p", "t69");
    T_TRUE(p != NULL && p->n == 1);
    if (p)
        T_EQ_INT(p->r[0].position_ms, 5069);
    resume_table_free(&t);
    resume_log_close(&log);
    nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static const struct t_case cases[] = {
    T_CASE(test_parse_valid_and_clamped),
    T_CASE(test_parse_refusals_name_the_field),
    T_CASE(test_ids),
    T_CASE(test_parse_batch),
    T_CASE(test_fast_path),
    T_CASE(test_rule_table),
    T_CASE(test_future_clock_cannot_win_forever),
    T_CASE(test_apply_stale_and_coalesced),
    T_CASE(test_apply_full_evicts_oldest),
    T_CASE(test_permutations_converge),
    T_CASE(test_merge_replicas_converge),
    T_CASE(test_merge_rule),
    T_CASE(test_one_device_keeps_one_slot),
    T_CASE(test_paused_heartbeats_do_not_overwrite),
    T_CASE(test_watched_thresholds),
    T_CASE(test_table_caps),
    T_CASE(test_group_commit_reloads),
    T_CASE(test_commit_runs_keep_order),
    {0},
};

T_MAIN(cases)
