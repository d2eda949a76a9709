# Test discovery. One executable per file; the folder gives the CTest label (docs/ARCHITECTURE.md "Build and tests").
enable_testing()

function(oc_add_c_tests dir label)
  file(GLOB files CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/${dir}/test_*.c)
  foreach(f ${files})
    get_filename_component(name ${f} NAME_WE)
    add_executable(${name} ${f})
    target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/tests)
    target_link_libraries(${name} PRIVATE oncue_lib)
    add_test(NAME ${label}/${name} COMMAND ${name})
    set_tests_properties(${label}/${name} PROPERTIES LABELS ${label}
      ENVIRONMENT "ONCUE_BIN=$<TARGET_FILE:oncue>;ONCUE_SRC=${CMAKE_SOURCE_DIR}"
      TIMEOUT 600)
  endforeach()
endfunction()

oc_add_c_tests(unit unit)
oc_add_c_tests(pipeline pipeline)
oc_add_c_tests(integration integration)

# Shell-driven tests: tests/DIR/test_*.sh under LABEL, with $ONCUE_BIN and $ONCUE_SRC.
function(oc_add_sh_tests dir label timeout)
  file(GLOB files CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/${dir}/test_*.sh)
  foreach(f ${files})
    get_filename_component(name ${f} NAME_WE)
    add_test(NAME ${label}/${name} COMMAND bash ${f})
    set_tests_properties(${label}/${name} PROPERTIES LABELS ${label} TIMEOUT ${timeout}
      SKIP_RETURN_CODE 77
      ENVIRONMENT "ONCUE_BIN=$<TARGET_FILE:oncue>;ONCUE_SRC=${CMAKE_SOURCE_DIR}")
  endforeach()
endfunction()

oc_add_sh_tests(integration integration 600)
# Long tests (label "long"): hours of simulated traffic at scale, run on the release build by
# `make check-long`; `make check` leaves them out.
oc_add_sh_tests(long long 21600)

# Real-player steering test (tests/browser/run.sh): installs chromium, ffmpeg and the npm
# players itself; exits 77 (skipped, reason printed) where they cannot be installed.
add_test(NAME browser/steer_players COMMAND bash ${CMAKE_SOURCE_DIR}/tests/browser/run.sh)
set_tests_properties(browser/steer_players PROPERTIES LABELS browser TIMEOUT 900
  SKIP_RETURN_CODE 77 ENVIRONMENT
  "ONCUE_BIN=$<TARGET_FILE:oncue>;ONCUE_BROWSER_WORK=${CMAKE_BINARY_DIR}/browser")
# The web console in chromium (tests/browser/console.sh): sign-in, live incidents, mitigation.
add_test(NAME browser/console COMMAND bash ${CMAKE_SOURCE_DIR}/tests/browser/console.sh)
set_tests_properties(browser/console PROPERTIES LABELS browser TIMEOUT 900
  SKIP_RETURN_CODE 77 ENVIRONMENT
  "ONCUE_BIN=$<TARGET_FILE:oncue>;ONCUE_BROWSER_WORK=${CMAKE_BINARY_DIR}/browser-console")
# The console's billing support view in chromium (tests/browser/billing.sh): an account's
# verdict and history, a replay from its row, a royalty report sealed from the view.
add_test(NAME browser/billing COMMAND bash ${CMAKE_SOURCE_DIR}/tests/browser/billing.sh)
set_tests_properties(browser/billing PROPERTIES LABELS browser TIMEOUT 900
  SKIP_RETURN_CODE 77 ENVIRONMENT
  "ONCUE_BIN=$<TARGET_FILE:oncue>;ONCUE_BROWSER_WORK=${CMAKE_BINARY_DIR}/browser-billing")
# The beacon plugin (sdk/web) in hls.js, dash.js, Shaka Player and a bare <video>
# (tests/browser/sdk.sh): builds the plugin (5 KB gzip check), beacons into a real server.
add_test(NAME browser/sdk COMMAND bash ${CMAKE_SOURCE_DIR}/tests/browser/sdk.sh)
set_tests_properties(browser/sdk PROPERTIES LABELS browser TIMEOUT 900
  SKIP_RETURN_CODE 77 ENVIRONMENT
  "ONCUE_BIN=$<TARGET_FILE:oncue>;ONCUE_BROWSER_WORK=${CMAKE_BINARY_DIR}/browser-sdk")

