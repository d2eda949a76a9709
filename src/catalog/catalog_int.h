/*
 * catalog_int.h - what the catalog's own files share and no other folder includes: the parse
 * error (which JSON node is wrong, so the YAML loader can name its line), the parsers from a
 * JSON tree to the model, and the module's state (state.c) shared with its HTTP handlers
 * (module.c).
 */
#ifndef OC_CATALOG_CATALOG_INT_H
#define OC_CATALOG_CATALOG_INT_H

#include "catalog/catalog.h"

#include <pthread.h>

struct store;

/* A parse failure: the node at fault (NULL if none) and a message naming the field. */
struct catalog_perr {
    const json_t *at;          /* the node at fault, or NULL */
    int line;                  /* when not 0, the line at fault (overrides at) */
    char msg[CATALOG_ERR_MAX]; /* names the object and the field */
    /* Set by the YAML loader: the line of a node (0 when unknown). NULL for API bodies. */
    int (*line_of)(const void *map, const json_t *node);
    const void *map;
};

/* Fills c (empty, made by catalog_new) from a whole document: an object with version,
 * people, teams, escalation_policies and services. 0 or OC_EINVAL/OC_ETOOBIG with e set. */
int catalog_parse_doc(const json_t *root, struct catalog *c, struct catalog_perr *e);
/* Parses one service object; the caller owns *out. 0 or OC_EINVAL with e set. */
int catalog_parse_service(const json_t *obj, struct catalog_service **out /* OUT */,
                          struct catalog_perr *e);

/* Sorts every array of c by name; a name given twice fails with OC_EINVAL, e naming the
 * later line (model.c). */
int catalog_sort(struct catalog *c, struct catalog_perr *e);
/* The index of the service named name in c->services, or -1. */
int catalog_service_index(const struct catalog *c, const char *name);
/* Whether service to is reachable by following dependencies from service from (from != to):
 * 1 with "from -> ... -> x" in msg (x being the service that depends on to), else 0. */
int catalog_path_to(const struct catalog *c, const char *from, const char *to, char *msg,
                    size_t msglen);

/* The catalog module's state. Readers take lock for reading around every query and copy
 * results out; writers are serialized by write_mu and take lock for writing only to swap or
 * edit. */
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
