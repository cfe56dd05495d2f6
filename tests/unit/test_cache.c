/* Unit tests for worker/cache: context replacement, shard store and lookup,
 * job eviction, byte limit, and that held entries outlive eviction with their
 * derived state freed exactly once by its destructor. Also the op table's
 * fallbacks (worker/ops). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/proto.h"
#include "worker/cache.h"
#include "worker/ops.h"

#include <stdlib.h>
#include <string.h>

static blob_t *str_blob(const char *s) {
    return blob_copy(s, strlen(s));
}

static int put_shard(cache_t *c, uint32_t job, uint32_t shard, const char *s) {
    blob_t *b = str_blob(s);
    int rc = cache_put_shard(c, job, shard, b);
    blob_unref(&b);
    return rc;
}

static int put_context(cache_t *c, uint32_t job, const char *s) {
    blob_t *b = str_blob(s);
    int rc = cache_put_context(c, job, b);
    blob_unref(&b);
    return rc;
}

static void expect_context(cache_t *c, uint32_t job, const char *want) {
    blob_t *b = cache_get_context(c, job);
    if (!want) {
        assert_null(b);
        return;
    }
    assert_non_null(b);
    assert_int_equal(b->len, strlen(want));
    assert_memory_equal(b->data, want, b->len);
    blob_unref(&b);
}

static void expect_shard(cache_t *c, uint32_t job, uint32_t shard, const char *want) {
    cache_entry_t *e = cache_acquire(c, job, shard);
    if (!want) {
        assert_null(e);
        return;
    }
    assert_non_null(e);
    size_t len;
    const void *d = cache_entry_data(e, &len);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(d, want, len);
    cache_release(&e);
    assert_null(e);
}

static void test_context_replace(void **state) {
    cache_t *c = cache_new(2, 0);
    assert_non_null(c);
    expect_context(c, 1, NULL);
    assert_int_equal(put_context(c, 1, "ctx-a"), 0);
    expect_context(c, 1, "ctx-a");
    assert_int_equal(put_context(c, 1, "ctx-b"), 0);
    expect_context(c, 1, "ctx-b");
    expect_context(c, 2, NULL);
    cache_stats_t st;
    cache_get_stats(c, &st);
    assert_int_equal(st.jobs, 1);
    cache_destroy(&c);
    assert_null(c);
}

static void test_shard_store_lookup(void **state) {
    cache_t *c = cache_new(2, 0);
    assert_int_equal(put_shard(c, 7, 0, "zero"), 0);
    assert_int_equal(put_shard(c, 7, 1, "one"), 0);
    assert_int_equal(put_shard(c, 8, 0, "other job"), 0);
    expect_shard(c, 7, 0, "zero");
    expect_shard(c, 7, 1, "one");
    expect_shard(c, 8, 0, "other job");
    expect_shard(c, 7, 2, NULL);
    expect_shard(c, 9, 0, NULL);
    /* A new copy replaces the old one. */
    assert_int_equal(put_shard(c, 7, 1, "uno"), 0);
    expect_shard(c, 7, 1, "uno");
    cache_stats_t st;
    cache_get_stats(c, &st);
    assert_int_equal(st.shards, 3);
    assert_int_equal(st.bytes, strlen("zero") + strlen("uno") + strlen("other job"));
    assert_int_equal(st.evicted, 1);
    cache_destroy(&c);
}

static void test_job_eviction(void **state) {
    cache_t *c = cache_new(2, 0);
    put_context(c, 1, "c1");
    put_shard(c, 1, 0, "j1s0");
    put_shard(c, 2, 0, "j2s0");
    /* Touch job 1 so that job 2 is the least recently used. */
    expect_shard(c, 1, 0, "j1s0");
    put_shard(c, 3, 5, "j3s5");
    expect_shard(c, 2, 0, NULL);
    expect_shard(c, 1, 0, "j1s0");
    expect_context(c, 1, "c1");
    expect_shard(c, 3, 5, "j3s5");
    /* A context for a fourth job evicts job 1 (3 was used last). */
    expect_shard(c, 3, 5, "j3s5");
    put_context(c, 4, "c4");
    expect_context(c, 1, NULL);
    expect_shard(c, 1, 0, NULL);
    expect_shard(c, 3, 5, "j3s5");
    cache_stats_t st;
    cache_get_stats(c, &st);
    assert_int_equal(st.jobs, 2);
    assert_int_equal(st.shards, 1);
    cache_clear(c);
    cache_get_stats(c, &st);
    assert_int_equal(st.jobs, 0);
    assert_int_equal(st.shards, 0);
    assert_int_equal(st.bytes, 0);
    expect_context(c, 4, NULL);
    cache_destroy(&c);
}

