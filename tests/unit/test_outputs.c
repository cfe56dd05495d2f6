/* Unit tests for master/outputs: the same-file check, what kind each target
 * is, streams, and the staged commit of several outputs together. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "master/outputs.h"

typedef struct fx {
    char dir[64];
    char p[8][160];
} fx_t;

static int setup(void **state) {
    fx_t *f = calloc(1, sizeof *f);
    strcpy(f->dir, "/tmp/nc-outputs.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fx_t *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static const char *at(fx_t *f, int i, const char *name) {
    char path[sizeof f->p[i]];
    snprintf(path, sizeof path, "%s/%s", f->dir, name);
    memcpy(f->p[i], path, sizeof path);
    return f->p[i];
}

static void put(const char *path, const char *text) {
    FILE *o = fopen(path, "w");
    assert_non_null(o);
    fputs(text, o);
    assert_int_equal(fclose(o), 0);
}

static char *get(const char *path) {
    static char buf[256];
    FILE *i = fopen(path, "r");
    if (!i) return NULL;
    size_t n = fread(buf, 1, sizeof buf - 1, i);
    buf[n] = 0;
    fclose(i);
    return buf;
}

/* One output and one input; returns outputs_check's result, err filled. */
static int check_pair(const char *out, const char *in, char *err, size_t errlen) {
    outputs_t *o = outputs_new();
    assert_non_null(o);
    assert_int_equal(outputs_output(o, "--out", out, 0), 0);
    assert_int_equal(outputs_input(o, "--data", in), 0);
    int rc = outputs_check(o, err, errlen);
    outputs_destroy(&o);
    assert_null(o);
    return rc;
}

/* The same file under any name is refused, naming both; others pass. */
static void test_same_file(void **state) {
    fx_t *f = *state;
    char err[512] = "";
    put(at(f, 0, "data.csv"), "a,b\n1,2\n");
    /* Same path, another spelling, a hard link, a symbolic link. */
    assert_int_equal(check_pair(f->p[0], f->p[0], err, sizeof err), -1);
    assert_non_null(strstr(err, "--out"));
    assert_non_null(strstr(err, "--data"));
    assert_non_null(strstr(err, "same file"));
    char other[200];
    snprintf(other, sizeof other, "%s/./sub/../data.csv", f->dir);
    mkdir(at(f, 1, "sub"), 0755);
    assert_int_equal(check_pair(other, f->p[0], err, sizeof err), -1);
    assert_int_equal(link(f->p[0], at(f, 2, "hard.csv")), 0);
    assert_int_equal(check_pair(f->p[2], f->p[0], err, sizeof err), -1);
    assert_int_equal(symlink(f->p[0], at(f, 3, "soft.csv")), 0);
    assert_int_equal(check_pair(f->p[3], f->p[0], err, sizeof err), -1);
    /* A different file, a missing one: fine. */
    put(at(f, 4, "out.csv"), "old\n");
    assert_int_equal(check_pair(f->p[4], f->p[0], err, sizeof err), 0);
    assert_int_equal(check_pair(at(f, 5, "new.csv"), f->p[0], err, sizeof err), 0);
    /* Standard output redirected to the input. */
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    int fd = open(f->p[0], O_WRONLY | O_APPEND);
    assert_true(saved >= 0 && fd >= 0);
    dup2(fd, STDOUT_FILENO);
    int rc = check_pair("-", f->p[0], err, sizeof err);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    close(fd);
    assert_int_equal(rc, -1);
    assert_string_equal(get(f->p[0]), "a,b\n1,2\n");
}

/* Two outputs: one name (even not there yet) is refused; one device is not. */
static void test_two_outputs(void **state) {
    fx_t *f = *state;
    char err[512] = "";
    outputs_t *o = outputs_new();
    assert_int_equal(outputs_output(o, "--model", at(f, 0, "m.txt"), OUTPUTS_STAGE), 0);
    snprintf(f->p[1], sizeof f->p[1], "%s/sub/../m.txt", f->dir);
    mkdir(at(f, 2, "sub"), 0755);
    assert_int_equal(outputs_output(o, "--out", f->p[1], OUTPUTS_STAGE), 1);
    assert_int_equal(outputs_check(o, err, sizeof err), -1);
    assert_non_null(strstr(err, "one output would overwrite the other"));
    outputs_destroy(&o);

    o = outputs_new();
    assert_int_equal(outputs_output(o, "--model", "/dev/null", OUTPUTS_STAGE), 0);
    assert_int_equal(outputs_output(o, "--out", "/dev/null", OUTPUTS_STAGE), 1);
    assert_int_equal(outputs_output(o, "the schema", NULL, OUTPUTS_STAGE), 2);
    assert_int_equal(outputs_check(o, err, sizeof err), 0);
    assert_true(outputs_is_stream(o, 0));
    assert_true(outputs_is_stream(o, 1));
    assert_false(outputs_skipped(o, 1));
    assert_true(outputs_skipped(o, 2));
    assert_int_equal(outputs_open(o, NULL, err, sizeof err), 0);
    assert_non_null(outputs_stage_path(o, 0));
    assert_null(outputs_stage_path(o, 2));
    outputs_destroy(&o);

    /* An input that is not there cannot be destroyed: no clash. */
    o = outputs_new();
    assert_int_equal(outputs_output(o, "--out", at(f, 3, "x.csv"), 0), 0);
    assert_int_equal(outputs_input(o, "--data", f->p[3]), 0);
    assert_int_equal(outputs_check(o, err, sizeof err), 0);
    outputs_destroy(&o);
}

