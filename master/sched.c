#include "master/sched.h"

#include "common/clock.h"
#include "common/log.h"
#include "common/proto.h"
#include "common/security.h"
#include "common/treemsg.h"
#include "common/wire.h"
#include "master/peerjson.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>
#include <zmq.h>

#define MAX_LEASES 2
#define NO_WORKER (-1)
#define NIL (-1)
#define MAX_FAILURES 3
#define MAX_NOSHARD 8
#define RECV_BATCH 2000
#define SCHED_SMALL_MSG (64 * 1024) /* inbound bound on the ROUTER and SUB */

enum { T_QUEUED, T_RUNNING, T_DONE };

/* Kinds of dropped messages, for counters and /metrics. */
enum {
    DROP_MALFORMED,    /* bad header, frame count, sizes */
    DROP_UNKNOWN_TASK, /* result for a task id we never issued */
    DROP_STALE,        /* result for a lease no longer live (requeued, cancelled) */
    DROP_DUPLICATE,    /* result for a task already done */
    DROP_FORGED,       /* lease nonce or worker id does not match */
    DROP_UNKNOWN_PEER, /* heartbeat or message from a worker that never said READY */
    DROP_FLOOD,        /* heartbeats faster than the configured rate */
    DROP_TOO_MANY,     /* READY past cluster.max_workers */
    DROP_KINDS
};
static const char *drop_names[DROP_KINDS] = {"malformed", "unknown_task",    "stale",
                                             "duplicate", "forged",          "unknown_peer",
                                             "flood",     "too_many_workers"};

typedef struct lease {
    uint32_t attempt;
    uint64_t nonce;
    int worker;
    int64_t start_us;
    int64_t start_wall;
} lease_t;

typedef struct task {
    uint32_t id;
    uint16_t op;
    uint32_t shard;  /* the first of the group in a grouped round */
    uint32_t *group; /* grouped round: the shards, ascending (owned) */
    uint32_t ngroup;
    bool full; /* grouped round: the body carries every point */
    blob_t *body;
    blob_t *tree;  /* tree round: the NODE frame (common/treemsg.h); NULL: direct */
    uint32_t node; /* ... and its node */
    uint64_t rows;
    uint8_t state;
    uint8_t nleases;
    lease_t leases[MAX_LEASES];
    uint32_t attempts;
    uint16_t failures, noshard;
    int32_t prev, next; /* queue links */
} task_t;

typedef struct worker {
    bool used, alive, accepting;
    char id[PROTO_MAX_ID + 1];
    size_t idlen;
    char name[65], host[65];
    int cores, slots, inflight;
    bool leased; /* held a lease since its last heartbeat: busy, whatever it says */
    int64_t last_seen_ms, joined_wall;
    int64_t hb_window_ms; /* start of the current rate window */
    int hb_in_window;
    uint32_t ctx_job, ctx_version;
    uint64_t tasks_done, rows_done;
    uint32_t *held;
    size_t nheld, capheld;
    /* its reduction tree port as this master reaches it ("" = none) */
    char tree_ep[TREEMSG_MAX_EP + 1];
    char key[SECURITY_Z85_BUF]; /* CURVE: the key its task connection proved */
} worker_t;

struct sched {
    const config_t *cfg;
    events_t *ev;
    volatile sig_atomic_t *stop;
    bool cancel; /* sched_cancel(): the current job stops as if stopped by a signal */
    void *router, *pull, *sub;
    int64_t hb_ms, dead_ms;
    int64_t next_tick_ms;

    worker_t *workers;
    int nworkers, capworkers, rr;

    /* current batch */
    task_t *tasks;
    size_t ntasks, captasks;
    uint32_t base_id, next_id;
    int32_t qhead, qtail;
    size_t pending;
    uint64_t rows_total, rows_done, done_in_batch;
    int64_t durations_sum_us;
    uint64_t durations_n;

    /* current job: job_id is the run id (events, the page); wire_id is what
     * tasks carry and workers key their caches by (see sched_begin_job) */
    uint32_t job_id, wire_id, wire_base, wire_count;
    int fd;
    sched_shard_t *shards;
    size_t nshards;
    int *holder;
    blob_t *context;
    uint32_t ctx_version;
    int prefetch;
    bool speculate;

    uint64_t rng;
    sched_counters_t c;
    sched_tick_fn tick;
    void *tick_arg;
    void *aux_sock;
    sched_aux_fn aux_fn;
    void *aux_arg;

    /* the grouped round running, if any */
    sched_round_t *round;
    /* ... and its reduction tree (tree_nodes 0: none, or given up) */
    uint64_t tree_round;
    uint32_t tree_nodes;
    uint32_t *tree_task; /* [tree_nodes]: each node's task id */
    int64_t tree_start_us, tree_deadline_ms;
    int64_t last_round_us; /* how long the last round took (a tree's deadline) */

    /* result delivery during sched_wait */
    sched_result_fn on_result;
    void *on_result_arg;
    bool failed, data_error;
    char fail_msg[PROTO_MAX_ERROR + 256];
};

/* ---------- small helpers ---------- */

