/*
 * sql.h - internal to tickets/: every SQL statement of the tickets capability, as named
 * macros. The tables are created by migrations in store/migrate.c: tickets (one row per
 * source and external id: the last update's fields, tags, SimHash, cluster, incident and route) and
 * tickets_outbox (relations to send back to the ticketing system).
 *
 * Written for both backends (docs/internals/store.md, "Shared SQL"): json_extract is SQLite's
 * and, on PostgreSQL, the store's function of the same name answering text, so a number used
 * as one (ordered, added) is CAST AS BIGINT; a condition summed is a CASE; parameters put
 * into an INSERT ... SELECT carry their type, and so does one first tested with IS NULL.
 */
#ifndef OC_TICKETS_SQL_H
#define OC_TICKETS_SQL_H

#define TICKETS_SQL_FIND                                                                           \
    "SELECT id, updated_ms, cluster_id, incident_id FROM tickets WHERE source = ?1 AND"            \
    " ext_id = ?2"
#define TICKETS_SQL_INSERT                                                                         \
    "INSERT INTO tickets(source, ext_id, updated_ms, created_ms, received_ms, subject, body,"      \
    " fields, tags, simhash, cluster_id, incident_id, route) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7,"  \
    " ?8, ?9, ?10, ?11, ?12, ?13)"
#define TICKETS_SQL_UPDATE                                                                         \
    "UPDATE tickets SET updated_ms = ?2, created_ms = ?3, subject = ?4, body = ?5, fields = ?6,"   \
    " tags = ?7, simhash = ?8, route = ?9, responded_ms = CASE WHEN responded_ms = 0 AND"          \
    " lower(?10) <> lower(coalesce(json_extract(fields, '$.status'), '')) THEN ?2 ELSE"            \
    " responded_ms END WHERE id = ?1 AND updated_ms < ?2"
#define TICKETS_SQL_LINK "UPDATE tickets SET incident_id = ?2 WHERE cluster_id = ?1"
#define TICKETS_SQL_OF_CLUSTER                                                                     \
    "SELECT source, ext_id FROM tickets WHERE cluster_id = ?1 ORDER BY id LIMIT ?2"
#define TICKETS_SQL_ALL                                                                            \
    "SELECT id, simhash, tags, updated_ms, received_ms, cluster_id, incident_id FROM tickets"      \
    " ORDER BY id"
#define TICKETS_SQL_SET_CLUSTER "UPDATE tickets SET cluster_id = ?2 WHERE id = ?1"
#define TICKETS_COLS                                                                               \
    "id, source, ext_id, updated_ms, created_ms, received_ms, subject, body, fields, tags,"        \
    " cluster_id, incident_id, route"
#define TICKETS_SQL_GET "SELECT " TICKETS_COLS " FROM tickets WHERE id = ?1"
#define TICKETS_SQL_LIST                                                                           \
    "SELECT " TICKETS_COLS " FROM tickets WHERE (CAST(?1 AS BIGINT) IS NULL OR cluster_id = ?1)"   \
    " AND (CAST(?2 AS BIGINT) IS NULL OR incident_id = ?2) AND (CAST(?3 AS TEXT) IS NULL OR"       \
    " source = ?3) AND (CAST(?4 AS TEXT) IS NULL OR json_extract(tags, '$.service') = ?4) AND"     \
    " (CAST(?5 AS TEXT) IS NULL OR json_extract(tags, '$.symptom') = ?5) AND"                      \
    " (CAST(?6 AS BIGINT) IS NULL OR id < ?6) AND"                                                 \
    " (CAST(?8 AS TEXT) IS NULL OR json_extract(route, '$.queue') = ?8) ORDER BY"                  \
    " CASE WHEN ?9 THEN coalesce(CAST(json_extract(route, '$.rank') AS BIGINT), -1) END,"          \
    " CASE WHEN ?9 THEN coalesce(json_extract(route, '$.respond_by'), '') END,"                    \
    " CASE WHEN ?9 THEN id END, id DESC LIMIT ?7"
#define TICKETS_SQL_OUTBOX_PUT                                                                     \
    "INSERT INTO tickets_outbox(source, ext_id, incident_id, kind, body, created_ms, next_ms,"     \
    " attempts) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, 0)"
