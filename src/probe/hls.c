/*
 * hls.c - a bounded parser of HLS playlists (RFC 8216), multivariant and media, for the
 * prober. It keeps only what the checks need (sequence numbers, segments, discontinuities,
 * program date times, variant URIs) and names the line of every error. Input is untrusted:
 * size, line length, segments and variants are capped.
 */
#include "probe/probe.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/timefmt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The parser's position and what the next URI line belongs to. */
struct hls_p {
    struct probe_hls *out;
    int line;         /* 1-based number of the current line */
    int media_tags;   /* a media-playlist tag was seen */
    int want_variant; /* the last tag was EXT-X-STREAM-INF */
    int have_inf;     /* an EXTINF waits for its URI */
    int inf_line;     /* where it was */
    double inf_dur;   /* its duration */
    int disc_next;    /* an EXT-X-DISCONTINUITY waits for its segment */
    int have_target;  /* EXT-X-TARGETDURATION seen */
    int64_t pdt_ms;   /* program date time of the next segment, 0 when none */
    size_t segcap, varcap;
    char *err;
    size_t errlen;
};

static const char *const kind_names[PROBE_NKINDS] = {
    "stale",
    "went_back",
    "changed_same_sequence",
    "shrank",
    "parse_error",
    "http_status",
    "unreachable",
    "segment_too_long",
    "segment_missing",
    "origins_disagree",
    "discontinuity_mismatch",
    "publish_time_stale",
    "timeline_gap",
    "availability_skew",
};

const char *probe_kind_name(enum probe_kind k)
{
    return (unsigned)k < PROBE_NKINDS ? kind_names[k] : "unknown";
}

static int fail(struct hls_p *p, int rc, const char *why)
{
    snprintf(p->err, p->errlen, "line %d: %s", p->line, why);
    return rc;
}

/* A decimal integer filling all of s, 0 to 2^53 (sequence numbers stay far from overflow). */
static int parse_int(const char *s, int64_t *out)
{
    char *end;
    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v > (1LL << 53))
        return -1;
    *out = v;
    return 0;
}

/* EXTINF:<duration>[,<title>]: a non-negative finite decimal. */
static int parse_extinf(const char *s, double *out)
{
    char *end;
    if ((*s < '0' || *s > '9') && *s != '.')
        return -1;
    double v = strtod(s, &end);
    if (end == s || (*end && *end != ',') || !(v >= 0 && v < 1e9))
        return -1;
    *out = v;
    return 0;
}

/* EXT-X-PROGRAM-DATE-TIME: ISO 8601 with a zone; a "+HHMM" offset (as ffmpeg writes) is
 * read as "+HH:MM". 0 or -1. */
static int parse_pdt(const char *s, int64_t *out)
{
    char t[64];
    size_t n = strlen(s);
    if (n < 5 || n >= sizeof t - 1)
        return -1;
    memcpy(t, s, n + 1);
    const char *z = s + n - 5;
    if ((z[0] == '+' || z[0] == '-') && strspn(z + 1, "0123456789") == 4 && n > 10) {
        memcpy(t + n - 2, ":", 1);
        memcpy(t + n - 1, z + 3, 2);
        t[n + 1] = '\0';
    }
    return oc_time_parse(t, 0, out) == 0 && *out > 0 ? 0 : -1;
}

/* The value of attribute URI="..." in an attribute list, copied into out; 1 when found. */
static int attr_uri(const char *s, char *out, size_t n)
{
    const char *a = strstr(s, "URI=\"");
    while (a && a != s && a[-1] != ',' && a[-1] != ':')
        a = strstr(a + 1, "URI=\"");
    if (!a)
        return 0;
    a += 5;
    const char *e = strchr(a, '"');
    if (!e || (size_t)(e - a) >= n || e == a)
        return 0;
    memcpy(out, a, (size_t)(e - a));
    out[e - a] = '\0';
    return 1;
}

static int add_variant(struct hls_p *p, const char *uri)
{
    struct probe_hls *h = p->out;
    if (h->nvariants >= PROBE_HLS_MAX_VARIANTS) {
        snprintf(p->err, p->errlen, "line %d: more than %d variants", p->line,
                 PROBE_HLS_MAX_VARIANTS);
        return OC_ETOOBIG;
    }
    h->variants = oc_grow(h->variants, &p->varcap, (size_t)h->nvariants + 1, sizeof(char *));
    h->variants[h->nvariants++] = oc_strdup(uri);
    h->multivariant = 1;
    return 0;
}

