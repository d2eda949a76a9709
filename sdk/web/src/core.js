// core.js - the player-independent part of the oncue beacon plugin: one view (a play attempt
// and what follows it) at a time per tracker, measured from the media element's own events,
// turned into oncue's beacon events (docs/contracts.md "Beacon events") and sent in batches.
//
// Adapters (hls.js, dash.js, shaka.js, video.js) call the tracker's methods: media(el) to
// attach the element, intent() when the player is told to load, dims({...}) for what the
// player knows, kbps(n) for the rendered bitrate, fatal(code) for a fatal error, response(url,
// header) for each media response. Every entry point is wrapped: nothing throws into the page.

const HEARTBEAT_MS = 10000; // a heartbeat and a flush every 10 s
const MAX_STALL_MS = 300000; // 5 minutes of continuous rebuffering ends the view
const IDLE_MS = 3600000; // an hour idle: the next play is a new view
const MAX_BODY = 60000; // bytes of one request: under sendBeacon's 64 KiB
const MAX_QUEUE = 1000; // events kept while the endpoint is unset or unreachable
const MAX_HOLD_S = 300; // longest back-off after refusals, seconds
const MAX_DIM = 128; // bytes of one dimension value
// CDN request-id headers, and the CDN each one names.
const IDS = { 'cf-ray': 'cloudflare', 'x-amz-cf-id': 'cloudfront', 'x-akamai-request-id': 'akamai' };

const enc = new TextEncoder();
const now = () => performance.now();

// Calls f, swallowing anything it throws (the host page must never see our errors).
export const safe = (f) =>
  function (...a) {
    try {
      return f.apply(this, a);
    } catch (e) {
      /* never into the page */
    }
  };

// A value cut to MAX_DIM bytes of UTF-8 (whole characters only); booleans and numbers kept.
const cut = (v) => {
  if (typeof v != 'string') return v;
  if (enc.encode(v).length <= MAX_DIM) return v;
  let s = v.slice(0, MAX_DIM);
  while (enc.encode(s).length > MAX_DIM) s = s.slice(0, -1);
  return s;
};

// Coarse device class and OS from the user agent.
const ua = (u) => {
  const t = (re) => re.test(u);
  const os = t(/Windows/) ? 'windows' : t(/iPhone|iPad|iPod/) ? 'ios' : t(/Android/) ? 'android'
    : t(/CrOS/) ? 'chromeos' : t(/Mac OS X|Macintosh/) ? 'macos' : t(/Tizen/) ? 'tizen'
    : t(/Web0S|webOS/) ? 'webos' : t(/Linux/) ? 'linux' : 'other';
  const device = t(/SMART-TV|SmartTV|Tizen|Web0S|CrKey|AppleTV|BRAVIA|AFT/) ? 'tv'
    : t(/iPad|Tablet/) || (os == 'android' && !t(/Mobile/)) ? 'tablet'
    : t(/Mobi|iPhone|iPod/) ? 'mobile' : 'desktop';
  return { device, os };
};

/**
 * A header getter (lower-case name -> value or null) over what players hand out for a
 * response: an XMLHttpRequest (only the headers CORS exposes, without console noise), a fetch
 * Response or Headers, or a plain object of headers.
 */
export const headerOf = (x) => (k) => {
  if (!x) return null;
  if (x.getAllResponseHeaders)
    return (x.getAllResponseHeaders().match(new RegExp('^' + k + ':\\s*(.*)$', 'mi')) || [])[1];
  const h = x.headers || x;
  if (h.get) return h.get(k);
  for (const n in h) if (n.toLowerCase() == k) return h[n];
  return null;
};

/** A short DRM name for a key system (com.widevine.alpha -> widevine). */
export const drmName = (s) =>
  (/widevine|playready|fairplay|clearkey/.exec(s) || [s && s.replace(/^com\./, '')])[0];

const rid = () => {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => (x + 256).toString(16).slice(1)).join('');
};

/**
 * Creates a tracker. cfg: endpoint (the server's /v1/events URL; nothing is sent while it is
 * unset), key (a public ingest key, opk_...), dims (dimensions the page knows: title, region,
 * country, ...), cdns (host or host:port -> CDN name), interval (ms between heartbeats,
 * default 10000). Returns the tracker; configure(cfg) later merges more settings.
 */
