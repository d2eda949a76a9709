// dev.mjs - development server for the console (a dev tool, not shipped; no dependencies).
//
//   ONCUE_TOKEN=... node web/dev.mjs [--port 8471] [--upstream http://127.0.0.1:8470]
//
// Serves web/dist/ at / and /assets/, and proxies /v1/*, /status* and /healthz to a running
// `oncue serve` adding `Authorization: Bearer <token>`, so the console can run against a server
// that does not serve it yet. It fakes what that server lacks:
//   - sessions: POST /v1/session {token} checks the token upstream and keeps it in memory under
//     an HttpOnly cookie; GET answers {name, role, expires_ms, via}; DELETE signs out. With
//     ONCUE_TOKEN set, a browser without a session uses that token (ONCUE_NAME, default "dev")
//     until it signs out; the role is probed upstream (admin, responder or viewer).
//   - GET /v1/stream: server-sent events made by polling the server every 2 s and naming
//     what changed (incident.*, alert.*, mitigation.applied|reverted).
// Same CSP as the real server. Rebuild with `make web` (or scripts/web.sh build) and reload.
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join, dirname, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const arg = (n, d) => (args.includes(n) ? args[args.indexOf(n) + 1] : d);
const PORT = Number(arg('--port', process.env.PORT || 8471));
const UP = new URL(arg('--upstream', process.env.ONCUE_SERVER || 'http://127.0.0.1:8470'));
const DIST = join(here, 'dist');
const ENV_TOKEN = process.env.ONCUE_TOKEN || '';
const CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'";
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.txt': 'text/plain; charset=utf-8' };

const sessions = new Map(); // sid -> {token, name, role, expires_ms, via}