static int add_segment(struct hls_p *p, const char *uri)
{
    struct probe_hls *h = p->out;
    if (h->nsegs >= PROBE_HLS_MAX_SEGMENTS) {
        snprintf(p->err, p->errlen, "line %d: more than %d segments", p->line,
                 PROBE_HLS_MAX_SEGMENTS);
        return OC_ETOOBIG;
    }
    h->segs = oc_grow(h->segs, &p->segcap, (size_t)h->nsegs + 1, sizeof(*h->segs));
    struct probe_hls_seg *sg = &h->segs[h->nsegs];
    sg->uri = oc_strdup(uri);
    sg->duration = p->inf_dur;
    sg->msn = h->media_sequence + h->nsegs;
    sg->disc = p->disc_next;
    sg->pdt_ms = p->pdt_ms;
    if (p->pdt_ms)
        p->pdt_ms += (int64_t)(p->inf_dur * 1000.0 + 0.5);
    h->nsegs++;
    p->have_inf = p->disc_next = 0;
    return 0;
}

/* An integer-valued media tag that must come before the first segment. */
static int int_tag(struct hls_p *p, const char *v, const char *tag, int64_t *out)
{
    char why[96];
    if (parse_int(v, out) != 0) {
        snprintf(why, sizeof why, "%s: not a decimal integer", tag);
        return fail(p, OC_EINVAL, why);
    }
    if (p->out->nsegs > 0 || p->have_inf) {
        snprintf(why, sizeof why, "%s after the first segment", tag);
        return fail(p, OC_EINVAL, why);
    }
    p->media_tags = 1;
    return 0;
}

/* One tag line (starting with "#EXT"); other comments are ignored by the caller. */
static int tag(struct hls_p *p, const char *s)
{
    struct probe_hls *h = p->out;
    int64_t v;
    char uri[PROBE_HLS_MAX_LINE];
    if (!strncmp(s, "#EXTINF:", 8)) {
        if (p->have_inf)
            return fail(p, OC_EINVAL, "#EXTINF follows an #EXTINF without a segment URI");
        if (parse_extinf(s + 8, &p->inf_dur) != 0)
            return fail(p, OC_EINVAL, "#EXTINF: the duration is not a non-negative number");
        p->have_inf = 1;
        p->inf_line = p->line;
        p->media_tags = 1;
    } else if (!strncmp(s, "#EXT-X-TARGETDURATION:", 22)) {
        int rc = int_tag(p, s + 22, "#EXT-X-TARGETDURATION", &v);
        if (rc)
            return rc;
        if (v < 1 || v > 86400)
            return fail(p, OC_EINVAL, "#EXT-X-TARGETDURATION: outside 1..86400 s");
        h->target = (int)v;
        p->have_target = 1;
    } else if (!strncmp(s, "#EXT-X-MEDIA-SEQUENCE:", 22)) {
        return int_tag(p, s + 22, "#EXT-X-MEDIA-SEQUENCE", &h->media_sequence);
    } else if (!strncmp(s, "#EXT-X-DISCONTINUITY-SEQUENCE:", 30)) {
        return int_tag(p, s + 30, "#EXT-X-DISCONTINUITY-SEQUENCE", &h->disc_sequence);
    } else if (!strcmp(s, "#EXT-X-DISCONTINUITY")) {
        p->disc_next = 1;
        p->media_tags = 1;
    } else if (!strcmp(s, "#EXT-X-ENDLIST")) {
        h->endlist = 1;
        p->media_tags = 1;
    } else if (!strncmp(s, "#EXT-X-PROGRAM-DATE-TIME:", 25)) {
        if (parse_pdt(s + 25, &p->pdt_ms) != 0)
            return fail(p, OC_EINVAL, "#EXT-X-PROGRAM-DATE-TIME: not an ISO 8601 date and time");
    } else if (!strncmp(s, "#EXT-X-STREAM-INF:", 18)) {
        if (p->want_variant)
            return fail(p, OC_EINVAL, "#EXT-X-STREAM-INF follows one without its URI");
        p->want_variant = p->line;
    } else if (!strncmp(s, "#EXT-X-MEDIA:", 13)) {
        if (attr_uri(s + 13, uri, sizeof uri))
            return add_variant(p, uri);
    }
    return 0;
}

