#include "master/predict.h"

#include "common/clock.h"
#include "common/csvread.h"
#include "common/hash.h"
#include "common/log.h"
#include "common/model.h"
#include "common/predmsg.h"
#include "common/proto.h"
#include "common/schema.h"
#include "common/split.h"
#include "master/outputs.h"
#include "master/progress.h"
#include "master/writer.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Early shards held in memory by the writer; the rest goes to its spool. */
#define PREDICT_MEM_BUDGET (32u << 20)

typedef struct pjob {
    master_ctx_t *ctx;
    const jobctx_t *jc;
    const split_t *sp;
    writer_t *w;
    bool with_label, prob, has_id;
    int nr_class;
    /* Truth indices a worker sends: model class indices for libsvm, schema
     * label indices for CSV; nr_class means a label the model does not know. */
    int *model_to_truth; /* model class -> truth index */
    char **truth_text;   /* CSV-escaped label text per truth index */
    char **model_text;   /* CSV-escaped label text per model class */
    uint64_t *confusion; /* (nr_class + 1) x nr_class: truth x predicted model class */
    bool confusion_partial;
    uint64_t labelled, correct, rows_done;
    char *buf, *meta;
    size_t len, cap, meta_cap;
    char err[1024];
} pjob_t;

static int buf_reserve(pjob_t *j, size_t more) {
    if (j->len + more <= j->cap) return 0;
    size_t cap = j->cap ? j->cap : 65536;
    while (cap < j->len + more)
        cap *= 2;
    char *nb = realloc(j->buf, cap);
    if (!nb) return -1;
    j->buf = nb;
    j->cap = cap;
    return 0;
}

/* Appends text as one CSV field, quoted when it holds a separator, a quote,
 * a line end or outer blanks (so that readers do not trim it). */
