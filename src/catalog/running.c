/*
 * running.c - the catalog of the running catalog module, for other capabilities in the same
 * app (incident paging, the rollback mitigation's deploy webhook, ticket routing). The module
 * provides itself under CATALOG_PROVIDES at init and withdraws at stop; a caller borrows the
 * catalog under the module's read lock with catalog_get/catalog_put.
 */
#include "catalog/catalog_int.h"
#include "core/err.h"

#include <stdio.h>
#include <string.h>

int catalog_get(const struct oc_app *app, struct catalog_ref *ref)
{
    struct catalog_mod *m = oc_app_find(app, CATALOG_PROVIDES);
    memset(ref, 0, sizeof(*ref));
    if (!m)
        return OC_ENOTFOUND;
    pthread_rwlock_rdlock(&m->lock);
    ref->cat = m->cat;
    ref->priv = m;
    return 0;
}

void catalog_put(struct catalog_ref *ref)
{
    struct catalog_mod *m = ref->priv;
    if (m)
        pthread_rwlock_unlock(&m->lock);
    memset(ref, 0, sizeof(*ref));
}

int catalog_route_app(const struct oc_app *app, const struct catalog_slice *slice,
                      const char *service, int64_t at_ms, struct catalog_route *out)
{
    struct catalog_ref ref;
    memset(out, 0, sizeof(*out));
    if (catalog_get(app, &ref) != 0) {
        snprintf(out->reason, sizeof(out->reason), "the catalog module is not running");
        return OC_ENOTFOUND;
    }
    int rc = service ? catalog_route_service(ref.cat, service, at_ms, out)
             : slice ? catalog_route(ref.cat, slice, at_ms, out)
                     : catalog_route_default(ref.cat, at_ms, out);
    catalog_put(&ref);
    return rc;
}
