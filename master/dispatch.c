#include "master/dispatch.h"

#include "common/clock.h"
#include "common/log.h"
#include "common/proto.h"
#include "master/progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct run {
    int64_t *lat_us;
    size_t n, cap;
    FILE *ids;
} run_t;

static int on_result(void *arg, const sched_result_t *r) {
    run_t *run = arg;
    if (run->n < run->cap) run->lat_us[run->n++] = r->end_us - r->start_us;
    if (run->ids) fprintf(run->ids, "%u\n", r->task_id);
    return 0;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The payload every task carries: a sleep time for OP_SLEEP, or filler bytes
 * for OP_NOOP. NULL when out of memory. */
static blob_t *task_body(const master_opts_t *o) {
    blob_t *body;
    if (o->task_ms > 0) {
        body = blob_new(4 + (size_t)o->payload);
        if (body) {
            memset(body->data, 0, body->len);
            proto_put_u32(body->data, (uint32_t)o->task_ms);
        }
    } else {
        body = blob_new((size_t)o->payload);
        if (body) memset(body->data, 0xA5, body->len);
    }
    return body;
}

/* Allocates the task body and the latency table and opens --out-ids; what it
 * made is left in *body and *run for the caller to free, even on failure. */
static int dispatch_prepare(const master_opts_t *o, run_t *run, blob_t **body) {
    *body = task_body(o);
    run->cap = (size_t)o->tasks;
    run->lat_us = malloc(run->cap * sizeof *run->lat_us);
    if (!*body || !run->lat_us) {
        fprintf(stderr, "master: out of memory for %ld tasks\n", o->tasks);
        return -1;
    }
    if (o->out_ids[0] && !(run->ids = fopen(o->out_ids, "w"))) {
        fprintf(stderr, "master: %s: cannot write: %m\n", o->out_ids);
        return -1;
    }
    return 0;
}

static void publish_started(events_t *ev, sched_t *s, const master_opts_t *o, uint32_t job_id) {
    json_object *js = json_object_new_object();
    json_object_object_add(js, "job_id", json_object_new_int64(job_id));
    json_object_object_add(js, "mode", json_object_new_string("dispatch"));
    json_object_object_add(js, "data", json_object_new_string(""));
    json_object_object_add(js, "total_tasks", json_object_new_int64(o->tasks));
    json_object_object_add(js, "rows_total", json_object_new_int64(0));
    json_object_object_add(js, "workers", json_object_new_int(sched_live_workers(s)));
    events_publish(ev, EV_JOB_STARTED, js);
}

/* Queues every task and waits for all results; *secs is the wall time from
 * the first submit to the last result. */
static int dispatch_tasks(sched_t *s, events_t *ev, const master_opts_t *o, uint32_t job_id,
                          blob_t *body, run_t *run, double *secs) {
    char err[1024];
    progress_t prog;
    progress_init(&prog, s, ev, job_id, o->verbosity < 0);
    progress_phase(&prog, "dispatch");
    int64_t t0 = clock_now_us();
    for (long i = 0; i < o->tasks; i++)
        if (!sched_submit(s, o->task_ms > 0 ? OP_SLEEP : OP_NOOP, PROTO_NO_SHARD, body, 0)) {
            fprintf(stderr, "master: out of memory queueing tasks\n");
            progress_finish(&prog); /* the tick must not outlive prog */
            return -1;
        }
    bool data_error;
    int rc = sched_wait(s, on_result, run, &data_error, err, sizeof err);
    int64_t t1 = clock_now_us();
    progress_finish(&prog);
    if (rc < 0) {
        fprintf(stderr, "master: bench-dispatch failed: %s\n", err);
        return -1;
    }
    *secs = (double)(t1 - t0) / 1e6;
    return 0;
}

/* The two report lines on stdout: throughput and latency, then the
 * scheduler's counters. Sorts run->lat_us. */
static void print_report(sched_t *s, const master_opts_t *o, run_t *run, double secs) {
    qsort(run->lat_us, run->n, sizeof *run->lat_us, cmp_i64);
    double p50 = run->n ? (double)run->lat_us[run->n / 2] / 1000.0 : 0;
    double p99 = run->n ? (double)run->lat_us[(size_t)((double)run->n * 0.99)] / 1000.0 : 0;
    sched_counters_t c;
    sched_get_counters(s, &c);
    printf("tasks %zu  workers %d  seconds %.3f  tasks/s %.0f  MB/s %.1f  latency p50 %.3f ms  "
           "p99 %.3f ms\n",
           run->n, sched_live_workers(s), secs, (double)run->n / secs,
           (double)run->n * (double)o->payload / secs / 1e6, p50, p99);
    printf("retried %llu  speculative %llu  workers lost %llu  dropped %llu",
           (unsigned long long)c.tasks_retried, (unsigned long long)c.tasks_speculative,
           (unsigned long long)c.workers_lost, (unsigned long long)c.dropped_total);
    for (int k = 0; sched_drop_kind_name(k); k++)
        if (c.dropped[k])
            printf("  %s=%llu", sched_drop_kind_name(k), (unsigned long long)c.dropped[k]);
    printf("\n");
    fflush(stdout);
}

static void publish_done(events_t *ev, uint32_t job_id, double secs) {
    json_object *jd = json_object_new_object();
    json_object_object_add(jd, "job_id", json_object_new_int64(job_id));
    json_object_object_add(jd, "state", json_object_new_string("done"));
    json_object_object_add(jd, "duration_s", json_object_new_double(secs));
    json_object_object_add(jd, "accuracy", NULL);
    json_object_object_add(jd, "outputs", json_object_new_object());
    json_object_object_add(jd, "error", NULL);
    events_publish(ev, EV_JOB_DONE, jd);
}

int dispatch_run(sched_t *s, events_t *ev, const master_opts_t *o, const config_t *cfg,
                 uint32_t job_id) {
    int status = 1;
    run_t run = {0};
    blob_t *body = NULL;
    char err[1024];
    double secs;

    int want = o->min_workers > 0 ? o->min_workers : 1;
    log_info("bench-dispatch: waiting for %d worker(s) on port %d", want, cfg->master.task_port);
    if (sched_wait_workers(s, want, -1) < 0) {
        fprintf(stderr, "master: interrupted while waiting for workers\n");
        return 1;
    }
    if (sched_begin_job(s, job_id, NULL, NULL, 0, err, sizeof err) < 0) goto out;
    sched_set_prefetch(s, o->prefetch >= 0 ? o->prefetch : 32);
    if (dispatch_prepare(o, &run, &body) != 0) goto out;
    publish_started(ev, s, o, job_id);
    if (dispatch_tasks(s, ev, o, job_id, body, &run, &secs) != 0) goto out;
    print_report(s, o, &run, secs);
    publish_done(ev, job_id, secs);
    status = 0;
out:
    if (run.ids && fclose(run.ids) != 0) status = 1;
    free(run.lat_us);
    blob_unref(&body);
    sched_end_job(s);
    return status;
}
