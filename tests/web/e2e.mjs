// The web pages' end-to-end scenarios in a real headless Chromium (docs/web.md#tests), run by
// tests/it/web.rs: `node e2e.mjs SCENARIO` with
//   ADUAN_BASE         the server's base URL
//   ADUAN_E2E          the scenario's inputs as JSON (tokens, ids, names)
//   ADUAN_SHOTS        where screenshots go (one or more per scenario)
//   ADUAN_WEB_MODULES  the node_modules that deploy/web-e2e.sh installed
//   ADUAN_CHROMIUM     the browser (Debian's /usr/bin/chromium)
// Every page visited is checked with axe-core (no serious or critical violation). The scenario's
// findings go to stdout as one JSON line; any failed check exits non-zero naming it.
import { createRequire } from 'node:module';
import { readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const require = createRequire(join(process.env.ADUAN_WEB_MODULES, 'x.js'));
const { chromium } = require('playwright-core');
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const base = process.env.ADUAN_BASE;
const input = JSON.parse(process.env.ADUAN_E2E || '{}');
const shots = process.env.ADUAN_SHOTS;
mkdirSync(shots, { recursive: true });

function check(ok, what) {
  if (!ok) throw new Error(`check failed: ${what}`);
}

// axe-core on the page as it is now; the context bypasses the page's CSP only to inject axe.
async function accessible(page, name) {
  await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate(async () => await window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  check(bad.length === 0, `${name}: accessibility: ${bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target).join(' ')}`).join('; ')}`);
}

// The bytes a page costs: its document and every sub-resource it loads.
function weigh(page) {
  const sizes = [];
  page.on('response', async (r) => {
    try { sizes.push((await r.body()).length); } catch { /* a redirect has no body */ }
  });
  return () => sizes.reduce((a, b) => a + b, 0);
}

async function visit(page, path, name, { status = 200 } = {}) {
  const resp = await page.goto(base + path);
  check(resp.status() === status, `${name}: ${path} answered ${resp.status()}, not ${status}`);
  return resp;
}

async function shot(page, name) {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

async function signIn(page, token) {
  await visit(page, '/dashboard/login', 'sign-in');
  await accessible(page, 'sign-in');
  await page.fill('#token', token);
  await Promise.all([page.waitForURL(`${base}/dashboard`), page.click('main button[type=submit]')]);
}

const scenarios = {
  // A citizen files a complaint, keeps the tracking id and token, and tracks it; the same form also
  // files with JavaScript off (the pages have none, and must not need it).
  async citizen(page) {
    const plain = await page.context().browser().newContext({ javaScriptEnabled: false });
    const noJs = await plain.newPage();
    await visit(noJs, '/', 'file form without JavaScript');
    await noJs.fill('#title', `${input.title} (tanpa JavaScript)`);
    await noJs.fill('#body', input.body);
    const [filed] = await Promise.all([noJs.waitForResponse((r) => r.request().method() === 'POST'), noJs.click('main button[type=submit]')]);
    check(filed.status() === 201, `filing without JavaScript answered ${filed.status()}`);
    check((await noJs.locator('[data-testid=tracking-id]').count()) === 1, 'a tracking id without JavaScript');
    await plain.close();
    const bytes = weigh(page);
    await visit(page, '/', 'file form');
    await accessible(page, 'file form');
    const formBytes = bytes();
    await page.fill('#title', input.title);
    await page.fill('#body', input.body);
    await page.selectOption('#category', input.category);
    await page.selectOption('#region', input.region);
    if (input.address) await page.fill('#address', input.address);
    await page.check(`input[name=privacy][value=${input.privacy || 'public'}]`);
    if (input.name) await page.fill('#name', input.name);
    await shot(page, 'citizen-file');
    const [resp] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.click('main button[type=submit]')]);
    check(resp.status() === 201, `filing answered ${resp.status()}`);
    const tracking = (await page.textContent('[data-testid=tracking-id]')).trim();
    const token = (await page.textContent('[data-testid=reporter-token]')).trim();
    await accessible(page, 'filed');
    await shot(page, 'citizen-filed');
    const before = bytes();
    await visit(page, `/track/${tracking}`, 'track');
    const trackBytes = bytes() - before;
    await accessible(page, 'track');
    check((await page.textContent('main')).includes(tracking), 'the track page names the tracking id');
    if (input.address) check((await page.textContent('main')).includes(input.address), 'the track page shows the location');
    await shot(page, 'citizen-track');
    return { tracking_id: tracking, reporter_token: token, form_bytes: formBytes, track_bytes: trackBytes };
  },

  // The reporter answers a request for information from the track page with the token.
  async reporter(page) {
    await visit(page, `/track/${input.tracking_id}`, 'track');
    await page.fill('#token', input.reporter_token);
    await page.selectOption('#action', 'provide_info');
    await page.fill('#message', input.message);
    await page.click('main button[type=submit]');
    check((await page.textContent('main')).includes(input.message), 'the answer is in the public history');
    await accessible(page, 'track after answer');
    await shot(page, 'reporter-answer');
    return {};
  },

  // An officer signs in, finds the case in the queue, opens it and responds.
  async officer(page) {
    await signIn(page, input.token);
    await accessible(page, 'queue');
    const row = page.locator('[data-testid=queue-row]', { hasText: input.tracking_id });
    check((await row.count()) === 1, 'the case is in the queue');
    await shot(page, 'officer-queue');
    // A case dispatched to the officer's agency while the queue is open appears without a reload.
    const filed = await page.request.post(`${base}/v1/complaints`, { data: input.another });
    check(filed.status() === 201, `filing over the API answered ${filed.status()}`);
    const another = await filed.json();
    const verified = await page.request.post(`${base}/v1/complaints/${another.id}/actions`, {
      data: { action: 'verify' }, headers: { authorization: `Bearer ${input.admin}` } });
    check(verified.status() === 200, `verify answered ${verified.status()}`);
    await page.locator('[data-testid=queue-row]', { hasText: another.tracking_id }).waitFor({ timeout: 20000 });
    check((await page.textContent('#live')).length > 0, 'the live region says the queue was updated');
    await Promise.all([page.waitForURL(/\/dashboard\/cases\//), row.locator('a').click()]);
    await accessible(page, 'case');
    await shot(page, 'officer-case');
    const form = page.locator('form[data-action=respond]');
    await page.locator('details', { has: form }).locator('summary').click();
    await form.locator('textarea[name=message]').fill(input.message);
    await Promise.all([page.waitForURL(/done=1/), form.locator('button').click()]);
    const main = await page.textContent('main');
    check(main.includes(input.message), 'the response is in the timeline');
    await shot(page, 'officer-responded');
    return { status_text: (await page.textContent('dl.facts')).trim() };
  },

  // A supervisor sees the statistics and the case, and can act on nothing.
  async supervisor(page) {
    await signIn(page, input.token);
    await visit(page, '/dashboard/stats', 'stats');
    await accessible(page, 'stats');
    const total = await page.textContent('[data-testid=stats-total]');
    await shot(page, 'supervisor-stats');
    const csv = await page.request.get(`${base}/dashboard/stats?format=csv`);
    check(csv.status() === 200 && (await csv.text()).startsWith('agency,name,total'), 'the CSV export');
    const month = new Date().toISOString().slice(0, 7);
    await visit(page, `/dashboard/reports?month=${month}`, 'monthly report');
    await accessible(page, 'monthly report');
    const report = await page.textContent('main table');
    await shot(page, 'supervisor-report');
    const reportCsv = await page.request.get(`${base}/dashboard/reports?format=csv&month=${month}`);
    check(reportCsv.status() === 200 && (await reportCsv.text()).includes('total'), 'the monthly report as CSV');
    await visit(page, `/dashboard/cases/${input.case_id}`, 'case');
    check((await page.locator('[data-testid=no-actions]').count()) === 1, 'no actions for a supervisor');
    check((await page.locator('form[data-action]').count()) === 0, 'no action forms for a supervisor');
    await accessible(page, 'supervisor case');
    await shot(page, 'supervisor-case');
    return { total: total.trim(), report };
  },

  // An officer of another agency cannot open the case and does not see it in the queue.
  async outsider(page) {
    await signIn(page, input.token);
    check((await page.locator('[data-testid=queue-row]', { hasText: input.tracking_id }).count()) === 0, 'not in the queue');
    await visit(page, `/dashboard/cases/${input.case_id}`, 'case', { status: 404 });
    await accessible(page, 'refused case');
    await shot(page, 'outsider-refused');
    return {};
  },

  // An officer signs in at the identity provider (its own login and consent pages), comes back
  // signed in as the name the provider gave, and responds to a case of the queue.
  async sso(page) {
    await visit(page, '/dashboard/login', 'sign-in');
    await accessible(page, 'sign-in with single sign-on');
    await shot(page, 'sso-sign-in');
    await Promise.all([page.waitForURL((u) => u.toString().startsWith(input.issuer)), page.click('a[href="/dashboard/login/sso"]')]);
    for (let step = 0; step < 4 && page.url().startsWith(input.issuer); step++) {
      if (await page.locator('input[name=login]').count()) {
        await page.fill('input[name=login]', input.login);
        await page.fill('input[name=password]', 'sandi-apa-saja');
      }
      const at = page.url();
      await Promise.all([page.waitForURL((u) => u.toString() !== at), page.click('button[type=submit]')]);
    }
    await page.waitForURL(`${base}/dashboard`);
    await accessible(page, 'queue after single sign-on');
    const who = (await page.textContent('header strong')).trim();
    const row = page.locator('[data-testid=queue-row]', { hasText: input.tracking_id });
    check((await row.count()) === 1, 'the case is in the queue');
    await shot(page, 'sso-queue');
    await Promise.all([page.waitForURL(/\/dashboard\/cases\//), row.locator('a').click()]);
    const form = page.locator('form[data-action=respond]');
    await page.locator('details', { has: form }).locator('summary').click();
    await form.locator('textarea[name=message]').fill(input.message);
    await Promise.all([page.waitForURL(/done=1/), form.locator('button').click()]);
    return { who };
  },

  // At the desk: an officer records a letter received two days ago; an admin opens the failed webhooks.
  async desk(page) {
    await signIn(page, input.token);
    await visit(page, '/dashboard/intake', 'intake');
    await accessible(page, 'intake');
    await page.check('input[name=channel][value=letter]');
    await page.fill('#received_at', input.received_at);
    await page.fill('#title', input.title);
    await page.fill('#body', input.body);
    await page.selectOption('#category', 'infrastruktur');
    await page.selectOption('#region', '33.74');
    await shot(page, 'desk-intake');
    const [resp] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.click('main button[type=submit]')]);
    check(resp.status() === 201, `intake answered ${resp.status()}`);
    const tracking = (await page.textContent('[data-testid=tracking-id]')).trim();
    await accessible(page, 'intake filed');
    await page.context().clearCookies();
    await signIn(page, input.admin);
    await visit(page, '/dashboard/webhooks', 'failed webhooks');
    await accessible(page, 'failed webhooks');
    return { tracking_id: tracking };
  },

  // Which pages show a case's reporter name: each viewer's page text, reported for the test to judge.
  async identity(page) {
    const seen = {};
    await visit(page, `/track/${input.tracking_id}`, 'track');
    seen.public = (await page.content()).includes(input.name);
    for (const [who, token] of Object.entries(input.tokens)) {
      await page.context().clearCookies();
      await signIn(page, token);
      seen[`${who}_queue`] = (await page.content()).includes(input.name);
      await visit(page, `/dashboard/cases/${input.case_id}`, `${who} case`);
      seen[who] = (await page.content()).includes(input.name);
      await shot(page, `identity-${who}`);
    }
    return { seen };
  },
};

const name = process.argv[2];
const scenario = scenarios[name];
if (!scenario) {
  console.error(`no scenario ${name}; known: ${Object.keys(scenarios).join(', ')}`);
  process.exit(2);
}
const browser = await chromium.launch({ executablePath: process.env.ADUAN_CHROMIUM, args: ['--no-sandbox'] });
try {
  const context = await browser.newContext({ bypassCSP: true, javaScriptEnabled: true, locale: 'id-ID' });
  const page = await context.newPage();
  const found = await scenario(page);
  console.log(JSON.stringify(found));
} catch (e) {
  console.error(e.message);
  process.exitCode = 1;
} finally {
  await browser.close();
}
