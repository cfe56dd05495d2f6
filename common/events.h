/* events: the one table of event names and fields (as proto.h is for wire messages).
 *
 * The master publishes events on its inproc bus (master/events.h: one JSON
 * frame {"event": NAME, "ts": WALL_MS, "data": {...}}); the dashboard applies
 * them to its state (dashstate), stores them (history) and forwards them to
 * browsers over Socket.IO (dashboard/web/app.js), adding three of its own.
 * Every name and every field any of them reads or writes is listed here and
 * nowhere else: code switches on event_id_t, and tests/e2e/events_table.sh
 * checks that app.js listens only to names of this table and reads only
 * fields it lists.
 *
 * Fields: a nested field is written with a dot ("outputs.submission"). A
 * required field is in every event of its kind; EVF_NULL marks one whose
 * value may be null. Every event that belongs to a job names it "job_id";
 * only a job summary (dashstate.h) and a worker's own record say "id".
 *
 * What a browser receives under an event's name (event_def_t.browser):
 *   EVB_DATA    the event's data as published (after the public error text,
 *               dashstate_public_event());
 *   EVB_JOB     the merged job summary (EVENTS_JOB_SUMMARY) plus "job_id";
 *   EVB_WORKER  the merged worker record (the event's fields plus
 *               EVENTS_WORKER_RECORD);
 *   EVB_NONE    nothing under this name (job_failed becomes a job_done).
 */
#ifndef NC_COMMON_EVENTS_H
#define NC_COMMON_EVENTS_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    /* published by the master */
    EV_WORKER_JOINED,
    EV_WORKER_LEFT,
    EV_WORKER_STATS,
    EV_JOB_STARTED,
    EV_JOB_PROGRESS,
    EV_JOB_DONE,
    EV_JOB_FAILED,
    EV_TASK_DONE,
    EV_TASK_FAILED,
    EV_ITERATION,
    EV_COUNTERS,
    /* made by the dashboard for browsers */
    EV_JOB_QUEUED,
    EV_UPDATE_STATS,
    EV_SNAPSHOT,
    EV_COUNT,
    EV_UNKNOWN = -1
} event_id_t;

typedef enum { EVF_INT, EVF_NUMBER, EVF_STRING, EVF_BOOL, EVF_OBJECT, EVF_ARRAY } evf_type_t;

#define EVF_REQ 0x1  /* always present */
#define EVF_NULL 0x2 /* may be null */

typedef struct {
    const char *name; /* "key" or "object.key" */
    evf_type_t type;
    unsigned flags; /* EVF_REQ | EVF_NULL */
} event_field_t;

typedef enum { EVS_MASTER, EVS_DASHBOARD } event_source_t;
typedef enum { EVB_DATA, EVB_JOB, EVB_WORKER, EVB_NONE } event_browser_t;

typedef struct {
    const char *name;
    event_source_t source;
    event_browser_t browser;
    const event_field_t *fields; /* ends with {NULL} */
} event_def_t;

/* The definition of id (a static table entry); NULL when id is out of range. */
const event_def_t *events_def(event_id_t id);

/* The wire name of id, or "?" when out of range. */
const char *events_name(event_id_t id);

/* The id of a wire name; EV_UNKNOWN for NULL or a name not in the table. */
event_id_t events_lookup(const char *name);

/* The fields of a job summary (dashstate.h, history.h), in the order every
 * summary lists them; ends with {NULL}. */
extern const event_field_t EVENTS_JOB_SUMMARY[];

/* The fields the dashboard adds to a worker's record; ends with {NULL}. */
extern const event_field_t EVENTS_WORKER_RECORD[];

#endif
