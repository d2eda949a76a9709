#!/usr/bin/env bash
# Errors that teach, with the real binary: a mistyped subcommand or option gets "did you mean";
# the API takes ISO 8601 and relative times and says why it refuses milliseconds; an unknown
# metric suggests the closest and lists the valid ones; a beacon stamped in seconds says so.
. "$(dirname "$0")/lib.sh"
D=$T_TMP/data

out=$("$ONCUE_BIN" serv 2>&1); rc=$?
t_check "mistyped command exits 2" 2 "$rc"
t_contains "mistyped command: did you mean" "oncue: unknown command 'serv'; did you mean serve?" "$out"
out=$("$ONCUE_BIN" drill healthy --vewers 10 2>&1)
t_contains "mistyped option: did you mean" \
    "oncue drill: unknown option --vewers; did you mean --viewers? (see oncue drill --help)" "$out"
out=$("$ONCUE_BIN" serve --dta "$D" 2>&1)
t_contains "serve: mistyped option" "oncue serve: unknown option --dta; did you mean --data?" "$out"
out=$("$ONCUE_BIN" serve --set http.wokers=2 2>&1)
t_contains "serve: mistyped setting" "http.wokers: unknown setting; did you mean http.workers?" "$out"
out=$("$ONCUE_BIN" alerts lsit 2>&1)
t_contains "alerts: mistyped command" "oncue alerts: unknown command 'lsit'; did you mean list?" "$out"
out=$("$ONCUE_BIN" token craete 2>&1)
t_contains "token: mistyped command" "oncue token: unknown command 'craete'; did you mean create?" "$out"
out=$("$ONCUE_BIN" incident ak INC-1 2>&1)
t_contains "incident: mistyped action" "oncue incident: unknown action 'ak'; did you mean ack?" "$out"
out=$("$ONCUE_BIN" incident show 2>&1)
t_check "incident: a missing argument is named" "oncue incident show: needs ID" "$(head -1 <<<"$out")"
out=$("$ONCUE_BIN" catalog 2>&1)
t_check "catalog: bare usage says why" "oncue catalog: name a command" "$(head -1 <<<"$out")"
out=$("$ONCUE_BIN" drill emea-cnd 2>&1)
t_contains "drill: mistyped scenario" "unknown scenario emea-cnd; did you mean emea-cdn?" "$out"
out=$("$ONCUE_BIN" sim --scenario emea-cdm --duration 1m 2>&1)
t_contains "sim: neither a scenario nor a file" \
    "emea-cdm: not a built-in scenario (emea-cdn, drm-outage, origin-stall, isp-peering, bad-player-build, blip) nor a file; did you mean emea-cdn?" "$out"
out=$("$ONCUE_BIN" qwerty 2>&1)
t_check "nothing close: no suggestion" "oncue: unknown command 'qwerty'" "$(head -1 <<<"$out")"

# Every usage error says what was wrong (first line, exit 2) and names the closest word.
usage_error() { # NAME EXPECTED-FIRST-LINE ARGS...
    local name=$1 want=$2 out rc
    shift 2
    out=$("$ONCUE_BIN" "$@" 2>&1 </dev/null)
    rc=$?
    t_check "$name: exit 2" 2 "$rc"
    t_check "$name: says why" "$want" "$(head -1 <<<"$out")"
}
usage_error "steer set" \
    "oncue steer: unknown command 'set'; did you mean policy set? (see oncue steer --help)" steer set
usage_error "steer polcy show" \
    "oncue steer: unknown command 'polcy'; did you mean policy? (see oncue steer --help)" \
    steer polcy show
usage_error "steer, bare" \
    "oncue steer: name a command: policy, manifest or measurements (see oncue steer --help)" steer
usage_error "steer policy sho" \
    "oncue steer policy: unknown action 'sho'; did you mean show? (see oncue steer --help)" \
    steer policy sho
usage_error "steer policy set, no file" \
    "oncue steer policy set: needs FILE.json (see oncue steer --help)" steer policy set
usage_error "runbook, bare" "oncue runbook: name an action" runbook
usage_error "runbook lst" "oncue runbook: unknown action 'lst'; did you mean list?" runbook lst
usage_error "report, bare" "oncue report: name a report: automation" report
usage_error "report automaton" "oncue report: unknown report 'automaton'; did you mean automation?" \
    report automaton
usage_error "incident acknowledge" \
    "oncue incident: unknown action 'acknowledge'; did you mean ack?" incident acknowledge INC-1
