/* text_ref: the reference tokenizer for differential tests of common/text.
 *
 * Written from the rules of common/text.h, one code point at a time:
 * decode (RFC 3629, a byte that starts no valid sequence is one separator),
 * classify, fold, build words with their apostrophes, drop long words, add
 * bigrams. Slow on purpose: keep it obviously right, never optimise it.
 * textref_compare() runs text_terms() and this on the same bytes and
 * requires the same terms, in the same order, and the same word count. */
#ifndef NC_TEXT_REF_H
#define NC_TEXT_REF_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/text.h"
#include "tests/oracle/oracle_log.h"

/* The code point at t[0..len) into *cp, its length returned; -1 in *cp and
 * length 1 for a byte that starts no valid sequence. */
static size_t textref_decode(const unsigned char *t, size_t len, long *cp) {
    size_t n;
    long v;
    if (t[0] < 0x80) {
        *cp = t[0];
        return 1;
    }
    if (t[0] >= 0xC0 && t[0] < 0xE0)
        n = 2, v = t[0] & 0x1F;
    else if (t[0] >= 0xE0 && t[0] < 0xF0)
        n = 3, v = t[0] & 0x0F;
    else if (t[0] >= 0xF0 && t[0] < 0xF8)
        n = 4, v = t[0] & 0x07;
    else
        n = 0, v = 0;
    if (n == 0 || n > len) {
        *cp = -1;
        return 1;
    }
    for (size_t i = 1; i < n; i++) {
        if ((t[i] & 0xC0) != 0x80) {
            *cp = -1;
            return 1;
        }
        v = v * 64 + (t[i] & 0x3F);
    }
    long shortest = n == 2 ? 0x80 : n == 3 ? 0x800 : 0x10000;
    if (v < shortest || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) {
        *cp = -1;
        return 1;
    }
    *cp = v;
    return n;
}

static int textref_is_word(long cp) {
    if (cp < 0) return 0;
    if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9')) return 1;
    if (cp >= 0xC0 && cp <= 0xFF) return cp != 0xD7 && cp != 0xF7;
    return cp >= 0x100;
}

static long textref_lower(long cp) {
    if (cp >= 'A' && cp <= 'Z') return cp + 0x20;
    if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) return cp + 0x20;
    return cp;
}

static size_t textref_encode(long cp, unsigned char *out) {
    if (cp < 0x80) {
        out[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (unsigned char)(0xC0 + (cp >> 6));
        out[1] = (unsigned char)(0x80 + (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (unsigned char)(0xE0 + (cp >> 12));
        out[1] = (unsigned char)(0x80 + ((cp >> 6) & 0x3F));
        out[2] = (unsigned char)(0x80 + (cp & 0x3F));
        return 3;
    }
    out[0] = (unsigned char)(0xF0 + (cp >> 18));
    out[1] = (unsigned char)(0x80 + ((cp >> 12) & 0x3F));
    out[2] = (unsigned char)(0x80 + ((cp >> 6) & 0x3F));
    out[3] = (unsigned char)(0x80 + (cp & 0x3F));
    return 4;
}

static void textref_term(oracle_log_t *g, const unsigned char *t, size_t len) {
    unsigned char tag = 'T';
    oracle_log_put(g, &tag, 1);
    oracle_log_put(g, &len, sizeof len);
    oracle_log_put(g, t, len);
}

/* The tokenizer's terms of t[0..len) into g; returns the word count. */
static long textref_terms(const unsigned char *t, size_t len, int ngram, oracle_log_t *g) {
    long *cps = malloc((len + 1) * sizeof *cps); /* code points, -1 for separators */
    unsigned char *word = malloc(4 * len + 1), prev[TEXT_WORD_MAX];
    if (!cps || !word) abort();
    size_t ncp = 0;
    for (size_t i = 0; i < len;)
        i += textref_decode(t + i, len - i, &cps[ncp++]);
    size_t prevlen = 0, wlen = 0;
    long words = 0;
    for (size_t k = 0; k <= ncp; k++) {
        long cp = k < ncp ? cps[k] : -1;
        if (textref_is_word(cp)) {
            wlen += textref_encode(textref_lower(cp), word + wlen);
            continue;
        }
        /* an apostrophe between two word characters belongs to the word */
        if (cp == '\'' && wlen > 0 && k + 1 < ncp && textref_is_word(cps[k + 1])) {
            word[wlen++] = '\'';
            continue;
        }
        if (wlen == 0) continue;
        if (wlen <= TEXT_WORD_MAX) { /* a longer word is dropped */
            words++;
            textref_term(g, word, wlen);
            if (ngram == 2 && prevlen > 0) {
                unsigned char bi[TEXT_TERM_MAX];
                memcpy(bi, prev, prevlen);
                bi[prevlen] = ' ';
                memcpy(bi + prevlen + 1, word, wlen);
                textref_term(g, bi, prevlen + 1 + wlen);
            }
            memcpy(prev, word, wlen);
            prevlen = wlen;
        }
        wlen = 0;
    }
    free(cps);
    free(word);
    return words;
}

static int textref_cb(void *arg, const char *term, size_t len) {
    textref_term(arg, (const unsigned char *)term, len);
    return 0;
}

/* 0 when text_terms() and the reference give the same terms and word count
 * for t[0..len) with ngram 1 and 2; else -1 with what differs in why. */
static int textref_compare(const char *t, size_t len, char *why, size_t whylen) {
    for (int ngram = 1; ngram <= 2; ngram++) {
        oracle_log_t a = {0}, b = {0};
        long wa = text_terms(t, len, ngram, textref_cb, &a);
        long wb = textref_terms((const unsigned char *)t, len, ngram, &b);
        int same = !a.oom && !b.oom && wa == wb && oracle_log_same(&a, &b);
        if (!same)
            snprintf(why, whylen, "ngram %d: %ld words against %ld, %zu bytes of terms against %zu",
                     ngram, wa, wb, a.len, b.len);
        oracle_log_free(&a);
        oracle_log_free(&b);
        if (!same) return -1;
    }
    return 0;
}

#endif
