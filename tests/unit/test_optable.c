/* Tests for common/optable: getopt_long over a table (value forms, grouped
 * flags, exact names, the end of options), the one-line refusals with their
 * did-you-mean, --help printed from the same rows, and option names in
 * config errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/optable.h"

enum { A_FLAG = 1, A_VALUE, A_KEY };

static const optdef_t defs[] = {
    {.help = "Options:"},
    {"verbose", 'v', NULL, "more", A_FLAG, NULL, 0},
    {"quiet", 'q', NULL, "less", A_FLAG, NULL, 0},
    {"data", 0, "FILE", "input", A_VALUE, NULL, 0},
    {"C", 'C', "VALUE", "cost", A_VALUE, NULL, 0},
    {"slots", 0, "N", "threads", A_KEY, "worker.slots", 0},
    {"strategy", 0, "exact|average", "how\nsecond line", A_VALUE, NULL, 0},
    {"die-after", 0, "N", NULL, A_VALUE, NULL, 0}, /* hidden */
};
#define N (sizeof defs / sizeof defs[0])

/* Parses line (split at spaces) and renders the items as "name=value ..." or
 * the error. */
static int run(const char *line, char *out, size_t outlen) {
    char buf[512], *argv[32], err[512];
    int argc = 0;
    snprintf(buf, sizeof buf, "%s", line);
    argv[argc++] = "prog";
    for (char *t = strtok(buf, " "); t && argc < 31; t = strtok(NULL, " "))
        argv[argc++] = t;
    argv[argc] = NULL;
    optitem_t *items;
    size_t n;
    int rc = optable_parse(defs, N, argc, argv, 1, &items, &n, err, sizeof err);
    out[0] = 0;
    if (rc < 0) {
        assert_null(items);
        snprintf(out, outlen, "%s", err);
        return rc;
    }
    for (size_t i = 0; i < n; i++)
        snprintf(out + strlen(out), outlen - strlen(out), "%s%s%s%s", i ? " " : "",
                 items[i].def->name, items[i].value ? "=" : "",
                 items[i].value ? items[i].value : "");
    free(items);
    return rc;
}

static const struct {
    const char *line, *want;
    int rc;
} cases[] = {
    {"", "", 0},
    {"--data a.csv", "data=a.csv", 0},
    {"--data=a.csv", "data=a.csv", 0},
    {"--data=", "data=", 0},
    {"--data=x=y", "data=x=y", 0},
    {"--data -v", "data=-v", 0}, /* a value may start with a dash */
    {"-C 4 -C5 --data b -vq", "C=4 C=5 data=b verbose quiet", 0},
    {"-qvC 2", "quiet verbose C=2", 0},
    {"--die-after 3", "die-after=3", 0},
    {"--strategy=average --slots 2", "strategy=average slots=2", 0},
    {"-v --", "verbose", 0},
    {"--dat x", "unknown option '--dat' (did you mean --data? see --help)", -1},
    {"--data=x --dat=y", "unknown option '--dat' (did you mean --data? see --help)", -1},
    {"--verbos", "unknown option '--verbos' (did you mean --verbose? see --help)", -1},
    {"--stratgey exact", "unknown option '--stratgey' (did you mean --strategy? see --help)", -1},
    {"--slost 2", "unknown option '--slost' (did you mean --slots? see --help)", -1},
    {"--sluts 2", "unknown option '--sluts' (did you mean --slots? see --help)", -1},
    {"--zzzzzz", "unknown option '--zzzzzz' (see --help)", -1},
    {"--die-afte 3", "unknown option '--die-afte' (see --help)", -1}, /* hidden: no hint */
    {"--ab", "unknown option '--ab' (see --help)", -1},
    {"--c 1", "unknown option '--c' (did you mean -C? see --help)", -1},
    {"-c 1", "unknown option '-c' (did you mean -C? see --help)", -1},
    {"-V", "unknown option '-V' (did you mean -v? see --help)", -1},
    {"-vx", "unknown option '-x' (see --help)", -1},
    {"-slots 2", "unknown option '-slots' (did you mean --slots? see --help)", -1},
    {"--data", "option '--data' needs a value (see --help)", -1},
    {"-v -C", "option '-C' needs a value (see --help)", -1},
    {"--verbose=yes", "option '--verbose' takes no value (see --help)", -1},
    {"file.csv", "unexpected argument 'file.csv' (see --help)", -1},
    {"-v file.csv -q", "unexpected argument 'file.csv' (see --help)", -1},
    {"-- -v", "unexpected argument '-v' (see --help)", -1},
    {"-", "unexpected argument '-' (see --help)", -1},
};

static void test_parse(void **state) {
    (void)state;
    char out[1024];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = run(cases[i].line, out, sizeof out);
        if (rc != cases[i].rc || strcmp(out, cases[i].want) != 0)
            fail_msg("'%s': rc %d\n got: %s\nwant: %s", cases[i].line, rc, out, cases[i].want);
    }
}

/* Parsing starts at first: a command word before it is not looked at. */
static void test_first(void **state) {
    (void)state;
    char *argv[] = {"master", "train", "--data", "x", NULL}, err[256];
    optitem_t *items;
    size_t n;
    assert_int_equal(optable_parse(defs, N, 4, argv, 2, &items, &n, err, sizeof err), 0);
    assert_int_equal(n, 1);
    assert_string_equal(items[0].value, "x");
    assert_ptr_equal(optable_last(items, n, A_VALUE), &items[0]);
    assert_null(optable_last(items, n, A_FLAG));
    free(items);
    assert_int_equal(optable_parse(defs, N, 4, argv, 1, &items, &n, err, sizeof err), -1);
    assert_string_equal(err, "unexpected argument 'train' (see --help)");
}

static void test_help(void **state) {
    (void)state;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    optable_print(f, defs, N);
    optable_print_line(f, "  a-very-long-left-column-text", "x");
    fclose(f);
    assert_string_equal(text, "Options:\n"
                              "  -v, --verbose          more\n"
                              "  -q, --quiet            less\n"
                              "  --data FILE            input\n"
                              "  -C VALUE               cost\n"
                              "  --slots N              threads\n"
                              "  --strategy exact|average\n"
                              "                         how\n"
                              "                         second line\n"
                              "  a-very-long-left-column-text\n"
                              "                         x\n");
    free(text);
}

static void test_set_key(void **state) {
    (void)state;
    config_t c;
    char err[512], name[32];
    config_defaults(&c);
    assert_int_equal(optable_set_key(&c, "worker.slots", "--slots", "3", err, sizeof err), 0);
    assert_int_equal(c.worker.slots, 3);
    assert_int_equal(optable_set_key(&c, "worker.slots", "--slots", "x", err, sizeof err), -1);
    assert_string_equal(err, "--slots: worker.slots: 'x' is not a whole number");
    assert_string_equal(optable_name(optable_find(defs, N, "C"), name, sizeof name), "-C");
    assert_string_equal(optable_name(optable_find(defs, N, "data"), name, sizeof name), "--data");
    assert_null(optable_find(defs, N, "Options:"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_first),
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_set_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
