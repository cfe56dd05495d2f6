#include "worker/loop.h"

#include "common/blob.h"
#include "common/clock.h"
#include "common/heap.h"
#include "common/log.h"
#include "common/proto.h"
#include "common/security.h"
#include "common/sysstat.h"
#include "common/wire.h"
#include "worker/cache.h"
#include "worker/exec.h"
#include "worker/idle.h"
#include "worker/ops.h"
#include "worker/probe.h"
#include "worker/reduce.h"
#include "worker/tcplink.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>
#include <zmq.h>

#define RECV_BATCH 256  /* messages handled per poll before timers get a look */
#define MAX_POLL_MS 100 /* bounds how late we notice *stop */
/* The owner must get the PC back within a second of touching it, whatever
 * cluster.heartbeat_ms is: the idle policy is checked this often. */
#define IDLE_CHECK_MS 250
#define PUSH_LINGER_MS 2000
#define CACHE_JOBS 2

/* log_every() slots */
enum { SLOT_MALFORMED = 0, SLOT_SEND, SLOT_SYSSTAT, SLOT_WAIT };

/* No answer at all: the first line after this long, then after doubling
 * gaps up to 32 s, then a reminder this often. */
#define NOTICE_AFTER_MS 3000
#define NOTICE_MAX_GAP_MS 32000
#define REMIND_MS 300000
#define IDLE_TRIM_MS 10000 /* idle this long: give the heap's kept memory back */

/* What the DEALER's monitor reports about the connection. */
#define MONITOR_EVENTS                                                                             \
    (ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_CONNECT_RETRIED |                    \
     ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |                        \
     ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)

typedef struct wk {
    const config_t *cfg;
    const worker_opts_t *opts;
    volatile sig_atomic_t *stop;
    void *zctx, *dealer, *push, *pub;
    void *monitor;            /* PAIR receiving the DEALER's connection events */
    int handshakes;           /* ZeroMQ handshakes completed on the current DEALER */
    bool link_up;             /* the DEALER has a TCP connection now */
    bool zmtp_ok;             /* ... and the peer completed the ZeroMQ handshake on it */
    int link_fd;              /* its TCP descriptor (the monitor's CONNECTED), -1 = unknown */
    tcplink_peer_t link_peer; /* ... and whom it was connected to then */
    bool receiving;           /* a large message is on its way (said once until it is in) */
    /* Diagnosis of a master we cannot reach, so that a user is told once per
     * backoff step what is wrong rather than every 100 ms or never. */
    int64_t down_since; /* start of the current run without a master, 0 = none */
    int64_t notice_at;  /* when to say so next */
    int64_t notice_gap; /* ... and the gap after that */
    int refused;        /* CONNECT_RETRIED since down_since: the host answers "no" */
    char peer[192];     /* what answered instead of a master ("" = not probed) */
    bool trouble;       /* a problem was logged: say so when the master answers */
    char id[PROTO_MAX_ID + 1];
    char name[CONFIG_STR], host[SYSSTAT_HOST];
    int cores, slots;
    cache_t *cache;
    exec_t *exec;
    reduce_t *reduce; /* the reduction tree's port; NULL: none (tree rounds then go star) */
    sysstat_t *sys;
    idle_t *idle;
    sysstat_sample_t sample;

    exec_task_t *qhead, *qtail;
    int qlen;

    int64_t next_hb, next_idle, master_deadline, reconnect_at;
    int64_t idle_since; /* nothing queued or running since (0: busy) */
    bool trimmed;       /* ... and the heap's kept memory was given back */
    int backoff_ms, backoff_min, backoff_max;
    bool paused;
    bool heard; /* the master answered since our last READY: it knows our id */
    char reason[128];

    uint64_t hb_seq, tasks_done;
    uint64_t rows_done;  /* rows of finished tasks */
    uint64_t rows_at_hb; /* rows_total() at the previous heartbeat */
    int64_t rows_at_hb_ms;
    double rows_per_s;
    worker_stats_t st;
} wk_t;

/* Paranoid Pirate: the master is lost when it says nothing for this long. */
static int64_t liveness_deadline(const wk_t *w) {
    return clock_now_ms() + (int64_t)w->cfg->cluster.liveness * w->cfg->cluster.heartbeat_ms;
}

/* A run of time without a master begins: no_answer() speaks up after a while. */
static void start_down(wk_t *w) {
    w->down_since = clock_now_ms();
    w->notice_at = w->down_since + NOTICE_AFTER_MS;
    w->notice_gap = NOTICE_AFTER_MS;
    w->refused = 0;
}

static void drop_msg(wk_t *w, const char *why) {
    w->st.dropped++;
    log_every(SLOT_MALFORMED, LOG_WARN,
              "dropped a malformed message from the master (%s); %llu so far", why,
              (unsigned long long)w->st.dropped);
}

/* ---------- identity and sockets ---------- */

static void fresh_id(wk_t *w) {
    uint8_t r[8];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
        /* No entropy source: time and pid still make collisions unlikely. */
        uint64_t x = (uint64_t)clock_now_us() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)w;
        memcpy(r, &x, sizeof r);
    }
    snprintf(w->id, sizeof w->id, "w");
    for (size_t i = 0; i < sizeof r; i++)
        snprintf(w->id + 1 + 2 * i, 3, "%02x", r[i]);
}

static int set_int(void *sock, int opt, int v) {
    return zmq_setsockopt(sock, opt, &v, sizeof v);
}

static int endpoint(const wk_t *w, int port, char *out, size_t outlen) {
    int n = snprintf(out, outlen, "tcp://%s:%d", w->cfg->master.ip, port);
    return n > 0 && (size_t)n < outlen ? 0 : -1;
}

/* Opens a socket of type with the security setup and connects it to port.
 * When monitor is set, connection events are published there first (so the
 * first connect is never missed). */