export function init(cfg = {}) {
  let c = {};
  let dims = {};
  let el = null; // the media element
  let v = null; // the current view
  let q = []; // events waiting to be sent
  let timer = 0;
  let pathway = 0; // the CDN from steering state, when the player has one
  let hostCdn = 0; // the CDN from the configured host map
  let hdrCdn = 0; // the CDN from response headers
  let reqId = 0; // the latest CDN request id seen
  let rate = 0; // the rendered bitrate, kbps

  const t = {};
  const sys = ua(navigator.userAgent);

  // Queues one event of the current view with every dimension known now.
  const emit = (type, extra) => {
    const e = { ts: Date.now(), type, session: v.id, ...sys, ...dims };
    const cdn = pathway || hostCdn || hdrCdn;
    if (cdn) e.cdn = cdn;
    for (const k in e) e[k] = cut(e[k]);
    if (reqId) e.cdn_request_id = reqId;
    q.push(Object.assign(e, extra));
    if (q.length > MAX_QUEUE) q.splice(0, q.length - MAX_QUEUE);
  };

  // Adds the time since the current state began (playing, stalled, seeking or neither) to
  // its total, at time n; the state goes on from n.
  const count = (n) => {
    const d = n - v.at;
    if (v.st == 'play') {
      v.playMs += d;
      v.bits += d * rate;
      if (rate) v.rateMs += d;
    } else if (v.st == 'stall') {
      v.rebufMs += d;
      v.stallMs += d;
    }
    v.at = n;
  };
  // Moves the current view to state st at time n.
  const go = (st, n) => {
    count(n);
    if (st != 'stall') v.stallMs = 0;
    v.st = st;
    v.pos = el.currentTime;
  };

  // Queues a heartbeat of what happened since the previous one, if anything did.
  const heartbeat = (n) => {
    count(n);
    if (v.playMs || v.rebufMs) {
      const h = { playing_ms: Math.round(v.playMs), rebuffer_ms: Math.round(v.rebufMs) };
      if (v.bits) h.bitrate_kbps = Math.round(v.bits / v.rateMs);
      emit('heartbeat', h);
      v.playMs = v.rebufMs = v.bits = v.rateMs = 0;
    }
  };

  // Ends the current view: its last heartbeat (or an exit start) and an end event. A view
  // nobody asked to play (no autoplay, no play) was no play attempt: it sends nothing.
  const finish = (reason) => {
    if (!v || v.done) return;
    v.done = 1;
    if (v.ok) heartbeat(now());
    else if (!v.failed) {
      if (!v.asked && !(el && el.autoplay)) return;
      emit('start', { outcome: 'exit' });
    }
    emit('end', { reason });
  };

  // Starts a new view (ending the previous one), its play intent now.
  const view = () => {
    finish('new_view');
    const n = now();
    v = { id: rid(), t0: n, st: '', at: n, idle: n, pos: 0,
      playMs: 0, rebufMs: 0, bits: 0, rateMs: 0, stallMs: 0 };
  };

  // Backing off: after a 429 or 5xx answer (or no answer) nothing is fetched before the
  // server's Retry-After, and never sooner than 10 s doubling with each failure in a row, up
  // to 5 minutes; the page going away still sends by sendBeacon.
  let holdUntil = 0;
  let fails = 0;
  const hold = (r) => {
    fails++;
    const ra = Number(r && r.headers && r.headers.get('Retry-After')) || 0;
    holdUntil = now() + 1000 * Math.min(MAX_HOLD_S, Math.max(ra, 10 * 2 ** Math.min(fails - 1, 5)));
  };

  // Sends the queue: sendBeacon (beacon true: the page is going away) or fetch, in bodies
  // of at most MAX_BODY bytes of NDJSON; events fetch could not deliver go back in the queue.
  const flush = (beacon) => {
    if (!c.endpoint || !q.length || (!beacon && now() < holdUntil)) return;
    const url = c.endpoint + (c.key ? (/\?/.test(c.endpoint) ? '&' : '?') + 'key=' +
      encodeURIComponent(c.key) : '');
    while (q.length) {
      let body = '';
      let i = 0;
      for (; i < q.length; i++) {
        const line = JSON.stringify(q[i]);
        if (i && enc.encode(body).length + enc.encode(line).length + 1 > MAX_BODY) break;
        body += (i ? '\n' : '') + line;
      }
      const batch = q.splice(0, i);
      if (beacon && navigator.sendBeacon &&
          navigator.sendBeacon(url, new Blob([body], { type: 'text/plain' }))) continue;
      const back = (r) => {
        if (q.length < MAX_QUEUE) q.unshift(...batch);
        hold(r);
      };
      fetch(url, { method: 'POST', body, keepalive: true, credentials: 'omit' })
        .then((r) => (r.status > 499 || r.status == 429 ? back(r) : (fails = 0)), () => back());
      if (!beacon) break; // one body per tick: a refusal holds the rest back
    }
  };

  // The ticker: heartbeats, the 5-minute stall and one-hour idle limits, and the flush.
  const tick = safe(() => {
    const n = now();
    if (live()) {
      if (v.st == 'stall' && v.stallMs + n - v.at >= MAX_STALL_MS) finish('rebuffering');
      else if (el.paused && n - v.idle >= IDLE_MS) finish('idle');
      else heartbeat(n);
    }
    flush();
  });
  // A view that started playing and has not ended.
  const live = () => v && v.ok && !v.done;

  // The media element's events: ground truth for first frame, stalls, seeks and pauses.
  const on = {
    play() {
      const n = now();
      // A play asked of an element that could already play (loaded, paused, no autoplay):
      // startup counts from it, so that preloading and seeking before it are not startup.
      if (!v || v.done || (v.ok && n - v.idle >= IDLE_MS)) view();
      else if (!v.ok && !el.autoplay && el.readyState > 2) v.t0 = n;
      v.asked = 1;
    },
    playing() {
      if (!v || v.done) return;
      const n = now();
      if (!v.ok) {
        count(n);
        v.ok = 1;
        emit('start', { outcome: 'success', startup_ms: Math.round(n - v.t0) });
      }
      go(el.paused ? '' : 'play', n);
    },
    waiting() {
      if (live() && v.st == 'play' && !el.seeking) go('stall', now());
    },
    seeking() {
      // A seek lasts until playback moves (playing, or timeupdate below): not rebuffering.
      if (live()) go('seek', now());
    },
    seeked() {
      if (v) v.pos = el.currentTime;
    },
    timeupdate() {
      // Playback moved on although no playing event came: the stall or seek is over.
      if (live() && (v.st == 'stall' || v.st == 'seek') && !el.paused && !el.seeking &&
          el.readyState > 2 && el.currentTime > v.pos + 0.2) on.playing();
    },
    pause() {
      if (!v || v.done) return;
      v.idle = now();
      go('', v.idle);
    },
    ended() {
      finish('ended');
    },
  };

  const hide = safe((e) => {
    if (e.type == 'pagehide') finish('pagehide');
    else if (document.visibilityState != 'hidden') return;
    else if (live()) heartbeat(now());
    flush(1);
  });

  /** Merges settings into the tracker (see init); sending starts once endpoint is set. */
  t.configure = safe((o) => {
    c = { ...c, ...o };
    dims = { ...dims, ...o.dims };
    clearInterval(timer);
    timer = setInterval(tick, c.interval || HEARTBEAT_MS);
  });
  /** Attaches the media element the player renders into (listeners only). */
  t.media = safe((m) => {
    if (m == el) return;
    if (el) for (const k in on) el.removeEventListener(k, on[k]);
    el = m;
    if (el) for (const k in on) el.addEventListener(k, (on[k] = safe(on[k])));
  });
  /** The player was told to load a source: a new view starts, its startup clock now. */
  t.intent = safe(() => {
    view();
    pathway = hostCdn = hdrCdn = reqId = 0;
  });
  /** Dimensions the player knows (player, player_version, live, drm, ...). */
  t.dims = safe((d) => Object.assign(dims, d));
  /** The steering pathway the player uses now (the cdn dimension). */
  t.pathway = safe((p) => (pathway = p || 0));
  /** The bitrate being rendered, kbps. */
  t.kbps = safe((k) => {
    if (v) count(now());
    rate = k || 0;
  });
  /** A fatal error: a failed start before the first frame, an error and the end after it. */
  t.fatal = safe((code) => {
    if (!v || v.done) return;
    const error_code = String(code).slice(0, MAX_DIM);
    if (!v.ok) {
      v.failed = 1;
      emit('start', { outcome: 'failure', error_code });
    } else {
      heartbeat(now()); // what played before the error, then the error
      v.st = '';
      emit('error', { error_code });
    }
    finish('error');
    flush();
  });
  /** A media response: url, and header(name) giving a response header or null. */
  t.response = safe((url, header) => {
    const h = new URL(url, location.href).host;
    if (c.cdns && c.cdns[h]) hostCdn = c.cdns[h];
    for (const k in IDS) {
      const id = header(k);
      if (id) {
        reqId = id;
        hdrCdn = IDS[k];
      }
    }
  });
  /** Ends the view (the player is destroyed) and sends what is queued. */
  t.destroy = safe(() => {
    finish('destroyed');
    flush();
  });
  /** The current view's session id (for support tickets), or null. */
  t.session = () => (v ? v.id : null);

  addEventListener('pagehide', hide);
  document.addEventListener('visibilitychange', hide);
  t.configure(cfg);
  return t;
}
