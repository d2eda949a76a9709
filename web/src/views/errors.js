// Player error codes (#/errors?code=): GET /v1/qoe/errors, the codes players sent with failed
// starts and error events over the last hour of event time, most frequent first, each with
// where it concentrates (the dimension values holding most of its events); a code's row opens
// every dimension's top values and links to the QoE explorer on its main slice.
import { html } from '../html.js';
import { api } from '../api.js';
import { setQuery, href } from '../router.js';
import { useFetch } from '../hooks.js';
import { Async, Panel, Empty } from '../ui.js';
import { fmtNum, fmtPct, fmtTime } from '../fmt.js';

/** The slices holding at least half of a code's events (not "unknown"), most concentrated first. */
export function concentrated(c) {
    return c.slices.filter(s => s.top.length && s.top[0].share >= 0.5 && s.top[0].value !== 'unknown')
        .map(s => ({ dim: s.dimension, ...s.top[0] }))
        .sort((a, b) => b.share - a.share || a.dim.localeCompare(b.dim));
}

function Codes({ d, pick }) {
    if (!d.codes.length) {
        return html`<${Empty}>No failed start or error event in the last hour (players send
            <code>error_code</code> with them, see the beacon schema).</${Empty}>`;
    }
    return html`<div class="scroll"><table><thead><tr><th>code</th><th class="num">events</th><th class="num">share</th>
        <th class="num">start failures</th><th class="num">playback errors</th><th>where</th></tr></thead>
        <tbody>${d.codes.map(c => html`<tr class=${'click' + (pick === c.code ? ' on' : '')} data-code=${c.code}
            onClick=${() => setQuery({ code: pick === c.code ? '' : c.code })} title="show every dimension of this code">
            <td class="mono">${c.code}</td><td class="num" data-events>${fmtNum(c.events)}</td><td class="num">${fmtPct(c.share)}</td>
            <td class="num">${fmtNum(c.start_failures)}</td><td class="num">${fmtNum(c.playback_errors)}</td>
            <td>${concentrated(c).slice(0, 4).map(s => html`<span class="chip" data-where=${s.dim + '=' + s.value}>${s.dim} ${s.value} <span
                class="dim">${fmtPct(s.share, 0)}</span></span> `)}</td></tr>`)}</tbody></table></div>`;
}

function Slices({ c }) {
    const main = concentrated(c)[0];
    const explore = href('explore', {
        metric: c.start_failures >= c.playback_errors ? 'vsf_rate' : 'rebuffer_ratio',
        filter: main ? `${main.dim}:${main.value}` : '', group_by: main ? '' : 'device',
    });
    return html`<div data-slices=${c.code}>
        <p class="dim">${fmtNum(c.events)} events: ${fmtNum(c.start_failures)} failed starts, ${fmtNum(c.playback_errors)} errors
            after playback started${c.unsliced ? `; ${fmtNum(c.unsliced)} counted without their slice (a minute past its cap)` : ''}.${' '}
            <a href=${explore}>Open in the QoE explorer${main ? ` on ${main.dim} ${main.value}` : ''}</a></p>
        <table><thead><tr><th>dimension</th><th class="num">values</th><th>top values (share of the code's events)</th></tr></thead>
        <tbody>${c.slices.map(s => html`<tr><td>${s.dimension}</td><td class="num">${s.distinct}</td>
            <td>${s.top.map(v => html`<span class="chip" data-slice=${s.dimension + '=' + v.value}>${v.value} <span
                class="dim">${fmtNum(v.events)} · ${fmtPct(v.share, 0)}</span></span> `)}</td></tr>`)}</tbody></table></div>`;
}

export function ErrorsView({ q }) {
    const pick = q.get('code') || '';
    const r = useFetch(() => api('/v1/qoe/errors?top=50'), [], { every: 30000 });
    return html`<div data-view="errors" class="stack">
        <div class="toolbar"><h1 style="margin:0;flex:1">Player error codes</h1></div>
        <${Async} r=${r} what="the error codes">${d => {
            const c = d.codes.find(x => x.code === pick);
            return html`<${Panel} title=${`${fmtNum(d.events)} failed start${d.events === 1 ? '' : 's'} and errors`}
                sub=${`${fmtTime(d.from)} – ${fmtTime(d.to)}, by event time; counted in memory since the server started`}>
                <${Codes} d=${d} pick=${pick} /></${Panel}>
                ${c ? html`<${Panel} title=${c.code} sub="every dimension"><${Slices} c=${c} /></${Panel}>` : null}`;
        }}</${Async}>
    </div>`;
}