static void test_byte_limit(void **state) {
    cache_t *c = cache_new(2, 10);
    put_shard(c, 1, 0, "aaaa");
    put_shard(c, 1, 1, "bbbb");
    expect_shard(c, 1, 0, "aaaa"); /* shard 1 is now the least recently used */
    put_shard(c, 1, 2, "cccc");
    expect_shard(c, 1, 1, NULL);
    expect_shard(c, 1, 0, "aaaa");
    expect_shard(c, 1, 2, "cccc");
    /* One shard over the limit alone is kept (the task needs it). */
    put_shard(c, 1, 3, "0123456789abcdef");
    expect_shard(c, 1, 3, "0123456789abcdef");
    cache_stats_t st;
    cache_get_stats(c, &st);
    assert_int_equal(st.shards, 1);
    cache_destroy(&c);
}

static int freed;
static void free_state(void *p) {
    freed++;
    free(p);
}

static void test_refcount_and_destructor(void **state) {
    cache_t *c = cache_new(1, 0);
    put_shard(c, 1, 0, "data");
    cache_entry_t *held = cache_acquire(c, 1, 0);
    assert_non_null(held);
    cache_entry_lock(held);
    assert_null(cache_entry_state(held));
    int *derived = malloc(sizeof *derived);
    assert_non_null(derived);
    *derived = 42;
    cache_entry_set_state(held, derived, free_state);
    cache_entry_unlock(held);

    /* A second holder sees the same derived state. */
    cache_entry_t *again = cache_acquire(c, 1, 0);
    assert_ptr_equal(again, held);
    assert_int_equal(*(int *)cache_entry_state(again), 42);
    cache_release(&again);

    /* Replacing the state frees the old one. */
    int *d2 = malloc(sizeof *d2);
    assert_non_null(d2);
    *d2 = 43;
    freed = 0;
    cache_entry_set_state(held, d2, free_state);
    assert_int_equal(freed, 1);

    /* Job 2 evicts job 1 (max 1 job), but our hold keeps bytes and state. */
    freed = 0;
    put_shard(c, 2, 0, "new job");
    expect_shard(c, 1, 0, NULL);
    size_t len;
    const void *d = cache_entry_data(held, &len);
    assert_int_equal(len, 4);
    assert_memory_equal(d, "data", 4);
    assert_int_equal(*(int *)cache_entry_state(held), 43);
    assert_int_equal(freed, 0);
    cache_release(&held);
    assert_int_equal(freed, 1);

    /* Destroying the cache while an entry is held: the entry lives on. */
    cache_entry_t *last = cache_acquire(c, 2, 0);
    cache_entry_set_state(last, malloc(8), free_state);
    freed = 0;
    cache_destroy(&c);
    assert_int_equal(freed, 0);
    d = cache_entry_data(last, &len);
    assert_memory_equal(d, "new job", len);
    cache_release(&last);
    assert_int_equal(freed, 1);
}

static void test_ops_table(void **state) {
    assert_non_null(ops_lookup(OP_NOOP));
    assert_non_null(ops_lookup(OP_SLEEP));
    assert_null(ops_lookup(0));
    assert_null(ops_lookup(OP_MAX));
    assert_null(ops_lookup(999));
    assert_string_equal(ops_name(OP_TRON), "tron");
    assert_string_equal(ops_name(999), "op?");

    int cancel = 0;
    uint64_t rows = 0;
    op_ctx_t ctx = {.shard = PROTO_NO_SHARD, .cancel = &cancel, .rows = &rows};
    blob_t *res = (blob_t *)1;
    char err[128];
    const op_def_t *sleep = ops_lookup(OP_SLEEP);
    uint8_t body[4];
    proto_put_u32(body, 20);
    assert_int_equal(sleep->fn(&ctx, body, 4, &res, err, sizeof err), 0);
    assert_null(res);
    assert_int_equal(sleep->fn(&ctx, body, 3, &res, err, sizeof err), PROTO_ERR_DATA);
    /* Cancelled: returns at once even for an hour-long sleep. */
    cancel = 1;
    proto_put_u32(body, 3600u * 1000u);
    assert_int_equal(sleep->fn(&ctx, body, 4, &res, err, sizeof err), 0);
    size_t len;
    assert_null(op_shard_data(&ctx, &len));
    assert_int_equal(len, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_context_replace),
        cmocka_unit_test(test_shard_store_lookup),
        cmocka_unit_test(test_job_eviction),
        cmocka_unit_test(test_byte_limit),
        cmocka_unit_test(test_refcount_and_destructor),
        cmocka_unit_test(test_ops_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