static uint64_t next_nonce(sched_t *s) {
    /* splitmix64 over a secret random seed: unguessable enough that a peer
     * cannot forge a result for a lease it was not given. */
    uint64_t z = (s->rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void drop(sched_t *s, int kind, const char *what) {
    s->c.dropped[kind]++;
    s->c.dropped_total++;
    log_every(1, LOG_WARN, "dropped a %s message (%s)", drop_names[kind], what);
}

static task_t *task_by_id(sched_t *s, uint32_t id) {
    if (id < s->base_id || id >= s->base_id + s->ntasks) return NULL;
    return &s->tasks[id - s->base_id];
}

static void q_remove(sched_t *s, task_t *t) {
    int32_t i = (int32_t)(t - s->tasks);
    if (t->prev != NIL)
        s->tasks[t->prev].next = t->next;
    else if (s->qhead == i)
        s->qhead = t->next;
    if (t->next != NIL)
        s->tasks[t->next].prev = t->prev;
    else if (s->qtail == i)
        s->qtail = t->prev;
    t->prev = t->next = NIL;
}

static void q_push(sched_t *s, task_t *t, bool front) {
    int32_t i = (int32_t)(t - s->tasks);
    t->state = T_QUEUED;
    t->prev = t->next = NIL;
    if (s->qhead == NIL) {
        s->qhead = s->qtail = i;
    } else if (front) {
        t->next = s->qhead;
        s->tasks[s->qhead].prev = i;
        s->qhead = i;
    } else {
        t->prev = s->qtail;
        s->tasks[s->qtail].next = i;
        s->qtail = i;
    }
}

static worker_t *worker_find(sched_t *s, const void *id, size_t len) {
    for (int i = 0; i < s->nworkers; i++) {
        worker_t *w = &s->workers[i];
        if (w->used && w->idlen == len && memcmp(w->id, id, len) == 0) return w;
    }
    return NULL;
}

static int worker_index(sched_t *s, worker_t *w) {
    return (int)(w - s->workers);
}

static bool worker_holds(worker_t *w, uint32_t shard) {
    for (size_t i = 0; i < w->nheld; i++)
        if (w->held[i] == shard) return true;
    return false;
}

/* Whether w holds every shard of group task t. */
static bool holds_group(worker_t *w, const task_t *t) {
    for (uint32_t g = 0; g < t->ngroup; g++)
        if (!worker_holds(w, t->group[g])) return false;
    return true;
}

/* A worker that is connected and takes work (not lost, not paused). */
static bool worker_takes_work(const worker_t *w) {
    return w->used && w->alive && w->accepting;
}

static void worker_hold(worker_t *w, uint32_t shard) {
    if (worker_holds(w, shard)) return;
    if (w->nheld == w->capheld) {
        size_t cap = w->capheld ? w->capheld * 2 : 16;
        uint32_t *p = realloc(w->held, cap * sizeof *p);
        if (!p) return; /* then we just resend the shard next time */
        w->held = p;
        w->capheld = cap;
    }
    w->held[w->nheld++] = shard;
}

static void worker_unhold(worker_t *w, uint32_t shard) {
    for (size_t i = 0; i < w->nheld; i++)
        if (w->held[i] == shard) {
            w->held[i] = w->held[--w->nheld];
            return;
        }
}

static json_object *worker_json(const worker_t *w) {
    json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_string_len(w->id, (int)w->idlen));
    json_object_object_add(o, "name", json_object_new_string(w->name));
    json_object_object_add(o, "host", json_object_new_string(w->host));
    json_object_object_add(o, "cores", json_object_new_int(w->cores));
    json_object_object_add(o, "slots", json_object_new_int(w->slots));
    return o;
}

static int send_to(sched_t *s, worker_t *w, const proto_header_t *h, int more) {
    if (zmq_send(s->router, w->id, w->idlen, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) return -1;
    return wire_send_header(s->router, h, more);
}

static void send_simple(sched_t *s, worker_t *w, uint8_t type, const task_t *t, const lease_t *l) {
    proto_header_t h = {.type = type, .job_id = s->wire_id, .shard = PROTO_NO_SHARD};
    if (t) {
        h.op = t->op;
        h.task_id = t->id;
        h.shard = t->shard;
    }
    if (l) {
        h.attempt = l->attempt;
        h.lease = l->nonce;
    }
    if (send_to(s, w, &h, 0) < 0)
        log_debug("cannot send to worker %s: %s", w->name, zmq_strerror(zmq_errno()));
}

/* Removes lease i of t; the worker gets its credit back. */
static void lease_remove(sched_t *s, task_t *t, int i) {
    worker_t *w = &s->workers[t->leases[i].worker];
    if (w->inflight > 0) w->inflight--;
    t->leases[i] = t->leases[--t->nleases];
}

static int lease_find(task_t *t, uint32_t attempt, uint64_t nonce) {
    for (int i = 0; i < t->nleases; i++)
        if (t->leases[i].attempt == attempt && t->leases[i].nonce == nonce) return i;
    return -1;
}

static void split_group(sched_t *s, task_t *t);
static void split_stranded_groups(sched_t *s);
static void tree_give_up(sched_t *s, const char *why);

/* A task no worker runs any more goes back to the queue front; a group is
 * split, since its shards may now be on different workers. */
static void requeue_if_orphan(sched_t *s, task_t *t) {
    if (t->state == T_RUNNING && t->nleases == 0) {
        s->c.tasks_retried++;
        if (t->ngroup > 1)
            split_group(s, t);
        else
            q_push(s, t, true);
    }
}

static void worker_lost(sched_t *s, worker_t *w, const char *reason) {
    int wi = worker_index(s, w);
    if (!w->alive) return;
    w->alive = false;
    w->accepting = false;
    if (strcmp(reason, "bye") != 0) s->c.workers_lost++;
    /* Its leases go back to the queue front: they were the oldest work. */
    for (size_t i = 0; i < s->ntasks; i++) {
        task_t *t = &s->tasks[i];
        if (t->state != T_RUNNING) continue;
        for (int k = t->nleases - 1; k >= 0; k--)
            if (t->leases[k].worker == wi) lease_remove(s, t, k);
        requeue_if_orphan(s, t);
    }
    if (s->holder)
        for (size_t i = 0; i < s->nshards; i++)
            if (s->holder[i] == wi) s->holder[i] = NO_WORKER;
    w->nheld = 0;
    w->inflight = 0;
    split_stranded_groups(s);
    tree_give_up(s, "a worker of the round was lost");
    log_warn("worker %s (%s) %s", w->name, w->host,
             strcmp(reason, "bye") == 0 ? "left" : "lost: no heartbeat, its tasks were requeued");
    json_object *o = worker_json(w);
    json_object_object_add(o, "reason", json_object_new_string(reason));
    events_publish(s->ev, EV_WORKER_LEFT, o);
    w->used = false;
}

/* ---------- construction ---------- */

static void *bind_socket(sched_t *s, void *zctx, int type, int port, char *err, size_t errlen) {
    char ep[CONFIG_STR + 32];
    void *sock = zmq_socket(zctx, type);
    if (!sock) {
        snprintf(err, errlen, "cannot create socket: %s", zmq_strerror(zmq_errno()));
        return NULL;
    }
    /* Only results are big. Workers send READY/HANDBACK/BYE on the ROUTER and
     * heartbeats on the SUB, all under SCHED_SMALL_MSG; with max_msg_mb there,
     * a peer could park up to RCVHWM x max_msg_mb bytes in our receive queues
     * (a 1 MB-hostname heartbeat flood took the master from 50 to 206 MB). */
    long long max_msg =
        type == ZMQ_PULL ? (long long)s->cfg->cluster.max_msg_mb << 20 : SCHED_SMALL_MSG;
    wire_socket_defaults(sock, max_msg);
    if (security_server_setup(sock, s->cfg, err, errlen) < 0) {
        zmq_close(sock);
        return NULL;
    }
    if (type == ZMQ_ROUTER) {
        int one = 1, hwm = 100000;
        zmq_setsockopt(sock, ZMQ_ROUTER_MANDATORY, &one, sizeof one);
        zmq_setsockopt(sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
    }
    if (type == ZMQ_SUB) zmq_setsockopt(sock, ZMQ_SUBSCRIBE, "", 0);
    snprintf(ep, sizeof ep, "tcp://%s:%d", s->cfg->master.ip, port);
    if (zmq_bind(sock, ep) != 0) {
        int e = zmq_errno(); /* only a port in use can be another master's */
        snprintf(err, errlen, "cannot listen on %s: %s%s", ep, zmq_strerror(e),
                 e == EADDRINUSE ? " (is another master running? change the port with --set "
                                   "master.*_port=N)"
                                 : "");
        zmq_close(sock);
        return NULL;
    }
    return sock;
}

sched_t *sched_new(void *zctx, const config_t *cfg, events_t *ev, volatile sig_atomic_t *stop,
                   char *err, size_t errlen) {
    sched_t *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->cfg = cfg;
    s->ev = ev;
    s->stop = stop;
    s->fd = -1;
    s->qhead = s->qtail = NIL;
    s->hb_ms = cfg->cluster.heartbeat_ms;
    s->dead_ms = (int64_t)cfg->cluster.heartbeat_ms * cfg->cluster.liveness;
    s->prefetch = 1;
    s->speculate = true;
    s->next_id = 1;
    s->base_id = 1;
    if (getrandom(&s->rng, sizeof s->rng, 0) != sizeof s->rng)
        s->rng = (uint64_t)clock_now_us() ^ ((uint64_t)getpid() << 32);
    s->wire_base = (uint32_t)(s->rng >> 32) ^ (uint32_t)s->rng;
    s->router = bind_socket(s, zctx, ZMQ_ROUTER, cfg->master.task_port, err, errlen);
    if (s->router) s->pull = bind_socket(s, zctx, ZMQ_PULL, cfg->master.result_port, err, errlen);
    if (s->pull) s->sub = bind_socket(s, zctx, ZMQ_SUB, cfg->master.heartbeat_port, err, errlen);
    if (!s->sub) {
        sched_destroy(&s);
        return NULL;
    }
    return s;
}

static void clear_batch(sched_t *s) {
    for (size_t i = 0; i < s->ntasks; i++) {
        blob_unref(&s->tasks[i].body);
        blob_unref(&s->tasks[i].tree);
        free(s->tasks[i].group);
    }
    s->tree_nodes = 0;
    s->ntasks = 0;
    s->base_id = s->next_id;
    s->qhead = s->qtail = NIL;
    s->pending = 0;
    s->rows_total = s->rows_done = s->done_in_batch = 0;
}

void sched_destroy(sched_t **sp) {
    sched_t *s = *sp;
    if (!s) return;
    /* Tell workers we are going so they do not wait for liveness to expire. */
    clear_batch(s);
    sched_end_job(s);
    for (int i = 0; i < s->nworkers; i++)
        free(s->workers[i].held);
    free(s->workers);
    free(s->tasks);
    free(s->tree_task);
    if (s->router) zmq_close(s->router);
    if (s->pull) zmq_close(s->pull);
    if (s->sub) zmq_close(s->sub);
    free(s);
    *sp = NULL;
}

/* ---------- jobs and tasks ---------- */

int sched_begin_job(sched_t *s, uint32_t job_id, const char *file, const sched_shard_t *shards,
                    size_t nshards, char *err, size_t errlen) {
    sched_end_job(s);
    s->job_id = job_id;
    /* Run ids repeat (1, 2, ... per history database) but a worker's cached
     * shards and context must never be taken for another job's: the wire id
     * is a random base drawn when this master started plus a count. */
    do
        s->wire_id = s->wire_base + ++s->wire_count;
    while (s->wire_id == 0);
    if (file) {
        s->fd = open(file, O_RDONLY | O_CLOEXEC);
        if (s->fd < 0) {
            snprintf(err, errlen, "%s: cannot open: %s", file, strerror(errno));
            return -1;
        }
    }
    if (nshards) {
        s->shards = malloc(nshards * sizeof *s->shards);
        s->holder = malloc(nshards * sizeof *s->holder);
        if (!s->shards || !s->holder) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        memcpy(s->shards, shards, nshards * sizeof *shards);
        for (size_t i = 0; i < nshards; i++)
            s->holder[i] = NO_WORKER;
        s->nshards = nshards;
    }
    return 0;
}

int sched_begin_split(sched_t *s, uint32_t job_id, const char *file, const split_t *sp, char *err,
                      size_t errlen) {
    sched_shard_t *tab = calloc(sp->nshards ? sp->nshards : 1, sizeof *tab);
    if (!tab) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < sp->nshards; i++)
        tab[i] = (sched_shard_t){sp->shards[i].offset, sp->shards[i].length, sp->shards[i].rows};
    int rc = sched_begin_job(s, job_id, file, tab, sp->nshards, err, errlen);
    free(tab);
    return rc;
}

void sched_end_job(sched_t *s) {
    if (s->fd >= 0) close(s->fd);
    s->fd = -1;
    free(s->shards);
    free(s->holder);
    s->shards = NULL;
    s->holder = NULL;
    s->nshards = 0;
    blob_unref(&s->context);
    for (int i = 0; i < s->nworkers; i++)
        s->workers[i].nheld = 0;
}

int sched_set_context(sched_t *s, void *ctx, size_t len) {
    blob_t *b = blob_wrap(ctx, len);
    if (!b) {
        free(ctx);
        return -1;
    }
    blob_unref(&s->context);
    s->context = b;
    s->ctx_version++;
    return 0;
}

void sched_set_prefetch(sched_t *s, int prefetch) {
    s->prefetch = prefetch < 0 ? 0 : prefetch;
}

void sched_set_speculation(sched_t *s, bool on) {
    s->speculate = on;
}

void sched_set_aux(sched_t *s, void *sock, sched_aux_fn fn, void *arg) {
    s->aux_sock = sock;
    s->aux_fn = fn;
    s->aux_arg = arg;
}

void sched_set_tick(sched_t *s, sched_tick_fn fn, void *arg) {
    s->tick = fn;
    s->tick_arg = arg;
}

uint32_t sched_submit(sched_t *s, uint16_t op, uint32_t shard, blob_t *body, uint64_t rows) {
    if (s->ntasks == s->captasks) {
        size_t cap = s->captasks ? s->captasks * 2 : 256;
        task_t *p = realloc(s->tasks, cap * sizeof *p);
        if (!p) return 0;
        s->tasks = p;
        s->captasks = cap;
    }
    task_t *t = &s->tasks[s->ntasks++];
    memset(t, 0, sizeof *t);
    t->id = s->next_id++;
    t->op = op;
    t->shard = shard;
    t->body = body ? blob_ref(body) : NULL;
    t->rows = rows;
    q_push(s, t, false);
    s->pending++;
    s->rows_total += rows;
    return t->id;
}

/* ---------- dispatch ---------- */

static int worker_limit(const sched_t *s, const worker_t *w) {
    return w->slots + s->prefetch;
}

/* Sends t to w under a new lease. Returns 0, or -1 when the worker cannot be
 * reached now (the caller leaves the task queued). */
static int send_task(sched_t *s, worker_t *w, task_t *t) {
    int wi = worker_index(s, w);
    bool need_ctx = s->context && (w->ctx_job != s->wire_id || w->ctx_version != s->ctx_version);
    bool has_shard = t->shard != PROTO_NO_SHARD && t->shard < s->nshards;
    bool need_shard = has_shard && !worker_holds(w, t->shard);
    blob_t *shard_bytes = NULL;
    if (need_shard) {
        const sched_shard_t *r = &s->shards[t->shard];
        shard_bytes = blob_new(r->length);
        if (!shard_bytes || s->fd < 0 ||
            pread(s->fd, shard_bytes->data, r->length, (off_t)r->offset) != (ssize_t)r->length) {
            log_error("cannot read shard %u of the input file: %s", t->shard, strerror(errno));
            blob_unref(&shard_bytes);
            return -1;
        }
    }
    lease_t l = {.attempt = ++t->attempts,
                 .nonce = next_nonce(s),
                 .worker = wi,
                 .start_us = clock_now_us(),
                 .start_wall = clock_wall_ms()};
    proto_header_t h = {.type = MSG_TASK,
                        .op = t->op,
                        .flags = (need_ctx ? PROTO_F_CONTEXT : 0) |
                                 (need_shard ? PROTO_F_SHARD : 0) | (t->tree ? PROTO_F_TREE : 0),
                        .job_id = s->wire_id,
                        .task_id = t->id,
                        .attempt = l.attempt,
                        .shard = t->shard,
                        .lease = l.nonce};
    int rc = send_to(s, w, &h, ZMQ_SNDMORE);
    uint64_t bytes = (t->body ? t->body->len : 0) + (need_ctx ? s->context->len : 0) +
                     (need_shard ? shard_bytes->len : 0) + (t->tree ? t->tree->len : 0);
    if (rc == 0) {
        int more = (need_ctx || need_shard || t->tree) ? ZMQ_SNDMORE : 0;
        rc =
            t->body ? blob_send(t->body, s->router, more) : wire_send_bytes(s->router, "", 0, more);
        if (rc == 0 && need_ctx)
            rc = blob_send(s->context, s->router, (need_shard || t->tree) ? ZMQ_SNDMORE : 0);
        if (rc == 0 && need_shard)
            rc = blob_send(shard_bytes, s->router, t->tree ? ZMQ_SNDMORE : 0);
        if (rc == 0 && t->tree) rc = blob_send(t->tree, s->router, 0);
    }
    blob_unref(&shard_bytes);
    if (rc < 0) {
        t->attempts--;
        if (zmq_errno() == EHOSTUNREACH) worker_lost(s, w, "lost");
        return -1;
    }
    s->c.bytes_sent += bytes;
    if (need_ctx) {
        w->ctx_job = s->wire_id;
        w->ctx_version = s->ctx_version;
    }
    if (need_shard) {
        worker_hold(w, t->shard);
        int h = s->holder[t->shard];
        if (h == NO_WORKER || !worker_takes_work(&s->workers[h])) s->holder[t->shard] = wi;
    }
    t->leases[t->nleases++] = l;
    t->state = T_RUNNING;
    w->inflight++;
    w->leased = true;
    return 0;
}

/* The first queued task w may take: no shard, a shard it holds, or a shard
 * nobody alive holds. */
static task_t *pick_for(sched_t *s, worker_t *w) {
    int wi = worker_index(s, w);
    for (int32_t i = s->qhead; i != NIL; i = s->tasks[i].next) {
        task_t *t = &s->tasks[i];
        if (t->shard == PROTO_NO_SHARD || t->shard >= s->nshards) return t;
        if (t->ngroup > 1) {
            if (holds_group(w, t)) return t; /* a group goes only where all of it is */
            continue;
        }
        int h = s->holder[t->shard];
        if (h == wi || h == NO_WORKER || !worker_takes_work(&s->workers[h])) return t;
    }
    return NULL;
}

static void dispatch(sched_t *s) {
    bool progress = true;
    while (progress && s->qhead != NIL) {
        progress = false;
        for (int k = 0; k < s->nworkers && s->qhead != NIL; k++) {
            worker_t *w = &s->workers[(s->rr + k) % s->nworkers];
            if (!worker_takes_work(w) || w->inflight >= worker_limit(s, w)) continue;
            task_t *t = pick_for(s, w);
            if (!t) continue;
            uint32_t id = t->id;
            q_remove(s, t);
            if (send_task(s, w, t) < 0) {
                /* a send that found the worker gone may have split this
                 * (worker_lost: a group nobody else holds); then it is done
                 * and its shards are queued on their own */
                t = task_by_id(s, id);
                if (t && t->state == T_QUEUED) q_push(s, t, true);
                continue;
            }
            progress = true;
        }
        s->rr = s->nworkers ? (s->rr + 1) % s->nworkers : 0;
    }
}

/* Straggler copies: with nothing queued, an idle worker runs a second attempt
 * of the oldest running task that has taken much longer than tasks usually do. */
static void speculate(sched_t *s) {
    if (!s->speculate || s->qhead != NIL || s->pending == 0) return;
    int64_t now = clock_now_us();
    int64_t typical = s->durations_n ? s->durations_sum_us / (int64_t)s->durations_n : 0;
    int64_t threshold = typical * 2 > 1000000 ? typical * 2 : 1000000;
    for (int k = 0; k < s->nworkers; k++) {
        worker_t *w = &s->workers[k];
        if (!worker_takes_work(w) || w->inflight > 0) continue;
        task_t *oldest = NULL;
        for (size_t i = 0; i < s->ntasks; i++) {
            task_t *t = &s->tasks[i];
            if (t->state != T_RUNNING || t->nleases != 1 || t->leases[0].worker == k ||
                t->ngroup > 1 || t->tree)
                continue;
            if (now - t->leases[0].start_us < threshold) continue;
            if (!oldest || t->leases[0].start_us < oldest->leases[0].start_us) oldest = t;
        }
        if (!oldest) return;
        if (send_task(s, w, oldest) == 0) {
            s->c.tasks_speculative++;
            log_info("task %u is slow on %s; running a copy on %s", oldest->id,
                     s->workers[oldest->leases[0].worker].name, w->name);
        }
    }
}

/* ---------- incoming messages ---------- */

/* A worker's tree endpoint: the address its READY came from (not one it
 * names: a worker cannot send its peers elsewhere) and the port it
 * announced; under CURVE, the key its connection proved (ZAP's user id). */
static void tree_peer(worker_t *w, wire_msg_t *m, int port) {
    const char *addr = zmq_msg_gets(&m->f[1], "Peer-Address");
    const char *key = zmq_msg_gets(&m->f[1], "User-Id");
    w->tree_ep[0] = w->key[0] = 0;
    if (key && strlen(key) == SECURITY_Z85_LEN) snprintf(w->key, sizeof w->key, "%s", key);
    if (port <= 0 || !addr || !addr[0] || strlen(addr) > 64) return;
    bool v6 = strchr(addr, ':') != NULL;
    snprintf(w->tree_ep, sizeof w->tree_ep, v6 ? "tcp://[%s]:%d" : "tcp://%s:%d", addr, port);
}

static void on_ready(sched_t *s, const void *id, size_t idlen, wire_msg_t *m) {
    json_object *info = peerjson_parse(wire_data(m, 2), wire_size(m, 2));
    if (!info) {
        drop(s, DROP_MALFORMED, "READY without valid JSON");
        return;
    }
    worker_t *w = worker_find(s, id, idlen);
    if (w) {
        /* A READY from a known worker means it dropped what it held. */
        worker_lost(s, w, "restarted");
        w = NULL;
    }
    int live = sched_live_workers(s);
    if (live >= s->cfg->cluster.max_workers) {
        drop(s, DROP_TOO_MANY, "cluster.max_workers reached");
        json_object_put(info);
        return;
    }
    for (int i = 0; i < s->nworkers; i++)
        if (!s->workers[i].used) {
            w = &s->workers[i];
            break;
        }
    if (!w) {
        if (s->nworkers == s->capworkers) {
            int cap = s->capworkers ? s->capworkers * 2 : 16;
            worker_t *p = realloc(s->workers, (size_t)cap * sizeof *p);
            if (!p) {
                json_object_put(info);
                return;
            }
            s->workers = p;
            s->capworkers = cap;
        }
        w = &s->workers[s->nworkers++];
        memset(w, 0, sizeof *w);
    }
    uint32_t *held = w->held;
    size_t capheld = w->capheld;
    memset(w, 0, sizeof *w);
    w->held = held;
    w->capheld = capheld;
    w->used = w->alive = w->accepting = true;
    memcpy(w->id, id, idlen);
    w->idlen = idlen;
    snprintf(w->name, sizeof w->name, "%.*s", (int)idlen, (const char *)id);
    peerjson_str(info, "name", w->name, sizeof w->name);
    peerjson_str(info, "host", w->host, sizeof w->host);
    w->cores = peerjson_int(info, "cores", 1, 4096, 1);
    w->slots = peerjson_int(info, "slots", 1, 1024, 1);
    tree_peer(w, m, peerjson_int(info, "tree_port", 0, 65535, 0));
    w->last_seen_ms = clock_now_ms();
    w->joined_wall = clock_wall_ms();
    json_object_put(info);
    log_info("worker %s (%s) joined: %d cores, %d slots", w->name, w->host, w->cores, w->slots);
    /* Acknowledge at once: the worker's silence clock started when it
     * connected, and waiting for the next tick would spend up to a third of it. */
    send_simple(s, w, MSG_PING, NULL, NULL);
    events_publish(s->ev, EV_WORKER_JOINED, worker_json(w));
}

static void on_handback(sched_t *s, worker_t *w, const proto_header_t *h) {
    task_t *t = task_by_id(s, h->task_id);
    int li = t ? lease_find(t, h->attempt, h->lease) : -1;
    if (li < 0 || t->leases[li].worker != worker_index(s, w)) {
        drop(s, DROP_STALE, "HANDBACK for a lease the worker does not hold");
        return;
    }
    lease_remove(s, t, li);
    t->attempts--;        /* a handed-back lease is not a failed attempt */
    w->accepting = false; /* a worker hands back when it pauses or leaves; READY re-enables */
    log_info("worker %s handed back task %u", w->name, t->id);
    requeue_if_orphan(s, t);
    split_stranded_groups(s); /* its queued groups too: the round need not wait for its owner */
    tree_give_up(s, "a worker of the round paused"); /* its node now answers directly */
}

static void handle_router(sched_t *s) {
    for (int n = 0; n < RECV_BATCH; n++) {
        wire_msg_t m;
        if (wire_recv(s->router, &m, ZMQ_DONTWAIT) < 0) return;
        proto_header_t h;
        const char *why = "frames";
        int mn, mx;
        if (m.too_many || m.n < 2 || !proto_valid_id(wire_data(&m, 0), wire_size(&m, 0)) ||
            proto_header_decode(wire_data(&m, 1), wire_size(&m, 1), &h, &why) < 0 ||
            !proto_type_from_worker_tasks(h.type)) {
            drop(s, DROP_MALFORMED, why);
            goto next;
        }
        proto_frames_allowed(h.type, h.flags, &mn, &mx);
        if (m.n - 1 < mn || m.n - 1 > mx) {
            drop(s, DROP_MALFORMED, "frame count");
            goto next;
        }
        const void *id = wire_data(&m, 0);
        size_t idlen = wire_size(&m, 0);
        if (h.type == MSG_READY) {
            on_ready(s, id, idlen, &m);
            goto next;
        }
        worker_t *w = worker_find(s, id, idlen);
        if (!w) {
            drop(s, DROP_UNKNOWN_PEER, "message from a worker that never said READY");
            proto_header_t r = {.type = MSG_RESET, .shard = PROTO_NO_SHARD};
            if (zmq_send(s->router, id, idlen, ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0)
                wire_send_header(s->router, &r, 0);
            goto next;
        }
        w->last_seen_ms = clock_now_ms();
        if (h.type == MSG_HANDBACK)
            on_handback(s, w, &h);
        else if (h.type == MSG_BYE)
            worker_lost(s, w, "bye");
    next:
        wire_close(&m);
    }
}

/* A task's end, counted once: done, its rows processed, its body released
 * (its leases are the caller's). */
static void mark_done(sched_t *s, task_t *t) {
    t->state = T_DONE;
    s->pending--;
    s->done_in_batch++;
    s->rows_done += t->rows;
    s->c.tasks_done++;
    s->c.rows_processed += t->rows;
    blob_unref(&t->body);
}

static void accept_result(sched_t *s, task_t *t, int li, const proto_header_t *h, const void *data,
                          size_t len) {
    lease_t win = t->leases[li];
    worker_t *w = &s->workers[win.worker];
    int64_t now = clock_now_us();
    lease_remove(s, t, li);
    /* Every other attempt lost the race: cancel it and free its credit. */
    while (t->nleases > 0) {
        worker_t *o = &s->workers[t->leases[0].worker];
        send_simple(s, o, MSG_CANCEL, t, &t->leases[0]);
        lease_remove(s, t, 0);
    }
    mark_done(s, t);
    w->tasks_done++;
    w->rows_done += t->rows;
    s->durations_sum_us += now - win.start_us;
    s->durations_n++;
    if (t->op != OP_NOOP) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "job_id", json_object_new_int64(s->job_id));
        json_object_object_add(o, "task_id", json_object_new_int64(t->id));
        json_object_object_add(o, "shard",
                               t->shard == PROTO_NO_SHARD ? NULL : json_object_new_int64(t->shard));
        json_object_object_add(o, "worker", json_object_new_string(w->name));
        json_object_object_add(o, "attempt", json_object_new_int64(win.attempt));
        json_object_object_add(o, "start_ms", json_object_new_int64(win.start_wall));
        json_object_object_add(o, "end_ms", json_object_new_int64(clock_wall_ms()));
        json_object_object_add(o, "rows", json_object_new_int64((int64_t)t->rows));
        events_publish(s->ev, EV_TASK_DONE, o);
    }
    if (s->on_result && !s->failed) {
        sched_result_t r = {.task_id = t->id,
                            .shard = t->shard,
                            .op = h->op,
                            .attempt = win.attempt,
                            .data = data,
                            .len = len,
                            .worker = w->name,
                            .start_us = win.start_us,
                            .end_us = now};
        if (s->on_result(s->on_result_arg, &r) < 0 && !s->failed) {
            s->failed = true;
            snprintf(s->fail_msg, sizeof s->fail_msg, "result of task %u was rejected", t->id);
        }
    }
}

/* A task whose worker lacked a cached point (PROTO_ERR_NEEDPOINT) goes
 * again, now with every point in its body. 0, or -1 out of memory. */
static int resend_full(sched_t *s, task_t *t) {
    uint32_t one = t->shard;
    blob_t *body = s->round->group_body(s->round->group_arg, t->ngroup ? t->group : &one,
                                        t->ngroup ? t->ngroup : 1, true);
    if (!body) return -1;
    blob_unref(&t->body);
    t->body = body;
    t->full = true;
    t->attempts--;
    if (t->state == T_RUNNING && t->nleases == 0) q_push(s, t, true);
    return 0;
}

static void fail_result(sched_t *s, task_t *t, int li, const proto_header_t *h, wire_msg_t *m) {
    worker_t *w = &s->workers[t->leases[li].worker];
    char msg[PROTO_MAX_ERROR + 1];
    proto_clean_text(wire_data(m, 2), wire_size(m, 2), msg, sizeof msg);
    uint32_t attempt = t->leases[li].attempt;
    lease_remove(s, t, li);
    if (h->op == PROTO_ERR_NEEDPOINT && s->round && !t->full && resend_full(s, t) == 0) return;
    if (h->op == PROTO_ERR_NOSHARD && t->noshard < MAX_NOSHARD) {
        t->noshard++;
        t->attempts--;
        /* (a group is split on requeue; the shard it lacks fails again alone) */
        if (t->shard < s->nshards && t->ngroup <= 1) {
            worker_unhold(w, t->shard);
            if (s->holder[t->shard] == worker_index(s, w)) s->holder[t->shard] = NO_WORKER;
        }
        w->ctx_job = 0; /* resend the context too */
        requeue_if_orphan(s, t);
        return;
    }
    s->c.tasks_failed++;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "job_id", json_object_new_int64(s->job_id));
    json_object_object_add(o, "task_id", json_object_new_int64(t->id));
    json_object_object_add(o, "worker", json_object_new_string(w->name));
    json_object_object_add(o, "attempt", json_object_new_int64(attempt));
    json_object_object_add(o, "error", json_object_new_string(msg));
    json_object_object_add(o, "ts", json_object_new_int64(clock_wall_ms()));
    events_publish(s->ev, EV_TASK_FAILED, o);
    if (h->op == PROTO_ERR_DATA) {
        if (!s->failed) {
            s->failed = true;
            s->data_error = true;
            snprintf(s->fail_msg, sizeof s->fail_msg, "%s", msg);
        }
        return;
    }
    log_warn("task %u failed on %s: %s", t->id, w->name, msg);
    if (++t->failures >= MAX_FAILURES) {
        if (!s->failed) {
            s->failed = true;
            snprintf(s->fail_msg, sizeof s->fail_msg, "task %u failed %d times; last error: %s",
                     t->id, t->failures, msg);
        }
        return;
    }
    requeue_if_orphan(s, t);
}

