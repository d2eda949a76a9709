// Units, metric metadata and time handling shared by the views.

/** The QoE metrics (docs/contracts.md "Metrics"): label, unit, which direction is bad, and the
 * metric that measures a slice's share of traffic for the breakdown's impact. */
export const METRICS = {
    concurrent_viewers: { label: 'Concurrent viewers', unit: 'count', bad: 'low', volume: 'concurrent_viewers' },
    plays: { label: 'Plays', unit: 'count', bad: 'low', volume: 'plays' },
    vsf_rate: { label: 'Video start failures (VSF)', unit: 'ratio', bad: 'high', volume: 'plays' },
    ebvs_rate: { label: 'Exits before video start (EBVS)', unit: 'ratio', bad: 'high', volume: 'plays' },
    vpf_rate: { label: 'Video playback failures (VPF, per minute)', unit: 'ratio', bad: 'high', volume: 'concurrent_viewers' },
    rebuffer_ratio: { label: 'Rebuffer ratio', unit: 'ratio', bad: 'high', volume: 'concurrent_viewers' },
    rebuffering_share: { label: 'Viewers rebuffering (per minute)', unit: 'ratio', bad: 'high', volume: 'concurrent_viewers' },
    concurrent_rebuffering_share: { label: 'Concurrent viewers rebuffering', unit: 'ratio', bad: 'high', volume: 'concurrent_viewers' },
    avg_bitrate_kbps: { label: 'Average bitrate', unit: 'kbps', bad: 'low', volume: 'concurrent_viewers' },
    startup_p50_ms: { label: 'Startup time p50', unit: 'ms', bad: 'high', volume: 'plays' },
    startup_p95_ms: { label: 'Startup time p95', unit: 'ms', bad: 'high', volume: 'plays' },
    // the CDN's side, from CDN log lines (POST /v1/cdn-logs)
    edge_requests: { label: 'Edge requests', unit: 'count', bad: 'low', volume: 'edge_requests' },
    edge_5xx_rate: { label: 'Edge 5xx rate', unit: 'ratio', bad: 'high', volume: 'edge_requests' },
    edge_cache_miss_rate: { label: 'Edge cache miss rate', unit: 'ratio', bad: 'high', volume: 'edge_requests' },
    edge_origin_pulls: { label: 'Origin pulls', unit: 'count', bad: 'high', volume: 'edge_requests' },
    edge_ttfb_ms: { label: 'Edge time to first byte', unit: 'ms', bad: 'high', volume: 'edge_requests' },
};
export const metricLabel = m => (METRICS[m] ? METRICS[m].label : m);

export const DIMENSIONS = ['region', 'country', 'cdn', 'pop', 'isp', 'asn', 'device', 'os', 'player',
    'player_version', 'drm', 'title', 'live'];

export function fmtNum(v, digits = 0) {
    if (v == null || !isFinite(v)) return '–';
    const a = Math.abs(v);
    if (a >= 1e6) return (v / 1e6).toFixed(a >= 1e7 ? 1 : 2) + 'M';
    if (a >= 1e4) return (v / 1e3).toFixed(a >= 1e5 ? 0 : 1) + 'k';
    return v.toLocaleString('en-US', { maximumFractionDigits: digits });
}

export function fmtPct(v, digits) {
    if (v == null || !isFinite(v)) return '–';
    const p = v * 100;
    const d = digits ?? (Math.abs(p) >= 10 ? 1 : 2);
    return p.toFixed(d) + '%';
}

export function fmtMs(v) {
    if (v == null || !isFinite(v)) return '–';
    return v >= 1000 ? (v / 1000).toFixed(v >= 10000 ? 1 : 2) + ' s' : Math.round(v) + ' ms';
}

/** A metric value with its unit. */
export function fmtValue(metric, v) {
    const u = METRICS[metric] ? METRICS[metric].unit : 'count';
    if (u === 'ratio') return fmtPct(v);
    if (u === 'ms') return fmtMs(v);
    if (u === 'kbps') return v == null ? '–' : fmtNum(v) + ' kbps';
    return fmtNum(v, v != null && Math.abs(v) < 10 ? 1 : 0);
}

/** A threshold as written in rules and SLOs, in the metric's unit. */
export const fmtThreshold = (metric, v) => fmtValue(metric, v);

