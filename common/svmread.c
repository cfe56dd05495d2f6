/* svmread: see svmread.h. Each line is copied into a NUL-terminated scratch
 * buffer so that strtod/strtol see what liblinear's own reader sees. */
#include "common/svmread.h"

#include "common/csvread.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct svmread_buf {
    char *line;
    size_t line_cap;
    struct feature_node *x;
    size_t x_cap;
} svmread_buf_t;

static int svmread_wrong(const char *file, uint64_t line, const char *what, char *err,
                         size_t errlen) {
    snprintf(err, errlen, "%s:%llu: Wrong input format at line %llu: %s", file,
             (unsigned long long)line, (unsigned long long)line, what);
    return -1;
}

/* Tokenizes like liblinear: label = strtok(" \t\n"), then idx = strtok(":"),
 * val = strtok(" \t") until val is NULL. */
static int svmread_line(const char *file, svmread_buf_t *b, uint64_t line, svmread_row_fn fn,
                        void *ctx, char *err, size_t errlen) {
    char *save = NULL;
    char *label = strtok_r(b->line, " \t\n", &save);
    if (!label)
        return svmread_wrong(file, line, "empty line", err, errlen);
    char *endp;
    errno = 0;
    double y = strtod(label, &endp);
    if (endp == label || *endp != '\0')
        return svmread_wrong(file, line, "the label is not a number", err, errlen);
    if (!isfinite(y) || y <= (double)INT_MIN - 1.0 || y >= (double)INT_MAX + 1.0)
        return svmread_wrong(file, line, "the label is out of range", err, errlen);
    size_t n = 0;
    int max_index = 0;
    for (;;) {
        char *idx = strtok_r(NULL, ":", &save);
        char *val = strtok_r(NULL, " \t", &save);
        if (!val)
            break;
        errno = 0;
        long index = strtol(idx, &endp, 10);
        if (endp == idx || errno != 0 || *endp != '\0')
            return svmread_wrong(file, line, "bad feature index", err, errlen);
        if (index <= max_index) {
            char what[96];
            if (index <= 0)
                snprintf(what, sizeof what, "feature index %ld is not positive", index);
            else
                snprintf(what, sizeof what, "feature index %ld is not ascending", index);
            return svmread_wrong(file, line, what, err, errlen);
        }
        if (index > INT_MAX - 2)
            return svmread_wrong(file, line, "feature index too large", err, errlen);
        max_index = (int)index;
        errno = 0;
        double v = strtod(val, &endp);
        if (endp == val || errno != 0 || (*endp != '\0' && !isspace((unsigned char)*endp)) ||
            !isfinite(v))
            return svmread_wrong(file, line, "bad feature value", err, errlen);
        if (n == b->x_cap) {
            size_t ncap = b->x_cap ? b->x_cap * 2 : 64;
            struct feature_node *nx = realloc(b->x, ncap * sizeof *nx);
            if (!nx) {
                snprintf(err, errlen, "%s: out of memory", file);
                return -1;
            }
            b->x = nx;
            b->x_cap = ncap;
        }
        b->x[n].index = (int)index;
        b->x[n].value = v;
        n++;
    }
    return fn(ctx, (int)y, b->x, n, line, err, errlen);
}

int svmread_parse(const char *file, const char *bytes, size_t len, uint64_t first_line,
                  svmread_row_fn fn, void *ctx, char *err, size_t errlen) {
    svmread_buf_t b = {0};
    int rc = -1;
    if (csvread_check_nul(file, bytes, len, first_line, err, errlen) != 0)
        goto out;
    const char *cur = bytes, *end = bytes + len;
    uint64_t line = first_line;
    while (cur < end) {
        const char *nl = memchr(cur, '\n', (size_t)(end - cur));
        const char *stop = nl ? nl + 1 : end;
        size_t n = (size_t)(stop - cur);
        if (n + 1 > b.line_cap) {
            size_t ncap = b.line_cap ? b.line_cap : 1024;
            while (n + 1 > ncap)
                ncap *= 2;
            char *nb = realloc(b.line, ncap);
            if (!nb) {
                snprintf(err, errlen, "%s: out of memory", file);
                goto out;
            }
            b.line = nb;
            b.line_cap = ncap;
        }
        memcpy(b.line, cur, n);
        b.line[n] = '\0';
        if (svmread_line(file, &b, line, fn, ctx, err, errlen) != 0)
            goto out;
        line++;
        cur = stop;
    }
    rc = 0;
out:
    free(b.line);
    free(b.x);
    return rc;
}
