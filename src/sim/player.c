/*
 * player.c - what one simulated player does: draws its attributes from the topology, follows
 * content steering the way hls.js does (fetch at start and every TTL, play the first pathway
 * it has not penalized, penalize a failing pathway for 5 minutes), decides its start outcome,
 * and emits start, heartbeat, error and end events with the faults in effect applied.
 */
#include "sim/session.h"

#include <math.h>
#include <string.h>

/* Fills ev with the session's id and dimensions for an event of type at ts. */
static void ev_init(struct sim *m, const struct sess *s, int64_t ts, enum beacon_type type,
                    struct beacon_event *ev)
{
    const struct beacon_str *vals = m->t->vals;
    memset(ev, 0, sizeof(*ev));
    ev->ts_ms = ts;
    ev->type = type;
    ev->session = (struct beacon_str){s->sid, 16};
    for (int d = 0; d < BEACON_NDIMS; d++)
        ev->dims[d] = vals[s->v[d]];
}

static void emit(struct sim *m, const struct beacon_event *ev)
{
    m->events++;
    m->o.sink(m->o.sink_arg, ev);
}

/* The error code of fault k (0 baseline, else fault index + 1). */
static struct beacon_str code_str(struct sim *m, const struct sess *s, int k)
{
    const char *c = k ? m->rf[k - 1].f->eff.error_code : NULL;
    if (!c)
        return m->t->vals[s->code];
    return (struct beacon_str){c, (uint32_t)strlen(c)};
}

/* Emits a start failure or exit (or an error) followed by end, and frees the session. */
static void finish(struct sim *m, uint32_t i, enum beacon_type type, enum beacon_outcome out)
{
    struct sess *s = &m->ss[i];
    struct beacon_event ev;
    ev_init(m, s, s->due_ms, type, &ev);
    ev.outcome = out;
    if (out == BEACON_FAILURE || type == BEACON_ERROR)
        ev.error_code = code_str(m, s, s->fault_code);
    emit(m, &ev);
    ev_init(m, s, s->due_ms, BEACON_END, &ev);
    emit(m, &ev);
    sim_sess_release(m, i);
}

/* Recomputes which fault slices match the session. */
static void match_faults(struct sim *m, struct sess *s)
{
    s->faults = 0;
    for (int f = 0; f < m->n_faults; f++) {
        const struct sim_rfault *r = &m->rf[f];
        int ok = 1;
        for (int d = 0; d < BEACON_NDIMS && ok; d++) {
            if (!r->n_ids[d])
                continue;
            ok = 0;
            for (int k = 0; k < r->n_ids[d]; k++)
                ok |= r->ids[d][k] == s->v[d];
        }
        if (ok)
            s->faults |= 1u << f;
    }
}

/* Moves the session to pathway cdn: a POP of that CDN in its region. */
static void set_pathway(struct sim *m, struct sess *s, int cdn)
{
    const struct topo_region *r = &m->t->regions[s->region];
    s->cdn = (uint8_t)cdn;
    s->v[BEACON_CDN] = m->t->cdns[cdn];
    s->v[BEACON_POP] = r->pops[cdn][sim_wl_pick(&r->pop_w[cdn], sim_rng_unit(&m->rng))];
    match_faults(m, s);
}

/* Plays from the first pathway of the last PATHWAY-PRIORITY that is not penalized. */
static void choose_pathway(struct sim *m, struct sess *s, int64_t now)
{
    for (int k = 0; k < s->n_prio; k++) {
        int c = s->prio[k];
        if (s->penalty[c] > now)
            continue;
        if (c != s->cdn)
            set_pathway(m, s, c);
        return;
    }
}

/* Reads the feature flags that spare the session from the faults whose slice matches it,
 * as a player reads its flags with each steering fetch. */
static void read_flags(struct sim *m, struct sess *s, int64_t now)
{
    const struct beacon_str *v = m->t->vals;
    s->spared = 0;
    for (int f = 0; m->o.flag && f < m->n_faults; f++) {
        const struct sim_fault *sf = m->rf[f].f;
        if (!sf->unless_flag || !(s->faults & (1u << f)))
            continue;
        struct sim_flag_req req = {sf->unless_flag,
                                   s->sid,
                                   v[s->v[BEACON_PLAYER]].p,
                                   v[s->v[BEACON_PLAYER_VERSION]].p,
                                   v[s->v[BEACON_DEVICE]].p,
                                   v[s->v[BEACON_REGION]].p,
                                   now};
        if (m->o.flag(m->o.flag_arg, &req) == sf->unless_on)
            s->spared |= 1u << f;
    }
}

