/*
 * state.c - the catalog a running server holds: the catalog file (or the embedded example)
 * with the API's edits from the store applied over it, behind a read-write lock. Mutations are
 * serialized, validated against the current catalog, committed to the store, and only then
 * applied in memory, so an edit the client saw succeed survives a restart.
 */
#include "catalog/catalog_int.h"
#include "catalog/sql.h"
#include "core/alloc.h"
#include "core/err.h"
#include "core/log.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Applies the stored edits over c. Rows that no longer parse are logged and skipped. */
static int apply_overlay(struct store *st, struct catalog *c)
{
    struct store_stmt *s;
    int rc, step;
    if (!st)
        return 0;
    store_lock(st);
    if ((rc = store_prepare(st, CATALOG_SQL_LOAD, &s)) != 0)
        goto out;
    while ((step = store_step(s)) == STORE_ROW) {
        const char *name = store_col_text(s, 0), *doc = store_col_text(s, 1);
        struct catalog_service *svc = NULL;
        json_t *j = doc ? json_loads(doc, 0, NULL) : NULL;
        char err[CATALOG_ERR_MAX];
        if (!doc)
            catalog_remove_service(c, name);
        else if (j && catalog_service_from_json(j, &svc, err, sizeof(err)) == 0)
            catalog_put_service(c, svc);
        else
            oc_log(OC_LOG_WARN, "catalog: stored service %s skipped: %s", name,
                   j ? err : "not JSON");
        json_decref(j);
    }
    store_reset(s);
    rc = step == STORE_DONE ? 0 : OC_EDB;
out:
    store_unlock(st);
    return rc;
}

/* Loads the file (or the example) and the overlay into a new catalog. */
static int load_all(struct catalog_mod *m, struct catalog **out, char *err, size_t errlen)
{
    struct catalog *c = NULL;
    int rc = m->file ? catalog_load_file(m->file, &c, err, errlen)
                     : catalog_load_example(&c, err, errlen);
    if (rc)
        return rc;
    if ((rc = apply_overlay(m->store, c)) != 0) {
        snprintf(err, errlen, "cannot read stored catalog edits: %s", oc_strerror(rc));
        catalog_destroy(c);
        return rc;
    }
    char msg[CATALOG_ERR_MAX];
    if (catalog_find_cycle(c, msg, sizeof(msg), NULL) != 0)
        oc_log(OC_LOG_WARN, "catalog: stored edits and %s make a %s", c->source, msg);
    *out = c;
    return 0;
}

int catalog_mod_new(struct store *store, const char *file, struct catalog_mod **out, char *err,
                    size_t errlen)
{
    struct catalog_mod *m = oc_calloc(1, sizeof(*m));
    m->store = store;
    m->file = file && file[0] ? oc_strdup(file) : NULL;
    pthread_rwlock_init(&m->lock, NULL);
    pthread_mutex_init(&m->write_mu, NULL);
    int rc = load_all(m, &m->cat, err, errlen);
    if (rc) {
        catalog_mod_destroy(m);
        return rc;
    }
    *out = m;
    return 0;
}

void catalog_mod_destroy(struct catalog_mod *m)
{
    if (!m)
        return;
    catalog_destroy(m->cat);
    free(m->file);
    pthread_rwlock_destroy(&m->lock);
    pthread_mutex_destroy(&m->write_mu);
    free(m);
}

int catalog_mod_reload(struct catalog_mod *m, int *nservices, char *err, size_t errlen)
{
    struct catalog *c = NULL, *old;
    pthread_mutex_lock(&m->write_mu);
    int rc = load_all(m, &c, err, errlen);
    if (rc == 0) {
        pthread_rwlock_wrlock(&m->lock);
        old = m->cat;
        m->cat = c;
        *nservices = c->nservices;
        pthread_rwlock_unlock(&m->lock);
        catalog_destroy(old);
    }
    pthread_mutex_unlock(&m->write_mu);
    return rc;
}

