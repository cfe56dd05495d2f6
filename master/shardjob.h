/* shardjob: the rounds of a job that streams every shard of a file through
 * one op into the ordered writer — `master test` (OP_PREDICT) and `master
 * export` (OP_EXPORT).
 *
 * Such a job is: the ordered writer on its output (a file replaced at
 * commit, with a journal for --resume, or a stream written in place), the
 * scheduler job (shard table and job context), one round with one task per
 * shard the writer does not hold yet (body: the shard's place in the file,
 * predmsg_req_t), whose accepted answers the caller's sink turns into the
 * shard's block of lines for the writer, then the writer's commit. Workers
 * report data errors in any order and a round stops at the first to arrive,
 * but the error to report is the first bad line of the file: after a data
 * error the shards before the reported one that have no result run (again)
 * until none of them fails, each failure replacing the error with an earlier
 * one.
 *
 * The caller owns the writer, the split and the sink; this module owns no
 * state between calls. Functions return 0/-1 or an exit status of master.h,
 * with a one-line reason in err.
 */
#ifndef NC_SHARDJOB_H
#define NC_SHARDJOB_H

#include "common/jobctx.h"
#include "common/split.h"
#include "master/master.h"
#include "master/outputs.h"
#include "master/writer.h"

#include <stdbool.h>
#include <stddef.h>

/* Bytes of early shards the writer holds in memory; the rest is spooled. */
#define SHARDJOB_MEM_BUDGET (32u << 20)

typedef struct shardjob {
    master_ctx_t *ctx;
    const split_t *sp;
    writer_t *w;        /* the caller's (shardjob_open_writer) */
    const char *file;   /* the data file as the workers' messages name it */
    uint16_t op;        /* OP_PREDICT or OP_EXPORT */
    sched_sink_fn sink; /* a shard's answer -> writer_put(); -1 refuses it */
    void *sink_arg;
    const char *sink_err; /* the sink's own reason when it refused an answer */
} shardjob_t;

/* Waits for --min-workers, then cuts a file of few shards so that every
 * slot gets about two shards (one computing, one on its way). 0, or -1 with
 * err (stopped while waiting, or a read error). */
int shardjob_await_workers(master_ctx_t *ctx, split_t *sp, const char *data, data_format_t fmt,
                           char *err, size_t errlen);

/* Opens the ordered writer on output 0 of outs for sp's shards: a stream in
 * place (with --resume a warning that a stream is done again from the
 * start), else the file with key naming the job for --resume. header may
 * be NULL. Returns NULL with err. */
writer_t *shardjob_open_writer(master_ctx_t *ctx, const outputs_t *outs, const split_t *sp,
                               const char *header, const char *key, char *err, size_t errlen);

/* Starts the scheduler job: the shard table of data_path and the job
 * context jc (encoded). 0, or -1 with err. The caller ends it with
 * sched_end_job() in every case. */
int shardjob_begin(master_ctx_t *ctx, uint32_t job_id, const char *data_path, const split_t *sp,
                   const jobctx_t *jc, char *err, size_t errlen);

/* Runs the rounds described above and commits the writer. Returns EXIT_OK,
 * EXIT_BAD_DATA (the first bad line of the file in err), or
 * EXIT_JOB_FAILED (a worker failure, a refused answer, an I/O error, or a
 * stop: then *keep is set, so that the writer's files serve a --resume,
 * and err says how many shards were done). */
int shardjob_run(const shardjob_t *j, const outputs_t *outs, bool *keep, char *err, size_t errlen);

/* The job's job_started event (mode "test" or "export"). */
void shardjob_publish_started(master_ctx_t *ctx, uint32_t job_id, const char *mode,
                              const char *data, const split_t *sp);

/* Its job_done: status, the duration since t0 (monotonic ms), the output
 * when it succeeded, the error when not; metrics (handed over; NULL: none)
 * and their accuracy when the file had labels. */
void shardjob_publish_done(master_ctx_t *ctx, uint32_t job_id, int status, int64_t t0,
                           json_object *metrics, const char *out, const char *err);

#endif
