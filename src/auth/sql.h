/*
 * sql.h - internal to auth/: every SQL statement of the auth capability, as named macros.
 *
 * The tables are created by migration 1 in store/migrate.c. Statements are prepared once
 * (store_prepare caches them by text) and bound, stepped and reset per call.
 */
#ifndef OC_AUTH_SQL_H
#define OC_AUTH_SQL_H

#define AUTH_SQL_TOKEN_INSERT                                                                      \
    "INSERT INTO tokens(name, role, hash, created_ms) VALUES (?1, ?2, ?3, ?4)"
#define AUTH_SQL_TOKEN_BY_HASH "SELECT role, name, revoked_ms FROM tokens WHERE hash = ?1"
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

#endif
