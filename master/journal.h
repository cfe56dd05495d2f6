/* journal: exact training's restart point, in SQLite.
 *
 * After every outer TRON iteration the training driver stores each class's
 * state (weights, iteration, trust-region radius, |g(0)|, done flag) here, so
 * that `bin/master train --resume` after a master crash continues from the
 * last iteration instead of starting over. Rows are keyed by a job key that
 * names the training data (path, size, mtime) and every parameter that
 * changes the result; a key that does not match simply finds nothing.
 *
 * It shares the history database file (cfg->history.db) with the dashboard
 * but only touches its own table, train_journal(job_key, class, ...), one row
 * per class holding the latest state. WAL mode and a busy timeout let it
 * coexist with the dashboard's writer.
 *
 * A save never waits on SQLite (issue 15: the job's thread must not wait on
 * the disk, nor on the history writer's lock): journal_save() copies the
 * states into a queue and returns; the journal's own writer thread (started
 * by journal_open, stopped by journal_close) writes what is queued in one
 * transaction, so a crash leaves an earlier complete save intact. A class
 * saved again before its last state was written replaces it in the queue
 * (the newest state wins; memory stays at one copy per class queued plus one
 * being written). journal_load() and journal_forget() first wait until every
 * earlier save is written; journal_close() writes what is still queued.
 *
 * One thread calls these functions (the training driver's); the writer thread
 * is the journal's own.
 *
 * Functions return 0 or -1 with a one-line reason in err.
 */
#ifndef NC_JOURNAL_H
#define NC_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct journal journal_t;

typedef struct journal_class {
    int cls;
    int iter;
    double delta, gnorm0;
    bool done;
    int n;           /* doubles in w */
    const double *w; /* borrowed when saving; owned by the journal_entries_t after loading */
    /* Saving only, optional: w holds nw values for the columns at[0..nw-1]
     * of the n journaled (the others are zero), so that a caller that
     * trains on some columns needs no full-width copy of its own. */
    const uint32_t *at;
    int nw;
} journal_class_t;

/* Opens (creating when needed) the database at path and the table. */
journal_t *journal_open(const char *path, char *err, size_t errlen);
/* Writes what is still queued (waiting for it), stops the writer, closes;
 * sets *j to NULL. A failure of that last write is logged. */
void journal_close(journal_t **j);

/* CPU milliseconds the writer spent on its last batch (0 before the first):
 * a caller saves less often when saving costs more. */
int64_t journal_write_cost_ms(journal_t *j);

/* Queues the given classes' states for key (copying their weights: the
 * caller's vectors are free again on return) to be written in one
 * transaction, replacing earlier rows of the same classes. Never waits for
 * the database. -1 when out of memory, or to tell that an earlier queued
 * write failed (told once; err says why). */
int journal_save(journal_t *j, const char *key, const journal_class_t *cls, size_t count, char *err,
                 size_t errlen);

/* Loads key's rows into out[0..nr_w-1] (indexed by class). Returns the number
 * of classes found (0 when the key is unknown), or -1. A row whose w does not
 * have n doubles or whose class is out of range is an error. Free the weights
 * with journal_free_loaded(). Sees every earlier save (waits until written). */
int journal_load(journal_t *j, const char *key, int nr_w, int n, journal_class_t *out, char *err,
                 size_t errlen);
void journal_free_loaded(journal_class_t *out, int nr_w);

/* Deletes key's rows (after the job finished and its model was written),
 * after every earlier save is written. */
int journal_forget(journal_t *j, const char *key, char *err, size_t errlen);

#endif
