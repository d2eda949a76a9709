#!/usr/bin/env bash
# Two control-plane replicas on one PostgreSQL store (docs/internals/lease.md, "Incidents on
# several replicas"): an incident declared through the lease holder A is acknowledged,
# annotated, raised to SEV2, given a follow-up and resolved through B, which does not hold the lease; both
# answer the same state, severity and timeline at once, and A's tick (every second) does not
# overwrite what was written through B. A is killed with SIGKILL: B takes the lease and still
# answers every write; a replica started afterwards loads the same incident from the store.
# A throwaway PostgreSQL (127.0.0.1, port PG_PORT, default 18860). Skipped (77) without it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/postgres_lib.sh"
pg_need
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; pg_stop; t_cleanup' EXIT

pg_start "${PG_PORT:-18860}" || exit 1
PG=$PG_CONNINFO
held() { curl -s -m 5 "$1/metrics" | awk '/^oncue_lease_held\{/{printf "%d", $2}'; }
RESP=$("$ONCUE_BIN" token create --data "$T_TMP/a" --postgres "$PG" --role responder --name it-resp \
    2>/dev/null | tail -1)
for n in b c; do
    mkdir -p "$T_TMP/$n"
    cp "$T_TMP/a/oncue.key" "$T_TMP/$n/oncue.key"
done
REPLICA=(--modules auth,incident --set store.backend=postgres --set "store.postgres=$PG"
    --set "lease.postgres=$PG" --set lease.ttl_s=3)
serve_node A "$T_TMP/a" "${REPLICA[@]}" || exit 1
for _ in $(seq 1 50); do [ "$(held "$A_URL")" = 1 ] && break; sleep 0.1; done
serve_node B "$T_TMP/b" "${REPLICA[@]}" || exit 1
t_check "A holds the lease" 1 "$(held "$A_URL")"
t_check "B does not" 0 "$(held "$B_URL")"

api() { # api URL METHOD PATH [BODY]: prints the status; the body is in $T_TMP/body
    curl -s -m 10 -o "$T_TMP/body" -w '%{http_code}' -X "$2" "$1$3" \
        -H "Authorization: Bearer $RESP" -H 'Content-Type: application/json' ${4:+-d "$4"}
}
# the state, severity and timeline (kind, actor, text) of INC-1 as a replica answers it
seen() {
    api "$1" GET /v1/incidents/INC-1 >/dev/null
    jq -r '"\(.state) \(.severity) \(.acknowledged_at != null)", (.timeline[] | "\(.kind) \(.actor) \(.text)"), (.followups[] | .title)' "$T_TMP/body"
}

t_check "declared through A" 201 "$(api "$A_URL" POST /v1/incidents '{"alert_id": "reb/EMEA", "metric": "rebuffering_share", "slice": {"region": "EMEA"}, "value": 0.08, "threshold": 0.05, "op": ">", "level": "page"}')"
t_check "... as INC-1" INC-1 "$(jq -r .incident_id "$T_TMP/body")"
t_check "B answers it at once" "triggered" "$(api "$B_URL" GET /v1/incidents/INC-1 >/dev/null; jq -r .state "$T_TMP/body")"
t_check "ack through B" 200 "$(api "$B_URL" POST /v1/incidents/INC-1/ack)"
t_check "A answers the ack at once" "acknowledged" "$(api "$A_URL" GET /v1/incidents/INC-1 >/dev/null; jq -r .state "$T_TMP/body")"
t_check "a second ack through A conflicts" 409 "$(api "$A_URL" POST /v1/incidents/INC-1/ack)"
t_check "note through B" 200 "$(api "$B_URL" POST /v1/incidents/INC-1/note '{"text": "FRA cache hit ratio is 12%"}')"
t_check "SEV2 through B" 200 "$(api "$B_URL" POST /v1/incidents/INC-1/severity '{"severity": "SEV2", "reason": "the whole of Europe"}')"
t_check "follow-up through B" 200 "$(api "$B_URL" POST /v1/incidents/INC-1/followups '{"title": "Cache-fill alarm for FRA", "due_hours": 48}')"
t_check "A answers the follow-up" "Cache-fill alarm for FRA" "$(api "$A_URL" GET /v1/incidents/INC-1 >/dev/null; jq -r '.followups[].title' "$T_TMP/body")"
t_check "A's list has it acknowledged, SEV2" "INC-1 acknowledged SEV2" \
    "$(api "$A_URL" GET '/v1/incidents?state=open' >/dev/null; jq -r '.incidents[] | "\(.incident_id) \(.state) \(.severity)"' "$T_TMP/body")"
sleep 2.5 # two ticks of A's: they must not write A's older copy back
t_check "the same incident and timeline through both" "$(seen "$A_URL")" "$(seen "$B_URL")"
t_contains "... the note by it-resp" "note it-resp FRA cache hit ratio is 12%" "$(seen "$A_URL")"
t_contains "... acknowledged, SEV2" "acknowledged SEV2 true" "$(seen "$A_URL")"
t_check "resolve through B" 200 "$(api "$B_URL" POST /v1/incidents/INC-1/resolve '{"force": true, "reason": "synthetic probe"}')"
t_check "A answers it resolved" "resolved SEV2" "$(api "$A_URL" GET /v1/incidents/INC-1 >/dev/null; jq -r '"\(.state) \(.severity)"' "$T_TMP/body")"
t_check "no open incident on A" 0 "$(api "$A_URL" GET '/v1/incidents?state=open' >/dev/null; jq '.incidents | length' "$T_TMP/body")"
before=$(seen "$A_URL")

# kill -9 the holder: B takes the lease and keeps every write
kill -9 "$A_PID"
for _ in $(seq 1 60); do [ "$(held "$B_URL")" = 1 ] && break; sleep 0.1; done
t_check "B takes the lease" 1 "$(held "$B_URL")"
sleep 1.5 # a tick of B's
t_check "B answers what both answered before" "$before" "$(seen "$B_URL")"
serve_node C "$T_TMP/c" "${REPLICA[@]}" || exit 1
t_check "a replica started now loads the same incident" "$before" "$(seen "$C_URL")"
t_check "one incident in the store" 1 "$(pg_sql 'SELECT count(*) FROM incidents')"
t_check "... resolved, SEV2" "resolved|2" "$(pg_sql "SELECT state || '|' || severity FROM incidents")"
t_done
