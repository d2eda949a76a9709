/*
 * steer.h - content steering for HLS and DASH, and the one-command mitigations.
 *
 * A steering server answers players' periodic requests with a steering manifest (VERSION,
 * TTL, RELOAD-URI, PATHWAY-PRIORITY, PATHWAY-CLONES) computed from a policy: a default pathway
 * order plus rules by region, country, ISP, ASN and device class, each applying to a sticky
 * percentage of sessions. Mitigations (shift-cdn, backup-origin, flag, rollback) are overlays
 * on the base policy: applying one adds rules, clones or flags; reverting removes them.
 *
 * Other capabilities include only this header. steer_module mounts the HTTP API.
 */
#ifndef OC_STEER_STEER_H
#define OC_STEER_STEER_H

#include "core/module.h"
#include "core/opt.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct oc_buf;
struct oc_bus;
struct oc_clock;
struct oc_module;
struct store;

#define STEER_ID_MAX       64   /* longest pathway id, region, session, asset, ... */
#define STEER_MAX_LIST     8    /* pathways (or throughputs) reported in one query */
#define STEER_QUERY_MAX    4096 /* bytes of one query string */
#define STEER_MAX_PATHWAYS 16   /* pathways plus clones in one policy */
#define STEER_MAX_RULES    256  /* rules in one policy, mitigations included */
#define STEER_MAX_FLAGS    256  /* flag entries in one policy, mitigations included */
#define STEER_MAX_RETIRED  1024 /* retired assets */
#define STEER_MAX_PARAMS   8    /* PARAMS entries of one clone */
#define STEER_MAX_ACTIVE   128  /* active mitigations */

/* What a steering request says about the client, parsed from its query string. Players add
 * _HLS_pathway/_HLS_throughput (unquoted) or _DASH_pathway/_DASH_throughput (quoted, URL
 * encoded, comma lists); region, country, isp, asn, device and session come from the
 * SERVER-URI or from our own RELOAD-URI. Every string is "" when absent. */
struct steer_query {
    char pathway[STEER_MAX_LIST][STEER_ID_MAX + 1]; /* reported pathways, in order */
    int npathway;                                   /* entries in pathway */
    double throughput[STEER_MAX_LIST];              /* bit/s, parallel to pathway */
    int nthroughput;                                /* entries in throughput */
    int dash;                                       /* 1 when a _DASH_ parameter was seen */
    char region[STEER_ID_MAX + 1];                  /* client region ("EMEA") */
    char country[STEER_ID_MAX + 1];                 /* ISO country code */
    char isp[STEER_ID_MAX + 1];                     /* ISP name */
    char asn[STEER_ID_MAX + 1];                     /* autonomous system number */
    char device[STEER_ID_MAX + 1];                  /* device class ("tv", "mobile") */
    char session[STEER_ID_MAX + 1];                 /* stickiness token */
};

/* Parses the raw query string qs (n bytes, no leading '?', untrusted, not NUL-terminated) into
 * out. Unknown parameters are ignored; the first occurrence of a parameter wins. Returns 0,
 * OC_EINVAL (a value with characters outside [A-Za-z0-9._-] or a malformed number or escape)
 * or OC_ETOOBIG (query, value or list past its cap). out is always fully initialized. */
int steer_query_parse(const char *qs, size_t n, struct steer_query *out /* OUT */);
/* 1 when s (NUL-terminated) is a valid identifier: 1..STEER_ID_MAX of [A-Za-z0-9._-]. */
int steer_id_valid(const char *s);

/* The session's bucket in [0, 10000): a stable hash of the session token. A rule with percent
 * P applies to the sessions whose bucket is below P*100, so raising P only adds sessions. */
int steer_bucket(const char *session);

enum steer_proto {
    STEER_HLS = 0,
    STEER_DASH,
};

/* Where a rollback of service goes, resolved by the host (steer_module asks the running
 * catalog): adds to rec (a mitigation record or dry-run answer, borrowed) "deploy_webhook" (the
 * service's URL, or null when it has none; then also "rollback_doc" when one is known) or
 * "deploy_unresolved" (why no webhook could be resolved: "no catalog is loaded", "S is not in
 * the catalog"). Returns 0, or OC_ENOTFOUND when the catalog runs and does not know service.
 * Called without steer's locks held. */
typedef int steer_deploy_fn(void *arg, const char *service, json_t *rec);

struct steer_opts {
    struct oc_clock *clock;    /* time for rate limiting and records; required */
    struct oc_bus *bus;        /* NULL: announce nothing */
    struct store *store;       /* NULL: keep everything in memory */
    int64_t ttl_s;             /* default TTL when the policy has none */
    int64_t max_rps;           /* token-bucket rate for steering requests; 0: no cap */
    int64_t followup_hours;    /* deadline of a mitigation's follow-up item */
    const char *backup_origin; /* default HOST for backup-origin; may be NULL */
    struct steer_geo *geo;     /* MaxMind lookups (borrowed; outlives the state); may be NULL */
    const char *region_map;    /* steer.geoip_regions (NULL or "": the built-in map) */
    steer_deploy_fn *deploy; /* resolves a rollback's deploy webhook; NULL: rollbacks carry none */
    void *deploy_arg;        /* its first argument */
};

