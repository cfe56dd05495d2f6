/* bin/worker: command line (worker/args.h), signals, then worker_run()
 * (worker/loop.h). */
#include "common/config.h"
#include "common/heap.h"
#include "common/log.h"
#include "common/proto.h"
#include "worker/args.h"
#include "worker/loop.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2 };

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig) {
    if (stop_flag) _exit(128 + sig);
    stop_flag = 1;
}

int main(int argc, char **argv) {
    args_t a;
    config_t cfg;
    char err[512];

    log_init("worker", LOG_INFO);
    heap_keep_freed(); /* best effort: the defaults only cost CPU */
    if (args_parse(argc, argv, &a, &cfg, err, sizeof err) != 0) {
        fprintf(stderr, "worker: %s\n", err);
        return EXIT_USAGE;
    }
    if (a.action == ARGS_HELP) {
        args_usage(stdout);
        return EXIT_OK;
    }
    if (a.action == ARGS_VERSION) {
        printf("netcompute worker %s (protocol %d, zeromq %d.%d.%d)\n", WORKER_VERSION,
               PROTO_VERSION, ZMQ_VERSION_MAJOR, ZMQ_VERSION_MINOR, ZMQ_VERSION_PATCH);
        return EXIT_OK;
    }
    log_init("worker", a.level);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    worker_opts_t opts = {.die_after = a.die_after};
    worker_stats_t st;
    if (worker_run(&cfg, &opts, &stop_flag, &st, err, sizeof err) != 0) {
        fprintf(stderr, "worker: %s\n", err);
        return EXIT_FAILED;
    }
    log_info("stopped cleanly: %llu results, %llu failures, %llu reconnects, %llu messages dropped",
             (unsigned long long)st.results, (unsigned long long)st.fails,
             (unsigned long long)st.reconnects, (unsigned long long)st.dropped);
    return EXIT_OK;
}
