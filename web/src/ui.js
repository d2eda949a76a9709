// Small shared pieces: error area, loading and empty states, badges.
import { html } from './html.js';

/** The error message area (hook: [data-error]); shows a problem's detail. */
export function ErrorBox({ error }) {
    if (!error) return null;
    const msg = typeof error === 'string' ? error : error.message || String(error);
    return html`<div class="err" data-error role="alert">${msg}</div>`;
}

export function Loading({ what = 'Loading' }) {
    return html`<div class="loading" role="status">${what}…</div>`;
}

export const Empty = ({ children }) => html`<div class="empty">${children}</div>`;

/** data/error/loading of a useFetch, rendered: body(data) once there is data. */
export function Async({ r, what, children }) {
    return html`${r.error ? html`<${ErrorBox} error=${r.error} />` : null}
        ${r.data === undefined ? (r.loading ? html`<${Loading} what=${what ? 'Loading ' + what : 'Loading'} />` : null) : children(r.data)}`;
}

export const Sev = ({ s }) => html`<span class=${'sev ' + (s || '')}>${s || '?'}</span>`;
export const Tag = ({ k, children }) => html`<span class=${'tag ' + (k || '')}>${children}</span>`;

export function Panel({ title, sub, children, cls = '' }) {
    return html`<section class=${'panel ' + cls}>
        ${title ? html`<h2>${title}${sub ? html` <span class="sub">${sub}</span>` : null}</h2>` : null}
        ${children}</section>`;
}

/** A note that a panel's source is not configured, and how to configure it. */
export function NotConfigured({ what, how }) {
    return html`<div class="note" role="note"><b>Not configured: ${what}.</b> ${how}</div>`;
}
