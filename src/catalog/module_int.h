/*
 * module_int.h - the catalog module's state (state.c), shared with its HTTP handlers
 * (module.c). Readers take lock for reading around every query and copy results out;
 * writers are serialized by write_mu and take lock for writing only to swap or edit.
 */
#ifndef OC_CATALOG_MODULE_INT_H
#define OC_CATALOG_MODULE_INT_H

#include "catalog/catalog.h"

#include <pthread.h>

struct store;

struct catalog_mod {
    pthread_rwlock_t lock;    /* guards cat */
    pthread_mutex_t write_mu; /* serializes mutations and reloads */
    struct catalog *cat;      /* the file plus stored edits; owned */
    struct store *store;      /* where API edits persist; NULL: memory only */
    char *file;               /* catalog.file, or NULL for the embedded example */
};

/* Loads the catalog (file or example, then the stored edits). On failure returns the load
 * error with its message in err. Free with catalog_mod_destroy. */
int catalog_mod_new(struct store *store, const char *file, struct catalog_mod **out /* OUT */,
                    char *err, size_t errlen);
void catalog_mod_destroy(struct catalog_mod *m);
/* Reloads the file and the stored edits; on failure keeps the current catalog. */
int catalog_mod_reload(struct catalog_mod *m, int *nservices /* OUT */, char *err, size_t errlen);
/* Validates s (references, cycles), stores it, then inserts or replaces it; takes ownership
 * of s in every case. create: fail with OC_ECONFLICT when it exists. *created says whether it
 * is new. Errors: OC_EINVAL (bad references), OC_ECONFLICT, OC_ETOOBIG, OC_EDB; err says why. */
int catalog_mod_put(struct catalog_mod *m, struct catalog_service *s, int create, const char *actor,
                    int64_t now_ms, int *created /* OUT */, char *err, size_t errlen);
/* Deletes a service no other service depends on: 0, OC_ENOTFOUND, OC_ECONFLICT or OC_EDB. */
int catalog_mod_delete(struct catalog_mod *m, const char *name, const char *actor, int64_t now_ms,
                       char *err, size_t errlen);

#endif
