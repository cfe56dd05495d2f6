#include "master/train.h"

#include "common/clock.h"
#include "common/csvread.h"
#include "common/jobctx.h"
#include "common/log.h"
#include "common/model.h"
#include "common/predmsg.h"
#include "common/proto.h"
#include "common/schema.h"
#include "common/split.h"
#include "common/suggest.h"
#include "common/tronmsg.h"
#include "master/jobopts.h"
#include "master/journal.h"
#include "master/outputs.h"
#include "master/progress.h"
#include "master/train_average.h"
#include "master/train_exact.h"
#include "master/trainer.h"
#include "master/writer.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Early shards of the submission held in memory; the rest goes to a spool. */
#define SUBMISSION_MEM_BUDGET (32u << 20)

/* ---- shared with the strategies (master/trainer.h) ---- */

void trainer_fail(trainer_t *t, const char *msg) {
    snprintf(t->err, sizeof t->err, "%s", msg);
}

int trainer_round(trainer_t *t, sched_round_t *r) {
    char err[1024] = "";
    t->err[0] = 0;
    int rc = sched_round(t->s, r, err, sizeof err);
    if (rc == -2) {
        trainer_fail(t, "stopped by signal");
        return EXIT_JOB_FAILED;
    }
    if (rc < 0) {
        if (!t->err[0]) trainer_fail(t, err);
        t->data_error = r->data_error;
        return r->data_error ? EXIT_BAD_DATA : EXIT_JOB_FAILED;
    }
    return 0;
}

/* ---- small helpers ---- */

/* Sends the job context; a fresh encode each time (the scheduler copies it
 * and bumps the version). */
int trainer_set_context(trainer_t *t, bool with_schema, const char *data, size_t data_len,
                        uint64_t data_first_line) {
    jobctx_t c = {.format = t->sp.format == DATA_LIBSVM ? JOBCTX_LIBSVM : JOBCTX_CSV,
                  .file = (char *)t->cfg->data.train,
                  .header = t->sp.header,
                  .header_len = t->sp.header_len,
                  .label = (char *)t->cfg->data.label,
                  .id = (char *)t->cfg->data.id,
                  .solver = t->solver,
                  .C = t->cfg->model.C,
                  .bias = t->cfg->model.bias,
                  .text = t->text_cols,
                  .text_detect = t->src.detect,
                  .count_terms = t->src.count_terms,
                  .ngram = t->src.ngram,
                  .data = data,
                  .data_len = data_len,
                  .data_first_line = data_first_line};
    if (with_schema) {
        c.schema_json = t->schema_json;
        c.schema_len = strlen(t->schema_json);
    }
    void *buf = NULL;
    size_t len = 0;
    if (jobctx_encode(&c, &buf, &len) < 0) {
        trainer_fail(t, "out of memory encoding the job context");
        return -1;
    }
    int rc = sched_set_context(t->s, buf, len);
    if (rc < 0) trainer_fail(t, "out of memory setting the job context");
    return rc;
}

static int send_context(trainer_t *t, bool with_schema) {
    return trainer_set_context(t, with_schema, NULL, 0, 0);
}

/* ---- schema pass ---- */

static void free_bodies(blob_t **b, size_t n) {
    for (size_t i = 0; b && i < n; i++)
        blob_unref(&b[i]);
    free(b);
}

/* The summaries of a schema pass: each shard's is decoded as it arrives
 * and merged as soon as every shard before it is merged, so that the
 * round's end leaves only the last few merges to do, not all of them. The
 * merge stays in shard order (labels and the first values of a column
 * keep the file's order). */
typedef struct summary_sink {
    trainer_t *t;
    summary_t **sums; /* decoded, waiting for a shard before them */
    summary_t *all;   /* shards [0, merged) merged */
    size_t merged;
} summary_sink_t;

static int on_summary(void *arg, uint32_t shard, const void *data, size_t len, const char *worker) {
    summary_sink_t *k = arg;
    char err[512];
    if (shard < k->merged) return 0;  /* answered twice: the first answer is merged */
    summary_destroy(&k->sums[shard]); /* answered twice keeps the last */
    k->sums[shard] = summary_decode(data, len, err, sizeof err);
    if (!k->sums[shard]) {
        snprintf(k->t->err, sizeof k->t->err, "worker %s sent a bad summary: %s", worker, err);
        return -1;
    }
    for (; k->merged < k->t->sp.nshards && k->sums[k->merged]; k->merged++) {
        summary_t **s = &k->sums[k->merged];
        if (!k->all) {
            k->all = *s;
            *s = NULL;
            continue;
        }
        int rc = summary_merge(k->all, *s);
        summary_destroy(s);
        if (rc < 0) {
            trainer_fail(k->t, "cannot merge the shard summaries (out of memory?)");
            return -1;
        }
    }
    return 0;
}

/* An OP_SUMMARY round over the shards before limit that are neither merged
 * nor decoded yet; each answer goes to on_summary. *queued counts the
 * tasks. */
