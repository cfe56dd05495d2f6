/* Unit tests for sched_round() (master/sched.h): one task per shard, results
 * given back indexed by shard or to a sink, a subset of shards, a worker's
 * data error. A fake worker thread speaks the wire protocol over loopback:
 * it answers every task with "shard N body B bytes D" (the shard's number,
 * the task body and the shard's bytes it was sent or holds), and fails a task
 * whose body is "bad" with a data error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zmq.h>

#include "common/blob.h"
#include "common/config.h"
#include "common/proto.h"
#include "common/wire.h"
#include "master/sched.h"
#include "tests/unit/freeport.h"

#define NSHARDS 3
static const char DATA[] = "aaaa\nbbbb\ncccc\n";

typedef struct fx {
    void *zctx;
    config_t cfg;
    sched_t *s;
    volatile sig_atomic_t stop;
    pthread_t worker;
    volatile int quit;
    char file[64];
    char held[NSHARDS][8]; /* the fake worker's copy of each shard */
} fx_t;

static fx_t F;

static void send_result(void *push, const proto_header_t *task, bool ok, const char *text) {
    proto_header_t h = *task;
    uint8_t buf[PROTO_HEADER_SIZE];
    h.type = ok ? MSG_RESULT : MSG_FAIL;
    if (!ok) h.op = strstr(text, "point") ? PROTO_ERR_NEEDPOINT : PROTO_ERR_DATA;
    proto_header_encode(&h, buf);
    zmq_send(push, buf, sizeof buf, ZMQ_SNDMORE);
    zmq_send(push, "fw1", 3, ZMQ_SNDMORE);
    zmq_send(push, text, strlen(text), 0);
}

/* One TASK: frames header, body, [context], [shard bytes]. */
static void answer(void *push, wire_msg_t *m, const proto_header_t *h) {
    char body[64], text[160];
    snprintf(body, sizeof body, "%.*s", (int)wire_size(m, 1), (const char *)wire_data(m, 1));
    if (h->shard >= NSHARDS) return;
    if (h->flags & PROTO_F_SHARD)
        snprintf(F.held[h->shard], sizeof F.held[h->shard], "%.*s", (int)wire_size(m, m->n - 1),
                 (const char *)wire_data(m, m->n - 1));
    if (strcmp(body, "light-needs-point") == 0) {
        send_result(push, h, false, "lacks a point");
        return;
    }
    if (strcmp(body, "bad") == 0) {
        snprintf(text, sizeof text, "shard %u: bad data on line %u", h->shard, h->shard + 1);
        send_result(push, h, false, text);
        return;
    }
    snprintf(text, sizeof text, "shard %u body %s bytes %s", h->shard, body, F.held[h->shard]);
    send_result(push, h, true, text);
}

static void *fake_worker(void *arg) {
    char ep[64];
    void *dealer = zmq_socket(F.zctx, ZMQ_DEALER);
    void *push = zmq_socket(F.zctx, ZMQ_PUSH);
    int linger = 0;
    zmq_setsockopt(dealer, ZMQ_ROUTING_ID, "fw1", 3);
    zmq_setsockopt(dealer, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(push, ZMQ_LINGER, &linger, sizeof linger);
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", F.cfg.master.task_port);
    zmq_connect(dealer, ep);
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", F.cfg.master.result_port);
    zmq_connect(push, ep);
    proto_header_t ready = {.type = MSG_READY, .shard = PROTO_NO_SHARD};
    uint8_t buf[PROTO_HEADER_SIZE];
    proto_header_encode(&ready, buf);
    const char *js = "{\"name\":\"fw1\",\"host\":\"test\",\"cores\":2,\"slots\":2}";
    zmq_send(dealer, buf, sizeof buf, ZMQ_SNDMORE);
    zmq_send(dealer, js, strlen(js), 0);
    while (!F.quit) {
        zmq_pollitem_t it = {dealer, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&it, 1, 50) <= 0) continue;
        wire_msg_t m;
        if (wire_recv(dealer, &m, ZMQ_DONTWAIT) < 0) continue;
        proto_header_t h;
        const char *why;
        if (m.n >= 2 && proto_header_decode(wire_data(&m, 0), wire_size(&m, 0), &h, &why) == 0 &&
            h.type == MSG_TASK)
            answer(push, &m, &h);
        wire_close(&m);
    }
    zmq_close(dealer);
    zmq_close(push);
    return arg;
}

