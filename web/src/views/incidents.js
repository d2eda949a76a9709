// Incidents: the list (#/incidents?state=open|all) and one incident (#/incidents/INC-3).
import { useState, useEffect, useRef } from 'preact/hooks';
import { html } from '../html.js';
import { api, post, qoe } from '../api.js';
import { topics, aboutIncident } from '../live.js';
import { useFetch, useNow } from '../hooks.js';
import { Chart, toColumns } from '../chart.js';
import { Markdown } from '../md.js';
import { IncidentRows, affected, isOpen, scopeText } from '../incidents-common.js';
import { Async, Panel, Empty, ErrorBox, Sev, Tag, Loading } from '../ui.js';
import { range, serverNow, fmtTime, fmtClock, fmtAgo, fmtDur, fmtNum, fmtPct, fmtValue, sliceText, sliceFilter, metricLabel, METRICS } from '../fmt.js';
import { describeSpec } from './now.js';
import { MitigationPanel } from './mitigate.js';
import { BOARDS } from './dashboards.js';

const PAGE = 100; // GET /v1/incidents answers 100 a page unless told (every open one with state=open)

/** The first page d and the incidents "Load more" added below it (more, loaded from below the
 * id `from`, the last of them pointing at `moreNext`): the rows to show and the next link to
 * follow. A live reload of the first page asks for as many as were shown, so it reaches down
 * to `from`; when more incidents opened meanwhile than that covers, the added rows are
 * dropped (their link starts below them, not where the first page now ends) and "Load more"
 * follows the first page's link again: nothing is skipped silently. */
function listed(d, more, from, moreNext) {
    const head = d.incidents;
    const last = head.length ? head[head.length - 1].id : 0;
    if (!more.length || !d.next || last > from) return { rows: head, next: d.next || null, keep: false };
    return { rows: head.concat(more.filter(i => i.id < last)), next: moreNext || null, keep: true };
}

export function IncidentsView({ q }) {
    const state = q.get('state') || 'open';
    const [more, setMore] = useState({ rows: [], from: 0, next: null });
    const [busy, setBusy] = useState(false);
    const [error, setError] = useState(null);
    useEffect(() => { setMore({ rows: [], from: 0, next: null }); setError(null); }, [state]);
    const first = state === 'open' ? '/v1/incidents?state=open'
        : more.rows.length ? `/v1/incidents?limit=${Math.min(1000, PAGE + more.rows.length)}` : '/v1/incidents';
    const r = useFetch(() => api(first), [state], { live: topics('incident.', 'rca.', 'mitigation.') });
    const now = useNow(10000);
    const loadMore = async (v) => {
        setBusy(true); setError(null);
        try {
            const p = await api(v.next);
            const kept = v.keep ? more.rows : [];
            setMore({ rows: kept.concat(p.incidents), from: v.keep ? more.from : v.rows[v.rows.length - 1].id, next: p.next || null });
        } catch (e) {
            setError(e);
        } finally {
            setBusy(false);
        }
    };
    return html`<div data-view="incidents" class="stack">
        <div class="toolbar"><h1 style="margin:0;flex:1">Incidents</h1>
            <nav class="tabs" aria-label="incident state" style="margin:0">
                <a href="#/incidents?state=open" class=${state === 'open' ? 'on' : ''}>Open</a>
                <a href="#/incidents?state=all" class=${state !== 'open' ? 'on' : ''}>All</a></nav></div>
        <${Panel}><${Async} r=${r} what="incidents">${d => {
            const v = listed(d, more.rows, more.from, more.next);
            if (!v.rows.length) return html`<${Empty}>${state === 'open' ? 'No open incidents.' : 'No incidents recorded yet.'}</${Empty}>`;
            return html`<${IncidentRows} incidents=${v.rows} now=${now} />
                <${ErrorBox} error=${error} />
                <div class="row" data-incidents-shown=${v.rows.length}><span class="dim" style="flex:1">${v.rows.length} incidents${v.next ? ', newest first; older ones below' : ''}</span>
                    ${v.next ? html`<button type="button" data-action="more" disabled=${busy} onClick=${() => loadMore(v)}>${busy ? 'Loading…' : 'Load more'}</button>` : null}</div>`;
        }}</${Async}></${Panel}>
    </div>`;
}

