#!/usr/bin/env bash
# The steering client's region, country, ASN and ISP from MaxMind databases (libmaxminddb):
# two small databases are written with Debian's MaxMind::DB::Writer (a City-shaped one and an
# ASN one), the server opens both (steer.geoip_db) and reads the client's address from a
# trusted header (steer.client_ip_header). Checks the order (query, region header, database),
# the built-in region map, rules by country and ASN, the RELOAD-URI carrying what was found,
# a configured map, the lookup metrics, and the start-up errors that name the setting.
. "$(dirname "$0")/lib.sh"
if ! perl -MMaxMind::DB::Writer::Tree -e1 2>/dev/null; then
    echo "FAIL: perl's MaxMind::DB::Writer is missing (scripts/deps.sh check installs" \
        "libmaxmind-db-writer-perl)"
    exit 1
fi
D=$T_TMP/data

cat > "$T_TMP/write.pl" <<'PL'
use strict; use warnings;
use MaxMind::DB::Writer::Tree;
my ($out, $type, @nets) = @ARGV;
my %types = (country => 'map', continent => 'map', iso_code => 'utf8_string',
    code => 'utf8_string', isp => 'utf8_string', autonomous_system_number => 'uint32',
    autonomous_system_organization => 'utf8_string');
my $tree = MaxMind::DB::Writer::Tree->new(ip_version => 6, record_size => 24,
    database_type => $type, languages => ['en'], description => {en => 'oncue test'},
    remove_reserved_networks => 0,
    map_key_type_callback => sub { $types{$_[0]} });
for my $n (@nets) {  # NETWORK=country,continent,asn,org
    my ($net, $v) = split /=/, $n;
    my ($cc, $ct, $asn, $org) = split /,/, $v, 4;
    my %rec;
    $rec{country} = {iso_code => $cc} if $cc;
    $rec{continent} = {code => $ct} if $ct;
    $rec{autonomous_system_number} = $asn + 0 if $asn;
    $rec{autonomous_system_organization} = $org if $org;
    $tree->insert_network($net, \%rec);
}
open my $fh, '>:raw', $out or die "$out: $!";
$tree->write_tree($fh);
close $fh;
PL
perl "$T_TMP/write.pl" "$T_TMP/city.mmdb" GeoLite2-City \
    "81.2.69.0/24=GB,EU" "89.160.20.0/24=SA,AS" "189.4.0.0/16=MX,NA" "2a02:1000::/32=DE,EU" \
    "175.16.199.0/24=JP,AS" "216.160.83.0/24=US,NA" || exit 1
perl "$T_TMP/write.pl" "$T_TMP/asn.mmdb" GeoLite2-ASN \
    "81.2.69.0/24=,,20712,Andrews & Arnold Ltd" "2a02:1000::/32=,,3320,Deutsche Telekom AG" \
    "216.160.83.0/24=,,209,CenturyLink Communications, LLC" || exit 1
perl "$T_TMP/write.pl" "$T_TMP/local.mmdb" GeoLite2-Country "127.0.0.0/8=GB,EU" || exit 1

cat >"$T_TMP/policy.json" <<'JSON'
{"ttl": 5, "pathways": ["cdn-a", "cdn-b", "cdn-c"],
 "rules": [{"name": "dtag", "asn": "3320", "priority": ["cdn-c", "cdn-a"]},
           {"name": "mx", "country": "MX", "priority": ["cdn-c", "cdn-b"]},
           {"name": "emea", "region": "EMEA", "priority": ["cdn-b", "cdn-a"]},
           {"name": "apac", "region": "APAC", "priority": ["cdn-c"]}]}
JSON

# Start-up errors name the setting and the file.
timeout 10 "$ONCUE_BIN" serve --data "$T_TMP/bad" --listen 127.0.0.1:0 \
    --set steer.geoip_db="$T_TMP/nope.mmdb" 2>"$T_TMP/bad.log"
t_check "missing database refused" 1 "$?"
t_contains "names the setting and file" "steer.geoip_db: $T_TMP/nope.mmdb: No such file or directory" \
    "$(cat "$T_TMP/bad.log")"
timeout 10 "$ONCUE_BIN" serve --data "$T_TMP/bad" --listen 127.0.0.1:0 \
    --set steer.geoip_db="$T_TMP/city.mmdb" --set steer.geoip_regions=EU=EMEA 2>"$T_TMP/bad.log"
t_check "bad region map refused" 1 "$?"
t_contains "names the entry" 'steer.geoip_regions: \"EU=EMEA\": expected continent:XX=REGION' \
    "$(cat "$T_TMP/bad.log")"

