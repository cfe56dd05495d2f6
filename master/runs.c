/* runs: a job's run id, folder, log and history row. See runs.h. */
#include "master/runs.h"

#include "common/clock.h"
#include "common/log.h"
#include "common/model.h"
#include "dashboard/history.h"
#include "dashboard/webguard.h"
#include "master/master.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define RUNS_MAX_LIST 100000

struct runs {
    history_t *h;
    char dir[CONFIG_PATH];
    int keep, max_age_days;
    /* the run in progress (runs_start .. runs_finish) */
    uint32_t id;
    const config_t *cfg;
    cli_cmd_t cmd;
    int64_t started_ms;
    FILE *log;
};

static const char *mode_name(cli_cmd_t cmd) {
    switch (cmd) {
    case CMD_TRAIN:
        return "train";
    case CMD_SEARCH:
        return "search";
    case CMD_TEST:
        return "test";
    case CMD_EXPORT:
        return "export";
    case CMD_BENCH_DISPATCH:
        return "bench-dispatch";
    default:
        return "other";
    }
}

/* DIR/ID, or DIR/ID/NAME when name is not NULL. */
static void run_path(const runs_t *rs, uint32_t id, const char *name, char *buf, size_t len) {
    if (name)
        snprintf(buf, len, "%s/%u/%s", rs->dir, id, name);
    else
        snprintf(buf, len, "%s/%u", rs->dir, id);
}

/* mkdir -p */
static int make_dirs(const char *path) {
    char buf[PATH_MAX];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf) return -1;
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0') continue;
        char c = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST) return -1;
        buf[i] = c;
    }
    return 0;
}

/* Writes o (pretty) to path through a temporary file and a rename. */
static int write_json(const char *path, json_object *o) {
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) return -1;
    FILE *f = fopen(tmp, "w");
    if (!f) return -1;
    const char *text =
        json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
    int rc = fputs(text, f) < 0 || fputc('\n', f) == EOF ? -1 : 0;
    if (fclose(f) != 0) rc = -1;
    if (rc == 0) rc = rename(tmp, path);
    if (rc != 0) unlink(tmp);
    return rc;
}

static void add_str(json_object *o, const char *k, const char *v) {
    json_object_object_add(o, k, v && v[0] ? json_object_new_string(v) : NULL);
}

json_object *runs_params(const config_t *cfg, const master_opts_t *o, int workers) {
    json_object *p = json_object_new_object();
    if (!p) return NULL;
    bool train = o->cmd == CMD_TRAIN || o->cmd == CMD_SEARCH;
    bool uses_model = train || o->cmd == CMD_TEST || o->cmd == CMD_EXPORT;
    add_str(p, "mode", mode_name(o->cmd));
    if (uses_model) {
        add_str(p, "data", train ? cfg->data.train : cfg->data.test);
        add_str(p, "out", train ? cfg->output.train : cfg->output.test);
        add_str(p, "model", cfg->model.file);
        add_str(p, "format", cfg->data.format);
        add_str(p, "label", cfg->data.label);
        add_str(p, "id", cfg->data.id);
    }
    if (train) {
        add_str(p, "scale", cfg->data.scale);
        add_str(p, "solver", cfg->model.solver);
        if (o->cmd != CMD_SEARCH) /* a search's C values are C_list */
            json_object_object_add(p, "C", json_object_new_double(cfg->model.C));
        json_object_object_add(p, "eps", json_object_new_double(cfg->model.eps));
        json_object_object_add(p, "bias", json_object_new_double(cfg->model.bias));
        add_str(p, "strategy", cfg->model.strategy);
        add_str(p, "parallel", cfg->model.parallel);
        json_object_object_add(p, "rounds", json_object_new_int(cfg->model.rounds));
        json_object_object_add(p, "cv", json_object_new_int(o->cv_folds));
        /* free text: the columns as a list, null when detection chose */
        json_object *text = cfg->data.text_set ? json_object_new_array() : NULL;
        for (const char *c = cfg->data.text; text && *c;) {
            const char *nl = strchr(c, '\n');
            size_t len = nl ? (size_t)(nl - c) : strlen(c);
            json_object_array_add(text, json_object_new_string_len(c, (int)len));
            c += len + (nl ? 1 : 0);
        }
        json_object_object_add(p, "text", text);
        json_object_object_add(p, "ngram", json_object_new_int(cfg->data.ngram));
        json_object_object_add(p, "min_df", json_object_new_int(cfg->data.min_df));
        json_object_object_add(p, "max_features", json_object_new_int(cfg->data.max_features));
        json_object_object_add(p, "hash_bits", json_object_new_int(cfg->data.hash_bits));
        json_object_object_add(p, "tfidf", json_object_new_boolean(cfg->data.tfidf));
    }
    if (o->cmd == CMD_SEARCH) {
        /* the C list, or "path" for liblinear -C's (its values are in metrics.json) */
        json_object *cl = o->nc > 0 ? json_object_new_array() : json_object_new_string("path");
        for (int i = 0; i < o->nc && cl; i++)
            json_object_array_add(cl, json_object_new_double(o->c_list[i]));
        json_object_object_add(p, "C_list", cl);
        json_object *sv = json_object_new_array();
        for (int i = 0; i < o->nsolvers && sv; i++)
            json_object_array_add(sv, json_object_new_string(model_solver_name(o->solvers[i])));
        if (sv && o->nsolvers == 0)
            json_object_array_add(sv, json_object_new_string(cfg->model.solver));
        json_object_object_add(p, "solvers", sv);
        json_object_object_add(p, "final", json_object_new_boolean(!o->no_final));
    }
    if (o->cmd == CMD_BENCH_DISPATCH) {
        json_object_object_add(p, "tasks", json_object_new_int64(o->tasks));
        json_object_object_add(p, "payload", json_object_new_int64(o->payload));
        json_object_object_add(p, "task_ms", json_object_new_int(o->task_ms));
        json_object_object_add(p, "prefetch", json_object_new_int(o->prefetch));
    }
    json_object_object_add(p, "shard_rows", json_object_new_int(cfg->cluster.shard_rows));
    json_object_object_add(p, "shard_mb", json_object_new_int(cfg->cluster.shard_mb));
    json_object_object_add(p, "min_workers", json_object_new_int(o->min_workers));
    json_object_object_add(p, "resume", json_object_new_boolean(o->resume));
    json_object_object_add(p, "workers", json_object_new_int(workers));
    add_str(p, "config", o->config_path);
    return p;
}