usage_error "tickets lst" \
    "oncue tickets: unknown command 'lst'; did you mean list? (see oncue tickets --help)" tickets lst
usage_error "tickets show, no id" \
    "oncue tickets show: needs a ticket's id (see oncue tickets --help)" tickets show
usage_error "billing, bare" \
    "oncue billing: name a command: audit verify, show ACCOUNT, storm, royalties or replay PROVIDER ID (see oncue billing --help)" \
    billing
usage_error "billing audit verfy" \
    "oncue billing audit: unknown action 'verfy'; did you mean verify? (see oncue billing --help)" \
    billing audit verfy
usage_error "billing royalties exprt" \
    "oncue billing royalties: unknown action 'exprt'; did you mean export? (see oncue billing --help)" \
    billing royalties exprt 2026-03-02
usage_error "subscription lst" \
    "oncue subscription: unknown command 'lst'; did you mean list? (see oncue subscription --help)" \
    subscription lst
usage_error "subscription add, no url" \
    "oncue subscription add: needs NAME URL (see oncue subscription --help)" subscription add hook
usage_error "promql chek" \
    "oncue promql: unknown command 'chek'; did you mean check? (usage: oncue promql check EXPR...)" \
    promql chek 'up'
usage_error "mitigate shfit-cdn" \
    "oncue mitigate: unknown kind 'shfit-cdn'; did you mean shift-cdn? (see oncue mitigate --help)" \
    mitigate shfit-cdn
usage_error "docs confg" \
    "oncue docs: unknown page 'confg'; did you mean config? (config, api, cli, billing, events, man, bash or zsh)" \
    docs confg
usage_error "an option before the action" \
    "oncue incident: name an action before the options ('--json' came first)" incident --json
usage_error "serve: a word that is no option" \
    "oncue serve: unexpected argument 'zzbad' (it takes options only; see oncue serve --help)" \
    serve zzbad
usage_error "alerts, bare" \
    "oncue alerts: name a command: list, rules, audit, check or openslo (see oncue alerts --help)" \
    alerts
usage_error "runbook show: not an id" \
    "oncue runbook show: 'INC-x' is not an incident id (INC-n) (see oncue runbook show --help)" \
    runbook show INC-x
usage_error "version takes nothing" "oncue version: unexpected argument 'x' (it takes none)" version x

ING=$(new_token "$D" ingest it-ing)
VIEW=$(new_token "$D" viewer it-view)
start_server "$D" || exit 1
V=(-H "Authorization: Bearer $VIEW")
t_check "from=now-1h&to=now" 200 "$(status GET '/v1/qoe?metric=plays&from=now-1h&to=now&step=5m' "${V[@]}")"
t_check "the answer is an hour in 5-minute steps" "3600 300" "$(body | jq -r '"\(.to - .from) \(.step)"')"
t_check "ISO 8601 times" 200 \
    "$(status GET '/v1/qoe?metric=plays&from=2026-03-02T19:00:00Z&to=2026-03-02T21:00:00%2B01:00' "${V[@]}")"
t_check "ISO 8601: from and to (21:00+01:00 is 20:00Z)" "1772478000 1772481600" "$(body | jq -r '"\(.from) \(.to)"')"
t_check "milliseconds refused" 422 "$(status GET '/v1/qoe?metric=plays&from=1772478000000&to=now' "${V[@]}")"
t_check "and said so" "from: '1772478000000' looks like milliseconds; this takes unix seconds" \
    "$(body | jq -r .detail)"
t_check "nonsense time" 400 "$(status GET '/v1/qoe?metric=plays&from=yesterday&to=now' "${V[@]}")"
t_check "metric typo" 422 "$(status GET '/v1/qoe?metric=rebufer_ratio&from=now-1h&to=now' "${V[@]}")"
t_contains "metric typo: did you mean, valid ones" \
    "metric: unknown 'rebufer_ratio'; did you mean rebuffer_ratio? valid: vsf_rate," "$(body | jq -r .detail)"

NOW=$(date +%s)
t_check "a beacon stamped in seconds" 200 "$(status POST /v1/events -H "Authorization: Bearer $ING" \
    -d "[{\"ts\": $NOW, \"type\": \"heartbeat\", \"session\": \"s1\"}]")"
t_check "rejected as ts_in_seconds, with the fix" \
    "ts_in_seconds ts looks like unix seconds; it is unix milliseconds (multiply by 1000)" \
    "$(body | jq -r '.errors[0] | "\(.reason) \(.detail)"')"
t_done
