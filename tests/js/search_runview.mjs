// Debian's chromium (playwright-core) against a real `master serve` holding
// run 1, a `master search --cv 3 --C-list 0.01,0.1,1,10` (made by
// tests/e2e/search_runview.sh): its run view draws the search's own CV
// points from metrics.json, the best one marked, and lists the final model.
// env: DASH_PORT, RUNS, CHROMIUM, USER_DATA_DIR, ARTIFACT
import { readFileSync } from 'node:fs';
import { base, fail, openBrowser, watchErrors } from './browser_lib.mjs';

const m = JSON.parse(readFileSync(`${process.env.RUNS}/1/metrics.json`, 'utf8'));
if (!m.search || m.search.results.length !== 4) fail('metrics.json has no search results: ' + JSON.stringify(m).slice(0, 300));

const { context, page } = await openBrowser({ viewport: { width: 1400, height: 1300 } });
const errors = [];
watchErrors(page, errors);
try {
  await page.goto(`${base}/#run=1`, { waitUntil: 'load' });
  await page.waitForFunction(() => !document.getElementById('run-cv').classList.contains('hidden') &&
    document.querySelector('#chart-cv canvas') !== null, null, { timeout: 15000 });
  const rows = await page.$$eval('#run-cv-points tbody tr', (trs) => trs.map((tr) =>
    ({ sel: tr.classList.contains('selected'), td: [...tr.querySelectorAll('td')].map((td) => td.textContent) })));
  const want = m.search.results.map((r) => [String(r.C), (100 * r.cv_accuracy).toFixed(2) + ' %']);
  const got = rows.map((r) => [r.td[2], r.td[4]]);
  if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`points ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
  const marked = rows.map((r, i) => (r.sel ? i : -1)).filter((i) => i >= 0);
  if (JSON.stringify(marked) !== JSON.stringify([m.search.best])) throw new Error(`marked rows ${marked}, best ${m.search.best}`);
  const title = await page.textContent('#run-cv-title');
  if (!/this search, 4 fits/.test(title)) throw new Error('title ' + title);
  const files = await page.$$eval('#run-files a', (as) => as.map((a) => a.textContent));
  for (const f of ['model.txt', 'metrics.json', 'params.json']) if (!files.includes(f)) throw new Error('files ' + files);
  if (errors.length) throw new Error('page errors: ' + errors.join('; '));
  await page.screenshot({ path: process.env.ARTIFACT, fullPage: true });
} catch (e) {
  await page.screenshot({ path: process.env.ARTIFACT.replace(/\.png$/, '-failed.png'), fullPage: true }).catch(() => {});
  await context.close().catch(() => {});
  fail(e.message);
}
await context.close();
console.log('search run view: 4 points, best marked, model listed: ok');
