/*
 * sim.c - the population: creation with a warm start (viewers already playing), the arrival
 * process (per-region rates following a diurnal curve), the one-second timing wheel that
 * drives every session's next action, and the per-second fault intensities.
 */
#include "sim/session.h"

#include "core/alloc.h"
#include "core/clock.h"
#include "core/err.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The diurnal factor of region r at time ms (linear between the hourly values). */
static double diurnal(const struct sim_topo *t, int r, int64_t ms)
{
    double h = fmod((double)ms / 3600000.0 + t->regions[r].utc_offset_h, 24.0);
    if (h < 0)
        h += 24;
    int h0 = (int)h % 24, h1 = (h0 + 1) % 24;
    double f = h - floor(h);
    return t->diurnal[h0] * (1 - f) + t->diurnal[h1] * f;
}

/* Mean playing time: titles' weights times the mean of their length lognormal. */
static double mean_len_ms(const struct sim_topo *t)
{
    double sum = 0, prev = 0;
    for (int i = 0; i < t->title_w.n; i++) {
        int k = t->titles[i].live;
        double w = t->title_w.cum[i] - prev;
        prev = t->title_w.cum[i];
        sum += w * exp(t->len_mu[k] + t->len_sigma[k] * t->len_sigma[k] / 2) * 60000.0;
    }
    return sum;
}

/* Resolves fault slices to value ids and makes truth times absolute. */
static void resolve_faults(struct sim *m)
{
    m->n_faults = m->sc ? m->sc->n_faults : 0;
    for (int i = 0; i < m->n_faults; i++) {
        const struct sim_fault *f = &m->sc->faults[i];
        struct sim_rfault *r = &m->rf[i];
        r->f = f;
        m->truth[i] = f->truth;
        m->truth[i].start_ms += m->start_ms;
        m->truth[i].end_ms += m->start_ms;
        for (int d = 0; d < f->truth.n_dims; d++) {
            const struct sim_slice_dim *sd = &f->truth.dims[d];
            for (int k = 0; k < sd->n; k++)
                r->ids[sd->dim][k] = sim_topo_find(m->t, sd->vals[k]);
            r->n_ids[sd->dim] = (uint8_t)sd->n;
            if (sd->dim == BEACON_CDN || sd->dim == BEACON_POP)
                r->cdn_related = 1;
        }
    }
}

/* Fault intensities for the second starting at ms. */
static void update_faults(struct sim *m, int64_t ms)
{
    m->active = 0;
    for (int i = 0; i < m->n_faults; i++) {
        struct sim_rfault *r = &m->rf[i];
        const struct sim_effect *e = &r->f->eff;
        int64_t since = ms - m->truth[i].start_ms;
        r->inten = r->rebuf = 0;
        if (since < 0 || ms >= m->truth[i].end_ms)
            continue;
        r->inten = r->f->ramp_ms > 0 ? fmin(1.0, (double)since / (double)r->f->ramp_ms) : 1.0;
        if (e->rebuffer_ppm > 0)
            r->rebuf = fmin(e->rebuffer_max, e->rebuffer_ppm / 100.0 * (double)since / 60000.0);
        else
            r->rebuf = e->rebuffer_max * r->inten;
        m->active |= 1u << i;
    }
}

/* Arrival rates so that concurrency starts at the requested viewers. */
static void init_rates(struct sim *m, int viewers)
{
    const struct sim_topo *t = m->t;
    double wsum = 0;
    for (int r = 0; r < t->n_regions; r++)
        wsum += t->regions[r].weight;
    m->mean_len_ms = mean_len_ms(t);
    for (int r = 0; r < t->n_regions; r++) {
        double share = t->regions[r].weight / wsum;
        m->region_rate[r] = viewers * share / (m->mean_len_ms / 1000.0);
        m->region_d0[r] = diurnal(t, r, m->start_ms);
    }
}

/* Arrivals per second in region r at ms. */
static double region_rate(struct sim *m, int r, int64_t ms)
{
    return m->region_rate[r] * diurnal(m->t, r, ms) / m->region_d0[r];
}

/* Creates the sessions arriving during [ms, ms + 1000). */
static void arrivals(struct sim *m, int64_t ms)
{
    double rates[16], total = 0;
    for (int r = 0; r < m->t->n_regions; r++)
        total += rates[r] = region_rate(m, r, ms);
    if (!(total > 0))
        return;
    while (m->next_arrival_ms < (double)(ms + 1000)) {
        double u = sim_rng_unit(&m->rng) * total, acc = 0;
        int r = 0;
        while (r < m->t->n_regions - 1 && u >= (acc += rates[r]))
            r++;
        sim_player_arrive(m, r, (int64_t)m->next_arrival_ms, 0);
        m->next_arrival_ms += sim_rng_exp(&m->rng, 1000.0 / total);
    }
}

