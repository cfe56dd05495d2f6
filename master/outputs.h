/* outputs: the files of one job — checked before any work, opened, and
 * committed together.
 *
 * A job names the files it reads (inputs) and the files it writes (outputs),
 * the output that is its commit point first (train: the model, then its
 * schema, then the submission). Every train and test job passes through
 * outputs_for_job() at the start of train_run()/predict_run(), whether it
 * came from the command line or from `master serve` (serve.c may also call
 * it when a job is submitted, to answer 400 at once instead of accepting a
 * job that will fail with exit 2).
 *
 * Checked before any work (outputs_check, a usage error, exit 2): two of the
 * job's files that are the same file (same device and inode, or the same
 * path when it does not exist yet) when one of them is an output: --out equal
 * to --data, --model equal to --data, --out equal to --model, an output equal
 * to the config file or the history database. Two outputs may share a file
 * that is not a regular file (--model /dev/null --out /dev/null). An output
 * that is a directory, a symbolic link to nothing, or "-" for an output that
 * cannot be a stream (the model: its schema's name is derived from it) is an
 * error too.
 *
 * What an output path may be:
 * - A regular file, or nothing yet: replaced atomically, never half-written.
 *   A symbolic link to a regular file replaces the file it points to (the
 *   link stays). With OUTPUTS_STAGE the job writes the staged file
 *   DIR/.NAME.new, created empty by outputs_open() (so a directory that
 *   cannot take it fails before any work), and outputs_commit() renames it
 *   over the target. Without, the caller replaces the file itself (the
 *   ordered writer's DIR/.NAME.part, see writer.h) and only borrows the
 *   check, the resolved path and the stream.
 * - An existing file that is not regular (a character or block device such
 *   as /dev/null, a FIFO, a Unix socket) or "-" (standard output): a stream,
 *   written in place: never renamed over, never unlinked, never truncated.
 *   outputs_open() opens it once (a socket is connected to as a stream
 *   socket). A FIFO with no reader yet is not an error: the master prints one
 *   line ("waiting for a reader on FIFO F") and waits, keeping the cluster's
 *   heartbeats and serve mode's submissions going, until a reader opens it or
 *   the master is stopped (Ctrl-C: exit 1) — as a shell's `> FIFO` waits, but
 *   never silently. A staged stream output is written to a temporary file
 *   in $TMPDIR (or /tmp), removed by outputs_destroy(), and copied into the
 *   stream at commit, so a failed job sends nothing; an unstaged one (the
 *   test predictions) gets its bytes as the job makes them, in order, and a
 *   failed job leaves what was sent (a stream cannot be taken back; the exit
 *   status says it failed). Nothing about a stream can be resumed.
 *
 * Commit (outputs_commit): first every staged stream output is copied into
 * its stream (the step most likely to fail: a full disk behind /dev/stdout,
 * a reader gone); only then are the staged files renamed, from the last
 * registered to the first, so the commit point (the model) is renamed last:
 * a reader never sees a new model beside an old schema. A crash between two
 * renames (microseconds; each staged file is complete and fsynced) leaves an
 * old model beside the new schema and DIR/.MODEL.new, the complete new model:
 * `mv DIR/.MODEL.new MODEL` or running the job again completes it. The staged
 * names are fixed (not per process) so that a rerun takes over what a killed
 * run left. outputs_destroy() of an uncommitted set removes every staged
 * file: a failed job leaves its targets as they were.
 *
 * Functions that can fail return 0/-1 (or NULL) with a one-line reason in err.
 */
#ifndef NC_OUTPUTS_H
#define NC_OUTPUTS_H

#include "master/cli.h"
#include "master/sched.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct outputs outputs_t;

enum {
    OUTPUTS_STAGE = 1,     /* the job writes outputs_stage_path(); commit renames or copies it */
    OUTPUTS_NO_STDOUT = 2, /* "-" is refused */
};

/* An empty set (NULL when out of memory). */
outputs_t *outputs_new(void);

/* Registers a file the job reads (or a file it must not clobber, such as the
 * history database); what names it in errors ("--data"). An empty path is
 * ignored. 0, or -1 when out of memory. */
int outputs_input(outputs_t *o, const char *what, const char *path);

/* Registers an output; flags: OUTPUTS_*. Returns its index (0, 1, ... in
 * registration order), or -1 when out of memory. A NULL path keeps the
 * index for an output that is not written this time (no stage path). */
int outputs_output(outputs_t *o, const char *what, const char *path, unsigned flags);

/* Looks at every registered file and refuses the clashes listed above. Call
 * before any work; a failure is a usage error (exit 2). */
int outputs_check(outputs_t *o, char *err, size_t errlen);

/* The files of a train (cmd CMD_TRAIN: model, MODEL.schema.json, submission)
 * or test job (CMD_TEST: predictions; CMD_EXPORT the same: its libsvm file is
 * output.test, its input data.test and the model's schema) of cfg,
 * registered and checked; the
 * config file config_path (may be NULL) and the history database are
 * registered as files not to clobber. When the model is an existing
 * device or FIFO, no schema is written (output 1 has no stage path): there
 * is no folder of its own to put MODEL.schema.json in. *out receives the set
 * (caller owns) or NULL. Returns an exit status: 0, EXIT_USAGE for a clash, EXIT_JOB_FAILED
 * when out of memory. Train's outputs are staged; test's are not (the ordered
 * writer replaces the file itself) and are index 0. */
int outputs_for_job(const config_t *cfg, const char *config_path, cli_cmd_t cmd, outputs_t **out,
                    char *err, size_t errlen);

/* Opens the streams and creates the staged files (after outputs_check). s
 * (may be NULL: then a FIFO without a reader fails at once) is polled while
 * waiting for a FIFO's reader. Fails on any open or create error, or when
 * the master is stopped while it waits (a run-time failure, exit 1). */
int outputs_open(outputs_t *o, sched_t *s, char *err, size_t errlen);

/* Output i: true when it is a stream (written in place). */
bool outputs_is_stream(const outputs_t *o, int i);
/* Output i: its open descriptor when a stream (borrowed; -1 otherwise). */
int outputs_fd(const outputs_t *o, int i);
/* Output i: the path to replace (a symbolic link resolved) or, for a stream,
 * the name it was given; borrowed. */
const char *outputs_path(const outputs_t *o, int i);
/* Output i: where the job writes a staged output (borrowed; NULL when not
 * staged or not yet open). */
const char *outputs_stage_path(const outputs_t *o, int i);
/* Output i: true when it is not written this time (registered with a NULL
 * path). */
bool outputs_skipped(const outputs_t *o, int i);
/* True when an output is "-": the job's report then goes to stderr. */
bool outputs_uses_stdout(const outputs_t *o);

/* Copies staged streams into their streams, then renames staged files over
 * their targets, last registered first, and syncs their directories. On a
 * failure before the first rename no target has changed. */
int outputs_commit(outputs_t *o, char *err, size_t errlen);

/* Closes what outputs_open() opened, removes staged files that were not
 * committed, frees (NULL-safe, sets *o NULL). */
void outputs_destroy(outputs_t **o);

#endif
