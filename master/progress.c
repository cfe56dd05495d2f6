#include "master/progress.h"

#include "common/clock.h"
#include "common/log.h"

#include <stdio.h>
#include <unistd.h>

void progress_init(progress_t *p, sched_t *s, events_t *ev, uint32_t job_id, bool quiet) {
    p->sched = s;
    p->ev = ev;
    p->job_id = job_id;
    p->phase = "starting";
    p->start_ms = clock_now_ms();
    p->tty = isatty(STDERR_FILENO);
    p->quiet = quiet;
    p->drawn = false;
    p->last_log_ms = 0;
    sched_set_tick(s, progress_tick, p);
}

void progress_phase(progress_t *p, const char *phase) {
    p->phase = phase;
    p->start_ms = clock_now_ms();
}

void progress_tick(void *arg) {
    progress_t *p = arg;
    sched_progress_t sp;
    sched_get_progress(p->sched, &sp);
    double secs = (double)(clock_now_ms() - p->start_ms) / 1000.0;
    double rate = secs > 0 ? (double)sp.rows_done / secs : 0;
    double frac = sp.tasks_total ? (double)sp.tasks_done / (double)sp.tasks_total : 0;
    double eta = frac > 0 ? secs / frac - secs : -1;
    int workers = sched_live_workers(p->sched);

    json_object *o = json_object_new_object();
    json_object_object_add(o, "job_id", json_object_new_int64(p->job_id));
    json_object_object_add(o, "phase", json_object_new_string(p->phase));
    json_object_object_add(o, "done_tasks", json_object_new_int64((int64_t)sp.tasks_done));
    json_object_object_add(o, "total_tasks", json_object_new_int64((int64_t)sp.tasks_total));
    json_object_object_add(o, "rows_done", json_object_new_int64((int64_t)sp.rows_done));
    json_object_object_add(o, "rows_total", json_object_new_int64((int64_t)sp.rows_total));
    json_object_object_add(o, "rate_rows_s", json_object_new_double(rate));
    json_object_object_add(o, "eta_s", eta >= 0 ? json_object_new_double(eta) : NULL);
    json_object_object_add(o, "workers", json_object_new_int(workers));
    events_publish(p->ev, EV_JOB_PROGRESS, o);

    if (p->quiet || sp.tasks_total == 0) return;
    if (p->tty) {
        char bar[31];
        int fill = (int)(frac * 30);
        for (int i = 0; i < 30; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[30] = 0;
        fprintf(stderr, "\r%-10s [%s] %3.0f%% %llu/%llu tasks %.0f rows/s ETA %s%.0fs %d workers  ",
                p->phase, bar, frac * 100, (unsigned long long)sp.tasks_done,
                (unsigned long long)sp.tasks_total, rate, eta < 0 ? "~" : "", eta < 0 ? 0 : eta,
                workers);
        p->drawn = true;
    } else if (clock_now_ms() - p->last_log_ms >= 1000) {
        p->last_log_ms = clock_now_ms();
        log_info("%s: %llu/%llu tasks (%.0f%%), %llu rows, %.0f rows/s, %d workers", p->phase,
                 (unsigned long long)sp.tasks_done, (unsigned long long)sp.tasks_total, frac * 100,
                 (unsigned long long)sp.rows_done, rate, workers);
    }
}

void progress_finish(progress_t *p) {
    if (!p->sched) return; /* never started: the job stopped before its first phase */
    sched_set_tick(p->sched, NULL, NULL);
    if (p->drawn) fputc('\n', stderr);
    p->drawn = false;
}
