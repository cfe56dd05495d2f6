/* dashboard: HTTP + Socket.IO server thread and event/history thread. See dashboard.h.
 *
 * Threads and what they own:
 *   lws thread:   the libwebsockets context and every connection, the REQ
 *                 socket to the master (serve mode) and a readonly history
 *                 handle for REST reads.
 *   event thread: the SUB socket on the master's event stream and the history
 *                 writer.
 * They share the state (dashstate) and a ring of outgoing Socket.IO frames
 * under one mutex. The event thread wakes the lws thread with
 * lws_cancel_service() (lws 4.1.6 has no external poll to share with
 * ZeroMQ); the lws thread then asks for WRITEABLE on every websocket and
 * each client copies the next frame past its own tail.
 */
#include "dashboard/dashboard.h"

#include "common/errbuf.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/utf8.h"
#include "dashboard/dashstate.h"
#include "dashboard/history.h"
#include "dashboard/sio.h"
#include "dashboard/webguard.h"

#include <errno.h>
#include <json-c/json.h>
#include <libwebsockets.h>
#include <limits.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#define PING_INTERVAL_MS 25000
#define PING_TIMEOUT_MS 20000
#define MAX_WS_MESSAGE (64 * 1024)   /* browsers only send pongs and connects */
#define MAX_POST_BODY (64 * 1024)
#define MAX_EVENT_BYTES (4 << 20)     /* one event from the master */
#define REQ_TIMEOUT_MS 5000
#define FLUSH_MS 500
#define PRUNE_MS (3600 * 1000)
#define HTTP_CHUNK 16384
#define PRIVATE_QUEUE_MAX 64          /* per-client frames not from the ring (pings, snapshot) */

typedef struct frame {
    struct frame *next;
    size_t len;
    unsigned char buf[]; /* LWS_PRE bytes of headroom, then len bytes */
} frame_t;

/* Per-connection data; lws allocates it zeroed for each connection. */
typedef struct pss {
    /* websocket */
    struct pss *next;
    struct lws *wsi;
    bool is_ws, sio_connected, closing;
    uint64_t tail;
    frame_t *q_head, *q_tail;
    int q_len;
    int64_t next_ping_ms, pong_deadline_ms;
    char *rx;
    size_t rx_len;
    unsigned char *scratch;
    size_t scratch_cap;
    char sid[32];
    bool ws_authed;         /* a valid bearer token came with the upgrade */
    bool close_when_flushed; /* refused: send what is queued, then close */
    /* http */
    unsigned char *resp; /* LWS_PRE headroom + body */
    size_t resp_len, resp_off;
    bool close_after;
    char *body;
    size_t body_len;
    bool body_too_big, in_post;
    unsigned refused;                  /* answer this once the unread body is drained */
    char refused_why[WEBGUARD_REASON];
} pss_t;

typedef struct {
    unsigned char *buf; /* LWS_PRE headroom + len bytes */
    size_t len;
} slot_t;

struct dashboard {
    void *zctx;
    config_t cfg;
    char events_ep[256];
    char commands_ep[256];
    bool serve;
    char webroot[PATH_MAX];
    bool has_webroot;
    char files_root[PATH_MAX]; /* real path of dashboard.files */
    bool has_files;
    webguard_t guard;
    bool token_generated;
    int64_t start_ms;

    pthread_mutex_t lock; /* guards state, ring and head */
    dashstate_t *state;
    slot_t ring[DASHBOARD_RING];
    uint64_t head;

    atomic_int stop;
    struct lws_context *lws;
    struct lws_protocols protocols[2];
    pss_t *clients;    /* lws thread only */
    history_t *reader; /* lws thread only */
    void *req;         /* lws thread only */

    history_t *writer; /* event thread only */
    void *sub;         /* event thread only */

    pthread_t lws_thr, ev_thr;
    bool lws_running, ev_running;
};


/* ---------------------------------------------------------------- ring */

/* Caller holds d->lock. A full ring overwrites its oldest frame; clients
 * still pointing at it are dropped when they next write. */
static void ring_push_locked(dashboard_t *d, const char *text, size_t len)
{
    unsigned char *b = malloc(LWS_PRE + len);
    if (!b)
        return;
    memcpy(b + LWS_PRE, text, len);
    webguard_utf8_repair((char *)b + LWS_PRE, len); /* a browser drops a socket on bad UTF-8 */
    slot_t *s = &d->ring[d->head % DASHBOARD_RING];
    free(s->buf);
    s->buf = b;
    s->len = len;
    d->head++;
}

static void push_event_locked(dashboard_t *d, const char *name, json_object *data)
{
    char *f = sio_encode_event(name, data);
    if (f) {
        ring_push_locked(d, f, strlen(f));
        free(f);
    }
}

/* ---------------------------------------------------------------- event thread */

static void handle_event(dashboard_t *d, const char *buf, size_t len)
{
    char err[256];
    json_tokener *tok = json_tokener_new_ex(64);
    json_object *root = NULL, *ev = NULL, *data = NULL, *tsv = NULL;
    if (!tok)
        return;
    root = json_tokener_parse_ex(tok, buf, (int)len);
    json_tokener_free(tok);
    if (!root || !json_object_is_type(root, json_type_object) ||
        !json_object_object_get_ex(root, "event", &ev) ||
        !json_object_is_type(ev, json_type_string) ||
        !json_object_object_get_ex(root, "data", &data) ||
        !json_object_is_type(data, json_type_object)) {
        log_every(0, LOG_WARN, "dashboard: malformed event from the master dropped");
        goto out;
    }
    int64_t ts = clock_wall_ms();
    if (json_object_object_get_ex(root, "ts", &tsv) &&
        (json_object_is_type(tsv, json_type_int) || json_object_is_type(tsv, json_type_double)))
        ts = json_object_get_int64(tsv);
    const char *name = json_object_get_string(ev);
    pthread_mutex_lock(&d->lock);
    name = dashstate_public_event(d->state, name, data);
    if (!name) {
        pthread_mutex_unlock(&d->lock);
        goto out;
    }
    json_object *fwd = dashstate_apply(d->state, name, ts, data);
    if (fwd) {
        push_event_locked(d, name, fwd);
        json_object_put(fwd); /* may share objects with the state: put under the lock */
    }
    pthread_mutex_unlock(&d->lock);

    if (history_record(d->writer, name, ts, data, err, sizeof(err)) != 0)
        log_every(1, LOG_WARN, "dashboard: %s", err);
out:
    json_object_put(root);
}

