#include "master/export.h"

#include "common/clock.h"
#include "common/csvread.h"
#include "common/exportmsg.h"
#include "common/hash.h"
#include "common/jobctx.h"
#include "common/log.h"
#include "common/model.h"
#include "common/proto.h"
#include "common/schema.h"
#include "common/split.h"
#include "master/outputs.h"
#include "master/progress.h"
#include "master/shardjob.h"
#include "master/writer.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct xjob {
    const split_t *sp;
    writer_t *w;
    uint64_t rows_done, unlabelled;
    char err[1024];
} xjob_t;

/* The round's sink: a shard's lines go to the ordered writer at once; the
 * meta journalled with them is the shard's count of unlabelled rows. */
static int take_shard(void *arg, uint32_t shard, const void *data, size_t len, const char *worker) {
    xjob_t *j = arg;
    exportmsg_t m;
    char why[256] = "";
    const shard_range_t *sh = &j->sp->shards[shard];
    if (exportmsg_open(&m, data, len, why, sizeof why) < 0 ||
        (m.rows != sh->rows && snprintf(why, sizeof why, "wrong row count") > 0) ||
        (m.first_row != sh->first_row && snprintf(why, sizeof why, "wrong first row") > 0)) {
        snprintf(j->err, sizeof j->err, "worker %s answered shard %u wrongly: %s", worker, shard,
                 why);
        return -1;
    }
    char meta[32];
    snprintf(meta, sizeof meta, "%" PRIu64, m.unlabelled);
    if (writer_put(j->w, shard, m.text, m.text_len, meta, j->err, sizeof j->err) < 0) return -1;
    j->rows_done += m.rows;
    j->unlabelled += m.unlabelled;
    return 0;
}

/* Names the job for --resume: the data file as it is now, the shard layout
 * and the schema. The key's value must not change (common/hash.h). */
static void job_key(const char *data_path, const split_t *sp, const jobctx_t *jc, char *out,
                    size_t outlen) {
    struct stat st;
    uint64_t h = HASH_FNV1A_BASIS;
    h = hash_fnv1a_add(h, data_path, strlen(data_path) + 1);
    if (stat(data_path, &st) == 0) {
        int64_t f[4] = {(int64_t)st.st_size, (int64_t)st.st_mtim.tv_sec,
                        (int64_t)st.st_mtim.tv_nsec, (int64_t)st.st_ino};
        h = hash_fnv1a_add(h, f, sizeof f);
    }
    for (size_t i = 0; i < sp->nshards; i++) {
        const shard_range_t *r = &sp->shards[i];
        uint64_t f[5] = {r->offset, r->length, r->first_row, r->first_line, r->rows};
        h = hash_fnv1a_add(h, f, sizeof f);
    }
    if (jc->schema_json) h = hash_fnv1a_add(h, jc->schema_json, jc->schema_len);
    snprintf(out, outlen, "export-%016" PRIx64, h);
}

/* The ordered writer on output 0 (a stream in place, or a file with its
 * journal for --resume), restoring the counts of shards already done. */
static int open_writer(master_ctx_t *ctx, xjob_t *j, const char *data_path, const jobctx_t *jc,
                       const outputs_t *outs, char *err, size_t errlen) {
    char key[64];
    job_key(data_path, j->sp, jc, key, sizeof key);
    if (!(j->w = shardjob_open_writer(ctx, outs, j->sp, NULL, key, err, errlen))) return -1;
    for (uint32_t i = 0; i < (uint32_t)j->sp->nshards; i++) {
        const char *m = writer_meta(j->w, i);
        if (m) j->unlabelled += strtoull(m, NULL, 10);
        if (writer_has(j->w, i)) j->rows_done += j->sp->shards[i].rows;
    }
    return 0;
}

