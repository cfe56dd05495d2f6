/* classmsg: OP_CLASSES bodies and results (see classmsg.h). */
#include "common/classmsg.h"

#include "common/buf.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REQ_CLASS 12 /* u32 cls, f64 eps */
#define RES_HEAD 32  /* u32 cls iters cg stop, f64 f gnorm */

/* Classes below the cap and each named once (a bitmap of seen classes). */
static int check_classes(const uint32_t *cls, size_t stride, size_t count, char *err,
                         size_t errlen) {
    uint64_t *seen = calloc(CLASSMSG_MAX_CLS / 64, sizeof *seen);
    if (!seen) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < count; i++) {
        uint32_t c = *(const uint32_t *)(const void *)((const char *)cls + i * stride);
        if (c >= CLASSMSG_MAX_CLS || (seen[c / 64] >> (c % 64)) & 1) {
            snprintf(err, errlen, "classes message: class %u out of range or named twice", c);
            rc = -1;
            break;
        }
        seen[c / 64] |= 1ull << (c % 64);
    }
    free(seen);
    return rc;
}

blob_t *classmsg_encode_req(uint32_t n, const classmsg_class_t *cls, size_t count, char *err,
                            size_t errlen) {
    if (n == 0 || n > CLASSMSG_MAX_N || count == 0 || count > CLASSMSG_MAX_CLS) {
        snprintf(err, errlen, "classes request: n=%u, %zu classes", n, count);
        return NULL;
    }
    for (size_t i = 0; i < count; i++)
        if (!(cls[i].eps > 0) || !isfinite(cls[i].eps)) {
            snprintf(err, errlen, "classes request: class %u eps %g", cls[i].cls, cls[i].eps);
            return NULL;
        }
    if (check_classes(&cls[0].cls, sizeof *cls, count, err, errlen) < 0) return NULL;
    buf_t b = {0};
    buf_grow(&b, 12 + REQ_CLASS * count);
    buf_put_u32(&b, CLASSMSG_REQ_MAGIC);
    buf_put_u32(&b, n);
    buf_put_u32(&b, (uint32_t)count);
    for (size_t i = 0; i < count; i++) {
        buf_put_u32(&b, cls[i].cls);
        buf_put_f64(&b, cls[i].eps);
    }
    return blob_from_buf(&b, "classes message", err, errlen);
}

/* Both messages begin u32 magic, u32 n, u32 count: false (err set) when
 * the magic is not want or the bytes end first. */
static bool read_head(bufrd_t *r, uint32_t want, const char *what, size_t len, uint32_t *n,
                      uint32_t *count, char *err, size_t errlen) {
    uint32_t magic = bufrd_u32(r);
    *n = bufrd_u32(r);
    *count = bufrd_u32(r);
    if (!r->bad && magic == want) return true;
    snprintf(err, errlen, "%s: bad magic or %zu bytes is too short", what, len);
    return false;
}

int classmsg_decode_req(const void *buf, size_t len, classmsg_req_t *out, char *err,
                        size_t errlen) {
    memset(out, 0, sizeof *out);
    bufrd_t r = bufrd_init(buf, len);
    uint32_t n, count;
    if (!read_head(&r, CLASSMSG_REQ_MAGIC, "classes request", len, &n, &count, err, errlen))
        return -1;
    if (n == 0 || n > CLASSMSG_MAX_N || count == 0 || count > CLASSMSG_MAX_CLS ||
        bufrd_left(&r) != (size_t)count * REQ_CLASS) {
        snprintf(err, errlen, "classes request: n=%u, %u classes in %zu bytes", n, count, len);
        return -1;
    }
    out->cls = calloc(count, sizeof *out->cls);
    if (!out->cls) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    out->n = n;
    out->count = count;
    for (size_t i = 0; i < count; i++) {
        out->cls[i].cls = bufrd_u32(&r);
        out->cls[i].eps = bufrd_f64(&r);
        if (!(out->cls[i].eps > 0) || !isfinite(out->cls[i].eps)) {
            snprintf(err, errlen, "classes request: class %u eps %g", out->cls[i].cls,
                     out->cls[i].eps);
            classmsg_req_free(out);
            return -1;
        }
    }
    if (check_classes(&out->cls[0].cls, sizeof *out->cls, count, err, errlen) < 0) {
        classmsg_req_free(out);
        return -1;
    }
    return 0;
}

