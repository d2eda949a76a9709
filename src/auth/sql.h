/*
 * sql.h - internal to auth/: every SQL statement of the auth capability, as named macros.
 *
 * The tables are created by migrations 1 (tokens, audit), 8 (sessions) and 12 (ingest_keys) in
 * store/migrate.c (and store/pg_schema.c). The SQL is what SQLite and PostgreSQL both accept.
 * Statements are prepared once (store_prepare caches them by text) and bound, stepped and reset per
 * call.
 */
#ifndef OC_AUTH_SQL_H
#define OC_AUTH_SQL_H

#define AUTH_SQL_TOKEN_INSERT                                                                      \
    "INSERT INTO tokens(name, role, hash, created_ms) VALUES (?1, ?2, ?3, ?4)"
#define AUTH_SQL_TOKEN_BY_HASH "SELECT role, name, revoked_ms, id FROM tokens WHERE hash = ?1"
#define AUTH_SQL_TOKEN_REVOKE                                                                      \
    "UPDATE tokens SET revoked_ms = COALESCE(revoked_ms, ?2) WHERE id = ?1"
#define AUTH_SQL_TOKEN_LIST                                                                        \
    "SELECT id, name, role, created_ms, revoked_ms FROM tokens ORDER BY id LIMIT ?1"
#define AUTH_SQL_AUDIT_INSERT                                                                      \
    "INSERT INTO audit(ts_ms, actor, action, target, status, detail)"                              \
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
#define AUTH_SQL_AUDIT_LIST                                                                        \
    "SELECT id, ts_ms, actor, action, target, status, detail FROM audit"                           \
    " WHERE id < ?1 ORDER BY id DESC LIMIT ?2"
#define AUTH_SQL_SESSION_INSERT                                                                    \
    "INSERT INTO sessions(hash, token_id, role, name, created_ms, expires_ms)"                     \
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
/* a session with its token's revocation: the session ends with its token */
#define AUTH_SQL_SESSION_BY_HASH                                                                   \
    "SELECT s.token_id, s.role, s.name, s.created_ms, s.expires_ms, s.revoked_ms, t.revoked_ms"    \
    " FROM sessions s JOIN tokens t ON t.id = s.token_id WHERE s.hash = ?1"
#define AUTH_SQL_SESSION_REVOKE                                                                    \
    "UPDATE sessions SET revoked_ms = ?2 WHERE hash = ?1 AND revoked_ms IS NULL"
#define AUTH_SQL_SESSION_REVOKE_TOKEN                                                              \
    "UPDATE sessions SET revoked_ms = ?2 WHERE token_id = ?1 AND revoked_ms IS NULL"
/* ends the live sessions of token ?1 but its newest ?2, at ?3 (no LIMIT -1: PostgreSQL too) */
#define AUTH_SQL_SESSION_TRIM                                                                      \
    "UPDATE sessions SET revoked_ms = ?3 WHERE token_id = ?1 AND revoked_ms IS NULL"               \
    " AND expires_ms > ?3 AND id NOT IN (SELECT id FROM sessions"                                  \
    " WHERE token_id = ?1 AND revoked_ms IS NULL AND expires_ms > ?3"                              \
    " ORDER BY id DESC LIMIT ?2)"
/* forgets the sessions that expired or ended before ?1 */
#define AUTH_SQL_SESSION_PURGE "DELETE FROM sessions WHERE expires_ms <= ?1 OR revoked_ms <= ?1"
#define AUTH_SQL_SESSION_LIST                                                                      \
    "SELECT substr(s.hash, 1, 4), s.name, s.role, s.created_ms, s.expires_ms"                      \
    " FROM sessions s JOIN tokens t ON t.id = s.token_id"                                          \
    " WHERE s.revoked_ms IS NULL AND t.revoked_ms IS NULL AND s.expires_ms > ?1"                   \
    " ORDER BY s.id LIMIT ?2"

#define AUTH_SQL_KEY_INSERT                                                                        \
    "INSERT INTO ingest_keys(name, key, origins, rate_per_s, client_per_min, created_ms)"          \
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
#define AUTH_SQL_KEY_BY_KEY                                                                        \
    "SELECT id, name, origins, rate_per_s, client_per_min, revoked_ms FROM ingest_keys"            \
    " WHERE key = ?1"
#define AUTH_SQL_KEY_REVOKE                                                                        \
    "UPDATE ingest_keys SET revoked_ms = COALESCE(revoked_ms, ?2) WHERE id = ?1"
#define AUTH_SQL_KEY_LIST                                                                          \
    "SELECT id, name, key, origins, rate_per_s, client_per_min, created_ms, revoked_ms"            \
    " FROM ingest_keys ORDER BY id LIMIT ?1"

#endif