/* ---------- reduction tree (cluster.reduce "tree", common/treemsg.h) ---------- */

/* Task t leaves the tree: it goes (again) to its worker as a direct task,
 * whose answer comes here alone. A lease it held is cancelled: a part it
 * sent up is then in no sum the master takes (the root's lease is cancelled
 * too, or its sum is already in). */
static void tree_direct(sched_t *s, task_t *t) {
    blob_unref(&t->tree);
    if (t->state != T_RUNNING) return; /* queued or done */
    while (t->nleases > 0) {
        send_simple(s, &s->workers[t->leases[0].worker], MSG_CANCEL, t, &t->leases[0]);
        lease_remove(s, t, 0);
    }
    q_push(s, t, true); /* (a lost worker's tasks were requeued before this) */
}

/* Every node not done yet goes direct, and the round's tree is over. */
static void tree_give_up(sched_t *s, const char *why) {
    if (!s->tree_nodes) return;
    uint32_t nodes = s->tree_nodes, redo = 0;
    s->tree_nodes = 0;
    for (uint32_t i = 0; i < nodes; i++) {
        task_t *t = task_by_id(s, s->tree_task[i]);
        if (!t || !t->tree) continue;
        redo += t->state != T_DONE;
        s->c.tree_direct += t->state != T_DONE;
        tree_direct(s, t);
    }
    log_warn("reduction tree: %s; asking %u worker task(s) for their parts directly", why, redo);
}

