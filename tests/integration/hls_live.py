#!/usr/bin/env python3
# hls_live.py PORT: a live HLS origin for tests, from python3's standard library: every path
# PREFIX/live.m3u8 is a media playlist of 2 s segments whose window slides with the wall
# clock (six segments, EXT-X-PROGRAM-DATE-TIME on each), PREFIX/segN.ts answers 64 KiB. A
# file PREFIX.stop beside this script's working directory freezes that prefix's window
# (the packager stalls) until it is removed.
import http.server, os, sys, time

SEG = 2
WINDOW = 6
BODY = b"\x47" * 65536


def frozen_at(prefix):
    try:
        return os.path.getmtime(prefix.strip("/") + ".stop")
    except OSError:
        return None


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send(self, code, ctype, body):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        prefix, _, leaf = self.path.rpartition("/")
        if leaf == "live.m3u8":
            now = frozen_at(prefix) or time.time()
            last = int(now // SEG) - 1  # the newest whole segment
            first = max(0, last - WINDOW + 1)
            lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:%d" % SEG,
                     "#EXT-X-MEDIA-SEQUENCE:%d" % first]
            for n in range(first, last + 1):
                t = time.gmtime(n * SEG)
                lines.append("#EXT-X-PROGRAM-DATE-TIME:%s.000Z" % time.strftime("%Y-%m-%dT%H:%M:%S", t))
                lines.append("#EXTINF:%d.000," % SEG)
                lines.append("seg%d.ts" % n)
            self.send(200, "application/vnd.apple.mpegurl", ("\n".join(lines) + "\n").encode())
        elif leaf.startswith("seg") and leaf.endswith(".ts"):
            self.send(200, "video/mp2t", BODY)
        else:
            self.send(404, "text/plain", b"not found\n")


http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
