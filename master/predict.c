#include "master/predict.h"

#include "common/clock.h"
#include "common/csvread.h"
#include "common/csvrow.h"
#include "common/hash.h"
#include "common/jobctx.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/model.h"
#include "common/predmsg.h"
#include "common/proto.h"
#include "common/schema.h"
#include "common/split.h"
#include "common/suggest.h"
#include "master/outputs.h"
#include "master/progress.h"
#include "master/shardjob.h"
#include "master/writer.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct pjob {
    master_ctx_t *ctx;
    const jobctx_t *jc;
    const split_t *sp;
    writer_t *w;
    bool prob, has_id;
    int nr_class;
    /* Truth indices a worker sends: model class indices for libsvm, schema
     * label indices for CSV; nr_class means a label the model does not know. */
    int *model_to_truth; /* model class -> truth index */
    char **model_text;   /* CSV-escaped label text per model class */
    metrics_t *metrics;  /* truth x predicted, both as truth indices */
    double *probt;       /* a row's probabilities by truth index (prob jobs) */
    bool counts_partial; /* a shard done by an earlier run left no counts */
    uint64_t rows_done;
    csvrow_t out; /* the lines of the shard at hand (quote_blanks set) */
    char *meta;
    size_t meta_cap;
    char err[1024];
} pjob_t;

static int put_str(pjob_t *j, const char *s) {
    return csvrow_text(&j->out, s, strlen(s));
}

/* Per-shard meta for the writer's journal: "labelled,correct[,t:k:n...]" so
 * that a resumed run restores the accuracy and the confusion matrix. */
static const char *make_meta(pjob_t *j, uint64_t labelled, uint64_t correct, const uint64_t *conf) {
    size_t cells = (size_t)(j->nr_class + 1) * (size_t)j->nr_class;
    size_t need = 48 + cells * 64;
    if (need > WRITER_MAX_META) need = WRITER_MAX_META;
    if (need > j->meta_cap) {
        char *nb = realloc(j->meta, need);
        if (!nb) return NULL;
        j->meta = nb;
        j->meta_cap = need;
    }
    size_t off = (size_t)snprintf(j->meta, j->meta_cap, "%" PRIu64 ",%" PRIu64, labelled, correct);
    for (size_t c = 0; c < cells; c++) {
        if (!conf[c]) continue;
        char cell[64];
        int n = snprintf(cell, sizeof cell, ",%zu:%zu:%" PRIu64, c / (size_t)j->nr_class,
                         c % (size_t)j->nr_class, conf[c]);
        if (off + (size_t)n + 8 >= j->meta_cap) {
            /* Too many classes to journal: accuracy survives, the matrix is
             * reported as partial after a resume. */
            snprintf(j->meta + off, j->meta_cap - off, ",p");
            break;
        }
        memcpy(j->meta + off, cell, (size_t)n + 1);
        off += (size_t)n;
    }
    return j->meta;
}

static void take_meta(pjob_t *j, const char *m) {
    uint64_t l = 0, c = 0, cl = 0, cc = 0;
    int used = 0;
    size_t k = (size_t)j->nr_class;
    if (sscanf(m, "%" SCNu64 ",%" SCNu64 "%n", &l, &c, &used) != 2) {
        j->counts_partial = true;
        return;
    }
    /* cells are (truth, model class): the metrics count model classes as
     * the truth indices they stand for */
    for (const char *p = m + used; *p == ',';) {
        size_t t, mk;
        uint64_t n;
        int u = 0;
        if (sscanf(p, ",%zu:%zu:%" SCNu64 "%n", &t, &mk, &n, &u) != 3 || t > k || mk >= k) {
            j->counts_partial = true; /* ",p": too many cells to journal */
            break;
        }
        int pt = j->model_to_truth[mk];
        metrics_add_cell(j->metrics, (int)t, pt, n);
        cl += n;
        cc += (int)t == pt ? n : 0;
        p += u;
    }
    if (l > cl) metrics_add_totals(j->metrics, l - cl, c > cc ? c - cc : 0);
}

