/*
 * sql.h - every SQL statement of the incident capability, as named macros.
 *
 * Tables (migration "incident: ..."): incidents (one JSON document per incident plus the
 * columns reports filter on), incident_timeline (append-only: triggers refuse UPDATE and
 * DELETE), incident_followups, incident_endpoints, incident_outbox, incident_attempts;
 * incident_maintenances (migration 13: the status page's scheduled maintenances). The SQL is
 * what SQLite and PostgreSQL both accept (store/pg_schema.c has the PostgreSQL tables).
 */
#ifndef OC_INCIDENT_SQL_H
#define OC_INCIDENT_SQL_H

/* seq, the incident's change number, is ?8: past every row's (the caller takes it from
 * INC_SQL_SEQ_NEXT); the row is written only while its seq is still ?9, the number this
 * replica read it at (-1: no check) */
#define INC_SQL_UPSERT                                                                             \
    "INSERT INTO incidents (id, state, severity, service, opened_s, resolved_s, doc, seq)"         \
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT(id) DO UPDATE SET state = ?2,"           \
    " severity = ?3, service = ?4, resolved_s = ?6, doc = ?7, seq = ?8"                            \
    " WHERE incidents.seq = ?9 OR ?9 < 0"
#define INC_SQL_SEQ_NEXT "SELECT COALESCE(MAX(seq), 0) + 1 FROM incidents"
#define INC_SQL_LOAD     "SELECT id, doc, seq FROM incidents ORDER BY id"
/* the incidents saved since change number ?1 (a claimed id's row has seq 0 until saved) */
#define INC_SQL_CHANGED "SELECT id, doc, seq FROM incidents WHERE seq > ?1 ORDER BY seq LIMIT 1024"
/* PostgreSQL: the session lock that makes one replica at a time change incidents (refresh,
 * apply, save); the key spells "oncue inc" */
#define INC_SQL_PG_TRYLOCK                                                                         \
    "SELECT CASE WHEN pg_try_advisory_lock(28548151547176547) THEN 1 ELSE 0 END"
#define INC_SQL_PG_UNLOCK "SELECT CASE WHEN pg_advisory_unlock(28548151547176547) THEN 1 ELSE 0 END"
/* the highest id in the store, and the claim of a new one (several replicas on one database:
 * the first to insert the row has the id; the document follows at once) */
#define INC_SQL_MAX_ID "SELECT COALESCE(MAX(id), 0) FROM incidents"
#define INC_SQL_CLAIM                                                                              \
    "INSERT INTO incidents (id, state, severity, service, opened_s, doc)"                          \
    " VALUES (?1, 'open', 4, '', ?2, '{}') ON CONFLICT(id) DO NOTHING"

#define INC_SQL_TL_ADD                                                                             \
    "INSERT INTO incident_timeline (incident_id, at_s, kind, actor, text, data, public)"           \
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
#define INC_SQL_TL_LIST                                                                            \
    "SELECT id, at_s, kind, actor, text, data, public FROM incident_timeline"                      \
    " WHERE incident_id = ? ORDER BY at_s, id"
#define INC_SQL_TL_PUBLIC                                                                          \
    "SELECT id, at_s, text, data FROM incident_timeline WHERE incident_id = ? AND public = 1"      \
    " ORDER BY at_s DESC, id DESC"

#define INC_SQL_FU_ADD                                                                             \
    "INSERT INTO incident_followups (incident_id, title, kind, ref, due_s, created_s)"             \
    " VALUES (?, ?, ?, ?, ?, ?)"
#define INC_SQL_FU_DONE                                                                            \
    "UPDATE incident_followups SET done_s = ? WHERE kind = ? AND ref = ? AND done_s IS NULL"
#define INC_SQL_FU_LIST                                                                            \
    "SELECT id, title, kind, ref, due_s, created_s, done_s FROM incident_followups"                \
    " WHERE incident_id = ? ORDER BY id"

#define INC_SQL_EP_ADD                                                                             \
    "INSERT INTO incident_endpoints (name, kind, url, secret, created_s) VALUES (?, ?, ?, ?, ?)"   \
    " ON CONFLICT(name) DO UPDATE SET kind = excluded.kind, url = excluded.url,"                   \
    " secret = excluded.secret, disabled_s = NULL"
#define INC_SQL_EP_ID "SELECT id FROM incident_endpoints WHERE name = ?"
#define INC_SQL_EP_LIVE                                                                            \
    "SELECT id, kind FROM incident_endpoints WHERE disabled_s IS NULL"                             \
    " AND kind NOT IN ('deploy', 'status')"
#define INC_SQL_EP_STATUS                                                                          \
    "SELECT id FROM incident_endpoints WHERE disabled_s IS NULL AND kind = 'status'"
#define INC_SQL_EP_LIST                                                                            \
    "SELECT id, name, kind, url, disabled_s, created_s FROM incident_endpoints ORDER BY id"
/* the status page's first observed second: set once, at the first start with this table */
#define INC_SQL_SINCE_SET                                                                          \
    "INSERT INTO store_meta (key, value) VALUES ('status_since_s', ?) ON CONFLICT DO NOTHING"
