// The four scripted mitigations (POST /v1/mitigations): a button each; a dry run first shows
// the steering manifest before and after, then Confirm applies exactly what was dry-run.
import { useState } from 'preact/hooks';
import { html } from '../html.js';
import { api, post } from '../api.js';
import { topics } from '../live.js';
import { useFetch } from '../hooks.js';
import { ErrorBox, Empty, Tag } from '../ui.js';
import { fmtAgo, fmtTime } from '../fmt.js';
import { isOpen } from '../incidents-common.js';

export const KINDS = {
    'shift-cdn': { label: 'Shift CDN', help: "move a region's sessions (or a sticky percent of them) to another CDN pathway",
        fields: [['region', 'region', true], ['to', 'to CDN', true], ['from', 'from CDN'], ['percent', 'percent (1-100)']] },
    'backup-origin': { label: 'Backup origin', help: 'serve every session from a clone of the first pathway on the backup origin host',
        fields: [['service', 'service', true], ['host', 'backup host (default: configured)']] },
    flag: { label: 'Feature flag', help: 'turn a feature flag on or off for players (by player, version, device, region)',
        fields: [['name', 'flag name', true], ['on', 'on'], ['player', 'player'], ['player_version', 'player version'], ['device', 'device'], ['region', 'region']] },
    rollback: { label: 'Roll back', help: "record and announce a rollback of the service's last deploy (the deploy webhook runs it)",
        fields: [['service', 'service', true]] },
};

function cause(inc) {
    const out = { ...(inc.slice || {}) };
    for (const c of inc.causes || []) for (const [k, v] of Object.entries(c.element || {})) if (!(k in out)) out[k] = v;
    return out;
}

/** Fields pre-filled from the incident's scope, cause and owner, and the steering policy's
 * pathways and flags. */
function defaults(kind, inc, cdns, policy) {
    const c = cause(inc);
    const reason = `${inc.incident_id}: ${inc.title}`.slice(0, 500);
    switch (kind) {
    case 'shift-cdn': {
        const from = c.cdn || '';
        return { region: c.region || '', from, to: (cdns.find(x => x !== from && x !== 'other') || ''), percent: '', reason };
    }
    case 'backup-origin': return { service: inc.service || '', host: '', reason };
    case 'flag': {
        const f = (policy && policy.flags && policy.flags[0]) || null;
        return { name: f ? f.name : '', on: f ? String(!f.on) : 'false', player: c.player || '', player_version: c.player_version || '', device: c.device || '', region: c.region || '', reason };
    }
    default: return { service: inc.service || '', reason };
    }
}

function body(kind, f, dry) {
    const b = { kind };
    for (const [k, v] of Object.entries(f)) {
        if (v === '' || v == null) continue;
        if (k === 'percent') b.percent = Number(v);
        else if (k === 'on') b.on = v === true || v === 'true';
        else b[k] = String(v).trim();
    }
    if (dry) b.dry_run = true;
    return b;
}

