/*
 * catalog.h - the service catalog: services, teams, people, escalation policies and on-call
 * rotations; the dependency graph (upstream, downstream, blast radius, cycles); routing of a
 * QoE slice or a service to who must be paged; and the ownership lint.
 *
 * A catalog is loaded from YAML (docs/internals/catalog.md) or built from the embedded example,
 * and edited through catalog_put_service/catalog_remove_service (the /v1/services API). A
 * struct catalog is not thread-safe: the module guards it with a read-write lock. Every string
 * in it is owned by it; results handed out (struct catalog_names, struct catalog_route) are
 * copies the caller owns.
 */
#ifndef OC_CATALOG_CATALOG_H
#define OC_CATALOG_CATALOG_H

#include "core/opt.h"
#include "qoe/qoe.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct oc_buf;
struct oc_module;

#define CATALOG_MAX_SERVICES  10000      /* services in one catalog */
#define CATALOG_MAX_TEAMS     1000       /* teams */
#define CATALOG_MAX_PEOPLE    10000      /* people */
#define CATALOG_MAX_POLICIES  1000       /* escalation policies */
#define CATALOG_MAX_STEPS     20         /* steps in one escalation policy */
#define CATALOG_MAX_LIST      100        /* depends_on, serves, RACI lists, rotation members */
#define CATALOG_MAX_OVERRIDES 1000       /* on-call overrides per team */
#define CATALOG_NAME_MAX      128        /* bytes in a name, NUL included */
#define CATALOG_TEXT_MAX      1024       /* bytes in any other string (URLs, contacts), NUL incl. */
#define CATALOG_FILE_MAX      (16 << 20) /* bytes in a catalog file */
#define CATALOG_ERR_MAX       512        /* a good size for error buffers */
#define CATALOG_WEEK_MS       (7 * 86400000LL)

/* A conjunction of dimension values, e.g. {cdn=primary, region=EMEA}. v[d] is NULL when the
 * slice does not constrain dimension d. buf, when not NULL, owns the strings v points into
 * (made by catalog_slice_parse; free with catalog_slice_free). */
struct catalog_slice {
    const char *v[BEACON_NDIMS]; /* value per enum beacon_dim, or NULL */
    char *buf;                   /* owned storage, or NULL when v is borrowed */
};

/* An owned list of owned strings. */
struct catalog_strv {
    char **v; /* n strings, each owned */
    int n;
};

struct catalog_raci {
    struct catalog_strv responsible; /* teams or people doing the work */
    struct catalog_strv accountable; /* who answers for it (usually one person) */
    struct catalog_strv consulted;   /* asked before changes */
    struct catalog_strv informed;    /* told after changes */
};

struct catalog_service {
    char *name;                   /* unique, [a-z0-9._-] */
    char *kind;                   /* one of catalog_kinds */
    char *team;                   /* owning team, or NULL */
    char *lead;                   /* escalation lead (a person), or NULL */
    char *support;                /* customer-support contact, or NULL */
    char *runbook;                /* runbook URL, or NULL */
    char *rollback_doc;           /* rollback document URL, or NULL */
    char *deploy_webhook;         /* URL the rollback mitigation calls, or NULL */
    char *description;            /* one line, or NULL */
    char *public_name;            /* what viewers call it on the status page, or NULL */
    int tier;                     /* 1 (most critical) to 4; 0 when unset */
    struct catalog_slice *serves; /* nserves slices this service serves (each owns buf) */
    int nserves;
    struct catalog_strv depends_on; /* names of services it calls (upstream) */
    struct catalog_raci raci;
    int line; /* line in the source file; 0 when made through the API */
};

struct catalog_person {
    char *name;      /* handle, unique */
    char *full_name; /* or NULL */
    char *email;     /* or NULL */
    char *phone;     /* or NULL */
    int line;
};

struct catalog_override {
    int64_t from_ms, to_ms; /* [from, to) */
    char *person;           /* on call instead */
};

/* A weekly rotation: people[i] is on call for the week starting at the i-th handoff after
 * start (modulo npeople); the handoff is every week at handoff_wday/handoff_min, UTC. */