void classmsg_req_free(classmsg_req_t *r) {
    if (!r) return;
    free(r->cls);
    memset(r, 0, sizeof *r);
}

blob_t *classmsg_encode_res(uint32_t n, const classmsg_ans_t *ans, size_t count, char *err,
                            size_t errlen) {
    if (n == 0 || n > CLASSMSG_MAX_N || count > CLASSMSG_MAX_CLS) {
        snprintf(err, errlen, "classes result: n=%u, %zu classes", n, count);
        return NULL;
    }
    for (size_t i = 0; i < count; i++)
        if (!ans[i].w) {
            snprintf(err, errlen, "classes result: class %u has no weights", ans[i].cls);
            return NULL;
        }
    if (count && check_classes(&ans[0].cls, sizeof *ans, count, err, errlen) < 0) return NULL;
    buf_t b = {0};
    buf_grow(&b, 12 + count * (RES_HEAD + 8 * (size_t)n));
    buf_put_u32(&b, CLASSMSG_RES_MAGIC);
    buf_put_u32(&b, n);
    buf_put_u32(&b, (uint32_t)count);
    for (size_t i = 0; i < count; i++) {
        const classmsg_ans_t *a = &ans[i];
        buf_put_u32(&b, a->cls);
        buf_put_u32(&b, a->iters);
        buf_put_u32(&b, a->cg);
        buf_put_u32(&b, a->stop);
        buf_put_f64(&b, a->f);
        buf_put_f64(&b, a->gnorm);
        for (uint32_t j = 0; j < n; j++)
            buf_put_f64(&b, a->w[j]);
    }
    return blob_from_buf(&b, "classes message", err, errlen);
}

int classmsg_decode_res(const void *buf, size_t len, classmsg_res_t *out, char *err,
                        size_t errlen) {
    memset(out, 0, sizeof *out);
    bufrd_t r = bufrd_init(buf, len);
    uint32_t n, count;
    if (!read_head(&r, CLASSMSG_RES_MAGIC, "classes result", len, &n, &count, err, errlen))
        return -1;
    size_t each = RES_HEAD + 8 * (size_t)n;
    if (n == 0 || n > CLASSMSG_MAX_N || count > CLASSMSG_MAX_CLS ||
        bufrd_left(&r) / each != count || bufrd_left(&r) % each != 0) {
        snprintf(err, errlen, "classes result: n=%u, %u classes in %zu bytes", n, count, len);
        return -1;
    }
    /* the length check above bounds count * n by the bytes received */
    out->ans = calloc(count ? count : 1, sizeof *out->ans);
    out->store = count ? malloc((size_t)count * n * sizeof *out->store) : NULL;
    if (!out->ans || (count && !out->store)) {
        classmsg_res_free(out);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    out->n = n;
    out->count = count;
    for (size_t i = 0; i < count; i++) {
        classmsg_ans_t *a = &out->ans[i];
        a->cls = bufrd_u32(&r);
        a->iters = bufrd_u32(&r);
        a->cg = bufrd_u32(&r);
        a->stop = bufrd_u32(&r);
        a->f = bufrd_f64(&r);
        a->gnorm = bufrd_f64(&r);
        double *w = out->store + i * (size_t)n;
        for (uint32_t j = 0; j < n; j++)
            w[j] = bufrd_f64(&r);
        a->w = w;
    }
    if (count && check_classes(&out->ans[0].cls, sizeof *out->ans, count, err, errlen) < 0) {
        classmsg_res_free(out);
        return -1;
    }
    return 0;
}

void classmsg_res_free(classmsg_res_t *r) {
    if (!r) return;
    free(r->ans);
    free(r->store);
    memset(r, 0, sizeof *r);
}
