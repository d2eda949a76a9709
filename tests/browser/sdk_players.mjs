// sdk_players.mjs - the beacon plugin (sdk/web) in real players against a real oncue server.
//
// One local server (the page origin) serves the pages, the players, the built plugin and the
// streams: HLS fMP4 (with a content-steering tag naming pathway cdn-a), DASH (one MPD with
// two steered BaseURLs, the steering server preferring cdn-b), a progressive MP4,
// an HLS live playlist sliding over the same segments and a dynamic DASH MPD; it can hold a
// segment's body (a stall), hang a file part-way, 404 a manifest or a segment, and sends a CDN request id (x-amz-cf-id, exposed
// to CORS) with every media response. A second local server, another origin, is the beacon
// endpoint: it records each body the plugin posts and forwards it to oncue's /v1/events as it
// came (the ?key= query, Origin, Content-Type). One scenario posts straight to oncue. The
// public ingest key is created for the page's origin through POST /v1/ingest-keys.
// Scenarios run in two waves of headless chromium tabs; then one late event closes the
// replay clock's minutes and /v1/qoe is checked against what the plugin sent.
// Prints one line per check and "N passed, N failed".
//
// Environment: ONCUE_SERVER, INGEST_TOKEN (the late event), VIEWER_TOKEN (/v1/qoe),
// ADMIN_TOKEN (the key), STREAM_DIR, SDK_DIST, NODE_DIR, WORK.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { chromium } from 'playwright-core';

const env = (k) => {
  if (!process.env[k]) throw new Error(`${k} is not set`);
  return process.env[k];
};
const SERVER = env('ONCUE_SERVER');
const INGEST = env('INGEST_TOKEN');
const VIEWER = env('VIEWER_TOKEN');
const ADMIN = env('ADMIN_TOKEN');
let KEY = ''; // the public ingest key, made in main()
const STREAM = env('STREAM_DIR');
const DIST = env('SDK_DIST');
const NODE_DIR = env('NODE_DIR');
const WORK = env('WORK');
const T0 = Date.now();
const now = () => Date.now() - T0;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let passed = 0;
let failed = 0;

const failures = []; // repeated after the summary: CI shows the tail of a long log
function check(name, ok, detail) {
  if (ok) passed++;
  else {
    failed++;
    failures.push(name);
  }
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail !== undefined ? ': ' + detail : ''}`);
}
const near = (a, b, rel) => Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b));

const TYPES = {
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.mpd': 'application/dash+xml',
  '.mp4': 'video/mp4',
  '.m4s': 'video/iso.segment',
  '.js': 'text/javascript',
  '.html': 'text/html',
  '.json': 'application/json',
};
// The held segments: from the first request on, for this long, every request for one gets its
// headers at once and its body when the time is up (a player that gives up and asks again
// waits the rest).
const HOLD = { '/stall/hls/seg_005.m4s': 10000, '/stall/dash/chunk-0-00008.m4s': 16000 };
const LIVE_AHEAD_S = 10; // the live streams start this far into the 40 s of segments
const LONG = '\u00e9'.repeat(100); // a 200-byte dimension value: the plugin keeps 128 bytes

// --- the page and media server -------------------------------------------------------------
const issuedIds = new Set(); // x-amz-cf-id values sent
let liveStart = 0; // first live request, ms since T0
const heldUntil = {}; // path of HOLD -> when its bodies go out (Date.now())
const HANG_PATH = '/hang/mp4/video.mp4'; // served in part, then held until the end
const HANG_MANIFEST = '/hang/hls/master.m3u8'; // never answered
const GONE_PATH = '/gone/dash/chunk-0-00004.m4s'; // a video segment answered 404
const hanging = []; // its responses

function hlsMaster() {
  const ff = fs.readFileSync(path.join(STREAM, 'hls', 'ffmaster.m3u8'), 'utf8');
  const inf = ff.split('\n').find((l) => l.startsWith('#EXT-X-STREAM-INF'));
  return ['#EXTM3U', '#EXT-X-VERSION:7',
    '#EXT-X-CONTENT-STEERING:SERVER-URI="/steer.json",PATHWAY-ID="cdn-a"',
    `${inf},PATHWAY-ID="cdn-a"`, 'media.m3u8', ''].join('\n');
}

// The live HLS playlist: the newest four of the segments made available so far.
function hlsLive() {
  if (!liveStart) liveStart = now();
  const total = fs.readdirSync(path.join(STREAM, 'hls')).filter((f) => f.endsWith('.m4s')).length;
  const newest = Math.min(total - 1, Math.floor(((now() - liveStart) / 1000 + LIVE_AHEAD_S) / 2));
  const first = Math.max(0, newest - 3);
  const out = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-TARGETDURATION:2',
    `#EXT-X-MEDIA-SEQUENCE:${first}`, '#EXT-X-MAP:URI="init.mp4"'];
  for (let i = first; i <= newest; i++)
    out.push('#EXTINF:2.000000,', `seg_${String(i).padStart(3, '0')}.m4s`);
  return out.join('\n') + '\n';
}

// The VOD MPD with content steering: two BaseURLs (cdn-a, cdn-b: the same files here) and a
// steering server preferring cdn-b, asked before the start.
function dashSteered(base) {
  return fs.readFileSync(path.join(STREAM, 'dash', 'stream.mpd'), 'utf8')
    .replace(/<ProgramInformation>[\s\S]*?<\/ProgramInformation>\s*/, '')
    .replace(/<ServiceDescription[\s\S]*?<\/ServiceDescription>\s*/, '')
    .replace(/(<MPD[^>]*>)/, `$1\n<BaseURL serviceLocation="cdn-a">${base}/a/dash/</BaseURL>` +
      `\n<BaseURL serviceLocation="cdn-b">${base}/b/dash/</BaseURL>` +
      `\n<ContentSteering defaultServiceLocation="cdn-a" queryBeforeStart="true">${base}/steer-b.json</ContentSteering>`);
}

