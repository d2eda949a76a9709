/*
 * deploy.c - the secret signing rollback calls to catalog deploy webhooks. It is
 * incident.deploy_secret when that is set; otherwise one the server made at its first start
 * ("whsec_" + base64 of 32 random bytes), kept in incident_secrets sealed with DATA/oncue.key
 * like every stored secret, which an admin reads with GET /v1/notifications/deploy-secret
 * (`oncue incident deploy-secret`). So a rollback call is never unsigned.
 */
#include "incident/incident_int.h"
#include "incident/sql.h"
#include "core/alloc.h"
#include "core/err.h"
#include "core/log.h"
#include "core/webhook.h"
#include "store/store.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECRET_NAME "deploy" /* its row in incident_secrets */

/* Writes value (sealed) under SECRET_NAME at now: INSERT OR IGNORE (sql) keeps a stored one,
 * INSERT OR REPLACE replaces it. Caller holds the store's lock. 0 or OC_EDB. */
static int secret_put(struct store *s, const char *sql, const char *sealed, int64_t now)
{
    struct store_stmt *st;
    int rc = OC_EDB;
    if (store_prepare(s, sql, &st) == 0) {
        STORE_BIND(st, STORE_TEXT(SECRET_NAME), STORE_TEXT(sealed), STORE_INT(now));
        if (store_step(st) == STORE_DONE)
            rc = 0;
        store_reset(st);
    }
    return rc;
}

/* The stored value (malloc'd, sealed) and when it was made. Caller holds the store's lock.
 * 0 or OC_EDB. */
static int secret_get(struct store *s, char **value /* OUT */, int64_t *made /* OUT */)
{
    struct store_stmt *st;
    int rc = OC_EDB;
    *value = NULL;
    if (store_prepare(s, INC_SQL_SECRET_GET, &st) == 0) {
        store_bind_text(st, 1, SECRET_NAME);
        if (store_step(st) == STORE_ROW) {
            *value = oc_strdup(store_col_text(st, 0));
            *made = store_col_int(st, 1);
            rc = 0;
        }
        store_reset(st);
    }
    return rc;
}

int inc_deploy_secret_load(struct incident_mgr *m, char *err, size_t errlen)
{
    struct store *s = m->app->store;
    char fresh[OC_WEBHOOK_SECRET_LEN], *sealed, *stored = NULL, *plain = NULL;
    int64_t now = oc_clock_now_s(m->app->clock), made = now;
    int rc, replaced = 0;
    if (m->o.deploy_secret && m->o.deploy_secret[0])
        return 0;
    oc_webhook_secret_new(fresh, sizeof fresh);
    sealed = store_seal(s, fresh);
    store_lock(s);
    rc = secret_put(s, INC_SQL_SECRET_ADD, sealed, now);
    if (rc == 0)
        rc = secret_get(s, &stored, &made);
    if (rc == 0 && store_unseal(s, stored, &plain) != 0) {
        /* sealed under another key file: a new secret, which receivers must be given */
        rc = secret_put(s, INC_SQL_SECRET_SET, sealed, now);
        if (rc == 0) {
            plain = oc_strdup(fresh);
            made = now;
            replaced = 1;
        }
    }
    if (rc)
        snprintf(err, errlen, "incident: cannot keep the signing secret of rollback calls: %s",
                 store_errmsg(s));
    store_unlock(s);
    sodium_memzero(fresh, sizeof fresh);
    free(sealed);
    free(stored);
    if (rc)
        return rc;
    if (replaced)
        oc_log(OC_LOG_WARN,
               "incident: the stored signing secret of rollback calls does not open with this "
               "oncue.key; a new one was made (GET /v1/notifications/deploy-secret)");
    m->deploy_made = plain;
    m->deploy_made_s = made;
    m->o.deploy_secret = plain;
    return 0;
}

void inc_deploy_secret_free(struct incident_mgr *m)
{
    if (m->deploy_made)
        sodium_memzero(m->deploy_made, strlen(m->deploy_made));
    free(m->deploy_made);
    m->deploy_made = NULL;
}

json_t *incident_deploy_secret_json(struct incident_mgr *m)
{
    char t[32];
    if (!m->deploy_made)
        return json_pack("{s:s, s:n, s:n}", "source", "incident.deploy_secret", "secret",
                         "created");
    inc_iso_time(m->deploy_made_s, t, sizeof t);
    return json_pack("{s:s, s:s, s:s}", "source", "generated", "secret", m->deploy_made, "created",
                     t);
}
