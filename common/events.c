/* events: the table of event names and fields. See events.h.
 *
 * tests/e2e/events_table.sh reads this file: keep one field per line as
 * {"name", EVF_TYPE, FLAGS} and one table entry per line. */
#include "common/events.h"

#include <string.h>

#define REQ EVF_REQ
#define REQ_NULL (EVF_REQ | EVF_NULL)

static const event_field_t worker_joined[] = {{"id", EVF_STRING, REQ},   {"name", EVF_STRING, REQ},
                                              {"host", EVF_STRING, REQ}, {"cores", EVF_INT, REQ},
                                              {"slots", EVF_INT, REQ},   {NULL, 0, 0}};

static const event_field_t worker_left[] = {{"id", EVF_STRING, REQ},
                                            {"name", EVF_STRING, REQ},
                                            {"host", EVF_STRING, REQ},
                                            {"cores", EVF_INT, REQ},
                                            {"slots", EVF_INT, REQ},
                                            {"reason", EVF_STRING, REQ}, /* "bye" or "lost" */
                                            {NULL, 0, 0}};

static const event_field_t worker_stats[] = {
    {"id", EVF_STRING, REQ},
    {"name", EVF_STRING, REQ},
    {"host", EVF_STRING, REQ},
    {"cores", EVF_INT, REQ},
    {"slots", EVF_INT, REQ},
    {"cpu", EVF_NUMBER, REQ_NULL},
    {"mem", EVF_NUMBER, REQ_NULL},
    {"load", EVF_NUMBER, REQ_NULL},
    {"battery", EVF_NUMBER, REQ_NULL},
    {"ac", EVF_BOOL, REQ_NULL},
    {"state", EVF_STRING, REQ}, /* idle, busy or paused */
    {"reason", EVF_STRING, REQ},
    {"current_task", EVF_INT, REQ_NULL},
    {"rows_per_s", EVF_NUMBER, REQ_NULL},
    {"tasks_done", EVF_INT, REQ},
    {"last_seen_ms", EVF_INT, REQ}, /* age of the heartbeat when published */
    {NULL, 0, 0}};

static const event_field_t job_started[] = {
    {"job_id", EVF_INT, REQ},
    {"mode", EVF_STRING, REQ}, /* train, test or dispatch */
    {"data", EVF_STRING, REQ},
    {"total_tasks", EVF_INT, REQ},
    {"rows_total", EVF_INT, REQ},
    {"workers", EVF_INT, REQ},
    {"solver", EVF_STRING, 0},   /* train */
    {"strategy", EVF_STRING, 0}, /* train: exact or average */
    {NULL, 0, 0}};

static const event_field_t job_progress[] = {
    {"job_id", EVF_INT, REQ},
    {"phase", EVF_STRING, REQ},
    {"done_tasks", EVF_INT, REQ},
    {"total_tasks", EVF_INT, REQ},
    {"rows_done", EVF_INT, REQ},
    {"rows_total", EVF_INT, REQ},
    {"rate_rows_s", EVF_NUMBER, REQ_NULL}, /* null while training counts iterations */
    {"eta_s", EVF_NUMBER, REQ_NULL},
    {"workers", EVF_INT, REQ},
    {"phase_done", EVF_NUMBER, 0}, /* 0..1 of the phase, never less than before */
    {"newton_iter", EVF_INT, 0},   /* exact training: the furthest Newton iteration */
    {"cg_steps", EVF_INT, 0},      /* exact training: CG steps so far */
    {NULL, 0, 0}};

static const event_field_t job_done[] = {
    {"job_id", EVF_INT, REQ},
    {"mode", EVF_STRING, 0},
    {"state", EVF_STRING, REQ}, /* done, failed or cancelled */
    {"duration_s", EVF_NUMBER, 0},
    {"accuracy", EVF_NUMBER, EVF_NULL},
    {"cv_accuracy", EVF_NUMBER, 0},
    {"outputs", EVF_OBJECT, REQ},
    {"outputs.model", EVF_STRING, 0},      /* train */
    {"outputs.submission", EVF_STRING, 0}, /* train and test: the predictions file */
    {"error", EVF_STRING, REQ_NULL},
    {"metrics", EVF_OBJECT, EVF_NULL}, /* train, and test with labels (common/metrics.h) */
    {NULL, 0, 0}};

