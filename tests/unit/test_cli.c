/* Tests for master/cli and master/jobopts: the command line through the
 * option table (--opt=value and --opt value, any order, the config file
 * first, unknown options with did-you-mean, missing values), the checks of a
 * whole job with their exact messages, and a REST job going through the
 * same table and checks (min-workers 0 refused on both paths). */
#include <ctype.h>
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

#include "master/cli.h"
#include "master/jobopts.h"

static char dir[64], home[1024];

/* Runs in a directory of its own: the default ./config.json is absent there,
 * and cfg.json holds a model.C of 7. */
static int setup(void **state) {
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/nc-test-cli-%d", (int)getpid());
    if (!getcwd(home, sizeof home) || mkdir(dir, 0700) != 0 || chdir(dir) != 0) return -1;
    FILE *f = fopen("cfg.json", "w");
    if (!f) return -1;
    fputs("{\"model\": {\"C\": 7, \"solver\": \"L2R_LR\"}}\n", f);
    fclose(f);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    unlink("cfg.json");
    if (chdir(home) != 0) return -1;
    rmdir(dir);
    return 0;
}

static const char *cmd_name(cli_cmd_t c) {
    static const char *names[] = {"interactive", "train", "search", "test", "export", "serve",
                                  "submit",      "bench", "keygen", "runs", "help",   "version"};
    return names[c];
}

/* The parsed state in one line, for substring checks. */
static void describe(const master_opts_t *o, const config_t *c, char *out, size_t len) {
    snprintf(out, len,
             "cmd=%s train=%s test=%s out.train=%s out.test=%s model=%s C=%g eps=%g "
             "shard_rows=%d min=%d cv=%d verbosity=%d resume=%d nodash=%d keep=%d tasks=%ld "
             "prefetch=%d config=%s key=%s |",
             cmd_name(o->cmd), c->data.train, c->data.test, c->output.train, c->output.test,
             c->model.file, c->model.C, c->model.eps, c->cluster.shard_rows, o->min_workers,
             o->cv_folds, o->verbosity, o->resume, o->no_dashboard, o->keep_running, o->tasks,
             o->prefetch, o->config_path, o->keygen_name);
}

/* Splits line at spaces into argv (after "master") and parses it. */
static int parse_line(const char *line, master_opts_t *o, config_t *c, char *err, size_t errlen) {
    static char buf[1024];
    char *argv[64];
    int argc = 0;
    snprintf(buf, sizeof buf, "%s", line);
    argv[argc++] = "master";
    for (char *t = strtok(buf, " "); t && argc < 63; t = strtok(NULL, " "))
        argv[argc++] = t;
    argv[argc] = NULL;
    err[0] = 0;
    return cli_parse(argc, argv, o, c, err, errlen);
}

/* Each row: a command line; the exact error, or NULL and substrings of
 * describe() separated by '|'. */
