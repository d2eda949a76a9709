#!/usr/bin/env bash
# kill -9 during writes, then restart: the store opens and no committed row is lost.
# Four writers create tokens over HTTP (a 201 means the row was committed); the server is
# killed with SIGKILL while they run; after a restart every name that got 201 must be there.
. "$(dirname "$0")/lib.sh"
D=$T_TMP/data
ADMIN=$(new_token "$D" admin crash-admin)
start_server "$D" || exit 1

writer() {
    local w=$1 i code
    for i in $(seq 1 400); do
        code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$BASE/v1/tokens" \
            -H "Authorization: Bearer $ADMIN" -d "{\"name\":\"w$w-$i\",\"role\":\"viewer\"}")
        [ "$code" = 201 ] && echo "w$w-$i" >> "$T_TMP/ok.$w"
        [ "$code" = 000 ] && break
    done
}
for w in 1 2 3 4; do writer $w & done
# Kill once some writes have landed, while the writers are still going.
for i in $(seq 1 200); do
    n=$(cat "$T_TMP"/ok.* 2>/dev/null | wc -l)
    [ "$n" -ge 40 ] && break
    sleep 0.05
done
stop_server KILL
wait
acked=$(cat "$T_TMP"/ok.* | sort)
n_acked=$(echo "$acked" | grep -c .)
echo "writes acknowledged before kill -9: $n_acked"
t_check "some writes were acknowledged" 1 "$([ "$n_acked" -ge 40 ] && echo 1 || echo 0)"

start_server "$D" || exit 1
t_check "restart after kill -9: readyz" 200 "$(status GET /readyz)"
"$ONCUE_BIN" token list --data "$D" --json > "$T_TMP/list.json"
missing=0
for name in $acked; do
    grep -q "\"$name\"" "$T_TMP/list.json" || { missing=$((missing + 1)); echo "lost: $name"; }
done
t_check "acknowledged rows lost after kill -9" 0 "$missing"
stop_server TERM
t_done
