/*
 * tickets_int.h - internal to tickets/: the module's options and state, shared by module.c
 * (routes, intake, store), link.c (open incidents, linking, tickets.linked) and outbox.c
 * (the relation sent back to the ticketing system).
 *
 * Threads and locks: intake handlers (HTTP workers) parse, verify and tag without a lock,
 * then take the module's mutex `mu` for the store write and the cluster assignment; bus
 * handlers (incident.*) take `mu` too. Under `mu` only the store's lock is taken; the
 * catalog is borrowed before `mu`, and incident queries are made after letting it go. The
 * delivery thread takes only the store's lock (and `omu`, a leaf, to sleep).
 */
#ifndef OC_TICKETS_INT_H
#define OC_TICKETS_INT_H

#include "tickets/tickets.h"

#include <pthread.h>
#include <stdatomic.h>

struct store_stmt;
struct incident_mgr;
struct oc_buf;
void store_reset(struct store_stmt *st);

/* store_reset of a statement that may not have been prepared (NULL). */
static inline void tickets_stmt_done(struct store_stmt *q)
{
    if (q)
        store_reset(q);
}

/* Walks flat YAML text (n bytes named name) line by line, calling fn on each "key: value"
 * line ('#' comments, quotes dropped): 0, or fn's error with "name:line: why" in err. */
int tickets_flat_yaml(const char *name, const char *text, size_t n,
                      int (*fn)(const char *key, const char *val, void *arg, char *why, size_t wn),
                      void *arg, char *err, size_t errlen);
/* Reads a small file (64 KiB at most) into *out (NUL-terminated, the caller frees) and its
 * length into *n: 0 or OC_EIO / OC_ETOOBIG with "FILE: why" in err. */
int tickets_slurp(const char *path, char **out /* OUT */, size_t *n /* OUT */, char *err,
                  size_t errlen);

#define TICKETS_OPEN_MAX 256 /* open incidents remembered for linking */

struct tickets_opts {
    char *zendesk_secret;                   /* tickets.zendesk_secret */
    int64_t max_skew_s;                     /* tickets.max_skew_s */
    char *mapping_file;                     /* tickets.mapping_file */
    char *keywords_file;                    /* tickets.keywords_file */
    char *sync_url;                         /* tickets.sync_url */
    char *sync_token;                       /* tickets.sync_token */
    char *zendesk_url;                      /* tickets.zendesk_url */
    char *zendesk_credentials;              /* tickets.zendesk_credentials (maybe sealed) */
    char *outbound_allow;                   /* tickets.outbound_allow */
    int64_t threshold;                      /* tickets.cluster_threshold */
    int64_t max_clusters;                   /* tickets.max_clusters */
    int64_t link_window_s;                  /* tickets.link_window_s */
    int64_t link_min;                       /* tickets.link_min_tickets */
    char *routing_file;                     /* tickets.routing_file */
    char *default_queue;                    /* tickets.default_queue */
    int64_t respond_min[TICKETS_NPRIO + 1]; /* tickets.respond_{vip,premium,standard,free}_min */
    char *sla_targets;                      /* tickets.sla_targets */
    int64_t churn_days;                     /* tickets.churn_window_days */
    char *survey_url;                       /* tickets.survey_url */
    char *survey_token;                     /* tickets.survey_token */
    char *survey_kind;                      /* tickets.survey_kind: nps or csat */
    char *survey_severities;                /* tickets.survey_severities */
    int64_t survey_delay_s;                 /* tickets.survey_delay_s */
    int64_t survey_cooldown_days;           /* tickets.survey_cooldown_days */
    int64_t survey_max;                     /* tickets.survey_max */
    char *account_key;                      /* tickets.account_key */
};

/* An open incident as incident.opened described it. */
struct tickets_open {
    int64_t id;
    int64_t at_ms;                   /* declared */
    char service[TICKETS_FIELD_MAX]; /* slice dims tickets understand ("" : not in the slice) */
    char region[16];
    char symptom[32];
    char device[32];
    char hint[32];    /* the symptom the opening alert's metric implies ("" : none) */
    char title[128];  /* the incident's title when declared (the Zendesk problem's subject) */
    char severity[8]; /* SEV1 .. SEV4 when declared */
    int backend;      /* opened by a service's own signal (a probe, a scrape rule, Alertmanager:
                         its slice names the service, its metric is not the viewers'): viewers
                         name what they see, not that service, so another service in a cluster's
                         tags does not contradict it; the hint comes from the service's kind */
};