static int put_field(pjob_t *j, const char *s, size_t n) {
    bool quote = n > 0 && (s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' || s[n - 1] == '\t');
    for (size_t i = 0; i < n && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
    if (buf_reserve(j, 2 * n + 3) < 0) return -1;
    if (!quote) {
        memcpy(j->buf + j->len, s, n);
        j->len += n;
        return 0;
    }
    j->buf[j->len++] = '"';
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"') j->buf[j->len++] = '"';
        j->buf[j->len++] = s[i];
    }
    j->buf[j->len++] = '"';
    return 0;
}

static int put_str(pjob_t *j, const char *s) {
    size_t n = strlen(s);
    if (buf_reserve(j, n) < 0) return -1;
    memcpy(j->buf + j->len, s, n);
    j->len += n;
    return 0;
}

static char *escape_dup(pjob_t *j, const char *s) {
    size_t saved = j->len;
    if (put_field(j, s, strlen(s)) < 0 || buf_reserve(j, 1) < 0) return NULL;
    j->buf[j->len] = 0;
    char *out = strdup(j->buf + saved);
    j->len = saved;
    return out;
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
    uint64_t l = 0, c = 0;
    int used = 0;
    if (sscanf(m, "%" SCNu64 ",%" SCNu64 "%n", &l, &c, &used) != 2) {
        j->confusion_partial = true;
        return;
    }
    j->labelled += l;
    j->correct += c;
    for (const char *p = m + used; *p == ',';) {
        size_t t, k;
        uint64_t n;
        int u = 0;
        if (sscanf(p, ",%zu:%zu:%" SCNu64 "%n", &t, &k, &n, &u) != 3 || t > (size_t)j->nr_class ||
            k >= (size_t)j->nr_class) {
            j->confusion_partial = true;
            return;
        }
        j->confusion[t * (size_t)j->nr_class + k] += n;
        p += u;
    }
}

static int on_result(void *arg, const sched_result_t *r) {
    pjob_t *j = arg;
    predmsg_t m;
    predmsg_row_t row;
    uint64_t *conf = NULL;
    int rc = -1;
    if (r->shard >= j->sp->nshards) {
        snprintf(j->err, sizeof j->err, "result for unknown shard %u", r->shard);
        return -1;
    }
    const shard_range_t *sh = &j->sp->shards[r->shard];
    char why[256];
    if (predmsg_open(&m, r->data, r->len, (uint32_t)j->nr_class + 1, why, sizeof why) < 0 ||
        m.nr_class != (uint32_t)j->nr_class || m.rows != sh->rows || m.first_row != sh->first_row ||
        (j->prob && !m.prob)) {
        snprintf(j->err, sizeof j->err, "worker %s answered shard %u wrongly: %s", r->worker,
                 r->shard, m.rows != sh->rows ? "wrong row count" : why);
        return -1;
    }
    size_t cells = (size_t)(j->nr_class + 1) * (size_t)j->nr_class;
    conf = calloc(cells, sizeof *conf);
    if (!conf) goto nomem;
    uint64_t labelled = 0, correct = 0, rowno = sh->first_row;
    j->len = 0;
    while (predmsg_next(&m, &row) == 1) {
        rowno++;
        char num[32];
        if (j->has_id) {
            if (put_field(j, row.id ? row.id : "", row.idlen) < 0) goto nomem;
        } else {
            snprintf(num, sizeof num, "%" PRIu64, rowno);
            if (put_str(j, num) < 0) goto nomem;
        }
        if (j->with_label) {
            if (put_str(j, ",") < 0 || (row.truth >= 0 && row.truth < j->nr_class &&
                                        put_str(j, j->truth_text[row.truth]) < 0))
                goto nomem;
        }
        if (put_str(j, ",") < 0 || put_str(j, j->model_text[row.pred]) < 0) goto nomem;
        if (j->prob && !j->with_label) {
            for (int k = 0; k < j->nr_class; k++) {
                snprintf(num, sizeof num, ",%g", predmsg_prob(&row, (uint32_t)k));
                if (put_str(j, num) < 0) goto nomem;
            }
        }
        if (put_str(j, "\n") < 0) goto nomem;
        if (row.truth >= 0) {
            labelled++;
            correct += j->model_to_truth[row.pred] == row.truth;
            conf[(size_t)row.truth * (size_t)j->nr_class + (size_t)row.pred]++;
        }
    }
    const char *meta = make_meta(j, labelled, correct, conf);
    if (!meta) goto nomem;
    if (writer_put(j->w, r->shard, j->buf, j->len, meta, j->err, sizeof j->err) < 0) goto out;
    j->labelled += labelled;
    j->correct += correct;
    for (size_t c = 0; c < cells; c++)
        j->confusion[c] += conf[c];
    j->rows_done += sh->rows;
    rc = 0;
    goto out;
nomem:
    snprintf(j->err, sizeof j->err, "out of memory formatting shard %u", r->shard);
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
static void job_key(const char *data_path, const jobctx_t *jc, const split_t *sp, bool with_label,
                    bool prob, char *out, size_t outlen) {
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
    int flags[5] = {with_label, prob, jc->nr_class, jc->nr_feature, jc->solver};
    h = fnv(h, flags, sizeof flags);
    h = fnv(h, &jc->bias, sizeof jc->bias);
    h = fnv(h, jc->labels, sizeof *jc->labels * (size_t)jc->nr_class);
    h = fnv(h, jc->w,
            sizeof *jc->w * (size_t)jc->nr_w * ((size_t)jc->nr_feature + (jc->bias >= 0)));
    if (jc->schema_json) h = fnv(h, jc->schema_json, jc->schema_len);
    snprintf(out, outlen, "predict-%016" PRIx64, h);
}

static void pjob_free(pjob_t *j) {
    for (int t = 0; j->truth_text && t < j->nr_class; t++)
        free(j->truth_text[t]);
    for (int k = 0; j->model_text && k < j->nr_class; k++)
        free(j->model_text[k]);
    free(j->truth_text);
    free(j->model_text);
    free(j->model_to_truth);
    free(j->confusion);
    free(j->buf);
    free(j->meta);
}

/* Label texts and the model-class -> truth-index map. For CSV the schema's
 * label whose model value is labels[k] is class k's; libsvm uses the model's
 * own labels. Fails when the schema and the model disagree. */
static int pjob_labels(pjob_t *j, const schema_t *schema, char *err, size_t errlen) {
    const jobctx_t *jc = j->jc;
    int n = j->nr_class;
    j->truth_text = calloc((size_t)n, sizeof *j->truth_text);
    j->model_text = calloc((size_t)n, sizeof *j->model_text);
    j->model_to_truth = calloc((size_t)n, sizeof *j->model_to_truth);
    j->confusion = calloc((size_t)(n + 1) * (size_t)n, sizeof *j->confusion);
    if (!j->truth_text || !j->model_text || !j->model_to_truth || !j->confusion) goto nomem;
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
                return -1;
            }
            text = schema_label_name(schema, t);
        } else {
            snprintf(num, sizeof num, "%d", jc->labels[k]);
        }
        j->model_to_truth[k] = t;
        if (!(j->model_text[k] = escape_dup(j, text))) goto nomem;
    }
    for (int k = 0; k < n; k++)
        if (!(j->truth_text[j->model_to_truth[k]] = strdup(j->model_text[k]))) goto nomem;
    return 0;
