#include "worker/args.h"

#include "common/optable.h"

#include <stdlib.h>
#include <string.h>

/* What an option does; O_KEY options set their row's config key. */
enum { O_KEY = 1, O_CONFIG, O_SET, O_VERBOSE, O_QUIET, O_HELP, O_VERSION, O_DIE_AFTER };

static const optdef_t options[] = {
    /* clang-format off */
    {"config", 0, "FILE", "configuration (default ./config.json; may be missing)", O_CONFIG, NULL, 0},
    {"master", 0, "HOST", "master address (overrides master.ip)", O_KEY, "master.ip", 0},
    {"name", 0, "NAME", "name shown on the dashboard (default: host name)", O_KEY, "worker.name", 0},
    {"slots", 0, "N", "tasks run at the same time (default: online cores)", O_KEY, "worker.slots", 0},
    {"when", 0, "always|idle", "idle: compute only while the PC's owner is away", O_KEY,
     "worker.when", 0},
    {"max-cpu", 0, "PCT", "cap each compute thread at PCT % of a core (0 = no cap)", O_KEY,
     "worker.max_cpu", 0},
    {"set", 0, "SECTION.KEY=VAL", "override one config value (repeatable)", O_SET, NULL, 0},
    {"verbose", 'v', NULL, "log debug lines too", O_VERBOSE, NULL, 0},
    {"quiet", 'q', NULL, "log warnings and errors only", O_QUIET, NULL, 0},
    {"help", 'h', NULL, "print this help", O_HELP, NULL, 0},
    {"version", 0, NULL, "print the version", O_VERSION, NULL, 0},
    /* tests only: _exit(137) after sending N results */
    {"die-after", 0, "N", NULL, O_DIE_AFTER, NULL, 0},
    /* clang-format on */
};
#define NOPTIONS (sizeof options / sizeof options[0])

void args_usage(FILE *out) {
    fputs("usage: worker [OPTIONS]\n"
          "\n"
          "Connects to the master and runs its tasks until stopped (SIGINT/SIGTERM hand\n"
          "the current tasks back and leave cleanly; a second signal exits at once).\n"
          "\n",
          out);
    optable_print(out, options, NOPTIONS);
    fputs("\n"
          "An option's value is the next argument (--slots 4) or follows '=' (--slots=4).\n"
          "\n"
          "Exit status: 0 clean stop, 1 run-time failure, 2 bad usage or config.\n",
          out);
}

/* Applies one option after the config file was read. */
static int apply(args_t *a, config_t *cfg, const optdef_t *d, const char *v, char *err,
                 size_t errlen) {
    char shown[80];
    long n;
    switch (d->id) {
    case O_KEY:
        return optable_set_key(cfg, d->key, optable_name(d, shown, sizeof shown), v, err, errlen);
    case O_SET:
        return config_set(cfg, v, err, errlen);
    case O_VERBOSE:
        a->level = LOG_DEBUG;
        return 0;
    case O_QUIET:
        a->level = LOG_WARN;
        return 0;
    case O_DIE_AFTER:
        if (optable_long("--die-after", v, 1, 1000000000, &n, err, errlen) < 0) return -1;
        a->die_after = (int)n;
        return 0;
    default: /* --config, --help, --version: taken before */
        return 0;
    }
}

/* What the worker needs beyond config_validate(): an address to reach. */
static int check(const config_t *cfg, char *err, size_t errlen) {
    if (config_validate(cfg, err, errlen) < 0) return -1;
    if (strcmp(cfg->master.ip, "*") == 0) {
        snprintf(err, errlen,
                 "master.ip '*' means every address to a master; a worker needs the master's "
                 "address (use --master HOST)");
        return -1;
    }
    return 0;
}

int args_parse(int argc, char **argv, args_t *a, config_t *cfg, char *err, size_t errlen) {
    int rc = -1;
    optitem_t *items = NULL;
    size_t n = 0;
    *a = (args_t){.action = ARGS_RUN, .level = LOG_INFO};
    if (optable_parse(options, NOPTIONS, argc, argv, 1, &items, &n, err, errlen) < 0) return -1;
    if (optable_last(items, n, O_HELP) || optable_last(items, n, O_VERSION)) {
        a->action = optable_last(items, n, O_HELP) ? ARGS_HELP : ARGS_VERSION;
        rc = 0;
        goto out;
    }
    /* The config file comes first so that options override it, wherever they stand. */
    const optitem_t *config = optable_last(items, n, O_CONFIG);
    config_defaults(cfg);
    if (config_load(cfg, config ? config->value : "config.json", !config, err, errlen) < 0)
        goto out;
    for (size_t i = 0; i < n; i++)
        if (apply(a, cfg, items[i].def, items[i].value, err, errlen) < 0) goto out;
    rc = check(cfg, err, errlen);
out:
    free(items);
    return rc;
}