static void *open_socket(wk_t *w, int type, int port, const char *monitor, char *err,
                         size_t errlen) {
    char ep[CONFIG_STR + 32];
    void *s = zmq_socket(w->zctx, type);
    if (!s) {
        snprintf(err, errlen, "zmq_socket: %s", zmq_strerror(zmq_errno()));
        return NULL;
    }
    if (security_client_setup(s, w->cfg, err, errlen) != 0) goto fail;
    long long maxmsg = type == ZMQ_DEALER ? (long long)w->cfg->cluster.max_msg_mb << 20 : 0;
    if (wire_socket_defaults(s, maxmsg) != 0 ||
        (type == ZMQ_PUSH && set_int(s, ZMQ_LINGER, PUSH_LINGER_MS) != 0) ||
        /* TCP-level reconnects start at 100 ms so that a restarted master gets its
         * workers back at once, and double to 32 s for a master that stays away. */
        set_int(s, ZMQ_RECONNECT_IVL, 100) != 0 || set_int(s, ZMQ_RECONNECT_IVL_MAX, 32000) != 0 ||
        (type == ZMQ_DEALER && zmq_setsockopt(s, ZMQ_ROUTING_ID, w->id, strlen(w->id)) != 0)) {
        snprintf(err, errlen, "socket options: %s", zmq_strerror(zmq_errno()));
        goto fail;
    }
    if (monitor && zmq_socket_monitor(s, monitor, MONITOR_EVENTS) != 0) {
        snprintf(err, errlen, "socket monitor: %s", zmq_strerror(zmq_errno()));
        goto fail;
    }
    if (endpoint(w, port, ep, sizeof ep) != 0 || zmq_connect(s, ep) != 0) {
        snprintf(err, errlen, "cannot connect to %s: %s", ep, zmq_strerror(zmq_errno()));
        goto fail;
    }
    return s;
fail:
    if (monitor) zmq_socket_monitor(s, NULL, 0);
    zmq_close(s);
    return NULL;
}

/* ---------- sending ---------- */

static proto_header_t task_header(const exec_task_t *t, uint8_t type) {
    proto_header_t h = t->hdr;
    h.type = type;
    h.flags = 0;
    return h;
}

/* Sends a header-only message (HANDBACK, BYE) on the DEALER without blocking. */
static int send_dealer_simple(wk_t *w, const proto_header_t *h) {
    if (!w->dealer) return -1;
    uint8_t buf[PROTO_HEADER_SIZE];
    proto_header_encode(h, buf);
    if (zmq_send(w->dealer, buf, sizeof buf, ZMQ_DONTWAIT) < 0) {
        log_every(SLOT_SEND, LOG_WARN, "cannot send to the master: %s", zmq_strerror(zmq_errno()));
        return -1;
    }
    return 0;
}

static int send_ready(wk_t *w) {
    json_object *o = json_object_new_object();
    if (!o) return -1;
    json_object_object_add(o, "name", json_object_new_string(w->name));
    json_object_object_add(o, "host", json_object_new_string(w->host));
    json_object_object_add(o, "cores", json_object_new_int(w->cores));
    json_object_object_add(o, "slots", json_object_new_int(w->slots));
    json_object_object_add(o, "pid", json_object_new_int((int)getpid()));
    json_object_object_add(o, "version", json_object_new_string(WORKER_VERSION));
    if (w->reduce)
        json_object_object_add(o, "tree_port", json_object_new_int(reduce_port(w->reduce)));
    size_t len;
    const char *js = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len);
    proto_header_t h = {.type = MSG_READY, .shard = PROTO_NO_SHARD};
    int rc = -1;
    if (js && len <= PROTO_MAX_JSON && w->dealer) {
        uint8_t buf[PROTO_HEADER_SIZE];
        proto_header_encode(&h, buf);
        if (zmq_send(w->dealer, buf, sizeof buf, ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0 &&
            zmq_send(w->dealer, js, len, 0) >= 0)
            rc = 0;
    }
    json_object_put(o);
    if (rc != 0) log_warn("cannot send READY: %s", zmq_strerror(zmq_errno()));
    return rc;
}

static void handback(wk_t *w, const exec_task_t *t) {
    proto_header_t h = task_header(t, MSG_HANDBACK);
    if (send_dealer_simple(w, &h) == 0) w->st.handbacks++;
}

/* RESULT or FAIL for a finished task on the PUSH socket. Never blocks: with
 * the master gone for long the queue fills, and a dropped result is one the
 * master has requeued anyway. */
static void send_result(wk_t *w, exec_task_t *t) {
    bool ok = t->err_class == 0;
    proto_header_t h = task_header(t, ok ? MSG_RESULT : MSG_FAIL);
    if (!ok) h.op = (uint16_t)t->err_class;
    uint8_t buf[PROTO_HEADER_SIZE];
    proto_header_encode(&h, buf);
    int rc = zmq_send(w->push, buf, sizeof buf, ZMQ_SNDMORE | ZMQ_DONTWAIT);
    if (rc >= 0) rc = zmq_send(w->push, t->worker_id, strlen(t->worker_id), ZMQ_SNDMORE);
    if (rc >= 0) {
        if (!ok)
            rc = zmq_send(w->push, t->err, strnlen(t->err, PROTO_MAX_ERROR), 0);
        else if (t->result)
            rc = blob_send(t->result, w->push, 0);
        else
            rc = zmq_send(w->push, "", 0, 0);
    }
    if (rc < 0) {
        log_every(SLOT_SEND, LOG_WARN, "result of task %u not sent: %s", t->hdr.task_id,
                  zmq_strerror(zmq_errno()));
        return;
    }
    if (ok) {
        w->st.results++;
        w->tasks_done++;
    } else {
        w->st.fails++;
        log_debug("task %u failed (class %d): %s", t->hdr.task_id, t->err_class, t->err);
    }
    if (w->opts->die_after > 0 && w->st.results + w->st.fails >= (uint64_t)w->opts->die_after) {
        /* Test aid: die as abruptly as SIGKILL would, after the result left
         * the process (zmq_send hands it to the I/O thread; give it a moment). */
        usleep(50 * 1000);
        _exit(137);
    }
}

