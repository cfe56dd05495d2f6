/* jobsum: a job's summary, the one JSON shape that the REST API (/api/jobs,
 * /api/jobs/ID), the Socket.IO snapshot and job_* events, dashstate and
 * history all give for a job.
 *
 * Its fields, in this order, are common/events.h's EVENTS_JOB_SUMMARY: id,
 * mode, data, state (queued|running|done|failed|cancelled), started_ms,
 * ended_ms, duration_s, total_tasks, done_tasks, rows_total, rows_done,
 * accuracy, outputs {model, submission}, error, workers, phase, rate_rows_s,
 * eta_s, train_accuracy, test_accuracy, duration_ms, progress {phase, unit,
 * done, total, fraction, cg_steps}. The three derived ones
 * (train_accuracy, test_accuracy: accuracy by mode; duration_ms) are set by
 * jobsum_derive().
 * A summary is built only by jobsum_new(), so every one has every field,
 * whoever filled it (the event stream or a history row).
 */
#ifndef NC_JOBSUM_H
#define NC_JOBSUM_H

#include <json-c/json.h>
#include <stdint.h>

/* A new summary of job id: state "queued", the counts 0, every other field
 * null. Caller owns it; NULL when out of memory. */
json_object *jobsum_new(int64_t id);

/* Sets field (a name of EVENTS_JOB_SUMMARY, "outputs.model" for a nested
 * one) to v, taking v (may be NULL: JSON null). -1 when field is not a
 * summary field (v is released). */
int jobsum_set(json_object *sum, const char *field, json_object *v);

/* Sets every outputs.* field of sum from outputs, an event's "outputs"
 * object (borrowed; fields it lacks become null). */
void jobsum_set_outputs(json_object *sum, json_object *outputs);

/* Sets the fields that follow from others: train_accuracy (a train job's
 * accuracy), test_accuracy (a test job's), duration_ms (duration_s in whole
 * milliseconds); null when the source is. */
void jobsum_derive(json_object *sum);

/* What a job_* event carries to browsers (derived fields updated first): the summary's fields
 * (shared references: serialise before sum changes) plus "job_id", the name every event gives a job
 * (common/events.h). Caller owns it; NULL on no memory. */
json_object *jobsum_event(json_object *sum);

#endif