/* Fetches the steering manifest (when a steering callback is set) and follows it; reads the
 * feature flags too. */
static void steer(struct sim *m, struct sess *s, int64_t now)
{
    const struct beacon_str *v = m->t->vals;
    char pw[SIM_MAX_PATHWAYS][SIM_NAME_MAX];
    int n = 0, ttl = 0;
    struct sim_steer_req req = {s->sid,
                                v[s->v[BEACON_REGION]].p,
                                v[s->v[BEACON_COUNTRY]].p,
                                v[s->v[BEACON_ISP]].p,
                                v[s->v[BEACON_DEVICE]].p,
                                v[s->v[BEACON_CDN]].p,
                                now};
    s->steer_ms = now + (int64_t)m->t->steering_ttl_s * 1000;
    if (m->o.steer && m->o.steer(m->o.steer_arg, &req, pw, &n, &ttl) >= 0) {
        if (ttl > 0)
            s->steer_ms = now + (int64_t)ttl * 1000;
        s->n_prio = 0;
        for (int k = 0; k < n && k < SIM_MAX_PATHWAYS; k++) {
            pw[k][SIM_NAME_MAX - 1] = 0;
            for (int c = 0; c < m->t->n_cdns; c++)
                if (strcmp(m->t->vals[m->t->cdns[c]].p, pw[k]) == 0)
                    s->prio[s->n_prio++] = (uint8_t)c;
        }
        choose_pathway(m, s, now);
    }
    read_flags(m, s, now); /* after the pathway, which decides the faults that match */
}

/* Decides the outcome of a play attempt at now and schedules it. */
static void decide_start(struct sim *m, uint32_t i, int64_t now)
{
    struct sess *s = &m->ss[i];
    const struct sim_baseline *b = &m->t->base;
    double p_fail = b->vsf, p_exit = b->ebvs, factor = 1, u = sim_rng_unit(&m->rng);
    uint32_t act = s->faults & m->active & ~s->spared;
    s->fault_code = 0;
    for (int f = 0; act; f++, act >>= 1) {
        const struct sim_rfault *r = &m->rf[f];
        if (!(act & 1))
            continue;
        if (u >= p_fail && u < p_fail + r->f->eff.start_failure * r->inten)
            s->fault_code = (uint8_t)(f + 1);
        p_fail += r->f->eff.start_failure * r->inten;
        p_exit += r->f->eff.exit_before * r->inten;
        factor *= 1 + (r->f->eff.startup_factor - 1) * r->inten;
    }
    double startup = b->startup_p50_ms * exp(b->startup_sigma * sim_rng_normal(&m->rng));
    if (u < p_fail) {
        s->state = SESS_START_FAIL;
        startup = 1000 + 4000 * sim_rng_unit(&m->rng);
    } else if (u < p_fail + p_exit) {
        s->state = SESS_START_EXIT;
        startup = (1500 + 6500 * sim_rng_unit(&m->rng)) * factor;
    } else {
        s->state = SESS_START_OK;
        startup *= factor;
    }
    s->due_ms = now + (int64_t)fmin(startup, 60000.0);
    sim_schedule(m, i);
}

