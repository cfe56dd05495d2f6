// Debian's chromium (playwright-core) against a real `master serve` holding
// runs 1..4 (tests/e2e/dashboard_runview.sh made them): 1, 2 train --cv 3
// (solver 0 at C 2, solver 2 at C 0.25), 3 train, 4 test of run 3's model.
// The page is opened with ?token=; every check compares the page with the
// REST answers (fetched here with the token) or the run folders on disk.
// env: DASH_PORT, TOKEN, RUNS, CHROMIUM, USER_DATA_DIR, ARTIFACT, DOWNLOADS, CV_OUT
import { readFileSync } from 'node:fs';
import { base, eq, fail, openBrowser, refuseDialogs, rest, stepper, watchErrors } from './browser_lib.mjs';

const run4 = await rest('/api/jobs/4');
if (!run4.metrics || !run4.metrics.confusion) fail('run 4 has no confusion matrix over REST');

const { context, page } = await openBrowser({
  acceptDownloads: true, downloadsPath: process.env.DOWNLOADS, viewport: { width: 1400, height: 1300 },
});
const errors = [];
watchErrors(page, errors);
refuseDialogs(page, errors); // a label that injected markup would show here
const step = stepper(context, page, process.env.ARTIFACT);

await step('the page with ?token= lists the four runs', async () => {
  await page.goto(`${base}/?token=${process.env.TOKEN}`, { waitUntil: 'load' });
  await page.waitForFunction(() => document.querySelectorAll('#history tbody tr[data-job-id]').length === 4,
    null, { timeout: 20000 });
});

await step('clicking run 4 opens its view (#run=4)', async () => {
  await page.click('#history tbody tr[data-job-id="4"] td:nth-child(3)');
  await page.waitForFunction(() => !document.getElementById('run-view').classList.contains('hidden') &&
    document.getElementById('run-title').textContent.startsWith('#4 · test') &&
    document.querySelectorAll('#run-confusion td[data-count]').length > 0, null, { timeout: 10000 });
  if (!page.url().endsWith('#run=4')) throw new Error('address ' + page.url());
});

await step('heatmap cells are the confusion counts, labels on both axes', async () => {
  const cm = run4.metrics.confusion;
  const got = await page.evaluate(() => ({
    cols: [...document.querySelectorAll('#run-confusion thead th.col')].map((th) => th.textContent),
    rows: [...document.querySelectorAll('#run-confusion tbody th.row')].map((th) => th.textContent),
    cells: [...document.querySelectorAll('#run-confusion tbody tr')].map((tr) =>
      [...tr.querySelectorAll('td')].map((td) => Number(td.textContent))),
    shades: [...document.querySelectorAll('#run-confusion tbody tr')].map((tr) =>
      [...tr.querySelectorAll('td')].map((td) => td.style.background)),
  }));
  eq(got.cols, cm.labels, 'column labels');
  eq(got.rows, cm.labels, 'row labels');
  eq(got.cells, cm.matrix, 'cells');
  if (!got.cols.includes('<b>bee</b>') || !got.cols.includes('cat "c"')) throw new Error('labels ' + got.cols);
  // the diagonal is the darkest cell of each row (the model is far better than chance)
  got.shades.forEach((row, i) => {
    const a = row.map((s) => Number((s.match(/rgba\([^)]*,\s*([\d.]+)\)/) || [0, 0])[1]));
    if (Math.max(...a) !== a[i] || a[i] <= 0) throw new Error(`row ${i} shades ${row}`);
  });
});

await step('per-class table is the metrics', async () => {
  const rows = await page.$$eval('#run-classes tbody tr', (trs) => trs.map((tr) =>
    [...tr.querySelectorAll('td')].map((td) => td.textContent)));
  const want = run4.metrics.classes.map((c) => [c.label, c.precision.toFixed(4), c.recall.toFixed(4),
                                                c.f1.toFixed(4), String(c.support)]);
  eq(rows, want, 'per-class rows');
  const facts = await page.textContent('#run-facts');
  if (!facts.includes(`Accuracy: ${(100 * run4.metrics.accuracy).toFixed(2)} %`)) throw new Error(facts);
  if (!facts.includes(`Macro F1: ${run4.metrics.macro_f1.toFixed(4)}`)) throw new Error(facts);
  const model = await page.textContent('#run-params tr[data-key="model"] td:nth-child(2)');
  if (model !== run4.params.model) throw new Error(`params model ${model}`);
});

