// billing.mjs - the console's billing support view, driven in Debian's headless chromium (run
// by billing.sh).
//
// Checks, each printed as one line, then "N passed, N failed":
//   - an admin's view of an account shows its verdict, subscriptions and history from the
//     signed webhooks posted here (activated, refunded, a stale delayed renewal);
//   - replaying the stale renewal "as of now" from its row (the reason typed into the prompt)
//     reactivates the account, says so, and the server's audit names the replay and its actor;
//   - a day's royalty report lists the beacons' plays per title and region and links its CSV;
//     sealing it from the view answers with its audit row;
//   - a viewer sees the account with no replay or seal button;
//   - no console error and no failed API call.
//
// Environment: ONCUE_SERVER (running, --clock replay, every module, SECRET in
// billing.standard_secrets), ADMIN_TOKEN, VIEWER_TOKEN, INGEST_TOKEN, SECRET.
import crypto from 'node:crypto';
import { chromium } from 'playwright-core';

const env = (k) => {
  if (!process.env[k]) throw new Error(`${k} is not set`);
  return process.env[k];
};
const BASE = env('ONCUE_SERVER');
const ADMIN = env('ADMIN_TOKEN');
const VIEWER = env('VIEWER_TOKEN');
const INGEST = env('INGEST_TOKEN');
const SECRET = env('SECRET');
const DAY = '2026-03-02';
const T0 = Date.parse(`${DAY}T00:00:00Z`);
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

// A signed Standard Webhooks delivery of subscription s1 of account a1.
async function webhook(id, type, at) {
  const body = JSON.stringify({ type, timestamp: at, data: { subscription: 's1', account: 'a1', plan: 'basic',
    period_end: '2099-01-01T00:00:00Z' } });
  const ts = String(T0 / 1000 + 90000); // the replay clock's now: the latest beacon's time
  const key = Buffer.from(SECRET.slice(6), 'base64');
  const sig = crypto.createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest('base64');
  const r = await fetch(`${BASE}/v1/billing/webhooks/standard`, { method: 'POST', body,
    headers: { 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': `v1,${sig}` } });
  return r.status;
}

async function beacons() {
  const ev = (s, session, title, region, rest) => JSON.stringify({ ts: T0 + s * 1000, session, title, region, ...rest });
  const lines = [
    ev(600, 's1', 'Film One', 'EMEA', { type: 'start', outcome: 'success', startup_ms: 800 }),
    ev(660, 's1', 'Film One', 'EMEA', { type: 'heartbeat', playing_ms: 60000, rebuffer_ms: 0, bitrate_kbps: 3000 }),
    ev(90000, 's9', 'Film One', 'EMEA', { type: 'start', outcome: 'success', startup_ms: 500 }),
  ].join('\n') + '\n';
  const r = await fetch(`${BASE}/v1/events`, { method: 'POST', body: lines,
    headers: { Authorization: `Bearer ${INGEST}`, 'Content-Type': 'application/x-ndjson' } });
  return r.status;
}

const problems = [];
function watch(page, label) {
  page.on('pageerror', (e) => problems.push(`${label}: page error: ${e}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/^Failed to load resource/.test(m.text()))
      problems.push(`${label}: console error: ${m.text()}`);
  });
  page.on('response', (r) => {
    if (r.url().includes('/v1/') && r.status() >= 500) problems.push(`${label}: ${r.status()} ${r.url()}`);
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
try {
  check('beacons', (await beacons()) === 200);
  await sleep(500);
  check('activated', (await webhook('e1', 'subscription.activated', '2026-03-02T10:00:00Z')) === 200);
  check('refunded', (await webhook('e2', 'subscription.refunded', '2026-03-02T12:00:00Z')) === 200);
  check('a delayed renewal', (await webhook('e3', 'subscription.renewed', '2026-03-02T11:00:00Z')) === 200);

  const { page } = await signIn(browser, ADMIN, 'admin');
  await page.goto(`${BASE}/#/billing?account=a1`);
  await page.waitForSelector('[data-account="a1"]', { timeout: 15000 });
  const text = await page.textContent('[data-view="billing"]');
  check('the verdict', /not allowed\s*revoked/.test(text), text.slice(0, 200));
  check('the subscription and its plan', /s1\s*standard\s*revoked\s*basic/.test(text));
  check('the history lists the stale renewal', /standard subscription\.renewed e3\s*stale/.test(text));
  page.on('dialog', (d) => d.accept('ticket 42: the refund was reversed'));
  const row = page.locator('tr', { hasText: 'subscription.renewed e3' });
  await row.locator('button', { hasText: 'as of now' }).click();
  const note = await page.waitForSelector('.banner[role=status]', { timeout: 15000 }).then((e) => e.textContent()).catch(() => '');
  check('the replay says what it did', note.includes('e3: applied (s1 revoked → active)'), note);
  const after = await page.waitForFunction(() => /allowed\s*active/.test(document.querySelector('[data-account]')?.textContent || ''),
    null, { timeout: 15000 }).then(() => true).catch(() => false);
  check('the account plays again', after);
  const acct = await (await fetch(`${BASE}/v1/billing/accounts/a1`, { headers: { Authorization: `Bearer ${ADMIN}` } })).json();
  const replay = acct.audit.find((r) => r.detail && r.detail.action === 'replay');
  check('audited with its reason and actor', replay && replay.detail.reason === 'ticket 42: the refund was reversed' &&
    replay.detail.actor === 'billing-ui-admin' && replay.detail.force === true, JSON.stringify(replay && replay.detail));

  // the royalty report of the day (the next day's beacon closes it once the cube folded it)
  await page.goto(`${BASE}/#/billing?day=${DAY}`);
  let table = false;
  for (let i = 0; i < 40 && !table; i++) {
    table = await page.waitForSelector('td:text("Film One")', { timeout: 500 }).then(() => true).catch(() => false);
    if (!table) await page.reload();
  }
  const rtext = await page.textContent('[data-view="billing"]');
  check('the report lists the title', table && /Film One\s*EMEA\s*1\s*1\s*0\.02/.test(rtext), rtext.slice(0, 300));
  check('it links the CSV', (await page.getAttribute('a:text("CSV")', 'href')) === `/v1/billing/royalties/${DAY}?format=csv`);
  await page.click('button:text("Seal into the audit")');
  const sealed = await page.waitForSelector('.banner[role=status]', { timeout: 15000 }).then((e) => e.textContent()).catch(() => '');
  check('sealed from the view', /^sealed in audit row \d+; CSV sha256 [0-9a-f]{64}$/.test(sealed.trim()), sealed);

  const v = await signIn(browser, VIEWER, 'viewer');
  await v.page.goto(`${BASE}/#/billing?account=a1&day=${DAY}`);
  await v.page.waitForSelector('[data-account="a1"]', { timeout: 15000 });
  check('a viewer sees the account', /allowed\s*active/.test(await v.page.textContent('[data-account="a1"]')));
  check('a viewer has no replay button', (await v.page.locator('button', { hasText: 'replay' }).count()) === 0);
  check('a viewer has no seal button', (await v.page.locator('button', { hasText: 'Seal' }).count()) === 0);
  await sleep(500);
  check('no console error and no failed API call', problems.length === 0, problems.join('; '));
} catch (e) {
  check('the run', false, e.stack || String(e));
} finally {
  await browser.close();
}
console.log(`${passed} passed, ${failed} failed`);
for (const f of failures) console.log(`failed: ${f}`);
process.exit(failed ? 1 : 0);
