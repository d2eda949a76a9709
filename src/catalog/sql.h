/*
 * sql.h - every SQL statement of the catalog. The table (store/migrate.c, version 3) holds
 * the services created, edited or deleted through the API, as an overlay applied over the
 * catalog file at every load: doc is the service's JSON, or NULL for a deleted service.
 */
#ifndef OC_CATALOG_SQL_H
#define OC_CATALOG_SQL_H

/* ?1 name, ?2 doc (NULL: deleted), ?3 actor, ?4 updated_ms */
#define CATALOG_SQL_PUT                                                                            \
    "INSERT INTO catalog_services (name, doc, actor, updated_ms) VALUES (?1, ?2, ?3, ?4)"          \
    " ON CONFLICT (name) DO UPDATE SET doc = excluded.doc, actor = excluded.actor,"                \
    " updated_ms = excluded.updated_ms"

/* -> name, doc */
#define CATALOG_SQL_LOAD "SELECT name, doc FROM catalog_services ORDER BY name"

#endif
