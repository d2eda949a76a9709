/*
 * sql.h - internal to qoe/: every SQL statement of the cube's persistence (persist.c) and
 * history reads (history.c), as named macros.
 *
 * The tables are created by migration 4 in store/migrate.c (qoe_values.seen by a later one;
 * store/pg_schema.c on PostgreSQL). The SQL is what SQLite and PostgreSQL both accept.
 * Statements are prepared once (store_prepare caches them by text) and bound, stepped and reset per
 * call.
 */
#ifndef OC_QOE_SQL_H
#define OC_QOE_SQL_H

#define QOE_SQL_VALUE_INS                                                                          \
    "INSERT INTO qoe_values(dim, id, value, seen, events) VALUES (?, ?, ?, ?, ?)"                  \
    " ON CONFLICT (dim, id) DO UPDATE SET value = excluded.value, seen = excluded.seen,"           \
    " events = excluded.events"
#define QOE_SQL_VALUE_SEEN "UPDATE qoe_values SET seen = ?, events = ? WHERE dim = ? AND id = ?"
#define QOE_SQL_VALUE_DEL  "DELETE FROM qoe_values WHERE dim = ? AND id = ?"
#define QOE_SQL_LEAF_INS                                                                           \
    "INSERT INTO qoe_leaves(id, dims) VALUES (?, ?) ON CONFLICT (id) DO UPDATE"                    \
    " SET dims = excluded.dims"
#define QOE_SQL_MINUTE_INS                                                                         \
    "INSERT INTO qoe_minutes(res, t, data) VALUES (?, ?, ?) ON CONFLICT (res, t) DO UPDATE"        \
    " SET data = excluded.data"
#define QOE_SQL_VALUES    "SELECT dim, id, value, seen, events FROM qoe_values ORDER BY dim, id"
#define QOE_SQL_LEAVES    "SELECT id, dims FROM qoe_leaves ORDER BY id"
#define QOE_SQL_MINUTES   "SELECT t, data FROM qoe_minutes WHERE res = 60 AND t >= ? ORDER BY t"
#define QOE_SQL_LAST      "SELECT max(t) FROM qoe_minutes WHERE res = 60"
#define QOE_SQL_LAST_ROLL "SELECT max(t + res) FROM qoe_minutes WHERE res > 60"
#define QOE_SQL_RANGE     "SELECT t, data FROM qoe_minutes WHERE res = ? AND t >= ? AND t < ?"
#define QOE_SQL_DEL_RANGE "DELETE FROM qoe_minutes WHERE res = ? AND t >= ? AND t < ?"
#define QOE_SQL_OLDEST    "SELECT min(t) FROM qoe_minutes WHERE res = ?"
#define QOE_SQL_DEL_OLD   "DELETE FROM qoe_minutes WHERE res = ? AND t < ?"
#define QOE_SQL_HIST_LAST "SELECT max(t) FROM qoe_minutes WHERE res = ? AND t < ?"
#define QOE_SQL_HIST_ROWS                                                                          \
    "SELECT t, data FROM qoe_minutes WHERE res = ? AND t >= ? AND t < ? ORDER BY t"

#endif
