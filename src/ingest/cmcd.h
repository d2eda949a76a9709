/*
 * cmcd.h - Common Media Client Data (CTA-5004 v1 and the keys of CTA-5004-A v2 oncue maps) and
 * CDN log lines: the zero-copy parsers (cmcd.c: the CMCD= query form, the four CMCD-* headers,
 * the event-mode body; cdnlog.c: Fastly NDJSON, Akamai DataStream 2 JSON, CloudFront real-time
 * log lines), the mapping of one CMCD payload onto a beacon event (the player side), and the
 * edge record of a log line (the CDN side). Internal to ingest (module.c, the tests, the fuzz
 * targets and the bench include it). See docs/internals/cmcd.md; the contract is
 * docs/contracts.md "CMCD and CDN logs".
 */
#ifndef OC_INGEST_CMCD_H
#define OC_INGEST_CMCD_H

#include "ingest/ingest.h"

#include <stddef.h>
#include <stdint.h>

/* The keys oncue reads (bits of struct cmcd has). Other keys are skipped. */
enum cmcd_key {
    CMCD_BR = 0, /* encoded bitrate, kbps */
    CMCD_BL,     /* buffer length, ms */
    CMCD_BS,     /* buffer starvation since the previous request (boolean) */
    CMCD_BSD,    /* v2: buffer starvation duration since the previous report, ms */
    CMCD_CDN,    /* v2: the CDN serving the object */
    CMCD_CID,    /* content id */
    CMCD_D,      /* object duration, ms */
    CMCD_DL,     /* deadline, ms */
    CMCD_E,      /* v2 event mode: the event (ps, e, t, c, b, ...) */
    CMCD_LTC,    /* v2: live latency, ms */
    CMCD_MSD,    /* v2: media start delay (play request to first frame), ms */
    CMCD_MTP,    /* measured throughput, kbps */
    CMCD_OT,     /* object type: m a v av i c tt k o */
    CMCD_PR,     /* playback rate (a decimal) */
    CMCD_RTP,    /* requested maximum throughput, kbps */
    CMCD_SF,     /* streaming format: d h s o */
    CMCD_SID,    /* session id */
    CMCD_ST,     /* stream type: v (vod), l (live), ll (v2: low latency) */
    CMCD_STA,    /* v2: player state: s p k r a w e f q d */
    CMCD_SU,     /* startup (boolean) */
    CMCD_TB,     /* top bitrate, kbps */
    CMCD_TS,     /* v2: timestamp, unix ms */
    CMCD_TTFB,   /* v2: time to first byte (client measured), ms */
    CMCD_V,      /* version */
    CMCD_NKEYS,
};

/* One CMCD payload: the keys above. Strings are slices of the input or of scratch. */
struct cmcd {
    uint32_t has; /* bit k: key k was present and valid */
    struct beacon_str sid, cid, cdn, ot, st, sf, sta, e;
    int64_t br, bl, bsd, d, dl, ltc, msd, mtp, rtp, tb, ts, ttfb, v;
    double pr;
    uint8_t bs, su;
};

#define CMCD_HAS(c, k) (((c)->has >> (k)) & 1u)

/* Why a line (or report) was refused; 0 is accepted. Names in cmcd_reason_names. */
enum cmcd_reason {
    CMCD_OK = 0,
    CMCD_R_MALFORMED,      /* not a line of the format (bad JSON, too few fields, ...) */
    CMCD_R_TOO_LONG,       /* a line longer than CMCD_MAX_LINE */
    CMCD_R_MISSING_TS,     /* no time */
    CMCD_R_BAD_TS,         /* a time that is not a positive unix time */
    CMCD_R_MISSING_SID,    /* a CMCD report without sid */
    CMCD_R_BAD_CMCD,       /* a CMCD payload that does not parse, or a key of the wrong type */
    CMCD_R_BAD_FIELD,      /* a log field with the wrong type or out of range */
    CMCD_R_TOO_OLD,        /* its minute has closed */
    CMCD_R_TOO_FAR_FUTURE, /* further ahead of the clock than ingest.max_future_skew_s */
    CMCD_NREASONS,
};

extern const char *const cmcd_reason_names[CMCD_NREASONS];