struct catalog_schedule {
    struct catalog_strv people;
    int handoff_wday; /* 0 = Sunday .. 6 = Saturday */
    int handoff_min;  /* minutes after midnight UTC */
    int64_t first_ms; /* the first handoff at or after the start date (people[0] begins) */
    struct catalog_override *overrides; /* noverrides, in file order */
    int noverrides;
};

struct catalog_team {
    char *name;
    char *channel;                  /* chat channel, or NULL */
    char *policy;                   /* escalation policy name, or NULL */
    struct catalog_schedule oncall; /* oncall.people.n == 0: no rotation */
    int line;
};

enum catalog_target {
    CATALOG_TARGET_ONCALL = 1, /* the on-call of a team */
    CATALOG_TARGET_PERSON,     /* a named person */
    CATALOG_TARGET_WEBHOOK,    /* a URL */
};

struct catalog_step {
    enum catalog_target kind;
    char *target;     /* team name, person name or URL */
    int wait_minutes; /* before escalating to the next step */
};

struct catalog_policy {
    char *name;
    struct catalog_step *steps; /* nsteps, in order */
    int nsteps;
    int repeat; /* times the whole policy is repeated after the last step */
    int line;
};

/* A whole catalog. Arrays are kept sorted by name. */
struct catalog {
    char *source; /* file name used in messages ("example" for the embedded one) */
    struct catalog_service **services;
    int nservices;
    struct catalog_team *teams;
    int nteams;
    struct catalog_person *people;
    int npeople;
    struct catalog_policy *policies;
    int npolicies;
    char *default_owner; /* the service that owns a slice no service serves; NULL: none */
};

/* An owned list of names returned by queries; free with catalog_names_free. */
struct catalog_names {
    char **v;
    int n;
};

/* The blast radius of a failing service. */
struct catalog_blast {
    struct catalog_names services; /* transitive dependents, nearest first, then by name */
    struct catalog_names slices;   /* slices served by the service and its dependents, sorted */
};

/* A served value matching any value of its dimension (serves: ["isp=*"]). */
#define CATALOG_ANY "*"

/* Who to page for a slice or a service (catalog_route). Every field is a copy. */
struct catalog_route {
    char service[CATALOG_NAME_MAX];    /* the chosen service */
    char team[CATALOG_NAME_MAX];       /* its owning team ("" if none) */
    char lead[CATALOG_NAME_MAX];       /* its escalation lead ("" if none) */
    char oncall[CATALOG_NAME_MAX];     /* the team's on-call at the given time ("" if none) */
    char policy[CATALOG_NAME_MAX];     /* the team's escalation policy ("" if none) */
    char runbook[CATALOG_TEXT_MAX];    /* the service's runbook ("" if none) */
    char matched[CATALOG_TEXT_MAX];    /* the served slice that matched ("" for by-name routes) */
    int score;                         /* dimensions matched (0 for by-name routes) */
    char reason[2 * CATALOG_TEXT_MAX]; /* one human-readable sentence */
};

/* One page of an escalation plan (catalog_escalation_plan). */
struct catalog_page {
    int64_t at_ms;                 /* when this page goes out if nobody acknowledged */
    int round;                     /* 0 for the first pass, 1.. for repeats */
    int step;                      /* 0-based step in the policy */
    enum catalog_target kind;      /* on-call of a team, person or webhook */
    char target[CATALOG_TEXT_MAX]; /* team name, person name or URL */
    char person[CATALOG_NAME_MAX]; /* who is paged ("" for webhooks or an empty rotation) */
};

#define CATALOG_MAX_PAGES (CATALOG_MAX_STEPS * 11) /* steps x (1 + the largest repeat) */

/* The on-call of a team at a time (catalog_oncall). */
struct catalog_shift {
    char person[CATALOG_NAME_MAX];
    int64_t from_ms, to_ms; /* the shift (or override) containing the time */
    int is_override;        /* 1 when an override applies */
};

/* Service kinds accepted in files and bodies, NULL-terminated. */
extern const char *const catalog_kinds[];

/* --- model.c --- */