/* A file the job names may not be one an output writes beside its target
 * before the commit (staged .NAME.new, the writer's .part/.spool/.journal):
 * it would be truncated, renamed into the model or unlinked. */
static void test_side_files(void **state) {
    fx_t *f = *state;
    char err[512] = "";
    outputs_t *o = outputs_new();
    put(at(f, 1, ".model.txt.new"), "1 1:1\n");
    assert_int_equal(outputs_output(o, "--model", at(f, 0, "model.txt"), OUTPUTS_STAGE), 0);
    assert_int_equal(outputs_input(o, "--data", f->p[1]), 0);
    assert_int_equal(outputs_check(o, err, sizeof err), -1);
    assert_non_null(strstr(err, "is where --model"));
    outputs_destroy(&o);
    assert_string_equal(get(f->p[1]), "1 1:1\n");

    o = outputs_new(); /* an output named as another's staged file, not there yet */
    assert_int_equal(outputs_output(o, "--model", at(f, 2, "m2"), OUTPUTS_STAGE), 0);
    assert_int_equal(outputs_output(o, "--out", at(f, 3, ".m2.new"), OUTPUTS_STAGE), 1);
    assert_int_equal(outputs_check(o, err, sizeof err), -1);
    outputs_destroy(&o);

    o = outputs_new(); /* test predictions go through the writer's .part */
    put(at(f, 4, ".x.csv.part"), "a,b\n");
    assert_int_equal(outputs_output(o, "--out", at(f, 5, "x.csv"), 0), 0);
    assert_int_equal(outputs_input(o, "--data", f->p[4]), 0);
    assert_int_equal(outputs_check(o, err, sizeof err), -1);
    outputs_destroy(&o);

    o = outputs_new(); /* a missing input cannot be destroyed, as elsewhere */
    assert_int_equal(outputs_output(o, "--model", at(f, 6, "n.txt"), OUTPUTS_STAGE), 0);
    assert_int_equal(outputs_input(o, "--data", at(f, 7, ".n.txt.new")), 0);
    assert_int_equal(outputs_check(o, err, sizeof err), 0);
    outputs_destroy(&o);
}

/* What each target is. */
static void test_kinds(void **state) {
    fx_t *f = *state;
    char err[512] = "";
    outputs_t *o = outputs_new();
    put(at(f, 5, "real.csv"), "x\n");
    put(at(f, 0, "plain.csv"), "x\n");
    assert_int_equal(symlink(f->p[5], at(f, 1, "link.csv")), 0);
    assert_int_equal(mkfifo(at(f, 2, "fifo"), 0600), 0);
    assert_int_equal(outputs_output(o, "a", f->p[0], 0), 0);
    assert_int_equal(outputs_output(o, "b", f->p[1], 0), 1);
    assert_int_equal(outputs_output(o, "c", f->p[2], 0), 2);
    assert_int_equal(outputs_output(o, "d", "-", 0), 3);
    assert_int_equal(outputs_output(o, "e", at(f, 3, "none.csv"), 0), 4);
    assert_int_equal(outputs_check(o, err, sizeof err), 0);
    assert_false(outputs_is_stream(o, 0));
    assert_false(outputs_is_stream(o, 1));
    char real[4096];
    assert_non_null(realpath(f->p[5], real));
    assert_string_equal(outputs_path(o, 1), real); /* the link's file is replaced */
    assert_true(outputs_is_stream(o, 2));
    assert_true(outputs_is_stream(o, 3));
    assert_true(outputs_uses_stdout(o));
    assert_false(outputs_is_stream(o, 4));
    /* No reader on the FIFO and nothing to wait with: a clear error. */
    assert_int_equal(outputs_open(o, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "no reader"));
    outputs_destroy(&o);

    const char *bad[][2] = {{f->dir, "is a directory"}, {"-", "standard output"}};
    for (int i = 0; i < 2; i++) {
        o = outputs_new();
        assert_int_equal(outputs_output(o, "--model", bad[i][0], OUTPUTS_NO_STDOUT), 0);
        assert_int_equal(outputs_check(o, err, sizeof err), -1);
        assert_non_null(strstr(err, bad[i][1]));
        outputs_destroy(&o);
    }
    assert_int_equal(symlink("nowhere", at(f, 4, "dangling")), 0);
    o = outputs_new();
    assert_int_equal(outputs_output(o, "--out", f->p[4], 0), 0);
    assert_int_equal(outputs_check(o, err, sizeof err), -1);
    outputs_destroy(&o);
}

