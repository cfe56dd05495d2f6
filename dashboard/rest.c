/* rest: HTTP routes and the job-submit relay. See rest.h. */
#include "dashboard/rest.h"

#include "common/jsonx.h"
#include "common/clock.h"
#include "common/events.h"
#include "common/log.h"
#include "dashboard/dashctx.h"
#include "dashboard/datafiles.h"
#include "dashboard/http.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#define REQ_TIMEOUT_MS 5000

static int api_job(dashboard_t *d, struct lws *wsi, pss_t *p, int64_t id) {
    char err[256];
    bool known = false;
    int rc;
    pthread_mutex_lock(&d->lock);
    json_object *o = dashstate_job(d->state, id, &known);
    if (o) {
        pthread_mutex_unlock(&d->lock);
        /* the live summary, plus the run's options from the history */
        json_object *run = d->reader ? history_run(d->reader, id, err, sizeof err) : NULL, *v;
        if (run && json_object_object_get_ex(run, "params", &v))
            json_object_object_add(o, "params", json_object_get(v));
        json_object_put(run);
        pthread_mutex_lock(&d->lock);
        rc = http_respond_json(wsi, p, 200, o);
        json_object_put(o);
        pthread_mutex_unlock(&d->lock);
        return rc;
    }
    pthread_mutex_unlock(&d->lock);
    o = d->reader ? history_job(d->reader, id, err, sizeof(err)) : NULL;
    if (!o) {
        if (d->reader && err[0]) return http_respond_error(wsi, p, 500, "%s", err);
        return http_respond_error(wsi, p, 404, "no job %lld", (long long)id);
    }
    rc = http_respond_json(wsi, p, 200, o);
    json_object_put(o);
    return rc;
}

/* GET /api/jobs/ID/files/NAME: a file of run ID's folder. The name is one
 * of the run files (webguard_run_file); the run's folder and the file are
 * opened without following a symbolic link, must be a folder and a regular
 * file, and the file served is the one opened (/proc/self/fd). */
static int api_job_file(dashboard_t *d, struct lws *wsi, pss_t *p, int64_t id, const char *name) {
    char idtext[24], fdpath[64], hdr[128];
    int root = -1, dir = -1, fd = -1, rc;
    struct stat st;
    snprintf(idtext, sizeof idtext, "%lld", (long long)id);
    root = open(d->cfg.runs.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root >= 0) dir = openat(root, idtext, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dir >= 0) fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    int why = errno;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = fd >= 0 || why == ELOOP || why == ENOTDIR
                 ? http_respond_error(wsi, p, 403, "run %lld: %s is not a file of its folder",
                                      (long long)id, name)
                 : http_respond_error(wsi, p, 404, "run %lld has no file %s", (long long)id, name);
        goto out;
    }
    snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%d", fd);
    snprintf(hdr, sizeof hdr, "Content-Disposition: attachment; filename=\"%lld-%s\"\r\n",
             (long long)id, name);
    size_t nl = strlen(name);
    const char *mime = nl > 5 && strcmp(name + nl - 5, ".json") == 0 ? "application/json"
                                                                     : "application/octet-stream";
    int n = lws_serve_http_file(wsi, fdpath, mime, hdr, (int)strlen(hdr));
    rc = n < 0 || (n > 0 && lws_http_transaction_completed(wsi)) ? -1 : 0;
out:
    if (fd >= 0) close(fd);
    if (dir >= 0) close(dir);
    if (root >= 0) close(root);
    return rc;
}

/* Adds run r's value of key in section (params or metrics; the run itself
 * for metrics' accuracy when it has no metrics) to table[key][i]. */
static void compare_add(json_object *table, json_object *section, size_t i, size_t n) {
    if (!section || !json_object_is_type(section, json_type_object)) return;
    json_object_object_foreach(section, key, val) {
        if (val && (json_object_is_type(val, json_type_object) ||
                    json_object_is_type(val, json_type_array)))
            continue; /* per-class tables and matrices stay in the runs themselves */
        json_object *row = NULL;
        if (!json_object_object_get_ex(table, key, &row)) {
            row = json_object_new_array_ext((int)n);
            for (size_t k = 0; row && k < n; k++)
                json_object_array_add(row, NULL);
            if (!row) continue;
            json_object_object_add(table, key, row);
        }
        json_object_array_put_idx(row, i, json_object_get(val));
    }
}

