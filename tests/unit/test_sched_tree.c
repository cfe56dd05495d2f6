/* Unit tests for the scheduler's reduction tree (master/sched.h, tree_fanin):
 * how a grouped round's tasks are laid out as a tree (each task's NODE frame,
 * parents' endpoints), the root's sum completing every node it covers, the
 * nodes it lacks asked again directly, and a sum that breaks the rules
 * giving the tree up. Three fake workers (threads) speak the wire protocol
 * over loopback; each announces its own tree port. A tree node that is not
 * the root answers nothing (its part would go to its parent); the root
 * answers a PART whose cover the test chooses; a direct task is answered
 * "direct G" (G: the first shard of its group). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "common/blob.h"
#include "common/config.h"
#include "common/proto.h"
#include "common/treemsg.h"
#include "common/wire.h"
#include "master/sched.h"
#include "tests/unit/freeport.h"

#define NSHARDS 6
#define NW 3
#define TREE_PORT0 41000 /* announced only: nothing listens there */

enum { ROOT_ALL, ROOT_LACKS_LAST, ROOT_WRONG_ROUND, ROOT_SILENT };

typedef struct seen {
    bool tree;
    treemsg_node_t node;
    int worker;
} seen_t;

static struct {
    void *zctx;
    config_t cfg;
    sched_t *s;
    volatile sig_atomic_t stop;
    pthread_t th[NW];
    volatile int quit;
    char file[64];
    pthread_mutex_t mu;
    int mode;
    seen_t seen[64]; /* the round's tasks as the workers got them */
    int nseen;
} F;

static void send_msg(void *push, const proto_header_t *task, const char *id, const void *body,
                     size_t len) {
    proto_header_t h = *task;
    uint8_t buf[PROTO_HEADER_SIZE];
    h.type = MSG_RESULT;
    h.flags = 0;
    proto_header_encode(&h, buf);
    zmq_send(push, buf, sizeof buf, ZMQ_SNDMORE);
    zmq_send(push, id, strlen(id), ZMQ_SNDMORE);
    zmq_send(push, body, len, 0);
}

static void answer(int wi, void *push, wire_msg_t *m, const proto_header_t *h) {
    char id[8], text[64], err[256];
    snprintf(id, sizeof id, "fw%d", wi);
    seen_t sn = {.worker = wi};
    if (h->flags & PROTO_F_TREE) {
        sn.tree = true;
        assert_int_equal(treemsg_decode_node(wire_data(m, m->n - 1), wire_size(m, m->n - 1),
                                             &sn.node, err, sizeof err),
                         0);
    }
    pthread_mutex_lock(&F.mu);
    if (F.nseen < 64) F.seen[F.nseen++] = sn;
    int mode = F.mode;
    pthread_mutex_unlock(&F.mu);
    if (!sn.tree) {
        snprintf(text, sizeof text, "direct %u", h->shard);
        send_msg(push, h, id, text, strlen(text));
        return;
    }
    if (sn.node.node != 0 || mode == ROOT_SILENT) return;
    uint32_t cover[64], n = sn.node.nodes - (mode == ROOT_LACKS_LAST ? 1 : 0);
    for (uint32_t i = 0; i < n; i++)
        cover[i] = i;
    blob_t *p = treemsg_encode_part(sn.node.round + (mode == ROOT_WRONG_ROUND), TREEMSG_MASTER, 0,
                                    sn.node.nodes, cover, n, "sum", 3, 2, err, sizeof err);
    assert_non_null(p);
    send_msg(push, h, id, p->data, p->len);
    blob_unref(&p);
}

static void *fake_worker(void *arg) {
    int wi = (int)(intptr_t)arg;
    char ep[64], id[8], js[160];
    void *dealer = zmq_socket(F.zctx, ZMQ_DEALER);
    void *push = zmq_socket(F.zctx, ZMQ_PUSH);
    int linger = 0;
    snprintf(id, sizeof id, "fw%d", wi);
    zmq_setsockopt(dealer, ZMQ_ROUTING_ID, id, strlen(id));
    zmq_setsockopt(dealer, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(push, ZMQ_LINGER, &linger, sizeof linger);
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", F.cfg.master.task_port);
    zmq_connect(dealer, ep);
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", F.cfg.master.result_port);
    zmq_connect(push, ep);
    proto_header_t ready = {.type = MSG_READY, .shard = PROTO_NO_SHARD};
    uint8_t buf[PROTO_HEADER_SIZE];
    proto_header_encode(&ready, buf);
    snprintf(js, sizeof js,
             "{\"name\":\"%s\",\"host\":\"test\",\"cores\":1,\"slots\":1,"
             "\"tree_port\":%d}",
             id, TREE_PORT0 + wi);
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
            answer(wi, push, &m, &h);
        wire_close(&m);
    }
    zmq_close(dealer);
    zmq_close(push);
    return NULL;
}

