/* NetCompute dashboard page: history first (REST), then live (Socket.IO).
 * Event names and fields: common/events.h (tests/e2e/events_table.sh checks
 * this file against it); every event names its job "job_id", a job summary
 * and a worker "id". */
(function () {
  'use strict';

  var MAX_POINTS = 3600;          // one hour of 1 s samples per chart
  var state = {
    workers: {},                  // key -> worker object
    config: { heartbeat_ms: 1000, liveness: 3 },
    clockOffset: 0,               // server wall ms - browser wall ms
    job: null,                    // current job summary shown in the panel
    timeline: [], failed: [], iterations: [],
    jobs: {},                     // id -> summary for the history table
    cpu: [[], [], []], rows: [[], []], loss: [[], [], []],
    charts: {},
    viewingPast: false
  };

  var $ = function (id) { return document.getElementById(id); };

  /* The token, like Jupyter's: the master prints http://HOST:PORT/?token=...;
   * the page keeps it for this tab (sessionStorage), takes it out of the
   * address bar and history, and sends it as a bearer token on every API call
   * and in the Socket.IO auth payload. */
  var token = (function () {
    var key = 'netcompute.token', t = null;
    try {
      var u = new URL(window.location.href);
      t = u.searchParams.get('token');
      if (t) {
        window.sessionStorage.setItem(key, t);
        u.searchParams.delete('token');
        window.history.replaceState(null, '', u.pathname + u.search + u.hash);
      } else {
        t = window.sessionStorage.getItem(key);
      }
    } catch (e) { /* storage disabled: the token lives as long as the page */ }
    return t || '';
  })();
  function api(url, opts) {
    opts = opts || {};
    if (token) {
      opts.headers = Object.assign({}, opts.headers || {}, { Authorization: 'Bearer ' + token });
    }
    return fetch(url, opts);
  }
  window.ncApi = api;
  function esc(s) {
    return String(s == null ? '' : s).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }
  function num(v, digits) { return (v == null || isNaN(v)) ? '–' : Number(v).toFixed(digits == null ? 0 : digits); }
  function fmtInt(v) { return v == null ? '–' : Number(v).toLocaleString('en-US'); }
  function fmtDur(s) {
    if (s == null || isNaN(s)) return '–';
    s = Math.max(0, Math.round(s));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    return (h ? h + 'h ' : '') + (h || m ? m + 'm ' : '') + r + 's';
  }
  // 950, 8k, 12.5k, 3.2M: axis labels that fit uPlot's 50 px axis
  function compact(v) {
    if (v == null) return '';
    var a = Math.abs(v);
    if (a >= 1e6) return +(v / 1e6).toFixed(1) + 'M';
    if (a >= 1e3) return +(v / 1e3).toFixed(1) + 'k';
    return String(+v.toFixed(2));
  }
  function fmtTime(ms) { return ms ? new Date(ms).toLocaleTimeString() : '–'; }
  function fmtDate(ms) { return ms ? new Date(ms).toLocaleString() : '–'; }
  function serverNow() { return Date.now() + state.clockOffset; }
  function wkey(w) { return String(w.id != null ? w.id : w.name); }

  /* ---------------- charts (uPlot) ---------------- */

  function makeChart(el, series, scales, axes) {
    if (typeof uPlot === 'undefined') { el.textContent = 'charting library missing (run scripts/deps.sh)'; return null; }
    var opts = {
      width: Math.max(200, el.clientWidth || 400), height: 180,
      series: series, scales: scales || {}, axes: axes,
      legend: { show: true }, cursor: { drag: { x: false, y: false } }
    };
    var data = series.map(function () { return []; });
    return new uPlot(opts, data, el);
  }

  function initCharts() {
    state.charts.cpu = makeChart($('chart-cpu'),
      [{}, { label: 'CPU %', stroke: '#2b6cb0', width: 2 }, { label: 'Memory %', stroke: '#d69e2e', width: 2 }],
      { y: { range: [0, 100] } });
    state.charts.rows = makeChart($('chart-rows'),
      [{}, { label: 'rows/s', stroke: '#1f9d55', width: 2, fill: 'rgba(31,157,85,0.1)' }],
      null, [{}, { values: function (u, vals) { return vals.map(compact); } }]);
    state.charts.loss = makeChart($('chart-loss'),
      [{ label: 'iteration' },
       { label: 'loss f', stroke: '#d63b3b', width: 2, scale: 'f', points: { show: true } },
       { label: 'gradient norm', stroke: '#8a63d2', width: 2, scale: 'g', points: { show: true } }],
      { x: { time: false }, f: { distr: 3 }, g: { distr: 3 } },
      [{}, { scale: 'f', label: 'f' }, { scale: 'g', side: 1, label: '|g|', grid: { show: false } }]);
    window.addEventListener('resize', function () {
      ['cpu', 'rows', 'loss'].forEach(function (k) {
        var c = state.charts[k], el = $('chart-' + k);
        if (c && el.clientWidth) c.setSize({ width: el.clientWidth, height: 180 });
      });
    });
  }

  function trim(cols) {
    var extra = cols[0].length - MAX_POINTS;
    if (extra > 0) cols.forEach(function (c) { c.splice(0, extra); });
  }
  function redraw(name) { var c = state.charts[name]; if (c) c.setData(state[name]); }

  function addLive(stats) {
    var t = serverNow() / 1000;
    var last = state.cpu[0][state.cpu[0].length - 1];
    if (last != null && t <= last) return;
    state.cpu[0].push(t); state.cpu[1].push(stats.avg_cpu); state.cpu[2].push(stats.avg_memory);
    state.rows[0].push(t); state.rows[1].push(stats.rows_per_s);
    trim(state.cpu); trim(state.rows);
    redraw('cpu'); redraw('rows');
  }

  // One point per Newton iteration for the whole one-vs-rest problem: the
  // classes iterate side by side (one event each per iteration), so plot the
  // total objective sum(f) and the norm of the whole gradient sqrt(sum |g|^2);
  // a class that has converged keeps its last values.
  function setIterations(list) {
    state.iterations = list.slice();
    var byIter = {}, last = {};
    state.iterations.forEach(function (it) {
      var k = it.iter || 0;
      (byIter[k] = byIter[k] || []).push(it);
    });
    var xs = [], fs = [], gs = [];
    Object.keys(byIter).map(Number).sort(function (a, b) { return a - b; }).forEach(function (k) {
      byIter[k].forEach(function (it) { last[it['class'] != null ? it['class'] : ''] = it; });
      var f = 0, g2 = 0;
      Object.keys(last).forEach(function (c) { f += last[c].f || 0; g2 += (last[c].gnorm || 0) * (last[c].gnorm || 0); });
      xs.push(k); fs.push(f > 0 ? f : null); gs.push(g2 > 0 ? Math.sqrt(g2) : null);
    });
    state.loss = [xs, fs, gs];
    redraw('loss');
  }

  /* ---------------- totals and workers ---------------- */

  function renderTotals(stats) {
    var ws = Object.values(state.workers);
    var live = ws.filter(function (w) { return !w.lost; });
    var cores = live.reduce(function (a, w) { return a + (w.cores || 0); }, 0);
    var byState = {};
    ws.forEach(function (w) { byState[w.state] = (byState[w.state] || 0) + 1; });
    $('t-workers').textContent = live.length;
    $('t-workers-sub').textContent = Object.keys(byState).sort().map(function (k) { return byState[k] + ' ' + k; }).join(', ');
    $('t-cores').textContent = cores;
    if (stats) {
      $('t-cpu').textContent = num(stats.avg_cpu) + ' %';
      $('t-mem').textContent = num(stats.avg_memory) + ' %';
      $('t-rows').textContent = fmtInt(Math.round(stats.rows_per_s || 0));
      $('t-tasks').textContent = fmtInt(stats.completed_tasks) + ' / ' + fmtInt(stats.total_tasks);
      $('t-tasks-sub').textContent = stats.estimated_completion != null && stats.total_tasks
        ? 'ETA ' + fmtDur(stats.estimated_completion) : '';
    }
  }

  function meter(v) {
    var p = Math.max(0, Math.min(100, v || 0));
    return '<span class="meter"><i style="width:' + p + '%"></i></span>' + num(v) + ' %';
  }

  function ageClass(age) {
    var hb = state.config.heartbeat_ms || 1000, live = state.config.liveness || 3;
    if (age > hb * Math.max(2, live - 1)) return 'stale-bad';   // about to be declared lost
    if (age > hb * 1.5) return 'stale-warn';
    return '';
  }

  function renderWorkers() {
    var body = $('workers').querySelector('tbody');
    var list = Object.values(state.workers).sort(function (a, b) { return String(a.name).localeCompare(String(b.name)); });
    $('workers-empty').classList.toggle('hidden', list.length > 0);
    body.innerHTML = list.map(function (w) {
      var st = w.lost ? 'lost' : (w.state || 'idle');
      var why = st === 'paused' && w.reason ? ' <span class="muted">(' + esc(w.reason) + ')</span>' : '';
      var batt = w.battery == null ? '–' : num(w.battery) + ' %' + (w.ac === false ? ' ⚡̸' : w.ac ? ' ⚡' : '');
      return '<tr data-id="' + esc(wkey(w)) + '" data-name="' + esc(w.name) + '" class="' + (w.lost ? 'lost' : '') + '">' +
        '<td>' + esc(w.name) + '</td><td>' + esc(w.host) + '</td>' +
        '<td><span class="state ' + esc(st) + '">' + esc(st) + '</span>' + why + '</td>' +
        '<td>' + meter(w.cpu) + '</td><td>' + meter(w.mem) + '</td><td>' + batt + '</td>' +
        '<td class="num">' + fmtInt(w.tasks_done) + '</td><td class="num">' + fmtInt(Math.round(w.rows_per_s || 0)) + '</td>' +
        '<td class="num seen" data-seen="' + (w.seen_ms || 0) + '">–</td></tr>';
    }).join('');
    renderAges();
  }

  function renderAges() {
    var now = serverNow();
    Array.prototype.forEach.call(document.querySelectorAll('#workers td.seen'), function (td) {
      var seen = Number(td.getAttribute('data-seen'));
      var lost = td.parentNode.classList.contains('lost');
      if (!seen) { td.textContent = '–'; return; }
      var age = Math.max(0, now - seen);
      td.textContent = (age / 1000).toFixed(1) + ' s';
      td.className = 'num seen ' + (lost ? 'stale-bad' : ageClass(age));
    });
    $('clock').textContent = new Date(now).toLocaleTimeString();
  }

  function setWorkers(list) {
    state.workers = {};
    (list || []).forEach(function (w) { state.workers[wkey(w)] = w; });
    renderWorkers(); renderTotals();
  }

  /* ---------------- job panel ---------------- */

  function renderJob() {
    var j = state.job;
    if (!j) { $('job-title').textContent = 'none yet'; return; }
    $('job-title').textContent = '#' + j.id + ' · ' + (j.mode || '?') + (j.data ? ' · ' + j.data : '') +
      (state.viewingPast ? ' (from history)' : '');
    var total = j.total_tasks || 0, done = j.done_tasks || 0;
    var pct = j.state === 'done' ? 100 : total ? Math.min(100, Math.floor(100 * done / total)) : 0;
    if (j.rows_total && j.state !== 'done') pct = Math.min(100, Math.floor(100 * (j.rows_done || 0) / j.rows_total));
    // The master counts tasks per phase, and in an iterative phase (exact
    // training: one round of tasks per Newton/CG step) per round, so its
    // task fraction runs back to 0 many times: name the phase, and show the
    // iteration instead of a fraction there.
    var running = j.state === 'running';
    var iterative = running && (j.phase === 'training' || j.phase === 'cross-validation');
    var iter = state.iterations.reduce(function (m, it) { return Math.max(m, it.iter || 0); }, 0);
    var bar = $('progress-bar');
    bar.style.width = (iterative ? 100 : pct) + '%';
    bar.className = 'bar' + (j.state === 'done' ? ' done' : j.state === 'failed' ? ' failed' : iterative ? ' working' : '');
    $('progress-text').textContent = iterative ? j.phase + (iter ? ' · iteration ' + iter : '…')
      : (running && j.phase ? j.phase + ' ' : '') + pct + ' %';
    $('job-state').textContent = j.state || '–';
    $('job-phase').textContent = j.state !== 'done' && j.phase ? j.phase : '–';
    $('job-tasks').textContent = fmtInt(done) + ' / ' + fmtInt(total);
    $('job-rows').textContent = fmtInt(j.rows_done) + ' / ' + fmtInt(j.rows_total);
    $('job-rate').textContent = running && j.rate_rows_s != null ? fmtInt(Math.round(j.rate_rows_s)) + ' rows/s' : '–';
    $('job-eta').textContent = j.state === 'running' ? fmtDur(j.eta_s) : '–';
    var elapsed = j.duration_s != null ? j.duration_s : j.started_ms ? (serverNow() - j.started_ms) / 1000 : null;
    $('job-elapsed').textContent = fmtDur(elapsed);
    $('job-acc').textContent = j.accuracy != null ? (100 * j.accuracy).toFixed(2) + ' %' : '–';
    var err = $('job-error');
    err.textContent = j.error ? 'Error: ' + j.error : '';
    err.classList.toggle('hidden', !j.error);
  }

  function renderTimeline() {
    var el = $('timeline');
    var tasks = state.timeline.concat(state.failed.map(function (f) {
      return { task_id: f.task_id, worker: f.worker, attempt: f.attempt, start_ms: f.ts - 1, end_ms: f.ts, failed: true, error: f.error };
    }));
    if (!tasks.length) { el.innerHTML = '<div class="muted">No tasks yet.</div>'; return; }
    var t0 = Infinity, t1 = -Infinity, rows = {};
    tasks.forEach(function (t) {
      if (t.start_ms < t0) t0 = t.start_ms;
      if (t.end_ms > t1) t1 = t.end_ms;
      (rows[t.worker] = rows[t.worker] || []).push(t);
    });
    var span = Math.max(1, t1 - t0);
    var html = Object.keys(rows).sort().map(function (w) {
      return '<div class="tl-row" data-worker="' + esc(w) + '"><div class="tl-name" title="' + esc(w) + '">' + esc(w) + '</div><div class="tl-track">' +
        rows[w].map(function (t) {
          var left = 100 * (t.start_ms - t0) / span, width = 100 * (t.end_ms - t.start_ms) / span;
          var cls = 'tl-task' + (t.failed ? ' failed' : t.attempt > 1 ? ' retry' : '');
          var title = t.failed ? 'task ' + t.task_id + ' failed (attempt ' + t.attempt + '): ' + t.error
            : 'shard ' + t.shard + ', task ' + t.task_id + ', attempt ' + t.attempt + ', ' + fmtInt(t.rows) + ' rows, ' + ((t.end_ms - t.start_ms) / 1000).toFixed(2) + ' s';
          return '<div class="' + cls + '" style="left:' + left.toFixed(3) + '%;width:' + width.toFixed(3) + '%" title="' + esc(title) + '"></div>';
        }).join('') + '</div></div>';
    }).join('');
    html += '<div class="tl-axis"><span>' + fmtTime(t0) + '</span><span>' + ((span) / 1000).toFixed(1) + ' s</span><span>' + fmtTime(t1) + '</span></div>';
    el.innerHTML = html;
  }

  function renderFailed() {
    $('failed').querySelector('tbody').innerHTML = state.failed.slice().reverse().map(function (f) {
      return '<tr><td>' + fmtTime(f.ts) + '</td><td class="num">' + esc(f.task_id) + '</td><td>' + esc(f.worker) +
        '</td><td class="num">' + esc(f.attempt) + '</td><td>' + esc(f.error) + '</td></tr>';
    }).join('') || '<tr><td colspan="5" class="muted">none</td></tr>';
  }

  var timelineTimer = null;
  function scheduleTimeline() {
    if (timelineTimer) return;
    timelineTimer = setTimeout(function () { timelineTimer = null; renderTimeline(); }, 300);
  }

  function showJobDetails(j, past) {
    state.viewingPast = !!past;
    state.job = j;
    state.timeline = (j.timeline || []).slice();
    state.failed = (j.failed || []).slice();
    setIterations(j.iterations || []);
    renderJob(); renderTimeline(); renderFailed();
    markSelected();
  }

  function loadJob(id, past) {
    return api('/api/jobs/' + id).then(function (r) { return r.ok ? r.json() : null; })
      .then(function (j) { if (j) showJobDetails(j, past); }).catch(function () {});
  }

  /* ---------------- history table and log ---------------- */

  function renderHistory() {
    var list = Object.values(state.jobs).sort(function (a, b) { return b.id - a.id; });
    $('history').querySelector('tbody').innerHTML = list.map(function (j) {
      var dur = j.duration_s != null ? j.duration_s : (j.state === 'running' && j.started_ms ? (serverNow() - j.started_ms) / 1000 : null);
      return '<tr class="clickable" data-job-id="' + esc(j.id) + '"><td>' + esc(j.id) + '</td><td>' + esc(j.mode) + '</td><td>' + esc(j.data) +
        '</td><td><span class="state ' + esc(j.state) + '">' + esc(j.state) + '</span></td><td>' + fmtDate(j.started_ms) +
        '</td><td class="num">' + fmtDur(dur) + '</td><td class="num">' + (j.accuracy != null ? (100 * j.accuracy).toFixed(2) + ' %' : '–') +
        '</td><td class="num">' + fmtInt(j.done_tasks) + ' / ' + fmtInt(j.total_tasks) + '</td><td class="num">' + fmtInt(j.rows_total) + '</td></tr>';
    }).join('') || '<tr><td colspan="9" class="muted">No jobs yet.</td></tr>';
    markSelected();
  }

  function markSelected() {
    var id = state.job ? String(state.job.id) : null;
    Array.prototype.forEach.call(document.querySelectorAll('#history tbody tr'), function (tr) {
      tr.classList.toggle('selected', tr.getAttribute('data-job-id') === id);
    });
  }

  function upsertJob(sum) {
    if (!sum || sum.id == null) return;
    var old = state.jobs[sum.id] || {};
    state.jobs[sum.id] = Object.assign(old, sum);
    renderHistory();
  }

  function describe(ev, d) {
    switch (ev) {
      case 'worker_joined': return 'worker ' + d.name + ' joined from ' + d.host + ' (' + d.cores + ' cores)';
      case 'worker_left': return 'worker ' + d.name + ' left: ' + d.reason;
      case 'job_started': return 'job ' + d.job_id + ' started: ' + d.mode + ' on ' + d.data + ' (' + d.total_tasks + ' tasks)';
      case 'job_done': return 'job ' + d.job_id + ' ' + d.state + (d.accuracy != null ? ', accuracy ' + (100 * d.accuracy).toFixed(2) + ' %' : '') + (d.error ? ': ' + d.error : '');
      case 'task_failed': return 'task ' + d.task_id + ' failed on ' + d.worker + ' (attempt ' + d.attempt + '): ' + d.error;
      case 'job_queued': return 'job ' + d.job_id + ' queued: ' + d.mode + ' on ' + d.data;
      default: return ev;
    }
  }

  function log(ev, ts, d) {
    var li = document.createElement('li');
    li.textContent = fmtTime(ts) + '  ' + describe(ev, d || {});
    if (ev === 'task_failed' || (ev === 'worker_left' && d && d.reason === 'lost') || (ev === 'job_done' && d && d.state === 'failed')) li.className = 'bad';
    var ul = $('log');
    ul.insertBefore(li, ul.firstChild);
    while (ul.childNodes.length > 300) ul.removeChild(ul.lastChild);
  }

  /* ---------------- history first ---------------- */

  function loadHistory() {
    var since = Date.now() - 3600 * 1000;
    var get = function (u) { return api(u).then(function (r) { return r.ok ? r.json() : null; }).catch(function () { return null; }); };
    return Promise.all([
      get('/api/jobs'), get('/api/workers'),
      get('/api/history?metric=cpu&step=5000&since=' + since),
      get('/api/history?metric=mem&step=5000&since=' + since),
      get('/api/history?metric=rows&step=5000&since=' + since)
    ]).then(function (r) {
      (r[0] || []).forEach(function (j) { state.jobs[j.id] = j; });
      renderHistory();
      if (r[1]) setWorkers(r[1]);
      var cpu = (r[2] && r[2].points) || [], mem = (r[3] && r[3].points) || [], rows = (r[4] && r[4].points) || [];
      var memAt = {};
      mem.forEach(function (p) { memAt[p[0]] = p[1]; });
      state.cpu = [cpu.map(function (p) { return p[0] / 1000; }), cpu.map(function (p) { return p[1]; }),
                   cpu.map(function (p) { return memAt[p[0]] != null ? memAt[p[0]] : null; })];
      state.rows = [rows.map(function (p) { return p[0] / 1000; }), rows.map(function (p) { return p[1]; })];
      redraw('cpu'); redraw('rows');
      // with no live job yet, show the most recent one from history
      var latest = (r[0] || [])[0];
      if (latest && !state.job) return loadJob(latest.id, latest.state !== 'running');
    });
  }

  /* ---------------- live ---------------- */

  function connect() {
    if (typeof io === 'undefined') {
      $('conn-banner').textContent = 'socket.io client missing (run scripts/deps.sh); showing history only';
      $('conn-banner').classList.remove('hidden');
      return;
    }
    var socket = io({ transports: ['websocket'], reconnectionDelayMax: 5000, auth: { token: token } });
    socket.on('connect_error', function (e) {
      $('conn-banner').textContent = 'The dashboard refused the connection: ' + ((e && e.message) || 'error') +
        ' (open the URL with ?token= that the master printed)';
      $('conn-banner').classList.remove('hidden');
    });
    window.ncSocket = socket;
    socket.on('connect', function () {
      $('conn-banner').classList.add('hidden');
      $('conn-state').textContent = 'live'; $('conn-state').className = 'pill on';
    });
    socket.on('disconnect', function () {
      $('conn-banner').textContent = 'Connection to the master lost — reconnecting…';
      $('conn-banner').classList.remove('hidden');
      $('conn-state').textContent = 'offline'; $('conn-state').className = 'pill off';
    });
    socket.io.on('reconnect_attempt', function (n) {
      $('conn-banner').textContent = 'Connection to the master lost — reconnecting (attempt ' + n + ')…';
    });

    socket.on('snapshot', function (s) {
      if (s.now) state.clockOffset = s.now - Date.now();
      if (s.config) state.config = s.config;
      setWorkers(s.workers);
      $('log').innerHTML = '';
      (s.log || []).forEach(function (e) { log(e.event, e.ts, e.data); });
      if (s.job) { upsertJob(s.job); loadJob(s.job.id, false); }
    });
    socket.on('update_stats', function (st) {
      (st.workers || []).forEach(function (w) { state.workers[wkey(w)] = w; });
      renderWorkers(); renderTotals(st); addLive(st);
      if (state.job && state.job.state === 'running') renderJob();
    });
    socket.on('worker_joined', function (w) {
      state.workers[wkey(w)] = Object.assign(state.workers[wkey(w)] || {}, w, { lost: false, state: 'idle', seen_ms: serverNow() });
      renderWorkers(); renderTotals(); log('worker_joined', serverNow(), w);
    });
    socket.on('worker_left', function (d) {
      var k = wkey(d);
      if (d.reason === 'lost' && state.workers[k]) { state.workers[k].lost = true; state.workers[k].state = 'lost'; }
      else delete state.workers[k];
      renderWorkers(); renderTotals(); log('worker_left', serverNow(), d);
    });
    socket.on('worker_stats', function (w) { state.workers[wkey(w)] = w; renderWorkers(); });
    socket.on('job_queued', function (j) { upsertJob(j); log('job_queued', serverNow(), j); });
    socket.on('job_started', function (j) {
      upsertJob(j); log('job_started', j.started_ms || serverNow(), j);
      showJobDetails(Object.assign({}, j, { timeline: [], failed: [], iterations: [] }), false);
    });
    socket.on('job_progress', function (j) {
      upsertJob(j);
      if (!state.job || state.job.id === j.id) { state.viewingPast = false; state.job = Object.assign(state.job || {}, j); renderJob(); }
    });
    socket.on('job_done', function (j) {
      upsertJob(j); log('job_done', j.ended_ms || serverNow(), j);
      if (state.job && state.job.id === j.id) { Object.assign(state.job, j); renderJob(); }
    });
    socket.on('task_done', function (t) {
      if (state.job && state.job.id === t.job_id && !state.viewingPast) { state.timeline.push(t); scheduleTimeline(); }
    });
    socket.on('task_failed', function (f) {
      log('task_failed', f.ts || serverNow(), f);
      if (state.job && state.job.id === f.job_id) { state.failed.push(f); renderFailed(); scheduleTimeline(); }
    });
    socket.on('iteration', function (it) {
      if (state.job && state.job.id === it.job_id) { state.iterations.push(it); setIterations(state.iterations); renderJob(); }
    });
  }

  document.addEventListener('DOMContentLoaded', function () {
    initCharts();
    renderHistory(); renderFailed();
    $('history').addEventListener('click', function (e) {
      var tr = e.target.closest('tr[data-job-id]');
      if (tr) loadJob(tr.getAttribute('data-job-id'), true);
    });
    setInterval(renderAges, 500);
    loadHistory().then(connect, connect);
  });
})();
