#!/usr/bin/env bash
# The real server with its store on PostgreSQL (store.backend postgres; CTest label "pg").
#
# A throwaway PostgreSQL (127.0.0.1, port PG_PORT, default 18629). `oncue token create
# --postgres` writes tokens there; a server with the auth and incident modules takes them,
# declares an incident, and a second server with another data directory on the same database
# (another replica) sees the tokens and the incident with its timeline. The conninfo's password
# appears in no log or error. Skipped (77) without PostgreSQL.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/postgres_lib.sh"
pg_need
trap 'pg_stop; t_cleanup' EXIT
pg_start "${PG_PORT:-18629}" || exit 1
PG="$PG_CONNINFO password=pg-secret-7"
on_pg=(--modules auth,incident --set store.backend=postgres --set "store.postgres=$PG")

t_contains "a postgres backend needs a conninfo" "store.postgres: a PostgreSQL conninfo" \
    "$("$ONCUE_BIN" serve --data "$T_TMP/x" --listen 127.0.0.1:0 --set store.backend=postgres 2>&1)"
out=$("$ONCUE_BIN" serve --data "$T_TMP/x" --listen 127.0.0.1:0 --set store.backend=postgres \
    --set "store.postgres=host=127.0.0.1 port=1 password=pg-secret-7" 2>&1)
t_contains "an unreachable PostgreSQL stops the start" "cannot connect to PostgreSQL" "$out"
t_check "its password is not in the error" 0 "$(echo "$out" | grep -c pg-secret-7)"

ADMIN=$("$ONCUE_BIN" token create --data "$T_TMP/a" --postgres "$PG" --role admin --name ops 2>/dev/null)
RESP=$("$ONCUE_BIN" token create --data "$T_TMP/a" --postgres "$PG" --role responder --name rsp \
    2>/dev/null)
t_check "token create on PostgreSQL" "1 1" "$(pg_sql "SELECT count(*) FROM tokens WHERE name = 'ops'") \
$([ "${#ADMIN}" -ge 32 ] && echo 1)"
t_check "names are unique in the shared store" 1 \
    "$("$ONCUE_BIN" token create --data "$T_TMP/a" --postgres "$PG" --role admin --name ops \
        >/dev/null 2>&1; echo $?)"
t_check "nothing of the store is in the data directory" 0 "$(ls "$T_TMP/a" | grep -c oncue.db)"

start_server "$T_TMP/a" "${on_pg[@]}" || exit 1
t_check "the token opens the API" 200 "$(status GET /v1/tokens -H "Authorization: Bearer $ADMIN")"
t_contains "tokens listed from PostgreSQL" '"name":"rsp"' "$(body | tr -d ' ')"
t_check "declare INC-1" 201 "$(status POST /v1/incidents -H "Authorization: Bearer $RESP" \
    -d '{"alert_id": "reb/EMEA", "metric": "rebuffering_share", "slice": {"region": "EMEA"},
         "value": 0.08, "threshold": 0.05, "op": ">", "level": "page", "summary": "reb EMEA"}')"
t_check "acknowledge INC-1" 200 "$(status POST /v1/incidents/INC-1/ack \
    -H "Authorization: Bearer $RESP" -d '{}')"
stop_server
t_check "first replica stopped cleanly" 0 "$SERVER_RC"

start_server "$T_TMP/b" "${on_pg[@]}" || exit 1
t_check "another replica takes the same token" 200 \
    "$(status GET /v1/incidents/INC-1 -H "Authorization: Bearer $RESP")"
t_contains "and finds the incident acknowledged" '"state":"acknowledged"' "$(body | tr -d ' ')"
t_contains "with its timeline" '"kind":"ack"' "$(body | tr -d ' ')"
t_check "the audit log is in PostgreSQL" 1 \
    "$(pg_sql "SELECT count(*) >= 2 FROM audit WHERE action LIKE '%incident%'" | grep -c t)"
stop_server
t_check "the password is in no log" 0 "$(grep -c pg-secret-7 "$T_TMP/server.log")"
t_done
