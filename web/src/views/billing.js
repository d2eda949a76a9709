// Billing support (#/billing?account=A&day=YYYY-MM-DD): an account's entitlement, its
// subscriptions, the last reconciliation's discrepancies about it and its audit rows, with a
// replay of a stored event (admin, audited, idempotent); and a day's royalty report: its CSV and
// JSON exports and its seal into the audit chain (admin).
import { useState } from 'preact/hooks';
import { html } from '../html.js';
import { api, post } from '../api.js';
import { useFetch } from '../hooks.js';
import { Async, Panel, Empty, ErrorBox, Tag } from '../ui.js';
import { setQuery } from '../router.js';

const ts = ms => (ms ? new Date(ms).toISOString().replace('.000Z', 'Z') : '–');

/** The Idempotency-Key of a replay: the same event, choice and reason give the same key. */
export function replayKey(provider, id, force, reason) {
    let h = 0x811c9dc5;
    for (const c of `${provider} ${id} ${force} ${reason}`) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
    return `console-replay-${provider}-${h.toString(16)}`;
}

function Replay({ row, onDone }) {
    const d = row.detail || {};
    const [busy, setBusy] = useState(false);
    const go = async force => {
        const reason = window.prompt(`Why replay ${d.provider} event ${d.id}${force ? ' as of now' : ''}? (audited)`);
        if (!reason) return;
        setBusy(true);
        try {
            const r = await api(`/v1/billing/events/${encodeURIComponent(d.provider)}/${encodeURIComponent(d.id)}/replay`, {
                method: 'POST', body: { reason, force }, headers: { 'Idempotency-Key': replayKey(d.provider, d.id, force, reason) } });
            onDone(`${d.id}: ${r.decision}${r.changes.length ? ' (' + r.changes.map(c => `${c.subscription} ${c.from} → ${c.to}`).join(', ') + ')' : ''}`);
        } catch (e) {
            onDone(e.message);
        }
        setBusy(false);
    };
    return html`<span class="nw"><button type="button" disabled=${busy} onClick=${() => go(false)} title="decide it again under the ordering rule">replay</button>
        <button type="button" disabled=${busy} onClick=${() => go(true)} title="apply it as of now, above what was applied since">as of now</button></span>`;
}

function Account({ account, admin }) {
    const [note, setNote] = useState('');
    const r = useFetch(() => api(`/v1/billing/accounts/${encodeURIComponent(account)}`), [account, note]);
    return html`<${Async} r=${r} what="the account">${a => html`<div class="stack" data-account=${a.account}>
        <div><b>${a.account}</b>: <${Tag} k=${a.allowed ? 'ok' : 'firing'}>${a.allowed ? 'allowed' : 'not allowed'}</${Tag}> <span class="mono">${a.state}</span> <span class="dim">${a.reason}</span></div>
        ${note ? html`<div class="banner" role="status">${note}</div>` : null}
        <${Panel} title="Subscriptions">${a.subscriptions.length ? html`<div class="scroll"><table><thead><tr><th>subscription</th><th>provider</th>
            <th>state</th><th>plan</th><th>regions</th><th>period end</th><th>last event</th></tr></thead>
            <tbody>${a.subscriptions.map(s => html`<tr><td class="mono">${s.id}</td><td>${s.provider}</td><td class="mono">${s.state}</td>
                <td class="mono">${s.plan || '–'}</td><td class="mono">${s.regions || 'all'}</td><td class="nw">${s.period_end || '–'}</td>
                <td class="mono">${s.last_event}</td></tr>`)}</tbody></table></div>` : html`<${Empty}>No subscription.</${Empty}>`}</${Panel}>
        <${Panel} title="Discrepancies" sub=${a.reconciled_ms ? `last reconciliation ${ts(a.reconciled_ms)}` : 'no reconciliation yet'}>
            ${(a.discrepancies || []).length ? html`<table><thead><tr><th>kind</th><th>provider</th><th>subscription</th><th>oncue</th><th>provider says</th></tr></thead>
            <tbody>${a.discrepancies.map(x => html`<tr><td>${x.discrepancy}</td><td>${x.provider}</td><td class="mono">${x.subscription}</td>
                <td class="mono">${x.oncue_state || '–'}</td><td class="mono">${x.provider_account ? 'account ' + x.provider_account : x.provider_state || '–'}</td></tr>`)}</tbody></table>`
            : html`<${Empty}>None found.</${Empty}>`}</${Panel}>
        <${Panel} title="History" sub="the last 20 audit rows, newest first">${a.audit.length ? html`<div class="scroll"><table><thead><tr><th>#</th><th>at</th><th>kind</th>
            <th>what</th><th>decision</th>${admin ? html`<th></th>` : null}</tr></thead>
            <tbody>${a.audit.map(row => { const d = row.detail || {}; return html`<tr><td class="num">${row.id}</td><td class="nw">${ts(row.ts_ms)}</td><td>${row.kind}</td>
                <td class="mono">${row.kind === 'event' ? `${d.provider} ${d.type} ${d.id}`
                    : row.kind === 'refused' || row.kind === 'duplicate' ? `${d.provider} ${d.reason} ×${d.count} in ${d.minute}${(d.ids || []).length ? ': ' + d.ids.join(' ') : ''}${d.ids_more ? ` +${d.ids_more}` : ''}`
                    : `${d.action} ${d.reason || ''}`}</td>
                <td class="mono">${d.decision || ((d.changes || []).length ? 'applied' : '')}</td>
                ${admin ? html`<td>${row.kind === 'event' ? html`<${Replay} row=${row} onDone=${setNote} />` : null}</td>` : null}</tr>`; })}</tbody></table></div>`
            : html`<${Empty}>No audit row names this account.</${Empty}>`}</${Panel}>
    </div>`}</${Async}>`;
}