/* Draws the session's attributes for region r. */
static void draw(struct sim *m, struct sess *s, int r)
{
    const struct sim_topo *t = m->t;
    struct sim_rng *g = &m->rng;
    const struct topo_region *reg = &t->regions[r];
    const struct topo_country *c = &reg->countries[sim_wl_pick(&reg->country_w, sim_rng_unit(g))];
    const struct topo_isp *isp = &c->isps[sim_wl_pick(&c->isp_w, sim_rng_unit(g))];
    int dev = sim_wl_pick(&t->device_w, sim_rng_unit(g));
    const struct topo_device *d = &t->devices[dev];
    const struct topo_os *os = &d->oses[sim_wl_pick(&d->os_w, sim_rng_unit(g))];
    const struct topo_player *pl = &os->players[sim_wl_pick(&os->player_w, sim_rng_unit(g))];
    const struct topo_title *ti = &t->titles[sim_wl_pick(&t->title_w, sim_rng_unit(g))];
    s->region = (uint8_t)r;
    s->device = (uint8_t)dev;
    s->v[BEACON_REGION] = reg->name;
    s->v[BEACON_COUNTRY] = c->code;
    s->v[BEACON_ISP] = isp->name;
    s->v[BEACON_ASN] = isp->asn;
    s->v[BEACON_DEVICE] = d->name;
    s->v[BEACON_OS] = os->name;
    s->v[BEACON_PLAYER] = pl->name;
    s->v[BEACON_PLAYER_VERSION] = pl->vers[sim_wl_pick(&pl->ver_w, sim_rng_unit(g))];
    s->v[BEACON_DRM] = os->drms[sim_wl_pick(&os->drm_w, sim_rng_unit(g))];
    s->v[BEACON_TITLE] = ti->name;
    s->v[BEACON_LIVE] = ti->live ? t->v_true : t->v_false;
    s->kbps = (int32_t)(d->bitrate_kbps * (0.7 + 0.4 * sim_rng_unit(g)));
    s->struggling = sim_rng_unit(g) < t->base.struggling_share;
    s->code = t->codes[sim_rng_below(g, (uint32_t)t->n_codes)];
    set_pathway(m, s, sim_wl_pick(&t->cdn_w, sim_rng_unit(g)));
}

/* How long a session plays: lognormal by live or on demand; warm sessions are length-biased
 * and already part-way through. */
static int64_t play_len_ms(struct sim *m, const struct sess *s, int warm)
{
    int k = s->v[BEACON_LIVE] == m->t->v_true;
    double mu = m->t->len_mu[k], sg = m->t->len_sigma[k];
    double len = exp(mu + (warm ? sg * sg : 0) + sg * sim_rng_normal(&m->rng)) * 60000.0;
    if (warm)
        len *= sim_rng_unit(&m->rng);
    return (int64_t)fmax(len, 5000.0);
}

void sim_player_arrive(struct sim *m, int region, int64_t at_ms, int warm)
{
    uint32_t i = sim_sess_alloc(m);
    struct sess *s = &m->ss[i];
    uint64_t x = m->o.seed ^ (++m->seq * 0x9e3779b97f4a7c15ULL);
    uint64_t h = sim_splitmix64(&x);
    static const char hex[] = "0123456789abcdef";
    for (int k = 0; k < 16; k++)
        s->sid[k] = hex[(h >> (60 - 4 * k)) & 15];
    s->sid[16] = 0;
    draw(m, s, region);
    s->attempt_ms = at_ms;
    steer(m, s, at_ms);
    if (!warm) {
        decide_start(m, i, at_ms);
        return;
    }
    s->state = SESS_PLAYING;
    s->last_ms = at_ms - (int64_t)sim_rng_below(&m->rng, (uint32_t)m->hb_ms);
    s->due_ms = s->last_ms + m->hb_ms;
    s->end_ms = at_ms + play_len_ms(m, s, 1);
    if (s->end_ms < s->due_ms)
        s->due_ms = s->end_ms;
    sim_schedule(m, i);
}

/* A failed start caused by a CDN fault: hls.js penalizes the pathway and retries on the next
 * one. Returns 1 when the session retries. */
static int retry_on_other_pathway(struct sim *m, uint32_t i)
{
    struct sess *s = &m->ss[i];
    int old = s->cdn;
    if (!m->o.steer || s->retried || !s->fault_code || !m->rf[s->fault_code - 1].cdn_related)
        return 0;
    s->penalty[old] = s->due_ms + SIM_PENALTY_MS;
    choose_pathway(m, s, s->due_ms);
    if (s->cdn == old)
        return 0;
    s->retried = 1;
    decide_start(m, i, s->due_ms);
    return 1;
}

/* The first frame: emits a successful start and begins heartbeats. */
static void first_frame(struct sim *m, uint32_t i)
{
    struct sess *s = &m->ss[i];
    struct beacon_event ev;
    ev_init(m, s, s->due_ms, BEACON_START, &ev);
    ev.outcome = BEACON_SUCCESS;
    ev.startup_ms = s->due_ms - s->attempt_ms;
    emit(m, &ev);
    s->state = SESS_PLAYING;
    s->last_ms = s->due_ms;
    s->end_ms = s->due_ms + play_len_ms(m, s, 0);
    s->due_ms = s->last_ms + m->hb_ms < s->end_ms ? s->last_ms + m->hb_ms : s->end_ms;
    sim_schedule(m, i);
}