/* A node whose part is in the root's sum: done, no answer of its own. */
static void tree_cover(sched_t *s, task_t *t) {
    while (t->nleases > 0) { /* the worker finished it: its credit comes back */
        worker_t *o = &s->workers[t->leases[0].worker];
        o->tasks_done++;
        o->rows_done += t->rows;
        lease_remove(s, t, 0);
    }
    if (t->state == T_QUEUED) q_remove(s, t);
    mark_done(s, t);
    blob_unref(&t->tree);
}

/* A RESULT for a tree node. From the root: the round's sum over the nodes
 * it names, which are done with it; the others are asked directly. A plain
 * answer (its worker has no tree port after all): this node alone. Anything
 * else breaks the tree: dropped, and every node is asked directly. */
static void tree_result(sched_t *s, task_t *t, int li, const proto_header_t *h, const void *data,
                        size_t len) {
    char err[256];
    treemsg_part_t p;
    if (len < 4 || proto_get_u32(data) != TREEMSG_PART_MAGIC) {
        blob_unref(&t->tree);
        accept_result(s, t, li, h, data, len);
        return;
    }
    if (!s->tree_nodes ||
        treemsg_decode_part(data, len, s->round->tree_fanin, &p, err, sizeof err) < 0) {
        drop(s, DROP_MALFORMED, s->tree_nodes ? err : "tree sum after the tree was given up");
        tree_give_up(s, "the root's sum was refused");
        return;
    }
    bool ok =
        p.round == s->tree_round && p.nodes == s->tree_nodes && p.from == t->node && t->node == 0;
    for (size_t i = 0; ok && i < p.ncover; i++) {
        const task_t *c = task_by_id(s, s->tree_task[p.cover[i]]);
        ok = c && c->tree && c->state != T_DONE;
    }
    if (!ok) {
        treemsg_part_free(&p);
        drop(s, DROP_MALFORMED, "tree sum for another round or covering a node already in");
        tree_give_up(s, "the root's sum was refused");
        return;
    }
    for (size_t i = 0; i < p.ncover; i++)
        if (p.cover[i] != 0) tree_cover(s, task_by_id(s, s->tree_task[p.cover[i]]));
    blob_unref(&t->tree);
    if (p.ncover < s->tree_nodes) {
        uint32_t missing = s->tree_nodes - (uint32_t)p.ncover;
        log_info("reduction tree: the root's sum lacks %u of %u parts; asking for them directly",
                 missing, s->tree_nodes);
    }
    uint32_t nodes = s->tree_nodes;
    s->tree_nodes = 0;
    for (uint32_t i = 0; i < nodes; i++) {
        task_t *o = task_by_id(s, s->tree_task[i]);
        if (o && o->tree && o->state != T_DONE) {
            s->c.tree_direct++;
            tree_direct(s, o);
        }
    }
    accept_result(s, t, li, h, p.res, p.res_len);
    treemsg_part_free(&p);
}