/* the due rows: survey requests (?3), Zendesk calls (kinds zd_*, ?5), relations (?4) */
#define TICKETS_SQL_OUTBOX_DUE                                                                     \
    "SELECT id, source, ext_id, kind, body, attempts, incident_id, created_ms FROM tickets_outbox" \
    " WHERE done_ms IS NULL AND next_ms <= ?1 AND ((kind = 'survey' AND ?3) OR"                    \
    " (substr(kind, 1, 3) = 'zd_' AND ?5) OR (kind <> 'survey' AND substr(kind, 1, 3) <> 'zd_'"    \
    " AND ?4)) ORDER BY id LIMIT ?2"
#define TICKETS_SQL_OUTBOX_DONE                                                                    \
    "UPDATE tickets_outbox SET done_ms = ?2, status = ?3, attempts = attempts + 1 WHERE id = ?1"
#define TICKETS_SQL_OUTBOX_RETRY                                                                   \
    "UPDATE tickets_outbox SET next_ms = ?2, status = ?3, attempts = attempts + 1 WHERE id = ?1"
#define TICKETS_SQL_OUTBOX_COUNT_BY                                                                \
    "SELECT count(*), sum(CASE WHEN done_ms IS NULL THEN 1 ELSE 0 END), sum(CASE WHEN status"      \
    " BETWEEN 200 AND 299 THEN 1 ELSE 0 END), CASE WHEN kind = 'survey' THEN 1 WHEN"               \
    " substr(kind, 1, 3) = 'zd_' THEN 2 ELSE 0 END AS sv FROM tickets_outbox GROUP BY sv"
/* the Zendesk relation (zdsync.c): an incident's problem ticket is asked for once (ext_id
 * "INC-7"); its status comments only once it was asked for; the problem's Zendesk id, once
 * made, in store_meta under "tickets.zendesk_problem.ID" */
#define TICKETS_SQL_ZD_PROBLEM_PUT                                                                 \
    "INSERT INTO tickets_outbox(source, ext_id, incident_id, kind, body, created_ms, next_ms,"     \
    " attempts) SELECT 'oncue', CAST(?1 AS TEXT), CAST(?2 AS BIGINT), 'zd_problem',"               \
    " CAST(?3 AS TEXT), CAST(?4 AS BIGINT), CAST(?4 AS BIGINT), 0 WHERE NOT EXISTS (SELECT 1"      \
    " FROM tickets_outbox WHERE kind = 'zd_problem' AND ext_id = ?1)"
#define TICKETS_SQL_ZD_COMMENT_PUT                                                                 \
    "INSERT INTO tickets_outbox(source, ext_id, incident_id, kind, body, created_ms, next_ms,"     \
    " attempts) SELECT 'oncue', CAST(?1 AS TEXT), CAST(?2 AS BIGINT), 'zd_comment',"               \
    " CAST(?3 AS TEXT), CAST(?4 AS BIGINT), CAST(?4 AS BIGINT), 0 WHERE EXISTS (SELECT 1 FROM"     \
    " tickets_outbox WHERE kind = 'zd_problem' AND ext_id = ?1)"
#define TICKETS_SQL_ZD_ID_GET "SELECT value FROM store_meta WHERE key = ?1"
#define TICKETS_SQL_ZD_ID_SET                                                                      \
    "INSERT INTO store_meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value ="    \
    " excluded.value"

/* the post-incident survey (survey.c): the affected accounts (of the incident's linked
 * tickets; each with its latest ticket's segment, tier and service) after ?2, and a request
 * queued unless the account was asked about this incident or since ?5 */
#define TICKETS_SQL_SURVEY_ACCOUNTS                                                                \
    "SELECT a, seg, tier, svc FROM (SELECT json_extract(fields, '$.account') AS a,"                \
    " json_extract(tags, '$.segment') AS seg, json_extract(tags, '$.tier') AS tier,"               \
    " json_extract(tags, '$.service') AS svc, row_number() OVER (PARTITION BY"                     \
    " json_extract(fields, '$.account') ORDER BY id DESC) AS rn FROM tickets WHERE"                \
    " incident_id = ?1) x WHERE rn = 1 AND coalesce(a, '') <> '' AND a > ?2 ORDER BY a LIMIT ?3"