/* A URI line: the segment of the pending EXTINF, or the variant of EXT-X-STREAM-INF. */
static int uri_line(struct hls_p *p, const char *s)
{
    if (p->want_variant) {
        p->want_variant = 0;
        return add_variant(p, s);
    }
    if (!p->have_inf)
        return fail(p, OC_EINVAL, "a URI without #EXTINF or #EXT-X-STREAM-INF before it");
    return add_segment(p, s);
}

/* Checks what can only be judged at the end. */
static int finish(struct hls_p *p)
{
    struct probe_hls *h = p->out;
    if (p->have_inf) {
        p->line = p->inf_line;
        return fail(p, OC_EINVAL, "#EXTINF without a segment URI after it (truncated?)");
    }
    if (p->want_variant) {
        p->line = p->want_variant;
        return fail(p, OC_EINVAL, "#EXT-X-STREAM-INF without a URI after it (truncated?)");
    }
    if (h->multivariant && p->media_tags)
        return fail(p, OC_EINVAL, "both multivariant and media playlist tags");
    if (!h->multivariant && !p->have_target)
        return fail(p, OC_EINVAL, "a media playlist without #EXT-X-TARGETDURATION");
    return 0;
}

/* Handles one line (without its terminator). */
static int one_line(struct hls_p *p, const char *s)
{
    if (p->line == 1)
        return strcmp(s, "#EXTM3U") ? fail(p, OC_EINVAL, "not a playlist: no #EXTM3U") : 0;
    if (!*s)
        return 0;
    if (!strncmp(s, "#EXT", 4))
        return tag(p, s);
    if (*s == '#')
        return 0;
    return uri_line(p, s);
}

int probe_hls_parse(const char *text, size_t n, struct probe_hls *out, char *err, size_t errlen)
{
    struct hls_p p = {.out = out, .err = err, .errlen = errlen};
    char line[PROBE_HLS_MAX_LINE + 1];
    memset(out, 0, sizeof(*out));
    if (n > PROBE_HLS_MAX_BYTES) {
        snprintf(err, errlen, "line 1: larger than %u bytes", PROBE_HLS_MAX_BYTES);
        return OC_ETOOBIG;
    }
    if (n >= 3 && !memcmp(text, "\xef\xbb\xbf", 3)) /* a UTF-8 byte order mark */
        text += 3, n -= 3;
    size_t at = 0;
    while (at < n) {
        p.line++;
        const char *nl = memchr(text + at, '\n', n - at);
        if (!nl)
            return fail(&p, OC_EINVAL, "the playlist ends mid-line (no final line feed)");
        size_t len = (size_t)(nl - (text + at));
        if (len && text[at + len - 1] == '\r')
            len--;
        if (len > PROBE_HLS_MAX_LINE)
            return fail(&p, OC_ETOOBIG, "line longer than 8192 bytes");
        if (memchr(text + at, '\0', len))
            return fail(&p, OC_EINVAL, "a NUL byte");
        memcpy(line, text + at, len);
        line[len] = '\0';
        int rc = one_line(&p, line);
        if (rc)
            return rc;
        at = (size_t)(nl - text) + 1;
    }
    if (p.line == 0) {
        p.line = 1;
        return fail(&p, OC_EINVAL, "empty: no #EXTM3U");
    }
    return finish(&p);
}

void probe_hls_free(struct probe_hls *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->nvariants; i++)
        free(p->variants[i]);
    for (int i = 0; i < p->nsegs; i++)
        free(p->segs[i].uri);
    free(p->variants);
    free(p->segs);
    memset(p, 0, sizeof(*p));
}

int probe_hls_live_write(struct oc_buf *b, int64_t seq, int nsegs, int target_s)
{
    int rc = oc_buf_printf(b,
                           "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:%d\n"
                           "#EXT-X-MEDIA-SEQUENCE:%lld\n",
                           target_s, (long long)seq);
    for (int i = 0; rc == 0 && i < nsegs; i++)
        rc = oc_buf_printf(b, "#EXTINF:%d.000,\nseg_%lld.ts\n", target_s, (long long)(seq + i));
    return rc;
}
