// What the browser tests share: Debian's chromium through playwright-core in
// a persistent profile (USER_DATA_DIR), page errors collected, steps that
// leave a screenshot and stop the test on the first failure, and the
// dashboard's REST answers fetched with the token.
// env: CHROMIUM, USER_DATA_DIR, DASH_PORT, TOKEN
import { chromium } from 'playwright-core';

export function fail(msg) { console.error('FAIL: ' + msg); process.exit(1); }

export const base = `http://127.0.0.1:${process.env.DASH_PORT}`;

export async function rest(path) {
  const r = await fetch(base + path, { headers: { Authorization: 'Bearer ' + process.env.TOKEN } });
  if (!r.ok) fail(`${path}: HTTP ${r.status}`);
  return r.json();
}

// The browser and its first page; options (viewport, downloads, colour
// scheme) go over the headless defaults.
export async function openBrowser(options = {}) {
  const context = await chromium.launchPersistentContext(process.env.USER_DATA_DIR, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
           '--disable-sync', '--no-first-run'],
    ...options,
  });
  const page = context.pages()[0] || await context.newPage();
  return { context, page };
}

// Script errors and console errors of page into errors (prefixed with who
// when given).
export function watchErrors(page, errors, who) {
  const tag = who ? `${who}: ` : '';
  page.on('pageerror', (e) => errors.push(tag + e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(tag + m.text()); });
}

// An alert or any element a file name, label or column could inject would
// show up as a dialog: counted as an error and dismissed.
export function refuseDialogs(page, errors) {
  page.on('dialog', (d) => { errors.push('dialog: ' + d.message()); d.dismiss(); });
}

// step(name, fn): runs fn; on a throw, a full-page screenshot beside
// artifact (NAME-failed.png, when artifact is given), the browser closed,
// and the test failed with the step's name.
export function stepper(context, page, artifact) {
  return async function step(name, fn) {
    const t = Date.now();
    try { await fn(); } catch (e) {
      if (artifact)
        await page.screenshot({ path: artifact.replace(/\.png$/, '-failed.png'), fullPage: true }).catch(() => {});
      await context.close().catch(() => {});
      fail(`${name}: ${e.message}`);
    }
    console.log(`${name}: ok (${Date.now() - t} ms)`);
  };
}

export const eq = (a, b, what) => {
  if (JSON.stringify(a) !== JSON.stringify(b)) throw new Error(`${what}: page ${JSON.stringify(a)}, want ${JSON.stringify(b)}`);
};