/* Lays the round's grouped tasks out as a tree: those whose worker is known
 * (it holds the group) are its nodes, in task order, when there are two or
 * more and every such worker has a tree port; otherwise the round is star. */
static int tree_plan(sched_t *s) {
    sched_round_t *r = s->round;
    uint32_t nodes = 0, fanin = r->tree_fanin;
    s->tree_nodes = 0;
    if (fanin < 2 || fanin > TREEMSG_MAX_FANIN) return 0;
    uint32_t *ids = realloc(s->tree_task, (s->ntasks + 1) * sizeof *ids);
    if (!ids) return -1;
    s->tree_task = ids;
    for (size_t i = 0; i < s->ntasks; i++) {
        task_t *t = &s->tasks[i];
        if (t->full || !t->ngroup) continue; /* nobody holds it yet: direct */
        int h = s->holder[t->group[0]];
        if (h < 0 || !s->workers[h].tree_ep[0]) return 0;
        if (s->cfg->security.curve && !s->workers[h].key[0]) return 0;
        t->node = nodes;
        ids[nodes++] = t->id;
    }
    if (nodes < 2 || nodes > TREEMSG_MAX_NODES) return 0;
    treemsg_node_t n = {
        .round = next_nonce(s), .nodes = nodes, .fanin = fanin, .wait_ms = r->tree_wait_ms};
    for (uint32_t i = 0; i < nodes; i++) {
        task_t *t = task_by_id(s, ids[i]);
        const worker_t *pw = NULL;
        char err[256];
        n.node = i;
        if (i > 0) {
            const task_t *pt = task_by_id(s, ids[treemsg_parent(i, fanin)]);
            pw = &s->workers[s->holder[pt->group[0]]];
        }
        snprintf(n.parent_ep, sizeof n.parent_ep, "%s", pw ? pw->tree_ep : "");
        snprintf(n.parent_key, sizeof n.parent_key, "%s",
                 pw && s->cfg->security.curve ? pw->key : "");
        /* under CURVE the node adds only parts its children's keys sent */
        uint32_t first, nc = treemsg_children(i, nodes, fanin, &first);
        n.nchild_keys = s->cfg->security.curve ? nc : 0;
        for (uint32_t c = 0; c < n.nchild_keys; c++) {
            const task_t *ct = task_by_id(s, ids[first + c]);
            snprintf(n.child_key[c], sizeof n.child_key[c], "%s",
                     s->workers[s->holder[ct->group[0]]].key);
        }
        if (!(t->tree = treemsg_encode_node(&n, err, sizeof err))) {
            log_warn("reduction tree: %s; this round is star", err);
            for (uint32_t k = 0; k < i; k++)
                blob_unref(&task_by_id(s, ids[k])->tree);
            return 0;
        }
    }
    s->tree_round = n.round;
    s->tree_nodes = nodes;
    s->c.tree_rounds++;
    s->tree_start_us = clock_now_us();
    /* the root waits wait_ms a level below it after its own part; the
     * master allows two levels more and four times the last round (the
     * count round's parse before the first: a generous measure of a
     * round's compute); a round that runs out of it counts as the last */
    int64_t wait = (int64_t)r->tree_wait_ms * (treemsg_height(0, nodes, fanin) + 2);
    s->tree_deadline_ms = clock_now_ms() + wait + 4 * s->last_round_us / 1000;
    return 0;
}

