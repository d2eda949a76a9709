/*
 * running.c - the catalog of the running catalog module, for other capabilities in the same
 * process (incident paging, the rollback mitigation's deploy webhook, ticket routing). A
 * caller borrows it under the module's read lock with catalog_running_get/put; the module
 * registers itself at init and withdraws at stop, waiting for borrowers to finish.
 */
#include "catalog/module_int.h"
#include "core/err.h"

#include <stdio.h>
#include <string.h>

static pthread_mutex_t running_mu = PTHREAD_MUTEX_INITIALIZER;
static struct catalog_mod *running; /* guarded by running_mu */

void catalog_running_set(struct catalog_mod *m)
{
    pthread_mutex_lock(&running_mu);
    struct catalog_mod *old = running;
    running = m;
    pthread_mutex_unlock(&running_mu);
    if (old && !m) { /* wait until no borrower holds the withdrawn catalog */
        pthread_rwlock_wrlock(&old->lock);
        pthread_rwlock_unlock(&old->lock);
    }
}

int catalog_running_get(struct catalog_ref *ref)
{
    memset(ref, 0, sizeof(*ref));
    pthread_mutex_lock(&running_mu);
    struct catalog_mod *m = running;
    if (m) {
        pthread_rwlock_rdlock(&m->lock);
        ref->cat = m->cat;
        ref->priv = m;
    }
    pthread_mutex_unlock(&running_mu);
    return m ? 0 : OC_ENOTFOUND;
}

void catalog_running_put(struct catalog_ref *ref)
{
    struct catalog_mod *m = ref->priv;
    if (m)
        pthread_rwlock_unlock(&m->lock);
    memset(ref, 0, sizeof(*ref));
}

int catalog_running_route(const struct catalog_slice *slice, const char *service, int64_t at_ms,
                          struct catalog_route *out)
{
    struct catalog_ref ref;
    memset(out, 0, sizeof(*out));
    if (catalog_running_get(&ref) != 0) {
        snprintf(out->reason, sizeof(out->reason), "the catalog module is not running");
        return OC_ENOTFOUND;
    }
    int rc = service ? catalog_route_service(ref.cat, service, at_ms, out)
                     : catalog_route(ref.cat, slice, at_ms, out);
    catalog_running_put(&ref);
    return rc;
}