static void push_update_stats(dashboard_t *d)
{
    pthread_mutex_lock(&d->lock);
    json_object *o = dashstate_update_stats(d->state, clock_wall_ms());
    if (o) {
        push_event_locked(d, "update_stats", o);
        json_object_put(o);
    }
    pthread_mutex_unlock(&d->lock);
}

static void *ev_main(void *arg)
{
    dashboard_t *d = arg;
    char err[256];
    int64_t now = clock_now_ms();
    int64_t next_tick = now + 1000, next_flush = now + FLUSH_MS, next_prune = now + PRUNE_MS;
    while (!atomic_load(&d->stop)) {
        bool pushed = false;
        now = clock_now_ms();
        int64_t wait = (next_tick < next_flush ? next_tick : next_flush) - now;
        if (wait < 0)
            wait = 0;
        if (wait > 200)
            wait = 200; /* to notice stop */
        zmq_pollitem_t it = {d->sub, 0, ZMQ_POLLIN, 0};
        int rc = zmq_poll(&it, 1, (long)wait);
        /* bounded batch so that ticks and flushes still happen under a flood */
        for (int i = 0; rc > 0 && i < 5000; i++) {
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
        now = clock_now_ms();
        if (now >= next_flush) {
            if (history_flush(d->writer, err, sizeof(err)) != 0)
                log_every(1, LOG_WARN, "dashboard: %s", err);
            next_flush = now + FLUSH_MS;
        }
        if (now >= next_tick) {
            push_update_stats(d);
            pushed = true;
            next_tick += 1000;
            if (next_tick <= now)
                next_tick = now + 1000;
        }
        if (now >= next_prune) {
            if (history_prune(d->writer, clock_wall_ms(), err, sizeof(err)) < 0)
                log_warn("dashboard: %s", err);
            next_prune = now + PRUNE_MS;
        }
        if (pushed)
            lws_cancel_service(d->lws);
    }
    if (history_flush(d->writer, err, sizeof(err)) != 0)
        log_warn("dashboard: %s", err);
    return NULL;
}

/* ---------------------------------------------------------------- websocket */

static frame_t *frame_new(const char *text, size_t len)
{
    frame_t *f = malloc(sizeof(*f) + LWS_PRE + len);
    if (!f)
        return NULL;
    f->next = NULL;
    f->len = len;
    memcpy(f->buf + LWS_PRE, text, len);
    webguard_utf8_repair((char *)f->buf + LWS_PRE, len);
    return f;
}

/* Queues a frame for this client only; takes ownership of text (may be NULL). */
static int queue_private(pss_t *p, char *text)
{
    if (!text)
        return -1;
    if (p->q_len >= PRIVATE_QUEUE_MAX) {
        free(text);
        p->closing = true; /* not reading its pings: a dead browser */
        return -1;
    }
    frame_t *f = frame_new(text, strlen(text));
    free(text);
    if (!f)
        return -1;
    if (p->q_tail)
        p->q_tail->next = f;
    else
        p->q_head = f;
    p->q_tail = f;
    p->q_len++;
    return 0;
}

static void ws_release(dashboard_t *d, pss_t *p)
{
    for (pss_t **pp = &d->clients; *pp; pp = &(*pp)->next) {
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    }
    while (p->q_head) {
        frame_t *f = p->q_head;
        p->q_head = f->next;
        free(f);
    }
    p->q_tail = NULL;
    p->q_len = 0;
    free(p->rx);
    p->rx = NULL;
    free(p->scratch);
    p->scratch = NULL;
    p->is_ws = false;
}

/* Copies the request line and the headers webguard needs. */
typedef struct {
    char path[1024], host[WEBGUARD_NAME_LEN + 8], origin[WEBGUARD_NAME_LEN + 16], auth[512],
        ctype[128];
} req_hdrs_t;

static const char *hdr(struct lws *wsi, enum lws_token_indexes t, char *buf, int len, bool *bad)
{
    if (lws_hdr_total_length(wsi, t) <= 0)
        return NULL;
    if (lws_hdr_copy(wsi, buf, len, t) < 0) {
        *bad = true; /* longer than any honest value */
        buf[0] = '\0';
    }
    return buf;
}

static unsigned guard_request(dashboard_t *d, struct lws *wsi, const char *path, bool websocket,
                              req_hdrs_t *h, webguard_verdict_t *v)
{
    bool bad = false;
    webguard_req_t r = {0};
    if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0)
        r.method = "GET";
    else if (lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0)
        r.method = "POST";
    else
        r.method = "OTHER";
    snprintf(h->path, sizeof h->path, "%s", path);
    r.path = h->path;
    r.websocket = websocket;
    r.host = hdr(wsi, WSI_TOKEN_HOST, h->host, sizeof h->host, &bad);
    r.origin = hdr(wsi, WSI_TOKEN_ORIGIN, h->origin, sizeof h->origin, &bad);
    r.authorization = hdr(wsi, WSI_TOKEN_HTTP_AUTHORIZATION, h->auth, sizeof h->auth, &bad);
    r.content_type = hdr(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE, h->ctype, sizeof h->ctype, &bad);
    webguard_check(&d->guard, &r, v);
    if (bad && !v->status) {
        v->status = 431;
        snprintf(v->reason, sizeof v->reason, "request header too long");
    }
    return v->status;
}

/* An upgrade to websocket from a foreign Host or Origin gets its 403 here,
 * before any handshake (webguard_check). Returns what CONFIRM_UPGRADE wants:
 * 0 go on, 1 refused with a response sent, -1 hang up. */
