/* Tests worker/loop against a fake master: a ROUTER, a PULL and a SUB bound
 * on free loopback ports, with worker_run() in a thread. Heartbeats are fast
 * (100 ms, liveness 3) so the whole file runs in a few seconds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/clock.h"
#include "common/config.h"
#include "common/proto.h"
#include "common/wire.h"
#include "worker/loop.h"

#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#define HB_MS 100

typedef struct fake {
    void *ctx, *router, *pull, *sub;
    config_t cfg;
    worker_opts_t opts;
    volatile sig_atomic_t stop;
    pthread_t thread;
    int rc;
    worker_stats_t stats;
    char err[256];
    char id[PROTO_MAX_ID + 1]; /* the worker's current routing id */
    bool ping;                 /* keep the worker's liveness up while waiting */
    int64_t next_ping;
    char root[64]; /* fake /proc for the idle test, "" otherwise */
} fake_t;

static int bind_any(void *s, int *port) {
    char ep[64];
    size_t len = sizeof ep;
    int zero = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
    if (zmq_bind(s, "tcp://127.0.0.1:*") != 0 ||
        zmq_getsockopt(s, ZMQ_LAST_ENDPOINT, ep, &len) != 0)
        return -1;
    *port = atoi(strrchr(ep, ':') + 1);
    return 0;
}

static void *worker_thread(void *arg) {
    fake_t *f = arg;
    f->rc = worker_run(&f->cfg, &f->opts, &f->stop, &f->stats, f->err, sizeof f->err);
    return NULL;
}

/* Binds the fake master; the worker is started by fake_run(). */
static fake_t *fake_new(const char *when) {
    fake_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->ctx = zmq_ctx_new();
    f->router = zmq_socket(f->ctx, ZMQ_ROUTER);
    f->pull = zmq_socket(f->ctx, ZMQ_PULL);
    f->sub = zmq_socket(f->ctx, ZMQ_SUB);
    zmq_setsockopt(f->sub, ZMQ_SUBSCRIBE, "", 0);
    config_defaults(&f->cfg);
    assert_int_equal(bind_any(f->router, &f->cfg.master.task_port), 0);
    assert_int_equal(bind_any(f->pull, &f->cfg.master.result_port), 0);
    assert_int_equal(bind_any(f->sub, &f->cfg.master.heartbeat_port), 0);
    f->cfg.cluster.heartbeat_ms = HB_MS;
    f->cfg.cluster.liveness = 3;
    f->cfg.worker.slots = 2;
    snprintf(f->cfg.worker.name, sizeof f->cfg.worker.name, "tester");
    snprintf(f->cfg.worker.when, sizeof f->cfg.worker.when, "%s", when);
    f->opts.backoff_min_ms = 200;
    f->opts.backoff_max_ms = 400;
    if (strcmp(when, "idle") == 0) {
        snprintf(f->root, sizeof f->root, "/tmp/nc-test-worker-XXXXXX");
        assert_non_null(mkdtemp(f->root));
        char p[128];
        snprintf(p, sizeof p, "%s/proc", f->root);
        mkdir(p, 0700);
        f->cfg.worker.idle_minutes = 0;
        f->opts.sys_root = f->root;
    }
    f->ping = true;
    return f;
}

static void fake_run(fake_t *f) {
    assert_int_equal(pthread_create(&f->thread, NULL, worker_thread, f), 0);
}

static fake_t *fake_start(const char *when) {
    fake_t *f = fake_new(when);
    fake_run(f);
    return f;
}

