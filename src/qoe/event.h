/*
 * event.h - one player beacon event, as docs/contracts.md "Beacon events" defines it.
 *
 * This struct is the contract between everything that produces beacons (the HTTP parser,
 * the simulator) and everything that consumes them (the QoE cube). Strings are slices that
 * point into the producer's buffer and are valid only for the duration of the call that
 * receives the event; a consumer copies (interns) what it keeps.
 */
#ifndef OC_QOE_EVENT_H
#define OC_QOE_EVENT_H

#include <stdint.h>

/* The dimensions of a leaf, in this order everywhere (cube keys, query names, docs). */
enum beacon_dim {
    BEACON_REGION = 0,
    BEACON_COUNTRY,
    BEACON_CDN,
    BEACON_POP,
    BEACON_ISP,
    BEACON_ASN,
    BEACON_DEVICE,
    BEACON_OS,
    BEACON_PLAYER,
    BEACON_PLAYER_VERSION,
    BEACON_DRM,
    BEACON_TITLE,
    BEACON_LIVE, /* "true" or "false" (JSON booleans are normalized to these) */
    BEACON_NDIMS,
};

enum beacon_type {
    BEACON_START = 1, /* outcome of one play attempt */
    BEACON_HEARTBEAT, /* what happened since the session's previous heartbeat */
    BEACON_ERROR,     /* a fatal error after playback started */
    BEACON_END,       /* the session ended */
    BEACON_EDGE,      /* one request a CDN edge served (a log line; never from a player) */
};

enum beacon_outcome {
    BEACON_OUTCOME_NONE = 0,
    BEACON_SUCCESS, /* first frame shown; startup_ms set */
    BEACON_FAILURE, /* fatal error before the first frame; error_code set */
    BEACON_EXIT,    /* viewer left before the first frame */
};

/* A byte slice; p is NULL when absent. Not NUL-terminated. */
struct beacon_str {
    const char *p;
    uint32_t n;
};

struct beacon_event {
    int64_t ts_ms; /* event time, unix milliseconds */
    enum beacon_type type;
    enum beacon_outcome outcome;          /* start events only */
    struct beacon_str session;            /* session id (required) */
    struct beacon_str dims[BEACON_NDIMS]; /* absent dimensions have p == NULL */
    struct beacon_str error_code;         /* failure starts and error events */
    struct beacon_str account; /* account_hmac: 64 lower-case hex (not in the cube; ingest's
                                  account table, ingest/accounts.c); p == NULL when absent */
    int64_t startup_ms;        /* successful starts */
    int64_t playing_ms;        /* heartbeats */
    int64_t rebuffer_ms;       /* heartbeats */
    double bitrate_kbps;       /* heartbeats: average over playing_ms */
    uint8_t stalled;           /* heartbeats: a stall reported without its duration (CMCD bs): the
                                  session counts as rebuffering even with rebuffer_ms 0 */
    /* BEACON_EDGE only: what the CDN's log line says of the request */
    int edge_status;      /* HTTP status sent to the client; 0 unknown */
    uint8_t edge_miss;    /* 1: a cache miss (the edge fetched the object) */
    uint8_t edge_origin;  /* 1: the edge pulled from the origin (a miss or a pass) */
    int64_t edge_ttfb_ms; /* edge time to first byte; -1 unknown */
};

/* The JSON names of the dimensions, indexed by enum beacon_dim. */
extern const char *const beacon_dim_names[BEACON_NDIMS];

#endif
