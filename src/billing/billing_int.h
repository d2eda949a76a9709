/*
 * billing_int.h - internal to billing/: the string map and the in-memory table of
 * subscriptions by id and by account (table.c), the committer's queue of operations and its
 * batch (commit.c), the module's state (module.c) and the account view (show.c).
 *
 * Threads and locks: HTTP workers verify and parse without a lock, then queue an operation;
 * one committer thread decides every queued operation in order, writes them in one
 * transaction (holding only the store's lock), then installs the changed subscriptions into
 * the table under its write lock and answers. Entitlement checks take the read lock. The
 * committer is the table's only writer, so it reads the table without the lock. The
 * idempotency mutex is taken before the store's lock, never under the table's.
 */
#ifndef OC_BILLING_INT_H
#define OC_BILLING_INT_H

#include "billing/billing.h"

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

struct store;
struct http_later;
struct oc_buf;

/* A string-keyed hash map (chained); keys are copied, values borrowed. */
struct bmap_node {
    struct bmap_node *next;
    uint64_t hash;
    char *key; /* owned */
    void *val;
};
struct bmap {
    struct bmap_node **b; /* nb buckets, a power of two */
    size_t nb, n;
};
void bmap_init(struct bmap *m);
/* Frees the map; calls fr on each value when fr is not NULL. */
void bmap_free(struct bmap *m, void (*fr)(void *));
void *bmap_get(const struct bmap *m, const char *key);
/* Sets key to val; returns the value it replaces, or NULL. */
void *bmap_put(struct bmap *m, const char *key, void *val);
/* Removes key; returns its value, or NULL. */
void *bmap_del(struct bmap *m, const char *key);

/* One account: its subscriptions (owned by the table's subs map). */
struct billing_account {
    struct billing_sub **subs; /* n of cap, owned array (up to BILLING_SUBS_PER_ACCOUNT) */
    size_t n, cap;
};

/* Every subscription, by id and by account. */
struct billing_table {
    struct bmap subs;     /* id -> struct billing_sub (owned) */
    struct bmap accounts; /* account -> struct billing_account (owned) */
};
void billing_table_init(struct billing_table *t);
void billing_table_free(struct billing_table *t);
/* Installs s (heap, taken): replaces the subscription of the same id (keeping its account)
 * or adds it to its account. 0, or OC_ETOOBIG when the account holds
 * BILLING_SUBS_PER_ACCOUNT already (s is then freed). */
int billing_table_install(struct billing_table *t, struct billing_sub *s);

/* The operations the committer runs. */
enum billing_op_kind {
    BILLING_OP_EVENT = 1, /* a verified provider event */
    BILLING_OP_ACTION,    /* a support action */
    BILLING_OP_SEAL,      /* a royalty report sealed into the audit (royalty.c) */
    BILLING_OP_REPLAY,    /* a stored event decided again (replay.c) */
    BILLING_OP_TALLY,     /* a minute's refused or duplicate deliveries as one audit row */
};
enum billing_action_kind {
    BILLING_GRANT = 1,  /* active until `until` (0: open-ended) */
    BILLING_REVOKE_ALL, /* revoked */
    BILLING_EXTEND,     /* period end moved to `until`; expired becomes canceled */
    BILLING_REPAIR,     /* reconciliation: the provider's state (and period end) */
};
/* A support action as parsed from POST /v1/billing/accounts/{account}/actions. */
struct billing_action {
    enum billing_action_kind kind;
    char account[BILLING_ID_MAX + 1];
    char subscription[BILLING_ID_MAX + 1]; /* "" : every subscription of the account */
    int64_t until_ms;
    char reason[201];
    char key[BILLING_IDEM_KEY_MAX + 1]; /* the Idempotency-Key */
    unsigned char fingerprint[32];      /* SHA-256 of method, path and body */
    char actor[128];                    /* the token's name */
    enum billing_state state;           /* BILLING_REPAIR: the state to set */
    enum billing_provider provider;     /* BILLING_REPAIR: of a subscription it creates */
    int move;                           /* BILLING_REPAIR: the subscription moves to account */
    int force;                          /* a replay: decided as of its receive time */
    char prior[16];                     /* a replay: the stored event's first decision */
};

/* One queued operation and, once done, its answer. */
struct billing_op {
    enum billing_op_kind kind;
    struct billing_event ev; /* OP_EVENT */
    char *payload;           /* OP_EVENT: the raw body, owned */
    size_t plen;
    struct billing_action act; /* OP_ACTION */
    int64_t recv_ms;           /* when it was received (the injected clock) */
    struct http_later *later;  /* answered by the committer when set */
    int status;                /* the answer: HTTP status ... */
    char *answer;              /* ... and JSON body (owned), or a problem detail */
    int done;                  /* set under the queue mutex when answered */
    int detached;              /* nobody waits: the committer frees it once run (OP_TALLY) */
    int dup;                   /* OP_EVENT: answered duplicate (tallied after the commit) */
    struct billing_op *next;   /* the queue */
};

