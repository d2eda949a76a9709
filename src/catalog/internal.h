/*
 * internal.h - what the catalog's own files share and no other folder includes: the parse
 * error (which JSON node is wrong, so the YAML loader can name its line) and the parsers
 * from a JSON tree to the model.
 */
#ifndef OC_CATALOG_INTERNAL_H
#define OC_CATALOG_INTERNAL_H

#include "catalog/catalog.h"

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

#endif
