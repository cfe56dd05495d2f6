/* csvread: see csvread.h. libcsv does the quoting; this file adds line
 * tracking (by feeding one physical line per csv_parse call), error reports and
 * the number parser. The common lines never reach libcsv, which steps a byte
 * at a time through function pointers: a line without quotes, or one whose
 * quoted fields each close on the line right before a comma or the line end
 * (free text), is cut here with memchr, giving libcsv's fields (the
 * differential test in tests/unit/test_csvread.c and fuzz_csv hold it to
 * that). */
#include "common/csvread.h"

#include "common/utf8.h"

#include <csv.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int csvread_is_space(unsigned char c) {
    return c == ' ' || c == '\t' || c == '\r';
}

static int csvread_is_term(unsigned char c) {
    return c == '\n';
}

typedef struct csvread_run {
    const csvread_cb_t *cb;
    void *ctx;
    const char *file;
    size_t nfields; /* expected, 0 = any */
    size_t col;     /* fields seen in the current record */
    uint64_t rec_line;
    int in_record;
    int failed;
    char *unq; /* a quoted field with doubled quotes, unquoted */
    size_t unq_cap;
    char *err;
    size_t errlen;
} csvread_run_t;

static void csvread_field(csvread_run_t *r, const char *s, size_t len) {
    if (r->failed) return;
    size_t col = r->col++;
    if (r->nfields && col >= r->nfields) return;
    if (r->cb->field &&
        r->cb->field(r->ctx, col, s ? s : "", len, r->rec_line, r->err, r->errlen) != 0)
        r->failed = 1;
}

/* libcsv's field callback. */
static void csvread_on_field(void *s, size_t len, void *data) {
    csvread_field(data, s, len);
}

static void csvread_on_record(int c, void *data) {
    (void)c;
    csvread_run_t *r = data;
    r->in_record = 0;
    if (r->failed) return;
    if (r->nfields && r->col != r->nfields) {
        snprintf(r->err, r->errlen, "%s:%llu: %s fields: %zu, the header has %zu", r->file,
                 (unsigned long long)r->rec_line, r->col > r->nfields ? "too many" : "too few",
                 r->col, r->nfields);
        r->failed = 1;
        return;
    }
    if (r->cb->record && r->cb->record(r->ctx, r->col, r->rec_line, r->err, r->errlen) != 0)
        r->failed = 1;
    r->col = 0;
}

/* The unquoted field [a, b) to the callbacks, trimmed as libcsv trims. */
static void csvread_trimmed_field(csvread_run_t *r, const char *a, const char *b) {
    while (a < b && csvread_is_space((unsigned char)*a))
        a++;
    while (b > a && csvread_is_space((unsigned char)b[-1]))
        b--;
    csvread_field(r, a, (size_t)(b - a));
}

/* One quote-free record line [cur, stop): cuts it at commas and hands each
 * trimmed field to the callbacks where it lies. */
static int csvread_plain_line(csvread_run_t *r, const char *cur, const char *stop) {
    const char *end = stop;
    if (end > cur && end[-1] == '\n') end--;
    r->in_record = 1;
    for (const char *f = cur;; f++) {
        const char *p = f;
        while (p < end && *p != ',')
            p++;
        csvread_trimmed_field(r, f, p);
        if (r->failed) return -1;
        if (p == end) break;
        f = p;
    }
    csvread_on_record('\n', r);
    return r->failed ? -1 : 0;
}

/* The end of the quoted field whose opening quote is at q (q < end): the
 * closing quote, or NULL when the field does not close before end. *esc
 * counts its doubled quotes (""), which stand for one quote each. */
static const char *csvread_close_quote(const char *q, const char *end, size_t *esc) {
    *esc = 0;
    for (const char *p = q + 1;; p += 2) {
        p = memchr(p, '"', (size_t)(end - p));
        if (!p) return NULL;
        if (p + 1 == end || p[1] != '"') return p;
        ++*esc;
    }
}

/* One record line [cur, stop) that holds quotes, cut where libcsv would cut
 * it when every field is either quote-free, or a quoted field that closes
 * on this line right before a comma or the line end ('"', text with no
 * quote but doubled ones, '"'). Then the fields go to the callbacks (a
 * quoted field's text in place when it has no doubled quote, else unquoted
 * into r->unq) and this returns 1; 0 when the line has another shape
 * (spaces around a quoted field, a quote inside an unquoted one, a quoted
 * field holding a line end, ...), with nothing handed over: libcsv then
 * reads the line. -1 when a callback failed or memory ran out. */
