/* dashboard: start and stop, the libwebsockets context and its callback. See dashboard.h.
 *
 * The pieces, each with its header as the manual: dashctx.h (what the
 * threads share), ring.h (frames kept for browsers), evthread.h (the event
 * thread), ws.h (websocket and Socket.IO sessions), http.h (HTTP answers and
 * static files), rest.h (routes and the job-submit relay). This file starts
 * them in order, hands every lws callback to the one that owns it, and
 * stops them.
 */
#include "dashboard/dashboard.h"

#include "common/clock.h"
#include "common/errbuf.h"
#include "common/events.h"
#include "common/log.h"
#include "dashboard/dashctx.h"
#include "dashboard/evthread.h"
#include "dashboard/http.h"
#include "dashboard/rest.h"
#include "dashboard/ws.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zmq.h>

/* A job the history file shows queued or running belonged to a master that
 * stopped before it ended: it ends "failed" now, in memory and in the file. */
static int end_interrupted_jobs(dashboard_t *d, char *err, size_t errlen) {
    json_object *ended = dashstate_end_pending(
        d->state, clock_wall_ms(), "interrupted: the master stopped before the job ended");
    int rc = ended ? 0 : errbuf_set(err, errlen, "out of memory");
    for (size_t i = 0; rc == 0 && i < json_object_array_length(ended); i++)
        rc = history_record(d->writer, events_name(EV_JOB_DONE), clock_wall_ms(),
                            json_object_array_get_idx(ended, i), err, errlen);
    json_object_put(ended);
    return rc == 0 ? history_flush(d->writer, err, errlen) : -1;
}

/* lws reports a failed bind only as a failed context; try it ourselves first
 * to tell the user which port is taken. */
static int probe_port(const char *host, int port, char *err, size_t errlen) {
    struct addrinfo hints, *ai = NULL;
    char service[16];
    int rc = -1, fd = -1, one = 1;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    snprintf(service, sizeof(service), "%d", port);
    int g = getaddrinfo(host && *host ? host : NULL, service, &hints, &ai);
    if (g != 0) {
        errbuf_set(err, errlen, "dashboard.host '%s': %s", host, gai_strerror(g));
        goto out;
    }
    fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0) {
        errbuf_set(err, errlen, "dashboard: socket: %s", strerror(errno));
        goto out;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        if (errno == EADDRINUSE)
            errbuf_set(err, errlen,
                       "dashboard port %d on %s is already in use (another master running? set "
                       "dashboard.port or use --no-dashboard)",
                       port, host);
        else
            errbuf_set(err, errlen, "dashboard cannot listen on %s:%d: %s", host, port,
                       strerror(errno));
        goto out;
    }
    rc = 0;
