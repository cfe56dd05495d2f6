/* Tests for common/config: one JSON object per file (text after it is an
 * error with its line and column), the same value read alike from the file
 * and from --set, and the cross-field rules of config_validate (distinct
 * ports, well-formed addresses). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/config.h"

static char path[64];

static int setup(void **state) {
    (void)state;
    snprintf(path, sizeof path, "/tmp/nc-test-config-%d.json", (int)getpid());
    return 0;
}

static int teardown(void **state) {
    (void)state;
    unlink(path);
    return 0;
}

/* Loads text as a config file over the defaults; returns config_load's result. */
static int load_text(config_t *c, const char *text, char *err, size_t errlen) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    config_defaults(c);
    err[0] = 0;
    return config_load(c, path, false, err, errlen);
}

static void expect_load_error(const char *text, const char *want) {
    config_t c;
    char err[1024], full[1200];
    assert_int_equal(load_text(&c, text, err, sizeof err), -1);
    snprintf(full, sizeof full, want, path);
    if (strstr(err, full) == NULL) fail_msg("for %s\n got: %s\nwant: %s", text, err, full);
}

static void test_trailing_text(void **state) {
    (void)state;
    config_t c;
    char err[1024];
    assert_int_equal(load_text(&c, "{\"model\": {\"C\": 2}}\n \t\r\n", err, sizeof err), 0);
    assert_true(c.model.C == 2);
    expect_load_error("{\"model\": {\"C\": 2}} x",
                      "%s:1:21: unexpected text after the JSON object");
    expect_load_error("{\"model\": {\"C\": 2}}\n{\"model\": {\"C\": 3}}\n",
                      "%s:2:1: unexpected text after the JSON object");
    expect_load_error("{}\n\n  ,", "%s:3:3: unexpected text");
    expect_load_error("{\"model\": {\"C\": 2}", "%s:1:19: invalid JSON: unexpected end of file");
    expect_load_error("{\"model\":\n  {\"C\": 2,,}}", "%s:2:");
    expect_load_error("[1]", "%s: the top level must be a JSON object");
}

/* Each row: one key, its value in JSON and the same value for --set. */
static const struct {
    const char *section, *key, *json, *set;
} same[] = {
    {"model", "solver", "2", "2"},
    {"model", "solver", "\"L2R_L2LOSS_SVC\"", "L2R_L2LOSS_SVC"},
    {"cluster", "shard_rows", "\"500\"", "500"},
    {"cluster", "shard_rows", "500", "500"},
    {"master", "task_port", "\"6001\"", "6001"},
    {"master", "task_port", "6001", "6001"},
    {"security", "curve", "true", "true"},
    {"security", "curve", "1", "1"},
    {"security", "curve", "\"false\"", "false"},
    {"model", "C", "0.25", "0.25"},
    {"model", "C", "4", "4"},
    {"model", "C", "\"4\"", "4"},
    {"data", "label", "7", "7"},
    {"worker", "max_load", "\"0.5\"", "0.5"},
};

static void test_json_and_set_agree(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        config_t a, b;
        char text[256], assign[256], err[1024];
        snprintf(text, sizeof text, "{\"%s\": {\"%s\": %s}}", same[i].section, same[i].key,
                 same[i].json);
        if (load_text(&a, text, err, sizeof err) != 0) fail_msg("file %s refused: %s", text, err);
        config_defaults(&b);
        snprintf(assign, sizeof assign, "%s.%s=%s", same[i].section, same[i].key, same[i].set);
        if (config_set(&b, assign, err, sizeof err) != 0)
            fail_msg("--set %s refused: %s", assign, err);
        if (memcmp(&a, &b, sizeof a) != 0) fail_msg("%s and --set %s differ", text, assign);
    }
}

/* Refused both ways, with the key named. */
static const struct {
    const char *section, *key, *json, *set;
} refused[] = {
    {"cluster", "shard_rows", "5.5", "5.5"},
    {"cluster", "shard_rows", "\"lots\"", "lots"},
    {"cluster", "shard_rows", "99999999999", "99999999999"},
    {"security", "curve", "\"yes\"", "yes"},
    {"security", "curve", "2", "2"},
    {"model", "C", "\"inf\"", "inf"},
    {"model", "C", "\"x\"", "x"},
    {"master", "task_port", "\"80a\"", "80a"},
};

static void test_refused_both_ways(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        config_t c;
        char text[256], assign[256], err[1024], name[128];
        snprintf(name, sizeof name, "%s.%s", refused[i].section, refused[i].key);
        snprintf(text, sizeof text, "{\"%s\": {\"%s\": %s}}", refused[i].section, refused[i].key,
                 refused[i].json);
        if (load_text(&c, text, err, sizeof err) == 0) fail_msg("file %s accepted", text);
        assert_non_null(strstr(err, name));
        config_defaults(&c);
        snprintf(assign, sizeof assign, "%s=%s", name, refused[i].set);
        if (config_set(&c, assign, err, sizeof err) == 0) fail_msg("--set %s accepted", assign);
        assert_non_null(strstr(err, name));
    }
    config_t c;
    char err[1024];
    assert_int_equal(load_text(&c, "{\"data\": {\"label\": true}}", err, sizeof err), -1);
    assert_non_null(strstr(err, "data.label: expected a string, got boolean"));
    assert_int_equal(load_text(&c, "{\"data\": {\"label\": null}}", err, sizeof err), -1);
    assert_int_equal(load_text(&c, "{\"data\": {\"label\": \"a\\u0000b\"}}", err, sizeof err), -1);
    assert_non_null(strstr(err, "NUL"));
}