static int setup(void **state) {
    char err[256];
    memset(&F, 0, sizeof F);
    config_defaults(&F.cfg);
    snprintf(F.cfg.master.ip, sizeof F.cfg.master.ip, "127.0.0.1");
    F.cfg.master.task_port = free_port();
    F.cfg.master.result_port = free_port();
    F.cfg.master.heartbeat_port = free_port();
    F.cfg.cluster.heartbeat_ms = 60000; /* the fake worker sends no heartbeats */
    snprintf(F.file, sizeof F.file, "/tmp/nc-round.XXXXXX");
    int fd = mkstemp(F.file);
    if (fd < 0 || write(fd, DATA, sizeof DATA - 1) != (ssize_t)(sizeof DATA - 1)) return -1;
    close(fd);
    F.zctx = zmq_ctx_new();
    F.s = sched_new(F.zctx, &F.cfg, NULL, &F.stop, err, sizeof err);
    if (!F.s) {
        fprintf(stderr, "sched_new: %s\n", err);
        return -1;
    }
    pthread_create(&F.worker, NULL, fake_worker, NULL);
    if (sched_wait_workers(F.s, 1, 10000) < 0) return -1;
    sched_shard_t shards[NSHARDS] = {{0, 5, 1}, {5, 5, 1}, {10, 5, 1}};
    *state = &F;
    return sched_begin_job(F.s, 7, F.file, shards, NSHARDS, err, sizeof err);
}

static int teardown(void **state) {
    (void)state;
    F.quit = 1;
    pthread_join(F.worker, NULL);
    sched_destroy(&F.s);
    zmq_ctx_term(F.zctx);
    unlink(F.file);
    return 0;
}

static blob_t *text_blob(const char *s) {
    blob_t *b = blob_copy(s, strlen(s));
    assert_non_null(b);
    return b;
}

static void assert_answer(const sched_answer_t *a, const char *want) {
    assert_non_null(a->data);
    assert_int_equal(a->data->len, strlen(want));
    assert_memory_equal(a->data->data, want, a->data->len);
    assert_string_equal(a->worker, "fw1");
}

/* Every shard's result lands at its own index, whatever order they come in. */
static void test_results_by_shard(void **state) {
    blob_t *bodies[NSHARDS] = {text_blob("x0"), text_blob("x1"), text_blob("x2")};
    sched_round_t r = {.op = OP_NOOP, .bodies = bodies};
    char err[256] = "";
    assert_int_equal(sched_round(F.s, &r, err, sizeof err), 0);
    assert_int_equal(r.nshards, NSHARDS);
    assert_answer(&r.answers[0], "shard 0 body x0 bytes aaaa\n");
    assert_answer(&r.answers[1], "shard 1 body x1 bytes bbbb\n");
    assert_answer(&r.answers[2], "shard 2 body x2 bytes cccc\n");
    sched_round_free(&r);
    assert_null(r.answers);
    sched_round_free(&r); /* twice is fine */
    for (int i = 0; i < NSHARDS; i++)
        blob_unref(&bodies[i]);
}

/* One shared body goes to every shard; a NULL entry in bodies skips a shard. */
static void test_shared_body_and_subset(void **state) {
    blob_t *body = text_blob("all");
    sched_round_t r = {.op = OP_NOOP, .body = body};
    char err[256] = "";
    assert_int_equal(sched_round(F.s, &r, err, sizeof err), 0);
    for (int i = 0; i < NSHARDS; i++) {
        char want[64];
        snprintf(want, sizeof want, "shard %d body all bytes %s", i, F.held[i]);
        assert_answer(&r.answers[i], want);
    }
    sched_round_free(&r);
    blob_t *bodies[NSHARDS] = {NULL, body, NULL};
    sched_round_t sub = {.op = OP_NOOP, .bodies = bodies};
    assert_int_equal(sched_round(F.s, &sub, err, sizeof err), 0);
    assert_null(sub.answers[0].data);
    assert_null(sub.answers[2].data);
    assert_string_equal(sub.answers[0].worker, "");
    assert_answer(&sub.answers[1], "shard 1 body all bytes bbbb\n");
    sched_round_free(&sub);
    blob_unref(&body);
}

typedef struct seen {
    int count[NSHARDS];
    int refuse_at; /* refuse the n-th result (1-based), 0 never */
    int n;
} seen_t;

static int sink(void *arg, uint32_t shard, const void *data, size_t len, const char *worker) {
    seen_t *s = arg;
    char want[64];
    snprintf(want, sizeof want, "shard %u body s bytes ", shard);
    assert_true(shard < NSHARDS);
    assert_true(len > strlen(want));
    assert_memory_equal(data, want, strlen(want));
    assert_string_equal(worker, "fw1");
    s->count[shard]++;
    return ++s->n == s->refuse_at ? -1 : 0;
}

/* A sink takes each result once as it arrives; nothing is kept; a refusal
 * fails the round. */