#define INC_SQL_SINCE_GET "SELECT value FROM store_meta WHERE key = 'status_since_s'"
/* secrets the server made itself (deploy.c), sealed */
#define INC_SQL_SECRET_ADD                                                                         \
    "INSERT INTO incident_secrets (name, value, created_s) VALUES (?, ?, ?)"                       \
    " ON CONFLICT DO NOTHING"
#define INC_SQL_SECRET_SET                                                                         \
    "INSERT INTO incident_secrets (name, value, created_s) VALUES (?, ?, ?)"                       \
    " ON CONFLICT (name) DO UPDATE SET value = excluded.value, created_s = excluded.created_s"
#define INC_SQL_SECRET_GET "SELECT value, created_s FROM incident_secrets WHERE name = ?"
#define INC_SQL_EP_DISABLE "UPDATE incident_endpoints SET disabled_s = ? WHERE id = ?"
/* endpoints whose URL or secret is still in clear (stored before sealing) */
#define INC_SQL_EP_PLAIN                                                                           \
    "SELECT id FROM incident_endpoints WHERE substr(url, 1, 8) <> 'sealed1:'"                      \
    " OR (secret IS NOT NULL AND substr(secret, 1, 8) <> 'sealed1:') ORDER BY id"
#define INC_SQL_EP_SECRETS "SELECT url, secret FROM incident_endpoints WHERE id = ?"
#define INC_SQL_EP_SEAL    "UPDATE incident_endpoints SET url = ?, secret = ? WHERE id = ?"

#define INC_SQL_OB_ADD                                                                             \
    "INSERT INTO incident_outbox (endpoint_id, msg_id, topic, body, created_s, next_s,"            \
    " attempts, state) VALUES (?, ?, ?, ?, ?, ?, 0, 'pending')"
#define INC_SQL_OB_DUE                                                                             \
    "SELECT o.id, o.msg_id, o.body, o.attempts, o.created_s, e.kind, e.url, e.secret, e.id,"       \
    " o.next_s FROM incident_outbox o JOIN incident_endpoints e ON e.id = o.endpoint_id"           \
    " WHERE o.state = 'pending' AND o.next_s <= ? ORDER BY o.next_s, o.id LIMIT 64"
/* a due message is this replica's to send once it moved its next_s on (several replicas on one
 * database: the other's update then matches no row); one left so by a crash is due again then */
#define INC_SQL_OB_CLAIM                                                                           \
    "UPDATE incident_outbox SET next_s = ? WHERE id = ? AND state = 'pending' AND next_s = ?"
#define INC_SQL_OB_SET                                                                             \
    "UPDATE incident_outbox SET state = ?, next_s = ?, attempts = attempts + 1,"                   \
    " last_status = ? WHERE id = ?"
#define INC_SQL_OB_DISABLE_EP                                                                      \
    "UPDATE incident_outbox SET state = 'disabled' WHERE endpoint_id = ? AND state = 'pending'"
#define INC_SQL_OB_LIST                                                                            \
    "SELECT o.id, o.msg_id, o.topic, o.state, o.attempts, o.last_status, o.created_s,"             \
    " o.next_s, e.name, e.kind FROM incident_outbox o JOIN incident_endpoints e"                   \
    " ON e.id = o.endpoint_id ORDER BY o.id DESC LIMIT ?"
#define INC_SQL_OB_COUNT "SELECT state, count(*) FROM incident_outbox GROUP BY state"
#define INC_SQL_AT_ADD                                                                             \
    "INSERT INTO incident_attempts (outbox_id, at_s, status, error, ms) VALUES (?, ?, ?, ?, ?)"
#define INC_SQL_AT_LIST                                                                            \
    "SELECT at_s, status, error, ms FROM incident_attempts WHERE outbox_id = ? ORDER BY id"

#define INC_SQL_MNT_ADD                                                                            \
    "INSERT INTO incident_maintenances (name, components, body, scheduled_for,"                    \
    " scheduled_until, created_s, created_by) VALUES (?, ?, ?, ?, ?, ?, ?)"
#define INC_SQL_MNT_COUNT "SELECT count(*) FROM incident_maintenances"
#define INC_SQL_MNT_DUE                                                                            \
    "SELECT id, CASE WHEN scheduled_until <= ?1 THEN 'completed' ELSE 'in_progress' END"           \
    " FROM incident_maintenances WHERE (notified = 'scheduled' AND scheduled_for <= ?1)"           \
    " OR (notified = 'in_progress' AND scheduled_until <= ?1) LIMIT 16"
#define INC_SQL_MNT_NOTIFIED "UPDATE incident_maintenances SET notified = ? WHERE id = ?"
#define INC_SQL_MNT_DEL      "DELETE FROM incident_maintenances WHERE id = ?"
#define INC_SQL_MNT_LIST                                                                           \
    "SELECT id, name, components, body, scheduled_for, scheduled_until, created_s, created_by"     \
    " FROM incident_maintenances ORDER BY scheduled_for DESC, id DESC LIMIT ?"

#endif
