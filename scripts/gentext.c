/* gentext: a CSV data set with a free-text column, of any size, for the
 * benchmark of text features (data.text: bag of words fitted across the
 * cluster).
 *
 *   bin/gentext MEGABYTES CLASSES VOCABULARY SEED > FILE.csv
 *
 * Header `id,label,text`. Each row's text is a sentence of 20 to 100 words
 * drawn from a Zipf law (exponent 1, as word frequencies in text) over a
 * vocabulary of VOCABULARY made-up words (syllables: "ka", "tomi", ...),
 * plus each class's own topic words, which make the label learnable: a
 * quarter of a row's words come from its class's 50 topic words. Words are
 * capitalised at the start of a sentence, some carry an apostrophe inside
 * ("ka'to") or a Latin-1 letter ("kaé"), and sentences end in punctuation, so
 * the tokenizer sees what real text has. The text is quoted (it holds
 * commas). Rows are written until the file reaches MEGABYTES. The same
 * arguments give the same bytes.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scripts/gendraw.h"

#define TOPIC_WORDS 50

/* Word i of the vocabulary: its syllables, a Latin-1 letter or an
 * apostrophe for some. Returns the length written into out (< 32). */
static int word_of(uint32_t i, char *out) {
    static const char *syl[] = {"ka", "to", "mi", "ne", "ru", "sa", "lo", "pi", "de", "gu",
                                "fa", "ho", "ve", "zi", "bo", "ju", "ce", "wa", "xo", "yu"};
    int n = 0;
    uint32_t v = i;
    do {
        const char *s = syl[v % 20];
        out[n++] = s[0];
        out[n++] = s[1];
        v /= 20;
    } while (v);
    if (i % 97 == 13) out[n++] = '\xc3', out[n++] = '\xa9'; /* é */
    if (i % 89 == 7 && n >= 4) {
        memmove(out + 3, out + 2, (size_t)n - 2); /* ka'to */
        out[2] = '\'';
        n++;
    }
    out[n] = '\0';
    return n;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: gentext MEGABYTES CLASSES VOCABULARY SEED > FILE.csv\n");
        return 2;
    }
    long mb = atol(argv[1]), classes = atol(argv[2]), vocab = atol(argv[3]);
    rng_state = strtoull(argv[4], NULL, 10);
    if (mb < 1 || mb > 100000 || classes < 2 || classes > 1000 || vocab < 100 || vocab > 10000000) {
        fprintf(stderr, "gentext: MEGABYTES 1..100000, CLASSES 2..1000, VOCABULARY 100..1e7\n");
        return 2;
    }
    uint32_t nv = (uint32_t)vocab;
    double *cdf = malloc(nv * sizeof *cdf);
    uint32_t *topic = malloc((size_t)classes * TOPIC_WORDS * sizeof *topic);
    if (!cdf || !topic) {
        fprintf(stderr, "gentext: out of memory\n");
        return 1;
    }
    double acc = 0;
    for (uint32_t r = 0; r < nv; r++)
        cdf[r] = acc += 1.0 / (r + 1.0);
    /* topic words: from the rarer half, where they stand out */
    for (long k = 0; k < classes * TOPIC_WORDS; k++)
        topic[k] = nv / 2 + (uint32_t)(rng_next() % (nv / 2));
    static char buf[1 << 16];
    setvbuf(stdout, NULL, _IOFBF, 1 << 20);
    printf("id,label,text\n");
    uint64_t bytes = 14, limit = (uint64_t)mb << 20;
    for (uint64_t row = 1; bytes < limit; row++) {
        long label = (long)(rng_next() % (uint64_t)classes);
        int words = 20 + (int)(rng_next() % 81), n = 0;
        for (int w = 0; w < words; w++) {
            uint32_t id = rng_unit() < 0.25
                              ? topic[label * TOPIC_WORDS + (long)(rng_next() % TOPIC_WORDS)]
                              : draw_rank(cdf, nv);
            char word[32];
            int len = word_of(id, word);
            if (w == 0 && word[0] >= 'a' && word[0] <= 'z') word[0] = (char)(word[0] - 32);
            if (w > 0) buf[n++] = ' ';
            memcpy(buf + n, word, (size_t)len);
            n += len;
            if (w + 1 < words && rng_next() % 12 == 0) buf[n++] = ',';
        }
        buf[n++] = rng_next() % 5 == 0 ? '?' : '.';
        int k = printf("%llu,c%ld,\"%.*s\"\n", (unsigned long long)row, label, n, buf);
        if (k < 0) {
            perror("gentext");
            return 1;
        }
        bytes += (uint64_t)k;
    }
    free(cdf);
    free(topic);
    return fflush(stdout) == 0 ? 0 : 1;
}