static int summary_round(summary_sink_t *k, size_t limit, size_t *queued) {
    trainer_t *t = k->t;
    size_t ns = t->sp.nshards;
    blob_t **bodies = calloc(ns ? ns : 1, sizeof *bodies);
    sched_round_t r = {.op = OP_SUMMARY, .bodies = bodies, .sink = on_summary, .sink_arg = k};
    int status = EXIT_JOB_FAILED;
    *queued = 0;
    for (size_t i = k->merged; bodies && i < limit; i++) {
        if (k->sums[i]) continue;
        /* the body is the shard's position, as a prediction request's */
        predmsg_req_t pos = {t->sp.shards[i].first_row, t->sp.shards[i].first_line};
        if (!(bodies[i] = predmsg_req_encode(&pos))) goto nomem;
        (*queued)++;
    }
    if (!bodies) goto nomem;
    if (*queued > 0) status = trainer_round(t, &r);
    goto out;
nomem:
    trainer_fail(t, "out of memory queueing tasks");
out:
    sched_round_free(&r);
    free_bodies(bodies, ns);
    return status;
}

/* Workers report data errors per shard in any order and a round stops at the
 * first to arrive, but the error to report is the first in the file: the
 * shards before the reported one that have no summary run (again) until none
 * of them fails, each failure replacing t->err with an earlier one. Returns
 * the exit status for the job. */
static int earliest_summary_error(summary_sink_t *k) {
    trainer_t *t = k->t;
    char found[sizeof t->err];
    for (;;) {
        long bad = split_shard_of_error(&t->sp, t->cfg->data.train, t->err);
        size_t queued = 0;
        snprintf(found, sizeof found, "%s", t->err);
        int status = summary_round(k, bad > 0 ? (size_t)bad : 0, &queued);
        if (!queued) {
            /* none before it, or out of memory: the error in hand is all we know */
            snprintf(t->err, sizeof t->err, "%s", found);
            return EXIT_BAD_DATA;
        }
        if (status == EXIT_BAD_DATA) continue; /* an earlier shard: t->err names it */
        if (t->ctx->stop && *t->ctx->stop) return status;
        /* The shards before it are fine (or failed otherwise: then the error
         * in hand is still the earliest known). */
        snprintf(t->err, sizeof t->err, "%s", found);
        t->data_error = true;
        return EXIT_BAD_DATA;
    }
}

/* The schema of the merged summaries, and what follows from it: classes,
 * features, the model's label values. */
static int fit_schema(trainer_t *t, summary_t *all) {
    const config_t *cfg = t->cfg;
    schema_textopts_t to = {.ngram = cfg->data.ngram,
                            .min_df = cfg->data.min_df,
                            .max_features = cfg->data.max_features,
                            .hash_bits = cfg->data.hash_bits,
                            .tfidf = cfg->data.tfidf};
    t->schema = schema_fit_text(all, &t->src, cfg->data.scale, &to, t->err, sizeof t->err);
    if (!t->schema) return EXIT_BAD_DATA;
    if (!(t->schema_json = schema_to_json(t->schema))) {
        trainer_fail(t, "out of memory");
        return EXIT_JOB_FAILED;
    }
    t->nr_class = schema_nr_class(t->schema);
    if (t->nr_class < 2) {
        snprintf(t->err, sizeof t->err, "%s: the label column has a single class; nothing to train",
                 t->cfg->data.train);
        return EXIT_BAD_DATA;
    }
    t->nr_feature = schema_n_features(t->schema);
    t->nr_w = model_nr_w(t->solver, t->nr_class);
    t->n = t->nr_feature + (t->cfg->model.bias >= 0 ? 1 : 0);
    if (!(t->label_values = malloc((size_t)t->nr_class * sizeof *t->label_values))) {
        trainer_fail(t, "out of memory");
        return EXIT_JOB_FAILED;
    }
    for (int k = 0; k < t->nr_class; k++)
        t->label_values[k] = schema_label_value(t->schema, k);
    return 0;
}

/* Whether name (len bytes) is one of the free-text columns already. */
static bool in_text_cols(const trainer_t *t, const char *name, size_t len) {
    for (const char *p = t->text_cols; p && *p;) {
        const char *nl = strchr(p, '\n');
        if ((size_t)(nl - p) == len && memcmp(p, name, len) == 0) return true;
        p = nl + 1;
    }
    return false;
}

/* Appends name (len bytes) to the free-text columns; -1 when out of memory. */
static int add_text_col(trainer_t *t, const char *name, size_t len) {
    size_t have = t->text_cols ? strlen(t->text_cols) : 0;
    char *n = realloc(t->text_cols, have + len + 2);
    if (!n) return -1;
    memcpy(n + have, name, len);
    n[have + len] = '\n';
    n[have + len + 1] = 0;
    t->text_cols = n;
    t->src.text = n;
    return 0;
}

/* Detection (data.text not given): the columns whose sample passes
 * schema_free_text() join the free-text columns, each logged with its
 * figures. Returns how many, or -1 when out of memory. */
static int detect_text(trainer_t *t, const summary_t *all) {
    char **names = NULL;
    size_t n = 0;
    int found = 0;
    if (csvread_header(t->src.file, t->src.header, t->src.header_len, &names, &n, t->err,
                       sizeof t->err) != 0)
        return -1;
    for (size_t i = 0; i < n && found >= 0; i++) {
        char why[160];
        if (strcmp(names[i], t->src.label) == 0 || (t->src.id && strcmp(names[i], t->src.id) == 0))
            continue;
        if (!schema_free_text(all, i, why, sizeof why)) {
            if (strncmp(why, "0 of 0", 6) != 0)
                log_debug("text: column \"%s\" stays a category column (%s)", names[i], why);
            continue;
        }
        log_info("text: column \"%s\" taken as free text: %s (set data.text to choose the "
                 "columns yourself)",
                 names[i], why);
        found = add_text_col(t, names[i], strlen(names[i])) == 0 ? found + 1 : -1;
    }
    csvread_names_free(names, n);
    if (found < 0) trainer_fail(t, "out of memory");
    return found;
}

