/* text: see text.h. */
#include "common/text.h"

#include "common/hash.h"

#include <string.h>

/* Decodes one code point at t[0..len) (len >= 1) into *cp and returns its
 * length; a byte that starts no valid sequence gives *cp = -1, length 1. */
static size_t text_next(const unsigned char *t, size_t len, long *cp) {
    unsigned c = t[0];
    size_t n;
    long v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
        n = 2, v = c & 0x1F, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3, v = c & 0x0F, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4, v = c & 0x07, min = 0x10000;
    } else {
        *cp = -1;
        return 1;
    }
    if (n > len) {
        *cp = -1;
        return 1;
    }
    for (size_t i = 1; i < n; i++) {
        if ((t[i] & 0xC0) != 0x80) {
            *cp = -1;
            return 1;
        }
        v = (v << 6) | (t[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) {
        *cp = -1;
        return 1;
    }
    *cp = v;
    return n;
}

/* The lowercase of a word character, or -1 for a separator. */
static long text_fold(long cp) {
    if (cp < 0) return -1;
    if (cp < 0x80) {
        if (cp >= 'A' && cp <= 'Z') return cp + 0x20;
        if ((cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9')) return cp;
        return -1;
    }
    if (cp < 0xC0 || cp == 0xD7 || cp == 0xF7) return -1;
    if (cp <= 0xDE) return cp + 0x20;
    return cp;
}

/* Appends code point cp (valid, not a surrogate) as UTF-8. */
static size_t text_put(char *out, long cp) {
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

typedef struct text_scan {
    int ngram;
    text_term_fn fn;
    void *arg;
    /* term = previous word, ' ', current word; cur points at the current
     * one, with room for an 8-byte store at any length up to TEXT_WORD_MAX */
    char term[TEXT_TERM_MAX + 16];
    size_t prev_len; /* 0: no previous word */
    size_t cur_len;  /* may exceed TEXT_WORD_MAX: the word is then dropped */
    long words;
} text_scan_t;

static char *text_cur(text_scan_t *s) {
    return s->term + TEXT_WORD_MAX + 1;
}

/* The current word is complete: emit it (and its bigram), make it the
 * previous word. */
static int text_end_word(text_scan_t *s) {
    size_t n = s->cur_len;
    s->cur_len = 0;
    if (n == 0 || n > TEXT_WORD_MAX) return 0;
    char *cur = text_cur(s);
    s->words++;
    if (s->fn) {
        if (s->fn(s->arg, cur, n) != 0) return -1;
        if (s->ngram == 2 && s->prev_len) {
            char *start = cur - 1 - s->prev_len;
            if (s->fn(s->arg, start, s->prev_len + 1 + n) != 0) return -1;
        }
    }
    if (s->ngram != 2) return 0;
    /* The word moves left to sit just before the separator of the next. */
    char *dst = s->term + TEXT_WORD_MAX - n;
    for (size_t i = 0; i < n; i++)
        dst[i] = cur[i];
    s->term[TEXT_WORD_MAX] = ' ';
    s->prev_len = n;
    return 0;
}

/* Appends UTF-8 bytes of one character to the current word. */
static void text_append(text_scan_t *s, const char *b, size_t n) {
    if (s->cur_len + n <= TEXT_WORD_MAX)
        for (size_t i = 0; i < n; i++)
            text_cur(s)[s->cur_len + i] = b[i];
    s->cur_len += n;
    if (s->cur_len > TEXT_WORD_MAX) s->cur_len = TEXT_WORD_MAX + 1; /* dropped; no overflow */
}

/* 8 bytes at a time (SWAR, bytes as lanes): H has the high bit of each. */
#define TEXT_H UINT64_C(0x8080808080808080)
#define TEXT_L UINT64_C(0x0101010101010101)

/* The high bit set in each lane of x (7-bit lanes) that lies in lo..hi: no
 * lane carries into the next, as x + 0x80 - lo and x + 0x7f - hi stay below
 * 0x100. */
static inline uint64_t text_in(uint64_t x, unsigned lo, unsigned hi) {
    return (x + (0x80 - lo) * TEXT_L) & ~(x + (0x7f - hi) * TEXT_L) & TEXT_H;
}

/* Copies the ASCII letters and digits from u[*i] on, lowercased, to cur at
 * *cl, 8 bytes a step, up to the first other byte (or 8 bytes before the
 * end: the caller takes the rest a byte at a time). Past TEXT_WORD_MAX
 * bytes the word is only measured (*cl stops at TEXT_WORD_MAX + 1). Returns
 * 1 when the run ended at a byte of the text, 0 when the text has fewer
 * than 8 bytes left. */
static inline int text_run8(const unsigned char *u, size_t len, size_t *i, char *cur, size_t *cl) {
    while (*i + 8 <= len) {
        uint64_t w;
        memcpy(&w, u + *i, 8);
        uint64_t x = w & ~TEXT_H;
        /* letters (either case) and digits, not in lanes whose byte is >= 0x80 */
        uint64_t word = (text_in(x | 0x20 * TEXT_L, 'a', 'z') | text_in(x, '0', '9')) & ~w;
        uint64_t low = w + (text_in(x, 'A', 'Z') >> 2); /* + 0x20 in the capitals */
        if (*cl <= TEXT_WORD_MAX) memcpy(cur + *cl, &low, 8);
        if (word == TEXT_H) {
            *i += 8;
            *cl += 8;
            if (*cl > TEXT_WORD_MAX) *cl = TEXT_WORD_MAX + 1;
            continue;
        }
        size_t n = (size_t)__builtin_ctzll(~word & TEXT_H) / 8;
        *i += n;
        *cl += n;
        if (*cl > TEXT_WORD_MAX) *cl = TEXT_WORD_MAX + 1;
        return 1;
    }
    return 0;
}

long text_terms(const char *t, size_t len, int ngram, text_term_fn fn, void *arg) {
    text_scan_t s = {.ngram = ngram, .fn = fn, .arg = arg};
    const unsigned char *u = (const unsigned char *)t;
    int apos = 0; /* an apostrophe follows the current word, not yet kept */
    size_t i = 0;
    char *cur = text_cur(&s);
    while (i < len) {
        long cp;
        unsigned b = u[i];
        if (b < 0x80) {
            /* ASCII, most text: letters and digits without decoding */
            unsigned lower = b | 0x20;
            if (lower - 'a' < 26u || b - '0' < 10u) {
                if (apos) text_append(&s, "'", 1);
                apos = 0;
                /* a local copy of the length: stores through cur may alias s */
                size_t cl = s.cur_len;
                if (!text_run8(u, len, &i, cur, &cl)) {
                    /* under 8 bytes left: the rest of the run a byte at a time */
                    for (; i < len; i++) {
                        b = u[i];
                        lower = b | 0x20;
                        if (!(lower - 'a' < 26u || b - '0' < 10u)) break;
                        if (cl < TEXT_WORD_MAX)
                            cur[cl++] = (char)(b - '0' < 10u ? b : lower);
                        else
                            cl = TEXT_WORD_MAX + 1; /* too long: dropped */
                    }
                }
                s.cur_len = cl;
                continue;
            }
            i++;
            cp = (long)b;
        } else {
            i += text_next(u + i, len - i, &cp);
        }
        long lc = text_fold(cp);
        if (lc >= 0) {
            char b[4];
            if (apos) text_append(&s, "'", 1);
            apos = 0;
            text_append(&s, b, text_put(b, lc));
        } else if (cp == '\'' && s.cur_len && !apos) {
            apos = 1;
        } else if (s.cur_len) {
            apos = 0;
            if (text_end_word(&s) != 0) return -1;
        }
    }
    if (s.cur_len && text_end_word(&s) != 0) return -1;
    return s.words;
}

uint32_t text_hash(const char *term, size_t len, int bits) {
    uint64_t h = hash_fnv1a(term, len);
    h ^= h >> 32;
    return (uint32_t)(h & ((UINT64_C(1) << bits) - 1));
}
