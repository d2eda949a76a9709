/*
 * billing.h - billing webhooks and entitlements: signed provider webhooks (Stripe, Standard
 * Webhooks v1 and v1a) applied exactly once, in the provider's order per subscription, to one
 * entitlement state machine; the entitlement check of the playback path; a hash-chained audit.
 *
 * The pure parts (signature headers, payload parsers, the rule table, the ordering rule, the
 * entitlement verdict, the audit hash) are here for the unit tests, the fuzz targets, the
 * storm generator and the benchmark; the module (module.c) serves /v1/billing and
 * /v1/entitlements. See docs/internals/billing.md.
 */
#ifndef OC_BILLING_BILLING_H
#define OC_BILLING_BILLING_H

#include "core/module.h"
#include "core/opt.h"

#include <stddef.h>
#include <stdint.h>

#define BILLING_ID_MAX           128         /* bytes of an event, subscription or account id */
#define BILLING_TYPE_MAX         64          /* bytes of an event type */
#define BILLING_REGIONS_MAX      128         /* bytes of a plan's region list ("US,CA") */
#define BILLING_PLAN_MAX         64          /* bytes of a plan (a product id, a price's key) */
#define BILLING_TOKEN_MAX        512         /* bytes of a purchase token kept for reconciling */
#define BILLING_BODY_MAX         (256 << 10) /* bytes of one webhook body */
#define BILLING_KEYS_MAX         8           /* signing secrets or public keys per provider */
#define BILLING_SIGS_MAX         16          /* signatures read from one header */
#define BILLING_SUBS_PER_ACCOUNT 64          /* subscriptions one account may hold */
#define BILLING_IDEM_KEY_MAX     255         /* bytes of an Idempotency-Key */

/* The entitlement states (docs/internals/billing.md "States"). */
enum billing_state {
    BILLING_NONE = 0, /* no subscription */
    BILLING_TRIALING,
    BILLING_ACTIVE,
    BILLING_PAST_DUE, /* a renewal failed; access kept while the provider retries */
    BILLING_GRACE,    /* the provider's grace period; access until period end */
    BILLING_PAUSED,
    BILLING_CANCELED, /* canceled; access until period end */
    BILLING_EXPIRED,
    BILLING_REVOKED, /* refunded, disputed or revoked */
    BILLING_NSTATES,
};
/* "none", "trialing", "active", "past_due", "grace", "paused", "canceled", "expired",
 * "revoked". */
extern const char *const billing_state_names[];
/* The state named s: 0, or OC_EINVAL. */
int billing_state_parse(const char *s, enum billing_state *out /* OUT */);

enum billing_provider {
    BILLING_STRIPE = 0,
    BILLING_STANDARD, /* Standard Webhooks, with oncue's event vocabulary */
    BILLING_APPLE,    /* App Store Server Notifications V2 (signed JWS with its chain) */
    BILLING_GOOGLE,   /* Play real-time developer notifications (Pub/Sub push with its JWT) */
    BILLING_MANUAL,   /* support actions (POST /v1/billing/accounts/{account}/actions) */
    BILLING_NPROVIDERS,
};
/* "stripe", "standard", "apple", "google", "manual". */
extern const char *const billing_provider_names[];

/* What an event type does to its subscription. */
enum billing_effect {
    BILLING_SET = 1, /* sets the row's state */
    BILLING_STATUS,  /* sets the state the object's own status maps to (billing_stripe_status) */
    BILLING_REVOKE,  /* sets revoked; wins a tie of event times */
    BILLING_RECORD,  /* recorded in the audit; changes nothing */
};

/* One row of the rule table: a provider's event type and what it does. The table is also the
 * documentation (billing_rules_doc). */