await step('labels and paths with HTML are text, not markup', async () => {
  const n = await page.evaluate(() => document.querySelectorAll('#run-view b').length -
    document.querySelectorAll('#run-facts b').length);
  if (n !== 0) throw new Error(`${n} <b> elements in the run view besides the facts`);
  if (!run4.params.data.endsWith('/test<img src=x onerror=alert(1)>.csv')) throw new Error('data ' + run4.params.data);
  const data = await page.textContent('#run-params tr[data-key="data"] td:nth-child(2)');
  if (data !== run4.params.data) throw new Error(`params data ${data}`);
  if (!(await page.textContent('#run-title')).includes(run4.params.data)) throw new Error('title without the data path');
  const imgs = await page.evaluate(() => document.querySelectorAll('img').length);
  if (imgs) throw new Error(`${imgs} <img> elements on the page`);
  const cell = await page.textContent('#run-classes tbody tr:nth-child(1) td:nth-child(1)');
  if (!['ant', '<b>bee</b>', 'cat "c"', "it's"].includes(cell)) throw new Error(cell);
});

await step('a test run offers no model, the CV section is absent', async () => {
  const files = await page.$$eval('#run-files a', (as) => as.map((a) => a.textContent));
  eq(files, ['params.json', 'run.json', 'job.log', 'metrics.json', 'submission.csv'], 'run 4 files');
  if (!(await page.evaluate(() => document.getElementById('run-cv').classList.contains('hidden'))))
    throw new Error('CV section shown for a test run');
});

await step('run 3: the model.txt link downloads the run\'s model (token in a header)', async () => {
  await page.click('#history tbody tr[data-job-id="3"] td:nth-child(2)');
  await page.waitForFunction(() => document.getElementById('run-title').textContent.startsWith('#3 · train') &&
    document.querySelector('#run-files a[data-file="model.txt"]') !== null, null, { timeout: 10000 });
  const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 10000 }),
                                  page.click('#run-files a[data-file="model.txt"]')]);
  const path = await dl.path();
  const got = readFileSync(path, 'utf8'), want = readFileSync(`${process.env.RUNS}/3/model.txt`, 'utf8');
  if (got !== want || !got.startsWith('solver_type')) throw new Error(`downloaded ${got.length} bytes, want ${want.length}`);
  if (dl.suggestedFilename() !== 'run3-model.txt') throw new Error('file name ' + dl.suggestedFilename());
  await page.waitForTimeout(500);
  const cv = await page.evaluate(() => document.getElementById('run-cv').classList.contains('hidden'));
  if (!cv) throw new Error('CV section shown for a run without --cv');
});

await step('a missing file says so beside its link', async () => {
  // a name the run does not keep: the page asks the same route and shows the 404
  await page.evaluate(() => {
    const li = document.querySelector('#run-files li');
    const a = li.querySelector('a');
    a.setAttribute('href', a.getAttribute('href').replace(/[^/]*$/, 'export.svm'));
    a.setAttribute('data-file', 'export.svm');
  });
  await page.click('#run-files li:first-child a');
  await page.waitForFunction(() => document.querySelector('#run-files li:first-child .note').textContent === 'not kept for this run',
    null, { timeout: 5000 });
});

await step('run 1: the CV curve has both --cv runs, one line per solver', async () => {
  await page.evaluate(() => { window.location.hash = 'run=1'; });
  await page.waitForFunction(() => !document.getElementById('run-cv').classList.contains('hidden') &&
    document.querySelector('#chart-cv canvas') !== null, null, { timeout: 10000 });
  const pts = await page.$$eval('#run-cv-points tbody tr', (trs) => trs.map((tr) =>
    [...tr.querySelectorAll('td')].map((td) => td.textContent)));
  const printed = readFileSync(process.env.CV_OUT, 'utf8').match(/Cross Validation Accuracy = ([\d.]+)%/)[1];
  if (pts.length !== 2) throw new Error(JSON.stringify(pts));
  eq(pts.map((p) => [p[0], p[1], p[2]]), [['2', '2', '0.25'], ['1', '0', '2']], 'CV points (run, solver, C)');
  eq(pts[1][4], Number(printed).toFixed(2) + ' %', 'run 1 CV accuracy');
  const legend = await page.$$eval('#run-cv .u-legend .u-series .u-label', (ls) => ls.map((l) => l.textContent));
  eq(legend, ['log10 C', 'solver 0', 'solver 2'], 'chart series');
});