static const struct {
    const char *line, *err, *want;
} cases[] = {
    /* value forms and order */
    {"train --data=a.csv", NULL, "cmd=train train=a.csv "},
    {"train --data a.csv", NULL, "cmd=train train=a.csv "},
    {"test --data=b.csv --out=o.csv", NULL, "test=b.csv |out.test=o.csv |train=Data/train.csv "},
    {"train --out o.csv --data b.csv", NULL, "train=b.csv |out.train=o.csv "},
    {"train -C4 --eps=0.5", NULL, " C=4 eps=0.5 "},
    {"train -C 4 --min-workers=3 --cv=5", NULL, " C=4 |min=3 cv=5 "},
    {"train --no-dashboard --cv 5 --data x --min-workers 2", NULL, "train=x |min=2 cv=5 |nodash=1"},
    {"train -vq", NULL, "verbosity=-1 "},
    {"train -q --verbose", NULL, "verbosity=1 "},
    {"train --resume --keep-running", NULL, "resume=1 nodash=0 keep=1"},
    {"train --shard-rows=500", NULL, "shard_rows=500 "},
    {"train --set model.C=2 -C 3", NULL, " C=3 "},
    {"train -C 3 --set model.C=2", NULL, " C=2 "},
    {"train --config cfg.json", NULL, " C=7 |config=cfg.json "},
    {"train -C 3 --config=cfg.json", NULL, " C=3 |config=cfg.json "},
    {"--data x", NULL, "cmd=interactive train=x "},
    {"keygen lab --no-dashboard", NULL, "cmd=keygen |key=lab |"},
    {"bench-dispatch --tasks=5 --prefetch 0", NULL, "tasks=5 prefetch=0 "},
    {"train --help", NULL, "cmd=help "},
    {"keygen --help", NULL, "cmd=help "},
    /* submit MODE: the mode's paths, as that mode's command line */
    {"submit test --data t.csv --out o.csv", NULL, "cmd=submit |test=t.csv |out.test=o.csv "},
    {"submit train --data a.csv -C 2", NULL, "cmd=submit train=a.csv |C=2 "},
    {"submit --data a.csv",
     "submit: MODE is train, search or test (usage: master submit MODE [job options])", NULL},
    {"submit export",
     "submit: MODE is train, search or test (usage: master submit MODE [job options])", NULL},
    {"runs -q", NULL, "cmd=runs |verbosity=-1"},
    {"train --data x -h", NULL, "cmd=help "},
    {"train --version --data x", NULL, "cmd=version "},
    /* syntax errors: one line naming the option, "see --help" */
    {"train --bogus", "unknown option '--bogus' (see --help)", NULL},
    {"train --modle x", "unknown option '--modle' (did you mean --model? see --help)", NULL},
    {"train --min-worker=2",
     "unknown option '--min-worker' (did you mean --min-workers? see --help)", NULL},
    {"train --dat x", "unknown option '--dat' (did you mean --data? see --help)", NULL},
    {"train --C 1", "unknown option '--C' (did you mean -C? see --help)", NULL},
    {"train -c 1", "unknown option '-c' (did you mean -C? see --help)", NULL},
    {"train -data x", "unknown option '-data' (did you mean --data? see --help)", NULL},
    {"train -x", "unknown option '-x' (see --help)", NULL},
    {"train --data", "option '--data' needs a value (see --help)", NULL},
    {"train -C", "option '-C' needs a value (see --help)", NULL},
    {"train --quiet=1", "option '--quiet' takes no value (see --help)", NULL},
    {"train extra", "unexpected argument 'extra' (see --help)", NULL},
    {"train -- --data x", "unexpected argument '--data' (see --help)", NULL},
    {"bogus",
     "unknown command 'bogus' (train, search, test, export, serve, submit, bench-dispatch, runs, "
     "keygen; see --help)",
     NULL},
    /* export reads and writes the test paths, and needs both named */
    {"export --data d.csv --out d.svm --model m.txt", NULL,
     "cmd=export train=Data/train.csv test=d.csv |out.test=d.svm model=m.txt "},
    {"export --out=d.svm --data=d.csv", NULL, "test=d.csv |out.test=d.svm "},
    {"export --data d.csv",
     "export needs --out FILE (usage: master export --data FILE [--model M] --out FILE.svm)", NULL},
    {"export --out d.svm",
     "export needs --data FILE (usage: master export --data FILE [--model M] --out FILE.svm)",
     NULL},
    {"export",
     "export needs --data FILE (usage: master export --data FILE [--model M] --out "
     "FILE.svm)",
     NULL},
    {"keygen", "keygen: missing NAME (usage: master keygen NAME)", NULL},
    {"train --config nothere.json",
     "nothere.json: cannot open config file: No such file or directory", NULL},
    /* values and the checks of a whole job */
    {"train --min-workers 0", "--min-workers: '0' is not a whole number from 1 to 100000", NULL},
    {"train --min-workers=100001", "--min-workers: '100001' is not a whole number from 1 to 100000",
     NULL},
    {"serve --min-workers 0", "--min-workers: '0' is not a whole number from 1 to 100000", NULL},
    {"train --min-workers x", "--min-workers: 'x' is not a whole number", NULL},
    {"train --cv 99999999999", "--cv: '99999999999' is out of range (-2147483648 to 2147483647)",
     NULL},
    {"train --cv 1", "--cv: '1' is not a whole number from 2 to 100", NULL},
    {"train --cv=101", "--cv: '101' is not a whole number from 2 to 100", NULL},
    {"train --cv 5 --solver 1", "--cv is available with the exact strategy (solvers 0 and 2)",
     NULL},
    {"train --cv 5 --strategy average",
     "--cv is available with the exact strategy (solvers 0 and 2)", NULL},
    {"train --cv 5 --solver L2R_L2LOSS_SVC", NULL, "cv=5 "},
    /* search: --cv required, its lists, the exact solvers only */
    {"search --cv 5 --data x", NULL, "cmd=search train=x |cv=5 "},
    {"search --data x", "search needs --cv K (K from 2 to 100)", NULL},
    {"search --cv 1", "--cv: '1' is not a whole number from 2 to 100", NULL},
    {"search --cv 5 --C-list=", "--C-list: empty list (give C values such as 0.25,1,4)", NULL},
    {"search --cv 5 --C-list 1,,2", "--C-list: empty item in '1,,2'", NULL},
    {"search --cv 5 --C-list 0", "--C-list: C must be positive, not '0'", NULL},
    {"search --cv 5 --C-list 1,-2", "--C-list: C must be positive, not '-2'", NULL},
    {"search --cv 5 --C-list 1,abc", "--C-list: 'abc' is not a number", NULL},
    {"search --cv 5 --C-list 1,inf", "--C-list: 'inf' is not a number", NULL},
    {"search --cv 5 --solvers 0,1",
     "--solvers: solver L2R_L2LOSS_SVC_DUAL (1) has no exact form: search runs solvers 0 "
     "(L2R_LR) and 2 (L2R_L2LOSS_SVC)",
     NULL},
    {"search --cv 5 --solvers 0,x", "--solvers: unknown solver 'x'", NULL},
    {"search --cv 5 --solver 5",
     "search: solver '5' has no exact form: search runs solvers 0 (L2R_LR) and 2 "
     "(L2R_L2LOSS_SVC) (--solver or --solvers)",
     NULL},
    {"search --cv 5 --strategy average",
     "search runs on the exact strategy, not --strategy average", NULL},
    {"search --cv 5 --resume", "--resume is not available for search (run it again)", NULL},
    {"train --C-list 1", "--C-list is an option of master search", NULL},
    {"train --no-final", "--no-final is an option of master search", NULL},
    {"train --solver 99",
     "unknown solver '99': use a liblinear solver number or name (0 or L2R_LR, 2 or "
     "L2R_L2LOSS_SVC, ...)",
     NULL},
    {"test --solver 99", NULL, "cmd=test "}, /* a test job reads the model's solver */
    {"train --shard-rows zero", "--shard-rows: cluster.shard_rows: 'zero' is not a whole number",
     NULL},
    {"train -C abc", "-C: model.C: 'abc' is not a number", NULL},
    {"train -C 0", "model.C: must be positive, got 0", NULL},
    {"train --set cluster.shard_rows=zero",
     "--set: cluster.shard_rows: 'zero' is not a whole number", NULL},
    {"train --scale=huge", "data.scale: 'huge' is not standard, minmax or none", NULL},
    {"bench-dispatch --tasks 0", "--tasks: '0' is not a whole number from 1 to 100000000", NULL},
    {"bench-dispatch --prefetch=10001", "--prefetch: '10001' is not a whole number from 0 to 10000",
     NULL},
};

