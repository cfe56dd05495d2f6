// Starts tests/tools/dashfeed (the dashboard with a scripted cluster behind it)
// and resolves once it listens. env: FEED (binary), NC_CONFIG (config.json).
import { spawn } from 'node:child_process';

export function startFeed(extraArgs = []) {
  const bin = process.env.FEED;
  const cfg = process.env.NC_CONFIG;
  if (!bin || !cfg) throw new Error('FEED and NC_CONFIG must be set');
  const child = spawn(bin, ['--config', cfg, ...extraArgs], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise((res) => child.on('exit', (code, sig) => res({ code, sig })));
  const ready = new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error('dashfeed did not start within 10 s')), 10000);
    child.stdout.on('data', (d) => {
      buf += d;
      const m = buf.match(/ready (\d+)/);
      if (m) { clearTimeout(timer); resolve(Number(m[1])); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error('dashfeed exited with ' + code)); });
  });
  return {
    child, ready, exited,
    send(line) { child.stdin.write(line + '\n'); },
    async quit() { child.stdin.end('quit\n'); return exited; },
  };
}

export function fail(msg) {
  console.error('FAIL: ' + msg);
  process.exit(1);
}
