// QoE explorer (#/explore?metric=&from=&to=&step=&filter=&group_by=&top=&compare=1&by=):
// any metric over any slice, a chart (with the same time yesterday, dashed), and a breakdown
// ranked by how much each slice worsens the total.
import { useState } from 'preact/hooks';
import { html } from '../html.js';
import { api, qoe } from '../api.js';
import { useFetch } from '../hooks.js';
import { Chart, toColumns, PALETTE } from '../chart.js';
import { Async, Panel, Empty, ErrorBox } from '../ui.js';
import { METRICS, DIMENSIONS, range, fmtValue, fmtPct, fmtNum, metricLabel, sliceText, parseFilter, joinFilter } from '../fmt.js';
import { setQuery } from '../router.js';

const DAY = 86400;
const STEPS = [['', 'auto'], ['60', '1 min'], ['300', '5 min'], ['900', '15 min'], ['3600', '1 h']];

export const IMPACT_HELP = 'Impact = how much this slice worsens the total. For a metric where high is bad: ' +
    '(slice value − total value) × slice share of traffic; where low is bad (bitrate): (total − slice) × share. ' +
    'Share of traffic is the slice\'s share of the metric\'s volume (plays for start metrics, concurrent viewers ' +
    'for playback metrics) over the range. Removing the slice would move the total by about this much.';

/** Breakdown rows over [from, to) for the dimensions dims: value, share, impact; worst first. */
export async function breakdown({ metric, from, to, filter, dims, top = 50 }) {
    const vol = (METRICS[metric] && METRICS[metric].volume) || 'plays';
    const [tot, sl, vt, vs] = await Promise.all([
        qoe({ metric, from, to, filter }),
        qoe({ metric, from, to, filter, group_by: dims, top }),
        qoe({ metric: vol, from, to, filter }),
        qoe({ metric: vol, from, to, filter, group_by: dims, top }),
    ]);
    const one = s => (s && s.points && s.points[0] ? s.points[0][1] : null);
    const total = one(tot.series[0]);
    const totalVol = one(vt.series[0]);
    const volOf = new Map(vs.series.map(s => [JSON.stringify(s.group), one(s)]));
    const meta = METRICS[metric] || {};
    const isCount = meta.unit === 'count';
    const rows = sl.series.map(s => {
        const value = one(s);
        const v = volOf.get(JSON.stringify(s.group));
        const share = totalVol ? (v || 0) / totalVol : null;
        let impact = null;
        if (!isCount && value != null && total != null && share != null)
            impact = (meta.bad === 'low' ? total - value : value - total) * share;
        return { group: s.group, value, share, impact };
    });
    rows.sort((a, b) => (isCount ? (b.share || 0) - (a.share || 0) : (b.impact ?? -Infinity) - (a.impact ?? -Infinity)));
    return { total, totalVol, vol, rows, isCount };
}

export function BreakdownTable({ metric, data, onPick }) {
    if (!data.rows.length) return html`<${Empty}>No slices with data in this range.</${Empty}>`;
    const unit = METRICS[metric] ? METRICS[metric].unit : 'count';
    const fmtImpact = v => (v == null ? '–' : Math.abs(v) < (unit === 'ratio' ? 5e-6 : 5e-4) ? '0' : unit === 'ratio' ? (v * 100).toFixed(3) + ' pt' : unit === 'ms' ? Math.round(v) + ' ms' : fmtNum(v, 1) + (unit === 'kbps' ? ' kbps' : ''));
    return html`<div class="scroll"><table><thead><tr><th>slice</th><th class="num">${metricLabel(metric)}</th>
        <th class="num">vs total</th><th class="num" title=${`share of ${data.vol} over the range`}>share of traffic</th>
        ${data.isCount ? null : html`<th class="num" title=${IMPACT_HELP}>impact <span class="help" tabindex="0" role="img" aria-label=${IMPACT_HELP}>?</span></th>`}<th></th></tr></thead>
        <tbody>${data.rows.map(r => {
        const worse = r.impact != null && r.impact > 0;
        return html`<tr class="click" onClick=${() => onPick(r.group)} title="add this slice to the filter">
            <td class="mono">${sliceText(r.group)}</td>
            <td class=${'num ' + (worse ? 'bad' : '')}>${fmtValue(metric, r.value)}</td>
            <td class="num dim">${r.value != null && data.total != null ? ((r.value >= data.total ? '+' : '') + (unit === 'ratio' ? ((r.value - data.total) * 100).toFixed(2) + ' pt' : fmtValue(metric, r.value - data.total))) : '–'}</td>
            <td class="num">${fmtPct(r.share, 1)}</td>
            ${data.isCount ? null : html`<td class=${'num ' + (worse ? 'bad' : 'good')}>${worse ? '+' : ''}${fmtImpact(r.impact)}</td>`}
            <td><button type="button" class="link" onClick=${e => { e.stopPropagation(); onPick(r.group); }}
                aria-label=${'filter to ' + sliceText(r.group)}>+ filter</button></td></tr>`;
    })}</tbody></table></div>`;
}

