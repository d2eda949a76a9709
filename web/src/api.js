// Same-origin calls to the oncue API. Errors are problem+json: their `detail` is shown as is.
const listeners = new Set();

/** Called with no argument whenever the server answers 401 (the session ended). */
export function onUnauthorized(fn) {
    listeners.add(fn);
    return () => listeners.delete(fn);
}

export class ApiError extends Error {
    constructor(status, message, problem) {
        super(message);
        this.status = status;
        this.problem = problem || null;
    }
}

export async function api(path, { method = 'GET', body, signal, headers = {} } = {}) {
    const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json', ...headers }, signal };
    if (body !== undefined) {
        init.headers['Content-Type'] = 'application/json';
        init.body = JSON.stringify(body);
    }
    let r;
    try {
        r = await fetch(path, init);
    } catch (e) {
        if (e.name === 'AbortError') throw e;
        throw new ApiError(0, `cannot reach the oncue server (${e.message})`);
    }
    const type = r.headers.get('content-type') || '';
    if (!r.ok) {
        let problem = null;
        if (type.includes('json')) problem = await r.json().catch(() => null);
        const detail = (problem && (problem.detail || problem.title)) || r.statusText || 'request failed';
        if (r.status === 401 && !path.startsWith('/v1/session')) listeners.forEach(fn => fn());
        throw new ApiError(r.status, `${r.status} ${(problem && problem.title) || r.statusText}: ${detail}`, problem);
    }
    if (r.status === 204) return null;
    return type.includes('json') ? r.json() : r.text();
}

export const post = (path, body = {}) => api(path, { method: 'POST', body });

/** GET /v1/qoe with the query's own names; from/to are unix seconds. */
export function qoe({ metric, from, to, step, filter, group_by, top }) {
    const p = new URLSearchParams({ metric, from: String(from), to: String(to) });
    if (step) p.set('step', String(step));
    if (filter) p.set('filter', filter);
    if (group_by) p.set('group_by', group_by);
    // Percentile metrics allow at most 8192 groups x points (the server's QOE_MAX_HIST): ask
    // for no more groups than fit (the default top is 100).
    if (/^startup_p/.test(metric)) {
        const n = step ? Math.ceil((to - from) / step) : 1;
        top = Math.max(1, Math.min(top || (group_by ? 100 : 1), Math.floor(8192 / n)));
    }
    if (top) p.set('top', String(top));
    return api(`/v1/qoe?${p}`);
}
