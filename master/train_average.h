/* train_average: the average strategy of a training job, for any solver.
 *
 * Each round sends one OP_TRAIN task per shard (body: the shard's position,
 * eps and, after the first round, the average so far as liblinear's
 * init_sol); every worker trains liblinear on its shard and the master
 * averages the shards' weights by their rows (model_average). --rounds R
 * repeats it R times for solvers 0 and 2 (the others have no init_sol and
 * train one round).
 */
#ifndef NC_TRAIN_AVERAGE_H
#define NC_TRAIN_AVERAGE_H

#include "master/trainer.h"

/* Runs the average strategy on t (schema known, job context sent). Leaves
 * the model in t->w (caller frees) and t->secs_tron. Returns an exit
 * status. */
int train_average(trainer_t *t);

#endif
