#include "common/csvrow.h"

#include <stdlib.h>
#include <string.h>

static int reserve(csvrow_t *r, size_t more)
{
    if (r->len + more <= r->cap)
        return 0;
    size_t cap = r->cap ? r->cap : 4096;
    while (cap < r->len + more)
        cap *= 2;
    char *nb = realloc(r->buf, cap);
    if (!nb)
        return -1;
    r->buf = nb;
    r->cap = cap;
    return 0;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static bool needs_quotes(const csvrow_t *r, const char *s, size_t n)
{
    if (r->quote_blanks && n > 0 && (is_blank(s[0]) || is_blank(s[n - 1])))
        return true;
    for (size_t i = 0; i < n; i++)
        if (s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r')
            return true;
    return false;
}

int csvrow_field(csvrow_t *r, const char *s, size_t n)
{
    if (!needs_quotes(r, s, n))
        return csvrow_text(r, s, n);
    if (reserve(r, 2 * n + 2) < 0)
        return -1;
    r->buf[r->len++] = '"';
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            r->buf[r->len++] = '"';
        r->buf[r->len++] = s[i];
    }
    r->buf[r->len++] = '"';
    return 0;
}

int csvrow_text(csvrow_t *r, const char *s, size_t n)
{
    if (reserve(r, n) < 0)
        return -1;
    if (n)
        memcpy(r->buf + r->len, s, n);
    r->len += n;
    return 0;
}

char *csvrow_field_dup(csvrow_t *r, const char *s)
{
    size_t saved = r->len;
    char *out = NULL;
    if (csvrow_field(r, s, strlen(s)) == 0 && (out = malloc(r->len - saved + 1))) {
        memcpy(out, r->buf + saved, r->len - saved);
        out[r->len - saved] = 0;
    }
    r->len = saved;
    return out;
}

void csvrow_free(csvrow_t *r)
{
    free(r->buf);
    r->buf = NULL;
    r->len = r->cap = 0;
}
