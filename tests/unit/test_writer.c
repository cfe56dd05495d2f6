/* Unit tests for master/writer: ordered, spooled, atomic, resumable output,
 * and stream mode. */
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
#include <sys/wait.h>
#include <unistd.h>

#include "master/writer.h"

#define NCH 40
#define HEADER "id,predicted\n"

typedef struct fx {
    char dir[64], path[128], part[128], spool[128], journal[128];
    char *chunk[NCH];
    size_t len[NCH];
    char *expect;
    size_t expect_len;
} fx_t;

static bool exists(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0;
}

static char *slurp(const char *p, size_t *len) {
    FILE *f = fopen(p, "rb");
    if (!f) return NULL;
    char *buf = malloc(1 << 20);
    *len = fread(buf, 1, 1 << 20, f);
    fclose(f);
    return buf;
}

/* Chunk i holds i % 7 + 1 lines "row,class" numbered across chunks (some
 * chunks empty), so the expected file is easy to rebuild. */
static int setup(void **state) {
    fx_t *f = calloc(1, sizeof *f);
    strcpy(f->dir, "/tmp/nc-writer.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/out.csv", f->dir);
    snprintf(f->part, sizeof f->part, "%s/.out.csv.part", f->dir);
    snprintf(f->spool, sizeof f->spool, "%s/.out.csv.spool", f->dir);
    snprintf(f->journal, sizeof f->journal, "%s/.out.csv.journal", f->dir);
    size_t total = strlen(HEADER);
    unsigned row = 1;
    for (int i = 0; i < NCH; i++) {
        int lines = i % 9 == 4 ? 0 : i % 7 + 1;
        f->chunk[i] = malloc(64 * 8);
        f->len[i] = 0;
        for (int k = 0; k < lines; k++, row++)
            f->len[i] += (size_t)sprintf(f->chunk[i] + f->len[i], "%u,c%u\n", row, row % 3);
        total += f->len[i];
    }
    f->expect = malloc(total + 1);
    strcpy(f->expect, HEADER);
    f->expect_len = strlen(HEADER);
    for (int i = 0; i < NCH; i++) {
        memcpy(f->expect + f->expect_len, f->chunk[i], f->len[i]);
        f->expect_len += f->len[i];
    }
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fx_t *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    for (int i = 0; i < NCH; i++)
        free(f->chunk[i]);
    free(f->expect);
    free(f);
    return 0;
}

