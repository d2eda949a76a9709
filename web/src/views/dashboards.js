// Dashboards (#/dashboards?d=ID&from=-3h): the seven war-room dashboards in runbook order.
// Panels fed by player beacons draw now; the CDN edge panels draw from CDN logs, the
// manifest panel from the prober and the origin, packager and DRM license panels from the
// services' scraped metrics once they have data; a panel whose source is not configured says
// so instead of drawing nothing.
import { html } from '../html.js';
import { api, qoe } from '../api.js';
import { useFetch } from '../hooks.js';
import { Chart, toColumns } from '../chart.js';
import { Async, Panel, NotConfigured, Empty } from '../ui.js';
import { range, fmtValue, fmtNum, metricLabel, sliceText } from '../fmt.js';
import { setQuery } from '../router.js';

// A board's scraped services: the targets of scrape.file whose service is one of services,
// their state and rules, and charts of the series named here (or by their rules).
const SCRAPE = (what, services, metrics) => ({ kind: 'scrape', what, services, metrics });
const EDGE_HOW = 'Point your CDN\'s log streaming at POST /v1/cdn-logs?format=fastly|akamai|cloudfront with an ingest token (docs/contracts.md, "CMCD and CDN logs"): each line gives the edge series below (cache misses, 5xx, time to first byte per POP) and, with CMCD, the player side too.';

// kinds: the catalog service kinds whose incidents' runbook points at the board (the drill's
// runbook notes use the same table: src/drill/runbook.c)
export const BOARDS = [
    { id: 'origin', kinds: ['origin', 'storage'], title: 'Origin', why: 'An origin fault shows on every CDN at once: startup and failures rise on all pathways together.', panels: [
        SCRAPE('origin', ['origin', 'origin-shield'], ['origin_http_responses_total', 'origin_manifest_age_seconds']),
        { kind: 'chart', title: 'Startup time p95 by CDN', metric: 'startup_p95_ms', group_by: 'cdn' },
        { kind: 'chart', title: 'Video start failures by CDN', metric: 'vsf_rate', group_by: 'cdn' },
    ] },
    { id: 'packager', kinds: ['packager', 'encoder'], title: 'Packager', why: 'A stale or broken packager hits live streams first: compare live=true with on-demand.', panels: [
        SCRAPE('packager', ['packager', 'live-packager'], ['packager_manifest_age_seconds', 'packager_segments_total']),
        { kind: 'chart', title: 'Rebuffer ratio, live vs on-demand', metric: 'rebuffer_ratio', group_by: 'live' },
        { kind: 'chart', title: 'Video start failures, live vs on-demand', metric: 'vsf_rate', group_by: 'live' },
    ] },
    { id: 'cdn', kinds: ['cdn'], title: 'CDN edge', why: 'Per CDN and POP, as players see them.', panels: [
        { kind: 'edge', title: 'Edge cache miss rate by POP (top 10)', metric: 'edge_cache_miss_rate', group_by: 'pop', top: 10 },
        { kind: 'edge', title: 'Edge 5xx rate by CDN', metric: 'edge_5xx_rate', group_by: 'cdn' },
        { kind: 'edge', title: 'Edge time to first byte by POP (top 10)', metric: 'edge_ttfb_ms', group_by: 'pop', top: 10 },
        { kind: 'chart', title: 'Rebuffer ratio by CDN', metric: 'rebuffer_ratio', group_by: 'cdn' },
        { kind: 'chart', title: 'Startup time p95 by CDN', metric: 'startup_p95_ms', group_by: 'cdn' },
        { kind: 'chart', title: 'Concurrent viewers rebuffering by POP (top 10)', metric: 'concurrent_rebuffering_share', group_by: 'pop', top: 10 },
        { kind: 'chart', title: 'Concurrent viewers by CDN', metric: 'concurrent_viewers', group_by: 'cdn' },
    ] },
    { id: 'manifest', kinds: ['manifest'], title: 'Manifest validity', why: 'Do live manifests parse, advance, and point at reachable segments on every CDN?', panels: [
        { kind: 'probes' },
    ] },
    { id: 'drm', kinds: ['drm'], title: 'DRM license', why: 'License failures stop playback before the first frame: start failures by key system.', panels: [
        SCRAPE('DRM license', ['drm-license'], ['drm_license_requests_total', 'drm_license_latency_seconds']),
        { kind: 'chart', title: 'Video start failures by DRM', metric: 'vsf_rate', group_by: 'drm' },
        { kind: 'chart', title: 'Video start failures by DRM and device (top 10)', metric: 'vsf_rate', group_by: 'drm,device', top: 10 },
    ] },
    { id: 'errors', kinds: ['player'], title: 'Player error codes', why: 'Which errors players report, and which builds report them.', panels: [
        { kind: 'errors' },
        { kind: 'chart', title: 'Video start failures by player', metric: 'vsf_rate', group_by: 'player' },
        { kind: 'chart', title: 'Video start failures by player version (top 10)', metric: 'vsf_rate', group_by: 'player,player_version', top: 10 },
        { kind: 'chart', title: 'Playback failures (crashes) by player version (top 10)', metric: 'vpf_rate', group_by: 'player,player_version', top: 10 },
    ] },
    { id: 'isp-cdn', kinds: ['network'], title: 'ISP/CDN correlation', why: 'A bad ISP shows across CDNs; a bad CDN across ISPs.', panels: [
        { kind: 'matrix', metric: 'rebuffer_ratio', rows: 'isp', cols: 'cdn' },
        { kind: 'matrix', metric: 'vsf_rate', rows: 'isp', cols: 'cdn' },
    ] },
];