/* FAIL for a task that never reached an executor. */
static void fail_now(wk_t *w, exec_task_t *t, int cls, const char *msg) {
    t->err_class = cls;
    snprintf(t->err, sizeof t->err, "%s", msg);
    send_result(w, t);
}

/* ---------- task bookkeeping ---------- */

static void enqueue(wk_t *w, exec_task_t *t) {
    t->next = NULL;
    if (w->qtail)
        w->qtail->next = t;
    else
        w->qhead = t;
    w->qtail = t;
    w->qlen++;
}

static exec_task_t *dequeue(wk_t *w) {
    exec_task_t *t = w->qhead;
    if (t) {
        w->qhead = t->next;
        if (!w->qhead) w->qtail = NULL;
        t->next = NULL;
        w->qlen--;
    }
    return t;
}

static bool same_lease(const proto_header_t *a, const proto_header_t *b) {
    return a->job_id == b->job_id && a->task_id == b->task_id && a->attempt == b->attempt &&
           a->lease == b->lease;
}

static int running_count(wk_t *w) {
    int n = 0;
    for (int i = 0; i < exec_count(w->exec); i++)
        if (exec_running(w->exec, i)) n++;
    return n;
}

/* Gives up every queued and running task: handed back to the master when
 * tell is set (pause, exit), silently otherwise (the master forgot us). */
static void abandon_all(wk_t *w, bool tell) {
    exec_task_t *t;
    while ((t = dequeue(w)) != NULL) {
        if (tell) handback(w, t);
        exec_task_free(&t);
    }
    for (int i = 0; i < exec_count(w->exec); i++) {
        t = exec_running(w->exec, i);
        if (!t || t->discard) continue;
        __atomic_store_n(&t->cancel, 1, __ATOMIC_RELAXED);
        t->discard = true;
        if (tell) handback(w, t);
    }
}

static void start_tasks(wk_t *w) {
    while (w->qhead && !w->paused && !*w->stop) {
        int i = exec_free_slot(w->exec);
        if (i < 0) return;
        exec_task_t *t = dequeue(w);
        if (exec_start(w->exec, i, t) != 0) {
            fail_now(w, t, PROTO_ERR_INTERNAL, "cannot hand the task to an executor");
            exec_task_free(&t);
        }
    }
}

static void collect(wk_t *w, int i) {
    exec_task_t *t = exec_collect(w->exec, i);
    if (!t) return;
    w->rows_done += __atomic_load_n(&t->rows, __ATOMIC_RELAXED);
    if (!t->discard && t->tree && t->err_class == 0 && w->reduce) {
        /* a tree node's part goes up the tree, not to the master */
        struct treemsg_node *node = t->tree;
        t->tree = NULL;
        w->st.results++;
        w->tasks_done++;
        reduce_own(w->reduce, t, node);
        free(node);
        return;
    }
    if (!t->discard) send_result(w, t);
    exec_task_free(&t);
}

static uint64_t rows_total(wk_t *w) {
    uint64_t n = w->rows_done;
    for (int i = 0; i < exec_count(w->exec); i++) {
        exec_task_t *t = exec_running(w->exec, i);
        if (t) n += __atomic_load_n(&t->rows, __ATOMIC_RELAXED);
    }
    return n;
}

/* ---------- messages from the master ---------- */

static void on_cancel(wk_t *w, const proto_header_t *h) {
    exec_task_t **pp = &w->qhead, *prev = NULL;
    for (exec_task_t *t = w->qhead; t; prev = t, t = t->next) {
        if (same_lease(&t->hdr, h)) {
            *pp = t->next;
            if (w->qtail == t) w->qtail = prev;
            w->qlen--;
            exec_task_free(&t);
            return;
        }
        pp = &t->next;
    }
    for (int i = 0; i < exec_count(w->exec); i++) {
        exec_task_t *t = exec_running(w->exec, i);
        if (t && same_lease(&t->hdr, h)) {
            __atomic_store_n(&t->cancel, 1, __ATOMIC_RELAXED);
            t->discard = true;
            return;
        }
    }
}

static bool known_lease(wk_t *w, const proto_header_t *h) {
    for (exec_task_t *t = w->qhead; t; t = t->next)
        if (same_lease(&t->hdr, h)) return true;
    for (int i = 0; i < exec_count(w->exec); i++) {
        exec_task_t *t = exec_running(w->exec, i);
        if (t && same_lease(&t->hdr, h)) return true;
    }
    return false;
}

/* Stores frame i (taken over, not copied: a class split's rows may be
 * hundreds of MB); -1 on ENOMEM. */
static int store_frame(wk_t *w, wire_msg_t *m, int i, const proto_header_t *h, bool shard) {
    blob_t *b = blob_take_msg(&m->f[i]);
    if (!b) return -1;
    int rc = shard ? cache_put_shard(w->cache, h->job_id, h->shard, b)
                   : cache_put_context(w->cache, h->job_id, b);
    blob_unref(&b);
    return rc;
}

/* The TASK's NODE frame (frame at): 0 with *node (malloc'd; NULL when out
 * of memory), or -1 when it is malformed (dropped and counted). */
static int tree_frame(wk_t *w, wire_msg_t *m, int at, treemsg_node_t **node) {
    char why[256];
    *node = malloc(sizeof **node);
    if (*node &&
        treemsg_decode_node(wire_data(m, at), wire_size(m, at), *node, why, sizeof why) < 0) {
        free(*node);
        *node = NULL;
        drop_msg(w, why);
        return -1;
    }
    return 0;
}