struct tickets_mod {
    struct oc_app *app;
    struct tickets_opts o;
    struct tickets_map maps[TICKETS_NFORMATS];
    struct tickets_keywords kw;
    struct tickets_routing routing; /* read at start, then read-only */
    double sla_target[3];           /* availability targets (%): premium, standard, free */
    pthread_mutex_t mu;             /* clusters, open, the store writes */
    struct tickets_clusters cs;     /* under mu */
    struct tickets_open open[TICKETS_OPEN_MAX]; /* nopen in use, under mu */
    int nopen;
    atomic_long accepted, duplicates, refused, links, sent, send_failed, surveys_queued;
    pthread_t oth;       /* the delivery thread (outbox.c), when othread */
    pthread_mutex_t omu; /* ostop; with ocv, the thread's sleep */
    pthread_cond_t ocv;
    int ostop, othread, ostarted;
    struct incident_mgr *viewed; /* the incident manager tickets_incident_view is registered
                                    on (NULL: none runs), until stop */
    char *zd_auth;               /* tickets.zendesk_credentials opened (owned, wiped at stop) */
    int zd_basic;                /* zd_auth is EMAIL/token:API_TOKEN (Basic), else Bearer */
};

/* One outbound call of the delivery thread (outbox.c). */
struct tickets_call {
    const char *method;  /* "POST" (NULL: POST) or "PUT" */
    const char *url;     /* http or https */
    const char *bearer;  /* Authorization: Bearer (NULL or "": none) */
    const char *userpwd; /* HTTP Basic "user:password" (NULL or "": none) */
    const char *idem;    /* Idempotency-Key (NULL: none) */
    const char *body;    /* JSON */
    struct oc_buf *resp; /* the answer's body, up to its cap (NULL: dropped) */
};
/* Makes call with a 3 s timeout through the outbound address guard (tickets.outbound_allow):
 * the HTTP status, or 0 with why filled. Credentials are never logged. Not under mu. */
long tickets_http(struct tickets_mod *m, const struct tickets_call *call, char *why, size_t wn);

/* A due row of tickets_outbox, copied out of the store (outbox.c). */
struct tickets_due {
    int64_t id, attempts, incident, created_ms;
    int survey;                   /* a survey request (tickets.survey_url) */
    int zendesk;                  /* a Zendesk call (kind zd_*: tickets.zendesk_url) */
    char kind[16];                /* survey, linked, status_update, zd_problem, zd_incident, ... */
    char ext[TICKETS_ID_MAX + 1]; /* the ticket's external id, or "INC-7" */
    char *body;                   /* owned */
};

/* --- zdsync.c: the Zendesk problem/incident relation --- */

/* Opens tickets.zendesk_credentials (in clear or sealed with the data directory's key) into
 * m->zd_auth: 0, or OC_EAUTH (it does not open) with why in err. */
int tickets_zd_open(struct tickets_mod *m, char *err, size_t errlen);
/* Wipes and frees m->zd_auth. */
void tickets_zd_close(struct tickets_mod *m);
/* 1 when tickets.zendesk_url is set. */
int tickets_zd_on(const struct tickets_mod *m);
/* Under mu: queues the problem ticket of open incident o, once per incident. */
void tickets_zd_queue_problem(struct tickets_mod *m, const struct tickets_open *o, int64_t now_ms);
/* Under mu: queues a comment on incident's problem ticket saying status and body (body may be
 * ""), when a problem ticket was queued for it. */
void tickets_zd_queue_status(struct tickets_mod *m, int64_t incident, const char *status,
                             const char *body, int64_t now_ms);
/* Makes the Zendesk call of due row d (the delivery thread, holding nothing): the problem's
 * POST (its id kept), a ticket's PUT as an incident of it, or a comment's PUT. The HTTP
 * status, or 0 with why filled (the problem is not made yet, the network, ...). */
