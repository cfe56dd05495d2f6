/* dashstate: in-memory cluster picture built from the master's events. See dashstate.h. */
#include "dashboard/dashstate.h"

#include "common/events.h"
#include "dashboard/jobsum.h"
#include "dashboard/webguard.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_KEEP 200 /* recent cluster events shown to a browser that connects */

typedef struct {
    char key[64];
    json_object *obj;
} worker_t;

typedef struct {
    int64_t id;
    json_object *sum;
    /* details; NULL when not held in memory (old jobs: read from history) */
    json_object *iterations, *timeline, *failed, *events;
    json_object *metrics; /* the job_done's metrics (NULL: none) */
    uint64_t touched;     /* recency, to choose whose details to drop */
} job_t;

struct dashstate {
    int heartbeat_ms, liveness;
    worker_t *workers;
    size_t nworkers, capworkers;
    job_t *jobs;
    size_t njobs, capjobs;
    int64_t current; /* id of the job shown in the job panel, -1 for none */
    uint64_t clock;
    json_object *counters;
    json_object *log; /* array, at most LOG_KEEP */
};

static json_object *jget(json_object *o, const char *key) {
    json_object *v = NULL;
    if (!o || !json_object_object_get_ex(o, key, &v)) return NULL;
    return v;
}

static bool is_num(json_object *v) {
    return v && (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double));
}

static double jdbl(json_object *o, const char *key, double def) {
    json_object *v = jget(o, key);
    return is_num(v) ? json_object_get_double(v) : def;
}

static int64_t jint(json_object *o, const char *key, int64_t def) {
    json_object *v = jget(o, key);
    return is_num(v) ? json_object_get_int64(v) : def;
}

static const char *jstr(json_object *o, const char *key, const char *def) {
    json_object *v = jget(o, key);
    return (v && json_object_is_type(v, json_type_string)) ? json_object_get_string(v) : def;
}

/* Copies src[key] (deep, so the state never shares objects with the caller) into dst[key]. */
static void copy_field(json_object *dst, json_object *src, const char *key) {
    json_object *v, *c = NULL;
    if (!json_object_object_get_ex(src, key, &v)) return;
    if (v && json_object_deep_copy(v, &c, NULL) != 0) return;
    json_object_object_add(dst, key, c);
}

static void merge(json_object *dst, json_object *src) {
    json_object_object_foreach(src, key, val) {
        (void)val;
        copy_field(dst, src, key);
    }
}

dashstate_t *dashstate_new(int heartbeat_ms, int liveness) {
    dashstate_t *s = calloc(1, sizeof(*s));
    if (!s) return NULL;
    s->heartbeat_ms = heartbeat_ms;
    s->liveness = liveness;
    s->current = -1;
    s->counters = json_object_new_object();
    s->log = json_object_new_array();
    if (!s->counters || !s->log) dashstate_destroy(&s);
    return s;
}

static void drop_details(job_t *j) {
    json_object_put(j->iterations);
    json_object_put(j->timeline);
    json_object_put(j->failed);
    json_object_put(j->events);
    json_object_put(j->metrics);
    j->iterations = j->timeline = j->failed = j->events = j->metrics = NULL;
}

void dashstate_destroy(dashstate_t **sp) {
    dashstate_t *s = sp ? *sp : NULL;
    if (!s) return;
    for (size_t i = 0; i < s->nworkers; i++)
        json_object_put(s->workers[i].obj);
    for (size_t i = 0; i < s->njobs; i++) {
        json_object_put(s->jobs[i].sum);
        drop_details(&s->jobs[i]);
    }
    free(s->workers);
    free(s->jobs);
    json_object_put(s->counters);
    json_object_put(s->log);
    free(s);
    *sp = NULL;
}

/* ---- workers ---- */

/* Worker ids may be numbers or strings on the wire; the key is their text. */
static bool worker_key(json_object *data, char *key, size_t len) {
    json_object *id = jget(data, "id");
    if (!id) id = jget(data, "name");
    if (!id || json_object_is_type(id, json_type_null)) return false;
    const char *t = json_object_is_type(id, json_type_string) ? json_object_get_string(id)
                                                              : json_object_to_json_string(id);
    if (!t || !*t || strlen(t) >= len) return false;
    strcpy(key, t);
    return true;
}

