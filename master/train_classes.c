/* train_classes: whole classes per worker, every worker holding every row
 * (see train_classes.h). */
#include "master/train_classes.h"

#include "common/classmsg.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/proto.h"
#include "common/tron.h"
#include "master/events.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CLASSES_MAX_BYTES (1ull << 30)
#define CLASSES_ROUNDS 10 /* rounds of the row split the rows must beat */

/* The bytes of every row: from the first shard's start to the last's end. */
static uint64_t data_bytes(const trainer_t *t) {
    const split_t *sp = &t->sp;
    if (!sp->nshards) return 0;
    const shard_range_t *a = &sp->shards[0], *b = &sp->shards[sp->nshards - 1];
    return b->offset + b->length - a->offset;
}

bool train_classes_chosen(trainer_t *t, const class_counts_t *cc) {
    const char *mode = t->cfg->model.parallel;
    if (strcmp(mode, "rows") == 0) return false;
    const char *why = NULL;
    uint64_t bytes = data_bytes(t), cap = (uint64_t)t->cfg->cluster.max_msg_mb << 19;
    if (cap > CLASSES_MAX_BYTES) cap = CLASSES_MAX_BYTES;
    if (t->nr_w < 2)
        why = "one binary problem";
    else if (t->folds > 0)
        why = "--cv";
    else if (t->ctx->opts->resume)
        why = "--resume continues the row split's journal";
    else if (bytes > cap)
        why = "the rows do not fit in one message (cluster.max_msg_mb / 2)";
    if (why) {
        if (strcmp(mode, "classes") == 0)
            log_warn("model.parallel classes: not possible here (%s); splitting rows", why);
        return false;
    }
    int workers = sched_live_workers(t->s);
    double send = (double)bytes * workers;
    double rounds =
        CLASSES_ROUNDS * 2.0 * t->nr_w * (double)cc->active_columns * 8.0 * (double)workers;
    bool cheaper = send < rounds;
    if (strcmp(mode, "classes") == 0 || cheaper) {
        log_info("classes split: every worker gets the %.1f MB of rows once (%.0f MB in all) "
                 "and trains whole classes; %d rounds of the row split would move %.0f MB%s",
                 (double)bytes / 1e6, send / 1e6, CLASSES_ROUNDS, rounds / 1e6,
                 cheaper ? "" : " (model.parallel classes)");
        return true;
    }
    log_debug("row split: %d rounds move %.0f MB, the rows to every worker %.0f MB", CLASSES_ROUNDS,
              rounds / 1e6, send / 1e6);
    return false;
}

/* The rows, read from the file into a new buffer; NULL with t->err set. */
static char *read_rows(trainer_t *t, size_t *len) {
    uint64_t bytes = data_bytes(t), off = t->sp.nshards ? t->sp.shards[0].offset : 0;
    char *buf = malloc(bytes ? bytes : 1);
    int fd = open(t->cfg->data.train, O_RDONLY | O_CLOEXEC), saved = fd < 0 ? errno : 0;
    size_t got = 0;
    while (buf && fd >= 0 && got < bytes) {
        ssize_t n = pread(fd, buf + got, bytes - got, (off_t)(off + got));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) saved = errno;
        if (n <= 0) break;
        got += (size_t)n;
    }
    if (fd >= 0) close(fd);
    if (!buf || got != bytes) {
        snprintf(t->err, sizeof t->err, "%s: cannot read its rows again (%s)", t->cfg->data.train,
                 !buf    ? "out of memory"
                 : saved ? strerror(saved)
                         : "the file got shorter");
        free(buf);
        return NULL;
    }
    *len = (size_t)bytes;
    return buf;
}

typedef struct run {
    trainer_t *t;
    bool *got;      /* [nr_w] */
    uint32_t *task; /* [nr_w]: the id of class k's task */
    int64_t t0;
    long cg; /* CG steps of the classes answered */
} run_t;

static void publish_class(trainer_t *t, const classmsg_ans_t *a, double secs) {
    log_debug("class %u: %u iterations, %u CG steps, f=%.6e |g|=%.6e, %.2f s", a->cls, a->iters,
              a->cg, a->f, a->gnorm, secs);
    json_object *js = json_object_new_object();
    if (!js) return;
    json_object_object_add(js, "job_id", json_object_new_int64(t->job_id));
    json_object_object_add(js, "class", json_object_new_int(t->label_values[a->cls]));
    json_object_object_add(js, "iter", json_object_new_int((int)a->iters));
    json_object_object_add(js, "f", json_object_new_double(a->f));
    json_object_object_add(js, "gnorm", json_object_new_double(a->gnorm));
    json_object_object_add(js, "cg", json_object_new_int((int)a->cg));
    json_object_object_add(js, "secs", json_object_new_double(secs));
    events_publish(t->ctx->ev, EV_ITERATION, js);
}