static int setup_hb(void **state, int heartbeat_ms, int liveness) {
    char err[256];
    memset(&F, 0, sizeof F);
    pthread_mutex_init(&F.mu, NULL);
    config_defaults(&F.cfg);
    F.cfg.master.task_port = free_port();
    F.cfg.master.result_port = free_port();
    F.cfg.master.heartbeat_port = free_port();
    /* the fake workers send no heartbeats: they must not be found silent */
    F.cfg.cluster.heartbeat_ms = heartbeat_ms;
    F.cfg.cluster.liveness = liveness;
    snprintf(F.file, sizeof F.file, "/tmp/nc-tree.XXXXXX");
    int fd = mkstemp(F.file);
    if (fd < 0 || write(fd, "aaaaaaaaaaaa", 12) != 12) return -1;
    close(fd);
    F.zctx = zmq_ctx_new();
    F.s = sched_new(F.zctx, &F.cfg, NULL, &F.stop, err, sizeof err);
    if (!F.s) return -1;
    for (int i = 0; i < NW; i++)
        pthread_create(&F.th[i], NULL, fake_worker, (void *)(intptr_t)i);
    if (sched_wait_workers(F.s, NW, 10000) < 0) return -1;
    sched_set_prefetch(F.s, 0); /* one shard at a time: the shards spread */
    sched_shard_t shards[NSHARDS];
    for (int i = 0; i < NSHARDS; i++)
        shards[i] = (sched_shard_t){(uint64_t)i * 2, 2, 1};
    *state = &F;
    return sched_begin_job(F.s, 9, F.file, shards, NSHARDS, err, sizeof err);
}

static int setup(void **state) {
    return setup_hb(state, 60000, 3);
}

/* Ticks often enough to see a tree's deadline pass (every 100 ms). */
static int setup_fast_ticks(void **state) {
    return setup_hb(state, 100, 1000);
}

static int teardown(void **state) {
    (void)state;
    F.quit = 1;
    for (int i = 0; i < NW; i++)
        pthread_join(F.th[i], NULL);
    sched_destroy(&F.s);
    zmq_ctx_term(F.zctx);
    unlink(F.file);
    pthread_mutex_destroy(&F.mu);
    return 0;
}

typedef struct sums {
    int calls, tree_sums, direct;
    uint32_t shards_direct;
} sums_t;

static blob_t *group_body(void *arg, const uint32_t *shards, size_t n, bool full) {
    (void)arg, (void)shards, (void)n, (void)full;
    return blob_copy("b", 1);
}

static int group_sink(void *arg, const uint32_t *shards, size_t n, const void *data, size_t len,
                      const char *worker) {
    sums_t *g = arg;
    (void)shards, (void)n, (void)worker;
    g->calls++;
    if (len == 3 && memcmp(data, "sum", 3) == 0)
        g->tree_sums++;
    else if (len > 7 && memcmp(data, "direct ", 7) == 0)
        g->direct++;
    return 0;
}

/* One grouped round with the tree on; the workers' view of it in F.seen. */
static void run_round(int mode, sums_t *g) {
    pthread_mutex_lock(&F.mu);
    F.mode = mode;
    F.nseen = 0;
    pthread_mutex_unlock(&F.mu);
    memset(g, 0, sizeof *g);
    sched_round_t r = {.op = OP_NOOP,
                       .group_body = group_body,
                       .group_sink = group_sink,
                       .group_arg = g,
                       .tree_fanin = 2,
                       .tree_wait_ms = 100};
    char err[256] = "";
    assert_int_equal(sched_round(F.s, &r, err, sizeof err), 0);
    sched_round_free(&r);
}

/* Waits (up to 2 s) until the fake workers have recorded every node's
 * task: the fake root answers for its whole tree at once, so the round can
 * end before a loaded worker thread has read its own task. */