function DryRun({ res }) {
    const before = JSON.stringify(res.before, null, 2) || '';
    const after = JSON.stringify(res.after, null, 2) || '';
    const had = new Set(before.split('\n'));
    const same = before === after;
    return html`<div data-dry-run class="stack">
        <div><b>Dry run:</b> <span class="mono">${JSON.stringify(res.mitigation)}</span></div>
        ${same ? html`<div class="dim">The steering manifest does not change (this kind is recorded and announced; its effect is the owner's tool).</div>` : null}
        <div class="diff"><div><div class="sub">steering manifest now</div><pre>${before}</pre></div>
            <div><div class="sub">after the mitigation</div><pre>${after.split('\n').map(l => (had.has(l) ? l + '\n' : [html`<mark>${l}</mark>`, '\n']))}</pre></div></div>
    </div>`;
}

export function MitigationPanel({ inc, canAct, onApplied }) {
    const [kind, setKind] = useState(null);
    const [fields, setFields] = useState({});
    const [dry, setDry] = useState(null);
    const [busy, setBusy] = useState(false);
    const [error, setError] = useState(null);
    const [done, setDone] = useState(null);
    const dims = useFetch(() => api('/v1/qoe/dimensions'), []);
    const mits = useFetch(() => api('/v1/mitigations'), [], { live: topics('mitigation.', 'steer.') });
    const policy = useFetch(() => api('/v1/steering/policies'), [], { live: topics('steer.', 'mitigation.') });
    // Pathways of the steering policy when it names them, else the CDNs players report.
    const cdnsOf = (d, pol) => ((pol && pol.pathways && pol.pathways.length) ? pol.pathways
        : d ? ((d.dimensions.find(x => x.name === 'cdn') || {}).top || []).map(t => t.value) : []);
    const cdns = cdnsOf(dims.data, policy.data);

    const dryRun = async (k, f) => {
        setBusy(true); setError(null); setDry(null); setDone(null);
        try {
            setDry(await post('/v1/mitigations', body(k, f, true)));
        } catch (e) {
            setError(e);
        } finally {
            setBusy(false);
        }
    };
    const choose = async k => {
        // The CDN names come from the cube's dimensions; wait for them on a quick first click.
        const d = dims.data || await api('/v1/qoe/dimensions').catch(() => null);
        const pol = policy.data || await api('/v1/steering/policies').catch(() => null);
        const f = defaults(k, inc, cdnsOf(d, pol), pol);
        setKind(k);
        setFields(f);
        dryRun(k, f);
    };
    const confirm = async () => {
        setBusy(true); setError(null);
        try {
            const r = await post('/v1/mitigations', body(kind, fields, false));
            setDone(r);
            setDry(null);
            mits.reload();
            onApplied();
        } catch (e) {
            setError(e);
        } finally {
            setBusy(false);
        }
    };
    const revert = async id => {
        setBusy(true); setError(null);
        try {
            await post(`/v1/mitigations/${id}/revert`);
            mits.reload();
            onApplied();
        } catch (e) {
            setError(e);
        } finally {
            setBusy(false);
        }
    };
    const since = (inc.opened_at - 3600) * 1000;
    const until = inc.resolved_at ? inc.resolved_at * 1000 : Infinity;
    const related = ((mits.data && mits.data.mitigations) || []).filter(m => m.created_ms >= since && m.created_ms <= until);
    const set = (k, v) => { setFields({ ...fields, [k]: v }); setDry(null); };
    const closed = !isOpen(inc);

    return html`<div class="stack">
        <div class="mit-buttons" role="group" aria-label="mitigations">
            ${Object.entries(KINDS).map(([k, m]) => html`<button type="button" data-mitigation=${k} class=${kind === k ? 'sel' : ''}
                disabled=${!canAct || busy} title=${canAct ? m.help : 'needs the responder role'} onClick=${() => choose(k)}>${m.label}</button>`)}
        </div>
        ${!canAct ? html`<div class="dim">Mitigations need the responder role; you are signed in as a viewer.</div>` : null}
        ${closed && canAct ? html`<div class="dim">This incident is ${inc.state}; mitigations still apply to live traffic.</div>` : null}
        ${kind ? html`<form class="inline" onSubmit=${e => { e.preventDefault(); dryRun(kind, fields); }} aria-label=${KINDS[kind].label + ' arguments'}>
            ${KINDS[kind].fields.map(([k, label, req]) => (k === 'on'
                ? html`<label class="field">${label}<select value=${String(fields.on)} onChange=${e => set('on', e.currentTarget.value)}>
                    <option value="true">on</option><option value="false">off</option></select></label>`
                : html`<label class="field">${label}${req ? ' *' : ''}<input value=${fields[k] || ''} size=${k === 'percent' ? 6 : 12}
                    list=${k === 'to' || k === 'from' ? 'cdn-values' : undefined} onInput=${e => set(k, e.currentTarget.value)} /></label>`))}
            <label class="field">reason (timeline)<input value=${fields.reason || ''} size="30" onInput=${e => set('reason', e.currentTarget.value)} /></label>
            <datalist id="cdn-values">${cdns.map(c => html`<option value=${c} />`)}</datalist>
            <button type="submit" disabled=${busy}>Dry run</button>
        </form>` : null}
        <${ErrorBox} error=${error} />
        ${busy ? html`<div class="loading">Asking the server…</div>` : null}
        ${dry ? html`<${DryRun} res=${dry} />
            <div class="row"><button type="button" class="danger" data-confirm disabled=${busy} onClick=${confirm}>Confirm: apply ${KINDS[kind].label.toLowerCase()} for real</button>
                <button type="button" onClick=${() => { setDry(null); setKind(null); }}>Cancel</button></div>` : null}
        ${done ? html`<div role="status" data-applied>✓ Applied mitigation #${done.id ?? (done.mitigation && done.mitigation.id) ?? ''}${done.followup ? ` · follow-up "${done.followup.title}" created` : ''}</div>` : null}
        <h3>Mitigations during this incident</h3>
        ${related.length ? html`<table><tbody>${related.map(m => html`<tr>
            <td class="mono">#${m.id} ${m.kind}</td><td class="mono">${Object.entries(m.spec || {}).filter(([k]) => k !== 'kind' && k !== 'reason').map(([k, v]) => `${k}=${v}`).join(' ')}</td>
            <td title=${fmtTime(m.created_ms / 1000)}>${fmtAgo(m.created_ms / 1000)} by ${m.actor}</td>
            <td><${Tag} k=${m.state}>${m.state}</${Tag}></td>
            <td>${m.state === 'active' && canAct ? html`<button type="button" disabled=${busy} onClick=${() => revert(m.id)}>Revert</button>` : null}</td></tr>`)}</tbody></table>`
            : html`<${Empty}>No mitigation applied during this incident.</${Empty}>`}
    </div>`;
}
