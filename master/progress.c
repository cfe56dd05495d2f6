#include "master/progress.h"

#include "common/clock.h"
#include "common/log.h"

#include <stdio.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define BAR_WIDTH 20

void progress_init(progress_t *p, sched_t *s, events_t *ev, uint32_t job_id, bool quiet) {
    *p = (progress_t){.sched = s, .ev = ev, .job_id = job_id, .quiet = quiet};
    p->tty = isatty(STDERR_FILENO);
    progress_phase(p, "starting");
    sched_set_tick(s, progress_tick, p);
}

void progress_phase(progress_t *p, const char *phase) {
    p->phase = phase;
    p->start_ms = clock_now_ms();
    p->shown = 0;
    p->newton = false;
    p->iter = 0;
    p->cg = 0;
    p->newton_frac = 0;
}

void progress_newton(progress_t *p, int iter, long cg, double frac) {
    p->newton = true;
    p->iter = iter;
    p->cg = cg;
    p->newton_frac = frac;
}

double progress_advance(double shown, double frac) {
    if (!(frac > shown)) return shown; /* also a NaN */
    return frac > 1 ? 1 : frac;
}

double progress_eta(double frac, double secs) {
    if (frac < 0.05 || frac >= 1 || secs < 2) return -1;
    double left = secs * (1 - frac) / frac;
    return left >= 1 ? left : -1; /* "ETA 0s" says nothing */
}

void progress_format(const progress_view_t *v, bool bar, char *buf, size_t len) {
    int w = 0, pct = (int)(v->frac * 100);
    if (bar) {
        char b[BAR_WIDTH + 1];
        int fill = (int)(v->frac * BAR_WIDTH);
        for (int i = 0; i < BAR_WIDTH; i++)
            b[i] = i < fill ? '#' : '.';
        b[BAR_WIDTH] = 0;
        w = snprintf(buf, len, "%-10s [%s] %3d%%", v->phase, b, pct);
    } else {
        w = snprintf(buf, len, "%s: %d%%", v->phase, pct);
    }
#define MORE(...)                                                                                  \
    do {                                                                                           \
        if (w >= 0 && (size_t)w < len) w += snprintf(buf + w, len - (size_t)w, __VA_ARGS__);       \
    } while (0)
    if (v->newton)
        MORE(" iteration %d, %ld CG steps", v->iter, v->cg);
    else if (v->rows_total)
        MORE(" %llu/%llu rows", (unsigned long long)v->rows_done,
             (unsigned long long)v->rows_total);
    else if (v->tasks_total)
        MORE(" %llu/%llu tasks", (unsigned long long)v->tasks_done,
             (unsigned long long)v->tasks_total);
    if (!v->newton && v->rate >= 1) MORE(", %.0f rows/s", v->rate);
    MORE(", %d worker%s", v->workers, v->workers == 1 ? "" : "s");
    if (v->eta >= 0) MORE(", ETA %.0fs", v->eta);
#undef MORE
}

/* The job_progress event: the scheduler's figures of the current round, the
 * phase's fraction and ETA as shown. */
static void publish(const progress_t *p, const sched_progress_t *sp, const progress_view_t *v) {
    json_object *o = json_object_new_object();
    json_object_object_add(o, "job_id", json_object_new_int64(p->job_id));
    json_object_object_add(o, "phase", json_object_new_string(p->phase));
    json_object_object_add(o, "done_tasks", json_object_new_int64((int64_t)sp->tasks_done));
    json_object_object_add(o, "total_tasks", json_object_new_int64((int64_t)sp->tasks_total));
    json_object_object_add(o, "rows_done", json_object_new_int64((int64_t)sp->rows_done));
    json_object_object_add(o, "rows_total", json_object_new_int64((int64_t)sp->rows_total));
    /* a Newton round's rows say nothing of the phase's speed */
    json_object_object_add(o, "rate_rows_s", v->newton ? NULL : json_object_new_double(v->rate));
    json_object_object_add(o, "eta_s", v->eta >= 0 ? json_object_new_double(v->eta) : NULL);
    json_object_object_add(o, "workers", json_object_new_int(v->workers));
    json_object_object_add(o, "phase_done", json_object_new_double(v->frac));
    if (v->newton) {
        json_object_object_add(o, "newton_iter", json_object_new_int(v->iter));
        json_object_object_add(o, "cg_steps", json_object_new_int64(v->cg));
    }
    events_publish(p->ev, EV_JOB_PROGRESS, o);
}

void progress_tick(void *arg) {
    progress_t *p = arg;
    sched_progress_t sp;
    sched_get_progress(p->sched, &sp);
    int64_t now = clock_now_ms();
    double secs = (double)(now - p->start_ms) / 1000.0;
    double frac = p->newton        ? p->newton_frac
                  : sp.rows_total  ? (double)sp.rows_done / (double)sp.rows_total
                  : sp.tasks_total ? (double)sp.tasks_done / (double)sp.tasks_total
                                   : 0;
    p->shown = progress_advance(p->shown, frac);
    progress_view_t v = {.phase = p->phase,
                         .frac = p->shown,
                         .newton = p->newton,
                         .iter = p->iter,
                         .cg = p->cg,
                         .rows_done = sp.rows_done,
                         .rows_total = sp.rows_total,
                         .tasks_done = sp.tasks_done,
                         .tasks_total = sp.tasks_total,
                         .rate = secs > 0 ? (double)sp.rows_done / secs : 0,
                         .workers = sched_live_workers(p->sched),
                         .eta = progress_eta(p->shown, secs)};
    publish(p, &sp, &v);
    if (!p->newton && sp.tasks_total == 0) return; /* between rounds: nothing to say */
    char line[256];
    if (p->tty) {
        progress_format(&v, true, line, sizeof line);
        struct winsize ws;
        /* a line wider than the terminal would wrap, and \r redraws only its last row */
        if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1 && ws.ws_col <= sizeof line)
            line[ws.ws_col - 1] = 0;
        log_status(line);
        p->drawn = true;
    } else if (!p->quiet && now - p->last_log_ms >= 1000) {
        p->last_log_ms = now;
        progress_format(&v, false, line, sizeof line);
        log_info("%s", line);
    }
}

void progress_finish(progress_t *p) {
    if (!p->sched) return; /* never started: the job stopped before its first phase */
    sched_set_tick(p->sched, NULL, NULL);
    if (p->drawn) log_status(NULL);
    p->drawn = false;
}
