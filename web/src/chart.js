// Charts: uPlot, drawn from column arrays built once per query (no per-point work at draw time).
// Every draw is wrapped in performance marks 'chart-start'/'chart-end' and measured as 'chart'.
import uPlot from 'uplot';
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from './html.js';
import { METRICS, fmtValue, fmtPct, fmtMs, fmtNum } from './fmt.js';

export const PALETTE = ['#4493f8', '#f0883e', '#3fb950', '#db61a2', '#a371f7', '#e3b341', '#39c5cf',
    '#ff7b72', '#8ddb8c', '#b083f0', '#79c0ff', '#ffa657', '#56d364', '#f778ba', '#d2a8ff', '#ffdf5d',
    '#76e3ea', '#ffa198', '#aff5b4', '#cae8ff'];

/** A /v1/qoe answer as columns over the range r ({from, step, n}): x and one array per series,
 * with null where the slice had no data. */
export function toColumns(resp, r, shift = 0) {
    const x = new Array(r.n);
    for (let i = 0; i < r.n; i++) x[i] = r.from + i * r.step;
    const ys = (resp && resp.series ? resp.series : []).map(s => {
        const v = new Array(r.n).fill(null);
        const pts = s.points;
        for (let j = 0; j < pts.length; j++) {
            const i = Math.round((pts[j][0] + shift - r.from) / r.step);
            if (i >= 0 && i < r.n) v[i] = pts[j][1];
        }
        return { group: s.group, values: v };
    });
    return { x, ys };
}

const css = name => getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';

// Decimals that tell the axis's ticks apart: as many as the step between them needs (a step of
// 0.005 needs 3), at least min, at most 4.
function tickDigits(splits, scale, min) {
    const s = splits.filter(v => v != null);
    const step = s.length > 1 ? Math.abs(s[1] - s[0]) * scale : 0;
    return step > 0 ? Math.min(4, Math.max(min, Math.ceil(-Math.log10(step) - 1e-9))) : min;
}

function axisFmt(unit) {
    if (unit === 'ratio') return (u, splits) => {
        const d = tickDigits(splits, 100, 1);
        return splits.map(v => (v == null ? '' : fmtPct(v, d)));
    };
    if (unit === 'ms') return (u, splits) => splits.map(v => (v == null ? '' : fmtMs(v)));
    return (u, splits) => {
        const d = tickDigits(splits, 1, 0);
        return splits.map(v => (v == null ? '' : fmtNum(v, d)));
    };
}

// Identity of a data array, so a chart redraws only when its data or looks change, not on every
// render of its parent.
const ids = new WeakMap();
let nextId = 1;
const idOf = a => {
    if (!a || typeof a !== 'object') return 0;
    if (!ids.has(a)) ids.set(a, nextId++);
    return ids.get(a);
};

const p2 = n => String(n).padStart(2, '0');
/** x-axis ticks in UTC, 24 h clock; with the date when the range spans days. */
function timeFmt(u, splits) {
    const long = u.scales.x.max - u.scales.x.min > 1.5 * 86400;
    return splits.map(v => {
        const d = new Date(v * 1000);
        const t = `${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}`;
        return long ? `${p2(d.getUTCMonth() + 1)}-${p2(d.getUTCDate())} ${t}` : t;
    });
}

const hasData = series => series.some(s => s.values.some(v => v != null));

/**
 * props: x (unix s), series [{label, values, color?, dash?}], metric (for units), bands
 * [{value, label, color?, above?}] (threshold lines; `above` shades the bad side above the
 * line), height, sync (cursor sync key), emptyText.
 */