static void test_sink(void **state) {
    blob_t *body = text_blob("s");
    seen_t seen = {0};
    sched_round_t r = {.op = OP_NOOP, .body = body, .sink = sink, .sink_arg = &seen};
    char err[256] = "";
    assert_int_equal(sched_round(F.s, &r, err, sizeof err), 0);
    for (int i = 0; i < NSHARDS; i++) {
        assert_int_equal(seen.count[i], 1);
        assert_null(r.answers[i].data);
    }
    sched_round_free(&r);
    seen = (seen_t){.refuse_at = 1};
    sched_round_t refused = {.op = OP_NOOP, .body = body, .sink = sink, .sink_arg = &seen};
    assert_int_equal(sched_round(F.s, &refused, err, sizeof err), -1);
    assert_false(refused.data_error);
    sched_round_free(&refused);
    blob_unref(&body);
}

/* A worker's report of bad data fails the round as a data error, with the
 * worker's text. */
static void test_data_error(void **state) {
    blob_t *ok = text_blob("fine"), *bad = text_blob("bad");
    blob_t *bodies[NSHARDS] = {ok, ok, bad};
    sched_round_t r = {.op = OP_NOOP, .bodies = bodies};
    char err[256] = "";
    assert_int_equal(sched_round(F.s, &r, err, sizeof err), -1);
    assert_true(r.data_error);
    assert_string_equal(err, "shard 2: bad data on line 3");
    sched_round_free(&r);
    blob_unref(&ok);
    blob_unref(&bad);
}

typedef struct groups {
    int covered[NSHARDS]; /* answers that covered each shard */
    int bodies, full_bodies, answers;
    bool need_point; /* light bodies make the fake worker ask for the point */
} groups_t;

static blob_t *group_body(void *arg, const uint32_t *shards, size_t n, bool full) {
    groups_t *g = arg;
    for (size_t i = 1; i < n; i++)
        assert_true(shards[i] > shards[i - 1]);
    g->bodies++;
    g->full_bodies += full;
    return text_blob(full ? "full" : g->need_point ? "light-needs-point" : "light");
}

static int group_sink(void *arg, const uint32_t *shards, size_t n, const void *data, size_t len,
                      const char *worker) {
    groups_t *g = arg;
    char want[64];
    snprintf(want, sizeof want, "shard %u body ", shards[0]);
    assert_true(len > strlen(want));
    assert_memory_equal(data, want, strlen(want));
    if (g->need_point) assert_memory_equal((const char *)data + strlen(want), "full", 4);
    for (size_t i = 0; i < n; i++)
        g->covered[shards[i]]++;
    g->answers++;
    return 0;
}

/* A grouped round: the worker holding every shard with 2 slots gets two
 * tasks over neighbouring shards, light bodies; every shard is covered by
 * exactly one answer. */
static void test_grouped(void **state) {
    blob_t *body = text_blob("load");
    sched_round_t load = {.op = OP_NOOP, .body = body};
    char err[256] = "";
    assert_int_equal(sched_round(F.s, &load, err, sizeof err), 0); /* fw1 holds every shard */
    sched_round_free(&load);
    blob_unref(&body);
    groups_t g = {0};
    sched_round_t r = {
        .op = OP_NOOP, .group_body = group_body, .group_sink = group_sink, .group_arg = &g};
    assert_int_equal(sched_round(F.s, &r, err, sizeof err), 0);
    for (int i = 0; i < NSHARDS; i++)
        assert_int_equal(g.covered[i], 1);
    assert_int_equal(g.answers, 2); /* slots 2: [0] and [1, 2] */
    assert_int_equal(g.bodies, 2);
    assert_int_equal(g.full_bodies, 0);
    sched_round_free(&r);
}

/* A worker that lacks a point (PROTO_ERR_NEEDPOINT) gets its task again,
 * now with a full body; the round succeeds and no attempt is lost. */
static void test_grouped_needs_point(void **state) {
    groups_t g = {.need_point = true};
    sched_round_t r = {
        .op = OP_NOOP, .group_body = group_body, .group_sink = group_sink, .group_arg = &g};
    char err[256] = "";
    sched_counters_t c0, c1;
    sched_get_counters(F.s, &c0);
    assert_int_equal(sched_round(F.s, &r, err, sizeof err), 0);
    sched_get_counters(F.s, &c1);
    for (int i = 0; i < NSHARDS; i++)
        assert_int_equal(g.covered[i], 1);
    assert_int_equal(g.full_bodies, g.answers); /* every answer came from a full body */
    assert_int_equal(c1.tasks_failed, c0.tasks_failed);
    assert_true(c1.bytes_sent > c0.bytes_sent && c1.bytes_received > c0.bytes_received);
    sched_round_free(&r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grouped),
        cmocka_unit_test(test_grouped_needs_point),
        cmocka_unit_test(test_results_by_shard),
        cmocka_unit_test(test_shared_body_and_subset),
        cmocka_unit_test(test_sink),
        cmocka_unit_test(test_data_error),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
