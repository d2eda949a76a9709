#!/usr/bin/env bash
# Tokens and audit end to end: `oncue token create|list|revoke` (output, errors, exit codes)
# and the admin routes /v1/tokens and /v1/audit over real HTTP (422 naming fields, 409, 204,
# 404, a revoked token refused, paging the audit log).
. "$(dirname "$0")/lib.sh"
D=$T_TMP/data

# --- the CLI ---
"$ONCUE_BIN" token create --data "$D" --role admin --name cli-admin >"$T_TMP/out" 2>"$T_TMP/err"
t_check "create exits 0" 0 "$?"
ADMIN=$(cat "$T_TMP/out")
t_check "create prints one line" 1 "$(wc -l <"$T_TMP/out")"
t_check "token is 47 characters" 47 "${#ADMIN}"
t_check "token starts with oct_" oct_ "${ADMIN:0:4}"
t_contains "hint on stderr" "shown only once" "$(cat "$T_TMP/err")"
t_check "data dir is private" 700 "$(stat -c %a "$D")"

"$ONCUE_BIN" token create --data "$D" --role admin --name cli-admin >/dev/null 2>"$T_TMP/err"
t_check "duplicate name exits 1" 1 "$?"
t_contains "duplicate name explained" "exists already" "$(cat "$T_TMP/err")"
"$ONCUE_BIN" token create --data "$D" --role root --name x >/dev/null 2>"$T_TMP/err"
t_check "bad role exits 2" 2 "$?"
t_contains "bad role explained" "--role must be" "$(cat "$T_TMP/err")"
"$ONCUE_BIN" token create --data "$D" --role viewer --name 'bad name' >/dev/null 2>&1
t_check "bad name exits 2" 2 "$?"
"$ONCUE_BIN" token create --data "$D" --role viewer >/dev/null 2>"$T_TMP/err"
t_check "missing --name exits 2" 2 "$?"
t_contains "missing --name explained" "missing --name" "$(cat "$T_TMP/err")"
"$ONCUE_BIN" token create --data "$D" --role viewer --name v --bogus >/dev/null 2>&1
t_check "unknown option exits 2" 2 "$?"
t_contains "create --help" "--role ROLE" "$("$ONCUE_BIN" token create --help)"
t_contains "token --help lists commands" "revoke" "$("$ONCUE_BIN" token --help)"
"$ONCUE_BIN" token frobnicate >/dev/null 2>&1
t_check "unknown token command exits 2" 2 "$?"

VIEWER=$("$ONCUE_BIN" token create --data="$D" --role viewer --name cli-viewer 2>/dev/null)
t_check "--data=DIR form works" 47 "${#VIEWER}"
list=$("$ONCUE_BIN" token list --data "$D")
t_contains "list shows the admin" "cli-admin" "$list"
t_contains "list has a header" "CREATED" "$list"
json=$("$ONCUE_BIN" token list --data "$D" --json)
t_contains "list --json" '"name":"cli-viewer","role":"viewer"' "$json"
case "$list$json" in *"$ADMIN"* | *"${ADMIN:4}"*) leaked=yes ;; *) leaked=no ;; esac
t_check "list never shows a secret" no "$leaked"
"$ONCUE_BIN" token list --data "$T_TMP/nowhere" >/dev/null 2>"$T_TMP/err"
t_check "list of a missing store exits 1" 1 "$?"
t_contains "missing store explained" "no store in" "$(cat "$T_TMP/err")"
t_check "list did not create the directory" no "$([ -e "$T_TMP/nowhere" ] && echo yes || echo no)"

# --- HTTP ---
start_server "$D" || exit 1
A=(-H "Authorization: Bearer $ADMIN")
J=(-H 'Content-Type: application/json')
t_check "viewer token works" 403 "$(status GET /v1/tokens -H "Authorization: Bearer $VIEWER")"
t_check "POST missing name 422" 422 "$(status POST /v1/tokens "${A[@]}" "${J[@]}" -d '{"role":"viewer"}')"
t_contains "422 names name" 'name: required' "$(body)"
t_check "POST bad role 422" 422 "$(status POST /v1/tokens "${A[@]}" "${J[@]}" -d '{"name":"n","role":"god"}')"
t_contains "422 names role" 'role: required' "$(body)"
t_check "POST unknown field 422" 422 \
    "$(status POST /v1/tokens "${A[@]}" "${J[@]}" -d '{"name":"n","role":"viewer","ttl":5}')"