// The dynamic MPD: the static one made live, its availability starting LIVE_AHEAD_S ago.
function dashLive() {
  if (!liveStart) liveStart = now();
  const ast = new Date(T0 + liveStart - LIVE_AHEAD_S * 1000).toISOString();
  return fs.readFileSync(path.join(STREAM, 'dash', 'stream.mpd'), 'utf8')
    .replace(/<ProgramInformation>[\s\S]*?<\/ProgramInformation>\s*/, '')
    .replace(/<ServiceDescription[\s\S]*?<\/ServiceDescription>\s*/, '')
    .replace('type="static"', `type="dynamic" availabilityStartTime="${ast}" ` +
      `publishTime="${ast}" minimumUpdatePeriod="PT2S" timeShiftBufferDepth="PT10S" ` +
      'suggestedPresentationDelay="PT4S"')
    .replace(/\s*mediaPresentationDuration="[^"]*"/, '');
}

function pageServer(pages) {
  const js = {
    '/js/hls.js': 'hls.js/dist/hls.min.js',
    '/js/dash.js': 'dashjs/dist/legacy/umd/dash.all.min.js',
    '/js/shaka.js': 'shaka-player/dist/shaka-player.compiled.js',
  };
  const srv = http.createServer((req, res) => {
    const p = new URL(req.url, 'http://x').pathname;
    const send = (code, type, body, extra = {}) => {
      res.writeHead(code, { 'Content-Type': type, 'Access-Control-Allow-Origin': '*', ...extra });
      res.end(body);
    };
    if (pages[p]) return send(200, 'text/html', pages[p]);
    if (js[p]) return send(200, 'text/javascript', fs.readFileSync(path.join(NODE_DIR, 'node_modules', js[p])));
    if (p.startsWith('/js/oncue-')) return send(200, 'text/javascript', fs.readFileSync(path.join(DIST, p.slice(4))));
    if (p == '/steer.json')
      return send(200, 'application/json', '{"VERSION":1,"TTL":300,"PATHWAY-PRIORITY":["cdn-a"]}');
    if (p == '/steer-b.json')
      return send(200, 'application/json', '{"VERSION":1,"TTL":300,"PATHWAY-PRIORITY":["cdn-b","cdn-a"]}');
    if (p.endsWith('/missing.m3u8') || p.endsWith('/missing.mpd') || p == GONE_PATH)
      return send(404, 'text/plain', '');
    let body;
    if (p.endsWith('/master.m3u8')) body = hlsMaster();
    else if (p == '/live/hls/live.m3u8') body = hlsLive();
    else if (p == '/live/dash/live.mpd') body = dashLive();
    else if (p == '/steered/dash/stream.mpd') body = dashSteered(`http://${req.headers.host}`);
    else {
      // /<anything>/<hls|dash|mp4>/<file> -> STREAM_DIR/<hls|dash|mp4>/<file>
      const m = /^\/[a-z]+\/(hls|dash|mp4)\/([\w.-]+)$/.exec(p);
      try {
        body = m && fs.readFileSync(path.join(STREAM, m[1], m[2]));
      } catch (e) {
        body = null;
      }
      if (!body) return send(404, 'text/plain', '');
    }
    // A byte range (the bare <video> seeks in the MP4 with them).
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range || '');
    let code = 200;
    const extra = p == HANG_PATH ? {} : { 'Accept-Ranges': 'bytes' };
    if (range && Buffer.isBuffer(body) && p != HANG_PATH) {
      const from = Number(range[1]);
      const to = Math.min(body.length - 1, range[2] ? Number(range[2]) : body.length - 1);
      extra['Content-Range'] = `bytes ${from}-${to}/${body.length}`;
      body = body.subarray(from, to + 1);
      code = 206;
    }
    const id = crypto.randomBytes(12).toString('base64url');
    issuedIds.add(id);
    const head = { 'Content-Type': TYPES[path.extname(p)] || 'application/octet-stream',
      'Access-Control-Allow-Origin': '*', 'Access-Control-Expose-Headers': 'x-amz-cf-id',
      'x-amz-cf-id': id, 'Cache-Control': 'no-store', 'Content-Length': body.length, ...extra };
    res.writeHead(code, head);
    if (p == HANG_MANIFEST) return hanging.push(res);
    if (p == HANG_PATH) {
      // A quarter of the file, then nothing until the test ends: playback stalls for good.
      hanging.push(res);
      res.write(body.subarray(0, body.length >> 2));
      return;
    }
    if (HOLD[p] && (heldUntil[p] ??= Date.now() + HOLD[p]) > Date.now()) {
      res.flushHeaders();
      setTimeout(() => res.end(body), heldUntil[p] - Date.now());
    } else res.end(body);
  });
  return new Promise((r) => srv.listen(0, '127.0.0.1', () => r({ srv, port: srv.address().port })));
}

// --- the beacon recorder (another origin), forwarding to oncue -----------------------------
const beacons = []; // { at, ev } per event received
const answers = []; // oncue's answers: { status, accepted, rejected }
let preflights = 0;
const posts = []; // { url, auth } of each post received

function recorder() {
  const srv = http.createServer((req, res) => {
    if (req.method == 'OPTIONS') {
      preflights++;
      res.writeHead(204, { 'Access-Control-Allow-Origin': '*' });
      return res.end();
    }
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const at = now();
      posts.push({ url: req.url, auth: !!req.headers.authorization, origin: req.headers.origin });
      for (const line of body.toString('utf8').split('\n'))
        if (line.trim()) beacons.push({ at, ev: JSON.parse(line) });
      if (req.url.startsWith('/dry/')) {
        res.writeHead(200, { 'Access-Control-Allow-Origin': '*', 'Content-Type': 'application/json' });
        return res.end('{}');
      }
      const headers = { 'Content-Type': req.headers['content-type'] || 'text/plain' };
      if (req.headers.origin) headers.Origin = req.headers.origin;
      fetch(SERVER + req.url, { method: 'POST', headers, body }).then(async (r) => {
        const text = await r.text();
        let a = {};
        try {
          a = JSON.parse(text);
        } catch (e) { /* a problem answer */ }
        answers.push({ status: r.status, accepted: a.accepted, rejected: a.rejected, text });
        res.writeHead(r.status, { 'Access-Control-Allow-Origin': '*', 'Content-Type': 'application/json' });
        res.end(text);
      }, (e) => {
        answers.push({ status: 0, text: `${e} ${e.cause || ''}` });
        res.writeHead(502);
        res.end();
      });
    });
  });
  return new Promise((r) => srv.listen(0, '127.0.0.1', () => r({ srv, port: srv.address().port })));
}

