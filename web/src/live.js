// Live updates: GET /v1/stream (server-sent events, one event name per topic). Views subscribe
// with a predicate; `reset`, a stream error or a closed stream mean "refetch everything".
// While the stream is down, a reset is emitted every 5 s so views keep within 5 s of the truth.
import { setServerNow } from './fmt.js';

const TOPICS = ['incident.opened', 'incident.page', 'incident.resolved', 'incident.merged',
    'incident.mitigated', 'incident.status_update', 'incident.severity_changed',
    'incident.acknowledged', 'incident.timeline', 'rca.localized', 'mitigation.applied', 'mitigation.reverted',
    'alert.fired', 'alert.resolved', 'steer.policy_changed', 'reset'];

const subs = new Set();
const statusSubs = new Set();
let es = null;
let retry = null;
let poll = null;
let state = 'connecting';

function setState(s) {
    if (s === state) return;
    state = s;
    statusSubs.forEach(fn => fn(s));
}

function emit(ev) {
    subs.forEach(fn => {
        try { fn(ev); } catch (e) { console.error(e); }
    });
}

function onMessage(e) {
    let d = {};
    try { d = JSON.parse(e.data); } catch { /* keep the topic */ }
    if (d.at_ms) setServerNow(d.at_ms); // a replaying server's clock moves with its events
    emit({ topic: e.type, incident: d.incident ?? null, seq: d.seq, at_ms: d.at_ms });
}

export function startLive() {
    if (es || typeof EventSource === 'undefined') return;
    clearTimeout(retry);
    es = new EventSource('/v1/stream', { withCredentials: true });
    es.onopen = () => {
        setState('live');
        clearInterval(poll);
        poll = null;
        emit({ topic: 'reset', incident: null });
    };
    es.onerror = () => {
        setState('down');
        emit({ topic: 'reset', incident: null });
        if (!poll) poll = setInterval(() => emit({ topic: 'reset', incident: null }), 5000);
        if (es && es.readyState === EventSource.CLOSED) {
            es = null;
            retry = setTimeout(startLive, 5000);
        }
    };
    for (const t of TOPICS) es.addEventListener(t, onMessage);
}

export function stopLive() {
    clearTimeout(retry);
    clearInterval(poll);
    poll = null;
    if (es) es.close();
    es = null;
    setState('connecting');
}

/** fn(event) for every live event; returns the unsubscribe function. */
export function onLive(fn) {
    subs.add(fn);
    return () => subs.delete(fn);
}

export function onLiveState(fn) {
    statusSubs.add(fn);
    fn(state);
    return () => statusSubs.delete(fn);
}

/** A predicate: events whose topic starts with one of the prefixes (and `reset`). */
export const topics = (...prefixes) => ev =>
    ev.topic === 'reset' || prefixes.some(p => ev.topic.startsWith(p));

/** Events about one incident (or about no incident in particular), and `reset`. */
export const aboutIncident = (id, ...prefixes) => ev =>
    ev.topic === 'reset' ||
    (prefixes.some(p => ev.topic.startsWith(p)) && (ev.incident == null || ev.incident === id));