static int stage_three(fx_t *f, outputs_t **op, char *err, size_t errlen) {
    outputs_t *o = outputs_new();
    outputs_output(o, "--model", at(f, 0, "model.txt"), OUTPUTS_STAGE);
    outputs_output(o, "the model's schema", at(f, 1, "model.txt.schema.json"), OUTPUTS_STAGE);
    outputs_output(o, "--out", f->p[2], OUTPUTS_STAGE);
    *op = o;
    if (outputs_check(o, err, errlen) < 0 || outputs_open(o, NULL, err, errlen) < 0) return -1;
    for (int i = 0; i < 3; i++) {
        char text[32];
        snprintf(text, sizeof text, "new %d\n", i);
        put(outputs_stage_path(o, i), text);
    }
    return 0;
}

/* Staged outputs: nothing changes until the commit; then all of them. A set
 * destroyed without a commit leaves the old files and no staged file; a
 * staged stream gets its bytes at the commit only. */
static void test_commit_together(void **state) {
    fx_t *f = *state;
    char err[512] = "";
    put(at(f, 0, "model.txt"), "old 0\n");
    put(at(f, 1, "model.txt.schema.json"), "old 1\n");
    at(f, 2, "sub.csv");
    outputs_t *o = NULL;
    assert_int_equal(stage_three(f, &o, err, sizeof err), 0);
    assert_string_equal(get(f->p[0]), "old 0\n");
    outputs_destroy(&o); /* a failed job */
    assert_string_equal(get(f->p[0]), "old 0\n");
    assert_string_equal(get(f->p[1]), "old 1\n");
    assert_null(get(f->p[2]));
    char cmd[160];
    snprintf(cmd, sizeof cmd, "test $(ls -A %s | wc -l) -eq 2", f->dir);
    assert_int_equal(system(cmd), 0);

    assert_int_equal(stage_three(f, &o, err, sizeof err), 0);
    assert_int_equal(outputs_commit(o, err, sizeof err), 0);
    outputs_destroy(&o);
    for (int i = 0; i < 3; i++) {
        char text[32];
        snprintf(text, sizeof text, "new %d\n", i);
        assert_string_equal(get(f->p[i]), text);
    }
    snprintf(cmd, sizeof cmd, "test $(ls -A %s | wc -l) -eq 3", f->dir);
    assert_int_equal(system(cmd), 0);

    /* A FIFO output with a reader, staged. */
    assert_int_equal(mkfifo(at(f, 3, "fifo"), 0600), 0);
    int rd = open(f->p[3], O_RDONLY | O_NONBLOCK);
    assert_true(rd >= 0);
    o = outputs_new();
    outputs_output(o, "--out", f->p[3], OUTPUTS_STAGE);
    assert_int_equal(outputs_check(o, err, sizeof err), 0);
    assert_int_equal(outputs_open(o, NULL, err, sizeof err), 0);
    put(outputs_stage_path(o, 0), "through the fifo\n");
    char buf[64] = "";
    assert_true(read(rd, buf, sizeof buf) <= 0); /* nothing before the commit */
    assert_int_equal(outputs_commit(o, err, sizeof err), 0);
    char staged[4096];
    snprintf(staged, sizeof staged, "%s", outputs_stage_path(o, 0));
    outputs_destroy(&o);
    assert_int_equal(read(rd, buf, sizeof buf), 17);
    assert_memory_equal(buf, "through the fifo\n", 17);
    close(rd);
    struct stat st;
    assert_int_equal(stat(f->p[3], &st), 0);
    assert_true(S_ISFIFO(st.st_mode));
    assert_int_not_equal(access(staged, F_OK), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_same_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_outputs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_side_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kinds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_together, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