static void handle_pull(sched_t *s) {
    for (int n = 0; n < RECV_BATCH; n++) {
        wire_msg_t m;
        if (wire_recv(s->pull, &m, ZMQ_DONTWAIT) < 0) return;
        proto_header_t h;
        const char *why = "frames";
        if (m.too_many || m.n != 3 ||
            proto_header_decode(wire_data(&m, 0), wire_size(&m, 0), &h, &why) < 0 ||
            (h.type != MSG_RESULT && h.type != MSG_FAIL)) {
            drop(s, DROP_MALFORMED, why);
            goto next;
        }
        task_t *t = task_by_id(s, h.task_id);
        if (!t || h.job_id != s->wire_id) {
            drop(s, h.task_id < s->base_id && h.task_id > 0 ? DROP_STALE : DROP_UNKNOWN_TASK,
                 "result for a task not in this batch");
            goto next;
        }
        if (t->state == T_DONE) {
            drop(s, DROP_DUPLICATE, "second result for a finished task");
            goto next;
        }
        int li = lease_find(t, h.attempt, h.lease);
        if (li < 0) {
            bool forged = h.attempt >= 1 && h.attempt <= t->attempts && t->nleases > 0;
            drop(s, forged ? DROP_FORGED : DROP_STALE, "result for a lease that is not live");
            goto next;
        }
        worker_t *w = &s->workers[t->leases[li].worker];
        if (wire_size(&m, 1) != w->idlen || memcmp(wire_data(&m, 1), w->id, w->idlen) != 0) {
            drop(s, DROP_FORGED, "result signed by another worker");
            goto next;
        }
        w->last_seen_ms = clock_now_ms();
        s->c.bytes_received += wire_size(&m, 2);
        s->c.msgs_received++;
        if (h.type == MSG_RESULT && t->tree)
            tree_result(s, t, li, &h, wire_data(&m, 2), wire_size(&m, 2));
        else if (h.type == MSG_RESULT)
            accept_result(s, t, li, &h, wire_data(&m, 2), wire_size(&m, 2));
        else
            fail_result(s, t, li, &h, &m);
    next:
        wire_close(&m);
    }
}

static void handle_sub(sched_t *s) {
    for (int n = 0; n < RECV_BATCH; n++) {
        wire_msg_t m;
        if (wire_recv(s->sub, &m, ZMQ_DONTWAIT) < 0) return;
        proto_header_t h;
        const char *why = "frames";
        if (m.too_many || m.n != 3 ||
            proto_header_decode(wire_data(&m, 0), wire_size(&m, 0), &h, &why) < 0 ||
            h.type != MSG_HEARTBEAT || !proto_valid_id(wire_data(&m, 1), wire_size(&m, 1))) {
            drop(s, DROP_MALFORMED, why);
            goto next;
        }
        worker_t *w = worker_find(s, wire_data(&m, 1), wire_size(&m, 1));
        if (!w) {
            drop(s, DROP_UNKNOWN_PEER, "heartbeat from a worker that never said READY");
            goto next;
        }
        /* Rate limit per peer over a window of one heartbeat interval: a busy
         * master may read two honest heartbeats back to back, a flood is
         * many more than that. */
        int64_t now = clock_now_ms();
        if (now - w->hb_window_ms >= s->hb_ms) {
            w->hb_window_ms = now;
            w->hb_in_window = 0;
        }
        if (++w->hb_in_window > 4) {
            drop(s, DROP_FLOOD, "heartbeats too fast");
            goto next;
        }
        json_object *hb = peerjson_parse(wire_data(&m, 2), wire_size(&m, 2));
        if (!hb) {
            drop(s, DROP_MALFORMED, "heartbeat JSON");
            goto next;
        }
        w->last_seen_ms = now;
        json_object *o = worker_json(w);
        peerjson_heartbeat(hb, o);
        /* A worker between two short rounds reports idle although it computes
         * for this job most of the time: holding a lease since its last
         * heartbeat makes it busy (a paused worker stays paused). */
        json_object *st = NULL;
        if ((w->leased || w->inflight > 0) && json_object_object_get_ex(o, "state", &st) &&
            strcmp(json_object_get_string(st), "idle") == 0)
            json_object_object_add(o, "state", json_object_new_string("busy"));
        w->leased = false;
        json_object_object_add(o, "tasks_done", json_object_new_int64((int64_t)w->tasks_done));
        json_object_object_add(o, "last_seen_ms", json_object_new_int(0));
        events_publish(s->ev, EV_WORKER_STATS, o);
        json_object_put(hb);
    next:
        wire_close(&m);
    }
}