/* GET /api/jobs?compare=ID,ID,...: the runs side by side: {ids, runs,
 * params: {key: [value per run]}, metrics: {key: [value per run]}}. */
static int api_compare(dashboard_t *d, struct lws *wsi, pss_t *p, const char *list) {
    int64_t ids[16];
    size_t n = 0;
    char err[256], item[24];
    const char *s = list;
    while (*s) {
        size_t len = strcspn(s, ",");
        if (n == 16 || len == 0 || len >= sizeof item)
            return http_respond_error(wsi, p, 400, "compare takes 1 to 16 run ids: ID,ID,...");
        memcpy(item, s, len);
        item[len] = '\0';
        if (!webguard_parse_id(item, &ids[n++]))
            return http_respond_error(wsi, p, 400, "compare: run ids are numbers");
        s += len + (s[len] == ',');
    }
    if (n == 0) return http_respond_error(wsi, p, 400, "compare takes 1 to 16 run ids: ID,ID,...");
    if (!d->reader) return http_respond_error(wsi, p, 503, "history not available");
    json_object *o = json_object_new_object(), *runs = json_object_new_array(),
                *params = json_object_new_object(), *metrics = json_object_new_object(),
                *idv = json_object_new_array();
    int rc;
    if (!o || !runs || !params || !metrics || !idv) {
        json_object_put(runs), json_object_put(params), json_object_put(metrics);
        json_object_put(idv), json_object_put(o);
        return -1;
    }
    json_object_object_add(o, "ids", idv);
    json_object_object_add(o, "runs", runs);
    json_object_object_add(o, "params", params);
    json_object_object_add(o, "metrics", metrics);
    for (size_t i = 0; i < n; i++) {
        json_object *r = history_run(d->reader, ids[i], err, sizeof err), *v = NULL;
        if (!r) {
            json_object_put(o);
            return err[0] ? http_respond_error(wsi, p, 500, "%s", err)
                          : http_respond_error(wsi, p, 404, "no run %lld", (long long)ids[i]);
        }
        json_object_array_add(idv, json_object_new_int64(ids[i]));
        json_object_array_add(runs, r);
        if (json_object_object_get_ex(r, "params", &v)) compare_add(params, v, i, n);
        if (json_object_object_get_ex(r, "metrics", &v) && v)
            compare_add(metrics, v, i, n);
        else if (json_object_object_get_ex(r, "accuracy", &v) && v) {
            json_object *acc = json_object_new_object();
            json_object_object_add(acc, "accuracy", json_object_get(v));
            compare_add(metrics, acc, i, n);
            json_object_put(acc);
        }
    }
    rc = http_respond_json(wsi, p, 200, o);
    json_object_put(o);
    return rc;
}

static int api_history(dashboard_t *d, struct lws *wsi, pss_t *p) {
    char metric[32] = "cpu", worker[256], num[64], err[256];
    const char *v;
    char buf[300];
    int64_t since = clock_wall_ms() - 3600 * 1000, step = 5000;
    if ((v = lws_get_urlarg_by_name(wsi, "metric=", buf, sizeof(buf))))
        snprintf(metric, sizeof(metric), "%s", v);
    bool has_worker = false;
    if ((v = lws_get_urlarg_by_name(wsi, "worker=", buf, sizeof(buf))) && *v) {
        snprintf(worker, sizeof(worker), "%s", v);
        has_worker = true;
    }
    if ((v = lws_get_urlarg_by_name(wsi, "since=", num, sizeof(num))) &&
        !webguard_parse_id(v, &since))
        return http_respond_error(wsi, p, 400, "since must be wall-clock milliseconds");
    if ((v = lws_get_urlarg_by_name(wsi, "step=", num, sizeof(num))) &&
        !webguard_parse_id(v, &step))
        return http_respond_error(wsi, p, 400, "step must be milliseconds");
    if (!d->reader) return http_respond_error(wsi, p, 503, "history not available");
    json_object *o = history_series(d->reader, metric, has_worker ? worker : NULL, since, step, err,
                                    sizeof(err));
    if (!o) return http_respond_error(wsi, p, strstr(err, "unknown metric") ? 400 : 500, "%s", err);
    int rc = http_respond_json(wsi, p, 200, o);
    json_object_put(o);
    return rc;
}