const pad = n => String(n).padStart(2, '0');

/** UTC clock time of a unix-seconds instant: HH:MM:SS. */
export function fmtClock(s) {
    if (s == null) return '–';
    const d = new Date(s * 1000);
    return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/** UTC date and time: 2026-03-02 19:43:05Z. */
export function fmtTime(s) {
    if (s == null) return '–';
    const d = new Date(s * 1000);
    return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${fmtClock(s)}Z`;
}

export function fmtDur(s) {
    if (s == null || !isFinite(s)) return '–';
    s = Math.max(0, Math.round(s));
    if (s < 60) return `${s} s`;
    const two = (a, ua, b, ub) => (b ? `${a} ${ua} ${b} ${ub}` : `${a} ${ua}`);
    if (s < 3600) return two(Math.floor(s / 60), 'min', s % 60, 's');
    if (s < 86400) return two(Math.floor(s / 3600), 'h', Math.floor((s % 3600) / 60), 'min');
    return two(Math.floor(s / 86400), 'd', Math.floor((s % 86400) / 3600), 'h');
}

/* The server's clock, as unix seconds. The console's "now" is the server's: on a server
 * replaying a past day (--clock replay) "the last 3 hours" are that day's. serverNow follows
 * the offset measured by setServerNow(now_ms) from GET /v1/session. */
let skewMs = 0;
export function setServerNow(nowMs) {
    if (Number.isFinite(nowMs) && nowMs > 0) skewMs = nowMs - Date.now();
}
export const serverNow = () => (Date.now() + skewMs) / 1000;

export function fmtAgo(s, now = serverNow()) {
    if (s == null) return '–';
    const d = now - s;
    return d < 0 ? `in ${fmtDur(-d)}` : `${fmtDur(d)} ago`;
}

const UNIT = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** 'now', '-6h', '-30m', '-2d', unix seconds (or ms) or an ISO time -> unix seconds. */
export function parseTime(v, now = serverNow()) {
    if (v == null || v === '' || v === 'now') return Math.floor(now);
    const m = /^(?:now)?-(\d+(?:\.\d+)?)([smhdw])$/.exec(String(v).trim());
    if (m) return Math.floor(now - Number(m[1]) * UNIT[m[2]]);
    if (/^\d+$/.test(v)) {
        const n = Number(v);
        return n > 1e11 ? Math.floor(n / 1000) : n;
    }
    const t = Date.parse(v);
    return isNaN(t) ? null : Math.floor(t / 1000);
}

/** The query range for from/to/step texts: minute-aligned, the open minute left out, and a
 * step (a multiple of 60) that keeps a chart under ~1500 points unless one is given. */
export function range(fromText, toText, stepText, now = serverNow()) {
    let to = parseTime(toText || 'now', now);
    let from = parseTime(fromText || '-3h', now);
    const errors = [];
    if (to == null) { errors.push(`to: cannot read '${toText}'`); to = Math.floor(now); }
    if (from == null) { errors.push(`from: cannot read '${fromText}'`); from = to - 3 * 3600; }
    to = Math.min(to, Math.floor(now / 60) * 60);
    to = Math.floor(to / 60) * 60;
    if (from >= to) { errors.push('from must be before to'); from = to - 3600; }
    let step = Number(stepText) || 0;
    if (step > 0) step = Math.max(60, Math.round(step / 60) * 60);
    else step = Math.max(60, Math.ceil((to - from) / 1440 / 60) * 60);
    from = Math.floor(from / step) * step;
    const n = Math.ceil((to - from) / step);
    to = from + n * step;
    return { from, to, step, n, errors };
}

export const sliceText = g => {
    const e = Object.entries(g || {});
    return e.length ? e.map(([k, v]) => `${k}=${v}`).join(' & ') : 'all';
};
export const sliceFilter = g => Object.entries(g || {}).map(([k, v]) => `${k}:${v}`).join(',');

/** 'region:EMEA,cdn:primary' -> [['region','EMEA'],['cdn','primary']] */
export const parseFilter = f => (f ? f.split(',').filter(Boolean).map(p => {
    const i = p.indexOf(':');
    return i < 0 ? [p, ''] : [p.slice(0, i), p.slice(i + 1)];
}) : []);
export const joinFilter = pairs => pairs.map(([k, v]) => `${k}:${v}`).join(',');