const ROLES = ['commander', 'comms', 'ops', 'scribe', 'sme'];
const STATUSES = ['investigating', 'identified', 'monitoring', 'resolved'];

/** Runs a mutating call, shows its problem detail, reloads on success. */
function useAction(reload) {
    const [busy, setBusy] = useState(false);
    const [error, setError] = useState(null);
    const [ok, setOk] = useState(null);
    const run = async (label, fn) => {
        setBusy(true); setError(null); setOk(null);
        try {
            const res = await fn();
            setOk(label);
            reload();
            return res;
        } catch (e) {
            setError(e);
            return undefined;
        } finally {
            setBusy(false);
        }
    };
    return { busy, error, ok, run };
}

function Timeline({ entries }) {
    const ref = useRef(null);
    const n = entries.length;
    useEffect(() => { if (ref.current) ref.current.scrollTop = ref.current.scrollHeight; }, [n]);
    if (!n) return html`<${Empty}>Nothing on the timeline yet.</${Empty}>`;
    return html`<ol class="timeline" data-timeline ref=${ref} aria-label="incident timeline" aria-live="polite">
        ${entries.map(e => html`<li key=${e.seq} class=${e.public ? 'public' : ''} data-kind=${e.kind}>
            <span class="t mono" title=${fmtTime(e.at)}>${fmtClock(e.at)}</span>
            <span><span class="tag">${e.kind}</span></span>
            <span class="text">${e.text}${e.actor && e.actor !== 'oncue' ? html` <span class="dim">— ${e.actor}</span>` : null}</span></li>`)}</ol>`;
}

function CauseChart({ inc }) {
    // the viewers' metric to chart: an alert on a QoE metric (an incident opened by a probe,
    // a scrape rule or Alertmanager has a service's own series first, not in the cube)
    const viewers = (inc.alerts || []).filter(a => METRICS[a.metric]);
    const alert = viewers.find(a => a.opener) || viewers[0];
    const metric = alert ? alert.metric : null;
    const causes = (inc.causes || []).slice(0, 4);
    const key = `${inc.incident_id}|${metric}|${JSON.stringify(causes)}|${inc.resolved_at}`;
    const r = useFetch(async () => {
        if (!metric) return null;
        const now = serverNow();
        const end = Math.min(now, (inc.resolved_at || now) + 900);
        const rg = range(String(inc.opened_at - 1800), String(Math.ceil(end)), '60');
        const qs = [qoe({ metric, from: rg.from, to: rg.to, step: rg.step })]
            .concat(causes.map(c => qoe({ metric, from: rg.from, to: rg.to, step: rg.step, filter: sliceFilter(c.element) })));
        if (!causes.length && Object.keys(inc.slice || {}).length)
            qs.push(qoe({ metric, from: rg.from, to: rg.to, step: rg.step, filter: sliceFilter(inc.slice) }));
        const ans = await Promise.all(qs);
        const cols = ans.map(a => toColumns(a, rg));
        const labels = ['total (all viewers)'].concat(causes.length ? causes.map(c => 'cause: ' + sliceText(c.element)) : ['scope: ' + sliceText(inc.slice)]);
        return {
            x: cols[0].x,
            series: cols.map((c, i) => ({ label: labels[i], values: c.ys[0] ? c.ys[0].values : new Array(rg.n).fill(null), width: i ? 2 : 1.5 })),
        };
    }, [key], { every: isOpen(inc) ? 60000 : 0 });
    if (!metric) return html`<${Empty}>${(inc.alerts || []).length ? 'No viewer metric alert on this incident yet: it was opened by a service\'s own signal (its alerts are listed under Impact and scope).' : 'No alert on this incident to chart.'}</${Empty}>`;
    const bands = alert ? [{ value: alert.threshold, above: alert.op && alert.op[0] === '>', label: `alert ${alert.op} ${fmtValue(metric, alert.threshold)}` }] : [];
    return html`<${Async} r=${r} what="the cause chart">${d => d && html`<${Chart} x=${d.x} series=${d.series} metric=${metric} bands=${bands} height=${220}
        emptyText="No beacons for this slice around the incident window." />
        <div class="src">${metricLabel(metric)} from 30 min before the incident opened; cause slice vs all viewers ·
            <a href=${`#/explore?metric=${metric}&from=${inc.opened_at - 1800}&to=${inc.resolved_at ? inc.resolved_at + 900 : 'now'}&compare=1${causes[0] ? '&filter=' + sliceFilter(causes[0].element) : ''}`}>explore →</a></div>`}</${Async}>`;
}