static int ws_confirm_upgrade(dashboard_t *d, struct lws *wsi)
{
    char uri[1024];
    req_hdrs_t h = {0};
    webguard_verdict_t v;
    if (lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) <= 0)
        return -1;
    char *q = strchr(uri, '?');
    if (q)
        *q = '\0';
    if (guard_request(d, wsi, uri, true, &h, &v) == 0)
        return 0;
    log_every(4, LOG_INFO, "dashboard: websocket refused: %s", v.reason);
    return lws_return_http_status(wsi, v.status, v.reason) ? -1 : 1;
}

/* The websocket URL: /socket.io/?EIO=4&transport=websocket. */
static bool ws_url_ok(struct lws *wsi)
{
    char uri[1024], arg[64];
    if (lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) <= 0)
        return false;
    if (strncmp(uri, "/socket.io", 10) != 0 || (uri[10] != '/' && uri[10] != '\0'))
        return false;
    const char *val = lws_get_urlarg_by_name(wsi, "EIO=", arg, sizeof(arg));
    if (!val || strcmp(val, "4") != 0)
        return false;
    val = lws_get_urlarg_by_name(wsi, "transport=", arg, sizeof(arg));
    return val && strcmp(val, "websocket") == 0;
}

static void make_sid(char *sid, size_t len)
{
    unsigned char r[12];
    static const char hex[] = "0123456789abcdef";
    if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
        int64_t t = clock_now_us();
        memcpy(r, &t, sizeof(t));
        memset(r + sizeof(t), 0x5a, sizeof(r) - sizeof(t));
    }
    size_t i;
    for (i = 0; i < sizeof(r) && 2 * i + 2 < len; i++) {
        sid[2 * i] = hex[r[i] >> 4];
        sid[2 * i + 1] = hex[r[i] & 15];
    }
    sid[2 * i] = '\0';
}

static int ws_established(dashboard_t *d, struct lws *wsi, pss_t *p)
{
    char auth[512];
    memset(p, 0, sizeof(*p));
    p->wsi = wsi;
    p->is_ws = true;
    /* a non-browser client may give the token on the upgrade itself */
    p->ws_authed = !d->guard.token[0] ||
                   (lws_hdr_copy(wsi, auth, sizeof auth, WSI_TOKEN_HTTP_AUTHORIZATION) > 7 &&
                    strncasecmp(auth, "Bearer ", 7) == 0 && webguard_token_ok(&d->guard, auth + 7));
    make_sid(p->sid, sizeof(p->sid));
    p->next_ping_ms = clock_now_ms() + PING_INTERVAL_MS;
    p->next = d->clients;
    d->clients = p;
    if (queue_private(p, sio_encode_open(p->sid, PING_INTERVAL_MS, PING_TIMEOUT_MS,
                                         SIO_MAX_PACKET)) != 0)
        return -1;
    lws_callback_on_writable(wsi);
    return 0;
}

/* "40": the browser joins the default namespace; it gets the present at once.
 * With a token in force, "40{"token":"..."}" (the Socket.IO auth payload)
 * or a bearer token on the upgrade is needed; else 44{"message"} and close. */
static int sio_connect(dashboard_t *d, pss_t *p, const char *nsp, json_object *auth)
{
    if (strcmp(nsp, "/") != 0)
        return queue_private(p, sio_encode_connect_error(nsp, "no such namespace"));
    if (!p->ws_authed) {
        json_object *t = NULL;
        if (auth && json_object_object_get_ex(auth, "token", &t) &&
            json_object_is_type(t, json_type_string) &&
            webguard_token_ok(&d->guard, json_object_get_string(t)))
            p->ws_authed = true;
    }
    if (!p->ws_authed) {
        p->close_when_flushed = true;
        return queue_private(p, sio_encode_connect_error(nsp, "missing or wrong token"));
    }
    char *snap = NULL, *stats = NULL;
    pthread_mutex_lock(&d->lock);
    json_object *o = dashstate_snapshot(d->state, clock_wall_ms());
    if (o) {
        snap = sio_encode_event("snapshot", o);
        json_object_put(o);
    }
    o = dashstate_update_stats(d->state, clock_wall_ms());
    if (o) {
        stats = sio_encode_event("update_stats", o);
        json_object_put(o);
    }
    p->tail = d->head; /* the snapshot already holds everything before this */
    pthread_mutex_unlock(&d->lock);
    if (queue_private(p, sio_encode_connect("/", p->sid)) != 0 || queue_private(p, snap) != 0 ||
        queue_private(p, stats) != 0)
        return -1;
    p->sio_connected = true;
    return 0;
}

static int ws_message(dashboard_t *d, pss_t *p, const char *buf, size_t len)
{
    sio_packet_t pk;
    char err[128];
    char *t;
    int rc = 0;
    if (sio_decode(buf, len, &pk, err, sizeof(err)) != 0) {
        log_every(2, LOG_DEBUG, "dashboard: bad Socket.IO packet from a browser: %s", err);
        return -1;
    }
    switch (pk.eio) {
    case SIO_EIO_PONG:
        p->pong_deadline_ms = 0;
        break;
    case SIO_EIO_PING: /* answer with the same payload */
        t = malloc(pk.text_len + 2);
        if (t) {
            t[0] = '3';
            memcpy(t + 1, pk.text, pk.text_len);
            t[pk.text_len + 1] = '\0';
        }
        rc = queue_private(p, t);
        break;
    case SIO_EIO_CLOSE:
        rc = -1;
        break;
    case SIO_EIO_MESSAGE:
        if (pk.type == SIO_CONNECT)
            rc = sio_connect(d, p, pk.nsp, pk.data);
        else if (pk.type == SIO_DISCONNECT)
            p->sio_connected = false;
        /* events from browsers are not part of the contract: ignored */
        break;
    default:
        break;
    }
    sio_packet_clear(&pk);
    lws_callback_on_writable(p->wsi);
    return rc;
}

