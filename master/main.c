/* bin/master: reads a data set, shards it, hands the shards to workers and
 * writes what they compute. See master/cli.h for the command line and
 * docs/DESIGN.md for the contract. */
#include "common/config.h"
#include "common/heap.h"
#include "common/log.h"
#include "common/security.h"
#include "dashboard/dashboard.h"
#include "master/cli.h"
#include "master/dispatch.h"
#include "master/events.h"
#include "master/export.h"
#include "master/input.h"
#include "master/jobopts.h"
#include "master/master.h"
#include "master/predict.h"
#include "master/sched.h"
#include "master/serve.h"
#include "master/submit.h"
#include "master/train.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <zmq.h>

#define NETCOMPUTE_VERSION "0.1.0"

/* The signal that asked us to stop (SIGINT, SIGTERM), 0 while running. */
static volatile sig_atomic_t stop_flag;
/* A pipe or FIFO given as --data is copied here; removed at every exit. */
static char input_tmp[CONFIG_PATH];

static void on_signal(int sig) {
    if (stop_flag) { /* a second Ctrl-C: the user means it */
        if (input_tmp[0]) unlink(input_tmp);
        _exit(128 + sig);
    }
    stop_flag = sig;
}

/* Train and test read --data several times: a pipe or FIFO becomes a
 * temporary file first. Returns 0 or an exit status. */
static int prepare_input(master_opts_t *o, config_t *cfg) {
    char err[1024];
    bool test = o->cmd == CMD_TEST || o->cmd == CMD_EXPORT;
    char *path = test ? cfg->data.test : cfg->data.train;
    size_t size = test ? sizeof cfg->data.test : sizeof cfg->data.train;
    int rc = input_prepare(path, &stop_flag, input_tmp, sizeof input_tmp, err, sizeof err);
    if (rc == INPUT_COPIED) {
        snprintf(path, size, "%s", input_tmp);
        return EXIT_OK;
    }
    if (rc == INPUT_REGULAR) return EXIT_OK;
    fprintf(stderr, "master: %s\n", err);
    return rc == INPUT_EUSAGE ? EXIT_USAGE : rc == INPUT_ESTOP ? 128 + stop_flag : EXIT_JOB_FAILED;
}

/* The master listens on master.ip: it must be "*", an interface name or an
 * address of this machine. Checked before any socket binds, so that a wrong
 * address is a config error (exit 2) rather than a failed bind. */
