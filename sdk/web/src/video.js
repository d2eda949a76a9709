// video.js - the bare <video> adapter: oncue.video(tracker, element) for native playback
// (progressive MP4, or HLS where the browser plays it itself).
//
// Play intent is loadstart; the element's error is a failure (error_code MEDIA_ERR_NETWORK,
// MEDIA_ERR_DECODE or MEDIA_ERR_SRC_NOT_SUPPORTED) except MEDIA_ERR_ABORTED, which is the
// page's own doing. The CDN comes from the configured host map (cdns) only.
import { safe } from './core.js';

const CODES = [0, 0, 'MEDIA_ERR_NETWORK', 'MEDIA_ERR_DECODE', 'MEDIA_ERR_SRC_NOT_SUPPORTED'];

/** Reports the media element el through tracker t (never throws). */
export const video = /* @__PURE__ */ safe((t, el) => {
  const on = (ev, f) => el.addEventListener(ev, safe(f));
  const ua = /(Chrome|Firefox|Version)\/(\d+)/.exec(navigator.userAgent);
  t.dims({ player: 'html5', player_version: ua ? ua[1].toLowerCase() + '-' + ua[2] : 'unknown' });
  t.media(el);
  if (el.networkState == 2 || el.readyState) t.intent();
  on('loadstart', () => t.intent());
  on('loadedmetadata', () => {
    t.dims({ live: el.duration == Infinity });
    t.response(el.currentSrc, () => null);
  });
  on('error', () => {
    const c = CODES[el.error && el.error.code];
    if (c) t.fatal(c);
  });
});
