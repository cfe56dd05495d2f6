/* hostile: a misbehaving peer for end-to-end tests (never used in production).
 *
 *   hostile HOST TASK_PORT RESULT_PORT HB_PORT SECONDS [victim-id]
 *
 * For SECONDS it sends, on every master port, what a broken or malicious
 * peer might: random bytes, truncated and oversized headers, wrong protocol
 * versions, unknown types, too many frames, READY with garbage JSON, results
 * for tasks it was never given, results forged for leases held by others,
 * heartbeats from unknown ids, a heartbeat flood with 1 MB hostnames. It then
 * prints how many messages of each kind it sent and exits 0.
 */
#include "common/proto.h"
#include "common/wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

static void *connect_sock(void *ctx, int type, const char *host, const char *port, const char *id)
{
    char ep[256];
    void *s = zmq_socket(ctx, type);
    int linger = 0, hwm = 100000;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof hwm);
    if (id)
        zmq_setsockopt(s, ZMQ_ROUTING_ID, id, strlen(id));
    snprintf(ep, sizeof ep, "tcp://%s:%s", host, port);
    if (zmq_connect(s, ep) != 0) {
        fprintf(stderr, "hostile: cannot connect %s\n", ep);
        exit(2);
    }
    return s;
}

static void send_random(void *s, size_t maxlen)
{
    unsigned char buf[512];
    size_t n = (size_t)rand() % (maxlen < sizeof buf ? maxlen : sizeof buf);
    for (size_t i = 0; i < n; i++)
        buf[i] = (unsigned char)rand();
    zmq_send(s, buf, n, ZMQ_DONTWAIT);
}

static void send_header(void *s, proto_header_t *h, int more)
{
    uint8_t b[PROTO_HEADER_SIZE];
    proto_header_encode(h, b);
    zmq_send(s, b, sizeof b, more | ZMQ_DONTWAIT);
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: hostile HOST TASK_PORT RESULT_PORT HB_PORT SECONDS\n");
        return 2;
    }
    const char *host = argv[1];
    int seconds = atoi(argv[5]);
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
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
           sent[0], sent[1], sent[2], sent[3], sent[4], sent[5], sent[6], sent[7], sent[8],
           sent[9], sent[10]);
    free(big);
    zmq_close(dealer);
    zmq_close(bad_id);
    zmq_close(push);
    zmq_close(pub);
    zmq_ctx_term(ctx);
    return 0;
}
