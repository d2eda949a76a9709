// Catalog search (#/search?q=...&genre=...&kind=...&language=...): the search box over
// GET /v1/search as you type (typos and prefixes are the server's), the hits with their score,
// and the facet counts, each a filter to click (click again to drop it).
import { useState, useEffect } from 'preact/hooks';
import { html } from '../html.js';
import { api } from '../api.js';
import { setQuery } from '../router.js';
import { useFetch } from '../hooks.js';
import { Async, Panel, Empty } from '../ui.js';

const FILTERS = ['genre', 'kind', 'language'];

function Facets({ d, q }) {
    const names = Object.keys(d.facets || {}).filter(f => FILTERS.includes(f));
    if (!names.length) return null;
    return html`<div class="stack">${names.map(f => html`<div><div class="dim">${f}${d.facets_sampled ? ' (sampled)' : ''}</div>
        ${d.facets[f].map(v => {
            const on = q.get(f) === String(v.value);
            return html`<button class=${on ? 'on' : ''} data-facet=${f + '=' + v.value}
                onClick=${() => setQuery({ [f]: on ? '' : String(v.value) })}>${v.value} <span class="dim">${v.count}</span></button>`;
        })}</div>`)}</div>`;
}

function Hits({ d }) {
    if (!d.hits.length) return html`<${Empty}>No title matches.</${Empty}>`;
    // popularity: the title's plays in the QoE cube when it has any, else the catalog's field
    return html`<div class="scroll"><table><thead><tr><th>title</th><th>year</th><th>kind</th><th>genres</th>
        <th title="plays: what viewers played (QoE cube); catalog: the title's popularity field">popularity</th>
        <th class="num">score</th></tr></thead><tbody>${d.hits.map(h => html`<tr data-hit=${h.id}>
            <td>${h.title}<div class="sub mono">${h.id}</div></td><td>${h.year || '–'}</td><td>${h.kind || '–'}</td>
            <td>${(h.genres || []).join(', ') || '–'}</td>
            <td data-pop=${h.popularity_from || ''}>${h.popularity_from === 'plays' ? 'plays' : 'catalog'}</td>
            <td class="num">${h.score.toFixed(3)}</td></tr>`)}</tbody></table></div>`;
}

export function SearchView({ q }) {
    const [text, setText] = useState(q.get('q') || '');
    useEffect(() => { /* as you type: the URL (and so the query) follows 150 ms after a key */
        const t = setTimeout(() => { if (text !== (q.get('q') || '')) setQuery({ q: text }, true); }, 150);
        return () => clearTimeout(t);
    }, [text]);
    const params = new URLSearchParams({ q: q.get('q') || '', limit: '20' });
    for (const f of FILTERS) if (q.get(f)) params.set(f, q.get(f));
    const key = params.toString();
    const r = useFetch(() => (params.get('q') ? api('/v1/search?' + key) : Promise.resolve(null)), [key]);
    return html`<div data-view="search" class="stack">
        <div class="toolbar"><h1 style="margin:0;flex:1">Catalog search</h1></div>
        <input type="search" placeholder="Title, person, genre... (typos and prefixes welcome)" value=${text}
            aria-label="search the catalog" autofocus style="width:100%;font-size:1.1em;padding:.4em"
            onInput=${e => setText(e.currentTarget.value)} />
        <${Async} r=${r} what="the search">${d => (!d ? html`<${Empty}>Type to search the catalog (POST /v1/titles fills it).</${Empty}>`
            : html`<div class="grid2"><${Panel} title=${`${d.total} title${d.total === 1 ? '' : 's'}`} sub=${`${d.took_ms} ms on the server`}>
                <${Hits} d=${d} /></${Panel}><${Panel} title="Refine"><${Facets} d=${d} q=${q} /></${Panel}></div>`)}</${Async}>
    </div>`;
}