struct billing_rule {
    enum billing_provider provider;
    const char *type; /* the provider's event type */
    enum billing_effect effect;
    enum billing_state state; /* for BILLING_SET and BILLING_REVOKE */
    int tie;                  /* rank among events of the same time: higher wins */
    const char *note;         /* one line for the docs */
};
/* Every rule, ending in {0}. */
extern const struct billing_rule billing_rules[];
/* The rule of (provider, type), or NULL (an unknown type: recorded, changes nothing). */
const struct billing_rule *billing_rule_find(enum billing_provider p, const char *type);
/* Maps a Stripe subscription status ("active", "past_due", ...) to a state; a canceled
 * status or cancel_at_period_end gives canceled while period_end_ms (0: unknown) is after
 * event_ms, else expired. 0, or OC_EINVAL for an unknown status. */
int billing_stripe_status(const char *status, int cancel_at_period_end, int64_t period_end_ms,
                          int64_t event_ms, enum billing_state *out /* OUT */);
/* Appends the rule table and the Stripe status map as Markdown to b. */
struct oc_buf;
void billing_rules_doc(struct oc_buf *b);

/* One verified event, normalized. */
struct billing_event {
    enum billing_provider provider;
    char id[BILLING_ID_MAX + 1];           /* the provider's event id: the idempotency key */
    char type[BILLING_TYPE_MAX + 1];       /* the provider's event type */
    char subscription[BILLING_ID_MAX + 1]; /* "" when the event names none */
    char account[BILLING_ID_MAX + 1];      /* the provider's customer id; "" when unnamed */
    char status[32];                       /* Stripe subscription status, or "" */
    char regions[BILLING_REGIONS_MAX + 1]; /* the plan's regions, "" for everywhere */
    char plan[BILLING_PLAN_MAX + 1];       /* the plan or product, "" when not named */
    char token[BILLING_TOKEN_MAX + 1];     /* Google's purchase token (reconciliation), or "" */
    int64_t event_ms;                      /* the provider's event time */
    int64_t period_end_ms;                 /* current period end; 0 when not given */
    int cancel_at_period_end;              /* Stripe */
    const struct billing_rule *rule;       /* NULL: unknown type */
};

/* Parses a Stripe event (body, n bytes): id, type, created, data.object's subscription,
 * customer, status, current_period_end, cancel_at_period_end, metadata.regions. 0;
 * OC_EMALFORMED (not JSON, or not an object) or OC_EINVAL (a field missing or out of bounds),
 * both with a detail naming the field in err. */
int billing_parse_stripe(const char *body, size_t n, struct billing_event *out /* OUT */, char *err,
                         size_t errlen);
/* Parses a Standard Webhooks event {"type", "timestamp", "data": {"subscription", "account",
 * "period_end", "regions"}} whose id is msg_id (the webhook-id header). As above. */
int billing_parse_standard(const char *msg_id, const char *body, size_t n,
                           struct billing_event *out /* OUT */, char *err, size_t errlen);
/* 1 when s is 1 to max bytes of printable ASCII without spaces, quotes or backslashes. */
int billing_id_valid(const char *s, size_t max);

/* --- signatures (sig.c) --- */

/* Why a delivery was refused; the text of each is billing_sig_reasons[]. */
enum billing_sig {
    BILLING_SIG_OK = 0,
    BILLING_SIG_MISSING,   /* a signature header is missing */
    BILLING_SIG_MALFORMED, /* a header does not parse */
    BILLING_SIG_STALE,     /* the timestamp is outside the tolerance */
    BILLING_SIG_NOMATCH,   /* no signature verifies with any configured key */
    BILLING_SIG_NOKEY,     /* the provider has no key configured */
    BILLING_SIG_CHAIN,     /* Apple: the certificate chain does not lead to a configured root */
};
extern const char *const billing_sig_reasons[];

/* A provider's configured keys, several for rotation. */
struct billing_keys {
    int n;
    struct billing_key {
        int ed25519;            /* 0: HMAC-SHA256 secret; 1: Ed25519 public key (v1a) */
        unsigned char key[256]; /* the key bytes */
        size_t len;
    } k[BILLING_KEYS_MAX];
};
/* Parses space-separated keys of provider p: Stripe "whsec_..." strings (used as they are),
 * Standard Webhooks "whsec_" + base64 secrets and "whpk_" + base64 Ed25519 public keys. An
 * empty text gives no keys. 0, or OC_EINVAL with err naming the entry by position (never its
 * text: secrets are not logged). */