long tickets_zd_send(struct tickets_mod *m, const struct tickets_due *d, char *why, size_t wn);

struct http_req;
/* POST /v1/feedback, GET /v1/feedback/trends, GET /v1/feedback/priorities (feedback.c). */
void tickets_post_feedback(struct http_req *req);
void tickets_get_feedback_trends(struct http_req *req);
void tickets_get_feedback_priorities(struct http_req *req);
/* The newest open incident whose slice a reply of service, region and device matches (one
 * dimension equal, none different; case-insensitive), or 0 (under mu). */
int64_t tickets_open_match(struct tickets_mod *m, const char *service, const char *region,
                           const char *device);
/* HMAC-SHA256 of account under key (its text): what a beacon's account_hmac carries. */
void tickets_account_hmac(const char *key, const char *account, uint8_t out[32]);
/* GET /v1/tickets/reports/{name} (report.c): mttr, sla, incidents or churn, as JSON or CSV. */
void tickets_get_report(struct http_req *req);

/* Links every cluster that overlaps open incident o (under mu): how many it linked. Each
 * link updates the store and queues tickets.linked and the relations back. */
int tickets_link_incident(struct tickets_mod *m, const struct tickets_open *o, int64_t now_ms);
/* Links cluster c to the first open incident it overlaps (under mu): 1 when linked. */
int tickets_link_cluster(struct tickets_mod *m, struct tickets_cluster *c, int64_t now_ms);
/* Publishes tickets.linked for linked cluster c with its count now (under mu); called at the
 * link and again each time the cluster doubles, so the incident's timeline follows it. */
void tickets_link_report(struct tickets_mod *m, struct tickets_cluster *c, int64_t now_ms);
/* Viewers an incident affected: viewers x affected share of its peak snapshot, else of its
 * declaration's, from inc (an incident's JSON, borrowed); 0 when not measured. */
double tickets_incident_affected(const json_t *inc);
/* tickets per 1,000 of affected viewers (a new reference): a real, or null when affected is
 * not positive. */
json_t *tickets_per_1000(int64_t tickets, double affected);
/* incident_view_fn (registered with the module's state as arg): sets each incident's
 * "tickets" (the tickets of the clusters linked to it) and "tickets_per_1000_affected".
 * Takes mu to copy the linked clusters' counts. */
void tickets_incident_view(void *arg, json_t *incidents);
/* Bus handler of incident.opened, .resolved and .status_update. */
void tickets_on_incident(const char *topic, const json_t *payload, void *state);
/* Queues a relation for every ticket of cluster (under mu, in the store). */
void tickets_outbox_queue(struct tickets_mod *m, int64_t cluster, int64_t incident,
                          const char *kind, const char *status, int64_t now_ms);
/* Queues the "linked" relation of one ticket that joined a linked cluster (under mu). */
void tickets_outbox_queue_one(struct tickets_mod *m, const char *src, const char *ext,
                              int64_t cluster, int64_t incident, int64_t now_ms);
/* Starts the delivery thread when tickets.sync_url is set: 0 or OC_EIO. */
int tickets_outbox_start(struct tickets_mod *m);
/* Wakes the delivery thread (something was queued); a no-op without it. */
void tickets_outbox_wake(struct tickets_mod *m);
/* Stops and joins it (a no-op when not started). */
void tickets_outbox_stop(struct tickets_mod *m);
/* 1 when severity sev is in list ("SEV1, SEV2"; case-insensitive). */
int tickets_survey_severity_ok(const char *list, const char *sev);
/* Queues the post-incident survey of resolved incident `incident` when tickets.survey_url is
 * set and its severity is surveyed: one request per account of its linked tickets (at most
 * tickets.survey_max), none for an account asked about it already or within
 * tickets.survey_cooldown_days (counted in *skipped). Not under mu (reads the incident).
 * Returns the requests queued. */
int tickets_survey_queue(struct tickets_mod *m, int64_t incident, int64_t now_ms, int *skipped);
/* {queued, pending, delivered, surveys: {queued, pending, delivered}} of the outbox (a new
 * reference): relations, then survey requests. */
json_t *tickets_outbox_json(struct tickets_mod *m);

#endif