/* run.json of a run: what the folder says about its state. */
static void write_run_json(const runs_t *rs, uint32_t id, const char *mode, const char *state,
                           int status, int64_t started_ms, int64_t ended_ms, json_object *error) {
    char path[PATH_MAX];
    json_object *o = json_object_new_object();
    if (!o) return;
    json_object_object_add(o, "id", json_object_new_int64(id));
    add_str(o, "mode", mode);
    add_str(o, "state", state);
    json_object_object_add(o, "status", status >= 0 ? json_object_new_int(status) : NULL);
    json_object_object_add(o, "error", error ? json_object_get(error) : NULL);
    json_object_object_add(o, "started_ms", json_object_new_int64(started_ms));
    json_object_object_add(o, "ended_ms", ended_ms ? json_object_new_int64(ended_ms) : NULL);
    json_object_object_add(o, "duration_s",
                           ended_ms ? json_object_new_double((double)(ended_ms - started_ms) / 1000)
                                    : NULL);
    json_object_object_add(o, "duration_ms",
                           ended_ms ? json_object_new_int64(ended_ms - started_ms) : NULL);
    run_path(rs, id, "run.json", path, sizeof path);
    if (write_json(path, o) != 0)
        log_warn("run %u: cannot write %s: %s", id, path, strerror(errno));
    json_object_put(o);
}

runs_t *runs_open(const config_t *cfg, char *err, size_t errlen) {
    runs_t *rs = calloc(1, sizeof *rs);
    if (!rs) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    snprintf(rs->dir, sizeof rs->dir, "%s", cfg->runs.dir);
    rs->keep = cfg->runs.keep;
    rs->max_age_days = cfg->runs.max_age_days;
    rs->h = history_open(cfg->history.db, cfg->history.retention_days, false, err, errlen);
    if (!rs->h) {
        free(rs);
        return NULL;
    }
    /* runs a stopped master left queued or running end now, as the
     * dashboard ends them (same reason), whether or not it is on */
    static const char reason[] = "interrupted: the master stopped before the job ended";
    char why[256];
    json_object *ended = history_runs_end_pending(rs->h, clock_wall_ms(), reason, why, sizeof why);
    if (!ended) log_warn("runs: %s", why);
    for (size_t i = 0; ended && i < json_object_array_length(ended); i++) {
        uint32_t id = (uint32_t)json_object_get_int64(json_object_array_get_idx(ended, i));
        char path[PATH_MAX];
        run_path(rs, id, "run.json", path, sizeof path);
        json_object *run = json_object_from_file(path), *v;
        if (!run) continue; /* no folder (an older master's job) */
        int64_t started =
            json_object_object_get_ex(run, "started_ms", &v) ? json_object_get_int64(v) : 0;
        int64_t now = clock_wall_ms();
        json_object_object_add(run, "state", json_object_new_string("failed"));
        json_object_object_add(run, "error", json_object_new_string(reason));
        json_object_object_add(run, "ended_ms", json_object_new_int64(now));
        json_object_object_add(run, "duration_s",
                               json_object_new_double((double)(now - started) / 1000));
        if (write_json(path, run) != 0)
            log_warn("run %u: cannot write %s: %s", id, path, strerror(errno));
        json_object_put(run);
        log_info("run %u: %s", id, reason);
    }
    json_object_put(ended);
    return rs;
}