await step('compare runs 3 and 4: side by side, differences highlighted', async () => {
  await page.check('#history tbody tr[data-job-id="3"] input.pick');
  if (!(await page.isDisabled('#compare-btn'))) throw new Error('Compare enabled with one run ticked');
  await page.check('#history tbody tr[data-job-id="4"] input.pick');
  await page.click('#compare-btn');
  await page.waitForFunction(() => !document.getElementById('compare-view').classList.contains('hidden') &&
    document.querySelectorAll('#compare tbody tr[data-key]').length > 5, null, { timeout: 10000 });
  if (!page.url().endsWith('#compare=3,4')) throw new Error('address ' + page.url());
  const d = await rest('/api/jobs?compare=3,4');
  const row = (g, k) => page.$$eval(`#compare tbody tr[data-group="${g}"][data-key="${k}"] td`,
    (tds) => [tds[0].closest('tr').classList.contains('diff'), ...tds.slice(1).map((td) => td.textContent)]);
  eq(await row('params', 'mode'), [true, 'train', 'test'], 'mode row');
  eq(await row('params', 'model'), [false, d.params.model[0], d.params.model[1]], 'model row (same model)');
  eq(await row('params', 'C'), [true, '1', '–'], 'C row');
  eq(await row('metrics', 'accuracy'), [true, d.metrics.accuracy[0].toFixed(4), d.metrics.accuracy[1].toFixed(4)], 'accuracy row');
  const heads = await page.$$eval('#compare thead th', (ths) => ths.map((th) => th.textContent));
  eq(heads, ['', '#3 train', '#4 test'], 'columns');
});

await step('a run view open before its job ends fills in when job_done arrives', async () => {
  await page.evaluate(() => { window.location.hash = 'run=5'; });
  await page.waitForFunction(() => /Cannot load run 5/.test(document.getElementById('run-error').textContent), null, { timeout: 5000 });
  const r = await fetch(base + '/api/jobs', { method: 'POST', body: JSON.stringify({ mode: 'train', data: 'train.csv', model: 'm5.txt', out: 's5.csv', C: 8 }),
    headers: { Authorization: 'Bearer ' + process.env.TOKEN, 'Content-Type': 'application/json' } });
  const posted = await r.json();
  if (posted.id !== 5) throw new Error('POST answered ' + JSON.stringify(posted));
  await page.waitForFunction(() => document.getElementById('run-title').textContent.startsWith('#5 · train') &&
    document.getElementById('run-title').textContent.endsWith(' · done') &&
    document.getElementById('run-error').classList.contains('hidden') &&
    document.querySelector('#run-files a[data-file="model.txt"]') !== null &&
    document.querySelector('#run-params tr[data-key="C"] td:nth-child(2)').textContent === '8', null, { timeout: 30000 });
});

await step('20 classes with long labels fit the panel', async () => {
  // run 4's answer with a 20-class matrix (the layout, not the master, is under test here)
  const labels = Array.from({ length: 20 }, (_, i) => `class <i>${i}</i> "with a rather long name" ${i}`);
  const matrix = labels.map((_, i) => labels.map((__, k) => (i === k ? 50 + i : (i * 7 + k * 3) % 5)));
  const fake = { ...run4, id: 999, metrics: { ...run4.metrics, confusion: { labels, matrix, unknown: labels.map(() => 0) } } };
  await page.route('**/api/jobs/999', (r) => r.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(fake) }));
  await page.evaluate(() => { window.location.hash = 'run=999'; });
  await page.waitForFunction(() => document.querySelectorAll('#run-confusion tbody tr').length === 20, null, { timeout: 5000 });
  const box = await page.evaluate(() => {
    const t = document.getElementById('run-confusion'), wrap = t.parentNode;
    const cols = [...t.querySelectorAll('th.col')], rows = [...t.querySelectorAll('th.row')];
    return { table: t.getBoundingClientRect().width, wrap: wrap.clientWidth,
             colH: Math.max(...cols.map((c) => c.getBoundingClientRect().height)),
             rowW: Math.max(...rows.map((c) => c.getBoundingClientRect().width)),
             cellW: Math.min(...[...t.querySelectorAll('td')].map((c) => c.getBoundingClientRect().width)),
             titles: cols.map((c) => c.title), texts: rows.map((c) => c.textContent), italics: t.querySelectorAll('i').length };
  });
  if (box.table > box.wrap) throw new Error(`table ${box.table} px wider than its panel ${box.wrap} px`);
  if (box.colH > 140 || box.rowW > 185) throw new Error(`headers ${box.colH} px high, ${box.rowW} px wide`);
  if (box.cellW < 24) throw new Error(`cells ${box.cellW} px wide`);
  eq(box.titles, labels, 'column titles (whole labels)');
  eq(box.texts, labels, 'row labels');
  if (box.italics) throw new Error('a label became markup');
  await page.screenshot({ path: process.env.ARTIFACT.replace(/\.png$/, '-20.png'), fullPage: true });
  await page.unroute('**/api/jobs/999');
});

await step('screenshot', async () => {
  await page.evaluate(() => { window.location.hash = 'run=4'; });
  await page.waitForFunction(() => document.getElementById('run-title').textContent.startsWith('#4'), null, { timeout: 5000 });
  await page.screenshot({ path: process.env.ARTIFACT, fullPage: true });
});
await context.close();
const real = errors.filter((e) => !/ERR_CONNECTION_REFUSED|WebSocket connection|404/.test(e));
if (real.length) fail('page errors: ' + real.join(' | '));
console.log('ok');
