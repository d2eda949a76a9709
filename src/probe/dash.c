/*
 * dash.c - a bounded reader of DASH MPDs (expat, no DTD, no entities) for the prober: the
 * MPD's type and times, and each Representation's SegmentTemplate with its SegmentTimeline
 * expanded (repeats included), plus the checks of one poll against the previous one and of
 * two pathways against each other. Errors name the line; bytes, elements, depth, timelines
 * and segments are capped.
 */
#include "probe/probe.h"
#include "core/alloc.h"
#include "core/err.h"
#include "core/timefmt.h"

#include <expat.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The reader's state while expat walks the document. */
struct mpd_p {
    XML_Parser x;
    struct probe_dash *out;
    int depth, elements, segments;
    int rc; /* the first error (0 while fine) */
    char *err;
    size_t errlen;
    int64_t period_start_ms;
    char period_id[24], as_id[24];
    /* SegmentTemplate inherited from the AdaptationSet */
    int64_t as_timescale, as_pto, as_start;
    char as_media[512];
    /* the SegmentTemplate open now */
    int in_template;
    int64_t tpl_timescale, tpl_pto, tpl_start;
    int tpl_incomplete;
    char tpl_media[512];
    char rep_id[64];
    int64_t bandwidth;
    struct probe_dash_tl *cur; /* the timeline being read, NULL outside one */
    size_t tcap;
    int64_t next_t; /* where the next S should start */
};