/* An empty catalog named source (copied). Free with catalog_destroy. */
struct catalog *catalog_new(const char *source);
/* Frees c and everything in it (NULL is a no-op). */
void catalog_destroy(struct catalog *c);
/* The service named name, or NULL. The pointer is valid until the next mutation. */
const struct catalog_service *catalog_service_find(const struct catalog *c, const char *name);
const struct catalog_team *catalog_team_find(const struct catalog *c, const char *name);
const struct catalog_person *catalog_person_find(const struct catalog *c, const char *name);
const struct catalog_policy *catalog_policy_find(const struct catalog *c, const char *name);
/* Frees a service and everything it owns (NULL is a no-op). */
void catalog_service_destroy(struct catalog_service *s);
/* Inserts s, or replaces the service of the same name; c takes ownership of s in both cases
 * (also on failure, when s is freed). 0, or OC_ETOOBIG past CATALOG_MAX_SERVICES. */
int catalog_put_service(struct catalog *c, struct catalog_service *s);
/* Removes and frees the service named name: 0 or OC_ENOTFOUND. */
int catalog_remove_service(struct catalog *c, const char *name);
/* Frees a list returned by a query (the struct itself is not freed). */
void catalog_names_free(struct catalog_names *n);
void catalog_blast_free(struct catalog_blast *b);

/* Parses "dim=value,dim=value" (':' also accepted for '='). Dimension names are those of
 * beacon_dim_names; each at most once. 0, or OC_EINVAL with a reason in err. On success
 * out->buf owns the strings; free with catalog_slice_free. */
int catalog_slice_parse(const char *text, struct catalog_slice *out /* OUT */, char *err,
                        size_t errlen);
/* Frees the storage a parsed slice owns and clears it. */
void catalog_slice_free(struct catalog_slice *s);
/* Writes the slice as "dim=value,dim=value" in dimension order into out (n bytes). */
void catalog_slice_format(const struct catalog_slice *s, char *out, size_t n);
/* Number of dimensions the slice constrains. */
int catalog_slice_dims(const struct catalog_slice *s);

/* --- load.c (YAML) and parse.c (JSON) --- */

/* Parses a YAML catalog of n bytes named name (for messages). On failure returns OC_EINVAL
 * (or OC_ETOOBIG past a cap) and writes "NAME:LINE: message naming the field" into err; a
 * dependency cycle is an error ("NAME:LINE: cycle: a -> b -> a"). The caller owns *out. */
int catalog_load_buf(const char *name, const char *data, size_t n, struct catalog **out /* OUT */,
                     char *err, size_t errlen);
/* Reads and parses a file; as catalog_load_buf, plus OC_EIO ("FILE: reason"). */
int catalog_load_file(const char *path, struct catalog **out /* OUT */, char *err, size_t errlen);
/* Parses the embedded example catalog (catalog_example_yaml). */
int catalog_load_example(struct catalog **out /* OUT */, char *err, size_t errlen);
/* Parses one service from a JSON object (an API body). Unknown fields, wrong types and bad
 * slices fail with OC_EINVAL and "field: reason" in err. The caller owns *out. */
int catalog_service_from_json(const json_t *obj, struct catalog_service **out /* OUT */, char *err,
                              size_t errlen);
/* The JSON form of a service (the same fields the file has). The caller owns the result. */
json_t *catalog_service_to_json(const struct catalog_service *s);
/* The JSON form of a team (with its rotation). The caller owns the result. */
json_t *catalog_team_to_json(const struct catalog_team *t);

/* The example catalog shipped as examples/catalog.yaml: a NUL-terminated copy the caller
 * frees, its length (without the NUL) in *len when len is not NULL. */
char *catalog_example_yaml(size_t *len /* OUT */);

/* --- graph.c --- */

/* Services name depends on, transitively (upstream), nearest first then by name. 0 or
 * OC_ENOTFOUND. Unknown dependencies are skipped. */
int catalog_upstream(const struct catalog *c, const char *name, struct catalog_names *out);
/* Services that depend on name, transitively (downstream), nearest first then by name. */
int catalog_downstream(const struct catalog *c, const char *name, struct catalog_names *out);
/* The blast radius of name failing. 0 or OC_ENOTFOUND. Free with catalog_blast_free. */
int catalog_blast_radius(const struct catalog *c, const char *name, struct catalog_blast *out);
/* Looks for a dependency cycle. Returns 0 when there is none; otherwise OC_ECONFLICT with
 * "cycle: a -> b -> c -> a" in msg and the first service of the cycle in *first (may be NULL). */
