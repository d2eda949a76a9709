# postgres_lib.sh - starts a throwaway PostgreSQL for a test: its own cluster (initdb) under
# $PG_ROOT (outside $T_TMP, which is 0700 root: the server runs as the package's user
# `postgres`, as PostgreSQL refuses root), 127.0.0.1 only, the given port, trust
# authentication for the user `oncue`, fsync off (a test's data need not survive the
# machine). Sourced after lib.sh. pg_need exits 77 (skipped, reason printed) without the
# Debian package `postgresql`.
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
PG_PID=""
PG_ROOT=$(mktemp -d /tmp/oncue-pg.XXXXXX)
chmod 0755 "$PG_ROOT"

pg_need() {
    if [ -z "$PG_BIN" ] || [ ! -x "$PG_BIN/initdb" ]; then
        echo "SKIP: PostgreSQL is not installed (apt-get install postgresql)"
        rm -rf "$PG_ROOT"
        exit 77
    fi
}

# pg_run CMD ARGS...: runs a PostgreSQL program as `postgres` when the test runs as root.
pg_run() {
    if [ "$(id -u)" -eq 0 ]; then
        setpriv --reuid=postgres --regid=postgres --init-groups "$@"
    else
        "$@"
    fi
}

# pg_start PORT: a new cluster, started; sets PG_CONNINFO (libpq) and PG_PID. Fails when the
# port is taken.
pg_start() {
    local port=$1 dir=$PG_ROOT/pg-$1
    mkdir -p "$dir/sock"
    [ "$(id -u)" -eq 0 ] && chown -R postgres:postgres "$dir"
    pg_run "$PG_BIN/initdb" -D "$dir/data" -U oncue -A trust --no-sync > "$dir/initdb.log" 2>&1 ||
        { echo "initdb failed:"; cat "$dir/initdb.log"; return 1; }
    pg_run "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
        -o "-p $port -k $dir/sock -c listen_addresses=127.0.0.1 -c fsync=off" start \
        > "$dir/pg_ctl.log" 2>&1 ||
        { echo "PostgreSQL did not start:"; tail -n 20 "$dir/server.log"; return 1; }
    PG_PID=$(head -1 "$dir/data/postmaster.pid")
    PG_CONNINFO="host=127.0.0.1 port=$port user=oncue dbname=postgres"
}

# pg_stop: a fast shutdown (SIGINT) of the server pg_start started, waited for; then removes
# its files.
pg_stop() {
    local i
    if [ -n "$PG_PID" ]; then
        kill -INT "$PG_PID" 2>/dev/null
        for i in $(seq 1 100); do
            kill -0 "$PG_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$PG_PID" 2>/dev/null
        PG_PID=""
    fi
    rm -rf "$PG_ROOT"
}

# pg_sql SQL: runs SQL with psql, prints the answer unaligned without headers.
pg_sql() {
    "$PG_BIN/psql" "$PG_CONNINFO" -X -A -t -q -c "$1"
}
