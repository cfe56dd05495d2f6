#include "master/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *cli_usage(void)
{
    return "usage: master [COMMAND] [OPTIONS]\n"
           "\n"
           "Commands:\n"
           "  (none)                 interactive: Select mode: [1] Training (Enter) [2] Testing\n"
           "  train                  run one training job, write outputs, exit\n"
           "  test                   run one prediction job, write outputs, exit\n"
           "  serve                  stay up; jobs are submitted over the REST API / dashboard\n"
           "  bench-dispatch         cluster self-test: tasks/s, MB/s, latency\n"
           "  keygen NAME            write a CurveZMQ key pair NAME.key / NAME.pub\n"
           "\n"
           "Common options:\n"
           "  --config FILE          configuration (default ./config.json)\n"
           "  --set SECTION.KEY=VAL  override one config value (repeatable)\n"
           "  --no-dashboard         do not start the dashboard on :5051\n"
           "  --keep-running         stay up with the dashboard after the job\n"
           "  -v, --verbose / -q, --quiet\n"
           "  --help, --version\n"
           "\n"
           "Job options:\n"
           "  --data FILE   --model FILE   --out FILE   --label COL   --id COL\n"
           "  --format csv|libsvm   --scale standard|minmax|none\n"
           "  --solver N|NAME   -C VALUE   --eps VALUE   --bias VALUE\n"
           "  --strategy exact|average   --rounds R   --cv K\n"
           "  --shard-rows N   --min-workers N   --resume\n"
           "\n"
           "bench-dispatch options:\n"
           "  --tasks N  --payload BYTES  --task-ms MS  --prefetch N  --out-ids FILE\n"
           "\n"
           "--data may be a pipe, /dev/stdin or a FIFO (copied to $TMPDIR first).\n"
           "\n"
           "Exit status: 0 success, 1 job failed, 2 bad usage or config, 3 bad input data,\n"
           "130 / 143 a job stopped by Ctrl-C / SIGTERM (serve mode exits 0).\n";
}

static int parse_long_arg(const char *opt, const char *v, long lo, long hi, long *out, char *err,
                          size_t errlen)
{
    char *end;
    long x = strtol(v, &end, 10);
    if (end == v || *end || x < lo || x > hi) {
        snprintf(err, errlen, "%s: '%s' is not a whole number from %ld to %ld", opt, v, lo, hi);
        return -1;
    }
    *out = x;
    return 0;
}

/* Job options that are config values: option -> "section.key". */
static const struct {
    const char *opt;
    const char *key;
} config_opts[] = {
    {"model", "model.file"},     {"label", "data.label"},      {"id", "data.id"},
    {"solver", "model.solver"},  {"C", "model.C"},              {"eps", "model.eps"},
    {"bias", "model.bias"},      {"strategy", "model.strategy"}, {"rounds", "model.rounds"},
    {"shard-rows", "cluster.shard_rows"}, {"format", "data.format"}, {"scale", "data.scale"},
};

int cli_job_option(config_t *cfg, cli_cmd_t cmd, const char *name, const char *value, char *err,
                   size_t errlen)
{
    char assign[CONFIG_PATH + 64];
    const char *key = NULL;
    for (size_t k = 0; k < sizeof config_opts / sizeof config_opts[0]; k++)
        if (strcmp(name, config_opts[k].opt) == 0)
            key = config_opts[k].key;
    if (strcmp(name, "data") == 0)
        key = cmd == CMD_TEST ? "data.test" : "data.train";
    else if (strcmp(name, "out") == 0)
        key = cmd == CMD_TEST ? "output.test" : "output.train";
    if (!key) {
        snprintf(err, errlen, "unknown job option '%s'", name);
        return -1;
    }
    snprintf(assign, sizeof assign, "%s=%s", key, value);
    return config_set(cfg, assign, err, errlen);
}

/* Appends arg to buf, single-quoted when the shell would split or expand it.
 * Returns false when it does not fit. */
