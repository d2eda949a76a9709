// shaka.js - the Shaka Player adapter: oncue.shaka(tracker, player) before player.load().
//
// Play intent is player.load() (wrapped on this instance; its promise is returned as it
// was); critical errors, and load() rejections other than LOAD_INTERRUPTED (7000), are
// failures (error_code: Shaka's numeric code, then ":" and the status for BAD_HTTP_STATUS,
// 1001). Response headers come from a networking-engine response filter.
import { safe, headerOf, drmName } from './core.js';

/** Reports the shaka.Player p through tracker t (never throws). */
export const shaka = /* @__PURE__ */ safe((t, p) => {
  const on = (ev, f) => p.addEventListener(ev, safe(f));
  const media = () => p.getMediaElement() && t.media(p.getMediaElement());
  const fail = safe((e) => {
    if (e && e.code != 7000) t.fatal(e.code + (e.code == 1001 ? ':' + e.data[1] : ''));
  });
  const rate = () => {
    const v = p.getVariantTracks().find((x) => x.active);
    if (v) t.kbps(v.bandwidth / 1000);
  };
  const load = p.load;
  t.dims({ player: 'shaka', player_version: p.constructor.version });
  safe(media)();
  p.load = function (...a) {
    safe(() => {
      media();
      t.intent();
    })();
    const r = load.apply(this, a);
    r.catch(fail);
    return r;
  };
  on('error', (e) => e.detail && e.detail.severity == 2 && fail(e.detail));
  on('loaded', () => {
    media();
    const d = p.drmInfo();
    t.dims(d ? { live: p.isLive(), drm: drmName(d.keySystem) } : { live: p.isLive() });
    rate();
  });
  on('adaptation', rate);
  on('variantchanged', rate);
  safe(() =>
    p.getNetworkingEngine().registerResponseFilter(
      safe((type, r) => t.response(r.uri, headerOf(r.headers)))))();
});
