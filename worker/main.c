/* bin/worker: command line, signals, then worker_run() (worker/loop.h). */
#include "common/config.h"
#include "common/log.h"
#include "common/proto.h"
#include "worker/loop.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2 };

static volatile sig_atomic_t stop_flag;

static const char usage[] =
    "usage: worker [OPTIONS]\n"
    "\n"
    "Connects to the master and runs its tasks until stopped (SIGINT/SIGTERM hand\n"
    "the current tasks back and leave cleanly; a second signal exits at once).\n"
    "\n"
    "  --config FILE          configuration (default ./config.json; may be missing)\n"
    "  --master HOST          master address (overrides master.ip)\n"
    "  --name NAME            name shown on the dashboard (default: host name)\n"
    "  --slots N              tasks run at the same time (default: online cores)\n"
    "  --when always|idle     idle: compute only while the PC's owner is away\n"
    "  --max-cpu PCT          cap each compute thread at PCT % of a core (0 = no cap)\n"
    "  --set SECTION.KEY=VAL  override one config value (repeatable)\n"
    "  -v, --verbose / -q, --quiet\n"
    "  --help, --version\n"
    "\n"
    "Exit status: 0 clean stop, 1 run-time failure, 2 bad usage or config.\n";

static void on_signal(int sig) {
    if (stop_flag) _exit(128 + sig);
    stop_flag = 1;
}

/* Options that are config values, applied in command-line order after the
 * config file is read. */
static const struct {
    const char *opt;
    const char *key;
} config_opts[] = {
    /* clang-format off */
    {"--master", "master.ip"},
    {"--name", "worker.name"},
    {"--slots", "worker.slots"},
    {"--when", "worker.when"},
    {"--max-cpu", "worker.max_cpu"},
    /* clang-format on */
};

#define MAX_SETS 128

typedef struct cli {
    const char *config_path;
    bool config_given;
    log_level_t level;
    int die_after;
    int nsets;
    char *sets[MAX_SETS];       /* "section.key=value", owned */
    const char *from[MAX_SETS]; /* the option that gave it, for messages */
} cli_t;

static int add_set(cli_t *c, const char *opt, const char *key, const char *value, char *err,
                   size_t errlen) {
    if (c->nsets == MAX_SETS) {
        snprintf(err, errlen, "too many --set options (at most %d)", MAX_SETS);
        return -1;
    }
    size_t n = (key ? strlen(key) + 1 : 0) + strlen(value) + 1;
    char *s = malloc(n);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (key)
        snprintf(s, n, "%s=%s", key, value);
    else
        snprintf(s, n, "%s", value);
    c->from[c->nsets] = opt;
    c->sets[c->nsets++] = s;
    return 0;
}

/* Returns 0, 1 when the program should exit 0 (--help, --version), -1 on bad
 * usage. */
static int parse(int argc, char **argv, cli_t *c, char *err, size_t errlen) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage, stdout);
            return 1;
        }
        if (strcmp(a, "--version") == 0) {
            printf("netcompute worker %s (protocol %d, zeromq %d.%d.%d)\n", WORKER_VERSION,
                   PROTO_VERSION, ZMQ_VERSION_MAJOR, ZMQ_VERSION_MINOR, ZMQ_VERSION_PATCH);
            return 1;
        }
        if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            c->level = LOG_DEBUG;
            continue;
        }
        if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            c->level = LOG_WARN;
            continue;
        }
        bool takes_value =
            strcmp(a, "--config") == 0 || strcmp(a, "--set") == 0 || strcmp(a, "--die-after") == 0;
        const char *key = NULL;
        for (size_t k = 0; k < sizeof config_opts / sizeof config_opts[0]; k++)
            if (strcmp(a, config_opts[k].opt) == 0) key = config_opts[k].key;
        if (!takes_value && !key) {
            snprintf(err, errlen, "unknown option '%s' (see --help)", a);
            return -1;
        }
        if (!v) {
            snprintf(err, errlen, "%s needs a value (see --help)", a);
            return -1;
        }
        i++;
        if (strcmp(a, "--config") == 0) {
            c->config_path = v;
            c->config_given = true;
        } else if (strcmp(a, "--die-after") == 0) {
            char *end;
            long n = strtol(v, &end, 10);
            if (end == v || *end || n < 1 || n > 1000000000) {
                snprintf(err, errlen, "--die-after: '%s' is not a positive whole number", v);
                return -1;
            }
            c->die_after = (int)n;
        } else if (strcmp(a, "--set") == 0) {
            if (add_set(c, a, NULL, v, err, errlen) != 0) return -1;
        } else if (add_set(c, a, key, v, err, errlen) != 0) {
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv) {
    cli_t c = {.config_path = "config.json", .level = LOG_INFO};
    config_t cfg;
    char err[512];
    int status = EXIT_USAGE;

    log_init("worker", LOG_INFO);
    int p = parse(argc, argv, &c, err, sizeof err);
    if (p != 0) {
        if (p < 0) fprintf(stderr, "worker: %s\n", err);
        status = p > 0 ? EXIT_OK : EXIT_USAGE;
        goto out;
    }
    log_init("worker", c.level);
    config_defaults(&cfg);
    if (config_load(&cfg, c.config_path, !c.config_given, err, sizeof err) != 0) {
        fprintf(stderr, "worker: %s\n", err);
        goto out;
    }
    for (int i = 0; i < c.nsets; i++) {
        if (config_set(&cfg, c.sets[i], err, sizeof err) != 0) {
            /* Name the option the user typed, not the key it maps to. */
            const char *msg = strncmp(err, "--set: ", 7) == 0 ? err + 7 : err;
            if (strcmp(c.from[i], "--set") == 0)
                fprintf(stderr, "worker: --set %s: %s\n", c.sets[i], msg);
            else
                fprintf(stderr, "worker: %s: %s\n", c.from[i], msg);
            goto out;
        }
    }
    if (config_validate(&cfg, err, sizeof err) != 0) {
        fprintf(stderr, "worker: %s\n", err);
        goto out;
    }
    if (strcmp(cfg.master.ip, "*") == 0) {
        fprintf(stderr, "worker: master.ip '*' means every address to a master; a worker needs "
                        "the master's address (use --master HOST)\n");
        goto out;
    }
    if (!cfg.master.ip[0] || strpbrk(cfg.master.ip, " /")) {
        fprintf(stderr,
                "worker: master address '%s' is not a host name or IP (use --master HOST)\n",
                cfg.master.ip);
        goto out;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    worker_opts_t opts = {.die_after = c.die_after};
    worker_stats_t st;
    if (worker_run(&cfg, &opts, &stop_flag, &st, err, sizeof err) != 0) {
        fprintf(stderr, "worker: %s\n", err);
        status = EXIT_FAILED;
        goto out;
    }
    log_info("stopped cleanly: %llu results, %llu failures, %llu reconnects, %llu messages dropped",
             (unsigned long long)st.results, (unsigned long long)st.fails,
             (unsigned long long)st.reconnects, (unsigned long long)st.dropped);
    status = EXIT_OK;
out:
    for (int i = 0; i < c.nsets; i++)
        free(c.sets[i]);
    return status;
}
