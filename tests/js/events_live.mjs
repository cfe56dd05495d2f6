// Checks what a real master published against the event table
// (common/events.c), through the dashboard's REST view of the newest job:
// its logged events (job_started, job_done, worker_joined, ...), iterations
// and timeline (iteration, task_done as published), the job summary and the
// workers. Usage: node events_live.mjs ROOT MODE [OUT]
//   MODE train|test: the newest job is of that mode and done; for test, its
//   outputs.submission is OUT (the predictions file), from memory or from
//   the history file after a restart ("history").
import { readTable, checkFields } from './events_lib.mjs';

const [root, mode, out] = process.argv.slice(2);
const base = `http://127.0.0.1:${process.env.DASH_PORT}`;
const table = readTable(root);
const problems = [];
const get = async (path) => {
  const r = await fetch(base + path);
  if (!r.ok) throw new Error(`GET ${path} -> ${r.status}`);
  return r.json();
};

const jobs = await get('/api/jobs');
const sum = jobs[0];
if (!sum) {
  console.log('no job in /api/jobs');
  process.exit(1);
}
problems.push(...checkFields(`summary of job ${sum.id}`, sum, table.summary));
if (sum.mode !== (mode === 'history' ? 'test' : mode) || sum.state !== 'done')
  problems.push(`newest job is ${sum.mode} ${sum.state}, want ${mode} done`);
if (out && (!sum.outputs || sum.outputs.submission !== out))
  problems.push(`job ${sum.id} outputs ${JSON.stringify(sum.outputs)}: want submission ${out}`);

if (mode !== 'history') {
  const job = await get(`/api/jobs/${sum.id}`);
  const seen = new Set();
  const check = (name, data) => {
    seen.add(name);
    const e = table.events[name];
    if (!e) problems.push(`job ${sum.id} logged "${name}", not in the table`);
    else problems.push(...checkFields(`${name} of job ${sum.id}`, data, e.fields));
  };
  for (const ev of job.events || []) check(ev.event, ev.data);
  for (const it of job.iterations || []) check('iteration', it);
  for (const t of job.timeline || []) check('task_done', t);
  for (const f of job.failed || []) check('task_failed', f);
  for (const want of ['job_started', 'job_done', 'task_done'].concat(mode === 'train' ? ['iteration'] : []))
    if (!seen.has(want)) problems.push(`job ${sum.id}: no ${want} to check`);
  const stats = table.events.worker_stats.fields.concat(table.worker);
  for (const w of await get('/api/workers')) problems.push(...checkFields(`worker ${w.name}`, w, stats, true));
}

for (const p of problems) console.log(p);
if (!problems.length) console.log(`ok: job ${sum.id} (${mode}) matches the event table`);
process.exit(problems.length ? 1 : 0);
