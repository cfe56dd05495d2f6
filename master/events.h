/* events: the master's live event stream.
 *
 * A PUB socket bound on an inproc endpoint; the dashboard (and anything else
 * in the process) subscribes. Each event is one frame of JSON:
 *   {"event": NAME, "ts": WALL_MS, "data": {...}}
 * with NAME and the fields of data as common/events.h defines them.
 * Publishing never blocks: with no subscriber, or a slow one past the high
 * water mark, ZeroMQ drops the event, which is what the scheduler wants.
 */
#ifndef NC_EVENTS_H
#define NC_EVENTS_H

#include "common/events.h"

#include <json-c/json.h>

#define EVENTS_ENDPOINT "inproc://events"

typedef struct events events_t;

/* Binds a PUB socket on endpoint in zctx. NULL on failure (err says why). */
events_t *events_new(void *zctx, const char *endpoint, char *err, size_t errlen);
void events_destroy(events_t **ev);

/* Publishes event id with data (its fields: common/events.h); takes ownership
 * of data (may be NULL). ev may be NULL, then the data is just released. */
void events_publish(events_t *ev, event_id_t id, json_object *data);

/* The data of the last job_done published since the last call, with the
 * totals of the last job_started (total_tasks, rows_total, workers) added
 * (the run records it: master/runs.h); NULL when neither was published.
 * Caller owns it. Not thread-safe: events are published from the main
 * thread only. */
json_object *events_take_done(events_t *ev);

#endif
