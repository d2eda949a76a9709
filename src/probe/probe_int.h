/*
 * probe_int.h - the probe module's insides: stream specs, the per-stream state the probe
 * thread keeps, and the fetches it has in flight. Only src/probe/ includes it.
 */
#ifndef OC_PROBE_PROBE_INT_H
#define OC_PROBE_PROBE_INT_H

#include "probe/probe.h"
#include "core/buf.h"
#include "core/netguard.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdint.h>

#define PROBE_MAX_PATHS     4          /* origins or CDN pathways of one stream */
#define PROBE_MAX_MEDIA     8          /* media playlists followed from one multivariant playlist */
#define PROBE_NAME_MAX      64         /* bytes of a stream or pathway name */
#define PROBE_URL_MAX       2048       /* bytes of a URL */
#define PROBE_FILE_MAX      (1u << 20) /* bytes of probe.file */
#define PROBE_SEG_MAX_BYTES (64u << 20) /* a segment fetch stops past this many bytes */
#define PROBE_MAX_SEGMENTS  4           /* probe.segments at most */
#define PROBE_FINDINGS_KEEP 100000      /* stored findings kept (the oldest go) */
#define PROBE_TRIM_EVERY    1000        /* findings written between two trims */

/* What a stream is, as probe.file or POST /v1/probes give it. */
struct probe_spec {
    char name[PROBE_NAME_MAX];
    char service[PROBE_NAME_MAX]; /* catalog service name, "" when none */
    char kind[8];                 /* "hls" or "dash" */
    int poll_ms;                  /* 0: probe.poll_s */
    int npaths;
    char path_name[PROBE_MAX_PATHS][PROBE_NAME_MAX]; /* "default" for a lone url */
    char url[PROBE_MAX_PATHS][PROBE_URL_MAX];
    /* a url with "{pathway}": one pathway per pathway of the steering policy, the URL with
     * its name put in ("" when the pathways are listed); path_name and url then hold the
     * expansion of the policy in force */
    char tmpl[PROBE_URL_MAX];
};

/* Reads a stream from a JSON object: {name, kind, service, poll_s, url | urls {pathway: url}}.
 * 0, or OC_EINVAL with why in err. */
int probe_spec_from_json(const json_t *o, struct probe_spec *out /* OUT */, char *err,
                         size_t errlen);
/* The spec as JSON (new reference). */
json_t *probe_spec_json(const struct probe_spec *s);
/* Sets a templated spec's pathways from pathways (the steering policy's "pathways", an array
 * of names; borrowed, may be NULL): at most PROBE_MAX_PATHS, names that cannot be pathways
 * skipped. Returns how many. */
int probe_spec_expand(struct probe_spec *s, const json_t *pathways);
/* 1 when a and b probe the same pathways at the same URLs, in the same order. */
int probe_spec_same_paths(const struct probe_spec *a, const struct probe_spec *b);
/* Reads the YAML (or JSON) list of streams at path into a JSON array (*out, new reference).
 * 0, or an oc_err with "path: why" in err. */
int probe_file_load(const char *path, json_t **out /* OUT */, char *err, size_t errlen);

struct job;

/* One media playlist followed on one pathway. */
struct probe_media {
    char url[PROBE_URL_MAX];    /* absolute */
    struct probe_hls_memo memo; /* what the checks remember */
    int64_t ok_poll;            /* the last poll that parsed it */
    int64_t seg_ok_msn;         /* the newest segment fetched whole; -1 before one */
};

/* One pathway of a stream and its measurements. */
struct probe_path {
    struct probe_media media[PROBE_MAX_MEDIA];
    int nmedia;
    int up;            /* the last playlist fetch answered 200 and parsed */
    double ttfb_s;     /* of the last playlist fetch */
    double seg_ttfb_s; /* of the last segment fetched */
    double seg_bps;    /* its throughput, bytes per second */
    double age_s;      /* since the newest media sequence grew */
    double latency_s;  /* now less the end of the newest segment (program date time, or the
                          MPD's availability times); -1 when unknown */
    struct probe_dash_memo dash;                   /* kind dash: the previous MPD */
    int64_t dash_ok_poll;                          /* the last poll that parsed it */
    int64_t dash_seg_ok[PROBE_DASH_MAX_TIMELINES]; /* 1 + newest segment start fetched whole */
};

/* A fault kind's state on one stream. */
struct probe_finding {
    int active;        /* probe.failed published, probe.recovered not yet */
    int64_t since_ms;  /* when it became active */
    int64_t seen_poll; /* the last poll that observed it */
    int64_t seen_ms;   /* when */
    char detail[200];  /* the last observation */
};

/* One probed stream. Guarded by the module's mutex. */
struct probe_stream {
    struct probe_spec spec;
    int from_api;         /* added by POST /v1/probes (stored) rather than probe.file */
    int deleted;          /* DELETE seen: freed once nothing is in flight */
    int64_t next_ms;      /* when the next poll starts */
    int64_t poll;         /* polls started */
    int inflight;         /* fetches not finished */
    uint64_t polls_total; /* counters for /metrics */
    struct probe_path paths[PROBE_MAX_PATHS];
    struct probe_finding f[PROBE_NKINDS];
    struct probe_spec *next; /* new pathways (the steering policy changed), taken between two
                                polls by the probe thread; NULL when none */
};

/* The module's state. */
struct probe_state {
    struct oc_app *app;
    struct probe_opts o;
    struct oc_netguard guard;
    pthread_mutex_t mu; /* leaf: streams, their findings and measurements */
    struct probe_stream **streams;
    int nstreams;
    size_t cap;
    struct job *jobs; /* fetches in flight (poll.c), probe thread only */
    CURLM *multi;     /* used by the probe thread only (curl_multi_wakeup aside) */
    pthread_t thread;
    int thread_started;
    volatile int stop;           /* set under mu, then curl_multi_wakeup */
    uint64_t requests, failures; /* fetches made and failed (under mu) */
    uint64_t written;            /* findings stored (probe thread) */
    json_t *pathways;            /* the steering policy's pathways (under mu; NULL: none) */
};

/* Starts the probe thread; 0 or OC_EIO. */
int probe_engine_start(struct probe_state *ps);
/* Stops and joins it, ending the fetches in flight. */
void probe_engine_stop(struct probe_state *ps);

/* The stream named name, or NULL; call under ps->mu. */
struct probe_stream *probe_find(struct probe_state *ps, const char *name);
/* Adds a stream made from spec (copied); call under ps->mu. OC_ECONFLICT when the name is
 * taken, OC_ETOOBIG past probe.max_streams. */
int probe_add(struct probe_state *ps, const struct probe_spec *spec, int from_api);
/* Frees what one pathway's state holds and leaves it empty (latency unknown). */
void probe_path_clear(struct probe_path *p);
/* Frees what a stream's pathways hold (not s itself). */
void probe_stream_clear(struct probe_stream *s);
/* The stream's state and findings as JSON (new reference); call under ps->mu. */
json_t *probe_stream_json(const struct probe_stream *s, int64_t now_ms);

#endif
