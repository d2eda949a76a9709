// Support (#/tickets): the routed queue in priority order (VIP and premium first), the ticket
// clusters and the incidents they are linked to, SLA adherence by tier, churn after major
// incidents, and the viewer-feedback priorities.
import { html } from '../html.js';
import { api } from '../api.js';
import { topics } from '../live.js';
import { useFetch, useNow } from '../hooks.js';
import { Async, Panel, Empty, Tag } from '../ui.js';
import { fmtAgo } from '../fmt.js';

const pct = v => (v == null ? '–' : (v * 100).toFixed(0) + '%');
const num = (v, d = 1) => (v == null ? '–' : Number(v).toFixed(d));
const inc = id => (id ? html`<a href=${'#/incidents/INC-' + id}>INC-${id}</a>` : html`<span class="dim">–</span>`);

function Queue({ d, now }) {
    if (!d.tickets.length) return html`<${Empty}>No ticket has been routed yet.</${Empty}>`;
    return html`<div class="scroll"><table><thead><tr><th>priority</th><th>queue</th><th>team</th><th>ticket</th>
        <th>service</th><th>symptom</th><th>respond by</th><th>incident</th></tr></thead>
        <tbody>${d.tickets.map(t => {
            const r = t.route || {}, g = t.tags || {};
            return html`<tr><td><${Tag} k=${r.rank <= 2 ? 'firing' : ''}>${r.priority || '–'}</${Tag}></td>
                <td class="mono">${r.queue || '–'}</td><td>${r.team || '–'}</td>
                <td><span class="mono">${t.source} ${t.external_id}</span><div class="sub">${t.subject}</div></td>
                <td class="mono">${g.service || '–'}</td><td>${g.symptom || '–'}</td>
                <td class="nw">${r.respond_by ? fmtAgo(Date.parse(r.respond_by) / 1000, now) : '–'}</td><td>${inc(t.incident_id)}</td></tr>`;
        })}</tbody></table></div>`;
}

function Clusters({ d }) {
    if (!d.clusters.length) return html`<${Empty}>No cluster of two tickets or more.</${Empty}>`;
    return html`<div class="scroll"><table><thead><tr><th class="num">tickets</th><th>service</th><th>symptom</th><th>region</th>
        <th>incident</th><th class="num">per 1,000 affected</th></tr></thead>
        <tbody>${d.clusters.map(c => html`<tr><td class="num">${c.tickets}</td><td class="mono">${c.tags.service || '–'}</td>
            <td>${c.tags.symptom || '–'}</td><td>${c.tags.region || '–'}</td><td>${inc(c.incident_id)}</td>
            <td class="num">${num(c.per_1000_affected, 2)}</td></tr>`)}</tbody></table></div>`;
}

function Sla({ d }) {
    return html`<div class="scroll"><table><thead><tr><th>priority</th><th class="num">tickets</th><th class="num">met</th><th class="num">late</th>
        <th class="num">overdue</th><th class="num">adherence</th></tr></thead>
        <tbody>${d.response.map(r => html`<tr><td>${r.priority} <span class="dim">${r.tier}</span></td><td class="num">${r.tickets}</td>
            <td class="num">${r.met}</td><td class="num">${r.late}</td><td class="num">${r.overdue}</td><td class="num">${pct(r.adherence)}</td></tr>`)}</tbody></table>
        <table><thead><tr><th>tier</th><th class="num">availability</th><th class="num">target</th><th></th><th>to compensate</th></tr></thead>
        <tbody>${d.availability.map(a => html`<tr><td>${a.tier}</td><td class="num">${num(a.availability_pct, 3)}%</td>
            <td class="num">${a.target_pct}%</td><td><${Tag} k=${a.met ? '' : 'firing'}>${a.met ? 'met' : 'breached'}</${Tag}></td>
            <td class="mono">${a.compensate.length ? a.compensate.join(', ') : '–'}</td></tr>`)}</tbody></table></div>`;
}

