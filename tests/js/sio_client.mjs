// The stock socket.io-client (websocket transport only) connects to the
// dashboard of a real master (tests/e2e/dashboard_sio.sh) and must receive
// snapshot, update_stats and worker_stats within 3 s, with the two workers
// and the current job. argv[2]: "running" (during the job) or "done" (after).
// env: DASH_PORT
import { io } from 'socket.io-client';

function fail(msg) {
  console.error('FAIL: ' + msg);
  process.exit(1);
}
const phase = process.argv[2] || 'running';
const base = `http://127.0.0.1:${process.env.DASH_PORT}`;
const jobs = await (await fetch(base + '/api/jobs')).json();
if (!Array.isArray(jobs) || !jobs.length) fail('/api/jobs lists no job');
const jobId = jobs[0].id;

const t0 = Date.now();
const seen = {};
const names = ['snapshot', 'update_stats', 'worker_stats'];
const socket = io(base, { transports: ['websocket'], reconnection: false, timeout: 3000 });
socket.on('connect_error', (e) => fail('connect_error: ' + e.message));
for (const name of names)
  socket.on(name, (data) => { if (!seen[name]) seen[name] = { ms: Date.now() - t0, data }; });
await new Promise((resolve) => {
  const check = setInterval(() => {
    if (names.every((n) => seen[n]) || Date.now() - t0 > 3000) { clearInterval(check); resolve(); }
  }, 20);
});
socket.close();
for (const name of names) {
  if (!seen[name]) fail(`${phase}: no ${name} within 3 s`);
  console.log(`${phase}: ${name} after ${seen[name].ms} ms`);
}

const st = seen.update_stats.data;
for (const k of ['workers', 'completed_tasks', 'total_tasks', 'avg_cpu', 'avg_memory', 'workers_count',
                 'elapsed_time', 'estimated_completion'])
  if (!(k in st)) fail(`update_stats lacks ${k}: ${JSON.stringify(st)}`);
if (st.workers_count !== 2 || !Array.isArray(st.workers) || st.workers.length !== 2)
  fail(`expected 2 workers, update_stats says ${st.workers_count}`);
if (st.job_id !== jobId || !(st.total_tasks > 0) || !(st.elapsed_time > 0))
  fail(`update_stats does not describe job ${jobId}: ${JSON.stringify({ ...st, workers: undefined })}`);
// an ended job has no ETA (issue 18: never "ETA 0"): null, not 0
if (phase === 'done' && (st.completed_tasks !== st.total_tasks || st.estimated_completion !== null))
  fail(`after the job update_stats says ${st.completed_tasks}/${st.total_tasks}, eta ${st.estimated_completion}`);
// both workers run on this machine: its cores count once (issue 18), not twice
if (st.cores_total !== st.workers[0].cores || st.workers[0].host !== st.workers[1].host)
  fail(`cores_total ${st.cores_total} for two workers of ${st.workers[0].cores} cores on one host`);
if (!(st.avg_cpu >= 0 && st.avg_cpu <= 100 && st.avg_memory > 0 && st.avg_memory <= 100))
  fail(`update_stats averages out of range: cpu ${st.avg_cpu}, memory ${st.avg_memory}`);

const snap = seen.snapshot.data;
const names2 = (snap.workers || []).map((w) => w.name).sort().join(',');
if (names2 !== 'w1,w2') fail(`snapshot workers: ${names2}`);
if (!snap.job || snap.job.id !== jobId || snap.job.state !== phase)
  fail(`snapshot job: ${JSON.stringify(snap.job)} (expected job ${jobId} ${phase})`);

const ws = seen.worker_stats.data;
for (const k of ['id', 'name', 'cpu', 'mem', 'state', 'seen_ms', 'tasks_done', 'rows_per_s'])
  if (!(k in ws)) fail(`worker_stats lacks ${k}`);
if (!['w1', 'w2'].includes(ws.name)) fail(`worker_stats from ${ws.name}`);
if (phase === 'done' && !(ws.tasks_done > 0)) fail(`worker ${ws.name} reports ${ws.tasks_done} tasks done`);
console.log(`${phase}: ok (job ${jobId})`);
