/* trainer: the state of one training job, shared by the job driver
 * (master/train.c) and its two strategies (master/train_exact.c,
 * master/train_average.c).
 *
 * The driver fills everything up to the schema (split, data source, schema,
 * classes, features) before it calls a strategy; a strategy leaves the model
 * in w (liblinear layout w[j*nr_w + k], n rows of nr_w) and its timings in
 * secs_*. Every function that can fail returns an exit status of master.h
 * (0, EXIT_JOB_FAILED, EXIT_BAD_DATA) with the one-line reason in err.
 */
#ifndef NC_TRAINER_H
#define NC_TRAINER_H

#include "common/metrics.h"
#include "common/schema.h"
#include "common/split.h"
#include "master/master.h"
#include "master/progress.h"
#include "master/sched.h"
#include "master/search.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct trainer {
    master_ctx_t *ctx;
    const config_t *cfg;
    sched_t *s;
    uint32_t job_id;
    int solver;
    bool exact;
    int folds; /* --cv K, 0 = none */
    split_t sp;
    datasrc_t src;
    char *text_cols; /* free-text columns, '\n'-ended (src.text points here) */
    schema_t *schema;
    char *schema_json;
    int nr_class, nr_w, nr_feature, n;
    int *label_values;
    double *w; /* the model, liblinear layout w[j*nr_w + k] */
    progress_t prog;
    int64_t t0_ms;
    char err[4096];
    bool data_error;
    char journal_key[2 * CONFIG_PATH]; /* set by the exact strategy */
    double cv_accuracy;
    double cv_log_loss;       /* mean held-out log loss (solver 0), -1 otherwise */
    double *cv_folds;         /* [folds]: each fold's held-out accuracy, set with cv_accuracy when
                               * not NULL (the caller's array) */
    metrics_t *metrics;       /* of the training rows' predictions (the submission) */
    bool search;              /* a search job (master search) */
    search_result_t *results; /* search: one per (solver, C), in the order run */
    int nresults, best;       /* best: index in results, -1 none */
    bool final;               /* search: the best C's model was trained */
    double secs_tron, secs_read, secs_schema, secs_pred;
    double secs_model; /* from the start of the work to the model on disk */
} trainer_t;

/* Sends workers a new job context (common/jobctx.h): the data source and
 * training parameters, the schema when with_schema, and the file's rows when
 * data is not NULL (class-parallel training). 0, or -1 with t->err set. */
int trainer_set_context(trainer_t *t, bool with_schema, const char *data, size_t data_len,
                        uint64_t data_first_line);

/* Sets t->err to msg. */
void trainer_fail(trainer_t *t, const char *msg);

/* Runs one scheduler round (see sched_round) and frees nothing: the caller
 * reads r->answers and calls sched_round_free(). Maps the outcome to an exit
 * status: a worker's data error is EXIT_BAD_DATA, a stop or any other failure
 * EXIT_JOB_FAILED; t->err keeps a reason already set by a sink. */
int trainer_round(trainer_t *t, sched_round_t *r);

#endif
