// Checks dashboard/web/app.js against the event table, common/events.c:
// every event it listens to (socket.on) or describes (describe's cases) is
// in the table, and every field it reads of an event's payload is one the
// table gives that event (for a job event: the job summary plus job_id; for
// a worker event: the worker record). Prints one line per problem; exit 1.
import { readFileSync } from 'node:fs';
import { readTable, topNames } from './events_lib.mjs';

const root = process.argv[2] || '.';
const app = readFileSync(`${root}/dashboard/web/app.js`, 'utf8');
const problems = [];
let table;
try {
  table = readTable(root);
} catch (e) {
  console.log(e.message);
  process.exit(1);
}
const events = {};
for (const [name, e] of Object.entries(table.events))
  events[name] = { source: e.source, browser: e.browser, fields: topNames(e.fields) };
const summary = new Set([...topNames(table.summary), 'job_id']);
const workerRecord = topNames(table.worker);

// What a browser receives under the event's name (common/events.h).
function browserFields(name) {
  const e = events[name];
  if (e.browser === 'JOB') return summary;
  if (e.browser === 'WORKER') return new Set([...e.fields, ...workerRecord]);
  if (e.browser === 'DATA') return e.fields;
  return new Set();
}

// The text of the block that starts at the first '{' at or after i.
function block(text, i) {
  const start = text.indexOf('{', i);
  let depth = 0;
  for (let k = start; k < text.length; k++) {
    if (text[k] === '{') depth++;
    else if (text[k] === '}' && --depth === 0) return text.slice(start, k + 1);
  }
  return text.slice(start);
}
const reads = (body, v) => new Set([...body.matchAll(new RegExp(`\\b${v}\\.(\\w+)`, 'g'))].map((m) => m[1]));

const builtin = new Set(['connect', 'disconnect', 'connect_error']);
let handlers = 0;
for (const m of app.matchAll(/socket\.on\('(\w+)', function \((\w+)\)/g)) {
  const [name, v] = [m[1], m[2]];
  if (builtin.has(name)) continue;
  handlers++;
  if (!events[name] || events[name].browser === 'NONE') {
    problems.push(`app.js listens to "${name}", which browsers never get (common/events.c)`);
    continue;
  }
  const allowed = browserFields(name);
  for (const f of reads(block(app, m.index), v))
    if (!allowed.has(f)) problems.push(`app.js reads ${v}.${f} of "${name}", not a field of its payload`);
}

// describe(ev, d) gets a live payload or a logged event's data (snapshot log).
const desc = block(app, app.indexOf('function describe('));
let cases = 0;
for (const m of desc.matchAll(/case '(\w+)': return ([^;]*);/g)) {
  const name = m[1];
  cases++;
  if (!events[name]) {
    problems.push(`app.js describes "${name}", not in the event table`);
    continue;
  }
  const live = browserFields(name);
  for (const f of reads(m[2], 'd')) {
    if (!live.has(f)) problems.push(`describe reads d.${f} of "${name}", not in what browsers get`);
    if (!events[name].fields.has(f)) problems.push(`describe reads d.${f} of "${name}", not a field of the event`);
  }
}
for (const m of app.matchAll(/\blog\('(\w+)'/g))
  if (!events[m[1]]) problems.push(`app.js logs "${m[1]}", not in the event table`);
if (handlers < 10 || cases < 5) problems.push(`found only ${handlers} handlers and ${cases} describe cases in app.js`);

for (const p of problems) console.log(p);
if (!problems.length) console.log(`ok: ${handlers} handlers, ${cases} describe cases`);
process.exit(problems.length ? 1 : 0);
