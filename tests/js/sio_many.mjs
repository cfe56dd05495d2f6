// Opens N stock socket.io-client connections (websocket transport) to the
// dashboard, writes READY_FILE once every one has its snapshot, then counts
// what each receives until every client still connected has seen job_done
// (or WAIT_MS passes, or SIGTERM). Prints one summary line:
//   clients N connected C dropped D job_done J events E task_done T max_behind_ms M client_cpu_s S
// (a master that exits after its job drops everyone: "transport close")
// Exit 1 only when the N clients could not all connect within 20 s.
// env: DASH_PORT, READY_FILE; argv[2]: N (default 100)
import { io } from 'socket.io-client';
import { writeFileSync } from 'node:fs';

const n = Number(process.argv[2] || 100);
const url = `http://127.0.0.1:${process.env.DASH_PORT}`;
const waitMs = Number(process.env.WAIT_MS || 60000);
const clients = [];
let events = 0, taskDone = 0, maxBehind = 0;

for (let i = 0; i < n; i++) {
  const c = { snap: false, done: false, dropped: null };
  c.socket = io(url, { transports: ['websocket'], reconnection: false, timeout: 20000, forceNew: true });
  c.socket.on('snapshot', () => { c.snap = true; });
  c.socket.on('job_done', () => { c.done = true; });
  c.socket.on('disconnect', (reason) => { if (!c.closing) c.dropped = reason; });
  c.socket.on('connect_error', (e) => { c.dropped = 'connect_error: ' + e.message; });
  c.socket.onAny((name, d) => {
    events++;
    if (name === 'task_done') {
      taskDone++;
      if (d && d.end_ms) maxBehind = Math.max(maxBehind, Date.now() - d.end_ms);
    }
  });
  clients.push(c);
}

const t0 = Date.now();
while (!clients.every((c) => c.snap)) {
  if (Date.now() - t0 > 20000 || clients.some((c) => c.dropped)) {
    const ok = clients.filter((c) => c.snap).length;
    const why = clients.find((c) => c.dropped);
    console.error(`FAIL: only ${ok} of ${n} clients connected${why ? ' (' + why.dropped + ')' : ''}`);
    process.exit(1);
  }
  await new Promise((r) => setTimeout(r, 20));
}
console.log(`${n} clients connected in ${Date.now() - t0} ms`);
writeFileSync(process.env.READY_FILE, 'ready\n');

let stop = false;
process.on('SIGTERM', () => { stop = true; });
const t1 = Date.now();
while (!stop && Date.now() - t1 < waitMs && !clients.every((c) => c.done || c.dropped))
  await new Promise((r) => setTimeout(r, 50));

const cpu = process.cpuUsage(); // what the 100 clients cost the (shared) CPUs
const dropped = clients.filter((c) => c.dropped);
const reasons = [...new Set(dropped.map((c) => c.dropped))].join(', ');
console.log(`clients ${n} connected ${n - dropped.length} dropped ${dropped.length}${reasons ? ' (' + reasons + ')' : ''} ` +
            `job_done ${clients.filter((c) => c.done).length} events ${events} task_done ${taskDone} max_behind_ms ${maxBehind} ` +
            `client_cpu_s ${((cpu.user + cpu.system) / 1e6).toFixed(1)}`);
for (const c of clients) { c.closing = true; c.socket.close(); }
process.exit(0);