nomem:
    snprintf(err, errlen, "out of memory");
    return -1;
}

static void print_confusion(const pjob_t *j, FILE *to) {
    fprintf(to, "confusion matrix (rows: true label, columns: predicted)%s\n",
            j->confusion_partial ? " [partial after resume]" : "");
    fprintf(to, "%12s", "");
    for (int k = 0; k < j->nr_class; k++)
        fprintf(to, " %10.10s", j->model_text[k]);
    fprintf(to, "\n");
    for (int t = 0; t <= j->nr_class; t++) {
        uint64_t sum = 0;
        for (int k = 0; k < j->nr_class; k++)
            sum += j->confusion[(size_t)t * (size_t)j->nr_class + (size_t)k];
        if (t == j->nr_class && sum == 0) break;
        fprintf(to, "%12.12s", t < j->nr_class ? j->truth_text[t] : "(unknown)");
        for (int k = 0; k < j->nr_class; k++)
            fprintf(to, " %10" PRIu64, j->confusion[(size_t)t * (size_t)j->nr_class + (size_t)k]);
        fprintf(to, "\n");
    }
}

/* Workers report data errors per shard in any order and sched_wait stops at
 * the first to arrive, but the error to report is the first in the file: the
 * shards before the reported one that have no result run (again) until none
 * of them fails, each failure replacing why with an earlier one. Returns
 * sched_wait's status for the job: -1 (why: the earliest data error), or -2
 * when stopped meanwhile. */
static int earliest_data_error(master_ctx_t *ctx, pjob_t *j, char *why, size_t whylen) {
    const char *file = j->jc->file ? j->jc->file : "data";
    for (;;) {
        long bad = split_shard_of_error(j->sp, file, why);
        size_t queued = 0;
        for (long i = 0; i < bad; i++) {
            if (writer_has(j->w, (uint32_t)i)) continue;
            const shard_range_t *sh = &j->sp->shards[i];
            predmsg_req_t req = {sh->first_row, sh->first_line};
            blob_t *body = predmsg_req_encode(&req);
            uint32_t id = body ? sched_submit(ctx->sched, OP_PREDICT, (uint32_t)i, body, sh->rows) : 0;
            blob_unref(&body);
            if (!id) return -1; /* out of memory: the error in hand is all we know */
            queued++;
        }
        if (!queued) return -1;
        bool data_error = false;
        char earlier[1024] = "";
        int rc = sched_wait(ctx->sched, on_result, j, &data_error, earlier, sizeof earlier);
        if (rc == -2) return -2;
        if (rc == -1 && data_error) {
            snprintf(why, whylen, "%s", earlier);
            continue;
        }
        /* The shards before it are fine (or failed otherwise: then the error
         * in hand is still the earliest known). */
        j->err[0] = 0;
        return -1;
    }
}

/* The shared engine of predict_run and predict_to_file. sp is the split of
 * data_path; outs holds the output as its output 0 (checked and open). A
 * regular file is replaced by the writer's atomic commit; a stream gets the
 * lines in order as they come. Returns an exit status; err says why when
 * not 0. */
