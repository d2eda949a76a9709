#!/usr/bin/env bash
# GET /v1/incidents a page at a time on the real server: 250 incidents declared by hand
# (POST /v1/incidents, one region each so none joins another), every 5th resolved. Walking
# "next" gives exactly INC-250 .. INC-1 in order, no repeat, no gap, for the default page and
# for limit=7; the Link rel="next" header carries the same URL and both are absent on the last
# page; ?limit= 0, 1001, abc, -1 and empty are 400 problem+json naming limit, a bad before
# names before, an unknown state names state (state=all is no filter, as the console says);
# ?state=open answers every open incident on one
# page unless a limit is given, and then pages with the state kept in "next"; the CLI lists all
# 250 by following "next".
. "$(dirname "$0")/lib.sh"
D=$T_TMP/data
RESP=$(new_token "$D" responder page-resp)
VIEW=$(new_token "$D" viewer page-view)
start_server "$D" || exit 1
N=250

# declare INC-1 .. INC-N (one curl for all, over one connection)
for i in $(seq 1 $N); do
    printf '{"alert_id": "reb/R%d", "metric": "rebuffering_share", "slice": {"region": "R%d"}, "value": 0.08, "threshold": 0.05, "op": ">", "level": "notify", "summary": "s", "test": true}\n' \
        "$i" "$i" >"$T_TMP/d$i.json"
    printf 'url = "%s/v1/incidents"\nheader = "Authorization: Bearer %s"\nheader = "Content-Type: application/json"\ndata-binary = "@%s/d%d.json"\noutput = "/dev/null"\nwrite-out = "%%{http_code}\\n"\n' \
        "$BASE" "$RESP" "$T_TMP" "$i"
    [ "$i" -lt $N ] && echo next
done >"$T_TMP/declare.cfg"
codes=$(curl -s -K "$T_TMP/declare.cfg" | sort | uniq -c | awk '{print $2 "x" $1}')
t_check "$N declarations, each 201" "201x$N" "$codes"
r=0
for i in $(seq 5 5 $N); do
    c=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$BASE/v1/incidents/INC-$i/resolve" \
        -H "Authorization: Bearer $RESP" -d '{"force": true, "reason": "paging test"}')
    [ "$c" = 200 ] && r=$((r + 1))
done
t_check "every 5th resolved" $((N / 5)) "$r"

# get PATH: the body in $T_TMP/body, the headers in $T_TMP/hdr; prints the status
get() {
    curl -s -D "$T_TMP/hdr" -o "$T_TMP/body" -w '%{http_code}' -H "Authorization: Bearer $VIEW" \
        "$BASE$1"
}
link() { tr -d '\r' <"$T_TMP/hdr" | sed -n 's/^[Ll]ink: //p'; }

# walk PATH: follows "next" from PATH; prints the ids of every page, one a line, then
# "pages=K" (a page without 200, a Link header unlike "next" or a page past 1000 ends it with
# "broken at PATH")
walk() {
    local p=$1 k=0 next
    while [ -n "$p" ]; do
        k=$((k + 1))
        if [ "$(get "$p")" != 200 ] || [ $k -gt 1000 ]; then
            echo "broken at $p"; return
        fi
        jq -r '.incidents[].id' "$T_TMP/body"
        next=$(jq -r '.next // empty' "$T_TMP/body")
        if [ "$(link)" != "${next:+<$next>; rel=\"next\"}" ]; then
            echo "broken at $p: Link [$(link)] next [$next]"; return
        fi
        p=$next
    done
    echo "pages=$k"
}
ALL=$(seq $N -1 1 | tr '\n' ' ')
OPEN=$(seq $N -1 1 | awk '$1 % 5' | tr '\n' ' ')
RESOLVED=$(seq $N -5 5 | tr '\n' ' ')
ids() { grep -v pages= <<<"$1" | tr '\n' ' '; }

t_check "first page" 200 "$(get /v1/incidents)"
t_check "100 incidents, INC-250 .. INC-151" "100 INC-250 INC-151" \
    "$(jq -r '"\(.incidents | length) \(.incidents[0].incident_id) \(.incidents[-1].incident_id)"' "$T_TMP/body")"
t_check "next" "/v1/incidents?limit=100&before=INC-151" "$(jq -r .next "$T_TMP/body")"
t_check "Link header" '</v1/incidents?limit=100&before=INC-151>; rel="next"' "$(link)"
w=$(walk /v1/incidents)
t_check "default pages: every id once, newest first" "$ALL" "$(ids "$w")"
t_check "in 3 pages" "pages=3" "$(tail -1 <<<"$w")"
t_check "the last page: no next member" "false" "$(get /v1/incidents?before=INC-51 >/dev/null; jq 'has("next")' "$T_TMP/body")"
t_check "the last page: no Link header" "" "$(link)"
w=$(walk '/v1/incidents?limit=7')
t_check "limit=7: every id once, newest first" "$ALL" "$(ids "$w")"
t_check "limit=7: 36 pages" "pages=36" "$(tail -1 <<<"$w")"
t_check "limit=7: no duplicate" "$N" "$(ids "$w" | tr ' ' '\n' | sort -u | grep -c .)"
w=$(walk '/v1/incidents?state=all&limit=60')
t_check "state=all (the console's All): every id once, as without a state" "$ALL" "$(ids "$w")"
t_check "limit=1000: all on one page, no next" "$N false" \
    "$(get '/v1/incidents?limit=1000' >/dev/null; jq -r '"\(.incidents | length) \(has("next"))"' "$T_TMP/body")"