static void on_task(wk_t *w, wire_msg_t *m, const proto_header_t *h) {
    bool has_ctx = h->flags & PROTO_F_CONTEXT, has_shard = h->flags & PROTO_F_SHARD;
    bool has_tree = h->flags & PROTO_F_TREE;
    if (h->flags & ~(PROTO_F_CONTEXT | PROTO_F_SHARD | PROTO_F_TREE)) {
        drop_msg(w, "unknown TASK flags");
        return;
    }
    if (has_shard && h->shard == PROTO_NO_SHARD) {
        drop_msg(w, "shard bytes for no shard");
        return;
    }
    if (h->shard == PROTO_ROWS_SHARD) {
        drop_msg(w, "TASK names a reserved shard id");
        return;
    }
    if (h->attempt == 0) {
        drop_msg(w, "TASK attempt 0");
        return;
    }
    if (known_lease(w, h)) {
        drop_msg(w, "duplicate TASK");
        return;
    }
    treemsg_node_t *node = NULL;
    if (has_tree && tree_frame(w, m, 2 + has_ctx + has_shard, &node) < 0) return;
    exec_task_t *t = exec_task_new();
    if (!t || (has_tree && !node)) {
        log_every(SLOT_SEND, LOG_ERROR, "out of memory for task %u", h->task_id);
        free(node);
        exec_task_free(&t);
        return; /* the master's lease timeout recovers it */
    }
    /* without a tree port (it could not be opened) the answer goes to the
     * master directly: the master takes it for this node alone */
    if (w->reduce)
        t->tree = node;
    else
        free(node);
    t->hdr = *h;
    snprintf(t->worker_id, sizeof t->worker_id, "%s", w->id);
    int next = 2;
    int rc = 0;
    if (has_ctx) rc |= store_frame(w, m, next++, h, false);
    if (has_shard) rc |= store_frame(w, m, next++, h, true);
    if (rc != 0) {
        fail_now(w, t, PROTO_ERR_INTERNAL, "out of memory storing the task's data");
        goto out;
    }
    if (w->paused || *w->stop) {
        /* Data kept (it is valid and the master now counts us as holder). */
        handback(w, t);
        goto out;
    }
    zmq_msg_move(&t->body, &m->f[1]);
    t->context = cache_get_context(w->cache, h->job_id);
    t->cache = w->cache;
    if (h->shard != PROTO_NO_SHARD) {
        t->entry = cache_acquire(w->cache, h->job_id, h->shard);
        if (!t->entry) {
            char msg[128];
            snprintf(msg, sizeof msg, "shard %u of job %u is not cached here", h->shard, h->job_id);
            fail_now(w, t, PROTO_ERR_NOSHARD, msg);
            goto out;
        }
    }
    const op_def_t *def = ops_lookup(h->op);
    if (def && (def->needs & OP_INLINE)) {
        exec_run(t);
        send_result(w, t);
        goto out;
    }
    enqueue(w, t);
    t = NULL;
    start_tasks(w);
out:
    exec_task_free(&t);
}

/* Forgets the master's view of us: our leases are void from now on. */
static void forget_leases(wk_t *w) {
    abandon_all(w, false);
    if (w->reduce) reduce_clear(w->reduce);
    cache_clear(w->cache);
}

static void handle_monitor(wk_t *w);

static void handle_dealer(wk_t *w) {
    /* ZeroMQ publishes a completed handshake on the monitor before it hands
     * over the first message: read it first, so that bytes from a peer that
     * never completed one (ZeroMQ's ZMTP 1.0 fallback turns an HTTP reply
     * into a "message") are not taken for a malformed message from a master. */
    if (w->monitor && !w->zmtp_ok) handle_monitor(w);
    for (int n = 0; n < RECV_BATCH && w->dealer; n++) {
        wire_msg_t m;
        if (wire_recv(w->dealer, &m, ZMQ_DONTWAIT) < 0) return;
        proto_header_t h;
        const char *why = "frames";
        int mn, mx;
        if (m.too_many || m.n < 1 ||
            proto_header_decode(wire_data(&m, 0), wire_size(&m, 0), &h, &why) < 0) {
            if (w->monitor && !w->zmtp_ok)
                w->st.dropped++; /* not_a_master() says what the peer is */
            else
                drop_msg(w, why);
            goto next;
        }
        /* A message with our header comes from a master, whatever the monitor
         * said so far (its events are not part of the contract). */
        w->zmtp_ok = true;
        if (!proto_type_from_master(h.type)) {
            drop_msg(w, "message type not sent by a master");
            goto next;
        }
        proto_frames_allowed(h.type, h.flags, &mn, &mx);
        if (m.n < mn || m.n > mx) {
            drop_msg(w, "frame count");
            goto next;
        }
        /* A well-formed message: the master is alive and, unless this is a
         * RESET, knows who we are. When it has just learnt that, it gets our
         * stats at once rather than a heartbeat interval later, so that a
         * worker shows its CPU and memory from the moment it joins. */
        bool was_heard = w->heard;
        w->heard = h.type != MSG_RESET;
        if (w->heard && !was_heard) w->next_hb = clock_now_ms();
        w->master_deadline = liveness_deadline(w);
        w->receiving = false;
        w->backoff_ms = w->backoff_min;
        if (w->trouble) {
            log_info("the master at %s:%d answers", w->cfg->master.ip, w->cfg->master.task_port);
            w->trouble = false;
        }
        w->peer[0] = 0;
        switch (h.type) {
        case MSG_PING:
            break;
        case MSG_TASK:
            on_task(w, &m, &h);
            break;
        case MSG_CANCEL:
            on_cancel(w, &h);
            break;
        case MSG_RESET:
            log_info("master does not know us (RESET): dropping our tasks and saying READY again");
            forget_leases(w);
            send_ready(w);
            break;
        default:
            drop_msg(w, "unexpected message type");
            break;
        }
    next:
        wire_close(&m);
    }
}

