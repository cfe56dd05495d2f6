/* runs: every job of bin/master is a run, kept in the history and in a folder.
 *
 * A run has a small id, 1, 2, 3, ... per history database (history.h hands
 * it out; it is the job_id of the job's events, hence what the page, REST and
 * the history show) and a folder runs.dir/ID/ (default Data/runs/ID/):
 *
 *   params.json    the job's effective options (mode, data, label, solver, C...)
 *   run.json       {id, mode, state, status, error, started_ms, ended_ms,
 *                  duration_s, duration_ms}: state queued, running, done,
 *                  failed or cancelled (status EXIT_CANCELLED, master.h)
 *   job.log        the master's log lines while the job ran (info and up)
 *   metrics.json   the job's metrics (test: common/metrics.h; train: its
 *                  training and cross-validation accuracy), when it has them
 *   model.txt, model.txt.schema.json, submission.csv (train),
 *   submission.csv (test), export.svm (export): copies of the job's outputs,
 *                  taken after a successful commit (hard links when the
 *                  folder is on the same file system)
 *
 * The job itself still writes its usual outputs (model.file, output.train,
 * output.test), atomically and only on success, so they are always the
 * latest successful run's files. The master records its runs in the history
 * itself, with or without the dashboard. After each run, retention
 * (runs.keep, runs.max_age_days) deletes the oldest runs' folders and rows;
 * it never deletes a queued or running run.
 *
 * Run bookkeeping never fails a job: a folder or history write that fails is
 * logged as a warning and the job goes on.
 */
#ifndef NC_RUNS_H
#define NC_RUNS_H

#include "common/config.h"
#include "master/cli.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct runs runs_t;

/* Opens the history database of cfg (history.db) for the runs. NULL with
 * err when it cannot be opened or migrated. */
runs_t *runs_open(const config_t *cfg, char *err, size_t errlen);
void runs_close(runs_t **rs);

/* A new run for a job of cfg and o (mode o->cmd), in state "queued" or
 * "running": its id, its history row and its folder with params.json and
 * run.json. workers: live workers now. 0 and *id, or -1 with err. */
int runs_new(runs_t *rs, const config_t *cfg, const master_opts_t *o, const char *state,
             int workers, uint32_t *id, char *err, size_t errlen);

/* Run id starts now, a job of cfg (borrowed until runs_finish) and mode
 * cmd: state running (history and run.json) and its job.log receives the
 * master's log lines (log_tee) until runs_finish(). -1 (nothing done, no
 * runs_finish() to call) when id is not a run of the history. */
int runs_start(runs_t *rs, uint32_t id, const config_t *cfg, cli_cmd_t cmd);

/* Run id ended with exit status status (EXIT_CANCELLED: state cancelled,
 * outputs not kept, as for a failed run); done is the job's job_done data
 * (taken over, may be NULL when the job failed before it started). Writes
 * run.json and metrics.json, copies the outputs on success, records the end
 * in the history, closes job.log and applies retention. */
void runs_finish(runs_t *rs, uint32_t id, int status, json_object *done);

/* Run id, still queued (never started), was cancelled: state cancelled in
 * run.json and the history. The run in progress, if any, is untouched. */
void runs_cancel_queued(runs_t *rs, uint32_t id, cli_cmd_t cmd);

/* The effective options of a job as params.json holds them. Caller owns. */
json_object *runs_params(const config_t *cfg, const master_opts_t *o, int workers);

/* Prints the runs, newest first, as a table (`master runs`). Returns an exit
 * status. */
int runs_list(const config_t *cfg, FILE *out, char *err, size_t errlen);

/* Retention, pure. e[0..n-1]: runs newest first; a run is removed when it is
 * not active and either keep > 0 and keep runs are newer, or max_age_days > 0
 * and it started before now_ms minus that age. Writes the removed ids to out
 * (room for n) and returns their count. */
typedef struct {
    uint32_t id;
    int64_t started_ms;
    bool active; /* queued or running */
} runs_entry_t;
size_t runs_expired(const runs_entry_t *e, size_t n, int keep, int max_age_days, int64_t now_ms,
                    uint32_t *out);

#endif