int catalog_find_cycle(const struct catalog *c, char *msg, size_t msglen,
                       const struct catalog_service **first /* OUT */);

/* --- route.c --- */

/* Who to page for a slice: the owner of the most specific service serving it (the served
 * slice with the most dimensions, all of which the given slice has with the same values; ties
 * go to the lower tier number, then the smaller name), plus the on-call of its team at at_ms.
 * 0, or OC_ENOTFOUND (with out->reason saying why) when no service serves the slice. */
int catalog_route(const struct catalog *c, const struct catalog_slice *slice, int64_t at_ms,
                  struct catalog_route *out /* OUT */);
/* The owner of what no service serves: the service named by the catalog's default_owner,
 * with its team and on-call at at_ms (out->reason says it is the default). 0, or OC_ENOTFOUND
 * when the catalog names none. */
int catalog_route_default(const struct catalog *c, int64_t at_ms,
                          struct catalog_route *out /* OUT */);
/* Who to page for a named service. 0 or OC_ENOTFOUND. */
int catalog_route_service(const struct catalog *c, const char *name, int64_t at_ms,
                          struct catalog_route *out /* OUT */);
/* The on-call of team at at_ms: 0, OC_ENOTFOUND (no such team) or OC_EINVAL (no rotation). */
int catalog_oncall(const struct catalog *c, const char *team, int64_t at_ms,
                   struct catalog_shift *out /* OUT */);
/* The pages escalation policy policy sends when an incident opens at start_ms and nobody
 * acknowledges: every step of every round, each after the previous step's wait, with a team's
 * on-call resolved at the time of its page. Writes at most max pages into out and their count
 * into *n. 0 or OC_ENOTFOUND (no such policy). */
int catalog_escalation_plan(const struct catalog *c, const char *policy, int64_t start_ms,
                            struct catalog_page *out, int max, int *n /* OUT */);
/* Parses "2026-11-25", "2026-11-25T19:43Z", "2026-11-25T19:43:00Z" (UTC, oc_time_parse with
 * OC_TIME_UTC) or unix seconds into unix milliseconds: 0 or OC_EINVAL. Times are printed
 * with oc_time_format (core/timefmt.h). */
int catalog_time_parse(const char *s, int64_t *out_ms /* OUT */);

/* --- lint.c --- */

/* Checks ownership rules; appends one line per problem ("FILE:LINE: service X: no runbook")
 * to out and returns the number of problems (0 when clean). */
int catalog_lint(const struct catalog *c, struct oc_buf *out);
/* Checks that every reference of s (dependencies, team, lead, RACI) names something known in
 * c and that adding s makes no cycle. 0, or OC_EINVAL with a message naming them in err. */
int catalog_check_refs(const struct catalog *c, const struct catalog_service *s, char *err,
                       size_t errlen);

/* --- running.c: the catalog of the running module, for other capabilities --- */

/* The name the catalog module provides itself under (struct oc_app). */
#define CATALOG_PROVIDES "catalog"

/* A borrowed catalog: valid until catalog_put; do not keep pointers past it. */
struct catalog_ref {
    const struct catalog *cat; /* read-only */
    void *priv;                /* the module holding it */
};

/* Borrows the catalog of app's running catalog module under its read lock: 0, or
 * OC_ENOTFOUND when the module is not running. Every successful get needs one put, soon
 * (writers wait). */
int catalog_get(const struct oc_app *app, struct catalog_ref *ref /* OUT */);
void catalog_put(struct catalog_ref *ref);
/* catalog_route (slice) or catalog_route_service (service, when not NULL) on app's running
 * catalog, or catalog_route_default when both are NULL; OC_ENOTFOUND also when the module is
 * not running (out->reason says so). */
int catalog_route_app(const struct oc_app *app, const struct catalog_slice *slice,
                      const char *service, int64_t at_ms, struct catalog_route *out /* OUT */);

/* --- cli.c and module.c --- */

/* `oncue catalog check|show|blast-radius|route|oncall ...`; returns the exit status. */
int catalog_cli_main(int argc, char **argv);
/* Its options (--help and docs/cli.md), ending in {0}. */
extern const struct oc_cli catalog_cli[];

/* The catalog module: /v1/services, /v1/route, /v1/oncall, /v1/catalog/reload. */
extern const struct oc_module catalog_module;

#endif
