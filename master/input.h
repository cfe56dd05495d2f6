/* input: makes the --data path of a train or test job readable more than once.
 *
 * The master reads its input several times (the split pass, a re-split for the
 * cluster's slots, pread() of every shard), so it needs a regular file. A pipe,
 * a FIFO or /dev/stdin named on the command line is copied first into a
 * temporary file in $TMPDIR (default /tmp) named after the input
 * (netcompute-stdin-XXXXXX, so that a data error naming it is recognisable)
 * with the input's extension (so data.format "auto" still sees ".svm"), and a
 * log line says so; the caller reads that
 * file instead and removes it at exit. Opening a FIFO never blocks silently:
 * it is opened O_NONBLOCK, recognised with fstat(), and when no writer has
 * sent anything yet a line "waiting for a writer on FIFO PATH" is logged
 * before the wait. A directory, a terminal, a socket or another device is bad
 * usage. A path that does not exist is left alone (the split names it).
 */
#ifndef NC_INPUT_H
#define NC_INPUT_H

#include <signal.h>
#include <stddef.h>

enum {
    INPUT_REGULAR = 0, /* read path in place; tmp untouched */
    INPUT_COPIED = 1,  /* read tmp instead; the caller unlinks tmp */
    INPUT_EUSAGE = -2, /* not a file, pipe or FIFO (exit 2) */
    INPUT_EFAIL = -1,  /* reading or writing failed (exit 1) */
    INPUT_ESTOP = -3,  /* *stop became non-zero while waiting or copying */
};

/* Checks path and copies it when it is a pipe or FIFO. On INPUT_COPIED, tmp
 * (tmplen bytes) holds the temporary file's path; on an error, err holds one
 * line naming path, and no temporary file is left behind. stop is polled at
 * least once a second while waiting for a writer. */
int input_prepare(const char *path, volatile sig_atomic_t *stop, char *tmp, size_t tmplen,
                  char *err, size_t errlen);

#endif
