/*
 * clock.h - the one injected clock.
 *
 * Business logic takes time from a struct oc_clock, never from time(), so tests, drills and
 * replays drive it. Three kinds:
 *   real     the wall clock;
 *   virtual  set and advanced by the caller (tests, drills);
 *   replay   follows the event-time watermark: the latest event time observed, so a
 *            recorded day replays at full speed with the same results.
 * All calls are thread-safe.
 */
#ifndef OC_CORE_CLOCK_H
#define OC_CORE_CLOCK_H

#include <stdint.h>

enum oc_clock_kind {
    OC_CLOCK_REAL = 0,
    OC_CLOCK_VIRTUAL,
    OC_CLOCK_REPLAY,
};

struct oc_clock {
    enum oc_clock_kind kind; /* fixed at init */
    _Atomic int64_t now_ms;  /* virtual: current time; replay: highest event time observed */
};

/* Initializes a clock of the given kind; start_ms is the initial time (ignored for real). */
void oc_clock_init(struct oc_clock *c, enum oc_clock_kind kind, int64_t start_ms);
/* Current time in unix milliseconds. */
int64_t oc_clock_now_ms(struct oc_clock *c);
/* Current time in whole unix seconds. */
int64_t oc_clock_now_s(struct oc_clock *c);
/* Virtual clock: sets the time (never moves backwards). No effect on other kinds. */
void oc_clock_set_ms(struct oc_clock *c, int64_t ms);
/* Virtual clock: advances by delta_ms. No effect on other kinds. */
void oc_clock_advance_ms(struct oc_clock *c, int64_t delta_ms);
/* Replay clock: notes an event time; the clock follows the highest seen. No effect otherwise. */
void oc_clock_observe_ms(struct oc_clock *c, int64_t event_ms);
/* Parses "real", "virtual" or "replay"; 0 or OC_EINVAL. */
int oc_clock_kind_parse(const char *s, enum oc_clock_kind *out /* OUT */);
/* The wall clock in unix milliseconds, for log stamps and latency only (not business logic). */
int64_t oc_wall_ms(void);
/* A monotonic clock in nanoseconds, for measuring durations. */
int64_t oc_mono_ns(void);

#endif