/* The module's counters for /metrics. */
struct billing_stats {
    atomic_ullong decisions[BILLING_NPROVIDERS][3]; /* by provider and decision */
    atomic_ullong duplicates;                       /* events answered duplicate */
    atomic_ullong refused[7];                       /* by enum billing_sig (0: bad payload) */
    atomic_ullong commits;                          /* transactions */
    atomic_ullong failed;                           /* operations answered 503 */
    atomic_ullong checks;                           /* entitlement checks */
    atomic_ullong actions;                          /* support actions applied */
};

/* Refused and duplicate deliveries of one provider and reason in one minute (tally.c). */
#define BILLING_TALLY_IDS      8 /* event ids named in one row */
#define BILLING_TALLY_DUP      7 /* the reason index of duplicates (after enum billing_sig) */
#define BILLING_TALLY_NREASONS 8
struct billing_tally {
    int64_t minute_ms;                               /* the minute's start; 0 when empty */
    int64_t first_ms, last_ms;                       /* the first and last delivery counted */
    uint64_t count;                                  /* deliveries (0: the bucket is empty) */
    int nids;                                        /* ids named */
    uint64_t more;                                   /* other distinct ids not named */
    char ids[BILLING_TALLY_IDS][BILLING_ID_MAX + 1]; /* as the deliveries stated them */
};
extern const char *const billing_tally_reasons[BILLING_TALLY_NREASONS];

/* The module's settings. */
struct billing_opts {
    char *stripe_secrets;    /* billing.stripe_secrets */
    char *standard_secrets;  /* billing.standard_secrets */
    char *apple_root_pem;    /* billing.apple_root_pem */
    char *google_keys_pem;   /* billing.google_keys_pem */
    char *google_audience;   /* billing.google_audience */
    int64_t tolerance_s;     /* billing.tolerance_s */
    int64_t retention_s;     /* billing.retention_s */
    int64_t idem_ttl_s;      /* billing.idempotency_ttl_s */
    int64_t max_subs;        /* billing.max_subscriptions */
    char *stripe_api_url;    /* billing.stripe_api_url */
    char *stripe_api_key;    /* billing.stripe_api_key */
    int64_t reconcile_s;     /* billing.reconcile_interval_s */
    int reconcile_repair;    /* billing.reconcile_repair */
    char *apple_api_url;     /* billing.apple_api_url */
    char *apple_api_key_pem; /* billing.apple_api_key_pem */
    char *apple_api_key_id;  /* billing.apple_api_key_id */
    char *apple_api_issuer;  /* billing.apple_api_issuer */
    char *apple_bundle_id;   /* billing.apple_bundle_id */
    char *google_api_url;    /* billing.google_api_url */
    char *google_sa;         /* billing.google_service_account */
    char *google_package;    /* billing.google_package */
};

/* The module's state. */
struct billing_mod {
    struct oc_app *app;
    struct billing_opts o;
    struct billing_keys keys[2]; /* by provider: stripe, standard */
    void *apple_roots;           /* X509_STORE of billing.apple_root_pem, or NULL */
    void *google_keys;           /* billing.google_keys_pem, or NULL */
    pthread_rwlock_t lock;       /* guards table */
    struct billing_table table;
    struct billing_stats st;
    /* the committer */
    pthread_t committer;
    int committer_started;
    pthread_mutex_t qmu; /* guards the queue, stopping and each op's done (a leaf lock) */
    pthread_cond_t qcv;  /* work queued, or stopping */
    pthread_cond_t dcv;  /* an op answered */
    struct billing_op *head, *tail;
    int stopping;
    int64_t audit_id; /* the last audit row: committer only */
    unsigned char audit_hash[BILLING_HASH_LEN];
    /* Idempotency-Key requests in flight */
    pthread_mutex_t imu;
    struct bmap inflight; /* key -> (void *)1 */
    /* scheduled reconciliation (reconcile.c) */
    pthread_mutex_t rmu;             /* guards the four below (a leaf lock) */
    json_t *last_report;             /* the last reconciliation's report, or NULL; owned */
    json_t *reports[BILLING_MANUAL]; /* the last report of each provider, or NULL; owned */
    int64_t last_ms;                 /* when it ended (the injected clock) */
    char last_error[300];            /* "" or why it failed */
    int64_t next_ms;                 /* when the schedule runs next */
    pthread_t rthread;               /* a scheduled run */
    int rthread_started;             /* not yet joined */
    atomic_int rthread_done;         /* it has finished */
    /* refused and duplicate deliveries, per provider and reason (tally.c) */
    pthread_mutex_t tmu; /* guards tally (a leaf lock) */
    struct billing_tally tally[BILLING_MANUAL][BILLING_TALLY_NREASONS];
};

