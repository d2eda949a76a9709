#!/usr/bin/env bash
# The foundation over real HTTP: health, 404/405/413/401/403 as problem+json, tokens and the
# audit trail, /metrics accepted by promtool, graceful stop, bad config and module errors.
. "$(dirname "$0")/lib.sh"
D=$T_TMP/data
ADMIN=$("$ONCUE_BIN" token create --data "$D" --role admin --name it-admin 2>/dev/null)
VIEWER=$("$ONCUE_BIN" token create --data "$D" --role viewer --name it-viewer 2>/dev/null)
t_check "admin token format" 47 "${#ADMIN}"
start_server "$D" || exit 1

t_check "healthz" 200 "$(status GET /healthz)"
# the data directory holds secrets (webhook secrets, routing keys, the PII key): owner only
t_check "data directory 0700, database, its WAL and the PII key 0600" "700 600 600 600" \
    "$(stat -c %a "$D" "$D/oncue.db" "$D/oncue.db-wal" "$D/pii.key" | tr '\n' ' ' | sed 's/ $//')"
t_check "readyz" 200 "$(status GET /readyz)"
t_check "unknown route 404" 404 "$(status GET /no/such/route)"
t_contains "404 is problem+json" '"status":404' "$(body)"
ct=$(curl -s -o /dev/null -w '%{content_type}' "$BASE/no/such/route")
t_check "404 content type" "application/problem+json" "$ct"
t_check "wrong method 405" 405 "$(status DELETE /healthz)"

head -c 2097152 /dev/zero | tr '\0' 'x' > "$T_TMP/big"
t_check "2 MB body to a 64 KiB route is 413" 413 \
    "$(status POST /v1/tokens -H "Authorization: Bearer $ADMIN" --data-binary @"$T_TMP/big")"
t_contains "413 names the cap" 'at most' "$(body)"

t_check "no token 401" 401 "$(status GET /v1/tokens)"
t_check "unknown token 401" 401 "$(status GET /v1/tokens -H 'Authorization: Bearer oct_nope')"
t_check "viewer on admin route 403" 403 "$(status GET /v1/tokens -H "Authorization: Bearer $VIEWER")"
t_contains "403 names the role" 'needs the admin role' "$(body)"
t_check "viewer on viewer route" 200 "$(status GET /v1/modules -H "Authorization: Bearer $VIEWER")"
t_check "admin lists tokens" 200 "$(status GET /v1/tokens -H "Authorization: Bearer $ADMIN")"
t_contains "token list has the viewer" '"it-viewer"' "$(body)"

t_check "admin creates a token" 201 "$(status POST /v1/tokens -H "Authorization: Bearer $ADMIN" \
    -H 'Content-Type: application/json' -d '{"name":"made-by-api","role":"responder"}')"
t_check "audit readable" 200 "$(status GET /v1/audit -H "Authorization: Bearer $ADMIN")"
t_contains "audit records the creation" '"POST /v1/tokens"' "$(body)"
t_contains "audit records the actor" '"it-admin"' "$(body)"

curl -s "$BASE/metrics" > "$T_TMP/metrics.txt"
if command -v promtool >/dev/null; then
    out=$(promtool check metrics < "$T_TMP/metrics.txt" 2>&1); rc=$?
    t_check "promtool check metrics accepts /metrics ($out)" 0 "$rc"
else
    t_check "promtool is installed (make check installs prometheus)" yes no
fi
t_contains "metrics count requests by route" 'oncue_http_requests_total{route="POST /v1/tokens",code="2xx"} 1' \
    "$(cat "$T_TMP/metrics.txt")"
t_contains "... and the audit read" 'oncue_http_requests_total{route="GET /v1/audit",code="2xx"} 1' \
    "$(cat "$T_TMP/metrics.txt")"
curl -s "$BASE/no/such/path" >/dev/null
t_contains "a path no route matches counts as unmatched" \
    'oncue_http_requests_total{route="unmatched",code="4xx"}' "$(curl -s "$BASE/metrics")"

stop_server TERM
t_check "SIGTERM exits 0" 0 "$SERVER_RC"
t_contains "graceful stop logged" '"stopped:' "$(cat "$T_TMP/server.log")"

# A bad config file fails start-up with FILE:LINE naming line 7.
cat > "$T_TMP/bad.yaml" <<'YAML'
# oncue test config
store:
  synchronous: full
log:
  level: info
http:
  workers: lots
YAML
out=$("$ONCUE_BIN" serve --config "$T_TMP/bad.yaml" --data "$D" --listen 127.0.0.1:0 2>&1); rc=$?
t_check "bad config exits 2" 2 "$rc"
t_contains "bad config names line 7" "bad.yaml:7:" "$out"
t_contains "bad config names the setting" "http.workers" "$out"

out=$("$ONCUE_BIN" serve --modules nosuch --data "$D" --listen 127.0.0.1:0 2>&1); rc=$?
t_check "unknown module fails" 1 "$rc"
t_contains "unknown module named" '"nosuch"' "$out"
t_done