// --- the scenarios -------------------------------------------------------------------------
// player: the adapter and its library; src: the stream; end: how the view is left.
const SCENARIOS = [
  // Batches every 60 s: closed 4 s after the first frame, before any batch went.
  { title: 'hls-close', player: 'hls', src: '/vod/hls/master.m3u8', end: 'shown', playMs: 4000,
    interval: 60000 },
  { title: 'hls-stall', player: 'hls', src: '/stall/hls/master.m3u8', end: 'stall' },
  { title: 'shaka-stall', player: 'shaka', src: '/stall/dash/stream.mpd', end: 'stall' },
  { title: 'hls-404', player: 'hls', src: '/vod/hls/missing.m3u8', end: 'fail' },
  { title: 'dash-404', player: 'dash', src: '/vod/dash/missing.mpd', end: 'fail' },
  { title: 'shaka-404', player: 'shaka', src: '/vod/dash/missing.mpd', end: 'fail' },
  { title: 'shaka-gone', player: 'shaka', src: '/gone/dash/stream.mpd', end: 'fail' },
  // The manifest never comes: the viewer leaves before the first frame.
  { title: 'hls-exit', player: 'hls', src: HANG_MANIFEST, end: 'close', playMs: 3000 },
  // No autoplay and no play: not a play attempt, nothing is sent.
  { title: 'video-noplay', player: 'video', src: '/vod/mp4/video.mp4', end: 'close', playMs: 3000,
    noAutoplay: 1, quiet: 1 },
  // No autoplay: loaded, a seek while paused, 3 s later the viewer plays.
  { title: 'video-scrub', player: 'video', src: '/vod/mp4/video.mp4', end: 'scrub', noAutoplay: 1 },
  { title: 'dash-clean', player: 'dash', src: '/steered/dash/stream.mpd', end: 'close', playMs: 22000 },
  { title: 'hls-live', player: 'hls', src: '/live/hls/live.m3u8', end: 'close', playMs: 12000 },
  { title: 'shaka-live', player: 'shaka', src: '/live/dash/live.mpd', end: 'close', playMs: 12000 },
  { title: 'dash-live', player: 'dash', src: '/live/dash/live.mpd', end: 'close', playMs: 12000 },
  { title: 'video-mp4', player: 'video', src: '/vod/mp4/video.mp4', end: 'navigate', playMs: 12000,
    cdnMap: 1 },
  // Straight to oncue (cross-origin, the key in the query), left before the first batch (60 s).
  { title: 'video-direct', player: 'video', src: '/vod/mp4/video.mp4', end: 'navigate', playMs: 6000,
    direct: 1, cdnMap: 1, interval: 60000 },
  { title: 'hls-seek', player: 'hls', src: '/vod/hls/master.m3u8', end: 'seek', playMs: 12000 },
  // On a fake clock (Date, performance, timers), and not forwarded to oncue (their events
  // jump minutes and an hour ahead): 5 minutes of stall, an hour paused.
  { title: 'video-stall-limit', player: 'video', src: HANG_PATH, end: 'stall-limit', dry: 1 },
  { title: 'video-idle', player: 'video', src: '/vod/mp4/video.mp4', end: 'idle', dry: 1 },
];
const WAVES = [['hls-close', 'hls-stall', 'shaka-stall', 'hls-404', 'dash-404', 'shaka-404', 'shaka-gone',
  'video-stall-limit', 'hls-exit', 'video-noplay', 'video-scrub'],
  ['dash-clean', 'hls-live', 'shaka-live', 'dash-live', 'video-mp4', 'hls-seek', 'video-idle', 'video-direct']];

const SETUP = {
  hls: `const h = new Hls({ maxBufferLength: 6, maxMaxBufferLength: 6 });
oncue.hls(oc, h); h.loadSource(SRC); h.attachMedia(v);`,
  dash: `const p = dashjs.MediaPlayer().create();
p.updateSettings({ debug: { logLevel: dashjs.Debug.LOG_LEVEL_NONE } });
oncue.dash(oc, p); p.initialize(v, SRC, true);`,
  shaka: `const p = new shaka.Player();
oncue.shaka(oc, p); p.attach(v).then(() => p.load(SRC)).catch((e) => { window.loadError = e.code; });`,
  video: `oncue.video(oc, v); v.src = SRC;`,
};

function page(sc, endpoint, mp4Host) {
  const lib = sc.player == 'video' ? '' : `<script src="/js/${sc.player}.js"></script>`;
  const cfg = { endpoint: sc.dry ? endpoint.replace('/v1/', '/dry/v1/') : sc.direct
    ? `${SERVER}/v1/events` : endpoint, key: KEY,
    dims: { title: sc.title, region: 'EMEA', country: 'DE', pop: LONG } };
  if (sc.cdnMap) cfg.cdns = { [mp4Host]: 'origin-mp4' };
  if (sc.interval) cfg.interval = sc.interval;
  // The page's own measure of stalls, independent of the plugin: time from each waiting to
  // the next playing, after the first playing, leaving out waits during a seek.
  return `<!doctype html><meta charset=utf-8><video id=v muted ${sc.noAutoplay ? '' : 'autoplay '}playsinline></video>${lib}
<script src="/js/oncue-${sc.player}.min.js"></script><script>
const v = document.getElementById('v');
window.waitMs = 0; window.stalls = 0; window.seekWaits = 0;
let shown = false, w = 0;
v.addEventListener('playing', () => { if (w) { window.waitMs += performance.now() - w; w = 0; } shown = true; });
v.addEventListener('waiting', () => {
  if (v.seeking) window.seekWaits++;
  else if (shown && !w) { w = performance.now(); window.stalls++; }
});
const SRC = ${JSON.stringify(sc.src)};
const oc = oncue.init(${JSON.stringify(cfg)});
${SETUP[sc.player]}
</script>`;
}

