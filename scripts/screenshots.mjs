// screenshots.mjs - screenshots of the console's main views from a running server (the
// README's pictures come from `make demo`). Run with node from a directory whose
// node_modules holds playwright-core (tests/browser's lock file), Debian chromium installed:
//
//   ONCUE_SERVER=http://127.0.0.1:8470 ONCUE_TOKEN=$(cat oncue-data/admin.token) \
//       OUT=docs/img node scripts/screenshots.mjs
//
// Each view is loaded in a fresh page after signing in; views with an incident use the
// newest one (ONCUE_INCIDENT overrides).
import path from 'node:path';
import { chromium } from 'playwright-core';

const BASE = process.env.ONCUE_SERVER || 'http://127.0.0.1:8470';
const TOKEN = process.env.ONCUE_TOKEN;
const OUT = process.env.OUT || '.';
if (!TOKEN) throw new Error('ONCUE_TOKEN is not set');

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu'],
});
const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
const r = await ctx.request.post(`${BASE}/v1/session`, { data: { token: TOKEN },
  headers: { Origin: BASE } });
if (r.status() !== 201) throw new Error(`sign-in: HTTP ${r.status()}`);
const list = await (await ctx.request.get(`${BASE}/v1/incidents`)).json();
const inc = process.env.ONCUE_INCIDENT || (list.incidents[0] && list.incidents[0].id);
const views = [
  ['now', '#/now'],
  ['explore', '#/explore?metric=rebuffer_ratio&from=-1h&group_by=cdn,region&compare=1'],
  ['dashboards', '#/dashboards?d=cdn&from=-1h'],
  ['incidents', '#/incidents?state=all'],
  ...(inc ? [['incident', `#/incidents/${inc}`]] : []),
  ['services', '#/services?sel=cdn-primary'],
  ['alerts', '#/alerts'],
];
for (const [view, hash] of views) {
  const page = await ctx.newPage();
  await page.goto(`${BASE}/${hash}`);
  await page.waitForSelector(`[data-view="${view}"]`, { timeout: 15000 });
  await page.waitForLoadState('networkidle').catch(() => {});
  await page.waitForTimeout(1000);
  const file = path.join(OUT, `console-${view}.png`);
  await page.screenshot({ path: file, fullPage: false });
  console.log(file);
  await page.close();
}
await browser.close();