function ChartPanel({ p, from }) {
    const r = useFetch(async () => {
        const rg = range(from, 'now', null);
        const ans = await qoe({ metric: p.metric, from: rg.from, to: rg.to, step: rg.step, group_by: p.group_by, top: p.top });
        const c = toColumns(ans, rg);
        return { x: c.x, series: c.ys.map(y => ({ label: sliceText(y.group), values: y.values })) };
    }, [p.metric, p.group_by, from], { every: 60000 });
    return html`<${Panel} title=${p.title} sub=${`${p.metric}, from ${p.src || 'player beacons'}`}>
        <${Async} r=${r} what="the chart">${d => html`<${Chart} x=${d.x} series=${d.series} metric=${p.metric} height=${190} sync="dash" />`}</${Async}>
        <div class="src"><a href=${`#/explore?metric=${p.metric}&from=${from}&to=now&group_by=${p.group_by}`}>open in explorer →</a></div>
    </${Panel}>`;
}

// An edge panel: the chart once CDN log lines came in over the range, else how to send them.
function EdgePanel({ p, from }) {
    const r = useFetch(async () => {
        const rg = range(from, 'now', null);
        const ans = await qoe({ metric: 'edge_requests', from: rg.from, to: rg.to });
        const pts = ans.series[0] ? ans.series[0].points : [];
        return pts.some(x => x[1] > 0);
    }, [from], { every: 60000 });
    return html`<${Async} r=${r} what="the edge series">${has => (has
        ? html`<${ChartPanel} p=${{ ...p, src: 'CDN logs' }} from=${from} />`
        : html`<${Panel} title=${p.title}><${NotConfigured} what="no CDN log lines in this range" how=${EDGE_HOW} /></${Panel}>`)}</${Async}>`;
}

// The manifest prober's streams: each pathway's state and the findings active now.
function ProbesPanel() {
    const r = useFetch(() => api('/v1/probes').catch(e => ({ error: e })), [], { every: 10000 });
    return html`<${Panel} cls="span-all" title="Live manifests, as the prober sees them" sub="GET /v1/probes; a finding is also an alert (source probe)">
        <${Async} r=${r} what="the probes">${d => (d.error || !d.probes.length
        ? html`<${NotConfigured} what="no streams to probe"
            how="List your live streams in probe.file (YAML: name, kind hls|dash, service, urls per CDN pathway) or POST /v1/probes as an admin (docs/internals/probe.md). The prober polls each one, checks that its manifest parses, advances and points at reachable segments on every pathway, and raises a finding (an alert) when not." />`
        : html`<div class="scroll"><table><thead><tr><th>stream</th><th>service</th><th>pathway</th><th>up</th><th class="num">manifest age</th><th class="num">live latency</th><th>findings now</th></tr></thead>
            <tbody>${d.probes.flatMap(s => s.pathways.map((pw, i) => html`<tr>
                <td>${i ? '' : s.name}</td><td>${i ? '' : s.service || '–'}</td><td>${pw.pathway}</td>
                <td><span class=${pw.up ? 'tag ok' : 'tag firing'}>${pw.up ? 'up' : 'down'}</span></td>
                <td class="num">${pw.up && pw.manifest_age_s != null ? pw.manifest_age_s.toFixed(1) + ' s' : '–'}</td>
                <td class="num">${pw.up && pw.live_latency_s != null ? pw.live_latency_s.toFixed(1) + ' s' : '–'}</td>
                <td>${i ? '' : (s.findings.length ? s.findings.map(f => html`<span class="tag firing" title=${f.detail}>${f.kind}</span> `) : html`<span class="dim">none</span>`)}</td>
            </tr>`))}</tbody></table></div>`)}</${Async}>
    </${Panel}>`;
}

const labelsText = l => Object.entries(l).map(([k, v]) => `${k}=${v}`).join(', ');
const agoText = s => (s == null ? 'never' : `${Math.max(0, Math.round(Date.now() / 1000 - s))} s ago`);

// The services' own metrics, scraped (GET /v1/scrape/targets and /v1/scrape/series): each
// target's state and rules, then one chart per series name over the last hour (counters as
// per-second rates).
function ScrapePanel({ p }) {
    const r = useFetch(async () => {
        const t = await api('/v1/scrape/targets').catch(e => ({ error: e }));
        if (t.error) return { targets: [], charts: [] };
        const targets = t.targets.filter(x => p.services.includes(x.service));
        const charts = [];
        for (const tg of targets) {
            for (const m of [...new Set([...p.metrics, ...tg.rules.map(x => x.metric)])]) {
                const s = await api(`/v1/scrape/series?target=${encodeURIComponent(tg.name)}&metric=${encodeURIComponent(m)}`);
                if (!s.series.length) continue;
                const xs = [...new Set(s.series.flatMap(x => x.points.map(pt => pt[0])))].sort((a, b) => a - b);
                const series = s.series.map(x => {
                    const at = new Map(x.points);
                    return { label: labelsText(x.labels) || m, values: xs.map(ts => (at.has(ts) ? at.get(ts) : null)) };
                });
                charts.push({ key: `${tg.name}/${m}`, title: `${tg.name}: ${m}${s.series[0].type === 'counter' ? ' per second' : ''}`, x: xs, series });
            }
        }
        return { targets, charts };
    }, [p.what], { every: 15000 });
    return html`<${Async} r=${r} what="the scraped metrics">${d => (!d.targets.length
        ? html`<${Panel} cls="span-all" title=${`${p.what} metrics`}><${NotConfigured} what=${`no scraped ${p.what} metrics`}
            how=${`List the ${p.what} exporters in scrape.file (YAML: name, service: ${p.services.join(' or ')}, url, rules; docs/internals/scrape.md). oncue scrapes each one, keeps its series and turns its rules into alerts for the service's team. \`oncue sim --exporters 127.0.0.1:9464\` serves simulated ones that examples/scrape.yaml scrapes.`} /></${Panel}>`
        : html`<${Panel} cls="span-all" title=${`${p.what}, as its metrics say`} sub="GET /v1/scrape/targets; a rule that holds is also an alert (source scrape)">
            <div class="scroll"><table><thead><tr><th>target</th><th>service</th><th>state</th><th class="num">last scrape</th><th>rules</th></tr></thead>
            <tbody>${d.targets.map(tg => html`<tr>
                <td>${tg.name}</td><td>${tg.service}</td>
                <td><span class=${tg.state === 'up' ? 'tag ok' : 'tag firing'} title=${tg.error || ''}>${tg.state}</span></td>
                <td class="num">${agoText(tg.last_scrape)}</td>
                <td>${tg.rules.length ? tg.rules.map(x => html`<span class=${x.active ? 'tag firing' : 'tag ok'} title=${x.detail || ''}>${x.name} ${x.value == null ? '–' : fmtNum(x.value, 3)} ${x.op} ${x.threshold}</span> `) : html`<span class="dim">none</span>`}</td>
            </tr>`)}</tbody></table></div>
        </${Panel}>
        ${d.charts.map(c => html`<${Panel} key=${c.key} title=${c.title} sub="scraped, the last value of each minute">
            <${Chart} x=${c.x} series=${c.series} unit="count" height=${190} emptyText="no minute yet" /></${Panel}>`)}`)}</${Async}>`;
}

function MatrixPanel({ p, from }) {
    const r = useFetch(async () => {
        const rg = range(from, 'now', null);
        const gb = `${p.rows},${p.cols}`;
        const [v, vol] = await Promise.all([
            qoe({ metric: p.metric, from: rg.from, to: rg.to, group_by: gb, top: 400 }),
            qoe({ metric: 'concurrent_viewers', from: rg.from, to: rg.to, group_by: gb, top: 400 }),
        ]);
        const val = new Map(), vw = new Map(), rowVol = new Map(), cols = new Set();
        const one = s => (s.points[0] ? s.points[0][1] : null);
        for (const s of v.series) { val.set(s.group[p.rows] + '\u0000' + s.group[p.cols], one(s)); cols.add(s.group[p.cols]); }
        for (const s of vol.series) {
            vw.set(s.group[p.rows] + '\u0000' + s.group[p.cols], one(s));
            rowVol.set(s.group[p.rows], (rowVol.get(s.group[p.rows]) || 0) + (one(s) || 0));
        }
        const rows = [...rowVol.keys()].sort((a, b) => rowVol.get(b) - rowVol.get(a));
        const all = [...val.values()].filter(x => x != null).sort((a, b) => a - b);
        const median = all.length ? all[Math.floor(all.length / 2)] : 0;
        return { rows, cols: [...cols].sort(), val, vw, median };
    }, [p.metric, from], { every: 60000 });
    return html`<${Panel} title=${`${metricLabel(p.metric)}: ${p.rows} × ${p.cols}`} sub="over the range; red cells are well above the median cell; click to explore">
        <${Async} r=${r} what="the table">${d => (!d.rows.length ? html`<${Empty}>No beacons in this range.</${Empty}>` : html`<div class="scroll"><table class="heat">
            <thead><tr><th>${p.rows}</th>${d.cols.map(c => html`<th class="num">${c}</th>`)}</tr></thead>
            <tbody>${d.rows.map(row => html`<tr><td>${row}</td>${d.cols.map(c => {
            const k = row + '\u0000' + c;
            const x = d.val.get(k);
            const hot = x != null && d.median > 0 ? Math.min(1, Math.max(0, (x / d.median - 1.5) / 3)) : 0;
            const go = `#/explore?metric=${p.metric}&from=${from}&to=now&filter=${p.rows}:${row},${p.cols}:${c}`;
            return html`<td class="num cell" style=${hot > 0 ? { background: `rgba(248,81,73,${(0.15 + hot * 0.55).toFixed(2)})` } : null}
                title=${`${fmtNum(d.vw.get(k))} concurrent viewers (mean)`}><a href=${go} style="color:inherit">${fmtValue(p.metric, x)}</a></td>`;
        })}</tr>`)}</tbody></table></div>`)}</${Async}>
    </${Panel}>`;
}

function ErrorCodesPanel({ from }) {
    const dims = useFetch(() => api('/v1/qoe/dimensions'), []);
    return html`<${Async} r=${dims} what="dimensions">${d => (d.dimensions.some(x => x.name === 'error_code')
        ? html`<${ChartPanel} p=${{ title: 'Start failures by error code (top 10)', metric: 'vsf_rate', group_by: 'error_code', top: 10 }} from=${from} />`
        : html`<${Panel} title="Failures by error code"><${NotConfigured} what="the QoE cube has no error_code dimension"
            how="Players send error_code on failed starts and error events (docs/contracts.md, Beacon events), but the cube aggregates by region, country, cdn, pop, isp, asn, device, os, player, player_version, drm, title and live only, so failures cannot be split by code yet. The panels below split start failures by player and build instead." /></${Panel}>`)}</${Async}>`;
}

function Board({ b, from }) {
    return html`<section class="stack" id=${'board-' + b.id} aria-labelledby=${'h-' + b.id}>
        <h2 id=${'h-' + b.id} style="font-size:15px;margin-top:6px">${b.title} <span class="sub">${b.why}</span></h2>
        <div class="grid">${b.panels.map(p => (p.kind === 'chart' ? html`<${ChartPanel} p=${p} from=${from} />`
            : p.kind === 'matrix' ? html`<${MatrixPanel} p=${p} from=${from} />`
            : p.kind === 'errors' ? html`<${ErrorCodesPanel} from=${from} />`
            : p.kind === 'edge' ? html`<${EdgePanel} p=${p} from=${from} />`
            : p.kind === 'probes' ? html`<${ProbesPanel} />`
            : p.kind === 'scrape' ? html`<${ScrapePanel} p=${p} />`
            : html`<${Panel} title=${p.what[0].toUpperCase() + p.what.slice(1)}><${NotConfigured} what=${p.what} how=${p.how} /></${Panel}>`))}</div>
    </section>`;
}

export function DashboardsView({ q }) {
    const d = q.get('d') || 'all';
    const from = q.get('from') || '-3h';
    const shown = d === 'all' ? BOARDS : BOARDS.filter(b => b.id === d);
    return html`<div data-view="dashboards" class="stack">
        <div class="toolbar"><h1 style="margin:0;flex:1">Dashboards</h1>
            <label>range<select value=${from} onChange=${e => setQuery({ from: e.currentTarget.value })}>
                ${['-1h', '-3h', '-6h', '-24h'].map(r => html`<option value=${r}>last ${r.slice(1)}</option>`)}</select></label></div>
        <nav class="tabs" aria-label="dashboards">
            <a href=${`#/dashboards?d=all&from=${from}`} class=${d === 'all' ? 'on' : ''}>All, in runbook order</a>
            ${BOARDS.map((b, i) => html`<a href=${`#/dashboards?d=${b.id}&from=${from}`} class=${d === b.id ? 'on' : ''}>${i + 1}. ${b.title}</a>`)}
        </nav>
        ${shown.length ? shown.map(b => html`<${Board} b=${b} from=${from} />`) : html`<${Empty}>No dashboard '${d}'.</${Empty}>`}
    </div>`;
}