const state = (tab) => tab.evaluate(() => {
  const v = document.getElementById('v');
  return { t: v.currentTime, waitMs: window.waitMs, stalls: window.stalls, waiting: v.readyState < 3,
    ready: v.readyState,
    seekWaits: window.seekWaits };
});

// Runs one scenario in its own tab and leaves it as sc.end says; returns what it measured.
async function run(browser, ctx, base, sc) {
  // The fake clock is a context's: the scenarios on it get a context each.
  const own = sc.dry ? await browser.newContext() : null;
  const tab = await (own || ctx).newPage();
  const r = { sc, opened: now() };
  tab.on('pageerror', (e) => { r.pageError = String(e); });
  if (sc.dry) {
    await tab.goto(`${base}/page/blank.html`); // (install fails on the first about:blank)
    await tab.clock.install();
  }
  await tab.goto(`${base}/page/${sc.title}.html`);
  const ended = () => beacons.some((b) => b.ev.title == sc.title && b.ev.type == 'end');
  if (sc.end == 'fail') {
    const until = now() + 20000;
    while (now() < until && !ended()) await sleep(200);
    r.left = now();
    await tab.close();
    return r;
  }
  if (sc.end == 'stall') {
    // Until the held segment's stall (2 s or more) is over and 3 s more have played (at most
    // 45 s). Not the first wait: a player may wait a few ms on its own before it (shaka did
    // once under a loaded make check), and leaving then left before the held segment.
    const until = now() + 45000;
    let s = await state(tab);
    while (now() < until && !(s.stalls > 0 && !s.waiting && s.waitMs >= 2000)) {
      await sleep(200);
      s = await state(tab);
    }
    await sleep(3000);
  } else if (sc.end == 'stall-limit') {
    // Until stalled for 2 s (at most 30 s), then 5 minutes and a second later.
    const until = now() + 30000;
    while (now() < until && !((await state(tab)).stalls > 0)) await sleep(200);
    await sleep(2000);
    r.stalledAt = now();
    await tab.clock.fastForward('05:01');
    for (let i = 0; i < 50 && !ended(); i++) await sleep(100);
  } else if (sc.end == 'idle') {
    // Plays 4 s, pauses, an hour goes by, plays again for 3 s.
    await sleep(4000);
    await tab.evaluate(() => document.getElementById('v').pause());
    await sleep(500);
    await tab.clock.fastForward('01:00:01');
    await sleep(1000);
    await tab.evaluate(() => document.getElementById('v').play());
    await sleep(3000);
  } else if (sc.end == 'shown') {
    // Until the first frame (at most 20 s), then playMs more.
    const until = now() + 20000;
    while (now() < until && !((await state(tab)).t > 0)) await sleep(100);
    await sleep(sc.playMs);
  } else if (sc.end == 'scrub') {
    await sleep(2000);
    await tab.evaluate(() => { document.getElementById('v').currentTime = 10; });
    await sleep(3000);
    r.played = now();
    await tab.evaluate(() => document.getElementById('v').play());
    await sleep(4000);
  } else if (sc.end == 'seek') {
    // Plays 5 s, seeks to 24 s (past what hls.js buffered), plays on.
    await sleep(5000);
    await tab.evaluate(() => { document.getElementById('v').currentTime = 24; });
    await sleep(sc.playMs - 5000);
  } else await sleep(sc.playMs);
  Object.assign(r, await state(tab));
  r.left = now();
  if (sc.end == 'navigate') {
    await tab.goto('about:blank');
    await tab.close();
  } else await tab.close({ runBeforeUnload: true });
  // The page's last beacon is on its way: the browser must not close before it lands (one
  // not seen here, straight to oncue or not expected at all, gets a fixed 2 s).
  if (sc.direct || sc.quiet) await sleep(2000);
  else for (let i = 0; i < 50 && !ended(); i++) await sleep(100);
  if (own) await own.close();
  return r;
}

// The core without a player, in a blank page (sendBeacon and fetch replaced to count): bad
// calls throw nothing into the page; 800 events queued before an endpoint is set send
// nothing; once the page is hidden they go out by sendBeacon, as text/plain NDJSON bodies of
// at most 60,000 bytes, with the key in the query.
async function coreChecks(ctx, base) {
  const tab = await ctx.newPage();
  await tab.goto(`${base}/page/blank.html`);
  await tab.addScriptTag({ url: `${base}/js/oncue-video.min.js` });
  const u = await tab.evaluate(async () => {
    const sent = [];
    let fetched = 0;
    navigator.sendBeacon = (url, blob) => sent.push({ url, blob }) > 0;
    window.fetch = () => Promise.resolve(new Response('{}', { status: 200 }), fetched++);
    const oc = oncue.init({ dims: { title: 'x'.repeat(300) } });
    let threw = 0;
    for (const f of [() => oncue.video(oc, null), () => oncue.video(null, null), () => oc.kbps('x'),
      () => oc.response(null, null), () => oc.fatal(), () => oc.media(42), () => oc.dims(null)]) {
      try {
        f();
      } catch (e) {
        threw++;
      }
    }
    for (let i = 0; i < 400; i++) {
      oc.intent();
      oc.fatal('E' + i);
    }
    const before = fetched + sent.length;
    oc.configure({ endpoint: 'http://127.0.0.1:9/v1/events', key: 'opk_test' });
    Object.defineProperty(document, 'visibilityState', { get: () => 'hidden' });
    document.dispatchEvent(new Event('visibilitychange', { bubbles: true }));
    const bodies = await Promise.all(sent.map((s) => s.blob.text()));
    const lines = bodies.flatMap((b) => b.split('\n')).map((l) => JSON.parse(l));
    return { threw, before, fetched, sizes: sent.map((s) => s.blob.size),
      types: [...new Set(sent.map((s) => s.blob.type))], urls: [...new Set(sent.map((s) => s.url))],
      n: lines.length, failures: lines.filter((e) => e.outcome == 'failure').length,
      titles: [...new Set(lines.map((e) => e.title.length))] };
  });
  await tab.close();
  check('core: bad calls throw nothing into the page', u.threw == 0, `${u.threw}`);
  check('core: nothing sent before an endpoint is set', u.before == 0, `${u.before}`);
  check('core: when the page is hidden, 400 failed starts and 400 ends by sendBeacon', u.n == 800 &&
    u.failures == 400 && u.fetched == 0, `${u.n} events, ${u.failures} failures, ${u.fetched} fetches`);
  check('core: bodies of at most 60,000 bytes, text/plain, ?key= in the URL', u.sizes.length >= 3 &&
    u.sizes.every((s) => s <= 60000) && u.types.join() == 'text/plain' &&
    u.urls.join() == 'http://127.0.0.1:9/v1/events?key=opk_test', `${u.sizes.join(',')} bytes; ${u.types}; ${u.urls}`);
  check('core: a 300-byte title cut to 128', u.titles.join() == '128', u.titles.join());
}