function Royalties({ day, admin }) {
    const [sealed, setSealed] = useState(null);
    const r = useFetch(() => api(`/v1/billing/royalties/${day}?format=json`), [day, sealed]);
    const seal = async () => {
        try { setSealed(await post(`/v1/billing/royalties/${day}/seal`)); } catch (e) { setSealed({ error: e }); }
    };
    return html`<div class="stack">
        <div><a href=${`/v1/billing/royalties/${day}?format=csv`} download>CSV</a> · <a href=${`/v1/billing/royalties/${day}?format=json`} download>JSON</a>
            ${admin ? html` · <button type="button" onClick=${seal}>Seal into the audit</button>` : null}</div>
        ${sealed && sealed.error ? html`<${ErrorBox} error=${sealed.error} />` : sealed ? html`<div class="banner" role="status">${sealed.already_sealed ? 'already sealed' : 'sealed'} in audit row ${sealed.audit_id}; CSV sha256 <span class="mono">${sealed.csv_sha256}</span></div>` : null}
        <${Async} r=${r} what="the report">${rep => (rep.rows.length ? html`<div class="scroll"><table><thead><tr><th>title</th><th>region</th>
            <th class="num">plays</th><th class="num">attempts</th><th class="num">watch hours</th></tr></thead>
            <tbody>${rep.rows.map(x => html`<tr><td>${x.title}</td><td>${x.region}</td><td class="num">${x.plays}</td><td class="num">${x.attempts}</td>
                <td class="num">${(x.watch_ms / 3600000).toFixed(2)}</td></tr>`)}</tbody></table></div>`
            : html`<${Empty}>No plays that day.</${Empty}>`)}</${Async}>
    </div>`;
}

export function BillingView({ q, session }) {
    const account = q.get('account') || '', day = q.get('day') || '';
    const admin = session && session.role === 'admin';
    const submit = (e, k) => {
        e.preventDefault();
        setQuery({ [k]: new FormData(e.target).get(k).trim() });
    };
    return html`<div data-view="billing" class="stack">
        <h1>Billing support</h1>
        <div class="grid2">
            <${Panel} title="Account">
                <form onSubmit=${e => submit(e, 'account')}><input name="account" placeholder="account id" value=${account} aria-label="account" />
                    <button type="submit">Show</button></form>
                ${account ? html`<${Account} account=${account} admin=${admin} />` : html`<${Empty}>Name an account to see its entitlement, subscriptions, discrepancies and history.</${Empty}>`}
            </${Panel}>
            <${Panel} title="Royalties" sub="plays and watch time per title and region, one UTC day">
                <form onSubmit=${e => submit(e, 'day')}><input name="day" placeholder="YYYY-MM-DD" value=${day} aria-label="day" />
                    <button type="submit">Report</button></form>
                ${day ? html`<${Royalties} day=${day} admin=${admin} />` : html`<${Empty}>Name a day (UTC) to see its report.</${Empty}>`}
            </${Panel}>
        </div>
    </div>`;
}
