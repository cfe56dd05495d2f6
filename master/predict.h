/* predict: distributed prediction — `bin/master test`.
 *
 * The test file is split into shards (cluster.shard_rows), one OP_PREDICT
 * task per shard; the job context carries the data source, the schema and the
 * model weights, so each worker receives them once per job. Workers answer
 * with per-row predictions (common/predmsg.h); the master turns each shard's
 * answer into its block of output lines at once and hands the block to the
 * ordered writer (master/writer.h), which keeps a bounded amount in memory,
 * spools the rest to disk and writes the file in input order, atomically
 * (temporary file, then rename). Master memory does not grow with the file.
 * An output that is not a regular file (a device, a FIFO, `-` for stdout;
 * master/outputs.h) is written in place, the lines in order as they come,
 * and then the report (accuracy, "wrote N predictions") goes to stderr when
 * the output is stdout. An output that is the test file, the model or its
 * schema is refused before any work (exit 2).
 *
 * Output lines: "id,predicted[,prob_<label>...]"; labels by their original text;
 * the id is the id column's text, or the 1-based row number when the file
 * has none.
 *
 * Resume: the writer journals each completed shard beside the temporary
 * output (see writer.h); `test --resume` reopens that journal when it belongs
 * to the same job (same test file, model, shard layout and options) and
 * submits only the shards not yet journalled. The final file is identical to
 * an uninterrupted run's. A stream output cannot be resumed (what it got
 * cannot be taken back): --resume then warns and predicts every shard.
 */
#ifndef NC_PREDICT_H
#define NC_PREDICT_H

#include "master/master.h"

/* `bin/master test`: loads cfg->model.file (liblinear format) and its schema
 * (MODEL.schema.json; for a libsvm test file with no schema, one is derived
 * from the model's labels and feature count), checks and shards
 * cfg->data.test, predicts on the cluster and writes cfg->output.test.
 * Prints accuracy when the test file has labels (confusion matrix with -v).
 * Publishes job_started and job_done. Returns an exit status of master.h:
 * EXIT_BAD_DATA (3) for a missing or invalid model, schema or test file
 * (one line on stderr naming the file), EXIT_USAGE (2) for an output that
 * is one of the job's inputs, EXIT_JOB_FAILED on a run-time failure (a full
 * disk, an output that cannot be opened). No output file is left behind on
 * failure. */
int predict_run(master_ctx_t *ctx);

#endif
