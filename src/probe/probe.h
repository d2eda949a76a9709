/*
 * probe.h - the live manifest prober: HLS playlists polled over libcurl multi, checked poll
 * against poll and origin against origin, with findings kept per stream, stored, published
 * on the bus (probe.failed / probe.recovered) and shown at /v1/probes and /metrics.
 *
 * The parser and the checks are pure functions of bytes and times, so the unit tests, the
 * fuzz target and the module share them. See docs/internals/probe.md.
 */
#ifndef OC_PROBE_PROBE_H
#define OC_PROBE_PROBE_H

#include "core/module.h"
#include "core/opt.h"

#include <stddef.h>
#include <stdint.h>

#define PROBE_HLS_MAX_BYTES    (4u << 20) /* a playlist larger than this is refused */
#define PROBE_HLS_MAX_LINE     8192       /* bytes in one line */
#define PROBE_HLS_MAX_SEGMENTS 20000      /* segments in one media playlist */
#define PROBE_HLS_MAX_VARIANTS 64         /* variant and rendition URIs in a multivariant one */

/* The kinds of fault a finding names (docs/internals/probe.md). */
enum probe_kind {
    PROBE_STALE = 0,              /* media sequence did not advance within 1.5 x target */
    PROBE_WENT_BACK,              /* media sequence lower than at the previous poll */
    PROBE_CHANGED_SAME_SEQUENCE,  /* a segment with the same sequence number changed */
    PROBE_SHRANK,                 /* fewer segments at the same media sequence */
    PROBE_PARSE_ERROR,            /* the playlist does not parse (detail names the line) */
    PROBE_HTTP_STATUS,            /* a playlist answered a status other than 200 */
    PROBE_UNREACHABLE,            /* no answer (connect, timeout, refused by the guard) */
    PROBE_SEGMENT_TOO_LONG,       /* EXTINF rounded above the target duration */
    PROBE_SEGMENT_MISSING,        /* a listed segment answered 404 (or another error) */
    PROBE_ORIGINS_DISAGREE,       /* two pathways of one stream differ by a segment or more */
    PROBE_DISCONTINUITY_MISMATCH, /* discontinuity sequence not what left the window says */
    PROBE_PUBLISH_TIME_STALE,     /* DASH: publishTime did not advance */
    PROBE_TIMELINE_GAP,           /* DASH: a SegmentTimeline with a gap or an overlap */
    PROBE_AVAILABILITY_SKEW,      /* DASH: a segment listed before the wall clock reaches it */
    PROBE_NKINDS
};

/* The kind's name as findings and events spell it ("stale", "went_back", ...). */
const char *probe_kind_name(enum probe_kind k);

/* One segment of a media playlist. */
struct probe_hls_seg {
    char *uri;       /* as written (relative or absolute); owned by the playlist */
    double duration; /* EXTINF seconds */
    int64_t msn;     /* media sequence number */
    int disc;        /* 1 when an EXT-X-DISCONTINUITY precedes it */
    int64_t pdt_ms;  /* EXT-X-PROGRAM-DATE-TIME in unix ms (carried forward), 0 when none */
};

/* A parsed playlist: a multivariant one (variants) or a media one (segments). */
struct probe_hls {
    int multivariant; /* 1: variants is filled, segments empty */
    char **variants;  /* URIs of EXT-X-STREAM-INF and EXT-X-MEDIA URI=, owned */
    int nvariants;
    int target;                 /* EXT-X-TARGETDURATION seconds (media) */
    int64_t media_sequence;     /* EXT-X-MEDIA-SEQUENCE (0 when absent) */
    int64_t disc_sequence;      /* EXT-X-DISCONTINUITY-SEQUENCE (0 when absent) */
    int endlist;                /* EXT-X-ENDLIST seen: the playlist is complete */
    struct probe_hls_seg *segs; /* in order, owned */
    int nsegs;
};

/* Parses n bytes of an HLS playlist into *out (zeroed first; free with probe_hls_free even
 * on failure). 0; OC_EINVAL with "line N: why" in err; OC_ETOOBIG past the caps above
 * (err says which). Caps: PROBE_HLS_MAX_BYTES, _LINE, _SEGMENTS, _VARIANTS. */
int probe_hls_parse(const char *text, size_t n, struct probe_hls *out /* OUT */, char *err,
                    size_t errlen);
/* Frees what probe_hls_parse allocated and zeroes p (NULL is a no-op). */
void probe_hls_free(struct probe_hls *p);

struct oc_buf;
/* Appends to b a live media playlist of nsegs segments of target_s seconds, named seg_N.ts,
 * the first numbered seq (EXT-X-MEDIA-SEQUENCE): the generated stream `oncue bench probe`
 * serves and `oncue sim --exporters` serves as its live stream. 0, or OC_ETOOBIG at b's cap. */
int probe_hls_live_write(struct oc_buf *b, int64_t seq, int nsegs, int target_s);

/* What the checks remember of one media playlist between polls (of one pathway). */
struct probe_hls_memo {
    struct probe_hls last; /* the previous good playlist (owned); nsegs 0 before one */
    int have;              /* 1 once a playlist was seen */
    int64_t advanced_ms;   /* when the newest media sequence last grew */
};

/* One fault seen by a check. */
struct probe_obs {
    enum probe_kind kind;
    char detail[200];
};

#define PROBE_OBS_MAX 8 /* faults one comparison may report */

