// Debian's chromium (playwright-core) against a real `master serve` with 2
// real workers (tests/e2e/dashboard_page.sh started them): the page starts
// jobs from its form, shows forward-only progress, cancels jobs from the
// queue, downloads a model, prefills the form from a run, survives a reload,
// fits 400 px and follows the dark colour scheme. Every check compares the
// page with the REST answers (fetched here with the token) or the run folders.
// env: DASH_PORT, TOKEN, RUNS, FILES, CHROMIUM, USER_DATA_DIR, ARTIFACT,
//      DOWNLOADS, MODEL_COPY, SHOTS (screenshot folder)
import { readFileSync } from 'node:fs';
import { base, eq, fail, openBrowser, refuseDialogs, rest, stepper, watchErrors } from './browser_lib.mjs';

const { context, page } = await openBrowser({
  acceptDownloads: true, downloadsPath: process.env.DOWNLOADS, colorScheme: 'light',
  viewport: { width: 1400, height: 1000 },
});
const errors = [];
watchErrors(page, errors);
refuseDialogs(page, errors); // a file name or column that injected markup would show here
const step = stepper(context, page, process.env.ARTIFACT);
const val = (sel) => page.$eval(sel, (e) => e.value);
const txt = (sel) => page.$eval(sel, (e) => e.textContent);
const shot = (name) => page.screenshot({ path: `${process.env.SHOTS}/${name}.png`, fullPage: true });
const pct = (v) => (v == null ? '–' : (100 * v).toFixed(2) + ' %');

// Every state of the job panel while a job runs: its title, state, the bars
// (name, share, text) and the workers' badges; recorded on each DOM change.
const record = () => {
  window.ncSeen = [];
  const rec = () => window.ncSeen.push({
    title: document.getElementById('job-title').textContent,
    state: document.getElementById('job-state').textContent,
    bars: [...document.querySelectorAll('#phases .phase')].map((p) => [p.getAttribute('data-phase'),
      p.querySelector('.bar').getAttribute('data-frac'), p.querySelector('.progress span').textContent]),
    workers: [...document.querySelectorAll('#workers tbody .state')].map((s) => s.textContent),
    eta: document.getElementById('job-eta').textContent + ' ' + document.getElementById('t-tasks-sub').textContent,
  });
  rec();
  for (const id of ['phases', 'job-state', 'workers', 'job-eta', 't-tasks-sub'])
    new MutationObserver(rec).observe(document.getElementById(id), { childList: true, characterData: true, subtree: true, attributes: true });
};

const files = await rest('/api/files');
const train = files.find((f) => f.path === 'train.csv');
if (!train) fail('GET /api/files does not list train.csv: ' + JSON.stringify(files));
let jobA, jobB, jobC, jobD;

await step('the page with ?token= lists the data files', async () => {
  await page.goto(`${base}/?token=${process.env.TOKEN}`, { waitUntil: 'load' });
  await page.waitForFunction(() => document.getElementById('conn-state').textContent === 'live' &&
    document.querySelectorAll('#nj-data option').length >= 3, null, { timeout: 20000 });
  const opts = await page.$$eval('#nj-data option', (os) => os.map((o) => o.value));
  eq([...opts].sort(), files.map((f) => f.path).sort(), 'data options');
});

await step('file names and header columns with markup are text', async () => {
  const odd = files.find((f) => f.path.startsWith('odd'));
  await page.selectOption('#nj-data', odd.path);
  const labels = await page.$$eval('#nj-label option', (os) => os.map((o) => o.textContent));
  if (!labels.includes('f<b>1</b>') || !labels.includes('<img src=x onerror=alert(1)>')) throw new Error('label options ' + labels);
  if (!(await txt('#nj-cmd')).includes("'odd<img src=x onerror=alert(1)>.csv'")) throw new Error('command ' + await txt('#nj-cmd'));
  const marks = await page.evaluate(() => document.querySelectorAll('#new-job b, #new-job i, img').length);
  if (marks) throw new Error(`${marks} elements made of a file name or a column`);
});