/* The round's sink: a shard's answer becomes its block of output lines, handed
 * to the ordered writer at once. */
static int take_shard(void *arg, uint32_t shard, const void *data, size_t len, const char *worker) {
    pjob_t *j = arg;
    predmsg_t m;
    predmsg_row_t row;
    uint64_t *conf = NULL;
    int rc = -1;
    const shard_range_t *sh = &j->sp->shards[shard];
    char why[256] = "";
    if (predmsg_open(&m, data, len, (uint32_t)j->nr_class + 1, why, sizeof why) < 0 ||
        (m.nr_class != (uint32_t)j->nr_class &&
         snprintf(why, sizeof why, "wrong class count") > 0) ||
        (m.rows != sh->rows && snprintf(why, sizeof why, "wrong row count") > 0) ||
        (m.first_row != sh->first_row && snprintf(why, sizeof why, "wrong first row") > 0) ||
        (j->prob && !m.prob && snprintf(why, sizeof why, "no probabilities") > 0)) {
        snprintf(j->err, sizeof j->err, "worker %s answered shard %u wrongly: %s", worker, shard,
                 why);
        return -1;
    }
    size_t cells = (size_t)(j->nr_class + 1) * (size_t)j->nr_class;
    conf = calloc(cells, sizeof *conf);
    if (!conf) goto nomem;
    uint64_t labelled = 0, correct = 0, rowno = sh->first_row;
    j->out.out.len = 0;
    while (predmsg_next(&m, &row) == 1) {
        rowno++;
        char num[32];
        if (j->has_id) {
            if (csvrow_field(&j->out, row.id ? row.id : "", row.idlen) < 0) goto nomem;
        } else {
            snprintf(num, sizeof num, "%" PRIu64, rowno);
            if (put_str(j, num) < 0) goto nomem;
        }
        if (put_str(j, ",") < 0 || put_str(j, j->model_text[row.pred]) < 0) goto nomem;
        if (j->prob) {
            for (int k = 0; k < j->nr_class; k++) {
                snprintf(num, sizeof num, ",%g", predmsg_prob(&row, (uint32_t)k));
                if (put_str(j, num) < 0) goto nomem;
            }
        }
        if (put_str(j, "\n") < 0) goto nomem;
        if (row.truth >= 0) {
            int pt = j->model_to_truth[row.pred];
            labelled++;
            correct += pt == row.truth;
            conf[(size_t)row.truth * (size_t)j->nr_class + (size_t)row.pred]++;
            for (int k = 0; j->prob && k < j->nr_class; k++)
                j->probt[j->model_to_truth[k]] = predmsg_prob(&row, (uint32_t)k);
            if (metrics_add(j->metrics, row.truth, pt, j->prob ? j->probt : NULL) < 0) goto nomem;
        }
    }
    const char *meta = make_meta(j, labelled, correct, conf);
    if (!meta) goto nomem;
    if (writer_put(j->w, shard, j->out.out.p, j->out.out.len, meta, j->err, sizeof j->err) < 0)
        goto out;
    j->rows_done += sh->rows;
    rc = 0;
    goto out;
nomem:
    snprintf(j->err, sizeof j->err, "out of memory formatting shard %u", shard);
out:
    free(conf);
    return rc;
}

/* The persisted resume key: its value must not change (common/hash.h). */
static uint64_t fnv(uint64_t h, const void *p, size_t n) {
    return hash_fnv1a_add(h, p, n);
}

/* Names the job for resume: the data file as it is now, the model, the shard
 * layout and what is written. A different key starts afresh. */