t_check "limit=250: the full last page has no next" "$N false" \
    "$(get '/v1/incidents?limit=250' >/dev/null; jq -r '"\(.incidents | length) \(has("next"))"' "$T_TMP/body")"
t_check "limit=1" "INC-250 /v1/incidents?limit=1&before=INC-250" \
    "$(get '/v1/incidents?limit=1' >/dev/null; jq -r '"\(.incidents[].incident_id) \(.next)"' "$T_TMP/body")"
t_check "before=7 (a bare number)" "6 5 4 3 2 1 " \
    "$(get '/v1/incidents?before=7' >/dev/null; jq -r '.incidents[].id' "$T_TMP/body" | tr '\n' ' ')"
t_check "before past the newest" "INC-250" \
    "$(get '/v1/incidents?before=INC-9999&limit=1' >/dev/null; jq -r '.incidents[].incident_id' "$T_TMP/body")"

for v in 0 1001 abc -1 '' 10x 99999999999999999999; do
    t_check "limit=$v is 400" 400 "$(get "/v1/incidents?limit=$v")"
    t_check "limit=$v: problem+json naming limit" "application/problem+json limit:" \
        "$(tr -d '\r' <"$T_TMP/hdr" | sed -n 's/^[Cc]ontent-[Tt]ype: \([^;]*\).*/\1/p') $(jq -r '.detail' "$T_TMP/body" | cut -d' ' -f1)"
done
t_check "state=open&limit=0 is 400 too" 400 "$(get '/v1/incidents?state=open&limit=0')"
for v in Open All bogus ''; do
    t_check "state=$v is 400 naming state" "400 state:" \
        "$(get "/v1/incidents?state=$v") $(jq -r '.detail' "$T_TMP/body" | cut -d' ' -f1)"
done
for v in abc INC-0 INC-x ''; do
    t_check "before=$v is 400 naming before" "400 before:" \
        "$(get "/v1/incidents?before=$v") $(jq -r '.detail' "$T_TMP/body" | cut -d' ' -f1)"
done

# the console's open list: every open incident on one page without a limit
t_check "state=open" 200 "$(get '/v1/incidents?state=open')"
t_check "state=open: all 200 open ones, no next" "$OPEN false" \
    "$(jq -r '.incidents[].id' "$T_TMP/body" | tr '\n' ' ') $(jq 'has("next")' "$T_TMP/body")"
t_check "state=open: no Link header" "" "$(link)"
w=$(walk '/v1/incidents?state=open&limit=60')
t_check "state=open&limit=60: every open id once" "$OPEN" "$(ids "$w")"
t_check "state=open&limit=60: 4 pages" "pages=4" "$(tail -1 <<<"$w")"
t_check "state=open&limit=60: next keeps the state" "/v1/incidents?state=open&limit=60&before=INC-176" \
    "$(get '/v1/incidents?state=open&limit=60' >/dev/null; jq -r .next "$T_TMP/body")"
t_check "every one open" '["triggered"]' "$(jq -c '[.incidents[].state] | unique' "$T_TMP/body")"
w=$(walk '/v1/incidents?limit=20&state=resolved')
t_check "state=resolved&limit=20: the 50 resolved" "$RESOLVED" "$(ids "$w")"
t_check "state=resolved&limit=20: 3 pages" "pages=3" "$(tail -1 <<<"$w")"

# an incident declared between two pages comes first on a new walk, never shifts the next page
get '/v1/incidents?limit=100' >/dev/null
NEXT=$(jq -r .next "$T_TMP/body")
t_check "one more declared" 201 "$(status POST /v1/incidents -H "Authorization: Bearer $RESP" \
    -d '{"alert_id": "reb/R251", "metric": "rebuffering_share", "slice": {"region": "R251"}, "level": "notify", "test": true}')"
t_check "the second page is still INC-150 .. INC-51" "INC-150 INC-51" \
    "$(get "$NEXT" >/dev/null; jq -r '"\(.incidents[0].incident_id) \(.incidents[-1].incident_id)"' "$T_TMP/body")"
t_check "a new walk starts with it" "INC-251" \
    "$(get '/v1/incidents?limit=1' >/dev/null; jq -r '.incidents[0].incident_id' "$T_TMP/body")"

export ONCUE_SERVER=$BASE ONCUE_TOKEN=$VIEW
t_check "cli list: all 251, following next" 251 "$("$ONCUE_BIN" incident list | grep -c INC-)"
t_check "cli list --state open: 201" 201 "$("$ONCUE_BIN" incident list --state open | grep -c INC-)"
t_check "cli list --json: the first page with its next" "100 /v1/incidents?limit=100&before=INC-152" \
    "$("$ONCUE_BIN" incident list --json | jq -r '"\(.incidents | length) \(.next)"')"
t_done
