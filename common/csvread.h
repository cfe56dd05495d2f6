/* csvread: streaming CSV records with physical line numbers, on top of libcsv.
 *
 * csvread_parse() feeds a byte range (one shard: whole rows, no header) to
 * libcsv one physical line at a time, so it always knows the 1-based file line
 * on which each record begins, even when quoted fields hold newlines. Records
 * end at LF only; CR, space and tab around unquoted fields are trimmed (so CRLF
 * files read like LF files, and "x\r" reads as "x"); lines holding only such
 * blanks are skipped, as libcsv skips empty lines. These are exactly the row
 * boundaries that split_file() finds, so shard row counts agree.
 *
 * Quoting follows libcsv's lenient mode (RFC 4180 plus: a quote inside an
 * unquoted field is an ordinary character). A quoted field still open at the
 * end of the bytes, a NUL byte, or a record whose field count differs from the
 * expected one is an error "FILE:LINE[:COL]: what".
 *
 * Also here: the header parser and the value classifiers every reader shares
 * (what counts as missing, what counts as a number).
 */
#ifndef NC_CSVREAD_H
#define NC_CSVREAD_H

#include <stddef.h>
#include <stdint.h>

/* Callbacks of csvread_parse(). Field text is s[0..len), borrowed for the
 * duration of the call and not NUL-terminated: most fields are handed over
 * where they lie in the caller's bytes. Return 0 to go on, or -1 after writing
 * a one-line reason into err (it is reported as is, so include FILE:LINE). */
typedef struct csvread_cb {
    /* field number col (0-based) of the record that begins on line */
    int (*field)(void *ctx, size_t col, const char *s, size_t len, uint64_t line, char *err,
                 size_t errlen);
    /* end of a record; nfields was checked against the expected count */
    int (*record)(void *ctx, size_t nfields, uint64_t line, char *err, size_t errlen);
} csvread_cb_t;

/* Parses len bytes whose first byte is on file line first_line. When nfields is
 * not 0 every record must have exactly that many fields (fields past it are not
 * passed to the field callback). file names the data in messages.
 * Returns 0, or -1 with err set (a callback's error or one of the above). */
int csvread_parse(const char *file, const char *bytes, size_t len, uint64_t first_line,
                  size_t nfields, const csvread_cb_t *cb, void *ctx, char *err, size_t errlen);

/* Text files only: returns 0 when bytes hold no NUL byte, else -1 with err
 * "FILE:LINE:COL: NUL byte ..." naming the first one (lines counted from
 * first_line). The libsvm reader uses it too. */
int csvread_check_nul(const char *file, const char *bytes, size_t len, uint64_t first_line,
                      char *err, size_t errlen);

/* Splits a raw header record into column names (unquoted, trimmed as above).
 * *names is an array of *n malloc'd strings; free with csvread_names_free().
 * Fails on an empty header, an unterminated quote, a NUL byte or a name that
 * is not valid UTF-8 ("FILE:1:COL: not valid UTF-8 ..."). */
int csvread_header(const char *file, const char *hdr, size_t len, char ***names, size_t *n,
                   char *err, size_t errlen);
void csvread_names_free(char **names, size_t n);

/* 1 when the field is a missing value: empty, NA, NaN or ? (exact case, plus
 * "nan", "na" and "N/A" which spreadsheets write). */
int csvread_is_missing(const char *s, size_t len);

/* Parses a finite decimal number ([+-]digits[.digits][e[+-]digits], at least
 * one digit). Returns 0 and sets *out; -2 when the text is a number that is
 * not finite: that grammar overflowing a double (1e999, a 400-digit
 * integer) or [+-]inf, infinity or nan in any case (readers test for the
 * missing markers first: "nan" and "NaN" are missing, not -2); -1 when it is
 * anything else (text, hex, trailing junk). Underflow gives 0 or a subnormal,
 * as strtod does. Correctly rounded: the exact fast path below when it
 * applies, strtod otherwise. s need not be NUL-terminated. */
int csvread_number(const char *s, size_t len, double *out);

/* The fast path of csvread_number() alone. Returns 0 and sets *out when the
 * text is a plain decimal of that grammar whose value is exact without strtod
 * (a mantissa of at most 2^53 and a power of ten within 1e+-22, or zero):
 * then strtod() on the same text gives the same double, stops at its end and
 * leaves errno alone. Returns 1 when the text has the grammar but needs
 * strtod(), -1 when it is not such a number. Readers with strtod()'s own
 * semantics (libsvm) use it and fall back to strtod() on anything but 0. */
int csvread_number_fast(const char *s, size_t len, double *out);

#endif