static void job_key(const char *data_path, const jobctx_t *jc, const split_t *sp, bool prob,
                    char *out, size_t outlen) {
    struct stat st;
    uint64_t h = HASH_FNV1A_BASIS;
    h = fnv(h, data_path, strlen(data_path) + 1);
    if (stat(data_path, &st) == 0) {
        h = fnv(h, &st.st_size, sizeof st.st_size);
        int64_t mt[2] = {(int64_t)st.st_mtim.tv_sec, (int64_t)st.st_mtim.tv_nsec};
        h = fnv(h, mt, sizeof mt);
        h = fnv(h, &st.st_ino, sizeof st.st_ino);
    }
    h = fnv(h, &sp->nshards, sizeof sp->nshards);
    /* Field by field: the struct's padding bytes are not data. */
    for (size_t i = 0; i < sp->nshards; i++) {
        const shard_range_t *r = &sp->shards[i];
        uint64_t f[5] = {r->offset, r->length, r->first_row, r->first_line, r->rows};
        h = fnv(h, f, sizeof f);
    }
    /* The first flag said "with a label column" when this engine also wrote
     * the training submission; it stays so that keys do not change. */
    int flags[5] = {0, prob, jc->nr_class, jc->nr_feature, jc->solver};
    h = fnv(h, flags, sizeof flags);
    h = fnv(h, &jc->bias, sizeof jc->bias);
    h = fnv(h, jc->labels, sizeof *jc->labels * (size_t)jc->nr_class);
    h = fnv(h, jc->w,
            sizeof *jc->w * (size_t)jc->nr_w * ((size_t)jc->nr_feature + (jc->bias >= 0)));
    if (jc->schema_json) h = fnv(h, jc->schema_json, jc->schema_len);
    snprintf(out, outlen, "predict-%016" PRIx64, h);
}

static void pjob_free(pjob_t *j) {
    for (int k = 0; j->model_text && k < j->nr_class; k++)
        free(j->model_text[k]);
    free(j->model_text);
    free(j->model_to_truth);
    free(j->probt);
    metrics_destroy(&j->metrics);
    csvrow_free(&j->out);
    free(j->meta);
}

/* Label texts and the model-class -> truth-index map. For CSV the schema's
 * label whose model value is labels[k] is class k's; libsvm uses the model's
 * own labels. Fails when the schema and the model disagree. */
static int pjob_labels(pjob_t *j, const schema_t *schema, char *err, size_t errlen) {
    const jobctx_t *jc = j->jc;
    int n = j->nr_class;
    char **names = calloc((size_t)n, sizeof *names); /* by truth index, as they are */
    int rc = -1;
    j->model_text = calloc((size_t)n, sizeof *j->model_text);
    j->model_to_truth = calloc((size_t)n, sizeof *j->model_to_truth);
    j->probt = calloc((size_t)n, sizeof *j->probt);
    if (!names || !j->model_text || !j->model_to_truth || !j->probt) goto nomem;
    for (int k = 0; k < n; k++) {
        int t = k;
        char num[16];
        const char *text = num;
        if (jc->format == JOBCTX_CSV) {
            for (t = 0; t < n && schema_label_value(schema, t) != jc->labels[k]; t++)
                ;
            if (t == n) {
                snprintf(err, errlen, "the schema has no label for the model's class %d",
                         jc->labels[k]);
                goto out;
            }
            text = schema_label_name(schema, t);
        } else {
            snprintf(num, sizeof num, "%d", jc->labels[k]);
        }
        j->model_to_truth[k] = t;
        if (!(j->model_text[k] = csvrow_field_dup(&j->out, text))) goto nomem;
        if (!(names[t] = strdup(text))) goto nomem;
    }
    if (!(j->metrics = metrics_new(n, (const char *const *)names))) goto nomem;
    rc = 0;
    goto out;
nomem:
    snprintf(err, errlen, "out of memory");
out:
    for (int t = 0; names && t < n; t++)
        free(names[t]);
    free(names);
    return rc;
}

/* The output's first line: "id,predicted[,prob_<label>...]" (owned by the
 * caller), NULL when out of memory. */