static worker_t *worker_find(dashstate_t *s, const char *key) {
    for (size_t i = 0; i < s->nworkers; i++)
        if (strcmp(s->workers[i].key, key) == 0) return &s->workers[i];
    return NULL;
}

static worker_t *worker_get(dashstate_t *s, const char *key, int64_t ts) {
    worker_t *w = worker_find(s, key);
    if (w) return w;
    if (s->nworkers == s->capworkers) {
        size_t cap = s->capworkers ? s->capworkers * 2 : 16;
        worker_t *n = realloc(s->workers, cap * sizeof(*n));
        if (!n) return NULL;
        s->workers = n;
        s->capworkers = cap;
    }
    json_object *o = json_object_new_object();
    if (!o) return NULL;
    w = &s->workers[s->nworkers++];
    memset(w, 0, sizeof(*w));
    strcpy(w->key, key);
    w->obj = o;
    json_object_object_add(o, "state", json_object_new_string("idle"));
    json_object_object_add(o, "reason", json_object_new_string(""));
    json_object_object_add(o, "joined_ms", json_object_new_int64(ts));
    json_object_object_add(o, "seen_ms", json_object_new_int64(ts));
    json_object_object_add(o, "tasks_done", json_object_new_int(0));
    json_object_object_add(o, "lost", json_object_new_boolean(0));
    return w;
}

static void worker_remove(dashstate_t *s, worker_t *w) {
    size_t i = (size_t)(w - s->workers);
    json_object_put(w->obj);
    memmove(&s->workers[i], &s->workers[i + 1], (s->nworkers - i - 1) * sizeof(*w));
    s->nworkers--;
}

static bool worker_lost(worker_t *w) {
    return json_object_get_boolean(jget(w->obj, "lost"));
}

/* ---- jobs ---- */

static job_t *job_find(dashstate_t *s, int64_t id) {
    for (size_t i = 0; i < s->njobs; i++)
        if (s->jobs[i].id == id) return &s->jobs[i];
    return NULL;
}

/* Keeps details for the DASHSTATE_DETAILED_JOBS most recently touched jobs. */
static void evict_details(dashstate_t *s) {
    for (;;) {
        size_t held = 0;
        job_t *oldest = NULL;
        for (size_t i = 0; i < s->njobs; i++) {
            job_t *j = &s->jobs[i];
            if (!j->timeline) continue;
            held++;
            if (!oldest || j->touched < oldest->touched) oldest = j;
        }
        if (held <= DASHSTATE_DETAILED_JOBS || !oldest) return;
        drop_details(oldest);
    }
}

/* Finds or creates a job; with details when `detailed` (a job we see live). */
static job_t *job_get(dashstate_t *s, int64_t id, bool detailed) {
    job_t *j = job_find(s, id);
    if (!j) {
        if (s->njobs == DASHSTATE_MAX_JOBS) {
            /* forget the lowest id: the oldest job, still in the history file */
            size_t lo = 0;
            for (size_t i = 1; i < s->njobs; i++)
                if (s->jobs[i].id < s->jobs[lo].id) lo = i;
            json_object_put(s->jobs[lo].sum);
            drop_details(&s->jobs[lo]);
            s->jobs[lo] = s->jobs[--s->njobs];
        }
        if (s->njobs == s->capjobs) {
            size_t cap = s->capjobs ? s->capjobs * 2 : 16;
            job_t *n = realloc(s->jobs, cap * sizeof(*n));
            if (!n) return NULL;
            s->jobs = n;
            s->capjobs = cap;
        }
        json_object *sum = jobsum_new(id);
        if (!sum) return NULL;
        j = &s->jobs[s->njobs++];
        memset(j, 0, sizeof(*j));
        j->id = id;
        j->sum = sum;
    }
    if (detailed && !j->timeline) {
        j->iterations = json_object_new_array();
        j->timeline = json_object_new_array();
        j->failed = json_object_new_array();
        j->events = json_object_new_array();
        if (!j->iterations || !j->timeline || !j->failed || !j->events) drop_details(j);
    }
    j->touched = ++s->clock;
    if (detailed) evict_details(s);
    return job_find(s, id); /* eviction never moves entries, but be explicit */
}