uint32_t sim_sess_alloc(struct sim *m)
{
    uint32_t i = m->free_head;
    if (i != SIM_NIL) {
        m->free_head = m->ss[i].next;
    } else {
        m->ss = oc_grow(m->ss, &m->cap_ss, (size_t)m->n_ss + 1, sizeof(*m->ss));
        i = m->n_ss++;
    }
    memset(&m->ss[i], 0, sizeof(m->ss[i]));
    m->ss[i].next = SIM_NIL;
    m->alive++;
    return i;
}

void sim_sess_release(struct sim *m, uint32_t i)
{
    m->ss[i].state = SESS_FREE;
    m->ss[i].next = m->free_head;
    m->free_head = i;
    m->alive--;
}

void sim_schedule(struct sim *m, uint32_t i)
{
    uint32_t slot = (uint32_t)((m->ss[i].due_ms / 1000) % SIM_WHEEL);
    m->ss[i].next = SIM_NIL;
    if (m->tail[slot] == SIM_NIL)
        m->head[slot] = i;
    else
        m->ss[m->tail[slot]].next = i;
    m->tail[slot] = i;
}

/* The struggling-spell model: a two-state chain per heartbeat whose stationary share and mean
 * spell length are the baseline's, rebuffering strug_ms on average per struggling heartbeat. */
static void init_struggle(struct sim *m)
{
    const struct sim_baseline *b = &m->t->base;
    double pi = b->struggling_share;
    m->p_leave = fmin(1.0, m->hb_ms / (b->struggling_s * 1000.0));
    m->p_enter = pi * m->p_leave / (1 - pi);
    m->strug_ms = b->rebuffer_ratio / pi * m->hb_ms;
}

/* The viewers already playing at the start, spread over regions by their weight. */
static void warm_start(struct sim *m, int viewers)
{
    const struct sim_topo *t = m->t;
    double wsum = 0;
    for (int k = 0; k < t->n_regions; k++)
        wsum += t->regions[k].weight;
    for (int i = 0; i < viewers && (uint32_t)i < SIM_MAX_SESSIONS; i++) {
        double u = sim_rng_unit(&m->rng) * wsum, acc = 0;
        int r = 0;
        while (r < t->n_regions - 1 && u >= (acc += t->regions[r].weight))
            r++;
        sim_player_arrive(m, r, m->now_ms, 1);
    }
}

int sim_new(const struct sim_opts *opts, const struct sim_topo *topo, const struct sim_scenario *sc,
            struct sim **out)
{
    if (!opts || !opts->sink || !topo || topo->n_regions > 16)
        return OC_EINVAL;
    if (opts->viewers < 0 || (uint32_t)opts->viewers > SIM_MAX_SESSIONS / 2)
        return OC_ETOOBIG;
    struct sim *m = oc_calloc(1, sizeof(*m));
    int viewers = opts->viewers > 0 ? opts->viewers : topo->viewers;
    m->o = *opts;
    m->t = topo;
    m->sc = sc;
    m->hb_ms = topo->heartbeat_s * 1000;
    m->start_ms = opts->start_ms ? opts->start_ms
                                 : (SIM_DEFAULT_DAY + (sc ? sc->begin_s : 19 * 3600 + 1800)) * 1000;
    m->now_ms = m->start_ms - m->start_ms % 1000;
    m->free_head = SIM_NIL;
    for (int s = 0; s < SIM_WHEEL; s++)
        m->head[s] = m->tail[s] = SIM_NIL;
    sim_rng_seed(&m->rng, opts->seed);
    init_struggle(m);
    resolve_faults(m);
    update_faults(m, m->now_ms);
    init_rates(m, viewers);
    m->next_arrival_ms = (double)m->now_ms;
    warm_start(m, viewers);
    *out = m;
    return 0;
}

void sim_destroy(struct sim *s)
{
    if (!s)
        return;
    free(s->ss);
    free(s);
}

/* Simulates the second starting at ms. */
static void step(struct sim *m, int64_t ms)
{
    uint32_t slot = (uint32_t)((ms / 1000) % SIM_WHEEL);
    update_faults(m, ms);
    if (m->alive < (int)SIM_MAX_SESSIONS)
        arrivals(m, ms);
    while (m->head[slot] != SIM_NIL) {
        uint32_t i = m->head[slot];
        m->head[slot] = m->tail[slot] = SIM_NIL;
        while (i != SIM_NIL) {
            uint32_t next = m->ss[i].next;
            sim_player_act(m, i);
            i = next;
        }
    }
}

int sim_run(struct sim *s, int64_t until_ms)
{
    while (s->now_ms + 1000 <= until_ms) {
        step(s, s->now_ms);
        s->now_ms += 1000;
        if (s->o.clock)
            oc_clock_set_ms(s->o.clock, s->now_ms);
        if (s->o.tick)
            s->o.tick(s->o.tick_arg, s->now_ms);
    }
    return 0;
}

int64_t sim_now_ms(const struct sim *s)
{
    return s->now_ms;
}

uint64_t sim_events(const struct sim *s)
{
    return s->events;
}

int sim_sessions(const struct sim *s)
{
    return s->alive;
}

const struct sim_truth *sim_truth(const struct sim *s, int *n)
{
    *n = s->n_faults;
    return s->truth;
}
