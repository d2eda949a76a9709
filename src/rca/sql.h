/*
 * sql.h - every SQL statement of the rca capability (the `changes` table, migration 7).
 */
#ifndef OC_RCA_SQL_H
#define OC_RCA_SQL_H

#define RCA_SQL_CHANGE_INSERT                                                                      \
    "INSERT INTO changes (time, service, kind, description, version, actor, created_ms)"           \
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"

/* ?1 since, ?2 until (inclusive), ?3 service or NULL, ?4 limit; newest first. */
#define RCA_SQL_CHANGE_LIST                                                                        \
    "SELECT id, time, service, kind, description, version, actor FROM changes"                     \
    " WHERE time >= ?1 AND time <= ?2 AND (CAST(?3 AS TEXT) IS NULL OR service = ?3)"              \
    " ORDER BY time DESC, id DESC LIMIT ?4"

#endif