static bool append_quoted(char *buf, size_t size, const char *arg)
{
    size_t n = strlen(buf);
    if (n + 4 * strlen(arg) + 4 >= size) /* room for the worst case: every byte a quote */
        return false;
    bool plain = arg[0] != 0;
    for (const char *c = arg; *c; c++)
        plain = plain && (strchr("_-./=:,+@%", *c) || (*c >= '0' && *c <= '9') ||
                          (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z'));
    if (n)
        buf[n++] = ' ';
    if (!plain)
        buf[n++] = '\'';
    for (const char *c = arg; *c; c++) {
        if (*c == '\'') {
            memcpy(buf + n, "'\\''", 4);
            n += 4;
        } else {
            buf[n++] = *c;
        }
    }
    if (!plain)
        buf[n++] = '\'';
    buf[n] = 0;
    return true;
}

static void record_command(master_opts_t *o, int argc, char **argv)
{
    o->command[0] = 0;
    for (int k = 0; k < argc; k++) {
        if (k > 0 && strcmp(argv[k], "--resume") == 0)
            continue;
        if (!append_quoted(o->command, sizeof o->command, argv[k])) {
            o->command[0] = 0;
            return;
        }
    }
}

int cli_parse(int argc, char **argv, master_opts_t *o, config_t *cfg, char *err, size_t errlen)
{
    memset(o, 0, sizeof *o);
    record_command(o, argc, argv);
    snprintf(o->config_path, sizeof o->config_path, "config.json");
    o->min_workers = 1;
    o->tasks = 10000;
    o->prefetch = -1;
    int i = 1;
    if (argc > 1 && argv[1][0] != '-') {
        const char *c = argv[1];
        if (strcmp(c, "train") == 0)
            o->cmd = CMD_TRAIN;
        else if (strcmp(c, "test") == 0)
            o->cmd = CMD_TEST;
        else if (strcmp(c, "serve") == 0)
            o->cmd = CMD_SERVE;
        else if (strcmp(c, "bench-dispatch") == 0)
            o->cmd = CMD_BENCH_DISPATCH;
        else if (strcmp(c, "keygen") == 0) {
            o->cmd = CMD_KEYGEN;
            if (argc >= 3 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0)) {
                o->cmd = CMD_HELP;
                return 0;
            }
            if (argc < 3 || argv[2][0] == '-') {
                snprintf(err, errlen, "keygen: missing NAME (usage: master keygen NAME)");
                return -1;
            }
            snprintf(o->keygen_name, sizeof o->keygen_name, "%s", argv[2]);
            i = 2;
        } else {
            snprintf(err, errlen, "unknown command '%s' (train, test, serve, bench-dispatch, keygen; see --help)", c);
            return -1;
        }
        i++;
    }
    if (o->cmd == CMD_SERVE)
        o->command[0] = 0; /* its jobs come over REST: no command line resumes them */
    /* The config file comes first so that options override it, wherever they stand. */
    bool config_given = false;
    for (int k = i; k < argc; k++) {
        if (strcmp(argv[k], "--config") == 0) {
            if (k + 1 >= argc) {
                snprintf(err, errlen, "--config: missing FILE");
                return -1;
            }
            snprintf(o->config_path, sizeof o->config_path, "%s", argv[k + 1]);
            config_given = true;
        }
        if (strcmp(argv[k], "--help") == 0 || strcmp(argv[k], "-h") == 0) {
            o->cmd = CMD_HELP;
            return 0;
        }
        if (strcmp(argv[k], "--version") == 0) {
            o->cmd = CMD_VERSION;
            return 0;
        }
    }
    config_defaults(cfg);
    if (config_load(cfg, o->config_path, !config_given, err, errlen) < 0)
        return -1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool takes_value = true;
        if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            o->verbosity = 1;
            takes_value = false;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            o->verbosity = -1;
            takes_value = false;
        } else if (strcmp(a, "--no-dashboard") == 0) {
            o->no_dashboard = true;
            takes_value = false;
        } else if (strcmp(a, "--keep-running") == 0) {
            o->keep_running = true;
            takes_value = false;
        } else if (strcmp(a, "--resume") == 0) {
            o->resume = true;
            takes_value = false;
        }
        if (!takes_value)
            continue;
        if (a[0] != '-') {
            snprintf(err, errlen, "unexpected argument '%s' (see --help)", a);
            return -1;
        }
        if (!v) {
            snprintf(err, errlen, "%s: missing value", a);
            return -1;
        }
        long n;
        const char *name = a[1] == '-' ? a + 2 : a + 1;
        bool is_job_option = strcmp(a, "-C") == 0 || strcmp(name, "data") == 0 ||
                             strcmp(name, "out") == 0;
        for (size_t k = 0; k < sizeof config_opts / sizeof config_opts[0] && a[1] == '-'; k++)
            is_job_option |= strcmp(name, config_opts[k].opt) == 0 && strcmp(name, "C") != 0;
        if (is_job_option) {
            if (cli_job_option(cfg, o->cmd, name, v, err, errlen) < 0)
                return -1;
        } else if (strcmp(a, "--config") == 0) {
        } else if (strcmp(a, "--set") == 0) {
            if (config_set(cfg, v, err, errlen) < 0)
                return -1;
        } else if (strcmp(a, "--min-workers") == 0) {
            if (parse_long_arg(a, v, 0, 100000, &n, err, errlen) < 0)
                return -1;
            o->min_workers = (int)n;
        } else if (strcmp(a, "--cv") == 0) {
            if (parse_long_arg(a, v, 2, 100, &n, err, errlen) < 0)
                return -1;
            o->cv_folds = (int)n;
        } else if (strcmp(a, "--tasks") == 0) {
            if (parse_long_arg(a, v, 1, 100000000, &n, err, errlen) < 0)
                return -1;
            o->tasks = n;
        } else if (strcmp(a, "--payload") == 0) {
            if (parse_long_arg(a, v, 0, 1L << 30, &n, err, errlen) < 0)
                return -1;
            o->payload = n;
        } else if (strcmp(a, "--task-ms") == 0) {
            if (parse_long_arg(a, v, 0, 3600000, &n, err, errlen) < 0)
                return -1;
            o->task_ms = (int)n;
        } else if (strcmp(a, "--prefetch") == 0) {
            if (parse_long_arg(a, v, 0, 10000, &n, err, errlen) < 0)
                return -1;
            o->prefetch = (int)n;
        } else if (strcmp(a, "--out-ids") == 0) {
            snprintf(o->out_ids, sizeof o->out_ids, "%s", v);
        } else {
            snprintf(err, errlen, "unknown option '%s' (see --help)", a);
            return -1;
        }
        i++;
    }
    return config_validate(cfg, err, errlen);
}
