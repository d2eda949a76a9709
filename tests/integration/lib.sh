# lib.sh - helpers for shell integration tests: start the real server on 127.0.0.1 port 0,
# call it with curl, count checks, and print "N passed, N failed" at the end.
# Sourced by tests/integration/*.sh; needs $ONCUE_BIN (set by CTest).
# A failed check prints "FAIL NAME: ..." at once; a passed one prints "ok   NAME" only on a
# terminal or with T_VERBOSE=1, so the failures of a test with hundreds of checks lead its
# output under CTest (which keeps only the head of a long output in some reports).
set -u
: "${ONCUE_BIN:?ONCUE_BIN must point at the oncue binary}"
T_PASS=0
T_FAIL=0
if [ -t 1 ] || [ "${T_VERBOSE:-0}" = 1 ]; then T_SHOW_OK=1; else T_SHOW_OK=0; fi
T_TMP=$(mktemp -d /tmp/oncue-it.XXXXXX)
SERVER_PID=""
AM_PID=""
trap 't_cleanup' EXIT

t_cleanup() {
    [ -n "$SERVER_PID" ] && kill -9 "$SERVER_PID" 2>/dev/null
    [ -n "$AM_PID" ] && kill -9 "$AM_PID" 2>/dev/null
    rm -rf "$T_TMP"
}

t_ok() {
    T_PASS=$((T_PASS + 1))
    [ "$T_SHOW_OK" = 1 ] && echo "ok   $1"
    return 0
}

# t_check NAME EXPECTED ACTUAL
t_check() {
    if [ "$2" = "$3" ]; then
        t_ok "$1"
    else
        T_FAIL=$((T_FAIL + 1)); echo "FAIL $1: expected [$2], got [$3]"
    fi
}

# t_contains NAME NEEDLE HAYSTACK
t_contains() {
    case "$3" in
    *"$2"*) t_ok "$1" ;;
    *) T_FAIL=$((T_FAIL + 1)); echo "FAIL $1: [$2] not in [$3]" ;;
    esac
}

t_done() {
    echo "$T_PASS passed, $T_FAIL failed"
    [ "$T_FAIL" -eq 0 ]
    exit $?
}

# pg_store_args DATA_DIR: with ONCUE_TEST_PG set (tests/integration/pg_run.sh, CTest label
# "pg"), fills PG_STORE_ARGS with the settings that put the server's store on that PostgreSQL,
# in a database of its own per data directory (made at its first start), so a new directory
# starts empty and a restart finds its data, as on SQLite. Empty otherwise.
PG_STORE_ARGS=()
pg_store_args() {
    PG_STORE_ARGS=()
    [ -n "${ONCUE_TEST_PG:-}" ] || return 0
    local db
    db=d$(printf '%s' "$1" | sha1sum | cut -c1-16)
    if [ -z "$("$ONCUE_TEST_PG_BIN/psql" "$ONCUE_TEST_PG" -X -A -t -q \
        -c "SELECT 1 FROM pg_database WHERE datname = '$db'")" ]; then
        "$ONCUE_TEST_PG_BIN/psql" "$ONCUE_TEST_PG" -X -q -c "CREATE DATABASE $db" >/dev/null
    fi
    PG_STORE_ARGS=(--set store.backend=postgres --set "store.postgres=$ONCUE_TEST_PG dbname=$db")
    PG_STORE_CONNINFO="$ONCUE_TEST_PG dbname=$db"
}

# start_server DATA_DIR [extra args...]: starts oncue serve on port 0 and sets $BASE (on
# PostgreSQL under the label "pg": pg_store_args).
start_server() {
    local data=$1; shift
    : > "$T_TMP/server.log"
    pg_store_args "$data"
    "$ONCUE_BIN" serve --data "$data" --listen 127.0.0.1:0 "${PG_STORE_ARGS[@]}" "$@" \
        2>"$T_TMP/server.log" &
    SERVER_PID=$!
    local i port=""
    for i in $(seq 1 200); do
        port=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$T_TMP/server.log" | head -1 | cut -d: -f2)
        [ -n "$port" ] && break
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.05
    done
    if [ -z "$port" ]; then
        echo "server did not start:"; cat "$T_TMP/server.log"; return 1
    fi
    BASE="http://127.0.0.1:$port"
}

