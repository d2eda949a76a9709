/*
 * tickets.h - support tickets as a reliability signal: signed Zendesk webhooks and a generic
 * JSON intake with field-mapping tables (Freshdesk, Salesforce Case, generic), auto-tagging
 * (service, symptom, tier, device, app version, region), near-duplicate clusters (64-bit
 * SimHash with banded LSH, incremental) and their link to the open incident whose slice they
 * overlap.
 *
 * The pure parts (signature, mapping, tagging, SimHash, clusters, the labelled storm) are here
 * for the unit tests, the fuzz targets and `oncue bench tickets`; the module (module.c)
 * serves /v1/tickets. See docs/internals/tickets.md.
 */
#ifndef OC_TICKETS_TICKETS_H
#define OC_TICKETS_TICKETS_H

#include "core/module.h"
#include "core/opt.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define TICKETS_BODY_MAX     (256 << 10) /* bytes of one intake body */
#define TICKETS_ID_MAX       64          /* bytes of an external ticket id */
#define TICKETS_ACCOUNT_MAX  128         /* bytes of an account id kept (billing's cap) */
#define TICKETS_SUBJECT_MAX  256         /* bytes of a subject kept (longer is cut) */
#define TICKETS_TEXT_MAX     4096        /* bytes of a description kept (longer is cut) */
#define TICKETS_FIELD_MAX    64          /* bytes of a short field (tier, device, region...) */
#define TICKETS_TAGS_IN_MAX  512         /* bytes of the provider's own tags, space-separated */
#define TICKETS_SECRET_MAX   256         /* bytes of a Zendesk signing secret */
#define TICKETS_MAP_ROWS     64          /* rows of a mapping or keyword file */
#define TICKETS_PATHS_MAX    256         /* bytes of one field's candidate paths */
#define TICKETS_KEYWORDS_MAX 128         /* keyword rows (built-in plus file) */

/* The Zendesk signature check's outcomes (tickets_zendesk_verify). */
enum tickets_sig {
    TICKETS_SIG_OK = 0,
    TICKETS_SIG_MISSING,   /* a header is absent */
    TICKETS_SIG_MALFORMED, /* the timestamp is not a time */
    TICKETS_SIG_STALE,     /* the timestamp is further than max_skew_s from now */
    TICKETS_SIG_NOMATCH,   /* the signature is not the body's */
    TICKETS_SIG_NOKEY,     /* tickets.zendesk_secret is empty */
};

/* Names of enum tickets_sig, for refusals. */
extern const char *const tickets_sig_reasons[];

/* Checks a Zendesk webhook: sig is X-Zendesk-Webhook-Signature (base64 HMAC-SHA256 under
 * secret of ts + body), ts is X-Zendesk-Webhook-Signature-Timestamp (RFC 3339, or unix
 * seconds), body is len bytes. A timestamp further than max_skew_s from now_s either way is
 * stale; its unix seconds go to *ts_s when it parses. Constant-time comparison. */
enum tickets_sig tickets_zendesk_verify(const char *secret, const char *sig, const char *ts,
                                        const char *body, size_t len, int64_t now_s,
                                        int64_t max_skew_s, int64_t *ts_s /* OUT */);
/* Writes the base64 signature of ts + body under secret into out (n >= 45 bytes). For the
 * tests, the fuzz target and the storm. */
void tickets_zendesk_sign(const char *secret, const char *ts, const char *body, size_t len,
                          char *out, size_t n);

/* The intake formats. */
enum tickets_format {
    TICKETS_ZENDESK = 0,
    TICKETS_FRESHDESK,
    TICKETS_SALESFORCE,
    TICKETS_GENERIC,
    TICKETS_NFORMATS,
};
extern const char *const tickets_format_names[]; /* "zendesk", ... */
/* The format named s, or -1. */
int tickets_format_find(const char *s);

/* The fields a mapping fills, in the order of tickets_field_names. */
enum tickets_field {
    TICKETS_F_ID = 0,
    TICKETS_F_SUBJECT,
    TICKETS_F_BODY,
    TICKETS_F_UPDATED,
    TICKETS_F_CREATED,
    TICKETS_F_STATUS,
    TICKETS_F_PRIORITY,
    TICKETS_F_TIER,
    TICKETS_F_SEGMENT,
    TICKETS_F_DEVICE,
    TICKETS_F_APP_VERSION,
    TICKETS_F_REGION,
    TICKETS_F_SERVICE,
    TICKETS_F_TAGS,
    TICKETS_F_ACCOUNT, /* the customer's billing account id (joins billing's cancellations) */
    TICKETS_NFIELDS,
};
extern const char *const tickets_field_names[]; /* "id", "subject", ... */