/* The subscriptions one batch changed, in order (owned until installed), and an index by id. */
struct billing_overlay {
    struct billing_sub **v;
    size_t n, cap;
    size_t added; /* of them, not in the table before */
    struct bmap by_id;
};
/* Committer only (commit.c): the subscription id as the batch sees it (the overlay's, else the
 * table's; NULL: unknown). */
const struct billing_sub *billing_ov_get(struct billing_mod *m, struct billing_overlay *ov,
                                         const char *id);
/* Puts a copy of next into the overlay: 0, or OC_ETOOBIG past billing.max_subscriptions. */
int billing_ov_put(struct billing_mod *m, struct billing_overlay *ov,
                   const struct billing_sub *next);
/* Writes subscription s in the open transaction: 0 or OC_EDB. */
int billing_write_sub(struct store *st, const struct billing_sub *s);
/* Appends the next audit row in the open transaction (the chain's head moves): 0 or OC_EDB. */
int billing_write_audit(struct billing_mod *m, int64_t ts_ms, const char *kind, const char *account,
                        const char *sub, const char *detail);
/* Stores the Idempotency-Key answer of op (none for a key-less repair): 0 or OC_EDB. */
int billing_write_idem(struct store *st, const struct billing_op *op);
/* Runs support action op inside the batch's transaction (action.c): 0 (answered) or OC_EDB. */
int billing_run_action(struct billing_mod *m, struct billing_overlay *ov, struct billing_op *op);

/* Runs a royalty seal inside the batch's transaction (royalty.c): op->payload is the seal's
 * detail, op->act.account "royalty:DAY". When the day's latest seal has the same hashes it
 * stands (answered with already_sealed), else a new audit row of kind royalty is written.
 * 0 (answered) or OC_EDB. */
int billing_run_seal(struct billing_mod *m, struct billing_op *op);
/* Runs a replay of a stored event inside the batch's transaction (replay.c): 0 (answered) or
 * OC_EDB. */
int billing_run_replay(struct billing_mod *m, struct billing_overlay *ov, struct billing_op *op);

/* Counts a refused (reason: an enum billing_sig, 0 an unusable payload) or duplicate
 * (BILLING_TALLY_DUP) delivery of provider p at now_ms, naming id when it is a valid id (NULL:
 * none could be read). When the bucket holds an earlier minute, that minute's row is queued for
 * the committer first. Any thread but the committer's while it holds the queue. */
void billing_tally_add(struct billing_mod *m, enum billing_provider p, int reason, const char *id,
                       int64_t now_ms);
/* Empties the buckets of minutes before now_ms's (all: every bucket) into a list of detached
 * operations (linked by next; the caller submits or commits them), or NULL when none. */
struct billing_op *billing_tally_take(struct billing_mod *m, int64_t now_ms, int all);
/* Writes tally operation op's audit row inside the batch's transaction: 0 or OC_EDB. */
int billing_run_tally(struct billing_mod *m, struct billing_op *op);

/* Reconciliation (reconcile.c): fetches every Stripe subscription from
 * billing.stripe_api_url and compares it with the table: *report gets {"provider",
 * "checked", "missing", "extra", "mismatch", "repaired"} (the caller's). With repair, each
 * missing or mismatched subscription is set to the provider's state by a support action of
 * kind repair (audited) by actor. 0, or OC_EIO / OC_EINVAL with err. */
int billing_reconcile(struct billing_mod *m, enum billing_provider p, int repair, const char *actor,
                      json_t **report /* OUT */, char *err, size_t errlen);

/* What an app store's API says of one subscription. */
struct billing_theirs {
    enum billing_state state;
    int64_t period_end_ms;            /* 0: not said */
    char account[BILLING_ID_MAX + 1]; /* the platform's account, "" when not said */
};
/* Reads an app store's answer a about one subscription (stores.c): Apple's Get All
 * Subscription Statuses for original transaction id (its lastTransactions' status), or
 * Google's subscriptionsv2 (subscriptionState, the first line item's expiryTime,
 * externalAccountIdentifiers.obfuscatedExternalAccountId when a valid id). 0 with t set, or -1
 * (no state oncue maps, or not an object). */
int billing_theirs_read(enum billing_provider p, const json_t *a, const char *id,
                        struct billing_theirs *t /* OUT */);
