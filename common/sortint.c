#include "common/sortint.h"

#include <stdlib.h>

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

void sort_u32(uint32_t *v, size_t n) {
    if (n > 1) qsort(v, n, sizeof *v, cmp_u32);
}

void sort_u64(uint64_t *v, size_t n) {
    if (n > 1) qsort(v, n, sizeof *v, cmp_u64);
}
