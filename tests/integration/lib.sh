# lib.sh - helpers for shell integration tests: start the real server on 127.0.0.1 port 0,
# call it with curl, count checks, and print "N passed, N failed" at the end.
# Sourced by tests/integration/*.sh; needs $ONCUE_BIN (set by CTest).
set -u
: "${ONCUE_BIN:?ONCUE_BIN must point at the oncue binary}"
T_PASS=0
T_FAIL=0
T_TMP=$(mktemp -d /tmp/oncue-it.XXXXXX)
SERVER_PID=""
trap 't_cleanup' EXIT

t_cleanup() {
    [ -n "$SERVER_PID" ] && kill -9 "$SERVER_PID" 2>/dev/null
    rm -rf "$T_TMP"
}

# t_check NAME EXPECTED ACTUAL
t_check() {
    if [ "$2" = "$3" ]; then
        T_PASS=$((T_PASS + 1)); echo "ok   $1"
    else
        T_FAIL=$((T_FAIL + 1)); echo "FAIL $1: expected [$2], got [$3]"
    fi
}

# t_contains NAME NEEDLE HAYSTACK
t_contains() {
    case "$3" in
    *"$2"*) T_PASS=$((T_PASS + 1)); echo "ok   $1" ;;
    *) T_FAIL=$((T_FAIL + 1)); echo "FAIL $1: [$2] not in [$3]" ;;
    esac
}

t_done() {
    echo "$T_PASS passed, $T_FAIL failed"
    [ "$T_FAIL" -eq 0 ]
    exit $?
}

# start_server DATA_DIR [extra args...]: starts oncue serve on port 0 and sets $BASE.
start_server() {
    local data=$1; shift
    : > "$T_TMP/server.log"
    "$ONCUE_BIN" serve --data "$data" --listen 127.0.0.1:0 "$@" 2>"$T_TMP/server.log" &
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

# new_token DATA ROLE NAME: prints a token created in the data directory.
new_token() {
    "$ONCUE_BIN" token create --data "$1" --role "$2" --name "$3" 2>/dev/null
}