/* Writes the edit of name (doc NULL: deleted) to the store. */
static int persist(struct catalog_mod *m, const char *name, const char *doc, const char *actor,
                   int64_t now_ms)
{
    struct store_stmt *s;
    int rc;
    if (!m->store)
        return 0;
    store_lock(m->store);
    if ((rc = store_prepare(m->store, CATALOG_SQL_PUT, &s)) == 0) {
        STORE_BIND(s, STORE_TEXT(name), STORE_TEXT(doc), STORE_TEXT(actor), STORE_INT(now_ms));
        rc = store_step(s) == STORE_DONE ? 0 : OC_EDB;
        store_reset(s);
    }
    store_unlock(m->store);
    return rc;
}

int catalog_mod_put(struct catalog_mod *m, struct catalog_service *s, int create, const char *actor,
                    int64_t now_ms, int *created, char *err, size_t errlen)
{
    int rc;
    char *doc = NULL;
    pthread_mutex_lock(&m->write_mu); /* only writers change m->cat, so reads need no rdlock */
    *created = catalog_service_find(m->cat, s->name) == NULL;
    if (create && !*created) {
        snprintf(err, errlen, "service %s already exists (PUT /v1/services/%s replaces it)",
                 s->name, s->name);
        rc = OC_ECONFLICT;
        goto out;
    }
    if (*created && m->cat->nservices >= CATALOG_MAX_SERVICES) {
        snprintf(err, errlen, "the catalog holds %d services already", CATALOG_MAX_SERVICES);
        rc = OC_ETOOBIG;
        goto out;
    }
    if ((rc = catalog_check_refs(m->cat, s, err, errlen)) != 0)
        goto out;
    json_t *j = catalog_service_to_json(s);
    doc = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if ((rc = persist(m, s->name, doc, actor, now_ms)) != 0) {
        snprintf(err, errlen, "the store failed");
        goto out;
    }
    pthread_rwlock_wrlock(&m->lock);
    catalog_put_service(m->cat, s); /* cannot fail: the cap was checked above */
    s = NULL;
    pthread_rwlock_unlock(&m->lock);
out:
    pthread_mutex_unlock(&m->write_mu);
    catalog_service_destroy(s);
    free(doc);
    return rc;
}

/* Names of the services that depend on name directly, comma-separated, into out. */
static void dependents(const struct catalog *c, const char *name, char *out, size_t n)
{
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; i < c->nservices && len < n; i++) {
        const struct catalog_strv *d = &c->services[i]->depends_on;
        for (int k = 0; k < d->n; k++)
            if (strcmp(d->v[k], name) == 0 && len < n) {
                len += (size_t)snprintf(out + len, n - len, "%s%s", len ? ", " : "",
                                        c->services[i]->name);
                break;
            }
    }
}

int catalog_mod_delete(struct catalog_mod *m, const char *name, const char *actor, int64_t now_ms,
                       char *err, size_t errlen)
{
    int rc = OC_ENOTFOUND;
    char deps[CATALOG_ERR_MAX / 2];
    pthread_mutex_lock(&m->write_mu);
    if (!catalog_service_find(m->cat, name)) {
        snprintf(err, errlen, "no service named %s", name);
        goto out;
    }
    dependents(m->cat, name, deps, sizeof(deps));
    if (deps[0]) {
        snprintf(err, errlen, "services depend on %s: %s", name, deps);
        rc = OC_ECONFLICT;
        goto out;
    }
    if ((rc = persist(m, name, NULL, actor, now_ms)) != 0) {
        snprintf(err, errlen, "the store failed");
        goto out;
    }
    pthread_rwlock_wrlock(&m->lock);
    catalog_remove_service(m->cat, name);
    pthread_rwlock_unlock(&m->lock);
out:
    pthread_mutex_unlock(&m->write_mu);
    return rc;
}
