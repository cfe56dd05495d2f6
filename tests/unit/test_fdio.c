/* Unit tests for common/fdio: a write larger than a pipe's buffer into a
 * non-blocking pipe arrives whole and in order (the EAGAIN path waits for
 * the reader), and pwrite at an offset leaves the rest of a file alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fdio.h"

#define BIG (1u << 20) /* 16 times a pipe's default 64 KB */

typedef struct {
    int fd;
    unsigned char *got;
    size_t n;
} reader_t;

static void *reader(void *p) {
    reader_t *r = p;
    for (;;) {
        usleep(r->n < BIG / 2 ? 1000 : 0); /* slow at first: the writer fills the pipe */
        ssize_t k = read(r->fd, r->got + r->n, BIG - r->n);
        if (k <= 0) break;
        r->n += (size_t)k;
    }
    return NULL;
}

static void test_nonblocking_pipe(void **state) {
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    assert_int_equal(fcntl(p[1], F_SETFL, fcntl(p[1], F_GETFL) | O_NONBLOCK), 0);
    unsigned char *buf = malloc(BIG);
    reader_t r = {.fd = p[0], .got = malloc(BIG)};
    assert_non_null(buf);
    assert_non_null(r.got);
    for (size_t i = 0; i < BIG; i++)
        buf[i] = (unsigned char)(i * 131 + i / 251);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, reader, &r), 0);
    assert_int_equal(fd_write_all(p[1], buf, BIG), 0);
    close(p[1]);
    pthread_join(t, NULL);
    close(p[0]);
    assert_int_equal(r.n, BIG);
    assert_memory_equal(r.got, buf, BIG);
    free(buf);
    free(r.got);
}

static void test_pwrite_offset(void **state) {
    (void)state;
    char path[] = "/tmp/test_fdio.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    assert_int_equal(fd_write_all(fd, "0123456789", 10), 0);
    assert_int_equal(fd_pwrite_all(fd, "abc", 3, 4), 0);
    assert_int_equal(fd_pwrite_all(fd, "XY", 2, 12), 0); /* past the end: a hole */
    char got[14];
    assert_int_equal(pread(fd, got, sizeof got, 0), 14);
    assert_memory_equal(got, "0123abc789\0\0XY", 14);
    /* the descriptor's own offset did not move with pwrite */
    assert_int_equal(lseek(fd, 0, SEEK_CUR), 10);
    close(fd);
}

static void test_bad_fd(void **state) {
    (void)state;
    assert_int_equal(fd_write_all(-1, "x", 1), -1);
    assert_int_equal(fd_pwrite_all(-1, "x", 1, 0), -1);
    assert_int_equal(fd_write_all(-1, "", 0), 0); /* nothing to write */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nonblocking_pipe),
        cmocka_unit_test(test_pwrite_offset),
        cmocka_unit_test(test_bad_fd),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