/* A mapping: for each field, candidate JSON paths separated by '|', each a dot-separated
 * walk of object keys ("ticket.requester.tier"); the first present wins. */
struct tickets_map {
    char paths[TICKETS_NFIELDS][TICKETS_PATHS_MAX];
};
/* The built-in mapping of format f into out. */
void tickets_map_builtin(enum tickets_format f, struct tickets_map *out /* OUT */);
/* Reads a mapping file (flat YAML "field: path|path", '#' comments) over out, which keeps the
 * fields the file does not name: 0, or OC_EINVAL / OC_EIO with "FILE:LINE: why" in err. */
int tickets_map_load(const char *path, struct tickets_map *out, char *err, size_t errlen);
/* The same over n bytes of text named name (for messages). */
int tickets_map_parse(const char *name, const char *text, size_t n, struct tickets_map *out,
                      char *err, size_t errlen);

/* What the tags say about a ticket (tag.c). Empty strings: unknown. */
struct tickets_tags {
    char service[TICKETS_FIELD_MAX]; /* a catalog service */
    char symptom[32];                /* cannot_start, buffering, login, ... (tickets_symptoms) */
    char tier[16];                   /* premium, standard, free */
    char segment[32];                /* as given (lower-case) */
    char device[32];                 /* ios, android, web, roku, ... */
    char app_version[32];
    char region[16];
    int vip; /* 1 when a VIP */
};

/* One ticket as read from a payload, then tagged. */
struct tickets_ticket {
    int format;                        /* enum tickets_format it came in */
    char ext_id[TICKETS_ID_MAX + 1];   /* the ticketing system's id */
    int64_t updated_ms;                /* the system's last update; 0 when not given */
    int64_t created_ms;                /* 0 when not given */
    char subject[TICKETS_SUBJECT_MAX]; /* cut at a character boundary */
    char body[TICKETS_TEXT_MAX];
    char status[32], priority[32];
    char f_tier[TICKETS_FIELD_MAX], f_segment[TICKETS_FIELD_MAX], f_device[TICKETS_FIELD_MAX];
    char f_app_version[TICKETS_FIELD_MAX], f_region[TICKETS_FIELD_MAX];
    char f_service[TICKETS_FIELD_MAX];
    char account[TICKETS_ACCOUNT_MAX + 1]; /* the customer's account id ("" : not given) */
    char tags_in[TICKETS_TAGS_IN_MAX];     /* the system's own tags, space-separated */
    struct tickets_tags tags;              /* filled by tickets_tag */
};

/* Reads a JSON payload of n bytes with map into t (zeroed first): 0, OC_EMALFORMED (not a
 * JSON object) or OC_EINVAL (a field is missing or bad); err names the field. The id is
 * required; text longer than a field's cap is cut at a UTF-8 boundary. */
int tickets_parse(const struct tickets_map *map, int format, const char *body, size_t n,
                  struct tickets_ticket *t /* OUT */, char *err, size_t errlen);

/* One keyword row: text containing any of the keywords (words or phrases, matched at word
 * starts of the normalized text) gets value for dim ("symptom", "device", "tier",
 * "service"). */
struct tickets_keyword {
    char dim[16];
    char value[TICKETS_FIELD_MAX];
    char words[512]; /* '|'-separated, normalized */
};
/* The keyword table the tagger uses: the built-in rows, then a file's. */
struct tickets_keywords {
    struct tickets_keyword rows[TICKETS_KEYWORDS_MAX];
    int n;
};
/* The built-in table (docs/internals/tickets.md lists it). */
void tickets_keywords_builtin(struct tickets_keywords *out /* OUT */);
/* Adds or replaces rows from a file (flat YAML "dim.value: kw, kw", '#' comments): a row of
 * the same dim and value is replaced. 0 or OC_EINVAL / OC_EIO / OC_ETOOBIG with FILE:LINE. */
