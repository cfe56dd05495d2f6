/* cli: the master's command line.
 *
 *   master [train|search|test|export|serve|submit MODE|bench-dispatch|runs|keygen NAME] [options]
 *
 * One table in cli.c holds every option: getopt_long parses it
 * (common/optable.h: --opt value, --opt=value, -v, options in any order after
 * the command) and --help prints it. cli_parse() fills opts and applies job
 * options to cfg (loaded from --config first, wherever it stands), so that
 * every later module reads one config_t, then checks the whole job with
 * jobopts_validate(). It never exits: on bad usage it returns -1 with a
 * one-line reason (exit status 2).
 */
#ifndef NC_CLI_H
#define NC_CLI_H

#include "common/config.h"
#include "master/search.h"

#include <stdbool.h>
#include <stdio.h>

typedef enum {
    CMD_INTERACTIVE,
    CMD_TRAIN,
    CMD_SEARCH,
    CMD_TEST,
    CMD_EXPORT,
    CMD_SERVE,
    CMD_SUBMIT,
    CMD_BENCH_DISPATCH,
    CMD_KEYGEN,
    CMD_RUNS,
    CMD_HELP,
    CMD_VERSION
} cli_cmd_t;

typedef struct master_opts {
    cli_cmd_t cmd;
    cli_cmd_t submit_mode; /* submit: the job's mode (CMD_TRAIN, CMD_SEARCH, CMD_TEST) */
    char config_path[CONFIG_PATH];
    int verbosity; /* -1 quiet, 0 normal, 1 verbose */
    bool no_dashboard, keep_running, resume;
    bool data_given, out_given; /* --data, --out on the command line (export needs both) */
    int min_workers;
    int cv_folds;
    /* search: --C-list (nc 0: liblinear's C path), --solvers (nsolvers 0:
     * model.solver), --no-final */
    double c_list[SEARCH_MAX_C];
    int nc;
    bool c_list_given;
    int solvers[SEARCH_MAX_SOLVERS];
    int nsolvers;
    bool no_final;
    long tasks;                /* bench-dispatch */
    long payload;              /* bench-dispatch: bytes per task */
    int task_ms;               /* bench-dispatch: each task sleeps this long on the worker */
    int prefetch;              /* bench-dispatch: leases per worker beyond its slots */
    char out_ids[CONFIG_PATH]; /* bench-dispatch: write accepted task ids here */
    char keygen_name[CONFIG_PATH];
    /* The command line as typed, shell-quoted, without --resume ("" when it
     * does not fit, and in serve mode): a stopped job's resume hint. */
    char command[2048];
} master_opts_t;

/* Parses argv. cfg is filled from defaults and the --config file, then the
 * options in order. Returns 0 (opts->cmd CMD_HELP or CMD_VERSION when asked
 * for), or -1 with err set. */
int cli_parse(int argc, char **argv, master_opts_t *opts, config_t *cfg, char *err, size_t errlen);

/* Applies one job option of a job submitted over REST, by its long name
 * without dashes ("model", "C", "shard-rows", "min-workers", "data", ...), to
 * cfg and o through the command line's table and code: "data" and "out" go to
 * the train or test paths by o->cmd. --cv, --resume and the options that are
 * not job options are unknown here. 0, or -1 with err; the caller ends with
 * jobopts_validate(). */
int cli_job_option(config_t *cfg, master_opts_t *o, const char *name, const char *value, char *err,
                   size_t errlen);

/* Writes the --help text. */
void cli_usage(FILE *out);

#endif