t_contains "422 names the unknown field" 'ttl: unknown field' "$(body)"
t_check "POST not JSON 400" 400 "$(status POST /v1/tokens "${A[@]}" "${J[@]}" -d 'nope')"
t_check "POST duplicate 409" 409 \
    "$(status POST /v1/tokens "${A[@]}" "${J[@]}" -d '{"name":"cli-viewer","role":"viewer"}')"
t_check "POST creates 201" 201 \
    "$(status POST /v1/tokens "${A[@]}" "${J[@]}" -d '{"name":"api-bot","role":"ingest"}')"
created=$(body)
t_contains "201 returns the role" '"role":"ingest"' "$created"
BOT=$(printf '%s' "$created" | sed -n 's/.*"token":"\(oct_[A-Za-z0-9_-]*\)".*/\1/p')
BOT_ID=$(printf '%s' "$created" | sed -n 's/.*"id":\([0-9]*\).*/\1/p')
t_check "201 returns a token" 47 "${#BOT}"
t_check "the new token authenticates" 403 "$(status GET /v1/tokens -H "Authorization: Bearer $BOT")"
t_check "GET /v1/tokens" 200 "$(status GET /v1/tokens "${A[@]}")"
t_contains "list has the API-made token" '"api-bot"' "$(body)"
case "$(body)" in *oct_*) leaked=yes ;; *) leaked=no ;; esac
t_check "GET /v1/tokens shows no secret" no "$leaked"
t_check "DELETE revokes 204" 204 "$(status DELETE "/v1/tokens/$BOT_ID" "${A[@]}")"
t_check "revoked token is refused" 401 "$(status GET /v1/tokens -H "Authorization: Bearer $BOT")"
t_check "DELETE unknown 404" 404 "$(status DELETE /v1/tokens/9999 "${A[@]}")"
t_check "DELETE non-numeric 404" 404 "$(status DELETE /v1/tokens/abc "${A[@]}")"

# revoked from the CLI while the server runs: refused once the cache entry expires (<= 5 s)
"$ONCUE_BIN" token revoke --data "$D" 2 2>/dev/null
t_check "CLI revoke exits 0" 0 "$?"
"$ONCUE_BIN" token revoke --data "$D" 999 2>"$T_TMP/err"
t_check "CLI revoke unknown exits 1" 1 "$?"
"$ONCUE_BIN" token revoke --data "$D" x2 2>/dev/null
t_check "CLI revoke bad id exits 2" 2 "$?"

t_check "audit list" 200 "$(status GET '/v1/audit?limit=2' "${A[@]}")"
page=$(body)
t_contains "audit newest first: the CLI revoke of 999" '"target":"999"' "${page%%\},\{*}"
t_contains "audit has the failed revoke" '"action":"token revoke","target":"999","status":404' "$page"
t_contains "audit pages" '"next_before":' "$page"
t_check "audit bad limit 422" 422 "$(status GET '/v1/audit?limit=zero' "${A[@]}")"
t_check "audit before=1 is empty" 200 "$(status GET '/v1/audit?before=1' "${A[@]}")"
t_contains "audit before=1 has no entries" '"entries":[]' "$(body)"
t_check "audit all" 200 "$(status GET '/v1/audit?limit=5000' "${A[@]}")"
t_contains "audit keeps the CLI creation" '"actor":"cli","action":"token create"' "$(body)"
t_contains "audit keeps the API creation" '"actor":"cli-admin","action":"POST /v1/tokens"' "$(body)"
t_contains "audit keeps the 404 delete" '"action":"DELETE /v1/tokens/abc","target":"abc","status":404' "$(body)"
stop_server TERM
t_done