void dashstate_load_jobs(dashstate_t *s, json_object *jobs) {
    size_t n =
        jobs && json_object_is_type(jobs, json_type_array) ? json_object_array_length(jobs) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *o = json_object_array_get_idx(jobs, i);
        json_object *id = jget(o, "id");
        if (!is_num(id)) continue;
        job_t *j = job_get(s, json_object_get_int64(id), false);
        if (j) merge(j->sum, o);
        if (j) jobsum_derive(j->sum);
    }
}

/* Appends a deep copy of item to arr unless arr is at its cap. */
static void append_capped(json_object *arr, json_object *item, size_t cap) {
    json_object *c = NULL;
    if (!arr || json_object_array_length(arr) >= cap) return;
    if (json_object_deep_copy(item, &c, NULL) == 0 && json_object_array_add(arr, c) != 0)
        json_object_put(c);
}

static json_object *log_entry(event_id_t ev, int64_t ts, json_object *data) {
    json_object *e = json_object_new_object();
    json_object *c = NULL;
    if (!e) return NULL;
    json_object_object_add(e, "ts", json_object_new_int64(ts));
    json_object_object_add(e, "event", json_object_new_string(events_name(ev)));
    if (json_object_deep_copy(data, &c, NULL) == 0) json_object_object_add(e, "data", c);
    return e;
}

static void log_event(dashstate_t *s, job_t *j, event_id_t ev, int64_t ts, json_object *data) {
    json_object *e = log_entry(ev, ts, data);
    if (!e) return;
    if (json_object_array_length(s->log) >= LOG_KEEP) json_object_array_del_idx(s->log, 0, 1);
    json_object_array_add(s->log, json_object_get(e));
    if (j && j->events && json_object_array_length(j->events) < DASHSTATE_MAX_EVENTS)
        json_object_array_add(j->events, json_object_get(e));
    json_object_put(e);
}

static void set_int(json_object *o, const char *key, int64_t v) {
    json_object_object_add(o, key, json_object_new_int64(v));
}

static json_object *apply_worker(dashstate_t *s, event_id_t ev, int64_t ts, json_object *data) {
    char key[64];
    if (!worker_key(data, key, sizeof(key))) return NULL;
    if (ev == EV_WORKER_LEFT) {
        worker_t *w = worker_find(s, key);
        const char *reason = jstr(data, "reason", "bye");
        log_event(s, s->current >= 0 ? job_find(s, s->current) : NULL, ev, ts, data);
        if (!w) return json_object_get(data);
        if (strcmp(reason, "lost") == 0) {
            json_object_object_add(w->obj, "state", json_object_new_string("lost"));
            json_object_object_add(w->obj, "lost", json_object_new_boolean(1));
            json_object_object_add(w->obj, "current_task", NULL);
        } else {
            worker_remove(s, w);
        }
        return json_object_get(data);
    }
    worker_t *w = worker_get(s, key, ts);
    if (!w) return NULL;
    merge(w->obj, data);
    json_object_object_add(w->obj, "lost", json_object_new_boolean(0));
    if (ev == EV_WORKER_JOINED) {
        json_object_object_add(w->obj, "state", json_object_new_string("idle"));
        set_int(w->obj, "joined_ms", ts);
        set_int(w->obj, "seen_ms", ts);
        log_event(s, s->current >= 0 ? job_find(s, s->current) : NULL, ev, ts, data);
    } else {
        /* last_seen_ms is the age of the heartbeat when the master published */
        set_int(w->obj, "seen_ms", ts - jint(data, "last_seen_ms", 0));
    }
    return json_object_get(w->obj);
}

static void job_started(dashstate_t *s, job_t *j, int64_t ts, json_object *data) {
    json_object *sum = j->sum;
    s->current = j->id;
    copy_field(sum, data, "mode");
    copy_field(sum, data, "data");
    copy_field(sum, data, "total_tasks");
    copy_field(sum, data, "rows_total");
    copy_field(sum, data, "workers");
    json_object_object_add(sum, "state", json_object_new_string("running"));
    set_int(sum, "started_ms", ts);
    set_int(sum, "done_tasks", 0);
    set_int(sum, "rows_done", 0);
    json_object_object_add(sum, "ended_ms", NULL);
    json_object_object_add(sum, "duration_s", NULL);
    json_object_object_add(sum, "accuracy", NULL);
    json_object_object_add(sum, "error", NULL);
    json_object_object_add(sum, "progress", NULL);
    log_event(s, j, EV_JOB_STARTED, ts, data);
}