int tickets_keywords_load(const char *path, struct tickets_keywords *kw, char *err, size_t errlen);
int tickets_keywords_parse(const char *name, const char *text, size_t n,
                           struct tickets_keywords *kw, char *err, size_t errlen);

/* A service the tagger knows: its name and the names viewers use for it. */
struct tickets_service {
    const char *name;    /* catalog name */
    const char *aliases; /* '|'-separated, or NULL (the catalog's public_name) */
};

/* Normalizes text into out (n bytes): ASCII lower-case, every run of other than [a-z0-9]
 * one space, a leading and a trailing space (so " word" finds word starts). */
void tickets_normalize(const char *text, char *out, size_t n);
/* Fills t->tags from its fields and text with kw and the services (ns of them). */
void tickets_tag(struct tickets_ticket *t, const struct tickets_keywords *kw,
                 const struct tickets_service *svcs, int ns);

/* The 64-bit SimHash of a ticket: normalized word unigrams and bigrams (weight 1) and its
 * tag tokens (service, symptom, device, region; heavier). */
uint64_t tickets_simhash(const struct tickets_ticket *t);
/* Bits that differ. */
int tickets_hamming(uint64_t a, uint64_t b);

#define TICKETS_BANDS     16                   /* LSH bands */
#define TICKETS_BAND_BITS (64 / TICKETS_BANDS) /* bits of a band */
#define TICKETS_BAND_MASK ((1 << TICKETS_BAND_BITS) - 1)

/* One cluster of near-duplicate tickets. */
struct tickets_cluster {
    int64_t id;                /* 1, 2, ... in creation order */
    uint64_t rep;              /* the SimHash of its first ticket */
    struct tickets_tags tags;  /* of its first ticket, unknowns filled by later ones */
    int64_t n;                 /* tickets */
    int64_t first_ms, last_ms; /* times of its tickets (updated or received) */
    int64_t incident_id;       /* linked incident, 0: none */
    int64_t linked_ms;         /* when it was linked */
    int64_t reported;          /* tickets when tickets.linked last told the incident */
};

/* Clusters, with the LSH buckets that find candidates. */
struct tickets_clusters {
    struct tickets_cluster *c; /* n of cap, by id - 1 */
    size_t n, cap, max;        /* max: the cap (OC_ETOOBIG past it) */
    int threshold;             /* largest Hamming distance that joins */
    int32_t *bucket[TICKETS_BANDS]
                   [TICKETS_BAND_MASK + 1]; /* cluster indexes, each array's [0] is its count */
    int32_t bcap[TICKETS_BANDS][TICKETS_BAND_MASK + 1];
};
/* Empty clusters: up to max, joining within threshold bits. Free with tickets_clusters_free. */
void tickets_clusters_init(struct tickets_clusters *cs, size_t max, int threshold);
void tickets_clusters_free(struct tickets_clusters *cs);
/* Puts a ticket of SimHash h, tags tg, at at_ms into the closest cluster within the
 * threshold whose known tags agree (service, symptom, region), or a new one: 0 with its id
 * in *id, or OC_ETOOBIG when a new one would pass max. */
int tickets_clusters_add(struct tickets_clusters *cs, uint64_t h, const struct tickets_tags *tg,
                         int64_t at_ms, int64_t *id /* OUT */);
/* The cluster of id, or NULL. */
struct tickets_cluster *tickets_cluster_get(struct tickets_clusters *cs, int64_t id);

/* A labelled storm (storm.c): tickets with the fault each came from (-1: noise). */
struct tickets_storm {
    struct tickets_ticket *t; /* n, owned */
    int *label;               /* n, owned */
    size_t n;
};
/* Generates n tickets from faults templates with paraphrases, typos and noise_pct % noise,
 * deterministic in seed; tagged with the storm's keyword table and services. */
void tickets_storm_make(size_t n, int noise_pct, uint64_t seed, struct tickets_storm *out);
void tickets_storm_free(struct tickets_storm *s);
/* A storm of one fault for a drill: n tickets, noise_pct % noise (label -1), the others of
 * the fault (label 0) written as the generator's cannot_start fault when symptom is
 * "cannot_start", else as its buffering one, with region (when not NULL) as their region
 * field, and each consecutive pair of tickets one customer account ("A00000", "A00001", ...:
 * the accounts the SLA report lists). Not tagged (tickets_submit tags). Free with
 * tickets_storm_free. */
