/* oracle_log: what a reader read, as bytes, for differential tests.
 *
 * The reader under test and its reference each append what they read to a
 * log of their own (the same records, in the same encoding), and the two logs
 * compare with memcmp, values bit for bit. An allocation failure sets oom and
 * stops the log from growing; the caller checks it before comparing. */
#ifndef NC_ORACLE_LOG_H
#define NC_ORACLE_LOG_H

#include <stdlib.h>
#include <string.h>

typedef struct oracle_log {
    unsigned char *p;
    size_t len, cap;
    int oom;
} oracle_log_t;

static void oracle_log_put(oracle_log_t *g, const void *d, size_t n) {
    if (g->oom) return;
    if (g->len + n > g->cap) {
        size_t ncap = g->cap ? g->cap : 4096;
        while (ncap < g->len + n)
            ncap *= 2;
        unsigned char *np = realloc(g->p, ncap);
        if (!np) {
            g->oom = 1;
            return;
        }
        g->p = np;
        g->cap = ncap;
    }
    if (n) memcpy(g->p + g->len, d, n);
    g->len += n;
}

/* 1 when both logs hold the same bytes. */
static int oracle_log_same(const oracle_log_t *a, const oracle_log_t *b) {
    return a->len == b->len && (a->len == 0 || memcmp(a->p, b->p, a->len) == 0);
}

static void oracle_log_free(oracle_log_t *g) {
    free(g->p);
    *g = (oracle_log_t){0};
}

#endif
