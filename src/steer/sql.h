/*
 * sql.h - every SQL statement of the steer capability (the tables are created by the
 * migration "steer policy, mitigations, follow-ups" in store/migrate.c).
 */
#ifndef OC_STEER_SQL_H
#define OC_STEER_SQL_H

#define STEER_SQL_POLICY_GET "SELECT doc FROM steer_policy WHERE id = 1"

#define STEER_SQL_POLICY_PUT                                                                       \
    "INSERT INTO steer_policy(id, doc, actor, updated_ms) VALUES (1, ?1, ?2, ?3) "                 \
    "ON CONFLICT(id) DO UPDATE SET doc = excluded.doc, actor = excluded.actor, "                   \
    "updated_ms = excluded.updated_ms"

#define STEER_SQL_MIT_INSERT                                                                       \
    "INSERT INTO steer_mitigations(kind, spec, actor, created_ms) VALUES (?1, ?2, ?3, ?4)"

#define STEER_SQL_FOLLOWUP_INSERT                                                                  \
    "INSERT INTO steer_followups(mitigation_id, title, due_ms) VALUES (?1, ?2, ?3)"

#define STEER_SQL_MIT_REVERT                                                                       \
    "UPDATE steer_mitigations SET reverted_ms = ?2, reverted_by = ?3 "                             \
    "WHERE id = ?1 AND reverted_ms IS NULL"

/* The newest records (at most STEER_MAX_RECORDS), oldest first, with their follow-up. */
#define STEER_SQL_MIT_LOAD                                                                         \
    "SELECT m.id, m.spec, m.actor, m.created_ms, m.reverted_ms, f.id, f.due_ms "                   \
    "FROM steer_mitigations m LEFT JOIN steer_followups f ON f.mitigation_id = m.id "              \
    "WHERE m.id IN (SELECT id FROM steer_mitigations ORDER BY id DESC LIMIT 1024) "                \
    "ORDER BY m.id"

#endif
