/* schema_field: the rules for one field, the same in training (summary.c)
 * and testing (schema.c); see schema.h. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/csvread.h"
#include "common/schema_priv.h"
#include "common/utf8.h"

int schema_check_utf8(const char *file, uint64_t line, size_t col, const char *t, size_t len,
                      char *err, size_t errlen) {
    size_t bad;
    if (schema_ascii(t, len) || utf8_check(t, len, &bad)) return 0;
    snprintf(err, errlen,
             "%s:%llu:%zu: not valid UTF-8 (byte 0x%02X at offset %zu of the field); convert the "
             "file to UTF-8, e.g. iconv -f latin1 -t utf-8",
             file, (unsigned long long)line, col + 1, (unsigned char)t[bad], bad);
    return -1;
}

/* Shows at most 40 bytes of a field in a message (numbers only: ASCII). */
static int schema_shown(size_t len) {
    return (int)(len < 40 ? len : 40);
}

/* The message of a number that schema_classify() refuses; returns -1. */
int schema_bad_number(int rc, const char *file, uint64_t line, size_t col, const char *t,
                      size_t len, char *err, size_t errlen) {
    if (rc == 0)
        snprintf(err, errlen, "%s:%llu:%zu: number out of range (more than 1e100): %.*s%s", file,
                 (unsigned long long)line, col + 1, schema_shown(len), t, len > 40 ? "..." : "");
    else
        snprintf(err, errlen,
                 "%s:%llu:%zu: not a finite number: %.*s%s (write an empty field or NA for a "
                 "missing value)",
                 file, (unsigned long long)line, col + 1, schema_shown(len), t,
                 len > 40 ? "..." : "");
    return -1;
}

/* What a feature field is: FIELD_NUMBER (*x set), FIELD_MISSING or
 * FIELD_TEXT; -1 with err set when it is a number that is not finite or out
 * of range (bounded so that sums of squares over any row count stay finite),
 * or, when check_text is set, text that is not UTF-8. */
int schema_classify(const char *file, uint64_t line, size_t col, const char *t, size_t len,
                    double *x, int check_text, char *err, size_t errlen) {
    if (csvread_is_missing(t, len)) return FIELD_MISSING;
    int rc = csvread_number(t, len, x);
    if (rc == 0 && fabs(*x) <= SCHEMA_NUM_MAX) return FIELD_NUMBER;
    if (rc != -1) return schema_bad_number(rc, file, line, col, t, len, err, errlen);
    if (check_text && schema_check_utf8(file, line, col, t, len, err, errlen) != 0) return -1;
    return FIELD_TEXT;
}

int schema_check_field(const char *file, uint64_t line, size_t col, const char *text, size_t len,
                       char *err, size_t errlen) {
    double x;
    return schema_classify(file, line, col, text, len, &x, 1, err, errlen) < 0 ? -1 : 0;
}

int schema_check_label(const char *file, uint64_t line, size_t col, const char *text, size_t len,
                       char *err, size_t errlen) {
    if (len > SCHEMA_TEXT_MAX) {
        snprintf(err, errlen, "%s:%llu:%zu: label longer than %d bytes (%zu)", file,
                 (unsigned long long)line, col + 1, SCHEMA_TEXT_MAX, len);
        return -1;
    }
    return schema_check_utf8(file, line, col, text, len, err, errlen);
}

int schema_numeric_slow(const schema_numeric_t *n, const char *text, size_t len, double *value,
                        const char *file, uint64_t line, size_t col, char *err, size_t errlen) {
    double x;
    int kind = schema_classify(file, line, col, text, len, &x, 1, err, errlen);
    if (kind < 0) return -1;
    if (kind != FIELD_NUMBER) {
        /* Text where training saw numbers counts as missing. */
        *value = n->impute;
        return 0;
    }
    double v = (x - n->shift) * n->mul;
    if (!isfinite(v)) {
        snprintf(err, errlen,
                 "%s:%llu:%zu: %.*s%s is out of range for this column once scaled "
                 "((x - %.17g) * %.17g is not finite)",
                 file, (unsigned long long)line, col + 1, schema_shown(len), text,
                 len > 40 ? "..." : "", n->shift, n->mul);
        return -1;
    }
    *value = v;
    return 0;
}