static int csvread_quoted_line(csvread_run_t *r, const char *cur, const char *stop) {
    if (stop == cur || stop[-1] != '\n') return 0; /* the last line, unended: libcsv */
    const char *end = stop - 1;
    for (int emit = 0; emit < 2; emit++) {
        if (emit) r->in_record = 1;
        for (const char *f = cur;; f++) {
            const char *p;
            if (f < end && *f == '"') {
                size_t esc;
                const char *q = csvread_close_quote(f, end, &esc);
                if (!q || (q + 1 < end && q[1] != ',')) return 0;
                p = q + 1;
                if (emit && !esc) {
                    csvread_field(r, f + 1, (size_t)(q - f - 1));
                } else if (emit) {
                    size_t n = (size_t)(q - f - 1) - esc;
                    if (n > r->unq_cap) {
                        char *nb = realloc(r->unq, n);
                        if (!nb) {
                            snprintf(r->err, r->errlen, "%s: out of memory", r->file);
                            return -1;
                        }
                        r->unq = nb;
                        r->unq_cap = n;
                    }
                    char *o = r->unq;
                    for (const char *s = f + 1; s < q; s++) {
                        *o++ = *s;
                        if (*s == '"') s++; /* the second quote of a pair */
                    }
                    csvread_field(r, r->unq, n);
                }
            } else {
                p = f;
                while (p < end && *p != ',') {
                    if (*p == '"') return 0; /* the first pass: nothing handed over */
                    p++;
                }
                if (emit) csvread_trimmed_field(r, f, p);
            }
            if (emit && r->failed) return -1;
            if (p == end) break;
            f = p;
        }
    }
    csvread_on_record('\n', r);
    return r->failed ? -1 : 1;
}

static int csvread_blank(const char *p, const char *end) {
    for (; p < end; p++)
        if (!csvread_is_space((unsigned char)*p) && *p != '\n') return 0;
    return 1;
}

int csvread_check_nul(const char *file, const char *bytes, size_t len, uint64_t first_line,
                      char *err, size_t errlen) {
    const char *z = memchr(bytes, '\0', len);
    if (!z) return 0;
    uint64_t line = first_line;
    const char *ls = bytes;
    for (const char *p = bytes; (p = memchr(p, '\n', (size_t)(z - p))) != NULL; p++) {
        line++;
        ls = p + 1;
    }
    snprintf(err, errlen, "%s:%llu:%zu: NUL byte in the data (is this a text file?)", file,
             (unsigned long long)line, (size_t)(z - ls) + 1);
    return -1;
}

/* The line [cur, stop) of file line `line` read without libcsv when it
 * starts a record: a line that holds no quote is split on commas here, with
 * libcsv's trimming (a blank one is skipped), and a line whose quoted fields
 * close on it (free text, most often) is cut with a memchr per quote; libcsv
 * would give the same fields, only a byte at a time through function
 * pointers. Returns 1 when the line was read, 0 when libcsv must read it,
 * -1 when a callback failed. */
static int csvread_fast_line(csvread_run_t *r, const char *cur, const char *stop, uint64_t line) {
    if (r->in_record) return 0;
    if (!memchr(cur, '"', (size_t)(stop - cur))) {
        if (csvread_blank(cur, stop)) return 1;
        r->rec_line = line;
        return csvread_plain_line(r, cur, stop) != 0 ? -1 : 1;
    }
    r->rec_line = line;
    return csvread_quoted_line(r, cur, stop);
}