struct steer;

/* Creates a steering state with an empty policy (no pathways: requests answer 503) and, when
 * a store is given, loads the persisted policy and active mitigations. opts strings are
 * copied. 0, OC_EDB (the store failed) or OC_EIO (no random source); free with
 * steer_destroy. */
int steer_new(const struct steer_opts *opts, struct steer **out /* OUT */);
/* Frees the state (NULL is a no-op). */
void steer_destroy(struct steer *st);

/* Replaces the base policy with doc (borrowed), validating it first; persists it when a store
 * is open and announces "steer.policy_changed". 0, or OC_EINVAL/OC_ETOOBIG with a reason in
 * err; OC_EDB if it could not be saved (the old policy stays). */
int steer_policy_set(struct steer *st, const json_t *doc, const char *actor, char *err,
                     size_t errlen);
/* The base policy document (new reference, caller decrefs). */
json_t *steer_policy_get(struct steer *st);
/* The regions of the region map (steer_geo_map_regions of opts.region_map): a string the
 * caller frees, or NULL when the map does not parse. */
char *steer_regions(struct steer *st);

/* The outcome of evaluating the effective policy for one client. */
struct steer_decision {
    char priority[STEER_MAX_PATHWAYS * (STEER_ID_MAX + 1)]; /* "cdn-b,cdn-a" */
    char rule[STEER_ID_MAX + 1]; /* name of the rule that decided; "" for the default */
    int64_t ttl_s;               /* TTL served */
};
/* Evaluates the effective policy (base plus active mitigations) for q's attributes and
 * session. 0, or OC_ENOTFOUND when no policy with pathways is set. */
int steer_decide(struct steer *st, const struct steer_query *q, struct steer_decision *d /* OUT */);

/* --- geo.c: the client's region, country, ASN and ISP from MaxMind databases --- */

struct sockaddr;
struct sockaddr_storage;
struct steer_geo;

/* Opens the MaxMind databases of paths (comma-separated; NULL or "": none) and the region
 * map regions ("continent:EU=EMEA,country:MX=LATAM,..."; NULL or "": the built-in map). 0, or
 * OC_EINVAL with a reason naming the setting (steer.geoip_db, steer.geoip_regions) in err.
 * Free with steer_geo_close. Lookups are safe from any thread. */
int steer_geo_open(const char *paths, const char *regions, struct steer_geo **out /* OUT */,
                   char *err, size_t errlen);
void steer_geo_close(struct steer_geo *g);
/* The distinct regions of the region map regions (as for steer_geo_open; NULL or "": the
 * built-in map: "EMEA,NA,LATAM,APAC"), comma-separated in map order: a string the caller
 * frees, or NULL when the map does not parse (steer_geo_open says why). */
char *steer_geo_map_regions(const char *regions);
/* Databases open in g. */
int steer_geo_ndbs(const struct steer_geo *g);
/* The region of a country code (looked up first) or continent code, or NULL. */
const char *steer_geo_region(const struct steer_geo *g, const char *country, const char *continent);
/* Fills the empty country, region, asn and isp of q from addr's entries in g's databases (the
 * ISP name as an identifier: "Andrews & Arnold Ltd" -> "andrews-arnold-ltd"). 1 when a
 * database knew addr, else 0. */
int steer_geo_fill(struct steer_geo *g, const struct sockaddr *addr, struct steer_query *q);
/* Lookups that found an entry, and the others. */
void steer_geo_counts(struct steer_geo *g, uint64_t *found, uint64_t *missed);
/* Parses the client address from a trusted header's value (n bytes, untrusted): the first
 * comma-separated entry, spaces trimmed, "1.2.3.4", "1.2.3.4:port", "2001:db8::1" or
 * "[2001:db8::1]:port". 0 or OC_EINVAL. */
int steer_client_addr_parse(const char *s, size_t n, struct sockaddr_storage *out /* OUT */);

/* What the connection says about a steering client. */
struct steer_client {
    const char *region;          /* the trusted region header's value, or NULL */
    const struct sockaddr *addr; /* its address (peer, or trusted header), or NULL */
};

/* The answer to one steering request. */
struct steer_answer {
    int status;        /* 200, 400, 404, 410, 429 or 503 */
    int retry_after_s; /* for 429 and 503, else 0 */
};
/* Answers GET /v1/steering/{hls|dash}/{asset}?qs: on 200 writes the manifest JSON into out,
 * else a one-line reason. The client's region is the query's, else client->region (a trusted
 * header), else the geo databases' for client->addr; country, ASN and ISP likewise come from
 * the query first. client may be NULL. Records throughput measurements. Returns 0, or
 * OC_ETOOBIG if out is full. */
