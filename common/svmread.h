/* svmread: libsvm/svmlight lines ("label idx:val idx:val ...") read exactly as
 * liblinear 2.30's train tool reads them.
 *
 * Every line is a row. The label is the first blank-separated token and must
 * be a number as a whole (liblinear then uses its int part as the class); then
 * index:value pairs with indices ascending and > 0 and values that are numbers
 * followed by nothing or a blank. Anything else is liblinear's error, with its
 * wording: "FILE:LINE: Wrong input format at line LINE: what". Labels and
 * values must also be finite and labels within int range, which liblinear does
 * not check (an inf there would poison training).
 */
#ifndef NC_SVMREAD_H
#define NC_SVMREAD_H

#include <linear.h>
#include <stddef.h>
#include <stdint.h>

/* Called once per row: label as the int liblinear groups by, the row's nodes
 * (n of them, no terminator; borrowed for the call) and the row's file line.
 * Return 0, or -1 after writing err. */
typedef int (*svmread_row_fn)(void *ctx, int label, const struct feature_node *x, size_t n,
                              uint64_t line, char *err, size_t errlen);

/* Parses len bytes whose first byte is on line first_line. NUL bytes are an
 * error. Returns 0, or -1 with err set. */
int svmread_parse(const char *file, const char *bytes, size_t len, uint64_t first_line,
                  svmread_row_fn fn, void *ctx, char *err, size_t errlen);

#endif