/* The summary's progress from a job_progress: the Newton iteration while
 * exact training reports it, else the rows (or tasks) of the pass. The
 * master's phase_done never goes back within a phase; done does not either
 * (a second pass in one phase keeps the furthest count). */
static void set_progress(json_object *sum, json_object *data) {
    json_object *old = jget(sum, "progress"), *p = json_object_new_object();
    if (!p) return;
    const char *phase = jstr(data, "phase", "");
    bool same = old && strcmp(jstr(old, "phase", ""), phase) == 0;
    bool iters = is_num(jget(data, "newton_iter")), rows = jint(data, "rows_total", 0) > 0;
    const char *unit = iters ? "iterations" : rows ? "rows" : "tasks";
    int64_t done = 0, total = 0;
    if (iters) {
        done = jint(data, "newton_iter", 0);
    } else {
        done = jint(data, rows ? "rows_done" : "done_tasks", 0);
        total = jint(data, rows ? "rows_total" : "total_tasks", 0);
    }
    same = same && strcmp(jstr(old, "unit", ""), unit) == 0 &&
           jint(old, "total", -1) == (iters ? -1 : total);
    if (same && jint(old, "done", 0) > done) done = jint(old, "done", 0);
    double frac = jdbl(data, "phase_done", total > 0 ? (double)done / (double)total : 0);
    if (same && jdbl(old, "fraction", 0) > frac) frac = jdbl(old, "fraction", 0);
    json_object_object_add(p, "phase", json_object_new_string(phase));
    json_object_object_add(p, "unit", json_object_new_string(unit));
    set_int(p, "done", done);
    json_object_object_add(p, "total", iters ? NULL : json_object_new_int64(total));
    json_object_object_add(p, "fraction", json_object_new_double(frac));
    if (iters) set_int(p, "cg_steps", jint(data, "cg_steps", 0));
    json_object_object_add(sum, "progress", p);
}

static void job_progress(dashstate_t *s, job_t *j, int64_t ts, json_object *data) {
    static const char *const keys[] = {"phase",      "done_tasks",  "total_tasks", "rows_done",
                                       "rows_total", "rate_rows_s", "eta_s",       "workers"};
    json_object *sum = j->sum;
    set_progress(sum, data);
    if (s->current < 0) s->current = j->id;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        copy_field(sum, data, keys[i]);
    if (strcmp(jstr(sum, "state", ""), "queued") == 0)
        json_object_object_add(sum, "state", json_object_new_string("running"));
    if (!is_num(jget(sum, "started_ms"))) set_int(sum, "started_ms", ts);
}

static void job_done(dashstate_t *s, job_t *j, int64_t ts, json_object *data) {
    json_object *sum = j->sum;
    const char *st = jstr(data, "state", "done");
    if (strcmp(st, "failed") != 0 && strcmp(st, "cancelled") != 0) st = "done";
    json_object_object_add(sum, "state", json_object_new_string(st));
    set_int(sum, "ended_ms", ts);
    copy_field(sum, data, "duration_s");
    copy_field(sum, data, "accuracy");
    if (jget(data, "outputs")) jobsum_set_outputs(sum, jget(data, "outputs"));
    /* with the details (not in the list's summaries: a matrix can be large) */
    json_object_put(j->metrics);
    j->metrics = j->timeline ? json_object_get(jget(data, "metrics")) : NULL;
    copy_field(sum, data, "error");
    if (strcmp(st, "done") == 0) {
        json_object_object_add(sum, "done_tasks", json_object_get(jget(sum, "total_tasks")));
        json_object_object_add(sum, "rows_done", json_object_get(jget(sum, "rows_total")));
    }
    /* an ended job has no ETA: "ETA 0" would say it is about to end */
    json_object_object_add(sum, "eta_s", NULL);
    json_object_object_add(sum, "rate_rows_s", NULL);
    json_object *prog = jget(sum, "progress");
    if (prog && strcmp(st, "done") == 0) { /* the last phase ran to its end */
        json_object_object_add(prog, "fraction", json_object_new_double(1));
        if (is_num(jget(prog, "total")))
            json_object_object_add(prog, "done", json_object_get(jget(prog, "total")));
    }
    log_event(s, j, EV_JOB_DONE, ts, data);
}

