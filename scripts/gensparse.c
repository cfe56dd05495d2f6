/* gensparse: a sparse, high-dimensional data set in libsvm form, of any shape,
 * for the benchmark (the shape of text: rcv1, news20, one-hot categories).
 *
 *   bin/gensparse ROWS FEATURES NNZ CLASSES SKEW SEED > FILE.svm
 *
 * Each row has NNZ distinct features (fewer when FEATURES is smaller), drawn
 * from a Zipf law of exponent SKEW over the feature ranks (0 = uniform; text
 * is near 1), with a random permutation from rank to feature index so that
 * frequent features are not all at the front. Values are positive, like
 * tf-idf weights, and each row has unit L2 norm (as rcv1's). Labels are
 * learnable but noisy: a hidden weight vector per class scores the row, 10 %
 * of rows take a random class, the others the best class (CLASSES = 2: labels
 * +1 and -1; more: 1..CLASSES). The same arguments give the same bytes.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scripts/gendraw.h"

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static long arg_long(const char *s, const char *what, long lo, long hi) {
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < lo || v > hi) {
        fprintf(stderr, "gensparse: %s must be an integer from %ld to %ld, not '%s'\n", what, lo,
                hi, s);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv) {
    if (argc != 7) {
        fprintf(stderr, "usage: gensparse ROWS FEATURES NNZ CLASSES SKEW SEED > FILE.svm\n");
        return 2;
    }
    long rows = arg_long(argv[1], "ROWS", 1, 100000000L);
    uint32_t nf = (uint32_t)arg_long(argv[2], "FEATURES", 1, 1L << 26);
    uint32_t nnz = (uint32_t)arg_long(argv[3], "NNZ", 1, 100000);
    int ncls = (int)arg_long(argv[4], "CLASSES", 2, 1000);
    char *end;
    double skew = strtod(argv[5], &end);
    if (*end != '\0' || !(skew >= 0 && skew <= 4)) {
        fprintf(stderr, "gensparse: SKEW must be a number from 0 to 4, not '%s'\n", argv[5]);
        return 2;
    }
    rng_state = (uint64_t)arg_long(argv[6], "SEED", 0, 1L << 62);
    if (nnz > nf) nnz = nf;

    double *cdf = malloc((size_t)nf * sizeof *cdf);
    uint32_t *perm = malloc((size_t)nf * sizeof *perm);
    float *hidden = malloc((size_t)nf * (size_t)ncls * sizeof *hidden);
    uint32_t *idx = malloc((size_t)nnz * sizeof *idx);
    double *val = malloc((size_t)nnz * sizeof *val);
    if (!cdf || !perm || !hidden || !idx || !val) {
        fprintf(stderr, "gensparse: out of memory\n");
        return 1;
    }
    double acc = 0;
    for (uint32_t r = 0; r < nf; r++) {
        acc += pow((double)r + 1, -skew);
        cdf[r] = acc;
        perm[r] = r;
    }
    for (uint32_t r = nf - 1; r > 0; r--) {
        uint32_t j = (uint32_t)(rng_next() % ((uint64_t)r + 1));
        uint32_t t = perm[r];
        perm[r] = perm[j];
        perm[j] = t;
    }
    for (size_t i = 0; i < (size_t)nf * (size_t)ncls; i++)
        hidden[i] = (float)(rng_unit() * 2 - 1);

    char line[64];
    for (long row = 0; row < rows; row++) {
        uint32_t k = 0;
        /* distinct features; a dense request (nnz near nf) falls back to a scan */
        for (uint32_t tries = 0; k < nnz && tries < 50 * nnz; tries++) {
            uint32_t f = perm[draw_rank(cdf, nf)];
            bool dup = false;
            for (uint32_t q = 0; q < k && !dup; q++)
                dup = idx[q] == f;
            if (!dup) idx[k++] = f;
        }
        qsort(idx, k, sizeof *idx, cmp_u32);
        double norm = 0;
        for (uint32_t q = 0; q < k; q++) {
            val[q] = 0.1 + rng_unit();
            norm += val[q] * val[q];
        }
        norm = sqrt(norm);
        int best = 0;
        double best_score = -INFINITY;
        for (int c = 0; c < ncls; c++) {
            double sc = 0;
            for (uint32_t q = 0; q < k; q++)
                sc += hidden[(size_t)idx[q] * (size_t)ncls + (size_t)c] * val[q];
            if (sc > best_score) best_score = sc, best = c;
        }
        if (rng_unit() < 0.1) best = (int)(rng_next() % (uint64_t)ncls);
        if (ncls == 2)
            fputs(best == 0 ? "+1" : "-1", stdout);
        else
            printf("%d", best + 1);
        for (uint32_t q = 0; q < k; q++) {
            snprintf(line, sizeof line, " %u:%.6g", idx[q] + 1, val[q] / norm);
            fputs(line, stdout);
        }
        fputc('\n', stdout);
    }
    free(val);
    free(idx);
    free(hidden);
    free(perm);
    free(cdf);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        perror("gensparse: stdout");
        return 1;
    }
    return 0;
}
