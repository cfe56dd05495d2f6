/* train_exact: the exact strategy of a training job — liblinear's TRON run on
 * the master with the sums over the whole cluster (solvers 0 and 2).
 *
 * One TRON state machine (common/tron.h) per one-vs-rest class, and with
 * --cv K one more per class and fold, all in lockstep. Each Newton round is
 * one OP_TRON task per worker slot over the shards it holds (a grouped
 * round, master/sched.h) carrying every class's request (common/tronmsg.h):
 * the worker adds its shards' parts, and the master adds each answer, as it
 * arrives, into the buffers its class's TRON reads (tron_sums), so it holds
 * O(model) memory and nothing per shard. Vectors travel restricted to the
 * columns the group's rows touch (common/colset.h), learnt from each
 * shard's COUNT answer. A FUN is asked as FUNGRAD, with the gradient at
 * its point in the same pass (dropped when TRON rejects the point), so an
 * accepted step costs no round of its own; an HV carries its point only
 * when the worker asks (PROTO_ERR_NEEDPOINT, a shard that moved). Answers are added in
 * arrival order: with several workers the last bits of the model may differ
 * from run to run (a parallel reduction); one worker gives the same bytes
 * every time. The phases, each a function:
 *   count round     one task per shard: rows and positives per class (and
 *                   fold) for liblinear's per-class tolerance, and the
 *                   columns each shard touches; also the time to load;
 *   journal resume  with --resume, the classes journaled by an earlier run
 *                   of the same data and parameters (master/journal.h);
 *   TRON setup      a fresh or resumed state machine per class;
 *   Newton loop     rounds until every class is done; each outer iteration
 *                   is logged, published as an `iteration` event and
 *                   journaled;
 *   model assembly  the weights into t->w;
 *   cross-validation  each fold's model scored on its held-out rows.
 */
#ifndef NC_TRAIN_EXACT_H
#define NC_TRAIN_EXACT_H

#include "common/tronmsg.h"
#include "master/search.h"
#include "master/trainer.h"

/* Runs the exact strategy on t (schema known, job context sent). Leaves the
 * model in t->w (caller frees), t->journal_key, t->cv_accuracy (with
 * folds), t->secs_read and t->secs_tron. Returns an exit status. */
int train_exact(trainer_t *t);

/* The search (master/search.h) for solver t->solver, whose job context with
 * the schema is sent, over t->folds folds: the C values clist[0..nc-1] in
 * that order, or liblinear's C path when nc is 0 (its start C from the
 * count round's rows and largest squared row norm). Every (class, fold) of
 * one C trains in lockstep, one pass over each shard a round; each C after
 * the first starts every fold from that fold's weights at the previous C.
 * Appends one result per C to res[*nres..cap-1]. Returns an exit status. */
int train_exact_search(trainer_t *t, const double *clist, int nc, search_result_t *res, int cap,
                       int *nres);

/* A TRON request for every shard of the job: items (borrowed) in one blob
 * (caller unrefs). NULL with t->err set on failure. */
blob_t *train_exact_request(trainer_t *t, const tronmsg_item_t *items, size_t count);

/* Decodes shard's answer (from worker) to the request of items into *out
 * (caller calls tronmsg_res_free; its vectors may point into data, so it is
 * valid while data is) and checks that it answers every item, in order. 0,
 * or -1 with t->err saying what is wrong. */
int train_exact_answer(trainer_t *t, uint32_t shard, const void *data, size_t len,
                       const char *worker, const tronmsg_item_t *items, size_t count,
                       tronmsg_res_t *out);

#endif