int csvread_parse(const char *file, const char *bytes, size_t len, uint64_t first_line,
                  size_t nfields, const csvread_cb_t *cb, void *ctx, char *err, size_t errlen) {
    struct csv_parser p;
    int rc = -1;
    int inited = 0;
    csvread_run_t r = {
        .cb = cb, .ctx = ctx, .file = file, .nfields = nfields, .err = err, .errlen = errlen};
    if (csvread_check_nul(file, bytes, len, first_line, err, errlen) != 0) goto out;
    if (csv_init(&p, CSV_APPEND_NULL) != 0) {
        snprintf(err, errlen, "%s: out of memory", file);
        goto out;
    }
    inited = 1;
    csv_set_space_func(&p, csvread_is_space);
    csv_set_term_func(&p, csvread_is_term);
    /* Fields grow the entry buffer by this much at a time; most fit in one. */
    csv_set_blk_size(&p, 256);

    const char *cur = bytes, *end = bytes + len;
    uint64_t line = first_line;
    int last_nl = 0;
    while (cur < end) {
        const char *nl = memchr(cur, '\n', (size_t)(end - cur));
        const char *stop = nl ? nl + 1 : end;
        int fast = csvread_fast_line(&r, cur, stop, line);
        if (fast < 0) goto out;
        if (fast > 0) {
            last_nl = nl != NULL;
            if (nl) line++;
            cur = stop;
            continue;
        }
        /* A record begins on the first line after the previous one ended that
         * is not blank: libcsv skips blank lines before a record. */
        if (!r.in_record && !csvread_blank(cur, stop)) {
            r.in_record = 1;
            r.rec_line = line;
        }
        size_t n = (size_t)(stop - cur);
        if (csv_parse(&p, cur, n, csvread_on_field, csvread_on_record, &r) != n) {
            snprintf(err, errlen, "%s:%llu: %s", file, (unsigned long long)line,
                     csv_strerror(csv_error(&p)));
            goto out;
        }
        if (r.failed) goto out;
        last_nl = nl != NULL;
        if (nl) line++;
        cur = stop;
    }
    if (r.in_record && !last_nl) {
        /* The last record has no line end: give it one, which ends it unless a
         * quoted field is still open. */
        if (csv_parse(&p, "\n", 1, csvread_on_field, csvread_on_record, &r) != 1) {
            snprintf(err, errlen, "%s:%llu: %s", file, (unsigned long long)line,
                     csv_strerror(csv_error(&p)));
            goto out;
        }
        if (r.failed) goto out;
    }
    if (r.in_record) {
        snprintf(err, errlen,
                 "%s:%llu: unterminated quote: a quoted field in the row starting "
                 "here never ends",
                 file, (unsigned long long)r.rec_line);
        goto out;
    }
    rc = 0;
out:
    if (inited) csv_free(&p);
    free(r.unq);
    return rc;
}

typedef struct csvread_names {
    char **v;
    size_t n, cap;
    int failed;
    int records;
} csvread_names_t;

static void csvread_name_field(void *s, size_t len, void *data) {
    csvread_names_t *a = data;
    if (a->failed) return;
    if (a->n == a->cap) {
        size_t ncap = a->cap ? a->cap * 2 : 16;
        char **nv = realloc(a->v, ncap * sizeof *nv);
        if (!nv) {
            a->failed = 1;
            return;
        }
        a->v = nv;
        a->cap = ncap;
    }
    char *c = malloc(len + 1);
    if (!c) {
        a->failed = 1;
        return;
    }
    if (len) memcpy(c, s, len);
    c[len] = '\0';
    a->v[a->n++] = c;
}

static void csvread_name_record(int c, void *data) {
    (void)c;
    csvread_names_t *a = data;
    a->records++;
}