function RolesPanel({ inc, canAct, act }) {
    const [who, setWho] = useState({});
    const roles = inc.roles || {};
    return html`<table><tbody>${ROLES.map(role => {
        const cur = roles[role];
        const shown = Array.isArray(cur) ? (cur.length ? cur.join(', ') : null) : cur;
        return html`<tr><td style="width:90px">${role}</td><td>${shown ? html`<b>${shown}</b>` : html`<span class="dim">unassigned</span>`}</td>
            <td>${canAct ? html`<form class="inline" onSubmit=${e => {
                e.preventDefault();
                const person = (who[role] || '').trim();
                if (person) act.run(`${person} assigned as ${role}`, () => post(`/v1/incidents/${inc.incident_id}/role`, { role, person })).then(() => setWho({ ...who, [role]: '' }));
            }}><input aria-label=${'person for ' + role} placeholder="name" size="10" value=${who[role] || ''}
                onInput=${e => setWho({ ...who, [role]: e.currentTarget.value })} />
                <button type="submit" disabled=${act.busy}>Assign</button>
                ${shown ? html`<button type="button" disabled=${act.busy} onClick=${() => act.run(`${role} released`,
                    () => post(`/v1/incidents/${inc.incident_id}/role`, { role, release: true }))}>Release</button>` : null}</form>` : null}</td></tr>`;
    })}</tbody></table>`;
}

