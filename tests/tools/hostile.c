/* hostile: a misbehaving peer for end-to-end tests (never used in production).
 *
 *   hostile HOST TASK_PORT RESULT_PORT HB_PORT SECONDS [--member TASKS]
 *
 * For SECONDS it sends, on every master port, what a broken or malicious
 * peer might: random bytes, truncated and oversized headers, wrong protocol
 * versions, unknown types, too many frames, READY with garbage JSON, results
 * for tasks it was never given, results forged for leases held by others,
 * heartbeats from unknown ids, a heartbeat flood with 1 MB hostnames. It then
 * prints how many messages of each kind it sent and exits 0.
 *
 * --member TASKS: a peer that joins the cluster like a worker instead
 * ("hostile1", plaintext, so it must be run with CURVE off). It hands back
 * every task it is given (reading the job id from the first), then, paced
 * by the clock rather than as fast as it can:
 *   - forges RESULT/FAIL for task ids 1..TASKS of that job with random lease
 *     nonces (it cannot know the real ones): forged / stale / duplicate;
 *   - 10,000 heartbeats/s under its own id, one in 500 with a 1 MB hostname
 *     and one in 100 with an 8000-byte hostname in valid JSON: flood /
 *     malformed, and what gets through is clipped by the master;
 *   - 1,000 heartbeats/s from an id that never said READY: unknown_peer;
 *   - a second READY ("hostile3"), refused where cluster.max_workers is full;
 *   - every 10 ms random bytes on each port and results for another job:
 *     malformed, unknown_task.
 */
#include "common/proto.h"
#include "common/wire.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

static void *connect_sock(void *ctx, int type, const char *host, const char *port, const char *id) {
    char ep[256];
    void *s = zmq_socket(ctx, type);
    int linger = 0, hwm = 100000;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof hwm);
    if (id) zmq_setsockopt(s, ZMQ_ROUTING_ID, id, strlen(id));
    snprintf(ep, sizeof ep, "tcp://%s:%s", host, port);
    if (zmq_connect(s, ep) != 0) {
        fprintf(stderr, "hostile: cannot connect %s\n", ep);
        exit(2);
    }
    return s;
}

static void send_random(void *s, size_t maxlen) {
    unsigned char buf[512];
    size_t n = (size_t)rand() % (maxlen < sizeof buf ? maxlen : sizeof buf);
    for (size_t i = 0; i < n; i++)
        buf[i] = (unsigned char)rand();
    zmq_send(s, buf, n, ZMQ_DONTWAIT);
}

static void send_header(void *s, proto_header_t *h, int more) {
    uint8_t b[PROTO_HEADER_SIZE];
    proto_header_encode(h, b);
    zmq_send(s, b, sizeof b, more | ZMQ_DONTWAIT);
}

static int64_t now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

static void send_hb(void *pub, const char *id, const void *json, size_t len) {
    proto_header_t h = {.type = MSG_HEARTBEAT, .shard = PROTO_NO_SHARD};
    send_header(pub, &h, ZMQ_SNDMORE);
    zmq_send(pub, id, strlen(id), ZMQ_SNDMORE | ZMQ_DONTWAIT);
    zmq_send(pub, json, len, ZMQ_DONTWAIT);
}

static void send_ready(void *dealer, const char *name) {
    char js[128];
    int n =
        snprintf(js, sizeof js, "{\"name\":\"%s\",\"host\":\"h\",\"cores\":1,\"slots\":1}", name);
    proto_header_t h = {.type = MSG_READY, .shard = PROTO_NO_SHARD};
    send_header(dealer, &h, ZMQ_SNDMORE);
    zmq_send(dealer, js, (size_t)n, ZMQ_DONTWAIT);
}

/* Reads what the master sends the member; hands back every TASK. Returns the
 * job id of the last task seen (0 when none). */
static uint32_t serve_dealer(void *dealer, long *handbacks) {
    uint32_t job = 0;
    for (;;) {
        zmq_msg_t f;
        zmq_msg_init(&f);
        if (zmq_msg_recv(&f, dealer, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&f);
            return job;
        }
        proto_header_t h;
        const char *why;
        bool task = proto_header_decode(zmq_msg_data(&f), zmq_msg_size(&f), &h, &why) == 0 &&
                    h.type == MSG_TASK;
        while (zmq_msg_more(&f)) { /* skip body, context, shard */
            zmq_msg_close(&f);
            zmq_msg_init(&f);
            if (zmq_msg_recv(&f, dealer, 0) < 0) break;
        }
        zmq_msg_close(&f);
        if (task) {
            job = h.job_id;
            h.type = MSG_HANDBACK;
            h.flags = 0;
            send_header(dealer, &h, 0);
            (*handbacks)++;
        }
    }
}