void runs_close(runs_t **rsp) {
    runs_t *rs = rsp ? *rsp : NULL;
    if (!rs) return;
    if (rs->log) {
        log_tee(NULL);
        fclose(rs->log);
    }
    history_close(&rs->h);
    free(rs);
    *rsp = NULL;
}

int runs_new(runs_t *rs, const config_t *cfg, const master_opts_t *o, const char *state,
             int workers, uint32_t *id, char *err, size_t errlen) {
    char path[PATH_MAX];
    json_object *params = runs_params(cfg, o, workers);
    const char *data = o->cmd == CMD_TRAIN || o->cmd == CMD_SEARCH  ? cfg->data.train
                       : o->cmd == CMD_TEST || o->cmd == CMD_EXPORT ? cfg->data.test
                                                                    : "";
    int64_t now = clock_wall_ms();
    int64_t n = history_run_new(rs->h, mode_name(o->cmd), data, state, params, now, err, errlen);
    if (n <= 0 || n > UINT32_MAX) {
        if (n > UINT32_MAX) snprintf(err, errlen, "run id %lld is too large", (long long)n);
        json_object_put(params);
        return -1;
    }
    *id = (uint32_t)n;
    run_path(rs, *id, NULL, path, sizeof path);
    if (make_dirs(path) != 0) {
        log_warn("run %u: cannot create %s: %s", *id, path, strerror(errno));
    } else {
        /* a folder of the same id from another history (a new database,
         * another master) keeps none of its files for this run */
        for (size_t i = 0; webguard_run_file_at(i); i++) {
            run_path(rs, *id, webguard_run_file_at(i), path, sizeof path);
            if (unlink(path) != 0 && errno != ENOENT)
                log_warn("run %u: cannot clear %s: %s", *id, path, strerror(errno));
        }
        run_path(rs, *id, "params.json", path, sizeof path);
        if (write_json(path, params) != 0)
            log_warn("run %u: cannot write %s: %s", *id, path, strerror(errno));
        write_run_json(rs, *id, mode_name(o->cmd), state, -1, now, 0, NULL);
    }
    json_object_put(params);
    return 0;
}

int runs_start(runs_t *rs, uint32_t id, const config_t *cfg, cli_cmd_t cmd) {
    char path[PATH_MAX], err[512];
    int64_t now = clock_wall_ms();
    if (history_run_started(rs->h, id, now, err, sizeof err) != 0) {
        log_warn("job %u is not kept as a run: %s", id, err);
        return -1;
    }
    rs->id = id;
    rs->cfg = cfg;
    rs->cmd = cmd;
    rs->started_ms = now;
    write_run_json(rs, id, mode_name(cmd), "running", -1, rs->started_ms, 0, NULL);
    run_path(rs, id, "job.log", path, sizeof path);
    rs->log = fopen(path, "a");
    if (!rs->log)
        log_warn("run %u: cannot write %s: %s", id, path, strerror(errno));
    else
        log_tee(rs->log);
    run_path(rs, id, NULL, path, sizeof path);
    log_info("run %u: %s", id, path);
    return 0;
}

/* Copies src into dst (a hard link when possible), through DST.tmp. */
static int copy_file(const char *src, const char *dst) {
    char tmp[PATH_MAX];
    char buf[1 << 16];
    int in = -1, out = -1, rc = -1;
    if (snprintf(tmp, sizeof tmp, "%s.tmp", dst) >= (int)sizeof tmp) return -1;
    unlink(tmp);
    if (link(src, tmp) == 0) return rename(tmp, dst);
    in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0) goto out;
    out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0) goto out;
    for (;;) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) goto out;
        if (n == 0) break;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR) continue;
            if (w < 0) goto out;
            off += w;
        }
    }
    if (close(out) != 0) {
        out = -1;
        goto out;
    }
    out = -1;
    rc = rename(tmp, dst);
