#include "common/colset.h"

#include "common/hash.h"

#include <linear.h>

void colset_mark(uint64_t *bits, const dataset_t *d) {
    size_t n = d->n > 0 ? (size_t)d->n : 0;
    for (size_t i = 0; i < d->rows; i++)
        for (const struct feature_node *x = d->x[i]; x->index != -1; x++) {
            size_t j = (size_t)x->index - 1;
            if (x->index >= 1 && j < n) bits[j / 64] |= 1ull << (j % 64);
        }
}

void colset_or(uint64_t *dst, const uint64_t *src, size_t words) {
    for (size_t i = 0; i < words; i++)
        dst[i] |= src[i];
}

size_t colset_list(const uint64_t *bits, size_t n, uint32_t *cols) {
    size_t m = 0, words = colset_words(n);
    for (size_t wi = 0; wi < words; wi++) {
        uint64_t w = bits[wi];
        if (wi == words - 1 && n % 64) w &= (1ull << (n % 64)) - 1;
        while (w) {
            int b = __builtin_ctzll(w);
            if (cols) cols[m] = (uint32_t)(wi * 64 + (size_t)b);
            m++;
            w &= w - 1;
        }
    }
    return m;
}

size_t colset_count(const uint64_t *bits, size_t n) {
    size_t m = 0, words = colset_words(n);
    for (size_t wi = 0; wi < words; wi++) {
        uint64_t w = bits[wi];
        if (wi == words - 1 && n % 64) w &= (1ull << (n % 64)) - 1;
        m += (size_t)__builtin_popcountll(w);
    }
    return m;
}

uint64_t colset_hash(const uint64_t *bits, size_t n) {
    uint64_t h = HASH_FNV1A_BASIS ^ (uint64_t)n;
    size_t words = colset_words(n);
    for (size_t i = 0; i < words; i++) {
        uint64_t w = bits[i];
        if (i == words - 1 && n % 64) w &= (1ull << (n % 64)) - 1;
        /* FNV-style multiply, then a xorshift so high bits reach low ones */
        h = (h ^ w) * HASH_FNV1A_PRIME;
        h ^= h >> 29;
    }
    return h;
}