/* task_failed as recorded and forwarded: the data, with ts when it had none. */
static json_object *task_failed(dashstate_t *s, job_t *j, int64_t ts, json_object *data) {
    json_object *c = NULL;
    if (json_object_deep_copy(data, &c, NULL) != 0) return NULL;
    if (!jget(c, "ts")) set_int(c, "ts", ts);
    append_capped(j->failed, c, DASHSTATE_MAX_ROWS);
    log_event(s, j, EV_TASK_FAILED, ts, c);
    return c;
}

/* The events of one job; returns what browsers get (common/events.h). */
static json_object *apply_job(dashstate_t *s, event_id_t ev, int64_t ts, json_object *data) {
    json_object *idv = jget(data, "job_id");
    if (!is_num(idv)) return NULL;
    job_t *j = job_get(s, json_object_get_int64(idv), true);
    if (!j) return NULL;
    switch (ev) {
    case EV_JOB_STARTED:
        job_started(s, j, ts, data);
        return jobsum_event(j->sum);
    case EV_JOB_PROGRESS:
        job_progress(s, j, ts, data);
        return jobsum_event(j->sum);
    case EV_JOB_DONE:
        job_done(s, j, ts, data);
        return jobsum_event(j->sum);
    case EV_TASK_DONE:
        append_capped(j->timeline, data, DASHSTATE_MAX_ROWS);
        return json_object_get(data);
    case EV_TASK_FAILED:
        return task_failed(s, j, ts, data);
    case EV_ITERATION:
        append_capped(j->iterations, data, DASHSTATE_MAX_ROWS);
        return json_object_get(data);
    default:
        return NULL;
    }
}

json_object *dashstate_apply(dashstate_t *s, const char *event, int64_t ts, json_object *data) {
    json_object *c = NULL;
    if (!event || !data || !json_object_is_type(data, json_type_object)) return NULL;
    event_id_t ev = events_lookup(event);
    switch (ev) {
    case EV_WORKER_JOINED:
    case EV_WORKER_LEFT:
    case EV_WORKER_STATS:
        return apply_worker(s, ev, ts, data);
    case EV_COUNTERS:
        if (json_object_deep_copy(data, &c, NULL) != 0) return NULL;
        json_object_put(s->counters);
        s->counters = c;
        return json_object_get(c);
    case EV_JOB_STARTED:
    case EV_JOB_PROGRESS:
    case EV_JOB_DONE:
    case EV_TASK_DONE:
    case EV_TASK_FAILED:
    case EV_ITERATION:
        return apply_job(s, ev, ts, data);
    default:
        return NULL; /* job_failed is made a job_done first (dashstate_public_event) */
    }
}

json_object *dashstate_job_queued(dashstate_t *s, int64_t id, json_object *request, int64_t ts) {
    bool known = job_find(s, id) != NULL;
    job_t *j = job_get(s, id, true);
    if (!j) return NULL;
    /* The master may have started (or failed) the job before the dashboard
     * got its answer to the submission: never move a job back to queued. */
    if (known && strcmp(jstr(j->sum, "state", "queued"), "queued") != 0)
        return jobsum_event(j->sum);
    copy_field(j->sum, request, "mode");
    copy_field(j->sum, request, "data");
    json_object_object_add(j->sum, "state", json_object_new_string("queued"));
    set_int(j->sum, "started_ms", ts);
    return jobsum_event(j->sum);
}

/* serve.c's job_failed {job_id, mode, status, state}: a job_done "failed" (or
 * "cancelled") when the job is still pending, else NULL (the driver already
 * said how it ended). */
static const char *job_failed_public(dashstate_t *s, json_object *data) {
    char text[WEBGUARD_REASON];
    json_object *idv = jget(data, "job_id"), *stv = jget(data, "status");
    if (!is_num(idv) || !dashstate_job_pending(s, json_object_get_int64(idv))) return NULL;
    bool cancelled = strcmp(jstr(data, "state", "failed"), "cancelled") == 0;
    webguard_failed_reason(is_num(stv) ? json_object_get_int(stv) : 1, text, sizeof text);
    json_object_object_add(data, "state",
                           json_object_new_string(cancelled ? "cancelled" : "failed"));
    json_object_object_add(data, "error", json_object_new_string(cancelled ? "cancelled" : text));
    json_object_object_add(data, "outputs", json_object_new_object());
    json_object_object_del(data, "status");
    return events_name(EV_JOB_DONE);
}

