#include "common/optable.h"

#include "common/suggest.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define HELP_COLUMN 25
/* getopt_long returns LONG_BASE + row for a long option: above every char. */
#define LONG_BASE 256
#define MAX_NAME 64

/* A row getopt_long knows by its long name (one-letter names are short only). */
static bool has_long(const optdef_t *d) {
    return d->name && d->name[0] && d->name[1];
}

/* The row's one-letter form, 0 when it has none. */
static char short_of(const optdef_t *d) {
    if (d->short_name) return d->short_name;
    return d->name && !has_long(d) ? d->name[0] : 0;
}

const optdef_t *optable_find(const optdef_t *defs, size_t n, const char *name) {
    for (size_t i = 0; i < n; i++)
        if (defs[i].name && strcmp(defs[i].name, name) == 0) return &defs[i];
    return NULL;
}

static const optdef_t *find_short(const optdef_t *defs, size_t n, int c) {
    for (size_t i = 0; i < n; i++)
        if (defs[i].name && short_of(&defs[i]) == c) return &defs[i];
    return NULL;
}

const char *optable_suggest(const optdef_t *defs, size_t n, const char *typed, char *buf,
                            size_t buflen) {
    size_t len = strlen(typed), best = suggest_limit(len);
    const optdef_t *hit = NULL;
    for (size_t i = 0; i < n; i++) {
        const optdef_t *d = &defs[i];
        if (!d->name || !d->help) continue;
        size_t dist = SIZE_MAX;
        if (len == 1 && short_of(d)) /* -c for -C: a letter in the wrong case */
            dist =
                tolower((unsigned char)typed[0]) == tolower((unsigned char)short_of(d)) ? 0 : dist;
        else if (len > 1 && has_long(d))
            dist = suggest_distance(typed, d->name);
        if (dist < best) {
            best = dist;
            hit = d;
        }
    }
    if (!hit) return NULL;
    if (len == 1)
        snprintf(buf, buflen, "-%c", short_of(hit));
    else
        optable_name(hit, buf, buflen);
    return buf;
}

const char *optable_name(const optdef_t *d, char *buf, size_t buflen) {
    if (has_long(d))
        snprintf(buf, buflen, "--%s", d->name);
    else
        snprintf(buf, buflen, "-%c", short_of(d));
    return buf;
}

/* "unknown option 'SHOWN' (did you mean --x? see --help)", the suggestion
 * made for typed. */
static void unknown(const optdef_t *defs, size_t n, const char *shown, size_t shown_len,
                    const char *typed, char *err, size_t errlen) {
    char hint[MAX_NAME + 3];
    const char *s = optable_suggest(defs, n, typed, hint, sizeof hint);
    snprintf(err, errlen, "unknown option '%.*s' (%s%s%ssee --help)", (int)shown_len, shown,
             s ? "did you mean " : "", s ? s : "", s ? "? " : "");
}

/* The one-line reason for getopt_long's '?' or ':' on argument arg. */
static void refuse(const optdef_t *defs, size_t n, int c, const char *arg, char *err,
                   size_t errlen) {
    char typed[MAX_NAME + 1];
    if (c == ':') { /* optopt is the row's val: a char, or LONG_BASE + row */
        const optdef_t *d = optopt >= LONG_BASE ? &defs[optopt - LONG_BASE] : NULL;
        if (d)
            snprintf(err, errlen, "option '--%s' needs a value (see --help)", d->name);
        else
            snprintf(err, errlen, "option '-%c' needs a value (see --help)", optopt);
        return;
    }
    if (strncmp(arg, "--", 2) == 0) {
        size_t len = strcspn(arg + 2, "=");
        snprintf(typed, sizeof typed, "%.*s", (int)len, arg + 2);
        const optdef_t *d = optable_find(defs, n, typed);
        if (d && has_long(d) && !d->arg && arg[2 + len] == '=')
            snprintf(err, errlen, "option '--%s' takes no value (see --help)", d->name);
        else
            unknown(defs, n, arg, 2 + len, typed, err, errlen);
        return;
    }
    /* A short option: "-data" was meant as --data, "-x" is just unknown. */
    char hint[MAX_NAME + 3];
    if (strlen(arg) > 2 && optable_suggest(defs, n, arg + 1, hint, sizeof hint)) {
        unknown(defs, n, arg, strlen(arg), arg + 1, err, errlen);
        return;
    }
    char one[2] = {(char)optopt, 0}, shown[3] = {'-', (char)optopt, 0};
    unknown(defs, n, shown, 2, one, err, errlen);
}

/* getopt_long's tables for the rows: longopts and "+:" then the short
 * options ('+': stop at the first argument that is not an option; ':':
 * report a missing value apart from an unknown option). */
static int build_getopt(const optdef_t *defs, size_t n, struct option **lo, char **so) {
    size_t k = 0, s = 0;
    *lo = calloc(n + 1, sizeof **lo);
    *so = malloc(2 * n + 3);
    if (!*lo || !*so) return -1;
    (*so)[s++] = '+';
    (*so)[s++] = ':';
    for (size_t i = 0; i < n; i++) {
        const optdef_t *d = &defs[i];
        if (has_long(d))
            (*lo)[k++] = (struct option){d->name, d->arg ? required_argument : no_argument, NULL,
                                         LONG_BASE + (int)i};
        if (d->name && short_of(d)) {
            (*so)[s++] = short_of(d);
            if (d->arg) (*so)[s++] = ':';
        }
    }
    (*so)[s] = 0;
    return 0;
}