static void shuffle(unsigned *order, int n, unsigned seed) {
    for (int i = 0; i < n; i++)
        order[i] = (unsigned)i;
    srand(seed);
    for (int i = n - 1; i > 0; i--) {
        int j = rand() % (i + 1);
        unsigned t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
}

static void check_output(fx_t *f) {
    size_t len = 0;
    char *got = slurp(f->path, &len);
    assert_non_null(got);
    assert_int_equal(len, f->expect_len);
    assert_memory_equal(got, f->expect, len);
    free(got);
    assert_false(exists(f->part));
    assert_false(exists(f->spool));
    assert_false(exists(f->journal));
}

/* Random orders with budgets from "nothing in memory" to "everything":
 * the output is the same file, and the memory bound holds. */
static void test_random_orders(void **state) {
    fx_t *f = *state;
    char err[256];
    const size_t budgets[] = {0, 100, 1000, 1 << 20};
    for (unsigned seed = 1; seed <= 12; seed++) {
        size_t budget = budgets[seed % 4];
        unsigned order[NCH];
        shuffle(order, NCH, seed);
        writer_t *w = writer_open(f->path, NCH, HEADER, "job1", false, budget, err, sizeof err);
        assert_non_null(w);
        for (int i = 0; i < NCH; i++) {
            assert_int_equal(writer_put(w, order[i], f->chunk[order[i]], f->len[order[i]], NULL,
                                        err, sizeof err),
                             0);
            writer_stats_t st;
            writer_get_stats(w, &st);
            assert_true(st.held_bytes <= budget);
            assert_false(exists(f->path));
        }
        writer_stats_t st;
        writer_get_stats(w, &st);
        assert_int_equal(st.written, NCH);
        assert_int_equal(st.held, 0);
        assert_int_equal(st.spooled, 0);
        assert_true(st.peak_held_bytes <= budget);
        if (budget == 0 && order[0] != 0) assert_true(st.spool_bytes > 0);
        assert_int_equal(writer_commit(w, err, sizeof err), 0);
        writer_close(&w, false);
        assert_null(w);
        check_output(f);
        unlink(f->path);
    }
}

/* Reverse order with a budget of about three chunks: the rest is spooled. */
static void test_spools_past_budget(void **state) {
    fx_t *f = *state;
    char err[256];
    writer_t *w = writer_open(f->path, NCH, HEADER, "job1", false, 60, err, sizeof err);
    assert_non_null(w);
    for (int i = NCH - 1; i >= 1; i--)
        assert_int_equal(writer_put(w, (uint32_t)i, f->chunk[i], f->len[i], "m", err, sizeof err),
                         0);
    writer_stats_t st;
    writer_get_stats(w, &st);
    assert_int_equal(st.written, 0);
    assert_true(st.spooled > NCH / 2);
    assert_true(st.held_bytes <= 60);
    assert_int_equal(st.held + st.spooled, NCH - 1);
    assert_int_equal(writer_commit(w, err, sizeof err), -1); /* chunk 0 missing */
    assert_false(exists(f->path));
    assert_int_equal(writer_put(w, 0, f->chunk[0], f->len[0], NULL, err, sizeof err), 0);
    assert_int_equal(writer_commit(w, err, sizeof err), 0);
    writer_close(&w, false);
    check_output(f);
}

static void test_rejects_bad_puts(void **state) {
    fx_t *f = *state;
    char err[256];
    writer_t *w = writer_open(f->path, NCH, HEADER, "job1", false, 1000, err, sizeof err);
    assert_non_null(w);
    assert_int_equal(writer_put(w, 3, "x\n", 2, NULL, err, sizeof err), 0);
    assert_int_equal(writer_put(w, 3, "x\n", 2, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "twice"));
    assert_int_equal(writer_put(w, 0, "x\n", 2, NULL, err, sizeof err), 0);
    assert_int_equal(writer_put(w, 0, "x\n", 2, NULL, err, sizeof err), -1);
    assert_int_equal(writer_put(w, NCH, "x\n", 2, NULL, err, sizeof err), -1);
    assert_int_equal(writer_put(w, 5, "x\n", 2, "has space", err, sizeof err), -1);
    assert_null(writer_open(f->path, 0, HEADER, "job1", false, 0, err, sizeof err));
    assert_null(writer_open(f->path, 1, HEADER, "two words", false, 0, err, sizeof err));
    writer_close(&w, false);
}

/* A failed job leaves neither the final file nor its temporary files. */
static void test_failure_leaves_nothing(void **state) {
    fx_t *f = *state;
    char err[256];
    writer_t *w = writer_open(f->path, NCH, HEADER, "job1", false, 0, err, sizeof err);
    assert_non_null(w);
    for (int i = 0; i < NCH / 2; i++)
        assert_int_equal(writer_put(w, (uint32_t)(NCH - 1 - i), f->chunk[NCH - 1 - i],
                                    f->len[NCH - 1 - i], NULL, err, sizeof err),
                         0);
    assert_int_equal(writer_put(w, 0, f->chunk[0], f->len[0], NULL, err, sizeof err), 0);
    assert_true(exists(f->part));
    writer_close(&w, false);
    assert_false(exists(f->path));
    assert_false(exists(f->part));
    assert_false(exists(f->spool));
    assert_false(exists(f->journal));

    /* A missing directory fails at open, naming the file. */
    char bad[160];
    snprintf(bad, sizeof bad, "%s/nodir/out.csv", f->dir);
    assert_null(writer_open(bad, 2, HEADER, "k", false, 0, err, sizeof err));
    assert_non_null(strstr(err, "nodir"));
}

/* A process killed mid-job (simulated: close keeping the files, chunks held
 * in memory lost) is resumed: journalled chunks come back with their meta,
 * the others are computed again, the file is the same. */
static void test_resume(void **state) {
    fx_t *f = *state;
    char err[256], meta[32];
    unsigned order[NCH];
    shuffle(order, NCH, 99);
    writer_t *w = writer_open(f->path, NCH, HEADER, "jobR", false, 40, err, sizeof err);
    assert_non_null(w);
    for (int i = 0; i < NCH / 2; i++) {
        snprintf(meta, sizeof meta, "m%u", order[i]);
        assert_int_equal(
            writer_put(w, order[i], f->chunk[order[i]], f->len[order[i]], meta, err, sizeof err),
            0);
    }
    writer_close(&w, true);
    assert_true(exists(f->journal));
    assert_false(exists(f->path));
    /* Torn record and bytes past the last journalled chunk, as a kill leaves. */
    FILE *j = fopen(f->journal, "a");
    fputs("O 39 12", j);
    fclose(j);
    FILE *p = fopen(f->part, "a");
    fputs("999,half-written", p);
    fclose(p);

    /* Another job's key starts afresh. */
    w = writer_open(f->path, NCH, HEADER, "other", true, 40, err, sizeof err);
    assert_non_null(w);
    assert_int_equal(writer_resumed(w), 0);
    writer_close(&w, true);
    /* ... which destroyed jobR's journal: redo the first half, in a child
     * that dies without closing anything (chunks held in memory are lost). */
    writer_stats_t before;
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        w = writer_open(f->path, NCH, HEADER, "jobR", false, 40, err, sizeof err);
        for (int i = 0; w && i < NCH / 2; i++) {
            snprintf(meta, sizeof meta, "m%u", order[i]);
            if (writer_put(w, order[i], f->chunk[order[i]], f->len[order[i]], meta, err,
                           sizeof err) < 0)
                _exit(1);
        }
        writer_get_stats(w, &before);
        if (write(pfd[1], &before, sizeof before) != (ssize_t)sizeof before) _exit(1);
        _exit(0);
    }
    int wst;
    assert_int_equal(waitpid(pid, &wst, 0), pid);
    assert_true(WIFEXITED(wst) && WEXITSTATUS(wst) == 0);
    assert_int_equal(read(pfd[0], &before, sizeof before), (ssize_t)sizeof before);
    close(pfd[0]);
    close(pfd[1]);
    assert_true(before.held > 0);
    j = fopen(f->journal, "a");
    fputs("S 7 1", j);
    fclose(j);

    w = writer_open(f->path, NCH, HEADER, "jobR", true, 40, err, sizeof err);
    assert_non_null(w);
    assert_int_equal(writer_resumed(w), before.written + before.spooled);
    uint32_t redo = 0;
    for (int i = 0; i < NCH; i++) {
        if (writer_has(w, (uint32_t)i)) {
            snprintf(meta, sizeof meta, "m%d", i);
            assert_non_null(writer_meta(w, (uint32_t)i));
            assert_string_equal(writer_meta(w, (uint32_t)i), meta);
        } else {
            assert_null(writer_meta(w, (uint32_t)i));
            redo++;
        }
    }
    assert_true(redo >= NCH / 2);
    for (int i = NCH - 1; i >= 0; i--)
        if (!writer_has(w, (uint32_t)i))
            assert_int_equal(
                writer_put(w, (uint32_t)i, f->chunk[i], f->len[i], "x", err, sizeof err), 0);
    assert_int_equal(writer_commit(w, err, sizeof err), 0);
    writer_close(&w, false);
    check_output(f);
}