static void fake_write(fake_t *f, const char *rel, const char *text) {
    char p[128];
    snprintf(p, sizeof p, "%s/%s", f->root, rel);
    FILE *fp = fopen(p, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

/* Closes the fake master after the worker thread has been joined. */
static void fake_close(fake_t *f, worker_stats_t *stats) {
    assert_int_equal(f->rc, 0);
    if (stats) *stats = f->stats;
    zmq_close(f->router);
    zmq_close(f->pull);
    zmq_close(f->sub);
    zmq_ctx_term(f->ctx);
    if (f->root[0]) {
        char p[160];
        snprintf(p, sizeof p, "%s/proc/loadavg", f->root);
        unlink(p);
        snprintf(p, sizeof p, "%s/proc", f->root);
        rmdir(p);
        rmdir(f->root);
    }
    free(f);
}

static void fake_stop(fake_t *f, worker_stats_t *stats) {
    f->stop = 1;
    pthread_join(f->thread, NULL);
    fake_close(f, stats);
}

static void send_to_worker(fake_t *f, const proto_header_t *h, const void *const *frames,
                           const size_t *lens, int n) {
    assert_int_equal(zmq_send(f->router, f->id, strlen(f->id), ZMQ_SNDMORE), (int)strlen(f->id));
    assert_int_equal(wire_send_header(f->router, h, n > 0 ? ZMQ_SNDMORE : 0), 0);
    for (int i = 0; i < n; i++)
        assert_int_equal(
            wire_send_bytes(f->router, frames[i], lens[i], i + 1 < n ? ZMQ_SNDMORE : 0), 0);
}

static void send_simple(fake_t *f, uint8_t type, uint32_t task, uint64_t lease) {
    proto_header_t h = {.type = type,
                        .job_id = 1,
                        .task_id = task,
                        .attempt = 1,
                        .shard = PROTO_NO_SHARD,
                        .lease = lease};
    send_to_worker(f, &h, NULL, NULL, 0);
}

static void send_task(fake_t *f, uint16_t op, uint32_t task, uint64_t lease, uint32_t sleep_ms) {
    proto_header_t h = {.type = MSG_TASK,
                        .op = op,
                        .job_id = 1,
                        .task_id = task,
                        .attempt = 1,
                        .shard = PROTO_NO_SHARD,
                        .lease = lease};
    uint8_t body[4];
    proto_put_u32(body, sleep_ms);
    const void *fr[] = {body};
    size_t len[] = {op == OP_SLEEP ? 4 : 0};
    send_to_worker(f, &h, fr, len, 1);
}

/* Waits up to timeout_ms for a message on sock whose header (frame hdr_at)
 * has the given type; other messages are skipped. PINGs the worker meanwhile
 * when f->ping. Returns 0 with m filled (caller wire_close()s), -1 on timeout. */
static int wait_for(fake_t *f, void *sock, int hdr_at, uint8_t type, int timeout_ms, wire_msg_t *m,
                    proto_header_t *h) {
    int64_t deadline = clock_now_ms() + timeout_ms;
    while (clock_now_ms() < deadline) {
        if (f->ping && f->id[0] && clock_now_ms() >= f->next_ping) {
            send_simple(f, MSG_PING, 0, 0);
            f->next_ping = clock_now_ms() + HB_MS;
        }
        zmq_pollitem_t it = {sock, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&it, 1, 20) <= 0) continue;
        if (wire_recv(sock, m, 0) < 0) continue;
        const char *why;
        if (m->n > hdr_at &&
            proto_header_decode(wire_data(m, hdr_at), wire_size(m, hdr_at), h, &why) == 0 &&
            h->type == type)
            return 0;
        wire_close(m);
    }
    return -1;
}

/* Waits for READY and records the worker's routing id. */
static void expect_ready(fake_t *f, int timeout_ms) {
    wire_msg_t m;
    proto_header_t h;
    assert_int_equal(wait_for(f, f->router, 1, MSG_READY, timeout_ms, &m, &h), 0);
    assert_int_equal(m.n, 3);
    assert_true(proto_valid_id(wire_data(&m, 0), wire_size(&m, 0)));
    snprintf(f->id, sizeof f->id, "%.*s", (int)wire_size(&m, 0), (const char *)wire_data(&m, 0));
    char js[PROTO_MAX_JSON + 1]; /* frames are not NUL-terminated */
    snprintf(js, sizeof js, "%.*s", (int)wire_size(&m, 2), (const char *)wire_data(&m, 2));
    json_object *o = json_tokener_parse(js);
    assert_non_null(o);
    json_object *v;
    assert_true(json_object_object_get_ex(o, "name", &v));
    assert_string_equal(json_object_get_string(v), "tester");
    assert_true(json_object_object_get_ex(o, "slots", &v));
    assert_int_equal(json_object_get_int(v), 2);
    assert_true(json_object_object_get_ex(o, "pid", &v));
    assert_true(json_object_object_get_ex(o, "cores", &v));
    json_object_put(o);
    wire_close(&m);
}

/* Waits for RESULT (or FAIL) of task and checks it echoes the lease. */
static void expect_result(fake_t *f, uint8_t type, uint32_t task, uint64_t lease, int timeout_ms) {
    int64_t deadline = clock_now_ms() + timeout_ms;
    for (;;) {
        wire_msg_t m;
        proto_header_t h;
        int left = (int)(deadline - clock_now_ms());
        assert_true(left > 0);
        assert_int_equal(wait_for(f, f->pull, 0, type, left, &m, &h), 0);
        if (h.task_id != task) {
            wire_close(&m);
            continue;
        }
        assert_int_equal(m.n, 3);
        assert_int_equal(h.lease, lease);
        assert_int_equal(h.attempt, 1);
        assert_int_equal(h.job_id, 1);
        assert_int_equal(wire_size(&m, 1), strlen(f->id));
        assert_memory_equal(wire_data(&m, 1), f->id, strlen(f->id));
        wire_close(&m);
        return;
    }
}

/* True when a RESULT for task arrives within ms. */
static bool result_arrives(fake_t *f, uint32_t task, int ms) {
    int64_t deadline = clock_now_ms() + ms;
    while (clock_now_ms() < deadline) {
        wire_msg_t m;
        proto_header_t h;
        if (wait_for(f, f->pull, 0, MSG_RESULT, (int)(deadline - clock_now_ms()) + 1, &m, &h) != 0)
            return false;
        wire_close(&m);
        if (h.task_id == task) return true;
    }
    return false;
}

static json_object *next_heartbeat(fake_t *f, int timeout_ms) {
    wire_msg_t m;
    proto_header_t h;
    if (wait_for(f, f->sub, 0, MSG_HEARTBEAT, timeout_ms, &m, &h) != 0) return NULL;
    assert_int_equal(m.n, 3);
    assert_true(proto_valid_id(wire_data(&m, 1), wire_size(&m, 1)));
    assert_true(wire_size(&m, 2) <= PROTO_MAX_JSON);
    char js[PROTO_MAX_JSON + 1];
    snprintf(js, sizeof js, "%.*s", (int)wire_size(&m, 2), (const char *)wire_data(&m, 2));
    wire_close(&m);
    json_object *o = json_tokener_parse(js);
    assert_non_null(o);
    return o;
}

static const char *hb_str(json_object *o, const char *key) {
    json_object *v;
    assert_true(json_object_object_get_ex(o, key, &v));
    return json_object_get_string(v);
}

static void test_ready_noop_heartbeat(void **state) {
    fake_t *f = fake_start("always");
    expect_ready(f, 3000);
    send_task(f, OP_NOOP, 5, 0xabcdef12345ull, 0);
    expect_result(f, MSG_RESULT, 5, 0xabcdef12345ull, 2000);

    json_object *hb = next_heartbeat(f, 2000);
    assert_non_null(hb);
    static const char *keys[] = {"name",   "host",       "cores",        "slots",      "cpu",
                                 "mem",    "load",       "battery",      "ac",         "state",
                                 "reason", "tasks_done", "current_task", "rows_per_s", "seq"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        json_object *v;
        if (!json_object_object_get_ex(hb, keys[i], &v)) fail_msg("heartbeat lacks %s", keys[i]);
    }
    assert_string_equal(hb_str(hb, "state"), "idle");
    int64_t seq1 = json_object_get_int64(json_object_object_get(hb, "seq"));
    json_object_put(hb);
    hb = next_heartbeat(f, 2000);
    assert_non_null(hb);
    assert_true(json_object_get_int64(json_object_object_get(hb, "seq")) > seq1);
    assert_true(json_object_get_int64(json_object_object_get(hb, "tasks_done")) >= 1);
    json_object_put(hb);
    fake_stop(f, NULL);
}

static void test_cancelled_sleep_sends_nothing(void **state) {
    fake_t *f = fake_start("always");
    expect_ready(f, 3000);
    send_task(f, OP_SLEEP, 10, 111, 400); /* running */
    send_task(f, OP_SLEEP, 11, 222, 50);  /* running (2 slots) */
    send_task(f, OP_SLEEP, 12, 333, 400); /* queued */
    usleep(50 * 1000);
    send_simple(f, MSG_CANCEL, 10, 111);
    send_simple(f, MSG_CANCEL, 12, 333);
    expect_result(f, MSG_RESULT, 11, 222, 2000);
    assert_false(result_arrives(f, 10, 700));
    worker_stats_t st;
    fake_stop(f, &st);
    assert_int_equal(st.results, 1);
}

static void test_garbage_is_dropped(void **state) {
    fake_t *f = fake_start("always");
    expect_ready(f, 3000);
    /* Random bytes, a short header, a wrong version, a TASK without body, a
     * worker-only type, shard bytes for no shard, for the reserved id. */
    uint8_t junk[40];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (uint8_t)(i * 37 + 11);
    zmq_send(f->router, f->id, strlen(f->id), ZMQ_SNDMORE);
    zmq_send(f->router, junk, sizeof junk, 0);
    zmq_send(f->router, f->id, strlen(f->id), ZMQ_SNDMORE);
    zmq_send(f->router, "NC", 2, 0);
    proto_header_t h = {.type = MSG_TASK, .op = OP_NOOP, .attempt = 1, .shard = PROTO_NO_SHARD};
    uint8_t hb[PROTO_HEADER_SIZE];
    proto_header_encode(&h, hb);
    hb[2] = PROTO_VERSION + 1;
    zmq_send(f->router, f->id, strlen(f->id), ZMQ_SNDMORE);
    zmq_send(f->router, hb, sizeof hb, ZMQ_SNDMORE);
    zmq_send(f->router, "", 0, 0);
    send_to_worker(f, &h, NULL, NULL, 0);
    proto_header_t r = {.type = MSG_READY, .shard = PROTO_NO_SHARD};
    send_to_worker(f, &r, NULL, NULL, 0);
    proto_header_t s = h;
    s.flags = PROTO_F_SHARD;
    const void *fr[] = {"", "bytes"};
    size_t len[] = {0, 5};
    send_to_worker(f, &s, fr, len, 2);
    /* shard bytes under the id a worker keeps a job's whole rows by */
    proto_header_t rows = s;
    rows.shard = PROTO_ROWS_SHARD;
    rows.task_id = 5;
    send_to_worker(f, &rows, fr, len, 2);
    /* Still serving. */
    send_task(f, OP_NOOP, 77, 7777, 0);
    expect_result(f, MSG_RESULT, 77, 7777, 2000);
    worker_stats_t st;
    fake_stop(f, &st);
    assert_true(st.dropped >= 7);
}

static void test_noshard_then_cached(void **state) {
    fake_t *f = fake_start("always");
    expect_ready(f, 3000);
    proto_header_t h = {.type = MSG_TASK,
                        .op = OP_NOOP,
                        .job_id = 1,
                        .task_id = 20,
                        .attempt = 1,
                        .shard = 3,
                        .lease = 20};
    const void *body[] = {""};
    size_t blen[] = {0};
    send_to_worker(f, &h, body, blen, 1);
    expect_result(f, MSG_FAIL, 20, 20, 2000);

    h.task_id = 21;
    h.lease = 21;
    h.flags = PROTO_F_SHARD | PROTO_F_CONTEXT;
    const void *fr[] = {"", "context", "shard bytes"};
    size_t len[] = {0, 7, 11};
    send_to_worker(f, &h, fr, len, 3);
    expect_result(f, MSG_RESULT, 21, 21, 2000);

    h.task_id = 22;
    h.lease = 22;
    h.flags = 0;
    send_to_worker(f, &h, body, blen, 1);
    expect_result(f, MSG_RESULT, 22, 22, 2000);

    /* An op number outside the protocol is a malformed message: dropped. */
    h.task_id = 23;
    h.lease = 23;
    h.op = 99;
    send_to_worker(f, &h, body, blen, 1);
    h.task_id = 24;
    h.lease = 24;
    h.op = OP_NOOP;
    send_to_worker(f, &h, body, blen, 1);
    expect_result(f, MSG_RESULT, 24, 24, 2000);
    worker_stats_t st;
    fake_stop(f, &st);
    assert_int_equal(st.dropped, 1);
    assert_int_equal(st.fails, 1);
}

static void test_silent_master_reconnect_and_reset(void **state) {
    fake_t *f = fake_start("always");
    expect_ready(f, 3000);
    char first[sizeof f->id];
    snprintf(first, sizeof first, "%s", f->id);
    f->ping = false;
    /* liveness 3 x 100 ms, then a 200 ms backoff. */
    int64_t t0 = clock_now_ms();
    expect_ready(f, 3000);
    assert_true(clock_now_ms() - t0 >= 250);
    assert_string_not_equal(first, f->id);
    f->ping = true;

    /* RESET: READY again at once, same identity. */
    snprintf(first, sizeof first, "%s", f->id);
    send_simple(f, MSG_RESET, 0, 0);
    expect_ready(f, 1000);
    assert_string_equal(first, f->id);
    worker_stats_t st;
    fake_stop(f, &st);
    assert_true(st.reconnects >= 1);
}

/* zmq_close() returns before ZeroMQ's I/O thread closes the listening
 * socket: wait until a TCP connect to the port is refused, so that a worker
 * started now cannot reach the dying listener (whose reset would read as a
 * peer that closed during the handshake). */
static void wait_port_closed(int port) {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < 200; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        int rc = connect(fd, (struct sockaddr *)&a, sizeof a);
        close(fd);
        if (rc != 0) return;
        usleep(10 * 1000);
    }
    fail_msg("port %d still accepts connections 2 s after zmq_close", port);
}

