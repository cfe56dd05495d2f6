/* Tests for worker/args: the worker's command line through its option
 * table (--opt=value and --opt value, any order, --config first), the
 * one-line refusals, and the checks of the resulting config. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "worker/args.h"

static char dir[64], home[1024];

/* Runs in a directory of its own: no ./config.json, and w.json names a master. */
static int setup(void **state) {
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/nc-test-wargs-%d", (int)getpid());
    if (!getcwd(home, sizeof home) || mkdir(dir, 0700) != 0 || chdir(dir) != 0) return -1;
    FILE *f = fopen("w.json", "w");
    if (!f) return -1;
    fputs("{\"master\": {\"ip\": \"10.0.0.5\"}, \"worker\": {\"slots\": 6}}\n", f);
    fclose(f);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    unlink("w.json");
    if (chdir(home) != 0) return -1;
    rmdir(dir);
    return 0;
}

static int parse_line(const char *line, args_t *a, config_t *c, char *err, size_t errlen) {
    static char buf[512];
    char *argv[32];
    int argc = 0;
    snprintf(buf, sizeof buf, "%s", line);
    argv[argc++] = "worker";
    for (char *t = strtok(buf, " "); t && argc < 31; t = strtok(NULL, " "))
        argv[argc++] = t;
    argv[argc] = NULL;
    err[0] = 0;
    return args_parse(argc, argv, a, c, err, errlen);
}

/* Each row: a command line; the exact error, or NULL and the expected
 * "action level die ip slots name when max_cpu". */
static const struct {
    const char *line, *err, *want;
} cases[] = {
    {"", NULL, "run 1 0 127.0.0.1 0 - always 0"},
    {"--master=10.1.1.1 --slots=3", NULL, "run 1 0 10.1.1.1 3 - always 0"},
    {"--slots 3 --master 10.1.1.1 --name pc7", NULL, "run 1 0 10.1.1.1 3 pc7 always 0"},
    {"--when=idle --max-cpu 40 -v", NULL, "run 0 0 127.0.0.1 0 - idle 40"},
    {"-q --die-after=5", NULL, "run 2 5 127.0.0.1 0 - always 0"},
    {"--slots 2 --config w.json", NULL, "run 1 0 10.0.0.5 2 - always 0"},
    {"--config=w.json", NULL, "run 1 0 10.0.0.5 6 - always 0"},
    {"--set worker.slots=4 --slots 5", NULL, "run 1 0 127.0.0.1 5 - always 0"},
    {"--slots 5 --set worker.slots=4", NULL, "run 1 0 127.0.0.1 4 - always 0"},
    {"--slots 2 -h", NULL, "help"},
    {"--version", NULL, "version"},
    {"--bogus", "unknown option '--bogus' (see --help)", NULL},
    {"--slot 2", "unknown option '--slot' (did you mean --slots? see --help)", NULL},
    {"--mastr=10.0.0.1", "unknown option '--mastr' (did you mean --master? see --help)", NULL},
    {"--slots", "option '--slots' needs a value (see --help)", NULL},
    {"--quiet=1", "option '--quiet' takes no value (see --help)", NULL},
    {"10.0.0.5", "unexpected argument '10.0.0.5' (see --help)", NULL},
    {"--slots x", "--slots: worker.slots: 'x' is not a whole number", NULL},
    {"--set a.b=c", "--set: unknown key 'a.b'", NULL},
    {"--die-after 0", "--die-after: '0' is out of range (1 to 1000000000)", NULL},
    {"--max-cpu 101", "worker.max_cpu: 101 is out of range (0-100)", NULL},
    {"--when sometimes", "worker.when: 'sometimes' is not always or idle", NULL},
    {"--master *",
     "master.ip '*' means every address to a master; a worker needs the master's address (use "
     "--master HOST)",
     NULL},
    {"--config nothere.json", "nothere.json: cannot open config file: No such file or directory",
     NULL},
};

static void test_cases(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        args_t a;
        config_t c;
        char err[512], got[1024];
        int rc = parse_line(cases[i].line, &a, &c, err, sizeof err);
        if (cases[i].err) {
            if (rc != -1 || strcmp(err, cases[i].err) != 0)
                fail_msg("'%s': rc %d\n got: %s\nwant: %s", cases[i].line, rc, err, cases[i].err);
            continue;
        }
        if (rc != 0) fail_msg("'%s' refused: %s", cases[i].line, err);
        if (a.action != ARGS_RUN)
            snprintf(got, sizeof got, "%s", a.action == ARGS_HELP ? "help" : "version");
        else
            snprintf(got, sizeof got, "run %d %d %s %d %s %s %d", (int)a.level, a.die_after,
                     c.master.ip, c.worker.slots, c.worker.name[0] ? c.worker.name : "-",
                     c.worker.when, c.worker.max_cpu);
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("'%s':\n got: %s\nwant: %s", cases[i].line, got, cases[i].want);
    }
}

/* --help lists every option but the one for tests. */
static void test_usage(void **state) {
    (void)state;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    args_usage(f);
    fclose(f);
    static const char *shown[] = {"--config FILE",
                                  "--master HOST",
                                  "--name NAME",
                                  "--slots N",
                                  "--when always|idle",
                                  "--max-cpu PCT",
                                  "--set SECTION.KEY=VAL",
                                  "-v, --verbose",
                                  "-q, --quiet",
                                  "-h, --help",
                                  "--version"};
    for (size_t i = 0; i < sizeof shown / sizeof shown[0]; i++)
        if (!strstr(text, shown[i])) fail_msg("--help lacks %s", shown[i]);
    assert_null(strstr(text, "die-after"));
    free(text);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_usage),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