out:
    if (fd >= 0) close(fd);
    if (ai) freeaddrinfo(ai);
    return rc;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len) {
    struct lws_context *ctx = lws_get_context(wsi);
    dashboard_t *d = ctx ? lws_context_user(ctx) : NULL;
    pss_t *p = user;
    if (!d) return lws_callback_http_dummy(wsi, reason, user, in, len);
    switch (reason) {
    case LWS_CALLBACK_HTTP:
        return rest_request(d, wsi, p, in ? (const char *)in : "/");
    case LWS_CALLBACK_HTTP_BODY:
        return http_body(p, in, len);
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        return rest_body_done(d, wsi, p);
    case LWS_CALLBACK_HTTP_WRITEABLE:
        if (p && p->resp) return http_writeable(wsi, p);
        break;
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        if (p && !p->is_ws) http_release(p);
        break;
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return ws_url_ok(wsi) ? 0 : 1;
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
        return ws_confirm_upgrade(d, wsi);
    case LWS_CALLBACK_ESTABLISHED:
        return ws_established(d, wsi, p);
    case LWS_CALLBACK_RECEIVE:
        return ws_receive(d, wsi, p, in, len);
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return ws_writeable(d, wsi, p);
    case LWS_CALLBACK_CLOSED:
        if (p && p->is_ws) ws_release(d, p);
        break;
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        if (!atomic_load(&d->stop)) ws_wake(d);
        break;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static void *lws_main(void *arg) {
    dashboard_t *d = arg;
    while (!atomic_load(&d->stop))
        if (lws_service(d->lws, 0) < 0) break;
    return NULL;
}

/* Opens the history (writer and reader), loads its jobs into the state and
 * ends those a stopped master left pending; prunes old samples. */
static int open_history(dashboard_t *d, char *err, size_t errlen) {
    const config_t *cfg = &d->cfg;
    d->writer = history_open(cfg->history.db, cfg->history.retention_days, false, err, errlen);
    if (!d->writer) return -1;
    json_object *jobs = history_jobs(d->writer, DASHSTATE_MAX_JOBS, err, errlen);
    if (!jobs) return -1;
    dashstate_load_jobs(d->state, jobs);
    json_object_put(jobs);
    if (end_interrupted_jobs(d, err, errlen) != 0) return -1;
    if (history_prune(d->writer, clock_wall_ms(), err, errlen) < 0) return -1;
    d->reader = history_open(cfg->history.db, cfg->history.retention_days, true, err, errlen);
    return d->reader ? 0 : -1;
}

/* The request policy: web root, files root, and the token (like Jupyter: a
 * dashboard others can reach never runs without one). */
static int setup_guard(dashboard_t *d, char *err, size_t errlen) {
    const char *host = d->cfg.dashboard.host;
    http_find_webroot(d);
    d->has_files = http_real_dir(d->cfg.dashboard.files, d->files_root);
    if (!d->has_files)
        log_warn("dashboard: dashboard.files '%s' is not a folder: jobs cannot be submitted over "
                 "HTTP",
                 d->cfg.dashboard.files);
    if (!webguard_is_loopback(host) && !d->cfg.dashboard.token[0]) {
        if (webguard_random_token(d->cfg.dashboard.token, sizeof d->cfg.dashboard.token, 24) != 0)
            return errbuf_set(err, errlen,
                              "dashboard: no randomness for a token (set dashboard.token)");
        d->token_generated = true;
    }
    webguard_init(&d->guard, host, d->cfg.dashboard.port, d->cfg.dashboard.token);
    if (!*host || strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0)
        webguard_add_local_names(&d->guard);
    return 0;
}

static const struct lws_protocol_vhost_options pvo_default = {NULL, NULL, "default", "1"};
static const struct lws_protocol_vhost_options pvo = {NULL, &pvo_default, "netcompute", ""};

/* The lws context on dashboard.host:dashboard.port (its thread starts later). */
static int create_lws(dashboard_t *d, char *err, size_t errlen) {
    const char *host = d->cfg.dashboard.host;
    if (probe_port(host, d->cfg.dashboard.port, err, errlen) != 0) return -1;
    lws_set_log_level(LLL_ERR, NULL);
    d->protocols[0].name = "netcompute";
    d->protocols[0].callback = callback;
    d->protocols[0].per_session_data_size = sizeof(pss_t);
    d->protocols[0].rx_buffer_size = 0;
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof(info));
    info.port = d->cfg.dashboard.port;
    if (strcmp(host, "localhost") == 0)
        info.iface = "127.0.0.1";
    else if (*host && strcmp(host, "0.0.0.0") != 0 && strcmp(host, "::") != 0)
        info.iface = host;
    info.protocols = d->protocols;
    info.pvo = &pvo;
    info.user = d;
    info.vhost_name = "netcompute";
    d->lws = lws_create_context(&info);
    if (!d->lws)
        return errbuf_set(err, errlen,
                          "dashboard cannot listen on %s:%d (libwebsockets failed to start)", host,
                          d->cfg.dashboard.port);
    return 0;
}

dashboard_t *dashboard_start(void *zmq_ctx, const config_t *cfg, const char *events_endpoint,
                             const char *commands_endpoint, char *err, size_t errlen) {
    dashboard_t *d = calloc(1, sizeof(*d));
    if (!d) {
        errbuf_set(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&d->lock, NULL);
    d->zctx = zmq_ctx;
    d->cfg = *cfg;
    d->start_ms = clock_now_ms();
    if (!events_endpoint || strlen(events_endpoint) >= sizeof(d->events_ep) ||
        (commands_endpoint && strlen(commands_endpoint) >= sizeof(d->commands_ep))) {
        errbuf_set(err, errlen, "dashboard: endpoint missing or too long");
        goto fail;
    }
    strcpy(d->events_ep, events_endpoint);
    if (commands_endpoint) {
        strcpy(d->commands_ep, commands_endpoint);
        d->serve = true;
    }
    if (!(d->state = dashstate_new(cfg->cluster.heartbeat_ms, cfg->cluster.liveness))) {
        errbuf_set(err, errlen, "out of memory");
        goto fail;
    }
    if (setup_guard(d, err, errlen) != 0 || open_history(d, err, errlen) != 0 ||
        evthread_open(d, err, errlen) != 0 || create_lws(d, err, errlen) != 0 ||
        evthread_start(d, err, errlen) != 0)
        goto fail;
    if (pthread_create(&d->lws_thr, NULL, lws_main, d) != 0) {
        errbuf_set(err, errlen, "dashboard: cannot start a thread");
        goto fail;
    }
    d->lws_running = true;
    log_info("dashboard on http://%s:%d/", *cfg->dashboard.host ? cfg->dashboard.host : "0.0.0.0",
             cfg->dashboard.port);
    return d;
fail:
    dashboard_stop(&d);
    return NULL;
}

int dashboard_token_url(const dashboard_t *d, char *buf, size_t len) {
    char name[256] = "127.0.0.1";
    const char *host = d ? d->cfg.dashboard.host : "";
    if (!d || !d->token_generated) return -1;
    if (*host && strcmp(host, "0.0.0.0") != 0 && strcmp(host, "::") != 0)
        snprintf(name, sizeof name, "%s", host);
    else if (gethostname(name, sizeof name) != 0)
        snprintf(name, sizeof name, "127.0.0.1");
    name[sizeof name - 1] = '\0';
    snprintf(buf, len, "http://%s%s%s:%d/?token=%s", strchr(name, ':') ? "[" : "", name,
             strchr(name, ':') ? "]" : "", d->cfg.dashboard.port, d->cfg.dashboard.token);
    return 0;
}

int dashboard_port(const dashboard_t *d) {
    return d ? d->cfg.dashboard.port : -1;
}

void dashboard_stop(dashboard_t **dp) {
    dashboard_t *d = dp ? *dp : NULL;
    if (!d) return;
    atomic_store(&d->stop, 1);
    if (d->lws) lws_cancel_service(d->lws);
    if (d->lws_running) pthread_join(d->lws_thr, NULL);
    evthread_stop(d);
    if (d->lws)
        lws_context_destroy(d->lws); /* closes connections: their pss are released in CLOSED */
    if (d->req) zmq_close(d->req);
    history_close(&d->reader);
    history_close(&d->writer);
    dashstate_destroy(&d->state);
    ring_clear(&d->ring);
    pthread_mutex_destroy(&d->lock);
    free(d);
    *dp = NULL;
}