static int ws_receive(dashboard_t *d, struct lws *wsi, pss_t *p, const void *in, size_t len)
{
    if (p->rx_len + len > MAX_WS_MESSAGE)
        return -1;
    char *n = realloc(p->rx, p->rx_len + len + 1);
    if (!n)
        return -1;
    p->rx = n;
    memcpy(p->rx + p->rx_len, in, len);
    p->rx_len += len;
    if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
        return 0;
    size_t total = p->rx_len;
    p->rx_len = 0;
    if (lws_frame_is_binary(wsi))
        return 0;
    return ws_message(d, p, p->rx, total);
}

static int ws_writeable(dashboard_t *d, struct lws *wsi, pss_t *p)
{
    bool more = false;
    if (p->closing)
        return -1;
    if (p->q_head) {
        frame_t *f = p->q_head;
        p->q_head = f->next;
        if (!p->q_head)
            p->q_tail = NULL;
        p->q_len--;
        int n = lws_write(wsi, f->buf + LWS_PRE, f->len, LWS_WRITE_TEXT);
        bool ok = n >= (int)f->len;
        free(f);
        if (!ok)
            return -1;
        more = p->q_head != NULL || p->sio_connected || p->close_when_flushed;
    } else if (p->close_when_flushed) {
        return -1;
    } else if (p->sio_connected) {
        size_t len = 0;
        bool got = false;
        pthread_mutex_lock(&d->lock);
        if (d->head - p->tail > DASHBOARD_RING) {
            pthread_mutex_unlock(&d->lock);
            log_every(3, LOG_WARN, "dashboard: dropping a browser that fell %d events behind",
                      DASHBOARD_RING);
            return -1;
        }
        if (p->tail < d->head) {
            slot_t *s = &d->ring[p->tail % DASHBOARD_RING];
            len = s->len;
            if (p->scratch_cap < LWS_PRE + len) {
                unsigned char *n = realloc(p->scratch, LWS_PRE + len);
                if (!n) {
                    pthread_mutex_unlock(&d->lock);
                    return -1;
                }
                p->scratch = n;
                p->scratch_cap = LWS_PRE + len;
            }
            memcpy(p->scratch + LWS_PRE, s->buf + LWS_PRE, len);
            p->tail++;
            got = true;
        }
        more = p->tail < d->head;
        pthread_mutex_unlock(&d->lock);
        if (got && lws_write(wsi, p->scratch + LWS_PRE, len, LWS_WRITE_TEXT) < (int)len)
            return -1;
    }
    if (more)
        lws_callback_on_writable(wsi);
    return 0;
}

/* Woken by the event thread: pings, dead-client checks, and a write turn for all. */
static void ws_wake(dashboard_t *d)
{
    int64_t now = clock_now_ms();
    for (pss_t *p = d->clients; p; p = p->next) {
        if (p->pong_deadline_ms && now > p->pong_deadline_ms) {
            p->closing = true;
            continue;
        }
        if (now >= p->next_ping_ms) {
            char *ping = strdup("2");
            queue_private(p, ping);
            p->next_ping_ms = now + PING_INTERVAL_MS;
            if (!p->pong_deadline_ms)
                p->pong_deadline_ms = now + PING_INTERVAL_MS + PING_TIMEOUT_MS;
        }
    }
    lws_callback_on_writable_all_protocol(d->lws, &d->protocols[0]);
}

/* ---------------------------------------------------------------- http */

static void http_release(pss_t *p)
{
    free(p->resp);
    p->resp = NULL;
    p->resp_len = p->resp_off = 0;
    free(p->body);
    p->body = NULL;
    p->body_len = 0;
    p->body_too_big = p->in_post = p->close_after = false;
    p->refused = 0;
}

static int respond(struct lws *wsi, pss_t *p, unsigned int status, const char *ctype,
                   const char *body, size_t len)
{
    unsigned char hbuf[LWS_PRE + 1024];
    unsigned char *start = hbuf + LWS_PRE, *pos = start, *end = hbuf + sizeof(hbuf) - 1;
    free(p->resp);
    p->resp = malloc(LWS_PRE + len + 1);
    if (!p->resp)
        return -1;
    memcpy(p->resp + LWS_PRE, body, len);
    if (strncmp(ctype, "image/", 6) != 0)
        webguard_utf8_repair((char *)p->resp + LWS_PRE, len);
    p->resp_len = len;
    p->resp_off = 0;
    if (lws_add_http_common_headers(wsi, status, ctype, len, &pos, end) ||
        lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
                                    (const unsigned char *)"no-store", 8, &pos, end))
        return -1;
    if (status == 401 &&
        lws_add_http_header_by_name(wsi, (const unsigned char *)"www-authenticate:",
                                    (const unsigned char *)"Bearer", 6, &pos, end))
        return -1;
    /* the connection ends after this answer: keep-alive clients must not reuse it */
    if (p->close_after &&
        lws_add_http_header_by_name(wsi, (const unsigned char *)"connection:",
                                    (const unsigned char *)"close", 5, &pos, end))
        return -1;
    if (lws_finalize_write_http_header(wsi, start, &pos, end))
        return -1;
    lws_callback_on_writable(wsi);
    return 0;
}

static int respond_json(struct lws *wsi, pss_t *p, unsigned int status, json_object *o)
{
    size_t len = 0;
    const char *s = o ? json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len) : NULL;
    if (!s)
        return -1;
    return respond(wsi, p, status, "application/json", s, len);
}

static int respond_error(struct lws *wsi, pss_t *p, unsigned int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int respond_error(struct lws *wsi, pss_t *p, unsigned int status, const char *fmt, ...)
{
    char raw[512], msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof(raw), fmt, ap);
    va_end(ap);
    utf8_sanitize(msg, sizeof msg, raw);
    json_object *o = json_object_new_object();
    if (!o)
        return -1;
    json_object_object_add(o, "error", json_object_new_string(msg));
    int rc = respond_json(wsi, p, status, o);
    json_object_put(o);
    return rc;
}

