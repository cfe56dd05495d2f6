/* ws: websocket and Socket.IO sessions. See ws.h. */
#include "dashboard/ws.h"

#include "common/clock.h"
#include "common/events.h"
#include "common/log.h"
#include "dashboard/dashctx.h"
#include "dashboard/http.h"
#include "dashboard/sio.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#define PING_INTERVAL_MS 25000
#define PING_TIMEOUT_MS 20000
#define MAX_WS_MESSAGE (64 * 1024) /* browsers only send pongs and connects */
#define PRIVATE_QUEUE_MAX 64       /* per-client frames not from the ring (pings, snapshot) */

static frame_t *frame_new(const char *text, size_t len) {
    frame_t *f = malloc(sizeof(*f) + LWS_PRE + len);
    if (!f) return NULL;
    f->next = NULL;
    f->len = len;
    memcpy(f->buf + LWS_PRE, text, len);
    webguard_utf8_repair((char *)f->buf + LWS_PRE, len);
    return f;
}

/* Queues a frame for this client only; takes ownership of text (may be NULL). */
static int queue_private(pss_t *p, char *text) {
    if (!text) return -1;
    if (p->q_len >= PRIVATE_QUEUE_MAX) {
        free(text);
        p->closing = true; /* not reading its pings: a dead browser */
        return -1;
    }
    frame_t *f = frame_new(text, strlen(text));
    free(text);
    if (!f) return -1;
    if (p->q_tail)
        p->q_tail->next = f;
    else
        p->q_head = f;
    p->q_tail = f;
    p->q_len++;
    return 0;
}

void ws_release(dashboard_t *d, pss_t *p) {
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

/* An upgrade to websocket from a foreign Host or Origin gets its 403 here,
 * before any handshake (webguard_check). Returns what CONFIRM_UPGRADE wants:
 * 0 go on, 1 refused with a response sent, -1 hang up. */
int ws_confirm_upgrade(dashboard_t *d, struct lws *wsi) {
    char uri[1024];
    http_hdrs_t h = {0};
    webguard_verdict_t v;
    if (lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) <= 0) return -1;
    char *q = strchr(uri, '?');
    if (q) *q = '\0';
    if (http_guard(d, wsi, uri, true, &h, &v) == 0) return 0;
    log_every(4, LOG_INFO, "dashboard: websocket refused: %s", v.reason);
    return lws_return_http_status(wsi, v.status, v.reason) ? -1 : 1;
}

/* The websocket URL: /socket.io/?EIO=4&transport=websocket. */
bool ws_url_ok(struct lws *wsi) {
    char uri[1024], arg[64];
    if (lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) <= 0) return false;
    if (strncmp(uri, "/socket.io", 10) != 0 || (uri[10] != '/' && uri[10] != '\0')) return false;
    const char *val = lws_get_urlarg_by_name(wsi, "EIO=", arg, sizeof(arg));
    if (!val || strcmp(val, "4") != 0) return false;
    val = lws_get_urlarg_by_name(wsi, "transport=", arg, sizeof(arg));
    return val && strcmp(val, "websocket") == 0;
}

static void make_sid(char *sid, size_t len) {
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

int ws_established(dashboard_t *d, struct lws *wsi, pss_t *p) {
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
    if (queue_private(
            p, sio_encode_open(p->sid, PING_INTERVAL_MS, PING_TIMEOUT_MS, SIO_MAX_PACKET)) != 0)
        return -1;
    lws_callback_on_writable(wsi);
    return 0;
}

/* "40": the browser joins the default namespace; it gets the present at once.
 * With a token in force, "40{"token":"..."}" (the Socket.IO auth payload)
 * or a bearer token on the upgrade is needed; else 44{"message"} and close. */
static int sio_connect(dashboard_t *d, pss_t *p, const char *nsp, json_object *auth) {
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
        snap = sio_encode_event(events_name(EV_SNAPSHOT), o);
        json_object_put(o);
    }
    o = dashstate_update_stats(d->state, clock_wall_ms());
    if (o) {
        stats = sio_encode_event(events_name(EV_UPDATE_STATS), o);
        json_object_put(o);
    }
    p->tail = d->ring.head; /* the snapshot already holds everything before this */
    pthread_mutex_unlock(&d->lock);
    if (queue_private(p, sio_encode_connect("/", p->sid)) != 0 || queue_private(p, snap) != 0 ||
        queue_private(p, stats) != 0)
        return -1;
    p->sio_connected = true;
    return 0;
}

static int ws_message(dashboard_t *d, pss_t *p, const char *buf, size_t len) {
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

int ws_receive(dashboard_t *d, struct lws *wsi, pss_t *p, const void *in, size_t len) {
    if (p->rx_len + len > MAX_WS_MESSAGE) return -1;
    char *n = realloc(p->rx, p->rx_len + len + 1);
    if (!n) return -1;
    p->rx = n;
    memcpy(p->rx + p->rx_len, in, len);
    p->rx_len += len;
    if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi)) return 0;
    size_t total = p->rx_len;
    p->rx_len = 0;
    if (lws_frame_is_binary(wsi)) return 0;
    return ws_message(d, p, p->rx, total);
}

int ws_writeable(dashboard_t *d, struct lws *wsi, pss_t *p) {
    bool more = false;
    if (p->closing) return -1;
    if (p->q_head) {
        frame_t *f = p->q_head;
        p->q_head = f->next;
        if (!p->q_head) p->q_tail = NULL;
        p->q_len--;
        int n = lws_write(wsi, f->buf + LWS_PRE, f->len, LWS_WRITE_TEXT);
        bool ok = n >= (int)f->len;
        free(f);
        if (!ok) return -1;
        more = p->q_head != NULL || p->sio_connected || p->close_when_flushed;
    } else if (p->close_when_flushed) {
        return -1;
    } else if (p->sio_connected) {
        size_t len = 0;
        pthread_mutex_lock(&d->lock);
        int got = ring_read(&d->ring, &p->tail, &p->scratch, &p->scratch_cap, &len);
        more = p->tail < d->ring.head;
        pthread_mutex_unlock(&d->lock);
        if (got < 0 ||
            (got && lws_write(wsi, p->scratch + LWS_PRE, len, LWS_WRITE_TEXT) < (int)len))
            return -1;
    }
    if (more) lws_callback_on_writable(wsi);
    return 0;
}

/* Woken by the event thread: pings, dead-client checks, and a write turn for all. */
void ws_wake(dashboard_t *d) {
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
