/* swarm: many simulated workers for measuring the master (never used in
 * production).
 *
 *   swarm HOST TASK_PORT HB_PORT COUNT SECONDS [HEARTBEAT_MS]
 *
 * Opens COUNT DEALER sockets that each say READY (slots 1) and then send a
 * real heartbeat every HEARTBEAT_MS (default 1000) over one PUB socket per
 * simulated worker, so the master sees COUNT live members with real traffic.
 * Tasks it is given are ignored (run no job against it). Prints how many
 * heartbeats it sent. */
#include "common/proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv) {
    if (argc < 6) {
        fprintf(stderr, "usage: swarm HOST TASK_PORT HB_PORT COUNT SECONDS [HEARTBEAT_MS]\n");
        return 2;
    }
    int count = atoi(argv[4]), seconds = atoi(argv[5]);
    int hb_ms = argc > 6 ? atoi(argv[6]) : 1000;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    void *ctx = zmq_ctx_new();
    zmq_ctx_set(ctx, ZMQ_MAX_SOCKETS, 4 * count + 16);
    void **dealers = calloc((size_t)count, sizeof *dealers);
    void **pubs = calloc((size_t)count, sizeof *pubs);
    char ep_task[128], ep_hb[128];
    snprintf(ep_task, sizeof ep_task, "tcp://%s:%s", argv[1], argv[2]);
    snprintf(ep_hb, sizeof ep_hb, "tcp://%s:%s", argv[1], argv[3]);
    uint8_t hdr[PROTO_HEADER_SIZE];
    for (int i = 0; i < count; i++) {
        char id[32], json[256];
        int linger = 0;
        snprintf(id, sizeof id, "swarm%05d", i);
        dealers[i] = zmq_socket(ctx, ZMQ_DEALER);
        pubs[i] = zmq_socket(ctx, ZMQ_PUB);
        if (!dealers[i] || !pubs[i]) {
            fprintf(stderr, "swarm: socket %d: %s\n", i, zmq_strerror(zmq_errno()));
            return 1;
        }
        zmq_setsockopt(dealers[i], ZMQ_LINGER, &linger, sizeof linger);
        zmq_setsockopt(pubs[i], ZMQ_LINGER, &linger, sizeof linger);
        zmq_setsockopt(dealers[i], ZMQ_ROUTING_ID, id, strlen(id));
        zmq_connect(dealers[i], ep_task);
        zmq_connect(pubs[i], ep_hb);
        proto_header_t h = {.type = MSG_READY, .shard = PROTO_NO_SHARD};
        proto_header_encode(&h, hdr);
        int n = snprintf(json, sizeof json,
                         "{\"name\":\"%s\",\"host\":\"swarm\",\"cores\":1,\"slots\":1,\"pid\":%d}",
                         id, getpid());
        zmq_send(dealers[i], hdr, sizeof hdr, ZMQ_SNDMORE);
        zmq_send(dealers[i], json, (size_t)n, 0);
    }
    long long end = now_ms() + seconds * 1000LL, next = now_ms() + 200;
    long sent = 0;
    char buf[256];
    while (now_ms() < end) {
        for (int i = 0; i < count; i++) /* drain PINGs and tasks */
            while (zmq_recv(dealers[i], buf, sizeof buf, ZMQ_DONTWAIT) >= 0)
                ;
        if (now_ms() >= next) {
            next += hb_ms;
            proto_header_t h = {.type = MSG_HEARTBEAT, .shard = PROTO_NO_SHARD};
            proto_header_encode(&h, hdr);
            for (int i = 0; i < count; i++) {
                char id[32], json[256];
                snprintf(id, sizeof id, "swarm%05d", i);
                int n = snprintf(json, sizeof json,
                                 "{\"cpu\":%d,\"mem\":40,\"load\":0.1,\"battery\":null,\"ac\":null,"
                                 "\"state\":\"idle\",\"reason\":\"\",\"tasks_done\":0,"
                                 "\"current_task\":null,\"rows_per_s\":0,\"seq\":%ld}",
                                 i % 100, sent);
                zmq_send(pubs[i], hdr, sizeof hdr, ZMQ_SNDMORE);
                zmq_send(pubs[i], id, strlen(id), ZMQ_SNDMORE);
                zmq_send(pubs[i], json, (size_t)n, 0);
                sent++;
            }
        }
        usleep(20000);
    }
    printf("swarm: %d simulated workers, %ld heartbeats sent\n", count, sent);
    for (int i = 0; i < count; i++) {
        zmq_close(dealers[i]);
        zmq_close(pubs[i]);
    }
    free(dealers);
    free(pubs);
    zmq_ctx_term(ctx);
    return 0;
}
