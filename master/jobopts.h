/* jobopts: the rules a job's options must meet together, in one place.
 *
 * A job comes from the command line (cli_parse(), and main() again once the
 * interactive question has chosen train or test) or over REST (serve.c, whose
 * JSON keys go through the command line's option table). Both end with
 * jobopts_validate(), so a job is refused by the same code with the same
 * message whichever way it came, and the drivers (train.c, predict.c,
 * dispatch.c) trust what passed.
 */
#ifndef NC_JOBOPTS_H
#define NC_JOBOPTS_H

#include "common/config.h"
#include "master/cli.h"

#include <stdbool.h>
#include <stddef.h>

/* Checks cfg (config_validate) and the options of a job of mode o->cmd:
 * --min-workers from 1 to 100000, --cv 0 (none) or from 2 to 100, the
 * bench-dispatch numbers; for a training job also a known solver and --cv
 * only with the exact strategy; for an export, --data and --out given.
 * 0, or -1 with a one-line err naming the option or key. */
int jobopts_validate(const config_t *cfg, const master_opts_t *o, char *err, size_t errlen);

/* Whether training with cfg runs the exact (TRON) strategy: solver 0 or 2
 * and model.strategy not "average". Other solvers train by averaging. */
bool jobopts_exact(const config_t *cfg);

#endif
