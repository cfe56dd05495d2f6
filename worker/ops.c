#include "worker/ops.h"

#include "common/proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* Common symbols on purpose (see ops.h): a real definition in op_NAME.c wins
 * and is pulled from the archive; without one they are zero-filled. */
op_def_t op_summary_def __attribute__((common));
op_def_t op_tron_def __attribute__((common));
op_def_t op_predict_def __attribute__((common));
op_def_t op_train_def __attribute__((common));
op_def_t op_export_def __attribute__((common));
op_def_t op_classes_def __attribute__((common));

static int op_noop(op_ctx_t *ctx, const void *body, size_t len, blob_t **result, char *err,
                   size_t errlen) {
    *result = NULL;
    return 0;
}

/* Sleeps in 10 ms steps so that a CANCEL stops it promptly. */
static int op_sleep(op_ctx_t *ctx, const void *body, size_t len, blob_t **result, char *err,
                    size_t errlen) {
    *result = NULL;
    if (len != 4) {
        snprintf(err, errlen, "sleep: body is %zu bytes, want 4", len);
        return PROTO_ERR_DATA;
    }
    uint32_t ms = proto_get_u32(body);
    if (ms > 3600u * 1000u) {
        snprintf(err, errlen, "sleep: %u ms is over an hour", ms);
        return PROTO_ERR_DATA;
    }
    while (ms > 0 && !op_cancelled(ctx)) {
        uint32_t step = ms < 10 ? ms : 10;
        struct timespec ts = {0, (long)step * 1000000L};
        nanosleep(&ts, NULL);
        ms -= step;
    }
    return 0;
}

/* Test seams: NC_TEST_TRON_DELAY_MS stretches every training task (OP_TRON,
 * OP_CLASSES), NC_TEST_PREDICT_DELAY_MS every OP_PREDICT, so that end-to-end
 * tests can stop a process in the middle of a job. Read once; never set in
 * production. */
void op_test_delay(op_ctx_t *ctx, op_delay_t which) {
    static int ms[2] = {-1, -1};
    static const char *const names[2] = {"NC_TEST_TRON_DELAY_MS", "NC_TEST_PREDICT_DELAY_MS"};
    int k = which == OP_DELAY_PREDICT;
    if (__atomic_load_n(&ms[k], __ATOMIC_RELAXED) < 0) {
        const char *e = getenv(names[k]);
        int v = e ? atoi(e) : 0;
        __atomic_store_n(&ms[k], v > 0 && v < 10000 ? v : 0, __ATOMIC_RELAXED);
    }
    for (int left = __atomic_load_n(&ms[k], __ATOMIC_RELAXED); left > 0 && !op_cancelled(ctx);
         left -= 10) {
        struct timespec ts = {0, 10L * 1000000L};
        nanosleep(&ts, NULL);
    }
}

static const op_def_t noop_def = {.name = "noop", .fn = op_noop, .needs = OP_INLINE};
static const op_def_t sleep_def = {.name = "sleep", .fn = op_sleep};

const op_def_t *ops_lookup(uint16_t op) {
    const op_def_t *d = NULL;
    switch (op) {
    case OP_NOOP:
        d = &noop_def;
        break;
    case OP_SLEEP:
        d = &sleep_def;
        break;
    case OP_SUMMARY:
        d = &op_summary_def;
        break;
    case OP_TRON:
        d = &op_tron_def;
        break;
    case OP_PREDICT:
        d = &op_predict_def;
        break;
    case OP_TRAIN:
        d = &op_train_def;
        break;
    case OP_CLASSES:
        d = &op_classes_def;
        break;
    case OP_EXPORT:
        d = &op_export_def;
        break;
    default:
        return NULL;
    }
    return d->fn ? d : NULL;
}

const char *ops_name(uint16_t op) {
    static const char *const names[OP_MAX] = {
        [OP_NOOP] = "noop",     [OP_SLEEP] = "sleep",     [OP_SUMMARY] = "summary",
        [OP_TRON] = "tron",     [OP_PREDICT] = "predict", [OP_TRAIN] = "train",
        [OP_EXPORT] = "export", [OP_CLASSES] = "classes",
    };
    return op < OP_MAX && names[op] ? names[op] : "op?";
}

const void *op_shard_data(const op_ctx_t *ctx, size_t *len) {
    if (!ctx->entry) {
        *len = 0;
        return NULL;
    }
    return cache_entry_data(ctx->entry, len);
}