/* The export proper, once the workers are there. Returns an exit status. */
static int export_core(master_ctx_t *ctx, uint32_t job_id, const char *data_path, const split_t *sp,
                       const jobctx_t *jc, const outputs_t *outs, xjob_t *j, char *err,
                       size_t errlen) {
    bool keep = false;
    progress_t prog = {0};
    int status = EXIT_JOB_FAILED;
    if (open_writer(ctx, j, data_path, jc, outs, err, errlen) < 0) goto out;
    if (shardjob_begin(ctx, job_id, data_path, sp, jc, err, errlen) < 0) goto out;
    progress_init(&prog, ctx->sched, ctx->ev, job_id, ctx->opts->verbosity < 0);
    progress_phase(&prog, "exporting");
    shardjob_t sj = {.ctx = ctx,
                     .sp = sp,
                     .w = j->w,
                     .file = jc->file,
                     .op = OP_EXPORT,
                     .sink = take_shard,
                     .sink_arg = j,
                     .sink_err = j->err};
    status = shardjob_run(&sj, outs, &keep, err, errlen);
out:
    progress_finish(&prog);
    writer_close(&j->w, keep);
    sched_end_job(ctx->sched); /* safe when shardjob_begin failed or never ran */
    return status;
}

/* The schema to export with: MODEL.schema.json, or for a libsvm file and a
 * model without one (liblinear-train's), the model's labels and feature
 * count. Returns an exit status. */
static int load_schema(const char *model_path, data_format_t fmt, schema_t **out, char *err,
                       size_t errlen) {
    char path[CONFIG_PATH + 16];
    struct stat st;
    snprintf(path, sizeof path, "%s.schema.json", model_path);
    if (stat(path, &st) == 0)
        return (*out = schema_load(path, err, errlen)) ? EXIT_OK : EXIT_BAD_DATA;
    if (fmt == DATA_LIBSVM && stat(model_path, &st) == 0) {
        struct model *m = model_load(model_path, err, errlen);
        if (!m) return EXIT_BAD_DATA;
        *out = schema_for_libsvm(m->nr_feature, m->label, m->nr_class);
        free_and_destroy_model(&m);
        if (*out) return EXIT_OK;
        snprintf(err, errlen, "out of memory");
        return EXIT_JOB_FAILED;
    }
    snprintf(err, errlen,
             "%s: missing: export needs the schema `master train` saves beside the model; "
             "train first (or name the model with --model)",
             path);
    return EXIT_BAD_DATA;
}

/* The schema's column name of a kind (label or id), or fallback. */
static const char *schema_col_name(const schema_t *s, schema_kind_t kind, const char *fallback) {
    for (size_t c = 0; s && c < schema_ncols(s); c++)
        if (schema_column_kind(s, c) == kind) return schema_column_name(s, c);
    return fallback;
}

/* The job context: where the rows come from and the schema; no weights. 0,
 * or -1 when out of memory. */
static int export_context(jobctx_t *jc, const datasrc_t *src, const schema_t *schema) {
    jc->format = src->format == DATA_LIBSVM ? JOBCTX_LIBSVM : JOBCTX_CSV;
    jc->C = 1;
    jc->bias = -1;
    jc->file = strdup(src->file);
    jc->label = strdup(src->label);
    jc->id = strdup(src->id);
    jc->schema_json = schema_to_json(schema);
    if (!jc->file || !jc->label || !jc->id || !jc->schema_json) return -1;
    jc->schema_len = strlen(jc->schema_json);
    if (src->format != DATA_CSV) return 0;
    if (!(jc->header = malloc(src->header_len + 1))) return -1;
    memcpy(jc->header, src->header, src->header_len);
    jc->header[src->header_len] = 0;
    jc->header_len = src->header_len;
    return 0;
}

static void export_context_free(jobctx_t *jc) {
    free(jc->file);
    free(jc->header);
    free(jc->label);
    free(jc->id);
    free(jc->schema_json);
}

/* Whether the file holds the schema's label column (libsvm rows always
 * have a label). */