/* Rebuffering and bitrate for an interval of len ms; returns the rebuffer ms. */
static int64_t interval(struct sim *m, struct sess *s, int64_t len, double *kbps)
{
    struct sim_rng *g = &m->rng;
    double reb = 0, cap = 1e9, f = 0;
    uint32_t act = s->faults & m->active & ~s->spared;
    if (sim_rng_unit(g) < (s->struggling ? m->p_leave : m->p_enter))
        s->struggling = !s->struggling;
    if (s->struggling)
        reb = m->strug_ms * (0.5 + sim_rng_unit(g)) * (double)len / m->hb_ms;
    for (int k = 0; act; k++, act >>= 1) {
        if (!(act & 1))
            continue;
        f += m->rf[k].rebuf;
        if (m->rf[k].f->eff.bitrate_cap > 0 && m->rf[k].inten > 0)
            cap = fmin(cap, m->rf[k].f->eff.bitrate_cap);
    }
    if (f > 0) {
        double p = fmin(1.0, f / 0.4);
        if (sim_rng_unit(g) < p)
            reb += f / p * (0.75 + 0.5 * sim_rng_unit(g)) * (double)len;
    }
    reb = fmin(reb, (double)len);
    *kbps =
        fmin(cap, s->kbps * (s->struggling || f > 0 ? 0.6 : 1.0) * (0.92 + 0.16 * sim_rng_unit(g)));
    return (int64_t)reb;
}

/* The chance of a fatal error during an interval of len ms, and which fault caused it. */
static double crash_p(struct sim *m, const struct sess *s, int64_t len, int *fault)
{
    double p = m->t->base.error_per_hour * (double)len / 3600000.0;
    uint32_t act = s->faults & m->active & ~s->spared;
    *fault = 0;
    for (int k = 0; act; k++, act >>= 1)
        if ((act & 1) && m->rf[k].f->eff.crash_per_min > 0) {
            p += m->rf[k].f->eff.crash_per_min * m->rf[k].inten * (double)len / 60000.0;
            *fault = k + 1;
        }
    return p;
}

/* A heartbeat (and possibly an error or the end) of a playing session. */
static void heartbeat(struct sim *m, uint32_t i)
{
    struct sess *s = &m->ss[i];
    struct beacon_event ev;
    int64_t len = s->due_ms - s->last_ms;
    double kbps = 0;
    int fault = 0;
    if (len > 0) {
        int64_t reb = interval(m, s, len, &kbps);
        ev_init(m, s, s->due_ms, BEACON_HEARTBEAT, &ev);
        ev.playing_ms = len - reb;
        ev.rebuffer_ms = reb;
        ev.bitrate_kbps = ev.playing_ms > 0 ? floor(kbps) : 0;
        emit(m, &ev);
    }
    s->last_ms = s->due_ms;
    if (sim_rng_unit(&m->rng) < crash_p(m, s, len, &fault)) {
        s->fault_code = (uint8_t)fault;
        finish(m, i, BEACON_ERROR, BEACON_OUTCOME_NONE);
        return;
    }
    if (s->due_ms >= s->end_ms) {
        ev_init(m, s, s->due_ms, BEACON_END, &ev);
        emit(m, &ev);
        sim_sess_release(m, i);
        return;
    }
    if (s->due_ms >= s->steer_ms)
        steer(m, s, s->due_ms);
    s->due_ms = s->last_ms + m->hb_ms < s->end_ms ? s->last_ms + m->hb_ms : s->end_ms;
    sim_schedule(m, i);
}

void sim_player_act(struct sim *m, uint32_t i)
{
    switch (m->ss[i].state) {
    case SESS_START_OK:
        first_frame(m, i);
        break;
    case SESS_START_FAIL:
        if (!retry_on_other_pathway(m, i))
            finish(m, i, BEACON_START, BEACON_FAILURE);
        break;
    case SESS_START_EXIT:
        finish(m, i, BEACON_START, BEACON_EXIT);
        break;
    case SESS_PLAYING:
        heartbeat(m, i);
        break;
    default:
        break;
    }
}
