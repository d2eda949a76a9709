// Service map (#/services?sel=NAME): the catalog's dependency graph in layers by dependency
// depth, owners and on-call; a click shows the service's blast radius; services named by open
// incidents are red.
import { html } from '../html.js';
import { api } from '../api.js';
import { topics } from '../live.js';
import { useFetch } from '../hooks.js';
import { Async, Panel, Empty, ErrorBox, Loading } from '../ui.js';
import { setQuery } from '../router.js';

const W = 176, H = 50, GX = 16, GY = 64, PAD = 16;

/** Layers by depth (0: depends on nothing in the catalog), barycentre-ordered, with positions. */
export function layout(services) {
    const by = new Map(services.map(s => [s.name, s]));
    const depth = new Map();
    const visiting = new Set();
    const d = n => {
        if (depth.has(n)) return depth.get(n);
        if (visiting.has(n)) return 0; // a cycle: the catalog refuses them, but do not loop
        visiting.add(n);
        const deps = (by.get(n).depends_on || []).filter(x => by.has(x));
        const v = deps.length ? 1 + Math.max(...deps.map(d)) : 0;
        visiting.delete(n);
        depth.set(n, v);
        return v;
    };
    services.forEach(s => d(s.name));
    const max = Math.max(0, ...depth.values());
    const layers = [];
    for (let i = 0; i <= max; i++) layers.push(services.filter(s => depth.get(s.name) === i).map(s => s.name).sort());
    const pos = new Map();
    const widest = Math.max(...layers.map(l => l.length));
    const width = PAD * 2 + widest * (W + GX) - GX;
    const place = (i, names) => {
        const row = max - i;
        const x0 = (width - (names.length * (W + GX) - GX)) / 2;
        names.forEach((n, j) => pos.set(n, { x: x0 + j * (W + GX), y: PAD + row * (H + GY) }));
    };
    place(0, layers[0]);
    for (let i = 1; i <= max; i++) {
        // Order each layer by the mean x of what it depends on (fewer crossings).
        const bc = n => {
            const xs = (by.get(n).depends_on || []).filter(x => pos.has(x)).map(x => pos.get(x).x);
            return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0;
        };
        layers[i].sort((a, b) => bc(a) - bc(b) || a.localeCompare(b));
        place(i, layers[i]);
    }
    const height = PAD * 2 + (max + 1) * (H + GY) - GY;
    const edges = [];
    for (const s of services) for (const t of s.depends_on || []) if (pos.has(t)) edges.push([s.name, t]);
    return { pos, width, height, edges, depth };
}

