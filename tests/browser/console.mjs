// console.mjs - the web console, driven in Debian's headless chromium (run by console.sh).
//
// Checks, each printed as one line, then "N passed, N failed":
//   - a new visitor gets the sign-in view; a responder token signs in (the cookie is HttpOnly
//     and SameSite=Strict) and the header names the role;
//   - with the incident list open, `oncue sim emea-cdn` (replay clock, 20x) opens an incident
//     and its row appears without a reload (server-sent events);
//   - shift-cdn run from the incident's buttons (dry run, then confirm) lands on the timeline
//     without a reload, and the simulated EMEA players leave the primary CDN;
//   - the incident's runbook from its panel: a dry run records nothing, a run waits at its
//     decision; a viewer sees the wait and no button; the responder skips and the run ends;
//   - a viewer-role session sees no enabled mitigation button and the server refuses its
//     mitigation POST with 403;
//   - a cross-site form POST from another origin carrying the session cookie changes nothing;
//   - every view renders with no console error and no failed API call;
//   - the player error codes view lists what GET /v1/qoe/errors counts, and a code's slices;
//   - with more than 100 incidents the All tab shows 100 and "Load more" follows the API's
//     next link to the rest (every incident once, newest first).
//
// Environment: ONCUE_BIN, ONCUE_SERVER (running, --clock replay, every module, the shipped
// steering policy), RESPONDER_TOKEN, VIEWER_TOKEN, INGEST_TOKEN, WORK.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { chromium } from 'playwright-core';

const env = (k) => {
  if (!process.env[k]) throw new Error(`${k} is not set`);
  return process.env[k];
};
const BIN = env('ONCUE_BIN');
const BASE = env('ONCUE_SERVER');
const RESPONDER = env('RESPONDER_TOKEN');
const VIEWER = env('VIEWER_TOKEN');
const INGEST = env('INGEST_TOKEN');
const WORK = env('WORK');
const T0 = 1772479800; // 2026-03-02 19:30 UTC, emea-cdn's begin; its fault starts at 19:43
const SPEED = 20;
let passed = 0;
let failed = 0;