#define CMCD_MAX_LINE   16384  /* bytes of one log line or report */
#define CMCD_MAX_ERRORS 20     /* errors listed in an answer */
#define CMCD_MAX_DETAIL 120    /* bytes of one error's detail */
#define CMCD_MAX_LINES  200000 /* lines of one body */

/* Parses one CMCD dictionary (the value of a CMCD-* header, a decoded CMCD= query value, a
 * line of an event-mode body: `br=3200,bs,sid="6e2f",ot=v`) into c, adding to what c holds
 * (the four headers of one request fill one struct). Strings with escapes are unescaped into
 * scratch at *used (needs at most n bytes). 0, or -1 with why naming the key. */
int cmcd_parse_dict(const char *p, size_t n, struct cmcd *c, char *scratch, size_t *used, char *why,
                    size_t whylen);
/* Finds the CMCD= parameter of a query string or URL (everything before '?' is skipped when
 * there is one), percent-decodes it into scratch and parses it. 1 when found and parsed, 0
 * when there is none, -1 with why when it does not parse. Needs 2n bytes of scratch. */
int cmcd_parse_query(const char *p, size_t n, struct cmcd *c, char *scratch, size_t *used,
                     char *why, size_t whylen);

/* Sets key k of c from the text v of a log column (CloudFront's cmcd-* fields: quotes
 * around strings dropped, booleans as 1/0, true/false or ?1/?0; "" leaves it unset). 0, or
 * -1 with why. */
int cmcd_set_key(struct cmcd *c, enum cmcd_key k, struct beacon_str v, char *why, size_t whylen);

/* The player side of one CMCD payload at time ts_ms as a beacon event (docs/contracts.md
 * "CMCD and CDN logs": msd -> a successful start, sta f / e e -> error, sta e / q -> end,
 * otherwise a heartbeat of d ms at br kbps with bsd ms stalled). Sets session, type and the
 * measures, title from cid and live from st; other dimensions are the caller's. 0, or
 * CMCD_R_MISSING_SID. */
int cmcd_to_event(const struct cmcd *c, int64_t ts_ms, struct beacon_event *ev /* OUT */);

/* The CDN side of one log line. */
enum cdn_cache { CDN_CACHE_UNKNOWN = 0, CDN_CACHE_HIT, CDN_CACHE_MISS, CDN_CACHE_PASS };
struct cdn_edge {
    int64_t ts_ms;         /* request time, unix ms */
    struct beacon_str pop; /* the edge location */
    int status;            /* HTTP status sent to the client; 0 unknown */
    uint8_t cache;         /* enum cdn_cache */
    int64_t ttfb_ms;       /* edge time to first byte; -1 unknown */
    int64_t bytes;         /* bytes sent; -1 unknown */
};

enum cdnlog_format { CDNLOG_FASTLY = 1, CDNLOG_AKAMAI, CDNLOG_CLOUDFRONT };

/* The fields of a CloudFront real-time log configuration, in their configured order. */
#define CDNLOG_MAX_FIELDS 64
struct cdnlog_fields {
    uint8_t id[CDNLOG_MAX_FIELDS]; /* per column: a field oncue reads, or 0 (skipped) */
    uint32_t n;                    /* columns */
};

/* Parses format's name ("fastly", "akamai", "cloudfront") into *f: 0, or OC_EINVAL. */
int cdnlog_format_parse(const char *name, enum cdnlog_format *f /* OUT */);
/* Parses a comma-separated CloudFront field list (NULL: the default order documented in
 * docs/contracts.md) into out: 0, or OC_EINVAL with why (an empty name, too many). Names
 * oncue does not read are kept as skipped columns. */
int cdnlog_fields_parse(const char *list, struct cdnlog_fields *out /* OUT */, char *why,
                        size_t whylen);

/* One refused line or report, for the answer. */
struct cmcd_error {
    uint32_t line;                /* 1-based line (or report) number */
    uint8_t reason;               /* enum cmcd_reason */
    char detail[CMCD_MAX_DETAIL]; /* what was wrong, naming the field or key */
};