/* ---------- timers ---------- */

static void publish_counters(sched_t *s) {
    json_object *o = json_object_new_object();
    json_object *d = json_object_new_object();
    for (int k = 0; k < DROP_KINDS; k++)
        json_object_object_add(d, drop_names[k], json_object_new_int64((int64_t)s->c.dropped[k]));
    json_object_object_add(o, "messages_dropped", d);
    json_object *t = json_object_new_object();
    json_object_object_add(t, "done", json_object_new_int64((int64_t)s->c.tasks_done));
    json_object_object_add(t, "failed", json_object_new_int64((int64_t)s->c.tasks_failed));
    json_object_object_add(t, "retried", json_object_new_int64((int64_t)s->c.tasks_retried));
    json_object_object_add(t, "speculative",
                           json_object_new_int64((int64_t)s->c.tasks_speculative));
    json_object_object_add(o, "tasks", t);
    json_object_object_add(o, "rows_processed",
                           json_object_new_int64((int64_t)s->c.rows_processed));
    json_object_object_add(o, "workers_lost", json_object_new_int64((int64_t)s->c.workers_lost));
    events_publish(s->ev, EV_COUNTERS, o);
}

static void on_tick(sched_t *s) {
    int64_t now = clock_now_ms();
    for (int i = 0; i < s->nworkers; i++) {
        worker_t *w = &s->workers[i];
        if (!w->used || !w->alive) continue;
        if (now - w->last_seen_ms > s->dead_ms) {
            worker_lost(s, w, "lost");
            continue;
        }
        send_simple(s, w, MSG_PING, NULL, NULL);
    }
    if (s->tree_nodes && now >= s->tree_deadline_ms) {
        s->last_round_us = clock_now_us() - s->tree_start_us;
        tree_give_up(s, "no sum from the root in time");
    }
    publish_counters(s);
    if (s->tick) s->tick(s->tick_arg);
}

static int loop_once(sched_t *s, int64_t timeout_ms) {
    zmq_pollitem_t items[4] = {{s->router, 0, ZMQ_POLLIN, 0},
                               {s->pull, 0, ZMQ_POLLIN, 0},
                               {s->sub, 0, ZMQ_POLLIN, 0},
                               {s->aux_sock, 0, ZMQ_POLLIN, 0}};
    int nitems = s->aux_sock ? 4 : 3;
    if (s->cancel) return -2; /* set by the aux callback: no new lease, no wait */
    /* Tasks submitted since the last pass go out now, not after the poll
     * times out: a driver that submits a round and waits would otherwise
     * lose up to one heartbeat per round. */
    dispatch(s);
    int64_t now = clock_now_ms();
    if (s->next_tick_ms == 0) s->next_tick_ms = now + s->hb_ms;
    int64_t wait = s->next_tick_ms - now;
    if (wait < 0) wait = 0;
    if (timeout_ms >= 0 && timeout_ms < wait) wait = timeout_ms;
    int rc = zmq_poll(items, nitems, (long)wait);
    if (rc < 0 && zmq_errno() != EINTR) {
        log_error("poll failed: %s", zmq_strerror(zmq_errno()));
        return -1;
    }
    if (*s->stop || s->cancel) return -2;
    if (rc > 0) {
        if (items[1].revents & ZMQ_POLLIN) handle_pull(s);
        if (items[0].revents & ZMQ_POLLIN) handle_router(s);
        if (items[2].revents & ZMQ_POLLIN) handle_sub(s);
        if (s->aux_sock && (items[3].revents & ZMQ_POLLIN)) s->aux_fn(s->aux_arg);
        if (s->cancel) return -2;
    }
    if (clock_now_ms() >= s->next_tick_ms) {
        s->next_tick_ms = clock_now_ms() + s->hb_ms;
        on_tick(s);
    }
    dispatch(s);
    speculate(s);
    return 0;
}

/* Outstanding leases are cancelled so workers stop wasting time (and get
 * their credits back). */
static void cancel_leases(sched_t *s) {
    for (size_t i = 0; i < s->ntasks; i++) {
        task_t *t = &s->tasks[i];
        while (t->state == T_RUNNING && t->nleases > 0) {
            send_simple(s, &s->workers[t->leases[0].worker], MSG_CANCEL, t, &t->leases[0]);
            lease_remove(s, t, 0);
        }
    }
}

int sched_wait(sched_t *s, sched_result_fn fn, void *arg, bool *data_error, char *err,
               size_t errlen) {
    int rc = 0;
    s->on_result = fn;
    s->on_result_arg = arg;
    s->failed = s->data_error = false;
    s->fail_msg[0] = 0;
    s->durations_sum_us = 0;
    s->durations_n = 0;
    if (data_error) *data_error = false;
    while (s->pending > 0 && !s->failed) {
        rc = loop_once(s, -1);
        if (rc == -2) {
            snprintf(err, errlen, s->cancel ? "cancelled" : "interrupted");
            if (s->cancel) cancel_leases(s); /* the master stays up: free the workers now */
            goto out;
        }
        if (rc == -1) {
            snprintf(err, errlen, "event loop failed");
            goto out;
        }
    }
    rc = 0;
    if (s->failed) {
        snprintf(err, errlen, "%s", s->fail_msg);
        if (data_error) *data_error = s->data_error;
        cancel_leases(s);
        rc = -1;
    }
out:
    s->on_result = NULL;
    clear_batch(s);
    return rc;
}

int sched_wait_workers(sched_t *s, int n, int64_t timeout_ms) {
    int64_t deadline = timeout_ms < 0 ? -1 : clock_now_ms() + timeout_ms;
    while (sched_live_workers(s) < n) {
        int64_t left = clock_until(deadline);
        if (deadline >= 0 && left == 0) return -1;
        if (loop_once(s, deadline < 0 ? 500 : (left < 500 ? left : 500)) == -2) return -2;
    }
    return 0;
}

int sched_poll(sched_t *s, int64_t timeout_ms) {
    int64_t deadline = clock_now_ms() + timeout_ms;
    for (;;) {
        if (loop_once(s, clock_until(deadline)) == -2) return -2;
        if (clock_until(deadline) == 0) return 0;
    }
}

/* ---------- rounds ---------- */

typedef struct round_run {
    sched_t *s;
    sched_round_t *r;
    char *err;
    size_t errlen;
    bool refused; /* the sink (or a copy) failed: err already says why */
} round_run_t;

/* The scheduler hands over each task's result exactly once, and its shard is
 * the one the round submitted (taken from the task table, not the message). */
static int round_take(void *arg, const sched_result_t *res) {
    round_run_t *run = arg;
    sched_round_t *r = run->r;
    if (r->group_sink) {
        const task_t *t = task_by_id(run->s, res->task_id);
        uint32_t one = res->shard;
        bool grouped = t && t->ngroup > 0;
        if (r->group_sink(r->group_arg, grouped ? t->group : &one, grouped ? t->ngroup : 1,
                          res->data, res->len, res->worker) < 0) {
            run->refused = true;
            return -1;
        }
        return 0;
    }
    sched_answer_t *a = &r->answers[res->shard];
    snprintf(a->worker, sizeof a->worker, "%s", res->worker);
    if (r->sink) {
        if (r->sink(r->sink_arg, res->shard, res->data, res->len, res->worker) < 0) {
            run->refused = true;
            return -1;
        }
        return 0;
    }
    if (!(a->data = blob_copy(res->data, res->len))) {
        snprintf(run->err, run->errlen, "out of memory keeping the result of shard %u", res->shard);
        run->refused = true;
        return -1;
    }
    return 0;
}

/* ---------- grouped rounds ---------- */

/* Room for every task a grouped round can make (groups, then one task per
 * shard if every group is split): no task moves while the round runs. */
static int reserve_tasks(sched_t *s, size_t more) {
    if (s->ntasks + more <= s->captasks) return 0;
    size_t cap = s->ntasks + more;
    task_t *p = realloc(s->tasks, cap * sizeof *p);
    if (!p) return -1;
    s->tasks = p;
    s->captasks = cap;
    return 0;
}