/* ---------- timers ---------- */

static void close_dealer(wk_t *w) {
    if (w->monitor) {
        zmq_socket_monitor(w->dealer, NULL, 0);
        zmq_close(w->monitor);
        w->monitor = NULL;
    }
    if (w->dealer) {
        zmq_close(w->dealer);
        w->dealer = NULL;
    }
}

static int connect_dealer(wk_t *w) {
    char err[256], mon[PROTO_MAX_ID + 64];
    int zero = 0;
    fresh_id(w);
    snprintf(mon, sizeof mon, "inproc://nc-monitor-%p-%s", (void *)w, w->id);
    w->handshakes = 0;
    w->link_up = false;
    w->zmtp_ok = false;
    w->link_fd = -1;
    w->link_peer.len = 0;
    if (!w->down_since) start_down(w);
    w->dealer = open_socket(w, ZMQ_DEALER, w->cfg->master.task_port, mon, err, sizeof err);
    if (!w->dealer) {
        log_error("%s", err);
        return -1;
    }
    w->monitor = zmq_socket(w->zctx, ZMQ_PAIR);
    if (!w->monitor || zmq_setsockopt(w->monitor, ZMQ_LINGER, &zero, sizeof zero) != 0 ||
        zmq_connect(w->monitor, mon) != 0) {
        /* Not fatal: the liveness timeout still notices a restarted master. */
        log_warn("no connection monitor: %s", zmq_strerror(zmq_errno()));
        if (w->monitor) zmq_close(w->monitor);
        w->monitor = NULL;
        zmq_socket_monitor(w->dealer, NULL, 0);
    }
    w->master_deadline = liveness_deadline(w);
    w->heard = false;
    /* READY even while paused: a master that does not know us would not PING
     * us, and we would reconnect forever. What it leases meanwhile goes
     * straight back (HANDBACK), which also stops its credit until the
     * READY we send on resuming. */
    send_ready(w);
    return 0;
}

/* Something answered on the task port that is not a master (or not one we
 * may talk to): say what it is, once per backoff step, and try again later
 * under a new id rather than at ZeroMQ's 100 ms reconnect pace. */
static void not_a_master(wk_t *w, const char *what) {
    if (!what) { /* a CURVE master that does not admit us: no need to ask what it is */
        snprintf(w->peer, sizeof w->peer, "a master that refused our key");
        log_warn("the master at %s:%d refused our CurveZMQ key (is our public key in its "
                 "authorized_keys?); retrying in %d s",
                 w->cfg->master.ip, w->cfg->master.task_port, (w->backoff_ms + 999) / 1000);
    } else {
        if (!w->peer[0] &&
            probe_peer(w->cfg->master.ip, w->cfg->master.task_port, w->peer, sizeof w->peer) < 0)
            snprintf(w->peer, sizeof w->peer, "nothing we could reach again");
        log_warn("%s:%d does not answer as a NetCompute master: %s; it looks like %s; "
                 "retrying in %d s",
                 w->cfg->master.ip, w->cfg->master.task_port, what, w->peer,
                 (w->backoff_ms + 999) / 1000);
    }
    w->trouble = true;
    forget_leases(w);
    close_dealer(w);
    w->reconnect_at = clock_now_ms() + w->backoff_ms;
    w->backoff_ms = w->backoff_ms * 2 > w->backoff_max ? w->backoff_max : w->backoff_ms * 2;
}

/* Nobody has answered on the task port for a while: ZeroMQ keeps trying by
 * itself (100 ms doubling to 32 s). A refused connection comes back at once
 * as CONNECT_RETRIED; a host that does not answer at all (unreachable, or a
 * firewall dropping packets) leaves a connect pending for minutes with no
 * event, which is why this runs from the timer. */
static void no_answer(wk_t *w, int64_t now) {
    const char *why = w->refused ? "nothing is listening there (is the master running, and are "
                                   "--master and master.task_port right?)"
                                 : "the host does not answer (unreachable, or a firewall drops "
                                   "the packets?)";
    log_warn("no answer from %s:%d for %lld s: %s; still trying", w->cfg->master.ip,
             w->cfg->master.task_port, (long long)((now - w->down_since) / 1000), why);
    w->trouble = true;
    w->notice_at = now + w->notice_gap;
    w->notice_gap = w->notice_gap >= NOTICE_MAX_GAP_MS      ? REMIND_MS
                    : w->notice_gap * 2 > NOTICE_MAX_GAP_MS ? NOTICE_MAX_GAP_MS
                                                            : w->notice_gap * 2;
}

/* The DEALER's monitor. A completed ZeroMQ handshake is what tells a master
 * (or at least a ZeroMQ peer) from anything else that accepts TCP: a
 * connection that closes or fails before it is not our master.
 *
 * When the connection to a master drops or comes back (a restarted master,
 * or a network blip), the master on the other end will not honour our
 * leases (a new master never knew them; the old one requeues them on the
 * READY we send on reconnecting), so drop them when the connection drops --
 * results finished later would only queue in PUSH and reach the next master
 * as stale -- and say READY as soon as it is back, rather than waiting for
 * liveness to run out. */