# Notifications checked by the vendors' npm client libraries (tests/peers/notify.sh): installs
# node and the packages itself; exits 77 (skipped, reason printed) where it cannot.
add_test(NAME peers/notify COMMAND bash ${CMAKE_SOURCE_DIR}/tests/peers/notify.sh)
set_tests_properties(peers/notify PROPERTIES LABELS peers TIMEOUT 600
  SKIP_RETURN_CODE 77 ENVIRONMENT
  "ONCUE_BIN=$<TARGET_FILE:oncue>;ONCUE_PEERS_WORK=${CMAKE_BINARY_DIR}/peers")

# Event subscriptions verified by the npm `standardwebhooks` library (tests/peers/subscriptions.sh).
add_test(NAME peers/subscriptions COMMAND bash ${CMAKE_SOURCE_DIR}/tests/peers/subscriptions.sh)
set_tests_properties(peers/subscriptions PROPERTIES LABELS peers TIMEOUT 600
  SKIP_RETURN_CODE 77 ENVIRONMENT
  "ONCUE_BIN=$<TARGET_FILE:oncue>;ONCUE_PEERS_WORK=${CMAKE_BINARY_DIR}/peers-subscriptions")

# Billing webhooks signed by the providers' npm libraries (tests/peers/billing.sh): stripe and
# standardwebhooks from the committed lock file; exits 77 (skipped) where npm cannot install.
add_test(NAME peers/billing COMMAND bash ${CMAKE_SOURCE_DIR}/tests/peers/billing.sh)
set_tests_properties(peers/billing PROPERTIES LABELS peers TIMEOUT 600
  SKIP_RETURN_CODE 77 ENVIRONMENT
  "ONCUE_BIN=$<TARGET_FILE:oncue>;ONCUE_PEERS_WORK=${CMAKE_BINARY_DIR}/peers-billing")

# Fuzz targets: tests/fuzz/fuzz_NAME.c defines LLVMFuzzerTestOneInput. Under gcc each builds
# with tests/fuzz/replay.c into a program that replays tests/fuzz/corpus/NAME/ as a test.
file(GLOB oc_fuzzers CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_*.c)
foreach(f ${oc_fuzzers})
  get_filename_component(name ${f} NAME_WE)
  string(REPLACE "fuzz_" "" corpus ${name})
  if(OC_FUZZ)
    add_executable(${name} ${f})
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer)
    target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  else()
    add_executable(${name} ${f} ${CMAKE_SOURCE_DIR}/tests/fuzz/replay.c)
    add_test(NAME fuzz/${name} COMMAND ${name} ${CMAKE_SOURCE_DIR}/tests/fuzz/corpus/${corpus})
    set_tests_properties(fuzz/${name} PROPERTIES LABELS fuzz TIMEOUT 600)
  endif()
  target_link_libraries(${name} PRIVATE oncue_lib)
endforeach()