/* Queues a task of the running grouped round over group[0..n-1] (copied). */
static int submit_group(sched_t *s, const uint32_t *group, size_t n, bool full) {
    sched_round_t *r = s->round;
    uint32_t *g = malloc(n * sizeof *g);
    blob_t *body = g ? r->group_body(r->group_arg, group, n, full) : NULL;
    uint64_t rows = 0;
    for (size_t i = 0; i < n; i++)
        rows += s->shards[group[i]].rows;
    uint32_t id = body ? sched_submit(s, r->op, group[0], body, rows) : 0;
    blob_unref(&body); /* the task holds its own reference */
    if (!id) {
        free(g);
        return -1;
    }
    memcpy(g, group, n * sizeof *g);
    task_t *t = task_by_id(s, id);
    t->group = g;
    t->ngroup = (uint32_t)n;
    t->full = full;
    return 0;
}

/* Whether some worker that takes work holds every shard of group t (a
 * group goes only where all of it is: pick_for). */
static bool group_has_taker(sched_t *s, const task_t *t) {
    for (int k = 0; k < s->nworkers; k++) {
        worker_t *w = &s->workers[k];
        if (worker_takes_work(w) && holds_group(w, t)) return true;
    }
    return false;
}

/* Queued groups that no worker taking work holds whole (theirs was lost, or
 * paused for its owner) become one task per shard, which any worker may
 * take: otherwise the round would wait for that worker, forever if it is
 * gone. */
static void split_stranded_groups(sched_t *s) {
    for (size_t i = 0; i < s->ntasks; i++) { /* split_group appends: index, not pointer */
        task_t *t = &s->tasks[i];
        if (t->state != T_QUEUED || t->ngroup < 2 || group_has_taker(s, t)) continue;
        q_remove(s, t);
        split_group(s, t);
    }
}

/* An orphaned group becomes one task per shard, each with every point in
 * its body (the shards may land on workers that never saw them). */
static void split_group(sched_t *s, task_t *t) {
    uint32_t *g = t->group, n = t->ngroup, id = t->id;
    t->group = NULL;
    t->ngroup = 0;
    t->state = T_DONE;
    s->pending--;
    s->rows_total -= t->rows;
    blob_unref(&t->body);
    /* t may move from here on (reserve_tasks makes it unlikely) */
    for (uint32_t i = 0; i < n; i++)
        if (submit_group(s, &g[i], 1, true) < 0 && !s->failed) {
            s->failed = true;
            snprintf(s->fail_msg, sizeof s->fail_msg, "out of memory splitting task %u", id);
        }
    log_info("task %u over %u shards split into one task per shard", id, n);
    free(g);
}

/* The round's first tasks: for each live worker, its shards in up to
 * `slots` groups of neighbours; a shard nobody holds alone. */
static int submit_groups(sched_t *s) {
    /* The groups are planned from the holders as they are now, all of them
     * before any is sent: a send may find a worker gone (worker_lost clears
     * its holders), and a plan made after that would queue its shards a
     * second time beside its group. */
    size_t ns = s->nshards ? s->nshards : 1;
    s->failed = false; /* set by a split that runs out of memory, from here on */
    uint32_t *list = malloc(ns * sizeof *list);
    size_t *start = malloc((ns + 1) * sizeof *start);
    bool *full = malloc(ns * sizeof *full);
    if (!list || !start || !full || reserve_tasks(s, 2 * s->nshards + 1) < 0) {
        free(list), free(start), free(full);
        return -1;
    }
    size_t k = 0, ng = 0;
    for (int wi = 0; wi < s->nworkers; wi++) {
        worker_t *w = &s->workers[wi];
        if (!worker_takes_work(w)) continue;
        size_t k0 = k;
        for (size_t i = 0; i < s->nshards; i++)
            if (s->holder[i] == wi) list[k++] = (uint32_t)i;
        size_t held = k - k0, parts = (size_t)(w->slots > 0 ? w->slots : 1);
        if (parts > held) parts = held;
        for (size_t p = 0, at = 0; p < parts; p++) {
            full[ng] = false;
            start[ng++] = k0 + at;
            at += (held - at) / (parts - p);
        }
    }
    for (size_t i = 0; i < s->nshards; i++) {
        int h = s->holder[i];
        if (h != NO_WORKER && worker_takes_work(&s->workers[h])) continue;
        full[ng] = true;
        start[ng++] = k;
        list[k++] = (uint32_t)i;
    }
    start[ng] = k;
    /* star rounds send each group as soon as its body is made, so the first
     * worker computes while the next body is gathered (a tree round sends
     * once its plan knows every task) */
    bool early = s->round->tree_fanin < 2;
    int rc = 0;
    for (size_t g = 0; g < ng && rc == 0; g++) {
        rc = submit_group(s, list + start[g], start[g + 1] - start[g], full[g]);
        if (rc == 0 && early) dispatch(s);
    }
    free(list), free(start), free(full);
    if (rc == 0) split_stranded_groups(s); /* a worker lost while they were sent */
    if (rc == 0 && s->failed) rc = -1;     /* a split ran out of memory (sched_wait resets it) */
    if (rc == 0) rc = tree_plan(s);
    return rc;
}

int sched_round(sched_t *s, sched_round_t *r, char *err, size_t errlen) {
    round_run_t run = {.s = s, .r = r, .err = err, .errlen = errlen};
    r->data_error = false;
    r->nshards = s->nshards;
    r->answers = calloc(s->nshards ? s->nshards : 1, sizeof *r->answers);
    if (!r->answers) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (r->group_body) {
        s->round = r;
        if (submit_groups(s) < 0) {
            s->round = NULL;
            /* groups already sent (submit_groups sends as it goes) give
             * their workers' credit back; their answers find no task */
            for (size_t i = 0; i < s->ntasks; i++)
                while (s->tasks[i].nleases > 0)
                    lease_remove(s, &s->tasks[i], 0);
            clear_batch(s);
            snprintf(err, errlen, "out of memory queueing tasks");
            return -1;
        }
    }
    for (size_t i = 0; i < s->nshards && !r->group_body; i++) {
        blob_t *body = r->bodies ? r->bodies[i] : r->body;
        if (r->bodies && !body) continue;
        if (!sched_submit(s, r->op, (uint32_t)i, body, s->shards[i].rows)) {
            clear_batch(s);
            snprintf(err, errlen, "out of memory queueing tasks");
            return -1;
        }
    }
    char why[sizeof s->fail_msg];
    int64_t t0 = clock_now_us();
    int rc = sched_wait(s, round_take, &run, &r->data_error, why, sizeof why);
    if (clock_now_us() - t0 > s->last_round_us || !r->group_body)
        s->last_round_us = clock_now_us() - t0;
    s->round = NULL;
    if (rc < 0 && !run.refused) snprintf(err, errlen, "%s", why);
    return rc;
}

void sched_round_free(sched_round_t *r) {
    for (size_t i = 0; r->answers && i < r->nshards; i++)
        blob_unref(&r->answers[i].data);
    free(r->answers);
    r->answers = NULL;
    r->nshards = 0;
}

void sched_cancel(sched_t *s, bool on) {
    s->cancel = on;
}

bool sched_cancelled(const sched_t *s) {
    return s->cancel;
}

int sched_live_workers(const sched_t *s) {
    int n = 0;
    for (int i = 0; i < s->nworkers; i++)
        n += s->workers[i].used && s->workers[i].alive;
    return n;
}

int sched_total_slots(const sched_t *s) {
    int n = 0;
    for (int i = 0; i < s->nworkers; i++)
        if (s->workers[i].used && s->workers[i].alive) n += s->workers[i].slots;
    return n;
}

void sched_get_counters(const sched_t *s, sched_counters_t *out) {
    *out = s->c;
}

const char *sched_drop_kind_name(int kind) {
    return kind >= 0 && kind < DROP_KINDS ? drop_names[kind] : NULL;
}

void sched_get_progress(const sched_t *s, sched_progress_t *out) {
    out->tasks_done = s->done_in_batch;
    out->tasks_total = s->ntasks;
    out->rows_done = s->rows_done;
    out->rows_total = s->rows_total;
}
