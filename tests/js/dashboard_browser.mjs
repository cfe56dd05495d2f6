// Debian's chromium, driven by playwright-core, watches a real training job
// (tests/e2e/dashboard_browser.sh starts the master; the workers start once
// this page is open and has written READY_FILE): both workers appear, the
// progress never runs backwards within a phase and reaches 100 %, the page
// shows the accuracy the master printed, a browser opened mid-job sees the
// job, a reload shows it in the history table, and the banner shows once the
// master is stopped. Saves ARTIFACT (tests/artifacts/dashboard.png).
// env: DASH_PORT, MASTER_PID, MASTER_OUT, READY_FILE, CHROMIUM, ARTIFACT, USER_DATA_DIR
import { readFileSync, writeFileSync } from 'node:fs';
import { fail, openBrowser, stepper, watchErrors } from './browser_lib.mjs';

const url = `http://127.0.0.1:${process.env.DASH_PORT}/`;
const { context, page } = await openBrowser({ viewport: { width: 1400, height: 1300 } });
const errors = [];
const watch = (p, who) => watchErrors(p, errors, who);
watch(page, 'page');
const step = stepper(context, page, process.env.ARTIFACT);
const text = async (p, sel) => (await p.textContent(sel)).trim();

// every state of the per-phase bars (name, share shown, text), with the job state
const recordProgress = () => {
  window.ncProgress = [];
  const el = document.getElementById('phases');
  const rec = () => window.ncProgress.push([document.getElementById('job-state').textContent,
    [...el.querySelectorAll('.phase')].map((p) => [p.getAttribute('data-phase'), p.querySelector('.bar').getAttribute('data-frac'),
                                                   p.querySelector('.progress span').textContent])]);
  rec();
  new MutationObserver(rec).observe(el, { childList: true, characterData: true, subtree: true, attributes: true });
};

