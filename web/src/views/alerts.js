// Alerts and SLOs (#/alerts): active alerts, recent firings, SLO budgets and burn, the rules and
// the 90-day alert audit.
import { html } from '../html.js';
import { api } from '../api.js';
import { topics } from '../live.js';
import { useFetch, useNow } from '../hooks.js';
import { SloTable } from '../slo.js';
import { Async, Panel, Empty, Tag } from '../ui.js';
import { fmtValue, fmtAgo, fmtTime, fmtDur, sliceText } from '../fmt.js';

const FLAG_HELP = {
    ok: 'fired and led to action',
    no_action: 'fired but was never acknowledged nor led to an incident: a candidate for tuning or removal',
    never_fired: 'did not fire in the period',
};

function AlertRows({ alerts, now, active }) {
    return html`<div class="scroll"><table><thead><tr><th>alert</th><th>level</th><th class="num">value</th><th class="num">threshold</th>
        <th>fired</th>${active ? null : html`<th>resolved</th>`}<th>incident</th></tr></thead>
        <tbody>${alerts.map(a => html`<tr>
            <td><span class="mono">${a.rule}</span> <span class="dim mono">${sliceText(a.slice)}</span><div class="sub">${a.summary}</div></td>
            <td><${Tag} k=${a.level === 'page' ? 'firing' : ''}>${a.level}</${Tag}></td>
            <td class="num">${a.kind === 'burn_rate' ? (a.value != null ? a.value.toFixed(2) + '×' : '–') : fmtValue(a.metric, a.value)}</td>
            <td class="num">${a.op} ${a.kind === 'burn_rate' ? a.threshold + '×' : fmtValue(a.metric, a.threshold)}</td>
            <td class="nw" title=${`condition held since ${fmtTime(a.since)}`}>${fmtAgo(a.fired_at ?? a.at, now)}</td>
            ${active ? null : html`<td>${a.resolved_at ? html`<span title=${fmtTime(a.resolved_at)}>after ${fmtDur(a.resolved_at - a.fired_at)}</span>` : html`<${Tag} k="firing">firing</${Tag}>`}</td>`}
            <td>${a.incident_id ? html`<a href=${'#/incidents/' + a.incident_id}>${a.incident_id}</a>` : html`<span class="dim">–</span>`}</td></tr>`)}</tbody></table></div>`;
}

export function AlertsView() {
    const now = useNow(10000);
    const alerts = useFetch(() => api('/v1/alerts'), [], { live: topics('alert.', 'incident.'), every: 30000 });
    const slos = useFetch(() => api('/v1/slos'), [], { every: 60000, live: topics('alert.') });
    const rules = useFetch(() => api('/v1/rules'), []);
    const audit = useFetch(() => api('/v1/alerts/audit?days=90'), [], { live: topics('alert.', 'incident.') });
    return html`<div data-view="alerts" class="stack">
        <h1>Alerts and SLOs</h1>
        <div class="grid2">
            <div class="stack">
                <${Panel} title="Active alerts"><${Async} r=${alerts} what="alerts">${d => (d.active.length
                    ? html`<${AlertRows} alerts=${d.active} now=${now} active />` : html`<${Empty}>No alert is firing.</${Empty}>`)}</${Async}></${Panel}>
                <${Panel} title="Recent firings"><${Async} r=${alerts} what="alerts">${d => (d.recent.length
                    ? html`<${AlertRows} alerts=${d.recent} now=${now} />` : html`<${Empty}>No alert has fired recently.</${Empty}>`)}</${Async}></${Panel}>
            </div>
            <div class="stack">
                <${Panel} title="SLOs" sub="error budget left and burn rates"><${Async} r=${slos} what="SLOs">${d => html`<${SloTable} slos=${d.slos} />`}</${Async}></${Panel}>
                <${Panel} title="Alert audit" sub="last 90 days: is every rule actionable?"><${Async} r=${audit} what="the audit">${d => (d.rules.length ? html`<div class="scroll"><table>
                    <thead><tr><th>rule</th><th>level</th><th class="num">fired</th><th class="num">acked</th><th class="num">led to incident</th><th>flag</th></tr></thead>
                    <tbody>${d.rules.map(r => html`<tr><td class="mono">${r.rule}</td><td>${r.level}</td><td class="num">${r.fired}</td><td class="num">${r.acknowledged}</td>
                        <td class="num">${r.led_to_incident}</td><td><span class=${'tag ' + r.flag} title=${FLAG_HELP[r.flag] || r.flag}>${r.flag.replace('_', ' ')}</span></td></tr>`)}</tbody></table></div>`
                    : html`<${Empty}>No rule has fired in the last ${d.days} days.</${Empty}>`)}</${Async}></${Panel}>
            </div>
        </div>
        <${Panel} title="Rules" sub="loaded from the rules file; sustained means the condition held for the whole window">
            <${Async} r=${rules} what="rules">${d => (d.rules.length ? html`<div class="scroll"><table><thead><tr><th>rule</th><th>type</th><th>metric</th>
                <th>scope</th><th class="num">fires</th><th class="num">clears</th><th class="num">for</th><th>level</th></tr></thead>
                <tbody>${d.rules.map(r => html`<tr><td class="mono">${r.name}</td><td>${r.type}</td><td class="mono">${r.metric}</td>
                    <td class="mono">${sliceText(r.filter)}${(r.group_by || []).length ? ' by ' + r.group_by.join(',') : ''}</td>
                    <td class="num">${r.type === 'threshold' ? `${r.op} ${fmtValue(r.metric, r.threshold)}` : `${r.op || '>'} ${r.threshold ?? ''}${r.threshold != null ? '×' : ''}`}</td>
                    <td class="num">${r.clear_threshold != null && r.type === 'threshold' ? fmtValue(r.metric, r.clear_threshold) : '–'}</td>
                    <td class="num">${r.for_s != null ? fmtDur(r.for_s) : '–'}</td>
                    <td><${Tag} k=${r.level === 'page' ? 'firing' : ''}>${r.level}</${Tag}></td></tr>`)}</tbody></table></div>`
                : html`<${Empty}>No alert rules loaded.</${Empty}>`)}</${Async}></${Panel}>
    </div>`;
}
