// Issue 18: what a browser hears while jobs are cancelled and run
// (tests/e2e/dashboard_control.sh). Connects with the token, then records
// every job_progress and job_done until job_done has come for each run id
// named in argv[2] ("1:cancelled,2:done,3:cancelled"), or 120 s pass. Fails
// when a job_done's state is not the expected one, or when a job's progress
// fraction goes back within a phase, or when an ended job says "ETA 0".
// env: DASH_PORT, TOKEN
import { io } from 'socket.io-client';

function fail(msg) {
  console.error('FAIL: ' + msg);
  process.exit(1);
}
const want = new Map(process.argv[2].split(',').map((s) => s.split(':')).map(([id, st]) => [Number(id), st]));
const got = new Map();
const last = new Map(); // job -> {phase, fraction}
let progressEvents = 0;
const socket = io(`http://127.0.0.1:${process.env.DASH_PORT}`,
  { transports: ['websocket'], reconnection: false, auth: { token: process.env.TOKEN } });
socket.on('connect_error', (e) => fail('connect_error: ' + e.message));
socket.on('connect', () => console.log('connected'));
socket.on('job_progress', (j) => {
  progressEvents++;
  const p = j.progress;
  if (!p) return;
  const prev = last.get(j.job_id);
  if (prev && prev.phase === p.phase && p.fraction < prev.fraction)
    fail(`job ${j.job_id} ${p.phase}: progress back from ${prev.fraction} to ${p.fraction}`);
  if (prev && prev.phase === p.phase && p.unit !== 'iterations' && p.done < prev.done)
    fail(`job ${j.job_id} ${p.phase}: done back from ${prev.done} to ${p.done}`);
  if (j.eta_s === 0) fail(`job ${j.job_id}: ETA 0 while running`);
  last.set(j.job_id, { phase: p.phase, fraction: p.fraction, done: p.done });
});
socket.on('job_done', (j) => {
  if (!want.has(j.job_id)) return;
  if (j.state !== want.get(j.job_id)) fail(`job_done ${j.job_id}: state ${j.state}, want ${want.get(j.job_id)}`);
  if (j.eta_s !== null) fail(`job_done ${j.job_id}: eta_s ${j.eta_s}, want null`);
  if (j.state === 'cancelled' && j.error !== 'cancelled') fail(`job_done ${j.job_id}: error ${j.error}`);
  if (j.state === 'done' && !(typeof j.duration_ms === 'number' && j.duration_ms > 0))
    fail(`job_done ${j.job_id}: duration_ms ${j.duration_ms}`);
  got.set(j.job_id, j.state);
  console.log(`job_done ${j.job_id} ${j.state}`);
});
const t0 = Date.now();
await new Promise((resolve) => {
  const check = setInterval(() => {
    if ([...want.keys()].every((id) => got.has(id)) || Date.now() - t0 > 120000) { clearInterval(check); resolve(); }
  }, 50);
});
socket.close();
for (const id of want.keys()) if (!got.has(id)) fail(`no job_done for ${id}`);
if (progressEvents === 0) fail('no job_progress event');
console.log(`ok: ${progressEvents} job_progress events, forward only`);
process.exit(0);