/* Reconciles provider p (BILLING_APPLE or BILLING_GOOGLE) one subscription at a time
 * (stores.c), filling report's "checked", "extra", "mismatch" and "account" and appending the
 * repairs to fix: 0, or OC_EINVAL (not configured) / OC_EIO with err. */
int billing_reconcile_store(struct billing_mod *m, enum billing_provider p, json_t *report,
                            json_t *fix, char *err, size_t errlen);
/* Keeps report (taken; NULL when it failed with err) as the last reconciliation's. */
void billing_reconcile_keep(struct billing_mod *m, enum billing_provider p, json_t *report,
                            const char *err);
/* Timer: starts a scheduled reconciliation on its own thread when billing.reconcile_interval_s
 * has passed and none runs; joins one that ended. */
void billing_reconcile_tick(struct oc_app *app, void *state);
/* Joins a scheduled run still going (before the committer stops) and frees the last report. */
void billing_reconcile_stop(struct billing_mod *m);

/* Loads every stored subscription into the table and the audit chain's head (start-up). 0 or
 * OC_EDB. */
int billing_load(struct billing_mod *m);
/* Starts the committer thread (0, or OC_EIO; the queue's mutex and conditions are initialized
 * by the module) and stops it after answering what is queued, destroying them. */
int billing_committer_start(struct billing_mod *m);
void billing_committer_stop(struct billing_mod *m);
/* Queues op (taken): answered later through op->later, or, without one, waits until done and
 * gives op back to the caller (who frees it with billing_op_free). */
void billing_submit(struct billing_mod *m, struct billing_op *op);
void billing_op_free(struct billing_op *op);

/* The account view of GET /v1/billing/accounts/{account} and `oncue billing show`: its
 * subscriptions, verdict and last `limit` audit rows, read from the store s. 0 or OC_EDB;
 * *out is owned by the caller. */
int billing_account_json(struct store *s, const char *account, int64_t now_ms, int limit,
                         json_t **out /* OUT */);
/* client.c, for the storm and the benchmark: splits "http://HOST:PORT" (0 or OC_EINVAL);
 * connects (a socket with TCP_NODELAY, or -1); sends req (len bytes) on fd and reads one whole
 * answer into buf (cap bytes): its status with *body pointing at its body in buf, or -1 when
 * the connection failed (then reconnect). */
int billing_url_split(const char *url, char *host, size_t hn, char *port, size_t pn);
int billing_connect(const char *host, const char *port);
int billing_exchange(int fd, const char *req, size_t len, char *buf, size_t cap,
                     const char **body /* OUT */);

/* The webhook storm (storm.c). */
struct billing_storm_event {
    char id[48], sub[40], account[40]; /* the storm's prefix, then a number */
    int v;                             /* index into the storm's vocabulary */
    int64_t event_ms;                  /* the event's own time */
};
struct billing_storm {
    struct billing_storm_event *ev; /* nevents, owned */
    size_t nevents;
    uint32_t *deliv; /* ndeliv event indexes: each event 1 to 3 times, shuffled; owned */
    size_t ndeliv;
    enum billing_state *truth; /* nsubs: each subscription's final state */
    int nsubs;
    char prefix[17]; /* of every id: separates storms sent to one server */
};
/* Makes the storm of nsubs subscriptions (1..1000000) from seed, every id starting with prefix
 * (up to 16 id characters, "" for none), lives ending before now_ms: 0 or OC_EINVAL. Free with
 * billing_storm_free. */
int billing_storm_make(int nsubs, uint64_t seed, const char *prefix, int64_t now_ms,
                       struct billing_storm *st);
void billing_storm_free(struct billing_storm *st);
/* Writes event e's Standard Webhooks body (period end period_end_ms) into out: its length. */
int billing_storm_body(const struct billing_storm *st, size_t e, int64_t period_end_ms, char *out,
                       size_t n);
/* Writes the signed POST of body (id, key of klen bytes) to host:port into out: its length. */
int billing_storm_request(const char *host, const char *port, const unsigned char *key, size_t klen,
                          const char *id, const char *body, size_t blen, char *out, size_t n);

/* Deletes event ids received before events_before and Idempotency-Key answers created before
 * idem_before (unix ms), 20,000 rows per hold of the store's lock, at most 2,000,000 of each
 * per call; *deleted counts them. 0 or OC_EDB. */
int billing_prune(struct store *s, int64_t events_before, int64_t idem_before,
                  int64_t *deleted /* OUT */);

/* Reads the current row of a BILLING_SQL_SUB_* statement into out. */
struct store_stmt;
void billing_sub_read(struct store_stmt *st, struct billing_sub *out /* OUT */);

#endif