const char *dashstate_public_event(dashstate_t *s, const char *event, json_object *data) {
    json_object *e = NULL;
    char text[WEBGUARD_REASON];
    switch (events_lookup(event)) {
    case EV_JOB_FAILED:
        return job_failed_public(s, data);
    case EV_JOB_DONE:
    case EV_TASK_FAILED:
        if (json_object_object_get_ex(data, "error", &e) &&
            json_object_is_type(e, json_type_string))
            json_object_object_add(data, "error",
                                   json_object_new_string(webguard_public_error(
                                       json_object_get_string(e), text, sizeof text)));
        return event;
    default:
        return event;
    }
}

json_object *dashstate_end_pending(dashstate_t *s, int64_t ts, const char *reason) {
    json_object *ended = json_object_new_array();
    for (size_t i = 0; ended && i < s->njobs; i++) {
        if (!dashstate_job_pending(s, s->jobs[i].id)) continue;
        json_object *d = json_object_new_object();
        if (!d) break;
        json_object_object_add(d, "job_id", json_object_new_int64(s->jobs[i].id));
        json_object_object_add(d, "state", json_object_new_string("failed"));
        json_object_object_add(d, "outputs", json_object_new_object());
        json_object_object_add(d, "error", json_object_new_string(reason));
        json_object_put(apply_job(s, EV_JOB_DONE, ts, d));
        json_object_array_add(ended, d);
    }
    return ended;
}

bool dashstate_job_pending(dashstate_t *s, int64_t id) {
    job_t *j = job_find(s, id);
    if (!j) return true;
    const char *st = jstr(j->sum, "state", "queued");
    return strcmp(st, "queued") == 0 || strcmp(st, "running") == 0;
}

const char *dashstate_job_state(dashstate_t *s, int64_t id) {
    job_t *j = job_find(s, id);
    return j ? jstr(j->sum, "state", "queued") : NULL;
}

/* ---- views ---- */

json_object *dashstate_workers(dashstate_t *s) {
    json_object *arr = json_object_new_array();
    for (size_t i = 0; arr && i < s->nworkers; i++)
        json_object_array_add(arr, json_object_get(s->workers[i].obj));
    return arr;
}

int dashstate_live_workers(dashstate_t *s) {
    int n = 0;
    for (size_t i = 0; i < s->nworkers; i++)
        n += !worker_lost(&s->workers[i]);
    return n;
}

static int by_id_desc(const void *a, const void *b) {
    int64_t x = (*(const job_t *const *)a)->id, y = (*(const job_t *const *)b)->id;
    return x < y ? 1 : x > y ? -1 : 0;
}

json_object *dashstate_jobs(dashstate_t *s) {
    json_object *arr = json_object_new_array();
    job_t **v = s->njobs ? malloc(s->njobs * sizeof(*v)) : NULL;
    if (!arr || (s->njobs && !v)) {
        free(v);
        json_object_put(arr);
        return NULL;
    }
    for (size_t i = 0; i < s->njobs; i++)
        v[i] = &s->jobs[i];
    if (s->njobs) qsort(v, s->njobs, sizeof(*v), by_id_desc);
    for (size_t i = 0; i < s->njobs; i++)
        json_object_array_add(arr, json_object_get(v[i]->sum));
    free(v);
    return arr;
}

json_object *dashstate_job(dashstate_t *s, int64_t id, bool *known) {
    job_t *j = job_find(s, id);
    *known = j != NULL;
    if (!j || !j->timeline) return NULL;
    json_object *o = NULL;
    if (json_object_deep_copy(j->sum, &o, NULL) != 0) return NULL;
    json_object_object_add(o, "iterations", json_object_get(j->iterations));
    json_object_object_add(o, "timeline", json_object_get(j->timeline));
    json_object_object_add(o, "failed", json_object_get(j->failed));
    json_object_object_add(o, "events", json_object_get(j->events));
    json_object_object_add(o, "metrics", json_object_get(j->metrics));
    return o;
}

