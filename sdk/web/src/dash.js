// dash.js - the dash.js adapter: oncue.dash(tracker, player) before or after initialize().
//
// Play intent is the first MANIFEST_LOADING_STARTED of a source (a live MPD's refreshes fire it
// again); the CDN is the serviceLocation (content steering)
// of the latest fragment; the bitrate is the rendered video representation's; ERROR events
// are failures (error_code: dash.js's numeric code, then ":" and the latest HTTP error
// status when a response failed). Response headers come from a response interceptor.
import { safe, headerOf } from './core.js';

/** Reports the dash.js MediaPlayer p through tracker t (never throws). */
export const dash = /* @__PURE__ */ safe((t, p) => {
  let status = 0;
  let src = 0; // the source of the current view
  const on = (ev, f) => p.on(ev, safe(f));
  const media = safe(() => t.media(p.getVideoElement()));
  t.dims({ player: 'dash.js', player_version: p.getVersion() });
  media();
  on('manifestLoadingStarted', () => {
    if (p.getSource() === src) return;
    src = p.getSource();
    media();
    status = 0;
    t.intent();
  });
  on('streamTeardownComplete', () => {
    src = 0;
  });
  on('streamInitialized', () => {
    media();
    t.dims({ live: p.isDynamic() });
  });
  on('qualityChangeRendered', (e) => {
    if (e.mediaType == 'video' && e.newRepresentation) t.kbps(e.newRepresentation.bandwidth / 1000);
  });
  on('fragmentLoadingCompleted', (e) => {
    // Without content steering dash.js names the BaseURL itself: not a pathway.
    const loc = e.request && e.request.serviceLocation;
    if (loc && !/\//.test(loc)) t.pathway(loc);
  });
  on('error', (e) => {
    const er = e.error || {};
    t.fatal(er.code + (status ? ':' + status : ''));
  });
  p.addResponseInterceptor((r) => {
    safe(() => {
      if (r.status > 399) status = r.status;
      t.response(r.url, headerOf(r.headers));
    })();
    return Promise.resolve(r);
  });
});
