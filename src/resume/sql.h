/*
 * sql.h - internal to resume/: every SQL statement of the resume capability, as named macros.
 *
 * The table resume_reports is created by migration 9 in store/migrate.c: one row per
 * (profile, title, device), the device's latest report.
 */
#ifndef OC_RESUME_SQL_H
#define OC_RESUME_SQL_H

#define RESUME_SQL_PUT                                                                             \
    "INSERT OR REPLACE INTO resume_reports(profile, title, device, session, position_ms,"          \
    " duration_ms, seq, ts_ms, t_ms, since_ms, state)"                                             \
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
#define RESUME_SQL_DELETE                                                                          \
    "DELETE FROM resume_reports WHERE profile = ?1 AND title = ?2 AND device = ?3"
#define RESUME_SQL_ALL                                                                             \
    "SELECT profile, title, device, session, position_ms, duration_ms, seq, ts_ms, t_ms,"          \
    " since_ms, state FROM resume_reports"

#endif
