// console.mjs - browser and API figures for bench/console.sh (run from its node directory).
//
// Environment: BASE (the server), TOKEN (a viewer token), DAY_FROM/DAY_TO (the simulated day,
// unix s), NOW_S (the server's replay "now"), ROUNDS (API calls per route), LOADS (page loads
// per browser figure). Prints figures only.
import { chromium } from 'playwright-core';

const env = (k) => {
  if (!process.env[k]) throw new Error(`${k} is not set`);
  return process.env[k];
};
const BASE = env('BASE');
const TOKEN = env('TOKEN');
const DAY_FROM = Number(env('DAY_FROM'));
const DAY_TO = Number(env('DAY_TO'));
const NOW_S = Number(env('NOW_S'));
const ROUNDS = Number(process.env.ROUNDS || 200);
const LOADS = Number(process.env.LOADS || 5);

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const ms = (x) => `${x.toFixed(1)} ms`;

// The calls the Now and Incidents views make on load (web/src), over the last 6 hours.
const from6h = NOW_S - 6 * 3600;
const q = (metric, extra = '') =>
  `/v1/qoe?metric=${metric}&from=${from6h}&to=${NOW_S}&step=60${extra}`;
const CALLS = [
  ['session', '/v1/session'],
  ['qoe concurrent_viewers', q('concurrent_viewers')],
  ['qoe vsf_rate', q('vsf_rate')],
  ['qoe ebvs_rate', q('ebvs_rate')],
  ['qoe rebuffer_ratio', q('rebuffer_ratio')],
  ['qoe startup_p50_ms', q('startup_p50_ms')],
  ['qoe rebuffer_ratio by cdn,region', q('rebuffer_ratio', '&group_by=cdn,region')],
  ['qoe/dimensions', '/v1/qoe/dimensions'],
  ['slos', '/v1/slos'],
  ['incidents', '/v1/incidents'],
  ['alerts', '/v1/alerts'],
  ['changes', '/v1/changes'],
  ['mitigations', '/v1/mitigations'],
  ['services', '/v1/services'],
];

async function api() {
  console.log(`== console API calls (${ROUNDS} each, sequential, keep-alive, bearer token)`);
  console.log('  call                                  p50       p99       max   bytes');
  let worst = 0;
  for (const [name, path] of CALLS) {
    const t = [];
    let bytes = 0;
    for (let i = 0; i < ROUNDS; i++) {
      const s = performance.now();
      const r = await fetch(BASE + path, { headers: { Authorization: `Bearer ${TOKEN}` } });
      const b = await r.arrayBuffer();
      t.push(performance.now() - s);
      if (r.status !== 200) throw new Error(`${path}: HTTP ${r.status}`);
      bytes = b.byteLength;
    }
    const p99 = pct(t, 99);
    worst = Math.max(worst, p99);
    console.log(
      `  ${name.padEnd(34)} ${ms(pct(t, 50)).padStart(9)} ${ms(p99).padStart(9)} ` +
        `${ms(Math.max(...t)).padStart(9)} ${String(bytes).padStart(7)}`,
    );
  }
  console.log(`  worst p99: ${ms(worst)} (target: under 50 ms)`);
}

async function signedIn(browser) {
  const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const r = await ctx.request.post(`${BASE}/v1/session`, {
    data: { token: TOKEN },
    headers: { Origin: BASE },
  });
  if (r.status() !== 201) throw new Error(`sign-in: HTTP ${r.status()}`);
  return ctx;
}

// Loads url in a fresh page and waits for the performance entry name; returns the page.
async function load(ctx, url, name, errors) {
  const page = await ctx.newPage();
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await page.goto(url);
  await page.waitForFunction((n) => performance.getEntriesByName(n).length > 0, name, {
    timeout: 60000,
  });
  return page;
}

async function browserFigures() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu'],
  });
  const errors = [];
  try {
    const ctx = await signedIn(browser);
    console.log(`== first useful paint of #/now (${LOADS} loads; from navigation start)`);
    const fup = [];
    for (let i = 0; i < LOADS; i++) {
      const page = await load(ctx, `${BASE}/#/now`, 'first-useful-paint', errors);
      fup.push(
        await page.evaluate(() => performance.getEntriesByName('first-useful-paint')[0].startTime),
      );
      await page.close();
    }
    console.log(
      `  median ${ms(pct(fup, 50))}, max ${ms(Math.max(...fup))} (target: under 1000 ms)`,
    );

    const hash =
      `#/explore?metric=concurrent_viewers&from=${DAY_FROM}&to=${DAY_TO}&step=60` +
      '&group_by=isp,cdn&top=20';
    console.log(`== 24 h x 1-minute x 20-series chart (${LOADS} loads of ${hash})`);
    const draw = [];
    let shape = '';
    for (let i = 0; i < LOADS; i++) {
      const page = await load(ctx, `${BASE}/${hash}`, 'chart', errors);
      const m = await page.evaluate(() => {
        const e = performance.getEntriesByName('chart');
        return e[e.length - 1].duration;
      });
      draw.push(m);
      shape = await page.evaluate(() => JSON.stringify(window.__oncueChartShape || null));
      await page.close();
    }
    console.log(`  series x points drawn: ${shape}`);
    console.log(
      `  draw median ${ms(pct(draw, 50))}, max ${ms(Math.max(...draw))} (target: under 50 ms)`,
    );
  } finally {
    await browser.close();
  }
  console.log(`== console errors during the loads: ${errors.length}`);
  for (const e of errors.slice(0, 5)) console.log(`  ${e}`);
}

await api();
await browserFigures();