// Backing off (a context of its own, on a fake clock, fetch replaced): a 503 with Retry-After
// 30 holds every fetch for 30 s, however many flushes come meanwhile; the first 10 s tick after
// that (at 40 s: the one at 30 s comes a few ms early) sends the held events in one body.
async function backoffCheck(browser, base) {
  const own = await browser.newContext();
  const tab = await own.newPage();
  await tab.goto(`${base}/page/blank.html`); // (install fails on the first about:blank)
  await tab.clock.install();
  await tab.goto(`${base}/page/blank.html`);
  await tab.addScriptTag({ url: `${base}/js/oncue-video.min.js` });
  await tab.evaluate(() => {
    window.got = [];
    window.fetch = (url, o) => {
      window.got.push(o.body);
      const busy = window.got.length == 1;
      return Promise.resolve(new Response('{}', { status: busy ? 503 : 200,
        headers: busy ? { 'Retry-After': '30' } : {} }));
    };
    window.oc = oncue.init({ endpoint: 'http://127.0.0.1:9/v1/events', key: 'opk_test' });
    oc.intent();
    oc.fatal('E1'); // sent at once: answered 503, Retry-After 30
  });
  const fetches = () => tab.evaluate(() => window.got.length);
  const first = await fetches();
  await tab.evaluate(() => { oc.intent(); oc.fatal('E2'); }); // a flush while held
  const held = await fetches();
  await tab.clock.fastForward('00:25'); // two ticks, still held
  const still = await fetches();
  await tab.clock.fastForward('00:20'); // 45 s: the tick at 40 s sends
  const after = await fetches();
  const body = await tab.evaluate(() => window.got[1] || '');
  await own.close();
  const codes = body.split('\n').filter((l) => l).map((l) => JSON.parse(l))
    .filter((e) => e.outcome == 'failure').map((e) => e.error_code);
  check('back-off: a 503 with Retry-After 30 holds the next fetch past 30 s', first == 1 && held == 1 &&
    still == 1 && after == 2, `fetches ${first}, ${held}, ${still}, ${after}`);
  check('back-off: the held events go in the next body', codes.join() == 'E1,E2', codes.join());
}

// The device and os dimensions read from user agents (a context each, fetch replaced).
const AGENTS = [
  ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1', 'mobile', 'ios'],
  ['Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1', 'tablet', 'ios'],
  ['Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36', 'mobile', 'android'],
  ['Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36', 'tablet', 'android'],
  ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36', 'desktop', 'windows'],
  ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15', 'desktop', 'macos'],
  ['Mozilla/5.0 (SMART-TV; LINUX; Tizen 7.0) AppleWebKit/537.36 (KHTML, like Gecko) 6.0 TV Safari/537.36', 'tv', 'tizen'],
  ['Mozilla/5.0 (Web0S; Linux/SmartTV) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/94.0.4606.128 Safari/537.36 WebAppManager', 'tv', 'webos'],
  ['Mozilla/5.0 (X11; CrOS x86_64 15917.71.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36', 'desktop', 'chromeos'],
];

async function agentChecks(browser, base) {
  const got = [];
  for (const [userAgent] of AGENTS) {
    const ctx = await browser.newContext({ userAgent });
    const tab = await ctx.newPage();
    await tab.goto(`${base}/page/blank.html`);
    await tab.addScriptTag({ url: `${base}/js/oncue-video.min.js` });
    got.push(await tab.evaluate(() => {
      let body = '';
      window.fetch = (url, o) => Promise.resolve(new Response('{}'), (body = o.body));
      const oc = oncue.init({ endpoint: 'http://127.0.0.1:9/v1/events' });
      oc.intent();
      oc.fatal('x');
      const e = JSON.parse(body.split('\n')[0]);
      return `${e.device}/${e.os}`;
    }));
    await ctx.close();
  }
  const want = AGENTS.map((a) => `${a[1]}/${a[2]}`);
  check('core: device and os from 9 user agents', got.join() == want.join(), got.join(' '));
}

// --- checks --------------------------------------------------------------------------------
const of = (title, type) => beacons.filter((b) => b.ev.title == title && (!type || b.ev.type == type));
const sum = (list, k) => list.reduce((s, b) => s + (b.ev[k] || 0), 0);

async function qoe(metric, filter) {
  const r = await fetch(`${SERVER}/v1/qoe?metric=${metric}&from=${qFrom}&to=${qTo}` +
    `&filter=${encodeURIComponent(filter)}`, { headers: { Authorization: `Bearer ${VIEWER}` } });
  const j = await r.json();
  return j.series && j.series[0] ? j.series[0].points[0][1] : undefined;
}
let qFrom = 0;
let pageOrigin = '';
let qTo = 0;

function checkStart(r, sc) {
  const t = sc.title;
  const starts = of(t, 'start');
  check(`${t}: one start event`, starts.length == 1, `${starts.length}`);
  const s = starts[0] ? starts[0].ev : {};
  return s;
}

