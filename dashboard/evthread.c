/* evthread: the dashboard's event thread. See evthread.h. */
#include "dashboard/evthread.h"

#include "common/jsonx.h"
#include "common/clock.h"
#include "common/errbuf.h"
#include "common/events.h"
#include "common/log.h"
#include "dashboard/dashctx.h"

#include <errno.h>
#include <stdio.h>
#include <zmq.h>

#define MAX_EVENT_BYTES (4 << 20) /* one event from the master */
#define FLUSH_MS 500
#define PRUNE_MS (3600 * 1000)
/* events read per wakeup, so that ticks and flushes still happen under a flood */
#define BATCH_MAX 5000

static void handle_event(dashboard_t *d, const char *buf, size_t len) {
    char err[256];
    json_object *root = jsonx_parse_object(buf, len, &(jsonx_limits_t){.max_depth = 64}, NULL, 0);
    json_object *data = NULL;
    const char *name = NULL;
    double tsd;
    if (!root || jsonx_get_string(root, "event", &name, NULL, NULL, 0) != 0 ||
        !json_object_object_get_ex(root, "data", &data) ||
        !json_object_is_type(data, json_type_object)) {
        log_every(0, LOG_WARN, "dashboard: malformed event from the master dropped");
        goto out;
    }
    int64_t ts = clock_wall_ms();
    if (jsonx_get_double(root, "ts", 0, 9e15, &tsd, NULL, 0) == 0) ts = (int64_t)tsd;
    pthread_mutex_lock(&d->lock);
    name = dashstate_public_event(d->state, name, data);
    if (!name) {
        pthread_mutex_unlock(&d->lock);
        goto out;
    }
    json_object *fwd = dashstate_apply(d->state, name, ts, data);
    if (fwd) {
        ring_push_event(&d->ring, name, fwd);
        json_object_put(fwd); /* may share objects with the state: put under the lock */
    }
    pthread_mutex_unlock(&d->lock);

    if (history_record(d->writer, name, ts, data, err, sizeof(err)) != 0)
        log_every(1, LOG_WARN, "dashboard: %s", err);
out:
    json_object_put(root);
}

static void push_update_stats(dashboard_t *d) {
    pthread_mutex_lock(&d->lock);
    json_object *o = dashstate_update_stats(d->state, clock_wall_ms());
    if (o) {
        ring_push_event(&d->ring, events_name(EV_UPDATE_STATS), o);
        json_object_put(o);
    }
    pthread_mutex_unlock(&d->lock);
}

/* Reads what waits on the SUB, at most BATCH_MAX events; true when any was handled. */
static bool drain_events(dashboard_t *d) {
    bool pushed = false;
    for (int i = 0; i < BATCH_MAX; i++) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, d->sub, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            break;
        }
        bool more = zmq_msg_more(&m);
        if (!more && zmq_msg_size(&m) <= MAX_EVENT_BYTES) {
            handle_event(d, zmq_msg_data(&m), zmq_msg_size(&m));
            pushed = true;
        } else {
            log_every(0, LOG_WARN, "dashboard: oversized or multipart event dropped");
        }
        zmq_msg_close(&m);
        while (more) { /* drain the rest of a multipart message */
            zmq_msg_init(&m);
            if (zmq_msg_recv(&m, d->sub, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(&m);
                break;
            }
            more = zmq_msg_more(&m);
            zmq_msg_close(&m);
        }
    }
    return pushed;
}

typedef struct {
    int64_t tick, flush, prune; /* monotonic deadlines */
} timers_t;

/* Runs the timers that are due; true when a frame was pushed. */
static bool run_timers(dashboard_t *d, timers_t *t) {
    char err[256];
    bool pushed = false;
    int64_t now = clock_now_ms();
    if (now >= t->flush) {
        if (history_flush(d->writer, err, sizeof(err)) != 0)
            log_every(1, LOG_WARN, "dashboard: %s", err);
        t->flush = now + FLUSH_MS;
    }
    if (now >= t->tick) {
        push_update_stats(d);
        pushed = true;
        t->tick += 1000;
        if (t->tick <= now) t->tick = now + 1000;
    }
    if (now >= t->prune) {
        if (history_prune(d->writer, clock_wall_ms(), err, sizeof(err)) < 0)
            log_warn("dashboard: %s", err);
        t->prune = now + PRUNE_MS;
    }
    return pushed;
}

