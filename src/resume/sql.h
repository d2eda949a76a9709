/*
 * sql.h - internal to resume/: every SQL statement of the resume capability, as named macros.
 *
 * The table resume_reports is created by migration 9 in store/migrate.c: one row per
 * (profile, title, device), the device's latest report. Since resume's own log (commit.c) it
 * is only read, once, at the log's first start (the import of an upgrade).
 */
#ifndef OC_RESUME_SQL_H
#define OC_RESUME_SQL_H

#define RESUME_SQL_ALL                                                                             \
    "SELECT profile, title, device, session, position_ms, duration_ms, seq, ts_ms, t_ms,"          \
    " since_ms, state FROM resume_reports"

#endif