static char *header_line(pjob_t *j) {
    j->out.out.len = 0;
    if (put_str(j, "id,predicted") < 0) return NULL;
    for (int k = 0; j->prob && k < j->nr_class; k++) {
        size_t n = strlen(j->model_text[k]);
        char *name = malloc(n + 8);
        if (!name) return NULL;
        /* prob_<label>: quote the whole name when the label needed quotes. */
        if (j->model_text[k][0] == '"')
            snprintf(name, n + 8, "\"prob_%s", j->model_text[k] + 1);
        else
            snprintf(name, n + 8, "prob_%s", j->model_text[k]);
        int rc = put_str(j, ",") < 0 || put_str(j, name) < 0 ? -1 : 0;
        free(name);
        if (rc < 0) return NULL;
    }
    if (csvrow_text(&j->out, "\n", 2) < 0) return NULL; /* with the NUL */
    return strdup((const char *)j->out.out.p);
}

/* What the job writes: whether the test file has the id column, the label
 * texts and the header line. Returns an exit status. */
static int pjob_prepare(pjob_t *j, const char *data_path, const schema_t *schema, char **header,
                        char *err, size_t errlen) {
    const split_t *sp = j->sp;
    if (sp->format == DATA_CSV && j->jc->id && sp->header) {
        char **names = NULL;
        size_t n = 0;
        if (csvread_header(data_path, sp->header, sp->header_len, &names, &n, err, errlen) < 0)
            return EXIT_BAD_DATA;
        for (size_t i = 0; i < n; i++)
            j->has_id |= strcmp(names[i], j->jc->id) == 0;
        csvread_names_free(names, n);
    }
    if (pjob_labels(j, schema, err, errlen) < 0) return EXIT_BAD_DATA;
    if (!(*header = header_line(j))) {
        snprintf(err, errlen, "out of memory");
        return EXIT_JOB_FAILED;
    }
    return EXIT_OK;
}

/* Opens the ordered writer on output 0 (a stream in place, a file with its
 * journal for --resume) and restores the accuracy of shards already done. */
static int open_writer(master_ctx_t *ctx, pjob_t *j, const char *data_path, const outputs_t *outs,
                       const char *header, char *err, size_t errlen) {
    const split_t *sp = j->sp;
    char key[64];
    job_key(data_path, j->jc, sp, j->prob, key, sizeof key);
    j->w = shardjob_open_writer(ctx, outs, sp, header, key, err, errlen);
    if (!j->w) return -1;
    for (size_t i = 0; i < sp->nshards; i++) {
        const char *m = writer_meta(j->w, (uint32_t)i);
        if (writer_has(j->w, (uint32_t)i)) {
            if (m)
                take_meta(j, m);
            else
                j->counts_partial = true;
        }
    }
    return 0;
}

/* After a job: the accuracy line, the metrics table (unless -q) and, with
 * -v, the confusion matrix. */
static void report(master_ctx_t *ctx, pjob_t *j, const outputs_t *outs) {
    uint64_t rows = metrics_rows(j->metrics), correct = metrics_correct(j->metrics);
    if (!rows) return;
    /* Standard output may be the predictions themselves. */
    FILE *to = outputs_uses_stdout(outs) ? stderr : stdout;
    fprintf(to, "Accuracy = %.4f%% (%" PRIu64 "/%" PRIu64 ")\n",
            100.0 * (double)correct / (double)rows, correct, rows);
    if (ctx->opts->verbosity >= 0) metrics_print(j->metrics, METRICS_TABLE_CLASSES, to);
    if (ctx->opts->verbosity > 0) metrics_print_confusion(j->metrics, j->counts_partial, to);
}

/* The prediction job proper. sp is the split of data_path; outs holds the
 * output as its output 0 (checked and open). A regular file is replaced by
 * the writer's atomic commit; a stream gets the lines in order as they come.
 * Returns an exit status; err says why when not 0. */