int billing_keys_parse(enum billing_provider p, const char *text, struct billing_keys *out,
                       char *err, size_t errlen);
/* Verifies a Stripe-Signature header ("t=..,v1=..[,v1=..]") over body at now_s; *ts gets t.
 * A billing_sig value. */
int billing_stripe_verify(const struct billing_keys *k, const char *header, const char *body,
                          size_t n, int64_t now_s, int64_t tolerance_s, int64_t *ts /* OUT */);
/* Verifies Standard Webhooks headers (webhook-id, webhook-timestamp, webhook-signature with
 * space-separated "v1,<b64>" and "v1a,<b64>" entries) over body at now_s. A billing_sig. */
int billing_standard_verify(const struct billing_keys *k, const char *id, const char *ts_text,
                            const char *sigs, const char *body, size_t n, int64_t now_s,
                            int64_t tolerance_s);
/* --- Apple (jws.c) --- */

/* Loads the PEM certificates of path as the trusted roots (*out, freed with
 * billing_roots_free): 0, or OC_EINVAL with err. */
int billing_roots_load(const char *path, void **out /* OUT */, char *err, size_t errlen);
void billing_roots_free(void *roots);
/* Verifies the compact JWS t (n bytes): ES256, its x5c chain leading to one of roots at
 * now_s, the leaf's signature. BILLING_SIG_OK with the payload object in *payload (the
 * caller's), or another billing_sig value (NOKEY when roots is NULL). */
int billing_jws_verify(void *roots, const char *t, size_t n, int64_t now_s,
                       json_t **payload /* OUT */);
/* Reads an App Store Server Notification V2 body {"signedPayload"} into out: the outer JWS and
 * its data.signedTransactionInfo verified with roots at now_s (*sig gets the billing_sig of
 * the first that fails; then -1); then notificationUUID (the id), notificationType and
 * subtype (the rule "TYPE/SUBTYPE" when the table has one, else "TYPE"), signedDate (the event
 * time), the transaction's originalTransactionId (the subscription), appAccountToken (the
 * account; the subscription when absent) and expiresDate (the period end). 0; -1 (a
 * signature); OC_EMALFORMED or OC_EINVAL with err. */
int billing_parse_apple(void *roots, const char *body, size_t n, int64_t now_s,
                        struct billing_event *out /* OUT */, int *sig /* OUT */, char *err,
                        size_t errlen);
/* The part of billing_parse_apple after the signatures (jws.c; the fuzz target's way in):
 * note is the decoded payload of the notification's JWS (n bytes of JSON), tx that of its
 * data.signedTransactionInfo (txn bytes; read only when the notification has one, NULL: none
 * came). Fills out as billing_parse_apple does. 0, or OC_EMALFORMED (a payload that is not a
 * JSON object) or OC_EINVAL with err. Inputs are the caller's. */
int billing_apple_payload(const char *note, size_t n, const char *tx, size_t txn,
                          struct billing_event *out /* OUT */, char *err, size_t errlen);

/* --- Google (google.c) --- */

/* Loads the PEM public keys of path (Google's push signing keys; *out freed with
 * billing_google_keys_free): 0, or OC_EINVAL with err. */
int billing_google_keys_load(const char *path, void **out /* OUT */, char *err, size_t errlen);
void billing_google_keys_free(void *keys);
/* Verifies a Pub/Sub push's Authorization header ("Bearer <JWT>"): RS256 under one of keys,
 * issuer accounts.google.com, audience aud, not expired at now_s (tol s of skew). A
 * billing_sig value (NOKEY when keys or aud are missing). */
int billing_google_verify(void *keys, const char *aud, const char *authz, int64_t now_s,
                          int64_t tol);
/* Reads a Pub/Sub push body whose message.data is a DeveloperNotification into out: id the
 * messageId, type "SUBSCRIPTION_<NAME>" of notificationType, event time eventTimeMillis,
 * subscription and account "gp-" + 32 hex digits of the purchase token's SHA-256. 0;
 * OC_EMALFORMED or OC_EINVAL with err. */