static void rebind_router(fake_t *f) {
    f->router = zmq_socket(f->ctx, ZMQ_ROUTER);
    int zero = 0;
    zmq_setsockopt(f->router, ZMQ_LINGER, &zero, sizeof zero);
    char ep[64];
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", f->cfg.master.task_port);
    assert_int_equal(zmq_bind(f->router, ep), 0);
}

static void test_master_restart_is_noticed_at_once(void **state) {
    fake_t *f = fake_new("always");
    f->cfg.cluster.liveness = 1000; /* 100 s: only the connection events can explain a READY */
    fake_run(f);
    expect_ready(f, 3000);
    char first[sizeof f->id];
    snprintf(first, sizeof first, "%s", f->id);
    send_task(f, OP_SLEEP, 50, 50, 600);
    usleep(50 * 1000);
    /* The master dies and a new one binds the same port. The worker must not
     * wait for liveness: the dropped connection voids its
     * leases and the new connection gets a READY under the same id. */
    zmq_close(f->router);
    usleep(100 * 1000);
    rebind_router(f);
    expect_ready(f, 3000);
    assert_string_equal(first, f->id);
    assert_false(result_arrives(f, 50, 800)); /* the voided lease's result */
    worker_stats_t st;
    fake_stop(f, &st);
    assert_int_equal(st.reconnects, 0);
}