const failures = []; // repeated after the summary: CI shows the tail of a long log
function check(name, ok, detail) {
  if (ok) passed++;
  else {
    failed++;
    failures.push(name);
  }
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail !== undefined ? ': ' + detail : ''}`);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function api(p, init = {}) {
  const r = await fetch(BASE + p, {
    ...init,
    headers: { Authorization: `Bearer ${RESPONDER}`, ...(init.headers || {}) },
  });
  const text = await r.text();
  let body = null;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: r.status, body };
}

// Polls fn until it returns a truthy value or ms pass; returns the value (or null).
async function until(ms, fn, every = 250) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) return null;
    await sleep(every);
  }
}

// Console errors, page errors and API answers >= 500 of every page, by page label.
const problems = [];
function watch(page, label) {
  page.on('pageerror', (e) => problems.push(`${label}: page error: ${e}`));
  page.on('console', (m) => {
    // chromium logs every 4xx/5xx as "Failed to load resource"; answers are judged below
    if (m.type() === 'error' && !/^Failed to load resource/.test(m.text()))
      problems.push(`${label}: console error: ${m.text()}`);
  });
  page.on('response', (r) => {
    // 401 before sign-in is how the console learns it must show the sign-in view
    const expected = (r.status() === 401 && r.url().endsWith('/v1/session')) ||
      (r.status() === 403 && label === 'viewer' && r.url().endsWith('/v1/mitigations'));
    if (r.status() >= 400 && !expected) problems.push(`${label}: HTTP ${r.status()} ${r.url()}`);
  });
}

async function signIn(browser, token, label) {
  const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await ctx.newPage();
  watch(page, label);
  await page.goto(`${BASE}/`);
  await page.waitForSelector('[data-view="signin"]', { timeout: 15000 });
  await page.fill('form[data-signin] input[name=token]', token);
  await page.click('form[data-signin] button[type=submit]');
  await page.waitForSelector('[data-view="now"]', { timeout: 15000 });
  return { ctx, page };
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
let sim = null;
let evil = null;
try {
  // 1. Sign in.
  const { ctx, page } = await signIn(browser, RESPONDER, 'responder');
  const cookies = await ctx.cookies();
  const c = cookies.find((k) => k.name === 'oncue_session');
  check('sign-in sets the session cookie', !!c);
  check('the cookie is HttpOnly and SameSite=Strict', !!c && c.httpOnly && c.sameSite === 'Strict',
    c && `httpOnly=${c.httpOnly} sameSite=${c.sameSite}`);
  check('the header names the responder role',
    (await page.getAttribute('[data-user]', 'data-role')) === 'responder');

  // 2. A simulated fault's incident appears without a reload.
  await page.goto(`${BASE}/#/incidents`);
  await page.waitForSelector('[data-view="incidents"]');
  check('no incident before the fault', (await page.locator('[data-incident]').count()) === 0);
  await page.evaluate(() => {
    window.__sameDocument = true;
  });
  const simLog = fs.openSync(path.join(WORK, 'sim.log'), 'w');
  sim = spawn(BIN, ['sim', '--target', BASE, '--token', INGEST, '--scenario', 'emea-cdn',
    '--steer', '--speed', String(SPEED), '--viewers', '3000', '--start', String(T0),
    '--seed', '1'], { stdio: ['ignore', simLog, simLog] });
  const t0 = Date.now();
  const row = await page.waitForSelector('[data-incident]', { timeout: 150000 }).catch(() => null);
  check('the incident appears in the open list', !!row,
    row ? `after ${((Date.now() - t0) / 1000).toFixed(0)} s of simulation` : 'none in 150 s');
  check('without a reload', await page.evaluate(() => window.__sameDocument === true));
  const id = row ? await row.getAttribute('data-incident') : 'INC-1';

  // 3. shift-cdn from the console: dry run, confirm, the timeline shows it, players move.
  await page.goto(`${BASE}/#/incidents/${id}`);
  await page.waitForSelector('[data-view="incident"]');
  await page.evaluate(() => {
    window.__sameDocument = true;
  });
  // the tickets module's count in the incident's JSON: no support ticket came in
  const tickets = await page.waitForSelector('dd[data-tickets]', { timeout: 10000 }).catch(() => null);
  const ticketsText = tickets ? (await tickets.textContent()).trim() : 'none';
  check('the incident shows its support tickets', /^0 linked( · 0 per 1,000 affected viewers)?$/.test(ticketsText), ticketsText);
  await page.click('button[data-mitigation="shift-cdn"]');
  const dry = await page.waitForSelector('[data-dry-run]', { timeout: 10000 }).catch(() => null);
  check('shift-cdn shows a dry run first', !!dry);
  const before = (await api('/v1/mitigations')).body;
  check('the dry run applied nothing', Array.isArray(before.mitigations) &&
    before.mitigations.length === 0, JSON.stringify(before).slice(0, 200));
  await page.click('button[data-confirm]');
  const applied = await until(10000, async () => {
    const m = (await api('/v1/mitigations')).body.mitigations || [];
    return m.find((x) => x.kind === 'shift-cdn');
  });
  check('confirm applies shift-cdn', !!applied, applied && JSON.stringify(applied).slice(0, 200));
  const onTimeline = await page
    .waitForFunction(
      () => [...document.querySelectorAll('ol[data-timeline] li')].some((li) =>
        /mitigat/i.test(li.textContent)),
      null, { timeout: 10000 })
    .catch(() => null);
  check('the timeline shows the mitigation without a reload', !!onTimeline &&
    (await page.evaluate(() => window.__sameDocument === true)));

  // The players follow: the EMEA viewers of a minute starting two or more minutes after
  // the mitigation are almost all on the secondary CDN.
  const atS = Math.floor((applied ? applied.created_ms || applied.at_ms || 0 : 0) / 1000);
  const moved = await until(60000, async () => {
    const from = Math.floor(atS / 60) * 60 + 120;
    const r = await api(`/v1/qoe?metric=concurrent_viewers&from=${from}&to=${from + 60}` +
      '&filter=region:EMEA&group_by=cdn');
    if (r.status !== 200) return null;
    const v = {};
    for (const s of r.body.series) v[s.group.cdn] = s.points[0][1];
    return v.secondary > 0 ? v : null;
  }, 500);
  const share = moved ? (moved.primary || 0) / ((moved.primary || 0) + moved.secondary) : 1;
  check('EMEA players left the primary CDN (share under 5% two minutes later)', share < 0.05,
    moved ? JSON.stringify(moved) : 'no data');

  // 3b. The incident's runbook from the console: a dry run records nothing; a run (the
  // runbook for the incident's alert) waits at its decision with Approve and Skip.
  await page.click('button[data-act="dry-run"]');
  const dryRb = await page.waitForSelector('[data-runbook-run="dry_run"] tr[data-step]', { timeout: 10000 })
    .catch(() => null);
  check('a runbook dry run lists its steps', !!dryRb);
  const noRun = await api(`/v1/incidents/${id}/runbook`);
  check('the dry run recorded nothing', noRun.status === 404, `HTTP ${noRun.status}`);
  await page.click('button[data-act="run"]');
  const waiting = await page.waitForSelector('[data-runbook-run="waiting"] button[data-act="approve"]',
    { timeout: 15000 }).catch(() => null);
  const w = (await api(`/v1/incidents/${id}/runbook`)).body || {};
  check('the run of the rebuffering runbook waits at step 5, with Approve and Skip',
    !!waiting && w.runbook === 'rebuffering' && w.state === 'waiting' && w.waiting_step === 5,
    `${w.runbook} ${w.state} at ${w.waiting_step}`);

  // 4. A viewer session cannot mitigate, nor decide for a runbook run.
  const viewer = await signIn(browser, VIEWER, 'viewer');
  await viewer.page.goto(`${BASE}/#/incidents/${id}`);
  await viewer.page.waitForSelector('[data-view="incident"]');
  const enabled = await viewer.page.locator('button[data-mitigation]:enabled').count();
  check('a viewer sees no enabled mitigation button', enabled === 0, `${enabled} enabled`);
  const seen = await viewer.page.waitForSelector('[data-runbook-run="waiting"]', { timeout: 10000 })
    .catch(() => null);
  const decide = await viewer.page.locator('[data-runbook-run] button').count();
  check('a viewer sees the waiting run and no button to decide', !!seen && decide === 0,
    `${decide} buttons`);

  // The responder skips the decision: the mitigate action after it is skipped too and the
  // run goes on to its end, each step on the panel without a reload.
  await page.click('[data-runbook-run="waiting"] button[data-act="skip"]');
  const done = await page.waitForSelector('[data-runbook-run="done"]', { timeout: 15000 }).catch(() => null);
  const st = await page.evaluate(() => [...document.querySelectorAll('[data-runbook-run] tr[data-step]')]
    .map((tr) => `${tr.dataset.step}:${tr.dataset.status}`).join(' '));
  check('skip: the run is done, steps 5 and 6 skipped', !!done && /(^| )5:skipped 6:skipped( |$)/.test(st), st);
  const after = (await api(`/v1/incidents/${id}`)).body || {};
  check('the skip is on the timeline with who skipped it',
    (after.timeline || []).some((e) => /runbook rebuffering .*step 5\/8 approve mitigation \[decision\]: skipped/.test(e.text || '') &&
      e.actor && e.actor !== 'oncue'),
    JSON.stringify((after.timeline || []).filter((e) => /runbook/.test(e.text || '')).map((e) => `${e.actor}: ${e.text}`)).slice(0, 600));
  const denied = await viewer.page.evaluate(async () => {
    const r = await fetch('/v1/mitigations', {
      method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ kind: 'flag', flag: 'new-playback-features', on: false }),
    });
    return r.status;
  });
  check('the server refuses a viewer session\'s mitigation', denied === 403, `HTTP ${denied}`);

  // 5. A cross-site POST from another origin (127.0.0.1 on another port: same site, so the
  // browser sends the Strict cookie; the server's origin check must refuse it).
  evil = http.createServer((req, res) => {
    res.setHeader('Content-Type', 'text/html');
    res.end(`<!doctype html><form method=POST enctype=text/plain
      action="${BASE}/v1/incidents/${id}/note"><input name='{"text":"cross-site-note","x":"'
      value='"}'></form><script>document.forms[0].submit()</script>`);
  });
  await new Promise((r) => evil.listen(0, '127.0.0.1', r));
  const evilPage = await ctx.newPage();
  const post = evilPage.waitForResponse((r) => r.url().endsWith(`/v1/incidents/${id}/note`));
  await evilPage.goto(`http://127.0.0.1:${evil.address().port}/`);
  const refused = await post.catch(() => null);
  check('a cross-site form POST is refused with 403', refused && refused.status() === 403,
    refused ? `HTTP ${refused.status()}` : 'no response');
  await evilPage.close();
  const inc = (await api(`/v1/incidents/${id}`)).body;
  check('it left no note on the timeline',
    !JSON.stringify(inc.timeline || []).includes('cross-site-note'));
  const ok = await page.evaluate(async (p) => {
    const r = await fetch(p, {
      method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ text: 'same-origin-note' }),
    });
    return r.status;
  }, `/v1/incidents/${id}/note`);
  check('the same POST from the console itself is accepted', ok >= 200 && ok < 300, `HTTP ${ok}`);

  // 6. Every view renders without errors.
  const views = [['now', '#/now'], ['explore', '#/explore?metric=rebuffer_ratio&group_by=cdn'],
    ['dashboards', '#/dashboards'], ['incidents', '#/incidents'],
    ['incident', `#/incidents/${id}`], ['services', '#/services'], ['alerts', '#/alerts'],
    ['tickets', '#/tickets'], ['search', '#/search'], ['errors', '#/errors']];
  for (const [view, hash] of views) {
    const p = await ctx.newPage();
    watch(p, view);
    const before = problems.length;
    await p.goto(`${BASE}/${hash}`);
    const el = await p.waitForSelector(`[data-view="${view}"]`, { timeout: 15000 })
      .catch(() => null);
    await p.waitForLoadState('networkidle').catch(() => {});
    await sleep(500);
    const mine = problems.slice(before).filter((x) => x.startsWith(view));
    check(`view ${view} renders with no console error`, !!el && mine.length === 0,
      mine.join(' | ') || undefined);
    await p.screenshot({ path: path.join(WORK, `view-${view}.png`) });
    await p.close();
  }

  // 7. The search box: a typo as you type finds both Rockys (the server's typo tolerance), a
  // facet narrows to the one with that genre and lands in the URL.
  {
    const p = await ctx.newPage();
    watch(p, 'search');
    await p.goto(`${BASE}/#/search`);
    await p.waitForSelector('[data-view="search"]', { timeout: 15000 });
    await p.fill('input[type=search]', 'roky');
    await p.waitForSelector('[data-hit="r2"]', { timeout: 10000 }).catch(() => null);
    const hits = await p.$$eval('[data-hit]', (els) => els.map((e) => e.dataset.hit).join(','));
    check('search as you type: "roky" finds Rocky then Rocky II', hits === 'r2,r1', hits);
    const pops = await p.$$eval('[data-hit] [data-pop]', (els) => els.map((e) => `${e.dataset.pop}:${e.textContent}`).join(','));
    check('each hit says where its popularity comes from (no plays here: the catalog field)',
          pops === 'field:catalog,field:catalog', pops);
    await p.click('[data-facet="genre=sport"]').catch(() => null);
    await p.waitForFunction(() => document.querySelectorAll('[data-hit]').length === 1, null,
      { timeout: 10000 }).catch(() => null);
    const one = await p.$$eval('[data-hit]', (els) => els.map((e) => e.dataset.hit).join(','));
    check('the genre facet narrows to Rocky II', one === 'r1', one);
    check('the facet is in the URL', p.url().includes('genre=sport'), p.url());
    await p.close();
  }

  // 8. Player error codes: five failed starts of smart TVs on PlayReady with a code of their
  // own, posted at the server's now, are counted by GET /v1/qoe/errors; the view lists every
  // code the API lists, this one with 5 events and where it concentrates; its row opens each
  // dimension's top values and puts the code in the URL.
  {
    const now = (await api('/v1/session')).body.now_ms;
    const lines = [0, 1, 2, 3, 4].map((i) => JSON.stringify({
      ts: now, type: 'start', outcome: 'failure', session: `console-err-${i}`,
      error_code: 'CONSOLE_TEST_DRM', device: 'smart_tv', drm: 'playready', region: 'EMEA',
    })).join('\n');
    const post = await api('/v1/events', {
      method: 'POST', body: lines,
      headers: { Authorization: `Bearer ${INGEST}`, 'Content-Type': 'application/x-ndjson' },
    });
    check('five failed starts with a code are accepted', post.status === 200 && post.body.accepted === 5,
      JSON.stringify(post.body));
    const errs = (await api('/v1/qoe/errors?top=50')).body;
    const mine = (errs.codes || []).find((c) => c.code === 'CONSOLE_TEST_DRM');
    check('GET /v1/qoe/errors counts them', !!mine && mine.events === 5 && mine.start_failures === 5,
      JSON.stringify(mine));
    const p = await ctx.newPage();
    watch(p, 'errors');
    await p.goto(`${BASE}/#/errors`);
    await p.waitForSelector('tr[data-code="CONSOLE_TEST_DRM"]', { timeout: 15000 }).catch(() => null);
    const shown = await p.$$eval('tr[data-code]', (els) => els.map((e) => e.dataset.code));
    const missing = (errs.codes || []).map((c) => c.code).filter((c) => !shown.includes(c));
    check('the view lists every code the API lists', shown.length >= 2 && missing.length === 0,
      `shown ${shown.join(',')}; missing ${missing.join(',')}`);
    const ev = await p.$eval('tr[data-code="CONSOLE_TEST_DRM"] [data-events]', (e) => e.textContent)
      .catch(() => null);
    check('its row says 5 events', ev === '5', ev);
    const where = await p.$$eval('tr[data-code="CONSOLE_TEST_DRM"] [data-where]',
      (els) => els.map((e) => e.dataset.where).sort().join(','));
    check('its row names where it concentrates', where === 'device=smart_tv,drm=playready,region=EMEA', where);
    await p.click('tr[data-code="CONSOLE_TEST_DRM"]').catch(() => null);
    const slice = await p.waitForSelector('[data-slices="CONSOLE_TEST_DRM"] [data-slice="device=smart_tv"]',
      { timeout: 10000 }).then((e) => e.textContent()).catch(() => null);
    check('its row opens every dimension: smart_tv, 5 events, 100%',
      !!slice && /smart_tv\s+5 · 100%/.test(slice.trim()), slice);
    check('the code is in the URL', p.url().includes('code=CONSOLE_TEST_DRM'), p.url());
    await p.screenshot({ path: path.join(WORK, 'view-errors-code.png') });
    await p.close();
  }

  // 9. A long history a page at a time: 105 incidents declared by hand (one region each, on a
  // metric of their own so that the simulated incident's cause does not take them in) on top
  // of the simulated one(s); the All tab shows the first 100 with "Load more", which follows
  // the API's next link to the rest: every incident once, newest first, then no button.
  {
    const made = new Set();
    for (let i = 0; i < 105; i += 15) {
      const answers = await Promise.all(Array.from({ length: Math.min(15, 105 - i) }, (_, k) => api('/v1/incidents', {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ alert_id: `console-page/P${i + k}`, metric: 'console_page_test',
          slice: { region: `P${i + k}` }, value: 0.08, threshold: 0.05, op: '>', level: 'notify', test: true }),
      })));
      for (const a of answers) made.add(a.status === 201 ? a.body.incident_id : `HTTP ${a.status}`);
    }
    check('105 incidents declared', made.size === 105, [...made].slice(0, 3).join(' '));
    const all = ((await api('/v1/incidents?limit=1000')).body.incidents || []).map((x) => x.incident_id);
    const p = await ctx.newPage();
    watch(p, 'incidents-more');
    await p.goto(`${BASE}/#/incidents?state=all`);
    await p.waitForSelector('[data-incidents-shown]', { timeout: 15000 }).catch(() => null);
    const rows = () => p.$$eval('[data-view="incidents"] [data-incident]', (els) => els.map((e) => e.dataset.incident));
    const first = await rows();
    check(`the All tab shows the first 100 of ${all.length}`, all.length > 105 && first.length === 100 &&
      first.join() === all.slice(0, 100).join(), `${first.length} rows, ${first[0]} .. ${first[first.length - 1]}`);
    const btn = await p.$('[data-action="more"]');
    check('with a Load more button', !!btn);
    if (btn) await btn.click();
    const after = await until(10000, async () => { const r = await rows(); return r.length > 100 ? r : null; }) || [];
    check('Load more adds the rest: every incident once, newest first', after.join() === all.join(),
      `${after.length} rows, ${new Set(after).size} distinct, ${after[after.length - 1]} last`);
    check('and the button is gone on the last page', (await p.$('[data-action="more"]')) === null);
    await p.screenshot({ path: path.join(WORK, 'view-incidents-more.png') });
    await p.close();
  }
} catch (e) {
  check('the run finished', false, e.stack);
} finally {
  if (sim) sim.kill();
  if (evil) evil.close();
  await browser.close();
}
check('no console error and no failed API call in the whole run', problems.length === 0,
  problems.join(' | ') || undefined);
console.log(`${passed} passed, ${failed} failed`);
for (const f of failures) console.log(`failed: ${f}`);
process.exit(failed ? 1 : 0);
