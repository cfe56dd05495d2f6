/* Unit tests for common/blob: a received ZeroMQ message taken over as a blob
 * keeps its bytes (large ones in place, small ones that live inside the
 * zmq_msg_t too), leaves the message empty, and is freed with its last
 * reference (ASan's leak check); copies and wraps still free with free(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "common/blob.h"

static void take(size_t len) {
    zmq_msg_t m;
    assert_int_equal(zmq_msg_init_size(&m, len), 0);
    unsigned char *p = zmq_msg_data(&m);
    for (size_t i = 0; i < len; i++)
        p[i] = (unsigned char)(i * 7 + 3);
    void *where = zmq_msg_data(&m);
    blob_t *b = blob_take_msg(&m);
    assert_non_null(b);
    assert_int_equal(b->len, len);
    assert_int_equal(zmq_msg_size(&m), 0);          /* the message gave its bytes away */
    if (len > 64) assert_ptr_equal(b->data, where); /* not copied */
    for (size_t i = 0; i < len; i++)
        assert_int_equal(((unsigned char *)b->data)[i], (unsigned char)(i * 7 + 3));
    zmq_msg_close(&m);
    blob_t *r = blob_ref(b);
    blob_unref(&b);
    assert_null(b);
    assert_int_equal(((unsigned char *)r->data)[len / 2], (unsigned char)((len / 2) * 7 + 3));
    blob_unref(&r);
}

static void test_take_large(void **state) {
    (void)state;
    take(1 << 20);
}

static void test_take_small(void **state) {
    (void)state;
    take(20); /* ZeroMQ keeps up to 33 bytes inside the zmq_msg_t */
    take(1);
}

static void test_copy_and_wrap(void **state) {
    (void)state;
    blob_t *c = blob_copy("abc", 3);
    assert_non_null(c);
    assert_memory_equal(c->data, "abc", 3);
    assert_null(c->zmsg);
    blob_unref(&c);
    char *p = malloc(5);
    memcpy(p, "hello", 5);
    blob_t *w = blob_wrap(p, 5);
    assert_ptr_equal(w->data, p);
    blob_unref(&w);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_take_large),
        cmocka_unit_test(test_take_small),
        cmocka_unit_test(test_copy_and_wrap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
