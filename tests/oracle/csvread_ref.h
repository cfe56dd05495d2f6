/* csvread_ref: the reference CSV reading for differential tests.
 *
 * All bytes go to libcsv in one call, configured as common/csvread.c
 * configures it (lenient quoting, CR/space/tab trimmed, records end at LF,
 * NUL-terminated fields), with a final LF when the data has none.
 * csvread_parse() splits quote-free lines itself, in place, and lines whose
 * quoted fields close on the line; tests and fuzzers feed both the same
 * bytes and require the same records and fields. Slow on purpose: keep it
 * obviously right, never optimise it. */
#ifndef NC_CSVREAD_REF_H
#define NC_CSVREAD_REF_H

#include <csv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/csvread.h"
#include "tests/oracle/oracle_log.h"

/* Records go to an oracle_log: per field a tag, its length and its bytes,
 * per record a tag. */
static void csvref_field(oracle_log_t *g, const char *s, size_t len) {
    unsigned char tag = 'F';
    oracle_log_put(g, &tag, 1);
    oracle_log_put(g, &len, sizeof len);
    oracle_log_put(g, s, len);
}

static void csvref_record(oracle_log_t *g) {
    unsigned char tag = 'R';
    oracle_log_put(g, &tag, 1);
}

static int csvref_is_space(unsigned char c) {
    return c == ' ' || c == '\t' || c == '\r';
}

static int csvref_is_term(unsigned char c) {
    return c == '\n';
}

static void csvref_on_field(void *s, size_t len, void *data) {
    csvref_field(data, s ? s : "", len);
}

static void csvref_on_record(int c, void *data) {
    (void)c;
    csvref_record(data);
}

static int csvref_parse(const char *bytes, size_t len, oracle_log_t *g) {
    struct csv_parser p;
    if (csv_init(&p, CSV_APPEND_NULL) != 0) return -1;
    csv_set_space_func(&p, csvref_is_space);
    csv_set_term_func(&p, csvref_is_term);
    int rc = csv_parse(&p, bytes, len, csvref_on_field, csvref_on_record, g) == len ? 0 : -1;
    if (rc == 0 && (len == 0 || bytes[len - 1] != '\n') &&
        csv_parse(&p, "\n", 1, csvref_on_field, csvref_on_record, g) != 1)
        rc = -1;
    csv_free(&p);
    return rc;
}

/* csvread_parse() callbacks writing the same log. */
static int csvref_cb_field(void *ctx, size_t col, const char *s, size_t len, uint64_t line,
                           char *err, size_t errlen) {
    csvref_field(ctx, s, len);
    return 0;
}

static int csvref_cb_record(void *ctx, size_t nfields, uint64_t line, char *err, size_t errlen) {
    csvref_record(ctx);
    return 0;
}

/* Runs csvread_parse() (any field count) and the reference on the bytes: 0
 * when csvread_parse() fails cleanly (an unterminated quote or a NUL byte,
 * which the reference does not judge) or when both give the same records;
 * else -1 with a description in why. */
static int csvref_compare(const char *bytes, size_t len, char *why, size_t whylen) {
    oracle_log_t a = {0}, b = {0};
    char err[512] = "";
    csvread_cb_t cb = {csvref_cb_field, csvref_cb_record};
    int ra = csvread_parse("f.csv", bytes, len, 1, 0, &cb, &a, err, sizeof err);
    int rc = 0;
    if (ra != 0) {
        if (strncmp(err, "f.csv:", 6) != 0 ||
            (!strstr(err, "unterminated quote") && !strstr(err, "NUL byte"))) {
            snprintf(why, whylen, "unexpected error: %s", err);
            rc = -1;
        }
    } else if (memchr(bytes, '\0', len)) {
        snprintf(why, whylen, "a NUL byte was accepted");
        rc = -1;
    } else if (csvref_parse(bytes, len, &b) != 0 || a.oom || b.oom) {
        snprintf(why, whylen, "the reference failed");
        rc = -1;
    } else if (!oracle_log_same(&a, &b)) {
        snprintf(why, whylen, "records differ (%zu vs %zu bytes of log)", a.len, b.len);
        rc = -1;
    }
    oracle_log_free(&a);
    oracle_log_free(&b);
    return rc;
}

#endif
