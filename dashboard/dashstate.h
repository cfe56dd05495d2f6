/* dashstate: the dashboard's in-memory picture of the cluster.
 *
 * Built from the master's events (dashstate_apply) and from the history file
 * at start (dashstate_load_jobs): the workers (with the last heartbeat's
 * figures, paused/lost state and when they were last seen), every job's
 * summary, the details (iterations, task timeline, failed tasks, event log)
 * of the most recent jobs, and the master's counters. It answers the REST
 * API, the Socket.IO snapshot and update_stats, and /metrics.
 *
 * Not thread-safe: the dashboard holds its lock around every call. JSON
 * returned is owned by the caller but may share (reference) objects with the
 * state, so serialise it before releasing the lock.
 *
 * Job summaries are jobsum.h's (built by jobsum_new()); what a job event
 * forwards to browsers is the summary plus job_id (jobsum_event()). Events
 * are named and matched by common/events.h's table. Worker fields: those of worker_stats plus
 * joined_ms, seen_ms (wall ms of the last heartbeat) and lost (bool); state "lost" once the master
 * declares it so.
 */
#ifndef NC_DASHSTATE_H
#define NC_DASHSTATE_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#define DASHSTATE_DETAILED_JOBS 4 /* jobs whose details are kept in memory */
#define DASHSTATE_MAX_ROWS 20000  /* cap per detail list (iterations, timeline) */
#define DASHSTATE_MAX_EVENTS 1000 /* cap on a job's event log in memory */
#define DASHSTATE_MAX_JOBS 1000   /* job summaries kept */

typedef struct dashstate dashstate_t;

/* heartbeat_ms and liveness are passed to the page (stale-worker colouring). */
dashstate_t *dashstate_new(int heartbeat_ms, int liveness);
void dashstate_destroy(dashstate_t **s);

/* Adds the jobs read from history (history_jobs() output; borrowed). */
void dashstate_load_jobs(dashstate_t *s, json_object *jobs);

/* Applies one event. Returns the object to forward to browsers under the same
 * event name (a new reference the caller puts), or NULL for an unknown or
 * malformed event. data is borrowed. */
json_object *dashstate_apply(dashstate_t *s, const char *event, int64_t ts, json_object *data);

/* Records a job accepted over REST, before the master starts it (a job the
 * events already showed running or ended keeps its state). Returns the
 * job_queued event to forward (caller puts). */
json_object *dashstate_job_queued(dashstate_t *s, int64_t id, json_object *request, int64_t ts);

/* True unless job id is known to have ended (done, failed or cancelled); an
 * unknown id is pending. */
bool dashstate_job_pending(dashstate_t *s, int64_t id);

/* Job id's state ("queued", "running", "done", "failed", "cancelled"), NULL
 * when the state holds no such job. Borrowed until the state changes. */
const char *dashstate_job_state(dashstate_t *s, int64_t id);

/* What an event from the master becomes before it is applied, recorded and
 * sent to browsers; data (borrowed) is rewritten in place. The "error" of
 * job_done and task_failed becomes webguard_public_error() (no file contents
 * leave the process); "job_failed" {job_id, status} (serve.c: the driver
 * returned an error) becomes a job_done "failed" with
 * webguard_failed_reason() when the job is still pending, else NULL (drop).
 * Returns the event name to use (static or event itself). */
const char *dashstate_public_event(dashstate_t *s, const char *event, json_object *data);

/* Ends every pending job (queued or running) as failed with reason, as of
 * ts: at start, such jobs come from the history of a master that stopped.
 * Returns the job_done data of each (caller puts; to record in history). */
json_object *dashstate_end_pending(dashstate_t *s, int64_t ts, const char *reason);

json_object *dashstate_workers(dashstate_t *s); /* array */
json_object *dashstate_jobs(dashstate_t *s);    /* summaries, newest first */
/* Summary plus details when held in memory; NULL when the job is unknown or
 * its details are not in memory (then *known says whether a summary exists). */
json_object *dashstate_job(dashstate_t *s, int64_t id, bool *known);
int dashstate_live_workers(dashstate_t *s); /* not lost */

/* {workers, completed_tasks, total_tasks, avg_cpu, avg_memory, workers_count,
 * elapsed_time, estimated_completion, rows_per_s, job_id}: the original tool's
 * once-a-second event. */
json_object *dashstate_update_stats(dashstate_t *s, int64_t now_ms);

/* {workers, job (current summary or null), counters, config {heartbeat_ms,
 * liveness}, now}: what a browser gets when it connects. */
json_object *dashstate_snapshot(dashstate_t *s, int64_t now_ms);

/* Prometheus text exposition; caller frees; NULL when out of memory. */
char *dashstate_metrics(dashstate_t *s);

#endif