function Detail({ s, oncall, blast, teams }) {
    const team = teams.find(t => t.name === s.team);
    const on = oncall.filter(o => o.team === s.team);
    return html`<div class="stack">
        <h2 style="margin:0">${s.name} <span class="sub">${s.kind} · tier ${s.tier}</span></h2>
        ${s.description ? html`<div>${s.description}</div>` : null}
        <dl class="facts">
            <dt>team</dt><dd>${s.team}${team && team.channel ? html` <span class="dim">${team.channel}</span>` : null}</dd>
            <dt>on call now</dt><dd>${on.length ? on.map(o => html`<b>${o.person}</b> <span class="dim">until ${o.to}${o.override ? ' (override)' : ''}</span> `) : html`<span class="dim">nobody listed</span>`}</dd>
            <dt>escalation</dt><dd>${s.escalation_lead || '–'}${team ? html` <span class="dim">policy ${team.escalation_policy}</span>` : null}</dd>
            <dt>support</dt><dd>${s.support || '–'}</dd>
            ${s.runbook ? html`<dt>runbook</dt><dd><a href=${s.runbook} target="_blank" rel="noopener noreferrer">${s.runbook}</a></dd>` : null}
            ${s.rollback_doc ? html`<dt>rollback</dt><dd><a href=${s.rollback_doc} target="_blank" rel="noopener noreferrer">${s.rollback_doc}</a></dd>` : null}
            <dt>depends on</dt><dd>${(s.depends_on || []).join(', ') || '–'}</dd>
            ${(s.serves || []).length ? html`<dt>serves</dt><dd class="mono">${s.serves.map(x => (typeof x === 'string' ? x : JSON.stringify(x))).join(', ')}</dd>` : null}
        </dl>
        <h3>Blast radius</h3>
        ${blast.error ? html`<${ErrorBox} error=${blast.error} />` : blast.data === undefined ? html`<${Loading} what="Loading the blast radius" />` : html`<div>
            <div><b>${blast.data.affected_services.length}</b> services affected: ${blast.data.affected_services.join(', ') || 'none'}</div>
            <div style="margin-top:6px"><b>QoE slices</b> that feel it: ${(blast.data.slices || []).length
                ? blast.data.slices.map(x => html`<a class="chip mono" style="padding-right:8px" href=${`#/explore?metric=rebuffer_ratio&from=-3h&to=now&filter=${x.replace('=', ':')}`}>${x}</a> `)
                : html`<span class="dim">none</span>`}</div></div>`}
    </div>`;
}

export function ServicesView({ q }) {
    const sel = q.get('sel') || '';
    const data = useFetch(async () => {
        const [s, t, o, i] = await Promise.all([api('/v1/services'), api('/v1/teams'), api('/v1/oncall'), api('/v1/incidents?state=open')]);
        return { services: s.services, teams: t.teams, oncall: o.oncall, incidents: i.incidents };
    }, [], { live: topics('incident.'), every: 60000 });
    const blast = useFetch(() => (sel ? api(`/v1/services/${encodeURIComponent(sel)}/blast-radius`) : Promise.resolve(null)), [sel]);

    return html`<div data-view="services" class="stack">
        <h1>Service map</h1>
        <${Async} r=${data} what="the catalog">${d => {
        if (!d.services.length) return html`<${Empty}>The catalog is empty (catalog.file in docs/config.md).</${Empty}>`;
        const L = layout(d.services);
        const red = new Set(d.incidents.map(i => i.service).filter(Boolean));
        const hot = new Set(sel && blast.data ? [sel, ...blast.data.affected_services] : sel ? [sel] : []);
        const oncallOf = new Map(d.oncall.map(o => [o.team, o.person]));
        const s = d.services.find(x => x.name === sel);
        const pick = n => setQuery({ sel: n === sel ? null : n });
        return html`<div class="grid2 wide">
            <${Panel} title="Dependencies" sub="arrows point from a service to what it depends on; top: what viewers touch">
                <div class="legend-row"><span><i class="sw" style="background:rgba(248,81,73,.3);border-color:var(--bad)"></i>named by an open incident</span>
                    <span><i class="sw" style="border-color:var(--accent)"></i>selected</span>
                    <span><i class="sw" style="background:rgba(240,136,62,.3)"></i>in its blast radius</span>
                    <span>click or press Enter on a service</span></div>
                <div style="overflow:auto"><svg class="map" viewBox=${`0 0 ${L.width} ${L.height}`} style=${{ minWidth: Math.min(L.width, 900) + 'px' }}
                    role="img" aria-label="service dependency graph">
                    <defs><marker id="arr" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="6" markerHeight="6" orient="auto">
                        <path d="M0,0 L8,4 L0,8 z" fill="currentColor" /></marker></defs>
                    ${L.edges.map(([a, b]) => {
                        const p = L.pos.get(a), t = L.pos.get(b);
                        const x1 = p.x + W / 2, y1 = p.y + H, x2 = t.x + W / 2, y2 = t.y;
                        const on = hot.has(a) && hot.has(b);
                        return html`<path class=${'edge' + (on ? ' hot' : '')} d=${`M${x1},${y1} C${x1},${y1 + GY / 2} ${x2},${y2 - GY / 2} ${x2},${y2}`} marker-end="url(#arr)" />`;
                    })}
                    ${d.services.map(x => {
                        const p = L.pos.get(x.name);
                        const cls = ['node', red.has(x.name) ? 'incident' : '', x.name === sel ? 'sel' : hot.has(x.name) ? 'blast' : '',
                            sel && !hot.has(x.name) ? 'dimmed' : ''].join(' ');
                        return html`<g class=${cls} transform=${`translate(${p.x},${p.y})`} tabindex="0" role="button" data-service=${x.name}
                            aria-label=${`${x.name}, team ${x.team}, on call ${oncallOf.get(x.team) || 'nobody'}${red.has(x.name) ? ', open incident' : ''}`}
                            onClick=${() => pick(x.name)} onKeyDown=${e => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); pick(x.name); } }}>
                            <rect width=${W} height=${H} rx="5" />
                            <text x="8" y="17">${x.name.length > 21 ? x.name.slice(0, 20) + '…' : x.name}</text>
                            <text class="sub" x="8" y="32">${x.team} · on call ${oncallOf.get(x.team) || '–'}</text>
                            <text class="sub" x="8" y="45">tier ${x.tier}${red.has(x.name) ? ' · INCIDENT' : ''}</text></g>`;
                    })}
                </svg></div>
            </${Panel}>
            <${Panel} title=${s ? 'Service' : 'Select a service'}>
                ${s ? html`<${Detail} s=${s} oncall=${d.oncall} teams=${d.teams} blast=${blast} />`
                    : html`<div class="dim">Click a service to see its owners, who is on call and its blast radius.</div>
                    ${red.size ? html`<h3>Named by open incidents</h3><ul>${[...red].map(n => html`<li><a href=${'#/services?sel=' + encodeURIComponent(n)}>${n}</a></li>`)}</ul>` : html`<p class="dim">No service is named by an open incident.</p>`}
                    <h3>On call now</h3><table><tbody>${d.oncall.map(o => html`<tr><td>${o.team}</td><td><b>${o.person}</b>${o.override ? ' (override)' : ''}</td><td class="dim">until ${o.to}</td></tr>`)}</tbody></table>`}
            </${Panel}>
        </div>`;
    }}</${Async}>
    </div>`;
}