static int predict_core(master_ctx_t *ctx, uint32_t job_id, const char *data_path,
                        const split_t *sp, const jobctx_t *jc, const schema_t *schema,
                        const outputs_t *outs, bool with_label, bool print, double *accuracy,
                        char *err, size_t errlen) {
    int status = EXIT_JOB_FAILED;
    pjob_t j = {.ctx = ctx, .jc = jc, .sp = sp, .with_label = with_label, .nr_class = jc->nr_class};
    sched_shard_t *shards = NULL;
    void *cbuf = NULL;
    size_t clen = 0;
    bool keep = false, began = false;
    char key[64];
    char *header = NULL;
    progress_t prog;

    j.prob = jc->want_prob && !with_label;
    j.has_id = false;
    if (sp->format == DATA_CSV && jc->id && sp->header) {
        char **names = NULL;
        size_t n = 0;
        if (csvread_header(data_path, sp->header, sp->header_len, &names, &n, err, errlen) < 0) {
            status = EXIT_BAD_DATA;
            goto out;
        }
        for (size_t i = 0; i < n; i++)
            j.has_id |= strcmp(names[i], jc->id) == 0;
        csvread_names_free(names, n);
    }
    if (pjob_labels(&j, schema, err, errlen) < 0) {
        status = EXIT_BAD_DATA;
        goto out;
    }
    /* Header line. */
    j.len = 0;
    if (put_str(&j, with_label ? "id,label,predicted" : "id,predicted") < 0) goto nomem;
    for (int k = 0; j.prob && k < j.nr_class; k++) {
        size_t n = strlen(j.model_text[k]);
        char *name = malloc(n + 8);
        if (!name) goto nomem;
        /* prob_<label>: quote the whole name when the label needed quotes. */
        if (j.model_text[k][0] == '"')
            snprintf(name, n + 8, "\"prob_%s", j.model_text[k] + 1);
        else
            snprintf(name, n + 8, "prob_%s", j.model_text[k]);
        int rc = put_str(&j, ",") | put_str(&j, name);
        free(name);
        if (rc < 0) goto nomem;
    }
    if (put_str(&j, "\n") < 0 || buf_reserve(&j, 1) < 0) goto nomem;
    j.buf[j.len] = 0;
    header = strdup(j.buf);
    if (!header) goto nomem;

    job_key(data_path, jc, sp, with_label, j.prob, key, sizeof key);
    if (outputs_is_stream(outs, 0)) {
        if (ctx->opts->resume)
            log_warn("--resume: %s is not a regular file; a stream cannot be resumed, so every "
                     "shard is predicted again",
                     outputs_path(outs, 0));
        j.w = writer_open_stream(outputs_fd(outs, 0), outputs_path(outs, 0), (uint32_t)sp->nshards,
                                 header, PREDICT_MEM_BUDGET, err, errlen);
    } else {
        j.w = writer_open(outputs_path(outs, 0), (uint32_t)sp->nshards, header, key,
                          ctx->opts->resume, PREDICT_MEM_BUDGET, err, errlen);
    }
    if (!j.w) goto out;
    uint32_t resumed = writer_resumed(j.w);
    for (size_t i = 0; i < sp->nshards; i++) {
        const char *m = writer_meta(j.w, (uint32_t)i);
        if (writer_has(j.w, (uint32_t)i)) {
            if (m)
                take_meta(&j, m);
            else
                j.confusion_partial = true;
        }
    }
    if (resumed) log_info("resuming: %u of %zu shards already done", resumed, sp->nshards);

    shards = calloc(sp->nshards, sizeof *shards);
    if (!shards) goto nomem;
    for (size_t i = 0; i < sp->nshards; i++) {
        shards[i].offset = sp->shards[i].offset;
        shards[i].length = sp->shards[i].length;
        shards[i].rows = sp->shards[i].rows;
    }
    if (sched_begin_job(ctx->sched, job_id, data_path, shards, sp->nshards, err, errlen) < 0)
        goto out;
    began = true;
    if (jobctx_encode(jc, &cbuf, &clen) < 0 || sched_set_context(ctx->sched, cbuf, clen) < 0)
        goto nomem;
    progress_init(&prog, ctx->sched, ctx->ev, job_id, ctx->opts->verbosity < 0 || !print);
    progress_phase(&prog, "predicting");
    for (size_t i = 0; i < sp->nshards; i++) {
        if (writer_has(j.w, (uint32_t)i)) continue;
        predmsg_req_t req = {sp->shards[i].first_row, sp->shards[i].first_line};
        blob_t *body = predmsg_req_encode(&req);
        uint32_t id =
            body ? sched_submit(ctx->sched, OP_PREDICT, (uint32_t)i, body, sp->shards[i].rows) : 0;
        blob_unref(&body);
        if (!id) goto nomem;
    }
    bool data_error = false;
    char why[1024] = "";
    int rc = sched_wait(ctx->sched, on_result, &j, &data_error, why, sizeof why);
    if (rc == -1 && data_error) rc = earliest_data_error(ctx, &j, why, sizeof why);
    progress_finish(&prog);
    if (rc == -2) {
        keep = true;
        writer_stats_t st;
        writer_get_stats(j.w, &st);
        snprintf(err, errlen, "stopped with %u of %zu shards done%s",
                 st.written + st.held + st.spooled, sp->nshards,
                 outputs_is_stream(outs, 0) ? "" : "; run again with --resume to finish");
        goto out;
    }
    if (rc < 0) {
        if (data_error) {
            status = EXIT_BAD_DATA;
            snprintf(err, errlen, "%s", why);
        } else {
            snprintf(err, errlen, "%s", j.err[0] ? j.err : why);
        }
        goto out;
    }
    if (writer_commit(j.w, err, errlen) < 0) goto out;
    if (accuracy) *accuracy = j.labelled ? (double)j.correct / (double)j.labelled : -1;
    if (print && j.labelled) {
        /* Standard output may be the predictions themselves. */
        FILE *to = outputs_uses_stdout(outs) ? stderr : stdout;
        fprintf(to, "Accuracy = %.4f%% (%" PRIu64 "/%" PRIu64 ")\n",
                100.0 * (double)j.correct / (double)j.labelled, j.correct, j.labelled);
        if (ctx->opts->verbosity > 0) print_confusion(&j, to);
    }
    status = EXIT_OK;
    goto out;
nomem:
    snprintf(err, errlen, "out of memory");
out:
    writer_close(&j.w, keep);
    if (began) sched_end_job(ctx->sched);
    free(cbuf);
    free(shards);
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

static schema_t *schema_for(const jobctx_t *jc, data_format_t fmt, const char *what, char *err,
                            size_t errlen) {
    schema_t *s = NULL;
    if (jc->schema_json)
        s = schema_from_json(jc->schema_json, jc->schema_len, err, errlen);
    else if (fmt == DATA_LIBSVM &&
             !(s = schema_for_libsvm(jc->nr_feature, jc->labels, jc->nr_class)))
        snprintf(err, errlen, "out of memory");
    else if (fmt != DATA_LIBSVM)
        snprintf(err, errlen, "%s: no schema: CSV data needs the schema saved with the model",
                 what);
    return s;
}

int predict_to_file(master_ctx_t *ctx, uint32_t job_id, const char *data_path,
                    const jobctx_t *model_ctx, const char *out_path, bool with_label,
                    double *accuracy, char *err, size_t errlen) {
    split_t sp = {0};
    data_format_t fmt = model_ctx->format == JOBCTX_LIBSVM ? DATA_LIBSVM : DATA_CSV;
    if (!model_ctx->has_model) {
        snprintf(err, errlen, "predict_to_file: the job context has no model");
        return EXIT_JOB_FAILED;
    }
    outputs_t *outs = outputs_new();
    if (!outs || outputs_output(outs, "the output", out_path, 0) < 0 ||
        outputs_input(outs, "the data file", data_path) < 0) {
        outputs_destroy(&outs);
        snprintf(err, errlen, "out of memory");
        return EXIT_JOB_FAILED;
    }
    if (outputs_check(outs, err, errlen) < 0) {
        outputs_destroy(&outs);
        return EXIT_USAGE;
    }
    schema_t *schema = schema_for(model_ctx, fmt, data_path, err, errlen);
    int status = EXIT_BAD_DATA;
    if (!schema) goto out;
    if (split_file(data_path, fmt, (size_t)ctx->cfg->cluster.shard_rows,
                   (size_t)ctx->cfg->cluster.shard_mb << 20, &sp, err, errlen) < 0)
        goto out;
    status = EXIT_JOB_FAILED;
    if (outputs_open(outs, ctx->sched, err, errlen) < 0) goto out;
    status = predict_core(ctx, job_id, data_path, &sp, model_ctx, schema, outs, with_label, false,
                          accuracy, err, errlen);
out:
    outputs_destroy(&outs);
    split_free(&sp);
    schema_destroy(&schema);
    return status;
}

int predict_run(master_ctx_t *ctx) {
    const config_t *cfg = ctx->cfg;
    const char *model_path = cfg->model.file, *data = cfg->data.test, *out = cfg->output.test;
    char err[4096] = "", schema_path[CONFIG_PATH + 16];
    int status = EXIT_BAD_DATA;
    struct model *m = NULL;
    schema_t *schema = NULL;
    split_t sp = {0};
    jobctx_t jc = {0};
    uint32_t job_id = ctx->job_id ? ctx->job_id : master_next_job_id();
    int64_t t0 = clock_now_ms();
    bool started = false;
    outputs_t *files = NULL;

    /* The job's files first: an output that would destroy an input is refused
     * before anything is read (exit 2). */
    status = outputs_for_job(cfg, ctx->opts->config_path, CMD_TEST, &files, err, sizeof err);
    if (status != EXIT_OK) goto out;
    status = EXIT_BAD_DATA;

    if (!looks_like_model(model_path)) {
        snprintf(err, sizeof err,
                 "%s is not a liblinear model file (no solver_type line); "
                 "train one with `master train` or liblinear-train",
                 model_path);
        goto out;
    }
    if (!(m = load_model_quietly(model_path, err, sizeof err))) goto out;
    int solver = m->param.solver_type;
    if (solver == L2R_L2LOSS_SVR || solver == L2R_L1LOSS_SVR_DUAL ||
        solver == L2R_L2LOSS_SVR_DUAL || !model_solver_name(solver) || m->nr_class < 1 ||
        m->nr_feature < 0) {
        snprintf(err, sizeof err, "%s: a %s model: testing needs a classification model",
                 model_path, model_solver_name(solver) ? model_solver_name(solver) : "regression");
        goto out;
    }
    data_format_t fmt = split_detect_format(data, cfg->data.format);
    snprintf(schema_path, sizeof schema_path, "%s.schema.json", model_path);
    struct stat st;
    if (stat(schema_path, &st) == 0) {
        if (!(schema = schema_load(schema_path, err, sizeof err))) goto out;
    } else if (fmt == DATA_LIBSVM) {
        if (!(schema = schema_for_libsvm(m->nr_feature, m->label, m->nr_class))) {
            snprintf(err, sizeof err, "out of memory");
            status = EXIT_JOB_FAILED;
            goto out;
        }
    } else {
        snprintf(err, sizeof err,
                 "%s: missing: a CSV test file needs the schema that "
                 "`master train` saves beside the model",
                 schema_path);
        goto out;
    }
    if (schema_nr_class(schema) != m->nr_class || schema_n_features(schema) != m->nr_feature) {
        snprintf(err, sizeof err,
                 "%s does not match %s (%d classes, %d features in the schema; "
                 "%d and %d in the model)",
                 schema_path, model_path, schema_nr_class(schema), schema_n_features(schema),
                 m->nr_class, m->nr_feature);
        goto out;
    }
    if (split_file(data, fmt, (size_t)cfg->cluster.shard_rows,
                   (size_t)cfg->cluster.shard_mb << 20, &sp, err, sizeof err) < 0)
        goto out;
    datasrc_t src = {.format = fmt,
                     .file = data,
                     .header = sp.header,
                     .header_len = sp.header_len,
                     .label = schema_col_name(schema, SCHEMA_LABEL, cfg->data.label),
                     .id = schema_col_name(schema, SCHEMA_ID, cfg->data.id)};
    if (schema_check_source(schema, &src, err, sizeof err) < 0) goto out;

    status = EXIT_JOB_FAILED;
    jc.format = fmt == DATA_LIBSVM ? JOBCTX_LIBSVM : JOBCTX_CSV;
    jc.solver = solver;
    jc.C = 1; /* unused for prediction; load_model() leaves param.C unset */
    jc.bias = m->bias;
    jc.has_model = true;
    jc.nr_class = m->nr_class;
    jc.nr_feature = m->nr_feature;
    jc.nr_w = model_nr_w(solver, m->nr_class);
    jc.want_prob = solver == L2R_LR || solver == L1R_LR || solver == L2R_LR_DUAL;
    size_t nw = (size_t)jc.nr_w * ((size_t)jc.nr_feature + (jc.bias >= 0));
    jc.file = strdup(data);
    jc.label = strdup(src.label);
    jc.id = strdup(src.id);
    jc.labels = malloc(sizeof *jc.labels * (size_t)jc.nr_class);
    jc.w = malloc(sizeof *jc.w * (nw ? nw : 1));
    if (!jc.file || !jc.label || !jc.id || !jc.labels || !jc.w) {
        snprintf(err, sizeof err, "out of memory");
        goto out;
    }
    memcpy(jc.labels, m->label, sizeof *jc.labels * (size_t)jc.nr_class);
    memcpy(jc.w, m->w, sizeof *jc.w * nw);
    if (fmt == DATA_CSV) {
        jc.header = malloc(sp.header_len + 1);
        jc.schema_json = schema_to_json(schema);
        if (!jc.header || !jc.schema_json) {
            snprintf(err, sizeof err, "out of memory");
            goto out;
        }
        memcpy(jc.header, sp.header, sp.header_len);
        jc.header[sp.header_len] = 0;
        jc.header_len = sp.header_len;
        jc.schema_len = strlen(jc.schema_json);
    }

    /* Streams open (a FIFO may wait for its reader) before workers are awaited. */
    if (outputs_open(files, ctx->sched, err, sizeof err) < 0) goto out;
    int want = ctx->opts->min_workers > 0 ? ctx->opts->min_workers : 1;
    if (sched_live_workers(ctx->sched) < want) {
        log_info("waiting for %d worker(s) on port %d", want, cfg->master.task_port);
        if (sched_wait_workers(ctx->sched, want, -1) < 0) {
            snprintf(err, sizeof err, "interrupted while waiting for workers");
            goto out;
        }
    }
    /* A file of few shards would leave slots idle: cut it so that every slot
     * gets about two shards (one computing, one on its way). */
    if (split_refine(&sp, data, fmt, 2 * (uint64_t)sched_total_slots(ctx->sched),
                     (size_t)cfg->cluster.shard_mb << 20, err, sizeof err) < 0)
        goto out;
    t0 = clock_now_ms(); /* the job's duration counts work, not the wait for workers */
    json_object *js = json_object_new_object();
    json_object_object_add(js, "job_id", json_object_new_int64(job_id));
    json_object_object_add(js, "mode", json_object_new_string("test"));
    json_object_object_add(js, "data", json_object_new_string(data));
    json_object_object_add(js, "total_tasks", json_object_new_int64((int64_t)sp.nshards));
    json_object_object_add(js, "rows_total", json_object_new_int64((int64_t)sp.rows));
    json_object_object_add(js, "workers", json_object_new_int(sched_live_workers(ctx->sched)));
    events_publish(ctx->ev, EV_JOB_STARTED, js);
    started = true;

    double acc = -1;
    status = predict_core(ctx, job_id, data, &sp, &jc, schema, files, false, true, &acc, err,
                          sizeof err);
    if (status == EXIT_OK && ctx->opts->verbosity >= 0)
        fprintf(outputs_uses_stdout(files) ? stderr : stdout,
                "wrote %" PRIu64 " predictions to %s\n", sp.rows, out);
    if (status == EXIT_OK) fflush(stdout);
    json_object *jd = json_object_new_object();
    json_object_object_add(jd, "job_id", json_object_new_int64(job_id));
    json_object_object_add(jd, "state", json_object_new_string(status ? "failed" : "done"));
    json_object_object_add(jd, "duration_s",
                           json_object_new_double((double)(clock_now_ms() - t0) / 1000.0));
    json_object_object_add(jd, "accuracy", acc >= 0 ? json_object_new_double(acc) : NULL);
    json_object *outs = json_object_new_object();
    if (status == EXIT_OK) json_object_object_add(outs, "submission", json_object_new_string(out));
    json_object_object_add(jd, "outputs", outs);
    json_object_object_add(jd, "error", status ? json_object_new_string(err) : NULL);
    events_publish(ctx->ev, EV_JOB_DONE, jd);
out:
    (void)started;
    if (status != EXIT_OK) fprintf(stderr, "master: %s\n", err);
    outputs_destroy(&files);
    split_free(&sp);
    schema_destroy(&schema);
    if (m) free_and_destroy_model(&m);
    free(jc.file);
    free(jc.header);
    free(jc.label);
    free(jc.id);
    free(jc.schema_json);
    free(jc.labels);
    free(jc.w);
    return status;
}
