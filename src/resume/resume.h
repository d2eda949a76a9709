/*
 * resume.h - cross-device resume: playback positions written by every device of a viewer
 * profile, one resume point per profile and title chosen by a deterministic conflict rule,
 * and the continue-watching row.
 *
 * The rule (docs/internals/resume.md) is a pure function of the set of reports a point holds,
 * one per device (the device's highest), so two servers given the same reports in any order
 * answer the same point. This header exposes the rule and the parser for the unit tests, the
 * fuzz target and the simulator; the module (module.c) serves /v1/resume.
 */
#ifndef OC_RESUME_RESUME_H
#define OC_RESUME_RESUME_H

#include "core/module.h"
#include "core/opt.h"

#include <stddef.h>
#include <stdint.h>

#define RESUME_ID_MAX         128                /* bytes of a profile or title id */
#define RESUME_DEVICE_MAX     64                 /* bytes of a device id */
#define RESUME_SESSION_MAX    128                /* bytes of a session id */
#define RESUME_DEVICES        16                 /* device reports kept per point */
#define RESUME_POS_MAX_MS     (7LL * 86400000LL) /* largest position or duration: 7 days */
#define RESUME_SEQ_MAX        9007199254740991LL /* 2^53 - 1: exact in every JSON reader */
#define RESUME_TS_MIN_MS      946684800000LL     /* 2000-01-01T00:00:00Z */
#define RESUME_TS_MAX_MS      4102444800000LL    /* 2100-01-01T00:00:00Z */
#define RESUME_BATCH_MAX      100000             /* reports of one POST /v1/resume */
#define RESUME_BATCH_MAX_BODY (16u << 20)        /* bytes of one POST /v1/resume */
#define RESUME_PUT_MAX_BODY   4096               /* bytes of one PUT */

/* What the device says the playback is doing. */
enum resume_state {
    RESUME_PAUSED = 0,  /* paused, stopped, or not yet started */
    RESUME_PLAYING = 1, /* frames advancing */
    RESUME_ENDED = 2,   /* watched to the end, or marked watched */
};

/* One device's report on one point (profile, title). */
struct resume_report {
    char device[RESUME_DEVICE_MAX + 1];   /* the reporting device */
    char session[RESUME_SESSION_MAX + 1]; /* its playback session */
    int64_t position_ms;                  /* 0 .. duration_ms */
    int64_t duration_ms;                  /* 1 .. RESUME_POS_MAX_MS */
    int64_t seq;                          /* the device's sequence number */
    int64_t ts;                           /* event time the device sent (unix ms) */
    int64_t t;                            /* ts clamped to the receive time: last heard */
    int64_t since;                        /* the t at which the device first reported this
                                             session, position, duration and state: when its
                                             point last moved */
    enum resume_state state;
};

/* One write: a report and the point it is about. */
struct resume_write {
    char profile[RESUME_ID_MAX + 1];
    char title[RESUME_ID_MAX + 1];
    struct resume_report r;
};

/* The names of the states ("paused", "playing", "ended"). */
extern const char *const resume_state_names[];

/* 1 when s is a valid profile, title or device id: 1 to max bytes of A-Z a-z 0-9 . _ : -. */
int resume_id_valid(const char *s, size_t max);

/* Checks one report object (PUT body, or a batch item when ids is 1, which then also reads
 * "profile" and "title") and fills w; recv_ms clamps ts into w->r.t. 0, or OC_EINVAL with a
 * detail naming the field in err (errlen bytes). obj is borrowed. */
int resume_parse_object(const json_t *obj, int ids, int64_t recv_ms,
                        struct resume_write *w /* OUT */, char *err, size_t errlen);
/* Parses a POST /v1/resume body (n bytes, a JSON array of at most max objects) into *out
 * (an array of *nout writes, malloc'd: the caller frees it). 0; OC_EMALFORMED (not JSON or not
 * an array), OC_ETOOBIG (more than max items) or OC_EINVAL (an item is bad: err names its
 * index and field), with *out NULL. */
