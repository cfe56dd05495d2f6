/* suggest: "did you mean" for names a user typed (options, columns).
 *
 * One idea, shared by the option parser (common/optable) and the column
 * checks of a job (master/train, common/summary, common/schema): a name
 * within a typo or two of a known one is offered as what was meant. The
 * distance is the optimal string alignment distance (Levenshtein, plus
 * swapping two neighbours counts one). No allocation; nothing here fails.
 */
#ifndef NC_SUGGEST_H
#define NC_SUGGEST_H

#include <stddef.h>

/* Names longer than this are never close to anything. */
#define SUGGEST_MAX_NAME 64

/* The distance from a to b, or SIZE_MAX when either is longer than
 * SUGGEST_MAX_NAME. Bytes compare exactly (case counts). */
size_t suggest_distance(const char *a, const char *b);

/* What counts as close for a typed name of len bytes: the distance must be
 * below this (2 for up to 4 bytes, else 3). */
size_t suggest_limit(size_t len);

/* The one of names[0..n) closest to typed, when close (below suggest_limit
 * and below typed's length; a difference of case alone always is); NULL
 * otherwise. Borrowed from names. */
const char *suggest_closest(char *const *names, size_t n, const char *typed);

/* The error of a column missing from a file's header, short whatever the
 * header's width: FILE:1: no WHAT column "NAME" (did you mean "X"? the
 * header has N columns: a, b, c, ...) -- the suggestion when one is close,
 * the first columns only. WHAT is "label", "text", ... */
void suggest_no_column(const char *file, const char *what, const char *name, char *const *names,
                       size_t n, char *err, size_t errlen);

/* An optional column (the id) that is not in the header but is close to one
 * that is, which is a typo rather than a file without ids: 1 with msg set to
 * "FILE:1: no id column "ID" (did you mean "id"?)", else 0. */
int suggest_optional_column(const char *file, const char *what, const char *name,
                            char *const *names, size_t n, char *msg, size_t msglen);

#endif