static void test_parse_cases(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        master_opts_t o;
        config_t c;
        char err[1024], got[8192], want[512];
        int rc = parse_line(cases[i].line, &o, &c, err, sizeof err);
        if (cases[i].err) {
            if (rc != -1 || strcmp(err, cases[i].err) != 0)
                fail_msg("'%s': rc %d\n got: %s\nwant: %s", cases[i].line, rc, err, cases[i].err);
            continue;
        }
        if (rc != 0) fail_msg("'%s' refused: %s", cases[i].line, err);
        describe(&o, &c, got, sizeof got);
        snprintf(want, sizeof want, "%s", cases[i].want);
        for (char *w = strtok(want, "|"); w; w = strtok(NULL, "|"))
            if (!strstr(got, w)) fail_msg("'%s':\n got: %s\nlacks: '%s'", cases[i].line, got, w);
    }
}

/* The resume hint: the command as typed, quoted, without --resume. */
static void test_command_recorded(void **state) {
    (void)state;
    master_opts_t o;
    config_t c;
    char err[1024];
    char *argv[] = {"bin/master", "train", "--resume", "--data=a b.csv", "-C4", NULL};
    assert_int_equal(cli_parse(5, argv, &o, &c, err, sizeof err), 0);
    assert_string_equal(o.command, "bin/master train '--data=a b.csv' -C4");
    assert_string_equal(c.data.train, "a b.csv");
    assert_true(c.model.C == 4);
    assert_true(o.resume);
    assert_int_equal(parse_line("serve", &o, &c, err, sizeof err), 0);
    assert_string_equal(o.command, "");
}