/* One summary per shard (sums: NULL entries, left so), merged in shard
 * order into *all. */
static int summarise(trainer_t *t, summary_t **sums, summary_t **all) {
    summary_sink_t k = {t, sums, NULL, 0};
    size_t queued;
    int status = summary_round(&k, t->sp.nshards, &queued);
    if (status == EXIT_BAD_DATA) status = earliest_summary_error(&k);
    if (status == 0 && k.merged != t->sp.nshards) {
        trainer_fail(t, "a shard's summary is missing");
        status = EXIT_JOB_FAILED;
    }
    for (size_t i = 0; i < t->sp.nshards; i++)
        summary_destroy(&sums[i]);
    if (status == 0)
        *all = k.all;
    else
        summary_destroy(&k.all);
    return status;
}

/* One summary per shard, merged in shard order and fitted. When detection
 * finds free-text columns and their terms must be counted (no hashing
 * trick), a second pass counts them: the first only sampled. */
static int schema_pass(trainer_t *t) {
    int status = EXIT_JOB_FAILED;
    summary_t *all = NULL;
    summary_t **sums = calloc(t->sp.nshards ? t->sp.nshards : 1, sizeof *sums);
    if (!sums) {
        trainer_fail(t, "out of memory");
        return EXIT_JOB_FAILED;
    }
    progress_phase(&t->prog, "schema");
    if ((status = summarise(t, sums, &all)) != 0) goto out;
    if (t->src.detect) {
        int found = detect_text(t, all);
        t->src.detect = 0;
        status = EXIT_JOB_FAILED;
        if (found < 0) goto out;
        if (found > 0 && t->src.count_terms) {
            summary_destroy(&all);
            if (send_context(t, false) < 0) goto out;
            if ((status = summarise(t, sums, &all)) != 0) goto out;
        }
    }
    status = fit_schema(t, all);
out:
    for (size_t i = 0; i < t->sp.nshards; i++)
        summary_destroy(&sums[i]);
    free(sums);
    summary_destroy(&all);
    return status;
}

/* The label column must be in a CSV file's header: checked before waiting
 * for workers (exit 3), with a suggestion rather than the whole header. The
 * id column is optional, but one close to a column of the file is a typo:
 * a warning. */
static int check_label_column(trainer_t *t) {
    char **names = NULL;
    size_t n = 0;
    int status = 0;
    if (t->src.format != DATA_CSV) return 0;
    if (csvread_header(t->src.file, t->src.header, t->src.header_len, &names, &n, t->err,
                       sizeof t->err) != 0)
        return EXIT_BAD_DATA;
    size_t k = 0;
    while (k < n && strcmp(names[k], t->src.label) != 0)
        k++;
    if (k == n) {
        suggest_no_column(t->src.file, "label", t->src.label, names, n, t->err, sizeof t->err);
        snprintf(t->err + strlen(t->err), sizeof t->err - strlen(t->err),
                 " (data.label or --label)");
        status = EXIT_BAD_DATA;
    }
    char msg[512];
    if (status == 0 && t->src.id &&
        suggest_optional_column(t->src.file, "id", t->src.id, names, n, msg, sizeof msg))
        log_warn("%s: the rows are numbered instead (data.id or --id)", msg);
    csvread_names_free(names, n);
    return status;
}

/* The free-text columns of data.text must be columns of the file, and
 * neither the label nor the id: checked before waiting for workers (exit
 * 2). Fills t->text_cols and the text part of t->src. */
static int check_text_columns(trainer_t *t) {
    const config_t *cfg = t->cfg;
    char **names = NULL;
    size_t n = 0;
    int status = EXIT_USAGE;
    t->src.detect = !cfg->data.text_set && t->src.format == DATA_CSV;
    t->src.count_terms = cfg->data.hash_bits == 0;
    t->src.ngram = cfg->data.ngram;
    if (t->src.format != DATA_CSV || !cfg->data.text[0]) return 0;
    if (csvread_header(t->src.file, t->src.header, t->src.header_len, &names, &n, t->err,
                       sizeof t->err) != 0)
        return EXIT_BAD_DATA;
    for (const char *p = cfg->data.text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t l = (size_t)(nl - p), k = 0;
        while (k < n && !(strlen(names[k]) == l && memcmp(names[k], p, l) == 0))
            k++;
        if (k == n) {
            char name[256];
            snprintf(name, sizeof name, "%.*s", (int)(l < sizeof name ? l : sizeof name - 1), p);
            suggest_no_column(t->src.file, "text", name, names, n, t->err, sizeof t->err);
            snprintf(t->err + strlen(t->err), sizeof t->err - strlen(t->err),
                     " (data.text or --text)");
            goto out;
        }
        if (strcmp(names[k], t->src.label) == 0 ||
            (t->src.id && strcmp(names[k], t->src.id) == 0)) {
            snprintf(t->err, sizeof t->err,
                     "%s:1: text column \"%.*s\" is the %s column (data.text or --text)",
                     t->src.file, (int)l, p, strcmp(names[k], t->src.label) == 0 ? "label" : "id");
            goto out;
        }
        if (in_text_cols(t, p, l)) { /* a name given twice is one column */
            p = nl + 1;
            continue;
        }
        if (add_text_col(t, p, l) != 0) {
            trainer_fail(t, "out of memory");
            status = EXIT_JOB_FAILED;
            goto out;
        }
        log_info("text: column \"%.*s\" is free text (data.text)", (int)l, p);
        p = nl + 1;
    }
    status = 0;
out:
    csvread_names_free(names, n);
    return status;
}