function Actions({ inc, canAct, act }) {
    const id = inc.incident_id;
    const [status, setStatus] = useState(inc.public_status || 'investigating');
    const [body, setBody] = useState('');
    const [note, setNote] = useState('');
    const [sev, setSev] = useState(inc.severity);
    const [sevReason, setSevReason] = useState('');
    const [force, setForce] = useState(false);
    const [reason, setReason] = useState('');
    if (!canAct) return html`<p class="dim">Signed in as a viewer: acknowledging, notes, status updates and mitigations need the responder role.</p>`;
    const closed = !isOpen(inc);
    return html`<div class="stack">
        <div class="row">
            <button type="button" class="primary" data-action="ack" disabled=${act.busy || !!inc.acknowledged_at || closed}
                onClick=${() => act.run('acknowledged', () => post(`/v1/incidents/${id}/ack`))}>${inc.acknowledged_at ? 'Acknowledged ' + fmtClock(inc.acknowledged_at) : 'Acknowledge'}</button>
            <button type="button" data-action="publish" disabled=${act.busy || !!inc.published_at || !!inc.merged_into}
                title=${inc.merged_into && !inc.published_at ? `merged into ${inc.merged_into}: publish that incident` : "show it on the public status page (a draft until a person or its severity's rule publishes it)"}
                onClick=${() => act.run('published on the status page', () => post(`/v1/incidents/${id}/publish`))}>${inc.published_at ? 'Published ' + fmtClock(inc.published_at) : 'Publish on status page'}</button>
            ${inc.state === 'resolved' ? html`<button type="button" onClick=${() => act.run('closed', () => post(`/v1/incidents/${id}/close`))} disabled=${act.busy}>Close</button>` : null}
        </div>
        ${closed ? null : html`<form class="inline" data-action="resolve" onSubmit=${e => {
            e.preventDefault();
            act.run('resolved', () => post(`/v1/incidents/${id}/resolve`, force ? { force: true, reason } : {}));
        }}><label class="field" style="flex-direction:row;gap:4px;align-items:center"><input type="checkbox" checked=${force} onChange=${e => setForce(e.currentTarget.checked)} />force</label>
            ${force ? html`<label class="field">reason<input value=${reason} onInput=${e => setReason(e.currentTarget.value)} size="28" required /></label>` : null}
            <button type="submit" disabled=${act.busy} title="resolve by the rule (metrics back inside the SLO for the recovery window), or force it with a reason">Resolve</button></form>`}
        <form class="stack" data-action="status" onSubmit=${e => {
            e.preventDefault();
            act.run('status update posted', () => post(`/v1/incidents/${id}/status`, { status, body })).then(r => { if (r !== undefined) setBody(''); });
        }}><label class="field">public status update (shown on /status)
            <select value=${status} onChange=${e => setStatus(e.currentTarget.value)}>${STATUSES.map(s => html`<option value=${s}>${s}</option>`)}</select></label>
            <textarea aria-label="status update text" value=${body} onInput=${e => setBody(e.currentTarget.value)} placeholder="What viewers see, what we are doing, when the next update comes"></textarea>
            <div><button type="submit" disabled=${act.busy || !body.trim()}>Post status update</button></div></form>
        <form class="stack" data-action="note" onSubmit=${e => {
            e.preventDefault();
            act.run('note added', () => post(`/v1/incidents/${id}/note`, { text: note })).then(r => { if (r !== undefined) setNote(''); });
        }}><label class="field" for="inc-note">note on the timeline (internal)</label>
            <textarea id="inc-note" value=${note} onInput=${e => setNote(e.currentTarget.value)} placeholder="What you saw, what you tried"></textarea>
            <div><button type="submit" disabled=${act.busy || !note.trim()}>Add note</button></div></form>
        <form class="inline" data-action="severity" onSubmit=${e => {
            e.preventDefault();
            act.run('severity changed', () => post(`/v1/incidents/${id}/severity`, { severity: sev, reason: sevReason }));
        }}><label class="field">severity override<select value=${sev} onChange=${e => setSev(e.currentTarget.value)}>
            ${['SEV1', 'SEV2', 'SEV3', 'SEV4'].map(s => html`<option value=${s}>${s}</option>`)}</select></label>
            <label class="field">reason<input value=${sevReason} onInput=${e => setSevReason(e.currentTarget.value)} size="24" required /></label>
            <button type="submit" disabled=${act.busy || sev === inc.severity}>Set severity</button></form>
    </div>`;
}

function Followups({ inc, canAct, act }) {
    const [title, setTitle] = useState('');
    const [hours, setHours] = useState('72');
    const items = inc.followups || [];
    const now = serverNow();
    return html`${items.length ? html`<table><tbody>${items.map(f => html`<tr>
        <td>${f.title || f.text}${f.kind ? html` <span class="tag">${f.kind}</span>` : null}${f.ref ? html` <span class="dim mono">${f.ref}</span>` : null}</td>
        <td class=${'num ' + (f.due_at && f.due_at < now && !f.done_at ? 'bad' : '')}>${f.due_at ? 'due ' + fmtTime(f.due_at) : ''}</td></tr>`)}</tbody></table>`
        : html`<${Empty}>No follow-ups yet.</${Empty}>`}
        ${canAct ? html`<form class="inline" onSubmit=${e => {
            e.preventDefault();
            act.run('follow-up added', () => post(`/v1/incidents/${inc.incident_id}/followups`, { title, due_hours: Number(hours) || 72 })).then(r => { if (r !== undefined) setTitle(''); });
        }}><label class="field">follow-up<input value=${title} onInput=${e => setTitle(e.currentTarget.value)} size="30" /></label>
            <label class="field">due in (hours)<input type="number" min="1" value=${hours} onInput=${e => setHours(e.currentTarget.value)} style="width:80px" /></label>
            <button type="submit" disabled=${act.busy || !title.trim()}>Add</button></form>` : null}`;
}