function checkPlayed(r, wantPlayer, wantVersion, wantCdn) {
  const t = r.sc.title;
  const s = checkStart(r, r.sc);
  check(`${t}: start success, startup_ms in 1..8000`, s.outcome == 'success' &&
    s.startup_ms >= 1 && s.startup_ms <= 8000, `${s.outcome} ${s.startup_ms}`);
  const hb = of(t, 'heartbeat');
  const play = sum(hb, 'playing_ms');
  const spent = r.left - r.opened;
  check(`${t}: heartbeats' playing_ms within the time the tab was open`, hb.length > 0 &&
    play > 0.5 * (spent - s.startup_ms - 3000) && play <= spent, `${hb.length} heartbeats, ` +
    `${play} ms playing of ${spent} ms open`);
  const sessions = new Set(of(t).map((b) => b.ev.session));
  check(`${t}: one session id, 32 hex digits`, sessions.size == 1 &&
    /^[0-9a-f]{32}$/.test(s.session), [...sessions].join(','));
  check(`${t}: player ${wantPlayer} ${wantVersion}`, s.player == wantPlayer &&
    s.player_version == wantVersion, `${s.player} ${s.player_version}`);
  check(`${t}: cdn ${wantCdn}`, s.cdn == wantCdn, s.cdn);
  check(`${t}: device desktop, os linux, region and country from the page`, s.device == 'desktop' &&
    s.os == 'linux' && s.region == 'EMEA' && s.country == 'DE',
  `${s.device} ${s.os} ${s.region} ${s.country}`);
  const end = of(t, 'end');
  check(`${t}: one end event, the last`, end.length == 1 &&
    of(t).at(-1).ev.type == 'end', end.map((b) => b.ev.reason).join(','));
  return { s, hb, play, reb: sum(hb, 'rebuffer_ms') };
}

async function checkAll(results, versions) {
  const R = Object.fromEntries(results.map((r) => [r.sc.title, r]));
  for (const r of results) if (r.pageError) check(`${r.sc.title}: no page error`, false, r.pageError);
  check('every post accepted by oncue (200, rejected 0)', answers.length > 0 &&
    answers.every((a) => a.status == 200 && a.rejected === 0),
  answers.filter((a) => a.status != 200 || a.rejected).map((a) => a.text).join(' | ') || `${answers.length} posts`);
  check('no CORS preflight (text/plain bodies)', preflights == 0, `${preflights}`);
  const live = posts.filter((p) => !p.url.startsWith('/dry/'));
  check('every post carries ?key= with the public key, its page\'s Origin and no Authorization',
    live.length > 0 && live.every((p) => p.url == `/v1/events?key=${KEY}` && !p.auth &&
    p.origin == pageOrigin), `${live.length} posts, e.g. ${live[0] && live[0].url} from ${live[0] && live[0].origin}`);
  await checkHls(R, versions);
  await checkFailures(R, versions);
  await checkPlays(R, versions);
  await checkLimits(R, versions);
}

// hls.js on VOD: the tab closed before the first batch, the held segment.
async function checkHls(R, versions) {
  // The tab closed before the first 10 s batch: everything came with the page going away.
  {
    const r = R['hls-close'];
    const x = checkPlayed(r, 'hls.js', versions.hls, 'cdn-a');
    const all = of('hls-close');
    check('hls-close: nothing sent before the tab closed, all of it after', all.length >= 3 &&
      all.every((b) => b.at >= r.left), `${all.length} events, first at ${all[0] && all[0].at - r.left} ms after close`);
    check('hls-close: end reason pagehide', of('hls-close', 'end')[0]?.ev.reason == 'pagehide');
    check('hls-close: rebuffer_ms 0, bitrate_kbps 986 (the level BANDWIDTH)', x.reb == 0 &&
      x.hb.every((b) => b.ev.bitrate_kbps == 986), x.hb.map((b) => b.ev.bitrate_kbps).join(','));
    check('hls-close: live false (a boolean)', x.s.live === false, `${x.s.live}`);
    check('hls-close: a 200-byte dimension value cut to its first 128 bytes (64 characters)',
      x.s.pop == LONG.slice(0, 64), `${x.s.pop && Buffer.byteLength(x.s.pop)} bytes`);
    check('hls-close: cdn_request_id is an x-amz-cf-id the server sent',
      issuedIds.has(x.s.cdn_request_id), x.s.cdn_request_id);
    check('/v1/qoe plays title:hls-close = 1', await qoe('plays', 'title:hls-close') == 1);
    const p50 = await qoe('startup_p50_ms', 'title:hls-close');
    check('/v1/qoe startup_p50_ms title:hls-close = the start event\'s (1%)', near(p50, x.s.startup_ms, 0.01),
      `${p50} vs ${x.s.startup_ms}`);
  }
  await checkStall(R['hls-stall'], 'hls.js', versions.hls, 'cdn-a');
  await checkStall(R['shaka-stall'], 'shaka', versions.shaka, 'cloudfront');
}

// A held segment: the plugin's rebuffer time against the page's own waiting time, and /v1/qoe.
async function checkStall(r, player, version, cdn) {
  const t = r.sc.title;
  const x = checkPlayed(r, player, version, cdn);
  // the held segment's stall, and at most one momentary wait of the player's own beside it
  check(`${t}: the page saw the held segment's stall, at least 2 s`,
    (r.stalls == 1 || r.stalls == 2) && r.waitMs >= 2000,
    `${r.stalls} stalls, ${Math.round(r.waitMs)} ms waiting`);
  check(`${t}: plugin rebuffer_ms within 10% of the page's waiting time`,
    near(x.reb, r.waitMs, 0.1), `plugin ${x.reb} ms, page ${Math.round(r.waitMs)} ms`);
  const ratio = await qoe('rebuffer_ratio', `title:${t}`);
  const want = x.reb / (x.reb + x.play);
  check(`/v1/qoe rebuffer_ratio title:${t} = the plugin's rebuffer / (playing + rebuffer)`,
    ratio > 0 && Math.abs(ratio - want) < 1e-4, `${ratio} vs ${want.toFixed(6)}`);
  check(`/v1/qoe rebuffering_share title:${t} > 0`, await qoe('rebuffering_share', `title:${t}`) > 0);
}