static int member(void *ctx, const char *host, char **argv, int seconds, uint32_t ntasks) {
    void *dealer = connect_sock(ctx, ZMQ_DEALER, host, argv[2], "hostile1");
    void *extra = connect_sock(ctx, ZMQ_DEALER, host, argv[2], "hostile3");
    void *push = connect_sock(ctx, ZMQ_PUSH, host, argv[3], NULL);
    void *pub = connect_sock(ctx, ZMQ_PUB, host, argv[4], NULL);
    usleep(300000);
    send_ready(dealer, "hostile");

    size_t big_len = 1 << 20, mid_len = 8000 + 64;
    char *big = malloc(big_len), *mid = malloc(mid_len);
    if (!big || !mid) return 2;
    memset(big, 'A', big_len);
    memcpy(big, "{\"host\":\"", 9);
    big[big_len - 2] = '"';
    big[big_len - 1] = '}';
    int ml = snprintf(mid, mid_len, "{\"cpu\":1e308,\"state\":\"busy\",\"host\":\"");
    memset(mid + ml, 'B', 8000);
    memcpy(mid + ml + 8000, "\"}", 2);
    size_t mid_used = (size_t)ml + 8002;
    static const char small[] = "{\"cpu\":1e308,\"mem\":-5,\"host\":\"x\",\"state\":\"idle\","
                                "\"current_task\":99999999999}";

    long handbacks = 0, forged = 0, hb = 0, hb_big = 0, hb_mid = 0, hb_unknown = 0, other = 0;
    uint32_t job = 0, next_task = 1;
    int64_t start = now_us(), end = start + (int64_t)seconds * 1000000, tick = start;
    bool extra_sent = false;
    while (now_us() < end) {
        uint32_t j = serve_dealer(dealer, &handbacks);
        if (j) job = j;
        serve_dealer(extra, &handbacks);
        if (!extra_sent && now_us() - start > 500000) {
            send_ready(extra, "hostile3");
            extra_sent = true;
        }
        /* 10 heartbeats a millisecond under our own id */
        for (int k = 0; k < 10; k++) {
            if (hb % 500 == 0)
                send_hb(pub, "hostile1", big, big_len), hb_big++;
            else if (hb % 100 == 1)
                send_hb(pub, "hostile1", mid, mid_used), hb_mid++;
            else
                send_hb(pub, "hostile1", small, sizeof small - 1);
            hb++;
        }
        send_hb(pub, "hostile2", small, sizeof small - 1), hb_unknown++;
        /* forged results for the job's tasks, random nonces */
        for (int k = 0; job && k < 4; k++) {
            proto_header_t h = {.type = k % 2 ? MSG_FAIL : MSG_RESULT,
                                .op = k % 2 ? PROTO_ERR_DATA : OP_NOOP,
                                .job_id = job,
                                .task_id = next_task,
                                .attempt = 1 + (uint32_t)(rand() % 2),
                                .shard = PROTO_NO_SHARD,
                                .lease = ((uint64_t)rand() << 32) ^ (uint64_t)rand()};
            next_task = next_task % ntasks + 1;
            send_header(push, &h, ZMQ_SNDMORE);
            zmq_send(push, "hostile1", 8, ZMQ_SNDMORE | ZMQ_DONTWAIT);
            zmq_send(push, "forged", 6, ZMQ_DONTWAIT);
            forged++;
        }
        if ((tick - start) / 1000 % 10 == 0) {
            send_random(dealer, 100);
            send_random(push, 200);
            send_random(pub, 300);
            proto_header_t h = {.type = MSG_RESULT,
                                .op = OP_NOOP,
                                .job_id = job + 7,
                                .task_id = 1,
                                .attempt = 1,
                                .shard = PROTO_NO_SHARD};
            send_header(push, &h, ZMQ_SNDMORE);
            zmq_send(push, "hostile1", 8, ZMQ_SNDMORE | ZMQ_DONTWAIT);
            zmq_send(push, "", 0, ZMQ_DONTWAIT);
            other++;
        }
        tick += 1000;
        int64_t wait = tick - now_us();
        if (wait > 0) usleep((useconds_t)wait);
    }
    printf("hostile member: job=%u handbacks=%ld forged=%ld heartbeats=%ld (1mb=%ld 8kb=%ld) "
           "unknown_hb=%ld other=%ld seconds=%.1f\n",
           job, handbacks, forged, hb, hb_big, hb_mid, hb_unknown, other,
           (double)(now_us() - start) / 1e6);
    proto_header_t bye = {.type = MSG_BYE, .shard = PROTO_NO_SHARD};
    send_header(dealer, &bye, 0);
    usleep(100000);
    free(big);
    free(mid);
    zmq_close(dealer);
    zmq_close(extra);
    zmq_close(push);
    zmq_close(pub);
    zmq_ctx_term(ctx);
    return job ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc < 6) {
        fprintf(stderr,
                "usage: hostile HOST TASK_PORT RESULT_PORT HB_PORT SECONDS [--member TASKS]\n");
        return 2;
    }
    const char *host = argv[1];
    int seconds = atoi(argv[5]);
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    if (argc >= 8 && strcmp(argv[6], "--member") == 0) {
        long n = atol(argv[7]);
        if (n < 1 || n > 100000000) {
            fprintf(stderr, "hostile: --member needs a task count\n");
            return 2;
        }
        return member(zmq_ctx_new(), host, argv, seconds, (uint32_t)n);
    }
    void *ctx = zmq_ctx_new();
    void *dealer = connect_sock(ctx, ZMQ_DEALER, host, argv[2], "hostile1");
    void *bad_id = connect_sock(ctx, ZMQ_DEALER, host, argv[2], "bad id with spaces!");
    void *push = connect_sock(ctx, ZMQ_PUSH, host, argv[3], NULL);
    void *pub = connect_sock(ctx, ZMQ_PUB, host, argv[4], NULL);
    usleep(300000);

    size_t big_len = 1 << 20;
    char *big = malloc(big_len);
    memset(big, 'A', big_len);
    memcpy(big, "{\"host\":\"", 9);
    big[big_len - 2] = '"';
    big[big_len - 1] = '}';

    long sent[12] = {0};
    time_t end = time(NULL) + seconds;
    while (time(NULL) < end) {
        proto_header_t h = {.type = MSG_RESULT, .op = OP_NOOP, .shard = PROTO_NO_SHARD};
        /* tasks channel */
        send_random(dealer, 100), sent[0]++;
        uint8_t b[PROTO_HEADER_SIZE];
        h.type = MSG_READY;
        proto_header_encode(&h, b);
        b[2] = 99; /* wrong version */
        zmq_send(dealer, b, sizeof b, ZMQ_DONTWAIT), sent[1]++;
        zmq_send(dealer, b, 7, ZMQ_DONTWAIT), sent[2]++; /* truncated */
        send_header(dealer, &h, ZMQ_SNDMORE);
        zmq_send(dealer, "{not json", 9, ZMQ_DONTWAIT), sent[3]++;
        h.type = MSG_HANDBACK;
        h.task_id = (uint32_t)rand();
        send_header(dealer, &h, 0), sent[4]++;
        for (int i = 0; i < 12; i++) /* too many frames */
            zmq_send(dealer, "x", 1, ZMQ_DONTWAIT | (i < 11 ? ZMQ_SNDMORE : 0));
        sent[5]++;
        h.type = MSG_BYE;
        send_header(bad_id, &h, 0);
        /* results channel: results for tasks never given, forged leases */
        send_random(push, 200), sent[6]++;
        for (int k = 0; k < 4; k++) {
            h.type = k % 2 ? MSG_FAIL : MSG_RESULT;
            h.op = k % 2 ? PROTO_ERR_DATA : OP_NOOP;
            h.job_id = (uint32_t)(time(NULL) / 1000 * 1000);
            h.task_id = 1 + (uint32_t)(rand() % 30000);
            h.attempt = 1;
            h.lease = ((uint64_t)rand() << 32) | (uint64_t)rand();
            send_header(push, &h, ZMQ_SNDMORE);
            zmq_send(push, "w0000000000000000", 17, ZMQ_SNDMORE | ZMQ_DONTWAIT);
            zmq_send(push, "forged", 6, ZMQ_DONTWAIT);
            sent[7]++;
        }
        /* heartbeats: random, unknown ids, 1 MB hostnames, flood */
        send_random(pub, 300), sent[8]++;
        h.type = MSG_HEARTBEAT;
        for (int k = 0; k < 20; k++) {
            send_header(pub, &h, ZMQ_SNDMORE);
            zmq_send(pub, "hostile1", 8, ZMQ_SNDMORE | ZMQ_DONTWAIT);
            if (k == 0)
                zmq_send(pub, big, big_len, ZMQ_DONTWAIT), sent[9]++;
            else
                zmq_send(pub, "{\"cpu\":1e308,\"host\":\"x\"}", 24, ZMQ_DONTWAIT), sent[10]++;
        }
        usleep(2000);
    }
    printf("hostile: random=%ld version=%ld truncated=%ld badjson=%ld handback=%ld frames=%ld "
           "result_random=%ld forged=%ld hb_random=%ld hb_1mb=%ld hb_flood=%ld\n",
           sent[0], sent[1], sent[2], sent[3], sent[4], sent[5], sent[6], sent[7], sent[8], sent[9],
           sent[10]);
    free(big);
    zmq_close(dealer);
    zmq_close(bad_id);
    zmq_close(push);
    zmq_close(pub);
    zmq_ctx_term(ctx);
    return 0;
}