static int api_health(dashboard_t *d, struct lws *wsi, pss_t *p) {
    json_object *o = json_object_new_object();
    if (!o) return -1;
    pthread_mutex_lock(&d->lock);
    int workers = dashstate_live_workers(d->state);
    pthread_mutex_unlock(&d->lock);
    json_object_object_add(o, "status", json_object_new_string("ok"));
    json_object_object_add(o, "version", json_object_new_string(DASHBOARD_VERSION));
    json_object_object_add(o, "uptime_s",
                           json_object_new_int64((clock_now_ms() - d->start_ms) / 1000));
    json_object_object_add(o, "workers", json_object_new_int(workers));
    int rc = http_respond_json(wsi, p, 200, o);
    json_object_put(o);
    return rc;
}

/* /api/workers and /api/jobs: the state's lists. */
static int api_list(dashboard_t *d, struct lws *wsi, pss_t *p, bool workers) {
    pthread_mutex_lock(&d->lock);
    json_object *o = workers ? dashstate_workers(d->state) : dashstate_jobs(d->state);
    int rc = o ? http_respond_json(wsi, p, 200, o) : -1;
    json_object_put(o);
    pthread_mutex_unlock(&d->lock);
    return rc;
}

static int api_metrics(dashboard_t *d, struct lws *wsi, pss_t *p) {
    pthread_mutex_lock(&d->lock);
    char *text = dashstate_metrics(d->state);
    pthread_mutex_unlock(&d->lock);
    if (!text) return -1;
    int rc =
        http_respond(wsi, p, 200, "text/plain; version=0.0.4; charset=utf-8", text, strlen(text));
    free(text);
    return rc;
}

/* Closes the REQ socket: the next submission opens a fresh one. */
static void req_reset(dashboard_t *d) {
    if (d->req) zmq_close(d->req);
    d->req = NULL;
}

/* Sends text to the master and waits at most REQ_TIMEOUT_MS for its reply.
 * Returns the reply (a JSON object, caller puts), or NULL with *status and
 * why (the answer to give the browser). */
static json_object *relay(dashboard_t *d, const char *text, size_t len, unsigned *status, char *why,
                          size_t whylen) {
    int linger = 0;
    json_object *reply = NULL;
    *status = 503;
    if (!d->req && (!(d->req = zmq_socket(d->zctx, ZMQ_REQ)) ||
                    zmq_setsockopt(d->req, ZMQ_LINGER, &linger, sizeof(linger)) ||
                    zmq_connect(d->req, d->commands_ep))) {
        snprintf(why, whylen, "cannot reach the master: %s", zmq_strerror(zmq_errno()));
        req_reset(d);
        return NULL;
    }
    if (zmq_send(d->req, text, len, 0) < 0) {
        snprintf(why, whylen, "cannot reach the master: %s", zmq_strerror(zmq_errno()));
        req_reset(d);
        return NULL;
    }
    zmq_pollitem_t it = {d->req, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&it, 1, REQ_TIMEOUT_MS) <= 0) {
        snprintf(why, whylen, "the master did not answer within %d s", REQ_TIMEOUT_MS / 1000);
        req_reset(d);
        return NULL;
    }
    zmq_msg_t m;
    zmq_msg_init(&m);
    *status = 502;
    snprintf(why, whylen, "bad reply from the master");
    if (zmq_msg_recv(&m, d->req, 0) < 0 || zmq_msg_size(&m) > MAX_POST_BODY) {
        zmq_msg_close(&m);
        req_reset(d);
        return NULL;
    }
    reply = jsonx_parse_object(zmq_msg_data(&m), zmq_msg_size(&m), NULL, NULL, 0);
    zmq_msg_close(&m);
    return reply;
}

/* GET /api/files: the data files under dashboard.files (datafiles.h), not
 * descending into the runs folder. */
static int api_files(dashboard_t *d, struct lws *wsi, pss_t *p) {
    char err[256], runs[PATH_MAX];
    bool truncated = false;
    if (!d->has_files)
        return http_respond_error(wsi, p, 503, "dashboard.files '%.200s' is not a folder",
                                  d->cfg.dashboard.files);
    const char *skip = realpath(d->cfg.runs.dir, runs) ? runs : NULL;
    json_object *o =
        datafiles_list(d->files_root, skip, DATAFILES_MAX, &truncated, err, sizeof err);
    if (!o) return http_respond_error(wsi, p, 500, "%s", err);
    if (truncated)
        log_every(60, LOG_WARN,
                  "GET /api/files: more than %d data files under %s, listed the first",
                  DATAFILES_MAX, d->cfg.dashboard.files);
    int rc = http_respond_json(wsi, p, 200, o);
    json_object_put(o);
    return rc;
}

