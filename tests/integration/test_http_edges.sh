#!/usr/bin/env bash
# HTTP edges (issue 26, finding 8), over raw sockets where curl would tidy the exchange up:
# HEAD answers carry no body; two different Content-Length headers are a 400 that closes the
# connection; a chunked body meets the route's cap (413 as soon as it is exceeded, not after
# 16 MiB); a steering 503 has one Retry-After; CORS preflights allow any origin only on
# public and ingest routes, the own origin on viewer/responder routes, none on admin routes;
# /status has the console's security headers.
. "$(dirname "$0")/lib.sh"
D=$T_TMP/data
start_server "$D" || exit 1
PORT=${BASE##*:}

# raw FILE: sends the bytes of FILE (printf escapes) to the server, prints what comes back
# until the server closes or 5 s pass, then "<closed>" or "<open>".
cat > "$T_TMP/raw.py" <<'PY'
import socket, sys, time
port, data = int(sys.argv[1]), open(sys.argv[2], "rb").read()
s = socket.create_connection(("127.0.0.1", port))
s.settimeout(5)
s.sendall(data)
out, state = b"", "<open>"
try:
    while True:
        b = s.recv(65536)
        if not b:
            state = "<closed>"
            break
        out += b
except socket.timeout:
    pass
sys.stdout.write(out.decode("latin-1") + state)
PY
raw() { printf "$1" > "$T_TMP/req"; python3 "$T_TMP/raw.py" "$PORT" "$T_TMP/req"; }

# HEAD: headers only, with the Content-Length the GET answer has.
get_len=$(curl -s "$BASE/healthz" | wc -c)
out=$(raw 'HEAD /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
t_contains "HEAD is 200" "HTTP/1.1 200" "$out"
t_contains "HEAD Content-Length is the GET body's" "Content-Length: $get_len" "$out"
t_check "HEAD carries no body" "<closed>" "$(printf '%s' "$out" | tr -d '\r' | sed -n '/^$/,$p' | tail -n +2)"
out=$(raw 'HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
t_check "HEAD of the console carries no body" "<closed>" "$(printf '%s' "$out" | tr -d '\r' | sed -n '/^$/,$p' | tail -n +2)"

# Two different Content-Length headers: 400, and the connection closes (the rest of the
# bytes would otherwise be read as a second request).
out=$(raw 'POST /v1/session HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 44\r\n\r\n{}GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')
t_contains "two Content-Lengths: 400" "HTTP/1.1 400" "$out"
t_contains "two Content-Lengths: named" "two different Content-Length headers" "$out"
t_check "two Content-Lengths: one answer" 1 "$(printf '%s' "$out" | grep -c '^HTTP/1.1')"
t_contains "two Content-Lengths: closed" "<closed>" "$out"
out=$(raw 'POST /v1/session HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n')
t_contains "Content-Length with chunked: 400" "HTTP/1.1 400" "$out"
out=$(raw 'POST /v1/session HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}')
t_contains "the same Content-Length twice is one" "HTTP/1.1 401" "$out"

# A chunked body on a route capped at 4 KiB (POST /v1/session): 413 once past the cap, not
# after http.max_body_bytes (16 MiB). The client sends 1 KiB chunks and looks for an answer
# after each; it gives up (fail) after 256 KiB.
cat > "$T_TMP/chunked.py" <<'PY'
import select, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"POST /v1/session HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
sent, chunk = 0, b"400\r\n" + b"x" * 1024 + b"\r\n"
while sent < 256 * 1024:
    try:
        s.sendall(chunk)
    except OSError:
        break
    sent += 1024
    if select.select([s], [], [], 0.005)[0]:
        break
s.settimeout(5)
try:
    answer = s.recv(200).decode("latin-1").split("\r\n")[0]
except OSError as e:
    answer = repr(e)
print(answer, "after", sent // 1024, "KiB")
PY
out=$(python3 "$T_TMP/chunked.py" "$PORT")
echo "$out"
t_contains "chunked past the route cap: 413" "413" "$out"
t_check "chunked: refused within 16 KiB of the 4 KiB cap" 1 "$(echo "$out" | awk '{print ($(NF-1) <= 16)}')"
out=$(raw 'POST /v1/session HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n2\r\n{}\r\n0\r\n\r\n')
t_contains "a small chunked body still reaches the handler" "HTTP/1.1 401" "$out"
t_check "keep-alive after a capped chunked request: the next one is whole" 200 \
    "$(curl -s -o /dev/null -w '%{http_code}' -H 'Transfer-Encoding: chunked' -d '{}' "$BASE/v1/session" -o /dev/null --next -s -o /dev/null -w '%{http_code}' "$BASE/healthz" | tail -c 3)"

# Steering without a policy: 503 with exactly one Retry-After.
h=$(curl -s -D - -o /dev/null "$BASE/v1/steering/hls/a1")
t_contains "steering 503" "HTTP/1.1 503" "$h"
t_check "one Retry-After" 1 "$(printf '%s' "$h" | grep -ci '^Retry-After:')"
t_contains "Retry-After is the steering's" "Retry-After: 5" "$h"

# CORS preflights.
pre() { # pre PATH METHOD ORIGIN: the preflight's headers
    curl -s -D - -o /dev/null -X OPTIONS "$BASE$1" -H "Origin: $3" \
        -H "Access-Control-Request-Method: $2" -H 'Access-Control-Request-Headers: authorization'
}
t_contains "ingest route: any origin" "Access-Control-Allow-Origin: *" "$(pre /v1/events POST https://player.example)"
t_check "admin route: no origin" "" "$(pre /v1/tokens POST https://evil.example | grep -i '^Access-Control-Allow')"
t_check "admin route: not even its own origin" "" "$(pre /v1/tokens POST "http://127.0.0.1:$PORT" | grep -i '^Access-Control-Allow')"
t_check "admin route, no method asked: none" "" "$(curl -s -D - -o /dev/null -X OPTIONS "$BASE/v1/tokens" -H 'Origin: https://evil.example' | grep -i '^Access-Control-Allow')"
t_check "viewer route from elsewhere: none" "" "$(pre /v1/incidents/INC-1/note POST https://evil.example | grep -i '^Access-Control-Allow')"
t_contains "viewer route from its own origin" "Access-Control-Allow-Origin: http://127.0.0.1:$PORT" \
    "$(pre /v1/incidents/INC-1/note POST "http://127.0.0.1:$PORT")"

# /status carries the console's page headers.
h=$(curl -s -D - -o /dev/null "$BASE/status")
t_contains "/status CSP" "Content-Security-Policy: default-src 'none'" "$h"
t_contains "/status no framing" "X-Frame-Options: DENY" "$h"
t_contains "/status referrer" "Referrer-Policy: same-origin" "$h"
t_contains "/status nosniff" "X-Content-Type-Options: nosniff" "$h"
h=$(curl -s -D - -o /dev/null "$BASE/")
t_contains "the console keeps its CSP" "Content-Security-Policy: default-src 'self'" "$h"

t_check "no sanitizer report" "" "$(grep -m1 -E 'runtime error|AddressSanitizer' "$T_TMP/server.log")"
stop_server
t_done
