/* libFuzzer target: the job context a worker receives with its first task
 * (jobctx_decode). What decodes must encode, and the encoding must decode to
 * a context that encodes to the same bytes again. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/jobctx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char err[512];
    jobctx_t *c = jobctx_decode(data, size, err, sizeof err);
    if (!c) return 0;
    void *b1 = NULL, *b2 = NULL;
    size_t l1 = 0, l2 = 0;
    if (jobctx_encode(c, &b1, &l1) != 0) abort();
    jobctx_t *d = jobctx_decode(b1, l1, err, sizeof err);
    if (!d) abort();
    if (jobctx_encode(d, &b2, &l2) != 0) abort();
    if (l1 != l2 || memcmp(b1, b2, l1) != 0) abort();
    free(b1);
    free(b2);
    jobctx_destroy(&d);
    jobctx_destroy(&c);
    return 0;
}