static void failf(struct mpd_p *p, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void failf(struct mpd_p *p, int rc, const char *fmt, ...)
{
    char why[200];
    va_list ap;
    if (p->rc)
        return;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    snprintf(p->err, p->errlen, "line %lu: %s", (unsigned long)XML_GetCurrentLineNumber(p->x), why);
    p->rc = rc;
    XML_StopParser(p->x, XML_FALSE);
}

/* The local name of an element or attribute (after any "prefix:"). */
static const char *local(const char *name)
{
    const char *c = strrchr(name, ':');
    return c ? c + 1 : name;
}

static const char *attr(const char **a, const char *name)
{
    for (int i = 0; a[i]; i += 2)
        if (!strcmp(local(a[i]), name))
            return a[i + 1];
    return NULL;
}

/* xs:duration limited to PnDTnHnMn.nS (no years or months): seconds, or -1. */
static double duration_s(const char *s)
{
    double total = 0;
    int in_time = 0;
    if (!s || *s++ != 'P')
        return -1;
    while (*s) {
        if (*s == 'T') {
            in_time = 1;
            s++;
            continue;
        }
        char *end;
        double v = strtod(s, &end);
        if (end == s || !(v >= 0 && v < 1e9))
            return -1;
        switch (*end) {
        case 'D':
            total += v * 86400;
            break;
        case 'H':
            total += in_time ? v * 3600 : -1e18;
            break;
        case 'M':
            total += in_time ? v * 60 : -1e18;
            break;
        case 'S':
            total += in_time ? v : -1e18;
            break;
        default:
            return -1;
        }
        s = end + 1;
    }
    return total >= 0 ? total : -1;
}

/* A non-negative integer attribute (absent: def); -1 when malformed. */
static int64_t int_attr(const char **a, const char *name, int64_t def)
{
    const char *v = attr(a, name);
    char *end;
    if (!v)
        return def;
    if (*v < '0' || *v > '9')
        return -1;
    long long n = strtoll(v, &end, 10);
    return *end || n > (1LL << 53) ? -1 : n;
}

static int time_attr(struct mpd_p *p, const char **a, const char *name, int64_t *out)
{
    const char *v = attr(a, name);
    if (!v)
        return 0;
    if (oc_time_parse(v, 0, out) != 0 || *out <= 0) {
        failf(p, OC_EINVAL, "MPD@%s: not an ISO 8601 date and time", name);
        return -1;
    }
    return 0;
}

static void on_mpd(struct mpd_p *p, const char **a)
{
    struct probe_dash *d = p->out;
    const char *type = attr(a, "type"), *msd = attr(a, "maxSegmentDuration");
    d->dynamic = type && !strcmp(type, "dynamic");
    if (time_attr(p, a, "publishTime", &d->publish_ms) ||
        time_attr(p, a, "availabilityStartTime", &d->ast_ms))
        return;
    if (msd && (d->max_seg_s = duration_s(msd)) < 0)
        failf(p, OC_EINVAL, "MPD@maxSegmentDuration: not a duration");
}

/* A SegmentTemplate: what it sets (inherited from the AdaptationSet's when under a
 * Representation) holds for a SegmentTimeline inside it. */
static void on_template(struct mpd_p *p, const char **a, int in_rep)
{
    int64_t ts = int_attr(a, "timescale", in_rep ? p->as_timescale : 1);
    int64_t pto = int_attr(a, "presentationTimeOffset", in_rep ? p->as_pto : 0);
    int64_t sn = int_attr(a, "startNumber", in_rep ? p->as_start : 1);
    const char *media = attr(a, "media");
    if (ts <= 0 || pto < 0 || sn < 0) {
        failf(p, OC_EINVAL,
              "SegmentTemplate: timescale, presentationTimeOffset or startNumber "
              "is not a (positive) integer");
        return;
    }
    p->tpl_timescale = ts, p->tpl_pto = pto, p->tpl_start = sn;
    const char *atc = attr(a, "availabilityTimeComplete");
    p->tpl_incomplete = atc && !strcmp(atc, "false");
    snprintf(p->tpl_media, sizeof p->tpl_media, "%s", media ? media : in_rep ? p->as_media : "");
    p->in_template = 1;
    if (!in_rep) {
        p->as_timescale = ts, p->as_pto = pto, p->as_start = sn;
        snprintf(p->as_media, sizeof p->as_media, "%s", media ? media : "");
    }
}

/* A SegmentTimeline inside a SegmentTemplate starts a timeline. */
static void on_timeline(struct mpd_p *p)
{
    struct probe_dash *d = p->out;
    if (!p->in_template)
        return;
    if (d->ntl >= PROBE_DASH_MAX_TIMELINES) {
        failf(p, OC_ETOOBIG, "more than %d segment timelines", PROBE_DASH_MAX_TIMELINES);
        return;
    }
    struct probe_dash_tl *t = &d->tl[d->ntl++];
    snprintf(t->key, sizeof t->key, "%s/%s/%s", p->period_id, p->as_id, p->rep_id);
    snprintf(t->rep_id, sizeof t->rep_id, "%s", p->rep_id);
    snprintf(t->media, sizeof t->media, "%s", p->tpl_media);
    t->bandwidth = p->bandwidth;
    t->timescale = p->tpl_timescale, t->pto = p->tpl_pto, t->start_number = p->tpl_start;
    t->period_start_ms = p->period_start_ms;
    t->incomplete = p->tpl_incomplete;
    p->cur = t;
    p->tcap = 0;
    p->next_t = -1;
}

/* One S element: t (optional after the first), d, r (0 when absent; -1 is not supported). */
static void on_s(struct mpd_p *p, const char **a)
{
    struct probe_dash_tl *t = p->cur;
    int64_t st = int_attr(a, "t", -2), du = int_attr(a, "d", -1), r = 0;
    const char *rs = attr(a, "r");
    if (rs) {
        char *end;
        r = strtoll(rs, &end, 10);
        if (*end || r < 0 || r > PROBE_DASH_MAX_SEGMENTS) {
            failf(p, OC_EINVAL, "S@r: %s (open-ended repeats are not read)", rs);
            return;
        }
    }
    if (du <= 0 || st == -1 || (st == -2 && p->next_t < 0)) {
        failf(p, OC_EINVAL, "S: d must be a positive integer and the first S needs t");
        return;
    }
    if (st == -2)
        st = p->next_t;
    if (p->next_t >= 0 && st != p->next_t && !t->gap[0])
        snprintf(t->gap, sizeof t->gap,
                 "representation %s: a segment starts at %lld, the one "
                 "before ends at %lld (%s)",
                 t->rep_id, (long long)st, (long long)p->next_t,
                 st > p->next_t ? "gap" : "overlap");
    for (int64_t i = 0; i <= r; i++) {
        if (++p->segments > PROBE_DASH_MAX_SEGMENTS) {
            failf(p, OC_ETOOBIG, "more than %d segments", PROBE_DASH_MAX_SEGMENTS);
            return;
        }
        t->t = oc_grow(t->t, &p->tcap, (size_t)t->n + 1, sizeof(*t->t));
        t->d = realloc(t->d, p->tcap * sizeof(*t->d));
        if (!t->d)
            oc_oom(p->tcap);
        t->t[t->n] = st + i * du;
        t->d[t->n++] = du;
    }
    p->next_t = st + (r + 1) * du;
}

static void XMLCALL on_start(void *arg, const char *name, const char **a)
{
    struct mpd_p *p = arg;
    const char *n = local(name), *v;
    if (++p->depth > PROBE_DASH_MAX_DEPTH || ++p->elements > PROBE_DASH_MAX_ELEMENTS) {
        failf(p, OC_ETOOBIG, "deeper than %d or more than %d elements", PROBE_DASH_MAX_DEPTH,
              PROBE_DASH_MAX_ELEMENTS);
        return;
    }
    if (p->depth == 1) {
        if (strcmp(n, "MPD"))
            failf(p, OC_EINVAL, "not an MPD: the root is <%s>", n);
        else
            on_mpd(p, a);
    } else if (!strcmp(n, "Period")) {
        double s = duration_s(attr(a, "start"));
        p->period_start_ms = s > 0 ? (int64_t)(s * 1000 + 0.5) : 0;
        snprintf(p->period_id, sizeof p->period_id, "%s", (v = attr(a, "id")) ? v : "");
    } else if (!strcmp(n, "AdaptationSet")) {
        snprintf(p->as_id, sizeof p->as_id, "%s", (v = attr(a, "id")) ? v : "");
        p->as_timescale = 1, p->as_pto = 0, p->as_start = 1, p->as_media[0] = '\0';
    } else if (!strcmp(n, "Representation")) {
        snprintf(p->rep_id, sizeof p->rep_id, "%s", (v = attr(a, "id")) ? v : "");
        p->bandwidth = int_attr(a, "bandwidth", 0);
    } else if (!strcmp(n, "SegmentTemplate")) {
        on_template(p, a, p->rep_id[0] != '\0');
    } else if (!strcmp(n, "SegmentTimeline")) {
        on_timeline(p);
    } else if (!strcmp(n, "S") && p->cur) {
        on_s(p, a);
    }
}

static void XMLCALL on_end(void *arg, const char *name)
{
    struct mpd_p *p = arg;
    const char *n = local(name);
    p->depth--;
    if (!strcmp(n, "SegmentTemplate"))
        p->cur = NULL, p->in_template = 0;
    else if (!strcmp(n, "SegmentTimeline"))
        p->cur = NULL;
    else if (!strcmp(n, "Representation"))
        p->rep_id[0] = '\0';
}

/* A DOCTYPE is refused: no DTD, so no entity expansion. */
static void XMLCALL on_doctype(void *arg, const char *name, const char *sysid, const char *pubid,
                               int internal)
{
    (void)name, (void)sysid, (void)pubid, (void)internal;
    failf(arg, OC_EINVAL, "a DOCTYPE (DTDs are not read)");
}

int probe_dash_parse(const char *text, size_t n, struct probe_dash *out, char *err, size_t errlen)
{
    struct mpd_p p = {.out = out, .err = err, .errlen = errlen};
    memset(out, 0, sizeof(*out));
    if (n > PROBE_DASH_MAX_BYTES) {
        snprintf(err, errlen, "line 1: larger than %u bytes", PROBE_DASH_MAX_BYTES);
        return OC_ETOOBIG;
    }
    p.x = XML_ParserCreate(NULL);
    if (!p.x)
        oc_oom(n);
    XML_SetUserData(p.x, &p);
    XML_SetElementHandler(p.x, on_start, on_end);
    XML_SetStartDoctypeDeclHandler(p.x, on_doctype);
    if (XML_Parse(p.x, text, (int)n, XML_TRUE) == XML_STATUS_ERROR && !p.rc) {
        snprintf(err, errlen, "line %lu: %s", (unsigned long)XML_GetCurrentLineNumber(p.x),
                 XML_ErrorString(XML_GetErrorCode(p.x)));
        p.rc = OC_EINVAL;
    }
    if (!p.rc && p.elements == 0) {
        snprintf(err, errlen, "line 1: empty");
        p.rc = OC_EINVAL;
    }
    XML_ParserFree(p.x);
    return p.rc;
}

void probe_dash_free(struct probe_dash *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->ntl; i++) {
        free(p->tl[i].t);
        free(p->tl[i].d);
    }
    memset(p, 0, sizeof(*p));
}

