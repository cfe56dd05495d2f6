/* optable: a program's options as one table that is both parsed (with
 * getopt_long) and printed as --help, so that the help cannot drift from
 * what the parser accepts.
 *
 * A row is an option or, when name is NULL, a heading that --help prints as
 * it is. An option has a long name (--data) and may have a one-letter short
 * name (-v); a one-letter long name ("C") is a short option only (-C), so
 * that the same row can also name a JSON key. arg names the value in --help
 * ("FILE"); NULL makes the option a flag. A row whose help is NULL is
 * accepted but not printed (options for tests).
 *
 * optable_parse() accepts --name value, --name=value, -x value, -xvalue and
 * grouped flags (-vq), in any order; it refuses abbreviations (--dat is not
 * --data) and any argument that is not an option. Every refusal is one line
 * that names the option and ends with "see --help", with "did you mean
 * --data?" when a known name is close to the one typed.
 *
 * The table is the program's: id and flags are for its own use, and key, when
 * set, is the config key ("data.label") the option's value goes to.
 */
#ifndef NC_OPTABLE_H
#define NC_OPTABLE_H

#include "common/config.h"

#include <stddef.h>
#include <stdio.h>

typedef struct optdef {
    const char *name; /* long name without dashes; NULL: a heading */
    char short_name;  /* 'v' for -v, 0 for none */
    const char *arg;  /* the value's name in --help; NULL: a flag */
    const char *help; /* one line or several ('\n'); NULL: not in --help */
    int id;           /* the program's action for this option */
    const char *key;  /* the config key the value sets, or NULL */
    unsigned flags;   /* the program's own marks */
} optdef_t;

/* One option as given: the row and its value (borrowed from argv; NULL for
 * a flag). */
typedef struct optitem {
    const optdef_t *def;
    const char *value;
} optitem_t;

/* Parses argv[first..argc) (first >= 1) against the n rows of defs. *items
 * (allocated, the caller frees it; NULL after a failure) receives the options
 * in command-line order and *nitems their count. Returns 0, or -1 with err
 * set: "unknown option '--modle' (did you mean --model? see --help)",
 * "option '--data' needs a value (see --help)", "option '--quiet' takes no
 * value (see --help)", "unexpected argument 'x' (see --help)". Uses
 * getopt_long's globals: not for concurrent use. */
int optable_parse(const optdef_t *defs, size_t n, int argc, char **argv, int first,
                  optitem_t **items, size_t *nitems, char *err, size_t errlen);

/* The option row whose long name is name, or NULL. */
const optdef_t *optable_find(const optdef_t *defs, size_t n, const char *name);

/* The printed rows' option closest to what was typed (a name without
 * dashes), as the user would type it ("--model", "-C"), when it is within a
 * typo or two (edit distance, transposition counting one); NULL otherwise. */
const char *optable_suggest(const optdef_t *defs, size_t n, const char *typed, char *buf,
                            size_t buflen);

/* The row as the user types it: "--data", or "-C" for a one-letter name. */
const char *optable_name(const optdef_t *d, char *buf, size_t buflen);

/* The last item whose row has this id, or NULL. */
const optitem_t *optable_last(const optitem_t *items, size_t nitems, int id);

/* Writes the rows as --help lines ("  -v, --verbose          log more"). */
void optable_print(FILE *out, const optdef_t *defs, size_t n);

/* Writes one --help line: left ("  keygen NAME"), then help from the help
 * column on (each '\n' of help starts a line there). */
void optable_print_line(FILE *out, const char *left, const char *help);

/* Reads v as a whole number from lo to hi into *out; on failure err names the
 * option as shown ("--cv: 'x' is not a whole number", "--die-after: '0' is
 * out of range (1 to 1000000000)"). 0 or -1. */
int optable_long(const char *shown, const char *v, long lo, long hi, long *out, char *err,
                 size_t errlen);

/* Sets config key to value as --set would; on failure err names the option
 * as shown ("--slots: worker.slots: 'x' is not a whole number"). */
int optable_set_key(config_t *cfg, const char *key, const char *shown, const char *value, char *err,
                    size_t errlen);

#endif