function upstream(method, path, token, body, headers = {}) {
    return new Promise((resolve, reject) => {
        const req = http.request({ host: UP.hostname, port: UP.port, method, path,
            headers: { ...headers, ...(token ? { Authorization: `Bearer ${token}` } : {}) } }, res => {
            const chunks = [];
            res.on('data', c => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
        });
        req.on('error', reject);
        if (body) req.write(body);
        req.end();
    });
}

async function probeRole(token) {
    const m = await upstream('GET', '/v1/modules', token);
    if (m.status !== 200) return null;
    if ((await upstream('GET', '/v1/tokens', token)).status === 200) return 'admin';
    // An empty mitigation is refused before anything is applied: 403 for a viewer, 422 else.
    const r = await upstream('POST', '/v1/mitigations', token, '{}', { 'Content-Type': 'application/json' });
    return r.status === 403 ? 'viewer' : 'responder';
}

const cookies = req => Object.fromEntries((req.headers.cookie || '').split(';').map(c => c.trim().split('=')).filter(p => p[0]));
const problem = (res, status, detail, path) => {
    res.writeHead(status, { 'Content-Type': 'application/problem+json' });
    res.end(JSON.stringify({ type: 'about:blank', title: http.STATUS_CODES[status], status, detail, instance: path }));
};

let envSession = null;
async function sessionOf(req) {
    const c = cookies(req);
    if (c.oncue_dev && sessions.has(c.oncue_dev)) return sessions.get(c.oncue_dev);
    if (ENV_TOKEN && c.oncue_dev !== 'out') {
        if (!envSession) {
            const role = await probeRole(ENV_TOKEN);
            envSession = role && { token: ENV_TOKEN, name: process.env.ONCUE_NAME || 'dev', role, expires_ms: Date.now() + 12 * 3600e3, via: 'token' };
        }
        return envSession;
    }
    return null;
}

const readBody = req => new Promise(resolve => {
    const chunks = [];
    req.on('data', c => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
});

// --- the fake event stream: poll, diff, emit ---
const clients = new Set();
let seq = 0;
let last = null;
function send(topic, incident) {
    const data = JSON.stringify({ seq: ++seq, topic, incident, at_ms: Date.now() });
    for (const res of clients) res.write(`event: ${topic}\ndata: ${data}\n\n`);
}
async function poll() {
    if (!clients.size || !ENV_TOKEN) return;
    try {
        const get = async p => JSON.parse((await upstream('GET', p, ENV_TOKEN)).body.toString());
        const [i, a, m] = await Promise.all([get('/v1/incidents'), get('/v1/alerts'), get('/v1/mitigations')]);
        const now = {
            inc: new Map(i.incidents.map(x => [x.incident_id, x])),
            alerts: JSON.stringify(a.active.map(x => x.alert_id).sort()),
            mits: JSON.stringify(m.mitigations.map(x => [x.id, x.state])),
        };
        if (last) {
            for (const [id, x] of now.inc) {
                const was = last.inc.get(id);
                if (!was) send('incident.opened', id);
                else if (JSON.stringify(was) !== JSON.stringify(x)) {
                    const topic = x.state !== was.state ? (x.state === 'resolved' ? 'incident.resolved' : 'incident.merged')
                        : x.severity !== was.severity ? 'incident.severity_changed'
                        : JSON.stringify(x.causes) !== JSON.stringify(was.causes) ? 'rca.localized' : 'incident.status_update';
                    send(topic, id);
                }
            }
            if (now.alerts !== last.alerts) send('alert.fired', null);
            if (now.mits !== last.mits) send('mitigation.applied', null);
        }
        last = now;
    } catch (e) {
        send('reset', null);
    }
}
setInterval(poll, 2000);

// Timeline entries do not show in the incident list: compare each open incident's timeline too.
const tl = new Map();
setInterval(async () => {
    if (!clients.size || !ENV_TOKEN || !last) return;
    for (const [id, x] of last.inc) {
        if (x.state !== 'open') continue;
        try {
            const d = JSON.parse((await upstream('GET', `/v1/incidents/${id}`, ENV_TOKEN)).body.toString());
            const n = (d.timeline || []).length;
            if (tl.has(id) && tl.get(id) !== n) send('incident.status_update', id);
            tl.set(id, n);
        } catch { /* next time */ }
    }
}, 2000);

const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    const path = url.pathname;
    try {
        if (path === '/v1/session') {
            if (req.method === 'POST') {
                let token = '';
                try { token = JSON.parse((await readBody(req)).toString()).token || ''; } catch { /* below */ }
                if (!token) return problem(res, 422, 'token: required', path);
                const role = await probeRole(token);
                if (!role) return problem(res, 401, 'token: unknown or revoked', path);
                const sid = randomBytes(16).toString('hex');
                const s = { token, name: role === 'viewer' ? 'viewer' : role, role, expires_ms: Date.now() + 12 * 3600e3, via: 'session' };
                sessions.set(sid, s);
                res.writeHead(201, { 'Content-Type': 'application/json', 'Set-Cookie': `oncue_dev=${sid}; HttpOnly; SameSite=Strict; Path=/` });
                return res.end(JSON.stringify({ name: s.name, role: s.role, expires_ms: s.expires_ms }));
            }
            if (req.method === 'DELETE') {
                sessions.delete(cookies(req).oncue_dev);
                res.writeHead(204, { 'Set-Cookie': 'oncue_dev=out; HttpOnly; SameSite=Strict; Path=/' });
                return res.end();
            }
            const s = await sessionOf(req);
            if (!s) return problem(res, 401, 'no session: sign in with a token', path);
            res.writeHead(200, { 'Content-Type': 'application/json' });
            return res.end(JSON.stringify({ name: s.name, role: s.role, expires_ms: s.expires_ms, via: s.via }));
        }
        if (path === '/v1/stream') {
            if (!(await sessionOf(req))) return problem(res, 401, 'no session', path);
            res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store' });
            res.write(': oncue dev stream (polling the server)\n\n');
            clients.add(res);
            const ka = setInterval(() => res.write(': keep-alive\n\n'), 15000);
            req.on('close', () => { clients.delete(res); clearInterval(ka); });
            return undefined;
        }
        if (path.startsWith('/v1/') || path.startsWith('/status') || path === '/healthz') {
            const s = await sessionOf(req);
            const body = ['POST', 'PUT', 'DELETE'].includes(req.method) ? await readBody(req) : null;
            const h = {};
            if (req.headers['content-type']) h['Content-Type'] = req.headers['content-type'];
            const r = await upstream(req.method, req.url, s && s.token, body, h);
            const out = {};
            for (const k of ['content-type', 'retry-after']) if (r.headers[k]) out[k] = r.headers[k];
            res.writeHead(r.status, out);
            return res.end(r.body);
        }
        const file = path === '/' ? 'index.html' : normalize(path).replace(/^\/+/, '');
        if (!(file === 'index.html' || file.startsWith('assets/'))) return problem(res, 404, 'not found', path);
        const data = await readFile(join(DIST, file));
        res.writeHead(200, { 'Content-Type': TYPES[file.slice(file.lastIndexOf('.'))] || 'application/octet-stream',
            'Content-Security-Policy': CSP, 'Cache-Control': 'no-cache' });
        return res.end(data);
    } catch (e) {
        return problem(res, e.code === 'ENOENT' ? 404 : 502, e.code === 'ENOENT' ? 'not found' : `upstream: ${e.message}`, path);
    }
});
server.listen(PORT, '127.0.0.1', () => console.log(`oncue dev console on http://127.0.0.1:${PORT}/ (upstream ${UP.origin})`));