static void handle_monitor(wk_t *w) {
    for (int n = 0; n < 16 && w->monitor; n++) {
        wire_msg_t m;
        if (wire_recv(w->monitor, &m, ZMQ_DONTWAIT) < 0) return;
        uint16_t ev = 0;
        uint32_t value = 0; /* the descriptor, for CONNECTED */
        if (m.n >= 1 && wire_size(&m, 0) >= sizeof ev) memcpy(&ev, wire_data(&m, 0), sizeof ev);
        if (m.n >= 1 && wire_size(&m, 0) >= sizeof ev + sizeof value)
            memcpy(&value, (const char *)wire_data(&m, 0) + sizeof ev, sizeof value);
        wire_close(&m);
        if (ev == ZMQ_EVENT_CONNECTED || ev == ZMQ_EVENT_DISCONNECTED) {
            w->link_fd = ev == ZMQ_EVENT_CONNECTED ? (int)value : -1;
            tcplink_peer(w->link_fd, &w->link_peer);
        }
        switch (ev) {
        case ZMQ_EVENT_CONNECTED:
            w->link_up = true;
            w->zmtp_ok = false;
            /* The peer's silence is counted from when it could first hear us. */
            w->master_deadline = liveness_deadline(w);
            break;
        case ZMQ_EVENT_CONNECT_RETRIED:
            if (w->peer[0]) { /* what answered before has gone away */
                w->peer[0] = 0;
                start_down(w);
            }
            w->refused++;
            break;
        case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
            w->zmtp_ok = true;
            w->down_since = 0;
            w->master_deadline = liveness_deadline(w);
            if (++w->handshakes > 1) {
                log_info("connection to the master is back: saying READY again");
                forget_leases(w);
                send_ready(w);
            }
            break;
        case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
            w->link_up = false;
            not_a_master(w, NULL);
            break;
        case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
        case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
            w->link_up = false;
            not_a_master(w, "the ZeroMQ handshake failed");
            break;
        case ZMQ_EVENT_DISCONNECTED:
            w->link_up = false;
            if (!w->zmtp_ok) {
                not_a_master(w, "it closed the connection during the ZeroMQ handshake");
                break;
            }
            log_info("lost the connection to the master: dropping %d queued and %d running tasks",
                     w->qlen, running_count(w));
            w->heard = false; /* no heartbeats under an id a new master may not know */
            w->zmtp_ok = false;
            start_down(w);
            forget_leases(w);
            break;
        default:
            break;
        }
    }
}

/* A peer that completed the ZeroMQ handshake and then said nothing for
 * liveness heartbeats: a master that is busy, stuck or stopped. */
static void master_lost(wk_t *w) {
    int64_t silent = (int64_t)w->cfg->cluster.liveness * w->cfg->cluster.heartbeat_ms;
    log_warn("the master at %s:%d has been silent for %lld ms (busy, stuck or stopped?): "
             "dropping %d queued and %d running tasks, reconnecting in %d ms",
             w->cfg->master.ip, w->cfg->master.task_port, (long long)silent, w->qlen,
             running_count(w), w->backoff_ms);
    w->trouble = true;
    forget_leases(w);
    close_dealer(w);
    w->reconnect_at = clock_now_ms() + w->backoff_ms;
    w->backoff_ms = w->backoff_ms * 2 > w->backoff_max ? w->backoff_max : w->backoff_ms * 2;
}

/* The master said nothing for liveness heartbeats, but bytes arrived on the
 * task connection within that time: it is sending a message too large to
 * have arrived yet (its PINGs queue behind it), not gone. Moves the deadline
 * to liveness heartbeats after those bytes. */
static bool still_sending(wk_t *w, int64_t now) {
    int64_t window = (int64_t)w->cfg->cluster.liveness * w->cfg->cluster.heartbeat_ms;
    int64_t idle = tcplink_idle_ms(w->link_fd, &w->link_peer);
    if (idle < 0 || idle >= window) return false;
    if (!w->receiving) log_info("the master is sending a large message: waiting for it");
    w->receiving = true;
    w->master_deadline = now + window - idle;
    return true;
}

static const char *state_name(wk_t *w) {
    if (w->paused) return "paused";
    return (w->qlen > 0 || running_count(w) > 0) ? "busy" : "idle";
}

static void send_heartbeat(wk_t *w) {
    if (sysstat_read(w->sys, &w->sample) != 0)
        log_every(SLOT_SYSSTAT, LOG_WARN, "cannot read /proc/stat for heartbeats");
    int64_t now = clock_now_ms();
    uint64_t rows = rows_total(w);
    if (now > w->rows_at_hb_ms)
        w->rows_per_s = (double)(rows - w->rows_at_hb) * 1000.0 / (double)(now - w->rows_at_hb_ms);
    w->rows_at_hb = rows;
    w->rows_at_hb_ms = now;

    int current = -1;
    for (int i = 0; i < exec_count(w->exec) && current < 0; i++) {
        exec_task_t *t = exec_running(w->exec, i);
        if (t && !t->discard) current = (int)t->hdr.task_id;
    }
    json_object *o = json_object_new_object();
    if (!o) return;
    const sysstat_sample_t *s = &w->sample;
    json_object_object_add(o, "name", json_object_new_string(w->name));
    json_object_object_add(o, "host", json_object_new_string(w->host));
    json_object_object_add(o, "cores", json_object_new_int(w->cores));
    json_object_object_add(o, "slots", json_object_new_int(w->slots));
    json_object_object_add(o, "cpu", json_object_new_double(s->cpu_pct));
    json_object_object_add(o, "mem", json_object_new_double(s->mem_pct));
    json_object_object_add(o, "load", json_object_new_double(s->load1));
    json_object_object_add(o, "battery",
                           s->has_battery ? json_object_new_double(s->battery_pct) : NULL);
    json_object_object_add(o, "ac", s->has_battery ? json_object_new_boolean(s->on_ac) : NULL);
    json_object_object_add(o, "state", json_object_new_string(state_name(w)));
    json_object_object_add(o, "reason", json_object_new_string(w->paused ? w->reason : ""));
    json_object_object_add(o, "tasks_done", json_object_new_int64((int64_t)w->tasks_done));
    json_object_object_add(o, "current_task", current < 0 ? NULL : json_object_new_int64(current));
    json_object_object_add(o, "rows_per_s", json_object_new_double(w->rows_per_s));
    json_object_object_add(o, "seq", json_object_new_int64((int64_t)++w->hb_seq));
    size_t len;
    const char *js = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len);
    proto_header_t h = {.type = MSG_HEARTBEAT, .shard = PROTO_NO_SHARD};
    uint8_t buf[PROTO_HEADER_SIZE];
    proto_header_encode(&h, buf);
    /* PUB never blocks: it drops when no subscriber keeps up. */
    if (js && len <= PROTO_MAX_JSON &&
        zmq_send(w->pub, buf, sizeof buf, ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0 &&
        zmq_send(w->pub, w->id, strlen(w->id), ZMQ_SNDMORE) >= 0 &&
        zmq_send(w->pub, js, len, 0) >= 0)
        w->st.heartbeats++;
    json_object_put(o);
}

