#include "master/cli.h"

#include "common/optable.h"
#include "master/jobopts.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* What an option does; O_KEY options set their row's config key. */
enum {
    O_KEY = 1,
    O_CONFIG,
    O_SET,
    O_NO_DASHBOARD,
    O_KEEP_RUNNING,
    O_VERBOSE,
    O_QUIET,
    O_HELP,
    O_VERSION,
    O_DATA,
    O_OUT,
    O_CV,
    O_MIN_WORKERS,
    O_RESUME,
    O_TASKS,
    O_PAYLOAD,
    O_TASK_MS,
    O_PREFETCH,
    O_OUT_IDS,
    O_TEXT,
    O_CLIST,
    O_SOLVERS,
    O_NO_FINAL,
};

/* A job option: a job submitted over REST may carry it as a JSON key. */
#define F_JOB 1u

static const optdef_t options[] = {
    /* clang-format off */
    {.help = "Common options:"},
    {"config", 0, "FILE", "configuration (default ./config.json)", O_CONFIG, NULL, 0},
    {"set", 0, "SECTION.KEY=VAL", "override one config value (repeatable)", O_SET, NULL, 0},
    {"no-dashboard", 0, NULL, "do not start the dashboard on :5051", O_NO_DASHBOARD, NULL, 0},
    {"keep-running", 0, NULL, "stay up with the dashboard after the job", O_KEEP_RUNNING, NULL, 0},
    {"verbose", 'v', NULL, "log debug lines too", O_VERBOSE, NULL, 0},
    {"quiet", 'q', NULL, "log warnings and errors only, no progress", O_QUIET, NULL, 0},
    {"help", 'h', NULL, "print this help", O_HELP, NULL, 0},
    {"version", 0, NULL, "print the version", O_VERSION, NULL, 0},
    {.help = "\nJob options (a job submitted to POST /api/jobs, by the page or master submit,\n"
             "takes the same names as JSON keys, all but text, parallel and resume):"},
    {"data", 0, "FILE", "input: data.train for train, data.test for test; export: required",
     O_DATA, NULL, F_JOB},
    {"model", 0, "FILE", "model written by train, read by test and export (model.file)", O_KEY,
     "model.file", F_JOB},
    {"out", 0, "FILE", "predictions: output.train for train, output.test for test;\n"
                       "export: the libsvm file, required", O_OUT, NULL, F_JOB},
    {"label", 0, "COL", "label column (data.label)", O_KEY, "data.label", F_JOB},
    {"id", 0, "COL", "id column (data.id)", O_KEY, "data.id", F_JOB},
    {"format", 0, "csv|libsvm", "input format (data.format; by default from the file name)", O_KEY,
     "data.format", F_JOB},
    {"scale", 0, "standard|minmax|none", "feature scaling (data.scale)", O_KEY, "data.scale", F_JOB},
    {"text", 0, "COL", "a free-text column, bag of words (data.text; repeatable)", O_TEXT, NULL, 0},
    {"solver", 0, "N|NAME", "liblinear solver number or name (model.solver)", O_KEY, "model.solver",
     F_JOB},
    {"C", 'C', "VALUE", "cost of a training error (model.C)", O_KEY, "model.C", F_JOB},
    {"eps", 0, "VALUE", "stopping tolerance (model.eps)", O_KEY, "model.eps", F_JOB},
    {"bias", 0, "VALUE", "bias feature (model.bias)", O_KEY, "model.bias", F_JOB},
    {"strategy", 0, "exact|average", "how workers train together (model.strategy)", O_KEY,
     "model.strategy", F_JOB},
    {"parallel", 0, "auto|rows|classes",
     "exact strategy: split rows or whole classes over workers (model.parallel)", O_KEY,
     "model.parallel", F_JOB},
    {"rounds", 0, "R", "parameter-mixing rounds, average strategy (model.rounds)", O_KEY,
     "model.rounds", F_JOB},
    {"cv", 0, "K", "K-fold cross-validation, K from 2 to 100 (exact strategy);\n"
                   "search: required", O_CV, NULL, F_JOB},
    {"shard-rows", 0, "N", "rows per shard (cluster.shard_rows)", O_KEY, "cluster.shard_rows",
     F_JOB},
    {"min-workers", 0, "N", "start once N workers are connected, N from 1 to 100000\n"
                            "(default 1; waits without a time limit)", O_MIN_WORKERS, NULL, F_JOB},
    {"resume", 0, NULL, "continue a stopped exact training from its journal", O_RESUME, NULL, 0},
    {.help = "\nsearch options (also job options):"},
    {"C-list", 0, "C,C,...", "the C values to try (default: liblinear -C's path, from\n"
                             "a small C doubling up to 1024 with warm starts)", O_CLIST, NULL,
     F_JOB},
    {"solvers", 0, "N,N,...", "the solvers to try: 0 (L2R_LR), 2 (L2R_L2LOSS_SVC)\n"
                              "(default: model.solver)", O_SOLVERS, NULL, F_JOB},
    {"no-final", 0, NULL, "do not train the final model with the best C", O_NO_FINAL, NULL,
     F_JOB},
    {.help = "\nbench-dispatch options:"},
    {"tasks", 0, "N", "tasks to run (default 10000)", O_TASKS, NULL, 0},
    {"payload", 0, "BYTES", "bytes sent with each task", O_PAYLOAD, NULL, 0},
    {"task-ms", 0, "MS", "each task sleeps MS milliseconds on its worker", O_TASK_MS, NULL, 0},
    {"prefetch", 0, "N", "leases per worker beyond its slots (default 32)", O_PREFETCH, NULL, 0},
    {"out-ids", 0, "FILE", "write the accepted task ids to FILE", O_OUT_IDS, NULL, 0},
    /* clang-format on */
};
#define NOPTIONS (sizeof options / sizeof options[0])

