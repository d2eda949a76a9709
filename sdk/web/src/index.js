// index.js - the package's entry for bundlers: the core and every adapter (a bundler keeps
// only those imported).
export { init } from './core.js';
export { hls } from './hls.js';
export { dash } from './dash.js';
export { shaka } from './shaka.js';
export { video } from './video.js';