/* Compares the media playlist cur, fetched at now_ms, with what m remembers, and adopts it
 * (m takes cur's contents; cur is left empty). Appends the faults seen to obs (at most
 * PROBE_OBS_MAX) and returns how many. The stale limit is 1.5 x cur's target duration.
 * Both arguments are owned by the caller. */
int probe_hls_check(struct probe_hls_memo *m, struct probe_hls *cur, int64_t now_ms,
                    struct probe_obs *obs /* OUT */);
/* Frees what m holds. */
void probe_hls_memo_free(struct probe_hls_memo *m);
/* Compares two pathways' media playlists of one stream: 1 and obs filled when their newest
 * media sequences differ by 2 or more, or a sequence number both list names another file. */
int probe_hls_agree(const struct probe_hls *a, const char *pa, const struct probe_hls *b,
                    const char *pb, struct probe_obs *obs);

#define PROBE_DASH_MAX_BYTES     (4u << 20) /* an MPD larger than this is refused */
#define PROBE_DASH_MAX_ELEMENTS  100000     /* XML elements in one MPD */
#define PROBE_DASH_MAX_DEPTH     32         /* XML nesting */
#define PROBE_DASH_MAX_TIMELINES 16         /* SegmentTimelines kept (one per Representation) */
#define PROBE_DASH_MAX_SEGMENTS  20000      /* segments over every timeline, repeats expanded */

/* One SegmentTimeline with what makes its segments' URLs. */
struct probe_dash_tl {
    char key[160];           /* "period/adaptation set/representation" ids, to match polls */
    char rep_id[64];         /* Representation@id */
    char media[512];         /* SegmentTemplate@media */
    int64_t bandwidth;       /* Representation@bandwidth */
    int64_t timescale;       /* SegmentTemplate@timescale (1 when absent) */
    int64_t pto;             /* @presentationTimeOffset */
    int64_t start_number;    /* @startNumber (1 when absent) */
    int64_t period_start_ms; /* Period@start */
    int64_t *t, *d;          /* each segment's start and duration in timescale units (owned) */
    int n;
    char gap[160];  /* the first discontinuity inside the timeline, "" when none */
    int incomplete; /* @availabilityTimeComplete="false": the newest may be in progress */
};

/* A parsed MPD: what the checks need. */
struct probe_dash {
    int dynamic;        /* MPD@type="dynamic" */
    int64_t publish_ms; /* MPD@publishTime, 0 when absent */
    int64_t ast_ms;     /* MPD@availabilityStartTime, 0 when absent */
    double max_seg_s;   /* MPD@maxSegmentDuration, 0 when absent */
    struct probe_dash_tl tl[PROBE_DASH_MAX_TIMELINES];
    int ntl;
};

/* Parses n bytes of an MPD (expat; no DTD, no entities) into *out (zeroed first; free with
 * probe_dash_free even on failure). 0; OC_EINVAL with "line N: why" in err; OC_ETOOBIG past
 * the PROBE_DASH_MAX_* caps. */
int probe_dash_parse(const char *text, size_t n, struct probe_dash *out /* OUT */, char *err,
                     size_t errlen);
/* Frees what probe_dash_parse allocated and zeroes p (NULL is a no-op). */
void probe_dash_free(struct probe_dash *p);
/* The URL of segment i of tl from its media template ($RepresentationID$, $Number$,
 * $Time$, $Bandwidth$ with %0Nd, $$), relative to the MPD; 0, or -1 when it does not fit n
 * or the template is not understood. */
int probe_dash_segment_url(const struct probe_dash_tl *tl, int i, char *out, size_t n);

/* What the checks remember of one MPD between polls. */
struct probe_dash_memo {
    struct probe_dash last; /* the previous MPD (owned) */
    int have;
    int64_t advanced_ms;  /* when the newest timeline end last grew */
    int64_t published_ms; /* when publishTime last grew */
};

/* Compares cur, fetched at now_ms, with m and adopts it (cur is left empty): publishTime
 * going back (went_back) or not advancing for 1.5 x the longest segment
 * (publish_time_stale), the timeline's newest end not growing for as long (stale), a
 * timeline with a gap or overlap (timeline_gap), a segment starting at the same time with
 * another duration (changed_same_sequence), the newest segment ending later than the wall
 * clock allows (availability_skew). Returns how many observations were written to obs. */
int probe_dash_check(struct probe_dash_memo *m, struct probe_dash *cur, int64_t now_ms,
                     struct probe_obs *obs /* OUT */);
/* Frees what m holds. */
void probe_dash_memo_free(struct probe_dash_memo *m);
/* Two pathways' MPDs of one stream: 1 and obs filled when the same timeline's newest ends
 * differ by 2 or more of its longest segments. */
int probe_dash_agree(const struct probe_dash *a, const char *pa, const struct probe_dash *b,
                     const char *pb, struct probe_obs *obs);

/* The module (src/oncue/modules.c). */

extern const struct oc_module probe_module;

/* `oncue bench probe` (bench.c): argv[0] is "probe". Exit status. */
int probe_bench_main(int argc, char **argv);
extern const struct oc_cli probe_bench_cli[];

/* Options of the probe module (probe.* settings). */
struct probe_opts {
    const char *file;           /* YAML list of streams; "" for none */
    const char *outbound_allow; /* private ranges probes may reach */
    int64_t poll_s;             /* default poll period */
    int64_t timeout_ms;         /* per request */
    int64_t segments;           /* newest segments fetched per playlist */
    int64_t recovery_polls;     /* clean polls before a finding recovers */
    int64_t max_streams;        /* streams at most */
};

#endif
