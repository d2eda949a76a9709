/*
 * sql.h - internal to search/: every SQL statement of the search capability, as named macros.
 *
 * The table search_titles is created by migration 10 in store/migrate.c: one row per title
 * id with the title's JSON (NULL once deleted: a tombstone until a snapshot covers it) and
 * the generation (one per write request) that last wrote it. A snapshot at generation G drops
 * the tombstones older than G, never those of G itself, so max(gen) never goes back.
 */
#ifndef OC_SEARCH_SQL_H
#define OC_SEARCH_SQL_H

#define SEARCH_SQL_PUT                                                                             \
    "INSERT INTO search_titles(id, doc, gen) VALUES (?1, ?2, ?3)"                                  \
    " ON CONFLICT(id) DO UPDATE SET doc = excluded.doc, gen = excluded.gen"
#define SEARCH_SQL_DELETE                                                                          \
    "UPDATE search_titles SET doc = NULL, gen = ?2 WHERE id = ?1 AND doc IS NOT NULL"
#define SEARCH_SQL_GEN   "SELECT coalesce(max(gen), 0) FROM search_titles"
#define SEARCH_SQL_SINCE "SELECT id, doc FROM search_titles WHERE gen > ?1 ORDER BY gen"
#define SEARCH_SQL_PURGE "DELETE FROM search_titles WHERE doc IS NULL AND gen < ?1"

#endif