static const struct {
    const char *name, *arg, *help;
    cli_cmd_t cmd;
} commands[] = {
    {"train", NULL, "run one training job, write outputs, exit", CMD_TRAIN},
    {"search", NULL,
     "cross-validated search over C (and solvers) with --cv K; prints a\n"
     "table, then trains the best (unless --no-final)",
     CMD_SEARCH},
    {"test", NULL, "run one prediction job, write outputs, exit", CMD_TEST},
    {"export", NULL,
     "write the fitted features of --data as libsvm to --out (same\n"
     "rows and order; the label the model records, 0 when the file has\n"
     "none); liblinear-train -B 1 on it trains the same model",
     CMD_EXPORT},
    {"serve", NULL, "stay up; jobs are submitted over the REST API / dashboard", CMD_SERVE},
    {"submit", "MODE",
     "send a train, search or test job (the options below) to the running\n"
     "master (serve, --keep-running) and follow it to its end",
     CMD_SUBMIT},
    {"bench-dispatch", NULL, "cluster self-test: tasks/s, MB/s, latency", CMD_BENCH_DISPATCH},
    {"runs", NULL, "list the runs (every job is one: Data/runs/ID/), newest first", CMD_RUNS},
    {"keygen", "NAME", "write a CurveZMQ key pair NAME.key / NAME.pub", CMD_KEYGEN},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

void cli_usage(FILE *out) {
    char left[64];
    fputs("usage: master [COMMAND] [OPTIONS]\n\nCommands:\n", out);
    optable_print_line(out, "  (none)",
                       "interactive: Select mode: [1] Training (Enter) [2] Testing,\n"
                       "then the data file (Enter: the config's); as make demo: --scale none");
    for (size_t k = 0; k < NCOMMANDS; k++) {
        snprintf(left, sizeof left, "  %s%s%s", commands[k].name, commands[k].arg ? " " : "",
                 commands[k].arg ? commands[k].arg : "");
        optable_print_line(out, left, commands[k].help);
    }
    fputc('\n', out);
    optable_print(out, options, NOPTIONS);
    fputs("\n"
          "An option's value is the next argument (--data x.csv) or follows '='\n"
          "(--data=x.csv). --data may be a pipe, /dev/stdin or a FIFO (copied to $TMPDIR\n"
          "first).\n"
          "\n"
          "Exit status: 0 success, 1 job failed, 2 bad usage or config, 3 bad input data,\n"
          "130 / 143 a job stopped by Ctrl-C / SIGTERM (serve mode exits 0).\n",
          out);
}

/* Sets the number an option of bench-dispatch or of the job gives. */
static int apply_number(master_opts_t *o, const optdef_t *d, const char *shown, const char *v,
                        char *err, size_t errlen) {
    long n; /* any int: the ranges are the job's rules, checked by jobopts_validate() */
    if (optable_long(shown, v, INT_MIN, INT_MAX, &n, err, errlen) < 0) return -1;
    switch (d->id) {
    case O_CV:
        o->cv_folds = (int)n;
        break;
    case O_MIN_WORKERS:
        o->min_workers = (int)n;
        break;
    case O_TASKS:
        o->tasks = n;
        break;
    case O_PAYLOAD:
        o->payload = n;
        break;
    case O_TASK_MS:
        o->task_ms = (int)n;
        break;
    case O_PREFETCH:
        o->prefetch = (int)n;
        break;
    }
    return 0;
}

/* Applies one option (value v, NULL for a flag) of the command line or of
 * a REST job. --config, --help and --version were taken before. */
static int apply(master_opts_t *o, config_t *cfg, const optdef_t *d, const char *v, char *err,
                 size_t errlen) {
    char shown[80];
    optable_name(d, shown, sizeof shown);
    /* export reads its file as a test job does: --data and --out take the test paths. */
    cli_cmd_t mode = o->cmd == CMD_SUBMIT ? o->submit_mode : o->cmd;
    bool test = mode == CMD_TEST || mode == CMD_EXPORT;
    switch (d->id) {
    case O_KEY:
        return optable_set_key(cfg, d->key, shown, v, err, errlen);
    case O_DATA:
        o->data_given = true;
        return optable_set_key(cfg, test ? "data.test" : "data.train", shown, v, err, errlen);
    case O_OUT:
        o->out_given = true;
        return optable_set_key(cfg, test ? "output.test" : "output.train", shown, v, err, errlen);
    case O_SET:
        return config_set(cfg, v, err, errlen);
    case O_TEXT:
        if (config_add_text(cfg, v, err, errlen) == 0) return 0;
        {
            char why[256];
            snprintf(why, sizeof why, "%s", err);
            snprintf(err, errlen, "%s: %s", shown, why);
        }
        return -1;
    case O_VERBOSE:
        o->verbosity = 1;
        return 0;
    case O_QUIET:
        o->verbosity = -1;
        return 0;
    case O_NO_DASHBOARD:
        o->no_dashboard = true;
        return 0;
    case O_KEEP_RUNNING:
        o->keep_running = true;
        return 0;
    case O_RESUME:
        o->resume = true;
        return 0;
    case O_CLIST:
        o->c_list_given = true;
        return search_parse_clist(v, o->c_list, &o->nc, err, errlen);
    case O_SOLVERS:
        return search_parse_solvers(v, o->solvers, &o->nsolvers, err, errlen);
    case O_NO_FINAL: /* a REST job's value may say no: "no-final": false or 0 */
        o->no_final = !v || (strcmp(v, "0") != 0 && strcmp(v, "false") != 0);
        return 0;
    case O_OUT_IDS:
        snprintf(o->out_ids, sizeof o->out_ids, "%s", v);
        return 0;
    case O_CONFIG:
    case O_HELP:
    case O_VERSION:
        return 0;
    default:
        return apply_number(o, d, shown, v, err, errlen);
    }
}

int cli_job_option(config_t *cfg, master_opts_t *o, const char *name, const char *value, char *err,
                   size_t errlen) {
    const optdef_t *d = optable_find(options, NOPTIONS, name);
    if (!d || !(d->flags & F_JOB)) {
        snprintf(err, errlen, "unknown job option '%.40s'", name);
        return -1;
    }
    return apply(o, cfg, d, value, err, errlen);
}

/* Appends arg to buf, single-quoted when the shell would split or expand it.
 * Returns false when it does not fit. */
static bool append_quoted(char *buf, size_t size, const char *arg) {
    size_t n = strlen(buf);
    if (n + 4 * strlen(arg) + 4 >= size) /* room for the worst case: every byte a quote */
        return false;
    bool plain = arg[0] != 0;
    for (const char *c = arg; *c; c++)
        plain = plain && (strchr("_-./=:,+@%", *c) || (*c >= '0' && *c <= '9') ||
                          (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z'));
    if (n) buf[n++] = ' ';
    if (!plain) buf[n++] = '\'';
    for (const char *c = arg; *c; c++) {
        if (*c == '\'') {
            memcpy(buf + n, "'\\''", 4);
            n += 4;
        } else {
            buf[n++] = *c;
        }
    }
    if (!plain) buf[n++] = '\'';
    buf[n] = 0;
    return true;
}

static void record_command(master_opts_t *o, int argc, char **argv) {
    o->command[0] = 0;
    for (int k = 0; k < argc; k++) {
        if (k > 0 && strcmp(argv[k], "--resume") == 0) continue;
        if (!append_quoted(o->command, sizeof o->command, argv[k])) {
            o->command[0] = 0;
            return;
        }
    }
}

/* The command word (and keygen's NAME): sets o->cmd and returns the index
 * of the first option, or -1 with err. */
static int parse_command(int argc, char **argv, master_opts_t *o, char *err, size_t errlen) {
    if (argc < 2 || argv[1][0] == '-') return 1; /* interactive */
    size_t k = 0;
    while (k < NCOMMANDS && strcmp(argv[1], commands[k].name) != 0)
        k++;
    if (k == NCOMMANDS) {
        char list[128] = "";
        for (k = 0; k < NCOMMANDS; k++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", k ? ", " : "",
                     commands[k].name);
        snprintf(err, errlen, "unknown command '%.60s' (%s; see --help)", argv[1], list);
        return -1;
    }
    o->cmd = commands[k].cmd;
    if (o->cmd == CMD_SUBMIT) {
        if (argc >= 3 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0)) {
            o->cmd = CMD_HELP;
            return 3;
        }
        if (argc >= 3 && strcmp(argv[2], "train") == 0)
            o->submit_mode = CMD_TRAIN;
        else if (argc >= 3 && strcmp(argv[2], "search") == 0)
            o->submit_mode = CMD_SEARCH;
        else if (argc >= 3 && strcmp(argv[2], "test") == 0)
            o->submit_mode = CMD_TEST;
        else {
            snprintf(err, errlen,
                     "submit: MODE is train, search or test (usage: master submit MODE "
                     "[job options])");
            return -1;
        }
        return 3;
    }
    if (o->cmd != CMD_KEYGEN) return 2;
    if (argc >= 3 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0)) {
        o->cmd = CMD_HELP;
        return 3;
    }
    if (argc < 3 || argv[2][0] == '-') {
        snprintf(err, errlen, "keygen: missing NAME (usage: master keygen NAME)");
        return -1;
    }
    snprintf(o->keygen_name, sizeof o->keygen_name, "%s", argv[2]);
    return 3;
}

int cli_parse(int argc, char **argv, master_opts_t *o, config_t *cfg, char *err, size_t errlen) {
    int rc = -1;
    optitem_t *items = NULL;
    size_t n = 0;
    memset(o, 0, sizeof *o);
    record_command(o, argc, argv);
    snprintf(o->config_path, sizeof o->config_path, "config.json");
    o->min_workers = 1;
    o->tasks = 10000;
    o->prefetch = -1;
    int first = parse_command(argc, argv, o, err, errlen);
    if (first < 0) return -1;
    if (o->cmd == CMD_HELP) return 0;
    if (o->cmd == CMD_SERVE || o->cmd == CMD_SUBMIT)
        o->command[0] = 0; /* its jobs come over REST: no command line resumes them */
    if (optable_parse(options, NOPTIONS, argc, argv, first, &items, &n, err, errlen) < 0) return -1;
    if (optable_last(items, n, O_HELP) || optable_last(items, n, O_VERSION)) {
        o->cmd = optable_last(items, n, O_HELP) ? CMD_HELP : CMD_VERSION;
        rc = 0;
        goto out;
    }
    /* The config file comes first so that options override it, wherever they stand. */
    const optitem_t *config = optable_last(items, n, O_CONFIG);
    if (config) snprintf(o->config_path, sizeof o->config_path, "%s", config->value);
    config_defaults(cfg);
    if (config_load(cfg, o->config_path, !config, err, errlen) < 0) goto out;
    /* The prompt's jobs run as `make demo`'s do (scripts/demo.sh passes
     * --scale none): the same file gives the same model. Options still win. */
    if (o->cmd == CMD_INTERACTIVE) snprintf(cfg->data.scale, sizeof cfg->data.scale, "none");
    for (size_t i = 0; i < n; i++)
        if (apply(o, cfg, items[i].def, items[i].value, err, errlen) < 0) goto out;
    if (o->cmd == CMD_SUBMIT) { /* the job is checked as the mode's, here and by the master */
        master_opts_t job = *o;
        job.cmd = o->submit_mode;
        rc = jobopts_validate(cfg, &job, err, errlen);
    } else {
        rc = jobopts_validate(cfg, o, err, errlen);
    }
out:
    free(items);
    return rc;
}