/* ---- the submission ---- */

typedef struct submission {
    trainer_t *t;
    const tronmsg_item_t *item;
    writer_t *w;
    uint64_t rows, correct;
} submission_t;

/* The round's sink: a shard's "id,label,predicted" lines go to the ordered
 * writer as they arrive. */
static int take_lines(void *arg, uint32_t shard, const void *data, size_t len, const char *worker) {
    submission_t *sub = arg;
    tronmsg_res_t res = {0};
    if (train_exact_answer(sub->t, shard, data, len, worker, sub->item, 1, &res) < 0) return -1;
    const tronmsg_ans_t *a = &res.ans[0];
    sub->rows += a->rows;
    sub->correct += a->correct;
    for (size_t c = 0; c < a->ncells; c++)
        if (metrics_add_cell(sub->t->metrics, (int)a->cells[3 * c], (int)a->cells[3 * c + 1],
                             a->cells[3 * c + 2]) < 0) {
            snprintf(sub->t->err, sizeof sub->t->err, "worker %s answered a label out of range",
                     worker);
            tronmsg_res_free(&res);
            return -1;
        }
    int rc = writer_put(sub->w, shard, a->text, a->text_len, NULL, sub->t->err, sizeof sub->t->err);
    tronmsg_res_free(&res);
    return rc;
}

/* The metrics of the training rows, the classes named by the schema's
 * labels, or by the labels themselves (libsvm). */
static metrics_t *new_metrics(trainer_t *t) {
    int k = t->nr_class > 1 ? t->nr_class : 2;
    const char **names = calloc((size_t)k, sizeof *names);
    char(*num)[24] = calloc((size_t)k, sizeof *num);
    metrics_t *m = NULL;
    if (names && num) {
        for (int i = 0; i < k; i++) {
            names[i] = i < t->nr_class ? schema_label_name(t->schema, i) : NULL;
            if (!names[i]) {
                snprintf(num[i], sizeof num[i], "%d", i < t->nr_class ? t->label_values[i] : i);
                names[i] = num[i];
            }
        }
        m = metrics_new(k, names);
    }
    free(names);
    free(num);
    return m;
}

/* The training submission without a second pass over the file: the workers
 * still hold their parsed shards, so one OP_TRON round with a PRED item for
 * the final weights returns every shard's "id,label,predicted" lines, which
 * the ordered writer (master/writer.h) puts in shard order (= input order)
 * into tmp, the staged file that write_outputs() commits with the model;
 * early shards beyond its memory budget wait in a spool file. */
static int write_submission(trainer_t *t, const char *tmp, double *accuracy) {
    tronmsg_item_t it = {.cls = (uint32_t)t->nr_w,
                         .fold = TRONMSG_ALL_ROWS,
                         .op = TRONMSG_PRED,
                         .flags = TRONMSG_F_TEXT | TRONMSG_F_CELLS,
                         .w = t->w};
    submission_t sub = {.t = t, .item = &it};
    metrics_destroy(&t->metrics);
    if (!(t->metrics = new_metrics(t))) {
        trainer_fail(t, "out of memory");
        return EXIT_JOB_FAILED;
    }
    sched_round_t r = {.op = OP_TRON, .sink = take_lines, .sink_arg = &sub};
    int status = EXIT_JOB_FAILED;
    int fd = open(tmp, O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0) {
        snprintf(t->err, sizeof t->err, "%s: cannot write: %s", tmp, strerror(errno));
        return EXIT_JOB_FAILED;
    }
    progress_phase(&t->prog, "predicting");
    if (!(sub.w = writer_open_stream(fd, tmp, (uint32_t)t->sp.nshards, "id,label,predicted\n",
                                     SUBMISSION_MEM_BUDGET, t->err, sizeof t->err)) ||
        !(r.body = train_exact_request(t, &it, 1)))
        goto out;
    if ((status = trainer_round(t, &r)) != 0 || writer_commit(sub.w, t->err, sizeof t->err) < 0)
        goto out;
    status = EXIT_JOB_FAILED;
    if (fsync(fd) != 0) {
        snprintf(t->err, sizeof t->err, "%s: write failed: %s", tmp, strerror(errno));
        goto out;
    }
    if (sub.rows != t->sp.rows) {
        snprintf(t->err, sizeof t->err, "predictions cover %llu rows of %llu",
                 (unsigned long long)sub.rows, (unsigned long long)t->sp.rows);
        goto out;
    }
    *accuracy = sub.rows ? (double)sub.correct / (double)sub.rows : -1;
    status = 0;
out:
    sched_round_free(&r);
    blob_unref(&r.body);
    writer_close(&sub.w, false);
    if (close(fd) != 0 && status == 0) {
        snprintf(t->err, sizeof t->err, "%s: write failed: %s", tmp, strerror(errno));
        status = EXIT_JOB_FAILED;
    }
    return status;
}