int steer_answer(struct steer *st, enum steer_proto proto, const char *asset, const char *qs,
                 size_t qslen, const struct steer_client *client, struct oc_buf *out,
                 struct steer_answer *ans /* OUT */);

/* Per-pathway throughput measurements reported by players. */
struct steer_measure {
    char pathway[STEER_ID_MAX + 1]; /* "_other" collects pathways past the table's cap */
    uint64_t reports;               /* measurements received */
    double sum_bps;                 /* sum of reported throughputs */
    double last_bps;                /* latest reported throughput */
};
/* Copies up to max measurements into out; returns how many. */
int steer_measures(struct steer *st, struct steer_measure *out, int max);
/* Writes the steering metric families (Prometheus text) into b; an oc_metrics_fn for st. */
void steer_metrics_write(struct oc_buf *b, void *st);

/* Evaluates the feature flags (base plus active mitigations) for a player: writes an object
 * {"flag": true|false, ...} (new reference). Any argument may be NULL or "". */
json_t *steer_flags_eval(struct steer *st, const char *player, const char *player_version,
                         const char *device, const char *region);
/* One flag's value for a player, without building JSON: 1 on, 0 off, -1 when no entry of the
 * effective policy matches. */
int steer_flag_value(struct steer *st, const char *name, const char *player,
                     const char *player_version, const char *device, const char *region);

/* Applies a mitigation described by req, an object with "kind" (shift-cdn, backup-origin, flag,
 * rollback) and its arguments (region, from, to, percent; service, host; name, on,
 * player_version, player, device; service). With dry_run, nothing changes and *out holds
 * {"dry_run": true, "before": manifest, "after": manifest}; otherwise the mitigation is
 * recorded (with a follow-up item), takes effect, is announced on "mitigation.applied" and
 * *out is its record. A rollback's answer and record also carry its deploy webhook as
 * opts.deploy resolves it (a service that a running catalog does not know is OC_EINVAL).
 * 0, OC_EINVAL (reason in err), OC_ETOOBIG, OC_EDB. Caller owns *out. */
int steer_mitigate(struct steer *st, const json_t *req, const char *actor, int dry_run,
                   json_t **out /* OUT */, char *err, size_t errlen);
/* Checks a mitigation request as steer_mitigate would (the kind, its required and known
 * arguments, their forms) without applying it: 0, or OC_EINVAL with the field in err. */
int steer_mitigation_check(const json_t *req, char *err, size_t errlen);
/* Reverts active mitigation id: 0, OC_ENOTFOUND, OC_ECONFLICT (already reverted) or OC_EDB.
 * Announces "mitigation.reverted". *out (caller owns) is the updated record; may be NULL. A
 * rollback's deploy webhook is resolved again through opts.deploy (after a restart too). */
int steer_revert(struct steer *st, int64_t id, const char *actor, json_t **out /* OUT */);
/* Every mitigation (active and reverted, newest first) as a JSON array (new reference). */
json_t *steer_mitigations(struct steer *st);

/* Automatic steering (off unless the policy's "auto" object enables it), an oc_bus_fn for
 * "alert.fired" and "alert.resolved" with arg = struct steer. It reads payloads shaped
 * {"rule": NAME, "slice": {"region": R, "cdn": C, ...}} (other payloads are ignored; C must be
 * a pathway id). Only paging alerts count (a payload whose "level" is not "page" is ignored:
 * backlog-level rules fire on baseline noise and notify-level ones are for humans). When an
 * alert fires on (R, C) and R has no automatic shift, R may move (not
 * sooner than min_interval_s after its last move) and a healthy pathway exists (the first in
 * the default order with no alert firing in R), it applies shift-cdn R from C to it, as actor
 * "auto", with a reason for the timeline. */
void steer_auto_on_alert(const char *topic, const json_t *payload, void *arg);
/* Reverts automatic shifts whose broken pathway has been healthy for hold_s (and whose region
 * last moved min_interval_s ago or more). Run periodically; returns how many were reverted. */
int steer_auto_tick(struct steer *st);

/* `oncue mitigate ...` and `oncue steer ...`: talk to a running server. */
/* The request body POST /v1/mitigations takes for `oncue mitigate KIND [options]`, read from
 * argv (argv[0] is KIND) with the same option table as the command: 0 and *req (new
 * reference), or OC_EINVAL with the command's error line in err. */
int steer_mitigate_request(int argc, char **argv, json_t **req /* OUT */, char *err, size_t errlen);
int steer_mitigate_cli_main(int argc, char **argv);
/* The options of `oncue mitigate`, ending in {0}; each becomes a member of the request body. */
extern const struct oc_cli steer_mitigate_cli[];

/* The name the steer module provides its engine under (struct oc_app). */
#define STEER_PROVIDES "steer"
/* The steering engine of app's running steer module, or NULL when it does not run. */
struct steer *steer_of(const struct oc_app *app);
int steer_cli_main(int argc, char **argv);
/* The options of `oncue steer` (--help and docs/cli.md), ending in {0}. */
extern const struct oc_cli steer_cli[];

extern const struct oc_module steer_module;

#endif