/* The master accepted job id: it shows queued to every browser. */
static void push_queued(dashboard_t *d, int64_t id, json_object *req) {
    pthread_mutex_lock(&d->lock);
    json_object *fwd = dashstate_job_queued(d->state, id, req, clock_wall_ms());
    if (fwd) {
        ring_push_event(&d->ring, events_name(EV_JOB_QUEUED), fwd);
        json_object_put(fwd);
    }
    pthread_mutex_unlock(&d->lock);
    lws_callback_on_writable_all_protocol(d->lws, &d->protocols[0]);
}

/* Relays a job request to the master: {"id": N} -> 200, {"error", "status":
 * S} -> S (default 400). */
static int post_job(dashboard_t *d, struct lws *wsi, pss_t *p) {
    char why[WEBGUARD_REASON];
    const char *const defaults[5] = {d->cfg.data.train, d->cfg.data.test, d->cfg.model.file,
                                     d->cfg.output.train, d->cfg.output.test};
    unsigned status = 0;
    size_t len = 0;
    json_object *reply = NULL, *v;
    int rc = -1;
    if (!d->has_files)
        return http_respond_error(wsi, p, 503, "dashboard.files '%.200s' is not a folder",
                                  d->cfg.dashboard.files);
    /* paths are checked, and made real and absolute, before the master sees them */
    json_object *req =
        webguard_job(d->files_root, defaults, p->body, p->body_len, &status, why, sizeof why);
    if (!req) return http_respond_error(wsi, p, status, "%s", why);
    const char *text = json_object_to_json_string_length(req, JSON_C_TO_STRING_PLAIN, &len);
    if (!text) goto out;
    if (!(reply = relay(d, text, len, &status, why, sizeof why))) {
        rc = http_respond_error(wsi, p, status, "%s", why);
        goto out;
    }
    if (json_object_object_get_ex(reply, "id", &v) && json_object_is_type(v, json_type_int)) {
        push_queued(d, json_object_get_int64(v), req);
        rc = http_respond_json(wsi, p, 200, reply);
        goto out;
    }
    status = 400;
    if (json_object_object_get_ex(reply, "status", &v) && json_object_is_type(v, json_type_int) &&
        json_object_get_int(v) >= 400 && json_object_get_int(v) <= 599)
        status = (unsigned int)json_object_get_int(v);
    rc = http_respond_json(wsi, p, status, reply);
out:
    json_object_put(req);
    json_object_put(reply);
    return rc;
}

/* POST /api/jobs/ID/cancel: relayed to the master as {"cancel": ID}. Its
 * 409 (neither queued nor running there) is a 404 for a job nobody knows. */
static int post_cancel(dashboard_t *d, struct lws *wsi, pss_t *p, int64_t id) {
    char why[WEBGUARD_REASON], err[256];
    unsigned status = 0;
    json_object *v;
    pthread_mutex_lock(&d->lock);
    const char *st = dashstate_job_state(d->state, id);
    char state[16] = "";
    if (st) snprintf(state, sizeof state, "%s", st);
    pthread_mutex_unlock(&d->lock);
    if (!state[0] && d->reader) {
        json_object *run = history_run(d->reader, id, err, sizeof err);
        if (run && json_object_object_get_ex(run, "state", &v) &&
            json_object_is_type(v, json_type_string))
            snprintf(state, sizeof state, "%s", json_object_get_string(v));
        json_object_put(run);
    }
    if (!state[0]) return http_respond_error(wsi, p, 404, "no job %lld", (long long)id);
    if (strcmp(state, "queued") != 0 && strcmp(state, "running") != 0)
        return http_respond_error(wsi, p, 409, "job %lld already ended (%s)", (long long)id, state);
    if (!d->serve)
        return http_respond_error(wsi, p, 503,
                                  "cancelling needs a master that stays up (serve, "
                                  "--keep-running)");
    char text[64];
    int len = snprintf(text, sizeof text, "{\"cancel\":%lld}", (long long)id);
    json_object *reply = relay(d, text, (size_t)len, &status, why, sizeof why);
    if (!reply) return http_respond_error(wsi, p, status, "%s", why);
    status = 200;
    if (json_object_object_get_ex(reply, "status", &v) && json_object_is_type(v, json_type_int) &&
        json_object_get_int(v) >= 400 && json_object_get_int(v) <= 599)
        status = (unsigned)json_object_get_int(v);
    if (status == 200) json_object_object_del(reply, "status");
    int rc = http_respond_json(wsi, p, status, reply);
    json_object_put(reply);
    return rc;
}