/* The model and its schema, written to their staged files (outputs 0 and 1)
 * by a thread of their own while the workers predict the training rows:
 * formatting millions of weights with %.17g takes seconds, and on the
 * scheduler's thread it would stop the PINGs and heartbeats for as long, so
 * that workers took the master for gone. The thread reads t->w, t->schema
 * and the labels, which nothing changes until it is joined. */
#define SAVER_POLL_MS 10 /* the scheduler's loop between looks at the model writer */

typedef struct saver {
    trainer_t *t;
    outputs_t *outs;
    int rc;
    int64_t done_ms;
    int done; /* atomic: the thread has finished */
    char err[512];
} saver_t;

static void *stage_model(void *arg) {
    saver_t *sv = arg;
    trainer_t *t = sv->t;
    sv->rc = model_write(outputs_stage_path(sv->outs, 0), t->solver, t->nr_class, t->label_values,
                         t->nr_feature, t->cfg->model.bias, t->w, sv->err, sizeof sv->err);
    if (sv->rc == 0 && !outputs_skipped(sv->outs, 1))
        sv->rc = schema_save(t->schema, outputs_stage_path(sv->outs, 1), sv->err, sizeof sv->err);
    sv->done_ms = clock_now_ms();
    __atomic_store_n(&sv->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

/* The model, its schema and the submission (outputs 0, 1, 2 of outs) are
 * written to their staged files and committed together only when all three
 * are complete: a failure anywhere leaves the previous ones as they were
 * (see master/outputs.h for the order of the renames). */
static int write_outputs(trainer_t *t, outputs_t *outs, double *accuracy) {
    saver_t sv = {.t = t, .outs = outs};
    pthread_t th;
    bool threaded = pthread_create(&th, NULL, stage_model, &sv) == 0;
    if (!threaded) stage_model(&sv); /* no thread to be had: the same work, here */
    int status = write_submission(t, outputs_stage_path(outs, 2), accuracy);
    /* the scheduler keeps its loop (PINGs, heartbeats) until the model is
     * written; a stop or cancel ends the polling only: the write finishes,
     * and a submission already complete is committed with it */
    while (threaded && !__atomic_load_n(&sv.done, __ATOMIC_ACQUIRE) &&
           sched_poll(t->s, SAVER_POLL_MS) == 0)
        ;
    if (threaded) pthread_join(th, NULL);
    t->secs_model = (double)(sv.done_ms - t->t0_ms) / 1000.0;
    if (sv.rc < 0) {
        snprintf(t->err, sizeof t->err, "%s", sv.err);
        return EXIT_JOB_FAILED;
    }
    if (status != 0) return status;
    return outputs_commit(outs, t->err, sizeof t->err) < 0 ? EXIT_JOB_FAILED : 0;
}

/* ---- events and messages ---- */

static void publish_started(trainer_t *t) {
    json_object *js = json_object_new_object();
    if (!js) return;
    json_object_object_add(js, "job_id", json_object_new_int64(t->job_id));
    json_object_object_add(js, "mode", json_object_new_string(t->search ? "search" : "train"));
    json_object_object_add(js, "data", json_object_new_string(t->cfg->data.train));
    json_object_object_add(js, "total_tasks", json_object_new_int64((int64_t)t->sp.nshards));
    json_object_object_add(js, "rows_total", json_object_new_int64((int64_t)t->sp.rows));
    json_object_object_add(js, "workers", json_object_new_int(sched_live_workers(t->s)));
    json_object_object_add(js, "solver", json_object_new_string(model_solver_name(t->solver)));
    json_object_object_add(js, "strategy", json_object_new_string(t->exact ? "exact" : "average"));
    events_publish(t->ctx->ev, EV_JOB_STARTED, js);
}

/* The training metrics as JSON (NULL when there are none). */
static json_object *metrics_of(trainer_t *t) {
    return t->metrics && metrics_rows(t->metrics) ? metrics_json(t->metrics) : NULL;
}

/* A search's figures for its metrics: {folds, best, results: [{solver, C,
 * cv_accuracy, cv_log_loss, secs}]}, the results in the order they ran. */
static json_object *search_json(const trainer_t *t) {
    json_object *js = json_object_new_object(), *rs = json_object_new_array();
    if (!js || !rs) {
        json_object_put(js);
        json_object_put(rs);
        return NULL;
    }
    for (int i = 0; i < t->nresults; i++) {
        const search_result_t *r = &t->results[i];
        json_object *o = json_object_new_object();
        if (!o) break;
        json_object_object_add(o, "solver", json_object_new_string(model_solver_name(r->solver)));
        json_object_object_add(o, "C", json_object_new_double(r->c));
        json_object_object_add(o, "cv_accuracy", json_object_new_double(r->accuracy));
        json_object_object_add(o, "cv_log_loss",
                               r->log_loss >= 0 ? json_object_new_double(r->log_loss) : NULL);
        json_object_object_add(o, "secs", json_object_new_double(r->secs));
        json_object *fa = r->fold_accuracy ? json_object_new_array() : NULL;
        for (int f = 0; fa && f < t->folds; f++)
            json_object_array_add(fa, json_object_new_double(r->fold_accuracy[f]));
        json_object_object_add(o, "fold_accuracy", fa);
        json_object_array_add(rs, o);
    }
    json_object_object_add(js, "folds", json_object_new_int(t->ctx->opts->cv_folds));
    json_object_object_add(js, "path", json_object_new_boolean(t->ctx->opts->nc == 0));
    json_object_object_add(js, "best", t->best >= 0 ? json_object_new_int(t->best) : NULL);
    json_object_object_add(js, "final", json_object_new_boolean(t->final));
    json_object_object_add(js, "results", rs);
    return js;
}

/* The metrics of a search: the final model's training metrics (when it
 * trained one), the best CV accuracy and the search's figures. */
static json_object *search_metrics(trainer_t *t) {
    json_object *m = metrics_of(t);
    if (!m) m = json_object_new_object();
    if (!m) return NULL;
    if (t->best >= 0) {
        const search_result_t *b = &t->results[t->best];
        json_object_object_add(m, "cv_accuracy", json_object_new_double(b->accuracy));
        json_object_object_add(m, "best_C", json_object_new_double(b->c));
        json_object_object_add(m, "best_solver",
                               json_object_new_string(model_solver_name(b->solver)));
    }
    json_object_object_add(m, "search", search_json(t));
    return m;
}

static void publish_done(trainer_t *t, int status, double acc, double secs) {
    json_object *jd = json_object_new_object();
    if (!jd) return;
    json_object_object_add(jd, "job_id", json_object_new_int64(t->job_id));
    json_object_object_add(jd, "mode", json_object_new_string(t->search ? "search" : "train"));
    const char *state = master_end_state(t->ctx, status);
    json_object_object_add(jd, "state", json_object_new_string(state));
    json_object_object_add(jd, "duration_s", json_object_new_double(secs));
    json_object_object_add(jd, "accuracy",
                           status == 0 && acc >= 0 ? json_object_new_double(acc) : NULL);
    if (t->folds > 0 && status == 0 && (!t->search || t->best >= 0))
        json_object_object_add(
            jd, "cv_accuracy",
            json_object_new_double(t->search ? t->results[t->best].accuracy : t->cv_accuracy));
    json_object *out = json_object_new_object();
    if (status == 0 && out && (!t->search || t->final)) {
        json_object_object_add(out, "model", json_object_new_string(t->cfg->model.file));
        json_object_object_add(out, "submission", json_object_new_string(t->cfg->output.train));
    }
    json_object_object_add(jd, "outputs", out);
    json_object_object_add(jd, "error",
                           status == 0                       ? NULL
                           : strcmp(state, "cancelled") == 0 ? json_object_new_string("cancelled")
                                                             : json_object_new_string(t->err));
    json_object_object_add(jd, "metrics",
                           status != 0 ? NULL
                           : t->search ? search_metrics(t)
                                       : metrics_of(t));
    events_publish(t->ctx->ev, EV_JOB_DONE, jd);
}

/* The one line a job stopped by a signal ends with: where it stopped and how
 * to go on. --resume applies once the exact strategy has its journal. */
static void stopped_message(trainer_t *t, bool started) {
    int sig = (int)*t->ctx->stop;
    const char *name = sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "a signal";
    char where[64];
    if (started)
        snprintf(where, sizeof where, "in the %s phase", t->prog.phase);
    else
        snprintf(where, sizeof where, "while waiting for workers");
    const char *cmd = t->ctx->opts->command;
    if (!cmd[0]) /* a job submitted over REST */
        snprintf(t->err, sizeof t->err, "stopped by %s %s", name, where);
    else if (t->exact && !t->search && t->journal_key[0] && t->cfg->history.db[0])
        snprintf(t->err, sizeof t->err, "stopped by %s %s; resume with: %s --resume", name, where,
                 cmd);
    else
        snprintf(t->err, sizeof t->err, "stopped by %s %s; run the command again to start over",
                 name, where);
}

/* What a finished job prints: accuracy, the outputs, the time it took. */
static void print_report(trainer_t *t, const outputs_t *outs, double acc, int64_t work_ms,
                         double wait_secs) {
    const config_t *cfg = t->cfg;
    /* Standard output may be the submission itself. */
    FILE *say = outputs_uses_stdout(outs) ? stderr : stdout;
    if (acc >= 0)
        fprintf(say, "Training accuracy = %.4f%% (%llu rows)\n", 100.0 * acc,
                (unsigned long long)t->sp.rows);
    if (t->metrics && t->ctx->opts->verbosity >= 0)
        metrics_print(t->metrics, METRICS_TABLE_CLASSES, say);
    if (t->folds > 0 && !t->search)
        fprintf(say, "Cross Validation Accuracy = %.4f%% (%d folds)\n", 100.0 * t->cv_accuracy,
                t->folds);
    if (t->ctx->opts->verbosity < 0) { /* -q: the results only, as a test job's */
        fflush(stdout);
        return;
    }
    if (t->search && !t->final) { /* --no-final: no outputs */
        fprintf(say, "time: %.2f s (no final model: --no-final), %.2f s waiting for workers\n",
                (double)(clock_now_ms() - work_ms) / 1000.0, wait_secs);
        fflush(stdout);
        return;
    }
    fprintf(say, "model: %s\nschema: %s%s\nsubmission: %s\n", cfg->model.file,
            outputs_skipped(outs, 1) ? "(none: the model is not a file)" : cfg->model.file,
            outputs_skipped(outs, 1) ? "" : ".schema.json", cfg->output.train);
    fprintf(say,
            "time: %.2f s from file to outputs, %.2f s to the model on disk (schema %.2f s, "
            "loading %.2f s, training %.2f s, predicting %.2f s), %.2f s waiting for workers\n",
            (double)(clock_now_ms() - work_ms) / 1000.0, t->secs_model, t->secs_schema,
            t->secs_read, t->secs_tron, t->secs_pred, wait_secs);
    fflush(stdout);
}

/* The model is on disk: the restart point has served its purpose. */
static void forget_journal(trainer_t *t) {
    if (!t->exact || !t->journal_key[0] || !t->cfg->history.db[0]) return;
    char err[512];
    journal_t *j = journal_open(t->cfg->history.db, err, sizeof err);
    if (!j || journal_forget(j, t->journal_key, err, sizeof err) < 0) log_warn("%s", err);
    journal_close(&j);
}

/* ---- the job's phases ---- */

/* Split first: a missing or broken file is reported before waiting for
 * anyone. Then streams open (a FIFO may wait for its reader) and the staged
 * files are made before workers are awaited: an output that cannot be
 * written fails now, not after the training. Prints its own error. */
static int open_inputs(trainer_t *t, outputs_t *outs) {
    const config_t *cfg = t->cfg;
    const char *path = cfg->data.train;
    data_format_t fmt = split_detect_format(path, cfg->data.format);
    size_t shard_rows = cfg->cluster.shard_rows > 0 ? (size_t)cfg->cluster.shard_rows : 0;
    if (split_file(path, fmt, shard_rows, (size_t)cfg->cluster.shard_mb << 20, &t->sp, t->err,
                   sizeof t->err) < 0) {
        log_fail("%s", t->err);
        return EXIT_BAD_DATA;
    }
    t->src = (datasrc_t){.format = fmt,
                         .file = path,
                         .header = t->sp.header,
                         .header_len = t->sp.header_len,
                         .label = cfg->data.label,
                         .id = cfg->data.id[0] ? cfg->data.id : NULL};
    int status = check_label_column(t);
    if (status == 0) status = check_text_columns(t);
    if (status != 0) {
        log_fail("%s", t->err); /* in the run's job.log too */
        return status;
    }
    if (outputs_open(outs, t->s, t->err, sizeof t->err) < 0) {
        log_fail("%s", t->err);
        return EXIT_JOB_FAILED;
    }
    return 0;
}

/* Waits for --min-workers; then, for the exact strategy, a sequence of
 * rounds that each wait for the slowest shard, gives every slot of the
 * cluster a shard of its own. */
static int await_workers(trainer_t *t) {
    const config_t *cfg = t->cfg;
    int want = t->ctx->opts->min_workers > 0 ? t->ctx->opts->min_workers : 1;
    log_info("train: %s, %llu rows in %zu shard(s); waiting for %d worker(s) on port %d",
             cfg->data.train, (unsigned long long)t->sp.rows, t->sp.nshards, want,
             cfg->master.task_port);
    if (sched_wait_workers(t->s, want, -1) < 0) {
        trainer_fail(t, "interrupted while waiting for workers");
        return EXIT_JOB_FAILED;
    }
    if (!t->exact) return 0;
    int slots = sched_total_slots(t->s);
    int rc = split_balance(&t->sp, cfg->data.train, t->src.format, (uint64_t)slots,
                           (size_t)cfg->cluster.shard_mb << 20, t->err, sizeof t->err);
    if (rc < 0) return EXIT_BAD_DATA;
    t->src.header = t->sp.header;
    t->src.header_len = t->sp.header_len;
    if (rc > 0) log_info("train: %zu shard(s) for %d slot(s)", t->sp.nshards, slots);
    return 0;
}

/* The scheduler job (shards, first context), job_started, the progress display. */
static int start_job(trainer_t *t) {
    int rc = sched_begin_split(t->s, t->job_id, t->cfg->data.train, &t->sp, t->err, sizeof t->err);
    if (rc < 0 || send_context(t, false) < 0) return EXIT_JOB_FAILED;
    publish_started(t);
    progress_init(&t->prog, t->s, t->ctx->ev, t->job_id, t->ctx->opts->verbosity < 0);
    return 0;
}

/* ---- search ---- */

/* The search over every solver, then (unless --no-final) the model of the
 * best (solver, C) on every row, the way `train` makes it. */
static int search_job(trainer_t *t, outputs_t *outs, double *acc) {
    const master_opts_t *o = t->ctx->opts;
    const config_t *cfg = t->cfg;
    int one = t->solver;
    const int *solvers = o->nsolvers > 0 ? o->solvers : &one;
    int ns = o->nsolvers > 0 ? o->nsolvers : 1;
    /* the path has at most one C per power of two below 1024 */
    int cap = o->nc > 0 ? o->nc : 2200;
    t->results = calloc((size_t)cap * (size_t)ns, sizeof *t->results);
    t->best = -1;
    if (!t->results) {
        trainer_fail(t, "out of memory");
        return EXIT_JOB_FAILED;
    }
    int status = 0;
    for (int k = 0; k < ns && status == 0; k++) {
        t->solver = solvers[k];
        if (k > 0 && send_context(t, true) < 0) return EXIT_JOB_FAILED;
        status = train_exact_search(t, o->nc > 0 ? o->c_list : NULL, o->nc, t->results,
                                    cap * (k + 1), &t->nresults);
    }
    if (status != 0) return status;
    t->best = search_best(t->results, t->nresults);
    search_print(outputs_uses_stdout(outs) ? stderr : stdout, t->results, t->nresults, t->best,
                 t->folds, t->ctx->opts->verbosity < 0);
    if (o->no_final || t->best < 0) return 0;
    /* the final model: a training job at the best C, no folds */
    config_t fc = *cfg;
    const search_result_t *b = &t->results[t->best];
    fc.model.C = b->c;
    snprintf(fc.model.solver, sizeof fc.model.solver, "%s", model_solver_name(b->solver));
    t->cfg = &fc;
    t->solver = b->solver;
    t->folds = 0;
    log_info("search: training the final model: solver %s, C=%g", model_solver_name(t->solver),
             b->c);
    if (send_context(t, true) < 0)
        status = EXIT_JOB_FAILED;
    else
        status = train_exact(t);
    if (status == 0) {
        int64_t t_pred = clock_now_ms();
        status = write_outputs(t, outs, acc);
        t->secs_pred = (double)(clock_now_ms() - t_pred) / 1000.0;
    }
    t->folds = o->cv_folds;
    t->cfg = cfg;
    t->final = status == 0;
    return status;
}

/* Schema, strategy, outputs: the job proper. */
static int train_job(trainer_t *t, outputs_t *outs, double *acc) {
    const config_t *cfg = t->cfg;
    int64_t t_schema = clock_now_ms();
    int status = schema_pass(t);
    if (status != 0) return status;
    t->secs_schema = (double)(clock_now_ms() - t_schema) / 1000.0;
    if (send_context(t, true) < 0) return EXIT_JOB_FAILED;
    char c[32];
    if (t->search)
        snprintf(c, sizeof c, "C searched");
    else
        snprintf(c, sizeof c, "C=%g", cfg->model.C);
    log_info("schema: %d classes, %d features, solver %s, %s, eps=%g, bias=%g, %s strategy",
             t->nr_class, t->nr_feature, model_solver_name(t->solver), c, cfg->model.eps,
             cfg->model.bias, t->exact ? "exact" : "average");
    if (t->search) {
        status = search_job(t, outs, acc);
        progress_finish(&t->prog);
        return status;
    }
    status = t->exact ? train_exact(t) : train_average(t);
    if (status != 0) return status;
    int64_t t_pred = clock_now_ms();
    status = write_outputs(t, outs, acc);
    t->secs_pred = (double)(clock_now_ms() - t_pred) / 1000.0;
    progress_finish(&t->prog);
    return status;
}

int train_run(master_ctx_t *ctx) {
    trainer_t tr = {.ctx = ctx, .cfg = ctx->cfg, .s = ctx->sched};
    trainer_t *t = &tr;
    const config_t *cfg = ctx->cfg;
    int status = EXIT_USAGE;
    double acc = -1;
    bool started = false;
    outputs_t *outs = NULL;

    t->job_id = ctx->job_id ? ctx->job_id : master_next_job_id();
    t->t0_ms = clock_now_ms();
    t->solver = model_solver_parse(cfg->model.solver); /* known: jobopts_validate() */
    t->exact = jobopts_exact(cfg);
    t->folds = ctx->opts->cv_folds;
    t->search = ctx->opts->cmd == CMD_SEARCH;
    t->best = -1;
    if (t->search) { /* exact by jobopts_validate(); --solvers wins over model.solver */
        if (ctx->opts->nsolvers > 0) t->solver = ctx->opts->solvers[0];
        t->exact = true;
    }
    if (!t->exact && strcmp(cfg->model.strategy, "exact") == 0)
        log_info("solver %s has no distributed exact form; using the average strategy",
                 model_solver_name(t->solver));

    /* The job's files: an output that would destroy an input (or another
     * output) is refused before anything is read (exit 2). */
    status = outputs_for_job(cfg, ctx->opts->config_path, CMD_TRAIN, &outs, t->err, sizeof t->err);
    if (status != EXIT_OK) {
        log_fail("%s", t->err);
        return status;
    }
    if ((status = open_inputs(t, outs)) != 0) {
        outputs_destroy(&outs);
        split_free(&t->sp);
        return status;
    }
    if ((status = await_workers(t)) != 0) goto out;
    double wait_secs = (double)(clock_now_ms() - t->t0_ms) / 1000.0;
    /* The job's duration (dashboard, history) counts work, not the wait for workers. */
    t->t0_ms = clock_now_ms();
    int64_t work_ms = t->t0_ms;
    if ((status = start_job(t)) != 0) goto out;
    started = true;
    if ((status = train_job(t, outs, &acc)) != 0) goto out;
    print_report(t, outs, acc, work_ms, wait_secs);
    publish_done(t, 0, acc, (double)(clock_now_ms() - t->t0_ms) / 1000.0);
    forget_journal(t);
out:
    if (status != 0) {
        progress_finish(&t->prog);
        if (*ctx->stop) stopped_message(t, started);
        if (!t->err[0]) trainer_fail(t, "training failed");
        log_fail("%s", t->err);
        if (started) publish_done(t, status, -1, (double)(clock_now_ms() - t->t0_ms) / 1000.0);
    }
    progress_finish(&t->prog);
    sched_end_job(t->s);
    outputs_destroy(&outs);
    split_free(&t->sp);
    schema_destroy(&t->schema);
    free(t->schema_json);
    free(t->text_cols);
    free(t->label_values);
    free(t->w);
    for (int i = 0; t->results && i < t->nresults; i++)
        free(t->results[i].fold_accuracy);
    free(t->results);
    metrics_destroy(&t->metrics);
    return status;
}