/* A stopped job (close with keep) spools what it held: nothing is redone. */
static void test_close_keep_spools_held(void **state) {
    fx_t *f = *state;
    char err[256];
    writer_t *w = writer_open(f->path, NCH, HEADER, "jobK", false, 1 << 20, err, sizeof err);
    assert_non_null(w);
    for (int i = NCH - 1; i >= 1; i--)
        assert_int_equal(writer_put(w, (uint32_t)i, f->chunk[i], f->len[i], "k", err, sizeof err),
                         0);
    writer_stats_t st;
    writer_get_stats(w, &st);
    assert_int_equal(st.held, NCH - 1);
    writer_close(&w, true);
    w = writer_open(f->path, NCH, HEADER, "jobK", true, 1 << 20, err, sizeof err);
    assert_non_null(w);
    assert_int_equal(writer_resumed(w), NCH - 1);
    assert_false(writer_has(w, 0));
    assert_string_equal(writer_meta(w, 5), "k");
    assert_int_equal(writer_put(w, 0, f->chunk[0], f->len[0], NULL, err, sizeof err), 0);
    assert_int_equal(writer_commit(w, err, sizeof err), 0);
    writer_close(&w, false);
    check_output(f);
}

/* Runs in a child: copies fd to path until EOF. */
static void drain_to_file(int fd, const char *path) {
    FILE *o = fopen(path, "wb");
    char buf[4096];
    ssize_t n;
    while (o && (n = read(fd, buf, sizeof buf)) > 0)
        if (fwrite(buf, 1, (size_t)n, o) != (size_t)n) _exit(1);
    _exit(o && fclose(o) == 0 ? 0 : 1);
}

