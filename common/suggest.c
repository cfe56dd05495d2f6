#include "common/suggest.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Columns a "no column" error shows before "...". */
#define SHOWN_COLUMNS 6

size_t suggest_distance(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    unsigned char d[SUGGEST_MAX_NAME + 1][SUGGEST_MAX_NAME + 1];
    if (la > SUGGEST_MAX_NAME || lb > SUGGEST_MAX_NAME) return SIZE_MAX;
    for (size_t i = 0; i <= la; i++)
        d[i][0] = (unsigned char)i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = (unsigned char)j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            unsigned v = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1u < v) v = d[i - 1][j] + 1u;
            if (d[i][j - 1] + 1u < v) v = d[i][j - 1] + 1u;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1u < v)
                v = d[i - 2][j - 2] + 1u;
            d[i][j] = (unsigned char)v;
        }
    }
    return d[la][lb];
}

size_t suggest_limit(size_t len) {
    return len <= 4 ? 2 : 3;
}

const char *suggest_closest(char *const *names, size_t n, const char *typed) {
    size_t len = strlen(typed), best = suggest_limit(len);
    if (best > len) best = len; /* "y" is not a typo of "a": a suggestion keeps a letter */
    const char *hit = NULL;
    for (size_t i = 0; i < n; i++) {
        size_t dist = strcasecmp(names[i], typed) == 0 ? 0 : suggest_distance(typed, names[i]);
        if (dist < best) {
            best = dist;
            hit = names[i];
        }
    }
    return hit;
}

void suggest_no_column(const char *file, const char *what, const char *name, char *const *names,
                       size_t n, char *err, size_t errlen) {
    const char *s = suggest_closest(names, n, name);
    int w = snprintf(
        err, errlen, "%s:1: no %s column \"%s\" (%s%s%sthe header has %zu column%s:", file, what,
        name, s ? "did you mean \"" : "", s ? s : "", s ? "\"? " : "", n, n == 1 ? "" : "s");
    for (size_t i = 0; i < n && i < SHOWN_COLUMNS && w >= 0 && (size_t)w < errlen; i++)
        w += snprintf(err + w, errlen - (size_t)w, "%s %s", i ? "," : "", names[i]);
    if (w >= 0 && (size_t)w < errlen)
        snprintf(err + w, errlen - (size_t)w, "%s)", n > SHOWN_COLUMNS ? ", ..." : "");
}

int suggest_optional_column(const char *file, const char *what, const char *name,
                            char *const *names, size_t n, char *msg, size_t msglen) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0) return 0;
    const char *s = suggest_closest(names, n, name);
    if (!s) return 0;
    snprintf(msg, msglen, "%s:1: no %s column \"%s\" (did you mean \"%s\"?)", file, what, name, s);
    return 1;
}