void tickets_storm_fault(size_t n, int noise_pct, uint64_t seed, const char *region,
                         const char *symptom, struct tickets_storm *out);
/* The services the storm's tickets mention (ns set to their count); static storage. */
const struct tickets_service *tickets_storm_services(int *ns /* OUT */);
/* Pairwise precision and recall of cluster ids against labels (n of each; -1 labels are
 * each their own class). */
void tickets_pair_scores(const int64_t *cluster, const int *label, size_t n,
                         double *precision /* OUT */, double *recall /* OUT */);

/* --- routing (route.c) --- */

#define TICKETS_ROUTES_MAX 256 /* rules of a routing file */
#define TICKETS_QUEUE_MAX  128 /* bytes of a queue or team name, NUL included */

/* Priorities, most urgent first: VIP, then premium, standard (or unknown tier), free. */
enum tickets_prio {
    TICKETS_P_URGENT = 1, /* a VIP */
    TICKETS_P_HIGH,       /* premium */
    TICKETS_P_NORMAL,     /* standard, or no tier known */
    TICKETS_P_LOW,        /* free */
    TICKETS_NPRIO = 4,
};
extern const char *const tickets_prio_names[]; /* [1] "urgent" .. [4] "low" */

/* One routing rule: "SERVICE/SEGMENT/TIER: QUEUE [team=TEAM] [respond_min=N]". */
struct tickets_route_rule {
    char service[TICKETS_FIELD_MAX]; /* "" : any */
    char segment[32];                /* "" : any (lower-case) */
    char tier[16];                   /* "" : any; vip, premium, standard or free */
    char queue[TICKETS_QUEUE_MAX];
    char team[TICKETS_QUEUE_MAX]; /* "" : the catalog's owner of the service */
    int respond_min;              /* 0 : the priority's default */
    int line;                     /* in the file */
};

/* A routing table (tickets.routing_file), rules in file order. */
struct tickets_routing {
    struct tickets_route_rule r[TICKETS_ROUTES_MAX];
    int n;
};

/* Reads a routing table from n bytes of flat YAML named name over out (rules appended): 0,
 * or OC_EINVAL / OC_ETOOBIG with "NAME:LINE: why" in err. */
int tickets_routing_parse(const char *name, const char *text, size_t n, struct tickets_routing *out,
                          char *err, size_t errlen);
/* The same from a file (OC_EIO when it cannot be read). */
int tickets_routing_load(const char *path, struct tickets_routing *out, char *err, size_t errlen);

/* Reads tickets.sla_targets ("premium=99.95, standard=99.9, free=99.5"; a tier not named keeps
 * that default) into out (premium, standard, free): 0, or OC_EINVAL with the reason in err. */
int tickets_sla_targets_parse(const char *text, double out[3], char *err, size_t errlen);

/* Where a ticket goes (tickets_route_pick, then the module fills the catalog's part). */
struct tickets_route {
    char queue[TICKETS_QUEUE_MAX];
    char team[TICKETS_QUEUE_MAX];   /* the rule's, else the catalog owner's ("" : none) */
    char policy[TICKETS_QUEUE_MAX]; /* the team's escalation policy ("" : none) */
    char oncall[TICKETS_QUEUE_MAX]; /* the team's on-call now ("" : none) */
    enum tickets_prio prio;
    int respond_min; /* minutes to a first response */
    int rule;        /* index of the rule that matched, -1: none (the default queue) */
};

/* Picks the route of a ticket tagged g: the rule matching it that names the most of service,
 * segment and tier (a "vip" tier matches VIPs whatever their tier; among equals the first in
 * the file), else default_queue; the priority from g (VIP, premium, standard, free) and the
 * respond time from the rule, else respond_min[prio] (indexed 1..4). team, policy and oncall
 * are left to the caller when the rule names no team. */
void tickets_route_pick(const struct tickets_routing *rt, const struct tickets_tags *g,
                        const char *default_queue, const int respond_min[TICKETS_NPRIO + 1],
                        struct tickets_route *out /* OUT */);

/* --- viewer feedback (feedback.c) --- */

#define TICKETS_FEEDBACK_BATCH 100  /* replies in one POST /v1/feedback */
#define TICKETS_FEEDBACK_TEXT  1000 /* bytes of a reply's text kept (cut at a character) */