static void await_nodes(void) {
    for (int tries = 0; tries < 200; tries++) {
        int k = 0, nodes = -1;
        pthread_mutex_lock(&F.mu);
        for (int i = 0; i < F.nseen; i++)
            if (F.seen[i].tree) {
                k++;
                nodes = (int)F.seen[i].node.nodes;
            }
        pthread_mutex_unlock(&F.mu);
        if (nodes < 0 || k >= nodes) return;
        usleep(10000);
    }
}

/* Nodes 0..k-1 once each, every parent endpoint the tree port of the
 * worker that got the parent's task; returns k. */
static int check_layout(void) {
    await_nodes();
    int k = 0, worker_of[64];
    for (int i = 0; i < F.nseen; i++)
        if (F.seen[i].tree) k++;
    for (int i = 0; i < 64; i++)
        worker_of[i] = -1;
    for (int i = 0; i < F.nseen; i++) {
        if (!F.seen[i].tree) continue;
        const treemsg_node_t *n = &F.seen[i].node;
        assert_int_equal(n->nodes, k);
        assert_int_equal(n->fanin, 2);
        assert_int_equal(n->wait_ms, 100);
        assert_true(n->node < (uint32_t)k);
        assert_int_equal(worker_of[n->node], -1);
        worker_of[n->node] = F.seen[i].worker;
    }
    for (int i = 0; i < F.nseen; i++) {
        if (!F.seen[i].tree) continue;
        const treemsg_node_t *n = &F.seen[i].node;
        if (n->node == 0) {
            assert_string_equal(n->parent_ep, "");
            continue;
        }
        char want[64];
        snprintf(want, sizeof want, "tcp://127.0.0.1:%d",
                 TREE_PORT0 + worker_of[treemsg_parent(n->node, 2)]);
        assert_string_equal(n->parent_ep, want);
        assert_string_equal(n->parent_key, "");
    }
    return k;
}

/* The first round has no holders: every task is direct. Then every worker
 * holds shards: its group is a node, and the root's sum over all of them is
 * the round's only answer. */
static void test_layout_and_full_sum(void **state) {
    (void)state;
    sums_t g;
    run_round(ROOT_ALL, &g);
    for (int i = 0; i < F.nseen; i++)
        assert_false(F.seen[i].tree);
    assert_int_equal(g.direct, NSHARDS);
    run_round(ROOT_ALL, &g);
    int k = check_layout();
    assert_true(k >= 2);
    assert_int_equal(g.calls, 1);
    assert_int_equal(g.tree_sums, 1);
    sched_counters_t c;
    sched_get_counters(F.s, &c);
    assert_true(c.tree_rounds >= 1);
}

/* The root's sum lacks the last node: that node alone is asked directly
 * (the same worker, without a NODE frame); nothing is counted twice. */
static void test_missing_part_asked_directly(void **state) {
    (void)state;
    sums_t g;
    run_round(ROOT_ALL, &g); /* holders */
    run_round(ROOT_LACKS_LAST, &g);
    int k = check_layout();
    assert_int_equal(g.tree_sums, 1);
    assert_int_equal(g.direct, 1);
    assert_int_equal(g.calls, 2);
    assert_int_equal(F.nseen, k + 1);
    int direct_tasks = 0; /* in any place: the workers record in their own time */
    for (int i = 0; i < F.nseen; i++)
        direct_tasks += !F.seen[i].tree;
    assert_int_equal(direct_tasks, 1);
}

/* A sum for another round is refused: every node is asked directly, and
 * the refused sum is not taken. */
static void test_bad_sum_gives_the_tree_up(void **state) {
    (void)state;
    sums_t g;
    run_round(ROOT_ALL, &g);
    run_round(ROOT_WRONG_ROUND, &g);
    int k = check_layout();
    assert_int_equal(g.tree_sums, 0);
    assert_int_equal(g.direct, k);
    assert_int_equal(g.calls, k);
}

/* A root that never answers (alive, but its sum lost): once the deadline
 * passes ((height + 2) x wait plus four times the last round) every node is
 * asked directly, and the round completes with each part once. */
static void test_silent_root_times_out(void **state) {
    (void)state;
    sums_t g;
    run_round(ROOT_ALL, &g);
    run_round(ROOT_SILENT, &g);
    int k = check_layout();
    assert_int_equal(g.tree_sums, 0);
    assert_int_equal(g.direct, k);
    assert_int_equal(g.calls, k);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_layout_and_full_sum, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_part_asked_directly, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_sum_gives_the_tree_up, setup, teardown),
        cmocka_unit_test_setup_teardown(test_silent_root_times_out, setup_fast_ticks, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
