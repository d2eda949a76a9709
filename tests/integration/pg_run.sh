#!/usr/bin/env bash
# pg_run.sh PORT PROGRAM [ARGS...] - runs a unit test program with its store on PostgreSQL
# (CTest label "pg"): starts a throwaway server (postgres_lib.sh) on 127.0.0.1:PORT, runs
# PROGRAM with ONCUE_TEST_PG set to its conninfo (tests/t_store.h; for an integration test,
# lib.sh's start_server) and ONCUE_TEST_PG_BIN to PostgreSQL's programs, stops the server by
# its PID and removes its files. Exits with PROGRAM's status, or 77 (skipped, reason printed) when
# PostgreSQL is not installed.
set -u
port=$1
shift
. "$(dirname "$0")/postgres_lib.sh"
pg_need
trap pg_stop EXIT
pg_start "$port" || exit 1
ONCUE_TEST_PG="$PG_CONNINFO" ONCUE_TEST_PG_BIN="$PG_BIN" "$@"
