// hls.js - the hls.js adapter: oncue.hls(tracker, hls) before or after loadSource/attachMedia.
//
// Play intent is MANIFEST_LOADING; the CDN is the level's steering pathway when the stream
// has content steering; the bitrate is the switched level's; fatal ERROR events are failures
// (error_code: hls.js's details, then ":" and the HTTP status when there is one).
import { safe, headerOf } from './core.js';

/** Reports the hls.js instance h through tracker t (never throws). */
export const hls = /* @__PURE__ */ safe((t, h) => {
  const on = (ev, f) => h.on('hls' + ev, safe(f));
  const level = (i) => {
    const l = h.levels && h.levels[i];
    if (!l) return;
    t.kbps(l.bitrate / 1000);
    if (l.pathwayId && l.pathwayId != '.') t.pathway(l.pathwayId);
  };
  const got = (url, d) => t.response(url, headerOf(d.networkDetails));
  t.dims({ player: 'hls.js', player_version: h.constructor.version });
  if (h.media) t.media(h.media);
  if (h.url) t.intent();
  on('MediaAttached', (e, d) => t.media(d.media));
  on('ManifestLoading', () => t.intent());
  on('LevelSwitched', (e, d) => level(d.level));
  on('LevelLoaded', (e, d) => {
    t.dims({ live: !!d.details.live });
    level(d.level);
    got(d.details.url, d);
  });
  on('FragLoaded', (e, d) => got(d.frag.url, d));
  on('Error', (e, d) => {
    const code = d.response && d.response.code;
    if (d.fatal) t.fatal(d.details + (code ? ':' + code : ''));
  });
  on('Destroying', () => t.destroy());
});