/* A parsed body: the player-side events (ev, with the scratch arrays qoe_cube_add needs) and
 * the edge records. Strings point into the body, scratch or the caller's dimension strings.
 * Init with cmcd_batch_init, reuse, free with cmcd_batch_free. */
struct cmcd_batch {
    struct beacon_event *ev; /* owned */
    uint32_t *ev_line;       /* ev[i] came from line ev_line[i] (0-based); owned */
    uint32_t *leaf;          /* scratch for the cube; owned */
    uint64_t *sh;            /* ditto */
    uint8_t *verdict;        /* ditto: enum qoe_fold_verdict */
    size_t nev, cap_ev;
    struct cdn_edge *edge; /* one per accepted log line; owned */
    size_t nedge, cap_edge;
    uint8_t *reason; /* per line (or report): enum cmcd_reason; owned */
    size_t nlines, cap_lines;
    size_t rejected;                           /* lines with a reason */
    struct cmcd_error errors[CMCD_MAX_ERRORS]; /* the first refused lines */
    size_t nerrors;
    char *scratch; /* unescaped and decoded strings; owned */
    size_t scratch_cap, used;
    size_t max_lines;   /* hard cap of one body */
    uint64_t principal; /* the sender (qoe_principal), charged for new values; 0: none */
};

/* Dimensions a body's lines get when the line has none of its own (query parameters of the
 * route, borrowed until the fold). A NULL p: absent. */
struct cmcd_dims {
    struct beacon_str d[BEACON_NDIMS];
    int edge_only; /* logs: CMCD only names the request's dimensions; no player event (for
                    * players that also send beacons, so no session is counted twice) */
};

void cmcd_batch_init(struct cmcd_batch *b, size_t max_lines);
void cmcd_batch_free(struct cmcd_batch *b);
/* Parses an event-mode body (POST /v1/cmcd): one report per line, each a CMCD dictionary or
 * a JSON object of CMCD keys, or a JSON array of such objects. Every report needs sid and ts.
 * 0 with per-report reasons, or OC_ETOOBIG past max_lines. */
int cmcd_parse_events(struct cmcd_batch *b, const char *body, size_t len,
                      const struct cmcd_dims *dims);
/* Parses a body of CDN log lines in format f (fields: CloudFront's columns, else NULL) into b:
 * an edge record per valid line and a player-side event per line carrying CMCD with a sid.
 * dims: defaults (cdn: the format's name when not given). 0 with per-line reasons, or
 * OC_ETOOBIG past max_lines. */
int cdnlog_parse(struct cmcd_batch *b, enum cdnlog_format f, const struct cdnlog_fields *fields,
                 const char *body, size_t len, const struct cmcd_dims *dims);
/* Marks line (0-based) of b refused for reason with a printf-style detail (kept for the first
 * CMCD_MAX_ERRORS). */
void cmcd_batch_reject(struct cmcd_batch *b, size_t line, int reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Shared by the parsers (cmcd.c, cdnlog.c): empty b for a body of len bytes; add a line
 * (0, or OC_ETOOBIG); add an event slot for line; fill an event's absent dimensions. */
void cmcd_batch_reset(struct cmcd_batch *b, size_t len);
int cmcd_batch_line(struct cmcd_batch *b);
struct beacon_event *cmcd_batch_event(struct cmcd_batch *b, size_t line);
void cmcd_apply_dims(struct beacon_event *ev, const struct cmcd_dims *dims);
/* Keeps in b only the events whose bit is set in bits (nev bits; b->nev must equal nev): how
 * a logged body folds again exactly what the cube accepted the first time. 0, or OC_EINVAL. */
int cmcd_batch_keep(struct cmcd_batch *b, const uint8_t *bits, uint32_t nev);
/* Folds b's events into the cube; a line whose event the cube refused becomes too old / too
 * far in the future (its edge record is dropped too). Counts every refused line by reason in
 * rejected (NULL: not counted). Returns the events folded. Thread-safe. */
size_t cmcd_fold(struct qoe_cube *c, struct cmcd_batch *b, _Atomic uint64_t *rejected);

/* `oncue bench cdnlog`: parses generated log lines on one core and prints lines/s. */
int cdnlog_bench_main(int argc, char **argv);
extern const struct oc_cli cdnlog_bench_cli[];

#endif
