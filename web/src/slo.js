// SLOs (GET /v1/slos): bands for charts and budget cards.
import { html } from './html.js';
import { fmtValue, fmtPct, fmtNum, metricLabel } from './fmt.js';

/** SLOs on a metric with no filter: threshold lines for its chart (shaded on the bad side). */
export function sloBands(slos, metric) {
    return (slos || []).filter(s => s.indicator && s.indicator.metric === metric &&
        !Object.keys(s.indicator.filter || {}).length && s.objective)
        .map(s => ({
            value: s.objective.value,
            above: s.objective.op === '<' || s.objective.op === '<=',
            label: `SLO ${s.name}: ${s.objective.op} ${fmtValue(metric, s.objective.value)}`,
        }));
}

function burnClass(b) {
    if (b == null) return 'dim';
    if (b >= 14.4) return 'bad';
    if (b >= 1) return 'warn';
    return 'good';
}

export function SloTable({ slos, now }) {
    if (!slos || !slos.length) return html`<div class="empty">No SLOs loaded (see <code>slo.file</code> in docs/config.md).</div>`;
    return html`<table><thead><tr><th>SLO</th><th class="num">objective</th><th class="num">now</th>
        <th class="num" title="share of the error budget left over the SLO window; negative means overspent">budget left</th>
        <th class="num" title="error budget consumption rate over the last hour (1 = on track to spend exactly the budget)">burn 1h</th>
        <th class="num" title="burn rate over the last 6 hours">burn 6h</th></tr></thead>
        <tbody>${slos.map(s => {
        const m = s.indicator && s.indicator.metric;
        const o = s.objective || {};
        const has = s.budget_remaining != null;
        const b = s.budget_remaining;
        const bad = s.value != null && o.value != null && (o.op && o.op[0] === '<' ? s.value >= o.value : s.value <= o.value);
        const w = has ? Math.max(0, Math.min(1, b)) * 100 : 0;
        return html`<tr>
            <td title=${s.description || metricLabel(m)}><b>${s.name}</b><div class="sub">${s.service || ''} · ${m}</div></td>
            <td class="num">${o.op} ${fmtValue(m, o.value)}${o.target ? html`<div class="sub">${fmtPct(o.target, 1)} of ${s.budgeting_method === 'timeslices' ? 'min' : 'events'}</div>` : null}</td>
            <td class=${'num ' + (s.value == null ? 'dim' : bad ? 'bad' : 'good')}>${s.value == null ? 'no data yet' : fmtValue(m, s.value)}
                ${s.minutes ? html`<div class="sub">${fmtNum(s.bad_minutes)}/${fmtNum(s.minutes)} bad min</div>` : null}</td>
            <td class="num">${has ? html`<span class=${b < 0 ? 'bad' : b < 0.25 ? 'warn' : 'good'}>${b < 0 ? 'overspent ' : ''}${fmtPct(b < 0 ? -b : b, 0)}</span>
                <div class=${'bar ' + (b < 0 ? 'out' : b < 0.25 ? 'low' : '')}><i style=${{ width: w + '%' }}></i></div>` : html`<span class="dim">–</span>`}</td>
            <td class=${'num ' + burnClass(s.burn_rate_1h)}>${s.burn_rate_1h == null ? '–' : s.burn_rate_1h.toFixed(2) + '×'}</td>
            <td class=${'num ' + burnClass(s.burn_rate_6h)}>${s.burn_rate_6h == null ? '–' : s.burn_rate_6h.toFixed(2) + '×'}</td>
        </tr>`;
    })}</tbody></table>`;
}
