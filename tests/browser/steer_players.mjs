// steer_players.mjs - real players follow oncue's content steering.
//
// Serves the same HLS (fMP4) and DASH stream from two local HTTP servers standing in for two
// CDNs (cdn-a, cdn-b; every request logged with a timestamp), loads hls.js and then dash.js in
// Debian's headless chromium through playwright-core, runs `oncue mitigate shift-cdn` against
// the running oncue server, and asserts from the CDN servers' own request logs that the player
// fetched its next segments from cdn-b within TTL + 10 s, and from cdn-a again within TTL + 10 s
// of `oncue mitigate revert`. Prints one line per check and "N passed, N failed".
//
// Environment: ONCUE_BIN, ONCUE_SERVER (the running server), ONCUE_TOKEN (responder),
// STREAM_DIR (hls/ and dash/ made by run.sh), WORK (logs), NODE_DIR (node_modules' parent),
// STEER_TTL (seconds, as in the policy).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { chromium } from 'playwright-core';

const env = (k) => {
  if (!process.env[k]) throw new Error(`${k} is not set`);
  return process.env[k];
};
const ONCUE_BIN = env('ONCUE_BIN');
const SERVER = env('ONCUE_SERVER');
const STREAM = env('STREAM_DIR');
const WORK = env('WORK');
const NODE_DIR = env('NODE_DIR');
const TTL = Number(env('STEER_TTL'));
const DEADLINE_MS = (TTL + 10) * 1000;
const T0 = Date.now();
const now = () => Date.now() - T0;
let passed = 0;
let failed = 0;

const failures = []; // repeated after the summary: CI shows the tail of a long log
function check(name, ok, detail) {
  if (ok) passed++;
  else {
    failed++;
    failures.push(name);
  }
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ': ' + detail : ''}`);
}

const TYPES = {
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.mpd': 'application/dash+xml',
  '.mp4': 'video/mp4',
  '.m4s': 'video/iso.segment',
  '.js': 'text/javascript',
  '.html': 'text/html',
};

// A static server over root; every request is logged (memory and logFile).
function serveDir(name, root, extra = {}) {
  const log = [];
  const logFile = path.join(WORK, `${name}.log`);
  fs.writeFileSync(logFile, '');
  const srv = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const entry = { t: now(), path: url.pathname };
    log.push(entry);
    fs.appendFileSync(logFile, `${entry.t} ${req.method} ${req.url}\n`);
    res.setHeader('Access-Control-Allow-Origin', '*');
    const body = extra[url.pathname];
    if (body !== undefined) {
      res.writeHead(200, { 'Content-Type': TYPES[path.extname(url.pathname)] || 'text/plain' });
      res.end(body);
      return;
    }
    const file = path.join(root, path.normalize(url.pathname).replace(/^(\.\.[/\\])+/, ''));
    fs.readFile(file, (err, data) => {
      if (err) {
        res.writeHead(404);
        res.end();
        return;
      }
      res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream' });
      res.end(data);
    });
  });
  return new Promise((resolve) =>
    srv.listen(0, '127.0.0.1', () => resolve({ srv, log, port: srv.address().port })));
}

const isSegment = (p) => /\/(seg_\d+\.m4s|chunk-\d+-\d+\.m4s)$/.test(p);

// Waits until a segment request after `since` shows up in log; returns its time or null.
async function firstSegmentAfter(log, since, deadline) {
  while (now() < deadline) {
    const hit = log.find((e) => e.t >= since && isSegment(e.path));
    if (hit) return hit.t;
    await new Promise((r) => setTimeout(r, 100));
  }
  return null;
}

function oncue(...args) {
  return execFileSync(ONCUE_BIN, args, { encoding: 'utf8', env: process.env });
}

function hlsMultivariant(a, b, steerUrl) {
  const ff = fs.readFileSync(path.join(STREAM, 'hls', 'ffmaster.m3u8'), 'utf8');
  const codecs = (ff.match(/CODECS="([^"]+)"/) || [])[1] || 'avc1.64001e,mp4a.40.2';
  const inf = (id) => `#EXT-X-STREAM-INF:BANDWIDTH=985600,RESOLUTION=640x360,` +
    `CODECS="${codecs}",STABLE-VARIANT-ID="v1",PATHWAY-ID="${id}"`;
  return ['#EXTM3U', '#EXT-X-VERSION:7',
    `#EXT-X-CONTENT-STEERING:SERVER-URI="${steerUrl}",PATHWAY-ID="cdn-a"`,
    inf('cdn-a'), `http://127.0.0.1:${a}/hls/media.m3u8`,
    inf('cdn-b'), `http://127.0.0.1:${b}/hls/media.m3u8`, ''].join('\n');
}