out:
    if (in >= 0) close(in);
    if (out >= 0) close(out);
    if (rc != 0) unlink(tmp);
    return rc;
}

/* The job's committed outputs, copied into its folder (regular files only:
 * a stream such as /dev/null or "-" has nothing to keep). */
static void keep_outputs(runs_t *rs, json_object *done) {
    const config_t *c = rs->cfg;
    char schema[CONFIG_PATH + 16];
    struct {
        const char *src, *name;
    } files[3] = {{NULL, NULL}};
    json_object *outs = NULL, *model = NULL;
    switch (rs->cmd) {
    case CMD_SEARCH: /* a final model when it trained one (not with --no-final) */
        if (!json_object_object_get_ex(done, "outputs", &outs) ||
            !json_object_object_get_ex(outs, "model", &model) || !model)
            return;
        /* fall through */
    case CMD_TRAIN:
        snprintf(schema, sizeof schema, "%s.schema.json", c->model.file);
        files[0].src = c->model.file, files[0].name = "model.txt";
        files[1].src = schema, files[1].name = "model.txt.schema.json";
        files[2].src = c->output.train, files[2].name = "submission.csv";
        break;
    case CMD_TEST:
        files[0].src = c->output.test, files[0].name = "submission.csv";
        break;
    case CMD_EXPORT:
        files[0].src = c->output.test, files[0].name = "export.svm";
        break;
    default:
        return;
    }
    for (int i = 0; i < 3 && files[i].src; i++) {
        struct stat st;
        char dst[PATH_MAX];
        if (strcmp(files[i].src, "-") == 0 || stat(files[i].src, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        run_path(rs, rs->id, files[i].name, dst, sizeof dst);
        struct stat ds;
        if (stat(dst, &ds) == 0 && ds.st_dev == st.st_dev && ds.st_ino == st.st_ino)
            continue; /* the job wrote it in its own folder */
        if (copy_file(files[i].src, dst) != 0)
            log_warn("run %u: cannot keep %s as %s: %s", rs->id, files[i].src, dst,
                     strerror(errno));
    }
}

/* metrics.json: the job's metrics (common/metrics.h) when it reports them,
 * else a training job's accuracy; a training job's cv_accuracy beside. */
static void write_metrics(runs_t *rs, json_object *done) {
    char path[PATH_MAX];
    json_object *m = NULL, *v;
    if (json_object_object_get_ex(done, "metrics", &v) &&
        json_object_is_type(v, json_type_object)) {
        if (json_object_deep_copy(v, &m, NULL) != 0) m = NULL;
    } else if ((rs->cmd == CMD_TRAIN || rs->cmd == CMD_SEARCH) &&
               json_object_object_get_ex(done, "accuracy", &v) &&
               !json_object_is_type(v, json_type_null)) {
        m = json_object_new_object();
        if (m) json_object_object_add(m, "train_accuracy", json_object_get(v));
    }
    if (m && (rs->cmd == CMD_TRAIN || rs->cmd == CMD_SEARCH) &&
        json_object_object_get_ex(done, "cv_accuracy", &v) &&
        !json_object_object_get_ex(m, "cv_accuracy", NULL))
        json_object_object_add(m, "cv_accuracy", json_object_get(v));
    if (!m) return;
    run_path(rs, rs->id, "metrics.json", path, sizeof path);
    if (write_json(path, m) != 0)
        log_warn("run %u: cannot write %s: %s", rs->id, path, strerror(errno));
    json_object_put(m);
}

size_t runs_expired(const runs_entry_t *e, size_t n, int keep, int max_age_days, int64_t now_ms,
                    uint32_t *out) {
    size_t k = 0;
    int64_t oldest = max_age_days > 0 ? now_ms - (int64_t)max_age_days * 86400000LL : INT64_MIN;
    for (size_t i = 0; i < n; i++) {
        bool too_many = keep > 0 && i >= (size_t)keep;
        bool too_old = max_age_days > 0 && e[i].started_ms < oldest;
        if (!e[i].active && (too_many || too_old)) out[k++] = e[i].id;
    }
    return k;
}

/* Removes DIR/ID and the files in it (a run folder holds no folders). */
static int remove_run_dir(const runs_t *rs, uint32_t id) {
    char path[PATH_MAX];
    run_path(rs, id, NULL, path, sizeof path);
    int dfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0) return errno == ENOENT ? 0 : -1;
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return -1;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            unlinkat(dfd, de->d_name, 0);
    closedir(d);
    return rmdir(path);
}

static void apply_retention(runs_t *rs) {
    char err[512];
    if (rs->keep <= 0 && rs->max_age_days <= 0) return;
    json_object *runs = history_runs(rs->h, RUNS_MAX_LIST, err, sizeof err);
    if (!runs) {
        log_warn("runs retention: %s", err);
        return;
    }
    size_t n = json_object_array_length(runs);
    runs_entry_t *e = calloc(n ? n : 1, sizeof *e);
    uint32_t *out = calloc(n ? n : 1, sizeof *out);
    if (!e || !out) goto out;
    for (size_t i = 0; i < n; i++) {
        json_object *r = json_object_array_get_idx(runs, i), *v;
        e[i].id = json_object_object_get_ex(r, "id", &v) ? (uint32_t)json_object_get_int64(v) : 0;
        e[i].started_ms =
            json_object_object_get_ex(r, "started_ms", &v) ? json_object_get_int64(v) : 0;
        const char *st =
            json_object_object_get_ex(r, "state", &v) ? json_object_get_string(v) : NULL;
        e[i].active = st && (strcmp(st, "queued") == 0 || strcmp(st, "running") == 0);
    }
    size_t k = runs_expired(e, n, rs->keep, rs->max_age_days, clock_wall_ms(), out);
    for (size_t i = 0; i < k; i++) {
        if (remove_run_dir(rs, out[i]) != 0) {
            log_warn("run %u: cannot remove its folder: %s", out[i], strerror(errno));
            continue; /* keep the row: the folder is still there */
        }
        if (history_run_delete(rs->h, out[i], err, sizeof err) != 0)
            log_warn("run %u: %s", out[i], err);
        else
            log_info("run %u removed (runs.keep %d, runs.max_age_days %d)", out[i], rs->keep,
                     rs->max_age_days);
    }
out:
    free(e);
    free(out);
    json_object_put(runs);
}

void runs_finish(runs_t *rs, uint32_t id, int status, json_object *done) {
    char err[512];
    int64_t now = clock_wall_ms();
    const char *state = status == EXIT_OK          ? "done"
                        : status == EXIT_CANCELLED ? "cancelled"
                                                   : "failed";
    json_object *error = NULL;
    if (!done) done = json_object_new_object();
    if (!done) { /* out of memory: the run stays as it was, the log closes */
        if (rs->log) {
            log_tee(NULL);
            fclose(rs->log);
            rs->log = NULL;
        }
        rs->id = 0;
        rs->cfg = NULL;
        return;
    }
    /* the driver's job_done says done or failed; a job stopped after it (or
     * before it started) is failed whatever it said */
    json_object_object_add(done, "state", json_object_new_string(state));
    /* the raw error goes to job.log; the history and run.json, which REST
     * serves, get its public form (webguard.h: no file contents) */
    char raw[1024] = "", text[WEBGUARD_REASON];
    if (status == EXIT_CANCELLED) {
        json_object_object_add(done, "error", json_object_new_string("cancelled"));
    } else if (json_object_object_get_ex(done, "error", &error) && error &&
               json_object_is_type(error, json_type_string)) {
        snprintf(raw, sizeof raw, "%s", json_object_get_string(error));
        json_object_object_add(
            done, "error", json_object_new_string(webguard_public_error(raw, text, sizeof text)));
    } else if (status != EXIT_OK) {
        json_object_object_add(
            done, "error",
            json_object_new_string(webguard_failed_reason(status, text, sizeof text)));
    }
    error = NULL;
    json_object_object_get_ex(done, "error", &error);
    if (!json_object_object_get_ex(done, "duration_s", NULL))
        json_object_object_add(done, "duration_s",
                               json_object_new_double((double)(now - rs->started_ms) / 1000));
    if (status == EXIT_OK) keep_outputs(rs, done);
    write_metrics(rs, done);
    write_run_json(rs, id, mode_name(rs->cmd), state, status, rs->started_ms, now, error);
    if (history_run_done(rs->h, id, now, done, err, sizeof err) != 0)
        log_warn("run %u: %s", id, err);
    if (rs->log) {
        if (status == EXIT_CANCELLED)
            fprintf(rs->log, "run %u cancelled\n", id);
        else if (status != EXIT_OK)
            fprintf(rs->log, "run %u failed (exit status %d)%s%s\n", id, status, raw[0] ? ": " : "",
                    raw);
        log_tee(NULL);
        fclose(rs->log);
        rs->log = NULL;
    }
    json_object_put(done);
    rs->id = 0;
    rs->cfg = NULL;
    apply_retention(rs);
}

void runs_cancel_queued(runs_t *rs, uint32_t id, cli_cmd_t cmd) {
    char err[512];
    int64_t now = clock_wall_ms();
    json_object *done = json_object_new_object(), *error = json_object_new_string("cancelled");
    if (!done || !error) {
        json_object_put(done);
        json_object_put(error);
        return;
    }
    json_object_object_add(done, "state", json_object_new_string("cancelled"));
    json_object_object_add(done, "error", json_object_get(error));
    json_object_object_add(done, "duration_s", json_object_new_double(0));
    json_object_object_add(done, "outputs", json_object_new_object());
    write_run_json(rs, id, mode_name(cmd), "cancelled", EXIT_CANCELLED, now, now, error);
    if (history_run_done(rs->h, id, now, done, err, sizeof err) != 0)
        log_warn("run %u: %s", id, err);
    json_object_put(done);
    json_object_put(error);
}

/* "12.3s", "4m05s", "2h03m" */
static void fmt_duration(double s, char *buf, size_t len) {
    if (s < 60)
        snprintf(buf, len, "%.1fs", s);
    else if (s < 3600)
        snprintf(buf, len, "%dm%02ds", (int)s / 60, (int)s % 60);
    else
        snprintf(buf, len, "%dh%02dm", (int)s / 3600, ((int)s % 3600) / 60);
}

static const char *str_of(json_object *o, const char *k) {
    json_object *v;
    if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

static bool num_of(json_object *o, const char *k, double *out) {
    json_object *v;
    if (!o || !json_object_object_get_ex(o, k, &v) ||
        !(json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)))
        return false;
    *out = json_object_get_double(v);
    return true;
}

int runs_list(const config_t *cfg, FILE *out, char *err, size_t errlen) {
    struct stat st;
    if (stat(cfg->history.db, &st) != 0) {
        fprintf(out, "no runs yet (%s does not exist)\n", cfg->history.db);
        return EXIT_OK;
    }
    history_t *h = history_open(cfg->history.db, 0, false, err, errlen);
    if (!h) return EXIT_JOB_FAILED;
    json_object *runs = history_runs(h, RUNS_MAX_LIST, err, errlen);
    history_close(&h);
    if (!runs) return EXIT_JOB_FAILED;
    fprintf(out, "%-5s %-7s %-9s %-30s %-24s %-9s %s\n", "id", "mode", "state", "data", "metrics",
            "duration", "started");
    for (size_t i = 0; i < json_object_array_length(runs); i++) {
        json_object *r = json_object_array_get_idx(runs, i), *m = NULL;
        double id = 0, started = 0, dur, v;
        char metrics[64] = "-", dbuf[32] = "-", when[32] = "-";
        num_of(r, "id", &id);
        json_object_object_get_ex(r, "metrics", &m);
        int n = 0;
        if (num_of(r, "accuracy", &v)) {
            n = snprintf(metrics, sizeof metrics, "acc %.4f", v);
            if (num_of(m, "macro_f1", &v) && n > 0)
                n += snprintf(metrics + n, sizeof metrics - (size_t)n, " F1 %.4f", v);
        }
        /* a search: its best C's cross-validation accuracy */
        if (num_of(m, "best_C", &v) && num_of(m, "cv_accuracy", &v) && n >= 0 &&
            (size_t)n < sizeof metrics)
            snprintf(metrics + n, sizeof metrics - (size_t)n, "%scv %.4f", n ? " " : "", v);
        if (num_of(r, "duration_s", &dur)) fmt_duration(dur, dbuf, sizeof dbuf);
        if (num_of(r, "started_ms", &started)) {
            time_t t = (time_t)(started / 1000);
            struct tm tm;
            localtime_r(&t, &tm);
            strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
        }
        const char *data = str_of(r, "data");
        fprintf(out, "%-5.0f %-7s %-9s %-30s %-24s %-9s %s\n", id,
                str_of(r, "mode") ? str_of(r, "mode") : "-",
                str_of(r, "state") ? str_of(r, "state") : "-", data && data[0] ? data : "-",
                metrics, dbuf, when);
    }
    json_object_put(runs);
    return EXIT_OK;
}
