/*
 * sql.h - every SQL statement of the probe capability (the tables are created by the
 * migration "probe: streams added by the API and the history of findings" in store/migrate.c).
 */
#ifndef OC_PROBE_SQL_H
#define OC_PROBE_SQL_H

#define PROBE_SQL_FINDING_INSERT                                                                   \
    "INSERT INTO probe_findings(stream, kind, state, detail, at_ms) VALUES (?1, ?2, ?3, ?4, ?5)"

/* The newest findings of one stream, newest first (?2: how many). */
#define PROBE_SQL_FINDING_LIST                                                                     \
    "SELECT kind, state, detail, at_ms FROM probe_findings WHERE stream = ?1 "                     \
    "ORDER BY id DESC LIMIT ?2"

/* Keeps the newest ?1 findings. */
#define PROBE_SQL_FINDING_TRIM                                                                     \
    "DELETE FROM probe_findings WHERE id <= (SELECT MAX(id) FROM probe_findings) - ?1"

#define PROBE_SQL_STREAM_PUT                                                                       \
    "INSERT INTO probe_streams(name, doc, created_ms) VALUES (?1, ?2, ?3) "                        \
    "ON CONFLICT(name) DO UPDATE SET doc = excluded.doc, created_ms = excluded.created_ms"

#define PROBE_SQL_STREAM_DELETE "DELETE FROM probe_streams WHERE name = ?1"

#define PROBE_SQL_STREAM_LOAD "SELECT doc FROM probe_streams ORDER BY name"

#endif
