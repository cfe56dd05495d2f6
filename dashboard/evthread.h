/* evthread: the dashboard's event thread.
 *
 * Subscribes to the master's event stream (a SUB on events_ep), and for each
 * event: makes it public (dashstate_public_event()), applies it to the state
 * and pushes what browsers get onto the ring (dashstate_apply()), then queues
 * it for the history file. Every second it pushes update_stats; every 500 ms
 * it writes the queued history in one transaction; hourly it prunes old
 * samples. After pushing frames it wakes the lws thread (lws_cancel_service).
 *
 * It sleeps in one zmq_poll on the SUB and a PAIR that evthread_stop()
 * signals, so a stop is seen at once, never after a timer.
 */
#ifndef NC_EVTHREAD_H
#define NC_EVTHREAD_H

#include <stddef.h>

typedef struct dashboard dashboard_t;

/* Opens the SUB socket on d->events_ep and the stop PAIR in d->zctx (before
 * the master publishes, so no event is missed). -1 with err filled. */
int evthread_open(dashboard_t *d, char *err, size_t errlen);

/* Starts the thread (d->lws must exist). -1 with err filled. */
int evthread_start(dashboard_t *d, char *err, size_t errlen);

/* Signals the thread, waits for it (it flushes history last) and closes the
 * sockets. Safe after a failed or partial start. */
void evthread_stop(dashboard_t *d);

#endif