start_server "$D" --set steer.geoip_db="$T_TMP/city.mmdb,$T_TMP/asn.mmdb" \
    --set steer.client_ip_header=X-Forwarded-For --set steer.region_header=X-Edge-Region \
    --set steer.policy_file="$T_TMP/policy.json" || exit 1
t_contains "both databases open" "2 MaxMind database(s) open" "$(cat "$T_TMP/server.log")"

# steer IP [curl args...]: the manifest for a client at IP (through the trusted header)
steer() {
    local ip=$1; shift
    curl -s "$BASE/v1/steering/hls/movie?session=s1" -H "X-Forwarded-For: $ip, 10.0.0.1" "$@"
}
t_check "GB: EMEA from the continent, ASN and ISP found" \
    '{"VERSION":1,"TTL":5,"RELOAD-URI":"movie?region=EMEA&country=GB&isp=andrews-arnold-ltd&asn=20712&session=s1","PATHWAY-PRIORITY":["cdn-b","cdn-a","cdn-c"]}' \
    "$(steer 81.2.69.160)"
t_contains "Saudi Arabia: EMEA by the country map" '"RELOAD-URI":"movie?region=EMEA&country=SA&session=s1"' \
    "$(steer 89.160.20.112)"
t_contains "Mexico: LATAM, the country rule" \
    '"RELOAD-URI":"movie?region=LATAM&country=MX&session=s1","PATHWAY-PRIORITY":["cdn-c","cdn-b","cdn-a"]' \
    "$(steer 189.4.12.1)"
t_contains "IPv6, the ASN rule first" \
    '"RELOAD-URI":"movie?region=EMEA&country=DE&isp=deutsche-telekom-ag&asn=3320&session=s1","PATHWAY-PRIORITY":["cdn-c","cdn-a","cdn-b"]' \
    "$(steer '[2a02:1000::7]:443')"
t_contains "Japan: APAC" '"PATHWAY-PRIORITY":["cdn-c","cdn-a","cdn-b"]' "$(steer 175.16.199.9)"
t_contains "US: NA, the default order" \
    '"RELOAD-URI":"movie?region=NA&country=US&isp=centurylink-communications-llc&asn=209&session=s1","PATHWAY-PRIORITY":["cdn-a","cdn-b","cdn-c"]' \
    "$(steer 216.160.83.56)"
t_contains "unknown address: nothing added" '"RELOAD-URI":"movie?session=s1","PATHWAY-PRIORITY":["cdn-a","cdn-b","cdn-c"]' \
    "$(steer 192.0.2.1)"
t_contains "garbage header: nothing added" '"RELOAD-URI":"movie?session=s1"' "$(steer 'unknown')"
t_contains "region header wins over the database" '"RELOAD-URI":"movie?region=APAC&country=GB&isp=andrews-arnold-ltd&asn=20712&session=s1"' \
    "$(steer 81.2.69.160 -H 'X-Edge-Region: APAC')"
t_contains "query wins over both" '"RELOAD-URI":"movie?region=NA&country=FR&isp=andrews-arnold-ltd&asn=20712&session=s1"' \
    "$(curl -s "$BASE/v1/steering/hls/movie?region=NA&country=FR&session=s1" \
        -H 'X-Forwarded-For: 81.2.69.160' -H 'X-Edge-Region: APAC')"

# The RELOAD-URI carries what was found: the next request needs no lookup.
before=$(curl -s "$BASE/metrics" | grep '^oncue_steer_geoip_lookups_total{result="found"}' | awk '{print $2}')
curl -s "$BASE/v1/steering/hls/movie?region=EMEA&country=GB&isp=andrews-arnold-ltd&asn=20712&session=s1" \
    -H 'X-Forwarded-For: 81.2.69.160' >/dev/null
after=$(curl -s "$BASE/metrics" | grep '^oncue_steer_geoip_lookups_total{result="found"}' | awk '{print $2}')
t_check "found lookups so far" 8 "$before"
t_check "no lookup when the query names everything" "$before" "$after"
t_contains "misses counted" 'oncue_steer_geoip_lookups_total{result="not_found"} 1' \
    "$(curl -s "$BASE/metrics")"
stop_server

# A configured map replaces the built-in one. Without steer.client_ip_header the header is
# not trusted and the peer's address (127.0.0.1, in the third database) is looked up.
start_server "$T_TMP/data2" --set steer.geoip_db="$T_TMP/local.mmdb" \
    --set steer.geoip_regions="continent:EU=europe,country:GB=uk" \
    --set steer.policy_file="$T_TMP/policy.json" || exit 1
t_contains "configured map, the peer's address" '"RELOAD-URI":"movie?region=uk&country=GB&session=s1"' \
    "$(curl -s "$BASE/v1/steering/hls/movie?session=s1" -H 'X-Forwarded-For: 2a02:1000::7')"
t_done