static void test_worker_before_master(void **state) {
    fake_t *f = fake_new("always");
    zmq_close(f->router); /* no master yet */
    wait_port_closed(f->cfg.master.task_port);
    fake_run(f);
    usleep(700 * 1000); /* over twice liveness * heartbeat */
    rebind_router(f);
    expect_ready(f, 3000);
    send_task(f, OP_NOOP, 60, 60, 0);
    expect_result(f, MSG_RESULT, 60, 60, 2000);
    worker_stats_t st;
    fake_stop(f, &st);
    assert_int_equal(st.reconnects, 0); /* waited on ZeroMQ's reconnect, not a new id */
}

static void test_stop_hands_back(void **state) {
    fake_t *f = fake_start("always");
    expect_ready(f, 3000);
    send_task(f, OP_SLEEP, 30, 30, 5000);
    send_task(f, OP_SLEEP, 31, 31, 5000);
    send_task(f, OP_SLEEP, 32, 32, 5000);
    usleep(100 * 1000);
    int64_t t0 = clock_now_ms();
    f->stop = 1;
    int back = 0;
    bool bye = false;
    while (clock_now_ms() - t0 < 2000 && !bye) {
        wire_msg_t m;
        proto_header_t h;
        zmq_pollitem_t it = {f->router, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&it, 1, 50) <= 0 || wire_recv(f->router, &m, 0) < 0) continue;
        const char *why;
        if (m.n >= 2 && proto_header_decode(wire_data(&m, 1), wire_size(&m, 1), &h, &why) == 0) {
            if (h.type == MSG_HANDBACK) {
                assert_int_equal(h.lease, h.task_id);
                back++;
            }
            bye |= h.type == MSG_BYE;
        }
        wire_close(&m);
    }
    assert_int_equal(back, 3);
    assert_true(bye);
    pthread_join(f->thread, NULL);
    assert_true(clock_now_ms() - t0 < 2000); /* the 5 s sleeps were cancelled */
    fake_close(f, NULL);
}

