# probe_lib.sh - what the prober's integration tests share (sourced after lib.sh): Debian's
# nginx serving $W on two 127.0.0.1 ports ($PA for cdn-a, $PB for cdn-b) with one fault
# include each, reloaded by nginx_fault; ffmpeg started by the test (FF_PID); helpers that read
# GET /v1/probes and the stored findings of the stream named live. Installs nginx and ffmpeg
# with apt when missing and running as root, else exits 77 (SKIP) saying why.
need=""
command -v ffmpeg >/dev/null || need="$need ffmpeg"
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null || need="$need nginx"
if [ -n "$need" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null 2>&1 ||
            { echo "SKIP: apt-get could not install$need"; exit 77; }
    else
        echo "SKIP: needs$need (Debian packages; install them as root, or run this as root)"
        exit 77
    fi
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
FF_PID=""
NG_PID=""
LAG_PID=""
DEL_PID=""
cleanup_probe() {
    for p in $DEL_PID $LAG_PID $FF_PID $NG_PID; do
        kill -CONT "$p" 2>/dev/null
        kill "$p" 2>/dev/null
    done
    t_cleanup
}
trap cleanup_probe EXIT

chmod 755 "$T_TMP" # nginx's workers may run as nobody
W="$T_TMP/www"
mkdir -p "$W/live" "$T_TMP/ng/logs" "$T_TMP/snaps"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PA=$(free_port)
PB=$(free_port)
: >"$T_TMP/fault-a.conf"
: >"$T_TMP/fault-b.conf"
cat >"$T_TMP/nginx.conf" <<CONF
worker_processes 1;
pid $T_TMP/ng/nginx.pid;
error_log $T_TMP/ng/logs/error.log;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path $T_TMP/ng/body;
    proxy_temp_path $T_TMP/ng/proxy;
    fastcgi_temp_path $T_TMP/ng/fastcgi;
    uwsgi_temp_path $T_TMP/ng/uwsgi;
    scgi_temp_path $T_TMP/ng/scgi;
    types { application/vnd.apple.mpegurl m3u8; video/mp2t ts; application/dash+xml mpd; video/mp4 m4s; }
    server { listen 127.0.0.1:$PA; root $W; include $T_TMP/fault-a.conf; }
    server { listen 127.0.0.1:$PB; root $W; include $T_TMP/fault-b.conf; }
}
CONF
"$NGINX" -g 'daemon off;' -p "$T_TMP/ng" -c "$T_TMP/nginx.conf" 2>"$T_TMP/ng/stderr" &
NG_PID=$!


# start_oncue: the server probing probes.yaml (written by the test), with tokens VIEW and ADMIN;
# the alert and incident modules run too, so findings become alerts and incidents
start_oncue() {
    D="$T_TMP/data"
    mkdir -p "$D"
    VIEW=$(new_token "$D" viewer it-view)
    ADMIN=$(new_token "$D" admin it-admin)
    start_server "$D" --modules catalog,qoe,alert,incident,probe --set probe.file="$T_TMP/probes.yaml" \
        --set probe.outbound_allow=127.0.0.1 --set probe.timeout_ms=1500
}

# as an admin: a viewer sees the URLs cut after the host (test_probe_url_redact.sh)
probes() { curl -s -H "Authorization: Bearer $ADMIN" "$BASE/v1/probes"; }
# active KIND: prints the active finding of KIND on stream live as "pathway: detail", or nothing
active() {
    probes | python3 -c '
import json, sys
for p in json.load(sys.stdin)["probes"]:
    if p["name"] == "live":
        for f in p["findings"]:
            if f["kind"] == sys.argv[1]:
                print(f["detail"])' "$1"
}
# since_ms KIND: when the active finding of KIND on stream live was raised (unix ms, the
# server's clock)
since_ms() {
    probes | python3 -c '
import json, sys
for p in json.load(sys.stdin)["probes"]:
    for f in p["findings"]:
        if p["name"] == "live" and f["kind"] == sys.argv[1]:
            print(f["since_ms"])' "$1"
}
# history KIND STATE: how many stored findings of KIND in STATE (failed / recovered)
history() {
    curl -s -H "Authorization: Bearer $ADMIN" "$BASE/v1/probes/live/findings?limit=500" |
        python3 -c '
import json, sys
print(sum(1 for f in json.load(sys.stdin)["findings"] if f["kind"] == sys.argv[1] and f["state"] == sys.argv[2]))' "$1" "$2"
}
# wait_for SECONDS COMMAND...: runs COMMAND every 0.25 s until it prints something; prints it
wait_for() {
    local until=$(( $(date +%s%N) / 1000000 + $1 * 1000 )) out; shift
    while [ $(( $(date +%s%N) / 1000000 )) -lt "$until" ]; do
        out=$("$@")
        [ -n "$out" ] && [ "$out" != 0 ] && { echo "$out"; return 0; }
        sleep 0.25
    done
    return 1
}
wait_recovered() { # KIND SECONDS: waits until KIND is no longer active and its recovery is stored
    local k=$1 until=$(( $(date +%s) + $2 ))
    while [ "$(date +%s)" -lt "$until" ]; do
        [ -z "$(active "$k")" ] && [ "$(history "$k" recovered)" -ge 1 ] && { echo yes; return; }
        sleep 0.25
    done
    echo no
}
nginx_fault() { # a|b TEXT: the server block's fault include, then a reload
    printf '%s\n' "$2" >"$T_TMP/fault-$1.conf"
    kill -HUP "$NG_PID"
    sleep 0.3
}

# healthy_state: "STATE FINDINGS" once stream live has polled 3 times with every pathway up
healthy_state() {
    probes | python3 -c '
import json,sys
p=json.load(sys.stdin)["probes"][0]
if p["polls"]>=3 and all(x["up"] for x in p["pathways"]): print(p["state"], len(p["findings"]))'
}

# lag_copy FILE SECONDS EXT: in the background (LAG_PID), every second snapshots FILE and
# writes the one taken SECONDS earlier to $T_TMP/lag.EXT (atomically): what a pathway that
# lags the origin by SECONDS serves
lag_copy() {
    local f=$1 behind=$2 ext=$3
    (
        i=0
        while :; do
            cp "$f" "$T_TMP/snaps/$i.$ext"
            [ "$i" -ge "$behind" ] && cp "$T_TMP/snaps/$((i - behind)).$ext" "$T_TMP/lag.tmp" &&
                mv "$T_TMP/lag.tmp" "$T_TMP/lag.$ext"
            i=$((i + 1))
            sleep 1
        done
    ) &
    LAG_PID=$!
}