export function Chart({ x, series, metric, unit, bands = [], height = 180, sync, emptyText }) {
    const el = useRef(null);
    const plot = useRef(null);
    const u0 = unit || (METRICS[metric] ? METRICS[metric].unit : 'count');
    const empty = !x || !series || !series.length || !hasData(series);
    const compact = !!series && series.length > 6;
    const [hidden, setHidden] = useState({});

    useEffect(() => {
        if (empty || !el.current) {
            if (plot.current) plot.current.destroy();
            plot.current = null;
            return;
        }
        const dim = css('--dim'), line = css('--line'), bad = css('--bad'), shade = css('--shade');
        const hi = bands.reduce((m, b) => Math.max(m, b.value), 0);
        const opts = {
            width: el.current.clientWidth || 600,
            height,
            tzDate: ts => uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC'),
            cursor: sync ? { sync: { key: sync } } : {},
            // Past a few series uPlot's live legend is a wall of rows (and costs a lot of DOM
            // on every draw): a compact legend of our own replaces it.
            legend: { show: !compact },
            scales: {
                x: { time: true },
                y: { range: (u, min, max) => [0, Math.max(max || 0, hi * 1.15) * 1.05 || (u0 === 'ratio' ? 0.01 : 1)] },
            },
            axes: [
                { stroke: dim, grid: { stroke: line, width: 1 }, ticks: { stroke: line }, values: timeFmt },
                { stroke: dim, grid: { stroke: line, width: 1 }, ticks: { stroke: line }, size: 62, values: axisFmt(u0) },
            ],
            series: [{ value: (u, v) => (v == null ? '' : new Date(v * 1000).toISOString().slice(11, 16) + 'Z') }]
                .concat(series.map((s, i) => ({
                    label: s.label,
                    stroke: s.color || PALETTE[i % PALETTE.length],
                    width: s.width || (compact ? 1 : 1.5),
                    dash: s.dash,
                    points: { show: false },
                    spanGaps: false,
                    value: (u, v) => (v == null ? '–' : metric ? fmtValue(metric, v) : fmtNum(v, 2)),
                }))),
            hooks: {
                draw: [u => {
                    const { ctx, bbox } = u;
                    const r = devicePixelRatio || 1;
                    let shaded = false;
                    // Labels alternate above and below their lines from the highest line down
                    // (the top one above, the next below, ...), so two close bands stay legible.
                    const rank = bands.map((b, i) => i).sort((a, c) => bands[c].value - bands[a].value);
                    bands.forEach((b, j) => {
                        const i = rank.indexOf(j);
                        const y = u.valToPos(b.value, 'y', true);
                        if (!(y >= bbox.top && y <= bbox.top + bbox.height)) return;
                        ctx.save();
                        if (b.above && !shaded) {
                            shaded = true;
                            ctx.fillStyle = shade;
                            ctx.fillRect(bbox.left, bbox.top, bbox.width, y - bbox.top);
                        }
                        ctx.strokeStyle = b.color || bad;
                        ctx.lineWidth = r;
                        ctx.setLineDash([5 * r, 4 * r]);
                        ctx.beginPath();
                        ctx.moveTo(bbox.left, y);
                        ctx.lineTo(bbox.left + bbox.width, y);
                        ctx.stroke();
                        ctx.fillStyle = b.color || bad;
                        ctx.font = `${10 * r}px system-ui, sans-serif`;
                        ctx.textAlign = 'right';
                        ctx.textBaseline = i % 2 ? 'top' : 'bottom';
                        ctx.fillText(b.label, bbox.left + bbox.width - 4 * r, i % 2 ? y + 2 * r : y - 2 * r);
                        ctx.restore();
                    });
                }],
            },
        };
        const data = [x].concat(series.map(s => s.values));
        performance.mark('chart-start');
        if (plot.current) plot.current.destroy();
        plot.current = new uPlot(opts, data, el.current);
        // uPlot draws in a microtask; an empty batch draws now, so the measure covers the draw.
        plot.current.batch(() => {});
        performance.mark('chart-end');
        performance.measure('chart', 'chart-start', 'chart-end');
        // what the measure covered, for bench/console.mjs: series and points per series drawn
        window.__oncueChartShape = { series: series.length, points: x.length };
        setHidden({});
    }, [idOf(x), series && series.map(s => `${idOf(s.values)}/${s.label}/${s.color}/${s.dash}/${s.width}`).join('|'),
        JSON.stringify(bands), height, empty, metric]);

    useEffect(() => {
        const ro = new ResizeObserver(() => {
            if (plot.current && el.current) plot.current.setSize({ width: el.current.clientWidth, height });
        });
        if (el.current) ro.observe(el.current);
        return () => {
            ro.disconnect();
            if (plot.current) plot.current.destroy();
            plot.current = null;
        };
    }, []);

    // One container for uPlot (no preact children in it); the empty state is its sibling.
    return html`<div class="chart-wrap">
        ${empty ? html`<div class="empty" style=${{ minHeight: height + 'px' }}>${emptyText ||
            'No data in this range (no beacons for this slice): not the same as healthy.'}</div>` : null}
        <div class="chart" data-chart ref=${el} hidden=${empty}></div>
        ${compact && !empty ? html`<ul class="legend" aria-label="series">${series.map((s, i) => html`<li>
            <button type="button" class=${'link' + (hidden[i] ? ' off' : '')} aria-pressed=${!hidden[i]} title="show or hide this series"
                onClick=${() => {
                    const h = { ...hidden, [i]: !hidden[i] };
                    setHidden(h);
                    if (plot.current) plot.current.setSeries(i + 1, { show: !h[i] });
                }}><i class="sw" style=${{ background: s.color || PALETTE[i % PALETTE.length], borderStyle: s.dash ? 'dashed' : 'solid' }}></i>${s.label}</button></li>`)}</ul>` : null}
        </div>`;
}