static int predict_core(master_ctx_t *ctx, uint32_t job_id, const char *data_path,
                        const split_t *sp, const jobctx_t *jc, const schema_t *schema,
                        const outputs_t *outs, json_object **metrics, char *err, size_t errlen) {
    pjob_t j = {.ctx = ctx, .jc = jc, .sp = sp, .nr_class = jc->nr_class};
    j.out.quote_blanks = true;
    bool keep = false;
    char *header = NULL;
    progress_t prog = {0};

    j.prob = jc->want_prob;
    int status = pjob_prepare(&j, data_path, schema, &header, err, errlen);
    if (status != EXIT_OK) goto out;
    status = EXIT_JOB_FAILED;
    if (open_writer(ctx, &j, data_path, outs, header, err, errlen) < 0) goto out;
    if (shardjob_begin(ctx, job_id, data_path, sp, jc, err, errlen) < 0) goto out;
    progress_init(&prog, ctx->sched, ctx->ev, job_id, ctx->opts->verbosity < 0);
    progress_phase(&prog, "predicting");
    shardjob_t sj = {.ctx = ctx,
                     .sp = sp,
                     .w = j.w,
                     .file = jc->file,
                     .op = OP_PREDICT,
                     .sink = take_shard,
                     .sink_arg = &j,
                     .sink_err = j.err};
    status = shardjob_run(&sj, outs, &keep, err, errlen);
    progress_finish(&prog);
    if (status != EXIT_OK) goto out;
    report(ctx, &j, outs);
    if (metrics_rows(j.metrics)) *metrics = metrics_json(j.metrics);
out:
    progress_finish(&prog);
    writer_close(&j.w, keep);
    sched_end_job(ctx->sched); /* safe when shardjob_begin failed or never ran */
    free(header);
    pjob_free(&j);
    return status;
}

/* liblinear's load_model() prints to stderr on a file that is not a model;
 * looking at the first word first keeps our error to one line. */
static bool looks_like_model(const char *path) {
    char word[16] = "";
    FILE *f = fopen(path, "r");
    if (!f) return true; /* model_load() names the open error */
    bool ok = fscanf(f, "%15s", word) == 1 && strcmp(word, "solver_type") == 0;
    fclose(f);
    return ok;
}

/* model_load() with liblinear's own stderr chatter ("ERROR: fscanf failed
 * to read the model") silenced: the contract is one error line, ours. */
static struct model *load_model_quietly(const char *path, char *err, size_t errlen) {
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (saved >= 0 && devnull >= 0) dup2(devnull, STDERR_FILENO);
    struct model *m = model_load(path, err, errlen);
    if (saved >= 0 && devnull >= 0) {
        fflush(stderr);
        dup2(saved, STDERR_FILENO);
    }
    if (saved >= 0) close(saved);
    if (devnull >= 0) close(devnull);
    return m;
}

/* The schema's column name of a kind (label or id), or fallback. */
static const char *schema_col_name(const schema_t *s, schema_kind_t kind, const char *fallback) {
    for (size_t c = 0; s && c < schema_ncols(s); c++)
        if (schema_column_kind(s, c) == kind) return schema_column_name(s, c);
    return fallback;
}

/* The model of a test job: a liblinear classification model, or NULL with
 * err (a bad input, exit 3). */
static struct model *load_test_model(const char *path, char *err, size_t errlen) {
    struct stat st;
    if (stat(path, &st) != 0 && errno == ENOENT) { /* the usual first mistake: test first */
        snprintf(err, errlen,
                 "no model %s: train first (master train --data TRAIN.csv) or name one with "
                 "--model FILE",
                 path);
        return NULL;
    }
    if (!looks_like_model(path)) {
        snprintf(err, errlen,
                 "%s is not a liblinear model file (no solver_type line); "
                 "train one with `master train` or liblinear-train",
                 path);
        return NULL;
    }
    struct model *m = load_model_quietly(path, err, errlen);
    if (!m) return NULL;
    int solver = m->param.solver_type;
    if (solver == L2R_L2LOSS_SVR || solver == L2R_L1LOSS_SVR_DUAL ||
        solver == L2R_L2LOSS_SVR_DUAL || !model_solver_name(solver) || m->nr_class < 1 ||
        m->nr_feature < 0) {
        snprintf(err, errlen, "%s: a %s model: testing needs a classification model", path,
                 model_solver_name(solver) ? model_solver_name(solver) : "regression");
        free_and_destroy_model(&m);
    }
    return m;
}