static int http_writeable(struct lws *wsi, pss_t *p)
{
    if (!p->resp)
        return 0;
    size_t left = p->resp_len - p->resp_off;
    size_t n = left > HTTP_CHUNK ? HTTP_CHUNK : left;
    bool final = n == left;
    /* bytes before resp_off were already sent, so they serve as LWS_PRE headroom */
    if (lws_write(wsi, p->resp + LWS_PRE + p->resp_off, n,
                  final ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) < (int)n)
        return -1;
    p->resp_off += n;
    if (!final) {
        lws_callback_on_writable(wsi);
        return 0;
    }
    bool close_after = p->close_after;
    http_release(p);
    if (close_after || lws_http_transaction_completed(wsi))
        return -1;
    return 0;
}

static const char *mime_type(const char *path)
{
    static const struct {
        const char *ext, *mime;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "application/javascript"},
        {".mjs", "application/javascript"},
        {".css", "text/css"},
        {".json", "application/json"},
        {".map", "application/json"},
        {".png", "image/png"},
        {".svg", "image/svg+xml"},
        {".ico", "image/x-icon"},
        {".txt", "text/plain; charset=utf-8"},
    };
    const char *dot = strrchr(path, '.');
    if (dot && !strchr(dot, '/'))
        for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
            if (strcmp(dot, types[i].ext) == 0)
                return types[i].mime;
    return "application/octet-stream";
}

/* Resolves path inside the web root; 0 with real filled, else the HTTP status to answer. */
static unsigned int resolve_static(dashboard_t *d, const char *path, char *real)
{
    char full[PATH_MAX * 2];
    struct stat st;
    size_t rootlen = strlen(d->webroot);
    if (path[0] != '/' || strstr(path, "..") || strchr(path, '\\'))
        return 403;
    if (strlen(path) > 1024)
        return 404;
    snprintf(full, sizeof(full), "%s%s%s", d->webroot, path,
             path[strlen(path) - 1] == '/' ? "index.html" : "");
    for (int pass = 0; pass < 2; pass++) {
        if (!realpath(full, real))
            return (errno == ENOENT || errno == ENOTDIR) ? 404 : 403;
        if (strncmp(real, d->webroot, rootlen) != 0 || (real[rootlen] != '/' && real[rootlen]))
            return 403; /* a symlink that leads out of the web root */
        if (stat(real, &st) != 0)
            return 404;
        if (S_ISREG(st.st_mode))
            return 0;
        if (!S_ISDIR(st.st_mode) || pass == 1)
            return 404;
        snprintf(full, sizeof(full), "%s/index.html", real);
    }
    return 404;
}

static int serve_static(dashboard_t *d, struct lws *wsi, pss_t *p, const char *path)
{
    char real[PATH_MAX];
    if (!d->has_webroot)
        return respond_error(wsi, p, 404, "web app not found (set NC_WEB_ROOT)");
    unsigned int status = resolve_static(d, path, real);
    if (status == 403)
        return respond_error(wsi, p, 403, "forbidden");
    if (status)
        return respond_error(wsi, p, 404, "not found");
    int n = lws_serve_http_file(wsi, real, mime_type(real), NULL, 0);
    if (n < 0 || (n > 0 && lws_http_transaction_completed(wsi)))
        return -1;
    return 0;
}

static bool parse_id(const char *s, int64_t *id)
{
    int64_t v = 0;
    int n = 0;
    for (; *s; s++, n++) {
        if (*s < '0' || *s > '9' || n >= 18)
            return false;
        v = v * 10 + (*s - '0');
    }
    *id = v;
    return n > 0;
}

static int api_job(dashboard_t *d, struct lws *wsi, pss_t *p, int64_t id)
{
    char err[256];
    bool known = false;
    int rc;
    pthread_mutex_lock(&d->lock);
    json_object *o = dashstate_job(d->state, id, &known);
    if (o) {
        rc = respond_json(wsi, p, 200, o);
        json_object_put(o);
        pthread_mutex_unlock(&d->lock);
        return rc;
    }
    pthread_mutex_unlock(&d->lock);
    o = d->reader ? history_job(d->reader, id, err, sizeof(err)) : NULL;
    if (!o) {
        if (d->reader && err[0])
            return respond_error(wsi, p, 500, "%s", err);
        return respond_error(wsi, p, 404, "no job %lld", (long long)id);
    }
    rc = respond_json(wsi, p, 200, o);
    json_object_put(o);
    return rc;
}

static int api_history(dashboard_t *d, struct lws *wsi, pss_t *p)
{
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
    if ((v = lws_get_urlarg_by_name(wsi, "since=", num, sizeof(num))) && !parse_id(v, &since))
        return respond_error(wsi, p, 400, "since must be wall-clock milliseconds");
    if ((v = lws_get_urlarg_by_name(wsi, "step=", num, sizeof(num))) && !parse_id(v, &step))
        return respond_error(wsi, p, 400, "step must be milliseconds");
    if (!d->reader)
        return respond_error(wsi, p, 503, "history not available");
    json_object *o =
        history_series(d->reader, metric, has_worker ? worker : NULL, since, step, err, sizeof(err));
    if (!o)
        return respond_error(wsi, p, strstr(err, "unknown metric") ? 400 : 500, "%s", err);
    int rc = respond_json(wsi, p, 200, o);
    json_object_put(o);
    return rc;
}

/* Relays a job request to the master. Runs on the lws thread and blocks it for
 * at most REQ_TIMEOUT_MS: a submission is rare and the master answers at once
 * unless it is wedged, in which case browsers stall briefly rather than forever. */