static void *ev_main(void *arg) {
    dashboard_t *d = arg;
    char err[256];
    int64_t now = clock_now_ms();
    timers_t t = {now + 1000, now + FLUSH_MS, now + PRUNE_MS};
    for (;;) {
        int64_t wait = (t.tick < t.flush ? t.tick : t.flush) - clock_now_ms();
        zmq_pollitem_t it[2] = {{d->sub, 0, ZMQ_POLLIN, 0}, {d->stop_rx, 0, ZMQ_POLLIN, 0}};
        int rc = zmq_poll(it, 2, (long)(wait < 0 ? 0 : wait));
        if (rc < 0 && zmq_errno() != EINTR) break;
        if (rc > 0 && (it[1].revents & ZMQ_POLLIN)) break;
        bool pushed = rc > 0 && (it[0].revents & ZMQ_POLLIN) && drain_events(d);
        pushed |= run_timers(d, &t);
        if (pushed) lws_cancel_service(d->lws);
    }
    if (history_flush(d->writer, err, sizeof(err)) != 0) log_warn("dashboard: %s", err);
    return NULL;
}

/* A PAIR bound and a PAIR connected on an endpoint private to this dashboard. */
static int open_stop_pair(dashboard_t *d) {
    char ep[96];
    int linger = 0;
    /* the time too: a later dashboard may get the same address while the
     * reaper has not yet released this endpoint */
    snprintf(ep, sizeof ep, "inproc://dashboard-stop-%p-%lld", (void *)d,
             (long long)clock_now_us());
    d->stop_rx = zmq_socket(d->zctx, ZMQ_PAIR);
    d->stop_tx = zmq_socket(d->zctx, ZMQ_PAIR);
    if (!d->stop_rx || !d->stop_tx ||
        zmq_setsockopt(d->stop_rx, ZMQ_LINGER, &linger, sizeof(linger)) ||
        zmq_setsockopt(d->stop_tx, ZMQ_LINGER, &linger, sizeof(linger)) ||
        zmq_bind(d->stop_rx, ep) || zmq_connect(d->stop_tx, ep))
        return -1;
    return 0;
}

int evthread_open(dashboard_t *d, char *err, size_t errlen) {
    int linger = 0, hwm = 100000;
    d->sub = zmq_socket(d->zctx, ZMQ_SUB);
    if (!d->sub || zmq_setsockopt(d->sub, ZMQ_LINGER, &linger, sizeof(linger)) ||
        zmq_setsockopt(d->sub, ZMQ_RCVHWM, &hwm, sizeof(hwm)) ||
        zmq_setsockopt(d->sub, ZMQ_SUBSCRIBE, "", 0) || zmq_connect(d->sub, d->events_ep))
        return errbuf_set(err, errlen, "dashboard: cannot subscribe to %s: %s", d->events_ep,
                          zmq_strerror(zmq_errno()));
    if (open_stop_pair(d) != 0)
        return errbuf_set(err, errlen, "dashboard: cannot open its stop signal: %s",
                          zmq_strerror(zmq_errno()));
    return 0;
}

int evthread_start(dashboard_t *d, char *err, size_t errlen) {
    if (pthread_create(&d->ev_thr, NULL, ev_main, d) != 0)
        return errbuf_set(err, errlen, "dashboard: cannot start a thread");
    d->ev_running = true;
    return 0;
}

void evthread_stop(dashboard_t *d) {
    if (d->ev_running) {
        /* a PAIR queues the byte even when the thread is not polling yet */
        zmq_send(d->stop_tx, "", 0, 0);
        pthread_join(d->ev_thr, NULL);
        d->ev_running = false;
    }
    if (d->sub) zmq_close(d->sub);
    if (d->stop_rx) zmq_close(d->stop_rx);
    if (d->stop_tx) zmq_close(d->stop_tx);
    d->sub = d->stop_rx = d->stop_tx = NULL;
}