int resume_parse_batch(const char *p, size_t n, size_t max, int64_t recv_ms,
                       struct resume_write **out /* OUT */, size_t *nout /* OUT */, char *err,
                       size_t errlen);

/* The hot path of both (fast.c): reads the plain shape of a PUT body (one object) or a POST
 * body (an array) without a JSON tree. 0 with the same result the functions above give, or
 * -1 when the body is anything else (escapes, other members, non-ASCII, a bound broken, not
 * JSON): then call them for the answer. The caller frees *out. */
int resume_fast_object(const char *p, size_t n, int64_t recv_ms, struct resume_write *w /* OUT */);
int resume_fast_batch(const char *p, size_t n, size_t max, int64_t recv_ms,
                      struct resume_write **out /* OUT */, size_t *nout /* OUT */);
/* Frees the array a batch parse gave (free() does too), keeping the one resume_fast_batch
 * last handed to this thread for its next batch (up to 8 MiB; freed when the thread ends). */
void resume_batch_done(struct resume_write *w);

/* Orders two reports of one device: > 0 when a supersedes b (higher seq; on equal seq, a
 * total order over the other fields but since), < 0 when b supersedes a, 0 when equal. */
int resume_device_cmp(const struct resume_report *a, const struct resume_report *b);
/* The index of the winning report among the n (> 0) reports of one point, one per device
 * (distinct device ids), idle_ms being the idle window of the rule. A pure function of the
 * set: the order of r does not matter. */
int resume_winner(const struct resume_report *r, int n, int64_t idle_ms);

/* What resume_apply did. */
enum resume_outcome {
    RESUME_APPLIED = 0, /* the device's report changed the point's set */
    RESUME_COALESCED,   /* newer, but the same session, position, duration and state */
    RESUME_STALE,       /* a duplicate or an older report of the device: refused */
};
/* Folds report w (w->since = w->t) into the set r of *n reports (capacity RESUME_DEVICES):
 * replaces the device's report when w supersedes it (keeping the earlier since when w only
 * repeats the session, position, duration and state: coalesced), adds it otherwise, and when
 * the set is full drops the report with the lowest (t, device) first (*evicted is then set to
 * its index and the evicted report copied into *gone). A stale report that repeats the
 * device's kept one still lowers its since, so the kept since is the earliest time the device
 * reported that point, whatever the arrival order. The outcome. */
enum resume_outcome resume_apply(struct resume_report *r, int *n, const struct resume_report *w,
                                 struct resume_report *gone /* OUT */, int *evicted /* OUT */);

/* Folds w, a device's report as another replica keeps it (its since included), into the set r
 * of *n reports: the device keeps the greater of the two by resume_device_cmp and, when both
 * report the same point, the lesser since; a new device is added (a full set drops the lowest
 * (t, device) as resume_apply does). A maximum and a minimum: folding the same reports in any
 * order, any number of times, ends with the same set. The outcome (STALE: nothing changed
 * but perhaps since). */
enum resume_outcome resume_merge(struct resume_report *r, int *n, const struct resume_report *w);

/* 1 when a point counts as watched and stays out of the continue-watching row: ended, or
 * duration under min_duration_ms, or position under lo or over hi (shares of duration). */
int resume_watched(const struct resume_report *r, double lo, double hi, int64_t min_duration_ms);

/* `oncue bench resume`: load on a running server's resume routes (bench.c). */
int resume_bench_main(int argc, char **argv);
/* The options of `oncue bench resume`, ending in {0}. */
extern const struct oc_cli resume_bench_cli[];

/* The module: PUT/GET /v1/resume/{profile}/{title}, POST /v1/resume, GET
 * /v1/resume/{profile}; needs the store. */
extern const struct oc_module resume_module;

#endif