static int post_job(dashboard_t *d, struct lws *wsi, pss_t *p)
{
    char err[128], reason[WEBGUARD_REASON];
    json_tokener *tok = NULL;
    json_object *req = NULL, *reply = NULL, *v;
    const char *const defaults[5] = {d->cfg.data.train, d->cfg.data.test, d->cfg.model.file,
                                     d->cfg.output.train, d->cfg.output.test};
    unsigned status = 0;
    size_t text_len = 0;
    int rc;
    if (!d->has_files)
        return respond_error(wsi, p, 503, "dashboard.files '%.200s' is not a folder",
                             d->cfg.dashboard.files);
    /* paths are checked, and made real and absolute, before the master sees them */
    req = webguard_job(d->files_root, defaults, p->body, p->body_len, &status, reason,
                       sizeof reason);
    if (!req)
        return respond_error(wsi, p, status, "%s", reason);
    const char *text = json_object_to_json_string_length(req, JSON_C_TO_STRING_PLAIN, &text_len);
    if (!text) {
        rc = -1;
        goto out;
    }
    if (!d->req) {
        int linger = 0;
        d->req = zmq_socket(d->zctx, ZMQ_REQ);
        if (!d->req || zmq_setsockopt(d->req, ZMQ_LINGER, &linger, sizeof(linger)) ||
            zmq_connect(d->req, d->commands_ep)) {
            snprintf(err, sizeof(err), "%s", zmq_strerror(zmq_errno()));
            if (d->req)
                zmq_close(d->req);
            d->req = NULL;
            rc = respond_error(wsi, p, 503, "cannot reach the master: %s", err);
            goto out;
        }
    }
    if (zmq_send(d->req, text, text_len, 0) < 0) {
        rc = respond_error(wsi, p, 503, "cannot reach the master: %s", zmq_strerror(zmq_errno()));
        zmq_close(d->req);
        d->req = NULL;
        goto out;
    }
    zmq_pollitem_t it = {d->req, 0, ZMQ_POLLIN, 0};
    zmq_msg_t m;
    if (zmq_poll(&it, 1, REQ_TIMEOUT_MS) <= 0) {
        /* a REQ socket that missed its reply is stuck: start a fresh one next time */
        zmq_close(d->req);
        d->req = NULL;
        rc = respond_error(wsi, p, 503, "the master did not answer within %d s", REQ_TIMEOUT_MS / 1000);
        goto out;
    }
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, d->req, 0) < 0 || zmq_msg_size(&m) > MAX_POST_BODY) {
        zmq_msg_close(&m);
        zmq_close(d->req);
        d->req = NULL;
        rc = respond_error(wsi, p, 502, "bad reply from the master");
        goto out;
    }
    reply = json_tokener_parse_ex(tok = json_tokener_new_ex(32), zmq_msg_data(&m),
                                  (int)zmq_msg_size(&m));
    if (tok)
        json_tokener_free(tok);
    zmq_msg_close(&m);
    if (!reply || !json_object_is_type(reply, json_type_object)) {
        rc = respond_error(wsi, p, 502, "bad reply from the master");
        goto out;
    }
    if (json_object_object_get_ex(reply, "id", &v) && json_object_is_type(v, json_type_int)) {
        int64_t id = json_object_get_int64(v);
        pthread_mutex_lock(&d->lock);
        json_object *fwd = dashstate_job_queued(d->state, id, req, clock_wall_ms());
        if (fwd) {
            push_event_locked(d, "job_queued", fwd);
            json_object_put(fwd);
        }
        pthread_mutex_unlock(&d->lock);
        lws_callback_on_writable_all_protocol(d->lws, &d->protocols[0]);
        rc = respond_json(wsi, p, 200, reply);
        goto out;
    }
    status = 400;
    if (json_object_object_get_ex(reply, "status", &v) && json_object_is_type(v, json_type_int) &&
        json_object_get_int(v) >= 400 && json_object_get_int(v) <= 599)
        status = (unsigned int)json_object_get_int(v);
    rc = respond_json(wsi, p, status, reply);
out:
    json_object_put(req);
    json_object_put(reply);
    return rc;
}

static int http_request(dashboard_t *d, struct lws *wsi, pss_t *p, const char *path)
{
    int rc;
    req_hdrs_t h = {0};
    webguard_verdict_t v;
    http_release(p);
    bool post = lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0;
    char cl[32];
    int n = lws_hdr_copy(wsi, cl, sizeof(cl), WSI_TOKEN_HTTP_CONTENT_LENGTH);
    long clen = n > 0 ? strtol(cl, NULL, 10) : 0;
    if (guard_request(d, wsi, path, false, &h, &v) != 0) {
        if (post && clen > 0 && clen <= MAX_POST_BODY) {
            /* answered once its body is read and dropped, so that the
             * connection stays usable (keep-alive clients reuse it) */
            p->in_post = true;
            p->refused = v.status;
            snprintf(p->refused_why, sizeof p->refused_why, "%s", v.reason);
            return 0;
        }
        p->close_after = post && clen > 0; /* the unread body would poison the connection */
        return respond_error(wsi, p, v.status, "%s", v.reason);
    }
    if (v.route == WG_ROUTE_SUBMIT) {
        if (clen > MAX_POST_BODY) {
            p->close_after = true;
            return respond_error(wsi, p, 413, "request body larger than %d bytes", MAX_POST_BODY);
        }
        if (clen <= 0) {
            if (!d->serve)
                return respond_error(wsi, p, 503, "job submission needs `bin/master serve`");
            return respond_error(wsi, p, 400, "empty body");
        }
        p->in_post = true;
        return 0; /* the body arrives in LWS_CALLBACK_HTTP_BODY */
    }

    if (v.route == WG_ROUTE_HEALTH) {
        json_object *o = json_object_new_object();
        if (!o)
            return -1;
        pthread_mutex_lock(&d->lock);
        int workers = dashstate_live_workers(d->state);
        pthread_mutex_unlock(&d->lock);
        json_object_object_add(o, "status", json_object_new_string("ok"));
        json_object_object_add(o, "version", json_object_new_string(DASHBOARD_VERSION));
        json_object_object_add(o, "uptime_s",
                               json_object_new_int64((clock_now_ms() - d->start_ms) / 1000));
        json_object_object_add(o, "workers", json_object_new_int(workers));
        rc = respond_json(wsi, p, 200, o);
        json_object_put(o);
        return rc;
    }
    if (v.route == WG_ROUTE_WORKERS || v.route == WG_ROUTE_JOBS) {
        pthread_mutex_lock(&d->lock);
        json_object *o = v.route == WG_ROUTE_WORKERS ? dashstate_workers(d->state)
                                                     : dashstate_jobs(d->state);
        rc = o ? respond_json(wsi, p, 200, o) : -1;
        json_object_put(o);
        pthread_mutex_unlock(&d->lock);
        return rc;
    }
    if (v.route == WG_ROUTE_JOB)
        return api_job(d, wsi, p, v.job_id);
    if (v.route == WG_ROUTE_HISTORY)
        return api_history(d, wsi, p);
    if (v.route == WG_ROUTE_METRICS) {
        pthread_mutex_lock(&d->lock);
        char *text = dashstate_metrics(d->state);
        pthread_mutex_unlock(&d->lock);
        if (!text)
            return -1;
        rc = respond(wsi, p, 200, "text/plain; version=0.0.4; charset=utf-8", text, strlen(text));
        free(text);
        return rc;
    }
    if (v.route == WG_ROUTE_SOCKETIO)
        /* what a Socket.IO server says to a transport it does not offer (polling) */
        return respond(wsi, p, 400, "application/json",
                       "{\"code\":0,\"message\":\"Transport unknown\"}", 40);
    return serve_static(d, wsi, p, path);
}