await step('the form: suggested columns preselected, the command line follows the fields', async () => {
  await page.selectOption('#nj-data', 'train.csv');
  eq(await val('#nj-label'), train.label_suggest || '', 'label preselected');
  eq(await val('#nj-id'), train.id_suggest || '', 'id preselected');
  const cols = await page.$$eval('#nj-label option', (os) => os.map((o) => o.value).filter(Boolean));
  eq(cols, train.columns, 'label choices (the header)');
  await page.fill('#nj-C', '2');
  const want = ['bin/master train --data train.csv', train.label_suggest ? ` --label ${train.label_suggest}` : '',
                train.id_suggest ? ` --id ${train.id_suggest}` : '', ' -C 2'].join('');
  eq(await txt('#nj-cmd'), want, 'command line');
  await page.selectOption('#nj-solver', '2');
  await page.fill('#nj-eps', '0.001');
  if (!(await txt('#nj-cmd')).endsWith(' --solver 2 -C 2 --eps 0.001')) throw new Error(await txt('#nj-cmd'));
  await page.selectOption('#nj-solver', '');
  await page.fill('#nj-eps', '');
  eq(await txt('#nj-cmd'), want, 'command line after clearing');
});

await step('a bad value is refused in the form, a bad path by the master, both inline', async () => {
  await page.fill('#nj-C', '-1');
  await page.waitForFunction(() => /C must be a positive number/.test(document.getElementById('nj-error').textContent) &&
    document.getElementById('nj-submit').disabled, null, { timeout: 2000 });
  await page.fill('#nj-C', '2');
  await page.fill('#nj-model', '../outside.txt');
  await page.click('#nj-submit');
  await page.waitForFunction(() => /^Not started: ./.test(document.getElementById('nj-error').textContent) &&
    !document.getElementById('nj-error').classList.contains('hidden'), null, { timeout: 10000 });
  await page.fill('#nj-model', '');
  const jobs = await rest('/api/jobs');
  if (jobs.length) throw new Error('a refused job was queued: ' + JSON.stringify(jobs));
});