static bool has_label_column(const datasrc_t *src, char *err, size_t errlen) {
    if (src->format == DATA_LIBSVM) return true;
    char **names = NULL;
    size_t n = 0;
    bool found = false;
    if (csvread_header(src->file, src->header, src->header_len, &names, &n, err, errlen) < 0)
        return false;
    for (size_t i = 0; i < n && !found; i++)
        found = strcmp(names[i], src->label) == 0;
    csvread_names_free(names, n);
    return found;
}

/* Schema, data file (split and checked against the schema) and job
 * context: everything before the workers. Returns an exit status. */
static int prepare_export(const config_t *cfg, schema_t **schema, split_t *sp, jobctx_t *jc,
                          bool *labelled, char *err, size_t errlen) {
    const char *data = cfg->data.test;
    data_format_t fmt = split_detect_format(data, cfg->data.format);
    int status = load_schema(cfg->model.file, fmt, schema, err, errlen);
    if (status != EXIT_OK) return status;
    if (schema_format(*schema) != fmt) {
        snprintf(err, errlen, "%s: a %s file, but the model was trained on %s data", data,
                 fmt == DATA_CSV ? "CSV" : "libsvm",
                 schema_format(*schema) == DATA_CSV ? "CSV" : "libsvm");
        return EXIT_BAD_DATA;
    }
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
    *labelled = has_label_column(&src, err, errlen);
    if (export_context(jc, &src, *schema) < 0) {
        snprintf(err, errlen, "out of memory");
        return EXIT_JOB_FAILED;
    }
    return EXIT_OK;
}

/* The lines after a successful export (stderr when the export is stdout). */
static void report(const master_ctx_t *ctx, const xjob_t *j, const schema_t *schema, bool labelled,
                   const outputs_t *files) {
    FILE *to = outputs_uses_stdout(files) ? stderr : stdout;
    if (labelled && j->unlabelled)
        log_warn("%" PRIu64 " rows had no label the model knows (missing, or never seen in "
                 "training): written with label 0",
                 j->unlabelled);
    if (ctx->opts->verbosity >= 0)
        fprintf(to, "wrote %" PRIu64 " rows (%d features%s) to %s\n", j->sp->rows,
                schema_n_features(schema), labelled ? "" : ", no label column: label 0",
                outputs_path(files, 0));
    fflush(to);
}

int export_run(master_ctx_t *ctx) {
    const config_t *cfg = ctx->cfg;
    const char *data = cfg->data.test, *out = cfg->output.test;
    char err[4096] = "";
    schema_t *schema = NULL;
    split_t sp = {0};
    jobctx_t jc = {0};
    xjob_t j = {.sp = &sp};
    bool labelled = false;
    uint32_t job_id = ctx->job_id ? ctx->job_id : master_next_job_id();
    outputs_t *files = NULL;

    /* The files first: an output that would destroy an input is refused
     * before anything is read (exit 2). */
    int status = outputs_for_job(cfg, ctx->opts->config_path, CMD_EXPORT, &files, err, sizeof err);
    if (status == EXIT_OK)
        status = prepare_export(cfg, &schema, &sp, &jc, &labelled, err, sizeof err);
    if (status != EXIT_OK) goto out;
    status = EXIT_JOB_FAILED;
    if (outputs_open(files, ctx->sched, err, sizeof err) < 0 ||
        shardjob_await_workers(ctx, &sp, data, sp.format, err, sizeof err) < 0)
        goto out;
    int64_t t0 = clock_now_ms();
    shardjob_publish_started(ctx, job_id, "export", data, &sp);
    status = export_core(ctx, job_id, data, &sp, &jc, files, &j, err, sizeof err);
    if (status == EXIT_OK) report(ctx, &j, schema, labelled, files);
    shardjob_publish_done(ctx, job_id, status, t0, NULL, out, err);
out:
    if (status != EXIT_OK) log_fail("%s", err);
    outputs_destroy(&files);
    split_free(&sp);
    schema_destroy(&schema);
    export_context_free(&jc);
    return status;
}