// Failures: manifest 404s, an exit, a segment gone after the first frame.
async function checkFailures(R, versions) {
  // Manifest 404s: a failed start with the player's code.
  // (dash.js 25: DOWNLOAD_ERROR_ID_MANIFEST_CODE; Shaka 1001: BAD_HTTP_STATUS.)
  for (const [t, code, player] of [['hls-404', 'manifestLoadError:404', 'hls.js'],
    ['dash-404', '25:404', 'dash.js'], ['shaka-404', '1001:404', 'shaka']]) {
    const s = checkStart(R[t], R[t].sc);
    check(`${t}: start failure, error_code ${code}, player ${player}`, s.outcome == 'failure' &&
      s.error_code == code && s.player == player, `${s.outcome} ${s.error_code} ${s.player}`);
    check(`${t}: no heartbeat, one end`, of(t, 'heartbeat').length == 0 && of(t, 'end').length == 1);
    check(`/v1/qoe vsf_rate title:${t} = 1`, await qoe('vsf_rate', `title:${t}`) == 1);
  }
  // Left before the first frame: an exit; never asked to play: nothing.
  {
    const seq = of('hls-exit').map((b) => b.ev.type + ':' + (b.ev.outcome || b.ev.reason));
    check('hls-exit: start exit, end pagehide', seq.join(' ') == 'start:exit end:pagehide', seq.join(' '));
    check('/v1/qoe ebvs_rate title:hls-exit = 1', await qoe('ebvs_rate', 'title:hls-exit') == 1);
    const r = R['video-noplay'];
    check('video-noplay: the element loaded, paused; nothing sent', r.t === 0 && r.ready >= 1 &&
      of('video-noplay').length == 0, `readyState ${r.ready}, ${of('video-noplay').length} events`);
    const s = checkStart(R['video-scrub'], R['video-scrub'].sc);
    check('video-scrub: startup_ms counts from the play, not the load 5 s before (under 1,000 ms)',
      s.outcome == 'success' && s.startup_ms >= 0 && s.startup_ms < 1000 && R['video-scrub'].t > 12,
      `${s.outcome} ${s.startup_ms} ms, currentTime ${R['video-scrub'].t}`);
  }
  // A segment gone after the first frame: an error event, then the end.
  {
    const t = 'shaka-gone';
    const seq = of(t).map((b) => b.ev.type + (b.ev.outcome ? ':' + b.ev.outcome : '') +
      (b.ev.error_code ? ':' + b.ev.error_code : '') + (b.ev.reason ? ':' + b.ev.reason : ''));
    check(`${t}: start success, heartbeats, then error 1001:404, then end`, /^start:success( heartbeat)+ error:1001:404 end:error$/.test(seq.join(' ')),
      seq.join(' '));
    check(`/v1/qoe plays title:${t} = 1, vsf_rate 0`, await qoe('plays', `title:${t}`) == 1 &&
      await qoe('vsf_rate', `title:${t}`) === 0);
  }
}

// Clean plays: dash.js VOD, the live streams, the bare element, a seek.
async function checkPlays(R, versions) {
  // A clean VOD play with heartbeats every 10 s.
  {
    const r = R['dash-clean'];
    const x = checkPlayed(r, 'dash.js', versions.dash, 'cdn-b'); // the steering pathway
    check('dash-clean: at least 2 heartbeats before the close, rebuffer_ms 0', x.hb.filter((b) => b.at < r.left).length >= 2 && x.reb == 0,
      `${x.hb.length} heartbeats, ${x.reb} ms`);
    check('dash-clean: bitrate_kbps 800 (the video Representation)', x.hb.every((b) => b.ev.bitrate_kbps == 800),
      x.hb.map((b) => b.ev.bitrate_kbps).join(','));
    check('/v1/qoe plays title:dash-clean = 1', await qoe('plays', 'title:dash-clean') == 1);
    check('/v1/qoe rebuffer_ratio title:dash-clean = 0', await qoe('rebuffer_ratio', 'title:dash-clean') === 0);
    check('/v1/qoe avg_bitrate_kbps title:dash-clean = 800', await qoe('avg_bitrate_kbps', 'title:dash-clean') == 800);
  }
  // Live streams.
  for (const [t, player, version] of [['hls-live', 'hls.js', versions.hls],
    ['shaka-live', 'shaka', versions.shaka], ['dash-live', 'dash.js', versions.dash]]) {
    const x = checkPlayed(R[t], player, version, 'cloudfront');
    check(`${t}: live true`, x.s.live === true && of(t, 'heartbeat').every((b) => b.ev.live === true));
    check(`/v1/qoe plays live:true,title:${t} = 1`, await qoe('plays', `live:true,title:${t}`) == 1);
  }
  // The bare element, left by navigating away; its CDN from the page's host map.
  {
    const x = checkPlayed(R['video-mp4'], 'html5', versions.video, 'origin-mp4');
    check('video-mp4: end reason pagehide after navigating away', of('video-mp4', 'end')[0]?.ev.reason == 'pagehide');
    check('video-mp4: rebuffer_ms 0', x.reb == 0, `${x.reb}`);
    check('/v1/qoe plays cdn:origin-mp4 = 2 (video-mp4, video-direct)', await qoe('plays', 'cdn:origin-mp4') == 2);
  }
  // Straight to oncue with the key, everything in the pagehide beacon: only /v1/qoe sees it.
  {
    const t = 'title:video-direct';
    check('video-direct: /v1/qoe plays = 1, vsf_rate 0', await qoe('plays', t) == 1 && await qoe('vsf_rate', t) === 0);
    check('video-direct: /v1/qoe rebuffer_ratio = 0 and concurrent_viewers = 1 (its heartbeat came)',
      await qoe('rebuffer_ratio', t) === 0 && await qoe('concurrent_viewers', t) == 1);
    check('video-direct: nothing of it came through the recorder', of('video-direct').length == 0);
  }
  // A seek past the buffer waits, but is not rebuffering.
  {
    const r = R['hls-seek'];
    const x = checkPlayed(r, 'hls.js', versions.hls, 'cdn-a');
    check('hls-seek: the element waited during the seek, the page saw no stall', r.seekWaits > 0 &&
      r.stalls == 0 && r.t > 24, `${r.seekWaits} waits while seeking, ${r.stalls} stalls, currentTime ${r.t}`);
    check('hls-seek: rebuffer_ms 0', x.reb == 0, `${x.reb}`);
    check('/v1/qoe rebuffer_ratio title:hls-seek = 0', await qoe('rebuffer_ratio', 'title:hls-seek') === 0);
  }
}

