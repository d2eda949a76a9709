# clickhouse_lib.sh - starts throwaway clickhouse-servers for a test: each its own directory
# under $CH_ROOT (outside $T_TMP, which is 0700 root: the server runs as its own user),
# 127.0.0.1 only, the given HTTP and native ports, run as the package's user `clickhouse`
# when the test runs as root. Sourced after lib.sh. ch_need exits 77 (skipped, reason
# printed) without clickhouse-server.
CH_PID=""
CH_PIDS=()
CH_ROOT=$(mktemp -d /tmp/oncue-ch.XXXXXX)
chmod 0755 "$CH_ROOT"

ch_need() {
    if [ ! -x /usr/sbin/clickhouse-server ]; then
        echo "SKIP: clickhouse-server is not installed (apt-get install clickhouse-server)"
        rm -rf "$CH_ROOT"
        exit 77
    fi
}

# ch_start HTTP_PORT TCP_PORT: starts a server and waits for /ping; sets CH_URL and CH_PID
# (and adds the PID to CH_PIDS). $CH_EXTRA, when set, is XML added to its configuration (a
# remote_servers section for a Distributed table). Fails when the port answers before the
# server started (another server holds it).
ch_start() {
    local http=$1 tcp=$2 dir=$CH_ROOT/ch-$1 i
    CH_URL="http://127.0.0.1:$http"
    if curl -s -m 1 "$CH_URL/ping" > /dev/null 2>&1; then
        echo "port $http is taken: something answers there already"
        return 1
    fi
    mkdir -p "$dir/data" "$dir/tmp" "$dir/log"
    cat > "$dir/config.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>$dir/log/server.log</log>
    <errorlog>$dir/log/error.log</errorlog><size>10M</size><count>1</count></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>$http</http_port>
  <tcp_port>$tcp</tcp_port>
  <path>$dir/data/</path>
  <tmp_path>$dir/tmp/</tmp_path>
  <user_files_path>$dir/tmp/</user_files_path>
  <users_config>/etc/clickhouse-server/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>268435456</mark_cache_size>
  <uncompressed_cache_size>268435456</uncompressed_cache_size>
  <max_concurrent_queries>50</max_concurrent_queries>
  <timezone>UTC</timezone>
  ${CH_EXTRA:-}
</yandex>
XML
    local run=()
    if [ "$(id -u)" -eq 0 ] && id clickhouse > /dev/null 2>&1; then
        chown -R clickhouse:clickhouse "$dir"
        run=(setpriv --reuid=clickhouse --regid=clickhouse --init-groups)
    fi
    "${run[@]}" /usr/sbin/clickhouse-server --config-file="$dir/config.xml" \
        > "$dir/log/stdout" 2>&1 &
    CH_PID=$!
    CH_PIDS+=("$CH_PID")
    for i in $(seq 1 300); do
        [ "$(curl -s -m 1 "$CH_URL/ping" 2>/dev/null)" = "Ok." ] && return 0
        kill -0 "$CH_PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "clickhouse-server did not start:"
    tail -n 20 "$dir/log/stdout" "$dir/log/error.log" 2>/dev/null
    return 1
}

# ch_stop: SIGTERM to every server ch_start started, SIGKILL to any still there 10 s later,
# then removes their directories.
ch_stop() {
    local p i
    for p in "${CH_PIDS[@]}"; do
        kill "$p" 2>/dev/null
    done
    for p in "${CH_PIDS[@]}"; do
        for i in $(seq 1 100); do
            kill -0 "$p" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    CH_PIDS=()
    CH_PID=""
    rm -rf "$CH_ROOT"
}

# ch_sql SQL: runs one statement over HTTP on $CH_URL, prints the answer (TSV).
ch_sql() {
    curl -s --data-binary "$1" "$CH_URL/"
}
