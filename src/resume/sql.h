/*
 * sql.h - internal to resume/: every SQL statement of the resume capability, as named macros.
 *
 * The table resume_reports is created by migration 9 in store/migrate.c: one row per
 * (profile, title, device), the device's latest report.
 */
#ifndef OC_RESUME_SQL_H
#define OC_RESUME_SQL_H

#define RESUME_SQL_PUT_HEAD                                                                        \
    "INSERT OR REPLACE INTO resume_reports(profile, title, device, session, position_ms,"          \
    " duration_ms, seq, ts_ms, t_ms, since_ms, state) VALUES "
/* One row of values: RESUME_PUT_COLS anonymous parameters, numbered in order. */
#define RESUME_SQL_PUT_ROW "(?,?,?,?,?,?,?,?,?,?,?)"
#define RESUME_PUT_COLS    11
#define RESUME_SQL_PUT     RESUME_SQL_PUT_HEAD RESUME_SQL_PUT_ROW
/* Rows per multi-row put (commit.c): RESUME_PUT_ROWS * RESUME_PUT_COLS parameters, well under
 * SQLite's default limit of 32,766. */
#define RESUME_PUT_ROWS 64
#define RESUME_SQL_DELETE                                                                          \
    "DELETE FROM resume_reports WHERE profile = ?1 AND title = ?2 AND device = ?3"
#define RESUME_SQL_ALL                                                                             \
    "SELECT profile, title, device, session, position_ms, duration_ms, seq, ts_ms, t_ms,"          \
    " since_ms, state FROM resume_reports"

#endif
