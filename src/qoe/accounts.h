/*
 * accounts.h - the keyed-hashed accounts beacons carry (account_hmac): which accounts were
 * seen, and hurt, in which leaf of the cube and when (accounts.c). Filled by ingest after each
 * fold, read by the tickets reports; the ingest module owns the table and provides it as
 * QOE_PROVIDES_ACCOUNTS. See docs/internals/ingest.md "Accounts".
 */
#ifndef OC_QOE_ACCOUNTS_H
#define OC_QOE_ACCOUNTS_H

#include "qoe/cube.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define QOE_ACCOUNT_HASH      32             /* bytes of an account_hmac */
#define QOE_PROVIDES_ACCOUNTS "qoe.accounts" /* oc_app_find: struct qoe_accounts */
struct qoe_accounts;

/* 0 when p (n bytes) is 64 lower-case hex digits, their bytes into out (may be NULL); -1 if
 * not. */
int qoe_account_parse(const char *p, size_t n, uint8_t out[QOE_ACCOUNT_HASH]);
/* An empty table of at most max (account, leaf) entries (0: keeps none). */
struct qoe_accounts *qoe_accounts_new(size_t max);
void qoe_accounts_free(struct qoe_accounts *a);
/* Remembers the accounts of f's folded events (after qoe_cube_add: leaf and verdict set):
 * when each was first and last seen in its leaf, and last hurt there (a failed start, an
 * error, a stall). Returns the events recorded; past the cap new entries are counted as
 * dropped. Thread-safe; a NULL table is a no-op. */
size_t qoe_accounts_record(struct qoe_accounts *a, const struct qoe_fold *f);
/* The distinct account hashes seen in [from_ms, to_ms) in a leaf of cube c that matches every
 * beacon dimension of slice ({dim: value}; other keys such as service are ignored), only
 * those hurt in the window when hurt_only: *out (sorted, *n of them; the caller frees). A
 * slice naming no beacon dimension, or a value no beacon had, gives none. Thread-safe. */
void qoe_accounts_in_slice(struct qoe_accounts *a, struct qoe_cube *c, const json_t *slice,
                           int64_t from_ms, int64_t to_ms, int hurt_only,
                           uint8_t (**out)[QOE_ACCOUNT_HASH], size_t *n);
/* Entries held and entries dropped at the cap. */
void qoe_accounts_stats(struct qoe_accounts *a, size_t *entries, uint64_t *dropped);

#endif
