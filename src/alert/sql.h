/*
 * sql.h - every SQL statement of the alert capability (table alert_firings, created by the
 * alert migration in store/migrate.c). One row per firing: inserted on alert.fired, closed
 * on alert.resolved, marked by incident.acknowledged and incident.opened.
 */
#ifndef OC_ALERT_SQL_H
#define OC_ALERT_SQL_H

#define ALERT_SQL_INSERT                                                                           \
    "INSERT INTO alert_firings (alert_id, rule, source, level, since, fired_at, payload)"          \
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
#define ALERT_SQL_RESOLVE                                                                          \
    "UPDATE alert_firings SET resolved_at = ? WHERE id = (SELECT max(id) FROM alert_firings"       \
    " WHERE alert_id = ?) AND resolved_at IS NULL"
#define ALERT_SQL_IS_OPEN                                                                          \
    "SELECT count(*) FROM alert_firings WHERE alert_id = ? AND resolved_at IS NULL"
#define ALERT_SQL_ACK                                                                              \
    "UPDATE alert_firings SET acked_at = ? WHERE id = (SELECT max(id) FROM alert_firings"          \
    " WHERE alert_id = ?) AND acked_at IS NULL"
#define ALERT_SQL_INCIDENT                                                                         \
    "UPDATE alert_firings SET incident_id = ? WHERE id = (SELECT max(id) FROM alert_firings"       \
    " WHERE alert_id = ?) AND incident_id IS NULL"
#define ALERT_SQL_RECENT                                                                           \
    "SELECT payload, fired_at, resolved_at, acked_at, incident_id FROM alert_firings"              \
    " ORDER BY id DESC LIMIT ?"
#define ALERT_SQL_OPEN                                                                             \
    "SELECT payload FROM alert_firings WHERE resolved_at IS NULL AND source = 'oncue' ORDER BY id"
#define ALERT_SQL_AUDIT                                                                            \
    "SELECT rule, min(level), min(source), count(*), count(acked_at), count(incident_id)"          \
    " FROM alert_firings WHERE fired_at >= ? AND fired_at < ? GROUP BY rule ORDER BY rule"

#endif
