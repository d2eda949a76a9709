// Incident list rows, shared by the Now view and the incident list.
import { html } from './html.js';
import { Sev, Tag } from './ui.js';
export const isOpen = inc => inc.state !== 'resolved' && inc.state !== 'closed';

import { fmtAgo, fmtDur, fmtNum, fmtPct, sliceText } from './fmt.js';

export function affected(inc) {
    const s = (inc.snapshots && (inc.snapshots.peak || inc.snapshots.declaration)) || null;
    return s ? { viewers: s.viewers, share: s.affected_share } : { viewers: null, share: inc.peak_share };
}

/* Where the incident's alerts fire: the distinct slices their ids name ("rule/region=EMEA,
 * cdn=primary"), each kept only when no other is wider (region=NA covers region=NA & cdn=x),
 * the first three and how many more; the incident's own slice when no alert names one. */
export function scopeText(inc) {
    const slices = [];
    for (const a of inc.alerts || []) {
        const key = (a.alert_id || '').split('/')[1] || '';
        const g = {};
        for (const kv of key.split(',')) {
            const i = kv.indexOf('=');
            if (i > 0) g[kv.slice(0, i)] = kv.slice(i + 1);
        }
        if (Object.keys(g).length) slices.push(g);
    }
    const covers = (wide, narrow) => Object.entries(wide).every(([k, v]) => narrow[k] === v);
    const kept = [];
    slices.forEach((g, i) => {
        const wider = slices.some((o, j) => j !== i && covers(o, g) &&
            (!covers(g, o) || j < i));
        if (!wider) kept.push(sliceText(g));
    });
    if (!kept.length) return sliceText(inc.slice);
    return kept.slice(0, 3).join('; ') + (kept.length > 3 ? `; +${kept.length - 3} more` : '');
}

export function IncidentRows({ incidents, now, compact }) {
    return html`<table><thead><tr><th>sev</th><th>incident</th><th>state</th>${compact ? null : html`<th>scope</th>`}
        <th>owner</th><th class="num">viewers affected (peak)</th><th>opened</th>${compact ? null : html`<th class="num">duration</th>`}</tr></thead>
        <tbody>${incidents.map(i => {
        const a = affected(i);
        const end = i.resolved_at || i.closed_at || now;
        const go = () => { location.hash = '#/incidents/' + i.incident_id; };
        return html`<tr class="click" data-incident=${i.incident_id} onClick=${go}>
            <td><${Sev} s=${i.severity} /></td>
            <td><a href=${'#/incidents/' + i.incident_id} onClick=${e => e.stopPropagation()}>${i.incident_id}</a> ${i.title}</td>
            <td><${Tag} k=${i.state}>${i.state}</${Tag}>${i.acknowledged_at || !isOpen(i) ? null : html` <${Tag} k="warn">unacked</${Tag}>`}${i.merged_into ? html` <${Tag}>merged into ${i.merged_into}</${Tag}>` : null}</td>
            ${compact ? null : html`<td class="mono">${scopeText(i)}</td>`}
            <td>${i.service || '–'}${i.team ? html` <span class="dim">(${i.team})</span>` : null}</td>
            <td class="num">${a.viewers != null ? fmtNum(a.viewers) : '–'} <span class="dim">${a.share != null ? fmtPct(a.share, 1) : ''}</span></td>
            <td class="nw" title=${new Date(i.opened_at * 1000).toISOString()}>${fmtAgo(i.opened_at, now)}</td>
            ${compact ? null : html`<td class="num nw">${fmtDur(end - i.opened_at)}</td>`}
        </tr>`;
    })}</tbody></table>`;
}
