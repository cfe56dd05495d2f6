#include "common/csvrow.h"

#include <stdlib.h>
#include <string.h>

static bool is_blank(char c) {
    return c == ' ' || c == '\t';
}

static bool needs_quotes(const csvrow_t *r, const char *s, size_t n) {
    if (r->quote_blanks && n > 0 && (is_blank(s[0]) || is_blank(s[n - 1]))) return true;
    for (size_t i = 0; i < n; i++)
        if (s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r') return true;
    return false;
}

int csvrow_field(csvrow_t *r, const char *s, size_t n) {
    if (!needs_quotes(r, s, n)) return csvrow_text(r, s, n);
    /* room for the worst case (every byte a quote), then give back the rest */
    uint8_t *p = buf_extend(&r->out, 2 * n + 2);
    if (!p) return -1;
    size_t k = 0;
    p[k++] = '"';
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"') p[k++] = '"';
        p[k++] = (uint8_t)s[i];
    }
    p[k++] = '"';
    r->out.len -= 2 * n + 2 - k;
    return 0;
}

int csvrow_text(csvrow_t *r, const char *s, size_t n) {
    buf_put(&r->out, s, n);
    return r->out.failed ? -1 : 0;
}

char *csvrow_field_dup(csvrow_t *r, const char *s) {
    size_t saved = r->out.len;
    char *dup = NULL;
    if (csvrow_field(r, s, strlen(s)) == 0 && (dup = malloc(r->out.len - saved + 1))) {
        memcpy(dup, r->out.p + saved, r->out.len - saved);
        dup[r->out.len - saved] = 0;
    }
    if (!r->out.failed) r->out.len = saved;
    return dup;
}

void csvrow_free(csvrow_t *r) {
    buf_free(&r->out);
}
