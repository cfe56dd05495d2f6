/* svmread: see svmread.h.
 *
 * Lines are read in place. liblinear cuts a copy of each line with strtok:
 * the label up to one of " \t\n", then in turn an index up to ":" and a value
 * up to " \t". svmread_tok() finds the same tokens without the copy: it skips
 * leading delimiters and stops at the next one, as strtok does. Tokens that
 * are plain decimals, nearly all of them, are converted by a digit loop and
 * csvread_number_fast(), which give what strtol/strtod give; any other token
 * goes to strtod/strtol on a NUL-terminated copy, with liblinear's checks. So
 * every input reads as liblinear reads it, and the tests hold this reader to
 * the strtok one kept in tests/oracle/svmread_ref.h. */
#include "common/svmread.h"

#include "common/csvread.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The delimiters of liblinear's three strtok calls. */
enum { SVMREAD_LABEL, SVMREAD_INDEX, SVMREAD_VALUE };

typedef struct svmread_buf {
    struct feature_node *x;
    size_t x_cap;
    char *tok; /* NUL-terminated copy of an unusual token */
    size_t tok_cap;
} svmread_buf_t;

static inline int svmread_delim(int set, unsigned char c) {
    switch (set) {
    case SVMREAD_LABEL:
        return c == ' ' || c == '\t' || c == '\n';
    case SVMREAD_INDEX:
        return c == ':';
    default:
        return c == ' ' || c == '\t';
    }
}

/* strtok(NULL, set) over [*pos, end): 1 with the next token in [*s, *e) and
 * *pos just past the delimiter that ended it, or 0 when only delimiters
 * remain (then *pos = end, and every later call finds nothing too). */
static inline int svmread_tok(const char **pos, const char *end, int set, const char **s,
                              const char **e) {
    const char *p = *pos;
    while (p < end && svmread_delim(set, (unsigned char)*p))
        p++;
    if (p == end) {
        *pos = end;
        return 0;
    }
    *s = p;
    while (p < end && !svmread_delim(set, (unsigned char)*p))
        p++;
    *e = p;
    *pos = p < end ? p + 1 : end;
    return 1;
}

/* A NUL-terminated copy of [s, e) in b->tok, or NULL when out of memory. */
static char *svmread_copy(svmread_buf_t *b, const char *s, const char *e) {
    size_t n = (size_t)(e - s);
    if (n + 1 > b->tok_cap) {
        size_t ncap = b->tok_cap ? b->tok_cap : 64;
        while (n + 1 > ncap)
            ncap *= 2;
        char *nt = realloc(b->tok, ncap);
        if (!nt) return NULL;
        b->tok = nt;
        b->tok_cap = ncap;
    }
    memcpy(b->tok, s, n);
    b->tok[n] = '\0';
    return b->tok;
}

/* Results of the token converters. */
enum { SVMREAD_OK = 0, SVMREAD_BAD = -1, SVMREAD_NOMEM = -2 };

/* The label token: strtod must take all of it. */
static int svmread_label(svmread_buf_t *b, const char *s, const char *e, double *y) {
    if (csvread_number_fast(s, (size_t)(e - s), y) == 0) return SVMREAD_OK;
    char *t = svmread_copy(b, s, e);
    if (!t) return SVMREAD_NOMEM;
    char *endp;
    *y = strtod(t, &endp);
    return endp != t && *endp == '\0' ? SVMREAD_OK : SVMREAD_BAD;
}

/* An index token: strtol(…, 10) must take all of it without ERANGE. */
static int svmread_index(svmread_buf_t *b, const char *s, const char *e, long *out) {
    if (e - s <= 9) {
        long v = 0;
        const char *p = s;
        while (p < e && *p >= '0' && *p <= '9')
            v = v * 10 + (*p++ - '0');
        if (p == e && p > s) {
            *out = v;
            return SVMREAD_OK;
        }
    }
    char *t = svmread_copy(b, s, e);
    if (!t) return SVMREAD_NOMEM;
    char *endp;
    errno = 0;
    long v = strtol(t, &endp, 10);
    if (endp == t || errno != 0 || *endp != '\0') return SVMREAD_BAD;
    *out = v;
    return SVMREAD_OK;
}

