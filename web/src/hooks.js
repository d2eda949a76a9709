import { useState, useEffect, useRef, useCallback } from 'preact/hooks';
import { onLive } from './live.js';
import { serverNow } from './fmt.js';

/**
 * Loads fn() when deps change; keeps the previous data while reloading (no flicker).
 * opts.live: a live-event predicate that triggers a debounced reload.
 * opts.every: reload period in ms.
 */
export function useFetch(fn, deps, opts = {}) {
    const [st, setSt] = useState({ data: undefined, error: null, loading: true });
    const fnRef = useRef(fn);
    fnRef.current = fn;
    const gen = useRef(0);
    const load = useCallback(async () => {
        const g = ++gen.current;
        setSt(s => (s.loading ? s : { ...s, loading: true }));
        try {
            const data = await fnRef.current();
            if (g === gen.current) setSt({ data, error: null, loading: false });
        } catch (error) {
            if (g === gen.current) setSt(s => ({ data: s.data, error, loading: false }));
        }
    }, []);
    useEffect(() => {
        setSt({ data: undefined, error: null, loading: true });
        load();
    }, deps);
    useEffect(() => {
        if (!opts.live) return undefined;
        let t = null;
        const off = onLive(ev => {
            if (!opts.live(ev)) return;
            clearTimeout(t);
            t = setTimeout(load, 300);
        });
        return () => { off(); clearTimeout(t); };
    }, deps);
    useEffect(() => {
        if (!opts.every) return undefined;
        const i = setInterval(load, opts.every);
        return () => clearInterval(i);
    }, deps);
    return { ...st, reload: load };
}

/** Seconds since the epoch, refreshed every `ms`. */
export function useNow(ms = 1000) {
    const [now, setNow] = useState(() => serverNow());
    useEffect(() => {
        const i = setInterval(() => setNow(serverNow()), ms);
        return () => clearInterval(i);
    }, [ms]);
    return now;
}