static const event_field_t job_failed[] = {{"job_id", EVF_INT, REQ},
                                           {"mode", EVF_STRING, REQ},
                                           {"status", EVF_INT, REQ}, /* the driver's exit status */
                                           {"state", EVF_STRING, 0}, /* failed or cancelled */
                                           {NULL, 0, 0}};

static const event_field_t task_done[] = {
    {"job_id", EVF_INT, REQ},    {"task_id", EVF_INT, REQ}, {"shard", EVF_INT, REQ_NULL},
    {"worker", EVF_STRING, REQ}, {"attempt", EVF_INT, REQ}, {"start_ms", EVF_INT, REQ},
    {"end_ms", EVF_INT, REQ},    {"rows", EVF_INT, REQ},    {NULL, 0, 0}};

static const event_field_t task_failed[] = {{"job_id", EVF_INT, REQ},
                                            {"task_id", EVF_INT, REQ},
                                            {"worker", EVF_STRING, REQ},
                                            {"attempt", EVF_INT, REQ},
                                            {"error", EVF_STRING, REQ},
                                            {"ts", EVF_INT, REQ},
                                            {NULL, 0, 0}};

static const event_field_t iteration[] = {{"job_id", EVF_INT, REQ},   {"class", EVF_INT, REQ},
                                          {"iter", EVF_INT, REQ},     {"f", EVF_NUMBER, REQ},
                                          {"gnorm", EVF_NUMBER, REQ}, {"cg", EVF_INT, REQ},
                                          {"secs", EVF_NUMBER, REQ},  {NULL, 0, 0}};

static const event_field_t counters[] = {{"messages_dropped", EVF_OBJECT, REQ}, /* {KIND: n} */
                                         {"tasks", EVF_OBJECT, REQ},
                                         {"tasks.done", EVF_INT, REQ},
                                         {"tasks.failed", EVF_INT, REQ},
                                         {"tasks.retried", EVF_INT, REQ},
                                         {"tasks.speculative", EVF_INT, REQ},
                                         {"rows_processed", EVF_INT, REQ},
                                         {"workers_lost", EVF_INT, REQ},
                                         {NULL, 0, 0}};

/* what a job accepted over REST starts as (its request's mode and data) */
static const event_field_t job_queued[] = {
    {"job_id", EVF_INT, REQ}, {"mode", EVF_STRING, REQ}, {"data", EVF_STRING, REQ}, {NULL, 0, 0}};

static const event_field_t update_stats[] = {{"workers", EVF_ARRAY, REQ},
                                             {"workers_count", EVF_INT, REQ},
                                             {"cores_total", EVF_INT, REQ}, /* once per host */
                                             {"avg_cpu", EVF_NUMBER, REQ},
                                             {"avg_memory", EVF_NUMBER, REQ},
                                             {"rows_per_s", EVF_NUMBER, REQ},
                                             {"job_id", EVF_INT, REQ_NULL},
                                             {"completed_tasks", EVF_INT, REQ},
                                             {"total_tasks", EVF_INT, REQ},
                                             {"elapsed_time", EVF_NUMBER, REQ},
                                             {"estimated_completion", EVF_NUMBER, REQ_NULL},
                                             {NULL, 0, 0}};

static const event_field_t snapshot[] = {
    {"workers", EVF_ARRAY, REQ},
    {"job", EVF_OBJECT, REQ_NULL}, /* the current job summary */
    {"counters", EVF_OBJECT, REQ},
    {"log", EVF_ARRAY, REQ}, /* recent events: [{event, ts, data}] */
    {"config", EVF_OBJECT, REQ},
    {"config.heartbeat_ms", EVF_INT, REQ},
    {"config.liveness", EVF_INT, REQ},
    {"now", EVF_INT, REQ},
    {NULL, 0, 0}};

