// oncue console: the app shell (session, header, hash routing, live updates).
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { render } from 'preact';
import { useState, useEffect } from 'preact/hooks';
import { html } from './html.js';
import { api, onUnauthorized } from './api.js';
import { startLive, stopLive, onLiveState, topics } from './live.js';
import { useRoute, navigate, href } from './router.js';
import { useFetch, useNow } from './hooks.js';
import { ErrorBox, Loading } from './ui.js';
import { fmtClock, setServerNow } from './fmt.js';
import { SigninView } from './views/signin.js';
import { NowView } from './views/now.js';
import { ExploreView } from './views/explore.js';
import { DashboardsView } from './views/dashboards.js';
import { IncidentsView, IncidentView } from './views/incidents.js';
import { ServicesView } from './views/services.js';
import { AlertsView } from './views/alerts.js';
import { BillingView } from './views/billing.js';
import { TicketsView } from './views/tickets.js';
import { SearchView } from './views/search.js';
import { ErrorsView } from './views/errors.js';

const NAV = [
    ['now', 'Now'], ['explore', 'QoE explorer'], ['errors', 'Player errors'], ['dashboards', 'Dashboards'],
    ['incidents', 'Incidents'], ['services', 'Service map'], ['alerts', 'Alerts & SLOs'],
    ['billing', 'Billing'],
    ['tickets', 'Support'],
    ['search', 'Search'],
];

function LiveDot() {
    const [s, setS] = useState('connecting');
    useEffect(() => onLiveState(setS), []);
    const text = s === 'live' ? 'live' : s === 'down' ? 'stream down, polling every 5 s' : 'connecting';
    return html`<span class="live" title="live updates from /v1/stream"><span class=${'dot ' + (s === 'live' ? 'on' : s === 'down' ? 'off' : '')}></span>${text}</span>`;
}

function Clock() {
    const now = useNow(1000);
    return html`<span class="live mono" title="all times are UTC">${fmtClock(now)} UTC</span>`;
}

function Header({ session, section, onSignOut }) {
    const open = useFetch(() => api('/v1/incidents?state=open'), [], { live: topics('incident.'), every: 30000 });
    const incs = (open.data && open.data.incidents) || [];
    const sev1 = incs.filter(i => i.severity === 'SEV1');
    return html`<header class="top">
        <a class="brand" href="#/now">oncue</a>
        <nav aria-label="views">${NAV.map(([k, label]) => html`<a href=${'#/' + k} class=${section === k ? 'on' : ''}
            aria-current=${section === k ? 'page' : undefined}>${label}${k === 'incidents' && incs.length ? html`<span class="count" title="open incidents">${incs.length}</span>` : null}</a>`)}</nav>
        <span class="spacer"></span>
        <${LiveDot} /><${Clock} />
        <span data-user data-role=${session.role} title=${session.via ? 'signed in via ' + session.via : ''}>${session.name} <span class="tag">${session.role}</span></span>
        <button type="button" onClick=${onSignOut}>Sign out</button>
    </header>
    ${sev1.length ? html`<div class="banner" role="alert">SEV1 open: ${sev1.map(i => html`<a href=${'#/incidents/' + i.incident_id}>${i.incident_id} ${i.title}</a> `)}</div>` : null}`;
}

function View({ route, session }) {
    const [section, id] = route.path;
    switch (section || 'now') {
    case 'now': return html`<${NowView} q=${route.q} session=${session} />`;
    case 'explore': return html`<${ExploreView} q=${route.q} />`;
    case 'errors': return html`<${ErrorsView} q=${route.q} />`;
    case 'dashboards': return html`<${DashboardsView} q=${route.q} />`;
    case 'incidents': return id ? html`<${IncidentView} id=${id} q=${route.q} session=${session} />` : html`<${IncidentsView} q=${route.q} />`;
    case 'services': return html`<${ServicesView} q=${route.q} />`;
    case 'alerts': return html`<${AlertsView} q=${route.q} />`;
    case 'billing': return html`<${BillingView} q=${route.q} session=${session} />`;
    case 'tickets': return html`<${TicketsView} />`;
    case 'search': return html`<${SearchView} q=${route.q} />`;
    default: return html`<div class="panel"><h1>Not found</h1><p>No view <code>#/${section}</code>. <a href="#/now">Go to Now</a>.</p></div>`;
    }
}

function App() {
    const route = useRoute();
    const [session, setSession] = useState(undefined);
    const [error, setError] = useState(null);

    const check = () => api('/v1/session').then(s => { setServerNow(s.now_ms); setSession(s); setError(null); }, e => {
        if (e.status === 401) setSession(null);
        else setError(e);
    });
    useEffect(() => { check(); }, []);
    useEffect(() => onUnauthorized(() => setSession(null)), []);
    useEffect(() => {
        if (session) startLive();
        else stopLive();
    }, [session]);
    // Signed out: go to #/signin, remembering where to come back to.
    useEffect(() => {
        if (session === null && route.path[0] !== 'signin') {
            const next = location.hash.replace(/^#/, '');
            history.replaceState(null, '', href('signin', next && next !== '/' ? { next } : null));
            window.dispatchEvent(new HashChangeEvent('hashchange'));
        }
        if (session && route.path[0] === 'signin') navigate((route.q.get('next') || '/now').replace(/^\//, ''));
    }, [session, route]);

    const signOut = async () => {
        try { await api('/v1/session', { method: 'DELETE' }); } catch (e) { /* signed out either way */ }
        setSession(null);
    };

    if (error && session === undefined) {
        return html`<main><div class="panel" data-view="signin"><h1>oncue</h1><${ErrorBox} error=${error} />
            <button type="button" onClick=${check}>Retry</button></div></main>`;
    }
    if (session === undefined) return html`<main><${Loading} what="Checking your session" /></main>`;
    if (session === null || route.path[0] === 'signin') {
        return html`<${SigninView} onSignedIn=${s => setSession(s)} />`;
    }
    const section = route.path[0] || 'now';
    return html`<${Header} session=${session} section=${section} onSignOut=${signOut} />
        <main><${View} route=${route} session=${session} /></main>`;
}

const root = document.getElementById('app');
root.textContent = '';
render(html`<${App} />`, root);