enum tickets_feedback_kind {
    TICKETS_NPS = 0, /* 0..10: promoters 9-10, passives 7-8, detractors 0-6 */
    TICKETS_CSAT,    /* 1..5: satisfied 4-5, unhappy 1-2 */
};
extern const char *const tickets_feedback_kinds[]; /* "nps", "csat" */

/* One NPS or CSAT reply. Empty strings: not given. */
struct tickets_feedback {
    char id[TICKETS_ID_MAX + 1]; /* the sender's id (redeliveries are duplicates), or "" */
    int kind;                    /* enum tickets_feedback_kind */
    int score;
    char text[TICKETS_FEEDBACK_TEXT];
    char account[TICKETS_ACCOUNT_MAX + 1];
    char service[TICKETS_FIELD_MAX];
    char segment[32]; /* as the tagger keeps it (lower case, [a-z0-9.-]) */
    char tier[16];    /* premium, standard or free */
    char region[16];  /* upper case */
    char device[32];
    char source[32];     /* player, ios, android, web, survey, ... (lower case) */
    int64_t incident_id; /* 0: none given */
    int64_t at_ms;       /* 0: when received */
};

/* Reads POST /v1/feedback's body of n bytes: one reply object, or {"responses": [...]} of 1
 * to max: 0 with *count replies in out (max of them), OC_EMALFORMED (not a JSON object),
 * OC_EINVAL (a field, named with its index, is missing or wrong) or OC_ETOOBIG (more than
 * max); err says which. */
int tickets_feedback_parse(const char *body, size_t n, struct tickets_feedback *out, int max,
                           int *count /* OUT */, char *err, size_t errlen);
/* NPS of n replies of which promoters and detractors: 100 * (promoters - detractors) / n into
 * *out: 0, or -1 when n is 0. */
int tickets_nps(int64_t promoters, int64_t detractors, int64_t n, double *out /* OUT */);

/* The name the tickets module provides itself under (struct oc_app). */
#define TICKETS_PROVIDES "tickets"

/* What one submitted ticket did. */
struct tickets_result {
    const char *outcome; /* "created", "updated" or "duplicate" (static storage) */
    int64_t id;          /* the stored ticket's id */
    int64_t cluster_id;
    int64_t incident_id;        /* 0: not linked */
    struct tickets_route route; /* where it was routed (this delivery's tags) */
    int64_t respond_by_ms;      /* created (else received) + route.respond_min */
};
/* Tags and stores t (filled by tickets_parse; tags overwritten) in app's running tickets
 * module, as the intake routes do, linking its cluster when it overlaps an open incident:
 * 0 with out filled, OC_ENOTFOUND when the module is not running, OC_ETOOBIG past
 * tickets.max_clusters, OC_EDB. For pipeline tests and in-process hosts. */
int tickets_submit(struct oc_app *app, struct tickets_ticket *t, struct tickets_result *out);
/* The incident cluster id of app's running tickets module is linked to (0: none) and when
 * (unix ms, 0: not since the start): 0 or OC_ENOTFOUND (no module, no such cluster). */
int tickets_cluster_link(struct oc_app *app, int64_t cluster, int64_t *incident /* OUT */,
                         int64_t *linked_ms /* OUT */);

/* Business report name ("mttr", "sla", "incidents" or "churn") of app's running tickets
 * module over incidents declared in [from_s, to_s) at the clock's now, as
 * GET /v1/tickets/reports/{name} answers it: 0 with *out (a new reference, the caller's),
 * OC_ENOTFOUND (no tickets or incident module, an unknown name, an empty window) or OC_EDB.
 * Takes the store's and the incident manager's locks, not the module's: call holding none. */
int tickets_report(struct oc_app *app, const char *name, int64_t from_s, int64_t to_s,
                   json_t **out /* OUT */);

/* `oncue tickets list|show|clusters|route|routing` over a running server's API (cli.c);
 * returns the exit status. */
int tickets_cli_main(int argc, char **argv);
extern const struct oc_cli tickets_cli[];

/* `oncue bench tickets`; returns the exit status. */
int tickets_bench_main(int argc, char **argv);
extern const struct oc_cli tickets_bench_cli[];

/* The tickets module: /v1/tickets. */
extern const struct oc_module tickets_module;

#endif