const event_field_t EVENTS_JOB_SUMMARY[] = {
    {"id", EVF_INT, REQ},
    {"mode", EVF_STRING, REQ_NULL},
    {"data", EVF_STRING, REQ_NULL},
    {"state", EVF_STRING, REQ}, /* queued, running, done, failed or cancelled */
    {"started_ms", EVF_INT, REQ_NULL},
    {"ended_ms", EVF_INT, REQ_NULL},
    {"duration_s", EVF_NUMBER, REQ_NULL},
    {"total_tasks", EVF_INT, REQ},
    {"done_tasks", EVF_INT, REQ},
    {"rows_total", EVF_INT, REQ},
    {"rows_done", EVF_INT, REQ},
    {"accuracy", EVF_NUMBER, REQ_NULL},
    {"outputs", EVF_OBJECT, REQ},
    {"outputs.model", EVF_STRING, REQ_NULL},
    {"outputs.submission", EVF_STRING, REQ_NULL},
    {"error", EVF_STRING, REQ_NULL},
    {"workers", EVF_INT, REQ},
    {"phase", EVF_STRING, REQ_NULL},
    {"rate_rows_s", EVF_NUMBER, REQ_NULL},
    {"eta_s", EVF_NUMBER, REQ_NULL},
    {"train_accuracy", EVF_NUMBER, REQ_NULL}, /* a train job's accuracy on its own rows */
    {"test_accuracy", EVF_NUMBER, REQ_NULL},  /* a test job's accuracy (labels in its file) */
    {"duration_ms", EVF_INT, REQ_NULL},
    {"progress", EVF_OBJECT, REQ_NULL}, /* the phase's progress, never backwards */
    {"progress.phase", EVF_STRING, 0},
    {"progress.unit", EVF_STRING, 0},      /* rows, tasks or iterations */
    {"progress.done", EVF_INT, 0},         /* rows or tasks of the pass; the Newton iteration */
    {"progress.total", EVF_INT, EVF_NULL}, /* null for iterations: not known ahead */
    {"progress.fraction", EVF_NUMBER, 0},  /* 0..1 of the phase */
    {"progress.cg_steps", EVF_INT, 0},     /* iterations: CG steps so far */
    {NULL, 0, 0}};

const event_field_t EVENTS_WORKER_RECORD[] = {
    {"joined_ms", EVF_INT, REQ},
    {"seen_ms", EVF_INT, REQ}, /* wall ms of the last heartbeat */
    {"lost", EVF_BOOL, REQ},
    {NULL, 0, 0}};

static const event_def_t table[EV_COUNT] = {
    [EV_WORKER_JOINED] = {"worker_joined", EVS_MASTER, EVB_WORKER, worker_joined},
    [EV_WORKER_LEFT] = {"worker_left", EVS_MASTER, EVB_DATA, worker_left},
    [EV_WORKER_STATS] = {"worker_stats", EVS_MASTER, EVB_WORKER, worker_stats},
    [EV_JOB_STARTED] = {"job_started", EVS_MASTER, EVB_JOB, job_started},
    [EV_JOB_PROGRESS] = {"job_progress", EVS_MASTER, EVB_JOB, job_progress},
    [EV_JOB_DONE] = {"job_done", EVS_MASTER, EVB_JOB, job_done},
    [EV_JOB_FAILED] = {"job_failed", EVS_MASTER, EVB_NONE, job_failed},
    [EV_TASK_DONE] = {"task_done", EVS_MASTER, EVB_DATA, task_done},
    [EV_TASK_FAILED] = {"task_failed", EVS_MASTER, EVB_DATA, task_failed},
    [EV_ITERATION] = {"iteration", EVS_MASTER, EVB_DATA, iteration},
    [EV_COUNTERS] = {"counters", EVS_MASTER, EVB_DATA, counters},
    [EV_JOB_QUEUED] = {"job_queued", EVS_DASHBOARD, EVB_JOB, job_queued},
    [EV_UPDATE_STATS] = {"update_stats", EVS_DASHBOARD, EVB_DATA, update_stats},
    [EV_SNAPSHOT] = {"snapshot", EVS_DASHBOARD, EVB_DATA, snapshot},
};

const event_def_t *events_def(event_id_t id) {
    return id >= 0 && id < EV_COUNT ? &table[id] : NULL;
}

const char *events_name(event_id_t id) {
    return id >= 0 && id < EV_COUNT ? table[id].name : "?";
}

event_id_t events_lookup(const char *name) {
    for (int i = 0; name && i < EV_COUNT; i++)
        if (strcmp(table[i].name, name) == 0) return (event_id_t)i;
    return EV_UNKNOWN;
}