int billing_parse_google(const char *body, size_t n, struct billing_event *out /* OUT */, char *err,
                         size_t errlen);

/* Writes the Stripe-Signature header of body at t with secret into out (n >= 100): 0 or
 * OC_EINVAL. For the storm, the benchmark and the tests. */
int billing_stripe_sign(const char *secret, int64_t t, const char *body, size_t len, char *out,
                        size_t n);

/* --- the ordering rule and the state (rule.c) --- */

/* One subscription as the module holds it. */
struct billing_sub {
    char id[BILLING_ID_MAX + 1];
    char account[BILLING_ID_MAX + 1];
    char regions[BILLING_REGIONS_MAX + 1];
    char plan[BILLING_PLAN_MAX + 1]; /* the plan or product (a title's entitlements name it) */
    enum billing_provider provider;
    enum billing_state state;
    int64_t period_end_ms;               /* 0: none known */
    int64_t last_ms;                     /* event time of the event applied last */
    int last_tie;                        /* its tie rank */
    char last_event[BILLING_ID_MAX + 1]; /* its id */
    int64_t updated_ms;                  /* receive time of that event */
};

/* What an event did. */
enum billing_decision {
    BILLING_APPLIED = 0, /* the subscription moved to the event's state */
    BILLING_STALE,       /* older than what was applied (ordering rule): recorded only */
    BILLING_RECORDED,    /* an event that changes nothing (unknown type, record-only rule) */
};
extern const char *const billing_decision_names[];

/* The ordering rule: decides event e (its rule set) against cur (NULL: a subscription not
 * seen yet) received at recv_ms and writes the subscription after it to next (a copy of cur
 * when nothing changes). Events order by (event time, tie rank, event id); an event at or
 * below the key of the one applied last is stale. A pure function. */
enum billing_decision billing_decide(const struct billing_sub *cur, const struct billing_event *e,
                                     int64_t recv_ms, struct billing_sub *next /* OUT */);

/* An entitlement check's answer. */
struct billing_verdict {
    int allowed;
    enum billing_state state; /* effective: canceled and grace past their period end are
                                 expired */
    char reason[400];
};
/* The verdict for an account holding subs[0..n) (n may be 0) for a title in region (NULL or
 * "": any) at now_ms: allowed when any subscription in an allowing state covers the region;
 * the state shown is that subscription's, else the most recently changed one's. */
void billing_verdict(const struct billing_sub *const *subs, int n, const char *region,
                     int64_t now_ms, struct billing_verdict *out /* OUT */);
/* A catalog title's rights as the entitlement check reads them. */
struct billing_title {
    const char *id;
    int known;           /* 0: the catalog has no such title (never allowed) */
    const char *regions; /* comma-separated regions it is available in; "": everywhere */
    const char *ents;    /* comma-separated plans that may play it; "": any plan */
};
/* billing_verdict for title t (NULL: any title): a title the catalog does not hold, or one
 * not available in region, is refused whatever the account holds; else allowed when a
 * subscription allowed in region is on one of the title's plans (any plan when it lists
 * none). */
void billing_verdict_title(const struct billing_sub *const *subs, int n, const char *region,
                           const struct billing_title *t, int64_t now_ms,
                           struct billing_verdict *out /* OUT */);

/* --- the audit chain (audit.c) --- */

#define BILLING_HASH_LEN 32
/* One audit row as hashed. */
struct billing_audit_row {
    int64_t id;
    int64_t ts_ms;
    const char *kind;         /* "event", "action", "royalty", "refused" or "duplicate" */
    const char *account;      /* may be "" */
    const char *subscription; /* may be "" */
    const char *detail;       /* JSON text */
};
/* hash = SHA-256(prev || id || ts_ms || kind NUL account NUL subscription NUL detail), the
 * integers as 8 bytes big-endian; prev is 32 zero bytes for the first row. */
void billing_audit_hash(const unsigned char prev[BILLING_HASH_LEN],
                        const struct billing_audit_row *r, unsigned char out[BILLING_HASH_LEN]);
/* Walks the audit table of the store at data directory dir in id order and checks every
 * row's prev and hash: 0 (intact; *rows counts them), 1 (broken: *bad is the first broken
 * row's id and why says what), or -1 (cannot read, why says why). */
