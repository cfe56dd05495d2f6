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
    viewingPast: false,
    picked: {},                   // run id -> true: ticked for comparison
    runId: null,                  // the run shown in the run view
    phases: { id: null, list: [] }, // the shown job's phases, in order of arrival
    files: null,                  // GET /api/files answer, null until loaded
    lastRun: null                 // the run shown in the run view (for "Run again")
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
  function num(v, digits) { return (v == null || isNaN(v)) ? '–' : Number(v).toFixed(digits == null ? 0 : digits); }
  function fmtInt(v) { return v == null ? '–' : Number(v).toLocaleString('en-US'); }
  function fmtDur(s) {
    if (s == null || isNaN(s)) return '–';
    s = Math.max(0, Math.round(s));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    return (h ? h + 'h ' : '') + (h || m ? m + 'm ' : '') + r + 's';
  }
  // A duration in ms: "350 ms" under a second, "4.2 s" under a minute, then "2m 5s".
  function fmtMs(ms) {
    if (ms == null || isNaN(ms)) return '–';
    ms = Math.max(0, Math.round(ms));
    if (ms < 1000) return ms + ' ms';
    if (ms < 60000) return (ms / 1000).toFixed(1) + ' s';
    return fmtDur(ms / 1000);
  }
  // A job's duration: duration_ms when the summary has it; a whole-second
  // duration_s of 0 says only "under a second".
  function jobDur(j) {
    if (j.duration_ms != null) return fmtMs(j.duration_ms);
    if (j.duration_s != null) return j.duration_s < 1 ? '< 1 s' : fmtMs(1000 * j.duration_s);
    if (j.state === 'running' && j.started_ms) return fmtMs(serverNow() - j.started_ms);
    return '–';
  }
  // An estimate under a second is no estimate: none ("–") rather than "0s".
  function fmtEta(s) { return s == null || isNaN(s) || s < 1 ? '–' : '~' + fmtDur(s); }
  // a cancelled job's error is "cancelled": its state says it already
  function jobError(j) { return j.error && !(j.state === 'cancelled' && j.error === 'cancelled') ? j.error : ''; }
  function pct(v) { return v == null || isNaN(v) ? '–' : (100 * v).toFixed(2) + ' %'; }
  // Training and test accuracy apart: the summary's fields, or for an older
  // summary its one accuracy by the job's mode.
  function trainAcc(j) { return j.train_accuracy != null ? j.train_accuracy : j.mode === 'train' ? j.accuracy : null; }
  function testAcc(j) { return j.test_accuracy != null ? j.test_accuracy : j.mode === 'test' ? j.accuracy : null; }
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

  // uPlot draws axes on a canvas: give them the page's ink and line colours
  // (style.css, light or dark as the browser prefers).
  function themed(axes) {
    var css = window.getComputedStyle(document.documentElement);
    var ink = css.getPropertyValue('--muted').trim() || '#6b7585', line = css.getPropertyValue('--line').trim() || '#e2e6ec';
    return (axes || [{}, {}]).map(function (a) {
      return Object.assign({ stroke: ink, grid: Object.assign({ stroke: line, width: 1 }, a.grid || {}),
                             ticks: { stroke: line, width: 1 } }, a, a.grid ? { grid: Object.assign({ stroke: line, width: 1 }, a.grid) } : {});
    });
  }

  function makeChart(el, series, scales, axes) {
    if (typeof uPlot === 'undefined') { el.textContent = 'charting library missing (run scripts/deps.sh)'; return null; }
    var opts = {
      width: Math.max(200, el.clientWidth || 400), height: 180,
      series: series, scales: scales || {}, axes: themed(axes),
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

  // A worker is busy whenever it holds a task (its heartbeat names one), even
  // if its last state said idle; paused and lost win.
  function workerState(w) {
    if (w.lost) return 'lost';
    if (w.state === 'paused' || w.state === 'lost') return w.state;
    if (w.state === 'busy' || w.current_task != null) return 'busy';
    return w.state || 'idle';
  }

  function renderTotals(stats) {
    var ws = Object.values(state.workers);
    var live = ws.filter(function (w) { return !w.lost; });
    // cores are the host's: two workers on one PC count its cores once
    var perHost = {};
    live.forEach(function (w) {
      var h = String(w.host != null ? w.host : w.name);
      perHost[h] = Math.max(perHost[h] || 0, w.cores || 0);
    });
    var hosts = Object.keys(perHost);
    var cores = hosts.reduce(function (a, h) { return a + perHost[h]; }, 0);
    var byState = {};
    ws.forEach(function (w) { var st = workerState(w); byState[st] = (byState[st] || 0) + 1; });
    $('t-workers').textContent = live.length;
    $('t-workers-sub').textContent = Object.keys(byState).sort().map(function (k) { return byState[k] + ' ' + k; }).join(', ');
    // the master's count (update_stats cores_total, the same rule) once it came
    if (stats && stats.cores_total != null) state.coresTotal = stats.cores_total;
    $('t-cores').textContent = state.coresTotal != null ? state.coresTotal : cores;
    $('t-cores-sub').textContent = hosts.length ? hosts.length + (hosts.length === 1 ? ' host' : ' hosts') : '';
    if (stats) {
      $('t-cpu').textContent = num(stats.avg_cpu) + ' %';
      $('t-mem').textContent = num(stats.avg_memory) + ' %';
      $('t-rows').textContent = fmtInt(Math.round(stats.rows_per_s || 0));
      $('t-tasks').textContent = fmtInt(stats.completed_tasks) + ' / ' + fmtInt(stats.total_tasks);
      var eta = stats.total_tasks ? fmtEta(stats.estimated_completion) : '–';
      $('t-tasks-sub').textContent = eta !== '–' ? 'ETA ' + eta : '';
    }
  }

  function meter(v) {
    var p = Math.max(0, Math.min(100, v || 0));
    var i = el('i');
    i.style.width = p + '%';
    return [el('span', { cls: 'meter' }, [i]), num(v) + ' %'];
  }

  function ageClass(age) {
    var hb = state.config.heartbeat_ms || 1000, live = state.config.liveness || 3;
    if (age > hb * Math.max(2, live - 1)) return 'stale-bad';   // about to be declared lost
    if (age > hb * 1.5) return 'stale-warn';
    return '';
  }

  function renderWorkers() {
    var body = clear($('workers').querySelector('tbody'));
    var list = Object.values(state.workers).sort(function (a, b) { return String(a.name).localeCompare(String(b.name)); });
    $('workers-empty').classList.toggle('hidden', list.length > 0);
    list.forEach(function (w) {
      var st = workerState(w);
      var batt = w.battery == null ? '–' : num(w.battery) + ' %' + (w.ac === false ? ' ⚡̸' : w.ac ? ' ⚡' : '');
      body.appendChild(el('tr', { 'data-id': wkey(w), 'data-name': String(w.name), cls: w.lost ? 'lost' : '' }, [
        el('td', { text: w.name }), el('td', { text: w.host }),
        el('td', {}, [el('span', { cls: 'state ' + st, text: st }),
                      st === 'paused' && w.reason ? el('span', { cls: 'muted', text: ' (' + w.reason + ')' }) : null]),
        el('td', {}, meter(w.cpu)), el('td', {}, meter(w.mem)), el('td', { text: batt }),
        el('td', { cls: 'num', text: fmtInt(w.tasks_done) }), el('td', { cls: 'num', text: fmtInt(Math.round(w.rows_per_s || 0)) }),
        el('td', { cls: 'num seen', 'data-seen': String(w.seen_ms || 0), text: '–' })]));
    });
    renderAges();
    renderTotals();   // the card's "2 busy" says what the badges say
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

  /* Progress, truthfully: one bar per phase in the order the phases came, and
   * a bar never moves back. The summary's `progress` {phase, done, total,
   * unit} says where the job is; an older master without it gives the phase
   * and its rows (a pass over the data) or, in an iterative phase, the
   * Newton iteration from the iteration events. A phase with no total
   * (iterations until convergence) shows stripes and its count, no fraction.
   * Each phase keeps the furthest point seen; a phase that comes back after
   * another gets a bar of its own ("training 2"). */
  function progressOf(j) {
    var p = j.progress;
    if (p && p.phase) {
      var it = p.unit === 'iterations';
      return { phase: String(p.phase), done: Number(p.done) || 0, total: Number(p.total) || 0, unit: p.unit || '',
               frac: typeof p.fraction === 'number' ? p.fraction : null,
               note: it ? 'iteration ' + fmtInt(p.done) + (p.cg_steps != null ? ', ' + fmtInt(p.cg_steps) + ' CG steps' : '') : '' };
    }
    if (!j.phase || j.state !== 'running') return null;
    if (typeof j.phase_done === 'number') {   // the master's forward-only share of the phase
      return { phase: j.phase, done: 0, total: 0, unit: '', frac: j.phase_done,
               note: j.newton_iter != null ? 'iteration ' + j.newton_iter + (j.cg_steps != null ? ', ' + fmtInt(j.cg_steps) + ' CG steps' : '') : '' };
    }
    if (j.phase === 'training' || j.phase === 'cross-validation') {
      var iter = state.iterations.reduce(function (m, it) { return Math.max(m, it.iter || 0); }, 0);
      return { phase: j.phase, done: iter, total: 0, unit: 'iterations' };
    }
    if (j.rows_total) return { phase: j.phase, done: j.rows_done || 0, total: j.rows_total, unit: 'rows' };
    return { phase: j.phase, done: j.done_tasks || 0, total: j.total_tasks || 0, unit: 'tasks' };
  }

  function noteProgress(j) {
    var ph = state.phases;
    if (ph.id !== j.id) ph = state.phases = { id: j.id, list: [] };
    var p = progressOf(j);
    if (!p) return;
    var cur = ph.list[ph.list.length - 1];
    if (!cur || cur.phase !== p.phase) {
      var again = ph.list.filter(function (e) { return e.phase === p.phase; }).length;
      ph.list.forEach(function (e) { e.over = true; });
      cur = { phase: p.phase, name: again ? p.phase + ' ' + (again + 1) : p.phase, done: 0, total: 0, frac: 0, unit: p.unit };
      ph.list.push(cur);
    }
    cur.unit = p.unit || cur.unit;
    var f = p.frac != null ? p.frac : p.total > 0 ? p.done / p.total : null;
    if (f != null) {
      // a share: known from now on, and only the furthest one counts
      f = Math.max(0, Math.min(1, f));
      cur.known = true;
      if (f >= cur.frac) { cur.frac = f; cur.done = p.done; cur.total = p.total; cur.note = p.note || ''; }
    } else if (!cur.known) {
      cur.done = Math.max(cur.done, p.done);
    }
  }

  function phaseText(e, finished) {
    var unit = e.unit ? ' ' + e.unit : '';
    var share = Math.floor(100 * (finished ? 1 : e.frac)) + ' %';
    if (e.note) return finished ? 'done · ' + e.note : share + ' · ' + e.note;
    if (e.known && e.total > 0) return share + ' · ' + fmtInt(finished ? Math.max(e.done, e.total) : e.done) + ' / ' + fmtInt(e.total) + unit;
    if (e.known) return share;
    if (e.done === 1 && /s$/.test(unit)) unit = unit.slice(0, -1);   // 1 iteration
    return finished ? 'done' + (e.done ? ' · ' + fmtInt(e.done) + unit : '') : e.done ? fmtInt(e.done) + unit : 'working…';
  }

  function renderPhases(j) {
    var box = clear($('phases'));
    var list = state.phases.id === j.id ? state.phases.list : [];
    // a finished job known from history: one full bar
    if (!list.length && j.state === 'done') list = [{ phase: 'done', name: 'done', done: 0, total: 0, frac: 1, unit: '', over: true, known: true }];
    if (!list.length) {
      var what = j.state === 'queued' ? 'Queued: starts when the job before it ends.'
        : j.state === 'running' ? 'Starting…' : j.state === 'done' ? 'Done.' : 'No progress recorded.';
      box.appendChild(el('div', { cls: 'muted small', text: what }));
      return;
    }
    list.forEach(function (e, k) {
      var last = k === list.length - 1;
      var finished = e.over || j.state === 'done';
      var known = finished || !!e.known;
      var frac = finished ? 1 : e.frac;
      var cls = 'bar' + (finished ? ' done' : !last ? '' : j.state === 'failed' ? ' failed' : j.state === 'cancelled' ? ' cancelled'
        : !known && j.state === 'running' ? ' working' : '');
      var bar = el('div', { cls: cls, 'data-frac': known ? frac.toFixed(4) : '' });
      bar.style.width = (known ? 100 * frac : j.state === 'running' ? 100 : 0).toFixed(2) + '%';
      box.appendChild(el('div', { cls: 'phase', 'data-phase': e.name }, [
        el('span', { cls: 'pname', title: e.name, text: e.name }),
        el('div', { cls: 'progress' }, [bar, el('span', { text: phaseText(e, finished) })])]));
    });
  }

  function renderJob() {
    var j = state.job;
    if (!j) { $('job-title').textContent = 'none yet'; return; }
    $('job-title').textContent = '#' + j.id + ' · ' + (j.mode || '?') + (j.data ? ' · ' + j.data : '') +
      (state.viewingPast ? ' (from history)' : '');
    noteProgress(j);
    renderPhases(j);
    var running = j.state === 'running';
    var total = j.total_tasks || 0, done = j.done_tasks || 0;
    $('job-state').textContent = j.state || '–';
    $('job-phase').textContent = running && j.phase ? j.phase : '–';
    // while training counts Newton iterations the task and row counts are
    // those of one round, back to 0 each round: the bar says how far it is
    var rounds = running && j.progress && j.progress.unit === 'iterations';
    $('job-tasks').textContent = rounds ? '–' : fmtInt(done) + ' / ' + fmtInt(total);
    $('job-rows').textContent = rounds ? '–' : fmtInt(j.rows_done) + ' / ' + fmtInt(j.rows_total);
    $('job-rate').textContent = running && j.rate_rows_s > 0 ? fmtInt(Math.round(j.rate_rows_s)) + ' rows/s' : '–';
    $('job-eta').textContent = running ? fmtEta(j.eta_s) : '–';
    $('job-elapsed').textContent = jobDur(j);
    var test = j.mode === 'test';
    $('job-acc-label').textContent = test ? 'Test accuracy' : 'Training accuracy';
    $('job-acc').textContent = pct(test ? testAcc(j) : trainAcc(j));
    var err = $('job-error'), why = jobError(j);
    err.textContent = why ? 'Error: ' + why : '';
    err.classList.toggle('hidden', !why);
    renderQueue();
  }

  function renderTimeline() {
    var box = clear($('timeline'));
    var tasks = state.timeline.concat(state.failed.map(function (f) {
      return { task_id: f.task_id, worker: f.worker, attempt: f.attempt, start_ms: f.ts - 1, end_ms: f.ts, failed: true, error: f.error };
    }));
    if (!tasks.length) { box.appendChild(el('div', { cls: 'muted', text: 'No tasks yet.' })); return; }
    var t0 = Infinity, t1 = -Infinity, rows = {};
    tasks.forEach(function (t) {
      if (t.start_ms < t0) t0 = t.start_ms;
      if (t.end_ms > t1) t1 = t.end_ms;
      (rows[t.worker] = rows[t.worker] || []).push(t);
    });
    var span = Math.max(1, t1 - t0);
    Object.keys(rows).sort().forEach(function (w) {
      var track = el('div', { cls: 'tl-track' });
      rows[w].forEach(function (t) {
        var left = 100 * (t.start_ms - t0) / span, width = 100 * (t.end_ms - t.start_ms) / span;
        var title = t.failed ? 'task ' + t.task_id + ' failed (attempt ' + t.attempt + '): ' + t.error
          : 'shard ' + t.shard + ', task ' + t.task_id + ', attempt ' + t.attempt + ', ' + fmtInt(t.rows) + ' rows, ' + fmtMs(t.end_ms - t.start_ms);
        var d = el('div', { cls: 'tl-task' + (t.failed ? ' failed' : t.attempt > 1 ? ' retry' : ''), title: title });
        d.style.left = left.toFixed(3) + '%';
        d.style.width = width.toFixed(3) + '%';
        track.appendChild(d);
      });
      box.appendChild(el('div', { cls: 'tl-row', 'data-worker': w }, [el('div', { cls: 'tl-name', title: w, text: w }), track]));
    });
    box.appendChild(el('div', { cls: 'tl-axis' }, [el('span', { text: fmtTime(t0) }), el('span', { text: fmtMs(span) }),
                                                  el('span', { text: fmtTime(t1) })]));
  }

  function renderFailed() {
    var body = clear($('failed').querySelector('tbody'));
    state.failed.slice().reverse().forEach(function (f) {
      body.appendChild(el('tr', {}, [el('td', { text: fmtTime(f.ts) }), el('td', { cls: 'num', text: f.task_id }),
        el('td', { text: f.worker }), el('td', { cls: 'num', text: f.attempt }), el('td', { cls: 'wrap', text: f.error })]));
    });
    if (!body.firstChild) body.appendChild(el('tr', {}, [el('td', { colspan: '5', cls: 'muted', text: 'none' })]));
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
    var body = clear($('history').querySelector('tbody'));
    var list = Object.values(state.jobs).sort(function (a, b) { return b.id - a.id; });
    list.forEach(function (j) {
      var box = el('input', { type: 'checkbox', cls: 'pick', 'aria-label': 'select run ' + j.id, 'data-id': String(j.id) });
      box.checked = !!state.picked[j.id];
      body.appendChild(el('tr', { cls: 'clickable', 'data-job-id': String(j.id) }, [
        el('td', {}, [box]), el('td', { text: j.id }), el('td', { text: j.mode }), el('td', { text: j.data }),
        el('td', {}, [el('span', { cls: 'state ' + j.state, text: j.state })]), el('td', { text: fmtDate(j.started_ms) }),
        el('td', { cls: 'num', 'data-col': 'duration', text: jobDur(j) }),
        el('td', { cls: 'num', 'data-col': 'train-acc', text: pct(trainAcc(j)) }),
        el('td', { cls: 'num', 'data-col': 'test-acc', text: pct(testAcc(j)) }),
        el('td', { cls: 'num', text: fmtInt(j.done_tasks) + ' / ' + fmtInt(j.total_tasks) }),
        el('td', { cls: 'num', text: fmtInt(j.rows_total) })]));
    });
    if (!list.length) body.appendChild(el('tr', {}, [el('td', { colspan: '11', cls: 'muted', text: 'No jobs yet.' })]));
    markSelected();
    renderQueue();
  }

  // Queued and running jobs, oldest first, each with a Cancel button.
  // Rebuilt only when the jobs or their states change (a click on a Cancel
  // button must find it still there); the progress cells are updated in place.
  var queueKey = null;
  function renderQueue() {
    var body = $('queue').querySelector('tbody');
    var list = Object.values(state.jobs).filter(function (j) { return j.state === 'queued' || j.state === 'running'; })
      .sort(function (a, b) { return a.id - b.id; });
    var progOf = function (j) {
      var e = state.phases.id === j.id ? state.phases.list[state.phases.list.length - 1] : null;
      return e ? e.name + ' ' + phaseText(e, false) : j.state === 'queued' ? 'waiting' : '–';
    };
    var key = list.map(function (j) { return j.id + ':' + j.state + ':' + (cancelling[j.id] ? 1 : 0); }).join(',');
    if (key === queueKey) {
      list.forEach(function (j) {
        var td = body.querySelector('tr[data-job-id="' + Number(j.id) + '"] td.prog');
        if (td) td.textContent = progOf(j);
      });
      return;
    }
    queueKey = key;
    clear(body);
    list.forEach(function (j) {
      var prog = progOf(j);
      var btn = el('button', { type: 'button', cls: 'cancel', 'data-id': String(j.id), text: cancelling[j.id] ? 'Cancelling…' : 'Cancel' });
      btn.disabled = !!cancelling[j.id];
      body.appendChild(el('tr', { 'data-job-id': String(j.id) }, [
        el('td', { text: j.id }), el('td', { text: j.mode }), el('td', { cls: 'wrap', title: String(j.data), text: shortData(j.data) }),
        el('td', {}, [el('span', { cls: 'state ' + j.state, text: j.state })]), el('td', { cls: 'prog', text: prog }),
        el('td', {}, [btn])]));
    });
    if (!list.length) body.appendChild(el('tr', {}, [el('td', { colspan: '6', cls: 'muted', text: 'Nothing queued or running.' })]));
  }

  function markSelected() {
    var id = state.job ? String(state.job.id) : null;
    Array.prototype.forEach.call(document.querySelectorAll('#history tbody tr'), function (tr) {
      tr.classList.toggle('selected', tr.getAttribute('data-job-id') === id);
    });
  }

  // A job the master answered "cancelled" for stays cancelled: a progress
  // event already on its way must not show it running again.
  var cancelledIds = {};
  function upsertJob(sum) {
    if (!sum || sum.id == null) return;
    if (sum.state === 'cancelled') cancelledIds[sum.id] = true;
    else if (cancelledIds[sum.id] && (sum.state === 'running' || sum.state === 'queued')) sum = Object.assign({}, sum, { state: 'cancelled' });
    var old = state.jobs[sum.id] || {};
    state.jobs[sum.id] = Object.assign(old, sum);
    renderHistory();
  }

  // "training" or "test" accuracy: by the event's mode, else its job's (a
  // logged event from the snapshot may not name it)
  function accWord(d) {
    var mode = d.mode || (state.jobs[d.job_id] || {}).mode;
    return mode === 'test' ? 'test' : 'training';
  }

  function describe(ev, d) {
    switch (ev) {
      case 'worker_joined': return 'worker ' + d.name + ' joined from ' + d.host + ' (' + d.cores + ' cores)';
      case 'worker_left': return 'worker ' + d.name + ' left: ' + d.reason;
      case 'job_started': return 'job ' + d.job_id + ' started: ' + d.mode + ' on ' + d.data + ' (' + d.total_tasks + ' tasks)';
      case 'job_done': return 'job ' + d.job_id + ' ' + d.state + (d.accuracy != null ? ', ' + accWord(d) + ' accuracy ' + (100 * d.accuracy).toFixed(2) + ' %' : '') + (d.error && d.error !== d.state ? ': ' + d.error : '');
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

  /* ---------------- run view (#run=ID) and comparison (#compare=ID,ID) ----------------
   * Labels, params and errors are user data: these views build DOM nodes and
   * set text (textContent, setAttribute), never HTML. */

  function el(tag, attrs, kids) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === 'text') e.textContent = attrs[k];
      else if (k === 'cls') e.className = attrs[k];
      else e.setAttribute(k, attrs[k]);
    });
    (kids || []).forEach(function (c) {
      if (c != null) e.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
    });
    return e;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }
  function fmtVal(v) {
    if (v == null) return '–';
    if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(+v.toPrecision(6));
    if (typeof v === 'object') return JSON.stringify(v);
    return String(v);
  }
  function fmt4(v) { return v == null || isNaN(v) ? '–' : Number(v).toFixed(4); }
  function showError(id, msg) { $(id).textContent = msg || ''; $(id).classList.toggle('hidden', !msg); }
  function getJson(url) {
    return api(url).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (d) {
        if (!r.ok) throw new Error((d && d.error) || 'HTTP ' + r.status);
        return d;
      });
    });
  }

  // location.hash is the route: "run=ID", "compare=ID,ID" or empty
  function go(hash) {
    if (hash && window.location.hash.replace(/^#/, '') !== hash) { window.location.hash = hash; return; }
    if (!hash) window.history.replaceState(null, '', window.location.pathname + window.location.search);
    route();
  }
  function route() {
    var h = window.location.hash.replace(/^#/, ''), m;
    $('run-view').classList.add('hidden');
    $('compare-view').classList.add('hidden');
    if ((m = /^run=(\d{1,18})$/.exec(h))) openRun(m[1]);
    else if ((m = /^compare=(\d{1,18}(?:,\d{1,18}){1,15})$/.exec(h))) openCompare(m[1].split(','));
  }

  // The files a run keeps (docs/DESIGN.md "Runs"); one that is missing
  // anyway (a stream output) answers 404 and says so beside its link.
  function runFiles(j) {
    var f = ['params.json', 'run.json', 'job.log'];
    var kept = function (p) { return p && p !== '-' && !/^\/dev\//.test(p); };
    var out = j.outputs || {};
    var train = j.mode === 'train' || j.mode === 'search'; // a search trains its best model
    if (j.metrics || (train && j.accuracy != null)) f.push('metrics.json');
    if (j.state === 'done') {
      if (train && kept(out.model)) f.push('model.txt', 'model.txt.schema.json');
      if ((train || j.mode === 'test') && kept(out.submission)) f.push('submission.csv');
      if (j.mode === 'export' && kept(out.submission)) f.push('export.svm');
    }
    return f;
  }

  // The REST files route needs the bearer header, which a plain link cannot
  // send: fetch the file with it and hand the browser the bytes as a blob.
  function download(a) {
    var note = a.parentNode.querySelector('.note');
    note.textContent = '';
    api(a.getAttribute('href')).then(function (r) {
      if (!r.ok) throw new Error(r.status === 404 ? 'not kept for this run' : 'HTTP ' + r.status);
      return r.blob();
    }).then(function (b) {
      var url = URL.createObjectURL(b);
      var tmp = el('a', { href: url, download: 'run' + a.getAttribute('data-run') + '-' + a.getAttribute('data-file') });
      document.body.appendChild(tmp);
      tmp.click();
      tmp.remove();
      setTimeout(function () { URL.revokeObjectURL(url); }, 30000);
    }).catch(function (e) { note.textContent = e.message; });
  }

  function openRun(id, quiet) {
    state.runId = String(id);
    $('run-view').classList.remove('hidden');
    if (!quiet) $('run-title').textContent = '#' + id + ' (loading)';
    showError('run-error', '');
    getJson('/api/jobs/' + id).then(function (j) {
      if (state.runId !== String(id)) return;
      renderRun(j);
      if (!quiet) $('run-view').scrollIntoView({ block: 'start' });
    }).catch(function (e) {
      $('run-title').textContent = '#' + id;
      showError('run-error', 'Cannot load run ' + id + ': ' + e.message);
    });
  }

  function renderRun(j) {
    var m = j.metrics || null, p = j.params || {};
    state.lastRun = j;
    $('run-again').classList.toggle('hidden', ['train', 'test', 'search'].indexOf(j.mode) < 0);
    $('run-title').textContent = '#' + j.id + ' · ' + (j.mode || '?') + (j.data ? ' · ' + j.data : '') + ' · ' + (j.state || '?');
    showError('run-error', jobError(j) ? 'Error: ' + jobError(j) : '');
    var facts = [['State', j.state], ['Started', fmtDate(j.started_ms)], ['Duration', jobDur(j)],
                 ['Workers', j.workers]];
    if (m) {
      facts.push(['Accuracy', m.accuracy != null ? (100 * m.accuracy).toFixed(2) + ' %' : '–'],
                 ['Rows', m.rows != null ? fmtInt(m.correct) + ' / ' + fmtInt(m.rows) + ' correct' : '–'],
                 ['Macro F1', fmt4(m.macro_f1)], ['Weighted F1', fmt4(m.weighted_f1)]);
      if (m.log_loss != null) facts.push(['Log loss', fmt4(m.log_loss)]);
      if (m.roc_auc != null) facts.push(['ROC AUC', fmt4(m.roc_auc)]);
      if (m.partial) facts.push(['Partial', 'yes (resumed: log loss and AUC cover the recomputed shards)']);
    } else if (j.accuracy != null) {
      facts.push(['Accuracy', (100 * j.accuracy).toFixed(2) + ' %']);
    }
    var fb = clear($('run-facts'));
    facts.forEach(function (f) {
      fb.appendChild(el('span', { 'data-fact': f[0] }, [f[0] + ': ', el('b', { text: fmtVal(f[1]) })]));
    });

    var pb = clear($('run-params').querySelector('tbody'));
    Object.keys(p).forEach(function (k) {
      pb.appendChild(el('tr', { 'data-key': k }, [el('td', { text: k }), el('td', { text: fmtVal(p[k]) })]));
    });
    if (!pb.firstChild) pb.appendChild(el('tr', {}, [el('td', { cls: 'muted', text: 'no params recorded' })]));

    var classes = (m && m.classes) || [];
    var cb = clear($('run-classes').querySelector('tbody'));
    classes.forEach(function (c) {
      cb.appendChild(el('tr', {}, [el('td', { text: c.label }), el('td', { cls: 'num', text: fmt4(c.precision) }),
        el('td', { cls: 'num', text: fmt4(c.recall) }), el('td', { cls: 'num', text: fmt4(c.f1) }),
        el('td', { cls: 'num', text: fmtInt(c.support) })]));
    });
    $('run-classes').classList.toggle('hidden', !classes.length);
    $('run-classes-none').textContent = classes.length ? '' : j.mode === 'test'
      ? 'No metrics: the test data has no labels (or the run did not end).' : 'No per-class metrics for this run.';
    $('run-classes-none').classList.toggle('hidden', !!classes.length);

    renderConfusion(m && m.confusion);

    var fl = clear($('run-files'));
    runFiles(j).forEach(function (name) {
      fl.appendChild(el('li', {}, [el('a', { href: '/api/jobs/' + j.id + '/files/' + name, 'data-run': j.id, 'data-file': name, text: name }),
                                   el('span', { cls: 'note' })]));
    });

    $('run-cv').classList.add('hidden');
    if (j.mode === 'search' && j.metrics && j.metrics.search) renderSearch(j);
    else if (j.mode === 'train' && p.cv > 0) renderCv(j);
  }

  // A search run draws its own CV curve: one point per (solver, C) it ran
  // (metrics.search.results), its best row marked.
  function renderSearch(j) {
    var s = j.metrics.search, rs = s.results || [];
    var pts = rs.filter(function (r) { return r.C > 0 && r.cv_accuracy != null; }).map(function (r, k) {
      return { id: j.id, solver: String(r.solver), C: r.C, acc: r.cv_accuracy, sel: rs.indexOf(r) === s.best };
    });
    if (pts.length) drawCv(pts, s.folds, j.id, s.folds + '-fold cross-validation accuracy against log10 C (this search, ' + pts.length + ' fits; the best marked)');
  }

  // Rows: true labels (plus "(not a model class)" when such rows exist),
  // columns: predicted labels; the colour is the cell's share of its row.
  function renderConfusion(cm) {
    var box = $('run-confusion-box'), t = clear($('run-confusion'));
    box.classList.toggle('hidden', !cm);
    if (!cm) return;
    var labels = cm.labels || [], rows = (cm.matrix || []).map(function (r, i) { return { label: labels[i], counts: r }; });
    if ((cm.unknown || []).some(function (v) { return v > 0; })) rows.push({ label: '(not a model class)', counts: cm.unknown, unknown: true });
    var head = el('tr', {}, [el('th', { cls: 'axis', text: 'true \\ predicted' })]);
    labels.forEach(function (l) { head.appendChild(el('th', { cls: 'col', title: l, text: l })); });
    t.appendChild(el('thead', {}, [head]));
    var body = el('tbody');
    rows.forEach(function (r, i) {
      var sum = r.counts.reduce(function (a, b) { return a + b; }, 0);
      var tr = el('tr', {}, [el('th', { cls: 'row', title: r.label, text: r.label })]);
      r.counts.forEach(function (n, k) {
        var share = sum ? n / sum : 0;
        var td = el('td', { 'data-row': i, 'data-col': k, 'data-count': n, text: n,
          title: 'true ' + r.label + ', predicted ' + labels[k] + ': ' + n + (sum ? ' (' + (100 * share).toFixed(1) + ' % of the row)' : '') });
        td.style.background = 'rgba(43,108,176,' + share.toFixed(3) + ')';
        if (share > 0.55) td.className = 'dark';
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    t.appendChild(body);
  }

  // A run's CV accuracy: its job_done event says it, else metrics.json.
  function cvAccuracy(j) {
    var ev = (j.events || []).filter(function (e) { return e.event === 'job_done' && e.data && e.data.cv_accuracy != null; })[0];
    if (ev) return Promise.resolve(ev.data.cv_accuracy);
    if (j.metrics && j.metrics.cv_accuracy != null) return Promise.resolve(j.metrics.cv_accuracy);
    return getJson('/api/jobs/' + j.id + '/files/metrics.json')
      .then(function (mj) { return mj.cv_accuracy != null ? mj.cv_accuracy : null; }, function () { return null; });
  }

  // The CV curve of a --cv training run: its point, and those of the other
  // finished training runs on the same data with the same fold count (at most
  // the 48 newest), one line per solver. No CV figure: no section.
  function renderCv(j) {
    var K = j.params.cv, id = j.id;
    var others = Object.values(state.jobs).filter(function (o) {
      return o.id !== j.id && o.mode === 'train' && o.state === 'done' && o.data === j.data;
    }).sort(function (a, b) { return b.id - a.id; }).slice(0, 48).map(function (o) { return o.id; });
    var chunks = [];
    for (var i = 0; i < others.length; i += 16) chunks.push(others.slice(i, i + 16));
    Promise.all(chunks.map(function (c) {
      return getJson('/api/jobs?compare=' + c.join(','))
        .then(function (d) { return d.runs || []; }, function () { return []; });
    })).then(function (lists) {
      var runs = [].concat.apply([j], lists).filter(function (r, k, all) {
        return r.params && r.params.cv === K && r.params.C > 0 &&
          all.findIndex(function (x) { return x.id === r.id; }) === k;
      });
      return Promise.all(runs.map(function (r) {
        return (r === j ? cvAccuracy(j) : cvAccuracy({ id: r.id, metrics: r.metrics })).then(function (acc) {
          return acc == null ? null : { id: r.id, solver: String(r.params.solver), C: r.params.C, acc: acc };
        });
      }));
    }).then(function (pts) {
      pts = pts.filter(Boolean);
      if (state.runId !== String(id) || !pts.some(function (q) { return q.id === id; })) return;
      drawCv(pts, K, id);
    });
  }

  function drawCv(pts, K, id, title) {
    pts.sort(function (a, b) { return a.C - b.C || a.solver.localeCompare(b.solver) || a.id - b.id; });
    $('run-cv').classList.remove('hidden');
    $('run-cv-title').textContent = title || K + '-fold cross-validation accuracy against log10 C (training runs on this data with --cv ' + K + ')';
    var tb = clear($('run-cv-points').querySelector('tbody'));
    pts.forEach(function (q) {
      tb.appendChild(el('tr', { cls: (q.sel !== undefined ? q.sel : q.id === id) ? 'selected' : '' }, [el('td', { cls: 'num', text: q.id }), el('td', { text: q.solver }),
        el('td', { cls: 'num', text: fmtVal(q.C) }), el('td', { cls: 'num', text: Math.log10(q.C).toFixed(3) }),
        el('td', { cls: 'num', text: (100 * q.acc).toFixed(2) + ' %' })]));
    });
    var box = clear($('chart-cv'));
    if (typeof uPlot === 'undefined') { box.textContent = 'charting library missing'; return; }
    var xs = [], solvers = [];
    pts.forEach(function (q) {
      var x = Math.log10(q.C);
      if (xs.indexOf(x) < 0) xs.push(x);
      if (solvers.indexOf(q.solver) < 0) solvers.push(q.solver);
    });
    xs.sort(function (a, b) { return a - b; });
    solvers.sort(function (a, b) { return Number(a) - Number(b) || a.localeCompare(b); });
    // the newest run per (solver, C) gives the point
    var ys = solvers.map(function (s) {
      return xs.map(function (x) {
        var hit = pts.filter(function (q) { return q.solver === s && Math.log10(q.C) === x; }).pop();
        return hit ? 100 * hit.acc : null;
      });
    });
    var colours = ['#2b6cb0', '#d63b3b', '#1f9d55', '#d69e2e', '#8a63d2', '#4a5568'];
    var series = [{ label: 'log10 C' }].concat(solvers.map(function (s, k) {
      return { label: 'solver ' + s.replace(/[^\w.+-]/g, '?'), stroke: colours[k % colours.length], width: 2,
               spanGaps: true, points: { show: true, size: 8 } };
    }));
    var pad = xs.length > 1 ? 0 : 0.5;
    new uPlot({
      width: Math.max(300, Math.min(640, box.clientWidth || 600)), height: 220, series: series,
      scales: { x: { time: false, range: [xs[0] - pad - 0.1, xs[xs.length - 1] + pad + 0.1] } },
      axes: themed([{ label: 'log10 C' }, { label: 'CV accuracy %' }]),
      legend: { show: true }, cursor: { drag: { x: false, y: false } }
    }, [xs].concat(ys), box);
  }

  function openCompare(ids) {
    $('compare-view').classList.remove('hidden');
    $('compare-title').textContent = ids.map(function (i) { return '#' + i; }).join(', ');
    showError('compare-error', '');
    var t = $('compare');
    clear(t.querySelector('thead')); clear(t.querySelector('tbody'));
    getJson('/api/jobs?compare=' + ids.join(',')).then(function (d) {
      renderCompare(d);
      $('compare-view').scrollIntoView({ block: 'start' });
    }).catch(function (e) { showError('compare-error', 'Cannot compare: ' + e.message); });
  }

  function renderCompare(d) {
    var runs = d.runs || [], t = $('compare');
    var head = el('tr', {}, [el('th', { text: '' })]);
    runs.forEach(function (r) { head.appendChild(el('th', { text: '#' + r.id + ' ' + (r.mode || '') })); });
    t.querySelector('thead').appendChild(head);
    var body = t.querySelector('tbody');
    var section = function (name) {
      body.appendChild(el('tr', { cls: 'section' }, [el('td', { colspan: runs.length + 1, text: name })]));
    };
    var row = function (group, key, vals) {
      var shown = vals.map(function (v) { return group === 'metrics' && typeof v === 'number' && !Number.isInteger(v) ? fmt4(v) : fmtVal(v); });
      var differ = shown.some(function (v) { return v !== shown[0]; });
      body.appendChild(el('tr', { cls: differ ? 'diff' : '', 'data-group': group, 'data-key': key },
        [el('td', { text: key })].concat(shown.map(function (v) { return el('td', { text: v }); }))));
    };
    section('run');
    ['state', 'started_ms', 'duration_s', 'workers', 'error'].forEach(function (k) {
      row('run', k, runs.map(function (r) { return k === 'started_ms' ? fmtDate(r[k]) : r[k]; }));
    });
    section('params');
    Object.keys(d.params || {}).forEach(function (k) { row('params', k, d.params[k]); });
    section('metrics');
    Object.keys(d.metrics || {}).forEach(function (k) { row('metrics', k, d.metrics[k]); });
  }

  /* ---------------- new job form, queue, run again ----------------
   * The form's fields make one job object; the POST body and the command line
   * shown under the form are both made from it, so they say the same job. An
   * empty field is left out of both (the master's config decides). File names
   * and columns are user data: options and text are set as DOM text. */

  var SOLVERS = ['L2R_LR', 'L2R_L2LOSS_SVC_DUAL', 'L2R_L2LOSS_SVC', 'L2R_L1LOSS_SVC_DUAL', 'MCSVM_CS',
                 'L1R_L2LOSS_SVC', 'L1R_LR', 'L2R_LR_DUAL'];

  // A job's data path as the files list names it (the master's path has the
  // files root in front), else whole.
  function shortData(p) {
    p = p == null ? '' : String(p);
    var hit = (state.files || []).filter(function (f) { var fp = String(f.path); return p === fp || p.slice(-fp.length - 1) === '/' + fp; })
      .sort(function (a, b) { return b.path.length - a.path.length; })[0];
    return hit ? hit.path : p;
  }

  function option(value, text) { return el('option', { value: value, text: text }); }
  function fileOf(path) { return (state.files || []).filter(function (f) { return f.path === path; })[0] || null; }
  function fmtSize(b) {
    if (b == null) return '';
    return b >= 1048576 ? (b / 1048576).toFixed(1) + ' MB' : b >= 1024 ? (b / 1024).toFixed(1) + ' kB' : b + ' B';
  }

  function loadFiles() {
    return getJson('/api/files').then(function (list) {
      state.files = Array.isArray(list) ? list : [];
      state.filesError = '';
      fillFiles('');
    }, function (e) {
      state.files = [];
      state.filesError = 'Cannot list the data files: ' + e.message;
      fillFiles(state.filesError);
    });
  }

  // The data select: the files root's files; a path that is not among them
  // (a run's, prefilled) gets an option of its own.
  function fillFiles(err, want) {
    var sel = $('nj-data');
    var before = sel.value, keep = want != null ? want : before;
    // the same file again (the list reloaded): the user's columns stay
    var cols = want == null && keep && keep === before && !$('nj-label').disabled
      ? [$('nj-label').value, $('nj-id').value] : [undefined, undefined];
    clear(sel);
    if (!state.files.length) sel.appendChild(option('', err ? '(no list)' : '(no data files in the files root)'));
    state.files.forEach(function (f) {
      sel.appendChild(option(f.path, f.path + (f.format ? ' · ' + f.format : '') + (f.size != null ? ' · ' + fmtSize(f.size) : '')));
    });
    if (keep && !fileOf(keep)) sel.appendChild(option(keep, keep + ' (not in the files list)'));
    if (keep) sel.value = keep;
    else if (state.files.length) sel.value = state.files[0].path;
    if (!$('nj-error').getAttribute('data-server')) showError('nj-error', err);
    dataChanged(cols[0], cols[1]);
  }

  // Label and id come from the chosen file's header, its suggestions
  // preselected (label or id undefined: the suggestion; '': the config's;
  // a name: that column, said when the header lacks it); a libsvm file has
  // no header: both are off.
  function dataChanged(label, id) {
    var f = fileOf($('nj-data').value), cols = (f && f.columns) || [];
    var libsvm = !!(f && f.format === 'libsvm');
    var ls = clear($('nj-label')), is = clear($('nj-id'));
    ls.appendChild(option('', cols.length ? '(config default)' : '—'));
    is.appendChild(option('', cols.length ? '(config default)' : '—'));
    cols.forEach(function (c) { ls.appendChild(option(c, c)); is.appendChild(option(c, c)); });
    var pick = function (sel, v) {
      if (v == null || v === '' || libsvm) return;
      if (cols.indexOf(v) < 0) sel.appendChild(option(v, v + ' (not in the header)'));
      sel.value = v;
    };
    pick(ls, label !== undefined ? label : f && f.label_suggest);
    pick(is, id !== undefined ? id : f && f.id_suggest);
    ls.disabled = is.disabled = libsvm || (!cols.length && label == null && id == null);
    var total = f && f.columns_total != null ? f.columns_total : cols.length;
    $('nj-file-info').textContent = f ? (f.format || '?') + ', ' + fmtSize(f.size) +
      (total ? ', ' + fmtInt(total) + ' columns' + (total > cols.length ? ' (the first ' + fmtInt(cols.length) + ' offered)' : '') : '') +
      (f.error ? ' — ' + f.error : '') : '';
    formChanged();
  }

  // The form as a job: {job, bad: {field: message}}.
  function formJob() {
    var job = { mode: $('nj-mode').value }, bad = {};
    var put = function (k, v) { if (v !== '' && v != null) job[k] = v; };
    put('data', $('nj-data').value);
    if (!job.data) bad.data = 'choose a data file';
    if (!$('nj-label').disabled) { put('label', $('nj-label').value); put('id', $('nj-id').value); }
    if ($('nj-solver').value !== '') job.solver = Number($('nj-solver').value);
    ['C', 'eps'].forEach(function (k) {
      var t = $('nj-' + k).value.trim();
      if (t === '') return;
      var v = Number(t);
      if (!isFinite(v) || !(v > 0)) bad[k] = k + ' must be a positive number';
      else job[k] = v;
    });
    var cv = $('nj-cv').value.trim();
    if (cv !== '') {
      var k = Number(cv);
      if (!Number.isInteger(k) || (k !== 0 && (k < 2 || k > 100))) bad.cv = 'CV folds: a whole number from 2 to 100 (empty or 0: none)';
      else if (k) job.cv = k;
    }
    if (job.mode === 'search' && !job.cv && !bad.cv) bad.cv = 'a search needs CV folds (2 to 100)';
    put('model', $('nj-model').value.trim());
    put('out', $('nj-out').value.trim());
    return { job: job, bad: bad };
  }

  function shellWord(s) {
    s = String(s);
    return /^[\w.\/:=@%+,-]+$/.test(s) ? s : "'" + s.replace(/'/g, "'\\''") + "'";
  }
  var FLAGS = [['data', '--data'], ['label', '--label'], ['id', '--id'], ['solver', '--solver'], ['C', '-C'],
               ['eps', '--eps'], ['cv', '--cv'], ['model', '--model'], ['out', '--out']];
  function commandLine(job) {
    var w = ['bin/master', job.mode];
    FLAGS.forEach(function (f) { if (job[f[0]] != null) w.push(f[1], shellWord(job[f[0]])); });
    return w.join(' ');
  }

  function formChanged() {
    var f = formJob();
    $('nj-cmd').textContent = commandLine(f.job);
    ['data', 'C', 'eps', 'cv'].forEach(function (k) { $('nj-' + k).classList.toggle('invalid', !!f.bad[k]); });
    var msgs = Object.keys(f.bad).filter(function (k) { return k !== 'data' || (state.files && !state.filesError); })
      .map(function (k) { return f.bad[k]; });
    if (state.filesError) msgs.unshift(state.filesError);
    if (msgs.length || !$('nj-error').getAttribute('data-server')) showError('nj-error', msgs.join('; '));
    $('nj-submit').disabled = msgs.length > 0 || !f.job.data;
    return f;
  }

  function submitJob(e) {
    e.preventDefault();
    var f = formChanged();
    if (Object.keys(f.bad).length) return;
    $('nj-submit').disabled = true;
    $('nj-note').textContent = 'submitting…';
    $('nj-error').removeAttribute('data-server');
    api('/api/jobs', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(f.job) })
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (d) {
          if (!r.ok) throw new Error((d && d.error) || 'HTTP ' + r.status);
          return d;
        });
      }).then(function (d) {
        $('nj-note').textContent = 'job #' + d.id + ' submitted';
        if (d.id != null && !state.jobs[d.id]) upsertJob({ id: d.id, mode: f.job.mode, data: f.job.data, state: 'queued' });
        showError('nj-error', '');
      }).catch(function (err) {
        $('nj-note').textContent = '';
        showError('nj-error', 'Not started: ' + err.message);
        $('nj-error').setAttribute('data-server', '1');
      }).then(function () { $('nj-submit').disabled = false; });
  }

  // "Run again with changes": the form takes the run's params. A run's paths
  // are the master's (the files root joined in): the data file is the listed
  // file its path ends with, and the model is taken relative to the same root.
  function prefill(j) {
    var p = j.params || {};
    var data = p.data != null ? String(p.data) : j.data != null ? String(j.data) : '';
    var root = null, match = null;
    (state.files || []).forEach(function (f) {
      var fp = String(f.path);
      if (data === fp || data.slice(-fp.length - 1) === '/' + fp) {
        if (!match || fp.length > match.length) { match = fp; root = data.slice(0, data.length - fp.length); }
      }
    });
    $('nj-mode').value = ['train', 'test', 'search'].indexOf(j.mode) >= 0 ? j.mode : 'train';
    var solver = p.solver == null ? '' : SOLVERS.indexOf(String(p.solver).toUpperCase()) >= 0
      ? String(SOLVERS.indexOf(String(p.solver).toUpperCase())) : String(p.solver);
    if (solver !== '' && !$('nj-solver').querySelector('option[value="' + solver.replace(/[^\w]/g, '') + '"]')) solver = '';
    $('nj-solver').value = solver;
    $('nj-C').value = p.C != null ? fmtVal(p.C) : '';
    $('nj-eps').value = p.eps != null ? fmtVal(p.eps) : '';
    $('nj-cv').value = p.cv > 0 ? String(p.cv) : '';
    var model = p.model != null ? String(p.model) : '';
    var out = p.out != null ? String(p.out) : '';
    if (root && model.indexOf(root) === 0) model = model.slice(root.length);
    if (root && out.indexOf(root) === 0) out = out.slice(root.length);
    $('nj-model').value = model;
    $('nj-out').value = out;
    fillFiles('', match || data);
    dataChanged(p.label != null ? String(p.label) : undefined, p.id != null ? String(p.id) : undefined);
    $('nj-note').textContent = 'from run #' + j.id + ': change what you like, then Start job';
    $('new-job').scrollIntoView({ block: 'start' });
    $('nj-C').focus({ preventScroll: true });
  }

  var cancelling = {};
  function cancelJob(id, btn) {
    cancelling[id] = true;
    btn.disabled = true;
    showError('queue-error', '');
    api('/api/jobs/' + id + '/cancel', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (d) {
        if (!r.ok) throw new Error(r.status === 404 ? 'job #' + id + ' is unknown' : r.status === 409 ? 'job #' + id + ' has already ended'
          : (d && d.error) || 'HTTP ' + r.status);
        if (d && d.state) upsertJob({ id: Number(id), state: d.state });
      });
    }).catch(function (e) {
      showError('queue-error', 'Cannot cancel: ' + e.message);
    }).then(function () { delete cancelling[id]; renderQueue(); });
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
      clear($('log'));
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
      loadFiles();   // a job may have written a file into the files root
      if (state.job && state.job.id === j.id) { Object.assign(state.job, j); renderJob(); }
      // the run view of a job that just ended: its metrics and files are in now
      if (state.runId === String(j.id) && !$('run-view').classList.contains('hidden')) openRun(j.id, true);
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
      if (e.target.classList.contains('pick')) {
        if (e.target.checked) state.picked[e.target.getAttribute('data-id')] = true;
        else delete state.picked[e.target.getAttribute('data-id')];
        $('compare-btn').disabled = Object.keys(state.picked).length < 2;
        return;
      }
      var tr = e.target.closest('tr[data-job-id]');
      if (!tr) return;
      var id = tr.getAttribute('data-job-id');
      loadJob(id, true);
      go('run=' + id);
    });
    $('compare-btn').addEventListener('click', function () {
      var ids = Object.keys(state.picked).map(Number).sort(function (a, b) { return a - b; });
      if (ids.length >= 2) go('compare=' + ids.join(','));
    });
    $('run-close').addEventListener('click', function () { go(''); });
    $('run-again').addEventListener('click', function () { if (state.lastRun) prefill(state.lastRun); });
    $('nj-form').addEventListener('submit', submitJob);
    $('nj-form').addEventListener('input', function (e) {
      if (e.target.id === 'nj-data') return;
      $('nj-error').removeAttribute('data-server');
      formChanged();
    });
    $('nj-data').addEventListener('change', function () { $('nj-error').removeAttribute('data-server'); dataChanged(); });
    $('queue').addEventListener('click', function (e) {
      var b = e.target.closest('button.cancel');
      if (b && !b.disabled) cancelJob(b.getAttribute('data-id'), b);
    });
    loadFiles();
    $('compare-close').addEventListener('click', function () { go(''); });
    $('run-files').addEventListener('click', function (e) {
      var a = e.target.closest('a[data-file]');
      if (!a) return;
      e.preventDefault();
      download(a);
    });
    window.addEventListener('hashchange', route);
    route();
    setInterval(renderAges, 500);
    loadHistory().then(connect, connect);
  });
})();