json_object *dashstate_update_stats(dashstate_t *s, int64_t now_ms) {
    json_object *o = json_object_new_object();
    if (!o) return NULL;
    double cpu = 0, mem = 0, rows = 0;
    int live = 0;
    int64_t cores = 0;
    for (size_t i = 0; i < s->nworkers; i++) {
        worker_t *w = &s->workers[i];
        if (worker_lost(w)) continue;
        live++;
        /* a host's cores once, however many workers it runs */
        bool seen = false;
        const char *host = jstr(w->obj, "host", w->key);
        for (size_t k = 0; k < i && !seen; k++)
            seen = !worker_lost(&s->workers[k]) &&
                   strcmp(jstr(s->workers[k].obj, "host", s->workers[k].key), host) == 0;
        if (!seen) cores += jint(w->obj, "cores", 0);
        cpu += jdbl(w->obj, "cpu", 0);
        mem += jdbl(w->obj, "mem", 0);
        rows += jdbl(w->obj, "rows_per_s", 0);
    }
    job_t *j = s->current >= 0 ? job_find(s, s->current) : NULL;
    json_object_object_add(o, "workers", dashstate_workers(s));
    json_object_object_add(o, "workers_count", json_object_new_int(live));
    json_object_object_add(o, "cores_total", json_object_new_int64(cores));
    json_object_object_add(o, "avg_cpu", json_object_new_double(live ? cpu / live : 0));
    json_object_object_add(o, "avg_memory", json_object_new_double(live ? mem / live : 0));
    json_object_object_add(o, "rows_per_s", json_object_new_double(rows));
    json_object_object_add(o, "job_id", j ? json_object_new_int64(j->id) : NULL);
    json_object_object_add(o, "completed_tasks",
                           json_object_new_int64(j ? jint(j->sum, "done_tasks", 0) : 0));
    json_object_object_add(o, "total_tasks",
                           json_object_new_int64(j ? jint(j->sum, "total_tasks", 0) : 0));
    double elapsed = 0;
    json_object *eta = NULL;
    if (j) {
        const char *st = jstr(j->sum, "state", "");
        int64_t started = jint(j->sum, "started_ms", now_ms);
        if (strcmp(st, "running") == 0) {
            elapsed = (double)(now_ms - started) / 1000.0;
            if (is_num(jget(j->sum, "eta_s")))
                eta = json_object_new_double(jdbl(j->sum, "eta_s", 0));
        } else if (strcmp(st, "queued") != 0) {
            elapsed = jdbl(j->sum, "duration_s",
                           (double)(jint(j->sum, "ended_ms", started) - started) / 1000.0);
        }
    }
    json_object_object_add(o, "elapsed_time", json_object_new_double(elapsed < 0 ? 0 : elapsed));
    json_object_object_add(o, "estimated_completion", eta);
    return o;
}

json_object *dashstate_snapshot(dashstate_t *s, int64_t now_ms) {
    json_object *o = json_object_new_object();
    json_object *cfg = json_object_new_object();
    if (!o || !cfg) {
        json_object_put(o);
        json_object_put(cfg);
        return NULL;
    }
    job_t *j = s->current >= 0 ? job_find(s, s->current) : NULL;
    json_object_object_add(o, "workers", dashstate_workers(s));
    json_object_object_add(o, "job", j ? json_object_get(j->sum) : NULL);
    json_object_object_add(o, "counters", json_object_get(s->counters));
    json_object_object_add(o, "log", json_object_get(s->log));
    json_object_object_add(cfg, "heartbeat_ms", json_object_new_int(s->heartbeat_ms));
    json_object_object_add(cfg, "liveness", json_object_new_int(s->liveness));
    json_object_object_add(o, "config", cfg);
    json_object_object_add(o, "now", json_object_new_int64(now_ms));
    return o;
}

/* ---- Prometheus text ---- */

typedef struct {
    char *buf;
    size_t len, cap;
    bool oom;
} sbuf_t;

static void sb_printf(sbuf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf_t *b, const char *fmt, ...) {
    for (;;) {
        if (b->oom) return;
        va_list ap;
        va_start(ap, fmt);
        size_t room = b->cap - b->len;
        int n = vsnprintf(b->buf ? b->buf + b->len : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = true;
            return;
        }
        if ((size_t)n < room) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = (b->cap ? b->cap * 2 : 4096) + (size_t)n;
        char *nb = realloc(b->buf, cap);
        if (!nb) {
            b->oom = true;
            return;
        }
        b->buf = nb;
        b->cap = cap;
    }
}