static int http_body(pss_t *p, const void *in, size_t len)
{
    if (!p->in_post || p->refused)
        return 0; /* a refused request: its body is dropped */
    if (p->body_too_big || p->body_len + len > MAX_POST_BODY) {
        p->body_too_big = true;
        return 0;
    }
    char *n = realloc(p->body, p->body_len + len + 1);
    if (!n)
        return -1;
    p->body = n;
    memcpy(p->body + p->body_len, in, len);
    p->body_len += len;
    p->body[p->body_len] = '\0';
    return 0;
}

static int http_body_done(dashboard_t *d, struct lws *wsi, pss_t *p)
{
    if (!p->in_post)
        return p->resp || p->close_after ? 0 : respond_error(wsi, p, 400, "unexpected body");
    p->in_post = false;
    if (p->refused)
        return respond_error(wsi, p, p->refused, "%s", p->refused_why);
    if (p->body_too_big)
        return respond_error(wsi, p, 413, "request body larger than %d bytes", MAX_POST_BODY);
    if (!d->serve)
        return respond_error(wsi, p, 503, "job submission needs `bin/master serve`");
    return post_job(d, wsi, p);
}

/* ---------------------------------------------------------------- lws glue */

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    struct lws_context *ctx = lws_get_context(wsi);
    dashboard_t *d = ctx ? lws_context_user(ctx) : NULL;
    pss_t *p = user;
    if (!d)
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    switch (reason) {
    case LWS_CALLBACK_HTTP:
        return http_request(d, wsi, p, in ? (const char *)in : "/");
    case LWS_CALLBACK_HTTP_BODY:
        return http_body(p, in, len);
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        return http_body_done(d, wsi, p);
    case LWS_CALLBACK_HTTP_WRITEABLE:
        if (p && p->resp)
            return http_writeable(wsi, p);
        break;
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        if (p && !p->is_ws)
            http_release(p);
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
        if (p && p->is_ws)
            ws_release(d, p);
        break;
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        if (!atomic_load(&d->stop))
            ws_wake(d);
        break;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static void *lws_main(void *arg)
{
    dashboard_t *d = arg;
    while (!atomic_load(&d->stop))
        if (lws_service(d->lws, 0) < 0)
            break;
    return NULL;
}

/* ---------------------------------------------------------------- start / stop */

static bool is_dir(const char *path, char *real)
{
    struct stat st;
    return realpath(path, real) && stat(real, &st) == 0 && S_ISDIR(st.st_mode);
}

static void find_webroot(dashboard_t *d)
{
    char exe[PATH_MAX], cand[PATH_MAX + 64];
    const char *env = getenv("NC_WEB_ROOT");
    if (env && *env) {
        d->has_webroot = is_dir(env, d->webroot);
        if (!d->has_webroot)
            log_warn("dashboard: NC_WEB_ROOT=%s is not a directory", env);
        return;
    }
    if ((d->has_webroot = is_dir("dashboard/web", d->webroot)))
        return;
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash)
            *slash = '\0';
        /* bin/master and build/san/bin/master */
        static const char *const ups[] = {"/../dashboard/web", "/../../../dashboard/web"};
        for (size_t i = 0; i < 2; i++) {
            snprintf(cand, sizeof(cand), "%s%s", exe, ups[i]);
            if ((d->has_webroot = is_dir(cand, d->webroot)))
                return;
        }
    }
    log_warn("dashboard: web app folder dashboard/web not found; only the API is served");
}

/* A job the history file shows queued or running belonged to a master that
 * stopped before it ended: it ends "failed" now, in memory and in the file. */
static int end_interrupted_jobs(dashboard_t *d, char *err, size_t errlen)
{
    json_object *ended = dashstate_end_pending(
        d->state, clock_wall_ms(), "interrupted: the master stopped before the job ended");
    int rc = ended ? 0 : errbuf_set(err, errlen, "out of memory");
    for (size_t i = 0; rc == 0 && i < json_object_array_length(ended); i++)
        rc = history_record(d->writer, "job_done", clock_wall_ms(),
                            json_object_array_get_idx(ended, i), err, errlen);
    json_object_put(ended);
    return rc == 0 ? history_flush(d->writer, err, errlen) : -1;
}

/* lws reports a failed bind only as a failed context; try it ourselves first
 * to tell the user which port is taken. */