static size_t dir_entries(const char *dir) {
    char cmd[160];
    snprintf(cmd, sizeof cmd, "ls -A %s | wc -l", dir);
    FILE *p = popen(cmd, "r");
    unsigned n = 99;
    assert_non_null(p);
    assert_int_equal(fscanf(p, "%u", &n), 1);
    pclose(p);
    return n;
}

/* Stream mode on a pipe: chunks in any order reach the reader in order,
 * with budgets that hold everything, some or nothing in memory (the rest in
 * an anonymous spool); no file appears beside the target, and commit and
 * close leave the descriptor to the caller. */
static void test_stream_pipe_in_order(void **state) {
    fx_t *f = *state;
    char err[256];
    const size_t budgets[] = {0, 100, 1 << 20};
    for (unsigned seed = 1; seed <= 6; seed++) {
        size_t budget = budgets[seed % 3];
        int pfd[2];
        assert_int_equal(pipe(pfd), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(pfd[1]);
            drain_to_file(pfd[0], f->path);
        }
        close(pfd[0]);
        unsigned order[NCH];
        shuffle(order, NCH, seed);
        writer_t *w = writer_open_stream(pfd[1], "the pipe", NCH, HEADER, budget, err, sizeof err);
        assert_non_null(w);
        assert_int_equal(writer_resumed(w), 0);
        for (int i = 0; i < NCH; i++) {
            assert_int_equal(
                writer_put(w, order[i], f->chunk[order[i]], f->len[order[i]], "m", err, sizeof err),
                0);
            writer_stats_t st;
            writer_get_stats(w, &st);
            assert_true(st.held_bytes <= budget);
        }
        writer_stats_t st;
        writer_get_stats(w, &st);
        assert_int_equal(st.written, NCH);
        assert_int_equal(st.out_bytes, f->expect_len);
        if (budget == 0 && order[0] != 0) assert_true(st.spool_bytes > 0);
        assert_int_equal(writer_commit(w, err, sizeof err), 0);
        writer_close(&w, false);
        /* The descriptor is still ours: a write goes through. */
        assert_int_equal(write(pfd[1], "", 0), 0);
        close(pfd[1]);
        int wst;
        assert_int_equal(waitpid(pid, &wst, 0), pid);
        assert_true(WIFEXITED(wst) && WEXITSTATUS(wst) == 0);
        check_output(f);
        assert_int_equal(dir_entries(f->dir), 1); /* out.csv, written by the reader */
        unlink(f->path);
    }
}

/* A stream is never unlinked nor truncated, even when the job fails: here
 * the "stream" is a regular file opened by the caller. A write error names
 * the stream. */
static void test_stream_failure_keeps_target(void **state) {
    fx_t *f = *state;
    char err[256];
    FILE *t = fopen(f->path, "w");
    assert_non_null(t);
    writer_t *w = writer_open_stream(fileno(t), f->path, NCH, HEADER, 0, err, sizeof err);
    assert_non_null(w);
    assert_int_equal(writer_put(w, 0, f->chunk[0], f->len[0], NULL, err, sizeof err), 0);
    assert_int_equal(writer_put(w, 3, f->chunk[3], f->len[3], NULL, err, sizeof err), 0);
    assert_int_equal(writer_commit(w, err, sizeof err), -1);
    writer_close(&w, false);
    assert_true(exists(f->path));
    fclose(t);
    assert_int_equal(dir_entries(f->dir), 1);

    int full = open("/dev/full", O_WRONLY);
    if (full >= 0) {
        w = writer_open_stream(full, "/dev/full", 2, NULL, 0, err, sizeof err);
        assert_non_null(w);
        assert_int_equal(writer_put(w, 0, "x\n", 2, NULL, err, sizeof err), -1);
        assert_non_null(strstr(err, "/dev/full: cannot write"));
        writer_close(&w, false);
        close(full);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_random_orders, setup, teardown),
        cmocka_unit_test_setup_teardown(test_spools_past_budget, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rejects_bad_puts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failure_leaves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resume, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_keep_spools_held, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stream_pipe_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stream_failure_keeps_target, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
