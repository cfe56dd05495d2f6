/* svmread_ref: the reference libsvm reader for differential tests.
 *
 * A line-for-line transcription of liblinear 2.30's read_problem() loop
 * (strtok on a NUL-terminated copy of each line, strtod/strtol with its
 * checks), plus the finiteness and range checks common/svmread.h promises.
 * common/svmread.c parses in place with fast paths; tests and fuzzers feed
 * both the same bytes and require the same rows, labels, values (bit for bit)
 * and errors. Slow on purpose: keep it obviously right, never optimise it. */
#ifndef NC_SVMREAD_REF_H
#define NC_SVMREAD_REF_H

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/svmread.h"
#include "tests/oracle/oracle_log.h"

static int svmref_wrong(const char *file, uint64_t line, const char *what, char *err,
                        size_t errlen) {
    snprintf(err, errlen, "%s:%llu: Wrong input format at line %llu: %s", file,
             (unsigned long long)line, (unsigned long long)line, what);
    return -1;
}

static int svmref_line(const char *file, char *buf, struct feature_node **x, size_t *xcap,
                       uint64_t line, svmread_row_fn fn, void *ctx, char *err, size_t errlen) {
    char *save = NULL;
    char *label = strtok_r(buf, " \t\n", &save);
    if (!label) return svmref_wrong(file, line, "empty line", err, errlen);
    char *endp;
    double y = strtod(label, &endp);
    if (endp == label || *endp != '\0')
        return svmref_wrong(file, line, "the label is not a number", err, errlen);
    if (!isfinite(y) || y <= (double)INT_MIN - 1.0 || y >= (double)INT_MAX + 1.0)
        return svmref_wrong(file, line, "the label is out of range", err, errlen);
    size_t n = 0;
    int max_index = 0;
    for (;;) {
        char *idx = strtok_r(NULL, ":", &save);
        char *val = strtok_r(NULL, " \t", &save);
        if (!val) break;
        errno = 0;
        long index = strtol(idx, &endp, 10);
        if (endp == idx || errno != 0 || *endp != '\0')
            return svmref_wrong(file, line, "bad feature index", err, errlen);
        if (index <= max_index) {
            char what[96];
            snprintf(what, sizeof what, "feature index %ld is not %s", index,
                     index <= 0 ? "positive" : "ascending");
            return svmref_wrong(file, line, what, err, errlen);
        }
        if (index > INT_MAX - 2)
            return svmref_wrong(file, line, "feature index too large", err, errlen);
        max_index = (int)index;
        errno = 0;
        double v = strtod(val, &endp);
        if (endp == val || errno != 0 || (*endp != '\0' && !isspace((unsigned char)*endp)) ||
            !isfinite(v))
            return svmref_wrong(file, line, "bad feature value", err, errlen);
        if (n == *xcap) {
            size_t ncap = *xcap ? *xcap * 2 : 64;
            struct feature_node *nx = realloc(*x, ncap * sizeof *nx);
            if (!nx) {
                snprintf(err, errlen, "%s: out of memory", file);
                return -1;
            }
            *x = nx;
            *xcap = ncap;
        }
        (*x)[n].index = (int)index;
        (*x)[n].value = v;
        n++;
    }
    return fn(ctx, (int)y, *x, n, line, err, errlen);
}

/* Same contract as svmread_parse(), NUL check included. */
static int svmread_ref_parse(const char *file, const char *bytes, size_t len, uint64_t first_line,
                             svmread_row_fn fn, void *ctx, char *err, size_t errlen) {
    const char *z = memchr(bytes, '\0', len);
    if (z) {
        uint64_t line = first_line;
        const char *ls = bytes;
        for (const char *p = bytes; p < z; p++)
            if (*p == '\n') {
                line++;
                ls = p + 1;
            }
        snprintf(err, errlen, "%s:%llu:%zu: NUL byte in the data (is this a text file?)", file,
                 (unsigned long long)line, (size_t)(z - ls) + 1);
        return -1;
    }
    struct feature_node *x = NULL;
    size_t xcap = 0;
    int rc = 0;
    uint64_t line = first_line;
    const char *cur = bytes, *end = bytes + len;
    while (cur < end && rc == 0) {
        const char *nl = memchr(cur, '\n', (size_t)(end - cur));
        const char *stop = nl ? nl + 1 : end;
        size_t n = (size_t)(stop - cur);
        char *buf = malloc(n + 1);
        if (!buf) {
            snprintf(err, errlen, "%s: out of memory", file);
            rc = -1;
            break;
        }
        memcpy(buf, cur, n);
        buf[n] = '\0';
        rc = svmref_line(file, buf, &x, &xcap, line, fn, ctx, err, errlen);
        free(buf);
        line++;
        cur = stop;
    }
    free(x);
    return rc;
}

/* Differential testing: a row callback that appends every row (line,
 * label, node count, nodes as raw bytes) to an oracle_log. */
static int svmref_log_row(void *ctx, int label, const struct feature_node *x, size_t n,
                          uint64_t line, char *err, size_t errlen) {
    oracle_log_t *g = ctx;
    oracle_log_put(g, &line, sizeof line);
    oracle_log_put(g, &label, sizeof label);
    oracle_log_put(g, &n, sizeof n);
    for (size_t i = 0; i < n; i++) {
        oracle_log_put(g, &x[i].index, sizeof x[i].index);
        oracle_log_put(g, &x[i].value, sizeof x[i].value);
    }
    if (g->oom) {
        snprintf(err, errlen, "log: out of memory");
        return -1;
    }
    return 0;
}

/* Runs both readers on the bytes: 0 when they agree on the status, the error
 * text and every row before it; else -1 with a description in why. */
static int svmref_compare(const char *bytes, size_t len, char *why, size_t whylen) {
    oracle_log_t a = {0}, b = {0};
    char ea[512] = "", eb[512] = "";
    int ra = svmread_parse("d.svm", bytes, len, 7, svmref_log_row, &a, ea, sizeof ea);
    int rb = svmread_ref_parse("d.svm", bytes, len, 7, svmref_log_row, &b, eb, sizeof eb);
    int rc = 0;
    if (ra != rb)
        snprintf(why, whylen, "status %d, reference %d (%s | %s)", ra, rb, ea, eb), rc = -1;
    else if (ra != 0 && strcmp(ea, eb) != 0)
        snprintf(why, whylen, "error \"%s\", reference \"%s\"", ea, eb), rc = -1;
    else if (!oracle_log_same(&a, &b))
        snprintf(why, whylen, "rows differ (%zu vs %zu bytes of log)", a.len, b.len), rc = -1;
    oracle_log_free(&a);
    oracle_log_free(&b);
    return rc;
}

#endif