static int probe_port(const char *host, int port, char *err, size_t errlen)
{
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
            errbuf_set(err, errlen, "dashboard cannot listen on %s:%d: %s", host, port, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    if (ai)
        freeaddrinfo(ai);
    return rc;
}

static const struct lws_protocol_vhost_options pvo_default = {NULL, NULL, "default", "1"};
static const struct lws_protocol_vhost_options pvo = {NULL, &pvo_default, "netcompute", ""};

dashboard_t *dashboard_start(void *zmq_ctx, const config_t *cfg, const char *events_endpoint,
                             const char *commands_endpoint, char *err, size_t errlen)
{
    dashboard_t *d = calloc(1, sizeof(*d));
    json_object *jobs = NULL;
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
    d->state = dashstate_new(cfg->cluster.heartbeat_ms, cfg->cluster.liveness);
    if (!d->state) {
        errbuf_set(err, errlen, "out of memory");
        goto fail;
    }
    find_webroot(d);
    d->has_files = is_dir(cfg->dashboard.files, d->files_root);
    if (!d->has_files)
        log_warn("dashboard: dashboard.files '%s' is not a folder: jobs cannot be submitted over "
                 "HTTP", cfg->dashboard.files);
    /* like Jupyter: a dashboard others can reach never runs without a token */
    if (!webguard_is_loopback(cfg->dashboard.host) && !d->cfg.dashboard.token[0]) {
        if (webguard_random_token(d->cfg.dashboard.token, sizeof d->cfg.dashboard.token, 24) != 0) {
            errbuf_set(err, errlen, "dashboard: no randomness for a token (set dashboard.token)");
            goto fail;
        }
        d->token_generated = true;
    }
    webguard_init(&d->guard, cfg->dashboard.host, cfg->dashboard.port, d->cfg.dashboard.token);
    if (!*cfg->dashboard.host || strcmp(cfg->dashboard.host, "0.0.0.0") == 0 ||
        strcmp(cfg->dashboard.host, "::") == 0)
        webguard_add_local_names(&d->guard);

    d->writer = history_open(cfg->history.db, cfg->history.retention_days, false, err, errlen);
    if (!d->writer)
        goto fail;
    jobs = history_jobs(d->writer, DASHSTATE_MAX_JOBS, err, errlen);
    if (!jobs)
        goto fail;
    dashstate_load_jobs(d->state, jobs);
    if (end_interrupted_jobs(d, err, errlen) != 0)
        goto fail;
    json_object_put(jobs);
    jobs = NULL;
    if (history_prune(d->writer, clock_wall_ms(), err, errlen) < 0)
        goto fail;
    d->reader = history_open(cfg->history.db, cfg->history.retention_days, true, err, errlen);
    if (!d->reader)
        goto fail;

    int linger = 0, hwm = 100000;
    d->sub = zmq_socket(zmq_ctx, ZMQ_SUB);
    if (!d->sub || zmq_setsockopt(d->sub, ZMQ_LINGER, &linger, sizeof(linger)) ||
        zmq_setsockopt(d->sub, ZMQ_RCVHWM, &hwm, sizeof(hwm)) ||
        zmq_setsockopt(d->sub, ZMQ_SUBSCRIBE, "", 0) || zmq_connect(d->sub, events_endpoint)) {
        errbuf_set(err, errlen, "dashboard: cannot subscribe to %s: %s", events_endpoint,
             zmq_strerror(zmq_errno()));
        goto fail;
    }

    const char *host = cfg->dashboard.host;
    if (probe_port(host, cfg->dashboard.port, err, errlen) != 0)
        goto fail;
    lws_set_log_level(LLL_ERR, NULL);
    d->protocols[0].name = "netcompute";
    d->protocols[0].callback = callback;
    d->protocols[0].per_session_data_size = sizeof(pss_t);
    d->protocols[0].rx_buffer_size = 0;
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof(info));
    info.port = cfg->dashboard.port;
    if (strcmp(host, "localhost") == 0)
        info.iface = "127.0.0.1";
    else if (*host && strcmp(host, "0.0.0.0") != 0 && strcmp(host, "::") != 0)
        info.iface = host;
    info.protocols = d->protocols;
    info.pvo = &pvo;
    info.user = d;
    info.vhost_name = "netcompute";
    d->lws = lws_create_context(&info);
    if (!d->lws) {
        errbuf_set(err, errlen, "dashboard cannot listen on %s:%d (libwebsockets failed to start)",
             host, cfg->dashboard.port);
        goto fail;
    }
    if (pthread_create(&d->ev_thr, NULL, ev_main, d) != 0) {
        errbuf_set(err, errlen, "dashboard: cannot start a thread");
        goto fail;
    }
    d->ev_running = true;
    if (pthread_create(&d->lws_thr, NULL, lws_main, d) != 0) {
        errbuf_set(err, errlen, "dashboard: cannot start a thread");
        goto fail;
    }
    d->lws_running = true;
    log_info("dashboard on http://%s:%d/", *host ? host : "0.0.0.0", cfg->dashboard.port);
    return d;
fail:
    json_object_put(jobs);
    dashboard_stop(&d);
    return NULL;
}

int dashboard_token_url(const dashboard_t *d, char *buf, size_t len)
{
    char name[256] = "127.0.0.1";
    const char *host = d ? d->cfg.dashboard.host : "";
    if (!d || !d->token_generated)
        return -1;
    if (*host && strcmp(host, "0.0.0.0") != 0 && strcmp(host, "::") != 0)
        snprintf(name, sizeof name, "%s", host);
    else if (gethostname(name, sizeof name) != 0)
        snprintf(name, sizeof name, "127.0.0.1");
    name[sizeof name - 1] = '\0';
    snprintf(buf, len, "http://%s%s%s:%d/?token=%s", strchr(name, ':') ? "[" : "", name,
             strchr(name, ':') ? "]" : "", d->cfg.dashboard.port, d->cfg.dashboard.token);
    return 0;
}

int dashboard_port(const dashboard_t *d)
{
    return d ? d->cfg.dashboard.port : -1;
}

void dashboard_stop(dashboard_t **dp)
{
    dashboard_t *d = dp ? *dp : NULL;
    if (!d)
        return;
    atomic_store(&d->stop, 1);
    if (d->lws)
        lws_cancel_service(d->lws);
    if (d->lws_running)
        pthread_join(d->lws_thr, NULL);
    if (d->ev_running)
        pthread_join(d->ev_thr, NULL);
    if (d->lws)
        lws_context_destroy(d->lws); /* closes connections: their pss are released in CLOSED */
    if (d->sub)
        zmq_close(d->sub);
    if (d->req)
        zmq_close(d->req);
    history_close(&d->reader);
    history_close(&d->writer);
    dashstate_destroy(&d->state);
    for (size_t i = 0; i < DASHBOARD_RING; i++)
        free(d->ring[i].buf);
    pthread_mutex_destroy(&d->lock);
    free(d);
    *dp = NULL;
}
