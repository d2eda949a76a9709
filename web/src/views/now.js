// Now (#/now): viewers and the four CTA-2066 metrics against their SLOs, budgets and burn,
// open incidents, and what changed in the last 6 hours.
import { useEffect } from 'preact/hooks';
import { html } from '../html.js';
import { api, qoe } from '../api.js';
import { topics } from '../live.js';
import { useFetch } from '../hooks.js';
import { Chart, toColumns } from '../chart.js';
import { sloBands, SloTable } from '../slo.js';
import { IncidentRows } from '../incidents-common.js';
import { Async, Panel, Empty } from '../ui.js';
import { range, serverNow, fmtValue, fmtTime, fmtAgo, metricLabel } from '../fmt.js';
import { setQuery } from '../router.js';

const CHARTS = [
    { title: 'Concurrent viewers', metrics: ['concurrent_viewers'] },
    { title: 'Video start failures (VSF)', metrics: ['vsf_rate'] },
    { title: 'Exits before video start (EBVS)', metrics: ['ebvs_rate'] },
    { title: 'Video playback failures (VPF)', metrics: ['vpf_rate'] },
    { title: 'Rebuffering', metrics: ['rebuffer_ratio', 'rebuffering_share'] },
    { title: 'Startup time', metrics: ['startup_p50_ms', 'startup_p95_ms'] },
];
const ALL = [...new Set(CHARTS.flatMap(c => c.metrics))];
const RANGES = ['-1h', '-3h', '-6h', '-12h', '-24h'];
let painted = false;

const lastValue = vs => {
    for (let i = vs.length - 1; i >= 0; i--) if (vs[i] != null) return vs[i];
    return null;
};

export function NowView({ q }) {
    const from = q.get('from') || '-3h';
    const series = useFetch(async () => {
        const r = range(from, 'now', null);
        const answers = await Promise.all(ALL.map(metric => qoe({ metric, from: r.from, to: r.to, step: r.step })));
        const cols = {};
        ALL.forEach((m, i) => { cols[m] = toColumns(answers[i], r); });
        return { r, cols };
    }, [from], { every: 60000 });
    const slos = useFetch(() => api('/v1/slos'), [], { every: 60000, live: topics('alert.') });
    const open = useFetch(() => api('/v1/incidents?state=open'), [], { live: topics('incident.', 'rca.', 'mitigation.') });
    const changes = useFetch(async () => {
        const since = Math.floor(serverNow()) - 6 * 3600;
        const [c, m] = await Promise.all([api(`/v1/changes?since=${since}`), api('/v1/mitigations')]);
        const rows = [];
        for (const x of c.changes || []) rows.push({ at: x.time ?? x.at ?? x.recorded_at, kind: x.kind, what: `${x.service || ''} ${x.version || ''}`.trim(), text: x.description, by: x.actor });
        for (const x of m.mitigations || []) {
            const at = Math.floor(x.created_ms / 1000);
            if (at >= since) rows.push({ at, kind: 'mitigation', what: `${x.kind} #${x.id}`, text: describeSpec(x.spec) + (x.state === 'reverted' ? ' (reverted)' : ''), by: x.actor });
        }
        rows.sort((a, b) => b.at - a.at);
        return rows;
    }, [], { live: topics('mitigation.', 'steer.'), every: 60000 });

    const data = series.data;
    const sloList = slos.data && slos.data.slos;
    useEffect(() => {
        if (!painted && data && open.data) {
            painted = true;
            requestAnimationFrame(() => performance.mark('first-useful-paint'));
        }
    }, [data, open.data]);

    return html`<div data-view="now" class="stack">
        <div class="toolbar"><h1 style="margin:0;flex:1">Now</h1>
            <label>range<select value=${from} onChange=${e => setQuery({ from: e.currentTarget.value })} aria-label="time range">
                ${RANGES.map(r => html`<option value=${r}>last ${r.slice(1)}</option>`)}</select></label></div>
        ${data ? html`<div class="kpis">${ALL.map(m => {
            const v = lastValue(data.cols[m].ys[0] ? data.cols[m].ys[0].values : []);
            const b = sloBands(sloList, m)[0];
            const cls = v == null ? '' : b ? (v >= b.value ? 'bad' : 'ok') : '';
            return html`<div class=${'kpi ' + cls}><div class="k">${metricLabel(m)}</div>
                <div class="v">${fmtValue(m, v)}</div><div class="s">${b ? b.label.replace(/^SLO [^:]*: /, 'SLO ') : 'last complete minute'}</div></div>`;
        })}</div>` : null}
        <div class="grid2">
            <div class="stack">
                <${Panel} title="Active incidents" sub="open, newest first">
                    <${Async} r=${open} what="incidents">${d => (d.incidents.length
                        ? html`<${IncidentRows} incidents=${d.incidents} now=${serverNow()} compact />`
                        : html`<${Empty}>No open incidents.</${Empty}>`)}</${Async}></${Panel}>
                <${Async} r=${series} what="QoE">${d => html`<div class="grid">${CHARTS.map(c => html`<${Panel} title=${c.title}
                    sub=${c.metrics.length > 1 ? c.metrics.map(metricLabel).join(' and ') : ''}>
                    <${Chart} x=${d.cols[c.metrics[0]].x} metric=${c.metrics[0]} sync="now" height=${170}
                        bands=${c.metrics.flatMap(m => sloBands(sloList, m))}
                        series=${c.metrics.map(m => ({ label: metricLabel(m), values: d.cols[m].ys[0] ? d.cols[m].ys[0].values : [] }))} />
                    <div class="src"><a href=${`#/explore?metric=${c.metrics[c.metrics.length - 1]}&from=${from}&to=now`}>explore ${c.metrics[c.metrics.length - 1]} →</a></div>
                </${Panel}>`)}</div>`}</${Async}>
            </div>
            <div class="stack">
                <${Panel} title="Error budgets and burn" sub="GET /v1/slos">
                    <${Async} r=${slos} what="SLOs">${d => html`<${SloTable} slos=${d.slos} />`}</${Async}></${Panel}>
                <${Panel} title="What changed" sub="deploys, config, flags and mitigations, last 6 h">
                    <${Async} r=${changes} what="changes">${rows => (rows.length ? html`<table><tbody>${rows.map(x => html`<tr>
                        <td class="mono" title=${fmtTime(x.at)}>${fmtAgo(x.at)}</td><td><span class="tag">${x.kind}</span></td>
                        <td><b>${x.what}</b> ${x.text}${x.by ? html` <span class="dim">by ${x.by}</span>` : null}</td></tr>`)}</tbody></table>`
                        : html`<${Empty}>No deploys, config changes, flag flips or mitigations recorded in the last 6 hours.</${Empty}>`)}</${Async}>
                </${Panel}>
            </div>
        </div>
    </div>`;
}

export function describeSpec(spec) {
    if (!spec) return '';
    return Object.entries(spec).filter(([k]) => k !== 'kind' && k !== 'reason').map(([k, v]) => `${k}=${v}`).join(' ');
}