void csvread_names_free(char **names, size_t n) {
    if (!names) return;
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

int csvread_header(const char *file, const char *hdr, size_t len, char ***names, size_t *n,
                   char *err, size_t errlen) {
    struct csv_parser p;
    csvread_names_t a = {0};
    int rc = -1;
    int inited = 0;
    *names = NULL;
    *n = 0;
    if (!hdr || csvread_blank(hdr, hdr + len)) {
        snprintf(err, errlen, "%s:1: empty header row", file);
        goto out;
    }
    if (csvread_check_nul(file, hdr, len, 1, err, errlen) != 0) goto out;
    if (csv_init(&p, 0) != 0) {
        snprintf(err, errlen, "%s: out of memory", file);
        goto out;
    }
    inited = 1;
    csv_set_space_func(&p, csvread_is_space);
    csv_set_term_func(&p, csvread_is_term);
    if (csv_parse(&p, hdr, len, csvread_name_field, csvread_name_record, &a) != len ||
        csv_parse(&p, "\n", 1, csvread_name_field, csvread_name_record, &a) != 1 || a.failed) {
        snprintf(err, errlen, "%s:1: out of memory reading the header", file);
        goto out;
    }
    if (a.records != 1) {
        /* No record ended after a line end: a quote never closed. */
        snprintf(err, errlen, "%s:1: %s", file,
                 a.records ? "the header row holds more than one record"
                           : "unterminated quote in the header row");
        goto out;
    }
    for (size_t i = 0; i < a.n; i++) {
        size_t bad;
        if (!utf8_check(a.v[i], strlen(a.v[i]), &bad)) {
            snprintf(err, errlen,
                     "%s:1:%zu: not valid UTF-8 (byte 0x%02X at offset %zu of the column name); "
                     "convert the file to UTF-8, e.g. iconv -f latin1 -t utf-8",
                     file, i + 1, (unsigned char)a.v[i][bad], bad);
            goto out;
        }
    }
    *names = a.v;
    *n = a.n;
    a.v = NULL;
    a.n = 0;
    rc = 0;
out:
    if (inited) csv_free(&p);
    csvread_names_free(a.v, a.n);
    return rc;
}

int csvread_is_missing(const char *s, size_t len) {
    switch (len) {
    case 0:
        return 1;
    case 1:
        return s[0] == '?';
    case 2:
        return (s[0] == 'N' && s[1] == 'A') || (s[0] == 'n' && s[1] == 'a');
    case 3:
        return memcmp(s, "NaN", 3) == 0 || memcmp(s, "nan", 3) == 0 || memcmp(s, "N/A", 3) == 0;
    default:
        return 0;
    }
}

/* Exact powers of ten: every one up to 1e22 is a double without rounding. */
static const double csvread_pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                       1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static inline int csvread_digit(const char *p, const char *end) {
    return p < end && (unsigned char)(*p - '0') < 10;
}

int csvread_number_fast(const char *s, size_t len, double *out) {
    const char *p = s, *end = s + len;
    int neg = 0;
    if (p < end && (*p == '+' || *p == '-')) {
        neg = *p == '-';
        p++;
    }
    /* All digits go into mant, leading zeros too (they add nothing); past 19
     * of them it could overflow, and strtod decides. */
    uint64_t mant = 0;
    const char *d0 = p;
    while (csvread_digit(p, end))
        mant = mant * 10 + (uint64_t)(*p++ - '0');
    size_t ndig = (size_t)(p - d0), nfrac = 0;
    if (p < end && *p == '.') {
        const char *f0 = ++p;
        while (csvread_digit(p, end))
            mant = mant * 10 + (uint64_t)(*p++ - '0');
        nfrac = (size_t)(p - f0);
        ndig += nfrac;
    }
    if (ndig == 0) return -1;
    long exp10 = 0;
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        int eneg = 0;
        if (p < end && (*p == '+' || *p == '-')) {
            eneg = *p == '-';
            p++;
        }
        if (!csvread_digit(p, end)) return -1;
        while (csvread_digit(p, end)) {
            if (exp10 < 100000) exp10 = exp10 * 10 + (*p - '0');
            p++;
        }
        if (eneg) exp10 = -exp10;
    }
    if (p != end) return -1;
    if (ndig > 19) return 1;
    if (mant == 0) {
        /* strtod gives a signed zero for any exponent, without ERANGE. */
        *out = neg ? -0.0 : 0.0;
        return 0;
    }
    /* Clinger: a mantissa exact in a double (at most 2^53) times or divided
     * by an exact power of ten is one correctly rounded operation, and its
     * result (between 1e-22 and 1e38) is a normal double. */
    if (mant > (UINT64_C(1) << 53)) return 1;
    long e = exp10 - (long)nfrac;
    double m = (double)mant;
    if (e >= 0 && e <= 22) {
        double v = m * csvread_pow10[e];
        *out = neg ? -v : v;
        return 0;
    }
    if (e < 0 && e >= -22) {
        double v = m / csvread_pow10[-e];
        *out = neg ? -v : v;
        return 0;
    }
    return 1;
}

/* [+-]inf, [+-]infinity or [+-]nan in any case: what strtod reads as a
 * number that is not finite. */
static int csvread_nonfinite_word(const char *s, size_t len) {
    if (len && (*s == '+' || *s == '-')) {
        s++;
        len--;
    }
    if ((len != 3 && len != 8) || ((*s | 0x20) != 'i' && (*s | 0x20) != 'n')) return 0;
    return (len == 3 && (strncasecmp(s, "inf", 3) == 0 || strncasecmp(s, "nan", 3) == 0)) ||
           (len == 8 && strncasecmp(s, "infinity", 8) == 0);
}

int csvread_number(const char *s, size_t len, double *out) {
    int fast = csvread_number_fast(s, len, out);
    if (fast == 0) return 0;
    if (fast < 0) return len <= 9 && csvread_nonfinite_word(s, len) ? -2 : -1;
    /* Slow path: strtod on a NUL-terminated copy. */
    char buf[128];
    char *tmp = len < sizeof buf ? buf : malloc(len + 1);
    if (!tmp) return -1;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    errno = 0;
    char *endp;
    double v = strtod(tmp, &endp);
    /* The grammar was checked: strtod takes it all, and only overflow
     * (ERANGE with HUGE_VAL) makes it not finite. */
    int ok = endp == tmp + len && isfinite(v) && !(errno == ERANGE && fabs(v) > 1.0);
    if (tmp != buf) free(tmp);
    if (!ok) return -2;
    *out = v;
    return 0;
}
