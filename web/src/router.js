// Hash routing: #/path/segments?query. Every view's state lives in the hash so URLs can be shared.
import { useState, useEffect } from 'preact/hooks';

export function parseHash(hash = location.hash) {
    const s = hash.replace(/^#\/?/, '');
    const i = s.indexOf('?');
    const path = (i < 0 ? s : s.slice(0, i)).split('/').filter(Boolean).map(decodeURIComponent);
    const q = new URLSearchParams(i < 0 ? '' : s.slice(i + 1));
    return { path, q };
}

export function href(path, params) {
    let s = '#/' + path.replace(/^\//, '');
    if (params) {
        const p = new URLSearchParams();
        for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') p.set(k, v);
        const qs = p.toString().replace(/%3A/gi, ':').replace(/%2C/gi, ',').replace(/%2F/gi, '/');
        if (qs) s += '?' + qs;
    }
    return s;
}

export function navigate(path, params) {
    location.hash = href(path, params);
}

/** Merges patch into the current hash query (null/'' removes a key) and navigates. */
export function setQuery(patch, replace = false) {
    const { path, q } = parseHash();
    const params = Object.fromEntries(q.entries());
    Object.assign(params, patch);
    const h = href(path.join('/'), params);
    if (replace) history.replaceState(null, '', h);
    if (replace) window.dispatchEvent(new HashChangeEvent('hashchange'));
    else location.hash = h;
}

export function useRoute() {
    const [r, setR] = useState(() => parseHash());
    useEffect(() => {
        const on = () => setR(parseHash());
        window.addEventListener('hashchange', on);
        return () => window.removeEventListener('hashchange', on);
    }, []);
    return r;
}