int billing_audit_verify(const char *dir, int64_t *rows /* OUT */, int64_t *bad /* OUT */,
                         char *why, size_t whylen);

/* --- the playback audit for royalties (royalty.c) --- */

/* Parses a UTC day "YYYY-MM-DD" into its first second (unix s): 0 or OC_EINVAL. */
int billing_day_parse(const char *s, int64_t *day_s /* OUT */);
struct qoe_cube;
/* The royalty report of the UTC day starting at day_s from cube c: {"day", "from", "to",
 * "rows": [{"title", "region", "plays", "attempts", "watch_ms"}] sorted by title then region
 * (bytes), "totals": {"plays", "attempts", "watch_ms"}}. plays are successful starts,
 * attempts every start, watch_ms the heartbeats' playing time. 0 and *out (the caller's);
 * OC_ECONFLICT when the cube has not closed the whole day; OC_EDB; err says why. */
int billing_royalty_day(struct qoe_cube *c, int64_t day_s, json_t **out /* OUT */, char *err,
                        size_t errlen);
/* The report's CSV (csv: "day,title,region,plays,attempts,watch_ms" and CRLF rows) or JSON
 * (compact, keys sorted, one line) rendering: the same bytes for the same report every time.
 * Heap text (the caller frees it) of *len bytes. */
char *billing_royalty_render(const json_t *report, int csv, size_t *len /* OUT */);
/* Lower-case hex SHA-256 of n bytes at p. */
void billing_sha256_hex(const void *p, size_t n, char out[65]);
/* The detail of a seal row: {"seal": "royalty", "actor", "csv_sha256", "json_sha256",
 * "report"} (new reference). */
json_t *billing_royalty_seal_detail(const json_t *report, const char *actor);
struct store;
/* The latest seal of day ("YYYY-MM-DD") in store st: 1 with its audit id, time (unix ms) and
 * detail (the caller's), 0 when the day has none, or OC_EDB. */
int billing_royalty_sealed(struct store *st, const char *day, int64_t *id, int64_t *ts,
                           json_t **detail /* OUT */);
/* Checks an exported report (file, n bytes) against the audit of data directory dir: walks the
 * chain, then looks for a seal holding the file's SHA-256. 0 with *out {"sha256", "day",
 * "format", "audit_id", "sealed_ms", "chain_rows"} (the caller's); 1 (the chain is broken, or
 * no seal has the hash; why says which); -1 (cannot read; why). */
int billing_royalty_verify(const char *dir, const void *file, size_t n, json_t **out /* OUT */,
                           char *why, size_t whylen);

/* --- commands --- */

/* `oncue billing audit verify | show ACCOUNT | storm` (cli.c, storm.c). */
int billing_cli_main(int argc, char **argv);
extern const struct oc_cli billing_cli[];
/* `oncue drill webhook-storm`: the storm against a live server, scored (cli.c). */
int billing_drill_main(int argc, char **argv);
extern const struct oc_cli billing_drill_cli[];
/* `oncue bench billing`: entitlement checks or signed webhooks against a server (bench.c). */
int billing_bench_main(int argc, char **argv);
extern const struct oc_cli billing_bench_cli[];

/* --- churn.c: cancellations for other capabilities' reports --- */

struct store;
/* Calls fn(account, at_ms, arg) for every subscription change to canceled recorded in the
 * billing audit of store s whose event time (the provider's, else the receipt) is in
 * [from_ms, to_ms), in time order; account is borrowed for the call. Takes the store's lock
 * (fn must not take it). 0 or OC_EDB. */
int billing_cancellations(struct store *s, int64_t from_ms, int64_t to_ms,
                          void (*fn)(const char *account, int64_t at_ms, void *arg), void *arg);

/* The module: POST /v1/billing/webhooks/{provider}, GET /v1/entitlements/{account},
 * GET /v1/billing/accounts/{account}, POST /v1/billing/accounts/{account}/actions. Needs the
 * store. */
extern const struct oc_module billing_module;

#endif