/* Appends v formatted by the %0Nd of a template identifier (fmt points after the name: "$"
 * or "%05d$"); returns the characters of fmt used, or -1. */
static int put_num(char *out, size_t n, size_t *at, const char *fmt, int64_t v)
{
    int width = 0, used = 0;
    if (fmt[0] == '%') {
        if (fmt[1] != '0' || fmt[2] < '1' || fmt[2] > '9' || fmt[3] != 'd' || fmt[4] != '$')
            return -1;
        width = fmt[2] - '0';
        used = 4;
    }
    if (fmt[used] != '$')
        return -1;
    int w = snprintf(out + *at, n - *at, "%0*lld", width, (long long)v);
    if (w < 0 || (size_t)w >= n - *at)
        return -1;
    *at += (size_t)w;
    return used + 1;
}

int probe_dash_segment_url(const struct probe_dash_tl *tl, int i, char *out, size_t n)
{
    size_t at = 0;
    const char *s = tl->media;
    if (i < 0 || i >= tl->n || !*s || n == 0)
        return -1;
    while (*s) {
        int used = -1;
        if (*s != '$') {
            if (at + 1 >= n)
                return -1;
            out[at++] = *s++;
            continue;
        }
        s++;
        if (*s == '$') {
            if (at + 1 >= n)
                return -1;
            out[at++] = '$', s++;
            continue;
        }
        if (!strncmp(s, "RepresentationID$", 17)) {
            int w = snprintf(out + at, n - at, "%s", tl->rep_id);
            if (!tl->rep_id[0] || w < 0 || (size_t)w >= n - at)
                return -1;
            at += (size_t)w;
            used = 17;
        } else if (!strncmp(s, "Number", 6)) {
            int u = put_num(out, n, &at, s + 6, tl->start_number + i);
            used = u < 0 ? -1 : 6 + u;
        } else if (!strncmp(s, "Time", 4)) {
            int u = put_num(out, n, &at, s + 4, tl->t[i]);
            used = u < 0 ? -1 : 4 + u;
        } else if (!strncmp(s, "Bandwidth", 9)) {
            int u = put_num(out, n, &at, s + 9, tl->bandwidth);
            used = u < 0 ? -1 : 9 + u;
        }
        if (used < 0)
            return -1;
        s += used;
    }
    out[at] = '\0';
    return 0;
}