/* Every option --help prints is one the parser knows, with the value it shows. */
static void test_help_is_the_table(void **state) {
    (void)state;
    char *text = NULL, line[256];
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    cli_usage(f);
    fclose(f);
    int seen = 0;
    FILE *r = fmemopen(text, len, "r");
    assert_non_null(r);
    while (fgets(line, sizeof line, r)) {
        char name[64], arg[64] = "", cmdline[256], err[1024];
        master_opts_t o;
        config_t c;
        if (strncmp(line, "  -", 3) != 0) continue;
        const char *opt =
            line[3] != '-' && line[4] == ',' ? line + 6 : line + 2; /* "  -v, --verbose" */
        if (sscanf(opt, "%63s %63[^ \n]", name, arg) < 1) continue;
        if (arg[0] && !isupper((unsigned char)arg[0]) && !strchr(arg, '|'))
            arg[0] = 0; /* the help text of a flag */
        snprintf(cmdline, sizeof cmdline, "train %s %.*s", name, (int)strcspn(arg, "|"), arg);
        if (parse_line(cmdline, &o, &c, err, sizeof err) != 0 &&
            (strstr(err, "unknown option") || strstr(err, "needs a value") ||
             strstr(err, "takes no value") || strstr(err, "unexpected argument")))
            fail_msg("--help shows '%s' but '%s' is refused: %s", name, cmdline, err);
        seen++;
    }
    fclose(r);
    free(text);
    assert_true(seen >= 30);
}

/* A REST job: its JSON keys go through the same table, --resume is not a
 * job key, and the same checks refuse min-workers 0; a search job takes
 * cv, C-list, solvers and no-final. */