/* sched_wait's callback: a task's classes into t->w. */
static int take_result(void *arg, const sched_result_t *r) {
    run_t *run = arg;
    trainer_t *t = run->t;
    classmsg_res_t res;
    char err[256];
    if (classmsg_decode_res(r->data, r->len, &res, err, sizeof err) < 0) {
        snprintf(t->err, sizeof t->err, "worker %s sent a bad classes result: %s", r->worker, err);
        return -1;
    }
    int rc = 0;
    if (res.count != 1 || res.ans[0].cls >= (uint32_t)t->nr_w ||
        run->task[res.ans[0].cls] != r->task_id) {
        snprintf(t->err, sizeof t->err, "worker %s did not answer the class its task named",
                 r->worker);
        rc = -1;
    } else if (res.n != (uint32_t)t->n) {
        snprintf(t->err, sizeof t->err, "worker %s answered %u variables, want %d", r->worker,
                 res.n, t->n);
        rc = -1;
    }
    for (size_t i = 0; rc == 0 && i < res.count; i++) {
        const classmsg_ans_t *a = &res.ans[i];
        if ((int)a->cls >= t->nr_w) {
            snprintf(t->err, sizeof t->err, "worker %s answered class %u of %d", r->worker, a->cls,
                     t->nr_w);
            rc = -1;
            break;
        }
        for (int j = 0; j < t->n; j++)
            t->w[(size_t)j * (size_t)t->nr_w + a->cls] = a->w[j];
        run->got[a->cls] = true;
        run->cg += a->cg;
        publish_class(t, a, (double)(clock_now_ms() - run->t0) / 1000.0);
    }
    classmsg_res_free(&res);
    return rc;
}

/* The tasks: one per class. (A task can train several classes in one pass
 * over the rows, but their vectors side by side outgrow the cache on wide
 * data: 20 classes x 200,000 columns took 2.6x as long as one class a task,
 * whose vector is liblinear's own.) */
static int submit(trainer_t *t, const class_counts_t *cc, uint32_t *task) {
    for (int c = 0; c < t->nr_w; c++) {
        long rows = cc->rows[c], pos = cc->pos[c];
        classmsg_class_t one = {(uint32_t)c,
                                tron_class_eps(t->cfg->model.eps, pos, rows - pos, rows)};
        char err[256];
        blob_t *body = classmsg_encode_req((uint32_t)t->n, &one, 1, err, sizeof err);
        if (!body) {
            snprintf(t->err, sizeof t->err, "%s", err);
            return -1;
        }
        uint32_t id = sched_submit(t->s, OP_CLASSES, PROTO_NO_SHARD, body, t->sp.rows);
        blob_unref(&body);
        task[c] = id;
        if (!id) {
            trainer_fail(t, "out of memory");
            return -1;
        }
    }
    return 0;
}

int train_classes(trainer_t *t, const class_counts_t *cc) {
    int64_t t0 = clock_now_ms();
    size_t len = 0;
    char *rows = read_rows(t, &len);
    if (!rows) return EXIT_JOB_FAILED;
    run_t run = {.t = t, .t0 = t0};
    int status = EXIT_JOB_FAILED;
    t->w = calloc((size_t)t->n * (size_t)t->nr_w, sizeof *t->w);
    run.got = calloc((size_t)t->nr_w, sizeof *run.got);
    run.task = calloc((size_t)t->nr_w, sizeof *run.task);
    if (!t->w || !run.got || !run.task || !t->sp.nshards) {
        trainer_fail(t, "out of memory");
        goto out;
    }
    progress_phase(&t->prog, "training");
    sched_counters_t c0, c1;
    sched_get_counters(t->s, &c0);
    if (trainer_set_context(t, true, rows, len, t->sp.shards[0].first_line) < 0) goto out;
    free(rows); /* the scheduler holds its copy of the context */
    rows = NULL;
    if (submit(t, cc, run.task) < 0) goto out;
    bool data_error = false;
    char why[1024] = "";
    int rc = sched_wait(t->s, take_result, &run, &data_error, why, sizeof why);
    if (rc == -2) {
        trainer_fail(t, "stopped");
        goto out;
    }
    if (rc < 0) {
        if (!t->err[0]) snprintf(t->err, sizeof t->err, "%s", why);
        status = data_error ? EXIT_BAD_DATA : EXIT_JOB_FAILED;
        t->data_error = data_error;
        goto out;
    }
    for (int k = 0; k < t->nr_w; k++)
        if (!run.got[k]) {
            snprintf(t->err, sizeof t->err, "no worker answered for class %d", k);
            goto out;
        }
    /* the rows leave the context: later tasks carry the schema alone */
    if (trainer_set_context(t, true, NULL, 0, 0) < 0) goto out;
    t->secs_tron = (double)(clock_now_ms() - t0) / 1000.0;
    sched_get_counters(t->s, &c1);
    double sent = (double)(c1.bytes_sent - c0.bytes_sent) / 1e6;
    double recv = (double)(c1.bytes_received - c0.bytes_received) / 1e6;
    /* the row split's line, for make bench: one round, the rows and the weights */
    log_info("traffic: %.1f MB sent to workers, %.1f MB received in 1 rounds (%.2f MB a round), "
             "%ld CG steps",
             sent, recv, sent + recv, run.cg);
    log_info("TRON finished in %.2f s: %d class(es) trained whole on the workers", t->secs_tron,
             t->nr_w);
    status = 0;
out:
    free(rows);
    free(run.got);
    free(run.task);
    return status;
}