function dashMpd(a, b, steerUrl) {
  let mpd = fs.readFileSync(path.join(STREAM, 'dash', 'stream.mpd'), 'utf8');
  mpd = mpd.replace(/<ProgramInformation[\s\S]*?(<\/ProgramInformation>|\/>)/g, '')
    .replace(/<ServiceDescription[\s\S]*?(<\/ServiceDescription>|\/>)/g, '');
  const steer = `\n  <BaseURL serviceLocation="cdn-a">http://127.0.0.1:${a}/dash/</BaseURL>` +
    `\n  <BaseURL serviceLocation="cdn-b">http://127.0.0.1:${b}/dash/</BaseURL>` +
    `\n  <ContentSteering defaultServiceLocation="cdn-a" queryBeforeStart="false">` +
    `${steerUrl}</ContentSteering>`;
  return mpd.replace(/(<MPD[^>]*>)/, `$1${steer}`);
}

const PAGE = {
  hls: `<!doctype html><video id=v muted autoplay playsinline></video>
<script src="/hls.js"></script><script>
const h = new Hls({ maxBufferLength: 6, maxMaxBufferLength: 6 });
h.on(Hls.Events.ERROR, (e, d) => { if (d.fatal) window.playerError = d.details; });
h.loadSource('/master.m3u8'); h.attachMedia(document.getElementById('v'));
</script>`,
  dash: `<!doctype html><video id=v muted autoplay playsinline></video>
<script src="/dash.all.debug.js"></script><script>
const p = dashjs.MediaPlayer().create();
p.updateSettings({ debug: { logLevel: dashjs.Debug.LOG_LEVEL_WARNING } });
p.on(dashjs.MediaPlayer.events.ERROR, (e) => { window.playerError = JSON.stringify(e.error); });
p.initialize(document.getElementById('v'), '/stream.mpd', true);
</script>`,
};

// One player run: load, shift to cdn-b, revert, checking the CDN logs each time.
async function runPlayer(kind, ctx, cdnA, cdnB) {
  const steerUrl = `${SERVER}/v1/steering/${kind}/browser-${kind}?region=EMEA`;
  const page = await serveDir(`page-${kind}`, STREAM, {
    '/index.html': PAGE[kind],
    '/hls.js': fs.readFileSync(path.join(NODE_DIR, 'node_modules/hls.js/dist/hls.js')),
    '/dash.all.debug.js': fs.readFileSync(
      path.join(NODE_DIR, 'node_modules/dashjs/dist/legacy/umd/dash.all.debug.js')),
    '/master.m3u8': hlsMultivariant(cdnA.port, cdnB.port, steerUrl),
    '/stream.mpd': dashMpd(cdnA.port, cdnB.port, steerUrl),
  });
  const tab = await ctx.newPage();
  const start = now();
  await tab.goto(`http://127.0.0.1:${page.port}/index.html`);
  const firstA = await firstSegmentAfter(cdnA.log, start, start + 15000);
  check(`${kind}: plays from cdn-a first`, firstA !== null &&
    !cdnB.log.some((e) => e.t >= start && isSegment(e.path)));
  await new Promise((r) => setTimeout(r, 6000));
  const shiftAt = now();
  const out = oncue('mitigate', 'shift-cdn', '--region', 'EMEA', '--from', 'cdn-a', '--to', 'cdn-b');
  const id = (out.match(/#(\d+) active/) || [])[1];
  check(`${kind}: oncue mitigate shift-cdn applied`, !!id, out.trim());
  const movedAt = await firstSegmentAfter(cdnB.log, shiftAt, shiftAt + DEADLINE_MS);
  check(`${kind}: moved to cdn-b within TTL + 10 s`, movedAt !== null,
    movedAt === null ? 'no cdn-b segment' : `after ${((movedAt - shiftAt) / 1000).toFixed(2)} s`);
  await new Promise((r) => setTimeout(r, 3000));
  const revertAt = now();
  oncue('mitigate', 'revert', id || '0');
  const backAt = await firstSegmentAfter(cdnA.log, revertAt, revertAt + DEADLINE_MS);
  check(`${kind}: back on cdn-a within TTL + 10 s of revert`, backAt !== null,
    backAt === null ? 'no cdn-a segment' : `after ${((backAt - revertAt) / 1000).toFixed(2)} s`);
  const state = await tab.evaluate(() => ({
    t: document.getElementById('v').currentTime, err: window.playerError || null,
  }));
  check(`${kind}: played without a fatal error`, state.err === null && state.t > 5,
    `currentTime ${state.t.toFixed(1)}, error ${state.err}`);
  await tab.close();
  page.srv.close();
}

async function main() {
  const cdnA = await serveDir('cdn-a', STREAM);
  const cdnB = await serveDir('cdn-b', STREAM);
  const ctx = await chromium.launchPersistentContext(fs.mkdtempSync(path.join(WORK, 'profile-')), {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--autoplay-policy=no-user-gesture-required'],
  });
  try {
    for (const kind of ['hls', 'dash']) await runPlayer(kind, ctx, cdnA, cdnB);
  } finally {
    await ctx.close();
    cdnA.srv.close();
    cdnB.srv.close();
  }
  console.log(`${passed} passed, ${failed} failed`);
  for (const f of failures) console.log(`failed: ${f}`);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.log(`FAIL ${e.stack || e}`);
  console.log(`${passed} passed, ${failed + 1} failed`);
  process.exit(1);
});
