// Debian's chromium (playwright-core) against a real `master serve`
// (tests/e2e/web_security_browser.sh starts the processes):
//   evil   a page served from another loopback origin (EVIL_URL) tries to
//          start a job on the dashboard (DASH_PORT, no token in force): fetch
//          with text/plain, fetch with JSON (CORS preflight), an auto-submitted
//          form, sendBeacon, a websocket. The shell then checks no job appeared.
//   token  the page opened with the URL the master printed (?token=..., host
//          replaced by 127.0.0.1) goes live, lists the workers and the jobs,
//          drops the token from the address bar and keeps working after a
//          reload; the same page without the token is refused.
// env: DASH_PORT, EVIL_URL, TOKEN_URL, CHROMIUM, USER_DATA_DIR
import { chromium } from 'playwright-core';
import { fail, openBrowser, stepper } from './browser_lib.mjs';

const mode = process.argv[2];
const { context, page } = await openBrowser();
const step = stepper(context, page);

if (mode === 'evil') {
  const target = `http://127.0.0.1:${process.env.DASH_PORT}`;
  const job = JSON.stringify({ mode: 'train', data: 'train.csv', model: 'evil.txt', out: 'evil.csv' });
  await step('the other origin\'s page loads', () => page.goto(process.env.EVIL_URL, { waitUntil: 'load' }));
  const results = await page.evaluate(async ({ target, job }) => {
    const out = {};
    const settle = (p) => p.then((r) => (r.type === 'opaque' ? 'opaque' : String(r.status)), (e) => 'blocked: ' + e.message);
    out.textPlain = await settle(fetch(target + '/api/jobs', { method: 'POST', mode: 'no-cors', body: job,
                                                              headers: { 'Content-Type': 'text/plain' } }));
    out.json = await settle(fetch(target + '/api/jobs', { method: 'POST', body: job,
                                                         headers: { 'Content-Type': 'application/json' } }));
    out.read = await settle(fetch(target + '/api/jobs'));
    out.beacon = navigator.sendBeacon(target + '/api/jobs', new Blob([job], { type: 'text/plain' }));
    // a form in a frame, enctype text/plain: the body is `{"mode":..."x":"=}` JSON-ish
    const frame = document.createElement('iframe');
    frame.name = 'sink';
    document.body.appendChild(frame);
    const form = document.createElement('form');
    form.method = 'POST'; form.action = target + '/api/jobs'; form.enctype = 'text/plain'; form.target = 'sink';
    const input = document.createElement('input');
    input.name = job.slice(0, -1) + ',"x":"'; input.value = '"}';
    form.appendChild(input);
    document.body.appendChild(form);
    const loaded = new Promise((r) => { frame.onload = r; setTimeout(r, 3000); });
    form.submit();
    await loaded;
    out.ws = await new Promise((resolve) => {
      const ws = new WebSocket(target.replace('http', 'ws') + '/socket.io/?EIO=4&transport=websocket');
      ws.onopen = () => { ws.close(); resolve('open'); };
      ws.onerror = () => resolve('refused');
      setTimeout(() => resolve('timeout'), 5000);
    });
    await new Promise((r) => setTimeout(r, 500)); // the beacon goes out asynchronously
    return out;
  }, { target, job });
  console.log(JSON.stringify(results));
  if (results.json !== undefined && /^\d+$/.test(results.json)) fail(`a cross-origin JSON fetch was let through: ${results.json}`);
  if (/^\d+$/.test(results.read)) fail(`a cross-origin page read /api/jobs: ${results.read}`);
  if (results.ws !== 'refused') fail(`a cross-origin websocket: ${results.ws}`);
  await context.close();
  console.log('evil page done');
} else if (mode === 'token') {
  const url = process.env.TOKEN_URL;
  await step('the page opened with ?token= goes live', async () => {
    await page.goto(url, { waitUntil: 'load' });
    await page.waitForFunction(() => document.getElementById('conn-state').textContent === 'live', null, { timeout: 20000 });
  });
  await step('the token left the address bar', async () => {
    if (page.url().includes('token')) throw new Error(page.url());
  });
  await step('the workers and the job list came through the API and the stream', () => page.waitForFunction(() =>
    document.querySelectorAll('#workers tbody tr').length >= 1 &&
    document.querySelector('#history tbody tr[data-job-id]') !== null, null, { timeout: 20000 }));
  await step('a reload keeps the token for the tab', async () => {
    await page.reload({ waitUntil: 'load' });
    await page.waitForFunction(() => document.getElementById('conn-state').textContent === 'live' &&
      document.querySelector('#history tbody tr[data-job-id]') !== null, null, { timeout: 20000 });
  });
  const fresh = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true,
                                         args: ['--no-sandbox', '--disable-gpu'] });
  const bare = await fresh.newPage();
  await step('the page without the token is refused by the API and the stream', async () => {
    await bare.goto(url.replace(/\?token=.*/, ''), { waitUntil: 'load' });
    await bare.waitForFunction(() => !document.getElementById('conn-banner').classList.contains('hidden') &&
      /refused/.test(document.getElementById('conn-banner').textContent), null, { timeout: 20000 });
    const rows = await bare.evaluate(() => document.querySelectorAll('#history tbody tr[data-job-id]').length);
    if (rows !== 0) throw new Error(`${rows} jobs listed without the token`);
  });
  await fresh.close();
  await context.close();
} else {
  fail('usage: web_security_browser.mjs evil|token');
}
