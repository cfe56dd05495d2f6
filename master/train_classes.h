/* train_classes: the exact strategy split by classes instead of rows.
 *
 * A multi-class model is one binary problem per class (one-vs-rest), each
 * solved by TRON alone. Splitting the rows over the workers (master/
 * train_exact.h) costs, every Newton or CG round, a vector per class and
 * worker each way through the master: for many classes over many sparse
 * columns that is far more than the rows themselves (20 classes x 200,000
 * columns is 32 MB a worker each way, a round; the 50,000 rows are 22 MB
 * once). Then it is cheaper to send every worker all the rows, once, in the
 * job context, and let each worker train whole classes with the same TRON
 * (worker/op_classes.c): no traffic until each class is done, and the master
 * only collects weights. The model is liblinear's, as in the row split:
 * each class stops at the same tolerance, from the same start.
 *
 * model.parallel chooses: "rows" (always the row split), "classes" (the
 * class split whenever it can run) or "auto" (the default): the class split
 * when there are at least two classes, no --cv and no --resume, the rows fit
 * in one message (at most cluster.max_msg_mb / 2 and 1 GB), and sending them
 * to every worker costs less than ten rounds of the row split:
 *     data bytes x workers  <  10 x 2 x classes x active columns x 8 x workers
 * (ten rounds: liblinear's default tolerance rarely takes fewer).
 *
 * The tasks: one OP_CLASSES per class, with the class's tolerance
 * (tron_class_eps of its counts); the slots pull them as they free up. A
 * lost worker's task runs again elsewhere, from the start of its class. --resume does not
 * apply (nothing is journaled); a stopped job starts over.
 */
#ifndef NC_TRAIN_CLASSES_H
#define NC_TRAIN_CLASSES_H

#include "master/trainer.h"

#include <stdbool.h>

/* The counts the choice and the tolerances need: per class (nr_w entries)
 * its rows and positives on all rows, and how many columns occur. */
typedef struct class_counts {
    const long *rows, *pos;
    int active_columns;
} class_counts_t;

/* Whether the class split runs for t (model.parallel, the rule above); says
 * why in the log. */
bool train_classes_chosen(trainer_t *t, const class_counts_t *cc);

/* Runs it: leaves the model in t->w (caller frees) and t->secs_tron.
 * Returns an exit status. */
int train_classes(trainer_t *t, const class_counts_t *cc);

#endif