/* A request webguard refused. A POST's body is read and dropped before the
 * answer, so that the connection stays usable (keep-alive clients reuse it);
 * a body too large to read poisons it: answer, then close. */
static int refuse(struct lws *wsi, pss_t *p, bool post, long clen, const webguard_verdict_t *v) {
    if (post && clen > 0 && clen <= MAX_POST_BODY) {
        p->in_post = true;
        p->refused = v->status;
        snprintf(p->refused_why, sizeof p->refused_why, "%s", v->reason);
        return 0;
    }
    p->close_after = post && clen > 0;
    return http_respond_error(wsi, p, v->status, "%s", v->reason);
}

static int start_submit(dashboard_t *d, struct lws *wsi, pss_t *p, long clen) {
    if (clen > MAX_POST_BODY) {
        p->close_after = true;
        return http_respond_error(wsi, p, 413, "request body larger than %d bytes", MAX_POST_BODY);
    }
    if (clen <= 0) {
        if (!d->serve)
            return http_respond_error(wsi, p, 503, "job submission needs `bin/master serve`");
        return http_respond_error(wsi, p, 400, "empty body");
    }
    p->in_post = true;
    return 0; /* the body arrives in LWS_CALLBACK_HTTP_BODY */
}

int rest_request(dashboard_t *d, struct lws *wsi, pss_t *p, const char *path) {
    http_hdrs_t h = {0};
    webguard_verdict_t v;
    char cl[32];
    http_release(p);
    bool post = lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0;
    int n = lws_hdr_copy(wsi, cl, sizeof(cl), WSI_TOKEN_HTTP_CONTENT_LENGTH);
    long clen = n > 0 ? strtol(cl, NULL, 10) : 0;
    if (http_guard(d, wsi, path, false, &h, &v) != 0) return refuse(wsi, p, post, clen, &v);
    switch (v.route) {
    case WG_ROUTE_SUBMIT:
        return start_submit(d, wsi, p, clen);
    case WG_ROUTE_CANCEL:
        if (clen > 4096) {
            p->close_after = true;
            return http_respond_error(wsi, p, 413, "a cancel takes no body");
        }
        if (clen <= 0) return post_cancel(d, wsi, p, v.job_id);
        p->in_post = true; /* a body ("{}") is read and ignored */
        p->cancel_id = v.job_id;
        return 0;
    case WG_ROUTE_FILES:
        return api_files(d, wsi, p);
    case WG_ROUTE_HEALTH:
        return api_health(d, wsi, p);
    case WG_ROUTE_JOBS: {
        char buf[400];
        const char *list = lws_get_urlarg_by_name(wsi, "compare=", buf, sizeof buf);
        if (list) return api_compare(d, wsi, p, list);
        return api_list(d, wsi, p, false);
    }
    case WG_ROUTE_WORKERS:
        return api_list(d, wsi, p, true);
    case WG_ROUTE_JOB:
        return api_job(d, wsi, p, v.job_id);
    case WG_ROUTE_JOB_FILE:
        return api_job_file(d, wsi, p, v.job_id, v.file);
    case WG_ROUTE_HISTORY:
        return api_history(d, wsi, p);
    case WG_ROUTE_METRICS:
        return api_metrics(d, wsi, p);
    case WG_ROUTE_SOCKETIO:
        /* what a Socket.IO server says to a transport it does not offer (polling) */
        return http_respond(wsi, p, 400, "application/json",
                            "{\"code\":0,\"message\":\"Transport unknown\"}", 40);
    default:
        return http_static(d, wsi, p, path);
    }
}

int rest_body_done(dashboard_t *d, struct lws *wsi, pss_t *p) {
    if (!p->in_post)
        return p->resp || p->close_after ? 0 : http_respond_error(wsi, p, 400, "unexpected body");
    p->in_post = false;
    if (p->refused) return http_respond_error(wsi, p, p->refused, "%s", p->refused_why);
    if (p->body_too_big)
        return http_respond_error(wsi, p, 413, "request body larger than %d bytes", MAX_POST_BODY);
    if (p->cancel_id > 0) {
        int64_t id = p->cancel_id;
        p->cancel_id = 0;
        return post_cancel(d, wsi, p, id);
    }
    if (!d->serve)
        return http_respond_error(wsi, p, 503, "job submission needs `bin/master serve`");
    return post_job(d, wsi, p);
}
