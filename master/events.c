#include "master/events.h"

#include "common/clock.h"
#include "common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <zmq.h>

struct events {
    void *pub;
    json_object *last_done;    /* the data of the last job_done published */
    json_object *last_started; /* and of the last job_started */
};

events_t *events_new(void *zctx, const char *endpoint, char *err, size_t errlen) {
    events_t *ev = calloc(1, sizeof *ev);
    if (!ev) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    ev->pub = zmq_socket(zctx, ZMQ_PUB);
    int linger = 0, hwm = 10000;
    if (!ev->pub || zmq_setsockopt(ev->pub, ZMQ_LINGER, &linger, sizeof linger) ||
        zmq_setsockopt(ev->pub, ZMQ_SNDHWM, &hwm, sizeof hwm) || zmq_bind(ev->pub, endpoint)) {
        snprintf(err, errlen, "cannot bind event stream %s: %s", endpoint,
                 zmq_strerror(zmq_errno()));
        events_destroy(&ev);
        return NULL;
    }
    return ev;
}

void events_destroy(events_t **evp) {
    events_t *ev = *evp;
    if (!ev) return;
    if (ev->pub) zmq_close(ev->pub);
    json_object_put(ev->last_done);
    json_object_put(ev->last_started);
    free(ev);
    *evp = NULL;
}

void events_publish(events_t *ev, event_id_t id, json_object *data) {
    const char *name = events_name(id);
    if (!ev) {
        json_object_put(data);
        return;
    }
    if ((id == EV_JOB_DONE || id == EV_JOB_STARTED) && data) {
        json_object **keep = id == EV_JOB_DONE ? &ev->last_done : &ev->last_started;
        json_object_put(*keep);
        *keep = json_object_get(data);
    }
    json_object *root = json_object_new_object();
    json_object_object_add(root, "event", json_object_new_string(name));
    json_object_object_add(root, "ts", json_object_new_int64(clock_wall_ms()));
    json_object_object_add(root, "data", data ? data : json_object_new_object());
    size_t len;
    const char *text = json_object_to_json_string_length(root, JSON_C_TO_STRING_PLAIN, &len);
    if (zmq_send(ev->pub, text, len, ZMQ_DONTWAIT) < 0)
        log_debug("event %s dropped: %s", name, zmq_strerror(zmq_errno()));
    json_object_put(root);
}

json_object *events_take_done(events_t *ev) {
    static const char *const totals[] = {"total_tasks", "rows_total", "workers"};
    if (!ev) return NULL;
    json_object *d = ev->last_done, *st = ev->last_started, *v;
    ev->last_done = ev->last_started = NULL;
    if (st && !d) d = json_object_new_object();
    for (size_t i = 0; st && d && i < sizeof totals / sizeof totals[0]; i++)
        if (!json_object_object_get_ex(d, totals[i], NULL) &&
            json_object_object_get_ex(st, totals[i], &v))
            json_object_object_add(d, totals[i], json_object_get(v));
    json_object_put(st);
    return d;
}