/* Whether arg, a long option getopt_long matched to d, names it only in part. */
static bool abbreviated(const char *arg, const optdef_t *d) {
    if (strncmp(arg, "--", 2) != 0) return false;
    size_t len = strcspn(arg + 2, "=");
    return len != strlen(d->name) || strncmp(arg + 2, d->name, len) != 0;
}

/* Appends one item, growing the array. */
static int push(optitem_t **items, size_t *nitems, size_t *cap, const optdef_t *d,
                const char *value) {
    if (*nitems == *cap) {
        size_t ncap = *cap ? 2 * *cap : 16;
        optitem_t *p = realloc(*items, ncap * sizeof *p);
        if (!p) return -1;
        *items = p;
        *cap = ncap;
    }
    (*items)[(*nitems)++] = (optitem_t){d, value};
    return 0;
}

int optable_parse(const optdef_t *defs, size_t n, int argc, char **argv, int first,
                  optitem_t **items, size_t *nitems, char *err, size_t errlen) {
    int rc = -1;
    struct option *lo = NULL;
    char *so = NULL;
    size_t cap = 0;
    /* getopt_long reads from index 1: its argv starts one before first. */
    int sub_argc = argc - first + 1;
    char **sub = argv + first - 1;
    *items = NULL;
    *nitems = 0;
    if (build_getopt(defs, n, &lo, &so) < 0) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    opterr = 0;
    optind = 0; /* 0, not 1: makes glibc start over */
    for (;;) {
        const char *arg = sub[optind ? optind : 1]; /* the argument about to be read */
        int c = getopt_long(sub_argc, sub, so, lo, NULL);
        if (c == -1) break;
        if (c == '?' || c == ':') {
            refuse(defs, n, c, arg, err, errlen);
            goto out;
        }
        const optdef_t *d = c >= LONG_BASE ? &defs[c - LONG_BASE] : find_short(defs, n, c);
        if (abbreviated(arg, d)) {
            /* getopt_long took --dat for --data: refused, since an option
             * added later could make the same command line mean another */
            char typed[MAX_NAME + 1];
            size_t len = strcspn(arg + 2, "=");
            snprintf(typed, sizeof typed, "%.*s", (int)len, arg + 2);
            unknown(defs, n, arg, 2 + len, typed, err, errlen);
            goto out;
        }
        if (push(items, nitems, &cap, d, d->arg ? optarg : NULL) < 0) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
    }
    if (optind < sub_argc) {
        snprintf(err, errlen, "unexpected argument '%.200s' (see --help)", sub[optind]);
        goto out;
    }
    rc = 0;
out:
    if (rc < 0) {
        free(*items);
        *items = NULL;
        *nitems = 0;
    }
    free(lo);
    free(so);
    return rc;
}

const optitem_t *optable_last(const optitem_t *items, size_t nitems, int id) {
    const optitem_t *hit = NULL;
    for (size_t i = 0; i < nitems; i++)
        if (items[i].def->id == id) hit = &items[i];
    return hit;
}

void optable_print_line(FILE *out, const char *left, const char *help) {
    /* the text starts at HELP_COLUMN, on the next line when left is too wide */
    int pad = HELP_COLUMN - (int)strlen(left);
    fputs(left, out);
    if (pad < 2) {
        fputc('\n', out);
        pad = HELP_COLUMN;
    }
    for (const char *line = help; line;) {
        const char *nl = strchr(line, '\n');
        fprintf(out, "%*s%.*s\n", pad, "", nl ? (int)(nl - line) : (int)strlen(line), line);
        pad = HELP_COLUMN;
        line = nl ? nl + 1 : NULL;
    }
}

void optable_print(FILE *out, const optdef_t *defs, size_t n) {
    for (size_t i = 0; i < n; i++) {
        const optdef_t *d = &defs[i];
        char left[160], name[MAX_NAME + 3];
        if (!d->name) {
            fprintf(out, "%s\n", d->help);
            continue;
        }
        if (!d->help) continue;
        if (has_long(d) && d->short_name)
            snprintf(left, sizeof left, "  -%c, --%s", d->short_name, d->name);
        else
            snprintf(left, sizeof left, "  %s", optable_name(d, name, sizeof name));
        if (d->arg) snprintf(left + strlen(left), sizeof left - strlen(left), " %s", d->arg);
        optable_print_line(out, left, d->help);
    }
}

int optable_long(const char *shown, const char *v, long lo, long hi, long *out, char *err,
                 size_t errlen) {
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (end == v || *end) {
        snprintf(err, errlen, "%s: '%s' is not a whole number", shown, v);
        return -1;
    }
    if (errno || x < lo || x > hi) {
        snprintf(err, errlen, "%s: '%s' is out of range (%ld to %ld)", shown, v, lo, hi);
        return -1;
    }
    *out = x;
    return 0;
}

int optable_set_key(config_t *cfg, const char *key, const char *shown, const char *value, char *err,
                    size_t errlen) {
    char why[512];
    size_t len = strlen(key) + strlen(value) + 2;
    char *assign = malloc(len);
    if (!assign) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    snprintf(assign, len, "%s=%s", key, value);
    int rc = config_set(cfg, assign, why, sizeof why);
    free(assign);
    if (rc < 0) /* name the option the user typed, not --set */
        snprintf(err, errlen, "%s: %s", shown, strncmp(why, "--set: ", 7) == 0 ? why + 7 : why);
    return rc;
}
