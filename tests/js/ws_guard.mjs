// Websocket checks for tests/e2e/web_security.sh against a real dashboard:
//   node ws_guard.mjs origin ORIGIN   -> prints "refused STATUS" or "open"
//   node ws_guard.mjs connect-header TOKEN: the same with the token as a
//                                        bearer header on the upgrade
//   node ws_guard.mjs connect [TOKEN] -> prints the answer to the Socket.IO
//                                        CONNECT ("40" or 40{"token":...})
//                                        and whether the server then closed
//   node ws_guard.mjs snapshot [TOKEN] -> prints the snapshot frame, or fails
//                                        when the socket breaks first
// env: DASH_PORT. Connects to 127.0.0.1 only.
import WebSocket from 'ws';

const url = `ws://127.0.0.1:${process.env.DASH_PORT}/socket.io/?EIO=4&transport=websocket`;
const [mode, arg] = process.argv.slice(2);
const done = (line, code = 0) => { console.log(line); process.exit(code); };
setTimeout(() => done('timeout', 1), 8000);

if (mode === 'origin') {
  const ws = new WebSocket(url, { origin: arg });
  ws.on('unexpected-response', (_req, res) => done(`refused ${res.statusCode}`));
  ws.on('open', () => { ws.close(); done('open'); });
  ws.on('error', (e) => done(`refused ${e.message}`));
} else if (mode === 'connect' || mode === 'connect-header') {
  // connect-header: the token as a bearer header on the upgrade (non-browser clients)
  const ws = mode === 'connect' ? new WebSocket(url)
    : new WebSocket(url, { headers: { Authorization: 'Bearer ' + arg } });
  const payload = mode === 'connect' ? arg : null;
  let answer = null;
  ws.on('message', (m) => {
    const s = m.toString();
    if (s.startsWith('0')) ws.send(payload ? '40' + JSON.stringify({ token: payload }) : '40');
    else if (s.startsWith('40') || s.startsWith('44')) {
      if (answer === null) answer = s;
      if (s.startsWith('40')) { ws.close(); done(`connected ${answer}`); }
    }
  });
  ws.on('close', () => done(`${answer} closed`));
  ws.on('error', (e) => done(`error ${e.message}`, 1));
} else if (mode === 'snapshot') {
  // ws closes the socket (1007) on a text frame that is not valid UTF-8
  const ws = new WebSocket(url);
  ws.on('message', (m, binary) => {
    const s = m.toString();
    if (s.startsWith('0')) ws.send(arg ? '40' + JSON.stringify({ token: arg }) : '40');
    else if (s.startsWith('42["snapshot"')) { ws.close(); done(s); }
  });
  ws.on('close', (code) => done(`closed ${code}`, 1));
  ws.on('error', (e) => done(`error ${e.message}`, 1));
} else {
  done('usage: ws_guard.mjs origin ORIGIN | connect [TOKEN] | snapshot [TOKEN]', 2);
}
