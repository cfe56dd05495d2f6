/* export: the fitted feature matrix of a file as libsvm — `bin/master export`.
 *
 *   master export --data FILE [--model M] --out FILE.svm
 *
 * Writes one line per row of FILE, in input order: "LABEL IDX:VAL ..." with
 * ascending 1-based indices, values as %.17g (liblinear reads back the same
 * doubles), zero values left out, no bias feature (liblinear-train -B 1 adds
 * it). The features are those training fits: M's schema (M.schema.json:
 * scaling, one-hot) applied by the function training parses shards with, so
 * `liblinear-train -s 0 -B 1 FILE.svm` trains the model `master train` trains
 * on the same CSV. LABEL is what the model file records for the row's label
 * (the label itself when every label is an integer, else its index; see
 * common/schema.h), or 0 for a row without a known label (no label column,
 * a missing label, a label training never saw; counted in a warning when the
 * file has a label column).
 *
 * It runs as a test job does (master/shardjob.h): the file is split into
 * shards, one OP_EXPORT task per shard (worker/op_export.c; the job context
 * carries the schema, not the weights), each shard's lines go to the ordered
 * writer (master/writer.h) as they arrive, which writes them in shard order
 * to a temporary file renamed over FILE.svm at the end (a stream output gets
 * them in place), so the target never holds a partial file; `--resume`
 * continues a stopped export. A lost worker's shards are sent again; every
 * row is written exactly once. Events and history treat it as a job of mode
 * "export" whose output is reported as its submission.
 *
 * Without a schema beside M (never trained), a CSV file is an error that
 * says to train first (exit 3); a libsvm file with a model made by
 * liblinear-train is exported through the model's labels and feature count.
 */
#ifndef NC_EXPORT_H
#define NC_EXPORT_H

#include "master/master.h"

/* `bin/master export`: cfg->data.test (the --data of the command) through
 * cfg->model.file's schema into cfg->output.test (its --out). Publishes
 * job_started and job_done. Returns an exit status of master.h: EXIT_USAGE
 * for an output that is one of the job's inputs, EXIT_BAD_DATA for a
 * missing schema or a bad data file (one line on stderr naming the file),
 * EXIT_JOB_FAILED on a run-time failure. No output file is left behind on
 * failure. */
int export_run(master_ctx_t *ctx);

#endif
