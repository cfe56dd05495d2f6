/* dashctx: what the dashboard's threads share, and who may touch what.
 *
 * Private to dashboard/ (the master sees only dashboard.h). One dashboard_t
 * lives from dashboard_start() to dashboard_stop(); two threads use it:
 *   lws thread:   the libwebsockets context and every connection (pss_t),
 *                 the REQ socket to the master (serve mode) and a readonly
 *                 history handle for REST reads (ws.h, http.h, rest.h);
 *   event thread: the SUB socket on the master's event stream, the stop
 *                 PAIR and the history writer (evthread.h).
 * They share the state (dashstate) and the ring of outgoing Socket.IO frames
 * (ring.h) under `lock`; nothing else is shared. The event thread wakes the
 * lws thread with lws_cancel_service() (lws 4.1.6 has no external poll to
 * share with ZeroMQ); the lws thread then asks for WRITEABLE on every
 * websocket and each client copies the next frame past its own tail.
 */
#ifndef NC_DASHCTX_H
#define NC_DASHCTX_H

#include "common/config.h"
#include "dashboard/dashboard.h"
#include "dashboard/dashstate.h"
#include "dashboard/history.h"
#include "dashboard/ring.h"
#include "dashboard/webguard.h"

#include <libwebsockets.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define MAX_POST_BODY (64 * 1024) /* a job submission's JSON body */

/* A frame queued for one websocket client only (pings, snapshot). */
typedef struct frame {
    struct frame *next;
    size_t len;
    unsigned char buf[]; /* LWS_PRE bytes of headroom, then len bytes */
} frame_t;

/* Per-connection data; lws allocates it zeroed for each connection. */
typedef struct pss {
    /* websocket (ws.h) */
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
    bool ws_authed;          /* a valid bearer token came with the upgrade */
    bool close_when_flushed; /* refused: send what is queued, then close */
    /* http (http.h, rest.h) */
    unsigned char *resp; /* LWS_PRE headroom + body */
    size_t resp_len, resp_off;
    bool close_after;
    char *body;
    size_t body_len;
    bool body_too_big, in_post;
    int64_t cancel_id; /* the body read is a cancel's (POST /api/jobs/ID/cancel) */
    unsigned refused;  /* answer this once the unread body is drained */
    char refused_why[WEBGUARD_REASON];
} pss_t;

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

    pthread_mutex_t lock; /* guards state and ring */
    dashstate_t *state;
    ring_t ring;

    atomic_int stop;
    struct lws_context *lws;
    struct lws_protocols protocols[2];
    pss_t *clients;    /* lws thread only */
    history_t *reader; /* lws thread only */
    void *req;         /* lws thread only */

    history_t *writer; /* event thread only */
    void *sub;         /* event thread only */
    void *stop_rx;     /* event thread only: PAIR, readable when the dashboard stops */
    void *stop_tx;     /* dashboard_stop()'s end of that PAIR */

    pthread_t lws_thr, ev_thr;
    bool lws_running, ev_running;
};

#endif