function TimeField({ name, value, label }) {
    const [v, setV] = useState(value);
    const commit = () => { if (v !== value) setQuery({ [name]: v }); };
    return html`<label>${label}<input size="10" value=${v} onInput=${e => setV(e.currentTarget.value)} onBlur=${commit}
        onKeyDown=${e => { if (e.key === 'Enter') commit(); }} title="now, -6h, -30m, -2d, unix seconds or an ISO time" /></label>`;
}

export function ExploreView({ q }) {
    const metric = q.get('metric') || 'rebuffer_ratio';
    const from = q.get('from') || '-6h';
    const to = q.get('to') || 'now';
    const stepText = q.get('step') || '';
    const filter = q.get('filter') || '';
    const groupBy = q.get('group_by') || '';
    const top = Math.min(1000, Number(q.get('top')) || 10);
    const compare = q.get('compare') === '1';
    const by = groupBy || q.get('by') || 'region';
    const pairs = parseFilter(filter);
    const groups = groupBy ? groupBy.split(',').filter(Boolean) : [];
    const [fdim, setFdim] = useState('region');
    const [fval, setFval] = useState('');

    const dims = useFetch(() => api('/v1/qoe/dimensions'), []);
    const key = [metric, from, to, stepText, filter, groupBy, top, compare].join('|');
    const chart = useFetch(async () => {
        const r = range(from, to, stepText);
        const base = { metric, from: r.from, to: r.to, step: r.step, filter, group_by: groupBy, top: groupBy ? top : undefined };
        const [cur, prev] = await Promise.all([qoe(base),
            compare ? qoe({ ...base, from: r.from - DAY, to: r.to - DAY }) : null]);
        const c = toColumns(cur, r);
        const series = c.ys.map((y, i) => ({ label: sliceText(y.group), values: y.values, color: PALETTE[i % PALETTE.length] }));
        if (prev) {
            const p = toColumns(prev, r, DAY);
            const idx = new Map(c.ys.map((y, i) => [JSON.stringify(y.group), i]));
            p.ys.forEach((y, j) => {
                const i = idx.get(JSON.stringify(y.group)) ?? (c.ys.length + j);
                series.push({ label: sliceText(y.group) + ' (24 h earlier)', values: y.values, color: PALETTE[i % PALETTE.length], dash: [6, 4], width: 1 });
            });
        }
        const prevEmpty = !!prev && !prev.series.some(s => s.points.some(p => p[1] != null));
        return { r, x: c.x, series, prevEmpty };
    }, [key], { every: to === 'now' ? 60000 : 0 });
    const bd = useFetch(async () => {
        const r = range(from, to, stepText);
        return breakdown({ metric, from: r.from, to: r.to, filter, dims: by });
    }, [metric, from, to, filter, by]);

    const dimList = dims.data ? dims.data.dimensions.map(d => d.name) : DIMENSIONS;
    const topValues = dims.data ? ((dims.data.dimensions.find(d => d.name === fdim) || {}).top || []) : [];
    const addFilter = (d, v) => {
        const next = pairs.filter(([k, x]) => !(k === d && x === v)).concat([[d, v]]);
        setQuery({ filter: joinFilter(next) });
    };
    const pick = g => {
        let next = pairs.slice();
        for (const [k, v] of Object.entries(g)) if (!next.some(([a, b]) => a === k && b === v)) next.push([k, v]);
        // A dimension that now has a filter is no longer worth grouping by.
        const rest = groups.filter(d => !(d in g));
        setQuery({ filter: joinFilter(next), group_by: rest.join(','), by: null });
    };
    const errors = range(from, to, stepText).errors;

    return html`<div data-view="explore" class="stack">
        <h1>QoE explorer</h1>
        <div class="panel">
            <div class="toolbar">
                <label>metric<select value=${metric} onChange=${e => setQuery({ metric: e.currentTarget.value })}>
                    ${Object.keys(METRICS).map(m => html`<option value=${m}>${m} · ${metricLabel(m)}</option>`)}</select></label>
                <${TimeField} key=${'f' + from} name="from" value=${from} label="from" />
                <${TimeField} key=${'t' + to} name="to" value=${to} label="to" />
                <label>step<select value=${stepText} onChange=${e => setQuery({ step: e.currentTarget.value })}>
                    ${STEPS.map(([v, l]) => html`<option value=${v}>${l}</option>`)}</select></label>
                <label>group by<select value="" onChange=${e => { const d = e.currentTarget.value; if (d) setQuery({ group_by: groups.concat([d]).join(',') }); }}>
                    <option value="">add…</option>${dimList.filter(d => !groups.includes(d)).map(d => html`<option value=${d}>${d}</option>`)}</select></label>
                <label>top<input type="number" min="1" max="1000" value=${top} style="width:70px"
                    onChange=${e => setQuery({ top: e.currentTarget.value })} /></label>
                <label style="flex-direction:row;align-items:center;gap:6px;font-size:12px"><input type="checkbox" checked=${compare}
                    onChange=${e => setQuery({ compare: e.currentTarget.checked ? '1' : null })} />compare with 24 h earlier</label>
            </div>
            <form class="inline" onSubmit=${e => { e.preventDefault(); if (fval.trim()) { addFilter(fdim, fval.trim()); setFval(''); } }}>
                <label class="field">filter dimension<select value=${fdim} onChange=${e => setFdim(e.currentTarget.value)}>
                    ${dimList.map(d => html`<option value=${d}>${d}</option>`)}</select></label>
                <label class="field">value<input list="dim-values" value=${fval} onInput=${e => setFval(e.currentTarget.value)} placeholder="e.g. EMEA" /></label>
                <datalist id="dim-values">${topValues.map(t => html`<option value=${t.value} />`)}</datalist>
                <button type="submit">Add filter</button>
                <span>${pairs.map(([k, v]) => html`<span class="chip">${k}=${v}<button type="button" aria-label=${`remove filter ${k}=${v}`}
                    onClick=${() => setQuery({ filter: joinFilter(pairs.filter(p => !(p[0] === k && p[1] === v))) })}>×</button></span> `)}
                ${groups.map(d => html`<span class="chip">by ${d}<button type="button" aria-label=${'stop grouping by ' + d}
                    onClick=${() => setQuery({ group_by: groups.filter(x => x !== d).join(',') })}>×</button></span> `)}</span>
            </form>
            <${ErrorBox} error=${errors.join('; ')} />
        </div>
        <${Panel} title=${metricLabel(metric)} sub=${`${sliceText(Object.fromEntries(pairs))}${groupBy ? ' by ' + groupBy : ''}${compare ? ' · dashed: 24 h earlier' : ''}`}>
            <${Async} r=${chart} what="the chart">${d => html`<${Chart} x=${d.x} series=${d.series} metric=${metric} height=${300}
                emptyText="No data for this metric and filter in this range." />
                <div class="src">${d.series.length} series · step ${d.r.step} s · ${d.r.n} points each${d.prevEmpty ? ' · no data 24 h earlier to compare with' : ''}</div>`}</${Async}>
        </${Panel}>
        <${Panel} title="Breakdown" sub=${`by ${by}, ranked by negative impact on the total; click a row to add it to the filter`}>
            ${groupBy ? null : html`<div class="toolbar"><label>break down by<select value=${by} onChange=${e => setQuery({ by: e.currentTarget.value })}>
                ${dimList.map(d => html`<option value=${d}>${d}</option>`)}</select></label></div>`}
            <${Async} r=${bd} what="the breakdown">${d => html`<div class="src">total ${fmtValue(metric, d.total)} over ${fmtNum(d.totalVol)} ${d.vol === 'plays' ? 'plays' : 'concurrent viewers (mean)'}</div>
                <${BreakdownTable} metric=${metric} data=${d} onPick=${pick} />`}</${Async}>
        </${Panel}>
    </div>`;
}
