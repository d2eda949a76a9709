#!/usr/bin/env bash
# The shipped Grafana dashboards (packaging/grafana/*.json): each is a dashboard JSON model
# of schemaVersion 38 or later with a ${DS_PROMETHEUS} data source input, every panel and
# target uses it, every template variable reads label values, and every panel's expression,
# with its variables at "All" (.*) and at a multi-value pick ((a|b)), parses with `oncue
# promql check` and answers "success" from the real server's /api/v1/query_range.
. "$(dirname "$0")/lib.sh"
D=$T_TMP/data
VIEW=$(new_token "$D" viewer it-view | tail -1)
start_server "$D" --modules builtin,auth,ingest,qoe || exit 1
files=("$ONCUE_SRC"/packaging/grafana/*.json)
t_check "five dashboards" 5 "${#files[@]}"
now=$(date +%s)
for f in "${files[@]}"; do
    n=$(basename "$f")
    t_check "$n: JSON" 0 "$(jq empty "$f" >/dev/null 2>&1; echo $?)"
    t_check "$n: schemaVersion >= 38" true "$(jq '.schemaVersion >= 38' "$f")"
    t_check "$n: a DS_PROMETHEUS input" prometheus \
        "$(jq -r '.__inputs[] | select(.name == "DS_PROMETHEUS") | .pluginId' "$f")"
    t_check "$n: every panel and target uses it" '["${DS_PROMETHEUS}"]' \
        "$(jq -c '[.panels[] | .datasource.uid, .targets[].datasource.uid] | unique' "$f")"
    t_check "$n: variables read label values" true \
        "$(jq '[.templating.list[] | .definition | startswith("label_values(")] | all' "$f")"
    t_check "$n: unique uid" 1 "$(grep -l "\"uid\": \"$(jq -r .uid "$f")\"" "${files[@]}" | wc -l)"
    jq -r '.panels[].targets[].expr' "$f" > "$T_TMP/exprs"
    t_check "$n: panels have expressions" yes "$([ "$(wc -l < "$T_TMP/exprs")" -ge 6 ] && echo yes)"
    while IFS= read -r expr; do
        for v in '.*' '(EMEA|NA)'; do
            e=${expr//\$region/$v}; e=${e//\$cdn/$v}; e=${e//\$isp/$v}; e=${e//\$player/$v}
            out=$("$ONCUE_BIN" promql check "$e"); rc=$?
            t_check "$n: parses: $out" 0 "$rc"
            st=$(curl -s -H "Authorization: Bearer $VIEW" "$BASE/api/v1/query_range" -G \
                --data-urlencode "query=$e" --data-urlencode "start=$((now - 6 * 3600))" \
                --data-urlencode "end=$now" --data-urlencode step=60 | jq -r .status)
            t_check "$n: the server answers it over 6 hours at 1m: $e" success "$st"
        done
    done < "$T_TMP/exprs"
done
t_done