static void check_idle(wk_t *w) {
    if (!w->idle) return;
    char reason[sizeof w->reason];
    idle_verdict_t v = idle_check(w->idle, &w->sample, running_count(w), reason, sizeof reason);
    if (v == IDLE_PAUSE && !w->paused) {
        log_info("pausing: %s; handing back %d queued and %d running tasks", reason, w->qlen,
                 running_count(w));
        w->paused = true;
        abandon_all(w, true);
    } else if (v == IDLE_RUN && w->paused) {
        log_info("resuming: asking the master for work again");
        w->paused = false;
        send_ready(w);
    }
    if (w->paused) snprintf(w->reason, sizeof w->reason, "%s", reason);
}

/* A worker with nothing queued or running for IDLE_TRIM_MS (longer than a
 * master's pause between rounds) returns to the
 * system the memory its heap kept from the tasks (common/heap.h): the PC's
 * owner gets it back between jobs. Once per idle spell. */
static void give_back_when_idle(wk_t *w, int64_t now) {
    if (w->qlen > 0 || running_count(w) > 0) {
        w->idle_since = 0;
        w->trimmed = false;
    } else if (!w->idle_since) {
        w->idle_since = now;
    } else if (!w->trimmed && now - w->idle_since >= IDLE_TRIM_MS) {
        heap_give_back();
        w->trimmed = true;
    }
}

static void on_timers(wk_t *w) {
    int64_t now = clock_now_ms();
    if (now >= w->next_hb) {
        /* A heartbeat under an id the master has not registered yet is one
         * it must drop and count; wait until it has answered our READY. */
        if (w->heard && w->dealer)
            send_heartbeat(w);
        else if (sysstat_read(w->sys, &w->sample) != 0)
            log_every(SLOT_SYSSTAT, LOG_WARN, "cannot read /proc/stat");
        w->next_hb = now + w->cfg->cluster.heartbeat_ms;
    }
    if (now >= w->next_idle) {
        check_idle(w);
        give_back_when_idle(w, now);
        w->next_idle = now + IDLE_CHECK_MS;
    }
    if (w->dealer && now >= w->master_deadline) {
        if (w->monitor && !w->link_up) {
            /* Nobody to be silent: ZeroMQ is still (re)connecting by itself,
             * 100 ms doubling to 32 s, and our READY waits in the pipe; the
             * monitor's CONNECT_RETRIED events say so (connect_retried).
             * Liveness is for a peer that is connected but says nothing. */
            w->master_deadline = liveness_deadline(w);
        } else if (w->monitor && !w->zmtp_ok) {
            not_a_master(w, "it accepted the connection but did not complete the ZeroMQ "
                            "handshake");
        } else if (!still_sending(w, now)) {
            master_lost(w);
        }
    }
    if (w->dealer && w->monitor && !w->link_up && w->down_since && !w->peer[0] &&
        now >= w->notice_at)
        no_answer(w, now);
    if (!w->dealer && now >= w->reconnect_at) {
        w->st.reconnects++;
        if (connect_dealer(w) == 0 && !w->trouble) /* else the trouble line said when */
            log_info("reconnecting to the master as %s", w->id);
        else
            w->reconnect_at = now + w->backoff_ms;
    }
}

static int poll_timeout(wk_t *w) {
    int64_t next = w->next_hb;
    if (w->dealer && w->master_deadline < next) next = w->master_deadline;
    if (!w->dealer && w->reconnect_at < next) next = w->reconnect_at;
    if (w->reduce && reduce_deadline(w->reduce) < next) next = reduce_deadline(w->reduce);
    int64_t ms = clock_until(next);
    return ms > MAX_POLL_MS ? MAX_POLL_MS : (int)ms;
}

/* ---------- setup, loop, shutdown ---------- */

static size_t cache_limit(void) {
    /* Half the RAM for shards: the master re-sends what we evict. */
    long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || psize <= 0) return 0;
    return (size_t)pages * (size_t)psize / 2;
}

