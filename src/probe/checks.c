/*
 * checks.c - what one poll of a live media playlist says against the previous poll of the
 * same pathway (probe_hls_check), and what two pathways of one stream say against each other
 * (probe_hls_agree). Pure functions of playlists and times: the module supplies the clock.
 */
#include "probe/probe.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Appends one observation when there is room. */
static int add(struct probe_obs *obs, int n, enum probe_kind k, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int add(struct probe_obs *obs, int n, enum probe_kind k, const char *fmt, ...)
{
    if (n >= PROBE_OBS_MAX)
        return n;
    va_list ap;
    va_start(ap, fmt);
    obs[n].kind = k;
    vsnprintf(obs[n].detail, sizeof(obs[n].detail), fmt, ap);
    va_end(ap);
    return n + 1;
}

static int64_t newest(const struct probe_hls *h)
{
    return h->media_sequence + h->nsegs - 1;
}

/* The segment with media sequence msn, or NULL. */
static const struct probe_hls_seg *seg_at(const struct probe_hls *h, int64_t msn)
{
    int64_t i = msn - h->media_sequence;
    return i >= 0 && i < h->nsegs ? &h->segs[i] : NULL;
}

/* The last path component of a URI without its query: two origins name a segment alike even
 * when one writes absolute URIs. */
static const char *base_name(const char *uri, size_t *len)
{
    const char *q = strpbrk(uri, "?#");
    size_t n = q ? (size_t)(q - uri) : strlen(uri);
    const char *b = uri;
    for (size_t i = 0; i < n; i++)
        if (uri[i] == '/')
            b = uri + i + 1;
    *len = n - (size_t)(b - uri);
    return b;
}

static int same_file(const char *a, const char *b)
{
    size_t la, lb;
    const char *x = base_name(a, &la), *y = base_name(b, &lb);
    return la == lb && !memcmp(x, y, la);
}

/* Segments whose EXTINF, rounded to the nearest second, exceeds the target (RFC 8216 4.3.3.1). */
static int too_long(const struct probe_hls *h, struct probe_obs *obs, int n)
{
    for (int i = 0; i < h->nsegs; i++)
        if (floor(h->segs[i].duration + 0.5) > h->target)
            return add(obs, n, PROBE_SEGMENT_TOO_LONG, "segment %lld lasts %.3f s, target %d s",
                       (long long)h->segs[i].msn, h->segs[i].duration, h->target);
    return n;
}

/* The sequence and the window against the previous poll. */
static int window(const struct probe_hls *prev, const struct probe_hls *cur, struct probe_obs *obs,
                  int n)
{
    if (cur->media_sequence < prev->media_sequence)
        return add(obs, n, PROBE_WENT_BACK, "media sequence %lld after %lld",
                   (long long)cur->media_sequence, (long long)prev->media_sequence);
    if (cur->media_sequence == prev->media_sequence && cur->nsegs < prev->nsegs)
        n = add(obs, n, PROBE_SHRANK, "%d segments at media sequence %lld, were %d", cur->nsegs,
                (long long)cur->media_sequence, prev->nsegs);
    for (int64_t s = cur->media_sequence; s <= newest(cur) && s <= newest(prev); s++) {
        const struct probe_hls_seg *a = seg_at(prev, s), *b = seg_at(cur, s);
        if (a && b && (strcmp(a->uri, b->uri) || fabs(a->duration - b->duration) > 0.0005)) {
            n = add(obs, n, PROBE_CHANGED_SAME_SEQUENCE,
                    "segment %lld was %s (%.3f s), now %s "
                    "(%.3f s)",
                    (long long)s, a->uri, a->duration, b->uri, b->duration);
            break;
        }
    }
    /* RFC 8216 6.2.2: each segment that left with a discontinuity adds one */
    if (cur->media_sequence > prev->media_sequence && cur->media_sequence <= newest(prev) + 1) {
        int64_t want = prev->disc_sequence;
        for (int64_t s = prev->media_sequence; s < cur->media_sequence; s++)
            want += seg_at(prev, s)->disc;
        if (cur->disc_sequence != want)
            n = add(obs, n, PROBE_DISCONTINUITY_MISMATCH,
                    "discontinuity sequence %lld at media sequence %lld, expected %lld",
                    (long long)cur->disc_sequence, (long long)cur->media_sequence, (long long)want);
    }
    return n;
}

int probe_hls_check(struct probe_hls_memo *m, struct probe_hls *cur, int64_t now_ms,
                    struct probe_obs *obs)
{
    int n = 0;
    if (!m->have || cur->media_sequence < m->last.media_sequence || newest(cur) > newest(&m->last))
        m->advanced_ms = now_ms;
    if (m->have)
        n = window(&m->last, cur, obs, n);
    n = too_long(cur, obs, n);
    int64_t limit_ms = (int64_t)cur->target * 1500;
    if (!cur->endlist && now_ms - m->advanced_ms > limit_ms)
        n = add(obs, n, PROBE_STALE,
                "media sequence %lld has not advanced for %.1f s (limit "
                "%.1f s)",
                (long long)newest(cur), (double)(now_ms - m->advanced_ms) / 1000.0,
                (double)limit_ms / 1000.0);
    probe_hls_free(&m->last);
    m->last = *cur;
    memset(cur, 0, sizeof(*cur));
    m->have = 1;
    return n;
}

void probe_hls_memo_free(struct probe_hls_memo *m)
{
    probe_hls_free(&m->last);
    memset(m, 0, sizeof(*m));
}

int probe_hls_agree(const struct probe_hls *a, const char *pa, const struct probe_hls *b,
                    const char *pb, struct probe_obs *obs)
{
    int64_t na = newest(a), nb = newest(b);
    if (na - nb >= 2 || nb - na >= 2) {
        int a_ahead = na > nb;
        snprintf(obs->detail, sizeof(obs->detail),
                 "%s is %lld segments behind %s (media sequence %lld vs %lld)", a_ahead ? pb : pa,
                 (long long)(a_ahead ? na - nb : nb - na), a_ahead ? pa : pb,
                 (long long)(a_ahead ? nb : na), (long long)(a_ahead ? na : nb));
        obs->kind = PROBE_ORIGINS_DISAGREE;
        return 1;
    }
    int64_t lo = a->media_sequence > b->media_sequence ? a->media_sequence : b->media_sequence;
    for (int64_t s = lo; s <= na && s <= nb; s++) {
        const struct probe_hls_seg *x = seg_at(a, s), *y = seg_at(b, s);
        if (x && y && !same_file(x->uri, y->uri)) {
            snprintf(obs->detail, sizeof(obs->detail), "segment %lld is %s on %s, %s on %s",
                     (long long)s, x->uri, pa, y->uri, pb);
            obs->kind = PROBE_ORIGINS_DISAGREE;
            return 1;
        }
    }
    return 0;
}

/* The timeline of m with key, or NULL. */
static const struct probe_dash_tl *tl_find(const struct probe_dash *d, const char *key)
{
    for (int i = 0; i < d->ntl; i++)
        if (!strcmp(d->tl[i].key, key))
            return &d->tl[i];
    return NULL;
}

/* The end of a timeline's newest segment in seconds of media time; -1 when empty. */
static double tl_end_s(const struct probe_dash_tl *t)
{
    if (t->n == 0)
        return -1;
    return (double)(t->t[t->n - 1] + t->d[t->n - 1] - t->pto) / (double)t->timescale;
}

/* The longest segment of any timeline, in seconds (at least 1). */
static double longest_s(const struct probe_dash *d)
{
    double m = d->max_seg_s;
    for (int i = 0; i < d->ntl; i++)
        for (int k = 0; k < d->tl[i].n; k++)
            if ((double)d->tl[i].d[k] / (double)d->tl[i].timescale > m)
                m = (double)d->tl[i].d[k] / (double)d->tl[i].timescale;
    return m < 1 ? 1 : m;
}

/* The same start time with another duration between two polls of one timeline. */
static int tl_changed(const struct probe_dash_tl *a, const struct probe_dash_tl *b,
                      struct probe_obs *obs, int n)
{
    int i = 0, k = 0;
    while (i < a->n && k < b->n) {
        if (a->t[i] < b->t[k]) {
            i++;
        } else if (a->t[i] > b->t[k]) {
            k++;
        } else {
            if (a->d[i] != b->d[k])
                return add(obs, n, PROBE_CHANGED_SAME_SEQUENCE,
                           "representation %s: the segment at %lld lasted %lld, now %lld",
                           b->rep_id, (long long)b->t[k], (long long)a->d[i], (long long)b->d[k]);
            i++, k++;
        }
    }
    return n;
}

/* Timelines: gaps inside, changes against the previous poll, availability against now.
 * Sets *grew when some timeline's newest end grew. */
static int dash_timelines(const struct probe_dash_memo *m, const struct probe_dash *cur,
                          int64_t now_ms, struct probe_obs *obs, int n, int *grew)
{
    for (int i = 0; i < cur->ntl; i++) {
        const struct probe_dash_tl *t = &cur->tl[i];
        const struct probe_dash_tl *was = m->have ? tl_find(&m->last, t->key) : NULL;
        if (t->gap[0])
            n = add(obs, n, PROBE_TIMELINE_GAP, "%s", t->gap);
        if (!was || tl_end_s(t) > tl_end_s(was))
            *grew = 1;
        if (was && tl_end_s(t) < tl_end_s(was))
            n = add(obs, n, PROBE_WENT_BACK,
                    "representation %s: the timeline ends at %.3f s, "
                    "it ended at %.3f s",
                    t->rep_id, tl_end_s(t), tl_end_s(was));
        if (was)
            n = tl_changed(was, t, obs, n);
        if (cur->dynamic && cur->ast_ms && t->n) {
            double avail = (double)(cur->ast_ms + t->period_start_ms) / 1000.0 + tl_end_s(t);
            double ahead = avail - (double)now_ms / 1000.0;
            if (ahead > 2.0)
                n = add(obs, n, PROBE_AVAILABILITY_SKEW,
                        "representation %s: the newest segment "
                        "is available only in %.1f s (availabilityStartTime + timeline)",
                        t->rep_id, ahead);
        }
    }
    return n;
}

int probe_dash_check(struct probe_dash_memo *m, struct probe_dash *cur, int64_t now_ms,
                     struct probe_obs *obs)
{
    int n = 0, grew = !m->have;
    double limit_s = 1.5 * longest_s(cur);
    n = dash_timelines(m, cur, now_ms, obs, n, &grew);
    if (grew)
        m->advanced_ms = now_ms;
    if (!m->have || cur->publish_ms > m->last.publish_ms)
        m->published_ms = now_ms;
    if (m->have && cur->publish_ms < m->last.publish_ms)
        n = add(obs, n, PROBE_WENT_BACK, "publishTime went back by %.3f s",
                (double)(m->last.publish_ms - cur->publish_ms) / 1000.0);
    if (cur->dynamic) {
        double stale_s = (double)(now_ms - m->advanced_ms) / 1000.0;
        double pub_s = (double)(now_ms - m->published_ms) / 1000.0;
        if (stale_s > limit_s)
            n = add(obs, n, PROBE_STALE, "no timeline has grown for %.1f s (limit %.1f s)", stale_s,
                    limit_s);
        if (cur->publish_ms && pub_s > limit_s)
            n = add(obs, n, PROBE_PUBLISH_TIME_STALE,
                    "publishTime has not advanced for %.1f s (limit %.1f s)", pub_s, limit_s);
    }
    probe_dash_free(&m->last);
    m->last = *cur;
    memset(cur, 0, sizeof(*cur));
    m->have = 1;
    return n;
}

void probe_dash_memo_free(struct probe_dash_memo *m)
{
    probe_dash_free(&m->last);
    memset(m, 0, sizeof(*m));
}

int probe_dash_agree(const struct probe_dash *a, const char *pa, const struct probe_dash *b,
                     const char *pb, struct probe_obs *obs)
{
    double seg = longest_s(a);
    for (int i = 0; i < a->ntl; i++) {
        const struct probe_dash_tl *x = &a->tl[i], *y = tl_find(b, x->key);
        if (!y || x->n == 0 || y->n == 0)
            continue;
        double ex = tl_end_s(x), ey = tl_end_s(y);
        if (fabs(ex - ey) >= 2 * seg) {
            snprintf(obs->detail, sizeof(obs->detail),
                     "%s is %.1f s behind %s (representation %s ends at %.3f s vs %.3f s)",
                     ex > ey ? pb : pa, fabs(ex - ey), ex > ey ? pa : pb, x->rep_id,
                     ex > ey ? ey : ex, ex > ey ? ex : ey);
            obs->kind = PROBE_ORIGINS_DISAGREE;
            return 1;
        }
    }
    return 0;
}
