/*
 * sql.h - every SQL statement of the automation capability (tables: migration "automation:
 * event subscriptions" in store/migrate.c). URLs and signing keys are stored sealed
 * (store/seal.c). Times are milliseconds on the app's clock.
 */
#ifndef OC_AUTOMATION_SQL_H
#define OC_AUTOMATION_SQL_H

#define AUTO_SQL_SUB_ADD                                                                           \
    "INSERT INTO auto_subs (name, url, keys, topics, state, created_ms, changed_ms)"               \
    " VALUES (?1, ?2, ?3, ?4, 'live', ?5, ?5)"
#define AUTO_SQL_SUB_COUNT "SELECT count(*) FROM auto_subs"
#define AUTO_SQL_SUB_GET                                                                           \
    "SELECT id, name, url, keys, topics, state, reason, created_ms, changed_ms FROM auto_subs"     \
    " WHERE name = ?1"
#define AUTO_SQL_SUB_LIST                                                                          \
    "SELECT id, name, url, keys, topics, state, reason, created_ms, changed_ms FROM auto_subs"     \
    " ORDER BY name"
#define AUTO_SQL_SUB_FILTERS "SELECT id, topics FROM auto_subs"
#define AUTO_SQL_SUB_KEYS    "UPDATE auto_subs SET keys = ?2, changed_ms = ?3 WHERE id = ?1"
#define AUTO_SQL_SUB_STATE                                                                         \
    "UPDATE auto_subs SET state = ?2, reason = ?3, changed_ms = ?4 WHERE id = ?1"
#define AUTO_SQL_SUB_DEL     "DELETE FROM auto_subs WHERE id = ?1"
#define AUTO_SQL_MSG_DEL_SUB "DELETE FROM auto_msgs WHERE sub_id = ?1"
#define AUTO_SQL_ATT_DEL_SUB                                                                       \
    "DELETE FROM auto_attempts WHERE msg IN (SELECT id FROM auto_msgs WHERE sub_id = ?1)"
#define AUTO_SQL_MSG_PENDING                                                                       \
    "SELECT count(*) FROM auto_msgs WHERE sub_id = ?1 AND state = 'pending'"
#define AUTO_SQL_MSG_ADD                                                                           \
    "INSERT INTO auto_msgs (sub_id, msg_id, topic, body, state, attempts, next_ms, created_ms)"    \
    " VALUES (?1, ?2, ?3, ?4, 'pending', 0, ?5, ?5)"
#define AUTO_SQL_MSG_DUE                                                                           \
    "SELECT m.id, m.msg_id, m.body, m.attempts, s.id, s.url, s.keys FROM auto_msgs m"              \
    " JOIN auto_subs s ON s.id = m.sub_id WHERE m.state = 'pending' AND m.next_ms <= ?1"           \
    " AND s.state = 'live' ORDER BY m.next_ms, m.id LIMIT ?2"
#define AUTO_SQL_MSG_SET                                                                           \
    "UPDATE auto_msgs SET state = ?2, attempts = attempts + 1, next_ms = ?3, last_status = ?4,"    \
    " done_ms = ?5 WHERE id = ?1 AND state = 'pending'"
#define AUTO_SQL_MSG_HOLD                                                                          \
    "UPDATE auto_msgs SET next_ms = ?2 WHERE sub_id = ?1 AND state = 'pending' AND next_ms < ?2"
#define AUTO_SQL_ATT_ADD                                                                           \
    "INSERT INTO auto_attempts (msg, at_ms, attempt, status, error, ms, retry_after, next_ms)"     \
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
#define AUTO_SQL_MSG_LIST                                                                          \
    "SELECT msg_id, topic, state, attempts, last_status, next_ms, created_ms, done_ms"             \
    " FROM auto_msgs WHERE sub_id = ?1 AND (CAST(?2 AS TEXT) IS NULL OR state = ?2) ORDER BY id"   \
    " DESC LIMIT ?3"
#define AUTO_SQL_MSG_ONE                                                                           \
    "SELECT id, msg_id, topic, state, attempts, last_status, next_ms, created_ms, done_ms, body"   \
    " FROM auto_msgs WHERE sub_id = ?1 AND msg_id = ?2"
#define AUTO_SQL_ATT_LIST                                                                          \
    "SELECT at_ms, attempt, status, error, ms, retry_after, next_ms FROM auto_attempts"            \
    " WHERE msg = ?1 ORDER BY id"
#define AUTO_SQL_MSG_COUNTS                                                                        \
    "SELECT count(CASE WHEN state = 'pending' THEN 1 END), count(CASE WHEN state = 'delivered'"    \
    " THEN 1 END), count(CASE WHEN state = 'failed' THEN 1 END) FROM auto_msgs WHERE sub_id = ?1"
#define AUTO_SQL_MSG_REPLAY                                                                        \
    "UPDATE auto_msgs SET state = 'pending', attempts = 0, next_ms = ?3, done_ms = NULL"           \
    " WHERE sub_id = ?1 AND msg_id = ?2"
#define AUTO_SQL_MSG_REPLAY_RANGE                                                                  \
    "UPDATE auto_msgs SET state = 'pending', attempts = 0, next_ms = ?4, done_ms = NULL"           \
    " WHERE sub_id = ?1 AND created_ms >= ?2 AND (?3 = 'all' OR state = ?3)"                       \
    " AND state != 'pending'"
#define AUTO_SQL_MSG_RESUME                                                                        \
    "UPDATE auto_msgs SET next_ms = ?2 WHERE sub_id = ?1 AND state = 'pending'"
#define AUTO_SQL_TRIM_ATT                                                                          \
    "DELETE FROM auto_attempts WHERE msg IN (SELECT id FROM auto_msgs WHERE state != 'pending'"    \
    " AND done_ms < ?1)"
#define AUTO_SQL_TRIM_MSG "DELETE FROM auto_msgs WHERE state != 'pending' AND done_ms < ?1"
#define AUTO_SQL_NEXT_DUE                                                                          \
    "SELECT min(m.next_ms) FROM auto_msgs m JOIN auto_subs s ON s.id = m.sub_id"                   \
    " WHERE m.state = 'pending' AND s.state = 'live'"

#endif
