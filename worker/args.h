/* args: the worker's command line.
 *
 *   worker [--config FILE] [--master HOST] [--name NAME] [--slots N] ...
 *
 * One table in args.c holds every option: getopt_long parses it
 * (common/optable.h: --opt value, --opt=value, -v, any order) and --help
 * prints it. args_parse() reads the config file (--config, wherever it
 * stands), applies the options that are config values in command-line order
 * and checks the result, so that worker_run() gets one valid config_t. It
 * never exits and prints nothing.
 */
#ifndef NC_ARGS_H
#define NC_ARGS_H

#include "common/config.h"
#include "common/log.h"

#include <stdio.h>

typedef enum { ARGS_RUN, ARGS_HELP, ARGS_VERSION } args_action_t;

typedef struct args {
    args_action_t action;
    log_level_t level; /* LOG_INFO, or -v / -q */
    int die_after;     /* --die-after N (tests only), 0 = never */
} args_t;

/* Parses argv into a and cfg (defaults, the config file, then the options).
 * Returns 0 (a->action says whether to run or to print help or version), or
 * -1 with a one-line err: bad usage or config, exit status 2. */
int args_parse(int argc, char **argv, args_t *a, config_t *cfg, char *err, size_t errlen);

/* Writes the --help text. */
void args_usage(FILE *out);

#endif
