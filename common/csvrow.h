/* csvrow: the lines of a CSV output file, built one field at a time — the
 * one formatter behind every submission file (the test predictions written
 * by the master, master/predict.c, and the training submission's lines
 * written by the workers, worker/op_tron.c).
 *
 * The rule is RFC 4180's: a field that holds a comma, a double quote, a CR
 * or a LF is enclosed in double quotes, and a double quote inside it is
 * doubled; any other field is written as it is. With quote_blanks set, a
 * field that starts or ends with a space or a tab is quoted too (RFC 4180
 * allows quoting any field): readers that trim unquoted fields, ours
 * (common/csvread.c) among them, would otherwise lose those blanks. The test
 * predictions set it and the training submission does not, which keeps both
 * files byte for byte as they were when each had its own writer.
 *
 * The text is in out (common/buf.h: out.p, out.len bytes, not
 * NUL-terminated); a caller may take it over with buf_detach() or call
 * csvrow_free(). Functions that append return 0, or -1 when out of memory:
 * then, as buf_t goes, out is failed and every later append fails too.
 */
#ifndef NC_CSVROW_H
#define NC_CSVROW_H

#include "common/buf.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct csvrow {
    buf_t out;
    bool quote_blanks;
} csvrow_t;

/* Appends the n bytes of s as one field, quoted by the rule above. No
 * separator is added: write those with csvrow_text(). */
int csvrow_field(csvrow_t *r, const char *s, size_t n);

/* Appends n bytes as they are (separators, line ends, numbers, fields that
 * were quoted already). */
int csvrow_text(csvrow_t *r, const char *s, size_t n);

/* s as one field, quoted by r's rule, in a new NUL-terminated string (caller
 * frees); r's text is unchanged. NULL when out of memory. */
char *csvrow_field_dup(csvrow_t *r, const char *s);

/* Frees the buffer (NULL-safe on a zeroed row) and empties the row. */
void csvrow_free(csvrow_t *r);

#endif