# stop_server [SIGNAL]: stops the server (default TERM) and waits; sets $SERVER_RC.
stop_server() {
    local sig=${1:-TERM}
    kill -"$sig" "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
    SERVER_RC=$?
    SERVER_PID=""
}

# status METHOD PATH [curl args...]: prints the HTTP status code.
status() {
    local m=$1 p=$2; shift 2
    curl -s -o "$T_TMP/body" -w '%{http_code}' -X "$m" "$BASE$p" "$@"
}

body() { cat "$T_TMP/body"; }

# resume_report DEVICE SEQ POS STATE TS [DURATION]: one resume report body (PUT /v1/resume/...)
# from DEVICE in its session s-DEVICE; DURATION defaults to 3600000 ms.
resume_report() {
    printf '{"position_ms":%s,"duration_ms":%s,"device":"%s","session":"s-%s","seq":%s,"state":"%s","ts":%s}' \
        "$3" "${6:-3600000}" "$1" "$1" "$2" "$4" "$5"
}

# new_token DATA ROLE NAME: prints a token created in the data directory (in its PostgreSQL
# database under the label "pg", pg_store_args).
new_token() {
    pg_store_args "$1"
    if [ -n "${ONCUE_TEST_PG:-}" ]; then
        "$ONCUE_BIN" token create --data "$1" --postgres "$PG_STORE_CONNINFO" --role "$2" \
            --name "$3" 2>/dev/null
    else
        "$ONCUE_BIN" token create --data "$1" --role "$2" --name "$3" 2>/dev/null
    fi
}

# start_alertmanager TOKEN: starts Debian's prometheus-alertmanager on a free 127.0.0.1 port
# with one webhook receiver posting to oncue's $BASE/v1/alerts/alertmanager with TOKEN
# (start_server first); sets $AM (its URL) and checks it is ready.
start_alertmanager() {
    local bin port
    bin=$(command -v prometheus-alertmanager || command -v alertmanager || true)
    if [ -z "$bin" ]; then
        echo "prometheus-alertmanager is not installed (scripts/deps.sh check installs it)"
        return 1
    fi
    # A free port (Alertmanager does not report the port it bound).
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    cat >"$T_TMP/am.yml" <<YML
route:
  receiver: oncue
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: oncue
    webhook_configs:
      - url: $BASE/v1/alerts/alertmanager
        send_resolved: true
        http_config:
          authorization:
            credentials: $1
YML
    "$bin" --config.file="$T_TMP/am.yml" --storage.path="$T_TMP/am" \
        --web.listen-address="127.0.0.1:$port" --cluster.listen-address= \
        >"$T_TMP/am.log" 2>&1 &
    AM_PID=$!
    AM=http://127.0.0.1:$port
    for _ in $(seq 1 100); do
        curl -sf "$AM/-/ready" >/dev/null && break
        sleep 0.1
    done
    t_check "alertmanager ready" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$AM/-/ready")"
}

# serve_node NAME DATA ARGS...: starts `oncue serve` on a free port (a test with several servers:
# collectors, replicas); sets NAME_URL and NAME_PID and adds the PID to the caller's PIDS
# array, which its trap kills.
serve_node() {
    local name=$1 data=$2 port="" i pid
    shift 2
    : > "$T_TMP/$name.log"
    "$ONCUE_BIN" serve --data "$data" --listen 127.0.0.1:0 "$@" 2>>"$T_TMP/$name.log" &
    pid=$!
    PIDS+=("$pid")
    for i in $(seq 1 300); do
        port=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$T_TMP/$name.log" | tail -1 | cut -d: -f2)
        [ -n "$port" ] && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    [ -n "$port" ] || { echo "$name did not start:"; cat "$T_TMP/$name.log"; return 1; }
    printf -v "${name}_URL" 'http://127.0.0.1:%s' "$port"
    printf -v "${name}_PID" '%s' "$pid"
}