/* A value token: strtod must take a finite number without ERANGE, followed
 * by the token's end or a blank. The token holds no ' ' or '\t'; the line's
 * '\n', when it has one, ends its last token. */
static int svmread_value(svmread_buf_t *b, const char *s, const char *e, double *out) {
    size_t n = (size_t)(e - s);
    if (n && s[n - 1] == '\n') n--;
    if (n && csvread_number_fast(s, n, out) == 0) return SVMREAD_OK;
    char *t = svmread_copy(b, s, e);
    if (!t) return SVMREAD_NOMEM;
    char *endp;
    errno = 0;
    double v = strtod(t, &endp);
    if (endp == t || errno != 0 || (*endp != '\0' && !isspace((unsigned char)*endp)) ||
        !isfinite(v))
        return SVMREAD_BAD;
    *out = v;
    return SVMREAD_OK;
}

static int svmread_wrong(const char *file, uint64_t line, const char *what, char *err,
                         size_t errlen) {
    snprintf(err, errlen, "%s:%llu: Wrong input format at line %llu: %s", file,
             (unsigned long long)line, (unsigned long long)line, what);
    return -1;
}

static int svmread_nomem(const char *file, char *err, size_t errlen) {
    snprintf(err, errlen, "%s: out of memory", file);
    return -1;
}

/* One line [pos, end), its '\n' included when it has one. */
static int svmread_line(const char *file, svmread_buf_t *b, const char *pos, const char *end,
                        uint64_t line, svmread_row_fn fn, void *ctx, char *err, size_t errlen) {
    const char *s, *e;
    if (!svmread_tok(&pos, end, SVMREAD_LABEL, &s, &e))
        return svmread_wrong(file, line, "empty line", err, errlen);
    double y;
    int rc = svmread_label(b, s, e, &y);
    if (rc == SVMREAD_NOMEM) return svmread_nomem(file, err, errlen);
    if (rc != SVMREAD_OK)
        return svmread_wrong(file, line, "the label is not a number", err, errlen);
    if (!isfinite(y) || y <= (double)INT_MIN - 1.0 || y >= (double)INT_MAX + 1.0)
        return svmread_wrong(file, line, "the label is out of range", err, errlen);
    size_t n = 0;
    int max_index = 0;
    for (;;) {
        const char *is, *ie, *vs, *ve;
        /* No index token leaves nothing for a value either: liblinear stops
         * at the first index without a value, whatever follows it. */
        if (!svmread_tok(&pos, end, SVMREAD_INDEX, &is, &ie) ||
            !svmread_tok(&pos, end, SVMREAD_VALUE, &vs, &ve))
            break;
        long index;
        rc = svmread_index(b, is, ie, &index);
        if (rc == SVMREAD_NOMEM) return svmread_nomem(file, err, errlen);
        if (rc != SVMREAD_OK) return svmread_wrong(file, line, "bad feature index", err, errlen);
        if (index <= max_index) {
            char what[96];
            snprintf(what, sizeof what, "feature index %ld is not %s", index,
                     index <= 0 ? "positive" : "ascending");
            return svmread_wrong(file, line, what, err, errlen);
        }
        if (index > INT_MAX - 2)
            return svmread_wrong(file, line, "feature index too large", err, errlen);
        max_index = (int)index;
        double v;
        rc = svmread_value(b, vs, ve, &v);
        if (rc == SVMREAD_NOMEM) return svmread_nomem(file, err, errlen);
        if (rc != SVMREAD_OK) return svmread_wrong(file, line, "bad feature value", err, errlen);
        if (n == b->x_cap) {
            size_t ncap = b->x_cap ? b->x_cap * 2 : 256;
            struct feature_node *nx = realloc(b->x, ncap * sizeof *nx);
            if (!nx) return svmread_nomem(file, err, errlen);
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
    if (csvread_check_nul(file, bytes, len, first_line, err, errlen) != 0) goto out;
    const char *cur = bytes, *end = bytes + len;
    uint64_t line = first_line;
    while (cur < end) {
        const char *nl = memchr(cur, '\n', (size_t)(end - cur));
        const char *stop = nl ? nl + 1 : end;
        if (svmread_line(file, &b, cur, stop, line, fn, ctx, err, errlen) != 0) goto out;
        line++;
        cur = stop;
    }
    rc = 0;
out:
    free(b.x);
    free(b.tok);
    return rc;
}