static int check_listen_address(const char *ip, char *err, size_t errlen) {
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_flags = AI_PASSIVE}, *ai = NULL;
    struct ifaddrs *ifs = NULL;
    char host[CONFIG_STR + 2];
    size_t n = strlen(ip);
    if (strcmp(ip, "*") == 0 || if_nametoindex(ip) != 0) return 0;
    snprintf(host, sizeof host, "%s", ip);
    if (n > 2 && ip[0] == '[' && ip[n - 1] == ']') { /* ZeroMQ's bracketed IPv6 */
        memmove(host, host + 1, n - 2);
        host[n - 2] = 0;
    }
    int g = getaddrinfo(host, NULL, &hints, &ai);
    if (g != 0) {
        snprintf(err, errlen, "master.ip: cannot resolve '%s': %s", ip, gai_strerror(g));
        return -1;
    }
    bool local = false;
    if (getifaddrs(&ifs) < 0) local = true; /* cannot tell: let the bind decide */
    for (struct addrinfo *a = ai; a && !local; a = a->ai_next) {
        if (a->ai_family == AF_INET) {
            struct in_addr in = ((struct sockaddr_in *)a->ai_addr)->sin_addr;
            uint32_t h = ntohl(in.s_addr);
            local = h == INADDR_ANY || (h >> 24) == 127; /* all of 127/8 is loopback */
            for (struct ifaddrs *i = ifs; i && !local; i = i->ifa_next)
                local = i->ifa_addr && i->ifa_addr->sa_family == AF_INET &&
                        ((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr == in.s_addr;
        } else if (a->ai_family == AF_INET6) {
            struct in6_addr in6 = ((struct sockaddr_in6 *)a->ai_addr)->sin6_addr;
            local = IN6_IS_ADDR_UNSPECIFIED(&in6);
            for (struct ifaddrs *i = ifs; i && !local; i = i->ifa_next)
                local =
                    i->ifa_addr && i->ifa_addr->sa_family == AF_INET6 &&
                    memcmp(&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, &in6, sizeof in6) == 0;
        }
    }
    if (ifs) freeifaddrs(ifs);
    freeaddrinfo(ai);
    if (!local) {
        snprintf(err, errlen,
                 "master.ip: '%s' is not an address of this machine (the master listens on it: "
                 "use one of its addresses, an interface name or *)",
                 ip);
        return -1;
    }
    return 0;
}

static int ask_mode(master_opts_t *o) {
    char line[64];
    printf("Select mode: [1] Training (Enter) [2] Testing: ");
    fflush(stdout);
    if (!fgets(line, sizeof line, stdin)) return -1;
    line[strcspn(line, "\r\n")] = 0;
    if (line[0] == 0 || strcmp(line, "1") == 0)
        o->cmd = CMD_TRAIN;
    else if (strcmp(line, "2") == 0)
        o->cmd = CMD_TEST;
    else
        return -1;
    return 0;
}

/* The prompt's second question: the data file, the config's as the default
 * (Enter, or the end of input). */
static void ask_data(const master_opts_t *o, config_t *cfg) {
    char *path = o->cmd == CMD_TEST ? cfg->data.test : cfg->data.train;
    size_t size = o->cmd == CMD_TEST ? sizeof cfg->data.test : sizeof cfg->data.train;
    char line[CONFIG_PATH];
    printf("Data file [%s]: ", path);
    fflush(stdout);
    if (!fgets(line, sizeof line, stdin)) return;
    line[strcspn(line, "\r\n")] = 0;
    if (line[0]) snprintf(path, size, "%s", line);
}

/* --help, --version and keygen are answered without starting anything.
 * Returns the exit status, or -1 for a command that runs. */
static int answer_at_once(const master_opts_t *o) {
    char err[1024];
    switch (o->cmd) {
    case CMD_HELP:
        cli_usage(stdout);
        return EXIT_OK;
    case CMD_VERSION:
        printf("netcompute master %s (protocol %d, zeromq %d.%d.%d)\n", NETCOMPUTE_VERSION, 1,
               ZMQ_VERSION_MAJOR, ZMQ_VERSION_MINOR, ZMQ_VERSION_PATCH);
        return EXIT_OK;
    case CMD_KEYGEN:
        if (security_keygen(o->keygen_name, err, sizeof err) < 0) {
            fprintf(stderr, "master: %s\n", err);
            return EXIT_USAGE;
        }
        printf("wrote %s.key (secret, mode 0600) and %s.pub\n", o->keygen_name, o->keygen_name);
        return EXIT_OK;
    default:
        return -1;
    }
}

/* Every worker holds three TCP connections to the master: a lab of a few
 * hundred PCs needs more descriptors than the usual soft limit of 1024. */
static void raise_fd_limit(void) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* What a running master holds; NULL until started. */
typedef struct services {
    void *zctx;
    zap_t *zap;
    events_t *ev;
    sched_t *sched;
    void *rep; /* serve mode: the REST jobs' socket */
    dashboard_t *dash;
    runs_t *runs; /* NULL when the history cannot be opened */
} services_t;

/* The sockets and threads, in the order they depend on each other, and the
 * dashboard. Returns EXIT_OK, or the exit status after printing why. */
static int services_start(services_t *sv, const master_opts_t *o, const config_t *cfg) {
    char err[1024];
    sv->zctx = zmq_ctx_new();
    if (!sv->zctx) {
        fprintf(stderr, "master: cannot start ZeroMQ: %s\n", zmq_strerror(zmq_errno()));
        return EXIT_JOB_FAILED;
    }
    if (cfg->security.curve) {
        /* The ZAP handler must be up before the first server socket binds. */
        sv->zap = security_zap_start(sv->zctx, cfg, err, sizeof err);
        if (!sv->zap) goto fail;
    } else {
        security_warn_plaintext(cfg);
    }
    /* The runs' history first: the dashboard opens the same file after it,
     * already migrated. A history that cannot be opened does not stop a job. */
    char why[1024];
    sv->runs = runs_open(cfg, why, sizeof why);
    if (!sv->runs) log_warn("jobs are not kept as runs: %s", why);
    sv->ev = events_new(sv->zctx, EVENTS_ENDPOINT, err, sizeof err);
    if (!sv->ev) goto fail;
    sv->sched = sched_new(sv->zctx, cfg, sv->ev, &stop_flag, err, sizeof err);
    if (!sv->sched) goto fail;
    if (o->cmd == CMD_SERVE || o->keep_running) { /* masters that stay up take REST jobs */
        int linger = 0;
        sv->rep = zmq_socket(sv->zctx, ZMQ_REP);
        if (!sv->rep || zmq_setsockopt(sv->rep, ZMQ_LINGER, &linger, sizeof linger) ||
            zmq_bind(sv->rep, SERVE_ENDPOINT)) {
            snprintf(err, sizeof err, "cannot bind %s: %s", SERVE_ENDPOINT,
                     zmq_strerror(zmq_errno()));
            goto fail;
        }
    }
    if (o->no_dashboard) return EXIT_OK;
    sv->dash = dashboard_start(sv->zctx, cfg, EVENTS_ENDPOINT, sv->rep ? SERVE_ENDPOINT : NULL, err,
                               sizeof err);
    if (!sv->dash) {
        fprintf(stderr, "master: %s (or run with --no-dashboard)\n", err);
        return EXIT_USAGE;
    }
    char url[600];
    if (dashboard_token_url(sv->dash, url, sizeof url) == 0) {
        printf("dashboard: %s\n", url); /* like Jupyter: the token only the user sees */
        fflush(stdout);
    }
    return EXIT_OK;
fail:
    fprintf(stderr, "master: %s\n", err);
    return EXIT_JOB_FAILED;
}

static void services_stop(services_t *sv) {
    dashboard_stop(&sv->dash);
    if (sv->rep) zmq_close(sv->rep);
    sched_destroy(&sv->sched);
    events_destroy(&sv->ev);
    runs_close(&sv->runs);
    security_zap_stop(&sv->zap);
    if (sv->zctx) zmq_ctx_term(sv->zctx);
}

static int bench_driver(master_ctx_t *ctx) {
    return dispatch_run(ctx->sched, ctx->ev, ctx->opts, ctx->cfg, ctx->job_id);
}

/* Runs the command's driver; returns the exit status. */
static int run_command(services_t *sv, const master_opts_t *o, const config_t *cfg) {
    int status;
    master_ctx_t ctx = {.cfg = cfg,
                        .opts = o,
                        .zctx = sv->zctx,
                        .ev = sv->ev,
                        .sched = sv->sched,
                        .stop = &stop_flag,
                        .runs = sv->runs};
    /* A master that stays up answers REST jobs (and cancels) from the start:
     * during the command line's job too. */
    serve_t *queue = sv->rep ? serve_new(&ctx, sv->rep) : NULL;
    if (sv->rep && !queue) {
        fprintf(stderr, "master: out of memory\n");
        return EXIT_JOB_FAILED;
    }
    switch (o->cmd) {
    case CMD_TEST:
    case CMD_TRAIN:
    case CMD_SEARCH:
    case CMD_EXPORT:
    case CMD_BENCH_DISPATCH: {
        int (*driver)(master_ctx_t *) = o->cmd == CMD_TEST                            ? predict_run
                                        : o->cmd == CMD_TRAIN || o->cmd == CMD_SEARCH ? train_run
                                        : o->cmd == CMD_EXPORT                        ? export_run
                                                               : bench_driver;
        ctx.job_id = master_new_run(&ctx, cfg, o, "running");
        status = queue ? serve_job(queue, &ctx, driver) : master_run_job(&ctx, driver);
        break;
    }
    case CMD_SERVE:
        log_info("serving: submit jobs with POST /api/jobs on http://%s:%d or master submit",
                 cfg->dashboard.host, cfg->dashboard.port);
        status = serve_loop(queue);
        break;
    default:
        status = EXIT_USAGE;
        break;
    }
    /* A job cut short by Ctrl-C exits as a shell expects (130, 143 for
     * SIGTERM); serve mode is meant to end that way and exits 0, and so is
     * the wait after a --keep-running job, which exits with its job's status. */
    if (stop_flag && status != EXIT_OK && o->cmd != CMD_SERVE) status = 128 + stop_flag;
    if (o->keep_running && !stop_flag && o->cmd != CMD_SERVE) {
        log_info("job finished; staying up with the dashboard on http://%s:%d, taking jobs from "
                 "POST /api/jobs and master submit (Ctrl-C to stop)",
                 cfg->dashboard.host, cfg->dashboard.port);
        serve_loop(queue);
    }
    serve_destroy(&queue);
    if (status == EXIT_CANCELLED) status = EXIT_JOB_FAILED; /* not a process exit status */
    return status;
}

int main(int argc, char **argv) {
    master_opts_t opts;
    config_t cfg;
    char err[1024];
    services_t sv = {0};

    log_init("master", LOG_INFO);
    heap_keep_freed(); /* best effort: the defaults only cost CPU */
    if (cli_parse(argc, argv, &opts, &cfg, err, sizeof err) < 0) {
        fprintf(stderr, "master: %s\n", err);
        return EXIT_USAGE;
    }
    int status = answer_at_once(&opts);
    if (status >= 0) return status;
    if (opts.cmd == CMD_RUNS) {
        status = runs_list(&cfg, stdout, err, sizeof err);
        if (status != EXIT_OK) fprintf(stderr, "master: %s\n", err);
        return status;
    }
    log_init("master", opts.verbosity > 0 ? LOG_DEBUG : opts.verbosity < 0 ? LOG_WARN : LOG_INFO);
    if (opts.cmd == CMD_INTERACTIVE) {
        if (ask_mode(&opts) < 0) {
            fprintf(stderr, "master: expected 1 (training, the default) or 2 (testing)\n");
            return EXIT_USAGE;
        }
        ask_data(&opts, &cfg);
        /* Only now is the job's mode known: check it as a command line's. */
        if (jobopts_validate(&cfg, &opts, err, sizeof err) < 0) {
            fprintf(stderr, "master: %s\n", err);
            return EXIT_USAGE;
        }
    }
    if (check_listen_address(cfg.master.ip, err, sizeof err) < 0) {
        fprintf(stderr, "master: %s\n", err);
        return EXIT_USAGE;
    }

    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (opts.cmd == CMD_SUBMIT) return submit_run(&opts, &cfg, &stop_flag);
    if (opts.cmd == CMD_TRAIN || opts.cmd == CMD_SEARCH || opts.cmd == CMD_TEST ||
        opts.cmd == CMD_EXPORT) {
        status = prepare_input(&opts, &cfg);
        if (status != EXIT_OK) return status;
    }
    raise_fd_limit();
    status = services_start(&sv, &opts, &cfg);
    if (status == EXIT_OK) status = run_command(&sv, &opts, &cfg);
    services_stop(&sv);
    if (input_tmp[0]) unlink(input_tmp);
    return status;
}
