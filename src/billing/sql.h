/*
 * sql.h - internal to billing/: every SQL statement of the billing capability, as named macros.
 *
 * The tables are created by migration 10 in store/migrate.c (a later one adds billing_subs.plan):
 * billing_events (every verified event id, kept billing.retention_s: the idempotency keys),
 * billing_subs (each subscription's state: the source of truth the in-memory table is loaded from),
 * billing_audit (append-only, hash-chained) and billing_idem (Idempotency-Key answers).
 */
#ifndef OC_BILLING_SQL_H
#define OC_BILLING_SQL_H

#define BILLING_SQL_EVENT_SEEN "SELECT decision FROM billing_events WHERE provider = ?1 AND id = ?2"
#define BILLING_SQL_EVENT_GET                                                                      \
    "SELECT payload, received_ms, decision FROM billing_events WHERE provider = ?1 AND id = ?2"
#define BILLING_SQL_EVENT_PUT                                                                      \
    "INSERT INTO billing_events(provider, id, type, subscription, account, event_ms,"              \
    " received_ms, decision, payload) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
#define BILLING_SQL_EVENT_PRUNE                                                                    \
    "DELETE FROM billing_events WHERE (provider, id) IN (SELECT provider, id FROM billing_events"  \
    " WHERE received_ms < ?1 LIMIT ?2)"
#define BILLING_SQL_SUB_PUT                                                                        \
    "INSERT INTO billing_subs(id, account, provider, state, period_end_ms, regions,"               \
    " last_ms, last_tie, last_event, updated_ms, plan)"                                            \
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) ON CONFLICT (id) DO UPDATE SET"        \
    " account = ?2, provider = ?3, state = ?4, period_end_ms = ?5, regions = ?6, last_ms = ?7,"    \
    " last_tie = ?8, last_event = ?9, updated_ms = ?10, plan = ?11"
#define BILLING_SQL_SUB_ALL                                                                        \
    "SELECT id, account, provider, state, period_end_ms, regions, last_ms, last_tie, last_event,"  \
    " updated_ms, plan FROM billing_subs"
#define BILLING_SQL_SUB_OF                                                                         \
    "SELECT id, account, provider, state, period_end_ms, regions, last_ms, last_tie, last_event,"  \
    " updated_ms, plan FROM billing_subs WHERE account = ?1 ORDER BY id"
#define BILLING_SQL_AUDIT_PUT                                                                      \
    "INSERT INTO billing_audit(id, ts_ms, kind, account, subscription, detail, prev, hash)"        \
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
#define BILLING_SQL_AUDIT_LAST "SELECT id, hash FROM billing_audit ORDER BY id DESC LIMIT 1"
#define BILLING_SQL_AUDIT_ALL                                                                      \
    "SELECT id, ts_ms, kind, account, subscription, detail, prev, hash FROM billing_audit"         \
    " ORDER BY id"
#define BILLING_SQL_AUDIT_OF                                                                       \
    "SELECT id, ts_ms, kind, subscription, detail FROM billing_audit WHERE account = ?1"           \
    " ORDER BY id DESC LIMIT ?2"
/* Royalty seals: kind 'royalty', account "royalty:DAY" (the account index finds a day's). */
#define BILLING_SQL_SEAL_OF                                                                        \
    "SELECT id, ts_ms, detail FROM billing_audit WHERE account = ?1 AND kind = 'royalty'"          \
    " ORDER BY id DESC LIMIT 1"
#define BILLING_SQL_SEAL_ALL                                                                       \
    "SELECT id, ts_ms, detail FROM billing_audit WHERE kind = 'royalty' ORDER BY id"
/* Purchase tokens (Google's), by subscription, for reconciliation. */
#define BILLING_SQL_TOKEN_PUT                                                                      \
    "INSERT INTO billing_tokens(subscription, provider, token) VALUES (?1, ?2, ?3)"                \
    " ON CONFLICT DO NOTHING"
#define BILLING_SQL_TOKEN_ALL                                                                      \
    "SELECT subscription, token FROM billing_tokens WHERE provider = ?1 ORDER BY subscription"
#define BILLING_SQL_IDEM_GET "SELECT fingerprint, status, answer FROM billing_idem WHERE key = ?1"
#define BILLING_SQL_IDEM_PUT                                                                       \
    "INSERT INTO billing_idem(key, fingerprint, status, answer, created_ms)"                       \
    " VALUES (?1, ?2, ?3, ?4, ?5)"
#define BILLING_SQL_IDEM_PRUNE                                                                     \
    "DELETE FROM billing_idem WHERE key IN (SELECT key FROM billing_idem WHERE created_ms < ?1"    \
    " LIMIT ?2)"

/* audit rows that may hold a change to canceled; churn.c reads their JSON detail */
#define BILLING_SQL_CANCELLATIONS                                                                  \
    "SELECT id, account, ts_ms, detail FROM billing_audit WHERE detail LIKE '%canceled%'"          \
    " ORDER BY id"

#endif
