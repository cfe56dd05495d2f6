// The stock socket.io-client (websocket transport only) connects to the
// dashboard and must receive update_stats and worker_stats within 3 s.
import { io } from 'socket.io-client';
import { startFeed, fail } from './feed.mjs';

const feed = startFeed();
const port = await feed.ready;
const t0 = Date.now();
const seen = {};
const socket = io(`http://127.0.0.1:${port}`, { transports: ['websocket'], reconnection: false, timeout: 3000 });
socket.on('connect_error', (e) => fail('connect_error: ' + e.message));
for (const name of ['snapshot', 'update_stats', 'worker_stats']) {
  socket.on(name, (data) => { if (!seen[name]) seen[name] = { ms: Date.now() - t0, data }; });
}
await new Promise((resolve) => {
  const check = setInterval(() => {
    if ((seen.update_stats && seen.worker_stats) || Date.now() - t0 > 3000) { clearInterval(check); resolve(); }
  }, 20);
});
socket.close();
for (const name of ['snapshot', 'update_stats', 'worker_stats']) {
  if (!seen[name]) fail(`no ${name} within 3 s`);
  console.log(`${name} after ${seen[name].ms} ms`);
}
const st = seen.update_stats.data;
for (const k of ['workers', 'completed_tasks', 'total_tasks', 'avg_cpu', 'avg_memory', 'workers_count',
                 'elapsed_time', 'estimated_completion']) {
  if (!(k in st)) fail(`update_stats lacks ${k}: ${JSON.stringify(st)}`);
}
if (st.workers_count !== 2) fail(`expected 2 workers, update_stats says ${st.workers_count}`);
if (!Array.isArray(seen.snapshot.data.workers) || seen.snapshot.data.workers.length !== 2)
  fail('snapshot without the two workers');
const ws = seen.worker_stats.data;
for (const k of ['id', 'name', 'cpu', 'mem', 'state', 'seen_ms', 'tasks_done', 'rows_per_s']) {
  if (!(k in ws)) fail(`worker_stats lacks ${k}`);
}
const { code } = await feed.quit();
if (code !== 0) fail(`dashfeed exited with ${code} (sanitizer report above?)`);
console.log('ok');