# Lint: clang-format and the banned-function grep.
add_test(NAME lint/format COMMAND bash ${CMAKE_SOURCE_DIR}/scripts/lint.sh)
set_tests_properties(lint/format PROPERTIES LABELS lint WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
# Generated docs must match the tables they come from.
add_test(NAME lint/docs COMMAND bash ${CMAKE_SOURCE_DIR}/scripts/check-docs.sh $<TARGET_FILE:oncue>)
set_tests_properties(lint/docs PROPERTIES LABELS lint WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
# The committed web console bundle (web/dist/) must be what web/src/ builds (scripts/web.sh
# check: npm ci and the npm cache stay in the build tree; 77, skipped, where npm cannot install).
add_test(NAME lint/web_bundle COMMAND bash ${CMAKE_SOURCE_DIR}/scripts/web.sh check)
set_tests_properties(lint/web_bundle PROPERTIES LABELS lint SKIP_RETURN_CODE 77 TIMEOUT 600
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
  ENVIRONMENT "ONCUE_WEB_WORK=${CMAKE_BINARY_DIR}/web;npm_config_cache=${CMAKE_BINARY_DIR}/web/npm-cache")
# Tests that start a throwaway PostgreSQL also carry the label "postgres" (`ctest -L postgres`).
set_tests_properties(integration/test_lease PROPERTIES LABELS "integration;postgres")
# Incidents written through either of two replicas on one PostgreSQL store (port 18860).
set_tests_properties(integration/test_incident_replicas PROPERTIES LABELS "integration;postgres")
# `promtool check metrics` on /metrics with QoE data present is also a lint of the exposition.
set_tests_properties(integration/test_metrics PROPERTIES LABELS "integration;lint")
# Store-level unit tests again with their store on PostgreSQL (label "pg", also "postgres"):
# tests/integration/pg_run.sh starts a throwaway server on the port given (one per program,
# from OC_PG_PORT_BASE up, 18601-18630 by default) and names it to the program in
# ONCUE_TEST_PG (tests/t_store.h).
set(OC_PG_PORT_BASE 18601 CACHE STRING "first 127.0.0.1 port of the pg tests' PostgreSQL servers")
set(oc_pg_port ${OC_PG_PORT_BASE})
foreach(name test_store test_auth test_incident test_incident_outbox test_incident_status
    test_catalog test_steer test_alert test_qoe_history test_ingest test_billing test_rca
    test_incident_replicas)
  add_test(NAME pg/${name} COMMAND bash ${CMAKE_SOURCE_DIR}/tests/integration/pg_run.sh
    ${oc_pg_port} $<TARGET_FILE:${name}>)
  set_tests_properties(pg/${name} PROPERTIES LABELS "pg;postgres" TIMEOUT 600 SKIP_RETURN_CODE 77
    ENVIRONMENT "ONCUE_BIN=$<TARGET_FILE:oncue>;ONCUE_SRC=${CMAKE_SOURCE_DIR}")
  math(EXPR oc_pg_port "${oc_pg_port} + 1")
endforeach()
# The real server's modules on PostgreSQL: these integration tests again, each server they
# start with its store on the throwaway PostgreSQL (one database per data directory,
# tests/integration/lib.sh start_server). Only tests whose checks go through the API: a test
# that reads DATA/oncue.db or runs a CLI on --data stays on SQLite.
foreach(name test_tickets test_tickets_feedback test_tickets_reports test_tickets_survey
    test_tickets_viewers test_tickets_route test_tickets_zendesk_sync test_search
    test_search_plays test_gate test_automation test_probe_pathways test_resume
    test_resume_crash test_resume_devices)
  add_test(NAME pg/${name} COMMAND bash ${CMAKE_SOURCE_DIR}/tests/integration/pg_run.sh
    ${oc_pg_port} bash ${CMAKE_SOURCE_DIR}/tests/integration/${name}.sh)
  set_tests_properties(pg/${name} PROPERTIES LABELS "pg;postgres" TIMEOUT 600 SKIP_RETURN_CODE 77
    ENVIRONMENT "ONCUE_BIN=$<TARGET_FILE:oncue>;ONCUE_SRC=${CMAKE_SOURCE_DIR}")
  math(EXPR oc_pg_port "${oc_pg_port} + 1")
endforeach()
set_tests_properties(integration/test_pg_serve PROPERTIES LABELS "integration;pg;postgres"
  ENVIRONMENT "ONCUE_BIN=$<TARGET_FILE:oncue>;ONCUE_SRC=${CMAKE_SOURCE_DIR};PG_PORT=${oc_pg_port}")
# Resume points shared by replicas through PostgreSQL (three servers, one throwaway server on
# the next port of the range).
math(EXPR oc_pg_port "${oc_pg_port} + 1")
set_tests_properties(integration/test_resume_shared PROPERTIES LABELS "integration;postgres"
  ENVIRONMENT "ONCUE_BIN=$<TARGET_FILE:oncue>;ONCUE_SRC=${CMAKE_SOURCE_DIR};PG_PORT=${oc_pg_port}")
# Collectors, ClickHouse shards and control-plane replicas on PostgreSQL, end to end: also
# "postgres" and "clickhouse" (`ctest -L clickhouse`); skipped (77) without either server.
# Its ports (18650-18654) and test_clickhouse_collectors' (18640-18643) stay clear of the
# pg range above.
set_tests_properties(integration/test_scale_e2e PROPERTIES LABELS "integration;postgres;clickhouse")
# The control plane's cube pulled from ClickHouse, revised when a collector's rows come late
# (one clickhouse-server on 18670-18671; skipped, 77, without it).
set_tests_properties(integration/test_clickhouse_pull PROPERTIES LABELS "integration;clickhouse")
