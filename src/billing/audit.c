/*
 * audit.c - the billing audit's hash chain: each row's hash covers the previous row's hash
 * and the row's own fields, so changing, removing or reordering any row breaks every hash
 * after it. Rows are written by the committer (commit.c) in the transaction of the change they
 * record; billing_audit_verify walks the chain (`oncue billing audit verify`).
 */
#include "billing/billing.h"
#include "billing/sql.h"
#include "core/err.h"
#include "store/store.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* Feeds v as 8 bytes big-endian. */
static void put64(crypto_hash_sha256_state *st, int64_t v)
{
    unsigned char b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)((uint64_t)v >> (56 - 8 * i));
    crypto_hash_sha256_update(st, b, 8);
}

/* Feeds s and its NUL. */
static void put_str(crypto_hash_sha256_state *st, const char *s)
{
    crypto_hash_sha256_update(st, (const unsigned char *)(s ? s : ""), strlen(s ? s : "") + 1);
}

void billing_audit_hash(const unsigned char prev[BILLING_HASH_LEN],
                        const struct billing_audit_row *r, unsigned char out[BILLING_HASH_LEN])
{
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, prev, BILLING_HASH_LEN);
    put64(&st, r->id);
    put64(&st, r->ts_ms);
    put_str(&st, r->kind);
    put_str(&st, r->account);
    put_str(&st, r->subscription);
    crypto_hash_sha256_update(&st, (const unsigned char *)(r->detail ? r->detail : ""),
                              strlen(r->detail ? r->detail : ""));
    crypto_hash_sha256_final(&st, out);
}

/* Checks the current row of st against prev (updated to its hash): 0, or 1 with why. */
static int check_row(struct store_stmt *st, int64_t want_id, unsigned char prev[BILLING_HASH_LEN],
                     char *why, size_t whylen)
{
    struct billing_audit_row r = {
        .id = store_col_int(st, 0),
        .ts_ms = store_col_int(st, 1),
        .kind = store_col_text(st, 2),
        .account = store_col_text(st, 3),
        .subscription = store_col_text(st, 4),
        .detail = store_col_text(st, 5),
    };
    size_t pn = 0, hn = 0;
    const void *p = store_col_blob(st, 6, &pn);
    const void *h;
    unsigned char want[BILLING_HASH_LEN];
    if (r.id != want_id) {
        snprintf(why, whylen, "row %lld follows row %lld: a row is missing", (long long)r.id,
                 (long long)(want_id - 1));
        return 1;
    }
    if (pn != BILLING_HASH_LEN || memcmp(p, prev, BILLING_HASH_LEN) != 0) {
        snprintf(why, whylen, "row %lld: prev is not the hash of the row before", (long long)r.id);
        return 1;
    }
    billing_audit_hash(prev, &r, want);
    h = store_col_blob(st, 7, &hn);
    if (hn != BILLING_HASH_LEN || memcmp(h, want, BILLING_HASH_LEN) != 0) {
        snprintf(why, whylen, "row %lld: its hash does not match its content", (long long)r.id);
        return 1;
    }
    memcpy(prev, want, BILLING_HASH_LEN);
    return 0;
}

int billing_audit_verify(const char *dir, int64_t *rows, int64_t *bad, char *why, size_t whylen)
{
    char path[4096], err[512];
    struct stat sb;
    struct store *s = NULL;
    struct store_stmt *st = NULL;
    unsigned char prev[BILLING_HASH_LEN] = {0};
    int rc, step = STORE_DONE;
    *rows = 0;
    *bad = 0;
    snprintf(path, sizeof path, "%s/oncue.db", dir);
    if (stat(path, &sb) != 0) {
        snprintf(why, whylen, "%s: no store here", path);
        return -1;
    }
    if (store_open(dir, STORE_SYNC_NORMAL, &s, err, sizeof err) != 0) {
        snprintf(why, whylen, "%s", err);
        return -1;
    }
    store_lock(s);
    rc = store_prepare(s, BILLING_SQL_AUDIT_ALL, &st) == 0 ? 0 : -1;
    while (rc == 0 && (step = store_step(st)) == STORE_ROW) {
        if (check_row(st, *rows + 1, prev, why, whylen) != 0) {
            *bad = store_col_int(st, 0);
            rc = 1;
            break;
        }
        (*rows)++;
    }
    if (rc == 0 && step < 0)
        rc = -1;
    if (rc < 0)
        snprintf(why, whylen, "cannot read the audit: %s", store_errmsg(s));
    if (st)
        store_reset(st);
    store_unlock(s);
    store_close(s);
    return rc;
}
