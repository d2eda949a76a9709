#!/usr/bin/env bash
# demo.sh ONCUE - what `make demo` runs after building: starts `oncue serve` on the embedded
# default (./oncue-data, 127.0.0.1:8470), creates a first admin token, starts a modest
# simulated audience when the simulator is built in, and says where to look: the web console
# at the server's root first. Ctrl-C stops all.
set -uo pipefail
bin=${1:-build/rel/oncue}
data=${ONCUE_DATA:-./oncue-data}
listen=${ONCUE_LISTEN:-127.0.0.1:8470}
mkdir -p "$data"
log="$data/server.log"

if [ ! -s "$data/admin.token" ]; then
    "$bin" token create --data "$data" --role admin --name "demo-admin-$(date +%s)" \
        > "$data/admin.token" 2>/dev/null || { echo "could not create the admin token"; exit 1; }
    chmod 600 "$data/admin.token"
fi
if [ ! -s "$data/ingest.token" ]; then
    "$bin" token create --data "$data" --role ingest --name "demo-ingest-$(date +%s)" \
        > "$data/ingest.token" 2>/dev/null
fi
admin=$(cat "$data/admin.token")

# the simulated players steer between the two shipped CDNs through this policy; the server
# scrapes the simulated DRM license server, live packager and origin (examples/scrape.yaml,
# served by `oncue sim --exporters` on 127.0.0.1:9464), as it would the real ones
root=$(cd "$(dirname "$0")/.." && pwd)
policy=$root/examples/steering-policy.json
exporters=${ONCUE_EXPORTERS:-127.0.0.1:9464}
# and probes its live stream (examples/probes.yaml, served on the same port): the server
# starts with an empty $data/probes.yaml, which lists the stream (SIGHUP) once the simulator
# serves it, so the demo does not open with an `unreachable` incident
scrape=()
if "$bin" sim --help 2>/dev/null | grep -q -- '--exporters'; then
    scrape=(--set scrape.file="$root/examples/scrape.yaml" --set scrape.outbound_allow=127.0.0.1/32
        --set probe.file="$data/probes.yaml" --set probe.outbound_allow=127.0.0.1/32)
    echo '[]' >"$data/probes.yaml"
    if [ "$exporters" != 127.0.0.1:9464 ]; then # the example file names 9464: a copy names yours
        sed "s|127.0.0.1:9464|$exporters|" "$root/examples/scrape.yaml" >"$data/scrape.yaml"
        scrape[1]=scrape.file="$data/scrape.yaml"
    fi
fi
"$bin" serve --data "$data" --listen "$listen" --set steer.policy_file="$policy" "${scrape[@]}" \
    2>>"$log" &
server=$!
pids=$server
trap 'kill $pids 2>/dev/null; wait 2>/dev/null; echo; echo "demo stopped"; exit 0' INT TERM
for _ in $(seq 1 100); do
    grep -q "listening on" "$log" 2>/dev/null && break
    kill -0 $server 2>/dev/null || { echo "the server did not start:"; tail -5 "$log"; exit 1; }
    sleep 0.1
done
base="http://$listen"

if "$bin" sim --help 2>/dev/null | grep -q -- '--demo'; then
    "$bin" sim --demo --edge-logs --exporters "$exporters" --target "$base" \
        --token "$(cat "$data/ingest.token")" >>"$data/sim.log" 2>&1 &
    pids="$pids $!"
    for _ in $(seq 1 50); do # the simulator logs its plan first
        grep -q "plan: fault" "$data/sim.log" 2>/dev/null && break
        sleep 0.1
    done
    plan=$(grep "plan: fault" "$data/sim.log" 2>/dev/null | sed 's/^oncue sim: plan: fault /    /')
    for _ in $(seq 1 100); do # the live stream is published: the prober may watch it
        curl -sf -o /dev/null "http://$exporters/live/media.m3u8" && break
        sleep 0.1
    done
    sed "s|127.0.0.1:9464|$exporters|" "$root/examples/probes.yaml" >"$data/probes.yaml"
    kill -HUP $server
    sim_note="A simulated audience of 10,000 viewers is posting player beacons, and its CDN the log lines of their requests (log: $data/sim.log).
  Its players follow the steering policy (examples/steering-policy.json) and read the
  feature flags every 10 s; its DRM license server, live packager and origin export their
  metrics on http://$exporters/ and oncue scrapes them (examples/scrape.yaml); oncue probes
  its live stream, http://$exporters/live/media.m3u8 (examples/probes.yaml). It injects one
  fault every 8 minutes, then repeats:
$plan
  Each fault should open one incident: within seconds when a scraped or probed service shows
  it (the DRM license errors, the live packager's stale manifest and live stream), a few
  minutes after it starts when only the viewers do; the blip should open none. The
  simulator's log says when each fault starts and ends."
else
    sim_note="(The simulator is not built in yet: post beacons to $base/v1/events.)"
fi

# a small catalog for the search box: the simulated audience plays ten of these titles (ids as
# in examples/topology.yaml), so once their minutes close they rank by their plays
search_try=""
titles=$root/examples/titles.ndjson
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $admin" \
    -H 'Content-Type: application/x-ndjson' --data-binary "@$titles" "$base/v1/titles" 2>/dev/null)
[ "$code" = 200 ] && search_try="      curl -H \"Authorization: Bearer \$ONCUE_TOKEN\" '$base/v1/search?q=harbour'
          (or the console's Search: a catalog of $(wc -l <"$titles") titles, examples/titles.ndjson; the ones
          the audience plays rank by their plays two or three minutes after start, \"popularity_from\": \"plays\")
"

extra=""
code=$(curl -s -o /dev/null -w '%{http_code}' "$base/status" 2>/dev/null)
[ "$code" = 200 ] && extra="  status page  $base/status
               what viewers see: an incident shows there once a responder publishes it
               (console or oncue incident publish ID), or by rule 10 minutes after a SEV1/SEV2
               opened
"
next=""
"$bin" drill --help >/dev/null 2>&1 &&
    next="      $bin drill emea-cdn     (the worked example, in-process, in seconds)
"
cat <<EOT

oncue is running (server log: $log).

  console      $base/
               sign in with the first admin token below; the incidents appear there live
  health       $base/healthz
  metrics      $base/metrics
$extra  API          curl -H "Authorization: Bearer \$(cat $data/admin.token)" $base/v1/modules

  first admin token (also in $data/admin.token):
    $admin

  $sim_note

Try:  export ONCUE_TOKEN=\$(cat $data/admin.token)
      $bin --help
      $bin mitigate shift-cdn --region EMEA --from primary --to secondary
          (the simulated EMEA players move within 10 s; $bin mitigate list, revert ID)
$search_try$next
Press Ctrl-C to stop.
EOT
wait $server