/* The model's schema: MODEL.schema.json, or for a libsvm test file without
 * one, the schema of the model's labels and features. Returns an exit status. */
static int load_test_schema(const char *model_path, const struct model *m, data_format_t fmt,
                            schema_t **out, char *err, size_t errlen) {
    char schema_path[CONFIG_PATH + 16];
    struct stat st;
    snprintf(schema_path, sizeof schema_path, "%s.schema.json", model_path);
    if (stat(schema_path, &st) == 0) {
        if (!(*out = schema_load(schema_path, err, errlen))) return EXIT_BAD_DATA;
    } else if (fmt == DATA_LIBSVM) {
        if (!(*out = schema_for_libsvm(m->nr_feature, m->label, m->nr_class))) {
            snprintf(err, errlen, "out of memory");
            return EXIT_JOB_FAILED;
        }
    } else {
        snprintf(err, errlen,
                 "%s: missing: a CSV test file needs the schema that "
                 "`master train` saves beside the model",
                 schema_path);
        return EXIT_BAD_DATA;
    }
    if (schema_nr_class(*out) != m->nr_class || schema_n_features(*out) != m->nr_feature) {
        snprintf(err, errlen,
                 "%s does not match %s (%d classes, %d features in the schema; "
                 "%d and %d in the model)",
                 schema_path, model_path, schema_nr_class(*out), schema_n_features(*out),
                 m->nr_class, m->nr_feature);
        return EXIT_BAD_DATA;
    }
    return EXIT_OK;
}

/* The job context of a test job: data source, model weights and, for CSV,
 * the header and the schema. 0, or -1 when out of memory. */
static int test_context(jobctx_t *jc, const struct model *m, const datasrc_t *src,
                        const schema_t *schema) {
    int solver = m->param.solver_type;
    jc->format = src->format == DATA_LIBSVM ? JOBCTX_LIBSVM : JOBCTX_CSV;
    jc->solver = solver;
    jc->C = 1; /* unused for prediction; load_model() leaves param.C unset */
    jc->bias = m->bias;
    jc->has_model = true;
    jc->nr_class = m->nr_class;
    jc->nr_feature = m->nr_feature;
    jc->nr_w = model_nr_w(solver, m->nr_class);
    jc->want_prob = solver == L2R_LR || solver == L1R_LR || solver == L2R_LR_DUAL;
    size_t nw = (size_t)jc->nr_w * ((size_t)jc->nr_feature + (jc->bias >= 0));
    jc->file = strdup(src->file);
    jc->label = strdup(src->label);
    jc->id = strdup(src->id);
    jc->labels = malloc(sizeof *jc->labels * (size_t)jc->nr_class);
    jc->w = malloc(sizeof *jc->w * (nw ? nw : 1));
    if (!jc->file || !jc->label || !jc->id || !jc->labels || !jc->w) return -1;
    memcpy(jc->labels, m->label, sizeof *jc->labels * (size_t)jc->nr_class);
    memcpy(jc->w, m->w, sizeof *jc->w * nw);
    if (src->format != DATA_CSV) return 0;
    jc->header = malloc(src->header_len + 1);
    jc->schema_json = schema_to_json(schema);
    if (!jc->header || !jc->schema_json) return -1;
    memcpy(jc->header, src->header, src->header_len);
    jc->header[src->header_len] = 0;
    jc->header_len = src->header_len;
    jc->schema_len = strlen(jc->schema_json);
    return 0;
}

static void test_context_free(jobctx_t *jc) {
    free(jc->file);
    free(jc->header);
    free(jc->label);
    free(jc->id);
    free(jc->schema_json);
    free(jc->labels);
    free(jc->w);
}

/* The id column is optional in a test file, but one close to a column of
 * the file is a typo: a warning, before any worker is awaited. */