function Runbook({ inc }) {
    const svc = useFetch(() => (inc.service ? api(`/v1/services/${encodeURIComponent(inc.service)}`) : Promise.resolve(null)), [inc.service]);
    const link = (u, text) => (/^https?:\/\//i.test(u) ? html`<a href=${u} target="_blank" rel="noopener noreferrer">${text || u}</a>` : html`<span class="mono">${u}</span>`);
    const own = inc.runbook;
    const s = svc.data && (svc.data.service || svc.data);
    const board = s && BOARDS.find(b => (b.kinds || []).includes(s.kind));
    return html`<div>
        ${own ? (typeof own === 'string' ? html`<p>Incident runbook: ${link(own)}</p>`
            : html`<pre class="mono">${JSON.stringify(own, null, 2)}</pre>`) : null}
        ${s ? html`<dl class="facts">
            <dt>service</dt><dd><a href=${'#/services?sel=' + encodeURIComponent(s.name)}>${s.name}</a> ${s.description ? html`<span class="dim">${s.description}</span>` : null}</dd>
            ${s.runbook ? html`<dt>runbook</dt><dd>${link(s.runbook)}</dd>` : null}
            ${board ? html`<dt>dashboard</dt><dd><a class="board" href=${`#/dashboards?d=${board.id}`}>${board.title}</a> <span class="dim">${board.why}</span></dd>` : null}
            ${s.rollback_doc ? html`<dt>rollback</dt><dd>${link(s.rollback_doc)}</dd>` : null}
            <dt>escalation</dt><dd>${s.escalation_lead || '–'} · team ${s.team}${s.support ? ' · ' + s.support : ''}</dd></dl>`
            : !own ? html`<${Empty}>No runbook: the incident has no owning service in the catalog.</${Empty}>` : null}
    </div>`;
}

const STEP_OK = { passed: 'ok', done: 'ok', approved: 'ok', failed: 'bad', waiting: 'warn', 'would wait': 'warn', skipped: 'dim' };

/** The incident's runbook run (GET /v1/incidents/{id}/runbook): each step with its result, who
 * and when; a decision it waits at is approved or skipped here, as with `oncue runbook
 * approve|skip`; without a run, a runbook is started (or dry-run) by name. */
function RunbookRun({ inc, canAct }) {
    const id = inc.incident_id;
    // a run writes "runbook KIND version V (HASH) started: ..." first; runs live in the
    // server's memory, so one started before a restart is gone (404)
    const started = (inc.timeline || []).some(e => /^runbook \S+ version .* started: /.test(e.text || ''));
    const run = useFetch(() => (!started ? Promise.resolve(null) : api(`/v1/incidents/${id}/runbook`).catch(e => {
        if (e.status === 404) return null;
        throw e;
    })), [id, started], { live: aboutIncident(id, 'incident.', 'mitigation.') });
    const list = useFetch(() => (canAct ? api('/v1/runbooks') : Promise.resolve(null)), [canAct]);
    const act = useAction(run.reload);
    const [name, setName] = useState('');
    const [dry, setDry] = useState(null);
    const r = dry || run.data;
    const books = (list.data && (list.data.runbooks || list.data)) || [];
    const start = dryRun => act.run(dryRun ? 'dry run shown' : 'runbook started',
        () => post(`/v1/incidents/${id}/runbook`, name ? { runbook: name, dry_run: dryRun } : { dry_run: dryRun }))
        .then(res => { if (res !== undefined) setDry(dryRun ? res : null); });
    const decide = (verb, step) => act.run(`step ${step} ${verb === 'approve' ? 'approved' : 'skipped'}`,
        () => post(`/v1/incidents/${id}/runbook/${verb}`, { step })).then(() => setDry(null));
    if (run.data === undefined && !run.error) return html`<${Loading} what="the runbook run" />`;
    return html`<div data-runbook-run=${r ? r.state : 'none'}>
        <${ErrorBox} error=${act.error || run.error} />
        ${act.ok ? html`<div class="src" role="status">✓ ${act.ok}</div>` : null}
        ${r ? html`<p><b>${r.runbook}</b> <span class="dim">version ${r.version || '–'} · ${r.hash}</span>${' '}<${Tag} k=${r.state === 'done' ? 'ok' : r.state === 'failed' ? 'bad' : 'warn'}>${r.state === 'dry_run' ? 'dry run' : r.state}</${Tag}>
            ${r.started_by ? html` <span class="dim">started by ${r.started_by} ${fmtTime(r.started_at)}; ${r.automated} of ${r.steps_total} steps without a person</span>` : null}</p>
            <table class="runbook-steps"><tbody>${(r.steps || []).map(s => html`<tr data-step=${s.step} data-status=${s.status}>
                <td class="num">${s.step}.</td><td>${s.name} <span class="tag">${s.type}</span></td>
                <td><${Tag} k=${STEP_OK[s.status] || ''}>${s.status}</${Tag}></td>
                <td class="dim">${s.detail || ''}${s.by ? html` · ${s.by}` : null}${s.at ? html` · ${fmtClock(s.at)}` : null}</td></tr>`)}</tbody></table>
            ${r.state === 'waiting' && r.waiting_step && canAct ? html`<p class="inline">
                <button onClick=${() => decide('approve', r.waiting_step)} disabled=${act.busy} data-act="approve">Approve step ${r.waiting_step}</button>
                <button onClick=${() => decide('skip', r.waiting_step)} disabled=${act.busy} data-act="skip">Skip it</button>
                <span class="dim">approving runs the step after it; skipping skips both</span></p>` : null}
            ${dry ? html`<p class="dim">A dry run: nothing was done or recorded. <button onClick=${() => setDry(null)}>Close</button></p>` : null}`
            : html`<${Empty}>No runbook has run on this incident.</${Empty}>`}
        ${canAct && (!run.data || dry) ? html`<form class="inline" onSubmit=${e => { e.preventDefault(); start(false); }}>
            <label class="field">runbook<select data-runbook-select value=${name} onChange=${e => setName(e.currentTarget.value)}>
                <option value="">the one for the incident's alert</option>
                ${books.map(b => html`<option value=${b.name}>${b.name}${b.source ? ` (${b.source})` : ''}</option>`)}</select></label>
            <button type="button" onClick=${() => start(true)} disabled=${act.busy} data-act="dry-run">Dry run</button>
            <button type="submit" disabled=${act.busy} data-act="run">Run</button></form>` : null}
    </div>`;
}

function Review({ id, state }) {
    const r = useFetch(() => api(`/v1/incidents/${id}/review`), [id, state]);
    return html`<${Async} r=${r} what="the review">${text => html`<${Markdown} text=${text} />`}</${Async}>`;
}

function RcaDetails({ inc }) {
    const rca = [...(inc.timeline || [])].reverse().find(e => e.kind === 'rca' && e.data);
    const causes = inc.causes || [];
    const cands = rca && rca.data.candidates ? rca.data.candidates : [];
    const changes = rca && rca.data.changes ? rca.data.changes : [];
    const xc = inc.cross_check;
    const xcClass = xc && xc.verdict === 'agrees' ? 'tag firing' : xc && xc.verdict === 'disagrees' ? 'tag warn' : 'tag';
    return html`<div>
        ${xc ? html`<p><span class=${xcClass}>CDN logs: ${xc.verdict.replace('_', ' ')}</span> <span class="dim">${xc.detail}</span></p>` : null}
        ${causes.length ? html`<p>${causes.map(c => html`<span class="chip mono" style="padding-right:8px">${sliceText(c.element)} <span class="dim">score ${Number(c.score).toFixed(3)}</span></span> `)}</p>`
            : html`<p class="dim">${rca ? 'Localization found no single cause.' : 'Not localized yet.'}</p>`}
        ${cands.length > causes.length ? html`<details><summary>${cands.length} candidates</summary><table><tbody>${cands.map(c => html`<tr><td class="mono">${sliceText(c.element)}</td><td class="num">${Number(c.score).toFixed(3)}</td></tr>`)}</tbody></table></details>` : null}
        ${changes.length ? html`<h3>Changes lined up with the onset</h3><table><tbody>${changes.map(c => html`<tr>
            <td>${c.service} <span class="tag">${c.kind}</span></td><td>${c.description || ''} ${c.version || ''}</td><td class="num">${c.score != null ? 'score ' + Number(c.score).toFixed(3) : ''}</td></tr>`)}</tbody></table>`
            : rca ? html`<p class="dim">No recorded change in the 6 h before the onset.</p>` : null}
    </div>`;
}

export function IncidentView({ id, session }) {
    const inc = useFetch(() => api(`/v1/incidents/${encodeURIComponent(id)}`), [id],
        { live: aboutIncident(id, 'incident.', 'rca.', 'mitigation.', 'alert.') });
    const now = useNow(5000);
    const act = useAction(inc.reload);
    const canAct = session.role === 'admin' || session.role === 'responder';
    if (inc.data === undefined) {
        return html`<div data-view="incident">${inc.error ? html`<${ErrorBox} error=${inc.error} />` : html`<${Loading} what=${'Loading ' + id} />`}
            <p><a href="#/incidents">← incidents</a></p></div>`;
    }
    const d = inc.data;
    const a = affected(d);
    const decl = d.snapshots && d.snapshots.declaration;
    const resolvedish = d.state === 'resolved' || d.state === 'closed';
    return html`<div data-view="incident" data-incident-id=${d.incident_id} data-state=${d.state} class="stack">
        <div class="inc-head"><a href="#/incidents">← incidents</a>
            <${Sev} s=${d.severity} /><h1>${d.incident_id}: ${d.title}</h1>
            <${Tag} k=${d.state}>${d.state}</${Tag}> <${Tag}>public: ${d.published_at ? d.public_status : 'draft'}</${Tag}>
            ${d.test ? html`<${Tag} k="warn">test</${Tag}>` : null}
            ${d.severity_override ? html`<${Tag} k="warn">severity overridden</${Tag}>` : null}
            ${d.merged_into ? html`<${Tag}>merged into <a href=${'#/incidents/' + d.merged_into}>${d.merged_into}</a></${Tag}>` : null}
        </div>
        <${ErrorBox} error=${act.error || inc.error} />
        ${act.ok ? html`<div class="src" role="status">✓ ${act.ok}</div>` : null}
        <div class="grid2">
            <div class="stack">
                <${Panel} title="Impact and scope">
                    <dl class="facts">
                        <dt>scope</dt><dd class="mono">${scopeText(d)}</dd>
                        <dt>owner</dt><dd>${d.service ? html`<a href=${'#/services?sel=' + encodeURIComponent(d.service)}>${d.service}</a>` : '–'} ${d.team ? html`<span class="dim">team ${d.team}</span>` : null}</dd>
                        <dt>viewers affected</dt><dd><b>${fmtNum(a.viewers)}</b> concurrent at peak (${fmtPct(a.share, 1)} of viewers)${decl ? html` <span class="dim">· ${fmtNum(decl.viewers)} (${fmtPct(decl.affected_share, 1)}) at declaration</span>` : null}</dd>
                        ${d.tickets != null ? html`<dt>support tickets</dt><dd data-tickets=${d.tickets}><b>${fmtNum(d.tickets)}</b> linked${d.tickets_per_1000_affected != null
                            ? html` · <b>${fmtNum(d.tickets_per_1000_affected, 2)}</b> per 1,000 affected viewers` : null}${d.tickets ? html` · <a href="#/tickets">support →</a>` : null}</dd>` : null}
                        ${decl ? html`<dt>cannot start</dt><dd>${fmtPct(decl.cannot_start_share, 2)} <span class="dim">· global rebuffer ${fmtPct(decl.global_rebuffer)}</span></dd>` : null}
                        <dt>opened</dt><dd>${fmtTime(d.opened_at)} <span class="dim">(${fmtAgo(d.opened_at, now)})</span></dd>
                        <dt>acknowledged</dt><dd>${d.acknowledged_at ? html`${fmtTime(d.acknowledged_at)} <span class="dim">after ${fmtDur(d.acknowledged_at - d.opened_at)}</span>` : html`<span class="warn">not yet</span>`}</dd>
                        <dt>mitigated</dt><dd>${d.mitigated_at ? html`${fmtTime(d.mitigated_at)} <span class="dim">after ${fmtDur(d.mitigated_at - d.opened_at)}</span>` : '–'}</dd>
                        <dt>resolved</dt><dd>${d.resolved_at ? html`${fmtTime(d.resolved_at)} <span class="dim">after ${fmtDur(d.resolved_at - d.opened_at)}</span>` : '–'}</dd>
                        <dt>alerts</dt><dd>${(d.alerts || []).length} (${(d.alerts || []).filter(x => x.firing).length} firing)</dd>
                    </dl>
                    ${(d.alerts || []).length ? html`<details><summary>alerts</summary><table><tbody>${d.alerts.map(x => html`<tr>
                        <td class="mono">${x.alert_id}</td><td>${x.level}</td><td class="num">${x.op} ${fmtValue(x.metric, x.threshold)}</td>
                        <td class="num">peak ${fmtValue(x.metric, x.peak)}</td><td>${x.firing ? html`<${Tag} k="firing">firing</${Tag}>` : html`<${Tag} k="ok">cleared</${Tag}>`}</td></tr>`)}</tbody></table></details>` : null}
                </${Panel}>
                <${Panel} title="Root cause" sub="where it broke: the cause slice against all viewers">
                    <${RcaDetails} inc=${d} />
                    <${CauseChart} inc=${d} />
                </${Panel}>
                <${Panel} title="Mitigate" sub="dry run first, then confirm">
                    <${MitigationPanel} inc=${d} canAct=${canAct} onApplied=${inc.reload} />
                </${Panel}>
                <${Panel} title="Timeline" sub=${`${(d.timeline || []).length} entries, UTC, live`}>
                    <${Timeline} entries=${d.timeline || []} /></${Panel}>
                ${resolvedish ? html`<${Panel} title="Post-incident review" sub="generated, blameless"><${Review} id=${d.incident_id} state=${d.state} /></${Panel}>` : null}
            </div>
            <div class="stack">
                <${Panel} title="Respond"><${Actions} key=${d.incident_id + d.severity + d.public_status} inc=${d} canAct=${canAct} act=${act} /></${Panel}>
                <${Panel} title="Roles"><${RolesPanel} inc=${d} canAct=${canAct} act=${act} /></${Panel}>
                <${Panel} title="Runbook and owner"><${Runbook} inc=${d} /></${Panel}>
                <${Panel} title="Runbook run" sub="checks and actions run by oncue; decisions wait for you"><${RunbookRun} inc=${d} canAct=${canAct} /></${Panel}>
                <${Panel} title="Follow-ups"><${Followups} inc=${d} canAct=${canAct} act=${act} /></${Panel}>
            </div>
        </div>
    </div>`;
}
export { describeSpec };