static void test_rest_job_options(void **state) {
    (void)state;
    master_opts_t o;
    config_t c;
    char err[1024];
    assert_int_equal(parse_line("serve", &o, &c, err, sizeof err), 0);
    o.cmd = CMD_TEST;
    assert_int_equal(cli_job_option(&c, &o, "data", "t.csv", err, sizeof err), 0);
    assert_int_equal(cli_job_option(&c, &o, "out", "p.csv", err, sizeof err), 0);
    assert_int_equal(cli_job_option(&c, &o, "C", "3", err, sizeof err), 0);
    assert_int_equal(cli_job_option(&c, &o, "shard-rows", "50", err, sizeof err), 0);
    assert_int_equal(cli_job_option(&c, &o, "min-workers", "2", err, sizeof err), 0);
    assert_string_equal(c.data.test, "t.csv");
    assert_string_equal(c.output.test, "p.csv");
    assert_string_equal(c.data.train, "Data/train.csv");
    assert_true(c.model.C == 3);
    assert_int_equal(c.cluster.shard_rows, 50);
    assert_int_equal(o.min_workers, 2);
    assert_int_equal(jobopts_validate(&c, &o, err, sizeof err), 0);

    assert_int_equal(cli_job_option(&c, &o, "resume", "1", err, sizeof err), -1);
    assert_int_equal(cli_job_option(&c, &o, "config", "x.json", err, sizeof err), -1);
    assert_int_equal(cli_job_option(&c, &o, "shard-rows", "many", err, sizeof err), -1);
    assert_string_equal(err, "--shard-rows: cluster.shard_rows: 'many' is not a whole number");
    assert_int_equal(cli_job_option(&c, &o, "min-workers", "2.5", err, sizeof err), -1);
    assert_string_equal(err, "--min-workers: '2.5' is not a whole number");

    assert_int_equal(cli_job_option(&c, &o, "min-workers", "0", err, sizeof err), 0);
    assert_int_equal(jobopts_validate(&c, &o, err, sizeof err), -1);
    assert_string_equal(err, "--min-workers: '0' is not a whole number from 1 to 100000");

    master_opts_t s;
    assert_int_equal(parse_line("serve", &s, &c, err, sizeof err), 0);
    s.cmd = CMD_SEARCH;
    assert_int_equal(jobopts_validate(&c, &s, err, sizeof err), -1);
    assert_string_equal(err, "search needs --cv K (K from 2 to 100)");
    assert_int_equal(cli_job_option(&c, &s, "cv", "4", err, sizeof err), 0);
    assert_int_equal(cli_job_option(&c, &s, "C-list", "0.5,2", err, sizeof err), 0);
    assert_int_equal(cli_job_option(&c, &s, "solvers", "2", err, sizeof err), 0);
    assert_int_equal(cli_job_option(&c, &s, "no-final", "false", err, sizeof err), 0);
    assert_false(s.no_final);
    assert_int_equal(cli_job_option(&c, &s, "no-final", "true", err, sizeof err), 0);
    assert_true(s.no_final);
    assert_int_equal(jobopts_validate(&c, &s, err, sizeof err), 0);
    assert_int_equal(s.cv_folds, 4);
    assert_int_equal(s.nc, 2);
    assert_true(s.c_list[0] == 0.5 && s.c_list[1] == 2);
    assert_int_equal(s.nsolvers, 1);
    assert_int_equal(s.solvers[0], 2);
    assert_int_equal(cli_job_option(&c, &s, "C-list", "", err, sizeof err), -1);
    assert_string_equal(err, "--C-list: empty list (give C values such as 0.25,1,4)");
}

/* The checks depend on the job's mode: the solver only matters to training,
 * and an interactive command line is checked again once the mode is chosen. */
static void test_validate_by_mode(void **state) {
    (void)state;
    master_opts_t o;
    config_t c;
    char err[1024];
    assert_int_equal(parse_line("--solver 99 --cv 5", &o, &c, err, sizeof err), 0);
    assert_int_equal(o.cmd, CMD_INTERACTIVE);
    o.cmd = CMD_TEST;
    assert_int_equal(jobopts_validate(&c, &o, err, sizeof err), 0);
    o.cmd = CMD_TRAIN;
    assert_int_equal(jobopts_validate(&c, &o, err, sizeof err), -1);
    assert_non_null(strstr(err, "unknown solver '99'"));
    snprintf(c.model.solver, sizeof c.model.solver, "0");
    assert_int_equal(jobopts_validate(&c, &o, err, sizeof err), 0);
    assert_true(jobopts_exact(&c));
    snprintf(c.model.strategy, sizeof c.model.strategy, "average");
    assert_false(jobopts_exact(&c));
    assert_int_equal(jobopts_validate(&c, &o, err, sizeof err), -1);
    assert_string_equal(err, "--cv is available with the exact strategy (solvers 0 and 2)");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_cases),       cmocka_unit_test(test_command_recorded),
        cmocka_unit_test(test_help_is_the_table), cmocka_unit_test(test_rest_job_options),
        cmocka_unit_test(test_validate_by_mode),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
