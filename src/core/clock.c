/*
 * clock.c - real, virtual and replay clocks (see clock.h).
 */
#include "core/clock.h"
#include "core/err.h"

#include <stdatomic.h>
#include <string.h>
#include <time.h>

int64_t oc_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t oc_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void oc_clock_init(struct oc_clock *c, enum oc_clock_kind kind, int64_t start_ms)
{
    c->kind = kind;
    atomic_store(&c->now_ms, start_ms);
}

int64_t oc_clock_now_ms(struct oc_clock *c)
{
    if (c->kind == OC_CLOCK_REAL)
        return oc_wall_ms();
    return atomic_load(&c->now_ms);
}

int64_t oc_clock_now_s(struct oc_clock *c)
{
    int64_t ms = oc_clock_now_ms(c);
    return ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
}

/* Raises now_ms to at least ms (lock-free max). */
static void raise_to(struct oc_clock *c, int64_t ms)
{
    int64_t cur = atomic_load(&c->now_ms);
    while (ms > cur && !atomic_compare_exchange_weak(&c->now_ms, &cur, ms))
        ;
}

void oc_clock_set_ms(struct oc_clock *c, int64_t ms)
{
    if (c->kind == OC_CLOCK_VIRTUAL)
        raise_to(c, ms);
}

void oc_clock_advance_ms(struct oc_clock *c, int64_t delta_ms)
{
    if (c->kind == OC_CLOCK_VIRTUAL && delta_ms > 0)
        atomic_fetch_add(&c->now_ms, delta_ms);
}

void oc_clock_observe_ms(struct oc_clock *c, int64_t event_ms)
{
    if (c->kind == OC_CLOCK_REPLAY)
        raise_to(c, event_ms);
}

int oc_clock_kind_parse(const char *s, enum oc_clock_kind *out)
{
    if (strcmp(s, "real") == 0)
        *out = OC_CLOCK_REAL;
    else if (strcmp(s, "virtual") == 0)
        *out = OC_CLOCK_VIRTUAL;
    else if (strcmp(s, "replay") == 0)
        *out = OC_CLOCK_REPLAY;
    else
        return OC_EINVAL;
    return 0;
}