static void test_idle_pause_and_resume(void **state) {
    fake_t *f = fake_start("idle");
    fake_write(f, "proc/loadavg", "0.00 0.00 0.00 1/100 1\n");
    expect_ready(f, 3000);
    send_task(f, OP_SLEEP, 40, 40, 5000);
    usleep(50 * 1000);
    /* Somebody else loads the PC: the worker hands its task back. */
    fake_write(f, "proc/loadavg", "9.00 9.00 9.00 1/100 1\n");
    wire_msg_t m;
    proto_header_t h;
    assert_int_equal(wait_for(f, f->router, 1, MSG_HANDBACK, 2000, &m, &h), 0);
    assert_int_equal(h.task_id, 40);
    wire_close(&m);
    json_object *hb = NULL;
    for (int i = 0; i < 10; i++) {
        hb = next_heartbeat(f, 1000);
        assert_non_null(hb);
        if (strcmp(hb_str(hb, "state"), "paused") == 0) break;
        json_object_put(hb);
        hb = NULL;
    }
    assert_non_null(hb);
    assert_true(strlen(hb_str(hb, "reason")) > 0);
    json_object_put(hb);
    /* A task arriving while paused goes straight back. */
    send_task(f, OP_NOOP, 41, 41, 0);
    assert_int_equal(wait_for(f, f->router, 1, MSG_HANDBACK, 2000, &m, &h), 0);
    assert_int_equal(h.task_id, 41);
    wire_close(&m);
    assert_false(result_arrives(f, 40, 100));
    /* Load gone: READY asks for work again. */
    fake_write(f, "proc/loadavg", "0.00 0.00 0.00 1/100 1\n");
    expect_ready(f, 3000);
    send_task(f, OP_NOOP, 42, 42, 0);
    expect_result(f, MSG_RESULT, 42, 42, 2000);
    fake_stop(f, NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ready_noop_heartbeat),
        cmocka_unit_test(test_cancelled_sleep_sends_nothing),
        cmocka_unit_test(test_garbage_is_dropped),
        cmocka_unit_test(test_noshard_then_cached),
        cmocka_unit_test(test_silent_master_reconnect_and_reset),
        cmocka_unit_test(test_master_restart_is_noticed_at_once),
        cmocka_unit_test(test_worker_before_master),
        cmocka_unit_test(test_stop_hands_back),
        cmocka_unit_test(test_idle_pause_and_resume),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
