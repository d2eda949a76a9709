/*
 * sql.h - every SQL statement of the gate capability (the `gate_freezes` table).
 */
#ifndef OC_GATE_SQL_H
#define OC_GATE_SQL_H

#define GATE_SQL_FREEZE_INSERT                                                                     \
    "INSERT INTO gate_freezes (service, from_s, to_s, reason, actor, created_ms)"                  \
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"

#define GATE_SQL_FREEZE_COLS "id, service, from_s, to_s, reason, actor, created_ms"

/* ?1 since: freezes ending after it, soonest first. */
#define GATE_SQL_FREEZE_LIST                                                                       \
    "SELECT " GATE_SQL_FREEZE_COLS " FROM gate_freezes WHERE to_s > ?1"                            \
    " ORDER BY from_s, id LIMIT 1000"

/* ?1 service, ?2 now: the freezes on it or on every service active now. */
#define GATE_SQL_FREEZE_ACTIVE                                                                     \
    "SELECT " GATE_SQL_FREEZE_COLS " FROM gate_freezes"                                            \
    " WHERE (service = ?1 OR service = '*') AND from_s <= ?2 AND to_s > ?2 ORDER BY from_s, id"    \
    " LIMIT 100"

#define GATE_SQL_FREEZE_GET "SELECT " GATE_SQL_FREEZE_COLS " FROM gate_freezes WHERE id = ?1"

#define GATE_SQL_FREEZE_DELETE "DELETE FROM gate_freezes WHERE id = ?1"

#endif