static void warn_id_typo(const datasrc_t *src) {
    char **names = NULL, msg[512], why[256];
    size_t n = 0;
    if (src->format != DATA_CSV || !src->id || !src->id[0] ||
        csvread_header(src->file, src->header, src->header_len, &names, &n, why, sizeof why) != 0)
        return;
    if (suggest_optional_column(src->file, "id", src->id, names, n, msg, sizeof msg))
        log_warn("%s: the rows are numbered instead (data.id or --id)", msg);
    csvread_names_free(names, n);
}

/* Model, schema, test file (split and checked against the schema) and job
 * context: everything before the workers. Returns an exit status. */
static int prepare_test(const config_t *cfg, struct model **m, schema_t **schema, split_t *sp,
                        jobctx_t *jc, char *err, size_t errlen) {
    const char *data = cfg->data.test;
    if (!(*m = load_test_model(cfg->model.file, err, errlen))) return EXIT_BAD_DATA;
    data_format_t fmt = split_detect_format(data, cfg->data.format);
    int status = load_test_schema(cfg->model.file, *m, fmt, schema, err, errlen);
    if (status != EXIT_OK) return status;
    if (split_file(data, fmt, (size_t)cfg->cluster.shard_rows, (size_t)cfg->cluster.shard_mb << 20,
                   sp, err, errlen) < 0)
        return EXIT_BAD_DATA;
    datasrc_t src = {.format = fmt,
                     .file = data,
                     .header = sp->header,
                     .header_len = sp->header_len,
                     .label = schema_col_name(*schema, SCHEMA_LABEL, cfg->data.label),
                     .id = schema_col_name(*schema, SCHEMA_ID, cfg->data.id)};
    if (schema_check_source(*schema, &src, err, errlen) < 0) return EXIT_BAD_DATA;
    warn_id_typo(&src);
    if (test_context(jc, *m, &src, *schema) < 0) {
        snprintf(err, errlen, "out of memory");
        return EXIT_JOB_FAILED;
    }
    return EXIT_OK;
}

int predict_run(master_ctx_t *ctx) {
    const config_t *cfg = ctx->cfg;
    const char *data = cfg->data.test, *out = cfg->output.test;
    char err[4096] = "";
    struct model *m = NULL;
    schema_t *schema = NULL;
    split_t sp = {0};
    jobctx_t jc = {0};
    uint32_t job_id = ctx->job_id ? ctx->job_id : master_next_job_id();
    outputs_t *files = NULL;

    /* The job's files first: an output that would destroy an input is refused
     * before anything is read (exit 2). */
    int status = outputs_for_job(cfg, ctx->opts->config_path, CMD_TEST, &files, err, sizeof err);
    if (status == EXIT_OK) status = prepare_test(cfg, &m, &schema, &sp, &jc, err, sizeof err);
    if (status != EXIT_OK) goto out;
    status = EXIT_JOB_FAILED;
    /* Streams open (a FIFO may wait for its reader) before workers are awaited. */
    if (outputs_open(files, ctx->sched, err, sizeof err) < 0 ||
        shardjob_await_workers(ctx, &sp, data, sp.format, err, sizeof err) < 0)
        goto out;
    int64_t t0 = clock_now_ms(); /* the job's duration counts work, not the wait for workers */
    shardjob_publish_started(ctx, job_id, "test", data, &sp);
    json_object *metrics = NULL;
    status = predict_core(ctx, job_id, data, &sp, &jc, schema, files, &metrics, err, sizeof err);
    if (status == EXIT_OK && ctx->opts->verbosity >= 0)
        fprintf(outputs_uses_stdout(files) ? stderr : stdout,
                "wrote %" PRIu64 " predictions to %s\n", sp.rows, out);
    if (status == EXIT_OK) fflush(stdout);
    shardjob_publish_done(ctx, job_id, status, t0, metrics, out, err);
out:
    if (status != EXIT_OK) log_fail("%s", err);
    outputs_destroy(&files);
    split_free(&sp);
    schema_destroy(&schema);
    if (m) free_and_destroy_model(&m);
    test_context_free(&jc);
    return status;
}