static void expect_invalid(config_t *c, const char *want) {
    char err[1024] = "";
    assert_int_equal(config_validate(c, err, sizeof err), -1);
    if (strstr(err, want) == NULL) fail_msg("got: %s\nwant: %s", err, want);
}

/* The keys that name one of a few words refuse any other, naming it. */
static void test_words(void **state) {
    (void)state;
    config_t c;
    char err[1024];
    config_defaults(&c);
    assert_string_equal(c.model.parallel, "auto");
    assert_int_equal(config_validate(&c, err, sizeof err), 0);
    assert_int_equal(config_set(&c, "model.parallel=classes", err, sizeof err), 0);
    assert_int_equal(config_validate(&c, err, sizeof err), 0);
    assert_int_equal(config_set(&c, "model.parallel=columns", err, sizeof err), 0);
    expect_invalid(&c, "model.parallel: 'columns' is not auto, rows or classes");
}

/* data.text: a list from the file, the same list from --set in its three
 * spellings, --text appending; given at all (even empty) is remembered. */
static void test_text_list(void **state) {
    (void)state;
    config_t a, b;
    char err[256];
    config_defaults(&b);
    assert_false(b.data.text_set);
    assert_string_equal(b.data.text, "");
    assert_int_equal(b.data.min_df, 2);
    assert_int_equal(b.data.max_features, 262144);
    assert_true(b.data.tfidf);
    assert_int_equal(
        load_text(&a, "{\"data\": {\"text\": [\"review\", \"title x\"]}}", err, sizeof err), 0);
    assert_true(a.data.text_set);
    assert_string_equal(a.data.text, "review\ntitle x\n");
    assert_int_equal(config_set(&b, "data.text=[\"review\",\"title x\"]", err, sizeof err), 0);
    assert_string_equal(b.data.text, a.data.text);
    assert_int_equal(config_set(&b, "data.text=[review, title x]", err, sizeof err), 0);
    assert_string_equal(b.data.text, a.data.text);
    assert_int_equal(config_set(&b, "data.text=review", err, sizeof err), 0);
    assert_string_equal(b.data.text, "review\n");
    assert_int_equal(config_add_text(&b, "body", err, sizeof err), 0);
    assert_string_equal(b.data.text, "review\nbody\n");
    assert_int_equal(config_set(&b, "data.text=[]", err, sizeof err), 0);
    assert_true(b.data.text_set);
    assert_string_equal(b.data.text, "");
    assert_int_equal(load_text(&a, "{\"data\": {\"text\": []}}", err, sizeof err), 0);
    assert_true(a.data.text_set);
    assert_int_equal(load_text(&a, "{\"data\": {\"text\": \"review\"}}", err, sizeof err), -1);
    assert_non_null(strstr(err, "data.text: expected a list"));
    assert_int_equal(load_text(&a, "{\"data\": {\"text\": [1]}}", err, sizeof err), -1);
    assert_int_equal(config_set(&b, "data.text=[a,,b]", err, sizeof err), -1);
    assert_int_equal(config_add_text(&b, "", err, sizeof err), -1);
    config_defaults(&a);
    assert_int_equal(config_set(&a, "data.hash_bits=25", err, sizeof err), 0);
    assert_int_equal(config_validate(&a, err, sizeof err), -1);
    assert_non_null(strstr(err, "data.hash_bits"));
    config_defaults(&a);
    assert_int_equal(config_set(&a, "data.ngram=3", err, sizeof err), 0);
    assert_int_equal(config_validate(&a, err, sizeof err), -1);
}

static void test_ports_distinct(void **state) {
    (void)state;
    config_t c;
    char err[1024];
    config_defaults(&c);
    assert_int_equal(config_validate(&c, err, sizeof err), 0);
    c.master.result_port = c.master.task_port;
    expect_invalid(&c, "master.task_port and master.result_port are both 5555");
    config_defaults(&c);
    c.dashboard.port = c.master.heartbeat_port;
    expect_invalid(&c, "master.heartbeat_port and dashboard.port are both 5557");
}

static void test_addresses(void **state) {
    (void)state;
    static const char *good[] = {"127.0.0.1", "10.0.0.5", "*",
                                 "localhost", "eth0",     "lab-pc17.example.org",
                                 "::1",       "[::1]",    "fe80::1"};
    static const char *bad[] = {"999.1.1.1", "10.0.0",         "1.2.3.4.5", "a b",  "",
                                "host:5555", "tcp://10.0.0.5", "-",         "a..b", "[10.0.0.1]",
                                "..."};
    config_t c;
    char err[1024];
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        config_defaults(&c);
        snprintf(c.master.ip, sizeof c.master.ip, "%s", good[i]);
        if (config_validate(&c, err, sizeof err) != 0) fail_msg("%s refused: %s", good[i], err);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        config_defaults(&c);
        snprintf(c.master.ip, sizeof c.master.ip, "%s", bad[i]);
        char want[300];
        snprintf(want, sizeof want, "master.ip: '%s' is not an IP address", bad[i]);
        expect_invalid(&c, want);
    }
    config_defaults(&c);
    c.dashboard.host[0] = 0; /* every interface */
    assert_int_equal(config_validate(&c, err, sizeof err), 0);
    snprintf(c.dashboard.host, sizeof c.dashboard.host, "300.0.0.1");
    expect_invalid(&c, "dashboard.host: '300.0.0.1'");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_trailing_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_and_set_agree, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_both_ways, setup, teardown),
        cmocka_unit_test(test_words),
        cmocka_unit_test_setup_teardown(test_text_list, setup, teardown),
        cmocka_unit_test(test_ports_distinct),
        cmocka_unit_test(test_addresses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