#define TICKETS_SQL_SURVEY_PUT                                                                     \
    "INSERT INTO tickets_outbox(source, ext_id, incident_id, kind, body, created_ms, next_ms,"     \
    " attempts) SELECT 'survey', CAST(?1 AS TEXT), CAST(?2 AS BIGINT), 'survey',"                  \
    " CAST(?3 AS TEXT), CAST(?4 AS BIGINT), CAST(?4 AS BIGINT), 0 WHERE NOT EXISTS (SELECT 1 FROM" \
    " tickets_outbox WHERE kind = 'survey' AND ext_id = ?1 AND (incident_id = ?2 OR"               \
    " created_ms > ?5))"

/* the reports (report.c) */
#define TICKETS_SQL_REP_LINKED                                                                     \
    "SELECT incident_id, json_extract(tags, '$.segment'), json_extract(tags, '$.tier'),"           \
    " json_extract(tags, '$.vip'), json_extract(fields, '$.account'), received_ms FROM tickets"    \
    " WHERE incident_id > 0 ORDER BY id"
#define TICKETS_SQL_REP_RESPONSES                                                                  \
    "SELECT json_extract(route, '$.rank'), (CASE WHEN created_ms > 0 THEN created_ms ELSE"         \
    " received_ms END) + CAST(json_extract(route, '$.respond_min') AS BIGINT) * 60000,"            \
    " responded_ms FROM tickets"                                                                   \
    " WHERE received_ms >= ?1 AND received_ms < ?2 AND json_extract(route, '$.rank') IS NOT NULL"
#define TICKETS_SQL_REP_ACCOUNTS                                                                   \
    "SELECT json_extract(fields, '$.account'), json_extract(tags, '$.segment') FROM tickets"       \
    " WHERE coalesce(json_extract(fields, '$.account'), '') <> '' ORDER BY id"

/* viewer feedback (feedback.c) */
#define TICKETS_SQL_FB_INSERT                                                                      \
    "INSERT INTO tickets_feedback(ext_id, kind, score, text, account, service, segment, tier,"     \
    " region, device, source, incident_id, at_ms, received_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6,"    \
    " ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) ON CONFLICT DO NOTHING"
#define TICKETS_SQL_FB_KEY                                                                         \
    " CASE ?3 WHEN 'service' THEN service WHEN 'segment' THEN segment WHEN 'tier' THEN tier"       \
    " WHEN 'incident' THEN CAST(incident_id AS TEXT) WHEN 'source' THEN source ELSE region END"
#define TICKETS_SQL_FB_SUMS                                                                        \
    " sum(CASE WHEN kind = 'nps' THEN 1 ELSE 0 END), sum(CASE WHEN kind = 'nps' AND score >= 9"    \
    " THEN 1 ELSE 0 END), sum(CASE WHEN kind = 'nps' AND score <= 6 THEN 1 ELSE 0 END),"           \
    " sum(CASE WHEN kind = 'csat' THEN 1 ELSE 0 END), sum(CASE WHEN kind = 'csat' AND score >= 4"  \
    " THEN 1 ELSE 0 END), sum(CASE WHEN kind = 'csat' AND score <= 2 THEN 1 ELSE 0 END),"          \
    " sum(CASE WHEN kind = 'csat' THEN score ELSE 0 END)"
#define TICKETS_SQL_FB_TRENDS                                                                      \
    "SELECT" TICKETS_SQL_FB_KEY " AS k, (at_ms / ?4) * ?4 AS b," TICKETS_SQL_FB_SUMS               \
    " FROM tickets_feedback WHERE at_ms >= ?1 AND at_ms < ?2 GROUP BY k, b ORDER BY k, b"
#define TICKETS_SQL_FB_GROUPS                                                                      \
    "SELECT" TICKETS_SQL_FB_KEY " AS k," TICKETS_SQL_FB_SUMS " FROM tickets_feedback WHERE"        \
    " at_ms >= ?1 AND at_ms < ?2 GROUP BY k ORDER BY k"

#endif
