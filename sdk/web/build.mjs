// build.mjs - bundles the beacon plugin: one minified script per adapter (the core and that
// adapter, an IIFE setting window.oncue = { init, <adapter> }) into dist/ (or --out DIR), and
// prints each one's gzip size, failing when one is over 5 KB (5,120 bytes) gzipped.
//
//   node sdk/web/build.mjs [--out DIR] [--node-modules DIR]
//
// esbuild is resolved from --node-modules (default sdk/web/node_modules, where `npm ci`
// installs this folder's package-lock.json). Same sources and lock file, same bytes.
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const ADAPTERS = ['hls', 'dash', 'shaka', 'video'];
const MAX_GZIP = 5120;

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? resolve(args[i + 1]) : def;
};
const out = opt('--out', join(here, 'dist'));
const nodeModules = opt('--node-modules', join(here, 'node_modules'));
if (!existsSync(join(nodeModules, 'esbuild'))) {
  console.error(`build.mjs: no esbuild under ${nodeModules} (run npm ci in sdk/web)`);
  process.exit(1);
}
const esbuild = createRequire(join(nodeModules, '..', 'package.json'))('esbuild');
mkdirSync(out, { recursive: true });

let over = 0;
for (const a of ADAPTERS) {
  const file = join(out, `oncue-${a}.min.js`);
  await esbuild.build({
    stdin: {
      contents: `export { init } from './src/core.js'; export { ${a} } from './src/${a}.js';`,
      resolveDir: here,
      sourcefile: `oncue-${a}.js`,
    },
    outfile: file,
    bundle: true,
    minify: true,
    format: 'iife',
    globalName: 'oncue',
    target: ['es2020', 'chrome80', 'firefox78', 'safari14'],
    legalComments: 'none',
    charset: 'utf8',
    logLevel: 'warning',
  });
  const raw = readFileSync(file);
  const gz = gzipSync(raw, { level: 9 }).length;
  const ok = gz <= MAX_GZIP;
  if (!ok) over++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} oncue-${a}.min.js: ${raw.length} bytes, ${gz} gzipped ` +
    `(at most ${MAX_GZIP})`);
}
writeFileSync(join(out, 'README.txt'), 'Built by sdk/web/build.mjs from sdk/web/src; see sdk/web/README.md.\n');
process.exit(over ? 1 : 0);
