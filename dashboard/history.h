/* history: the dashboard's memory of the cluster, in one SQLite file.
 *
 * Tables: jobs (one row per job, updated as it runs), tasks (who ran which
 * shard when, each attempt, done or failed), samples (the worker heartbeat
 * series: ts, worker, cpu, mem, rows_per_s, load, state, battery), events
 * (the event log) and iterations (training loss per Newton step). The schema
 * is versioned with PRAGMA user_version; history_open() migrates an older
 * file step by step (0 -> 1 -> 2) inside a transaction. The file is in WAL
 * mode with a busy timeout, because the master writes its own journal table
 * into the same file from another connection.
 *
 * Writes are batched: history_record() only copies the event into memory,
 * and history_flush() (the dashboard calls it every 500 ms) writes all of
 * them in one short transaction. The write lock is never held between
 * flushes, so the master's journal, which shares the file, never waits more
 * than one flush's statements (a held-open batch once made every training
 * iteration wait for the busy timeout: the demo ran 6x slower with the
 * dashboard on). One history_t is used by one thread at a time; open a second
 * one (readonly) for another thread's reads.
 *
 * All functions that can fail return 0 / NULL and -1 with a one-line reason
 * in err. Timestamps are wall-clock milliseconds.
 */
#ifndef NC_HISTORY_H
#define NC_HISTORY_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HISTORY_SCHEMA_VERSION 4

typedef struct history history_t;

/* Opens (creating the file and its directory when missing) and migrates.
 * A readonly handle never writes, migrates or prunes: the writer must have
 * opened the file first. retention_days <= 0 keeps samples forever. */
history_t *history_open(const char *path, int retention_days, bool readonly, char *err,
                        size_t errlen);

/* Commits pending writes and closes; sets *h to NULL. */
void history_close(history_t **h);

/* PRAGMA user_version of the open file. */
int history_schema_version(history_t *h);

/* Stores one event as the master publishes it (names and fields:
 * common/events.h): worker_stats -> samples; task_done / task_failed -> tasks;
 * iteration -> iterations; job_started / job_progress / job_done -> jobs;
 * worker_joined, worker_left, job_started, job_done, task_failed -> events.
 * "job_queued" {job_id, mode, data} records a job accepted over REST.
 * Unknown events are ignored. data is borrowed (copied, never read later).
 * Not written until history_flush(); at most 200,000 events wait, past that
 * new ones are refused (-1, counted in the message). */
int history_record(history_t *h, const char *event, int64_t ts, json_object *data, char *err,
                   size_t errlen);

/* Writes every pending event in one transaction. When the database stays
 * busy past the timeout, or the commit fails, the events stay pending for
 * the next call (-1). An event that cannot be stored (the first error is
 * reported, -1) does not stop the others. */
int history_flush(history_t *h, char *err, size_t errlen);

/* Deletes samples older than retention_days before now_ms (committed at
 * once); returns the number of rows deleted, or -1. */
long history_prune(history_t *h, int64_t now_ms, char *err, size_t errlen);

/* Job summaries (jobsum.h: the same fields as the live ones; phase,
 * rate_rows_s and eta_s are not stored and stay null), newest first, at most
 * limit. Caller owns the array. */
json_object *history_jobs(history_t *h, int limit, char *err, size_t errlen);

/* One job's summary plus iterations [{class, iter, f, gnorm, cg, secs}],
 * timeline [{task_id, shard, worker, attempt, start_ms, end_ms, rows}],
 * failed [{task_id, worker, attempt, error, ts}] and events [{ts, event,
 * data}]. NULL with err "" when there is no such job. Caller owns it. */
json_object *history_job(history_t *h, int64_t id, char *err, size_t errlen);

/* Runs. Every job is a run: its id (1, 2, 3, ... per database, never
 * reused: a counter table, kept at least as high as the largest id there)
 * is the job's id everywhere (events, jobs, tasks). The master writes its
 * runs itself, whether the dashboard is on or not; the dashboard's events
 * then update the same row. */

/* Allocates the next run id and inserts its row (mode, data, state "queued"
 * or "running", started at ts, params: the effective options, borrowed, may
 * be NULL), in one transaction. Returns the id, or -1. */
int64_t history_run_new(history_t *h, const char *mode, const char *data, const char *state,
                        json_object *params, int64_t ts, char *err, size_t errlen);

/* A queued run starts: state running, started_ms ts. 0, or -1 (also when
 * there is no run id). */
int history_run_started(history_t *h, int64_t id, int64_t ts, char *err, size_t errlen);

/* Ends run id with done, the fields of a job_done event (state, duration_s,
 * accuracy, outputs, error, metrics; borrowed), written at once. 0 or -1. */
int history_run_done(history_t *h, int64_t id, int64_t ts, json_object *done, char *err,
                     size_t errlen);

/* Ends every run still queued or running (a master stopped before it ended
 * them): state failed, error reason, ended at ts. Returns the array of their
 * ids (caller owns), or NULL. */
json_object *history_runs_end_pending(history_t *h, int64_t ts, const char *reason, char *err,
                                      size_t errlen);

/* Deletes run id's rows from jobs, tasks, events and iterations. 0 or -1. */
int history_run_delete(history_t *h, int64_t id, char *err, size_t errlen);

/* The runs, newest first, at most limit: [{id, mode, data, state,
 * started_ms, ended_ms, duration_s, accuracy, error, workers, params,
 * metrics}] (params and metrics parsed, null when absent). Caller owns it. */
json_object *history_runs(history_t *h, int limit, char *err, size_t errlen);

/* One run as history_runs() gives it; NULL with err "" when there is none.
 * Caller owns it. */
json_object *history_run(history_t *h, int64_t id, char *err, size_t errlen);

/* A metric over time, bucketed by step_ms: {metric, worker, since, step,
 * points: [[ts, value], ...]}. metric is cpu, mem or rows (rows_per_s).
 * With worker NULL the cluster is summarised: cpu and mem averaged over
 * workers, rows summed over workers. Caller owns it. */
json_object *history_series(history_t *h, const char *metric, const char *worker, int64_t since_ms,
                            int64_t step_ms, char *err, size_t errlen);

#endif