static int setup(wk_t *w, char *err, size_t errlen) {
    const config_t *cfg = w->cfg;
    w->sys = sysstat_new(w->opts->sys_root);
    if (!w->sys) {
        snprintf(err, errlen, "cannot set up the system statistics reader");
        return -1;
    }
    sysstat_read(w->sys, &w->sample);
    w->cores = w->sample.cores > 0 ? w->sample.cores : 1;
    snprintf(w->host, sizeof w->host, "%s", w->sample.hostname[0] ? w->sample.hostname : "unknown");
    snprintf(w->name, sizeof w->name, "%s", cfg->worker.name[0] ? cfg->worker.name : w->host);
    w->slots = cfg->worker.slots > 0 ? cfg->worker.slots : w->cores;
    if (strcmp(cfg->worker.when, "idle") == 0) {
        w->idle = idle_new(cfg, w->opts->sys_root, err, errlen);
        if (!w->idle) return -1;
    }
    w->cache = cache_new(CACHE_JOBS, cache_limit());
    w->zctx = zmq_ctx_new();
    if (!w->cache || !w->zctx) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    w->exec = exec_new(w->zctx, w->cache, w->slots, cfg->worker.max_cpu, err, errlen);
    if (!w->exec) return -1;
    char why[256];
    if (cfg->worker.tree_port < 0)
        log_debug("no reduction tree port (worker.tree_port -1)");
    else if (!(w->reduce = reduce_new(w->zctx, cfg, why, sizeof why)))
        log_info("no reduction tree port (%s): this worker's answers go to the master directly",
                 why);
    fresh_id(w); /* heartbeats name us even before the first DEALER */
    w->push = open_socket(w, ZMQ_PUSH, cfg->master.result_port, NULL, err, errlen);
    if (!w->push) return -1;
    w->pub = open_socket(w, ZMQ_PUB, cfg->master.heartbeat_port, NULL, err, errlen);
    if (!w->pub) return -1;
    if (connect_dealer(w) != 0) {
        snprintf(err, errlen, "cannot open the task socket to %s:%d", cfg->master.ip,
                 cfg->master.task_port);
        return -1;
    }
    return 0;
}

static void teardown(wk_t *w) {
    if (w->exec) {
        abandon_all(w, false);
        exec_destroy(&w->exec);
    }
    exec_task_t *t;
    while ((t = dequeue(w)) != NULL)
        exec_task_free(&t);
    close_dealer(w);
    reduce_destroy(&w->reduce);
    if (w->pub) zmq_close(w->pub);
    if (w->push) zmq_close(w->push); /* lingers PUSH_LINGER_MS for results in flight */
    if (w->zctx) zmq_ctx_term(w->zctx);
    cache_destroy(&w->cache);
    idle_destroy(&w->idle);
    sysstat_destroy(&w->sys);
}

/* Hands everything back and says BYE; results already finished go out first. */
static void leave(wk_t *w) {
    for (int i = 0; i < exec_count(w->exec); i++)
        collect(w, i);
    int q = w->qlen, r = running_count(w);
    abandon_all(w, true);
    if (w->dealer) {
        proto_header_t h = {.type = MSG_BYE, .shard = PROTO_NO_SHARD};
        send_dealer_simple(w, &h);
        /* BYE and HANDBACKs must leave before the DEALER closes (linger 0). */
        set_int(w->dealer, ZMQ_LINGER, 500);
    }
    log_info("stopping: handed back %d queued and %d running tasks, said BYE", q, r);
}

int worker_run(const config_t *cfg, const worker_opts_t *opts, volatile sig_atomic_t *stop,
               worker_stats_t *stats, char *err, size_t errlen) {
    static const worker_opts_t no_opts;
    wk_t *w = calloc(1, sizeof *w);
    zmq_pollitem_t *items = NULL;
    int rc = -1;
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    w->cfg = cfg;
    w->opts = opts ? opts : &no_opts;
    w->stop = stop;
    w->backoff_min = w->opts->backoff_min_ms > 0 ? w->opts->backoff_min_ms : 1000;
    w->backoff_max = w->opts->backoff_max_ms > 0 ? w->opts->backoff_max_ms : 32000;
    w->backoff_ms = w->backoff_min;
    if (setup(w, err, errlen) != 0) goto out;
    log_info("worker %s (%s): %d slots on %d cores, master %s:%d, id %s", w->name, w->host,
             w->slots, w->cores, cfg->master.ip, cfg->master.task_port, w->id);
    int nexec = exec_count(w->exec);
    items = calloc((size_t)nexec + 3, sizeof *items);
    if (!items) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    w->rows_at_hb_ms = clock_now_ms();
    w->next_hb = clock_now_ms();
    while (!*stop) {
        for (int i = 0; i < nexec; i++)
            items[i] = (zmq_pollitem_t){exec_socket(w->exec, i), 0, ZMQ_POLLIN, 0};
        int n = nexec;
        int di = -1, mi = -1;
        if (w->dealer) {
            di = n;
            items[n++] = (zmq_pollitem_t){w->dealer, 0, ZMQ_POLLIN, 0};
        }
        if (w->monitor) {
            mi = n;
            items[n++] = (zmq_pollitem_t){w->monitor, 0, ZMQ_POLLIN, 0};
        }
        int ri = -1;
        if (w->reduce) {
            ri = n;
            items[n++] = (zmq_pollitem_t){reduce_socket(w->reduce), 0, ZMQ_POLLIN, 0};
        }
        if (zmq_poll(items, n, poll_timeout(w)) < 0) {
            if (zmq_errno() == EINTR) continue;
            snprintf(err, errlen, "zmq_poll: %s", zmq_strerror(zmq_errno()));
            goto out;
        }
        for (int i = 0; i < nexec; i++)
            if (items[i].revents & ZMQ_POLLIN) collect(w, i);
        if (di >= 0 && (items[di].revents & ZMQ_POLLIN)) handle_dealer(w);
        if (mi >= 0 && (items[mi].revents & ZMQ_POLLIN)) handle_monitor(w);
        if (ri >= 0 && (items[ri].revents & ZMQ_POLLIN)) reduce_recv(w->reduce);
        for (exec_task_t *t; w->reduce && (t = reduce_next(w->reduce, clock_now_ms()));) {
            w->st.results--; /* counted when the part was taken */
            w->tasks_done--;
            send_result(w, t);
            exec_task_free(&t);
        }
        start_tasks(w);
        on_timers(w);
    }
    leave(w);
    rc = 0;
out:
    if (stats) *stats = w->st;
    teardown(w);
    free(items);
    free(w);
    return rc;
}
