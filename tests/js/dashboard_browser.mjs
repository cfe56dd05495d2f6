// Debian's chromium, driven by playwright-core, opens the dashboard while a
// (scripted) job runs: both workers appear, the progress reaches 100 %, a
// reload shows the job in the history table, and a dropped connection shows
// the banner. Saves tests/artifacts/dashboard.png.
// env: FEED, NC_CONFIG, CHROMIUM, ARTIFACT, USER_DATA_DIR
import { chromium } from 'playwright-core';
import { startFeed, fail } from './feed.mjs';

const feed = startFeed(['--tasks', '12', '--task-ms', '350']);
const port = await feed.ready;
const url = `http://127.0.0.1:${port}/`;
const context = await chromium.launchPersistentContext(process.env.USER_DATA_DIR, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
         '--disable-sync', '--no-first-run'],
  viewport: { width: 1400, height: 1300 },
});
const page = context.pages()[0] || await context.newPage();
const errors = [];
page.on('pageerror', (e) => errors.push(e.message));
page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });

async function step(name, fn) {
  const t = Date.now();
  try { await fn(); } catch (e) {
    await page.screenshot({ path: process.env.ARTIFACT.replace(/\.png$/, '-failed.png'), fullPage: true }).catch(() => {});
    fail(`${name}: ${e.message}`);
  }
  console.log(`${name}: ok (${Date.now() - t} ms)`);
}

try {
  await step('page loads', () => page.goto(url, { waitUntil: 'load' }));
  await step('both workers appear', () => page.waitForFunction(() =>
    document.querySelectorAll('#workers tbody tr').length === 2 &&
    document.querySelector('#workers tr[data-name="w1"]') && document.querySelector('#workers tr[data-name="w2"]'),
    null, { timeout: 5000 }));
  await step('live connection', () => page.waitForFunction(() =>
    document.getElementById('conn-banner').classList.contains('hidden') &&
    document.getElementById('conn-state').textContent === 'live', null, { timeout: 5000 }));
  feed.send('go');
  await step('progress moves', () => page.waitForFunction(() => {
    const t = document.getElementById('progress-text').textContent;
    return parseInt(t, 10) > 0 && parseInt(t, 10) < 100;
  }, null, { timeout: 10000, polling: 50 }));
  await step('progress reaches 100 %', () => page.waitForFunction(() =>
    document.getElementById('progress-text').textContent.trim() === '100 %' &&
    document.getElementById('job-state').textContent === 'done', null, { timeout: 30000 }));
  await step('accuracy shown', async () => {
    const acc = await page.textContent('#job-acc');
    if (acc.trim() !== '87.65 %') throw new Error('accuracy shows ' + acc);
  });

  await step('reload', () => page.reload({ waitUntil: 'load' }));
  await step('job in history after reload', () => page.waitForFunction(() => {
    const tr = document.querySelector('#history tbody tr[data-job-id="1"]');
    return tr && tr.textContent.includes('done') && tr.textContent.includes('87.65 %');
  }, null, { timeout: 5000 }));
  await step('job panel, timeline, failed tasks and loss after reload', () => page.waitForFunction(() =>
    document.getElementById('progress-text').textContent.trim() === '100 %' &&
    document.querySelectorAll('#timeline .tl-row').length === 2 &&
    document.querySelectorAll('#timeline .tl-task.retry').length === 1 &&
    document.querySelector('#failed tbody').textContent.includes('worker stopped answering') &&
    document.querySelector('#chart-loss canvas') !== null &&
    document.querySelector('#log').textContent.includes('job 1 done'),
    null, { timeout: 5000 }));
  await step('charts have history', () => page.waitForFunction(() =>
    document.querySelectorAll('.uplot').length === 3, null, { timeout: 5000 }));
  await page.waitForTimeout(1500); // a few live chart points for the screenshot
  await step('screenshot', () => page.screenshot({ path: process.env.ARTIFACT, fullPage: true }));

  const { code } = await feed.quit();
  if (code !== 0) fail(`dashfeed exited with ${code} (sanitizer report above?)`);
  await step('banner when the connection drops', () => page.waitForFunction(() =>
    !document.getElementById('conn-banner').classList.contains('hidden'), null, { timeout: 10000 }));
  const real = errors.filter((e) => !/ERR_CONNECTION_REFUSED|WebSocket connection/.test(e));
  if (real.length) fail('page errors: ' + real.join(' | '));
} finally {
  await context.close();
}
console.log('ok');