function Churn({ d }) {
    if (!d.total.length) return html`<${Empty}>No SEV1 or SEV2 incident in the period, or no cancellation around one.</${Empty}>`;
    return html`<div class="scroll"><table><thead><tr><th>segment</th><th class="num">affected accounts</th><th class="num">of them canceled</th>
        <th class="num">canceled after</th><th class="num">before</th><th class="num">change</th></tr></thead>
        <tbody>${d.total.map(s => html`<tr><td>${s.segment}</td><td class="num">${s.affected_accounts}</td><td class="num">${s.affected_canceled_after}</td>
            <td class="num">${s.canceled_after}</td><td class="num">${s.canceled_baseline}</td><td class="num">${s.change > 0 ? '+' : ''}${s.change}</td></tr>`)}</tbody></table></div>`;
}

function Feedback({ d }) {
    if (!d.incidents.length && !d.services.length) return html`<${Empty}>No NPS or CSAT reply in the last 14 days.</${Empty}>`;
    return html`<div class="scroll"><table><thead><tr><th>#</th><th>incident</th><th class="num">unhappy</th><th class="num">NPS</th><th>open follow-ups</th></tr></thead>
        <tbody>${d.incidents.map(r => html`<tr><td>${r.rank}</td><td>${inc(r.incident_id)} <span class="sub">${r.title || ''}</span></td>
            <td class="num">${r.unhappy}</td><td class="num">${num(r.nps, 0)}</td><td>${r.open_followups.map(f => f.title).join('; ') || '–'}</td></tr>`)}</tbody></table>
        <table><thead><tr><th>#</th><th>service</th><th class="num">unhappy</th><th class="num">NPS</th><th class="num">change</th></tr></thead>
        <tbody>${d.services.map(r => html`<tr><td>${r.rank}</td><td class="mono">${r.service}</td><td class="num">${r.unhappy}</td>
            <td class="num">${num(r.nps, 0)}</td><td class="num">${num(r.nps_change, 0)}</td></tr>`)}</tbody></table></div>`;
}

export function TicketsView() {
    const now = useNow(10000);
    const live = { live: topics('tickets.', 'incident.'), every: 30000 };
    const queue = useFetch(() => api('/v1/tickets?order=priority&limit=50'), [], live);
    const clusters = useFetch(() => api('/v1/tickets/clusters'), [], live);
    const sla = useFetch(() => api('/v1/tickets/reports/sla'), [], { every: 60000 });
    const churn = useFetch(() => api('/v1/tickets/reports/churn'), [], { every: 300000 });
    const fb = useFetch(() => api('/v1/feedback/priorities'), [], { every: 60000 });
    return html`<div data-view="tickets" class="stack">
        <h1>Support</h1>
        <div class="grid2">
            <div class="stack">
                <${Panel} title="Queue" sub="routed tickets, VIP and premium first"><${Async} r=${queue} what="tickets">${d => html`<${Queue} d=${d} now=${now} />`}</${Async}></${Panel}>
                <${Panel} title="Clusters" sub="near-duplicate tickets and their incident"><${Async} r=${clusters} what="clusters">${d => html`<${Clusters} d=${d} />`}</${Async}></${Panel}>
            </div>
            <div class="stack">
                <${Panel} title="SLA by tier" sub="first responses; availability over 90 days"><${Async} r=${sla} what="the SLA report">${d => html`<${Sla} d=${d} />`}</${Async}></${Panel}>
                <${Panel} title="Churn after SEV1/SEV2" sub="cancellations 30 days after against 30 days before"><${Async} r=${churn} what="the churn report">${d => html`<${Churn} d=${d} />`}</${Async}></${Panel}>
                <${Panel} title="What viewers mind" sub="NPS and CSAT, last 14 days: fix these first"><${Async} r=${fb} what="feedback">${d => html`<${Feedback} d=${d} />`}</${Async}></${Panel}>
            </div>
        </div>
    </div>`;
}