await step('start a training job from the form', async () => {
  await page.evaluate(record);
  await page.click('#nj-submit');
  await page.waitForFunction(() => /^job #\d+ submitted$/.test(document.getElementById('nj-note').textContent), null, { timeout: 10000 });
  jobA = Number((await txt('#nj-note')).match(/#(\d+)/)[1]);
  const j = await rest(`/api/jobs/${jobA}`);
  eq([j.mode, j.params && j.params.C], ['train', 2], 'the job the master got');
});

await step('progress moves forward only, workers show busy, the job ends done', async () => {
  await page.waitForFunction((id) => document.getElementById('job-title').textContent.startsWith(`#${id} `) &&
    document.getElementById('job-state').textContent === 'done', jobA, { timeout: 120000 });
  const seen = (await page.evaluate(() => window.ncSeen)).filter((s) => s.title.startsWith(`#${jobA} `));
  let last = [];
  const moving = new Set();
  for (const s of seen) {
    last.forEach(([name, frac], k) => {
      const now = s.bars[k];
      if (!now || now[0] !== name) throw new Error(`phase ${name} gone or moved: ${JSON.stringify(s.bars)}`);
      if (frac !== '' && (now[1] === '' || Number(now[1]) < Number(frac))) throw new Error(`${name}: ${frac} then ${now[1]}`);
    });
    if (s.state === 'running') moving.add(JSON.stringify(s.bars));
    last = s.bars;
  }
  console.log(`  ${seen.length} samples, ${moving.size} distinct while running; phases: ` +
    last.map((b) => b[0]).join(', ') + '; e.g. ' + [...moving].slice(-3).join(' '));
  if (moving.size < 3) throw new Error(`the bars took only ${moving.size} states while the job ran`);
  if (!last.every((b) => b[1] === '1.0000')) throw new Error('done, but bars ' + JSON.stringify(last));
  if (!seen.some((s) => s.state === 'running' && s.workers.includes('busy'))) throw new Error('no worker shown busy while the job ran');
  const zero = seen.find((s) => /(^|[^\d.])0s\b|~0/.test(s.eta));
  if (zero) throw new Error('an ETA of nothing: ' + zero.eta);
});

await step('history: training and test accuracy in their own columns, duration', async () => {
  const j = await rest(`/api/jobs/${jobA}`);
  const acc = j.train_accuracy != null ? j.train_accuracy : j.accuracy;
  if (acc == null) throw new Error('no training accuracy over REST');
  const row = (col) => txt(`#history tr[data-job-id="${jobA}"] td[data-col="${col}"]`);
  eq(await row('train-acc'), pct(acc), 'training accuracy column');
  eq(await row('test-acc'), '–', 'test accuracy column of a training job');
  const dur = await row('duration');
  if (!/^(\d+ ms|\d+\.\d s|\d+m \d+s)$/.test(dur)) throw new Error('duration ' + dur);
  if (!(await txt('#job-acc-label')).startsWith('Training accuracy')) throw new Error('job panel accuracy label');
  // the job wrote its predictions into the files root: the list has them now, the form kept its choice
  await page.waitForFunction(() => document.querySelector('#nj-data option[value="train-pred.csv"]') !== null, null, { timeout: 5000 });
  eq([await val('#nj-data'), await val('#nj-label'), await val('#nj-C')], ['train.csv', train.label_suggest || '', '2'], 'form after the reload of the list');
});

await step('two more jobs queue; both are cancelled from the queue and end "cancelled"', async () => {
  await page.fill('#nj-C', '4');
  await page.click('#nj-submit');
  await page.waitForFunction((a) => { const m = /^job #(\d+) submitted$/.exec(document.getElementById('nj-note').textContent); return m && Number(m[1]) > a; },
    jobA, { timeout: 10000 });
  jobB = Number((await txt('#nj-note')).match(/#(\d+)/)[1]);
  await page.fill('#nj-C', '8');
  await page.click('#nj-submit');
  await page.waitForFunction((b) => { const m = /^job #(\d+) submitted$/.exec(document.getElementById('nj-note').textContent); return m && Number(m[1]) > b; },
    jobB, { timeout: 10000 });
  jobC = Number((await txt('#nj-note')).match(/#(\d+)/)[1]);
  // B runs, C waits behind it: both in the queue, oldest first
  await page.waitForFunction(([b, c]) => {
    const rows = [...document.querySelectorAll('#queue tbody tr[data-job-id]')];
    return rows.length === 2 && rows[0].getAttribute('data-job-id') === String(b) && rows[1].getAttribute('data-job-id') === String(c) &&
      rows[0].querySelector('.state').textContent === 'running' && rows[1].querySelector('.state').textContent === 'queued';
  }, [jobB, jobC], { timeout: 30000 });
  // B's bars show how far it is: the picture for the README
  await page.waitForFunction(() => [...document.querySelectorAll('#phases .phase[data-phase="training"] .bar')].some((b) =>
    Number(b.getAttribute('data-frac')) > 0.3), null, { timeout: 20000 });
  await page.waitForTimeout(800);
  await shot('dashboard-1400');
  await page.click(`#queue button.cancel[data-id="${jobC}"]`);
  await page.waitForFunction((c) => { const s = document.querySelector(`#history tr[data-job-id="${c}"] .state`); return s && s.textContent === 'cancelled'; },
    jobC, { timeout: 10000 });
  // B has been running a while: a cancel mid-job
  await page.waitForFunction(() => document.querySelector('#phases .bar[data-frac]') !== null, null, { timeout: 10000 });
  await page.click(`#queue button.cancel[data-id="${jobB}"]`);
  await page.waitForFunction((b) => { const s = document.querySelector(`#history tr[data-job-id="${b}"] .state`); return s && s.textContent === 'cancelled'; },
    jobB, { timeout: 10000 });
  await page.waitForFunction(() => document.querySelectorAll('#queue tbody tr[data-job-id]').length === 0, null, { timeout: 5000 });
  // the master has answered "cancelled"; the job ends (workers stop) within about a second
  for (const id of [jobB, jobC]) {
    let st;
    for (let i = 0; i < 50 && (st = (await rest(`/api/jobs/${id}`)).state) !== 'cancelled'; i++) await page.waitForTimeout(100);
    eq(st, 'cancelled', `job ${id} over REST 5 s after its cancel`);
  }
  await page.waitForFunction((ids) => ids.every((id) => /job \d+ cancelled/.test(document.getElementById('log').textContent) &&
    document.getElementById('log').textContent.includes(`job ${id} cancelled`)), [jobB, jobC], { timeout: 5000 });
  const log = await txt('#log');
  if (new RegExp(`job (${jobB}|${jobC}) failed`).test(log)) throw new Error('a cancelled job was logged failed');
});

await step('a test job from the form: its accuracy in the test column', async () => {
  await page.selectOption('#nj-mode', 'test');
  await page.selectOption('#nj-data', 'test.csv');
  await page.fill('#nj-C', '');
  if (!(await txt('#nj-cmd')).startsWith('bin/master test --data test.csv')) throw new Error(await txt('#nj-cmd'));
  await page.click('#nj-submit');
  await page.waitForFunction((c) => { const m = /^job #(\d+) submitted$/.exec(document.getElementById('nj-note').textContent); return m && Number(m[1]) > c; },
    jobC, { timeout: 10000 });
  jobD = Number((await txt('#nj-note')).match(/#(\d+)/)[1]);
  await page.waitForFunction((d) => { const s = document.querySelector(`#history tr[data-job-id="${d}"] .state`); return s && s.textContent === 'done'; },
    jobD, { timeout: 60000 });
  const j = await rest(`/api/jobs/${jobD}`);
  const acc = j.test_accuracy != null ? j.test_accuracy : j.accuracy;
  if (acc == null) throw new Error('no test accuracy over REST');
  await page.waitForFunction(([d, want]) => document.querySelector(`#history tr[data-job-id="${d}"] td[data-col="test-acc"]`).textContent === want,
    [jobD, pct(acc)], { timeout: 5000 });
  eq(await txt(`#history tr[data-job-id="${jobD}"] td[data-col="train-acc"]`), '–', 'training accuracy of a test job');
  if (!(await txt('#job-acc-label')).startsWith('Test accuracy')) throw new Error('job panel accuracy label ' + await txt('#job-acc-label'));
  await page.waitForFunction((d) => document.getElementById('log').textContent.includes(`job ${d} done, test accuracy `), jobD, { timeout: 5000 });
  await page.selectOption('#nj-mode', 'train');
});

await step('the run view downloads the model (bytes of the run folder)', async () => {
  await page.evaluate((a) => { window.location.hash = 'run=' + a; }, jobA);
  await page.waitForFunction((a) => document.getElementById('run-title').textContent.startsWith(`#${a} · train`) &&
    document.querySelector('#run-files a[data-file="model.txt"]') !== null, jobA, { timeout: 10000 });
  const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 10000 }),
                                  page.click('#run-files a[data-file="model.txt"]')]);
  await dl.saveAs(process.env.MODEL_COPY);
  const got = readFileSync(process.env.MODEL_COPY, 'utf8'), want = readFileSync(`${process.env.RUNS}/${jobA}/model.txt`, 'utf8');
  if (got !== want || !got.startsWith('solver_type')) throw new Error(`downloaded ${got.length} bytes, want ${want.length}`);
});

await step('"Run again with changes" prefills the form from the run', async () => {
  await page.fill('#nj-C', '');
  await page.click('#run-again');
  eq([await val('#nj-mode'), await val('#nj-data'), await val('#nj-C')], ['train', 'train.csv', '2'], 'mode, data, C');
  if (!(await txt('#nj-cmd')).startsWith('bin/master train --data train.csv ')) throw new Error(await txt('#nj-cmd'));
  if (!/ -C 2( |$)/.test(await txt('#nj-cmd'))) throw new Error(await txt('#nj-cmd'));
});

await step('reload: the four jobs, their states', async () => {
  await page.reload({ waitUntil: 'load' });
  await page.waitForFunction((ids) => ids.every((id) => document.querySelector(`#history tr[data-job-id="${id}"]`)),
    [jobA, jobB, jobC, jobD], { timeout: 10000 });
  const st = await page.$$eval('#history tbody tr[data-job-id]', (trs) => trs.map((tr) => [Number(tr.getAttribute('data-job-id')),
    tr.querySelector('.state').textContent]));
  eq(st, [[jobD, 'done'], [jobC, 'cancelled'], [jobB, 'cancelled'], [jobA, 'done']], 'history after reload');
  // the log from the snapshot names each accuracy by its job's mode
  await page.waitForFunction(([a, d]) => { const t = document.getElementById('log').textContent;
    return t.includes(`job ${a} done, training accuracy `) && t.includes(`job ${d} done, test accuracy `); }, [jobA, jobD], { timeout: 5000 });
  // durations as the master measured them: under a second in ms
  for (const id of [jobA, jobB, jobC, jobD]) {
    const j = await rest(`/api/jobs/${id}`), ms = j.duration_ms;
    // (a job cancelled in the queue never ran: no duration)
    if (ms == null && j.state === 'done') throw new Error(`job ${id} done but has no duration_ms over REST`);
    const want = ms == null ? '–' : ms < 1000 ? `${ms} ms` : ms < 60000 ? `${(ms / 1000).toFixed(1)} s` : null;
    const got = await txt(`#history tr[data-job-id="${id}"] td[data-col="duration"]`);
    if (want ? got !== want : !/^\d+m \d+s$/.test(got)) throw new Error(`job ${id} lasted ${ms} ms, the page says ${got}`);
  }
});

await step('400 px: no page wider than the viewport, tables scroll in their cards, long errors wrap', async () => {
  await page.setViewportSize({ width: 400, height: 900 });
  const long = 'bad input in /very/long/path/' + 'x'.repeat(600) + ' and more words '.repeat(40);
  const fake = { ...(await rest(`/api/jobs/${jobA}`)), id: 999, state: 'failed', error: long };
  await page.route('**/api/jobs/999', (r) => r.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(fake) }));
  await page.evaluate(() => { window.location.hash = 'run=999'; });
  await page.waitForFunction(() => document.getElementById('run-error').textContent.length > 600, null, { timeout: 5000 });
  await page.waitForTimeout(300);
  const box = await page.evaluate(() => ({
    doc: document.documentElement.scrollWidth, body: document.body.scrollWidth, inner: window.innerWidth,
    wide: [...document.querySelectorAll('*')].filter((e) => e.getBoundingClientRect().right > window.innerWidth + 0.5 &&
      !e.closest('.table-wrap, .cm-wrap')).slice(0, 5).map((e) => e.tagName + '#' + e.id + '.' + e.className),
    hist: (() => { const w = document.getElementById('history').parentNode; return [w.className, w.scrollWidth, w.clientWidth]; })(),
  }));
  if (box.doc > box.inner || box.body > box.inner) throw new Error(`page ${box.doc}/${box.body} px wide in a ${box.inner} px viewport: ${box.wide}`);
  if (box.wide.length) throw new Error('elements past the right edge: ' + box.wide);
  if (box.hist[0] !== 'table-wrap' || !(box.hist[1] > box.hist[2])) throw new Error('history table does not scroll in its card: ' + box.hist);
  await shot('dashboard-400-run');
  await page.unroute('**/api/jobs/999');
  await page.evaluate(() => { window.location.hash = ''; });
  await page.waitForFunction(() => document.getElementById('run-view').classList.contains('hidden'), null, { timeout: 5000 });
  await page.waitForTimeout(300);
  await page.selectOption('#nj-data', 'train.csv');
  const w = await page.evaluate(() => document.documentElement.scrollWidth);
  if (w > 400) throw new Error(`main page ${w} px wide`);
  await shot('dashboard-400');
});

await step('dark mode follows prefers-color-scheme', async () => {
  await page.setViewportSize({ width: 1400, height: 1000 });
  const light = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.reload({ waitUntil: 'load' });
  await page.waitForFunction((a) => document.querySelector(`#history tr[data-job-id="${a}"]`) !== null &&
    document.querySelectorAll('.uplot').length === 3, jobA, { timeout: 10000 });
  const dark = await page.evaluate(() => [getComputedStyle(document.body).backgroundColor,
    getComputedStyle(document.querySelector('.panel')).backgroundColor, getComputedStyle(document.body).color]);
  const lum = (c) => c.match(/\d+/g).slice(0, 3).map(Number).reduce((a, b) => a + b, 0) / 3;
  if (!(lum(light) > 200 && lum(dark[0]) < 60 && lum(dark[1]) < 60 && lum(dark[2]) > 180)) throw new Error(`light ${light}, dark ${dark}`);
  await page.selectOption('#nj-data', 'train.csv');
  await page.waitForTimeout(1500);
  await shot('dashboard-dark');
});

await context.close();
const real = errors.filter((e) => !/ERR_CONNECTION_REFUSED|WebSocket connection/.test(e) &&
  !/status of 40[03]/.test(e)); // the refused job's answer and the 999 route's neighbours
if (real.length) fail('page errors: ' + real.join(' | '));
console.log(`ok: jobs ${jobA} (train, done), ${jobB}, ${jobC} (cancelled), ${jobD} (test, done)`);