/* Label values escape backslash, double quote and newline (exposition format). */
static void sb_label(sbuf_t *b, const char *v) {
    for (; *v; v++) {
        if (*v == '\\')
            sb_printf(b, "\\\\");
        else if (*v == '"')
            sb_printf(b, "\\\"");
        else if (*v == '\n')
            sb_printf(b, "\\n");
        else
            sb_printf(b, "%c", *v);
    }
}

char *dashstate_metrics(dashstate_t *s) {
    static const char *const states[] = {"idle", "busy", "paused", "lost"};
    static const char *const results[] = {"done", "failed", "retried", "speculative"};
    sbuf_t b = {0};
    int count[4] = {0};
    for (size_t i = 0; i < s->nworkers; i++) {
        const char *st = jstr(s->workers[i].obj, "state", "idle");
        for (int k = 0; k < 4; k++)
            if (strcmp(st, states[k]) == 0) count[k]++;
    }
    sb_printf(&b, "# HELP netcompute_workers Workers known to the master, by state.\n"
                  "# TYPE netcompute_workers gauge\n");
    for (int k = 0; k < 4; k++)
        sb_printf(&b, "netcompute_workers{state=\"%s\"} %d\n", states[k], count[k]);

    json_object *tasks = jget(s->counters, "tasks");
    sb_printf(&b, "# HELP netcompute_tasks_total Tasks finished, by result.\n"
                  "# TYPE netcompute_tasks_total counter\n");
    for (int k = 0; k < 4; k++)
        sb_printf(&b, "netcompute_tasks_total{result=\"%s\"} %lld\n", results[k],
                  (long long)jint(tasks, results[k], 0));

    sb_printf(&b,
              "# HELP netcompute_rows_processed_total Data rows processed by workers.\n"
              "# TYPE netcompute_rows_processed_total counter\n"
              "netcompute_rows_processed_total %lld\n",
              (long long)jint(s->counters, "rows_processed", 0));

    sb_printf(&b, "# HELP netcompute_worker_cpu_ratio CPU use of each worker's machine (0..1).\n"
                  "# TYPE netcompute_worker_cpu_ratio gauge\n");
    for (size_t i = 0; i < s->nworkers; i++) {
        worker_t *w = &s->workers[i];
        if (worker_lost(w)) continue;
        sb_printf(&b, "netcompute_worker_cpu_ratio{worker=\"");
        sb_label(&b, jstr(w->obj, "name", w->key));
        sb_printf(&b, "\"} %.4f\n", jdbl(w->obj, "cpu", 0) / 100.0);
    }

    sb_printf(&b, "# HELP netcompute_messages_dropped_total Malformed or stale messages dropped.\n"
                  "# TYPE netcompute_messages_dropped_total counter\n");
    json_object *dropped = jget(s->counters, "messages_dropped");
    bool any = false;
    if (dropped && json_object_is_type(dropped, json_type_object)) {
        json_object_object_foreach(dropped, kind, val) {
            if (!is_num(val)) continue;
            any = true;
            sb_printf(&b, "netcompute_messages_dropped_total{kind=\"");
            sb_label(&b, kind);
            sb_printf(&b, "\"} %lld\n", (long long)json_object_get_int64(val));
        }
    }
    if (!any) sb_printf(&b, "netcompute_messages_dropped_total{kind=\"any\"} 0\n");

    /* the most recently finished job's duration */
    job_t *last = NULL;
    for (size_t i = 0; i < s->njobs; i++) {
        job_t *j = &s->jobs[i];
        if (is_num(jget(j->sum, "duration_s")) && (!last || j->id > last->id)) last = j;
    }
    sb_printf(&b, "# HELP netcompute_job_duration_seconds Duration of the last finished job.\n"
                  "# TYPE netcompute_job_duration_seconds gauge\n");
    if (last)
        sb_printf(&b, "netcompute_job_duration_seconds %.3f\n", jdbl(last->sum, "duration_s", 0));
    if (b.oom) {
        free(b.buf);
        return NULL;
    }
    return b.buf;
}