// The fake-clock scenarios: the 5-minute stall, the hour idle.
async function checkLimits(R, versions) {
  // Five minutes of continuous rebuffering end the view.
  {
    const t = 'video-stall-limit';
    const r = R[t];
    const s = checkStart(r, r.sc);
    const hb = of(t, 'heartbeat');
    const end = of(t, 'end');
    check(`${t}: start success, then heartbeats with at least 300,000 ms rebuffering`,
      s.outcome == 'success' && sum(hb, 'rebuffer_ms') >= 300000, `${s.outcome} ${sum(hb, 'rebuffer_ms')} ms`);
    check(`${t}: end reason rebuffering, sent while the tab was still open`, end.length == 1 &&
      end[0].ev.reason == 'rebuffering' && end[0].at < r.left, end.map((b) => b.ev.reason).join(','));
  }
  // An hour paused: the next play is a new view.
  {
    const t = 'video-idle';
    const byS = new Map();
    for (const b of of(t)) byS.set(b.ev.session, [...(byS.get(b.ev.session) || []), b.ev]);
    const v = [...byS.values()];
    const types = v.map((l) => l.map((e) => e.type + (e.outcome ? ':' + e.outcome : '') +
      (e.reason ? ':' + e.reason : '')).join(' '));
    check(`${t}: two views; the first ends idle, the second starts on play and ends at pagehide`,
      v.length == 2 && /^start:success( heartbeat)+ end:idle$/.test(types[0]) &&
      /^start:success( heartbeat)+ end:pagehide$/.test(types[1]), types.join(' | '));
    const st = v[1] && v[1][0].startup_ms;
    check(`${t}: the second view's startup_ms counts from the play (under 1,000 ms)`, st >= 0 && st < 1000, `${st}`);
  }
}

async function main() {
  const pages = {};
  const media = await pageServer(pages);
  const rec = await recorder();
  const base = `http://127.0.0.1:${media.port}`;
  const endpoint = `http://127.0.0.1:${rec.port}/v1/events`;
  pageOrigin = base;
  const kr = await fetch(`${SERVER}/v1/ingest-keys`, { method: 'POST',
    headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ name: 'sdk-web', origins: [base] }) });
  KEY = (await kr.json()).key;
  check('POST /v1/ingest-keys makes a key for the page origin', kr.status == 201 &&
    /^opk_[A-Za-z0-9_-]{22}$/.test(KEY), `${kr.status} ${KEY}`);
  for (const sc of SCENARIOS) pages[`/page/${sc.title}.html`] = page(sc, endpoint, `127.0.0.1:${media.port}`);

  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--autoplay-policy=no-user-gesture-required'],
  });
  const ctx = await browser.newContext();
  const results = [];
  let versions = {};
  try {
    const tab = await ctx.newPage();
    pages['/page/blank.html'] = '<!doctype html><title>blank</title>';
    await tab.goto(`${base}/page/blank.html`);
    for (const lib of ['hls', 'dash', 'shaka']) await tab.addScriptTag({ url: `${base}/js/${lib}.js` });
    versions = await tab.evaluate(() => ({ hls: Hls.version, dash: dashjs.Version || dashjs.MediaPlayer().create().getVersion(),
      shaka: shaka.Player.version, video: 'chrome-' + /Chrome\/(\d+)/.exec(navigator.userAgent)[1] }));
    await tab.close();
    console.log(`players: hls.js ${versions.hls}, dash.js ${versions.dash}, shaka ${versions.shaka}, ${versions.video}`);
    await coreChecks(ctx, base);
    await backoffCheck(browser, base);
    await agentChecks(browser, base);
    qFrom = Math.floor(Date.now() / 60000) * 60;
    for (const wave of WAVES) {
      const scs = wave.map((t) => SCENARIOS.find((s) => s.title == t));
      // Tabs open 300 ms apart: ten players loading at once on two cores slowed every start.
      results.push(...await Promise.all(scs.map((sc, i) =>
        sleep(300 * i).then(() => run(browser, ctx, base, sc)))));
    }
  } finally {
    await browser.close();
  }
  await sleep(500);
  // One late event moves the replay clock past the minutes played, closing them.
  qTo = (Math.floor(Date.now() / 60000) + 1) * 60;
  const late = { ts: qTo * 1000 + 30000, type: 'heartbeat', session: 'clock', title: 'clock',
    playing_ms: 1, rebuffer_ms: 0 };
  const lr = await fetch(`${SERVER}/v1/events`, { method: 'POST', body: JSON.stringify([late]),
    headers: { Authorization: `Bearer ${INGEST}` } });
  check('the late event is accepted', lr.status == 200, `${lr.status}`);
  for (let i = 0; i < 50 && (await qoe('plays', 'title:video-mp4')) == null; i++) await sleep(200);
  fs.writeFileSync(path.join(WORK, 'beacons.ndjson'), beacons.map((b) => JSON.stringify(b)).join('\n') + '\n');
  fs.writeFileSync(path.join(WORK, 'answers.json'), JSON.stringify(answers, null, 1));
  await checkAll(results, versions);
  for (const res of hanging) res.destroy();
  media.srv.close();
  rec.srv.close();
  console.log(`${passed} passed, ${failed} failed`);
  for (const f of failures) console.log(`failed: ${f}`);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.log(`FAIL ${e.stack || e}${e.cause ? ' (' + e.cause + ')' : ''}`);
  console.log(`${passed} passed, ${failed + 1} failed`);
  process.exit(1);
});
