/* train: `bin/master train` — one distributed training job, end to end.
 *
 * This is the job driver, straight-line phases that each return an exit
 * status: split -> job context -> schema -> strategy -> outputs. The state
 * it shares with the strategies is master/trainer.h; the strategies are
 * master/train_exact.h and master/train_average.h. Every round is one
 * sched_round() (one task per shard, answers indexed by shard).
 *
 * 1. Split cfg->data.train into shards (cluster.shard_rows; for the exact
 *    strategy never fewer shards than the cluster has slots, so every core
 *    works) and wait for --min-workers.
 * 2. Schema pass: one OP_SUMMARY task per shard (body: u64 first_row, u64
 *    first_line); the summaries are merged in shard order and fitted
 *    (schema_fit). Bad data exits 3 with the worker's one-line message.
 * 3. Exact strategy (solvers 0 and 2 unless --strategy average): one TRON
 *    state machine per one-vs-rest class on the master, all classes in
 *    lockstep; each round is one OP_TRON task per shard (common/tronmsg.h)
 *    whose partial sums are added in shard order, so the result does not
 *    depend on which worker computed what. Every outer iteration is printed
 *    ("iter N class K f=... |g|=... CG=... time=..."), published as an
 *    `iteration` event and journaled (master/journal.h); --resume continues
 *    a journaled job with the same data and parameters.
 *    Average strategy (any other solver): OP_TRAIN per shard, weights
 *    averaged by rows (model_average), repeated --rounds times with the
 *    average as init_sol (solvers 0 and 2).
 * 4. --cv K (exact strategy): K more trainings in lockstep on the rows whose
 *    row number r has r % K != f, scored on the held-out rows.
 * 5. Writes the model (liblinear format), MODEL.schema.json and the training
 *    submission (id,label,predicted, from one more OP_TRON round whose
 *    answers go through the ordered writer, master/writer.h, so master
 *    memory stays bounded) to staged files and commits the three together
 *    only when all are complete (master/outputs.h): a failed job leaves the previous model and
 * schema byte for byte. Prints the training accuracy and the output paths (on stderr when the
 * submission goes to stdout, `--out -`), publishes job_started and job_done.
 *
 * A search job (`master search`, master/search.h) runs the same driver: after
 * the schema, train_exact_search() for each solver of --solvers (a new job
 * context for each: the workers' losses depend on it), the table of results
 * with the best marked, then, unless --no-final, the exact training of step 3
 * at the best solver and C without folds and the outputs of step 5; its
 * job_done carries the per-C results in metrics.search.
 *
 * Before any of this, the job's files are checked (an output that is the
 * data file, the model's schema or another output: exit 2), and the outputs
 * are opened before waiting for workers (a FIFO waits for its reader).
 */
#ifndef NC_TRAIN_H
#define NC_TRAIN_H

#include "master/master.h"

/* Runs one training or search job (opts->cmd CMD_TRAIN or CMD_SEARCH);
 * returns an exit status of master.h (0, 1, 2, 3).
 * Errors are one line on stderr. */
int train_run(master_ctx_t *ctx);

#endif
