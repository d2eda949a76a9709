# lib.sh - what the bench scripts share (sourced by them).

# listen_port LOG PID: the port `oncue serve --listen 127.0.0.1:0` (process PID, its stderr in
# LOG) listens on, from its "listening on" line; asks the OS when the line is hidden (a
# --log-level above info). Prints "" when the server did not start within 10 s.
listen_port() {
    local log=$1 pid=$2 port=""
    for _ in $(seq 1 200); do
        port=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$log" 2>/dev/null | head -1 | cut -d: -f2) || true
        [ -n "$port" ] && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    if [ -z "$port" ] && kill -0 "$pid" 2>/dev/null; then
        port=$(ss -ltnp 2>/dev/null | grep "pid=$pid," | grep -o '127.0.0.1:[0-9]*' | head -1 |
            cut -d: -f2)
    fi
    echo "$port"
}
