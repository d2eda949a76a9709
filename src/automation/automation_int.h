/*
 * automation_int.h - what the files of the automation capability share: the module state,
 * the subscriptions (sub.c), the outbox and its delivery thread (outbox.c).
 */
#ifndef OC_AUTOMATION_INT_H
#define OC_AUTOMATION_INT_H

#include "automation/automation.h"
#include "core/netguard.h"

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

/* automation.* settings. */
struct auto_opts {
    char *outbound_allow; /* automation.outbound_allow */
    int64_t timeout_s;    /* automation.timeout_s */
    int64_t max_subs;     /* automation.max_subscriptions */
    int64_t max_pending;  /* automation.max_pending */
    int64_t log_days;     /* automation.log_days */
};

/* The running module. */
struct auto_mod {
    struct oc_app *app;         /* borrowed */
    struct auto_opts o;         /* settings */
    struct oc_netguard guard;   /* from automation.outbound_allow */
    pthread_mutex_t mu;         /* the delivery thread's sleep (a leaf) */
    pthread_cond_t cv;          /* signalled when a message is queued, and at stop */
    pthread_mutex_t deliver_mu; /* one automation_deliver at a time */
    pthread_t th;
    int thread;          /* the delivery thread runs */
    int woken;           /* under mu: something was queued since the thread last looked */
    atomic_int stopping; /* set once at stop */
    atomic_long queued, sent, failed, dropped; /* counters for /metrics */
    atomic_long nsubs; /* subscriptions stored: the bus subscriber does nothing while 0 */
};

/* One subscription as stored (URL and keys opened). */
struct auto_sub {
    int64_t id;
    char name[AUTO_NAME_MAX + 1];
    char *url;    /* owned; NULL when it did not open */
    char *keys;   /* owned; NULL when they did not open */
    char *topics; /* owned */
    char state[16];
    char *reason; /* owned, or NULL */
    int64_t created_ms, changed_ms;
};

/* --- sub.c --- */
/* Re-reads how many subscriptions are stored into m->nsubs. */
void auto_sub_recount(struct auto_mod *m);
/* Frees what s owns. */
void auto_sub_free(struct auto_sub *s);
/* Loads subscription name into out: 0, OC_ENOTFOUND or OC_EDB. */
int auto_sub_get(struct auto_mod *m, const char *name, struct auto_sub *out /* OUT */);
/* Checks a target URL: http(s), at most AUTO_URL_MAX bytes, and each address its host
 * resolves to is allowed by the guard. 0, or OC_EINVAL with why. */
int auto_url_check(const struct auto_mod *m, const char *url, char *why, size_t n);
/* A new signing key: "whsec_" + 32 random bytes, or "whsk_" + a 64-byte Ed25519 secret key
 * when ed25519; into out (n >= 128). */
void auto_key_new(int ed25519, char *out, size_t n);
/* Creates a subscription from a request body {name, url, topics, secret?, algorithm?}; on
 * success the answer (with the secret when generated) in *out. 0, or an oc_err with why. */
int auto_sub_create(struct auto_mod *m, const json_t *b, json_t **out /* OUT */, char *why,
                    size_t n);
/* The JSON of a subscription (the URL cut after its host unless full; never the keys, only
 * their versions and the Ed25519 public keys) with its message counts. New reference. */
json_t *auto_sub_json(struct auto_mod *m, const struct auto_sub *s, int full);
/* Every subscription as auto_sub_json. New reference. */
json_t *auto_sub_list(struct auto_mod *m, int full);
/* Sets a subscription's state ("live" resumes its pending messages at once) with reason. */
int auto_sub_set_state(struct auto_mod *m, int64_t id, const char *state, const char *reason);
/* Deletes a subscription with its messages and attempts: 0 or OC_EDB. */
int auto_sub_delete(struct auto_mod *m, int64_t id);
/* Rotates the signing keys: a new key (given, or generated per algorithm) first, then the
 * newest keep old ones. The answer in *out. 0, or an oc_err with why. */
int auto_sub_rotate(struct auto_mod *m, const struct auto_sub *s, const json_t *b,
                    json_t **out /* OUT */, char *why, size_t n);

/* --- outbox.c --- */
/* The bus subscriber ("*"): queues topic/payload for every subscription (live or disabled)
 * whose filters select it, committed before returning, then wakes the delivery thread. */
void auto_on_event(const char *topic, const json_t *payload, void *state);
/* Wakes the delivery thread (a no-op without one). */
void auto_outbox_wake(struct auto_mod *m);
/* Starts and stops the delivery thread. */
int auto_outbox_start(struct auto_mod *m);
void auto_outbox_stop(struct auto_mod *m);
/* Deletes delivered and failed messages finished before before_ms, with their attempts. */
void auto_outbox_trim(struct auto_mod *m, int64_t before_ms);
/* The delivery log of subscription sub: messages newest first (state filter or NULL). Without
 * full (a non-admin) no message has last_status: the receivers' answers are for admins. */
json_t *auto_msgs_json(struct auto_mod *m, int64_t sub, const char *state, int limit, int full);
/* One message with its body and every attempt; NULL when not found. Without full the message
 * has no last_status and no body (an event may carry a deploy webhook's URL), and each attempt
 * only {at, attempt, next_attempt}: no status, error, ms or retry_after. */
json_t *auto_msg_json(struct auto_mod *m, int64_t sub, const char *msg_id, int full);
/* Replays one message (msg_id) or, with msg_id NULL, every finished message created since
 * since_ms in state ("failed", "delivered" or "all"); how many in *count. 0 or OC_EDB. */
int auto_replay(struct auto_mod *m, int64_t sub, const char *msg_id, int64_t since_ms,
                const char *state, int *count /* OUT */);

#endif