let jobId;
try {
  await step('page loads before any worker', () => page.goto(url, { waitUntil: 'load' }));
  await step('live connection, no workers, no jobs', () => page.waitForFunction(() =>
    document.getElementById('conn-banner').classList.contains('hidden') &&
    document.getElementById('conn-state').textContent === 'live' &&
    document.querySelectorAll('#workers tbody tr').length === 0 &&
    !document.getElementById('workers-empty').classList.contains('hidden') &&
    document.querySelector('#history tbody').textContent.includes('No jobs yet'),
    null, { timeout: 10000 }));
  await page.evaluate(recordProgress);
  writeFileSync(process.env.READY_FILE, 'ready\n');

  await step('both workers appear', () => page.waitForFunction(() =>
    document.querySelectorAll('#workers tbody tr').length === 2 &&
    document.querySelector('#workers tr[data-name="w1"]') && document.querySelector('#workers tr[data-name="w2"]') &&
    document.getElementById('t-workers').textContent === '2',
    null, { timeout: 30000 }));
  await step('job starts', () => page.waitForFunction(() =>
    /^#\d+ · train · /.test(document.getElementById('job-title').textContent) &&
    ['running', 'done'].includes(document.getElementById('job-state').textContent), null, { timeout: 30000 }));
  jobId = (await text(page, '#job-title')).match(/^#(\d+)/)[1];

  // a second browser that arrives mid-job gets the past from REST and the snapshot
  const late = await context.newPage();
  watch(late, 'late page');
  await step('late browser sees the workers and the job', async () => {
    await late.goto(url, { waitUntil: 'load' });
    await late.waitForFunction((id) =>
      document.querySelectorAll('#workers tbody tr').length === 2 &&
      document.getElementById('job-title').textContent.startsWith('#' + id + ' ') &&
      document.querySelector(`#history tbody tr[data-job-id="${id}"]`) !== null,
      jobId, { timeout: 10000 });
  });
  await late.close();

  const allDone = () => document.getElementById('job-state').textContent === 'done' &&
    document.querySelectorAll('#phases .phase').length > 0 &&
    [...document.querySelectorAll('#phases .bar')].every((b) => b.classList.contains('done') && b.getAttribute('data-frac') === '1.0000');
  await step('progress reaches 100 %', () => page.waitForFunction(allDone, null, { timeout: 90000 }));
  await step('progress never runs backwards: no bar shrinks, no phase goes away', async () => {
    const seen = await page.evaluate(() => window.ncProgress);
    const texts = new Set();
    let last = [];
    for (const [, bars] of seen) {
      for (const [name, frac, t] of bars) texts.add(name + ': ' + t);
      last.forEach(([name, frac], k) => {
        if (!bars[k] || bars[k][0] !== name) throw new Error(`phase ${name} gone or moved: ${JSON.stringify(bars)}`);
        if (frac !== '' && bars[k][1] !== '' && Number(bars[k][1]) < Number(frac)) throw new Error(`${name} from ${frac} to ${bars[k][1]}`);
      });
      last = bars;
    }
    console.log('progress texts: ' + [...texts].slice(0, 40).join(' | '));
    if (![...texts].some((t) => /^training: .*(iteration [1-9]|\b[1-9][\d,]* iterations)/.test(t)))
      throw new Error('the training phase never showed its iteration');
  });
  await step('accuracy is the one the master printed', async () => {
    const m = readFileSync(process.env.MASTER_OUT, 'utf8').match(/Training accuracy = ([\d.]+)%/);
    if (!m) throw new Error('no accuracy line in the master output');
    const acc = await text(page, '#job-acc');
    if (acc !== Number(m[1]).toFixed(2) + ' %') throw new Error(`page shows ${acc}, master printed ${m[1]} %`);
  });
  await step('timeline has both workers, loss chart drawn', () => page.waitForFunction(() =>
    document.querySelectorAll('#timeline .tl-row').length === 2 &&
    document.querySelectorAll('#timeline .tl-task').length > 0 &&
    document.querySelector('#chart-loss canvas') !== null &&
    document.querySelector('#log').textContent.includes('done, training accuracy'), null, { timeout: 5000 }));

  await step('reload', () => page.reload({ waitUntil: 'load' }));
  await step('job in the history table after reload', () => page.waitForFunction((id) => {
    const tr = document.querySelector(`#history tbody tr[data-job-id="${id}"]`);
    return tr && tr.textContent.includes('done') && tr.textContent.includes('train.csv') &&
      tr.textContent.includes(document.getElementById('job-acc').textContent) &&
      document.getElementById('job-acc').textContent.endsWith(' %');
  }, jobId, { timeout: 10000 }));
  await step('job panel, workers, timeline and log after reload', () => page.waitForFunction(() =>
    document.getElementById('job-state').textContent === 'done' &&
    [...document.querySelectorAll('#phases .bar')].every((b) => b.classList.contains('done')) &&
    document.querySelectorAll('#workers tbody tr').length === 2 &&
    document.querySelectorAll('#timeline .tl-row').length === 2 &&
    document.querySelector('#log').textContent.includes('joined'), null, { timeout: 10000 }));
  await step('charts drawn', () => page.waitForFunction(() =>
    document.querySelectorAll('.uplot').length === 3, null, { timeout: 5000 }));
  await page.waitForTimeout(2500); // a few live chart points for the screenshot
  await step('screenshot', () => page.screenshot({ path: process.env.ARTIFACT, fullPage: true }));

  process.kill(Number(process.env.MASTER_PID), 'SIGTERM');
  await step('banner when the master stops', () => page.waitForFunction(() =>
    !document.getElementById('conn-banner').classList.contains('hidden') &&
    document.getElementById('conn-state').textContent === 'offline', null, { timeout: 10000 }));
  // 503: GET /api/files of a master whose dashboard.files is no folder (the form says so)
  const real = errors.filter((e) => !/ERR_CONNECTION_REFUSED|WebSocket connection|status of 503/.test(e));
  if (real.length) fail('page errors: ' + real.join(' | '));
} finally {
  await context.close();
}
console.log(`ok: job ${jobId}`);
