/* cli: the master's command line.
 *
 *   master [train|test|serve|bench-dispatch|keygen NAME] [options]
 *
 * cli_parse() fills opts and applies job options to cfg (loaded from
 * --config first), so that every later module reads one config_t. It never
 * exits: on bad usage it returns -1 with a one-line reason (exit status 2).
 */
#ifndef NC_CLI_H
#define NC_CLI_H

#include "common/config.h"

#include <stdbool.h>

typedef enum {
    CMD_INTERACTIVE,
    CMD_TRAIN,
    CMD_TEST,
    CMD_SERVE,
    CMD_BENCH_DISPATCH,
    CMD_KEYGEN,
    CMD_HELP,
    CMD_VERSION
} cli_cmd_t;

typedef struct master_opts {
    cli_cmd_t cmd;
    char config_path[CONFIG_PATH];
    int verbosity; /* -1 quiet, 0 normal, 1 verbose */
    bool no_dashboard, keep_running, resume;
    int min_workers;
    int cv_folds;
    long tasks;       /* bench-dispatch */
    long payload;     /* bench-dispatch: bytes per task */
    int task_ms;      /* bench-dispatch: each task sleeps this long on the worker */
    int prefetch;     /* bench-dispatch: leases per worker beyond its slots */
    char out_ids[CONFIG_PATH]; /* bench-dispatch: write accepted task ids here */
    char keygen_name[CONFIG_PATH];
    /* The command line as typed, shell-quoted, without --resume ("" when it
     * does not fit, and in serve mode): a stopped job's resume hint. */
    char command[2048];
} master_opts_t;

/* Parses argv. cfg is filled from defaults and the --config file, then the
 * options. Returns 0, or -1 with err set. */
int cli_parse(int argc, char **argv, master_opts_t *opts, config_t *cfg, char *err, size_t errlen);

/* Applies one job option by its long name without dashes ("model", "C",
 * "shard-rows", "data", "out", ...) to cfg, for a job of mode cmd (CMD_TRAIN
 * or CMD_TEST: "data" and "out" go to the train or test paths). Used by the
 * command line and by jobs submitted over the REST API. 0, or -1 with err. */
int cli_job_option(config_t *cfg, cli_cmd_t cmd, const char *name, const char *value, char *err,
                   size_t errlen);

/* The --help text. */
const char *cli_usage(void);

#endif
